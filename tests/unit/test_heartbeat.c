/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_heartbeat.c - the daemon's heartbeat engine (fence/heartbeat.c) on a
 * real file-backed area with O_DIRECT, driven by the real clock.
 *
 * The file must be on a file system that takes O_DIRECT (ext4, not
 * tmpfs): SDLM_TEST_DIR, as for test_aio.  Waits are counted in the
 * engine's own heartbeat writes, or bounded by multiples of the
 * configured timeouts, never by fixed sleeps.
 *
 * Issue 13, hole 2: a victim must not acknowledge a poison pill while any
 * I/O context of the daemon still has a write in flight - the UID
 * service's included, which is not the heartbeat's.
 *
 * Issue 13, hole 8: a VM pause CLOCK_BOOTTIME did not count.  The clock
 * seam is the engine's now_ms argument: the test's clock runs on while a
 * peer's slot shows it wrote 30 heartbeats in what our clock calls one
 * interval - what a paused guest sees on waking.
 *
 * Issue 13, hole 3, the executor's side: fence/fencer.c, driven by the
 * engine's reads, fencing a peer whose slot holds a stale "any
 * incarnation" pill, carries out what the state machine decides: its own
 * pill (seq on disk + 1, naming the incarnation), and the dead verdict
 * only with that pill in the slot.
 */
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

#include <cmocka.h>

#include "sdlm_errors.h"
#include "aio.h"
#include "clock.h"
#include "area.h"
#include "ondisk.h"
#include "timeouts.h"
#include "heartbeat.h"
#include "fencer.h"

#define INC_SELF	0x5e1f00000000001ull

struct fixture {
	char path[512];
	struct sdlm_timeouts t;
	struct area *a;		/* the engine's */
	struct area *peer;	/* another node's view (sdlmctl-like) */
	struct hb_engine *e;
	struct aio_ctx *uid;	/* a second context, as the UID service's */
	int uid_fd;
	void *ubuf;
	bool stop_told;
	int ack_wait_told;	/* HBE_ACK_WAIT: times told */
	int ack_wait_inflight;	/* its reason */
	int clock_missed;
	int self_fence_reason;		/* HBE_SELF_FENCE's, 0: none */
	struct fencer *f;
	int fenced_path;
	uint64_t fenced_inc;
	struct sdlm_msg msg_at_verdict;	/* victim's slot when declared */
	/* the hand-off's ops (hbe_set_handoff) */
	uint64_t ho_held;		/* the grant we hold, 0 none */
	int ho_stops, ho_keeps, ho_kills;
	uint64_t ho_listed;		/* the lkid listed, 0 none */
	uint64_t ho_listed_counter;	/* hbe_counter() when it was */
	/* node 2 writing at its pace (run_until, each tick): a live
	 * requester, with its request area peer_req */
	bool peer_pace;
	uint64_t peer_counter;
	struct sdlm_hb_req peer_req;
	uint64_t peer_written_ms;	/* its last pace write, before it */
	int slot_bad_told;		/* HBE_HO_SLOT_BAD: times told */
	uint32_t slot_bad_node;		/* its reason */
	int msg_at_verdict_rc;
	int uid_write_result;
	bool uid_write_done;
};

static const char *test_dir(void)
{
	const char *d = getenv("SDLM_TEST_DIR");

	return d && *d ? d : ".";
}

static void on_event(void *ctx, int what, int reason)
{
	struct fixture *fx = ctx;

	(void)reason;
	if (what == HBE_STOP_LOCKS)
		fx->stop_told = true;
	if (what == HBE_CLOCK_MISSED)
		fx->clock_missed = reason;
	if (what == HBE_SELF_FENCE)
		fx->self_fence_reason = reason;
	if (what == HBE_ACK_WAIT) {
		fx->ack_wait_told++;
		fx->ack_wait_inflight = reason;
	}
	if (what == HBE_HO_SLOT_BAD) {
		fx->slot_bad_told++;
		fx->slot_bad_node = (uint32_t)reason;
	}
	if (what == HBE_READ && fx->f)
		fencer_on_read(fx->f, clock_boottime_ms());
}

static void uid_write_done(void *arg, int result, const void *data,
			   size_t len)
{
	struct fixture *fx = arg;

	(void)data;
	(void)len;
	fx->uid_write_done = true;
	fx->uid_write_result = result;
}

static uint32_t fixture_nodes = 2;	/* the area's slots */

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct sdlm_timeouts_base b = { .io_timeout_ms = 300,
					.hb_interval_ms = 100,
					.watchdog_ms = 1000 };
	struct sdlm_header h;
	char why[AREA_WHY_LEN];
	uint32_t ss = 0;
	int rv;

	assert_non_null(fx);
	assert_int_equal(timeouts_derive(&b, &fx->t, NULL), 0);
	snprintf(fx->path, sizeof(fx->path), "%s/sdlm-test-hb-%ld.img",
		 test_dir(), (long)getpid());
	memset(&h, 0, sizeof(h));
	h.sector_size = 512;
	h.num_nodes = fixture_nodes;
	snprintf(h.cluster_name, sizeof(h.cluster_name), "hbtest");
	memset(h.uuid, 0x5a, sizeof(h.uuid));
	h.io_timeout_ms = b.io_timeout_ms;
	h.hb_interval_ms = b.hb_interval_ms;
	h.watchdog_timeout_ms = b.watchdog_ms;
	rv = area_init(fx->path, &h, true, 2000, why, NULL, NULL);
	if (rv == -EINVAL)
		fail_msg("%s (tmpfs?): set SDLM_TEST_DIR to a directory on "
			 "ext4/xfs", why);
	assert_int_equal(rv, 0);
	assert_int_equal(area_open(&fx->a, fx->path, 2000, why), 0);
	assert_int_equal(area_open(&fx->peer, fx->path, 2000, why), 0);
	assert_int_equal(hbe_create(&fx->e, fx->a, &fx->t, 1, "n1", INC_SELF,
				    0, on_event, fx), 0);
	assert_int_equal(aio_ctx_create(&fx->uid, 4), 0);
	assert_int_equal(aio_open_dev(fx->path, &fx->uid_fd, &ss), 0);
	assert_int_equal(posix_memalign(&fx->ubuf, AIO_BUF_ALIGN, 512), 0);
	memset(fx->ubuf, 0xee, 512);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	fencer_destroy(fx->f);
	aio_fault_set(fx->uid, NULL);
	aio_ctx_destroy(fx->uid, 2000);
	close(fx->uid_fd);
	free(fx->ubuf);
	hbe_destroy(fx->e);
	area_close(fx->peer);
	area_close(fx->a);
	unlink(fx->path);
	free(fx);
	return 0;
}

/* Node 2, a live requester: its next heartbeat, with its request area. */
static void peer_pace_write(struct fixture *fx)
{
	struct sdlm_hb hb = { .node_id = 2, .state = HB_ALIVE,
			      .counter = ++fx->peer_counter, .incarnation = 0x9e9e,
			      .hb_interval_ms = fx->t.base.hb_interval_ms };

	fx->peer_written_ms = clock_boottime_ms();
	if (fx->peer_req.lkid) {
		hb.req_seq = 1;
		hb.req[0] = fx->peer_req;
	}
	assert_int_equal(area_write_hb(fx->peer, &hb), 0);
}

/*
 * Run the engine as the daemon's loop does (a tick per interval, reaping
 * on the eventfd and at deadlines; the second context reaped every turn,
 * as uidsvc_tick does) until cond holds or budget_ms passes.
 */
static bool run_until(struct fixture *fx, uint64_t budget_ms,
		      bool (*cond)(struct fixture *))
{
	uint64_t end = clock_boottime_ms() + budget_ms, next_tick = 0, now, dl;
	struct pollfd p = { .fd = hbe_aio_fd(fx->e), .events = POLLIN };
	int wait;

	for (;;) {
		now = clock_boottime_ms();
		if (now >= next_tick) {
			if (fx->f)
				fencer_tick(fx->f, now);
			if (fx->peer_pace)
				peer_pace_write(fx);
			hbe_tick(fx->e, now);
			next_tick = now + fx->t.base.hb_interval_ms;
		}
		dl = hbe_next_deadline_ms(fx->e);
		if (dl > next_tick)
			dl = next_tick;
		wait = dl > now ? (int)(dl - now) : 0;
		if (wait > 20)
			wait = 20;	/* the second context has no fd here */
		(void)poll(&p, 1, wait);
		hbe_process(fx->e, clock_boottime_ms());
		aio_process(fx->uid, aio_now_ns());
		if (cond(fx))
			return true;
		if (clock_boottime_ms() >= end)
			return false;
	}
}

static bool alive(struct fixture *fx)
{
	return hbe_counter(fx->e) >= 2 &&
	       hbe_may_use_locks(fx->e, clock_boottime_ms()) == 0;
}

static bool stop_told(struct fixture *fx)
{
	return fx->stop_told;
}

static uint64_t writes_goal;

