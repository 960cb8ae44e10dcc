/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_fpmsg.c - unit tests of dlm/core/fpmsg.c, the fast path's P_*
 * messages: the codec against bytes written by hand from the table in
 * fpmsg.h, and every check of the decoder's list, one mutation each.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fpmsg.h"
#include "lockstate.h"
#include "modes.h"
#include "sdlm_errors.h"

#define LK(n, c)	((uint64_t)(n) << 32 | (c))

/* P_GRANT, EX, lvb 0xa5 x32, name "uid:7", epoch 3, rid 9,
 * lkid 2<<32|5, token 3<<32|4: written from the table, not the encoder */
static const uint8_t golden_grant[] = {
	21, 5, 0, 1, 5, 0, 0, 0,
	3, 0, 0, 0, 0, 0, 0, 0,
	9, 0, 0, 0, 0, 0, 0, 0,
	5, 0, 0, 0, 2, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0,
	4, 0, 0, 0, 3, 0, 0, 0,
	0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5,
	0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5,
	0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5,
	0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5,
	'u', 'i', 'd', ':', '7',
};

/* P_FAIL, mode none, err SDLM_EBUSY (-1017 = 0xfffffc07), name "r",
 * epoch 1, rid 0x0102030405060708, lkid 1<<32|1 */
static const uint8_t golden_fail[] = {
	22, 0xff, 0, 0, 1, 0, 0, 0,
	1, 0, 0, 0, 0, 0, 0, 0,
	0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
	1, 0, 0, 0, 1, 0, 0, 0,
	0x07, 0xfc, 0xff, 0xff, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0,
	'r',
};

static void test_msg_golden(void **state)
{
	struct fpm_msg m, d;
	uint8_t buf[FPM_MSG_MAX];
	size_t n;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = FPM_P_GRANT;
	m.mode = MODE_EX;
	m.lvb_valid = true;
	memset(m.lvb, 0xa5, LS_LVB_LEN);
	m.namelen = 5;
	memcpy(m.name, "uid:7", 5);
	m.epoch = 3;
	m.rid = 9;
	m.lkid = LK(2, 5);
	m.token = (uint64_t)3 << 32 | 4;
	assert_int_equal(fpm_msg_encode(&m, buf, sizeof(buf), &n), 0);
	assert_int_equal(n, sizeof(golden_grant));
	assert_memory_equal(buf, golden_grant, n);
	assert_int_equal(fpm_msg_decode(golden_grant, sizeof(golden_grant), &d), 0);
	assert_memory_equal(&d, &m, sizeof(m));

	memset(&m, 0, sizeof(m));
	m.type = FPM_P_FAIL;
	m.mode = MODE_NONE;
	m.err = SDLM_EBUSY;
	m.namelen = 1;
	m.name[0] = 'r';
	m.epoch = 1;
	m.rid = 0x0102030405060708ull;
	m.lkid = LK(1, 1);
	assert_int_equal(fpm_msg_encode(&m, buf, sizeof(buf), &n), 0);
	assert_int_equal(n, sizeof(golden_fail));
	assert_memory_equal(buf, golden_fail, n);
	assert_int_equal(fpm_msg_decode(golden_fail, sizeof(golden_fail), &d), 0);
	assert_memory_equal(&d, &m, sizeof(m));
	assert_int_equal(fpm_msg_encode(&m, buf, n - 1, &n), -ENOSPC);
	assert_string_equal(fpm_type_name(FPM_P_BAST), "P_BAST");
	assert_string_equal(fpm_type_name(3), "?");
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		if (*b++)
			return false;
	return true;
}

/* golden_grant with byte off set to v: refused */
static void refused(const uint8_t *base, size_t len, size_t off, uint8_t v)
{
	uint8_t buf[FPM_MSG_MAX + 8];
	struct fpm_msg d;

	memcpy(buf, base, len);
	buf[off] = v;
	assert_int_equal(fpm_msg_decode(buf, len, &d), SDLM_EPROTO);
	assert_true(all_zero(&d, sizeof(d)));
}

