/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xport.h - the fast path's point-to-point transport (docs/design-fastpath.md
 * 2.2, docs/protocol.md "Fast-path transport"): reliable, in-order,
 * exactly-once delivery of messages between sdlmd peers over a datagram
 * network that drops, duplicates and reorders.  Pure: no sockets, no
 * clock (time is an argument, CLOCK_MONOTONIC ns), no globals, no
 * allocation after xport_new().  sdlmd's edge (xpedge.c) carries it over
 * UDP; its only message yet is the echo: the masters that will use it are
 * a later step of section 7.
 *
 * ---- The frame ----
 *
 *	offset  size  field
 *	     0     4  magic          0x584c4453 ("SDLX" as bytes)
 *	     4     2  major          XP_MAJOR; another major: SDLM_EVERSION
 *	     6     2  minor          the sender's minor (information)
 *	     8     2  flags          XP_F_HELLO or 0
 *	    10     1  nsack          SACK blocks that follow the header, 0..4
 *	    11     1  reserved       zero
 *	    12     4  src_node       sender's corosync node id, non-zero
 *	    16     4  dst_node       receiver's node id, non-zero, != src_node
 *	    20     4  payload_len    bytes of payload, 0..XP_PAYLOAD_MAX
 *	    24     8  src_inc        sender daemon's incarnation, non-zero
 *	    32     8  dst_inc        receiver's incarnation as the sender knows
 *	                             it; 0 only in a HELLO
 *	    40     8  epoch          the lock layer's (master epoch); carried,
 *	                             never judged here
 *	    48     8  seq            message sequence number from 1; 0: no
 *	                             message (an ack-only frame or a HELLO)
 *	    56     8  ack            cumulative: every seq <= ack received
 *	    64  8*nsack  SACK        per block: off u32, len u32: the seqs
 *	                             ack+off .. ack+off+len-1 are received too
 *	     …     P  payload
 *	     …    16  tag            HMAC-SHA256(key, every byte before),
 *	                             first 16 bytes
 *
 * All integers little-endian; length = 64 + 8 * nsack + P + 16, at most
 * XP_FRAME_MAX (one UDP datagram on a 1500-byte MTU, never fragmented).
 *
 * Three kinds: a DATA frame (seq >= 1, P >= 1) carries one message and
 * piggybacks the ack state of the reverse stream; an ACK frame (seq 0,
 * P 0) only acknowledges; a HELLO (flag, dst_inc 0, seq 0, ack 0, no
 * SACK, P 0) asks an unknown peer for its incarnation.
 *
 * xport_frame_decode() checks, in this order, each with its own error, and
 * reads no byte before its length is known to be inside the buffer:
 *	len < 80 or len > XP_FRAME_MAX				SDLM_EPROTO
 *	magic							SDLM_EMAGIC
 *	major							SDLM_EVERSION
 *	nsack > XP_SACK_MAX, or 64 + 8*nsack + P + 16 != len	SDLM_EPROTO
 *	  (a length lie)
 *	tag: the HMAC with the caller's key			-EBADMSG
 *	header: unknown flags, reserved set, a node id zero,
 *	  src_node == dst_node, src_inc zero			SDLM_EPROTO
 *	kind: HELLO with dst_inc, seq, ack, SACK or payload; not a
 *	  HELLO with dst_inc zero; seq zero with a payload or a
 *	  payload without seq; P > XP_PAYLOAD_MAX		SDLM_EPROTO
 *	SACK blocks: off < 2 (a block right after ack would be
 *	  part of it), len zero, not ascending with a gap of at
 *	  least one seq between blocks, a block ending above
 *	  ack + XP_WINDOW (no receiver buffers more), overflow	SDLM_EPROTO
 * The tag is checked before any field is trusted: a frame of another
 * cluster (another key) or a forged one is -EBADMSG, whatever its fields.
 *
 * ---- The streams ----
 *
 * Each endpoint (node, incarnation) keeps per peer one send stream and one
 * receive stream.  Send: messages get seq 1, 2, ... in xport_send() order;
 * at most XP_WINDOW are unacknowledged (the send window); a full window is
 * back-pressure: xport_send() returns -EAGAIN and keeps nothing (the
 * caller keeps the message and tries again after an ack moved the window:
 * xport_send_space()).  Receive: the message with the next seq is
 * delivered, with every buffered one that follows it; a later one waits
 * in the reorder buffer (XP_WINDOW slots, enough for everything an honest
 * sender may have in flight); one beyond the buffer is refused (-ERANGE)
 * and not acknowledged, so its sender sends it again: the buffer being
 * full never loses a message.  A seq already delivered, or already
 * buffered, is a duplicate: never delivered again, acknowledged again.
 * Every DATA frame received is answered by an ACK frame in the same
 * call's output, unless a DATA frame to that peer in the same output
 * carries the ack already.
 *
 * Retransmission.  RTT samples come from acks of messages sent exactly
 * once (Karn: an ack of a retransmitted message is ambiguous, no sample);
 * srtt and rttvar as RFC 6298 (first sample R: srtt = R, rttvar = R/2;
 * then rttvar = 3/4 rttvar + 1/4 |srtt - R|, srtt = 7/8 srtt + 1/8 R);
 *	RTO = clamp(srtt + 4 * rttvar, rto_min, rto_max)
 * (2 ms, 100 ms by default; rto_initial before the first sample).  A
 * message not acknowledged RTO after a transmission is sent again; after
 * its third retransmission the interval doubles per retransmission
 * (2 RTO, 4 RTO, ...) up to backoff_max.  Fast retransmission: when an
 * ack (cumulative or SACK) covers a message transmitted at least srtt / 4
 * (the reordering allowance, RFC 8985's window) after the last
 * transmission of a message it does not cover, that message is sent again
 * at once, without waiting for its timer (messages sent closer together
 * may merely be reordered: they wait for a later ack or their timer).  A
 * SACKed message is never sent again.
 *
 * Incarnations.  They grow across restarts of a node's daemon (sdlmd:
 * milliseconds << 20, never at or below the one its heartbeat slot
 * names; none above it, it refuses to start: fencesm's
 * self_incarnation), so "newer" is "greater".  A DATA or ACK frame names the
 * receiver's incarnation; a
 * node that does not know a peer's incarnation yet queues its messages
 * (in the window) and sends a HELLO (retransmitted on the RTO like a
 * message), answered by an ACK frame; xport_peer_learn() skips that when
 * the caller knows the incarnation already (e.g. from CPG).
 *
 * The caller's word is final.  Every holder of the cluster's one key can
 * sign a frame as any node with any incarnation, and "greater is newer":
 * a frame naming 2^64 - 1 would otherwise be a restart that no later
 * daemon of that node could follow.  So an incarnation the caller vouched
 * for (xport_peer_learn) is moved by the caller only: a frame of a newer
 * one is refused (-ESRCH) and not acknowledged, so it is sent again and
 * taken once the caller learns the restart (sdlmd: at its next read of
 * the heartbeat slots); and an incarnation a frame taught (a HELLO, for a
 * peer the caller named none for) gives way to the caller's, older or
 * newer (a reset, reported).  Only the caller's own word is monotonic: a
 * learnt incarnation older than the vouched one is -ESTALE.
 *
 * xport_input() refuses:
 *	a frame for another node				-EXDEV
 *	a frame from an incarnation of the peer older than the one
 *	  it knows (a packet of a daemon that restarted since)	-ESTALE
 *	a frame from a newer incarnation than the one the
 *	  caller vouched for (not acknowledged)			-ESRCH
 *	a DATA or ACK frame naming another incarnation of this
 *	  node (sent to a predecessor): refused, and a DATA frame
 *	  is answered by an ACK frame that tells the sender who
 *	  is here now						-EIDRM
 *	an ack of a seq never sent, a SACK block above it	-ERANGE
 *	a seq beyond the reorder buffer				-ERANGE
 *	a new peer when max_peers are known			-ENOSPC
 *	a node the fixed peer list (cfg peers) does not name	-EPERM
 * A frame from a newer incarnation of a peer known from frames only (it
 * restarted), or a learnt incarnation other than the known one, resets
 * both streams with that peer: its unacknowledged messages are dropped and
 * reported (struct xport_reset: "never silent loss"; they were meant for
 * a daemon that is gone), buffered ones of the old incarnation discarded,
 * sequence numbers start at 1 again.  Frames of the old incarnation are
 * refused from then on.
 *
 * Taking a delivery back.  A delivered message counts as taken by the
 * caller: it is acknowledged in the same call's output.  A caller that
 * cannot take one (its buffer for it is full) calls xport_unack() on that
 * output before sending its frames: the message and every later one of
 * that peer are no longer delivered, the output's frames to the peer are
 * encoded again with the cumulative ack before it, and the ones that had
 * waited in the reorder buffer go back into it.  The sender sends the
 * refused message again: on its timer when it was never SACKed; at once
 * when it was (the ack stops right before a message the peer SACKed: the
 * receiver took it back, so the SACK no longer holds).  Every message is
 * still delivered in order and taken once.
 *
 * Giving up.  A peer that stops answering (its node died, its daemon
 * hangs) would otherwise have every message of its window retransmitted
 * at backoff_max for ever, and its sender never told.  When a message has
 * waited give_up (5 s by default) since its first transmission, the peer
 * is unreachable: reported once (struct xport_reach, with the messages
 * that wait), xport_send() to it refuses (-EHOSTDOWN) instead of queuing,
 * and of its window only the oldest unacknowledged message is sent again,
 * once every backoff_max: the probe.  The queued messages are kept, not
 * dropped: the peer may be alive behind a cut, and its receive stream
 * waits for exactly these sequence numbers.  The first acceptable frame
 * of that incarnation makes it reachable again (reported; the rest of
 * the window goes at once); a new incarnation (a reset) drops the window
 * as ever.  What the layer above does about an unreachable peer is its
 * own (sdlmd: logged and counted; membership and fencing stay
 * corosync's).  A HELLO that is never answered is not given up on: it
 * goes once every backoff_max and nothing else waits behind it but the
 * queued messages.
 *
 * Every call fills a struct xport_out: the frames to send now (in order),
 * the messages to deliver (in order), a reset if one happened, the peers
 * given up on or back (reach), and the
 * next timer deadline (xport_timer() is due then; XP_NEVER: none), a
 * refused call's output too (its deadline is the one before the call).
 * Pointers in the output are valid until the next call on the xport (and,
 * for a delivery out of xport_input(), while its input buffer lives).
 *
 * All functions return 0 or a negative errno / sdlm domain error.
 */
#ifndef SDLM_XPORT_H
#define SDLM_XPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

#define XP_MAGIC		0x584c4453u	/* "SDLX" little-endian */
#define XP_MAJOR		1
#define XP_MINOR		0

#define XP_HDR_LEN		64
#define XP_SACK_LEN		8
#define XP_SACK_MAX		4
#define XP_TAG_LEN		16
#define XP_FRAME_MIN		(XP_HDR_LEN + XP_TAG_LEN)
#define XP_FRAME_MAX		1472	/* 1500 - IPv4 20 - UDP 8 */
#define XP_PAYLOAD_MAX		(XP_FRAME_MAX - XP_HDR_LEN - \
				 XP_SACK_MAX * XP_SACK_LEN - XP_TAG_LEN)

