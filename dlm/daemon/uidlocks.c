/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidlocks.c - the locks the UID service asks for, as the lock manager's
 * internal client UIDSVC_CLIENT: the mailbox's EX ("uid:<guid>"), and
 * the table locks of a create.
 *
 * The table locks serialise the creators of new mailboxes: two must never
 * pick the same free slot of the area's UID table, nor put one GUID in
 * two slots.  The table is cut into segments with one lock each
 * ("uid-table.<t>.<n>" (EX) in the fixed lockspace UIDSVC_TABLE_LS,
 * whatever the mailbox's lockspace); which ones a creator holds is the
 * pure uidseg.c's decision: its GUID's home segment first, then, once
 * its probe has found the slot, every segment of the path to it (more
 * asked for and the probe made again under them when the path runs
 * over).  Until the area's header says every node takes segments
 * (SDLM_HDR_F_UID_SEGLOCK), a creator takes first the locks of the
 * older releases too: "uid-table" in the mailbox's own lockspace, then
 * "uid-table" in UIDSVC_TABLE_LS, the area's, so that a node not upgraded
 * yet is still serialised with this one.  Always in this order (mailbox,
 * lockspace's uid-table, area's uid-table, segments ascending): no cycle.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "sdlm.h"
#include "log.h"
#include "area.h"
#include "lockspace.h"
#include "uidsvc_int.h"

void uidlocks_lock_name(const struct uidsvc_entry *e, char out[40])
{
	static const char hx[] = "0123456789abcdef";
	int i;

	memcpy(out, "uid:", 4);
	for (i = 0; i < UID_GUID_LEN; i++) {
		out[4 + 2 * i] = hx[e->guid[i] >> 4];
		out[5 + 2 * i] = hx[e->guid[i] & 15];
	}
	out[36] = '\0';
}

/* Give the table segments held back (the segment locks only). */
static void seg_release(struct uidsvc_entry *e)
{
	unsigned i;

	for (i = 0; i < e->segs.n; i++)
		if (e->seg_lkid[i])
			lsm_unlock(UIDSVC_CLIENT, e->seg_lkid[i], 0, NULL);
	memset(&e->segs, 0, sizeof(e->segs));
	memset(e->seg_lkid, 0, sizeof(e->seg_lkid));
	e->tables_held = false;
}

/* Give the table locks back (those held: a request still queued is given
 * back by uidsvc_ast when it is granted: the entry stops waiting for it). */
void uidlocks_table_unlock(struct uidsvc_entry *e)
{
	e->want_lkid = 0;
	seg_release(e);
	if (e->table_lkid)
		lsm_unlock(UIDSVC_CLIENT, e->table_lkid, 0, NULL);
	if (e->ls_table_lkid)
		lsm_unlock(UIDSVC_CLIENT, e->ls_table_lkid, 0, NULL);
	e->table_lkid = 0;
	e->ls_table_lkid = 0;
	memset(&e->seg_take, 0, sizeof(e->seg_take));
	e->seg_next = 0;
}

/* lkid is one of the table locks the entry holds. */
bool uidlocks_own_table_lkid(const struct uidsvc_entry *e, uint64_t lkid)
{
	unsigned i;

	if (!lkid)
		return false;
	if (lkid == e->table_lkid || lkid == e->ls_table_lkid)
		return true;
	for (i = 0; i < e->segs.n; i++)
		if (lkid == e->seg_lkid[i])
			return true;
	return false;
}

/*
 * Ask for a lock the entry then waits for (EX).  Its grant is known by
 * its lkid, e->want_lkid: lsm_lock sets it before any completion of the
 * request is delivered, within the call or later.  A grant of any other
 * request (one the entry gave up while it was queued: an unlock is not
 * tried on a waiting request) is given back by uidsvc_ast, never taken
 * for the lock the entry waits for now (review s24 F1).
 */
static int want_lock(struct uidsvc_entry *e, const char *ls, const char *name, size_t len)
{
	int rc;

	e->want_lkid = 0;
	rc = lsm_lock(UIDSVC_CLIENT, e->id, ls, strlen(ls), name, len, SDLM_EX, 0,
		      &e->want_lkid);
	if (rc < 0)
		e->want_lkid = 0;
	return rc;
}

int uidlocks_lock_ex(struct uidsvc_entry *e, const char *name, size_t len)
{
	return want_lock(e, e->ls, name, len);
}

/*
 * Ask for the next table lock of the entry's plan (docs/uid.md, "The
 * table lock"), in the one order of every node: the lockspace's
 * uid-table and the area's (e->legacy: while a node of an older release
 * may share the area), then the segments of e->seg_take, ascending.
 * Returns 0 (asked: its grant, maybe delivered inside the call, goes on
 * in uidsvc_ast), 1 (every one is held) or an error.
 */
int uidlocks_table_next(struct uidsvc_entry *e)
{
	char name[UIDSEG_NAME_MAX];
	int n;

	if ((e->legacy & UIDSEG_L_LS) && !e->ls_table_lkid)
		return uidlocks_lock_ex(e, UIDSVC_TABLE_RES, strlen(UIDSVC_TABLE_RES));
	if ((e->legacy & UIDSEG_L_AREA) && !e->table_lkid)
		return want_lock(e, UIDSVC_TABLE_LS, UIDSVC_TABLE_RES, strlen(UIDSVC_TABLE_RES));
	if (e->seg_next < e->seg_take.n) {
		n = uidseg_name(&e->seg_take.s[e->seg_next], name, sizeof(name));
		if (n < 0)
			return n;
		return want_lock(e, UIDSVC_TABLE_LS, name, (size_t)n);
	}
	e->tables_held = true;
	return 1;
}

/* The table lock uidlocks_table_next asked for was granted: which one it is
 * follows from what is held already (one request at a time). */
void uidlocks_table_granted(struct uidsvc_entry *e, uint64_t lkid)
{
	if ((e->legacy & UIDSEG_L_LS) && !e->ls_table_lkid) {
		e->ls_table_lkid = lkid;
		log_debug("uid %s: table lock of lockspace %s granted", e->name, e->ls);
		return;
	}
	if ((e->legacy & UIDSEG_L_AREA) && !e->table_lkid) {
		e->table_lkid = lkid;
		log_debug("uid %s: table lock %s/%s granted", e->name, UIDSVC_TABLE_LS,
			  UIDSVC_TABLE_RES);
		return;
	}
	/* a segment: taken in ascending order, so appended in order */
	e->segs.s[e->segs.n] = e->seg_take.s[e->seg_next++];
	e->seg_lkid[e->segs.n++] = lkid;
	log_debug("uid %s: table segment %u.%llu granted", e->name,
		  e->segs.s[e->segs.n - 1].table,
		  (unsigned long long)e->segs.s[e->segs.n - 1].seg);
}

/*
 * A new mailbox (a restore, a stamp): the table locks, starting with the
 * older releases' (if the area may be shared with one) and the GUID's
 * home segment.  Returns 0 or an error (nothing asked).
 */
int uidlocks_table_start(struct uidsvc_entry *e)
{
	int rc;

	e->legacy = uidseg_legacy(uidsvc.a->hdr.flags, e->ls, UIDSVC_TABLE_LS);
	memset(&e->segs, 0, sizeof(e->segs));
	e->seg_next = 0;
	e->tables_held = false;
	rc = uidseg_need(uio_geom(uidsvc.io), e->guid, false, 0, &e->seg_take);
	if (rc < 0)
		return rc;
	rc = uidlocks_table_next(e);
	return rc < 0 ? rc : 0;
}

/*
 * Does what the entry holds cover a write into slot (uidseg_need)?  1:
 * yes; 0: no, more segments are asked for (after giving back those held
 * if one needed is below them: one order), and their grant runs the
 * create again (its probe made again under them); or an error.
 */
int uidlocks_segs_step(const struct uidsvc_entry *e, uint64_t slot, struct uidseg_set *take)
{
	struct uidseg_set need;
	int rc;

	rc = uidseg_need(uio_geom(uidsvc.io), e->guid, true, slot, &need);
	if (rc < 0)
		return rc;
	return (int)uidseg_next(&e->segs, &need, take);
}

int uidlocks_segs_cover(struct uidsvc_entry *e, uint64_t slot)
{
	struct uidseg_set take;
	enum uidseg_step st;
	int rc;

	rc = uidlocks_segs_step(e, slot, &take);
	if (rc < 0)
		return rc;
	st = (enum uidseg_step)rc;
	if (st == UIDSEG_HELD)
		return 1;
	log_debug("uid %s: slot %llu is past the table segments held: %s %u more", e->name,
		  (unsigned long long)slot, st == UIDSEG_EXTEND ? "asking for" : "giving them back, then",
		  take.n);
	uidsvc.st.table_seg_more++;
	if (st == UIDSEG_RESTART)
		seg_release(e);
	e->seg_take = take;
	e->seg_next = 0;
	e->tables_held = false;
	rc = uidlocks_table_next(e);
	return rc < 0 ? rc : 0;
}
