/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidsvc.c - the UID service (see uidsvc.h and docs/uid.md).
 *
 * Per (lockspace, mailbox GUID) one entry:
 *
 *   IDLE --request--> LOCKING  (EX on "uid:<guid>" as the internal client)
 *   LOCKING --grant--> take over: probe the table for the GUID, read both
 *       copies, uid_takeover() (or uid_create() under the table lock when
 *       the mailbox is new: TABLE) and write the records
 *       --> READY
 *   READY: allocations are served from the reserved range with no I/O;
 *       a reservation write when the range runs out.  The EX lock stays
 *       held (that is the cache) until another node asks for it.
 *   READY --blocking, and no allocation left uncommitted--> uid_release()
 *       puts the next UID in the LVB; unlock --> IDLE
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
 *
 * An allocation stays "uncommitted" until its client commits or aborts it
 * (or dies: then it is aborted and its UIDs are a gap).  Meanwhile the
 * mailbox is exclusive to that client: the lock is not given away and the
 * next allocation, even from another local client, waits for the commit,
 * so UIDs become visible in ascending order.  An allocation has a lease
 * (uid_alloc_lease_s): past it uidsvc_tick aborts it (a gap, never
 * reused), the mailbox goes on, and the late commit fails with
 * SDLM_EEXPIRED.  The lock may move before that late writer gives up:
 * the guard against it writing the store is the store-side epoch check
 * (docs/imap.md).  A hand-off through the disk does not wait for the
 * lease: K after its blocking callback the allocating client is killed,
 * as any lock holder is, and the mailbox goes once it is gone
 * (uidsvc_ho_kill).
 *
 * Disk I/O happens at takeover and once per reserved range, never per
 * UID, and never blocks the event loop (issue 13, hole 7): it runs on the
 * service's own aio context through uidio.c, one operation at a time per
 * entry, each step a continuation (takeover_looked, create_probed,
 * request_written...).  While an entry's operation is in flight
 * (busy()), only its continuation touches the core: new requests queue,
 * a blocking callback or a commit only marks what to do, and a stop (a
 * lost lock, a pill, a revocation) answers and kills the clients at once
 * but leaves the mailbox to the continuation (e->drop), which gives it
 * up once the core knows how the I/O ended.  A UID leaves only after
 * may_use() said yes right before the reply: lease valid, no pill.
 *
 * A record write that timed out is still in flight until the context
 * reaps it (it may land after anything written later: issue 13, hole 1).
 * Until then the core refuses to write that copy again and to release,
 * and this file never unlocks the mailbox (nor the table lock of a
 * create): a failed sequence with a write stuck parks the entry with
 * e->unlock_wait set, and uidsvc_tick, once that write has left the
 * kernel (its own signal: uio_write_out), reports it reaped to the core,
 * gives parked locks back (no LVB: the next holder reads the disk) and
 * serves what waited.
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
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sdlm.h"
#include "sdlm_ipc.h"
#include "log.h"
#include "aio.h"
#include "clock.h"
#include "area.h"
#include "crc32c.h"
#include "uidrec.h"
#include "uid.h"
#include "uidio.h"
#include "uidseg.h"
#include "lockspace.h"
#include "uidsvc.h"

enum ent_state {
	ENT_IDLE	= 0,
	ENT_LOCKING	= 1,	/* mailbox EX requested */
	ENT_TABLE	= 2,	/* new mailbox: table locks requested */
	ENT_READY	= 3,
};

struct pending {
	uint32_t client, seq;
	uint64_t t_ns;		/* the request came in (latency metric) */
	bool gone;		/* answered already, or its client died */
	bool imp_seen;		/* IMPORT: served once; imp_from the next */
	uint32_t imp_from;	/* UID before (to say whether it rose) */
	struct req_uid req;
	struct pending *next;
};

struct alloc {
	uint64_t id;
	uint32_t client, seq;	/* the request it answered */
	uint32_t first, count;
	uint64_t t_ns;		/* handed out (CLOCK_BOOTTIME) */
	struct alloc *next;
};

/* Allocation ids that expired, remembered so that their late commit gets
 * SDLM_EEXPIRED rather than "no such allocation". */
#define EXPIRED_KEEP	16

struct entry {
	uint64_t id;
	char ls[SDLM_NAME_MAX + 1];
	uint8_t guid[UID_GUID_LEN];
	char name[UIDREC_NAME_MAX + 1];
	char key[UIDREC_NAME_MAX + 1];	/* the name the GUID derives from,
					   "" when the caller gave a GUID */
	uint8_t lstag[UIDREC_LSTAG_LEN];	/* uid_lstag(ls): what the
					   record must carry (review s24 F2) */
	bool stamp;		/* the record carries no tag: the table locks
				   are taken to write ours (then takeover) */
	enum ent_state state;
	uint64_t lkid;
	uint64_t ls_table_lkid;	/* "uid-table" in e->ls (older daemons') */
	uint64_t table_lkid;	/* "uid-table" in UIDSVC_TABLE_LS: the area's */
	unsigned legacy;	/* UIDSEG_L_*: which of those two this create
				   takes (uidseg_legacy) */
	struct uidseg_set segs;	/* the table segments held, in order */
	uint64_t seg_lkid[UIDSEG_SET_MAX];	/* their locks (0: lost) */
	struct uidseg_set seg_take;	/* segments to ask for, in order */
	unsigned seg_next;	/* seg_take.s[seg_next]: the next one */
	bool tables_held;	/* every table lock asked for is held: the
				   create (stamp, restore) runs under them */
	uint64_t want_lkid;	/* the request the entry waits for (LOCKING:
				   the mailbox's, TABLE: a table lock's), 0:
				   none; any other grant is given back */
	uint64_t lock_epoch;
	bool lvb_valid;
	uint8_t lvb[UID_LVB_LEN];
	bool wanted;		/* another node waits for the mailbox */
	bool ho_stop;		/* asked for through the disk and K passed
				   (uidsvc_ho_kill): nothing more is served,
				   the mailbox goes once its clients are */
	bool deg;		/* m holds a degraded (provisional) takeover */
	unsigned release_waits;	/* ticks a release waited for the disk */
	bool unlock_wait;	/* a failed sequence left a write stuck: give
				   the locks back once it is reaped */
	struct uid_mbox m;
	struct uio_op op;	/* the entry's record I/O (busy: in flight) */
	struct pending *cur;	/* the request that operation serves */
	bool drop;		/* lock use stopped meanwhile: give up when
				   the operation ends */
	bool created;		/* degraded takeover: the mailbox was new */
	struct uid_import_plan imp;	/* create: an import's (act 0: none) */
	bool settle_was;	/* settle: the mark and its base before */
	uint32_t settle_base;
	struct pending *pend, **pend_tail;
	struct alloc *allocs;
	uint32_t next_alloc;	/* low half of this entry's allocation ids */
	uint64_t expired[EXPIRED_KEEP];	/* ring of expired allocation ids */
	unsigned expired_next;
	struct entry *next;
	struct entry *idnext;	/* in U.byid */
};

#define NBUCKET 4096
#define UIDSVC_HO_LOCKS	64	/* holders of one cluster lock looked at */
#define UID_TRACE_NS	10000000ull	/* log an answer that waited this long */

static struct {
	struct uidsvc_host h;
	struct area *a;
	struct uio *io;
	bool closing;		/* uidsvc_fini: nothing is answered any more */
	bool leaving;		/* uidsvc_leave: no new request */
	uint64_t nslots;
	struct uid_params params;
	struct entry *bucket[NBUCKET];
	uint64_t next_entry_id;
	/* Entries by id: an allocation id is (entry id << 32 | a sequence),
	 * so a commit finds its entry without walking the table. */
	struct entry *byid[NBUCKET];
	bool on;
	bool degraded;
	int deg_suspended;	/* 0, or why degraded allocation stopped */
	uint32_t deg_blocker;	/* the node whose heartbeat was seen */
	uint64_t deg_since_ms;	/* wall clock, information only */
	uint64_t deg_allocs;	/* provisional UIDs handed out */
	struct uidsvc_stats st;
} U;

static uint64_t now_ns(void)
{
	return aio_now_ns();
}

/* --- mailbox identity ---------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * A mailbox is named by its GUID (32 hex digits, Dovecot's mailbox GUID:
 * stable across RENAME) or by a name, whose GUID is derived from the
 * lockspace and the name with SHA-256 (uid_name_guid, stable as long as
 * the name is).  Returns 0 (a GUID), 1 (a name) or a name error.
 */
static int mailbox_guid(const char *ls, const char *mb, size_t len, uint8_t guid[UID_GUID_LEN])
{
	size_t i;
	int rc;

	if (len == 32) {
		for (i = 0; i < 16; i++) {
			int hi = hexval(mb[2 * i]), lo = hexval(mb[2 * i + 1]);

			if (hi < 0 || lo < 0)
				break;
			guid[i] = (uint8_t)(hi << 4 | lo);
		}
		if (i == 16)
			return 0;
	}
	rc = uid_name_guid(ls, mb, len, UIDNAME_V2, guid);
	return rc < 0 ? rc : 1;
}

static unsigned bucket_of(const char *ls, const uint8_t *guid)
{
	return crc32c(crc32c(0, ls, strlen(ls)), guid, UID_GUID_LEN) % NBUCKET;
}

static struct entry *entry_find(const char *ls, const uint8_t *guid, bool create)
{
	unsigned b = bucket_of(ls, guid);
	struct entry *e;

	for (e = U.bucket[b]; e; e = e->next)
		if (!strcmp(e->ls, ls) && !memcmp(e->guid, guid, UID_GUID_LEN))
			return e;
	if (!create)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->id = ++U.next_entry_id;
	snprintf(e->ls, sizeof(e->ls), "%s", ls);
	memcpy(e->guid, guid, UID_GUID_LEN);
	if (uid_lstag(e->ls, e->lstag) < 0)
		e->lstag[0] = 1;	/* no empty lockspace reaches here */
	e->pend_tail = &e->pend;
	e->next = U.bucket[b];
	U.bucket[b] = e;
	e->idnext = U.byid[e->id % NBUCKET];
	U.byid[e->id % NBUCKET] = e;
	return e;
}

static struct entry *entry_by_id(uint64_t id)
{
	struct entry *e;

	for (e = U.byid[id % NBUCKET]; e; e = e->idnext)
		if (e->id == id)
			return e;
	return NULL;
}

/* --- record I/O (uidio.c) ------------------------------------------------- */

