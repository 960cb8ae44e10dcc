/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidsvc_int.h - the private side of sdlmd's UID service (uidsvc.h is the
 * public one): the per-mailbox entry, the service's state, and the
 * functions its parts share.  One concept a file; each function a file
 * exports here carries the file's prefix:
 *
 *	uidsvc.c	uidsvc_: the service proper: the entries, requests
 *			in, the internal lock's completions (ast, bast, the
 *			hand-off's kill), holdings given up, the lifecycle,
 *			tick and status; the public calls of uidsvc.h
 *	uidserve.c	uidserve_: the requests served against a ready core
 *			(allocate, raise and settle, delete, rename, bump)
 *	uidlocks.c	uidlocks_: the locks the service asks for: the
 *			mailbox's EX, and the table and segment locks that
 *			serialise the creators of new mailboxes
 *	uidtake.c	uidtake_: a mailbox taken over (or created) under
 *			its lock: the lookup, probe and write chains
 *	uidimp.c	uidimp_: import and restore: a record from what the
 *			mail store knows
 *	uiddeg.c	uiddeg_: degraded mode: the takeover without the
 *			cluster lock, and uidsvc.h's uidsvc_degraded_* calls
 *
 * The service's state is one object, uidsvc (struct uidsvc_state).
 */
#ifndef SDLM_UIDSVC_INT_H
#define SDLM_UIDSVC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdlm.h"
#include "sdlm_ipc.h"
#include "aio.h"
#include "uidrec.h"
#include "uid.h"
#include "uidio.h"
#include "uidseg.h"
#include "uidsvc.h"

enum uidsvc_ent_state {
	UIDSVC_ENT_IDLE		= 0,
	UIDSVC_ENT_LOCKING	= 1,	/* mailbox EX requested */
	UIDSVC_ENT_TABLE	= 2,	/* new mailbox: table locks requested */
	UIDSVC_ENT_READY	= 3,
};

struct uidsvc_pending {
	uint32_t client, seq;
	uint64_t t_ns;		/* the request came in (latency metric) */
	bool gone;		/* answered already, or its client died */
	bool imp_seen;		/* IMPORT: served once; imp_from the next */
	uint32_t imp_from;	/* UID before (to say whether it rose) */
	struct req_uid req;
	struct uidsvc_pending *next;
};

struct uidsvc_alloc {
	uint64_t id;
	uint32_t client, seq;	/* the request it answered */
	uint32_t first, count;
	uint64_t t_ns;		/* handed out (CLOCK_BOOTTIME) */
	struct uidsvc_alloc *next;
};

/* Allocation ids that expired, remembered so that their late commit gets
 * SDLM_EEXPIRED rather than "no such allocation". */
#define UIDSVC_EXPIRED_KEEP	16

struct uidsvc_entry {
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
	enum uidsvc_ent_state state;
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
	struct uidsvc_pending *cur;	/* the request that operation serves */
	bool drop;		/* lock use stopped meanwhile: give up when
				   the operation ends */
	bool created;		/* degraded takeover: the mailbox was new */
	struct uid_import_plan imp;	/* create: an import's (act 0: none) */
	bool settle_was;	/* settle: the mark and its base before */
	uint32_t settle_base;
	struct uidsvc_pending *pend, **pend_tail;
	struct uidsvc_alloc *allocs;
	uint32_t next_alloc;	/* low half of this entry's allocation ids */
	uint64_t expired[UIDSVC_EXPIRED_KEEP];	/* ring of expired allocation ids */
	unsigned expired_next;
	struct uidsvc_entry *next;
	struct uidsvc_entry *idnext;	/* in uidsvc.byid */
};

#define UIDSVC_NBUCKET 4096

struct uidsvc_state {
	struct uidsvc_host h;
	struct area *a;
	struct uio *io;
	bool closing;		/* uidsvc_fini: nothing is answered any more */
	bool leaving;		/* uidsvc_leave: no new request */
	uint64_t nslots;
	struct uid_params params;
	struct uidsvc_entry *bucket[UIDSVC_NBUCKET];
	uint64_t next_entry_id;
	/* Entries by id: an allocation id is (entry id << 32 | a sequence),
	 * so a commit finds its entry without walking the table. */
	struct uidsvc_entry *byid[UIDSVC_NBUCKET];
	bool on;
	bool degraded;
	int deg_suspended;	/* 0, or why degraded allocation stopped */
	uint32_t deg_blocker;	/* the node whose heartbeat was seen */
	uint64_t deg_since_ms;	/* wall clock, information only */
	uint64_t deg_allocs;	/* provisional UIDs handed out */
	struct uidsvc_stats st;
};

