/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_fencesm.c - the fence state machine on synthetic time.
 *
 * Every test drives the pure functions with explicit now_ms values: a
 * peer's counter moving (or not), our reads failing, membership changes,
 * pills and acks in the slots.  The two timeline tests at the end run a
 * victim's self_state and a fencer's peer_view + fence_op against one
 * simulated pair of slots and check the safety claim of docs/timeouts.md:
 * when the fencer declares the victim dead, the victim's watchdog has
 * already reset it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sdlm_errors.h"
#include "fencesm_fixture.h"

/* The node's I/O: inflight requests, our heartbeat read among them. */
static void io_set(struct self_state *ss, uint32_t inflight, bool hb_read)
{
	struct self_io io = { .inflight = inflight, .hb_read_pending = hb_read };

	self_io(ss, &io);
}

/* ---- peer liveness ------------------------------------------------- */

static void test_peer_normal_liveness(void **state)
{
	struct peer_view pv;
	struct hb_input hb;
	uint64_t now;

	(void)state;
	peer_init(&pv);
	assert_int_equal(peer_state(&pv, 0, &tmo), PEER_UNKNOWN);
	assert_false(peer_live(&pv, 0, &tmo));

	hb = hb_make(INC_A, 1);
	assert_int_equal(peer_observe(&pv, 1000, &hb), PEER_FIRST);
	peer_membership(&pv, 1000, true);
	for (now = 2000; now <= 60000; now += 1000) {
		hb.counter++;
		assert_int_equal(peer_observe(&pv, now, &hb), PEER_MOVED);
		assert_int_equal(peer_state(&pv, now, &tmo), PEER_LIVE);
		assert_true(peer_live(&pv, now + 500, &tmo));
		assert_false(peer_dead(&pv, &tmo));
	}
	assert_int_equal(pv.pv_first_seen_ms, 60000);
	/* Same sample again: no change, first-seen stays. */
	assert_int_equal(peer_observe(&pv, 61000, &hb), PEER_SAME);
	assert_int_equal(pv.pv_first_seen_ms, 60000);
	assert_int_equal(pv.pv_last_ok_ms, 61000);
}

/*
 * Counter last moves at 5000 (first seen then), the peer leaves the
 * membership at 5500: dead exactly on the first read at or after
 * 5000 + D (f + D: when it left does not count since issue 19, a lapsed
 * lease fences the victim quorate or not), never before; STILL once L
 * has passed.
 */
static void test_peer_dead_after_D(void **state)
{
	struct peer_view pv;
	struct hb_input hb = hb_make(INC_A, 0);
	uint64_t now, expect = 5000 + (uint64_t)tmo.dead_ms;
	bool seen_still = false;

	(void)state;
	peer_init(&pv);
	peer_membership(&pv, 0, true);
	for (now = 1000; now <= 5000; now += 1000) {
		hb.counter++;
		peer_observe(&pv, now, &hb);
	}
	peer_membership(&pv, 5500, false);
	peer_membership(&pv, 9000, false);	/* repeated: keeps 5500 */
	assert_int_equal(pv.pv_away_since_ms, 5500);
	assert_int_equal(peer_dead_at(&pv, &tmo), expect);

	for (now = 5100; now < expect; now += 100) {
		peer_observe(&pv, now, &hb);
		assert_false(peer_dead(&pv, &tmo));
		if (now - 5000 > tmo.lease_ms) {
			assert_int_equal(peer_state(&pv, now, &tmo),
					 PEER_STILL);
			seen_still = true;
		} else {
			assert_int_equal(peer_state(&pv, now, &tmo),
					 PEER_LIVE);
		}
	}
	assert_true(seen_still);
	peer_observe(&pv, expect, &hb);
	assert_true(peer_dead(&pv, &tmo));
	assert_int_equal(peer_state(&pv, expect, &tmo), PEER_DEAD);
}

/*
 * Review s26-rev-lapse R1: a read counts as of its submission + T at the
 * latest.  Step 5 of docs/timeouts.md needs r_sub >= r - T; a read the
 * daemon processed late (its loop stalled after the kernel finished it,
 * for less than W) showed the disk as it was at r_sub, and judged by the
 * processing time it declared dead a victim whose renewal landed just
 * after r_sub, inside its lease.  test_heartbeat
 * test_dead_verdict_not_aged_by_late_processing shows it on the engine.
 */
static void test_peer_read_counts_until_sub_plus_t(void **state)
{
	struct peer_view pv;
	struct hb_input hb = hb_make(INC_A, 7);
	uint64_t f = 5000, T = tmo.base.io_timeout_ms;
	uint64_t at = f + tmo.dead_ms;

	(void)state;
	peer_init(&pv);
	peer_observe_read(&pv, f - 1, f, &hb);
	peer_membership(&pv, f, false);
	assert_int_equal(peer_dead_at(&pv, &tmo), at);

	/* Submitted 1 ms too early, processed long after f + D. */
	peer_observe_read(&pv, at - T - 1, at + tmo.dead_ms, &hb);
	assert_false(peer_dead(&pv, &tmo));
	assert_int_not_equal(peer_state(&pv, at + tmo.dead_ms, &tmo),
			     PEER_DEAD);
	/* Submitted at f + D - T, completed at f + D: proof enough. */
	peer_observe_read(&pv, at - T, at, &hb);
	assert_true(peer_dead(&pv, &tmo));
	/* A later read never takes it back. */
	peer_observe_read(&pv, at + 10, at + 20, &hb);
	assert_true(peer_dead(&pv, &tmo));

	/* peer_observe times a read at one instant: as before. */
	peer_init(&pv);
	peer_observe(&pv, f, &hb);
	peer_membership(&pv, f, false);
	peer_observe(&pv, at - 1, &hb);
	assert_false(peer_dead(&pv, &tmo));
	peer_observe(&pv, at, &hb);
	assert_true(peer_dead(&pv, &tmo));
}

/*
 * Still for ages as a member (a quorate node that lost its disk), then it
 * leaves: dead at the first read after it left, D having long passed
 * since f.  Until issue 19 D counted from when it left (max(f, a) + D):
 * a quorate node with a lapsed lease kept feeding its watchdog, so its
 * reset was bounded only once it knew it was out.  Now it fenced itself
 * at f + L and was reset by f + L + W.
 */
static void test_peer_left_late(void **state)
{
	struct peer_view pv;
	struct hb_input hb = hb_make(INC_A, 7);
	uint64_t now;

	(void)state;
	peer_init(&pv);
	peer_membership(&pv, 0, true);
	peer_observe(&pv, 1000, &hb);
	for (now = 2000; now < 100000; now += 1000) {
		peer_observe(&pv, now, &hb);
		assert_false(peer_dead(&pv, &tmo));	/* a member */
	}
	peer_membership(&pv, 100000, false);
	assert_int_equal(peer_dead_at(&pv, &tmo), 1000 + (uint64_t)tmo.dead_ms);
	/* A read from before it left shows the counter D after f: enough
	 * (the fence op still waits for its own pill read back). */
	assert_true(peer_dead(&pv, &tmo));
	now = 100000 + 10;
	peer_observe(&pv, now, &hb);
	assert_true(peer_dead(&pv, &tmo));

	/* Back in the membership: not dead any more. */
	peer_membership(&pv, now + 1, true);
	assert_false(peer_dead(&pv, &tmo));
}

/*
 * Review s24-review2 F2: a victim of a build before the lapse rule (its
 * heartbeat lacks LAPSE_FENCES; a rolling upgrade) that loses its disk
 * while it believes it is quorate keeps feeding its watchdog until it
 * learns it is out: up to M after the others saw it leave (a).  Judged by
 * f + D it would be "dead" while it still runs and its clients still hold
 * their grants: two EX holders.  Such a peer is judged by the old bound,
 * max(f, a) + D + M; a peer carrying the flag by f + D.  Failed before
 * the flag (every peer judged by f + D).
 */
static void test_peer_old_build_waits_m(void **state)
{
	struct sdlm_timeouts_base b;
	struct sdlm_timeouts t;
	struct peer_view pv;
	struct hb_input old = hb_make_old(INC_A, 7), cur = hb_make(INC_B, 7);
	uint64_t m = 3650 + 4380, at;

	(void)state;
	assert_int_equal(timeouts_profile("default", &b), 0);
	b.membership_ms = (uint32_t)m;
	assert_int_equal(timeouts_derive(&b, &t, NULL), 0);

	/* Old build: f = 1000, a = 9000. */
	peer_init(&pv);
	peer_membership(&pv, 0, true);
	peer_observe(&pv, 1000, &old);
	peer_membership(&pv, 9000, false);
	at = 9000 + t.dead_ms + m;
	assert_int_equal(peer_dead_at(&pv, &t), at);
	peer_observe(&pv, 1000 + t.dead_ms, &old);	/* f + D: not yet */
	assert_false(peer_dead(&pv, &t));
	peer_observe(&pv, at - 1, &old);
	assert_false(peer_dead(&pv, &t));
	peer_observe(&pv, at, &old);
	assert_true(peer_dead(&pv, &t));
	/* f later than a: from f. */
	peer_init(&pv);
	peer_membership(&pv, 500, false);
	peer_observe(&pv, 1000, &old);
	assert_int_equal(peer_dead_at(&pv, &t), 1000 + t.dead_ms + m);

	/* It restarts on this build (new incarnation, flag): f + D. */
	peer_init(&pv);
	peer_membership(&pv, 0, true);
	peer_observe(&pv, 1000, &old);
	peer_membership(&pv, 9000, false);
	assert_int_equal(peer_observe(&pv, 9500, &cur), PEER_RESTARTED);
	assert_int_equal(peer_dead_at(&pv, &t), 9500 + t.dead_ms);
	/* The same (incarnation, counter) read once without the flag: the
	 * longer bound from then on (cannot happen with one writer). */
	cur.lapse_fences = false;
	peer_observe(&pv, 9600, &cur);
	assert_int_equal(peer_dead_at(&pv, &t), 9500 + t.dead_ms + m);
	cur.lapse_fences = true;
	peer_observe(&pv, 9700, &cur);
	assert_int_equal(peer_dead_at(&pv, &t), 9500 + t.dead_ms + m);
	/* Its counter moves (flag on): a new f, the short bound again. */
	cur.counter++;
	assert_int_equal(peer_observe(&pv, 9800, &cur), PEER_MOVED);
	assert_int_equal(peer_dead_at(&pv, &t), 9800 + t.dead_ms);
}