static struct entry *op_entry(struct uio_op *op)
{
	return (struct entry *)((char *)op - offsetof(struct entry, op));
}

/* An operation of e is in flight: only its continuation touches e->m. */
static bool busy(const struct entry *e)
{
	return uio_busy(&e->op);
}

static void reply(uint32_t client, uint32_t seq, int err, const struct res_uid *r)
{
	if (!U.closing)
		U.h.reply(U.h.ctx, client, seq, err, r);
}

/* Answer p, unless its client is gone or it was answered already. */
static void answer(struct pending *p, int err, const struct res_uid *r)
{
	if (!p->gone)
		reply(p->client, p->seq, err, r);
	p->gone = true;
}

/* The request an operation served: answered, and forgotten. */
static void answer_cur(struct entry *e, int err, const struct res_uid *r)
{
	struct pending *p = e->cur;

	if (!p)
		return;
	e->cur = NULL;
	answer(p, err, r);
	free(p);
}

/* Back at the head of the queue: the request is served again next. */
static void requeue_cur(struct entry *e)
{
	struct pending *p = e->cur;

	if (!p)
		return;
	e->cur = NULL;
	if (p->gone) {
		free(p);
		return;
	}
	p->next = e->pend;
	e->pend = p;
	if (!p->next)
		e->pend_tail = &p->next;
}

/*
 * Each timed-out write of this entry that has left the kernel (its own
 * signal, whatever other mailboxes have in flight): tell the core.
 * Returns true when the core has nothing stuck any more.
 */
static bool reap_stuck(struct entry *e)
{
	uint32_t c;

	if (!e->m.um_stuck)
		return true;
	for (c = 0; c < UIDREC_COPIES; c++)
		if ((e->m.um_stuck & (1u << c)) && !uio_write_out(&e->op, c)) {
			uid_write_reaped(&e->m, c);
			log_notice("uid %s: the timed-out write to slot %llu copy %u has left the kernel: the copy is rewritten next",
				   e->name, (unsigned long long)e->m.um_slot, c);
		}
	return !e->m.um_stuck;
}

/* --- the internal lock ----------------------------------------------------- */

static void lock_name(const struct entry *e, char out[40])
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

static void fail_pending(struct entry *e, int err)
{
	struct pending *p;

	while ((p = e->pend)) {
		e->pend = p->next;
		answer(p, err, NULL);
		free(p);
	}
	e->pend_tail = &e->pend;
}

/* Lock use ended under e (lost lock, pill, revocation): what waits is
 * answered err, the clients with an allocation in flight are killed. */
static void stop_clients(struct entry *e, int err, struct alloc **kill_list)
{
	struct alloc *a;

	while ((a = e->allocs)) {
		e->allocs = a->next;
		a->next = *kill_list;
		*kill_list = a;
	}
	fail_pending(e, err);
	if (e->cur)
		answer(e->cur, err, NULL);
}

/* Every client with an allocation in flight, however many: no cap on a
 * safety path (issue 13, hole 4). */
static void kill_allocs(struct alloc *kill_list)
{
	struct alloc *a;

	while ((a = kill_list)) {
		kill_list = a->next;
		U.h.kill_clients(U.h.ctx, &a->client, 1);
		free(a);
	}
}

static void serve(struct entry *e);

/* Give the table segments held back (the segment locks only). */
static void seg_release(struct entry *e)
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
static void table_unlock(struct entry *e)
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
static bool own_table_lkid(const struct entry *e, uint64_t lkid)
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

static void release(struct entry *e)
{
	uint8_t lvb[UID_LVB_LEN];
	int rc;

	/* A record write that timed out may still land: giving the lock
	 * away now would make it a late write of a live node.  Keep the
	 * mailbox until the kernel is done with it (uidsvc_tick retries). */
	if (e->m.um_stuck && !reap_stuck(e)) {
		if (!e->release_waits++)
			log_warn("uid %s: a record write is still in flight: keeping the mailbox until it completes",
				 e->name);
		return;
	}
	e->release_waits = 0;
	rc = uid_release(&e->m, lvb);
	if (rc < 0) {
		log_warn("uid %s: cannot release yet: %s", e->name, sdlm_strerror(rc));
		return;
	}
	rc = lsm_unlock(UIDSVC_CLIENT, e->lkid, SDLM_LKF_VALBLK, lvb);
	if (rc < 0)
		log_warn("uid %s: unlock: %s", e->name, sdlm_strerror(rc));
	log_debug("uid %s: given up (next %u, epoch %llu)", e->name, e->m.um_next,
		  (unsigned long long)e->m.um_epoch);
	e->state = ENT_IDLE;
	e->lkid = 0;
	e->wanted = false;
	e->ho_stop = false;
	memset(&e->m, 0, sizeof(e->m));
	/* requests that arrived meanwhile: take the lock again */
	if (e->pend)
		serve(e);
}

/*
 * A write sequence failed (takeover, create, settle), or lock use
 * stopped: give the mailbox lock (and a create's table lock) back
 * without an LVB, unless a write of it may still land: then park the
 * entry (unlock_wait) until uidsvc_tick sees it reaped.  With an
 * operation in flight, its continuation gives up (e->drop).
 */
static void give_up(struct entry *e)
{
	if (busy(e)) {
		/* no write of its chain is submitted from now on */
		e->drop = true;
		uio_stop(&e->op);
		return;
	}
	if (uid_busy(&e->m) && !reap_stuck(e)) {
		if (!e->unlock_wait)
			log_warn("uid %s: a record write timed out and may still land: keeping the mailbox lock until it has left the kernel",
				 e->name);
		e->unlock_wait = true;
		return;
	}
	e->unlock_wait = false;
	table_unlock(e);	/* and no request is waited for any more */
	if (e->lkid) {
		lsm_unlock(UIDSVC_CLIENT, e->lkid, 0, NULL);
		/* the same line as release(): where a holding ends */
		log_debug("uid %s: given up (next %u, epoch %llu)", e->name, e->m.um_next,
			  (unsigned long long)e->m.um_epoch);
	}
	e->lkid = 0;
	e->state = ENT_IDLE;
	e->wanted = false;
	e->ho_stop = false;
	memset(&e->m, 0, sizeof(e->m));
}

/*
 * First thing in every continuation: lock use stopped (or the lock was
 * lost) while the operation ran.  Its clients were answered then; now
 * that the core knows how the I/O ended, give the mailbox up.
 */
static bool dropped(struct entry *e)
{
	if (!e->drop)
		return false;
	e->drop = false;
	answer_cur(e, SDLM_EFENCED, NULL);
	e->deg = false;
	give_up(e);
	if (e->pend && !e->unlock_wait)
		serve(e);	/* came after the stop: they get its error */
	return true;
}

static void maybe_release(struct entry *e)
{
	if (U.degraded || e->unlock_wait || busy(e))
		return;		/* nothing is handed on in degraded mode */
	if (e->state == ENT_READY && e->wanted && !e->allocs)
		release(e);
}

/*
 * Ask for a lock the entry then waits for (EX).  Its grant is known by
 * its lkid, e->want_lkid: lsm_lock sets it before any completion of the
 * request is delivered, within the call or later.  A grant of any other
 * request (one the entry gave up while it was queued: an unlock is not
 * tried on a waiting request) is given back by uidsvc_ast, never taken
 * for the lock the entry waits for now (review s24 F1).
 */
static int want_lock(struct entry *e, const char *ls, const char *name, size_t len)
{
	int rc;

	e->want_lkid = 0;
	rc = lsm_lock(UIDSVC_CLIENT, e->id, ls, strlen(ls), name, len, SDLM_EX, 0,
		      &e->want_lkid);
	if (rc < 0)
		e->want_lkid = 0;
	return rc;
}

