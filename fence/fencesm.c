/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fencesm.c - peer liveness, fence operation and self state (the state
 * diagrams are in fencesm.h; the safety argument in docs/fencing.md and
 * docs/timeouts.md).
 *
 * Why a pill is aimed only from reads (fence_aim): the victim obeys a pill
 * only if it names its incarnation (or 0) and its seq is above every seq
 * it has handled, and it takes an "any incarnation" pill it finds at its
 * first read as a baseline it ignores.  A pill made up without reading
 * the slot (seq 1), or reused from the slot, may be one it never obeys.
 *
 * Why the dead check reads only f (first seen) and r (last successful
 * read): a victim write that completed before our read r was submitted
 * landed before it, so if r still shows the counter first seen at f, every
 * write the victim saw complete by then was submitted no later than f
 * (counters are never rewritten, so a value cannot come back).  Its lease
 * therefore ended by f + L whatever happened in between, and reads that
 * failed in between prove nothing either way and are ignored.  A lapsed
 * lease fences the victim quorate or not (self_decide), so it stopped
 * feeding by f + L and was reset by f + L + W: when it left the membership
 * does not enter (docs/timeouts.md, "Dead bound") - if the victim runs
 * that rule, which its heartbeat says (LAPSE_FENCES); an older build is
 * judged by the older bound, from max(f, a) with M in it.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "sdlm_errors.h"
#include "fencesm.h"

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static bool cmd_is_pill(uint32_t cmd)
{
	return cmd == SM_CMD_RESET || cmd == SM_CMD_OFF;
}

/* ---- 1. peer liveness ---------------------------------------------- */

void peer_init(struct peer_view *pv)
{
	memset(pv, 0, sizeof(*pv));
	pv->pv_memb = PEER_MEMB_UNKNOWN;
}

enum peer_change peer_observe(struct peer_view *pv, uint64_t now_ms,
			      const struct hb_input *hb)
{
	return peer_observe_read(pv, now_ms, now_ms, hb);
}

enum peer_change peer_observe_read(struct peer_view *pv, uint64_t sub_ms,
				   uint64_t now_ms, const struct hb_input *hb)
{
	enum peer_change ch = PEER_SAME;

	if (!hb) {
		pv->pv_last_fail_ms = now_ms;
		pv->pv_read_failures++;
		return PEER_SAME;
	}
	pv->pv_read_failures = 0;

	if (!pv->pv_have) {
		ch = PEER_FIRST;
	} else if (hb->incarnation != pv->pv_incarnation) {
		ch = PEER_RESTARTED;
		pv->pv_restarts++;
	} else if (hb->counter != pv->pv_counter) {
		ch = PEER_MOVED;
	}
	if (ch != PEER_SAME) {
		pv->pv_have = true;
		pv->pv_counter = hb->counter;
		pv->pv_incarnation = hb->incarnation;
		pv->pv_first_seen_ms = now_ms;
		pv->pv_lapse_fences = hb->lapse_fences;
	} else if (!hb->lapse_fences) {
		/* One writer per (incarnation, counter): cannot differ; if
		 * it ever does, the longer bound. */
		pv->pv_lapse_fences = false;
	}
	/* Per incarnation, sticky: one read that said so is enough. */
	if (ch == PEER_FIRST || ch == PEER_RESTARTED)
		pv->pv_no_watchdog = hb->no_watchdog;
	else if (hb->no_watchdog)
		pv->pv_no_watchdog = true;
	pv->pv_slot_state = hb->state;
	pv->pv_last_ok_ms = max_u64(pv->pv_last_ok_ms, now_ms);
	pv->pv_last_ok_sub_ms = max_u64(pv->pv_last_ok_sub_ms,
					min_u64(sub_ms, now_ms));
	return ch;
}

void peer_membership(struct peer_view *pv, uint64_t now_ms, bool member)
{
	if (member) {
		pv->pv_memb = PEER_MEMB_IN;
		return;
	}
	/* The first time we saw it leave is what counts: later reports of
	 * the same absence must not restart a wait already counting. */
	if (pv->pv_memb != PEER_MEMB_AWAY) {
		pv->pv_memb = PEER_MEMB_AWAY;
		pv->pv_away_since_ms = now_ms;
	}
}

