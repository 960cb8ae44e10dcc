/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_lockstate.c - the replicated lock state machine, driven by plain
 * event sequences: grants and queues, conversions, NOQUEUE, cancel, LVB,
 * blocking notifications, every membership/fence ordering, epochs, and a
 * lockspace of 100 000 resources.  Snapshots, the digest and the seeded
 * replay are in test_lssnap.c.
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

#include "lockstate.h"
#include "lsfx.h"
#include "sdlm.h"

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

static int hold(struct fx *f, bool on)
{
	struct ls_event ev = { .ev_kind = LS_EV_HOLD, .ev_hold = on };

	return ls_apply(f->ls, &ev, &f->out);
}

/*
 * A sync round holds grants (lsround.c "Rounds hold grants"): requests
 * queue, NOQUEUE fails, releases and down-conversions go on, and the
 * release of the hold grants what waits, in order.  The hold is not in
 * the digest (holders set it at the same points; no snapshot has it).
 */
static void test_hold(void **state)
{
	struct fx *f = *state;
	uint64_t d;

	assert_int_equal(req(f, 1, 1, "r", MODE_EX, 0), 0);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(1, 1)));
	d = ls_digest(f->ls);
	assert_int_equal(hold(f, true), 0);
	assert_true(ls_held(f->ls));
	assert_false(ls_grants_blocked(f->ls));		/* the gate is apart */
	assert_int_equal(ls_digest(f->ls), d);
	assert_int_equal(req(f, 2, 1, "s", MODE_EX, 0), 0);	/* free: still held */
	assert_int_equal(n_kind(f, LS_OUT_GRANTED), 0);
	assert_int_equal(lk_queue(f, 2, 1), LS_Q_WAIT);
	assert_int_equal(req(f, 3, 1, "t", MODE_PR, LS_LKF_NOQUEUE), 0);
	assert_non_null(find(f, LS_OUT_NOQUEUE_FAILED, LKID(3, 1)));
	assert_int_equal(req(f, 3, 2, "r", MODE_EX, 0), 0);
	assert_int_equal(conv(f, 1, 1, MODE_PR, 0, NULL), 0);	/* down: goes on */
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(1, 1)));
	assert_null(find(f, LS_OUT_GRANTED, LKID(3, 2)));
	assert_int_equal(rel(f, 1, 1, NULL), 0);		/* release: goes on */
	assert_non_null(find(f, LS_OUT_RELEASED, LKID(1, 1)));
	assert_int_equal(n_kind(f, LS_OUT_GRANTED), 0);
	assert_int_equal(hold(f, true), 0);			/* idempotent */
	assert_int_equal(n_kind(f, LS_OUT_GRANTED), 0);
	assert_int_equal(hold(f, false), 0);
	assert_false(ls_held(f->ls));
	assert_int_equal(n_kind(f, LS_OUT_GRANTED), 2);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(2, 1)));
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(3, 2)));
	/* A closed gate still blocks after the hold is released. */
	assert_int_equal(gate(f, false), 0);
	assert_int_equal(hold(f, true), 0);
	assert_int_equal(req(f, 1, 2, "u", MODE_EX, 0), 0);
	assert_int_equal(hold(f, false), 0);
	assert_int_equal(n_kind(f, LS_OUT_GRANTED), 0);
	assert_int_equal(gate(f, true), 0);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(1, 2)));
}

static void test_rejects_leave_state(void **state)
{
	struct fx *f = *state;
	uint64_t d;
	char big[SDLM_NAME_MAX + 1];
	struct ls_event ev = { 0 };

	assert_int_equal(req(f, 1, 1, "r", MODE_EX, 0), 0);
	/* the longest name is fine */
	memset(big, 'x', sizeof(big) - 1);
	big[SDLM_NAME_MAX] = 0;
	assert_int_equal(req(f, 1, 2, big, MODE_EX, 0), 0);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(1, 2)));
	assert_int_equal(rel(f, 1, 2, NULL), 0);
	d = ls_digest(f->ls);

	assert_int_equal(req(f, 2, 1, "r", 6, 0), -EINVAL);
	assert_int_equal(req(f, 2, 1, "r", MODE_NONE, 0), -EINVAL);
	assert_int_equal(req(f, 2, 1, "", MODE_PR, 0), -EINVAL);
	{
		char big2[SDLM_NAME_MAX + 2];

		memset(big2, 'z', sizeof(big2) - 1);
		big2[SDLM_NAME_MAX + 1] = 0;
		assert_int_equal(req(f, 2, 1, big2, MODE_PR, 0), -EINVAL);
	}
	/* an unknown cluster flag; a client's SDLM_LKF_NOQUEUE (0x1) is not
	 * LS_LKF_NOQUEUE (lockstate.h: ranges of their own) */
	assert_int_equal(req(f, 2, 1, "r", MODE_PR, 0x800), -EINVAL);
	assert_int_equal(req(f, 2, 1, "r", MODE_PR, 0x1), -EINVAL);
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