static int lock_ex(struct entry *e, const char *name, size_t len)
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
static int table_next(struct entry *e)
{
	char name[UIDSEG_NAME_MAX];
	int n;

	if ((e->legacy & UIDSEG_L_LS) && !e->ls_table_lkid)
		return lock_ex(e, UIDSVC_TABLE_RES, strlen(UIDSVC_TABLE_RES));
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

/* The table lock table_next asked for was granted: which one it is
 * follows from what is held already (one request at a time). */
static void table_granted(struct entry *e, uint64_t lkid)
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
static int table_start(struct entry *e)
{
	int rc;

	e->legacy = uidseg_legacy(U.a->hdr.flags, e->ls, UIDSVC_TABLE_LS);
	memset(&e->segs, 0, sizeof(e->segs));
	e->seg_next = 0;
	e->tables_held = false;
	rc = uidseg_need(uio_geom(U.io), e->guid, false, 0, &e->seg_take);
	if (rc < 0)
		return rc;
	rc = table_next(e);
	return rc < 0 ? rc : 0;
}

/*
 * Does what the entry holds cover a write into slot (uidseg_need)?  1:
 * yes; 0: no, more segments are asked for (after giving back those held
 * if one needed is below them: one order), and their grant runs the
 * create again (its probe made again under them); or an error.
 */
static int segs_step(const struct entry *e, uint64_t slot, struct uidseg_set *take)
{
	struct uidseg_set need;
	int rc;

	rc = uidseg_need(uio_geom(U.io), e->guid, true, slot, &need);
	if (rc < 0)
		return rc;
	return (int)uidseg_next(&e->segs, &need, take);
}

static int segs_cover(struct entry *e, uint64_t slot)
{
	struct uidseg_set take;
	enum uidseg_step st;
	int rc;

	rc = segs_step(e, slot, &take);
	if (rc < 0)
		return rc;
	st = (enum uidseg_step)rc;
	if (st == UIDSEG_HELD)
		return 1;
	log_debug("uid %s: slot %llu is past the table segments held: %s %u more", e->name,
		  (unsigned long long)slot, st == UIDSEG_EXTEND ? "asking for" : "giving them back, then",
		  take.n);
	U.st.table_seg_more++;
	if (st == UIDSEG_RESTART)
		seg_release(e);
	e->seg_take = take;
	e->seg_next = 0;
	e->tables_held = false;
	rc = table_next(e);
	return rc < 0 ? rc : 0;
}

/* The core is ready to serve this entry (normal: the lock's takeover is
 * done; degraded: the degraded takeover is). */
static bool core_ready(const struct entry *e)
{
	return U.degraded ? e->deg && e->m.um_phase == UID_READY
			  : e->state == ENT_READY;
}

/* Forget what the core holds (no LVB: the next holder reads the disk). */
static void core_drop(struct entry *e)
{
	uint8_t lvb[UID_LVB_LEN];

	uid_release(&e->m, lvb);
	memset(&e->m, 0, sizeof(e->m));
	e->deg = false;
}

/* A new mailbox: the first UIDVALIDITY, above a deleted one's. */
static uint32_t new_uidvalidity(const struct uio_op *op)
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
static void run_writes(struct entry *e, int rc, const struct uid_write *w, uio_done_fn then)
{
	if (rc == UID_WAIT && w->count)
		uio_writes(U.io, &e->op, &e->m, w, e->name, then);
	else
		then(&e->op, rc < 0 ? rc : 0);
}

/* --- degraded takeover ------------------------------------------------------- */

/*
 * Degraded mode: take the mailbox over from the disk with no lock (the
 * daemon made sure no other node uses this copy of the disk), creating it
 * if it is new: lookup --> (insert -->) writes --> deg_written.
 */
static void deg_looked(struct uio_op *op, int rc);
static void deg_probed(struct uio_op *op, int rc);
static void deg_written(struct uio_op *op, int rc);

/*
 * The record belongs to another lockspace (review s24 F2): the mailbox
 * lock held here is not the one that guards it.  Refused, nothing
 * written; the log line names the mailbox and says what to do.
 */
static void other_ls(struct entry *e, const struct uid_slot_view *v)
{
	char gx[2 * UID_GUID_LEN + 1];
	unsigned i;

	for (i = 0; i < UID_GUID_LEN; i++)
		snprintf(gx + 2 * i, 3, "%02x", e->guid[i]);
	log_warn("uid %s: refused in lockspace %s: GUID %s belongs to a mailbox of another lockspace (%s, in slot %llu): a GUID names one mailbox in one lockspace; name the mailbox in its own lockspace (docs/uid.md, \"One GUID, one lockspace\")",
		 e->name, e->ls, gx, v->lstag_mixed ? "its copies carry two different lockspace tags" :
		 "its record carries another lockspace's tag", (unsigned long long)e->op.slot);
}

/* Another entry of this node holds (or is taking) the same GUID in
 * another lockspace. */
static bool other_ls_local(const struct entry *e)
{
	const struct entry *o;
	unsigned b;

	for (b = 0; b < NBUCKET; b++)
		for (o = U.bucket[b]; o; o = o->next)
			if (o != e && (o->state != ENT_IDLE || o->deg || busy(o)) &&
			    !memcmp(o->guid, e->guid, UID_GUID_LEN) && strcmp(o->ls, e->ls))
				return true;
	return false;
}

static void deg_takeover(struct entry *e)
{
	core_drop(e);
	uio_lookup(U.io, &e->op, e->ls, e->guid, e->key, e->name, deg_looked);
}

static void deg_looked(struct uio_op *op, int rc)
{
	struct entry *e = op_entry(op);
	struct uid_write w = { 0 };

	if (dropped(e))
		return;
	e->created = rc == -ENOENT;
	if (e->created) {
		uio_insert(U.io, op, e->guid, e->key, e->name, deg_probed);
		return;
	}
	if (rc == 0) {
		/* No other node uses this copy of the disk: an untagged
		 * record is stamped without the table lock, unless another
		 * entry of ours has the GUID in another lockspace. */
		enum uid_lstag_verdict lv = uid_lstag_check(&op->v, e->lstag);

		if (lv == UID_LSTAG_OTHER || (lv == UID_LSTAG_STAMP && other_ls_local(e))) {
			other_ls(e, &op->v);
			rc = SDLM_EOTHERLS;
		} else {
			uid_set_lstag(&e->m, e->lstag, true);
			rc = uid_takeover(&e->m, &U.params, op->rec_guid, op->slot, &op->v,
					  NULL, 0, U.h.nodeid, U.h.incarnation, now_ns(), &w);
		}
	}
	run_writes(e, rc, &w, deg_written);
}

static void deg_probed(struct uio_op *op, int rc)
{
	struct entry *e = op_entry(op);
	struct uid_write w = { 0 };

	if (dropped(e))
		return;
	if (rc == 0) {
		uid_set_lstag(&e->m, e->lstag, false);
		rc = uid_create(&e->m, &U.params, e->guid, e->name, strlen(e->name),
				new_uidvalidity(op), op->slot, &op->v, 0, U.h.nodeid,
				U.h.incarnation, now_ns(), &w);
	}
	run_writes(e, rc, &w, deg_written);
}

static void deg_written(struct uio_op *op, int rc)
{
	struct entry *e = op_entry(op);

	if (dropped(e))
		return;
	if (rc < 0) {
		log_warn("uid %s: DEGRADED takeover: %s", e->name, sdlm_strerror(rc));
		/* a write that may still land stays known (serve waits) */
		if (!e->m.um_stuck)
			memset(&e->m, 0, sizeof(e->m));
		fail_pending(e, rc == UIDTAB_EFULL ? SDLM_EUIDFULL : rc);
		return;
	}
	if (!e->name[0] && op->v.latest.name_len)
		snprintf(e->name, sizeof(e->name), "%s", op->v.latest.name);
	e->deg = true;
	U.st.takeovers++;
	log_warn("uid %s: DEGRADED %s without the cluster lock: epoch %llu, next %u, UIDs above %u are PROVISIONAL",
		 e->name, e->created ? "creation" : "takeover", (unsigned long long)e->m.um_epoch,
		 e->m.um_next, e->m.um_prov_base);
	serve(e);
}

/* --- takeover and create ----------------------------------------------------- */

/*
 * The mailbox lock was granted: lookup --> takeover_looked --> writes -->
 * takeover_written --> READY.  A new mailbox takes the table lock; its
 * grant runs create: lookup --> create_looked (found meanwhile: as a
 * takeover) --> insert --> create_probed --> writes --> create_written.
 */
static void takeover_looked(struct uio_op *op, int rc);
static void takeover_written(struct uio_op *op, int rc);
static void create_looked(struct uio_op *op, int rc);
static void create_probed(struct uio_op *op, int rc);
static void create_written(struct uio_op *op, int rc);
static void res_now(const struct entry *e, struct res_uid *r);

/*
 * A new mailbox, and every request for it was cancelled (SDLM_UID_CANCEL)
 * or its client died meanwhile: it is not created for nobody (review s24
 * F3: a cancelled import left a fresh mailbox, a new UIDVALIDITY at UID
 * 1, and the import tried again was refused).  The locks go back.
 */
static void nobody_waits(struct entry *e)
{
	log_debug("uid %s: not in the table and no request for it is left: not created", e->name);
	give_up(e);
}

static void takeover(struct entry *e)
{
	uio_lookup(U.io, &e->op, e->ls, e->guid, e->key, e->name, takeover_looked);
}

static void create(struct entry *e)
{
	uio_lookup(U.io, &e->op, e->ls, e->guid, e->key, e->name, create_looked);
}

/*
 * A new mailbox found no free slot (docs/uid.md, "Growing the table"):
 * the log line says what to do, as the client's error does.
 */
static void table_full(const struct entry *e)
{
	const struct uidtab_geom *g = uio_geom(U.io);
	uint64_t total = uidtab_geom_total(g);

	U.st.table_full++;
	log_err("uid %s: the UID table is FULL: no free slot within %u of the mailbox's home in any of its %u table(s), %llu slots; the mailbox cannot be created until it is grown, online: 'sdlmctl uid grow --slots %llu' on any node (see 'sdlmctl uid summary', docs/uid.md)",
		e->name, UIDTAB_WINDOW, g->ntables, (unsigned long long)total,
		(unsigned long long)(total ? total : 1024));
}

static void start_failed(struct entry *e, const char *what, int rc)
{
	if (rc == UIDTAB_EFULL)
		table_full(e);
	else
		log_warn("uid %s: %s: %s", e->name, what, sdlm_strerror(rc));
	fail_pending(e, rc == UIDTAB_EFULL ? SDLM_EUIDFULL : rc);
	give_up(e);
}

/* --- import: a record from what the mail store knows -------------------- */

/* The lookup ended on a slot that cannot be read as a record (not I/O). */
static bool rec_damaged(const struct uio_op *op, int rc)
{
	return !op->io_err && (rc == SDLM_EMAGIC || rc == SDLM_EVERSION ||
			       rc == SDLM_ECHECKSUM || rc == SDLM_EIDENTITY || rc == -EUCLEAN);
}

/* The first request waiting is an import (restore: its restoring form). */
static bool import_next(const struct entry *e, bool restore)
{
	const struct pending *p = e->pend;

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
static bool restore_first(struct entry *e)
{
	struct pending **qq, *p;

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
static int import_plan(const struct entry *e, const struct pending *p, int found,
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
static int restore_slot(struct entry *e, const struct pending *p, struct uio_op *op)
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
 * (e->cur), answered by create_written.  A refused one is answered
 * alone; the requests behind it go on as without it.
 */
static void import_start(struct entry *e, struct uio_op *op, int found)
{
	struct pending *p = e->pend;
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
		 * a grant may run the create again inside segs_cover) and
		 * is served again once more are held */
		struct uidseg_set take;
		int c = segs_step(e, op->slot, &take);

		if (c != UIDSEG_HELD) {
			e->cur = NULL;
			e->imp.act = 0;
			p->next = e->pend;
			if (!e->pend)
				e->pend_tail = &p->next;
			e->pend = p;
			if (c >= 0)
				c = segs_cover(e, op->slot);
			if (c < 0)
				start_failed(e, "restore", c);
			return;
		}
	}
	if (rc < 0) {
		log_warn("uid %s: import refused: %s", e->name, sdlm_strerror(rc));
		answer_cur(e, rc, NULL);
		e->imp.act = 0;
		if (found == -ENOENT && e->pend)
			create_probed(op, 0);
		else if (found == -ENOENT)
			give_up(e);
		else
			start_failed(e, "create", found);
		return;
	}
	uid_set_lstag(&e->m, e->lstag, false);
	rc = uid_import(&e->m, &U.params, &e->imp, e->guid, e->name, strlen(e->name),
			op->slot, &op->v, p->req.alloc_id, e->lock_epoch, U.h.nodeid,
			U.h.incarnation, now_ns(), &w);
	run_writes(e, rc, &w, create_written);
}

static void takeover_looked(struct uio_op *op, int rc)
{
	struct entry *e = op_entry(op);
	struct uid_write w = { 0 };

	if (dropped(e))
		return;
	if (rc == -ENOENT && !e->pend) {
		nobody_waits(e);
		return;
	}
	if (rc == 0 && !e->tables_held) {
		/* The record must be this lockspace's (review s24 F2). */
		enum uid_lstag_verdict lv = uid_lstag_check(&op->v, e->lstag);

		if (lv == UID_LSTAG_OTHER) {
			other_ls(e, &op->v);
			start_failed(e, "takeover", SDLM_EOTHERLS);
			return;
		}
		e->stamp = lv == UID_LSTAG_STAMP;
	}
	if (rc == -ENOENT || (rec_damaged(op, rc) && restore_first(e)) || (rc == 0 && e->stamp && !e->tables_held)) {
		/* A new mailbox: creating takes the table lock (two creators
		 * must not pick the same free slot); so does a restore (two
		 * mailboxes may claim one damaged slot), and the stamp of an
		 * untagged record (two lockspaces may race to stamp it: the
		 * record is looked up again under the lock, create_looked). */
		e->state = ENT_TABLE;
		log_debug("uid %s: new mailbox: requesting the table locks", e->name);
		rc = table_start(e);
		if (rc < 0) {
			fail_pending(e, rc);
			table_unlock(e);
			lsm_unlock(UIDSVC_CLIENT, e->lkid, 0, NULL);
			e->lkid = 0;
			e->state = ENT_IDLE;
		}
		/* the table lock's grant (maybe already delivered) continues */
		return;
	}
	if (rc == 0) {
		/* stamping only with the table locks held, after the lookup
		 * made under them */
		uid_set_lstag(&e->m, e->lstag, e->stamp && e->tables_held);
		rc = uid_takeover(&e->m, &U.params, op->rec_guid, op->slot, &op->v,
				  e->lvb_valid ? e->lvb : NULL, e->lock_epoch,
				  U.h.nodeid, U.h.incarnation, now_ns(), &w);
	}
	run_writes(e, rc, &w, takeover_written);
}

/*
 * A takeover refused the lock value block (issue 15 item 3): say why.  A
 * record without a floor (minor < 2: written before this check existed,
 * or by an older daemon during an upgrade) is routine, a notice; the
 * rest mean a stale, damaged or forged value block.
 */
static void log_lvb_refused(const struct entry *e, const struct uid_slot_view *v)
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
	struct entry *e = op_entry(op);
	const struct uid_slot_view *v = &op->v;

	if (dropped(e))
		return;
	if (rc < 0) {
		e->stamp = false;
		start_failed(e, "takeover", rc);
		return;
	}
	if (e->stamp) {
		log_notice("uid %s: record in slot %llu stamped as lockspace %s's (it carried no lockspace tag: written before this version or by an older daemon)",
			   e->name, (unsigned long long)op->slot, e->ls);
		e->stamp = false;
	}
	if (e->tables_held)
		table_unlock(e);	/* held for a stamp */
	if (!e->name[0] && v->latest.name_len)
		snprintf(e->name, sizeof(e->name), "%s", v->latest.name);
	U.st.takeovers++;
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
	e->state = ENT_READY;
	serve(e);
}

static void create_looked(struct uio_op *op, int rc)
{
	struct entry *e = op_entry(op);

	if (dropped(e))
		return;
	if (rc == 0) {
		/* Created by another node meanwhile, or the record to stamp
		 * (looked up again now that the table locks are held: two
		 * lockspaces racing to stamp it cannot both win): take it
		 * over, the table locks kept for a stamp only. */
		enum uid_lstag_verdict lv = uid_lstag_check(&op->v, e->lstag);

		if (lv == UID_LSTAG_OTHER) {
			other_ls(e, &op->v);
			e->stamp = false;
			start_failed(e, "takeover", SDLM_EOTHERLS);
			return;
		}
		e->stamp = lv == UID_LSTAG_STAMP;
		if (!e->stamp)
			table_unlock(e);
		takeover_looked(op, 0);
		return;
	}
	e->stamp = false;
	if (rec_damaged(op, rc) && restore_first(e)) {
		import_start(e, op, rc);	/* the operator's restore */
		return;
	}
	if (rc != -ENOENT) {
		/* not found past a damaged slot: it may be the damaged one */
		start_failed(e, "create", rc);
		return;
	}
	uio_insert(U.io, op, e->guid, e->key, e->name, create_probed);
}

static void create_probed(struct uio_op *op, int rc)
{
	struct entry *e = op_entry(op);
	struct uid_write w = { 0 };

	if (dropped(e))
		return;
	if (rc == 0 && !e->pend) {
		nobody_waits(e);
		return;
	}
	if (rc == 0) {
		/* the free slot must be in the segments held, else more are
		 * taken and the probe made again under them */
		int c = segs_cover(e, op->slot);

		if (c < 0) {
			start_failed(e, "create", c);
			return;
		}
		if (!c)
			return;
	}
	uid_set_lstag(&e->m, e->lstag, false);
	if (rc == 0 && import_next(e, false)) {
		import_start(e, op, -ENOENT);	/* adopted from the store */
		return;
	}
	if (rc == 0)
		rc = uid_create(&e->m, &U.params, e->guid, e->name, strlen(e->name),
				new_uidvalidity(op), op->slot, &op->v, e->lock_epoch, U.h.nodeid,
				U.h.incarnation, now_ns(), &w);
	run_writes(e, rc, &w, create_written);
}

static void create_written(struct uio_op *op, int rc)
{
	struct entry *e = op_entry(op);

	enum uid_import_act act = e->imp.act;
	struct res_uid r;

	e->imp.act = 0;
	if (dropped(e))
		return;
	if (rc < 0) {
		answer_cur(e, rc == UIDTAB_EFULL ? SDLM_EUIDFULL : rc, NULL);
		start_failed(e, "create", rc);
		return;
	}
	table_unlock(e);
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
		res_now(e, &r);
		r.flags = act == UID_IMPORT_CREATE ? SDLM_UID_F_CREATED :
			  SDLM_UID_F_RESTORED | (e->imp.bumped ? SDLM_UID_F_BUMPED : 0);
		answer_cur(e, 0, &r);
	}
	e->state = ENT_READY;
	serve(e);
}

