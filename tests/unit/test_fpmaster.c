/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_fpmaster.c - unit tests of dlm/core/fpmaster.c, the fast path's
 * masters (docs/design-fastpath.md 2-3): the placement, and three cores
 * exchanging real encoded messages (fpmsg.h; their codec is
 * test_fpmsg.c's) over a simulated network that the tests deliver, hold
 * back or duplicate at will.
 *
 * Each known-bad variant of the model (docs/model/fastpath.pml, docs/
 * model.md "The fast-path model") has a test named after it that does
 * what the variant does and shows the rule that stops it:
 *	BAD_NO_EPOCH_CHECK	test_model_bad_no_epoch_check	the epoch
 *	BAD_REMASTER_NOFENCE	test_model_bad_remaster_nofence	the block
 *	BAD_RELEASE_EARLY	test_model_bad_release_early	users first
 *	BAD_DUP_APPLY		test_model_bad_dup_apply	request ids
 *	BAD_STALE_ELIGIBLE	test_model_bad_stale_eligible	NODE_FENCED only
 *	BAD_REBUILD_NOOLD	test_model_bad_rebuild_noold	old master's entries
 *	BAD_ROUND_ACCEPT	test_model_bad_round_accept	no grant in a round
 * and test_fm1_later_epoch_kept the design's finding FM1.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fpmaster.h"
#include "lockstate.h"
#include "modes.h"
#include "sdlm_errors.h"

#define N	3
#define INC(n)	(100u + (n))
#define LK(n, c)	((uint64_t)(n) << 32 | (c))

/* Rendezvous: the same answer everywhere, and a change of membership
 * moves only the resources of the nodes that left or came. */
static void test_master_of(void **state)
{
	const uint32_t all[3] = { 1, 2, 3 }, two[2] = { 1, 2 };
	const uint32_t rev[3] = { 3, 1, 2 };
	char name[16];
	unsigned i, cnt[4] = { 0 };
	uint32_t a, b;

	(void)state;
	assert_int_equal(fpm_master_of("x", 1, all, 0), 0);
	assert_int_equal(fpm_master_of("x", 1, all, 1), 1);
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "res%u", i);
		a = fpm_master_of(name, strlen(name), all, 3);
		assert_int_equal(a, fpm_master_of(name, strlen(name), rev, 3));
		b = fpm_master_of(name, strlen(name), two, 2);
		if (a != 3)
			assert_int_equal(a, b);
		cnt[a]++;
	}
	/* spread: every node masters some */
	assert_true(cnt[1] > 50 && cnt[2] > 50 && cnt[3] > 50);
}

/* ---- a simulated cluster -------------------------------------------- */

#define NETMAX	256
#define LOGMAX	256

struct pkt {
	uint32_t	from, to;
	uint64_t	inc;
	size_t		len;
	uint8_t		b[FPM_MSG_MAX];
};

struct logent {
	uint32_t	node;
	struct fpm_out_item it;
};

struct cl {
	struct fpm	*fp[N + 1];
	bool		in[N + 1];	/* member of the current epoch */
	uint64_t	epoch;
	uint32_t	prev[N];
	size_t		nprev;
	struct pkt	net[NETMAX];
	size_t		nnet;
	struct logent	log[LOGMAX];
	size_t		nlog;
	struct fpm_out	out;
	unsigned	sends;		/* SEND items seen in all */
};

static struct cl C;

/* Take a call's output: sends into the network, the rest into the log. */
static void collect(uint32_t node)
{
	size_t i, n;
	struct pkt *p;

	assert_false(C.out.lost);
	for (i = 0; i < C.out.count; i++) {
		struct fpm_out_item *it = &C.out.items[i];

		if (it->kind == FPM_OUT_SEND) {
			assert_true(C.nnet < NETMAX);
			assert_int_not_equal(it->node, node);
			p = &C.net[C.nnet++];
			p->from = node;
			p->to = it->node;
			p->inc = INC(node);
			assert_int_equal(fpm_msg_encode(&it->msg, p->b, sizeof(p->b), &n), 0);
			p->len = n;
			C.sends++;
		} else {
			assert_true(C.nlog < LOGMAX);
			C.log[C.nlog].node = node;
			C.log[C.nlog].it = *it;
			C.nlog++;
		}
	}
}

/* Deliver packet i (kept in the network if keep: a duplicate later). */
static int deliver(size_t i, bool keep)
{
	struct pkt p = C.net[i];
	struct fpm_msg m;
	int rc;

	if (!keep) {
		memmove(&C.net[i], &C.net[i + 1], (C.nnet - i - 1) * sizeof(p));
		C.nnet--;
	}
	assert_int_equal(fpm_msg_decode(p.b, p.len, &m), 0);
	rc = fpm_input(C.fp[p.to], p.from, p.inc, &m, &C.out);
	collect(p.to);
	return rc;
}

/* Deliver everything, in order, until the network is empty, to nodes
 * in mask only (others' packets stay). */
static void flush_to(unsigned mask)
{
	size_t i = 0;

	while (i < C.nnet)
		if (mask & (1u << C.net[i].to))
			deliver(i, false);
		else
			i++;
}

static void flush(void)
{
	flush_to(~0u);
}

/* Find the first packet of type t to node, or -1. */
static long find_pkt(uint8_t type, uint32_t to)
{
	size_t i;

	for (i = 0; i < C.nnet; i++)
		if (C.net[i].b[0] == type && C.net[i].to == to)
			return (long)i;
	return -1;
}

/* How many log entries of kind (for node, lkid; 0 = any). */
static int logged(enum fpm_out_kind kind, uint32_t node, uint64_t lkid)
{
	size_t i;
	int c = 0;

	for (i = 0; i < C.nlog; i++)
		if (C.log[i].it.kind == kind && (!node || C.log[i].node == node) &&
		    (!lkid || C.log[i].it.msg.lkid == lkid ||
		     (kind == FPM_OUT_NEED_FENCE && C.log[i].it.node == lkid)))
			c++;
	return c;
}

static void status_all(uint32_t node, bool live)
{
	uint32_t n;

	for (n = 1; n <= N; n++) {
		assert_int_equal(fpm_node_status(C.fp[n], node, live, false, &C.out), 0);
		collect(n);
	}
}

/* Nodes in mask process a configuration change to the membership mask
 * (only those in `who` process it now). */
static void confchg(unsigned mask, unsigned who)
{
	uint32_t ids[N];
	size_t n = 0;
	uint32_t i;

	for (i = 1; i <= N; i++)
		if (mask & (1u << i))
			ids[n++] = i;
	for (i = 1; i <= N; i++)
		if (who & (1u << i))
			assert_int_equal(fpm_confchg(C.fp[i], ids, n, n * 2 > N), 0);
}

/* The round of membership mask completes at the nodes in `who`
 * (every member processed its change: their reports as they are); away:
 * the nodes not members and not fenced. */
static void complete(unsigned mask, unsigned who, unsigned away, bool lost)
{
	struct fpm_member mem[N];
	struct fpm_report rep[N];
	uint32_t aw[N], next[N];
	struct fpm_epoch e;
	size_t n = 0, na = 0, i;
	uint32_t k;

	for (k = 1; k <= N; k++) {
		if (mask & (1u << k)) {
			mem[n].node = k;
			mem[n].incarnation = INC(k);
			rep[n] = *fpm_report(C.fp[k]);
			next[n] = k;
			n++;
		}
		if (away & (1u << k))
			aw[na++] = k;
	}
	memset(&e, 0, sizeof(e));
	e.epoch = C.epoch + 1;
	e.members = mem;
	e.n = n;
	e.prev_epoch = C.epoch;
	e.prev = C.prev;
	e.nprev = C.nprev;
	e.lost = lost;
	e.away = aw;
	e.naway = na;
	for (k = 1; k <= N; k++)
		if (who & (1u << k)) {
			assert_int_equal(fpm_round_complete(C.fp[k], &e, rep, n, &C.out), 0);
			collect(k);
		}
	C.epoch++;
	for (i = 0; i < n; i++)
		C.prev[i] = next[i];
	C.nprev = n;
}

