/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_uid.c - unit tests of dlm/core/uid.c, the UID allocator's pure core.
 *
 * The "disk" is one slot pair in memory, written and read through the
 * real record codec (fence/uidrec.c), so what a reader trusts is exactly
 * what uidrec_resolve makes of the bytes.  Writes complete when the test
 * says so; a write can be held back and land late, after a takeover.
 *
 * The randomized schedule (fixed seed, so a failure replays) mixes
 * allocations, clean hand-offs through the LVB, fences that leave a write
 * in flight, late landings, failed writes, restarted lock epochs and
 * UIDVALIDITY bumps, and checks after every step that no UID was handed
 * out twice and that what a reader would trust never went backwards.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdlm.h"
#include "aio.h"
#include "crc32c.h"
#include "uid.h"

#define S		512
#define SLOT		5
#define MS		1000000ull
#define SEC		1000000000ull

static const uint8_t uuid_a[SDLM_UUID_LEN] = {
	0x6b, 0x1d, 0x2e, 0x3f, 0x40, 0x51, 0x42, 0x63,
	0x84, 0x95, 0xa6, 0xb7, 0xc8, 0xd9, 0xea, 0xfb,
};
static const uint8_t guid_x[UID_GUID_LEN] = {
	0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
};

static uint8_t disk[2][S];
static unsigned disk_writes;

static void disk_reset(void)
{
	memset(disk, 0, sizeof(disk));
	disk_writes = 0;
}

static void disk_write(const struct uid_rec *r)
{
	assert_int_equal(r->slot, SLOT);
	assert_true(r->copy < 2);
	assert_int_equal(uidrec_out(r, uuid_a, disk[r->copy], S), 0);
	disk_writes++;
}

static void disk_view(struct uid_slot_view *v)
{
	struct uid_rec rec[2];
	int rc[2], c;

	for (c = 0; c < 2; c++)
		rc[c] = uidrec_in(&rec[c], disk[c], S, uuid_a, SLOT, c);
	assert_int_equal(uidrec_resolve(rec, rc, v), 0);
}

/* Watermark of one copy as the disk holds it (0 if absent). */
static uint32_t disk_copy_w(int c)
{
	struct uid_rec r;

	if (uidrec_in(&r, disk[c], S, uuid_a, SLOT, c) != 0)
		return 0;
	return r.watermark;
}

static struct uid_params params_fixed(uint32_t range)
{
	struct uid_params p;

	uid_params_default(&p);
	p.reserve_min = range;
	p.reserve_max = range;
	return p;
}

/* Complete every write of a sequence at once. */
static int run_writes(struct uid_mbox *m, struct uid_write *w)
{
	int rv = 0;

	while (w->count) {
		disk_write(&w->rec);
		rv = uid_write_done(m, 0, w);
		assert_true(rv == 0 || rv == UID_WAIT);
	}
	return rv;
}

/* Allocate with synchronous writes: the caller loop of uid.h. */
static int alloc_sync(struct uid_mbox *m, const struct uid_params *p,
		      uint32_t count, uint64_t now, uint32_t *first)
{
	struct uid_write w;
	int rv, guard = 0;

	while ((rv = uid_alloc(m, p, count, now, 0, first, &w)) == UID_WAIT) {
		assert_true(w.count == 1);	/* nothing else is in flight */
		run_writes(m, &w);
		assert_true(++guard < 8);
	}
	if (rv == 0)
		run_writes(m, &w);	/* the background reservation */
	return rv;
}

static void create_sync(struct uid_mbox *m, const struct uid_params *p,
			uint32_t uidvalidity, uint32_t node, uint64_t epoch)
{
	struct uid_slot_view v;
	struct uid_write w;

	disk_view(&v);
	assert_int_equal(uid_create(m, p, guid_x, "INBOX", 5, uidvalidity, SLOT,
				    &v, epoch, node, 100 + node, 0, &w), UID_WAIT);
	run_writes(m, &w);
	assert_int_equal(m->um_phase, UID_READY);
}

static void takeover_sync(struct uid_mbox *m, const struct uid_params *p,
			  const uint8_t *lvb, uint64_t lock_epoch, uint32_t node,
			  uint64_t now)
{
	struct uid_slot_view v;
	struct uid_write w;

	disk_view(&v);
	assert_int_equal(uid_takeover(m, p, guid_x, SLOT, &v, lvb, lock_epoch,
				      node, 100 + node, now, &w), UID_WAIT);
	run_writes(m, &w);
	assert_int_equal(m->um_phase, UID_READY);
}

/* ---- reservation: no I/O below it, one write per range ---- */

static void test_reserve_no_io(void **state)
{
	struct uid_params p = params_fixed(16);
	struct uid_mbox m;
	struct uid_write w, bg;
	uint32_t first, i;

	(void)state;
	disk_reset();
	memset(&m, 0, sizeof(m));
	create_sync(&m, &p, 1000, 1, 1);
	assert_int_equal(disk_writes, 2);
	/* both copies before the first UID: 16 and 32 */
	assert_int_equal(disk_copy_w(0), 16);
	assert_int_equal(disk_copy_w(1), 32);

	/* the first 8 UIDs cost no I/O at all */
	for (i = 1; i <= 8; i++) {
		assert_int_equal(uid_alloc(&m, &p, 1, 0, 0, &first, &w), 0);
		assert_int_equal(first, i);
		assert_int_equal(w.count, 0);
	}
	/* less than half a range left under usable: a background write */
	assert_int_equal(uid_alloc(&m, &p, 1, 0, 0, &first, &bg), 0);
	assert_int_equal(first, 9);
	assert_int_equal(bg.count, 1);
	assert_int_equal(bg.rec.copy, 0);	/* the lower copy */
	assert_int_equal(bg.rec.watermark, 48);
	assert_int_equal(bg.rec.res_first, 33);	/* the journal entry */
	assert_int_equal(bg.rec.res_last, 48);
	assert_int_equal(bg.rec.node_id, 1);
	assert_int_equal(bg.rec.epoch, 1);
	/* while it is in flight, allocation below usable goes on, no new write */
	assert_int_equal(uid_alloc(&m, &p, 7, 0, 0, &first, &w), 0);
	assert_int_equal(first, 10);
	assert_int_equal(w.count, 0);
	/* usable (16) reached: wait for the write in flight */
	assert_int_equal(uid_alloc(&m, &p, 1, 0, 0, &first, &w), UID_WAIT);
	assert_int_equal(w.count, 0);
	assert_int_equal(m.um_next, 17);
	disk_write(&bg.rec);
	assert_int_equal(uid_write_done(&m, 0, &w), 0);
	assert_int_equal(w.count, 0);
	/* copies (48, 32): usable 32; the next write once under 8 are left */
	do {
		assert_int_equal(uid_alloc(&m, &p, 1, 0, 0, &first, &w), 0);
	} while (!w.count);
	assert_int_equal(first, 25);
	assert_int_equal(w.rec.copy, 1);	/* the other copy: 32 -> 64 */
	assert_int_equal(w.rec.watermark, 64);
	run_writes(&m, &w);

	/* steady state: one write per range */
	disk_writes = 0;
	for (i = 0; i < 1600; i++) {
		assert_int_equal(alloc_sync(&m, &p, 1, 0, &first), 0);
		assert_int_equal(first, 26 + i);
		/* both copies cover every UID handed out */
		assert_true(disk_copy_w(0) >= first);
		assert_true(disk_copy_w(1) >= first);
	}
	assert_in_range(disk_writes, 99, 101);
	/* a batch larger than the range still works, and stays covered */
	assert_int_equal(alloc_sync(&m, &p, 16, 0, &first), 0);
	assert_true(disk_copy_w(0) >= first + 15 && disk_copy_w(1) >= first + 15);
	assert_int_equal(uid_alloc(&m, &p, 17, 0, 0, &first, &w), -EINVAL);
	assert_int_equal(uid_alloc(&m, &p, 0, 0, 0, &first, &w), -EINVAL);
}

/* ---- the range adapts to the rate, within its caps ---- */

