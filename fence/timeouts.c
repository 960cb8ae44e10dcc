/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * timeouts.c - derive and check sdlm's time bounds (see timeouts.h for the
 * formulas and docs/timeouts.md for why each one is safe).
 *
 * Arithmetic is done in 64 bits so that no combination of u32 settings can
 * wrap before the D <= UINT32_MAX check sees it.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "sdlm_errors.h"
#include "timeouts.h"

struct timeouts_profile_entry {
	const char *name;
	struct sdlm_timeouts_base base;
};

/*
 * "default": SBD's anchors (reads every second, watchdog 5 s) so that
 * D = 10 s = SBD's msgwait.
 * "test": small shared 2-core machines where several nodes, corosync and
 * file-backed disks on ext4 compete.  There an O_DSYNC write can wait
 * seconds behind a journal commit and a process can stall for seconds;
 * both must read as slow, never as dead.  T = 3 s makes such a write late
 * rather than failed; L = 2I + T = 5 s survives a 4 s stall of the
 * renewing daemon; W = 8 s survives a 7 s stall of the feeding loop.  The
 * price is D = 17 s, acceptable for tests.
 */
static const struct timeouts_profile_entry profiles[] = {
	{ "default", { .io_timeout_ms = 1000, .hb_interval_ms = 1000,
		       .watchdog_ms = 5000, .membership_ms = 0 } },
	{ "test",    { .io_timeout_ms = 3000, .hb_interval_ms = 1000,
		       .watchdog_ms = 8000, .membership_ms = 0 } },
};

/* Returns 0 or SDLM_ETIMEOUTS with *why set; see timeouts.h. */
int timeouts_derive(const struct sdlm_timeouts_base *in,
		    struct sdlm_timeouts *out, const char **why)
{
	const char *reason = NULL;
	uint64_t t, i, w, m, lease, dead, legacy, ack;
	int rv = SDLM_ETIMEOUTS;

	if (why)
		*why = NULL;
	if (!in || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));

	t = in->io_timeout_ms;
	i = in->hb_interval_ms;
	w = in->watchdog_ms;
	m = in->membership_ms;

	if (i < TIMEOUTS_HB_INTERVAL_MIN) {
		reason = "heartbeat interval below 100 ms";
		goto out;
	}
	if (i > TIMEOUTS_HB_INTERVAL_MAX) {
		reason = "heartbeat interval above 60 s";
		goto out;
	}
	if (t < TIMEOUTS_IO_MIN) {
		reason = "I/O timeout below 10 ms";
		goto out;
	}
	if (t > TIMEOUTS_IO_PER_INTERVAL_MAX * i) {
		reason = "I/O timeout above 3 heartbeat intervals";
		goto out;
	}
	if (w == 0 || w % TIMEOUTS_WATCHDOG_GRAIN) {
		reason = "watchdog timeout not a whole number of seconds";
		goto out;
	}
	if (w < 2 * i) {
		reason = "watchdog timeout below 2 heartbeat intervals";
		goto out;
	}
	if (w <= t) {
		reason = "watchdog timeout not above the I/O timeout";
		goto out;
	}
	if (m > TIMEOUTS_MEMBERSHIP_MAX) {
		reason = "membership skew above 600 s";
		goto out;
	}

	lease = 2 * i + t;
	/* M is not in D: a node whose lease lapsed fences itself whatever
	 * corosync says (docs/timeouts.md, "Dead bound", issue 19 item 3). */
	dead = lease + w + t + i;
	/* ... unless the victim is of a build before that rule (its
	 * heartbeat lacks LAPSE_FENCES): M back in, from max(f, a). */
	legacy = dead + m;
	ack = 2 * i + 4 * t;
	if (legacy > UINT32_MAX) {
		reason = "dead bound does not fit 32 bits";
		goto out;
	}

	out->base = *in;
	out->lease_ms = (uint32_t)lease;
	out->dead_ms = (uint32_t)dead;
	out->dead_legacy_ms = (uint32_t)legacy;
	out->ack_ms = (uint32_t)ack;
	out->drain_ms = (uint32_t)lease;
	out->self_fence_ms = (uint32_t)(lease + w);
	rv = 0;
out:
	if (why)
		*why = reason;
	return rv;
}

/* Returns 0, -ENOENT (unknown name) or -EINVAL. */
int timeouts_profile(const char *name, struct sdlm_timeouts_base *out)
{
	size_t k;

	if (!name || !out)
		return -EINVAL;
	for (k = 0; k < sizeof(profiles) / sizeof(profiles[0]); k++) {
		if (strcmp(profiles[k].name, name) == 0) {
			*out = profiles[k].base;
			return 0;
		}
	}
	return -ENOENT;
}