/* Lost the mailbox (or table) lock while an operation runs: answer and
 * stop the clients now, give the mailbox up when the operation ends. */
static void lost_while_busy(struct entry *e, uint64_t lkid, int err)
{
	struct alloc *kill_list = NULL;

	log_warn("uid %s: %s lock lost (%s) with a record I/O in flight: no more UIDs from this node; given up once the I/O has ended",
		 e->name, lkid == e->lkid ? "mailbox" : "table", sdlm_strerror(err));
	if (lkid == e->lkid)
		e->lkid = 0;
	else if (lkid == e->ls_table_lkid)
		e->ls_table_lkid = 0;
	else if (lkid == e->table_lkid)
		e->table_lkid = 0;
	for (unsigned i = 0; i < e->segs.n; i++)
		if (lkid == e->seg_lkid[i])
			e->seg_lkid[i] = 0;
	e->drop = true;
	uio_stop(&e->op);
	stop_clients(e, err, &kill_list);
	kill_allocs(kill_list);
}
void uidsvc_ast(uint64_t lkid, uint64_t ref, int err, int mode,
		const uint8_t *lvb, bool lvb_valid, uint64_t epoch)
{
	struct entry *e = entry_by_id(ref);

	if (!e)
		return;
	/*
	 * Which lock: the request the entry waits for, one it holds, or a
	 * request it gave up while it was queued (stopped, failed, given up
	 * while it waited for another lock), whose late grant is given
	 * straight back.  Never told apart by the entry's state: a stale
	 * sdlm-admin/uid-table grant taken for the mailbox lock was a
	 * takeover without the mailbox lock (UIDs twice) and the area's
	 * table lock held for ever.
	 */
	if (lkid && lkid == e->want_lkid) {
		e->want_lkid = 0;
	} else if (lkid && lkid != e->lkid && !own_table_lkid(e, lkid)) {
		if (!err) {
			log_info("uid %s: a lock request given up while queued was granted: released",
				 e->name);
			lsm_unlock(UIDSVC_CLIENT, lkid, 0, NULL);
		}
		return;
	}
	/*
	 * Degraded mode: a request from before it was entered, answered now
	 * (quorum is back: allocation is suspended), maybe while a degraded
	 * takeover runs on the entry (busy): recorded here all the same,
	 * never thrown away.  A mailbox lock granted is kept (leaving
	 * degraded mode gives it back); the core is the degraded one until
	 * the operator leaves.  The table lock is not needed any more: given
	 * back at once.  A failed request leaves the requests to the
	 * degraded core.
	 */
	if (U.degraded &&
	    ((e->state == ENT_LOCKING && !e->lkid) || (e->state == ENT_TABLE && !e->tables_held))) {
		if (err && e->state == ENT_LOCKING) {
			log_warn("uid %s: lock: %s (degraded mode)", e->name, sdlm_strerror(err));
			e->state = ENT_IDLE;
			return;
		}
		if (e->state == ENT_TABLE) {
			if (!err)
				lsm_unlock(UIDSVC_CLIENT, lkid, 0, NULL);
			table_unlock(e);	/* the lockspace's, if held */
		} else {
			e->lkid = lkid;
			e->lock_epoch = epoch;
		}
		e->state = ENT_READY;
		return;
	}
	/*
	 * A grant while the entry waits for none: a request it gave up while
	 * it was still queued (an unlock of a waiting request fails, so it
	 * stayed in the queue).  Ignored, it would be held by this node for
	 * ever and every other node would wait for the mailbox (the nemesis
	 * part-overlap stall: one UID service lock granted, another waiting
	 * behind it).  Give it straight back; nothing was allocated under it.
	 */
	if (!err && lkid != e->lkid && !own_table_lkid(e, lkid) &&
	    (busy(e) || (e->state != ENT_LOCKING && e->state != ENT_TABLE))) {
		log_info("uid %s: a lock request given up while queued was granted: released",
			 e->name);
		lsm_unlock(UIDSVC_CLIENT, lkid, 0, NULL);
		return;
	}
	if (busy(e)) {
		/* Every lock this entry waits for is granted before its
		 * operation starts: only a loss can come now. */
		if (!err || !lkid || (lkid != e->lkid && !own_table_lkid(e, lkid)))
			return;
		if (U.degraded && lkid == e->lkid) {
			/* the degraded core does not depend on it */
			log_warn("uid %s: mailbox lock lost (%s) in degraded mode", e->name,
				 sdlm_strerror(err));
			e->state = ENT_IDLE;
			e->lkid = 0;
			return;
		}
		lost_while_busy(e, lkid, err);
		return;
	}
	if (U.degraded && e->state == ENT_READY && err && lkid == e->lkid) {
		log_warn("uid %s: mailbox lock lost (%s) in degraded mode", e->name,
			 sdlm_strerror(err));
		e->state = ENT_IDLE;
		e->lkid = 0;
		return;
	}
	if (e->state == ENT_TABLE) {
		int rc = err;

		if (!rc) {
			/* the next table lock of the plan, or the create */
			table_granted(e, lkid);
			rc = table_next(e);
			if (rc == 0)
				return;	/* its grant (maybe delivered already) goes on */
			if (rc == 1) {
				create(e);
				return;
			}
			log_warn("uid %s: a table lock: %s", e->name, sdlm_strerror(rc));
		}
		fail_pending(e, rc);
		table_unlock(e);
		lsm_unlock(UIDSVC_CLIENT, e->lkid, 0, NULL);
		e->state = ENT_IDLE;
		e->lkid = 0;
		return;
	}
	if (e->state == ENT_READY && err && lkid == e->lkid) {
		/* The mailbox lock was taken from us (this node fenced, or
		 * its locks revoked): hand out nothing more; the clients with
		 * an allocation in flight are stopped like every lock user. */
		struct alloc *kill_list = NULL;

		log_warn("uid %s: mailbox lock lost (%s): no more UIDs from this node",
			 e->name, sdlm_strerror(err));
		stop_clients(e, err, &kill_list);
		e->state = ENT_IDLE;
		e->lkid = 0;
		e->wanted = false;
		e->ho_stop = false;
		memset(&e->m, 0, sizeof(e->m));
		kill_allocs(kill_list);
		return;
	}
	if (e->state != ENT_LOCKING)
		return;
	if (err) {
		log_warn("uid %s: lock: %s", e->name, sdlm_strerror(err));
		fail_pending(e, err);
		e->state = ENT_IDLE;
		e->lkid = 0;
		return;
	}
	e->lkid = lkid;
	e->lock_epoch = epoch;
	e->ho_stop = false;	/* a holding of its own */
	e->lvb_valid = lvb_valid && lvb;
	if (e->lvb_valid)
		memcpy(e->lvb, lvb, UID_LVB_LEN);
	log_debug("uid %s: mailbox lock granted (epoch %llu)", e->name,
		  (unsigned long long)epoch);
	takeover(e);
}

