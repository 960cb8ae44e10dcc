/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * aio.c - timed asynchronous O_DIRECT I/O (libaio) for the fencing area.
 *
 * The request table.  Each slot is one request; its state says who owns
 * its bounce buffer:
 *
 *   REQ_FREE    nobody; the buffer is kept for reuse
 *   REQ_QUEUED  us: an injected ERROR waiting for aio_process
 *   REQ_KERNEL  the kernel: submitted, completion not reaped yet
 *   REQ_HELD    us, but reported as in flight: reaped while a STALL
 *               fault holds it, result kept in r_result until r_release
 *   REQ_LATE    us, reported as in flight: a write a LATE fault withholds
 *               from the kernel until r_release (its landing time)
 *
 * r_abandoned is set once the request's callback was made early (deadline
 * passed, or destroy cancelled it); its completion is then discarded, and
 * r_gone (aio_submit_write_gone) is called when the slot is freed.
 *
 * One pass of aio_process, in this order so that a completion that
 * arrived in time wins over a deadline that passed while we slept:
 *
 *   1. drain the eventfd (before reaping, so a completion that races in
 *      after the reap leaves it readable for the next pass)
 *   2. reap kernel completions; hold them if a STALL fault says so
 *   3. release held completions whose time came
 *   4. deliver injected errors
 *   5. land withheld LATE writes whose time came, oldest first (after the
 *      reap: a newer write reaped in this pass is on the disk already)
 *   6. time out requests whose deadline passed
 *
 * Steps 3, 4 and 6 look only at slots submitted before the pass began (r_seq),
 * so a callback that resubmits cannot make one pass run on without end.
 *
 * Why io_destroy is skipped when a request is still in the kernel:
 * io_destroy waits for outstanding requests, and a request on a hung path
 * may never come back; we return -EBUSY within wait_ms instead and leak
 * the context and those buffers (the process is normally about to exit
 * or to be reset by its watchdog).  Closing the eventfd is safe: the
 * kernel holds its own reference for each submitted iocb.
 */
#define _GNU_SOURCE
#include "aio.h"
#include "clock.h"
#include "sdlm_errors.h"

#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <limits.h>
#include <linux/fs.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_MS	1000000ull

enum req_state {
	REQ_FREE	= 0,
	REQ_QUEUED	= 1,
	REQ_KERNEL	= 2,
	REQ_HELD	= 3,
	REQ_LATE	= 4,
};

struct aio_req {
	struct iocb	r_iocb;
	enum req_state	r_state;
	unsigned	r_op;		/* AIO_FAULT_READ or AIO_FAULT_WRITE */
	bool		r_abandoned;	/* callback already made */
	int		r_result;	/* QUEUED, HELD: result to report */
	uint64_t	r_seq;
	uint64_t	r_submit_ns;
	uint64_t	r_deadline;
	uint64_t	r_release;	/* HELD: when the hold ends */
	void		*r_buf;
	size_t		r_cap;
	size_t		r_len;
	aio_done_fn	r_fn;
	void		*r_arg;
	aio_gone_fn	r_gone;		/* left the kernel after the timeout */
	void		*r_gone_arg;
};

struct aio_ctx {
	io_context_t	c_io;
	int		c_efd;
	bool		c_closing;
	unsigned	c_max;
	unsigned	c_hint;		/* where the next free-slot search starts */
	uint64_t	c_seq;
	uint64_t	c_late_landings;
	struct aio_fault c_fault;
	struct aio_req	*c_reqs;
	struct io_event	*c_events;
	struct aio_ctx	*c_next;	/* every live context: aio_inflight_all */
	struct aio_ctx	**c_pprev;
};

/*
 * Every context of the process, so that one question - is any write of
 * this daemon still in the kernel? - has one answer, whoever created the
 * context (issue 13, hole 2: the UID service's was forgotten).
 */
static struct aio_ctx *all_ctx;

uint64_t aio_now_ns(void)
{
	return clock_boottime_ns();
}

static bool fault_hits(const struct aio_ctx *c, unsigned op, int kind)
{
	return c->c_fault.kind == kind && (c->c_fault.ops & op);
}

