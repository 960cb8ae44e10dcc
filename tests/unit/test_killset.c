/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_killset.c - the lock users a fenced node killed, until each is
 * gone (dlm/core/killset.c).  Issue 13, hole 4: no cap on this safety path,
 * and when memory is short the node refuses to count its users as
 * stopped (so it never acknowledges a pill) rather than forget one.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "killset.h"

#define MANY 5000

static bool alive_map[MANY + 2];
static unsigned kills;

static bool probe_alive(pid_t pid, void *ctx)
{
	(void)ctx;
	return alive_map[pid];
}

static void probe_kill(pid_t pid, void *ctx)
{
	(void)ctx;
	(void)pid;
	kills++;
}

/* Every one of thousands of killed users is waited for, the last too. */
static void test_no_cap(void **state)
{
	struct killset ks;
	pid_t p;

	(void)state;
	killset_init(&ks);
	for (p = 2; p < MANY + 2; p++) {
		alive_map[p] = true;
		assert_int_equal(killset_add(&ks, p), 0);
	}
	assert_false(killset_done(&ks));
	/* All gone but the last one added. */
	for (p = 2; p < MANY + 1; p++)
		alive_map[p] = false;
	kills = 0;
	assert_int_equal(killset_reap(&ks, probe_alive, probe_kill, NULL), 1);
	assert_int_equal(kills, 1);
	assert_false(killset_done(&ks));
	alive_map[MANY + 1] = false;
	assert_int_equal(killset_reap(&ks, probe_alive, probe_kill, NULL), 0);
	assert_true(killset_done(&ks));
	killset_free(&ks);
}

static unsigned allocs_left;

static void *short_realloc(void *p, size_t size)
{
	if (allocs_left == 0)
		return NULL;
	allocs_left--;
	return realloc(p, size);
}

/* Memory short: the user that could not be recorded keeps the set from
 * ever being done, even once every recorded one is gone. */
static void test_out_of_memory_refuses(void **state)
{
	struct killset ks;
	pid_t p;
	int rc = 0;

	(void)state;
	killset_init(&ks);
	ks.ks_realloc = short_realloc;
	allocs_left = 1;
	for (p = 2; p < MANY + 2 && rc == 0; p++) {
		alive_map[p] = true;
		rc = killset_add(&ks, p);
	}
	assert_int_equal(rc, -ENOMEM);
	killset_lost(&ks);
	for (p = 2; p < MANY + 2; p++)
		alive_map[p] = false;
	assert_int_equal(killset_reap(&ks, probe_alive, probe_kill, NULL), 0);
	assert_false(killset_done(&ks));
	killset_free(&ks);

	/* A list the caller could not make at all: the same. */
	killset_init(&ks);
	killset_lost(&ks);
	assert_false(killset_done(&ks));
	killset_free(&ks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_cap),
		cmocka_unit_test(test_out_of_memory_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
