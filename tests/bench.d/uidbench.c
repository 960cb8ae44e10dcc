/*
 * uidbench.c - UID allocation through libsdlm on one node: one
 * sdlm_uid_alloc(count 1) + sdlm_uid_commit per sample, the cost of one
 * delivery's UID.  Prints numbers, asserts nothing.
 *
 *   uidbench --ls LS --mailboxes M [--secs S] [--samples FILE]
 *
 * The mailboxes are "bench.0" .. "bench.<M-1>", used round robin.  A first
 * untimed pass allocates once in each, so the timed loop measures the
 * steady state: the node holds every mailbox's UID lock cached and a
 * reserved range (adaptive size, docs/uid.md), and a disk write happens
 * only when a range is used up.  M = 1 is one hot mailbox; a large M is a
 * busy server's many mailboxes.
 *
 * Prints: uid ops <n> secs <s> ops_s <r> p50_us <..> p99_us <..> max_us <..>
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

struct samples {
	uint64_t	*s_ns;
	size_t		s_n, s_cap;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Returns 0 or -ENOMEM. */
static int samples_add(struct samples *s, uint64_t v)
{
	uint64_t *n;

	if (s->s_n == s->s_cap) {
		s->s_cap = s->s_cap ? s->s_cap * 2 : 4096;
		n = realloc(s->s_ns, s->s_cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->s_ns = n;
	}
	s->s_ns[s->s_n++] = v;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct_us(const struct samples *s, unsigned q)
{
	size_t i;

	if (!s->s_n)
		return 0;
	i = (s->s_n * q + 99) / 100;
	return s->s_ns[i ? i - 1 : 0] / 1e3;
}

/* One allocation of one UID, committed.  Returns 0 or the error. */
static int uid_one(sdlm_handle_t *h, const char *ls, const char *mbox)
{
	struct sdlm_uid_result r;
	int rc;

	rc = sdlm_uid_alloc(h, ls, mbox, 1, &r);
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
		{ NULL, 0, NULL, 0 },
	};
	const char *ls = "bench", *out = NULL;
	unsigned long mboxes = 1, i;
	double secs = 10;
	struct samples s = { 0 };
	char name[64];
	sdlm_handle_t *h;
	uint64_t t0, t1, end;
	int opt, rc;
	FILE *f;

	while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (opt) {
		case 'l': ls = optarg; break;
		case 'm': mboxes = strtoul(optarg, NULL, 0); break;
		case 's': secs = strtod(optarg, NULL); break;
		case 'o': out = optarg; break;
		default: return 2;
		}
	}
	if (!mboxes || secs <= 0)
		return 2;
	rc = sdlm_connect(NULL, &h);
	if (rc) {
		fprintf(stderr, "uidbench: connect: %s\n", sdlm_strerror(rc));
		return 1;
	}
	for (i = 0; i < mboxes; i++) {
		snprintf(name, sizeof(name), "bench.%lu", i);
		rc = uid_one(h, ls, name);
		if (rc)
			goto out;
	}
	t0 = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	for (t1 = t0, i = 0; t1 < end; i = (i + 1) % mboxes) {
		uint64_t a = t1;

		snprintf(name, sizeof(name), "bench.%lu", i);
		rc = uid_one(h, ls, name);
		if (rc)
			goto out;
		t1 = now_ns();
		rc = samples_add(&s, t1 - a);
		if (rc)
			goto out;
	}
	qsort(s.s_ns, s.s_n, sizeof(*s.s_ns), cmp_u64);
	printf("uid ops %zu secs %.3f ops_s %.0f p50_us %.1f p99_us %.1f max_us %.1f\n",
	       s.s_n, (t1 - t0) / 1e9, s.s_n / ((t1 - t0) / 1e9), pct_us(&s, 50),
	       pct_us(&s, 99), s.s_n ? s.s_ns[s.s_n - 1] / 1e3 : 0.0);
	if (out && (f = fopen(out, "w"))) {
		for (i = 0; i < s.s_n; i++)
			fprintf(f, "%.1f\n", s.s_ns[i] / 1e3);
		fclose(f);
	}
out:
	if (rc)
		fprintf(stderr, "uidbench: %s\n", sdlm_strerror(rc));
	free(s.s_ns);
	sdlm_disconnect(h);
	return rc ? 1 : 0;
}