/* ---- the hand-off (design-handoff.md F1, F3; protocol 3) --------------- */

#define INC_A	0xa11ce0001ULL
#define INC_B	0xb0b000002ULL

static const uint64_t inc_aaa[3] = { 0x11, INC_A, 0x33 };
static const uint16_t proto_333[3] = { 3, 3, 3 };

/* The member records of a round at protocol 3, then node 2 (incarnation
 * INC_A) holds EX on "r" and leaves; node 1 waits for it. */
static void ho_setup_away(struct fx *f)
{
	assert_int_equal(round_rec(f, 3, m123, inc_aaa, proto_333, 3), 0);
	assert_int_equal(req(f, 2, 1, "r", MODE_EX, 0), 0);
	assert_int_equal(confchg(f, 2, true, (const uint32_t[]){ 1, 3 }, 2), 0);
	assert_int_equal(req(f, 1, 1, "r", MODE_EX, 0), 0);
	assert_non_null(find_fence(f, 2));
}

/* ROUND: records at protocol 3, none below; a round that lowers the
 * agreed version clears every record, also of nodes not in it. */
static void test_round_records(void **state)
{
	struct fx *f = *state;
	struct ls_node_info ni;
	uint64_t d0 = ls_digest(f->ls);

	assert_int_equal(ls_node_get(f->ls, 2, &ni), 0);
	assert_int_equal(ni.incarnation, 0);
	assert_int_equal(ni.proto, 0);
	/* protocol 2: nothing recorded, nothing changed */
	assert_int_equal(round_rec(f, 2, m123, inc_aaa, proto_333, 3), 0);
	assert_int_equal(ls_digest(f->ls), d0);
	assert_int_equal(ls_node_get(f->ls, 2, &ni), 0);
	assert_int_equal(ni.incarnation, 0);

	assert_int_equal(round_rec(f, 3, m123, inc_aaa, proto_333, 3), 0);
	assert_int_equal(f->out.count, 0);
	assert_int_equal(ls_node_get(f->ls, 2, &ni), 0);
	assert_int_equal(ni.incarnation, INC_A);
	assert_int_equal(ni.proto, 3);
	/* the digest covers them */
	assert_true(ls_digest(f->ls) != d0);

	/* node 2 away; a later round of 1 and 3 keeps its record */
	assert_int_equal(confchg(f, 2, true, (const uint32_t[]){ 1, 3 }, 2), 0);
	assert_int_equal(round_rec(f, 3, (const uint32_t[]){ 1, 3 },
				   (const uint64_t[]){ 0x11, 0x34 },
				   (const uint16_t[]){ 3, 4 }, 2), 0);
	assert_int_equal(ls_node_get(f->ls, 2, &ni), 0);
	assert_int_equal(ni.incarnation, INC_A);
	assert_int_equal(ls_node_get(f->ls, 3, &ni), 0);
	assert_int_equal(ni.incarnation, 0x34);
	assert_int_equal(ni.proto, 4);
	/* an older node joins: agreed 2, every record goes */
	assert_int_equal(round_rec(f, 2, (const uint32_t[]){ 1, 3 },
				   (const uint64_t[]){ 0x11, 0x34 },
				   (const uint16_t[]){ 3, 2 }, 2), 0);
	assert_int_equal(ls_node_get(f->ls, 2, &ni), 0);
	assert_int_equal(ni.incarnation, 0);
	assert_int_equal(ni.proto, 0);
	assert_int_equal(ls_node_get(f->ls, 1, &ni), 0);
	assert_int_equal(ni.incarnation, 0);
	/* a new node gets a node record from its first ROUND */
	assert_int_equal(ls_node_get(f->ls, 9, &ni), -ENOENT);
	assert_int_equal(round_rec(f, 3, (const uint32_t[]){ 9 },
				   (const uint64_t[]){ 0x99 },
				   (const uint16_t[]){ 3 }, 1), 0);
	assert_int_equal(ls_node_get(f->ls, 9, &ni), 0);
	assert_int_equal(ni.incarnation, 0x99);
	assert_false(ni.member);
}

/*
 * A fence verdict that arrives after its node came back as a newer
 * incarnation is about a daemon that is gone: the executor fenced
 * incarnation A, the node restarted as B, rejoined, released A's lock and
 * took its own, and only then was A's NODE_FENCED delivered.  It must not
 * free B's lock: B's client still uses it, and the waiter granted in its
 * place would be a second EX holder.
 */