static bool writes_done(struct fixture *fx)
{
	return hbe_stats(fx->e)->writes >= writes_goal;
}

/* The ack as another node sees it on the disk. */
static bool ack_on_disk(struct fixture *fx)
{
	struct sdlm_hb hb[3];
	struct sdlm_msg msg[3];
	int hb_rc[3], msg_rc[3];

	if (area_read_slots(fx->peer, hb, hb_rc, msg, msg_rc) < 0)
		return false;
	return hb_rc[1] == 0 && hb[1].ack_cmd == MSG_RESET &&
	       hb[1].ack_seq == 1 && hb[1].ack_incarnation == INC_SELF;
}

static void test_no_ack_with_uid_write_in_flight(void **state)
{
	struct fixture *fx = *state;
	const struct sdlm_timeouts *t = &fx->t;
	struct aio_fault stall = { .ops = AIO_FAULT_WRITE,
				   .kind = AIO_FAULT_STALL,
				   .stall_ms = AIO_STALL_FOREVER };
	struct sdlm_msg pill = { .node_id = 1, .cmd = MSG_RESET, .seq = 1,
				 .target_incarnation = INC_SELF,
				 .from_node = 2 };
	uint64_t off = layout_area_len(&fx->a->hdr);

	assert_true(run_until(fx, 4 * t->lease_ms, alive));

	/* The UID service's write: in the kernel, its completion held. */
	aio_fault_set(fx->uid, &stall);
	assert_int_equal(aio_submit_write(fx->uid, fx->uid_fd, off, fx->ubuf,
					  512, aio_now_ns() +
					  (uint64_t)t->base.io_timeout_ms *
					  1000000, uid_write_done, fx), 0);
	assert_int_equal(aio_inflight(fx->uid), 1);

	/* Another node's fencer pills us; our clients stop at once. */
	assert_int_equal(area_write_msg(fx->peer, &pill), 0);
	assert_true(run_until(fx, 4 * t->lease_ms, stop_told));
	hbe_clients_stopped(fx->e, true);

	/* Three more heartbeats written, the UID write still in flight (its
	 * deadline passed meanwhile): no ack, neither decided nor on disk. */
	writes_goal = hbe_stats(fx->e)->writes + 3;
	assert_true(run_until(fx, 4 * t->lease_ms + 3 * t->base.io_timeout_ms,
			      writes_done));
	assert_int_equal(aio_inflight(fx->uid), 1);
	assert_false(hbe_decision(fx->e)->ack_have);
	assert_false(ack_on_disk(fx));
	/* ... and the daemon was told once why (the nemesis counts it) */
	assert_int_equal(fx->ack_wait_told, 1);
	assert_true(fx->ack_wait_inflight >= 1);

	/* The path comes back, the write completes: now the ack goes out. */
	aio_fault_set(fx->uid, NULL);
	assert_true(run_until(fx, 4 * t->ack_ms, ack_on_disk));
	assert_int_equal(aio_inflight(fx->uid), 0);
	assert_true(fx->uid_write_done);
	assert_true(hbe_decision(fx->e)->ack_have);
	assert_int_equal(fx->ack_wait_told, 1);
}

static uint64_t reads_goal;

static bool reads_done(struct fixture *fx)
{
	return hbe_stats(fx->e)->reads >= reads_goal;
}

static bool locks_refused(struct fixture *fx)
{
	return hbe_may_use_locks(fx->e, clock_boottime_ms()) != 0;
}

static void peer_write(struct fixture *fx, uint64_t counter)
{
	struct sdlm_hb hb = { .node_id = 2, .state = HB_ALIVE,
			      .counter = counter, .incarnation = 0x9e9e,
			      .hb_interval_ms = fx->t.base.hb_interval_ms };

	assert_int_equal(area_write_hb(fx->peer, &hb), 0);
}

static void test_pause_seen_in_peer_counters(void **state)
{
	struct fixture *fx = *state;
	const struct sdlm_timeouts *t = &fx->t;
	uint64_t budget = 4 * t->lease_ms + 3 * t->base.io_timeout_ms;

	/* Quorate: a pause lapses the lease, and a lapsed lease fences the
	 * node whatever corosync says (issue 19 item 3; until then a quorate
	 * node always got its locks back after a renewal and a read).  One
	 * exception, timing-dependent here: a renewal submitted at or after
	 * the detection that completes in the same batch, before any
	 * decision saw the lapse, renews the lease; then the node owes a
	 * fresh read before any lock is used, as after any lapse. */
	hbe_set_quorate(fx->e, true);
	peer_write(fx, 100);
	assert_true(run_until(fx, budget, alive));
	/* Two reads see the peer at 100: its pace is known. */
	reads_goal = hbe_stats(fx->e)->reads + 2;
	assert_true(run_until(fx, budget, reads_done));
	assert_int_equal(hbe_may_use_locks(fx->e, clock_boottime_ms()), 0);
	/* A peer moving at its normal pace changes nothing. */
	peer_write(fx, 101);
	reads_goal = hbe_stats(fx->e)->reads + 2;
	assert_true(run_until(fx, budget, reads_done));
	assert_int_equal(hbe_may_use_locks(fx->e, clock_boottime_ms()), 0);
	assert_int_equal(fx->clock_missed, 0);

	/* We "wake": the peer wrote 30 heartbeats (29 intervals at least)
	 * while our clock moved about one interval.  The lease counts as
	 * lapsed at the next read. */
	peer_write(fx, 131);
	assert_true(run_until(fx, budget, locks_refused));
	assert_true(fx->clock_missed > 0);
	assert_true(fx->clock_missed <= (int)(29 * t->base.hb_interval_ms));
	assert_int_equal(hbe_stats(fx->e)->clock_misses, 1);
	if (hbe_may_use_locks(fx->e, clock_boottime_ms()) == SDLM_ELEASE) {
		/* Renewed in the same batch: usable again only after a
		 * renewal and a read after it, never fenced for this. */
		assert_true(hbe_self(fx->e)->ss_need_read);
		assert_true(hbe_self(fx->e)->ss_lease_sub_ms >=
			    hbe_self(fx->e)->ss_lease_floor_ms);
		assert_true(run_until(fx, budget, alive));
		assert_true(hbe_feed_ok(fx->e));
		assert_int_equal(fx->self_fence_reason, 0);
		return;
	}
	assert_int_equal(hbe_may_use_locks(fx->e, clock_boottime_ms()), SDLM_EFENCED);
	assert_int_equal(fx->self_fence_reason, SDLM_ELEASE);
	assert_false(hbe_feed_ok(fx->e));
	/* Never usable again in this incarnation, renewals or not. */
	writes_goal = hbe_stats(fx->e)->writes + 2;
	assert_true(run_until(fx, budget, writes_done));
	assert_int_equal(hbe_may_use_locks(fx->e, clock_boottime_ms()), SDLM_EFENCED);
	assert_false(hbe_feed_ok(fx->e));
}

/* Reap with the test's clock at fake_now until goal reads completed. */
static void process_at(struct fixture *fx, uint64_t fake_now, uint64_t goal)
{
	uint64_t end = clock_boottime_ms() + 4 * fx->t.base.io_timeout_ms;
	struct pollfd p = { .fd = hbe_aio_fd(fx->e), .events = POLLIN };

	while (hbe_stats(fx->e)->reads < goal && clock_boottime_ms() < end) {
		(void)poll(&p, 1, 20);
		hbe_process(fx->e, fake_now);
	}
	assert_true(hbe_stats(fx->e)->reads >= goal);
}

/*
 * Our own loop stalls (the clock counts it) between the kernel finishing
 * a read and our processing it, while a peer goes on at its pace: no
 * pause may be seen.  The window runs from the earlier read's submission.
 */
static void test_no_pause_after_own_stall(void **state)
{
	struct fixture *fx = *state;
	const struct sdlm_timeouts *t = &fx->t;
	uint64_t budget = 4 * t->lease_ms + 3 * t->base.io_timeout_ms;
	uint64_t f0, r0, i = t->base.hb_interval_ms;

	hbe_set_quorate(fx->e, true);
	peer_write(fx, 100);
	assert_true(run_until(fx, budget, alive));
	reads_goal = hbe_stats(fx->e)->reads + 2;
	assert_true(run_until(fx, budget, reads_done));

	f0 = clock_boottime_ms();
	r0 = hbe_stats(fx->e)->reads;
	hbe_tick(fx->e, f0);			/* read A sees the peer at 100 */
	process_at(fx, f0 + 4 * i + i / 2, r0 + 1);	/* processed late */
	peer_write(fx, 105);			/* the peer's 4.5 intervals */
	hbe_tick(fx->e, f0 + 4 * i + i / 2);	/* read B */
	process_at(fx, f0 + 5 * i + i / 2, r0 + 2);
	assert_int_equal(hbe_stats(fx->e)->clock_misses, 0);
	assert_int_equal(fx->clock_missed, 0);
}

/* The peer's heartbeat sector as one that does not verify (zeros: a
 * torn or damaged sector, a slot being re-initialised). */
