/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_xpmsg.c - what sdlmd's fast-path edge adds to the transport
 * (dlm/core/xpmsg.c): the key derived from corosync's authkey against bytes
 * computed by an independent implementation (Python's hmac), the key's
 * bounds, frames of another cluster or key refused at the tag, the echo
 * message's codec, and the replay rule the edge relies on: once a peer's
 * incarnation is learnt (from its heartbeat slot), a captured frame of an
 * older daemon of that peer, a HELLO included, is refused, and a captured
 * frame of the current one is never delivered twice.
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

#include "sdlm_errors.h"
#include "xport.h"
#include "xpmsg.h"

static uint8_t secret[32];

static int setup_secret(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 32; i++)
		secret[i] = (uint8_t)i;
	return 0;
}

/* python3: hmac.new(bytes(range(32)), b"sdlm-xport-key-v1\0sdlmtest",
 * hashlib.sha256).digest() */
static const uint8_t golden_key[XPM_KEY_LEN] = {
	0xb7, 0x64, 0xb3, 0x3b, 0x88, 0x5d, 0xab, 0xb2, 0x93, 0x62, 0x2f, 0xaf,
	0x2e, 0xd2, 0xa0, 0x3f, 0x22, 0xaa, 0xb0, 0x96, 0xd5, 0xc8, 0x2a, 0x8f,
	0x22, 0xd4, 0x40, 0x40, 0x06, 0x43, 0x4b, 0x62,
};

static void test_key_golden(void **state)
{
	uint8_t k[XPM_KEY_LEN];

	(void)state;
	assert_int_equal(xpmsg_key_derive(secret, sizeof(secret), "sdlmtest", k), 0);
	assert_memory_equal(k, golden_key, XPM_KEY_LEN);
}

static void test_key_bounds(void **state)
{
	uint8_t big[XPM_SECRET_MAX + 1] = { 0 }, k[XPM_KEY_LEN];
	char name[257];

	(void)state;
	assert_int_equal(xpmsg_key_derive(secret, XPM_SECRET_MIN - 1, "c", k), -EINVAL);
	assert_int_equal(xpmsg_key_derive(secret, XPM_SECRET_MIN, "c", k), 0);
	assert_int_equal(xpmsg_key_derive(big, XPM_SECRET_MAX, "c", k), 0);
	assert_int_equal(xpmsg_key_derive(big, XPM_SECRET_MAX + 1, "c", k), -EINVAL);
	assert_int_equal(xpmsg_key_derive(NULL, 32, "c", k), -EINVAL);
	assert_int_equal(xpmsg_key_derive(secret, 32, "", k), -EINVAL);
	assert_int_equal(xpmsg_key_derive(secret, 32, NULL, k), -EINVAL);
	memset(name, 'n', 256);
	name[256] = 0;
	assert_int_equal(xpmsg_key_derive(secret, 32, name, k), -EINVAL);
	name[255] = 0;
	assert_int_equal(xpmsg_key_derive(secret, 32, name, k), 0);
}

/* One DATA frame signed with the key of (secret, cluster). */
static size_t frame_with(const void *s, size_t slen, const char *cluster, uint8_t *buf)
{
	static const uint8_t payload[] = "an echo";
	struct xport_frame f = {
		.f_src_node = 1, .f_dst_node = 2, .f_src_inc = 10, .f_dst_inc = 20,
		.f_seq = 1, .f_payload = payload, .f_len = sizeof(payload),
	};
	uint8_t k[XPM_KEY_LEN];
	struct xport_key xk;
	size_t n = 0;

	assert_int_equal(xpmsg_key_derive(s, slen, cluster, k), 0);
	xport_key_init(&xk, k, sizeof(k));
	assert_int_equal(xport_frame_encode(&f, &xk, buf, XP_FRAME_MAX, &n), 0);
	return n;
}

static void test_other_cluster_or_key_refused(void **state)
{
	uint8_t buf[XP_FRAME_MAX], other[32], k[XPM_KEY_LEN];
	struct xport_key xk;
	struct xport_frame f;
	size_t n;

	(void)state;
	memcpy(other, secret, sizeof(other));
	other[31] ^= 1;
	assert_int_equal(xpmsg_key_derive(secret, sizeof(secret), "sdlmtest", k), 0);
	xport_key_init(&xk, k, sizeof(k));
	n = frame_with(secret, sizeof(secret), "sdlmtest", buf);
	assert_int_equal(xport_frame_decode(buf, n, &xk, &f), 0);
	n = frame_with(secret, sizeof(secret), "sdlmtest2", buf);
	assert_int_equal(xport_frame_decode(buf, n, &xk, &f), -EBADMSG);
	n = frame_with(other, sizeof(other), "sdlmtest", buf);
	assert_int_equal(xport_frame_decode(buf, n, &xk, &f), -EBADMSG);
	/* the authkey itself, underived, is not the key */
	xport_key_init(&xk, secret, sizeof(secret));
	n = frame_with(secret, sizeof(secret), "sdlmtest", buf);
	assert_int_equal(xport_frame_decode(buf, n, &xk, &f), -EBADMSG);
}

