/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cpgrtt.c - raw corosync CPG round trip, the yardstick of a lock hand-off.
 * Prints numbers, asserts nothing.
 *
 *   cpgrtt --group G --nodes N [--count C] [--secs S] [--from NS] [--until NS]
 *          [--send] [--samples FILE]
 *
 * Every instance joins CPG group G (CPG_MODEL_V1) and waits until the
 * group has N members.  The one started with --send then multicasts C
 * small messages (CPG_TYPE_AGREED), one at a time: the next leaves when
 * the previous one was delivered back to it in agreed order.  One sample
 * is that send -> own delivery time, the same measurement as
 * tests/cluster/cpgprobe.c, without sdlm's lock state on top: the time
 * for a message to be ordered by totem and delivered to every member,
 * which is what one lock hand-off costs at least (the releasing node's
 * RELEASE must be delivered at the waiting node in agreed order).
 * The sender ends with a "done" message; the others leave when they
 * receive it.  Stops at C samples, after S seconds, or at --until NS
 * (CLOCK_MONOTONIC: the end of a phase of tests/bench scale), whichever
 * comes first.  --from NS: the sender, once the group is complete, waits
 * until NS before its first message (joined before a phase, measuring
 * from its start: a join can take seconds on a busy machine).
 *
 * A receiver also times every PING it delivers from the sender: sent_ns
 * (the sender's CLOCK_MONOTONIC, the one clock of every test node) ->
 * delivery here.  That one-way time to another node is the floor of a
 * lock hand-off (the RELEASE must reach the waiter's node), and it is
 * longer than the sender's own round trip by the network hop and the
 * wake-up of the receiving corosync.  --samples names the receiver's
 * file too.
 *
 * Prints (receiver): cpgoneway samples <n> secs <s> p50_us <..> p99_us <..> max_us <..>
 * Prints (sender): cpgrtt samples <n> secs <s> pending_us <..> p50_us <..> p99_us <..> max_us <..>
 * (pending_us: how long the message still in flight at the end had waited,
 * 0 if none: under loss the slowest round trip may be that one)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <corosync/cpg.h>

#include "stats.h"

#define MSG_PING	1u
#define MSG_DONE	2u

struct rtt_msg {
	uint32_t	kind;
	uint32_t	pid;
	uint64_t	seq;
	uint64_t	sent_ns;	/* sender's CLOCK_MONOTONIC at send */
	uint8_t		pad[40];	/* a lock message's order of size */
};

struct rtt {
	uint32_t	members;
	uint32_t	mypid;
	uint64_t	seq;		/* in flight, 0 = none */
	bool		delivered;
	bool		done;
};

static struct rtt R;
static struct samples oneway;	/* receiver: send -> delivery here */

static void on_deliver(cpg_handle_t h, const struct cpg_name *g, uint32_t nodeid,
		       uint32_t pid, void *msg, size_t len)
{
	struct rtt_msg m;

	(void)h; (void)g; (void)nodeid;
	if (len != sizeof(m))
		return;
	memcpy(&m, msg, sizeof(m));
	if (m.kind == MSG_DONE)
		R.done = true;
	else if (m.kind == MSG_PING && pid == R.mypid && m.pid == R.mypid && m.seq == R.seq)
		R.delivered = true;
	else if (m.kind == MSG_PING && pid != R.mypid && m.sent_ns)
		samples_add(&oneway, now_ns() - m.sent_ns);
}

static void on_confchg(cpg_handle_t h, const struct cpg_name *g,
		       const struct cpg_address *members, size_t n_members,
		       const struct cpg_address *left, size_t n_left,
		       const struct cpg_address *joined, size_t n_joined)
{
	(void)h; (void)g; (void)members; (void)left; (void)n_left;
	(void)joined; (void)n_joined;
	R.members = (uint32_t)n_members;
}

/* Dispatch until cond or the deadline.  0, -ETIMEDOUT or -EIO. */
static int wait_for(cpg_handle_t h, int fd, bool (*cond)(void), uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (!cond()) {
		if (now_ns() >= deadline)
			return -ETIMEDOUT;
		if (poll(&p, 1, 100) < 0 && errno != EINTR)
			return -errno;
		if (cpg_dispatch(h, CS_DISPATCH_ALL) != CS_OK)
			return -EIO;
	}
	return 0;
}

static uint32_t want_members;
static bool have_members(void) { return R.members >= want_members; }
static bool was_delivered(void) { return R.delivered; }
static bool is_done(void) { return R.done; }

/* Returns 0 or -EIO (corosync kept saying TRY_AGAIN or failed). */
static int send_msg(cpg_handle_t h, const struct rtt_msg *m)
{
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
	cs_error_t e;
	int tries = 0;

	while ((e = cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1)) == CS_ERR_TRY_AGAIN &&
	       tries++ < 10000)
		usleep(100);
	return e == CS_OK ? 0 : -EIO;
}

/* cpg_join, retried while corosync says TRY_AGAIN (under packet loss the
 * membership may be re-forming) for up to 30 s. */
static cs_error_t join_retry(cpg_handle_t h, const struct cpg_name *name)
{
	uint64_t deadline = now_ns() + 30000000000ull;
	cs_error_t e;

	while ((e = cpg_join(h, name)) == CS_ERR_TRY_AGAIN && now_ns() < deadline)
		usleep(10000);
	return e;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "group", required_argument, NULL, 'g' },
		{ "nodes", required_argument, NULL, 'n' },
		{ "count", required_argument, NULL, 'c' },
		{ "secs", required_argument, NULL, 's' },
		{ "send", no_argument, NULL, 'S' },
		{ "samples", required_argument, NULL, 'o' },
		{ "until", required_argument, NULL, 'u' },
		{ "from", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	cpg_model_v1_data_t model = {
		.model = CPG_MODEL_V1,
		.cpg_deliver_fn = on_deliver,
		.cpg_confchg_fn = on_confchg,
	};
	const char *group = "sdlm-bench-rtt", *out = NULL;
	unsigned long count = 2000;
	double secs = 60;
	bool sender = false;
	struct cpg_name name;
	struct rtt_msg m;
	cpg_handle_t h;
	struct samples s = { 0 };
	uint64_t t0, end, pending = 0, until = 0, from = 0;
	int fd = -1, opt, rc = 1;

	while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (opt) {
		case 'g': group = optarg; break;
		case 'n': want_members = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'c': count = strtoul(optarg, NULL, 0); break;
		case 's': secs = strtod(optarg, NULL); break;
		case 'S': sender = true; break;
		case 'o': out = optarg; break;
		case 'u': until = strtoull(optarg, NULL, 0); break;
		case 'f': from = strtoull(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	if (!want_members || strlen(group) >= CPG_MAX_NAME_LENGTH || count == 0)
		return 2;
	if (cpg_model_initialize(&h, CPG_MODEL_V1, (cpg_model_data_t *)&model, NULL) != CS_OK) {
		fprintf(stderr, "cpgrtt: cannot reach corosync\n");
		goto out_free;
	}
	R.mypid = (uint32_t)getpid();
	memset(&name, 0, sizeof(name));
	name.length = (uint32_t)strlen(group);
	memcpy(name.value, group, name.length);
	if (join_retry(h, &name) != CS_OK || cpg_fd_get(h, &fd) != CS_OK) {
		fprintf(stderr, "cpgrtt: cannot join %s\n", group);
		goto out_finalize;
	}
	if (wait_for(h, fd, have_members, now_ns() + 30000000000ull)) {
		fprintf(stderr, "cpgrtt: group never reached %u members\n", want_members);
		goto out_leave;
	}
	if (!sender) {
		t0 = now_ns();
		rc = wait_for(h, fd, is_done, now_ns() + (uint64_t)((secs + 30) * 1e9)) ? 1 : 0;
		printf("cpgoneway samples %zu secs %.3f", oneway.s_n, (now_ns() - t0) / 1e9);
		samples_print_lat(&oneway, stdout);
		if (samples_write(&oneway, out))
			fprintf(stderr, "cpgrtt: cannot write %s\n", out);
		goto out_leave;
	}
	if (from)
		sleep_until(from);
	t0 = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	if (until && until < end)
		end = until;
	memset(&m, 0, sizeof(m));
	m.kind = MSG_PING;
	m.pid = R.mypid;
	while (s.s_n < count && now_ns() < end) {
		uint64_t a;

		m.seq = ++R.seq;
		R.delivered = false;
		a = now_ns();
		m.sent_ns = a;
		if (send_msg(h, &m) || wait_for(h, fd, was_delivered, end) == -EIO)
			goto out_leave;
		if (!R.delivered) {
			pending = now_ns() - a;
			break;
		}
		if (samples_add(&s, now_ns() - a))
			goto out_leave;
	}
	printf("cpgrtt samples %zu secs %.3f pending_us %.0f", s.s_n, (now_ns() - t0) / 1e9,
	       pending / 1e3);
	samples_print_lat(&s, stdout);
	if (samples_write(&s, out))
		fprintf(stderr, "cpgrtt: cannot write %s\n", out);
	m.kind = MSG_DONE;
	send_msg(h, &m);
	rc = 0;
out_leave:
	cpg_leave(h, &name);
out_finalize:
	cpg_finalize(h);
out_free:
	samples_free(&s);
	samples_free(&oneway);
	return rc;
}