static void peer_slot_garble(struct fixture *fx)
{
	uint64_t off;
	void *buf = NULL;

	assert_int_equal(layout_hb_offset(&fx->peer->hdr, 2, &off), 0);
	assert_int_equal(posix_memalign(&buf, AIO_BUF_ALIGN, 512), 0);
	memset(buf, 0, 512);
	assert_int_equal(aio_write_sync(fx->peer->aio, fx->peer->fd, off, buf,
					512, 2000), 0);
	free(buf);
}

/*
 * Quorate and alive, the peer at 100 seen by two reads, then one more
 * read on the fake clock f0 (*f0; *r0: the reads before it) that sees it
 * at 100: where the clock-check tests below start.
 */
static void seen_at_100(struct fixture *fx, uint64_t *f0, uint64_t *r0)
{
	const struct sdlm_timeouts *t = &fx->t;
	uint64_t budget = 4 * t->lease_ms + 3 * t->base.io_timeout_ms;

	hbe_set_quorate(fx->e, true);
	peer_write(fx, 100);
	assert_true(run_until(fx, budget, alive));
	reads_goal = hbe_stats(fx->e)->reads + 2;
	assert_true(run_until(fx, budget, reads_done));
	*f0 = clock_boottime_ms();
	*r0 = hbe_stats(fx->e)->reads;
	hbe_tick(fx->e, *f0);
	process_at(fx, *f0, *r0 + 1);
}

/*
 * Review s24-review2 F1: the peer's slot does not verify for a few reads
 * (our reads succeed, its sector does not decode) while it goes on
 * writing at its pace.  The clock check must not compare the counter it
 * saw before the gap with the window of the last read alone: that reads
 * as a pause our clock missed - the lease voided, and a node that is not
 * quorate (cut off, serving on its lease) reset, with nothing wrong.
 */
static void test_no_pause_across_unreadable_slot(void **state)
{
	struct fixture *fx = *state;
	uint64_t f0, r0, i = fx->t.base.hb_interval_ms, k;

	seen_at_100(fx, &f0, &r0);
	peer_slot_garble(fx);
	for (k = 1; k <= 4; k++) {		/* four reads: slot unreadable */
		hbe_tick(fx->e, f0 + k * i);
		process_at(fx, f0 + k * i, r0 + 1 + k);
	}
	peer_write(fx, 105);			/* the peer's five intervals */
	hbe_tick(fx->e, f0 + 5 * i);
	process_at(fx, f0 + 5 * i, r0 + 6);
	assert_int_equal(hbe_stats(fx->e)->clock_misses, 0);
	assert_int_equal(fx->clock_missed, 0);
}

/*
 * The nemesis short run's disk-lost fault (issue 19 item 3, seed 7): a
 * peer's writes fail for a few intervals (its disk errors), each failed
 * write still taking a counter value, then one lands.  Its counter jumps
 * by the writes that failed, most of them submitted before our previous
 * read: compared with that read's window alone they read as a pause our
 * clock missed, and since a lapsed lease fences, every healthy node of
 * the cluster reset itself for one node's disk fault.  The window must
 * start at the last read that showed an OLDER counter: every write above
 * the counter we hold was submitted after that read.
 */
static void test_no_pause_across_peer_write_failures(void **state)
{
	struct fixture *fx = *state;
	uint64_t f0, r0, i = fx->t.base.hb_interval_ms, k;

	seen_at_100(fx, &f0, &r0);
	peer_write(fx, 101);			/* one interval later: its pace */
	hbe_tick(fx->e, f0 + i);
	process_at(fx, f0 + i, r0 + 2);
	/* Its next four writes (102..105) fail: the slot keeps 101. */
	for (k = 2; k <= 5; k++) {
		hbe_tick(fx->e, f0 + k * i);
		process_at(fx, f0 + k * i, r0 + 1 + k);
	}
	peer_write(fx, 106);			/* its disk is back */
	hbe_tick(fx->e, f0 + 6 * i);
	process_at(fx, f0 + 6 * i, r0 + 7);
	assert_int_equal(hbe_stats(fx->e)->clock_misses, 0);
	assert_int_equal(fx->clock_missed, 0);
}

/*
 * Review s28-revearly: early ticks (fencesm self_early_tick_at) against a
 * window our failed reads stretched.  The rule bounds a peer's early
 * writes to one per 4I + 2T, each at least I/2 after its previous write,
 * and counts on a clock-check window being shorter than that (fencesm.h:
 * "a window a peer counts over spans its read cadence, a read's deadline
 * and a stall of its own").  But a read that fails keeps the baseline
 * (read_done returns before clock_check), so reads failing for a while
 * stretch the window over several early writes of a healthy peer: three
 * of them cut 3 I/2 from its writes' span, more than the check's slack I.
 *
 * The peer (I = 100, T = 300 here), every step allowed by the rule:
 * write 101 lands just after our read at f0 (submitted I before), 102 at
 * f0 + 1, then early writes 50 ms after their predecessor at f0 + 51,
 * f0 + 1101 and f0 + 2151 (1050 apart, the rate limit 1000), regular
 * ones every I in between: 125 at f0 + 2151.  Our read at f0 + 60 (an
 * early tick of ours) sees 101; our reads then fail until the one at
 * f0 + 2160, which sees 125: 23 intervals of the peer's counted against
 * our 2160 ms + I.  No pause happened.
 */
/* Reap on the test's clock at fake_now until the area's context is idle
 * (our heartbeat write completed, its renewal counted at fake_now). */
static void idle_at(struct fixture *fx, uint64_t fake_now)
{
	uint64_t end = clock_boottime_ms() + 4 * fx->t.base.io_timeout_ms;
	struct pollfd p = { .fd = hbe_aio_fd(fx->e), .events = POLLIN };

	while (aio_inflight(fx->a->aio) && clock_boottime_ms() < end) {
		(void)poll(&p, 1, 20);
		hbe_process(fx->e, fake_now);
	}
	assert_int_equal(aio_inflight(fx->a->aio), 0);
}

static void test_no_pause_early_ticks_across_failed_reads(void **state)
{
	struct fixture *fx = *state;
	uint64_t f0, r0, i = fx->t.base.hb_interval_ms, k, now;
	struct aio_fault f;

	assert_int_equal(i, 100);
	assert_int_equal(fx->t.base.io_timeout_ms, 300);
	seen_at_100(fx, &f0, &r0);		/* our read at f0 sees 100 */
	peer_write(fx, 101);
	hbe_tick(fx->e, f0 + 60);		/* sees 101: the baseline f0 */
	process_at(fx, f0 + 60, r0 + 2);
	idle_at(fx, f0 + 60);
	assert_int_equal(aio_fault_parse("read:error=EIO", &f), 0);
	aio_fault_set(fx->a->aio, &f);
	for (k = 1; k <= 20; k++) {		/* our reads fail */
		now = f0 + 60 + k * i;
		hbe_tick(fx->e, now);
		process_at(fx, now, r0 + 2 + k);
		idle_at(fx, now);
	}
	aio_fault_set(fx->a->aio, NULL);
	peer_write(fx, 125);
	now = f0 + 60 + 21 * i;			/* f0 + 2160 */
	hbe_tick(fx->e, now);
	process_at(fx, now, r0 + 23);
	idle_at(fx, now);
	assert_int_equal(fx->clock_missed, 0);
	assert_int_equal(hbe_stats(fx->e)->clock_misses, 0);
	assert_int_equal(fx->self_fence_reason, 0);
}

/* The peer's slot as this build writes it: it carries LAPSE_FENCES. */
static void peer_write_lapse(struct fixture *fx, uint64_t counter)
{
	struct sdlm_hb hb = { .node_id = 2, .state = HB_ALIVE,
			      .counter = counter, .incarnation = 0x9e9e,
			      .hb_interval_ms = fx->t.base.hb_interval_ms,
			      .flags = SDLM_HB_F_LAPSE_FENCES };

	assert_int_equal(area_write_hb(fx->peer, &hb), 0);
}

/*
 * Review s26-rev-lapse R1: the dead bound needs r_sub >= r - T (the read
 * that completes at r was submitted at r_sub, docs/timeouts.md step 5),
 * but the engine handed peer_observe the time it PROCESSED the read.  A
 * read submitted before f + D - T and processed at or after f + D (our
 * loop stalled after the kernel finished it - a stall shorter than W
 * does not reset us - or the read completed late and was reaped in the
 * same pass as its deadline) judged the peer dead on what the disk
 * showed up to T + (W - I) earlier: with T > I (the test profile, or T
 * raised for a multipath failover) a live victim whose renewal landed
 * just after that read, inside its lease, was declared dead.  The read
 * counts only as of r_sub + T at the latest.
 */