uint64_t peer_dead_at(const struct peer_view *pv,
		      const struct sdlm_timeouts *t)
{
	if (!pv->pv_have || pv->pv_memb != PEER_MEMB_AWAY)
		return UINT64_MAX;
	/* No watchdog: nothing resets it, a still heartbeat proves nothing
	 * (review s25-rev2). */
	if (pv->pv_no_watchdog)
		return UINT64_MAX;
	/* From f alone: a victim that says it runs the lapse rule fences
	 * itself once its lease lapsed, quorate or not, so when it left (a)
	 * bounds nothing (issue 19).  An older build keeps feeding while it
	 * believes it is quorate: up to M after the others saw it leave. */
	if (pv->pv_lapse_fences)
		return pv->pv_first_seen_ms + t->dead_ms;
	return max_u64(pv->pv_first_seen_ms, pv->pv_away_since_ms) +
	       t->dead_legacy_ms;
}

/*
 * r as the bound may use it: the proof needs the read that completed at r
 * to have been submitted no earlier than r - T (docs/timeouts.md, step
 * 5).  A read processed later than its submission + T - our loop stalled
 * after the kernel finished it (a stall shorter than W does not reset
 * us), or it completed after its deadline and was reaped in the same
 * pass - shows the disk as it was before then, so it counts as of
 * r_sub + T at the latest (review s26-rev-lapse R1).
 */
static uint64_t peer_r(const struct peer_view *pv,
		       const struct sdlm_timeouts *t)
{
	uint64_t cap = pv->pv_last_ok_sub_ms + t->base.io_timeout_ms;

	if (cap < pv->pv_last_ok_sub_ms)
		cap = UINT64_MAX;
	return min_u64(pv->pv_last_ok_ms, cap);
}

bool peer_dead(const struct peer_view *pv, const struct sdlm_timeouts *t)
{
	uint64_t at = peer_dead_at(pv, t);

	return at != UINT64_MAX && peer_r(pv, t) >= at;
}

bool peer_live(const struct peer_view *pv, uint64_t now_ms,
	       const struct sdlm_timeouts *t)
{
	if (!pv->pv_have)
		return false;
	/* Measured to now, not to r: if we cannot read, it is not proven live. */
	return now_ms < pv->pv_first_seen_ms ||
	       now_ms - pv->pv_first_seen_ms <= t->lease_ms;
}

enum peer_state peer_state(const struct peer_view *pv, uint64_t now_ms,
			   const struct sdlm_timeouts *t)
{
	if (!pv->pv_have)
		return PEER_UNKNOWN;
	if (pv->pv_slot_state == SM_SLOT_FREE ||
	    pv->pv_slot_state == SM_SLOT_EXITING)
		return PEER_EXITED;
	if (peer_dead(pv, t))
		return PEER_DEAD;
	return peer_live(pv, now_ms, t) ? PEER_LIVE : PEER_STILL;
}

const char *peer_state_name(enum peer_state s)
{
	switch (s) {
	case PEER_UNKNOWN:	return "unknown";
	case PEER_LIVE:		return "live";
	case PEER_STILL:	return "still";
	case PEER_DEAD:		return "dead";
	case PEER_EXITED:	return "exited";
	}
	return "invalid";
}

/* ---- 2. fence operation -------------------------------------------- */

static bool fence_final(const struct fence_op *op)
{
	return op->fo_state == FENCE_ACKED || op->fo_state == FENCE_DEAD ||
	       op->fo_state == FENCE_FENCED || op->fo_state == FENCE_CANCELLED;
}

static bool fence_waiting(const struct fence_op *op)
{
	return op->fo_state == FENCE_PILL_PENDING ||
	       op->fo_state == FENCE_PILL_SENT;
}

/*
 * Aim a new pill: seq above anything known to be on the disk (the last
 * read of the slot, or our own pill if that read predates it), naming the
 * incarnation last read from the victim's heartbeat slot.  Needs both
 * reads: without them the op waits for the next (fo_need_read).
 */
static void fence_aim(struct fence_op *op, uint64_t now_ms)
{
	op->fo_state = FENCE_PILL_PENDING;
	op->fo_verified = false;
	if (!op->fo_disk_have || !op->fo_inc_have) {
		op->fo_need_read = true;
		op->fo_need_write = false;
		return;
	}
	/* No seq above UINT64_MAX: wait; an operator must clear the slot. */
	if (max_u64(op->fo_seq, op->fo_disk_seq) == UINT64_MAX) {
		op->fo_need_read = true;
		op->fo_need_write = false;
		op->fo_disk_have = false;
		return;
	}
	op->fo_need_read = false;
	op->fo_seq = max_u64(op->fo_seq, op->fo_disk_seq) + 1;
	op->fo_target = op->fo_inc;
	op->fo_need_write = true;
	op->fo_write_at_ms = now_ms;
}

