/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hist.h - a latency histogram in the Prometheus way: fixed bucket bounds
 * in seconds, the sum and the count.  Observing is O(buckets) with no
 * allocation; hist_render prints the _bucket (cumulative, ending with
 * le="+Inf" equal to _count), _sum and _count lines.
 */
#ifndef SDLM_HIST_H
#define SDLM_HIST_H

#include <stdint.h>

#include "render.h"

/* Upper bounds in microseconds: 0.5 ms .. 10 s. */
#define HIST_NB 14
static const uint64_t hist_le_us[HIST_NB] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000,
};

struct hist {
	uint64_t b[HIST_NB + 1];	/* per bucket (not cumulative); last: above */
	uint64_t sum_ns, count;
};

static inline void hist_observe_ns(struct hist *h, uint64_t ns)
{
	uint64_t us = ns / 1000;
	int i = 0;

	while (i < HIST_NB && us > hist_le_us[i])
		i++;
	h->b[i]++;
	h->sum_ns += ns;
	h->count++;
}

/* NAME_bucket{node="N",le="..."}: cumulative counts, seconds. */
static inline void hist_render(struct sbuf *b, const char *name, const char *help,
			       uint32_t node, const struct hist *h)
{
	uint64_t cum = 0;
	int i;

	sb_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (i = 0; i < HIST_NB; i++) {
		cum += h->b[i];
		sb_printf(b, "%s_bucket{node=\"%u\",le=\"%g\"} %llu\n", name, node,
			  (double)hist_le_us[i] / 1e6, (unsigned long long)cum);
	}
	cum += h->b[HIST_NB];
	sb_printf(b, "%s_bucket{node=\"%u\",le=\"+Inf\"} %llu\n", name, node, (unsigned long long)cum);
	sb_printf(b, "%s_sum{node=\"%u\"} %.9f\n", name, node, (double)h->sum_ns / 1e9);
	sb_printf(b, "%s_count{node=\"%u\"} %llu\n", name, node, (unsigned long long)h->count);
}

#endif
