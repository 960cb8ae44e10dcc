/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_libsdlm.c - libsdlm against a fake sdlmd.
 *
 * Each test forks a child that runs a tiny lock server on a private libqb
 * service name ("sdlmt-libtest-<pid>-<n>"), speaking sdlm_ipc.h exactly as
 * sdlmd does: one immediate res_lock per request, then ev_ast / ev_bast
 * on the event channel.  Its lock table is single-node and deliberately
 * naive (a list in request order):
 *
 *   lock      grantable at once (compatible with every granted lock of
 *             the resource, no earlier waiter) -> ast 0
 *             else NOQUEUE -> ast SDLM_EBUSY; else queued, and a bast to
 *             every holder whose mode is incompatible
 *   convert   same, against the other holders only
 *   unlock    removed (VALBLK from PW/EX stores the LVB), waiters retried
 *   cancel    a waiting request ends with ast SDLM_ECANCELED
 *   "race*"   resources whose requests never grant, except that a cancel
 *             grants them (ast 0) and is answered -EBUSY: the race of a
 *             grant with a timeout's cancel, made deterministic
 *   uid       ALLOC in a mailbox named "slow*": acknowledged at once
 *             (SDLM_UIDRES_ACCEPTED), answered FK_SLOW_MS later with an
 *             allocation whose id is 1000 + the request's seq; IMPORT in
 *             such a mailbox likewise, answered with the mailbox; CANCEL and
 *             ABORT are counted (a CANCEL naming the seq of such an
 *             allocation: cancel_ok); any other UID op -EOPNOTSUPP
 *   status    text "requests=<lock-family requests seen> locks=<n>
 *             cancels=<n> cancel_ok=<n> aborts=<n> lates=<late answers sent>"
 *
 * The server is a separate process so that killing it is a real daemon
 * loss for the library.  The whole suite runs twice: over QB_IPC_SOCKET
 * (what sdlmd uses today) and over QB_IPC_SHM; the transports differ in
 * one visible way, checked by test_daemon_killed: only with SHM does
 * sdlm_fd() become readable when the daemon dies.  This fake only serves
 * the library's unit test.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1	/* nftw */
#endif
#include <errno.h>
#include <ftw.h>
#include <glob.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <qb/qbipcs.h>
#include <qb/qbloop.h>

#include "sdlm.h"
#include "clock.h"
#include "sdlm_ipc.h"
#include "ipcreq.h"

/* ---- the fake daemon (child process) ---------------------------------- */

struct fk_lock {
	struct fk_lock *next;
	qb_ipcs_connection_t *c;
	uint64_t lkid, ref;
	unsigned char key[2 * SDLM_NAME_MAX + 1];	/* ls \0 res */
	size_t key_len;
	int gr, rq;			/* granted / requested mode, -1 none */
	uint32_t flags;
	int race;
};

struct fk_res {
	struct fk_res *next;
	unsigned char key[2 * SDLM_NAME_MAX + 1];
	size_t key_len;
	int lvb_valid;
	unsigned char lvb[SDLM_LVB_LEN];
};

static enum qb_ipc_type fk_type = QB_IPC_SOCKET;
/* Answer a sync LOCK's immediate ast inside the reply (sdlmd's
 * SDLM_F_SYNC_AST / res_lock_ast), as sdlmd does; the suites run with it
 * off (an older daemon: the ast always comes as an event) and on. */
static int fk_inline;
static struct {
	struct fk_lock *l;	/* the LOCK being processed */
	int taken;
	struct res_lock_ast res;
} fk_cap;

static struct {
	qb_loop_t *loop;
	qb_ipcs_service_t *svc;
	struct fk_lock *locks;
	struct fk_res *res;
	uint64_t next_lkid;
	unsigned requests;
	unsigned cancels, cancel_ok, aborts, lates;
	uint32_t slow_seq[8];		/* seqs of the slow allocations */
	unsigned nslow;
} fk;

#define FK_SLOW_MS	300

static const unsigned char fk_compat[6][6] = {
	{ 1, 1, 1, 1, 1, 1 },
	{ 1, 1, 1, 1, 1, 0 },
	{ 1, 1, 1, 0, 0, 0 },
	{ 1, 1, 0, 1, 0, 0 },
	{ 1, 1, 0, 0, 0, 0 },
	{ 1, 0, 0, 0, 0, 0 },
};

static int same_res(const struct fk_lock *a, const struct fk_lock *b)
{
	return a->key_len == b->key_len && !memcmp(a->key, b->key, a->key_len);
}

static struct fk_res *fk_res_get(const struct fk_lock *l)
{
	struct fk_res *r;

	for (r = fk.res; r; r = r->next)
		if (r->key_len == l->key_len && !memcmp(r->key, l->key, l->key_len))
			return r;
	r = calloc(1, sizeof(*r));
	if (!r)
		abort();
	memcpy(r->key, l->key, l->key_len);
	r->key_len = l->key_len;
	r->next = fk.res;
	fk.res = r;
	return r;
}

static void fk_reply(qb_ipcs_connection_t *c, const struct sdlm_req_hdr *req,
		     int err, uint64_t lkid)
{
	struct res_lock res;

	memset(&res, 0, sizeof(res));
	ipcreq_res_hdr(&res.hdr, req->qb.id | SDLM_IPC_RESPONSE, sizeof(res), err, req->seq);
	res.lkid = lkid;
	qb_ipcs_response_send(c, &res, sizeof(res));
}

static void fk_ast(struct fk_lock *l, int status)
{
	struct ev_ast ev;
	struct fk_res *r = fk_res_get(l);

	memset(&ev, 0, sizeof(ev));
	ipcreq_res_hdr(&ev.hdr, SDLM_EV_AST, sizeof(ev), status, 0);
	ev.lkid = l->lkid;
	ev.client_ref = l->ref;
	ev.mode = l->gr;
	ev.lvb_valid = status == 0 && r->lvb_valid;
	if (ev.lvb_valid)
		memcpy(ev.lvb, r->lvb, SDLM_LVB_LEN);
	if (fk_cap.l == l && !fk_cap.taken) {
		fk_cap.taken = 1;
		fk_cap.res.lkid = ev.lkid;
		fk_cap.res.ast_status = status;
		fk_cap.res.mode = ev.mode;
		fk_cap.res.lvb_valid = ev.lvb_valid;
		memcpy(fk_cap.res.lvb, ev.lvb, SDLM_LVB_LEN);
		return;
	}
	qb_ipcs_event_send(l->c, &ev, sizeof(ev));
}

