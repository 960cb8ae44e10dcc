/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidimp.c - import and restore: a mailbox's record from what the mail
 * store knows (docs/uid.md, damaged records): adopted when the mailbox is
 * created, raised to when it is held, restored into a damaged slot on an
 * operator's word.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sdlm.h"
#include "log.h"
#include "clock.h"
#include "uidsvc_int.h"

/* The lookup ended on a slot that cannot be read as a record (not I/O). */
bool uidimp_rec_damaged(const struct uio_op *op, int rc)
{
	return !op->io_err && (rc == SDLM_EMAGIC || rc == SDLM_EVERSION ||
			       rc == SDLM_ECHECKSUM || rc == SDLM_EIDENTITY || rc == -EUCLEAN);
}

/* The first request waiting is an import (restore: its restoring form). */
bool uidimp_next(const struct uidsvc_entry *e, bool restore)
{
	const struct uidsvc_pending *p = e->pend;

	return p && p->req.op == SDLM_UID_IMPORT &&
	       (!restore || (p->req.op_flags & SDLM_UID_IMPORT_RESTORE));
}

/*
 * The record is damaged: an operator's restore waiting anywhere in the
 * queue goes to its head, so that it is served now (deliveries retrying
 * into the damaged mailbox would otherwise stand before it, and the
 * damage fail them all, the restore with them).  Returns whether there
 * is one.
 */
bool uidimp_restore_first(struct uidsvc_entry *e)
{
	struct uidsvc_pending **qq, *p;

	for (qq = &e->pend; (p = *qq); qq = &p->next) {
		if (p->req.op != SDLM_UID_IMPORT || !(p->req.op_flags & SDLM_UID_IMPORT_RESTORE))
			continue;
		if (qq == &e->pend)
			return true;
		*qq = p->next;
		if (e->pend_tail == &p->next)
			e->pend_tail = qq;
		p->next = e->pend;
		e->pend = p;
		return true;
	}
	return false;
}

/* What the import p makes of found (uid_import_plan) into *pl. */
static int import_plan(const struct uidsvc_entry *e, const struct uidsvc_pending *p, int found,
		       const struct uid_slot_view *v, struct uid_import_plan *pl)
{
	struct uid_import_req q = {
		.uidvalidity = p->req.value, .next = p->req.count,
		.restore = p->req.op_flags & SDLM_UID_IMPORT_RESTORE,
	};

	memcpy(q.guid, e->guid, UID_GUID_LEN);
	return uid_import_plan(&q, found, v, clock_realtime_ms(), pl);
}

/*
 * A restore writes into a damaged slot only if a surviving copy of it
 * names this mailbox and none names another (docs/uid.md, damaged
 * records): the first such slot on the mailbox's path becomes op->slot.
 * A slot that names another mailbox is that mailbox's (writing there
 * would lose it, and its holder could write over this one: two mailboxes
 * in one slot); one that names none may be any mailbox's: written only
 * on the operator's word (SDLM_UID_IMPORT_UNNAMED: the first on the path
 * was this mailbox's).  Else refused: the damage of a slot naming none
 * when there is one (this mailbox may be the one lost there),
 * -EADDRINUSE when only other mailboxes' slots are on the path.
 */
static int restore_slot(struct uidsvc_entry *e, const struct uidsvc_pending *p, struct uio_op *op)
{
	char gx[2 * UID_GUID_LEN + 1];
	unsigned i;

	if (op->own_err) {
		op->slot = op->own_slot;
		return 0;
	}
	if (op->other_err) {
		for (i = 0; i < UID_GUID_LEN; i++)
			snprintf(gx + 2 * i, 3, "%02x", op->other_guid[i]);
		if (op->other_ls)
			log_warn("uid %s: restore refused: damaged slot %llu on its path names this mailbox (%s) under another lockspace's tag, not %s's: restore it in the lockspace it belongs to (docs/uid.md, one GUID, one lockspace)",
				 e->name, (unsigned long long)op->other_slot, gx, e->ls);
		else
			log_warn("uid %s: restore refused: damaged slot %llu on its path names mailbox %s, not this one (left for that mailbox's own restore: sdlmctl uid import %s %s --restore; docs/uid.md, damaged records)",
				 e->name, (unsigned long long)op->other_slot, gx, e->ls, gx);
	}
	if (op->blind_err && (p->req.op_flags & SDLM_UID_IMPORT_UNNAMED)) {
		log_notice("uid %s: restore into damaged slot %llu, which names no mailbox (%s): the operator's word that it was this one's",
			   e->name, (unsigned long long)op->blind_slot,
			   sdlm_strerror(op->blind_err));
		op->slot = op->blind_slot;
		return 0;
	}
	if (op->blind_err) {
		log_warn("uid %s: restore refused: damaged slot %llu on its path names no mailbox (%s): a restore writes there only on the operator's word that it was this mailbox's (sdlmctl uid import ... --restore --unnamed-slot; docs/uid.md, damaged records)",
			 e->name, (unsigned long long)op->blind_slot,
			 sdlm_strerror(op->blind_err));
		return op->blind_err;
	}
	return -EADDRINUSE;
}

