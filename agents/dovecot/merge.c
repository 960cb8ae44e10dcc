/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * merge.c - dsync's renumbering rule over two dovecot-uidlist copies.
 *
 * Steps (merge.h has the rule and the argument):
 *   1. entries of A and B, each UID translated through prior renumberings;
 *   2. both sorted by GUID (a GUID twice in one copy: refuse);
 *   3. one walk over both: keep, or queue for a new UID with the reason;
 *   4. the queue sorted by (old UID, side, name), numbered from base;
 *   5. the merged list sorted by UID and checked: strictly ascending, no
 *      file name twice.
 * Everything is O(n log n); nothing here does I/O or prints.
 */
#define _GNU_SOURCE
#include "merge.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ent {
	const struct uidlist_rec *rec;
	const char *guid;
	size_t glen;
	uint32_t uid;		/* after translation */
	int side;		/* MERGE_SIDE_A / _B */
	int logged;		/* translated by a prior renumbering */
	enum merge_reason prior_reason;
};

struct out_ent {
	uint32_t uid;
	const struct uidlist_rec *rec;
	struct merge_item item;
};

struct prior_idx {
	const struct merge_prior *p;
	size_t glen;
};

const char *merge_reason_name(enum merge_reason r)
{
	switch (r) {
	case MERGE_KEEP:		return "keep";
	case MERGE_DUPLICATE:		return "duplicate";
	case MERGE_BELOW_UIDNEXT:	return "below-uidnext";
	case MERGE_UID_DIFFERS:		return "uid-differs";
	}
	return "unknown";
}

static int guid_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

static int prior_cmp(const void *x, const void *y)
{
	const struct prior_idx *a = x, *b = y;
	int c = guid_cmp(a->p->guid, a->glen, b->p->guid, b->glen);

	if (c)
		return c;
	return a->p->old_uid < b->p->old_uid ? -1 : a->p->old_uid > b->p->old_uid;
}

