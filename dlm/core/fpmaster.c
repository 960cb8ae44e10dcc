/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fpmaster.c - the fast path's resource masters and requesters
 * (fpmaster.h has the rules, docs/design-fastpath.md 2-3 the design,
 * docs/model/fastpath.pml the checked model; the comments name the
 * model's variant each rule stops).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fpmaster.h"
#include "hash.h"
#include "modes.h"
#include "sdlm_errors.h"

/* ---- placement ------------------------------------------------------ */

uint32_t fpm_master_of(const void *name, size_t namelen,
		       const uint32_t *members, size_t n)
{
	uint64_t h = fnv64(FNV64_OFFSET, name, namelen), w, best = 0;
	uint32_t who = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		w = mix64(h ^ mix64(members[i]));
		if (!who || w > best || (w == best && members[i] < who)) {
			best = w;
			who = members[i];
		}
	}
	return who;
}

/* ---- the core's state ----------------------------------------------- */

enum { PEND_NONE = 0, PEND_REQUEST = 1, PEND_CONVERT = 2 };

/* One of this node's own locks. */
struct fpm_own {
	uint64_t	lkid;
	uint64_t	rid;		/* of the request / conversion sent */
	int		grmode, rqmode;
	uint32_t	flags;
	uint64_t	token, epoch;
	bool		outstanding;	/* sent, not answered */
	bool		cancel_sent;	/* for the request outstanding */
	uint8_t		pend;		/* asked while not ACTIVE */
	bool		pend_cancel;
	bool		pend_release;
	uint32_t	rel_flags;
	bool		lvb_valid;
	uint8_t		lvb[LS_LVB_LEN];
	uint8_t		namelen;
	uint8_t		name[SDLM_NAME_MAX];
};

struct fpm_mem {
	uint32_t	node;
	uint64_t	inc;
	uint64_t	last_rid;	/* the last request id applied from it */
};

/* The request id a master's lock was last asked with. */
struct fpm_mrid {
	uint64_t	lkid;
	uint64_t	rid;
};

struct fpm_park {
	uint32_t	node;
	uint64_t	inc;
	struct fpm_msg	m;
};

/* One epoch change since the blockers were last gone. */
struct fpm_hist {
	bool		all;		/* no old master for anything */
	size_t		nprev, nnext;
	uint32_t	prev[SDLM_MAX_NODES];
	uint32_t	next[SDLM_MAX_NODES];
};

struct fpm_view {
	bool		known;
	bool		live, pill;
	bool		fenced;
	uint64_t	fenced_inc;
	uint64_t	inc;		/* its member incarnation: of the last
					   round it was a member of, 0 none */
};

struct fpm {
	uint32_t	self;
	uint64_t	inc;
	enum fpm_phase	phase;
	uint64_t	epoch;		/* the last epoch it was active in */
	uint64_t	next_rid;

	/* the requester */
	struct fpm_own	*own;
	size_t		nown, capown;

	/* the epoch */
	struct fpm_mem	mem[SDLM_MAX_NODES];
	size_t		nmem;
	bool		gate;
	struct fpm_view	view[SDLM_MAX_NODES + 1];

	/* the master */
	struct ls_state	*ls;
	struct ls_out	lso;
	struct fpm_mrid	*mrid;
	size_t		nmrid, capmrid;
	struct fpm_park	*park;
	size_t		npark, cappark;
	/* blocks: away nodes, and the epoch changes that left some
	 * resource without its old master */
	uint32_t	blocker[SDLM_MAX_NODES];
	bool		asked[SDLM_MAX_NODES];
	size_t		nblocker;
	bool		hist_all;	/* history unknown or too long */
	struct fpm_hist	*hist;
	size_t		nhist, caphist;

	/* the report of the last fpm_confchg */
	struct fpm_report rep;
	struct fpm_entry *rep_e, *rep_m;
	size_t		caprep_e, caprep_m;

	/* messages to this node itself, handled before a call returns */
	struct fpm_park	*loc;
	size_t		nloc, caploc;
	/* messages of a later epoch that came during the round (FM1) */
	struct fpm_park	*later;
	size_t		nlater, caplater;
	uint64_t	later_dropped;
};

void fpm_out_init(struct fpm_out *out)
{
	memset(out, 0, sizeof(*out));
}

void fpm_out_free(struct fpm_out *out)
{
	free(out->items);
	memset(out, 0, sizeof(*out));
}

static void out_reset(struct fpm_out *out)
{
	out->count = 0;
	out->lost = false;
}

