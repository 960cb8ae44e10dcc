/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_uidsvc - the UID service (dlm/daemon/uidsvc.c and its parts,
 * uidsvc_int.h) over the real record I/O (uidio.c) and a file-backed
 * area: the lock manager's calls stubbed, the grants delivered by hand
 * (uidsvc_ast), the daemon's loop played by svc_until.
 *
 * What must hold: no record write after lock use stops; the locks are
 * kept while a timed-out write may still land (leave, blocking callback,
 * degraded mode); a grant the entry gave up is given back, never taken
 * for another lock; the hand-off's kill; import and restore (damaged
 * slots, other lockspaces' tags, the store's epoch); one GUID, one
 * lockspace; the table's segment locks in one order.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "sdlm.h"
#include "aio.h"
#include "area.h"
#include "ondisk.h"
#include "uidrec.h"
#include "uid.h"
#include "uidio.h"
#include "sdlm_ipc.h"
#include "lockspace.h"
#include "uidsvc.h"
#include "uidio_fixture.h"

#define MAXLK	64
/*
 * The table's segment locks ("uid-table.<t>.<n>", uidseg.h) get lock ids
 * of their own, from SEGLK0 + 1, and the lock manager is modelled for
 * them: a request is granted when no other holds the name (inside the
 * call, as the real one may, or by seg_pump from the test's loop), else
 * it waits; an unlock lets the next one in.  L.seg_manual: only the test
 * grants (seg_grant_next).  The other locks keep their numbering.
 */
#define SEGLK0	1000
#define MAXSEG	64

static struct {
	uint64_t ref[MAXSEG + 1];
	char name[MAXSEG + 1][48];
	bool granted[MAXSEG + 1], unlocked[MAXSEG + 1];
	unsigned n;
	bool manual;
	unsigned waited;	/* requests that found the name held */
	/* the order of events, for the order checks: +k asked, -k unlocked */
	int ev[4 * MAXSEG];
	unsigned nev;
} SG;

static struct {
	uint64_t ref[MAXLK + 1];
	char ls[MAXLK + 1][48];
	char name[MAXLK + 1][48];
	bool unlocked[MAXLK + 1];
	unsigned n;
	int last_err;
	unsigned replies;
	uint64_t alloc_id;
	struct res_uid last;	/* the last successful answer's */
	uint32_t client;
	unsigned may_calls;	/* host may_use calls so far */
	unsigned fail_call;	/* the one that says SDLM_ELEASE (0: none) */
	uint32_t unlock_flags;	/* the last unlock's flags and value block */
	uint8_t unlock_lvb[UID_LVB_LEN];
	unsigned killed;	/* clients killed (host kill_clients) */
	uint32_t killed_client;	/* the last one */
	uint64_t ho_lock;	/* our lock under the cluster lock HO_CL */
} L;

/* A cluster lock asked for through the disk (lsm_ho_locks). */
#define HO_CL	(3ull << 32 | 7)

/* The lock manager, as uidsvc.c sees it: a request is queued (its grant
 * is delivered by the test with uidsvc_ast), an unlock is recorded. */
static bool seg_free(unsigned k)
{
	for (unsigned j = 1; j <= SG.n; j++)
		if (j != k && SG.granted[j] && !SG.unlocked[j] && !strcmp(SG.name[j], SG.name[k]))
			return false;
	return true;
}

/* Grant the first waiting segment request whose name is free: its lock
 * id, or 0 when none can be granted. */
static uint64_t seg_grant_next(void)
{
	for (unsigned k = 1; k <= SG.n; k++) {
		if (SG.granted[k] || SG.unlocked[k] || !seg_free(k))
			continue;
		SG.granted[k] = true;
		uidsvc_ast(SEGLK0 + k, SG.ref[k], 0, SDLM_EX, NULL, false, 1);
		return SEGLK0 + k;
	}
	return 0;
}

static void seg_pump(void)
{
	if (!SG.manual)
		while (seg_grant_next())
			;
}

int lsm_lock(uint32_t client, uint64_t ref, const char *ls, size_t ls_len,
	     const void *res, size_t res_len, int mode, uint32_t flags, uint64_t *lkid)
{
	(void)client; (void)mode; (void)flags;
	if (res_len > 10 && !memcmp(res, "uid-table.", 10)) {
		unsigned k = ++SG.n;

		assert_true(k <= MAXSEG);
		assert_int_equal(ls_len, strlen(UIDSVC_TABLE_LS));
		assert_memory_equal(ls, UIDSVC_TABLE_LS, ls_len);
		SG.ref[k] = ref;
		snprintf(SG.name[k], sizeof(SG.name[0]), "%.*s", (int)res_len, (const char *)res);
		SG.ev[SG.nev++] = (int)k;
		*lkid = SEGLK0 + k;
		if (!seg_free(k))
			SG.waited++;
		else if (!SG.manual) {
			SG.granted[k] = true;
			uidsvc_ast(SEGLK0 + k, ref, 0, SDLM_EX, NULL, false, 1);
		}
		return 0;
	}
	assert_true(L.n < MAXLK);
	L.n++;
	L.ref[L.n] = ref;
	snprintf(L.ls[L.n], sizeof(L.ls[0]), "%.*s", (int)ls_len, ls);
	snprintf(L.name[L.n], sizeof(L.name[0]), "%.*s", (int)res_len, (const char *)res);
	*lkid = L.n;
	return 0;
}

int lsm_unlock(uint32_t client, uint64_t lkid, uint32_t flags, const uint8_t *lvb)
{
	(void)client; (void)flags; (void)lvb;
	if (lkid > SEGLK0) {
		unsigned k = (unsigned)(lkid - SEGLK0);

		assert_true(k <= SG.n);
		assert_false(SG.unlocked[k]);
		SG.unlocked[k] = true;
		SG.ev[SG.nev++] = -(int)k;
		return 0;
	}
	assert_true(lkid >= 1 && lkid <= L.n);
	assert_false(L.unlocked[lkid]);
	L.unlocked[lkid] = true;
	L.unlock_flags = flags;
	memset(L.unlock_lvb, 0, sizeof(L.unlock_lvb));
	if (lvb)
		memcpy(L.unlock_lvb, lvb, sizeof(L.unlock_lvb));
	return 0;
}

/* The local holders of a cluster lock: the UID service's lock
 * L.ho_lock under HO_CL, and a client's lock beside it. */
size_t lsm_ho_locks(uint64_t lkid, uint32_t *clients, uint64_t *lkids, size_t max)
{
	if (lkid != HO_CL || max < 2)
		return 0;
	clients[0] = 42;
	lkids[0] = 99;
	clients[1] = UIDSVC_CLIENT;
	lkids[1] = L.ho_lock;
	return 2;
}

static int svc_may_use(void *ctx)
{
	if (++L.may_calls == L.fail_call)
		return SDLM_ELEASE;
	return ((struct fixture *)ctx)->may_use;
}

static void svc_reply(void *ctx, uint32_t client, uint32_t seq, int err, const struct res_uid *r)
{
	(void)ctx; (void)seq;
	L.replies++;
	L.last_err = err;
	L.client = client;
	if (!err && r) {
		L.alloc_id = r->alloc_id;
		L.last = *r;
	}
}

static void svc_kill(void *ctx, const uint32_t *clients, size_t n)
{
	(void)ctx;
	L.killed += (unsigned)n;
	if (n)
		L.killed_client = clients[n - 1];
}

static void svc_init(struct fixture *fx)
{
	struct uidsvc_host h = {
		.ctx = fx, .nodeid = 1, .incarnation = 0x11, .may_use = svc_may_use,
		.reply = svc_reply, .kill_clients = svc_kill,
	};

	memset(&L, 0, sizeof(L));
	memset(&SG, 0, sizeof(SG));
	h.reserve_min = 4;
	h.reserve_max = 16;
	assert_int_equal(uidsvc_init(&h, fx->a), 0);
}

static void svc_req(uint32_t client, uint32_t op, const char *mb, uint64_t alloc_id)
{
	struct req_uid r;

	memset(&r, 0, sizeof(r));
	r.op = op;
	r.count = 1;
	r.alloc_id = alloc_id;
	r.ls_len = 2;
	memcpy(r.ls, "ls", 2);
	r.mb_len = (uint16_t)strlen(mb);
	memcpy(r.mailbox, mb, r.mb_len);
	uidsvc_request(client, 1, &r);
}

static void svc_grant(uint64_t lkid)
{
	uidsvc_ast(lkid, L.ref[lkid], 0, SDLM_EX, NULL, false, 1);
}

/* An import of mailbox mb at (uv, next), flags SDLM_UID_IMPORT_*, the
 * store's epoch floor epoch_min. */
static void svc_import_e(uint32_t client, const char *mb, uint32_t uv, uint32_t next,
			 uint16_t flags, uint64_t epoch_min)
{
	struct req_uid r;

	memset(&r, 0, sizeof(r));
	r.op = SDLM_UID_IMPORT;
	r.alloc_id = epoch_min;
	r.value = uv;
	r.count = next;
	r.op_flags = flags;
	r.ls_len = 2;
	memcpy(r.ls, "ls", 2);
	r.mb_len = (uint16_t)strlen(mb);
	memcpy(r.mailbox, mb, r.mb_len);
	uidsvc_request(client, 1, &r);
}

static void svc_import_f(uint32_t client, const char *mb, uint32_t uv, uint32_t next,
			 uint16_t flags)
{
	svc_import_e(client, mb, uv, next, flags, 0);
}

