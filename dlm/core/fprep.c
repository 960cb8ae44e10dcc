/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fprep.c - the CPG encoding of a fast-path report (fprep.h has the
 * layout, the checks and why a report travels as it does).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fprep.h"
#include "le.h"
#include "modes.h"
#include "sdlm_errors.h"

_Static_assert(FPREP_CHUNK_MAX % 8 == 0, "a chunk is a multiple of 8");
_Static_assert(FPREP_CHUNK_MAX + MSG_OVERHEAD <= MSG_MAX_LEN,
	       "a chunk fits one CPG message");
_Static_assert(FPREP_ENTS_IN(FPREP_CHUNK_MAX) <= UINT16_MAX,
	       "n_own and n_master are u16");

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static bool node_ok(uint32_t node)
{
	return node >= 1 && node <= SDLM_MAX_NODES;
}

size_t fprep_entry_len(const struct fpm_entry *en)
{
	return FPREP_ENT_LEN + pad8(en->namelen);
}

/* The header checks of fprep.h. */
static bool chunk_ok(const struct fprep_chunk *c)
{
	uint64_t total = (uint64_t)c->total_own + c->total_master;

	if (!c->round || !node_ok(c->node) || c->epoch > FPM_EPOCH_MAX)
		return false;
	if (!c->nparts || c->part >= c->nparts ||
	    c->n_own > c->total_own || c->n_master > c->total_master)
		return false;
	if (!c->n_own && !c->n_master && (total || c->nparts != 1))
		return false;
	return !total || c->nparts <= total;
}

/* An entry's checks (fpmaster.h's report checks, as the wire can break
 * them); own: one of the reporter's own, node. */
static bool entry_ok(const struct fpm_entry *en, bool own, uint32_t node)
{
	uint32_t n = (uint32_t)(en->lkid >> 32);

	if (!en->namelen || en->namelen > SDLM_NAME_MAX)
		return false;
	if (!node_ok(n) || en->node != n || (own && n != node))
		return false;
	if ((en->grmode != MODE_NONE && !mode_valid(en->grmode)) ||
	    !mode_valid(en->rqmode) || (en->flags & ~LS_LKF_ALL))
		return false;
	return true;
}

static void entry_out(const struct fpm_entry *en, uint8_t *p)
{
	put64(p, en->lkid);
	put64(p + 8, en->rid);
	put64(p + 16, en->token);
	p[24] = en->grmode == MODE_NONE ? FPM_MODE_NONE_BYTE : (uint8_t)en->grmode;
	p[25] = (uint8_t)en->rqmode;
	p[26] = (uint8_t)ls_lkf_wire(en->flags);
	p[27] = en->namelen;
	memcpy(p + FPREP_ENT_LEN, en->name, en->namelen);
}

int fprep_encode_chunk(const struct fprep_chunk *c,
		       const struct fpm_entry *own,
		       const struct fpm_entry *master,
		       void *buf, size_t len, size_t *written)
{
	uint8_t *p = buf;
	size_t i, need = FPREP_HDR_LEN;

	if (!chunk_ok(c) || (c->n_own && !own) || (c->n_master && !master))
		return -EINVAL;
	for (i = 0; i < c->n_own; i++) {
		if (!entry_ok(&own[i], true, c->node))
			return -EINVAL;
		need += fprep_entry_len(&own[i]);
	}
	for (i = 0; i < c->n_master; i++) {
		if (!entry_ok(&master[i], false, c->node))
			return -EINVAL;
		need += fprep_entry_len(&master[i]);
	}
	if (need > FPREP_CHUNK_MAX)
		return -EINVAL;
	if (len < need)
		return -ENOSPC;
	memset(p, 0, need);
	put64(p, c->round);
	put64(p + 8, c->epoch);
	put64(p + 16, c->last_rid);
	put32(p + 24, c->node);
	put32(p + 28, c->part);
	put32(p + 32, c->nparts);
	put32(p + 36, c->total_own);
	put32(p + 40, c->total_master);
	put16(p + 44, c->n_own);
	put16(p + 46, c->n_master);
	p += FPREP_HDR_LEN;
	for (i = 0; i < c->n_own; i++) {
		entry_out(&own[i], p);
		p += fprep_entry_len(&own[i]);
	}
	for (i = 0; i < c->n_master; i++) {
		entry_out(&master[i], p);
		p += fprep_entry_len(&master[i]);
	}
	*written = need;
	return 0;
}