/*
 * The common tail of every event.  The dead path declares only once our
 * own pill, naming the victim's current incarnation with a seq above
 * anything it can have handled, has been read back from its slot: a
 * victim that was merely paused (its watchdog paused with it) reads that
 * pill on its first read after waking and stops before it trusts its
 * lease again.  A pill already there, or one for "any incarnation", does
 * not do: the victim may have taken it as its baseline and ignored it.
 */
static void fence_eval(struct fence_op *op, uint64_t now_ms,
		       struct fence_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->action = FENCE_ACT_NONE;
	d->wake_ms = UINT64_MAX;
	if (!fence_waiting(op))
		return;

	if (peer_dead(op->fo_pv, op->fo_t) && op->fo_verified) {
		op->fo_state = FENCE_DEAD;
		d->action = FENCE_ACT_DECLARE_DEAD;
		return;
	}

	if (op->fo_need_write && !op->fo_inflight) {
		if (now_ms >= op->fo_write_at_ms) {
			op->fo_need_write = false;
			op->fo_inflight = true;
			op->fo_inflight_seq = op->fo_seq;
			d->action = FENCE_ACT_WRITE_PILL;
			d->cmd = op->fo_cmd;
			d->seq = op->fo_seq;
			d->target_incarnation = op->fo_target;
		} else {
			d->wake_ms = op->fo_write_at_ms;
		}
	}
	/* The dead check moves only with reads, which the caller drives;
	 * the wake-up is a hint for when it could first be true. */
	d->wake_ms = min_u64(d->wake_ms, peer_dead_at(op->fo_pv, op->fo_t));
}

static bool fence_ack_matches(const struct fence_op *op,
			      const struct hb_input *hb)
{
	return op->fo_target != 0 && cmd_is_pill(hb->ack_cmd) &&
	       hb->ack_seq == op->fo_seq &&
	       hb->ack_incarnation == op->fo_target &&
	       hb->incarnation == op->fo_target;
}

/*
 * The victim's message slot as read (NULL: the read failed; what we knew
 * stays, and a pill waiting for a first read keeps waiting).
 *
 * Our pill (or a newer pill naming the same incarnation, taken over) seen
 * in the slot is verified: the dead path may use it.  Another message at
 * or above our seq means somebody wrote over ours: a new pill above it.
 * A lower seq is a read that started before our write landed, unless it
 * completed at least T after our write did (then it started after): our
 * write is not there, and the same pill is written again.
 */
static void fence_apply_msg(struct fence_op *op, uint64_t now_ms,
			    const struct msg_input *msg)
{
	bool ours, after_write;

	if (!msg)
		return;
	op->fo_disk_have = true;
	op->fo_disk_seq = msg->seq;
	if (op->fo_need_read)
		return;		/* fence_aim once both slots are read */
	ours = cmd_is_pill(msg->cmd) &&
	       msg->target_incarnation == op->fo_target;
	if (ours && msg->seq >= op->fo_seq) {
		if (msg->seq > op->fo_seq || op->fo_state != FENCE_PILL_SENT)
			op->fo_sent_ms = now_ms;
		op->fo_seq = msg->seq;
		op->fo_state = FENCE_PILL_SENT;
		op->fo_need_write = false;
		op->fo_verified = true;
		return;
	}
	after_write = op->fo_state == FENCE_PILL_SENT &&
		      now_ms >= op->fo_sent_ms + op->fo_t->base.io_timeout_ms;
	if (msg->seq >= op->fo_seq) {
		if (op->fo_state == FENCE_PILL_SENT && !after_write)
			return;	/* perhaps read before our write landed */
		op->fo_overwritten++;
		fence_aim(op, now_ms);
		return;
	}
	if (after_write && !op->fo_inflight) {
		op->fo_verified = false;
		op->fo_need_write = true;
		op->fo_write_at_ms = now_ms;
	}
}

/*
 * One read of the victim's slots (msg, hb NULL: that slot failed).  In
 * this order: an ack of our pill in hb ends the op; the incarnation in hb
 * is what a pill names from now on; the message slot may verify our pill
 * or show it overwritten; a new incarnation means the one our pill names
 * will never ack, so the pill is re-aimed at the new one (which holds
 * nothing yet and, acking, resets the machine the old one ran on).
 */
