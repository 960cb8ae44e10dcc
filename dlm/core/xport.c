/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xport.c - the fast path's transport: every byte of a frame is laid out
 * here, and every decision of the streams (what to send, deliver, when to
 * look again) is taken here, from the frames, the caller's messages and
 * the time it is given.  xport.h has the format, the rules and the errors.
 *
 * Per peer, the send stream keeps the unacknowledged messages in a ring of
 * XP_WINDOW slots indexed by seq % XP_WINDOW (snd_una .. snd_next-1 span
 * fewer than XP_WINDOW seqs, so two never share a slot); the receive
 * stream keeps the reorder buffer the same way (rcv_next .. rcv_next +
 * XP_WINDOW - 1).  Each message remembers when it was last sent: an ack
 * that covers a transmission made clearly later (by the reordering
 * allowance) than an uncovered message's last one proves that message
 * overtaken, i.e. lost (fast retransmission), whatever the seqs.
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sdlm_errors.h"
#include "xport.h"

struct xp_hdr_wire {
	uint32_t	magic;
	uint16_t	major;
	uint16_t	minor;
	uint16_t	flags;
	uint8_t		nsack;
	uint8_t		reserved;
	uint32_t	src_node;
	uint32_t	dst_node;
	uint32_t	payload_len;
	uint64_t	src_inc;
	uint64_t	dst_inc;
	uint64_t	epoch;
	uint64_t	seq;
	uint64_t	ack;
};

struct xp_sack_wire {
	uint32_t	off;
	uint32_t	len;
};

_Static_assert(sizeof(struct xp_hdr_wire) == XP_HDR_LEN, "hdr size");
_Static_assert(offsetof(struct xp_hdr_wire, nsack) == 10, "hdr nsack");
_Static_assert(offsetof(struct xp_hdr_wire, src_node) == 12, "hdr src");
_Static_assert(offsetof(struct xp_hdr_wire, payload_len) == 20, "hdr plen");
_Static_assert(offsetof(struct xp_hdr_wire, src_inc) == 24, "hdr src_inc");
_Static_assert(offsetof(struct xp_hdr_wire, epoch) == 40, "hdr epoch");
_Static_assert(offsetof(struct xp_hdr_wire, seq) == 48, "hdr seq");
_Static_assert(offsetof(struct xp_hdr_wire, ack) == 56, "hdr ack");
_Static_assert(sizeof(struct xp_sack_wire) == XP_SACK_LEN, "sack size");
_Static_assert(XP_TAG_LEN <= SHA256_LEN, "tag is a truncated HMAC");
_Static_assert(XP_PAYLOAD_MAX > 0, "room for a payload");
_Static_assert((XP_WINDOW & (XP_WINDOW - 1)) == 0, "window a power of 2");

/* ---- HMAC-SHA256 (RFC 2104): H(K ^ opad, H(K ^ ipad, m)) ---- */

#define HMAC_BLOCK	64

void xport_key_init(struct xport_key *k, const void *key, size_t len)
{
	uint8_t kb[HMAC_BLOCK], pad[HMAC_BLOCK];
	size_t i;

	memset(kb, 0, sizeof(kb));
	if (len > HMAC_BLOCK)
		sha256(key, len, kb);	/* a long key is hashed first */
	else if (len)
		memcpy(kb, key, len);
	for (i = 0; i < HMAC_BLOCK; i++)
		pad[i] = kb[i] ^ 0x36;
	sha256_init(&k->xk_inner);
	sha256_update(&k->xk_inner, pad, HMAC_BLOCK);
	for (i = 0; i < HMAC_BLOCK; i++)
		pad[i] = kb[i] ^ 0x5c;
	sha256_init(&k->xk_outer);
	sha256_update(&k->xk_outer, pad, HMAC_BLOCK);
	memset(kb, 0, sizeof(kb));
	memset(pad, 0, sizeof(pad));
}

void xport_hmac(const struct xport_key *k, const void *data, size_t len,
		uint8_t out[SHA256_LEN])
{
	struct sha256 s = k->xk_inner;
	uint8_t inner[SHA256_LEN];

	sha256_update(&s, data, len);
	sha256_final(&s, inner);
	s = k->xk_outer;
	sha256_update(&s, inner, sizeof(inner));
	sha256_final(&s, out);
}

