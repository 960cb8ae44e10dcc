/*
 * test_lockstate.c - the replicated lock state machine, driven by plain
 * event sequences: grants and queues, conversions, NOQUEUE, cancel, LVB,
 * blocking notifications, every membership/fence ordering, snapshots,
 * and a seeded replay across independent replicas with a safety check
 * after every step.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crc32c.h"
#include "lockstate.h"
#include "sdlm.h"

#define LKID(node, n)	(((uint64_t)(node) << 32) | (uint32_t)(n))

struct fx {
	struct ls_state *ls;
	struct ls_out out;
};

/* ---- event helpers ------------------------------------------------------ */

static int req(struct fx *f, uint32_t node, uint32_t n, const char *name,
	       int mode, uint32_t flags)
{
	struct ls_event ev = {
		.ev_kind = LS_EV_REQUEST, .ev_nodeid = node,
		.ev_lkid = LKID(node, n), .ev_mode = mode, .ev_flags = flags,
		.ev_name = name, .ev_namelen = strlen(name),
	};
	return ls_apply(f->ls, &ev, &f->out);
}

static int conv(struct fx *f, uint32_t node, uint32_t n, int mode,
		uint32_t flags, const uint8_t *lvb)
{
	struct ls_event ev = {
		.ev_kind = LS_EV_CONVERT, .ev_nodeid = node,
		.ev_lkid = LKID(node, n), .ev_mode = mode, .ev_flags = flags,
		.ev_lvb = lvb,
	};
	return ls_apply(f->ls, &ev, &f->out);
}

static int rel(struct fx *f, uint32_t node, uint32_t n, const uint8_t *lvb)
{
	struct ls_event ev = {
		.ev_kind = LS_EV_RELEASE, .ev_nodeid = node,
		.ev_lkid = LKID(node, n), .ev_lvb = lvb,
	};
	return ls_apply(f->ls, &ev, &f->out);
}

static int cancel(struct fx *f, uint32_t node, uint32_t n)
{
	struct ls_event ev = {
		.ev_kind = LS_EV_CANCEL, .ev_nodeid = node,
		.ev_lkid = LKID(node, n),
	};
	return ls_apply(f->ls, &ev, &f->out);
}

static int confchg(struct fx *f, uint64_t ring, bool quorate,
		   const uint32_t *members, size_t n)
{
	struct ls_event ev = {
		.ev_kind = LS_EV_CONFCHG, .ev_ring_id = ring,
		.ev_members = members, .ev_member_count = n,
		.ev_quorate = quorate,
	};
	return ls_apply(f->ls, &ev, &f->out);
}

static int status(struct fx *f, uint32_t node, bool live, bool pill)
{
	struct ls_event ev = {
		.ev_kind = LS_EV_NODE_STATUS, .ev_nodeid = node,
		.ev_hb_live = live, .ev_pill_pending = pill,
	};
	return ls_apply(f->ls, &ev, &f->out);
}

static int fenced(struct fx *f, uint32_t node, uint64_t inc)
{
	struct ls_event ev = {
		.ev_kind = LS_EV_NODE_FENCED, .ev_nodeid = node,
		.ev_incarnation = inc,
	};
	return ls_apply(f->ls, &ev, &f->out);
}

static int gate(struct fx *f, bool open)
{
	struct ls_event ev = { .ev_kind = LS_EV_GATE, .ev_gate_open = open };

	return ls_apply(f->ls, &ev, &f->out);
}

/* ---- output helpers ----------------------------------------------------- */

static size_t n_kind(const struct fx *f, enum ls_out_kind k)
{
	size_t i, n = 0;

	for (i = 0; i < f->out.count; i++)
		n += f->out.items[i].o_kind == k;
	return n;
}

static const struct ls_out_item *find(const struct fx *f,
				      enum ls_out_kind k, uint64_t lkid)
{
	size_t i;

	for (i = 0; i < f->out.count; i++)
		if (f->out.items[i].o_kind == k && f->out.items[i].o_lkid == lkid)
			return &f->out.items[i];
	return NULL;
}

static const struct ls_out_item *find_fence(const struct fx *f, uint32_t node)
{
	size_t i;

	for (i = 0; i < f->out.count; i++)
		if (f->out.items[i].o_kind == LS_OUT_NEED_FENCE &&
		    f->out.items[i].o_nodeid == node)
			return &f->out.items[i];
	return NULL;
}

static int lk_queue(const struct fx *f, uint32_t node, uint32_t n)
{
	struct ls_lock_info li;

	if (ls_lock_get(f->ls, LKID(node, n), &li))
		return -1;
	return (int)li.queue;
}

static int lk_grmode(const struct fx *f, uint32_t node, uint32_t n)
{
	struct ls_lock_info li;

	assert_int_equal(ls_lock_get(f->ls, LKID(node, n), &li), 0);
	return li.grmode;
}

/* ---- fixtures ----------------------------------------------------------- */

static const uint32_t m123[] = { 1, 2, 3 };
static const uint32_t m23[] = { 2, 3 };
static const uint32_t m12[] = { 1, 2 };

static int fx_make(void **state, bool cold, bool default_live)
{
	struct ls_params p = { .cold = cold, .default_live = default_live };
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || ls_create(&p, &f->ls))
		return -1;
	ls_out_init(&f->out);
	*state = f;
	return 0;
}

/* Three live members, quorate, gate open. */
static int setup(void **state)
{
	struct fx *f;
	uint32_t i;

	if (fx_make(state, false, false))
		return -1;
	f = *state;
	if (confchg(f, 1, true, m123, 3))
		return -1;
	for (i = 1; i <= 3; i++)
		if (status(f, i, true, false))
			return -1;
	return 0;
}

static int setup_bare(void **state)
{
	return fx_make(state, false, false);
}

static int setup_cold(void **state)
{
	return fx_make(state, true, true);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ls_out_free(&f->out);
	ls_destroy(f->ls);
	free(f);
	return 0;
}

/* ---- basic grants and queues ------------------------------------------- */

static void test_grant_release(void **state)
{
	struct fx *f = *state;
	const struct ls_out_item *it;

	assert_int_equal(req(f, 1, 1, "mbox", MODE_EX, 0), 0);
	it = find(f, LS_OUT_GRANTED, LKID(1, 1));
	assert_non_null(it);
	assert_int_equal(it->o_mode, MODE_EX);
	assert_int_equal(it->o_nodeid, 1);
	assert_false(it->o_lvb_valid);
	assert_memory_equal(it->o_name, "mbox", 4);
	assert_int_equal(it->o_namelen, 4);

	assert_int_equal(req(f, 2, 1, "mbox", MODE_PR, 0), 0);
	assert_int_equal(n_kind(f, LS_OUT_GRANTED), 0);
	it = find(f, LS_OUT_BLOCKING, LKID(1, 1));
	assert_non_null(it);
	assert_int_equal(it->o_mode, MODE_PR);
	assert_int_equal(lk_queue(f, 2, 1), LS_Q_WAIT);

	assert_int_equal(rel(f, 1, 1, NULL), 0);
	assert_non_null(find(f, LS_OUT_RELEASED, LKID(1, 1)));
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(2, 1)));
	assert_int_equal(ls_lock_count(f->ls), 1);

	assert_int_equal(rel(f, 2, 1, NULL), 0);
	assert_int_equal(ls_resource_count(f->ls), 0);
	assert_int_equal(ls_lock_count(f->ls), 0);
}

