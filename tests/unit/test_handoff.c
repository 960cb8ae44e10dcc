/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_handoff.c - unit tests of fence/handoff.c, the hand-off's rules
 * (docs/design-handoff.md): the away node V's per-grant states and rules
 * V1-V5, the requester's entries and their bound (F1, F4-F6), F2's
 * filter and F3's test.
 *
 * Each known-bad variant of the model (docs/model/handoff.pml, docs/
 * model.md "The hand-off model") has a test named after it that does
 * what the variant does and shows the rule that stops it:
 *	BAD_OLD_INCARNATION	test_model_bad_old_incarnation	F2
 *	BAD_USE_AFTER_ANSWER	test_model_bad_use_after_answer	V2, V3
 *	BAD_RESUME_ANSWERED	test_model_bad_resume_answered	V3, V4
 *	BAD_REJOIN_KEEPS	test_model_bad_rejoin_keeps	V5
 *	BAD_REPLAY_BY_RES	test_model_bad_replay_by_res	F3
 *	BAD_ANSWER_UNDRAINED	test_model_bad_answer_undrained	V2
 *	DRAFT_MSG_SLOT		test_model_draft_msg_slot	§3, V1
 *	BAD_SILENT		test_model_bad_silent		F4
 * and test_exchange_through_records runs one whole exchange through
 * the real heartbeat encoder and decoder (fence/ondisk.c).
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

#include "fencesm_fixture.h"
#include "handoff.h"
#include "ondisk.h"

#define V	3		/* the away node */
#define F	1		/* the lockspace fencer (requester) */
#define F2ND	2		/* the next fencer */
#define LK(n, c)	((uint64_t)(n) << 32 | (c))

static const uint8_t uuid[SDLM_UUID_LEN] = {
	0x6b, 0x1d, 0x2e, 0x3f, 0x40, 0x51, 0x42, 0x63,
	0x84, 0x95, 0xa6, 0xb7, 0xc8, 0xd9, 0xea, 0xfb,
};

static struct ho_seen seen(uint64_t lkid, uint64_t inc, bool held)
{
	struct ho_seen s = { .lkid = lkid, .target_incarnation = inc, .held = held };

	return s;
}

static void lvb_fill(uint8_t *lvb, uint8_t v)
{
	memset(lvb, v, SDLM_HB_LVB_LEN);
}

/* Count actions of one kind for lkid in out. */
static int acts(const struct ho_away_out *out, enum ho_away_act act,
		uint64_t lkid)
{
	int c = 0;
	uint32_t i;

	for (i = 0; i < out->n; i++)
		if (out->a[i].act == act && out->a[i].lkid == lkid)
			c++;
	return c;
}

/* V's answer area as its next heartbeat write would carry it. */
static struct sdlm_hb answer_of(struct ho_away *a)
{
	struct sdlm_hb hb;

	memset(&hb, 0, sizeof(hb));
	hb.node_id = a->node_id;
	hb.state = HB_ALIVE;
	hb.incarnation = a->incarnation;
	hb.minor = SDLM_HB_MINOR;
	ho_away_answer(a, &hb);
	return hb;
}

/* V in incarnation INC_A, asked for lkid by the fencer, stopped it and
 * made it final with value block v. */
static void away_final(struct ho_away *a, uint64_t lkid, uint8_t v, uint64_t now)
{
	struct ho_seen s = seen(lkid, INC_A, true);
	struct ho_away_out out;
	uint8_t lvb[SDLM_HB_LVB_LEN];

	assert_int_equal(ho_away_read(a, now, &s, 1, false, &out), 0);
	lvb_fill(lvb, v);
	assert_int_equal(ho_away_progress(a, lkid, 0, 0, lvb), 1);
}

/* ---- the bound ---- */

static void test_bound(void **state)
{
	struct sdlm_timeouts_base b;
	struct sdlm_timeouts t;

	(void)state;
	/* design §6: B = 3I + 4T + K, K = L = 2I + T: 5I + 5T */
	assert_int_equal(ho_kill_ms(&tmo), tmo.lease_ms);
	assert_int_equal(ho_bound_ms(&tmo),
			 5ull * tmo.base.hb_interval_ms + 5ull * tmo.base.io_timeout_ms);
	assert_int_equal(ho_bound_ms(&tmo), 10000);	/* default profile */
	assert_int_equal(timeouts_profile("test", &b), 0);
	assert_int_equal(timeouts_derive(&b, &t, NULL), 0);
	assert_int_equal(ho_bound_ms(&t), 20000);
}

/* The read cadence: I, or I/4 (at least HO_READ_MIN_MS, at most I) while
 * a hand-off may be under way. */
static void test_read_interval(void **state)
{
	(void)state;
	assert_int_equal(ho_read_interval_ms(true, false, 0, 1000), 1000);
	assert_int_equal(ho_read_interval_ms(true, true, 0, 1000), 250);
	assert_int_equal(ho_read_interval_ms(true, false, 2, 1000), 250);
	assert_int_equal(ho_read_interval_ms(false, true, 2, 1000), 1000);
	assert_int_equal(ho_read_interval_ms(true, true, 0, 120), HO_READ_MIN_MS);
	assert_int_equal(ho_read_interval_ms(true, true, 0, 40), 40);
}

/* ---- the away node ---- */

/* V1 -> V2 -> V3: the ordinary path, and what may be used when. */
static void test_away_path(void **state)
{
	struct ho_away a;
	struct ho_away_out out;
	struct ho_seen s[2] = { seen(LK(V, 5), INC_A, true), seen(LK(V, 6), INC_A, false) };
	uint8_t lvb[SDLM_HB_LVB_LEN];
	struct sdlm_hb hb;

	(void)state;
	ho_away_init(&a, V, INC_A);
	assert_true(ho_away_may_use(&a, LK(V, 5)));
	assert_true(ho_away_may_grant_local(&a, LK(V, 5)));

	/* V1: a request for a grant V holds: stopping; one V does not hold
	 * (lkid 6): ignored */
	assert_int_equal(ho_away_read(&a, 100, s, 2, false, &out), 0);
	assert_int_equal(out.n, 1);
	assert_int_equal(acts(&out, HO_ACT_STOP, LK(V, 5)), 1);
	assert_int_equal(ho_away_state(&a, LK(V, 5)), HO_STOPPING);
	assert_int_equal(ho_away_state(&a, LK(V, 6)), HO_HELD);
	assert_false(ho_away_answer_due(&a));
	assert_true(ho_away_may_use(&a, LK(V, 5)));	/* holders not gone yet */
	assert_false(ho_away_may_grant_local(&a, LK(V, 5)));	/* V6 */
	/* the same request read again: nothing new */
	assert_int_equal(ho_away_read(&a, 1100, s, 2, false, &out), 0);
	assert_int_equal(out.n, 0);
	hb = answer_of(&a);
	assert_int_equal(hb.ans_count, 0);
	assert_int_equal(hb.ans_seq, 0);

	/* V2: final, with the value block the last holder left */
	lvb_fill(lvb, 0x42);
	assert_int_equal(ho_away_progress(&a, LK(V, 5), 0, 0, lvb), 1);
	assert_int_equal(ho_away_state(&a, LK(V, 5)), HO_FINAL);
	assert_true(ho_away_answer_due(&a));
	assert_false(ho_away_may_use(&a, LK(V, 5)));
	assert_int_equal(ho_away_progress(&a, LK(V, 5), 0, 0, lvb), -ENOENT);

	/* V3: listed in the next write, from then on never used */
	hb = answer_of(&a);
	assert_int_equal(hb.ans_seq, 1);
	assert_int_equal(hb.ans_count, 1);
	assert_int_equal(hb.ans_lvb, 1);
	assert_int_equal(hb.ans[0].lkid, LK(V, 5));
	assert_memory_equal(hb.ans[0].lvb, lvb, SDLM_HB_LVB_LEN);
	assert_int_equal(ho_away_state(&a, LK(V, 5)), HO_LISTED);
	assert_false(ho_away_answer_due(&a));
	assert_false(ho_away_may_use(&a, LK(V, 5)));
	assert_false(ho_away_may_grant_local(&a, LK(V, 5)));
	/* the same content: the same seq */
	hb = answer_of(&a);
	assert_int_equal(hb.ans_seq, 1);
	assert_int_equal(hb.ans_count, 1);

	/* the requester dropped it (its release was delivered): it leaves
	 * the answer, stays LISTED until its release is known applied */
	assert_int_equal(ho_away_read(&a, 2100, NULL, 0, false, &out), 0);
	assert_int_equal(out.n, 0);
	hb = answer_of(&a);
	assert_int_equal(hb.ans_seq, 2);
	assert_int_equal(hb.ans_count, 0);
	assert_int_equal(ho_away_state(&a, LK(V, 5)), HO_LISTED);
	assert_int_equal(ho_away_released(&a, LK(V, 5)), 0);
	assert_int_equal(ho_away_state(&a, LK(V, 5)), HO_HELD);
	assert_int_equal(ho_away_released(&a, LK(V, 5)), -ENOENT);
}

