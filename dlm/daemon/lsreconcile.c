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
#include "rebuild.h"
#include "lsint.h"

/*
 * Our cluster locks in the received state that our cache does not know
 * (released while we were in a minority, forgotten when their users were
 * killed, or held by a previous incarnation of this daemon): release
 * them, but only once every lock user we killed is gone - killed AND
 * reaped (lsrec_release_stale).  Locks our cache holds that the state does
 * not: we were fenced meanwhile; revoke everything.
 */
struct mine_ctx {
	struct lspace *l;
	const struct ls_res_info *res;
	uint64_t cached_lkid;
	int n_release;
	bool count_only;	/* count them, send nothing */
};

static int mine_lock(const struct ls_lock_info *lk, void *arg)
{
	struct mine_ctx *c = arg;
	struct ls_event ev;

	if (lk->nodeid != lsm.h.nodeid || lk->lkid == c->cached_lkid)
		return 0;
	if (c->count_only) {
		c->n_release++;
		return 0;
	}
	memset(&ev, 0, sizeof(ev));
	ev.ev_nodeid = lsm.h.nodeid;
	ev.ev_lkid = lk->lkid;
	if (lk->queue == LS_Q_GRANTED) {
		ev.ev_kind = LS_EV_RELEASE;
		/* Our cache lost the value a write holder left (a lock handed
		 * off through the disk while cut off, design-handoff.md V5,
		 * or forgotten with its killed users): invalidate it rather
		 * than leave an older holder's value standing (as resend()). */
		if (mode_is_write(lk->grmode))
			ev.ev_flags = LS_LKF_IVVALBLK;
	} else {
		ev.ev_kind = LS_EV_CANCEL;
	}
	log_info("ls %s: releasing stale cluster lock %016llx", c->l->name,
		 (unsigned long long)lk->lkid);
	lspace_send_event(c->l, &ev);
	c->n_release++;
	return 0;
}

