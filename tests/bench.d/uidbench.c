/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidbench.c - UID allocation through libsdlm on one node: one
 * sdlm_uid_alloc(count 1) + sdlm_uid_commit per sample, the cost of one
 * delivery's UID.  Prints numbers, asserts nothing.
 *
 *   uidbench --ls LS --mailboxes M [--count C] [--secs S] [--samples FILE]
 *
 * The mailboxes are "bench.0" .. "bench.<M-1>", used round robin.  A first
 * untimed pass allocates once in each, so the timed loop measures the
 * steady state: the node holds every mailbox's UID lock cached and a
 * reserved range (adaptive size, docs/uid.md), and a disk write happens
 * only when a range is used up.  M = 1 is one hot mailbox; a large M is a
 * busy server's many mailboxes.
 *
 * --count C asks for C UIDs per call (the API's batch: one call, one
 * commit, one range of C UIDs), the way a delivery of C messages at once
 * would; C = 1 (default) is one UID per delivery.
 *
 * Prints: uid ops <n> secs <s> ops_s <r> p50_us <..> p99_us <..> max_us <..>
 *         uids <C> per call, uids_s <UIDs per second>
 * (ops = calls; a sample is one alloc+commit pair)
 *
 * Paced mode (tests/bench scale, issue 17): one stream of a mail node's
 * workload, at a fixed rate, every request logged:
 *
 *   uidbench --stream cached|new|shared --node I --rate R --at NS --secs S
 *            --log FILE --history FILE [--ls LS] [--mailboxes M]
 *
 *   cached  round robin over "own.<I>.0" .. "own.<I>.<M-1>", each used once
 *           before --at (cached: the steady state of a node's mailboxes)
 *   new     a mailbox never used before per request, "new.<I>.<k>" (its
 *           first UID: a lock the cluster must grant, a slot to claim)
 *   shared  the one mailbox "shared" every node allocates in (a hand-off)
 *
 * Request k is due at NS + k / R s; it is sent when due or, when the
 * previous one is still running, as soon as that one ends (one request
 * in flight per stream, as one delivery process per mailbox would).  No
 * request is due at or after NS + S.  A failed request is logged, the
 * connection is dropped and made again, and the stream goes on.
 *   --log FILE      one line per request:
 *                   "<stream> <node> <due_ns> <start_ns> <end_ns> <rc> <mailbox>"
 *                   (CLOCK_MONOTONIC; rc 0 or the negative errno)
 *   --history FILE  the UIDs in tests/cluster/uidcheck.py's format:
 *                   "got <label> <mailbox> <uidvalidity> <uid> <epoch> <t>",
 *                   "commit <label> <mailbox> <uidvalidity> <first> <last> <t>"
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sdlm.h"
#include "stats.h"

struct paced {
	const char	*stream, *ls, *log, *hist;
	unsigned long	node, mboxes;
	double		rate, secs;
	uint64_t	at_ns;
};

/* One paced request: alloc, history lines, commit.  0 or the error. */
static int paced_one(sdlm_handle_t *h, const struct paced *p, const char *mbox, FILE *hist)
{
	struct sdlm_uid_result r;
	int rc;

	rc = sdlm_uid_alloc(h, p->ls, mbox, 1, &r);
	if (rc)
		return rc;
	fprintf(hist, "got n%lu-%s %s %u %u %llu %llu\n", p->node, p->stream, mbox,
		r.uidvalidity, r.first, (unsigned long long)r.epoch,
		(unsigned long long)now_ns());
	fprintf(hist, "commit n%lu-%s %s %u %u %u %llu\n", p->node, p->stream, mbox,
		r.uidvalidity, r.first, r.first + r.count - 1, (unsigned long long)now_ns());
	/* On the disk before the commit, as a delivery's message would be. */
	fflush(hist);
	return sdlm_uid_commit(h, &r);
}

static void paced_name(const struct paced *p, unsigned long k, char *name, size_t len)
{
	if (!strcmp(p->stream, "cached"))
		snprintf(name, len, "own.%lu.%lu", p->node, k % p->mboxes);
	else if (!strcmp(p->stream, "new"))
		snprintf(name, len, "new.%lu.%lu", p->node, k);
	else
		snprintf(name, len, "shared");
}

static int run_paced(const struct paced *p)
{
	uint64_t step = (uint64_t)(1e9 / p->rate), end = p->at_ns + (uint64_t)(p->secs * 1e9);
	sdlm_handle_t *h = NULL;
	FILE *log, *hist;
	unsigned long k;
	char name[64];
	int rc;

	log = fopen(p->log, "a");
	hist = fopen(p->hist, "a");
	if (!log || !hist) {
		fprintf(stderr, "uidbench: cannot open %s or %s\n", p->log, p->hist);
		return 2;
	}
	rc = sdlm_connect(NULL, &h);
	if (rc) {
		fprintf(stderr, "uidbench: connect: %s\n", sdlm_strerror(rc));
		return 1;
	}
	if (!strcmp(p->stream, "cached"))
		for (k = 0; k < p->mboxes; k++) {
			paced_name(p, k, name, sizeof(name));
			rc = paced_one(h, p, name, hist);
			if (rc) {
				fprintf(stderr, "uidbench: warm %s: %s\n", name, sdlm_strerror(rc));
				return 1;
			}
		}
	fprintf(stderr, "uidbench: %s warm\n", p->stream);
	for (k = 0;; k++) {
		uint64_t due = p->at_ns + k * step, t0, t1;

		if (due >= end)
			break;
		sleep_until(due);
		paced_name(p, k, name, sizeof(name));
		t0 = now_ns();
		if (!h)
			rc = sdlm_connect(NULL, &h);
		if (!rc)
			rc = paced_one(h, p, name, hist);
		t1 = now_ns();
		fprintf(log, "%s %lu %llu %llu %llu %d %s\n", p->stream, p->node,
			(unsigned long long)due, (unsigned long long)t0,
			(unsigned long long)t1, rc, name);
		fflush(log);
		if (rc) {
			fprintf(stderr, "uidbench: %s %s: %s\n", p->stream, name, sdlm_strerror(rc));
			if (h)
				sdlm_disconnect(h);
			h = NULL;
			rc = 0;
		}
	}
	if (h)
		sdlm_disconnect(h);
	fclose(hist);
	fclose(log);
	return 0;
}

/* One allocation of count UIDs, committed.  Returns 0 or the error. */
static int uid_one(sdlm_handle_t *h, const char *ls, const char *mbox, uint32_t count)
{
	struct sdlm_uid_result r;
	int rc;

	rc = sdlm_uid_alloc(h, ls, mbox, count, &r);
	if (rc)
		return rc;
	return sdlm_uid_commit(h, &r);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "ls", required_argument, NULL, 'l' },
		{ "mailboxes", required_argument, NULL, 'm' },
		{ "secs", required_argument, NULL, 's' },
		{ "samples", required_argument, NULL, 'o' },
		{ "count", required_argument, NULL, 'c' },
		{ "stream", required_argument, NULL, 'S' },
		{ "node", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'r' },
		{ "at", required_argument, NULL, 'a' },
		{ "log", required_argument, NULL, 'L' },
		{ "history", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ls = "bench", *out = NULL;
	struct paced p = { .rate = 0 };
	unsigned long mboxes = 1, count = 1, i;
	double secs = 10;
	struct samples s = { 0 };
	char name[64];
	sdlm_handle_t *h;
	uint64_t t0, t1, end;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (opt) {
		case 'l': ls = optarg; break;
		case 'm': mboxes = strtoul(optarg, NULL, 0); break;
		case 's': secs = strtod(optarg, NULL); break;
		case 'o': out = optarg; break;
		case 'c': count = strtoul(optarg, NULL, 0); break;
		case 'S': p.stream = optarg; break;
		case 'n': p.node = strtoul(optarg, NULL, 0); break;
		case 'r': p.rate = strtod(optarg, NULL); break;
		case 'a': p.at_ns = strtoull(optarg, NULL, 0); break;
		case 'L': p.log = optarg; break;
		case 'H': p.hist = optarg; break;
		default: return 2;
		}
	}
	if (p.stream) {
		if ((strcmp(p.stream, "cached") && strcmp(p.stream, "new") &&
		     strcmp(p.stream, "shared")) || !p.node || p.rate <= 0 ||
		    p.rate > 1e6 || !p.at_ns || secs <= 0 || !p.log || !p.hist || !mboxes) {
			fprintf(stderr, "uidbench: --stream cached|new|shared needs --node, "
				"--rate, --at, --secs, --log and --history\n");
			return 2;
		}
		p.ls = ls;
		p.mboxes = mboxes;
		p.secs = secs;
		return run_paced(&p);
	}
	if (!mboxes || secs <= 0 || !count || count > 1000000)
		return 2;
	rc = sdlm_connect(NULL, &h);
	if (rc) {
		fprintf(stderr, "uidbench: connect: %s\n", sdlm_strerror(rc));
		return 1;
	}
	for (i = 0; i < mboxes; i++) {
		snprintf(name, sizeof(name), "bench.%lu", i);
		rc = uid_one(h, ls, name, (uint32_t)count);
		if (rc)
			goto out;
	}
	/* The timed loop starts now (tests/bench profile waits for this). */
	fprintf(stderr, "uidbench: warm\n");
	t0 = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	for (t1 = t0, i = 0; t1 < end; i = (i + 1) % mboxes) {
		uint64_t a = t1;

		snprintf(name, sizeof(name), "bench.%lu", i);
		rc = uid_one(h, ls, name, (uint32_t)count);
		if (rc)
			goto out;
		t1 = now_ns();
		rc = samples_add(&s, t1 - a);
		if (rc)
			goto out;
	}
	samples_report(&s, "uid", t1 - t0, stdout);
	printf("uids %lu per call, uids_s %.0f\n", count,
	       s.s_n * (double)count / ((t1 - t0) / 1e9));
	rc = samples_write(&s, out);
out:
	if (rc)
		fprintf(stderr, "uidbench: %s\n", sdlm_strerror(rc));
	samples_free(&s);
	sdlm_disconnect(h);
	return rc ? 1 : 0;
}