#define XP_F_HELLO		0x1u
#define XP_F_ALL		0x1u

/* Send window and reorder buffer, in messages, per peer. */
#define XP_WINDOW		64
/* Frames one call may output: the most one xport_input() can need. */
#define XP_OUT_MAX		(2 * XP_WINDOW + 4)

#define XP_NEVER		UINT64_MAX

/* ---- HMAC-SHA256 (RFC 2104) and the frame codec ---- */

/* A key, prepared once: the inner and outer hash states after the pads. */
struct xport_key {
	struct sha256	xk_inner;
	struct sha256	xk_outer;
};

void xport_key_init(struct xport_key *k, const void *key, size_t len);
void xport_hmac(const struct xport_key *k, const void *data, size_t len,
		uint8_t out[SHA256_LEN]);

struct xport_sack {
	uint64_t	start;	/* first seq of the block */
	uint64_t	end;	/* one past the last */
};

/* The host view of one frame. */
struct xport_frame {
	uint16_t	f_minor;	/* decode: sender's; encode: ignored */
	uint16_t	f_flags;
	uint32_t	f_src_node;
	uint32_t	f_dst_node;
	uint64_t	f_src_inc;
	uint64_t	f_dst_inc;
	uint64_t	f_epoch;
	uint64_t	f_seq;
	uint64_t	f_ack;
	unsigned	f_nsack;
	struct xport_sack f_sack[XP_SACK_MAX];
	const uint8_t	*f_payload;	/* decode: points into the buffer */
	uint32_t	f_len;
};