static int mine_res(const struct ls_res_info *res, void *arg)
{
	struct mine_ctx *c = arg;
	struct nl_res_info ni;

	c->res = res;
	/* A held request of ours never reached the cluster: a lock with
	 * its id is a predecessor's. */
	c->cached_lkid = nl_res_get(c->l->nl, res->name, res->namelen, &ni) == 0 &&
		!ni.unsent ? ni.cl_lkid : 0;
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

bool lsrec_has_cached(struct lspace *l)
{
	return l->nl && nl_foreach_resource(l->nl, cached_cb, NULL) > 0;
}

/*
 * Rebuilding a fresh replica (protocol 4, docs/protocol.md; issue 17 item
 * 6).  When every member speaks protocol 4, the fresh replica is not a
 * reason to kill anybody: while no partition was quorate nothing could be
 * granted, so the locks the members still hold are the locks there are.
 * A dirty member that got the state reports each cached lock the replica
 * lacks (HELD, in the order of its cache) instead of revoking it, then -
 * once every report came back to it in the stream - JOIN(CLEAN).  What
 * it does when is rebuild.c's rb_next(): no report while users it killed
 * are not reaped (finding 7) or while this node may not use its locks (it
 * stays dirty until fenced); a refused report (a conflict: never in the
 * design, model S5) revokes every lock of the lockspace here, and CLEAN
 * waits until their users are reaped.  The gate is the fencer's, as for
 * any fresh replica (lsfencer.c).
 */
static void resend_convert(struct lspace *l, const struct nl_res_info *res);

struct report_ctx {
	struct lspace *l;
	size_t sent;
};

static int report_res(const struct nl_res_info *res, void *arg)
{
	struct report_ctx *c = arg;
	struct ls_lock_info li;
	struct ls_event ev;

	if (res->cl_state != NL_CL_HELD && res->cl_state != NL_CL_CONVERTING)
		return 0;
	if (ls_lock_get(c->l->st, res->cl_lkid, &li) == 0)
		return 0;	/* the replica has it (reported already) */
	memset(&ev, 0, sizeof(ev));
	ev.ev_kind = LS_EV_HELD;
	ev.ev_nodeid = lsm.h.nodeid;
	ev.ev_lkid = res->cl_lkid;
	ev.ev_mode = res->cl_mode;
	ev.ev_epoch = res->epoch;
	ev.ev_name = res->name;
	ev.ev_namelen = res->namelen;
	log_info("ls %s: reporting cluster lock %016llx %s on %.*s (epoch %llu) to the rebuilt replica",
		 c->l->name, (unsigned long long)res->cl_lkid, mode_name(res->cl_mode),
		 (int)res->namelen, (const char *)res->name, (unsigned long long)res->epoch);
	if (lspace_send_event(c->l, &ev) < 0)
		return -EIO;
	c->sent++;
	/* A conversion in flight when quorum was lost: asked again behind
	 * the report (refused with it if the report is). */
	if (res->cl_state == NL_CL_CONVERTING && !res->cancel_sent)
		resend_convert(c->l, res);
	return 0;
}

static void send_reports(struct lspace *l)
{
	struct report_ctx c = { .l = l };
	int rc;

	rc = nl_foreach_resource(l->nl, report_res, &c);
	l->rb_reported = true;
	l->rb_formed = l->hist_formed;
	l->rb_hold = l->hold_gen;
	l->rb_sent = c.sent;
	l->rb_seen = 0;
	if (rc < 0) {
		/* some report did not go out: it never comes back */
		log_err("ls %s: reporting the cached locks failed: revoking them", l->name);
		l->rb_refused = true;
		l->rb_sent = 0;
	} else if (!c.sent) {
		l->cache_ok = true;
	}
	log_notice("ls %s: %zu cached lock(s) reported to the rebuilt replica", l->name, c.sent);
}

/* A HELD report applied (rc: ls_apply's answer) on our replica. */
void lsrec_report_applied(struct lspace *l, const struct ls_event *ev, int rc)
{
	struct ls_lock_info li;

	if (rc == -EBUSY)
		log_err("ls %s: REBUILD CONFLICT: node %u reports %016llx %s on %.*s, which conflicts with a lock granted before: refused",
			l->name, ev->ev_nodeid, (unsigned long long)ev->ev_lkid, mode_name(ev->ev_mode),
			(int)ev->ev_namelen, (const char *)ev->ev_name);
	else if (rc < 0)
		log_warn("ls %s: report of %016llx from node %u refused: %s", l->name,
			 (unsigned long long)ev->ev_lkid, ev->ev_nodeid, sdlm_strerror(rc));
	if (ev->ev_nodeid != lsm.h.nodeid || !l->rb_reported)
		return;
	l->rb_seen++;
	/* our own report twice (a reconcile resent it): the lock is ours */
	if (rc == -EEXIST && ls_lock_get(l->st, ev->ev_lkid, &li) == 0 &&
	    li.nodeid == lsm.h.nodeid && li.queue != LS_Q_WAIT)
		rc = 0;
	if (rc < 0)
		l->rb_refused = true;
	if (l->rb_seen >= l->rb_sent && !l->rb_refused)
		l->cache_ok = true;
	lsrec_maybe_clean(l);
}

void lsrec_maybe_clean(struct lspace *l)
{
	struct rb_view v = {
		.ready = l->ready && l->st,
		.dirty = nodeset_has(l->dirty_nodes, l->n_dirty, lsm.h.nodeid),
		.clean_sent = l->clean_sent,
		.to_report = l->rb_to_report,
		.reported = l->rb_reported,
		.sent = l->rb_sent,
		.seen = l->rb_seen,
		.refused = l->rb_refused,
		.revoked = l->rb_revoked,
	};

	if (!v.ready || !v.dirty || v.clean_sent)
		return;
	v.stopping = lsm.h.clients_stopping && lsm.h.clients_stopping(lsm.h.ctx);
	/* Cached locks the replica shows granted to us (re-asserted after a
	 * divergence, or reported) are no reason to wait; any other must be
	 * gone. */
	v.cache_missing = lsrec_has_cached(l) && !l->cache_ok;
	if (v.to_report && !v.reported)
		v.may_use = lsm.h.may_use ? lsm.h.may_use(lsm.h.ctx) : 0;
	switch (rb_next(&v)) {
	case RB_REPORT:
		send_reports(l);
		break;
	case RB_REVOKE:
		log_warn("ls %s: a report to the rebuilt replica was refused: revoking every local lock",
			 l->name);
		l->rb_revoked = true;
		lspace_revoke_all(l, SDLM_EFENCED);
		l->cache_ok = true;	/* the cache is empty now */
		/* what the replica took of our reports is no lock of ours:
		 * released once the users killed are reaped */
		lsrec_release_stale(l);
		break;
	case RB_CLEAN:
		log_notice("ls %s: every lock cached before quorum was lost is %s: reporting clean",
			   l->name, l->rb_reported && !l->rb_refused ?
			   "in the rebuilt replica" : "gone with its users");
		l->clean_sent = true;
		lspace_send_join(l, MSG_JOIN_CLEAN);
		break;
	case RB_NONE:
		break;
	}
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
	int err;			/* FIX_FAILED: the client's error */
	uint8_t name[SDLM_NAME_MAX];
	size_t namelen;
	uint64_t lkid, epoch;
	int mode;
	bool lvb_valid;
	uint8_t lvb[LS_LVB_LEN];
};

struct cache_ctx {
	struct lspace *l;
	bool missing;
	bool rebuild;		/* the replica takes our reports */
	size_t to_report;	/* held locks it lacks: reported, not missing */
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
	lspace_send_event(l, &ev);
}

static void resend_convert(struct lspace *l, const struct nl_res_info *res)
{
	resend(l, res, LS_EV_CONVERT, res->cl_rqmode);
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
/* Is lkid one of the locks of resource (name, namelen) in the state? */
struct on_res {
	uint64_t lkid;
	bool found;
};

static int on_res_cb(const struct ls_lock_info *lk, void *arg)
{
	struct on_res *o = arg;

	if (lk->lkid == o->lkid)
		o->found = true;
	return 0;
}

static bool lock_is_on(struct lspace *l, const uint8_t *name, size_t namelen, uint64_t lkid)
{
	struct on_res o = { .lkid = lkid };

	ls_foreach_lock(l->st, name, namelen, on_res_cb, &o);
	return o.found;
}

static int cache_res(const struct nl_res_info *res, void *arg)
{
	struct cache_ctx *c = arg;
	struct ls_lock_info li;
	struct fixup *fx;
	bool known;

	/* Held (lockspace.c "Held requests"): never sent, so nothing in
	 * the state is about it; a lock with its id is a predecessor's,
	 * released (lsrec_release_stale) before it goes out. */
	if (res->cl_state == NL_CL_NONE || res->unsent)
		return 0;
	known = ls_lock_get(c->l->st, res->cl_lkid, &li) == 0;
	/*
	 * A request sent before we had the state whose lock id the state
	 * knows on another resource, or granted in another mode: the lock
	 * of a previous incarnation of this daemon (lock ids start again
	 * at 1 with each incarnation; the replica keeps a node's granted
	 * locks across its restart until they are released or it is
	 * fenced).  Our request was refused as a duplicate (-EEXIST):
	 * taken for ours, that lock's grant made a second EX holder
	 * (review s25-rev1 R3).  It fails with -EAGAIN; the old lock is
	 * released below (lsrec_release_stale), so a new request gets through.
	 */
	if (known && res->cl_state == NL_CL_REQUESTING &&
	    (!lock_is_on(c->l, res->name, res->namelen, res->cl_lkid) ||
	     (li.queue != LS_Q_WAIT && li.grmode != res->cl_rqmode))) {
		log_warn("ls %s: lock id %016llx of our request for %.*s is a previous incarnation's lock: the request fails (EAGAIN), retry",
			 c->l->name, (unsigned long long)res->cl_lkid, (int)res->namelen,
			 (const char *)res->name);
		fx = fixup_add(c, FIX_FAILED, res);
		if (!fx)
			return -ENOMEM;
		fx->err = -EAGAIN;
		return 0;
	}
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
		if (!known && c->rebuild) {
			c->to_report++;
			return 0;
		}
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
		if (!known && c->rebuild) {
			c->to_report++;
			return 0;
		}
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

void lsrec_reconcile(struct lspace *l)
{
	struct cache_ctx cc = { .l = l };
	size_t i;

	/* What our cache asks for from now on waits behind the releases of
	 * our predecessor's locks (lsrec_release_stale sends it). */
	nl_hold_requests(l->nl);
	/* Reports already in flight to the replica we hold come back in the
	 * stream (lsrec_report_applied); otherwise - another lineage, or a replica
	 * we dropped since (review s25-rev4 R2) - start over. */
	if (!rb_reports_pending(l->rb_reported, l->rb_formed, l->hist_formed,
				l->rb_hold, l->hold_gen, l->rb_sent, l->rb_seen)) {
		l->rb_reported = l->rb_refused = l->rb_revoked = false;
		l->rb_sent = l->rb_seen = 0;
	}
	cc.rebuild = ls_rebuilding(l->st) && nodeset_has(l->dirty_nodes, l->n_dirty, lsm.h.nodeid);
	nl_foreach_resource(l->nl, cache_res, &cc);
	l->rb_to_report = cc.to_report > 0;
	l->cache_ok = !cc.missing && !cc.to_report;
	if (cc.missing) {
		log_warn("ls %s: the cluster state no longer shows locks this node holds: revoking every local lock",
			 l->name);
		lspace_revoke_all(l, SDLM_EFENCED);
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
						  f->err ? f->err : SDLM_ECANCELED, &l->no);
				break;
			}
			lspace_run_nl_out(l);
		}
	}
	free(cc.fx);
	lsrec_release_stale(l);
	lsrec_maybe_clean(l);
}