static void test_fenced_older_incarnation_after_rejoin(void **state)
{
	struct fx *f = *state;
	struct ls_node_info ni;
	uint64_t d0;

	assert_int_equal(round_rec(f, 3, m123, inc_aaa, proto_333, 3), 0);
	assert_int_equal(req(f, 2, 1, "r", MODE_EX, 0), 0);
	assert_int_equal(lk_queue(f, 2, 1), LS_Q_GRANTED);
	/* 2 away; its executor fences A ... */
	assert_int_equal(confchg(f, 2, true, (const uint32_t[]){ 1, 3 }, 2), 0);
	/* ... meanwhile it restarts as B and rejoins */
	assert_int_equal(confchg(f, 3, true, m123, 3), 0);
	assert_int_equal(round_rec(f, 3, m123,
				   (const uint64_t[]){ 0x11, INC_A + 1, 0x33 },
				   proto_333, 3), 0);
	assert_int_equal(rel(f, 2, 1, NULL), 0);	/* A's lock, released by B */
	assert_int_equal(req(f, 2, 1, "s", MODE_EX, 0), 0);
	assert_int_equal(lk_queue(f, 2, 1), LS_Q_GRANTED);
	assert_int_equal(req(f, 1, 1, "s", MODE_EX, 0), 0);
	assert_int_equal(lk_queue(f, 1, 1), LS_Q_WAIT);

	/* A's verdict, late: nothing of B's changes */
	d0 = ls_digest(f->ls);
	f->out.count = 0;
	assert_int_equal(fenced(f, 2, INC_A), -EALREADY);
	assert_int_equal(f->out.count, 0);
	assert_int_equal(ls_digest(f->ls), d0);
	assert_int_equal(lk_queue(f, 2, 1), LS_Q_GRANTED);
	assert_int_equal(lk_queue(f, 1, 1), LS_Q_WAIT);
	assert_int_equal(ls_node_get(f->ls, 2, &ni), 0);
	assert_false(ni.fenced);
	assert_int_equal(ni.lock_count, 1);

	/* B's own fence still releases, as any fence does */
	assert_int_equal(confchg(f, 4, true, (const uint32_t[]){ 1, 3 }, 2), 0);
	assert_int_equal(fenced(f, 2, INC_A + 1), 0);
	assert_non_null(find(f, LS_OUT_RELEASED, LKID(2, 1)));
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(1, 1)));
}

/*
 * The same late verdict, delivered one step earlier: after the node's new
 * incarnation B joined the group but before the round that records B
 * completed.  The record still names A, so the verdict applies: A's locks
 * go, as they must.  But the node it marks fenced is B, a member: every
 * lock event of B would be refused (SDLM_EFENCED) until B leaves and
 * rejoins, although nobody fenced B.  The round's record of B, newer than
 * the incarnation fenced, says the member is not the one fenced.
 */
static void test_fenced_older_incarnation_in_rejoin_round(void **state)
{
	struct fx *f = *state;
	struct ls_node_info ni;

	assert_int_equal(round_rec(f, 3, m123, inc_aaa, proto_333, 3), 0);
	assert_int_equal(req(f, 2, 1, "r", MODE_EX, 0), 0);
	assert_int_equal(lk_queue(f, 2, 1), LS_Q_GRANTED);
	assert_int_equal(confchg(f, 2, true, (const uint32_t[]){ 1, 3 }, 2), 0);
	assert_int_equal(req(f, 1, 1, "r", MODE_EX, 0), 0);
	assert_int_equal(lk_queue(f, 1, 1), LS_Q_WAIT);
	/* node 2 restarted as B joins: its round holds grants */
	assert_int_equal(confchg(f, 3, true, m123, 3), 0);
	assert_int_equal(hold(f, true), 0);
	/* A's verdict, within B's round: A's lock goes */
	assert_int_equal(fenced(f, 2, INC_A), 0);
	assert_non_null(find(f, LS_OUT_RELEASED, LKID(2, 1)));
	assert_int_equal(lk_queue(f, 2, 1), -1);
	/* B's round completes */
	assert_int_equal(round_rec(f, 3, m123,
				   (const uint64_t[]){ 0x11, INC_B, 0x33 },
				   proto_333, 3), 0);
	assert_int_equal(hold(f, false), 0);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(1, 1)));
	assert_int_equal(ls_node_get(f->ls, 2, &ni), 0);
	assert_true(ni.member);
	assert_false(ni.fenced);
	assert_true(ni.eligible);
	assert_int_equal(ni.fenced_incarnation, INC_A);
	/* B's requests are served */
	assert_int_equal(req(f, 2, 1, "s", MODE_EX, 0), 0);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(2, 1)));
	/* A coming back later is still refused by its verdict */
	assert_int_equal(fenced(f, 2, INC_A), -EALREADY);
}