/* One entry at b[*off], len the buffer's length: 0 or SDLM_EPROTO. */
static int entry_in(const uint8_t *b, size_t len, size_t *off, bool own,
		    uint32_t node, struct fpm_entry *en)
{
	const uint8_t *p = b + *off;
	size_t elen;

	if (len - *off < FPREP_ENT_LEN)
		return SDLM_EPROTO;
	memset(en, 0, sizeof(*en));
	en->namelen = p[27];
	if (!en->namelen || en->namelen > SDLM_NAME_MAX)
		return SDLM_EPROTO;
	elen = FPREP_ENT_LEN + pad8(en->namelen);
	if (len - *off < elen)
		return SDLM_EPROTO;
	if (!all_zero(p + 28, 4) ||
	    !all_zero(p + FPREP_ENT_LEN + en->namelen, elen - FPREP_ENT_LEN - en->namelen))
		return SDLM_EPROTO;
	en->lkid = get64(p);
	en->node = (uint32_t)(en->lkid >> 32);
	en->rid = get64(p + 8);
	en->token = get64(p + 16);
	en->grmode = p[24] == FPM_MODE_NONE_BYTE ? MODE_NONE : p[24];
	en->rqmode = p[25];
	en->flags = ls_lkf_wire(p[26]);
	memcpy(en->name, p + FPREP_ENT_LEN, en->namelen);
	if (!entry_ok(en, own, node))
		return SDLM_EPROTO;
	*off += elen;
	return 0;
}

int fprep_decode(const void *buf, size_t len, struct fprep_chunk *c,
		 struct fpm_entry *own, size_t cap_own,
		 struct fpm_entry *master, size_t cap_master)
{
	const uint8_t *b = buf;
	size_t i, off = FPREP_HDR_LEN;
	int rc = SDLM_EPROTO;

	memset(c, 0, sizeof(*c));
	if (len < FPREP_HDR_LEN || len > FPREP_CHUNK_MAX || len % 8)
		goto out_zero;
	c->round = get64(b);
	c->epoch = get64(b + 8);
	c->last_rid = get64(b + 16);
	c->node = get32(b + 24);
	c->part = get32(b + 28);
	c->nparts = get32(b + 32);
	c->total_own = get32(b + 36);
	c->total_master = get32(b + 40);
	c->n_own = get16(b + 44);
	c->n_master = get16(b + 46);
	if (!chunk_ok(c))
		goto out_zero;
	if (c->n_own > cap_own || c->n_master > cap_master) {
		rc = -ENOSPC;
		goto out_zero;
	}
	for (i = 0; i < c->n_own; i++)
		if (entry_in(b, len, &off, true, c->node, &own[i]))
			goto out_zero;
	for (i = 0; i < c->n_master; i++)
		if (entry_in(b, len, &off, false, c->node, &master[i]))
			goto out_zero;
	if (off != len)
		goto out_zero;
	return 0;

out_zero:
	memset(c, 0, sizeof(*c));
	return rc;
}

/* ---- a whole report ---- */

static bool report_ok(const struct fpm_report *r)
{
	size_t i;

	if (!node_ok(r->node) || r->epoch > FPM_EPOCH_MAX ||
	    (r->n && !r->e) || (r->nm && !r->m))
		return false;
	for (i = 0; i < r->n; i++)
		if (!entry_ok(&r->e[i], true, r->node))
			return false;
	for (i = 0; i < r->nm; i++)
		if (!entry_ok(&r->m[i], false, r->node))
			return false;
	return true;
}

/* The entries of the chunk that starts at *io, *im (greedy: as many as
 * fit in chunk_max); advances them. */
static void chunk_span(const struct fpm_report *r, size_t chunk_max,
		       size_t *io, size_t *im, uint16_t *no, uint16_t *nm)
{
	size_t used = FPREP_HDR_LEN, l;

	*no = *nm = 0;
	while (*io < r->n) {
		l = fprep_entry_len(&r->e[*io]);
		if (used + l > chunk_max)
			return;
		used += l;
		(*io)++;
		(*no)++;
	}
	while (*im < r->nm) {
		l = fprep_entry_len(&r->m[*im]);
		if (used + l > chunk_max)
			return;
		used += l;
		(*im)++;
		(*nm)++;
	}
}

int fprep_enc_init(struct fprep_enc *en, const struct fpm_report *r,
		   uint64_t round, size_t chunk_max)
{
	size_t io = 0, im = 0;
	uint16_t no, nm;
	uint64_t parts = 0;

	memset(en, 0, sizeof(*en));
	if (!round || chunk_max < FPREP_CHUNK_MIN || chunk_max > FPREP_CHUNK_MAX ||
	    !report_ok(r))
		return -EINVAL;
	if ((uint64_t)r->n > UINT32_MAX || (uint64_t)r->nm > UINT32_MAX)
		return -E2BIG;
	do {
		chunk_span(r, chunk_max, &io, &im, &no, &nm);
		parts++;
	} while (io < r->n || im < r->nm);
	if (parts > UINT32_MAX)
		return -E2BIG;
	en->r = r;
	en->round = round;
	en->chunk_max = chunk_max;
	en->nparts = (uint32_t)parts;
	return 0;
}