/* Every check of the list in fpmsg.h, one mutation each. */
static void test_msg_decode_checks(void **state)
{
	const uint8_t *g = golden_grant, *f = golden_fail;
	size_t gl = sizeof(golden_grant), fl = sizeof(golden_fail);
	uint8_t buf[FPM_MSG_MAX + 8];
	struct fpm_msg d;

	(void)state;
	/* lengths */
	assert_int_equal(fpm_msg_decode(g, FPM_HDR_LEN, &d), SDLM_EPROTO);
	assert_int_equal(fpm_msg_decode(g, gl - 1, &d), SDLM_EPROTO);
	memcpy(buf, g, gl);
	buf[gl] = 'x';
	assert_int_equal(fpm_msg_decode(buf, gl + 1, &d), SDLM_EPROTO);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(fpm_msg_decode(buf, FPM_MSG_MAX + 1, &d), SDLM_EPROTO);
	/* type */
	refused(g, gl, 0, 15);
	refused(g, gl, 0, 23);
	refused(g, gl, 0, 1);	/* the echo's */
	/* reserved */
	refused(g, gl, 5, 1);
	refused(g, gl, 7, 1);
	refused(g, gl, 36, 1);
	refused(g, gl, 39, 0x80);
	/* has_lvb, namelen: a length lie either way */
	refused(g, gl, 3, 2);
	refused(g, gl, 3, 0);
	refused(g, gl, 4, 0);
	refused(g, gl, 4, 6);
	refused(g, gl, 4, 4);
	refused(g, gl, 4, SDLM_NAME_MAX + 1);
	/* epoch 0, above 2^32-1; lkid 0 / of node 0 */
	memcpy(buf, g, gl);
	memset(buf + 8, 0, 8);
	assert_int_equal(fpm_msg_decode(buf, gl, &d), SDLM_EPROTO);
	refused(g, gl, 12, 1);
	refused(g, gl, 28, 0);
	memcpy(buf, g, gl);
	memset(buf + 24, 0, 8);
	assert_int_equal(fpm_msg_decode(buf, gl, &d), SDLM_EPROTO);
	/* rid 0 outside P_BAST; non-zero in P_BAST */
	refused(g, gl, 16, 0);
	memcpy(buf, g, gl);
	buf[0] = FPM_P_BAST;
	buf[3] = 0;
	memmove(buf + FPM_HDR_LEN, buf + FPM_HDR_LEN + LS_LVB_LEN, 5);
	memset(buf + 40, 0, 8);
	assert_int_equal(fpm_msg_decode(buf, FPM_HDR_LEN + 5, &d), SDLM_EPROTO);
	memset(buf + 16, 0, 8);
	assert_int_equal(fpm_msg_decode(buf, FPM_HDR_LEN + 5, &d), 0);
	assert_int_equal(d.type, FPM_P_BAST);
	/* mode: invalid in a grant, none in a grant, a mode in a cancel */
	refused(g, gl, 1, 6);
	refused(g, gl, 1, 0xff);
	memcpy(buf, f, fl);
	buf[0] = FPM_P_CANCEL;
	buf[32] = buf[33] = buf[34] = buf[35] = 0;
	assert_int_equal(fpm_msg_decode(buf, fl, &d), 0);
	refused(buf, fl, 1, MODE_NL);
	/* flags: none allowed in a grant, IVVALBLK not in a request */
	refused(g, gl, 2, (uint8_t)ls_lkf_wire(LS_LKF_NOQUEUE));
	memcpy(buf, f, fl);
	buf[0] = FPM_P_REQUEST;
	buf[1] = MODE_PR;
	buf[32] = buf[33] = buf[34] = buf[35] = 0;
	buf[2] = (uint8_t)ls_lkf_wire(LS_LKF_NOQUEUE | LS_LKF_NOQUEUEBAST);
	assert_int_equal(fpm_msg_decode(buf, fl, &d), 0);
	assert_int_equal(d.flags, LS_LKF_NOQUEUE | LS_LKF_NOQUEUEBAST);
	refused(buf, fl, 2, (uint8_t)ls_lkf_wire(LS_LKF_IVVALBLK));
	/* a value block in a request */
	memcpy(buf, g, gl);
	buf[0] = FPM_P_REQUEST;
	memset(buf + 40, 0, 8);
	assert_int_equal(fpm_msg_decode(buf, gl, &d), SDLM_EPROTO);
	buf[0] = FPM_P_CONVERT;
	assert_int_equal(fpm_msg_decode(buf, gl, &d), 0);
	/* err: 0 in a grant, negative in a fail */
	refused(g, gl, 32, 1);
	memcpy(buf, f, fl);
	buf[32] = buf[33] = buf[34] = buf[35] = 0;
	assert_int_equal(fpm_msg_decode(buf, fl, &d), SDLM_EPROTO);
	buf[32] = 1;
	assert_int_equal(fpm_msg_decode(buf, fl, &d), SDLM_EPROTO);
	/* token outside a grant */
	refused(f, fl, 40, 1);
	/* the encoder refuses what the decoder would */
	memset(&d, 0, sizeof(d));
	d.type = FPM_P_RELEASE;
	d.mode = MODE_NONE;
	d.namelen = 1;
	d.epoch = 1;
	d.rid = 1;
	d.lkid = LK(1, 1);
	assert_int_equal(fpm_msg_encode(&d, buf, sizeof(buf), &gl), 0);
	d.flags = LS_LKF_NOQUEUE;
	assert_int_equal(fpm_msg_encode(&d, buf, sizeof(buf), &gl), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msg_golden),
		cmocka_unit_test(test_msg_decode_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