/* V1: only requests naming V's node and current incarnation count. */
static void test_away_ignores(void **state)
{
	struct ho_away a;
	struct ho_away_out out;
	struct ho_seen s[4] = {
		seen(LK(V + 1, 5), INC_A, true),	/* another node's grant */
		seen(LK(V, 5), INC_B, true),		/* a previous life's */
		seen(LK(V, 5), 0, true),
		seen(LK(V, 7), INC_A, false),		/* not held */
	};

	(void)state;
	ho_away_init(&a, V, INC_A);
	assert_int_equal(ho_away_read(&a, 0, s, 4, false, &out), 0);
	assert_int_equal(out.n, 0);
	assert_int_equal(a.n, 0);
	assert_int_equal(ho_away_read(NULL, 0, s, 1, false, &out), -EINVAL);
	assert_int_equal(ho_away_read(&a, 0, NULL, 1, false, &out), -EINVAL);
}

/*
 * V1, a lock V let go of just as it was cut off (nemesis cut-off, seed
 * 13): its release reached only V's own side, so the others still show
 * the grant V's and ask for it, while no cache of V knows the lock id any
 * more (or only as released).  Lock ids are never reused within an
 * incarnation, so it is never used here again: answered at once, final,
 * with no value block (the next holder reads the disk) - not ignored
 * until the requester fences V after B.  A lock id V's caches still know
 * (requesting, converting) is not "gone": ignored, as before.
 */
static void test_away_released_lock_answered(void **state)
{
	struct ho_away a;
	struct ho_away_out out;
	struct ho_seen s[2] = { seen(LK(V, 8), INC_A, false), seen(LK(V, 9), INC_A, false) };
	struct sdlm_hb hb;

	(void)state;
	ho_away_init(&a, V, INC_A);
	s[0].gone = true;	/* released: no cache knows it */
	s[0].from = F;
	s[1].from = F;		/* known to a cache, not held: ignored */
	assert_int_equal(ho_away_read_slots(&a, 100, s, 2, NULL, false, &out, NULL), 0);
	assert_int_equal(acts(&out, HO_ACT_STOP, LK(V, 8)), 0);	/* nobody to stop */
	assert_int_equal(ho_away_state(&a, LK(V, 8)), HO_FINAL);
	assert_int_equal(ho_away_state(&a, LK(V, 9)), HO_HELD);
	assert_false(ho_away_may_use(&a, LK(V, 8)));
	hb = answer_of(&a);
	assert_int_equal(hb.ans_count, 1);
	assert_int_equal(hb.ans[0].lkid, LK(V, 8));
	assert_int_equal(hb.ans_lvb, 0);		/* no valid value block */
	assert_int_equal(ho_away_state(&a, LK(V, 8)), HO_LISTED);
	/* a previous life's lock id is never ours to answer for */
	ho_away_init(&a, V, INC_A);
	s[0].target_incarnation = INC_B;
	assert_int_equal(ho_away_read_slots(&a, 100, s, 1, NULL, false, &out, NULL), 0);
	assert_int_equal(a.n, 0);
}

/*
 * V2 for a stopping grant whose lock V's caches forgot after V1 started
 * stopping it (a clean stop or a revocation: the caches forget every lock
 * at once and kill its users).  Review s28-rev19 L1: its state was never
 * asked again (the edge's look-up fails), so it never became final and V
 * was fenced after B.  Not while a killed lock user is still there (it may
 * be mid-write under the lock: 9e0621f); then final with no value block
 * (the requester invalidates its own).
 */
static void test_away_stopping_forgotten(void **state)
{
	struct ho_away a;
	struct ho_away_out out;
	struct ho_seen s = seen(LK(V, 5), INC_A, true);
	uint8_t lvb[SDLM_HB_LVB_LEN];
	struct sdlm_hb hb;

	(void)state;
	memset(lvb, 0x5a, sizeof(lvb));
	ho_away_init(&a, V, INC_A);
	assert_int_equal(ho_away_read(&a, 100, &s, 1, false, &out), 0);
	assert_int_equal(ho_away_state(&a, LK(V, 5)), HO_STOPPING);
	/* a killed user not reaped yet: still stopping, nothing answered */
	assert_int_equal(ho_away_forgotten(&a, LK(V, 5), true), 0);
	assert_int_equal(ho_away_state(&a, LK(V, 5)), HO_STOPPING);
	assert_false(ho_away_answer_due(&a));
	hb = answer_of(&a);
	assert_int_equal(hb.ans_count, 0);
	/* every killed user gone: final, no value block */
	assert_int_equal(ho_away_forgotten(&a, LK(V, 5), false), 1);
	assert_int_equal(ho_away_state(&a, LK(V, 5)), HO_FINAL);
	assert_true(ho_away_answer_due(&a));
	hb = answer_of(&a);
	assert_int_equal(hb.ans_count, 1);
	assert_int_equal(hb.ans[0].lkid, LK(V, 5));
	assert_int_equal(hb.ans_lvb, 0);
	/* only a STOPPING grant: final already, or never asked for */
	assert_int_equal(ho_away_forgotten(&a, LK(V, 5), false), -ENOENT);
	assert_int_equal(ho_away_forgotten(&a, LK(V, 6), false), -ENOENT);
	/* a grant final before it was forgotten keeps its value block */
	ho_away_init(&a, V, INC_A);
	assert_int_equal(ho_away_read(&a, 100, &s, 1, false, &out), 0);
	assert_int_equal(ho_away_progress(&a, LK(V, 5), 0, 0, lvb), 1);
	assert_int_equal(ho_away_forgotten(&a, LK(V, 5), false), -ENOENT);
	hb = answer_of(&a);
	assert_int_equal(hb.ans_lvb, 1);
	assert_memory_equal(hb.ans[0].lvb, lvb, SDLM_HB_LVB_LEN);
}

/* K: holders that do not let go are killed, once, K after the read. */
static void test_away_kill_after_k(void **state)
{
	struct ho_away a;
	struct ho_away_out out;
	struct ho_seen s = seen(LK(V, 5), INC_A, true);
	uint64_t wake, k = ho_kill_ms(&tmo);

	(void)state;
	ho_away_init(&a, V, INC_A);
	ho_away_tick(&a, 0, &tmo, &out, &wake);
	assert_int_equal(out.n, 0);
	assert_true(wake == UINT64_MAX);
	assert_int_equal(ho_away_read(&a, 500, &s, 1, false, &out), 0);
	ho_away_tick(&a, 500 + k - 1, &tmo, &out, &wake);
	assert_int_equal(out.n, 0);
	assert_int_equal(wake, 500 + k);
	ho_away_tick(&a, 500 + k, &tmo, &out, &wake);
	assert_int_equal(acts(&out, HO_ACT_KILL, LK(V, 5)), 1);
	ho_away_tick(&a, 500 + k + 1000, &tmo, &out, &wake);
	assert_int_equal(out.n, 0);
	/* a holder in D state: not reaped, never final, never answered */
	assert_int_equal(ho_away_progress(&a, LK(V, 5), 1, 0, NULL), 0);
	assert_int_equal(answer_of(&a).ans_count, 0);
	/* reaped: final without a value block -> answered with bit clear */
	assert_int_equal(ho_away_progress(&a, LK(V, 5), 0, 0, NULL), 1);
	ho_away_tick(&a, 500 + k + 2000, &tmo, &out, NULL);
	assert_int_equal(out.n, 0);
	{
		struct sdlm_hb hb = answer_of(&a);
		static const uint8_t zero[SDLM_HB_LVB_LEN];

		assert_int_equal(hb.ans_count, 1);
		assert_int_equal(hb.ans_lvb, 0);
		assert_memory_equal(hb.ans[0].lvb, zero, SDLM_HB_LVB_LEN);
	}
}