static void test_dead_verdict_not_aged_by_late_processing(void **state)
{
	struct fixture *fx = *state;
	const struct sdlm_timeouts *t = &fx->t;
	uint64_t budget = 4 * t->lease_ms + 3 * t->base.io_timeout_ms;
	uint64_t f, r0, s, i = t->base.hb_interval_ms, T = t->base.io_timeout_ms;
	const struct peer_view *pv;

	peer_write_lapse(fx, 100);
	assert_true(run_until(fx, budget, alive));
	reads_goal = hbe_stats(fx->e)->reads + 2;
	assert_true(run_until(fx, budget, reads_done));
	pv = hbe_peer(fx->e, 2);
	assert_true(pv->pv_have);
	assert_int_equal(pv->pv_counter, 100);
	assert_true(pv->pv_lapse_fences);
	f = pv->pv_first_seen_ms;
	hbe_set_member(fx->e, 2, false, f);
	assert_int_equal(peer_dead_at(pv, t), f + t->dead_ms);

	/* Submitted before f + D - T, processed after f + D: the disk it
	 * shows may be older than f + D - T - it proves nothing at f + D. */
	s = f + t->dead_ms - T - i;
	r0 = hbe_stats(fx->e)->reads;
	hbe_tick(fx->e, s);
	process_at(fx, f + t->dead_ms + i, r0 + 1);
	assert_int_equal(pv->pv_counter, 100);
	assert_false(peer_dead(pv, t));

	/* A read submitted at f + D and processed at once does prove it. */
	r0 = hbe_stats(fx->e)->reads;
	hbe_tick(fx->e, f + t->dead_ms);
	process_at(fx, f + t->dead_ms, r0 + 1);
	assert_int_equal(pv->pv_counter, 100);
	assert_true(peer_dead(pv, t));
}

static void on_fenced(void *ctx, uint32_t victim, uint64_t inc, int path)
{
	struct fixture *fx = ctx;
	struct sdlm_hb hb[3];
	struct sdlm_msg msg[3];
	int hb_rc[3], msg_rc[3];

	assert_int_equal(victim, 2);
	fx->fenced_path = path;
	fx->fenced_inc = inc;
	fx->msg_at_verdict_rc = area_read_slots(fx->peer, hb, hb_rc, msg,
						msg_rc);
	if (fx->msg_at_verdict_rc == 0)
		fx->msg_at_verdict_rc = msg_rc[2];
	fx->msg_at_verdict = msg[2];
}

static bool fenced(struct fixture *fx)
{
	return fx->fenced_path != 0;
}

static void test_fencer_stale_pill_dead_path(void **state)
{
	struct fixture *fx = *state;
	const struct sdlm_timeouts *t = &fx->t;
	struct sdlm_msg stale = { .node_id = 2, .cmd = MSG_RESET, .seq = 7,
				  .target_incarnation = 0, .from_node = 3 };
	uint64_t budget = 2 * t->dead_ms + 4 * t->lease_ms;

	/* Node 2: a stale pill of a previous life in its slot, a heartbeat
	 * that stands still, away from the membership. */
	assert_int_equal(area_write_msg(fx->peer, &stale), 0);
	peer_write(fx, 50);
	assert_true(run_until(fx, 4 * t->lease_ms, alive));
	hbe_set_member(fx->e, 2, false, clock_boottime_ms());
	assert_int_equal(fencer_create(&fx->f, fx->a, fx->e, t, 1, on_fenced,
				       fx), 0);
	assert_int_equal(fencer_request(fx->f, 2, clock_boottime_ms()), 0);

	assert_true(run_until(fx, budget, fenced));
	assert_int_equal(fx->fenced_path, FENCER_PATH_DEAD);
	assert_int_equal(fx->fenced_inc, 0x9e9e);
	/* Declared with our own pill in the slot, one it will obey. */
	assert_int_equal(fx->msg_at_verdict_rc, 0);
	assert_int_equal(fx->msg_at_verdict.cmd, MSG_RESET);
	assert_int_equal(fx->msg_at_verdict.seq, 8);
	assert_int_equal(fx->msg_at_verdict.target_incarnation, 0x9e9e);
	assert_int_equal(fx->msg_at_verdict.from_node, 1);
}

/*
 * Review s25-rev2 (composition root): sdlmd closes the fencer before the
 * heartbeat engine and the area, which share its aio context.  A pill
 * write still in flight then had its callback run on the freed fencer
 * (hbe_destroy's and aio_ctx_destroy's reaping): a use after free that
 * could act on a fence op of freed memory.  fencer_destroy must leave no
 * request of its own on the context: it waits for its write (the one
 * pending here completes at once), and nothing of it is called later.
 */
static bool engine_idle(struct fixture *fx)
{
	return aio_inflight(fx->a->aio) == 0;
}

/* The engine reaps (no tick) until nothing of the area's context is in
 * the kernel, for at most 2T; whether it got there. */
static bool reap_until_idle(struct fixture *fx)
{
	struct pollfd p = { .fd = hbe_aio_fd(fx->e), .events = POLLIN };
	uint64_t end = clock_boottime_ms() + 2 * (uint64_t)fx->t.base.io_timeout_ms;

	while (!engine_idle(fx) && clock_boottime_ms() < end) {
		(void)poll(&p, 1, 20);
		hbe_process(fx->e, clock_boottime_ms());
	}
	return engine_idle(fx);
}

/*
 * Issue 19 item 4: a tick before its time (a hand-off answer final
 * between two ticks) may run I/2 after our last write, and then not
 * again for 4I + 2T (fencesm self_early_tick_at); the engine counts a
 * write out of cadence and keeps the rate limit from it.  Nothing while
 * a write is pending.
 */
static void test_early_tick(void **state)
{
	struct fixture *fx = *state;
	const struct sdlm_timeouts *t = &fx->t;
	uint64_t i = t->base.hb_interval_ms, f0, e1;

	assert_int_equal(hbe_early_tick_at(fx->e), UINT64_MAX);	/* none yet */
	f0 = clock_boottime_ms();
	hbe_tick(fx->e, f0);
	assert_int_equal(hbe_early_tick_at(fx->e), UINT64_MAX);	/* pending */
	assert_true(reap_until_idle(fx));
	assert_int_equal(hbe_early_tick_at(fx->e), f0 + i / 2);
	e1 = f0 + i / 2;
	hbe_tick(fx->e, e1);
	assert_true(reap_until_idle(fx));
	assert_int_equal(hbe_stats(fx->e)->early_writes, 1);
	assert_int_equal(hbe_early_tick_at(fx->e), e1 + 4 * i + 2ull * t->base.io_timeout_ms);
	/* The cadence from it: the next tick a whole interval later. */
	hbe_tick(fx->e, e1 + i);
	assert_true(reap_until_idle(fx));
	assert_int_equal(hbe_stats(fx->e)->early_writes, 1);
	assert_int_equal(hbe_stats(fx->e)->writes, 3);
}

static void test_fencer_destroy_pill_in_flight(void **state)
{
	struct fixture *fx = *state;
	const struct sdlm_timeouts *t = &fx->t;
	struct pollfd p = { .fd = hbe_aio_fd(fx->e), .events = POLLIN };

	peer_write(fx, 50);
	assert_true(run_until(fx, 4 * t->lease_ms, alive));
	hbe_set_member(fx->e, 2, false, clock_boottime_ms());
	/* The engine's own I/O done (no tick meanwhile): only the pill's. */
	assert_true(reap_until_idle(fx));

	assert_int_equal(fencer_create(&fx->f, fx->a, fx->e, t, 1, on_fenced,
				       fx), 0);
	assert_int_equal(fencer_request(fx->f, 2, clock_boottime_ms()), 0);
	assert_int_equal(aio_inflight(fx->a->aio), 1);	/* the pill */

	fencer_destroy(fx->f);
	fx->f = NULL;
	/* Nothing of the fencer left on the context ... */
	assert_int_equal(aio_inflight(fx->a->aio), 0);
	/* ... and reaping it calls nothing (teardown destroys the rest). */
	(void)poll(&p, 1, 0);
	hbe_process(fx->e, clock_boottime_ms());
	assert_int_equal(fx->fenced_path, 0);
}

/* The same with the pill's completion held for good (a hung path):
 * fencer_destroy gives up after twice the I/O timeout and leaves the
 * fencer to the callback that aio_ctx_destroy (teardown) makes at last;
 * the sanitizer tier (tests/asan) sees a use after free or a leak. */
static void test_fencer_destroy_pill_stalled(void **state)
{
	struct fixture *fx = *state;
	const struct sdlm_timeouts *t = &fx->t;
	struct aio_fault stall = { .ops = AIO_FAULT_WRITE,
				   .kind = AIO_FAULT_STALL,
				   .stall_ms = AIO_STALL_FOREVER };

	peer_write(fx, 50);
	assert_true(run_until(fx, 4 * t->lease_ms, alive));
	hbe_set_member(fx->e, 2, false, clock_boottime_ms());
	assert_true(reap_until_idle(fx));

	aio_fault_set(fx->a->aio, &stall);
	assert_int_equal(fencer_create(&fx->f, fx->a, fx->e, t, 1, on_fenced,
				       fx), 0);
	assert_int_equal(fencer_request(fx->f, 2, clock_boottime_ms()), 0);
	assert_int_equal(aio_inflight(fx->a->aio), 1);
	fencer_destroy(fx->f);
	fx->f = NULL;
	assert_int_equal(aio_inflight(fx->a->aio), 1);	/* still the kernel's */
	/* The path comes back: the late completion finds nothing to act on. */
	aio_fault_set(fx->a->aio, NULL);
	assert_true(reap_until_idle(fx));
	assert_int_equal(fx->fenced_path, 0);
}