static void fk_basts(struct fk_lock *waiter)
{
	struct fk_lock *h;
	struct ev_bast ev;

	for (h = fk.locks; h; h = h->next) {
		if (h == waiter || h->gr < 0 || !same_res(h, waiter) ||
		    fk_compat[h->gr][waiter->rq])
			continue;
		memset(&ev, 0, sizeof(ev));
		ipcreq_res_hdr(&ev.hdr, SDLM_EV_BAST, sizeof(ev), 0, 0);
		ev.lkid = h->lkid;
		ev.client_ref = h->ref;
		ev.mode_wanted = waiter->rq;
		qb_ipcs_event_send(h->c, &ev, sizeof(ev));
	}
}

static int fk_grantable(struct fk_lock *l)
{
	struct fk_lock *o;

	if (l->race)
		return 0;
	for (o = fk.locks; o; o = o->next) {
		if (o == l || !same_res(o, l))
			continue;
		if (o->gr >= 0 && !fk_compat[o->gr][l->rq])
			return 0;
		/* New requests queue behind earlier waiters (FIFO). */
		if (l->gr < 0 && o->rq >= 0 && o->gr < 0 && o->lkid < l->lkid)
			return 0;
	}
	return 1;
}

static void fk_remove(struct fk_lock *l)
{
	struct fk_lock **pp;

	for (pp = &fk.locks; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			free(l);
			return;
		}
}

static void fk_grant_waiters(void)
{
	struct fk_lock *l;
	int again = 1;

	while (again) {
		again = 0;
		for (l = fk.locks; l; l = l->next)
			if (l->rq >= 0 && fk_grantable(l)) {
				l->gr = l->rq;
				l->rq = -1;
				fk_ast(l, 0);
				again = 1;
			}
	}
}

static struct fk_lock *fk_find(qb_ipcs_connection_t *c, uint64_t lkid)
{
	struct fk_lock *l;

	for (l = fk.locks; l; l = l->next)
		if (l->c == c && l->lkid == lkid)
			return l;
	return NULL;
}

/* A request was just queued: grant it, fail it (NOQUEUE) or bast. */
static void fk_try(struct fk_lock *l)
{
	if (fk_grantable(l)) {
		l->gr = l->rq;
		l->rq = -1;
		fk_ast(l, 0);
	} else if (l->flags & SDLM_LKF_NOQUEUE) {
		l->rq = -1;
		fk_ast(l, SDLM_EBUSY);
		if (l->gr < 0)
			fk_remove(l);
	} else if (!l->race) {
		fk_basts(l);
	}
}

static void fk_store_lvb(struct fk_lock *l, uint32_t flags, const unsigned char *lvb)
{
	struct fk_res *r = fk_res_get(l);

	if (l->gr < SDLM_PW)
		return;
	if (flags & SDLM_LKF_VALBLK) {
		memcpy(r->lvb, lvb, SDLM_LVB_LEN);
		r->lvb_valid = 1;
	} else if (flags & SDLM_LKF_IVVALBLK) {
		r->lvb_valid = 0;
	}
}

static void fk_text(qb_ipcs_connection_t *c, const struct sdlm_req_hdr *req)
{
	struct { struct sdlm_res_hdr hdr; char text[128]; } res;
	struct fk_lock *l;
	unsigned n = 0;
	int len;

	for (l = fk.locks; l; l = l->next)
		n++;
	memset(&res, 0, sizeof(res));
	len = snprintf(res.text, sizeof(res.text),
		       "requests=%u locks=%u cancels=%u cancel_ok=%u aborts=%u lates=%u",
		       fk.requests, n, fk.cancels, fk.cancel_ok, fk.aborts, fk.lates);
	ipcreq_res_hdr(&res.hdr, req->qb.id | SDLM_IPC_RESPONSE,
	       sizeof(res.hdr) + (size_t)len + 1, 0, req->seq);
	qb_ipcs_response_send(c, &res, sizeof(res.hdr) + (size_t)len + 1);
}

static void fk_uid_reply(qb_ipcs_connection_t *c, uint32_t seq, int err,
			 struct res_uid *res)
{
	ipcreq_res_hdr(&res->hdr, SDLM_CMD_UID | SDLM_IPC_RESPONSE, sizeof(*res), err, seq);
	qb_ipcs_response_send(c, res, sizeof(*res));
}

/* The late answer of a slow allocation (a qb_loop timer). */
static struct { qb_ipcs_connection_t *c; uint32_t seq; bool import; } fk_late;

static void fk_uid_late(void *data)
{
	struct res_uid res;

	(void)data;
	memset(&res, 0, sizeof(res));
	res.uidvalidity = 42;
	if (fk_late.import) {
		res.next = 50;
	} else {
		res.first = 1;
		res.count = 1;
		res.alloc_id = 1000 + fk_late.seq;
	}
	fk_uid_reply(fk_late.c, fk_late.seq, 0, &res);
	fk.lates++;
}

