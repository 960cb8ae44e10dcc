/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * clock.h - the three clocks sdlm reads, one function per meaning.
 *
 *	clock_boottime_*	CLOCK_BOOTTIME: runs on while the machine is
 *				suspended or the VM paused.  Every time that
 *				guards safety is on it: leases, heartbeats,
 *				I/O deadlines, the watchdog, the daemon's
 *				loop and its log ring, a tool's waits on the
 *				disk.  A pause must count as time passed.
 *	clock_monotonic_*	CLOCK_MONOTONIC: stops while suspended.  Only a
 *				client's own waits (libsdlm, the Dovecot
 *				agent, the test clients and benchmarks),
 *				which guard nothing on the disk.
 *	clock_realtime_ms	CLOCK_REALTIME: the wall clock, which an
 *				operator or NTP may step.  Only for dates a
 *				human reads or that must grow across restarts
 *				and machines (the wall_time_ms of heartbeat
 *				slots, pills and UID records, a daemon's
 *				incarnation, a UID import's age, when a UID
 *				table became degraded).  Never a deadline.
 *
 * clock_ts_ms and clock_ts_ns are the conversions (pure: unit-tested).
 * Header-only, below every layer (the disk library, the daemon, the
 * client library, the tools), so that no layer carries its own copy.
 */
#ifndef SDLM_CLOCK_H
#define SDLM_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Whole milliseconds of ts (truncated). */
static inline uint64_t clock_ts_ms(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000 + (uint64_t)ts->tv_nsec / 1000000;
}

static inline uint64_t clock_ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

static inline uint64_t clock_boottime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return clock_ts_ms(&ts);
}

static inline uint64_t clock_boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return clock_ts_ns(&ts);
}

static inline uint64_t clock_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return clock_ts_ms(&ts);
}

static inline uint64_t clock_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return clock_ts_ns(&ts);
}

static inline uint64_t clock_realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return clock_ts_ms(&ts);
}

#endif /* SDLM_CLOCK_H */