/* When a completion reaped for r may be reported, under the current fault. */
static uint64_t req_release_time(const struct aio_ctx *c,
				 const struct aio_req *r)
{
	if (!fault_hits(c, r->r_op, AIO_FAULT_STALL))
		return 0;
	if (c->c_fault.stall_ms == AIO_STALL_FOREVER)
		return UINT64_MAX;
	return r->r_submit_ns + (uint64_t)c->c_fault.stall_ms * NS_PER_MS;
}

static void efd_signal(struct aio_ctx *c)
{
	uint64_t one = 1;

	/* Only fails when the counter would overflow: it is readable then. */
	if (write(c->c_efd, &one, sizeof(one)) < 0)
		return;
}

static void efd_drain(struct aio_ctx *c)
{
	uint64_t v;

	/* Non-blocking: EAGAIN means it was not readable, which is fine. */
	if (read(c->c_efd, &v, sizeof(v)) < 0)
		return;
}

int aio_ctx_create(struct aio_ctx **out, unsigned max_reqs)
{
	struct aio_ctx *c;
	int rv;

	if (!out || max_reqs == 0 || max_reqs > INT_MAX)
		return -EINVAL;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->c_max = max_reqs;

	c->c_reqs = calloc(max_reqs, sizeof(*c->c_reqs));
	if (!c->c_reqs) {
		rv = -ENOMEM;
		goto out_free_ctx;
	}
	c->c_events = calloc(max_reqs, sizeof(*c->c_events));
	if (!c->c_events) {
		rv = -ENOMEM;
		goto out_free_reqs;
	}

	c->c_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->c_efd < 0) {
		rv = -errno;
		goto out_free_events;
	}

	rv = io_setup((int)max_reqs, &c->c_io);
	if (rv < 0)
		goto out_close_efd;

	c->c_next = all_ctx;
	if (all_ctx)
		all_ctx->c_pprev = &c->c_next;
	c->c_pprev = &all_ctx;
	all_ctx = c;
	*out = c;
	return 0;

out_close_efd:
	close(c->c_efd);
out_free_events:
	free(c->c_events);
out_free_reqs:
	free(c->c_reqs);
out_free_ctx:
	free(c);
	return rv;
}

int aio_ctx_fd(struct aio_ctx *c)
{
	return c->c_efd;
}

static struct aio_req *req_alloc(struct aio_ctx *c)
{
	unsigned i, n;

	for (n = 0; n < c->c_max; n++) {
		i = (c->c_hint + n) % c->c_max;
		if (c->c_reqs[i].r_state == REQ_FREE) {
			c->c_hint = (i + 1) % c->c_max;
			return &c->c_reqs[i];
		}
	}
	return NULL;
}

/* Make r's buffer hold at least len bytes, aligned for O_DIRECT. */
static int req_reserve(struct aio_req *r, size_t len)
{
	size_t cap;
	void *buf;
	int rv;

	if (r->r_cap >= len)
		return 0;

	cap = (len + AIO_BUF_ALIGN - 1) & ~(size_t)(AIO_BUF_ALIGN - 1);
	rv = posix_memalign(&buf, AIO_BUF_ALIGN, cap);
	if (rv)
		return -rv;
	free(r->r_buf);
	r->r_buf = buf;
	r->r_cap = cap;
	return 0;
}

/*
 * Take a slot and hand the request to the kernel (or queue the injected
 * error).  For a write, buf is copied first.  *out names the slot, so the
 * sync calls can abandon it.
 */
