/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidserve.c - the UID service's requests served against a ready core, in
 * order, one operation at a time per mailbox: allocate (no I/O until the
 * range runs out), raise and settle, delete, rename, bump.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdlm.h"
#include "log.h"
#include "hist.h"
#include "lockspace.h"
#include "uidsvc_int.h"

#define UID_TRACE_NS	10000000ull	/* log an answer that waited this long */

static void reply_alloc(struct uidsvc_entry *e, struct uidsvc_pending *p, uint32_t first,
			uint32_t count)
{
	struct res_uid r;
	struct uidsvc_alloc *a;

	if (p->gone) {
		/* its client died, or gave the call up (SDLM_UID_CANCEL):
		 * nobody will commit these UIDs, and nobody holds the
		 * mailbox for them */
		log_info("uid %s: UIDs %u..%u not handed out (client %u gone or gave up): a gap",
			 e->name, first, first + count - 1, p->client);
		return;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		uidsvc_answer(p, -ENOMEM, NULL);
		return;
	}
	a->id = e->id << 32 | ++e->next_alloc;
	a->t_ns = uidsvc_now_ns();
	uidsvc.st.allocations++;
	if (p->t_ns) {
		hist_observe_ns(&uidsvc.st.alloc_latency, a->t_ns - p->t_ns);
		/* Only a request that waited (the cached path takes µs). */
		if (a->t_ns - p->t_ns >= UID_TRACE_NS)
			log_debug("uid %s: client %u answered after %llu ms (UIDs %u..%u)",
				  e->name, p->client,
				  (unsigned long long)((a->t_ns - p->t_ns) / 1000000),
				  first, first + count - 1);
	}
	uidsvc.st.uids += count;
	if (uidsvc.degraded)
		uidsvc.deg_allocs += count;
	a->client = p->client;
	a->seq = p->seq;
	a->first = first;
	a->count = count;
	a->next = e->allocs;
	e->allocs = a;
	memset(&r, 0, sizeof(r));
	r.first = first;
	r.count = count;
	r.uidvalidity = e->m.um_uidvalidity;
	r.epoch = e->m.um_epoch;
	r.alloc_id = a->id;
	memcpy(r.guid, e->guid, UID_GUID_LEN);
	uidsvc_answer(p, 0, &r);
}

/* The answer of raise, settle and bump: where the mailbox is now. */
void uidserve_res_now(const struct uidsvc_entry *e, struct res_uid *r)
{
	memset(r, 0, sizeof(*r));
	r->next = e->m.um_next;
	r->uidvalidity = e->m.um_uidvalidity;
	r->epoch = e->m.um_epoch;
	memcpy(r->guid, e->guid, UID_GUID_LEN);
}

/*
 * The continuations of the requests' write sequences.  A request that
 * needed a write goes back to the head of the queue and is served again
 * (the core goes on from where the write left it); one that failed is
 * answered with the error.
 */
static void request_written(struct uio_op *op, int rc)
{
	struct uidsvc_entry *e = uidsvc_op_entry(op);

	if (uidsvc_dropped(e))
		return;
	if (rc < 0)
		uidsvc_answer_cur(e, rc, NULL);
	else
		uidsvc_requeue_cur(e);
	uidsvc_serve(e);
}

/* The next range, reserved ahead after the reply: nobody waits for it. */
static void ahead_written(struct uio_op *op, int rc)
{
	struct uidsvc_entry *e = uidsvc_op_entry(op);

	(void)rc;	/* logged by uidio.c; the core retries */
	if (uidsvc_dropped(e))
		return;
	uidsvc_serve(e);
}

static void admin_written(struct uio_op *op, int rc);

static enum uidsvc_served write_for(struct uidsvc_entry *e, const struct uid_write *w,
				    uio_done_fn then)
{
	uio_writes(uidsvc.io, &e->op, &e->m, w, e->name, then);
	return UIDSVC_STARTED;
}

static enum uidsvc_served serve_alloc(struct uidsvc_entry *e, struct uidsvc_pending *p)
{
	struct uid_write w = { 0 };
	uint32_t first = 0;
	int rc, use;

