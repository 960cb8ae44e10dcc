/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_uidio - the UID service's asynchronous record I/O (dlm/uidio.c,
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
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sdlm.h"
#include "aio.h"
#include "area.h"
#include "ondisk.h"
#include "uidrec.h"
#include "uid.h"
#include "uidio.h"

#define IO_MS		300u	/* the area's T */
#define NSLOTS		512u
#define MS		1000000ull

struct fixture {
	char path[PATH_MAX];
	struct area *a;
	struct uio *io;
	struct uid_params params;
	int may_use;
	unsigned may_use_asked;
	unsigned kicks;
};

struct mop {
	struct uio_op op;
	struct fixture *fx;
	unsigned calls;
	int rc;
	uint64_t t_done;
};

static struct fixture *cur_fx;
static unsigned turn_calls;	/* callbacks in the current uio_process */

static const char *test_dir(void)
{
	const char *d = getenv("SDLM_TEST_DIR");

	return d && *d ? d : ".";
}

static int fx_may_use(void *ctx)
{
	struct fixture *fx = ctx;

	fx->may_use_asked++;
	return fx->may_use;
}

static void fx_kick(void *ctx)
{
	((struct fixture *)ctx)->kicks++;
}

static void on_done(struct uio_op *op, int rc)
{
	struct mop *m = (struct mop *)((char *)op - offsetof(struct mop, op));

	m->calls++;
	m->rc = rc;
	m->t_done = aio_now_ns();
	turn_calls++;
	assert_false(uio_busy(op));
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct sdlm_header h;
	char why[AREA_WHY_LEN];
	int rv;

	assert_non_null(fx);
	snprintf(fx->path, sizeof(fx->path), "%s/sdlm-test-uidio-%ld.img", test_dir(),
		 (long)getpid());
	memset(&h, 0, sizeof(h));
	h.sector_size = 512;
	h.num_nodes = 2;
	snprintf(h.cluster_name, sizeof(h.cluster_name), "uidio");
	memset(h.uuid, 0x3c, sizeof(h.uuid));
	h.io_timeout_ms = IO_MS;
	h.hb_interval_ms = 100;
	h.watchdog_timeout_ms = 1000;
	h.uid_area_start = 2 * h.num_nodes + 1;
	h.uid_area_sectors = 2 * NSLOTS;
	rv = area_init(fx->path, &h, true, 2000, why, NULL, NULL);
	if (rv == -EINVAL)
		fail_msg("%s (tmpfs?): set SDLM_TEST_DIR to a directory on ext4/xfs", why);
	assert_int_equal(rv, 0);
	assert_int_equal(area_open(&fx->a, fx->path, 2000, why), 0);
	assert_int_equal(uio_create(&fx->io, fx->a, fx_may_use, fx_kick, fx), 0);
	uid_params_default(&fx->params);
	cur_fx = fx;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	uio_destroy(fx->io, 2 * IO_MS);
	area_close(fx->a);
	unlink(fx->path);
	free(fx);
	return 0;
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

static void guid_of(unsigned i, uint8_t g[UID_GUID_LEN])
{
	memset(g, 0, UID_GUID_LEN);
	g[0] = 0xa5;
	g[1] = (uint8_t)i;
	g[2] = (uint8_t)(i >> 8);
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
		cmocka_unit_test_setup_teardown(test_create_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_burst_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stall_keeps_turning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_write_stays_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gate_before_each_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_calls_back, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
