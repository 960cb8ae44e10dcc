/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * aio.h - timed asynchronous O_DIRECT I/O (libaio) for the fencing area.
 *
 * Every disk I/O of the fencing area goes through here: one kernel AIO
 * context (io_setup), an eventfd the daemon's main loop polls, a fixed
 * table of max_reqs requests, and an optional fault injector.
 *
 * Life of a request:
 *
 *   submit ──► KERNEL ──(completion reaped)──► callback(result), FREE
 *                │   ▲
 *                │   └─(STALL fault: reaped but held)── HELD ──(release)──┐
 *                │                                                        │
 *                └──(deadline passes)──► callback(SDLM_EIOTIMEOUT),       │
 *                    slot stays in KERNEL or HELD, "abandoned"; the late  │
 *                    completion is reaped and discarded, then FREE ◄──────┘
 *
 *   submit with an ERROR fault ──► QUEUED (never reaches the kernel)
 *                                  ──(next aio_process)──► callback(-err)
 *
 *   write with a LATE fault ──► LATE (withheld: not in the kernel yet,
 *        but counted in flight) ──(deadline)──► callback(SDLM_EIOTIMEOUT)
 *        ──(landing time, or aio_land_late)──► KERNEL, abandoned: the
 *        write lands on the disk AFTER its caller saw the timeout, and
 *        after any write submitted meanwhile
 *
 * Rules the caller can rely on:
 *  - Each accepted submission gets exactly one callback: its result, or
 *    SDLM_EIOTIMEOUT once its deadline passed, or SDLM_ECANCELED from
 *    aio_ctx_destroy.  Callbacks run only inside aio_process (and the
 *    calls built on it: the *_sync calls and aio_ctx_destroy), never
 *    inside a submit call.
 *  - The kernel never sees the caller's memory.  Each request owns a
 *    4096-aligned bounce buffer: writes copy in at submit, reads hand the
 *    payload out only on full success.  A timed-out request keeps its
 *    buffer until the kernel is done with it.
 *  - result is 0 when all len bytes moved, the negated errno the kernel
 *    reported, SDLM_ESHORTIO when fewer bytes moved, SDLM_EIOTIMEOUT.
 *  - aio_inflight() counts requests the kernel still owns, timed-out ones
 *    included (and ones a STALL fault holds, and writes a LATE fault
 *    withholds): a fenced node acknowledges a poison pill only when
 *    aio_inflight_all() (every context) is 0, and a writer must not reuse a sector while a timed-out write to
 *    it is counted here (it may still land over the newer one).
 *  - A timed-out request keeps its slot until its completion arrives, so
 *    a hung path fills the table and submits then fail with -EAGAIN.
 *    A write submitted with aio_submit_write_gone reports that moment
 *    (its gone callback), so that its writer need not wait for
 *    aio_inflight() to reach 0.
 *
 * Time is ns of CLOCK_BOOTTIME (aio_now_ns()), passed in by the caller
 * except where a call must wait by itself (*_sync, destroy).
 *
 * Not thread-safe: one context belongs to one thread.  Callbacks may
 * submit new requests and call aio_fault_set; they must not call
 * aio_process, the *_sync calls or aio_ctx_destroy.
 *
 * Calls return 0 (or a count) or a negative errno / sdlm domain error
 * (include/sdlm_errors.h).  Nothing here prints.
 *
 * Include this file as "aio.h": with -I fence it shadows the POSIX <aio.h>.
 */
#ifndef SDLM_FENCE_AIO_H
#define SDLM_FENCE_AIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aio_ctx;

/*
 * Completion callback.  result: see above.  data: the read payload
 * (len bytes) when a read succeeded, NULL otherwise; valid only during
 * the call.  len: the length that was requested.
 */
typedef void (*aio_done_fn)(void *arg, int result, const void *data,
			    size_t len);

/* Offsets and lengths must be multiples of this (the device may ask more). */
#define AIO_MIN_ALIGN	512u
/* Alignment of the bounce buffers. */
#define AIO_BUF_ALIGN	4096u

/* Now, in ns of CLOCK_BOOTTIME. */
uint64_t aio_now_ns(void);

/*
 * Create a context for up to max_reqs requests in flight at once.
 * Returns 0, -EINVAL (max_reqs 0), -ENOMEM, or io_setup's error
 * (-EAGAIN: /proc/sys/fs/aio-max-nr exhausted).
 */
int aio_ctx_create(struct aio_ctx **out, unsigned max_reqs);

/*
 * The eventfd that becomes readable when aio_process has completions to
 * reap.  Poll it for POLLIN; aio_process drains it.  A STALL hold or a
 * deadline does not make it readable: arm a timer at aio_next_deadline().
 */
int aio_ctx_fd(struct aio_ctx *c);

