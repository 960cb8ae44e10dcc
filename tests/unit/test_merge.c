/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_merge.c - unit tests of agents/dovecot/merge.c, the rejoin repair
 * rule (dsync's): crafted splits with duplicates, messages added below
 * the other side's UIDNEXT, disjoint additions, messages moved on one
 * side, the sdlm floor, and idempotence through the repair log (prior).
 *
 * Uidlists are written as text and parsed with the real parser, so the
 * cases read like the files they stand for.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "merge.h"

static void parse(const char *text, struct uidlist *ul)
{
	struct uidlist_err err;

	if (uidlist_parse(text, strlen(text), ul, &err))
		fail_msg("test input line %u: %s", err.line, err.msg);
}

/* parse() of a printf-formatted uidlist (the cases share base3). */
static void __attribute__((format(printf, 2, 3)))
parsef(struct uidlist *ul, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(text));
	parse(text, ul);
}

/* The merged list as text, for whole-result comparisons. */
static char *text_of(const struct uidlist *ul)
{
	char *out = NULL;

	assert_int_equal(uidlist_format(ul, &out, NULL), 0);
	return out;
}

static long idx_of(const struct merge_result *r, const char *name)
{
	return uidlist_find_name(&r->out, name);
}

static uint32_t uid_of(const struct merge_result *r, const char *name)
{
	long i = idx_of(r, name);

	if (i < 0)
		fail_msg("%s missing from the merged list", name);
	return r->out.recs[i].uid;
}

/* Prior entries from what a run renumbered (what the tool logs). */
static size_t prior_of(const struct merge_result *r, struct merge_prior *p, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < r->out.nrecs; i++) {
		assert_true(n + 2 <= max);
		n += merge_log_entries(r, i, p + n);
	}
	return n;
}

static const char base3[] = "1 :m1\n2 :m2\n3 :m3\n";

static void test_disjoint_above(void **state)
{
	struct uidlist a, b;
	struct merge_result r;

	(void)state;
	/* A added a4, a5 at or above B's UIDNEXT (4): both keep. */
	parsef(&a, "3 V9 N1\n%s4 :a4\n5 :a5\n", base3);
	parsef(&b, "3 V9 N1\n%s", base3);
	assert_int_equal(merge_uidlists(&a, &b, 0, NULL, 0, &r), 0);
	assert_int_equal(r.renumbered, 0);
	assert_int_equal(r.out.nrecs, 5);
	assert_int_equal(uid_of(&r, "a4"), 4);
	assert_int_equal(uid_of(&r, "a5"), 5);
	assert_int_equal(r.items[idx_of(&r, "m2")].side, MERGE_SIDE_BOTH);
	assert_int_equal(r.items[idx_of(&r, "a4")].side, MERGE_SIDE_A);
	assert_int_equal(r.out.next_uid, 6);
	merge_result_free(&r);
	/* Symmetric: B's additions join A the same way. */
	assert_int_equal(merge_uidlists(&b, &a, 0, NULL, 0, &r), 0);
	assert_int_equal(r.renumbered, 0);
	assert_int_equal(uid_of(&r, "a5"), 5);
	assert_int_equal(r.items[idx_of(&r, "a5")].side, MERGE_SIDE_B);
	merge_result_free(&r);
	uidlist_free(&a);
	uidlist_free(&b);
}

static void test_duplicates_both_move(void **state)
{
	struct uidlist a, b;
	struct merge_result r;

	(void)state;
	/* A: a4, a5; B: b4.  UID 4 names two messages: both move, above
	 * max(UIDNEXT A = 6, UIDNEXT B = 5); a5 >= 5 keeps. */
	parsef(&a, "3 V9 N4 E3\n%s4 :a4\n5 :a5\n", base3);
	parsef(&b, "3 V9 N4 E5\n%s4 W10 :b4\n", base3);
	assert_int_equal(merge_uidlists(&a, &b, 0, NULL, 0, &r), 0);
	assert_int_equal(r.base, 6);
	assert_int_equal(r.renumbered, 2);
	assert_int_equal(uid_of(&r, "a5"), 5);
	assert_int_equal(uid_of(&r, "a4"), 6);	/* side A first */
	assert_int_equal(uid_of(&r, "b4"), 7);
	assert_int_equal(r.items[idx_of(&r, "a4")].reason, MERGE_DUPLICATE);
	assert_int_equal(r.items[idx_of(&r, "b4")].reason, MERGE_DUPLICATE);
	assert_int_equal(r.items[idx_of(&r, "b4")].old_uid, 4);
	assert_int_equal(r.items[idx_of(&r, "b4")].side, MERGE_SIDE_B);
	assert_int_equal(r.items[idx_of(&r, "a5")].reason, MERGE_KEEP);
	{
		char *t = text_of(&r.out);

		assert_string_equal(t, "3 V9 N8 E5\n1 :m1\n2 :m2\n3 :m3\n5 :a5\n"
				    "6 :a4\n7 W10 :b4\n");
		free(t);
	}
	merge_result_free(&r);
	uidlist_free(&a);
	uidlist_free(&b);
}

