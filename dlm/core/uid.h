/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uid.h - the UID allocator's pure core: one mailbox, one holder.
 *
 * The core decides; the caller does the I/O and reads the clock.  It is
 * driven by the daemon while this node holds the mailbox's EX lock, and
 * every decision that touches the disk comes back as ONE record to write
 * (struct uid_write).  At most one write per mailbox is ever in flight:
 * the caller issues it, waits for its completion, and reports it with
 * uid_write_done(), which may hand back the next write.
 *
 * Life of a holder (docs/uid.md has the argument for every step):
 *
 *   IDLE --uid_takeover / uid_create--> STARTING   2 writes, one per copy
 *   STARTING --both writes done--> READY           UIDs may be handed out
 *   READY --uid_alloc--> READY                     no I/O below the reservation;
 *                                                  else a reservation write
 *   READY --uid_rename--> STARTING -> READY        2 writes
 *   READY --uid_bump_uidvalidity--> STARTING -> READY   2 writes, next = 1
 *   READY --uid_delete--> STARTING -> DELETED      2 writes (tombstones)
 *   READY --uid_settle--> STARTING -> READY        2 writes, PROVISIONAL cleared
 *   READY --uid_release--> IDLE                    LVB carries next UID
 *   any write failed --> the phase it came from (STARTING -> IDLE)
 *
 * A write that timed out (uid_write_done with SDLM_EIOTIMEOUT) is NOT
 * over: it may still land, after anything written later.  Until the
 * caller reports it reaped (uid_write_reaped: the kernel is done with
 * it) its copy is "stuck": no write goes to that copy, and the holder
 * cannot be released, taken over or started again (-EBUSY) — the caller
 * keeps the lock.  A reservation that needs the stuck copy answers
 * UID_WAIT with no write.  Once reaped, the copy holds the old record or
 * the timed-out one, so the next write rewrites it, and every write
 * carries a watermark above everything this holder ever issued (landed
 * or not): a copy's watermark on the disk never goes down.
 *
 * The safety rule the core enforces: a UID u is handed out only when BOTH
 * copies of the mailbox's record carry, from writes of this holder that
 * completed, a watermark >= u.  Each write goes to the copy holding the
 * lower watermark and sets it to (higher watermark + range), so in the
 * steady state one write buys one range, and a late write of a fenced
 * holder can lower at most one copy: a reader's max over both copies never
 * goes below a UID handed out.
 *
 * Caller loop (synchronous form; the daemon does the same with aio):
 *
 *	while ((rv = uid_alloc(m, &params, count, now, may_use, &first, &w))
 *	       == UID_WAIT) {
 *		while (w.count)		(if w is empty a write is in flight:
 *			write w.rec;	 wait for it and report it first)
 *			uid_write_done(m, write status, &w);
 *	}
 *	if (rv == 0 && w.count)		a background reservation: issue it
 *
 * Writing w.rec: set wall_time_ms, uidrec_out(), then write one sector at
 * uidtab_offset(h, w.rec.slot, w.rec.copy).
 *
 * may_use is the caller's verdict, computed right before the call and
 * re-checked right before the UID is returned to the client: 0 when the
 * node holds the mailbox EX, its lease is valid and it read no pill; else
 * the reason (SDLM_ELEASE, SDLM_EPILL, SDLM_ENOTSAFE, SDLM_EFENCED...).
 *
 * Errors: 0 or a negative errno / sdlm domain error.  UID_WAIT (> 0) is
 * not an error.  Nothing here prints or allocates.
 */
#ifndef SDLM_UID_H
#define SDLM_UID_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "uidrec.h"

#define UID_LVB_LEN		32	/* = LS_LVB_LEN = SDLM_LVB_LEN */
#define UID_WAIT		1	/* issue w (if any), then call again */
#define UID_LVB_EMPTY		1	/* uid_lvb_in: all-zero LVB */

/*
 * Proposed for sdlm.h: SDLM_EUIDWRAP "UID space exhausted, bump
 * UIDVALIDITY".  Until it exists the allocator says -EOVERFLOW.
 */
#define UID_EWRAP		(-EOVERFLOW)