/* Four answers per write, oldest first; the fifth waits for room. */
static void test_away_answer_capacity(void **state)
{
	struct ho_away a;
	struct ho_away_out out;
	struct ho_seen s[5];
	struct sdlm_hb hb;
	uint8_t lvb[SDLM_HB_LVB_LEN];
	int i;

	(void)state;
	ho_away_init(&a, V, INC_A);
	for (i = 0; i < 5; i++)
		s[i] = seen(LK(V, 10 + i), INC_A, true);
	/* read one by one: the order they started stopping in */
	for (i = 0; i < 5; i++)
		assert_int_equal(ho_away_read(&a, (uint64_t)i, s, (size_t)i + 1, false, &out), 0);
	for (i = 4; i >= 0; i--) {
		lvb_fill(lvb, (uint8_t)(0x10 + i));
		assert_int_equal(ho_away_progress(&a, LK(V, 10 + i), 0, 0,
						  i == 2 ? NULL : lvb), 1);
	}
	hb = answer_of(&a);
	assert_int_equal(hb.ans_count, SDLM_HB_ANS_MAX);
	for (i = 0; i < 4; i++)
		assert_int_equal(hb.ans[i].lkid, LK(V, 10 + i));
	assert_int_equal(hb.ans_lvb, 0xb);	/* entry 2 had none */
	assert_int_equal(ho_away_state(&a, LK(V, 14)), HO_FINAL);
	assert_true(hb_out(&hb, uuid, (uint8_t[512]){ 0 }, 512) == 0);
	/* lkid 10's request is dropped: 14 takes its place */
	assert_int_equal(ho_away_read(&a, 10, s + 1, 4, false, &out), 0);
	assert_int_equal(out.n, 0);
	hb = answer_of(&a);
	assert_int_equal(hb.ans_count, 4);
	assert_int_equal(hb.ans[0].lkid, LK(V, 11));
	assert_int_equal(hb.ans[3].lkid, LK(V, 14));
	assert_int_equal(ho_away_state(&a, LK(V, 14)), HO_LISTED);
}

/* More requests than V tracks: the rest is not answered (fenced after
 * B, as today), and is taken once there is room. */
static void test_away_table_full(void **state)
{
	static struct ho_seen s[HO_AWAY_MAX + 1];
	static struct ho_away a;
	static struct ho_away_out out;
	int i;

	(void)state;
	ho_away_init(&a, V, INC_A);
	for (i = 0; i <= HO_AWAY_MAX; i++)
		s[i] = seen(LK(V, 100 + i), INC_A, true);
	assert_int_equal(ho_away_read(&a, 0, s, HO_AWAY_MAX + 1, false, &out), 0);
	assert_int_equal(out.n, HO_AWAY_MAX);
	assert_int_equal(ho_away_state(&a, LK(V, 100 + HO_AWAY_MAX)), HO_HELD);
	assert_true(ho_away_may_grant_local(&a, LK(V, 100 + HO_AWAY_MAX)));
	/* the first request withdrawn: kept again, the last one taken */
	assert_int_equal(ho_away_read(&a, 1, s + 1, HO_AWAY_MAX, false, &out), 0);
	assert_int_equal(acts(&out, HO_ACT_KEEP, LK(V, 100)), 1);
	assert_int_equal(ho_away_read(&a, 2, s + 1, HO_AWAY_MAX, false, &out), 0);
	assert_int_equal(acts(&out, HO_ACT_STOP, LK(V, 100 + HO_AWAY_MAX)), 1);
}

/* V4: stopping or final, no request any more: V's again. */
static void test_away_withdrawn_before_answer(void **state)
{
	struct ho_away a;
	struct ho_away_out out;
	struct ho_seen s[2] = { seen(LK(V, 5), INC_A, true), seen(LK(V, 6), INC_A, true) };

	(void)state;
	ho_away_init(&a, V, INC_A);
	assert_int_equal(ho_away_read(&a, 0, s, 2, false, &out), 0);
	assert_int_equal(ho_away_progress(&a, LK(V, 6), 0, 0, NULL), 1);
	/* both withdrawn before any answer was built */
	assert_int_equal(ho_away_read(&a, 1000, NULL, 0, false, &out), 0);
	assert_int_equal(out.n, 2);
	assert_int_equal(acts(&out, HO_ACT_KEEP, LK(V, 5)), 1);
	assert_int_equal(acts(&out, HO_ACT_KEEP, LK(V, 6)), 1);
	assert_true(ho_away_may_use(&a, LK(V, 6)));
	assert_true(ho_away_may_grant_local(&a, LK(V, 6)));
	assert_int_equal(answer_of(&a).ans_count, 0);
}

/* ---- V's read, slot by slot (review RH4, RH6) ---- */

static struct ho_seen seen_from(uint64_t lkid, bool held, uint32_t from)
{
	struct ho_seen s = seen(lkid, INC_A, held);

	s.from = from;
	return s;
}

/* Every slot but V's live and decoded, as the engine's read found them. */
static void slots_ok(struct ho_slots *sl)
{
	uint32_t i;

	memset(sl, 0, sizeof(*sl));
	for (i = 1; i <= SDLM_MAX_NODES; i++) {
		sl->s[i].rd = i == V ? HO_SLOT_NONE : HO_SLOT_OK;
		sl->s[i].live = i != V;
	}
}

/*
 * RH4: a slot that does not decode is that slot only.  The fencer's
 * request is read and stops the grant while another slot (node 2's)
 * never decodes; the bad slot is told at its first bad read, then not
 * again before HO_SLOT_LOG_MS, however it flaps.  Fails if a bad slot
 * holds up the others' requests or is told at every read.
 */
static void test_away_bad_slot_alone(void **state)
{
	struct ho_away a;
	struct ho_away_out out;
	struct ho_slot_log log;
	struct ho_slots sl;
	struct ho_seen s = seen_from(LK(V, 5), true, F);
	uint64_t t0 = 1000;

	(void)state;
	ho_away_init(&a, V, INC_A);
	slots_ok(&sl);
	sl.s[F2ND].rd = HO_SLOT_BAD;
	assert_int_equal(ho_away_read_slots(&a, t0, &s, 1, &sl, false, &out, &log), 0);
	assert_int_equal(acts(&out, HO_ACT_STOP, LK(V, 5)), 1);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.node[0], F2ND);
	/* read after read: still stopping, not told again */
	assert_int_equal(ho_away_read_slots(&a, t0 + 1000, &s, 1, &sl, false, &out, &log), 0);
	assert_int_equal(out.n, 0);
	assert_int_equal(log.n, 0);
	assert_int_equal(ho_away_state(&a, LK(V, 5)), HO_STOPPING);
	/* it decodes once, then not again: a flap is not a new first */
	sl.s[F2ND].rd = HO_SLOT_OK;
	assert_int_equal(ho_away_read_slots(&a, t0 + 2000, &s, 1, &sl, false, &out, &log), 0);
	assert_int_equal(log.n, 0);
	sl.s[F2ND].rd = HO_SLOT_BAD;
	assert_int_equal(ho_away_read_slots(&a, t0 + 3000, &s, 1, &sl, false, &out, &log), 0);
	assert_int_equal(log.n, 0);
	assert_int_equal(ho_away_read_slots(&a, t0 + HO_SLOT_LOG_MS - 1, &s, 1, &sl,
					    false, &out, &log), 0);
	assert_int_equal(log.n, 0);
	assert_int_equal(ho_away_read_slots(&a, t0 + HO_SLOT_LOG_MS, &s, 1, &sl,
					    false, &out, &log), 0);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.node[0], F2ND);
	assert_int_equal(ho_away_state(&a, LK(V, 5)), HO_STOPPING);
	/* V's own slot and a never-written one are never told */
	sl.s[V].rd = HO_SLOT_BAD;
	sl.s[F2ND].rd = HO_SLOT_NONE;
	assert_int_equal(ho_away_read_slots(&a, t0 + 2 * HO_SLOT_LOG_MS, &s, 1, &sl,
					    false, &out, &log), 0);
	assert_int_equal(log.n, 0);
}

/*
 * RH4: the requester's own slot unreadable for a read takes back nothing
 * (V4 would give the grant back and the next good read stop it again,
 * K restarting) and asks for nothing new; its writer still for L, what
 * it asked lapses.
 */
static void test_away_bad_slot_keeps(void **state)
{
	struct ho_away a;
	struct ho_away_out out;
	struct ho_slots sl;
	struct ho_seen s[2] = { seen_from(LK(V, 5), true, F),
				seen_from(LK(V, 6), true, F) };

	(void)state;
	ho_away_init(&a, V, INC_A);
	slots_ok(&sl);
	assert_int_equal(ho_away_read_slots(&a, 100, s, 1, &sl, false, &out, NULL), 0);
	assert_int_equal(acts(&out, HO_ACT_STOP, LK(V, 5)), 1);
	/* F's slot does not decode: its request stands, no new one (the
	 * entry for 6 is what a damaged record might show: not read) */
	sl.s[F].rd = HO_SLOT_BAD;
	assert_int_equal(ho_away_read_slots(&a, 1100, s, 2, &sl, false, &out, NULL), 0);
	assert_int_equal(out.n, 0);
	assert_int_equal(ho_away_state(&a, LK(V, 5)), HO_STOPPING);
	assert_int_equal(ho_away_state(&a, LK(V, 6)), HO_HELD);
	/* final while F's slot is bad: listed, its request standing */
	assert_int_equal(ho_away_progress(&a, LK(V, 5), 0, 0, NULL), 1);
	assert_int_equal(answer_of(&a).ans_count, 1);
	assert_int_equal(ho_away_state(&a, LK(V, 5)), HO_LISTED);
	assert_int_equal(answer_of(&a).ans_count, 1);
	/* still bad, and F's heartbeat stood still for L: nothing stands,
	 * the answer lets it go (it stays LISTED: V3) */
	sl.s[F].live = false;
	assert_int_equal(ho_away_read_slots(&a, 2100, NULL, 0, &sl, false, &out, NULL), 0);
	assert_int_equal(out.n, 0);
	assert_int_equal(answer_of(&a).ans_count, 0);
	assert_int_equal(ho_away_state(&a, LK(V, 5)), HO_LISTED);

	/* A stopping grant whose requester's slot goes bad and still: V's */
	slots_ok(&sl);
	assert_int_equal(ho_away_read_slots(&a, 3100, &s[1], 1, &sl, false, &out, NULL), 0);
	assert_int_equal(acts(&out, HO_ACT_STOP, LK(V, 6)), 1);
	sl.s[F].rd = HO_SLOT_BAD;
	sl.s[F].live = false;
	assert_int_equal(ho_away_read_slots(&a, 4100, NULL, 0, &sl, false, &out, NULL), 0);
	assert_int_equal(acts(&out, HO_ACT_KEEP, LK(V, 6)), 1);
	assert_int_equal(ho_away_state(&a, LK(V, 6)), HO_HELD);
}