/* A whole quorate epoch of the nodes in mask. */
static void epoch_of(unsigned mask, unsigned away)
{
	confchg(mask, mask);
	complete(mask, mask, away, false);
}

static int setup(void **state)
{
	uint32_t n;

	(void)state;
	memset(&C, 0, sizeof(C));
	fpm_out_init(&C.out);
	for (n = 1; n <= N; n++) {
		assert_int_equal(fpm_new(n, INC(n), &C.fp[n]), 0);
		assert_int_equal(fpm_gate(C.fp[n], true, &C.out), 0);
	}
	for (n = 1; n <= N; n++)
		status_all(n, true);
	epoch_of(0xe, 0);
	for (n = 1; n <= N; n++) {
		assert_int_equal(fpm_phase(C.fp[n]), FPM_ACTIVE);
		assert_int_equal(fpm_epoch(C.fp[n]), 1);
	}
	return 0;
}

static int teardown(void **state)
{
	uint32_t n;

	(void)state;
	for (n = 1; n <= N; n++)
		fpm_free(C.fp[n]);
	fpm_out_free(&C.out);
	return 0;
}

/* A resource name whose master is m3 among {1,2,3} and m2 among the two
 * nodes of pair (0: don't care). */
static const char *name_for(uint32_t m3, const uint32_t *pair, uint32_t m2)
{
	static char names[4][16];
	static unsigned next;
	char *name = names[next++ % 4];
	const uint32_t all[3] = { 1, 2, 3 };
	unsigned i;

	for (i = 0; i < 10000; i++) {
		snprintf(name, sizeof(names[0]), "r%u", i);
		if (fpm_master_of(name, strlen(name), all, 3) == m3 &&
		    (!m2 || fpm_master_of(name, strlen(name), pair, 2) == m2))
			return name;
	}
	fail();
	return NULL;
}

static int lock(uint32_t n, uint64_t lkid, const char *name, int mode)
{
	int rc = fpm_lock(C.fp[n], lkid, name, strlen(name), mode, 0, &C.out);

	collect(n);
	return rc;
}

static int unlock(uint32_t n, uint64_t lkid, unsigned users)
{
	int rc = fpm_unlock(C.fp[n], lkid, users, 0, NULL, &C.out);

	collect(n);
	return rc;
}

static bool holds(uint32_t n, uint64_t lkid)
{
	struct fpm_own_info oi;

	return !fpm_own_get(C.fp[n], lkid, &oi) && oi.grmode != MODE_NONE;
}

/* ---- the ordinary path ---------------------------------------------- */

/* A resource this node masters: granted with no message at all. */
static void test_local_master_no_message(void **state)
{
	const char *r = name_for(2, NULL, 0);

	(void)state;
	assert_int_equal(lock(2, LK(2, 1), r, MODE_EX), 0);
	assert_int_equal(C.nnet, 0);
	assert_int_equal(C.sends, 0);
	assert_int_equal(logged(FPM_OUT_GRANTED, 2, LK(2, 1)), 1);
	assert_true(holds(2, LK(2, 1)));
	assert_int_equal(ls_lock_count(fpm_ls(C.fp[2])), 1);
}

/* Hand-off through a third-node master: P_REQUEST, P_BAST, P_RELEASE,
 * P_GRANT (design 2.3), the token rising from one writer to the next. */
static void test_handoff_third_node(void **state)
{
	const char *r = name_for(3, NULL, 0);
	struct fpm_own_info a, b;

	(void)state;
	assert_int_equal(lock(1, LK(1, 1), r, MODE_EX), 0);
	assert_int_equal(C.nnet, 1);
	assert_int_equal(C.net[0].b[0], FPM_P_REQUEST);
	assert_int_equal(C.net[0].to, 3);
	flush();
	assert_true(holds(1, LK(1, 1)));
	assert_int_equal(lock(2, LK(2, 1), r, MODE_EX), 0);
	flush();
	assert_false(holds(2, LK(2, 1)));
	assert_int_equal(logged(FPM_OUT_BAST, 1, LK(1, 1)), 1);
	assert_int_equal(unlock(1, LK(1, 1), 0), 0);
	assert_int_equal(find_pkt(FPM_P_RELEASE, 3), 0);
	flush();
	assert_true(holds(2, LK(2, 1)));
	assert_int_equal(C.sends, 2 + 4);	/* node 1's request and grant, then the hand-off */
	assert_int_equal(fpm_own_get(C.fp[2], LK(2, 1), &b), 0);
	assert_int_equal(b.epoch, 1);
	assert_int_equal(b.token >> 32, 1);
	/* node 1's earlier token was lower */
	assert_int_equal(lock(1, LK(1, 2), r, MODE_EX), 0);
	assert_int_equal(unlock(2, LK(2, 1), 0), 0);
	flush();
	assert_int_equal(fpm_own_get(C.fp[1], LK(1, 2), &a), 0);
	assert_true(a.token > b.token);
}

/* Conversions and cancels are the CPG path's (ls_apply): a blocked
 * up-conversion cancelled keeps its granted mode. */
static void test_convert_cancel(void **state)
{
	const char *r = name_for(3, NULL, 0);
	struct fpm_own_info oi;
	size_t i;

	(void)state;
	assert_int_equal(lock(1, LK(1, 1), r, MODE_PR), 0);
	assert_int_equal(lock(2, LK(2, 1), r, MODE_PR), 0);
	flush();
	assert_true(holds(1, LK(1, 1)) && holds(2, LK(2, 1)));
	assert_int_equal(fpm_convert(C.fp[1], LK(1, 1), MODE_EX, 0, NULL, &C.out), 0);
	collect(1);
	flush();
	assert_int_equal(fpm_own_get(C.fp[1], LK(1, 1), &oi), 0);
	assert_true(oi.outstanding);
	assert_int_equal(oi.grmode, MODE_PR);
	assert_int_equal(logged(FPM_OUT_BAST, 2, LK(2, 1)), 1);
	assert_int_equal(fpm_unlock(C.fp[1], LK(1, 1), 0, 0, NULL, &C.out), -EBUSY);
	assert_int_equal(fpm_cancel(C.fp[1], LK(1, 1), &C.out), 0);
	collect(1);
	flush();
	assert_int_equal(fpm_own_get(C.fp[1], LK(1, 1), &oi), 0);
	assert_false(oi.outstanding);
	assert_int_equal(oi.grmode, MODE_PR);
	for (i = 0; i < C.nlog; i++)
		if (C.log[i].it.kind == FPM_OUT_FAILED) {
			assert_int_equal(C.log[i].it.msg.err, SDLM_ECANCELED);
			assert_int_equal(C.log[i].it.msg.mode, MODE_PR);
		}
	assert_int_equal(logged(FPM_OUT_FAILED, 1, LK(1, 1)), 1);
	/* a NOQUEUE request that cannot be granted fails at once */
	assert_int_equal(fpm_lock(C.fp[3], LK(3, 1), r, strlen(r), MODE_EX,
				  LS_LKF_NOQUEUE, &C.out), 0);
	collect(3);
	assert_int_equal(logged(FPM_OUT_FAILED, 3, LK(3, 1)), 1);
	assert_int_equal(fpm_own_get(C.fp[3], LK(3, 1), &oi), -ENOENT);
}

/* The grantee's eligibility is the ordered stream's: a node whose
 * heartbeat is not live, or that has a pill pending, is granted nothing;
 * the gate closed grants nothing. */
static void test_eligibility(void **state)
{
	const char *r = name_for(3, NULL, 0);

	(void)state;
	status_all(1, false);
	assert_int_equal(lock(1, LK(1, 1), r, MODE_EX), 0);
	flush();
	assert_false(holds(1, LK(1, 1)));
	assert_int_equal(fpm_node_status(C.fp[3], 1, true, true, &C.out), 0);
	collect(3);
	flush();
	assert_false(holds(1, LK(1, 1)));
	assert_int_equal(fpm_gate(C.fp[3], false, &C.out), 0);
	assert_int_equal(fpm_node_status(C.fp[3], 1, true, false, &C.out), 0);
	collect(3);
	flush();
	assert_false(holds(1, LK(1, 1)));
	assert_int_equal(fpm_gate(C.fp[3], true, &C.out), 0);
	collect(3);
	flush();
	assert_true(holds(1, LK(1, 1)));
}

