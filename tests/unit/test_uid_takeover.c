/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_uid_takeover.c - a takeover checks the lock value block (LVB)
 * against the mailbox record on disk (issue 15, item 3).
 *
 * The LVB's CRC32C is public, so anything that can write the value block
 * of a uid:* lock can forge one.  A takeover trusts the LVB's next only
 * if its epoch is not below the disk's AND its next is not below the
 * floor of the disk's latest copy (record minor 2: the lowest UID its
 * writer had not handed out when it wrote); otherwise it starts at the
 * disk's maximum + 1: a gap, never a reuse.  A next above the disk's maximum + 1 is still
 * honoured (late landings, docs/uid.md).
 *
 * The "disk" is one slot pair in memory, written and read through the
 * real record codec (fence/uidrec.c), as in test_uid.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sdlm.h"
#include "crc32c.h"
#include "uid.h"

#define S		512
#define SLOT		3
#define UV		4242
#define RANGE		16

static const uint8_t uuid_a[SDLM_UUID_LEN] = {
	0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x47, 0x88,
	0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01,
};
static const uint8_t guid_x[UID_GUID_LEN] = {
	0xca, 0xfe, 0xf0, 0x0d, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
};

static uint8_t disk[2][S];

static void disk_write(const struct uid_rec *r)
{
	assert_int_equal(r->slot, SLOT);
	assert_true(r->copy < 2);
	assert_int_equal(uidrec_out(r, uuid_a, disk[r->copy], S), 0);
}

static void disk_view(struct uid_slot_view *v)
{
	struct uid_rec rec[2];
	int rc[2], c;

	for (c = 0; c < 2; c++)
		rc[c] = uidrec_in(&rec[c], disk[c], S, uuid_a, SLOT, c);
	assert_int_equal(uidrec_resolve(rec, rc, v), 0);
}

static struct uid_params params(void)
{
	struct uid_params p;

	uid_params_default(&p);
	p.reserve_min = RANGE;
	p.reserve_max = RANGE;
	return p;
}

static void run_writes(struct uid_mbox *m, struct uid_write *w)
{
	int rv;

	while (w->count) {
		disk_write(&w->rec);
		rv = uid_write_done(m, 0, w);
		assert_true(rv == 0 || rv == UID_WAIT);
	}
}

/* Hand out n UIDs one by one (synchronous writes); returns the last. */
static uint32_t alloc_n(struct uid_mbox *m, unsigned n)
{
	struct uid_params p = params();
	struct uid_write w;
	uint32_t first = 0, last = 0;
	unsigned i, guard;
	int rv;

	for (i = 0; i < n; i++) {
		guard = 0;
		while ((rv = uid_alloc(m, &p, 1, 0, 0, &first, &w)) == UID_WAIT) {
			assert_int_equal(w.count, 1);
			run_writes(m, &w);
			assert_true(++guard < 4);
		}
		assert_int_equal(rv, 0);
		run_writes(m, &w);
		if (last)
			assert_int_equal(first, last + 1);
		last = first;
	}
	return last;
}

static void create(struct uid_mbox *m, uint32_t node, uint64_t epoch)
{
	struct uid_params p = params();
	struct uid_slot_view v;
	struct uid_write w;

	memset(disk, 0, sizeof(disk));
	memset(m, 0, sizeof(*m));
	disk_view(&v);
	assert_int_equal(uid_create(m, &p, guid_x, "INBOX", 5, UV, SLOT, &v,
				    epoch, node, 100 + node, 0, &w), UID_WAIT);
	run_writes(m, &w);
	assert_int_equal(m->um_phase, UID_READY);
}

static void takeover(struct uid_mbox *m, const uint8_t *lvb, uint64_t epoch,
		     uint32_t node)
{
	struct uid_params p = params();
	struct uid_slot_view v;
	struct uid_write w;

	memset(m, 0, sizeof(*m));
	disk_view(&v);
	assert_int_equal(uid_takeover(m, &p, guid_x, SLOT, &v, lvb, epoch,
				      node, 100 + node, 0, &w), UID_WAIT);
	run_writes(m, &w);
	assert_int_equal(m->um_phase, UID_READY);
}

/* A value block as anyone can make one: the CRC32C is public. */
static void forge(uint8_t lvb[UID_LVB_LEN], uint64_t epoch, uint32_t next)
{
	struct uid_lvb l = {
		.uidvalidity = UV, .epoch = epoch, .next = next,
		.slot_plus1 = SLOT + 1, .range = RANGE,
	};

	assert_int_equal(uid_lvb_out(&l, lvb), 0);
}