/*
 * RH6: a requester that crashed or was fenced never withdraws; its slot
 * keeps its last request until its next incarnation writes an empty
 * area.  A slot whose writer has stood still for L asks for nothing: no
 * new stop from it, and a grant only it asked for is V's again (V4).
 * Another live requester's request for the same grant keeps it.
 */
static void test_away_requester_still(void **state)
{
	struct ho_away a;
	struct ho_away_out out;
	struct ho_slots sl;
	struct ho_seen s[3] = { seen_from(LK(V, 5), true, F),
				seen_from(LK(V, 6), true, F),
				seen_from(LK(V, 6), true, F2ND) };

	(void)state;
	ho_away_init(&a, V, INC_A);
	slots_ok(&sl);
	sl.s[F].live = false;
	/* a still slot's request starts nothing */
	assert_int_equal(ho_away_read_slots(&a, 100, s, 1, &sl, false, &out, NULL), 0);
	assert_int_equal(out.n, 0);
	assert_int_equal(ho_away_state(&a, LK(V, 5)), HO_HELD);
	/* live: 5 and 6 stop; 6 asked by both */
	sl.s[F].live = true;
	assert_int_equal(ho_away_read_slots(&a, 1100, s, 3, &sl, false, &out, NULL), 0);
	assert_int_equal(acts(&out, HO_ACT_STOP, LK(V, 5)), 1);
	assert_int_equal(acts(&out, HO_ACT_STOP, LK(V, 6)), 1);
	/* F stands still, its record unchanged: 5 is V's again, 6 stays
	 * stopping for F2ND */
	sl.s[F].live = false;
	assert_int_equal(ho_away_read_slots(&a, 2100, s, 3, &sl, false, &out, NULL), 0);
	assert_int_equal(out.n, 1);
	assert_int_equal(acts(&out, HO_ACT_KEEP, LK(V, 5)), 1);
	assert_int_equal(ho_away_state(&a, LK(V, 5)), HO_HELD);
	assert_int_equal(ho_away_state(&a, LK(V, 6)), HO_STOPPING);
	/* F2ND withdraws: 6 is V's again too */
	assert_int_equal(ho_away_read_slots(&a, 3100, s, 2, &sl, false, &out, NULL), 0);
	assert_int_equal(acts(&out, HO_ACT_KEEP, LK(V, 6)), 1);
	assert_int_equal(a.n, 0);
	/* out of range: refused */
	s[0].from = SDLM_MAX_NODES + 1;
	assert_int_equal(ho_away_read_slots(&a, 4100, s, 1, &sl, false, &out, NULL), -EINVAL);
}

/* ---- the requester ---- */

static void test_f1(void **state)
{
	struct ho_f1_in ok = {
		.member = false, .hb_live = true, .hb_minor = 2,
		.hb_incarnation = INC_A, .replica_incarnation = INC_A,
		.fenced = false, .fence_in_flight = false, .protocol = 3,
		.v_protocol = 3,
	};
	struct ho_f1_in in;

	(void)state;
	assert_int_equal(ho_f1_check(&ok), HO_F1_OK);
	in = ok; in.member = true;
	assert_int_equal(ho_f1_check(&in), HO_F1_MEMBER);
	in = ok; in.hb_live = false;
	assert_int_equal(ho_f1_check(&in), HO_F1_NOT_LIVE);
	in = ok; in.hb_incarnation = INC_B;	/* V restarted: fence */
	assert_int_equal(ho_f1_check(&in), HO_F1_RESTARTED);
	in = ok; in.hb_incarnation = 0; in.replica_incarnation = 0;
	assert_int_equal(ho_f1_check(&in), HO_F1_RESTARTED);
	/*
	 * Review s26-rev-handoff RH1: V's slot unreadable at our last read
	 * (a CRC that does not verify, a torn read): the edge has no record
	 * and passes incarnation 0.  That is not "V restarted" - taken so,
	 * the requests were withdrawn (V kept the locks again, its K
	 * restarting) and, the grace passed, V was fenced at once although
	 * it was answering.  The next read decides; F4's bound still runs.
	 */
	in = ok; in.hb_incarnation = 0; in.hb_minor = 0;
	assert_int_equal(ho_f1_check(&in), HO_F1_UNREAD);
	in.replica_incarnation = 0;	/* no member record: today's path */
	assert_int_equal(ho_f1_check(&in), HO_F1_RESTARTED);
	in = ok; in.hb_incarnation = 0; in.hb_live = false;
	assert_int_equal(ho_f1_check(&in), HO_F1_NOT_LIVE);
	assert_string_equal(ho_f1_name(HO_F1_UNREAD), "heartbeat slot not read");
	in = ok; in.fenced = true;
	assert_int_equal(ho_f1_check(&in), HO_F1_FENCED);
	in = ok; in.fence_in_flight = true;
	assert_int_equal(ho_f1_check(&in), HO_F1_FENCING);
	in = ok; in.hb_minor = 1;
	assert_int_equal(ho_f1_check(&in), HO_F1_OLD_MINOR);
	in = ok; in.protocol = 2;
	assert_int_equal(ho_f1_check(&in), HO_F1_OLD_PROTOCOL);
	/*
	 * Finding H2's rolling-upgrade rule (design §2, review s25-rev2 R2):
	 * the agreed version is the minimum over the members, and V, away,
	 * is not one; an old V (lkids per lockspace: (incarnation, lkid)
	 * ambiguous) must not be asked even where the rest agreed on 3 and
	 * its heartbeat is minor 2.
	 */
	in = ok; in.v_protocol = 2;
	assert_int_equal(ho_f1_check(&in), HO_F1_V_OLD_PROTOCOL);
	in = ok; in.v_protocol = 0;		/* not known: not asked */
	assert_int_equal(ho_f1_check(&in), HO_F1_V_OLD_PROTOCOL);
	assert_string_equal(ho_f1_name(HO_F1_V_OLD_PROTOCOL),
			    "V announced a protocol below 3");
	assert_string_equal(ho_f1_name(HO_F1_OLD_MINOR), "heartbeat minor below 2");
	assert_string_equal(ho_f1_name((enum ho_f1_verdict)99), "unknown");
}

static void test_req_want(void **state)
{
	static struct ho_requester r;
	int i;

	(void)state;
	ho_req_init(&r, F);
	assert_int_equal(ho_req_want(&r, 0, INC_A), -EINVAL);
	assert_int_equal(ho_req_want(&r, 5, INC_A), -EINVAL);		/* node 0 */
	assert_int_equal(ho_req_want(&r, LK(256, 5), INC_A), -EINVAL);
	assert_int_equal(ho_req_want(&r, LK(F, 5), INC_A), -EINVAL);	/* own */
	assert_int_equal(ho_req_want(&r, LK(V, 5), 0), -EINVAL);
	assert_int_equal(ho_req_want(&r, LK(V, 5), INC_A), 0);
	assert_int_equal(ho_req_want(&r, LK(V, 5), INC_A), -EEXIST);
	assert_int_equal(ho_req_want(&r, LK(V, 5), INC_B), 0);	/* another grant */
	for (i = 2; i < HO_REQ_MAX; i++)
		assert_int_equal(ho_req_want(&r, LK(V, 100 + i), INC_A), 0);
	assert_int_equal(ho_req_want(&r, LK(V, 99), INC_A), -ENOSPC);
	assert_int_equal(ho_req_drop(&r, LK(V, 5), INC_B), 0);
	assert_int_equal(ho_req_drop(&r, LK(V, 5), INC_B), -ENOENT);
	assert_int_equal(ho_req_want(&r, LK(V, 99), INC_A), 0);
}

