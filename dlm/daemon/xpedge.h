/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpedge.h - the edge of the fast-path transport (docs/design-fastpath.md
 * 2.2 and 7 step 2; docs/protocol.md "Fast-path transport", "The edge"):
 * one UDP socket per daemon on its address of corosync's nodelist, the
 * frames of xport.h over it, the transport's timer, and its first user,
 * the echo (xpmsg.h; its decisions in the pure xpecho.h) that measures
 * the round trip to every peer.
 *
 * The pure transport decides (what to send, deliver, retransmit, when);
 * this file only moves bytes and time in the daemon's libqb loop, never
 * blocking it: a non-blocking socket read until EAGAIN, a send that would
 * block is dropped (the transport retransmits it), one loop timer set to
 * the transport's next deadline.  Time is CLOCK_MONOTONIC in ns.
 *
 * Every frame is verified (its HMAC tag) before anything in it is
 * trusted; one that fails is dropped and counted (auth_drops), never
 * decoded further.  Replays are the transport's: a sequence number
 * already delivered is acknowledged again and never delivered twice, a
 * frame names both daemons' incarnations, and the peers' incarnations are
 * learnt from their heartbeat slots (node_inc), so a frame of an older
 * daemon, replayed, is refused.
 */
#ifndef SDLM_XPEDGE_H
#define SDLM_XPEDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qb/qbloop.h>

#include "render.h"

struct xpedge_cfg {
	qb_loop_t	*loop;
	uint32_t	node;		/* this node (corosync's id) */
	uint64_t	incarnation;	/* this daemon */
	const char	*cluster;	/* the cluster's name: part of the key */
	uint16_t	port;		/* the same on every node */
	const char	*key_file;	/* the secret (corosync's authkey) */
	uint32_t	echo_ms;	/* 0: no echo */
	/* A peer daemon's incarnation as its heartbeat slot names it, 0
	 * when not known; asked before the first datagram is read and at
	 * every tick (the echo's interval, 1 s with the echo off). */
	uint64_t	(*node_inc)(void *ctx, uint32_t node);
	/* True once the slots have been read (node_inc's answers mean
	 * something): the socket is polled only from then on.  NULL: at
	 * once. */
	bool		(*slots_read)(void *ctx);
	void		*ctx;
};

/* Everything since the start (never reset: Prometheus counters). */
struct xpedge_stats {
	uint64_t	frames_sent;		/* datagrams handed to the kernel */
	uint64_t	frames_received;	/* datagrams read */
	uint64_t	send_errors;		/* refused by the kernel (retransmitted) */
	uint64_t	auth_drops;		/* failed the HMAC: dropped */
	uint64_t	foreign_drops;		/* from no peer's address and port:
						 * dropped before the HMAC */
	uint64_t	recv_errors;		/* recvfrom() failed (not EAGAIN) */
	uint64_t	malformed;		/* no frame of ours (length, magic, version, fields) */
	uint64_t	refused;		/* verified, refused by the transport's rules */
	uint64_t	retransmits;		/* messages sent again (timer and fast) */
	uint64_t	fast_retransmits;
	uint64_t	duplicates;		/* messages received again, not delivered */
	uint64_t	delivered;		/* messages delivered */
	uint64_t	resets;			/* a peer restarted */
	uint64_t	unreachable;		/* a peer given up on (xport.h) */
	uint64_t	echo_sent, echo_replies;
};

/*
 * Read the key, resolve the nodelist's addresses, open and bind the
 * socket, start the echo.  Blocks only here, before the loop runs (a
 * host name in the nodelist is resolved now, once).  0, or a negative
 * errno with err naming what is wrong and what to do.
 */
int xpedge_setup(const struct xpedge_cfg *cfg, char *err, size_t errlen);
void xpedge_close(void);
bool xpedge_on(void);

void xpedge_get_stats(struct xpedge_stats *st);

/* The "xport" part of sdlmctl status: text lines, or a JSON member
 * ,"xport":{...} (",\"xport\":null" when off). */
void xpedge_render(struct sbuf *b, bool json);

#endif /* SDLM_XPEDGE_H */
