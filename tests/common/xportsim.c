/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xportsim.c - the simulated network of xportsim.h: a binary heap of
 * frames in flight ordered by (arrival time, send number), the endpoints'
 * timer deadlines, and per (sender, peer) a FIFO backlog for messages a
 * full send window refused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xportsim.h"

struct flight {
	uint64_t	at, order;
	uint32_t	to;
	size_t		len;
	uint8_t		buf[XP_FRAME_MAX];
};

struct pending {
	struct pending	*next;
	uint64_t	epoch;
	size_t		len;
	uint8_t		data[XP_PAYLOAD_MAX];
};

struct backlog {
	struct pending	*head, *tail;
};

struct xsim {
	struct xsim_cfg	cfg;
	xsim_deliver_fn	fn;
	void		*arg;
	uint64_t	now, order, rng;
	struct xport	*xp[XSIM_MAX + 1];
	uint64_t	deadline[XSIM_MAX + 1];
	struct backlog	bl[XSIM_MAX + 1][XSIM_MAX + 1];
	unsigned	nbacklog;
	struct flight	**heap;
	size_t		nheap, capheap;
	struct xsim_stats st;
};

static const uint8_t sim_key[] = "xportsim: the cluster's key";

static uint64_t rnd(struct xsim *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [0, 1). */
static double rnd01(struct xsim *s)
{
	return (double)(rnd(s) >> 11) / 9007199254740992.0;
}

static bool before(const struct flight *a, const struct flight *b)
{
	return a->at < b->at || (a->at == b->at && a->order < b->order);
}

static int heap_push(struct xsim *s, struct flight *f)
{
	struct flight **nh, *t;
	size_t i;

	if (s->nheap == s->capheap) {
		nh = realloc(s->heap, (s->capheap ? 2 * s->capheap : 256) * sizeof(*nh));
		if (!nh)
			return -ENOMEM;
		s->heap = nh;
		s->capheap = s->capheap ? 2 * s->capheap : 256;
	}
	i = s->nheap++;
	s->heap[i] = f;
	while (i && before(s->heap[i], s->heap[(i - 1) / 2])) {
		t = s->heap[i];
		s->heap[i] = s->heap[(i - 1) / 2];
		s->heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
	return 0;
}

static struct flight *heap_pop(struct xsim *s)
{
	struct flight *top = s->heap[0], *t;
	size_t i = 0, c;

	s->heap[0] = s->heap[--s->nheap];
	for (;;) {
		c = 2 * i + 1;
		if (c >= s->nheap)
			break;
		if (c + 1 < s->nheap && before(s->heap[c + 1], s->heap[c]))
			c++;
		if (!before(s->heap[c], s->heap[i]))
			break;
		t = s->heap[i];
		s->heap[i] = s->heap[c];
		s->heap[c] = t;
		i = c;
	}
	return top;
}

static void launch(struct xsim *s, const struct xport_tx *tx)
{
	struct flight *f;
	int copies = 1, i;

	s->st.frames++;
	if (rnd01(s) < s->cfg.loss) {
		s->st.lost++;
		return;
	}
	if (rnd01(s) < s->cfg.dup) {
		s->st.duplicated++;
		copies = 2;
	}
	for (i = 0; i < copies; i++) {
		f = malloc(sizeof(*f));
		if (!f)
			abort();
		f->at = s->now + s->cfg.delay_min;
		if (s->cfg.delay_max > s->cfg.delay_min)
			f->at += rnd(s) % (s->cfg.delay_max - s->cfg.delay_min + 1);
		f->order = s->order++;
		f->to = tx->node;
		f->len = tx->len;
		memcpy(f->buf, tx->buf, tx->len);
		if (heap_push(s, f))
			abort();
	}
}

/* Everything one call's output asks for.  Frames and the deadline first:
 * a delivery callback may call into the same endpoint again, which reuses
 * the output's frame buffers. */
static void handle_out(struct xsim *s, uint32_t node, const struct xport_out *out)
{
	unsigned i;

	for (i = 0; i < out->ntx; i++)
		launch(s, &out->tx[i]);
	s->deadline[node] = out->deadline;
	if (out->has_reset)
		s->st.resets++;
	for (i = 0; i < out->nrx; i++)
		s->fn(s, s->arg, node, &out->rx[i]);
}

int xsim_new(const struct xsim_cfg *cfg, xsim_deliver_fn fn, void *arg,
	     struct xsim **sp)
{
	struct xport_cfg xc;
	struct xsim *s;
	unsigned i;
	int rc;

	*sp = NULL;
	if (cfg->n < 2 || cfg->n > XSIM_MAX)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->fn = fn;
	s->arg = arg;
	s->rng = cfg->seed ? cfg->seed : 1;
	memset(&xc, 0, sizeof(xc));
	xc.key = sim_key;
	xc.keylen = sizeof(sim_key) - 1;
	xc.max_peers = XSIM_MAX;
	for (i = 1; i <= cfg->n; i++) {
		xc.node = i;
		xc.incarnation = 1000 + i;
		rc = xport_new(&xc, &s->xp[i]);
		if (rc) {
			xsim_free(s);
			return rc;
		}
		s->deadline[i] = XP_NEVER;
	}
	*sp = s;
	return 0;
}

void xsim_free(struct xsim *s)
{
	struct pending *p, *n;
	unsigned i, j;

	if (!s)
		return;
	for (i = 0; i <= XSIM_MAX; i++) {
		xport_free(s->xp[i]);
		for (j = 0; j <= XSIM_MAX; j++)
			for (p = s->bl[i][j].head; p; p = n) {
				n = p->next;
				free(p);
			}
	}
	while (s->nheap)
		free(heap_pop(s));
	free(s->heap);
	free(s);
}

static void drain_backlog(struct xsim *s, uint32_t from)
{
	struct xport_out out;
	struct pending *p;
	unsigned to;
	int rc;

	for (to = 1; to <= s->cfg.n; to++) {
		while ((p = s->bl[from][to].head)) {
			rc = xport_send(s->xp[from], to, p->epoch, p->data, p->len,
					s->now, &out);
			if (rc == -EAGAIN)
				break;
			if (rc)
				abort();
			s->bl[from][to].head = p->next;
			if (!p->next)
				s->bl[from][to].tail = NULL;
			free(p);
			s->nbacklog--;
			handle_out(s, from, &out);
		}
	}
}

int xsim_send(struct xsim *s, uint32_t from, uint32_t to, uint64_t epoch,
	      const void *data, size_t len)
{
	struct xport_out out;
	struct pending *p;
	int rc = -EAGAIN;

	if (!s->bl[from][to].head) {
		rc = xport_send(s->xp[from], to, epoch, data, len, s->now, &out);
		if (rc == 0) {
			handle_out(s, from, &out);
			return 0;
		}
		if (rc != -EAGAIN)
			return rc;
	}
	s->st.eagain++;
	p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->next = NULL;
	p->epoch = epoch;
	p->len = len;
	memcpy(p->data, data, len);
	if (s->bl[from][to].tail)
		s->bl[from][to].tail->next = p;
	else
		s->bl[from][to].head = p;
	s->bl[from][to].tail = p;
	s->nbacklog++;
	return 0;
}

bool xsim_step(struct xsim *s)
{
	struct xport_out out;
	struct flight *f;
	uint64_t t = XP_NEVER;
	unsigned i, who = 0;

	for (i = 1; i <= s->cfg.n; i++)
		if (s->deadline[i] < t) {
			t = s->deadline[i];
			who = i;
		}
	if (who && (!s->nheap || t <= s->heap[0]->at)) {
		if (t > s->now)
			s->now = t;
		xport_timer(s->xp[who], s->now, &out);
		handle_out(s, who, &out);
		drain_backlog(s, who);
		return true;
	}
	if (!s->nheap)
		return false;
	f = heap_pop(s);
	if (f->at > s->now)
		s->now = f->at;
	who = f->to;
	if (xport_input(s->xp[who], f->buf, f->len, s->now, &out))
		s->st.refused++;
	handle_out(s, who, &out);
	free(f);
	drain_backlog(s, who);
	return true;
}

uint64_t xsim_now(const struct xsim *s)
{
	return s->now;
}

struct xport *xsim_xport(struct xsim *s, uint32_t node)
{
	return node >= 1 && node <= s->cfg.n ? s->xp[node] : NULL;
}

const struct xsim_stats *xsim_stats(const struct xsim *s)
{
	return &s->st;
}

unsigned xsim_backlog(const struct xsim *s)
{
	return s->nbacklog;
}
