/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rebuild.h - what a dirty member of a fresh replica does next (pure: no
 * I/O, no clock).  docs/protocol.md "Rebuilding a fresh replica".
 *
 * After every partition lost quorum, the next quorate round forms a fresh
 * replica; the members that still use locks cached before are its dirty
 * set.  When every member speaks protocol 4 the replica is rebuilt: a
 * dirty member reports each lock it holds (HELD, lockstate.h LS_EV_HELD),
 * then JOIN(CLEAN).  Below protocol 4 it revokes its cached locks instead
 * (lsrec_reconcile) and reports CLEAN once their users are reaped.  Each rule
 * below stops one of the model's bad variants (docs/model.md):
 *
 *   - no report while lock users it killed are not reaped, and no CLEAN
 *     either (BAD_REBUILD_REVOKING, model finding 7);
 *   - no report while this node may not use its locks (lease lapsed with
 *     no read since, pill read: self_may_use_locks): it stays dirty until
 *     it is fenced (BAD_REBUILD_STALE);
 *   - CLEAN only once its own reports were delivered back to it, so a
 *     refused one (a conflict) keeps it dirty while it revokes that lock
 *     and its users are reaped (BAD_REBUILD_CONFLICT's second line).
 * The gate itself is unchanged (lsfencer.c: every node outside the ring
 * fenced, the dirty set empty), which BAD_REBUILD_NOFENCE needs.
 */
#ifndef SDLM_REBUILD_H
#define SDLM_REBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rb_action {
	RB_NONE = 0,	/* nothing now (wait, or not dirty) */
	RB_REPORT,	/* send a HELD per cached lock the replica lacks */
	RB_REVOKE,	/* a report was refused: revoke, then wait for reaping */
	RB_CLEAN,	/* send JOIN(CLEAN) */
};

struct rb_view {
	bool	ready;		/* this node holds the replica */
	bool	dirty;		/* in the replica's dirty set */
	bool	clean_sent;	/* CLEAN for this dirty set sent already */
	bool	to_report;	/* reconcile left cached locks to report */
	bool	reported;	/* the reports went out */
	size_t	sent, seen;	/* own reports sent / delivered back */
	bool	refused;	/* one of them was refused */
	bool	revoked;	/* and the revocation was done */
	int	may_use;	/* self_may_use_locks: 0, or why not */
	bool	stopping;	/* killed lock users not reaped yet */
	bool	cache_missing;	/* cached locks the replica does not show */
};

enum rb_action rb_next(const struct rb_view *v);

/*
 * Whether the reports this node sent earlier are still on their way back
 * (reconcile keeps counting them) or it starts over.  reported: they went
 * out; sent_formed/formed: the lineage they went to and the one held now;
 * sent_hold/hold: the holding of a replica they went to and the one now
 * (lsint.h hold_gen: every drop_replica starts a new one - reports whose
 * replica this node dropped never come back to it); sent, seen: counts.
 */
bool rb_reports_pending(bool reported, uint64_t sent_formed, uint64_t formed,
			uint64_t sent_hold, uint64_t hold, size_t sent, size_t seen);

/* "none", "report", "revoke", "clean". */
const char *rb_action_name(enum rb_action a);

#endif /* SDLM_REBUILD_H */
