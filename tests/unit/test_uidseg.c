/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_uidseg.c - which table locks a creator of a new mailbox takes
 * (dlm/core/uidseg.c; docs/uid.md, "The table lock"): the segments of a probe
 * range, their names and order (run-over, wrap, grown tables), the
 * decision to take more, and the compatibility rule.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sdlm.h"
#include "ondisk.h"
#include "ipcreq.h"
#include "uidseg.h"

static void guid_make(uint8_t guid[UID_GUID_LEN], uint32_t n)
{
	int i;

	for (i = 0; i < UID_GUID_LEN; i++)
		guid[i] = (uint8_t)(0x5a ^ (i * 37));
	for (i = 0; i < 4; i++)
		guid[i] = (uint8_t)(n >> (8 * i));
}

/* A chain of tables of the given sizes (0-terminated). */
static void geom(struct uidtab_geom *g, const uint64_t *sizes)
{
	uint64_t base = 0, start = 100;
	uint32_t t;

	memset(g, 0, sizeof(*g));
	g->sector_size = 512;
	for (t = 0; sizes[t]; t++) {
		g->t[t].nslots = sizes[t];
		g->t[t].base = base;
		g->t[t].start = start;
		base += sizes[t];
		start += 2 * sizes[t] + 2;
	}
	g->ntables = t;
}

/* A GUID whose home in a table of nslots is at local slot want. */
static void guid_home(uint8_t guid[UID_GUID_LEN], uint64_t nslots, uint64_t want)
{
	uint32_t n;

	for (n = 0; n < 50000000u; n++) {
		guid_make(guid, n);
		if (uidtab_home(guid, nslots) == want)
			return;
	}
	fail_msg("no GUID with home %llu", (unsigned long long)want);
}

static void seg_is(const struct uidseg_set *s, unsigned i, uint32_t table, uint64_t seg)
{
	assert_true(i < s->n);
	assert_int_equal(s->s[i].table, table);
	assert_int_equal(s->s[i].seg, seg);
}

/* Before its probe a creator takes its home segment in table 0 only;
 * a slot in that segment needs nothing more. */
static void test_home_only(void **state)
{
	static const uint64_t sz[] = { 4096, 0 };
	struct uidtab_geom g;
	struct uidseg_set s;
	uint8_t guid[UID_GUID_LEN];

	(void)state;
	geom(&g, sz);
	guid_home(guid, 4096, 1000);		/* segment 3 (768..1023) */
	assert_int_equal(uidseg_need(&g, guid, false, 0, &s), 0);
	assert_int_equal(s.n, 1);
	seg_is(&s, 0, 0, 3);
	/* the home slot itself, and the last slot of its segment */
	assert_int_equal(uidseg_need(&g, guid, true, 1000, &s), 0);
	assert_int_equal(s.n, 1);
	seg_is(&s, 0, 0, 3);
	assert_int_equal(uidseg_need(&g, guid, true, 1023, &s), 0);
	assert_int_equal(s.n, 1);
}

/* A probe that runs over a segment's end takes the next ones too, in
 * ascending order; the insert window bounds it to 5 segments. */
static void test_run_over(void **state)
{
	static const uint64_t sz[] = { 4096, 0 };
	struct uidtab_geom g;
	struct uidseg_set s;
	uint8_t guid[UID_GUID_LEN];

	(void)state;
	geom(&g, sz);
	guid_home(guid, 4096, 1000);
	assert_int_equal(uidseg_need(&g, guid, true, 1024, &s), 0);
	assert_int_equal(s.n, 2);
	seg_is(&s, 0, 0, 3);
	seg_is(&s, 1, 0, 4);
	/* the farthest slot of the window: 1000 + 1023 = 2023, segment 7 */
	assert_int_equal(uidseg_need(&g, guid, true, 1000 + UIDTAB_WINDOW - 1, &s), 0);
	assert_int_equal(s.n, 5);
	for (unsigned i = 0; i < 5; i++)
		seg_is(&s, i, 0, 3 + i);
	/* past the window (its own tombstone an older daemon placed
	 * there, a damaged slot a lookup passed): home's and the slot's
	 * segments only, the path would not fit a set */
	assert_int_equal(uidseg_need(&g, guid, true, 1000 + UIDTAB_WINDOW, &s), 0);
	assert_int_equal(s.n, 2);
	seg_is(&s, 0, 0, 3);
	seg_is(&s, 1, 0, 7);
	assert_int_equal(uidseg_need(&g, guid, true, 999, &s), 0);	/* round the table */
	assert_int_equal(s.n, 1);
	assert_int_equal(uidseg_need(&g, guid, true, 10, &s), 0);
	assert_int_equal(s.n, 2);
	seg_is(&s, 0, 0, 0);
	seg_is(&s, 1, 0, 3);
}

