/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * msg.c - every byte of a lockspace CPG message is laid out here.
 *
 * The wire structs below are the format (msg.h has the table, and
 * docs/protocol.md the same for humans): little-endian, naturally
 * aligned, explicit reserved fields, offsets pinned by _Static_assert.
 * Conversion is memcpy into a wire struct (no alignment assumption about
 * CPG's buffer) plus htole/letoh per field.
 *
 * One sanity predicate per payload serves both directions: msg_encode()
 * refuses to send what msg_decode() would refuse to read.  The encoder
 * works on the host struct, the decoder on the host struct it just built
 * from the wire, plus the wire-only checks (reserved bytes, booleans
 * that are bytes, padding).
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "crc32c.h"
#include "modes.h"
#include "msg.h"
#include "sdlm.h"

struct msg_hdr_wire {
	uint32_t	magic;
	uint16_t	major;
	uint16_t	minor;
	uint16_t	type;
	uint16_t	flags;
	uint32_t	nodeid;
	uint64_t	incarnation;
	uint64_t	ring_id;
	uint64_t	seq;
	uint32_t	payload_len;
	uint32_t	reserved;
};

struct msg_request_wire {
	uint64_t	lkid;
	uint8_t		mode;
	uint8_t		namelen;
	uint16_t	reserved;
	uint32_t	flags;
	uint8_t		name[SDLM_NAME_MAX];
};

/* CONVERT and RELEASE */
struct msg_lockop_wire {
	uint64_t	lkid;
	uint8_t		mode;
	uint8_t		has_lvb;
	uint16_t	reserved;
	uint32_t	flags;
	uint8_t		lvb[LS_LVB_LEN];
};

struct msg_cancel_wire {
	uint64_t	lkid;
};

#define MSG_STATUS_HB_LIVE	0x1u
#define MSG_STATUS_PILL		0x2u
#define MSG_STATUS_ALL		0x3u

struct msg_status_wire {
	uint32_t	nodeid;
	uint32_t	status;
};

struct msg_fenced_wire {
	uint32_t	nodeid;
	uint32_t	reserved;
	uint64_t	incarnation;
};

struct msg_gate_wire {
	uint8_t		open;
	uint8_t		reserved[7];
};

struct msg_handoff_wire {
	uint32_t	nodeid;
	uint8_t		has_lvb;
	uint8_t		reserved[3];
	uint64_t	incarnation;
	uint64_t	lkid;
	uint8_t		lvb[LS_LVB_LEN];
};

struct msg_held_wire {
	uint64_t	lkid;
	uint64_t	epoch;
	uint8_t		mode;
	uint8_t		namelen;
	uint16_t	reserved16;
	uint32_t	reserved;
	uint8_t		name[SDLM_NAME_MAX];
};

struct msg_join_wire {
	uint16_t	proto_min;
	uint16_t	proto_max;
	uint32_t	flags;		/* MSG_JOIN_* */
	uint64_t	digest;
	uint64_t	formed_ring;
	uint64_t	gen;
	uint32_t	hist;		/* MSG_HIST_* */
	uint32_t	reserved;
	uint64_t	round;
};

struct msg_snap_wire {
	uint64_t	xfer_id;
	uint64_t	basis_incarnation;
	uint64_t	basis_seq;
	uint32_t	basis_nodeid;
	uint32_t	total_len;
	uint32_t	offset;
	uint32_t	chunk_len;
	uint32_t	total_crc;
	uint32_t	reserved;
};

_Static_assert(sizeof(struct msg_hdr_wire) == MSG_HDR_LEN, "hdr size");
_Static_assert(offsetof(struct msg_hdr_wire, nodeid) == 12, "hdr nodeid");
_Static_assert(offsetof(struct msg_hdr_wire, incarnation) == 16, "hdr inc");
_Static_assert(offsetof(struct msg_hdr_wire, ring_id) == 24, "hdr ring");
_Static_assert(offsetof(struct msg_hdr_wire, seq) == 32, "hdr seq");
_Static_assert(offsetof(struct msg_hdr_wire, payload_len) == 40, "hdr plen");
_Static_assert(sizeof(struct msg_request_wire) == 80, "request size");
_Static_assert(offsetof(struct msg_request_wire, flags) == 12, "request flags");
_Static_assert(offsetof(struct msg_request_wire, name) == 16, "request name");
_Static_assert(sizeof(struct msg_lockop_wire) == 48, "lockop size");
_Static_assert(offsetof(struct msg_lockop_wire, lvb) == 16, "lockop lvb");
_Static_assert(sizeof(struct msg_cancel_wire) == 8, "cancel size");
_Static_assert(sizeof(struct msg_status_wire) == 8, "status size");
_Static_assert(sizeof(struct msg_fenced_wire) == 16, "fenced size");
_Static_assert(offsetof(struct msg_fenced_wire, incarnation) == 8, "fenced inc");
_Static_assert(sizeof(struct msg_gate_wire) == 8, "gate size");
_Static_assert(sizeof(struct msg_handoff_wire) == 56, "handoff size");
_Static_assert(offsetof(struct msg_handoff_wire, incarnation) == 8, "handoff inc");
_Static_assert(offsetof(struct msg_handoff_wire, lkid) == 16, "handoff lkid");
_Static_assert(offsetof(struct msg_handoff_wire, lvb) == 24, "handoff lvb");
_Static_assert(sizeof(struct msg_held_wire) == 88, "held size");
_Static_assert(offsetof(struct msg_held_wire, epoch) == 8, "held epoch");
_Static_assert(offsetof(struct msg_held_wire, mode) == 16, "held mode");
_Static_assert(offsetof(struct msg_held_wire, name) == 24, "held name");
_Static_assert(sizeof(struct msg_join_wire) == 48, "join size");
_Static_assert(offsetof(struct msg_join_wire, round) == 40, "join round");
_Static_assert(offsetof(struct msg_join_wire, digest) == 8, "join digest");
_Static_assert(offsetof(struct msg_join_wire, hist) == 32, "join hist");
_Static_assert(sizeof(struct msg_snap_wire) == MSG_SNAP_HDR_LEN, "snap size");
_Static_assert(offsetof(struct msg_snap_wire, basis_nodeid) == 24, "snap basis");
_Static_assert(offsetof(struct msg_snap_wire, total_crc) == 40, "snap crc");
_Static_assert(MSG_SNAP_CHUNK_MAX % 8 == 0, "chunks need no padding");
_Static_assert(MSG_OVERHEAD + MSG_SNAP_HDR_LEN + MSG_SNAP_CHUNK_MAX <= MSG_MAX_LEN,
	       "a full chunk fits a message");
_Static_assert(MSG_MAX_LEN <= UINT32_MAX, "payload_len is u32");

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* Payload length of a type; SNAPSHOT's depends on its chunk. 0 = unknown. */
static size_t payload_len(const struct msg *m)
{
	switch (m->m_type) {
	case MSG_REQUEST:
		return sizeof(struct msg_request_wire);
	case MSG_CONVERT:
	case MSG_RELEASE:
		return sizeof(struct msg_lockop_wire);
	case MSG_CANCEL:
		return sizeof(struct msg_cancel_wire);
	case MSG_NODE_STATUS:
		return sizeof(struct msg_status_wire);
	case MSG_NODE_FENCED:
		return sizeof(struct msg_fenced_wire);
	case MSG_GATE:
		return sizeof(struct msg_gate_wire);
	case MSG_HANDOFF_RELEASE:
		return sizeof(struct msg_handoff_wire);
	case MSG_HELD:
		return sizeof(struct msg_held_wire);
	case MSG_JOIN:
		return sizeof(struct msg_join_wire);
	case MSG_SNAPSHOT:
		return pad8(MSG_SNAP_HDR_LEN + (size_t)m->u.snap.len);
	}
	return 0;
}

static bool bytes_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* ---- the sanity predicate, shared by encode and decode ---- */

static bool lock_is_sane(enum msg_type type, const struct msg_lock *l)
{
	if ((l->flags & ~LS_LKF_ALL) != 0)
		return false;
	switch (type) {
	case MSG_REQUEST:
		return mode_valid(l->mode) && l->namelen >= 1 &&
		       l->namelen <= SDLM_NAME_MAX &&
		       bytes_zero(l->name + l->namelen, SDLM_NAME_MAX - l->namelen);
	case MSG_CONVERT:
		return mode_valid(l->mode) &&
		       (l->has_lvb || bytes_zero(l->lvb, LS_LVB_LEN));
	case MSG_RELEASE:
		return l->has_lvb || bytes_zero(l->lvb, LS_LVB_LEN);
	case MSG_CANCEL:
		return true;
	default:
		return false;
	}
}

/* A JOIN without a replica carries no history; one asking for the state
 * (SYNC) has no replica. */
static bool join_is_sane(const struct msg_join *j)
{
	if (j->proto_min < 1 || j->proto_min > j->proto_max ||
	    (j->flags & ~MSG_JOIN_ALL) || (j->hist & ~MSG_HIST_ALL))
		return false;
	if (j->hist & MSG_HIST_DROPPED)
		return !(j->hist & MSG_HIST_REPLICA) && (j->flags & MSG_JOIN_SYNC) &&
		       !j->digest;
	if (!(j->hist & MSG_HIST_REPLICA))
		return j->hist == 0 && !j->digest && !j->formed_ring && !j->gen;
	return !(j->flags & MSG_JOIN_SYNC);
}

static bool handoff_is_sane(const struct msg_handoff *h)
{
	return h->nodeid != 0 && h->incarnation != 0 &&
	       (h->lkid >> 32) == h->nodeid &&
	       (h->has_lvb || bytes_zero(h->lvb, LS_LVB_LEN));
}

static bool held_is_sane(const struct msg_held *h)
{
	return mode_valid(h->mode) && h->namelen >= 1 && h->namelen <= SDLM_NAME_MAX &&
	       bytes_zero(h->name + h->namelen, SDLM_NAME_MAX - h->namelen);
}

static bool snap_is_sane(const struct msg_snapshot *s)
{
	return s->len >= 1 && s->len <= MSG_SNAP_CHUNK_MAX && s->data &&
	       s->total_len >= 1 && s->offset < s->total_len &&
	       s->len <= s->total_len - s->offset && s->basis_nodeid != 0;
}

static bool msg_is_sane(const struct msg *m)
{
	if (m->m_nodeid == 0 || m->m_incarnation == 0)
		return false;
	switch (m->m_type) {
	case MSG_REQUEST:
	case MSG_CONVERT:
	case MSG_RELEASE:
	case MSG_CANCEL:
		return lock_is_sane(m->m_type, &m->u.lock);
	case MSG_NODE_STATUS:
		return m->u.status.nodeid != 0;
	case MSG_NODE_FENCED:
		return m->u.fenced.nodeid != 0 && m->u.fenced.incarnation != 0;
	case MSG_GATE:
		return true;
	case MSG_HANDOFF_RELEASE:
		return handoff_is_sane(&m->u.handoff);
	case MSG_HELD:
		return held_is_sane(&m->u.held);
	case MSG_JOIN:
		return join_is_sane(&m->u.join);
	case MSG_SNAPSHOT:
		return snap_is_sane(&m->u.snap);
	}
	return false;
}

/* ---- encode ---- */

size_t msg_encoded_len(const struct msg *m)
{
	size_t plen = payload_len(m);

	return plen ? MSG_OVERHEAD + plen : 0;
}

static void payload_out(const struct msg *m, uint8_t *p)
{
	switch (m->m_type) {
	case MSG_REQUEST: {
		struct msg_request_wire w = {
			.lkid = htole64(m->u.lock.lkid),
			.mode = (uint8_t)m->u.lock.mode,
			.namelen = m->u.lock.namelen,
			.flags = htole32(ls_lkf_wire(m->u.lock.flags)),
		};
		memcpy(w.name, m->u.lock.name, m->u.lock.namelen);
		memcpy(p, &w, sizeof(w));
		break;
	}
	case MSG_CONVERT:
	case MSG_RELEASE: {
		struct msg_lockop_wire w = {
			.lkid = htole64(m->u.lock.lkid),
			.mode = m->m_type == MSG_CONVERT ? (uint8_t)m->u.lock.mode : 0,
			.has_lvb = m->u.lock.has_lvb,
			.flags = htole32(ls_lkf_wire(m->u.lock.flags)),
		};
		if (m->u.lock.has_lvb)
			memcpy(w.lvb, m->u.lock.lvb, LS_LVB_LEN);
		memcpy(p, &w, sizeof(w));
		break;
	}
	case MSG_CANCEL: {
		struct msg_cancel_wire w = { .lkid = htole64(m->u.lock.lkid) };
		memcpy(p, &w, sizeof(w));
		break;
	}
	case MSG_NODE_STATUS: {
		struct msg_status_wire w = {
			.nodeid = htole32(m->u.status.nodeid),
			.status = htole32((m->u.status.hb_live ? MSG_STATUS_HB_LIVE : 0) |
					  (m->u.status.pill_pending ? MSG_STATUS_PILL : 0)),
		};
		memcpy(p, &w, sizeof(w));
		break;
	}
	case MSG_NODE_FENCED: {
		struct msg_fenced_wire w = {
			.nodeid = htole32(m->u.fenced.nodeid),
			.incarnation = htole64(m->u.fenced.incarnation),
		};
		memcpy(p, &w, sizeof(w));
		break;
	}
	case MSG_GATE: {
		struct msg_gate_wire w = { .open = m->u.gate.open ? 1 : 0 };
		memcpy(p, &w, sizeof(w));
		break;
	}
	case MSG_HANDOFF_RELEASE: {
		const struct msg_handoff *ho = &m->u.handoff;
		struct msg_handoff_wire w = {
			.nodeid = htole32(ho->nodeid),
			.has_lvb = ho->has_lvb ? 1 : 0,
			.incarnation = htole64(ho->incarnation),
			.lkid = htole64(ho->lkid),
		};
		if (ho->has_lvb)
			memcpy(w.lvb, ho->lvb, LS_LVB_LEN);
		memcpy(p, &w, sizeof(w));
		break;
	}
	case MSG_HELD: {
		struct msg_held_wire w = {
			.lkid = htole64(m->u.held.lkid),
			.epoch = htole64(m->u.held.epoch),
			.mode = (uint8_t)m->u.held.mode,
			.namelen = m->u.held.namelen,
		};
		memcpy(w.name, m->u.held.name, m->u.held.namelen);
		memcpy(p, &w, sizeof(w));
		break;
	}
	case MSG_JOIN: {
		struct msg_join_wire w = {
			.proto_min = htole16(m->u.join.proto_min),
			.proto_max = htole16(m->u.join.proto_max),
			.flags = htole32(m->u.join.flags),
			.digest = htole64(m->u.join.digest),
			.formed_ring = htole64(m->u.join.formed_ring),
			.gen = htole64(m->u.join.gen),
			.hist = htole32(m->u.join.hist),
			.round = htole64(m->u.join.round),
		};
		memcpy(p, &w, sizeof(w));
		break;
	}
	case MSG_SNAPSHOT: {
		const struct msg_snapshot *s = &m->u.snap;
		struct msg_snap_wire w = {
			.xfer_id = htole64(s->xfer_id),
			.basis_incarnation = htole64(s->basis_incarnation),
			.basis_seq = htole64(s->basis_seq),
			.basis_nodeid = htole32(s->basis_nodeid),
			.total_len = htole32(s->total_len),
			.offset = htole32(s->offset),
			.chunk_len = htole32(s->len),
			.total_crc = htole32(s->total_crc),
		};
		memcpy(p, &w, sizeof(w));
		memcpy(p + sizeof(w), s->data, s->len);
		break;
	}
	}
}

int msg_encode(const struct msg *m, void *buf, size_t len, size_t *written)
{
	size_t plen, total;
	struct msg_hdr_wire h;
	uint8_t *p = buf;
	uint32_t crc;

	if (!m || !buf || !msg_is_sane(m))
		return -EINVAL;
	plen = payload_len(m);
	total = MSG_OVERHEAD + plen;
	if (total > MSG_MAX_LEN)
		return -EINVAL;
	if (len < total)
		return -ENOSPC;

	h = (struct msg_hdr_wire){
		.magic = htole32(MSG_MAGIC),
		.major = htole16(MSG_MAJOR),
		.minor = htole16(MSG_MINOR),
		.type = htole16((uint16_t)m->m_type),
		.nodeid = htole32(m->m_nodeid),
		.incarnation = htole64(m->m_incarnation),
		.ring_id = htole64(m->m_ring_id),
		.seq = htole64(m->m_seq),
		.payload_len = htole32((uint32_t)plen),
	};
	memset(p, 0, total);	/* reserved bytes and chunk padding */
	memcpy(p, &h, sizeof(h));
	payload_out(m, p + MSG_HDR_LEN);
	crc = htole32(crc32c(0, p, MSG_HDR_LEN + plen));
	memcpy(p + MSG_HDR_LEN + plen, &crc, sizeof(crc));
	if (written)
		*written = total;
	return 0;
}

/* ---- decode ---- */

/*
 * Wire -> host for a payload whose length was checked against the type.
 * Returns false on a wire-only violation (reserved bytes, a boolean byte
 * that is neither 0 nor 1, padding); the shared predicate runs after.
 */
static bool payload_in(struct msg *m, const uint8_t *p, size_t plen)
{
	switch (m->m_type) {
	case MSG_REQUEST: {
		struct msg_request_wire w;

		memcpy(&w, p, sizeof(w));
		m->u.lock.lkid = le64toh(w.lkid);
		m->u.lock.mode = w.mode;
		m->u.lock.namelen = w.namelen;
		m->u.lock.flags = ls_lkf_wire(le32toh(w.flags));
		memcpy(m->u.lock.name, w.name, SDLM_NAME_MAX);
		return w.reserved == 0;
	}
	case MSG_CONVERT:
	case MSG_RELEASE: {
		struct msg_lockop_wire w;

		memcpy(&w, p, sizeof(w));
		m->u.lock.lkid = le64toh(w.lkid);
		m->u.lock.mode = w.mode;
		m->u.lock.has_lvb = w.has_lvb == 1;
		m->u.lock.flags = ls_lkf_wire(le32toh(w.flags));
		memcpy(m->u.lock.lvb, w.lvb, LS_LVB_LEN);
		if (m->m_type == MSG_RELEASE && w.mode != 0)
			return false;
		return w.reserved == 0 && w.has_lvb <= 1;
	}
	case MSG_CANCEL: {
		struct msg_cancel_wire w;

		memcpy(&w, p, sizeof(w));
		m->u.lock.lkid = le64toh(w.lkid);
		return true;
	}
	case MSG_NODE_STATUS: {
		struct msg_status_wire w;
		uint32_t st;

		memcpy(&w, p, sizeof(w));
		st = le32toh(w.status);
		m->u.status.nodeid = le32toh(w.nodeid);
		m->u.status.hb_live = st & MSG_STATUS_HB_LIVE;
		m->u.status.pill_pending = st & MSG_STATUS_PILL;
		return (st & ~MSG_STATUS_ALL) == 0;
	}
	case MSG_NODE_FENCED: {
		struct msg_fenced_wire w;

		memcpy(&w, p, sizeof(w));
		m->u.fenced.nodeid = le32toh(w.nodeid);
		m->u.fenced.incarnation = le64toh(w.incarnation);
		return w.reserved == 0;
	}
	case MSG_GATE: {
		struct msg_gate_wire w;

		memcpy(&w, p, sizeof(w));
		m->u.gate.open = w.open == 1;
		return w.open <= 1 && bytes_zero(w.reserved, sizeof(w.reserved));
	}
	case MSG_HANDOFF_RELEASE: {
		struct msg_handoff_wire w;

		memcpy(&w, p, sizeof(w));
		m->u.handoff.nodeid = le32toh(w.nodeid);
		m->u.handoff.has_lvb = w.has_lvb == 1;
		m->u.handoff.incarnation = le64toh(w.incarnation);
		m->u.handoff.lkid = le64toh(w.lkid);
		memcpy(m->u.handoff.lvb, w.lvb, LS_LVB_LEN);
		return w.has_lvb <= 1 &&
		       bytes_zero(w.reserved, sizeof(w.reserved));
	}
	case MSG_HELD: {
		struct msg_held_wire w;

		memcpy(&w, p, sizeof(w));
		m->u.held.lkid = le64toh(w.lkid);
		m->u.held.epoch = le64toh(w.epoch);
		m->u.held.mode = w.mode;
		m->u.held.namelen = w.namelen;
		memcpy(m->u.held.name, w.name, SDLM_NAME_MAX);
		return w.reserved16 == 0 && w.reserved == 0;
	}
	case MSG_JOIN: {
		struct msg_join_wire w;

		memcpy(&w, p, sizeof(w));
		m->u.join.proto_min = le16toh(w.proto_min);
		m->u.join.proto_max = le16toh(w.proto_max);
		m->u.join.flags = le32toh(w.flags);
		m->u.join.digest = le64toh(w.digest);
		m->u.join.formed_ring = le64toh(w.formed_ring);
		m->u.join.gen = le64toh(w.gen);
		m->u.join.hist = le32toh(w.hist);
		m->u.join.round = le64toh(w.round);
		return w.reserved == 0;
	}
	case MSG_SNAPSHOT: {
		struct msg_snap_wire w;
		uint32_t clen;

		if (plen < sizeof(w))
			return false;
		memcpy(&w, p, sizeof(w));
		clen = le32toh(w.chunk_len);
		/* the chunk must fill the payload up to its zero padding */
		if (clen == 0 || pad8(sizeof(w) + (size_t)clen) != plen)
			return false;
		m->u.snap.xfer_id = le64toh(w.xfer_id);
		m->u.snap.basis_incarnation = le64toh(w.basis_incarnation);
		m->u.snap.basis_seq = le64toh(w.basis_seq);
		m->u.snap.basis_nodeid = le32toh(w.basis_nodeid);
		m->u.snap.total_len = le32toh(w.total_len);
		m->u.snap.offset = le32toh(w.offset);
		m->u.snap.total_crc = le32toh(w.total_crc);
		m->u.snap.len = clen;
		m->u.snap.data = p + sizeof(w);
		return w.reserved == 0 &&
		       bytes_zero(p + sizeof(w) + clen, plen - sizeof(w) - clen);
	}
	}
	return false;
}

/* Fixed payload size of a type, SIZE_MAX for SNAPSHOT, 0 = unknown type. */
static size_t payload_len_of_type(uint16_t type)
{
	struct msg probe = { .m_type = type };

	if (type == MSG_SNAPSHOT)
		return SIZE_MAX;
	return payload_len(&probe);
}

int msg_decode(const void *buf, size_t len, struct msg *m)
{
	const uint8_t *p = buf;
	struct msg_hdr_wire h;
	size_t plen, want;
	uint32_t crc;
	int rc = SDLM_EPROTO;

	if (!m)
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	if (!buf || len < MSG_OVERHEAD || len > MSG_MAX_LEN)
		goto out_zero;
	memcpy(&h, p, sizeof(h));
	rc = SDLM_EMAGIC;
	if (le32toh(h.magic) != MSG_MAGIC)
		goto out_zero;
	rc = SDLM_EVERSION;
	if (le16toh(h.major) != MSG_MAJOR)
		goto out_zero;
	rc = SDLM_EPROTO;
	plen = le32toh(h.payload_len);
	if (plen != len - MSG_OVERHEAD)
		goto out_zero;
	memcpy(&crc, p + MSG_HDR_LEN + plen, sizeof(crc));
	rc = SDLM_ECHECKSUM;
	if (le32toh(crc) != crc32c(0, p, MSG_HDR_LEN + plen))
		goto out_zero;

	rc = SDLM_EPROTO;
	if (h.flags != 0 || h.reserved != 0)
		goto out_zero;
	want = payload_len_of_type(le16toh(h.type));
	if (want == 0 || (want != SIZE_MAX && want != plen))
		goto out_zero;
	m->m_type = le16toh(h.type);
	m->m_minor = le16toh(h.minor);
	m->m_nodeid = le32toh(h.nodeid);
	m->m_incarnation = le64toh(h.incarnation);
	m->m_ring_id = le64toh(h.ring_id);
	m->m_seq = le64toh(h.seq);
	if (!payload_in(m, p + MSG_HDR_LEN, plen) || !msg_is_sane(m))
		goto out_zero;
	return 0;

out_zero:
	memset(m, 0, sizeof(*m));
	return rc;
}

/* ---- lock-state events ---- */

int msg_from_event(const struct ls_event *ev, struct msg *m)
{
	struct msg_lock *l = &m->u.lock;

	if (!ev || !m)
		return -EINVAL;
	memset(&m->u, 0, sizeof(m->u));
	switch (ev->ev_kind) {
	case LS_EV_REQUEST:
		if (ev->ev_namelen < 1 || ev->ev_namelen > SDLM_NAME_MAX || !ev->ev_name)
			return -EINVAL;
		m->m_type = MSG_REQUEST;
		l->namelen = (uint8_t)ev->ev_namelen;
		memcpy(l->name, ev->ev_name, ev->ev_namelen);
		break;
	case LS_EV_CONVERT:
		m->m_type = MSG_CONVERT;
		break;
	case LS_EV_RELEASE:
		m->m_type = MSG_RELEASE;
		break;
	case LS_EV_CANCEL:
		m->m_type = MSG_CANCEL;
		break;
	case LS_EV_NODE_STATUS:
		m->m_type = MSG_NODE_STATUS;
		m->u.status.nodeid = ev->ev_nodeid;
		m->u.status.hb_live = ev->ev_hb_live;
		m->u.status.pill_pending = ev->ev_pill_pending;
		return ev->ev_nodeid != 0 ? 0 : -EINVAL;
	case LS_EV_NODE_FENCED:
		m->m_type = MSG_NODE_FENCED;
		m->u.fenced.nodeid = ev->ev_nodeid;
		m->u.fenced.incarnation = ev->ev_incarnation;
		return ev->ev_nodeid != 0 && ev->ev_incarnation != 0 ? 0 : -EINVAL;
	case LS_EV_GATE:
		m->m_type = MSG_GATE;
		m->u.gate.open = ev->ev_gate_open;
		return 0;
	case LS_EV_HANDOFF_RELEASE:
		m->m_type = MSG_HANDOFF_RELEASE;
		m->u.handoff.nodeid = ev->ev_nodeid;
		m->u.handoff.incarnation = ev->ev_incarnation;
		m->u.handoff.lkid = ev->ev_lkid;
		if (ev->ev_lvb) {
			m->u.handoff.has_lvb = true;
			memcpy(m->u.handoff.lvb, ev->ev_lvb, LS_LVB_LEN);
		}
		return handoff_is_sane(&m->u.handoff) ? 0 : -EINVAL;
	case LS_EV_HELD:
		if (ev->ev_namelen < 1 || ev->ev_namelen > SDLM_NAME_MAX || !ev->ev_name)
			return -EINVAL;
		m->m_type = MSG_HELD;
		m->u.held.lkid = ev->ev_lkid;
		m->u.held.epoch = ev->ev_epoch;
		m->u.held.mode = ev->ev_mode;
		m->u.held.namelen = (uint8_t)ev->ev_namelen;
		memcpy(m->u.held.name, ev->ev_name, ev->ev_namelen);
		return held_is_sane(&m->u.held) ? 0 : -EINVAL;
	default:
		return -EINVAL;
	}

	l->lkid = ev->ev_lkid;
	if (m->m_type == MSG_REQUEST || m->m_type == MSG_CONVERT) {
		if (!mode_valid(ev->ev_mode))
			return -EINVAL;
		l->mode = ev->ev_mode;
	}
	if (m->m_type != MSG_CANCEL)
		l->flags = ev->ev_flags;
	if ((m->m_type == MSG_CONVERT || m->m_type == MSG_RELEASE) && ev->ev_lvb) {
		l->has_lvb = true;
		memcpy(l->lvb, ev->ev_lvb, LS_LVB_LEN);
	}
	return lock_is_sane(m->m_type, l) ? 0 : -EINVAL;
}

int msg_to_event(const struct msg *m, struct ls_event *ev)
{
	if (!m || !ev)
		return -EINVAL;
	memset(ev, 0, sizeof(*ev));
	switch (m->m_type) {
	case MSG_REQUEST:
	case MSG_CONVERT:
	case MSG_RELEASE:
	case MSG_CANCEL:
		ev->ev_kind = (enum ls_event_kind)m->m_type;
		ev->ev_nodeid = m->m_nodeid;
		ev->ev_lkid = m->u.lock.lkid;
		ev->ev_mode = m->u.lock.mode;
		ev->ev_flags = m->u.lock.flags;
		if (m->m_type == MSG_REQUEST) {
			ev->ev_name = m->u.lock.name;
			ev->ev_namelen = m->u.lock.namelen;
		}
		if (m->u.lock.has_lvb)
			ev->ev_lvb = m->u.lock.lvb;
		return 0;
	case MSG_NODE_STATUS:
		ev->ev_kind = LS_EV_NODE_STATUS;
		ev->ev_nodeid = m->u.status.nodeid;
		ev->ev_hb_live = m->u.status.hb_live;
		ev->ev_pill_pending = m->u.status.pill_pending;
		return 0;
	case MSG_NODE_FENCED:
		ev->ev_kind = LS_EV_NODE_FENCED;
		ev->ev_nodeid = m->u.fenced.nodeid;
		ev->ev_incarnation = m->u.fenced.incarnation;
		return 0;
	case MSG_GATE:
		ev->ev_kind = LS_EV_GATE;
		ev->ev_gate_open = m->u.gate.open;
		return 0;
	case MSG_HANDOFF_RELEASE:
		ev->ev_kind = LS_EV_HANDOFF_RELEASE;
		ev->ev_nodeid = m->u.handoff.nodeid;
		ev->ev_incarnation = m->u.handoff.incarnation;
		ev->ev_lkid = m->u.handoff.lkid;
		if (m->u.handoff.has_lvb)
			ev->ev_lvb = m->u.handoff.lvb;
		return 0;
	case MSG_HELD:
		/* ev_dirty is the host's to set (its dirty set) */
		ev->ev_kind = LS_EV_HELD;
		ev->ev_nodeid = m->m_nodeid;
		ev->ev_lkid = m->u.held.lkid;
		ev->ev_epoch = m->u.held.epoch;
		ev->ev_mode = m->u.held.mode;
		ev->ev_name = m->u.held.name;
		ev->ev_namelen = m->u.held.namelen;
		return 0;
	case MSG_JOIN:
	case MSG_SNAPSHOT:
		break;
	}
	return -EINVAL;
}

/* ---- version negotiation ---- */

int msg_version_agree(const struct msg_proto_range *ranges, size_t n,
		      uint16_t *agreed, bool *compatible)
{
	uint16_t v = UINT16_MAX;
	size_t i;
	int bad = 0;

	if (!ranges || n == 0 || !agreed)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (ranges[i].proto_min == 0 ||
		    ranges[i].proto_min > ranges[i].proto_max)
			return -EINVAL;
		if (ranges[i].proto_max < v)
			v = ranges[i].proto_max;
	}
	for (i = 0; i < n; i++) {
		bool ok = ranges[i].proto_min <= v;

		if (compatible)
			compatible[i] = ok;
		bad += !ok;
	}
	*agreed = v;
	return bad;
}