#define UID_RESERVE_MIN_DEFAULT	16
#define UID_RESERVE_MAX_DEFAULT	65536
#define UID_RESERVE_CAP		(1u << 24)	/* largest reserve_max accepted */
/*
 * How far above its intact copy a mailbox with one damaged copy resumes:
 * the two copies of a record differ by at most one reservation (each
 * write sets the lower copy to the higher + range, a takeover writes
 * base + r then base + 2r), and no writer's range exceeds
 * UID_RESERVE_CAP, so the damaged copy reserved at most this much above
 * the intact one.  A gap of 2^25 UIDs (0.8 % of the space) per damage.
 */
#define UID_DAMAGE_MARGIN	(2ull * UID_RESERVE_CAP)

/* The uid_reserve_min/max options and the adaptation periods. */
struct uid_params {
	uint32_t reserve_min;	/* >= 1 */
	uint32_t reserve_max;	/* reserve_min..UID_RESERVE_CAP */
	uint64_t grow_ns;	/* a range used up faster than this: double */
	uint64_t shrink_ns;	/* a range that lasted longer: halve */
	bool provisional;	/* degraded mode: new holders mark their
				   records PROVISIONAL (docs/uid.md) */
};

void uid_params_default(struct uid_params *p);
int uid_params_check(const struct uid_params *p);	/* 0 or -EINVAL */

enum uid_phase {
	UID_IDLE	= 0,	/* not holding (or released) */
	UID_STARTING	= 1,	/* a two-write sequence is under way */
	UID_READY	= 2,
	UID_DELETED	= 3,	/* the mailbox's tombstones are durable */
};

/* What the in-flight write sequence does; drives uid_write_done(). */
enum uid_op {
	UID_OP_NONE	= 0,
	UID_OP_TAKEOVER	= 1,	/* also create and uidvalidity bump */
	UID_OP_RESERVE	= 2,
	UID_OP_RENAME	= 3,
	UID_OP_DELETE	= 4,
	UID_OP_SETTLE	= 5,	/* clear the PROVISIONAL mark */
};

/* The record the caller must write now (count 0 or 1). */
struct uid_write {
	unsigned count;
	struct uid_rec rec;	/* rec.slot / rec.copy say where */
};

/*
 * What a takeover made of the lock value block (um_lvb_verdict).  Only
 * UID_LVBV_USED takes its next; every other verdict resumes from the
 * disk's maximum + 1 (a gap, never a reuse).  The daemon logs the
 * refusals: they mean a stale, damaged or forged value block.
 */
enum uid_lvb_verdict {
	UID_LVBV_NONE	= 0,	/* no value block (invalid, or all zero) */
	UID_LVBV_USED	= 1,	/* next taken from it */
	UID_LVBV_BAD	= 2,	/* does not decode (um_lvb_err says why) */
	UID_LVBV_OTHER	= 3,	/* another UIDVALIDITY or slot than the disk's */
	UID_LVBV_STALE	= 4,	/* epoch below the disk's */
	UID_LVBV_BELOW	= 5,	/* next below the disk's floor */
	UID_LVBV_NOFLOOR = 6,	/* next at or below the disk's maximum, and
				   the record has no floor (minor < 2) */
};

/* The per-mailbox state of a holder.  Zero it, then takeover or create. */
struct uid_mbox {
	enum uid_phase um_phase;
	uint8_t um_guid[UID_GUID_LEN];
	uint64_t um_slot;
	uint64_t um_gen;
	uint32_t um_node_id;
	uint64_t um_incarnation;
	uint16_t um_name_len;
	char um_name[UIDREC_NAME_MAX + 1];
	uint32_t um_uidvalidity;
	uint64_t um_epoch;		/* our fencing token while holding */
	uint64_t um_seq;		/* seq of our last issued write */
	uint32_t um_next;		/* next UID to hand out; 0 = none left */
	bool um_exhausted;		/* next would be 2^32: bump needed */
	uint32_t um_copy_w[UIDREC_COPIES];	/* durable by our completed writes */
	bool um_copy_ours[UIDREC_COPIES];	/* written by us this tenure */
	uint32_t um_range;		/* current reservation size */
	uint64_t um_last_reserve_ns;	/* when the last RESERVE was issued */
	bool um_lvb_used;		/* takeover resumed from the LVB */
	enum uid_lvb_verdict um_lvb_verdict;	/* takeover: why (not) */
	int um_lvb_err;			/* UID_LVBV_BAD: uid_lvb_in's error */
	uint32_t um_lvb_next;		/* the LVB's next and epoch, if it */
	uint64_t um_lvb_epoch;		/* decoded (for the log) */
	uint32_t um_floor;		/* the floor our writes carry: the
					   lowest UID not handed out yet */
	bool um_prov;			/* our writes carry PROVISIONAL */
	uint32_t um_prov_base;		/* and this prov_base */
	bool um_lvb_above;		/* the LVB's next was above the disk's
					   maximum + 1 and was honoured */
	uint32_t um_damaged_copy;	/* takeover: copy + 1 that was damaged
					   (resumed above it), 0 none */
	unsigned um_stuck;		/* bit c: a timed-out write to copy c
					   may still land (not reaped) */
	unsigned um_rewrite;		/* bit c: copy c's content is unknown
					   (reaped late write): write it next */
	uint32_t um_issued_w[UIDREC_COPIES];	/* highest watermark issued
					   to each copy, landed or not */
	uint8_t um_lstag[UIDREC_LSTAG_LEN];	/* the tag our writes carry
					   (uid_set_lstag; kept by every call) */
	bool um_may_stamp;		/* a takeover may stamp an untagged
					   record (the table lock is held) */