/* A probe that wraps round the end of the table: segment 0 first. */
static void test_wrap(void **state)
{
	static const uint64_t sz[] = { 1024, 0 };
	struct uidtab_geom g;
	struct uidseg_set s;
	uint8_t guid[UID_GUID_LEN];

	(void)state;
	geom(&g, sz);
	guid_home(guid, 1024, 1020);		/* segment 3, the last */
	assert_int_equal(uidseg_need(&g, guid, true, 2, &s), 0);
	assert_int_equal(s.n, 2);
	seg_is(&s, 0, 0, 0);
	seg_is(&s, 1, 0, 3);
	/* all the way round (the window is the whole table here): every
	 * segment, in order */
	assert_int_equal(uidseg_need(&g, guid, true, 1019, &s), 0);
	assert_int_equal(s.n, 4);
	for (unsigned i = 0; i < 4; i++)
		seg_is(&s, i, 0, i);
}

/* A table smaller than a segment is one segment; a table whose last
 * segment is short wraps from it into segment 0. */
static void test_small_tables(void **state)
{
	static const uint64_t one[] = { 100, 0 }, odd[] = { 300, 0 };
	struct uidtab_geom g;
	struct uidseg_set s;
	uint8_t guid[UID_GUID_LEN];

	(void)state;
	geom(&g, one);
	guid_home(guid, 100, 90);
	assert_int_equal(uidseg_need(&g, guid, true, 10, &s), 0);
	assert_int_equal(s.n, 1);
	seg_is(&s, 0, 0, 0);
	assert_int_equal(uidseg_need(&g, guid, true, 100, &s), -EINVAL);	/* no such slot */

	geom(&g, odd);
	guid_home(guid, 300, 280);		/* segment 1: 256..299 */
	assert_int_equal(uidseg_need(&g, guid, true, 299, &s), 0);
	assert_int_equal(s.n, 1);
	seg_is(&s, 0, 0, 1);
	assert_int_equal(uidseg_need(&g, guid, true, 5, &s), 0);
	assert_int_equal(s.n, 2);
	seg_is(&s, 0, 0, 0);
	seg_is(&s, 1, 0, 1);
	/* round to the slot before home: 280..299, 0..255, 256..279 */
	assert_int_equal(uidseg_need(&g, guid, true, 279, &s), 0);
	assert_int_equal(s.n, 2);
}

/* A grown table (the chain): its segments are named by table, come after
 * table 0's in the order, and the GUID's home segment in table 0 is
 * always held (every creator of the GUID takes it). */
static void test_chain(void **state)
{
	static const uint64_t sz[] = { 1024, 2048, 0 };
	struct uidtab_geom g;
	struct uidseg_set s;
	uint8_t guid[UID_GUID_LEN];
	uint64_t h0, h1;
	char name[UIDSEG_NAME_MAX];

	(void)state;
	geom(&g, sz);
	guid_make(guid, 77);
	h0 = uidtab_home(guid, 1024);
	h1 = uidtab_home(guid, 2048);
	assert_int_equal(uidseg_need(&g, guid, true, 1024 + h1, &s), 0);
	assert_int_equal(s.n, 2);
	seg_is(&s, 0, 0, h0 / UIDSEG_SLOTS);
	seg_is(&s, 1, 1, h1 / UIDSEG_SLOTS);
	assert_true(uidseg_name(&s.s[1], name, sizeof(name)) > 0);
	{
		char want[UIDSEG_NAME_MAX];

		snprintf(want, sizeof(want), "uid-table.1.%llu",
			 (unsigned long long)(h1 / UIDSEG_SLOTS));
		assert_string_equal(name, want);
	}
	/* in table 1, a slot past the window there: its segment alone */
	assert_int_equal(uidseg_need(&g, guid, true, 1024 + (h1 + 2047) % 2048, &s), 0);
	assert_int_equal(s.n, 2);
	seg_is(&s, 0, 0, h0 / UIDSEG_SLOTS);
	seg_is(&s, 1, 1, ((h1 + 2047) % 2048) / UIDSEG_SLOTS);
	/* past every table */
	assert_int_equal(uidseg_need(&g, guid, true, 1024 + 2048, &s), -EINVAL);
}