/* The area: the eight oldest, req_seq + 1 only when its content changes;
 * it goes through hb_out and hb_in unchanged. */
static void test_req_area(void **state)
{
	static struct ho_requester r;
	struct sdlm_hb hb, back;
	uint8_t sector[512];
	int i;

	(void)state;
	ho_req_init(&r, F);
	memset(&hb, 0, sizeof(hb));
	ho_req_area(&r, &hb);
	assert_int_equal(hb.req_seq, 0);
	assert_int_equal(hb.req[0].lkid, 0);
	for (i = 0; i < 10; i++)
		assert_int_equal(ho_req_want(&r, LK(2 + i % 3, 50 + i),
					     INC_A + (uint64_t)i), 0);
	ho_req_area(&r, &hb);
	assert_int_equal(hb.req_seq, 1);
	for (i = 0; i < SDLM_HB_REQ_MAX; i++)
		assert_int_equal(hb.req[i].lkid & 0xffffffffu, 50 + i);
	ho_req_area(&r, &hb);
	assert_int_equal(hb.req_seq, 1);
	/* the round trip through the heartbeat record (rules H1-H3) */
	hb.node_id = F;
	hb.state = HB_ALIVE;
	hb.incarnation = INC_B;
	assert_int_equal(hb_out(&hb, uuid, sector, sizeof(sector)), 0);
	assert_int_equal(hb_in(&back, sector, sizeof(sector), uuid, F), 0);
	assert_memory_equal(back.req, hb.req, sizeof(hb.req));
	assert_int_equal(back.req_seq, 1);
	/* the oldest dropped: the ninth moves in */
	assert_int_equal(ho_req_drop(&r, hb.req[0].lkid, hb.req[0].target_incarnation), 0);
	ho_req_area(&r, &hb);
	assert_int_equal(hb.req_seq, 2);
	assert_int_equal(hb.req[0].lkid & 0xffffffffu, 51);
	assert_int_equal(hb.req[7].lkid & 0xffffffffu, 58);
	/* F5: V (node 3) a member again: its entries leave */
	ho_req_drop_node(&r, 3);
	for (i = 0; i < (int)r.n; i++)
		assert_int_not_equal(ho_lkid_node(r.e[i].lkid), 3);
	/* F6: the role lost: the next area is empty, seq moves on */
	ho_req_clear(&r);
	ho_req_area(&r, &hb);
	assert_int_equal(hb.req[0].lkid, 0);
	assert_true(hb.req_seq >= 3);
	assert_int_equal(hb_out(&hb, uuid, sector, sizeof(sector)), 0);
}

/* F4: the bound runs from the completion of the first write carrying the
 * entry; a failed write starts nothing; an answer stops it. */
static void test_req_bound(void **state)
{
	static struct ho_requester r;
	struct ho_req_out out;
	struct sdlm_hb hb;
	struct ho_release rel = { .incarnation = INC_A, .lkid = LK(V, 6) };
	uint64_t wake, b = ho_bound_ms(&tmo);

	(void)state;
	ho_req_init(&r, F);
	assert_int_equal(ho_req_want(&r, LK(V, 5), INC_A), 0);
	assert_int_equal(ho_req_want(&r, LK(V, 6), INC_A), 0);
	memset(&hb, 0, sizeof(hb));
	ho_req_area(&r, &hb);
	ho_req_written(&r, 1000, false);		/* failed */
	ho_req_tick(&r, 1000 + 10 * b, &tmo, &out, &wake);
	assert_int_equal(out.n, 0);
	assert_true(wake == UINT64_MAX);
	ho_req_area(&r, &hb);
	ho_req_written(&r, 2000, true);
	ho_req_area(&r, &hb);				/* a later write */
	ho_req_written(&r, 3000, true);		/* does not restart it */
	ho_req_note_answer(&r, &rel, 1);		/* lkid 6 answered */
	ho_req_tick(&r, 2000 + b - 1, &tmo, &out, &wake);
	assert_int_equal(out.n, 0);
	assert_int_equal(wake, 2000 + b);
	ho_req_tick(&r, 2000 + b, &tmo, &out, &wake);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.e[0].lkid, LK(V, 5));
	assert_int_equal(out.e[0].target_incarnation, INC_A);
	/* once; the entry stays in the area while the fence runs (F4) */
	ho_req_tick(&r, 2000 + 2 * b, &tmo, &out, &wake);
	assert_int_equal(out.n, 0);
	ho_req_area(&r, &hb);
	assert_int_equal(hb.req[0].lkid, LK(V, 5));
	/* an entry wanted after the area was built is not carried by it */
	assert_int_equal(ho_req_want(&r, LK(V, 7), INC_A), 0);
	ho_req_written(&r, 4000, true);
	ho_req_tick(&r, 4000 + b, &tmo, &out, NULL);
	assert_int_equal(out.n, 0);
}

/* F2 and F6: every listed grant counts, whoever asked for it. */
static void test_f2_filter(void **state)
{
	struct ho_away a;
	struct sdlm_hb hb;
	struct ho_release rel[SDLM_HB_ANS_MAX];
	struct ho_answer_in in;
	static struct ho_requester r2;

	(void)state;
	ho_away_init(&a, V, INC_A);
	away_final(&a, LK(V, 5), 0x33, 0);
	hb = answer_of(&a);
	in = (struct ho_answer_in){ .node = V, .hb = &hb,
				    .replica_incarnation = INC_A };
	/* F6: the next fencer never asked; it acts on the answer anyway */
	ho_req_init(&r2, F2ND);
	assert_int_equal(ho_answer_filter(&in, rel), 1);
	assert_int_equal(rel[0].incarnation, INC_A);
	assert_int_equal(rel[0].lkid, LK(V, 5));
	assert_true(rel[0].lvb_valid);
	assert_int_equal(rel[0].lvb[31], 0x33);
	ho_req_note_answer(&r2, rel, 1);		/* no entry: harmless */
	/* V fenced: nothing counts any more (F3 would ignore it anyway) */
	in.fenced = true;
	assert_int_equal(ho_answer_filter(&in, rel), 0);
	in.fenced = false;
	/* a minor-1 record has no answer */
	hb.minor = 1;
	assert_int_equal(ho_answer_filter(&in, rel), 0);
	hb.minor = 2;
	/* another node's slot */
	in.node = V + 1;
	assert_int_equal(ho_answer_filter(&in, rel), 0);
	in.node = V;
	in.replica_incarnation = 0;
	assert_int_equal(ho_answer_filter(&in, rel), 0);
}

/* ---- the requester's lockspace (lsfencer.c's decisions) ---- */

/* Is (lkid, inc) in the daemon's area r? */
static bool in_area(const struct ho_requester *r, uint64_t lkid, uint64_t inc)
{
	uint32_t i;

	for (i = 0; i < r->n; i++)
		if (r->e[i].lkid == lkid && r->e[i].target_incarnation == inc)
			return true;
	return false;
}

/*
 * F1 and F5 for one lockspace: the entries for V become exactly the
 * wanted locks of V's member incarnation, in the lockspace and in the
 * daemon's area; another node's entries are left alone; a lock asked for
 * already by the daemon (-EEXIST) counts as asked; one that cannot be
 * asked, or no room, is "not all asked" (the grace decides) with what
 * was asked staying asked.
 */