void msg_detach(struct msg *m)
{
	if (m->m_type == MSG_SNAPSHOT)
		m->u.snap.data = NULL;
}

uint16_t msg_type_proto(int type)
{
	switch (type) {
	case MSG_REQUEST:
	case MSG_CONVERT:
	case MSG_RELEASE:
	case MSG_CANCEL:
	case MSG_NODE_STATUS:
	case MSG_NODE_FENCED:
	case MSG_GATE:
	case MSG_JOIN:
	case MSG_SNAPSHOT:
		return MSG_PROTO_MIN;
	case MSG_HANDOFF_RELEASE:
		return 3;
	case MSG_HELD:
		return 4;
	}
	return 0;
}

const char *msg_type_name(int type)
{
	switch (type) {
	case MSG_REQUEST:	return "REQUEST";
	case MSG_CONVERT:	return "CONVERT";
	case MSG_RELEASE:	return "RELEASE";
	case MSG_CANCEL:	return "CANCEL";
	case MSG_NODE_STATUS:	return "NODE_STATUS";
	case MSG_NODE_FENCED:	return "NODE_FENCED";
	case MSG_GATE:		return "GATE";
	case MSG_HANDOFF_RELEASE: return "HANDOFF_RELEASE";
	case MSG_HELD:		return "HELD";
	case MSG_JOIN:		return "JOIN";
	case MSG_SNAPSHOT:	return "SNAPSHOT";
	}
	return "?";
}
