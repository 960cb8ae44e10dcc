/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_timeouts.c - timeouts_derive and the profiles.
 *
 * The formulas are recomputed here from docs/timeouts.md rather than
 * copied from timeouts.c, so a changed formula fails until both agree.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sdlm.h"
#include "timeouts.h"

static struct sdlm_timeouts_base base_of(uint32_t t, uint32_t i, uint32_t w,
					 uint32_t m)
{
	struct sdlm_timeouts_base b = {
		.io_timeout_ms = t, .hb_interval_ms = i,
		.watchdog_ms = w, .membership_ms = m,
	};
	return b;
}

static void test_default_profile(void **state)
{
	struct sdlm_timeouts_base b;
	struct sdlm_timeouts t;
	const char *why = "unset";
	uint64_t i, io, w;

	(void)state;
	assert_int_equal(timeouts_profile("default", &b), 0);
	assert_int_equal(b.hb_interval_ms, 1000);
	assert_int_equal(b.io_timeout_ms, 1000);
	assert_int_equal(b.watchdog_ms, 5000);
	assert_int_equal(b.membership_ms, 0);
	assert_int_equal(timeouts_derive(&b, &t, &why), 0);
	assert_null(why);

	i = b.hb_interval_ms;
	io = b.io_timeout_ms;
	w = b.watchdog_ms;
	assert_int_equal(t.lease_ms, 2 * i + io);
	assert_int_equal(t.dead_ms, (2 * i + io) + w + io + i);
	assert_int_equal(t.ack_ms, 2 * i + 4 * io);
	assert_int_equal(t.self_fence_ms, t.lease_ms + w);
	/* The anchors: dead path within SBD's msgwait = 2 W = 10 s. */
	assert_true(t.dead_ms <= 2 * w);
	assert_true(t.dead_ms <= 10000);
	/* Worst-case ack (every I/O at its deadline) below the dead bound,
	 * and with instant I/O it is exactly two heartbeat intervals. */
	assert_true(t.ack_ms < t.dead_ms);
	assert_int_equal(t.ack_ms - 4 * io, 2 * i);
	assert_memory_equal(&t.base, &b, sizeof(b));
}

static void test_test_profile(void **state)
{
	struct sdlm_timeouts_base b, d;
	struct sdlm_timeouts t, td;
	const char *why = "unset";

	(void)state;
	assert_int_equal(timeouts_profile("test", &b), 0);
	assert_int_equal(timeouts_derive(&b, &t, &why), 0);
	assert_null(why);
	assert_int_equal(timeouts_profile("default", &d), 0);
	assert_int_equal(timeouts_derive(&d, &td, NULL), 0);
	/* Slower in every bound that a stall could trip. */
	assert_true(t.lease_ms > td.lease_ms);
	assert_true(b.io_timeout_ms > d.io_timeout_ms);
	assert_true(b.watchdog_ms > d.watchdog_ms);
	assert_int_equal(t.dead_ms, t.lease_ms + b.watchdog_ms +
				    b.io_timeout_ms + b.hb_interval_ms);

	/* A membership skew is kept but adds nothing to D since issue 19
	 * (a lapsed lease fences a node quorate or not): corosync's timing
	 * is paid once, in its own detection, not again inside D. */
	b.membership_ms = 6600;
	assert_int_equal(timeouts_derive(&b, &td, NULL), 0);
	assert_int_equal(td.dead_ms, t.dead_ms);
	assert_int_equal(td.lease_ms, t.lease_ms);
	assert_int_equal(td.base.membership_ms, 6600);
	/* ... except for a victim of an older build (no LAPSE_FENCES in its
	 * heartbeat, a rolling upgrade): D + M, from max(f, a). */
	assert_int_equal(td.dead_legacy_ms, t.dead_ms + 6600);
	assert_int_equal(t.dead_legacy_ms, t.dead_ms);	/* M = 0 */

	/* The default profile with corosync's default timing for 3 nodes
	 * (token 3000 + 650, consensus 1.2 x token): still D = 10 s. */
	d.membership_ms = 3650 + 4380;
	assert_int_equal(timeouts_derive(&d, &td, NULL), 0);
	assert_int_equal(td.dead_ms, 10000);
}

static void test_unknown_profile(void **state)
{
	struct sdlm_timeouts_base b;

	(void)state;
	assert_int_equal(timeouts_profile("fast", &b), -ENOENT);
	assert_int_equal(timeouts_profile(NULL, &b), -EINVAL);
	assert_int_equal(timeouts_profile("default", NULL), -EINVAL);
}

struct bad_case {
	struct sdlm_timeouts_base b;
	const char *needle;		/* a word the reason must contain */
};

static void test_rejects(void **state)
{
	const struct bad_case cases[] = {
		{ base_of(1000, 99, 5000, 0), "below 100 ms" },
		{ base_of(1000, 60001, 200000, 0), "above 60 s" },
		{ base_of(9, 1000, 5000, 0), "below 10 ms" },
		{ base_of(3001, 1000, 8000, 0), "above 3 heartbeat" },
		{ base_of(1000, 1000, 5500, 0), "whole number" },
		{ base_of(1000, 1000, 0, 0), "whole number" },
		{ base_of(1000, 3000, 5000, 0), "below 2 heartbeat" },
		{ base_of(5000, 2000, 5000, 0), "not above the I/O" },
		{ base_of(1000, 1000, 5000, 600001), "membership" },
		{ base_of(1000, 1000, 4294967000u, 0), "32 bits" },
		/* D fits, D + M (an older build's bound) does not */
		{ base_of(1000, 1000, 4294700000u, 600000), "32 bits" },
	};
	struct sdlm_timeouts t;
	const char *why;
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		why = NULL;
		memset(&t, 0xa5, sizeof(t));
		assert_int_equal(timeouts_derive(&cases[k].b, &t, &why),
				 SDLM_ETIMEOUTS);
		assert_non_null(why);
		assert_non_null(strstr(why, cases[k].needle));
		assert_int_equal(t.dead_ms, 0);
		assert_int_equal(t.dead_legacy_ms, 0);
		assert_int_equal(t.lease_ms, 0);
	}
	assert_int_equal(timeouts_derive(NULL, &t, &why), -EINVAL);
}

static void test_boundaries_accepted(void **state)
{
	struct sdlm_timeouts_base b;
	struct sdlm_timeouts t;

	(void)state;
	b = base_of(10, 100, 1000, 0);		/* every minimum */
	assert_int_equal(timeouts_derive(&b, &t, NULL), 0);
	assert_int_equal(t.lease_ms, 210);
	b = base_of(3000, 1000, 4000, 600000);	/* T = 3I, M at max */
	assert_int_equal(timeouts_derive(&b, &t, NULL), 0);
	assert_int_equal(t.dead_ms, 5000 + 4000 + 3000 + 1000);
	assert_int_equal(t.dead_legacy_ms, t.dead_ms + 600000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_profile),
		cmocka_unit_test(test_test_profile),
		cmocka_unit_test(test_unknown_profile),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_boundaries_accepted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