static void fence_apply_read(struct fence_op *op, uint64_t now_ms,
			     const struct msg_input *msg,
			     const struct hb_input *hb,
			     struct fence_decision *d)
{
	if (hb && fence_ack_matches(op, hb)) {
		op->fo_state = FENCE_ACKED;
		memset(d, 0, sizeof(*d));
		d->action = FENCE_ACT_DECLARE_ACK;
		d->wake_ms = UINT64_MAX;
		return;
	}
	/* Incarnation 0 is a slot its owner never wrote: nothing to name. */
	if (hb && hb->incarnation != 0) {
		op->fo_inc_have = true;
		op->fo_inc = hb->incarnation;
	}
	fence_apply_msg(op, now_ms, msg);
	if (op->fo_need_read) {
		if (op->fo_disk_have && op->fo_inc_have)
			fence_aim(op, now_ms);
	} else if (op->fo_inc_have && op->fo_inc != op->fo_target) {
		op->fo_repills++;
		fence_aim(op, now_ms);
	}
	fence_eval(op, now_ms, d);
}

void fence_op_init(struct fence_op *op, const struct sdlm_timeouts *t,
		   const struct peer_view *pv)
{
	memset(op, 0, sizeof(*op));
	op->fo_t = t;
	op->fo_pv = pv;
	op->fo_state = FENCE_IDLE;
}

static int fence_check_start(const struct fence_op *op, uint32_t cmd,
			     const struct fence_decision *d)
{
	if (!op->fo_t || !op->fo_pv || !d || !cmd_is_pill(cmd))
		return -EINVAL;
	if (op->fo_state != FENCE_IDLE)
		return -EBUSY;
	return 0;
}

static void fence_begin(struct fence_op *op, uint32_t victim, uint32_t cmd,
			uint64_t now_ms)
{
	op->fo_victim = victim;
	op->fo_cmd = cmd;
	op->fo_started_ms = now_ms;
	op->fo_inflight = false;
	op->fo_write_failures = 0;
	op->fo_repills = 0;
	op->fo_overwritten = 0;
	op->fo_seq = 0;
	op->fo_target = 0;
	op->fo_verified = false;
	op->fo_disk_have = false;
	op->fo_inc_have = false;
}

int fence_start(struct fence_op *op, uint32_t victim, uint32_t cmd,
		uint64_t now_ms, uint64_t disk_seq, uint64_t victim_incarnation,
		struct fence_decision *d)
{
	int rv;

	if (!op)
		return -EINVAL;
	rv = fence_check_start(op, cmd, d);
	if (rv)
		return rv;
	if (disk_seq == UINT64_MAX || victim_incarnation == 0)
		return -EINVAL;

	fence_begin(op, victim, cmd, now_ms);
	op->fo_disk_have = true;
	op->fo_disk_seq = disk_seq;
	op->fo_inc_have = true;
	op->fo_inc = victim_incarnation;
	fence_aim(op, now_ms);
	fence_eval(op, now_ms, d);
	return 0;
}

int fence_resume(struct fence_op *op, uint32_t victim, uint32_t cmd,
		 uint64_t now_ms, const struct msg_input *msg,
		 const struct hb_input *hb, struct fence_decision *d)
{
	int rv;

	if (!op)
		return -EINVAL;
	rv = fence_check_start(op, cmd, d);
	if (rv)
		return rv;
	if (msg && msg->seq == UINT64_MAX)
		return -EINVAL;

	fence_begin(op, victim, cmd, now_ms);
	op->fo_state = FENCE_PILL_PENDING;
	op->fo_need_read = true;
	/* An ack on the disk of the pill on the disk, both naming the
	 * incarnation now in the slot, is that incarnation stopped. */
	if (msg && hb && cmd_is_pill(msg->cmd) &&
	    msg->target_incarnation == hb->incarnation) {
		op->fo_seq = msg->seq;
		op->fo_target = msg->target_incarnation;
		if (!fence_ack_matches(op, hb))
			op->fo_target = 0;
	}
	fence_apply_read(op, now_ms, msg, hb, d);
	return 0;
}

int fence_pill_written(struct fence_op *op, uint64_t now_ms, int err,
		       struct fence_decision *d)
{
	if (!op || !d || !op->fo_inflight)
		return -EINVAL;
	op->fo_inflight = false;

	/* A write for a seq we have since replaced is of no interest. */
	if (fence_waiting(op) && op->fo_inflight_seq == op->fo_seq) {
		if (err == 0) {
			op->fo_state = FENCE_PILL_SENT;
			op->fo_sent_ms = now_ms;
		} else {
			/* Same seq and content again: rewriting is idempotent,
			 * whether or not the failed write landed. */
			op->fo_write_failures++;
			op->fo_need_write = true;
			op->fo_write_at_ms = now_ms +
					     op->fo_t->base.hb_interval_ms;
		}
	}
	fence_eval(op, now_ms, d);
	return 0;
}