static int req_submit(struct aio_ctx *c, unsigned op, int fd, uint64_t off,
		      const void *buf, size_t len, uint64_t deadline_ns,
		      aio_done_fn fn, void *arg, struct aio_req **out)
{
	struct aio_req *r;
	struct iocb *iocbs[1];
	int rv;

	if (!c || !fn || len == 0 || len > (size_t)LONG_MAX ||
	    off % AIO_MIN_ALIGN || len % AIO_MIN_ALIGN || off > (uint64_t)LLONG_MAX)
		return -EINVAL;
	if (fd < 0)
		return -EBADF;
	if (c->c_closing)
		return -ESHUTDOWN;

	r = req_alloc(c);
	if (!r)
		return -EAGAIN;
	rv = req_reserve(r, len);
	if (rv < 0)
		return rv;

	r->r_op = op;
	r->r_abandoned = false;
	r->r_result = 0;
	r->r_seq = c->c_seq++;
	r->r_submit_ns = aio_now_ns();
	r->r_deadline = deadline_ns;
	r->r_release = 0;
	r->r_len = len;
	r->r_fn = fn;
	r->r_arg = arg;
	r->r_gone = NULL;
	r->r_gone_arg = NULL;

	if (c->c_fault.kind != AIO_FAULT_NONE &&
	    fault_hits(c, op, AIO_FAULT_ERROR)) {
		r->r_result = -c->c_fault.err;
		r->r_state = REQ_QUEUED;
		efd_signal(c);
		goto out;
	}

	if (op == AIO_FAULT_WRITE) {
		memcpy(r->r_buf, buf, len);
		io_prep_pwrite(&r->r_iocb, fd, r->r_buf, len, (long long)off);
	} else {
		io_prep_pread(&r->r_iocb, fd, r->r_buf, len, (long long)off);
	}
	r->r_iocb.data = r;
	io_set_eventfd(&r->r_iocb, c->c_efd);

	if (c->c_fault.kind != AIO_FAULT_NONE &&
	    fault_hits(c, op, AIO_FAULT_LATE) && op == AIO_FAULT_WRITE) {
		r->r_release = c->c_fault.late_ms == AIO_STALL_FOREVER ?
			UINT64_MAX :
			r->r_submit_ns + (uint64_t)c->c_fault.late_ms * NS_PER_MS;
		r->r_state = REQ_LATE;
		goto out;
	}

	iocbs[0] = &r->r_iocb;
	do {
		rv = io_submit(c->c_io, 1, iocbs);
	} while (rv == -EINTR);
	if (rv != 1)
		return rv < 0 ? rv : -EAGAIN;
	r->r_state = REQ_KERNEL;
out:
	if (out)
		*out = r;
	return 0;
}

int aio_submit_read(struct aio_ctx *c, int fd, uint64_t off, size_t len,
		    uint64_t deadline_ns, aio_done_fn fn, void *arg)
{
	return req_submit(c, AIO_FAULT_READ, fd, off, NULL, len, deadline_ns,
			  fn, arg, NULL);
}

int aio_submit_write(struct aio_ctx *c, int fd, uint64_t off,
		     const void *buf, size_t len, uint64_t deadline_ns,
		     aio_done_fn fn, void *arg)
{
	if (!buf)
		return -EINVAL;
	return req_submit(c, AIO_FAULT_WRITE, fd, off, buf, len, deadline_ns,
			  fn, arg, NULL);
}

int aio_submit_write_gone(struct aio_ctx *c, int fd, uint64_t off,
			  const void *buf, size_t len, uint64_t deadline_ns,
			  aio_done_fn fn, void *arg, aio_gone_fn gone,
			  void *gone_arg)
{
	struct aio_req *r = NULL;
	int rv;

	if (!buf)
		return -EINVAL;
	rv = req_submit(c, AIO_FAULT_WRITE, fd, off, buf, len, deadline_ns,
			fn, arg, &r);
	if (rv == 0) {
		r->r_gone = gone;
		r->r_gone_arg = gone_arg;
	}
	return rv;
}

/*
 * The request is over: call back unless that was done already, then free
 * the slot.  The slot is freed after the callback because data points
 * into its buffer.  Returns the number of callbacks made (0 or 1).
 */
static int req_finish(struct aio_req *r, int result)
{
	const void *data = NULL;
	bool called = !r->r_abandoned;
	aio_gone_fn gone = called ? NULL : r->r_gone;

	if (called) {
		if (result == 0 && r->r_op == AIO_FAULT_READ)
			data = r->r_buf;
		r->r_abandoned = true;
		r->r_fn(r->r_arg, result, data, r->r_len);
	}
	r->r_state = REQ_FREE;
	r->r_fn = NULL;
	r->r_arg = NULL;
	r->r_gone = NULL;
	/* Freed first: aio_inflight no longer counts it when gone runs. */
	if (gone)
		gone(r->r_gone_arg);
	return called ? 1 : 0;
}

/* Call back now with result; the slot stays where it is. */
static int req_abandon(struct aio_req *r, int result)
{
	if (r->r_abandoned)
		return 0;
	r->r_abandoned = true;
	r->r_fn(r->r_arg, result, NULL, r->r_len);
	return 1;
}