/* Encoded length of f (no check). */
size_t xport_frame_len(const struct xport_frame *f);

/*
 * Encode and sign f into buf (len bytes).  Refuses (-EINVAL) anything
 * xport_frame_decode() would refuse; -ENOSPC if len is too small.
 * *written gets the frame length.
 */
int xport_frame_encode(const struct xport_frame *f, const struct xport_key *k,
		       void *buf, size_t len, size_t *written);

/* Verify and decode (errors in the order listed at the top).  On error f
 * is zeroed. */
int xport_frame_decode(const void *buf, size_t len, const struct xport_key *k,
		       struct xport_frame *f);

/* ---- the endpoint ---- */

struct xport_cfg {
	uint32_t	node;		/* this node, non-zero */
	uint64_t	incarnation;	/* this daemon, non-zero */
	const void	*key;		/* HMAC key, 1.. bytes */
	size_t		keylen;
	unsigned	max_peers;	/* 1..1024; ignored with peers */
	/* The only nodes this endpoint exchanges frames with (sdlmd's edge:
	 * corosync's nodelist), npeers (0..1024) distinct ids, neither 0 nor
	 * node; a frame of any other node is refused (-EPERM) after its tag
	 * and takes no place.  NULL: any node, the first max_peers to come. */
	const uint32_t	*peers;
	unsigned	npeers;
	/* 0 = default: 2 ms, 100 ms, 100 ms, 1 s (ns) */
	uint64_t	rto_min, rto_max, rto_initial, backoff_max;
	/* A message unacknowledged this long after its first transmission
	 * makes its peer unreachable (0 = default: 5 s; at least
	 * backoff_max). */
	uint64_t	give_up;
};