static void test_below_uidnext(void **state)
{
	struct uidlist a, b;
	struct merge_result r;

	(void)state;
	/* A handed out 4..9 (since expunged): UIDNEXT 10.  B added b5 during
	 * the split: a client of A may have seen UID 5, so b5 moves to 10. */
	parsef(&a, "3 V9 N10\n%s", base3);
	parsef(&b, "3 V9 N4\n%s5 :b5\n", base3);
	assert_int_equal(merge_uidlists(&a, &b, 0, NULL, 0, &r), 0);
	assert_int_equal(r.renumbered, 1);
	assert_int_equal(uid_of(&r, "b5"), 10);
	assert_int_equal(r.items[idx_of(&r, "b5")].reason, MERGE_BELOW_UIDNEXT);
	assert_int_equal(r.out.next_uid, 11);
	merge_result_free(&r);

	/* With sdlm's floor above both: new UIDs start there, N follows. */
	assert_int_equal(merge_uidlists(&a, &b, 500, NULL, 0, &r), 0);
	assert_int_equal(uid_of(&r, "b5"), 500);
	assert_int_equal(r.out.next_uid, 501);
	merge_result_free(&r);
	/* The floor raises N even when nothing moves. */
	assert_int_equal(merge_uidlists(&a, &a, 500, NULL, 0, &r), 0);
	assert_int_equal(r.renumbered, 0);
	assert_int_equal(r.out.next_uid, 500);
	merge_result_free(&r);
	uidlist_free(&a);
	uidlist_free(&b);
}

static void test_uid_differs(void **state)
{
	struct uidlist a, b;
	struct merge_result r;

	(void)state;
	/* The same message (GUID by G field) under 3 in A and 4 in B: one
	 * message, one new UID above both. */
	parse("3 V9 N1\n1 :m1\n3 GXYZ :x\n", &a);
	parse("3 V9 N1\n1 :m1\n4 GXYZ :x\n", &b);
	assert_int_equal(merge_uidlists(&a, &b, 0, NULL, 0, &r), 0);
	assert_int_equal(r.out.nrecs, 2);
	assert_int_equal(uid_of(&r, "x"), 5);
	assert_int_equal(r.items[1].reason, MERGE_UID_DIFFERS);
	assert_int_equal(r.items[1].old_uid, 3);
	assert_int_equal(r.items[1].old_uid_b, 4);
	merge_result_free(&r);
	uidlist_free(&a);
	uidlist_free(&b);
}

static void test_idempotent(void **state)
{
	struct uidlist a, b, a2;
	struct merge_result r, r2, r3;
	struct merge_prior p[16];
	char *t1, *t2, *t3;
	size_t np;

	(void)state;
	parsef(&a, "3 V9 N4\n%s4 :a4\n5 :a5\n7 GQ :q\n", base3);
	parsef(&b, "3 V9 N4\n%s4 :b4\n6 :b6\n8 GQ :q\n", base3);
	assert_int_equal(merge_uidlists(&a, &b, 0, NULL, 0, &r), 0);
	assert_true(r.renumbered >= 4);
	np = prior_of(&r, p, 16);
	t1 = text_of(&r.out);

	/* The run completed: A holds the merged list.  Again with B: nothing. */
	parse(t1, &a2);
	assert_int_equal(merge_uidlists(&a2, &b, 0, p, np, &r2), 0);
	assert_int_equal(r2.renumbered, 0);
	t2 = text_of(&r2.out);
	assert_string_equal(t1, t2);

	/* The run crashed after logging, before A's list was replaced:
	 * the rerun reaches exactly the same list. */
	assert_int_equal(merge_uidlists(&a, &b, 0, p, np, &r3), 0);
	assert_int_equal(r3.renumbered, 0);
	t3 = text_of(&r3.out);
	assert_string_equal(t1, t3);
	assert_true(r3.items[idx_of(&r3, "b4")].logged);
	assert_int_equal(r3.items[idx_of(&r3, "b4")].reason, MERGE_DUPLICATE);

	free(t1);
	free(t2);
	free(t3);
	merge_result_free(&r);
	merge_result_free(&r2);
	merge_result_free(&r3);
	uidlist_free(&a);
	uidlist_free(&a2);
	uidlist_free(&b);
}

/* Every UID in the result is unique, ascending, and every message of
 * both sides is there once: checked over many generated splits. */
