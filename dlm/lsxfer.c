/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lsxfer.c - state transfer of a lockspace (lsint.h): the responder's
 * snapshot, and on a member waiting for it the buffered stream, the
 * collected chunks, the load and the replay.  Who sends to whom, and when
 * a member becomes ready, is decided in lsround.c.
 *
 * The snapshot a responder sends is the lock state plus the bookkeeping a
 * newcomer cannot know, both as of the basis JOIN:
 *
 *	u32 magic "SLS3"  u32 n_ready  u32 n_tainted  u32 n_waiting
 *	u32 n_xfer  u32 n_dirty  u32 n_refused  u32 decided (0/1)
 *	u64 formed  u64 gen  (the replica's history, lsround.c)
 *	ready[], tainted[], waiting[], dirty[], refused[] (u32 node ids)
 *	per transfer: u32 sender, u32 basis_node, u64 xfer_id, u64 basis_inc,
 *	              u64 basis_seq, u32 total, u32 got, u32 n_waiting,
 *	              u32 pad, waiting[] (u32)
 *	then the lockstate snapshot (its own magic, version and CRC)
 * little-endian; the whole is covered by the transfer's CRC32C.
 *
 * While not ready, a member keeps the ordered stream from its latest round
 * on (messages, confchgs, totem changes: see the CPG callbacks); on a
 * complete transfer whose basis JOIN is in that buffer it loads the state,
 * drops what precedes the basis and replays the rest (rounds and transfers
 * included), so its bookkeeping ends where every other member's is.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sdlm.h"
#include "log.h"
#include "crc32c.h"
#include "lsint.h"

#define SYNC_MAGIC	0x33534c53u	/* "SLS3" */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static void wb_put(struct wbuf *w, const void *d, size_t n)
{
	if (w->oom)
		return;
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		uint8_t *np;

		while (cap < w->len + n)
			cap *= 2;
		np = realloc(w->p, cap);
		if (!np) {
			w->oom = true;
			return;
		}
		w->p = np;
		w->cap = cap;
	}
	memcpy(w->p + w->len, d, n);
	w->len += n;
}

static void wb_u32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	wb_put(w, b, 4);
}

static void wb_u64(struct wbuf *w, uint64_t v)
{
	wb_u32(w, (uint32_t)v);
	wb_u32(w, (uint32_t)(v >> 32));
}

struct rbuf {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};