static void fk_uid(qb_ipcs_connection_t *c, const struct req_uid *r)
{
	struct res_uid res;
	qb_loop_timer_handle t;
	unsigned i;

	memset(&res, 0, sizeof(res));
	switch (r->op) {
	case SDLM_UID_ALLOC:
	case SDLM_UID_IMPORT:
		if (r->mb_len < 4 || memcmp(r->mailbox, "slow", 4) ||
		    fk.nslow == sizeof(fk.slow_seq) / sizeof(fk.slow_seq[0]))
			break;
		fk.slow_seq[fk.nslow++] = r->hdr.seq;
		res.flags = SDLM_UIDRES_ACCEPTED;
		fk_uid_reply(c, r->hdr.seq, 0, &res);
		fk_late.c = c;
		fk_late.seq = r->hdr.seq;
		fk_late.import = r->op == SDLM_UID_IMPORT;
		qb_loop_timer_add(fk.loop, QB_LOOP_MED, FK_SLOW_MS * 1000000ull, NULL,
				  fk_uid_late, &t);
		return;
	case SDLM_UID_CANCEL:
		fk.cancels++;
		for (i = 0; i < fk.nslow; i++)
			if (fk.slow_seq[i] == r->alloc_id)
				fk.cancel_ok++;
		fk_uid_reply(c, r->hdr.seq, 0, &res);
		return;
	case SDLM_UID_ABORT:
		fk.aborts++;
		fk_uid_reply(c, r->hdr.seq, 0, &res);
		return;
	case SDLM_UID_SHOW:	/* the fake's mailbox has UIDVALIDITY 42 */
		res.uidvalidity = 42;
		res.next = 7;
		fk_uid_reply(c, r->hdr.seq, 0, &res);
		return;
	case SDLM_UID_BUMP:
		res.uidvalidity = r->value ? r->value : 43;
		res.next = 1;
		fk_uid_reply(c, r->hdr.seq, 0, &res);
		return;
	}
	fk_uid_reply(c, r->hdr.seq, -EOPNOTSUPP, &res);
}

static int32_t fk_msg(qb_ipcs_connection_t *c, void *data, size_t size)
{
	const struct sdlm_req_hdr *hdr = data;
	struct fk_lock *l;

	if (size < sizeof(*hdr) || hdr->magic != SDLM_IPC_MAGIC ||
	    hdr->version != SDLM_IPC_VERSION)
		abort();	/* the library must never send this */
	if (hdr->qb.id == SDLM_CMD_STATUS) {
		fk_text(c, hdr);
		return 0;
	}
	if (hdr->qb.id == SDLM_CMD_UID) {
		if (size < sizeof(struct req_uid))
			abort();
		fk_uid(c, data);
		return 0;
	}
	fk.requests++;
	switch (hdr->qb.id) {
	case SDLM_CMD_LOCK: {
		const struct req_lock *r = data;

		if (size < sizeof(*r) || r->ls_len < 1 || r->ls_len > SDLM_NAME_MAX ||
		    r->res_len < 1 || r->res_len > SDLM_NAME_MAX ||
		    r->mode < SDLM_NL || r->mode > SDLM_EX) {
			fk_reply(c, hdr, SDLM_EPROTO, 0);
			return 0;
		}
		l = calloc(1, sizeof(*l));
		if (!l)
			abort();
		l->c = c;
		l->lkid = ++fk.next_lkid;
		l->ref = r->client_ref;
		memcpy(l->key, r->ls, r->ls_len);
		memcpy(l->key + r->ls_len + 1, r->res, r->res_len);
		l->key_len = (size_t)r->ls_len + 1 + r->res_len;
		l->gr = -1;
		l->rq = r->mode;
		l->flags = r->flags;
		l->race = r->res_len >= 4 && !memcmp(r->res, "race", 4);
		/* Appended: the list order is the request order. */
		if (!fk.locks) {
			fk.locks = l;
		} else {
			struct fk_lock *t = fk.locks;

			while (t->next)
				t = t->next;
			t->next = l;
		}
		if (fk_inline && (hdr->flags & SDLM_F_SYNC_AST)) {
			uint64_t lkid = l->lkid;

			memset(&fk_cap, 0, sizeof(fk_cap));
			fk_cap.l = l;
			fk_try(l);	/* may free l (NOQUEUE refusal) */
			fk_cap.l = NULL;
			if (!fk_cap.taken) {
				fk_reply(c, hdr, 0, lkid);
				return 0;
			}
			ipcreq_res_hdr(&fk_cap.res.hdr, hdr->qb.id | SDLM_IPC_RESPONSE,
			       sizeof(fk_cap.res), 0, hdr->seq);
			fk_cap.res.hdr.flags = SDLM_F_AST_INLINE;
			qb_ipcs_response_send(c, &fk_cap.res, sizeof(fk_cap.res));
			return 0;
		}
		fk_reply(c, hdr, 0, l->lkid);
		fk_try(l);
		return 0;
	}
	case SDLM_CMD_CONVERT: {
		const struct req_convert *r = data;

		l = size >= sizeof(*r) ? fk_find(c, r->lkid) : NULL;
		if (!l || l->gr < 0 || l->rq >= 0 ||
		    r->mode < SDLM_NL || r->mode > SDLM_EX) {
			fk_reply(c, hdr, l ? -EBUSY : -ENOENT, 0);
			return 0;
		}
		fk_store_lvb(l, r->flags, r->lvb);
		fk_reply(c, hdr, 0, l->lkid);
		l->rq = r->mode;
		l->flags = r->flags;
		fk_try(l);
		return 0;
	}
	case SDLM_CMD_UNLOCK: {
		const struct req_unlock *r = data;

		l = size >= sizeof(*r) ? fk_find(c, r->lkid) : NULL;
		if (!l || l->gr < 0 || l->rq >= 0) {
			fk_reply(c, hdr, l ? -EBUSY : -ENOENT, 0);
			return 0;
		}
		fk_store_lvb(l, r->flags, r->lvb);
		fk_reply(c, hdr, 0, l->lkid);
		fk_remove(l);
		fk_grant_waiters();
		return 0;
	}
	case SDLM_CMD_CANCEL: {
		const struct req_cancel *r = data;

		l = size >= sizeof(*r) ? fk_find(c, r->lkid) : NULL;
		if (!l || l->rq < 0) {
			fk_reply(c, hdr, l ? -EBUSY : -ENOENT, 0);
			return 0;
		}
		if (l->race) {
			l->gr = l->rq;
			l->rq = -1;
			fk_ast(l, 0);
			fk_reply(c, hdr, -EBUSY, 0);
			return 0;
		}
		fk_reply(c, hdr, 0, l->lkid);
		l->rq = -1;
		fk_ast(l, SDLM_ECANCELED);
		if (l->gr < 0)
			fk_remove(l);
		fk_grant_waiters();
		return 0;
	}
	default:
		fk_reply(c, hdr, -EOPNOTSUPP, 0);
		return 0;
	}
}