static int grow(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*arr, ncap * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static void out_add(struct fpm_out *out, enum fpm_out_kind kind, uint32_t node,
		    const struct fpm_msg *m)
{
	struct fpm_out_item *it;

	if (grow((void **)&out->items, &out->cap, out->count + 1,
		 sizeof(*out->items))) {
		out->lost = true;
		return;
	}
	it = &out->items[out->count++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->node = node;
	if (m)
		it->msg = *m;
}

static int nodes_check(const uint32_t *ids, size_t n)
{
	size_t i;

	if (n > SDLM_MAX_NODES || (n && !ids))
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!ids[i] || ids[i] > SDLM_MAX_NODES || (i && ids[i] <= ids[i - 1]))
			return -EINVAL;
	return 0;
}

static bool ids_have(const uint32_t *ids, size_t n, uint32_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static struct fpm_mem *mem_find(struct fpm *fp, uint32_t node)
{
	size_t i;

	for (i = 0; i < fp->nmem; i++)
		if (fp->mem[i].node == node)
			return &fp->mem[i];
	return NULL;
}

static uint32_t master_now(const struct fpm *fp, const void *name, size_t len)
{
	uint32_t ids[SDLM_MAX_NODES];
	size_t i;

	for (i = 0; i < fp->nmem; i++)
		ids[i] = fp->mem[i].node;
	return fpm_master_of(name, len, ids, fp->nmem);
}

static struct fpm_own *own_find(struct fpm *fp, uint64_t lkid)
{
	size_t i;

	for (i = 0; i < fp->nown; i++)
		if (fp->own[i].lkid == lkid)
			return &fp->own[i];
	return NULL;
}

static void own_drop(struct fpm *fp, struct fpm_own *o)
{
	size_t i = (size_t)(o - fp->own);

	memmove(o, o + 1, (fp->nown - i - 1) * sizeof(*o));
	fp->nown--;
}

static struct fpm_mrid *mrid_find(struct fpm *fp, uint64_t lkid)
{
	size_t i;

	for (i = 0; i < fp->nmrid; i++)
		if (fp->mrid[i].lkid == lkid)
			return &fp->mrid[i];
	return NULL;
}

static int mrid_set(struct fpm *fp, uint64_t lkid, uint64_t rid)
{
	struct fpm_mrid *r = mrid_find(fp, lkid);

	if (!r) {
		if (grow((void **)&fp->mrid, &fp->capmrid, fp->nmrid + 1,
			 sizeof(*fp->mrid)))
			return -ENOMEM;
		r = &fp->mrid[fp->nmrid++];
		r->lkid = lkid;
	}
	r->rid = rid;
	return 0;
}

static void mrid_drop(struct fpm *fp, uint64_t lkid)
{
	struct fpm_mrid *r = mrid_find(fp, lkid);

	if (r)
		*r = fp->mrid[--fp->nmrid];
}

int fpm_new(uint32_t node, uint64_t incarnation, struct fpm **fpp)
{
	struct fpm *fp;

	if (!node || node > SDLM_MAX_NODES || !incarnation)
		return -EINVAL;
	fp = calloc(1, sizeof(*fp));
	if (!fp)
		return -ENOMEM;
	fp->self = node;
	fp->inc = incarnation;
	fp->next_rid = 1;
	fp->phase = FPM_OUT;
	ls_out_init(&fp->lso);
	*fpp = fp;
	return 0;
}

static void master_drop(struct fpm *fp)
{
	ls_destroy(fp->ls);
	fp->ls = NULL;
	fp->nmrid = 0;
	fp->npark = 0;
}

void fpm_free(struct fpm *fp)
{
	if (!fp)
		return;
	master_drop(fp);
	ls_out_free(&fp->lso);
	free(fp->own);
	free(fp->mrid);
	free(fp->park);
	free(fp->hist);
	free(fp->rep_e);
	free(fp->rep_m);
	free(fp->loc);
	free(fp->later);
	free(fp);
}

enum fpm_phase fpm_phase(const struct fpm *fp)
{
	return fp->phase;
}

uint64_t fpm_epoch(const struct fpm *fp)
{
	return fp->epoch;
}

uint32_t fpm_master(const struct fpm *fp, const void *name, size_t namelen)
{
	if (fp->phase != FPM_ACTIVE)
		return 0;
	return master_now(fp, name, namelen);
}

const struct ls_state *fpm_ls(const struct fpm *fp)
{
	return fp->phase == FPM_ACTIVE ? fp->ls : NULL;
}

/* ---- blocks (design 3.4: a resource whose old master is not a member
 * is not granted until every away node is fenced) ---------------------- */

static bool hist_blocks(const struct fpm_hist *h, const void *name, size_t len)
{
	uint32_t om;

	if (h->all)
		return true;
	om = fpm_master_of(name, len, h->prev, h->nprev);
	return !ids_have(h->next, h->nnext, om);
}

static bool blocked(const struct fpm *fp, const void *name, size_t len)
{
	size_t i;

	if (!fp->nblocker)
		return false;
	if (fp->hist_all)
		return true;
	for (i = 0; i < fp->nhist; i++)
		if (hist_blocks(&fp->hist[i], name, len))
			return true;
	return false;
}

bool fpm_blocked(const struct fpm *fp, const void *name, size_t namelen)
{
	return fp->phase == FPM_ACTIVE && master_now(fp, name, namelen) == fp->self &&
	       blocked(fp, name, namelen);
}

/* ---- sending -------------------------------------------------------- */

static void send_msg(struct fpm *fp, uint32_t to, const struct fpm_msg *m,
		     struct fpm_out *out)
{
	if (to != fp->self) {
		out_add(out, FPM_OUT_SEND, to, m);
		return;
	}
	if (grow((void **)&fp->loc, &fp->caploc, fp->nloc + 1, sizeof(*fp->loc))) {
		out->lost = true;
		return;
	}
	fp->loc[fp->nloc].node = to;
	fp->loc[fp->nloc].m = *m;
	fp->nloc++;
}

static void msg_fill(struct fpm_msg *m, uint8_t type, uint64_t epoch,
		     uint64_t rid, uint64_t lkid, int mode, const void *name,
		     size_t namelen)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->epoch = epoch;
	m->rid = rid;
	m->lkid = lkid;
	m->mode = mode;
	m->namelen = (uint8_t)namelen;
	memcpy(m->name, name, namelen);
}

/* ---- the master ----------------------------------------------------- */

static int lock_mode_left(const struct fpm *fp, uint64_t lkid)
{
	struct ls_lock_info li;

	if (ls_lock_get(fp->ls, lkid, &li) || li.queue == LS_Q_WAIT)
		return MODE_NONE;
	return li.grmode;
}

/* ls_apply's decisions as messages. */
static void master_emit(struct fpm *fp, struct fpm_out *out)
{
	const struct ls_out_item *it;
	struct fpm_mrid *r;
	struct fpm_msg m;
	size_t i;

	if (fp->lso.lost)
		out->lost = true;
	for (i = 0; i < fp->lso.count; i++) {
		it = &fp->lso.items[i];
		r = mrid_find(fp, it->o_lkid);
		switch (it->o_kind) {
		case LS_OUT_GRANTED:
			msg_fill(&m, FPM_P_GRANT, fp->epoch, r ? r->rid : 0,
				 it->o_lkid, it->o_mode, it->o_name, it->o_namelen);
			m.token = fp->epoch << 32 | (it->o_epoch & UINT32_MAX);
			m.lvb_valid = it->o_lvb_valid;
			memcpy(m.lvb, it->o_lvb, LS_LVB_LEN);
			if (m.rid)
				send_msg(fp, it->o_nodeid, &m, out);
			break;
		case LS_OUT_NOQUEUE_FAILED:
		case LS_OUT_CANCELLED:
		case LS_OUT_DEADLOCK:
			msg_fill(&m, FPM_P_FAIL, fp->epoch, r ? r->rid : 0,
				 it->o_lkid, lock_mode_left(fp, it->o_lkid),
				 it->o_name, it->o_namelen);
			m.err = it->o_err ? it->o_err : SDLM_ECANCELED;
			if (m.mode == MODE_NONE)
				mrid_drop(fp, it->o_lkid);
			/* a fenced node's waiters: told if it is a member
			 * (away, nobody listens) */
			if (m.rid && (it->o_err != SDLM_EFENCED ||
				      mem_find(fp, it->o_nodeid)))
				send_msg(fp, it->o_nodeid, &m, out);
			break;
		case LS_OUT_BLOCKING:
			msg_fill(&m, FPM_P_BAST, fp->epoch, 0, it->o_lkid,
				 it->o_mode, it->o_name, it->o_namelen);
			send_msg(fp, it->o_nodeid, &m, out);
			break;
		case LS_OUT_NEED_FENCE:
			out_add(out, FPM_OUT_NEED_FENCE, it->o_nodeid, NULL);
			break;
		case LS_OUT_RELEASED:
			/* a member's lock freed by its fence: the member is
			 * told (its users must go, it holds nothing) */
			if (it->o_err == SDLM_EFENCED && r && r->rid &&
			    mem_find(fp, it->o_nodeid)) {
				msg_fill(&m, FPM_P_FAIL, fp->epoch, r->rid,
					 it->o_lkid, MODE_NONE, it->o_name,
					 it->o_namelen);
				m.err = SDLM_EFENCED;
				send_msg(fp, it->o_nodeid, &m, out);
			}
			mrid_drop(fp, it->o_lkid);
			break;
		}
	}
	ls_out_reset(&fp->lso);
}

static int master_apply(struct fpm *fp, const struct ls_event *ev,
			struct fpm_out *out)
{
	int rc = ls_apply(fp->ls, ev, &fp->lso);

	master_emit(fp, out);
	return rc;
}

/* Ask, once, for the fence of every away node a block waits for. */
static void blockers_ask(struct fpm *fp, struct fpm_out *out)
{
	size_t i;

	for (i = 0; i < fp->nblocker; i++)
		if (!fp->asked[i]) {
			fp->asked[i] = true;
			out_add(out, FPM_OUT_NEED_FENCE, fp->blocker[i], NULL);
		}
}

static int park_add(struct fpm *fp, uint32_t node, const struct fpm_msg *m,
		    struct fpm_out *out)
{
	if (grow((void **)&fp->park, &fp->cappark, fp->npark + 1,
		 sizeof(*fp->park)))
		return -ENOMEM;
	fp->park[fp->npark].node = node;
	fp->park[fp->npark].m = *m;
	fp->npark++;
	blockers_ask(fp, out);
	return 0;
}

static void ev_from_msg(struct ls_event *ev, uint32_t node,
			const struct fpm_msg *m)
{
	memset(ev, 0, sizeof(*ev));
	ev->ev_nodeid = node;
	ev->ev_lkid = m->lkid;
	ev->ev_mode = m->mode;
	ev->ev_flags = m->flags;
	ev->ev_name = m->name;
	ev->ev_namelen = m->namelen;
	ev->ev_lvb = m->lvb_valid ? m->lvb : NULL;
	switch (m->type) {
	case FPM_P_REQUEST: ev->ev_kind = LS_EV_REQUEST; break;
	case FPM_P_CONVERT: ev->ev_kind = LS_EV_CONVERT; break;
	case FPM_P_CANCEL:  ev->ev_kind = LS_EV_CANCEL; break;
	default:	    ev->ev_kind = LS_EV_RELEASE; break;
	}
}

/* A request, conversion, cancel or release the master takes (its
 * sender, epoch, mastership and id already checked). */
static int master_take(struct fpm *fp, uint32_t node, const struct fpm_msg *m,
		       struct fpm_out *out)
{
	struct ls_event ev;
	struct fpm_msg f;
	size_t i;
	int rc;

	if (m->type == FPM_P_CANCEL) {
		for (i = 0; i < fp->npark; i++)
			if (fp->park[i].m.lkid == m->lkid) {
				struct fpm_msg *p = &fp->park[i].m;

				msg_fill(&f, FPM_P_FAIL, fp->epoch, p->rid, p->lkid,
					 lock_mode_left(fp, p->lkid), p->name,
					 p->namelen);
				f.err = SDLM_ECANCELED;
				memmove(&fp->park[i], &fp->park[i + 1],
					(fp->npark - i - 1) * sizeof(*fp->park));
				fp->npark--;
				send_msg(fp, node, &f, out);
				return 0;
			}
	}
	/* a block holds requests and conversions, not releases or cancels;
	 * a NOQUEUE request or up-conversion cannot be granted now, so it
	 * fails now (as ls_apply fails it at a closed gate or a HOLD), a
	 * conversion keeping its granted mode; the fence is asked for all
	 * the same */
	if ((m->type == FPM_P_REQUEST || m->type == FPM_P_CONVERT) &&
	    blocked(fp, m->name, m->namelen)) {
		int left = m->type == FPM_P_CONVERT ?
			   lock_mode_left(fp, m->lkid) : MODE_NONE;

		if (!(m->flags & LS_LKF_NOQUEUE) ||
		    (left != MODE_NONE && mode_covers(left, m->mode)))
			return park_add(fp, node, m, out);
		msg_fill(&f, FPM_P_FAIL, fp->epoch, m->rid, m->lkid, left,
			 m->name, m->namelen);
		f.err = SDLM_EBUSY;
		send_msg(fp, node, &f, out);
		blockers_ask(fp, out);
		return 0;
	}
	ev_from_msg(&ev, node, m);
	if (m->type == FPM_P_REQUEST || m->type == FPM_P_CONVERT) {
		struct fpm_mrid *r = mrid_find(fp, m->lkid);
		uint64_t old = r ? r->rid : 0;

		if (mrid_set(fp, m->lkid, m->rid))
			return -ENOMEM;
		rc = master_apply(fp, &ev, out);
		if (rc && rc != -ENOMEM) {
			/* refused: the requester hears it, the lock is as
			 * it was */
			if (old)
				mrid_set(fp, m->lkid, old);
			else
				mrid_drop(fp, m->lkid);
			msg_fill(&f, FPM_P_FAIL, fp->epoch, m->rid, m->lkid,
				 MODE_NONE, m->name, m->namelen);
			if (m->type == FPM_P_CONVERT) {
				struct ls_lock_info li;

				if (!ls_lock_get(fp->ls, m->lkid, &li) &&
				    li.nodeid == node && li.queue == LS_Q_GRANTED)
					f.mode = li.grmode;
			}
			f.err = rc;
			send_msg(fp, node, &f, out);
		}
		return rc;
	}
	return master_apply(fp, &ev, out);
}

/* The blocks are gone: what they held waits no more, in arrival order. */
static void unblock(struct fpm *fp, struct fpm_out *out)
{
	struct fpm_park *p;
	size_t i, n = fp->npark;

	fp->nhist = 0;
	fp->hist_all = false;
	if (!n || fp->phase != FPM_ACTIVE)
		return;
	p = malloc(n * sizeof(*p));
	if (!p) {
		out->lost = true;
		return;
	}
	memcpy(p, fp->park, n * sizeof(*p));
	fp->npark = 0;
	for (i = 0; i < n; i++)
		master_take(fp, p[i].node, &p[i].m, out);
	free(p);
}

/* ---- the requester's answers ---------------------------------------- */

static int requester_take(struct fpm *fp, uint32_t node, const struct fpm_msg *m,
			  struct fpm_out *out)
{
	struct fpm_own *o = own_find(fp, m->lkid);

	if (!o || o->namelen != m->namelen || memcmp(o->name, m->name, m->namelen))
		return -ESTALE;
	if (master_now(fp, m->name, m->namelen) != node)
		return -EXDEV;
	if (m->type == FPM_P_BAST) {
		if (o->grmode == MODE_NONE)
			return -ESTALE;
		out_add(out, FPM_OUT_BAST, fp->self, m);
		return 0;
	}
	/* BAD_DUP_APPLY: only the answer to the request outstanding now */
	if (m->rid != o->rid)
		return -ESTALE;
	if (!o->outstanding) {
		/* a held lock's report refused by the rebuild */
		if (m->type == FPM_P_FAIL && o->grmode != MODE_NONE &&
		    m->mode == MODE_NONE) {
			out_add(out, FPM_OUT_REVOKE, fp->self, m);
			own_drop(fp, o);
			return 0;
		}
		return -ESTALE;
	}
	o->outstanding = false;
	if (m->type == FPM_P_GRANT) {
		o->grmode = o->rqmode = m->mode;
		o->token = m->token;
		o->epoch = m->epoch;
		out_add(out, FPM_OUT_GRANTED, fp->self, m);
		return 0;
	}
	out_add(out, FPM_OUT_FAILED, fp->self, m);
	if (o->grmode != MODE_NONE && m->err == SDLM_EFENCED) {
		/* fenced: its granted mode went with the fence too */
		out_add(out, FPM_OUT_REVOKE, fp->self, m);
		own_drop(fp, o);
	} else if (o->grmode == MODE_NONE) {
		own_drop(fp, o);
	} else {
		o->rqmode = o->grmode;
	}
	return 0;
}

/*
 * FM1 (design-fastpath.md, Findings): each member processes the round's
 * completion at its own point; a message of the new epoch from a member
 * that already did can come first.  The transport acknowledged it, so
 * refusing it would lose it: it is kept, and taken (or refused) once this
 * node completed the round too.  At most FPM_LATER_MAX of them: a peer
 * that sends more (a bug, a forged key, or far more traffic than a
 * round's skew lets through) must not grow this node without bound, so
 * one more is dropped and counted (-ENOBUFS: fpm_input in fpmaster.h).
 */
static int later_add(struct fpm *fp, uint32_t node, uint64_t inc,
		     const struct fpm_msg *m)
{
	if (fp->nlater >= FPM_LATER_MAX) {
		fp->later_dropped++;
		return -ENOBUFS;
	}
	if (grow((void **)&fp->later, &fp->caplater, fp->nlater + 1,
		 sizeof(*fp->later)))
		return -ENOMEM;
	fp->later[fp->nlater].node = node;
	fp->later[fp->nlater].inc = inc;
	fp->later[fp->nlater].m = *m;
	fp->nlater++;
	return 0;
}

static int dispatch(struct fpm *fp, uint32_t node, uint64_t inc,
		    const struct fpm_msg *m, struct fpm_out *out);
static void local_drain(struct fpm *fp, struct fpm_out *out);

static void later_take(struct fpm *fp, struct fpm_out *out)
{
	struct fpm_park *p;
	size_t i, n = fp->nlater;

	if (!n)
		return;
	p = malloc(n * sizeof(*p));
	if (!p) {
		out->lost = true;
		return;
	}
	memcpy(p, fp->later, n * sizeof(*p));
	fp->nlater = 0;
	for (i = 0; i < n; i++) {
		dispatch(fp, p[i].node, p[i].inc, &p[i].m, out);
		local_drain(fp, out);
	}
	free(p);
}

/* One message, from node (incarnation inc), checked against the epoch. */
static int dispatch(struct fpm *fp, uint32_t node, uint64_t inc,
		    const struct fpm_msg *m, struct fpm_out *out)
{
	struct fpm_mem *mm;
	int rc;

	if (fp->phase == FPM_ROUND && m->epoch > fp->epoch)
		return later_add(fp, node, inc, m);
	if (fp->phase != FPM_ACTIVE)
		return -EAGAIN;
	/* BAD_NO_EPOCH_CHECK: only the current epoch's, either way */
	if (m->epoch != fp->epoch)
		return -ESTALE;
	mm = mem_find(fp, node);
	if (!mm)
		return -EPERM;
	if (mm->inc != inc)
		return -ESTALE;
	if (m->type >= FPM_P_BAST)
		return requester_take(fp, node, m, out);
	if ((uint32_t)(m->lkid >> 32) != node)
		return -EINVAL;
	if (master_now(fp, m->name, m->namelen) != fp->self)
		return -EXDEV;
	/* BAD_DUP_APPLY: a request id at most once */
	if (m->rid <= mm->last_rid)
		return -EALREADY;
	mm->last_rid = m->rid;
	rc = master_take(fp, node, m, out);
	return rc;
}

static void local_drain(struct fpm *fp, struct fpm_out *out)
{
	struct fpm_park p;

	while (fp->nloc) {
		p = fp->loc[0];
		memmove(&fp->loc[0], &fp->loc[1], (fp->nloc - 1) * sizeof(p));
		fp->nloc--;
		dispatch(fp, fp->self, fp->inc, &p.m, out);
	}
}

int fpm_input(struct fpm *fp, uint32_t node, uint64_t incarnation,
	      const struct fpm_msg *m, struct fpm_out *out)
{
	int rc;

	out_reset(out);
	/* the decoder's checks: the edge may hand over any struct */
	if (node == fp->self || fpm_msg_check(m))
		return -EINVAL;
	rc = dispatch(fp, node, incarnation, m, out);
	local_drain(fp, out);
	return rc;
}

uint64_t fpm_later_dropped(const struct fpm *fp)
{
	return fp->later_dropped;
}

/* ---- the requester's calls ------------------------------------------ */

static void msg_lvb(struct fpm_msg *m, const struct fpm_own *o)
{
	if (o->lvb_valid) {
		m->lvb_valid = true;
		memcpy(m->lvb, o->lvb, LS_LVB_LEN);
	}
}

static void own_send(struct fpm *fp, struct fpm_own *o, uint8_t type,
		     struct fpm_out *out)
{
	struct fpm_msg m;
	uint64_t rid = fp->next_rid++;
	uint32_t to = master_now(fp, o->name, o->namelen);

	msg_fill(&m, type, fp->epoch, rid, o->lkid, MODE_NONE, o->name,
		 o->namelen);
	switch (type) {
	case FPM_P_REQUEST:
	case FPM_P_CONVERT:
		m.mode = o->rqmode;
		m.flags = o->flags;
		if (type == FPM_P_CONVERT)
			msg_lvb(&m, o);
		o->rid = rid;
		o->outstanding = true;
		o->cancel_sent = false;
		o->pend = PEND_NONE;
		break;
	case FPM_P_CANCEL:
		o->pend_cancel = false;
		o->cancel_sent = true;
		break;
	default:	/* FPM_P_RELEASE */
		m.flags = o->rel_flags;
		msg_lvb(&m, o);
		break;
	}
	send_msg(fp, to, &m, out);
}

/* The own lock lkid for a conversion or a release: granted, nothing
 * outstanding or waiting to be sent.  0, -ENOENT or -EBUSY. */
static int own_idle(struct fpm *fp, uint64_t lkid, struct fpm_own **op)
{
	struct fpm_own *o = own_find(fp, lkid);

	if (!o)
		return -ENOENT;
	if (o->grmode == MODE_NONE || o->outstanding || o->pend || o->pend_release)
		return -EBUSY;
	*op = o;
	return 0;
}

/* Asked: marked to be sent, and sent now when ACTIVE, else when the next
 * epoch opens (own_flush); own_send clears the mark. */
static void own_go(struct fpm *fp, struct fpm_own *o, uint8_t type,
		   struct fpm_out *out)
{
	switch (type) {
	case FPM_P_REQUEST:	o->pend = PEND_REQUEST; break;
	case FPM_P_CONVERT:	o->pend = PEND_CONVERT; break;
	case FPM_P_CANCEL:	o->pend_cancel = true; break;
	default:		o->pend_release = true; break;
	}
	if (fp->phase != FPM_ACTIVE)
		return;
	own_send(fp, o, type, out);
	if (type == FPM_P_RELEASE)
		own_drop(fp, o);
	local_drain(fp, out);
}

static void own_lvb(struct fpm_own *o, const uint8_t *lvb)
{
	o->lvb_valid = lvb != NULL;
	if (lvb)
		memcpy(o->lvb, lvb, LS_LVB_LEN);
}

int fpm_lock(struct fpm *fp, uint64_t lkid, const void *name, size_t namelen,
	     int mode, uint32_t flags, struct fpm_out *out)
{
	struct fpm_own *o;

	out_reset(out);
	if ((uint32_t)(lkid >> 32) != fp->self || !name || !namelen ||
	    namelen > SDLM_NAME_MAX || !mode_valid(mode) ||
	    (flags & ~(LS_LKF_NOQUEUE | LS_LKF_NOQUEUEBAST)))
		return -EINVAL;
	if (own_find(fp, lkid))
		return -EEXIST;
	if (grow((void **)&fp->own, &fp->capown, fp->nown + 1, sizeof(*fp->own)))
		return -ENOMEM;
	o = &fp->own[fp->nown++];
	memset(o, 0, sizeof(*o));
	o->lkid = lkid;
	o->grmode = MODE_NONE;
	o->rqmode = mode;
	o->flags = flags;
	o->namelen = (uint8_t)namelen;
	memcpy(o->name, name, namelen);
	own_go(fp, o, FPM_P_REQUEST, out);
	return 0;
}

int fpm_convert(struct fpm *fp, uint64_t lkid, int mode, uint32_t flags,
		const uint8_t *lvb, struct fpm_out *out)
{
	struct fpm_own *o;
	int rc;

	out_reset(out);
	if (!mode_valid(mode) || (flags & ~LS_LKF_ALL))
		return -EINVAL;
	rc = own_idle(fp, lkid, &o);
	if (rc)
		return rc;
	/* a down-conversion gives the higher mode up as it is sent (as a
	 * release does: the caller's users of it stopped): from here on
	 * the lock is held in the lower mode only, whatever the master's
	 * answer, which may let a conflicting request through at once */
	if (mode_covers(o->grmode, mode))
		o->grmode = mode;
	o->rqmode = mode;
	o->flags = flags;
	own_lvb(o, lvb);
	own_go(fp, o, FPM_P_CONVERT, out);
	return 0;
}

int fpm_cancel(struct fpm *fp, uint64_t lkid, struct fpm_out *out)
{
	struct fpm_own *o;
	struct fpm_msg m;

	out_reset(out);
	o = own_find(fp, lkid);
	if (!o)
		return -ENOENT;
	if (o->pend) {
		/* never sent: ends here */
		msg_fill(&m, FPM_P_FAIL, fp->epoch ? fp->epoch : 1, o->rid ? o->rid : 1,
			 o->lkid, o->grmode, o->name, o->namelen);
		m.err = SDLM_ECANCELED;
		out_add(out, FPM_OUT_FAILED, fp->self, &m);
		if (o->grmode == MODE_NONE) {
			own_drop(fp, o);
		} else {
			o->rqmode = o->grmode;
			o->pend = PEND_NONE;
		}
		return 0;
	}
	if (!o->outstanding || o->pend_cancel)
		return -EBUSY;
	own_go(fp, o, FPM_P_CANCEL, out);
	return 0;
}

int fpm_unlock(struct fpm *fp, uint64_t lkid, unsigned users, uint32_t flags,
	       const uint8_t *lvb, struct fpm_out *out)
{
	struct fpm_own *o;
	int rc;

	out_reset(out);
	if (flags & ~LS_LKF_IVVALBLK)
		return -EINVAL;
	rc = own_idle(fp, lkid, &o);
	if (rc)
		return rc;
	/* BAD_RELEASE_EARLY: a release only once its users stopped */
	if (users)
		return -EBUSY;
	o->rel_flags = flags;
	own_lvb(o, lvb);
	own_go(fp, o, FPM_P_RELEASE, out);	/* forgets it once sent */
	return 0;
}

int fpm_own_get(const struct fpm *fp, uint64_t lkid, struct fpm_own_info *info)
{
	size_t i;

	for (i = 0; i < fp->nown; i++)
		if (fp->own[i].lkid == lkid) {
			const struct fpm_own *o = &fp->own[i];

			info->grmode = o->grmode;
			info->rqmode = o->rqmode;
			info->outstanding = o->outstanding;
			info->rid = o->rid;
			info->epoch = o->epoch;
			info->token = o->token;
			return 0;
		}
	return -ENOENT;
}

/* After a round: what was asked meanwhile goes to the new masters. */
static void own_flush(struct fpm *fp, struct fpm_out *out)
{
	size_t i = 0;
	struct fpm_own *o;

	while (i < fp->nown) {
		o = &fp->own[i];
		/* a cancel the old master may not have applied: the new
		 * one has the request from the report, so it is asked again */
		if (o->outstanding && o->cancel_sent)
			o->pend_cancel = true;
		if (o->pend == PEND_REQUEST)
			own_send(fp, o, FPM_P_REQUEST, out);
		else if (o->pend == PEND_CONVERT)
			own_send(fp, o, FPM_P_CONVERT, out);
		if (o->pend_cancel)
			own_send(fp, o, FPM_P_CANCEL, out);
		if (o->pend_release) {
			own_send(fp, o, FPM_P_RELEASE, out);
			own_drop(fp, o);
			continue;
		}
		i++;
	}
}

/* ---- the ordered stream --------------------------------------------- */

static int entry_add(struct fpm_entry **arr, size_t *n, size_t *cap,
		     const struct fpm_entry *e)
{
	if (grow((void **)arr, cap, *n + 1, sizeof(**arr)))
		return -ENOMEM;
	(*arr)[(*n)++] = *e;
	return 0;
}

struct rep_walk {
	struct fpm	*fp;
	const uint32_t	*members;
	size_t		n;
	const struct ls_res_info *res;
	int		rc;
};

static int rep_lock(const struct ls_lock_info *lk, void *arg)
{
	struct rep_walk *w = arg;
	struct fpm_mrid *r;
	struct fpm_entry e;

	if (lk->queue != LS_Q_GRANTED || ids_have(w->members, w->n, lk->nodeid))
		return 0;
	memset(&e, 0, sizeof(e));
	e.node = lk->nodeid;
	e.lkid = lk->lkid;
	r = mrid_find(w->fp, lk->lkid);
	e.rid = r ? r->rid : 0;
	e.grmode = e.rqmode = lk->grmode;
	e.token = w->fp->epoch << 32 | (w->res->epoch & UINT32_MAX);
	e.namelen = (uint8_t)w->res->namelen;
	memcpy(e.name, w->res->name, w->res->namelen);
	return entry_add(&w->fp->rep_m, &w->fp->rep.nm, &w->fp->caprep_m, &e);
}

static int rep_res(const struct ls_res_info *res, void *arg)
{
	struct rep_walk *w = arg;

	w->res = res;
	return ls_foreach_lock(w->fp->ls, res->name, res->namelen, rep_lock, w);
}

int fpm_confchg(struct fpm *fp, const uint32_t *members, size_t n, bool quorate)
{
	struct rep_walk w;
	struct fpm_entry e;
	size_t i;
	int rc;

	rc = nodes_check(members, n);
	if (rc)
		return rc;
	memset(&fp->rep, 0, sizeof(fp->rep));
	fp->rep.node = fp->self;
	if (!quorate || !ids_have(members, n, fp->self)) {
		/* left out, or no quorum: stop at once, masters too */
		fp->phase = FPM_OUT;
		fp->nlater = 0;
		master_drop(fp);
		return 0;
	}
	/* the master state of its last epoch is kept through the round
	 * (never used in it): a configuration change before the round
	 * completed starts the round again, and the new JOIN must report
	 * the same grants (finding 9) */
	fp->rep.epoch = fp->ls ? fp->epoch : 0;
	fp->rep.last_rid = fp->next_rid - 1;
	/* finding 9: as old master, the grants to nodes left out */
	if (fp->ls) {
		w.fp = fp;
		w.members = members;
		w.n = n;
		w.rc = 0;
		rc = ls_foreach_resource(fp->ls, rep_res, &w);
		if (rc)
			return rc < 0 ? rc : -EIO;
	}
	/* its own locks, as the masters know them: what was sent */
	for (i = 0; i < fp->nown; i++) {
		const struct fpm_own *o = &fp->own[i];

		if (o->grmode == MODE_NONE && !o->outstanding)
			continue;	/* never sent */
		memset(&e, 0, sizeof(e));
		e.node = fp->self;
		e.lkid = o->lkid;
		e.rid = o->rid;
		e.grmode = o->grmode;
		e.rqmode = o->outstanding ? o->rqmode : o->grmode;
		e.flags = o->outstanding ? o->flags : 0;
		e.token = o->token;
		e.namelen = o->namelen;
		memcpy(e.name, o->name, o->namelen);
		rc = entry_add(&fp->rep_e, &fp->rep.n, &fp->caprep_e, &e);
		if (rc)
			return rc;
	}
	fp->rep.e = fp->rep_e;
	fp->rep.m = fp->rep_m;
	/* finding 8: from the JOIN on, nothing is taken or decided */
	fp->phase = FPM_ROUND;
	fp->npark = 0;
	return 0;
}

const struct fpm_report *fpm_report(const struct fpm *fp)
{
	return &fp->rep;
}

static int epoch_check(const struct fpm *fp, const struct fpm_epoch *e)
{
	uint32_t ids[SDLM_MAX_NODES];
	size_t i;

	if (!e->epoch || e->epoch > FPM_EPOCH_MAX || e->epoch <= fp->epoch ||
	    !e->n || e->n > SDLM_MAX_NODES || !e->members ||
	    (e->prev_epoch && e->prev_epoch >= e->epoch))
		return -EINVAL;
	for (i = 0; i < e->n; i++) {
		if (!e->members[i].incarnation)
			return -EINVAL;
		ids[i] = e->members[i].node;
	}
	if (nodes_check(ids, e->n) || nodes_check(e->prev, e->nprev) ||
	    nodes_check(e->away, e->naway))
		return -EINVAL;
	for (i = 0; i < e->naway; i++)
		if (ids_have(ids, e->n, e->away[i]))
			return -EINVAL;
	return 0;
}

/* inc of node is one the ordered stream fenced (NODE_FENCED of it or a
 * later one): refused, as the model refuses a fenced incarnation. */
static bool inc_fenced(const struct fpm *fp, uint32_t node, uint64_t inc)
{
	const struct fpm_view *v = &fp->view[node];

	return v->fenced && v->fenced_inc && inc <= v->fenced_inc;
}

/* The report checks of fpmaster.h, one entry: 0 if it may be read. */
static int entry_check(const struct fpm_entry *en)
{
	if (!en->namelen || en->namelen > SDLM_NAME_MAX)
		return -EINVAL;
	if (!en->node || en->node > SDLM_MAX_NODES ||
	    (uint32_t)(en->lkid >> 32) != en->node)
		return -EINVAL;
	if ((en->grmode != MODE_NONE && !mode_valid(en->grmode)) ||
	    !mode_valid(en->rqmode) || (en->flags & ~LS_LKF_ALL))
		return -EINVAL;
	return 0;
}

static int report_check(const struct fpm_report *r)
{
	size_t i;

	if ((r->n && !r->e) || (r->nm && !r->m) || r->epoch > FPM_EPOCH_MAX)
		return -EINVAL;
	for (i = 0; i < r->n; i++)
		if (entry_check(&r->e[i]) || r->e[i].node != r->node)
			return -EINVAL;
	for (i = 0; i < r->nm; i++)
		if (entry_check(&r->m[i]))
			return -EINVAL;
	return 0;
}

static const struct fpm_report *report_of(const struct fpm_report *r, size_t n,
					  uint32_t node)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (r[i].node == node)
			return &r[i];
	return NULL;
}