static uint64_t disk_epoch(void)
{
	struct uid_slot_view v;

	disk_view(&v);
	return v.epoch;
}

static uint32_t disk_max(void)
{
	struct uid_slot_view v;

	disk_view(&v);
	return v.watermark;
}

/*
 * The hole: a value block with the disk's own epoch and next = 1.  On the
 * code before the floor the next holder handed out UID 1 again.
 */
static void test_forged_next_one(void **state)
{
	struct uid_mbox a, b;
	uint8_t lvb[UID_LVB_LEN], real[UID_LVB_LEN];
	uint32_t high, first;

	(void)state;
	create(&a, 1, 1);
	high = alloc_n(&a, 40);
	assert_int_equal(high, 40);
	assert_int_equal(uid_release(&a, real), 0);

	forge(lvb, disk_epoch(), 1);
	takeover(&b, lvb, 2, 2);
	assert_false(b.um_lvb_used);
	assert_int_equal(b.um_lvb_verdict, UID_LVBV_BELOW);
	assert_int_equal(b.um_lvb_next, 1);
	first = alloc_n(&b, 1);
	assert_true(first > high);
	assert_true(disk_max() >= first);	/* both copies cover it */
}

/* A higher epoch than the disk's (the sequence), next below the
 * UIDs already handed out. */
static void test_forged_higher_epoch(void **state)
{
	struct uid_mbox a, b;
	uint8_t lvb[UID_LVB_LEN], real[UID_LVB_LEN];
	uint32_t high, wm, first;

	(void)state;
	create(&a, 1, 1);
	high = alloc_n(&a, 40);
	assert_int_equal(uid_release(&a, real), 0);

	wm = disk_max();
	forge(lvb, disk_epoch() + 5, 20);
	takeover(&b, lvb, 2, 2);
	assert_false(b.um_lvb_used);
	assert_int_equal(b.um_lvb_verdict, UID_LVBV_BELOW);
	first = alloc_n(&b, 1);
	assert_true(first > high);
	assert_int_equal(first, wm + 1);	/* the disk's maximum + 1 */
}

/*
 * Second tenure: B took over from A's real value block and handed out
 * more; a forged block with B's epoch and a next inside A's tenure
 * (below B's first UID) is refused.
 */
static void test_forged_below_tenure(void **state)
{
	struct uid_mbox a, b, c;
	uint8_t lvb[UID_LVB_LEN], real[UID_LVB_LEN];
	uint32_t high, first;

	(void)state;
	create(&a, 1, 1);
	alloc_n(&a, 40);
	assert_int_equal(uid_release(&a, real), 0);
	takeover(&b, real, 2, 2);
	assert_true(b.um_lvb_used);
	first = alloc_n(&b, 1);
	assert_int_equal(first, 41);	/* no gap on a clean hand-off */
	high = alloc_n(&b, 19);
	assert_int_equal(high, 60);
	assert_int_equal(uid_release(&b, real), 0);

	forge(lvb, disk_epoch(), 30);
	takeover(&c, lvb, 3, 3);
	assert_false(c.um_lvb_used);
	assert_int_equal(c.um_lvb_verdict, UID_LVBV_BELOW);
	first = alloc_n(&c, 1);
	assert_true(first > high);
}

/* What the floor must not break: a real hand-off has no gap, and a next
 * above the disk's maximum + 1 is honoured. */
static void test_real_and_above(void **state)
{
	struct uid_mbox a, b, c;
	uint8_t lvb[UID_LVB_LEN], real[UID_LVB_LEN];
	uint32_t wm;

	(void)state;
	create(&a, 1, 1);
	alloc_n(&a, 5);
	assert_int_equal(uid_release(&a, real), 0);
	takeover(&b, real, 2, 2);
	assert_true(b.um_lvb_used);
	assert_int_equal(b.um_lvb_verdict, UID_LVBV_USED);
	assert_false(b.um_lvb_above);
	assert_int_equal(alloc_n(&b, 1), 6);
	assert_int_equal(uid_release(&b, real), 0);

	/* a next exactly at the floor: B's first UID, handed out nothing
	 * more (B released right after its takeover) */
	takeover(&b, real, 3, 2);
	assert_int_equal(b.um_next, 7);
	assert_int_equal(uid_release(&b, real), 0);
	takeover(&c, real, 4, 3);
	assert_true(c.um_lvb_used);
	assert_int_equal(c.um_next, 7);
	assert_int_equal(uid_release(&c, real), 0);

	/* above the disk: honoured, both copies rewritten above it */
	wm = disk_max();
	forge(lvb, disk_epoch(), wm + 1000);
	takeover(&a, lvb, 5, 1);
	assert_true(a.um_lvb_used);
	assert_true(a.um_lvb_above);
	assert_int_equal(alloc_n(&a, 1), wm + 1000);
	assert_true(disk_max() >= wm + 1000);
}