/*
 * The import at the head of the queue, holding both locks: a create
 * (found -ENOENT, op->v the insert slot) or a restore (found the damage,
 * op->slot the damaged slot).  It becomes the operation's request
 * (e->cur), answered by uidtake_create_written.  A refused one is answered
 * alone; the requests behind it go on as without it.
 */
void uidimp_start(struct uidsvc_entry *e, struct uio_op *op, int found)
{
	struct uidsvc_pending *p = e->pend;
	struct uid_write w = { 0 };
	int rc;

	e->pend = p->next;
	if (!e->pend)
		e->pend_tail = &e->pend;
	e->cur = p;
	rc = import_plan(e, p, found, &op->v, &e->imp);
	if (rc == 0 && e->imp.act == UID_IMPORT_RESTORE)
		rc = restore_slot(e, p, op);
	if (rc == 0 && e->imp.act == UID_IMPORT_RESTORE) {
		/* the damaged slot must be in the segments held: if not,
		 * the restore goes back to the head of the queue (first:
		 * a grant may run the create again inside uidlocks_segs_cover) and
		 * is served again once more are held */
		struct uidseg_set take;
		int c = uidlocks_segs_step(e, op->slot, &take);

		if (c != UIDSEG_HELD) {
			e->cur = NULL;
			e->imp.act = 0;
			p->next = e->pend;
			if (!e->pend)
				e->pend_tail = &p->next;
			e->pend = p;
			if (c >= 0)
				c = uidlocks_segs_cover(e, op->slot);
			if (c < 0)
				uidtake_start_failed(e, "restore", c);
			return;
		}
	}
	if (rc < 0) {
		log_warn("uid %s: import refused: %s", e->name, sdlm_strerror(rc));
		uidsvc_answer_cur(e, rc, NULL);
		e->imp.act = 0;
		if (found == -ENOENT && e->pend)
			uidtake_create_probed(op, 0);
		else if (found == -ENOENT)
			uidsvc_give_up(e);
		else
			uidtake_start_failed(e, "create", found);
		return;
	}
	uid_set_lstag(&e->m, e->lstag, false);
	rc = uid_import(&e->m, &uidsvc.params, &e->imp, e->guid, e->name, strlen(e->name),
			op->slot, &op->v, p->req.alloc_id, e->lock_epoch, uidsvc.h.nodeid,
			uidsvc.h.incarnation, uidsvc_now_ns(), &w);
	uidtake_run_writes(e, rc, &w, uidtake_create_written);
}

/* An import of a mailbox this node holds (a record exists): the same
 * UIDVALIDITY only raises, never lowers (uid_import_plan). */
enum uidsvc_served uidimp_serve(struct uidsvc_entry *e, struct uidsvc_pending *p)
{
	struct uid_slot_view v = { .kind = UID_SLOT_USED,
				   .uidvalidity = e->m.um_uidvalidity };
	struct uid_import_plan pl;
	struct res_uid r;
	int rc;

	if (uidsvc.degraded) {
		uidsvc_answer(p, -EBUSY, NULL);
		return UIDSVC_SERVED;
	}
	rc = import_plan(e, p, 0, &v, &pl);
	if (rc < 0) {
		log_warn("uid %s: import refused: the record has UIDVALIDITY %u, the store %u%s",
			 e->name, e->m.um_uidvalidity, p->req.value,
			 p->req.op_flags & SDLM_UID_IMPORT_RESTORE ?
			 " (a restore: the record has an intact copy)" : "");
		uidsvc_answer(p, rc, NULL);
		return UIDSVC_SERVED;
	}
	if (!p->imp_seen && p->req.alloc_id > e->m.um_epoch + 1) {
		/* The store saw an epoch this record never handed out (its E
		 * above the holder's): an import sets the epoch only when it
		 * creates or restores; raising a live record's is not done
		 * here.  Said, not dropped. */
		log_warn("uid %s: import refused: the store's epoch %llu is above the record's %llu (a writer this record does not know: the store's epoch check refuses its deliveries; docs/imap.md)",
			 e->name, (unsigned long long)(p->req.alloc_id - 1),
			 (unsigned long long)e->m.um_epoch);
		uidsvc_answer(p, -ESTALE, NULL);
		return UIDSVC_SERVED;
	}
	if (!p->imp_seen) {
		p->imp_seen = true;
		p->imp_from = e->m.um_next;
	}
	rc = uidserve_raise_toward(e, p, pl.next);
	if (rc >= 0)
		return (enum uidsvc_served)rc;
	uidserve_res_now(e, &r);
	r.flags = e->m.um_next != p->imp_from ? SDLM_UID_F_RAISED : 0;
	uidsvc_answer(p, 0, &r);
	return UIDSVC_SERVED;
}
