/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_nodelock.c - the node-level lock cache, driven by plain call
 * sequences with exact action lists: the cached path (no cluster action),
 * local queues and sharing, conversions, BLOCKING episodes with the LVB,
 * NOQUEUE, cancel, client loss, stop-all, fencing; then a seeded random
 * run against a small simulated cluster that checks local mutual
 * exclusion, that the node's cluster mode always covers what its clients
 * hold, the LVB, and that every waiter is served in the end.
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

#include "nodelock.h"
#include "sdlm.h"

#define NODE		7u
#define CLID(n)		(((uint64_t)NODE << 32) | (n))

struct fx {
	struct nl_lkids ids;	/* the daemon's one source */
	struct nl_state *nl;
	struct nl_out out;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(nl_lkids_init(&f->ids, NODE), 0);
	assert_int_equal(nl_create(&f->ids, &f->nl), 0);
	/* no predecessor's lock in its lockspace (nl_predecessor_gone): the
	 * hand-off's tests ask for our own locks */
	nl_predecessor_gone(f->nl);
	nl_out_init(&f->out);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	nl_out_free(&f->out);
	nl_destroy(f->nl);
	free(f);
	return 0;
}

/* ---- call helpers ------------------------------------------------------- */

static uint64_t lock_ok(struct fx *f, uint32_t client, const char *name,
			int mode, uint32_t flags)
{
	uint64_t id = 0;

	assert_int_equal(nl_lock(f->nl, client, 1000 + client, name,
				 strlen(name), mode, flags, 0, &id, &f->out),
			 0);
	assert_true(id != 0);
	return id;
}

static int granted(struct fx *f, const char *name, uint64_t lkid, int mode,
		   const char *lvb)
{
	uint8_t buf[LS_LVB_LEN] = { 0 };

	if (lvb)
		memcpy(buf, lvb, strlen(lvb));
	return nl_cluster_granted(f->nl, name, strlen(name), lkid, mode,
				  lvb ? buf : NULL, lvb != NULL, 0, &f->out);
}

static const struct nl_out_item *item(struct fx *f, size_t i)
{
	assert_true(i < f->out.count);
	return &f->out.items[i];
}

static void is_grant(struct fx *f, size_t i, uint32_t client, uint64_t id,
		     int mode)
{
	const struct nl_out_item *it = item(f, i);

	assert_int_equal(it->o_kind, NL_OUT_LOCAL_GRANT);
	assert_int_equal(it->o_client, client);
	assert_int_equal(it->o_local_lkid, id);
	assert_int_equal(it->o_client_ref, 1000 + client);
	assert_int_equal(it->o_mode, mode);
	assert_int_equal(it->o_err, 0);
}

static void is_fail(struct fx *f, size_t i, uint32_t client, uint64_t id,
		    int err)
{
	const struct nl_out_item *it = item(f, i);

	assert_int_equal(it->o_kind, NL_OUT_LOCAL_FAIL);
	assert_int_equal(it->o_client, client);
	assert_int_equal(it->o_local_lkid, id);
	assert_int_equal(it->o_err, err);
}

static void is_bast(struct fx *f, size_t i, uint64_t id, int wanted)
{
	const struct nl_out_item *it = item(f, i);

	assert_int_equal(it->o_kind, NL_OUT_LOCAL_BAST);
	assert_int_equal(it->o_local_lkid, id);
	assert_int_equal(it->o_mode, wanted);
}

static void is_cluster(struct fx *f, size_t i, enum nl_out_kind kind,
		       const char *name, uint64_t lkid, int mode,
		       uint32_t flags)
{
	const struct nl_out_item *it = item(f, i);

	assert_int_equal(it->o_kind, kind);
	assert_int_equal(it->o_namelen, strlen(name));
	assert_memory_equal(it->o_name, name, strlen(name));
	assert_int_equal(it->o_lkid, lkid);
	assert_int_equal(it->o_mode, mode);
	assert_int_equal(it->o_flags, flags);
}

static int queue_of(struct fx *f, uint64_t id)
{
	struct nl_lock_info li;

	if (nl_lock_get(f->nl, id, &li))
		return -1;
	return (int)li.queue;
}

/* Lock name in mode and have the cluster grant it: returns the lkid. */
static uint64_t lock_held(struct fx *f, uint32_t client, const char *name,
			  int mode, uint64_t clid)
{
	uint64_t id = lock_ok(f, client, name, mode, 0);

	assert_int_equal(f->out.count, 1);
	is_cluster(f, 0, NL_OUT_CLUSTER_REQUEST, name, clid, mode, 0);
	assert_int_equal(granted(f, name, clid, mode, NULL), 0);
	assert_int_equal(f->out.count, 1);
	is_grant(f, 0, client, id, mode);
	return id;
}

/* ---- modes -------------------------------------------------------------- */

/* bitmask of the modes m blocks, straight from the DLM table */
static unsigned blocks(int m)
{
	static const char *const tbl[MODE_COUNT] = {
		/* NL CR CW PR PW EX: 1 = compatible */
		"111111", "111110", "111000", "110100", "110000", "100000",
	};
	unsigned s = 0;
	int k;

	for (k = 0; k < MODE_COUNT; k++)
		if (tbl[m][k] == '0')
			s |= 1u << k;
	return s;
}

static void test_mode_sup(void **state)
{
	int a, b, m, best, c;

	(void)state;
	for (a = 0; a < MODE_COUNT; a++)
		for (b = 0; b < MODE_COUNT; b++) {
			unsigned need = blocks(a) | blocks(b);

			/* weakest: a candidate whose blocks set is within
			 * every other candidate's */
			best = -1;
			for (m = 0; m < MODE_COUNT; m++) {
				if ((blocks(m) & need) != need)
					continue;
				for (c = 0; c < MODE_COUNT; c++)
					if ((blocks(c) & need) == need &&
					    (blocks(m) & ~blocks(c)))
						break;
				if (c == MODE_COUNT)
					best = m;
			}
			assert_true(best >= 0);
			assert_int_equal(nl_mode_sup(a, b), best);
			assert_int_equal(nl_mode_sup(b, a), best);
		}
	assert_int_equal(nl_mode_sup(MODE_CW, MODE_PR), MODE_PW);
	assert_int_equal(nl_mode_sup(MODE_CR, MODE_CW), MODE_CW);
	assert_int_equal(nl_mode_sup(MODE_NL, MODE_PR), MODE_PR);
	assert_int_equal(nl_mode_sup(MODE_NONE, MODE_CW), MODE_CW);
	assert_int_equal(nl_mode_sup(MODE_EX, MODE_NONE), MODE_EX);
	assert_int_equal(nl_mode_sup(MODE_NONE, MODE_NONE), MODE_NONE);
	assert_int_equal(nl_mode_sup(9, MODE_NL), MODE_NONE);
}

/* ---- the cached path ---------------------------------------------------- */

static void test_first_lock_requests(void **state)
{
	struct fx *f = *state;
	struct nl_res_info ri;
	uint64_t id;

	id = lock_ok(f, 1, "mbox", MODE_EX, 0);
	assert_int_equal(f->out.count, 1);
	is_cluster(f, 0, NL_OUT_CLUSTER_REQUEST, "mbox", CLID(1), MODE_EX, 0);
	assert_int_equal(queue_of(f, id), NL_Q_WAIT);
	assert_int_equal(nl_res_get(f->nl, "mbox", 4, &ri), 0);
	assert_int_equal(ri.cl_state, NL_CL_REQUESTING);
	assert_int_equal(ri.cl_rqmode, MODE_EX);

	/* a stale or foreign lock id is refused */
	assert_int_equal(granted(f, "mbox", CLID(2), MODE_EX, NULL), -ENOENT);
	assert_int_equal(granted(f, "mbox", CLID(1), MODE_EX, "v1"), 0);
	assert_int_equal(f->out.count, 1);
	is_grant(f, 0, 1, id, MODE_EX);
	assert_true(f->out.items[0].o_lvb_valid);
	assert_string_equal((const char *)f->out.items[0].o_lvb, "v1");
	assert_int_equal(queue_of(f, id), NL_Q_GRANTED);
	/* GRANTED twice: the state is HELD, refused */
	assert_int_equal(granted(f, "mbox", CLID(1), MODE_EX, NULL), -EINVAL);
}

/* The request time (nl_set_now) comes back with the grant, however late
 * the grant: what the lock grant latency metric measures (issue 16 item 6). */
static void test_grant_carries_request_time(void **state)
{
	struct fx *f = *state;
	uint64_t id, id2;

	nl_set_now(f->nl, 1000);
	id = lock_ok(f, 1, "t", MODE_EX, 0);
	nl_set_now(f->nl, 5000);
	assert_int_equal(granted(f, "t", CLID(1), MODE_EX, NULL), 0);
	is_grant(f, 0, 1, id, MODE_EX);
	assert_int_equal(f->out.items[0].o_req_ns, 1000);
	/* a second client waits behind the first: granted at its unlock */
	nl_set_now(f->nl, 6000);
	id2 = lock_ok(f, 2, "t", MODE_EX, 0);
	assert_int_equal(queue_of(f, id2), NL_Q_WAIT);
	nl_set_now(f->nl, 9000);
	assert_int_equal(nl_unlock(f->nl, 1, id, 0, NULL, &f->out), 0);
	assert_int_equal(f->out.count, 1);
	is_grant(f, 0, 2, id2, MODE_EX);
	assert_int_equal(f->out.items[0].o_req_ns, 6000);
	/* a conversion is stamped anew */
	nl_set_now(f->nl, 12000);
	assert_int_equal(nl_convert(f->nl, 2, id2, MODE_PR, 0, NULL, 0, &f->out), 0);
	is_grant(f, 0, 2, id2, MODE_PR);
	assert_int_equal(f->out.items[0].o_req_ns, 12000);
}

static void test_cached_relock(void **state)
{
	struct fx *f = *state;
	struct nl_res_info ri;
	uint64_t id;
	int i;

	id = lock_held(f, 1, "mbox", MODE_EX, CLID(1));
	assert_int_equal(nl_unlock(f->nl, 1, id, 0, NULL, &f->out), 0);
	assert_int_equal(f->out.count, 0);
	assert_int_equal(nl_res_get(f->nl, "mbox", 4, &ri), 0);
	assert_int_equal(ri.cl_state, NL_CL_HELD);
	assert_int_equal(ri.cl_mode, MODE_EX);
	assert_true(ri.idle);

	for (i = 0; i < 100; i++) {
		id = lock_ok(f, 2, "mbox", i % 2 ? MODE_PR : MODE_EX, 0);
		assert_int_equal(f->out.count, 1);
		is_grant(f, 0, 2, id, i % 2 ? MODE_PR : MODE_EX);
		assert_int_equal(nl_unlock(f->nl, 2, id, 0, NULL, &f->out), 0);
		assert_int_equal(f->out.count, 0);
	}
	assert_int_equal(nl_resource_count(f->nl), 1);
	assert_int_equal(nl_lock_count(f->nl), 0);
	/* wrong client, unknown lock */
	id = lock_ok(f, 2, "mbox", MODE_EX, 0);
	assert_int_equal(nl_unlock(f->nl, 3, id, 0, NULL, &f->out), -ENOENT);
	assert_int_equal(nl_unlock(f->nl, 2, id + 1, 0, NULL, &f->out),
			 -ENOENT);
}

