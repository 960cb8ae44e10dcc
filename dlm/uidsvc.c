/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidsvc.c - the UID service (see uidsvc.h and docs/uid.md).
 *
 * Per (lockspace, mailbox GUID) one entry:
 *
 *   IDLE --request--> LOCKING  (EX on "uid:<guid>" as the internal client)
 *   LOCKING --grant--> take over: probe the table for the GUID, read both
 *       copies, uid_takeover() (or uid_create() under the "uid-table" EX
 *       lock when the mailbox is new: TABLE) and write the records
 *       --> READY
 *   READY: allocations are served from the reserved range with no I/O;
 *       a reservation write when the range runs out.  The EX lock stays
 *       held (that is the cache) until another node asks for it.
 *   READY --blocking, and no allocation left uncommitted--> uid_release()
 *       puts the next UID in the LVB; unlock --> IDLE
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
 * (docs/imap.md).
 *
 * Disk I/O here is synchronous, on its own aio context (never re-entering
 * the heartbeat engine's callbacks): it happens at takeover and once per
 * reserved range, never per UID.  A UID leaves only after may_use() said
 * yes right before the reply: lease valid, no pill.
 *
 * A record write that timed out is still in flight until the context
 * reaps it (it may land after anything written later: issue 13, hole 1).
 * Until then the core refuses to write that copy again and to release,
 * and this file never unlocks the mailbox (nor the table lock of a
 * create): a failed sequence with a write stuck parks the entry with
 * e->unlock_wait set, and uidsvc_tick, once the context is idle, reports
 * the write reaped to the core, gives parked locks back (no LVB: the
 * next holder reads the disk) and serves what waited.
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
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sdlm.h"
#include "sdlm_ipc.h"
#include "log.h"
#include "aio.h"
#include "area.h"
#include "crc32c.h"
#include "uidrec.h"
#include "uid.h"
#include "lockspace.h"
#include "uidsvc.h"

enum ent_state {
	ENT_IDLE	= 0,
	ENT_LOCKING	= 1,	/* mailbox EX requested */
	ENT_TABLE	= 2,	/* new mailbox: table EX requested */
	ENT_READY	= 3,
};

struct pending {
	uint32_t client, seq;
	uint64_t t_ns;		/* the request came in (latency metric) */
	struct req_uid req;
	struct pending *next;
};

struct alloc {
	uint64_t id;
	uint32_t client;
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
	enum ent_state state;
	uint64_t lkid, table_lkid;
	uint64_t lock_epoch;
	bool lvb_valid;
	uint8_t lvb[UID_LVB_LEN];
	bool wanted;		/* another node waits for the mailbox */
	bool deg;		/* m holds a degraded (provisional) takeover */
	unsigned release_waits;	/* ticks a release waited for the disk */
	bool unlock_wait;	/* a failed sequence left a write stuck: give
				   the locks back once it is reaped */
	struct uid_mbox m;
	struct pending *pend, **pend_tail;
	struct alloc *allocs;
	uint32_t next_alloc;	/* low half of this entry's allocation ids */
	uint64_t expired[EXPIRED_KEEP];	/* ring of expired allocation ids */
	unsigned expired_next;
	struct entry *next;
	struct entry *idnext;	/* in U.byid */
};

#define NBUCKET 4096
#define UID_TRACE_NS	10000000ull	/* log an answer that waited this long */

static struct {
	struct uidsvc_host h;
	struct area *a;
	struct aio_ctx *aio;
	int fd;
	uint64_t nslots;
	struct uid_params params;
	struct entry *bucket[NBUCKET];
	uint64_t next_entry_id;
	/* Entries by id: an allocation id is (entry id << 32 | a sequence),
	 * so a commit finds its entry without walking the table. */
	struct entry *byid[NBUCKET];
	void *buf;
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

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
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

/* --- disk ---------------------------------------------------------------- */

/*
 * Read and resolve one slot.  Returns 0, an I/O error (*io set), or the
 * slot's format error (a damaged copy, logged naming slot and copy).
 */
static int read_view_io(uint64_t slot, struct uid_slot_view *v, bool *io)
{
	struct uid_rec rec[UIDREC_COPIES];
	int rc[UIDREC_COPIES];
	uint32_t c, ss = U.a->hdr.sector_size;
	uint64_t off;
	int r;

	*io = false;
	for (c = 0; c < UIDREC_COPIES; c++) {
		r = uidtab_offset(&U.a->hdr, slot, c, &off);
		if (r == 0)
			r = aio_read_sync(U.aio, U.fd, off, U.buf, ss, U.a->hdr.io_timeout_ms);
		if (r < 0) {
			*io = true;
			return r;
		}
		rc[c] = uidrec_in(&rec[c], U.buf, ss, U.a->hdr.uuid, slot, c);
		if (rc[c] < 0)
			log_warn("uid: slot %llu copy %u is damaged: %s",
				 (unsigned long long)slot, c, sdlm_strerror(rc[c]));
	}
	return uidrec_resolve(rec, rc, v);
}

static int read_view(uint64_t slot, struct uid_slot_view *v)
{
	bool io;

	return read_view_io(slot, v, &io);
}

/* Find the GUID's slot (insert: or where it would go).  0 and *slot, *v;
 * -ENOENT (lookup: not there), UIDTAB_EFULL, or an I/O / format error. */
static int probe(const uint8_t *guid, const char *key, bool insert, uint64_t *slot,
		 struct uid_slot_view *v)
{
	struct uidtab_probe p;
	bool io;
	int rc;

	rc = uidtab_probe_init(&p, guid, U.nslots, insert);
	if (key && key[0]) {
		/* a record of our GUID under another name is a collision */
		p.name = key;
		p.name_len = strlen(key);
	}
	while (rc == UIDTAB_MORE || rc == 0) {
		rc = read_view_io(p.slot, v, &io);
		if (rc < 0 && io)
			return rc;
		/* A damaged slot is passed (it never blocks a mailbox found
		 * further on); not finding ours past it is its error. */
		rc = rc < 0 ? uidtab_probe_damaged(&p, rc) : uidtab_probe_step(&p, v);
		if (rc < 0 && p.damaged && rc == p.damaged)
			log_warn("uid: the mailbox may be in damaged slot %llu: %s (docs/uid.md, damaged records)",
				 (unsigned long long)p.damaged_slot, sdlm_strerror(rc));
		if (rc == 0) {
			*slot = p.slot;
			/* the answer's own view (a tombstone's, for insert) */
			return read_view(p.slot, v);
		}
		if (rc != UIDTAB_MORE)
			return rc;
	}
	return rc;
}

/*
 * Look a mailbox up: by its GUID, comparing the name when it was given
 * (key).  A named mailbox not found may be a record created before GUIDs
 * were derived with SHA-256: it is looked up by its legacy GUID too
 * (same name required) and used as it is; *rec_guid is the GUID the
 * record carries.  Returns as probe().
 */
static int lookup(const char *ls, const uint8_t *guid, const char *key, uint64_t *slot,
		  struct uid_slot_view *v, uint8_t rec_guid[UID_GUID_LEN])
{
	uint8_t legacy[UID_GUID_LEN];
	int rc;

	memcpy(rec_guid, guid, UID_GUID_LEN);
	rc = probe(guid, key, false, slot, v);
	if (rc != -ENOENT || !key || !key[0] ||
	    uid_name_guid(ls, key, strlen(key), UIDNAME_V1, legacy) < 0)
		return rc;
	rc = probe(legacy, key, false, slot, v);
	if (rc == 0) {
		memcpy(rec_guid, legacy, UID_GUID_LEN);
		log_info("uid %s: a record of the legacy name GUID (slot %llu): used as it is",
			 key, (unsigned long long)*slot);
	}
	return rc;
}

static int write_rec(struct uid_rec *r)
{
	uint32_t ss = U.a->hdr.sector_size;
	uint64_t off;
	int rc;

	r->wall_time_ms = wall_ms();
	U.st.record_writes++;
	rc = uidtab_offset(&U.a->hdr, r->slot, r->copy, &off);
	if (rc == 0)
		rc = uidrec_out(r, U.a->hdr.uuid, U.buf, ss);
	if (rc == 0)
		rc = aio_write_sync(U.aio, U.fd, off, U.buf, ss, U.a->hdr.io_timeout_ms);
	return rc;
}

/* Run the core's write sequence to its end.  Returns 0 or the error. */
static int run_writes(struct entry *e, struct uid_write *w)
{
	int rc = 0;

	while (w->count) {
		/* docs/uid.md: every record write checks, right before it is
		 * submitted, that this node may still use its locks. */
		rc = uid_write_gate(&e->m, U.h.may_use(U.h.ctx), w);
		if (rc < 0) {
			log_warn("uid %s: record write (slot %llu copy %u) not issued: %s",
				 e->name, (unsigned long long)w->rec.slot, w->rec.copy,
				 sdlm_strerror(rc));
			return rc;
		}
		rc = write_rec(&w->rec);
		if (rc < 0)
			log_warn("uid %s: record write (slot %llu copy %u): %s", e->name,
				 (unsigned long long)w->rec.slot, w->rec.copy, sdlm_strerror(rc));
		rc = uid_write_done(&e->m, rc, w);
		if (rc < 0)
			return rc;
	}
	return rc == UID_WAIT ? 0 : rc;
}

/*
 * Once the context has nothing in flight, every timed-out write of this
 * entry has left the kernel: tell the core.  Returns true when the core
 * has nothing stuck any more.
 */
static bool reap_stuck(struct entry *e)
{
	uint32_t c;

	if (!e->m.um_stuck)
		return true;
	aio_process(U.aio, now_ns());
	if (aio_inflight(U.aio))
		return false;
	for (c = 0; c < UIDREC_COPIES; c++)
		if (e->m.um_stuck & (1u << c)) {
			uid_write_reaped(&e->m, c);
			log_notice("uid %s: the timed-out write to slot %llu copy %u has left the kernel: the copy is rewritten next",
				   e->name, (unsigned long long)e->m.um_slot, c);
		}
	return true;
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
		U.h.reply(U.h.ctx, p->client, p->seq, err, NULL);
		free(p);
	}
	e->pend_tail = &e->pend;
}

static void serve(struct entry *e);

static void release(struct entry *e)
{
	uint8_t lvb[UID_LVB_LEN];
	int rc;

	/* A record write that timed out may still land: giving the lock
	 * away now would make it a late write of a live node.  Keep the
	 * mailbox until the kernel is done with it (uidsvc_tick retries). */
	if (aio_inflight(U.aio)) {
		aio_process(U.aio, now_ns());
		if (aio_inflight(U.aio)) {
			if (!e->release_waits++)
				log_warn("uid %s: a record write is still in flight: keeping the mailbox until it completes",
					 e->name);
			return;
		}
	}
	e->release_waits = 0;
	reap_stuck(e);
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
	memset(&e->m, 0, sizeof(e->m));
	/* requests that arrived meanwhile: take the lock again */
	if (e->pend)
		serve(e);
}

/*
 * A write sequence failed (takeover, create, settle): give the mailbox
 * lock (and a create's table lock) back without an LVB, unless a write
 * of it may still land: then park the entry (unlock_wait) until
 * uidsvc_tick sees it reaped.
 */
static void give_up(struct entry *e)
{
	if (uid_busy(&e->m) && !reap_stuck(e)) {
		if (!e->unlock_wait)
			log_warn("uid %s: a record write timed out and may still land: keeping the mailbox lock until it has left the kernel",
				 e->name);
		e->unlock_wait = true;
		return;
	}
	e->unlock_wait = false;
	if (e->table_lkid)
		lsm_unlock(UIDSVC_CLIENT, e->table_lkid, 0, NULL);
	if (e->lkid) {
		lsm_unlock(UIDSVC_CLIENT, e->lkid, 0, NULL);
		/* the same line as release(): where a holding ends */
		log_debug("uid %s: given up (next %u, epoch %llu)", e->name, e->m.um_next,
			  (unsigned long long)e->m.um_epoch);
	}
	e->table_lkid = 0;
	e->lkid = 0;
	e->state = ENT_IDLE;
	e->wanted = false;
	memset(&e->m, 0, sizeof(e->m));
}

static void maybe_release(struct entry *e)
{
	if (U.degraded || e->unlock_wait)
		return;		/* nothing is handed on in degraded mode */
	if (e->state == ENT_READY && e->wanted && !e->allocs)
		release(e);
}

static int lock_ex(struct entry *e, const char *name, size_t len, uint64_t *lkid)
{
	return lsm_lock(UIDSVC_CLIENT, e->id, e->ls, strlen(e->ls), name, len,
			SDLM_EX, 0, lkid);
}

static void takeover(struct entry *e);

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

/*
 * Degraded mode: take the mailbox over from the disk with no lock (the
 * daemon made sure no other node uses this copy of the disk), creating it
 * if it is new.  Returns 0 or the error for the waiting requests.
 */
static int deg_takeover(struct entry *e)
{
	uint8_t rg[UID_GUID_LEN];
	struct uid_slot_view v;
	struct uid_write w = { 0 };
	uint64_t slot = 0;
	uint32_t uv = (uint32_t)time(NULL);
	bool created = false;
	int rc;

	core_drop(e);
	rc = lookup(e->ls, e->guid, e->key, &slot, &v, rg);
	if (rc == -ENOENT) {
		rc = probe(e->guid, e->key, true, &slot, &v);
		if (rc == 0 && v.kind == UID_SLOT_DELETED && uv <= v.uidvalidity)
			uv = v.uidvalidity + 1;
		if (rc == 0)
			rc = uid_create(&e->m, &U.params, e->guid, e->name, strlen(e->name),
					uv ? uv : 1, slot, &v, 0, U.h.nodeid,
					U.h.incarnation, now_ns(), &w);
		created = true;
	} else if (rc == 0) {
		rc = uid_takeover(&e->m, &U.params, rg, slot, &v, NULL, 0,
				  U.h.nodeid, U.h.incarnation, now_ns(), &w);
	}
	if (rc >= 0)
		rc = run_writes(e, &w);
	if (rc < 0) {
		log_warn("uid %s: DEGRADED takeover: %s", e->name, sdlm_strerror(rc));
		memset(&e->m, 0, sizeof(e->m));
		return rc == UIDTAB_EFULL ? SDLM_EUIDFULL : rc;
	}
	if (!e->name[0] && v.latest.name_len)
		snprintf(e->name, sizeof(e->name), "%s", v.latest.name);
	e->deg = true;
	U.st.takeovers++;
	log_warn("uid %s: DEGRADED %s without the cluster lock: epoch %llu, next %u, UIDs above %u are PROVISIONAL",
		 e->name, created ? "creation" : "takeover", (unsigned long long)e->m.um_epoch,
		 e->m.um_next, e->m.um_prov_base);
	return 0;
}

static void create(struct entry *e)
{
	uint8_t rg[UID_GUID_LEN];
	struct uid_slot_view v;
	struct uid_write w = { 0 };
	uint64_t slot = 0;
	uint32_t uv = (uint32_t)time(NULL);
	int rc;

	rc = lookup(e->ls, e->guid, e->key, &slot, &v, rg);
	if (rc == 0) {
		/* created by another node meanwhile */
		rc = lsm_unlock(UIDSVC_CLIENT, e->table_lkid, 0, NULL);
		e->table_lkid = 0;
		takeover(e);
		return;
	}
	if (rc != -ENOENT) {
		/* not found past a damaged slot: it may be the damaged one */
		log_warn("uid %s: create: %s", e->name, sdlm_strerror(rc));
		fail_pending(e, rc);
		give_up(e);
		return;
	}
	rc = probe(e->guid, e->key, true, &slot, &v);
	/* A mailbox created again where one was deleted gets a higher
	 * UIDVALIDITY than the old one had (IMAP: a name's UIDs never
	 * mean another message under the same UIDVALIDITY). */
	if (rc == 0 && v.kind == UID_SLOT_DELETED && uv <= v.uidvalidity)
		uv = v.uidvalidity + 1;
	if (rc == 0)
		rc = uid_create(&e->m, &U.params, e->guid, e->name, strlen(e->name),
				uv ? uv : 1, slot, &v, e->lock_epoch, U.h.nodeid,
				U.h.incarnation, now_ns(), &w);
	if (rc >= 0)
		rc = run_writes(e, &w);
	if (rc < 0) {
		log_warn("uid %s: create: %s", e->name, sdlm_strerror(rc));
		fail_pending(e, rc == UIDTAB_EFULL ? SDLM_EUIDFULL : rc);
		give_up(e);
		return;
	}
	lsm_unlock(UIDSVC_CLIENT, e->table_lkid, 0, NULL);
	e->table_lkid = 0;
	log_notice("uid %s: mailbox created in slot %llu, UIDVALIDITY %u", e->name,
		   (unsigned long long)slot, e->m.um_uidvalidity);
	e->state = ENT_READY;
	serve(e);
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

static void takeover(struct entry *e)
{
	uint8_t rg[UID_GUID_LEN];
	struct uid_slot_view v;
	struct uid_write w = { 0 };
	uint64_t slot = 0, tl = 0;
	int rc;

	rc = lookup(e->ls, e->guid, e->key, &slot, &v, rg);
	if (rc == -ENOENT) {
		/* A new mailbox: creating takes the table lock (two creators
		 * must not pick the same free slot). */
		e->state = ENT_TABLE;
		log_debug("uid %s: new mailbox: requesting the table lock", e->name);
		rc = lock_ex(e, "uid-table", 9, &tl);
		if (rc < 0) {
			fail_pending(e, rc);
			lsm_unlock(UIDSVC_CLIENT, e->lkid, 0, NULL);
			e->lkid = 0;
			e->state = ENT_IDLE;
		}
		/* the table lock's grant (maybe already delivered) continues */
		return;
	}
	if (rc == 0)
		rc = uid_takeover(&e->m, &U.params, rg, slot, &v,
				  e->lvb_valid ? e->lvb : NULL, e->lock_epoch,
				  U.h.nodeid, U.h.incarnation, now_ns(), &w);
	if (rc >= 0)
		rc = run_writes(e, &w);
	if (rc < 0) {
		log_warn("uid %s: takeover: %s", e->name, sdlm_strerror(rc));
		fail_pending(e, rc);
		give_up(e);
		return;
	}
	if (!e->name[0] && v.latest.name_len)
		snprintf(e->name, sizeof(e->name), "%s", v.latest.name);
	U.st.takeovers++;
	if (e->m.um_damaged_copy)
		log_notice("uid %s: slot %llu copy %u was damaged (%s): resumed from the other copy above anything it could have reserved, next %u; both copies rewritten",
			   e->name, (unsigned long long)slot, e->m.um_damaged_copy - 1,
			   sdlm_strerror(v.damaged_err), e->m.um_next);
	if (e->m.um_lvb_above)
		log_notice("uid %s: the lock value block's next %u is above the disk's maximum + 1: honoured, both copies rewritten above it",
			   e->name, e->m.um_next);
	log_lvb_refused(e, &v);
	log_info("uid %s: taken over at epoch %llu, next %u (%s)", e->name,
		 (unsigned long long)e->m.um_epoch, e->m.um_next,
		 e->m.um_lvb_used ? "from the lock value block" : "from the disk");
	e->state = ENT_READY;
	serve(e);
}

void uidsvc_ast(uint64_t lkid, uint64_t ref, int err, int mode,
		const uint8_t *lvb, bool lvb_valid, uint64_t epoch)
{
	struct entry *e = entry_by_id(ref);

	if (!e)
		return;
	/*
	 * A grant while the entry waits for none: a request it gave up while
	 * it was still queued (an unlock of a waiting request fails, so it
	 * stayed in the queue).  Ignored, it would be held by this node for
	 * ever and every other node would wait for the mailbox (the nemesis
	 * part-overlap stall: one UID service lock granted, another waiting
	 * behind it).  Give it straight back; nothing was allocated under it.
	 */
	if (!err && e->state != ENT_LOCKING && e->state != ENT_TABLE && lkid != e->lkid &&
	    lkid != e->table_lkid) {
		log_info("uid %s: a lock request given up while queued was granted: released",
			 e->name);
		lsm_unlock(UIDSVC_CLIENT, lkid, 0, NULL);
		return;
	}
	if (U.degraded && !err && (e->state == ENT_TABLE || e->state == ENT_LOCKING)) {
		/* A request from before degraded mode, granted now (quorum is
		 * back: allocation is suspended).  Keep the mailbox lock; the
		 * core is the degraded one until the operator leaves. */
		if (e->state == ENT_TABLE) {
			lsm_unlock(UIDSVC_CLIENT, lkid, 0, NULL);
		} else {
			e->lkid = lkid;
			e->lock_epoch = epoch;
		}
		e->state = ENT_READY;
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
		if (err) {
			fail_pending(e, err);
			lsm_unlock(UIDSVC_CLIENT, e->lkid, 0, NULL);
			e->state = ENT_IDLE;
			e->lkid = 0;
			return;
		}
		e->table_lkid = lkid;
		log_debug("uid %s: table lock granted", e->name);
		create(e);
		return;
	}
	if (e->state == ENT_READY && err && lkid == e->lkid) {
		/* The mailbox lock was taken from us (this node fenced, or
		 * its locks revoked): hand out nothing more; the clients with
		 * an allocation in flight are stopped like every lock user. */
		struct alloc *a, *kill_list;

		log_warn("uid %s: mailbox lock lost (%s): no more UIDs from this node",
			 e->name, sdlm_strerror(err));
		kill_list = e->allocs;
		e->allocs = NULL;
		e->state = ENT_IDLE;
		e->lkid = 0;
		e->wanted = false;
		memset(&e->m, 0, sizeof(e->m));
		fail_pending(e, err);
		/* Every client with an allocation in flight, however many: no
		 * cap on a safety path (issue 13, hole 4). */
		while ((a = kill_list)) {
			kill_list = a->next;
			U.h.kill_clients(U.h.ctx, &a->client, 1);
			free(a);
		}
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

/* --- requests ---------------------------------------------------------------- */

static void reply_alloc(struct entry *e, const struct pending *p, uint32_t first, uint32_t count)
{
	struct res_uid r;
	struct alloc *a;

	a = calloc(1, sizeof(*a));
	if (!a) {
		U.h.reply(U.h.ctx, p->client, p->seq, -ENOMEM, NULL);
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
	U.h.reply(U.h.ctx, p->client, p->seq, 0, &r);
}

/* One request against a READY entry.  Returns false to keep it queued. */
static bool serve_one(struct entry *e, struct pending *p)
{
	struct uid_write w = { 0 };
	uint32_t first = 0, want;
	int rc, use;

	/* A timed-out write may still land: nothing more until it is reaped
	 * (uidsvc_tick serves the queue again then). */
	if (e->m.um_stuck && !reap_stuck(e))
		return false;
	switch (p->req.op) {
	case SDLM_UID_ALLOC:
		/* One allocation in flight per mailbox: the next waits for the
		 * commit, so UIDs become visible in ascending order. */
		if (e->allocs)
			return false;
		for (;;) {
			use = U.h.may_use(U.h.ctx);
			rc = uid_alloc(&e->m, &U.params, p->req.count, now_ns(), use, &first, &w);
			if (rc != UID_WAIT)
				break;
			if (!w.count)
				return false;	/* a copy is stuck: uidsvc_tick */
			rc = run_writes(e, &w);
			if (rc < 0)
				break;
		}
		if (rc == 0) {
			/* Checked again right before the UID leaves. */
			use = U.h.may_use(U.h.ctx);
			if (use) {
				U.h.reply(U.h.ctx, p->client, p->seq, use, NULL);
				return true;
			}
			reply_alloc(e, p, first, p->req.count);
			if (w.count)
				run_writes(e, &w);	/* the next range, ahead */
			return true;
		}
		U.h.reply(U.h.ctx, p->client, p->seq, rc == UID_EWRAP ? SDLM_EUIDWRAP : rc, NULL);
		return true;
	case SDLM_UID_RAISE:
		want = p->req.value;
		rc = 0;
		if (p->req.count == SDLM_UID_RAISE_SETTLE && U.degraded) {
			U.h.reply(U.h.ctx, p->client, p->seq, -EBUSY, NULL);
			return true;
		}
		while (rc == 0 && e->m.um_next && e->m.um_next < want) {
			uint32_t n = want - e->m.um_next;

			if (n > U.params.reserve_max)
				n = U.params.reserve_max;
			for (;;) {
				rc = uid_alloc(&e->m, &U.params, n, now_ns(), U.h.may_use(U.h.ctx), &first, &w);
				if (rc == UID_WAIT && !w.count)
					return false;	/* stuck: resumes after the reap */
				if (rc != UID_WAIT)
					break;
				rc = run_writes(e, &w);
				if (rc < 0)
					break;
			}
			if (rc == 0 && w.count)
				rc = run_writes(e, &w);
		}
		if (rc == 0 && p->req.count == SDLM_UID_RAISE_SETTLE) {
			uint32_t base = e->m.um_prov_base;
			bool was = e->m.um_prov;

			rc = uid_settle(&e->m, &U.params, p->req.alloc_id, &w);
			if (rc >= 0)
				rc = run_writes(e, &w);
			if (rc == 0 && was)
				log_notice("uid %s: provisional UIDs (above %u) settled by the rejoin repair, next %u, epoch %llu",
					   e->name, base, e->m.um_next, (unsigned long long)e->m.um_epoch);
			else
				log_warn("uid %s: settle: %s", e->name, sdlm_strerror(rc));
			if (e->m.um_phase == UID_IDLE) {
				/* a failed settle sequence: take over afresh */
				U.h.reply(U.h.ctx, p->client, p->seq, rc, NULL);
				give_up(e);
				return true;
			}
		}
		if (rc == 0) {
			struct res_uid r = { .next = e->m.um_next, .uidvalidity = e->m.um_uidvalidity,
					     .epoch = e->m.um_epoch };

			memcpy(r.guid, e->guid, UID_GUID_LEN);
			U.h.reply(U.h.ctx, p->client, p->seq, 0, &r);
		} else {
			U.h.reply(U.h.ctx, p->client, p->seq, rc == UID_EWRAP ? SDLM_EUIDWRAP : rc, NULL);
		}
		return true;
	case SDLM_UID_DELETE:
	case SDLM_UID_RENAME:
		if (U.degraded) {
			/* One copy only would change: wait for the rejoin. */
			U.h.reply(U.h.ctx, p->client, p->seq, -EBUSY, NULL);
			return true;
		}
		if (e->allocs)
			return false;
		if (p->req.op == SDLM_UID_DELETE) {
			rc = uid_delete(&e->m, &w);
		} else {
			char nm[UIDREC_NAME_MAX + 1];
			size_t nl = p->req.arg_len < sizeof(nm) ? p->req.arg_len : 0;

			memcpy(nm, p->req.arg, nl);
			nm[nl] = '\0';
			rc = nl && strlen(nm) == nl ? uid_rename(&e->m, nm, nl, &w) : -EINVAL;
			if (rc >= 0)
				snprintf(e->name, sizeof(e->name), "%s", nm);
		}
		if (rc >= 0)
			rc = run_writes(e, &w);
		if (rc == 0 && p->req.op == SDLM_UID_DELETE) {
			log_notice("uid %s: mailbox deleted (record reclaimed)", e->name);
			U.h.reply(U.h.ctx, p->client, p->seq, 0, NULL);
			/* Nothing left to hold: give the lock back at once. */
			lsm_unlock(UIDSVC_CLIENT, e->lkid, 0, NULL);
			e->state = ENT_IDLE;
			e->lkid = 0;
			e->wanted = false;
			memset(&e->m, 0, sizeof(e->m));
			return true;
		}
		if (rc == 0)
			log_notice("uid %s: renamed", e->name);
		U.h.reply(U.h.ctx, p->client, p->seq, rc, NULL);
		return true;
	case SDLM_UID_BUMP:
		if (e->allocs)
			return false;	/* after the allocations in flight */
		rc = uid_bump_uidvalidity(&e->m, &U.params, p->req.value, now_ns(), &w);
		if (rc >= 0)
			rc = run_writes(e, &w);
		if (rc == 0) {
			struct res_uid r = { .next = e->m.um_next, .uidvalidity = e->m.um_uidvalidity,
					     .epoch = e->m.um_epoch };

			memcpy(r.guid, e->guid, UID_GUID_LEN);
			log_notice("uid %s: UIDVALIDITY bumped to %u", e->name, e->m.um_uidvalidity);
			U.h.reply(U.h.ctx, p->client, p->seq, 0, &r);
		} else {
			U.h.reply(U.h.ctx, p->client, p->seq, rc, NULL);
		}
		return true;
	}
	U.h.reply(U.h.ctx, p->client, p->seq, -EINVAL, NULL);
	return true;
}

/* Serve the queue in order while the core can (see core_ready). */
static void serve_queue(struct entry *e)
{
	struct pending *p;

	while ((p = e->pend) && core_ready(e)) {
		if (!serve_one(e, p))
			break;
		e->pend = p->next;
		if (!e->pend)
			e->pend_tail = &e->pend;
		free(p);
	}
}

static void serve(struct entry *e)
{
	int rc;
	uint64_t lkid = 0;
	char name[40];

	if (e->unlock_wait)
		return;		/* parked: uidsvc_tick resumes it */
	if (U.degraded) {
		/* Each round serves at least one request, or stops. */
		while (e->pend) {
			if (U.deg_suspended) {
				fail_pending(e, SDLM_EDEGRADED);
				return;
			}
			if (!core_ready(e)) {
				/* first use, or a write sequence failed: take over
				 * again, once no write of the old one may land */
				if (e->m.um_stuck && !reap_stuck(e))
					return;
				rc = deg_takeover(e);
				if (rc < 0) {
					fail_pending(e, rc);
					return;
				}
			}
			serve_queue(e);
			if (core_ready(e))
				return;	/* done, or waiting for a commit */
		}
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
		rc = lock_ex(e, name, strlen(name), &lkid);
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

static void show(uint32_t client, uint32_t seq, const char *ls, const uint8_t *guid,
		 const char *key)
{
	struct entry *e = entry_find(ls, guid, false);
	uint8_t rg[UID_GUID_LEN];
	struct uid_slot_view v;
	struct res_uid r;
	uint64_t slot;
	int rc;

	memset(&r, 0, sizeof(r));
	memcpy(r.guid, guid, UID_GUID_LEN);
	rc = lookup(ls, guid, key, &slot, &v, rg);
	if (rc < 0 && !(e && core_ready(e))) {
		U.h.reply(U.h.ctx, client, seq, rc, NULL);
		return;
	}
	if (rc == 0) {
		r.uidvalidity = v.uidvalidity;
		r.watermark = v.watermark;
		r.epoch = v.epoch;
		r.flags = v.provisional ? SDLM_UID_F_PROVISIONAL : 0;
		r.prov_base = v.prov_base;
	}
	if (e && core_ready(e)) {
		r.held = 1;
		r.next = e->m.um_next;
		r.epoch = e->m.um_epoch;
		r.uidvalidity = e->m.um_uidvalidity;
		r.flags = e->m.um_prov ? SDLM_UID_F_PROVISIONAL : 0;
		r.prov_base = e->m.um_prov_base;
	}
	U.h.reply(U.h.ctx, client, seq, 0, &r);
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
		U.h.reply(U.h.ctx, client, seq, -ENOTSUP, NULL);
		return;
	}
	if (req->op == SDLM_UID_COMMIT || req->op == SDLM_UID_ABORT) {
		a = alloc_take(req->alloc_id, client, &e);
		if (!a) {
			U.h.reply(U.h.ctx, client, seq,
				  alloc_expired(req->alloc_id) ? SDLM_EEXPIRED : -ENOENT, NULL);
			return;
		}
		free(a);
		U.h.reply(U.h.ctx, client, seq, 0, NULL);
		if (e->pend)
			serve(e);
		maybe_release(e);
		return;
	}
	if (!req->ls_len || req->ls_len > SDLM_NAME_MAX || !req->mb_len ||
	    req->mb_len > UIDREC_NAME_MAX) {
		U.h.reply(U.h.ctx, client, seq, -EINVAL, NULL);
		return;
	}
	memcpy(ls, req->ls, req->ls_len);
	ls[req->ls_len] = '\0';
	memcpy(mb, req->mailbox, req->mb_len);
	mb[req->mb_len] = '\0';
	if (strlen(ls) != req->ls_len || strlen(mb) != req->mb_len) {
		U.h.reply(U.h.ctx, client, seq, -EINVAL, NULL);
		return;
	}
	rc = mailbox_guid(ls, mb, req->mb_len, guid);
	if (rc < 0) {
		U.h.reply(U.h.ctx, client, seq, rc, NULL);
		return;
	}
	named = rc == 1;
	if (req->op == SDLM_UID_SHOW) {
		show(client, seq, ls, guid, named ? mb : NULL);
		return;
	}
	if ((req->op == SDLM_UID_ALLOC && (req->count == 0 || req->count > U.params.reserve_max)) ||
	    req->op > SDLM_UID_RENAME || req->op < SDLM_UID_ALLOC) {
		U.h.reply(U.h.ctx, client, seq, -EINVAL, NULL);
		return;
	}
	e = entry_find(ls, guid, true);
	p = calloc(1, sizeof(*p));
	if (!e || !p) {
		free(p);
		U.h.reply(U.h.ctx, client, seq, -ENOMEM, NULL);
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
	struct alloc *a;
	unsigned b;

	for (b = 0; b < NBUCKET; b++)
		for (e = U.bucket[b]; e; e = e->next) {
			while ((a = e->allocs)) {
				e->allocs = a->next;
				a->next = kill_list;
				kill_list = a;
			}
			fail_pending(e, SDLM_EFENCED);
			/* A lock that survived (another lockspace) is given
			 * back, once no record write of it may still land;
			 * one already revoked answers -ENOENT. */
			e->deg = false;
			give_up(e);
		}
	/* Every client with an allocation in flight, however many: no cap
	 * on a safety path (issue 13, hole 4). */
	while ((a = kill_list)) {
		kill_list = a->next;
		U.h.kill_clients(U.h.ctx, &a->client, 1);
		free(a);
	}
}

int uidsvc_init(const struct uidsvc_host *host, struct area *a)
{
	uint32_t ss;
	int rc;

	memset(&U, 0, sizeof(U));
	U.h = *host;
	U.a = a;
	U.fd = -1;
	U.nslots = uidtab_nslots(&a->hdr);
	uid_params_default(&U.params);
	if (host->reserve_min)
		U.params.reserve_min = host->reserve_min;
	if (host->reserve_max)
		U.params.reserve_max = host->reserve_max;
	if (uid_params_check(&U.params) < 0)
		return -EINVAL;
	if (U.nslots == 0)
		return -ENOTSUP;
	ss = a->hdr.sector_size;
	if (posix_memalign(&U.buf, AIO_BUF_ALIGN, ss))
		return -ENOMEM;
	rc = aio_open_dev(a->path, &U.fd, &ss);
	if (rc == 0)
		rc = aio_ctx_create(&U.aio, 4);
	if (rc < 0) {
		if (U.fd >= 0)
			close(U.fd);
		free(U.buf);
		return rc;
	}
	U.on = true;
	return 0;
}

void uidsvc_fini(void)
{
	struct entry *e, *n;
	struct pending *p;
	struct alloc *a;
	unsigned b;

	for (b = 0; b < NBUCKET; b++)
		for (e = U.bucket[b]; e; e = n) {
			n = e->next;
			while ((p = e->pend)) {
				e->pend = p->next;
				free(p);
			}
			while ((a = e->allocs)) {
				e->allocs = a->next;
				free(a);
			}
			free(e);
		}
	if (U.aio)
		aio_ctx_destroy(U.aio, 2 * U.a->hdr.io_timeout_ms);
	if (U.fd >= 0)
		close(U.fd);
	free(U.buf);
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
	struct aio_fault f;

	if (!U.aio)
		return;
	if (!spec || aio_fault_parse(spec, &f) < 0)
		aio_fault_set(U.aio, NULL);
	else
		aio_fault_set(U.aio, &f);
}

/*
 * Every heartbeat interval: allocations past their lease are aborted;
 * timed-out writes that left the kernel are reported to their cores;
 * parked locks are given back; queues that waited for a stuck copy and
 * releases that waited for the disk go on.
 */
void uidsvc_tick(void)
{
	struct entry *e;
	uint64_t now;
	unsigned b;

	if (!U.on)
		return;
	aio_process(U.aio, now_ns());
	now = now_ns();
	for (b = 0; b < NBUCKET; b++)
		for (e = U.bucket[b]; e; e = e->next) {
			if (e->allocs && expire_allocs(e, now)) {
				if (e->pend)
					serve(e);
				maybe_release(e);
			}
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
}

/* --- degraded mode ----------------------------------------------------------- */

static bool any_alloc_in_flight(void)
{
	struct entry *e;
	unsigned b;

	for (b = 0; b < NBUCKET; b++)
		for (e = U.bucket[b]; e; e = e->next)
			if (e->allocs)
				return true;
	return false;
}

/* Returns 0, -ENOTSUP (no UID service) or -EBUSY (an allocation is not
 * committed yet: its mailbox cannot change hands under it). */
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
			}
		}
	U.degraded = on;
	U.params.provisional = on;
	U.deg_suspended = 0;
	U.deg_blocker = 0;
	if (on) {
		U.deg_since_ms = wall_ms();
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