static void test_adapt(void **state)
{
	struct uid_params p;
	struct uid_mbox m;
	uint64_t now = 0;
	uint32_t first, i, prev, grew = 0;

	(void)state;
	uid_params_default(&p);
	p.reserve_min = 16;
	p.reserve_max = 1024;
	disk_reset();
	memset(&m, 0, sizeof(m));
	create_sync(&m, &p, 1, 1, 1);
	assert_int_equal(m.um_range, 16);
	prev = m.um_range;

	/* 1 µs per UID: every range is used up within a second */
	for (i = 0; i < 20000; i++) {
		now += 1000;
		assert_int_equal(alloc_sync(&m, &p, 1, now, &first), 0);
		if (m.um_range > prev)
			grew++;
		assert_true(m.um_range <= 1024);
		prev = m.um_range;
	}
	assert_int_equal(m.um_range, 1024);
	assert_int_equal(grew, 6);	/* 16 -> 32 -> ... -> 1024 */
	/* a fast node writes about once per 1024 UIDs */
	disk_writes = 0;
	for (i = 0; i < 10240; i++) {
		now += 1000;
		assert_int_equal(alloc_sync(&m, &p, 1, now, &first), 0);
	}
	assert_in_range(disk_writes, 9, 11);

	/* one UID a minute: each range outlives shrink_ns, halve to the floor */
	for (i = 0; i < 5000 && m.um_range > 16; i++) {
		now += 60 * SEC;
		assert_int_equal(alloc_sync(&m, &p, 1, now, &first), 0);
		assert_true(m.um_range >= 16);
	}
	assert_int_equal(m.um_range, 16);
	/* and between the two periods it holds still */
	now += 10 * SEC;
	m.um_last_reserve_ns = now;
	prev = m.um_range;
	for (i = 0; i < 100; i++) {
		now += 10 * SEC / 16;
		assert_int_equal(alloc_sync(&m, &p, 1, now, &first), 0);
	}
	assert_int_equal(m.um_range, prev);
	assert_int_equal(uid_params_check(&p), 0);
	p.reserve_min = 0;
	assert_int_equal(uid_params_check(&p), -EINVAL);
	p.reserve_min = 2048;
	assert_int_equal(uid_params_check(&p), -EINVAL);
	p.reserve_min = 1;
	p.reserve_max = UID_RESERVE_CAP + 1;
	assert_int_equal(uid_params_check(&p), -EINVAL);
}

/* ---- epochs: durable before use, strictly increasing ---- */

static void test_epochs(void **state)
{
	struct uid_params p = params_fixed(16);
	struct uid_mbox m;
	struct uid_slot_view v;
	struct uid_write w, w2;
	uint8_t lvb[UID_LVB_LEN];
	uint64_t prev = 0, lock_epoch[] = { 2, 3, 7, 1, 1, 2, 50 };
	uint32_t first;
	size_t i;

	(void)state;
	disk_reset();
	memset(&m, 0, sizeof(m));
	create_sync(&m, &p, 1, 1, 1);
	assert_int_equal(uid_release(&m, lvb), 0);

	for (i = 0; i < sizeof(lock_epoch) / sizeof(lock_epoch[0]); i++) {
		disk_view(&v);
		prev = v.epoch;
		assert_int_equal(uid_takeover(&m, &p, guid_x, SLOT, &v,
					      i % 2 ? lvb : NULL, lock_epoch[i],
					      (uint32_t)(i % 3 + 1), 7, 0, &w),
				 UID_WAIT);
		/* strictly above every durable epoch, even when the lock
		 * manager's counter restarted (1, 1, 2) */
		assert_true(m.um_epoch > prev);
		assert_true(m.um_epoch >= lock_epoch[i]);
		assert_int_equal(w.rec.epoch, m.um_epoch);
		/* nothing is handed out before both writes completed */
		assert_int_equal(uid_alloc(&m, &p, 1, 0, 0, &first, &w2), UID_WAIT);
		assert_int_equal(w2.count, 0);
		assert_int_equal(m.um_phase, UID_STARTING);
		disk_view(&v);
		assert_int_equal(v.epoch, prev);	/* write not yet done */
		assert_int_equal(uid_takeover(&m, &p, guid_x, SLOT, &v, NULL, 1, 1,
					      1, 0, &w2), -EBUSY);
		disk_write(&w.rec);
		assert_int_equal(uid_alloc(&m, &p, 1, 0, 0, &first, &w2), UID_WAIT);
		assert_int_equal(uid_write_done(&m, 0, &w), UID_WAIT);
		run_writes(&m, &w);
		disk_view(&v);
		assert_int_equal(v.epoch, m.um_epoch);	/* durable */
		assert_int_equal(alloc_sync(&m, &p, 1, 0, &first), 0);
		assert_int_equal(uid_release(&m, lvb), 0);
	}
}

/* ---- hand-off through the LVB vs. resuming after a fence ---- */

static void test_takeover_lvb_vs_fence(void **state)
{
	struct uid_params p = params_fixed(16);
	struct uid_mbox a, b, c;
	struct uid_slot_view v;
	struct uid_lvb l;
	uint8_t lvb_a[UID_LVB_LEN], lvb[UID_LVB_LEN];
	uint32_t first, i, b_max = 0;

	(void)state;
	disk_reset();
	memset(&a, 0, sizeof(a));
	create_sync(&a, &p, 77, 1, 1);
	for (i = 0; i < 5; i++)
		assert_int_equal(alloc_sync(&a, &p, 1, 0, &first), 0);
	assert_int_equal(uid_release(&a, lvb_a), 0);
	assert_int_equal(uid_lvb_in(&l, lvb_a), 0);
	assert_int_equal(l.next, 6);
	assert_int_equal(l.uidvalidity, 77);
	assert_int_equal(l.slot_plus1, SLOT + 1);
	assert_int_equal(a.um_phase, UID_IDLE);
	assert_int_equal(uid_alloc(&a, &p, 1, 0, 0, &first, &(struct uid_write){0}),
			 -ENOLCK);

	/* clean hand-off: B continues at 6, no gap */
	memset(&b, 0, sizeof(b));
	takeover_sync(&b, &p, lvb_a, 2, 2, 0);
	assert_true(b.um_lvb_used);
	assert_int_equal(alloc_sync(&b, &p, 1, 0, &first), 0);
	assert_int_equal(first, 6);
	for (i = 0; i < 40; i++) {
		assert_int_equal(alloc_sync(&b, &p, 1, 0, &first), 0);
		b_max = first;
	}

	/* B is fenced: the lock manager invalidates the LVB */
	memset(&c, 0, sizeof(c));
	disk_view(&v);
	takeover_sync(&c, &p, NULL, 3, 3, 0);
	assert_false(c.um_lvb_used);
	assert_int_equal(alloc_sync(&c, &p, 1, 0, &first), 0);
	assert_int_equal(first, v.watermark + 1);	/* the durable maximum */
	assert_true(first > b_max);

	/* a stale LVB (A's, older than the disk) is ignored */
	assert_int_equal(uid_release(&c, lvb), 0);
	disk_view(&v);
	memset(&a, 0, sizeof(a));
	takeover_sync(&a, &p, lvb_a, 4, 1, 0);
	assert_false(a.um_lvb_used);
	assert_int_equal(alloc_sync(&a, &p, 1, 0, &first), 0);
	assert_int_equal(first, v.watermark + 1);

	/*
	 * An LVB above the disk's maximum + 1 (late writes lowered the disk
	 * below UIDs its writer handed out) is honoured, never discarded:
	 * the holder starts at its next and both copies are rewritten
	 * above it.
	 */
	assert_int_equal(uid_release(&a, lvb), 0);
	disk_view(&v);
	assert_int_equal(uid_lvb_in(&l, lvb), 0);
	l.next = v.watermark + 50;
	assert_int_equal(uid_lvb_out(&l, lvb), 0);
	memset(&b, 0, sizeof(b));
	takeover_sync(&b, &p, lvb, 5, 2, 0);
	assert_true(b.um_lvb_used);
	assert_int_equal(alloc_sync(&b, &p, 1, 0, &first), 0);
	assert_int_equal(first, l.next);
	assert_true(disk_copy_w(0) >= l.next && disk_copy_w(1) >= l.next);

	/* An LVB older than the disk's epoch is not: the disk's max + 1. */
	assert_int_equal(uid_release(&b, lvb), 0);
	disk_view(&v);
	assert_int_equal(uid_lvb_in(&l, lvb), 0);
	l.epoch = v.epoch - 1;
	l.next = v.watermark + 50;
	assert_int_equal(uid_lvb_out(&l, lvb), 0);
	memset(&c, 0, sizeof(c));
	takeover_sync(&c, &p, lvb, 6, 3, 0);
	assert_false(c.um_lvb_used);
	assert_int_equal(alloc_sync(&c, &p, 1, 0, &first), 0);
	assert_int_equal(first, v.watermark + 1);
}

/* ---- the brief's scenario: A's late write lands after B took over ---- */

static void test_late_write_scripted(void **state)
{
	struct uid_params p = params_fixed(100);
	struct uid_mbox a, b, c;
	struct uid_write w, late;
	struct uid_slot_view v;
	uint32_t first, i, a_max = 0, b_max = 0;
	int rv;

	(void)state;
	disk_reset();
	memset(&a, 0, sizeof(a));
	create_sync(&a, &p, 9, 1, 1);	/* epoch 1: copies 100, 200 */
	/* A hands out 1..60; its reservation write is issued and stalls */
	late.count = 0;
	for (i = 0; i < 60; i++) {
		rv = uid_alloc(&a, &p, 1, 0, 0, &first, &w);
		assert_int_equal(rv, 0);
		if (w.count)
			late = w;
		a_max = first;
	}
	assert_int_equal(late.count, 1);
	assert_int_equal(late.rec.copy, 0);
	assert_int_equal(late.rec.watermark, 300);
	/* A can go on to 100 (both copies >= 100), not beyond */
	for (; a_max < 100;) {
		assert_int_equal(uid_alloc(&a, &p, 1, 0, 0, &first, &w), 0);
		a_max = first;
	}
	assert_int_equal(uid_alloc(&a, &p, 1, 0, 0, &first, &w), UID_WAIT);

	/* A is fenced (dead path); B takes over at epoch 2 from the disk */
	memset(&b, 0, sizeof(b));
	takeover_sync(&b, &p, NULL, 2, 2, 0);
	assert_int_equal(alloc_sync(&b, &p, 1, 0, &first), 0);
	assert_int_equal(first, 201);
	for (i = 0; i < 150; i++) {
		assert_int_equal(alloc_sync(&b, &p, 1, 0, &first), 0);
		b_max = first;
	}
	/* now A's write of epoch 1 lands on copy 0 */
	disk_write(&late.rec);
	disk_view(&v);
	assert_true(v.watermark >= b_max);
	assert_int_equal(v.epoch, 2);	/* the record of epoch 2 still wins */
	assert_int_equal(v.latest.node_id, 2);
	/* C resumes above everything either handed out */
	memset(&c, 0, sizeof(c));
	takeover_sync(&c, &p, NULL, 3, 3, 0);
	assert_int_equal(alloc_sync(&c, &p, 1, 0, &first), 0);
	assert_true(first > b_max && first > a_max);
	assert_true(c.um_epoch > 2);
}

