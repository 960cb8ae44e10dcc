/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lsreconcile.c - after a lockspace got a replica (lsint.h): our node-level
 * cache set against the received state, and the dirty set of a fresh
 * replica with its CLEAN reports.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sdlm.h"
#include "log.h"
#include "modes.h"
#include "lsint.h"

/*
 * Our cluster locks in the received state that our cache does not know
 * (released while we were in a minority, forgotten when their users were
 * killed, or held by a previous incarnation of this daemon): release
 * them, but only once every lock user we killed is gone - killed AND
 * reaped (release_stale).  Locks our cache holds that the state does
 * not: we were fenced meanwhile; revoke everything.
 */
struct mine_ctx {
	struct lspace *l;
	const struct ls_res_info *res;
	uint64_t cached_lkid;
	int n_release;
};

static int mine_lock(const struct ls_lock_info *lk, void *arg)
{
	struct mine_ctx *c = arg;
	struct ls_event ev;

	if (lk->nodeid != lsm.h.nodeid || lk->lkid == c->cached_lkid)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.ev_nodeid = lsm.h.nodeid;
	ev.ev_lkid = lk->lkid;
	if (lk->queue == LS_Q_GRANTED) {
		ev.ev_kind = LS_EV_RELEASE;
	} else {
		ev.ev_kind = LS_EV_CANCEL;
	}
	log_info("ls %s: releasing stale cluster lock %016llx", c->l->name,
		 (unsigned long long)lk->lkid);
	send_event(c->l, &ev);
	c->n_release++;
	return 0;
}

static int mine_res(const struct ls_res_info *res, void *arg)
{
	struct mine_ctx *c = arg;
	struct nl_res_info ni;

	c->res = res;
	c->cached_lkid = nl_res_get(c->l->nl, res->name, res->namelen, &ni) == 0 ?
		ni.cl_lkid : 0;
	return ls_foreach_lock(c->l->st, res->name, res->namelen, mine_lock, c);
}

/*
 * Fresh replicas and cached locks.  After every partition lost quorum,
 * the nodes keep using the cluster locks they cached; the replica the
 * next quorate round forms knows none of them.  Each member that still
 * uses such locks says CACHED in its round JOIN; if the round forms a
 * fresh replica, those members are its dirty set.  A dirty member that
 * got the state revokes its cached locks (reconcile: they are missing)
 * and, once every lock user it killed is reaped, multicasts JOIN(CLEAN).
 * The fencer opens the cold-start gate only with an empty dirty set; a
 * dirty node that left is fenced instead (its NODE_FENCED clears it).
 * docs/model.md, finding 2.
 */
static int cached_cb(const struct nl_res_info *res, void *arg)
{
	(void)arg;
	return res->cl_state == NL_CL_HELD || res->cl_state == NL_CL_CONVERTING;
}

bool has_cached(struct lspace *l)
{
	return l->nl && nl_foreach_resource(l->nl, cached_cb, NULL) > 0;
}

void maybe_clean(struct lspace *l)
{
	if (!l->ready || l->clean_sent || !set_has(l->dirty_nodes, l->n_dirty, lsm.h.nodeid))
		return;
	/* Cached locks the replica shows granted to us (re-asserted after a
	 * divergence) are no reason to wait; any other must be gone. */
	if ((has_cached(l) && !l->cache_ok) ||
	    (lsm.h.clients_stopping && lsm.h.clients_stopping(lsm.h.ctx)))
		return;
	log_notice("ls %s: every user of the locks cached before quorum was lost is gone: reporting clean",
		   l->name);
	l->clean_sent = true;
	send_join(l, MSG_JOIN_CLEAN);
}

/*
 * Decisions about our own locks that were taken before we had a replica
 * (while we waited for the state) never reached our cache: a grant of a
 * request we sent, or another node waiting for a lock we hold.  They are
 * derived from the received state and fed to the cache now.
 */
enum fix_kind { FIX_GRANTED, FIX_BLOCKING, FIX_RELEASED, FIX_FAILED };

struct fixup {
	enum fix_kind kind;
	uint8_t name[LS_NAME_MAX];
	size_t namelen;
	uint64_t lkid, epoch;
	int mode;
	bool lvb_valid;
	uint8_t lvb[LS_LVB_LEN];
};

struct cache_ctx {
	struct lspace *l;
	bool missing;
	struct fixup *fx;
	size_t nfx, capfx;
	/* for the blocking scan of one resource */
	int my_mode;
	int wanted;
};