static void test_fifo_no_barging(void **state)
{
	struct fx *f = *state;

	assert_int_equal(req(f, 1, 1, "r", MODE_PR, 0), 0);
	assert_int_equal(req(f, 2, 1, "r", MODE_EX, 0), 0);
	/* PR is compatible with the granted PR but waits behind EX */
	assert_int_equal(req(f, 3, 1, "r", MODE_PR, 0), 0);
	assert_int_equal(n_kind(f, LS_OUT_GRANTED), 0);
	assert_int_equal(req(f, 3, 2, "r", MODE_CR, 0), 0);
	assert_int_equal(n_kind(f, LS_OUT_GRANTED), 0);

	assert_int_equal(rel(f, 1, 1, NULL), 0);
	assert_int_equal(n_kind(f, LS_OUT_GRANTED), 1);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(2, 1)));

	assert_int_equal(rel(f, 2, 1, NULL), 0);
	assert_int_equal(n_kind(f, LS_OUT_GRANTED), 2);
	/* in arrival order */
	assert_int_equal(f->out.items[1].o_lkid, LKID(3, 1));
	assert_int_equal(f->out.items[2].o_lkid, LKID(3, 2));
}

static void test_convert_up_down(void **state)
{
	struct fx *f = *state;

	assert_int_equal(req(f, 1, 1, "r", MODE_PR, 0), 0);
	assert_int_equal(req(f, 2, 1, "r", MODE_PR, 0), 0);
	assert_int_equal(conv(f, 1, 1, MODE_EX, 0, NULL), 0);
	assert_int_equal(lk_queue(f, 1, 1), LS_Q_CONVERT);
	assert_int_equal(lk_grmode(f, 1, 1), MODE_PR);
	assert_non_null(find(f, LS_OUT_BLOCKING, LKID(2, 1)));
	assert_null(find(f, LS_OUT_BLOCKING, LKID(1, 1)));
	/* the converter has priority over a new waiter */
	assert_int_equal(req(f, 3, 1, "r", MODE_NL, 0), 0);
	assert_int_equal(lk_queue(f, 3, 1), LS_Q_WAIT);

	assert_int_equal(rel(f, 2, 1, NULL), 0);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(1, 1)));
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(3, 1)));
	assert_int_equal(lk_grmode(f, 1, 1), MODE_EX);

	assert_int_equal(req(f, 2, 2, "r", MODE_PR, 0), 0);
	assert_int_equal(lk_queue(f, 2, 2), LS_Q_WAIT);
	/* down-convert: immediate, and unblocks the waiter */
	assert_int_equal(conv(f, 1, 1, MODE_PR, 0, NULL), 0);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(1, 1)));
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(2, 2)));
	assert_int_equal(lk_grmode(f, 1, 1), MODE_PR);

	/* converting a queued lock is refused, state unchanged */
	assert_int_equal(conv(f, 2, 2, MODE_EX, 0, NULL), 0);
	assert_int_equal(conv(f, 2, 2, MODE_NL, 0, NULL), -EBUSY);
	assert_int_equal(rel(f, 2, 2, NULL), -EBUSY);
}

static void test_convert_deadlock(void **state)
{
	struct fx *f = *state;
	const struct ls_out_item *it;

	assert_int_equal(req(f, 1, 1, "r", MODE_PR, 0), 0);
	assert_int_equal(req(f, 2, 1, "r", MODE_PR, 0), 0);
	assert_int_equal(conv(f, 1, 1, MODE_EX, 0, NULL), 0);
	assert_int_equal(n_kind(f, LS_OUT_BLOCKING), 1);
	/* the later converter in the total order loses */
	assert_int_equal(conv(f, 2, 1, MODE_EX, 0, NULL), 0);
	it = find(f, LS_OUT_DEADLOCK, LKID(2, 1));
	assert_non_null(it);
	assert_int_equal(it->o_err, -EDEADLK);
	assert_int_equal(lk_queue(f, 2, 1), LS_Q_GRANTED);
	assert_int_equal(lk_grmode(f, 2, 1), MODE_PR);
	assert_int_equal(lk_queue(f, 1, 1), LS_Q_CONVERT);
	/* its holder was already told once */
	assert_int_equal(n_kind(f, LS_OUT_BLOCKING), 0);

	assert_int_equal(rel(f, 2, 1, NULL), 0);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(1, 1)));
	assert_int_equal(lk_grmode(f, 1, 1), MODE_EX);
}

static void test_noqueue(void **state)
{
	struct fx *f = *state;
	const struct ls_out_item *it;

	/* free resource: granted at once */
	assert_int_equal(req(f, 1, 1, "r", MODE_EX, LS_LKF_NOQUEUE), 0);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(1, 1)));

	assert_int_equal(req(f, 2, 1, "r", MODE_PR, LS_LKF_NOQUEUE), 0);
	it = find(f, LS_OUT_NOQUEUE_FAILED, LKID(2, 1));
	assert_non_null(it);
	assert_int_equal(it->o_err, SDLM_EBUSY);
	assert_memory_equal(it->o_name, "r", 1);
	assert_int_equal(n_kind(f, LS_OUT_BLOCKING), 0);
	assert_int_equal(lk_queue(f, 2, 1), -1);
	/* the same lock id is free for another try */
	assert_int_equal(req(f, 2, 1, "r", MODE_PR,
			     LS_LKF_NOQUEUE | LS_LKF_NOQUEUEBAST), 0);
	assert_non_null(find(f, LS_OUT_NOQUEUE_FAILED, LKID(2, 1)));
	assert_non_null(find(f, LS_OUT_BLOCKING, LKID(1, 1)));

	/* compatible with granted, but a waiter is queued: fails */
	assert_int_equal(conv(f, 1, 1, MODE_PR, 0, NULL), 0);
	assert_int_equal(req(f, 3, 1, "r", MODE_EX, 0), 0);
	assert_int_equal(req(f, 2, 2, "r", MODE_PR, LS_LKF_NOQUEUE), 0);
	assert_non_null(find(f, LS_OUT_NOQUEUE_FAILED, LKID(2, 2)));

	/* NOQUEUE convert */
	assert_int_equal(req(f, 2, 3, "s", MODE_PR, 0), 0);
	assert_int_equal(req(f, 1, 3, "s", MODE_PR, 0), 0);
	assert_int_equal(conv(f, 1, 3, MODE_EX, LS_LKF_NOQUEUE, NULL), 0);
	it = find(f, LS_OUT_NOQUEUE_FAILED, LKID(1, 3));
	assert_non_null(it);
	assert_int_equal(it->o_mode, MODE_PR);
	assert_int_equal(lk_queue(f, 1, 3), LS_Q_GRANTED);
	assert_int_equal(rel(f, 2, 3, NULL), 0);
	assert_int_equal(conv(f, 1, 3, MODE_EX, LS_LKF_NOQUEUE, NULL), 0);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(1, 3)));
	assert_int_equal(lk_grmode(f, 1, 3), MODE_EX);
}