extern struct uidsvc_state uidsvc;

/* What a request served against a ready core came to (uidserve.c). */
enum uidsvc_served {
	UIDSVC_SERVED	= 0,	/* answered */
	UIDSVC_WAITS	= 1,	/* keep it queued (a commit, a reap) */
	UIDSVC_STARTED	= 2,	/* an operation runs for it (e->cur) */
};

static inline uint64_t uidsvc_now_ns(void)
{
	return aio_now_ns();
}

static inline struct uidsvc_entry *uidsvc_op_entry(struct uio_op *op)
{
	return (struct uidsvc_entry *)((char *)op - offsetof(struct uidsvc_entry, op));
}

/* An operation of e is in flight: only its continuation touches e->m. */
static inline bool uidsvc_busy(const struct uidsvc_entry *e)
{
	return uio_busy(&e->op);
}

/* uidsvc.c */
void uidsvc_serve(struct uidsvc_entry *e);
void uidsvc_answer(struct uidsvc_pending *p, int err, const struct res_uid *r);
void uidsvc_answer_cur(struct uidsvc_entry *e, int err, const struct res_uid *r);
void uidsvc_requeue_cur(struct uidsvc_entry *e);
bool uidsvc_reap_stuck(struct uidsvc_entry *e);
void uidsvc_fail_pending(struct uidsvc_entry *e, int err);
void uidsvc_give_up(struct uidsvc_entry *e);
bool uidsvc_dropped(struct uidsvc_entry *e);
bool uidsvc_core_ready(const struct uidsvc_entry *e);

/* uidserve.c */
void uidserve_queue(struct uidsvc_entry *e);
void uidserve_res_now(const struct uidsvc_entry *e, struct res_uid *r);
int uidserve_raise_toward(struct uidsvc_entry *e, struct uidsvc_pending *p, uint32_t want);

/* uidlocks.c */
void uidlocks_lock_name(const struct uidsvc_entry *e, char out[40]);
int uidlocks_lock_ex(struct uidsvc_entry *e, const char *name, size_t len);
void uidlocks_table_unlock(struct uidsvc_entry *e);
bool uidlocks_own_table_lkid(const struct uidsvc_entry *e, uint64_t lkid);
int uidlocks_table_next(struct uidsvc_entry *e);
void uidlocks_table_granted(struct uidsvc_entry *e, uint64_t lkid);
int uidlocks_table_start(struct uidsvc_entry *e);
int uidlocks_segs_step(const struct uidsvc_entry *e, uint64_t slot, struct uidseg_set *take);
int uidlocks_segs_cover(struct uidsvc_entry *e, uint64_t slot);

/* uidtake.c */
uint32_t uidtake_new_uidvalidity(const struct uio_op *op);
void uidtake_run_writes(struct uidsvc_entry *e, int rc, const struct uid_write *w,
			uio_done_fn then);
void uidtake_other_ls(struct uidsvc_entry *e, const struct uid_slot_view *v);
void uidtake_takeover(struct uidsvc_entry *e);
void uidtake_create(struct uidsvc_entry *e);
void uidtake_start_failed(struct uidsvc_entry *e, const char *what, int rc);
void uidtake_create_probed(struct uio_op *op, int rc);
void uidtake_create_written(struct uio_op *op, int rc);

/* uidimp.c */
bool uidimp_rec_damaged(const struct uio_op *op, int rc);
bool uidimp_next(const struct uidsvc_entry *e, bool restore);
bool uidimp_restore_first(struct uidsvc_entry *e);
void uidimp_start(struct uidsvc_entry *e, struct uio_op *op, int found);
enum uidsvc_served uidimp_serve(struct uidsvc_entry *e, struct uidsvc_pending *p);

/* uiddeg.c */
void uiddeg_takeover(struct uidsvc_entry *e);

#endif