void uidsvc_bast(uint64_t lkid, uint64_t ref, int mode)
{
	struct entry *e = entry_by_id(ref);

	if (!e || e->lkid != lkid)
		return;
	e->wanted = true;
	maybe_release(e);
}

/*
 * The hand-off through the disk (docs/design-handoff.md, V1 and K): the
 * cluster lock lkid, held here for one of our locks, was asked for while
 * this node is away, and K has passed since its blocking callback.  The
 * mailbox gives up like any lock user whose holders are killed after K,
 * never on its allocation lease: nothing more is served from it
 * (ho_stop: its queue waits for the lock, which this node no longer
 * gets), and each client with an allocation uncommitted is killed.  Its
 * allocation is aborted (a gap) only when its connection goes
 * (uidsvc_client_gone), that is once the process has exited: a delivery
 * killed in the middle of its store write is still there until then.
 * The mailbox is then released as on any blocking callback (the next
 * UID in the value block), once no record write of it may still land.
 * A mailbox that waits for a table lock, which the cluster cannot grant
 * while we are away, gives its locks back now, or when its operation
 * ends.  The daemon answers only once every killed client is reaped and
 * the lock has no holder left (sdlmd.c handoff_tick).
 */
static size_t ho_kill(struct entry *e)
{
	struct alloc *a;
	size_t n = 0;

	e->ho_stop = true;
	e->wanted = true;
	for (a = e->allocs; a; a = a->next) {
		log_warn("uid %s: asked for through the disk and not given up within K: killing client %u (UIDs %u..%u not committed: a gap once it is gone)",
			 e->name, a->client, a->first, a->first + a->count - 1);
		U.h.kill_clients(U.h.ctx, &a->client, 1);
		n++;
	}
	if (e->state == ENT_READY) {
		maybe_release(e);
	} else if (!busy(e)) {
		log_warn("uid %s: asked for through the disk while waiting for a table lock: given back",
			 e->name);
		give_up(e);
		if (e->pend && !e->unlock_wait)
			serve(e);	/* it asks for the lock again */
	}
	return n;
}

/* The entry that holds our lock lkid (its mailbox's or a table lock). */
static struct entry *entry_by_lock(uint64_t lkid)
{
	struct entry *e;
	unsigned b;

	for (b = 0; b < NBUCKET; b++)
		for (e = U.bucket[b]; e; e = e->next)
			if (e->lkid == lkid || own_table_lkid(e, lkid))
				return e;
	return NULL;
}

size_t uidsvc_ho_kill(uint64_t lkid)
{
	uint32_t cl[UIDSVC_HO_LOCKS];
	uint64_t ids[UIDSVC_HO_LOCKS];
	struct entry *e;
	size_t n, i, killed = 0;

	if (!U.on || U.degraded)
		return 0;	/* degraded: nothing is handed on */
	n = lsm_ho_locks(lkid, cl, ids, UIDSVC_HO_LOCKS);
	for (i = 0; i < n && i < UIDSVC_HO_LOCKS; i++)
		if (cl[i] == UIDSVC_CLIENT && ids[i] && (e = entry_by_lock(ids[i])))
			killed += ho_kill(e);
	return killed;
}

/* --- requests ---------------------------------------------------------------- */

static void reply_alloc(struct entry *e, struct pending *p, uint32_t first, uint32_t count)
{
	struct res_uid r;
	struct alloc *a;

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
		answer(p, -ENOMEM, NULL);
		return;
	}
	a->id = e->id << 32 | ++e->next_alloc;
	a->t_ns = now_ns();
	U.st.allocations++;
	if (p->t_ns) {
		hist_observe_ns(&U.st.alloc_latency, a->t_ns - p->t_ns);
		/* Only a request that waited (the cached path takes µs). */
		if (a->t_ns - p->t_ns >= UID_TRACE_NS)
			log_debug("uid %s: client %u answered after %llu ms (UIDs %u..%u)",
				  e->name, p->client,
				  (unsigned long long)((a->t_ns - p->t_ns) / 1000000),
				  first, first + count - 1);
	}
	U.st.uids += count;
	if (U.degraded)
		U.deg_allocs += count;
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
	answer(p, 0, &r);
}

/* The answer of raise, settle and bump: where the mailbox is now. */
static void res_now(const struct entry *e, struct res_uid *r)
{
	memset(r, 0, sizeof(*r));
	r->next = e->m.um_next;
	r->uidvalidity = e->m.um_uidvalidity;
	r->epoch = e->m.um_epoch;
	memcpy(r->guid, e->guid, UID_GUID_LEN);
}

/* What serve_one did with a request. */
enum served {
	SERVED	= 0,	/* answered */
	WAITS	= 1,	/* keep it queued (a commit, a reap) */
	STARTED	= 2,	/* an operation runs for it (e->cur) */
};

/*
 * The continuations of the requests' write sequences.  A request that
 * needed a write goes back to the head of the queue and is served again
 * (the core goes on from where the write left it); one that failed is
 * answered with the error.
 */
static void request_written(struct uio_op *op, int rc)
{
	struct entry *e = op_entry(op);

	if (dropped(e))
		return;
	if (rc < 0)
		answer_cur(e, rc, NULL);
	else
		requeue_cur(e);
	serve(e);
}

/* The next range, reserved ahead after the reply: nobody waits for it. */
static void ahead_written(struct uio_op *op, int rc)
{
	struct entry *e = op_entry(op);

	(void)rc;	/* logged by uidio.c; the core retries */
	if (dropped(e))
		return;
	serve(e);
}

static void admin_written(struct uio_op *op, int rc);

static enum served write_for(struct entry *e, const struct uid_write *w, uio_done_fn then)
{
	uio_writes(U.io, &e->op, &e->m, w, e->name, then);
	return STARTED;
}

static enum served serve_alloc(struct entry *e, struct pending *p)
{
	struct uid_write w = { 0 };
	uint32_t first = 0;
	int rc, use;

	/* One allocation in flight per mailbox: the next waits for the
	 * commit, so UIDs become visible in ascending order. */
	if (e->allocs)
		return WAITS;
	use = U.h.may_use(U.h.ctx);
	rc = uid_alloc(&e->m, &U.params, p->req.count, now_ns(), use, &first, &w);
	if (rc == UID_WAIT)
		/* no write: a copy is stuck (uidsvc_tick) */
		return w.count ? write_for(e, &w, request_written) : WAITS;
	if (rc < 0) {
		answer(p, rc == UID_EWRAP ? SDLM_EUIDWRAP : rc, NULL);
		return SERVED;
	}
	/* Checked again right before the UID leaves.  Refused: the range
	 * reserved ahead is not written either, and the core is told so
	 * (else it would wait for that write for ever). */
	use = U.h.may_use(U.h.ctx);
	if (use) {
		if (w.count)
			uid_write_gate(&e->m, use, &w);
		answer(p, use, NULL);
		return SERVED;
	}
	reply_alloc(e, p, first, p->req.count);
	if (w.count)
		uio_writes(U.io, &e->op, &e->m, &w, e->name, ahead_written);
	return SERVED;
}

static void settle_answer(struct entry *e, struct pending *p, int rc)
{
	if (rc == 0 && e->settle_was)
		log_notice("uid %s: provisional UIDs (above %u) settled by the rejoin repair, next %u, epoch %llu",
			   e->name, e->settle_base, e->m.um_next, (unsigned long long)e->m.um_epoch);
	else if (rc < 0)
		log_warn("uid %s: settle: %s", e->name, sdlm_strerror(rc));
	if (e->m.um_phase == UID_IDLE) {
		/* a failed settle sequence: take over afresh */
		answer(p, rc, NULL);
		give_up(e);
		return;
	}
	if (rc == 0) {
		struct res_uid r;

		res_now(e, &r);
		answer(p, 0, &r);
	} else {
		answer(p, rc, NULL);
	}
}

/* Raise next to the value asked (one reservation at a time), then settle
 * if asked. */
/* Raise next toward want, one reservation at a time: SERVED (answered:
 * an error), WAITS, STARTED (a write; served again after it), or -1:
 * next is at want or above. */