/*
 * Queue a read/write of len bytes at off on fd (opened by aio_open_dev)
 * that counts as failed at deadline_ns (UINT64_MAX: no deadline).
 * The write copies buf before returning.  Returns 0 when the request was
 * accepted (fn will be called exactly once), or, with no callback:
 * -EINVAL (off/len not multiples of AIO_MIN_ALIGN, len 0, fn NULL),
 * -EBADF (fd < 0), -EAGAIN (request table full), -ESHUTDOWN (context
 * being destroyed), -ENOMEM, or io_submit's error.
 */
int aio_submit_read(struct aio_ctx *c, int fd, uint64_t off, size_t len,
		    uint64_t deadline_ns, aio_done_fn fn, void *arg);
int aio_submit_write(struct aio_ctx *c, int fd, uint64_t off,
		     const void *buf, size_t len, uint64_t deadline_ns,
		     aio_done_fn fn, void *arg);

/*
 * The request of aio_submit_write_gone left the kernel after its callback
 * had reported SDLM_EIOTIMEOUT: its late completion was reaped and
 * discarded (a STALL-held one released, a withheld LATE write landed and
 * completed).  Called once, inside aio_process only, after the slot was
 * freed: aio_inflight no longer counts it, and its sector may be written
 * again.  Never called for a request whose callback had its real result,
 * nor for one still in the kernel when aio_ctx_destroy stops waiting.
 */
typedef void (*aio_gone_fn)(void *gone_arg);

/*
 * aio_submit_write, and gone(gone_arg) as above: a caller with several
 * writers on one context learns when its own timed-out write is over
 * without waiting for the whole context to be idle.  Same returns (no
 * call of either function when the submission is refused).
 */
int aio_submit_write_gone(struct aio_ctx *c, int fd, uint64_t off,
			  const void *buf, size_t len, uint64_t deadline_ns,
			  aio_done_fn fn, void *arg, aio_gone_fn gone,
			  void *gone_arg);

/*
 * Non-blocking.  Reap kernel completions, release STALL-held ones whose
 * time came, deliver injected errors, then time out every request whose
 * deadline is <= now_ns.  Returns the number of callbacks made, or a
 * negative errno if io_getevents failed.
 */
int aio_process(struct aio_ctx *c, uint64_t now_ns);

/*
 * For a destroy path, never the event loop (it blocks): run aio_process,
 * sleeping on the context's eventfd until its next deadline, until
 * busy(arg) is false, end_ns (on aio_now_ns's clock) has passed, or
 * aio_process fails.  busy is asked before each pass and after it.
 * Returns what busy(arg) says at the end: true means still busy - the
 * caller must then leave arg to the callbacks still to come.
 */
typedef bool (*aio_busy_fn)(void *arg);
bool aio_drain(struct aio_ctx *c, uint64_t end_ns, aio_busy_fn busy,
	       void *arg);

/*
 * The earliest time aio_process has work to do by the clock (a deadline
 * or a STALL release), 0 if it has work now, UINT64_MAX if none.
 */
uint64_t aio_next_deadline(struct aio_ctx *c);

/* Requests the kernel still owns, timed-out and STALL-held ones included. */
unsigned aio_inflight(struct aio_ctx *c);

/*
 * aio_inflight summed over every context of the process that is created
 * and not yet destroyed: the one place that knows all the daemon's I/O
 * (heartbeat area, UID service, any later one).  A fenced node
 * acknowledges a pill only when this, less its own heartbeat read in
 * flight, is 0.
 */
unsigned aio_inflight_all(void);

/*
 * Submit and wait up to timeout_ms (for sdlmctl's direct commands).  The
 * wait runs aio_process, so other requests' callbacks may run meanwhile.
 * The read fills buf only on success.  Returns the request's result or a
 * submit error.
 */
int aio_read_sync(struct aio_ctx *c, int fd, uint64_t off, void *buf,
		  size_t len, unsigned timeout_ms);
int aio_write_sync(struct aio_ctx *c, int fd, uint64_t off, const void *buf,
		   size_t len, unsigned timeout_ms);

/*
 * Wait up to wait_ms for every request to leave the kernel (callbacks run
 * as usual meanwhile), call back the rest with SDLM_ECANCELED, and free
 * the context.  Returns 0, or -EBUSY if requests were still in flight:
 * then the buffers of requests the kernel really owns, and the kernel
 * context itself (io_destroy would block on them), are leaked on purpose;
 * requests only held by a STALL fault are already complete in the kernel
 * and are freed.  c is invalid afterwards in both cases.  NULL: 0.
 */
int aio_ctx_destroy(struct aio_ctx *c, unsigned wait_ms);