static struct fixup *fixup_add(struct cache_ctx *c, enum fix_kind kind,
				const struct nl_res_info *res)
{
	struct fixup *fx;

	if (c->nfx == c->capfx) {
		size_t cap = c->capfx ? 2 * c->capfx : 16;
		struct fixup *n = realloc(c->fx, cap * sizeof(*n));

		if (!n)
			return NULL;
		c->fx = n;
		c->capfx = cap;
	}
	fx = &c->fx[c->nfx++];
	memset(fx, 0, sizeof(*fx));
	fx->kind = kind;
	memcpy(fx->name, res->name, res->namelen);
	fx->namelen = res->namelen;
	fx->lkid = res->cl_lkid;
	return fx;
}

static int wanted_scan(const struct ls_lock_info *lk, void *arg)
{
	struct cache_ctx *c = arg;

	if (lk->nodeid != lsm.h.nodeid && lk->queue != LS_Q_GRANTED &&
	    !mode_compat(c->my_mode, lk->rqmode) && c->wanted < 0)
		c->wanted = lk->rqmode;
	return 0;
}

struct res_find {
	const uint8_t *name;
	size_t len;
	struct ls_res_info info;
	bool found;
};

static int res_find_cb(const struct ls_res_info *r, void *arg)
{
	struct res_find *f = arg;

	if (r->namelen == f->len && !memcmp(r->name, f->name, f->len)) {
		f->info = *r;
		f->found = true;
		return 1;
	}
	return 0;
}

/* Send one of our cluster actions again (reconcile: it was lost). */
static void resend(struct lspace *l, const struct nl_res_info *res, enum ls_event_kind kind,
		   int mode)
{
	struct ls_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ev_kind = kind;
	ev.ev_nodeid = lsm.h.nodeid;
	ev.ev_lkid = res->cl_lkid;
	ev.ev_mode = mode;
	ev.ev_name = res->name;
	ev.ev_namelen = res->namelen;
	/* The value block the lost message carried: our cache still has it.
	 * Without one, a write holder invalidates it rather than leave an
	 * older holder's value standing (the next holder then reads what is
	 * durable: a UID watermark never goes backwards). */
	if ((kind == LS_EV_RELEASE || kind == LS_EV_CONVERT) && mode_is_write(res->cl_mode)) {
		if (res->lvb_valid)
			ev.ev_lvb = res->lvb;
		else
			ev.ev_flags = LS_LKF_IVVALBLK;
	}
	log_info("ls %s: %s of %016llx never reached the cluster (sent in a partition): sending it again",
		 l->name, kind == LS_EV_REQUEST ? "REQUEST" : kind == LS_EV_CONVERT ? "CONVERT" :
		 kind == LS_EV_RELEASE ? "RELEASE" : "CANCEL", (unsigned long long)res->cl_lkid);
	send_event(l, &ev);
}

/*
 * Bring one resource of our cache and the received state together.  What
 * we sent while we had no replica either reached the cluster before the
 * basis (its effect is in the state; the decision about it may not have
 * reached our cache: a fixup), after it (replayed already), or never - it
 * went out in a partition that did not survive (EVS delivers it to that
 * partition only): then it is sent again.  A duplicate of something that
 * did arrive is refused by the state machine and harmless (lkids are never
 * reused).
 *
 *   cache        state shows                      action
 *   REQUESTING   nothing                          cancel sent: fail it; else REQUEST again
 *   REQUESTING   waiting                          cancel sent: CANCEL again
 *   REQUESTING   granted                          fixup GRANTED
 *   CONVERTING   converting                       (in progress)
 *   CONVERTING   granted in the mode asked        fixup GRANTED
 *   CONVERTING   granted in the old mode          cancel sent: fail it; else CONVERT again
 *   RELEASING    granted                          RELEASE again (with our value block)
 *   RELEASING    nothing                          fixup RELEASED
 *   HELD         nothing, or only waiting         we were fenced meanwhile: revoke all
 *   HELD/CONV.   granted, another node waits      fixup BLOCKING
 */
