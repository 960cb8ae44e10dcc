/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sdlmbench.c - lock benchmarks through libsdlm, one client per process.
 * A program that prints numbers; it asserts nothing (tests/bench runs it).
 *
 *   sdlmbench loop     --ls LS --res R [--secs S] [--at NS] [--samples FILE]
 *   sdlmbench pingpong --ls LS --res R [--count N] [--secs S] [--at NS]
 *                      [--samples FILE]
 *   sdlmbench handoff  --ls LS --res R [--count N] [--secs S] [--at NS]
 *                      [--samples FILE]
 *   sdlmbench hold     --ls LS --res R --count N [--window W]
 *   sdlmbench yield    --ls LS --res R [--secs S]
 *
 * loop: EX lock + unlock of one resource, as fast as the client can, from
 * --at (CLOCK_MONOTONIC ns; every "node" of a test cluster shares the
 * machine's clock, so one --at starts all clients together) for S seconds.
 * Before --at the lock is taken once, so a lone client measures the cached
 * path (no message, no I/O).  Several clients on one resource on different
 * nodes measure contended hand-offs instead.  One sample = one lock+unlock
 * pair.  Prints:
 *	loop ops <n> secs <s> ops_s <r> p50_us <..> p99_us <..> max_us <..>
 *
 * pingpong: two clients on two nodes, one resource, EX.  The lock value
 * block carries { magic, node of the last holder, CLOCK_MONOTONIC ns
 * just before its unlock, sequence }; the holder writes it with
 * SDLM_LKF_VALBLK on unlock.  A client granted the lock after the other
 * node's unlock takes one sample:
 *
 *	hand-off = (grant seen by this client) - (the other client's clock
 *	           reading just before it called sdlm_unlock)
 *
 * i.e. the whole path unlock -> IPC -> daemon A gives way (CPG RELEASE) ->
 * agreed delivery at B -> daemon B grants -> IPC ast -> client B.  A client
 * that re-takes the lock without a hand-off (its own node still caches it)
 * takes no sample.  Stops after N samples of its own (saying so in the
 * LVB's done flag), when it sees the other client's done flag, after S
 * seconds, or 30 s after the last hand-off (under packet loss one hand-off
 * can take seconds).  Prints:
 *	pingpong samples <n> grants <g> secs <s> p50_us .. p99_us .. max_us ..
 *
 * handoff: as pingpong, but a client granted the lock keeps it until its
 * blocking callback (bast) says the other node waits, then unlocks: every
 * sample is then a hand-off to a node that already waits (its request was
 * ordered before the unlock), the figure design.md's goal is about.
 * pingpong's back-to-back cycle is kept beside it: there the waiter's
 * request is sent only once its own previous release was delivered, so a
 * sample also carries that request's ordering.  Prints:
 *	handoff samples <n> grants <g> secs <s> p50_us .. p99_us .. max_us ..
 *
 * hold: N EX locks on R.0 .. R.<N-1>, at most W requests in flight
 * (sdlm_lock_async), then prints "held <n> secs <s>" and keeps them until
 * SIGTERM or SIGINT (the daemon releases the client's locks
 * when its connection closes; the node keeps the cluster locks cached).
 *
 * yield: one EX lock on R, kept until its blocking callback says another
 * node waits, then released at once: a lock user that lets go when asked
 * (tests/bench recovery's holder cut off the network: the bast comes
 * from its own daemon, through the disk hand-off).  Prints "held" once
 * granted, then "yielded <s>" (seconds from the grant to the bast) or
 * "kept" if S seconds passed without one (default 10; give more).
 *
 * --samples FILE gets every sample in microseconds, one per line (plots).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sdlm.h"
#include "stats.h"

#define PP_MAGIC	0x70696e67u	/* "ping" */

struct pp_lvb {
	uint32_t	magic;
	uint32_t	node;		/* bench node id of the last holder */
	uint64_t	unlock_ns;	/* its clock just before sdlm_unlock */
	uint64_t	seq;		/* hand-offs so far */
	uint32_t	done;		/* the last holder took all its samples */
	uint32_t	reserved;
};
_Static_assert(sizeof(struct pp_lvb) <= SDLM_LVB_LEN, "pp_lvb fits the LVB");

struct opts {
	const char	*ls, *res, *out;
	double		secs;
	uint64_t	at_ns;
	unsigned long	count, window;
	unsigned	node;
};

static volatile sig_atomic_t stop_flag;

static int bench_loop(sdlm_handle_t *h, const struct opts *o)
{
	struct sdlm_lksb lksb;
	struct samples s = { 0 };
	uint64_t t0, t1, end;
	int rc;

	memset(&lksb, 0, sizeof(lksb));
	rc = sdlm_lock(h, o->ls, o->res, SDLM_EX, 0, 60000, &lksb);
	if (rc)
		goto out;
	rc = sdlm_unlock(h, &lksb, 0);
	if (rc)
		goto out;
	if (o->at_ns)
		sleep_until(o->at_ns);
	t0 = now_ns();
	end = t0 + (uint64_t)(o->secs * 1e9);
	for (t1 = t0; t1 < end && !stop_flag;) {
		uint64_t a = t1;

		rc = sdlm_lock(h, o->ls, o->res, SDLM_EX, 0, 60000, &lksb);
		if (rc)
			goto out;
		rc = sdlm_unlock(h, &lksb, 0);
		if (rc)
			goto out;
		t1 = now_ns();
		rc = samples_add(&s, t1 - a);
		if (rc)
			goto out;
	}
	samples_report(&s, "loop", t1 - t0, stdout);
	rc = samples_write(&s, o->out);
out:
	samples_free(&s);
	return rc;
}

/*
 * A grant just seen at time now: if the LVB says the other client held
 * the lock last, one hand-off sample (now - its unlock time).  Sets
 * *peer_done when the other client is done and *seq to the LVB's count.
 * Returns 1 if a sample was taken, 0 if none, -ENOMEM.
 */
static int lvb_take_sample(const struct opts *o, const struct sdlm_lksb *lksb,
			   uint64_t now, struct samples *s, bool *peer_done,
			   uint64_t *seq)
{
	struct pp_lvb v;

	memcpy(&v, lksb->lvb, sizeof(v));
	*seq = 0;
	if (!lksb->lvb_valid || v.magic != PP_MAGIC)
		return 0;
	if (v.done && v.node != o->node)
		*peer_done = true;
	*seq = v.seq;
	if (v.node == o->node || !v.unlock_ns || v.unlock_ns > now)
		return 0;
	return samples_add(s, now - v.unlock_ns) ? -ENOMEM : 1;
}

/* Stamps the LVB (our node, our clock now) and unlocks with VALBLK. */
static int lvb_stamp_unlock(sdlm_handle_t *h, const struct opts *o,
			    struct sdlm_lksb *lksb, uint64_t seq, bool done)
{
	struct pp_lvb v;

	memset(&v, 0, sizeof(v));
	v.magic = PP_MAGIC;
	v.node = o->node;
	v.seq = seq + 1;
	v.done = done;
	v.unlock_ns = now_ns();
	memcpy(lksb->lvb, &v, sizeof(v));
	return sdlm_unlock(h, lksb, SDLM_LKF_VALBLK);
}

/* "<label> samples <n> grants <g> secs <s> p50_us ..", then the samples
 * file.  Returns 0 or -errno. */
static int report_grants(const char *label, struct samples *s, uint64_t grants,
			 uint64_t t0, const char *out)
{
	printf("%s samples %zu grants %" PRIu64 " secs %.3f", label, s->s_n,
	       grants, (now_ns() - t0) / 1e9);
	samples_print_lat(s, stdout);
	return samples_write(s, out);
}

static int bench_pingpong(sdlm_handle_t *h, const struct opts *o)
{
	struct sdlm_lksb lksb;
	struct samples s = { 0 };
	uint64_t t0, now, end, last_handoff, grants = 0, seq;
	bool peer_done = false;
	int rc;

	memset(&lksb, 0, sizeof(lksb));
	if (o->at_ns)
		sleep_until(o->at_ns);
	t0 = now_ns();
	end = t0 + (uint64_t)(o->secs * 1e9);
	last_handoff = t0;
	for (;;) {
		now = now_ns();
		if (now >= end || stop_flag || s.s_n >= o->count)
			break;
		/* The other client is done: nothing more to hand over. */
		if (s.s_n && now - last_handoff > 30000000000ull)
			break;
		rc = sdlm_lock(h, o->ls, o->res, SDLM_EX, 0, 10000, &lksb);
		if (rc == -ETIMEDOUT)
			continue;
		if (rc)
			goto out;
		now = now_ns();
		grants++;
		rc = lvb_take_sample(o, &lksb, now, &s, &peer_done, &seq);
		if (rc < 0)
			goto out;
		if (rc)
			last_handoff = now;
		rc = lvb_stamp_unlock(h, o, &lksb, seq, s.s_n >= o->count);
		if (rc)
			goto out;
		if (peer_done)
			break;
	}
	rc = report_grants("pingpong", &s, grants, t0, o->out);
out:
	samples_free(&s);
	return rc;
}

/*
 * handoff: like pingpong, but the holder keeps the lock until its bast
 * says the other node waits (GFS2's way: demote on the callback), so each
 * sample is a hand-off to a node whose request is already ordered at the
 * holder: unlock on A -> RELEASE ordered -> grant on B.  pingpong's
 * back-to-back cycle also pays for B's re-request (sent only once B's own
 * RELEASE was delivered), i.e. two orderings per sample.
 */
struct ho_state {
	bool	granted, blocked;
	int	status;
};

static void ho_ast(void *arg, struct sdlm_lksb *lksb)
{
	struct ho_state *st = arg;

	st->granted = true;
	st->status = lksb->status;
}

static void ho_bast(void *arg, struct sdlm_lksb *lksb, int mode)
{
	struct ho_state *st = arg;

	(void)lksb; (void)mode;
	st->blocked = true;
}

/* Dispatches until *flag or the deadline.  0, -ETIMEDOUT or an error. */
static int ho_wait(sdlm_handle_t *h, const bool *flag, uint64_t deadline)
{
	struct pollfd p = { .fd = sdlm_fd(h), .events = POLLIN };
	int rc;

	for (;;) {
		rc = sdlm_dispatch(h);
		if (rc < 0)
			return rc;
		if (*flag)
			return 0;
		if (now_ns() >= deadline || stop_flag)
			return -ETIMEDOUT;
		if (poll(&p, 1, 100) < 0 && errno != EINTR)
			return -errno;
	}
}

static int bench_handoff(sdlm_handle_t *h, const struct opts *o)
{
	struct sdlm_lksb lksb;
	struct samples s = { 0 };
	struct ho_state st;
	uint64_t t0, now, end, grants = 0, seq;
	bool peer_done = false, done;
	int rc;

	if (o->at_ns)
		sleep_until(o->at_ns);
	t0 = now_ns();
	end = t0 + (uint64_t)(o->secs * 1e9);
	while (!peer_done && !stop_flag) {
		memset(&lksb, 0, sizeof(lksb));
		memset(&st, 0, sizeof(st));
		rc = sdlm_lock_async(h, o->ls, o->res, SDLM_EX, 0, &lksb, ho_ast,
				     ho_bast, &st);
		if (rc)
			goto out;
		/* Under loss one hand-off can take seconds: 30 s of grace. */
		rc = ho_wait(h, &st.granted, end + 30000000000ull);
		if (rc == -ETIMEDOUT) {
			sdlm_cancel(h, &lksb);
			ho_wait(h, &st.granted, now_ns() + 5000000000ull);
			if (st.granted && st.status == 0)
				sdlm_unlock(h, &lksb, 0);
			break;
		}
		if (rc)
			goto out;
		if (st.status) {
			rc = st.status;
			goto out;
		}
		now = now_ns();
		grants++;
		rc = lvb_take_sample(o, &lksb, now, &s, &peer_done, &seq);
		if (rc < 0)
			goto out;
		done = s.s_n >= o->count || now >= end;
		/* Hold until the other node waits; a peer that stopped
		 * never asks (5 s without a bast ends the run). */
		if (!done && !peer_done &&
		    ho_wait(h, &st.blocked, now_ns() + 5000000000ull) == -ETIMEDOUT)
			done = true;
		rc = lvb_stamp_unlock(h, o, &lksb, seq, done);
		if (rc)
			goto out;
		if (done)
			break;
	}
	rc = report_grants("handoff", &s, grants, t0, o->out);
out:
	samples_free(&s);
	return rc;
}

struct hold_state {
	unsigned long	granted, failed, inflight;
	int		first_err;
};

static void hold_ast(void *arg, struct sdlm_lksb *lksb)
{
	struct hold_state *st = arg;

	st->inflight--;
	if (lksb->status == 0) {
		st->granted++;
	} else {
		st->failed++;
		if (!st->first_err)
			st->first_err = lksb->status;
	}
}

/* Runs sdlm_dispatch() until an event arrived or 1 s passed. */
static int hold_wait(sdlm_handle_t *h)
{
	struct pollfd p = { .fd = sdlm_fd(h), .events = POLLIN };
	int rc;

	rc = sdlm_dispatch(h);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return 0;
	if (poll(&p, 1, 1000) < 0 && errno != EINTR)
		return -errno;
	rc = sdlm_dispatch(h);
	return rc < 0 ? rc : 0;
}

static int bench_hold(sdlm_handle_t *h, const struct opts *o)
{
	struct hold_state st = { 0 };
	struct sdlm_lksb *lk;
	char name[SDLM_NAME_MAX + 1];
	unsigned long i = 0;
	uint64_t t0;
	sigset_t block, old;
	int rc = 0;

	lk = calloc(o->count ? o->count : 1, sizeof(*lk));
	if (!lk)
		return -ENOMEM;
	t0 = now_ns();
	while ((i < o->count || st.inflight) && !stop_flag) {
		while (i < o->count && st.inflight < o->window) {
			snprintf(name, sizeof(name), "%s.%lu", o->res, i);
			rc = sdlm_lock_async(h, o->ls, name, SDLM_EX, 0, &lk[i],
					     hold_ast, NULL, &st);
			if (rc)
				goto out;
			st.inflight++;
			i++;
		}
		rc = hold_wait(h);
		if (rc)
			goto out;
	}
	if (st.failed) {
		rc = st.first_err;
		goto out;
	}
	printf("held %lu secs %.3f\n", st.granted, (now_ns() - t0) / 1e9);
	fflush(stdout);
	/* Keep everything until SIGTERM/SIGINT (blocked between the check
	 * and the wait, so none is lost). */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);
	while (!stop_flag)
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
out:
	free(lk);
	return rc;
}

static int bench_yield(sdlm_handle_t *h, const struct opts *o)
{
	struct sdlm_lksb lksb;
	struct ho_state st;
	uint64_t t0;
	int rc;

	memset(&lksb, 0, sizeof(lksb));
	memset(&st, 0, sizeof(st));
	rc = sdlm_lock_async(h, o->ls, o->res, SDLM_EX, 0, &lksb, ho_ast,
			     ho_bast, &st);
	if (rc)
		return rc;
	rc = ho_wait(h, &st.granted, now_ns() + 60000000000ull);
	if (rc)
		return rc;
	if (st.status)
		return st.status;
	t0 = now_ns();
	printf("held\n");
	fflush(stdout);
	rc = ho_wait(h, &st.blocked, t0 + (uint64_t)(o->secs * 1e9));
	if (rc && rc != -ETIMEDOUT)
		return rc;
	if (rc)
		printf("kept\n");
	else
		printf("yielded %.3f\n", (now_ns() - t0) / 1e9);
	fflush(stdout);
	return sdlm_unlock(h, &lksb, 0);
}

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: sdlmbench loop|pingpong|handoff|hold|yield --ls LS --res R [--secs S] [--at NS]\n"
		"                 [--count N] [--window W] [--node I] [--samples FILE]\n");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "ls", required_argument, NULL, 'l' },
		{ "res", required_argument, NULL, 'r' },
		{ "secs", required_argument, NULL, 's' },
		{ "at", required_argument, NULL, 'a' },
		{ "count", required_argument, NULL, 'c' },
		{ "window", required_argument, NULL, 'w' },
		{ "node", required_argument, NULL, 'n' },
		{ "samples", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .ls = "bench", .res = "r", .secs = 10, .count = 2000,
			  .window = 256, .node = 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	sdlm_handle_t *h;
	const char *mode;
	int opt, rc;

	if (argc < 2) {
		usage();
		return 2;
	}
	mode = argv[1];
	optind = 2;
	while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (opt) {
		case 'l': o.ls = optarg; break;
		case 'r': o.res = optarg; break;
		case 's': o.secs = strtod(optarg, NULL); break;
		case 'a': o.at_ns = strtoull(optarg, NULL, 0); break;
		case 'c': o.count = strtoul(optarg, NULL, 0); break;
		case 'w': o.window = strtoul(optarg, NULL, 0); break;
		case 'n': o.node = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'o': o.out = optarg; break;
		default: usage(); return 2;
		}
	}
	if (optind != argc || o.window == 0 || o.secs <= 0) {
		usage();
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	rc = sdlm_connect(NULL, &h);
	if (rc) {
		fprintf(stderr, "sdlmbench: connect: %s\n", sdlm_strerror(rc));
		return 1;
	}
	if (!strcmp(mode, "loop")) {
		rc = bench_loop(h, &o);
	} else if (!strcmp(mode, "pingpong")) {
		rc = bench_pingpong(h, &o);
	} else if (!strcmp(mode, "handoff")) {
		rc = bench_handoff(h, &o);
	} else if (!strcmp(mode, "hold")) {
		rc = bench_hold(h, &o);
	} else if (!strcmp(mode, "yield")) {
		rc = bench_yield(h, &o);
	} else {
		usage();
		rc = -EINVAL;
	}
	if (rc)
		fprintf(stderr, "sdlmbench %s: %s\n", mode, sdlm_strerror(rc));
	fflush(stdout);
	sdlm_disconnect(h);
	return rc ? 1 : 0;
}