static int32_t fk_accept(qb_ipcs_connection_t *c, uid_t uid, gid_t gid)
{
	(void)c; (void)uid; (void)gid;
	return 0;
}

static int32_t fk_closed(qb_ipcs_connection_t *c)
{
	struct fk_lock *l, *next;

	for (l = fk.locks; l; l = next) {
		next = l->next;
		if (l->c == c)
			fk_remove(l);
	}
	fk_grant_waiters();
	return 0;
}

static int32_t fk_job_add(enum qb_loop_priority p, void *data, qb_loop_job_dispatch_fn fn)
{
	return qb_loop_job_add(fk.loop, p, data, fn);
}

static int32_t fk_dispatch_add(enum qb_loop_priority p, int32_t fd, int32_t ev,
			       void *data, qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_add(fk.loop, p, fd, ev, data, fn);
}

static int32_t fk_dispatch_mod(enum qb_loop_priority p, int32_t fd, int32_t ev,
			       void *data, qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_mod(fk.loop, p, fd, ev, data, fn);
}

static int32_t fk_dispatch_del(int32_t fd)
{
	return qb_loop_poll_del(fk.loop, fd);
}

static int32_t fk_sigterm(int32_t sig, void *data)
{
	(void)sig; (void)data;
	qb_loop_stop(fk.loop);
	return 0;
}

static void fk_run(const char *name, int ready_fd)
{
	static struct qb_ipcs_service_handlers sh = {
		.connection_accept = fk_accept,
		.msg_process = fk_msg,
		.connection_closed = fk_closed,
	};
	static struct qb_ipcs_poll_handlers ph = {
		.job_add = fk_job_add,
		.dispatch_add = fk_dispatch_add,
		.dispatch_mod = fk_dispatch_mod,
		.dispatch_del = fk_dispatch_del,
	};
	qb_loop_signal_handle sig;
	char ok = 1;

	fk.loop = qb_loop_create();
	fk.svc = qb_ipcs_create(name, 0, fk_type, &sh);
	if (!fk.loop || !fk.svc)
		_exit(2);
	qb_ipcs_poll_handlers_set(fk.svc, &ph);
	qb_ipcs_enforce_buffer_size(fk.svc, SDLM_IPC_MAX_MSG);
	if (qb_ipcs_run(fk.svc) < 0)
		_exit(3);
	qb_loop_signal_add(fk.loop, QB_LOOP_HIGH, SIGTERM, NULL, fk_sigterm, &sig);
	if (write(ready_fd, &ok, 1) != 1)
		_exit(4);
	close(ready_fd);
	qb_loop_run(fk.loop);
	qb_ipcs_destroy(fk.svc);
	qb_loop_destroy(fk.loop);
	_exit(0);
}

/* ---- test side -------------------------------------------------------- */

struct fixture {
	pid_t server;
	char name[64];
};

static int server_start(void **state)
{
	static unsigned n;
	struct fixture *f = calloc(1, sizeof(*f));
	int pfd[2];
	char ok;

	if (!f || pipe(pfd) < 0)
		return -1;
	snprintf(f->name, sizeof(f->name), "sdlmt-libtest-%d-%u", (int)getpid(), ++n);
	f->server = fork();
	if (f->server < 0)
		return -1;
	if (f->server == 0) {
		close(pfd[0]);
		fk_run(f->name, pfd[1]);
	}
	close(pfd[1]);
	if (read(pfd[0], &ok, 1) != 1) {
		close(pfd[0]);
		return -1;
	}
	close(pfd[0]);
	*state = f;
	return 0;
}

static int server_stop(void **state)
{
	struct fixture *f = *state;

	if (f->server > 0) {
		kill(f->server, SIGTERM);
		waitpid(f->server, NULL, 0);
	}
	free(f);
	return 0;
}

static sdlm_handle_t *conn(void **state)
{
	struct fixture *f = *state;
	sdlm_handle_t *h = NULL;

	assert_int_equal(sdlm_connect(f->name, &h), 0);
	assert_non_null(h);
	return h;
}

/* "requests=R locks=L" from the fake, parsed. */
static void server_counts(sdlm_handle_t *h, unsigned *requests, unsigned *locks)
{
	char *text = NULL;

	assert_int_equal(sdlm_admin_text(h, "status", NULL, 0, &text), 0);
	assert_int_equal(sscanf(text, "requests=%u locks=%u", requests, locks), 2);
	free(text);
}

static unsigned server_locks(sdlm_handle_t *h)
{
	unsigned r, l;

	server_counts(h, &r, &l);
	return l;
}

static int fd_readable(sdlm_handle_t *h, int ms)
{
	struct pollfd p = { .fd = sdlm_fd(h), .events = POLLIN };

	assert_true(p.fd >= 0);
	return poll(&p, 1, ms) == 1;
}

struct cb_log {
	int asts, basts;
	int last_status;
	int last_mode;
	int last_wanted;
	struct sdlm_lksb *last_lksb;
};

static void cb_ast(void *arg, struct sdlm_lksb *lksb)
{
	struct cb_log *log = arg;

	log->asts++;
	log->last_status = lksb->status;
	log->last_mode = lksb->mode;
	log->last_lksb = lksb;
}

static void cb_bast(void *arg, struct sdlm_lksb *lksb, int wanted)
{
	struct cb_log *log = arg;

	log->basts++;
	log->last_wanted = wanted;
	log->last_lksb = lksb;
}

/* Dispatch until at least `want` callbacks in total ran (2 s bound). */
static int dispatch_until(sdlm_handle_t *h, int want)
{
	int total = 0, rc;

	for (int i = 0; i < 200 && total < want; i++) {
		if (!fd_readable(h, 10))
			continue;
		rc = sdlm_dispatch(h);
		if (rc < 0)
			return rc;
		total += rc;
	}
	return total;
}

/* ---- tests ------------------------------------------------------------ */

