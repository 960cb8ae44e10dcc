/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xportbench.c - lock hand-offs over the fast path's transport (dlm/core/xport.c)
 * in the simulated network of tests/common/xportsim.c.  Prints numbers,
 * asserts nothing: it measures docs/design-fastpath.md's claim that with
 * 2% loss a hand-off's p99 is about one retransmission (RTO + RTT).
 *
 *   xportbench [--rtt-us R[,R...]] [--loss P[,P...]] [--jitter F]
 *              [--count N] [--warmup W] [--think-us T] [--seed S]
 *
 * Three endpoints: requester 1, master 2, holder 3.  One hand-off is
 *   4 messages (master on a third node): 1 -> 2 P_REQUEST, 2 -> 3 P_BAST,
 *     3 -> 2 P_RELEASE, 2 -> 1 P_GRANT;
 *   2 messages (master on the holder's node): 1 -> 2 P_REQUEST, 2 -> 1
 *     P_GRANT (the bast and release are local to node 2).
 * A sample is the simulated time from the request's xport_send() to the
 * grant's delivery on node 1; the next hand-off starts T µs (default
 * 1000) after the grant, so hand-offs never overlap (the spurious
 * retransmissions of a lost ack still ride along).  The channel loses each
 * frame (DATA and ACK alike) with probability P and delays it by a one-way
 * time uniform in [(1 - F) R/2, (1 + F) R/2] (F default 0.1).  The first W
 * (default 200) hand-offs warm the RTT estimators up and are not counted.
 * Processing takes no time: the figures are the transport's alone.
 *
 * Prints one line per (messages, R, P):
 *   xport handoff msgs <m> rtt_us <R> loss_pct <P> n <N> p50_us .. p99_us ..
 *   max_us .. | claim_us <RTT + RTO> pred_us <(m/2) RTT + RTO> rto_us <RTO>
 *   frames .. lost .. retx .. fast .. spurious ..
 * where RTO is node 1's RTO towards node 2 at the end, claim_us the design
 * document's p99 (2.3: "one retransmission, RTO + RTT"), pred_us one
 * retransmission on top of the hand-off's m/2 round trips, retx
 * every retransmission, fast those sent on an ack of a later message, and
 * spurious the duplicates receivers saw (retransmissions that were not
 * needed: their original or its ack was late, or only the ack was lost).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "xportsim.h"

#define US	1000ULL

struct run {
	unsigned	msgs;		/* 2 or 4 */
	uint64_t	started;	/* the request's send time */
	int		granted;
};

/* The message kinds of the hand-off; the payload's first byte. */
enum { P_REQUEST = 'Q', P_BAST = 'B', P_RELEASE = 'L', P_GRANT = 'G' };

static void reply(struct xsim *s, uint32_t from, uint32_t to, uint8_t kind)
{
	uint8_t m[24];

	memset(m, 0, sizeof(m));
	m[0] = kind;
	if (xsim_send(s, from, to, 1, m, sizeof(m)))
		abort();
}

static void on_deliver(struct xsim *s, void *arg, uint32_t to,
		       const struct xport_rx *rx)
{
	struct run *r = arg;

	switch (rx->data[0]) {
	case P_REQUEST:		/* at the master */
		if (r->msgs == 4)
			reply(s, 2, 3, P_BAST);
		else
			reply(s, 2, 1, P_GRANT);
		break;
	case P_BAST:		/* at the holder: its users stop at once */
		reply(s, 3, 2, P_RELEASE);
		break;
	case P_RELEASE:		/* at the master */
		reply(s, 2, 1, P_GRANT);
		break;
	case P_GRANT:
		if (to == 1)
			r->granted = 1;
		break;
	}
}

static int parse_list(const char *arg, double *v, int max)
{
	char *dup = strdup(arg), *tok, *save = NULL, *end;
	int n = 0;

	if (!dup)
		return -1;
	for (tok = strtok_r(dup, ",", &save); tok && n < max;
	     tok = strtok_r(NULL, ",", &save)) {
		v[n] = strtod(tok, &end);
		if (*end || v[n] < 0) {
			free(dup);
			return -1;
		}
		n++;
	}
	free(dup);
	return n;
}

