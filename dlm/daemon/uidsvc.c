/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidsvc.c - the UID service (see uidsvc.h and docs/uid.md); its parts
 * and what they share: uidsvc_int.h.
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
 * The table locks serialise the creators of new mailboxes (uidlocks.c
 * says how).
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
 * entry, each step a continuation (uidtake.c's takeover_looked,
 * uidserve.c's request_written...).  While an entry's operation is in
 * flight (uidsvc_busy()), only its continuation touches the core: new
 * requests queue, a blocking callback or a commit only marks what to do,
 * and a stop (a lost lock, a pill, a revocation) answers and kills the
 * clients at once but leaves the mailbox to the continuation (e->drop),
 * which gives it up once the core knows how the I/O ended.  A UID leaves
 * only after may_use() said yes right before the reply: lease valid, no
 * pill.
 *
 * A record write that timed out is still in flight until the context
 * reaps it (it may land after anything written later: issue 13, hole 1).
 * Until then the core refuses to write that copy again and to release,
 * and the service never unlocks the mailbox (nor the table lock of a
 * create): a failed sequence with a write stuck parks the entry with
 * e->unlock_wait set, and uidsvc_tick, once that write has left the
 * kernel (its own signal: uio_write_out), reports it reaped to the core,
 * gives parked locks back (no LVB: the next holder reads the disk) and
 * serves what waited.
 *
 * Degraded mode, for split storage on an operator's word, takes mailboxes
 * over without the cluster lock (uiddeg.c says how).
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
#include "log.h"
#include "clock.h"
#include "area.h"
#include "crc32c.h"
#include "lockspace.h"
#include "uidsvc_int.h"

#define UIDSVC_HO_LOCKS	64	/* holders of one cluster lock looked at */

struct uidsvc_state uidsvc;

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
	return crc32c(crc32c(0, ls, strlen(ls)), guid, UID_GUID_LEN) % UIDSVC_NBUCKET;
}

static struct uidsvc_entry *entry_find(const char *ls, const uint8_t *guid, bool create)
{
	unsigned b = bucket_of(ls, guid);
	struct uidsvc_entry *e;

	for (e = uidsvc.bucket[b]; e; e = e->next)
		if (!strcmp(e->ls, ls) && !memcmp(e->guid, guid, UID_GUID_LEN))
			return e;
	if (!create)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->id = ++uidsvc.next_entry_id;
	snprintf(e->ls, sizeof(e->ls), "%s", ls);
	memcpy(e->guid, guid, UID_GUID_LEN);
	if (uid_lstag(e->ls, e->lstag) < 0)
		e->lstag[0] = 1;	/* no empty lockspace reaches here */
	e->pend_tail = &e->pend;
	e->next = uidsvc.bucket[b];
	uidsvc.bucket[b] = e;
	e->idnext = uidsvc.byid[e->id % UIDSVC_NBUCKET];
	uidsvc.byid[e->id % UIDSVC_NBUCKET] = e;
	return e;
}

static struct uidsvc_entry *entry_by_id(uint64_t id)
{
	struct uidsvc_entry *e;

	for (e = uidsvc.byid[id % UIDSVC_NBUCKET]; e; e = e->idnext)
		if (e->id == id)
			return e;
	return NULL;
}

/* --- answers ------------------------------------------------------------- */

static void reply(uint32_t client, uint32_t seq, int err, const struct res_uid *r)
{
	if (!uidsvc.closing)
		uidsvc.h.reply(uidsvc.h.ctx, client, seq, err, r);
}

/* Answer p, unless its client is gone or it was answered already. */
void uidsvc_answer(struct uidsvc_pending *p, int err, const struct res_uid *r)
{
	if (!p->gone)
		reply(p->client, p->seq, err, r);
	p->gone = true;
}

/* The request an operation served: answered, and forgotten. */
void uidsvc_answer_cur(struct uidsvc_entry *e, int err, const struct res_uid *r)
{
	struct uidsvc_pending *p = e->cur;

	if (!p)
		return;
	e->cur = NULL;
	uidsvc_answer(p, err, r);
	free(p);
}