static const struct merge_prior *prior_find(const struct prior_idx *pi, size_t n,
					    const char *g, size_t gl, uint32_t uid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = guid_cmp(pi[mid].p->guid, pi[mid].glen, g, gl);

		if (!c)
			c = pi[mid].p->old_uid < uid ? -1 : pi[mid].p->old_uid > uid;
		if (c == 0)
			return pi[mid].p;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int ent_guid_cmp(const void *x, const void *y)
{
	const struct ent *a = x, *b = y;

	return guid_cmp(a->guid, a->glen, b->guid, b->glen);
}

static int u32_cmp(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

/* Renumbering order: old UID, side A first, then name. */
static int queue_cmp(const void *x, const void *y)
{
	const struct out_ent *a = x, *b = y;

	if (a->item.old_uid != b->item.old_uid)
		return a->item.old_uid < b->item.old_uid ? -1 : 1;
	if (a->item.side != b->item.side)
		return a->item.side < b->item.side ? -1 : 1;
	return strcmp(a->rec->name, b->rec->name);
}

static int out_uid_cmp(const void *x, const void *y)
{
	const struct out_ent *a = x, *b = y;

	return a->uid < b->uid ? -1 : a->uid > b->uid;
}

static int name_ptr_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static int ents_build(const struct uidlist *ul, int side, const struct prior_idx *pi,
		      size_t npi, struct ent *e, struct merge_result *res)
{
	size_t i, hops;

	for (i = 0; i < ul->nrecs; i++) {
		const struct merge_prior *p;

		e[i].rec = &ul->recs[i];
		e[i].guid = uidlist_rec_guid(&ul->recs[i], &e[i].glen);
		e[i].uid = ul->recs[i].uid;
		e[i].side = side;
		e[i].logged = 0;
		e[i].prior_reason = MERGE_KEEP;
		/* Follow chains (a message moved by two repairs), bounded. */
		for (hops = 0; hops <= npi; hops++) {
			p = prior_find(pi, npi, e[i].guid, e[i].glen, e[i].uid);
			if (!p || p->new_uid == e[i].uid)
				break;
			e[i].uid = p->new_uid;
			e[i].logged = 1;
			e[i].prior_reason = p->reason;
		}
	}
	qsort(e, ul->nrecs, sizeof(*e), ent_guid_cmp);
	for (i = 1; i < ul->nrecs; i++)
		if (ent_guid_cmp(&e[i - 1], &e[i]) == 0) {
			snprintf(res->msg, sizeof(res->msg),
				 "copy %c lists GUID %.*s twice (UIDs %" PRIu32 " and %" PRIu32 ")",
				 side == MERGE_SIDE_A ? 'A' : 'B', (int)e[i].glen, e[i].guid,
				 e[i - 1].rec->uid, e[i].rec->uid);
			return -EUCLEAN;
		}
	return 0;
}

static void out_set(struct out_ent *o, const struct ent *e, enum merge_side side,
		    enum merge_reason why, uint32_t old_b)
{
	o->uid = e->uid;
	o->rec = e->rec;
	o->item.old_uid = e->rec->uid;
	o->item.old_uid_b = old_b;
	o->item.side = side;
	o->item.logged = e->logged;
	o->item.reason = why != MERGE_KEEP ? why : e->prior_reason;
	if (why != MERGE_KEEP)
		o->item.logged = 0;
}

/* One side only: keep when at or above the other side's UIDNEXT. */
static enum merge_reason one_side(const struct ent *e, uint64_t other_next,
				  const uint32_t *other_uids, size_t n_other)
{
	if (e->uid >= other_next)
		return MERGE_KEEP;
	if (bsearch(&e->uid, other_uids, n_other, sizeof(*other_uids), u32_cmp))
		return MERGE_DUPLICATE;
	return MERGE_BELOW_UIDNEXT;
}

static int out_build(struct merge_result *res, const struct uidlist *a,
		     const struct uidlist *b, struct out_ent *o, size_t n)
{
	struct uidlist *ul = &res->out;
	char **names = NULL;
	uint64_t next;
	size_t i;
	int rv = 0;

	qsort(o, n, sizeof(*o), out_uid_cmp);
	for (i = 1; i < n; i++)
		if (o[i].uid == o[i - 1].uid) {
			snprintf(res->msg, sizeof(res->msg), "UID %" PRIu32 " given twice",
				 o[i].uid);
			return -EUCLEAN;
		}
	uidlist_init(ul);
	ul->uidvalidity = a->uidvalidity;
	memcpy(ul->guid, a->guid[0] ? a->guid : b->guid, sizeof(ul->guid));
	ul->epoch = a->epoch > b->epoch ? a->epoch : b->epoch;
	ul->hdr_extra = strdup(a->hdr_extra ? a->hdr_extra : "");
	ul->recs = calloc(n ? n : 1, sizeof(*ul->recs));
	res->items = calloc(n ? n : 1, sizeof(*res->items));
	names = calloc(n ? n : 1, sizeof(*names));
	if (!ul->hdr_extra || !ul->recs || !res->items || !names) {
		rv = -ENOMEM;
		goto out_free;
	}
	ul->cap = n ? n : 1;
	for (i = 0; i < n; i++) {
		struct uidlist_rec *r = &ul->recs[i];

		r->uid = o[i].uid;
		r->fields = strdup(o[i].rec->fields ? o[i].rec->fields : "");
		r->name = strdup(o[i].rec->name);
		ul->nrecs++;
		if (!r->fields || !r->name) {
			rv = -ENOMEM;
			goto out_free;
		}
		res->items[i] = o[i].item;
		names[i] = r->name;
	}
	qsort(names, n, sizeof(*names), name_ptr_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(names[i - 1], names[i]) == 0) {
			snprintf(res->msg, sizeof(res->msg),
				 "file %.100s listed for two different GUIDs", names[i]);
			rv = -EUCLEAN;
			goto out_free;
		}
	next = uidlist_next_uid(ul);
	if (next < res->base)
		next = res->base;
	ul->next_uid = next > UINT32_MAX ? UINT32_MAX : (uint32_t)next;
out_free:
	free(names);
	return rv;
}

int merge_uidlists(const struct uidlist *a, const struct uidlist *b,
		   uint32_t floor_next, const struct merge_prior *prior,
		   size_t nprior, struct merge_result *res)
{
	struct prior_idx *pi = NULL;
	struct ent *ea = NULL, *eb = NULL;
	struct out_ent *o = NULL;
	uint32_t *ua = NULL, *ub = NULL;
	uint64_t next_a, next_b, base, nq;
	size_t i, j, n = 0, q0;
	int rv;

	memset(res, 0, sizeof(*res));
	uidlist_init(&res->out);
	if (a->uidvalidity != b->uidvalidity) {
		snprintf(res->msg, sizeof(res->msg),
			 "UIDVALIDITY differs (%" PRIu32 " vs %" PRIu32 "): the copies are "
			 "different mailbox generations", a->uidvalidity, b->uidvalidity);
		return -EXDEV;
	}
	if (a->guid[0] && b->guid[0] && strcmp(a->guid, b->guid) != 0) {
		snprintf(res->msg, sizeof(res->msg), "mailbox GUIDs differ (%s vs %s)",
			 a->guid, b->guid);
		return -EXDEV;
	}
	pi = calloc(nprior ? nprior : 1, sizeof(*pi));
	ea = calloc(a->nrecs ? a->nrecs : 1, sizeof(*ea));
	eb = calloc(b->nrecs ? b->nrecs : 1, sizeof(*eb));
	o = calloc(a->nrecs + b->nrecs + 1, sizeof(*o));
	ua = calloc(a->nrecs + 1, sizeof(*ua));
	ub = calloc(b->nrecs + 1, sizeof(*ub));
	if (!pi || !ea || !eb || !o || !ua || !ub) {
		rv = -ENOMEM;
		goto out_free;
	}
	base = 1;
	for (i = 0; i < nprior; i++) {
		pi[i].p = &prior[i];
		pi[i].glen = prior[i].guid_len ? prior[i].guid_len : strlen(prior[i].guid);
		if ((uint64_t)prior[i].new_uid + 1 > base)
			base = (uint64_t)prior[i].new_uid + 1;
	}
	qsort(pi, nprior, sizeof(*pi), prior_cmp);
	rv = ents_build(a, MERGE_SIDE_A, pi, nprior, ea, res);
	if (!rv)
		rv = ents_build(b, MERGE_SIDE_B, pi, nprior, eb, res);
	if (rv)
		goto out_free;
	for (i = 0; i < a->nrecs; i++)
		ua[i] = ea[i].uid;
	for (i = 0; i < b->nrecs; i++)
		ub[i] = eb[i].uid;
	qsort(ua, a->nrecs, sizeof(*ua), u32_cmp);
	qsort(ub, b->nrecs, sizeof(*ub), u32_cmp);

	next_a = uidlist_next_uid(a);
	next_b = uidlist_next_uid(b);
	if (next_a > base)
		base = next_a;
	if (next_b > base)
		base = next_b;
	if (floor_next > base)
		base = floor_next;

	/* Walk both GUID-sorted copies; kept entries first, the queue after. */
	for (i = 0, j = 0; i < a->nrecs || j < b->nrecs;) {
		int c = i == a->nrecs ? 1 : j == b->nrecs ? -1 : ent_guid_cmp(&ea[i], &eb[j]);

		if (c == 0) {
			if (ea[i].uid == eb[j].uid)
				out_set(&o[n++], &ea[i], MERGE_SIDE_BOTH, MERGE_KEEP, eb[j].rec->uid);
			else
				out_set(&o[n++], &ea[i], MERGE_SIDE_BOTH, MERGE_UID_DIFFERS,
					eb[j].rec->uid);
			i++;
			j++;
		} else if (c < 0) {
			out_set(&o[n++], &ea[i], MERGE_SIDE_A,
				one_side(&ea[i], next_b, ub, b->nrecs), 0);
			i++;
		} else {
			out_set(&o[n++], &eb[j], MERGE_SIDE_B,
				one_side(&eb[j], next_a, ua, a->nrecs), 0);
			j++;
		}
	}

	/* Queue = entries that move in this run, moved to the end of o. */
	for (i = 0, q0 = 0; i < n; i++)
		if (o[i].item.reason == MERGE_KEEP || o[i].item.logged) {
			struct out_ent t = o[q0];

			o[q0++] = o[i];
			o[i] = t;
		}
	nq = n - q0;
	if (nq && base + nq - 1 > UINT32_MAX) {
		snprintf(res->msg, sizeof(res->msg),
			 "%" PRIu64 " new UIDs from %" PRIu64 " would pass 2^32-1", nq, base);
		rv = -EOVERFLOW;
		goto out_free;
	}
	qsort(o + q0, (size_t)nq, sizeof(*o), queue_cmp);
	for (i = q0; i < n; i++)
		o[i].uid = (uint32_t)(base + (i - q0));
	res->base = (uint32_t)(base > UINT32_MAX ? UINT32_MAX : base);
	res->renumbered = (size_t)nq;
	rv = out_build(res, a, b, o, n);

out_free:
	if (rv)
		merge_result_free(res);
	free(pi);
	free(ea);
	free(eb);
	free(o);
	free(ua);
	free(ub);
	return rv;
}

size_t merge_log_entries(const struct merge_result *res, size_t i,
			 struct merge_prior out[2])
{
	const struct merge_item *it = &res->items[i];
	size_t gl, n = 0;

	if (it->reason == MERGE_KEEP || it->logged)
		return 0;
	out[0].guid = uidlist_rec_guid(&res->out.recs[i], &gl);
	out[0].guid_len = gl;
	out[0].old_uid = it->old_uid;
	out[0].new_uid = res->out.recs[i].uid;
	out[0].reason = it->reason;
	n = 1;
	if (it->side == MERGE_SIDE_BOTH && it->old_uid_b != it->old_uid) {
		out[1] = out[0];
		out[1].old_uid = it->old_uid_b;
		n = 2;
	}
	return n;
}

void merge_result_free(struct merge_result *res)
{
	uidlist_free(&res->out);
	free(res->items);
	res->items = NULL;
}