/*
 * What a fence verdict becomes (ls_verdict_incarnation, lsfencer.c
 * lsm_fenced).  An incarnation already fenced is no news: a repeated
 * verdict about A, once node 2 came back as the next incarnation, must not
 * be turned into a verdict about that one.  A daemon whose clock is
 * behind takes its slot's incarnation plus one (docs/recovery.md), so the
 * incarnation after A can be exactly A + 1 - which the old rule ("not
 * above the last fenced: the last fenced + 1") named, fencing the live
 * member and granting its EX lock to a second holder.
 */
static void test_verdict_incarnation(void **state)
{
	struct fx *f = *state;
	struct ls_state *other;
	struct ls_params p = { .default_live = true };
	uint64_t v;

	assert_int_equal(ls_verdict_incarnation(f->ls, 9, INC_A), 0);	/* unknown */
	/* no record, never fenced: the verdict's, or 1 when unknown */
	assert_int_equal(ls_verdict_incarnation(f->ls, 2, 0), 1);
	assert_int_equal(ls_verdict_incarnation(f->ls, 2, INC_A), INC_A);
	/* unknown: the member record's */
	assert_int_equal(round_rec(f, 3, m123, inc_aaa, proto_333, 3), 0);
	assert_int_equal(ls_verdict_incarnation(f->ls, 2, 0), INC_A);
	/* A away, fenced: nothing more to say about it */
	assert_int_equal(req(f, 2, 1, "r", MODE_EX, 0), 0);
	assert_int_equal(confchg(f, 2, true, (const uint32_t[]){ 1, 3 }, 2), 0);
	assert_int_equal(fenced(f, 2, INC_A), 0);
	assert_int_equal(ls_verdict_incarnation(f->ls, 2, INC_A), 0);
	assert_int_equal(ls_verdict_incarnation(f->ls, 2, 0), 0);
	/* it restarts as A + 1 (clock behind), rejoins, takes EX; 1 waits */
	assert_int_equal(confchg(f, 3, true, m123, 3), 0);
	assert_int_equal(round_rec(f, 3, m123,
				   (const uint64_t[]){ 0x11, INC_A + 1, 0x33 },
				   proto_333, 3), 0);
	assert_int_equal(req(f, 2, 1, "s", MODE_EX, 0), 0);
	assert_int_equal(lk_queue(f, 2, 1), LS_Q_GRANTED);
	assert_int_equal(req(f, 1, 1, "s", MODE_EX, 0), 0);
	/* A's verdict again (a second executor's, a confirm): nothing */
	v = ls_verdict_incarnation(f->ls, 2, INC_A);
	if (v)
		assert_int_equal(fenced(f, 2, v), -EALREADY);
	assert_int_equal(v, 0);
	assert_int_equal(lk_queue(f, 2, 1), LS_Q_GRANTED);
	assert_int_equal(lk_queue(f, 1, 1), LS_Q_WAIT);
	/* a verdict about A + 1 itself, or one naming none (the record's) */
	assert_int_equal(ls_verdict_incarnation(f->ls, 2, INC_A + 1), INC_A + 1);
	assert_int_equal(ls_verdict_incarnation(f->ls, 2, 0), INC_A + 1);

	/* Per replica: an operator's confirm with the slot unread names, in
	 * each lockspace, the record of that lockspace - here node 2's
	 * incarnation A + 1 in one, INC_B in another it joined later. */
	assert_int_equal(ls_create(&p, &other), 0);
	{
		struct fx g = { .ls = other };

		ls_out_init(&g.out);
		assert_int_equal(confchg(&g, 1, true, m123, 3), 0);
		assert_int_equal(round_rec(&g, 3, m123,
					   (const uint64_t[]){ 0x11, INC_B, 0x33 },
					   proto_333, 3), 0);
		assert_int_equal(ls_verdict_incarnation(other, 2, 0), INC_B);
		ls_out_free(&g.out);
	}
	ls_destroy(other);
}

/*
 * A verdict below the node's member record is not sent either: the core
 * would refuse it (test_fenced_older_incarnation_after_rejoin), but its
 * delivery ends every node's wait for a fence of the node (lsround.c
 * ready_msg), while the core, unchanged, never says NEED_FENCE for it
 * again.  Node 2 came back as B, was recorded, took a lock and went away
 * again with it wanted: a late verdict about A, sent then, left B's lock
 * held by a node nobody would fence, and node 1 waiting for ever.
 */