static void test_cancel(void **state)
{
	struct fx *f = *state;
	const struct ls_out_item *it;

	assert_int_equal(req(f, 1, 1, "r", MODE_PR, 0), 0);
	assert_int_equal(req(f, 2, 1, "r", MODE_PR, 0), 0);
	assert_int_equal(req(f, 3, 1, "r", MODE_EX, 0), 0);
	assert_int_equal(cancel(f, 3, 1), 0);
	it = find(f, LS_OUT_CANCELLED, LKID(3, 1));
	assert_non_null(it);
	assert_int_equal(it->o_err, SDLM_ECANCELED);
	assert_int_equal(lk_queue(f, 3, 1), -1);

	assert_int_equal(conv(f, 2, 1, MODE_EX, 0, NULL), 0);
	assert_int_equal(cancel(f, 2, 1), 0);
	it = find(f, LS_OUT_CANCELLED, LKID(2, 1));
	assert_non_null(it);
	assert_int_equal(it->o_mode, MODE_PR);
	assert_int_equal(lk_queue(f, 2, 1), LS_Q_GRANTED);
	assert_int_equal(lk_grmode(f, 2, 1), MODE_PR);

	/* the grant won the race */
	assert_int_equal(cancel(f, 2, 1), -EALREADY);
	assert_int_equal(cancel(f, 2, 9), -ENOENT);
	/* a lock of another node */
	assert_int_equal(cancel(f, 1, 1), -EALREADY);
	{
		struct ls_event ev = { .ev_kind = LS_EV_CANCEL, .ev_nodeid = 3,
				       .ev_lkid = LKID(1, 1) };
		assert_int_equal(ls_apply(f->ls, &ev, &f->out), -ENOENT);
	}

	/* cancelling the head waiter lets the next one in */
	assert_int_equal(rel(f, 2, 1, NULL), 0);
	assert_int_equal(req(f, 3, 2, "r", MODE_EX, 0), 0);
	assert_int_equal(req(f, 2, 2, "r", MODE_PR, 0), 0);
	assert_int_equal(n_kind(f, LS_OUT_GRANTED), 0);
	assert_int_equal(cancel(f, 3, 2), 0);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(2, 2)));
}

/* ---- LVB ------------------------------------------------------------------ */

static void test_lvb(void **state)
{
	struct fx *f = *state;
	const struct ls_out_item *it;
	uint8_t a[LS_LVB_LEN], b[LS_LVB_LEN], c[LS_LVB_LEN];

	memset(a, 0xa1, sizeof(a));
	memset(b, 0xb2, sizeof(b));
	memset(c, 0xc3, sizeof(c));

	assert_int_equal(req(f, 1, 1, "uid", MODE_EX, 0), 0);
	assert_int_equal(req(f, 2, 1, "uid", MODE_PR, 0), 0);
	assert_int_equal(rel(f, 1, 1, a), 0);
	it = find(f, LS_OUT_GRANTED, LKID(2, 1));
	assert_non_null(it);
	assert_true(it->o_lvb_valid);
	assert_memory_equal(it->o_lvb, a, LS_LVB_LEN);

	/* a PR holder's bytes are ignored */
	assert_int_equal(req(f, 3, 1, "uid", MODE_EX, 0), 0);
	assert_int_equal(rel(f, 2, 1, b), 0);
	it = find(f, LS_OUT_GRANTED, LKID(3, 1));
	assert_non_null(it);
	assert_true(it->o_lvb_valid);
	assert_memory_equal(it->o_lvb, a, LS_LVB_LEN);

	/* a down-convert from EX writes */
	assert_int_equal(req(f, 1, 2, "uid", MODE_PR, 0), 0);
	assert_int_equal(conv(f, 3, 1, MODE_PR, 0, c), 0);
	it = find(f, LS_OUT_GRANTED, LKID(1, 2));
	assert_non_null(it);
	assert_memory_equal(it->o_lvb, c, LS_LVB_LEN);

	/* fence of an EX holder invalidates */
	assert_int_equal(rel(f, 1, 2, NULL), 0);
	assert_int_equal(conv(f, 3, 1, MODE_EX, 0, NULL), 0);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(3, 1)));
	assert_int_equal(req(f, 2, 2, "uid", MODE_EX, 0), 0);
	assert_int_equal(confchg(f, 2, true, m12, 2), 0);
	assert_int_equal(fenced(f, 3, 1), 0);
	it = find(f, LS_OUT_GRANTED, LKID(2, 2));
	assert_non_null(it);
	assert_false(it->o_lvb_valid);

	/* until the next EX holder writes it */
	assert_int_equal(req(f, 1, 3, "uid", MODE_EX, 0), 0);
	assert_int_equal(rel(f, 2, 2, b), 0);
	it = find(f, LS_OUT_GRANTED, LKID(1, 3));
	assert_non_null(it);
	assert_true(it->o_lvb_valid);
	assert_memory_equal(it->o_lvb, b, LS_LVB_LEN);

	/* IVVALBLK */
	assert_int_equal(req(f, 2, 3, "uid", MODE_EX, 0), 0);
	{
		struct ls_event ev = { .ev_kind = LS_EV_RELEASE, .ev_nodeid = 1,
				       .ev_lkid = LKID(1, 3),
				       .ev_flags = LS_LKF_IVVALBLK };
		assert_int_equal(ls_apply(f->ls, &ev, &f->out), 0);
	}
	it = find(f, LS_OUT_GRANTED, LKID(2, 3));
	assert_non_null(it);
	assert_false(it->o_lvb_valid);
}

/* ---- blocking notifications --------------------------------------------- */

static void test_blocking_once(void **state)
{
	struct fx *f = *state;
	const struct ls_out_item *it;

	assert_int_equal(req(f, 1, 1, "r", MODE_EX, 0), 0);
	assert_int_equal(req(f, 2, 1, "r", MODE_PR, 0), 0);
	assert_int_equal(n_kind(f, LS_OUT_BLOCKING), 1);
	assert_int_equal(req(f, 3, 1, "r", MODE_PR, 0), 0);
	assert_int_equal(n_kind(f, LS_OUT_BLOCKING), 0);
	assert_int_equal(req(f, 3, 2, "r", MODE_EX, 0), 0);
	assert_int_equal(n_kind(f, LS_OUT_BLOCKING), 0);
	assert_int_equal(status(f, 2, true, false), 0);
	assert_int_equal(n_kind(f, LS_OUT_BLOCKING), 0);

	/* a new granted mode is a new episode */
	assert_int_equal(conv(f, 1, 1, MODE_PR, 0, NULL), 0);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(2, 1)));
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(3, 1)));
	/* 3/2 wants EX: every PR holder hears it once */
	assert_int_equal(n_kind(f, LS_OUT_BLOCKING), 3);
	it = find(f, LS_OUT_BLOCKING, LKID(1, 1));
	assert_non_null(it);
	assert_int_equal(it->o_mode, MODE_EX);
	assert_non_null(find(f, LS_OUT_BLOCKING, LKID(2, 1)));
	assert_non_null(find(f, LS_OUT_BLOCKING, LKID(3, 1)));
	assert_int_equal(rel(f, 2, 1, NULL), 0);
	assert_int_equal(n_kind(f, LS_OUT_BLOCKING), 0);
}

/*
 * A blocking episode ends when nobody is blocked any more (the waiter
 * cancelled, or its node left): the next waiter is a new episode and the
 * holder hears of it again.  Regression (nemesis seed 4): a holder whose
 * node missed the first BLOCKING (it was waiting for the state) never
 * heard of the next waiter and served the lock from its cache forever.
 */