uint32_t fprep_enc_parts(const struct fprep_enc *en)
{
	return en->nparts;
}

int fprep_enc_next(struct fprep_enc *en, void *buf, size_t len,
		   size_t *written)
{
	const struct fpm_report *r = en->r;
	struct fprep_chunk c;
	size_t io = en->i_own, im = en->i_master;
	int rc;

	if (!r || en->part >= en->nparts)
		return -ENODATA;
	memset(&c, 0, sizeof(c));
	c.round = en->round;
	c.epoch = r->epoch;
	c.last_rid = r->last_rid;
	c.node = r->node;
	c.part = en->part;
	c.nparts = en->nparts;
	c.total_own = (uint32_t)r->n;
	c.total_master = (uint32_t)r->nm;
	chunk_span(r, en->chunk_max, &io, &im, &c.n_own, &c.n_master);
	rc = fprep_encode_chunk(&c, r->e ? r->e + en->i_own : NULL,
				r->m ? r->m + en->i_master : NULL,
				buf, len, written);
	if (rc)
		return rc;
	en->i_own = io;
	en->i_master = im;
	en->part++;
	return 0;
}

/* ---- assembly ---- */

void fprep_asm_init(struct fprep_asm *a)
{
	memset(a, 0, sizeof(*a));
}

void fprep_asm_free(struct fprep_asm *a)
{
	free(a->e);
	free(a->m);
	fprep_asm_init(a);
}

void fprep_asm_reset(struct fprep_asm *a)
{
	a->busy = a->done = false;
	memset(&a->first, 0, sizeof(a->first));
	memset(&a->rep, 0, sizeof(a->rep));
	a->next = 0;
	a->n = a->nm = 0;
}

static int room(struct fpm_entry **v, size_t *cap, size_t need)
{
	struct fpm_entry *nv;
	size_t nc = *cap ? *cap : 64;

	/* allocated even for no entry: the decoder is given a pointer */
	if (*v && need <= *cap)
		return 0;
	while (nc < need)
		nc *= 2;
	nv = realloc(*v, nc * sizeof(**v));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = nc;
	return 0;
}

static bool same_report(const struct fprep_chunk *a, const struct fprep_chunk *b)
{
	return a->round == b->round && a->node == b->node &&
	       a->epoch == b->epoch && a->last_rid == b->last_rid &&
	       a->nparts == b->nparts && a->total_own == b->total_own &&
	       a->total_master == b->total_master;
}

int fprep_asm_add(struct fprep_asm *a, const void *buf, size_t len)
{
	struct fprep_chunk c;
	size_t most;
	int rc = SDLM_EPROTO;

	if (a->done || len < FPREP_HDR_LEN || len > FPREP_CHUNK_MAX)
		goto out_drop;
	/* room for the most entries such a chunk can hold, then decode in
	 * place: nothing is kept of a chunk that fails */
	most = FPREP_ENTS_IN(len);
	if (room(&a->e, &a->cap_e, a->n + most) ||
	    room(&a->m, &a->cap_m, a->nm + most)) {
		rc = -ENOMEM;
		goto out_drop;
	}
	rc = fprep_decode(buf, len, &c, a->e + a->n, most, a->m + a->nm, most);
	if (rc)
		goto out_drop;
	rc = SDLM_EPROTO;
	if (!a->busy) {
		if (c.part)
			goto out_drop;
		a->first = c;
		a->busy = true;
	} else if (!same_report(&a->first, &c) || c.part != a->next) {
		goto out_drop;
	}
	if (a->n + c.n_own > c.total_own || a->nm + c.n_master > c.total_master ||
	    (c.n_master && a->n + c.n_own != c.total_own))
		goto out_drop;
	a->n += c.n_own;
	a->nm += c.n_master;
	a->next = c.part + 1;
	if (a->next < c.nparts)
		return 0;
	if (a->n != c.total_own || a->nm != c.total_master)
		goto out_drop;
	a->done = true;
	a->rep.node = c.node;
	a->rep.epoch = c.epoch;
	a->rep.last_rid = c.last_rid;
	a->rep.n = a->n;
	a->rep.e = a->n ? a->e : NULL;
	a->rep.nm = a->nm;
	a->rep.m = a->nm ? a->m : NULL;
	return 1;

out_drop:
	fprep_asm_reset(a);
	return rc;
}

const struct fpm_report *fprep_asm_report(const struct fprep_asm *a)
{
	return a->done ? &a->rep : NULL;
}

uint64_t fprep_asm_round(const struct fprep_asm *a)
{
	return a->busy ? a->first.round : 0;
}