/* The requests held until now go out, behind the releases just sent:
 * one whose lock id a predecessor's lock had is applied after that lock
 * is gone (lockspace.c "Held requests"). */
static void send_held(struct lspace *l)
{
	if (!nl_holding(l->nl))
		return;
	if (nl_send_held(l->nl, &l->no) < 0)
		log_err("ls %s: node-level actions lost (out of memory)", l->name);
	lspace_run_nl_out(l);
}

/*
 * lspace_revoke_all kills the users and the cache forgets their locks at once;
 * a killed user is still there until it leaves the kernel (one in the
 * middle of a write).  Released now, its lock could be granted elsewhere
 * while it writes: wait until every killed user is reaped (lsm_tick asks
 * again).  During a clean stop lsm_release_own releases them all, once
 * the same is true.  Our held requests go out after the releases (a lock
 * id of theirs may be one of these locks' - review s27-increv H2, H4):
 * while the releases wait, they wait too.
 */
void lsrec_release_stale(struct lspace *l)
{
	struct mine_ctx mc = { .l = l };

	l->stale_pending = false;
	if (!l->ready || !l->st)
		return;
	if (!lsm.stopping) {
		if (lsm.h.clients_stopping && lsm.h.clients_stopping(lsm.h.ctx)) {
			/* none to release: nothing to wait for */
			mc.count_only = true;
			ls_foreach_resource(l->st, mine_res, &mc);
			if (mc.n_release) {
				l->stale_pending = true;
				return;
			}
			mc.count_only = false;
		}
		ls_foreach_resource(l->st, mine_res, &mc);
	}
	send_held(l);
	lsrec_predecessor_check(l);
}