static void test_blocking_new_episode(void **state)
{
	struct fx *f = *state;
	const struct ls_out_item *it;

	assert_int_equal(req(f, 2, 1, "r", MODE_EX, 0), 0);
	assert_int_equal(req(f, 3, 1, "r", MODE_EX, 0), 0);
	assert_non_null(find(f, LS_OUT_BLOCKING, LKID(2, 1)));
	assert_int_equal(cancel(f, 3, 1), 0);
	assert_int_equal(req(f, 1, 1, "r", MODE_EX, 0), 0);
	it = find(f, LS_OUT_BLOCKING, LKID(2, 1));
	assert_non_null(it);
	assert_int_equal(it->o_mode, MODE_EX);
	/* same after a waiter's node left */
	assert_int_equal(cancel(f, 1, 1), 0);
	assert_int_equal(req(f, 3, 2, "r", MODE_PR, 0), 0);
	assert_non_null(find(f, LS_OUT_BLOCKING, LKID(2, 1)));
	assert_int_equal(confchg(f, 2, true, m12, 2), 0);
	assert_int_equal(lk_queue(f, 3, 2), -1);
	assert_int_equal(req(f, 1, 2, "r", MODE_PR, 0), 0);
	it = find(f, LS_OUT_BLOCKING, LKID(2, 1));
	assert_non_null(it);
	assert_int_equal(it->o_mode, MODE_PR);
	/* while someone stays blocked, once per episode still holds */
	assert_int_equal(req(f, 1, 3, "r", MODE_EX, 0), 0);
	assert_int_equal(n_kind(f, LS_OUT_BLOCKING), 0);
}

/* ---- membership and fencing ----------------------------------------------- */

static void test_away_need_fence_return(void **state)
{
	struct fx *f = *state;
	struct ls_lock_info li;

	assert_int_equal(req(f, 1, 1, "r", MODE_EX, 0), 0);
	assert_int_equal(confchg(f, 2, true, m23, 2), 0);
	assert_int_equal(ls_lock_get(f->ls, LKID(1, 1), &li), 0);
	assert_true(li.away);
	assert_int_equal(li.queue, LS_Q_GRANTED);
	assert_int_equal(f->out.count, 0);	/* nothing to say yet */

	assert_int_equal(req(f, 2, 1, "r", MODE_EX, 0), 0);
	assert_int_equal(n_kind(f, LS_OUT_GRANTED), 0);
	assert_int_equal(n_kind(f, LS_OUT_BLOCKING), 0);
	assert_non_null(find_fence(f, 1));
	assert_int_equal(req(f, 3, 1, "r", MODE_PR, 0), 0);
	assert_int_equal(n_kind(f, LS_OUT_NEED_FENCE), 0);
	/* the away node cannot ask for anything */
	assert_int_equal(req(f, 1, 2, "x", MODE_NL, 0), -EPERM);

	/* it comes back before the fence: keeps its lock, hears BLOCKING */
	assert_int_equal(confchg(f, 3, true, m123, 3), 0);
	assert_int_equal(lk_queue(f, 1, 1), LS_Q_GRANTED);
	assert_non_null(find(f, LS_OUT_BLOCKING, LKID(1, 1)));
	assert_int_equal(n_kind(f, LS_OUT_GRANTED), 0);

	/* away again: a new away episode asks for a fence again */
	assert_int_equal(confchg(f, 4, true, m23, 2), 0);
	assert_non_null(find_fence(f, 1));
}

static void test_fenced_releases(void **state)
{
	struct fx *f = *state;
	const struct ls_out_item *it;
	struct ls_node_info ni;
	uint8_t a[LS_LVB_LEN];

	memset(a, 0x5a, sizeof(a));
	assert_int_equal(req(f, 1, 1, "r", MODE_EX, 0), 0);
	assert_int_equal(req(f, 2, 1, "r", MODE_EX, 0), 0);
	assert_int_equal(rel(f, 1, 1, a), 0);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(2, 1)));
	assert_int_equal(req(f, 1, 2, "r", MODE_PR, 0), 0);
	assert_int_equal(req(f, 2, 2, "other", MODE_PR, 0), 0);

	/* 2 leaves holding EX: its other waiting? none; 1 waits */
	assert_int_equal(confchg(f, 2, true, (const uint32_t[]){ 1, 3 }, 2), 0);
	assert_non_null(find_fence(f, 2));
	assert_int_equal(lk_queue(f, 1, 2), LS_Q_WAIT);

	assert_int_equal(fenced(f, 2, 7), 0);
	it = find(f, LS_OUT_RELEASED, LKID(2, 1));
	assert_non_null(it);
	assert_int_equal(it->o_err, SDLM_EFENCED);
	assert_non_null(find(f, LS_OUT_RELEASED, LKID(2, 2)));
	it = find(f, LS_OUT_GRANTED, LKID(1, 2));
	assert_non_null(it);
	assert_false(it->o_lvb_valid);
	assert_int_equal(ls_node_get(f->ls, 2, &ni), 0);
	assert_true(ni.fenced);
	assert_int_equal(ni.lock_count, 0);
	assert_int_equal(ni.fenced_incarnation, 7);

	/* duplicates and stale incarnations change nothing */
	assert_int_equal(fenced(f, 2, 7), -EALREADY);
	assert_int_equal(fenced(f, 2, 3), -EALREADY);

	/* it rejoins: a fresh start */
	assert_int_equal(confchg(f, 3, true, m123, 3), 0);
	assert_int_equal(ls_node_get(f->ls, 2, &ni), 0);
	assert_false(ni.fenced);
	assert_int_equal(req(f, 2, 3, "r", MODE_PR, 0), 0);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(2, 3)));

	/* fenced while still a member: refused until it leaves and rejoins */
	assert_int_equal(fenced(f, 3, 1), 0);
	assert_int_equal(req(f, 3, 1, "q", MODE_PR, 0), SDLM_EFENCED);
	assert_int_equal(confchg(f, 4, true, m12, 2), 0);
	assert_int_equal(confchg(f, 5, true, m123, 3), 0);
	assert_int_equal(req(f, 3, 1, "q", MODE_PR, 0), 0);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(3, 1)));
}

static void test_leaver_requests_dropped(void **state)
{
	struct fx *f = *state;
	const struct ls_out_item *it;

	assert_int_equal(req(f, 1, 1, "r", MODE_PR, 0), 0);
	assert_int_equal(req(f, 3, 1, "r", MODE_PR, 0), 0);
	assert_int_equal(req(f, 3, 2, "s", MODE_EX, 0), 0);
	assert_int_equal(req(f, 1, 2, "s", MODE_EX, 0), 0);	/* waits */
	assert_int_equal(conv(f, 1, 1, MODE_EX, 0, NULL), 0);	/* converts */
	assert_int_equal(confchg(f, 2, true, m23, 2), 0);
	it = find(f, LS_OUT_CANCELLED, LKID(1, 2));
	assert_non_null(it);
	assert_int_equal(it->o_err, SDLM_ENOQUORUM);
	assert_int_equal(lk_queue(f, 1, 2), -1);
	it = find(f, LS_OUT_CANCELLED, LKID(1, 1));
	assert_non_null(it);
	assert_int_equal(lk_queue(f, 1, 1), LS_Q_GRANTED);
	assert_int_equal(lk_grmode(f, 1, 1), MODE_PR);
	/* creation order of the node's locks */
	assert_int_equal(f->out.items[0].o_lkid, LKID(1, 1));
	assert_int_equal(f->out.items[1].o_lkid, LKID(1, 2));
}