static void test_ls_request(void **state)
{
	static struct ho_requester r;
	static struct ho_ls ls;
	struct ho_ls_chg chg;
	uint64_t want[HO_LS_MAX + 1];
	uint32_t i;

	(void)state;
	ho_req_init(&r, F);
	memset(&ls, 0, sizeof(ls));
	want[0] = LK(V, 5);
	want[1] = LK(V, 6);
	assert_true(ho_ls_request(&ls, &r, V, INC_A, want, 2, &chg));
	assert_int_equal(chg.n_add, 2);
	assert_int_equal(chg.n_drop, 0);
	assert_true(in_area(&r, LK(V, 5), INC_A) && in_area(&r, LK(V, 6), INC_A));
	assert_true(ho_ls_has_node(&ls, V));
	assert_false(ho_ls_has_node(&ls, F2ND));
	/* another away node's entry is not V's business */
	want[0] = LK(F2ND, 1);
	assert_true(ho_ls_request(&ls, &r, F2ND, INC_B, want, 1, &chg));
	/* the same again: nothing changes */
	want[0] = LK(V, 5);
	assert_true(ho_ls_request(&ls, &r, V, INC_A, want, 2, &chg));
	assert_int_equal(chg.n_add + chg.n_drop + chg.n_refused, 0);
	/* 6 no longer wanted, 7 wanted: F5 withdraws 6 from both */
	want[1] = LK(V, 7);
	assert_true(ho_ls_request(&ls, &r, V, INC_A, want, 2, &chg));
	assert_int_equal(chg.n_drop, 1);
	assert_int_equal(chg.drop[0], LK(V, 6));
	assert_int_equal(chg.n_add, 1);
	assert_int_equal(chg.add[0], LK(V, 7));
	assert_false(in_area(&r, LK(V, 6), INC_A));
	assert_true(in_area(&r, LK(F2ND, 1), INC_B));
	/* V restarted (its member incarnation now INC_B): the old ones go */
	assert_true(ho_ls_request(&ls, &r, V, INC_B, want, 2, &chg));
	assert_int_equal(chg.n_drop, 2);
	assert_int_equal(chg.n_add, 2);
	assert_false(in_area(&r, LK(V, 5), INC_A));
	assert_true(in_area(&r, LK(V, 5), INC_B));
	/* asked already by the daemon (another lockspace's entry): counts */
	assert_int_equal(ho_req_want(&r, LK(V, 8), INC_B), 0);
	want[2] = LK(V, 8);
	assert_true(ho_ls_request(&ls, &r, V, INC_B, want, 3, &chg));
	assert_int_equal(chg.n_add, 1);
	/* refused by the area (our own node's lkid): not all asked, the
	 * others stay */
	want[3] = LK(F, 9);
	assert_false(ho_ls_request(&ls, &r, V, INC_B, want, 4, &chg));
	assert_int_equal(chg.n_refused, 1);
	assert_int_equal(chg.refused[0], LK(F, 9));
	assert_int_equal(chg.refused_rc[0], -EINVAL);
	assert_true(in_area(&r, LK(V, 8), INC_B));
	/* the lockspace full: not all asked, nothing withdrawn */
	for (i = 0; i < HO_LS_MAX + 1; i++)
		want[i] = LK(V, 100 + i);
	ho_req_init(&r, F);
	memset(&ls, 0, sizeof(ls));
	assert_true(ho_ls_request(&ls, &r, V, INC_A, want, HO_LS_MAX, &chg));
	assert_int_equal(ls.n, HO_LS_MAX);
	ls.n--;		/* one entry of the lockspace taken by another node */
	memmove(&ls.lkid[1], &ls.lkid[0], (HO_LS_MAX - 1) * sizeof(ls.lkid[0]));
	memmove(&ls.inc[1], &ls.inc[0], (HO_LS_MAX - 1) * sizeof(ls.inc[0]));
	ls.lkid[0] = LK(F2ND, 1);
	ls.inc[0] = INC_A;
	ls.n++;
	assert_false(ho_ls_request(&ls, &r, V, INC_A, want, HO_LS_MAX, &chg));
	assert_int_equal(chg.n_drop, 0);
	assert_int_equal(chg.n_add, 0);
}

/* F5/F6: one node's entries, or all, leave the lockspace and the area. */
static void test_ls_drop(void **state)
{
	static struct ho_requester r;
	static struct ho_ls ls;
	struct ho_ls_chg chg;
	uint64_t want[2] = { LK(V, 5), LK(V, 6) }, other = LK(F2ND, 1);

	(void)state;
	ho_req_init(&r, F);
	memset(&ls, 0, sizeof(ls));
	assert_true(ho_ls_request(&ls, &r, V, INC_A, want, 2, NULL));
	assert_true(ho_ls_request(&ls, &r, F2ND, INC_B, &other, 1, NULL));
	ho_ls_drop_node(&ls, &r, V, &chg);
	assert_int_equal(chg.n_drop, 2);
	assert_false(ho_ls_has_node(&ls, V));
	assert_false(in_area(&r, LK(V, 5), INC_A));
	assert_true(in_area(&r, other, INC_B));
	assert_true(ho_ls_request(&ls, &r, V, INC_A, want, 2, NULL));
	ho_ls_drop_node(&ls, &r, 0, NULL);	/* the role lost */
	assert_int_equal(ls.n, 0);
	assert_int_equal(r.n, 0);
}

/* F2: a release event for a lock is sent again only after the interval;
 * a full table forgets the oldest. */
static void test_ls_resend(void **state)
{
	static struct ho_ls ls;
	uint32_t i;

	(void)state;
	memset(&ls, 0, sizeof(ls));
	assert_true(ho_ls_resend_due(&ls, LK(V, 5), 10000, 3000));
	assert_false(ho_ls_resend_due(&ls, LK(V, 5), 12999, 3000));
	assert_true(ho_ls_resend_due(&ls, LK(V, 6), 12999, 3000));
	assert_true(ho_ls_resend_due(&ls, LK(V, 5), 13000, 3000));
	assert_false(ho_ls_resend_due(&ls, LK(V, 5), 13001, 3000));
	for (i = 0; i < HO_LS_MAX; i++)
		assert_true(ho_ls_resend_due(&ls, LK(V, 100 + i), 14000 + i, 3000));
	/* 5's record (the oldest) was the one replaced */
	assert_true(ho_ls_resend_due(&ls, LK(V, 5), 14000 + HO_LS_MAX, 3000));
	assert_false(ho_ls_resend_due(&ls, LK(V, 100 + HO_LS_MAX - 1),
				      14000 + HO_LS_MAX, 3000));
}

/* The requester's decision for one away node, case by case (what
 * lsfencer.c's fencer_fence did inline). */
static void test_node_decide(void **state)
{
	const uint64_t grace = 30000, t0 = 100000;
	struct ho_node_in base = {
		.ho_on = true, .f1 = HO_F1_OK, .asked_all = true,
		.since_ms = t0, .now_ms = t0 + 1, .grace_ms = grace,
		.hb_live = true,
	}, in;
	struct ho_node_out out;

	(void)state;
	/* nothing in the way, nothing asked: nothing */
	in = base;
	in.since_ms = 0;
	ho_node_decide(&in, &out);
	assert_int_equal(out.act, HO_NODE_NONE);
	assert_false(out.drop);
	/* a member again: keeps its locks, before anything else */
	in = base;
	in.member = true;
	in.bound_passed = true;
	in.has_entries = true;
	ho_node_decide(&in, &out);
	assert_int_equal(out.act, HO_NODE_MEMBER);
	/* F1 passed, all asked: the hand-off, no grace, even past it */
	in = base;
	in.now_ms = t0 + 10 * grace;
	ho_node_decide(&in, &out);
	assert_int_equal(out.act, HO_NODE_HANDOFF);
	/* ... but not all asked: the grace, then the fence; nothing dropped */
	in.asked_all = false;
	in.has_entries = true;
	ho_node_decide(&in, &out);
	assert_int_equal(out.act, HO_NODE_FENCE);
	assert_false(out.drop);
	in.now_ms = t0 + grace - 1;
	ho_node_decide(&in, &out);
	assert_int_equal(out.act, HO_NODE_NONE);
	/* its slot unread (RH1): with entries the bound decides; without,
	 * today's path */
	in = base;
	in.f1 = HO_F1_UNREAD;
	in.has_entries = true;
	in.now_ms = t0 + 10 * grace;
	ho_node_decide(&in, &out);
	assert_int_equal(out.act, HO_NODE_HANDOFF);
	assert_false(out.drop);
	in.has_entries = false;
	ho_node_decide(&in, &out);
	assert_int_equal(out.act, HO_NODE_FENCE);
	/* a fence in flight keeps the entries (F4), today's path runs */
	in = base;
	in.f1 = HO_F1_FENCING;
	in.has_entries = true;
	ho_node_decide(&in, &out);
	assert_false(out.drop);
	assert_int_equal(out.act, HO_NODE_NONE);	/* within the grace */
	/* any other verdict drops them: the heartbeat stopped fences at
	 * once, another incarnation after the grace */
	in.f1 = HO_F1_NOT_LIVE;
	in.hb_live = false;
	ho_node_decide(&in, &out);
	assert_true(out.drop);
	assert_int_equal(out.act, HO_NODE_FENCE);
	in.f1 = HO_F1_RESTARTED;
	in.hb_live = true;
	ho_node_decide(&in, &out);
	assert_true(out.drop);
	assert_int_equal(out.act, HO_NODE_NONE);
	in.now_ms = t0 + grace;
	ho_node_decide(&in, &out);
	assert_int_equal(out.act, HO_NODE_FENCE);
	/* entries but no lock in the way any more, another verdict: dropped,
	 * nobody fenced */
	in.since_ms = 0;
	ho_node_decide(&in, &out);
	assert_true(out.drop);
	assert_int_equal(out.act, HO_NODE_NONE);
	/* an entry's bound B passed (F4): fenced, grace or not; the entries
	 * stay while it runs */
	in = base;
	in.asked_all = false;
	in.f1 = HO_F1_FENCING;
	in.has_entries = true;
	in.bound_passed = true;
	ho_node_decide(&in, &out);
	assert_int_equal(out.act, HO_NODE_FENCE);
	assert_false(out.drop);
	/* the hand-off off here (protocol below 3, no hooks): today's path */
	in = base;
	in.ho_on = false;
	in.f1 = HO_F1_OK;
	ho_node_decide(&in, &out);
	assert_int_equal(out.act, HO_NODE_NONE);
	in.now_ms = t0 + grace;
	ho_node_decide(&in, &out);
	assert_int_equal(out.act, HO_NODE_FENCE);
}

