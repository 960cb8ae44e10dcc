/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * merge.h - the rejoin repair of one Maildir mailbox: merge two diverged
 * copies of its dovecot-uidlist the way dsync does (pure: no I/O).
 *
 * Two copies A and B of one mailbox (same UIDVALIDITY, same mailbox GUID)
 * were written separately during a split.  Messages are identified by
 * GUID (the G field, else the base filename).  After translating every
 * record through the renumberings of earlier runs (prior, from the repair
 * log: (guid, old UID) -> new UID), each message gets:
 *
 *   on both sides, same UID ....................... keeps it      (KEEP)
 *   on both sides, different UIDs ................. one new UID   (UID_DIFFERS)
 *   on one side only, UID >= other side's UIDNEXT .. keeps it      (KEEP)
 *   on one side only, UID <  other side's UIDNEXT .. a new UID     (DUPLICATE if
 *        the other side lists a different message under that UID, else
 *        BELOW_UIDNEXT: a client of the other side may have seen the UID
 *        used or expunged)
 *
 * so both messages of a duplicate pair move (which one a client saw is
 * unknown), as dsync's rule requires.  New UIDs are given in ascending
 * order of (old UID, side A first, name) from
 *
 *	base = max(UIDNEXT(A), UIDNEXT(B), floor_next, highest prior new + 1)
 *
 * where UIDNEXT = max(N, highest UID + 1) and floor_next is sdlm's next
 * UID for the mailbox (everything ever handed out is below it).  The
 * merged header: V and G of A, N = max(base, highest + 1), E = the higher
 * epoch, A's other fields.  The kept records cannot collide (a message
 * only on A kept its UID u >= UIDNEXT(B) > every UID of B); this is
 * checked anyway (-EUCLEAN).
 *
 * Idempotence: the tool logs each renumbering before the merged list is
 * written and passes the log back as prior; a rerun then maps every
 * renumbered message to its logged UID, finds both sides agree, and
 * renumbers nothing new.
 *
 * Errors: -EXDEV the copies are not of one mailbox generation (UIDVALIDITY
 * or GUID differ: only a UIDVALIDITY bump, a full resync, can join them);
 * -EUCLEAN a GUID listed twice in one copy, or a collision;
 * -EOVERFLOW the new UIDs would pass 2^32 - 1; -ENOMEM.
 */
#ifndef SDLM_MERGE_H
#define SDLM_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uidlist.h"

enum merge_reason {
	MERGE_KEEP		= 0,
	MERGE_DUPLICATE		= 1,
	MERGE_BELOW_UIDNEXT	= 2,
	MERGE_UID_DIFFERS	= 3,
};

enum merge_side {
	MERGE_SIDE_A	= 0,
	MERGE_SIDE_B	= 1,
	MERGE_SIDE_BOTH	= 2,
};

/* One renumbering done by an earlier run (a repair log line). */
struct merge_prior {
	const char *guid;
	size_t guid_len;	/* 0: guid is NUL-terminated */
	uint32_t old_uid;
	uint32_t new_uid;
	enum merge_reason reason;	/* as logged, reported again */
};

/* One message of the merged list; items[i] describes out.recs[i]. */
struct merge_item {
	uint32_t old_uid;	/* UID in its copy, as listed there (before prior) */
	uint32_t old_uid_b;	/* side BOTH: B's listed UID; else 0 */
	enum merge_side side;	/* where the record comes from (BOTH: A's record) */
	enum merge_reason reason;	/* why it moved, from this run or a prior one */
	bool logged;		/* its new UID comes from prior: no new log line */
};

struct merge_result {
	struct uidlist out;
	struct merge_item *items;
	uint32_t base;		/* first UID this run could give */
	size_t renumbered;	/* items with reason != KEEP and !logged */
	char msg[160];		/* why, when an error is returned */
};

int merge_uidlists(const struct uidlist *a, const struct uidlist *b,
		   uint32_t floor_next, const struct merge_prior *prior,
		   size_t nprior, struct merge_result *res);
void merge_result_free(struct merge_result *res);

/*
 * The repair log lines for item i of a result: 0 if it did not move in
 * this run, 1, or 2 for a message listed on both sides under different
 * UIDs (both old UIDs map to the new one).  out[].guid points into res.
 */
size_t merge_log_entries(const struct merge_result *res, size_t i,
			 struct merge_prior out[2]);

const char *merge_reason_name(enum merge_reason r);

#endif /* SDLM_MERGE_H */