/*
 * A pill write that sits in the kernel (a slow path to the victim's
 * sector) must not stop our own renewals: only a timed-out write of our
 * own heartbeat can land over a newer record of ours (fencesm
 * self_may_write_hb).  Counted as "stale", the pill kept every renewal
 * back until it left the kernel, and our lease lapsed: under the lapse
 * rule, a reset for a write to somebody else's slot.
 */
static void test_pill_in_flight_does_not_stop_renewals(void **state)
{
	struct fixture *fx = *state;
	const struct sdlm_timeouts *t = &fx->t;
	uint32_t land_ms = 4 * (uint32_t)t->lease_ms;
	struct aio_fault late = { .ops = AIO_FAULT_WRITE,
				  .kind = AIO_FAULT_LATE,
				  .late_ms = land_ms };

	peer_write(fx, 50);
	assert_true(run_until(fx, 4 * t->lease_ms, alive));
	hbe_set_member(fx->e, 2, false, clock_boottime_ms());
	assert_true(reap_until_idle(fx));

	/* the pill is withheld for land_ms; our own writes are not */
	aio_fault_set(fx->a->aio, &late);
	assert_int_equal(fencer_create(&fx->f, fx->a, fx->e, t, 1, on_fenced,
				       fx), 0);
	assert_int_equal(fencer_request(fx->f, 2, clock_boottime_ms()), 0);
	assert_int_equal(aio_inflight(fx->a->aio), 1);
	aio_fault_set(fx->a->aio, NULL);

	/* two leases of renewals while the pill is still in flight */
	writes_goal = hbe_stats(fx->e)->writes + 2 * t->lease_ms / t->base.hb_interval_ms;
	assert_true(run_until(fx, 2 * t->lease_ms + 2 * t->base.io_timeout_ms, writes_done));
	assert_true(aio_inflight(fx->a->aio) >= 1);
	assert_int_equal(hbe_may_use_locks(fx->e, clock_boottime_ms()), 0);
	assert_false(fx->stop_told);

	/* the pill lands: nothing of ours is left in the kernel after it */
	fencer_destroy(fx->f);
	fx->f = NULL;
	assert_true(run_until(fx, land_ms + 4 * t->base.io_timeout_ms, engine_idle));
}

/*
 * A pill that keeps timing out is rewritten every T + I (fencesm: same seq,
 * idempotent), and each timed-out write stays in the kernel until the
 * path gives it back.  Since 4856d70 they do not count against our
 * renewals, but they still hold request slots of the area's context,
 * which our heartbeat writes share: after a few (the context has 8), a
 * renewal cannot be submitted at all (-EAGAIN) and the lease lapses -
 * the reset for a write to somebody else's sector that 4856d70 meant to
 * end.  Here only the pills are late (the fault is on while the fencer
 * and the reads' callbacks run, off while the engine submits), for 40
 * times T + I; for 12 times T + I lock use must not be stopped.
 */
static void test_pills_timing_out_do_not_stop_renewals(void **state)
{
	struct fixture *fx = *state;
	const struct sdlm_timeouts *t = &fx->t;
	uint32_t round_ms = t->base.io_timeout_ms + t->base.hb_interval_ms;
	struct aio_fault late = { .ops = AIO_FAULT_WRITE,
				  .kind = AIO_FAULT_LATE,
				  .late_ms = 40 * round_ms };
	struct pollfd p = { .fd = hbe_aio_fd(fx->e), .events = POLLIN };
	uint64_t end, next_tick = 0, now, writes0, ticks = 0, dl;
	int wait;

	peer_write(fx, 50);
	assert_true(run_until(fx, 4 * t->lease_ms, alive));
	hbe_set_member(fx->e, 2, false, clock_boottime_ms());
	assert_int_equal(fencer_create(&fx->f, fx->a, fx->e, t, 1, on_fenced, fx), 0);
	aio_fault_set(fx->a->aio, &late);
	assert_int_equal(fencer_request(fx->f, 2, clock_boottime_ms()), 0);
	writes0 = hbe_stats(fx->e)->writes;
	end = clock_boottime_ms() + 12 * (uint64_t)round_ms;
	while ((now = clock_boottime_ms()) < end) {
		if (now >= next_tick) {
			fencer_tick(fx->f, now);
			aio_fault_set(fx->a->aio, NULL);
			hbe_tick(fx->e, now);
			aio_fault_set(fx->a->aio, &late);
			next_tick = now + t->base.hb_interval_ms;
			ticks++;
		}
		dl = hbe_next_deadline_ms(fx->e);
		if (dl > next_tick)
			dl = next_tick;
		wait = dl > now ? (int)(dl - now) : 0;
		(void)poll(&p, 1, wait > 20 ? 20 : wait);
		hbe_process(fx->e, clock_boottime_ms());
	}
	aio_fault_set(fx->a->aio, NULL);
	if (fx->stop_told)
		print_message("lease lapsed with %u requests in flight, %llu of %llu renewals "
			      "written, %llu failed\n", aio_inflight(fx->a->aio),
			      (unsigned long long)(hbe_stats(fx->e)->writes - writes0),
			      (unsigned long long)ticks,
			      (unsigned long long)hbe_stats(fx->e)->write_fail);
	assert_false(fx->stop_told);
	assert_int_equal(hbe_may_use_locks(fx->e, clock_boottime_ms()), 0);
	/* the late pills land (40 rounds) before the teardown's drain */
	fencer_destroy(fx->f);
	fx->f = NULL;
	assert_true(run_until(fx, 40 * (uint64_t)round_ms + 4 * t->base.io_timeout_ms,
			      engine_idle));
}

static int setup3(void **state)
{
	fixture_nodes = 3;
	return setup(state);
}

static int teardown3(void **state)
{
	fixture_nodes = 2;
	return teardown(state);
}

/* Node n's message slot as another node reads it (rc < 0: unread). */
static int msg_of(struct fixture *fx, uint32_t n, struct sdlm_msg *m)
{
	struct sdlm_hb hb[4];
	struct sdlm_msg msg[4];
	int hb_rc[4], msg_rc[4], rc;

	rc = area_read_slots(fx->peer, hb, hb_rc, msg, msg_rc);
	if (rc < 0)
		return rc;
	*m = msg[n];
	return msg_rc[n];
}

/*
 * Review s25-rev2 R5: a fence cancelled while its pill write is in flight,
 * and another begun at once: the new op's write was skipped (one write at
 * a time) and the old write's completion was reported to the new op as
 * its own - "pill-sent" with no pill on the disk (the op found out only a
 * T later, from a read).  The completion belongs to the write it ends;
 * the new op's pill goes out after it.
 */
static void test_fencer_cancel_during_pill_write(void **state)
{
	struct fixture *fx = *state;
	const struct sdlm_timeouts *t = &fx->t;
	struct aio_fault hold = { .ops = AIO_FAULT_WRITE,
				  .kind = AIO_FAULT_STALL,
				  .stall_ms = (uint32_t)t->base.io_timeout_ms / 3 };
	struct sdlm_hb hb3 = { .node_id = 3, .state = HB_ALIVE, .counter = 60,
			       .incarnation = 0x3e3e,
			       .hb_interval_ms = t->base.hb_interval_ms };
	struct pollfd p = { .fd = hbe_aio_fd(fx->e), .events = POLLIN };
	struct sdlm_msg m;
	const char *st = NULL;
	uint64_t end;

	peer_write(fx, 50);
	assert_int_equal(area_write_hb(fx->peer, &hb3), 0);
	assert_true(run_until(fx, 4 * t->lease_ms, alive));
	hbe_set_member(fx->e, 2, false, clock_boottime_ms());
	hbe_set_member(fx->e, 3, false, clock_boottime_ms());
	assert_true(reap_until_idle(fx));

	assert_int_equal(fencer_create(&fx->f, fx->a, fx->e, t, 1, on_fenced,
				       fx), 0);
	fencer_set_limit(fx->f, 5, 0);
	aio_fault_set(fx->a->aio, &hold);
	assert_int_equal(fencer_request(fx->f, 2, clock_boottime_ms()), 0);
	assert_int_equal(aio_inflight(fx->a->aio), 1);	/* node 2's pill */
	fencer_cancel(fx->f, 2);			/* node 2 came back */
	assert_int_equal(fencer_request(fx->f, 3, clock_boottime_ms()), 0);
	assert_int_equal(fencer_current(fx->f, &st), 3);
	aio_fault_set(fx->a->aio, NULL);

	/* Node 2's write completes (no tick meanwhile: no new decision). */
	end = clock_boottime_ms() + 2 * (uint64_t)t->base.io_timeout_ms;
	while (aio_inflight(fx->a->aio) && clock_boottime_ms() < end) {
		(void)poll(&p, 1, 20);
		hbe_process(fx->e, clock_boottime_ms());
	}
	/* Whatever node 3's op says now is true of the disk: a pill it
	 * calls sent is in node 3's slot (or its write is on its way). */
	end = clock_boottime_ms() + 2 * (uint64_t)t->base.io_timeout_ms;
	while (aio_inflight(fx->a->aio) && clock_boottime_ms() < end) {
		(void)poll(&p, 1, 20);
		hbe_process(fx->e, clock_boottime_ms());
	}
	assert_int_equal(fencer_current(fx->f, &st), 3);
	if (!strcmp(st, "pill-sent")) {
		assert_int_equal(msg_of(fx, 3, &m), 0);
		assert_int_equal(m.cmd, MSG_RESET);
		assert_int_equal(m.target_incarnation, 0x3e3e);
		assert_int_equal(m.from_node, 1);
	}
	assert_string_equal(st, "pill-sent");
}