static void test_verdict_below_record(void **state)
{
	struct fx *f = *state;

	assert_int_equal(round_rec(f, 3, m123, inc_aaa, proto_333, 3), 0);
	assert_int_equal(confchg(f, 2, true, (const uint32_t[]){ 1, 3 }, 2), 0);
	assert_int_equal(confchg(f, 3, true, m123, 3), 0);
	assert_int_equal(round_rec(f, 3, m123,
				   (const uint64_t[]){ 0x11, INC_B, 0x33 },
				   proto_333, 3), 0);
	assert_int_equal(req(f, 2, 1, "r", MODE_EX, 0), 0);
	assert_int_equal(confchg(f, 4, true, (const uint32_t[]){ 1, 3 }, 2), 0);
	assert_int_equal(req(f, 1, 1, "r", MODE_EX, 0), 0);
	assert_non_null(find_fence(f, 2));
	/* the executor's verdict about A: nothing to send */
	assert_int_equal(ls_verdict_incarnation(f->ls, 2, INC_A), 0);
	/* one about B, or naming none: B */
	assert_int_equal(ls_verdict_incarnation(f->ls, 2, INC_B), INC_B);
	assert_int_equal(ls_verdict_incarnation(f->ls, 2, 0), INC_B);
}

/* ROUND's malformed inputs change nothing. */
static void test_round_rejects(void **state)
{
	struct fx *f = *state;
	uint64_t d0 = ls_digest(f->ls);

	assert_int_equal(round_rec(f, 3, (const uint32_t[]){ 2, 1 },
				   (const uint64_t[]){ 1, 2 },
				   (const uint16_t[]){ 3, 3 }, 2), -EINVAL);
	assert_int_equal(round_rec(f, 3, (const uint32_t[]){ 1, 2 },
				   (const uint64_t[]){ 1, 0 },
				   (const uint16_t[]){ 3, 3 }, 2), -EINVAL);
	assert_int_equal(round_rec(f, 3, (const uint32_t[]){ 1, 2 },
				   (const uint64_t[]){ 1, 2 },
				   (const uint16_t[]){ 3, 0 }, 2), -EINVAL);
	assert_int_equal(round_rec(f, 3, (const uint32_t[]){ 0 },
				   (const uint64_t[]){ 1 },
				   (const uint16_t[]){ 3 }, 1), -EINVAL);
	assert_int_equal(round_rec(f, 3, m123, NULL, proto_333, 3), -EINVAL);
	assert_int_equal(ls_digest(f->ls), d0);
}

/* F3: V's answer, turned into HANDOFF_RELEASE, releases exactly that
 * grant with the answer's value block, and the waiter is granted. */
static void test_handoff_release(void **state)
{
	struct fx *f = *state;
	const struct ls_out_item *it;
	struct ls_node_info ni;
	uint8_t a[LS_LVB_LEN];

	memset(a, 0x6b, sizeof(a));
	ho_setup_away(f);
	assert_int_equal(horel(f, 2, INC_A, 1, a), 0);
	it = find(f, LS_OUT_RELEASED, LKID(2, 1));
	assert_non_null(it);
	assert_int_equal(it->o_nodeid, 2);
	assert_int_equal(it->o_err, 0);
	it = find(f, LS_OUT_GRANTED, LKID(1, 1));
	assert_non_null(it);
	assert_true(it->o_lvb_valid);
	assert_memory_equal(it->o_lvb, a, LS_LVB_LEN);
	/* nobody was fenced: V keeps its record and is no fenced node */
	assert_int_equal(ls_node_get(f->ls, 2, &ni), 0);
	assert_false(ni.fenced);
	assert_int_equal(ni.lock_count, 0);
	assert_int_equal(ni.incarnation, INC_A);

	/* a duplicate, or the same answer read by the next fencer: nothing */
	{
		uint64_t d = ls_digest(f->ls);

		assert_int_equal(horel(f, 2, INC_A, 1, a), -ENOENT);
		assert_int_equal(f->out.count, 0);
		assert_int_equal(ls_digest(f->ls), d);
	}
}

/* "w" has a valid value block before the hand-off (the test's premise). */
static int lvb_of_w(const struct ls_res_info *res, void *arg)
{
	(void)arg;
	if (res->namelen == 1 && res->name[0] == 'w')
		assert_true(res->lvb_valid);
	return 0;
}

/* No value block in the answer: a writer's is invalidated, as after a
 * fence; a reader's release leaves the value block alone. */