/* The cluster grant's epoch reaches every local grant, cached ones too,
 * and a new cluster grant replaces it. */
static void test_epoch_passed_up(void **state)
{
	struct fx *f = *state;
	struct nl_res_info ri;
	uint64_t a, b;

	a = lock_ok(f, 1, "mbox", MODE_EX, 0);
	assert_int_equal(nl_cluster_granted(f->nl, "mbox", 4, CLID(1), MODE_EX,
					    NULL, false, 77, &f->out), 0);
	assert_int_equal(f->out.count, 1);
	is_grant(f, 0, 1, a, MODE_EX);
	assert_int_equal(item(f, 0)->o_epoch, 77);
	assert_int_equal(nl_unlock(f->nl, 1, a, 0, NULL, &f->out), 0);
	/* cached: no cluster action, same epoch */
	b = lock_ok(f, 2, "mbox", MODE_EX, 0);
	assert_int_equal(f->out.count, 1);
	is_grant(f, 0, 2, b, MODE_EX);
	assert_int_equal(item(f, 0)->o_epoch, 77);
	assert_int_equal(nl_res_get(f->nl, "mbox", 4, &ri), 0);
	assert_int_equal(ri.epoch, 77);
	/* hand-off and back: the new tenure's epoch */
	assert_int_equal(nl_cluster_blocking(f->nl, "mbox", 4, CLID(1), MODE_EX,
					     &f->out), 0);
	assert_int_equal(nl_unlock(f->nl, 2, b, 0, NULL, &f->out), 0);
	is_cluster(f, 0, NL_OUT_CLUSTER_RELEASE, "mbox", CLID(1), MODE_NONE, 0);
	assert_int_equal(nl_cluster_released(f->nl, "mbox", 4, CLID(1), 0,
					     &f->out), 0);
	a = lock_ok(f, 1, "mbox", MODE_EX, 0);
	is_cluster(f, 0, NL_OUT_CLUSTER_REQUEST, "mbox", CLID(2), MODE_EX, 0);
	assert_int_equal(nl_cluster_granted(f->nl, "mbox", 4, CLID(2), MODE_EX,
					    NULL, false, 79, &f->out), 0);
	is_grant(f, 0, 1, a, MODE_EX);
	assert_int_equal(item(f, 0)->o_epoch, 79);
}

static void test_local_ex_serialize(void **state)
{
	struct fx *f = *state;
	uint64_t a, b, c;

	a = lock_held(f, 1, "uid", MODE_EX, CLID(1));
	b = lock_ok(f, 2, "uid", MODE_EX, 0);
	assert_int_equal(f->out.count, 0);
	c = lock_ok(f, 3, "uid", MODE_EX, 0);
	assert_int_equal(f->out.count, 0);
	assert_int_equal(queue_of(f, b), NL_Q_WAIT);
	/* a waiting lock cannot be unlocked */
	assert_int_equal(nl_unlock(f->nl, 2, b, 0, NULL, &f->out), -EBUSY);

	assert_int_equal(nl_unlock(f->nl, 1, a, 0, NULL, &f->out), 0);
	assert_int_equal(f->out.count, 1);
	is_grant(f, 0, 2, b, MODE_EX);
	assert_int_equal(queue_of(f, c), NL_Q_WAIT);
	assert_int_equal(nl_unlock(f->nl, 2, b, 0, NULL, &f->out), 0);
	assert_int_equal(f->out.count, 1);
	is_grant(f, 0, 3, c, MODE_EX);
}

static void test_pr_sharing(void **state)
{
	struct fx *f = *state;
	uint64_t a, b, c;

	a = lock_held(f, 1, "st", MODE_PR, CLID(1));
	b = lock_ok(f, 2, "st", MODE_PR, 0);
	assert_int_equal(f->out.count, 1);
	is_grant(f, 0, 2, b, MODE_PR);
	c = lock_ok(f, 3, "st", MODE_CR, 0);
	assert_int_equal(f->out.count, 1);
	is_grant(f, 0, 3, c, MODE_CR);
	assert_int_equal(queue_of(f, a), NL_Q_GRANTED);
}

static void test_upgrade_needs_convert(void **state)
{
	struct fx *f = *state;
	uint64_t a, b;

	a = lock_held(f, 1, "m", MODE_PR, CLID(1));
	b = lock_ok(f, 2, "m", MODE_PR, 0);
	assert_int_equal(f->out.count, 1);

	/* a waits for b locally first: no cluster action yet */
	assert_int_equal(nl_convert(f->nl, 1, a, MODE_EX, 0, NULL, 0,
				    &f->out), 0);
	assert_int_equal(f->out.count, 0);
	assert_int_equal(queue_of(f, a), NL_Q_CONVERT);
	/* b converting too would deadlock locally: refused */
	assert_int_equal(nl_convert(f->nl, 2, b, MODE_EX, 0, NULL, 0,
				    &f->out), -EDEADLK);
	assert_int_equal(queue_of(f, b), NL_Q_GRANTED);

	assert_int_equal(nl_unlock(f->nl, 2, b, 0, NULL, &f->out), 0);
	assert_int_equal(f->out.count, 1);
	is_cluster(f, 0, NL_OUT_CLUSTER_CONVERT, "m", CLID(1), MODE_EX, 0);
	/* a new local request waits behind the conversion */
	b = lock_ok(f, 2, "m", MODE_CR, 0);
	assert_int_equal(f->out.count, 0);
	assert_int_equal(granted(f, "m", CLID(1), MODE_EX, NULL), 0);
	assert_int_equal(f->out.count, 1);
	is_grant(f, 0, 1, a, MODE_EX);
	assert_int_equal(queue_of(f, b), NL_Q_WAIT);

	/* down-convert: granted at once, the waiter fits again */
	assert_int_equal(nl_convert(f->nl, 1, a, MODE_PR, 0, NULL, SDLM_ELEASE,
				    &f->out), 0);
	assert_int_equal(f->out.count, 2);
	is_grant(f, 0, 1, a, MODE_PR);
	is_grant(f, 1, 2, b, MODE_CR);
}

static void test_sup_cw_pr_convert(void **state)
{
	struct fx *f = *state;
	uint64_t a;

	/* A PR holder converting to CW still holds PR until granted: the
	 * cluster lock must cover both, sup(CW, PR) = PW. */
	a = lock_held(f, 1, "x", MODE_PR, CLID(1));
	assert_int_equal(nl_convert(f->nl, 1, a, MODE_CW, 0, NULL, 0,
				    &f->out), 0);
	assert_int_equal(f->out.count, 1);
	is_cluster(f, 0, NL_OUT_CLUSTER_CONVERT, "x", CLID(1), MODE_PW, 0);
	assert_int_equal(granted(f, "x", CLID(1), MODE_PW, NULL), 0);
	assert_int_equal(f->out.count, 1);
	is_grant(f, 0, 1, a, MODE_CW);
}

/* ---- blocking ----------------------------------------------------------- */

static void test_blocking_release_with_lvb(void **state)
{
	struct fx *f = *state;
	uint8_t v[LS_LVB_LEN] = "next=42";
	const struct nl_out_item *it;
	uint64_t a, b;

	a = lock_held(f, 1, "uid", MODE_EX, CLID(1));
	assert_int_equal(nl_cluster_blocking(f->nl, "uid", 3, CLID(1), MODE_EX,
					     &f->out), 0);
	assert_int_equal(f->out.count, 1);
	is_bast(f, 0, a, MODE_EX);
	/* once per episode */
	assert_int_equal(nl_cluster_blocking(f->nl, "uid", 3, CLID(1), MODE_EX,
					     &f->out), 0);
	assert_int_equal(f->out.count, 0);

	/* a new local request waits during the episode, even with the
	 * cluster lock in hand */
	b = lock_ok(f, 2, "uid", MODE_EX, 0);
	assert_int_equal(f->out.count, 0);
	assert_int_equal(queue_of(f, b), NL_Q_WAIT);

	assert_int_equal(nl_unlock(f->nl, 1, a, SDLM_LKF_VALBLK, v, &f->out), 0);
	assert_int_equal(f->out.count, 1);
	is_cluster(f, 0, NL_OUT_CLUSTER_RELEASE, "uid", CLID(1), MODE_NONE, 0);
	it = item(f, 0);
	assert_true(it->o_lvb_valid);
	assert_memory_equal(it->o_lvb, v, LS_LVB_LEN);

	/* a BLOCKING sent before our release was applied: ignored */
	assert_int_equal(nl_cluster_blocking(f->nl, "uid", 3, CLID(1), MODE_PR,
					     &f->out), 0);
	assert_int_equal(f->out.count, 0);

	assert_int_equal(nl_cluster_released(f->nl, "uid", 3, CLID(1), 0,
					     &f->out), 0);
	assert_int_equal(f->out.count, 1);
	is_cluster(f, 0, NL_OUT_CLUSTER_REQUEST, "uid", CLID(2), MODE_EX, 0);
	assert_int_equal(granted(f, "uid", CLID(2), MODE_EX, "next=57"), 0);
	assert_int_equal(f->out.count, 1);
	is_grant(f, 0, 2, b, MODE_EX);
	assert_true(item(f, 0)->o_lvb_valid);
	assert_string_equal((const char *)item(f, 0)->o_lvb, "next=57");
}

static void test_blocking_down_convert(void **state)
{
	struct fx *f = *state;
	uint8_t v[LS_LVB_LEN] = "w";
	uint64_t a, b;
	struct nl_res_info ri;

	a = lock_held(f, 1, "r", MODE_EX, CLID(1));
	assert_int_equal(nl_convert(f->nl, 1, a, MODE_PW, SDLM_LKF_VALBLK, v, 0,
				    &f->out), 0);
	is_grant(f, 0, 1, a, MODE_PW);
	b = lock_ok(f, 2, "r", MODE_CR, 0);
	is_grant(f, 0, 2, b, MODE_CR);

	/* another node wants PR: only the PW holder is in the way */
	assert_int_equal(nl_cluster_blocking(f->nl, "r", 1, CLID(1), MODE_PR,
					     &f->out), 0);
	assert_int_equal(f->out.count, 1);
	is_bast(f, 0, a, MODE_PR);
	assert_int_equal(nl_unlock(f->nl, 1, a, 0, NULL, &f->out), 0);
	assert_int_equal(f->out.count, 1);
	is_cluster(f, 0, NL_OUT_CLUSTER_CONVERT, "r", CLID(1), MODE_CR, 0);
	assert_true(item(f, 0)->o_lvb_valid);
	assert_memory_equal(item(f, 0)->o_lvb, v, LS_LVB_LEN);
	assert_int_equal(granted(f, "r", CLID(1), MODE_CR, "w"), 0);
	assert_int_equal(f->out.count, 0);
	assert_int_equal(nl_res_get(f->nl, "r", 1, &ri), 0);
	assert_int_equal(ri.cl_state, NL_CL_HELD);
	assert_int_equal(ri.cl_mode, MODE_CR);
	assert_int_equal(ri.wanted, MODE_NONE);
}