static void test_mode_names(void **state)
{
	static const char *const names[] = { "NL", "CR", "CW", "PR", "PW", "EX" };
	(void)state;

	for (int m = SDLM_NL; m <= SDLM_EX; m++) {
		assert_string_equal(sdlm_mode_name(m), names[m]);
		assert_int_equal(sdlm_mode_parse(names[m]), m);
	}
	assert_int_equal(sdlm_mode_parse("ex"), SDLM_EX);
	assert_int_equal(sdlm_mode_parse("pR"), SDLM_PR);
	assert_int_equal(sdlm_mode_parse("EXX"), -EINVAL);
	assert_int_equal(sdlm_mode_parse(""), -EINVAL);
	assert_int_equal(sdlm_mode_parse(NULL), -EINVAL);
	assert_string_equal(sdlm_mode_name(6), "??");
	assert_string_equal(sdlm_mode_name(-1), "??");
}

static void test_bad_args_not_sent(void **state)
{
	sdlm_handle_t *h = conn(state);
	struct sdlm_lksb lksb;
	struct cb_log log = { 0 };
	char long_name[SDLM_NAME_MAX + 2];
	unsigned req, locks;

	memset(&lksb, 0, sizeof(lksb));
	memset(long_name, 'a', sizeof(long_name));
	long_name[SDLM_NAME_MAX + 1] = '\0';
	assert_int_equal(sdlm_lock(h, "ls", "", SDLM_EX, 0, 0, &lksb), -EINVAL);
	assert_int_equal(sdlm_lock(h, "", "r", SDLM_EX, 0, 0, &lksb), -EINVAL);
	assert_int_equal(sdlm_lock(h, NULL, "r", SDLM_EX, 0, 0, &lksb), -EINVAL);
	assert_int_equal(sdlm_lock(h, "ls", long_name, SDLM_EX, 0, 0, &lksb),
			 -ENAMETOOLONG);
	assert_int_equal(sdlm_lock(h, long_name, "r", SDLM_EX, 0, 0, &lksb),
			 -ENAMETOOLONG);
	assert_int_equal(sdlm_lock(h, "ls", "r", 6, 0, 0, &lksb), -EINVAL);
	assert_int_equal(sdlm_lock(h, "ls", "r", -1, 0, 0, &lksb), -EINVAL);
	assert_int_equal(sdlm_lock(h, "ls", "r", SDLM_EX, 0x100, 0, &lksb), -EINVAL);
	assert_int_equal(sdlm_lock(h, "ls", "r", SDLM_EX, 0, 0, NULL), -EINVAL);
	assert_int_equal(sdlm_lock_async(h, "ls", "r", SDLM_EX, 0, &lksb,
					 NULL, NULL, &log), -EINVAL);
	assert_int_equal(sdlm_unlock(h, &lksb, 0), -ENOENT);
	assert_int_equal(sdlm_cancel(h, &lksb), -ENOENT);
	assert_int_equal(sdlm_convert(h, &lksb, SDLM_PR, 0, 0), -ENOENT);
	server_counts(h, &req, &locks);
	assert_int_equal(req, 0);

	/* Exactly SDLM_NAME_MAX bytes is a valid name and is sent. */
	long_name[SDLM_NAME_MAX] = '\0';
	assert_int_equal(sdlm_lock(h, long_name, long_name, SDLM_EX, 0, 0, &lksb), 0);
	server_counts(h, &req, &locks);
	assert_int_equal(req, 1);
	assert_int_equal(locks, 1);
	sdlm_disconnect(h);
}

static void test_sync_lock_unlock(void **state)
{
	sdlm_handle_t *a = conn(state), *b = conn(state);
	struct sdlm_lksb la, lb;

	memset(&la, 0, sizeof(la));
	memset(&lb, 0, sizeof(lb));
	assert_int_equal(sdlm_lock(a, "ls", "r1", SDLM_EX, 0, 1000, &la), 0);
	assert_int_equal(la.status, 0);
	assert_int_equal(la.mode, SDLM_EX);
	assert_true(la.lkid != 0);
	assert_int_equal(server_locks(a), 1);

	assert_int_equal(sdlm_lock(b, "ls", "r1", SDLM_EX, SDLM_LKF_NOQUEUE, 1000, &lb),
			 SDLM_EBUSY);
	assert_int_equal(lb.status, SDLM_EBUSY);
	assert_int_equal(server_locks(a), 1);

	assert_int_equal(sdlm_unlock(a, &la, 0), 0);
	assert_int_equal(server_locks(a), 0);
	assert_int_equal(sdlm_unlock(a, &la, 0), -ENOENT);

	assert_int_equal(sdlm_lock(b, "ls", "r1", SDLM_EX, SDLM_LKF_NOQUEUE, 1000, &lb), 0);
	assert_int_equal(lb.mode, SDLM_EX);
	assert_int_equal(sdlm_unlock(b, &lb, 0), 0);
	sdlm_disconnect(a);
	sdlm_disconnect(b);
}

static void test_async_lock_dispatch(void **state)
{
	sdlm_handle_t *h = conn(state);
	struct sdlm_lksb lksb;
	struct cb_log log = { 0 };

	memset(&lksb, 0, sizeof(lksb));
	assert_int_equal(sdlm_lock_async(h, "ls", "r", SDLM_PR, 0, &lksb,
					 cb_ast, cb_bast, &log), 0);
	assert_true(lksb.lkid != 0);
	assert_int_equal(lksb.status, -EINPROGRESS);
	assert_int_equal(log.asts, 0);
	assert_true(fd_readable(h, 2000));
	assert_int_equal(dispatch_until(h, 1), 1);
	assert_int_equal(log.asts, 1);
	assert_int_equal(log.last_status, 0);
	assert_int_equal(log.last_mode, SDLM_PR);
	assert_ptr_equal(log.last_lksb, &lksb);
	assert_int_equal(sdlm_dispatch(h), 0);
	assert_int_equal(sdlm_unlock(h, &lksb, 0), 0);
	assert_int_equal(server_locks(h), 0);
	sdlm_disconnect(h);
}

