/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * msg.h - the CPG wire protocol of a lockspace (pure: no I/O, no clock).
 *
 * Every message a lockspace member multicasts to the lockspace's CPG group
 * ("sdlm:<lockspace>") is one msg_encode() buffer:
 *
 *	offset  size  field
 *	     0     4  magic          0x434c4453 ("SDLC" as bytes)
 *	     4     2  major          MSG_MAJOR; another major: SDLM_EVERSION
 *	     6     2  minor          the sender's minor (information)
 *	     8     2  type           enum msg_type
 *	    10     2  flags          none defined in 1.0: must be zero
 *	    12     4  nodeid         sender's corosync node id, non-zero
 *	    16     8  incarnation    sender daemon's incarnation, non-zero
 *	    24     8  ring_id        last totem ring id the sender saw
 *	    32     8  seq            per-incarnation send counter, from 1
 *	    40     4  payload_len    bytes of payload
 *	    44     4  reserved       zero
 *	    48     P  payload        per type, below; P = payload_len
 *	  48+P     4  crc            crc32c(0, bytes [0, 48 + P))
 *
 * All integers little-endian; the total length is 48 + P + 4 and at most
 * MSG_MAX_LEN.  Payloads (P fixed per type except SNAPSHOT); a lock's
 * flags u32 are the wire values of LS_LKF_* (lockstate.h ls_lkf_wire):
 *
 *	REQUEST      80  lkid u64, mode u8, namelen u8, rsvd u16, flags u32,
 *	                 name[64] (zero padded)
 *	CONVERT      48  lkid u64, mode u8, has_lvb u8, rsvd u16, flags u32,
 *	RELEASE      48    lvb[32] (zero unless has_lvb); RELEASE: mode 0
 *	CANCEL        8  lkid u64
 *	NODE_STATUS   8  nodeid u32, status u32 (bit 0 hb_live, bit 1 pill)
 *	NODE_FENCED  16  nodeid u32, rsvd u32, incarnation u64
 *	GATE          8  open u8, rsvd[7]
 *	JOIN         40  proto_min u16, proto_max u16, flags u32 (MSG_JOIN_*),
 *	                 digest u64, formed_ring u64, gen u64, hist u32
 *	                 (MSG_HIST_*), rsvd u32: the sender's replica history
 *	HANDOFF_RELEASE  56  nodeid u32 (the away node V), has_lvb u8,
 *	                 rsvd[3], incarnation u64 (V's), lkid u64, lvb[32]
 *	                 (zero unless has_lvb; none: the value block is
 *	                 invalidated, as after a fence) - protocol 3
 *	HELD         88  lkid u64, epoch u64, mode u8, namelen u8, rsvd u16,
 *	                 rsvd u32, name[64] (zero padded): a lock the sender
 *	                 still holds, reported to a fresh replica that is
 *	                 rebuilt (docs/protocol.md "Rebuilding a fresh
 *	                 replica") - protocol 4
 *	SNAPSHOT  48+C+pad  xfer_id u64, basis_incarnation u64, basis_seq
 *	                 u64, basis_nodeid u32, total_len u32, offset u32,
 *	                 chunk_len u32 (= C), total_crc u32, rsvd u32, then C
 *	                 bytes of the snapshot, zero padded to a multiple of 8
 *
 * The lock events' node is the sender (header nodeid); NODE_STATUS,
 * NODE_FENCED, GATE and HANDOFF_RELEASE come from the fencer and name
 * their target in the payload.  Type values 1..8, 10 and 18 equal enum
 * ls_event_kind; 5 (CONFCHG) and 9 (HOLD) are no message: configuration
 * changes come from CPG itself, HOLD is local.
 *
 * msg_decode() checks, in this order, each with its own error, and reads
 * no payload byte before its length is known to be inside the buffer:
 *	len < 52 or len > MSG_MAX_LEN			SDLM_EPROTO
 *	magic						SDLM_EMAGIC
 *	major						SDLM_EVERSION
 *	48 + payload_len + 4 != len (a length lie)	SDLM_EPROTO
 *	CRC32C						SDLM_ECHECKSUM
 *	header: nodeid/incarnation zero, flags or reserved set	SDLM_EPROTO
 *	unknown type, payload size wrong for the type	SDLM_EPROTO
 *	payload fields: reserved/padding not zero, mode out of range,
 *	unknown lock flags, name length not 1..64, booleans not 0/1, LVB
 *	bytes without has_lvb, chunk outside total_len; HANDOFF_RELEASE:
 *	nodeid or incarnation 0, an lkid whose upper half is not nodeid;
 *	HELD: mode not one of the six (MODE_NONE included), name length
 *	not 1..64, name padding or reserved bytes not zero	SDLM_EPROTO
 * A valid CRC does not make a message sane; semantic rules (lock id of
 * the sender, membership) are ls_apply()'s, so every replica rejects the
 * same message alike and the requester learns why.
 *
 * Strict zero checks are safe across versions because nothing new is sent
 * before every member agreed to it: see msg_version_agree() and
 * msg_type_proto() (a type newer than MSG_PROTO_MIN is sent only once the
 * lockspace agreed to its protocol: an older member never receives it).
 *
 * All functions return 0 or a negative errno / sdlm domain error.
 */
#ifndef SDLM_MSG_H
#define SDLM_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lockstate.h"

#define MSG_MAGIC		0x434c4453u	/* "SDLC" little-endian */
#define MSG_MAJOR		1
#define MSG_MINOR		0

/* Protocol versions this build speaks (JOIN's range). */
#define MSG_PROTO_MIN		2
#define MSG_PROTO_MAX		4

#define MSG_HDR_LEN		48
#define MSG_CRC_LEN		4
#define MSG_OVERHEAD		(MSG_HDR_LEN + MSG_CRC_LEN)
/*
 * The largest message.  Well below libcpg's atomic message size (checked
 * by cpg.c at join), so libcpg never fragments one of ours and a
 * CS_ERR_TRY_AGAIN can never leave half a message in flight.
 */
#define MSG_MAX_LEN		65536
#define MSG_SNAP_HDR_LEN	48
/* Snapshot bytes per SNAPSHOT message (a multiple of 8: no padding). */
#define MSG_SNAP_CHUNK_MAX	(MSG_MAX_LEN - MSG_OVERHEAD - MSG_SNAP_HDR_LEN - 4)

enum msg_type {
	MSG_REQUEST	= 1,
	MSG_CONVERT	= 2,
	MSG_RELEASE	= 3,
	MSG_CANCEL	= 4,
	MSG_NODE_STATUS	= 6,
	MSG_NODE_FENCED	= 7,
	MSG_GATE	= 8,
	MSG_HANDOFF_RELEASE = 10,	/* protocol 3 */
	MSG_JOIN	= 16,
	MSG_SNAPSHOT	= 17,
	MSG_HELD	= 18,		/* protocol 4 */
};

struct msg_lock {		/* REQUEST, CONVERT, RELEASE, CANCEL */
	uint64_t	lkid;
	int		mode;	/* enum lk_mode; REQUEST, CONVERT */
	uint32_t	flags;	/* LS_LKF_*; REQUEST, CONVERT, RELEASE */
	uint8_t		namelen; /* REQUEST: 1..SDLM_NAME_MAX */
	uint8_t		name[SDLM_NAME_MAX];
	bool		has_lvb; /* CONVERT, RELEASE */
	uint8_t		lvb[LS_LVB_LEN];
};

struct msg_node_status {
	uint32_t	nodeid;
	bool		hb_live;
	bool		pill_pending;
};

struct msg_node_fenced {
	uint32_t	nodeid;
	uint64_t	incarnation;
};

struct msg_gate {
	bool		open;
};

/* HANDOFF_RELEASE: V's grant (incarnation, lkid) is released on V's
 * behalf, with the value block V's answer carried (docs/design-handoff.md
 * F2, F3).  lkid's upper half is V's node id. */
struct msg_handoff {
	uint32_t	nodeid;		/* V */
	uint64_t	incarnation;	/* V's, as its answer's record showed */
	uint64_t	lkid;
	bool		has_lvb;
	uint8_t		lvb[LS_LVB_LEN];
};

/*
 * HELD: one lock the sender still holds (cache state HELD or CONVERTING:
 * its granted mode), reported to a fresh replica that takes reports
 * (docs/protocol.md "Rebuilding a fresh replica").  epoch is the one its
 * grant carried (0 for a lock that never had a write tenure).  That the
 * lkid is the sender's, and whether the replica takes the report, are
 * ls_apply()'s rules (LS_EV_HELD).
 */
struct msg_held {
	uint64_t	lkid;
	uint64_t	epoch;
	int		mode;		/* enum lk_mode, granted */
	uint8_t		namelen;	/* 1..SDLM_NAME_MAX */
	uint8_t		name[SDLM_NAME_MAX];
};

/*
 * JOIN flags (docs/protocol.md "State transfer"): SYNC asks for the
 * lockspace state; TAINTED says the sender's replica was built while not
 * quorate (a minority side coming back), so an untainted member's state
 * wins.  CACHED (with SYNC): the sender still uses cluster locks it
 * cached before it lost its replica; if the round forms a fresh replica,
 * that replica grants nothing until the sender has reported CLEAN.
 * CLEAN: not a round's JOIN but that report - every lock user of the
 * sender's old cached locks is gone (killed and reaped).
 */
#define MSG_JOIN_SYNC		0x1u
#define MSG_JOIN_TAINTED	0x2u
#define MSG_JOIN_CACHED		0x4u
#define MSG_JOIN_CLEAN		0x8u
#define MSG_JOIN_ALL		0xfu

/*
 * The history a ready member's JOIN carries (protocol 2, docs/protocol.md
 * "Divergent replicas"): what every member needs to see, from the JOINs
 * alone, whether the ready members' replicas are one replica, and if not
 * which one survives.  REPLICA: the sender has one (else every field is
 * 0); DECIDED: the replica took a decision that must not be discarded (its
 * gate has been open, so it may have granted; or it fenced a node).
 * digest is ls_digest() right after the confchg that started the round;
 * formed_ring the ring id when the replica's lineage was formed fresh;
 * gen the rounds that lineage completed since.
 */
#define MSG_HIST_REPLICA	0x1u
#define MSG_HIST_DECIDED	0x2u
#define MSG_HIST_DROPPED	0x4u
#define MSG_HIST_ALL		0x7u
/*
 * DROPPED (only with SYNC, never with REPLICA): the sender has no replica
 * but had one, dropped (quorum lost, a divergence lost, fenced); formed_ring,
 * gen and DECIDED are that replica's at the drop, digest is 0.  A ready
 * replica older than a dropped one of its lineage (or of a later one) is
 * stale: lsround.c "A stale survivor".
 */

struct msg_join {
	uint16_t	proto_min;
	uint16_t	proto_max;
	uint32_t	flags;		/* MSG_JOIN_* */
	uint64_t	digest;
	uint64_t	formed_ring;
	uint64_t	gen;
	uint32_t	hist;		/* MSG_HIST_* */
	/*
	 * The round this JOIN answers: the conf_tag of the group confchg
	 * (struct ls_cpg_view) that started it, or the tag of a round that
	 * quorum's return started.  A JOIN is counted only in its own round:
	 * one sent for a round that a later confchg superseded may be
	 * delivered after that confchg, and its history (digest) is of the
	 * earlier point.  0 in a CLEAN report.
	 */
	uint64_t	round;
};

/*
 * One chunk of a state transfer.  The snapshot (ls_snapshot_encode bytes)
 * is the sender's state right after it applied the JOIN identified by
 * basis_*; a transfer is the chunks with one (sender, xfer_id), offsets
 * 0, C, 2C ... in order, total_crc = crc32c(0, snapshot, total_len).
 */
struct msg_snapshot {
	uint64_t	xfer_id;
	uint32_t	basis_nodeid;
	uint64_t	basis_incarnation;
	uint64_t	basis_seq;
	uint32_t	total_len;
	uint32_t	offset;
	uint32_t	total_crc;
	const uint8_t	*data;	/* chunk bytes; decode: points into the buffer */
	uint32_t	len;	/* chunk length, 1..MSG_SNAP_CHUNK_MAX */
};

/* The host view of one message. */
struct msg {
	enum msg_type	m_type;
	uint16_t	m_minor;	/* decode: sender's; encode: ignored */
	uint32_t	m_nodeid;
	uint64_t	m_incarnation;
	uint64_t	m_ring_id;
	uint64_t	m_seq;
	union {
		struct msg_lock		lock;
		struct msg_node_status	status;
		struct msg_node_fenced	fenced;
		struct msg_gate		gate;
		struct msg_handoff	handoff;
		struct msg_held		held;
		struct msg_join		join;
		struct msg_snapshot	snap;
	} u;
};

/* Encoded length of m, or 0 if m's type is unknown. */
size_t msg_encoded_len(const struct msg *m);

/*
 * Encode m into buf (len bytes).  Refuses (-EINVAL) anything msg_decode()
 * would refuse, so an insane message is never sent; -ENOSPC if len is too
 * small.  *written gets the message length.  buf must not overlap
 * m->u.snap.data (a decoded chunk points into its own buffer).
 */
int msg_encode(const struct msg *m, void *buf, size_t len, size_t *written);

/*
 * Decode and verify buf (errors in the order listed at the top).  On
 * success m->u.snap.data points into buf.  On error m is zeroed.
 */
int msg_decode(const void *buf, size_t len, struct msg *m);

/*
 * Make m safe to keep after the buffer it was decoded from is gone: a
 * SNAPSHOT chunk forgets its data (data = NULL, len kept); every other
 * type owns all its bytes already and is left exactly as it is.  (Never
 * clear a union member of a message of another type: u.snap.data
 * overlays the middle of a REQUEST's resource name.)
 */
void msg_detach(struct msg *m);

/*
 * Fill m's type and payload from a lock-state event (REQUEST, CONVERT,
 * RELEASE, CANCEL, NODE_STATUS, NODE_FENCED, GATE, HANDOFF_RELEASE, HELD);
 * the header fields are
 * left alone (cpg.c stamps them).  -EINVAL for CONFCHG or a field that
 * does not fit the wire (name length, mode, flags).
 */
int msg_from_event(const struct ls_event *ev, struct msg *m);

/*
 * The lock-state event a decoded message carries.  ev's name and LVB
 * point into m (keep m until ls_apply returns).  -EINVAL for JOIN and
 * SNAPSHOT, which are not lock-state events.
 */
int msg_to_event(const struct msg *m, struct ls_event *ev);

/*
 * Version negotiation.  Every member computes, from the JOIN ranges of
 * the current lockspace members (same ordered input, same answer):
 *	agreed = min over members of proto_max
 * and a member is compatible iff proto_min <= agreed.  compatible (may be
 * NULL) receives one flag per range.  Returns the number of incompatible
 * members (0 = all fine), or -EINVAL (n == 0, a range with min > max or
 * min == 0).
 */
struct msg_proto_range {
	uint16_t	proto_min;
	uint16_t	proto_max;
};

int msg_version_agree(const struct msg_proto_range *ranges, size_t n,
		      uint16_t *agreed, bool *compatible);

/*
 * The protocol version that introduced a type: MSG_PROTO_MIN for every
 * type a member may always send, 3 for HANDOFF_RELEASE, 4 for HELD; 0 for
 * an unknown type.  The sender sends a type only if this is <= MSG_PROTO_MIN or <=
 * the lockspace's agreed version (lspace_send_event, dlm/daemon/lockspace.c).
 */
uint16_t msg_type_proto(int type);

/* "REQUEST" ... "SNAPSHOT", "?" for anything else. */
const char *msg_type_name(int type);

#endif /* SDLM_MSG_H */