/* ---- the hand-off (design-handoff.md §3-5) ---- */

#define HO_LKID_OWN	((1ull << 32) | 7)	/* a grant of node 1 (us) */
#define HO_LKID_PEER	((2ull << 32) | 5)	/* a grant of node 2 */

static bool ho_held(void *ctx, uint64_t lkid)
{
	struct fixture *fx = ctx;

	return lkid == fx->ho_held;
}

static void ho_act(void *ctx, const struct ho_away_action *a)
{
	struct fixture *fx = ctx;

	if (a->act == HO_ACT_STOP)
		fx->ho_stops++;
	if (a->act == HO_ACT_KEEP)
		fx->ho_keeps++;
	if (a->act == HO_ACT_KILL)
		fx->ho_kills++;
}

static void ho_listed(void *ctx, uint64_t lkid)
{
	struct fixture *fx = ctx;

	fx->ho_listed = lkid;
	fx->ho_listed_counter = hbe_counter(fx->e);
}

/* The engine's hand-off on, with the fixture's callbacks (the engine
 * keeps a copy of the ops). */
static void handoff_on(struct fixture *fx)
{
	struct hbe_handoff_ops ops = { .held = ho_held, .act = ho_act,
				       .listed = ho_listed, .ctx = fx };

	hbe_set_handoff(fx->e, &ops);
}

/* Node n's heartbeat slot as another node reads it (rc < 0: unread). */
static int hb_of(struct fixture *fx, uint32_t n, struct sdlm_hb *h)
{
	struct sdlm_hb hb[4];
	struct sdlm_msg msg[4];
	int hb_rc[4], msg_rc[4], rc;

	rc = area_read_slots(fx->peer, hb, hb_rc, msg, msg_rc);
	if (rc < 0)
		return rc;
	*h = hb[n];
	return hb_rc[n];
}

static bool req_on_disk(struct fixture *fx)
{
	struct sdlm_hb h;

	return hb_of(fx, 1, &h) == 0 && h.req[0].lkid == HO_LKID_PEER &&
	       h.req[0].target_incarnation == 0x9e9e && h.req_seq >= 1;
}

static bool req_carried(struct fixture *fx)
{
	const struct ho_requester *r = hbe_requester(fx->e);

	return r->n == 1 && r->e[0].carried;
}

static bool area_built(struct fixture *fx)
{
	return hbe_requester(fx->e)->area[0].lkid == HO_LKID_PEER;
}

static bool write_timed_out(struct fixture *fx)
{
	return hbe_stats(fx->e)->last_write_err == SDLM_EIOTIMEOUT;
}

/*
 * Our own heartbeat write that timed out and is still in the kernel
 * holds every renewal back until it leaves (it could land over a newer
 * record), and only until then.  Withheld for good, it times out once;
 * no second write goes out in three intervals (a broken count would
 * submit, and that write would time out too); once it lands, renewals
 * go on.
 */
static void test_own_stale_write_holds_renewals(void **state)
{
	struct fixture *fx = *state;
	const struct sdlm_timeouts *t = &fx->t;
	struct aio_fault late = { .ops = AIO_FAULT_WRITE,
				  .kind = AIO_FAULT_LATE,
				  .late_ms = AIO_STALL_FOREVER };
	uint64_t after;

	peer_write(fx, 50);
	assert_true(run_until(fx, 4 * t->lease_ms, alive));
	aio_fault_set(fx->a->aio, &late);
	assert_true(run_until(fx, 4 * t->lease_ms, write_timed_out));
	after = hbe_stats(fx->e)->writes;
	writes_goal = after + 1;
	assert_false(run_until(fx, 3 * t->base.hb_interval_ms + 2 * t->base.io_timeout_ms,
			       writes_done));
	assert_int_equal(hbe_stats(fx->e)->writes, after);
	aio_fault_set(fx->a->aio, NULL);	/* it lands */
	writes_goal = after + 2;
	assert_true(run_until(fx, 4 * t->lease_ms, writes_done));
}

/*
 * The requester's side: an entry goes into our own slot's request area
 * with the next write, and its bound B starts at that write's completion
 * (ho_req_written), after which ho_req_tick returns it for the fence.
 */
static void test_handoff_request_written(void **state)
{
	struct fixture *fx = *state;
	const struct sdlm_timeouts *t = &fx->t;
	struct ho_requester *r = hbe_requester(fx->e);
	struct ho_req_out out;
	uint64_t before, wake;
	uint16_t minor = 0;
	uint64_t inc = 0;

	peer_write(fx, 50);
	assert_true(run_until(fx, 4 * t->lease_ms, alive));
	/* F1's peer view: node 2's record as read. */
	assert_int_equal(hbe_peer_record(fx->e, 2, &minor, &inc), 0);
	assert_int_equal(minor, SDLM_HB_MINOR);
	assert_int_equal(inc, 0x9e9e);
	assert_int_equal(hbe_peer_record(fx->e, 3, &minor, &inc), -EINVAL);

	before = clock_boottime_ms();
	assert_int_equal(ho_req_want(r, HO_LKID_PEER, 0x9e9e), 0);
	assert_false(r->e[0].carried);
	assert_true(run_until(fx, 4 * t->lease_ms, req_carried));
	assert_true(r->e[0].carried_ms >= before);
	assert_true(req_on_disk(fx));
	/* F4: not before B from the completion, then once. */
	ho_req_tick(r, r->e[0].carried_ms + ho_bound_ms(t) - 1, t, &out, &wake);
	assert_int_equal(out.n, 0);
	assert_int_equal(wake, r->e[0].carried_ms + ho_bound_ms(t));
	ho_req_tick(r, r->e[0].carried_ms + ho_bound_ms(t), t, &out, &wake);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.e[0].lkid, HO_LKID_PEER);
	/* F5: dropped, the next write carries an empty area. */
	assert_int_equal(ho_req_drop(r, HO_LKID_PEER, 0x9e9e), 0);
	writes_goal = hbe_stats(fx->e)->writes + 2;
	assert_true(run_until(fx, 4 * t->lease_ms, writes_done));
	assert_false(req_on_disk(fx));
}

/*
 * A write that completes after its deadline is no proof (the entry may
 * land at any time later): the bound starts only from the completion of
 * a later write that made it in time.  Fails if write_done tells
 * ho_req_written "ok" for a timed-out write, or tells it nothing.
 */
static void test_handoff_request_late_write(void **state)
{
	struct fixture *fx = *state;
	const struct sdlm_timeouts *t = &fx->t;
	struct ho_requester *r = hbe_requester(fx->e);
	struct aio_fault late = { .ops = AIO_FAULT_WRITE,
				  .kind = AIO_FAULT_STALL,
				  .stall_ms = (uint32_t)(t->base.io_timeout_ms +
							 t->base.hb_interval_ms) };
	uint64_t cleared;

	peer_write(fx, 50);
	assert_true(run_until(fx, 4 * t->lease_ms, alive));
	aio_fault_set(fx->a->aio, &late);
	assert_int_equal(ho_req_want(r, HO_LKID_PEER, 0x9e9e), 0);
	/* The area is built only when no write is pending: the next write
	 * callback is the one that carried the entry. */
	assert_true(run_until(fx, 4 * t->lease_ms, area_built));
	writes_goal = hbe_stats(fx->e)->writes + 1;
	assert_true(run_until(fx, 4 * t->lease_ms, writes_done));
	assert_true(write_timed_out(fx));
	assert_false(r->e[0].carried);
	assert_false(r->e[0].in_write);
	aio_fault_set(fx->a->aio, NULL);
	cleared = clock_boottime_ms();
	assert_true(run_until(fx, 4 * t->lease_ms + 2 * t->base.io_timeout_ms,
			      req_carried));
	assert_true(r->e[0].carried_ms >= cleared);
}

static uint64_t ans_counter;	/* the record that carried the answer */