int fence_read(struct fence_op *op, uint64_t now_ms,
	       const struct msg_input *msg, const struct hb_input *hb,
	       struct fence_decision *d)
{
	if (!op || !d)
		return -EINVAL;
	if (!fence_waiting(op)) {
		fence_eval(op, now_ms, d);
		return 0;
	}
	/* An ack may arrive while the write is still reported in flight: the
	 * ack itself proves the pill landed. */
	fence_apply_read(op, now_ms, msg, hb, d);
	return 0;
}

int fence_tick(struct fence_op *op, uint64_t now_ms, struct fence_decision *d)
{
	if (!op || !d)
		return -EINVAL;
	fence_eval(op, now_ms, d);
	return 0;
}

int fence_cancel(struct fence_op *op)
{
	if (!op || fence_final(op))
		return -EINVAL;
	op->fo_state = FENCE_CANCELLED;
	op->fo_need_write = false;
	return 0;
}

int fence_announced(struct fence_op *op)
{
	if (!op || (op->fo_state != FENCE_ACKED && op->fo_state != FENCE_DEAD))
		return -EINVAL;
	op->fo_state = FENCE_FENCED;
	return 0;
}

const char *fence_op_state_name(enum fence_op_state s)
{
	switch (s) {
	case FENCE_IDLE:		return "idle";
	case FENCE_PILL_PENDING:	return "pill-pending";
	case FENCE_PILL_SENT:		return "pill-sent";
	case FENCE_ACKED:		return "acked";
	case FENCE_DEAD:		return "dead";
	case FENCE_FENCED:		return "fenced";
	case FENCE_CANCELLED:		return "cancelled";
	}
	return "invalid";
}

/* ---- 3. self state ------------------------------------------------- */

void self_init(struct self_state *ss, const struct sdlm_timeouts *t,
	       uint64_t incarnation)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_t = t;
	ss->ss_incarnation = incarnation;
}

void self_renew_submitted(struct self_state *ss, uint64_t sub_ms)
{
	if (!ss->ss_first_submit_have) {
		ss->ss_first_submit_have = true;
		ss->ss_first_submit_ms = sub_ms;
	}
	ss->ss_last_submit_ms = sub_ms;
	ss->ss_inflight++;
}

/* Only a read numbered after now pays it (self_msg_read). */
static void self_owe_read(struct self_state *ss)
{
	ss->ss_need_read = true;
	ss->ss_need_read_after = ss->ss_reads;
	ss->ss_fresh_reads++;
}

void self_renew_done(struct self_state *ss, uint64_t sub_ms, int err)
{
	if (ss->ss_inflight)
		ss->ss_inflight--;
	if (err) {
		ss->ss_renew_failures++;
		return;
	}
	ss->ss_renew_failures = 0;
	/* A renewal after a lapse (a pause, a stall): the lease comes back,
	 * but a fencer may have written a pill and declared us dead while
	 * it was out.  A read submitted after this completion must show our
	 * message slot before any lock is used. */
	if (ss->ss_lease_have && sub_ms >= ss->ss_lease_sub_ms &&
	    sub_ms - ss->ss_lease_sub_ms >= ss->ss_t->lease_ms)
		self_owe_read(ss);
	/* Submitted before a pause our clock missed: its time stamp is
	 * earlier than it looks, it renews nothing. */
	if (sub_ms < ss->ss_lease_floor_ms)
		return;
	/* Writes may complete out of order: the lease follows the latest
	 * submission that completed, never goes back. */
	if (!ss->ss_lease_have || sub_ms > ss->ss_lease_sub_ms)
		ss->ss_lease_sub_ms = sub_ms;
	ss->ss_lease_have = true;
	/* The first renewal after a pause our clock missed: as after any
	 * lapse, a pill may have been written while we were paused. */
	if (ss->ss_pause_recheck) {
		ss->ss_pause_recheck = false;
		self_owe_read(ss);
	}
}

void self_read_submitted(struct self_state *ss)
{
	ss->ss_reads++;
}

static void self_set_ack(struct self_state *ss, uint32_t cmd, uint64_t seq,
			 uint64_t target)
{
	ss->ss_ack_have = true;
	ss->ss_ack_cmd = cmd;
	ss->ss_ack_seq = seq;
	ss->ss_ack_incarnation = target;
}