/* ---- late landings through the real aio layer (issue 13, hole 1) ---- */

/*
 * The slot pair in a file on a file system that takes O_DIRECT
 * ($SDLM_TEST_DIR), written through fence/aio.c, whose LATE fault makes a
 * write miss its deadline (the core is told SDLM_EIOTIMEOUT) and land
 * later, over what was written after it.
 */
#define AS		4096u
#define IO_MS		5000u		/* deadline of a write that is not late */

struct adisk {
	char path[PATH_MAX];
	int fd;
	struct aio_ctx *ctx;
	uint8_t *buf;
};

static void adisk_open(struct adisk *d)
{
	const char *dir = getenv("SDLM_TEST_DIR");
	uint32_t ss;
	int fd, rv;

	snprintf(d->path, sizeof(d->path), "%s/sdlm-test-uid-%ld.img",
		 dir && *dir ? dir : ".", (long)getpid());
	fd = open(d->path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 2 * AS), 0);
	close(fd);
	rv = aio_open_dev(d->path, &d->fd, &ss);
	if (rv < 0)
		unlink(d->path);
	if (rv == -EINVAL)
		fail_msg("O_DIRECT refused in %s: set SDLM_TEST_DIR", d->path);
	assert_int_equal(rv, 0);
	unlink(d->path);	/* gone with the fd, even if a check fails */
	assert_int_equal(aio_ctx_create(&d->ctx, 8), 0);
	assert_int_equal(posix_memalign((void **)&d->buf, AS, AS), 0);
}

static void adisk_close(struct adisk *d)
{
	aio_ctx_destroy(d->ctx, 2000);
	close(d->fd);
	free(d->buf);
}

static void adisk_view(struct adisk *d, struct uid_slot_view *v)
{
	struct uid_rec rec[2];
	int rc[2], c;

	for (c = 0; c < 2; c++) {
		assert_int_equal(aio_read_sync(d->ctx, d->fd, (uint64_t)c * AS,
					       d->buf, AS, IO_MS), 0);
		rc[c] = uidrec_in(&rec[c], d->buf, AS, uuid_a, SLOT, c);
	}
	assert_int_equal(uidrec_resolve(rec, rc, v), 0);
}

/* Write one record; a LATE fault makes it time out and stay withheld. */
static int adisk_write(struct adisk *d, const struct uid_rec *r)
{
	assert_int_equal(uidrec_out(r, uuid_a, d->buf, AS), 0);
	return aio_write_sync(d->ctx, d->fd, (uint64_t)r->copy * AS, d->buf,
			      AS, IO_MS);
}

static void adisk_fault(struct adisk *d, const char *spec)
{
	struct aio_fault f;

	assert_int_equal(aio_fault_parse(spec, &f), 0);
	aio_fault_set(d->ctx, &f);
}

/* Land every withheld write now and wait until the context is idle. */
static void adisk_land(struct adisk *d)
{
	struct pollfd pfd = { .fd = aio_ctx_fd(d->ctx), .events = POLLIN };
	uint64_t end = aio_now_ns() + (uint64_t)IO_MS * MS;

	assert_true(aio_land_late(d->ctx) >= 0);
	while (aio_inflight(d->ctx) && aio_now_ns() < end) {
		assert_true(poll(&pfd, 1, 20) >= 0);
		assert_true(aio_process(d->ctx, aio_now_ns()) >= 0);
	}
	assert_int_equal(aio_inflight(d->ctx), 0);
}

/*
 * Drive the core through the disk: every write the core hands out is
 * issued; those issued while *late is set are withheld by the LATE fault
 * (their deadline passes: SDLM_EIOTIMEOUT).  Returns uid_alloc's verdict.
 */
static int adisk_alloc(struct adisk *d, struct uid_mbox *m,
		       const struct uid_params *p, uint32_t *first, bool *late,
		       unsigned *reaps)
{
	struct uid_write w;
	int rv, wr, guard = 0;
	uint32_t c;

	for (;;) {
		rv = uid_alloc(m, p, 1, 0, 0, first, &w);
		while (w.count) {
			if (*late)
				adisk_fault(d, "write:late=4294967294");
			wr = adisk_write(d, &w.rec);
			if (*late) {
				assert_int_equal(wr, SDLM_EIOTIMEOUT);
				adisk_fault(d, "none");
				*late = false;
			} else {
				assert_int_equal(wr, 0);
			}
			uid_write_done(m, wr, &w);
		}
		if (rv != UID_WAIT)
			return rv;
		if (m->um_stuck) {
			/* The core waits for the stuck write: the path comes
			 * back, it lands, it is reaped. */
			assert_int_equal(aio_inflight(d->ctx), 1);
			adisk_land(d);
			for (c = 0; c < UIDREC_COPIES; c++)
				if (m->um_stuck & (1u << c))
					assert_int_equal(uid_write_reaped(m, c), 0);
			(*reaps)++;
		}
		assert_true(++guard < 16);
	}
}

/*
 * The sequence: a reservation to copy 0 times out but stays
 * queued, the retry succeeds and allocation goes on; the same on copy 1;
 * then both stuck writes land after the newer ones.  Whatever the core
 * did meanwhile, the disk must still cover every UID handed out, and the
 * next holder (clean hand-off through the LVB, or from the disk) must
 * start above all of them.
 */
static void test_late_landing_aio(void **state)
{
	struct uid_params p = params_fixed(16);
	struct uid_slot_view v;
	struct uid_mbox a, b;
	struct uid_write w;
	struct adisk d;
	uint8_t lvb[UID_LVB_LEN];
	uint32_t first, max = 0, i, timeouts = 0;
	unsigned reaps = 0;
	bool late = false;
	int rv;

	(void)state;
	adisk_open(&d);
	memset(&a, 0, sizeof(a));
	adisk_view(&d, &v);
	assert_int_equal(uid_create(&a, &p, guid_x, "INBOX", 5, 9, SLOT, &v, 1,
				    1, 101, 0, &w), UID_WAIT);
	while (w.count) {
		rv = adisk_write(&d, &w.rec);
		assert_int_equal(rv, 0);
		uid_write_done(&a, rv, &w);
	}
	assert_int_equal(a.um_phase, UID_READY);

	for (i = 0; i < 200; i++) {
		/* the next reservation issued after these points is withheld */
		if (i == 10 || i == 60)
			late = true;
		rv = adisk_alloc(&d, &a, &p, &first, &late, &reaps);
		assert_int_equal(rv, 0);
		assert_true(first > max);
		max = first;
		if (!late && (i >= 10 && timeouts == 0))
			timeouts = 1;
		if (!late && (i >= 60 && timeouts == 1))
			timeouts = 2;
	}
	assert_int_equal(timeouts, 2);
	/* Each stuck write held the allocation up until it was reaped:
	 * nothing newer went to its copy meanwhile. */
	assert_int_equal(reaps, 2);
	assert_int_equal(a.um_stuck, 0);
	assert_true(max >= 40);

	/* The stuck writes land now, after the newer ones. */
	adisk_land(&d);
	adisk_view(&d, &v);
	if (v.watermark < max)
		fail_msg("disk watermark %u below UID %u already handed out",
			 v.watermark, max);

	/* A clean hand-off: the next holder starts right above. */
	assert_int_equal(uid_release(&a, lvb), 0);
	memset(&b, 0, sizeof(b));
	assert_int_equal(uid_takeover(&b, &p, guid_x, SLOT, &v, lvb, 2, 2, 102,
				      0, &w), UID_WAIT);
	while (w.count) {
		rv = adisk_write(&d, &w.rec);
		assert_int_equal(rv, 0);
		uid_write_done(&b, rv, &w);
	}
	assert_int_equal(uid_alloc(&b, &p, 1, 0, 0, &first, &w), 0);
	if (first <= max)
		fail_msg("next holder starts at %u, UID %u was handed out",
			 first, max);
	assert_int_equal(first, max + 1);
	adisk_close(&d);
}

/* ---- randomized schedule: uniqueness under late writes ---- */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

#define SEEN_CAP	(1u << 21)
static uint64_t *seen;

