/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_fencesm_self.c - the node's own safety rules that used to live in
 * the heartbeat engine and now are fencesm's (issue 18, item 3):
 *
 *   - a lapsed lease, once renewed, owes a fresh read of our message slot
 *     (submitted after the renewal completed) before any lock is used: a
 *     fencer may have written a pill and declared us dead meanwhile;
 *   - the same after a pause our clock missed;
 *   - a pill is acknowledged only when no write of this node can still
 *     land: our heartbeat read in flight is harmless, anything else (a
 *     UID record write, a timed-out write, our heartbeat write) is not;
 *   - no heartbeat write while a timed-out one is still in the kernel;
 *   - a new daemon's incarnation is above its slot's, or it is refused.
 *
 * Synthetic time, as test_fencesm.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sdlm_errors.h"
#include "fencesm_fixture.h"

/* A quorate node that has held its lease since 1000, message slot read. */
static void node_running(struct self_state *ss)
{
	struct msg_input clear = msg_make(SM_CMD_CLEAR, 0, 0);

	self_init(ss, &tmo, INC_A);
	self_quorum(ss, true);
	self_renew_submitted(ss, 1000);
	self_renew_done(ss, 1000, 0);
	self_read_submitted(ss);
	self_msg_read(ss, 1000, &clear);
	assert_int_equal(self_may_use_locks(ss, 1000), 0);
}

/*
 * The case the rule exists for: the loop stalls past L; meanwhile a
 * fencer writes a pill and (dead path) reads it back.  The renewal that
 * ends the stall brings the lease back, but the locks stay refused until
 * a read submitted after it, which shows the pill.  The read that went
 * out with the renewal (submitted before it completed) proves nothing.
 */
static void test_self_lapse_pill_written_meanwhile(void **state)
{
	struct self_state ss;
	struct self_decision d;
	struct msg_input old = msg_make(SM_CMD_CLEAR, 0, 0);
	struct msg_input pill = msg_make(SM_CMD_RESET, 1, INC_A);
	uint64_t t = 1000 + tmo.lease_ms;	/* the stall ends */

	(void)state;
	node_running(&ss);
	assert_int_equal(self_may_use_locks(&ss, t), SDLM_ELEASE);

	/* One tick: the write, then the read, both submitted at t. */
	self_renew_submitted(&ss, t);
	self_read_submitted(&ss);
	self_renew_done(&ss, t, 0);
	assert_int_equal(ss.ss_lease_sub_ms, t);
	assert_true(ss.ss_need_read);
	assert_int_equal(self_may_use_locks(&ss, t + 10), SDLM_ELEASE);
	self_decide(&ss, t + 10, &d);
	assert_int_equal(d.use_err, SDLM_ELEASE);
	assert_true(d.feed_watchdog);		/* renewed before any decision saw the lapse */

	/* That read completes, from before the pill landed. */
	self_msg_read(&ss, t + 20, &old);
	assert_int_equal(self_may_use_locks(&ss, t + 20), SDLM_ELEASE);

	/* The next tick's read, submitted after the renewal, shows it. */
	self_read_submitted(&ss);
	self_msg_read(&ss, t + tmo.base.hb_interval_ms, &pill);
	assert_false(ss.ss_need_read);
	assert_int_equal(self_may_use_locks(&ss, t + tmo.base.hb_interval_ms),
			 SDLM_EPILL);
	self_decide(&ss, t + tmo.base.hb_interval_ms, &d);
	assert_true(d.stop_locks);
	assert_int_equal(d.use_err, SDLM_EPILL);
	assert_int_equal(ss.ss_fresh_reads, 1);
}

/* No pill: the fresh read gives the locks back; no lapse owes nothing. */
static void test_self_lapse_clean_read(void **state)
{
	struct self_state ss;
	struct msg_input clear = msg_make(SM_CMD_CLEAR, 0, 0);
	uint64_t t = 1000 + tmo.lease_ms + 500;

	(void)state;
	node_running(&ss);
	/* Renewals inside L: never a read owed. */
	self_renew_submitted(&ss, 1000 + tmo.lease_ms - 1);
	self_renew_done(&ss, 1000 + tmo.lease_ms - 1, 0);
	assert_false(ss.ss_need_read);
	assert_int_equal(self_may_use_locks(&ss, 1000 + tmo.lease_ms), 0);

	/* Now a lapse (submitted L after the last renewal). */
	t = 1000 + 2 * tmo.lease_ms - 1;
	self_renew_submitted(&ss, t);
	self_renew_done(&ss, t, 0);
	assert_int_equal(self_may_use_locks(&ss, t), SDLM_ELEASE);
	self_read_submitted(&ss);
	self_msg_read(&ss, t + 100, &clear);
	assert_int_equal(self_may_use_locks(&ss, t + 100), 0);
}