	/* the sequence in flight */
	enum uid_op um_op;
	enum uid_phase um_op_from;
	bool um_inflight;		/* a write was handed out, not done */
	unsigned um_op_left;		/* writes still to issue after this */
	struct uid_rec um_op_rec;	/* template of the sequence's writes */
	uint32_t um_op_w[UIDREC_COPIES];	/* watermark per copy to write */
	uint32_t um_op_next;		/* next UID once the sequence is done */
	uint32_t um_op_copy;		/* copy of the write in flight */
};

/* ---- LVB: the next UID carried to the next holder ---- */

/*
 * 32 bytes, little-endian, CRC32C last:
 *	 0 magic u16 0x4955 ("UI")	 2 version u8 1	 3 flags u8 0
 *	 4 uidvalidity u32		 8 epoch u64 (of the releasing holder)
 *	16 next u32 (1..2^32-1)		20 slot + 1 u32 (0 = unknown)
 *	24 range u32 (adapted size)	28 crc32c of bytes 0..27
 */
struct uid_lvb {
	uint32_t uidvalidity;
	uint64_t epoch;
	uint32_t next;
	uint32_t slot_plus1;
	uint32_t range;
};

int uid_lvb_out(const struct uid_lvb *l, uint8_t out[UID_LVB_LEN]);
/* 0, UID_LVB_EMPTY, -EINVAL, SDLM_EMAGIC, SDLM_EVERSION, SDLM_ECHECKSUM, -EUCLEAN */
int uid_lvb_in(struct uid_lvb *l, const uint8_t in[UID_LVB_LEN]);

/* ---- holder operations ---- */

/*
 * The lockspace tag (uid_lstag) every write of this holder carries, and
 * whether the next takeover may write it into a record that carries none
 * (UID_LSTAG_STAMP: the caller holds the area's table lock and looked the
 * record up after its grant).  Set before uid_takeover / uid_create /
 * uid_import; those and every later call keep it.  A holder whose tag is
 * all zero (tests of the core alone) checks and writes none.
 */
void uid_set_lstag(struct uid_mbox *m, const uint8_t tag[UIDREC_LSTAG_LEN], bool may_stamp);