/* Insert (uidvalidity, uid); false if it was there already. */
static bool seen_add(uint32_t uidv, uint32_t uid)
{
	uint64_t key = (uint64_t)uidv << 32 | uid;
	uint64_t h = (key * 0x9e3779b97f4a7c15ull) >> 43;

	while (seen[h]) {
		if (seen[h] == key)
			return false;
		h = (h + 1) & (SEEN_CAP - 1);
	}
	seen[h] = key;
	return true;
}

#define NODES		4
#define UIDV_MAX	64

struct sim {
	struct uid_params p;
	struct uid_mbox m[NODES + 1];
	int holder;			/* 0 = none */
	uint64_t lock_epoch;
	uint8_t lvb[UID_LVB_LEN];
	bool lvb_valid;
	bool pending;			/* the holder's write in flight */
	struct uid_write pw;
	bool late;			/* a fenced holder's write, landing later */
	struct uid_rec late_rec;
	uint32_t max_uidv;		/* highest UIDVALIDITY handed out in */
	uint32_t max_uid;		/* highest UID handed out in it */
	uint64_t now;
	unsigned n_uids, n_late_landed, n_fences, n_bumps, n_fail, n_lvb;
};

/* What a reader trusts never falls below what was handed out. */
static void sim_check_reader(const struct sim *s)
{
	struct uid_slot_view v;

	disk_view(&v);
	assert_true(v.uidvalidity >= s->max_uidv);
	if (v.uidvalidity == s->max_uidv)
		assert_true(v.watermark >= s->max_uid);
}

static void sim_takeover(struct sim *s, int node)
{
	struct uid_slot_view v;

	disk_view(&v);
	s->holder = node;
	/* the lock manager's counter; now and then it restarts */
	s->lock_epoch = rnd(20) ? s->lock_epoch + 1 : 1;
	assert_int_equal(uid_takeover(&s->m[node], &s->p, guid_x, SLOT, &v,
				      s->lvb_valid ? s->lvb : NULL, s->lock_epoch,
				      (uint32_t)node, 1, s->now, &s->pw),
			 UID_WAIT);
	s->n_lvb += s->m[node].um_lvb_used;
	s->pending = true;
	s->lvb_valid = false;
}

static void sim_complete(struct sim *s)
{
	struct uid_mbox *m = &s->m[s->holder];
	int status = 0, rv;

	if (!rnd(25)) {
		/* failed write: the sector holds the old or the new record */
		status = -EIO;
		s->n_fail++;
		if (rnd(2))
			disk_write(&s->pw.rec);
	} else {
		disk_write(&s->pw.rec);
	}
	rv = uid_write_done(m, status, &s->pw);
	s->pending = rv == UID_WAIT;
	if (status && m->um_phase == UID_IDLE)
		sim_takeover(s, s->holder);	/* start afresh, same lock */
}

static void sim_alloc(struct sim *s)
{
	struct uid_mbox *m = &s->m[s->holder];
	struct uid_write w;
	uint32_t first, count = 1 + rnd(8), i;
	int rv;

	rv = uid_alloc(m, &s->p, count, s->now, 0, &first, &w);
	if (rv == UID_WAIT || rv == UID_EWRAP) {
		if (w.count) {
			assert_false(s->pending);
			s->pw = w;
			s->pending = true;
		}
		return;
	}
	assert_int_equal(rv, 0);
	if (w.count) {
		assert_false(s->pending);
		s->pw = w;
		s->pending = true;
	}
	if (m->um_uidvalidity > s->max_uidv) {
		s->max_uidv = m->um_uidvalidity;
		s->max_uid = 0;
	}
	assert_int_equal(m->um_uidvalidity, s->max_uidv);
	for (i = 0; i < count; i++) {
		if (!seen_add(m->um_uidvalidity, first + i))
			fail_msg("UID %u (uidvalidity %u) handed out twice",
				 first + i, m->um_uidvalidity);
		if (first + i > s->max_uid)
			s->max_uid = first + i;
	}
	s->n_uids += count;
}

/* The holder goes away; its write in flight (if any) may land later. */
static void sim_fence(struct sim *s)
{
	if (s->pending) {
		/* at most one late write outstanding (docs/uid.md) */
		if (s->late && rnd(2)) {
			disk_write(&s->late_rec);
			s->n_late_landed++;
		}
		s->late = true;
		s->late_rec = s->pw.rec;
		s->pending = false;
	}
	memset(&s->m[s->holder], 0, sizeof(s->m[s->holder]));
	s->holder = 0;
	s->lvb_valid = false;
	s->n_fences++;
}

static void run_schedule(uint64_t seed, uint32_t steps, uint32_t reserve_max)
{
	struct sim *s = calloc(1, sizeof(*s));
	uint32_t step, r;
	int node;

	assert_non_null(s);
	seen = calloc(SEEN_CAP, sizeof(*seen));
	assert_non_null(seen);
	rng_state = seed;
	uid_params_default(&s->p);
	s->p.reserve_min = 4;
	s->p.reserve_max = reserve_max;
	s->p.grow_ns = 1 * MS;
	s->p.shrink_ns = 20 * MS;
	disk_reset();

	s->holder = 1;
	create_sync(&s->m[1], &s->p, 1, 1, 1);

	for (step = 0; step < steps; step++) {
		s->now += rnd(3) ? rnd(200000) : rnd(50 * MS);
		r = rnd(1000);
		if (!s->holder) {
			node = 1 + (int)rnd(NODES);
			sim_takeover(s, node);
		} else if (s->pending && r < 350) {
			sim_complete(s);
		} else if (r < 800) {
			if (s->m[s->holder].um_phase == UID_READY)
				sim_alloc(s);
		} else if (r < 880) {
			if (s->late) {
				disk_write(&s->late_rec);
				s->late = false;
				s->n_late_landed++;
			}
		} else if (r < 930) {
			if (!s->pending &&
			    s->m[s->holder].um_phase == UID_READY) {
				assert_int_equal(uid_release(&s->m[s->holder],
							     s->lvb), 0);
				s->lvb_valid = true;
				s->holder = 0;
			}
		} else if (r < 995) {
			sim_fence(s);
		} else if (!s->pending && s->m[s->holder].um_phase == UID_READY &&
			   s->max_uidv < UIDV_MAX) {
			assert_int_equal(uid_bump_uidvalidity(&s->m[s->holder],
							      &s->p, 0, s->now,
							      &s->pw), UID_WAIT);
			s->pending = true;
			s->n_bumps++;
		}
		sim_check_reader(s);
	}
	/* The schedule really exercised what it claims to. */
	assert_true(s->n_uids > steps / 2);
	assert_true(s->n_late_landed > steps / 200);
	assert_true(s->n_fences > steps / 100);
	assert_true(s->n_bumps > 2);
	assert_true(s->n_fail > 10);
	assert_true(s->n_lvb > 10);
	free(seen);
	free(s);
}

static void test_late_write_random(void **state)
{
	(void)state;
	run_schedule(0x5d1a11d5eedull, 200000, 64);
	run_schedule(0x2545f4914f6cdd1dull, 100000, 65536);
}

/* ---- wrap refusal and UIDVALIDITY bump ---- */

/* Put a record with a given watermark into both copies. */
static void disk_put(uint32_t uidv, uint32_t watermark, uint64_t epoch)
{
	struct uid_rec r;
	int c;

	for (c = 0; c < 2; c++) {
		memset(&r, 0, sizeof(r));
		r.state = UIDREC_USED;
		memcpy(r.guid, guid_x, UID_GUID_LEN);
		r.slot = SLOT;
		r.copy = (uint32_t)c;
		r.gen = 1;
		r.epoch = epoch;
		r.seq = 1 + (uint64_t)c;
		r.node_id = 1;
		r.uidvalidity = uidv;
		r.watermark = watermark;
		r.name_len = 1;
		r.name[0] = 'x';
		disk_write(&r);
	}
}

