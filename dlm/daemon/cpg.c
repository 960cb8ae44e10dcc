/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cpg.c - one lockspace's CPG group: join, ordered delivery, sending with
 * flow control.  cpg.h has the picture; this file only adapts corosync.
 *
 * Send queue timeline (one lockspace):
 *
 *	ls_cpg_send(m1)  queue [m1]  mcast OK         queue []
 *	ls_cpg_send(m2)  queue [m2]  mcast TRY_AGAIN  queue [m2], retry in 1 ms
 *	ls_cpg_send(m3)  queue [m2 m3]  head blocked: not even tried
 *	  (retry timer)  ls_cpg_flush  TRY_AGAIN  retry in 2 ms (doubling,
 *	                 capped at LS_CPG_RETRY_MAX_MS)
 *	  (fd readable)  ls_cpg_dispatch -> callbacks, then flush: m2, m3 OK
 *
 * A message is encoded when queued, so its seq and ring id say when the
 * sender decided it, not when corosync took it.  Only the head is ever
 * tried, so agreed order among one sender's messages is send order.
 *
 * Joining never blocks the caller (the daemon's loop must not).  Every
 * call of the join is a request/reply to corosync that libcpg waits for
 * without a timeout, and corosync does not answer during a membership
 * sync (or ever, hung): so a thread of its own joins, one per ls_cpg:
 *
 *	ls_cpg_open      starts the join thread; queue [] ; joined: no
 *	ls_cpg_send(m1)  queue [m1]  (not joined: not tried)
 *	  join thread    cpg_model_initialize, cpg_local_get,
 *	                 cpg_max_atomic_msgsize_get, cpg_join (TRY_AGAIN:
 *	                 again after 10 ms doubling to 200 ms), then posts
 *	                 its result on the eventfd ls_cpg_join_fd()
 *	  (eventfd readable, the loop) ls_cpg_join_step  STAGE_JOINED,
 *	                 flush: m1 goes out behind our own join
 *
 * Only the join thread touches the handle until it posted; after that
 * only the loop (libcpg handles are not for two threads at once).  The
 * caller decides how long to wait (lockspace.c: corosync's settle time),
 * then leaves and closes: a join still in corosync is abandoned, and its
 * thread finalizes the handle and frees everything when corosync answers
 * at last.  cpg_finalize waits for a reply too: ls_cpg_close finalizes in
 * a thread.  cpg_leave (a fenced node leaving, ls_cpg_leave) still waits
 * on the caller's thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <corosync/cpg.h>

#include "cpg.h"
#include "msg.h"
#include "sdlm.h"

_Static_assert(LS_MEMBERS_MAX == CPG_MEMBERS_MAX, "a group holds what corosync delivers");

#define LS_CPG_RETRY_MIN_MS	1
#define LS_CPG_RETRY_MAX_MS	64

/* Test seam (tests/cluster/t-cpg-join.sh): while the file named by
 * SDLM_TEST_CPG_JOIN_HOLD exists, cpg_join is answered CS_ERR_TRY_AGAIN
 * without asking corosync, as corosync does in a membership change. */
#define LS_CPG_JOIN_HOLD_ENV	"SDLM_TEST_CPG_JOIN_HOLD"
#define LS_CPG_JOIN_FAIL_ENV	"SDLM_TEST_CPG_JOIN_FAIL"

enum ls_cpg_stage {
	STAGE_CONNECT,		/* no handle yet */
	STAGE_JOIN,		/* handle, fd; cpg_join not through yet */
	STAGE_JOINED,
	STAGE_LEFT,		/* left (or given up before joining) */
};

struct qmsg {
	struct qmsg	*next;
	size_t		len;
	uint8_t		data[];
};

struct ls_cpg {
	enum ls_cpg_stage stage;	/* the loop's */
	/* the join thread and the loop: */
	pthread_mutex_t	mu;
	bool		running;	/* the join thread has c */
	bool		cancel;		/* stop joining (left, closed) */
	bool		abandoned;	/* closed: the thread frees c */
	bool		join_ok;	/* joined, result not read yet */
	int		result;		/* the thread's: 0 or -errno */
	int		efd;		/* eventfd: the thread is done */
	cpg_model_v1_data_t model;
	bool		have_handle;	/* cpg_model_initialize went through */
	cpg_handle_t	handle;
	struct cpg_name	group;
	int		fd;
	uint32_t	nodeid;
	uint32_t	pid;
	uint64_t	incarnation;
	uint64_t	seq;
	struct ls_cpg_callbacks cb;
	void		*arg;
	struct ls_cpg_view view;
	struct qmsg	*q_head, *q_tail;
	size_t		q_len;
	int		retry_ms;	/* 0: head not blocked */
};

/* cs_error_t -> -errno.  CS_OK is 1 in corosync; here success is 0. */
static int cs_to_errno(cs_error_t err)
{
	switch (err) {
	case CS_OK:			return 0;
	case CS_ERR_TRY_AGAIN:		return -EAGAIN;
	case CS_ERR_INVALID_PARAM:	return -EINVAL;
	case CS_ERR_NO_MEMORY:		return -ENOMEM;
	case CS_ERR_BAD_HANDLE:		return -EBADF;
	case CS_ERR_BUSY:		return -EBUSY;
	case CS_ERR_ACCESS:		return -EACCES;
	case CS_ERR_NOT_EXIST:		return -ENOENT;
	case CS_ERR_NAME_TOO_LONG:	return -ENAMETOOLONG;
	case CS_ERR_EXIST:		return -EEXIST;
	case CS_ERR_NO_SPACE:		return -ENOSPC;
	case CS_ERR_INTERRUPT:		return -EINTR;
	case CS_ERR_NAME_NOT_FOUND:	return -ENOENT;
	case CS_ERR_NO_RESOURCES:	return -ENOBUFS;
	case CS_ERR_NOT_SUPPORTED:	return -EOPNOTSUPP;
	case CS_ERR_TIMEOUT:		return -ETIMEDOUT;
	case CS_ERR_TOO_BIG:		return -EMSGSIZE;
	case CS_ERR_LIBRARY:		/* the IPC connection is gone */
	case CS_ERR_INIT:		return -ENOTCONN;
	case CS_ERR_VERSION:		return -EPROTONOSUPPORT;
	case CS_ERR_SECURITY:		return -EPERM;
	default:			return -EIO;
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Sort and drop duplicates (one node may run two group members). */
static size_t ids_normalize(uint32_t *ids, size_t n)
{
	size_t i, out = 0;

	qsort(ids, n, sizeof(*ids), cmp_u32);
	for (i = 0; i < n; i++)
		if (out == 0 || ids[out - 1] != ids[i])
			ids[out++] = ids[i];
	return out;
}

static bool lockspace_name_ok(const char *name)
{
	size_t i, n;

	if (!name)
		return false;
	n = strlen(name);
	if (n < 1 || n > SDLM_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (name[i] <= ' ' || name[i] > '~')
			return false;
	return true;
}

/* ---- corosync callbacks ---- */

static void on_deliver(cpg_handle_t handle, const struct cpg_name *group,
		       uint32_t nodeid, uint32_t pid, void *data, size_t len)
{
	struct ls_cpg *c = NULL;
	struct msg m;
	int rc;

	(void)group;
	if (cpg_context_get(handle, (void **)&c) != CS_OK || !c)
		return;
	rc = msg_decode(data, len, &m);
	if (rc == 0 && m.m_nodeid != nodeid)
		rc = SDLM_EPROTO;
	if (rc != 0) {
		if (c->cb.bad_msg)
			c->cb.bad_msg(c, nodeid, pid, rc, c->arg);
		return;
	}
	c->cb.deliver(c, &m, nodeid == c->nodeid && pid == c->pid, c->arg);
}

static void members_out(struct ls_cpg_member *out, const struct cpg_address *in,
			size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[i].nodeid = in[i].nodeid;
		out[i].pid = in[i].pid;
		out[i].reason = (enum ls_cpg_reason)in[i].reason;
	}
}

/* conf_tag: order-independent (a sum of mixed hashes of each member). */
static uint64_t conf_tag(const struct cpg_address *a, size_t n)
{
	uint64_t sum = 0x6d656d62ULL, x;
	size_t i;

	for (i = 0; i < n; i++) {
		x = (uint64_t)a[i].nodeid << 32 | a[i].pid;
		x ^= x >> 33;
		x *= 0xff51afd7ed558ccdULL;
		x ^= x >> 33;
		x *= 0xc4ceb9fe1a85ec53ULL;
		x ^= x >> 33;
		sum += x;
	}
	return sum ? sum : 1;	/* 0 means "no round" */
}

static void on_confchg(cpg_handle_t handle, const struct cpg_name *group,
		       const struct cpg_address *member_list, size_t n_members,
		       const struct cpg_address *left_list, size_t n_left,
		       const struct cpg_address *joined_list, size_t n_joined)
{
	struct ls_cpg_member left[LS_MEMBERS_MAX], joined[LS_MEMBERS_MAX];
	struct ls_cpg_view *v;
	struct ls_cpg *c = NULL;
	size_t i, j, out;

	(void)group;
	if (cpg_context_get(handle, (void **)&c) != CS_OK || !c)
		return;
	v = &c->view;
	if (n_members > LS_MEMBERS_MAX)
		n_members = LS_MEMBERS_MAX;
	if (n_left > LS_MEMBERS_MAX)
		n_left = LS_MEMBERS_MAX;
	if (n_joined > LS_MEMBERS_MAX)
		n_joined = LS_MEMBERS_MAX;
	for (i = 0; i < n_members; i++)
		v->members[i] = member_list[i].nodeid;
	v->member_count = ids_normalize(v->members, n_members);

	/* A node reported down is not in the next ring: stop counting it now. */
	for (i = 0; i < n_left; i++) {
		if (left_list[i].reason != CPG_REASON_NODEDOWN)
			continue;
		for (j = 0, out = 0; j < v->ring_count; j++)
			if (v->ring[j] != left_list[i].nodeid)
				v->ring[out++] = v->ring[j];
		v->ring_count = out;
	}
	v->conf_tag = conf_tag(member_list, n_members);
	members_out(left, left_list, n_left);
	members_out(joined, joined_list, n_joined);
	if (c->cb.confchg)
		c->cb.confchg(c, v, left, n_left, joined, n_joined, c->arg);
}

static void on_totem(cpg_handle_t handle, struct cpg_ring_id ring_id,
		     uint32_t n, const uint32_t *member_list)
{
	struct ls_cpg *c = NULL;
	struct ls_cpg_view *v;

	if (cpg_context_get(handle, (void **)&c) != CS_OK || !c)
		return;
	v = &c->view;
	if (n > LS_MEMBERS_MAX)
		n = LS_MEMBERS_MAX;
	v->ring_id = ring_id.seq;
	v->ring_nodeid = ring_id.nodeid;
	memcpy(v->ring, member_list, n * sizeof(*member_list));
	v->ring_count = ids_normalize(v->ring, n);
	if (c->cb.totem)
		c->cb.totem(c, v, c->arg);
}

/* ---- setup and teardown ---- */

/*
 * The join thread.  Everything it does is a request/reply call to corosync
 * (cpg_model_initialize, cpg_local_get, cpg_max_atomic_msgsize_get,
 * cpg_join) that libcpg waits for without a timeout (CS_IPC_TIMEOUT_MS
 * -1): corosync holds the reply through a membership sync (its flow
 * control rate-limits every service but votequorum), and a hung corosync
 * never answers.  Only this thread touches the handle until it posts its
 * result on c->efd; the loop reads the result and only then uses the
 * handle (the eventfd's write and read order the two).
 */
static bool join_cancelled(struct ls_cpg *c)
{
	bool r;

	pthread_mutex_lock(&c->mu);
	r = c->cancel;
	pthread_mutex_unlock(&c->mu);
	return r;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* The test seams, between the connection and cpg_join.  HOLD: the call
 * does not return while the file exists (corosync holding its reply).
 * FAIL: cpg_join is refused (CS_ERR_ACCESS) while the file exists. */
static bool seam_file(const char *env)
{
	const char *f = getenv(env);

	return f && *f && access(f, F_OK) == 0;
}

static cs_error_t join_call(struct ls_cpg *c)
{
	while (seam_file(LS_CPG_JOIN_HOLD_ENV))
		sleep_ms(10);
	if (seam_file(LS_CPG_JOIN_FAIL_ENV))
		return CS_ERR_ACCESS;
	return cpg_join(c->handle, &c->group);
}

/* Connect and join; 0 or an error.  On an error no handle is left. */
static int join_run(struct ls_cpg *c)
{
	uint32_t max_atomic = 0;
	unsigned int nodeid;
	int backoff = 10;
	cs_error_t err;
	int rc;

	for (;;) {
		if (join_cancelled(c))
			return -ECANCELED;
		err = cpg_model_initialize(&c->handle, CPG_MODEL_V1,
					   (cpg_model_data_t *)&c->model, c);
		if (err != CS_ERR_TRY_AGAIN)
			break;
		sleep_ms(backoff);
		backoff = backoff * 2 > 200 ? 200 : backoff * 2;
	}
	rc = cs_to_errno(err);
	if (rc)
		return rc;
	c->have_handle = true;
	rc = cs_to_errno(cpg_local_get(c->handle, &nodeid));
	if (rc)
		goto out_finalize;
	rc = -EPROTO;		/* our messages would be refused */
	if (c->nodeid && c->nodeid != nodeid)
		goto out_finalize;
	c->nodeid = nodeid;
	rc = cs_to_errno(cpg_fd_get(c->handle, &c->fd));
	if (rc)
		goto out_finalize;
	rc = cs_to_errno(cpg_max_atomic_msgsize_get(c->handle, &max_atomic));
	if (rc)
		goto out_finalize;
	rc = -EMSGSIZE;
	if (max_atomic < MSG_MAX_LEN)
		goto out_finalize;
	backoff = 10;
	for (;;) {
		rc = -ECANCELED;
		if (join_cancelled(c))
			goto out_finalize;
		err = join_call(c);
		if (err != CS_ERR_TRY_AGAIN)
			break;
		sleep_ms(backoff);
		backoff = backoff * 2 > 200 ? 200 : backoff * 2;
	}
	rc = cs_to_errno(err);
	if (rc)
		goto out_finalize;
	/* Left (this node was fenced) while we joined: leave again, here. */
	pthread_mutex_lock(&c->mu);
	if (c->cancel) {
		pthread_mutex_unlock(&c->mu);
		cpg_leave(c->handle, &c->group);
		rc = -ECANCELED;
		goto out_finalize;
	}
	c->join_ok = true;
	pthread_mutex_unlock(&c->mu);
	return 0;

out_finalize:
	/* a handle that failed to join is finalized (review item 3: it
	 * leaked an fd and corosync's shared memory per attempt) */
	cpg_finalize(c->handle);
	c->have_handle = false;
	c->fd = -1;
	return rc;
}

static void cpg_free(struct ls_cpg *c)
{
	struct qmsg *q, *next;

	for (q = c->q_head; q; q = next) {
		next = q->next;
		free(q);
	}
	if (c->efd >= 0)
		close(c->efd);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static void *join_main(void *arg)
{
	struct ls_cpg *c = arg;
	uint64_t one = 1;
	bool abandoned;
	int rc;

	rc = join_run(c);
	pthread_mutex_lock(&c->mu);
	c->result = rc;
	c->running = false;
	abandoned = c->abandoned;
	/* under the lock: once it is released the loop may free c */
	if (!abandoned && write(c->efd, &one, sizeof(one)) < 0) {
		/* cannot happen with an eventfd below its maximum */
	}
	pthread_mutex_unlock(&c->mu);
	if (abandoned) {
		/* closed while we joined: nobody reads the result */
		if (c->have_handle)
			cpg_finalize(c->handle);
		cpg_free(c);
	}
	return NULL;
}

static void *finalize_main(void *arg)
{
	struct ls_cpg *c = arg;

	cpg_finalize(c->handle);
	cpg_free(c);
	return NULL;
}

static int thread_start(void *(*fn)(void *), struct ls_cpg *c)
{
	pthread_attr_t a;
	pthread_t t;
	int rc;

	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &a, fn, c);
	pthread_attr_destroy(&a);
	return -rc;
}

int ls_cpg_join_step(struct ls_cpg *c)
{
	uint64_t v;
	bool running;
	int rc;

	switch (c->stage) {
	case STAGE_JOINED:
		return 0;
	case STAGE_LEFT:
		return -ECANCELED;
	case STAGE_CONNECT:
	case STAGE_JOIN:
		break;
	}
	pthread_mutex_lock(&c->mu);
	running = c->running;
	rc = c->result;
	pthread_mutex_unlock(&c->mu);
	if (running)
		return -EAGAIN;
	if (read(c->efd, &v, sizeof(v)) < 0) {
		/* already read: the result stays what it was */
	}
	if (rc) {
		c->stage = STAGE_LEFT;
		return rc;
	}
	c->stage = STAGE_JOINED;
	/* what was queued meanwhile goes out behind our join; a send
	 * error leaves it queued for the next flush */
	ls_cpg_flush(c);
	return 0;
}

int ls_cpg_open(const char *lockspace, uint32_t nodeid, uint64_t incarnation,
		const struct ls_cpg_callbacks *cb, void *arg,
		struct ls_cpg **cp)
{
	struct ls_cpg *c;
	int rc;

	if (!lockspace_name_ok(lockspace) || incarnation == 0 || !cb ||
	    !cb->deliver || !cp)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->stage = STAGE_CONNECT;
	c->model.model = CPG_MODEL_V1;
	c->model.cpg_deliver_fn = on_deliver;
	c->model.cpg_confchg_fn = on_confchg;
	c->model.cpg_totem_confchg_fn = on_totem;
	c->model.flags = CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF;
	c->fd = -1;
	c->nodeid = nodeid;
	c->incarnation = incarnation;
	c->cb = *cb;
	c->arg = arg;
	c->pid = (uint32_t)getpid();
	c->group.length = (uint32_t)(strlen(LS_CPG_PREFIX) + strlen(lockspace));
	memcpy(c->group.value, LS_CPG_PREFIX, strlen(LS_CPG_PREFIX));
	memcpy(c->group.value + strlen(LS_CPG_PREFIX), lockspace, strlen(lockspace));
	pthread_mutex_init(&c->mu, NULL);
	c->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->efd < 0) {
		rc = -errno;
		cpg_free(c);
		return rc;
	}
	c->stage = STAGE_JOIN;
	c->running = true;
	rc = thread_start(join_main, c);
	if (rc) {
		cpg_free(c);
		return rc;
	}
	*cp = c;
	return 0;
}

int ls_cpg_join_fd(const struct ls_cpg *c)
{
	return c->efd;
}

bool ls_cpg_joined(const struct ls_cpg *c)
{
	return c->stage == STAGE_JOINED;
}

void ls_cpg_close(struct ls_cpg *c)
{
	struct qmsg *q, *next;

	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	if (c->running) {
		/* the join thread is still in corosync: it cleans up */
		c->abandoned = true;
		c->cancel = true;
		pthread_mutex_unlock(&c->mu);
		return;
	}
	pthread_mutex_unlock(&c->mu);
	for (q = c->q_head; q; q = next) {
		next = q->next;
		free(q);
	}
	c->q_head = c->q_tail = NULL;
	/* cpg_finalize waits for corosync's reply: not on the loop */
	if (c->have_handle && thread_start(finalize_main, c) == 0)
		return;
	if (c->have_handle)
		cpg_finalize(c->handle);	/* no thread: out of resources */
	cpg_free(c);
}

int ls_cpg_leave(struct ls_cpg *c)
{
	struct qmsg *q, *next;

	for (q = c->q_head; q; q = next) {
		next = q->next;
		free(q);
	}
	c->q_head = c->q_tail = NULL;
	c->q_len = 0;
	c->retry_ms = 0;
	if (c->stage != STAGE_JOINED) {
		/* no join attempt any more; a join that got through
		 * meanwhile is left by the join thread */
		pthread_mutex_lock(&c->mu);
		c->cancel = true;
		if (!c->running && c->join_ok) {
			pthread_mutex_unlock(&c->mu);
			c->stage = STAGE_JOINED;	/* through: leave it below */
			return ls_cpg_leave(c);
		}
		pthread_mutex_unlock(&c->mu);
		c->stage = STAGE_LEFT;
		return 0;
	}
	return cs_to_errno(cpg_leave(c->handle, &c->group));
}

/* ---- sending ---- */

int ls_cpg_flush(struct ls_cpg *c)
{
	struct iovec iov;
	struct qmsg *q;
	cs_error_t err;

	if (c->stage != STAGE_JOINED)
		return 0;	/* ls_cpg_join_step sends them once joined */
	while ((q = c->q_head) != NULL) {
		iov.iov_base = q->data;
		iov.iov_len = q->len;
		err = cpg_mcast_joined(c->handle, CPG_TYPE_AGREED, &iov, 1);
		if (err == CS_ERR_TRY_AGAIN) {
			c->retry_ms = c->retry_ms ? c->retry_ms * 2 : LS_CPG_RETRY_MIN_MS;
			if (c->retry_ms > LS_CPG_RETRY_MAX_MS)
				c->retry_ms = LS_CPG_RETRY_MAX_MS;
			return 0;
		}
		if (err != CS_OK)
			return cs_to_errno(err);
		c->q_head = q->next;
		if (!c->q_head)
			c->q_tail = NULL;
		c->q_len--;
		free(q);
		c->retry_ms = 0;
	}
	return 0;
}

int ls_cpg_send(struct ls_cpg *c, struct msg *m)
{
	struct qmsg *q;
	size_t len;
	int rc;

	if (!c || !m)
		return -EINVAL;
	if (c->q_len >= LS_CPG_QUEUE_MAX)
		return -ENOBUFS;
	m->m_nodeid = c->nodeid;
	m->m_incarnation = c->incarnation;
	m->m_ring_id = c->view.ring_id;
	m->m_seq = c->seq + 1;
	len = msg_encoded_len(m);
	if (len == 0)
		return -EINVAL;
	q = malloc(sizeof(*q) + len);
	if (!q)
		return -ENOMEM;
	rc = msg_encode(m, q->data, len, &q->len);
	if (rc)
		goto out_free;
	c->seq++;
	q->next = NULL;
	if (c->q_tail)
		c->q_tail->next = q;
	else
		c->q_head = q;
	c->q_tail = q;
	c->q_len++;
	/* behind a blocked head: wait for the retry, keep the order */
	if (c->retry_ms)
		return 0;
	return ls_cpg_flush(c);

out_free:
	free(q);
	return rc;
}

/* ---- the poll loop's side ---- */

int ls_cpg_dispatch(struct ls_cpg *c)
{
	int rc;

	rc = cs_to_errno(cpg_dispatch(c->handle, CS_DISPATCH_ALL));
	if (rc == -EAGAIN)	/* nothing was pending */
		rc = 0;
	if (rc)
		return rc;
	/* corosync just talked to us: worth trying the head again now */
	c->retry_ms = 0;
	return ls_cpg_flush(c);
}

int ls_cpg_retry_ms(const struct ls_cpg *c)
{
	if (!c->q_head || c->stage != STAGE_JOINED)
		return -1;
	return c->retry_ms ? c->retry_ms : 0;
}

int ls_cpg_fd(const struct ls_cpg *c)
{
	return c->fd;
}

size_t ls_cpg_queued(const struct ls_cpg *c)
{
	return c->q_len;
}

uint32_t ls_cpg_nodeid(const struct ls_cpg *c)
{
	return c->nodeid;
}

const struct ls_cpg_view *ls_cpg_view(const struct ls_cpg *c)
{
	return &c->view;
}

bool ls_cpg_quorate(const struct ls_cpg_view *view, uint32_t expected_nodes)
{
	return expected_nodes > 0 && 2 * (uint64_t)view->ring_count > expected_nodes;
}