static void test_echo_codec(void **state)
{
	static const uint8_t golden[XPM_ECHO_LEN] = {
		2, 0, 0, 0, 0, 0, 0, 0,
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
		0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88,
	};
	struct xpm_echo e = { .type = XPM_ECHO_REPLY, .id = 0x0102030405060708ull,
			      .stamp = 0x8899aabbccddeeffull }, d;
	uint8_t buf[XPM_ECHO_LEN + 1];
	int i;

	(void)state;
	assert_int_equal(xpmsg_echo_encode(&e, buf), 0);
	assert_memory_equal(buf, golden, XPM_ECHO_LEN);
	assert_int_equal(xpmsg_echo_decode(buf, XPM_ECHO_LEN, &d), 0);
	assert_true(d.type == e.type && d.id == e.id && d.stamp == e.stamp);
	/* lengths, types, reserved bytes, id 0: each refused */
	assert_int_equal(xpmsg_echo_decode(buf, XPM_ECHO_LEN - 1, &d), SDLM_EPROTO);
	assert_int_equal(xpmsg_echo_decode(buf, XPM_ECHO_LEN + 1, &d), SDLM_EPROTO);
	for (i = 0; i < 256; i++) {
		buf[0] = (uint8_t)i;
		assert_int_equal(xpmsg_echo_decode(buf, XPM_ECHO_LEN, &d),
				 i == XPM_ECHO_REQ || i == XPM_ECHO_REPLY ? 0 : SDLM_EPROTO);
	}
	buf[0] = XPM_ECHO_REQ;
	for (i = 1; i < 8; i++) {
		buf[i] = 0x40;
		assert_int_equal(xpmsg_echo_decode(buf, XPM_ECHO_LEN, &d), SDLM_EPROTO);
		buf[i] = 0;
	}
	memset(buf + 8, 0, 8);
	assert_int_equal(xpmsg_echo_decode(buf, XPM_ECHO_LEN, &d), SDLM_EPROTO);
	assert_true(d.id == 0 && d.type == 0);
	e.id = 0;
	assert_int_equal(xpmsg_echo_encode(&e, buf), -EINVAL);
	e.id = 1;
	e.type = 3;
	assert_int_equal(xpmsg_echo_encode(&e, buf), -EINVAL);
}

/* ---- replay, as the edge composes the transport ---- */

struct ep {
	struct xport *xp;
	struct xport_out out;
};

static void ep_new(struct ep *e, uint32_t node, uint64_t inc)
{
	uint8_t k[XPM_KEY_LEN];
	struct xport_cfg c = { .node = node, .incarnation = inc, .key = k,
			       .keylen = sizeof(k), .max_peers = 4 };

	assert_int_equal(xpmsg_key_derive(secret, sizeof(secret), "sdlmtest", k), 0);
	assert_int_equal(xport_new(&c, &e->xp), 0);
}

struct held {
	uint8_t buf[XP_FRAME_MAX];
	size_t len;
};

static void hold(struct held *h, const struct xport_out *o, unsigned i)
{
	assert_true(i < o->ntx);
	memcpy(h->buf, o->tx[i].buf, o->tx[i].len);
	h->len = o->tx[i].len;
}

static int give(struct ep *e, const struct held *h, uint64_t now)
{
	return xport_input(e->xp, h->buf, h->len, now, &e->out);
}