static void test_blocking_idle_cached(void **state)
{
	struct fx *f = *state;
	uint64_t a;

	a = lock_held(f, 1, "c", MODE_PR, CLID(1));
	assert_int_equal(nl_unlock(f->nl, 1, a, 0, NULL, &f->out), 0);
	assert_int_equal(nl_cluster_blocking(f->nl, "c", 1, CLID(1), MODE_EX,
					     &f->out), 0);
	assert_int_equal(f->out.count, 1);
	is_cluster(f, 0, NL_OUT_CLUSTER_RELEASE, "c", CLID(1), MODE_NONE, 0);
	assert_false(item(f, 0)->o_lvb_valid);
	assert_int_equal(nl_cluster_released(f->nl, "c", 1, CLID(1), 0,
					     &f->out), 0);
	assert_int_equal(f->out.count, 0);
	assert_int_equal(nl_resource_count(f->nl), 0);
}

/* ---- NOQUEUE, cancel, failures ----------------------------------------- */

static void test_noqueue(void **state)
{
	struct fx *f = *state;
	uint64_t a, b, c, id = 0;

	a = lock_held(f, 1, "q", MODE_EX, CLID(1));
	/* would wait behind a local holder: fails at once, nothing kept */
	assert_int_equal(nl_lock(f->nl, 2, 1002, "q", 1, MODE_EX,
				 SDLM_LKF_NOQUEUE, 0, &id, &f->out), SDLM_EBUSY);
	assert_int_equal(f->out.count, 0);
	assert_int_equal(nl_lock_count(f->nl), 1);
	(void)a;

	/* needs the cluster: asked with NOQUEUE, fails when the cluster
	 * says so; the plain waiter behind it is asked for again */
	b = lock_ok(f, 2, "n", MODE_EX, SDLM_LKF_NOQUEUE);
	assert_int_equal(f->out.count, 1);
	is_cluster(f, 0, NL_OUT_CLUSTER_REQUEST, "n", CLID(2), MODE_EX,
		   LS_LKF_NOQUEUE);
	c = lock_ok(f, 3, "n", MODE_PR, 0);
	assert_int_equal(f->out.count, 0);
	assert_int_equal(nl_cluster_failed(f->nl, "n", 1, CLID(2), SDLM_EBUSY,
					   &f->out), 0);
	assert_int_equal(f->out.count, 2);
	is_fail(f, 0, 2, b, SDLM_EBUSY);
	is_cluster(f, 1, NL_OUT_CLUSTER_REQUEST, "n", CLID(3), MODE_PR, 0);
	assert_int_equal(queue_of(f, b), -1);
	assert_int_equal(queue_of(f, c), NL_Q_WAIT);

	/* alone: the resource goes with it */
	b = lock_ok(f, 2, "z", MODE_EX, SDLM_LKF_NOQUEUE);
	assert_int_equal(nl_cluster_failed(f->nl, "z", 1, CLID(4), SDLM_EBUSY,
					   &f->out), 0);
	assert_int_equal(f->out.count, 1);
	is_fail(f, 0, 2, b, SDLM_EBUSY);
	assert_int_equal(nl_res_get(f->nl, "z", 1, &(struct nl_res_info){0}),
			 -ENOENT);
}

static void test_cancel(void **state)
{
	struct fx *f = *state;
	uint64_t a, b, w;

	/* the only waiter of a pending request: the request is withdrawn */
	w = lock_ok(f, 1, "p", MODE_EX, 0);
	assert_int_equal(nl_cancel(f->nl, 1, w, &f->out), 0);
	assert_int_equal(f->out.count, 2);
	is_fail(f, 0, 1, w, SDLM_ECANCELED);
	assert_int_equal(item(f, 0)->o_mode, MODE_NONE);
	is_cluster(f, 1, NL_OUT_CLUSTER_CANCEL, "p", CLID(1), MODE_NONE, 0);
	assert_int_equal(nl_cluster_failed(f->nl, "p", 1, CLID(1),
					   SDLM_ECANCELED, &f->out), 0);
	assert_int_equal(f->out.count, 0);
	assert_int_equal(nl_resource_count(f->nl), 0);

	/* the grant won the race: cached */
	w = lock_ok(f, 1, "p", MODE_EX, 0);
	assert_int_equal(nl_cancel(f->nl, 1, w, &f->out), 0);
	is_cluster(f, 1, NL_OUT_CLUSTER_CANCEL, "p", CLID(2), MODE_NONE, 0);
	assert_int_equal(granted(f, "p", CLID(2), MODE_EX, NULL), 0);
	assert_int_equal(f->out.count, 0);
	w = lock_ok(f, 1, "p", MODE_EX, 0);
	is_grant(f, 0, 1, w, MODE_EX);
	assert_int_equal(nl_cancel(f->nl, 1, w, &f->out), -EALREADY);

	/* a conversion goes back to its granted mode */
	a = lock_held(f, 1, "k", MODE_PR, CLID(3));
	b = lock_ok(f, 2, "k", MODE_PR, 0);
	assert_int_equal(nl_convert(f->nl, 1, a, MODE_EX, 0, NULL, 0,
				    &f->out), 0);
	assert_int_equal(nl_cancel(f->nl, 1, a, &f->out), 0);
	assert_int_equal(f->out.count, 1);
	is_fail(f, 0, 1, a, SDLM_ECANCELED);
	assert_int_equal(item(f, 0)->o_mode, MODE_PR);
	assert_int_equal(queue_of(f, a), NL_Q_GRANTED);
	(void)b;
}

/*
 * Held requests (review s27-increv H2, H4): a request made while held
 * is REQUESTING with its lock id but marked held, no cluster decision
 * names it (a decision with its id is about a predecessor's lock: a
 * GRANTED of that lock must not become ours), a cancel withdraws it with
 * no CANCEL, the daemon may refuse it, and nl_send_held sends the rest in
 * lock id order.
 */
static void test_held_requests(void **state)
{
	struct fx *f = *state;
	struct nl_res_info ri;
	uint64_t a, b, c;
	uint8_t v1[LS_LVB_LEN] = "v1";

	nl_hold_requests(f->nl);
	assert_true(nl_holding(f->nl));
	a = lock_ok(f, 1, "alias", MODE_EX, 0);
	assert_int_equal(f->out.count, 1);
	is_cluster(f, 0, NL_OUT_CLUSTER_REQUEST, "alias", CLID(1), MODE_EX, 0);
	assert_true(item(f, 0)->o_held);
	assert_int_equal(nl_res_get(f->nl, "alias", 5, &ri), 0);
	assert_int_equal(ri.cl_state, NL_CL_REQUESTING);
	assert_int_equal(ri.cl_lkid, CLID(1));
	assert_true(ri.unsent);

	/* the predecessor's lock 7:1 on the same resource: its decisions
	 * are not ours */
	assert_int_equal(nl_cluster_granted(f->nl, "alias", 5, CLID(1), MODE_EX,
					    v1, true, 4, &f->out), -ENOENT);
	assert_int_equal(f->out.count, 0);
	assert_int_equal(nl_cluster_failed(f->nl, "alias", 5, CLID(1),
					   SDLM_ECANCELED, &f->out), -ENOENT);
	assert_int_equal(nl_cluster_blocking(f->nl, "alias", 5, CLID(1), MODE_EX,
					     &f->out), -ENOENT);
	assert_int_equal(nl_cluster_released(f->nl, "alias", 5, CLID(1), 0,
					     &f->out), -ENOENT);
	assert_int_equal(queue_of(f, a), NL_Q_WAIT);

	/* cancelled while held: answered here, no CANCEL */
	b = lock_ok(f, 2, "b", MODE_PR, SDLM_LKF_NOQUEUE);
	is_cluster(f, 0, NL_OUT_CLUSTER_REQUEST, "b", CLID(2), MODE_PR,
		   LS_LKF_NOQUEUE);
	assert_true(item(f, 0)->o_held);
	assert_int_equal(nl_cancel(f->nl, 2, b, &f->out), 0);
	assert_int_equal(f->out.count, 1);
	is_fail(f, 0, 2, b, SDLM_ECANCELED);
	assert_int_equal(nl_res_get(f->nl, "b", 1, &ri), -ENOENT);

	/* refused by the daemon (e.g. cut off) */
	c = lock_ok(f, 3, "c", MODE_CR, 0);
	is_cluster(f, 0, NL_OUT_CLUSTER_REQUEST, "c", CLID(3), MODE_CR, 0);
	assert_int_equal(nl_unsent_failed(f->nl, "c", 1, CLID(4), SDLM_ENOQUORUM,
					  &f->out), -ENOENT);
	assert_int_equal(nl_unsent_failed(f->nl, "c", 1, CLID(3), SDLM_ENOQUORUM,
					  &f->out), 0);
	assert_int_equal(f->out.count, 1);
	is_fail(f, 0, 3, c, SDLM_ENOQUORUM);
	assert_int_equal(nl_res_get(f->nl, "c", 1, &ri), -ENOENT);
	/* a request that went out is no held one */
	assert_int_equal(nl_unsent_failed(f->nl, "alias", 5, CLID(2),
					  SDLM_ENOQUORUM, &f->out), -ENOENT);

	/* a second held one, then both go out in lock id order, not held */
	b = lock_ok(f, 2, "b", MODE_PW, SDLM_LKF_NOQUEUE);
	assert_true(item(f, 0)->o_held);
	assert_int_equal(nl_send_held(f->nl, &f->out), 0);
	assert_false(nl_holding(f->nl));
	assert_int_equal(f->out.count, 2);
	is_cluster(f, 0, NL_OUT_CLUSTER_REQUEST, "alias", CLID(1), MODE_EX, 0);
	is_cluster(f, 1, NL_OUT_CLUSTER_REQUEST, "b", CLID(4), MODE_PW,
		   LS_LKF_NOQUEUE);
	assert_false(item(f, 0)->o_held);
	assert_false(item(f, 1)->o_held);
	assert_int_equal(nl_send_held(f->nl, &f->out), 0);
	assert_int_equal(f->out.count, 0);

	/* sent: the cluster's answers are ours now, a cancel is a CANCEL */
	assert_int_equal(nl_res_get(f->nl, "alias", 5, &ri), 0);
	assert_false(ri.unsent);
	assert_int_equal(nl_cluster_granted(f->nl, "alias", 5, CLID(1), MODE_EX,
					    v1, true, 4, &f->out), 0);
	is_grant(f, 0, 1, a, MODE_EX);
	assert_int_equal(nl_cancel(f->nl, 2, b, &f->out), 0);
	is_cluster(f, 1, NL_OUT_CLUSTER_CANCEL, "b", CLID(4), MODE_NONE, 0);

	/* not held: a new request goes out at once */
	c = lock_ok(f, 3, "d", MODE_EX, 0);
	is_cluster(f, 0, NL_OUT_CLUSTER_REQUEST, "d", CLID(5), MODE_EX, 0);
	assert_false(item(f, 0)->o_held);

	/* held again, then stop_all: nothing is left to send */
	nl_hold_requests(f->nl);
	(void)lock_ok(f, 4, "e", MODE_EX, 0);
	assert_true(item(f, 0)->o_held);
	{
		uint32_t *clients = NULL;
		size_t n = 0;

		assert_int_equal(nl_stop_all(f->nl, &clients, &n), 0);
		free(clients);
	}
	assert_int_equal(nl_send_held(f->nl, &f->out), 0);
	assert_int_equal(f->out.count, 0);
}

