/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * timeouts.h - every sdlm time bound, derived from three settings.
 *
 * Settings (stored in the disk header, so every node uses the same ones):
 *	T  io_timeout_ms	an I/O that has not completed after T failed
 *	I  hb_interval_ms	each node writes its slot and reads the whole
 *				slot range once per I
 *	W  watchdog_ms		after the last feed the watchdog resets the
 *				node within W
 * plus one local parameter:
 *	M  membership_ms	worst skew between two nodes learning of the
 *				same membership change (corosync token +
 *				consensus); 0 for the pure-disk case.  Checked
 *				and kept, but in no bound since issue 19: a
 *				node whose lease lapsed fences itself whether
 *				or not it is quorate, so the dead bound need
 *				not wait for the victim to learn it lost quorum
 *				- except for a victim of an older build
 *				(dead_legacy_ms)
 *
 * Derived (docs/timeouts.md has the argument behind each line):
 *	L  lease_ms	= 2I + T	a node uses its locks only while
 *					now - submit(last completed write) < L;
 *					one lost renewal is tolerated
 *	D  dead_ms	= L + W + T + I
 *					a peer is dead by timeout once it is
 *					not a member and its counter stood
 *					still for D (observer's clock,
 *					successful reads only), counted from
 *					when that counter was first seen, if
 *					its heartbeat carries LAPSE_FENCES
 *	   dead_legacy_ms = L + W + M + T + I
 *					the same for a victim whose heartbeat
 *					does not (a build before issue 19 item
 *					3: a quorate node that lost its disk
 *					kept feeding until it learned it was
 *					out), counted from max(f, a)
 *	   ack_ms	= 2I + 4T	worst case of the acknowledged path:
 *					pill write, victim's read, ack write,
 *					fencer's read (four I/Os at their
 *					deadline, two waits for a cycle)
 *	   drain_ms	= L		a victim that read a pill and cannot
 *					acknowledge within this stops feeding
 *	   self_fence_ms = L + W	worst time from the submission of the
 *					last completed renewal to the reset of
 *					any node whose lease lapsed (quorate
 *					or not)
 *
 * Timeline of the dead path with the default profile (I = T = 1 s, W = 5 s,
 * any M), victim's last write lands at t = 0:
 *
 *	0        victim's last write lands; its lease ends at <= 3 s
 *	<= 2     observer first sees that counter (f)
 *	<= 3     victim's lease expired: no lock use, stops feeding
 *	         (quorate or not)
 *	<= 8     watchdog has reset the victim
 *	>= f+10  the first read completing D after f, the victim not a member
 *	         and our pill read back: declare fenced (dead); reads come
 *	         every I and take up to T, so by f + 12
 *
 * Functions return 0 or a negative error; nothing here prints.
 */
#ifndef SDLM_TIMEOUTS_H
#define SDLM_TIMEOUTS_H

#include <stdint.h>

#define TIMEOUTS_HB_INTERVAL_MIN	100u	/* ms */
#define TIMEOUTS_HB_INTERVAL_MAX	60000u
#define TIMEOUTS_IO_MIN			10u
#define TIMEOUTS_IO_PER_INTERVAL_MAX	3u	/* T <= 3I */
#define TIMEOUTS_WATCHDOG_GRAIN		1000u	/* /dev/watchdog takes seconds */
#define TIMEOUTS_MEMBERSHIP_MAX		600000u

struct sdlm_timeouts_base {
	uint32_t io_timeout_ms;		/* T */
	uint32_t hb_interval_ms;	/* I */
	uint32_t watchdog_ms;		/* W */
	uint32_t membership_ms;		/* M */
};

struct sdlm_timeouts {
	struct sdlm_timeouts_base base;
	uint32_t lease_ms;		/* L */
	uint32_t dead_ms;		/* D */
	uint32_t dead_legacy_ms;	/* D + M */
	uint32_t ack_ms;
	uint32_t drain_ms;
	uint32_t self_fence_ms;
};

/*
 * Check in against the constraints below and fill *out.  On failure
 * return SDLM_ETIMEOUTS, leave *out zeroed and point *why (if not NULL) at
 * a static sentence naming the broken rule; on success *why is NULL.
 *
 *	100 <= I <= 60000		a shorter interval drowns in scheduler
 *					noise, a longer one makes fencing slow
 *	10 <= T <= 3I			each node has at most 3 renewals in
 *					flight (writes are submitted every I)
 *	W a multiple of 1000		the device takes whole seconds; rounding
 *					up would break D
 *	W >= 2I, W > T			feeding once per I survives one late
 *					tick; an ack write lands before reset
 *	M <= 600000
 *	D + M <= UINT32_MAX		fits the u32 fields of header and logs
 * in == NULL or out == NULL: -EINVAL.
 */
int timeouts_derive(const struct sdlm_timeouts_base *in,
		    struct sdlm_timeouts *out, const char **why);

/*
 * Settings of a named profile ("default" or "test"), membership_ms 0.
 * Returns 0, or -ENOENT for an unknown name, -EINVAL for NULL.
 */
int timeouts_profile(const char *name, struct sdlm_timeouts_base *out);

#endif /* SDLM_TIMEOUTS_H */
