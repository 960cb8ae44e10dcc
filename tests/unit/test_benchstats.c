/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_benchstats.c - the benchmarks' shared sample statistics
 * (tests/bench.d/stats.c): nearest-rank percentiles against values worked
 * out by hand, growth past the first allocation, the samples file.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "stats.h"

static void add_us(struct samples *s, const unsigned *us, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		assert_int_equal(samples_add(s, us[i] * 1000ull), 0);
}

static void test_empty(void **state)
{
	struct samples s = { 0 };

	(void)state;
	samples_sort(&s);
	assert_true(samples_pct_us(&s, 50) == 0.0);
	assert_true(samples_pct_us(&s, 99) == 0.0);
	assert_true(samples_max_us(&s) == 0.0);
	samples_free(&s);
}

static void test_one(void **state)
{
	static const unsigned v[] = { 7 };
	struct samples s = { 0 };

	(void)state;
	add_us(&s, v, 1);
	samples_sort(&s);
	assert_true(samples_pct_us(&s, 0) == 7.0);
	assert_true(samples_pct_us(&s, 50) == 7.0);
	assert_true(samples_pct_us(&s, 100) == 7.0);
	samples_free(&s);
}

/* Ten samples given out of order: rank ceil(10 q / 100). */
static void test_nearest_rank_ten(void **state)
{
	static const unsigned v[] = { 100, 30, 80, 10, 60, 20, 90, 50, 40, 70 };
	struct samples s = { 0 };

	(void)state;
	add_us(&s, v, 10);
	samples_sort(&s);
	assert_true(samples_pct_us(&s, 50) == 50.0);	/* rank 5 */
	assert_true(samples_pct_us(&s, 51) == 60.0);	/* rank 6 */
	assert_true(samples_pct_us(&s, 90) == 90.0);	/* rank 9 */
	assert_true(samples_pct_us(&s, 99) == 100.0);	/* rank 10 */
	assert_true(samples_pct_us(&s, 0) == 10.0);	/* rank 1 */
	assert_true(samples_pct_us(&s, 250) == 100.0);	/* clamped */
	assert_true(samples_max_us(&s) == 100.0);
	samples_free(&s);
}

/* 1..10000 µs: p50 = 5000, p99 = 9900; the array grew past 4096. */
static void test_large_and_growth(void **state)
{
	struct samples s = { 0 };
	unsigned i;

	(void)state;
	for (i = 10000; i >= 1; i--)
		assert_int_equal(samples_add(&s, i * 1000ull), 0);
	assert_int_equal(s.s_n, 10000);
	samples_sort(&s);
	assert_true(samples_pct_us(&s, 50) == 5000.0);
	assert_true(samples_pct_us(&s, 99) == 9900.0);
	assert_true(samples_max_us(&s) == 10000.0);
	samples_free(&s);
	assert_null(s.s_ns);
	assert_int_equal(s.s_n, 0);
}

/* An add after a sort unsorts; the report sorts again. */
static void test_add_after_sort(void **state)
{
	static const unsigned v[] = { 5, 3 };
	struct samples s = { 0 };
	char buf[256];
	FILE *f;

	(void)state;
	add_us(&s, v, 2);
	samples_sort(&s);
	assert_int_equal(samples_add(&s, 1000), 0);	/* 1 µs */
	f = fmemopen(buf, sizeof(buf), "w");
	assert_non_null(f);
	samples_report(&s, "x", 2000000000ull, f);
	fclose(f);
	assert_string_equal(buf, "x ops 3 secs 2.000 ops_s 2 p50_us 3.0 p99_us 5.0 max_us 5.0\n");
	samples_free(&s);
}

static void test_write(void **state)
{
	static const unsigned v[] = { 2, 1 };
	struct samples s = { 0 };
	char path[] = "/tmp/test_benchstats.XXXXXX", line[64];
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	add_us(&s, v, 2);
	assert_int_equal(samples_write(&s, path), 0);
	assert_int_equal(samples_write(&s, NULL), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "1.0\n");
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "2.0\n");
	assert_null(fgets(line, sizeof(line), f));
	fclose(f);
	unlink(path);
	assert_int_equal(samples_write(&s, "/nonexistent-dir/x"), -ENOENT);
	samples_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_one),
		cmocka_unit_test(test_nearest_rank_ten),
		cmocka_unit_test(test_large_and_growth),
		cmocka_unit_test(test_add_after_sort),
		cmocka_unit_test(test_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
