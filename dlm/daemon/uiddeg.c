/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uiddeg.c - the UID service's degraded mode.
 *
 * Degraded mode (split storage, an operator's word; docs/uid.md): the
 * daemon has checked that this node is alone on its copy of the disk and
 * outside any quorate membership.  The mailbox lock is then not asked
 * for: a mailbox is taken over straight from the disk (no LVB, epoch
 * above the disk's), every record written carries the PROVISIONAL mark,
 * and e->deg says the core holds such a degraded takeover.  Meanwhile
 * e->state speaks only of the cluster lock (a request made before the
 * mode was entered may still be waiting, and is granted once quorum
 * returns); nothing is released on a blocking callback.  Entering drops
 * every normal holding's core (the lock stays held: no one can get it
 * while we are not quorate) so that each mailbox is taken over again,
 * marked; leaving drops the degraded cores and gives held locks back
 * without an LVB, so the next holder resumes from the disk, mark and all.
 * When the daemon sees the conditions break (quorum, another heartbeat on
 * the disk) it suspends allocation until the operator decides.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sdlm.h"
#include "log.h"
#include "clock.h"
#include "lockspace.h"
#include "render.h"
#include "uidsvc_int.h"

/* Forget what the core holds (no LVB: the next holder reads the disk). */
static void core_drop(struct uidsvc_entry *e)
{
	uint8_t lvb[UID_LVB_LEN];

	uid_release(&e->m, lvb);
	memset(&e->m, 0, sizeof(e->m));
	e->deg = false;
}

/* --- degraded takeover --------------------------------------------------- */

/*
 * Degraded mode: take the mailbox over from the disk with no lock (the
 * daemon made sure no other node uses this copy of the disk), creating it
 * if it is new: lookup --> (insert -->) writes --> deg_written.
 */
static void deg_looked(struct uio_op *op, int rc);
static void deg_probed(struct uio_op *op, int rc);
static void deg_written(struct uio_op *op, int rc);

/* Another entry of this node holds (or is taking) the same GUID in
 * another lockspace. */
static bool other_ls_local(const struct uidsvc_entry *e)
{
	const struct uidsvc_entry *o;
	unsigned b;

	for (b = 0; b < UIDSVC_NBUCKET; b++)
		for (o = uidsvc.bucket[b]; o; o = o->next)
			if (o != e && (o->state != UIDSVC_ENT_IDLE || o->deg || uidsvc_busy(o)) &&
			    !memcmp(o->guid, e->guid, UID_GUID_LEN) && strcmp(o->ls, e->ls))
				return true;
	return false;
}

void uiddeg_takeover(struct uidsvc_entry *e)
{
	core_drop(e);
	uio_lookup(uidsvc.io, &e->op, e->ls, e->guid, e->key, e->name, deg_looked);
}

static void deg_looked(struct uio_op *op, int rc)
{
	struct uidsvc_entry *e = uidsvc_op_entry(op);
	struct uid_write w = { 0 };

	if (uidsvc_dropped(e))
		return;
	e->created = rc == -ENOENT;
	if (e->created) {
		uio_insert(uidsvc.io, op, e->guid, e->key, e->name, deg_probed);
		return;
	}
	if (rc == 0) {
		/* No other node uses this copy of the disk: an untagged
		 * record is stamped without the table lock, unless another
		 * entry of ours has the GUID in another lockspace. */
		enum uid_lstag_verdict lv = uid_lstag_check(&op->v, e->lstag);

		if (lv == UID_LSTAG_OTHER || (lv == UID_LSTAG_STAMP && other_ls_local(e))) {
			uidtake_other_ls(e, &op->v);
			rc = SDLM_EOTHERLS;
		} else {
			uid_set_lstag(&e->m, e->lstag, true);
			rc = uid_takeover(&e->m, &uidsvc.params, op->rec_guid, op->slot, &op->v,
					  NULL, 0, uidsvc.h.nodeid, uidsvc.h.incarnation, uidsvc_now_ns(), &w);
		}
	}
	uidtake_run_writes(e, rc, &w, deg_written);
}

static void deg_probed(struct uio_op *op, int rc)
{
	struct uidsvc_entry *e = uidsvc_op_entry(op);
	struct uid_write w = { 0 };

	if (uidsvc_dropped(e))
		return;
	if (rc == 0) {
		uid_set_lstag(&e->m, e->lstag, false);
		rc = uid_create(&e->m, &uidsvc.params, e->guid, e->name, strlen(e->name),
				uidtake_new_uidvalidity(op), op->slot, &op->v, 0, uidsvc.h.nodeid,
				uidsvc.h.incarnation, uidsvc_now_ns(), &w);
	}
	uidtake_run_writes(e, rc, &w, deg_written);
}

static void deg_written(struct uio_op *op, int rc)
{
	struct uidsvc_entry *e = uidsvc_op_entry(op);

	if (uidsvc_dropped(e))
		return;
	if (rc < 0) {
		log_warn("uid %s: DEGRADED takeover: %s", e->name, sdlm_strerror(rc));
		/* a write that may still land stays known (serve waits) */
		if (!e->m.um_stuck)
			memset(&e->m, 0, sizeof(e->m));
		uidsvc_fail_pending(e, rc == UIDTAB_EFULL ? SDLM_EUIDFULL : rc);
		return;
	}
	if (!e->name[0] && op->v.latest.name_len)
		snprintf(e->name, sizeof(e->name), "%s", op->v.latest.name);
	e->deg = true;
	uidsvc.st.takeovers++;
	log_warn("uid %s: DEGRADED %s without the cluster lock: epoch %llu, next %u, UIDs above %u are PROVISIONAL",
		 e->name, e->created ? "creation" : "takeover", (unsigned long long)e->m.um_epoch,
		 e->m.um_next, e->m.um_prov_base);
	uidsvc_serve(e);
}

/*
 * An allocation not committed, an operation running, or a record write
 * that timed out and may still land (uid.h: its core is not dropped nor
 * its lock given back until the write is reaped).
 */
static bool any_alloc_in_flight(void)
{
	struct uidsvc_entry *e;
	unsigned b;

	for (b = 0; b < UIDSVC_NBUCKET; b++)
		for (e = uidsvc.bucket[b]; e; e = e->next) {
			if (e->allocs || uidsvc_busy(e))
				return true;
			if (e->unlock_wait || (e->m.um_stuck && !uidsvc_reap_stuck(e))) {
				log_warn("uid %s: a timed-out record write is still in the kernel: degraded mode cannot change until it has left (retry)",
					 e->name);
				return true;
			}
		}
	return false;
}

/* Returns 0, -ENOTSUP (no UID service) or -EBUSY (an allocation is not
 * committed yet, or a record I/O is in flight, a timed-out write
 * included: its mailbox cannot change hands under it). */
int uidsvc_degraded_set(bool on)
{
	struct uidsvc_entry *e;
	unsigned b;

	if (!uidsvc.on)
		return -ENOTSUP;
	if (on == uidsvc.degraded) {
		if (on && uidsvc.deg_suspended) {
			log_err("uid: DEGRADED MODE RESUMED by an operator (was suspended: %s)",
				sdlm_strerror(uidsvc.deg_suspended));
			uidsvc.deg_suspended = 0;
			uidsvc.deg_blocker = 0;
		}
		return 0;
	}
	if (any_alloc_in_flight())
		return -EBUSY;
	for (b = 0; b < UIDSVC_NBUCKET; b++)
		for (e = uidsvc.bucket[b]; e; e = e->next) {
			if (on) {
				/* A normal holding: taken over again, marked,
				 * by the first request (the lock stays ours). */
				if (e->state == UIDSVC_ENT_READY)
					core_drop(e);
				continue;
			}
			if (e->deg)
				core_drop(e);
			if (e->state == UIDSVC_ENT_READY) {
				/* No LVB: the next holder resumes from the disk. */
				lsm_unlock(UIDSVC_CLIENT, e->lkid, 0, NULL);
				e->state = UIDSVC_ENT_IDLE;
				e->lkid = 0;
				e->wanted = false;
				e->ho_stop = false;
			}
		}
	uidsvc.degraded = on;
	uidsvc.params.provisional = on;
	uidsvc.deg_suspended = 0;
	uidsvc.deg_blocker = 0;
	if (on) {
		uidsvc.deg_since_ms = clock_realtime_ms();
		uidsvc.deg_allocs = 0;
		log_err("uid: DEGRADED MODE ENTERED by an operator: UIDs are handed out WITHOUT the cluster, on this copy of the storage only, and are PROVISIONAL until a rejoin repair");
	} else {
		log_err("uid: degraded mode LEFT by an operator after %llu provisional UIDs: mailboxes keep their provisional mark until the rejoin repair settles them",
			(unsigned long long)uidsvc.deg_allocs);
	}
	/* requests that waited for a lock before the change */
	for (b = 0; b < UIDSVC_NBUCKET; b++)
		for (e = uidsvc.bucket[b]; e; e = e->next)
			if (e->pend && (on || e->state == UIDSVC_ENT_IDLE))
				uidsvc_serve(e);
	return 0;
}

bool uidsvc_degraded(int *suspended)
{
	if (suspended)
		*suspended = uidsvc.deg_suspended;
	return uidsvc.degraded;
}

void uidsvc_degraded_suspend(int reason, uint32_t node)
{
	struct uidsvc_entry *e;
	unsigned b;

	if (!uidsvc.degraded || uidsvc.deg_suspended)
		return;
	uidsvc.deg_suspended = reason;
	uidsvc.deg_blocker = node;
	if (node)
		log_err("uid: DEGRADED MODE SUSPENDED: %s (node %u): no more UIDs until an operator enables or leaves degraded mode",
			sdlm_strerror(reason), node);
	else
		log_err("uid: DEGRADED MODE SUSPENDED: %s: no more UIDs until an operator enables or leaves degraded mode",
			sdlm_strerror(reason));
	for (b = 0; b < UIDSVC_NBUCKET; b++)
		for (e = uidsvc.bucket[b]; e; e = e->next)
			uidsvc_fail_pending(e, SDLM_EDEGRADED);
}

/* The mode and the mailboxes this daemon marked provisional. */
void uidsvc_degraded_render(struct sbuf *b, bool json)
{
	struct uidsvc_entry *e;
	unsigned k;
	bool first = true;
	const char *state = !uidsvc.degraded ? "off" : uidsvc.deg_suspended ? "suspended" : "on";

	if (json) {
		sb_printf(b, "{\"degraded\":\"%s\",\"reason\":", state);
		sb_json_str(b, uidsvc.deg_suspended ? sdlm_strerror(uidsvc.deg_suspended) : "");
		sb_printf(b, ",\"blocker\":%u,\"since_ms\":%llu,\"provisional_uids\":%llu,\"mailboxes\":[",
			  uidsvc.deg_blocker, (unsigned long long)(uidsvc.degraded ? uidsvc.deg_since_ms : 0),
			  (unsigned long long)uidsvc.deg_allocs);
	} else {
		sb_printf(b, "degraded     %s", state);
		if (uidsvc.deg_suspended)
			sb_printf(b, " (%s%s)", sdlm_strerror(uidsvc.deg_suspended),
				  uidsvc.deg_blocker ? ", see the node below" : "");
		sb_printf(b, "\n");
		if (uidsvc.deg_blocker)
			sb_printf(b, "blocker      node %u\n", uidsvc.deg_blocker);
		if (uidsvc.degraded)
			sb_printf(b, "provisional  %llu UIDs handed out in degraded mode\n",
				  (unsigned long long)uidsvc.deg_allocs);
	}
	for (k = 0; k < UIDSVC_NBUCKET; k++)
		for (e = uidsvc.bucket[k]; e; e = e->next) {
			if (!e->m.um_prov)
				continue;
			if (json) {
				sb_printf(b, "%s{\"lockspace\":", first ? "" : ",");
				sb_json_str(b, e->ls);
				sb_printf(b, ",\"mailbox\":");
				sb_json_str(b, e->name);
				sb_printf(b, ",\"prov_base\":%u,\"next\":%u,\"epoch\":%llu}",
					  e->m.um_prov_base, e->m.um_next,
					  (unsigned long long)e->m.um_epoch);
			} else {
				sb_printf(b, "%s  %s/%s: provisional above %u, next %u\n",
					  first ? "mailboxes\n" : "", e->ls, e->name,
					  e->m.um_prov_base, e->m.um_next);
			}
			first = false;
		}
	if (json)
		sb_printf(b, "]}\n");
}