/* An import (restore: its restoring form) of mailbox mb at (uv, next). */
static void svc_import(uint32_t client, const char *mb, uint32_t uv, uint32_t next,
		       bool restore)
{
	svc_import_f(client, mb, uv, next, restore ? SDLM_UID_IMPORT_RESTORE : 0);
}

static uint64_t svc_writes(void)
{
	struct uidsvc_stats st;

	uidsvc_get_stats(&st);
	return st.record_writes;
}

/* Turns of the daemon's loop (its I/O, its tick) until pred or 20 T. */
static bool svc_until(bool (*pred)(void *), void *arg)
{
	uint64_t end = aio_now_ns() + 20ull * IO_MS * MS;

	while (!pred(arg) && aio_now_ns() < end) {
		struct pollfd pfd = { .fd = uidsvc_fd(), .events = POLLIN };
		uint64_t dl = uidsvc_next_deadline_ns(), now = aio_now_ns();
		int ms = dl == UINT64_MAX ? 20 : dl > now ? (int)((dl - now) / MS) + 1 : 0;

		assert_true(poll(&pfd, 1, ms > 20 ? 20 : ms) >= 0);
		uidsvc_process();
		uidsvc_tick();
		seg_pump();
	}
	return pred(arg);
}

static bool lock_count(void *arg)
{
	return L.n >= (unsigned)(uintptr_t)arg;
}

static bool writes_reach(void *arg)
{
	return svc_writes() >= (uint64_t)(uintptr_t)arg;
}

static bool unlocked(void *arg)
{
	return L.unlocked[(uintptr_t)arg];
}

static bool deg_left(void *arg)
{
	(void)arg;
	return uidsvc_degraded_set(false) == 0;
}

static bool replied(void *arg)
{
	return L.replies >= (unsigned)(uintptr_t)arg;
}

/* Locks granted so far by svc_drive (every request is granted in turn). */
static unsigned granted;

static bool replied_or_locking(void *arg)
{
	return replied(arg) || L.n > granted;
}

/* Turns of the loop, granting every lock asked for, until want replies. */
static void svc_drive(unsigned want)
{
	while (L.replies < want) {
		assert_true(svc_until(replied_or_locking, (void *)(uintptr_t)want));
		while (L.n > granted)
			svc_grant(++granted);
	}
}

/* One request answered: its error. */
static int svc_do(uint32_t op, const char *mb, uint64_t alloc_id)
{
	unsigned want = L.replies + 1;

	svc_req(7, op, mb, alloc_id);
	svc_drive(want);
	return L.last_err;
}

/* Two names whose GUIDs have one home slot in the fixture's table. */
static void colliding_names(char x[16], char m[16])
{
	uint8_t g[UID_GUID_LEN];
	uint64_t home;
	unsigned i;

	snprintf(x, 16, "boxx0");
	assert_int_equal(uid_name_guid("ls", x, strlen(x), UIDNAME_V2, g), 0);
	home = uidtab_home(g, NSLOTS);
	for (i = 1; i < 100000; i++) {
		snprintf(m, 16, "boxm%u", i);
		assert_int_equal(uid_name_guid("ls", m, strlen(m), UIDNAME_V2, g), 0);
		if (uidtab_home(g, NSLOTS) == home)
			return;
	}
	fail_msg("no colliding name");
}

/*
 * New mailbox: mailbox lock (1) granted, lookup, the lockspace's table
 * lock (2: what an older daemon takes) asked and granted, then the
 * area's table lock (3), in the fixed lockspace whatever the mailbox's
 * (creators in two lockspaces must not take the same slot), asked; its
 * grant asks for the GUID's home segment (granted at once: free).
 */
static void svc_to_table(const char *mb)
{
	svc_req(7, SDLM_UID_ALLOC, mb, 0);
	assert_int_equal(L.n, 1);
	assert_string_equal(L.ls[1], "ls");
	assert_memory_equal(L.name[1], "uid:", 4);
	svc_grant(1);
	assert_true(svc_until(lock_count, (void *)2));
	assert_string_equal(L.ls[2], "ls");
	assert_string_equal(L.name[2], "uid-table");
	svc_grant(2);
	assert_int_equal(L.n, 3);
	assert_string_equal(L.ls[3], "sdlm-admin");
	assert_string_equal(L.name[3], "uid-table");
}

/*
 * Finding 1 (shutdown): lock use stops (uidsvc_stop_all, as on SIGTERM)
 * while copy 0 of a create's two writes is in the kernel.  No record
 * write may be submitted after that: the locks are about to be released.
 */
static void test_svc_no_write_after_stop(void **state)
{
	struct fixture *fx = *state;
	uint64_t w0;

	svc_init(fx);
	svc_to_table("box1");
	uidsvc_apply_fault("write:stall=200");
	svc_grant(3);
	assert_true(svc_until(writes_reach, (void *)1));
	uidsvc_leave();		/* SIGTERM: uidsvc_stop_all and no new request */
	w0 = svc_writes();
	assert_int_equal(w0, 1);
	/* the daemon may not release the locks yet */
	assert_false(uidsvc_quiet());
	/* the entry gives its mailbox up once copy 0 has left the kernel */
	assert_true(svc_until(unlocked, (void *)1));
	assert_true(L.unlocked[2]);
	assert_true(L.unlocked[3]);
	assert_int_equal(svc_writes(), w0);
	assert_true(uidsvc_quiet());
	svc_req(9, SDLM_UID_ALLOC, "box1", 0);
	assert_int_equal(L.last_err, SDLM_EDAEMON);
	assert_int_equal(L.n, 3);
	uidsvc_apply_fault(NULL);
	uidsvc_fini();
}

static bool svc_quiet(void *arg)
{
	(void)arg;
	return uidsvc_quiet();
}

/*
 * Finding 1, the timed-out write: a create's first write misses its
 * deadline and stays in the kernel; the daemon leaves.  The service is
 * not quiet (the daemon must not release the locks) and keeps both
 * locks until the write has left the kernel.
 */
static void test_svc_leave_waits_stuck_write(void **state)
{
	struct fixture *fx = *state;

	svc_init(fx);
	svc_to_table("box5");
	uidsvc_apply_fault("write:late=inf");
	svc_grant(3);
	assert_true(svc_until(replied, (void *)1));
	assert_int_equal(L.last_err, SDLM_EIOTIMEOUT);
	uidsvc_leave();
	assert_int_equal(svc_writes(), 1);
	assert_false(uidsvc_quiet());
	assert_false(L.unlocked[1]);
	assert_false(L.unlocked[2]);
	assert_false(L.unlocked[3]);
	/* the path comes back: the write lands, is reaped, locks go back */
	uidsvc_apply_fault(NULL);
	assert_true(svc_until(svc_quiet, NULL));
	assert_true(L.unlocked[1]);
	assert_true(L.unlocked[2]);
	assert_true(L.unlocked[3]);
	assert_int_equal(svc_writes(), 1);
	uidsvc_fini();
}

static int svc_alloc1(const char *mb);

/*
 * Issue 19 item 1, the UID service's side of the hand-off: a mailbox
 * asked for through the disk while this node is away, whose allocation a
 * hung delivery never commits, gives up within K like any lock user
 * (uidsvc_ho_kill, at the hand-off's HO_ACT_KILL), not on its allocation
 * lease (600 s by default: the away node was fenced after B instead).
 * The client is killed; nothing more is served from the mailbox; once
 * the killed client is gone (not before: it may be in the middle of its
 * store write) its UIDs are a gap and the mailbox is released with a
 * value block above them.
 */
static void test_svc_ho_kill_uncommitted(void **state)
{
	struct fixture *fx = *state;
	struct uid_lvb lv;
	uint32_t first;

	svc_init(fx);
	granted = 0;
	svc_req(7, SDLM_UID_ALLOC, "box30", 0);
	svc_drive(1);
	assert_int_equal(L.last_err, 0);
	assert_int_equal(L.n, 3);	/* the mailbox lock (1), two table locks */
	first = L.last.first;
	/* another delivery waits behind the uncommitted allocation */
	svc_req(8, SDLM_UID_ALLOC, "box30", 0);
	assert_int_equal(L.replies, 1);
	/* the hand-off's blocking callback: the allocation keeps the mailbox */
	uidsvc_bast(1, L.ref[1], SDLM_EX);
	uidsvc_tick();
	assert_false(L.unlocked[1]);
	/* K passed */
	L.ho_lock = 1;
	assert_int_equal(uidsvc_ho_kill(HO_CL + 1), 0);	/* another lock */
	assert_int_equal(L.killed, 0);
	assert_int_equal(uidsvc_ho_kill(HO_CL), 1);
	assert_int_equal(L.killed, 1);
	assert_int_equal(L.killed_client, 7);
	uidsvc_tick();
	assert_false(L.unlocked[1]);	/* client 7 is not gone yet */
	assert_int_equal(L.replies, 1);	/* client 8 is not served */
	/* client 7 died: its allocation is aborted, the mailbox released */
	uidsvc_client_gone(7);
	assert_true(L.unlocked[1]);
	assert_true(L.unlock_flags & SDLM_LKF_VALBLK);
	assert_int_equal(uid_lvb_in(&lv, L.unlock_lvb), 0);
	assert_true(lv.next > first);
	/* client 8 waits for the lock again, which this node, away, does
	 * not get (it fails with SDLM_EHANDEDOFF once the lock is listed) */
	assert_int_equal(L.replies, 1);
	assert_int_equal(L.n, 4);
	assert_memory_equal(L.name[4], "uid:", 4);
	assert_int_equal(L.killed, 1);
	uidsvc_fini();
}