/*
 * A read that failed, or whose message slot did not verify, proves
 * nothing: the pill may be there.  Only a verified read pays.
 */
static void test_self_fresh_read_must_verify(void **state)
{
	struct self_state ss;
	struct msg_input clear = msg_make(SM_CMD_CLEAR, 0, 0);
	uint64_t t = 1000 + tmo.lease_ms;

	(void)state;
	node_running(&ss);
	self_renew_submitted(&ss, t);
	self_renew_done(&ss, t, 0);
	self_read_submitted(&ss);
	self_msg_read(&ss, t + 100, NULL);
	assert_int_equal(self_may_use_locks(&ss, t + 100), SDLM_ELEASE);
	self_read_submitted(&ss);
	self_msg_read(&ss, t + 200, NULL);
	assert_int_equal(self_may_use_locks(&ss, t + 200), SDLM_ELEASE);
	self_read_submitted(&ss);
	self_msg_read(&ss, t + 300, &clear);
	assert_int_equal(self_may_use_locks(&ss, t + 300), 0);
}

/* A failed renewal owes nothing (it renews nothing either). */
static void test_self_failed_renewal_owes_nothing(void **state)
{
	struct self_state ss;
	uint64_t t = 1000 + tmo.lease_ms;

	(void)state;
	node_running(&ss);
	self_renew_submitted(&ss, t);
	self_renew_done(&ss, t, SDLM_EIOTIMEOUT);
	assert_false(ss.ss_need_read);
	assert_int_equal(ss.ss_lease_sub_ms, 1000);
	assert_int_equal(self_may_use_locks(&ss, t), SDLM_ELEASE);
}

/*
 * A second lapse while the fresh read of the first is in flight: that
 * read was submitted before the second renewal completed and pays only
 * the first.
 */
static void test_self_second_lapse_during_read(void **state)
{
	struct self_state ss;
	struct msg_input clear = msg_make(SM_CMD_CLEAR, 0, 0);
	uint64_t t1 = 1000 + tmo.lease_ms, t2 = t1 + tmo.lease_ms;

	(void)state;
	node_running(&ss);
	self_renew_submitted(&ss, t1);
	self_renew_done(&ss, t1, 0);
	self_read_submitted(&ss);		/* after the first renewal */
	self_renew_submitted(&ss, t2);
	self_renew_done(&ss, t2, 0);		/* a second lapse */
	self_msg_read(&ss, t2 + 10, &clear);	/* the read from before it */
	assert_int_equal(self_may_use_locks(&ss, t2 + 10), SDLM_ELEASE);
	self_read_submitted(&ss);
	self_msg_read(&ss, t2 + 20, &clear);
	assert_int_equal(self_may_use_locks(&ss, t2 + 20), 0);
	assert_int_equal(ss.ss_fresh_reads, 2);
}

/*
 * A pause our clock missed: the lease lapses at once; a write submitted
 * before the detection renews nothing and owes nothing; the first one
 * submitted after it renews, and owes a fresh read like any lapse.
 */
static void test_self_pause_owes_fresh_read(void **state)
{
	struct self_state ss;
	struct msg_input clear = msg_make(SM_CMD_CLEAR, 0, 0);
	struct msg_input pill = msg_make(SM_CMD_OFF, 4, 0);

	(void)state;
	node_running(&ss);
	self_renew_submitted(&ss, 1500);
	self_clock_missed(&ss, 1600);
	assert_int_equal(self_may_use_locks(&ss, 1600), SDLM_ELEASE);
	self_renew_done(&ss, 1500, 0);		/* from before the pause */
	assert_false(ss.ss_need_read);
	assert_int_equal(self_may_use_locks(&ss, 1700), SDLM_ELEASE);
	self_read_submitted(&ss);		/* before the renewal */
	self_renew_submitted(&ss, 1800);
	self_renew_done(&ss, 1800, 0);
	assert_true(ss.ss_need_read);
	self_msg_read(&ss, 1850, &clear);
	assert_int_equal(self_may_use_locks(&ss, 1850), SDLM_ELEASE);
	/* The fresh read shows an "any incarnation" pill written while we
	 * were paused (not our first read: it is obeyed). */
	self_read_submitted(&ss);
	self_msg_read(&ss, 1900, &pill);
	assert_int_equal(self_may_use_locks(&ss, 1900), SDLM_EPILL);
	/* Only the first renewal after the pause owes it. */
	assert_false(ss.ss_pause_recheck);
}