static void test_handoff_release_lvb(void **state)
{
	struct fx *f = *state;
	const struct ls_out_item *it;
	uint8_t a[LS_LVB_LEN], b[LS_LVB_LEN];

	memset(a, 0x11, sizeof(a));
	memset(b, 0x22, sizeof(b));
	assert_int_equal(round_rec(f, 3, m123, inc_aaa, proto_333, 3), 0);
	/* node 3's NL locks keep both resources (and their LVBs) alive */
	assert_int_equal(req(f, 3, 1, "w", MODE_NL, 0), 0);
	assert_int_equal(req(f, 3, 2, "p", MODE_NL, 0), 0);
	assert_int_equal(req(f, 2, 1, "w", MODE_EX, 0), 0);
	assert_int_equal(rel(f, 2, 1, a), 0);		/* "w" has a valid LVB */
	assert_int_equal(req(f, 2, 2, "w", MODE_PW, 0), 0);
	assert_int_equal(req(f, 2, 3, "p", MODE_EX, 0), 0);
	assert_int_equal(rel(f, 2, 3, a), 0);
	assert_int_equal(req(f, 2, 4, "p", MODE_PR, 0), 0);
	assert_int_equal(confchg(f, 2, true, (const uint32_t[]){ 1, 3 }, 2), 0);
	assert_int_equal(req(f, 1, 1, "w", MODE_PR, 0), 0);
	assert_int_equal(req(f, 1, 2, "p", MODE_EX, 0), 0);

	assert_int_equal(ls_foreach_resource(f->ls, lvb_of_w, NULL), 0);
	assert_int_equal(horel(f, 2, INC_A, 2, NULL), 0);
	it = find(f, LS_OUT_GRANTED, LKID(1, 1));
	assert_non_null(it);
	assert_false(it->o_lvb_valid);
	/* a PR holder's value block is not its to change */
	assert_int_equal(horel(f, 2, INC_A, 4, b), 0);
	it = find(f, LS_OUT_GRANTED, LKID(1, 2));
	assert_non_null(it);
	assert_true(it->o_lvb_valid);
	assert_memory_equal(it->o_lvb, a, LS_LVB_LEN);
}

/* F3's refusals: each leaves the state exactly as it was. */
static void test_handoff_release_refused(void **state)
{
	struct fx *f = *state;
	uint64_t d;

	ho_setup_away(f);
	d = ls_digest(f->ls);
	/* another incarnation (the model's BAD_OLD_INCARNATION) */
	assert_int_equal(horel(f, 2, INC_B, 1, NULL), -ESTALE);
	/* no such lock of V; a lock of another node named as V's */
	assert_int_equal(horel(f, 2, INC_A, 7, NULL), -ENOENT);
	{
		struct ls_event ev = {
			.ev_kind = LS_EV_HANDOFF_RELEASE, .ev_nodeid = 3,
			.ev_incarnation = 0x33, .ev_lkid = LKID(1, 1),
		};
		assert_int_equal(ls_apply(f->ls, &ev, &f->out), -EINVAL);
		ev.ev_lkid = LKID(3, 1);	/* node 3 holds nothing */
		assert_int_equal(ls_apply(f->ls, &ev, &f->out), -ENOENT);
		ev.ev_nodeid = 2; ev.ev_lkid = LKID(2, 1);
		ev.ev_incarnation = 0;
		assert_int_equal(ls_apply(f->ls, &ev, &f->out), -EINVAL);
		ev.ev_incarnation = INC_A; ev.ev_flags = LS_LKF_IVVALBLK;
		assert_int_equal(ls_apply(f->ls, &ev, &f->out), -EINVAL);
		ev.ev_flags = 0; ev.ev_nodeid = 0; ev.ev_lkid = 1;
		assert_int_equal(ls_apply(f->ls, &ev, &f->out), -EINVAL);
	}
	assert_int_equal(ls_digest(f->ls), d);
	assert_int_equal(lk_queue(f, 2, 1), LS_Q_GRANTED);

	/* no member record (the lockspace went down to protocol 2): no
	 * HANDOFF_RELEASE can release anything */
	assert_int_equal(round_rec(f, 2, (const uint32_t[]){ 1, 3 },
				   (const uint64_t[]){ 0x11, 0x33 },
				   (const uint16_t[]){ 3, 2 }, 2), 0);
	d = ls_digest(f->ls);
	assert_int_equal(horel(f, 2, INC_A, 1, NULL), -ESTALE);
	assert_int_equal(ls_digest(f->ls), d);

	/* V fenced: its grants are gone with it; a late answer is nothing */
	assert_int_equal(round_rec(f, 3, m123, inc_aaa, proto_333, 3), 0);
	assert_int_equal(fenced(f, 2, INC_A), 0);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(1, 1)));
	d = ls_digest(f->ls);
	assert_int_equal(horel(f, 2, INC_A, 1, NULL), -ENOENT);
	assert_int_equal(ls_digest(f->ls), d);
}

/* The model's BAD_REPLAY_BY_RES and BAD_APPLY_UNCHECKED: an answer read
 * (or replayed) before V released the grant itself and took the same
 * resource again must not release the later grant when its event is
 * delivered after that; and BAD_OLD_INCARNATION with the lkid reused: V restarted,
 * its new incarnation numbers from 1 again, an answer of the old one
 * naming that number releases nothing. */