/* Floors on the disk: every write carries its writer's next UID. */
static void test_floor_written(void **state)
{
	struct uid_mbox a, b;
	struct uid_slot_view v;
	uint8_t real[UID_LVB_LEN];
	uint32_t wm;

	(void)state;
	create(&a, 1, 1);
	disk_view(&v);
	assert_int_equal(v.floor, 1);
	alloc_n(&a, 100);		/* several reservation writes */
	disk_view(&v);
	/* the next UID at the last write: within about a range of 101 */
	assert_true(v.floor <= a.um_next && v.floor + RANGE >= a.um_next);
	assert_true(v.floor <= v.watermark + 1);
	assert_int_equal(uid_release(&a, real), 0);
	/* from the disk (no LVB): the floor is the disk's maximum + 1 */
	wm = disk_max();
	takeover(&b, NULL, 2, 2);
	assert_int_equal(b.um_lvb_verdict, UID_LVBV_NONE);
	disk_view(&v);
	assert_int_equal(v.floor, wm + 1);
	assert_int_equal(b.um_next, wm + 1);
}

/* Put a copy back to record minor 1 (no floor): what an older daemon
 * wrote.  The bytes at the floor's offset are reserved there. */
static void make_minor1(int c, uint32_t junk)
{
	uint32_t crc;

	disk[c][10] = 1;
	disk[c][11] = 0;
	memcpy(&disk[c][388], &junk, 4);	/* little-endian host */
	crc = crc32c(0, disk[c], 508);
	memcpy(&disk[c][508], &crc, 4);
}

/*
 * A record without a floor (minor 1): a value block whose next is at or
 * below the disk's maximum cannot be checked, so it is not used (one gap
 * per mailbox after an upgrade); at the maximum + 1 or above it is.
 */
static void test_old_record(void **state)
{
	struct uid_mbox a, b;
	struct uid_slot_view v;
	uint8_t real[UID_LVB_LEN], lvb[UID_LVB_LEN];
	uint32_t wm;

	(void)state;
	create(&a, 1, 1);
	alloc_n(&a, 40);
	assert_int_equal(uid_release(&a, real), 0);
	/* reserved bytes of minor 1 are not read as a floor */
	make_minor1(0, 0xffffffffu);
	make_minor1(1, 0xffffffffu);
	disk_view(&v);
	assert_int_equal(v.floor, 0);
	wm = v.watermark;
	assert_true(wm > 41);

	takeover(&b, real, 2, 2);
	assert_false(b.um_lvb_used);
	assert_int_equal(b.um_lvb_verdict, UID_LVBV_NOFLOOR);
	assert_int_equal(b.um_next, wm + 1);
	/* and the takeover wrote the floor: the next hand-off is checked */
	disk_view(&v);
	assert_int_equal(v.floor, wm + 1);
	assert_int_equal(uid_release(&b, real), 0);
	takeover(&a, real, 3, 1);
	assert_true(a.um_lvb_used);
	assert_int_equal(a.um_next, wm + 1);
	assert_int_equal(uid_release(&a, real), 0);

	/* minor 1 again: a next of maximum + 1, or above, is used */
	make_minor1(0, 0);
	make_minor1(1, 0);
	wm = disk_max();
	forge(lvb, disk_epoch(), wm + 1);
	takeover(&b, lvb, 4, 2);
	assert_true(b.um_lvb_used);
	assert_false(b.um_lvb_above);
	assert_int_equal(b.um_next, wm + 1);
}

/* The other refusals keep their verdicts. */
static void test_other_verdicts(void **state)
{
	struct uid_mbox a, b;
	struct uid_lvb l;
	uint8_t real[UID_LVB_LEN], lvb[UID_LVB_LEN];

	(void)state;
	create(&a, 1, 5);
	alloc_n(&a, 3);
	assert_int_equal(uid_release(&a, real), 0);

	forge(lvb, disk_epoch() - 1, 4);		/* older than the disk */
	takeover(&b, lvb, 6, 2);
	assert_int_equal(b.um_lvb_verdict, UID_LVBV_STALE);
	assert_int_equal(uid_release(&b, real), 0);

	assert_int_equal(uid_lvb_in(&l, real), 0);	/* another UIDVALIDITY */
	l.uidvalidity++;
	assert_int_equal(uid_lvb_out(&l, lvb), 0);
	takeover(&b, lvb, 7, 2);
	assert_int_equal(b.um_lvb_verdict, UID_LVBV_OTHER);
	assert_int_equal(uid_release(&b, real), 0);

	memcpy(lvb, real, sizeof(lvb));			/* a bad CRC */
	lvb[17] ^= 1;
	takeover(&b, lvb, 8, 2);
	assert_int_equal(b.um_lvb_verdict, UID_LVBV_BAD);
	assert_int_equal(b.um_lvb_err, SDLM_ECHECKSUM);
	assert_false(b.um_lvb_used);
	assert_int_equal(uid_release(&b, real), 0);

	memset(lvb, 0, sizeof(lvb));			/* none */
	takeover(&b, lvb, 9, 2);
	assert_int_equal(b.um_lvb_verdict, UID_LVBV_NONE);
}

