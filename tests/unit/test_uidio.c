/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_uidio - the UID service's asynchronous record I/O (dlm/daemon/uidio.c,
 * issue 13, hole 7) against a file-backed area through the real aio
 * layer and its fault injector, driving the real UID core (uid.c).
 *
 * What must hold: a start call never waits for the disk and never calls
 * back; every operation calls back exactly once, from uio_process; the
 * kernel never holds more than UIO_MAX_INFLIGHT requests and one turn
 * runs at most UIO_STEPS_PER_TURN continuations; a stalled write keeps
 * its operation busy while turns go on; a write that misses its deadline
 * (LATE) is failed to the core but stays in flight (its copy stuck, the
 * context not idle) until it has landed; the lease/pill gate is asked
 * before each write of a sequence; destroy calls back what is left.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "sdlm.h"
#include "aio.h"
#include "area.h"
#include "ondisk.h"
#include "uidrec.h"
#include "uid.h"
#include "uidio.h"
#include "uidio_fixture.h"

struct mop {
	struct uio_op op;
	struct fixture *fx;
	unsigned calls;
	int rc;
	uint64_t t_done;
};

static unsigned turn_calls;	/* callbacks in the current uio_process */

static void on_done(struct uio_op *op, int rc)
{
	struct mop *m = (struct mop *)((char *)op - offsetof(struct mop, op));

	m->calls++;
	m->rc = rc;
	m->t_done = aio_now_ns();
	turn_calls++;
	assert_false(uio_busy(op));
}

/* Turns of the loop until pred (or 20 T): poll the eventfd up to the
 * next deadline, then one uio_process.  Returns pred's last answer. */
static bool run_until(struct fixture *fx, bool (*pred)(void *), void *arg)
{
	uint64_t end = aio_now_ns() + 20ull * IO_MS * MS;

	while (!pred(arg) && aio_now_ns() < end) {
		struct pollfd pfd = { .fd = uio_fd(fx->io), .events = POLLIN };
		uint64_t dl = uio_next_deadline_ns(fx->io), now = aio_now_ns();
		int ms = dl == UINT64_MAX ? 50 : dl > now ? (int)((dl - now) / MS) + 1 : 0;

		assert_true(poll(&pfd, 1, ms > 50 ? 50 : ms) >= 0);
		turn_calls = 0;
		assert_true(uio_process(fx->io, aio_now_ns()) >= 0);
		assert_true(turn_calls <= UIO_STEPS_PER_TURN);
	}
	return pred(arg);
}

static bool op_called(void *arg)
{
	return ((struct mop *)arg)->calls > 0;
}

static bool io_idle(void *arg)
{
	return uio_idle(((struct fixture *)arg)->io);
}

/* Create mailbox i: insert probe, then the core's two writes. */
static void create_mailbox(struct fixture *fx, unsigned i, struct uid_mbox *m, uint64_t *slot)
{
	struct mop op = { .fx = fx };
	struct uid_write w = { 0 };
	uint8_t g[UID_GUID_LEN];
	char name[32];

	guid_of(i, g);
	snprintf(name, sizeof(name), "box%u", i);
	uio_insert(fx->io, &op.op, g, name, name, on_done);
	assert_int_equal(op.calls, 0);	/* never inside the start call */
	assert_true(run_until(fx, op_called, &op));
	assert_int_equal(op.rc, 0);
	*slot = op.op.slot;
	memset(m, 0, sizeof(*m));
	assert_int_equal(uid_create(m, &fx->params, g, name, strlen(name), 7, op.op.slot,
				    &op.op.v, 1, 1, 0x11, 0, &w), UID_WAIT);
	op.calls = 0;
	uio_writes(fx->io, &op.op, m, &w, name, on_done);
	assert_int_equal(op.calls, 0);
	assert_true(uio_busy(&op.op));
	assert_true(run_until(fx, op_called, &op));
	assert_int_equal(op.calls, 1);
	assert_int_equal(op.rc, 0);
	assert_int_equal(m->um_phase, UID_READY);
}

/* Created, found again by lookup (its slot, its records); an unknown
 * mailbox is -ENOENT. */