/*
 * Against an independent count: for many GUIDs and every slot of their
 * window, the set is exactly the segments of the slots home .. target
 * walked one by one (plus table 0's home segment), in ascending order.
 */
static void test_against_walk(void **state)
{
	static const uint64_t sz[] = { 1500, 700, 0 };
	struct uidtab_geom g;
	struct uidseg_set s, w;
	uint8_t guid[UID_GUID_LEN];
	uint32_t n, t;

	(void)state;
	geom(&g, sz);
	for (n = 0; n < 40; n++) {
		guid_make(guid, 1000 + n);
		for (t = 0; t < g.ntables; t++) {
			uint64_t ns = g.t[t].nslots, home = uidtab_home(guid, ns);
			uint64_t win = ns < UIDTAB_WINDOW ? ns : UIDTAB_WINDOW, d, k;

			for (d = 0; d < win; d += 7) {
				struct uidseg x = { 0, uidtab_home(guid, g.t[0].nslots) / UIDSEG_SLOTS };

				memset(&w, 0, sizeof(w));
				assert_int_equal(uidseg_add(&w, &x), 0);
				for (k = 0; k <= d; k++) {
					x.table = t;
					x.seg = ((home + k) % ns) / UIDSEG_SLOTS;
					assert_int_equal(uidseg_add(&w, &x), 0);
				}
				assert_int_equal(uidseg_need(&g, guid, true,
							     g.t[t].base + (home + d) % ns, &s), 0);
				assert_int_equal(s.n, w.n);
				for (k = 0; k < s.n; k++) {
					assert_int_equal(s.s[k].table, w.s[k].table);
					assert_int_equal(s.s[k].seg, w.s[k].seg);
					if (k)
						assert_true(uidseg_cmp(&s.s[k - 1], &s.s[k]) < 0);
				}
			}
		}
	}
}

static void set_of(struct uidseg_set *s, const uint64_t *segs)
{
	memset(s, 0, sizeof(*s));
	for (; *segs != UINT64_MAX; segs++) {
		struct uidseg x = { (uint32_t)(*segs >> 32), *segs & 0xffffffffu };

		assert_int_equal(uidseg_add(s, &x), 0);
	}
}

#define S(t, n)	((uint64_t)(t) << 32 | (n))
#define END	UINT64_MAX

/* What to do when the slot found is not covered: nothing, take more
 * above (one order kept), or give back and take the union in order. */
static void test_next(void **state)
{
	struct uidseg_set held, need, take;
	static const uint64_t h3[] = { S(0, 3), END }, n3[] = { S(0, 3), END },
		n34[] = { S(0, 3), S(0, 4), END }, n03[] = { S(0, 0), S(0, 3), END },
		n3t1[] = { S(0, 3), S(1, 0), END }, h34[] = { S(0, 3), S(0, 4), END },
		n35[] = { S(0, 3), S(0, 5), END };

	(void)state;
	set_of(&held, h3);
	set_of(&need, n3);
	assert_int_equal(uidseg_next(&held, &need, &take), UIDSEG_HELD);
	assert_int_equal(take.n, 0);

	set_of(&need, n34);			/* ran over into 4 */
	assert_int_equal(uidseg_next(&held, &need, &take), UIDSEG_EXTEND);
	assert_int_equal(take.n, 1);
	seg_is(&take, 0, 0, 4);

	set_of(&need, n3t1);			/* a grown table: after table 0 */
	assert_int_equal(uidseg_next(&held, &need, &take), UIDSEG_EXTEND);
	assert_int_equal(take.n, 1);
	seg_is(&take, 0, 1, 0);

	set_of(&need, n03);			/* wrapped: 0 is below 3 */
	assert_int_equal(uidseg_next(&held, &need, &take), UIDSEG_RESTART);
	assert_int_equal(take.n, 2);
	seg_is(&take, 0, 0, 0);
	seg_is(&take, 1, 0, 3);

	/* a restart keeps what was held: the union, in order */
	set_of(&held, h34);
	set_of(&need, n03);
	assert_int_equal(uidseg_next(&held, &need, &take), UIDSEG_RESTART);
	assert_int_equal(take.n, 3);
	seg_is(&take, 0, 0, 0);
	seg_is(&take, 1, 0, 3);
	seg_is(&take, 2, 0, 4);

	/* a gap above what is held is still "above": extend */
	set_of(&held, h3);
	set_of(&need, n35);
	assert_int_equal(uidseg_next(&held, &need, &take), UIDSEG_EXTEND);
	seg_is(&take, 0, 0, 5);

	/* nothing held yet (the first request): everything, as an extend */
	memset(&held, 0, sizeof(held));
	assert_int_equal(uidseg_next(&held, &need, &take), UIDSEG_EXTEND);
	assert_int_equal(take.n, 2);

	/* a union that does not fit: need alone */
	memset(&held, 0, sizeof(held));
	for (unsigned i = 0; i < UIDSEG_SET_MAX; i++) {
		struct uidseg x = { 0, 10 + i };

		assert_int_equal(uidseg_add(&held, &x), 0);
	}
	{
		struct uidseg x = { 0, 99 };

		assert_int_equal(uidseg_add(&held, &x), -E2BIG);
	}
	set_of(&need, n03);
	assert_int_equal(uidseg_next(&held, &need, &take), UIDSEG_RESTART);
	assert_int_equal(take.n, 2);
	seg_is(&take, 0, 0, 0);
	seg_is(&take, 1, 0, 3);
	/* above what is held, but more than a set holds: need alone */
	{
		static const uint64_t far[] = { S(1, 0), S(1, 1), END };

		set_of(&need, far);
		assert_int_equal(uidseg_next(&held, &need, &take), UIDSEG_RESTART);
		assert_int_equal(take.n, 2);
		seg_is(&take, 0, 1, 0);
		seg_is(&take, 1, 1, 1);
	}
}