void self_msg_read(struct self_state *ss, uint64_t now_ms,
		   const struct msg_input *msg)
{
	bool first = !ss->ss_msg_seen;

	if (!msg)
		return;
	ss->ss_msg_seen = true;
	/* Submitted after the renewal that owed it: whatever pill is there
	 * is handled below, before any lock can be used. */
	if (ss->ss_need_read && ss->ss_reads > ss->ss_need_read_after)
		ss->ss_need_read = false;

	if (msg->target_incarnation != 0 &&
	    msg->target_incarnation != ss->ss_incarnation)
		return;		/* for another incarnation of this node */

	/* An "any incarnation" message already there when we start was meant
	 * for a previous life; one naming our fresh random incarnation can
	 * only be for us, so it is obeyed even on the first read. */
	if (first && msg->target_incarnation == 0) {
		ss->ss_msg_handled_seq = msg->seq;
		return;
	}
	if (msg->seq <= ss->ss_msg_handled_seq)
		return;
	ss->ss_msg_handled_seq = msg->seq;

	switch (msg->cmd) {
	case SM_CMD_TEST:
		/* Never hide a pill's ack behind a test's. */
		if (!ss->ss_pill)
			self_set_ack(ss, SM_CMD_TEST, msg->seq,
				     msg->target_incarnation);
		break;
	case SM_CMD_RESET:
	case SM_CMD_OFF:
		if (!ss->ss_pill)
			ss->ss_pill_seen_ms = now_ms;
		ss->ss_pill = true;
		ss->ss_pill_cmd = msg->cmd;
		ss->ss_pill_seq = msg->seq;
		ss->ss_pill_target = msg->target_incarnation;
		/* Already stopped and drained: a newer pill is acked at once
		 * (self_decide); the fencer waits for its own seq. */
		if (ss->ss_pill_acked)
			self_set_ack(ss, msg->cmd, msg->seq,
				     msg->target_incarnation);
		break;
	default:
		break;		/* CLEAR: nothing to a running node */
	}
}

int self_own_read(struct self_state *ss, uint64_t now_ms,
		  const struct hb_input *own)
{
	(void)now_ms;
	if (!own || ss->ss_dup)
		goto out;
	if (own->incarnation == ss->ss_incarnation) {
		ss->ss_own_seen = true;
		goto out;
	}
	/* Before our first write shows, the slot holds the previous
	 * incarnation's last record.  After it, one foreign counter can be a
	 * dead predecessor's late write; two different ones need a writer. */
	if (!ss->ss_own_seen)
		goto out;
	if (ss->ss_foreign_have &&
	    ss->ss_foreign_incarnation == own->incarnation &&
	    ss->ss_foreign_counter != own->counter) {
		ss->ss_dup = true;
		goto out;
	}
	ss->ss_foreign_have = true;
	ss->ss_foreign_incarnation = own->incarnation;
	ss->ss_foreign_counter = own->counter;
out:
	return ss->ss_dup ? SDLM_EDUPWRITER : 0;
}

/* The milliseconds are compared first, so nothing is shifted out of the
 * 64 bits: a clock beyond SELF_INC_MS_MAX is not used, and the slot's
 * top millisecond has no successor. */
enum self_inc_basis self_incarnation(uint64_t wall_ms, uint32_t rnd,
				     uint64_t slot_inc, uint64_t *inc)
{
	uint64_t low = rnd & 0xfffff;
	uint64_t slot_ms = slot_inc >> 20;

	if (wall_ms <= SELF_INC_MS_MAX && ((wall_ms << 20) | low) > slot_inc) {
		*inc = (wall_ms << 20) | low;
		return SELF_INC_CLOCK;
	}
	if (slot_ms >= SELF_INC_MS_MAX)
		return SELF_INC_EXHAUSTED;
	*inc = ((slot_ms + 1) << 20) | low;
	return SELF_INC_AFTER_SLOT;
}

uint64_t clock_missed_ms(uint64_t own_elapsed_ms, uint64_t peer_writes,
			 uint32_t peer_interval_ms, uint32_t own_interval_ms)
{
	uint64_t peer_min, ours;

	if (peer_writes < 2 || peer_interval_ms == 0)
		return 0;
	if (peer_writes - 1 > UINT64_MAX / peer_interval_ms)
		return UINT64_MAX;
	peer_min = (peer_writes - 1) * peer_interval_ms;
	ours = own_elapsed_ms + own_interval_ms;
	if (ours < own_elapsed_ms)
		return 0;
	return peer_min > ours ? peer_min - ours : 0;
}