static int bench_one(unsigned msgs, double rtt_us, double loss, double jitter,
		     unsigned count, unsigned warmup, uint64_t think, uint64_t seed)
{
	struct xsim_cfg c;
	struct samples smp;
	struct run r;
	struct xsim *s;
	struct xport_peer_info pi;
	uint64_t half = (uint64_t)(rtt_us * US / 2), retx = 0, fast = 0, dups = 0;
	uint8_t q[24];
	unsigned i, a, b;
	int rc;

	memset(&c, 0, sizeof(c));
	c.n = 3;
	c.loss = loss / 100;
	c.delay_min = (uint64_t)((double)half * (1 - jitter));
	c.delay_max = (uint64_t)((double)half * (1 + jitter));
	c.seed = seed;
	memset(&r, 0, sizeof(r));
	r.msgs = msgs;
	memset(&smp, 0, sizeof(smp));
	rc = xsim_new(&c, on_deliver, &r, &s);
	if (rc)
		return rc;
	memset(q, 0, sizeof(q));
	q[0] = P_REQUEST;
	for (i = 0; i < warmup + count; i++) {
		r.granted = 0;
		r.started = xsim_now(s);
		if (xsim_send(s, 1, 2, 1, q, sizeof(q)))
			abort();
		while (!r.granted)
			if (!xsim_step(s)) {
				fprintf(stderr, "xportbench: the network went idle before the grant\n");
				xsim_free(s);
				return -EIO;
			}
		if (i >= warmup && samples_add(&smp, xsim_now(s) - r.started)) {
			xsim_free(s);
			return -ENOMEM;
		}
		/* think: let time pass (retransmissions, acks) */
		{
			uint64_t until = xsim_now(s) + think;

			while (xsim_step(s) && xsim_now(s) < until)
				;
		}
	}
	for (a = 1; a <= 3; a++)
		for (b = 1; b <= 3; b++)
			if (a != b && xport_peer_info(xsim_xport(s, a), b, &pi) == 0) {
				retx += pi.retransmits;
				fast += pi.fast_retransmits;
				dups += pi.duplicates;
			}
	xport_peer_info(xsim_xport(s, 1), 2, &pi);
	samples_sort(&smp);
	printf("xport handoff msgs %u rtt_us %.0f loss_pct %.1f n %u p50_us %.1f "
	       "p99_us %.1f max_us %.1f | claim_us %.0f pred_us %.0f rto_us %.0f "
	       "frames %llu lost %llu retx %llu fast %llu spurious %llu\n",
	       msgs, rtt_us, loss, count, samples_pct_us(&smp, 50),
	       samples_pct_us(&smp, 99), samples_max_us(&smp),
	       rtt_us + (double)pi.rto / US,
	       msgs / 2.0 * rtt_us + (double)pi.rto / US, (double)pi.rto / US,
	       (unsigned long long)xsim_stats(s)->frames,
	       (unsigned long long)xsim_stats(s)->lost, (unsigned long long)retx,
	       (unsigned long long)fast, (unsigned long long)dups);
	samples_free(&smp);
	xsim_free(s);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: xportbench [--rtt-us R[,R...]] [--loss P[,P...]] [--jitter F]\n"
		   "                  [--count N] [--warmup W] [--think-us T] [--seed S]\n"
		   "defaults: --rtt-us 200,1000 --loss 0,2 --jitter 0.1 --count 100000\n"
		   "          --warmup 200 --think-us 1000 --seed 1\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rtt-us", required_argument, NULL, 'r' },
		{ "loss", required_argument, NULL, 'l' },
		{ "jitter", required_argument, NULL, 'j' },
		{ "count", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "think-us", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double rtts[8] = { 200, 1000 }, losses[8] = { 0, 2 }, jitter = 0.1;
	int nrtt = 2, nloss = 2, o, i, k;
	unsigned count = 100000, warmup = 200, m;
	uint64_t think = 1000 * US, seed = 1;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'r':
			nrtt = parse_list(optarg, rtts, 8);
			if (nrtt < 1)
				goto bad;
			break;
		case 'l':
			nloss = parse_list(optarg, losses, 8);
			if (nloss < 1)
				goto bad;
			break;
		case 'j':
			jitter = strtod(optarg, NULL);
			if (jitter < 0 || jitter >= 1)
				goto bad;
			break;
		case 'n':
			count = (unsigned)strtoul(optarg, NULL, 10);
			if (!count)
				goto bad;
			break;
		case 'w':
			warmup = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 't':
			think = strtoull(optarg, NULL, 10) * US;
			break;
		case 's':
			seed = strtoull(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	for (i = 0; i < nrtt; i++)
		for (k = 0; k < nloss; k++)
			for (m = 2; m <= 4; m += 2)
				if (bench_one(m, rtts[i], losses[k], jitter, count,
					      warmup, think, seed)) {
					fprintf(stderr, "xportbench: run failed\n");
					return 1;
				}
	return 0;
bad:
	usage(stderr);
	return 2;
}