static void test_cluster_deadlock(void **state)
{
	struct fx *f = *state;
	struct nl_lock_info li;
	uint64_t a;

	a = lock_held(f, 1, "d", MODE_PR, CLID(1));
	assert_int_equal(nl_convert(f->nl, 1, a, MODE_EX, 0, NULL, 0,
				    &f->out), 0);
	is_cluster(f, 0, NL_OUT_CLUSTER_CONVERT, "d", CLID(1), MODE_EX, 0);
	assert_int_equal(nl_cluster_failed(f->nl, "d", 1, CLID(1), -EDEADLK,
					   &f->out), 0);
	assert_int_equal(f->out.count, 1);
	is_fail(f, 0, 1, a, -EDEADLK);
	assert_int_equal(nl_lock_get(f->nl, a, &li), 0);
	assert_int_equal(li.queue, NL_Q_GRANTED);
	assert_int_equal(li.grmode, MODE_PR);
}

static void test_client_gone(void **state)
{
	struct fx *f = *state;
	uint64_t a, b, c;

	a = lock_held(f, 1, "g", MODE_EX, CLID(1));
	b = lock_ok(f, 2, "g", MODE_EX, 0);
	c = lock_ok(f, 1, "g", MODE_EX, 0);	/* behind b */
	lock_ok(f, 1, "h", MODE_PR, 0);		/* REQUESTING CLID(2) */
	assert_int_equal(nl_lock_count(f->nl), 4);

	assert_int_equal(nl_client_gone(f->nl, 1, &f->out), 0);
	assert_int_equal(f->out.count, 2);
	is_grant(f, 0, 2, b, MODE_EX);
	is_cluster(f, 1, NL_OUT_CLUSTER_CANCEL, "h", CLID(2), MODE_NONE, 0);
	assert_int_equal(nl_lock_count(f->nl), 1);
	assert_int_equal(queue_of(f, a), -1);
	assert_int_equal(queue_of(f, c), -1);
}