static int raise_toward(struct entry *e, struct pending *p, uint32_t want)
{
	struct uid_write w = { 0 };
	uint32_t first = 0;
	int rc;

	while (e->m.um_next && e->m.um_next < want) {
		uint32_t n = want - e->m.um_next;

		if (n > U.params.reserve_max)
			n = U.params.reserve_max;
		rc = uid_alloc(&e->m, &U.params, n, now_ns(), U.h.may_use(U.h.ctx), &first, &w);
		if (rc == UID_WAIT && !w.count)
			return WAITS;	/* stuck: resumes after the reap */
		if (w.count)
			return write_for(e, &w, request_written);
		if (rc < 0) {
			answer(p, rc == UID_EWRAP ? SDLM_EUIDWRAP : rc, NULL);
			return SERVED;
		}
	}
	return -1;
}

static enum served serve_raise(struct entry *e, struct pending *p)
{
	struct uid_write w = { 0 };
	struct res_uid r;
	int rc;

	if (p->req.count == SDLM_UID_RAISE_SETTLE && U.degraded) {
		answer(p, -EBUSY, NULL);
		return SERVED;
	}
	rc = raise_toward(e, p, p->req.value);
	if (rc >= 0)
		return (enum served)rc;
	if (p->req.count == SDLM_UID_RAISE_SETTLE) {
		e->settle_base = e->m.um_prov_base;
		e->settle_was = e->m.um_prov;
		rc = uid_settle(&e->m, &U.params, p->req.alloc_id, &w);
		if (rc == UID_WAIT && w.count)
			return write_for(e, &w, admin_written);
		settle_answer(e, p, rc < 0 ? rc : 0);
		return SERVED;
	}
	res_now(e, &r);
	answer(p, 0, &r);
	return SERVED;
}

/* An import of a mailbox this node holds (a record exists): the same
 * UIDVALIDITY only raises, never lowers (uid_import_plan). */
static enum served serve_import(struct entry *e, struct pending *p)
{
	struct uid_slot_view v = { .kind = UID_SLOT_USED,
				   .uidvalidity = e->m.um_uidvalidity };
	struct uid_import_plan pl;
	struct res_uid r;
	int rc;

	if (U.degraded) {
		answer(p, -EBUSY, NULL);
		return SERVED;
	}
	rc = import_plan(e, p, 0, &v, &pl);
	if (rc < 0) {
		log_warn("uid %s: import refused: the record has UIDVALIDITY %u, the store %u%s",
			 e->name, e->m.um_uidvalidity, p->req.value,
			 p->req.op_flags & SDLM_UID_IMPORT_RESTORE ?
			 " (a restore: the record has an intact copy)" : "");
		answer(p, rc, NULL);
		return SERVED;
	}
	if (!p->imp_seen && p->req.alloc_id > e->m.um_epoch + 1) {
		/* The store saw an epoch this record never handed out (its E
		 * above the holder's): an import sets the epoch only when it
		 * creates or restores; raising a live record's is not done
		 * here.  Said, not dropped. */
		log_warn("uid %s: import refused: the store's epoch %llu is above the record's %llu (a writer this record does not know: the store's epoch check refuses its deliveries; docs/imap.md)",
			 e->name, (unsigned long long)(p->req.alloc_id - 1),
			 (unsigned long long)e->m.um_epoch);
		answer(p, -ESTALE, NULL);
		return SERVED;
	}
	if (!p->imp_seen) {
		p->imp_seen = true;
		p->imp_from = e->m.um_next;
	}
	rc = raise_toward(e, p, pl.next);
	if (rc >= 0)
		return (enum served)rc;
	res_now(e, &r);
	r.flags = e->m.um_next != p->imp_from ? SDLM_UID_F_RAISED : 0;
	answer(p, 0, &r);
	return SERVED;
}

/* The end of a delete, rename or bump sequence (rc: how it went). */
static void admin_answer(struct entry *e, struct pending *p, int rc)
{
	struct res_uid r;

	res_now(e, &r);
	if (rc < 0) {
		answer(p, rc, NULL);
		return;
	}
	switch (p->req.op) {
	case SDLM_UID_DELETE:
		log_notice("uid %s: mailbox deleted (record reclaimed)", e->name);
		answer(p, 0, NULL);
		/* Nothing left to hold: give the lock back at once. */
		lsm_unlock(UIDSVC_CLIENT, e->lkid, 0, NULL);
		e->state = ENT_IDLE;
		e->lkid = 0;
		e->wanted = false;
		e->ho_stop = false;
		memset(&e->m, 0, sizeof(e->m));
		break;
	case SDLM_UID_RENAME:
		log_notice("uid %s: renamed", e->name);
		answer(p, 0, NULL);
		break;
	default:
		log_notice("uid %s: UIDVALIDITY bumped to %u", e->name, e->m.um_uidvalidity);
		answer(p, 0, &r);
		break;
	}
}

static void admin_written(struct uio_op *op, int rc)
{
	struct entry *e = op_entry(op);
	struct pending *p = e->cur;

	if (dropped(e))
		return;
	e->cur = NULL;
	if (p) {
		if (p->req.op == SDLM_UID_RAISE)
			settle_answer(e, p, rc);
		else
			admin_answer(e, p, rc);
		free(p);
	}
	serve(e);
}

static enum served serve_admin(struct entry *e, struct pending *p)
{
	struct uid_write w = { 0 };
	int rc;

	if (p->req.op != SDLM_UID_BUMP && U.degraded) {
		/* One copy only would change: wait for the rejoin. */
		answer(p, -EBUSY, NULL);
		return SERVED;
	}
	if (e->allocs)
		return WAITS;	/* after the allocations in flight */
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
		rc = uid_bump_uidvalidity(&e->m, &U.params, p->req.value, now_ns(), &w);
	}
	if (rc >= 0 && w.count)
		return write_for(e, &w, admin_written);
	admin_answer(e, p, rc < 0 ? rc : 0);
	return SERVED;
}

/* One request against a READY entry. */
static enum served serve_one(struct entry *e, struct pending *p)
{
	/* A timed-out write may still land: nothing more until it is reaped
	 * (uidsvc_tick serves the queue again then). */
	if (e->m.um_stuck && !reap_stuck(e))
		return WAITS;
	switch (p->req.op) {
	case SDLM_UID_ALLOC:
		return serve_alloc(e, p);
	case SDLM_UID_RAISE:
		return serve_raise(e, p);
	case SDLM_UID_IMPORT:
		return serve_import(e, p);
	case SDLM_UID_DELETE:
	case SDLM_UID_RENAME:
	case SDLM_UID_BUMP:
		return serve_admin(e, p);
	}
	answer(p, -EINVAL, NULL);
	return SERVED;
}

/* Serve the queue in order while the core can (see core_ready) and no
 * operation runs. */
static void serve_queue(struct entry *e)
{
	struct pending *p;
	enum served s;

	while ((p = e->pend) && core_ready(e) && !busy(e) && !e->ho_stop) {
		s = serve_one(e, p);
		if (s == WAITS)
			break;
		e->pend = p->next;
		if (!e->pend)
			e->pend_tail = &e->pend;
		if (s == STARTED) {
			e->cur = p;
			break;
		}
		free(p);
	}
}

static void serve(struct entry *e)
{
	int rc;
	char name[40];

	if (e->unlock_wait || busy(e) || U.closing)
		return;		/* parked (uidsvc_tick), or its continuation serves */
	if (U.degraded) {
		if (!e->pend)
			return;
		if (U.deg_suspended) {
			fail_pending(e, SDLM_EDEGRADED);
			return;
		}
		if (!core_ready(e)) {
			/* first use, or a write sequence failed: take over
			 * again, once no write of the old one may land */
			if (e->m.um_stuck && !reap_stuck(e))
				return;
			deg_takeover(e);	/* deg_written serves */
			return;
		}
		serve_queue(e);
		if (!busy(e) && !core_ready(e) && e->pend)
			serve(e);	/* a sequence failed: take over again */
		return;
	}
	if (e->state == ENT_IDLE && e->pend) {
		e->state = ENT_LOCKING;
		lock_name(e, name);
		/* The request timeline (docs/performance.md): only where the
		 * node must ask the cluster, never on the cached path.  Before
		 * the call: its grant may be delivered within it. */
		log_debug("uid %s: not held here: requesting lock %s for client %u",
			  e->name, name, e->pend->client);
		rc = lock_ex(e, name, strlen(name));
		if (rc < 0) {
			e->state = ENT_IDLE;
			fail_pending(e, rc);
		}
		return;		/* the grant (maybe already delivered) continues */
	}
	if (e->state != ENT_READY)
		return;
	serve_queue(e);
	if (e->state == ENT_READY)
		maybe_release(e);
}

static struct alloc *alloc_take(uint64_t id, uint32_t client, struct entry **ep)
{
	struct entry *e = entry_by_id(id >> 32);
	struct alloc **pp, *a;

	if (!e)
		return NULL;
	for (pp = &e->allocs; (a = *pp); pp = &a->next)
		if (a->id == id && a->client == client) {
			*pp = a->next;
			*ep = e;
			return a;
		}
	return NULL;
}

static bool alloc_expired(uint64_t id)
{
	struct entry *e = entry_by_id(id >> 32);
	unsigned i;

	if (!e)
		return false;
	for (i = 0; i < EXPIRED_KEEP; i++)
		if (e->expired[i] == id)
			return true;
	return false;
}

/* Abort the allocations of e older than the lease.  True if any was. */
static bool expire_allocs(struct entry *e, uint64_t now)
{
	uint64_t lease = U.h.alloc_lease_ms * 1000000ull;
	struct alloc **pp, *a;
	bool any = false;

	if (!lease)
		return false;
	for (pp = &e->allocs; (a = *pp);) {
		if (now - a->t_ns < lease) {
			pp = &a->next;
			continue;
		}
		log_warn("uid %s: allocation of UIDs %u..%u by client %u not committed within uid_alloc_lease_s (%llu s): aborted, its UIDs are a gap; its commit will fail",
			 e->name, a->first, a->first + a->count - 1, a->client,
			 (unsigned long long)(U.h.alloc_lease_ms / 1000));
		e->expired[e->expired_next++ % EXPIRED_KEEP] = a->id;
		*pp = a->next;
		free(a);
		any = true;
	}
	return any;
}

/* `uid show`: a lookup of its own (it needs no entry, and an entry's
 * operation may be running); answered from the disk and, when this node
 * holds the mailbox, from its core. */
struct show_op {
	struct uio_op op;
	uint32_t client, seq;
	char ls[SDLM_NAME_MAX + 1];
	uint8_t guid[UID_GUID_LEN];
};