static int event_result(struct aio_ctx *c, const struct aio_req *r,
			const struct io_event *ev)
{
	long res = (long)ev->res;

	if (res < 0)
		return (int)res;
	if (c->c_fault.kind != AIO_FAULT_NONE &&
	    fault_hits(c, r->r_op, AIO_FAULT_SHORT) &&
	    (unsigned long)res > c->c_fault.short_len)
		res = (long)c->c_fault.short_len;
	if ((size_t)res < r->r_len)
		return SDLM_ESHORTIO;
	return 0;
}

/* Step 2: reap everything the kernel has finished, without waiting. */
static int process_reap(struct aio_ctx *c, uint64_t now_ns)
{
	struct timespec zero = { 0, 0 };
	struct aio_req *r;
	int calls = 0;
	int n, i;

	do {
		n = io_getevents(c->c_io, 0, (long)c->c_max, c->c_events,
				 &zero);
		if (n == -EINTR)
			continue;
		if (n < 0)
			return n;
		for (i = 0; i < n; i++) {
			r = c->c_events[i].data;
			r->r_result = event_result(c, r, &c->c_events[i]);
			r->r_release = 0;
			if (c->c_fault.kind != AIO_FAULT_NONE)
				r->r_release = req_release_time(c, r);
			if (r->r_release > now_ns) {
				r->r_state = REQ_HELD;
				continue;
			}
			calls += req_finish(r, r->r_result);
		}
	} while (n == -EINTR || n == (int)c->c_max);
	return calls;
}

/* Hand a withheld LATE write to the kernel.  0 or io_submit's error. */
static int req_land(struct aio_ctx *c, struct aio_req *r)
{
	struct iocb *iocbs[1] = { &r->r_iocb };
	int rv;

	do {
		rv = io_submit(c->c_io, 1, iocbs);
	} while (rv == -EINTR);
	if (rv != 1)
		return rv < 0 ? rv : -EAGAIN;
	if (r->r_abandoned)
		c->c_late_landings++;
	r->r_state = REQ_KERNEL;
	r->r_release = 0;
	return 0;
}

/*
 * Step 5 (and aio_land_late with until UINT64_MAX): land the withheld
 * writes whose landing time is <= until, oldest submission first.
 * Returns how many landed, or io_submit's error.
 */
static int process_land(struct aio_ctx *c, uint64_t until, bool all)
{
	struct aio_req *r, *oldest;
	int landed = 0, rv;
	unsigned i;

	for (;;) {
		oldest = NULL;
		for (i = 0; i < c->c_max; i++) {
			r = &c->c_reqs[i];
			if (r->r_state != REQ_LATE ||
			    (!all && r->r_release > until))
				continue;
			if (!oldest || r->r_seq < oldest->r_seq)
				oldest = r;
		}
		if (!oldest)
			return landed;
		rv = req_land(c, oldest);
		if (rv < 0)
			return rv;
		landed++;
	}
}

int aio_process(struct aio_ctx *c, uint64_t now_ns)
{
	uint64_t seq_end = c->c_seq;
	struct aio_req *r;
	int calls, rv;
	unsigned i;

	efd_drain(c);
	calls = process_reap(c, now_ns);
	if (calls < 0)
		return calls;

	for (i = 0; i < c->c_max; i++) {
		r = &c->c_reqs[i];
		if (r->r_state == REQ_FREE || r->r_seq >= seq_end)
			continue;
		if (r->r_state == REQ_HELD && r->r_release <= now_ns)
			calls += req_finish(r, r->r_result);
		else if (r->r_state == REQ_QUEUED)
			calls += req_finish(r, r->r_result);
	}
	rv = process_land(c, now_ns, false);
	if (rv < 0)
		return rv;
	for (i = 0; i < c->c_max; i++) {
		r = &c->c_reqs[i];
		if (r->r_state == REQ_FREE || r->r_seq >= seq_end ||
		    r->r_state == REQ_QUEUED)
			continue;
		if (r->r_deadline <= now_ns)
			calls += req_abandon(r, SDLM_EIOTIMEOUT);
	}
	return calls;
}

