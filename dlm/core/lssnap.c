/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lssnap.c - the lock state (lockstate.c) as bytes: the snapshot a joining
 * member decodes, and the digest replicas compare; at the end the state
 * transfer around the snapshot (lssnap.h has its layout and checks).
 *
 * Layout (all integers little-endian, every record naturally aligned):
 *
 *	offset	what
 *	0	struct ls_snap_hdr		48 bytes
 *	48	node_count x ls_snap_node	16 bytes each, ascending id
 *	...	res_count x { ls_snap_res	104 bytes, ascending name
 *		  lock_count x ls_snap_lock }	32 bytes each: granted,
 *						converting, waiting, each in
 *						queue order
 *	...	epoch section (minor >= 1)	u64 lockspace epoch, then
 *						res_count x u64 resource
 *						epoch, in resource order
 *	...	member section (minor 2)	node_count x ls_snap_member,
 *						16 bytes each, node order
 *	len-8	struct ls_snap_tail		reserved, then CRC32C of
 *						every byte before it
 *
 * Minor 1 added the epoch section at the end, so every earlier offset is
 * unchanged; a minor 0 snapshot decodes with every epoch 0 (a decoder of
 * minor 0 rejects a minor 1 snapshot by its length: upgrade every node
 * before relying on epochs).  Minors above LS_SNAP_MINOR: SDLM_EVERSION.
 *
 * Minor 2 added the member section (the member records of design-handoff.md
 * F1/F3: each node's incarnation and announced proto_max, lockstate.h
 * LS_EV_ROUND).  It is written only when some node has a record, which
 * only a lockspace whose agreed protocol is 3 or more has: a state without
 * one encodes as minor 1, byte for byte as before, so a node that reads
 * only minor 1 (protocol 2) never gets a minor 2 snapshot from a lockspace
 * it is a member of (docs/protocol.md "Version negotiation").  A minor 2
 * snapshot without any record is refused (one state, one encoding).
 *
 * total_len in the header equals the buffer length.  A mode is one byte,
 * 0xff for MODE_NONE.  Every reserved byte and the unused tail of names
 * and of an invalid LVB are zero, so that one state has exactly one
 * encoding (ls_digest relies on it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "hash.h"
#include "list.h"
#include "lockstate_int.h"
#include "lssnap.h"
#include "le.h"
#include "sdlm.h"

#define LS_SNAP_MAGIC	0x534c4453u	/* "SDLS" read as little-endian */
#define LS_SNAP_MAJOR	1
#define LS_SNAP_MINOR	2
#define LS_SNAP_MODE_NONE 0xff

#define SNAP_GATE_OPEN		0x1u
#define SNAP_QUORATE		0x2u
#define SNAP_DEFAULT_LIVE	0x4u
/* The replica takes HELD reports (protocol 4): set only while its gate has
 * never opened and every round since it formed agreed on protocol 4 (a
 * round below 4 ends the rebuild before its transfer: LS_EV_ROUND), so
 * only a lockspace whose members all speak protocol 4 ever sends it;
 * every other state encodes as before. */
#define SNAP_REBUILD		0x8u
#define SNAP_HDR_FLAGS		0xfu

#define SNAPN_MEMBER		0x01u
#define SNAPN_LIVE		0x02u
#define SNAPN_PILL		0x04u
#define SNAPN_FENCED		0x08u
#define SNAPN_HAS_FENCED_INC	0x10u
#define SNAPN_NEED_FENCE_SENT	0x20u
#define SNAPN_FLAGS		0x3fu

#define SNAPR_LVB_VALID		0x01u

struct ls_snap_hdr {
	uint32_t	sh_magic;
	uint16_t	sh_major;
	uint16_t	sh_minor;
	uint32_t	sh_flags;
	uint32_t	sh_node_count;
	uint64_t	sh_ring_id;
	uint64_t	sh_lock_seq;
	uint32_t	sh_res_count;
	uint32_t	sh_lock_count;
	uint64_t	sh_total_len;
};
_Static_assert(sizeof(struct ls_snap_hdr) == 48, "ls_snap_hdr layout");

struct ls_snap_node {
	uint32_t	sn_nodeid;
	uint32_t	sn_flags;
	uint64_t	sn_fenced_inc;
};
_Static_assert(sizeof(struct ls_snap_node) == 16, "ls_snap_node layout");

/* Minor 2: a node's member record; incarnation 0 iff proto 0 (none). */
struct ls_snap_member {
	uint64_t	sm_incarnation;
	uint16_t	sm_proto;
	uint16_t	sm_reserved16;
	uint32_t	sm_reserved;
};
_Static_assert(sizeof(struct ls_snap_member) == 16, "ls_snap_member layout");

struct ls_snap_res {
	uint8_t		sr_namelen;
	uint8_t		sr_flags;
	uint16_t	sr_reserved;
	uint32_t	sr_lock_count;
	uint8_t		sr_name[SDLM_NAME_MAX];
	uint8_t		sr_lvb[LS_LVB_LEN];
};
_Static_assert(sizeof(struct ls_snap_res) == 104, "ls_snap_res layout");

struct ls_snap_lock {
	uint64_t	sl_lkid;
	uint64_t	sl_seq;
	uint32_t	sl_nodeid;
	uint32_t	sl_flags;	/* in memory LS_LKF_* (ls_lkf_wire) */
	uint8_t		sl_grmode;
	uint8_t		sl_rqmode;
	uint8_t		sl_bast_mode;
	uint8_t		sl_queue;
	uint32_t	sl_reserved;
};
_Static_assert(sizeof(struct ls_snap_lock) == 32, "ls_snap_lock layout");

struct ls_snap_tail {
	uint32_t	st_reserved;
	uint32_t	st_crc;
};
_Static_assert(sizeof(struct ls_snap_tail) == 8, "ls_snap_tail layout");

#define PUT(sz, buf, type, field, v) \
	put##sz((buf) + offsetof(type, field), (v))
#define GET(sz, buf, type, field) \
	get##sz((buf) + offsetof(type, field))

static uint8_t mode_out(int m)
{
	return m == MODE_NONE ? LS_SNAP_MODE_NONE : (uint8_t)m;
}

static int mode_in(uint8_t v)
{
	return v == LS_SNAP_MODE_NONE ? MODE_NONE : (int)v;
}

/* *_out: native -> zeroed wire buffer; *_in: wire -> native. */
static void snap_hdr_out(const struct ls_snap_hdr *h, uint8_t *p)
{
	memset(p, 0, sizeof(*h));
	PUT(32, p, struct ls_snap_hdr, sh_magic, h->sh_magic);
	PUT(16, p, struct ls_snap_hdr, sh_major, h->sh_major);
	PUT(16, p, struct ls_snap_hdr, sh_minor, h->sh_minor);
	PUT(32, p, struct ls_snap_hdr, sh_flags, h->sh_flags);
	PUT(32, p, struct ls_snap_hdr, sh_node_count, h->sh_node_count);
	PUT(64, p, struct ls_snap_hdr, sh_ring_id, h->sh_ring_id);
	PUT(64, p, struct ls_snap_hdr, sh_lock_seq, h->sh_lock_seq);
	PUT(32, p, struct ls_snap_hdr, sh_res_count, h->sh_res_count);
	PUT(32, p, struct ls_snap_hdr, sh_lock_count, h->sh_lock_count);
	PUT(64, p, struct ls_snap_hdr, sh_total_len, h->sh_total_len);
}

static void snap_hdr_in(const uint8_t *p, struct ls_snap_hdr *h)
{
	h->sh_magic = GET(32, p, struct ls_snap_hdr, sh_magic);
	h->sh_major = GET(16, p, struct ls_snap_hdr, sh_major);
	h->sh_minor = GET(16, p, struct ls_snap_hdr, sh_minor);
	h->sh_flags = GET(32, p, struct ls_snap_hdr, sh_flags);
	h->sh_node_count = GET(32, p, struct ls_snap_hdr, sh_node_count);
	h->sh_ring_id = GET(64, p, struct ls_snap_hdr, sh_ring_id);
	h->sh_lock_seq = GET(64, p, struct ls_snap_hdr, sh_lock_seq);
	h->sh_res_count = GET(32, p, struct ls_snap_hdr, sh_res_count);
	h->sh_lock_count = GET(32, p, struct ls_snap_hdr, sh_lock_count);
	h->sh_total_len = GET(64, p, struct ls_snap_hdr, sh_total_len);
}

static void snap_node_out(const struct ls_node *nd, uint8_t *p)
{
	uint32_t f = 0;

	f |= nd->nd_member ? SNAPN_MEMBER : 0;
	f |= nd->nd_live ? SNAPN_LIVE : 0;
	f |= nd->nd_pill ? SNAPN_PILL : 0;
	f |= nd->nd_fenced ? SNAPN_FENCED : 0;
	f |= nd->nd_has_fenced_inc ? SNAPN_HAS_FENCED_INC : 0;
	f |= nd->nd_need_fence_sent ? SNAPN_NEED_FENCE_SENT : 0;
	memset(p, 0, sizeof(struct ls_snap_node));
	PUT(32, p, struct ls_snap_node, sn_nodeid, nd->nd_id);
	PUT(32, p, struct ls_snap_node, sn_flags, f);
	PUT(64, p, struct ls_snap_node, sn_fenced_inc, nd->nd_fenced_inc);
}

static void snap_node_in(const uint8_t *p, struct ls_snap_node *sn)
{
	sn->sn_nodeid = GET(32, p, struct ls_snap_node, sn_nodeid);
	sn->sn_flags = GET(32, p, struct ls_snap_node, sn_flags);
	sn->sn_fenced_inc = GET(64, p, struct ls_snap_node, sn_fenced_inc);
}

static void snap_member_out(const struct ls_node *nd, uint8_t *p)
{
	memset(p, 0, sizeof(struct ls_snap_member));
	PUT(64, p, struct ls_snap_member, sm_incarnation, nd->nd_inc);
	PUT(16, p, struct ls_snap_member, sm_proto, nd->nd_proto);
}

/* Minor 2 (the member section) iff some node has a member record. */
static bool snap_has_members(const struct ls_state *ls)
{
	size_t i;

	for (i = 0; i < ls->ls_node_count; i++)
		if (ls->ls_nodes[i]->nd_inc)
			return true;
	return false;
}

static void snap_res_out(const struct ls_res *res, uint8_t *p)
{
	memset(p, 0, sizeof(struct ls_snap_res));
	p[offsetof(struct ls_snap_res, sr_namelen)] = res->res_namelen;
	p[offsetof(struct ls_snap_res, sr_flags)] =
		res->res_lvb_valid ? SNAPR_LVB_VALID : 0;
	PUT(32, p, struct ls_snap_res, sr_lock_count, (uint32_t)res->res_nlocks);
	memcpy(p + offsetof(struct ls_snap_res, sr_name), res->res_name,
	       res->res_namelen);
	memcpy(p + offsetof(struct ls_snap_res, sr_lvb), res->res_lvb,
	       LS_LVB_LEN);
}

static void snap_res_in(const uint8_t *p, struct ls_snap_res *sr)
{
	sr->sr_namelen = p[offsetof(struct ls_snap_res, sr_namelen)];
	sr->sr_flags = p[offsetof(struct ls_snap_res, sr_flags)];
	sr->sr_reserved = GET(16, p, struct ls_snap_res, sr_reserved);
	sr->sr_lock_count = GET(32, p, struct ls_snap_res, sr_lock_count);
	memcpy(sr->sr_name, p + offsetof(struct ls_snap_res, sr_name),
	       SDLM_NAME_MAX);
	memcpy(sr->sr_lvb, p + offsetof(struct ls_snap_res, sr_lvb),
	       LS_LVB_LEN);
}

static void snap_lock_out(const struct ls_lock *lk, uint8_t *p)
{
	memset(p, 0, sizeof(struct ls_snap_lock));
	PUT(64, p, struct ls_snap_lock, sl_lkid, lk->lk_id);
	PUT(64, p, struct ls_snap_lock, sl_seq, lk->lk_seq);
	PUT(32, p, struct ls_snap_lock, sl_nodeid, lk->lk_node->nd_id);
	PUT(32, p, struct ls_snap_lock, sl_flags, ls_lkf_wire(lk->lk_flags));
	p[offsetof(struct ls_snap_lock, sl_grmode)] = mode_out(lk->lk_grmode);
	p[offsetof(struct ls_snap_lock, sl_rqmode)] = mode_out(lk->lk_rqmode);
	p[offsetof(struct ls_snap_lock, sl_bast_mode)] =
		mode_out(lk->lk_bast_mode);
	p[offsetof(struct ls_snap_lock, sl_queue)] = lk->lk_queue;
}

static void snap_lock_in(const uint8_t *p, struct ls_snap_lock *sl)
{
	sl->sl_lkid = GET(64, p, struct ls_snap_lock, sl_lkid);
	sl->sl_seq = GET(64, p, struct ls_snap_lock, sl_seq);
	sl->sl_nodeid = GET(32, p, struct ls_snap_lock, sl_nodeid);
	sl->sl_flags = ls_lkf_wire(GET(32, p, struct ls_snap_lock, sl_flags));
	sl->sl_grmode = p[offsetof(struct ls_snap_lock, sl_grmode)];
	sl->sl_rqmode = p[offsetof(struct ls_snap_lock, sl_rqmode)];
	sl->sl_bast_mode = p[offsetof(struct ls_snap_lock, sl_bast_mode)];
	sl->sl_queue = p[offsetof(struct ls_snap_lock, sl_queue)];
	sl->sl_reserved = GET(32, p, struct ls_snap_lock, sl_reserved);
}

static void snap_hdr_fill(const struct ls_state *ls, struct ls_snap_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->sh_magic = LS_SNAP_MAGIC;
	h->sh_major = LS_SNAP_MAJOR;
	h->sh_minor = snap_has_members(ls) ? 2 : 1;
	h->sh_flags = (ls->ls_gate_open ? SNAP_GATE_OPEN : 0) |
		      (ls->ls_quorate ? SNAP_QUORATE : 0) |
		      (ls->ls_default_live ? SNAP_DEFAULT_LIVE : 0) |
		      (ls->ls_rebuild ? SNAP_REBUILD : 0);
	h->sh_node_count = (uint32_t)ls->ls_node_count;
	h->sh_ring_id = ls->ls_ring_id;
	h->sh_lock_seq = ls->ls_lock_seq;
	h->sh_res_count = (uint32_t)ls->ls_res_count;
	h->sh_lock_count = (uint32_t)ls->ls_lock_count;
	h->sh_total_len = ls_snapshot_size(ls);
}

/* Bytes of the epoch section for res_count resources (minor >= 1). */
static size_t snap_epoch_size(size_t res_count)
{
	return sizeof(uint64_t) * (1 + res_count);
}

size_t ls_snapshot_size(const struct ls_state *ls)
{
	return sizeof(struct ls_snap_hdr) +
	       ls->ls_node_count * sizeof(struct ls_snap_node) +
	       ls->ls_res_count * sizeof(struct ls_snap_res) +
	       ls->ls_lock_count * sizeof(struct ls_snap_lock) +
	       snap_epoch_size(ls->ls_res_count) +
	       (snap_has_members(ls) ?
		ls->ls_node_count * sizeof(struct ls_snap_member) : 0) +
	       sizeof(struct ls_snap_tail);
}

/*
 * The digest hashes the same canonical records as the snapshot, but
 * combines resources by a sum of mixed per-resource hashes, so it needs
 * neither sorting nor memory and cannot fail.
 */
uint64_t ls_digest(const struct ls_state *ls)
{
	uint8_t buf[sizeof(struct ls_snap_res)];
	struct ls_snap_hdr h;
	const struct ls_res *res;
	const struct dl *d;
	uint64_t head, rh, sum = 0;
	size_t i;
	int q;

	snap_hdr_fill(ls, &h);
	snap_hdr_out(&h, buf);
	head = fnv64(FNV64_OFFSET, buf, sizeof(struct ls_snap_hdr));
	put64(buf, ls->ls_epoch);
	head = fnv64(head, buf, sizeof(uint64_t));
	for (i = 0; i < ls->ls_node_count; i++) {
		snap_node_out(ls->ls_nodes[i], buf);
		head = fnv64(head, buf, sizeof(struct ls_snap_node));
	}
	/* the member section, as the snapshot has it (minor 2 only: a state
	 * without records hashes as before) */
	if (h.sh_minor >= 2)
		for (i = 0; i < ls->ls_node_count; i++) {
			snap_member_out(ls->ls_nodes[i], buf);
			head = fnv64(head, buf, sizeof(struct ls_snap_member));
		}
	for (i = 0; i < ls->ls_rhash_size; i++) {
		for (res = ls->ls_rhash[i]; res; res = res->res_hnext) {
			snap_res_out(res, buf);
			rh = fnv64(FNV64_OFFSET, buf, sizeof(struct ls_snap_res));
			put64(buf, res->res_epoch);
			rh = fnv64(rh, buf, sizeof(uint64_t));
			for (q = 0; q < 3; q++)
				for (d = res->res_queue[q].next;
				     d != &res->res_queue[q]; d = d->next) {
					snap_lock_out(lock_of_q(d), buf);
					rh = fnv64(rh, buf,
						   sizeof(struct ls_snap_lock));
				}
			sum += mix64(rh);
		}
	}
	return mix64(head ^ mix64(sum));
}

int ls_snapshot_encode(const struct ls_state *ls, void *buf, size_t len,
		       size_t *written)
{
	size_t i, need = ls_snapshot_size(ls), off = 0;
	struct ls_snap_hdr h;
	struct ls_res **arr;
	const struct dl *d;
	uint8_t *p = buf;
	int q, rc;

	if (len < need)
		return -ENOSPC;
	rc = res_sorted(ls, &arr);
	if (rc)
		return rc;
	snap_hdr_fill(ls, &h);
	snap_hdr_out(&h, p);
	off += sizeof(struct ls_snap_hdr);
	for (i = 0; i < ls->ls_node_count; i++) {
		snap_node_out(ls->ls_nodes[i], p + off);
		off += sizeof(struct ls_snap_node);
	}
	for (i = 0; i < ls->ls_res_count; i++) {
		snap_res_out(arr[i], p + off);
		off += sizeof(struct ls_snap_res);
		for (q = 0; q < 3; q++)
			for (d = arr[i]->res_queue[q].next;
			     d != &arr[i]->res_queue[q]; d = d->next) {
				snap_lock_out(lock_of_q(d), p + off);
				off += sizeof(struct ls_snap_lock);
			}
	}
	put64(p + off, ls->ls_epoch);
	off += sizeof(uint64_t);
	for (i = 0; i < ls->ls_res_count; i++) {
		put64(p + off, arr[i]->res_epoch);
		off += sizeof(uint64_t);
	}
	if (h.sh_minor >= 2)
		for (i = 0; i < ls->ls_node_count; i++) {
			snap_member_out(ls->ls_nodes[i], p + off);
			off += sizeof(struct ls_snap_member);
		}
	memset(p + off, 0, sizeof(struct ls_snap_tail));
	put32(p + off + offsetof(struct ls_snap_tail, st_crc),
	      crc32c(0, p, off + offsetof(struct ls_snap_tail, st_crc)));
	off += sizeof(struct ls_snap_tail);
	free(arr);
	*written = off;
	return 0;
}

static int lock_seq_cmp(const void *a, const void *b)
{
	const struct ls_lock *x = *(struct ls_lock *const *)a;
	const struct ls_lock *y = *(struct ls_lock *const *)b;

	return x->lk_seq < y->lk_seq ? -1 : x->lk_seq > y->lk_seq;
}

/* Decode the node table.  0 or SDLM_EPROTO / -ENOMEM. */
static int snap_nodes_in(struct ls_state *ls, const uint8_t *p, size_t n)
{
	struct ls_snap_node sn;
	struct ls_node *nd;
	size_t i;

	ls->ls_nodes = calloc(n ? n : 1, sizeof(*ls->ls_nodes));
	if (!ls->ls_nodes)
		return -ENOMEM;
	ls->ls_node_cap = n ? n : 1;
	for (i = 0; i < n; i++, p += sizeof(struct ls_snap_node)) {
		snap_node_in(p, &sn);
		if (!sn.sn_nodeid || (sn.sn_flags & ~SNAPN_FLAGS) ||
		    (i && sn.sn_nodeid <= ls->ls_nodes[i - 1]->nd_id))
			return SDLM_EPROTO;
		if (!(sn.sn_flags & SNAPN_HAS_FENCED_INC) &&
		    ((sn.sn_flags & SNAPN_FENCED) || sn.sn_fenced_inc))
			return SDLM_EPROTO;
		if ((sn.sn_flags & SNAPN_NEED_FENCE_SENT) &&
		    (sn.sn_flags & SNAPN_MEMBER))
			return SDLM_EPROTO;
		nd = node_alloc(ls, sn.sn_nodeid);
		if (!nd)
			return -ENOMEM;
		nd->nd_member = sn.sn_flags & SNAPN_MEMBER;
		nd->nd_live = sn.sn_flags & SNAPN_LIVE;
		nd->nd_pill = sn.sn_flags & SNAPN_PILL;
		nd->nd_fenced = sn.sn_flags & SNAPN_FENCED;
		nd->nd_has_fenced_inc = sn.sn_flags & SNAPN_HAS_FENCED_INC;
		nd->nd_need_fence_sent = sn.sn_flags & SNAPN_NEED_FENCE_SENT;
		nd->nd_fenced_inc = sn.sn_fenced_inc;
		ls->ls_nodes[ls->ls_node_count++] = nd;
	}
	return 0;
}

/* Decode the member section (minor 2): incarnation 0 iff proto 0,
 * reserved zero, at least one record.  0 or SDLM_EPROTO. */
static int snap_members_in(struct ls_state *ls, const uint8_t *p)
{
	size_t i;
	bool any = false;

	for (i = 0; i < ls->ls_node_count; i++, p += sizeof(struct ls_snap_member)) {
		uint64_t inc = GET(64, p, struct ls_snap_member, sm_incarnation);
		uint16_t proto = GET(16, p, struct ls_snap_member, sm_proto);

		if (GET(16, p, struct ls_snap_member, sm_reserved16) ||
		    GET(32, p, struct ls_snap_member, sm_reserved) ||
		    !inc != !proto)
			return SDLM_EPROTO;
		ls->ls_nodes[i]->nd_inc = inc;
		ls->ls_nodes[i]->nd_proto = proto;
		any |= inc != 0;
	}
	return any ? 0 : SDLM_EPROTO;
}

/* Check one decoded lock record against its resource and the nodes. */
static int snap_lock_check(const struct ls_state *ls,
			   const struct ls_snap_lock *sl, int prev_queue,
			   uint64_t lock_seq, struct ls_node **ndp)
{
	int gr = mode_in(sl->sl_grmode), rq = mode_in(sl->sl_rqmode);
	int bast = mode_in(sl->sl_bast_mode);
	struct ls_node *nd;

	if (sl->sl_reserved || sl->sl_queue > LS_Q_WAIT ||
	    sl->sl_queue < prev_queue || (sl->sl_flags & ~LS_LKF_ALL) ||
	    (sl->sl_lkid >> 32) != sl->sl_nodeid || sl->sl_seq >= lock_seq)
		return SDLM_EPROTO;
	if ((gr != MODE_NONE && !mode_valid(gr)) || !mode_valid(rq) ||
	    (bast != MODE_NONE && !mode_valid(bast)))
		return SDLM_EPROTO;
	switch (sl->sl_queue) {
	case LS_Q_GRANTED:
		if (gr != rq)
			return SDLM_EPROTO;
		break;
	case LS_Q_CONVERT:
		if (gr == MODE_NONE || mode_covers(gr, rq))
			return SDLM_EPROTO;
		break;
	default:
		if (gr != MODE_NONE || bast != MODE_NONE)
			return SDLM_EPROTO;
		break;
	}
	nd = node_find(ls, sl->sl_nodeid);
	/* a fenced node holds nothing; an away node only granted locks */
	if (!nd || nd->nd_fenced ||
	    (!nd->nd_member && sl->sl_queue != LS_Q_GRANTED))
		return SDLM_EPROTO;
	if (lock_find(ls, sl->sl_lkid))
		return SDLM_EPROTO;
	*ndp = nd;
	return 0;
}

/* No two granted modes on res may conflict: the safety invariant. */
static bool res_grants_sane(const struct ls_res *res)
{
	int a, b;

	for (a = 0; a < MODE_COUNT; a++) {
		if (!res->res_grcount[a])
			continue;
		if (res->res_grcount[a] > 1 && !mode_compat(a, a))
			return false;
		for (b = a + 1; b < MODE_COUNT; b++)
			if (res->res_grcount[b] && !mode_compat(a, b))
				return false;
	}
	return true;
}

int ls_snapshot_decode(const void *buf, size_t len, struct ls_state **lsp)
{
	const size_t fixed = sizeof(struct ls_snap_hdr) +
			     sizeof(struct ls_snap_tail);
	struct ls_params params = { 0 };
	struct ls_lock **all = NULL, *lk;
	struct ls_res *res, *prev = NULL, **byname = NULL;
	struct ls_state *ls = NULL;
	struct ls_snap_hdr h;
	struct ls_snap_res sr;
	struct ls_snap_lock sl;
	struct ls_node *nd;
	const uint8_t *p = buf;
	size_t off, end, i, j, nall = 0, epoch_len = 0, member_len = 0;
	int rc, prev_queue;

	if (!buf || !lsp || len < fixed)
		return SDLM_EPROTO;
	snap_hdr_in(p, &h);
	if (h.sh_magic != LS_SNAP_MAGIC)
		return SDLM_EMAGIC;
	if (h.sh_major != LS_SNAP_MAJOR || h.sh_minor > LS_SNAP_MINOR)
		return SDLM_EVERSION;
	if (h.sh_total_len != len)
		return SDLM_EPROTO;
	end = len - sizeof(struct ls_snap_tail);
	if (get32(p + end + offsetof(struct ls_snap_tail, st_crc)) !=
	    crc32c(0, p, end + offsetof(struct ls_snap_tail, st_crc)))
		return SDLM_ECHECKSUM;
	/* a good checksum does not make the content sane */
	if (get32(p + end + offsetof(struct ls_snap_tail, st_reserved)) ||
	    (h.sh_flags & ~SNAP_HDR_FLAGS) ||
	    ((h.sh_flags & SNAP_REBUILD) && (h.sh_flags & SNAP_GATE_OPEN)) ||
	    h.sh_node_count > LS_NODE_RECS_MAX ||
	    h.sh_res_count > h.sh_lock_count)
		return SDLM_EPROTO;
	if (h.sh_minor >= 1)
		epoch_len = snap_epoch_size(h.sh_res_count);
	if (h.sh_minor >= 2)
		member_len = (size_t)h.sh_node_count * sizeof(struct ls_snap_member);
	if ((uint64_t)h.sh_node_count * sizeof(struct ls_snap_node) +
	    (uint64_t)h.sh_res_count * sizeof(struct ls_snap_res) +
	    (uint64_t)h.sh_lock_count * sizeof(struct ls_snap_lock) +
	    epoch_len + member_len != len - fixed)
		return SDLM_EPROTO;
	end -= epoch_len + member_len;

	params.cold = !(h.sh_flags & SNAP_GATE_OPEN);
	params.default_live = h.sh_flags & SNAP_DEFAULT_LIVE;
	params.rebuild = h.sh_flags & SNAP_REBUILD;
	rc = ls_create(&params, &ls);
	if (rc)
		return rc;
	ls->ls_quorate = h.sh_flags & SNAP_QUORATE;
	ls->ls_ring_id = h.sh_ring_id;
	ls->ls_lock_seq = h.sh_lock_seq;

	off = sizeof(struct ls_snap_hdr);
	rc = snap_nodes_in(ls, p + off, h.sh_node_count);
	if (rc)
		goto out_destroy;
	off += h.sh_node_count * sizeof(struct ls_snap_node);

	all = malloc((h.sh_lock_count ? h.sh_lock_count : 1) * sizeof(*all));
	byname = malloc((h.sh_res_count ? h.sh_res_count : 1) *
			sizeof(*byname));
	if (!all || !byname) {
		rc = -ENOMEM;
		goto out_free_all;
	}
	for (i = 0; i < h.sh_res_count; i++) {
		rc = SDLM_EPROTO;
		if (end - off < sizeof(struct ls_snap_res))
			goto out_free_all;
		snap_res_in(p + off, &sr);
		off += sizeof(struct ls_snap_res);
		if (!sr.sr_namelen || sr.sr_namelen > SDLM_NAME_MAX ||
		    (sr.sr_flags & ~SNAPR_LVB_VALID) || sr.sr_reserved ||
		    !sr.sr_lock_count ||
		    sr.sr_lock_count > h.sh_lock_count - nall ||
		    (end - off) / sizeof(struct ls_snap_lock) <
		    sr.sr_lock_count)
			goto out_free_all;
		for (j = sr.sr_namelen; j < SDLM_NAME_MAX; j++)
			if (sr.sr_name[j])
				goto out_free_all;
		if (!(sr.sr_flags & SNAPR_LVB_VALID))
			for (j = 0; j < LS_LVB_LEN; j++)
				if (sr.sr_lvb[j])
					goto out_free_all;
		rc = res_create(ls, sr.sr_name, sr.sr_namelen, &res);
		if (rc)
			goto out_free_all;
		res->res_lvb_valid = sr.sr_flags & SNAPR_LVB_VALID;
		memcpy(res->res_lvb, sr.sr_lvb, LS_LVB_LEN);
		/* strictly ascending names, hence also unique */
		if (prev && res_cmp(&prev, &res) >= 0) {
			rc = SDLM_EPROTO;
			goto out_free_res;
		}
		prev_queue = LS_Q_GRANTED;
		for (j = 0; j < sr.sr_lock_count; j++) {
			snap_lock_in(p + off, &sl);
			off += sizeof(struct ls_snap_lock);
			rc = snap_lock_check(ls, &sl, prev_queue,
					     h.sh_lock_seq, &nd);
			if (rc)
				goto out_free_res;
			prev_queue = sl.sl_queue;
			lk = calloc(1, sizeof(*lk));
			if (!lk) {
				rc = -ENOMEM;
				goto out_free_res;
			}
			lk->lk_id = sl.sl_lkid;
			lk->lk_seq = sl.sl_seq;
			lk->lk_flags = sl.sl_flags;
			lk->lk_grmode = (int8_t)mode_in(sl.sl_grmode);
			lk->lk_rqmode = (int8_t)mode_in(sl.sl_rqmode);
			lk->lk_bast_mode = (int8_t)mode_in(sl.sl_bast_mode);
			lk->lk_queue = sl.sl_queue;
			lk->lk_res = res;
			lk->lk_node = nd;
			lock_link(ls, lk);
			all[nall++] = lk;
		}
		if (!res_grants_sane(res)) {
			rc = SDLM_EPROTO;
			goto out_free_all;
		}
		res_update_pending(ls, res);
		byname[i] = res;
		prev = res;
	}
	rc = SDLM_EPROTO;
	if (off != end || nall != h.sh_lock_count)
		goto out_free_all;
	/* no resource epoch above the counter that handed it out */
	if (epoch_len) {
		ls->ls_epoch = get64(p + off);
		for (i = 0; i < h.sh_res_count; i++) {
			byname[i]->res_epoch = get64(p + off + 8 * (i + 1));
			if (byname[i]->res_epoch > ls->ls_epoch)
				goto out_free_all;
		}
	}
	if (member_len) {
		rc = snap_members_in(ls, p + off + epoch_len);
		if (rc)
			goto out_free_all;
		rc = SDLM_EPROTO;
	}

	/* node lock lists in creation order; lk_seq must be unique */
	qsort(all, nall, sizeof(*all), lock_seq_cmp);
	for (i = 0; i < nall; i++) {
		if (i && all[i]->lk_seq == all[i - 1]->lk_seq)
			goto out_free_all;
		dl_del(&all[i]->lk_nlink);
		dl_add_tail(&all[i]->lk_node->nd_locks, &all[i]->lk_nlink);
	}
	free(byname);
	free(all);
	*lsp = ls;
	return 0;

out_free_res:
	/* res is hashed and owns the locks linked so far: ls_destroy frees
	 * them; an empty res must still be freed by hand */
	if (!res->res_nlocks)
		res_put(ls, res);
out_free_all:
	free(byname);
	free(all);
out_destroy:
	ls_destroy(ls);
	return rc;
}

/* ---- the transfer: bookkeeping, then the snapshot (lssnap.h) ---- */

/* The two fixed records of the transfer; the id lists between them are
 * plain u32 runs, so a record can start at any multiple of 4. */
struct lssnap_hdr_wire {
	uint32_t	magic;
	uint32_t	n_ready;
	uint32_t	n_tainted;
	uint32_t	n_waiting;
	uint32_t	n_xfer;
	uint32_t	n_dirty;
	uint32_t	n_refused;
	uint32_t	decided;
	uint64_t	formed;
	uint64_t	gen;
};
_Static_assert(sizeof(struct lssnap_hdr_wire) == LSSNAP_HDR_LEN,
	       "lssnap_hdr_wire layout");
_Static_assert(offsetof(struct lssnap_hdr_wire, formed) == 32,
	       "lssnap_hdr_wire formed");

struct lssnap_xfer_wire {
	uint32_t	sender;
	uint32_t	basis_node;
	uint64_t	xfer_id;
	uint64_t	basis_inc;
	uint64_t	basis_seq;
	uint32_t	total;
	uint32_t	got;
	uint32_t	n_waiting;
	uint32_t	pad;
};
_Static_assert(sizeof(struct lssnap_xfer_wire) == LSSNAP_XFER_LEN,
	       "lssnap_xfer_wire layout");
_Static_assert(offsetof(struct lssnap_xfer_wire, total) == 32,
	       "lssnap_xfer_wire total");

#define HPUT(sz, p, field, v)	PUT(sz, p, struct lssnap_hdr_wire, field, v)
#define HGET(sz, p, field)	GET(sz, p, struct lssnap_hdr_wire, field)
#define XPUT(sz, p, field, v)	PUT(sz, p, struct lssnap_xfer_wire, field, v)
#define XGET(sz, p, field)	GET(sz, p, struct lssnap_xfer_wire, field)

/*
 * The book's five node lists, in their order on the wire: every pass over
 * them (counts, size, sanity, encode, decode) walks this one table.
 */
static const struct {
	size_t ids;		/* offsetof the uint32_t array */
	size_t n;		/* offsetof its size_t count */
} book_list[] = {
	{ offsetof(struct lssnap_book, ready),	 offsetof(struct lssnap_book, n_ready) },
	{ offsetof(struct lssnap_book, tainted), offsetof(struct lssnap_book, n_tainted) },
	{ offsetof(struct lssnap_book, waiting), offsetof(struct lssnap_book, n_waiting) },
	{ offsetof(struct lssnap_book, dirty),	 offsetof(struct lssnap_book, n_dirty) },
	{ offsetof(struct lssnap_book, refused), offsetof(struct lssnap_book, n_refused) },
};
#define BOOK_LISTS	(sizeof(book_list) / sizeof(book_list[0]))

static const uint32_t *list_ids(const struct lssnap_book *b, size_t k)
{
	return (const uint32_t *)((const uint8_t *)b + book_list[k].ids);
}

static size_t list_n(const struct lssnap_book *b, size_t k)
{
	return *(const size_t *)((const uint8_t *)b + book_list[k].n);
}

static uint32_t *list_ids_mut(struct lssnap_book *b, size_t k)
{
	return (uint32_t *)((uint8_t *)b + book_list[k].ids);
}

/* A node list as the daemon keeps it: ids non-zero, strictly ascending. */
static bool ids_sane(const uint32_t *ids, size_t n)
{
	size_t i;

	if (n > LS_MEMBERS_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!ids[i] || (i && ids[i] <= ids[i - 1]))
			return false;
	return true;
}

/* An active transfer: a chunk that reaches total ends it, and chunks are
 * never empty (msg.h), so got < total unless no chunk came yet. */
static bool xfer_sane(const struct lssnap_xfer *x)
{
	return x->sender && x->basis_node &&
	       (x->got < x->total || (!x->got && !x->total)) &&
	       ids_sane(x->waiting, x->n_waiting);
}

/* The predicate both directions share (the pad is the decoder's). */
static bool book_sane(const struct lssnap_book *b)
{
	size_t i, j;

	for (i = 0; i < BOOK_LISTS; i++)
		if (!ids_sane(list_ids(b, i), list_n(b, i)))
			return false;
	if (b->n_xfer > LSSNAP_XFER_MAX)
		return false;
	for (i = 0; i < b->n_xfer; i++) {
		if (!xfer_sane(&b->xf[i]))
			return false;
		for (j = 0; j < i; j++)
			if (b->xf[j].sender == b->xf[i].sender &&
			    b->xf[j].xfer_id == b->xf[i].xfer_id)
				return false;
	}
	return true;
}

/* Bytes before the lock state snapshot (counts as given: check first). */
static uint64_t book_size(const struct lssnap_book *b)
{
	uint64_t n = LSSNAP_HDR_LEN;
	size_t i;

	for (i = 0; i < BOOK_LISTS; i++)
		n += 4 * (uint64_t)list_n(b, i);
	for (i = 0; i < b->n_xfer && i < LSSNAP_XFER_MAX; i++)
		n += LSSNAP_XFER_LEN + 4 * (uint64_t)b->xf[i].n_waiting;
	return n;
}

size_t lssnap_size(const struct lssnap_book *b, const struct ls_state *st)
{
	return (size_t)book_size(b) + ls_snapshot_size(st);
}

static size_t ids_out(uint8_t *p, const uint32_t *ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		put32(p + 4 * i, ids[i]);
	return 4 * n;
}

int lssnap_encode(const struct lssnap_book *b, const struct ls_state *st,
		  void *buf, size_t len, size_t *written)
{
	uint8_t *p = buf;
	uint64_t head, need;
	size_t off, i, w = 0;
	int rc;

	if (!b || !st || !buf || !written || !book_sane(b))
		return -EINVAL;
	head = book_size(b);
	need = head + ls_snapshot_size(st);
	if (need > UINT32_MAX)
		return -EINVAL;
	if (len < need)
		return -ENOSPC;
	memset(p, 0, LSSNAP_HDR_LEN);
	HPUT(32, p, magic, LSSNAP_MAGIC);
	HPUT(32, p, n_ready, (uint32_t)b->n_ready);
	HPUT(32, p, n_tainted, (uint32_t)b->n_tainted);
	HPUT(32, p, n_waiting, (uint32_t)b->n_waiting);
	HPUT(32, p, n_xfer, (uint32_t)b->n_xfer);
	HPUT(32, p, n_dirty, (uint32_t)b->n_dirty);
	HPUT(32, p, n_refused, (uint32_t)b->n_refused);
	HPUT(32, p, decided, b->decided ? 1 : 0);
	HPUT(64, p, formed, b->formed);
	HPUT(64, p, gen, b->gen);
	off = LSSNAP_HDR_LEN;
	for (i = 0; i < BOOK_LISTS; i++)
		off += ids_out(p + off, list_ids(b, i), list_n(b, i));
	for (i = 0; i < b->n_xfer; i++) {
		const struct lssnap_xfer *x = &b->xf[i];
		uint8_t *r = p + off;

		memset(r, 0, LSSNAP_XFER_LEN);	/* and so the pad */
		XPUT(32, r, sender, x->sender);
		XPUT(32, r, basis_node, x->basis_node);
		XPUT(64, r, xfer_id, x->xfer_id);
		XPUT(64, r, basis_inc, x->basis_inc);
		XPUT(64, r, basis_seq, x->basis_seq);
		XPUT(32, r, total, x->total);
		XPUT(32, r, got, x->got);
		XPUT(32, r, n_waiting, (uint32_t)x->n_waiting);
		off += LSSNAP_XFER_LEN;
		off += ids_out(p + off, x->waiting, x->n_waiting);
	}
	rc = ls_snapshot_encode(st, p + off, len - off, &w);
	if (rc)
		return rc;
	*written = off + w;
	return 0;
}

/* n ids at *off, if they are inside the buffer. */
static bool ids_in(const uint8_t *p, size_t len, size_t *off, uint32_t *ids,
		   size_t n)
{
	size_t i;

	if ((len - *off) / 4 < n)
		return false;
	for (i = 0; i < n; i++)
		ids[i] = get32(p + *off + 4 * i);
	*off += 4 * n;
	return true;
}

int lssnap_decode(const void *buf, size_t len, struct lssnap_book *out,
		  struct ls_state **stp)
{
	struct lssnap_book b;
	struct ls_state *st = NULL;
	const uint8_t *p = buf;
	uint32_t decided, pad;
	size_t off, i;
	int rc;

	if (!buf || !out || !stp || len < LSSNAP_HDR_LEN || len > UINT32_MAX)
		return SDLM_EPROTO;
	if (HGET(32, p, magic) != LSSNAP_MAGIC)
		return SDLM_EMAGIC;
	memset(&b, 0, sizeof(b));
	b.n_ready = HGET(32, p, n_ready);
	b.n_tainted = HGET(32, p, n_tainted);
	b.n_waiting = HGET(32, p, n_waiting);
	b.n_xfer = HGET(32, p, n_xfer);
	b.n_dirty = HGET(32, p, n_dirty);
	b.n_refused = HGET(32, p, n_refused);
	decided = HGET(32, p, decided);
	b.formed = HGET(64, p, formed);
	b.gen = HGET(64, p, gen);
	for (i = 0; i < BOOK_LISTS; i++)
		if (list_n(&b, i) > LS_MEMBERS_MAX)
			return SDLM_EPROTO;
	if (b.n_xfer > LSSNAP_XFER_MAX || decided > 1)
		return SDLM_EPROTO;
	b.decided = decided;
	off = LSSNAP_HDR_LEN;
	for (i = 0; i < BOOK_LISTS; i++)
		if (!ids_in(p, len, &off, list_ids_mut(&b, i), list_n(&b, i)))
			return SDLM_EPROTO;
	for (i = 0; i < b.n_xfer; i++) {
		struct lssnap_xfer *x = &b.xf[i];

		if (len - off < LSSNAP_XFER_LEN)
			return SDLM_EPROTO;
		x->sender = XGET(32, p + off, sender);
		x->basis_node = XGET(32, p + off, basis_node);
		x->xfer_id = XGET(64, p + off, xfer_id);
		x->basis_inc = XGET(64, p + off, basis_inc);
		x->basis_seq = XGET(64, p + off, basis_seq);
		x->total = XGET(32, p + off, total);
		x->got = XGET(32, p + off, got);
		x->n_waiting = XGET(32, p + off, n_waiting);
		pad = XGET(32, p + off, pad);
		off += LSSNAP_XFER_LEN;
		if (pad || x->n_waiting > LS_MEMBERS_MAX ||
		    !ids_in(p, len, &off, x->waiting, x->n_waiting))
			return SDLM_EPROTO;
	}
	if (!book_sane(&b))
		return SDLM_EPROTO;
	rc = ls_snapshot_decode(p + off, len - off, &st);
	if (rc)
		return rc;
	memcpy(out, &b, sizeof(b));
	*stp = st;
	return 0;
}