/* Refusals at the master: not its resource, not a member, another
 * incarnation, a lock id of another node. */
static void test_refusals(void **state)
{
	const char *r3 = name_for(3, NULL, 0), *r2 = name_for(2, NULL, 0);
	struct fpm_msg m;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = FPM_P_REQUEST;
	m.mode = MODE_EX;
	m.epoch = 1;
	m.rid = 1;
	m.lkid = LK(1, 1);
	m.namelen = (uint8_t)strlen(r2);
	memcpy(m.name, r2, m.namelen);
	assert_int_equal(fpm_input(C.fp[3], 1, INC(1), &m, &C.out), -EXDEV);
	m.namelen = (uint8_t)strlen(r3);
	memcpy(m.name, r3, m.namelen);
	assert_int_equal(fpm_input(C.fp[3], 1, INC(1) + 1, &m, &C.out), -ESTALE);
	assert_int_equal(fpm_input(C.fp[3], 2, INC(2), &m, &C.out), -EINVAL);
	assert_int_equal(fpm_input(C.fp[3], 3, INC(3), &m, &C.out), -EINVAL);
	assert_int_equal(fpm_input(C.fp[3], 1, INC(1), &m, &C.out), 0);
	collect(3);
	assert_int_equal(find_pkt(FPM_P_GRANT, 1), 0);
}

/* ---- epochs and the rebuild ----------------------------------------- */

/* A held lock, a converter and a waiter survive a remaster: the new
 * master has them from the reports and grants the waiter when the
 * holder releases. */
static void test_rebuild_from_reports(void **state)
{
	const uint32_t pair[2] = { 1, 2 };
	/* mastered by 3 in {1,2,3}, by 1 in {1,2}: node 3 leaves */
	const char *r = name_for(3, pair, 1);
	struct fpm_own_info oi;

	(void)state;
	assert_int_equal(lock(2, LK(2, 1), r, MODE_EX), 0);
	flush();
	assert_int_equal(lock(1, LK(1, 1), r, MODE_PR), 0);
	flush();
	assert_true(holds(2, LK(2, 1)));
	/* node 3 leaves, after being fenced (nothing away) */
	epoch_of(0x6, 0);
	assert_int_equal(fpm_master(C.fp[1], r, strlen(r)), 1);
	assert_int_equal(ls_lock_count(fpm_ls(C.fp[1])), 2);
	assert_int_equal(fpm_own_get(C.fp[2], LK(2, 1), &oi), 0);
	assert_int_equal(oi.epoch, 2);	/* EP: re-tagged */
	assert_int_equal(unlock(2, LK(2, 1), 0), 0);
	assert_true(find_pkt(FPM_P_RELEASE, 1) >= 0);
	flush();
	assert_true(holds(1, LK(1, 1)));
	assert_int_equal(fpm_own_get(C.fp[1], LK(1, 1), &oi), 0);
	assert_int_equal(oi.epoch, 2);
}

/* Requests asked for during a round wait in the core and go to the new
 * master after it; a cancel the old master may have lost is sent again. */
static void test_round_defers(void **state)
{
	const uint32_t pair[2] = { 1, 2 };
	const char *r = name_for(3, pair, 2);
	const char *q = name_for(3, pair, 1);

	(void)state;
	assert_int_equal(lock(2, LK(2, 1), q, MODE_EX), 0);
	flush();
	assert_int_equal(lock(1, LK(1, 1), q, MODE_EX), 0);
	flush();
	assert_int_equal(fpm_cancel(C.fp[1], LK(1, 1), &C.out), 0);
	collect(1);
	C.nnet = 0;		/* the cancel is lost with the old master */
	confchg(0x6, 0x6);
	assert_int_equal(lock(1, LK(1, 2), r, MODE_EX), 0);
	assert_int_equal(C.nnet, 0);	/* nothing sent in a round */
	complete(0x6, 0x6, 0, false);
	flush();
	assert_true(holds(1, LK(1, 2)));
	assert_false(holds(1, LK(1, 1)));
	assert_int_equal(logged(FPM_OUT_FAILED, 1, LK(1, 1)), 1);
	assert_true(holds(2, LK(2, 1)));
}

/* A conflicting report (cannot happen if S1 holds) is refused: its
 * holder revokes. */
static void test_rebuild_conflict_revokes(void **state)
{
	const uint32_t pair[2] = { 1, 2 };
	const char *r = name_for(3, pair, 1);
	struct fpm_report rep[2];
	struct fpm_entry forged;
	struct fpm_member mem[2] = { { 1, INC(1) }, { 2, INC(2) } };
	const uint32_t prev[3] = { 1, 2, 3 };
	struct fpm_epoch e;

	(void)state;
	assert_int_equal(lock(2, LK(2, 1), r, MODE_EX), 0);
	flush();
	confchg(0x6, 0x6);
	rep[0] = *fpm_report(C.fp[1]);
	rep[1] = *fpm_report(C.fp[2]);
	/* node 1 claims an EX on r too */
	memset(&forged, 0, sizeof(forged));
	forged.node = 1;
	forged.lkid = LK(1, 9);
	forged.rid = 1;
	forged.grmode = forged.rqmode = MODE_EX;
	forged.namelen = (uint8_t)strlen(r);
	memcpy(forged.name, r, forged.namelen);
	rep[0].n = 1;
	rep[0].e = &forged;
	memset(&e, 0, sizeof(e));
	e.epoch = 2;
	e.members = mem;
	e.n = 2;
	e.prev_epoch = 1;
	e.prev = prev;
	e.nprev = 3;
	/* node 1, the new master, reads node 1's report first */
	assert_int_equal(fpm_round_complete(C.fp[1], &e, rep, 2, &C.out), 0);
	collect(1);
	assert_int_equal(fpm_round_complete(C.fp[2], &e, rep, 2, &C.out), 0);
	collect(2);
	flush();
	/* node 2's real grant was entered second and refused: revoked */
	assert_int_equal(logged(FPM_OUT_REVOKE, 2, LK(2, 1)), 1);
	assert_false(holds(2, LK(2, 1)));
}

/* A member whose incarnation the ordered stream has fenced (NODE_FENCED
 * of that very incarnation, its JOIN in the same round) is refused: its
 * report is not entered, it is granted nothing (the model's "a fenced
 * incarnation is refused"). */
static void test_fenced_incarnation_refused(void **state)
{
	const uint32_t pair[2] = { 1, 2 };
	const char *r = name_for(3, pair, 2);
	uint32_t n;

	(void)state;
	assert_int_equal(lock(1, LK(1, 1), r, MODE_EX), 0);
	flush();
	assert_true(holds(1, LK(1, 1)));
	for (n = 1; n <= 3; n++) {
		assert_int_equal(fpm_node_fenced(C.fp[n], 1, INC(1), &C.out), 0);
		collect(n);
	}
	confchg(0xe, 0xe);
	complete(0xe, 0xe, 0, false);
	assert_int_equal(ls_lock_count(fpm_ls(C.fp[fpm_master(C.fp[2], r, strlen(r))])), 0);
	assert_int_equal(lock(1, LK(1, 2), "other", MODE_EX), 0);
	flush();
	assert_false(holds(1, LK(1, 2)));
	assert_int_equal(lock(2, LK(2, 1), r, MODE_EX), 0);
	flush();
	assert_true(holds(2, LK(2, 1)));
}

/*
 * A NODE_FENCED of an incarnation older than the node's member
 * incarnation (the verdict on its predecessor, delivered after it
 * restarted and rejoined) acts on nothing: the block an away node's
 * member incarnation owes stays until that incarnation's own fence.
 */