static void test_quorum(void **state)
{
	struct fx *f = *state;

	assert_int_equal(req(f, 1, 1, "r", MODE_EX, 0), 0);
	assert_int_equal(req(f, 2, 1, "r", MODE_EX, 0), 0);
	assert_int_equal(confchg(f, 2, false, m12, 2), 0);
	/* releases apply; nothing new is granted or fenced */
	assert_int_equal(rel(f, 1, 1, NULL), 0);
	assert_non_null(find(f, LS_OUT_RELEASED, LKID(1, 1)));
	assert_int_equal(n_kind(f, LS_OUT_GRANTED), 0);
	assert_int_equal(req(f, 1, 2, "a", MODE_NL, 0), 0);
	assert_int_equal(n_kind(f, LS_OUT_GRANTED), 0);
	assert_false(ls_quorate(f->ls));

	assert_int_equal(confchg(f, 3, true, m123, 3), 0);
	assert_int_equal(n_kind(f, LS_OUT_GRANTED), 2);
	/* pending resources retried in name order, not arrival order */
	assert_int_equal(f->out.items[0].o_lkid, LKID(1, 2));
	assert_int_equal(f->out.items[1].o_lkid, LKID(2, 1));
	assert_int_equal(ls_ring_id(f->ls), 3);
}

static void test_status_gates_grant(void **state)
{
	struct fx *f = *state;

	assert_int_equal(status(f, 2, false, false), 0);
	assert_int_equal(req(f, 2, 1, "r", MODE_EX, 0), 0);
	assert_int_equal(n_kind(f, LS_OUT_GRANTED), 0);
	assert_int_equal(req(f, 2, 2, "n", MODE_EX, LS_LKF_NOQUEUE), 0);
	assert_non_null(find(f, LS_OUT_NOQUEUE_FAILED, LKID(2, 2)));
	/* ineligible head is skipped, keeps its place */
	assert_int_equal(req(f, 3, 1, "r", MODE_PR, 0), 0);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(3, 1)));
	assert_int_equal(status(f, 2, true, false), 0);
	assert_int_equal(n_kind(f, LS_OUT_GRANTED), 0);
	assert_non_null(find(f, LS_OUT_BLOCKING, LKID(3, 1)));
	assert_int_equal(req(f, 1, 1, "r", MODE_PR, 0), 0);
	assert_int_equal(n_kind(f, LS_OUT_GRANTED), 0);	/* behind 2's EX */
	assert_int_equal(rel(f, 3, 1, NULL), 0);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(2, 1)));
	assert_null(find(f, LS_OUT_GRANTED, LKID(1, 1)));

	/* pill pending */
	assert_int_equal(status(f, 3, true, true), 0);
	assert_int_equal(req(f, 3, 2, "p", MODE_NL, 0), 0);
	assert_int_equal(n_kind(f, LS_OUT_GRANTED), 0);
	assert_int_equal(status(f, 3, true, false), 0);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(3, 2)));
}

static void test_default_not_live(void **state)
{
	struct fx *f = *state;	/* bare: default_live = false */
	struct ls_node_info ni;

	assert_int_equal(confchg(f, 1, true, m12, 2), 0);
	assert_int_equal(req(f, 1, 1, "r", MODE_EX, 0), 0);
	assert_int_equal(n_kind(f, LS_OUT_GRANTED), 0);
	assert_int_equal(ls_node_get(f->ls, 1, &ni), 0);
	assert_false(ni.eligible);
	assert_int_equal(status(f, 1, true, false), 0);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(1, 1)));
}

static void test_cold_gate(void **state)
{
	struct fx *f = *state;	/* cold, default_live = true */

	assert_true(ls_grants_blocked(f->ls));
	assert_int_equal(confchg(f, 1, true, m12, 2), 0);
	assert_int_equal(req(f, 1, 1, "r", MODE_EX, 0), 0);
	assert_int_equal(req(f, 2, 1, "s", MODE_EX, 0), 0);
	assert_int_equal(n_kind(f, LS_OUT_GRANTED), 0);
	assert_int_equal(gate(f, true), 0);
	assert_false(ls_grants_blocked(f->ls));
	assert_int_equal(n_kind(f, LS_OUT_GRANTED), 2);
	assert_int_equal(gate(f, false), 0);
	assert_int_equal(req(f, 2, 2, "t", MODE_NL, 0), 0);
	assert_int_equal(n_kind(f, LS_OUT_GRANTED), 0);
}

static void test_rejects_leave_state(void **state)
{
	struct fx *f = *state;
	uint64_t d;
	char big[LS_NAME_MAX + 1];
	struct ls_event ev = { 0 };

	assert_int_equal(req(f, 1, 1, "r", MODE_EX, 0), 0);
	/* the longest name is fine */
	memset(big, 'x', sizeof(big) - 1);
	big[LS_NAME_MAX] = 0;
	assert_int_equal(req(f, 1, 2, big, MODE_EX, 0), 0);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(1, 2)));
	assert_int_equal(rel(f, 1, 2, NULL), 0);
	d = ls_digest(f->ls);

	assert_int_equal(req(f, 2, 1, "r", 6, 0), -EINVAL);
	assert_int_equal(req(f, 2, 1, "r", MODE_NONE, 0), -EINVAL);
	assert_int_equal(req(f, 2, 1, "", MODE_PR, 0), -EINVAL);
	{
		char big2[LS_NAME_MAX + 2];

		memset(big2, 'z', sizeof(big2) - 1);
		big2[LS_NAME_MAX + 1] = 0;
		assert_int_equal(req(f, 2, 1, big2, MODE_PR, 0), -EINVAL);
	}
	assert_int_equal(req(f, 2, 1, "r", MODE_PR, 0x100), -EINVAL);
	assert_int_equal(req(f, 1, 1, "r", MODE_PR, 0), -EEXIST);
	assert_int_equal(req(f, 9, 1, "r", MODE_PR, 0), -EPERM);
	ev.ev_kind = LS_EV_REQUEST;
	ev.ev_nodeid = 2;
	ev.ev_lkid = LKID(3, 1);	/* not node 2's id */
	ev.ev_mode = MODE_PR;
	ev.ev_name = "r";
	ev.ev_namelen = 1;
	assert_int_equal(ls_apply(f->ls, &ev, &f->out), -EINVAL);
	assert_int_equal(confchg(f, 9, true, (const uint32_t[]){ 2, 1 }, 2),
			 -EINVAL);
	assert_int_equal(confchg(f, 9, true, (const uint32_t[]){ 1, 1 }, 2),
			 -EINVAL);
	assert_int_equal(confchg(f, 9, true, (const uint32_t[]){ 0, 1 }, 2),
			 -EINVAL);
	assert_int_equal(rel(f, 2, 1, NULL), -ENOENT);
	assert_int_equal(conv(f, 1, 1, 7, 0, NULL), -EINVAL);
	ev.ev_kind = 99;
	assert_int_equal(ls_apply(f->ls, &ev, &f->out), -EINVAL);
	assert_int_equal(d, ls_digest(f->ls));
	assert_int_equal(f->out.count, 0);
}

/* ---- snapshot ------------------------------------------------------------- */

static void build_rich_state(struct fx *f)
{
	uint8_t a[LS_LVB_LEN];

	memset(a, 0x42, sizeof(a));
	assert_int_equal(req(f, 1, 1, "alpha", MODE_EX, 0), 0);
	assert_int_equal(req(f, 2, 1, "alpha", MODE_PR, 0), 0);
	assert_int_equal(req(f, 3, 1, "alpha", MODE_CR, 0), 0);
	assert_int_equal(req(f, 1, 2, "beta", MODE_PR, 0), 0);
	assert_int_equal(req(f, 2, 2, "beta", MODE_PR, 0), 0);
	assert_int_equal(conv(f, 1, 2, MODE_EX, 0, NULL), 0);
	assert_int_equal(req(f, 3, 2, "gamma", MODE_PW, 0), 0);
	assert_int_equal(req(f, 1, 3, "gamma", MODE_EX, 0), 0);
	assert_int_equal(rel(f, 3, 2, a), 0);
	assert_int_equal(req(f, 3, 3, "\x01\xff", MODE_NL, 0), 0);
	assert_int_equal(status(f, 4, false, true), 0);
	assert_int_equal(confchg(f, 7, true, m23, 2), 0);
	assert_int_equal(req(f, 3, 4, "gamma", MODE_PR, 0), 0);
}

