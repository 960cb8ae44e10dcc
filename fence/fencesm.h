/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fencesm.h - the pure fence state machine: peer liveness, the fence
 * operation of a fencer, and the node's own state.
 *
 * Pure: no I/O, no clock, no allocation, no printing.  Time is an argument
 * (now_ms on the caller's CLOCK_BOOTTIME, never compared across nodes).
 * The edges (heartbeat I/O, corosync, the watchdog) feed events in and
 * carry decisions out.  The disk records are given as the small input
 * structs below; their enum values equal fence/ondisk.h's (enum hb_state,
 * enum msg_cmd), so the edge copies fields without translation.
 *
 * Time stamps the edge must pass (docs/fencing.md, docs/timeouts.md):
 *	peer_observe_read: sub_ms = the time taken just BEFORE submitting
 *		the read (earlier is safe, later not) and now_ms = its
 *		COMPLETION, or later (later is safe: r counts only up to
 *		sub_ms + T, whenever the read was processed)
 *	peer_observe, fence_read, self_msg_read, self_own_read:
 *		the COMPLETION time of the read (later is safe, earlier not;
 *		peer_observe's read counts as submitted then too)
 *	self_renew_done: sub_ms = the time taken just BEFORE submitting the
 *		write (earlier is safe, later not)
 *
 * 1. Peer liveness (struct peer_view, one per peer, on every node)
 *
 *	f = local time the current (incarnation, counter) was first seen
 *	r = local time of the last SUCCESSFUL read (a failed or unverified
 *	    read changes nothing: stillness is measured only between
 *	    successful reads, from f to r), but never later than that
 *	    read's submission + T: the bound needs r_sub >= r - T, and a
 *	    read processed late (our loop stalled after the kernel finished
 *	    it, or reaped after its deadline) shows the disk as it was
 *	    before then (review s26-rev-lapse R1)
 *	a = local time the peer was seen leaving the membership
 *	D = t->dead_ms from f, for a peer whose heartbeat carries
 *	    LAPSE_FENCES (it fences itself once its lease lapsed, quorate
 *	    or not: when it left bounds nothing); for one without it (an
 *	    older build, in a rolling upgrade: a quorate victim keeps
 *	    feeding up to M after it left) t->dead_legacy_ms = D + M from
 *	    max(f, a)
 *
 *	          first sample
 *	UNKNOWN ───────────────► LIVE ◄──────── counter or incarnation changes
 *	                          │  ▲               (f := now)
 *	          now - f > L     ▼  │
 *	                         STILL
 *	                          │   not a member and r >= dead_at
 *	                          ▼
 *	                         DEAD (dead by timeout: eligible to be declared)
 *
 *	NO_WATCHDOG (the peer's current incarnation runs with no_watchdog =
	yes): never DEAD, however long it stands still; a fence of it ends
	only by its acknowledgement or an operator (sdlmctl fence confirm).

	EXITED whenever the last sample's slot state is FREE or EXITING (a
 *	cleanly exited daemon holds no locks); DEAD takes precedence only
 *	over LIVE and STILL.  A member is never DEAD; a membership of
 *	"unknown" (never told) is never DEAD either: the pure-disk caller
 *	says peer_membership(false) when it starts watching.
 *
 * 2. Fence operation (struct fence_op, one in flight per fencer)
 *
 *	IDLE ─fence_start / fence_resume─► PILL_PENDING ──written ok──► PILL_SENT
 *	         (both slots read)           │  ▲   │write failed:           │
 *	                                     │  │   └─retry at now + I       │
 *	                                     │  └── victim restarted, or our │
 *	                                     │      pill overwritten: new ◄──┤
 *	                                     │      pill above the disk's seq│
 *	                                     ▼                               ▼
 *	            ack (cmd RESET|OFF, ack_seq == seq, ack_incarnation == target)
 *	                     ──► ACKED ─┐
 *	            peer_dead(victim) and our pill read back from the slot
 *	                     ──► DEAD  ─┴─ fence_announced ─► FENCED
 *	any non-final state ── fence_cancel (operator) ──► CANCELLED
 *
 *	Each event returns a struct fence_decision: WRITE_PILL (cmd, seq,
 *	target) exactly once per write to issue, DECLARE_ACK / DECLARE_DEAD
 *	exactly once, else NONE; wake_ms says when fence_tick wants to run
 *	next.  An ack that names another seq or another incarnation is stale
 *	and never counts.
 *
 *	Every pill written has seq = (seq last read from the victim's message
 *	slot, or our own pill's if higher) + 1 and names the incarnation last
 *	read from its heartbeat slot; until both slots have been read the op
 *	waits (a slot that fails to read is read again, never guessed).  The
 *	dead path always writes its own pill and declares only once a read
 *	shows it in the slot: a victim only paused reads it first on waking.
 *
 * 3. Self state (struct self_state, on every node)
 *
 *	lease:   valid while now - sub(last completed renewal) < L
 *	         may_use_locks = lease valid, no pill, no duplicate writer,
 *	                         not self-fenced, no fresh read owed
 *	fresh read: a renewal that completes after a lapse (its submission
 *	         L or more after the previous lease's, or the first one
 *	         submitted after a pause our clock missed) does not make
 *	         the locks usable by itself: a fencer may have written a
 *	         pill and declared us dead meanwhile.  A read of our message
 *	         slot submitted after that completion must come back
 *	         verified first (self_read_submitted numbers the reads)
 *	pill:    RESET|OFF for our incarnation (or 0), seq > last handled
 *	           ─► OBEYING: stop_locks ─(clients stopped, I/O idle)─►
 *	           ACKED: heartbeat carries (cmd, seq, target); stop feeding
 *	         not acked within drain_ms of reading it: stop feeding anyway
 *	         TEST: acked at once, nothing stops; CLEAR: nothing
 *	feed:    yes, until SELF_FENCED (sticky for the incarnation):
 *	           pill acked, pill not drained in time, or the lease
 *	           lapsed: held once and now expired, or never held while
 *	           renewals have been submitted for L - quorate or not
 *	           (issue 19 item 3: until then a quorate node kept
 *	           feeding, and D had to wait M for it to learn otherwise)
 *	exit:    fenced on the never-held lapse (no renewal ever completed
 *	           in this incarnation): nothing was used under a lease, so
 *	           the edge may end the process instead of the reset
 *	           (exit_never_held; a disk that refuses writes must not
 *	           reboot the machine at every start)
 *	dup:     our slot shows a foreign incarnation with two different
 *	         counters after we saw our own: SDLM_EDUPWRITER, sticky
 */
#ifndef SDLM_FENCESM_H
#define SDLM_FENCESM_H

#include <stdbool.h>
#include <stdint.h>

#include "timeouts.h"

/* Values equal to ondisk.h's enum hb_state. */
enum sm_slot_state {
	SM_SLOT_FREE		= 0,
	SM_SLOT_ALIVE		= 1,
	SM_SLOT_FENCED_SELF	= 2,
	SM_SLOT_EXITING		= 3,
};

/* Values equal to ondisk.h's enum msg_cmd. */
enum sm_cmd {
	SM_CMD_CLEAR	= 0,
	SM_CMD_TEST	= 1,
	SM_CMD_RESET	= 2,
	SM_CMD_OFF	= 3,
};

/* A verified heartbeat slot. */
struct hb_input {
	uint64_t counter;
	uint64_t incarnation;
	uint32_t state;			/* enum sm_slot_state */
	uint32_t ack_cmd;		/* enum sm_cmd */
	uint64_t ack_seq;
	uint64_t ack_incarnation;	/* the target the pill named, echoed */
	bool lapse_fences;		/* SDLM_HB_F_LAPSE_FENCES: the writer
					   fences itself on a lapsed lease */
	bool no_watchdog;		/* SDLM_HB_F_NO_WATCHDOG: nothing
					   resets the writer */
};

/* A verified message slot. */
struct msg_input {
	uint32_t cmd;			/* enum sm_cmd */
	uint64_t seq;
	uint64_t target_incarnation;	/* 0: whatever incarnation */
};

/*
 * The I/O of this node still owned by the kernel, as the ack rule needs
 * it (self_io): a pill is acknowledged only once no write of this node
 * can still land (issue 13, hole 2).
 */
struct self_io {
	uint32_t inflight;		/* every request of the process the
					   kernel still owns, every aio
					   context, timed-out ones included */
	bool hb_read_pending;		/* our slots read, waited for: one of
					   inflight, changes nothing on disk */
	bool hb_write_pending;		/* our heartbeat write, waited for */
};

/* ---- 1. peer liveness ---------------------------------------------- */

enum peer_state {
	PEER_UNKNOWN	= 0,
	PEER_LIVE	= 1,
	PEER_STILL	= 2,
	PEER_DEAD	= 3,
	PEER_EXITED	= 4,
};

enum peer_membership {
	PEER_MEMB_UNKNOWN	= 0,
	PEER_MEMB_IN		= 1,
	PEER_MEMB_AWAY		= 2,
};

/* What peer_observe saw. */
enum peer_change {
	PEER_SAME	= 0,	/* same incarnation and counter, or read failed */
	PEER_FIRST	= 1,	/* first successful sample */
	PEER_MOVED	= 2,	/* counter changed */
	PEER_RESTARTED	= 3,	/* incarnation changed */
};

struct peer_view {
	bool pv_have;
	uint64_t pv_counter;
	uint64_t pv_incarnation;
	uint32_t pv_slot_state;
	uint64_t pv_first_seen_ms;	/* f */
	uint64_t pv_last_ok_ms;		/* r, as processed */
	uint64_t pv_last_ok_sub_ms;	/* r_sub: that read's submission */
	uint64_t pv_last_fail_ms;
	uint32_t pv_read_failures;	/* consecutive */
	uint32_t pv_restarts;
	enum peer_membership pv_memb;
	uint64_t pv_away_since_ms;	/* a, valid when AWAY */
	bool pv_lapse_fences;		/* every read of the current
					   (incarnation, counter) carried
					   LAPSE_FENCES */
	bool pv_no_watchdog;		/* a read of the current incarnation
					   carried NO_WATCHDOG: never dead
					   by time */
};

void peer_init(struct peer_view *pv);

/*
 * A read of the peer's slot, submitted at sub_ms, completed (or
 * processed) at now_ms.  hb == NULL: our read failed or did not verify.
 * Returns enum peer_change.
 */
enum peer_change peer_observe_read(struct peer_view *pv, uint64_t sub_ms,
				   uint64_t now_ms, const struct hb_input *hb);

/* The same for a read timed at one instant (submitted at now_ms). */
enum peer_change peer_observe(struct peer_view *pv, uint64_t now_ms,
			      const struct hb_input *hb);

/* The peer is (member) or is not in our current membership. */
void peer_membership(struct peer_view *pv, uint64_t now_ms, bool member);

enum peer_state peer_state(const struct peer_view *pv, uint64_t now_ms,
			   const struct sdlm_timeouts *t);

/* The counter moved within L of now. */
bool peer_live(const struct peer_view *pv, uint64_t now_ms,
	       const struct sdlm_timeouts *t);

/* Dead by timeout: away, and min(r, r_sub + T) >= peer_dead_at. */
bool peer_dead(const struct peer_view *pv, const struct sdlm_timeouts *t);

/*
 * The earliest r at which peer_dead can become true with no further
 * change, or UINT64_MAX (no sample, not away, or a peer whose current
 * incarnation said NO_WATCHDOG: nothing resets it, so a still heartbeat
 * proves nothing - only its ack or an operator fences it): f + D for a peer whose
 * current (incarnation, counter) carried LAPSE_FENCES at every read,
 * else max(f, a) + D + M (t->dead_legacy_ms).
 */
uint64_t peer_dead_at(const struct peer_view *pv,
		      const struct sdlm_timeouts *t);

const char *peer_state_name(enum peer_state s);

/* ---- 2. fence operation -------------------------------------------- */

enum fence_op_state {
	FENCE_IDLE		= 0,
	FENCE_PILL_PENDING	= 1,
	FENCE_PILL_SENT		= 2,
	FENCE_ACKED		= 3,
	FENCE_DEAD		= 4,
	FENCE_FENCED		= 5,
	FENCE_CANCELLED		= 6,
};

enum fence_action {
	FENCE_ACT_NONE		= 0,
	FENCE_ACT_WRITE_PILL	= 1,	/* write (cmd, seq, target) to the
					   victim's message slot, then call
					   fence_pill_written */
	FENCE_ACT_DECLARE_ACK	= 2,	/* announce "node fenced" (acked) */
	FENCE_ACT_DECLARE_DEAD	= 3,	/* announce "node fenced" (dead) */
};

struct fence_decision {
	enum fence_action action;
	uint32_t cmd;			/* for WRITE_PILL */
	uint64_t seq;
	uint64_t target_incarnation;
	uint64_t wake_ms;		/* next fence_tick; UINT64_MAX: none */
};

struct fence_op {
	const struct sdlm_timeouts *fo_t;
	const struct peer_view *fo_pv;	/* the victim's, fed by the caller */
	enum fence_op_state fo_state;
	uint32_t fo_victim;
	uint32_t fo_cmd;		/* SM_CMD_RESET or SM_CMD_OFF */
	uint64_t fo_seq;
	uint64_t fo_target;		/* incarnation the pill names; 0 any */
	uint64_t fo_started_ms;
	uint64_t fo_sent_ms;		/* written ok (PILL_SENT) */
	bool fo_need_write;
	uint64_t fo_write_at_ms;	/* not before (retry) */
	bool fo_inflight;
	uint64_t fo_inflight_seq;
	uint32_t fo_write_failures;
	uint32_t fo_repills;		/* victim restarts seen */
	uint32_t fo_overwritten;	/* our pill replaced by another message */
	bool fo_need_read;		/* no pill aimed yet: both slots unread */
	bool fo_verified;		/* our pill read back from the slot */
	bool fo_disk_have;		/* fo_disk_seq is from a read */
	uint64_t fo_disk_seq;		/* seq of the last message slot read */
	bool fo_inc_have;		/* fo_inc is from a read */
	uint64_t fo_inc;		/* incarnation last read from the slot */
};

/* t and pv must outlive the op; pv is the victim's peer_view. */
void fence_op_init(struct fence_op *op, const struct sdlm_timeouts *t,
		   const struct peer_view *pv);

/*
 * Decide to fence victim with cmd (SM_CMD_RESET or SM_CMD_OFF).  disk_seq
 * is the seq just read from the victim's message slot, victim_incarnation
 * the incarnation just read from its heartbeat slot (never 0); the pill
 * gets disk_seq + 1 and names that incarnation.
 * Returns 0, -EINVAL (bad argument) or -EBUSY (op not IDLE or final).
 */
int fence_start(struct fence_op *op, uint32_t victim, uint32_t cmd,
		uint64_t now_ms, uint64_t disk_seq, uint64_t victim_incarnation,
		struct fence_decision *d);

/*
 * Take over a fence from what the disk shows (msg, hb: the victim's
 * message and heartbeat slots as last read; NULL: that read failed).  A
 * pill on the disk is never reused: a new one is aimed above it; if hb
 * already carries the ack of the pill on the disk, both naming the
 * incarnation in hb, the decision is DECLARE_ACK.  With a slot unread the
 * op waits in PILL_PENDING for fence_read to bring it.  Returns as
 * fence_start.
 */
int fence_resume(struct fence_op *op, uint32_t victim, uint32_t cmd,
		 uint64_t now_ms, const struct msg_input *msg,
		 const struct hb_input *hb, struct fence_decision *d);

/* The WRITE_PILL finished: err 0 (written and verified) or negative. */
int fence_pill_written(struct fence_op *op, uint64_t now_ms, int err,
		       struct fence_decision *d);

/*
 * A read of the victim's slots completed (msg, hb NULL: that slot failed
 * to read or verify).  Feed peer_observe with the same read first: the
 * dead check reads fo_pv.
 */
int fence_read(struct fence_op *op, uint64_t now_ms,
	       const struct msg_input *msg, const struct hb_input *hb,
	       struct fence_decision *d);

int fence_tick(struct fence_op *op, uint64_t now_ms, struct fence_decision *d);

/* Operator: stop waiting.  Returns 0 or -EINVAL if already final. */
int fence_cancel(struct fence_op *op);

/* The DECLARE_* was announced: ACKED/DEAD -> FENCED.  0 or -EINVAL. */
int fence_announced(struct fence_op *op);

const char *fence_op_state_name(enum fence_op_state s);

/* ---- 3. self state ------------------------------------------------- */

struct self_decision {
	int use_err;			/* self_may_use_locks() now */
	bool stop_locks;		/* stop every lock use, tell clients */
	bool feed_watchdog;
	bool ack_have;			/* heartbeats carry this ack */
	bool ack_waits_io;		/* a pill is read and the clients are
					   stopped, but an I/O of this node is
					   still in flight: no ack yet */
	uint32_t ack_cmd;
	uint64_t ack_seq;
	uint64_t ack_incarnation;
	uint32_t slot_state;		/* SM_SLOT_ALIVE or SM_SLOT_FENCED_SELF */
	bool exit_never_held;		/* self-fenced on the never-held lapse:
					   this incarnation never held a lease,
					   so never used a lock or a UID; the
					   edge ends the process (watchdog
					   disarmed) instead of the reset -
					   as final, and no reboot loop on a
					   disk that refuses writes (review
					   s24-review2 F5) */
};

struct self_state {
	const struct sdlm_timeouts *ss_t;
	uint64_t ss_incarnation;
	bool ss_lease_have;
	uint64_t ss_lease_sub_ms;	/* sub of the last completed renewal */
	uint64_t ss_last_submit_ms;
	bool ss_first_submit_have;	/* a renewal was ever submitted */
	uint64_t ss_first_submit_ms;	/* the first one's sub */
	uint32_t ss_inflight;
	uint32_t ss_renew_failures;	/* consecutive */
	bool ss_quorate;
	bool ss_answer_have;		/* told when corosync last answered */
	uint64_t ss_answer_asked_ms;	/* the newest answered question's ask */
	bool ss_io_idle;
	bool ss_clients_stopped;
	bool ss_msg_seen;
	uint64_t ss_msg_handled_seq;
	bool ss_pill;
	uint32_t ss_pill_cmd;
	uint64_t ss_pill_seq;
	uint64_t ss_pill_target;
	uint64_t ss_pill_seen_ms;
	bool ss_pill_acked;
	bool ss_ack_have;
	uint32_t ss_ack_cmd;
	uint64_t ss_ack_seq;
	uint64_t ss_ack_incarnation;
	bool ss_self_fenced;
	int ss_self_fence_reason;	/* SDLM_EFENCED, SDLM_EPILL, SDLM_ELEASE */
	bool ss_never_held;		/* fenced on the never-held lapse */
	bool ss_dup;
	bool ss_own_seen;
	bool ss_foreign_have;
	uint64_t ss_foreign_incarnation;
	uint64_t ss_foreign_counter;
	uint64_t ss_lease_floor_ms;	/* renewals submitted before: void */
	uint32_t ss_clock_misses;	/* pauses our clock did not count */
	bool ss_pause_recheck;		/* the next renewal at or after the
					   floor owes a fresh read */
	bool ss_need_read;		/* a fresh read is owed (lapse) */
	uint64_t ss_reads;		/* reads submitted (numbered 1, 2, ..) */
	uint64_t ss_need_read_after;	/* a read numbered above clears it */
	uint32_t ss_fresh_reads;	/* lapses that owed a fresh read */
};

void self_init(struct self_state *ss, const struct sdlm_timeouts *t,
	       uint64_t incarnation);

/* sub_ms: clock read just before io_submit of a heartbeat write. */
void self_renew_submitted(struct self_state *ss, uint64_t sub_ms);
/*
 * That write completed: err 0 (on disk) or negative (failed/timed out).
 * A completed renewal after a lapse owes a fresh read (above): only a
 * read submitted after this call (self_read_submitted) pays it.
 */
void self_renew_done(struct self_state *ss, uint64_t sub_ms, int err);

/*
 * The edge is about to submit a read of the slots, our message slot
 * among them.  Reads are numbered in this order; self_msg_read reports
 * the one submitted last (the edge keeps one read in flight).
 */
void self_read_submitted(struct self_state *ss);

/*
 * Our message slot, read at now_ms (NULL: the read failed or the slot did
 * not verify: it proves nothing, and pays no fresh read owed).
 */
void self_msg_read(struct self_state *ss, uint64_t now_ms,
		   const struct msg_input *msg);

/*
 * Our own heartbeat slot read back (NULL: failed).  Returns 0 or
 * SDLM_EDUPWRITER once a duplicate writer has been seen.
 */
int self_own_read(struct self_state *ss, uint64_t now_ms,
		  const struct hb_input *own);

/*
 * Clock check (issue 13, hole 8).  A VM pause may not advance
 * CLOCK_BOOTTIME: after it the lease looks valid.  What sdlm owns shows
 * it: between two successful reads of the area our clock advanced
 * own_elapsed_ms while a peer (same incarnation) wrote peer_writes more
 * heartbeats, never two within its interval peer_interval_ms, so at least
 * (peer_writes - 1) * peer_interval_ms passed.  The edge must start the
 * window where every one of those writes is known to come after it: at
 * the last read that showed an OLDER counter than the first of the two
 * (a peer's failed writes take counter values too, heartbeat.c).  Returns how much more
 * than own_elapsed_ms + own_interval_ms (the slack) that is: the time
 * our clock missed, 0 when nothing beyond the slack.
 */
uint64_t clock_missed_ms(uint64_t own_elapsed_ms, uint64_t peer_writes,
			 uint32_t peer_interval_ms, uint32_t own_interval_ms);

/*
 * The incarnation a starting daemon takes (docs/fencing.md,
 * "Incarnations").  Greater is newer everywhere: a peer's transport
 * refuses a slot or frame naming an incarnation below the one it knows
 * (-ESTALE), a lockspace replica never takes back an incarnation at or
 * below one it records as fenced, and the hand-off's F2 drops an answer
 * whose record names another incarnation.  So a new daemon must start
 * above every incarnation this node had: above the one its heartbeat slot
 * names (slot_inc; 0 for a free or never used slot).
 *
 *	incarnation = ms << 20 | (rnd & 0xfffff)
 *
 * ms is wall_ms (wall-clock milliseconds: two starts in one millisecond,
 * cloned machines, still differ by the 20 random bits) when that is above
 * slot_inc; else (the clock went back, or reads beyond the 44 bits of
 * milliseconds, after the year 2527) the slot's milliseconds + 1.  The
 * top millisecond (slot_inc >> 20 == SELF_INC_MS_MAX) leaves nothing
 * above it: a clock once set that far ahead, or a slot some other writer
 * or a damage filled with a valid checksum.  Never wraps to a lower one.
 */
#define SELF_INC_MS_MAX		((UINT64_C(1) << 44) - 1)

enum self_inc_basis {
	SELF_INC_CLOCK,		/* the wall clock, above the slot's */
	SELF_INC_AFTER_SLOT,	/* the slot's milliseconds + 1 */
	SELF_INC_EXHAUSTED,	/* none above the slot's: *inc untouched */
};

enum self_inc_basis self_incarnation(uint64_t wall_ms, uint32_t rnd,
				     uint64_t slot_inc, uint64_t *inc);

/*
 * A tick before its time (issue 19 item 4: a hand-off answer written as
 * soon as it is final, not at the next tick).  The peers' clock check
 * above counts at least the writer's interval I between any two of its
 * heartbeat writes, with one interval of slack; a write out of cadence
 * breaks that count by the part of the interval it cut short.  So:
 *   - an early tick runs no sooner than I/2 after the submission of our
 *     last heartbeat write (the count is off by at most I/2, half the
 *     slack), and the cadence restarts from it (the next tick a whole I
 *     later);
 *   - at most one early tick in any 4I + 2T: a window a peer counts over
 *     spans its read cadence, a read's deadline and a stall of its own
 *     short of its lease (I + T + 2I + T); a longer stall lapses its lease
 *     whatever it counts.  So a window holds at most one early tick.
 * The pause the check can see is unchanged (the records still say I).
 * Returns the earliest time an early tick may run: the later of the two
 * (last_early_ms 0: none yet).
 */
uint64_t self_early_tick_at(uint64_t last_write_sub_ms, uint64_t last_early_ms,
			    const struct sdlm_timeouts *t);

/*
 * The clock check against a peer that may tick before its time
 * (self_early_tick_at): clock_missed_ms with its slack widened by I/2
 * (the peer's interval) for every whole 4I + 2T in the window.  Each early
 * write cuts at most I/2 from the span of the writes counted, and there is
 * at most one per 4I + 2T, so a window of own_elapsed_ms holds at most
 * own_elapsed_ms / (4I + 2T) + 1 of them; the slack of one interval
 * covers two.  A window of good reads (read cadence, a deadline, a stall
 * short of the lease) is shorter than 4I + 2T, and nothing changes; one
 * that failed reads stretched keeps its baseline (a pause before a failed
 * read is still seen) and counts the early writes it may hold (review
 * s28-revearly: without it, three early writes of a healthy peer across
 * failed reads of ours read as a pause, and a clock miss fences).
 */
uint64_t clock_missed_early_ms(uint64_t own_elapsed_ms, uint64_t peer_writes,
			       uint32_t peer_interval_ms, uint32_t own_interval_ms,
			       const struct sdlm_timeouts *t);

/*
 * Our clock missed time (clock_missed_ms > 0) at now_ms: the lease counts
 * as lapsed (self_may_use_locks says SDLM_ELEASE, and the next self_decide
 * self-fences as for any lapse); only a renewal submitted at or after
 * now_ms renews it - a write submitted before the pause does not.
 */
void self_clock_missed(struct self_state *ss, uint64_t now_ms);

void self_quorum(struct self_state *ss, bool quorate);

/*
 * corosync answered a question asked at asked_ms (issue 13, hole 6).  Once
 * told, quorate counts only while now - (the newest such ask) <= M
 * (ss_t->base.membership_ms): a corosync hung at h answers no question
 * asked after h.  Until issue 19 the self-fence rule read it (a quorate
 * node whose lease lapsed kept feeding); since then a lapsed lease fences
 * whatever corosync says and nothing in fencesm decides on quorum: these
 * stay as what the node believes, for the edge's reports.
 */
void self_corosync_answered(struct self_state *ss, uint64_t asked_ms);

/* ss_quorate and (if told) corosync answered within M of now_ms. */
bool self_provably_quorate(const struct self_state *ss, uint64_t now_ms);

/*
 * The node's I/O now (before every self_decide).  Idle - the condition of
 * an ack - when no heartbeat write is waited for and every request the
 * kernel still owns is our own heartbeat read, which changes nothing on
 * the disk: a timed-out write, a UID record write of another context,
 * anything else still in the kernel may land after the others took over.
 */
void self_io(struct self_state *ss, const struct self_io *io);
bool self_io_is_idle(const struct self_io *io);

/*
 * A heartbeat write (a renewal, or the last one marking the slot FREE)
 * may be submitted: none is waited for, and no earlier one that missed
 * its deadline is still in the kernel - it could land over the newer
 * record (a lower counter, without the ack).  hb_stale: our heartbeat
 * writes that timed out and are still in the kernel.  Nothing else in
 * flight counts: a pill or any other write goes to another sector and
 * cannot land over our record, and holding renewals back for it (a slow
 * path to a victim's slot) would lapse our lease - a reset, under the
 * lapse rule, for somebody else's sector.
 */
bool self_may_write_hb(uint32_t hb_stale, bool hb_write_pending);
void self_clients_stopped(struct self_state *ss, bool stopped);

/*
 * Checked right before a lock is used or a UID returned.  0, or the reason
 * it may not, first that applies: SDLM_EDUPWRITER, SDLM_EFENCED,
 * SDLM_EPILL, SDLM_ELEASE (a fresh read owed, or the lease expired).
 */
int self_may_use_locks(const struct self_state *ss, uint64_t now_ms);

/*
 * Evaluate at now_ms (after any input, and at least once per I): may
 * move OBEYING -> ACKED and into SELF_FENCED; fills *d.
 */
void self_decide(struct self_state *ss, uint64_t now_ms,
		 struct self_decision *d);

/* ---- 4. verdicts on a peer's slots, for the layers above ----------- */

/*
 * What this node's reads say about another node, for the lockspace fencer
 * (NODE_STATUS, the cold-start gate) and for degraded UID mode.  The edge
 * passes the peer's slots as last read (NULL: that read failed or did not
 * verify) and whether our fence executor fenced the incarnation in hb.
 */
struct peer_slots {
	bool in_area;			/* the node id has slots (<= N) */
	const struct hb_input *hb;	/* its heartbeat slot, NULL unread */
	const struct msg_input *msg;	/* its message slot, NULL unread */
	bool fenced;			/* we fenced hb's incarnation */
};

/*
 * A pill (RESET or OFF) waits in the node's message slot for its current
 * life: one naming an earlier incarnation does not count; with the
 * heartbeat slot unread it counts (cannot tell which life it is for).
 */
bool peer_pill_pending(const struct peer_slots *ps);

/*
 * The cold-start gate may open without this node: no slot in the area,
 * or its slot shows it left cleanly (FREE or EXITING), or we fenced the
 * incarnation in it.  Dead by timeout is not enough (docs/model.md,
 * finding 3): a node paused with its watchdog (a VM) can come back,
 * having missed the change, still caching its locks; only a fence, whose
 * dead path writes a pill it must read first, clears it.  A slot that
 * did not read is not safe.
 */
bool peer_cold_ok(const struct peer_slots *ps, const struct peer_view *pv,
		  uint64_t now_ms, const struct sdlm_timeouts *t);

/* What degraded UID mode may assume of a node (values equal dlm/core/uid.h's
 * UID_PEER_*). */
enum peer_seen {
	PEER_SEEN_STOPPED	= 0,	/* left, self-fenced, fenced or dead */
	PEER_SEEN_VISIBLE	= 1,	/* its heartbeat may still be running */
	PEER_SEEN_UNREAD	= 2,	/* its slot did not read */
};

/*
 * Stopped only when it left cleanly, fenced itself (with a watchdog: one
 * run with NO_WATCHDOG exits at once, nothing resets it), was fenced by
 * us, or is dead (or exited) by our own reads on our own clock; never
 * read: unread; anything else: visible.
 */
enum peer_seen peer_seen(const struct peer_slots *ps,
			 const struct peer_view *pv, uint64_t now_ms,
			 const struct sdlm_timeouts *t);

#endif /* SDLM_FENCESM_H */