uint64_t clock_missed_early_ms(uint64_t own_elapsed_ms, uint64_t peer_writes,
			       uint32_t peer_interval_ms, uint32_t own_interval_ms,
			       const struct sdlm_timeouts *t)
{
	uint64_t rate = 4 * (uint64_t)peer_interval_ms + 2 * (uint64_t)t->base.io_timeout_ms;
	uint64_t early = rate ? own_elapsed_ms / rate : 0;
	uint64_t allow = early * (peer_interval_ms / 2);

	if (own_elapsed_ms > UINT64_MAX - allow)
		return 0;
	return clock_missed_ms(own_elapsed_ms + allow, peer_writes,
			       peer_interval_ms, own_interval_ms);
}

uint64_t self_early_tick_at(uint64_t last_write_sub_ms, uint64_t last_early_ms,
			    const struct sdlm_timeouts *t)
{
	uint64_t i = t->base.hb_interval_ms, io = t->base.io_timeout_ms;
	uint64_t at = last_write_sub_ms + i / 2;

	if (last_early_ms && last_early_ms + 4 * i + 2 * io > at)
		at = last_early_ms + 4 * i + 2 * io;
	return at;
}

void self_clock_missed(struct self_state *ss, uint64_t now_ms)
{
	ss->ss_clock_misses++;
	ss->ss_lease_floor_ms = max_u64(ss->ss_lease_floor_ms, now_ms);
	ss->ss_pause_recheck = true;
}

void self_quorum(struct self_state *ss, bool quorate)
{
	ss->ss_quorate = quorate;
}

void self_corosync_answered(struct self_state *ss, uint64_t asked_ms)
{
	if (!ss->ss_answer_have || asked_ms > ss->ss_answer_asked_ms)
		ss->ss_answer_asked_ms = asked_ms;
	ss->ss_answer_have = true;
}

bool self_provably_quorate(const struct self_state *ss, uint64_t now_ms)
{
	if (!ss->ss_quorate)
		return false;
	if (!ss->ss_answer_have || now_ms <= ss->ss_answer_asked_ms)
		return true;
	return now_ms - ss->ss_answer_asked_ms <= ss->ss_t->base.membership_ms;
}

bool self_io_is_idle(const struct self_io *io)
{
	return !io->hb_write_pending &&
	       io->inflight <= (io->hb_read_pending ? 1u : 0u);
}

bool self_may_write_hb(uint32_t hb_stale, bool hb_write_pending)
{
	return !hb_write_pending && hb_stale == 0;
}

void self_io(struct self_state *ss, const struct self_io *io)
{
	ss->ss_io_idle = self_io_is_idle(io);
}

void self_clients_stopped(struct self_state *ss, bool stopped)
{
	ss->ss_clients_stopped = stopped;
}

static bool self_lease_valid(const struct self_state *ss, uint64_t now_ms)
{
	if (!ss->ss_lease_have)
		return false;
	if (ss->ss_lease_sub_ms < ss->ss_lease_floor_ms)
		return false;	/* renewed before a pause we missed */
	if (now_ms < ss->ss_lease_sub_ms)
		return true;
	return now_ms - ss->ss_lease_sub_ms < ss->ss_t->lease_ms;
}

int self_may_use_locks(const struct self_state *ss, uint64_t now_ms)
{
	if (ss->ss_dup)
		return SDLM_EDUPWRITER;
	if (ss->ss_pill_acked || ss->ss_self_fenced)
		return SDLM_EFENCED;
	if (ss->ss_pill)
		return SDLM_EPILL;
	if (ss->ss_need_read || !self_lease_valid(ss, now_ms))
		return SDLM_ELEASE;
	return 0;
}

/*
 * The self-fence rule's lapse: the lease held once and expired, or never
 * held while renewals have been submitted for L (a write of ours may have
 * landed unseen: a peer may count its counter as our last life sign).
 */
static bool self_lease_lapsed(const struct self_state *ss, uint64_t now_ms)
{
	if (ss->ss_lease_have)
		return !self_lease_valid(ss, now_ms);
	return ss->ss_first_submit_have && now_ms >= ss->ss_first_submit_ms &&
	       now_ms - ss->ss_first_submit_ms >= ss->ss_t->lease_ms;
}

static void self_fence(struct self_state *ss, int reason)
{
	if (!ss->ss_self_fenced) {
		ss->ss_self_fenced = true;
		ss->ss_self_fence_reason = reason;
	}
}

