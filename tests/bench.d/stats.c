/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stats.c - samples and nearest-rank percentiles for tests/bench.d
 * (stats.h).  Unit-tested by tests/unit/test_benchstats.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "stats.h"

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void sleep_until(uint64_t t)
{
	struct timespec ts = { (time_t)(t / 1000000000ull), (long)(t % 1000000000ull) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

int samples_add(struct samples *s, uint64_t ns)
{
	uint64_t *n;
	size_t cap;

	if (s->s_n == s->s_cap) {
		cap = s->s_cap ? s->s_cap * 2 : 4096;
		n = realloc(s->s_ns, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->s_ns = n;
		s->s_cap = cap;
	}
	s->s_ns[s->s_n++] = ns;
	s->s_sorted = 0;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void samples_sort(struct samples *s)
{
	if (!s->s_sorted && s->s_n)
		qsort(s->s_ns, s->s_n, sizeof(*s->s_ns), cmp_u64);
	s->s_sorted = 1;
}

double samples_pct_us(const struct samples *s, unsigned q)
{
	size_t rank;

	if (!s->s_n)
		return 0;
	if (q > 100)
		q = 100;
	rank = (s->s_n * q + 99) / 100;
	return s->s_ns[rank ? rank - 1 : 0] / 1e3;
}

double samples_max_us(const struct samples *s)
{
	return s->s_n ? s->s_ns[s->s_n - 1] / 1e3 : 0.0;
}

void samples_print_lat(struct samples *s, FILE *f)
{
	samples_sort(s);
	fprintf(f, " p50_us %.1f p99_us %.1f max_us %.1f\n", samples_pct_us(s, 50),
		samples_pct_us(s, 99), samples_max_us(s));
}

void samples_report(struct samples *s, const char *label, uint64_t ns, FILE *f)
{
	fprintf(f, "%s ops %zu secs %.3f ops_s %.0f", label, s->s_n, ns / 1e9,
		ns ? s->s_n / (ns / 1e9) : 0.0);
	samples_print_lat(s, f);
}

int samples_write(struct samples *s, const char *path)
{
	FILE *f;
	size_t i;
	int rc = 0;

	samples_sort(s);
	if (!path)
		return 0;
	f = fopen(path, "w");
	if (!f)
		return -errno;
	for (i = 0; i < s->s_n; i++)
		fprintf(f, "%.1f\n", s->s_ns[i] / 1e3);
	if (fclose(f) != 0)
		rc = -errno;
	return rc;
}

void samples_free(struct samples *s)
{
	free(s->s_ns);
	s->s_ns = NULL;
	s->s_n = s->s_cap = 0;
	s->s_sorted = 0;
}