static void show_looked(struct uio_op *op, int rc)
{
	struct show_op *s = (struct show_op *)((char *)op - offsetof(struct show_op, op));
	struct entry *e = entry_find(s->ls, s->guid, false);
	const struct uid_slot_view *v = &op->v;
	struct res_uid r;

	memset(&r, 0, sizeof(r));
	memcpy(r.guid, s->guid, UID_GUID_LEN);
	if (rc == 0) {
		/* another lockspace's mailbox is not shown (review s24 F2) */
		uint8_t tag[UIDREC_LSTAG_LEN];

		if (uid_lstag(s->ls, tag) < 0 || uid_lstag_check(v, tag) == UID_LSTAG_OTHER) {
			reply(s->client, s->seq, SDLM_EOTHERLS, NULL);
			free(s);
			return;
		}
	}
	if (rc < 0 && !(e && core_ready(e))) {
		reply(s->client, s->seq, rc, NULL);
		free(s);
		return;
	}
	if (rc == 0) {
		r.uidvalidity = v->uidvalidity;
		r.watermark = v->watermark;
		r.epoch = v->epoch;
		r.flags = v->provisional ? SDLM_UID_F_PROVISIONAL : 0;
		r.prov_base = v->prov_base;
	}
	if (e && core_ready(e)) {
		r.held = 1;
		r.next = e->m.um_next;
		r.epoch = e->m.um_epoch;
		r.uidvalidity = e->m.um_uidvalidity;
		r.flags = e->m.um_prov ? SDLM_UID_F_PROVISIONAL : 0;
		r.prov_base = e->m.um_prov_base;
	}
	reply(s->client, s->seq, 0, &r);
	free(s);
}

static void show(uint32_t client, uint32_t seq, const char *ls, const uint8_t *guid,
		 const char *key)
{
	struct show_op *s = calloc(1, sizeof(*s));

	if (!s) {
		reply(client, seq, -ENOMEM, NULL);
		return;
	}
	s->client = client;
	s->seq = seq;
	snprintf(s->ls, sizeof(s->ls), "%s", ls);
	memcpy(s->guid, guid, UID_GUID_LEN);
	uio_lookup(U.io, &s->op, ls, guid, key, "", show_looked);
}

/*
 * SDLM_UID_CANCEL: the call with sequence number gave_up of this client
 * gave up (SDLM_ESLOW) and its caller may read nothing more.  Queued: it
 * is answered SDLM_ECANCELED now.  Being served: its answer is dropped,
 * and an allocation it makes is a gap (reply_alloc).  Answered with an
 * allocation not committed yet: the allocation is aborted.  Either way the
 * mailbox is not held for a caller that left.  Returns 0, or -ENOENT when
 * nothing of that call is left (it was committed, or never came).
 */
static int cancel_call(uint32_t client, uint32_t gave_up)
{
	struct pending **qq, *p;
	struct alloc **pp, *a;
	struct entry *e;
	bool found = false, hit;
	unsigned b;

	for (b = 0; b < NBUCKET; b++)
		for (e = U.bucket[b]; e; e = e->next) {
			hit = false;
			for (pp = &e->allocs; (a = *pp);) {
				if (a->client == client && a->seq == gave_up) {
					log_info("uid %s: client %u gave the call up: UIDs %u..%u aborted (a gap)",
						 e->name, client, a->first, a->first + a->count - 1);
					*pp = a->next;
					free(a);
					hit = true;
				} else {
					pp = &a->next;
				}
			}
			if (e->cur && e->cur->client == client && e->cur->seq == gave_up &&
			    !e->cur->gone) {
				answer(e->cur, SDLM_ECANCELED, NULL);
				hit = true;
			}
			for (qq = &e->pend; (p = *qq);) {
				if (p->client == client && p->seq == gave_up) {
					*qq = p->next;
					answer(p, SDLM_ECANCELED, NULL);
					free(p);
					hit = true;
				} else {
					qq = &p->next;
				}
			}
			if (!hit)
				continue;
			found = true;
			for (e->pend_tail = &e->pend; *e->pend_tail; e->pend_tail = &(*e->pend_tail)->next)
				;
			if (e->pend && core_ready(e))
				serve(e);
			maybe_release(e);
		}
	return found ? 0 : -ENOENT;
}

void uidsvc_request(uint32_t client, uint32_t seq, const struct req_uid *req)
{
	char ls[SDLM_NAME_MAX + 1], mb[UIDREC_NAME_MAX + 1];
	uint8_t guid[UID_GUID_LEN];
	struct pending *p;
	struct entry *e;
	struct alloc *a;
	bool named;
	int rc;

	if (!U.on) {
		reply(client, seq, -ENOTSUP, NULL);
		return;
	}
	if (U.leaving) {
		reply(client, seq, SDLM_EDAEMON, NULL);
		return;
	}
	if (req->op == SDLM_UID_CANCEL) {
		reply(client, seq, cancel_call(client, (uint32_t)req->alloc_id), NULL);
		return;
	}
	if (req->op == SDLM_UID_COMMIT || req->op == SDLM_UID_ABORT) {
		a = alloc_take(req->alloc_id, client, &e);
		if (!a) {
			reply(client, seq,
				alloc_expired(req->alloc_id) ? SDLM_EEXPIRED : -ENOENT, NULL);
			return;
		}
		free(a);
		reply(client, seq, 0, NULL);
		if (e->pend)
			serve(e);
		maybe_release(e);
		return;
	}
	if (!req->ls_len || req->ls_len > SDLM_NAME_MAX || !req->mb_len ||
	    req->mb_len > UIDREC_NAME_MAX) {
		reply(client, seq, -EINVAL, NULL);
		return;
	}
	memcpy(ls, req->ls, req->ls_len);
	ls[req->ls_len] = '\0';
	memcpy(mb, req->mailbox, req->mb_len);
	mb[req->mb_len] = '\0';
	if (strlen(ls) != req->ls_len || strlen(mb) != req->mb_len) {
		reply(client, seq, -EINVAL, NULL);
		return;
	}
	rc = mailbox_guid(ls, mb, req->mb_len, guid);
	if (rc < 0) {
		reply(client, seq, rc, NULL);
		return;
	}
	named = rc == 1;
	if (req->op == SDLM_UID_SHOW) {
		show(client, seq, ls, guid, named ? mb : NULL);
		return;
	}
	if ((req->op == SDLM_UID_ALLOC && (req->count == 0 || req->count > U.params.reserve_max)) ||
	    req->op > SDLM_UID_IMPORT || req->op < SDLM_UID_ALLOC) {
		reply(client, seq, -EINVAL, NULL);
		return;
	}
	if (req->op == SDLM_UID_IMPORT && req->alloc_id > SDLM_UID_IMPORT_EPOCH_MAX) {
		/* the store's E + 1, which the mail user can write: a floor
		 * near 2^63 would leave the mailbox's epochs no room */
		log_warn("uid %s: import refused: the store's epoch floor %llu is above the limit %llu (2^48; docs/uid.md, damaged records)",
			 mb, (unsigned long long)req->alloc_id,
			 (unsigned long long)SDLM_UID_IMPORT_EPOCH_MAX);
		reply(client, seq, -ERANGE, NULL);
		return;
	}
	if (req->op == SDLM_UID_IMPORT && U.degraded) {
		/* one copy of the store only: adopt after the rejoin */
		reply(client, seq, -EBUSY, NULL);
		return;
	}
	e = entry_find(ls, guid, true);
	p = calloc(1, sizeof(*p));
	if (!e || !p) {
		free(p);
		reply(client, seq, -ENOMEM, NULL);
		return;
	}
	p->t_ns = now_ns();
	if (!e->name[0])
		snprintf(e->name, sizeof(e->name), "%s", mb);
	if (named && !e->key[0])
		snprintf(e->key, sizeof(e->key), "%s", mb);
	p->client = client;
	p->seq = seq;
	p->req = *req;
	*e->pend_tail = p;
	e->pend_tail = &p->next;
	serve(e);
}

void uidsvc_client_gone(uint32_t client)
{
	struct entry *e;
	struct alloc **pp, *a;
	struct pending **qq, *p;
	unsigned b;

	for (b = 0; b < NBUCKET; b++)
		for (e = U.bucket[b]; e; e = e->next) {
			for (pp = &e->allocs; (a = *pp);) {
				if (a->client == client) {
					log_info("uid %s: client %u died: UIDs %u..%u aborted (a gap)",
						 e->name, client, a->first, a->first + a->count - 1);
					*pp = a->next;
					free(a);
				} else {
					pp = &a->next;
				}
			}
			/* the request an operation serves: not answered */
			if (e->cur && e->cur->client == client)
				e->cur->gone = true;
			for (qq = &e->pend; (p = *qq);) {
				if (p->client == client) {
					*qq = p->next;
					free(p);
				} else {
					qq = &p->next;
				}
			}
			for (e->pend_tail = &e->pend; *e->pend_tail; e->pend_tail = &(*e->pend_tail)->next)
				;
			if (e->pend && core_ready(e))
				serve(e);
			maybe_release(e);
		}
}

void uidsvc_stop_all(void)
{
	struct alloc *kill_list = NULL;
	struct entry *e;
	unsigned b;

	for (b = 0; b < NBUCKET; b++)
		for (e = U.bucket[b]; e; e = e->next) {
			stop_clients(e, SDLM_EFENCED, &kill_list);
			/* A lock that survived (another lockspace) is given
			 * back, once no record write of it may still land
			 * (with an operation in flight: when it ends); one
			 * already revoked answers -ENOENT. */
			e->deg = false;
			give_up(e);
		}
	kill_allocs(kill_list);
}

void uidsvc_leave(void)
{
	U.leaving = true;
	uidsvc_stop_all();
}

bool uidsvc_quiet(void)
{
	struct entry *e;
	unsigned b;

	if (!U.on)
		return true;
	for (b = 0; b < NBUCKET; b++)
		for (e = U.bucket[b]; e; e = e->next)
			if (busy(e) || e->unlock_wait || e->m.um_stuck)
				return false;
	return uio_idle(U.io);
}

static int host_may_use(void *ctx)
{
	(void)ctx;
	return U.h.may_use(U.h.ctx);
}

static void host_kick(void *ctx)
{
	(void)ctx;
	if (U.h.kick)
		U.h.kick(U.h.ctx);
}

