/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xportsim.h - a deterministic network of dlm/core/xport.c endpoints, shared by
 * the unit test (tests/unit/test_xport.c) and the benchmark
 * (tests/bench.d/xportbench.c).
 *
 * Endpoints are nodes 1..n, incarnation 1000 + node, one key.  The channel
 * is one seeded PRNG (xorshift64*): each frame is lost with probability
 * loss, else delivered after a one-way delay uniform in [delay_min,
 * delay_max] (so frames overtake each other when the range is wide), and
 * with probability dup a second copy with its own delay.  Time is
 * simulated: xsim_step() jumps to the next event, a frame's arrival or an
 * endpoint's timer deadline (ties: timers first, frames in send order).
 *
 * A message xport_send() refuses with -EAGAIN (window full) waits in the
 * sender's backlog for that peer and is sent as soon as an ack opened the
 * window: the application's side of back-pressure.
 */
#ifndef SDLM_TEST_XPORTSIM_H
#define SDLM_TEST_XPORTSIM_H

#include <stdbool.h>
#include <stdint.h>

#include "xport.h"

#define XSIM_MAX	8

struct xsim_cfg {
	unsigned	n;		/* endpoints, 2..XSIM_MAX */
	double		loss, dup;	/* per frame */
	uint64_t	delay_min, delay_max;	/* one way, ns */
	uint64_t	seed;
};

struct xsim_stats {
	uint64_t	frames, lost, duplicated;
	uint64_t	eagain;		/* sends that went to a backlog */
	uint64_t	refused;	/* xport_input errors */
	uint64_t	resets;
};

struct xsim;

/* Called for every message an endpoint delivers; may call xsim_send(). */
typedef void (*xsim_deliver_fn)(struct xsim *s, void *arg, uint32_t to,
				const struct xport_rx *rx);

int xsim_new(const struct xsim_cfg *cfg, xsim_deliver_fn fn, void *arg,
	     struct xsim **s);
void xsim_free(struct xsim *s);

/* Send (or queue behind a full window) one message from -> to.  0 or the
 * error of xport_send() other than -EAGAIN. */
int xsim_send(struct xsim *s, uint32_t from, uint32_t to, uint64_t epoch,
	      const void *data, size_t len);

/* Processes the next event; false when nothing is pending at all. */
bool xsim_step(struct xsim *s);

uint64_t xsim_now(const struct xsim *s);
struct xport *xsim_xport(struct xsim *s, uint32_t node);
const struct xsim_stats *xsim_stats(const struct xsim *s);
/* Messages waiting in backlogs (not yet accepted by xport_send). */
unsigned xsim_backlog(const struct xsim *s);

#endif