static void test_old_fence_keeps_block(void **state)
{
	const uint32_t pair[2] = { 1, 2 };
	const char *r = name_for(3, pair, 2);
	int rc;

	(void)state;
	epoch_of(0x6, 0x8);		/* node 3 (INC(3) in epoch 1) away */
	assert_true(fpm_blocked(C.fp[2], r, strlen(r)));
	assert_int_equal(lock(1, LK(1, 1), r, MODE_EX), 0);
	flush_to(0x6);
	assert_false(holds(1, LK(1, 1)));
	rc = fpm_node_fenced(C.fp[2], 3, INC(3) - 1, &C.out);
	collect(2);
	flush_to(0x6);
	assert_true(fpm_blocked(C.fp[2], r, strlen(r)));
	assert_false(holds(1, LK(1, 1)));
	assert_int_equal(rc, -EALREADY);
	assert_int_equal(fpm_node_fenced(C.fp[2], 3, INC(3), &C.out), 0);
	collect(2);
	flush_to(0x6);
	assert_false(fpm_blocked(C.fp[2], r, strlen(r)));
	assert_true(holds(1, LK(1, 1)));
}

/*
 * The same verdict on a member: the locks it holds now are its member
 * incarnation's; freeing them would grant a second holder.  They stay,
 * it stays eligible, and the next round enters its report.
 */
static void test_old_fence_keeps_member_locks(void **state)
{
	const uint32_t pair[2] = { 1, 2 };
	const char *r = name_for(3, pair, 1), *q = name_for(3, pair, 2);
	int rc[N + 1];
	uint32_t n;

	(void)state;
	assert_int_equal(lock(1, LK(1, 1), r, MODE_EX), 0);
	flush();
	assert_true(holds(1, LK(1, 1)));
	for (n = 1; n <= N; n++) {
		rc[n] = fpm_node_fenced(C.fp[n], 1, INC(1) - 1, &C.out);
		collect(n);
	}
	flush();
	assert_int_equal(logged(FPM_OUT_REVOKE, 1, LK(1, 1)), 0);
	assert_int_equal(lock(2, LK(2, 1), r, MODE_EX), 0);
	flush();
	assert_false(holds(2, LK(2, 1)));
	assert_int_equal(ls_lock_count(fpm_ls(C.fp[3])), 2);
	for (n = 1; n <= N; n++)
		assert_int_equal(rc[n], -EALREADY);
	assert_int_equal(lock(1, LK(1, 2), q, MODE_PR), 0);
	flush();
	assert_true(holds(1, LK(1, 2)));
	epoch_of(0xe, 0);
	assert_int_equal(lock(2, LK(2, 2), r, MODE_EX), 0);
	flush();
	assert_false(holds(2, LK(2, 2)));
	assert_true(holds(1, LK(1, 1)));
	assert_int_equal(unlock(1, LK(1, 1), 0), 0);
	flush();
	assert_true(holds(2, LK(2, 1)));
}

/* The k-th name (from 0) that node m3 masters among {1,2,3}. */
static const char *name_nth(uint32_t m3, unsigned k)
{
	static char names[4][16];
	static unsigned next;
	char *name = names[next++ % 4];
	const uint32_t all[3] = { 1, 2, 3 };
	unsigned i;

	for (i = 0; i < 10000; i++) {
		snprintf(name, sizeof(names[0]), "r%u", i);
		if (fpm_master_of(name, strlen(name), all, 3) == m3 && !k--)
			return name;
	}
	fail();
	return NULL;
}

/* Node 1 holds r EX, converts s PR->EX behind node 2's PR, waits on q
 * behind node 2's EX; all mastered by node 3. */
static void fenced_member_locks(void)
{
	const char *r = name_nth(3, 0), *s = name_nth(3, 1), *q = name_nth(3, 2);

	assert_int_equal(lock(1, LK(1, 1), r, MODE_EX), 0);
	assert_int_equal(lock(1, LK(1, 2), s, MODE_PR), 0);
	assert_int_equal(lock(2, LK(2, 2), s, MODE_PR), 0);
	assert_int_equal(lock(2, LK(2, 3), q, MODE_EX), 0);
	flush();
	assert_int_equal(lock(1, LK(1, 3), q, MODE_EX), 0);
	assert_int_equal(fpm_convert(C.fp[1], LK(1, 2), MODE_EX, 0, NULL, &C.out), 0);
	collect(1);
	flush();
	assert_true(holds(1, LK(1, 1)) && holds(1, LK(1, 2)));
	assert_false(holds(1, LK(1, 3)));
}

/* ... and is told, each lock gone: FAILED (SDLM_EFENCED) for what it
 * asked, REVOKE for what it held (the converting lock: both). */
static void fenced_member_told(void)
{
	struct fpm_own_info oi;
	size_t i;

	assert_int_equal(logged(FPM_OUT_REVOKE, 1, LK(1, 1)), 1);
	assert_int_equal(logged(FPM_OUT_FAILED, 1, LK(1, 2)), 1);
	assert_int_equal(logged(FPM_OUT_REVOKE, 1, LK(1, 2)), 1);
	assert_int_equal(logged(FPM_OUT_FAILED, 1, LK(1, 3)), 1);
	for (i = 0; i < C.nlog; i++)
		if (C.log[i].node == 1 && (C.log[i].it.kind == FPM_OUT_FAILED ||
					   C.log[i].it.kind == FPM_OUT_REVOKE))
			assert_int_equal(C.log[i].it.msg.err, SDLM_EFENCED);
	for (i = 1; i <= 3; i++)
		assert_int_equal(fpm_own_get(C.fp[1], LK(1, i), &oi), -ENOENT);
	assert_true(holds(2, LK(2, 2)) && holds(2, LK(2, 3)));
}

/* A member fenced (NODE_FENCED of its incarnation) while its master is
 * active: the master frees its locks and tells it. */
static void test_fenced_member_told(void **state)
{
	uint32_t n;

	(void)state;
	fenced_member_locks();
	for (n = 1; n <= N; n++) {
		assert_int_equal(fpm_node_fenced(C.fp[n], 1, INC(1), &C.out), 0);
		collect(n);
	}
	flush();
	fenced_member_told();
}

/* The same verdict during a round: the rebuild refuses the member's
 * report (its incarnation is fenced) and tells it. */
static void test_fenced_member_told_at_rebuild(void **state)
{
	uint32_t n;

	(void)state;
	fenced_member_locks();
	confchg(0xe, 0xe);
	for (n = 1; n <= N; n++) {
		assert_int_equal(fpm_node_fenced(C.fp[n], 1, INC(1), &C.out), 0);
		collect(n);
	}
	complete(0xe, 0xe, 0, false);
	flush();
	fenced_member_told();
}

/* A rebuild without some member's report would lose its locks: refused,
 * nothing changed; so are a report twice and one of a non-member. */
static void test_round_needs_every_report(void **state)
{
	struct fpm_member mem[2] = { { 1, INC(1) }, { 2, INC(2) } };
	const uint32_t prev[3] = { 1, 2, 3 };
	struct fpm_report rep[2];
	struct fpm_epoch e;

	(void)state;
	assert_int_equal(lock(2, LK(2, 1), name_for(3, NULL, 0), MODE_EX), 0);
	flush();
	confchg(0x6, 0x6);
	memset(&e, 0, sizeof(e));
	e.epoch = 2;
	e.members = mem;
	e.n = 2;
	e.prev_epoch = 1;
	e.prev = prev;
	e.nprev = 3;
	rep[0] = *fpm_report(C.fp[1]);
	rep[1] = *fpm_report(C.fp[2]);
	assert_int_equal(fpm_round_complete(C.fp[1], &e, rep, 1, &C.out), -EINVAL);
	rep[1] = rep[0];
	assert_int_equal(fpm_round_complete(C.fp[1], &e, rep, 2, &C.out), -EINVAL);
	rep[1] = *fpm_report(C.fp[2]);
	rep[1].node = 3;
	assert_int_equal(fpm_round_complete(C.fp[1], &e, rep, 2, &C.out), -EINVAL);
	assert_int_equal(fpm_phase(C.fp[1]), FPM_ROUND);
	rep[1].node = 2;
	assert_int_equal(fpm_round_complete(C.fp[1], &e, rep, 2, &C.out), 0);
	assert_int_equal(fpm_phase(C.fp[1]), FPM_ACTIVE);
}