static uint8_t *snap(struct ls_state *ls, size_t *len)
{
	size_t n = ls_snapshot_size(ls), w = 0;
	uint8_t *buf = malloc(n);

	assert_non_null(buf);
	assert_int_equal(ls_snapshot_encode(ls, buf, n - 1, &w), -ENOSPC);
	assert_int_equal(ls_snapshot_encode(ls, buf, n, &w), 0);
	assert_int_equal(w, n);
	*len = n;
	return buf;
}

static void recrc(uint8_t *buf, size_t len)
{
	uint32_t c = crc32c(0, buf, len - 4);

	buf[len - 4] = (uint8_t)c;
	buf[len - 3] = (uint8_t)(c >> 8);
	buf[len - 2] = (uint8_t)(c >> 16);
	buf[len - 1] = (uint8_t)(c >> 24);
}

static void test_snapshot_roundtrip(void **state)
{
	struct fx *f = *state, g = { 0 };
	uint8_t *buf, *buf2;
	size_t len, len2, i;

	build_rich_state(f);
	buf = snap(f->ls, &len);
	assert_int_equal(ls_snapshot_decode(buf, len, &g.ls), 0);
	ls_out_init(&g.out);
	assert_int_equal(ls_digest(f->ls), ls_digest(g.ls));
	assert_int_equal(ls_lock_count(f->ls), ls_lock_count(g.ls));
	assert_int_equal(ls_resource_count(f->ls), 4);
	assert_int_equal(ls_resource_count(g.ls), 4);
	buf2 = snap(g.ls, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, buf2, len);
	free(buf2);

	/* both go on identically: node 1 fenced frees gamma and alpha */
	assert_int_equal(fenced(f, 1, 1), 0);
	assert_int_equal(fenced(&g, 1, 1), 0);
	assert_true(f->out.count > 0);
	assert_int_equal(f->out.count, g.out.count);
	for (i = 0; i < f->out.count; i++)
		assert_memory_equal(&f->out.items[i], &g.out.items[i],
				    sizeof(f->out.items[i]));
	assert_int_equal(ls_digest(f->ls), ls_digest(g.ls));
	/* the digest does see a change */
	assert_int_equal(req(f, 2, 9, "delta", MODE_NL, 0), 0);
	assert_int_not_equal(ls_digest(f->ls), ls_digest(g.ls));

	ls_out_free(&g.out);
	ls_destroy(g.ls);
	free(buf);
}

static void test_snapshot_corrupt(void **state)
{
	struct fx *f = *state;
	struct ls_state *g = NULL;
	uint8_t *buf, *bad;
	size_t len, i;
	int rc;

	build_rich_state(f);
	buf = snap(f->ls, &len);
	bad = malloc(len);
	assert_non_null(bad);

	for (i = 0; i < len; i++) {
		assert_int_equal(ls_snapshot_decode(buf, i, &g), SDLM_EPROTO);
		assert_null(g);
	}
	for (i = 0; i < len; i++) {
		memcpy(bad, buf, len);
		bad[i] ^= 0x10;
		rc = ls_snapshot_decode(bad, len, &g);
		assert_true(rc == SDLM_ECHECKSUM || rc == SDLM_EMAGIC ||
			    rc == SDLM_EVERSION || rc == SDLM_EPROTO);
		assert_null(g);
	}
	memcpy(bad, buf, len);
	bad[len / 2] ^= 1;
	assert_int_equal(ls_snapshot_decode(bad, len, &g), SDLM_ECHECKSUM);
	memcpy(bad, buf, len);
	bad[0] ^= 1;
	assert_int_equal(ls_snapshot_decode(bad, len, &g), SDLM_EMAGIC);
	memcpy(bad, buf, len);
	bad[4] = 9;
	assert_int_equal(ls_snapshot_decode(bad, len, &g), SDLM_EVERSION);

	/* sane checksum, insane content: every field with a rule */
	{
		/* offsets: hdr 48, 4 nodes x 16, then the "\1\377" resource */
		size_t res0 = 48 + 4 * 16, lk0 = res0 + 104;
		struct { size_t off; uint8_t val; } cases[] = {
			{ res0 + 0, 0 },		/* name length 0 */
			{ res0 + 0, 65 },		/* name length 65 */
			{ res0 + 1, 0x80 },		/* unknown flag */
			{ res0 + 4, 0 },		/* no locks */
			{ res0 + 4, 200 },		/* more locks than exist */
			{ res0 + 8 + 10, 1 },		/* name tail not zero */
			{ lk0 + 16, 2 },		/* lkid of another node */
			{ lk0 + 24, 9 },		/* bad granted mode */
			{ lk0 + 27, 3 },		/* bad queue */
			{ lk0 + 28, 1 },		/* reserved */
			{ 8, 0x80 },			/* header flag */
			{ 12, 5 },			/* node count */
			{ 48, 0 },			/* node id 0 */
		};
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			memcpy(bad, buf, len);
			bad[cases[i].off] = cases[i].val;
			recrc(bad, len);
			assert_int_equal(ls_snapshot_decode(bad, len, &g),
					 SDLM_EPROTO);
			assert_null(g);
		}
	}
	/* two EX grants on one resource: the safety invariant */
	{
		struct fx h;
		size_t hlen, res0 = 48 + 3 * 16, lk0 = res0 + 104;
		uint8_t *hb;

		memset(&h, 0, sizeof(h));
		{
			struct ls_params p = { .default_live = true };

			assert_int_equal(ls_create(&p, &h.ls), 0);
		}
		ls_out_init(&h.out);
		assert_int_equal(confchg(&h, 1, true, m123, 3), 0);
		assert_int_equal(req(&h, 1, 1, "z", MODE_PR, 0), 0);
		assert_int_equal(req(&h, 2, 1, "z", MODE_PR, 0), 0);
		hb = snap(h.ls, &hlen);
		assert_int_equal(ls_snapshot_decode(hb, hlen, &g), 0);
		ls_destroy(g);
		g = NULL;
		hb[lk0 + 24] = MODE_EX;
		hb[lk0 + 25] = MODE_EX;
		recrc(hb, hlen);
		assert_int_equal(ls_snapshot_decode(hb, hlen, &g), SDLM_EPROTO);
		assert_null(g);
		free(hb);
		ls_out_free(&h.out);
		ls_destroy(h.ls);
	}
	free(bad);
	free(buf);
}

/* ---- epochs (fencing tokens) -------------------------------------------- */

static uint64_t granted_epoch(const struct fx *f, uint32_t node, uint32_t n)
{
	const struct ls_out_item *it = find(f, LS_OUT_GRANTED, LKID(node, n));

	assert_non_null(it);
	return it->o_epoch;
}

static int epoch_of_cb(const struct ls_res_info *res, void *arg)
{
	uint64_t *e = arg;

	if (res->namelen == 4 && !memcmp(res->name, "mbox", 4))
		*e = res->epoch;
	return 0;
}