static void test_create_lookup(void **state)
{
	struct fixture *fx = *state;
	struct mop op = { .fx = fx };
	struct uid_mbox m;
	uint8_t g[UID_GUID_LEN];
	uint64_t slot;

	create_mailbox(fx, 1, &m, &slot);
	assert_int_equal(uio_record_writes(fx->io), 2);
	assert_int_equal(fx->may_use_asked, 2);	/* the gate, before each write */
	guid_of(1, g);
	uio_lookup(fx->io, &op.op, "ls", g, "box1", "box1", on_done);
	assert_int_equal(op.calls, 0);
	assert_true(run_until(fx, op_called, &op));
	assert_int_equal(op.rc, 0);
	assert_int_equal(op.op.slot, slot);
	assert_int_equal(op.op.v.kind, UID_SLOT_USED);
	assert_int_equal(op.op.v.uidvalidity, 7);
	assert_memory_equal(op.op.rec_guid, g, UID_GUID_LEN);
	/* the same GUID under another name is a collision, not ours */
	op.calls = 0;
	uio_lookup(fx->io, &op.op, "ls", g, "other", "other", on_done);
	assert_true(run_until(fx, op_called, &op));
	assert_int_equal(op.rc, -ENOENT);
	op.calls = 0;
	guid_of(2, g);
	uio_lookup(fx->io, &op.op, "ls", g, "", "", on_done);
	assert_true(run_until(fx, op_called, &op));
	assert_int_equal(op.rc, -ENOENT);
}


static bool both_called(void *arg)
{
	struct mop *ops = arg;

	return ops[0].calls && ops[1].calls;
}

/*
 * Another node filled table 0, grew the table and created a mailbox in
 * the new table.  Two lookups of this node walk table 0 side by side and
 * read the new table's descriptor in the same turn: the first adds the
 * table, the second must go on in it too (it failed with -EINVAL when it
 * added the same table again), and this node knows the table from then on.
 */
static void test_grown_table_learnt(void **state)
{
	struct fixture *fx = *state;
	struct mop ops[2] = { { .fx = fx }, { .fx = fx } };
	struct uidtab_geom g;
	struct uidtab_desc d;
	uint8_t sec[512], gx[UID_GUID_LEN], gy[UID_GUID_LEN];
	uint64_t home;
	int fd;

	assert_int_equal(uidtab_geom_init(&g, &fx->a->hdr), 0);
	for (unsigned s = 0; s < NSLOTS; s++)
		put_rec(fx, &g, s, 1000 + s);
	assert_int_equal(uidtab_geom_next(&g, 16, &d), 0);
	fd = open(fx->path, O_WRONLY);
	assert_true(fd >= 0);
	for (uint32_t c = 0; c < 2; c++) {
		d.copy = c;
		assert_int_equal(uidtab_desc_out(&d, fx->a->hdr.uuid, sec, sizeof(sec)), 0);
		assert_int_equal(pwrite(fd, sec, sizeof(sec), (off_t)((g.next_desc + c) * 512)),
				 (ssize_t)sizeof(sec));
	}
	close(fd);
	assert_int_equal(uidtab_geom_add(&g, &d), 0);
	guid_of(7, gx);
	home = uidtab_home(gx, 16);
	put_rec(fx, &g, NSLOTS + home, 7);
	assert_int_equal(uio_geom(fx->io)->ntables, 1);

	guid_of(7, gx);
	guid_of(8, gy);
	uio_lookup(fx->io, &ops[0].op, "ls", gx, "box7", "box7", on_done);
	uio_lookup(fx->io, &ops[1].op, "ls", gy, "box8", "box8", on_done);
	assert_true(run_until(fx, both_called, ops));
	assert_int_equal(ops[0].rc, 0);
	assert_int_equal(ops[0].op.slot, NSLOTS + home);
	assert_int_equal(ops[1].rc, -ENOENT);
	assert_int_equal(uio_geom(fx->io)->ntables, 2);
	assert_int_equal(uidtab_geom_total(uio_geom(fx->io)), NSLOTS + 16);
}

/* Until op is called; the descriptor read after table 0 completes short
 * (a partial read on a bad path), no other read. */
static bool called_desc_short(void *arg)
{
	struct mop *m = arg;

	if (m->op.rd_desc && !m->rc) {
		uio_apply_fault(m->fx->io, "read:short=512");
		m->rc = 1;		/* the fault is set */
	} else if (!m->op.rd_desc && m->rc == 1) {
		uio_apply_fault(m->fx->io, NULL);
		m->rc = 0;
	}
	if (m->calls)
		uio_apply_fault(m->fx->io, NULL);
	return m->calls > 0;
}

