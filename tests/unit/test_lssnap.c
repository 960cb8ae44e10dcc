/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_lssnap.c - the lock state as bytes (dlm/core/lssnap.c): snapshot round
 * trips, every corruption the decoder must refuse, the epoch section and
 * its minor 0 compatibility, the digest, and a seeded replay across
 * independent replicas (one rebuilt from a snapshot again and again) with
 * a safety check after every step; and the state transfer around it
 * (dlm/core/lssnap.h: the bookkeeping, then the snapshot): round trip, its
 * golden image (tests/golden/lssnap-sls3.bin, written by the encoder that
 * lived in lsxfer.c before, so old and new nodes read each other), each
 * check of lssnap_decode(), and that no failed decode changes anything.
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
#include "lsfx.h"
#include "lssnap.h"
#include "ondisk_fixture.h"
#include "sdlm.h"

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

/*
 * A lock record's flags are the wire values (docs/protocol.md: NOQUEUE 1,
 * NOQUEUEBAST 2), not the daemon's own LS_LKF_* (lockstate.h
 * ls_lkf_wire): the u32 20 bytes into the record, after lkid, seq and
 * nodeid.
 */
static void test_snapshot_lock_flags_wire(void **state)
{
	const uint64_t lkid = LKID(2, 7);
	struct fx *f = *state, g = { 0 };
	struct ls_lock_info li;
	uint8_t *buf, key[8];
	size_t len, i, at = 0, found = 0;

	build_rich_state(f);
	assert_int_equal(req(f, 2, 7, "flagged", MODE_EX,
			     LS_LKF_NOQUEUE | LS_LKF_NOQUEUEBAST), 0);
	assert_int_equal(ls_lock_get(f->ls, lkid, &li), 0);
	assert_int_equal(li.queue, LS_Q_GRANTED);
	assert_int_equal(li.flags, LS_LKF_NOQUEUE | LS_LKF_NOQUEUEBAST);
	buf = snap(f->ls, &len);
	for (i = 0; i < 8; i++)
		key[i] = (uint8_t)(lkid >> (8 * i));
	for (i = 0; i + 24 <= len; i++)
		if (!memcmp(buf + i, key, sizeof(key))) {
			at = i;
			found++;
		}
	assert_int_equal(found, 1);
	assert_int_equal(buf[at + 20], 3);
	assert_int_equal(buf[at + 21] | buf[at + 22] | buf[at + 23], 0);
	assert_int_equal(ls_snapshot_decode(buf, len, &g.ls), 0);
	assert_int_equal(ls_lock_get(g.ls, lkid, &li), 0);
	assert_int_equal(li.flags, LS_LKF_NOQUEUE | LS_LKF_NOQUEUEBAST);
	assert_int_equal(ls_digest(f->ls), ls_digest(g.ls));
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

/* ---- epochs in the snapshot and the digest ------------------------------ */

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
	/* minor 2 on a minor 1 body: its member section is missing */
	buf[6] = 2;
	recrc(buf, len);
	assert_int_equal(ls_snapshot_decode(buf, len, &g), SDLM_EPROTO);
	/* an unknown minor */
	buf[6] = 3;
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

/*
 * Minor 2: the member records (design-handoff.md F1/F3) travel in the
 * snapshot, and only when there are some: a state without any encodes as
 * minor 1, byte for byte what a node that reads only minor 1 reads.
 */
static void add_records(struct fx *f)
{
	static const uint32_t ids[4] = { 1, 2, 3, 4 };
	static const uint64_t incs[4] = { 0x1111, 0x2222000000000001ULL,
					  0x3333, 0x4444 };
	static const uint16_t protos[4] = { 3, 3, 4, 3 };

	assert_int_equal(ls_apply(f->ls, &(struct ls_event){
		.ev_kind = LS_EV_ROUND, .ev_members = ids,
		.ev_incarnations = incs, .ev_protos = protos,
		.ev_member_count = 4, .ev_proto = 3 }, &f->out), 0);
}

static void test_snapshot_members(void **state)
{
	struct fx *f = *state;
	struct ls_state *g = NULL;
	struct ls_node_info a, b;
	uint8_t *m1, *m2, *again;
	size_t len1, len2, len3, sec, i;
	uint64_t d1;

	build_rich_state(f);
	m1 = snap(f->ls, &len1);
	d1 = ls_digest(f->ls);
	assert_int_equal(m1[6], 1);
	add_records(f);
	m2 = snap(f->ls, &len2);
	assert_int_equal(m2[6], 2);
	sec = 16 * 4;				/* 4 nodes */
	assert_int_equal(len2, len1 + sec);
	assert_true(ls_digest(f->ls) != d1);
	/* everything before the member section is minor 1's, but the
	 * header's minor and length */
	assert_memory_equal(m2 + 48, m1 + 48, len1 - 48 - 8);

	assert_int_equal(ls_snapshot_decode(m2, len2, &g), 0);
	assert_int_equal(ls_digest(g), ls_digest(f->ls));
	for (i = 1; i <= 4; i++) {
		assert_int_equal(ls_node_get(f->ls, (uint32_t)i, &a), 0);
		assert_int_equal(ls_node_get(g, (uint32_t)i, &b), 0);
		assert_int_equal(a.incarnation, b.incarnation);
		assert_int_equal(a.proto, b.proto);
		assert_true(a.incarnation != 0);
	}
	again = snap(g, &len3);
	assert_int_equal(len3, len2);
	assert_memory_equal(again, m2, len2);
	free(again);
	ls_destroy(g);
	g = NULL;

	/* the records cleared (an older node joined): minor 1 again, the
	 * very bytes and digest of before */
	assert_int_equal(ls_apply(f->ls, &(struct ls_event){
		.ev_kind = LS_EV_ROUND, .ev_proto = 2 }, &f->out), 0);
	again = snap(f->ls, &len3);
	assert_int_equal(len3, len1);
	assert_memory_equal(again, m1, len1);
	assert_int_equal(ls_digest(f->ls), d1);
	free(again);

	/* every truncation, and each rule of the section */
	for (i = 0; i < len2; i++) {
		assert_int_equal(ls_snapshot_decode(m2, i, &g), SDLM_EPROTO);
		assert_null(g);
	}
	{
		size_t s0 = len2 - 8 - sec;	/* node 1's record */
		uint8_t *bad = malloc(len2);

		assert_non_null(bad);
		memcpy(bad, m2, len2);
		bad[s0 + 10] = 1;		/* reserved16 */
		recrc(bad, len2);
		assert_int_equal(ls_snapshot_decode(bad, len2, &g), SDLM_EPROTO);
		memcpy(bad, m2, len2);
		bad[s0 + 12] = 1;		/* reserved */
		recrc(bad, len2);
		assert_int_equal(ls_snapshot_decode(bad, len2, &g), SDLM_EPROTO);
		memcpy(bad, m2, len2);
		bad[s0 + 8] = 0;		/* incarnation without proto */
		recrc(bad, len2);
		assert_int_equal(ls_snapshot_decode(bad, len2, &g), SDLM_EPROTO);
		memcpy(bad, m2, len2);
		memset(bad + s0, 0, 8);		/* proto without incarnation */
		recrc(bad, len2);
		assert_int_equal(ls_snapshot_decode(bad, len2, &g), SDLM_EPROTO);
		memcpy(bad, m2, len2);
		memset(bad + s0, 0, sec);	/* minor 2, no record at all */
		recrc(bad, len2);
		assert_int_equal(ls_snapshot_decode(bad, len2, &g), SDLM_EPROTO);
		/* a node without a record among nodes with one is fine */
		memcpy(bad, m2, len2);
		memset(bad + s0, 0, 16);
		recrc(bad, len2);
		assert_int_equal(ls_snapshot_decode(bad, len2, &g), 0);
		assert_int_equal(ls_node_get(g, 1, &a), 0);
		assert_int_equal(a.incarnation, 0);
		assert_int_equal(a.proto, 0);
		ls_destroy(g);
		g = NULL;
		free(bad);
	}
	free(m1);
	free(m2);
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

/* ---- the state transfer: bookkeeping, then the snapshot ----------------- */

/* The golden book: every list non-empty, two transfers. */
static void golden_book(struct lssnap_book *b)
{
	static const uint32_t w35[] = { 3, 5 };

	memset(b, 0, sizeof(*b));
	b->ready[0] = 1;
	b->ready[1] = 2;
	b->n_ready = 2;
	b->tainted[0] = 4;
	b->n_tainted = 1;
	memcpy(b->waiting, w35, sizeof(w35));
	b->n_waiting = 2;
	b->dirty[0] = 3;
	b->n_dirty = 1;
	b->refused[0] = 5;
	b->n_refused = 1;
	b->decided = true;
	b->formed = 0x0102030405060708ull;
	b->gen = 42;
	b->n_xfer = 2;
	b->xf[0].sender = 1;
	b->xf[0].basis_node = 3;
	b->xf[0].xfer_id = 0x1122334455667788ull;
	b->xf[0].basis_inc = 0xa1b2c3d4e5f60718ull;
	b->xf[0].basis_seq = 17;
	b->xf[0].total = 1000;
	b->xf[0].got = 0;
	memcpy(b->xf[0].waiting, w35, sizeof(w35));
	b->xf[0].n_waiting = 2;
	b->xf[1].sender = 2;
	b->xf[1].basis_node = 5;
	b->xf[1].xfer_id = 99;
	b->xf[1].basis_inc = 7;
	b->xf[1].basis_seq = 3;
	b->xf[1].total = 0x30000;
	b->xf[1].got = 0x10000;
	b->xf[1].waiting[0] = 5;
	b->xf[1].n_waiting = 1;
}

/*
 * The small book the checks below edit, and its offsets:
 *	48 ready {1, 2}, 56 waiting {3}, 60 dirty {3},
 *	64 transfer { sender 1, basis 3, total 1000, got 0 }: 64 sender,
 *	68 basis_node, 96 total, 100 got, 104 n, 108 pad, 112 waiting {3},
 *	116 the lock state snapshot.
 */
#define SB_READY	48
#define SB_WAITING	56
#define SB_DIRTY	60
#define SB_XF		64
#define SB_SNAP		116

static void small_book(struct lssnap_book *b)
{
	memset(b, 0, sizeof(*b));
	b->ready[0] = 1;
	b->ready[1] = 2;
	b->n_ready = 2;
	b->waiting[0] = 3;
	b->n_waiting = 1;
	b->dirty[0] = 3;
	b->n_dirty = 1;
	b->formed = 7;
	b->gen = 3;
	b->n_xfer = 1;
	b->xf[0].sender = 1;
	b->xf[0].basis_node = 3;
	b->xf[0].xfer_id = 0x55;
	b->xf[0].basis_inc = 0x66;
	b->xf[0].basis_seq = 9;
	b->xf[0].total = 1000;
	b->xf[0].waiting[0] = 3;
	b->xf[0].n_waiting = 1;
}

/* The transfer of book and ls, of exactly lssnap_size() bytes. */
static uint8_t *xfer_enc(const struct lssnap_book *b, const struct ls_state *ls,
			 size_t *len)
{
	size_t n = lssnap_size(b, ls), w = 0;
	uint8_t *buf = malloc(n);

	assert_non_null(buf);
	assert_int_equal(lssnap_encode(b, ls, buf, n - 1, &w), -ENOSPC);
	assert_int_equal(lssnap_encode(b, ls, buf, n, &w), 0);
	assert_int_equal(w, n);
	*len = n;
	return buf;
}

/* What a receiver had before: any failed decode must leave it so. */
#define SENTINEL_ST	((struct ls_state *)(uintptr_t)0x5a5a)

static void sentinel(struct lssnap_book *b, struct ls_state **st)
{
	memset(b, 0xa5, sizeof(*b));
	b->n_ready = 1;
	b->ready[0] = 9;
	*st = SENTINEL_ST;
}

static void decode_fails(const uint8_t *buf, size_t len, int want)
{
	struct lssnap_book b, before;
	struct ls_state *st;

	sentinel(&b, &st);
	memcpy(&before, &b, sizeof(b));
	assert_int_equal(lssnap_decode(buf, len, &b, &st), want);
	assert_memory_equal(&b, &before, sizeof(b));
	assert_ptr_equal(st, SENTINEL_ST);
}

static void test_xfer_roundtrip(void **state)
{
	struct fx *f = *state;
	struct lssnap_book b, got;
	struct ls_state *st = NULL;
	uint8_t *buf, *buf2;
	size_t len, len2;

	build_rich_state(f);
	golden_book(&b);
	buf = xfer_enc(&b, f->ls, &len);
	/* header, 7 list ids, 2 transfer records with 3 ids, the snapshot */
	assert_int_equal(len, LSSNAP_HDR_LEN + 4 * 7 + 2 * LSSNAP_XFER_LEN +
			      4 * 3 + ls_snapshot_size(f->ls));
	memset(&got, 0xee, sizeof(got));
	assert_int_equal(lssnap_decode(buf, len, &got, &st), 0);
	assert_non_null(st);
	/* the decoder zeroes what it does not use: the whole struct compares */
	assert_memory_equal(&got, &b, sizeof(b));
	assert_int_equal(ls_digest(st), ls_digest(f->ls));
	buf2 = xfer_enc(&got, st, &len2);
	assert_int_equal(len2, len);
	assert_memory_equal(buf2, buf, len);
	free(buf2);
	ls_destroy(st);
	free(buf);

	/* empty lists and no transfer are fine too */
	memset(&b, 0, sizeof(b));
	buf = xfer_enc(&b, f->ls, &len);
	assert_int_equal(len, LSSNAP_HDR_LEN + ls_snapshot_size(f->ls));
	assert_int_equal(lssnap_decode(buf, len, &got, &st), 0);
	assert_memory_equal(&got, &b, sizeof(b));
	ls_destroy(st);
	free(buf);
}

/*
 * Golden bytes.  tests/golden/lssnap-sls3.bin was written by the encoder
 * of lsxfer.c as it was before lssnap.c had the transfer (send_snapshot's
 * wb_u32/wb_u64 calls, fed this book and state): the new encoder writes
 * the same bytes and the new decoder reads them, so nodes of both
 * versions share a lockspace.  A change of the layout fails here: give it
 * a new magic (lssnap.h) and then rewrite the image (SDLM_GOLDEN_WRITE=1).
 */
static void test_xfer_golden(void **state)
{
	struct fx *f = *state;
	struct lssnap_book b, got;
	struct ls_state *st = NULL;
	uint8_t *buf;
	size_t len;

	build_rich_state(f);
	golden_book(&b);
	buf = xfer_enc(&b, f->ls, &len);
	golden_check("lssnap-sls3.bin", buf, len);
	assert_int_equal(lssnap_decode(buf, len, &got, &st), 0);
	assert_memory_equal(&got, &b, sizeof(b));
	assert_int_equal(ls_digest(st), ls_digest(f->ls));
	ls_destroy(st);
	free(buf);
}

/*
 * The same with member records: tests/golden/lssnap-sls3-m2.bin, the
 * framing unchanged around a minor 2 lock state (written by this encoder,
 * SDLM_GOLDEN_WRITE=1, when minor 2 was added): a later change of the
 * minor 2 layout fails here.
 */
static void test_xfer_golden_members(void **state)
{
	struct fx *f = *state;
	struct lssnap_book b, got;
	struct ls_state *st = NULL;
	struct ls_node_info ni;
	uint8_t *buf;
	size_t len;

	build_rich_state(f);
	add_records(f);
	golden_book(&b);
	buf = xfer_enc(&b, f->ls, &len);
	golden_check("lssnap-sls3-m2.bin", buf, len);
	assert_int_equal(lssnap_decode(buf, len, &got, &st), 0);
	assert_memory_equal(&got, &b, sizeof(b));
	assert_int_equal(ls_digest(st), ls_digest(f->ls));
	assert_int_equal(ls_node_get(st, 2, &ni), 0);
	assert_int_equal(ni.incarnation, 0x2222000000000001ULL);
	assert_int_equal(ni.proto, 3);
	ls_destroy(st);
	free(buf);
}

/*
 * The hole of the decoder that lived in lsxfer.c (load_sync): it wrote
 * the ready, waiting, dirty and refused sets, the history and the
 * transfers into the lockspace as it read them, before the lock state's
 * snapshot behind them was decoded.  A transfer whose snapshot does not
 * decode must change nothing.
 */
static void test_xfer_inner_fails_book_untouched(void **state)
{
	struct fx *f = *state;
	struct lssnap_book b;
	uint8_t *buf;
	size_t len;

	build_rich_state(f);
	small_book(&b);
	buf = xfer_enc(&b, f->ls, &len);
	buf[len - 20] ^= 0x01;			/* inside the snapshot: its CRC */
	decode_fails(buf, len, SDLM_ECHECKSUM);
	buf[len - 20] ^= 0x01;
	buf[SB_SNAP] ^= 0x01;			/* the snapshot's magic */
	decode_fails(buf, len, SDLM_EMAGIC);
	buf[SB_SNAP] ^= 0x01;
	decode_fails(buf, SB_SNAP, SDLM_EPROTO);	/* no snapshot at all */
	decode_fails(buf, SB_SNAP + 47, SDLM_EPROTO);
	free(buf);
}

static void put32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Each check of lssnap_decode() (lssnap.h), one edit of the small book's
 * bytes each; nothing of the receiver changes. */
static void test_xfer_checks(void **state)
{
	static const struct {
		const char *what;
		size_t off;
		uint32_t val;
		int rc;
	} cases[] = {
		{ "magic SLS4", 0, 0x34534c53u, SDLM_EMAGIC },
		{ "magic of the lock snapshot", 0, 0x534c4453u, SDLM_EMAGIC },
		{ "n_ready 129", 4, 129, SDLM_EPROTO },
		{ "n_tainted 129", 8, 129, SDLM_EPROTO },
		{ "n_waiting 129", 12, 129, SDLM_EPROTO },
		{ "n_xfer 9", 16, 9, SDLM_EPROTO },
		{ "n_dirty 129", 20, 129, SDLM_EPROTO },
		{ "n_refused 129", 24, 129, SDLM_EPROTO },
		{ "n_ready 2^32-1", 4, 0xffffffffu, SDLM_EPROTO },
		{ "decided 2", 28, 2, SDLM_EPROTO },
		{ "ready: id 0", SB_READY, 0, SDLM_EPROTO },
		{ "ready: not ascending", SB_READY, 3, SDLM_EPROTO },
		{ "ready: an id twice", SB_READY, 2, SDLM_EPROTO },
		{ "waiting: id 0", SB_WAITING, 0, SDLM_EPROTO },
		{ "dirty: id 0", SB_DIRTY, 0, SDLM_EPROTO },
		{ "transfer: sender 0", SB_XF, 0, SDLM_EPROTO },
		{ "transfer: basis node 0", SB_XF + 4, 0, SDLM_EPROTO },
		{ "transfer: got = total", SB_XF + 36, 1000, SDLM_EPROTO },
		{ "transfer: got > total", SB_XF + 36, 1001, SDLM_EPROTO },
		{ "transfer: n_waiting 129", SB_XF + 40, 129, SDLM_EPROTO },
		{ "transfer: pad", SB_XF + 44, 1, SDLM_EPROTO },
		{ "transfer: waiting id 0", SB_XF + 48, 0, SDLM_EPROTO },
	};
	struct fx *f = *state;
	struct lssnap_book b, got;
	struct ls_state *st;
	uint8_t *buf, *bad;
	size_t len, i;

	build_rich_state(f);
	small_book(&b);
	buf = xfer_enc(&b, f->ls, &len);
	bad = malloc(len);
	assert_non_null(bad);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(bad, buf, len);
		put32le(bad + cases[i].off, cases[i].val);
		print_message("lssnap_decode refuses: %s\n", cases[i].what);
		decode_fails(bad, len, cases[i].rc);
	}
	/* lengths: every prefix is refused, and so is a null buffer */
	for (i = 0; i < len; i++)
		decode_fails(buf, i, SDLM_EPROTO);
	decode_fails(NULL, len, SDLM_EPROTO);
	/* lists that claim more ids than the bytes hold */
	memcpy(bad, buf, len);
	put32le(bad + 24, 128);			/* n_refused: 512 bytes */
	decode_fails(bad, SB_XF + 100, SDLM_EPROTO);
	/* got 0 with total 0 is a transfer no chunk of reached yet: fine */
	memcpy(bad, buf, len);
	put32le(bad + SB_XF + 32, 0);
	assert_int_equal(lssnap_decode(bad, len, &got, &st), 0);
	assert_int_equal(got.xf[0].total, 0);
	ls_destroy(st);
	free(bad);
	free(buf);

	/* two transfers with one (sender, xfer_id) */
	b.n_xfer = 2;
	b.xf[1] = b.xf[0];
	b.xf[1].xfer_id = 0x56;
	buf = xfer_enc(&b, f->ls, &len);
	assert_int_equal(lssnap_decode(buf, len, &got, &st), 0);
	ls_destroy(st);
	buf[SB_XF + 52 + 8] = 0x55;		/* the second one's xfer_id */
	decode_fails(buf, len, SDLM_EPROTO);
	free(buf);
}

/* The encoder refuses what the decoder would: what one node sends, every
 * node reads. */
static void test_xfer_encode_refuses(void **state)
{
	struct fx *f = *state;
	struct lssnap_book b;
	uint8_t buf[4096];
	size_t w = 0;

	small_book(&b);
	assert_int_equal(lssnap_encode(&b, f->ls, buf, sizeof(buf), &w), 0);
	b.ready[0] = 2;				/* {2, 2} */
	assert_int_equal(lssnap_encode(&b, f->ls, buf, sizeof(buf), &w), -EINVAL);
	small_book(&b);
	b.waiting[0] = 0;
	assert_int_equal(lssnap_encode(&b, f->ls, buf, sizeof(buf), &w), -EINVAL);
	small_book(&b);
	b.n_dirty = LS_MEMBERS_MAX + 1;
	assert_int_equal(lssnap_encode(&b, f->ls, buf, sizeof(buf), &w), -EINVAL);
	small_book(&b);
	b.n_xfer = LSSNAP_XFER_MAX + 1;
	assert_int_equal(lssnap_encode(&b, f->ls, buf, sizeof(buf), &w), -EINVAL);
	small_book(&b);
	b.xf[0].got = b.xf[0].total;
	assert_int_equal(lssnap_encode(&b, f->ls, buf, sizeof(buf), &w), -EINVAL);
	small_book(&b);
	b.xf[0].sender = 0;
	assert_int_equal(lssnap_encode(&b, f->ls, buf, sizeof(buf), &w), -EINVAL);
	small_book(&b);
	b.n_xfer = 2;
	b.xf[1] = b.xf[0];
	assert_int_equal(lssnap_encode(&b, f->ls, buf, sizeof(buf), &w), -EINVAL);
	small_book(&b);
	assert_int_equal(lssnap_encode(&b, NULL, buf, sizeof(buf), &w), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_snapshot_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_lock_flags_wire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_epoch_in_digest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_epoch_compat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_members, setup, teardown),
		cmocka_unit_test(test_replay),
		cmocka_unit_test_setup_teardown(test_xfer_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xfer_golden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xfer_golden_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xfer_inner_fails_book_untouched,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_xfer_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xfer_encode_refuses, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