static void io_set(struct self_state *ss, uint32_t inflight, bool hb_read,
		   bool hb_write)
{
	struct self_io io = { .inflight = inflight, .hb_read_pending = hb_read,
			      .hb_write_pending = hb_write };

	self_io(ss, &io);
}

/* The ack's condition, case by case. */
static void test_self_io_idle_rule(void **state)
{
	static const struct { struct self_io io; bool idle; } c[] = {
		{ { 0, false, false }, true },
		{ { 1, true, false }, true },	/* only our own read */
		{ { 2, true, false }, false },	/* a UID record write too */
		{ { 1, false, false }, false },	/* a timed-out write */
		{ { 1, false, true }, false },	/* our heartbeat write */
		{ { 2, true, true }, false },
		{ { 0, false, true }, false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		assert_int_equal(self_io_is_idle(&c[i].io), c[i].idle);
}

/*
 * A heartbeat write goes out only when no earlier one can still land
 * over it: a write of ours that missed its deadline stays in the kernel
 * (no longer waited for) and blocks the next until it leaves.  Nothing
 * else the kernel holds (a pill, a read) is an argument: the heartbeat
 * engine's test_pill_in_flight_does_not_stop_renewals shows the edge.
 */
static void test_self_no_write_over_stale(void **state)
{
	(void)state;
	assert_true(self_may_write_hb(0, false));
	assert_false(self_may_write_hb(0, true));	/* one waited for */
	assert_false(self_may_write_hb(1, true));
	/* Timed out: no longer waited for, still in the kernel. */
	assert_false(self_may_write_hb(1, false));
	assert_false(self_may_write_hb(2, false));
	/* It left: the next write may go. */
	assert_true(self_may_write_hb(0, false));
}

/*
 * A pill read, the clients stopped, a UID record write still in the
 * kernel: no ack until it leaves, whatever else happens; then the ack,
 * and the node stops feeding.
 */
static void test_self_ack_waits_for_uid_write(void **state)
{
	struct self_state ss;
	struct self_decision d;
	struct msg_input pill = msg_make(SM_CMD_RESET, 2, INC_A);
	uint64_t now;

	(void)state;
	node_running(&ss);
	self_read_submitted(&ss);
	self_msg_read(&ss, 2000, &pill);
	self_clients_stopped(&ss, true);
	for (now = 2000; now < 2000 + tmo.drain_ms / 2; now += 100) {
		io_set(&ss, 2, true, false);	/* our read + the UID write */
		self_decide(&ss, now, &d);
		assert_false(d.ack_have);
		assert_true(d.ack_waits_io);
		assert_true(d.stop_locks);
		assert_true(d.feed_watchdog);
		io_set(&ss, 1, false, false);	/* timed out, still there */
		self_decide(&ss, now + 50, &d);
		assert_false(d.ack_have);
	}
	io_set(&ss, 1, true, false);		/* it left; our read remains */
	self_decide(&ss, now, &d);
	assert_true(d.ack_have);
	assert_false(d.ack_waits_io);
	assert_int_equal(d.ack_seq, 2);
	assert_false(d.feed_watchdog);
	assert_int_equal(d.use_err, SDLM_EFENCED);
}

/* Never acked in time (the write never leaves): stop feeding anyway. */
static void test_self_ack_never_idle_drain(void **state)
{
	struct self_state ss;
	struct self_decision d;
	struct msg_input pill = msg_make(SM_CMD_RESET, 2, INC_A);

	(void)state;
	node_running(&ss);
	self_renew_submitted(&ss, 2000);	/* lease valid past the drain */
	self_renew_done(&ss, 2000, 0);
	self_read_submitted(&ss);
	self_msg_read(&ss, 2000, &pill);
	self_clients_stopped(&ss, true);
	io_set(&ss, 1, false, true);
	self_decide(&ss, 2000 + tmo.drain_ms - 1, &d);
	assert_true(d.feed_watchdog);
	self_decide(&ss, 2000 + tmo.drain_ms, &d);
	assert_false(d.ack_have);
	assert_false(d.feed_watchdog);
	assert_int_equal(ss.ss_self_fence_reason, SDLM_EPILL);
}

/*
 * A new daemon's incarnation (self_incarnation): the wall clock above the
 * slot's, the slot's milliseconds + 1 when the clock is behind it, and
 * never one at or below the slot's.
 */
static void test_self_incarnation_rule(void **state)
{
	const uint64_t now = UINT64_C(1765000000000);	/* Dec 2025, in ms */
	uint64_t inc = 0;

	(void)state;
	/* A free slot (0) or an older one: the clock, random bits below. */
	assert_int_equal(self_incarnation(now, 0xabcde, 0, &inc), SELF_INC_CLOCK);
	assert_int_equal(inc, (now << 20) | 0xabcde);
	assert_int_equal(self_incarnation(now, 0xfff12345, (now - 5) << 20, &inc),
			 SELF_INC_CLOCK);
	assert_int_equal(inc, (now << 20) | 0x12345);
	/* Same millisecond, higher random bits: still above, the clock. */
	assert_int_equal(self_incarnation(now, 0x10, (now << 20) | 0xf, &inc),
			 SELF_INC_CLOCK);
	assert_int_equal(inc, (now << 20) | 0x10);
	/* The clock went back (or the same ms, lower bits): the slot's + 1. */
	assert_int_equal(self_incarnation(now, 0x1, (now << 20) | 0x1, &inc),
			 SELF_INC_AFTER_SLOT);
	assert_int_equal(inc, ((now + 1) << 20) | 0x1);
	assert_int_equal(self_incarnation(now - 3600000, 0x7, (now << 20) | 0xfffff, &inc),
			 SELF_INC_AFTER_SLOT);
	assert_int_equal(inc, ((now + 1) << 20) | 0x7);
	/* A clock at the epoch and a free slot: never incarnation 0. */
	assert_int_equal(self_incarnation(0, 0, 0, &inc), SELF_INC_AFTER_SLOT);
	assert_int_equal(inc, UINT64_C(1) << 20);
}

/*
 * Near the top of the 64 bits (a clock once set far ahead, a slot some
 * other writer or a damage left with a valid checksum) there is no room
 * above the slot's: refused, never a wrap to a lower incarnation, which
 * every peer would take for an older daemon (xport -ESTALE) and a replica
 * that fenced the slot's for one fenced for good.
 */
static void test_self_incarnation_no_wrap(void **state)
{
	const uint64_t now = UINT64_C(1765000000000);
	const uint64_t top = SELF_INC_MS_MAX << 20;
	uint64_t inc = 42;

	(void)state;
	/* One millisecond below the top: the top one, still above. */
	assert_int_equal(self_incarnation(now, 0x5, top - 1, &inc),
			 SELF_INC_AFTER_SLOT);
	assert_int_equal(inc, top | 0x5);
	assert_true(inc > top - 1);
	/* In the top millisecond, or the very top: nothing above. */
	inc = 42;
	assert_int_equal(self_incarnation(now, 0x5, top, &inc), SELF_INC_EXHAUSTED);
	assert_int_equal(inc, 42);
	assert_int_equal(self_incarnation(now, 0xfffff, UINT64_MAX, &inc),
			 SELF_INC_EXHAUSTED);
	assert_int_equal(inc, 42);
}

/* A wall clock beyond the 44 bits of milliseconds does not wrap either:
 * it is not used, the slot's milliseconds + 1 are. */
static void test_self_incarnation_clock_beyond_range(void **state)
{
	const uint64_t slot = (UINT64_C(1765000000000) << 20) | 0x3;
	uint64_t inc = 0;

	(void)state;
	assert_int_equal(self_incarnation(SELF_INC_MS_MAX + 1, 0x9, slot, &inc),
			 SELF_INC_AFTER_SLOT);
	assert_int_equal(inc, (((slot >> 20) + 1) << 20) | 0x9);
	assert_int_equal(self_incarnation(UINT64_MAX, 0x9, 0, &inc),
			 SELF_INC_AFTER_SLOT);
	assert_int_equal(inc, (UINT64_C(1) << 20) | 0x9);
	/* The last millisecond the clock may name is used as such. */
	assert_int_equal(self_incarnation(SELF_INC_MS_MAX, 0x9, slot, &inc),
			 SELF_INC_CLOCK);
	assert_int_equal(inc, (SELF_INC_MS_MAX << 20) | 0x9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self_lapse_pill_written_meanwhile),
		cmocka_unit_test(test_self_lapse_clean_read),
		cmocka_unit_test(test_self_fresh_read_must_verify),
		cmocka_unit_test(test_self_failed_renewal_owes_nothing),
		cmocka_unit_test(test_self_second_lapse_during_read),
		cmocka_unit_test(test_self_pause_owes_fresh_read),
		cmocka_unit_test(test_self_io_idle_rule),
		cmocka_unit_test(test_self_no_write_over_stale),
		cmocka_unit_test(test_self_ack_waits_for_uid_write),
		cmocka_unit_test(test_self_ack_never_idle_drain),
		cmocka_unit_test(test_self_incarnation_rule),
		cmocka_unit_test(test_self_incarnation_no_wrap),
		cmocka_unit_test(test_self_incarnation_clock_beyond_range),
	};

	return cmocka_run_group_tests(tests, setup_default, NULL);
}
