/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidio.h - the UID service's record I/O, asynchronous (issue 13, hole 7).
 *
 * The UID service never waits for the disk: each mailbox entry runs at
 * most one operation at a time (struct uio_op, embedded in the entry), an
 * operation is a chain of reads or writes on the service's own aio
 * context, and its continuation (done) runs when the chain ends.  Three
 * kinds of operation:
 *
 *   lookup  probe the table for a mailbox, one slot pair (one read of
 *           both copies) per step; a named mailbox not found is looked
 *           up again by its legacy GUID.  Result: slot, view, rec_guid.
 *   insert  probe for the slot to create the mailbox in.
 *   writes  run the core's write sequence (uid.h): uid_write_gate right
 *           before each submission (the node may still use its locks),
 *           uid_write_done with each completion, the next write it hands
 *           back, until the sequence ends or the operation is told to
 *           stop (uio_stop: its owner gave the mailbox up; the next
 *           write is refused at the gate like a lapsed lease).
 *
 * Bounded work per turn of the event loop:
 *   - at most UIO_MAX_INFLIGHT requests in the kernel (timed-out ones
 *     included: they keep their slot until reaped), the aio context's
 *     size; an operation whose next I/O does not fit waits in a FIFO;
 *   - at most UIO_STARTS_PER_TURN submissions and UIO_STEPS_PER_TURN
 *     continuations per call of uio_process; what is left waits for the
 *     next turn (uio_next_deadline_ns says "now": the daemon arms a timer
 *     and lets its other events, the heartbeat and the watchdog feed, run
 *     in between).
 *
 * Rules the caller can rely on:
 *   - done is called exactly once per started operation, and only from
 *     uio_process or uio_destroy, never inside a start call; the
 *     operation is no longer busy when done runs (done may start the
 *     next one on the same op).
 *   - A write that timed out stays in flight until the context reaps it
 *     (uid.h: its copy is stuck); uio_write_out() says whether the
 *     op's own timed-out write to a copy is still in the kernel (other
 *     operations' I/O does not matter), uio_idle() when every request
 *     has left it.
 *   - No buffer is shared between requests: the aio layer copies a
 *     record into its own bounce buffer at submission, and a read's
 *     payload is decoded into its operation inside the completion.
 *
 * Returns: 0 or a negative errno / sdlm error, said per function.
 */
#ifndef SDLM_UIDIO_H
#define SDLM_UIDIO_H

#include <stdbool.h>
#include <stdint.h>

#include "sdlm.h"
#include "uidrec.h"
#include "uid.h"

struct area;
struct uio;
struct uio_op;

#define UIO_MAX_INFLIGHT	64
#define UIO_STARTS_PER_TURN	32
#define UIO_STEPS_PER_TURN	64

typedef void (*uio_done_fn)(struct uio_op *op, int rc);

enum uio_kind {
	UIO_NONE	= 0,
	UIO_LOOKUP	= 1,
	UIO_INSERT	= 2,
	UIO_WRITES	= 3,
};

struct uio_op {
	/* results: lookup / insert (0: slot, v; rec_guid the GUID the
	 * record carries, the legacy one when found by it; a lookup that
	 * ends on a damaged slot's format error: slot is that slot) */
	uint64_t slot;
	struct uid_slot_view v;
	uint8_t rec_guid[UID_GUID_LEN];
	bool io_err;		/* the lookup failed on I/O, not on a format */