/* One report entry set to something a report check refuses. */
enum { BAD_NAMELEN0, BAD_NAMELEN65, BAD_NAMELEN255, BAD_NODE, BAD_NODE0,
       BAD_NODEMAX, BAD_LKID0, BAD_LKID_NODE, BAD_GRMODE, BAD_RQMODE_NONE,
       BAD_RQMODE, BAD_FLAGS, BAD_COUNT };

static void entry_break(struct fpm_entry *en, int how)
{
	switch (how) {
	case BAD_NAMELEN0:	en->namelen = 0; break;
	case BAD_NAMELEN65:	en->namelen = SDLM_NAME_MAX + 1; break;
	case BAD_NAMELEN255:	en->namelen = 255; break;
	case BAD_NODE:		en->node = en->node == 1 ? 3 : 1; break;
	case BAD_NODE0:		en->node = 0; break;
	case BAD_NODEMAX:	en->node = SDLM_MAX_NODES + 1; break;
	case BAD_LKID0:		en->lkid = 0; break;
	case BAD_LKID_NODE:	en->lkid = LK(en->node == 1 ? 3 : 1, 1); break;
	case BAD_GRMODE:	en->grmode = MODE_EX + 1; break;
	case BAD_RQMODE_NONE:	en->rqmode = MODE_NONE; break;
	case BAD_RQMODE:	en->rqmode = -2; break;
	default:		en->flags = LS_LKF_ALL << 1; break;
	}
}

/*
 * Every report check of the list in fpmaster.h, on a member's own entry
 * and on an old master's entry for a non-member: the completion is
 * refused, nothing changed (the round goes on), and nothing is read
 * past a name (a name longer than SDLM_NAME_MAX was: the fuzz target's
 * report mode reaches it under ASan).  A message given to fpm_input that
 * the decoder would refuse is refused the same way.
 */
static void test_report_checks(void **state)
{
	const uint32_t pair[2] = { 1, 2 };
	const char *r = name_for(3, pair, 1);
	struct fpm_member mem[2] = { { 1, INC(1) }, { 2, INC(2) } };
	const uint32_t prev[3] = { 1, 2, 3 }, away[1] = { 3 };
	struct fpm_entry own[2], old[1];
	struct fpm_report rep[2];
	struct fpm_epoch e;
	struct fpm_msg m;
	int how, rc;

	(void)state;
	assert_int_equal(lock(2, LK(2, 1), r, MODE_EX), 0);
	assert_int_equal(lock(2, LK(2, 2), r, MODE_PR), 0);
	flush();
	confchg(0x6, 0x6);
	memset(&e, 0, sizeof(e));
	e.epoch = 2;
	e.members = mem;
	e.n = 2;
	e.prev_epoch = 1;
	e.prev = prev;
	e.nprev = 3;
	e.away = away;
	e.naway = 1;
	for (how = 0; how < BAD_COUNT; how++) {
		/* node 2's own entries, the broken one last */
		rep[0] = *fpm_report(C.fp[1]);
		rep[1] = *fpm_report(C.fp[2]);
		assert_int_equal(rep[1].n, 2);
		memcpy(own, rep[1].e, sizeof(own));
		entry_break(&own[1], how);
		rep[1].e = own;
		rc = fpm_round_complete(C.fp[1], &e, rep, 2, &C.out);
		assert_int_equal(rc, -EINVAL);
		assert_int_equal(fpm_phase(C.fp[1]), FPM_ROUND);
		/* an old master's entry for node 3 (of any node: BAD_NODE
		 * is no error there) */
		if (how == BAD_NODE)
			continue;
		rep[1] = *fpm_report(C.fp[2]);
		memset(old, 0, sizeof(old));
		old[0].node = 3;
		old[0].lkid = LK(3, 1);
		old[0].rid = 1;
		old[0].grmode = old[0].rqmode = MODE_PR;
		old[0].namelen = (uint8_t)strlen(r);
		memcpy(old[0].name, r, old[0].namelen);
		entry_break(&old[0], how);
		rep[0].nm = 1;
		rep[0].m = old;
		rc = fpm_round_complete(C.fp[1], &e, rep, 2, &C.out);
		assert_int_equal(rc, -EINVAL);
		assert_int_equal(fpm_phase(C.fp[1]), FPM_ROUND);
	}
	rep[0] = *fpm_report(C.fp[1]);
	rep[1] = *fpm_report(C.fp[2]);
	assert_int_equal(fpm_round_complete(C.fp[1], &e, rep, 2, &C.out), 0);
	assert_int_equal(fpm_phase(C.fp[1]), FPM_ACTIVE);
	/* the EX entered; the PR waits for node 3's fence */
	assert_int_equal(ls_lock_count(fpm_ls(C.fp[1])), 1);
	assert_true(fpm_blocked(C.fp[1], r, strlen(r)));
	/* a message the decoder would refuse, handed to the core */
	memset(&m, 0, sizeof(m));
	m.type = FPM_P_REQUEST;
	m.mode = MODE_EX;
	m.epoch = 2;
	m.rid = 9;
	m.lkid = LK(2, 9);
	m.namelen = SDLM_NAME_MAX + 1;
	memset(m.name, 'x', sizeof(m.name));
	assert_int_equal(fpm_input(C.fp[1], 2, INC(2), &m, &C.out), -EINVAL);
	m.namelen = 1;
	m.flags = LS_LKF_IVVALBLK;
	assert_int_equal(fpm_input(C.fp[1], 2, INC(2), &m, &C.out), -EINVAL);
}

/* ---- the model's variants ------------------------------------------- */

/*
 * BAD_NO_EPOCH_CHECK: a grant of an older epoch is never used.
 * First the window: node 3, the master, cut off and not yet told, grants
 * an old request of node 1 still in the network; node 1 is in the next
 * epoch and refuses the grant of epoch 1 (node 3 is no member of it
 * either, so the epoch is not the only rule in the way here).
 * Then the case where only the epoch stops it (the model's EP): node 3
 * stays a member and the master; its grant of epoch 1 reaches node 1
 * after the round, which node 1's report entered waiting, so the same
 * request id is outstanding.  Taken, node 1 would use a grant of epoch 1
 * in epoch 2; the epoch check refuses it, and the rebuilt master's grant
 * of epoch 2 is the one taken.
 */
static void test_model_bad_no_epoch_check(void **state)
{
	const char *r = name_for(3, NULL, 0);
	struct fpm_own_info oi;
	long i;
	int rc;

	(void)state;
	assert_int_equal(lock(1, LK(1, 1), r, MODE_EX), 0);
	/* nodes 1 and 2 form epoch 2; node 3 has not processed it */
	epoch_of(0x6, 0x8);
	assert_int_equal(fpm_phase(C.fp[3]), FPM_ACTIVE);
	assert_int_equal(fpm_epoch(C.fp[3]), 1);
	i = find_pkt(FPM_P_REQUEST, 3);
	assert_true(i >= 0);
	assert_int_equal(deliver((size_t)i, false), 0);	/* the window */
	i = find_pkt(FPM_P_GRANT, 1);
	assert_true(i >= 0);
	deliver((size_t)i, false);
	assert_false(holds(1, LK(1, 1)));
	assert_int_equal(logged(FPM_OUT_GRANTED, 1, 0), 0);

	/* the old master a member of the next epoch, and its master */
	teardown(NULL);
	setup(NULL);
	assert_int_equal(lock(1, LK(1, 1), r, MODE_EX), 0);
	i = find_pkt(FPM_P_REQUEST, 3);
	assert_int_equal(deliver((size_t)i, false), 0);
	assert_int_equal(find_pkt(FPM_P_GRANT, 1), 0);	/* epoch 1's, held back */
	epoch_of(0xe, 0);
	assert_int_equal(fpm_master(C.fp[1], r, strlen(r)), 3);
	assert_int_equal(C.nnet, 2);		/* and the rebuilt master's */
	rc = deliver(0, false);
	assert_false(holds(1, LK(1, 1)));
	assert_int_equal(rc, -ESTALE);
	assert_int_equal(deliver(0, false), 0);
	assert_int_equal(fpm_own_get(C.fp[1], LK(1, 1), &oi), 0);
	assert_int_equal(oi.grmode, MODE_EX);
	assert_int_equal(oi.epoch, 2);
	assert_int_equal(oi.token >> 32, 2);
}

