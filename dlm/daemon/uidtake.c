/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidtake.c - a mailbox taken over, or created, under its lock (the UID
 * service's chains of record I/O: uidsvc.c says when they run).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sdlm.h"
#include "log.h"
#include "lockspace.h"
#include "uidsvc_int.h"

/* A new mailbox: the first UIDVALIDITY, above a deleted one's. */
uint32_t uidtake_new_uidvalidity(const struct uio_op *op)
{
	uint32_t uv = (uint32_t)time(NULL);

	/* A mailbox created again where one was deleted gets a higher
	 * UIDVALIDITY than the old one had (IMAP: a name's UIDs never
	 * mean another message under the same UIDVALIDITY). */
	if (op->v.kind == UID_SLOT_DELETED && uv <= op->v.uidvalidity)
		uv = op->v.uidvalidity + 1;
	return uv ? uv : 1;
}

/*
 * The core answered a start (takeover, create): UID_WAIT runs its write
 * sequence with then as the continuation; anything else goes to then at
 * once (the op is not busy: a continuation may be called directly).
 */
void uidtake_run_writes(struct uidsvc_entry *e, int rc, const struct uid_write *w, uio_done_fn then)
{
	if (rc == UID_WAIT && w->count)
		uio_writes(uidsvc.io, &e->op, &e->m, w, e->name, then);
	else
		then(&e->op, rc < 0 ? rc : 0);
}

/*
 * The record belongs to another lockspace (review s24 F2): the mailbox
 * lock held here is not the one that guards it.  Refused, nothing
 * written; the log line names the mailbox and says what to do.
 */
void uidtake_other_ls(struct uidsvc_entry *e, const struct uid_slot_view *v)
{
	char gx[2 * UID_GUID_LEN + 1];
	unsigned i;

	for (i = 0; i < UID_GUID_LEN; i++)
		snprintf(gx + 2 * i, 3, "%02x", e->guid[i]);
	log_warn("uid %s: refused in lockspace %s: GUID %s belongs to a mailbox of another lockspace (%s, in slot %llu): a GUID names one mailbox in one lockspace; name the mailbox in its own lockspace (docs/uid.md, \"One GUID, one lockspace\")",
		 e->name, e->ls, gx, v->lstag_mixed ? "its copies carry two different lockspace tags" :
		 "its record carries another lockspace's tag", (unsigned long long)e->op.slot);
}

/*
 * The mailbox lock was granted: lookup --> takeover_looked --> writes -->
 * takeover_written --> READY.  A new mailbox takes the table lock; its
 * grant runs create: lookup --> create_looked (found meanwhile: as a
 * takeover) --> insert --> uidtake_create_probed --> writes -->
 * uidtake_create_written.
 */
static void takeover_looked(struct uio_op *op, int rc);
static void takeover_written(struct uio_op *op, int rc);
static void create_looked(struct uio_op *op, int rc);

/*
 * A new mailbox, and every request for it was cancelled (SDLM_UID_CANCEL)
 * or its client died meanwhile: it is not created for nobody (review s24
 * F3: a cancelled import left a fresh mailbox, a new UIDVALIDITY at UID
 * 1, and the import tried again was refused).  The locks go back.
 */
static void nobody_waits(struct uidsvc_entry *e)
{
	log_debug("uid %s: not in the table and no request for it is left: not created", e->name);
	uidsvc_give_up(e);
}

void uidtake_takeover(struct uidsvc_entry *e)
{
	uio_lookup(uidsvc.io, &e->op, e->ls, e->guid, e->key, e->name, takeover_looked);
}

void uidtake_create(struct uidsvc_entry *e)
{
	uio_lookup(uidsvc.io, &e->op, e->ls, e->guid, e->key, e->name, create_looked);
}

/*
 * A new mailbox found no free slot (docs/uid.md, "Growing the table"):
 * the log line says what to do, as the client's error does.
 */
static void table_full(const struct uidsvc_entry *e)
{
	const struct uidtab_geom *g = uio_geom(uidsvc.io);
	uint64_t total = uidtab_geom_total(g);

	uidsvc.st.table_full++;
	log_err("uid %s: the UID table is FULL: no free slot within %u of the mailbox's home in any of its %u table(s), %llu slots; the mailbox cannot be created until it is grown, online: 'sdlmctl uid grow --slots %llu' on any node (see 'sdlmctl uid summary', docs/uid.md)",
		e->name, UIDTAB_WINDOW, g->ntables, (unsigned long long)total,
		(unsigned long long)(total ? total : 1024));
}

void uidtake_start_failed(struct uidsvc_entry *e, const char *what, int rc)
{
	if (rc == UIDTAB_EFULL)
		table_full(e);
	else
		log_warn("uid %s: %s: %s", e->name, what, sdlm_strerror(rc));
	uidsvc_fail_pending(e, rc == UIDTAB_EFULL ? SDLM_EUIDFULL : rc);
	uidsvc_give_up(e);
}

static void takeover_looked(struct uio_op *op, int rc)
{
	struct uidsvc_entry *e = uidsvc_op_entry(op);
	struct uid_write w = { 0 };

	if (uidsvc_dropped(e))
		return;
	if (rc == -ENOENT && !e->pend) {
		nobody_waits(e);
		return;
	}
	if (rc == 0 && !e->tables_held) {
		/* The record must be this lockspace's (review s24 F2). */
		enum uid_lstag_verdict lv = uid_lstag_check(&op->v, e->lstag);

		if (lv == UID_LSTAG_OTHER) {
			uidtake_other_ls(e, &op->v);
			uidtake_start_failed(e, "takeover", SDLM_EOTHERLS);
			return;
		}
		e->stamp = lv == UID_LSTAG_STAMP;
	}
	if (rc == -ENOENT || (uidimp_rec_damaged(op, rc) && uidimp_restore_first(e)) ||
	    (rc == 0 && e->stamp && !e->tables_held)) {
		/* A new mailbox: creating takes the table lock (two creators
		 * must not pick the same free slot); so does a restore (two
		 * mailboxes may claim one damaged slot), and the stamp of an
		 * untagged record (two lockspaces may race to stamp it: the
		 * record is looked up again under the lock, create_looked). */
		e->state = UIDSVC_ENT_TABLE;
		log_debug("uid %s: new mailbox: requesting the table locks", e->name);
		rc = uidlocks_table_start(e);
		if (rc < 0) {
			uidsvc_fail_pending(e, rc);
			uidlocks_table_unlock(e);
			lsm_unlock(UIDSVC_CLIENT, e->lkid, 0, NULL);
			e->lkid = 0;
			e->state = UIDSVC_ENT_IDLE;
		}
		/* the table lock's grant (maybe already delivered) continues */
		return;
	}
	if (rc == 0) {
		/* stamping only with the table locks held, after the lookup
		 * made under them */
		uid_set_lstag(&e->m, e->lstag, e->stamp && e->tables_held);
		rc = uid_takeover(&e->m, &uidsvc.params, op->rec_guid, op->slot, &op->v,
				  e->lvb_valid ? e->lvb : NULL, e->lock_epoch,
				  uidsvc.h.nodeid, uidsvc.h.incarnation, uidsvc_now_ns(), &w);
	}
	uidtake_run_writes(e, rc, &w, takeover_written);
}

/*
 * A takeover refused the lock value block (issue 15 item 3): say why.  A
 * record without a floor (minor < 2: written before this check existed,
 * or by an older daemon during an upgrade) is routine, a notice; the
 * rest mean a stale, damaged or forged value block.
 */
static void log_lvb_refused(const struct uidsvc_entry *e, const struct uid_slot_view *v)
{
	const struct uid_mbox *m = &e->m;

	switch (m->um_lvb_verdict) {
	case UID_LVBV_BAD:
		log_warn("uid %s: lock value block refused: it does not decode (%s); resumed from the disk's maximum + 1, next %u",
			 e->name, sdlm_strerror(m->um_lvb_err), m->um_next);
		break;
	case UID_LVBV_OTHER:
		log_warn("uid %s: lock value block refused: its UIDVALIDITY or slot is not the disk's (UIDVALIDITY %u); resumed from the disk's maximum + 1, next %u",
			 e->name, v->uidvalidity, m->um_next);
		break;
	case UID_LVBV_STALE:
		log_warn("uid %s: lock value block refused: its epoch %llu is below the disk's %llu; resumed from the disk's maximum + 1, next %u",
			 e->name, (unsigned long long)m->um_lvb_epoch,
			 (unsigned long long)v->epoch, m->um_next);
		break;
	case UID_LVBV_BELOW:
		log_warn("uid %s: lock value block refused: its next %u is below the first UID %u of the disk's current reservation (stale or forged); resumed from the disk's maximum + 1, next %u",
			 e->name, m->um_lvb_next, v->floor, m->um_next);
		break;
	case UID_LVBV_NOFLOOR:
		log_notice("uid %s: lock value block not used: its next %u is at or below the disk's maximum %u and the record (minor < 2) has no floor to check it against; resumed from the disk's maximum + 1, next %u",
			   e->name, m->um_lvb_next, v->watermark, m->um_next);
		break;
	default:
		break;
	}
}

static void takeover_written(struct uio_op *op, int rc)
{
	struct uidsvc_entry *e = uidsvc_op_entry(op);
	const struct uid_slot_view *v = &op->v;

	if (uidsvc_dropped(e))
		return;
	if (rc < 0) {
		e->stamp = false;
		uidtake_start_failed(e, "takeover", rc);
		return;
	}
	if (e->stamp) {
		log_notice("uid %s: record in slot %llu stamped as lockspace %s's (it carried no lockspace tag: written before this version or by an older daemon)",
			   e->name, (unsigned long long)op->slot, e->ls);
		e->stamp = false;
	}
	if (e->tables_held)
		uidlocks_table_unlock(e);	/* held for a stamp */
	if (!e->name[0] && v->latest.name_len)
		snprintf(e->name, sizeof(e->name), "%s", v->latest.name);
	uidsvc.st.takeovers++;
	if (e->m.um_damaged_copy)
		log_notice("uid %s: slot %llu copy %u was damaged (%s): resumed from the other copy above anything it could have reserved, next %u; both copies rewritten",
			   e->name, (unsigned long long)op->slot, e->m.um_damaged_copy - 1,
			   sdlm_strerror(v->damaged_err), e->m.um_next);
	if (e->m.um_lvb_above)
		log_notice("uid %s: the lock value block's next %u is above the disk's maximum + 1: honoured, both copies rewritten above it",
			   e->name, e->m.um_next);
	log_lvb_refused(e, v);
	log_info("uid %s: taken over at epoch %llu, next %u (%s)", e->name,
		 (unsigned long long)e->m.um_epoch, e->m.um_next,
		 e->m.um_lvb_used ? "from the lock value block" : "from the disk");
	e->state = UIDSVC_ENT_READY;
	uidsvc_serve(e);
}

static void create_looked(struct uio_op *op, int rc)
{
	struct uidsvc_entry *e = uidsvc_op_entry(op);

	if (uidsvc_dropped(e))
		return;
	if (rc == 0) {
		/* Created by another node meanwhile, or the record to stamp
		 * (looked up again now that the table locks are held: two
		 * lockspaces racing to stamp it cannot both win): take it
		 * over, the table locks kept for a stamp only. */
		enum uid_lstag_verdict lv = uid_lstag_check(&op->v, e->lstag);

		if (lv == UID_LSTAG_OTHER) {
			uidtake_other_ls(e, &op->v);
			e->stamp = false;
			uidtake_start_failed(e, "takeover", SDLM_EOTHERLS);
			return;
		}
		e->stamp = lv == UID_LSTAG_STAMP;
		if (!e->stamp)
			uidlocks_table_unlock(e);
		takeover_looked(op, 0);
		return;
	}
	e->stamp = false;
	if (uidimp_rec_damaged(op, rc) && uidimp_restore_first(e)) {
		uidimp_start(e, op, rc);	/* the operator's restore */
		return;
	}
	if (rc != -ENOENT) {
		/* not found past a damaged slot: it may be the damaged one */
		uidtake_start_failed(e, "create", rc);
		return;
	}
	uio_insert(uidsvc.io, op, e->guid, e->key, e->name, uidtake_create_probed);
}

void uidtake_create_probed(struct uio_op *op, int rc)
{
	struct uidsvc_entry *e = uidsvc_op_entry(op);
	struct uid_write w = { 0 };

	if (uidsvc_dropped(e))
		return;
	if (rc == 0 && !e->pend) {
		nobody_waits(e);
		return;
	}
	if (rc == 0) {
		/* the free slot must be in the segments held, else more are
		 * taken and the probe made again under them */
		int c = uidlocks_segs_cover(e, op->slot);

		if (c < 0) {
			uidtake_start_failed(e, "create", c);
			return;
		}
		if (!c)
			return;
	}
	uid_set_lstag(&e->m, e->lstag, false);
	if (rc == 0 && uidimp_next(e, false)) {
		uidimp_start(e, op, -ENOENT);	/* adopted from the store */
		return;
	}
	if (rc == 0)
		rc = uid_create(&e->m, &uidsvc.params, e->guid, e->name, strlen(e->name),
				uidtake_new_uidvalidity(op), op->slot, &op->v, e->lock_epoch, uidsvc.h.nodeid,
				uidsvc.h.incarnation, uidsvc_now_ns(), &w);
	uidtake_run_writes(e, rc, &w, uidtake_create_written);
}

void uidtake_create_written(struct uio_op *op, int rc)
{
	struct uidsvc_entry *e = uidsvc_op_entry(op);

	enum uid_import_act act = e->imp.act;
	struct res_uid r;

	e->imp.act = 0;
	if (uidsvc_dropped(e))
		return;
	if (rc < 0) {
		uidsvc_answer_cur(e, rc == UIDTAB_EFULL ? SDLM_EUIDFULL : rc, NULL);
		uidtake_start_failed(e, "create", rc);
		return;
	}
	uidlocks_table_unlock(e);
	if (act == UID_IMPORT_RESTORE)
		log_notice("uid %s: slot %llu restored from the mail store (both copies were damaged): UIDVALIDITY %u%s, next %u, epoch %llu",
			   e->name, (unsigned long long)op->slot, e->m.um_uidvalidity,
			   e->imp.bumped ? " (new: the store did not know it)" : " (the store's)",
			   e->m.um_next, (unsigned long long)e->m.um_epoch);
	else
		log_notice("uid %s: mailbox created in slot %llu, UIDVALIDITY %u%s", e->name,
			   (unsigned long long)op->slot, e->m.um_uidvalidity,
			   act ? " and next UID adopted from the mail store" : "");
	if (act) {
		uidserve_res_now(e, &r);
		r.flags = act == UID_IMPORT_CREATE ? SDLM_UID_F_CREATED :
			  SDLM_UID_F_RESTORED | (e->imp.bumped ? SDLM_UID_F_BUMPED : 0);
		uidsvc_answer_cur(e, 0, &r);
	}
	e->state = UIDSVC_ENT_READY;
	uidsvc_serve(e);
}