bool aio_drain(struct aio_ctx *c, uint64_t end_ns, aio_busy_fn busy,
	       void *arg)
{
	uint64_t now = aio_now_ns();

	while (busy(arg) && now < end_ns) {
		struct pollfd pfd = { .fd = c->c_efd, .events = POLLIN };
		uint64_t until = aio_next_deadline(c);

		if (aio_process(c, now) < 0 || !busy(arg))
			break;
		if (until > end_ns)
			until = end_ns;
		(void)poll(&pfd, 1, until > now ?
			   (int)((until - now + NS_PER_MS - 1) / NS_PER_MS) : 0);
		now = aio_now_ns();
	}
	return busy(arg);
}

int aio_land_late(struct aio_ctx *c)
{
	return process_land(c, UINT64_MAX, true);
}

uint64_t aio_late_landings(struct aio_ctx *c)
{
	return c->c_late_landings;
}

uint64_t aio_next_deadline(struct aio_ctx *c)
{
	uint64_t next = UINT64_MAX;
	struct aio_req *r;
	unsigned i;

	for (i = 0; i < c->c_max; i++) {
		r = &c->c_reqs[i];
		if (r->r_state == REQ_FREE)
			continue;
		if (r->r_state == REQ_QUEUED)
			return 0;
		if ((r->r_state == REQ_HELD || r->r_state == REQ_LATE) &&
		    r->r_release < next)
			next = r->r_release;
		if (!r->r_abandoned && r->r_deadline < next)
			next = r->r_deadline;
	}
	return next;
}

unsigned aio_inflight(struct aio_ctx *c)
{
	unsigned i, n = 0;

	for (i = 0; i < c->c_max; i++)
		if (c->c_reqs[i].r_state == REQ_KERNEL ||
		    c->c_reqs[i].r_state == REQ_HELD ||
		    c->c_reqs[i].r_state == REQ_LATE)
			n++;
	return n;
}

unsigned aio_inflight_all(void)
{
	const struct aio_ctx *c;
	unsigned n = 0;

	for (c = all_ctx; c; c = c->c_next)
		n += aio_inflight((struct aio_ctx *)c);
	return n;
}

/* Has any request work left: not yet called back, or still owned? */
static bool ctx_busy(struct aio_ctx *c)
{
	unsigned i;

	for (i = 0; i < c->c_max; i++)
		if (c->c_reqs[i].r_state != REQ_FREE)
			return true;
	return false;
}

/*
 * Sleep on the eventfd until it is readable or until the earlier of
 * aio_next_deadline() and limit_ns.
 */
static int ctx_wait(struct aio_ctx *c, uint64_t now_ns, uint64_t limit_ns)
{
	struct pollfd pfd = { .fd = c->c_efd, .events = POLLIN };
	uint64_t until = aio_next_deadline(c);
	uint64_t ms;
	int rv;

	if (limit_ns < until)
		until = limit_ns;
	if (until <= now_ns)
		return 0;
	/* Round up: waking early would only spin. */
	ms = (until - now_ns + NS_PER_MS - 1) / NS_PER_MS;
	if (ms > INT_MAX)
		ms = INT_MAX;
	rv = poll(&pfd, 1, until == UINT64_MAX ? -1 : (int)ms);
	if (rv < 0 && errno != EINTR)
		return -errno;
	return 0;
}

struct sync_wait {
	bool	done;
	int	result;
	void	*buf;		/* read destination, NULL for writes */
};

static void sync_done(void *arg, int result, const void *data, size_t len)
{
	struct sync_wait *w = arg;

	w->done = true;
	w->result = result;
	if (w->buf && result == 0 && data)
		memcpy(w->buf, data, len);
}

static int sync_io(struct aio_ctx *c, unsigned op, int fd, uint64_t off,
		   void *rbuf, const void *wbuf, size_t len, unsigned timeout_ms)
{
	struct sync_wait w = { .done = false, .result = 0, .buf = rbuf };
	struct aio_req *r = NULL;
	uint64_t now;
	int rv;

	if (!c || (op == AIO_FAULT_READ && !rbuf) ||
	    (op == AIO_FAULT_WRITE && !wbuf))
		return -EINVAL;

	now = aio_now_ns();
	rv = req_submit(c, op, fd, off, wbuf, len,
			now + (uint64_t)timeout_ms * NS_PER_MS,
			sync_done, &w, &r);
	if (rv < 0)
		return rv;

	while (!w.done) {
		rv = aio_process(c, now);
		if (rv < 0)
			goto out_abandon;
		if (w.done)
			break;
		rv = ctx_wait(c, now, UINT64_MAX);
		if (rv < 0)
			goto out_abandon;
		now = aio_now_ns();
	}
	return w.result;

out_abandon:
	/* w lives on this stack: its callback must never run after we return. */
	r->r_abandoned = true;
	return rv;
}