/* The names, and that no client can take them (SDLM_ERESERVED). */
static void test_names_reserved(void **state)
{
	struct uidseg a = { 0, 0 }, b = { 31, 8388607 };
	char name[UIDSEG_NAME_MAX], tiny[8];

	(void)state;
	assert_int_equal(uidseg_name(&a, name, sizeof(name)), 13);
	assert_string_equal(name, "uid-table.0.0");
	assert_true(ipcreq_name_reserved(name, strlen(name)));
	assert_int_equal(uidseg_name(&b, name, sizeof(name)), 20);
	assert_string_equal(name, "uid-table.31.8388607");
	assert_true(ipcreq_name_reserved(name, strlen(name)));
	assert_int_equal(uidseg_name(&a, tiny, sizeof(tiny)), -ENOSPC);
}

/* The compatibility rule: the older releases' locks too unless the
 * header says every node takes segments. */
static void test_legacy(void **state)
{
	(void)state;
	assert_int_equal(uidseg_legacy(0, "ls", "sdlm-admin"), UIDSEG_L_LS | UIDSEG_L_AREA);
	assert_int_equal(uidseg_legacy(SDLM_HDR_F_UID_CHAIN, "ls", "sdlm-admin"),
			 UIDSEG_L_LS | UIDSEG_L_AREA);
	/* the mailbox's lockspace is the area's: one lock, asked once */
	assert_int_equal(uidseg_legacy(0, "sdlm-admin", "sdlm-admin"), UIDSEG_L_AREA);
	assert_int_equal(uidseg_legacy(SDLM_HDR_F_UID_SEGLOCK, "ls", "sdlm-admin"), 0);
	assert_int_equal(uidseg_legacy(SDLM_HDR_F_UID_SEGLOCK | SDLM_HDR_F_UID_CHAIN, "ls",
				       "sdlm-admin"), 0);
	assert_int_equal(uidseg_legacy(SDLM_HDR_F_UID_SEGLOCK, "sdlm-admin", "sdlm-admin"), 0);
}

static void test_bad_args(void **state)
{
	static const uint64_t sz[] = { 1024, 0 };
	struct uidtab_geom g;
	struct uidseg_set s;
	uint8_t guid[UID_GUID_LEN] = { 0 };

	(void)state;
	geom(&g, sz);
	assert_int_equal(uidseg_need(&g, guid, false, 0, &s), -EINVAL);	/* zero GUID */
	guid_make(guid, 1);
	assert_int_equal(uidseg_need(NULL, guid, false, 0, &s), -EINVAL);
	g.ntables = 0;
	assert_int_equal(uidseg_need(&g, guid, false, 0, &s), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_home_only),
		cmocka_unit_test(test_run_over),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_small_tables),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_against_walk),
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_names_reserved),
		cmocka_unit_test(test_legacy),
		cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