/*
 * The hand-off names a grant by (node, our member incarnation, lkid), and
 * our lock ids start again at 1: from our JOIN until the release of a
 * predecessor's lock is applied, the replica shows that lock under our
 * incarnation, and a request for it names by its id alone a lock of ours
 * in another lockspace (review s28-rev19 M1: V1 stopped that unrelated
 * lock and its value block was applied to the predecessor's lock, marked
 * valid).  So the daemon answers no request (nl_handoff_held, _unknown)
 * until, in every lockspace it opened, a quorate replica showed no lock
 * of our node that our cache does not know: the releases were applied,
 * not only sent - one sent as we were cut off may never be.  Quorate
 * only: a minority partition's replica may apply a release the quorate
 * one never sees.  A lock of ours the cache forgot (its users killed)
 * keeps the gate shut until it is released too: availability only
 * (ignored, the requester fences after B).  lsm_tick asks again.
 */
void lsrec_predecessor_check(struct lspace *l)
{
	struct mine_ctx mc = { .l = l, .count_only = true };

	if (!nl_predecessor_unsure(l->nl) || !l->ready || !l->st ||
	    l->cut_off || !ls_quorate(l->st))
		return;
	ls_foreach_resource(l->st, mine_res, &mc);
	if (mc.n_release)
		return;
	nl_predecessor_gone(l->nl);
	log_info("ls %s: no lock of a previous incarnation of this daemon left here: "
		 "hand-off requests are answered once every lockspace says so", l->name);
}