static void test_lvb(void **state)
{
	sdlm_handle_t *a = conn(state), *b = conn(state);
	struct sdlm_lksb la, lb;

	memset(&la, 0, sizeof(la));
	memset(&lb, 0, sizeof(lb));
	assert_int_equal(sdlm_lock(a, "ls", "v", SDLM_EX, 0, 1000, &la), 0);
	assert_int_equal(la.lvb_valid, 0);
	memcpy(la.lvb, "next-uid=4711", 14);
	assert_int_equal(sdlm_unlock(a, &la, SDLM_LKF_VALBLK), 0);
	assert_int_equal(sdlm_lock(b, "ls", "v", SDLM_PR, 0, 1000, &lb), 0);
	assert_int_equal(lb.lvb_valid, 1);
	assert_memory_equal(lb.lvb, "next-uid=4711", 14);
	sdlm_disconnect(a);
	sdlm_disconnect(b);
}

static void test_bast_to_holder(void **state)
{
	sdlm_handle_t *a = conn(state), *b = conn(state);
	struct sdlm_lksb la, lb;
	struct cb_log loga = { 0 }, logb = { 0 };

	memset(&la, 0, sizeof(la));
	memset(&lb, 0, sizeof(lb));
	assert_int_equal(sdlm_lock_async(a, "ls", "r", SDLM_PR, 0, &la,
					 cb_ast, cb_bast, &loga), 0);
	assert_int_equal(dispatch_until(a, 1), 1);
	assert_int_equal(loga.last_status, 0);

	assert_int_equal(sdlm_lock_async(b, "ls", "r", SDLM_EX, 0, &lb,
					 cb_ast, cb_bast, &logb), 0);
	assert_int_equal(dispatch_until(a, 1), 1);
	assert_int_equal(loga.basts, 1);
	assert_int_equal(loga.last_wanted, SDLM_EX);
	assert_ptr_equal(loga.last_lksb, &la);
	assert_int_equal(logb.asts, 0);
	assert_int_equal(sdlm_dispatch(b), 0);

	assert_int_equal(sdlm_unlock(a, &la, 0), 0);
	assert_int_equal(dispatch_until(b, 1), 1);
	assert_int_equal(logb.asts, 1);
	assert_int_equal(logb.last_status, 0);
	assert_int_equal(lb.mode, SDLM_EX);
	assert_int_equal(sdlm_unlock(b, &lb, 0), 0);
	sdlm_disconnect(a);
	sdlm_disconnect(b);
}

static void test_cancel(void **state)
{
	sdlm_handle_t *a = conn(state), *b = conn(state);
	struct sdlm_lksb la, lb;
	struct cb_log log = { 0 };

	memset(&la, 0, sizeof(la));
	memset(&lb, 0, sizeof(lb));
	assert_int_equal(sdlm_lock(a, "ls", "r", SDLM_EX, 0, 1000, &la), 0);
	assert_int_equal(sdlm_lock_async(b, "ls", "r", SDLM_PW, 0, &lb,
					 cb_ast, NULL, &log), 0);
	assert_int_equal(server_locks(a), 2);
	assert_int_equal(sdlm_unlock(b, &lb, 0), -EBUSY);
	assert_int_equal(sdlm_cancel(b, &lb), 0);
	assert_int_equal(dispatch_until(b, 1), 1);
	assert_int_equal(log.asts, 1);
	assert_int_equal(log.last_status, SDLM_ECANCELED);
	assert_int_equal(lb.status, SDLM_ECANCELED);
	assert_int_equal(server_locks(a), 1);
	/* The cancelled request is gone from the library too. */
	assert_int_equal(sdlm_cancel(b, &lb), -ENOENT);
	assert_int_equal(sdlm_unlock(b, &lb, 0), -ENOENT);
	assert_int_equal(sdlm_unlock(a, &la, 0), 0);
	sdlm_disconnect(a);
	sdlm_disconnect(b);
}

static void test_timeout(void **state)
{
	sdlm_handle_t *a = conn(state), *b = conn(state), *c = conn(state);
	struct sdlm_lksb la, lb, lc;
	uint64_t t0, dt;

	memset(&la, 0, sizeof(la));
	memset(&lb, 0, sizeof(lb));
	memset(&lc, 0, sizeof(lc));
	assert_int_equal(sdlm_lock(a, "ls", "r", SDLM_EX, 0, 1000, &la), 0);
	t0 = clock_monotonic_ms();
	assert_int_equal(sdlm_lock(b, "ls", "r", SDLM_EX, 0, 200, &lb), -ETIMEDOUT);
	dt = clock_monotonic_ms() - t0;
	assert_true(dt >= 190);
	assert_true(dt < 5000);
	assert_int_equal(lb.status, -ETIMEDOUT);
	assert_int_equal(server_locks(a), 1);
	assert_int_equal(sdlm_unlock(a, &la, 0), 0);
	/* Nothing of b's request remains: c gets the lock without waiting. */
	assert_int_equal(sdlm_lock(c, "ls", "r", SDLM_EX, SDLM_LKF_NOQUEUE, 1000, &lc), 0);
	assert_int_equal(sdlm_unlock(b, &lb, 0), -ENOENT);
	assert_int_equal(sdlm_dispatch(b), 0);
	sdlm_disconnect(a);
	sdlm_disconnect(b);
	sdlm_disconnect(c);
}

static void test_timeout_grant_race(void **state)
{
	sdlm_handle_t *h = conn(state);
	struct sdlm_lksb lksb;

	memset(&lksb, 0, sizeof(lksb));
	assert_int_equal(sdlm_lock(h, "ls", "race-1", SDLM_EX, 0, 100, &lksb),
			 -ETIMEDOUT);
	/* The fake granted on cancel; the library must have unlocked it. */
	assert_int_equal(server_locks(h), 0);
	assert_int_equal(sdlm_dispatch(h), 0);
	sdlm_disconnect(h);
}