	/* One allocation in flight per mailbox: the next waits for the
	 * commit, so UIDs become visible in ascending order. */
	if (e->allocs)
		return UIDSVC_WAITS;
	use = uidsvc.h.may_use(uidsvc.h.ctx);
	rc = uid_alloc(&e->m, &uidsvc.params, p->req.count, uidsvc_now_ns(), use, &first, &w);
	if (rc == UID_WAIT)
		/* no write: a copy is stuck (uidsvc_tick) */
		return w.count ? write_for(e, &w, request_written) : UIDSVC_WAITS;
	if (rc < 0) {
		uidsvc_answer(p, rc == UID_EWRAP ? SDLM_EUIDWRAP : rc, NULL);
		return UIDSVC_SERVED;
	}
	/* Checked again right before the UID leaves.  Refused: the range
	 * reserved ahead is not written either, and the core is told so
	 * (else it would wait for that write for ever). */
	use = uidsvc.h.may_use(uidsvc.h.ctx);
	if (use) {
		if (w.count)
			uid_write_gate(&e->m, use, &w);
		uidsvc_answer(p, use, NULL);
		return UIDSVC_SERVED;
	}
	reply_alloc(e, p, first, p->req.count);
	if (w.count)
		uio_writes(uidsvc.io, &e->op, &e->m, &w, e->name, ahead_written);
	return UIDSVC_SERVED;
}

static void settle_answer(struct uidsvc_entry *e, struct uidsvc_pending *p, int rc)
{
	if (rc == 0 && e->settle_was)
		log_notice("uid %s: provisional UIDs (above %u) settled by the rejoin repair, next %u, epoch %llu",
			   e->name, e->settle_base, e->m.um_next, (unsigned long long)e->m.um_epoch);
	else if (rc < 0)
		log_warn("uid %s: settle: %s", e->name, sdlm_strerror(rc));
	if (e->m.um_phase == UID_IDLE) {
		/* a failed settle sequence: take over afresh */
		uidsvc_answer(p, rc, NULL);
		uidsvc_give_up(e);
		return;
	}
	if (rc == 0) {
		struct res_uid r;

		uidserve_res_now(e, &r);
		uidsvc_answer(p, 0, &r);
	} else {
		uidsvc_answer(p, rc, NULL);
	}
}

/* Raise next to the value asked (one reservation at a time), then settle
 * if asked. */
/* Raise next toward want, one reservation at a time: UIDSVC_SERVED
 * (answered: an error), UIDSVC_WAITS, UIDSVC_STARTED (a write; served
 * again after it), or -1: next is at want or above. */
int uidserve_raise_toward(struct uidsvc_entry *e, struct uidsvc_pending *p, uint32_t want)
{
	struct uid_write w = { 0 };
	uint32_t first = 0;
	int rc;

	while (e->m.um_next && e->m.um_next < want) {
		uint32_t n = want - e->m.um_next;

		if (n > uidsvc.params.reserve_max)
			n = uidsvc.params.reserve_max;
		rc = uid_alloc(&e->m, &uidsvc.params, n, uidsvc_now_ns(),
			       uidsvc.h.may_use(uidsvc.h.ctx), &first, &w);
		if (rc == UID_WAIT && !w.count)
			return UIDSVC_WAITS;	/* stuck: resumes after the reap */
		if (w.count)
			return write_for(e, &w, request_written);
		if (rc < 0) {
			uidsvc_answer(p, rc == UID_EWRAP ? SDLM_EUIDWRAP : rc, NULL);
			return UIDSVC_SERVED;
		}
	}
	return -1;
}

static enum uidsvc_served serve_raise(struct uidsvc_entry *e, struct uidsvc_pending *p)
{
	struct uid_write w = { 0 };
	struct res_uid r;
	int rc;

	if (p->req.count == SDLM_UID_RAISE_SETTLE && uidsvc.degraded) {
		uidsvc_answer(p, -EBUSY, NULL);
		return UIDSVC_SERVED;
	}
	rc = uidserve_raise_toward(e, p, p->req.value);
	if (rc >= 0)
		return (enum uidsvc_served)rc;
	if (p->req.count == SDLM_UID_RAISE_SETTLE) {
		e->settle_base = e->m.um_prov_base;
		e->settle_was = e->m.um_prov;
		rc = uid_settle(&e->m, &uidsvc.params, p->req.alloc_id, &w);
		if (rc == UID_WAIT && w.count)
			return write_for(e, &w, admin_written);
		settle_answer(e, p, rc < 0 ? rc : 0);
		return UIDSVC_SERVED;
	}
	uidserve_res_now(e, &r);
	uidsvc_answer(p, 0, &r);
	return UIDSVC_SERVED;
}