int aio_read_sync(struct aio_ctx *c, int fd, uint64_t off, void *buf,
		  size_t len, unsigned timeout_ms)
{
	return sync_io(c, AIO_FAULT_READ, fd, off, buf, NULL, len, timeout_ms);
}

int aio_write_sync(struct aio_ctx *c, int fd, uint64_t off, const void *buf,
		   size_t len, unsigned timeout_ms)
{
	return sync_io(c, AIO_FAULT_WRITE, fd, off, NULL, buf, len,
		       timeout_ms);
}

int aio_ctx_destroy(struct aio_ctx *c, unsigned wait_ms)
{
	uint64_t now, end;
	bool kernel_owned = false;
	struct aio_req *r;
	unsigned i;
	int rv = 0;

	if (!c)
		return 0;
	c->c_closing = true;
	*c->c_pprev = c->c_next;
	if (c->c_next)
		c->c_next->c_pprev = c->c_pprev;

	now = aio_now_ns();
	end = now + (uint64_t)wait_ms * NS_PER_MS;
	for (;;) {
		/*
		 * An io_getevents error here cannot be acted on: what is left
		 * is counted below and reported as -EBUSY.
		 */
		if (aio_process(c, now) < 0 || !ctx_busy(c) || now >= end)
			break;
		if (ctx_wait(c, now, end) < 0)
			break;
		now = aio_now_ns();
	}

	for (i = 0; i < c->c_max; i++) {
		r = &c->c_reqs[i];
		if (r->r_state == REQ_FREE) {
			free(r->r_buf);
			continue;
		}
		req_abandon(r, SDLM_ECANCELED);
		if (r->r_state == REQ_KERNEL || r->r_state == REQ_HELD)
			rv = -EBUSY;
		if (r->r_state == REQ_KERNEL)
			kernel_owned = true;	/* leak r_buf: the kernel has it */
		else
			free(r->r_buf);
	}

	if (!kernel_owned)
		io_destroy(c->c_io);
	close(c->c_efd);
	free(c->c_events);
	free(c->c_reqs);
	free(c);
	return rv;
}

int aio_open_dev(const char *path, int *fd_out, uint32_t *sector_size_out)
{
	unsigned int pbsz = 0;
	struct stat st;
	int lbsz = 0;
	int fd, rv;

	if (!path || !fd_out || !sector_size_out)
		return -EINVAL;

	fd = open(path, O_RDWR | O_DIRECT | O_DSYNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;

	if (fstat(fd, &st) < 0) {
		rv = -errno;
		goto out_close_fd;
	}

	if (S_ISREG(st.st_mode)) {
		*sector_size_out = 0;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKSSZGET, &lbsz) < 0 ||
		    ioctl(fd, BLKPBSZGET, &pbsz) < 0) {
			rv = -errno;
			goto out_close_fd;
		}
		if (lbsz <= 0) {
			rv = -EINVAL;
			goto out_close_fd;
		}
		*sector_size_out = pbsz > (unsigned int)lbsz ?
				   pbsz : (unsigned int)lbsz;
	} else {
		rv = -ENOTBLK;
		goto out_close_fd;
	}

	*fd_out = fd;
	return 0;

out_close_fd:
	close(fd);
	return rv;
}

static const struct {
	const char	*name;
	int		err;
} errno_names[] = {
	{ "EIO", EIO },		{ "ENOSPC", ENOSPC },
	{ "EROFS", EROFS },	{ "EAGAIN", EAGAIN },
	{ "ETIMEDOUT", ETIMEDOUT }, { "ENOLINK", ENOLINK },
	{ "ENODEV", ENODEV },	{ "ENXIO", ENXIO },
	{ "EPERM", EPERM },	{ "EACCES", EACCES },
	{ "EBUSY", EBUSY },	{ "EINTR", EINTR },
	{ "ENOMEM", ENOMEM },	{ "EINVAL", EINVAL },
	{ "ECANCELED", ECANCELED }, { "EREMOTEIO", EREMOTEIO },
	{ "ENOMEDIUM", ENOMEDIUM },
};

