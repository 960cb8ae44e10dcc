/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_modes.c - the DLM compatibility matrix, checked pair by pair
 * against a table written here independently (as "who may join a holder"
 * lists, the way the DLM documentation phrases it), plus names.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "modes.h"

/* For each held mode, the requested modes that may coexist with it. */
static const struct {
	const char *held;
	const char *joiners;
} expected[] = {
	{ "NL", "NL CR CW PR PW EX" },
	{ "CR", "NL CR CW PR PW" },
	{ "CW", "NL CR CW" },
	{ "PR", "NL CR PR" },
	{ "PW", "NL CR" },
	{ "EX", "NL" },
};

static bool expected_compat(int a, int b)
{
	const char *name = mode_name(b);
	size_t i;

	for (i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
		if (!strcmp(expected[i].held, mode_name(a)))
			return strstr(expected[i].joiners, name) != NULL;
	fail_msg("mode %d not in table", a);
	return false;
}

static void test_compat_all_pairs(void **state)
{
	int a, b, pairs = 0, compatible = 0;

	(void)state;
	for (a = MODE_NL; a <= MODE_EX; a++) {
		for (b = MODE_NL; b <= MODE_EX; b++) {
			assert_int_equal(mode_compat(a, b), expected_compat(a, b));
			assert_int_equal(mode_compat(a, b), mode_compat(b, a));
			compatible += mode_compat(a, b);
			pairs++;
		}
	}
	assert_int_equal(pairs, 36);
	/* 6 + 5 + 3 + 3 + 2 + 1 from the table's rows */
	assert_int_equal(compatible, 20);
	assert_false(mode_compat(MODE_NONE, MODE_NL));
	assert_false(mode_compat(MODE_NL, 6));
}

static void test_names(void **state)
{
	static const char *const names[] = { "NL", "CR", "CW", "PR", "PW", "EX" };
	int m;

	(void)state;
	for (m = MODE_NL; m <= MODE_EX; m++) {
		assert_string_equal(mode_name(m), names[m]);
		assert_int_equal(mode_parse(names[m]), m);
	}
	assert_int_equal(mode_parse("ex"), MODE_EX);
	assert_int_equal(mode_parse("Pr"), MODE_PR);
	assert_int_equal(mode_parse("shared"), -EINVAL);
	assert_int_equal(mode_parse(""), -EINVAL);
	assert_int_equal(mode_parse("EXX"), -EINVAL);
	assert_int_equal(mode_parse(NULL), -EINVAL);
	assert_string_equal(mode_name(MODE_NONE), "NONE");
	assert_string_equal(mode_name(17), "?");
}

static void test_write_and_covers(void **state)
{
	int m;

	(void)state;
	for (m = MODE_NL; m <= MODE_EX; m++)
		assert_int_equal(mode_is_write(m), m == MODE_PW || m == MODE_EX);
	assert_true(mode_covers(MODE_EX, MODE_NL));
	assert_true(mode_covers(MODE_EX, MODE_PR));
	assert_true(mode_covers(MODE_PW, MODE_PR));
	assert_true(mode_covers(MODE_PR, MODE_PR));
	assert_false(mode_covers(MODE_PR, MODE_CW));
	assert_false(mode_covers(MODE_CW, MODE_PR));
	assert_false(mode_covers(MODE_PR, MODE_EX));
	assert_false(mode_covers(MODE_NL, MODE_CR));
	assert_true(mode_covers(MODE_CW, MODE_CR));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compat_all_pairs),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_write_and_covers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