static void test_generated_splits(void **state)
{
	unsigned seed = 12345, round;

	(void)state;
	for (round = 0; round < 300; round++) {
		char *ta = NULL, *tb = NULL;
		size_t la = 0, lb = 0, i;
		FILE *fa = open_memstream(&ta, &la), *fb = open_memstream(&tb, &lb);
		struct uidlist a, b;
		struct merge_result r;
		uint32_t common = 1 + rand_r(&seed) % 5, ua, ub, na, nb;

		assert_non_null(fa);
		assert_non_null(fb);
		fprintf(fa, "3 V1 N%u\n", 1 + common);
		fprintf(fb, "3 V1 N%u\n", 1 + common);
		for (i = 1; i <= common; i++) {
			fprintf(fa, "%zu :c%zu\n", i, i);
			fprintf(fb, "%zu :c%zu\n", i, i);
		}
		ua = ub = common;
		na = rand_r(&seed) % 6;
		nb = rand_r(&seed) % 6;
		for (i = 0; i < na; i++) {
			ua += 1 + rand_r(&seed) % 3;
			fprintf(fa, "%u :a%zu\n", ua, i);
		}
		for (i = 0; i < nb; i++) {
			ub += 1 + rand_r(&seed) % 3;
			fprintf(fb, "%u :b%zu\n", ub, i);
		}
		fclose(fa);
		fclose(fb);
		parse(ta, &a);
		parse(tb, &b);
		assert_int_equal(merge_uidlists(&a, &b, 0, NULL, 0, &r), 0);
		assert_int_equal(r.out.nrecs, common + na + nb);
		for (i = 1; i < r.out.nrecs; i++)
			assert_true(r.out.recs[i].uid > r.out.recs[i - 1].uid);
		for (i = 0; i < r.out.nrecs; i++) {
			const struct merge_item *it = &r.items[i];
			uint32_t u = r.out.recs[i].uid;

			if (it->reason == MERGE_KEEP) {
				assert_int_equal(u, it->old_uid);
				/* kept from one side: at or above the other's UIDNEXT */
				if (it->side == MERGE_SIDE_A)
					assert_true(u >= uidlist_next_uid(&b));
				if (it->side == MERGE_SIDE_B)
					assert_true(u >= uidlist_next_uid(&a));
			} else {
				assert_true(u >= uidlist_next_uid(&a));
				assert_true(u >= uidlist_next_uid(&b));
			}
		}
		/* A UID listed on both sides for different messages is not
		 * kept by either. */
		for (i = 0; i < a.nrecs; i++) {
			long j;
			size_t k;

			for (k = 0; k < b.nrecs; k++)
				if (a.recs[i].uid == b.recs[k].uid &&
				    strcmp(a.recs[i].name, b.recs[k].name) != 0) {
					j = idx_of(&r, a.recs[i].name);
					assert_true(j >= 0);
					assert_int_not_equal(r.out.recs[j].uid, a.recs[i].uid);
					j = idx_of(&r, b.recs[k].name);
					assert_true(j >= 0);
					assert_int_not_equal(r.out.recs[j].uid, b.recs[k].uid);
				}
		}
		merge_result_free(&r);
		uidlist_free(&a);
		uidlist_free(&b);
		free(ta);
		free(tb);
	}
}

static void test_refusals(void **state)
{
	struct uidlist a, b;
	struct merge_result r;

	(void)state;
	parse("3 V9 N1\n1 :m1\n", &a);
	parse("3 V10 N1\n1 :m1\n", &b);
	assert_int_equal(merge_uidlists(&a, &b, 0, NULL, 0, &r), -EXDEV);
	assert_non_null(strstr(r.msg, "UIDVALIDITY"));
	uidlist_free(&b);

	parse("3 V9 N1 G0123456789abcdef0123456789abcdef\n1 :m1\n", &b);
	uidlist_free(&a);
	parse("3 V9 N1 Gfedcba9876543210fedcba9876543210\n1 :m1\n", &a);
	assert_int_equal(merge_uidlists(&a, &b, 0, NULL, 0, &r), -EXDEV);
	uidlist_free(&a);
	uidlist_free(&b);

	parse("3 V9 N1\n1 GX :m1\n2 GX :m2\n", &a);
	parse("3 V9 N1\n1 :m1\n", &b);
	assert_int_equal(merge_uidlists(&a, &b, 0, NULL, 0, &r), -EUCLEAN);
	assert_non_null(strstr(r.msg, "twice"));
	uidlist_free(&a);
	uidlist_free(&b);

	parse("3 V9 N1\n4294967294 :a\n", &a);
	parse("3 V9 N1\n4294967294 :b\n", &b);
	assert_int_equal(merge_uidlists(&a, &b, 0, NULL, 0, &r), -EOVERFLOW);
	uidlist_free(&a);
	uidlist_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disjoint_above),
		cmocka_unit_test(test_duplicates_both_move),
		cmocka_unit_test(test_below_uidnext),
		cmocka_unit_test(test_uid_differs),
		cmocka_unit_test(test_idempotent),
		cmocka_unit_test(test_generated_splits),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