static bool answer_on_disk(struct fixture *fx)
{
	struct sdlm_hb h;

	if (hb_of(fx, 1, &h) != 0 || h.ans_count != 1 ||
	    h.ans[0].lkid != HO_LKID_OWN)
		return false;
	ans_counter = h.counter;
	return true;
}

static bool ho_stopped(struct fixture *fx)
{
	return fx->ho_stops > 0;
}

static bool ho_kept(struct fixture *fx)
{
	return fx->ho_keeps > 0;
}

/* Node 2 asks for lkid of target_inc from its heartbeat counter on and
 * goes on writing at its pace (run_until): a live requester. */
static void peer_request(struct fixture *fx, uint64_t counter, uint64_t lkid,
			 uint64_t target_inc)
{
	fx->peer_req.lkid = lkid;
	fx->peer_req.target_incarnation = target_inc;
	fx->peer_counter = counter - 1;
	fx->peer_pace = true;
	peer_pace_write(fx);
}

/*
 * The away node's side: a request in another slot naming our grant and
 * incarnation is read (STOP); once final (ho_away_progress, the daemon's
 * part) the grant is listed - and leaves our use (ops->listed) - before
 * the write carrying the answer is submitted; the answer names it with
 * its value block.  A request for another incarnation, or for a grant we
 * do not hold, starts nothing.
 */
static void test_handoff_away_answers(void **state)
{
	struct fixture *fx = *state;
	const struct sdlm_timeouts *t = &fx->t;
	uint8_t lvb[SDLM_HB_LVB_LEN];
	struct sdlm_hb h;

	memset(lvb, 0x4c, sizeof(lvb));
	handoff_on(fx);
	fx->ho_held = HO_LKID_OWN;
	peer_write(fx, 50);
	assert_true(run_until(fx, 4 * t->lease_ms, alive));

	/* Another incarnation's request, and one for a grant not held. */
	peer_request(fx, 51, HO_LKID_OWN, INC_SELF + 1);
	reads_goal = hbe_stats(fx->e)->reads + 2;
	assert_true(run_until(fx, 4 * t->lease_ms, reads_done));
	peer_request(fx, 52, (1ull << 32) | 8, INC_SELF);
	reads_goal = hbe_stats(fx->e)->reads + 2;
	assert_true(run_until(fx, 4 * t->lease_ms, reads_done));
	assert_int_equal(fx->ho_stops, 0);
	assert_int_equal(ho_away_state(hbe_away(fx->e), HO_LKID_OWN), HO_HELD);

	/* Ours: stopping; nothing listed while not final. */
	peer_request(fx, 53, HO_LKID_OWN, INC_SELF);
	assert_true(run_until(fx, 4 * t->lease_ms, ho_stopped));
	assert_int_equal(fx->ho_stops, 1);
	writes_goal = hbe_stats(fx->e)->writes + 2;
	assert_true(run_until(fx, 4 * t->lease_ms, writes_done));
	assert_int_equal(fx->ho_listed, 0);
	assert_int_equal(hb_of(fx, 1, &h), 0);
	assert_int_equal(h.ans_count, 0);

	/* Final: listed before the write that carries it is submitted. */
	assert_int_equal(ho_away_progress(hbe_away(fx->e), HO_LKID_OWN, 0, 0, lvb), 1);
	assert_true(run_until(fx, 4 * t->lease_ms, answer_on_disk));
	assert_int_equal(fx->ho_listed, HO_LKID_OWN);
	assert_true(ans_counter > fx->ho_listed_counter);
	assert_int_equal(hb_of(fx, 1, &h), 0);
	assert_int_equal(h.ans_lvb, 1);
	assert_memory_equal(h.ans[0].lvb, lvb, sizeof(lvb));
	assert_int_equal(h.incarnation, INC_SELF);
	assert_int_equal(ho_away_state(hbe_away(fx->e), HO_LKID_OWN), HO_LISTED);
}

/* V4 through the engine: a request withdrawn before the grant was final
 * gives it back (KEEP). */
static void test_handoff_away_withdrawn(void **state)
{
	struct fixture *fx = *state;
	const struct sdlm_timeouts *t = &fx->t;

	handoff_on(fx);
	fx->ho_held = HO_LKID_OWN;
	peer_write(fx, 50);
	assert_true(run_until(fx, 4 * t->lease_ms, alive));
	peer_request(fx, 51, HO_LKID_OWN, INC_SELF);
	assert_true(run_until(fx, 4 * t->lease_ms, ho_stopped));
	fx->peer_req.lkid = 0;		/* its area empty now, still live */
	assert_true(run_until(fx, 4 * t->lease_ms, ho_kept));
	assert_int_equal(ho_away_state(hbe_away(fx->e), HO_LKID_OWN), HO_HELD);
	assert_int_equal(fx->ho_listed, 0);
}

/* Node n's heartbeat slot as a record that does not verify: a valid
 * one with a byte flipped (its CRC fails), not a never-written sector. */
static void slot_corrupt(struct fixture *fx, uint32_t n)
{
	struct sdlm_hb hb = { .node_id = n, .state = HB_ALIVE, .counter = 9,
			      .incarnation = 0x7a7a,
			      .hb_interval_ms = fx->t.base.hb_interval_ms };
	unsigned char *buf = NULL;
	uint64_t off;

	assert_int_equal(area_write_hb(fx->peer, &hb), 0);
	assert_int_equal(layout_hb_offset(&fx->peer->hdr, n, &off), 0);
	assert_int_equal(posix_memalign((void **)&buf, AIO_BUF_ALIGN, 512), 0);
	assert_int_equal(aio_read_sync(fx->peer->aio, fx->peer->fd, off, buf,
				       512, 2000), 0);
	buf[100] ^= 0x5a;
	assert_int_equal(aio_write_sync(fx->peer->aio, fx->peer->fd, off, buf,
					512, 2000), 0);
	free(buf);
}

/*
 * Review RH4 (issue 19 item 1): one heartbeat slot that never decodes
 * (node 3's: a damaged sector) must not stop V answering the requests of
 * every other slot.  On the old code away_read gave up on the whole read
 * when any slot in use did not decode: node 2's request was never read,
 * no STOP, and every hand-off ended in a fence after B.  The bad slot is
 * told once (HBE_HO_SLOT_BAD, the daemon logs it), not at every read.
 */
static void test_handoff_away_bad_slot(void **state)
{
	struct fixture *fx = *state;
	const struct sdlm_timeouts *t = &fx->t;

	handoff_on(fx);
	fx->ho_held = HO_LKID_OWN;
	peer_write(fx, 50);
	slot_corrupt(fx, 3);
	assert_true(run_until(fx, 4 * t->lease_ms, alive));
	peer_request(fx, 51, HO_LKID_OWN, INC_SELF);
	assert_true(run_until(fx, 4 * t->lease_ms, ho_stopped));
	reads_goal = hbe_stats(fx->e)->reads + 4;
	assert_true(run_until(fx, 4 * t->lease_ms, reads_done));
	assert_int_equal(fx->ho_stops, 1);
	assert_int_equal(fx->ho_keeps, 0);
	assert_int_equal(ho_away_state(hbe_away(fx->e), HO_LKID_OWN), HO_STOPPING);
	assert_int_equal(fx->slot_bad_told, 1);
	assert_int_equal(fx->slot_bad_node, 3);
}

/*
 * Review RH6: a requester that crashed (or was fenced) never withdraws:
 * its last request stays in its slot until its next incarnation writes
 * an empty area.  V counts a slot's requests only while its writer is
 * live (its counter moved within L): once node 2 stands still for L, its
 * request no longer stands and the grant, not answered yet, is V's again
 * (V4).  On the old code it stayed stopping for as long as the slot
 * showed the request.
 */
static void test_handoff_away_requester_still(void **state)
{
	struct fixture *fx = *state;
	const struct sdlm_timeouts *t = &fx->t;
	uint64_t kept_ms;

	handoff_on(fx);
	fx->ho_held = HO_LKID_OWN;
	peer_write(fx, 50);
	assert_true(run_until(fx, 4 * t->lease_ms, alive));
	peer_request(fx, 51, HO_LKID_OWN, INC_SELF);
	assert_true(run_until(fx, 4 * t->lease_ms, ho_stopped));
	fx->peer_pace = false;		/* crashed: the request stays on disk */
	assert_true(run_until(fx, 4 * t->lease_ms, ho_kept));
	kept_ms = clock_boottime_ms();
	assert_true(kept_ms - fx->peer_written_ms > t->lease_ms);
	assert_int_equal(ho_away_state(hbe_away(fx->e), HO_LKID_OWN), HO_HELD);
	assert_int_equal(fx->ho_listed, 0);
	/* Its next incarnation asking again is a live request again. */
	fx->ho_stops = 0;
	peer_request(fx, 60, HO_LKID_OWN, INC_SELF);
	assert_true(run_until(fx, 4 * t->lease_ms, ho_stopped));
}

/*
 * Issue 19 item 4: the holders of a stopping grant that did not let go
 * are killed when K has passed, at whatever turn of the loop that is, not
 * at the next tick (up to I later: an interval of every hand-off with a
 * stuck client); the engine's next deadline includes it.  On the old
 * engine only hbe_tick decided the kill.
 */