int uidsvc_init(const struct uidsvc_host *host, struct area *a)
{
	int rc;

	memset(&U, 0, sizeof(U));
	U.h = *host;
	U.a = a;
	U.nslots = uidtab_nslots(&a->hdr);	/* table 0; uio finds the rest */
	uid_params_default(&U.params);
	if (host->reserve_min)
		U.params.reserve_min = host->reserve_min;
	if (host->reserve_max)
		U.params.reserve_max = host->reserve_max;
	if (uid_params_check(&U.params) < 0)
		return -EINVAL;
	if (U.nslots == 0)
		return -ENOTSUP;
	rc = uio_create(&U.io, a, host_may_use, host_kick, NULL);
	if (rc < 0)
		return rc;
	U.on = true;
	if (a->hdr.flags & SDLM_HDR_F_UID_SEGLOCK)
		log_info("uid: new mailboxes are created under the UID table's segment locks only (the area is marked UID_SEGLOCK)");
	else
		log_info("uid: new mailboxes are created under the UID table's segment locks and the older table locks (uid-table in the lockspace and in %s: a node of an older release may share the area; 'sdlmctl uid segments --enable' once every node runs this one)",
			 UIDSVC_TABLE_LS);
	return 0;
}

/*
 * The continuations of operations still in flight run inside uio_destroy
 * (they need the entries): nothing is answered any more (the IPC is
 * closed), and each gives its mailbox up as after a failed write.
 */
void uidsvc_fini(void)
{
	struct entry *e, *n;
	struct pending *p;
	struct alloc *a;
	unsigned b;

	U.closing = true;
	if (U.io)
		uio_destroy(U.io, 2 * U.a->hdr.io_timeout_ms);
	U.io = NULL;
	for (b = 0; b < NBUCKET; b++)
		for (e = U.bucket[b]; e; e = n) {
			n = e->next;
			while ((p = e->pend)) {
				e->pend = p->next;
				free(p);
			}
			free(e->cur);
			while ((a = e->allocs)) {
				e->allocs = a->next;
				free(a);
			}
			free(e);
		}
	memset(&U, 0, sizeof(U));
}

static const char *ent_word(const struct entry *e)
{
	if (U.degraded)
		return e->deg ? "degraded" : "idle";
	return e->state == ENT_READY ? "held" : e->state == ENT_IDLE ? "idle" : "locking";
}

void uidsvc_render(struct sbuf *b, bool json)
{
	struct entry *e;
	struct alloc *a;
	unsigned k;
	bool first = true;

	if (json)
		sb_printf(b, "{\"mailboxes\":[");
	else
		sb_printf(b, "lockspace        mailbox                          state    uidvalidity  next        epoch  uncommitted\n");
	for (k = 0; k < NBUCKET; k++)
		for (e = U.bucket[k]; e; e = e->next) {
			unsigned n = 0;

			for (a = e->allocs; a; a = a->next)
				n++;
			if (json) {
				sb_printf(b, "%s{\"lockspace\":", first ? "" : ",");
				sb_json_str(b, e->ls);
				sb_printf(b, ",\"mailbox\":");
				sb_json_str(b, e->name);
				sb_printf(b, ",\"state\":\"%s\",\"uidvalidity\":%u,\"next\":%u,\"epoch\":%llu,\"uncommitted\":%u,\"provisional\":%s,\"prov_base\":%u}",
					  ent_word(e), e->m.um_uidvalidity, e->m.um_next,
					  (unsigned long long)e->m.um_epoch, n,
					  e->m.um_prov ? "true" : "false", e->m.um_prov_base);
			} else {
				sb_printf(b, "%-16s %-32.32s %-8s %-12u %-11u %-6llu %u%s\n", e->ls, e->name,
					  ent_word(e), e->m.um_uidvalidity, e->m.um_next,
					  (unsigned long long)e->m.um_epoch, n,
					  e->m.um_prov ? "  PROVISIONAL" : "");
			}
			first = false;
		}
	if (json)
		sb_printf(b, "]}\n");
}

void uidsvc_apply_fault(const char *spec)
{
	if (U.io)
		uio_apply_fault(U.io, spec);
}

/* The aio eventfd is readable or a deadline passed: one bounded turn. */
void uidsvc_process(void)
{
	if (U.io)
		uio_process(U.io, now_ns());
}

uint64_t uidsvc_next_deadline_ns(void)
{
	return U.io ? uio_next_deadline_ns(U.io) : UINT64_MAX;
}

int uidsvc_fd(void)
{
	return U.io ? uio_fd(U.io) : -1;
}

/*
 * Every heartbeat interval: allocations past their lease are aborted;
 * timed-out writes that left the kernel are reported to their cores;
 * parked locks are given back; queues that waited for a stuck copy and
 * releases that waited for the disk go on.  An entry whose operation is
 * in flight is left to its continuation.
 */
void uidsvc_tick(void)
{
	struct entry *e;
	uint64_t now;
	unsigned b;

	if (!U.on)
		return;
	uio_process(U.io, now_ns());
	now = now_ns();
	for (b = 0; b < NBUCKET; b++)
		for (e = U.bucket[b]; e; e = e->next) {
			if (e->allocs && expire_allocs(e, now)) {
				if (e->pend)
					serve(e);
				maybe_release(e);
			}
			if (busy(e))
				continue;
			if (e->m.um_stuck && !reap_stuck(e))
				continue;
			if (e->unlock_wait) {
				give_up(e);
				if (e->pend && !e->unlock_wait)
					serve(e);
				continue;
			}
			if (e->pend && core_ready(e))
				serve(e);
			if (e->release_waits)
				maybe_release(e);
		}
}

void uidsvc_get_stats(struct uidsvc_stats *st)
{
	*st = U.st;
	st->record_writes = U.io ? uio_record_writes(U.io) : 0;
	if (U.io) {
		st->table_slots = uidtab_geom_total(uio_geom(U.io));
		st->table_tables = uio_geom(U.io)->ntables;
	}
}

/* --- degraded mode ----------------------------------------------------------- */

/*
 * An allocation not committed, an operation running, or a record write
 * that timed out and may still land (uid.h: its core is not dropped nor
 * its lock given back until the write is reaped).
 */
static bool any_alloc_in_flight(void)
{
	struct entry *e;
	unsigned b;

	for (b = 0; b < NBUCKET; b++)
		for (e = U.bucket[b]; e; e = e->next) {
			if (e->allocs || busy(e))
				return true;
			if (e->unlock_wait || (e->m.um_stuck && !reap_stuck(e))) {
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
	struct entry *e;
	unsigned b;

	if (!U.on)
		return -ENOTSUP;
	if (on == U.degraded) {
		if (on && U.deg_suspended) {
			log_err("uid: DEGRADED MODE RESUMED by an operator (was suspended: %s)",
				sdlm_strerror(U.deg_suspended));
			U.deg_suspended = 0;
			U.deg_blocker = 0;
		}
		return 0;
	}
	if (any_alloc_in_flight())
		return -EBUSY;
	for (b = 0; b < NBUCKET; b++)
		for (e = U.bucket[b]; e; e = e->next) {
			if (on) {
				/* A normal holding: taken over again, marked,
				 * by the first request (the lock stays ours). */
				if (e->state == ENT_READY)
					core_drop(e);
				continue;
			}
			if (e->deg)
				core_drop(e);
			if (e->state == ENT_READY) {
				/* No LVB: the next holder resumes from the disk. */
				lsm_unlock(UIDSVC_CLIENT, e->lkid, 0, NULL);
				e->state = ENT_IDLE;
				e->lkid = 0;
				e->wanted = false;
				e->ho_stop = false;
			}
		}
	U.degraded = on;
	U.params.provisional = on;
	U.deg_suspended = 0;
	U.deg_blocker = 0;
	if (on) {
		U.deg_since_ms = clock_realtime_ms();
		U.deg_allocs = 0;
		log_err("uid: DEGRADED MODE ENTERED by an operator: UIDs are handed out WITHOUT the cluster, on this copy of the storage only, and are PROVISIONAL until a rejoin repair");
	} else {
		log_err("uid: degraded mode LEFT by an operator after %llu provisional UIDs: mailboxes keep their provisional mark until the rejoin repair settles them",
			(unsigned long long)U.deg_allocs);
	}
	/* requests that waited for a lock before the change */
	for (b = 0; b < NBUCKET; b++)
		for (e = U.bucket[b]; e; e = e->next)
			if (e->pend && (on || e->state == ENT_IDLE))
				serve(e);
	return 0;
}

bool uidsvc_degraded(int *suspended)
{
	if (suspended)
		*suspended = U.deg_suspended;
	return U.degraded;
}

void uidsvc_degraded_suspend(int reason, uint32_t node)
{
	struct entry *e;
	unsigned b;

	if (!U.degraded || U.deg_suspended)
		return;
	U.deg_suspended = reason;
	U.deg_blocker = node;
	if (node)
		log_err("uid: DEGRADED MODE SUSPENDED: %s (node %u): no more UIDs until an operator enables or leaves degraded mode",
			sdlm_strerror(reason), node);
	else
		log_err("uid: DEGRADED MODE SUSPENDED: %s: no more UIDs until an operator enables or leaves degraded mode",
			sdlm_strerror(reason));
	for (b = 0; b < NBUCKET; b++)
		for (e = U.bucket[b]; e; e = e->next)
			fail_pending(e, SDLM_EDEGRADED);
}

/* The mode and the mailboxes this daemon marked provisional. */
void uidsvc_degraded_render(struct sbuf *b, bool json)
{
	struct entry *e;
	unsigned k;
	bool first = true;
	const char *state = !U.degraded ? "off" : U.deg_suspended ? "suspended" : "on";

	if (json) {
		sb_printf(b, "{\"degraded\":\"%s\",\"reason\":", state);
		sb_json_str(b, U.deg_suspended ? sdlm_strerror(U.deg_suspended) : "");
		sb_printf(b, ",\"blocker\":%u,\"since_ms\":%llu,\"provisional_uids\":%llu,\"mailboxes\":[",
			  U.deg_blocker, (unsigned long long)(U.degraded ? U.deg_since_ms : 0),
			  (unsigned long long)U.deg_allocs);
	} else {
		sb_printf(b, "degraded     %s", state);
		if (U.deg_suspended)
			sb_printf(b, " (%s%s)", sdlm_strerror(U.deg_suspended),
				  U.deg_blocker ? ", see the node below" : "");
		sb_printf(b, "\n");
		if (U.deg_blocker)
			sb_printf(b, "blocker      node %u\n", U.deg_blocker);
		if (U.degraded)
			sb_printf(b, "provisional  %llu UIDs handed out in degraded mode\n",
				  (unsigned long long)U.deg_allocs);
	}
	for (k = 0; k < NBUCKET; k++)
		for (e = U.bucket[k]; e; e = e->next) {
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