static void test_epochs(void **state)
{
	struct fx *f = *state, g = { 0 };
	uint64_t e1, e2, e3, e;
	uint8_t *buf;
	size_t len;

	assert_int_equal(ls_epoch(f->ls), 0);
	assert_int_equal(req(f, 1, 1, "mbox", MODE_EX, 0), 0);
	e1 = granted_epoch(f, 1, 1);
	assert_true(e1 >= 1);
	/* a read grant on an unwritten resource starts no tenure */
	assert_int_equal(req(f, 3, 1, "other", MODE_PR, 0), 0);
	assert_int_equal(granted_epoch(f, 3, 1), 0);
	/* the next writer of mbox gets a strictly larger epoch */
	assert_int_equal(req(f, 2, 1, "mbox", MODE_EX, 0), 0);
	assert_null(find(f, LS_OUT_GRANTED, LKID(2, 1)));
	assert_int_equal(rel(f, 1, 1, NULL), 0);
	e2 = granted_epoch(f, 2, 1);
	assert_true(e2 > e1);
	/* an up-conversion to a write mode is a new tenure */
	assert_int_equal(conv(f, 3, 1, MODE_EX, 0, NULL), 0);
	e3 = granted_epoch(f, 3, 1);
	assert_true(e3 > e2);
	/* a down-convert keeps the tenure: EX -> PW, same epoch */
	assert_int_equal(conv(f, 3, 1, MODE_PW, 0, NULL), 0);
	assert_int_equal(granted_epoch(f, 3, 1), e3);
	/* EX -> PR on mbox; a reader joining sees the last writer's epoch */
	assert_int_equal(conv(f, 2, 1, MODE_PR, 0, NULL), 0);
	assert_int_equal(granted_epoch(f, 2, 1), e2);
	assert_int_equal(req(f, 1, 2, "mbox", MODE_PR, 0), 0);
	assert_int_equal(granted_epoch(f, 1, 2), e2);
	assert_int_equal(ls_epoch(f->ls), e3);
	e = 0;
	assert_int_equal(ls_foreach_resource(f->ls, epoch_of_cb, &e), 0);
	assert_int_equal(e, e2);

	/* a fenced writer's successor: larger again */
	assert_int_equal(conv(f, 2, 1, MODE_EX, 0, NULL), 0);
	assert_int_equal(rel(f, 1, 2, NULL), 0);
	e = granted_epoch(f, 2, 1);
	assert_true(e > e3);
	assert_int_equal(req(f, 1, 3, "mbox", MODE_EX, 0), 0);
	assert_null(find(f, LS_OUT_GRANTED, LKID(1, 3)));

	/* snapshots carry both the counter and the resource epochs */
	buf = snap(f->ls, &len);
	assert_int_equal(ls_snapshot_decode(buf, len, &g.ls), 0);
	ls_out_init(&g.out);
	assert_int_equal(ls_epoch(g.ls), ls_epoch(f->ls));
	assert_int_equal(ls_digest(g.ls), ls_digest(f->ls));
	assert_int_equal(fenced(f, 2, 1), 0);
	assert_int_equal(fenced(&g, 2, 1), 0);
	assert_true(granted_epoch(f, 1, 3) > e);
	assert_int_equal(granted_epoch(&g, 1, 3), granted_epoch(f, 1, 3));
	ls_out_free(&g.out);
	ls_destroy(g.ls);
	g.ls = NULL;
	free(buf);
}

/* The digest sees an epoch that differs and nothing else. */
static void test_epoch_in_digest(void **state)
{
	struct fx *f = *state;
	uint64_t d1;

	assert_int_equal(req(f, 1, 1, "mbox", MODE_PR, 0), 0);
	d1 = ls_digest(f->ls);
	assert_int_equal(conv(f, 1, 1, MODE_EX, 0, NULL), 0);
	assert_int_equal(conv(f, 1, 1, MODE_PR, 0, NULL), 0);
	assert_int_not_equal(ls_digest(f->ls), d1);
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void test_snapshot_epoch_compat(void **state)
{
	struct fx *f = *state;
	struct ls_state *g = NULL;
	size_t len, res_count, sec, old_len;
	uint8_t *buf, *old;

	assert_int_equal(req(f, 1, 1, "mbox", MODE_EX, 0), 0);
	assert_int_equal(req(f, 2, 1, "zeta", MODE_PW, 0), 0);
	buf = snap(f->ls, &len);
	assert_int_equal(buf[6], 1);		/* minor 1 */
	res_count = ls_resource_count(f->ls);
	assert_int_equal(res_count, 2);
	sec = 8 * (1 + res_count);

	/* minor 0: no epoch section, decodes with every epoch 0 */
	old_len = len - sec;
	old = malloc(old_len);
	assert_non_null(old);
	memcpy(old, buf, len - 8 - sec);
	memcpy(old + len - 8 - sec, buf + len - 8, 8);
	old[6] = 0;
	put_le(old + 40, old_len, 8);
	recrc(old, old_len);
	assert_int_equal(ls_snapshot_decode(old, old_len, &g), 0);
	assert_int_equal(ls_epoch(g), 0);
	assert_int_equal(ls_lock_count(g), 2);
	ls_destroy(g);
	g = NULL;
	/* ... but a minor 0 header on a minor 1 body is refused */
	buf[6] = 0;
	recrc(buf, len);
	assert_int_equal(ls_snapshot_decode(buf, len, &g), SDLM_EPROTO);
	/* an unknown minor */
	buf[6] = 2;
	recrc(buf, len);
	assert_int_equal(ls_snapshot_decode(buf, len, &g), SDLM_EVERSION);
	buf[6] = 1;
	/* a resource epoch above the counter */
	put_le(buf + len - 8 - 8, 1000, 8);
	recrc(buf, len);
	assert_int_equal(ls_snapshot_decode(buf, len, &g), SDLM_EPROTO);
	assert_null(g);
	/* the counter itself raised: fine, and the next writer uses it */
	put_le(buf + len - 8 - sec, 2000, 8);
	recrc(buf, len);
	assert_int_equal(ls_snapshot_decode(buf, len, &g), 0);
	assert_int_equal(ls_epoch(g), 2000);
	ls_destroy(g);
	free(old);
	free(buf);
}

/* ---- replay ------------------------------------------------------------- */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	/* xorshift64*: the test's own fixed-seed generator */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 33) % n;
}

#define R_NODES		5
#define R_NAMES		12
#define R_REPLICAS	4	/* the 4th joins from a snapshot */

struct check_ctx {
	int modes[64];
	size_t n;
	const struct ls_state *ls;
	size_t resources;
};

static int check_lock(const struct ls_lock_info *lk, void *arg)
{
	struct check_ctx *c = arg;
	struct ls_node_info ni;

	assert_int_equal(ls_node_get(c->ls, lk->nodeid, &ni), 0);
	assert_false(ni.fenced);
	if (lk->away)
		assert_int_equal(lk->queue, LS_Q_GRANTED);
	if (lk->grmode != MODE_NONE) {
		assert_true(c->n < 64);
		c->modes[c->n++] = lk->grmode;
	}
	return 0;
}

static int check_res(const struct ls_res_info *r, void *arg)
{
	struct check_ctx *c = arg;
	size_t i, j;

	c->n = 0;
	c->resources++;
	assert_int_equal(ls_foreach_lock(c->ls, r->name, r->namelen,
					 check_lock, c), 0);
	assert_true(r->granted + r->converting + r->waiting > 0);
	for (i = 0; i < c->n; i++)
		for (j = i + 1; j < c->n; j++)
			assert_true(mode_compat(c->modes[i], c->modes[j]));
	return 0;
}