static bool mem_in(const struct fpm_epoch *e, uint32_t node)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (e->members[i].node == node)
			return true;
	return false;
}

static bool mem_fenced(const struct fpm *fp, const struct fpm_epoch *e,
		       uint32_t node)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (e->members[i].node == node)
			return inc_fenced(fp, node, e->members[i].incarnation);
	return false;
}

static void ev_held_of(struct ls_event *ev, const struct fpm_entry *en)
{
	memset(ev, 0, sizeof(*ev));
	ev->ev_kind = LS_EV_HELD;
	ev->ev_nodeid = en->node;
	ev->ev_lkid = en->lkid;
	ev->ev_mode = en->grmode;
	ev->ev_name = en->name;
	ev->ev_namelen = en->namelen;
	ev->ev_dirty = true;
}

/* A rebuilt lock's report refused (a conflict the model says cannot
 * happen, or its reporter's incarnation fenced): its holder revokes, its
 * requester fails. */
static void refuse_entry(struct fpm *fp, const struct fpm_entry *en, int rc,
			 struct fpm_out *out)
{
	struct fpm_msg f;

	if (!en->rid)
		return;
	msg_fill(&f, FPM_P_FAIL, fp->epoch, en->rid, en->lkid, MODE_NONE,
		 en->name, en->namelen);
	f.err = rc < 0 ? rc : -EIO;
	send_msg(fp, en->node, &f, out);
}