/*
 * Open path O_RDWR|O_DIRECT|O_DSYNC|O_CLOEXEC.  For a block device,
 * *sector_size_out is the larger of its logical (BLKSSZGET) and physical
 * (BLKPBSZGET) sector size; for a regular file it is 0 (the caller takes
 * the record size from the header or an option).  Returns 0 or:
 * -ENOENT, -EACCES (and other open errors as they come), -EINVAL (the file
 * system refuses O_DIRECT), -EISDIR (a directory: open refuses it for
 * writing), -ENOTBLK (anything else that is neither a regular file nor a
 * block device), or an ioctl error.
 */
int aio_open_dev(const char *path, int *fd_out, uint32_t *sector_size_out);

/*
 * Fault injection, for the daemon's tests.  Off (AIO_FAULT_NONE) it costs
 * one compare per submit and per completion.
 *
 *   ERROR  the request completes with -err at the next aio_process
 *          without reaching the disk (a write does not land).
 *   STALL  the request goes to the disk and completes in the kernel, but
 *          its completion is held until stall_ms after submission, or
 *          forever with stall_ms == UINT32_MAX: it stays in flight, as on
 *          a hung SAN path.  Its deadline passes as usual.
 *   SHORT  the request goes to the disk, but its completion reports at
 *          most short_len bytes (SDLM_ESHORTIO when short_len < len).
 *   LATE   (writes only) the write is withheld from the kernel and handed
 *          to it late_ms after submission, or with late_ms ==
 *          AIO_STALL_FOREVER when the fault is changed or aio_land_late()
 *          is called.  Its deadline passes as usual (the caller sees
 *          SDLM_EIOTIMEOUT and may write again), then the old data lands
 *          over whatever was written meanwhile: a slow multipath path
 *          delivering a write after its retry.  Its completion is
 *          discarded; aio_inflight() counts it until then.  Destroying
 *          the context drops a withheld write unwritten.
 *
 * ERROR and LATE apply to requests submitted while they are set (a LATE
 * write keeps the landing time it got then).  STALL and SHORT
 * are decided when the kernel completion is reaped, with the fault set at
 * that moment; aio_fault_set re-decides the hold of every held request
 * (clearing a STALL releases them at the next aio_process: the path came
 * back).
 */
enum aio_fault_kind {
	AIO_FAULT_NONE	= 0,
	AIO_FAULT_ERROR	= 1,
	AIO_FAULT_STALL	= 2,
	AIO_FAULT_SHORT	= 3,
	AIO_FAULT_LATE	= 4,
};

#define AIO_FAULT_READ	0x1u
#define AIO_FAULT_WRITE	0x2u
#define AIO_FAULT_ALL	(AIO_FAULT_READ | AIO_FAULT_WRITE)

#define AIO_STALL_FOREVER UINT32_MAX

struct aio_fault {
	unsigned	ops;		/* AIO_FAULT_READ | AIO_FAULT_WRITE */
	int		kind;		/* enum aio_fault_kind */
	int		err;		/* ERROR: positive errno */
	uint32_t	stall_ms;	/* STALL: ms, or AIO_STALL_FOREVER */
	uint32_t	short_len;	/* SHORT: bytes reported */
	uint32_t	late_ms;	/* LATE: ms, or AIO_STALL_FOREVER */
};

/*
 * Parse a fault spec (the daemon's fault file).  Grammar, surrounding
 * white space ignored, keywords lowercase, errno names any case:
 *
 *   spec   := "none" | ops ":" action
 *   ops    := "read" | "write" | "all"
 *   action := "error=" (ENAME | 1..4095)      e.g. error=EIO, error=5
 *           | "stall=" (0..4294967294 | "inf")  ms, inf = forever
 *           | "short=" 0..4294967295            bytes reported
 *           | "late=" (0..4294967294 | "inf")   ms; ops must be "write"
 *
 * ENAME is one of EIO ENOSPC EROFS EAGAIN ETIMEDOUT ENOLINK ENODEV ENXIO
 * EPERM EACCES EBUSY EINTR ENOMEM EINVAL ECANCELED EREMOTEIO ENOMEDIUM.
 * Anything else, an empty spec included, gives -EINVAL and leaves *f
 * untouched.
 */
int aio_fault_parse(const char *spec, struct aio_fault *f);

/* Install a fault (NULL: none).  Withheld LATE writes with no landing
 * time (late=inf) land at the next aio_process. */
void aio_fault_set(struct aio_ctx *c, const struct aio_fault *f);

/*
 * Hand every write a LATE fault withholds to the kernel now, oldest
 * first (a test choosing the moment of the late landing).  Their
 * completions are discarded as usual.  Returns how many were submitted,
 * or io_submit's error (the rest stay withheld).
 */
int aio_land_late(struct aio_ctx *c);

/* Late landings so far: withheld writes handed to the kernel after their
 * caller had seen the timeout (what the nemesis counts as a hazard). */
uint64_t aio_late_landings(struct aio_ctx *c);

#endif /* SDLM_FENCE_AIO_H */