static void lookup_short_desc(struct fixture *fx, struct mop *op, unsigned i, bool insert)
{
	uint8_t g[UID_GUID_LEN];
	char name[32];

	guid_of(i, g);
	snprintf(name, sizeof(name), "box%u", i);
	memset(op, 0, sizeof(*op));
	op->fx = fx;
	if (insert)
		uio_insert(fx->io, &op->op, g, name, name, on_done);
	else
		uio_lookup(fx->io, &op->op, "ls", g, name, name, on_done);
	assert_true(run_until(fx, called_desc_short, op));
}

/*
 * Finding 1 of the grow review (failed before the fix: the lookup said
 * -ENOENT, the insert gave the tombstone's slot 3): table 0 is full, a
 * grow added table 1 and another node created X in it; this node has not
 * learnt table 1 and its read of table 1's descriptor comes back short.
 * A short read is "no table" only when the device ends before the pair:
 * here the pair is there, so the lookup and the insert fail closed (X
 * is neither missed nor placed twice).  A device cut in the middle of the
 * pair fails closed too; one ending right after table 0 is "no table".
 */
static void test_short_desc_read_fails_closed(void **state)
{
	struct fixture *fx = *state;
	struct mop op;
	struct uidtab_geom g;
	struct uidtab_desc d;
	uint8_t sec[512], gx[UID_GUID_LEN];
	uint64_t home, t0_end;
	int fd;

	assert_int_equal(uidtab_geom_init(&g, &fx->a->hdr), 0);
	for (unsigned s = 0; s < NSLOTS; s++)
		put_rec(fx, &g, s, 1000 + s);
	put_rec_st(fx, &g, 3, 1003, UIDREC_DELETED);	/* a tombstone in table 0 */
	t0_end = g.next_desc * 512;
	fd = open(fx->path, O_WRONLY);
	assert_true(fd >= 0);
	/* an area sized to table 0 (the pair after it not on the device):
	 * the short read is "no table" */
	assert_int_equal(ftruncate(fd, (off_t)t0_end), 0);
	lookup_short_desc(fx, &op, 7, false);
	assert_int_equal(op.rc, -ENOENT);
	/* half the pair: cut short, fail closed */
	assert_int_equal(ftruncate(fd, (off_t)(t0_end + 512)), 0);
	lookup_short_desc(fx, &op, 7, false);
	assert_true(op.rc < 0 && op.rc != -ENOENT);

	assert_int_equal(uidtab_geom_next(&g, 16, &d), 0);
	for (uint32_t c = 0; c < 2; c++) {
		d.copy = c;
		assert_int_equal(uidtab_desc_out(&d, fx->a->hdr.uuid, sec, sizeof(sec)), 0);
		assert_int_equal(pwrite(fd, sec, sizeof(sec), (off_t)((g.next_desc + c) * 512)),
				 (ssize_t)sizeof(sec));
	}
	close(fd);
	assert_int_equal(uidtab_geom_add(&g, &d), 0);
	guid_of(7, gx);
	home = uidtab_home(gx, 16);
	put_rec(fx, &g, NSLOTS + home, 7);	/* extends the file past the pair */
	assert_int_equal(uio_geom(fx->io)->ntables, 1);

	lookup_short_desc(fx, &op, 7, false);
	assert_true(op.rc < 0);
	assert_int_not_equal(op.rc, -ENOENT);
	lookup_short_desc(fx, &op, 7, true);
	assert_true(op.rc < 0);
	assert_int_equal(uio_geom(fx->io)->ntables, 1);
	/* the path back: X is found in table 1, learnt */
	memset(&op, 0, sizeof(op));
	op.fx = fx;
	uio_lookup(fx->io, &op.op, "ls", gx, "box7", "box7", on_done);
	assert_true(run_until(fx, op_called, &op));
	assert_int_equal(op.rc, 0);
	assert_int_equal(op.op.slot, NSLOTS + home);
	assert_int_equal(uio_geom(fx->io)->ntables, 2);
}