/*
 * The same while the mailbox waits for a table lock the cluster cannot
 * grant (this node is away): the locks held are given back at once,
 * nothing was written under them.
 */
static void test_svc_ho_kill_table_wait(void **state)
{
	struct fixture *fx = *state;

	svc_init(fx);
	svc_to_table("box32");	/* holds 1 and 2, waits for 3 */
	L.ho_lock = 2;
	assert_int_equal(uidsvc_ho_kill(HO_CL), 0);
	assert_true(L.unlocked[1]);
	assert_true(L.unlocked[2]);
	assert_int_equal(svc_writes(), 0);
	/* the request asks for the mailbox lock again */
	assert_int_equal(L.n, 4);
	assert_memory_equal(L.name[4], "uid:", 4);
	/* the table lock it gave up waiting for is given back when granted */
	svc_grant(3);
	assert_true(L.unlocked[3]);
	uidsvc_fini();
}

/*
 * Review question V2 (docs/design-handoff.md): the hand-off's blocking
 * callback comes while a record write of the mailbox is in the kernel
 * and misses its deadline.  The mailbox is released (which lets the away
 * node answer) only once that write has left the kernel, never while it
 * may still land over the next holder's records.
 */
static void test_svc_bast_waits_stuck_write(void **state)
{
	struct fixture *fx = *state;
	struct uid_lvb lv;
	uint64_t w;
	unsigned n;

	svc_init(fx);
	granted = 0;
	svc_req(7, SDLM_UID_ALLOC, "box31", 0);
	svc_drive(1);
	assert_int_equal(L.last_err, 0);
	svc_req(7, SDLM_UID_COMMIT, "", L.alloc_id);
	/* the next range's write is withheld from the disk past its deadline */
	uidsvc_apply_fault("write:late=inf");
	w = svc_writes();
	for (n = 0; n < 100 && svc_writes() == w; n++)
		assert_int_equal(svc_alloc1("box31"), 0);
	assert_int_equal(svc_writes(), w + 1);
	uidsvc_bast(1, L.ref[1], SDLM_EX);
	/* timed out after T, still in flight: the mailbox stays, 20 T long */
	assert_false(svc_until(unlocked, (void *)1));
	assert_false(uidsvc_quiet());
	/* the path comes back: the write lands and leaves the kernel */
	uidsvc_apply_fault(NULL);
	assert_true(svc_until(unlocked, (void *)1));
	assert_true(uidsvc_quiet());
	assert_true(L.unlock_flags & SDLM_LKF_VALBLK);
	assert_int_equal(uid_lvb_in(&lv, L.unlock_lvb), 0);
	assert_true(lv.next > L.last.first);
	assert_int_equal(svc_writes(), w + 1);
	uidsvc_fini();
}

/* Degraded: the allocation of client 7 answered, then committed, so that
 * degraded mode may be left. */
static void svc_deg_served(void)
{
	assert_true(svc_until(replied, (void *)1));
	assert_int_equal(L.last_err, 0);
	svc_req(7, SDLM_UID_COMMIT, "", L.alloc_id);
	assert_int_equal(L.replies, 2);
	assert_int_equal(L.last_err, 0);
}

/*
 * Finding 2 (table variant): the table lock of a new mailbox waits;
 * degraded mode is entered (a degraded takeover runs on the entry); the
 * table lock is granted during that I/O.  Leaving degraded mode must
 * give the mailbox lock back (every other node waits for it).
 */
static void test_svc_deg_table_grant_while_busy(void **state)
{
	struct fixture *fx = *state;

	svc_init(fx);
	svc_to_table("box2");
	uidsvc_apply_fault("write:stall=100");
	assert_int_equal(uidsvc_degraded_set(true), 0);
	svc_grant(3);		/* the degraded lookup is in flight */
	svc_deg_served();
	uidsvc_apply_fault(NULL);
	assert_int_equal(uidsvc_degraded_set(false), 0);
	assert_true(L.unlocked[3]);
	assert_true(L.unlocked[2]);
	assert_true(L.unlocked[1]);
	uidsvc_fini();
}

/*
 * Finding 2 (locking variant): the mailbox lock is granted while the
 * degraded takeover runs.  Once degraded mode is left, the mailbox is
 * not held any more and a new request asks for the lock again.
 */
static void test_svc_deg_lock_grant_while_busy(void **state)
{
	struct fixture *fx = *state;

	svc_init(fx);
	svc_req(7, SDLM_UID_ALLOC, "box3", 0);
	assert_int_equal(L.n, 1);
	assert_int_equal(uidsvc_degraded_set(true), 0);
	svc_grant(1);		/* the degraded lookup is in flight */
	svc_deg_served();
	assert_int_equal(uidsvc_degraded_set(false), 0);
	assert_true(L.unlocked[1]);
	svc_req(8, SDLM_UID_ALLOC, "box3", 0);
	assert_int_equal(L.n, 2);
	svc_grant(2);
	assert_true(svc_until(replied, (void *)3));
	assert_int_equal(L.last_err, 0);
	uidsvc_fini();
}

/*
 * Finding 3: a degraded takeover's write times out and stays in the
 * kernel (its copy stuck).  Degraded mode cannot be left (the core
 * would be dropped with the write still able to land) until the write
 * has left the kernel.
 */
static void test_svc_deg_leave_waits_stuck(void **state)
{
	struct fixture *fx = *state;

	svc_init(fx);
	assert_int_equal(uidsvc_degraded_set(true), 0);
	uidsvc_apply_fault("write:late=inf");
	svc_req(7, SDLM_UID_ALLOC, "box4", 0);
	assert_true(svc_until(replied, (void *)1));
	assert_int_equal(L.last_err, SDLM_EIOTIMEOUT);
	assert_int_equal(uidsvc_degraded_set(false), -EBUSY);
	uidsvc_apply_fault(NULL);
	assert_true(svc_until(deg_left, NULL));
	uidsvc_fini();
}

/* One allocation of client 7 on mb, answered (err returned), committed. */
static int svc_alloc1(const char *mb)
{
	unsigned want = L.replies + 1;
	int err;

	svc_req(7, SDLM_UID_ALLOC, mb, 0);
	assert_true(svc_until(replied, (void *)(uintptr_t)want));
	err = L.last_err;
	if (!err)
		svc_req(7, SDLM_UID_COMMIT, "", L.alloc_id);
	return err;
}

/*
 * The allocation that reserves the next range ahead is refused by the
 * second permission check, right before its reply.  The core had handed
 * back that write: it must be told it was not issued, or the mailbox
 * never reserves again (every later allocation waits for ever) nor
 * releases.
 */
static void test_svc_ahead_refused(void **state)
{
	struct fixture *fx = *state;
	uint64_t w;
	unsigned n = 0, i;

	svc_init(fx);
	/* box6: how many allocations after the takeover reserve ahead */
	svc_req(7, SDLM_UID_ALLOC, "box6", 0);
	svc_grant(1);
	assert_true(svc_until(lock_count, (void *)2));
	svc_grant(2);
	svc_grant(3);
	assert_true(svc_until(replied, (void *)1));
	assert_int_equal(L.last_err, 0);
	svc_req(7, SDLM_UID_COMMIT, "", L.alloc_id);
	w = svc_writes();
	for (n = 2; n < 100; n++) {
		assert_int_equal(svc_alloc1("box6"), 0);
		if (svc_writes() > w)
			break;
	}
	assert_true(n < 100);
	/* box7, the same way, with allocation n refused at its second check */
	svc_req(7, SDLM_UID_ALLOC, "box7", 0);
	svc_grant(4);
	assert_true(svc_until(lock_count, (void *)5));
	svc_grant(5);
	svc_grant(6);
	assert_true(svc_until(replied, (void *)(uintptr_t)(L.replies + 1)));
	assert_int_equal(L.last_err, 0);
	svc_req(7, SDLM_UID_COMMIT, "", L.alloc_id);
	for (i = 2; i < n; i++)
		assert_int_equal(svc_alloc1("box7"), 0);
	w = svc_writes();
	L.fail_call = L.may_calls + 2;
	assert_int_equal(svc_alloc1("box7"), SDLM_ELEASE);
	assert_int_equal(svc_writes(), w);	/* the write-ahead not issued */
	/* the mailbox goes on past several ranges */
	for (i = 0; i < 40; i++)
		assert_int_equal(svc_alloc1("box7"), 0);
	assert_true(svc_writes() > w);
	/* and gives the lock back when asked */
	uidsvc_bast(4, L.ref[4], SDLM_EX);
	assert_true(svc_until(unlocked, (void *)4));
	uidsvc_fini();
}

/*
 * Finding 4: a timed-out write of one mailbox leaves the kernel while
 * another mailbox's ordinary I/O is in flight (a read stalled).  The
 * first mailbox is told its write left (its locks, parked for it, go
 * back) without waiting for the whole context to be idle.
 */
static void test_svc_reap_own_write(void **state)
{
	struct fixture *fx = *state;

	svc_init(fx);
	svc_to_table("box10");
	uidsvc_apply_fault("write:late=inf");
	svc_grant(3);
	assert_true(svc_until(replied, (void *)1));
	assert_int_equal(L.last_err, SDLM_EIOTIMEOUT);
	assert_false(L.unlocked[1]);
	/* box11's lookup stalls; the withheld write lands (fault changed) */
	uidsvc_apply_fault("read:stall=inf");
	svc_req(8, SDLM_UID_ALLOC, "box11", 0);
	assert_int_equal(L.n, 4);
	svc_grant(4);
	assert_true(svc_until(unlocked, (void *)1));
	assert_true(L.unlocked[2]);
	assert_true(L.unlocked[3]);
	assert_false(uidsvc_quiet());	/* box11's read is still in flight */
	uidsvc_apply_fault(NULL);
	assert_true(svc_until(svc_quiet, NULL));
	uidsvc_fini();
}