static void test_replay(void **state)
{
	uint8_t echo[XPM_ECHO_LEN];
	struct xpm_echo m = { .type = XPM_ECHO_REQ, .id = 1, .stamp = 5 };
	struct held hello_old, data_old, ack, h;
	struct ep a, b, a2;

	(void)state;
	xpmsg_echo_encode(&m, echo);
	ep_new(&a, 1, 100);
	ep_new(&b, 2, 200);
	/* 1 does not know 2: a HELLO, answered; the echo follows */
	assert_int_equal(xport_send(a.xp, 2, 0, echo, sizeof(echo), 1000, &a.out), 0);
	hold(&hello_old, &a.out, 0);
	assert_int_equal(give(&b, &hello_old, 1100), 0);
	hold(&ack, &b.out, 0);
	assert_int_equal(give(&a, &ack, 1200), 0);
	hold(&data_old, &a.out, 0);
	assert_int_equal(give(&b, &data_old, 1300), 0);
	assert_int_equal(b.out.nrx, 1);
	/* the same DATA frame captured and replayed: acknowledged again,
	 * never delivered twice */
	assert_int_equal(give(&b, &data_old, 1400), 0);
	assert_int_equal(b.out.nrx, 0);
	assert_int_equal(b.out.ntx, 1);
	/* 1 restarts (incarnation 101); 2 restarts too (201) and, as the
	 * edge does at its first tick, learns 1's from its heartbeat slot */
	ep_new(&a2, 1, 101);
	xport_free(b.xp);
	ep_new(&b, 2, 201);
	assert_int_equal(xport_peer_learn(b.xp, 1, 101, 2000, &b.out), 0);
	/* the old daemon's HELLO and DATA, replayed: refused, nothing
	 * learnt, nothing delivered */
	assert_int_equal(give(&b, &hello_old, 2100), -ESTALE);
	assert_int_equal(give(&b, &data_old, 2200), -ESTALE);
	assert_int_equal(b.out.nrx, 0);
	/* the live daemon still gets through, once */
	assert_int_equal(xport_send(a2.xp, 2, 0, echo, sizeof(echo), 2300, &a2.out), 0);
	hold(&h, &a2.out, 0);
	assert_int_equal(give(&b, &h, 2400), 0);
	hold(&ack, &b.out, 0);
	assert_int_equal(give(&a2, &ack, 2500), 0);
	hold(&h, &a2.out, 0);
	assert_int_equal(give(&b, &h, 2600), 0);
	assert_int_equal(b.out.nrx, 1);
	assert_int_equal(give(&b, &h, 2700), 0);
	assert_int_equal(b.out.nrx, 0);
	xport_free(a.xp);
	xport_free(a2.xp);
	xport_free(b.xp);
}

/*
 * The edge's peer table is sized by corosync's nodelist.  An authentic
 * frame from a node the nodelist does not name (a nodelist grown since
 * sdlmd started, or any holder of the key writing another src_node) must
 * not take the place of a node it does name: such a frame is refused
 * after its tag, and a nodelist peer heard later still gets through
 * (review s26-rev-xport X2).
 */
static void edge_ep(struct ep *e, uint32_t node, uint64_t inc,
		    const uint32_t *nodelist, unsigned n)
{
	uint8_t k[XPM_KEY_LEN];
	struct xport_cfg c = { .node = node, .incarnation = inc, .key = k,
			       .keylen = sizeof(k) };
	uint32_t ids[8];
	unsigned i, m = 0;

	/* as xpedge_setup(): the other nodes of the nodelist, and no other */
	assert_true(n <= 8);
	for (i = 0; i < n; i++)
		if (nodelist[i] != node)
			ids[m++] = nodelist[i];
	c.peers = ids;
	c.npeers = m;
	assert_int_equal(xpmsg_key_derive(secret, sizeof(secret), "sdlmtest", k), 0);
	assert_int_equal(xport_new(&c, &e->xp), 0);
}

static void test_stranger_takes_no_peer_slot(void **state)
{
	static const uint32_t nodelist[] = { 1, 2, 3 };
	struct ep a, s;
	struct held hello;
	uint32_t n;

	(void)state;
	edge_ep(&a, 1, 100, nodelist, 3);
	/* two nodes the nodelist does not name say HELLO (authentic) */
	for (n = 8; n <= 9; n++) {
		ep_new(&s, n, n * 10);
		assert_int_equal(xport_send(s.xp, 1, 0, "x", 1, 1000, &s.out), 0);
		hold(&hello, &s.out, 0);
		assert_int_equal(give(&a, &hello, 1100), -EPERM);
		assert_int_equal(a.out.ntx, 0);		/* not answered */
		xport_free(s.xp);
	}
	/* node 3 of the nodelist, heard after them: answered */
	ep_new(&s, 3, 300);
	assert_int_equal(xport_send(s.xp, 1, 0, "x", 1, 1200, &s.out), 0);
	hold(&hello, &s.out, 0);
	assert_int_equal(give(&a, &hello, 1300), 0);
	assert_int_equal(a.out.ntx, 1);
	xport_free(s.xp);
	/* and node 1 can send to node 2, which it has not heard yet */
	assert_int_equal(xport_send(a.xp, 2, 0, "x", 1, 1400, &a.out), 0);
	xport_free(a.xp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_golden),
		cmocka_unit_test(test_key_bounds),
		cmocka_unit_test(test_other_cluster_or_key_refused),
		cmocka_unit_test(test_echo_codec),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_stranger_takes_no_peer_slot),
	};

	return cmocka_run_group_tests(tests, setup_secret, NULL);
}
