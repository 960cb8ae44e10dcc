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
		{ NULL, 0, NULL, 0 },
	};
	const char *ls = "bench", *out = NULL;
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
		default: return 2;
		}
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