static void test_sync_call_queues_events(void **state)
{
	sdlm_handle_t *h = conn(state);
	struct sdlm_lksb l1, l2;
	struct cb_log log = { 0 };

	memset(&l1, 0, sizeof(l1));
	memset(&l2, 0, sizeof(l2));
	assert_int_equal(sdlm_lock_async(h, "ls", "r1", SDLM_EX, 0, &l1,
					 cb_ast, NULL, &log), 0);
	/* r1's ast is on the socket before r2's: the sync call meets it. */
	assert_int_equal(sdlm_lock(h, "ls", "r2", SDLM_EX, 0, 1000, &l2), 0);
	assert_int_equal(log.asts, 0);
	assert_int_equal(l1.status, -EINPROGRESS);
	assert_int_equal(sdlm_dispatch(h), 1);
	assert_int_equal(log.asts, 1);
	assert_int_equal(l1.status, 0);
	assert_int_equal(l1.mode, SDLM_EX);
	assert_int_equal(sdlm_unlock(h, &l1, 0), 0);
	assert_int_equal(sdlm_unlock(h, &l2, 0), 0);
	sdlm_disconnect(h);
}

static void test_convert(void **state)
{
	sdlm_handle_t *a = conn(state), *b = conn(state);
	struct sdlm_lksb la, lb;
	struct cb_log log = { 0 };

	memset(&la, 0, sizeof(la));
	memset(&lb, 0, sizeof(lb));
	assert_int_equal(sdlm_lock(a, "ls", "r", SDLM_PR, 0, 1000, &la), 0);
	assert_int_equal(sdlm_lock_async(b, "ls", "r", SDLM_PR, 0, &lb,
					 cb_ast, NULL, &log), 0);
	assert_int_equal(dispatch_until(b, 1), 1);

	/* Up-convert blocked by b's PR: times out, a keeps PR. */
	assert_int_equal(sdlm_convert(a, &la, SDLM_EX, 0, 150), -ETIMEDOUT);
	assert_int_equal(la.mode, SDLM_PR);
	assert_int_equal(sdlm_convert(a, &la, SDLM_EX, SDLM_LKF_NOQUEUE, 1000),
			 SDLM_EBUSY);
	assert_int_equal(la.mode, SDLM_PR);
	assert_int_equal(server_locks(a), 2);

	/* The sync-taken lock has no ast for an async convert. */
	assert_int_equal(sdlm_convert_async(a, &la, SDLM_NL, 0), -EINVAL);
	assert_int_equal(sdlm_convert_async(b, &lb, SDLM_NL, 0), 0);
	assert_int_equal(dispatch_until(b, 1), 1);
	assert_int_equal(log.asts, 2);
	assert_int_equal(lb.mode, SDLM_NL);

	assert_int_equal(sdlm_convert(a, &la, SDLM_EX, 0, 1000), 0);
	assert_int_equal(la.mode, SDLM_EX);
	assert_int_equal(sdlm_unlock(a, &la, 0), 0);
	assert_int_equal(sdlm_unlock(b, &lb, 0), 0);
	assert_int_equal(server_locks(a), 0);
	sdlm_disconnect(a);
	sdlm_disconnect(b);
}

/*
 * A killed server cannot remove its libqb files in /dev/shm
 * (qb-<server pid>-<client pid>-*); the suite must leak nothing.
 */
