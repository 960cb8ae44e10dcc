/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stats.h - the samples, clock and percentiles every program of
 * tests/bench.d shares (one definition, so every figure of the table is
 * computed the same way).
 *
 * A sample is a duration in nanoseconds.  Percentiles are by nearest rank
 * (as tests/cluster/cpgprobe.c): the q-th percentile of n sorted samples
 * is the smallest sample with at least q% of the samples at or below it,
 * i.e. the sample of rank ceil(n * q / 100), rank 1 for q = 0.
 */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct samples {
	uint64_t	*s_ns;
	size_t		s_n, s_cap;
	int		s_sorted;
};

/* CLOCK_MONOTONIC in ns: one clock for every node of a test cluster. */
uint64_t now_ns(void);

/* Sleeps until CLOCK_MONOTONIC reaches t (ns). */
void sleep_until(uint64_t t);

/* Appends one sample.  Returns 0 or -ENOMEM. */
int samples_add(struct samples *s, uint64_t ns);

/* Sorts the samples (percentiles need it; done once). */
void samples_sort(struct samples *s);

/* Nearest-rank percentile q (0..100) in microseconds; 0 if empty.
 * The samples must be sorted. */
double samples_pct_us(const struct samples *s, unsigned q);

/* Largest sample in microseconds; 0 if empty.  Sorted samples. */
double samples_max_us(const struct samples *s);

/* Sorts, then prints " p50_us <..> p99_us <..> max_us <..>\n" to f. */
void samples_print_lat(struct samples *s, FILE *f);

/* Sorts, then writes every sample in microseconds, one a line, to path
 * (nothing if path is NULL).  Returns 0 or -errno. */
int samples_write(struct samples *s, const char *path);

/* Sorts, then prints "<label> ops <n> secs <s> ops_s <r>" and the
 * latency fields of samples_print_lat() to f; ns = the measured span. */
void samples_report(struct samples *s, const char *label, uint64_t ns, FILE *f);

void samples_free(struct samples *s);

#endif