/*
 * The bound against each rule's proof (docs/timeouts.md, "Dead bound"),
 * for every f and a on a grid: a victim with the flag stopped feeding by
 * f + L and is reset by f + L + W; one without it stopped feeding by
 * max(f + L, a + M) (its lease, or learning it is out of the quorate
 * membership).  The verdict's read, submitted T before it completes, must
 * come after the reset: dead_at - T >= reset.
 */
static void test_peer_dead_at_covers_each_rule(void **state)
{
	struct sdlm_timeouts_base b;
	struct sdlm_timeouts t;
	struct peer_view pv;
	struct hb_input hb;
	uint64_t f, a, m, reset, at;
	int k;

	(void)state;
	assert_int_equal(timeouts_profile("default", &b), 0);
	for (m = 0; m <= 12000; m += 4015) {
		b.membership_ms = (uint32_t)m;
		assert_int_equal(timeouts_derive(&b, &t, NULL), 0);
		for (f = 1000; f <= 31000; f += 3000) {
			for (a = 0; a <= 40000; a += 2500) {
				for (k = 0; k < 2; k++) {
					hb = k ? hb_make(INC_A, 3) : hb_make_old(INC_A, 3);
					peer_init(&pv);
					peer_membership(&pv, a, false);
					peer_observe(&pv, f, &hb);
					at = peer_dead_at(&pv, &t);
					reset = k ? f + t.lease_ms + t.base.watchdog_ms
						  : (f + t.lease_ms > a + m ? f + t.lease_ms : a + m) +
						    t.base.watchdog_ms;
					assert_true(at - t.base.io_timeout_ms >= reset);
				}
			}
		}
	}
}

static void test_peer_membership_unknown_never_dead(void **state)
{
	struct peer_view pv;
	struct hb_input hb = hb_make(INC_A, 7);

	(void)state;
	peer_init(&pv);
	peer_observe(&pv, 0, &hb);
	peer_observe(&pv, 1000000, &hb);
	assert_false(peer_dead(&pv, &tmo));
	assert_int_equal(peer_dead_at(&pv, &tmo), UINT64_MAX);
	assert_int_equal(peer_state(&pv, 1000000, &tmo), PEER_STILL);
}

/* Our reads fail for a long time: nothing about the peer advances. */
static void test_peer_own_read_failures(void **state)
{
	struct peer_view pv;
	struct hb_input hb = hb_make(INC_A, 3);
	uint64_t now;

	(void)state;
	peer_init(&pv);
	peer_observe(&pv, 1000, &hb);
	peer_membership(&pv, 1000, false);
	for (now = 2000; now <= 60000; now += 1000) {
		assert_int_equal(peer_observe(&pv, now, NULL), PEER_SAME);
		assert_false(peer_dead(&pv, &tmo));
		/* Not proven live either. */
		if (now - 1000 > tmo.lease_ms)
			assert_int_equal(peer_state(&pv, now, &tmo),
					 PEER_STILL);
	}
	assert_int_equal(pv.pv_last_ok_ms, 1000);
	assert_int_equal(pv.pv_read_failures, 59);

	/* The next good read shows the counter moved meanwhile: alive. */
	hb.counter = 4;
	assert_int_equal(peer_observe(&pv, 61000, &hb), PEER_MOVED);
	assert_int_equal(pv.pv_read_failures, 0);
	assert_false(peer_dead(&pv, &tmo));
	assert_int_equal(peer_state(&pv, 61000, &tmo), PEER_LIVE);
	/* ... while one showing the same counter would have been enough. */
	peer_init(&pv);
	hb.counter = 3;
	peer_observe(&pv, 1000, &hb);
	peer_membership(&pv, 1000, false);
	peer_observe(&pv, 30000, NULL);
	assert_false(peer_dead(&pv, &tmo));
	peer_observe(&pv, 61000, &hb);
	assert_true(peer_dead(&pv, &tmo));
}

static void test_peer_restart_and_exit(void **state)
{
	struct peer_view pv;
	struct hb_input hb = hb_make(INC_A, 50);

	(void)state;
	peer_init(&pv);
	peer_observe(&pv, 1000, &hb);
	peer_membership(&pv, 1000, false);
	peer_observe(&pv, 1000 + tmo.dead_ms - 1, &hb);
	assert_false(peer_dead(&pv, &tmo));
	/* New daemon, counter restarted: a change like any other. */
	hb = hb_make(INC_B, 1);
	assert_int_equal(peer_observe(&pv, 1000 + tmo.dead_ms, &hb),
			 PEER_RESTARTED);
	assert_int_equal(pv.pv_restarts, 1);
	assert_false(peer_dead(&pv, &tmo));
	assert_int_equal(pv.pv_first_seen_ms, 1000 + tmo.dead_ms);

	hb.state = SM_SLOT_EXITING;
	peer_observe(&pv, 20000, &hb);
	assert_int_equal(peer_state(&pv, 20000, &tmo), PEER_EXITED);
	assert_string_equal(peer_state_name(PEER_EXITED), "exited");
}

/* ---- fence operation ----------------------------------------------- */