/* Both sectors of the descriptor pair after table 0 set to buf. */
static void put_desc_pair(struct fixture *fx, const struct uidtab_geom *g, const uint8_t *a,
			  const uint8_t *b)
{
	int fd = open(fx->path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, a, 512, (off_t)(g->next_desc * 512)), 512);
	assert_int_equal(pwrite(fd, b, 512, (off_t)((g->next_desc + 1) * 512)), 512);
	close(fd);
}

/*
 * Hole 2 of the grow review (failed before the fix: a descriptor of
 * another magic or another cluster's uuid read as "no table": the lookup
 * of X, which lives in table 1, said -ENOENT and the insert placed X
 * again in table 0's tombstone, slot 3: X in two slots, UIDs twice).
 * Table 0 is full with a tombstone; table 1's descriptor is hit by a
 * bad write.  Only the all-zero pair is "no table": the lookup and the
 * insert fail closed, and the chain read by `uid grow`/`uid summary`
 * fails naming the table.
 */
static void test_bad_desc_fails_closed(void **state)
{
	struct fixture *fx = *state;
	struct mop op;
	struct uidtab_geom g, g2;
	struct uidtab_desc d;
	uint8_t sec[2][512], zero[512], gx[UID_GUID_LEN];
	uint64_t home;

	assert_int_equal(uidtab_geom_init(&g, &fx->a->hdr), 0);
	for (unsigned s = 0; s < NSLOTS; s++)
		put_rec(fx, &g, s, 1000 + s);
	put_rec_st(fx, &g, 3, 1003, UIDREC_DELETED);	/* a tombstone in table 0 */
	assert_int_equal(uidtab_geom_next(&g, 16, &d), 0);
	for (uint32_t c = 0; c < 2; c++) {
		d.copy = c;
		assert_int_equal(uidtab_desc_out(&d, fx->a->hdr.uuid, sec[c], sizeof(sec[c])), 0);
	}
	memset(zero, 0, sizeof(zero));
	g2 = g;
	assert_int_equal(uidtab_geom_add(&g2, &d), 0);
	guid_of(7, gx);
	home = uidtab_home(gx, 16);
	put_rec(fx, &g2, NSLOTS + home, 7);	/* X lives in table 1 */

	/* copy 0's magic hit, copy 1 lost (zero): fail closed */
	sec[0][2] ^= 0x01;
	put_desc_pair(fx, &g, sec[0], zero);
	for (int insert = 0; insert < 2; insert++) {
		memset(&op, 0, sizeof(op));
		op.fx = fx;
		if (insert)
			uio_insert(fx->io, &op.op, gx, "box7", "box7", on_done);
		else
			uio_lookup(fx->io, &op.op, "ls", gx, "box7", "box7", on_done);
		assert_true(run_until(fx, op_called, &op));
		assert_int_equal(op.rc, SDLM_EMAGIC);
	}
	assert_int_equal(area_uid_tables(fx->a, &g2), SDLM_EMAGIC);
	assert_non_null(strstr(fx->a->why, "UID table 1"));
	/* another cluster's descriptor in both copies: not "no table" either */
	{
		uint8_t other[SDLM_UUID_LEN];

		memset(other, 0x77, sizeof(other));
		for (uint32_t c = 0; c < 2; c++) {
			d.copy = c;
			assert_int_equal(uidtab_desc_out(&d, other, sec[c], sizeof(sec[c])), 0);
		}
	}
	put_desc_pair(fx, &g, sec[0], sec[1]);
	memset(&op, 0, sizeof(op));
	op.fx = fx;
	uio_insert(fx->io, &op.op, gx, "box7", "box7", on_done);
	assert_true(run_until(fx, op_called, &op));
	assert_int_equal(op.rc, SDLM_EIDENTITY);
	assert_int_equal(uio_geom(fx->io)->ntables, 1);
	/* the empty pattern is no table: X (not there then) is not found */
	put_desc_pair(fx, &g, zero, zero);
	memset(&op, 0, sizeof(op));
	op.fx = fx;
	uio_lookup(fx->io, &op.op, "ls", gx, "box7", "box7", on_done);
	assert_true(run_until(fx, op_called, &op));
	assert_int_equal(op.rc, -ENOENT);
}

/*
 * Finding 2 of the grow review (failed before the fix: area_uid_grow
 * returned SDLM_EIOTIMEOUT with the descriptor write still in flight, and
 * `uid grow` released the grow lock): a descriptor write that lands late
 * is waited for before area_uid_grow returns.
 */