static void test_handoff_release_replay(void **state)
{
	struct fx *f = *state;
	uint64_t d;

	assert_int_equal(round_rec(f, 3, m123, inc_aaa, proto_333, 3), 0);
	assert_int_equal(req(f, 2, 1, "r", MODE_EX, 0), 0);
	assert_int_equal(rel(f, 2, 1, NULL), 0);	/* V's own RELEASE */
	assert_int_equal(req(f, 2, 2, "r", MODE_EX, 0), 0);
	d = ls_digest(f->ls);
	assert_int_equal(horel(f, 2, INC_A, 1, NULL), -ENOENT);
	assert_int_equal(ls_digest(f->ls), d);
	assert_int_equal(lk_queue(f, 2, 2), LS_Q_GRANTED);

	/* V is fenced, restarts as INC_B, rejoins; lkid 1 again */
	assert_int_equal(confchg(f, 3, true, (const uint32_t[]){ 1, 3 }, 2), 0);
	assert_int_equal(fenced(f, 2, INC_A), 0);
	assert_int_equal(confchg(f, 4, true, m123, 3), 0);
	assert_int_equal(round_rec(f, 3, m123,
				   (const uint64_t[]){ 0x11, INC_B, 0x33 },
				   proto_333, 3), 0);
	assert_int_equal(req(f, 2, 1, "r", MODE_EX, 0), 0);
	assert_int_equal(lk_queue(f, 2, 1), LS_Q_GRANTED);
	d = ls_digest(f->ls);
	assert_int_equal(horel(f, 2, INC_A, 1, NULL), -ESTALE);
	assert_int_equal(ls_digest(f->ls), d);
	/* the new incarnation's own answer counts */
	assert_int_equal(horel(f, 2, INC_B, 1, NULL), 0);
	assert_int_equal(lk_queue(f, 2, 1), -1);
}

/*
 * Review s28-rev19 M1, the replica's half: it keeps no incarnation per
 * lock.  Node 2 holds "x" as INC_A, restarts and JOINs as INC_B before
 * its stale release of LKID(2, 1) is applied (nothing fences it: it came
 * back), then is cut off with "x" wanted.  F3 takes a HANDOFF_RELEASE
 * (2, INC_B, LKID(2, 1)) for the predecessor's lock, value block marked
 * valid: an answer of INC_B about its OWN lock 1 of another lockspace
 * (ids restart at 1 and are the daemon's) is applied here.  Only V can
 * tell the two apart - nodelock's gate, test_nodelock
 * test_handoff_predecessor_unsure, design-handoff.md section 8.
 */
static void test_handoff_release_predecessor(void **state)
{
	struct fx *f = *state;
	const struct ls_out_item *it;
	uint8_t b[LS_LVB_LEN];

	memset(b, 0x5b, sizeof(b));
	assert_int_equal(round_rec(f, 3, m123, inc_aaa, proto_333, 3), 0);
	assert_int_equal(req(f, 2, 1, "x", MODE_EX, 0), 0);	/* INC_A's */
	assert_int_equal(confchg(f, 2, true, (const uint32_t[]){ 1, 3 }, 2), 0);
	assert_int_equal(confchg(f, 3, true, m123, 3), 0);
	assert_int_equal(round_rec(f, 3, m123,
				   (const uint64_t[]){ 0x11, INC_B, 0x33 },
				   proto_333, 3), 0);
	assert_int_equal(lk_queue(f, 2, 1), LS_Q_GRANTED);	/* still there */
	assert_int_equal(confchg(f, 4, true, (const uint32_t[]){ 1, 3 }, 2), 0);
	assert_int_equal(req(f, 1, 1, "x", MODE_EX, 0), 0);
	assert_non_null(find_fence(f, 2));
	assert_int_equal(horel(f, 2, INC_A, 1, b), -ESTALE);
	assert_int_equal(horel(f, 2, INC_B, 1, b), 0);
	it = find(f, LS_OUT_GRANTED, LKID(1, 1));
	assert_non_null(it);
	assert_true(it->o_lvb_valid);
	assert_memory_equal(it->o_lvb, b, LS_LVB_LEN);
}

/* V5: V rejoined and sends its own RELEASE of a grant it listed; the
 * HANDOFF_RELEASE that comes second is a no-op, and the other way round.
 * A converting lock is not a grant F3 releases (-EBUSY). */
static void test_handoff_release_vs_own(void **state)
{
	struct fx *f = *state;

	ho_setup_away(f);
	assert_int_equal(req(f, 2, 2, "s", MODE_EX, 0), -EPERM);	/* away */
	assert_int_equal(confchg(f, 3, true, m123, 3), 0);
	/* its own RELEASE first */
	assert_int_equal(rel(f, 2, 1, NULL), 0);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(1, 1)));
	assert_int_equal(horel(f, 2, INC_A, 1, NULL), -ENOENT);
	assert_int_equal(f->out.count, 0);

	/* the hand-off first, V a member again */
	assert_int_equal(req(f, 2, 3, "t", MODE_EX, 0), 0);
	assert_int_equal(horel(f, 2, INC_A, 3, NULL), 0);
	assert_non_null(find(f, LS_OUT_RELEASED, LKID(2, 3)));
	assert_int_equal(rel(f, 2, 3, NULL), -ENOENT);

	/* converting: refused, the lock stays as it is */
	assert_int_equal(req(f, 2, 4, "u", MODE_PR, 0), 0);
	assert_int_equal(req(f, 3, 1, "u", MODE_PR, 0), 0);
	assert_int_equal(conv(f, 2, 4, MODE_EX, 0, NULL), 0);
	assert_int_equal(lk_queue(f, 2, 4), LS_Q_CONVERT);
	assert_int_equal(horel(f, 2, INC_A, 4, NULL), -EBUSY);
	assert_int_equal(lk_queue(f, 2, 4), LS_Q_CONVERT);
}