/* The end of a delete, rename or bump sequence (rc: how it went). */
static void admin_answer(struct uidsvc_entry *e, struct uidsvc_pending *p, int rc)
{
	struct res_uid r;

	uidserve_res_now(e, &r);
	if (rc < 0) {
		uidsvc_answer(p, rc, NULL);
		return;
	}
	switch (p->req.op) {
	case SDLM_UID_DELETE:
		log_notice("uid %s: mailbox deleted (record reclaimed)", e->name);
		uidsvc_answer(p, 0, NULL);
		/* Nothing left to hold: give the lock back at once. */
		lsm_unlock(UIDSVC_CLIENT, e->lkid, 0, NULL);
		e->state = UIDSVC_ENT_IDLE;
		e->lkid = 0;
		e->wanted = false;
		e->ho_stop = false;
		memset(&e->m, 0, sizeof(e->m));
		break;
	case SDLM_UID_RENAME:
		log_notice("uid %s: renamed", e->name);
		uidsvc_answer(p, 0, NULL);
		break;
	default:
		log_notice("uid %s: UIDVALIDITY bumped to %u", e->name, e->m.um_uidvalidity);
		uidsvc_answer(p, 0, &r);
		break;
	}
}

static void admin_written(struct uio_op *op, int rc)
{
	struct uidsvc_entry *e = uidsvc_op_entry(op);
	struct uidsvc_pending *p = e->cur;

	if (uidsvc_dropped(e))
		return;
	e->cur = NULL;
	if (p) {
		if (p->req.op == SDLM_UID_RAISE)
			settle_answer(e, p, rc);
		else
			admin_answer(e, p, rc);
		free(p);
	}
	uidsvc_serve(e);
}

static enum uidsvc_served serve_admin(struct uidsvc_entry *e, struct uidsvc_pending *p)
{
	struct uid_write w = { 0 };
	int rc;

	if (p->req.op != SDLM_UID_BUMP && uidsvc.degraded) {
		/* One copy only would change: wait for the rejoin. */
		uidsvc_answer(p, -EBUSY, NULL);
		return UIDSVC_SERVED;
	}
	if (e->allocs)
		return UIDSVC_WAITS;	/* after the allocations in flight */
	if (p->req.op == SDLM_UID_DELETE) {
		rc = uid_delete(&e->m, &w);
	} else if (p->req.op == SDLM_UID_RENAME) {
		char nm[UIDREC_NAME_MAX + 1];
		size_t nl = p->req.arg_len < sizeof(nm) ? p->req.arg_len : 0;

		memcpy(nm, p->req.arg, nl);
		nm[nl] = '\0';
		rc = nl && strlen(nm) == nl ? uid_rename(&e->m, nm, nl, &w) : -EINVAL;
		if (rc >= 0)
			snprintf(e->name, sizeof(e->name), "%s", nm);
	} else {
		rc = uid_bump_uidvalidity(&e->m, &uidsvc.params, p->req.value, uidsvc_now_ns(), &w);
	}
	if (rc >= 0 && w.count)
		return write_for(e, &w, admin_written);
	admin_answer(e, p, rc < 0 ? rc : 0);
	return UIDSVC_SERVED;
}

/* One request against a READY entry. */
static enum uidsvc_served serve_one(struct uidsvc_entry *e, struct uidsvc_pending *p)
{
	/* A timed-out write may still land: nothing more until it is reaped
	 * (uidsvc_tick serves the queue again then). */
	if (e->m.um_stuck && !uidsvc_reap_stuck(e))
		return UIDSVC_WAITS;
	switch (p->req.op) {
	case SDLM_UID_ALLOC:
		return serve_alloc(e, p);
	case SDLM_UID_RAISE:
		return serve_raise(e, p);
	case SDLM_UID_IMPORT:
		return uidimp_serve(e, p);
	case SDLM_UID_DELETE:
	case SDLM_UID_RENAME:
	case SDLM_UID_BUMP:
		return serve_admin(e, p);
	}
	uidsvc_answer(p, -EINVAL, NULL);
	return UIDSVC_SERVED;
}

/* Serve the queue in order while the core can (see uidsvc_core_ready) and no
 * operation runs. */
void uidserve_queue(struct uidsvc_entry *e)
{
	struct uidsvc_pending *p;
	enum uidsvc_served s;

	while ((p = e->pend) && uidsvc_core_ready(e) && !uidsvc_busy(e) && !e->ho_stop) {
		s = serve_one(e, p);
		if (s == UIDSVC_WAITS)
			break;
		e->pend = p->next;
		if (!e->pend)
			e->pend_tail = &e->pend;
		if (s == UIDSVC_STARTED) {
			e->cur = p;
			break;
		}
		free(p);
	}
}
