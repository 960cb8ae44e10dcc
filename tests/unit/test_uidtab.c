/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_uidtab.c - the chain of UID tables (fence/uidtab.c, the probe in
 * fence/uidrec.c): table descriptors, global slot numbering, and the
 * probe over a grown table (docs/uid.md, "Growing the table").
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdlm.h"
#include "uidrec.h"

#define SS	512
#define MAXS	3200		/* global slots the in-memory disk holds */

static const uint8_t uuid_a[SDLM_UUID_LEN] = { 0xa1, 0xa2, 0xa3, 0x44, 5, 6, 0x47, 8,
					       0x89, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t uuid_b[SDLM_UUID_LEN] = { 0xb1, 0xb2, 0xb3, 0x44, 5, 6, 0x47, 8,
					       0x89, 10, 11, 12, 13, 14, 15, 16 };

static uint8_t (*disk)[2][SS];	/* by global slot */
static struct uidtab_geom G;

static void guid_make(uint8_t guid[UID_GUID_LEN], uint32_t n)
{
	int i;

	for (i = 0; i < UID_GUID_LEN; i++)
		guid[i] = (uint8_t)(0x11 * (i + 1));
	for (i = 0; i < 4; i++)
		guid[i] = (uint8_t)(n >> (8 * i));
}

static void put(uint64_t slot, uint32_t n, uint64_t gen, uint32_t state)
{
	struct uid_rec r;
	int c;

	assert_true(slot < MAXS);
	for (c = 0; c < 2; c++) {
		memset(&r, 0, sizeof(r));
		r.state = state;
		guid_make(r.guid, n);
		r.slot = slot;
		r.copy = c;
		r.gen = gen;
		r.epoch = 1;
		r.seq = 1 + c;
		r.node_id = 1;
		r.uidvalidity = 1;
		r.name_len = 1;
		r.name[0] = 'm';
		assert_int_equal(uidrec_out(&r, uuid_a, disk[slot][c], SS), 0);
	}
}

static void view(uint64_t slot, struct uid_slot_view *v)
{
	struct uid_rec rec[2];
	int rc[2], c;

	assert_true(slot < MAXS);
	assert_true(uidtab_geom_table(&G, slot) >= 0);
	for (c = 0; c < 2; c++)
		rc[c] = uidrec_in(&rec[c], disk[slot][c], SS, uuid_a, slot, c);
	assert_int_equal(uidrec_resolve(rec, rc, v), 0);
}

/*
 * The tables "on the disk" after those of G: a probe that asks
 * (UIDTAB_TABLE) gets the next of them, as uidio.c does by reading the
 * descriptor after the last table it knows.
 */
static uint64_t more[4];
static int nmore;
static int asked;

static int probe(uint32_t n, bool insert, struct uidtab_probe *p)
{
	struct uid_slot_view v;
	uint8_t guid[UID_GUID_LEN];
	int rv;

	guid_make(guid, n);
	assert_int_equal(uidtab_probe_init_geom(p, guid, &G, insert), 0);
	rv = UIDTAB_MORE;
	while (rv == UIDTAB_MORE || rv == UIDTAB_TABLE) {
		if (rv == UIDTAB_TABLE) {
			asked++;
			if (nmore) {
				struct uidtab_desc d;

				assert_int_equal(uidtab_geom_next(&G, more[0], &d), 0);
				assert_int_equal(uidtab_geom_add(&G, &d), 0);
				memmove(more, more + 1, sizeof(more) - sizeof(more[0]));
				nmore--;
			}
			rv = uidtab_probe_table(p);
			continue;
		}
		view(p->slot, &v);
		rv = uidtab_probe_step(p, &v);
	}
	return rv;
}

static int insert(uint32_t n, uint64_t *slot)
{
	struct uidtab_probe p;
	int rv = probe(n, true, &p);

	if (rv == 0)
		put(p.slot, n, p.reuse_gen + 1, UIDREC_USED);
	*slot = p.slot;
	return rv;
}

static int lookup(uint32_t n, uint64_t *slot)
{
	struct uidtab_probe p;
	int rv = probe(n, false, &p);

	*slot = p.slot;
	return rv;
}

static void geom_one(uint64_t nslots)
{
	struct sdlm_header h;

	memset(&h, 0, sizeof(h));
	h.sector_size = SS;
	h.num_nodes = 4;
	h.uid_area_start = 9;
	h.uid_area_sectors = 2 * nslots;
	assert_int_equal(uidtab_geom_init(&G, &h), 0);
	memset(disk, 0, sizeof(uint8_t[2][SS]) * MAXS);
	nmore = 0;
	asked = 0;
}

static int setup(void **state)
{
	(void)state;
	disk = calloc(MAXS, sizeof(*disk));
	return disk ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(disk);
	return 0;
}

/* ---- descriptors and geometry ---- */

static void test_desc_codec(void **state)
{
	uint8_t sec[2][4096];
	struct uidtab_desc d, in[2], r;
	int rc[2];

	(void)state;
	geom_one(8);
	assert_int_equal(G.next_desc, 9 + 16);
	assert_int_equal(uidtab_geom_total(&G), 8);
	assert_int_equal(uidtab_geom_next(&G, 100, &d), 0);
	assert_int_equal(d.index, 1);
	assert_int_equal(d.start, 9 + 16 + 2);
	assert_int_equal(d.base, 8);
	snprintf(d.create_host, sizeof(d.create_host), "h1");
	for (int c = 0; c < 2; c++) {
		d.copy = c;
		assert_int_equal(uidtab_desc_out(&d, uuid_a, sec[c], 4096), 0);
		rc[c] = uidtab_desc_in(&in[c], sec[c], 4096, uuid_a, &G, c);
		assert_int_equal(rc[c], 0);
	}
	assert_int_equal(uidtab_desc_resolve(in, rc, &r), 0);
	assert_int_equal(r.nslots, 100);
	assert_string_equal(r.create_host, "h1");
	/* a copy read at the other copy's place: misdirected */
	assert_int_equal(uidtab_desc_in(&in[0], sec[1], 4096, uuid_a, &G, 0), SDLM_EIDENTITY);
	/* only the all-zero sector is "no table" (the empty pattern a grow
	 * and init write); another cluster's descriptor or other bytes fail
	 * closed (test_desc_not_empty_fails_closed) */
	memset(sec[1], 0, sizeof(sec[1]));
	assert_int_equal(uidtab_desc_in(&in[1], sec[1], 4096, uuid_a, &G, 1), UIDREC_ABSENT);
	/* a damaged copy: CRC */
	sec[0][40] ^= 1;
	rc[0] = uidtab_desc_in(&in[0], sec[0], 4096, uuid_a, &G, 0);
	assert_int_equal(rc[0], SDLM_ECHECKSUM);
	/* one damaged, one absent: fail closed (the table may hold mailboxes) */
	rc[1] = UIDREC_ABSENT;
	assert_int_equal(uidtab_desc_resolve(in, rc, &r), SDLM_ECHECKSUM);
	/* one intact copy is enough (a grow stopped between its two writes) */
	d.copy = 1;
	assert_int_equal(uidtab_desc_out(&d, uuid_a, sec[1], 4096), 0);
	rc[1] = uidtab_desc_in(&in[1], sec[1], 4096, uuid_a, &G, 1);
	assert_int_equal(uidtab_desc_resolve(in, rc, &r), 0);
	assert_int_equal(r.nslots, 100);
	{
		struct uidtab_desc none;
		int rca[2] = { UIDREC_ABSENT, UIDREC_ABSENT };

		assert_int_equal(uidtab_desc_resolve(in, rca, &none), UIDREC_ABSENT);
	}

	/* the chain: global slots, offsets, the next descriptor */
	assert_int_equal(uidtab_geom_add(&G, &r), 0);
	assert_int_equal(uidtab_geom_add(&G, &r), -EINVAL);	/* not the next one */
	assert_int_equal(G.ntables, 2);
	assert_int_equal(uidtab_geom_total(&G), 108);
	assert_int_equal(G.next_desc, 27 + 200);
	{
		uint64_t off;

		assert_int_equal(uidtab_geom_offset(&G, 7, 1, &off), 0);
		assert_int_equal(off, (9 + 14 + 1) * SS);
		assert_int_equal(uidtab_geom_offset(&G, 8, 0, &off), 0);
		assert_int_equal(off, 27 * SS);
		assert_int_equal(uidtab_geom_offset(&G, 107, 1, &off), 0);
		assert_int_equal(off, (27 + 198 + 1) * SS);
		assert_int_equal(uidtab_geom_offset(&G, 108, 0, &off), -EINVAL);
		assert_int_equal(uidtab_geom_table(&G, 8), 1);
	}
	/* the bytes a third table of 10 needs: its pair, its slots, the next pair */
	assert_int_equal(uidtab_geom_bytes_for(&G, 10), (227 + 2 + 20 + 2) * SS);
}

/* GUIDs whose home in a table of nslots is home. */
static void colliding(uint64_t nslots, uint64_t home, uint32_t *out, int n, uint32_t from)
{
	uint8_t guid[UID_GUID_LEN];
	uint32_t g;
	int k = 0;

	for (g = from; k < n; g++) {
		guid_make(guid, g);
		if (uidtab_home(guid, nslots) == home)
			out[k++] = g;
	}
}

/*
 * Grow review, hole 2 (failed before the fix: both read as UIDREC_ABSENT,
 * "no table", so a mailbox in that table was missed and created again
 * in table 0: UIDs twice): where a descriptor may be, only the all-zero
 * sector is no table.  Another magic (a damaged first bytes, whatever
 * else) and another cluster's descriptor are errors, and a pair of one
 * such copy and one all-zero copy fails closed.
 */
static void test_desc_not_empty_fails_closed(void **state)
{
	uint8_t sec[2][4096];
	struct uidtab_desc d, in[2], r;
	int rc[2];
	char why[512];

	(void)state;
	geom_one(8);
	assert_int_equal(uidtab_geom_next(&G, 100, &d), 0);
	d.copy = 0;
	assert_int_equal(uidtab_desc_out(&d, uuid_a, sec[0], 4096), 0);
	memset(sec[1], 0, sizeof(sec[1]));
	/* another cluster's descriptor */
	assert_int_equal(uidtab_desc_in(&in[0], sec[0], 4096, uuid_b, &G, 0), SDLM_EIDENTITY);
	/* the magic hit by a bad write */
	sec[0][1] ^= 0x20;
	rc[0] = uidtab_desc_in(&in[0], sec[0], 4096, uuid_a, &G, 0);
	assert_int_equal(rc[0], SDLM_EMAGIC);
	rc[1] = uidtab_desc_in(&in[1], sec[1], 4096, uuid_a, &G, 1);
	assert_int_equal(rc[1], UIDREC_ABSENT);
	assert_int_equal(uidtab_desc_resolve(in, rc, &r), SDLM_EMAGIC);
	/* bytes that were never sdlm's */
	memset(sec[0], 0x5a, sizeof(sec[0]));
	assert_int_equal(uidtab_desc_in(&in[0], sec[0], 4096, uuid_a, &G, 0), SDLM_EMAGIC);
	/* one non-zero byte anywhere is not the empty pattern */
	memset(sec[0], 0, sizeof(sec[0]));
	sec[0][4000] = 1;
	assert_int_equal(uidtab_desc_in(&in[0], sec[0], 4096, uuid_a, &G, 0), SDLM_EMAGIC);
	/* the message names the table, its sectors, each copy and what to do */
	rc[0] = SDLM_EMAGIC;
	rc[1] = UIDREC_ABSENT;
	uidtab_desc_why(why, sizeof(why), &G, rc);
	assert_non_null(strstr(why, "UID table 1"));
	assert_non_null(strstr(why, "sectors 25-26"));
	assert_non_null(strstr(why, "copy 0:"));
	assert_non_null(strstr(why, "copy 1: all zero"));
	assert_non_null(strstr(why, "docs/uid.md"));
}

/*
 * A full table, grown: old mailboxes are still found where they are, a
 * new one goes into the new table, a GUID is never placed twice (not even
 * when a tombstone appears in the old table after it went into the new
 * one), and the new table is found by a probe that did not know of it.
 */
static void test_grow_probe(void **state)
{
	uint32_t g[8], nw[4];
	uint64_t slot, s;
	int i;

	(void)state;
	geom_one(8);
	for (i = 0; i < 8; i++) {
		g[i] = 1000 + (uint32_t)i;
		assert_int_equal(insert(g[i], &slot), 0);
	}
	/* full: the probe asked for another table first, there was none */
	asked = 0;
	assert_int_equal(insert(77, &slot), UIDTAB_EFULL);
	assert_int_equal(asked, 1);
	assert_int_equal(lookup(77, &slot), -ENOENT);

	/* another node grew the table: this probe learns of it */
	more[0] = 16;
	nmore = 1;
	asked = 0;
	assert_int_equal(insert(77, &slot), 0);
	assert_int_equal(G.ntables, 2);
	assert_true(slot >= 8 && slot < 24);
	for (i = 0; i < 8; i++) {
		assert_int_equal(lookup(g[i], &s), 0);
		assert_true(s < 8);
	}
	assert_int_equal(lookup(77, &s), 0);
	assert_int_equal(s, slot);
	assert_int_equal(insert(77, &s), -EEXIST);

	/* a tombstone in the old table: a new GUID takes it (the earliest
	 * table first), but 77 is still found, and not placed twice */
	assert_int_equal(lookup(g[3], &s), 0);
	put(s, g[3], 1, UIDREC_DELETED);
	assert_int_equal(insert(77, &s), -EEXIST);
	assert_int_equal(s, slot);
	assert_int_equal(lookup(g[3], &s), -ENOENT);
	assert_int_equal(insert(78, &s), 0);
	assert_true(s < 8);
	assert_int_equal(lookup(78, &s), 0);
	assert_true(s < 8);
	assert_int_equal(lookup(77, &s), 0);
	assert_int_equal(s, slot);

	/* the new table fills too: full again, until a third table */
	for (i = 0; i < 15; i++)
		assert_int_equal(insert(2000 + (uint32_t)i, &s), 0);
	assert_int_equal(insert(3000, &s), UIDTAB_EFULL);
	more[0] = 4;
	nmore = 1;
	assert_int_equal(insert(3000, &s), 0);
	assert_true(s >= 24 && s < 28);
	for (i = 0; i < 15; i++) {
		assert_int_equal(lookup(2000 + (uint32_t)i, &s), 0);
		assert_true(s >= 8 && s < 24);
	}
	/* each GUID in exactly one slot: scan the disk */
	{
		uint32_t seen[28] = { 0 };
		struct uid_slot_view v;

		for (s = 0; s < 28; s++) {
			view(s, &v);
			if (v.kind != UID_SLOT_USED)
				continue;
			memcpy(&seen[s], v.guid, 4);
			for (uint64_t t = 0; t < s; t++)
				assert_true(seen[t] != seen[s]);
		}
	}
	(void)nw;
}

/*
 * The window: in a table larger than UIDTAB_WINDOW a new mailbox is never
 * placed further than the window from its home (it goes to the next
 * table instead), and an EMPTY slot within the window ends a lookup
 * without walking the later tables; one past it does not.
 */
static void test_window(void **state)
{
	uint32_t g[2], far[1];
	uint64_t n0 = 2048, slot, s, home;
	uint8_t guid[UID_GUID_LEN];
	int i;

	(void)state;
	geom_one(n0);
	colliding(n0, 100, g, 2, 1);
	guid_make(guid, g[0]);
	home = uidtab_home(guid, n0);
	assert_int_equal(home, 100);
	/* fill the window of home 100 with other mailboxes */
	for (i = 0; i < UIDTAB_WINDOW; i++)
		put(100 + (uint64_t)i, 500000 + (uint32_t)i, 1, UIDREC_USED);
	/* an absent GUID with this home: the EMPTY past the window is no
	 * proof, so the probe asks for the next table */
	asked = 0;
	assert_int_equal(lookup(g[0], &s), -ENOENT);
	assert_int_equal(asked, 1);
	/* the insert is full (free slots exist, but past the window) */
	assert_int_equal(insert(g[0], &s), UIDTAB_EFULL);
	/* grown: it goes to the new table */
	more[0] = 64;
	nmore = 1;
	assert_int_equal(insert(g[0], &slot), 0);
	assert_true(slot >= n0);
	assert_int_equal(lookup(g[0], &s), 0);
	assert_int_equal(s, slot);
	/* a GUID whose home is free: found absent without asking */
	colliding(n0, 1500, far, 1, 1);
	asked = 0;
	assert_int_equal(lookup(far[0], &s), -ENOENT);
	assert_int_equal(asked, 0);
	assert_int_equal(s, 1500);
	assert_int_equal(insert(far[0], &s), 0);
	assert_int_equal(s, 1500);
	/* a record placed past the window by an older daemon (unbounded
	 * probing) is still found: a lookup walks to the EMPTY slot */
	put(100 + UIDTAB_WINDOW, g[1], 1, UIDREC_USED);
	assert_int_equal(lookup(g[1], &s), 0);
	assert_int_equal(s, 100 + UIDTAB_WINDOW);
	assert_int_equal(insert(g[1], &s), -EEXIST);
}

/* A damaged slot in the old table still fails closed across tables. */
static void test_damaged_across(void **state)
{
	uint64_t s;
	int i;

	(void)state;
	geom_one(4);
	more[0] = 4;
	nmore = 1;
	for (i = 0; i < 4; i++)
		assert_int_equal(insert(10 + (uint32_t)i, &s), 0);
	assert_int_equal(insert(20, &s), 0);	/* grows on the way */
	assert_true(s >= 4);
	/* damage slot 2 copy 0 and 1 */
	disk[2][0][100] ^= 1;
	disk[2][1][100] ^= 1;
	{
		struct uidtab_probe p;
		struct uid_slot_view v;
		uint8_t guid[UID_GUID_LEN];
		int rv;

		guid_make(guid, 99);
		assert_int_equal(uidtab_probe_init_geom(&p, guid, &G, false), 0);
		p.last = true;
		rv = UIDTAB_MORE;
		while (rv == UIDTAB_MORE) {
			struct uid_rec rec[2];
			int rc[2];

			for (int c = 0; c < 2; c++)
				rc[c] = uidrec_in(&rec[c], disk[p.slot][c], SS, uuid_a, p.slot, c);
			rv = uidrec_resolve(rec, rc, &v);
			rv = rv < 0 ? uidtab_probe_damaged(&p, rv) : uidtab_probe_step(&p, &v);
		}
		/* 99 not found, past a damaged slot: the damage, not -ENOENT */
		assert_int_equal(rv, SDLM_ECHECKSUM);
		assert_int_equal(p.slot, 2);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_desc_codec),
		cmocka_unit_test(test_desc_not_empty_fails_closed),
		cmocka_unit_test(test_grow_probe),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_damaged_across),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