static void test_wrap_and_bump(void **state)
{
	struct uid_params p = params_fixed(16);
	struct uid_mbox m, n;
	struct uid_write w, old;
	struct uid_slot_view v;
	uint32_t first, last = 0;
	int rv;

	(void)state;
	disk_reset();
	disk_put(500, UID_MAX - 40, 3);
	memset(&m, 0, sizeof(m));
	takeover_sync(&m, &p, NULL, 4, 1, 0);
	assert_int_equal(uid_remaining(&m), 40);
	assert_int_equal(disk_copy_w(0), UID_MAX - 24);
	assert_int_equal(disk_copy_w(1), UID_MAX - 8);
	while ((rv = alloc_sync(&m, &p, 1, 0, &first)) == 0) {
		assert_true(first > last);
		last = first;
		assert_true(disk_copy_w(0) >= first && disk_copy_w(1) >= first);
	}
	assert_int_equal(rv, UID_EWRAP);
	assert_int_equal(last, UID_MAX);	/* every UID, none past */
	assert_int_equal(uid_remaining(&m), 0);

	/* a request that would pass 2^32-1 is refused whole */
	disk_reset();
	disk_put(500, UID_MAX - 40, 3);
	memset(&m, 0, sizeof(m));
	takeover_sync(&m, &p, NULL, 4, 1, 0);
	assert_int_equal(alloc_sync(&m, &p, 16, 0, &first), 0);
	assert_int_equal(alloc_sync(&m, &p, 16, 0, &first), 0);
	assert_int_equal(alloc_sync(&m, &p, 9, 0, &first), UID_EWRAP);
	assert_int_equal(m.um_next, UID_MAX - 7);
	assert_int_equal(alloc_sync(&m, &p, 8, 0, &first), 0);
	assert_int_equal(first, UID_MAX - 7);
	assert_int_equal(alloc_sync(&m, &p, 1, 0, &first), UID_EWRAP);
	/* keep a stale write of the old UIDVALIDITY for later */
	old.count = 1;
	memset(&old.rec, 0, sizeof(old.rec));
	disk_view(&v);
	old.rec = v.latest;

	/* bump: must go up */
	assert_int_equal(uid_bump_uidvalidity(&m, &p, 499, 0, &w), -ERANGE);
	assert_int_equal(uid_bump_uidvalidity(&m, &p, 500, 0, &w), -ERANGE);
	assert_int_equal(uid_bump_uidvalidity(&m, &p, 0, 0, &w), UID_WAIT);
	assert_int_equal(uid_alloc(&m, &p, 1, 0, 0, &first, &(struct uid_write){0}),
			 UID_WAIT);
	run_writes(&m, &w);
	assert_int_equal(m.um_uidvalidity, 501);
	assert_int_equal(alloc_sync(&m, &p, 1, 0, &first), 0);
	assert_int_equal(first, 1);
	disk_view(&v);
	assert_int_equal(v.uidvalidity, 501);
	assert_int_equal(v.watermark, 32);

	/* the old UIDVALIDITY's late write does not bring it back */
	disk_write(&old.rec);
	disk_view(&v);
	assert_int_equal(v.uidvalidity, 501);
	assert_true(v.watermark >= 1);
	memset(&n, 0, sizeof(n));
	takeover_sync(&n, &p, NULL, 9, 2, 0);
	assert_int_equal(n.um_uidvalidity, 501);
	assert_int_equal(alloc_sync(&n, &p, 1, 0, &first), 0);
	assert_true(first > 1 && first <= 64);

	/* UIDVALIDITY itself cannot wrap */
	disk_reset();
	disk_put(UINT32_MAX, 10, 3);
	memset(&m, 0, sizeof(m));
	takeover_sync(&m, &p, NULL, 4, 1, 0);
	assert_int_equal(uid_bump_uidvalidity(&m, &p, 0, 0, &w), -EOVERFLOW);
}

/* ---- LVB codec ---- */

static void test_lvb_codec(void **state)
{
	struct uid_lvb l, l2;
	uint8_t b[UID_LVB_LEN], bad[UID_LVB_LEN];
	uint32_t crc;

	(void)state;
	memset(&l, 0, sizeof(l));
	l.uidvalidity = 0x01020304;
	l.epoch = 0x1112131415161718ull;
	l.next = 0x21222324;
	l.slot_plus1 = 0x31323334;
	l.range = 0x41424344;
	assert_int_equal(uid_lvb_out(&l, b), 0);
	{
		static const uint8_t expect[28] = {
			0x55, 0x49, 0x01, 0x00, 0x04, 0x03, 0x02, 0x01,
			0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,
			0x24, 0x23, 0x22, 0x21, 0x34, 0x33, 0x32, 0x31,
			0x44, 0x43, 0x42, 0x41,
		};
		assert_memory_equal(b, expect, sizeof(expect));
	}
	crc = crc32c(0, b, 28);
	assert_int_equal(b[28] | b[29] << 8 | b[30] << 16 | (uint32_t)b[31] << 24, crc);
	assert_int_equal(uid_lvb_in(&l2, b), 0);
	assert_memory_equal(&l2, &l, sizeof(l));

	memset(bad, 0, sizeof(bad));
	assert_int_equal(uid_lvb_in(&l2, bad), UID_LVB_EMPTY);
	memcpy(bad, b, sizeof(b));
	bad[0] ^= 1;
	assert_int_equal(uid_lvb_in(&l2, bad), SDLM_EMAGIC);
	memcpy(bad, b, sizeof(b));
	bad[2] = 2;
	assert_int_equal(uid_lvb_in(&l2, bad), SDLM_EVERSION);
	memcpy(bad, b, sizeof(b));
	bad[17] ^= 0x40;
	assert_int_equal(uid_lvb_in(&l2, bad), SDLM_ECHECKSUM);
	assert_int_equal(l2.next, 0);
	memcpy(bad, b, sizeof(b));
	memset(bad + 16, 0, 4);		/* next 0, resealed */
	crc = crc32c(0, bad, 28);
	memcpy(bad + 28, &crc, 4);	/* the host is little-endian here */
	assert_int_equal(uid_lvb_in(&l2, bad), -EUCLEAN);
	l.next = 0;
	assert_int_equal(uid_lvb_out(&l, b), -EINVAL);
}

/* ---- create, rename, delete ---- */

static void test_create_rename_delete(void **state)
{
	struct uid_params p = params_fixed(16);
	struct uid_mbox m;
	struct uid_slot_view v;
	struct uid_write w;
	uint8_t lvb[UID_LVB_LEN], zero[UID_LVB_LEN] = { 0 };
	uint32_t first;

	(void)state;
	disk_reset();
	memset(&m, 0, sizeof(m));
	disk_view(&v);
	assert_int_equal(uid_create(&m, &p, guid_x, "\xff", 1, 1, SLOT, &v, 1, 1,
				    1, 0, &w), -EILSEQ);
	assert_int_equal(uid_create(&m, &p, guid_x, "", 0, 1, SLOT, &v, 1, 1,
				    1, 0, &w), -EINVAL);
	assert_int_equal(uid_create(&m, &p, guid_x, "x", 1, 0, SLOT, &v, 1, 1,
				    1, 0, &w), -EINVAL);	/* uidvalidity 0 */
	create_sync(&m, &p, 1, 1, 1);
	disk_view(&v);
	assert_int_equal(v.kind, UID_SLOT_USED);
	assert_int_equal(v.gen, 1);
	assert_string_equal(v.latest.name, "INBOX");
	assert_int_equal(uid_create(&m, &p, guid_x, "x", 1, 1, SLOT, &v, 1, 1,
				    1, 0, &w), -EEXIST);
	/* that failed create did not disturb the holder */
	assert_int_equal(m.um_phase, UID_READY);
	assert_int_equal(alloc_sync(&m, &p, 3, 0, &first), 0);
	assert_int_equal(first, 1);

	/* rename: both copies, watermarks untouched */
	assert_int_equal(uid_rename(&m, "Archive/2024", 12, &w), UID_WAIT);
	assert_int_equal(w.rec.res_first, 0);
	run_writes(&m, &w);
	disk_view(&v);
	assert_string_equal(v.latest.name, "Archive/2024");
	assert_int_equal(disk_copy_w(0), 16);
	assert_int_equal(disk_copy_w(1), 32);
	assert_int_equal(uid_rename(&m, "a\x01", 2, &w), -EINVAL);
	assert_int_equal(alloc_sync(&m, &p, 1, 0, &first), 0);
	assert_int_equal(first, 4);

	/* delete: tombstones, then nothing more */
	assert_int_equal(uid_delete(&m, &w), UID_WAIT);
	run_writes(&m, &w);
	assert_int_equal(m.um_phase, UID_DELETED);
	disk_view(&v);
	assert_int_equal(v.kind, UID_SLOT_DELETED);
	assert_true(v.watermark >= 4);
	assert_int_equal(uid_alloc(&m, &p, 1, 0, 0, &first, &w), -ENOLCK);
	assert_int_equal(uid_release(&m, lvb), 0);
	assert_memory_equal(lvb, zero, sizeof(zero));
	assert_int_equal(uid_takeover(&m, &p, guid_x, SLOT, &v, NULL, 9, 1, 1, 0,
				      &w), -ENOENT);

	/* a new mailbox in the reclaimed slot: generation 2, UIDs from 1 */
	{
		uint8_t other[UID_GUID_LEN];

		memcpy(other, guid_x, sizeof(other));
		other[15] ^= 0xff;
		memset(&m, 0, sizeof(m));
		assert_int_equal(uid_create(&m, &p, other, "New", 3, 7, SLOT, &v,
					    1, 2, 1, 0, &w), UID_WAIT);
		run_writes(&m, &w);
		disk_view(&v);
		assert_int_equal(v.gen, 2);
		assert_memory_equal(v.guid, other, UID_GUID_LEN);
		assert_int_equal(v.uidvalidity, 7);
		assert_int_equal(alloc_sync(&m, &p, 1, 0, &first), 0);
		assert_int_equal(first, 1);
		/* our GUID is gone from this slot */
		assert_int_equal(uid_takeover(&m, &p, guid_x, SLOT, &v, NULL, 9,
					      1, 1, 0, &w), -ENOENT);
	}
}