/* Back at the head of the queue: the request is served again next. */
void uidsvc_requeue_cur(struct uidsvc_entry *e)
{
	struct uidsvc_pending *p = e->cur;

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
bool uidsvc_reap_stuck(struct uidsvc_entry *e)
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

void uidsvc_fail_pending(struct uidsvc_entry *e, int err)
{
	struct uidsvc_pending *p;

	while ((p = e->pend)) {
		e->pend = p->next;
		uidsvc_answer(p, err, NULL);
		free(p);
	}
	e->pend_tail = &e->pend;
}

/* Lock use ended under e (lost lock, pill, revocation): what waits is
 * answered err, the clients with an allocation in flight are killed. */
static void stop_clients(struct uidsvc_entry *e, int err, struct uidsvc_alloc **kill_list)
{
	struct uidsvc_alloc *a;

	while ((a = e->allocs)) {
		e->allocs = a->next;
		a->next = *kill_list;
		*kill_list = a;
	}
	uidsvc_fail_pending(e, err);
	if (e->cur)
		uidsvc_answer(e->cur, err, NULL);
}

/* Every client with an allocation in flight, however many: no cap on a
 * safety path (issue 13, hole 4). */
static void kill_allocs(struct uidsvc_alloc *kill_list)
{
	struct uidsvc_alloc *a;

	while ((a = kill_list)) {
		kill_list = a->next;
		uidsvc.h.kill_clients(uidsvc.h.ctx, &a->client, 1);
		free(a);
	}
}

/* --- holdings given up --------------------------------------------------- */

static void release(struct uidsvc_entry *e)
{
	uint8_t lvb[UID_LVB_LEN];
	int rc;

	/* A record write that timed out may still land: giving the lock
	 * away now would make it a late write of a live node.  Keep the
	 * mailbox until the kernel is done with it (uidsvc_tick retries). */
	if (e->m.um_stuck && !uidsvc_reap_stuck(e)) {
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
	e->state = UIDSVC_ENT_IDLE;
	e->lkid = 0;
	e->wanted = false;
	e->ho_stop = false;
	memset(&e->m, 0, sizeof(e->m));
	/* requests that arrived meanwhile: take the lock again */
	if (e->pend)
		uidsvc_serve(e);
}

/*
 * A write sequence failed (takeover, create, settle), or lock use
 * stopped: give the mailbox lock (and a create's table lock) back
 * without an LVB, unless a write of it may still land: then park the
 * entry (unlock_wait) until uidsvc_tick sees it reaped.  With an
 * operation in flight, its continuation gives up (e->drop).
 */
void uidsvc_give_up(struct uidsvc_entry *e)
{
	if (uidsvc_busy(e)) {
		/* no write of its chain is submitted from now on */
		e->drop = true;
		uio_stop(&e->op);
		return;
	}
	if (uid_busy(&e->m) && !uidsvc_reap_stuck(e)) {
		if (!e->unlock_wait)
			log_warn("uid %s: a record write timed out and may still land: keeping the mailbox lock until it has left the kernel",
				 e->name);
		e->unlock_wait = true;
		return;
	}
	e->unlock_wait = false;
	uidlocks_table_unlock(e);	/* and no request is waited for any more */
	if (e->lkid) {
		lsm_unlock(UIDSVC_CLIENT, e->lkid, 0, NULL);
		/* the same line as release(): where a holding ends */
		log_debug("uid %s: given up (next %u, epoch %llu)", e->name, e->m.um_next,
			  (unsigned long long)e->m.um_epoch);
	}
	e->lkid = 0;
	e->state = UIDSVC_ENT_IDLE;
	e->wanted = false;
	e->ho_stop = false;
	memset(&e->m, 0, sizeof(e->m));
}

/*
 * First thing in every continuation: lock use stopped (or the lock was
 * lost) while the operation ran.  Its clients were answered then; now
 * that the core knows how the I/O ended, give the mailbox up.
 */
bool uidsvc_dropped(struct uidsvc_entry *e)
{
	if (!e->drop)
		return false;
	e->drop = false;
	uidsvc_answer_cur(e, SDLM_EFENCED, NULL);
	e->deg = false;
	uidsvc_give_up(e);
	if (e->pend && !e->unlock_wait)
		uidsvc_serve(e);	/* came after the stop: they get its error */
	return true;
}

static void maybe_release(struct uidsvc_entry *e)
{
	if (uidsvc.degraded || e->unlock_wait || uidsvc_busy(e))
		return;		/* nothing is handed on in degraded mode */
	if (e->state == UIDSVC_ENT_READY && e->wanted && !e->allocs)
		release(e);
}

/* The core is ready to serve this entry (normal: the lock's takeover is
 * done; degraded: the degraded takeover is). */
bool uidsvc_core_ready(const struct uidsvc_entry *e)
{
	return uidsvc.degraded ? e->deg && e->m.um_phase == UID_READY
			       : e->state == UIDSVC_ENT_READY;
}

/* --- the internal lock's completions ------------------------------------- */

/* Lost the mailbox (or table) lock while an operation runs: answer and
 * stop the clients now, give the mailbox up when the operation ends. */
static void lost_while_busy(struct uidsvc_entry *e, uint64_t lkid, int err)
{
	struct uidsvc_alloc *kill_list = NULL;

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
	struct uidsvc_entry *e = entry_by_id(ref);

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
	} else if (lkid && lkid != e->lkid && !uidlocks_own_table_lkid(e, lkid)) {
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
	if (uidsvc.degraded &&
	    ((e->state == UIDSVC_ENT_LOCKING && !e->lkid) ||
	     (e->state == UIDSVC_ENT_TABLE && !e->tables_held))) {
		if (err && e->state == UIDSVC_ENT_LOCKING) {
			log_warn("uid %s: lock: %s (degraded mode)", e->name, sdlm_strerror(err));
			e->state = UIDSVC_ENT_IDLE;
			return;
		}
		if (e->state == UIDSVC_ENT_TABLE) {
			if (!err)
				lsm_unlock(UIDSVC_CLIENT, lkid, 0, NULL);
			uidlocks_table_unlock(e);	/* the lockspace's, if held */
		} else {
			e->lkid = lkid;
			e->lock_epoch = epoch;
		}
		e->state = UIDSVC_ENT_READY;
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
	if (!err && lkid != e->lkid && !uidlocks_own_table_lkid(e, lkid) &&
	    (uidsvc_busy(e) || (e->state != UIDSVC_ENT_LOCKING && e->state != UIDSVC_ENT_TABLE))) {
		log_info("uid %s: a lock request given up while queued was granted: released",
			 e->name);
		lsm_unlock(UIDSVC_CLIENT, lkid, 0, NULL);
		return;
	}
	if (uidsvc_busy(e)) {
		/* Every lock this entry waits for is granted before its
		 * operation starts: only a loss can come now. */
		if (!err || !lkid || (lkid != e->lkid && !uidlocks_own_table_lkid(e, lkid)))
			return;
		if (uidsvc.degraded && lkid == e->lkid) {
			/* the degraded core does not depend on it */
			log_warn("uid %s: mailbox lock lost (%s) in degraded mode", e->name,
				 sdlm_strerror(err));
			e->state = UIDSVC_ENT_IDLE;
			e->lkid = 0;
			return;
		}
		lost_while_busy(e, lkid, err);
		return;
	}
	if (uidsvc.degraded && e->state == UIDSVC_ENT_READY && err && lkid == e->lkid) {
		log_warn("uid %s: mailbox lock lost (%s) in degraded mode", e->name,
			 sdlm_strerror(err));
		e->state = UIDSVC_ENT_IDLE;
		e->lkid = 0;
		return;
	}
	if (e->state == UIDSVC_ENT_TABLE) {
		int rc = err;

		if (!rc) {
			/* the next table lock of the plan, or the create */
			uidlocks_table_granted(e, lkid);
			rc = uidlocks_table_next(e);
			if (rc == 0)
				return;	/* its grant (maybe delivered already) goes on */
			if (rc == 1) {
				uidtake_create(e);
				return;
			}
			log_warn("uid %s: a table lock: %s", e->name, sdlm_strerror(rc));
		}
		uidsvc_fail_pending(e, rc);
		uidlocks_table_unlock(e);
		lsm_unlock(UIDSVC_CLIENT, e->lkid, 0, NULL);
		e->state = UIDSVC_ENT_IDLE;
		e->lkid = 0;
		return;
	}
	if (e->state == UIDSVC_ENT_READY && err && lkid == e->lkid) {
		/* The mailbox lock was taken from us (this node fenced, or
		 * its locks revoked): hand out nothing more; the clients with
		 * an allocation in flight are stopped like every lock user. */
		struct uidsvc_alloc *kill_list = NULL;

		log_warn("uid %s: mailbox lock lost (%s): no more UIDs from this node",
			 e->name, sdlm_strerror(err));
		stop_clients(e, err, &kill_list);
		e->state = UIDSVC_ENT_IDLE;
		e->lkid = 0;
		e->wanted = false;
		e->ho_stop = false;
		memset(&e->m, 0, sizeof(e->m));
		kill_allocs(kill_list);
		return;
	}
	if (e->state != UIDSVC_ENT_LOCKING)
		return;
	if (err) {
		log_warn("uid %s: lock: %s", e->name, sdlm_strerror(err));
		uidsvc_fail_pending(e, err);
		e->state = UIDSVC_ENT_IDLE;
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
	uidtake_takeover(e);
}

void uidsvc_bast(uint64_t lkid, uint64_t ref, int mode)
{
	struct uidsvc_entry *e = entry_by_id(ref);

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
 * the lock has no holder left (hoedge.c hoedge_tick).
 */
static size_t ho_kill(struct uidsvc_entry *e)
{
	struct uidsvc_alloc *a;
	size_t n = 0;

	e->ho_stop = true;
	e->wanted = true;
	for (a = e->allocs; a; a = a->next) {
		log_warn("uid %s: asked for through the disk and not given up within K: killing client %u (UIDs %u..%u not committed: a gap once it is gone)",
			 e->name, a->client, a->first, a->first + a->count - 1);
		uidsvc.h.kill_clients(uidsvc.h.ctx, &a->client, 1);
		n++;
	}
	if (e->state == UIDSVC_ENT_READY) {
		maybe_release(e);
	} else if (!uidsvc_busy(e)) {
		log_warn("uid %s: asked for through the disk while waiting for a table lock: given back",
			 e->name);
		uidsvc_give_up(e);
		if (e->pend && !e->unlock_wait)
			uidsvc_serve(e);	/* it asks for the lock again */
	}
	return n;
}

/* The entry that holds our lock lkid (its mailbox's or a table lock). */
static struct uidsvc_entry *entry_by_lock(uint64_t lkid)
{
	struct uidsvc_entry *e;
	unsigned b;

	for (b = 0; b < UIDSVC_NBUCKET; b++)
		for (e = uidsvc.bucket[b]; e; e = e->next)
			if (e->lkid == lkid || uidlocks_own_table_lkid(e, lkid))
				return e;
	return NULL;
}

size_t uidsvc_ho_kill(uint64_t lkid)
{
	uint32_t cl[UIDSVC_HO_LOCKS];
	uint64_t ids[UIDSVC_HO_LOCKS];
	struct uidsvc_entry *e;
	size_t n, i, killed = 0;

	if (!uidsvc.on || uidsvc.degraded)
		return 0;	/* degraded: nothing is handed on */
	n = lsm_ho_locks(lkid, cl, ids, UIDSVC_HO_LOCKS);
	for (i = 0; i < n && i < UIDSVC_HO_LOCKS; i++)
		if (cl[i] == UIDSVC_CLIENT && ids[i] && (e = entry_by_lock(ids[i])))
			killed += ho_kill(e);
	return killed;
}

/* --- requests ------------------------------------------------------------ */

void uidsvc_serve(struct uidsvc_entry *e)
{
	int rc;
	char name[40];

	if (e->unlock_wait || uidsvc_busy(e) || uidsvc.closing)
		return;		/* parked (uidsvc_tick), or its continuation serves */
	if (uidsvc.degraded) {
		if (!e->pend)
			return;
		if (uidsvc.deg_suspended) {
			uidsvc_fail_pending(e, SDLM_EDEGRADED);
			return;
		}
		if (!uidsvc_core_ready(e)) {
			/* first use, or a write sequence failed: take over
			 * again, once no write of the old one may land */
			if (e->m.um_stuck && !uidsvc_reap_stuck(e))
				return;
			uiddeg_takeover(e);	/* deg_written serves */
			return;
		}
		uidserve_queue(e);
		if (!uidsvc_busy(e) && !uidsvc_core_ready(e) && e->pend)
			uidsvc_serve(e);	/* a sequence failed: take over again */
		return;
	}
	if (e->state == UIDSVC_ENT_IDLE && e->pend) {
		e->state = UIDSVC_ENT_LOCKING;
		uidlocks_lock_name(e, name);
		/* The request timeline (docs/performance.md): only where the
		 * node must ask the cluster, never on the cached path.  Before
		 * the call: its grant may be delivered within it. */
		log_debug("uid %s: not held here: requesting lock %s for client %u",
			  e->name, name, e->pend->client);
		rc = uidlocks_lock_ex(e, name, strlen(name));
		if (rc < 0) {
			e->state = UIDSVC_ENT_IDLE;
			uidsvc_fail_pending(e, rc);
		}
		return;		/* the grant (maybe already delivered) continues */
	}
	if (e->state != UIDSVC_ENT_READY)
		return;
	uidserve_queue(e);
	if (e->state == UIDSVC_ENT_READY)
		maybe_release(e);
}

static struct uidsvc_alloc *alloc_take(uint64_t id, uint32_t client, struct uidsvc_entry **ep)
{
	struct uidsvc_entry *e = entry_by_id(id >> 32);
	struct uidsvc_alloc **pp, *a;

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
	struct uidsvc_entry *e = entry_by_id(id >> 32);
	unsigned i;

	if (!e)
		return false;
	for (i = 0; i < UIDSVC_EXPIRED_KEEP; i++)
		if (e->expired[i] == id)
			return true;
	return false;
}

/* Abort the allocations of e older than the lease.  True if any was. */
static bool expire_allocs(struct uidsvc_entry *e, uint64_t now)
{
	uint64_t lease = uidsvc.h.alloc_lease_ms * 1000000ull;
	struct uidsvc_alloc **pp, *a;
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
			 (unsigned long long)(uidsvc.h.alloc_lease_ms / 1000));
		e->expired[e->expired_next++ % UIDSVC_EXPIRED_KEEP] = a->id;
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
	struct uidsvc_entry *e = entry_find(s->ls, s->guid, false);
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
	if (rc < 0 && !(e && uidsvc_core_ready(e))) {
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
	if (e && uidsvc_core_ready(e)) {
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
	uio_lookup(uidsvc.io, &s->op, ls, guid, key, "", show_looked);
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
	struct uidsvc_pending **qq, *p;
	struct uidsvc_alloc **pp, *a;
	struct uidsvc_entry *e;
	bool found = false, hit;
	unsigned b;

	for (b = 0; b < UIDSVC_NBUCKET; b++)
		for (e = uidsvc.bucket[b]; e; e = e->next) {
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
				uidsvc_answer(e->cur, SDLM_ECANCELED, NULL);
				hit = true;
			}
			for (qq = &e->pend; (p = *qq);) {
				if (p->client == client && p->seq == gave_up) {
					*qq = p->next;
					uidsvc_answer(p, SDLM_ECANCELED, NULL);
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
			if (e->pend && uidsvc_core_ready(e))
				uidsvc_serve(e);
			maybe_release(e);
		}
	return found ? 0 : -ENOENT;
}

void uidsvc_request(uint32_t client, uint32_t seq, const struct req_uid *req)
{
	char ls[SDLM_NAME_MAX + 1], mb[UIDREC_NAME_MAX + 1];
	uint8_t guid[UID_GUID_LEN];
	struct uidsvc_pending *p;
	struct uidsvc_entry *e;
	struct uidsvc_alloc *a;
	bool named;
	int rc;

	if (!uidsvc.on) {
		reply(client, seq, -ENOTSUP, NULL);
		return;
	}
	if (uidsvc.leaving) {
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
			uidsvc_serve(e);
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
	if ((req->op == SDLM_UID_ALLOC && (req->count == 0 || req->count > uidsvc.params.reserve_max)) ||
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
	if (req->op == SDLM_UID_IMPORT && uidsvc.degraded) {
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
	p->t_ns = uidsvc_now_ns();
	if (!e->name[0])
		snprintf(e->name, sizeof(e->name), "%s", mb);
	if (named && !e->key[0])
		snprintf(e->key, sizeof(e->key), "%s", mb);
	p->client = client;
	p->seq = seq;
	p->req = *req;
	*e->pend_tail = p;
	e->pend_tail = &p->next;
	uidsvc_serve(e);
}

void uidsvc_client_gone(uint32_t client)
{
	struct uidsvc_entry *e;
	struct uidsvc_alloc **pp, *a;
	struct uidsvc_pending **qq, *p;
	unsigned b;

	for (b = 0; b < UIDSVC_NBUCKET; b++)
		for (e = uidsvc.bucket[b]; e; e = e->next) {
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
			if (e->pend && uidsvc_core_ready(e))
				uidsvc_serve(e);
			maybe_release(e);
		}
}

/* --- stop, leave, start, shut down --------------------------------------- */

void uidsvc_stop_all(void)
{
	struct uidsvc_alloc *kill_list = NULL;
	struct uidsvc_entry *e;
	unsigned b;

	for (b = 0; b < UIDSVC_NBUCKET; b++)
		for (e = uidsvc.bucket[b]; e; e = e->next) {
			stop_clients(e, SDLM_EFENCED, &kill_list);
			/* A lock that survived (another lockspace) is given
			 * back, once no record write of it may still land
			 * (with an operation in flight: when it ends); one
			 * already revoked answers -ENOENT. */
			e->deg = false;
			uidsvc_give_up(e);
		}
	kill_allocs(kill_list);
}

void uidsvc_leave(void)
{
	uidsvc.leaving = true;
	uidsvc_stop_all();
}

bool uidsvc_quiet(void)
{
	struct uidsvc_entry *e;
	unsigned b;

	if (!uidsvc.on)
		return true;
	for (b = 0; b < UIDSVC_NBUCKET; b++)
		for (e = uidsvc.bucket[b]; e; e = e->next)
			if (uidsvc_busy(e) || e->unlock_wait || e->m.um_stuck)
				return false;
	return uio_idle(uidsvc.io);
}

static int host_may_use(void *ctx)
{
	(void)ctx;
	return uidsvc.h.may_use(uidsvc.h.ctx);
}

static void host_kick(void *ctx)
{
	(void)ctx;
	if (uidsvc.h.kick)
		uidsvc.h.kick(uidsvc.h.ctx);
}

int uidsvc_init(const struct uidsvc_host *host, struct area *a)
{
	int rc;

	memset(&uidsvc, 0, sizeof(uidsvc));
	uidsvc.h = *host;
	uidsvc.a = a;
	uidsvc.nslots = uidtab_nslots(&a->hdr);	/* table 0; uio finds the rest */
	uid_params_default(&uidsvc.params);
	if (host->reserve_min)
		uidsvc.params.reserve_min = host->reserve_min;
	if (host->reserve_max)
		uidsvc.params.reserve_max = host->reserve_max;
	if (uid_params_check(&uidsvc.params) < 0)
		return -EINVAL;
	if (uidsvc.nslots == 0)
		return -ENOTSUP;
	rc = uio_create(&uidsvc.io, a, host_may_use, host_kick, NULL);
	if (rc < 0)
		return rc;
	uidsvc.on = true;
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
	struct uidsvc_entry *e, *n;
	struct uidsvc_pending *p;
	struct uidsvc_alloc *a;
	unsigned b;

	uidsvc.closing = true;
	if (uidsvc.io)
		uio_destroy(uidsvc.io, 2 * uidsvc.a->hdr.io_timeout_ms);
	uidsvc.io = NULL;
	for (b = 0; b < UIDSVC_NBUCKET; b++)
		for (e = uidsvc.bucket[b]; e; e = n) {
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
	memset(&uidsvc, 0, sizeof(uidsvc));
}

/* --- status and the loop ------------------------------------------------- */

static const char *ent_word(const struct uidsvc_entry *e)
{
	if (uidsvc.degraded)
		return e->deg ? "degraded" : "idle";
	return e->state == UIDSVC_ENT_READY ? "held" : e->state == UIDSVC_ENT_IDLE ? "idle" : "locking";
}

void uidsvc_render(struct sbuf *b, bool json)
{
	struct uidsvc_entry *e;
	struct uidsvc_alloc *a;
	unsigned k;
	bool first = true;

	if (json)
		sb_printf(b, "{\"mailboxes\":[");
	else
		sb_printf(b, "lockspace        mailbox                          state    uidvalidity  next        epoch  uncommitted\n");
	for (k = 0; k < UIDSVC_NBUCKET; k++)
		for (e = uidsvc.bucket[k]; e; e = e->next) {
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
	if (uidsvc.io)
		uio_apply_fault(uidsvc.io, spec);
}

/* The aio eventfd is readable or a deadline passed: one bounded turn. */
void uidsvc_process(void)
{
	if (uidsvc.io)
		uio_process(uidsvc.io, uidsvc_now_ns());
}

uint64_t uidsvc_next_deadline_ns(void)
{
	return uidsvc.io ? uio_next_deadline_ns(uidsvc.io) : UINT64_MAX;
}

int uidsvc_fd(void)
{
	return uidsvc.io ? uio_fd(uidsvc.io) : -1;
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
	struct uidsvc_entry *e;
	uint64_t now;
	unsigned b;

	if (!uidsvc.on)
		return;
	uio_process(uidsvc.io, uidsvc_now_ns());
	now = uidsvc_now_ns();
	for (b = 0; b < UIDSVC_NBUCKET; b++)
		for (e = uidsvc.bucket[b]; e; e = e->next) {
			if (e->allocs && expire_allocs(e, now)) {
				if (e->pend)
					uidsvc_serve(e);
				maybe_release(e);
			}
			if (uidsvc_busy(e))
				continue;
			if (e->m.um_stuck && !uidsvc_reap_stuck(e))
				continue;
			if (e->unlock_wait) {
				uidsvc_give_up(e);
				if (e->pend && !e->unlock_wait)
					uidsvc_serve(e);
				continue;
			}
			if (e->pend && uidsvc_core_ready(e))
				uidsvc_serve(e);
			if (e->release_waits)
				maybe_release(e);
		}
}

void uidsvc_get_stats(struct uidsvc_stats *st)
{
	*st = uidsvc.st;
	st->record_writes = uidsvc.io ? uio_record_writes(uidsvc.io) : 0;
	if (uidsvc.io) {
		st->table_slots = uidtab_geom_total(uio_geom(uidsvc.io));
		st->table_tables = uio_geom(uidsvc.io)->ntables;
	}
}