/* A whole decimal number in [0, max]; no sign, no trailing junk. */
static int parse_u32(const char *s, size_t n, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 10)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static bool word_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(s, word, n) == 0;
}

static int parse_errno(const char *s, size_t n, int *err)
{
	uint32_t v;
	size_t i;

	if (n > 0 && s[0] >= '0' && s[0] <= '9') {
		if (parse_u32(s, n, 4095, &v) < 0 || v == 0)
			return -EINVAL;
		*err = (int)v;
		return 0;
	}
	for (i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++) {
		if (strlen(errno_names[i].name) == n &&
		    strncasecmp(s, errno_names[i].name, n) == 0) {
			*err = errno_names[i].err;
			return 0;
		}
	}
	return -EINVAL;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
	       ch == '\v' || ch == '\f';
}

int aio_fault_parse(const char *spec, struct aio_fault *f)
{
	struct aio_fault nf = { .ops = 0, .kind = AIO_FAULT_NONE };
	const char *s, *colon, *eq, *val;
	size_t n, vn;

	if (!spec || !f)
		return -EINVAL;

	s = spec;
	while (is_space(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_space(s[n - 1]))
		n--;

	if (word_is(s, n, "none"))
		goto out;

	colon = memchr(s, ':', n);
	if (!colon)
		return -EINVAL;
	if (word_is(s, (size_t)(colon - s), "read"))
		nf.ops = AIO_FAULT_READ;
	else if (word_is(s, (size_t)(colon - s), "write"))
		nf.ops = AIO_FAULT_WRITE;
	else if (word_is(s, (size_t)(colon - s), "all"))
		nf.ops = AIO_FAULT_ALL;
	else
		return -EINVAL;

	n -= (size_t)(colon + 1 - s);
	s = colon + 1;
	eq = memchr(s, '=', n);
	if (!eq)
		return -EINVAL;
	val = eq + 1;
	vn = n - (size_t)(val - s);

	if (word_is(s, (size_t)(eq - s), "error")) {
		nf.kind = AIO_FAULT_ERROR;
		if (parse_errno(val, vn, &nf.err) < 0)
			return -EINVAL;
	} else if (word_is(s, (size_t)(eq - s), "stall")) {
		nf.kind = AIO_FAULT_STALL;
		if (word_is(val, vn, "inf"))
			nf.stall_ms = AIO_STALL_FOREVER;
		else if (parse_u32(val, vn, AIO_STALL_FOREVER - 1,
				   &nf.stall_ms) < 0)
			return -EINVAL;
	} else if (word_is(s, (size_t)(eq - s), "late")) {
		nf.kind = AIO_FAULT_LATE;
		if (nf.ops != AIO_FAULT_WRITE)
			return -EINVAL;
		if (word_is(val, vn, "inf"))
			nf.late_ms = AIO_STALL_FOREVER;
		else if (parse_u32(val, vn, AIO_STALL_FOREVER - 1,
				   &nf.late_ms) < 0)
			return -EINVAL;
	} else if (word_is(s, (size_t)(eq - s), "short")) {
		nf.kind = AIO_FAULT_SHORT;
		if (parse_u32(val, vn, UINT32_MAX, &nf.short_len) < 0)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
out:
	*f = nf;
	return 0;
}

void aio_fault_set(struct aio_ctx *c, const struct aio_fault *f)
{
	static const struct aio_fault none = { .kind = AIO_FAULT_NONE };
	bool released = false;
	struct aio_req *r;
	unsigned i;

	c->c_fault = f ? *f : none;

	for (i = 0; i < c->c_max; i++) {
		r = &c->c_reqs[i];
		if (r->r_state == REQ_LATE && r->r_release == UINT64_MAX &&
		    !(c->c_fault.kind == AIO_FAULT_LATE &&
		      c->c_fault.late_ms == AIO_STALL_FOREVER)) {
			r->r_release = 0;	/* the path came back */
			released = true;
			continue;
		}
		if (r->r_state != REQ_HELD)
			continue;
		r->r_release = req_release_time(c, r);
		if (r->r_release == 0)
			released = true;
	}
	/* Wake the main loop: released completions are ready now. */
	if (released)
		efd_signal(c);
}