struct xport_tx {		/* a frame to send */
	uint32_t	node;
	const uint8_t	*buf;
	size_t		len;
};

struct xport_rx {		/* a message to deliver, in order */
	uint32_t	node;
	uint64_t	incarnation;	/* the sender's */
	uint64_t	epoch;
	uint64_t	seq;
	const uint8_t	*data;
	size_t		len;
};

struct xport_reset {		/* the peer restarted: its streams start over */
	uint32_t	node;
	uint64_t	old_inc, new_inc;
	unsigned	dropped;	/* our unacknowledged messages, lost */
};

/* A peer given up on, or back (the rules at the top, "Giving up"). */
struct xport_reach {
	uint32_t	node;
	uint64_t	incarnation;
	bool		reachable;	/* false: given up on; true: back */
	unsigned	pending;	/* our unacknowledged messages */
};

/* Reports of one call; more wait for the next xport_timer (due at once). */
#define XP_REACH_MAX		8

struct xport_out {
	struct xport_tx	tx[XP_OUT_MAX];
	unsigned	ntx;
	struct xport_rx	rx[XP_WINDOW];
	unsigned	nrx;
	bool		has_reset;
	struct xport_reset reset;
	struct xport_reach reach[XP_REACH_MAX];
	unsigned	nreach;
	uint64_t	deadline;	/* next xport_timer(); XP_NEVER: none */
};

