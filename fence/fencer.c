/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fencer.c - the fence executor (see fencer.h).
 *
 *   request(X) --queue--> start: X's message and heartbeat slots from
 *   the engine's last read (NULL where that failed), fence_resume()
 *     WRITE_PILL   -> async write of X's message slot (deadline T)
 *     every read   -> peer_observe has run in the engine; fence_read()
 *                     with both slots (a slot that failed is NULL)
 *     DECLARE_ACK / DECLARE_DEAD -> done callback; record (X, incarnation)
 *     as fenced; fence_announced(); next queued request
 *
 * Every decision comes from the state machine: which pill (seq above the
 * disk's, the incarnation read), when to write it, and that the dead path
 * has its own pill read back before it declares.  This file makes none
 * up: an unreadable slot is simply passed on as NULL.
 *
 * The write is durable when it completes (O_DSYNC); the next heartbeat
 * read of X's message slot shows it to every node, ours included.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sdlm_errors.h"
#include "aio.h"
#include "clock.h"
#include "area.h"
#include "ondisk.h"
#include "heartbeat.h"
#include "fencer.h"

#define FENCE_HISTORY 64

/*
 * Our pill writes that timed out stay in the kernel until the path gives
 * them back, and each holds a request of the area's aio context (area.c:
 * 8), which our own heartbeat writes and reads share.  A pill that keeps
 * timing out is rewritten every T + I: unbounded, those writes took every
 * request and our renewals failed to submit - a lapse, and under the
 * lapse rule a reset, for a slow path to somebody else's sector.  So no
 * pill is submitted while this many of ours are still in the kernel; the
 * op counts that as a failed write and tries again after I (fencesm).
 */
#define FENCER_STALE_MAX 2

struct fencer {
	struct area *a;
	struct hb_engine *hb;
	const struct sdlm_timeouts *t;
	uint32_t my_node;
	fencer_done_fn fn;
	void *ctx;
	struct fence_op op;
	bool busy;
	uint64_t victim_inc;
	bool write_pending;
	uint64_t op_gen;		/* +1 per op started */
	uint64_t write_gen;		/* the op whose write is pending */
	bool deferred;			/* the current op's write waits for it */
	struct fence_decision deferred_d;
	bool orphan;			/* destroyed: the pill's callback frees it */
	unsigned pill_stale;		/* timed-out pill writes still in the kernel */
	void *wbuf;
	uint32_t queue[SDLM_MAX_NODES];
	unsigned nqueue;
	struct { uint32_t node; uint64_t inc; uint64_t at_ms; } done[FENCE_HISTORY];
	unsigned ndone;
	uint32_t max_per_window;
	uint32_t window_s;
	uint64_t now_ms;
};

static void act(struct fencer *f, const struct fence_decision *d);
static void write_pill(struct fencer *f, const struct fence_decision *d);

/* The victim's slots as the engine last read them; NULL where that failed. */
static void victim_slots(struct fencer *f, uint32_t victim,
			 struct msg_input *min, const struct msg_input **mp,
			 struct hb_input *hin, const struct hb_input **hp)
{
	struct peer_slots ps;

	hbe_peer_slots(f->hb, victim, &ps, hin, min);
	*mp = ps.msg;
	*hp = ps.hb;
	if (ps.hb && !f->victim_inc)
		f->victim_inc = ps.hb->incarnation;
}

static void pill_done(void *arg, int result, const void *data, size_t len)
{
	struct fencer *f = arg;
	struct fence_decision d;

	f->write_pending = false;
	if (result == SDLM_EIOTIMEOUT)
		f->pill_stale++;	/* until pill_gone */
	if (f->orphan) {
		if (!f->pill_stale)
			free(f);	/* fencer_destroy left it to this callback */
		return;
	}
	if (!f->busy) {
		f->deferred = false;
		return;
	}
	/* An earlier op's write (cancelled, confirmed): not this op's pill.
	 * The op's own write, held back by it, goes out now. */
	if (f->write_gen != f->op_gen) {
		if (f->deferred) {
			f->deferred = false;
			write_pill(f, &f->deferred_d);
		}
		return;
	}
	if (fence_pill_written(&f->op, f->now_ms, result, &d) == 0)
		act(f, &d);
}

/* A pill write of ours that timed out has left the kernel. */
static void pill_gone(void *arg)
{
	struct fencer *f = arg;

	if (f->pill_stale)
		f->pill_stale--;
	if (f->orphan && !f->pill_stale && !f->write_pending)
		free(f);
}

static void write_pill(struct fencer *f, const struct fence_decision *d)
{
	struct sdlm_msg m = {
		.node_id = f->op.fo_victim,
		.cmd = d->cmd,
		.seq = d->seq,
		.target_incarnation = d->target_incarnation,
		.from_node = f->my_node,
		.wall_time_ms = clock_realtime_ms(),
	};
	uint64_t off, dl;
	int rc;

	if (f->write_pending) {
		/* One write at a time: an earlier op's still in flight holds
		 * this op's back until it completes (pill_done). */
		if (f->write_gen != f->op_gen) {
			f->deferred = true;
			f->deferred_d = *d;
		}
		return;
	}
	rc = f->pill_stale >= FENCER_STALE_MAX ? -EAGAIN : 0;
	if (rc == 0)
		rc = layout_msg_offset(&f->a->hdr, m.node_id, &off);
	if (rc == 0)
		rc = msg_out(&m, f->a->hdr.uuid, f->wbuf, f->a->hdr.sector_size);
	if (rc == 0) {
		dl = aio_now_ns() + (uint64_t)f->t->base.io_timeout_ms * 1000000;
		rc = aio_submit_write_gone(f->a->aio, f->a->fd, off, f->wbuf,
					   f->a->hdr.sector_size, dl, pill_done, f,
					   pill_gone, f);
	}
	if (rc == 0) {
		f->write_pending = true;
		f->write_gen = f->op_gen;
		return;
	}
	{
		struct fence_decision d2;

		if (fence_pill_written(&f->op, f->now_ms, rc, &d2) == 0)
			act(f, &d2);
	}
}

static void start_next(struct fencer *f);

static void finish(struct fencer *f, int path)
{
	uint32_t victim = f->op.fo_victim;
	uint64_t inc = f->op.fo_target ? f->op.fo_target : f->victim_inc;
	unsigned i = f->ndone % FENCE_HISTORY;

	fence_announced(&f->op);
	f->done[i].node = victim;
	f->done[i].inc = inc;
	f->done[i].at_ms = f->now_ms;
	f->ndone++;
	f->busy = false;
	f->fn(f->ctx, victim, inc, path);
	start_next(f);
}

static void act(struct fencer *f, const struct fence_decision *d)
{
	switch (d->action) {
	case FENCE_ACT_WRITE_PILL:
		write_pill(f, d);
		break;
	case FENCE_ACT_DECLARE_ACK:
		finish(f, FENCER_PATH_ACK);
		break;
	case FENCE_ACT_DECLARE_DEAD:
		finish(f, FENCER_PATH_DEAD);
		break;
	case FENCE_ACT_NONE:
		break;
	}
}

static void start_next(struct fencer *f)
{
	const struct msg_input *mp;
	const struct hb_input *hp;
	struct hb_input hin;
	struct msg_input min;
	struct fence_decision d;
	uint32_t victim;

	if (f->busy || f->nqueue == 0)
		return;
	victim = f->queue[0];
	memmove(f->queue, f->queue + 1, --f->nqueue * sizeof(f->queue[0]));
	fence_op_init(&f->op, f->t, hbe_peer(f->hb, victim));
	f->op_gen++;
	f->deferred = false;
	f->busy = true;
	f->victim_inc = 0;
	victim_slots(f, victim, &min, &mp, &hin, &hp);
	if (fence_resume(&f->op, victim, SM_CMD_RESET, f->now_ms, mp, hp,
			 &d) < 0) {
		f->busy = false;
		return;
	}
	act(f, &d);
}

/* Returns 0 or -errno. */
int fencer_create(struct fencer **out, struct area *a, struct hb_engine *hb,
		  const struct sdlm_timeouts *t, uint32_t my_node,
		  fencer_done_fn fn, void *ctx)
{
	struct fencer *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	if (posix_memalign(&f->wbuf, AIO_BUF_ALIGN, a->hdr.sector_size)) {
		free(f);
		return -ENOMEM;
	}
	f->a = a;
	f->hb = hb;
	f->t = t;
	f->my_node = my_node;
	f->fn = fn;
	f->ctx = ctx;
	f->window_s = 300;
	f->max_per_window = (a->hdr.num_nodes + 1) / 2 > 1 ? (a->hdr.num_nodes + 1) / 2 - 1 : 1;
	*out = f;
	return 0;
}

static bool pill_pending(void *arg)
{
	const struct fencer *f = arg;

	return f->write_pending;
}

/*
 * The area's aio context outlives us (the heartbeat engine and the area
 * reap it after; sdlmd closes the fencer first): a pill write still in
 * flight would have its callback run on freed memory.  So: nothing new
 * starts (not busy, nothing queued: pill_done and fencer_on_read, which
 * the engine's callbacks may call meanwhile, do nothing), the write is
 * waited for up to twice the I/O timeout.  If the kernel still has it,
 * or a timed-out one of ours (pill_stale: not waited for, the stop would
 * only get slower), f is left to the last of their callbacks, which frees
 * it (the aio layer makes exactly one done callback per accepted request,
 * aio_ctx_destroy's SDLM_ECANCELED at the latest, and a gone callback
 * when a timed-out one leaves the kernel; one that never leaves leaks f
 * with its request).  wbuf can go either way: the aio layer copied it.
 */
void fencer_destroy(struct fencer *f)
{
	uint64_t end;

	if (!f)
		return;
	f->busy = false;
	f->nqueue = 0;
	free(f->wbuf);
	f->wbuf = NULL;
	end = aio_now_ns() + 2 * (uint64_t)f->t->base.io_timeout_ms * 1000000;
	if (aio_drain(f->a->aio, end, pill_pending, f) || f->pill_stale) {
		f->orphan = true;	/* pill_done or pill_gone frees it */
		return;
	}
	free(f);
}

void fencer_set_limit(struct fencer *f, uint32_t max_per_window, uint32_t window_s)
{
	if (max_per_window)
		f->max_per_window = max_per_window;
	if (window_s)
		f->window_s = window_s;
}

bool fencer_is_fenced(const struct fencer *f, uint32_t node, uint64_t inc)
{
	unsigned i, n = f->ndone < FENCE_HISTORY ? f->ndone : FENCE_HISTORY;

	for (i = 0; i < n; i++)
		if (f->done[i].node == node && (inc == 0 || f->done[i].inc == inc))
			return true;
	return false;
}

static unsigned fences_in_window(const struct fencer *f, uint64_t now)
{
	unsigned i, c = 0, n = f->ndone < FENCE_HISTORY ? f->ndone : FENCE_HISTORY;
	uint64_t w = (uint64_t)f->window_s * 1000;

	for (i = 0; i < n; i++)
		if (now - f->done[i].at_ms < w)
			c++;
	return c;
}

/* Returns 0, -EALREADY, -EDQUOT or -EINVAL. */
int fencer_request(struct fencer *f, uint32_t victim, uint64_t now_ms)
{
	const struct sdlm_hb *hb;
	unsigned i;
	int hrc = -ENODATA;

	f->now_ms = now_ms;
	if (victim < 1 || victim > f->a->hdr.num_nodes || victim == f->my_node)
		return -EINVAL;
	hb = hbe_slot(f->hb, victim, &hrc);
	if (hrc == 0 && fencer_is_fenced(f, victim, hb->incarnation))
		return -EALREADY;
	if (f->busy && f->op.fo_victim == victim)
		return 0;
	for (i = 0; i < f->nqueue; i++)
		if (f->queue[i] == victim)
			return 0;
	if (fences_in_window(f, now_ms) + f->nqueue + (f->busy ? 1 : 0) >= f->max_per_window)
		return -EDQUOT;
	f->queue[f->nqueue++] = victim;
	start_next(f);
	return 0;
}

void fencer_cancel(struct fencer *f, uint32_t victim)
{
	unsigned i;

	for (i = 0; i < f->nqueue; i++)
		if (f->queue[i] == victim) {
			memmove(f->queue + i, f->queue + i + 1,
				(f->nqueue - i - 1) * sizeof(f->queue[0]));
			f->nqueue--;
			break;
		}
	if (f->busy && f->op.fo_victim == victim) {
		fence_cancel(&f->op);
		f->busy = false;
		start_next(f);
	}
}

void fencer_confirm(struct fencer *f, uint32_t victim)
{
	const struct sdlm_hb *hb;
	unsigned i = f->ndone % FENCE_HISTORY;
	int hrc = -ENODATA;

	hb = hbe_slot(f->hb, victim, &hrc);
	if (f->busy && f->op.fo_victim == victim) {
		fence_cancel(&f->op);
		f->busy = false;
	}
	f->done[i].node = victim;
	f->done[i].inc = hrc == 0 ? hb->incarnation : 0;
	f->done[i].at_ms = f->now_ms;
	f->ndone++;
	f->fn(f->ctx, victim, f->done[i].inc, FENCER_PATH_OPERATOR);
	start_next(f);
}

void fencer_on_read(struct fencer *f, uint64_t now_ms)
{
	const struct msg_input *mp;
	const struct hb_input *hp;
	struct hb_input hin;
	struct msg_input min;
	struct fence_decision d;

	f->now_ms = now_ms;
	if (!f->busy)
		return;
	victim_slots(f, f->op.fo_victim, &min, &mp, &hin, &hp);
	if (fence_read(&f->op, now_ms, mp, hp, &d) == 0)
		act(f, &d);
}

void fencer_tick(struct fencer *f, uint64_t now_ms)
{
	struct fence_decision d;

	f->now_ms = now_ms;
	if (!f->busy)
		return;
	if (fence_tick(&f->op, now_ms, &d) == 0)
		act(f, &d);
}

uint32_t fencer_current(const struct fencer *f, const char **state)
{
	if (!f->busy)
		return 0;
	*state = fence_op_state_name(f->op.fo_state);
	return f->op.fo_victim;
}