/*
 * Finding 1 (s23): mailbox M's slot is after X's on M's probe path; X is
 * deleted, then M; M comes back from a backup and is imported at its
 * old UIDVALIDITY with the backup's next UID.  The import must resume
 * above every UID M handed out before (its tombstone's watermark), and
 * under a higher epoch than M's old ones, not from the view of X's
 * tombstone, which the insert probe passes first.  Failed on the old
 * probe: next 1 (UIDs handed out twice), epoch not above the old one.
 */
static void test_svc_import_own_tombstone(void **state)
{
	struct fixture *fx = *state;
	char x[16], m[16];
	uint32_t uv, last = 0;
	uint64_t epoch;
	unsigned i;

	svc_init(fx);
	granted = 0;
	colliding_names(x, m);
	assert_int_equal(svc_do(SDLM_UID_ALLOC, x, 0), 0);
	svc_req(7, SDLM_UID_COMMIT, "", L.alloc_id);
	for (i = 0; i < 40; i++) {
		assert_int_equal(svc_do(SDLM_UID_ALLOC, m, 0), 0);
		assert_true(L.last.first > last);
		last = L.last.first;
		svc_req(7, SDLM_UID_COMMIT, "", L.alloc_id);
	}
	uv = L.last.uidvalidity;
	epoch = L.last.epoch;
	assert_int_equal(svc_do(SDLM_UID_DELETE, x, 0), 0);
	assert_int_equal(svc_do(SDLM_UID_DELETE, m, 0), 0);

	/* the backup's uidlist: V = uv, N = 10 */
	svc_import(7, m, uv, 10, false);
	svc_drive(L.replies + 1);
	assert_int_equal(L.last_err, 0);
	assert_int_equal(L.last.uidvalidity, uv);
	assert_true(L.last.next > last);
	assert_true(L.last.epoch > epoch);
	assert_int_equal(svc_do(SDLM_UID_ALLOC, m, 0), 0);
	assert_true(L.last.first > last);
	svc_req(7, SDLM_UID_COMMIT, "", L.alloc_id);
	epoch = L.last.epoch;

	/* deleted again and recreated plainly: a higher UIDVALIDITY, epochs
	 * above the old ones */
	assert_int_equal(svc_do(SDLM_UID_DELETE, m, 0), 0);
	assert_int_equal(svc_do(SDLM_UID_ALLOC, m, 0), 0);
	assert_true(L.last.uidvalidity > uv);
	assert_true(L.last.epoch > epoch);
	svc_req(7, SDLM_UID_COMMIT, "", L.alloc_id);
	uidsvc_fini();
}

/*
 * Review finding (s23 uidfix 3): a mailbox's record is damaged (both
 * copies fail their checksum) while deliveries keep allocating in it; the
 * operator's restore comes in behind an allocation.  The restore must be
 * served first wherever it waits in the queue (it failed with the
 * allocation at the head: the lookup's damage failed every request), and
 * the allocation then goes on in the restored mailbox.
 */
static void test_svc_restore_behind_alloc(void **state)
{
	struct fixture *fx = *state;
	struct uidtab_geom g;
	struct uid_rec r;
	uint8_t guid[UID_GUID_LEN], sec[512];
	uint64_t home, off;
	int fd;

	svc_init(fx);
	granted = 0;
	assert_int_equal(uid_name_guid("ls", "boxr", 4, UIDNAME_V2, guid), 0);
	assert_int_equal(uidtab_geom_init(&g, &fx->a->hdr), 0);
	home = uidtab_home(guid, NSLOTS);
	fd = open(fx->path, O_WRONLY);
	assert_true(fd >= 0);
	for (uint32_t c = 0; c < 2; c++) {
		memset(&r, 0, sizeof(r));
		r.state = UIDREC_USED;
		memcpy(r.guid, guid, UID_GUID_LEN);
		r.slot = home;
		r.copy = c;
		r.gen = 1;
		r.epoch = 1;
		r.seq = 1 + c;
		r.node_id = 2;
		r.uidvalidity = 9;
		r.watermark = 10;
		r.name_len = (uint16_t)snprintf(r.name, sizeof(r.name), "boxr");
		assert_int_equal(uidrec_out(&r, fx->a->hdr.uuid, sec, sizeof(sec)), 0);
		sec[200] ^= 0x5a;	/* the checksum fails */
		assert_int_equal(uidtab_geom_offset(&g, home, c, &off), 0);
		assert_int_equal(pwrite(fd, sec, sizeof(sec), (off_t)off), (ssize_t)sizeof(sec));
	}
	close(fd);

	svc_req(7, SDLM_UID_ALLOC, "boxr", 0);
	svc_import(8, "boxr", 0, 0, true);
	svc_drive(2);
	/* the allocation, answered last, in the restored mailbox: nothing
	 * was known of it, so under a new UIDVALIDITY */
	assert_int_equal(L.client, 7);
	assert_int_equal(L.last_err, 0);
	assert_true(L.last.count == 1);
	assert_int_not_equal(L.last.uidvalidity, 9);
	svc_req(7, SDLM_UID_COMMIT, "", L.alloc_id);
	uidsvc_fini();
}

/*
 * Both copies of slot s damaged (their checksum fails): written for the
 * mailbox named mb, or, mb NULL, bytes that name no mailbox at all (no
 * record magic).  The test plays the disk's damage.
 */
static void put_damaged_tag(struct fixture *fx, uint64_t s, const char *mb,
			    const char *tag_ls);

static void put_damaged(struct fixture *fx, uint64_t s, const char *mb)
{
	put_damaged_tag(fx, s, mb, NULL);
}