/*
 * BAD_REMASTER_NOFENCE: node 3, master, cut off, grants itself in the
 * window; nodes 1 and 2 form the next epoch, node 2 masters.  The
 * resource is blocked until node 3 is fenced: node 1's request waits,
 * node 3's fence is asked for.
 */
static void test_model_bad_remaster_nofence(void **state)
{
	const uint32_t pair[2] = { 1, 2 };
	const char *r = name_for(3, pair, 2);

	(void)state;
	epoch_of(0x6, 0x8);		/* node 3 away, not fenced */
	assert_int_equal(lock(3, LK(3, 1), r, MODE_EX), 0);	/* window */
	assert_true(holds(3, LK(3, 1)));
	assert_true(fpm_blocked(C.fp[2], r, strlen(r)));
	assert_int_equal(lock(1, LK(1, 1), r, MODE_EX), 0);
	flush_to(0x6);
	assert_false(holds(1, LK(1, 1)));
	assert_int_equal(logged(FPM_OUT_NEED_FENCE, 2, 3), 1);
	/* a NODE_STATUS does not lift it; the fence does */
	assert_int_equal(fpm_node_status(C.fp[2], 3, false, false, &C.out), 0);
	collect(2);
	flush_to(0x6);
	assert_false(holds(1, LK(1, 1)));
	assert_int_equal(fpm_node_fenced(C.fp[2], 3, INC(3), &C.out), 0);
	collect(2);
	flush_to(0x6);
	assert_true(holds(1, LK(1, 1)));
	assert_false(fpm_blocked(C.fp[2], r, strlen(r)));
}

/*
 * A NOQUEUE request or up-conversion on a blocked resource fails at once
 * (SDLM_EBUSY, as lockstate.c fails it when it cannot grant now: the
 * gate closed, a HOLD) instead of waiting for the fence; the fence is
 * asked for all the same.  A conversion keeps its granted mode.
 */
static void test_noqueue_blocked_fails(void **state)
{
	const uint32_t pair[2] = { 1, 2 };
	const char *r = name_for(3, pair, 2);
	struct fpm_own_info oi;
	size_t i;

	(void)state;
	assert_int_equal(lock(1, LK(1, 1), r, MODE_PR), 0);
	flush();
	assert_true(holds(1, LK(1, 1)));
	epoch_of(0x6, 0x8);		/* node 3 away, not fenced */
	assert_true(fpm_blocked(C.fp[2], r, strlen(r)));
	assert_int_equal(fpm_lock(C.fp[1], LK(1, 2), r, strlen(r), MODE_PR,
				  LS_LKF_NOQUEUE, &C.out), 0);
	collect(1);
	assert_int_equal(fpm_convert(C.fp[1], LK(1, 1), MODE_EX, LS_LKF_NOQUEUE,
				     NULL, &C.out), 0);
	collect(1);
	flush_to(0x6);
	assert_int_equal(logged(FPM_OUT_FAILED, 1, LK(1, 2)), 1);
	assert_int_equal(logged(FPM_OUT_FAILED, 1, LK(1, 1)), 1);
	for (i = 0; i < C.nlog; i++)
		if (C.log[i].it.kind == FPM_OUT_FAILED)
			assert_int_equal(C.log[i].it.msg.err, SDLM_EBUSY);
	assert_int_equal(fpm_own_get(C.fp[1], LK(1, 2), &oi), -ENOENT);
	assert_int_equal(fpm_own_get(C.fp[1], LK(1, 1), &oi), 0);
	assert_int_equal(oi.grmode, MODE_PR);
	assert_false(oi.outstanding);
	assert_int_equal(logged(FPM_OUT_NEED_FENCE, 2, 3), 1);
	/* fenced, nothing of them is left to grant */
	assert_int_equal(fpm_node_fenced(C.fp[2], 3, INC(3), &C.out), 0);
	collect(2);
	flush_to(0x6);
	assert_int_equal(fpm_own_get(C.fp[1], LK(1, 1), &oi), 0);
	assert_int_equal(oi.grmode, MODE_PR);
	assert_int_equal(ls_lock_count(fpm_ls(C.fp[2])), 1);
}

/* BAD_RELEASE_EARLY: a release while the lock's users still run is
 * refused; nothing is sent, the master still shows it held. */
static void test_model_bad_release_early(void **state)
{
	const char *r = name_for(3, NULL, 0);

	(void)state;
	assert_int_equal(lock(1, LK(1, 1), r, MODE_EX), 0);
	flush();
	assert_int_equal(lock(2, LK(2, 1), r, MODE_EX), 0);
	flush();
	assert_int_equal(unlock(1, LK(1, 1), 1), -EBUSY);
	assert_int_equal(C.nnet, 0);
	assert_true(holds(1, LK(1, 1)));
	assert_false(holds(2, LK(2, 1)));
	assert_int_equal(unlock(1, LK(1, 1), 0), 0);
	flush();
	assert_true(holds(2, LK(2, 1)));
}

/*
 * BAD_DUP_APPLY: a retransmitted P_REQUEST delivered after the release
 * is not applied again; an old P_GRANT delivered while another request
 * of the same lock (a conversion) is outstanding is not taken.
 */
static void test_model_bad_dup_apply(void **state)
{
	const char *r = name_for(3, NULL, 0);
	struct fpm_own_info oi;
	struct pkt dup;
	long i;

	(void)state;
	assert_int_equal(lock(1, LK(1, 1), r, MODE_PR), 0);
	i = find_pkt(FPM_P_REQUEST, 3);
	dup = C.net[i];			/* the transport's retransmission */
	assert_int_equal(deliver((size_t)i, false), 0);
	i = find_pkt(FPM_P_GRANT, 1);
	assert_int_equal(deliver((size_t)i, true), 0);	/* a copy stays */
	assert_true(holds(1, LK(1, 1)));
	/* the duplicate grant: nothing outstanding */
	i = find_pkt(FPM_P_GRANT, 1);
	assert_int_equal(deliver((size_t)i, true), -ESTALE);
	/* an up-conversion outstanding, then the old grant again */
	assert_int_equal(lock(2, LK(2, 1), r, MODE_PR), 0);
	flush_to(0x8 | 0x4);
	assert_int_equal(fpm_convert(C.fp[1], LK(1, 1), MODE_EX, 0, NULL, &C.out), 0);
	collect(1);
	i = find_pkt(FPM_P_GRANT, 1);
	assert_int_equal(deliver((size_t)i, false), -ESTALE);
	assert_int_equal(fpm_own_get(C.fp[1], LK(1, 1), &oi), 0);
	assert_int_equal(oi.grmode, MODE_PR);
	assert_true(oi.outstanding);
	/* the request's duplicate after node 1 gave everything up */
	assert_int_equal(fpm_cancel(C.fp[1], LK(1, 1), &C.out), 0);
	collect(1);
	flush_to(0x8);
	i = find_pkt(FPM_P_FAIL, 1);
	assert_int_equal(deliver((size_t)i, false), 0);
	assert_int_equal(unlock(1, LK(1, 1), 0), 0);
	flush_to(0x8);
	assert_int_equal(ls_lock_count(fpm_ls(C.fp[3])), 1);	/* node 2's */
	C.net[C.nnet++] = dup;
	assert_int_equal(deliver(C.nnet - 1, false), -EALREADY);
	assert_int_equal(ls_lock_count(fpm_ls(C.fp[3])), 1);
}

/*
 * BAD_STALE_ELIGIBLE: node 1 holds, paused and cut off; nodes 2 and 3
 * go on, node 3 still master and keeps node 1's grant (finding 9).  Its
 * NODE_STATUS "dead" (heartbeat still for D, no pill) takes nothing
 * away: node 2 is granted only after the ordered NODE_FENCED.
 */