/*
 * ---- degraded mode: provisional marks ----
 *
 * Two copies of one disk after a split: each side takes over in degraded
 * mode, resumes above the common watermark, marks every write; the mark
 * survives a normal takeover and a release, and only uid_settle (after
 * the rejoin repair) drops it.  A mailbox created in degraded mode is
 * provisional from UID 1.
 */
static void test_provisional(void **state)
{
	struct uid_params p = params_fixed(16), pd = params_fixed(16);
	struct uid_mbox m;
	struct uid_slot_view v;
	struct uid_write w;
	uint8_t lvb[UID_LVB_LEN], copy[2][S];
	uint32_t first, first_b;
	uint64_t i;

	(void)state;
	pd.provisional = true;
	disk_reset();
	memset(&m, 0, sizeof(m));
	create_sync(&m, &p, 50, 1, 1);
	assert_int_equal(alloc_sync(&m, &p, 3, 0, &first), 0);
	assert_int_equal(uid_release(&m, lvb), 0);
	disk_view(&v);
	assert_false(v.provisional);
	assert_int_equal(v.watermark, 32);
	memcpy(copy, disk, sizeof(disk));	/* the replica, at the split */

	/* side A, degraded: no LVB, resumes above the durable watermark */
	takeover_sync(&m, &pd, NULL, 0, 1, 0);
	assert_true(m.um_prov);
	assert_int_equal(m.um_prov_base, 32);
	assert_int_equal(alloc_sync(&m, &pd, 1, 0, &first), 0);
	assert_int_equal(first, 33);
	for (i = 0; i < 40; i++)	/* several reservation writes */
		assert_int_equal(alloc_sync(&m, &pd, 1, 0, &first), 0);
	disk_view(&v);
	assert_true(v.provisional);
	assert_int_equal(v.prov_base, 32);
	assert_true(v.latest.flags & UIDREC_F_PROVISIONAL);
	assert_int_equal(uid_settle(&m, &pd, 0, &w), -EBUSY);	/* still degraded */
	assert_int_equal(uid_release(&m, lvb), 0);

	/* side B, degraded on its own copy: the same UIDs (what the repair fixes) */
	{
		uint8_t a[2][S];
		struct uid_mbox mb;

		memcpy(a, disk, sizeof(disk));
		memcpy(disk, copy, sizeof(disk));
		memset(&mb, 0, sizeof(mb));
		takeover_sync(&mb, &pd, NULL, 0, 3, 0);
		assert_int_equal(alloc_sync(&mb, &pd, 1, 0, &first_b), 0);
		assert_int_equal(first_b, 33);
		disk_view(&v);
		assert_true(v.provisional);
		assert_int_equal(v.prov_base, 32);
		memcpy(disk, a, sizeof(disk));
	}

	/* degraded mode left: a normal takeover (with the LVB) keeps the mark */
	takeover_sync(&m, &p, lvb, 9, 2, 0);
	assert_true(m.um_prov);
	assert_int_equal(m.um_prov_base, 32);
	assert_int_equal(alloc_sync(&m, &p, 1, 0, &first), 0);
	disk_view(&v);
	assert_true(v.provisional);

	/* settle: both copies rewritten unmarked, watermarks unchanged */
	{
		uint32_t w0 = disk_copy_w(0), w1 = disk_copy_w(1);

		assert_int_equal(uid_settle(&m, &p, 0, &w), UID_WAIT);
		assert_false(w.rec.flags & UIDREC_F_PROVISIONAL);
		assert_int_equal(w.rec.prov_base, 0);
		run_writes(&m, &w);
		assert_int_equal(m.um_phase, UID_READY);
		assert_false(m.um_prov);
		assert_int_equal(disk_copy_w(0), w0);
		assert_int_equal(disk_copy_w(1), w1);
	}
	disk_view(&v);
	assert_false(v.provisional);
	assert_int_equal(uid_settle(&m, &p, 0, &w), 0);	/* nothing to do */
	assert_int_equal(w.count, 0);
	assert_int_equal(uid_settle(&m, &p, m.um_epoch, &w), 0);
	/* a floor near the top of the epoch space would let the next
	 * takeover's epoch wrap (issue 14, item 4): refused, nothing written */
	{
		uint64_t before = m.um_epoch;

		assert_int_equal(uid_settle(&m, &p, UINT64_MAX, &w), -ERANGE);
		assert_int_equal(uid_settle(&m, &p, UID_EPOCH_MIN_MAX + 1, &w), -ERANGE);
		assert_int_equal(w.count, 0);
		assert_int_equal(m.um_epoch, before);
	}

	/* the other copy's epochs were higher: the floor is written to both
	 * copies before the next UID, and the next holder goes above it */
	{
		uint64_t e0 = m.um_epoch;
		struct uid_write w2;
		uint32_t f0;

		assert_int_equal(uid_settle(&m, &p, e0 + 40, &w), UID_WAIT);
		assert_int_equal(w.rec.epoch, e0 + 40);
		assert_int_equal(uid_alloc(&m, &p, 1, 0, 0, &f0, &w2), UID_WAIT);
		assert_int_equal(w2.count, 0);	/* nothing while it is under way */
		run_writes(&m, &w);
		disk_view(&v);
		assert_int_equal(v.epoch, e0 + 40);
		assert_false(v.provisional);
		assert_int_equal(alloc_sync(&m, &p, 1, 0, &first), 0);
		assert_int_equal(m.um_epoch, e0 + 40);
		assert_int_equal(uid_release(&m, lvb), 0);
		takeover_sync(&m, &p, NULL, 3, 1, 0);
		assert_true(m.um_epoch > e0 + 40);
	}
	assert_int_equal(alloc_sync(&m, &p, 1, 0, &first), 0);
	disk_view(&v);
	assert_false(v.latest.flags & UIDREC_F_PROVISIONAL);

	/* a settle that fails half way leaves the mark (conservative) */
	assert_int_equal(uid_release(&m, lvb), 0);
	takeover_sync(&m, &pd, NULL, 0, 1, 0);
	assert_int_equal(uid_release(&m, lvb), 0);
	takeover_sync(&m, &p, lvb, 20, 1, 0);
	assert_int_equal(uid_settle(&m, &p, 0, &w), UID_WAIT);
	disk_write(&w.rec);
	assert_int_equal(uid_write_done(&m, 0, &w), UID_WAIT);
	assert_int_equal(uid_write_done(&m, -EIO, &w), -EIO);
	assert_int_equal(m.um_phase, UID_IDLE);
	disk_view(&v);
	assert_true(v.provisional);

	/* created in degraded mode: provisional from UID 1 */
	disk_reset();
	memset(&m, 0, sizeof(m));
	create_sync(&m, &pd, 60, 1, 1);
	assert_int_equal(alloc_sync(&m, &pd, 1, 0, &first), 0);
	assert_int_equal(first, 1);
	disk_view(&v);
	assert_true(v.provisional);
	assert_int_equal(v.prov_base, 0);

	/* a UIDVALIDITY bump outside degraded mode needs no merge */
	assert_int_equal(uid_bump_uidvalidity(&m, &p, 0, 0, &w), UID_WAIT);
	run_writes(&m, &w);
	disk_view(&v);
	assert_false(v.provisional);
	assert_int_equal(v.uidvalidity, 61);
	/* in degraded mode, every UID of the new one is provisional */
	assert_int_equal(uid_bump_uidvalidity(&m, &pd, 0, 0, &w), UID_WAIT);
	run_writes(&m, &w);
	disk_view(&v);
	assert_true(v.provisional);
	assert_int_equal(v.prov_base, 0);
}

static void test_degraded_allowed(void **state)
{
	uint8_t peers[9] = { 0 };
	uint32_t blocker = 99;

	(void)state;
	/* alone on the disk, not quorate: allowed */
	assert_int_equal(uid_degraded_allowed(false, peers, 8, 3, &blocker), 0);
	assert_int_equal(blocker, 0);
	/* quorate: the normal rules, whatever the disk says */
	assert_int_equal(uid_degraded_allowed(true, peers, 8, 3, &blocker), SDLM_EQUORATE);
	/* our own slot does not count */
	peers[3] = UID_PEER_VISIBLE;
	assert_int_equal(uid_degraded_allowed(false, peers, 8, 3, &blocker), 0);
	/* another node visible (one shared disk, or a node of this site) */
	peers[7] = UID_PEER_VISIBLE;
	peers[5] = UID_PEER_UNREAD;
	assert_int_equal(uid_degraded_allowed(false, peers, 8, 3, &blocker), SDLM_EPEERLIVE);
	assert_int_equal(blocker, 5);	/* not read yet: not provably stopped */
	peers[5] = UID_PEER_STOPPED;
	assert_int_equal(uid_degraded_allowed(false, peers, 8, 3, &blocker), SDLM_EPEERLIVE);
	assert_int_equal(blocker, 7);
	/* beyond the area's nodes: not looked at */
	assert_int_equal(uid_degraded_allowed(false, peers, 6, 3, NULL), 0);
}

/* ---- hole 11 (a): one damaged copy, the other intact ---- */