/* ---- the model's known-bad variants, each stopped by its rule ---- */

/*
 * BAD_OLD_INCARNATION: V's incarnation A answered for lkid 1 and was
 * fenced before the write landed; V restarted as B, whose lkids start at
 * 1 again, and holds (B, 1).  The late answer of A, read now, names lkid
 * 1: F2 takes only an answer of the incarnation the replica records.
 */
static void test_model_bad_old_incarnation(void **state)
{
	struct ho_away old;
	struct sdlm_hb late;
	struct ho_release rel[SDLM_HB_ANS_MAX];
	struct ho_answer_in in;
	struct ho_held held = { .by_v = true, .incarnation = INC_B, .lkid = LK(V, 1) };

	(void)state;
	ho_away_init(&old, V, INC_A);
	away_final(&old, LK(V, 1), 2, 0);
	late = answer_of(&old);
	assert_int_equal(late.ans_count, 1);
	in = (struct ho_answer_in){ .node = V, .hb = &late, .replica_incarnation = INC_B };
	assert_int_equal(ho_answer_filter(&in, rel), 0);
	/* and had it been let through, F3 too names the grant's life */
	assert_false(ho_release_applies(&held, INC_A, LK(V, 1)));
	assert_true(ho_release_applies(&held, INC_B, LK(V, 1)));
	/* the new life never mistakes the old request for its own either */
	{
		struct ho_away b;
		struct ho_away_out out;
		struct ho_seen s = seen(LK(V, 1), INC_A, true);

		ho_away_init(&b, V, INC_B);
		assert_int_equal(ho_away_read(&b, 0, &s, 1, false, &out), 0);
		assert_int_equal(out.n, 0);
	}
}

/*
 * BAD_USE_AFTER_ANSWER: V answers as soon as it read the request while
 * its clients still hold the lock.  V2/V3: only a FINAL grant (holders
 * gone) is ever listed, and once listed it may not be used.
 */
static void test_model_bad_use_after_answer(void **state)
{
	struct ho_away a;
	struct ho_away_out out;
	struct ho_seen s = seen(LK(V, 1), INC_A, true);
	struct sdlm_hb hb;

	(void)state;
	ho_away_init(&a, V, INC_A);
	assert_int_equal(ho_away_read(&a, 0, &s, 1, false, &out), 0);
	assert_true(ho_away_may_use(&a, LK(V, 1)));	/* its holders still do */
	hb = answer_of(&a);
	assert_int_equal(hb.ans_count, 0);		/* so: not answered */
	assert_int_equal(ho_away_progress(&a, LK(V, 1), 2, 0, NULL), 0);
	hb = answer_of(&a);
	assert_int_equal(hb.ans_count, 0);
	assert_int_equal(ho_away_progress(&a, LK(V, 1), 0, 0, NULL), 1);
	hb = answer_of(&a);
	assert_int_equal(hb.ans_count, 1);
	assert_false(ho_away_may_use(&a, LK(V, 1)));
	assert_false(ho_away_may_grant_local(&a, LK(V, 1)));
}

/*
 * BAD_RESUME_ANSWERED: the request is withdrawn after V submitted the
 * answer listing the grant; V takes it back.  V3/V4: a LISTED grant is
 * never kept again - only one that was not yet listed.
 */
static void test_model_bad_resume_answered(void **state)
{
	struct ho_away a;
	struct ho_away_out out;
	struct ho_seen s = seen(LK(V, 1), INC_A, false);	/* left the cache */

	(void)state;
	ho_away_init(&a, V, INC_A);
	away_final(&a, LK(V, 1), 2, 0);
	assert_int_equal(answer_of(&a).ans_count, 1);
	assert_int_equal(ho_away_read(&a, 1000, NULL, 0, false, &out), 0);
	assert_int_equal(acts(&out, HO_ACT_KEEP, LK(V, 1)), 0);
	assert_int_equal(ho_away_state(&a, LK(V, 1)), HO_LISTED);
	assert_false(ho_away_may_use(&a, LK(V, 1)));
	assert_int_equal(answer_of(&a).ans_count, 0);	/* acknowledged */
	/* asked again (a new fencer): answered again, never resumed */
	assert_int_equal(ho_away_read(&a, 2000, &s, 1, false, &out), 0);
	assert_int_equal(out.n, 0);
	assert_int_equal(answer_of(&a).ans[0].lkid, LK(V, 1));
	assert_false(ho_away_may_use(&a, LK(V, 1)));
}

/*
 * BAD_REJOIN_KEEPS: V rejoins mid-exchange and re-asserts a lock whose
 * answer it submitted.  V5: a LISTED grant comes out of the rejoin as a
 * RELEASE (with its final value block), a stopping one as KEEP (V4).
 */
static void test_model_bad_rejoin_keeps(void **state)
{
	struct ho_away a;
	struct ho_away_out out;
	struct ho_seen s[2] = { seen(LK(V, 1), INC_A, true), seen(LK(V, 2), INC_A, true) };
	uint8_t lvb[SDLM_HB_LVB_LEN];

	(void)state;
	ho_away_init(&a, V, INC_A);
	away_final(&a, LK(V, 1), 2, 0);
	assert_int_equal(answer_of(&a).ans_count, 1);	/* submitted */
	assert_int_equal(ho_away_read(&a, 1000, s, 2, false, &out), 0);	/* Q stopping */
	ho_away_rejoin(&a, &out);
	assert_int_equal(out.n, 2);
	assert_int_equal(acts(&out, HO_ACT_RELEASE, LK(V, 1)), 1);
	assert_int_equal(acts(&out, HO_ACT_KEEP, LK(V, 2)), 1);
	assert_int_equal(acts(&out, HO_ACT_KEEP, LK(V, 1)), 0);
	lvb_fill(lvb, 2);
	assert_int_equal(out.a[0].act, HO_ACT_RELEASE);
	assert_true(out.a[0].lvb_valid);
	assert_memory_equal(out.a[0].lvb, lvb, SDLM_HB_LVB_LEN);
	assert_false(ho_away_may_use(&a, LK(V, 1)));
	assert_true(ho_away_may_use(&a, LK(V, 2)));
	/* until the release is applied, it stays given away */
	ho_away_rejoin(&a, &out);
	assert_int_equal(acts(&out, HO_ACT_RELEASE, LK(V, 1)), 1);
	assert_int_equal(ho_away_released(&a, LK(V, 1)), 0);
	assert_int_equal(a.n, 0);
}

/*
 * BAD_REPLAY_BY_RES: a release event that names the resource, not the
 * grant: V's answer for (A, lkid 1) of R, read again after R went to
 * node 2 and back to V under lkid 3, would release lkid 3.  F3: only
 * exactly the grant named, held by V, not fenced, is released.
 */
static void test_model_bad_replay_by_res(void **state)
{
	struct ho_held now = { .by_v = true, .incarnation = INC_A, .lkid = LK(V, 3) };
	struct ho_held then = { .by_v = true, .incarnation = INC_A, .lkid = LK(V, 1) };
	struct ho_held other = { .by_v = false, .incarnation = 0, .lkid = 0 };
	struct ho_held fenced = then;

	(void)state;
	assert_false(ho_release_applies(&now, INC_A, LK(V, 1)));	/* the replay */
	assert_true(ho_release_applies(&then, INC_A, LK(V, 1)));
	assert_false(ho_release_applies(&other, INC_A, LK(V, 1)));	/* node 2's */
	fenced.v_fenced = true;
	assert_false(ho_release_applies(&fenced, INC_A, LK(V, 1)));
	assert_false(ho_release_applies(&then, 0, LK(V, 1)));
}

/*
 * BAD_ANSWER_UNDRAINED: V answers with the grant's UID record write still
 * in flight; it may land after the waiter's.  V2: not final while any
 * I/O of the grant is owned by the kernel.
 */
static void test_model_bad_answer_undrained(void **state)
{
	struct ho_away a;
	struct ho_away_out out;
	struct ho_seen s = seen(LK(V, 1), INC_A, true);

	(void)state;
	ho_away_init(&a, V, INC_A);
	assert_int_equal(ho_away_read(&a, 0, &s, 1, false, &out), 0);
	assert_int_equal(ho_away_progress(&a, LK(V, 1), 0, 1, NULL), 0);
	assert_int_equal(ho_away_state(&a, LK(V, 1)), HO_STOPPING);
	assert_int_equal(answer_of(&a).ans_count, 0);
	assert_int_equal(ho_away_progress(&a, LK(V, 1), 0, 0, NULL), 1);
	assert_int_equal(answer_of(&a).ans_count, 1);
}