/* The same, its copies tagged with lockspace tag_ls's tag (NULL: none). */
static void put_damaged_tag(struct fixture *fx, uint64_t s, const char *mb,
			    const char *tag_ls)
{
	struct uidtab_geom g;
	struct uid_rec r;
	uint8_t sec[512];
	uint64_t off;
	int fd = open(fx->path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(uidtab_geom_init(&g, &fx->a->hdr), 0);
	for (uint32_t c = 0; c < 2; c++) {
		memset(sec, 0xe7, sizeof(sec));
		if (mb) {
			memset(&r, 0, sizeof(r));
			r.state = UIDREC_USED;
			assert_int_equal(uid_name_guid("ls", mb, strlen(mb), UIDNAME_V2, r.guid), 0);
			r.slot = s;
			r.copy = c;
			r.gen = 1;
			r.epoch = 1;
			r.seq = 1 + c;
			r.node_id = 2;
			r.uidvalidity = 9;
			r.watermark = 10;
			r.name_len = (uint16_t)snprintf(r.name, sizeof(r.name), "%s", mb);
			if (tag_ls)
				assert_int_equal(uid_lstag(tag_ls, r.lstag), 0);
			assert_int_equal(uidrec_out(&r, fx->a->hdr.uuid, sec, sizeof(sec)), 0);
			sec[200] ^= 0x5a;	/* the checksum fails */
		}
		assert_int_equal(uidtab_geom_offset(&g, s, c, &off), 0);
		assert_int_equal(pwrite(fd, sec, sizeof(sec), (off_t)off), (ssize_t)sizeof(sec));
	}
	close(fd);
}

/* Both copies of slot s as they are on the disk now (2 x 512 bytes). */
static void get_slot(struct fixture *fx, uint64_t s, uint8_t out[1024])
{
	struct uidtab_geom g;
	uint64_t off;
	int fd = open(fx->path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(uidtab_geom_init(&g, &fx->a->hdr), 0);
	assert_int_equal(uidtab_geom_offset(&g, s, 0, &off), 0);
	assert_int_equal(pread(fd, out, 1024, (off_t)off), 1024);
	close(fd);
}

/*
 * Import/restore review, finding 1 (safety): mailboxes X and Y share a
 * home slot H; Y's record in H lost both copies (checksums fail, its
 * GUID still there), X has no record.  X's probe path crosses H.
 *   - X's restore must not write X into H (Y would be lost, and Y's
 *     holder could write over X: two mailboxes in one slot).  It is
 *     refused (-EADDRINUSE: the slot is another mailbox's), nothing is
 *     written, H is left as it was, for Y's own restore.
 *   - A slot whose copies name no mailbox at all (H+1 garbage) is never
 *     written by a restore either: X's restore is refused with the
 *     damage (X may be the one lost there, or any other mailbox).
 *   - X's own damaged record further on (H+2) is where X's restore
 *     writes, past both.
 *   - Y's restore writes into H.
 *   - The slot naming nobody is written only on the operator's word
 *     (SDLM_UID_IMPORT_UNNAMED): a third mailbox Z of the same home is
 *     restored into it.
 * Failed on the old code: X's restore wrote into H (the first damaged
 * slot on its path).
 */
/*
 * Review s25-rev1 R2: a restore decided whose damaged slot it is by the
 * GUID alone.  A slot whose copies name this GUID under another
 * lockspace's tag is that lockspace's mailbox (its holder there may still
 * write it): a restore in "ls" must not write there.  On the old code it
 * did (restored, the slot rewritten with ls's tag).  The same slot with
 * our own tag, or no tag (an older record), is ours.
 */
static void test_svc_restore_other_lockspace_tag(void **state)
{
	struct fixture *fx = *state;
	uint8_t g[UID_GUID_LEN], before[1024], after[1024];
	const char *x = "restore-tag-x";
	uint64_t home, w0;

	svc_init(fx);
	granted = 0;
	assert_int_equal(uid_name_guid("ls", x, strlen(x), UIDNAME_V2, g), 0);
	home = uidtab_home(g, NSLOTS);
	put_damaged_tag(fx, home, x, "other-ls");
	get_slot(fx, home, before);

	w0 = svc_writes();
	svc_import(8, x, 5, 100, true);
	svc_drive(L.replies + 1);
	assert_int_equal(L.last_err, -EADDRINUSE);
	assert_int_equal(svc_writes(), w0);
	get_slot(fx, home, after);
	assert_memory_equal(before, after, sizeof(before));

	/* Our own tag: restored there. */
	put_damaged_tag(fx, home, x, "ls");
	svc_import(8, x, 5, 100, true);
	svc_drive(L.replies + 1);
	assert_int_equal(L.last_err, 0);
	assert_true(L.last.flags & SDLM_UID_F_RESTORED);
}

static void test_svc_restore_other_damaged(void **state)
{
	struct fixture *fx = *state;
	char x[16], y[16], z[16];
	uint8_t g[UID_GUID_LEN], gz[UID_GUID_LEN], before[1024], after[1024];
	uint64_t home, w0;
	unsigned i;

	svc_init(fx);
	granted = 0;
	colliding_names(x, y);
	assert_int_equal(uid_name_guid("ls", x, strlen(x), UIDNAME_V2, g), 0);
	home = uidtab_home(g, NSLOTS);
	put_damaged(fx, home, y);
	get_slot(fx, home, before);

	/* only Y's damaged slot on X's path: refused, nothing written */
	w0 = svc_writes();
	svc_import(8, x, 5, 100, true);
	svc_drive(L.replies + 1);
	assert_int_equal(L.last_err, -EADDRINUSE);
	assert_int_equal(svc_writes(), w0);
	get_slot(fx, home, after);
	assert_memory_equal(before, after, sizeof(before));

	/* and a slot naming nobody behind it: refused with the damage */
	put_damaged(fx, (home + 1) % NSLOTS, NULL);
	svc_import(8, x, 5, 100, true);
	svc_drive(L.replies + 1);
	assert_int_equal(L.last_err, SDLM_EMAGIC);
	assert_int_equal(svc_writes(), w0);
	get_slot(fx, home, after);
	assert_memory_equal(before, after, sizeof(before));

	/* X's own damaged record past both: restored there */
	put_damaged(fx, (home + 2) % NSLOTS, x);
	svc_import(8, x, 5, 100, true);
	svc_drive(L.replies + 1);
	assert_int_equal(L.last_err, 0);
	assert_true(L.last.flags & SDLM_UID_F_RESTORED);
	assert_int_equal(L.last.uidvalidity, 5);
	get_slot(fx, home, after);
	assert_memory_equal(before, after, sizeof(before));
	assert_int_equal(svc_do(SDLM_UID_ALLOC, x, 0), 0);
	assert_true(L.last.first >= 100);
	svc_req(7, SDLM_UID_COMMIT, "", L.alloc_id);

	/* Y's restore: into H, its own */
	svc_import(8, y, 6, 50, true);
	svc_drive(L.replies + 1);
	assert_int_equal(L.last_err, 0);
	assert_true(L.last.flags & SDLM_UID_F_RESTORED);
	assert_int_equal(L.last.uidvalidity, 6);
	get_slot(fx, home, after);
	assert_memory_not_equal(before, after, sizeof(before));
	/* both found again, each in its own record */
	assert_int_equal(svc_do(SDLM_UID_ALLOC, y, 0), 0);
	assert_int_equal(L.last.uidvalidity, 6);
	svc_req(7, SDLM_UID_COMMIT, "", L.alloc_id);
	assert_int_equal(svc_do(SDLM_UID_ALLOC, x, 0), 0);
	assert_int_equal(L.last.uidvalidity, 5);
	svc_req(7, SDLM_UID_COMMIT, "", L.alloc_id);

	/* Z, same home: only the slot naming nobody is left on its path */
	for (i = 1; i < 100000; i++) {
		snprintf(z, sizeof(z), "boxz%u", i);
		assert_int_equal(uid_name_guid("ls", z, strlen(z), UIDNAME_V2, g), 0);
		if (uidtab_home(g, NSLOTS) == home)
			break;
	}
	assert_true(i < 100000);
	svc_import(8, z, 7, 30, true);
	svc_drive(L.replies + 1);
	assert_int_equal(L.last_err, SDLM_EMAGIC);
	svc_import_f(8, z, 7, 30, SDLM_UID_IMPORT_RESTORE | SDLM_UID_IMPORT_UNNAMED);
	svc_drive(L.replies + 1);
	assert_int_equal(L.last_err, 0);
	assert_true(L.last.flags & SDLM_UID_F_RESTORED);
	get_slot(fx, (home + 1) % NSLOTS, after);
	assert_int_equal(uidrec_claimed_guid(after, 512, gz), 0);
	assert_memory_equal(gz, g, UID_GUID_LEN);
	assert_int_equal(svc_do(SDLM_UID_ALLOC, z, 0), 0);
	assert_int_equal(L.last.uidvalidity, 7);
	svc_req(7, SDLM_UID_COMMIT, "", L.alloc_id);
	uidsvc_fini();
}

/*
 * Import/restore review, finding 2: a client's import carries the
 * store's epoch floor (the uidlist's E + 1, which the mail user can
 * write).  One up to 2^63 - 1 was accepted: the record's epoch went
 * there and every later takeover (epoch + 1) came near the wrap, the
 * mailbox unusable.  Above SDLM_UID_IMPORT_EPOCH_MAX it is refused
 * (-ERANGE), before any lock or write, for a create, a restore and a
 * record that exists alike; at the limit it is honoured.  Failed on the
 * old code (the import was served: 0).
 */
static void test_svc_import_epoch_bounded(void **state)
{
	struct fixture *fx = *state;
	uint64_t w0;
	unsigned want;

	svc_init(fx);
	granted = 0;
	w0 = svc_writes();
	want = L.replies + 1;
	svc_import_e(8, "boxe", 5, 10, 0, SDLM_UID_IMPORT_EPOCH_MAX + 1);
	svc_drive(want);
	assert_int_equal(L.last_err, -ERANGE);
	assert_int_equal(L.n, 0);		/* no lock asked */
	assert_int_equal(svc_writes(), w0);
	want = L.replies + 1;
	svc_import_e(8, "boxe", 5, 10, SDLM_UID_IMPORT_RESTORE, UINT64_MAX >> 1);
	svc_drive(want);
	assert_int_equal(L.last_err, -ERANGE);
	assert_int_equal(L.n, 0);

	want = L.replies + 1;
	svc_import_e(8, "boxe", 5, 10, 0, SDLM_UID_IMPORT_EPOCH_MAX);
	svc_drive(want);
	assert_int_equal(L.last_err, 0);
	assert_true(L.last.flags & SDLM_UID_F_CREATED);
	assert_true(L.last.epoch == SDLM_UID_IMPORT_EPOCH_MAX);
	/* the record exists: refused all the same */
	want = L.replies + 1;
	svc_import_e(8, "boxe", 5, 20, 0, SDLM_UID_IMPORT_EPOCH_MAX + 1);
	svc_drive(want);
	assert_int_equal(L.last_err, -ERANGE);
	uidsvc_fini();
}

/*
 * Import/restore review, finding 3: the store's epoch floor (--epoch,
 * the uidlist's E + 1) was silently ignored for a record that exists.
 * A floor the record already meets (E at most its epoch: a writer this
 * record knows) is fine; one above it (the store saw an epoch this record
 * never handed out: its deliveries would be refused by the store's epoch
 * check) is refused, -ESTALE, nothing raised.  Failed on the old code
 * (answered 0, next raised, the floor dropped).
 */
static void test_svc_import_epoch_existing(void **state)
{
	struct fixture *fx = *state;
	uint64_t epoch;
	uint32_t uv, next;
	unsigned want;

	svc_init(fx);
	granted = 0;
	assert_int_equal(svc_do(SDLM_UID_ALLOC, "boxf", 0), 0);
	svc_req(7, SDLM_UID_COMMIT, "", L.alloc_id);
	uv = L.last.uidvalidity;
	epoch = L.last.epoch;
	next = L.last.first + 1;
	/* E = the record's epoch: met, the import raises as usual */
	want = L.replies + 1;
	svc_import_e(8, "boxf", uv, next + 5, 0, epoch + 1);
	svc_drive(want);
	assert_int_equal(L.last_err, 0);
	assert_true(L.last.next >= next + 5);
	next = L.last.next;
	/* E above it: refused, nothing raised */
	want = L.replies + 1;
	svc_import_e(8, "boxf", uv, next + 1000, 0, epoch + 2);
	svc_drive(want);
	assert_int_equal(L.last_err, -ESTALE);
	assert_int_equal(svc_do(SDLM_UID_ALLOC, "boxf", 0), 0);
	assert_true(L.last.first < next + 1000);
	svc_req(7, SDLM_UID_COMMIT, "", L.alloc_id);
	uidsvc_fini();
}

/*
 * The area's table lock is refused (its lockspace could not be used): the
 * request is answered with the error, and the lockspace's table lock and
 * the mailbox lock, both held, are given back.
 */
static void test_svc_area_table_refused(void **state)
{
	struct fixture *fx = *state;

	svc_init(fx);
	svc_to_table("box12");
	uidsvc_ast(3, L.ref[3], SDLM_EFENCED, SDLM_EX, NULL, false, 1);
	assert_int_equal(L.replies, 1);
	assert_int_equal(L.last_err, SDLM_EFENCED);
	assert_true(L.unlocked[2]);
	assert_true(L.unlocked[1]);
	assert_false(L.unlocked[3]);	/* never granted */
	assert_true(uidsvc_quiet());
	uidsvc_fini();
}

/*
 * Review s24 F1: a grant the entry no longer waits for is given straight
 * back, whatever the entry waits for now.  A creator holds the mailbox
 * lock (1) and ls/uid-table (2) and waits for sdlm-admin/uid-table (3)
 * when lock use stops (uidsvc_stop_all: a revocation of the mailbox's
 * lockspace; the request in sdlm-admin stays queued there).  The mailbox
 * is asked for again (4).  The stale grant of 3 must not be taken for the
 * mailbox lock: on the old code the entry took the mailbox over under
 * sdlm-admin/uid-table, released 4 as "given up while queued" (no
 * mailbox lock: another node allocates from the same record, UIDs
 * twice) and kept the area's table lock for ever.
 */
static void test_svc_stale_area_grant(void **state)
{
	struct fixture *fx = *state;

	svc_init(fx);
	svc_to_table("box13");
	uidsvc_stop_all();
	assert_true(L.unlocked[1]);
	assert_true(L.unlocked[2]);
	assert_int_equal(L.replies, 1);		/* SDLM_EFENCED */
	svc_req(7, SDLM_UID_ALLOC, "box13", 0);
	assert_int_equal(L.n, 4);
	assert_string_equal(L.ls[4], "ls");
	assert_memory_equal(L.name[4], "uid:", 4);
	svc_grant(3);			/* sdlm-admin/uid-table, stale */
	assert_true(L.unlocked[3]);
	assert_true(uidsvc_quiet());	/* no takeover started under it */
	assert_int_equal(L.n, 4);
	granted = 3;
	svc_drive(2);			/* 4, then the table locks 5 and 6 */
	assert_int_equal(L.last_err, 0);
	assert_int_equal(L.last.count, 1);
	assert_false(L.unlocked[4]);	/* the mailbox lock is the one held */
	assert_string_equal(L.ls[5], "ls");
	assert_string_equal(L.name[5], "uid-table");
	assert_string_equal(L.ls[6], "sdlm-admin");
	assert_true(L.unlocked[5]);
	assert_true(L.unlocked[6]);
	svc_req(7, SDLM_UID_COMMIT, "", L.alloc_id);
	uidsvc_fini();
}

/*
 * The same with the lockspace's table lock: it is queued (2) when lock use
 * stops (sdlm-admin revoked, the mailbox's lockspace not); its late grant,
 * while the entry waits for the mailbox lock again (3), is given back.
 */
static void test_svc_stale_ls_table_grant(void **state)
{
	struct fixture *fx = *state;

	svc_init(fx);
	svc_req(7, SDLM_UID_ALLOC, "box14", 0);
	svc_grant(1);
	assert_true(svc_until(lock_count, (void *)2));
	assert_string_equal(L.name[2], "uid-table");
	uidsvc_stop_all();
	assert_true(L.unlocked[1]);
	svc_req(7, SDLM_UID_ALLOC, "box14", 0);
	assert_int_equal(L.n, 3);
	assert_memory_equal(L.name[3], "uid:", 4);
	svc_grant(2);			/* ls/uid-table, stale */
	assert_true(L.unlocked[2]);
	assert_true(uidsvc_quiet());
	assert_int_equal(L.n, 3);
	svc_grant(3);
	assert_false(L.unlocked[3]);
	assert_true(svc_until(lock_count, (void *)4));
	assert_string_equal(L.name[4], "uid-table");
	uidsvc_fini();
}

static bool mbx_given_back_or_table(void *arg)
{
	(void)arg;
	return L.unlocked[1] || L.n >= 2;
}

/*
 * Review s24 F3: an import (the operator's adoption of a mail store) gives
 * up (SDLM_ESLOW) and cancels itself while the mailbox lock is asked for.
 * Nobody waits any more: the mailbox must not be created for nobody.  On
 * the old code it was created fresh, a new UIDVALIDITY at UID 1, and the
 * import tried again was then refused (the record's UIDVALIDITY is not
 * the store's): the store's UIDs could not be adopted any more.
 */
static void test_svc_cancelled_import_creates_nothing(void **state)
{
	struct fixture *fx = *state;

	svc_init(fx);
	granted = 0;
	svc_import(7, "box15", 1234, 50, false);
	assert_int_equal(L.n, 1);
	svc_req(7, SDLM_UID_CANCEL, "", 1);	/* the call with seq 1 */
	assert_int_equal(L.replies, 2);		/* ECANCELED, then the cancel's */
	assert_int_equal(L.last_err, 0);
	svc_grant(1);
	granted = 1;
	assert_true(svc_until(mbx_given_back_or_table, NULL));
	assert_int_equal(L.n, 1);		/* no table lock asked */
	assert_true(L.unlocked[1]);
	assert_int_equal(svc_writes(), 0);
	assert_true(svc_until(svc_quiet, NULL));

	/* tried again: adopted, the store's UIDVALIDITY and next UID */
	svc_import(7, "box15", 1234, 50, false);
	svc_drive(3);
	assert_int_equal(L.last_err, 0);
	assert_int_equal(L.last.uidvalidity, 1234);
	assert_true(L.last.next >= 50);
	uidsvc_fini();
}

/*
 * Review s24 F6: a mailbox in the lockspace of the area's table lock
 * itself (UIDSVC_TABLE_LS, "sdlm-admin": any client may name it).  Its
 * lockspace's table lock is the area's: the creator must not ask for it
 * a second time while it holds it.  On the old code it did: the second
 * EX request of the same resource waits behind the first for ever (the
 * lock manager does not grant a client's request over its own), with
 * the area's table lock held: no mailbox could be created anywhere in
 * the cluster any more.
 */
static void test_svc_mailbox_in_table_ls(void **state)
{
	struct fixture *fx = *state;
	struct req_uid r;

	svc_init(fx);
	memset(&r, 0, sizeof(r));
	r.op = SDLM_UID_ALLOC;
	r.count = 1;
	r.ls_len = (uint16_t)strlen(UIDSVC_TABLE_LS);
	memcpy(r.ls, UIDSVC_TABLE_LS, r.ls_len);
	r.mb_len = 5;
	memcpy(r.mailbox, "box16", 5);
	uidsvc_request(7, 1, &r);
	assert_int_equal(L.n, 1);
	svc_grant(1);
	assert_true(svc_until(lock_count, (void *)2));
	assert_string_equal(L.ls[2], UIDSVC_TABLE_LS);
	assert_string_equal(L.name[2], UIDSVC_TABLE_RES);
	svc_grant(2);
	granted = 2;
	assert_true(svc_until(replied_or_locking, (void *)1));
	assert_int_equal(L.n, 2);	/* not asked again while held */
	assert_int_equal(L.replies, 1);
	assert_int_equal(L.last_err, 0);
	assert_int_equal(L.last.count, 1);
	assert_true(L.unlocked[2]);	/* given back once, after the create */
	assert_false(L.unlocked[1]);
	svc_req(7, SDLM_UID_COMMIT, "", L.alloc_id);
	uidsvc_fini();
}

/* A request of client in lockspace ls (count UIDs for an allocation). */
static void svc_req_ls(uint32_t client, const char *ls, uint32_t op, const char *mb,
		       uint32_t count, uint64_t alloc_id)
{
	struct req_uid r;

	memset(&r, 0, sizeof(r));
	r.op = op;
	r.count = count;
	r.alloc_id = alloc_id;
	r.ls_len = (uint16_t)strlen(ls);
	memcpy(r.ls, ls, r.ls_len);
	r.mb_len = (uint16_t)strlen(mb);
	memcpy(r.mailbox, mb, r.mb_len);
	uidsvc_request(client, 1, &r);
}

/* One allocation of count UIDs in ls, every lock asked for granted: its
 * error; on success [*first, *first + count) and committed. */
static int svc_alloc_ls(const char *ls, const char *mb, uint32_t count, uint32_t *first)
{
	unsigned want = L.replies + 1;
	int err;

	svc_req_ls(7, ls, SDLM_UID_ALLOC, mb, count, 0);
	svc_drive(want);
	err = L.last_err;
	if (!err) {
		assert_int_equal(L.last.count, count);
		*first = L.last.first;
		svc_req_ls(7, ls, SDLM_UID_COMMIT, "", 0, L.alloc_id);
	}
	return err;
}

/*
 * Review s24 F2: a record is found by its GUID only, but the mailbox lock
 * uid:<guid> is taken in the caller's lockspace.  The victim's mailbox,
 * named by its (not secret) GUID in lockspace "ls", and the same GUID in
 * lockspace "evil" are two locks over one record: both holders allocate
 * from it at once.  On the old code "evil" took the record over above
 * the victim's reservation and then the victim, running on from its own
 * reserved range and reserving the next one from its core, handed out
 * the same UIDs again.  The record belongs to the lockspace that created
 * it: the other lockspace is refused (SDLM_EOTHERLS), writes nothing,
 * and the victim's UIDs stay unique.
 */
static void test_svc_guid_in_two_lockspaces(void **state)
{
	static const char gx[] = "0123456789abcdef0123456789abcdef";
	struct fixture *fx = *state;
	uint8_t seen[256] = { 0 };
	uint32_t first;
	uint64_t w;
	unsigned i, k;
	int err;

	svc_init(fx);
	granted = 0;
	assert_int_equal(svc_alloc_ls("ls", gx, 1, &first), 0);	/* created */
	seen[first] = 1;
	w = svc_writes();
	err = svc_alloc_ls("evil", gx, 1, &first);
	if (!err) {
		assert_true(first < sizeof(seen));
		seen[first]++;
	}
	/* the victim runs on past its reservation, both keep allocating */
	for (i = 0; i < 40 && !err; i++) {
		for (k = 0; k < 2; k++) {
			if (svc_alloc_ls(k ? "evil" : "ls", gx, 1, &first) != 0)
				continue;
			assert_true(first < sizeof(seen));
			assert_true(++seen[first] == 1);	/* no UID twice */
		}
	}
	assert_int_equal(err, SDLM_EOTHERLS);
	assert_int_equal(svc_writes(), w);		/* nothing written for it */
	/* the victim goes on as before */
	for (i = 0; i < 40; i++) {
		assert_int_equal(svc_alloc_ls("ls", gx, 1, &first), 0);
		assert_true(first < sizeof(seen));
		assert_int_equal(++seen[first], 1);
	}
	/* and "evil" stays refused */
	assert_int_equal(svc_alloc_ls("evil", gx, 1, &first), SDLM_EOTHERLS);
	uidsvc_fini();
}

static void hex_of(const uint8_t g[UID_GUID_LEN], char out[2 * UID_GUID_LEN + 1])
{
	unsigned i;

	for (i = 0; i < UID_GUID_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", g[i]);
}

/*
 * A record written before the lockspace tag existed (or by an older
 * daemon) carries none: the first lockspace to take it over stamps it,
 * under the area's table lock, and looks it up again after the grant.
 * Here "ls" and "evil" take their mailbox locks over one untagged record
 * at once, both see no tag and ask for the table locks; "ls" gets the
 * area's first and stamps it; "evil", granted next, reads the stamp and
 * is refused (SDLM_EOTHERLS), writing nothing.  No UID is handed out
 * before the stamp is on disk.
 */
static void test_svc_untagged_stamped_once(void **state)
{
	struct fixture *fx = *state;
	struct uidtab_geom g;
	uint8_t guid[UID_GUID_LEN];
	char gx[2 * UID_GUID_LEN + 1];
	uint32_t first;

	assert_int_equal(uidtab_geom_init(&g, &fx->a->hdr), 0);
	guid_of(21, guid);
	put_rec(fx, &g, uidtab_home(guid, NSLOTS), 21);	/* tag all zero */
	hex_of(guid, gx);
	svc_init(fx);
	svc_req_ls(7, "ls", SDLM_UID_ALLOC, gx, 1, 0);
	svc_req_ls(8, "evil", SDLM_UID_ALLOC, gx, 1, 0);
	assert_int_equal(L.n, 2);
	assert_string_equal(L.ls[2], "evil");
	svc_grant(1);
	svc_grant(2);
	/* both found the record untagged: the table locks, no write */
	assert_true(svc_until(lock_count, (void *)4));
	assert_string_equal(L.name[3], "uid-table");
	assert_string_equal(L.name[4], "uid-table");
	assert_string_equal(L.ls[3], "ls");
	assert_string_equal(L.ls[4], "evil");
	assert_int_equal(svc_writes(), 0);
	svc_grant(3);
	svc_grant(4);
	assert_int_equal(L.n, 6);
	assert_string_equal(L.ls[5], UIDSVC_TABLE_LS);
	assert_string_equal(L.ls[6], UIDSVC_TABLE_LS);
	assert_int_equal(L.replies, 0);		/* nothing before the stamp */
	svc_grant(5);				/* "ls" stamps it */
	assert_true(svc_until(replied, (void *)1));
	assert_int_equal(L.client, 7);
	assert_int_equal(L.last_err, 0);
	assert_true(L.last.first > 10);		/* above the record's watermark */
	assert_true(svc_writes() >= 2);
	assert_true(L.unlocked[3]);
	assert_true(L.unlocked[5]);
	assert_false(L.unlocked[1]);
	svc_req_ls(7, "ls", SDLM_UID_COMMIT, "", 0, L.alloc_id);
	svc_grant(6);				/* "evil", granted next */
	assert_true(svc_until(replied, (void *)3));
	assert_int_equal(L.client, 8);
	assert_int_equal(L.last_err, SDLM_EOTHERLS);
	assert_true(L.unlocked[2]);
	assert_true(L.unlocked[4]);
	assert_true(L.unlocked[6]);
	/* asked again: refused at once, no table lock */
	granted = 6;
	assert_int_equal(svc_alloc_ls("evil", gx, 1, &first), SDLM_EOTHERLS);
	assert_string_equal(L.ls[7], "evil");
	assert_int_equal(L.n, 7);
	/* "ls" goes on, without the table locks */
	assert_int_equal(svc_alloc_ls("ls", gx, 1, &first), 0);
	assert_int_equal(L.n, 7);
	uidsvc_fini();
}

/* --- the table's segment locks (uidseg.h; docs/uid.md, "The table lock") --- */

/* A name (prefix + a number) whose GUID in lockspace "ls" has its home
 * slot h with ok(h, arg). */
static void name_where(char out[24], const char *prefix, bool (*ok)(uint64_t, uint64_t),
		       uint64_t arg, uint8_t guid[UID_GUID_LEN])
{
	for (unsigned i = 0; i < 1000000; i++) {
		snprintf(out, 24, "%s%u", prefix, i);
		assert_int_equal(uid_name_guid("ls", out, strlen(out), UIDNAME_V2, guid), 0);
		if (ok(uidtab_home(guid, NSLOTS), arg))
			return;
	}
	fail_msg("no name with that home");
}

static bool home_is(uint64_t h, uint64_t want)
{
	return h == want;
}

static bool home_in_seg(uint64_t h, uint64_t seg)
{
	return h / 256 == seg && h % 256 < 200;	/* room after it in the segment */
}

/* The used slots of the table holding guid (copy 0): how many, the last. */
static unsigned slots_of(struct fixture *fx, const uint8_t guid[UID_GUID_LEN], uint64_t *slot)
{
	uint8_t sec[512];
	struct uid_rec r;
	uint64_t off;
	unsigned n = 0;
	int fd = open(fx->path, O_RDONLY);

	assert_true(fd >= 0);
	for (uint64_t sl = 0; sl < NSLOTS; sl++) {
		assert_int_equal(uidtab_offset(&fx->a->hdr, sl, 0, &off), 0);
		assert_int_equal(pread(fd, sec, sizeof(sec), (off_t)off), (ssize_t)sizeof(sec));
		if (uidrec_in(&r, sec, sizeof(sec), fx->a->hdr.uuid, sl, 0) == 0 &&
		    r.state == UIDREC_USED && !memcmp(r.guid, guid, UID_GUID_LEN)) {
			n++;
			*slot = sl;
		}
	}
	close(fd);
	return n;
}

static bool seg_count(void *arg)
{
	return SG.n >= (unsigned)(uintptr_t)arg;
}

static void seg_name_is(unsigned k, uint64_t seg)
{
	char want[48];

	snprintf(want, sizeof(want), "uid-table.0.%llu", (unsigned long long)seg);
	assert_string_equal(SG.name[k], want);
}

/*
 * Until the area's header says every node takes segments, a creator takes
 * the older releases' table locks first (a node of an older release may
 * share the area): the lockspace's, the area's, then its home segment.
 * Every one is given back after the create.
 */
static void test_svc_seg_legacy_first(void **state)
{
	struct fixture *fx = *state;
	uint8_t g[UID_GUID_LEN];
	char mb[24];
	uint64_t slot;

	name_where(mb, "lg", home_in_seg, 1, g);
	svc_init(fx);
	svc_to_table(mb);
	assert_int_equal(SG.n, 0);		/* nothing before the area's */
	svc_grant(3);
	assert_int_equal(SG.n, 1);
	seg_name_is(1, 1);
	assert_true(svc_until(replied, (void *)1));
	assert_int_equal(L.last_err, 0);
	assert_true(L.unlocked[2] && L.unlocked[3] && SG.unlocked[1]);
	assert_false(L.unlocked[1]);
	assert_int_equal(slots_of(fx, g, &slot), 1);
	svc_req(7, SDLM_UID_COMMIT, "", L.alloc_id);
	uidsvc_fini();
}

/*
 * With SDLM_HDR_F_UID_SEGLOCK (no build that takes only the older locks
 * can use the area), the segment is the only table lock.
 */
static void test_svc_seg_only(void **state)
{
	struct fixture *fx = *state;
	uint8_t g[UID_GUID_LEN];
	char mb[24];
	uint64_t slot;

	fx->a->hdr.flags |= SDLM_HDR_F_UID_SEGLOCK;
	name_where(mb, "so", home_in_seg, 0, g);
	svc_init(fx);
	svc_req(7, SDLM_UID_ALLOC, mb, 0);
	svc_grant(1);
	assert_true(svc_until(replied, (void *)1));
	assert_int_equal(L.last_err, 0);
	assert_int_equal(L.n, 1);		/* no "uid-table" asked */
	assert_int_equal(SG.n, 1);
	seg_name_is(1, 0);
	assert_true(SG.unlocked[1]);
	assert_int_equal(slots_of(fx, g, &slot), 1);
	assert_int_equal(slot / 256, 0);
	svc_req(7, SDLM_UID_COMMIT, "", L.alloc_id);
	uidsvc_fini();
}

/*
 * Two creators whose GUIDs are homed in different segments hold their
 * segments at once (neither waits for the other); two in one segment (one
 * home slot, even) are serialised: the second is granted only once the
 * first has created its mailbox and given the segment back, and the two
 * end in two slots.
 */
static void test_svc_seg_two_creators(void **state)
{
	struct fixture *fx = *state;
	uint8_t ga[UID_GUID_LEN], gb[UID_GUID_LEN], gc[UID_GUID_LEN], gd[UID_GUID_LEN];
	char a[24], b[24], c[16], d[16];
	uint64_t sa, sb, sc, sd;

	fx->a->hdr.flags |= SDLM_HDR_F_UID_SEGLOCK;
	name_where(a, "ta", home_in_seg, 0, ga);
	name_where(b, "tb", home_in_seg, 1, gb);
	colliding_names(c, d);
	assert_int_equal(uid_name_guid("ls", c, strlen(c), UIDNAME_V2, gc), 0);
	assert_int_equal(uid_name_guid("ls", d, strlen(d), UIDNAME_V2, gd), 0);
	svc_init(fx);
	SG.manual = true;

	svc_req(7, SDLM_UID_ALLOC, a, 0);
	svc_req(8, SDLM_UID_ALLOC, b, 0);
	svc_grant(1);
	svc_grant(2);
	assert_true(svc_until(seg_count, (void *)2));
	assert_int_equal(seg_grant_next(), SEGLK0 + 1);
	assert_int_equal(seg_grant_next(), SEGLK0 + 2);	/* while 1 is held */
	assert_false(SG.unlocked[1]);
	assert_int_equal(SG.waited, 0);
	assert_true(svc_until(replied, (void *)2));
	assert_int_equal(L.last_err, 0);
	assert_true(SG.unlocked[1] && SG.unlocked[2]);

	svc_req(9, SDLM_UID_ALLOC, c, 0);
	svc_req(10, SDLM_UID_ALLOC, d, 0);
	svc_grant(3);
	svc_grant(4);
	assert_true(svc_until(seg_count, (void *)4));
	assert_string_equal(SG.name[3], SG.name[4]);
	assert_int_equal(seg_grant_next(), SEGLK0 + 3);
	assert_int_equal(seg_grant_next(), 0);		/* 4 waits for 3 */
	assert_true(svc_until(replied, (void *)3));
	assert_int_equal(L.client, 9);
	assert_int_equal(L.last_err, 0);
	assert_true(SG.unlocked[3]);
	assert_false(SG.granted[4]);
	assert_int_equal(seg_grant_next(), SEGLK0 + 4);
	assert_true(svc_until(replied, (void *)4));
	assert_int_equal(L.client, 10);
	assert_int_equal(L.last_err, 0);
	assert_true(SG.unlocked[4]);

	assert_int_equal(slots_of(fx, ga, &sa), 1);
	assert_int_equal(slots_of(fx, gb, &sb), 1);
	assert_int_equal(slots_of(fx, gc, &sc), 1);
	assert_int_equal(slots_of(fx, gd, &sd), 1);
	assert_true(sa != sb && sc != sd && sa != sc && sa != sd && sb != sc && sb != sd);
	uidsvc_fini();
}

/*
 * A probe that runs over its home segment's end (the home slot, the last
 * of segment 0, is taken): the free slot is in segment 1, which is taken
 * too, after segment 0 (ascending, segment 0 kept), and the probe made
 * again under both before the write.
 */
static void test_svc_seg_run_over(void **state)
{
	struct fixture *fx = *state;
	struct uidtab_geom g;
	uint8_t gr[UID_GUID_LEN];
	char mb[24];
	uint64_t slot;
	struct uidsvc_stats st;

	fx->a->hdr.flags |= SDLM_HDR_F_UID_SEGLOCK;
	assert_int_equal(uidtab_geom_init(&g, &fx->a->hdr), 0);
	name_where(mb, "ro", home_is, 255, gr);
	put_rec(fx, &g, 255, 31);		/* another mailbox in the home slot */
	svc_init(fx);
	svc_req(7, SDLM_UID_ALLOC, mb, 0);
	svc_grant(1);
	assert_true(svc_until(replied, (void *)1));
	assert_int_equal(L.last_err, 0);
	assert_int_equal(SG.n, 2);
	seg_name_is(1, 0);
	seg_name_is(2, 1);
	/* 0 asked, 1 asked, then both given back after the create */
	assert_true(SG.nev == 4 && SG.ev[0] == 1 && SG.ev[1] == 2 && SG.ev[2] < 0 && SG.ev[3] < 0);
	uidsvc_get_stats(&st);
	assert_int_equal(st.table_seg_more, 1);
	assert_int_equal(slots_of(fx, gr, &slot), 1);
	assert_int_equal(slot, 256);
	svc_req(7, SDLM_UID_COMMIT, "", L.alloc_id);
	uidsvc_fini();
}

/*
 * A probe that wraps round the table's end (the home slot, the table's
 * last, is taken: the free slot is slot 0): segment 0 comes first in the
 * one order, so the creator gives segment 1 back, then takes 0 and 1,
 * and probes again.
 */
static void test_svc_seg_wrap(void **state)
{
	struct fixture *fx = *state;
	struct uidtab_geom g;
	uint8_t gw[UID_GUID_LEN];
	char mb[24];
	uint64_t slot;

	fx->a->hdr.flags |= SDLM_HDR_F_UID_SEGLOCK;
	assert_int_equal(uidtab_geom_init(&g, &fx->a->hdr), 0);
	name_where(mb, "wr", home_is, NSLOTS - 1, gw);
	put_rec(fx, &g, NSLOTS - 1, 32);
	svc_init(fx);
	svc_req(7, SDLM_UID_ALLOC, mb, 0);
	svc_grant(1);
	assert_true(svc_until(replied, (void *)1));
	assert_int_equal(L.last_err, 0);
	assert_int_equal(SG.n, 3);
	seg_name_is(1, 1);
	seg_name_is(2, 0);
	seg_name_is(3, 1);
	/* 1 asked, 1 given back BEFORE 0 is asked, then 0 and 1 */
	assert_true(SG.nev >= 4 && SG.ev[0] == 1 && SG.ev[1] == -1 && SG.ev[2] == 2 &&
		    SG.ev[3] == 3);
	assert_true(SG.unlocked[2] && SG.unlocked[3]);
	assert_int_equal(slots_of(fx, gw, &slot), 1);
	assert_int_equal(slot, 0);
	svc_req(7, SDLM_UID_COMMIT, "", L.alloc_id);
	uidsvc_fini();
}

/*
 * A restore whose damaged slot is past its home segment's end (the home
 * slot, the last of segment 0, is another mailbox's; its own damaged
 * record is in slot 256): segment 1 is taken after 0 before anything is
 * written, the restore waits at the head of the queue meanwhile, and is
 * written into 256; the other mailbox's slot is left alone.
 */
static void test_svc_seg_restore_run_over(void **state)
{
	struct fixture *fx = *state;
	struct uidtab_geom g;
	struct uidsvc_stats st;
	uint8_t gx[UID_GUID_LEN], go[UID_GUID_LEN];
	char x[24];
	uint64_t slot;

	fx->a->hdr.flags |= SDLM_HDR_F_UID_SEGLOCK;
	assert_int_equal(uidtab_geom_init(&g, &fx->a->hdr), 0);
	name_where(x, "rs", home_is, 255, gx);
	put_rec(fx, &g, 255, 33);
	guid_of(33, go);
	put_damaged(fx, 256, x);
	svc_init(fx);
	granted = 0;
	svc_import(8, x, 5, 100, true);
	svc_drive(L.replies + 1);
	assert_int_equal(L.last_err, 0);
	assert_true(L.last.flags & SDLM_UID_F_RESTORED);
	assert_int_equal(L.last.uidvalidity, 5);
	assert_int_equal(SG.n, 2);
	seg_name_is(1, 0);
	seg_name_is(2, 1);
	assert_true(SG.unlocked[1] && SG.unlocked[2]);
	uidsvc_get_stats(&st);
	assert_int_equal(st.table_seg_more, 1);
	assert_int_equal(slots_of(fx, gx, &slot), 1);
	assert_int_equal(slot, 256);
	assert_int_equal(slots_of(fx, go, &slot), 1);
	assert_int_equal(slot, 255);
	assert_int_equal(svc_do(SDLM_UID_ALLOC, x, 0), 0);
	assert_true(L.last.first >= 100);
	assert_int_equal(L.last.uidvalidity, 5);
	svc_req(7, SDLM_UID_COMMIT, "", L.alloc_id);
	uidsvc_fini();
}

/* fx_teardown, after uidsvc_fini: a service test that failed half way. */
static int teardown(void **state)
{
	uidsvc_fini();
	return fx_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_svc_no_write_after_stop, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_leave_waits_stuck_write, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_deg_table_grant_while_busy, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_area_table_refused, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_deg_lock_grant_while_busy, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_deg_leave_waits_stuck, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_ahead_refused, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_reap_own_write, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_ho_kill_uncommitted, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_ho_kill_table_wait, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_bast_waits_stuck_write, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_import_own_tombstone, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_restore_behind_alloc, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_stale_area_grant, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_stale_ls_table_grant, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_cancelled_import_creates_nothing, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_mailbox_in_table_ls, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_seg_legacy_first, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_seg_only, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_seg_two_creators, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_seg_run_over, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_seg_wrap, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_seg_restore_run_over, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_restore_other_damaged, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_restore_other_lockspace_tag, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_import_epoch_bounded, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_import_epoch_existing, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_guid_in_two_lockspaces, fx_setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_untagged_stamped_once, fx_setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