static void test_fence_ack_path(void **state)
{
	struct peer_view pv;
	struct fence_op op;
	struct fence_decision d;
	struct hb_input hb = hb_make(INC_A, 10);

	(void)state;
	peer_init(&pv);
	peer_observe(&pv, 0, &hb);
	peer_membership(&pv, 0, false);
	fence_op_init(&op, &tmo, &pv);

	assert_int_equal(fence_start(&op, 3, SM_CMD_RESET, 100, 4, INC_A, &d),
			 0);
	assert_int_equal(d.action, FENCE_ACT_WRITE_PILL);
	assert_int_equal(d.cmd, SM_CMD_RESET);
	assert_int_equal(d.seq, 5);
	assert_int_equal(d.target_incarnation, INC_A);
	assert_int_equal(op.fo_state, FENCE_PILL_PENDING);
	/* Busy while in flight. */
	assert_int_equal(fence_start(&op, 3, SM_CMD_RESET, 100, 4, INC_A, &d),
			 -EBUSY);
	assert_int_equal(fence_tick(&op, 200, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_NONE);

	assert_int_equal(fence_pill_written(&op, 300, 0, &d), 0);
	assert_int_equal(op.fo_state, FENCE_PILL_SENT);
	assert_int_equal(d.action, FENCE_ACT_NONE);
	/* A second completion for a write never issued is a caller bug. */
	assert_int_equal(fence_pill_written(&op, 300, 0, &d), -EINVAL);

	hb.counter++;
	peer_observe(&pv, 1000, &hb);
	assert_int_equal(fence_read(&op, 1000, NULL, &hb, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_NONE);
	assert_int_equal(fence_read(&op, 1500, NULL, NULL, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_NONE);

	hb = hb_ack(INC_A, 12, SM_CMD_RESET, 5, INC_A);
	peer_observe(&pv, 2000, &hb);
	assert_int_equal(fence_read(&op, 2000, NULL, &hb, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_DECLARE_ACK);
	assert_int_equal(op.fo_state, FENCE_ACKED);
	/* Declared once only. */
	assert_int_equal(fence_read(&op, 3000, NULL, &hb, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_NONE);
	assert_int_equal(fence_announced(&op), 0);
	assert_int_equal(op.fo_state, FENCE_FENCED);
	assert_int_equal(fence_cancel(&op), -EINVAL);
	assert_string_equal(fence_op_state_name(op.fo_state), "fenced");
}

static void test_fence_stale_acks_ignored(void **state)
{
	struct peer_view pv;
	struct fence_op op;
	struct fence_decision d;
	const struct hb_input stale[] = {
		hb_ack(INC_A, 11, SM_CMD_RESET, 4, INC_A),	/* older seq */
		hb_ack(INC_A, 12, SM_CMD_RESET, 5, INC_B),	/* other inc */
		hb_ack(INC_A, 13, SM_CMD_TEST, 5, INC_A),	/* a test ack */
		hb_ack(INC_A, 14, SM_CMD_RESET, 6, INC_A),	/* future seq */
		hb_ack(INC_A, 15, SM_CMD_RESET, 5, 0),		/* no target */
	};
	size_t k;

	(void)state;
	peer_init(&pv);
	fence_op_init(&op, &tmo, &pv);
	assert_int_equal(fence_start(&op, 3, SM_CMD_RESET, 0, 4, INC_A, &d),
			 0);
	assert_int_equal(fence_pill_written(&op, 10, 0, &d), 0);
	for (k = 0; k < sizeof(stale) / sizeof(stale[0]); k++) {
		peer_observe(&pv, 1000 * (k + 1), &stale[k]);
		assert_int_equal(fence_read(&op, 1000 * (k + 1), NULL, &stale[k],
					       &d), 0);
		assert_int_equal(d.action, FENCE_ACT_NONE);
		assert_int_equal(op.fo_state, FENCE_PILL_SENT);
		assert_int_equal(op.fo_seq, 5);
	}
	/* An OFF ack for a RESET pill is still "stopped": it counts. */
	{
		struct hb_input ok = hb_ack(INC_A, 20, SM_CMD_OFF, 5, INC_A);

		assert_int_equal(fence_read(&op, 9000, NULL, &ok, &d), 0);
		assert_int_equal(d.action, FENCE_ACT_DECLARE_ACK);
	}
}

/* The victim restarts during the fence, with our write still in flight. */
static void test_fence_victim_restarts(void **state)
{
	struct peer_view pv;
	struct fence_op op;
	struct fence_decision d;
	struct hb_input hb = hb_make(INC_A, 10);

	(void)state;
	peer_init(&pv);
	peer_observe(&pv, 0, &hb);
	fence_op_init(&op, &tmo, &pv);
	assert_int_equal(fence_start(&op, 3, SM_CMD_RESET, 0, 4, INC_A, &d),
			 0);
	assert_int_equal(d.seq, 5);

	hb = hb_make(INC_B, 1);
	assert_int_equal(peer_observe(&pv, 500, &hb), PEER_RESTARTED);
	assert_int_equal(fence_read(&op, 500, NULL, &hb, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_NONE);	/* seq 5 in flight */
	assert_int_equal(op.fo_repills, 1);
	assert_int_equal(op.fo_target, INC_B);

	/* The old write completes: stale, and the re-aimed pill goes out. */
	assert_int_equal(fence_pill_written(&op, 600, 0, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_WRITE_PILL);
	assert_int_equal(d.seq, 6);
	assert_int_equal(d.target_incarnation, INC_B);
	assert_int_equal(op.fo_state, FENCE_PILL_PENDING);
	assert_int_equal(fence_pill_written(&op, 700, 0, &d), 0);
	assert_int_equal(op.fo_state, FENCE_PILL_SENT);

	/* The new incarnation acking the old pill is stale ... */
	hb = hb_ack(INC_B, 2, SM_CMD_RESET, 5, INC_A);
	assert_int_equal(fence_read(&op, 1000, NULL, &hb, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_NONE);
	/* ... its ack of the re-aimed one counts. */
	hb = hb_ack(INC_B, 3, SM_CMD_RESET, 6, INC_B);
	assert_int_equal(fence_read(&op, 2000, NULL, &hb, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_DECLARE_ACK);
}

static void test_fence_resume(void **state)
{
	struct peer_view pv;
	struct fence_op op;
	struct fence_decision d;
	struct msg_input m = msg_make(SM_CMD_RESET, 9, INC_A);
	struct hb_input hb = hb_make(INC_A, 40);

	(void)state;
	peer_init(&pv);
	peer_observe(&pv, 0, &hb);

	/* Already acked on disk (pill and ack name the incarnation in the
	 * slot): declared at once. */
	hb = hb_ack(INC_A, 41, SM_CMD_RESET, 9, INC_A);
	fence_op_init(&op, &tmo, &pv);
	assert_int_equal(fence_resume(&op, 3, SM_CMD_RESET, 0, &m, &hb, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_DECLARE_ACK);

	/* A pill for a previous incarnation: a new one, seq + 1. */
	hb = hb_make(INC_B, 1);
	fence_op_init(&op, &tmo, &pv);
	assert_int_equal(fence_resume(&op, 3, SM_CMD_OFF, 0, &m, &hb, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_WRITE_PILL);
	assert_int_equal(d.seq, 10);
	assert_int_equal(d.cmd, SM_CMD_OFF);
	assert_int_equal(d.target_incarnation, INC_B);

	/* A test message is not a pill. */
	m = msg_make(SM_CMD_TEST, 12, INC_B);
	fence_op_init(&op, &tmo, &pv);
	assert_int_equal(fence_resume(&op, 3, SM_CMD_RESET, 0, &m, &hb, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_WRITE_PILL);
	assert_int_equal(d.seq, 13);

	fence_op_init(&op, &tmo, &pv);
	assert_int_equal(fence_resume(NULL, 3, SM_CMD_RESET, 0, &m, &hb, &d),
			 -EINVAL);
	assert_int_equal(fence_resume(&op, 3, SM_CMD_TEST, 0, &m, &hb, &d),
			 -EINVAL);
	assert_int_equal(fence_start(&op, 3, SM_CMD_TEST, 0, 1, INC_A, &d),
			 -EINVAL);
}

/* Write fails, retried one interval later; then the dead path wins. */
static void test_fence_retry_then_dead(void **state)
{
	struct peer_view pv;
	struct fence_op op;
	struct fence_decision d;
	struct hb_input hb = hb_make(INC_A, 10);
	struct msg_input m = msg_make(SM_CMD_RESET, 1, INC_A);
	uint64_t now, dead_at;
	int declared = 0;

	(void)state;
	peer_init(&pv);
	peer_observe(&pv, 0, &hb);
	peer_membership(&pv, 500, false);
	dead_at = 0 + (uint64_t)tmo.dead_ms;	/* f + D */
	fence_op_init(&op, &tmo, &pv);
	assert_int_equal(fence_start(&op, 3, SM_CMD_RESET, 1000, 0, INC_A, &d),
			 0);
	assert_int_equal(d.action, FENCE_ACT_WRITE_PILL);
	assert_int_equal(fence_pill_written(&op, 2000, SDLM_EIOTIMEOUT, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_NONE);
	assert_int_equal(d.wake_ms, 2000 + tmo.base.hb_interval_ms);
	assert_int_equal(fence_tick(&op, 2999, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_NONE);
	assert_int_equal(fence_tick(&op, 3000, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_WRITE_PILL);
	assert_int_equal(d.seq, 1);		/* same pill again */
	assert_int_equal(op.fo_write_failures, 1);
	assert_int_equal(fence_pill_written(&op, 3100, 0, &d), 0);
	assert_int_equal(d.wake_ms, dead_at);

	for (now = 4000; now < 30000; now += 1000) {
		peer_observe(&pv, now, &hb);
		assert_int_equal(fence_read(&op, now, &m, &hb, &d), 0);
		if (d.action == FENCE_ACT_DECLARE_DEAD) {
			declared++;
			assert_true(now >= dead_at);
			assert_true(now < dead_at + 1000);
		} else {
			assert_int_equal(d.action, FENCE_ACT_NONE);
		}
	}
	assert_int_equal(declared, 1);
	assert_int_equal(op.fo_state, FENCE_DEAD);
	assert_int_equal(fence_announced(&op), 0);
}

static void test_fence_already_dead_and_cancel(void **state)
{
	struct peer_view pv;
	struct fence_op op;
	struct fence_decision d;
	struct hb_input hb = hb_make(INC_A, 10);

	(void)state;
	peer_init(&pv);
	peer_observe(&pv, 0, &hb);
	fence_op_init(&op, &tmo, &pv);
	assert_int_equal(fence_start(&op, 3, SM_CMD_RESET, 0, 0, INC_A, &d),
			 0);
	assert_int_equal(fence_cancel(&op), 0);
	assert_int_equal(op.fo_state, FENCE_CANCELLED);
	assert_int_equal(fence_pill_written(&op, 10, 0, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_NONE);
	assert_int_equal(op.fo_state, FENCE_CANCELLED);
	assert_int_equal(fence_announced(&op), -EINVAL);
}

/*
 * Hole 3 of issue 13: a stale pill must never disarm a fence.  A pill for
 * "any incarnation" already in the slot is what a victim takes as its
 * baseline and ignores; even one naming it may be one it already handled.
 * The fencer writes its own, seq on disk + 1, naming the incarnation.
 */
static void test_fence_stale_pill_not_reused(void **state)
{
	struct peer_view pv;
	struct fence_op op;
	struct fence_decision d;
	struct msg_input any = msg_make(SM_CMD_RESET, 9, 0);
	struct msg_input named = msg_make(SM_CMD_RESET, 9, INC_A);
	struct hb_input hb = hb_make(INC_A, 40);

	(void)state;
	peer_init(&pv);
	peer_observe(&pv, 0, &hb);

	fence_op_init(&op, &tmo, &pv);
	assert_int_equal(fence_resume(&op, 3, SM_CMD_RESET, 0, &any, &hb, &d),
			 0);
	assert_int_equal(d.action, FENCE_ACT_WRITE_PILL);
	assert_int_equal(d.seq, 10);
	assert_int_equal(d.target_incarnation, INC_A);

	fence_op_init(&op, &tmo, &pv);
	assert_int_equal(fence_resume(&op, 3, SM_CMD_RESET, 0, &named, &hb,
				      &d), 0);
	assert_int_equal(d.action, FENCE_ACT_WRITE_PILL);
	assert_int_equal(d.seq, 10);
	assert_int_equal(d.target_incarnation, INC_A);
	/* The victim's ack of the old pill is not an ack of ours. */
	hb = hb_ack(INC_A, 41, SM_CMD_RESET, 9, 0);
	assert_int_equal(fence_read(&op, 500, NULL, &hb, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_NONE);
	assert_int_equal(fence_pill_written(&op, 600, 0, &d), 0);
	hb = hb_ack(INC_A, 42, SM_CMD_RESET, 10, INC_A);
	assert_int_equal(fence_read(&op, 1000, NULL, &hb, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_DECLARE_ACK);
}

/* An unreadable slot is read again; nothing is written until it reads. */
static void test_fence_unreadable_slot_reread(void **state)
{
	struct peer_view pv;
	struct fence_op op;
	struct fence_decision d;
	struct msg_input m = msg_make(SM_CMD_CLEAR, 20, 0);
	struct hb_input hb = hb_make(INC_A, 40);

	(void)state;
	peer_init(&pv);
	peer_observe(&pv, 0, &hb);

	/* Message slot unreadable: no seq is guessed. */
	fence_op_init(&op, &tmo, &pv);
	assert_int_equal(fence_resume(&op, 3, SM_CMD_RESET, 0, NULL, &hb, &d),
			 0);
	assert_int_equal(d.action, FENCE_ACT_NONE);
	assert_int_equal(op.fo_state, FENCE_PILL_PENDING);
	assert_int_equal(fence_tick(&op, 1000, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_NONE);
	assert_int_equal(fence_read(&op, 1000, NULL, &hb, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_NONE);
	assert_int_equal(fence_read(&op, 2000, &m, &hb, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_WRITE_PILL);
	assert_int_equal(d.seq, 21);
	assert_int_equal(d.target_incarnation, INC_A);

	/* Heartbeat slot unreadable: no "any incarnation" pill. */
	fence_op_init(&op, &tmo, &pv);
	assert_int_equal(fence_resume(&op, 3, SM_CMD_RESET, 0, &m, NULL, &d),
			 0);
	assert_int_equal(d.action, FENCE_ACT_NONE);
	assert_int_equal(fence_read(&op, 1000, &m, NULL, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_NONE);
	/* The message slot moved meanwhile: the later read counts. */
	m.seq = 25;
	assert_int_equal(fence_read(&op, 2000, &m, &hb, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_WRITE_PILL);
	assert_int_equal(d.seq, 26);
	assert_int_equal(d.target_incarnation, INC_A);

	/* A seq that cannot be topped: wait for the slot to be cleared. */
	m = msg_make(SM_CMD_TEST, UINT64_MAX, INC_A);
	fence_op_init(&op, &tmo, &pv);
	assert_int_equal(fence_resume(&op, 3, SM_CMD_RESET, 0, NULL, &hb, &d),
			 0);
	assert_int_equal(fence_read(&op, 1000, &m, &hb, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_NONE);
	m = msg_make(SM_CMD_CLEAR, 3, 0);
	assert_int_equal(fence_read(&op, 2000, &m, &hb, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_WRITE_PILL);
	assert_int_equal(d.seq, 4);

	/* Neither: still nothing; fence_start never takes an unknown one. */
	fence_op_init(&op, &tmo, &pv);
	assert_int_equal(fence_resume(&op, 3, SM_CMD_RESET, 0, NULL, NULL, &d),
			 0);
	assert_int_equal(d.action, FENCE_ACT_NONE);
	fence_op_init(&op, &tmo, &pv);
	assert_int_equal(fence_start(&op, 3, SM_CMD_RESET, 0, 4, 0, &d),
			 -EINVAL);
}

/*
 * The dead path writes its own pill and declares only once a read shows
 * it in the slot, even when a pill (stale or not) is there already and
 * the victim is dead by timeout before the fence starts.
 */
static void test_fence_dead_path_writes_own_pill(void **state)
{
	struct peer_view pv;
	struct fence_op op;
	struct fence_decision d;
	struct hb_input hb = hb_make(INC_A, 10);
	struct msg_input old = msg_make(SM_CMD_RESET, 9, 0);
	struct msg_input ours = msg_make(SM_CMD_RESET, 10, INC_A);
	struct msg_input cleared = msg_make(SM_CMD_CLEAR, 10, INC_A);
	uint64_t t0 = tmo.dead_ms, io = tmo.base.io_timeout_ms;

	(void)state;
	peer_init(&pv);
	peer_observe(&pv, 0, &hb);
	peer_membership(&pv, 0, false);
	peer_observe(&pv, t0, &hb);
	assert_true(peer_dead(&pv, &tmo));

	fence_op_init(&op, &tmo, &pv);
	assert_int_equal(fence_resume(&op, 3, SM_CMD_RESET, t0, &old, &hb, &d),
			 0);
	assert_int_equal(d.action, FENCE_ACT_WRITE_PILL);
	assert_int_equal(d.seq, 10);
	assert_int_equal(d.target_incarnation, INC_A);
	/* Written, not yet read back: not declared. */
	assert_int_equal(fence_pill_written(&op, t0 + 10, 0, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_NONE);
	assert_int_equal(fence_tick(&op, t0 + 20, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_NONE);
	/* A read that may have started before the write landed. */
	peer_observe(&pv, t0 + 30, &hb);
	assert_int_equal(fence_read(&op, t0 + 30, &old, &hb, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_NONE);
	/* Read back: dead, declared once. */
	peer_observe(&pv, t0 + 1000, &hb);
	assert_int_equal(fence_read(&op, t0 + 1000, &ours, &hb, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_DECLARE_DEAD);
	assert_int_equal(fence_read(&op, t0 + 2000, &ours, &hb, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_NONE);

	/* fence_start on a dead victim: a pill first, never at once. */
	fence_op_init(&op, &tmo, &pv);
	assert_int_equal(fence_start(&op, 3, SM_CMD_RESET, t0, 9, INC_A, &d),
			 0);
	assert_int_equal(d.action, FENCE_ACT_WRITE_PILL);
	assert_int_equal(d.seq, 10);
	assert_int_equal(fence_pill_written(&op, t0 + 10, 0, &d), 0);
	/* A read that started after the write completed and does not show
	 * it: the write is lost, the same pill again. */
	assert_int_equal(fence_read(&op, t0 + 10 + io, &old, &hb, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_WRITE_PILL);
	assert_int_equal(d.seq, 10);
	assert_int_equal(fence_pill_written(&op, t0 + 2000, 0, &d), 0);
	/* Somebody cleared the slot over it: a new pill above that. */
	assert_int_equal(fence_read(&op, t0 + 2000 + io, &cleared, &hb, &d),
			 0);
	assert_int_equal(d.action, FENCE_ACT_WRITE_PILL);
	assert_int_equal(d.seq, 11);
	assert_int_equal(op.fo_overwritten, 1);
	assert_int_equal(fence_pill_written(&op, t0 + 4000, 0, &d), 0);
	ours.seq = 11;
	assert_int_equal(fence_read(&op, t0 + 5000, &ours, &hb, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_DECLARE_DEAD);
}

/* A re-aimed pill goes above what the disk shows, not just our seq + 1. */
static void test_fence_repill_above_disk(void **state)
{
	struct peer_view pv;
	struct fence_op op;
	struct fence_decision d;
	struct hb_input hb = hb_make(INC_A, 10);
	struct msg_input m = msg_make(SM_CMD_TEST, 30, INC_A);

	(void)state;
	peer_init(&pv);
	peer_observe(&pv, 0, &hb);
	fence_op_init(&op, &tmo, &pv);
	assert_int_equal(fence_start(&op, 3, SM_CMD_RESET, 0, 4, INC_A, &d),
			 0);
	assert_int_equal(d.seq, 5);
	hb = hb_make(INC_B, 1);
	peer_observe(&pv, 500, &hb);
	assert_int_equal(fence_read(&op, 500, &m, &hb, &d), 0);
	assert_int_equal(fence_pill_written(&op, 600, 0, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_WRITE_PILL);
	assert_int_equal(d.seq, 31);
	assert_int_equal(d.target_incarnation, INC_B);
}

/* ---- self state ---------------------------------------------------- */

/*
 * Issue 19 item 3: a quorate node whose disk is gone fences itself once
 * its lease lapsed, as one without quorum does (until then it kept
 * feeding: the dead bound had to add M for it to learn it was out).
 * Failed on the code before the change: fed for ever.
 */
static void test_self_lease_with_quorum(void **state)
{
	struct self_state ss;
	struct self_decision d;
	uint64_t now;

	(void)state;
	self_init(&ss, &tmo, INC_A);
	assert_int_equal(self_may_use_locks(&ss, 0), SDLM_ELEASE);
	self_decide(&ss, 0, &d);
	assert_true(d.feed_watchdog);		/* nothing submitted yet */

	self_quorum(&ss, true);
	self_renew_submitted(&ss, 1000);
	self_renew_done(&ss, 1000, 0);
	assert_int_equal(self_may_use_locks(&ss, 1000), 0);
	assert_int_equal(self_may_use_locks(&ss, 1000 + tmo.lease_ms - 1), 0);
	assert_int_equal(self_may_use_locks(&ss, 1000 + tmo.lease_ms),
			 SDLM_ELEASE);

	/* Disk gone, quorum kept: fed while the lease lasts, not a moment
	 * after.  The decision runs at least once per I. */
	for (now = 2000; now < 1000 + tmo.lease_ms; now += 100) {
		if (now % 1000 == 0) {
			self_renew_submitted(&ss, now);
			self_renew_done(&ss, now, SDLM_EIOTIMEOUT);
		}
		self_decide(&ss, now, &d);
		assert_true(d.feed_watchdog);
		assert_int_equal(d.slot_state, SM_SLOT_ALIVE);
		assert_int_equal(d.use_err, 0);
	}
	assert_true(self_provably_quorate(&ss, now));
	self_decide(&ss, 1000 + tmo.lease_ms, &d);
	assert_false(d.feed_watchdog);
	assert_true(d.stop_locks);
	assert_int_equal(d.slot_state, SM_SLOT_FENCED_SELF);
	assert_int_equal(d.use_err, SDLM_EFENCED);
	assert_int_equal(ss.ss_self_fence_reason, SDLM_ELEASE);
	/* The last feed came while the lease was valid: reset by L + W
	 * after the last completed renewal's submission. */
	assert_int_equal(tmo.self_fence_ms, tmo.lease_ms + tmo.base.watchdog_ms);

	/* Sticky: the disk comes back, a late completion of an older write
	 * and a new renewal change nothing. */
	self_renew_done(&ss, 3000, 0);
	self_renew_submitted(&ss, 5000);
	self_renew_done(&ss, 5000, 0);
	assert_int_equal(ss.ss_lease_sub_ms, 5000);
	self_decide(&ss, 5010, &d);
	assert_false(d.feed_watchdog);
	assert_int_equal(self_may_use_locks(&ss, 5010), SDLM_EFENCED);
}

/* A late completion of an older write never moves the lease back. */
static void test_self_lease_never_back(void **state)
{
	struct self_state ss;

	(void)state;
	self_init(&ss, &tmo, INC_A);
	self_quorum(&ss, true);
	self_renew_done(&ss, 7000, 0);
	self_renew_done(&ss, 6500, 0);
	assert_int_equal(ss.ss_lease_sub_ms, 7000);
	assert_int_equal(self_may_use_locks(&ss, 7000 + tmo.lease_ms - 1), 0);
}

/*
 * A lease never held: renewals submitted, none seen complete (one may
 * have landed all the same: a peer takes its counter as our last life
 * sign, f).  The node fences itself L after its first submission, quorate
 * or not: the dead bound's step 2 counts from a submission <= f.  Failed
 * on the code before the change (no lease held: nothing to fence).
 */
static void test_self_lease_never_held(void **state)
{
	struct self_state ss;
	struct self_decision d;
	uint64_t now;

	(void)state;
	self_init(&ss, &tmo, INC_A);
	self_quorum(&ss, true);
	for (now = 0; now < 60000; now += 1000) {
		self_decide(&ss, now, &d);
		assert_true(d.feed_watchdog);	/* nothing submitted */
	}
	self_renew_submitted(&ss, 60000);
	for (now = 60000; now < 60000 + tmo.lease_ms; now += 100) {
		if (now % 1000 == 0 && now > 60000) {
			self_renew_done(&ss, now - 1000, SDLM_EIOTIMEOUT);
			self_renew_submitted(&ss, now);
		}
		self_decide(&ss, now, &d);
		assert_true(d.feed_watchdog);
		assert_int_equal(d.use_err, SDLM_ELEASE);
	}
	self_decide(&ss, 60000 + tmo.lease_ms, &d);
	assert_false(d.feed_watchdog);
	assert_int_equal(ss.ss_self_fence_reason, SDLM_ELEASE);

	/* One seen complete within L: a lease, and no fence. */
	self_init(&ss, &tmo, INC_A);
	self_quorum(&ss, true);
	self_renew_submitted(&ss, 1000);
	self_renew_submitted(&ss, 2000);
	self_renew_done(&ss, 2000, 0);
	self_decide(&ss, 1000 + tmo.lease_ms, &d);
	assert_true(d.feed_watchdog);
	assert_int_equal(d.use_err, 0);
}

/*
 * Review s24-review2 F5: a disk that takes reads but refuses writes (a
 * SCSI reservation held by another host, a thin LUN out of space, a
 * write-protected path) passes every start-up step; no renewal ever
 * completes and the never-held clause fences the node L after its first
 * write.  With a reset that is a reboot loop when sdlmd starts at boot.
 * A node that never held a lease in this incarnation never used a lock
 * or a UID (self_may_use_locks needs a valid lease) and its fence is
 * sticky: ending the process is as final as the reset.  The decision
 * says so (exit_never_held); a node that held a lease once is reset as
 * before.  Failed before the change (no such decision: always a reset).
 */
static void test_self_never_held_exits(void **state)
{
	struct self_state ss;
	struct self_decision d;
	uint64_t now;

	(void)state;
	self_init(&ss, &tmo, INC_A);
	self_quorum(&ss, true);
	for (now = 1000; now < 1000 + tmo.lease_ms; now += 1000) {
		self_renew_submitted(&ss, now);
		self_decide(&ss, now, &d);
		assert_true(d.feed_watchdog);
		assert_false(d.exit_never_held);
		self_renew_done(&ss, now, -EROFS);
	}
	self_decide(&ss, 1000 + tmo.lease_ms, &d);
	assert_false(d.feed_watchdog);
	assert_true(d.exit_never_held);
	assert_int_equal(ss.ss_self_fence_reason, SDLM_ELEASE);
	/* Sticky: a write that completes now gives no lease and changes
	 * nothing, nor does a pill read after it. */
	self_renew_submitted(&ss, 2000 + tmo.lease_ms);
	self_renew_done(&ss, 2000 + tmo.lease_ms, 0);
	self_msg_read(&ss, 2000 + tmo.lease_ms, NULL);
	self_decide(&ss, 2000 + tmo.lease_ms, &d);
	assert_false(d.feed_watchdog);
	assert_true(d.exit_never_held);
	assert_int_equal(self_may_use_locks(&ss, 2000 + tmo.lease_ms), SDLM_EFENCED);

	/* Held once, then the disk refuses writes: reset, no exit. */
	self_init(&ss, &tmo, INC_A);
	self_quorum(&ss, true);
	self_renew_submitted(&ss, 1000);
	self_renew_done(&ss, 1000, 0);
	self_decide(&ss, 1500, &d);
	assert_int_equal(d.use_err, 0);
	for (now = 2000; now < 1000 + tmo.lease_ms; now += 1000) {
		self_renew_submitted(&ss, now);
		self_renew_done(&ss, now, -EROFS);
		self_decide(&ss, now, &d);
		assert_true(d.feed_watchdog);
	}
	self_decide(&ss, 1000 + tmo.lease_ms, &d);
	assert_false(d.feed_watchdog);
	assert_false(d.exit_never_held);

	/* Never held, but fenced by a pill it acknowledged: reset (the
	 * fencer waits for the ack, then for the reset). */
	self_init(&ss, &tmo, INC_A);
	self_renew_submitted(&ss, 1000);
	self_read_submitted(&ss);
	{
		struct msg_input base = msg_make(SM_CMD_CLEAR, 1, 0);
		struct msg_input pill = msg_make(SM_CMD_RESET, 2, INC_A);

		self_msg_read(&ss, 1100, &base);
		self_msg_read(&ss, 1200, &pill);
	}
	self_clients_stopped(&ss, true);
	io_set(&ss, 0, false);
	self_decide(&ss, 1300, &d);
	assert_false(d.feed_watchdog);
	assert_true(d.ack_have);
	assert_false(d.exit_never_held);
}

static void test_self_lease_without_quorum(void **state)
{
	struct self_state ss;
	struct self_decision d;
	uint64_t now;

	(void)state;
	self_init(&ss, &tmo, INC_A);
	self_quorum(&ss, true);
	self_renew_done(&ss, 1000, 0);
	self_quorum(&ss, false);	/* quorum lost, lease still good */
	for (now = 1000; now < 1000 + tmo.lease_ms; now += 100) {
		self_decide(&ss, now, &d);
		assert_true(d.feed_watchdog);
		assert_int_equal(d.use_err, 0);	/* quorum not needed to use */
	}
	self_decide(&ss, now, &d);
	assert_false(d.feed_watchdog);
	assert_true(d.stop_locks);
	assert_int_equal(d.slot_state, SM_SLOT_FENCED_SELF);
	assert_int_equal(d.use_err, SDLM_EFENCED);
	assert_int_equal(ss.ss_self_fence_reason, SDLM_ELEASE);

	/* Sticky: disk and quorum back before the watchdog fires. */
	self_quorum(&ss, true);
	self_renew_done(&ss, now + 100, 0);
	self_decide(&ss, now + 200, &d);
	assert_false(d.feed_watchdog);
	assert_int_equal(self_may_use_locks(&ss, now + 200), SDLM_EFENCED);
}

/*
 * Issue 13, hole 6 (a hung corosync is not quorum) and issue 19 item 3:
 * what corosync answers no longer changes the self-fence rule.  A node
 * whose lease is valid is fed whatever corosync says; one whose lease
 * lapsed fences itself at once, even with corosync answering every
 * second (until issue 19 it waited until corosync had been silent for
 * M).  self_provably_quorate still says what the node believes.
 */
static void test_self_corosync_silent(void **state)
{
	struct sdlm_timeouts_base b;
	struct sdlm_timeouts t;
	struct self_state ss;
	struct self_decision d;
	uint64_t now, m;

	(void)state;
	assert_int_equal(timeouts_profile("default", &b), 0);
	b.membership_ms = 6000;
	assert_int_equal(timeouts_derive(&b, &t, NULL), 0);
	m = t.base.membership_ms;
	self_init(&ss, &t, INC_A);
	self_quorum(&ss, true);
	self_renew_done(&ss, 1000, 0);

	/* Lease valid, corosync silent far longer than M: locks in use, fed. */
	self_corosync_answered(&ss, 1000);
	assert_false(self_provably_quorate(&ss, 1000 + m + 1));
	self_decide(&ss, 1000 + t.lease_ms - 1, &d);
	assert_true(d.feed_watchdog);
	assert_int_equal(d.use_err, 0);

	/* Disk lost, corosync answering every second: fenced at the lapse. */
	for (now = 1000 + t.lease_ms - 500; now < 1000 + t.lease_ms; now += 100) {
		self_corosync_answered(&ss, now - 50);
		self_decide(&ss, now, &d);
		assert_true(d.feed_watchdog);
	}
	self_corosync_answered(&ss, now - 50);
	assert_true(self_provably_quorate(&ss, now));
	self_decide(&ss, now, &d);
	assert_false(d.feed_watchdog);
	assert_true(d.stop_locks);
	assert_int_equal(d.slot_state, SM_SLOT_FENCED_SELF);
	assert_int_equal(ss.ss_self_fence_reason, SDLM_ELEASE);
	/* An older stamp never moves the newest answer back. */
	self_corosync_answered(&ss, now - 3000);
	assert_int_equal(ss.ss_answer_asked_ms, now - 50);
	/* Sticky: corosync answering again does not undo it. */
	self_corosync_answered(&ss, now + m);
	self_decide(&ss, now + m + 1, &d);
	assert_false(d.feed_watchdog);

	/* Never told (disk-only or no probe): corosync's word alone. */
	self_init(&ss, &t, INC_A);
	self_quorum(&ss, true);
	assert_true(self_provably_quorate(&ss, UINT64_C(1) << 40));
	self_quorum(&ss, false);
	assert_false(self_provably_quorate(&ss, 0));
}

static void test_self_pill_stop_then_ack(void **state)
{
	struct self_state ss;
	struct self_decision d;
	struct msg_input m;

	(void)state;
	self_init(&ss, &tmo, INC_A);
	self_quorum(&ss, false);
	self_renew_done(&ss, 0, 0);

	/* Already there at start, for any incarnation: a previous life's. */
	m = msg_make(SM_CMD_RESET, 3, 0);
	self_msg_read(&ss, 100, &m);
	self_decide(&ss, 100, &d);
	assert_false(d.stop_locks);
	assert_int_equal(d.use_err, 0);
	/* For another incarnation: not ours. */
	m = msg_make(SM_CMD_RESET, 4, INC_B);
	self_msg_read(&ss, 200, &m);
	self_decide(&ss, 200, &d);
	assert_false(d.stop_locks);

	io_set(&ss, 2, true);	/* our read and a UID record write */
	self_clients_stopped(&ss, false);
	m = msg_make(SM_CMD_RESET, 5, INC_A);
	self_msg_read(&ss, 1000, &m);
	assert_int_equal(self_may_use_locks(&ss, 1000), SDLM_EPILL);
	self_decide(&ss, 1000, &d);
	assert_true(d.stop_locks);
	assert_false(d.ack_have);
	assert_true(d.feed_watchdog);

	assert_false(d.ack_waits_io);		/* clients not stopped yet */

	self_clients_stopped(&ss, true);	/* I/O still in flight */
	self_decide(&ss, 1100, &d);
	assert_false(d.ack_have);
	assert_true(d.ack_waits_io);
	assert_true(d.feed_watchdog);

	self_clients_stopped(&ss, false);
	io_set(&ss, 1, true);	/* only our read: clients not stopped */
	self_decide(&ss, 1200, &d);
	assert_false(d.ack_have);

	self_clients_stopped(&ss, true);
	self_decide(&ss, 1300, &d);
	assert_true(d.ack_have);
	assert_false(d.ack_waits_io);
	assert_int_equal(d.ack_cmd, SM_CMD_RESET);
	assert_int_equal(d.ack_seq, 5);
	assert_int_equal(d.ack_incarnation, INC_A);
	assert_false(d.feed_watchdog);
	assert_int_equal(d.slot_state, SM_SLOT_FENCED_SELF);
	assert_int_equal(d.use_err, SDLM_EFENCED);

	/* The same pill re-read is not handled twice; a newer one is acked
	 * at once (already stopped and drained); a test does not hide it. */
	self_msg_read(&ss, 2000, &m);
	m = msg_make(SM_CMD_TEST, 6, 0);
	self_msg_read(&ss, 2100, &m);
	self_decide(&ss, 2100, &d);
	assert_int_equal(d.ack_seq, 5);
	m = msg_make(SM_CMD_OFF, 7, 0);
	self_msg_read(&ss, 3000, &m);
	self_decide(&ss, 3000, &d);
	assert_int_equal(d.ack_cmd, SM_CMD_OFF);
	assert_int_equal(d.ack_seq, 7);
	assert_int_equal(d.ack_incarnation, 0);
}

static void test_self_test_clear_and_drain(void **state)
{
	struct self_state ss;
	struct self_decision d;
	struct msg_input m;

	(void)state;
	self_init(&ss, &tmo, INC_A);
	self_quorum(&ss, true);
	self_renew_done(&ss, 0, 0);
	m = msg_make(SM_CMD_CLEAR, 1, 0);
	self_msg_read(&ss, 100, &m);		/* baseline */
	m = msg_make(SM_CMD_TEST, 2, 0);
	self_msg_read(&ss, 1000, &m);
	self_decide(&ss, 1000, &d);
	assert_true(d.ack_have);
	assert_int_equal(d.ack_cmd, SM_CMD_TEST);
	assert_int_equal(d.ack_seq, 2);
	assert_false(d.stop_locks);
	assert_true(d.feed_watchdog);
	assert_int_equal(d.use_err, 0);
	m = msg_make(SM_CMD_CLEAR, 3, 0);
	self_msg_read(&ss, 1500, &m);
	self_decide(&ss, 1500, &d);
	assert_false(d.stop_locks);
	assert_int_equal(d.use_err, 0);

	/* A pill that cannot be drained: the feed stops after drain_ms. */
	self_renew_done(&ss, 2000, 0);
	m = msg_make(SM_CMD_RESET, 4, 0);
	self_msg_read(&ss, 2000, &m);
	self_decide(&ss, 2000 + tmo.drain_ms - 1, &d);
	assert_true(d.feed_watchdog);
	assert_true(d.stop_locks);
	self_decide(&ss, 2000 + tmo.drain_ms, &d);
	assert_false(d.feed_watchdog);
	assert_false(d.ack_have && d.ack_seq == 4);
	assert_int_equal(ss.ss_self_fence_reason, SDLM_EPILL);
}

static void test_self_duplicate_writer(void **state)
{
	struct self_state ss;
	struct hb_input own = hb_make(INC_B, 900);	/* predecessor's */

	(void)state;
	self_init(&ss, &tmo, INC_A);
	self_quorum(&ss, true);
	self_renew_done(&ss, 0, 0);
	/* The previous incarnation's record, before ours lands: fine. */
	assert_int_equal(self_own_read(&ss, 100, &own), 0);
	own.counter = 901;
	assert_int_equal(self_own_read(&ss, 200, &own), 0);
	own = hb_make(INC_A, 1);
	assert_int_equal(self_own_read(&ss, 1000, &own), 0);
	/* One late write of the predecessor after ours: not yet a writer. */
	own = hb_make(INC_B, 902);
	assert_int_equal(self_own_read(&ss, 2000, &own), 0);
	assert_int_equal(self_own_read(&ss, 2500, NULL), 0);
	own = hb_make(INC_A, 3);
	assert_int_equal(self_own_read(&ss, 3000, &own), 0);
	self_renew_done(&ss, 2500, 0);
	assert_int_equal(self_may_use_locks(&ss, 3000), 0);
	/* Its counter moved again: somebody is writing our slot. */
	own = hb_make(INC_B, 903);
	assert_int_equal(self_own_read(&ss, 4000, &own), SDLM_EDUPWRITER);
	assert_int_equal(self_may_use_locks(&ss, 4000), SDLM_EDUPWRITER);
	own = hb_make(INC_A, 5);
	assert_int_equal(self_own_read(&ss, 5000, &own), SDLM_EDUPWRITER);
}

/*
 * Issue 19 item 4: early ticks (self_early_tick_at) never make a peer's
 * clock check see a pause that did not happen.  A writer ticks every I
 * (+ up to I/10 late) and is asked for early ticks at random moments; a
 * reader reads every I (+ jitter, I/O latency up to T, now and then a
 * stall of its own short of its lease) and runs the engine's check
 * (heartbeat.c clock_check: the window from the submission of the read
 * before the one that showed the counter it held).  The rule as built
 * never reports a miss; without its I/2 gap, some run does (so the
 * simulation can fail).  Without the rate limit no run here does either
 * (printed): the limit is margin for windows these runs do not reach.
 */
enum early_rule { EARLY_RULE, EARLY_NO_RATE, EARLY_NO_GAP };

static uint32_t sim_rand(uint64_t *x)
{
	*x = *x * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*x >> 33);
}

/* Returns the largest miss any read reported over one run of n_ms. */
static uint64_t early_sim(uint64_t seed, enum early_rule rule, uint64_t n_ms)
{
	const uint64_t i = tmo.base.hb_interval_ms, io = tmo.base.io_timeout_ms;
	static uint64_t land[4096];	/* landing time of write k (counter k) */
	uint64_t x = seed, now, next_tick = 100, last_sub = 0, last_early = 0;
	uint64_t want = 0, n_w = 0, worst = 0;
	/* reader */
	uint64_t r_sub = 50, r_prev_sub = 0, held = 0, base = 0;
	bool have = false, base_have = false;

	for (now = 0; now < n_ms && n_w < 4096; now++) {
		bool tick = now >= next_tick;

		if (!want && sim_rand(&x) % 300 == 0)
			want = now;		/* a hand-off answer is final */
		if (!tick && want) {
			uint64_t at = rule == EARLY_NO_GAP ? last_sub :
				      self_early_tick_at(last_sub, rule == EARLY_NO_RATE ? 0 : last_early,
							 &tmo);

			if (now >= at && now - last_sub < i) {
				tick = true;
				last_early = now;
			}
		}
		if (tick) {
			want = 0;
			last_sub = now;
			land[n_w++] = now + sim_rand(&x) % (io / 4 + 1);
			next_tick = now + i + sim_rand(&x) % (i / 10 + 1);
		}
		if (now == r_sub) {
			uint64_t lat = sim_rand(&x) % (io + 1), sample = now + lat, proc = sample, c = 0, k;

			if (sim_rand(&x) % 50 == 0)
				proc += sim_rand(&x) % (tmo.lease_ms - i);	/* our stall */
			for (k = 0; k < n_w; k++)
				if (land[k] <= sample)
					c = k + 1;
			if (have && c > held) {
				if (base_have) {
					uint64_t m = clock_missed_ms(proc - base, c - held,
								     (uint32_t)i, (uint32_t)i);

					if (m > worst)
						worst = m;
				}
				base = r_prev_sub;
				base_have = true;
			}
			have = true;
			held = c;
			r_prev_sub = now;
			r_sub = proc + 1 + (i - sim_rand(&x) % (i / 10 + 1)) / 1;
		}
	}
	return worst;
}

static void test_early_tick_no_false_pause(void **state)
{
	uint64_t seed, bad_rate = 0, bad_gap = 0;

	(void)state;
	assert_int_equal(self_early_tick_at(1000, 0, &tmo), 1000 + tmo.base.hb_interval_ms / 2);
	assert_int_equal(self_early_tick_at(1000, 900, &tmo),
			 900 + 4ull * tmo.base.hb_interval_ms + 2ull * tmo.base.io_timeout_ms);
	for (seed = 1; seed <= 60; seed++) {
		assert_int_equal(early_sim(seed, EARLY_RULE, 120000), 0);
		bad_rate += early_sim(seed, EARLY_NO_RATE, 120000) > 0;
		bad_gap += early_sim(seed, EARLY_NO_GAP, 120000) > 0;
	}
	print_message("early ticks: runs with a false pause: rule 0, no rate limit %llu, no gap %llu (of 60)\n",
		      (unsigned long long)bad_rate, (unsigned long long)bad_gap);
	assert_true(bad_gap > 0);
}

/*
 * Review s28-revearly: clock_missed_early_ms.  A window shorter than
 * 4I + 2T is judged as by clock_missed_ms; a longer one (failed reads of
 * ours stretched it) allows I/2 per whole 4I + 2T for the peer's early
 * writes: the most the rule lets a healthy peer write in it reads as no
 * pause, and a real pause of a few intervals is still seen.
 */
static void test_clock_missed_early(void **state)
{
	const uint64_t i = tmo.base.hb_interval_ms, io = tmo.base.io_timeout_ms;
	const uint64_t rate = 4 * i + 2 * io;
	uint64_t w, e, n, r;

	(void)state;
	assert_int_equal(rate % i, 0);
	assert_int_equal(i % 2, 0);
	for (w = 0; w < rate; w += i / 4)
		for (n = 2; n < 40; n++)
			assert_int_equal(clock_missed_early_ms(w, n, (uint32_t)i, (uint32_t)i, &tmo),
					 clock_missed_ms(w, n, (uint32_t)i, (uint32_t)i));
	/* The densest writer the rule allows: e early gaps of I/2, each early
	 * write at least 4I + 2T after the one before (rate / I regular gaps
	 * between them), its n writes spanning exactly the window w. */
	for (e = 1; e <= 12; e++) {
		r = (e - 1) * (rate / i);
		w = e * (i / 2) + r * i;
		n = 1 + e + r;
		assert_int_equal(clock_missed_early_ms(w, n, (uint32_t)i, (uint32_t)i, &tmo), 0);
		/* From three early writes on, the plain check sees a pause. */
		if (e >= 3)
			assert_true(clock_missed_ms(w, n, (uint32_t)i, (uint32_t)i) > 0);
	}
	/* A pause of 3I in a long window (4 rates: the allowance 2I) is
	 * still seen, all of it. */
	w = 4 * rate;
	n = 1 + (w + i + 2 * i + 3 * i) / i;
	assert_int_equal(clock_missed_early_ms(w, n, (uint32_t)i, (uint32_t)i, &tmo), 3 * i);
}

/*
 * Issue 13, hole 8: a pause our clock did not count, seen in a peer's
 * counter; the lease counts as lapsed, a write submitted before it renews
 * nothing, one submitted after does.
 */
static void test_self_clock_missed(void **state)
{
	const uint32_t i = tmo.base.hb_interval_ms;
	struct self_state ss;
	struct self_decision d;
	struct msg_input m = msg_make(SM_CMD_CLEAR, 0, 0);

	(void)state;
	/* Normal pace, jitter, a slow reader: nothing missed. */
	assert_int_equal(clock_missed_ms(10 * i, 11, i, i), 0);
	assert_int_equal(clock_missed_ms(10 * i, 12, i, i), 0);
	assert_int_equal(clock_missed_ms(30 * i, 2, i, i), 0);
	assert_int_equal(clock_missed_ms(0, 1, i, i), 0);
	assert_int_equal(clock_missed_ms(0, 0, i, i), 0);
	/* 30 writes in one interval of ours: at least 27 intervals missed. */
	assert_int_equal(clock_missed_ms(i, 31, i, i), 28 * (uint64_t)i);
	assert_int_equal(clock_missed_ms(i, UINT64_MAX, i, i), UINT64_MAX);

	self_init(&ss, &tmo, INC_A);
	self_quorum(&ss, true);
	self_renew_submitted(&ss, 1000);
	self_renew_submitted(&ss, 1900);
	self_renew_done(&ss, 1000, 0);
	assert_int_equal(self_may_use_locks(&ss, 2000), 0);
	self_clock_missed(&ss, 2000);
	assert_int_equal(self_may_use_locks(&ss, 2000), SDLM_ELEASE);
	assert_int_equal(ss.ss_clock_misses, 1);
	/* (No decision until the end: a lapse, quorate or not, fences.)
	 * The write submitted before the pause completes now: void. */
	self_renew_done(&ss, 1900, 0);
	assert_int_equal(self_may_use_locks(&ss, 2100), SDLM_ELEASE);
	/* One submitted after: the lease is back, once a read submitted
	 * after it has shown our message slot. */
	self_renew_submitted(&ss, 2200);
	self_renew_done(&ss, 2200, 0);
	assert_int_equal(self_may_use_locks(&ss, 2300), SDLM_ELEASE);
	self_read_submitted(&ss);
	self_msg_read(&ss, 2300, &m);
	assert_int_equal(self_may_use_locks(&ss, 2300), 0);

	/* A decision while the pause counts as a lapse: quorate, the node
	 * self-fences like any other (issue 19 item 3). */
	self_init(&ss, &tmo, INC_A);
	self_quorum(&ss, true);
	self_renew_submitted(&ss, 1000);
	self_renew_done(&ss, 1000, 0);
	self_clock_missed(&ss, 1500);
	self_decide(&ss, 1500, &d);
	assert_false(d.feed_watchdog);
	assert_int_equal(d.use_err, SDLM_EFENCED);

	/* Not quorate: a lapse like any other, the node self-fences. */
	self_init(&ss, &tmo, INC_A);
	self_quorum(&ss, false);
	self_renew_submitted(&ss, 1000);
	self_renew_done(&ss, 1000, 0);
	self_clock_missed(&ss, 1500);
	self_decide(&ss, 1500, &d);
	assert_false(d.feed_watchdog);
	assert_int_equal(d.use_err, SDLM_EFENCED);
}

/* ---- whole timelines ----------------------------------------------- */

struct sim_disk {
	struct hb_input hb;		/* the victim's heartbeat slot */
	struct msg_input msg;		/* the victim's message slot */
};

/*
 * Ack path, instant I/O: victim's cycle (read, then write) at k*I + 300,
 * fencer's read at k*I + 700.  The fence starts at 10000; the ack must be
 * seen within two intervals (and within the worst-case bound ack_ms).
 */
static void test_timeline_ack_path(void **state)
{
	const uint64_t i = tmo.base.hb_interval_ms;
	struct sim_disk disk = { .hb = hb_make(INC_A, 0),
				 .msg = msg_make(SM_CMD_CLEAR, 7, 0) };
	struct self_state victim;
	struct self_decision sd;
	struct peer_view pv;
	struct fence_op op;
	struct fence_decision fd;
	uint64_t now, start = 10000, acked_at = 0, stopped_at = 0;
	bool started = false;

	(void)state;
	self_init(&victim, &tmo, INC_A);
	self_quorum(&victim, false);	/* cut off from the cluster network */
	peer_init(&pv);
	peer_membership(&pv, 0, true);
	fence_op_init(&op, &tmo, &pv);

	for (now = 0; now < 30000 && !acked_at; now += 100) {
		if (now % i == 300) {
			self_msg_read(&victim, now, &disk.msg);
			self_own_read(&victim, now, &disk.hb);
			/* The clients stop at once when told; no I/O pending. */
			self_decide(&victim, now, &sd);
			if (sd.stop_locks && !stopped_at) {
				stopped_at = now;
				self_clients_stopped(&victim, true);
				io_set(&victim, 0, false);
				self_decide(&victim, now, &sd);
			}
			disk.hb.counter++;
			disk.hb.state = sd.slot_state;
			if (sd.ack_have) {
				disk.hb.ack_cmd = sd.ack_cmd;
				disk.hb.ack_seq = sd.ack_seq;
				disk.hb.ack_incarnation = sd.ack_incarnation;
			}
			self_renew_submitted(&victim, now);
			self_renew_done(&victim, now, 0);
		}
		if (now == start) {
			peer_membership(&pv, now, false);
			assert_int_equal(fence_start(&op, 2, SM_CMD_RESET, now,
						     disk.msg.seq,
						     pv.pv_incarnation, &fd), 0);
			assert_int_equal(fd.action, FENCE_ACT_WRITE_PILL);
			disk.msg = msg_make(fd.cmd, fd.seq,
					    fd.target_incarnation);
			assert_int_equal(fence_pill_written(&op, now, 0, &fd),
					 0);
			started = true;
		}
		if (now % i == 700) {
			peer_observe(&pv, now, &disk.hb);
			if (started) {
				fence_read(&op, now, &disk.msg, &disk.hb, &fd);
				assert_true(fd.action == FENCE_ACT_NONE ||
					    fd.action == FENCE_ACT_DECLARE_ACK);
				if (fd.action == FENCE_ACT_DECLARE_ACK)
					acked_at = now;
			}
		}
		/* Until it stopped, the victim used its locks (lease valid,
		 * quorum not needed); after, never again. */
		if (stopped_at && now >= stopped_at)
			assert_int_not_equal(self_may_use_locks(&victim, now),
					     0);
		else if (now >= 300)
			assert_int_equal(self_may_use_locks(&victim, now), 0);
	}
	assert_true(acked_at > 0);
	assert_int_equal(disk.msg.seq, 8);
	assert_true(stopped_at > start);
	assert_true(acked_at - start <= 2 * i);
	assert_true(acked_at - start <= tmo.ack_ms);
	self_decide(&victim, acked_at, &sd);
	assert_false(sd.feed_watchdog);
}

/*
 * Dead path: the victim loses the disk at 5000 (its writes fail from
 * then on, its process keeps running) and leaves the membership at
 * 5600, but goes on believing it is quorate (its corosync lags: M
 * unbounded).  The fencer reads every interval.  Checked: the fencer
 * declares dead exactly on its first read at or after f + D, and by then
 * the victim stopped feeding at least W earlier (so the watchdog has
 * reset it) and stopped using locks before that.  Failed on the code
 * before issue 19 item 3: the quorate victim fed its watchdog for ever.
 */
static void test_timeline_dead_path(void **state)
{
	const uint64_t i = tmo.base.hb_interval_ms;
	const uint64_t w = tmo.base.watchdog_ms;
	struct sim_disk disk = { .hb = hb_make(INC_A, 0) };
	struct self_state victim;
	struct self_decision sd;
	struct peer_view pv;
	struct fence_op op;
	struct fence_decision fd;
	uint64_t now, away = 5600, declared = 0, last_feed = 0, last_use = 0;
	uint64_t f_seen = 0;
	bool started = false;

	(void)state;
	self_init(&victim, &tmo, INC_A);
	self_quorum(&victim, true);
	peer_init(&pv);
	peer_membership(&pv, 0, true);
	fence_op_init(&op, &tmo, &pv);

	for (now = 0; now < 40000 && !declared; now += 100) {
		if (now == away) {
			/* The victim is not told: still "quorate". */
			peer_membership(&pv, now, false);
			assert_int_equal(fence_start(&op, 2, SM_CMD_RESET, now,
						     0, pv.pv_incarnation,
						     &fd), 0);
			assert_int_equal(fd.action, FENCE_ACT_WRITE_PILL);
			/* The pill lands but the victim cannot read it. */
			disk.msg = msg_make(fd.cmd, fd.seq,
					    fd.target_incarnation);
			assert_int_equal(fence_pill_written(&op, now, 0, &fd),
					 0);
			started = true;
		}
		if (now % i == 300) {
			self_renew_submitted(&victim, now);
			if (now < 5000) {
				disk.hb.counter++;
				self_renew_done(&victim, now, 0);
			} else {
				self_renew_done(&victim, now, SDLM_EIOTIMEOUT);
			}
		}
		self_decide(&victim, now, &sd);
		if (sd.feed_watchdog)
			last_feed = now;
		if (self_may_use_locks(&victim, now) == 0)
			last_use = now;
		if (now % i == 700) {
			if (peer_observe(&pv, now, &disk.hb) != PEER_SAME)
				f_seen = now;
			if (started) {
				fence_read(&op, now, &disk.msg, &disk.hb, &fd);
				if (fd.action == FENCE_ACT_DECLARE_DEAD)
					declared = now;
				else
					assert_int_equal(fd.action,
							 FENCE_ACT_NONE);
			}
		}
	}
	assert_true(declared > 0);
	assert_int_equal(f_seen, 4700);
	assert_true(declared >= f_seen + tmo.dead_ms);
	assert_true(declared < f_seen + tmo.dead_ms + i);
	assert_true(self_provably_quorate(&victim, declared));
	/* The safety claim: reset (last feed + W) before the declaration. */
	assert_true(last_feed + w <= declared);
	assert_true(last_use < last_feed + 100);
	assert_true(last_use < 4300 + tmo.lease_ms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peer_normal_liveness),
		cmocka_unit_test(test_peer_dead_after_D),
		cmocka_unit_test(test_peer_read_counts_until_sub_plus_t),
		cmocka_unit_test(test_peer_left_late),
		cmocka_unit_test(test_peer_old_build_waits_m),
		cmocka_unit_test(test_peer_dead_at_covers_each_rule),
		cmocka_unit_test(test_peer_membership_unknown_never_dead),
		cmocka_unit_test(test_peer_own_read_failures),
		cmocka_unit_test(test_peer_restart_and_exit),
		cmocka_unit_test(test_fence_ack_path),
		cmocka_unit_test(test_fence_stale_acks_ignored),
		cmocka_unit_test(test_fence_victim_restarts),
		cmocka_unit_test(test_fence_resume),
		cmocka_unit_test(test_fence_retry_then_dead),
		cmocka_unit_test(test_fence_already_dead_and_cancel),
		cmocka_unit_test(test_fence_stale_pill_not_reused),
		cmocka_unit_test(test_fence_unreadable_slot_reread),
		cmocka_unit_test(test_fence_dead_path_writes_own_pill),
		cmocka_unit_test(test_fence_repill_above_disk),
		cmocka_unit_test(test_self_lease_with_quorum),
		cmocka_unit_test(test_self_lease_never_back),
		cmocka_unit_test(test_self_lease_never_held),
		cmocka_unit_test(test_self_never_held_exits),
		cmocka_unit_test(test_self_lease_without_quorum),
		cmocka_unit_test(test_self_corosync_silent),
		cmocka_unit_test(test_self_pill_stop_then_ack),
		cmocka_unit_test(test_self_test_clear_and_drain),
		cmocka_unit_test(test_self_duplicate_writer),
		cmocka_unit_test(test_self_clock_missed),
		cmocka_unit_test(test_early_tick_no_false_pause),
		cmocka_unit_test(test_clock_missed_early),
		cmocka_unit_test(test_timeline_ack_path),
		cmocka_unit_test(test_timeline_dead_path),
	};

	return cmocka_run_group_tests(tests, setup_default, NULL);
}