/*
 * Take over an existing mailbox after being granted its EX lock.  v is the
 * resolved slot (uidrec_resolve) read AFTER the grant; lvb the lock's value
 * block, or NULL if the lock manager marked it invalid (previous holder
 * fenced).  The epoch used is max(lock_epoch, v->epoch + 1, lvb epoch + 1)
 * (strictly above every epoch this mailbox has durably used, even if the
 * lock manager's counter restarted); it is m->um_epoch afterwards.  Next
 * UID: the LVB's when the LVB is at least as recent as the disk and its
 * next is within what the disk allows, else the durable maximum + 1 (a
 * gap, never a reuse).  The LVB counts when it is valid (CRC, same
 * UIDVALIDITY and slot), its epoch is >= the disk's (it comes from the
 * holder that wrote the record last) and its next is not below v->floor,
 * the lowest UID that holder had not handed out at its last write (an
 * LVB below it is stale or forged: the CRC32C is public).  A next at or
 * below the disk's maximum with no floor on the disk (record minor < 2)
 * is refused too: nothing bounds it.  A next ABOVE the disk's maximum + 1 (late landings lowered
 * the disk below UIDs that holder handed out) is honoured, both copies
 * are rewritten above it, and um_lvb_above says so.  um_lvb_verdict says
 * what was made of the LVB (enum uid_lvb_verdict).  Every write of the
 * holder carries its floor: the takeover's start, then um_next.  One damaged copy
 * (v->damaged_copy): the next UID is above anything it could have
 * reserved, the intact copy's watermark + UID_DAMAGE_MARGIN + 1 (or the
 * LVB's next if higher), and the takeover's two writes rewrite the
 * damaged copy; um_damaged_copy says so.  Provisional marks: a
 * record that carries one keeps it (until uid_settle); in degraded mode
 * (p->provisional) an unmarked record gets one with prov_base = the UID
 * before the first this holder hands out.  Returns UID_WAIT with the
 * first of two writes, -ENOENT (slot not USED by guid), -EINVAL, -EBUSY
 * (m still has a write in flight or stuck: keep the lock, wait),
 * SDLM_EOTHERLS (the record carries another lockspace's tag,
 * uid_lstag_check) or -EPERM (it carries none and m may not stamp it).
 */
int uid_takeover(struct uid_mbox *m, const struct uid_params *p,
		 const uint8_t guid[UID_GUID_LEN], uint64_t slot,
		 const struct uid_slot_view *v, const uint8_t *lvb,
		 uint64_t lock_epoch, uint32_t node_id, uint64_t incarnation,
		 uint64_t now_ns, struct uid_write *w);

/*
 * Create a mailbox in slot (the answer of an insert probe, with the EX lock
 * of the mailbox and of the slot held).  v is that slot's resolved view
 * (EMPTY or DELETED); the generation becomes v->gen + 1.  next = 1.  In
 * degraded mode (p->provisional) the record is PROVISIONAL, prov_base 0.
 * Returns UID_WAIT with the first write, or -EINVAL / -ENAMETOOLONG /
 * -EILSEQ (bad name) / -EEXIST (slot is USED).
 */
int uid_create(struct uid_mbox *m, const struct uid_params *p,
	       const uint8_t guid[UID_GUID_LEN], const char *name,
	       size_t name_len, uint32_t uidvalidity, uint64_t slot,
	       const struct uid_slot_view *v, uint64_t lock_epoch,
	       uint32_t node_id, uint64_t incarnation, uint64_t now_ns,
	       struct uid_write *w);

/*
 * Hand out [*first, *first + count).  Returns 0 (and maybe a background
 * reservation write in w), UID_WAIT (nothing handed out; w holds a write
 * or is empty while one is in flight or the copy to write is stuck),
 * may_use if non-zero, -ENOLCK (not READY), -EINVAL (count 0 or >
 * reserve_max), UID_EWRAP (the range would pass 2^32-1: bump UIDVALIDITY).
 */
int uid_alloc(struct uid_mbox *m, const struct uid_params *p, uint32_t count,
	      uint64_t now_ns, int may_use, uint32_t *first,
	      struct uid_write *w);

/*
 * The write handed out last completed (status 0) or failed (status < 0:
 * its sector holds the old or the new record, so only what was known
 * before is trusted; a failed STARTING sequence returns to IDLE).
 * SDLM_EIOTIMEOUT is a failure that is not over: the write may still
 * land, so its copy is stuck until uid_write_reaped.
 * Returns 0 (w empty: sequence over), UID_WAIT (w holds the next write of
 * the sequence), status, or -EINVAL (no write in flight).
 */
int uid_write_done(struct uid_mbox *m, int status, struct uid_write *w);

/*
 * Right before the caller submits w: may_use is its verdict computed now
 * (as for uid_alloc).  0: submit w.  Otherwise the write is not issued:
 * the core takes it as failed without reaching the disk (as
 * uid_write_done with that error: a failed sequence goes IDLE), w is
 * emptied, and may_use is returned.  Every record write passes here, the
 * second write of a sequence too (the lease may lapse between them).
 */
int uid_write_gate(struct uid_mbox *m, int may_use, struct uid_write *w);

/*
 * The timed-out write to copy has left the kernel (landed or not): the
 * copy is usable again and is rewritten by the next write.  Returns 0,
 * or -EINVAL (no stuck write to that copy).
 */
