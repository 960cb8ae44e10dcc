/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lsxfer.c - state transfer of a lockspace (lsint.h): the responder's
 * snapshot, and on a member waiting for it the buffered stream, the
 * collected chunks, the load and the replay.  Who sends to whom, and when
 * a member becomes ready, is decided in lsround.c.
 *
 * The snapshot a responder sends is the lock state plus the bookkeeping a
 * newcomer cannot know (ready, waiting, dirty and refused sets, the
 * replica's history, the transfers in progress), both as of the basis
 * JOIN: lssnap.h has the bytes and their checks; here the lockspace is
 * copied into a struct lssnap_book and back.
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

static void book_of(const struct lspace *l, struct lssnap_book *b)
{
	size_t i;

	memset(b, 0, sizeof(*b));
	memcpy(b->ready, l->ready_nodes, l->n_ready * sizeof(uint32_t));
	b->n_ready = l->n_ready;
	memcpy(b->tainted, l->tainted_nodes, l->n_tainted * sizeof(uint32_t));
	b->n_tainted = l->n_tainted;
	memcpy(b->waiting, l->waiting_nodes, l->n_waiting * sizeof(uint32_t));
	b->n_waiting = l->n_waiting;
	memcpy(b->dirty, l->dirty_nodes, l->n_dirty * sizeof(uint32_t));
	b->n_dirty = l->n_dirty;
	memcpy(b->refused, l->refused, l->n_refused * sizeof(uint32_t));
	b->n_refused = l->n_refused;
	b->decided = l->hist_decided;
	b->formed = l->hist_formed;
	b->gen = l->hist_gen;
	for (i = 0; i < LSXFER_MAX; i++)
		if (l->xf[i].active)
			b->xf[b->n_xfer++] = l->xf[i].t;
}

/* A decoded book becomes the lockspace's (everything decoded already). */
static void book_apply(struct lspace *l, const struct lssnap_book *b)
{
	size_t i;

	memcpy(l->ready_nodes, b->ready, b->n_ready * sizeof(uint32_t));
	l->n_ready = b->n_ready;
	memcpy(l->tainted_nodes, b->tainted, b->n_tainted * sizeof(uint32_t));
	l->n_tainted = b->n_tainted;
	memcpy(l->waiting_nodes, b->waiting, b->n_waiting * sizeof(uint32_t));
	l->n_waiting = b->n_waiting;
	memcpy(l->dirty_nodes, b->dirty, b->n_dirty * sizeof(uint32_t));
	l->n_dirty = b->n_dirty;
	memcpy(l->refused, b->refused, b->n_refused * sizeof(uint32_t));
	l->n_refused = b->n_refused;
	l->hist_decided = b->decided;
	l->hist_formed = b->formed;
	l->hist_gen = b->gen;
	l->clean_sent = false;
	l->cache_ok = false;
	memset(l->xf, 0, sizeof(l->xf));
	for (i = 0; i < b->n_xfer; i++) {
		l->xf[i].active = true;
		l->xf[i].t = b->xf[i];
	}
}

void lsxfer_send_snapshot(struct lspace *l, const struct msg *basis, uint64_t xfer_id)
{
	struct lssnap_book *book = malloc(sizeof(*book));
	size_t len = 0, w = 0, off;
	uint8_t *buf = NULL;
	struct msg m;
	uint32_t crc;
	int rc;

	if (book) {
		book_of(l, book);
		len = lssnap_size(book, l->st);
		buf = malloc(len);
	}
	if (!book || !buf) {
		log_err("ls %s: no memory for a snapshot", l->name);
		goto out;
	}
	rc = lssnap_encode(book, l->st, buf, len, &w);
	if (rc < 0) {
		log_err("ls %s: snapshot: %s", l->name, sdlm_strerror(rc));
		goto out;
	}
	crc = crc32c(0, buf, w);
	for (off = 0; off < w; off += MSG_SNAP_CHUNK_MAX) {
		memset(&m, 0, sizeof(m));
		m.m_type = MSG_SNAPSHOT;
		m.u.snap.xfer_id = xfer_id;
		m.u.snap.basis_nodeid = basis->m_nodeid;
		m.u.snap.basis_incarnation = basis->m_incarnation;
		m.u.snap.basis_seq = basis->m_seq;
		m.u.snap.total_len = (uint32_t)w;
		m.u.snap.offset = (uint32_t)off;
		m.u.snap.total_crc = crc;
		m.u.snap.data = buf + off;
		m.u.snap.len = (uint32_t)(w - off < MSG_SNAP_CHUNK_MAX ?
					  w - off : MSG_SNAP_CHUNK_MAX);
		lspace_send_msg(l, &m);
	}
	log_info("ls %s: sent state (%zu bytes, %zu locks) for node %u's join", l->name,
		 w, ls_lock_count(l->st), basis->m_nodeid);
out:
	free(buf);
	free(book);
}

/* --- waiting for the state ---------------------------------------------- */

struct lsxfer_buf *lsxfer_buf_add(struct lspace *l, enum lsxfer_buf_kind kind)
{
	struct lsxfer_buf *b;

	if (l->nbuf == l->capbuf) {
		size_t cap = l->capbuf ? 2 * l->capbuf : 64;
		struct lsxfer_buf *nb = realloc(l->buf, cap * sizeof(*nb));

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

/* Decode the whole transfer, then take it: nothing of l changes unless
 * every byte decoded. */
static int load_sync(struct lspace *l, const uint8_t *p, size_t len)
{
	struct lssnap_book *book = malloc(sizeof(*book));
	struct ls_state *st = NULL;
	int rc;

	if (!book)
		return -ENOMEM;
	rc = lssnap_decode(p, len, book, &st);
	if (rc == 0) {
		book_apply(l, book);
		l->st = st;
	}
	free(book);
	return rc;
}

/* A complete transfer whose basis is in our buffer: take it and replay. */
static void take_state(struct lspace *l, struct lsxfer_collect *c)
{
	size_t i, start = SIZE_MAX;
	int rc;

	for (i = 0; i < l->nbuf; i++) {
		const struct msg *bm = &l->buf[i].m;

		if (l->buf[i].kind == LSXFER_BUF_MSG && bm->m_type == MSG_JOIN &&
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
	if (nodeset_has(l->refused, l->n_refused, lsm.h.nodeid)) {
		/* Refused at the basis: this incarnation was fenced. */
		ls_destroy(l->st);
		l->st = NULL;
		l->ready = false;
		l->nbuf = 0;
		lsround_refused_self(l);
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
		struct lsxfer_buf *b = &l->buf[i];

		switch (b->kind) {
		case LSXFER_BUF_CONFCHG:
			lsround_handle_confchg(l, b->members, b->n_members, b->left, b->n_left,
					       b->quorate, b->ring_id, b->tag);
			break;
		case LSXFER_BUF_TOTEM:
			lsround_handle_view(l, b->members, b->n_members, b->quorate, b->ring_id);
			break;
		case LSXFER_BUF_MSG:
			lsround_handle_msg(l, &b->m);
			break;
		}
	}
	l->replaying = false;
	l->nbuf = 0;
	for (i = 0; i < LSXFER_MAX; i++) {
		free(l->col[i].data);
		memset(&l->col[i], 0, sizeof(l->col[i]));
	}
	if (l->ready && nodeset_has(l->refused, l->n_refused, lsm.h.nodeid)) {
		/* refused by a round replayed after the basis */
		ls_destroy(l->st);
		l->st = NULL;
		l->ready = false;
		lsround_refused_self(l);
		return;
	}
	if (l->ready) {
		lsrec_reconcile(l);
		lsfencer_duties(l, clock_boottime_ms());
	}
}

void lsxfer_collect_chunk(struct lspace *l, const struct msg *m)
{
	const struct msg_snapshot *s = &m->u.snap;
	struct lsxfer_collect *c = NULL;
	size_t i;

	for (i = 0; i < LSXFER_MAX; i++)
		if (l->col[i].active && l->col[i].sender == m->m_nodeid &&
		    l->col[i].xfer_id == s->xfer_id)
			c = &l->col[i];
	if (!c) {
		if (s->offset != 0)
			return;		/* joined the transfer midway */
		for (i = 0; i < LSXFER_MAX && !c; i++)
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
