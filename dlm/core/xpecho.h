/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpecho.h - the echo of sdlmd's fast-path edge (xpedge.c), its decisions
 * taken out of the edge so that they can be tested: which peer gets a
 * request at a tick, what a delivered echo message asks for (a reply to
 * send, a round trip taken, nothing), and the figures per peer.  Pure: no
 * I/O, no clock (time is an argument, CLOCK_MONOTONIC ns), no globals.
 * The messages are xpmsg.h's.
 *
 * Per peer at most one request is outstanding.  At a tick the edge asks
 * xpecho_request() for each peer that has a daemon (its heartbeat slot
 * names one): a request is made when none is outstanding, or the
 * outstanding one is older than the give-up time (max(10 s, 10 echo
 * intervals): its reply was lost with a reset, or the peer is down), and
 * is outstanding once the edge says the transport took it
 * (xpecho_sent()).  A reset of the peer (it restarted) forgets it.
 *
 * A request delivered is answered with a reply of the same id and stamp.
 * A reply delivered is taken only when it is the outstanding request's
 * (same id, and the stamp that request carried, returned unchanged); its
 * round trip is the edge's clock at the delivery minus the time of the
 * request's send (xpecho_sent), never anything the reply carries: the
 * peer, or any holder of the key, cannot set our estimate.
 */
#ifndef SDLM_XPECHO_H
#define SDLM_XPECHO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xpmsg.h"

/* The give-up time's floor (ns) and its multiple of the interval. */
#define XPE_GIVEUP_MIN		10000000000ull
#define XPE_GIVEUP_INTERVALS	10

/* What a delivered message asked for (xpecho_input). */
enum xpe_verdict {
	XPE_REPLY = 1,		/* a request: send the reply in buf */
	XPE_RTT,		/* our outstanding request's reply: sampled */
	XPE_IGNORED,		/* a reply of none outstanding, or not ours */
};

struct xpe_figures {
	uint64_t	sent;		/* requests the transport took */
	uint64_t	replies;	/* round trips taken (rtt_n) */
	uint64_t	ignored;	/* replies not taken */
	uint64_t	rtt_last, rtt_min, rtt_max, rtt_sum;	/* ns */
	bool		outstanding;
};

struct xpecho;

/*
 * For the peers nodes[0..n) (n 1..1024, distinct, non-zero), an echo every
 * interval_ns (> 0).  -EINVAL, -ENOMEM.
 */
int xpecho_new(const uint32_t *nodes, unsigned n, uint64_t interval_ns,
	       struct xpecho **ep);
void xpecho_free(struct xpecho *e);

/*
 * At a tick: 1 with a request for node in buf (send it, then call
 * xpecho_sent() if the transport took it), 0: one is outstanding and not
 * given up yet; -ENOENT: no such peer.
 */
int xpecho_request(struct xpecho *e, uint32_t node, uint64_t now,
		   uint8_t buf[XPM_ECHO_LEN]);

/* The transport took the request xpecho_request() made last for node. */
void xpecho_sent(struct xpecho *e, uint32_t node, uint64_t now);

/*
 * A message node's daemon sent us, delivered at now: an enum xpe_verdict
 * (XPE_REPLY: buf holds the reply), or SDLM_EPROTO (no echo: another
 * type, length or reserved bytes; xpmsg_echo_decode), -ENOENT (no such
 * peer).
 */
int xpecho_input(struct xpecho *e, uint32_t node, const void *data, size_t len,
		 uint64_t now, uint8_t buf[XPM_ECHO_LEN]);

/* node restarted (the transport's reset): its outstanding request is
 * forgotten. */
void xpecho_reset(struct xpecho *e, uint32_t node);

/* -ENOENT: no such peer. */
int xpecho_figures(const struct xpecho *e, uint32_t node, struct xpe_figures *f);

#endif /* SDLM_XPECHO_H */