static void request_of(struct fpm_msg *m, const struct fpm *fp,
		       const struct fpm_entry *en)
{
	msg_fill(m, en->grmode == MODE_NONE ? FPM_P_REQUEST : FPM_P_CONVERT,
		 fp->epoch, en->rid, en->lkid, en->rqmode, en->name, en->namelen);
	m->flags = en->flags;
}

static int rebuild(struct fpm *fp, const struct fpm_epoch *e,
		   const struct fpm_report *reports, size_t nreports,
		   struct fpm_out *out)
{
	struct ls_params p = { .cold = true, .default_live = false, .rebuild = true };
	uint32_t ids[SDLM_MAX_NODES], all[SDLM_MAX_NODES];
	const struct fpm_report *r;
	const struct fpm_entry *en;
	struct ls_event ev;
	struct fpm_msg m;
	size_t i, j, nall;
	bool fenced;
	uint32_t om;
	int rc;

	rc = ls_create(&p, &fp->ls);
	if (rc)
		return rc;
	for (i = 0; i < e->n; i++)
		ids[i] = e->members[i].node;
	/* the members and the away nodes whose grants may be entered */
	nall = 0;
	for (i = 1; i <= SDLM_MAX_NODES; i++)
		if (ids_have(ids, e->n, (uint32_t)i) ||
		    ids_have(e->away, e->naway, (uint32_t)i))
			all[nall++] = (uint32_t)i;
	memset(&ev, 0, sizeof(ev));
	ev.ev_kind = LS_EV_CONFCHG;
	ev.ev_members = all;
	ev.ev_member_count = nall;
	ev.ev_quorate = true;
	ev.ev_ring_id = e->epoch;
	rc = ls_apply(fp->ls, &ev, NULL);
	if (rc)
		return rc;
	/* held locks: each member's own report; finding 9: the old
	 * master's grants to away nodes, only if the old master is a member
	 * that was active in the previous epoch and the lineage holds
	 * (BAD_REBUILD_NOOLD) */
	for (i = 0; i < nreports; i++) {
		r = &reports[i];
		if (!ids_have(ids, e->n, r->node))
			continue;
		fenced = mem_fenced(fp, e, r->node);
		for (j = 0; j < r->n; j++) {
			en = &r->e[j];
			if (fpm_master_of(en->name, en->namelen, ids, e->n) != fp->self)
				continue;
			/* a fenced incarnation holds and asks nothing: each
			 * lock it reports is refused, and it is told */
			if (fenced) {
				refuse_entry(fp, en, SDLM_EFENCED, out);
				continue;
			}
			if (en->grmode == MODE_NONE)
				continue;
			ev_held_of(&ev, en);
			rc = ls_apply(fp->ls, &ev, NULL);
			if (rc == -ENOMEM)
				return rc;
			if (rc)
				refuse_entry(fp, en, rc, out);
			else if (mrid_set(fp, en->lkid, en->rid))
				return -ENOMEM;
		}
		if (e->lost || !e->prev_epoch || r->epoch != e->prev_epoch)
			continue;
		for (j = 0; j < r->nm; j++) {
			en = &r->m[j];
			om = fpm_master_of(en->name, en->namelen, e->prev, e->nprev);
			if (om != r->node || ids_have(ids, e->n, en->node) ||
			    !ids_have(e->away, e->naway, en->node) ||
			    en->grmode == MODE_NONE ||
			    fpm_master_of(en->name, en->namelen, ids, e->n) != fp->self)
				continue;
			ev_held_of(&ev, en);
			rc = ls_apply(fp->ls, &ev, NULL);
			if (rc == -ENOMEM)
				return rc;
			if (!rc && mrid_set(fp, en->lkid, en->rid))
				return -ENOMEM;
		}
	}
	/* the epoch's members: the away holders keep their grants */
	ev.ev_kind = LS_EV_CONFCHG;
	ev.ev_members = ids;
	ev.ev_member_count = e->n;
	ev.ev_quorate = true;
	ev.ev_ring_id = e->epoch;
	rc = ls_apply(fp->ls, &ev, NULL);
	if (rc)
		return rc;
	/* the ordered stream's view: eligibility as on the CPG path */
	for (i = 1; i <= SDLM_MAX_NODES; i++) {
		const struct fpm_view *v = &fp->view[i];

		if (!v->known)
			continue;
		memset(&ev, 0, sizeof(ev));
		ev.ev_kind = LS_EV_NODE_STATUS;
		ev.ev_nodeid = (uint32_t)i;
		ev.ev_hb_live = v->live;
		ev.ev_pill_pending = v->pill;
		if (ls_apply(fp->ls, &ev, NULL) == -ENOMEM)
			return -ENOMEM;
		if (v->fenced) {
			memset(&ev, 0, sizeof(ev));
			ev.ev_kind = LS_EV_NODE_FENCED;
			ev.ev_nodeid = (uint32_t)i;
			ev.ev_incarnation = v->fenced_inc;
			if (ls_apply(fp->ls, &ev, NULL) == -ENOMEM)
				return -ENOMEM;
		}
	}
	/* the gate as the stream says (before the waiters: a NOQUEUE one
	 * would fail at a closed gate); it ends the HELD reports */
	if (fp->gate) {
		memset(&ev, 0, sizeof(ev));
		ev.ev_kind = LS_EV_GATE;
		ev.ev_gate_open = true;
		if (master_apply(fp, &ev, out) == -ENOMEM)
			return -ENOMEM;
	}
	/* requests and conversions the members wait for, in report order */
	for (i = 0; i < nreports; i++) {
		r = &reports[i];
		if (!ids_have(ids, e->n, r->node) || mem_fenced(fp, e, r->node))
			continue;
		for (j = 0; j < r->n; j++) {
			en = &r->e[j];
			if (en->grmode == en->rqmode ||
			    !en->rid ||
			    fpm_master_of(en->name, en->namelen, ids, e->n) != fp->self)
				continue;
			request_of(&m, fp, en);
			if (m.type == FPM_P_REQUEST || mode_valid(en->grmode))
				master_take(fp, r->node, &m, out);
		}
	}
	return 0;
}