static void test_model_bad_stale_eligible(void **state)
{
	const uint32_t pair[2] = { 2, 3 };
	const char *r = name_for(3, pair, 3);
	uint32_t n;

	(void)state;
	assert_int_equal(lock(1, LK(1, 1), r, MODE_EX), 0);
	flush();
	assert_true(holds(1, LK(1, 1)));
	epoch_of(0xc, 0x2);
	assert_int_equal(lock(2, LK(2, 1), r, MODE_EX), 0);
	flush_to(0xc);
	assert_false(holds(2, LK(2, 1)));
	assert_int_equal(logged(FPM_OUT_NEED_FENCE, 3, 1), 1);
	for (n = 2; n <= 3; n++) {
		assert_int_equal(fpm_node_status(C.fp[n], 1, false, false, &C.out), 0);
		collect(n);
	}
	flush_to(0xc);
	assert_false(holds(2, LK(2, 1)));
	for (n = 2; n <= 3; n++) {
		assert_int_equal(fpm_node_fenced(C.fp[n], 1, INC(1), &C.out), 0);
		collect(n);
	}
	flush_to(0xc);
	assert_true(holds(2, LK(2, 1)));
}

/*
 * BAD_REBUILD_NOOLD: node 1 holds and is cut off; nodes 2 and 3 go on
 * with node 3 still master.  The old master's report carries node 1's
 * grant, so node 2 is not granted over it; without it in the report
 * (the variant), it would be.
 */
static void test_model_bad_rebuild_noold(void **state)
{
	const uint32_t pair[2] = { 2, 3 };
	const char *r = name_for(3, pair, 3);
	const struct fpm_report *rep;
	struct ls_lock_info li;

	(void)state;
	assert_int_equal(lock(1, LK(1, 1), r, MODE_EX), 0);
	flush();
	confchg(0xc, 0xc);
	rep = fpm_report(C.fp[3]);
	assert_int_equal(rep->nm, 1);
	assert_int_equal(rep->m[0].node, 1);
	assert_int_equal(rep->m[0].lkid, LK(1, 1));
	assert_int_equal(fpm_report(C.fp[2])->nm, 0);
	complete(0xc, 0xc, 0x2, false);
	assert_false(fpm_blocked(C.fp[3], r, strlen(r)));	/* kept */
	assert_int_equal(ls_lock_get(fpm_ls(C.fp[3]), LK(1, 1), &li), 0);
	assert_true(li.away);
	assert_int_equal(lock(2, LK(2, 1), r, MODE_EX), 0);
	flush_to(0xc);
	assert_false(holds(2, LK(2, 1)));
	assert_int_equal(logged(FPM_OUT_NEED_FENCE, 3, 1), 1);
}

/* A second configuration change before the round completed (the round
 * starts again): the old master's report still carries the away
 * holder's grant, so the rebuild keeps it. */
static void test_confchg_twice_keeps_old_entries(void **state)
{
	const uint32_t pair[2] = { 2, 3 };
	const char *r = name_for(3, pair, 3);

	(void)state;
	assert_int_equal(lock(1, LK(1, 1), r, MODE_EX), 0);
	flush();
	confchg(0xc, 0xc);
	confchg(0xc, 0xc);
	assert_int_equal(fpm_report(C.fp[3])->epoch, 1);
	assert_int_equal(fpm_report(C.fp[3])->nm, 1);
	complete(0xc, 0xc, 0x2, false);
	assert_int_equal(lock(2, LK(2, 1), r, MODE_EX), 0);
	flush_to(0xc);
	assert_false(holds(2, LK(2, 1)));
	assert_int_equal(logged(FPM_OUT_NEED_FENCE, 3, 1), 1);
}

/* The same with the lineage lost (quorum lost everywhere): the old
 * master's entries are not taken, the resource is blocked instead. */
static void test_rebuild_lost_lineage_blocks(void **state)
{
	const uint32_t pair[2] = { 2, 3 };
	const char *r = name_for(3, pair, 3);

	(void)state;
	assert_int_equal(lock(1, LK(1, 1), r, MODE_EX), 0);
	flush();
	confchg(0xc, 0xc);
	complete(0xc, 0xc, 0x2, true);
	assert_true(fpm_blocked(C.fp[3], r, strlen(r)));
	assert_int_equal(ls_lock_count(fpm_ls(C.fp[3])), 0);
	assert_int_equal(lock(2, LK(2, 1), r, MODE_EX), 0);
	flush_to(0xc);
	assert_false(holds(2, LK(2, 1)));
	assert_int_equal(fpm_node_fenced(C.fp[3], 1, INC(1), &C.out), 0);
	collect(3);
	flush_to(0xc);
	assert_true(holds(2, LK(2, 1)));
}

/*
 * BAD_ROUND_ACCEPT: node 1 processed the configuration change (its JOIN
 * reported it waiting); a grant of its current epoch arrives during the
 * round: refused; the new master grants it again from the report.
 */
static void test_model_bad_round_accept(void **state)
{
	const uint32_t pair[2] = { 1, 2 };
	const char *r = name_for(3, pair, 2);
	const struct fpm_report *rep;
	long i;

	(void)state;
	assert_int_equal(lock(1, LK(1, 1), r, MODE_EX), 0);
	i = find_pkt(FPM_P_REQUEST, 3);
	assert_int_equal(deliver((size_t)i, false), 0);
	confchg(0x6, 0x2);		/* node 1's JOIN */
	rep = fpm_report(C.fp[1]);
	assert_int_equal(rep->n, 1);
	assert_int_equal(rep->e[0].grmode, MODE_NONE);	/* waiting */
	i = find_pkt(FPM_P_GRANT, 1);
	assert_int_equal(deliver((size_t)i, false), -EAGAIN);
	assert_false(holds(1, LK(1, 1)));
	confchg(0x6, 0x4);
	complete(0x6, 0x6, 0x8, false);
	flush_to(0x6);
	assert_false(holds(1, LK(1, 1)));	/* blocked: node 3 away */
	assert_int_equal(fpm_node_fenced(C.fp[2], 3, INC(3), &C.out), 0);
	collect(2);
	flush_to(0x6);
	assert_true(holds(1, LK(1, 1)));	/* granted again, epoch 2 */
}

/*
 * FM1: node 2 completes the round and grants node 1 before node 1
 * processed the completion; the grant of the new epoch is kept, and
 * taken once node 1 completes.
 */
static void test_fm1_later_epoch_kept(void **state)
{
	const uint32_t pair[2] = { 1, 2 };
	const char *r = name_for(3, pair, 2);

	(void)state;
	assert_int_equal(lock(1, LK(1, 1), r, MODE_EX), 0);
	C.nnet = 0;
	confchg(0x6, 0x6);
	complete(0x6, 0x4, 0x8, false);		/* node 2 only */
	assert_int_equal(fpm_node_fenced(C.fp[2], 3, INC(3), &C.out), 0);
	collect(2);
	flush_to(0x2);
	assert_false(holds(1, LK(1, 1)));
	C.epoch--;			/* the same round, at node 1 */
	C.nprev = 3;
	C.prev[0] = 1; C.prev[1] = 2; C.prev[2] = 3;
	complete(0x6, 0x2, 0x8, false);
	assert_true(holds(1, LK(1, 1)));
	assert_int_equal(logged(FPM_OUT_GRANTED, 1, LK(1, 1)), 1);
}

/*
 * The messages of a later epoch kept during a round are bounded: the
 * first FPM_LATER_MAX are kept and taken once the round completes here;
 * one more is refused (-ENOBUFS) and counted, nothing else changed, and
 * its sender's retransmission after the round is taken.
 */