static void test_stop_all(void **state)
{
	struct fx *f = *state;
	uint32_t *ids;
	size_t n;

	lock_held(f, 5, "a", MODE_EX, CLID(1));
	lock_ok(f, 3, "a", MODE_EX, 0);
	lock_ok(f, 5, "b", MODE_PR, 0);
	lock_ok(f, 9, "b", MODE_PR, 0);
	assert_int_equal(nl_stop_all(f->nl, &ids, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(ids[0], 3);
	assert_int_equal(ids[1], 5);
	assert_int_equal(ids[2], 9);
	free(ids);
	assert_int_equal(nl_lock_count(f->nl), 0);
	assert_int_equal(nl_resource_count(f->nl), 0);
	/* late cluster answers find nothing */
	assert_int_equal(granted(f, "b", CLID(2), MODE_PR, NULL), -ENOENT);
	assert_int_equal(nl_stop_all(f->nl, &ids, &n), 0);
	assert_int_equal(n, 0);
	assert_null(ids);
	/* lock ids are never reused */
	lock_ok(f, 1, "a", MODE_EX, 0);
	is_cluster(f, 0, NL_OUT_CLUSTER_REQUEST, "a", CLID(3), MODE_EX, 0);
}

/*
 * Two lockspaces of one daemon: their caches hand out cluster lock ids
 * from one source, so (incarnation, lkid) names one grant across every
 * lockspace of the daemon (design-handoff.md, finding H2).  Before the
 * fix each cache counted from 1: lockspace B's first request was CLID(1)
 * too.  A lockspace left and joined again (a new cache) does not start
 * over either.
 */
static void test_lkids_unique_across_lockspaces(void **state)
{
	struct fx *f = *state;
	struct nl_state *b, *c;
	struct nl_out bo;
	uint64_t id = 0;

	assert_int_equal(nl_create(&f->ids, &b), 0);
	nl_out_init(&bo);
	lock_ok(f, 1, "r", MODE_EX, 0);
	is_cluster(f, 0, NL_OUT_CLUSTER_REQUEST, "r", CLID(1), MODE_EX, 0);
	assert_int_equal(nl_lock(b, 1, 1, "r", 1, MODE_EX, 0, 0, &id, &bo), 0);
	assert_int_equal(bo.count, 1);
	assert_int_equal(bo.items[0].o_kind, NL_OUT_CLUSTER_REQUEST);
	assert_int_equal(bo.items[0].o_lkid, CLID(2));
	nl_out_reset(&f->out);
	lock_ok(f, 2, "s", MODE_PR, 0);
	is_cluster(f, 0, NL_OUT_CLUSTER_REQUEST, "s", CLID(3), MODE_PR, 0);

	/* B left and joined again: a new cache, the same source */
	nl_destroy(b);
	assert_int_equal(nl_create(&f->ids, &c), 0);
	nl_out_reset(&bo);
	assert_int_equal(nl_lock(c, 1, 1, "r", 1, MODE_EX, 0, 0, &id, &bo), 0);
	assert_int_equal(bo.count, 1);
	assert_int_equal(bo.items[0].o_lkid, CLID(4));
	nl_out_free(&bo);
	nl_destroy(c);

	/* bad sources */
	assert_int_equal(nl_lkids_init(NULL, NODE), -EINVAL);
	assert_int_equal(nl_lkids_init(&f->ids, 0), -EINVAL);
	assert_int_equal(nl_create(NULL, &c), -EINVAL);
	assert_int_equal(nl_create(&f->ids, NULL), -EINVAL);
}

/*
 * The end of the ids: the last one is handed out, then a new cluster
 * request fails its waiters with -EOVERFLOW in EVERY lockspace (never a
 * wrap to an id already used); held and cached locks keep working.
 */
static void test_lkids_exhausted(void **state)
{
	struct fx *f = *state;
	struct nl_state *b;
	struct nl_out bo;
	uint64_t a, id = 0;

	assert_int_equal(nl_create(&f->ids, &b), 0);
	nl_out_init(&bo);
	a = lock_held(f, 1, "held", MODE_EX, CLID(1));
	f->ids.next = 0xffffffffull;
	nl_out_reset(&f->out);
	lock_ok(f, 2, "last", MODE_EX, 0);
	is_cluster(f, 0, NL_OUT_CLUSTER_REQUEST, "last", CLID(0xffffffffull),
		   MODE_EX, 0);

	nl_out_reset(&f->out);
	id = lock_ok(f, 3, "next", MODE_EX, 0);
	assert_int_equal(f->out.count, 1);
	is_fail(f, 0, 3, id, -EOVERFLOW);
	assert_int_equal(nl_lock(b, 1, 1, "x", 1, MODE_EX, 0, 0, &id, &bo), 0);
	assert_int_equal(bo.count, 1);
	assert_int_equal(bo.items[0].o_kind, NL_OUT_LOCAL_FAIL);
	assert_int_equal(bo.items[0].o_err, -EOVERFLOW);

	/* the held lock: released locally, cached, taken again locally */
	nl_out_reset(&f->out);
	assert_int_equal(nl_unlock(f->nl, 1, a, 0, NULL, &f->out), 0);
	a = lock_ok(f, 1, "held", MODE_EX, 0);
	assert_int_equal(f->out.count, 1);
	is_grant(f, 0, 1, a, MODE_EX);
	nl_out_free(&bo);
	nl_destroy(b);
}

static void test_may_use(void **state)
{
	struct fx *f = *state;
	uint64_t id = 0, a;

	assert_int_equal(nl_lock(f->nl, 1, 1, "u", 1, MODE_EX, 0, SDLM_ELEASE,
				 &id, &f->out), SDLM_ELEASE);
	assert_int_equal(f->out.count, 0);
	assert_int_equal(id, 0);
	assert_int_equal(nl_resource_count(f->nl), 0);

	a = lock_held(f, 1, "u", MODE_CR, CLID(1));
	assert_int_equal(nl_convert(f->nl, 1, a, MODE_EX, 0, NULL, SDLM_EPILL,
				    &f->out), SDLM_EPILL);
	assert_int_equal(queue_of(f, a), NL_Q_GRANTED);
	assert_int_equal(nl_convert(f->nl, 1, a, MODE_NL, 0, NULL, SDLM_EPILL,
				    &f->out), 0);
	is_grant(f, 0, 1, a, MODE_NL);
}

static void test_fenced(void **state)
{
	struct fx *f = *state;
	uint64_t a, b, c;

	a = lock_held(f, 1, "f", MODE_PR, CLID(1));
	b = lock_ok(f, 2, "f", MODE_CR, 0);
	c = lock_ok(f, 3, "f", MODE_EX, 0);
	assert_int_equal(nl_cluster_released(f->nl, "f", 1, CLID(1),
					     SDLM_EFENCED, &f->out), 0);
	assert_int_equal(f->out.count, 3);
	is_fail(f, 0, 1, a, SDLM_EFENCED);
	is_fail(f, 1, 2, b, SDLM_EFENCED);
	is_fail(f, 2, 3, c, SDLM_EFENCED);
	assert_int_equal(nl_lock_count(f->nl), 0);
	assert_int_equal(nl_resource_count(f->nl), 0);

	/* a pending request cancelled because the node was fenced */
	a = lock_ok(f, 1, "f", MODE_EX, 0);
	assert_int_equal(nl_cluster_failed(f->nl, "f", 1, CLID(2),
					   SDLM_EFENCED, &f->out), 0);
	assert_int_equal(f->out.count, 1);
	is_fail(f, 0, 1, a, SDLM_EFENCED);
	/* a plain RELEASED for a lock we did not release: refused */
	lock_held(f, 1, "e", MODE_EX, CLID(3));
	assert_int_equal(nl_cluster_released(f->nl, "e", 1, CLID(3), 0,
					     &f->out), -EINVAL);
}

static void test_drop_cached(void **state)
{
	struct fx *f = *state;
	size_t n;

	nl_unlock(f->nl, 1, lock_held(f, 1, "one", MODE_EX, CLID(1)), 0, NULL,
		  &f->out);
	nl_unlock(f->nl, 1, lock_held(f, 1, "two", MODE_EX, CLID(2)), 0, NULL,
		  &f->out);
	lock_held(f, 1, "busy", MODE_EX, CLID(3));
	assert_int_equal(nl_drop_cached(f->nl, 1, &n, &f->out), 0);
	assert_int_equal(n, 1);
	assert_int_equal(f->out.count, 1);
	is_cluster(f, 0, NL_OUT_CLUSTER_RELEASE, "one", CLID(1), MODE_NONE, 0);
	assert_int_equal(nl_drop_cached(f->nl, 10, &n, &f->out), 0);
	assert_int_equal(n, 1);
	is_cluster(f, 0, NL_OUT_CLUSTER_RELEASE, "two", CLID(2), MODE_NONE, 0);
}

static int collect_names(const struct nl_res_info *ri, void *arg)
{
	char *buf = arg;

	strncat(buf, (const char *)ri->name, ri->namelen);
	strcat(buf, ri->cl_state == NL_CL_HELD ? "H," : "R,");
	return 0;
}

static int count_locks(const struct nl_lock_info *li, void *arg)
{
	int *n = arg;

	*n = *n * 10 + (int)li->queue + 1;
	return 0;
}

static void test_introspection(void **state)
{
	struct fx *f = *state;
	char buf[128] = "";
	int n = 0;
	uint64_t id = 0;

	lock_ok(f, 1, "b", MODE_EX, 0);
	lock_held(f, 1, "ab", MODE_EX, CLID(2));
	lock_held(f, 1, "a", MODE_PR, CLID(3));
	lock_ok(f, 2, "ab", MODE_EX, 0);
	assert_int_equal(nl_foreach_resource(f->nl, collect_names, buf), 0);
	assert_string_equal(buf, "aH,abH,bR,");
	assert_int_equal(nl_foreach_lock(f->nl, "ab", 2, count_locks, &n), 0);
	assert_int_equal(n, 13);	/* granted, then waiting */
	assert_int_equal(nl_foreach_lock(f->nl, "zz", 2, count_locks, &n),
			 -ENOENT);
	/* malformed calls */
	assert_int_equal(nl_lock(f->nl, 1, 0, "x", 0, MODE_EX, 0, 0, &id,
				 &f->out), -EINVAL);
	assert_int_equal(nl_lock(f->nl, 1, 0, "x", 65, MODE_EX, 0, 0, &id,
				 &f->out), -EINVAL);
	assert_int_equal(nl_lock(f->nl, 1, 0, "x", 1, 6, 0, 0, &id, &f->out),
			 -EINVAL);
	assert_int_equal(nl_lock(f->nl, 1, 0, "x", 1, MODE_EX, 0x100, 0, &id,
				 &f->out), -EINVAL);
}

static void test_scale(void **state)
{
	struct fx *f = *state;
	char name[32];
	uint64_t id;
	uint32_t i;
	int len;

	for (i = 1; i <= 100000; i++) {
		len = snprintf(name, sizeof(name), "r%u", i);
		assert_int_equal(nl_lock(f->nl, 1, 1, name, (size_t)len,
					 MODE_EX, 0, 0, &id, &f->out), 0);
		assert_int_equal(nl_cluster_granted(f->nl, name, (size_t)len,
						    CLID(i), MODE_EX, NULL,
						    false, 0, &f->out), 0);
		assert_int_equal(f->out.count, 1);
		assert_int_equal(nl_unlock(f->nl, 1, id, 0, NULL, &f->out), 0);
	}
	assert_int_equal(nl_resource_count(f->nl), 100000);
	for (i = 1; i <= 100000; i++) {
		len = snprintf(name, sizeof(name), "r%u", i);
		assert_int_equal(nl_lock(f->nl, 2, 1, name, (size_t)len,
					 MODE_PR, 0, 0, &id, &f->out), 0);
		assert_int_equal(f->out.count, 1);
		assert_int_equal(f->out.items[0].o_kind, NL_OUT_LOCAL_GRANT);
	}
	assert_int_equal(nl_lock_count(f->nl), 100000);
}

/* ---- the cluster lock id index (review RH3) ----------------------------- */

/* The walk's answer (every resource, by name) against the index's: each
 * resource with a cluster lock is found by its id, as itself. */
static int index_agrees(const struct nl_res_info *ri, void *arg)
{
	const struct nl_state *nl = arg;
	struct nl_res_info by;

	if (ri->cl_state == NL_CL_NONE) {
		assert_int_equal(ri->cl_lkid, 0);
		return 0;
	}
	assert_int_equal(nl_res_get_lkid(nl, ri->cl_lkid, &by), 0);
	assert_int_equal(by.namelen, ri->namelen);
	assert_memory_equal(by.name, ri->name, ri->namelen);
	assert_int_equal(by.cl_state, ri->cl_state);
	return 0;
}

static void check_index(const struct nl_state *nl)
{
	assert_int_equal(nl_foreach_resource(nl, index_agrees, (void *)nl), 0);
}

#define IX_N	3000	/* past the tables' first size (1024): they grow */

/*
 * The hand-off finds a resource by its cluster lock id once per request
 * entry read and per stopping grant per tick; it walked every cached
 * resource.  The index must follow every change of the id: the request
 * (new id), a failed request, a release, a lost lock (fenced), the lock
 * handed off, a new request of the same resource (a new id; the old one
 * is found no more), and the tables' growth.
 */
static void test_lkid_index(void **state)
{
	struct fx *f = *state;
	struct nl_res_info ri;
	uint64_t id[IX_N + 1], again;
	char name[32];
	uint32_t i;
	size_t n;
	int len;

	for (i = 1; i <= IX_N; i++) {
		len = snprintf(name, sizeof(name), "ix%u", i);
		assert_int_equal(nl_lock(f->nl, 1, 1, name, (size_t)len,
					 MODE_EX, 0, 0, &id[i], &f->out), 0);
		assert_int_equal(nl_res_get_lkid(f->nl, CLID(i), &ri), 0);
		assert_int_equal(ri.cl_state, NL_CL_REQUESTING);
		assert_int_equal(ri.namelen, (size_t)len);
		assert_memory_equal(ri.name, name, (size_t)len);
	}
	check_index(f->nl);
	/* every third request fails; the others are granted */
	for (i = 1; i <= IX_N; i++) {
		len = snprintf(name, sizeof(name), "ix%u", i);
		if (i % 3 == 0)
			assert_int_equal(nl_cluster_failed(f->nl, name, (size_t)len,
							   CLID(i), -EDEADLK,
							   &f->out), 0);
		else
			assert_int_equal(nl_cluster_granted(f->nl, name, (size_t)len,
							    CLID(i), MODE_EX, NULL,
							    false, 0, &f->out), 0);
	}
	for (i = 1; i <= IX_N; i++) {
		assert_int_equal(nl_res_get_lkid(f->nl, CLID(i), &ri),
				 i % 3 == 0 ? -ENOENT : 0);
		assert_int_equal(nl_handoff_held(f->nl, CLID(i)), i % 3 != 0);
	}
	check_index(f->nl);
	/* released (unlocked, dropped from the cache, the release answered),
	 * lost, handed off */
	for (i = 1; i <= IX_N; i++) {
		if (i % 3 == 0)
			continue;
		len = snprintf(name, sizeof(name), "ix%u", i);
		if (i % 3 == 1) {
			assert_int_equal(nl_unlock(f->nl, 1, id[i], 0, NULL, &f->out), 0);
			continue;
		}
		if (i % 6 == 2)
			assert_int_equal(nl_cluster_failed(f->nl, name, (size_t)len,
							   CLID(i), SDLM_EFENCED,
							   &f->out), 0);
		else
			assert_int_equal(nl_handoff_gone(f->nl, CLID(i), SDLM_EHANDEDOFF,
							 &f->out), 0);
		assert_int_equal(nl_res_get_lkid(f->nl, CLID(i), &ri), -ENOENT);
	}
	assert_int_equal(nl_drop_cached(f->nl, (size_t)-1, &n, &f->out), 0);
	assert_int_equal(n, (IX_N + 2) / 3);
	for (i = 1; i <= IX_N; i += 3) {
		assert_int_equal(nl_res_get_lkid(f->nl, CLID(i), &ri), 0);
		assert_int_equal(ri.cl_state, NL_CL_RELEASING);
	}
	check_index(f->nl);
	for (i = 1; i <= IX_N; i += 3) {
		len = snprintf(name, sizeof(name), "ix%u", i);
		assert_int_equal(nl_cluster_released(f->nl, name, (size_t)len,
						     CLID(i), 0, &f->out), 0);
		assert_int_equal(nl_res_get_lkid(f->nl, CLID(i), &ri), -ENOENT);
	}
	assert_int_equal(nl_resource_count(f->nl), 0);
	/* the same name again: a new id, the old one gone for good; a
	 * request refused as busy is asked again under yet another id */
	assert_int_equal(nl_lock(f->nl, 1, 1, "ix1", 3, MODE_EX, 0, 0, &again,
				 &f->out), 0);
	assert_int_equal(nl_res_get_lkid(f->nl, CLID(IX_N + 1), &ri), 0);
	assert_int_equal(ri.namelen, 3);
	assert_memory_equal(ri.name, "ix1", 3);
	assert_int_equal(nl_res_get_lkid(f->nl, CLID(1), &ri), -ENOENT);
	assert_int_equal(nl_cluster_failed(f->nl, "ix1", 3, CLID(IX_N + 1),
					   SDLM_EBUSY, &f->out), 0);
	is_cluster(f, 0, NL_OUT_CLUSTER_REQUEST, "ix1", CLID(IX_N + 2), MODE_EX, 0);
	assert_int_equal(nl_res_get_lkid(f->nl, CLID(IX_N + 1), &ri), -ENOENT);
	assert_int_equal(nl_res_get_lkid(f->nl, CLID(IX_N + 2), &ri), 0);
	assert_memory_equal(ri.name, "ix1", 3);
	assert_int_equal(nl_res_get_lkid(f->nl, 0, &ri), -ENOENT);
	check_index(f->nl);
}

/* ---- seeded random run against a simulated cluster --------------------- */

#define R_RES		6
#define R_CLIENTS	4
#define R_MAXLK		512
#define R_STEPS		200000
#define R_QMAX		4096

enum { A_GRANTED = 1, A_FAILED, A_BLOCKING, A_RELEASED };

struct answer {
	int	kind, res, mode, err;
	uint64_t lkid;
	bool	lvb_valid;
	uint8_t	lvb[LS_LVB_LEN];
};

struct mlock {
	bool	 used;
	uint64_t id;
	uint32_t client;
	int	 res, gr, rq, q;
};

/* The cluster as one other node and the lock service see it. */
struct hres {
	uint64_t lkid;		/* our cluster lock, 0 if none */
	int	gr, pend, rq;	/* pend: 0, 1 request, 2 convert */
	bool	basted;
	int	rgr, rwant;	/* the other node */
	bool	lvb_valid;	/* the cluster's LVB */
	uint8_t	lvb[LS_LVB_LEN];
	bool	latest_valid;	/* the last value written by anybody */
	uint8_t	latest[LS_LVB_LEN];
};

struct sim {
	struct fx	*f;
	uint64_t	rng;
	struct mlock	lk[R_MAXLK];
	struct hres	h[R_RES];
	struct answer	q[R_QMAX];
	size_t		qhead, qlen;
	uint32_t	gone;		/* client that must get no action */
	unsigned long	grants, basts, cluster_msgs;
};

static uint32_t rnd(struct sim *s, uint32_t n)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return (uint32_t)(s->rng % n);
}

static void rname(int r, char *buf)
{
	snprintf(buf, 8, "res%d", r);
}

static int name_res(const struct nl_out_item *it)
{
	assert_int_equal(it->o_namelen, 4);
	return it->o_name[3] - '0';
}

static void push(struct sim *s, int kind, int res, int mode, int err)
{
	struct answer *a;

	assert_true(s->qlen < R_QMAX);
	a = &s->q[(s->qhead + s->qlen++) % R_QMAX];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->res = res;
	a->mode = mode;
	a->err = err;
	a->lkid = s->h[res].lkid;
	if (kind == A_GRANTED) {
		a->lvb_valid = s->h[res].lvb_valid;
		memcpy(a->lvb, s->h[res].lvb, LS_LVB_LEN);
	}
}

static void remote_try(struct sim *s, int r)
{
	struct hres *h = &s->h[r];

	if (h->rwant == MODE_NONE)
		return;
	if (h->gr == MODE_NONE || mode_compat(h->gr, h->rwant)) {
		h->rgr = h->rwant;
		h->rwant = MODE_NONE;
	} else if (!h->basted) {
		h->basted = true;
		push(s, A_BLOCKING, r, h->rwant, 0);
	}
}

static void ours_grant(struct sim *s, int r, int mode)
{
	struct hres *h = &s->h[r];

	h->gr = mode;
	h->pend = 0;
	h->basted = false;	/* a grant starts a new episode */
	push(s, A_GRANTED, r, mode, 0);
	remote_try(s, r);
}

static void lvb_store(struct hres *h, const struct nl_out_item *it)
{
	if (!mode_is_write(h->gr))
		return;
	if (it->o_lvb_valid) {
		h->lvb_valid = true;
		memcpy(h->lvb, it->o_lvb, LS_LVB_LEN);
	} else if (it->o_flags & LS_LKF_IVVALBLK) {
		h->lvb_valid = false;
		memset(h->lvb, 0, LS_LVB_LEN);
	}
}

static void cluster_in(struct sim *s, const struct nl_out_item *it)
{
	int r = name_res(it);
	struct hres *h = &s->h[r];

	s->cluster_msgs++;
	switch (it->o_kind) {
	case NL_OUT_CLUSTER_REQUEST:
		assert_int_equal(h->lkid, 0);
		assert_int_equal(it->o_lkid >> 32, NODE);
		h->lkid = it->o_lkid;
		if (h->rgr == MODE_NONE || mode_compat(h->rgr, it->o_mode)) {
			ours_grant(s, r, it->o_mode);
		} else if (it->o_flags & LS_LKF_NOQUEUE) {
			push(s, A_FAILED, r, MODE_NONE, SDLM_EBUSY);
			h->lkid = 0;
		} else {
			h->pend = 1;
			h->rq = it->o_mode;
		}
		break;
	case NL_OUT_CLUSTER_CONVERT:
		assert_int_equal(it->o_lkid, h->lkid);
		assert_int_not_equal(h->gr, MODE_NONE);
		assert_int_equal(h->pend, 0);
		lvb_store(h, it);
		if (mode_covers(h->gr, it->o_mode) || h->rgr == MODE_NONE ||
		    mode_compat(h->rgr, it->o_mode)) {
			ours_grant(s, r, it->o_mode);
		} else if (it->o_flags & LS_LKF_NOQUEUE) {
			push(s, A_FAILED, r, MODE_NONE, SDLM_EBUSY);
		} else {
			h->pend = 2;
			h->rq = it->o_mode;
		}
		break;
	case NL_OUT_CLUSTER_RELEASE:
		assert_int_equal(it->o_lkid, h->lkid);
		assert_int_not_equal(h->gr, MODE_NONE);
		assert_int_equal(h->pend, 0);
		lvb_store(h, it);
		push(s, A_RELEASED, r, MODE_NONE, 0);
		h->lkid = 0;
		h->gr = MODE_NONE;
		remote_try(s, r);
		break;
	case NL_OUT_CLUSTER_CANCEL:
		/* crossed with a failure already sent: the cluster rejects
		 * it (-ENOENT) and answers nothing */
		assert_int_equal(it->o_lkid >> 32, NODE);
		if (it->o_lkid != h->lkid)
			break;
		if (h->pend) {
			push(s, A_FAILED, r, MODE_NONE, SDLM_ECANCELED);
			if (h->pend == 1)
				h->lkid = 0;
			h->pend = 0;
		}
		break;
	default:
		fail();
	}
}

static struct mlock *mfind(struct sim *s, uint64_t id)
{
	int i;

	for (i = 0; i < R_MAXLK; i++)
		if (s->lk[i].used && s->lk[i].id == id)
			return &s->lk[i];
	fail_msg("local lock %llu unknown to the model", (unsigned long long)id);
	return NULL;
}

/* Play the actions of the last call into the model and the cluster. */
static void apply_out(struct sim *s)
{
	const struct nl_out *out = &s->f->out;
	struct mlock *m;
	struct hres *h;
	size_t i;

	assert_false(out->lost);
	for (i = 0; i < out->count; i++) {
		const struct nl_out_item *it = &out->items[i];

		if (it->o_kind >= NL_OUT_CLUSTER_REQUEST) {
			cluster_in(s, it);
			continue;
		}
		assert_int_not_equal(it->o_client, s->gone);
		m = mfind(s, it->o_local_lkid);
		assert_int_equal(m->client, it->o_client);
		h = &s->h[m->res];
		switch (it->o_kind) {
		case NL_OUT_LOCAL_GRANT:
			assert_int_not_equal(m->q, NL_Q_GRANTED);
			assert_int_equal(it->o_mode, m->rq);
			m->gr = m->rq;
			m->q = NL_Q_GRANTED;
			s->grants++;
			if (mode_is_write(m->gr)) {
				assert_int_equal(it->o_lvb_valid,
						 h->latest_valid);
				if (h->latest_valid)
					assert_memory_equal(it->o_lvb,
							    h->latest,
							    LS_LVB_LEN);
			}
			break;
		case NL_OUT_LOCAL_FAIL:
			assert_int_not_equal(m->q, NL_Q_GRANTED);
			assert_true(it->o_err == SDLM_EBUSY ||
				    it->o_err == SDLM_ECANCELED);
			if (m->q == NL_Q_CONVERT) {
				m->rq = m->gr;
				m->q = NL_Q_GRANTED;
			} else {
				m->used = false;
			}
			break;
		case NL_OUT_LOCAL_BAST:
			assert_int_not_equal(m->gr, MODE_NONE);
			assert_false(mode_compat(m->gr, it->o_mode));
			s->basts++;
			break;
		default:
			fail();
		}
	}
}

static void check(struct sim *s)
{
	uint32_t grc[R_RES][MODE_COUNT] = { { 0 } };
	struct nl_lock_info li;
	size_t n = 0;
	int i, r, a, b, sup;

	for (i = 0; i < R_MAXLK; i++) {
		struct mlock *m = &s->lk[i];

		if (!m->used)
			continue;
		n++;
		assert_int_equal(nl_lock_get(s->f->nl, m->id, &li), 0);
		assert_int_equal(li.queue, m->q);
		assert_int_equal(li.grmode, m->gr);
		assert_int_equal(li.rqmode, m->rq);
		if (m->gr != MODE_NONE)
			grc[m->res][m->gr]++;
	}
	assert_int_equal(nl_lock_count(s->f->nl), n);
	for (r = 0; r < R_RES; r++) {
		sup = MODE_NONE;
		for (a = 0; a < MODE_COUNT; a++) {
			if (!grc[r][a])
				continue;
			sup = nl_mode_sup(sup, a);
			/* local mutual exclusion */
			for (b = 0; b < MODE_COUNT; b++)
				if (grc[r][b] && (a != b || grc[r][a] > 1))
					assert_true(mode_compat(a, b));
		}
		/* the node's cluster mode covers what its clients hold */
		if (sup != MODE_NONE) {
			assert_int_not_equal(s->h[r].gr, MODE_NONE);
			assert_true(mode_covers(s->h[r].gr, sup));
		}
		/* and the simulated cluster is sane */
		if (s->h[r].gr != MODE_NONE && s->h[r].rgr != MODE_NONE)
			assert_true(mode_compat(s->h[r].gr, s->h[r].rgr));
	}
	check_index(s->f->nl);
}

static void deliver(struct sim *s)
{
	struct answer a;
	char name[8];
	int rc;

	if (!s->qlen)
		return;
	a = s->q[s->qhead];
	s->qhead = (s->qhead + 1) % R_QMAX;
	s->qlen--;
	rname(a.res, name);
	switch (a.kind) {
	case A_GRANTED:
		rc = nl_cluster_granted(s->f->nl, name, 4, a.lkid, a.mode,
					a.lvb, a.lvb_valid, 0, &s->f->out);
		assert_int_equal(rc, 0);
		break;
	case A_FAILED:
		rc = nl_cluster_failed(s->f->nl, name, 4, a.lkid, a.err,
				       &s->f->out);
		assert_int_equal(rc, 0);
		break;
	case A_BLOCKING:
		rc = nl_cluster_blocking(s->f->nl, name, 4, a.lkid, a.mode,
					 &s->f->out);
		assert_true(rc == 0 || rc == -ENOENT);
		break;
	default:
		rc = nl_cluster_released(s->f->nl, name, 4, a.lkid, 0,
					 &s->f->out);
		assert_int_equal(rc, 0);
		break;
	}
	apply_out(s);
}

static struct mlock *pick(struct sim *s, bool granted_only)
{
	int i, start = (int)rnd(s, R_MAXLK);

	for (i = 0; i < R_MAXLK; i++) {
		struct mlock *m = &s->lk[(start + i) % R_MAXLK];

		if (m->used && (granted_only ? m->q == NL_Q_GRANTED :
				m->q != NL_Q_GRANTED))
			return m;
	}
	return NULL;
}

/* A VALBLK / IVVALBLK from m as the model sees it. */
static uint32_t lvb_flags(struct sim *s, struct mlock *m, uint8_t *v)
{
	uint32_t x = rnd(s, 4);

	memset(v, 0, LS_LVB_LEN);
	if (x == 0)
		return SDLM_LKF_IVVALBLK;
	if (x == 1)
		return 0;
	snprintf((char *)v, LS_LVB_LEN, "%llx", (unsigned long long)s->rng);
	(void)m;
	return SDLM_LKF_VALBLK;
}

static void lvb_written(struct sim *s, struct mlock *m, uint32_t flags,
			const uint8_t *v)
{
	struct hres *h = &s->h[m->res];

	if (!mode_is_write(m->gr))
		return;
	if (flags & SDLM_LKF_IVVALBLK) {
		h->latest_valid = false;
	} else if (flags & SDLM_LKF_VALBLK) {
		h->latest_valid = true;
		memcpy(h->latest, v, LS_LVB_LEN);
	}
}

static void sim_step(struct sim *s, bool drain)
{
	uint8_t v[LS_LVB_LEN];
	struct mlock *m;
	struct hres *h;
	char name[8];
	uint32_t x = rnd(s, 100), flags;
	uint64_t id;
	int i, rc, mode;

	s->gone = 0;
	nl_out_reset(&s->f->out);
	if (x < 25 && !drain) {
		for (i = 0; i < R_MAXLK && s->lk[i].used; i++)
			;
		if (i == R_MAXLK)
			return;
		m = &s->lk[i];
		m->client = 1 + rnd(s, R_CLIENTS);
		m->res = (int)rnd(s, R_RES);
		mode = (int)rnd(s, MODE_COUNT);
		flags = rnd(s, 7) ? 0 : SDLM_LKF_NOQUEUE;
		rname(m->res, name);
		rc = nl_lock(s->f->nl, m->client, 0, name, 4, mode, flags, 0,
			     &id, &s->f->out);
		if (rc == SDLM_EBUSY) {
			assert_true(flags & SDLM_LKF_NOQUEUE);
			assert_int_equal(s->f->out.count, 0);
			return;
		}
		assert_int_equal(rc, 0);
		m->used = true;
		m->id = id;
		m->gr = MODE_NONE;
		m->rq = mode;
		m->q = NL_Q_WAIT;
		apply_out(s);
	} else if (x < 35 && !drain) {
		m = pick(s, true);
		if (!m)
			return;
		mode = (int)rnd(s, MODE_COUNT);
		flags = lvb_flags(s, m, v) |
			(rnd(s, 7) ? 0 : SDLM_LKF_NOQUEUE);
		rc = nl_convert(s->f->nl, m->client, m->id, mode, flags, v, 0,
				&s->f->out);
		if (rc == -EDEADLK || rc == SDLM_EBUSY) {
			assert_true(rc == -EDEADLK ||
				    (flags & SDLM_LKF_NOQUEUE));
			assert_int_equal(s->f->out.count, 0);
			return;
		}
		assert_int_equal(rc, 0);
		lvb_written(s, m, flags, v);
		m->rq = mode;
		m->q = NL_Q_CONVERT;
		apply_out(s);
	} else if (x < 50 || (drain && x < 70)) {
		m = pick(s, true);
		if (!m)
			return;
		flags = lvb_flags(s, m, v);
		assert_int_equal(nl_unlock(s->f->nl, m->client, m->id, flags,
					   v, &s->f->out), 0);
		lvb_written(s, m, flags, v);
		m->used = false;
		apply_out(s);
	} else if (x < 55 && !drain) {
		m = pick(s, false);
		if (!m)
			return;
		assert_int_equal(nl_cancel(s->f->nl, m->client, m->id,
					   &s->f->out), 0);
		apply_out(s);
	} else if (x < 57 && !drain) {
		s->gone = 1 + rnd(s, R_CLIENTS);
		for (i = 0; i < R_MAXLK; i++)
			if (s->lk[i].used && s->lk[i].client == s->gone)
				s->lk[i].used = false;
		assert_int_equal(nl_client_gone(s->f->nl, s->gone, &s->f->out),
				 0);
		apply_out(s);
	} else if (x < 59) {
		assert_int_equal(nl_drop_cached(s->f->nl, rnd(s, 3), NULL,
						&s->f->out), 0);
		apply_out(s);
	} else if (x < 80) {
		deliver(s);
	} else if (x < 90 && !drain) {
		h = &s->h[rnd(s, R_RES)];
		if (h->rgr == MODE_NONE && h->rwant == MODE_NONE) {
			h->rwant = (int)rnd(s, MODE_COUNT);
			remote_try(s, (int)(h - s->h));
		}
	} else {
		i = (int)rnd(s, R_RES);
		h = &s->h[i];
		if (h->rgr == MODE_NONE)
			return;
		if (mode_is_write(h->rgr)) {
			h->latest_valid = true;
			snprintf((char *)h->latest, LS_LVB_LEN, "remote%llx",
				 (unsigned long long)s->rng);
			h->lvb_valid = true;
			memcpy(h->lvb, h->latest, LS_LVB_LEN);
		}
		h->rgr = MODE_NONE;
		if (h->pend)
			ours_grant(s, i, h->rq);
	}
}

static void test_random_against_model(void **state)
{
	struct fx *f = *state;
	struct sim *s = calloc(1, sizeof(*s));
	unsigned long step;
	bool busy;
	int i;

	assert_non_null(s);
	s->f = f;
	s->rng = 0x5eed0f5d1a0c0deull;
	for (i = 0; i < R_RES; i++) {
		s->h[i].gr = s->h[i].rq = MODE_NONE;
		s->h[i].rgr = s->h[i].rwant = MODE_NONE;
	}
	for (step = 0; step < R_STEPS; step++) {
		sim_step(s, false);
		check(s);
	}
	/* Drain: the other node stops asking; every waiter must be served
	 * and every cached lock can be dropped. */
	for (step = 0; step < 100000; step++) {
		sim_step(s, true);
		check(s);
		if (!s->qlen && !nl_lock_count(f->nl)) {
			nl_out_reset(&f->out);
			assert_int_equal(nl_drop_cached(f->nl, (size_t)-1,
							NULL, &f->out), 0);
			apply_out(s);
		}
		busy = s->qlen > 0 || nl_lock_count(f->nl) > 0;
		for (i = 0; i < R_RES; i++)
			busy = busy || s->h[i].rgr != MODE_NONE ||
			       s->h[i].rwant != MODE_NONE;
		if (!busy && !nl_resource_count(f->nl))
			break;
	}
	assert_int_equal(nl_lock_count(f->nl), 0);
	assert_int_equal(nl_resource_count(f->nl), 0);
	assert_int_equal(s->qlen, 0);
	/* the run did exercise the interesting paths */
	assert_true(s->grants > 10000);
	assert_true(s->basts > 100);
	assert_true(s->cluster_msgs > 1000);
	free(s);
}


/* ---- the hand-off through the disk (design-handoff.md V1-V6) ----------- */

/*
 * V1, V6, V2, V3: asked for a held lock, the holders get one BAST (EX
 * wanted), no new local client gets it (NOQUEUE is refused), nothing
 * goes to the cluster; once the holder let go the state shows no holder
 * and the value block it left; gone, the waiter fails with the error
 * given and the resource is forgotten.
 */
static void test_handoff_stop_drain_gone(void **state)
{
	struct fx *f = *state;
	uint8_t lvb[LS_LVB_LEN], want[LS_LVB_LEN] = { 0 };
	uint32_t holders = 9;
	bool lvb_valid = false;
	uint64_t id, id2, id3 = 0;

	id = lock_held(f, 1, "mbox", MODE_EX, CLID(1));
	assert_true(nl_handoff_held(f->nl, CLID(1)));
	assert_false(nl_handoff_held(f->nl, CLID(2)));
	assert_int_equal(nl_handoff_state(f->nl, CLID(1), &holders, lvb, &lvb_valid),
			 -ENOENT);	/* not stopping yet */

	assert_int_equal(nl_handoff_stop(f->nl, CLID(1), &f->out), 0);
	assert_int_equal(f->out.count, 1);
	is_bast(f, 0, id, MODE_EX);
	{
		uint32_t cl[2] = { 0, 0 };

		uint64_t lk[2] = { 0, 0 };

		assert_int_equal(nl_handoff_clients(f->nl, CLID(1), cl, 2), 1);
		assert_int_equal(cl[0], 1);
		assert_int_equal(nl_handoff_clients(f->nl, CLID(2), cl, 2), 0);
		/* which of the client's locks: the id its lock call gave */
		cl[0] = 0;
		assert_int_equal(nl_handoff_locks(f->nl, CLID(1), cl, lk, 2), 1);
		assert_int_equal(cl[0], 1);
		assert_true(lk[0] == id);
	}
	assert_int_equal(nl_handoff_stop(f->nl, CLID(1), &f->out), 0);
	assert_int_equal(f->out.count, 0);	/* told once */
	assert_int_equal(nl_handoff_stop(f->nl, CLID(2), &f->out), -ENOENT);

	/* V6: a new local request waits, NOQUEUE fails; nothing asked of
	 * the cluster. */
	id2 = lock_ok(f, 2, "mbox", MODE_PR, 0);
	assert_int_equal(f->out.count, 0);
	assert_int_equal(queue_of(f, id2), NL_Q_WAIT);
	assert_int_equal(nl_lock(f->nl, 3, 1003, "mbox", 4, MODE_NL,
				 SDLM_LKF_NOQUEUE, 0, &id3, &f->out), SDLM_EBUSY);

	/* V2: the holder writes the value and lets go: no cluster release
	 * (it goes back through the disk), the waiter is not granted. */
	memcpy(want, "final", 5);
	assert_int_equal(nl_unlock(f->nl, 1, id, SDLM_LKF_VALBLK, want, &f->out), 0);
	assert_int_equal(f->out.count, 0);
	assert_int_equal(nl_handoff_state(f->nl, CLID(1), &holders, lvb, &lvb_valid), 0);
	assert_int_equal(holders, 0);
	assert_true(lvb_valid);
	assert_memory_equal(lvb, want, LS_LVB_LEN);

	/* Not dropped as an idle cached lock either. */
	assert_int_equal(nl_drop_cached(f->nl, 10, NULL, &f->out), 0);
	assert_int_equal(f->out.count, 0);
	assert_true(nl_handoff_held(f->nl, CLID(1)));

	/* V3: listed - gone for good; the waiter fails. */
	assert_int_equal(nl_handoff_gone(f->nl, CLID(1), SDLM_EFENCED, &f->out), 0);
	assert_int_equal(f->out.count, 1);
	is_fail(f, 0, 2, id2, SDLM_EFENCED);
	assert_false(nl_handoff_held(f->nl, CLID(1)));
	assert_int_equal(nl_resource_count(f->nl), 0);
	assert_int_equal(nl_handoff_gone(f->nl, CLID(1), SDLM_EFENCED, &f->out), -ENOENT);
}

/* V4: the request withdrawn before the answer: the lock is the node's
 * again, the waiter is granted locally, the holder's BAST episode ends. */
static void test_handoff_keep(void **state)
{
	struct fx *f = *state;
	uint64_t id, id2;

	id = lock_held(f, 1, "mbox", MODE_PR, CLID(1));
	assert_int_equal(nl_handoff_stop(f->nl, CLID(1), &f->out), 0);
	is_bast(f, 0, id, MODE_EX);
	id2 = lock_ok(f, 2, "mbox", MODE_PR, 0);
	assert_int_equal(f->out.count, 0);
	assert_int_equal(nl_handoff_keep(f->nl, CLID(1), &f->out), 0);
	assert_int_equal(f->out.count, 1);
	is_grant(f, 0, 2, id2, MODE_PR);
	assert_int_equal(nl_handoff_keep(f->nl, CLID(1), &f->out), -ENOENT);
	/* Asked again: a new episode, the holders told again. */
	assert_int_equal(nl_handoff_stop(f->nl, CLID(1), &f->out), 0);
	assert_int_equal(f->out.count, 2);
}

/*
 * A down-conversion sent just before the cut and lost in it (review
 * s28-rev19 L2): another node wanted the lock, its holder let go of the
 * write mode, the cache asked the cluster for less - and the cut came
 * first; on a minority side a down-conversion is never refused, so it
 * stays CONVERTING, while the other side's replica still shows the grant
 * at its old mode and asks for it through the disk.  Neither held nor
 * gone, it was ignored and the node fenced after B.  It is a grant the
 * node holds (at the old mode, as far as anybody else knows): stopped as
 * a HELD one is - its remaining holders told, none granted anew - and,
 * once they are gone, final with the value block the holder left; the
 * answer releases the whole grant, and nothing here uses any of it again.
 * An up-conversion is not (it may yet be refused or cancelled here).
 */
static void test_handoff_down_converting(void **state)
{
	struct fx *f = *state;
	uint8_t v[LS_LVB_LEN] = "w", lvb[LS_LVB_LEN];
	uint32_t holders = 9;
	bool lvb_valid = false;
	uint64_t a, b, c;

	a = lock_held(f, 1, "r", MODE_EX, CLID(1));
	assert_int_equal(nl_convert(f->nl, 1, a, MODE_PW, SDLM_LKF_VALBLK, v, 0,
				    &f->out), 0);
	b = lock_ok(f, 2, "r", MODE_CR, 0);
	assert_int_equal(nl_cluster_blocking(f->nl, "r", 1, CLID(1), MODE_PR,
					     &f->out), 0);
	assert_int_equal(nl_unlock(f->nl, 1, a, 0, NULL, &f->out), 0);
	is_cluster(f, 0, NL_OUT_CLUSTER_CONVERT, "r", CLID(1), MODE_CR, 0);
	/* the cut: the conversion's answer never comes */
	assert_true(nl_handoff_held(f->nl, CLID(1)));
	assert_false(nl_handoff_unknown(f->nl, CLID(1)));
	assert_int_equal(nl_handoff_stop(f->nl, CLID(1), &f->out), 0);
	assert_int_equal(f->out.count, 1);
	is_bast(f, 0, b, MODE_EX);
	/* V6: nothing new granted, nothing asked of the cluster */
	c = lock_ok(f, 3, "r", MODE_CR, 0);
	assert_int_equal(f->out.count, 0);
	assert_int_equal(queue_of(f, c), NL_Q_WAIT);
	assert_int_equal(nl_handoff_state(f->nl, CLID(1), &holders, lvb, &lvb_valid), 0);
	assert_int_equal(holders, 1);
	assert_int_equal(nl_unlock(f->nl, 2, b, 0, NULL, &f->out), 0);
	assert_int_equal(f->out.count, 0);
	assert_int_equal(nl_handoff_state(f->nl, CLID(1), &holders, lvb, &lvb_valid), 0);
	assert_int_equal(holders, 0);
	assert_true(lvb_valid);
	assert_memory_equal(lvb, v, LS_LVB_LEN);
	/* V3: listed - gone, the waiter fails */
	assert_int_equal(nl_handoff_gone(f->nl, CLID(1), SDLM_EFENCED, &f->out), 0);
	is_fail(f, 0, 3, c, SDLM_EFENCED);
	assert_int_equal(nl_resource_count(f->nl), 0);

	/* an up-conversion waiting for the cluster is not stopped */
	a = lock_held(f, 4, "u", MODE_PR, CLID(2));
	assert_int_equal(nl_convert(f->nl, 4, a, MODE_EX, 0, NULL, 0, &f->out), 0);
	is_cluster(f, 0, NL_OUT_CLUSTER_CONVERT, "u", CLID(2), MODE_EX, 0);
	assert_false(nl_handoff_held(f->nl, CLID(2)));
	assert_int_equal(nl_handoff_stop(f->nl, CLID(2), &f->out), -EBUSY);
}

/* Only a HELD lock can be handed off: one still requested is not. */
static void test_handoff_not_held(void **state)
{
	struct fx *f = *state;

	(void)lock_ok(f, 1, "mbox", MODE_EX, 0);	/* REQUESTING */
	assert_false(nl_handoff_held(f->nl, CLID(1)));
	assert_int_equal(nl_handoff_stop(f->nl, CLID(1), &f->out), -EBUSY);
}

/*
 * V1's "gone" (9ce4c58): a lock id no cache knows any more is answered at
 * once, final, because "lock ids are never reused within an incarnation,
 * so it is never used here again".  That holds only for an id this
 * incarnation already gave out.  An id above the counter is no lock of
 * ours yet: the replica can still show it granted to our node after a
 * restart (the predecessor's lock with the same number, its release lost
 * or waiting for killed users; the member record, and so F1, already
 * names our incarnation), and this daemon gives that very id to one of
 * its own requests later.  A final answer for it would then name our own
 * future grant (F3 releases whatever the replica shows granted to
 * (node, incarnation, lkid)).  Not gone: ignored, as before 9ce4c58.
 * Review s28-rev19 C2: failed on 9ce4c58 (unknown for CLID(3) with the
 * counter at 1).
 */
static void test_handoff_unknown_unallocated(void **state)
{
	struct fx *f = *state;
	uint64_t id;

	/* Released here: gone for good. */
	id = lock_held(f, 1, "mbox", MODE_EX, CLID(1));
	assert_int_equal(nl_unlock(f->nl, 1, id, 0, NULL, &f->out), 0);
	assert_int_equal(nl_drop_cached(f->nl, 10, NULL, &f->out), 0);
	assert_true(nl_handoff_unknown(f->nl, CLID(1)));	/* RELEASING ... */
	assert_int_equal(nl_cluster_released(f->nl, "mbox", 4, CLID(1), 0, &f->out), 0);
	assert_true(nl_handoff_unknown(f->nl, CLID(1)));	/* ... and after */

	/* Never given out by this incarnation: not ours to call gone. */
	assert_false(nl_handoff_unknown(f->nl, CLID(3)));
	(void)lock_ok(f, 2, "other", MODE_EX, 0);		/* CLID(2) */
	(void)lock_ok(f, 3, "third", MODE_EX, 0);		/* CLID(3): ours now */
	assert_false(nl_handoff_unknown(f->nl, CLID(3)));
	/* another node's id is never ours either */
	assert_false(nl_handoff_unknown(f->nl, ((uint64_t)(NODE + 1) << 32) | 1));
}

/*
 * Review s28-rev19 M1.  Lock ids are the daemon's, not a lockspace's
 * (struct nl_lkids), and start again at 1 with each incarnation.  After a
 * restart, a lockspace L1 we JOINed shows our predecessor's locks under
 * our member incarnation until their stale releases are applied
 * (lsrec_release_stale); a hand-off request (node, our incarnation, X)
 * for the predecessor's lock X there names, by its id alone, our own
 * lock X of another lockspace L2 opened before.  V1 took it for that
 * grant: it stopped L2's unrelated lock, killed its holders after K and
 * answered with L2's value block, which L1's fencer applied to the
 * predecessor's lock X as valid (F3 checks the member record only), L2's
 * replica still showing X granted to us.  So while some cache of the
 * daemon is new - its lockspace's replica may still show a predecessor's
 * lock - no id is held or gone for V1: the request is ignored and the
 * requester fences after B, as before the hand-off.  Failed on main:
 * nl_handoff_held was true for L2's lock with L1's cache just created.
 * Once the daemon says L1 shows no predecessor's lock any more, both are
 * answered again; a grant already stopping stays held when a new cache
 * comes (it was asked for while every cache was sure); a cache destroyed
 * unsure keeps the daemon unsure.
 */
static void test_handoff_predecessor_unsure(void **state)
{
	struct fx *f = *state;
	struct nl_state *l1 = NULL, *l3 = NULL;
	uint64_t id;

	/* L2 (f->nl): our own lock CLID(1), and CLID(2) released here */
	(void)lock_held(f, 1, "mbox", MODE_EX, CLID(1));
	id = lock_held(f, 2, "other", MODE_EX, CLID(2));
	assert_int_equal(nl_unlock(f->nl, 2, id, 0, NULL, &f->out), 0);
	assert_int_equal(nl_drop_cached(f->nl, 10, NULL, &f->out), 0);
	assert_int_equal(nl_cluster_released(f->nl, "other", 5, CLID(2), 0, &f->out), 0);

	/* L1 opened: its replica may show the predecessor's CLID(1), CLID(2) */
	assert_int_equal(nl_create(&f->ids, &l1), 0);
	assert_false(nl_handoff_held(f->nl, CLID(1)));
	assert_false(nl_handoff_unknown(f->nl, CLID(2)));
	assert_false(nl_handoff_held(l1, CLID(1)));
	assert_false(nl_handoff_unknown(l1, CLID(2)));
	assert_int_equal(f->ids.unsure, 1);
	assert_true(nl_predecessor_unsure(l1));
	assert_false(nl_predecessor_unsure(f->nl));

	/* L1's replica showed none of our locks its cache does not know */
	nl_predecessor_gone(l1);
	nl_predecessor_gone(l1);		/* once */
	assert_int_equal(f->ids.unsure, 0);
	assert_false(nl_predecessor_unsure(l1));
	assert_true(nl_handoff_held(f->nl, CLID(1)));
	assert_true(nl_handoff_unknown(f->nl, CLID(2)));
	assert_int_equal(nl_handoff_stop(f->nl, CLID(1), &f->out), 0);

	/* a third lockspace opened: the stopping grant stays held (V2, V3
	 * go on); a new request for CLID(2) is ignored */
	assert_int_equal(nl_create(&f->ids, &l3), 0);
	assert_true(nl_handoff_held(f->nl, CLID(1)));
	assert_false(nl_handoff_unknown(f->nl, CLID(2)));
	nl_destroy(l3);					/* still unsure */
	assert_int_equal(f->ids.unsure, 1);
	assert_false(nl_handoff_unknown(f->nl, CLID(2)));
	assert_true(nl_handoff_held(f->nl, CLID(1)));
	nl_destroy(l1);
}

/*
 * Review s28-revgate G2 (L1 x M1): a grant asked for while every cache
 * was sure and stopping since, then forgotten by the cache (a revocation
 * killed its users), must still be recognised as gone once a later cache
 * is unsure - hoedge progress() (ho_away_forgotten) asked nl_handoff_unknown,
 * which the gate makes false for every id, so V2 never made it final, V
 * never answered and was fenced after B.  nl_handoff_forgotten is V2's
 * question for a grant already stopping: the gate is for new requests.
 */
static void test_handoff_stopping_forgotten_unsure(void **state)
{
	struct fx *f = *state;
	struct nl_state *l3 = NULL;
	uint32_t *clients;
	size_t n;

	(void)lock_held(f, 1, "mbox", MODE_EX, CLID(1));
	(void)lock_held(f, 2, "kept", MODE_PR, CLID(2));
	assert_int_equal(nl_handoff_stop(f->nl, CLID(1), &f->out), 0);

	/* a lockspace opened while cut off: unsure until quorate */
	assert_int_equal(nl_create(&f->ids, &l3), 0);
	assert_int_equal(f->ids.unsure, 1);

	/* revoked: users killed, the cache forgets every lock at once */
	assert_int_equal(nl_stop_all(f->nl, &clients, &n), 0);
	free(clients);
	assert_false(nl_handoff_unknown(f->nl, CLID(1)));	/* M1's gate */
	assert_true(nl_handoff_forgotten(f->nl, CLID(1)));
	assert_true(nl_handoff_forgotten(l3, CLID(1)));
	/* never an id not given out yet (a predecessor's, ours later) */
	assert_false(nl_handoff_forgotten(f->nl, CLID(3)));
	assert_false(nl_handoff_forgotten(f->nl, 0));
	assert_false(nl_handoff_forgotten(NULL, CLID(1)));
	nl_destroy(l3);
}

/* A lock still known (held, not released) is not forgotten. */
static void test_handoff_forgotten_known(void **state)
{
	struct fx *f = *state;

	(void)lock_held(f, 1, "mbox", MODE_EX, CLID(1));
	assert_false(nl_handoff_forgotten(f->nl, CLID(1)));
	assert_int_equal(nl_handoff_stop(f->nl, CLID(1), &f->out), 0);
	assert_false(nl_handoff_forgotten(f->nl, CLID(1)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_sup),
		cmocka_unit_test_setup_teardown(test_first_lock_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cached_relock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_epoch_passed_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_ex_serialize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pr_sharing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_needs_convert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sup_cw_pr_convert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blocking_release_with_lvb, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blocking_down_convert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blocking_idle_cached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_noqueue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cluster_deadlock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lkids_unique_across_lockspaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lkids_exhausted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lkid_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_stop_drain_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_unknown_unallocated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_predecessor_unsure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_stopping_forgotten_unsure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_forgotten_known, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_keep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_not_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_down_converting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_may_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fenced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_cached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_introspection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grant_carries_request_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_against_model, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