int fpm_round_complete(struct fpm *fp, const struct fpm_epoch *e,
		       const struct fpm_report *reports, size_t nreports,
		       struct fpm_out *out)
{
	uint32_t ids[SDLM_MAX_NODES];
	const struct fpm_report *mine;
	struct fpm_hist *h;
	struct fpm_own *o;
	size_t i;
	bool had = fp->phase == FPM_ROUND && fp->rep.epoch &&
		   fp->rep.epoch == e->prev_epoch;
	int rc;

	out_reset(out);
	rc = epoch_check(fp, e);
	if (rc)
		return rc;
	/* every member's report, once: a missing one would lose its locks */
	if (nreports != e->n || (nreports && !reports))
		return -EINVAL;
	for (i = 0; i < nreports; i++)
		if (!mem_in(e, reports[i].node) ||
		    report_of(reports, i, reports[i].node) ||
		    report_check(&reports[i]))
			return -EINVAL;
	for (i = 0; i < e->n; i++) {
		ids[i] = e->members[i].node;
		/* recorded here too: a verdict on an older incarnation
		 * must not act on this one (fpm_node_fenced) */
		if (e->members[i].incarnation > fp->view[ids[i]].inc)
			fp->view[ids[i]].inc = e->members[i].incarnation;
	}
	master_drop(fp);
	if (!ids_have(ids, e->n, fp->self) || fp->phase != FPM_ROUND) {
		fp->phase = FPM_OUT;
		return 0;
	}
	fp->epoch = e->epoch;
	fp->nmem = e->n;
	for (i = 0; i < e->n; i++) {
		fp->mem[i].node = e->members[i].node;
		fp->mem[i].inc = e->members[i].incarnation;
		mine = report_of(reports, nreports, e->members[i].node);
		fp->mem[i].last_rid = mine ? mine->last_rid : 0;
		/* a member rejoined under a new incarnation: its fence is
		 * history; its fenced incarnation itself stays refused */
		if (!inc_fenced(fp, e->members[i].node, e->members[i].incarnation))
			fp->view[e->members[i].node].fenced = false;
	}
	/* the blocks: who is away and not fenced, and the epoch changes
	 * since the last time nobody was (BAD_REMASTER_NOFENCE) */
	fp->nblocker = e->naway;
	for (i = 0; i < e->naway; i++) {
		fp->blocker[i] = e->away[i];
		fp->asked[i] = false;
	}
	if (!fp->nblocker) {
		fp->nhist = 0;
		fp->hist_all = false;
	} else {
		if (!had)
			fp->hist_all = true;	/* this node lacks the history */
		if (!fp->hist_all) {
			if (fp->nhist == FPM_HIST_MAX) {
				fp->hist_all = true;
			} else {
				if (grow((void **)&fp->hist, &fp->caphist,
					 fp->nhist + 1, sizeof(*fp->hist)))
					return -ENOMEM;
				h = &fp->hist[fp->nhist++];
				h->all = e->lost || !e->prev_epoch;
				h->nprev = e->nprev;
				memcpy(h->prev, e->prev, e->nprev * sizeof(*e->prev));
				h->nnext = e->n;
				memcpy(h->next, ids, e->n * sizeof(*ids));
			}
		}
	}
	fp->phase = FPM_ACTIVE;
	/* EP: the locks this node reported held are the new epoch's; a
	 * down-conversion in flight is done (it was reported held in the
	 * lower mode: no answer will come for it) */
	for (i = 0; i < fp->nown; i++) {
		o = &fp->own[i];
		if (o->grmode != MODE_NONE)
			o->epoch = e->epoch;
		if (o->outstanding && o->grmode == o->rqmode) {
			o->outstanding = false;
			o->cancel_sent = false;
		}
	}
	rc = rebuild(fp, e, reports, nreports, out);
	if (rc) {
		/* the master state could not be built: this node masters
		 * nothing it could decide right; the edge leaves */
		master_drop(fp);
		fp->phase = FPM_OUT;
		return rc;
	}
	own_flush(fp, out);
	local_drain(fp, out);
	later_take(fp, out);
	return 0;
}

