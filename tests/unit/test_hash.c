/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_hash.c - dlm/core/hash.h: the name and lock-id hashes, and the one
 * growth of a chained table (HASH_GROW_FN) that lockstate.c's and
 * nodelock.c's four tables share (issue 18, item 8: it had four copies).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hash.h"

struct ent {
	struct ent *link;
	uint64_t key;
};

static inline uint64_t ent_hashof(const struct ent *e)
{
	return mix64(e->key);
}

HASH_GROW_FN(ent_grow, struct ent, link, ent_hashof)

/* The published FNV-1a 64 vectors; mix64 is a bijection fixing 0. */
static void test_hashes(void **state)
{
	(void)state;
	assert_true(fnv64(FNV64_OFFSET, "", 0) == FNV64_OFFSET);
	assert_true(fnv64(FNV64_OFFSET, "a", 1) == 0xaf63dc4c8601ec8cull);
	assert_true(fnv64(FNV64_OFFSET, "foobar", 6) == 0x85944171f73967e8ull);
	/* a running value fed back hashes the concatenation */
	assert_true(fnv64(fnv64(FNV64_OFFSET, "foo", 3), "bar", 3) ==
		    fnv64(FNV64_OFFSET, "foobar", 6));
	assert_true(mix64(0) == 0);
	assert_true(mix64(1) != mix64(2));
}

static void insert(struct ent **t, size_t size, struct ent *e)
{
	size_t b = ent_hashof(e) & (size - 1);

	e->link = t[b];
	t[b] = e;
}

static size_t count_in_place(struct ent **t, size_t size)
{
	size_t i, n = 0;
	struct ent *e;

	for (i = 0; i < size; i++)
		for (e = t[i]; e; e = e->link) {
			assert_int_equal(ent_hashof(e) & (size - 1), i);
			n++;
		}
	return n;
}

/* Thousands of entries through six doublings: each one once, in its bucket. */
static void test_grow_keeps_every_entry(void **state)
{
	enum { N = 5000 };
	struct ent *ents = calloc(N, sizeof(*ents));
	size_t size = 4, i;
	struct ent **t = calloc(size, sizeof(*t));
	uint8_t *seen = calloc(N, 1);
	struct ent *e;

	(void)state;
	assert_non_null(ents);
	assert_non_null(t);
	assert_non_null(seen);
	for (i = 0; i < N; i++) {
		ents[i].key = i * 7919 + 3;
		insert(t, size, &ents[i]);
		if (i == N / 8 || i == N / 4 || i == N / 2 || i == N - 1) {
			assert_int_equal(ent_grow(&t, &size), 0);
			if (i == N - 1) {
				assert_int_equal(ent_grow(&t, &size), 0);
				assert_int_equal(ent_grow(&t, &size), 0);
			}
		}
	}
	assert_int_equal(size, 4 << 6);
	assert_int_equal(count_in_place(t, size), N);
	for (i = 0; i < size; i++)
		for (e = t[i]; e; e = e->link) {
			assert_int_equal(seen[e - ents], 0);
			seen[e - ents] = 1;
		}
	free(seen);
	free(t);
	free(ents);
}

/* The documented order: old buckets in turn, each entry pushed at the
 * head of its new chain (so two neighbours that stay together swap). */
static void test_grow_order(void **state)
{
	struct ent a = { .key = 0 }, b = { .key = 0 };
	struct ent **t = calloc(1, sizeof(*t));
	size_t size = 1;

	(void)state;
	assert_non_null(t);
	insert(t, size, &a);
	insert(t, size, &b);		/* chain: b -> a */
	assert_ptr_equal(t[0], &b);
	assert_int_equal(ent_grow(&t, &size), 0);
	assert_int_equal(size, 2);
	/* same key: same new bucket, taken b then a: a -> b */
	assert_ptr_equal(t[mix64(0) & 1], &a);
	assert_ptr_equal(a.link, &b);
	assert_null(b.link);
	assert_null(t[(mix64(0) & 1) ^ 1]);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hashes),
		cmocka_unit_test(test_grow_keeps_every_entry),
		cmocka_unit_test(test_grow_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
