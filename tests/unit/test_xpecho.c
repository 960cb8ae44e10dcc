/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_xpecho.c - the edge's echo (dlm/core/xpecho.c), the decisions
 * sdlmd's xpedge.c only carries out: one request outstanding per peer,
 * given up after max(10 s, 10 intervals), a request answered with its id
 * and stamp, a reply taken only when it is the outstanding request's, a
 * reset forgetting it, and anything else refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sdlm_errors.h"
#include "xpecho.h"

#define MS	1000000ULL
#define S	1000000000ULL

static const uint32_t peers[] = { 2, 3 };

static struct xpecho *mk(uint64_t interval)
{
	struct xpecho *e;

	assert_int_equal(xpecho_new(peers, 2, interval, &e), 0);
	return e;
}

static struct xpm_echo dec(const uint8_t *b)
{
	struct xpm_echo m;

	assert_int_equal(xpmsg_echo_decode(b, XPM_ECHO_LEN, &m), 0);
	return m;
}

static void enc(uint8_t type, uint64_t id, uint64_t stamp, uint8_t b[XPM_ECHO_LEN])
{
	struct xpm_echo m = { .type = type, .id = id, .stamp = stamp };

	assert_int_equal(xpmsg_echo_encode(&m, b), 0);
}

static struct xpe_figures fig(const struct xpecho *e, uint32_t node)
{
	struct xpe_figures f;

	assert_int_equal(xpecho_figures(e, node, &f), 0);
	return f;
}

static void test_new_refuses(void **state)
{
	static const uint32_t twice[] = { 2, 2 }, zero[] = { 0 };
	struct xpecho *e;

	(void)state;
	assert_int_equal(xpecho_new(twice, 2, S, &e), -EINVAL);
	assert_null(e);
	assert_int_equal(xpecho_new(zero, 1, S, &e), -EINVAL);
	assert_int_equal(xpecho_new(peers, 0, S, &e), -EINVAL);
	assert_int_equal(xpecho_new(peers, 2, 0, &e), -EINVAL);
}

static void test_one_outstanding_and_give_up(void **state)
{
	struct xpecho *e = mk(S);
	uint8_t b[XPM_ECHO_LEN];
	struct xpm_echo m;

	(void)state;
	assert_int_equal(xpecho_request(e, 2, 100 * MS, b), 1);
	m = dec(b);
	assert_true(m.type == XPM_ECHO_REQ && m.id == 1 && m.stamp == 100 * MS);
	/* not taken by the transport: the next tick makes another */
	assert_int_equal(xpecho_request(e, 2, 1100 * MS, b), 1);
	assert_true(dec(b).id == 2);
	xpecho_sent(e, 2, 1100 * MS);
	assert_true(fig(e, 2).outstanding && fig(e, 2).sent == 1);
	/* outstanding: nothing more until the give-up time, 10 s at 1 s */
	assert_int_equal(xpecho_request(e, 2, 2100 * MS, b), 0);
	assert_int_equal(xpecho_request(e, 2, 11100 * MS - 1, b), 0);
	assert_int_equal(xpecho_request(e, 2, 11100 * MS, b), 1);
	assert_true(dec(b).id == 3);
	/* the other peer is on its own */
	assert_int_equal(xpecho_request(e, 3, 2100 * MS, b), 1);
	assert_true(dec(b).id == 1);
	assert_int_equal(xpecho_request(e, 4, 2100 * MS, b), -ENOENT);
	xpecho_free(e);
	/* at 3 s intervals the give-up time is 10 intervals */
	e = mk(3 * S);
	assert_int_equal(xpecho_request(e, 2, 0, b), 1);
	xpecho_sent(e, 2, 0);
	assert_int_equal(xpecho_request(e, 2, 30 * S - 1, b), 0);
	assert_int_equal(xpecho_request(e, 2, 30 * S, b), 1);
	xpecho_free(e);
}

static void test_request_answered(void **state)
{
	struct xpecho *e = mk(S);
	uint8_t in[XPM_ECHO_LEN], b[XPM_ECHO_LEN];
	struct xpm_echo m;

	(void)state;
	enc(XPM_ECHO_REQ, 77, 0x1122334455667788ULL, in);
	assert_int_equal(xpecho_input(e, 3, in, sizeof(in), 5 * S, b), XPE_REPLY);
	m = dec(b);
	assert_true(m.type == XPM_ECHO_REPLY && m.id == 77 &&
		    m.stamp == 0x1122334455667788ULL);
	/* answering takes no round trip of ours */
	assert_int_equal(fig(e, 3).replies, 0);
	xpecho_free(e);
}