/* Constant time: a forger learns nothing from how long a refusal took. */
static bool tag_equal(const uint8_t *a, const uint8_t *b)
{
	uint8_t d = 0;
	int i;

	for (i = 0; i < XP_TAG_LEN; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

/* ---- the frame codec ---- */

size_t xport_frame_len(const struct xport_frame *f)
{
	return XP_HDR_LEN + (size_t)f->f_nsack * XP_SACK_LEN + f->f_len + XP_TAG_LEN;
}

/* The checks after the tag, shared by encode and decode. */
static bool frame_is_sane(const struct xport_frame *f)
{
	uint64_t prev_end;
	unsigned i;

	if ((f->f_flags & ~XP_F_ALL) || !f->f_src_node || !f->f_dst_node ||
	    f->f_src_node == f->f_dst_node || !f->f_src_inc)
		return false;
	if (f->f_nsack > XP_SACK_MAX || f->f_len > XP_PAYLOAD_MAX)
		return false;
	if (f->f_flags & XP_F_HELLO)
		return !f->f_dst_inc && !f->f_seq && !f->f_ack && !f->f_nsack &&
		       !f->f_len;
	if (!f->f_dst_inc || (f->f_seq == 0) != (f->f_len == 0))
		return false;
	if (f->f_len && !f->f_payload)
		return false;
	prev_end = f->f_ack + 1;	/* the hole a first block must leave */
	for (i = 0; i < f->f_nsack; i++) {
		const struct xport_sack *b = &f->f_sack[i];

		if (b->start <= prev_end || b->end <= b->start ||
		    b->start < f->f_ack ||	/* wrapped */
		    b->end - 1 - f->f_ack > XP_WINDOW)
			return false;
		prev_end = b->end;
	}
	return true;
}

int xport_frame_encode(const struct xport_frame *f, const struct xport_key *k,
		       void *buf, size_t len, size_t *written)
{
	struct xp_hdr_wire h;
	struct xp_sack_wire s;
	uint8_t tag[SHA256_LEN], *p = buf;
	size_t n = xport_frame_len(f), off;
	unsigned i;

	if (!frame_is_sane(f) || n > XP_FRAME_MAX)
		return -EINVAL;
	if (len < n)
		return -ENOSPC;
	memset(&h, 0, sizeof(h));
	h.magic = htole32(XP_MAGIC);
	h.major = htole16(XP_MAJOR);
	h.minor = htole16(XP_MINOR);
	h.flags = htole16(f->f_flags);
	h.nsack = (uint8_t)f->f_nsack;
	h.src_node = htole32(f->f_src_node);
	h.dst_node = htole32(f->f_dst_node);
	h.payload_len = htole32(f->f_len);
	h.src_inc = htole64(f->f_src_inc);
	h.dst_inc = htole64(f->f_dst_inc);
	h.epoch = htole64(f->f_epoch);
	h.seq = htole64(f->f_seq);
	h.ack = htole64(f->f_ack);
	memcpy(p, &h, sizeof(h));
	off = XP_HDR_LEN;
	for (i = 0; i < f->f_nsack; i++) {
		s.off = htole32((uint32_t)(f->f_sack[i].start - f->f_ack));
		s.len = htole32((uint32_t)(f->f_sack[i].end - f->f_sack[i].start));
		memcpy(p + off, &s, sizeof(s));
		off += XP_SACK_LEN;
	}
	if (f->f_len)
		memcpy(p + off, f->f_payload, f->f_len);
	off += f->f_len;
	xport_hmac(k, p, off, tag);
	memcpy(p + off, tag, XP_TAG_LEN);
	*written = n;
	return 0;
}

int xport_frame_decode(const void *buf, size_t len, const struct xport_key *k,
		       struct xport_frame *f)
{
	const uint8_t *p = buf;
	struct xp_hdr_wire h;
	struct xp_sack_wire s;
	uint8_t tag[SHA256_LEN];
	size_t body;
	uint32_t plen, off, blen;
	unsigned i;

	memset(f, 0, sizeof(*f));
	if (len < XP_FRAME_MIN || len > XP_FRAME_MAX)
		return SDLM_EPROTO;
	memcpy(&h, p, sizeof(h));
	if (le32toh(h.magic) != XP_MAGIC)
		return SDLM_EMAGIC;
	if (le16toh(h.major) != XP_MAJOR)
		return SDLM_EVERSION;
	plen = le32toh(h.payload_len);
	if (h.nsack > XP_SACK_MAX ||
	    (uint64_t)XP_HDR_LEN + h.nsack * XP_SACK_LEN + plen + XP_TAG_LEN != len)
		return SDLM_EPROTO;
	body = len - XP_TAG_LEN;
	xport_hmac(k, p, body, tag);
	if (!tag_equal(tag, p + body))
		return -EBADMSG;
	if (h.reserved)
		goto bad;
	f->f_minor = le16toh(h.minor);
	f->f_flags = le16toh(h.flags);
	f->f_src_node = le32toh(h.src_node);
	f->f_dst_node = le32toh(h.dst_node);
	f->f_src_inc = le64toh(h.src_inc);
	f->f_dst_inc = le64toh(h.dst_inc);
	f->f_epoch = le64toh(h.epoch);
	f->f_seq = le64toh(h.seq);
	f->f_ack = le64toh(h.ack);
	f->f_nsack = h.nsack;
	for (i = 0; i < h.nsack; i++) {
		memcpy(&s, p + XP_HDR_LEN + i * XP_SACK_LEN, sizeof(s));
		off = le32toh(s.off);
		blen = le32toh(s.len);
		/* off, len <= 2^32 and ack <= 2^64-1: check the sum fits */
		if (f->f_ack > UINT64_MAX - ((uint64_t)off + blen))
			goto bad;
		f->f_sack[i].start = f->f_ack + off;
		f->f_sack[i].end = f->f_ack + off + blen;
	}
	f->f_len = plen;
	f->f_payload = plen ? p + XP_HDR_LEN + h.nsack * XP_SACK_LEN : NULL;
	if (!frame_is_sane(f))
		goto bad;
	return 0;
bad:
	memset(f, 0, sizeof(*f));
	return SDLM_EPROTO;
}

/* ---- the streams ---- */

#define DEF_RTO_MIN	2000000ULL	/* 2 ms */
#define DEF_RTO_MAX	100000000ULL	/* 100 ms */
#define DEF_BACKOFF_MAX	1000000000ULL	/* 1 s */
#define DEF_GIVE_UP	5000000000ULL	/* 5 s */
/* Retransmissions at the plain RTO before the back-off starts. */
#define XP_BACKOFF_AFTER	3

struct xp_txslot {
	uint64_t	seq;		/* 0: free */
	uint64_t	epoch;
	uint64_t	first_sent;
	uint64_t	last_sent;
	uint64_t	deadline;	/* next retransmission */
	unsigned	ntx;		/* transmissions so far; 0: queued */
	bool		sacked;
	uint32_t	len;
	uint8_t		*data;		/* last: stream_start() keeps it */
};

struct xp_rxslot {
	uint64_t	seq;		/* 0: free */
	uint64_t	epoch;
	uint32_t	len;
	uint8_t		*data;		/* last: stream_start() keeps it */
};

/*
 * The slots are small and together (the timer and every ack scan them);
 * the payloads they point to sit apart, so a reset or a scan touches no
 * payload page.
 */
struct xp_peer {
	uint32_t	node;		/* 0: unused */
	uint64_t	inc;		/* 0: not known, HELLO */
	bool		vouched;	/* inc is the caller's (xport_peer_learn) */
	bool		unreachable;	/* given up on: only the probe goes */
	uint64_t	snd_una, snd_next;
	uint64_t	srtt, rttvar, rto;
	bool		have_rtt;
	unsigned	hello_ntx;	/* HELLOs sent for the current wait */
	uint64_t	hello_sent, hello_deadline;
	uint64_t	rcv_next;
	bool		ack_owed;
	uint64_t	sent, retx, fast_retx, samples;
	uint64_t	delivered, dups, refused;
	uint64_t	unacked, reneged;
	struct xp_txslot tx[XP_WINDOW];
	struct xp_rxslot rx[XP_WINDOW];
	uint8_t		txbuf[XP_WINDOW][XP_PAYLOAD_MAX];
	uint8_t		rxbuf[XP_WINDOW][XP_PAYLOAD_MAX];
};

enum emit_kind {
	EMIT_STREAM,	/* DATA (msg) or ACK, with p's ack state */
	EMIT_HELLO,
	EMIT_STRANGER,	/* ACK naming dst_inc, no ack state: to a frame sent
			 * to a predecessor of ours */
};

/* What each frame of the current output was made of: xport_unack()
 * encodes a peer's frames again with the ack state it took back. */
struct xp_txmeta {
	struct xp_peer	*p;
	const struct xp_txslot *msg;
	uint64_t	dst_inc;
	enum emit_kind	kind;
};

struct xport {
	uint32_t	node;
	uint64_t	inc;
	uint64_t	epoch;
	uint64_t	rto_min, rto_max, rto_initial, backoff_max, give_up;
	struct xport_key key;
	unsigned	max_peers;
	bool		closed;		/* cfg->peers: no other node */
	struct xp_peer	*peers;
	uint8_t		(*arena)[XP_FRAME_MAX];	/* out->tx[i].buf */
	struct xp_txmeta meta[XP_OUT_MAX];	/* of out->tx[i] */
	/* the latest call's output: the only one xport_unack() takes */
	const struct xport_out *last_out;
};

static void stream_start(struct xport *xp, struct xp_peer *p);

int xport_new(const struct xport_cfg *cfg, struct xport **xpp)
{
	struct xport *xp;
	unsigned i, j, slots = cfg->max_peers;

	*xpp = NULL;
	if (!cfg->node || !cfg->incarnation || !cfg->key || !cfg->keylen)
		return -EINVAL;
	if (cfg->peers) {
		/* the fixed list: each node once, neither 0 nor this one */
		if (cfg->npeers > 1024)
			return -EINVAL;
		for (i = 0; i < cfg->npeers; i++) {
			if (!cfg->peers[i] || cfg->peers[i] == cfg->node)
				return -EINVAL;
			for (j = 0; j < i; j++)
				if (cfg->peers[j] == cfg->peers[i])
					return -EINVAL;
		}
		slots = cfg->npeers ? cfg->npeers : 1;
	} else if (!cfg->max_peers || cfg->max_peers > 1024) {
		return -EINVAL;
	}
	xp = calloc(1, sizeof(*xp));
	if (!xp)
		return -ENOMEM;
	xp->node = cfg->node;
	xp->inc = cfg->incarnation;
	xp->rto_min = cfg->rto_min ? cfg->rto_min : DEF_RTO_MIN;
	xp->rto_max = cfg->rto_max ? cfg->rto_max : DEF_RTO_MAX;
	xp->rto_initial = cfg->rto_initial ? cfg->rto_initial : xp->rto_max;
	xp->backoff_max = cfg->backoff_max ? cfg->backoff_max : DEF_BACKOFF_MAX;
	xp->give_up = cfg->give_up ? cfg->give_up : DEF_GIVE_UP;
	if (xp->rto_min > xp->rto_max || xp->backoff_max < xp->rto_max ||
	    xp->give_up < xp->backoff_max) {
		free(xp);
		return -EINVAL;
	}
	xport_key_init(&xp->key, cfg->key, cfg->keylen);
	xp->max_peers = slots;
	xp->closed = cfg->peers != NULL;
	/* payload buffers are always written before they are read: only the
	 * slots are zeroed (no page of payload touched before it is used) */
	xp->peers = malloc(slots * sizeof(*xp->peers));
	xp->arena = malloc((size_t)XP_OUT_MAX * XP_FRAME_MAX);
	if (!xp->peers || !xp->arena) {
		xport_free(xp);
		return -ENOMEM;
	}
	for (i = 0; i < slots; i++) {
		memset(&xp->peers[i], 0, offsetof(struct xp_peer, txbuf));
		for (j = 0; j < XP_WINDOW; j++) {
			xp->peers[i].tx[j].data = xp->peers[i].txbuf[j];
			xp->peers[i].rx[j].data = xp->peers[i].rxbuf[j];
		}
	}
	/* the fixed list's peers exist from the start, incarnation unknown */
	for (i = 0; xp->closed && i < cfg->npeers; i++) {
		xp->peers[i].node = cfg->peers[i];
		stream_start(xp, &xp->peers[i]);
	}
	*xpp = xp;
	return 0;
}

void xport_free(struct xport *xp)
{
	if (!xp)
		return;
	free(xp->peers);
	free(xp->arena);
	free(xp);
}

void xport_set_epoch(struct xport *xp, uint64_t epoch)
{
	xp->epoch = epoch;
}

static void out_init(struct xport_out *out)
{
	out->ntx = 0;
	out->nrx = 0;
	out->has_reset = false;
	out->nreach = 0;
	out->deadline = XP_NEVER;
}

static struct xp_peer *peer_find(const struct xport *xp, uint32_t node)
{
	unsigned i;

	for (i = 0; i < xp->max_peers; i++)
		if (xp->peers[i].node == node)
			return &xp->peers[i];
	return NULL;
}

static void stream_start(struct xport *xp, struct xp_peer *p)
{
	unsigned i;

	/* the slots' headers only: a reset touches no payload page */
	for (i = 0; i < XP_WINDOW; i++) {
		memset(&p->tx[i], 0, offsetof(struct xp_txslot, data));
		memset(&p->rx[i], 0, offsetof(struct xp_rxslot, data));
	}
	p->snd_una = p->snd_next = 1;
	p->rcv_next = 1;
	p->hello_ntx = 0;
	p->ack_owed = false;
	p->unreachable = false;
	if (!p->have_rtt)
		p->rto = xp->rto_initial;
}

/* The peer, made on first use.  -EPERM: a node the fixed list (cfg->peers)
 * does not name; -ENOSPC: the table is full. */
static int peer_get(struct xport *xp, uint32_t node, struct xp_peer **pp)
{
	struct xp_peer *p = peer_find(xp, node);

	*pp = p;
	if (p)
		return 0;
	if (xp->closed)
		return -EPERM;
	p = peer_find(xp, 0);
	if (!p)
		return -ENOSPC;
	memset(p, 0, offsetof(struct xp_peer, tx));
	p->node = node;
	stream_start(xp, p);
	*pp = p;
	return 0;
}

static uint64_t clamp_rto(const struct xport *xp, uint64_t v)
{
	if (v < xp->rto_min)
		return xp->rto_min;
	if (v > xp->rto_max)
		return xp->rto_max;
	return v;
}

/* RFC 6298 2.2 and 2.3, in ns. */
static void rtt_sample(struct xport *xp, struct xp_peer *p, uint64_t r)
{
	uint64_t d;

	if (!p->have_rtt) {
		p->srtt = r;
		p->rttvar = r / 2;
		p->have_rtt = true;
	} else {
		d = p->srtt > r ? p->srtt - r : r - p->srtt;
		p->rttvar = (3 * p->rttvar + d) / 4;
		p->srtt = (7 * p->srtt + r) / 8;
	}
	p->samples++;
	p->rto = clamp_rto(xp, p->srtt + 4 * p->rttvar);
}

/* The wait after the ntx-th transmission: RTO, doubled per retransmission
 * after the third. */
static uint64_t tx_interval(const struct xport *xp, const struct xp_peer *p,
			    unsigned ntx)
{
	uint64_t v = p->rto;
	unsigned k;

	for (k = XP_BACKOFF_AFTER + 1; k <= ntx && v < xp->backoff_max; k++)
		v *= 2;
	return v < xp->backoff_max ? v : xp->backoff_max;
}

/* The ack state of p's receive stream, into f. */
static void fill_ack(const struct xp_peer *p, struct xport_frame *f)
{
	uint64_t s, end = p->rcv_next + XP_WINDOW;
	unsigned n = 0;

	f->f_ack = p->rcv_next - 1;
	for (s = p->rcv_next + 1; s < end && n < XP_SACK_MAX; s++) {
		if (p->rx[s % XP_WINDOW].seq != s)
			continue;
		f->f_sack[n].start = s;
		while (s < end && p->rx[s % XP_WINDOW].seq == s)
			s++;
		f->f_sack[n++].end = s;
	}
	f->f_nsack = n;
}

/* Encode one frame to p into output slot i (< XP_OUT_MAX). */
static int emit_at(struct xport *xp, unsigned i, struct xp_peer *p, uint64_t dst_inc,
		   const struct xp_txslot *msg, enum emit_kind kind,
		   struct xport_out *out)
{
	struct xport_frame f;
	size_t n;
	int rc;

	memset(&f, 0, sizeof(f));
	f.f_src_node = xp->node;
	f.f_dst_node = p->node;
	f.f_src_inc = xp->inc;
	f.f_epoch = xp->epoch;
	if (kind == EMIT_HELLO) {
		f.f_flags = XP_F_HELLO;
	} else {
		f.f_dst_inc = dst_inc;
		if (kind == EMIT_STREAM) {
			fill_ack(p, &f);
			p->ack_owed = false;
		}
		if (msg) {
			f.f_seq = msg->seq;
			f.f_epoch = msg->epoch;
			f.f_payload = msg->data;
			f.f_len = msg->len;
		}
	}
	rc = xport_frame_encode(&f, &xp->key, xp->arena[i], XP_FRAME_MAX, &n);
	if (rc)
		return rc;	/* cannot happen: every field is ours */
	out->tx[i].node = p->node;
	out->tx[i].buf = xp->arena[i];
	out->tx[i].len = n;
	xp->meta[i] = (struct xp_txmeta) { .p = p, .msg = msg, .dst_inc = dst_inc,
					   .kind = kind };
	return 0;
}

/* Encode one frame to p into the next output slot.  -ENOBUFS: the output
 * is full. */
static int emit(struct xport *xp, struct xp_peer *p, uint64_t dst_inc,
		const struct xp_txslot *msg, enum emit_kind kind,
		struct xport_out *out)
{
	int rc;

	if (out->ntx >= XP_OUT_MAX)
		return -ENOBUFS;
	rc = emit_at(xp, out->ntx, p, dst_inc, msg, kind, out);
	if (rc == 0)
		out->ntx++;
	return rc;
}

/* (Re)transmit message m to p now. */
static int transmit(struct xport *xp, struct xp_peer *p, struct xp_txslot *m,
		    uint64_t now, struct xport_out *out)
{
	int rc = emit(xp, p, p->inc, m, EMIT_STREAM, out);

	if (rc)
		return rc;
	if (m->ntx)
		p->retx++;
	else
		m->first_sent = now;
	p->sent++;
	m->ntx++;
	m->last_sent = now;
	m->deadline = now + tx_interval(xp, p, m->ntx);
	return 0;
}

static int send_hello(struct xport *xp, struct xp_peer *p, uint64_t now,
		      struct xport_out *out)
{
	int rc = emit(xp, p, 0, NULL, EMIT_HELLO, out);

	if (rc)
		return rc;
	p->hello_ntx++;
	p->hello_sent = now;
	p->hello_deadline = now + tx_interval(xp, p, p->hello_ntx);
	return 0;
}

/* Send every message queued while p's incarnation was unknown. */
static int flush_queued(struct xport *xp, struct xp_peer *p, uint64_t now,
			struct xport_out *out)
{
	uint64_t s;
	int rc;

	for (s = p->snd_una; s < p->snd_next; s++) {
		struct xp_txslot *m = &p->tx[s % XP_WINDOW];

		if (m->ntx == 0 && (rc = transmit(xp, p, m, now, out)))
			return rc;
	}
	return 0;
}

/* p restarted as inc: both streams start over; the loss is reported. */
static void peer_reset(struct xport *xp, struct xp_peer *p, uint64_t inc,
		       struct xport_out *out)
{
	out->has_reset = true;
	out->reset.node = p->node;
	out->reset.old_inc = p->inc;
	out->reset.new_inc = inc;
	out->reset.dropped = (unsigned)(p->snd_next - p->snd_una);
	stream_start(xp, p);
	p->inc = inc;
}

static uint64_t deadline_of(const struct xport *xp)
{
	uint64_t d = XP_NEVER, s;
	unsigned i;

	for (i = 0; i < xp->max_peers; i++) {
		const struct xp_peer *p = &xp->peers[i];

		if (!p->node)
			continue;
		if (!p->inc && p->hello_ntx && p->hello_deadline < d)
			d = p->hello_deadline;
		if (!p->inc)
			continue;
		for (s = p->snd_una; s < p->snd_next; s++) {
			const struct xp_txslot *m = &p->tx[s % XP_WINDOW];

			if (m->ntx && !m->sacked && m->deadline < d)
				d = m->deadline;
			if (m->ntx && !m->sacked && p->unreachable)
				break;	/* the probe alone */
		}
	}
	return d;
}

static void report_reach(struct xp_peer *p, bool reachable, struct xport_out *out)
{
	struct xport_reach *r = &out->reach[out->nreach++];

	p->unreachable = !reachable;
	r->node = p->node;
	r->incarnation = p->inc;
	r->reachable = reachable;
	r->pending = (unsigned)(p->snd_next - p->snd_una);
}

int xport_peer_learn(struct xport *xp, uint32_t node, uint64_t inc,
		     uint64_t now, struct xport_out *out)
{
	struct xp_peer *p;
	int rc = 0;

	out_init(out);
	xp->last_out = out;
	/* a refusal too names the deadline: the caller's timer follows it */
	out->deadline = deadline_of(xp);
	if (!node || node == xp->node || !inc)
		return -EINVAL;
	if ((rc = peer_get(xp, node, &p)))
		return rc;
	/* the caller's word moves only forward; one a frame taught (any key
	 * holder could have signed it) gives way to it in either direction */
	if (p->inc && inc < p->inc && p->vouched)
		rc = -ESTALE;
	else if (p->inc && inc != p->inc)
		peer_reset(xp, p, inc, out);
	else if (!p->inc) {
		p->inc = inc;
		rc = flush_queued(xp, p, now, out);
	}
	if (rc == 0)
		p->vouched = true;
	out->deadline = deadline_of(xp);
	return rc;
}

int xport_send(struct xport *xp, uint32_t node, uint64_t epoch,
	       const void *data, size_t len, uint64_t now,
	       struct xport_out *out)
{
	struct xp_peer *p;
	struct xp_txslot *m;
	int rc = 0;

	out_init(out);
	xp->last_out = out;
	/* a refusal too names the deadline: the caller's timer follows it */
	out->deadline = deadline_of(xp);
	if (!node || node == xp->node)
		return -EINVAL;
	if (!len || len > XP_PAYLOAD_MAX)
		return -EMSGSIZE;
	if ((rc = peer_get(xp, node, &p)))
		return rc;
	if (p->unreachable)
		return -EHOSTDOWN;
	if (p->snd_next - p->snd_una >= XP_WINDOW)
		return -EAGAIN;
	m = &p->tx[p->snd_next % XP_WINDOW];
	memset(m, 0, offsetof(struct xp_txslot, data));
	m->seq = p->snd_next++;
	m->epoch = epoch;
	m->len = (uint32_t)len;
	memcpy(m->data, data, len);
	if (p->inc)
		rc = transmit(xp, p, m, now, out);
	else if (!p->hello_ntx)
		rc = send_hello(xp, p, now, out);
	out->deadline = deadline_of(xp);
	/* an output too full for the frame leaves it to the timer */
	if (rc == -ENOBUFS) {
		out->deadline = now;
		rc = 0;
	}
	return rc;
}

unsigned xport_send_space(const struct xport *xp, uint32_t node)
{
	const struct xp_peer *p = peer_find(xp, node);

	return p ? XP_WINDOW - (unsigned)(p->snd_next - p->snd_una) : XP_WINDOW;
}

/*
 * How much earlier than a message the ack covers another one must have
 * been sent to count as overtaken (lost) rather than reordered: srtt / 4
 * (RFC 8985's reordering window), at least 1 ns (a message sent in the
 * same instant is never "earlier").  Without it, a burst whose frames the
 * network delivers out of order is sent again almost whole.
 */
static uint64_t reorder_allowance(const struct xp_peer *p)
{
	uint64_t r = p->have_rtt ? p->srtt / 4 : 0;

	return r ? r : 1;
}

/*
 * The ack part of a frame from p (its ack and SACK blocks cover our send
 * stream): frees what is acknowledged, takes an RTT sample, and says what
 * the ack proves overtaken (*overtaken: the caller retransmits every
 * uncovered message last sent at or before it: the latest transmission
 * the ack covers, less the reordering allowance).
 */
static int take_ack(struct xport *xp, struct xp_peer *p,
		    const struct xport_frame *f, uint64_t now, uint64_t *overtaken)
{
	uint64_t s, best_sent = 0, hi = 0, reo;
	bool sample = false;
	unsigned i;

	if (f->f_ack >= p->snd_next)
		return -ERANGE;
	for (i = 0; i < f->f_nsack; i++)
		if (f->f_sack[i].end > p->snd_next)
			return -ERANGE;
	for (s = p->snd_una; s <= f->f_ack; s++) {
		struct xp_txslot *m = &p->tx[s % XP_WINDOW];

		if (m->ntx == 1 && !m->sacked && m->last_sent >= best_sent) {
			best_sent = m->last_sent;
			sample = true;
		}
		if (!m->sacked && m->ntx && m->last_sent > hi)
			hi = m->last_sent;
		m->seq = 0;
	}
	if (f->f_ack >= p->snd_una)
		p->snd_una = f->f_ack + 1;
	/* The receiver SACKed the message the ack now stops at, and yet does
	 * not acknowledge it: it took it back (xport_unack: its caller could
	 * not take it).  Send it again now, not never (a SACKed message is
	 * otherwise never sent again). */
	if (p->snd_una < p->snd_next) {
		struct xp_txslot *m = &p->tx[p->snd_una % XP_WINDOW];

		if (m->seq == p->snd_una && m->sacked) {
			m->sacked = false;
			m->deadline = now;
			p->reneged++;
		}
	}
	for (i = 0; i < f->f_nsack; i++) {
		for (s = f->f_sack[i].start; s < f->f_sack[i].end; s++) {
			struct xp_txslot *m = &p->tx[s % XP_WINDOW];

			if (s < p->snd_una || m->seq != s || m->sacked)
				continue;
			m->sacked = true;
			if (m->ntx == 1 && m->last_sent >= best_sent) {
				best_sent = m->last_sent;
				sample = true;
			}
			if (m->ntx && m->last_sent > hi)
				hi = m->last_sent;
		}
	}
	/* Karn: only a message sent once says how long a round trip took */
	if (sample && now >= best_sent)
		rtt_sample(xp, p, now - best_sent);
	reo = reorder_allowance(p);
	*overtaken = hi > reo ? hi - reo : 0;
	return 0;
}

/* A DATA frame's message into p's receive stream. */
static int take_data(struct xp_peer *p, const struct xport_frame *f,
		     struct xport_out *out)
{
	struct xp_rxslot *r;
	struct xport_rx *d;

	if (f->f_seq < p->rcv_next) {
		p->dups++;
		p->ack_owed = true;	/* our ack was lost: say it again */
		return 0;
	}
	if (f->f_seq >= p->rcv_next + XP_WINDOW) {
		p->refused++;
		return -ERANGE;
	}
	p->ack_owed = true;
	r = &p->rx[f->f_seq % XP_WINDOW];
	if (f->f_seq != p->rcv_next) {
		if (r->seq == f->f_seq) {
			p->dups++;
			return 0;
		}
		r->seq = f->f_seq;
		r->epoch = f->f_epoch;
		r->len = f->f_len;
		memcpy(r->data, f->f_payload, f->f_len);
		return 0;
	}
	d = &out->rx[out->nrx++];
	d->node = p->node;
	d->incarnation = p->inc;
	d->epoch = f->f_epoch;
	d->seq = f->f_seq;
	d->data = f->f_payload;
	d->len = f->f_len;
	p->rcv_next++;
	p->delivered++;
	for (r = &p->rx[p->rcv_next % XP_WINDOW]; r->seq == p->rcv_next;
	     r = &p->rx[p->rcv_next % XP_WINDOW]) {
		d = &out->rx[out->nrx++];
		d->node = p->node;
		d->incarnation = p->inc;
		d->epoch = r->epoch;
		d->seq = r->seq;
		d->data = r->data;
		d->len = r->len;
		r->seq = 0;
		p->rcv_next++;
		p->delivered++;
	}
	return 0;
}

/* An ACK frame to node that names incarnation dst_inc (the answer to a
 * frame sent to a predecessor of ours). */
static void answer_stranger(struct xport *xp, struct xp_peer *p,
			    uint64_t dst_inc, struct xport_out *out)
{
	(void)emit(xp, p, dst_inc, NULL, EMIT_STRANGER, out);
}

int xport_input(struct xport *xp, const void *buf, size_t len, uint64_t now,
		struct xport_out *out)
{
	struct xport_frame f;
	struct xp_peer *p;
	uint64_t overtaken = 0, s;
	bool was_hello;
	int rc;

	out_init(out);
	xp->last_out = out;
	rc = xport_frame_decode(buf, len, &xp->key, &f);
	if (rc)
		goto out;
	if (f.f_dst_node != xp->node) {
		rc = -EXDEV;
		goto out;
	}
	if ((rc = peer_get(xp, f.f_src_node, &p)))
		goto out;
	if (p->inc && f.f_src_inc < p->inc) {
		p->refused++;
		rc = -ESTALE;
		goto out;
	}
	if (p->inc && f.f_src_inc > p->inc) {
		/* a restart the caller has not confirmed (or a forgery: every
		 * holder of the key can sign any incarnation): not taken, not
		 * acknowledged, so the sender sends it again; it gets through
		 * once the caller learns the incarnation */
		if (p->vouched) {
			p->refused++;
			rc = -ESRCH;
			goto out;
		}
		peer_reset(xp, p, f.f_src_inc, out);
	}
	if (f.f_flags & XP_F_HELLO) {
		p->ack_owed = true;
		if (!p->inc) {
			p->inc = f.f_src_inc;
			rc = flush_queued(xp, p, now, out);
		}
		goto answer;
	}
	if (f.f_dst_inc != xp->inc) {
		/* sent to a predecessor of ours: tell its sender who is here */
		p->refused++;
		if (f.f_seq)
			answer_stranger(xp, p, f.f_src_inc, out);
		rc = -EIDRM;
		goto out;
	}
	was_hello = !p->inc && p->hello_ntx;
	if (!p->inc) {
		p->inc = f.f_src_inc;
		/* the answer to our only HELLO is a round trip */
		if (was_hello && p->hello_ntx == 1 && !f.f_seq && now >= p->hello_sent)
			rtt_sample(xp, p, now - p->hello_sent);
	}
	rc = take_ack(xp, p, &f, now, &overtaken);
	if (rc) {
		p->refused++;
		goto out;
	}
	if (p->unreachable) {
		/* it answered: the rest of the window goes now, not at its
		 * backed-off deadline, and has give_up from now again */
		report_reach(p, true, out);
		for (s = p->snd_una; s < p->snd_next; s++) {
			struct xp_txslot *m = &p->tx[s % XP_WINDOW];

			if (m->ntx && !m->sacked && m->deadline > now)
				m->deadline = now;
			if (m->ntx)
				m->first_sent = now;
		}
	}
	if (f.f_seq && (rc = take_data(p, &f, out)))
		goto out;
	/* fast retransmission, then what waited for the incarnation */
	for (s = p->snd_una; s < p->snd_next; s++) {
		struct xp_txslot *m = &p->tx[s % XP_WINDOW];

		if (m->ntx && !m->sacked && m->last_sent <= overtaken && overtaken) {
			if (transmit(xp, p, m, now, out))
				break;
			p->fast_retx++;
		}
	}
	(void)flush_queued(xp, p, now, out);
answer:
	if (p->ack_owed)
		(void)emit(xp, p, p->inc, NULL, EMIT_STREAM, out);
out:
	out->deadline = deadline_of(xp);
	return rc;
}

int xport_timer(struct xport *xp, uint64_t now, struct xport_out *out)
{
	unsigned i;
	uint64_t s;

	out_init(out);
	xp->last_out = out;
	for (i = 0; i < xp->max_peers; i++) {
		struct xp_peer *p = &xp->peers[i];

		if (!p->node)
			continue;
		if (!p->inc) {
			if (p->hello_ntx && p->hello_deadline <= now &&
			    send_hello(xp, p, now, out))
				goto full;
			continue;
		}
		for (s = p->snd_una; s < p->snd_next; s++) {
			struct xp_txslot *m = &p->tx[s % XP_WINDOW];

			if (!m->ntx || m->sacked)
				continue;
			if (!p->unreachable && now - m->first_sent >= xp->give_up) {
				if (out->nreach == XP_REACH_MAX)
					goto full;
				report_reach(p, false, out);
				/* the probe: the oldest, at backoff_max */
				if (m->deadline > now + xp->backoff_max)
					m->deadline = now + xp->backoff_max;
			}
			if (m->deadline <= now && transmit(xp, p, m, now, out))
				goto full;
			if (p->unreachable) {
				if (m->deadline < now + xp->backoff_max)
					m->deadline = m->last_sent + xp->backoff_max;
				break;	/* the probe alone */
			}
		}
	}
	out->deadline = deadline_of(xp);
	return 0;
full:
	/* more is due than one output holds: call again at once */
	out->deadline = now;
	return 0;
}

int xport_peer_info(const struct xport *xp, uint32_t node,
		    struct xport_peer_info *info)
{
	const struct xp_peer *p = node ? peer_find(xp, node) : NULL;

	memset(info, 0, sizeof(*info));
	if (!p)
		return -ENOENT;
	info->incarnation = p->inc;
	info->srtt = p->have_rtt ? p->srtt : 0;
	info->rttvar = p->rttvar;
	info->rto = p->rto;
	info->snd_una = p->snd_una;
	info->snd_next = p->snd_next;
	info->rcv_next = p->rcv_next;
	info->inflight = (unsigned)(p->snd_next - p->snd_una);
	info->unreachable = p->unreachable;
	info->sent = p->sent;
	info->retransmits = p->retx;
	info->fast_retransmits = p->fast_retx;
	info->rtt_samples = p->samples;
	info->delivered = p->delivered;
	info->duplicates = p->dups;
	info->refused = p->refused;
	info->unacked = p->unacked;
	info->reneged = p->reneged;
	return 0;
}

int xport_unack(struct xport *xp, uint32_t node, uint64_t seq, struct xport_out *out)
{
	struct xp_peer *p = node ? peer_find(xp, node) : NULL;
	unsigned i, j, k, n = 0;

	if (!p || out != xp->last_out)
		return -ENOENT;
	for (i = 0; i < out->nrx; i++)
		if (out->rx[i].node == node && out->rx[i].seq == seq)
			break;
	if (i == out->nrx)
		return -ENOENT;
	/* seq and every later message of node leave the output; the ones
	 * that came out of the reorder buffer go back into it (their bytes
	 * are still in their slots: nothing was buffered since), the one the
	 * frame carried is forgotten: unacknowledged, it is sent again */
	for (j = k = i; j < out->nrx; j++) {
		const struct xport_rx *d = &out->rx[j];
		struct xp_rxslot *r;

		if (d->node != node) {
			out->rx[k++] = *d;
			continue;
		}
		r = &p->rx[d->seq % XP_WINDOW];
		if (d->data == r->data) {
			r->seq = d->seq;
			r->epoch = d->epoch;
			r->len = (uint32_t)d->len;
		}
		n++;
	}
	out->nrx = k;
	p->rcv_next = seq;
	p->delivered -= n;
	p->unacked += n;
	/* the frames to node in this output carry the ack state taken back */
	for (j = 0; j < out->ntx; j++)
		if (xp->meta[j].p == p && xp->meta[j].kind == EMIT_STREAM)
			(void)emit_at(xp, j, p, xp->meta[j].dst_inc, xp->meta[j].msg,
				      EMIT_STREAM, out);
	return 0;
}