static void test_grow_waits_late_write(void **state)
{
	struct fixture *fx = *state;
	struct aio_fault f = { .ops = AIO_FAULT_WRITE, .kind = AIO_FAULT_LATE,
			       .late_ms = 0 };
	struct uidtab_geom g;
	int rc;

	assert_int_equal(area_uid_tables(fx->a, &g), 0);
	f.late_ms = fx->a->io_timeout_ms + IO_MS;	/* past the write's deadline */
	aio_fault_set(fx->a->aio, &f);
	rc = area_uid_grow(fx->a, &g, 16, "h", 1, NULL, NULL);
	memset(&f, 0, sizeof(f));
	assert_int_equal(rc, SDLM_EIOTIMEOUT);
	assert_int_equal(aio_inflight(fx->a->aio), 0);
	aio_fault_set(fx->a->aio, &f);
}

static void read_at(struct fixture *fx, uint64_t off, uint8_t *buf, size_t len)
{
	int fd = open(fx->path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void write_hdr(struct fixture *fx, const struct sdlm_header *h)
{
	uint8_t sec[512];
	int fd = open(fx->path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(hdr_out(h, sec, sizeof(sec)), 0);
	assert_int_equal(pwrite(fd, sec, sizeof(sec), 0), (ssize_t)sizeof(sec));
	close(fd);
}

/*
 * Grow review, hole 1 (failed before the fix: the grow never touched the
 * header, so a daemon that does not follow the chain of tables, started
 * after the grow, used the area: a mailbox of table 1 created again in
 * table 0).  The grow sets the header's UID_CHAIN feature (major 2,
 * refused by every 1.x reader: test_ondisk test_hdr_features) BEFORE the
 * table's descriptor is written: a grow that cannot set it leaves no
 * table (here: the header changed under it, an area initialised again).
 */
static void test_grow_sets_feature_first(void **state)
{
	struct fixture *fx = *state;
	struct sdlm_header h = fx->a->hdr, other = fx->a->hdr;
	struct uidtab_geom g;
	struct area *b;
	char why[AREA_WHY_LEN];
	uint8_t hsec[512], pair[1024], zero[1024];

	memset(zero, 0, sizeof(zero));
	assert_int_equal(area_uid_tables(fx->a, &g), 0);
	assert_int_equal(g.ntables, 1);
	snprintf(other.cluster_name, sizeof(other.cluster_name), "again");
	write_hdr(fx, &other);
	assert_true(area_uid_grow(fx->a, &g, 16, "h", 1, NULL, NULL) < 0);
	assert_non_null(strstr(fx->a->why, "header"));
	read_at(fx, g.next_desc * 512, pair, sizeof(pair));
	assert_memory_equal(pair, zero, sizeof(pair));	/* no table */

	write_hdr(fx, &h);
	assert_int_equal(fx->a->hdr.flags, 0);
	assert_int_equal(area_uid_grow(fx->a, &g, 16, "h", 1, NULL, NULL), 0);
	read_at(fx, 0, hsec, sizeof(hsec));
	assert_int_equal(hsec[8] | hsec[9] << 8, SDLM_HDR_MAJOR_FEATURES);
	assert_int_equal(fx->a->hdr.flags, SDLM_HDR_F_UID_CHAIN);
	assert_int_equal(area_open(&b, fx->path, 2000, why), 0);
	assert_int_equal(b->hdr.flags, SDLM_HDR_F_UID_CHAIN);
	assert_int_equal(area_uid_tables(b, &g), 0);
	assert_int_equal(g.ntables, 2);
	/* the next grow finds it set and leaves the header alone */
	assert_int_equal(area_uid_grow(b, &g, 16, "h", 2, NULL, NULL), 0);
	read_at(fx, 0, pair, sizeof(hsec));
	assert_memory_equal(pair, hsec, sizeof(hsec));
	area_close(b);
	assert_int_equal(area_uid_tables(fx->a, &g), 0);
	assert_int_equal(g.ntables, 3);
}

/*
 * Grow review, item 4: the device size that area_init's zeroing of the
 * descriptor pair and area_uid_desc_missing decide on.  The old dev_bytes
 * returned 0 when fstat/BLKGETSIZE64 failed, which uid_area_zero took
 * for "the device ends at the area" (the pair, maybe an old descriptor,
 * left as it was, init reporting success).  A size that does not read
 * is an error, never a size.
 */
static void test_dev_size_error(void **state)
{
	struct fixture *fx = *state;
	struct stat st;
	uint64_t have = 1;
	int fd = fx->a->fd;

	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(area_dev_size(fx->a, &have), 0);
	assert_int_equal(have, (uint64_t)st.st_size);
	fx->a->fd = -1;		/* a size query that fails */
	assert_int_equal(area_dev_size(fx->a, &have), -EBADF);
	assert_int_equal(have, 0);
	fx->a->fd = fd;
}

static bool all_called(void *arg)
{
	struct mop *ops = arg;
	unsigned i;

	for (i = 0; i < 200; i++)
		if (!ops[i].calls)
			return false;
	return true;
}

/*
 * A burst: 200 lookups started at once.  No start call submits past the
 * context's size or this turn's budget (the rest wait their turn and the
 * host is asked for one: a kick), every one is answered exactly once,
 * and no turn runs more than UIO_STEPS_PER_TURN continuations.
 */
static void test_burst_bounded(void **state)
{
	struct fixture *fx = *state;
	struct mop *ops = calloc(200, sizeof(*ops));
	uint8_t g[UID_GUID_LEN];
	unsigned i;

	assert_non_null(ops);
	for (i = 0; i < 200; i++) {
		guid_of(100 + i, g);
		ops[i].fx = fx;
		uio_lookup(fx->io, &ops[i].op, "ls", g, "", "", on_done);
		assert_int_equal(ops[i].calls, 0);
	}
	assert_true(fx->kicks > 0);
	assert_int_equal(uio_next_deadline_ns(fx->io), 0);	/* work now */
	assert_true(run_until(fx, all_called, ops));
	for (i = 0; i < 200; i++) {
		assert_int_equal(ops[i].calls, 1);
		assert_int_equal(ops[i].rc, -ENOENT);
	}
	free(ops);
}

/*
 * A write stalled 200 ms (below this area's T of 300 ms, as the cluster
 * test's 900 ms are below its 3 s): the operation stays busy while turns
 * of the loop go on, and ends only once the stall is over.
 */
static void test_stall_keeps_turning(void **state)
{
	struct fixture *fx = *state;
	struct mop op = { .fx = fx };
	struct uid_mbox m;
	struct uid_write w = { 0 };
	uint32_t first;
	uint64_t slot, t0;
	unsigned turns = 0;

	create_mailbox(fx, 3, &m, &slot);
	uio_apply_fault(fx->io, "write:stall=200");
	/* use up the first range: the next allocation needs a write */
	while (uid_alloc(&m, &fx->params, 1, 0, 0, &first, &w) == 0 && !w.count)
		;
	if (!w.count)
		assert_int_equal(uid_alloc(&m, &fx->params, 1, 0, 0, &first, &w), UID_WAIT);
	assert_int_equal(w.count, 1);
	t0 = aio_now_ns();
	uio_writes(fx->io, &op.op, &m, &w, "box3", on_done);
	while (!op.calls) {
		struct pollfd pfd = { .fd = uio_fd(fx->io), .events = POLLIN };

		assert_true(poll(&pfd, 1, 10) >= 0);
		assert_true(uio_process(fx->io, aio_now_ns()) >= 0);
		turns++;
		assert_true(aio_now_ns() - t0 < 20ull * IO_MS * MS);
	}
	/* turns went on while the write was held, and it took the stall */
	assert_true(turns > 1);
	assert_true(op.t_done - t0 >= 200 * MS);
	assert_int_equal(op.rc, 0);
	assert_int_equal(m.um_stuck, 0);
	uio_apply_fault(fx->io, NULL);
}

/*
 * A write that misses its deadline and lands later (LATE): the core is
 * told SDLM_EIOTIMEOUT, its copy is stuck, and the context is not idle
 * until the write has left the kernel; then it is reaped and the copy
 * is written again.
 */
static void test_late_write_stays_in_flight(void **state)
{
	struct fixture *fx = *state;
	struct mop op = { .fx = fx };
	struct uid_mbox m;
	struct uid_write w = { 0 };
	uint32_t first, c;
	uint64_t slot;
	int rv;

	create_mailbox(fx, 4, &m, &slot);
	while ((rv = uid_alloc(&m, &fx->params, 1, 0, 0, &first, &w)) == 0 && !w.count)
		;
	assert_int_equal(w.count, 1);
	c = w.rec.copy;
	uio_apply_fault(fx->io, "write:late=inf");
	uio_writes(fx->io, &op.op, &m, &w, "box4", on_done);
	assert_true(run_until(fx, op_called, &op));
	assert_int_equal(op.rc, SDLM_EIOTIMEOUT);
	assert_true(m.um_stuck & (1u << c));
	assert_false(uio_idle(fx->io));
	/* nothing more to that copy, no release, while it is stuck */
	assert_int_equal(uid_release(&m, (uint8_t[UID_LVB_LEN]){ 0 }), -EBUSY);
	/* the path comes back: the withheld write lands, then is reaped */
	uio_apply_fault(fx->io, NULL);
	assert_true(run_until(fx, io_idle, fx));
	assert_int_equal(uid_write_reaped(&m, c), 0);
	assert_int_equal(m.um_stuck, 0);
	/* and the allocation goes on, rewriting the copy */
	for (;;) {
		rv = uid_alloc(&m, &fx->params, 1, 0, 0, &first, &w);
		if (!w.count)
			break;
		op.calls = 0;
		uio_writes(fx->io, &op.op, &m, &w, "box4", on_done);
		assert_true(run_until(fx, op_called, &op));
		assert_int_equal(op.rc, 0);
	}
	assert_int_equal(rv, 0);
}

/* The gate is asked right before each write: refused before the second
 * write of a sequence, that write is never submitted, the core is told,
 * and the answer still comes from uio_process only. */
static void test_gate_before_each_write(void **state)
{
	struct fixture *fx = *state;
	struct mop op = { .fx = fx };
	struct uid_mbox m;
	struct uid_write w = { 0 };
	uint8_t g[UID_GUID_LEN];
	uint64_t writes;

	guid_of(5, g);
	uio_insert(fx->io, &op.op, g, "box5", "box5", on_done);
	assert_true(run_until(fx, op_called, &op));
	assert_int_equal(op.rc, 0);
	memset(&m, 0, sizeof(m));
	assert_int_equal(uid_create(&m, &fx->params, g, "box5", 4, 9, op.op.slot, &op.op.v, 1, 1,
				    0x11, 0, &w), UID_WAIT);
	writes = uio_record_writes(fx->io);
	fx->may_use = SDLM_ELEASE;
	op.calls = 0;
	uio_writes(fx->io, &op.op, &m, &w, "box5", on_done);
	assert_int_equal(op.calls, 0);
	assert_true(run_until(fx, op_called, &op));
	assert_int_equal(op.rc, SDLM_ELEASE);
	assert_int_equal(uio_record_writes(fx->io), writes);
	assert_int_equal(m.um_phase, UID_IDLE);
	assert_false(uid_busy(&m));
	fx->may_use = 0;
}

/* Destroying the engine calls back the operation still in flight (a
 * write stalled for ever) before it returns. */
static void test_destroy_calls_back(void **state)
{
	struct fixture *fx = *state;
	struct mop op = { .fx = fx };
	struct uid_mbox m;
	struct uid_write w = { 0 };
	uint32_t first;
	uint64_t slot;

	create_mailbox(fx, 6, &m, &slot);
	while (uid_alloc(&m, &fx->params, 1, 0, 0, &first, &w) == 0 && !w.count)
		;
	assert_int_equal(w.count, 1);
	uio_apply_fault(fx->io, "write:stall=inf");
	uio_writes(fx->io, &op.op, &m, &w, "box6", on_done);
	assert_int_equal(op.calls, 0);
	uio_destroy(fx->io, IO_MS / 2);
	fx->io = NULL;
	assert_int_equal(op.calls, 1);
	assert_true(op.rc < 0);
	/* a fresh engine for the teardown */
	assert_int_equal(uio_create(&fx->io, fx->a, fx_may_use, fx_kick, fx), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_lookup, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_grown_table_learnt, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_short_desc_read_fails_closed, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_bad_desc_fails_closed, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_grow_waits_late_write, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_grow_sets_feature_first, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_dev_size_error, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_burst_bounded, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_stall_keeps_turning, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_late_write_stays_in_flight, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_gate_before_each_write, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_destroy_calls_back, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