static void test_reply_taken_once(void **state)
{
	struct xpecho *e = mk(S);
	uint8_t b[XPM_ECHO_LEN], r[XPM_ECHO_LEN];
	struct xpe_figures f;
	struct xpm_echo m;

	(void)state;
	assert_int_equal(xpecho_request(e, 2, 100 * MS, b), 1);
	xpecho_sent(e, 2, 100 * MS);
	m = dec(b);
	enc(XPM_ECHO_REPLY, m.id, m.stamp, r);
	assert_int_equal(xpecho_input(e, 2, r, sizeof(r), 103 * MS, b), XPE_RTT);
	f = fig(e, 2);
	assert_true(f.replies == 1 && f.rtt_last == 3 * MS && f.rtt_min == 3 * MS &&
		    f.rtt_max == 3 * MS && f.rtt_sum == 3 * MS && !f.outstanding);
	/* the same reply again (a duplicate the lock layer would see as
	 * well): not taken */
	assert_int_equal(xpecho_input(e, 2, r, sizeof(r), 104 * MS, b), XPE_IGNORED);
	assert_int_equal(fig(e, 2).replies, 1);
	/* a second round trip: the figures move */
	assert_int_equal(xpecho_request(e, 2, 1100 * MS, b), 1);
	xpecho_sent(e, 2, 1100 * MS);
	m = dec(b);
	enc(XPM_ECHO_REPLY, m.id, m.stamp, r);
	assert_int_equal(xpecho_input(e, 2, r, sizeof(r), 1101 * MS, b), XPE_RTT);
	f = fig(e, 2);
	assert_true(f.replies == 2 && f.rtt_last == 1 * MS && f.rtt_min == 1 * MS &&
		    f.rtt_max == 3 * MS && f.rtt_sum == 4 * MS);
	/* a reply of another id: not ours */
	assert_int_equal(xpecho_request(e, 2, 2100 * MS, b), 1);
	xpecho_sent(e, 2, 2100 * MS);
	m = dec(b);
	enc(XPM_ECHO_REPLY, m.id + 1, m.stamp, r);
	assert_int_equal(xpecho_input(e, 2, r, sizeof(r), 2101 * MS, b), XPE_IGNORED);
	assert_true(fig(e, 2).outstanding && fig(e, 2).ignored == 2);
	xpecho_free(e);
}

/*
 * The round trip is our own clock: the send of the request the reply
 * answers to the reply's delivery.  It was the reply's stamp subtracted
 * from now, so a peer (or any holder of the key) could make our estimate
 * anything, from 0 to hours (review s26-rev-xport O1).  A reply whose
 * stamp is not the one we sent did not return it unchanged: not ours.
 */
static void test_rtt_from_own_send(void **state)
{
	struct xpecho *e = mk(S);
	uint8_t b[XPM_ECHO_LEN], r[XPM_ECHO_LEN];
	struct xpm_echo m;

	(void)state;
	/* the request is made at a tick, the transport takes it later */
	assert_int_equal(xpecho_request(e, 2, 3600 * S, b), 1);
	xpecho_sent(e, 2, 3600 * S);
	m = dec(b);
	/* the right id, a stamp an hour back: no round trip of an hour */
	enc(XPM_ECHO_REPLY, m.id, m.stamp - 3600 * S, r);
	assert_int_equal(xpecho_input(e, 2, r, sizeof(r), 3600 * S + 2 * MS, b), XPE_IGNORED);
	/* the right id, a stamp of the future: no round trip of 0 */
	enc(XPM_ECHO_REPLY, m.id, 3600 * S + 2 * MS, r);
	assert_int_equal(xpecho_input(e, 2, r, sizeof(r), 3600 * S + 2 * MS, b), XPE_IGNORED);
	assert_int_equal(fig(e, 2).replies, 0);
	assert_true(fig(e, 2).outstanding);
	/* the true reply: 3 ms by our clock */
	enc(XPM_ECHO_REPLY, m.id, m.stamp, r);
	assert_int_equal(xpecho_input(e, 2, r, sizeof(r), 3600 * S + 3 * MS, b), XPE_RTT);
	assert_true(fig(e, 2).rtt_last == 3 * MS);
	xpecho_free(e);
}

static void test_reset_forgets(void **state)
{
	struct xpecho *e = mk(S);
	uint8_t b[XPM_ECHO_LEN], r[XPM_ECHO_LEN];
	struct xpm_echo m;

	(void)state;
	assert_int_equal(xpecho_request(e, 2, 0, b), 1);
	xpecho_sent(e, 2, 0);
	m = dec(b);
	xpecho_reset(e, 2);
	assert_false(fig(e, 2).outstanding);
	/* its reply, if it still came, is not taken; a request goes at once */
	enc(XPM_ECHO_REPLY, m.id, m.stamp, r);
	assert_int_equal(xpecho_input(e, 2, r, sizeof(r), 1 * MS, b), XPE_IGNORED);
	assert_int_equal(xpecho_request(e, 2, 2 * MS, b), 1);
	xpecho_free(e);
}

static void test_not_an_echo(void **state)
{
	struct xpecho *e = mk(S);
	uint8_t in[XPM_ECHO_LEN + 1], b[XPM_ECHO_LEN];

	(void)state;
	enc(XPM_ECHO_REQ, 1, 0, in);
	assert_int_equal(xpecho_input(e, 2, in, XPM_ECHO_LEN - 1, 0, b), SDLM_EPROTO);
	assert_int_equal(xpecho_input(e, 2, in, XPM_ECHO_LEN + 1, 0, b), SDLM_EPROTO);
	in[0] = 16;	/* a P_* type of the masters, not known here */
	assert_int_equal(xpecho_input(e, 2, in, XPM_ECHO_LEN, 0, b), SDLM_EPROTO);
	in[0] = XPM_ECHO_REQ;
	in[3] = 1;	/* reserved */
	assert_int_equal(xpecho_input(e, 2, in, XPM_ECHO_LEN, 0, b), SDLM_EPROTO);
	in[3] = 0;
	assert_int_equal(xpecho_input(e, 9, in, XPM_ECHO_LEN, 0, b), -ENOENT);
	xpecho_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_refuses),
		cmocka_unit_test(test_one_outstanding_and_give_up),
		cmocka_unit_test(test_request_answered),
		cmocka_unit_test(test_reply_taken_once),
		cmocka_unit_test(test_rtt_from_own_send),
		cmocka_unit_test(test_reset_forgets),
		cmocka_unit_test(test_not_an_echo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