static int cache_res(const struct nl_res_info *res, void *arg)
{
	struct cache_ctx *c = arg;
	struct ls_lock_info li;
	struct fixup *fx;
	bool known;

	if (res->cl_state == NL_CL_NONE)
		return 0;
	known = ls_lock_get(c->l->st, res->cl_lkid, &li) == 0;
	switch (res->cl_state) {
	case NL_CL_RELEASING:
		if (known && li.queue == LS_Q_GRANTED) {
			resend(c->l, res, LS_EV_RELEASE, MODE_NONE);
		} else if (!known) {
			if (!fixup_add(c, FIX_RELEASED, res))
				return -ENOMEM;
		}
		return 0;
	case NL_CL_REQUESTING:
		if (!known || li.queue == LS_Q_WAIT) {
			if (res->cancel_sent && known) {
				resend(c->l, res, LS_EV_CANCEL, MODE_NONE);
			} else if (res->cancel_sent) {
				if (!fixup_add(c, FIX_FAILED, res))
					return -ENOMEM;
			} else if (!known) {
				/* Our request went out before the state we now
				 * have was formed, or in a lost partition. */
				resend(c->l, res, LS_EV_REQUEST, res->cl_rqmode);
			}
			return 0;
		}
		break;
	case NL_CL_CONVERTING:
		if (!known || li.queue == LS_Q_WAIT) {
			c->missing = true;
			return 0;
		}
		if (li.queue == LS_Q_GRANTED && li.grmode != res->cl_rqmode) {
			if (res->cancel_sent) {
				if (!fixup_add(c, FIX_FAILED, res))
					return -ENOMEM;
			} else {
				resend(c->l, res, LS_EV_CONVERT, res->cl_rqmode);
			}
			return 0;
		}
		break;
	case NL_CL_HELD:
		if (!known || li.queue == LS_Q_WAIT) {
			c->missing = true;
			return 0;
		}
		break;
	default:
		return 0;
	}
	/* Granted (or converted) before we had a replica. */
	if ((res->cl_state == NL_CL_REQUESTING && li.queue == LS_Q_GRANTED) ||
	    (res->cl_state == NL_CL_CONVERTING && li.queue == LS_Q_GRANTED &&
	     li.grmode == res->cl_rqmode)) {
		struct res_find f = { .name = res->name, .len = res->namelen };

		ls_foreach_resource(c->l->st, res_find_cb, &f);
		fx = fixup_add(c, FIX_GRANTED, res);
		if (!fx)
			return -ENOMEM;
		fx->mode = li.grmode;
		if (f.found) {
			fx->lvb_valid = f.info.lvb_valid;
			if (f.info.lvb_valid && f.info.lvb)
				memcpy(fx->lvb, f.info.lvb, LS_LVB_LEN);
			fx->epoch = f.info.epoch;
		}
	}
	/* Someone waits behind our granted lock. */
	if (li.queue == LS_Q_GRANTED || li.queue == LS_Q_CONVERT) {
		c->my_mode = li.grmode;
		c->wanted = -1;
		ls_foreach_lock(c->l->st, res->name, res->namelen, wanted_scan, c);
		if (c->wanted >= 0) {
			fx = fixup_add(c, FIX_BLOCKING, res);
			if (!fx)
				return -ENOMEM;
			fx->mode = c->wanted;
		}
	}
	return 0;
}

void reconcile(struct lspace *l)
{
	struct cache_ctx cc = { .l = l };
	size_t i;

	nl_foreach_resource(l->nl, cache_res, &cc);
	l->cache_ok = !cc.missing;
	if (cc.missing) {
		log_warn("ls %s: the cluster state no longer shows locks this node holds: revoking every local lock",
			 l->name);
		revoke_all(l, SDLM_EFENCED);
	} else {
		for (i = 0; i < cc.nfx; i++) {
			struct fixup *f = &cc.fx[i];

			switch (f->kind) {
			case FIX_GRANTED:
				log_debug("ls %s: granted before we had the state: %016llx", l->name,
					  (unsigned long long)f->lkid);
				nl_cluster_granted(l->nl, f->name, f->namelen, f->lkid, f->mode,
						   f->lvb_valid ? f->lvb : NULL, f->lvb_valid,
						   f->epoch, &l->no);
				break;
			case FIX_BLOCKING:
				nl_cluster_blocking(l->nl, f->name, f->namelen, f->lkid, f->mode,
						    &l->no);
				break;
			case FIX_RELEASED:
				log_debug("ls %s: released before we had the state: %016llx", l->name,
					  (unsigned long long)f->lkid);
				nl_cluster_released(l->nl, f->name, f->namelen, f->lkid, 0, &l->no);
				break;
			case FIX_FAILED:
				log_debug("ls %s: cancelled before we had the state: %016llx", l->name,
					  (unsigned long long)f->lkid);
				nl_cluster_failed(l->nl, f->name, f->namelen, f->lkid,
						  SDLM_ECANCELED, &l->no);
				break;
			}
			run_nl_out(l);
		}
	}
	free(cc.fx);
	release_stale(l);
	maybe_clean(l);
}

/*
 * revoke_all kills the users and the cache forgets their locks at once;
 * a killed user is still there until it leaves the kernel (one in the
 * middle of a write).  Released now, its lock could be granted elsewhere
 * while it writes: wait until every killed user is reaped (lsm_tick asks
 * again).  During a clean stop lsm_release_own releases them all, once
 * the same is true.
 */
void release_stale(struct lspace *l)
{
	struct mine_ctx mc = { .l = l };

	l->stale_pending = false;
	if (!l->ready || !l->st || lsm.stopping)
		return;
	if (lsm.h.clients_stopping && lsm.h.clients_stopping(lsm.h.ctx)) {
		l->stale_pending = true;
		return;
	}
	ls_foreach_resource(l->st, mine_res, &mc);
}
