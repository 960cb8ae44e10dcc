/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_clock.c - fence/clock.h, the one clock helper per meaning (issue
 * 18, item 8: the millisecond clock had five copies, two of them
 * different clocks under one name; five more read the wall clock).  The
 * conversions are exact and
 * truncate; each reader reads its own clock: its value lies between two
 * readings of that clock taken around it.  (Where the machine never
 * slept, BOOTTIME and MONOTONIC agree and the bracket cannot tell them
 * apart; it still catches a wrong unit or a wall clock.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "clock.h"

static void test_ts_ms_truncates(void **state)
{
	struct timespec a = { 0, 999999 }, b = { 1, 999999999 }, c = { 7, 1000000 };

	(void)state;
	assert_int_equal(clock_ts_ms(&a), 0);
	assert_int_equal(clock_ts_ms(&b), 1999);
	assert_int_equal(clock_ts_ms(&c), 7001);
}

/* Seconds past 2^32 (a long uptime in ms, any wall time in ns) do not wrap. */
static void test_ts_no_overflow(void **state)
{
	struct timespec big = { (time_t)10000000000ll, 5000000 };

	(void)state;
	assert_true(clock_ts_ms(&big) == 10000000000005ull);
	assert_true(clock_ts_ns(&big) == 10000000000005000000ull);
}

static uint64_t read_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return clock_ts_ms(&ts);
}

static uint64_t read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return clock_ts_ns(&ts);
}

static void test_boottime(void **state)
{
	uint64_t lo, v, hi;

	(void)state;
	lo = read_ms(CLOCK_BOOTTIME);
	v = clock_boottime_ms();
	hi = read_ms(CLOCK_BOOTTIME);
	assert_true(lo <= v && v <= hi);
	lo = read_ns(CLOCK_BOOTTIME);
	v = clock_boottime_ns();
	hi = read_ns(CLOCK_BOOTTIME);
	assert_true(lo <= v && v <= hi);
}

static void test_monotonic(void **state)
{
	uint64_t lo, v, hi;

	(void)state;
	lo = read_ms(CLOCK_MONOTONIC);
	v = clock_monotonic_ms();
	hi = read_ms(CLOCK_MONOTONIC);
	assert_true(lo <= v && v <= hi);
}

/* The wall clock, for dates only (heartbeat wall_time_ms, incarnations). */
static void test_realtime(void **state)
{
	uint64_t lo, v, hi;

	(void)state;
	lo = read_ms(CLOCK_REALTIME);
	v = clock_realtime_ms();
	hi = read_ms(CLOCK_REALTIME);
	assert_true(lo <= v && v <= hi);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ts_ms_truncates),
		cmocka_unit_test(test_ts_no_overflow),
		cmocka_unit_test(test_boottime),
		cmocka_unit_test(test_monotonic),
		cmocka_unit_test(test_realtime),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