	/* private to uidio.c */
	struct uio *io;
	enum uio_kind kind;
	bool busy;
	bool queued;		/* in the run FIFO or the done FIFO */
	uio_done_fn done;
	const char *who;	/* the mailbox's name, for the log */
	/* lookup / insert */
	struct uidtab_probe p;
	bool legacy_tried;
	bool legacy;		/* probing by the legacy GUID */
	bool answer_read;	/* reading the answer slot again */
	uint8_t guid[UID_GUID_LEN];
	char ls[SDLM_NAME_MAX + 1];
	char key[UIDREC_NAME_MAX + 1];
	uint64_t rd_slot;
	struct uid_rec rec[UIDREC_COPIES];
	int rec_rc[UIDREC_COPIES];
	/* The GUID each copy of the slot read names (0), even a damaged one
	 * (uidrec_claimed_guid: evidence only), or -ENOENT. */
	int claim[UIDREC_COPIES];
	uint8_t claim_guid[UIDREC_COPIES][UID_GUID_LEN];
	bool claim_tag_have[UIDREC_COPIES];	/* uidrec_claimed_lstag */
	uint8_t claim_tag[UIDREC_COPIES][UIDREC_LSTAG_LEN];
	/*
	 * Results too: the damaged slots (no intact copy) a probe passed,
	 * by whose their copies say they are (docs/uid.md, damaged
	 * records), the first of each kind: own (a copy names the GUID
	 * probed, none another: where a restore writes), other (a copy
	 * names another mailbox, other_guid: left for its own restore),
	 * blind (no copy names any: never written by a restore).  The
	 * *_err are the slots' errors, 0: none passed.
	 */
	int own_err, other_err, blind_err;
	uint64_t own_slot, other_slot, blind_slot;
	uint8_t other_guid[UID_GUID_LEN];
	bool other_ls;		/* other: a copy names this GUID under
				   another lockspace's tag (s25-rev1 R2) */
	/* looking for a table after the known ones (UIDTAB_TABLE) */
	bool rd_desc;
	uint64_t rd_desc_at;	/* the descriptor's sector when submitted */
	bool desc_stale;	/* another probe added a table meanwhile */
	struct uidtab_desc desc[UIDREC_COPIES];
	int desc_rc[UIDREC_COPIES];
	/* writes */
	struct uid_mbox *m;
	struct uid_write w;
	bool gated;		/* the gate refused: the core already knows */
	bool stop;		/* uio_stop: no more writes in this chain */
	/* copies whose timed-out write is still in the kernel (outlives
	 * the chain: set by the timeout, cleared when it has left) */
	uint32_t out;
	struct uio_gone {
		struct uio_op *op;
		uint32_t copy;
	} gone[UIDREC_COPIES];
	/* the completion to step on */
	int result;
	struct uio_op *qnext;
};

/* The host's verdict right before each record write (uid_write_gate). */
typedef int (*uio_may_use_fn)(void *ctx);
/* Work was queued or submitted outside uio_process: re-arm the timer at
 * uio_next_deadline_ns (a new deadline, or "now"). */
typedef void (*uio_kick_fn)(void *ctx);

/*
 * Open the area's device for the UID records on an aio context of its
 * own.  Returns 0, -ENOMEM, or aio_open_dev's / aio_ctx_create's error.
 */
int uio_create(struct uio **out, struct area *a, uio_may_use_fn may_use,
	       uio_kick_fn kick, void *ctx);
/*
 * Stop: operations still queued end with -ESHUTDOWN, those in flight are
 * waited for up to wait_ms, then the context is destroyed (its remaining
 * requests call back SDLM_ECANCELED).  Every done has run when this
 * returns.  NULL: nothing.
 */
void uio_destroy(struct uio *io, unsigned wait_ms);

/*
 * The chain of tables this node knows (docs/uid.md, "Growing the table"):
 * table 0 from the header, the others found by probes that walked past
 * the last known table (a lookup that does not prove a mailbox absent in
 * the tables known looks for the next one, so a table another node added
 * is learnt by the first probe that needs it, without a restart).
 */
const struct uidtab_geom *uio_geom(const struct uio *io);

/* Start an operation on op (not busy).  The result comes to done. */
void uio_lookup(struct uio *io, struct uio_op *op, const char *ls,
		const uint8_t guid[UID_GUID_LEN], const char *key,
		const char *who, uio_done_fn done);
void uio_insert(struct uio *io, struct uio_op *op,
		const uint8_t guid[UID_GUID_LEN], const char *key,
		const char *who, uio_done_fn done);
/* w holds the sequence's first write (w->count 1); m stays the
 * caller's, untouched by anyone else until done. */
void uio_writes(struct uio *io, struct uio_op *op, struct uid_mbox *m,
		const struct uid_write *w, const char *who, uio_done_fn done);

/*
 * The owner stops using the mailbox (a lost lock, a pill, a shutdown):
 * no write of op's chain is submitted from now on (the one in the
 * kernel, if any, still ends and calls back); the core is told each
 * refused write failed (SDLM_EFENCED), as the gate does.  Reads go on.
 * Nothing when op is not busy; the next start clears it.
 */
void uio_stop(struct uio_op *op);

/* op's write to copy timed out and has not left the kernel yet: the
 * core must not be told it was reaped (uid_write_reaped). */
static inline bool uio_write_out(const struct uio_op *op, uint32_t copy)
{
	return op->out & (1u << copy);
}

static inline bool uio_busy(const struct uio_op *op)
{
	return op->busy;
}

/* One turn: reap completions, time out, run continuations, submit
 * what waits; each bounded as above.  Returns the callbacks made. */
int uio_process(struct uio *io, uint64_t now_ns);
/* 0: uio_process has work now; else the next deadline; UINT64_MAX none. */
uint64_t uio_next_deadline_ns(struct uio *io);
int uio_fd(struct uio *io);
/* Nothing of ours in the kernel (timed-out writes included). */
bool uio_idle(struct uio *io);
uint64_t uio_record_writes(const struct uio *io);
void uio_apply_fault(struct uio *io, const char *spec);

#endif