/* F1's list: the grants of an away node that are in the way, per lock. */
static void test_away_wanted(void **state)
{
	struct fx *f = *state;
	uint64_t k[4];

	assert_int_equal(req(f, 2, 1, "r", MODE_EX, 0), 0);
	assert_int_equal(req(f, 2, 2, "s", MODE_PR, 0), 0);
	assert_int_equal(req(f, 2, 3, "t", MODE_NL, 0), 0);
	assert_int_equal(req(f, 2, 4, "u", MODE_PW, 0), 0);
	/* a member: never (its own BLOCKING) */
	assert_int_equal(req(f, 1, 1, "r", MODE_EX, 0), 0);
	assert_int_equal(ls_away_wanted(f->ls, 2, k, 4), 0);
	assert_int_equal(confchg(f, 2, true, (const uint32_t[]){ 1, 3 }, 2), 0);
	/* away: node 1's request (a member: it stays) is blocked by it */
	assert_int_equal(ls_away_wanted(f->ls, 2, k, 4), 1);
	assert_int_equal(k[0], LKID(2, 1));
	/* a compatible request is granted: nothing in the way */
	assert_int_equal(req(f, 3, 1, "s", MODE_PR, 0), 0);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(3, 1)));
	assert_int_equal(req(f, 3, 2, "t", MODE_EX, 0), 0);	/* NL blocks nobody */
	assert_int_equal(ls_away_wanted(f->ls, 2, k, 4), 1);
	/* a conflicting converter is in the way of s */
	assert_int_equal(conv(f, 3, 1, MODE_EX, 0, NULL), 0);
	assert_int_equal(ls_away_wanted(f->ls, 2, k, 4), 2);
	assert_int_equal(k[0], LKID(2, 1));
	assert_int_equal(k[1], LKID(2, 2));
	/* max: the count is all of them, the array holds max */
	k[1] = 0;
	assert_int_equal(ls_away_wanted(f->ls, 2, k, 1), 2);
	assert_int_equal(k[1], 0);
	assert_int_equal(ls_away_wanted(f->ls, 2, NULL, 0), 2);
	/* a waiter that is not eligible (no live heartbeat) wants nothing */
	assert_int_equal(req(f, 3, 3, "u", MODE_PR, 0), 0);
	assert_int_equal(ls_away_wanted(f->ls, 2, k, 4), 3);
	assert_int_equal(status(f, 3, false, false), 0);
	assert_int_equal(ls_away_wanted(f->ls, 2, k, 4), 1);	/* node 1's r */
	assert_int_equal(status(f, 3, true, false), 0);
	/* nothing eligible at all: the gate closed */
	assert_int_equal(gate(f, false), 0);
	assert_int_equal(ls_away_wanted(f->ls, 2, k, 4), 0);
	assert_int_equal(gate(f, true), 0);
	assert_int_equal(ls_away_wanted(f->ls, 2, k, 4), 3);
	/* the waiter cancels */
	assert_int_equal(cancel(f, 1, 1), 0);
	assert_int_equal(ls_away_wanted(f->ls, 2, k, 4), 2);
	assert_int_equal(k[0], LKID(2, 2));
	/* unknown, fenced */
	assert_int_equal(ls_away_wanted(f->ls, 9, k, 4), 0);
	assert_int_equal(fenced(f, 2, 5), 0);
	assert_int_equal(ls_away_wanted(f->ls, 2, k, 4), 0);
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
		cmocka_unit_test_setup_teardown(test_fenced_older_incarnation_after_rejoin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fenced_older_incarnation_in_rejoin_round, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verdict_incarnation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verdict_below_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leaver_requests_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quorum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_gates_grant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_not_live, setup_bare, teardown),
		cmocka_unit_test_setup_teardown(test_cold_gate, setup_cold, teardown),
		cmocka_unit_test_setup_teardown(test_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejects_leave_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_epochs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_resources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_release_lvb, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_release_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_release_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_release_predecessor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_release_vs_own, setup, teardown),
		cmocka_unit_test_setup_teardown(test_away_wanted, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