int fpm_node_status(struct fpm *fp, uint32_t node, bool hb_live,
		    bool pill_pending, struct fpm_out *out)
{
	struct ls_event ev;

	out_reset(out);
	if (!node || node > SDLM_MAX_NODES)
		return -EINVAL;
	fp->view[node].known = true;
	fp->view[node].live = hb_live;
	fp->view[node].pill = pill_pending;
	if (fp->phase != FPM_ACTIVE || !fp->ls)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.ev_kind = LS_EV_NODE_STATUS;
	ev.ev_nodeid = node;
	ev.ev_hb_live = hb_live;
	ev.ev_pill_pending = pill_pending;
	master_apply(fp, &ev, out);
	local_drain(fp, out);
	return 0;
}

int fpm_node_fenced(struct fpm *fp, uint32_t node, uint64_t incarnation,
		    struct fpm_out *out)
{
	struct ls_event ev;
	size_t i;

	out_reset(out);
	if (!node || node > SDLM_MAX_NODES)
		return -EINVAL;
	/* a verdict on an incarnation older than the node's member one
	 * comes after the node restarted and rejoined: what it holds and
	 * what a block waits for are the new incarnation's, which this
	 * fence did not stop (lockstate.c ev_node_fenced, the same rule) */
	if (fp->view[node].inc && incarnation < fp->view[node].inc)
		return -EALREADY;
	fp->view[node].known = true;
	fp->view[node].fenced = true;
	fp->view[node].fenced_inc = incarnation;
	for (i = 0; i < fp->nblocker; i++)
		if (fp->blocker[i] == node) {
			memmove(&fp->blocker[i], &fp->blocker[i + 1],
				(fp->nblocker - i - 1) * sizeof(*fp->blocker));
			memmove(&fp->asked[i], &fp->asked[i + 1],
				(fp->nblocker - i - 1) * sizeof(*fp->asked));
			fp->nblocker--;
			break;
		}
	if (fp->phase == FPM_ACTIVE && fp->ls) {
		memset(&ev, 0, sizeof(ev));
		ev.ev_kind = LS_EV_NODE_FENCED;
		ev.ev_nodeid = node;
		ev.ev_incarnation = incarnation;
		master_apply(fp, &ev, out);
	}
	if (!fp->nblocker)
		unblock(fp, out);
	local_drain(fp, out);
	return 0;
}

int fpm_gate(struct fpm *fp, bool open, struct fpm_out *out)
{
	struct ls_event ev;

	out_reset(out);
	fp->gate = open;
	if (fp->phase != FPM_ACTIVE || !fp->ls)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.ev_kind = LS_EV_GATE;
	ev.ev_gate_open = open;
	master_apply(fp, &ev, out);
	local_drain(fp, out);
	return 0;
}