static void check_safety(const struct ls_state *ls)
{
	struct check_ctx c = { .ls = ls };

	assert_int_equal(ls_foreach_resource(ls, check_res, &c), 0);
	assert_int_equal(c.resources, ls_resource_count(ls));
}

static void random_event(struct ls_event *ev, uint32_t *members,
			 uint32_t *counter, uint64_t *inc, uint8_t *lvb,
			 char *name)
{
	uint32_t node = 1 + rnd(R_NODES), k = rnd(100), i, n;

	memset(ev, 0, sizeof(*ev));
	ev->ev_nodeid = node;
	snprintf(name, 8, "n%u", rnd(R_NAMES));
	ev->ev_name = name;
	ev->ev_namelen = strlen(name);
	ev->ev_mode = rnd(MODE_COUNT);
	/* pick a lock id this node probably used recently */
	ev->ev_lkid = LKID(node, counter[node] ? counter[node] - rnd(6) : 0);
	if (k < 35) {
		ev->ev_kind = LS_EV_REQUEST;
		ev->ev_lkid = LKID(node, ++counter[node]);
		if (rnd(8) == 0)
			ev->ev_flags = LS_LKF_NOQUEUE |
				       (rnd(2) ? LS_LKF_NOQUEUEBAST : 0);
	} else if (k < 52) {
		ev->ev_kind = LS_EV_CONVERT;
		if (rnd(8) == 0)
			ev->ev_flags = LS_LKF_NOQUEUE;
		if (rnd(2)) {
			memset(lvb, (int)rnd(256), LS_LVB_LEN);
			ev->ev_lvb = lvb;
		}
	} else if (k < 80) {
		ev->ev_kind = LS_EV_RELEASE;
		memset(lvb, (int)rnd(256), LS_LVB_LEN);
		ev->ev_lvb = lvb;
	} else if (k < 86) {
		ev->ev_kind = LS_EV_CANCEL;
	} else if (k < 91) {
		ev->ev_kind = LS_EV_CONFCHG;
		ev->ev_ring_id = rnd(1000000);
		for (i = 1, n = 0; i <= R_NODES; i++)
			if (rnd(5))
				members[n++] = i;
		ev->ev_members = members;
		ev->ev_member_count = n;
		ev->ev_quorate = n > R_NODES / 2 && rnd(8);
	} else if (k < 96) {
		ev->ev_kind = LS_EV_NODE_STATUS;
		ev->ev_hb_live = rnd(6) != 0;
		ev->ev_pill_pending = rnd(8) == 0;
	} else if (k < 99) {
		ev->ev_kind = LS_EV_NODE_FENCED;
		ev->ev_incarnation = inc[node] += rnd(3);
	} else {
		ev->ev_kind = LS_EV_GATE;
		ev->ev_gate_open = rnd(4) != 0;
	}
}

static void test_replay(void **state)
{
	struct ls_params p = { .cold = true, .default_live = false };
	struct ls_state *r[R_REPLICAS] = { NULL };
	struct ls_out out[R_REPLICAS];
	uint32_t members[R_NODES], counter[R_NODES + 1] = { 0 };
	uint64_t inc[R_NODES + 1] = { 0 };
	uint8_t lvb[LS_LVB_LEN];
	struct ls_event ev;
	struct ls_node_info ni;
	char name[8];
	int rc[R_REPLICAS], i, active = 3;
	size_t step, j, grants = 0, applied = 0;
	const size_t steps = 20000, join_at = 7000;

	(void)state;
	rng_state = 0x5d1e5eedull;
	for (i = 0; i < R_REPLICAS; i++)
		ls_out_init(&out[i]);
	for (i = 0; i < 3; i++)
		assert_int_equal(ls_create(&p, &r[i]), 0);

	for (step = 0; step < steps; step++) {
		/* a node joins from a snapshot, and again and again: its
		 * hash tables and pending set are built in another order */
		if (step >= join_at && step % 1000 == 0) {
			size_t len;
			uint8_t *buf = snap(r[1], &len);

			ls_destroy(r[3]);
			r[3] = NULL;
			assert_int_equal(ls_snapshot_decode(buf, len, &r[3]), 0);
			assert_int_equal(ls_digest(r[3]), ls_digest(r[1]));
			free(buf);
			active = 4;
		}
		random_event(&ev, members, counter, inc, lvb, name);
		for (i = 0; i < active; i++)
			rc[i] = ls_apply(r[i], &ev, &out[i]);
		for (i = 1; i < active; i++) {
			assert_int_equal(rc[i], rc[0]);
			assert_int_equal(out[i].count, out[0].count);
			for (j = 0; j < out[0].count; j++)
				assert_memory_equal(&out[i].items[j],
						    &out[0].items[j],
						    sizeof(out[0].items[j]));
			assert_int_equal(ls_digest(r[i]), ls_digest(r[0]));
		}
		applied += rc[0] == 0;
		for (j = 0; j < out[0].count; j++) {
			const struct ls_out_item *it = &out[0].items[j];

			if (it->o_kind != LS_OUT_GRANTED)
				continue;
			grants++;
			/* only a down-convert reaches an ineligible node */
			assert_int_equal(ls_node_get(r[0], it->o_nodeid, &ni), 0);
			if (!ni.eligible)
				assert_true(ev.ev_kind == LS_EV_CONVERT &&
					    ev.ev_nodeid == it->o_nodeid);
		}
		if (step % 10 == 0 || out[0].count)
			check_safety(r[0]);
	}
	/* the stream really exercised the machine */
	assert_true(grants > 1000);
	assert_true(applied > steps / 3);
	for (i = 0; i < R_REPLICAS; i++) {
		ls_out_free(&out[i]);
		ls_destroy(r[i]);
	}
}

/* ---- scale ---------------------------------------------------------------- */

static void test_many_resources(void **state)
{
	struct fx *f = *state;
	const uint32_t n = 100000;
	char name[32];
	uint32_t i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "mailbox/%u", i);
		assert_int_equal(req(f, 1 + i % 3, i + 1, name, MODE_EX, 0), 0);
		assert_int_equal(f->out.count, 1);
	}
	assert_int_equal(ls_resource_count(f->ls), n);
	assert_int_equal(ls_lock_count(f->ls), n);
	/* a global event over a big lockspace with nothing pending */
	assert_int_equal(status(f, 2, true, false), 0);
	assert_int_equal(f->out.count, 0);
	for (i = 0; i < n; i++)
		assert_int_equal(rel(f, 1 + i % 3, i + 1, NULL), 0);
	assert_int_equal(ls_resource_count(f->ls), 0);
	assert_int_equal(ls_lock_count(f->ls), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_grant_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_no_barging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_convert_up_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_convert_deadlock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_noqueue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lvb, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blocking_new_episode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blocking_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_away_need_fence_return, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fenced_releases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leaver_requests_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quorum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_gates_grant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_not_live, setup_bare, teardown),
		cmocka_unit_test_setup_teardown(test_cold_gate, setup_cold, teardown),
		cmocka_unit_test_setup_teardown(test_rejects_leave_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_epochs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_epoch_in_digest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_epoch_compat, setup, teardown),
		cmocka_unit_test(test_replay),
		cmocka_unit_test_setup_teardown(test_many_resources, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