int uid_write_reaped(struct uid_mbox *m, uint32_t copy);

/* Does m have a write in flight or stuck (no release, no unlock)? */
bool uid_busy(const struct uid_mbox *m);

/* READY, nothing in flight.  UID_WAIT with the first of two writes. */
int uid_rename(struct uid_mbox *m, const char *name, size_t name_len,
	       struct uid_write *w);
int uid_delete(struct uid_mbox *m, struct uid_write *w);
/*
 * New UIDVALIDITY (0 = old + 1) strictly above the old one, next UID back
 * to 1.  -ERANGE if not above, -EOVERFLOW if old is 2^32-1.  A new
 * UIDVALIDITY needs no merge: the mark is dropped, except in degraded mode
 * (p->provisional), where every UID of the new one is provisional.
 */
int uid_bump_uidvalidity(struct uid_mbox *m, const struct uid_params *p,
			 uint32_t uidvalidity, uint64_t now_ns,
			 struct uid_write *w);

/*
 * The rejoin repair is done (docs/imap.md): rewrite both copies without
 * the PROVISIONAL mark, watermarks unchanged, and with an epoch of at
 * least epoch_min (the merged mail store's: the other copy's holders used
 * epochs this disk never saw, and the store refuses older ones).  READY,
 * nothing in flight, not in degraded mode (p->provisional: -EBUSY).
 * Returns UID_WAIT with the first of two writes, or 0 (w empty) when there
 * is no mark and the epoch is already high enough; -ERANGE (nothing
 * written) for an epoch_min above UID_EPOCH_MIN_MAX.
 */
int uid_settle(struct uid_mbox *m, const struct uid_params *p,
	       uint64_t epoch_min, struct uid_write *w);

/* ---- import and restore: a record from what the mail store knows ---- */

/*
 * How far above the store's next UID a restored mailbox resumes (both
 * copies of its record damaged: nothing says how far sdlm had handed UIDs
 * out).  Every UID sdlm handed out but the store does not list yet
 * belongs to an allocation not committed yet; one is in flight per
 * mailbox at a time, of at most UID_RESERVE_CAP UIDs, and one whose lease
 * expired may still be on its way: UID_DAMAGE_MARGIN (two of them) is
 * above all of those, as for one damaged copy.  A late writer of such an
 * allocation is refused by the store's epoch check (docs/imap.md): the
 * restored record's epoch is above the store's.
 */
#define UID_RESTORE_MARGIN	UID_DAMAGE_MARGIN

/* What the operator (or sdlm-deliver's first contact) says the store knows. */
struct uid_import_req {
	uint8_t guid[UID_GUID_LEN];	/* the mailbox's (a tombstone of it) */
	uint32_t uidvalidity;	/* the store's; 0 = unknown (restore only) */
	uint32_t next;		/* the store's next UID: max(N, highest + 1);
				   0 = unknown (restore only) */
	bool restore;		/* the operator's word: the record is lost */
};

enum uid_import_act {
	UID_IMPORT_CREATE	= 1,	/* no record: create it at (uidvalidity, next) */
	UID_IMPORT_RAISE	= 2,	/* the record, same UIDVALIDITY: next only rises */
	UID_IMPORT_RESTORE	= 3,	/* no intact copy: write the record anew */
};

struct uid_import_plan {
	enum uid_import_act act;
	uint32_t uidvalidity;
	uint32_t next;		/* CREATE/RESTORE: the first UID handed out;
				   RAISE: next is raised to at least this */
	uint64_t gen;		/* RESTORE: the slot generation written */
	bool bumped;		/* RESTORE: UIDVALIDITY is a new one (the store
				   did not know it, or next + margin wrapped) */
};