/* What xport_peer_info() reports (tests, metrics, the benchmark). */
struct xport_peer_info {
	uint64_t	incarnation;	/* 0: not known yet */
	uint64_t	srtt, rttvar, rto;	/* ns; srtt 0: no sample yet */
	uint64_t	snd_una, snd_next, rcv_next;
	unsigned	inflight;	/* unacknowledged messages */
	bool		unreachable;	/* given up on ("Giving up") */
	uint64_t	sent, retransmits, fast_retransmits, rtt_samples;
	uint64_t	delivered, duplicates, refused;
	uint64_t	unacked;	/* deliveries taken back (xport_unack) */
	uint64_t	reneged;	/* SACKed messages the peer took back */
};

struct xport;

/* Allocates everything the endpoint will ever need.  -EINVAL: a bad cfg. */
int xport_new(const struct xport_cfg *cfg, struct xport **xp);
void xport_free(struct xport *xp);

/* The epoch ACK frames and HELLOs carry (DATA frames carry their own). */
void xport_set_epoch(struct xport *xp, uint64_t epoch);

/* The caller knows node's incarnation (e.g. from CPG or the heartbeat
 * slots): no HELLO needed, and from now on only the caller moves it (the
 * rules at the top).  Another one than known resets the streams (out gets
 * the reset); -ESTALE: older than one the caller vouched for. */
int xport_peer_learn(struct xport *xp, uint32_t node, uint64_t inc,
		     uint64_t now, struct xport_out *out);

/*
 * Queue one message (1..XP_PAYLOAD_MAX bytes, copied) for node and send
 * it now if node's incarnation is known, else a HELLO.  -EAGAIN: the send
 * window is full (nothing kept); -EHOSTDOWN: node is given up on (nothing
 * kept: "Giving up"); -EMSGSIZE; -EINVAL: node 0 or ourselves;
 * -ENOSPC: a new peer beyond max_peers; -EPERM: not in the fixed list.
 */
int xport_send(struct xport *xp, uint32_t node, uint64_t epoch,
	       const void *data, size_t len, uint64_t now,
	       struct xport_out *out);

/* Messages xport_send() to node would accept now (XP_WINDOW for an
 * unknown peer). */
unsigned xport_send_space(const struct xport *xp, uint32_t node);

/* One datagram received (errors: the decoder's, then the list above; out
 * is valid whatever the result: a refused frame may still be answered). */
int xport_input(struct xport *xp, const void *buf, size_t len, uint64_t now,
		struct xport_out *out);

/*
 * The caller could not take message seq of node that out delivered (e.g.
 * the lock layer's queue for a later epoch is full): neither it nor any
 * later message of node counts as delivered or acknowledged.  They leave
 * out->rx (the caller must not act on them: in order means that none
 * after a refused one is taken either), the frames to node in out are
 * encoded again with the ack state taken back, and the peer sends them
 * again ("Taking a delivery back" at the top).  Only on the output of the
 * latest call, before its frames are sent.  -ENOENT: out is not the
 * latest output, or delivered no such message.
 */
int xport_unack(struct xport *xp, uint32_t node, uint64_t seq,
		struct xport_out *out);

/* The timer: retransmissions due at now. */
int xport_timer(struct xport *xp, uint64_t now, struct xport_out *out);

/* -ENOENT: node is no peer. */
int xport_peer_info(const struct xport *xp, uint32_t node,
		    struct xport_peer_info *info);

#endif /* SDLM_XPORT_H */