static void test_damaged_resume(void **state)
{
	struct uid_params p = params_fixed(16);
	struct uid_mbox a, b;
	struct uid_slot_view v;
	struct uid_write w;
	uint8_t lvb[UID_LVB_LEN];
	uint32_t first, max = 0, i, hi;
	int c;

	(void)state;
	disk_reset();
	memset(&a, 0, sizeof(a));
	create_sync(&a, &p, 7, 1, 1);
	for (i = 0; i < 40; i++) {
		assert_int_equal(alloc_sync(&a, &p, 1, 0, &first), 0);
		max = first;
	}
	assert_int_equal(uid_release(&a, lvb), 0);
	/* the copy with the higher watermark is torn */
	c = disk_copy_w(0) > disk_copy_w(1) ? 0 : 1;
	hi = disk_copy_w(c);
	disk[c][100] ^= 0x08;

	/* the slot still resolves, naming the damaged copy */
	{
		struct uid_rec rec[2];
		int rc[2], k;

		for (k = 0; k < 2; k++)
			rc[k] = uidrec_in(&rec[k], disk[k], S, uuid_a, SLOT, k);
		assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	}
	assert_int_equal(v.damaged_copy, (uint32_t)c + 1);
	assert_true(v.watermark < hi);

	/* the next holder, even with a valid LVB, resumes above anything
	 * the damaged copy could have reserved, and rewrites it */
	memset(&b, 0, sizeof(b));
	assert_int_equal(uid_takeover(&b, &p, guid_x, SLOT, &v, lvb, 2, 2, 102,
				      0, &w), UID_WAIT);
	run_writes(&b, &w);
	assert_int_equal(b.um_phase, UID_READY);
	assert_int_equal(b.um_damaged_copy, (uint32_t)c + 1);
	assert_int_equal(alloc_sync(&b, &p, 1, 0, &first), 0);
	assert_true(first > max && first > hi);
	assert_int_equal(first, v.watermark + 1 + UID_DAMAGE_MARGIN);
	disk_view(&v);		/* both copies intact again */
	assert_int_equal(v.damaged_copy, 0);
	assert_true(v.watermark >= first);
}

/* ---- import (issue 14 item 7) and restore (issue 13 hole 11) ---- */

static void plan_req(struct uid_import_req *q, uint32_t uv, uint32_t next, bool restore)
{
	memset(q, 0, sizeof(*q));
	memcpy(q->guid, guid_x, UID_GUID_LEN);
	q->uidvalidity = uv;
	q->next = next;
	q->restore = restore;
}

/* An existing mailbox adopted as the store has it: its UIDVALIDITY, and
 * the first UID sdlm hands out is the store's next. */
static void test_import_create(void **state)
{
	struct uid_params p = params_fixed(16);
	struct uid_import_req q;
	struct uid_import_plan pl;
	struct uid_slot_view v;
	struct uid_mbox m;
	struct uid_write w;
	uint32_t first;

	(void)state;
	disk_reset();
	memset(&v, 0, sizeof(v));	/* EMPTY */
	plan_req(&q, 1500000000, 42, false);
	assert_int_equal(uid_import_plan(&q, -ENOENT, &v, 1700000000000ull, &pl), 0);
	assert_int_equal(pl.act, UID_IMPORT_CREATE);
	assert_int_equal(pl.uidvalidity, 1500000000);
	assert_int_equal(pl.next, 42);
	memset(&m, 0, sizeof(m));
	assert_int_equal(uid_import(&m, &p, &pl, guid_x, "INBOX", 5, SLOT, &v, 9, 3, 1,
				    101, 0, &w), UID_WAIT);
	run_writes(&m, &w);
	assert_int_equal(m.um_phase, UID_READY);
	assert_int_equal(m.um_epoch, 9);	/* the store's E + 1 beats the lock's 3 */
	assert_int_equal(alloc_sync(&m, &p, 1, 0, &first), 0);
	assert_int_equal(first, 42);
	disk_view(&v);
	assert_int_equal(v.uidvalidity, 1500000000);
	assert_int_equal(v.gen, 1);
	assert_true(v.watermark >= 42);
	assert_int_equal(v.floor, 42);

	/* bad requests: no UIDVALIDITY or no next, unless a restore */
	plan_req(&q, 0, 42, false);
	assert_int_equal(uid_import_plan(&q, -ENOENT, &v, 0, &pl), -EINVAL);
	plan_req(&q, 7, 0, false);
	assert_int_equal(uid_import_plan(&q, -ENOENT, &v, 0, &pl), -EINVAL);
	/* a damaged slot refuses an import as it refuses every request */
	plan_req(&q, 7, 5, false);
	assert_int_equal(uid_import_plan(&q, SDLM_ECHECKSUM, NULL, 0, &pl), SDLM_ECHECKSUM);
}

/* An import never lowers a record, nor changes its UIDVALIDITY. */
static void test_import_existing(void **state)
{
	struct uid_params p = params_fixed(16);
	struct uid_import_req q;
	struct uid_import_plan pl;
	struct uid_slot_view v;
	struct uid_mbox m;
	uint32_t first, i;

	(void)state;
	disk_reset();
	memset(&m, 0, sizeof(m));
	create_sync(&m, &p, 7, 1, 1);
	for (i = 0; i < 30; i++)
		assert_int_equal(alloc_sync(&m, &p, 1, 0, &first), 0);
	disk_view(&v);
	/* lower than what sdlm handed out: a RAISE, which never lowers */
	plan_req(&q, 7, 3, false);
	assert_int_equal(uid_import_plan(&q, 0, &v, 0, &pl), 0);
	assert_int_equal(pl.act, UID_IMPORT_RAISE);
	assert_int_equal(pl.next, 3);
	/* another UIDVALIDITY, higher or lower: refused */
	plan_req(&q, 6, 100, false);
	assert_int_equal(uid_import_plan(&q, 0, &v, 0, &pl), -EEXIST);
	plan_req(&q, 8, 100, false);
	assert_int_equal(uid_import_plan(&q, 0, &v, 0, &pl), -EEXIST);
	/* a restore of a record with an intact copy: nothing to restore */
	plan_req(&q, 7, 100, true);
	assert_int_equal(uid_import_plan(&q, 0, &v, 0, &pl), -EEXIST);
	/* uid_import itself never writes over a used slot */
	pl.act = UID_IMPORT_CREATE;
	pl.uidvalidity = 7;
	pl.next = 1;
	memset(&m, 0, sizeof(m));
	{
		struct uid_write w;

		assert_int_equal(uid_import(&m, &p, &pl, guid_x, "INBOX", 5, SLOT, &v, 0, 5,
					    1, 101, 0, &w), -EEXIST);
		assert_int_equal(w.count, 0);
	}
	/* no damaged slot: a restore is refused (an import creates) */
	memset(&v, 0, sizeof(v));
	plan_req(&q, 7, 100, true);
	assert_int_equal(uid_import_plan(&q, -ENOENT, &v, 0, &pl), -ENOENT);
}

/* A tombstone of the mailbox: its UIDVALIDITY's UIDs are never reused. */
static void test_import_tombstone(void **state)
{
	struct uid_params p = params_fixed(16);
	struct uid_import_req q;
	struct uid_import_plan pl;
	struct uid_slot_view v;
	struct uid_mbox m;
	struct uid_write w;
	uint32_t first, i;

	(void)state;
	disk_reset();
	memset(&m, 0, sizeof(m));
	create_sync(&m, &p, 70, 1, 1);
	for (i = 0; i < 20; i++)
		assert_int_equal(alloc_sync(&m, &p, 1, 0, &first), 0);
	assert_int_equal(uid_delete(&m, &w), UID_WAIT);
	run_writes(&m, &w);
	disk_view(&v);
	assert_int_equal(v.kind, UID_SLOT_DELETED);
	plan_req(&q, 70, 5, false);
	assert_int_equal(uid_import_plan(&q, -ENOENT, &v, 0, &pl), 0);
	assert_int_equal(pl.act, UID_IMPORT_CREATE);
	assert_int_equal(pl.next, v.watermark + 1);
	plan_req(&q, 69, 500, false);
	assert_int_equal(uid_import_plan(&q, -ENOENT, &v, 0, &pl), -ERANGE);
	plan_req(&q, 71, 5, false);
	assert_int_equal(uid_import_plan(&q, -ENOENT, &v, 0, &pl), 0);
	assert_int_equal(pl.next, 5);
	/* the new record outranks the tombstone: generation and epoch */
	memset(&m, 0, sizeof(m));
	assert_int_equal(uid_import(&m, &p, &pl, guid_x, "INBOX", 5, SLOT, &v, 0, 1, 2,
				    102, 0, &w), UID_WAIT);
	run_writes(&m, &w);
	assert_int_equal(m.um_gen, v.gen + 1);
	assert_true(m.um_epoch > v.epoch);
}

/* Both copies damaged (hole 11): restored from the store, allocation
 * resumes above its highest UID with the documented margin; with the
 * store's UIDVALIDITY unknown, a new one. */