/*
 * The floor never refuses an honest value block: a fixed-seed schedule of
 * allocations of every size, ranges that adapt (time moves), reservation
 * writes that fail (landed or not), renames, and clean hand-offs between
 * nodes.  Every hand-off must use the LVB, with no gap, and no UID is
 * handed out twice.
 */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)(rnd_state % n);
}

static void test_honest_handoffs(void **state)
{
	struct uid_params p;
	struct uid_mbox m;
	struct uid_write w;
	struct uid_lvb l;
	uint8_t lvb[UID_LVB_LEN];
	uint64_t now = 0, epoch = 1;
	uint32_t high = 0, first, count, node = 1;
	unsigned step, handoffs = 0, failed = 0;
	int rv;

	(void)state;
	uid_params_default(&p);
	p.reserve_min = 4;
	p.reserve_max = 256;
	memset(disk, 0, sizeof(disk));
	memset(&m, 0, sizeof(m));
	{
		struct uid_slot_view v;

		disk_view(&v);
		assert_int_equal(uid_create(&m, &p, guid_x, "INBOX", 5, UV, SLOT,
					    &v, epoch, node, 100, now, &w), UID_WAIT);
		run_writes(&m, &w);
	}
	for (step = 0; step < 20000; step++) {
		now += (uint64_t)rnd(3000) * 1000000ull;	/* 0..3 s */
		switch (rnd(40)) {
		case 0: {	/* a clean hand-off to another node */
			struct uid_slot_view v;

			assert_int_equal(uid_release(&m, lvb), 0);
			assert_int_equal(uid_lvb_in(&l, lvb), 0);
			node = node % 4 + 1;
			disk_view(&v);
			memset(&m, 0, sizeof(m));
			assert_int_equal(uid_takeover(&m, &p, guid_x, SLOT, &v, lvb,
						      ++epoch, node, 100 + node,
						      now, &w), UID_WAIT);
			run_writes(&m, &w);
			assert_int_equal(m.um_lvb_verdict, UID_LVBV_USED);
			assert_int_equal(m.um_next, l.next);
			handoffs++;
			break;
		}
		case 1:		/* a rename: a rewrite carries the floor too */
			assert_int_equal(uid_rename(&m, step & 1 ? "A" : "B", 1, &w),
					 UID_WAIT);
			run_writes(&m, &w);
			break;
		default:
			count = 1 + rnd(rnd(4) ? 4 : 200);
			while ((rv = uid_alloc(&m, &p, count, now, 0, &first, &w))
			       == UID_WAIT) {
				assert_int_equal(w.count, 1);
				if (rnd(8) == 0) {
					/* failed: landed or not */
					if (rnd(2))
						disk_write(&w.rec);
					assert_int_equal(uid_write_done(&m, -EIO, &w), -EIO);
					failed++;
				} else {
					run_writes(&m, &w);
				}
			}
			assert_int_equal(rv, 0);
			assert_true(first > high);
			high = first + count - 1;
			if (w.count) {
				if (rnd(8) == 0) {
					if (rnd(2))
						disk_write(&w.rec);
					assert_int_equal(uid_write_done(&m, -EIO, &w), -EIO);
					failed++;
				} else {
					run_writes(&m, &w);
				}
			}
			break;
		}
	}
	print_message("%u hand-offs, %u failed writes\n", handoffs, failed);
	assert_true(handoffs > 300);
	assert_true(failed > 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forged_next_one),
		cmocka_unit_test(test_forged_higher_epoch),
		cmocka_unit_test(test_forged_below_tenure),
		cmocka_unit_test(test_real_and_above),
		cmocka_unit_test(test_floor_written),
		cmocka_unit_test(test_old_record),
		cmocka_unit_test(test_other_verdicts),
		cmocka_unit_test(test_honest_handoffs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