static void test_handoff_kill_between_ticks(void **state)
{
	struct fixture *fx = *state;
	const struct sdlm_timeouts *t = &fx->t;
	uint64_t stop_ms, k = ho_kill_ms(t);

	handoff_on(fx);
	fx->ho_held = HO_LKID_OWN;
	peer_write(fx, 50);
	assert_true(run_until(fx, 4 * t->lease_ms, alive));
	peer_request(fx, 51, HO_LKID_OWN, INC_SELF);
	assert_true(run_until(fx, 4 * t->lease_ms, ho_stopped));
	stop_ms = clock_boottime_ms();
	assert_true(reap_until_idle(fx));
	assert_int_equal(fx->ho_kills, 0);
	/* No tick from here: the deadline, then the turn at it, kill. */
	assert_true(hbe_next_deadline_ms(fx->e) <= stop_ms + k + 1);
	hbe_process(fx->e, stop_ms + k);
	assert_int_equal(fx->ho_kills, 1);
}

/*
 * Issue 19 item 4: while a hand-off may be under way the engine reads the
 * area every I/4 between its ticks (handoff.h ho_read_interval_ms), so a
 * request or an answer is seen within I/4 of landing, not up to I; the
 * writes stay one per tick.  Node 2, live on the disk: a member, no
 * read between the ticks; away (left our membership), reads between
 * them; a member again, none; a request of ours waiting for its answer,
 * reads between them again.  On the old engine no read ever came between
 * two ticks.
 */
static int64_t extra_goal;

/* Reads beyond one per write (either may be in flight: +-1). */
static int64_t reads_extra(struct fixture *fx)
{
	return (int64_t)hbe_stats(fx->e)->reads - (int64_t)hbe_stats(fx->e)->writes;
}

static bool extra_reads_done(struct fixture *fx)
{
	return reads_extra(fx) >= extra_goal;
}

static void test_handoff_fast_reads(void **state)
{
	struct fixture *fx = *state;
	const struct sdlm_timeouts *t = &fx->t;
	int64_t extra;

	handoff_on(fx);
	fx->peer_pace = true;
	hbe_set_member(fx->e, 2, true, clock_boottime_ms());
	assert_true(run_until(fx, 4 * t->lease_ms, alive));
	extra = reads_extra(fx);
	writes_goal = hbe_stats(fx->e)->writes + 3;
	assert_true(run_until(fx, 8 * t->lease_ms, writes_done));
	assert_true(reads_extra(fx) <= extra + 1);

	hbe_set_member(fx->e, 2, false, clock_boottime_ms());
	extra_goal = reads_extra(fx) + 3;
	assert_true(run_until(fx, 8 * t->lease_ms, extra_reads_done));

	hbe_set_member(fx->e, 2, true, clock_boottime_ms());
	writes_goal = hbe_stats(fx->e)->writes + 1;	/* one in flight */
	assert_true(run_until(fx, 4 * t->lease_ms, writes_done));
	extra = reads_extra(fx);
	writes_goal = hbe_stats(fx->e)->writes + 3;
	assert_true(run_until(fx, 8 * t->lease_ms, writes_done));
	assert_true(reads_extra(fx) <= extra + 1);

	assert_int_equal(ho_req_want(hbe_requester(fx->e), (2ull << 32) | 7, 0x9e9e), 0);
	extra_goal = reads_extra(fx) + 3;
	assert_true(run_until(fx, 8 * t->lease_ms, extra_reads_done));
}

/*
 * Review s25-rev2 (left open in stop 25): a node run with no_watchdog = yes
 * is never reset, so its still heartbeat proves nothing - it may be hung
 * with its lock users running.  Its heartbeat says so (NO_WATCHDOG) and
 * the fencer never declares it dead by time: the pill stays in its slot,
 * and only its acknowledgement (or an operator) fences it.  On the old
 * code the fencer declared node 2 dead after the dead bound.
 */
static void peer_write_nowd(struct fixture *fx, uint64_t counter,
			    const struct sdlm_msg *ack)
{
	struct sdlm_hb hb = { .node_id = 2, .state = HB_ALIVE,
			      .counter = counter, .incarnation = 0x9e9e,
			      .hb_interval_ms = fx->t.base.hb_interval_ms,
			      .flags = SDLM_HB_F_LAPSE_FENCES |
				       SDLM_HB_F_NO_WATCHDOG };

	if (ack) {
		hb.ack_cmd = ack->cmd;
		hb.ack_seq = ack->seq;
		hb.ack_incarnation = ack->target_incarnation;
	}
	assert_int_equal(area_write_hb(fx->peer, &hb), 0);
}

static void test_fencer_no_watchdog_never_dead(void **state)
{
	struct fixture *fx = *state;
	const struct sdlm_timeouts *t = &fx->t;
	/* Twice what the dead path takes for a victim with a watchdog
	 * (test_fencer_stale_pill_dead_path), from the older bound. */
	uint64_t budget = 2 * t->dead_legacy_ms + 4 * t->lease_ms;
	struct sdlm_msg m;
	const char *st = NULL;

	peer_write_nowd(fx, 50, NULL);
	assert_true(run_until(fx, 4 * t->lease_ms, alive));
	hbe_set_member(fx->e, 2, false, clock_boottime_ms());
	assert_int_equal(fencer_create(&fx->f, fx->a, fx->e, t, 1, on_fenced,
				       fx), 0);
	assert_int_equal(fencer_request(fx->f, 2, clock_boottime_ms()), 0);

	assert_false(run_until(fx, budget, fenced));
	assert_int_equal(fx->fenced_path, 0);
	assert_int_equal(fencer_current(fx->f, &st), 2);
	assert_string_equal(st, "pill-sent");
	assert_int_equal(msg_of(fx, 2, &m), 0);
	assert_int_equal(m.cmd, MSG_RESET);
	assert_int_equal(m.target_incarnation, 0x9e9e);

	/* It wakes, stops its users and acknowledges: fenced by the ack. */
	peer_write_nowd(fx, 51, &m);
	assert_true(run_until(fx, 4 * t->lease_ms, fenced));
	assert_int_equal(fx->fenced_path, FENCER_PATH_ACK);
	assert_int_equal(fx->fenced_inc, 0x9e9e);
}

/*
 * The engine of a daemon started with no watchdog writes NO_WATCHDOG in
 * every heartbeat, the last one (the slot marked free) included, beside
 * LAPSE_FENCES; one with a watchdog does not.
 */
static bool own_flags(struct fixture *fx, uint32_t *flags)
{
	struct sdlm_hb hb[3];
	struct sdlm_msg msg[3];
	int hb_rc[3], msg_rc[3];

	if (area_read_slots(fx->peer, hb, hb_rc, msg, msg_rc) < 0 || hb_rc[1])
		return false;
	*flags = hb[1].flags;
	return true;
}

static void test_no_watchdog_in_heartbeat(void **state)
{
	struct fixture *fx = *state;
	uint32_t flags = 0;

	assert_true(run_until(fx, 4 * fx->t.lease_ms, alive));
	assert_true(own_flags(fx, &flags));
	assert_int_equal(flags, SDLM_HB_F_LAPSE_FENCES);

	hbe_set_no_watchdog(fx->e);
	writes_goal = hbe_stats(fx->e)->writes + 2;
	assert_true(run_until(fx, 4 * fx->t.lease_ms, writes_done));
	assert_true(own_flags(fx, &flags));
	assert_int_equal(flags, SDLM_HB_F_LAPSE_FENCES | SDLM_HB_F_NO_WATCHDOG);

	assert_true(run_until(fx, 4 * fx->t.lease_ms, engine_idle));
	assert_int_equal(hbe_leave(fx->e), 0);
	assert_true(own_flags(fx, &flags));
	assert_int_equal(flags, SDLM_HB_F_LAPSE_FENCES | SDLM_HB_F_NO_WATCHDOG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_no_ack_with_uid_write_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_pause_seen_in_peer_counters, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_no_pause_after_own_stall, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_no_pause_across_unreadable_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_no_pause_across_peer_write_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_no_pause_early_ticks_across_failed_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_dead_verdict_not_aged_by_late_processing, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_fencer_stale_pill_dead_path, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_fencer_destroy_pill_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_fencer_destroy_pill_stalled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pill_in_flight_does_not_stop_renewals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_stale_write_holds_renewals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pills_timing_out_do_not_stop_renewals, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_fencer_cancel_during_pill_write, setup3, teardown3),
		cmocka_unit_test_setup_teardown(
			test_handoff_request_written, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_handoff_request_late_write, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_handoff_away_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_handoff_away_withdrawn, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_handoff_away_bad_slot, setup3, teardown3),
		cmocka_unit_test_setup_teardown(
			test_handoff_away_requester_still, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_handoff_fast_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_early_tick, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_handoff_kill_between_ticks, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_fencer_no_watchdog_never_dead, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_no_watchdog_in_heartbeat, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