/*
 * Decide what an import makes of what the lookup found (pure; the caller
 * holds the mailbox lock, and the table lock to CREATE or RESTORE).
 * found is the lookup's answer: 0 (v: the mailbox's slot, one damaged copy
 * included: it resumes by itself), -ENOENT (no record; v: the slot an
 * insert takes, EMPTY or a tombstone) or the error of a damaged slot the
 * mailbox may be in (v unused).  now_ms: wall clock, for a bumped
 * UIDVALIDITY (seconds, as Dovecot and uid_create's caller choose them,
 * and above the store's) and a restored slot's generation (milliseconds:
 * above any generation a slot reaches by one per new owner, so a late
 * write of a former owner never outranks the restored record).
 *
 *   found 0, import   same UIDVALIDITY: RAISE (never lowers); another:
 *                     -EEXIST (uid uidvalidity-bump is the way to change it)
 *   found 0, restore  -EEXIST: an intact copy, nothing to restore
 *   -ENOENT, import   CREATE at (uidvalidity, next); a tombstone of this
 *                     GUID: the same UIDVALIDITY resumes above its
 *                     watermark, a lower one is -ERANGE (the old one's
 *                     UIDs are unknown; let sdlm choose, or a higher one)
 *   -ENOENT, restore  -ENOENT: no damaged slot on the mailbox's path
 *   damage, restore   RESTORE: the store's UIDVALIDITY with next + margin,
 *                     or, unknown (or past 2^32-1 with the margin), a new
 *                     UIDVALIDITY above now and the store's, next 1
 *   damage, import    found (refused as every request is)
 * -EINVAL: a request without UIDVALIDITY or next that is not a restore.
 */
int uid_import_plan(const struct uid_import_req *q, int found,
		    const struct uid_slot_view *v, uint64_t now_ms,
		    struct uid_import_plan *pl);

/*
 * Write the record a plan of act CREATE or RESTORE says, holding the
 * mailbox lock and the table lock: as uid_create, with the plan's
 * UIDVALIDITY and first UID; CREATE takes v (the insert slot's view),
 * RESTORE ignores it (the slot's copies are unreadable) and writes
 * generation pl->gen.  Epoch: max(lock_epoch, epoch_min, 1) (epoch_min:
 * the store's E + 1, so that a holder the store has seen is stale; above
 * UID_EPOCH_MIN_MAX it is -ERANGE: epochs must never come near a wrap).
 * Returns UID_WAIT with the first of two writes, or as uid_create.
 */
#define UID_EPOCH_MIN_MAX	(UINT64_MAX >> 1)
int uid_import(struct uid_mbox *m, const struct uid_params *p,
	       const struct uid_import_plan *pl, const uint8_t guid[UID_GUID_LEN],
	       const char *name, size_t name_len, uint64_t slot,
	       const struct uid_slot_view *v, uint64_t epoch_min,
	       uint64_t lock_epoch, uint32_t node_id, uint64_t incarnation,
	       uint64_t now_ns, struct uid_write *w);

/*
 * Give the lock up: fill lvb (UID_LVB_LEN bytes) for the next holder and
 * go IDLE.  -EBUSY while a write is in flight or stuck (wait for it: a
 * write that lands after the release would be a late write).  A DELETED or IDLE
 * mailbox yields an all-zero LVB.
 */
int uid_release(struct uid_mbox *m, uint8_t *lvb);

/* ---- degraded mode: may this node allocate without the cluster? ---- */

/*
 * What this node's reads of the disk say about another node's slot:
 * STOPPED: never used, left cleanly, self-fenced, or dead by the dead
 * bound (its counter stood still, seen by us, for as long as its watchdog
 * needs to reset it); VISIBLE: its counter moved, or has not stood still
 * long enough yet; UNREAD: not read yet, or the read failed.
 */
enum uid_peer_seen {
	UID_PEER_STOPPED	= 0,
	UID_PEER_VISIBLE	= 1,
	UID_PEER_UNREAD		= 2,
};

/*
 * Degraded operation is for split storage only (docs/uid.md): this node
 * alone on ITS copy of the disk, outside any quorate membership.  seen[i]
 * describes node i (1..nnodes; seen[self] and seen[0] are ignored).
 * Returns 0 (allowed), SDLM_EQUORATE (quorate: the normal rules apply)
 * or SDLM_EPEERLIVE with *blocker = the lowest node whose heartbeat is
 * visible or unread on this disk (a node of the other site on ONE shared
 * disk, or another node of this site: both must be stopped first).
 */
int uid_degraded_allowed(bool quorate, const uint8_t *seen, uint32_t nnodes,
			 uint32_t self, uint32_t *blocker);

/* UIDs left before UID_EWRAP (0 when exhausted or not holding). */
uint64_t uid_remaining(const struct uid_mbox *m);

#endif /* SDLM_UID_H */