void self_decide(struct self_state *ss, uint64_t now_ms,
		 struct self_decision *d)
{
	memset(d, 0, sizeof(*d));

	if (ss->ss_pill && !ss->ss_pill_acked && ss->ss_clients_stopped &&
	    ss->ss_io_idle) {
		ss->ss_pill_acked = true;
		self_set_ack(ss, ss->ss_pill_cmd, ss->ss_pill_seq,
			     ss->ss_pill_target);
	}

	/* Sticky: resuming the feed after quorum or disk come back would let
	 * a node the others may already count as reset use its locks.  A
	 * lapsed lease fences whatever corosync says (issue 19 item 3): the
	 * dead bound D = L + W + T + I relies on it, not on the victim
	 * learning it lost quorum (docs/timeouts.md, "Self-fence"). */
	if (ss->ss_pill_acked)
		self_fence(ss, SDLM_EFENCED);
	else if (ss->ss_pill && now_ms >= ss->ss_pill_seen_ms &&
		 now_ms - ss->ss_pill_seen_ms >= ss->ss_t->drain_ms)
		self_fence(ss, SDLM_EPILL);
	else if (self_lease_lapsed(ss, now_ms)) {
		/* Never held: nothing was ever used under a lease (A5), and
		 * the fence is sticky - the process may end instead. */
		if (!ss->ss_self_fenced && !ss->ss_lease_have)
			ss->ss_never_held = true;
		self_fence(ss, SDLM_ELEASE);
	}

	d->use_err = self_may_use_locks(ss, now_ms);
	d->stop_locks = ss->ss_pill || ss->ss_self_fenced || ss->ss_dup;
	d->feed_watchdog = !ss->ss_self_fenced;
	d->ack_have = ss->ss_ack_have;
	d->ack_waits_io = ss->ss_pill && !ss->ss_pill_acked &&
			  ss->ss_clients_stopped && !ss->ss_io_idle;
	d->ack_cmd = ss->ss_ack_cmd;
	d->ack_seq = ss->ss_ack_seq;
	d->ack_incarnation = ss->ss_ack_incarnation;
	d->slot_state = ss->ss_self_fenced ? SM_SLOT_FENCED_SELF
					   : SM_SLOT_ALIVE;
	d->exit_never_held = ss->ss_self_fenced && ss->ss_never_held;
}

/* ---- 4. verdicts on a peer's slots --------------------------------- */

bool peer_pill_pending(const struct peer_slots *ps)
{
	const struct msg_input *m = ps->msg;

	if (!ps->in_area || !m || !cmd_is_pill(m->cmd))
		return false;
	if (!ps->hb)
		return true;	/* cannot tell which life it is for */
	if (m->target_incarnation &&
	    m->target_incarnation != ps->hb->incarnation)
		return false;	/* aimed at an earlier life */
	return true;
}

bool peer_cold_ok(const struct peer_slots *ps, const struct peer_view *pv,
		  uint64_t now_ms, const struct sdlm_timeouts *t)
{
	if (!ps->in_area)
		return true;	/* no slot: never ran here */
	if (!ps->hb)
		return false;	/* cannot tell: not safe */
	if (ps->hb->state == SM_SLOT_FREE || ps->hb->state == SM_SLOT_EXITING)
		return true;
	if (ps->fenced)
		return true;
	/* Dead by timeout is not enough: only a fence clears it (the
	 * lockspace fencer asks for one at once). */
	return pv && peer_state(pv, now_ms, t) == PEER_EXITED;
}

enum peer_seen peer_seen(const struct peer_slots *ps,
			 const struct peer_view *pv, uint64_t now_ms,
			 const struct sdlm_timeouts *t)
{
	if (!ps->in_area || !ps->hb || !pv)
		return PEER_SEEN_UNREAD;
	/* Fenced itself with no watchdog: sdlmd exits without waiting for
	 * its killed users to be gone, and nothing resets the machine. */
	if (ps->hb->state == SM_SLOT_FREE || ps->fenced ||
	    (ps->hb->state == SM_SLOT_FENCED_SELF && !ps->hb->no_watchdog))
		return PEER_SEEN_STOPPED;
	switch (peer_state(pv, now_ms, t)) {
	case PEER_DEAD:
	case PEER_EXITED:
		return PEER_SEEN_STOPPED;
	case PEER_UNKNOWN:
		return PEER_SEEN_UNREAD;
	default:
		return PEER_SEEN_VISIBLE;
	}
}