static uint32_t rb_u32(struct rbuf *r)
{
	const uint8_t *b;

	if (r->bad || r->len - r->off < 4) {
		r->bad = true;
		return 0;
	}
	b = r->p + r->off;
	r->off += 4;
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t rb_u64(struct rbuf *r)
{
	uint64_t lo = rb_u32(r);

	return lo | (uint64_t)rb_u32(r) << 32;
}

static void rb_ids(struct rbuf *r, uint32_t *ids, size_t *n, uint32_t count)
{
	uint32_t i;

	if (count > NODES_MAX) {
		r->bad = true;
		return;
	}
	for (i = 0; i < count; i++)
		ids[i] = rb_u32(r);
	*n = r->bad ? 0 : count;
}

void send_snapshot(struct lspace *l, const struct msg *basis, uint64_t xfer_id)
{
	size_t slen = ls_snapshot_size(l->st), w = 0, off, i, k;
	struct wbuf wb = { 0 };
	struct msg m;
	uint8_t *sbuf;
	uint32_t crc;
	int rc;

	wb_u32(&wb, SYNC_MAGIC);
	wb_u32(&wb, (uint32_t)l->n_ready);
	wb_u32(&wb, (uint32_t)l->n_tainted);
	wb_u32(&wb, (uint32_t)l->n_waiting);
	for (i = 0, k = 0; i < XFER_MAX; i++)
		k += l->xf[i].active;
	wb_u32(&wb, (uint32_t)k);
	wb_u32(&wb, (uint32_t)l->n_dirty);
	wb_u32(&wb, (uint32_t)l->n_refused);
	wb_u32(&wb, l->hist_decided ? 1 : 0);
	wb_u64(&wb, l->hist_formed);
	wb_u64(&wb, l->hist_gen);
	for (i = 0; i < l->n_ready; i++)
		wb_u32(&wb, l->ready_nodes[i]);
	for (i = 0; i < l->n_tainted; i++)
		wb_u32(&wb, l->tainted_nodes[i]);
	for (i = 0; i < l->n_waiting; i++)
		wb_u32(&wb, l->waiting_nodes[i]);
	for (i = 0; i < l->n_dirty; i++)
		wb_u32(&wb, l->dirty_nodes[i]);
	for (i = 0; i < l->n_refused; i++)
		wb_u32(&wb, l->refused[i]);
	for (i = 0; i < XFER_MAX; i++) {
		const struct xfer *x = &l->xf[i];

		if (!x->active)
			continue;
		wb_u32(&wb, x->sender);
		wb_u32(&wb, x->basis_node);
		wb_u64(&wb, x->xfer_id);
		wb_u64(&wb, x->basis_inc);
		wb_u64(&wb, x->basis_seq);
		wb_u32(&wb, x->total);
		wb_u32(&wb, x->got);
		wb_u32(&wb, (uint32_t)x->n_waiting);
		wb_u32(&wb, 0);
		for (k = 0; k < x->n_waiting; k++)
			wb_u32(&wb, x->waiting[k]);
	}
	sbuf = malloc(slen ? slen : 1);
	if (!sbuf || wb.oom) {
		log_err("ls %s: no memory for a snapshot", l->name);
		goto out;
	}
	rc = ls_snapshot_encode(l->st, sbuf, slen, &w);
	if (rc < 0) {
		log_err("ls %s: snapshot: %s", l->name, sdlm_strerror(rc));
		goto out;
	}
	wb_put(&wb, sbuf, w);
	if (wb.oom)
		goto out;
	crc = crc32c(0, wb.p, wb.len);
	for (off = 0; off < wb.len; off += MSG_SNAP_CHUNK_MAX) {
		memset(&m, 0, sizeof(m));
		m.m_type = MSG_SNAPSHOT;
		m.u.snap.xfer_id = xfer_id;
		m.u.snap.basis_nodeid = basis->m_nodeid;
		m.u.snap.basis_incarnation = basis->m_incarnation;
		m.u.snap.basis_seq = basis->m_seq;
		m.u.snap.total_len = (uint32_t)wb.len;
		m.u.snap.offset = (uint32_t)off;
		m.u.snap.total_crc = crc;
		m.u.snap.data = wb.p + off;
		m.u.snap.len = (uint32_t)(wb.len - off < MSG_SNAP_CHUNK_MAX ?
					  wb.len - off : MSG_SNAP_CHUNK_MAX);
		send_msg(l, &m);
	}
	log_info("ls %s: sent state (%zu bytes, %zu locks) for node %u's join", l->name,
		 wb.len, ls_lock_count(l->st), basis->m_nodeid);
out:
	free(sbuf);
	free(wb.p);
}

/* --- waiting for the state ---------------------------------------------- */

struct buffered *buf_add(struct lspace *l, enum buf_kind kind)
{
	struct buffered *b;

	if (l->nbuf == l->capbuf) {
		size_t cap = l->capbuf ? 2 * l->capbuf : 64;
		struct buffered *nb = realloc(l->buf, cap * sizeof(*nb));

		if (!nb) {
			log_err("ls %s: cannot buffer during the state transfer", l->name);
			return NULL;
		}
		l->buf = nb;
		l->capbuf = cap;
	}
	b = &l->buf[l->nbuf++];
	memset(b, 0, sizeof(*b));
	b->kind = kind;
	return b;
}

static int load_sync(struct lspace *l, const uint8_t *p, size_t len)
{
	struct rbuf r = { .p = p, .len = len };
	uint32_t nr, nt, nw, nx, nd, nf, decided, i;
	struct ls_state *st = NULL;
	int rc;

	if (rb_u32(&r) != SYNC_MAGIC)
		return SDLM_EMAGIC;
	nr = rb_u32(&r);
	nt = rb_u32(&r);
	nw = rb_u32(&r);
	nx = rb_u32(&r);
	nd = rb_u32(&r);
	nf = rb_u32(&r);
	decided = rb_u32(&r);
	l->hist_formed = rb_u64(&r);
	l->hist_gen = rb_u64(&r);
	if (r.bad || nx > XFER_MAX || decided > 1)
		return SDLM_EPROTO;
	l->hist_decided = decided;
	rb_ids(&r, l->ready_nodes, &l->n_ready, nr);
	rb_ids(&r, l->tainted_nodes, &l->n_tainted, nt);
	rb_ids(&r, l->waiting_nodes, &l->n_waiting, nw);
	rb_ids(&r, l->dirty_nodes, &l->n_dirty, nd);
	rb_ids(&r, l->refused, &l->n_refused, nf);
	l->clean_sent = false;
	l->cache_ok = false;
	memset(l->xf, 0, sizeof(l->xf));
	for (i = 0; i < nx && !r.bad; i++) {
		struct xfer *x = &l->xf[i];
		uint32_t n;

		x->active = true;
		x->sender = rb_u32(&r);
		x->basis_node = rb_u32(&r);
		x->xfer_id = rb_u64(&r);
		x->basis_inc = rb_u64(&r);
		x->basis_seq = rb_u64(&r);
		x->total = rb_u32(&r);
		x->got = rb_u32(&r);
		n = rb_u32(&r);
		rb_u32(&r);
		rb_ids(&r, x->waiting, &x->n_waiting, n);
	}
	if (r.bad)
		return SDLM_EPROTO;
	rc = ls_snapshot_decode(p + r.off, len - r.off, &st);
	if (rc < 0)
		return rc;
	l->st = st;
	return 0;
}

/* A complete transfer whose basis is in our buffer: take it and replay. */
static void take_state(struct lspace *l, struct collect *c)
{
	size_t i, start = SIZE_MAX;
	int rc;

	for (i = 0; i < l->nbuf; i++) {
		const struct msg *bm = &l->buf[i].m;

		if (l->buf[i].kind == BUF_MSG && bm->m_type == MSG_JOIN &&
		    bm->m_nodeid == c->basis_node && bm->m_incarnation == c->basis_inc &&
		    bm->m_seq == c->basis_seq) {
			start = i + 1;
			break;
		}
	}
	if (start == SIZE_MAX)
		return;		/* its basis precedes what we buffered */
	if (lsm.h.is_fenced && lsm.h.is_fenced(lsm.h.ctx)) {
		log_notice("ls %s: state from node %u not taken: this incarnation fenced itself",
			   l->name, c->sender);
		return;
	}
	rc = load_sync(l, c->data, c->total);
	if (rc < 0) {
		log_err("ls %s: state from node %u unusable: %s", l->name, c->sender,
			sdlm_strerror(rc));
		return;
	}
	l->ready = true;
	l->drop_have = false;
	if (set_has(l->refused, l->n_refused, lsm.h.nodeid)) {
		/* Refused at the basis: this incarnation was fenced. */
		ls_destroy(l->st);
		l->st = NULL;
		l->ready = false;
		l->nbuf = 0;
		refused_self(l);
		return;
	}
	log_notice("ls %s: state received from node %u (%u bytes, %zu locks, basis %u:%llx:%llu, digest %016llx)",
		   l->name, c->sender, c->total, ls_lock_count(l->st), c->basis_node,
		   (unsigned long long)c->basis_inc, (unsigned long long)c->basis_seq,
		   (unsigned long long)ls_digest(l->st));
	/* The rounds and transfers after the basis are replayed too, so our
	 * bookkeeping ends where every other member's is. */
	l->replaying = true;
	for (i = start; i < l->nbuf; i++) {
		struct buffered *b = &l->buf[i];

		switch (b->kind) {
		case BUF_CONFCHG:
			handle_confchg(l, b->members, b->n_members, b->left, b->n_left,
				       b->quorate, b->ring_id, b->tag);
			break;
		case BUF_TOTEM:
			handle_view(l, b->members, b->n_members, b->quorate, b->ring_id);
			break;
		case BUF_MSG:
			handle_msg(l, &b->m);
			break;
		}
	}
	l->replaying = false;
	l->nbuf = 0;
	for (i = 0; i < XFER_MAX; i++) {
		free(l->col[i].data);
		memset(&l->col[i], 0, sizeof(l->col[i]));
	}
	if (l->ready && set_has(l->refused, l->n_refused, lsm.h.nodeid)) {
		/* refused by a round replayed after the basis */
		ls_destroy(l->st);
		l->st = NULL;
		l->ready = false;
		refused_self(l);
		return;
	}
	if (l->ready) {
		reconcile(l);
		fencer_duties(l, now_ms());
	}
}

void collect_chunk(struct lspace *l, const struct msg *m)
{
	const struct msg_snapshot *s = &m->u.snap;
	struct collect *c = NULL;
	size_t i;

	for (i = 0; i < XFER_MAX; i++)
		if (l->col[i].active && l->col[i].sender == m->m_nodeid &&
		    l->col[i].xfer_id == s->xfer_id)
			c = &l->col[i];
	if (!c) {
		if (s->offset != 0)
			return;		/* joined the transfer midway */
		for (i = 0; i < XFER_MAX && !c; i++)
			if (!l->col[i].active)
				c = &l->col[i];
		if (!c)
			return;
		memset(c, 0, sizeof(*c));
		c->data = malloc(s->total_len ? s->total_len : 1);
		if (!c->data)
			return;
		c->active = true;
		c->sender = m->m_nodeid;
		c->xfer_id = s->xfer_id;
		c->total = s->total_len;
		c->crc = s->total_crc;
		c->basis_node = s->basis_nodeid;
		c->basis_inc = s->basis_incarnation;
		c->basis_seq = s->basis_seq;
	}
	if (s->offset != c->got || s->total_len != c->total || s->offset + s->len > c->total)
		return;
	memcpy(c->data + s->offset, s->data, s->len);
	c->got += s->len;
	if (c->got < c->total)
		return;
	if (crc32c(0, c->data, c->total) != c->crc) {
		log_err("ls %s: state transfer from node %u: checksum mismatch", l->name, c->sender);
	} else {
		take_state(l, c);
		if (l->ready)
			return;		/* take_state freed the collections */
	}
	free(c->data);
	memset(c, 0, sizeof(*c));
}