static void test_later_bounded(void **state)
{
	const char *r = name_nth(1, 0);
	struct fpm_member mem[3] = { { 1, INC(1) }, { 2, INC(2) }, { 3, INC(3) } };
	const uint32_t prev[3] = { 1, 2, 3 };
	struct fpm_report rep[3];
	struct fpm_epoch e;
	struct fpm_out out;
	struct fpm_msg m;
	size_t i, grants = 0;
	int rc;

	(void)state;
	confchg(0xe, 0xe);
	memset(&m, 0, sizeof(m));
	m.type = FPM_P_REQUEST;
	m.mode = MODE_NL;
	m.epoch = 2;
	m.namelen = (uint8_t)strlen(r);
	memcpy(m.name, r, m.namelen);
	for (i = 0; i <= FPM_LATER_MAX; i++) {
		m.rid = 100 + i;
		m.lkid = LK(2, i + 1);
		rc = fpm_input(C.fp[1], 2, INC(2), &m, &C.out);
		assert_int_equal(rc, i < FPM_LATER_MAX ? 0 : -ENOBUFS);
		assert_int_equal(C.out.count, 0);
	}
	assert_int_equal(fpm_later_dropped(C.fp[1]), 1);
	/* the round completes at node 1 (its own output: FPM_LATER_MAX
	 * grants do not fit the simulated network) */
	for (i = 0; i < 3; i++)
		rep[i] = *fpm_report(C.fp[i + 1]);
	memset(&e, 0, sizeof(e));
	e.epoch = 2;
	e.members = mem;
	e.n = 3;
	e.prev_epoch = 1;
	e.prev = prev;
	e.nprev = 3;
	fpm_out_init(&out);
	assert_int_equal(fpm_round_complete(C.fp[1], &e, rep, 3, &out), 0);
	assert_false(out.lost);
	for (i = 0; i < out.count; i++)
		if (out.items[i].kind == FPM_OUT_SEND && out.items[i].node == 2 &&
		    out.items[i].msg.type == FPM_P_GRANT)
			grants++;
	assert_int_equal(grants, FPM_LATER_MAX);
	assert_int_equal(ls_lock_count(fpm_ls(C.fp[1])), FPM_LATER_MAX);
	/* the dropped one, sent again */
	m.rid = 100 + FPM_LATER_MAX;
	m.lkid = LK(2, FPM_LATER_MAX + 1);
	assert_int_equal(fpm_input(C.fp[1], 2, INC(2), &m, &out), 0);
	assert_int_equal(ls_lock_count(fpm_ls(C.fp[1])), FPM_LATER_MAX + 1);
	assert_int_equal(fpm_later_dropped(C.fp[1]), 1);
	fpm_out_free(&out);
}

/* ---- random runs ---------------------------------------------------- */

static uint64_t rng;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

#define RUN_LOCKS	64

/* S1 over the requesters' own tables: no two held locks of one resource
 * in incompatible modes; EP: a node holds only grants of its own epoch
 * (the last it was active in: a held lock is re-tagged by the rebuild
 * that had it in the node's report). */
static void check_s1(const uint64_t *lk, const char (*nm)[4], size_t n)
{
	struct fpm_own_info a, b;
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (fpm_own_get(C.fp[lk[i] >> 32], lk[i], &a) || a.grmode == MODE_NONE)
			continue;
		assert_int_equal(a.epoch, fpm_epoch(C.fp[lk[i] >> 32]));
		for (j = i + 1; j < n; j++) {
			if (strcmp(nm[i], nm[j]) ||
			    fpm_own_get(C.fp[lk[j] >> 32], lk[j], &b) ||
			    b.grmode == MODE_NONE)
				continue;
			assert_true(mode_compat(a.grmode, b.grmode));
		}
	}
}

/*
 * Random requests, conversions, cancels and releases of three nodes on
 * four resources, deliveries in any order between pairs (each pair in
 * order, as the transport delivers) and epoch changes with messages in
 * flight: of the whole membership (the masters stay; an answer of the
 * old epoch is refused, the reports carry what was asked) and of two
 * nodes (the masters move; the node left out processes its exclusion
 * and stops, it stays away unfenced, so what lost its old master is
 * blocked until it is back).  After every step S1 and EP hold (an old
 * grant taken in a later epoch breaks EP: with the epoch check taken out
 * of the core this test fails); at the end, everybody back, everything
 * delivered and released, nothing is outstanding and no master holds a
 * lock: nothing was lost across the epochs.
 */
static void test_random_runs(void **state)
{
	static const char res[4][4] = { "a", "b", "c", "d" };
	static const int modes[3] = { MODE_PR, MODE_EX, MODE_CR };
	uint64_t lk[RUN_LOCKS];
	char nm[RUN_LOCKS][4];
	struct fpm_own_info oi;
	unsigned seed, step, cnt[N + 1], epochs = 0;
	size_t nlk, i, k;
	uint32_t n;

	(void)state;
	for (seed = 1; seed <= 40; seed++) {
		teardown(NULL);
		setup(NULL);
		rng = 0x9e3779b97f4a7c15ull * seed;
		nlk = 0;
		memset(cnt, 0, sizeof(cnt));
		for (step = 0; step < 400; step++) {
			unsigned op = rnd(100);

			n = 1 + rnd(N);
			if (op < 15 && nlk < RUN_LOCKS) {
				k = rnd(4);
				lk[nlk] = LK(n, ++cnt[n]);
				memcpy(nm[nlk], res[k], 4);
				assert_int_equal(fpm_lock(C.fp[n], lk[nlk], res[k], 1,
							  modes[rnd(3)], 0, &C.out), 0);
				collect(n);
				nlk++;
			} else if (op < 35 && nlk) {
				i = rnd((unsigned)nlk);
				n = (uint32_t)(lk[i] >> 32);
				if (fpm_own_get(C.fp[n], lk[i], &oi))
					continue;
				if (op < 25)
					fpm_unlock(C.fp[n], lk[i], 0, 0, NULL, &C.out);
				else if (op < 31)
					fpm_convert(C.fp[n], lk[i], modes[rnd(3)], 0, NULL, &C.out);
				else
					fpm_cancel(C.fp[n], lk[i], &C.out);
				collect(n);
			} else if (op < 98 && C.nnet) {
				/* the oldest packet of a random pair */
				i = rnd((unsigned)C.nnet);
				for (k = 0; k < i; k++)
					if (C.net[k].from == C.net[i].from &&
					    C.net[k].to == C.net[i].to)
						break;
				deliver(k, false);
			} else if (op >= 98 && epochs < 200) {
				static const unsigned masks[4] = { 0xe, 0x6, 0xa, 0xc };
				unsigned mask = masks[rnd(4)];

				confchg(mask, 0xe);
				complete(mask, mask, 0xe & ~mask, false);
				epochs++;
			}
			check_s1(lk, nm, nlk);
		}
		/* everybody back; drain, release everything, drain again */
		epoch_of(0xe, 0);
		for (k = 0; k < 4; k++) {
			flush();
			for (i = 0; i < nlk; i++) {
				n = (uint32_t)(lk[i] >> 32);
				if (!fpm_own_get(C.fp[n], lk[i], &oi) && oi.outstanding) {
					fpm_cancel(C.fp[n], lk[i], &C.out);
					collect(n);
				}
			}
			flush();
			for (i = 0; i < nlk; i++) {
				n = (uint32_t)(lk[i] >> 32);
				fpm_unlock(C.fp[n], lk[i], 0, 0, NULL, &C.out);
				collect(n);
			}
			check_s1(lk, nm, nlk);
		}
		flush();
		for (i = 0; i < nlk; i++)
			assert_int_equal(fpm_own_get(C.fp[lk[i] >> 32], lk[i], &oi), -ENOENT);
		for (n = 1; n <= N; n++)
			assert_int_equal(ls_lock_count(fpm_ls(C.fp[n])), 0);
	}
	assert_true(epochs > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_master_of),
		cmocka_unit_test_setup_teardown(test_local_master_no_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_third_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_convert_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eligibility, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_from_reports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_defers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_conflict_revokes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fenced_incarnation_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_fence_keeps_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_fence_keeps_member_locks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fenced_member_told, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fenced_member_told_at_rebuild, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_needs_every_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_bad_no_epoch_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_bad_remaster_nofence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_noqueue_blocked_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_bad_release_early, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_bad_dup_apply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_bad_stale_eligible, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_bad_rebuild_noold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_confchg_twice_keeps_old_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_lost_lineage_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_bad_round_accept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fm1_later_epoch_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_later_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_runs, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