static void test_restore(void **state)
{
	struct uid_params p = params_fixed(16);
	struct uid_import_req q;
	struct uid_import_plan pl;
	struct uid_slot_view v;
	struct uid_mbox m;
	struct uid_write w;
	struct uid_rec rec[2];
	int rc[2], k;
	uint32_t first, i, max = 0, old_gen;

	(void)state;
	disk_reset();
	memset(&m, 0, sizeof(m));
	create_sync(&m, &p, 1500000000, 1, 4);
	for (i = 0; i < 50; i++) {
		assert_int_equal(alloc_sync(&m, &p, 1, 0, &first), 0);
		max = first;
	}
	disk_view(&v);
	old_gen = (uint32_t)v.gen;
	disk[0][100] ^= 0x10;
	disk[1][100] ^= 0x10;
	for (k = 0; k < 2; k++)
		rc[k] = uidrec_in(&rec[k], disk[k], S, uuid_a, SLOT, k);
	assert_int_equal(rc[0], SDLM_ECHECKSUM);
	assert_int_equal(uidrec_resolve(rec, rc, &v), SDLM_ECHECKSUM);

	/* the store lists UIDs up to 45 (five allocations not in it yet) */
	plan_req(&q, 1500000000, 46, true);
	assert_int_equal(uid_import_plan(&q, SDLM_ECHECKSUM, NULL, 1700000000123ull, &pl), 0);
	assert_int_equal(pl.act, UID_IMPORT_RESTORE);
	assert_false(pl.bumped);
	assert_int_equal(pl.uidvalidity, 1500000000);
	assert_int_equal(pl.next, 46 + UID_RESTORE_MARGIN);
	assert_true(pl.gen > old_gen);
	memset(&m, 0, sizeof(m));
	assert_int_equal(uid_import(&m, &p, &pl, guid_x, "INBOX", 5, SLOT, NULL, 0, 5, 2,
				    102, 0, &w), UID_WAIT);
	run_writes(&m, &w);
	assert_int_equal(alloc_sync(&m, &p, 1, 0, &first), 0);
	assert_true(first > max);
	assert_int_equal(first, 46 + UID_RESTORE_MARGIN);
	disk_view(&v);
	assert_int_equal(v.damaged_copy, 0);
	assert_int_equal(v.uidvalidity, 1500000000);
	assert_int_equal(v.gen, pl.gen);

	/* UIDVALIDITY unknown: bumped above now and anything the store said */
	plan_req(&q, 0, 0, true);
	assert_int_equal(uid_import_plan(&q, SDLM_EMAGIC, NULL, 1700000000123ull, &pl), 0);
	assert_true(pl.bumped);
	assert_int_equal(pl.uidvalidity, 1700000000);
	assert_int_equal(pl.next, 1);
	/* known but no room for the margin below 2^32: bumped too */
	plan_req(&q, 1800000000, UID_MAX - 10, true);
	assert_int_equal(uid_import_plan(&q, SDLM_EMAGIC, NULL, 1700000000123ull, &pl), 0);
	assert_true(pl.bumped);
	assert_int_equal(pl.uidvalidity, 1800000001);
	assert_int_equal(pl.next, 1);
	/* a restore plan without a generation is not written */
	pl.gen = 0;
	memset(&m, 0, sizeof(m));
	assert_int_equal(uid_import(&m, &p, &pl, guid_x, "INBOX", 5, SLOT, NULL, 0, 5, 2,
				    102, 0, &w), -EINVAL);
}

/* ---- hole 9: every record write checks the use verdict ---- */

static void test_write_gate(void **state)
{
	struct uid_params p = params_fixed(16);
	struct uid_mbox a, b;
	struct uid_slot_view v;
	struct uid_write w;
	uint8_t lvb[UID_LVB_LEN];
	uint32_t first;
	unsigned n;

	(void)state;
	disk_reset();
	memset(&a, 0, sizeof(a));
	create_sync(&a, &p, 3, 1, 1);
	assert_int_equal(alloc_sync(&a, &p, 1, 0, &first), 0);
	assert_int_equal(uid_release(&a, lvb), 0);

	/* B's lease lapses between its two takeover writes: the second is
	 * never submitted, and B hands nothing out. */
	memset(&b, 0, sizeof(b));
	disk_view(&v);
	assert_int_equal(uid_takeover(&b, &p, guid_x, SLOT, &v, lvb, 2, 2, 102,
				      0, &w), UID_WAIT);
	assert_int_equal(uid_write_gate(&b, 0, &w), 0);
	assert_int_equal(w.count, 1);
	disk_write(&w.rec);
	assert_int_equal(uid_write_done(&b, 0, &w), UID_WAIT);
	assert_int_equal(w.rec.copy, 1);
	n = disk_writes;
	assert_int_equal(uid_write_gate(&b, SDLM_ELEASE, &w), SDLM_ELEASE);
	assert_int_equal(w.count, 0);
	assert_int_equal(disk_writes, n);
	assert_int_equal(b.um_phase, UID_IDLE);
	assert_false(uid_busy(&b));
	assert_int_equal(uid_alloc(&b, &p, 1, 0, 0, &first, &w), -ENOLCK);

	/* A reservation refused by a pill: nothing written, READY, retried
	 * by the next allocation once the node may use its locks again. */
	memset(&b, 0, sizeof(b));
	takeover_sync(&b, &p, NULL, 3, 2, 0);
	do
		assert_int_equal(uid_alloc(&b, &p, 1, 0, 0, &first, &w), 0);
	while (!w.count);
	n = disk_writes;
	assert_int_equal(uid_write_gate(&b, SDLM_EPILL, &w), SDLM_EPILL);
	assert_int_equal(disk_writes, n);
	assert_int_equal(b.um_phase, UID_READY);
	assert_false(uid_busy(&b));
	assert_int_equal(alloc_sync(&b, &p, 1, 0, &first), 0);
	assert_true(disk_writes > n);
	assert_int_equal(uid_write_gate(&b, 1, &w), -EINVAL);
}

/* ---- the use verdict, and failed writes ---- */

static void test_may_use_and_failures(void **state)
{
	struct uid_params p = params_fixed(16);
	struct uid_mbox m;
	struct uid_slot_view v;
	struct uid_write w;
	uint32_t first = 0;

	(void)state;
	disk_reset();
	memset(&m, 0, sizeof(m));
	create_sync(&m, &p, 1, 1, 1);
	assert_int_equal(uid_alloc(&m, &p, 1, 0, SDLM_EPILL, &first, &w), SDLM_EPILL);
	assert_int_equal(uid_alloc(&m, &p, 1, 0, SDLM_ELEASE, &first, &w), SDLM_ELEASE);
	assert_int_equal(first, 0);
	assert_int_equal(m.um_next, 1);

	/* a failed reservation keeps what was known */
	while (uid_alloc(&m, &p, 1, 0, 0, &first, &w) == 0 && !w.count)
		;
	assert_int_equal(w.count, 1);
	assert_int_equal(uid_release(&m, (uint8_t[UID_LVB_LEN]){0}), -EBUSY);
	assert_int_equal(uid_write_done(&m, -EIO, &w), -EIO);
	assert_int_equal(m.um_phase, UID_READY);
	assert_int_equal(m.um_copy_w[0], 16);
	assert_int_equal(uid_write_done(&m, 0, &w), -EINVAL);
	/* it is retried by the next allocation */
	assert_int_equal(uid_alloc(&m, &p, 1, 0, 0, &first, &w), 0);
	assert_int_equal(w.count, 1);
	run_writes(&m, &w);
	assert_int_equal(m.um_copy_w[0], 48);

	/* a failed takeover write: back to IDLE, nothing handed out */
	memset(&m, 0, sizeof(m));
	disk_view(&v);
	assert_int_equal(uid_takeover(&m, &p, guid_x, SLOT, &v, NULL, 5, 2, 1, 0,
				      &w), UID_WAIT);
	disk_write(&w.rec);
	assert_int_equal(uid_write_done(&m, 0, &w), UID_WAIT);
	assert_int_equal(uid_write_done(&m, -EIO, &w), -EIO);
	assert_int_equal(m.um_phase, UID_IDLE);
	assert_int_equal(uid_alloc(&m, &p, 1, 0, 0, &first, &w), -ENOLCK);
	/* and a fresh takeover works, above what the half-done one wrote */
	disk_view(&v);
	takeover_sync(&m, &p, NULL, 5, 2, 0);
	assert_int_equal(alloc_sync(&m, &p, 1, 0, &first), 0);
	assert_int_equal(first, v.watermark + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reserve_no_io),
		cmocka_unit_test(test_adapt),
		cmocka_unit_test(test_epochs),
		cmocka_unit_test(test_takeover_lvb_vs_fence),
		cmocka_unit_test(test_late_write_scripted),
		cmocka_unit_test(test_late_write_random),
		cmocka_unit_test(test_late_landing_aio),
		cmocka_unit_test(test_wrap_and_bump),
		cmocka_unit_test(test_lvb_codec),
		cmocka_unit_test(test_create_rename_delete),
		cmocka_unit_test(test_may_use_and_failures),
		cmocka_unit_test(test_write_gate),
		cmocka_unit_test(test_damaged_resume),
		cmocka_unit_test(test_import_create),
		cmocka_unit_test(test_import_existing),
		cmocka_unit_test(test_import_tombstone),
		cmocka_unit_test(test_restore),
		cmocka_unit_test(test_provisional),
		cmocka_unit_test(test_degraded_allowed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