static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static void shm_cleanup(pid_t server)
{
	char pattern[96];
	glob_t g;

	snprintf(pattern, sizeof(pattern), "/dev/shm/qb-%d-%d-*",
		 (int)server, (int)getpid());
	if (glob(pattern, 0, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++)
		assert_int_equal(nftw(g.gl_pathv[i], rm_entry, 8,
				      FTW_DEPTH | FTW_PHYS), 0);
	globfree(&g);
}

static void test_daemon_killed(void **state)
{
	struct fixture *f = *state;
	sdlm_handle_t *a = conn(state), *b = conn(state);
	struct sdlm_lksb la, lb, lc;
	struct cb_log log = { 0 };

	memset(&la, 0, sizeof(la));
	memset(&lb, 0, sizeof(lb));
	memset(&lc, 0, sizeof(lc));
	assert_int_equal(sdlm_lock(a, "ls", "r", SDLM_EX, 0, 1000, &la), 0);
	assert_int_equal(sdlm_lock_async(b, "ls", "r", SDLM_EX, 0, &lb,
					 cb_ast, NULL, &log), 0);
	assert_int_equal(server_locks(a), 2);

	kill(f->server, SIGKILL);
	waitpid(f->server, NULL, 0);

	if (fk_type == QB_IPC_SHM)
		assert_true(fd_readable(b, 2000));
	assert_int_equal(sdlm_dispatch(b), 1);
	assert_int_equal(log.asts, 1);
	assert_int_equal(log.last_status, SDLM_EDAEMON);
	assert_int_equal(lb.status, SDLM_EDAEMON);
	assert_int_equal(sdlm_dispatch(b), SDLM_EDAEMON);
	assert_int_equal(sdlm_lock_async(b, "ls", "r", SDLM_EX, 0, &lc,
					 cb_ast, NULL, &log), SDLM_EDAEMON);

	assert_int_equal(sdlm_lock(a, "ls", "r2", SDLM_EX, 0, 1000, &lc), SDLM_EDAEMON);
	assert_int_equal(sdlm_unlock(a, &la, 0), SDLM_EDAEMON);
	assert_int_equal(sdlm_dispatch(a), SDLM_EDAEMON);
	sdlm_disconnect(a);
	sdlm_disconnect(b);
	shm_cleanup(f->server);
	f->server = 0;
}

static void test_connect_no_daemon(void **state)
{
	sdlm_handle_t *h = NULL;
	char name[64];
	(void)state;

	snprintf(name, sizeof(name), "sdlmt-libtest-%d-none", (int)getpid());
	assert_int_equal(sdlm_connect(name, &h), SDLM_EDAEMON);
	assert_null(h);
}

/*
 * A UID call that gives up (SDLM_ESLOW) tells the daemon so at once
 * (SDLM_UID_CANCEL naming the call), so that a caller who then goes quiet
 * does not leave the daemon holding the mailbox for it; and the handle
 * stays usable for any call, a text command included, while the late
 * answer of the given-up call arrives (it is skipped, its allocation
 * aborted).  The fake answers the slow allocation FK_SLOW_MS after it.
 */
static void test_uid_gave_up(void **state)
{
	sdlm_handle_t *h = conn(state);
	struct sdlm_uid_result r;
	unsigned req, locks, cancels = 0, cancel_ok = 0, aborts = 0, polls = 0;
	char *text;
	int rc;

	assert_int_equal(sdlm_uid_set_timeout(h, 50), 0);
	assert_int_equal(sdlm_uid_alloc(h, "imap", "slowbox", 1, &r), SDLM_ESLOW);
	/* Until the fake has seen the cancel: each text command must work
	 * although the late answer comes in between (FK_SLOW_MS). */
	while (polls++ < 200) {
		text = NULL;
		rc = sdlm_admin_text(h, "status", NULL, 0, &text);
		assert_int_equal(rc, 0);
		assert_int_equal(sscanf(text, "requests=%u locks=%u cancels=%u cancel_ok=%u aborts=%u",
					&req, &locks, &cancels, &cancel_ok, &aborts), 5);
		free(text);
		if (cancel_ok && polls * 10 > FK_SLOW_MS + 100)
			break;
		usleep(10000);
	}
	assert_int_equal(cancels, 1);
	assert_int_equal(cancel_ok, 1);
	sdlm_disconnect(h);
}

/*
 * Review s24 F7: an import that gives up (SDLM_ESLOW) is not cancelled.
 * It holds nothing once served, and it must still come before what the
 * caller asks next: sdlm-deliver adopts a mailbox Dovecot numbered
 * (sdlm_uid_import, its result not needed) and allocates right after; a
 * cancelled import let the allocation create the mailbox afresh under a
 * new UIDVALIDITY, and every later delivery was refused (the uidlist's
 * UIDVALIDITY is not sdlm's), the import too.  On the old code the
 * library sent SDLM_UID_CANCEL for it (cancels 1).  Its late answer is
 * skipped, nothing aborted.
 */
static void test_uid_import_gave_up(void **state)
{
	sdlm_handle_t *h = conn(state);
	struct sdlm_uid_info info;
	unsigned req, locks, cancels = 0, cancel_ok = 0, aborts = 0, lates = 0, seen = 0;
	unsigned polls = 0;
	char *text;
	int rc;

	assert_int_equal(sdlm_uid_set_timeout(h, 50), 0);
	assert_int_equal(sdlm_uid_import(h, "imap", "slowbox", 42, 50, 0, 0, &info), SDLM_ESLOW);
	/* Until the late answer was sent, then once more: the status call
	 * that read (and skipped) it has sent whatever the library sends
	 * for it before the next status is answered.  Bounded: the fake
	 * answers FK_SLOW_MS after the request, 200 polls are 2 s. */
	while (seen < 2 && polls++ < 200) {
		text = NULL;
		rc = sdlm_admin_text(h, "status", NULL, 0, &text);
		assert_int_equal(rc, 0);
		assert_int_equal(sscanf(text, "requests=%u locks=%u cancels=%u cancel_ok=%u aborts=%u lates=%u",
					&req, &locks, &cancels, &cancel_ok, &aborts, &lates), 6);
		free(text);
		if (lates)
			seen++;
		else
			usleep(10000);
	}
	assert_int_equal(lates, 1);
	assert_int_equal(cancels, 0);
	assert_int_equal(aborts, 0);
	sdlm_disconnect(h);
}

/*
 * Issue 18 item 7: reading a mailbox's state and bumping its UIDVALIDITY
 * are two calls (sdlm_uid_info took the choice as an argument).  Show asks
 * the daemon for SHOW, bump for BUMP with the caller's UIDVALIDITY (0:
 * the daemon's old + 1); bad arguments are refused.
 */
static void test_uid_show_bump(void **state)
{
	sdlm_handle_t *h = conn(state);
	struct sdlm_uid_info info;

	assert_int_equal(sdlm_uid_show(h, "imap", "box", NULL), -EINVAL);
	assert_int_equal(sdlm_uid_bump(h, "imap", "box", 0, NULL), -EINVAL);
	assert_int_equal(sdlm_uid_show(NULL, "imap", "box", &info), -EINVAL);
	assert_int_equal(sdlm_uid_bump(h, "imap", NULL, 0, &info), -EINVAL);

	memset(&info, 0xa5, sizeof(info));
	assert_int_equal(sdlm_uid_show(h, "imap", "box", &info), 0);
	assert_int_equal(info.uidvalidity, 42);
	assert_int_equal(info.next, 7);
	assert_int_equal(info.flags, 0);
	assert_int_equal(sdlm_uid_bump(h, "imap", "box", 0, &info), 0);
	assert_int_equal(info.uidvalidity, 43);
	assert_int_equal(info.next, 1);
	assert_int_equal(sdlm_uid_bump(h, "imap", "box", 1000, &info), 0);
	assert_int_equal(info.uidvalidity, 1000);
	sdlm_disconnect(h);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, server_start, server_stop)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_names),
		cmocka_unit_test(test_connect_no_daemon),
		T(test_bad_args_not_sent),
		T(test_sync_lock_unlock),
		T(test_async_lock_dispatch),
		T(test_lvb),
		T(test_bast_to_holder),
		T(test_cancel),
		T(test_timeout),
		T(test_timeout_grant_race),
		T(test_sync_call_queues_events),
		T(test_convert),
		T(test_daemon_killed),
		T(test_uid_gave_up),
		T(test_uid_import_gave_up),
		T(test_uid_show_bump),
	};

	int failed;

	fk_type = QB_IPC_SOCKET;
	failed = cmocka_run_group_tests_name("libsdlm over QB_IPC_SOCKET",
					     tests, NULL, NULL);
	fk_type = QB_IPC_SHM;
	failed += cmocka_run_group_tests_name("libsdlm over QB_IPC_SHM",
					      tests, NULL, NULL);
	fk_type = QB_IPC_SOCKET;
	fk_inline = 1;
	failed += cmocka_run_group_tests_name("libsdlm over QB_IPC_SOCKET, asts in sync replies",
					      tests, NULL, NULL);
	return failed;
}
