/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libsdlm.c - the thin client library: libqb IPC to the local sdlmd and
 * nothing else (no libaio, no corosync).
 *
 * Two channels per connection (sdlm_ipc.h):
 *
 *   request channel  qb_ipcc_send + qb_ipcc_recv: every request gets one
 *                    immediate reply (res_lock: accepted with an lkid, or
 *                    an error).  Replies carry the request's seq.
 *   event channel    qb_ipcc_event_recv: ev_ast (a request completed) and
 *                    ev_bast (someone waits for a lock we hold), in the
 *                    order the daemon sent them.  sdlm_fd() is its fd.
 *
 * Lifetime of a lock as the library sees it:
 *
 *   sdlm_lock*()  --reply ok-->  WAITING --ast 0-->  GRANTED
 *                                   |                  |  ^
 *                                   | ast error        |  | ast (0 or error:
 *                                   v                  v  |  old mode kept)
 *                                 freed              CONVERTING
 *   GRANTED --sdlm_unlock() reply ok--> freed
 *
 * Every lock has a struct lock_ent, found by client_ref (a per-handle
 * counter sent with req_lock and echoed in every event; never a pointer)
 * and by lkid (for calls that name the lock by its lksb).  "pending" is
 * set while a request (lock, convert) waits for its ast; an ast clears it.
 *
 * Sync calls send the request, then read the event channel themselves
 * until the ast of their own request arrives.  A sync sdlm_lock() asks
 * (SDLM_F_SYNC_AST) for an ast the daemon decides at once (a cached
 * grant, a NOQUEUE refusal) to come inside the reply (res_lock_ast): one
 * message and one read fewer on the cached path, the same result.
 * Events for other locks met meanwhile are copied to a FIFO and delivered
 * by the next sdlm_dispatch(): user callbacks never run inside a sync
 * call, only inside sdlm_dispatch().
 * Because those queued events were already taken off the socket, sdlm_fd()
 * does not signal them: after a sync call, call sdlm_dispatch() once.
 *
 * Timeout of a sync request:   deadline --> req_cancel --> wait for the ast
 *   ast SDLM_ECANCELED (or any error)  -> -ETIMEDOUT, nothing held
 *   ast 0 (the grant raced the cancel) -> lock: unlocked again, -ETIMEDOUT
 *                                         convert: reported as granted (0)
 *
 * Lost daemon: any call that meets a closed connection returns
 * SDLM_EDAEMON and marks the handle dead.  The next sdlm_dispatch()
 * completes every pending request with SDLM_EDAEMON (its ast runs) and
 * forgets all locks (the daemon's death released them); later
 * dispatches return SDLM_EDAEMON.  A daemon that does not answer a
 * request within LIBSDLM_REPLY_TIMEOUT_MS is treated as lost: the
 * protocol state is then unknown, and disconnecting is the only way to
 * make the daemon drop it.
 *
 * UID requests (the calls: libsdlm_uid.c):
 *   send --> ACCEPTED ack (queued) --> answer
 *   no ack and no answer within LIBSDLM_REPLY_TIMEOUT_MS -> SDLM_EDAEMON
 *   (lost)
 *   acked, no answer within the handle's UID timeout -> SDLM_ESLOW, the
 *   handle stays usable, and sdlmd is told at once that an allocation
 *   gave up (SDLM_UID_CANCEL naming its seq: sdlmd drops it if still
 *   queued and aborts the allocation it answered it with), so a caller
 *   that goes quiet after SDLM_ESLOW holds nothing; any other call stays
 *   queued and is carried out (an import holds nothing, and must come
 *   before the allocation that follows it); the late answer itself is
 *   skipped when read, an allocation in it aborted (late_reply: the
 *   cancel may cross it).  Neither the cancel's nor the abort's reply is
 *   waited for (skipped by sequence number).
 *   A daemon older than the acknowledgement (before SDLM_1.2) never
 *   sends one: until a handle has seen one, a UID call without an ack
 *   waits LEGACY_UID_WAIT_MS, the limit of the library of that time,
 *   before the daemon counts as lost.
 *
 * Whether sdlm_fd() wakes a poller when the daemon dies depends on the
 * libqb transport the daemon chose: with QB_IPC_SHM the fd is the stream
 * setup socket, which hangs up; with QB_IPC_SOCKET it is a datagram socket
 * that does not, and the loss is seen at the next call or dispatch.
 *
 * A handle is not thread-safe: use each handle from one thread at a time.
 * Callbacks may call any function of the library except sdlm_disconnect()
 * of their own handle.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/uio.h>

#include <qb/qbipcc.h>

#include "sdlm.h"
#include "clock.h"
#include "sdlm_ipc.h"
#include "clientconf.h"
#include "libsdlm_int.h"

#define LEGACY_UID_WAIT_MS	120000	/* no ack ever seen: an older sdlmd */
#define DISPATCH_MAX_READ	4096	/* fresh events per sdlm_dispatch() */
#define ALL_LKF	(SDLM_LKF_NOQUEUE | SDLM_LKF_VALBLK | SDLM_LKF_IVVALBLK)

_Static_assert(sizeof(((struct req_lock *)0)->ls) == SDLM_NAME_MAX,
	       "req_lock.ls must hold SDLM_NAME_MAX bytes");
_Static_assert(sizeof(((struct req_lock *)0)->res) == SDLM_NAME_MAX,
	       "req_lock.res must hold SDLM_NAME_MAX bytes");
_Static_assert(sizeof(((struct ev_ast *)0)->lvb) == SDLM_LVB_LEN,
	       "ev_ast.lvb must be SDLM_LVB_LEN");
_Static_assert(sizeof(((struct req_unlock *)0)->lvb) == SDLM_LVB_LEN,
	       "req_unlock.lvb must be SDLM_LVB_LEN");
_Static_assert(sizeof(((struct req_convert *)0)->lvb) == SDLM_LVB_LEN,
	       "req_convert.lvb must be SDLM_LVB_LEN");

struct lock_ent {
	uint64_t lk_ref;		/* client_ref */
	sdlm_lkid_t lk_id;
	struct sdlm_lksb *lk_lksb;
	sdlm_ast_fn lk_ast;
	sdlm_bast_fn lk_bast;
	void *lk_arg;
	unsigned lk_pending:1;		/* a request waits for its ast */
	unsigned lk_granted:1;		/* the daemon holds it in some mode */
	struct lock_ent *lk_next_ref;
	struct lock_ent *lk_next_id;
};

/* An event taken off the socket by a sync call, for sdlm_dispatch(). */
struct ev_queued {
	struct ev_queued *next;
	size_t len;
	union {
		struct sdlm_res_hdr hdr;
		struct ev_ast ast;
		struct ev_bast bast;
	} u;
};

/* ---- small helpers ---------------------------------------------------- */

static unsigned hash_u64(uint64_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdull;
	v ^= v >> 33;
	return (unsigned)v & (LIBSDLM_LOCK_HASH_SIZE - 1);
}

static int is_conn_error(long rc)
{
	return rc == -ENOTCONN || rc == -EPIPE || rc == -ECONNRESET ||
	       rc == -ESHUTDOWN || rc == -EBADF || rc == -ECONNREFUSED;
}

/* Milliseconds left until deadline (0 = none): -1 blocks, 0 = expired. */
static int32_t ms_left(uint64_t deadline)
{
	uint64_t now;

	if (!deadline)
		return -1;
	now = clock_monotonic_ms();
	if (now >= deadline)
		return 0;
	return deadline - now > INT32_MAX ? INT32_MAX : (int32_t)(deadline - now);
}

/* 0 or -EINVAL / -ENAMETOOLONG. */
static int name_check(const char *name, size_t *len)
{
	if (!name)
		return -EINVAL;
	*len = strnlen(name, SDLM_NAME_MAX + 1);
	if (*len == 0)
		return -EINVAL;
	if (*len > SDLM_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

static int mode_ok(int mode)
{
	return mode >= SDLM_NL && mode <= SDLM_EX;
}

/* ---- the lock table --------------------------------------------------- */

static struct lock_ent *ent_by_ref(struct sdlm_handle *h, uint64_t ref)
{
	struct lock_ent *e;

	for (e = h->by_ref[hash_u64(ref)]; e; e = e->lk_next_ref)
		if (e->lk_ref == ref)
			return e;
	return NULL;
}

static struct lock_ent *ent_by_id(struct sdlm_handle *h, sdlm_lkid_t id)
{
	struct lock_ent *e;

	if (!id)
		return NULL;
	for (e = h->by_id[hash_u64(id)]; e; e = e->lk_next_id)
		if (e->lk_id == id)
			return e;
	return NULL;
}

static void ent_insert(struct sdlm_handle *h, struct lock_ent *e)
{
	unsigned r = hash_u64(e->lk_ref), i = hash_u64(e->lk_id);

	e->lk_next_ref = h->by_ref[r];
	h->by_ref[r] = e;
	e->lk_next_id = h->by_id[i];
	h->by_id[i] = e;
}

static void ent_remove(struct sdlm_handle *h, struct lock_ent *e)
{
	struct lock_ent **pp;

	for (pp = &h->by_ref[hash_u64(e->lk_ref)]; *pp; pp = &(*pp)->lk_next_ref)
		if (*pp == e) {
			*pp = e->lk_next_ref;
			break;
		}
	for (pp = &h->by_id[hash_u64(e->lk_id)]; *pp; pp = &(*pp)->lk_next_id)
		if (*pp == e) {
			*pp = e->lk_next_id;
			break;
		}
	free(e);
}

static void table_free(struct sdlm_handle *h)
{
	struct lock_ent *e, *next;
	struct ev_queued *q, *qn;
	unsigned i;

	for (i = 0; i < LIBSDLM_LOCK_HASH_SIZE; i++) {
		for (e = h->by_ref[i]; e; e = next) {
			next = e->lk_next_ref;
			free(e);
		}
		h->by_ref[i] = NULL;
		h->by_id[i] = NULL;
	}
	for (q = h->q_head; q; q = qn) {
		qn = q->next;
		free(q);
	}
	h->q_head = h->q_tail = NULL;
}

/* ---- connection ------------------------------------------------------- */

int sdlm_connect(const char *ipc_name, sdlm_handle_t **out)
{
	char conf_name[65];	/* ipc_name: at most 64 bytes (conf.c) */
	struct sdlm_handle *h;

	if (!out)
		return -EINVAL;
	if (!ipc_name)
		ipc_name = getenv("SDLM_IPC");
	if ((!ipc_name || !ipc_name[0]) &&
	    clientconf_ipc_name(SDLM_CONFIG_FILE, conf_name, sizeof(conf_name)) == 1)
		ipc_name = conf_name;
	if (!ipc_name || !ipc_name[0])
		ipc_name = "sdlm";
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->uid_timeout_ms = SDLM_UID_TIMEOUT_DEFAULT_MS;
	h->conn = qb_ipcc_connect(ipc_name, SDLM_IPC_MAX_MSG);
	if (!h->conn) {
		int err = errno;

		free(h);
		if (err == EMFILE)
			return SDLM_ELIMIT;	/* max_connections_per_user */
		return err == EACCES || err == EPERM ? -err : SDLM_EDAEMON;
	}
	*out = h;
	return 0;
}

/* Locks still held are released by the daemon when the connection closes. */
void sdlm_disconnect(sdlm_handle_t *h)
{
	if (!h)
		return;
	qb_ipcc_disconnect(h->conn);
	table_free(h);
	free(h);
}

static int handle_lost(struct sdlm_handle *h)
{
	h->dead = 1;
	return SDLM_EDAEMON;
}

/* Send a UID op (ABORT, CANCEL) whose reply is skipped, not waited for. */
void libsdlm_uid_fire_and_forget(struct sdlm_handle *h, uint32_t op, uint64_t alloc_id)
{
	struct req_uid req;

	memset(&req, 0, sizeof(req));
	req.hdr.qb.id = SDLM_CMD_UID;
	req.hdr.qb.size = (int32_t)sizeof(req);
	req.hdr.magic = SDLM_IPC_MAGIC;
	req.hdr.version = SDLM_IPC_VERSION;
	req.hdr.seq = ++h->seq;
	req.op = op;
	req.alloc_id = alloc_id;
	if (qb_ipcc_send(h->conn, &req, sizeof(req)) < 0)
		return;		/* the daemon's lease ends it */
	h->ff_seq[h->ff_next++ % LIBSDLM_FF_MAX] = req.hdr.seq;
}

/*
 * A reply older than the request being waited for: left by a call that
 * gave up.  An allocation in it is aborted at once (its UIDs become a
 * gap): it would hold the mailbox here, and keep later allocations of the
 * mailbox waiting behind it, until the daemon's allocation lease.  The
 * abort is not waited for: its reply is skipped when it comes.
 */
static void late_reply(struct sdlm_handle *h, const void *res, size_t got)
{
	const struct res_uid *u = res;

	if (got < sizeof(*u) || u->hdr.qb.id != (SDLM_CMD_UID | SDLM_IPC_RESPONSE) ||
	    u->hdr.qb.error || (u->flags & SDLM_UIDRES_ACCEPTED) || !u->alloc_id ||
	    !u->count)
		return;
	libsdlm_uid_fire_and_forget(h, SDLM_UID_ABORT, u->alloc_id);
}

/* Is seq one of the aborts late_reply sent? */
static bool ff_reply(const struct sdlm_handle *h, uint32_t seq)
{
	unsigned i;

	for (i = 0; i < LIBSDLM_FF_MAX; i++)
		if (h->ff_seq[i] == seq && seq)
			return true;
	return false;
}

/*
 * Send one request and read its reply into res (res_cap bytes), waiting
 * at most timeout_ms for it.  A UID request sdlmd queues is acknowledged
 * first (SDLM_UIDRES_ACCEPTED): from then on the wait is acked_ms (0: as
 * long as the connection lives), and running out of it is SDLM_ESLOW, not
 * a lost daemon.  Replies older than this request (left by a caller that
 * gave up) are skipped.  Returns 0 when the reply is the answer to cmd, at
 * least min_len bytes, with no error; else the daemon's error, or
 * SDLM_EDAEMON / SDLM_EPROTO / SDLM_ESLOW.
 */
int libsdlm_exchange_acked(struct sdlm_handle *h, struct sdlm_req_hdr *req, size_t size,
			   int cmd, unsigned timeout_ms, unsigned acked_ms, void *res,
			   size_t res_cap, size_t min_len)
{
	struct sdlm_res_hdr *hdr = res;
	uint64_t deadline, sent;
	bool accepted = false, legacy = false;
	ssize_t got;

	if (h->dead)
		return SDLM_EDAEMON;
	req->qb.id = cmd;
	req->qb.size = (int32_t)size;
	req->magic = SDLM_IPC_MAGIC;
	req->version = SDLM_IPC_VERSION;
	req->seq = ++h->seq;

	got = qb_ipcc_send(h->conn, req, size);
	if (got < 0)
		return is_conn_error(got) ? handle_lost(h) : (int)got;

	sent = clock_monotonic_ms();
	deadline = sent + timeout_ms;
	for (;;) {
		int32_t left = ms_left(deadline);

		if (left == 0 && !accepted && !legacy && cmd == SDLM_CMD_UID &&
		    !h->daemon_acks && sent + LEGACY_UID_WAIT_MS > deadline) {
			/* no ack ever: maybe a daemon older than acks */
			legacy = true;
			deadline = sent + LEGACY_UID_WAIT_MS;
			continue;
		}
		if (left == 0)
			return accepted ? SDLM_ESLOW : handle_lost(h);
		got = qb_ipcc_recv(h->conn, res, res_cap, left);
		if (got == -ETIMEDOUT || got == -EAGAIN)
			continue;
		if (got < 0)
			return is_conn_error(got) ? handle_lost(h) : (int)got;
		if ((size_t)got < sizeof(*hdr) || hdr->magic != SDLM_IPC_MAGIC)
			return SDLM_EPROTO;
		if ((int32_t)(hdr->seq - req->seq) < 0) {
			late_reply(h, res, (size_t)got);
			continue;
		}
		if (hdr->seq != req->seq) {
			if (ff_reply(h, hdr->seq))
				continue;
			return SDLM_EPROTO;
		}
		if (cmd == SDLM_CMD_UID && !hdr->qb.error &&
		    (size_t)got >= sizeof(struct res_uid) &&
		    (((const struct res_uid *)res)->flags & SDLM_UIDRES_ACCEPTED)) {
			if (accepted)
				return SDLM_EPROTO;
			accepted = true;
			h->daemon_acks = true;
			deadline = acked_ms ? clock_monotonic_ms() + acked_ms : 0;
			continue;
		}
		break;
	}
	if (hdr->qb.error)
		return hdr->qb.error > 0 ? SDLM_EPROTO : hdr->qb.error;
	if ((size_t)got < min_len || hdr->qb.id != (cmd | SDLM_IPC_RESPONSE))
		return SDLM_EPROTO;
	h->reply_len = (size_t)got;
	return 0;
}

static int exchange(struct sdlm_handle *h, struct sdlm_req_hdr *req, size_t size,
		    int cmd, unsigned timeout_ms, void *res, size_t res_cap,
		    size_t min_len)
{
	return libsdlm_exchange_acked(h, req, size, cmd, timeout_ms, 0, res, res_cap, min_len);
}

union res_lock_any {
	struct res_lock lock;
	struct res_lock_ast ast;
	char raw[512];
};

/* As request_send, with the whole reply in *res. */
static int request_send_res(struct sdlm_handle *h, struct sdlm_req_hdr *req,
			    size_t size, int cmd, union res_lock_any *res)
{
	return exchange(h, req, size, cmd, LIBSDLM_REPLY_TIMEOUT_MS, res, sizeof(*res),
			sizeof(struct res_lock));
}

/*
 * Send one lock-family request and read its immediate reply.  Returns 0
 * with *lkid set, the daemon's error, or SDLM_EDAEMON / SDLM_EPROTO.
 */
static int request_send(struct sdlm_handle *h, struct sdlm_req_hdr *req,
			size_t size, int cmd, sdlm_lkid_t *lkid)
{
	union res_lock_any res;
	int rc;

	rc = request_send_res(h, req, size, cmd, &res);
	if (rc == 0 && lkid)
		*lkid = res.lock.lkid;
	return rc;
}

/* ---- events ----------------------------------------------------------- */

/* 1 if the event is well formed for its id, else 0 (it is dropped). */
static int event_valid(const struct sdlm_res_hdr *hdr, size_t len)
{
	if (len < sizeof(*hdr) || hdr->magic != SDLM_IPC_MAGIC ||
	    hdr->version != SDLM_IPC_VERSION)
		return 0;
	if (hdr->qb.id == SDLM_EV_AST)
		return len >= sizeof(struct ev_ast);
	if (hdr->qb.id == SDLM_EV_BAST)
		return len >= sizeof(struct ev_bast);
	return 0;
}

/* Copy an ast's result into the lock's lksb and table entry. */
static void ast_apply(struct lock_ent *e, const struct ev_ast *ev)
{
	struct sdlm_lksb *lksb = e->lk_lksb;

	e->lk_pending = 0;
	lksb->status = ev->hdr.qb.error > 0 ? SDLM_EPROTO : ev->hdr.qb.error;
	if (lksb->status == 0) {
		e->lk_granted = 1;
		lksb->mode = ev->mode;
		lksb->lvb_valid = ev->lvb_valid != 0;
		if (lksb->lvb_valid)
			memcpy(lksb->lvb, ev->lvb, SDLM_LVB_LEN);
	}
}

/*
 * Deliver one event to its lock: fill the lksb, run the callback.  The
 * callback may call back into the library (unlock, lock_async, a sync
 * call that reuses h->evbuf, ...), so nothing of the entry or the event
 * is touched once the callback was called.  Returns 1 if a callback ran.
 */
static int event_deliver(struct sdlm_handle *h, const struct sdlm_res_hdr *hdr,
			 size_t len)
{
	struct lock_ent *e;
	uint64_t ref;

	if (!event_valid(hdr, len))
		return 0;
	if (hdr->qb.id == SDLM_EV_AST) {
		const struct ev_ast *ev = (const struct ev_ast *)hdr;
		sdlm_ast_fn ast;
		void *arg;
		struct sdlm_lksb *lksb;

		ref = ev->client_ref;
		e = ent_by_ref(h, ref);
		if (!e || e->lk_id != ev->lkid || !e->lk_pending)
			return 0;
		ast_apply(e, ev);
		ast = e->lk_ast;
		arg = e->lk_arg;
		lksb = e->lk_lksb;
		if (!e->lk_granted)
			ent_remove(h, e);
		if (!ast)
			return 0;
		ast(arg, lksb);
		return 1;
	} else {
		const struct ev_bast *ev = (const struct ev_bast *)hdr;

		e = ent_by_ref(h, ev->client_ref);
		if (!e || e->lk_id != ev->lkid || !e->lk_granted || !e->lk_bast)
			return 0;
		e->lk_bast(e->lk_arg, e->lk_lksb, ev->mode_wanted);
		return 1;
	}
}

/* Keep an event for the next sdlm_dispatch().  0 or -ENOMEM. */
static int event_queue(struct sdlm_handle *h, const void *ev, size_t len)
{
	struct ev_queued *q;

	if (len > sizeof(q->u))
		len = sizeof(q->u);	/* known fields only; the rest is unused */
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	memcpy(&q->u, ev, len);
	q->len = len;
	if (h->q_tail)
		h->q_tail->next = q;
	else
		h->q_head = q;
	h->q_tail = q;
	return 0;
}

/*
 * Read events until the ast of lock e's pending request arrived (its
 * result is then in the lksb), queueing every other event.  deadline 0
 * waits for ever.  Returns 0, -ETIMEDOUT, SDLM_EDAEMON or -ENOMEM.
 */
static int ast_wait(struct sdlm_handle *h, struct lock_ent *e, uint64_t deadline)
{
	const struct sdlm_res_hdr *hdr = &h->evbuf.hdr;
	ssize_t got;
	int rc;

	while (e->lk_pending) {
		int32_t left = ms_left(deadline);

		if (left == 0)
			return -ETIMEDOUT;
		got = qb_ipcc_event_recv(h->conn, &h->evbuf, sizeof(h->evbuf), left);
		if (got == -ETIMEDOUT || got == -EAGAIN)
			continue;
		if (got < 0)
			return is_conn_error(got) ? handle_lost(h) : (int)got;
		if (!event_valid(hdr, (size_t)got))
			continue;
		if (hdr->qb.id == SDLM_EV_AST &&
		    h->evbuf.ast.client_ref == e->lk_ref &&
		    h->evbuf.ast.lkid == e->lk_id) {
			ast_apply(e, &h->evbuf.ast);
			break;
		}
		rc = event_queue(h, &h->evbuf, (size_t)got);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int sdlm_fd(sdlm_handle_t *h)
{
	int32_t fd;
	int32_t rc;

	if (!h)
		return -EINVAL;
	rc = qb_ipcc_fd_get(h->conn, &fd);
	if (rc < 0)
		return rc;
	return fd;
}

/* After the connection was lost: every pending request ends with EDAEMON. */
static int dispatch_dead(struct sdlm_handle *h)
{
	struct lock_ent *e, *pend = NULL, *next;
	unsigned i;
	int ran = 0;

	/* Unhook everything first: callbacks may call us (and get EDAEMON). */
	for (i = 0; i < LIBSDLM_LOCK_HASH_SIZE; i++) {
		for (e = h->by_ref[i]; e; e = next) {
			next = e->lk_next_ref;
			if (e->lk_pending) {
				e->lk_next_ref = pend;
				pend = e;
			} else {
				free(e);
			}
		}
		h->by_ref[i] = NULL;
		h->by_id[i] = NULL;
	}
	h->dead_reported = 1;
	for (e = pend; e; e = next) {
		next = e->lk_next_ref;
		e->lk_lksb->status = SDLM_EDAEMON;
		if (e->lk_ast) {
			e->lk_ast(e->lk_arg, e->lk_lksb);
			ran++;
		}
		free(e);
	}
	return ran;
}

/* Returns the number of callbacks run, or SDLM_EDAEMON / -errno. */
int sdlm_dispatch(sdlm_handle_t *h)
{
	struct ev_queued *q;
	ssize_t got;
	int ran = 0, reads = 0;

	if (!h)
		return -EINVAL;
	while ((q = h->q_head)) {
		h->q_head = q->next;
		if (!h->q_head)
			h->q_tail = NULL;
		ran += event_deliver(h, &q->u.hdr, q->len);
		free(q);
	}
	while (!h->dead && reads++ < DISPATCH_MAX_READ) {
		got = qb_ipcc_event_recv(h->conn, &h->evbuf, sizeof(h->evbuf), 0);
		if (got == -EAGAIN || got == -ETIMEDOUT)
			break;
		if (got < 0) {
			if (is_conn_error(got)) {
				handle_lost(h);
				break;
			}
			return ran ? ran : (int)got;
		}
		ran += event_deliver(h, &h->evbuf.hdr, (size_t)got);
	}
	if (h->dead) {
		/* Events read before the loss were delivered above. */
		while ((q = h->q_head)) {
			h->q_head = q->next;
			ran += event_deliver(h, &q->u.hdr, q->len);
			free(q);
		}
		h->q_tail = NULL;
		if (!h->dead_reported)
			ran += dispatch_dead(h);
		if (!ran)
			return SDLM_EDAEMON;
	}
	return ran;
}

/* ---- lock requests ---------------------------------------------------- */

/*
 * Validate and send req_lock; on acceptance the lock is in the table as
 * WAITING and *out points at it.  Returns 0 or an error (nothing kept).
 */
static int lock_start(struct sdlm_handle *h, const char *lockspace,
		      const char *resource, int mode, uint32_t flags,
		      struct sdlm_lksb *lksb, sdlm_ast_fn ast, sdlm_bast_fn bast,
		      void *arg, struct lock_ent **out)
{
	union res_lock_any res;
	struct req_lock req;
	struct lock_ent *e;
	size_t ls_len, res_len;
	sdlm_lkid_t lkid = 0;
	int inline_ast = 0;
	int rc;

	if (!h || !lksb)
		return -EINVAL;
	rc = name_check(lockspace, &ls_len);
	if (rc < 0)
		return rc;
	rc = name_check(resource, &res_len);
	if (rc < 0)
		return rc;
	if (!mode_ok(mode) || (flags & ~ALL_LKF))
		return -EINVAL;
	if (h->dead)
		return SDLM_EDAEMON;

	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->lk_ref = ++h->next_ref;
	e->lk_lksb = lksb;
	e->lk_ast = ast;
	e->lk_bast = bast;
	e->lk_arg = arg;

	memset(&req, 0, sizeof(req));
	req.client_ref = e->lk_ref;
	req.flags = flags;
	req.mode = mode;
	req.ls_len = (uint16_t)ls_len;
	req.res_len = (uint16_t)res_len;
	memcpy(req.ls, lockspace, ls_len);
	memcpy(req.res, resource, res_len);
	/* A sync call (no ast callback) takes an ast decided at once in
	 * the reply: nothing can run between the two for it anyway. */
	if (!ast)
		req.hdr.flags = SDLM_F_SYNC_AST;
	rc = request_send_res(h, &req.hdr, sizeof(req), SDLM_CMD_LOCK, &res);
	if (rc == 0) {
		lkid = res.lock.lkid;
		inline_ast = !ast && (res.lock.hdr.flags & SDLM_F_AST_INLINE);
		if (inline_ast && h->reply_len < sizeof(res.ast))
			rc = SDLM_EPROTO;
	}
	if (rc == 0 && (!lkid || ent_by_id(h, lkid)))
		rc = SDLM_EPROTO;
	if (rc < 0) {
		lksb->status = rc;
		free(e);
		return rc;
	}
	e->lk_id = lkid;
	e->lk_pending = 1;
	lksb->lkid = lkid;
	lksb->status = -EINPROGRESS;
	ent_insert(h, e);
	if (inline_ast) {
		struct ev_ast ev;

		memset(&ev, 0, sizeof(ev));
		ev.hdr.qb.error = res.ast.ast_status;
		ev.lkid = lkid;
		ev.client_ref = e->lk_ref;
		ev.mode = res.ast.mode;
		ev.lvb_valid = res.ast.lvb_valid;
		memcpy(ev.lvb, res.ast.lvb, SDLM_LVB_LEN);
		ast_apply(e, &ev);
	}
	*out = e;
	return 0;
}

/* Returns 0 or an error; the daemon's error for a cancel it refused. */
static int cancel_send(struct sdlm_handle *h, struct lock_ent *e)
{
	struct req_cancel req;

	memset(&req, 0, sizeof(req));
	req.lkid = e->lk_id;
	return request_send(h, &req.hdr, sizeof(req), SDLM_CMD_CANCEL, NULL);
}

static int unlock_send(struct sdlm_handle *h, struct lock_ent *e, uint32_t flags)
{
	struct req_unlock req;

	memset(&req, 0, sizeof(req));
	req.lkid = e->lk_id;
	req.flags = flags;
	if (flags & SDLM_LKF_VALBLK)
		memcpy(req.lvb, e->lk_lksb->lvb, SDLM_LVB_LEN);
	return request_send(h, &req.hdr, sizeof(req), SDLM_CMD_UNLOCK, NULL);
}

/*
 * A sync request hit its deadline: cancel it and wait for its ast, which
 * the daemon sends whether the cancel or the grant won.  Returns 0 when
 * the ast arrived (result in the lksb) or SDLM_EDAEMON / -ENOMEM.
 */
static int sync_cancel(struct sdlm_handle *h, struct lock_ent *e)
{
	int rc;

	rc = cancel_send(h, e);
	if (rc == SDLM_EDAEMON || rc == SDLM_EPROTO)
		return handle_lost(h);
	rc = ast_wait(h, e, clock_monotonic_ms() + LIBSDLM_REPLY_TIMEOUT_MS);
	if (rc == -ETIMEDOUT)
		return handle_lost(h);
	return rc;
}

/* Returns 0 (granted), the request's error, -ETIMEDOUT, or -errno. */
int sdlm_lock(sdlm_handle_t *h, const char *lockspace, const char *resource,
	      int mode, uint32_t flags, unsigned timeout_ms,
	      struct sdlm_lksb *lksb)
{
	uint64_t deadline = timeout_ms ? clock_monotonic_ms() + timeout_ms : 0;
	struct lock_ent *e;
	int rc;

	rc = lock_start(h, lockspace, resource, mode, flags, lksb,
			NULL, NULL, NULL, &e);
	if (rc < 0)
		return rc;
	rc = ast_wait(h, e, deadline);
	if (rc == -ETIMEDOUT) {
		rc = sync_cancel(h, e);
		if (rc == 0 && lksb->status == 0) {
			/* The grant won the race: give it back. */
			rc = unlock_send(h, e, 0);
			if (rc == 0)
				ent_remove(h, e);
			e = NULL;
		}
		if (rc == 0)
			rc = -ETIMEDOUT;
		lksb->status = rc;
	} else if (rc == 0) {
		rc = lksb->status;
	} else {
		lksb->status = rc;
	}
	if (e && !h->dead && !e->lk_granted && !e->lk_pending)
		ent_remove(h, e);
	return rc;
}

int sdlm_lock_async(sdlm_handle_t *h, const char *lockspace,
		    const char *resource, int mode, uint32_t flags,
		    struct sdlm_lksb *lksb, sdlm_ast_fn ast, sdlm_bast_fn bast,
		    void *arg)
{
	struct lock_ent *e;

	if (!ast)
		return -EINVAL;
	return lock_start(h, lockspace, resource, mode, flags, lksb,
			  ast, bast, arg, &e);
}

/*
 * Find the granted, idle lock of lksb and send req_convert; it is then
 * CONVERTING.  Returns 0, -EINVAL, -ENOENT (not a lock of this handle),
 * -EBUSY (a request of this lock still waits) or the daemon's error.
 */
static int convert_start(struct sdlm_handle *h, struct sdlm_lksb *lksb,
			 int mode, uint32_t flags, struct lock_ent **out)
{
	struct req_convert req;
	struct lock_ent *e;
	int rc;

	if (!h || !lksb || !mode_ok(mode) || (flags & ~ALL_LKF))
		return -EINVAL;
	if (h->dead)
		return SDLM_EDAEMON;
	e = ent_by_id(h, lksb->lkid);
	if (!e || e->lk_lksb != lksb)
		return -ENOENT;
	if (e->lk_pending)
		return -EBUSY;
	memset(&req, 0, sizeof(req));
	req.lkid = e->lk_id;
	req.flags = flags;
	req.mode = mode;
	if (flags & SDLM_LKF_VALBLK)
		memcpy(req.lvb, lksb->lvb, SDLM_LVB_LEN);
	rc = request_send(h, &req.hdr, sizeof(req), SDLM_CMD_CONVERT, NULL);
	if (rc < 0)
		return rc;
	e->lk_pending = 1;
	lksb->status = -EINPROGRESS;
	*out = e;
	return 0;
}

/* Returns 0 (converted), the request's error (the old mode is kept),
 * -ETIMEDOUT, or -errno. */
int sdlm_convert(sdlm_handle_t *h, struct sdlm_lksb *lksb, int mode,
		 uint32_t flags, unsigned timeout_ms)
{
	uint64_t deadline = timeout_ms ? clock_monotonic_ms() + timeout_ms : 0;
	struct lock_ent *e;
	int rc;

	rc = convert_start(h, lksb, mode, flags, &e);
	if (rc < 0)
		return rc;
	rc = ast_wait(h, e, deadline);
	if (rc == -ETIMEDOUT) {
		rc = sync_cancel(h, e);
		/* A grant that won the race stands: the lock is converted. */
		if (rc == 0 && lksb->status != 0)
			lksb->status = rc = -ETIMEDOUT;
	} else if (rc == 0) {
		rc = lksb->status;
	}
	return rc;
}

/* The lock's own ast (from sdlm_lock_async) reports the result. */
int sdlm_convert_async(sdlm_handle_t *h, struct sdlm_lksb *lksb, int mode,
		       uint32_t flags)
{
	struct lock_ent *e;

	if (h && lksb) {
		e = ent_by_id(h, lksb->lkid);
		if (e && !e->lk_ast)
			return -EINVAL;	/* taken by sdlm_lock: no ast to run */
	}
	return convert_start(h, lksb, mode, flags, &e);
}

/*
 * Synchronous: the daemon answers an unlock at once.  Returns 0, -EINVAL,
 * -ENOENT, -EBUSY (a request of this lock waits: cancel it first) or the
 * daemon's error.
 */
int sdlm_unlock(sdlm_handle_t *h, struct sdlm_lksb *lksb, uint32_t flags)
{
	struct lock_ent *e;
	int rc;

	if (!h || !lksb || (flags & ~(SDLM_LKF_VALBLK | SDLM_LKF_IVVALBLK)))
		return -EINVAL;
	if (h->dead)
		return SDLM_EDAEMON;
	e = ent_by_id(h, lksb->lkid);
	if (!e || e->lk_lksb != lksb)
		return -ENOENT;
	if (e->lk_pending)
		return -EBUSY;
	rc = unlock_send(h, e, flags);
	if (rc < 0)
		return rc;
	ent_remove(h, e);
	lksb->status = 0;
	lksb->lkid = 0;
	return 0;
}

/*
 * Returns 0 once the daemon took the cancel, -ENOENT if no request of
 * this lock waits, or the daemon's error (typically: the request was no
 * longer waiting).  In every case but -ENOENT / SDLM_EDAEMON the pending
 * request's ast still arrives: SDLM_ECANCELED, or the grant that won.
 */
int sdlm_cancel(sdlm_handle_t *h, struct sdlm_lksb *lksb)
{
	struct lock_ent *e;

	if (!h || !lksb)
		return -EINVAL;
	if (h->dead)
		return SDLM_EDAEMON;
	e = ent_by_id(h, lksb->lkid);
	if (!e || e->lk_lksb != lksb || !e->lk_pending)
		return -ENOENT;
	return cancel_send(h, e);
}

/* ---- modes ------------------------------------------------------------ */

static const char *const mode_names[] = {
	[SDLM_NL] = "NL", [SDLM_CR] = "CR", [SDLM_CW] = "CW",
	[SDLM_PR] = "PR", [SDLM_PW] = "PW", [SDLM_EX] = "EX",
};

/* "NL".."EX", or "??" for a value that is no mode. */
const char *sdlm_mode_name(int mode)
{
	return mode_ok(mode) ? mode_names[mode] : "??";
}

int sdlm_mode_parse(const char *name)
{
	int m;

	if (!name)
		return -EINVAL;
	for (m = SDLM_NL; m <= SDLM_EX; m++)
		if (!strcasecmp(name, mode_names[m]))
			return m;
	return -EINVAL;
}

/* ---- administrative text ---------------------------------------------- */

static const struct { const char *name; enum sdlm_cmd cmd; } text_cmds[] = {
	{ "status", SDLM_CMD_STATUS },
	{ "nodes", SDLM_CMD_NODES },
	{ "dump", SDLM_CMD_DUMP },
	{ "dump-config", SDLM_CMD_DUMP_CONFIG },
	{ "ls", SDLM_CMD_LS_LIST },
	{ "locks", SDLM_CMD_LOCKS },
	{ "fence-confirm", SDLM_CMD_FENCE_CONFIRM },
	{ "uids", SDLM_CMD_UID_LIST },
	{ "stats", SDLM_CMD_STATS },
	{ "degraded", SDLM_CMD_DEGRADED },
	{ "degraded-enable", SDLM_CMD_DEGRADED_ENABLE },
	{ "degraded-disable", SDLM_CMD_DEGRADED_DISABLE },
};

/* Returns 0 or -errno / SDLM_E*. */
int sdlm_admin_text(sdlm_handle_t *h, const char *cmd, const char *arg,
		    int json, char **text)
{
	struct req_text req;
	struct sdlm_res_hdr *res;
	size_t i, n;
	int rc;

	if (!h || !cmd || !text)
		return -EINVAL;
	for (i = 0; i < sizeof(text_cmds) / sizeof(text_cmds[0]); i++)
		if (!strcmp(cmd, text_cmds[i].name))
			break;
	if (i == sizeof(text_cmds) / sizeof(text_cmds[0]))
		return -EINVAL;
	if (arg && strlen(arg) >= sizeof(req.arg))
		return -ENAMETOOLONG;
	if (h->dead)
		return SDLM_EDAEMON;

	memset(&req, 0, sizeof(req));
	req.hdr.flags = json ? SDLM_F_JSON : 0;
	if (arg)
		strcpy(req.arg, arg);

	res = malloc(SDLM_IPC_MAX_MSG);
	if (!res)
		return -ENOMEM;
	/* exchange: a late UID answer left by a call that gave up is
	 * skipped (and its allocation aborted), not taken for this reply */
	rc = exchange(h, &req.hdr, sizeof(req), text_cmds[i].cmd, LIBSDLM_REPLY_TIMEOUT_MS, res,
		      SDLM_IPC_MAX_MSG, sizeof(*res));
	if (rc < 0)
		goto out_free;
	n = h->reply_len - sizeof(*res);
	*text = malloc(n + 1);
	if (!*text) {
		rc = -ENOMEM;
		goto out_free;
	}
	memcpy(*text, res + 1, n);
	(*text)[n] = '\0';
	rc = 0;
out_free:
	free(res);
	return rc;
}
