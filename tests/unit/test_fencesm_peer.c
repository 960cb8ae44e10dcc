/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_fencesm_peer.c - what this node's reads say about another node,
 * the verdicts that used to be decided in sdlmd.c and now are fencesm's
 * (issue 18, item 3): a pill pending for its current life (the lockspace
 * fencer's NODE_STATUS), whether the cold-start gate may open without it,
 * and what degraded UID mode may assume of it.  And the dead path's own
 * pill: a pill already in the slot is never the one that fences.
 *
 * Synthetic time, as test_fencesm.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sdlm_errors.h"
#include "fencesm_fixture.h"

static struct hb_input hb_state(uint64_t inc, uint64_t counter, uint32_t st)
{
	struct hb_input hb = hb_make(inc, counter);

	hb.state = st;
	return hb;
}

static struct peer_slots slots(const struct hb_input *hb,
			       const struct msg_input *msg, bool fenced)
{
	struct peer_slots ps = { .in_area = true, .hb = hb, .msg = msg,
				 .fenced = fenced };
	return ps;
}

static void test_peer_pill_pending(void **state)
{
	struct hb_input hb = hb_state(INC_A, 5, SM_SLOT_ALIVE);
	struct msg_input reset = msg_make(SM_CMD_RESET, 3, INC_A);
	struct msg_input off_any = msg_make(SM_CMD_OFF, 3, 0);
	struct msg_input earlier = msg_make(SM_CMD_RESET, 3, INC_B);
	struct msg_input test = msg_make(SM_CMD_TEST, 3, INC_A);
	struct msg_input clear = msg_make(SM_CMD_CLEAR, 3, INC_A);
	struct peer_slots ps;

	(void)state;
	ps = slots(&hb, &reset, false);
	assert_true(peer_pill_pending(&ps));
	ps = slots(&hb, &off_any, false);
	assert_true(peer_pill_pending(&ps));
	/* Aimed at an earlier life: not this one's. */
	ps = slots(&hb, &earlier, false);
	assert_false(peer_pill_pending(&ps));
	/* Heartbeat slot unread: cannot tell which life, so it counts. */
	ps = slots(NULL, &earlier, false);
	assert_true(peer_pill_pending(&ps));
	/* Not pills. */
	ps = slots(&hb, &test, false);
	assert_false(peer_pill_pending(&ps));
	ps = slots(&hb, &clear, false);
	assert_false(peer_pill_pending(&ps));
	/* Message slot unread, or no slot at all: nothing seen. */
	ps = slots(&hb, NULL, false);
	assert_false(peer_pill_pending(&ps));
	ps = slots(NULL, NULL, false);
	ps.in_area = false;
	assert_false(peer_pill_pending(&ps));
}

/*
 * The cold-start gate: only a clean exit or a fence clears a node.  Dead
 * by timeout does not (docs/model.md, finding 3): a node paused with its
 * watchdog can come back still caching its locks.
 */
static void test_peer_cold_ok(void **state)
{
	struct hb_input alive = hb_state(INC_A, 5, SM_SLOT_ALIVE);
	struct hb_input freed = hb_state(INC_A, 6, SM_SLOT_FREE);
	struct hb_input exiting = hb_state(INC_A, 6, SM_SLOT_EXITING);
	struct hb_input selffenced = hb_state(INC_A, 6, SM_SLOT_FENCED_SELF);
	struct peer_view pv;
	struct peer_slots ps;
	uint64_t t = tmo.dead_ms + 1000;

	(void)state;
	peer_init(&pv);
	peer_observe(&pv, 0, &alive);
	peer_membership(&pv, 0, false);
	peer_observe(&pv, t, &alive);
	assert_int_equal(peer_state(&pv, t, &tmo), PEER_DEAD);

	ps = slots(&alive, NULL, false);
	assert_false(peer_cold_ok(&ps, &pv, t, &tmo));	/* dead: not enough */
	ps = slots(&alive, NULL, true);
	assert_true(peer_cold_ok(&ps, &pv, t, &tmo));	/* fenced by us */
	ps = slots(&freed, NULL, false);
	assert_true(peer_cold_ok(&ps, &pv, t, &tmo));
	ps = slots(&exiting, NULL, false);
	assert_true(peer_cold_ok(&ps, &pv, t, &tmo));
	/* Fenced itself: its watchdog may not have fired yet. */
	ps = slots(&selffenced, NULL, false);
	peer_observe(&pv, t + 1, &selffenced);
	assert_false(peer_cold_ok(&ps, &pv, t + 1, &tmo));
	/* Unread: cannot tell, not safe. */
	ps = slots(NULL, NULL, true);
	assert_false(peer_cold_ok(&ps, &pv, t, &tmo));
	/* No slot in the area: never ran here. */
	ps.in_area = false;
	assert_true(peer_cold_ok(&ps, &pv, t, &tmo));
	/* The current read failed, but the last sample showed it exited. */
	peer_init(&pv);
	peer_observe(&pv, 0, &freed);
	ps = slots(&alive, NULL, false);
	assert_true(peer_cold_ok(&ps, &pv, 0, &tmo));
}

static void test_peer_seen(void **state)
{
	struct hb_input alive = hb_state(INC_A, 5, SM_SLOT_ALIVE);
	struct hb_input freed = hb_state(INC_A, 6, SM_SLOT_FREE);
	struct hb_input selffenced = hb_state(INC_A, 6, SM_SLOT_FENCED_SELF);
	struct hb_input exiting = hb_state(INC_A, 6, SM_SLOT_EXITING);
	struct peer_view pv;
	struct peer_slots ps;
	uint64_t t = tmo.dead_ms + 1000;

	(void)state;
	peer_init(&pv);
	ps = slots(&alive, NULL, false);
	/* Never sampled by peer_observe: unread. */
	assert_int_equal(peer_seen(&ps, &pv, 0, &tmo), PEER_SEEN_UNREAD);
	peer_observe(&pv, 0, &alive);
	assert_int_equal(peer_seen(&ps, &pv, 0, &tmo), PEER_SEEN_VISIBLE);
	/* Still but a member, or still without the dead bound: visible. */
	assert_int_equal(peer_seen(&ps, &pv, t, &tmo), PEER_SEEN_VISIBLE);
	peer_membership(&pv, 0, false);
	peer_observe(&pv, t, &alive);
	assert_int_equal(peer_seen(&ps, &pv, t, &tmo), PEER_SEEN_STOPPED);

	peer_init(&pv);
	peer_observe(&pv, 0, &alive);
	ps = slots(&alive, NULL, true);
	assert_int_equal(peer_seen(&ps, &pv, 0, &tmo), PEER_SEEN_STOPPED);
	ps = slots(&freed, NULL, false);
	assert_int_equal(peer_seen(&ps, &pv, 0, &tmo), PEER_SEEN_STOPPED);
	ps = slots(&selffenced, NULL, false);
	assert_int_equal(peer_seen(&ps, &pv, 0, &tmo), PEER_SEEN_STOPPED);
	/* EXITING counts once peer_observe has taken it in. */
	ps = slots(&exiting, NULL, false);
	assert_int_equal(peer_seen(&ps, &pv, 0, &tmo), PEER_SEEN_VISIBLE);
	peer_observe(&pv, 10, &exiting);
	assert_int_equal(peer_seen(&ps, &pv, 10, &tmo), PEER_SEEN_STOPPED);
	/* Unread slot, no slot, no view: unread. */
	ps = slots(NULL, NULL, true);
	assert_int_equal(peer_seen(&ps, &pv, 10, &tmo), PEER_SEEN_UNREAD);
	ps = slots(&alive, NULL, false);
	ps.in_area = false;
	assert_int_equal(peer_seen(&ps, &pv, 10, &tmo), PEER_SEEN_UNREAD);
	ps = slots(&alive, NULL, false);
	assert_int_equal(peer_seen(&ps, NULL, 10, &tmo), PEER_SEEN_UNREAD);
}

/*
 * The dead path's pill.  A victim dead by timeout whose slot already
 * holds a pill naming its incarnation: that pill may be one it handled
 * (and acked) in a life before it was paused, so it is never the one
 * that fences.  The fencer writes its own above it and declares only
 * once a read shows that one; reads still showing the old one do not.
 */
static void test_dead_path_never_reuses_pill(void **state)
{
	struct hb_input hb = hb_state(INC_A, 10, SM_SLOT_ALIVE);
	struct msg_input there = msg_make(SM_CMD_RESET, 9, INC_A);
	struct msg_input ours = msg_make(SM_CMD_RESET, 10, INC_A);
	struct peer_view pv;
	struct fence_op op;
	struct fence_decision d;
	uint64_t t = tmo.dead_ms, k;

	(void)state;
	peer_init(&pv);
	peer_observe(&pv, 0, &hb);
	peer_membership(&pv, 0, false);
	peer_observe(&pv, t, &hb);
	assert_true(peer_dead(&pv, &tmo));

	fence_op_init(&op, &tmo, &pv);
	assert_int_equal(fence_resume(&op, 2, SM_CMD_RESET, t, &there, &hb,
				      &d), 0);
	assert_int_equal(d.action, FENCE_ACT_WRITE_PILL);
	assert_int_equal(d.seq, 10);
	assert_int_equal(d.target_incarnation, INC_A);
	assert_int_equal(fence_pill_written(&op, t + 5, 0, &d), 0);
	/* However long the slot keeps showing the old pill (our write not
	 * there yet, or lost), nothing is declared. */
	for (k = 1; k <= 5; k++) {
		peer_observe(&pv, t + k * 100, &hb);
		assert_int_equal(fence_read(&op, t + k * 100, &there, &hb, &d),
				 0);
		assert_true(d.action == FENCE_ACT_NONE ||
			    d.action == FENCE_ACT_WRITE_PILL);
		if (d.action == FENCE_ACT_WRITE_PILL) {
			assert_int_equal(d.seq, 10);
			assert_int_equal(fence_pill_written(&op, t + k * 100 + 5,
							    0, &d), 0);
			assert_int_not_equal(d.action, FENCE_ACT_DECLARE_DEAD);
		}
	}
	assert_int_not_equal(op.fo_state, FENCE_DEAD);
	peer_observe(&pv, t + 1000, &hb);
	assert_int_equal(fence_read(&op, t + 1000, &ours, &hb, &d), 0);
	assert_int_equal(d.action, FENCE_ACT_DECLARE_DEAD);
}

/*
 * Review s25-rev2: a peer whose heartbeat says NO_WATCHDOG (no_watchdog =
 * yes) is never dead by time - nothing resets it, its still heartbeat
 * proves nothing - and its FENCED_SELF slot does not say it stopped (it
 * exits at once, nothing resets it).  Per incarnation: one read that
 * said so is enough; a new incarnation is judged by its own records.
 */
static void test_peer_no_watchdog_never_dead(void **state)
{
	struct hb_input nowd = hb_make(INC_A, 5), plain = hb_make(INC_A, 5);
	struct hb_input selffenced, next = hb_make(INC_B, 1);
	struct peer_view pv;
	struct peer_slots ps;
	uint64_t t;

	(void)state;
	nowd.no_watchdog = true;
	peer_init(&pv);
	peer_observe(&pv, 0, &nowd);
	peer_membership(&pv, 0, false);
	assert_int_equal(peer_dead_at(&pv, &tmo), UINT64_MAX);
	/* A later read of the same record without the bit changes nothing. */
	peer_observe(&pv, 10, &plain);
	for (t = tmo.dead_ms; t <= 100 * (uint64_t)tmo.dead_legacy_ms;
	     t += tmo.dead_ms) {
		peer_observe(&pv, t, &nowd);
		assert_false(peer_dead(&pv, &tmo));
		assert_int_equal(peer_state(&pv, t, &tmo), PEER_STILL);
		ps = slots(&nowd, NULL, false);
		assert_int_equal(peer_seen(&ps, &pv, t, &tmo), PEER_SEEN_VISIBLE);
		assert_false(peer_cold_ok(&ps, &pv, t, &tmo));
	}
	/* Fenced itself with no watchdog: not stopped; fenced by us: is. */
	selffenced = hb_state(INC_A, 6, SM_SLOT_FENCED_SELF);
	selffenced.no_watchdog = true;
	peer_observe(&pv, t, &selffenced);
	ps = slots(&selffenced, NULL, false);
	assert_int_equal(peer_seen(&ps, &pv, t, &tmo), PEER_SEEN_VISIBLE);
	ps = slots(&selffenced, NULL, true);
	assert_int_equal(peer_seen(&ps, &pv, t, &tmo), PEER_SEEN_STOPPED);

	/* Restarted with a watchdog: the dead bound again. */
	peer_observe(&pv, t, &next);
	assert_int_not_equal(peer_dead_at(&pv, &tmo), UINT64_MAX);
	peer_observe(&pv, t + tmo.dead_ms, &next);
	assert_true(peer_dead(&pv, &tmo));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peer_pill_pending),
		cmocka_unit_test(test_peer_cold_ok),
		cmocka_unit_test(test_peer_seen),
		cmocka_unit_test(test_dead_path_never_reuses_pill),
		cmocka_unit_test(test_peer_no_watchdog_never_dead),
	};

	return cmocka_run_group_tests(tests, setup_default, NULL);
}