/*
 * DRAFT_MSG_SLOT (finding H1): with requests in V's message slot, a late
 * request write buried the pill and V, resuming, took it for a request.
 * The requests live in the requester's own heartbeat slot (a record may
 * not even hold a request naming its own writer, rule H2), so V's read
 * sees the pill next to any request - and V1: the pill wins, nothing
 * more is stopped or answered, the last answer stays as it was.
 */
static void test_model_draft_msg_slot(void **state)
{
	struct ho_away a;
	struct ho_away_out out;
	struct ho_seen s[2] = { seen(LK(V, 1), INC_A, true), seen(LK(V, 2), INC_A, true) };
	struct sdlm_hb hb;
	uint8_t sector[512];

	(void)state;
	memset(&hb, 0, sizeof(hb));
	hb.node_id = V;
	hb.incarnation = INC_A;
	hb.req_seq = 1;
	hb.req[0].lkid = LK(V, 1);
	hb.req[0].target_incarnation = INC_A;
	assert_int_equal(hb_out(&hb, uuid, sector, sizeof(sector)), -EINVAL);

	ho_away_init(&a, V, INC_A);
	away_final(&a, LK(V, 3), 7, 0);
	assert_int_equal(ho_away_read(&a, 0, s, 1, true, &out), 0);	/* pill */
	assert_int_equal(out.n, 0);
	assert_int_equal(ho_away_state(&a, LK(V, 1)), HO_HELD);
	hb = answer_of(&a);
	assert_int_equal(hb.ans_count, 0);	/* the final one: not listed */
	assert_int_equal(hb.ans_seq, 0);
	assert_int_equal(ho_away_read(&a, 1000, s, 2, false, &out), 0);
	assert_int_equal(out.n, 0);
	/* an answer written before the pill stays what it was */
	ho_away_init(&a, V, INC_A);
	away_final(&a, LK(V, 3), 7, 0);
	assert_int_equal(answer_of(&a).ans_count, 1);
	assert_int_equal(ho_away_read(&a, 1000, NULL, 0, true, &out), 0);
	hb = answer_of(&a);
	assert_int_equal(hb.ans_count, 1);
	assert_int_equal(hb.ans_seq, 1);
}

/*
 * BAD_SILENT: V never answers (paused, or a holder in D state).  F4: the
 * requester gives up B after its first write completed and fences V by
 * today's path - the hand-off never waits for ever.
 */
static void test_model_bad_silent(void **state)
{
	static struct ho_requester r;
	struct ho_req_out out;
	struct sdlm_hb hb;
	uint64_t wake, t0 = 5000, b = ho_bound_ms(&tmo);

	(void)state;
	ho_req_init(&r, F);
	assert_int_equal(ho_req_want(&r, LK(V, 1), INC_A), 0);
	memset(&hb, 0, sizeof(hb));
	ho_req_area(&r, &hb);
	ho_req_written(&r, t0, true);
	for (uint64_t t = t0; t < t0 + b; t += tmo.base.hb_interval_ms) {
		ho_req_area(&r, &hb);
		ho_req_written(&r, t, true);
		ho_req_tick(&r, t, &tmo, &out, &wake);
		assert_int_equal(out.n, 0);
		assert_int_equal(wake, t0 + b);
	}
	ho_req_tick(&r, t0 + b, &tmo, &out, &wake);
	assert_int_equal(out.n, 1);
	assert_int_equal(ho_lkid_node(out.e[0].lkid), V);
}

/* ---- one whole exchange through the real records ---- */

static void test_exchange_through_records(void **state)
{
	static struct ho_requester r;
	struct ho_away a;
	struct ho_away_out vout;
	struct ho_req_out rout;
	struct sdlm_hb fhb, vhb, got;
	struct ho_seen s[SDLM_HB_REQ_MAX];
	struct ho_release rel[SDLM_HB_ANS_MAX];
	struct ho_answer_in in;
	struct ho_held held = { .by_v = true, .incarnation = INC_A, .lkid = LK(V, 9) };
	uint8_t fsec[4096], vsec[4096], lvb[SDLM_HB_LVB_LEN];
	size_t n, i;

	(void)state;
	ho_req_init(&r, F);
	ho_away_init(&a, V, INC_A);
	/* F: V's grant lkid 9 blocks a waiter; F1 passed */
	assert_int_equal(ho_req_want(&r, LK(V, 9), INC_A), 0);
	memset(&fhb, 0, sizeof(fhb));
	fhb.node_id = F;
	fhb.state = HB_ALIVE;
	fhb.incarnation = INC_B;
	ho_req_area(&r, &fhb);
	assert_int_equal(hb_out(&fhb, uuid, fsec, 4096), 0);
	ho_req_written(&r, 1000, true);

	/* V reads F's slot */
	assert_int_equal(hb_in(&got, fsec, 4096, uuid, F), 0);
	for (i = 0; i < SDLM_HB_REQ_MAX && got.req[i].lkid; i++)
		s[i] = seen(got.req[i].lkid, got.req[i].target_incarnation,
			    got.req[i].lkid == LK(V, 9));
	assert_int_equal(ho_away_read(&a, 1500, s, i, false, &vout), 0);
	assert_int_equal(acts(&vout, HO_ACT_STOP, LK(V, 9)), 1);
	lvb_fill(lvb, 0x5a);
	assert_int_equal(ho_away_progress(&a, LK(V, 9), 0, 0, lvb), 1);
	memset(&vhb, 0, sizeof(vhb));
	vhb.node_id = V;
	vhb.state = HB_ALIVE;
	vhb.incarnation = INC_A;
	ho_away_answer(&a, &vhb);
	assert_int_equal(hb_out(&vhb, uuid, vsec, 4096), 0);

	/* F reads V's slot: one release event, the bound stops */
	assert_int_equal(hb_in(&got, vsec, 4096, uuid, V), 0);
	in = (struct ho_answer_in){ .node = V, .hb = &got, .replica_incarnation = INC_A };
	n = ho_answer_filter(&in, rel);
	assert_int_equal(n, 1);
	assert_true(ho_release_applies(&held, rel[0].incarnation, rel[0].lkid));
	assert_memory_equal(rel[0].lvb, lvb, SDLM_HB_LVB_LEN);
	ho_req_note_answer(&r, rel, n);
	ho_req_tick(&r, 1000 + 10 * ho_bound_ms(&tmo), &tmo, &rout, NULL);
	assert_int_equal(rout.n, 0);
	/* delivered: F drops it, V sees the drop, the answer empties */
	assert_int_equal(ho_req_drop(&r, LK(V, 9), INC_A), 0);
	ho_req_area(&r, &fhb);
	assert_int_equal(hb_out(&fhb, uuid, fsec, 4096), 0);
	assert_int_equal(hb_in(&got, fsec, 4096, uuid, F), 0);
	assert_int_equal(got.req[0].lkid, 0);
	assert_int_equal(ho_away_read(&a, 2500, NULL, 0, false, &vout), 0);
	ho_away_answer(&a, &vhb);
	assert_int_equal(vhb.ans_count, 0);
	assert_int_equal(hb_out(&vhb, uuid, vsec, 4096), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_read_interval),
		cmocka_unit_test(test_away_path),
		cmocka_unit_test(test_away_ignores),
		cmocka_unit_test(test_away_released_lock_answered),
		cmocka_unit_test(test_away_stopping_forgotten),
		cmocka_unit_test(test_away_kill_after_k),
		cmocka_unit_test(test_away_answer_capacity),
		cmocka_unit_test(test_away_table_full),
		cmocka_unit_test(test_away_withdrawn_before_answer),
		cmocka_unit_test(test_away_bad_slot_alone),
		cmocka_unit_test(test_away_bad_slot_keeps),
		cmocka_unit_test(test_away_requester_still),
		cmocka_unit_test(test_f1),
		cmocka_unit_test(test_req_want),
		cmocka_unit_test(test_req_area),
		cmocka_unit_test(test_req_bound),
		cmocka_unit_test(test_f2_filter),
		cmocka_unit_test(test_ls_request),
		cmocka_unit_test(test_ls_drop),
		cmocka_unit_test(test_ls_resend),
		cmocka_unit_test(test_node_decide),
		cmocka_unit_test(test_model_bad_old_incarnation),
		cmocka_unit_test(test_model_bad_use_after_answer),
		cmocka_unit_test(test_model_bad_resume_answered),
		cmocka_unit_test(test_model_bad_rejoin_keeps),
		cmocka_unit_test(test_model_bad_replay_by_res),
		cmocka_unit_test(test_model_bad_answer_undrained),
		cmocka_unit_test(test_model_draft_msg_slot),
		cmocka_unit_test(test_model_bad_silent),
		cmocka_unit_test(test_exchange_through_records),
	};

	return cmocka_run_group_tests(tests, setup_default, NULL);
}
