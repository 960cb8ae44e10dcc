/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * heartbeat.c - the disk heartbeat engine (the I/O edge of fencesm.c).
 *
 * Per interval I, at hbe_tick():
 *
 *	write   own slot: counter + 1, incarnation, state, the current ack;
 *	        submitted with deadline now + T.  self_renew_submitted() is
 *	        told the time taken just before the submit, so the lease is
 *	        measured from the submission of the last completed renewal.
 *	read    sectors [1, 2N] in one I/O, deadline now + T: every peer's
 *	        slot (peer_observe), our own slot read back (duplicate
 *	        writer check) and our message slot (pills).
 *
 * Exactly one write per interval, whatever else happens, and one read;
 * while a hand-off may be under way, a read every I/4 between the ticks
 * (hbe_process, handoff.h ho_read_interval_ms).
 *
 * A write that missed its deadline may still be in the kernel and may
 * land later.  No new write is submitted while such a stale write exists:
 * otherwise an old record (without the ack, with a lower counter) could
 * land over a newer one.
 *
 * This file decides nothing about safety: whether a write may go out is
 * self_may_write_hb, what is in flight goes to self_io (fencesm decides
 * when an ack may go out), each read submitted
 * to self_read_submitted and each renewal to self_renew_done (fencesm
 * decides when a lapsed lease owes a fresh read before locks are used),
 * and hbe_may_use_locks is self_may_use_locks.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sdlm_errors.h"
#include "aio.h"
#include "clock.h"
#include "area.h"
#include "heartbeat.h"

struct hb_engine {
	struct area *a;
	const struct sdlm_timeouts *t;
	uint32_t node_id;
	char name[SDLM_DISK_NAME_LEN];
	uint64_t incarnation;
	uint64_t counter;
	uint32_t hb_flags;	/* SDLM_HB_F_* of every write */
	struct self_state self;
	struct self_decision dec;
	bool stop_told, fence_told, dup_told;
	uint64_t ack_wait_told;	/* pill seq whose ack wait was told, 0 none */
	struct peer_view pv[SDLM_MAX_NODES + 1];
	struct sdlm_hb hb[SDLM_MAX_NODES + 1];
	int hb_rc[SDLM_MAX_NODES + 1];
	struct sdlm_msg msg[SDLM_MAX_NODES + 1];
	int msg_rc[SDLM_MAX_NODES + 1];
	bool write_pending, read_pending;
	/* Our heartbeat writes that timed out and are still in the kernel
	 * (counted at their SDLM_EIOTIMEOUT, uncounted by their gone
	 * callback): each may land over a newer record of ours. */
	uint32_t hb_stale;
	/* Clock check (a VM pause CLOCK_BOOTTIME did not count): each peer's
	 * counter and incarnation at our last successful read of its slot,
	 * that read's submission, and the submission of the last read that
	 * showed an older counter (clk_base_ms, if clk_base_have). */
	uint64_t clk_counter[SDLM_MAX_NODES + 1];
	uint64_t clk_inc[SDLM_MAX_NODES + 1];
	uint64_t clk_sub_ms[SDLM_MAX_NODES + 1];
	uint64_t clk_base_ms[SDLM_MAX_NODES + 1];
	bool clk_base_have[SDLM_MAX_NODES + 1];
	uint64_t write_sub_ms, write_sub_ns, read_sub_ns;
	uint64_t early_ms;		/* the last write out of cadence, 0 none */
	uint64_t away_wake_ms;		/* the next kill due (away_tick) */
	uint64_t read_sub_ms;		/* caller's clock at the read's submit */
	uint64_t now_ms;		/* of the current hbe_process */
	struct hbe_stats st;
	hbe_event_fn fn;
	void *ctx;
	void *wbuf;
	/* the hand-off (heartbeat.h) */
	struct ho_requester req;
	struct ho_away away;
	struct hbe_handoff_ops ho;
	bool ho_on;
};

/* fencesm decides whether a heartbeat write may go out (no stale one). */
static bool may_write(const struct hb_engine *e)
{
	return self_may_write_hb(e->hb_stale, e->write_pending);
}

/*
 * What the ack rule needs (fencesm.h, self_io): every request in flight
 * in any aio context of the process (the UID service's has its own),
 * and which of them are our own heartbeat I/O.
 */
static void io_now(const struct hb_engine *e, struct self_io *io)
{
	io->inflight = aio_inflight_all();
	io->hb_read_pending = e->read_pending;
	io->hb_write_pending = e->write_pending;
}

/*
 * Every heartbeat carries the version of the sdlm that writes it, so each
 * node sees the others' (sdlmctl status, sdlm_peer_build_info): a
 * mixed-version cluster is visible without asking every daemon.  The
 * slot is the carrier because every node reads every slot once per
 * interval whether or not it shares a CPG group with the writer.  A
 * version the format cannot carry (over 31 characters, not printable
 * ASCII) is written as "" (unknown) rather than stop the heartbeat.
 */
static void hb_set_version(struct sdlm_hb *hb)
{
	const char *v = PACKAGE_VERSION;
	size_t i, n = strlen(v);

	memset(hb->version, 0, sizeof(hb->version));
	if (n >= sizeof(hb->version))
		return;
	for (i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] > 0x7e)
			return;
	memcpy(hb->version, v, n);
}

static void hb_to_input(const struct sdlm_hb *hb, struct hb_input *in)
{
	in->counter = hb->counter;
	in->incarnation = hb->incarnation;
	in->state = hb->state;
	in->ack_cmd = hb->ack_cmd;
	in->ack_seq = hb->ack_seq;
	in->ack_incarnation = hb->ack_incarnation;
	in->lapse_fences = (hb->flags & SDLM_HB_F_LAPSE_FENCES) != 0;
	in->no_watchdog = (hb->flags & SDLM_HB_F_NO_WATCHDOG) != 0;
}

static void decide(struct hb_engine *e, uint64_t now_ms)
{
	struct self_io io;

	io_now(e, &io);
	self_io(&e->self, &io);
	self_decide(&e->self, now_ms, &e->dec);
	if (e->dec.stop_locks && !e->stop_told) {
		e->stop_told = true;
		e->fn(e->ctx, HBE_STOP_LOCKS, e->dec.use_err);
	}
	if (e->dec.ack_waits_io && e->ack_wait_told != e->self.ss_pill_seq) {
		e->ack_wait_told = e->self.ss_pill_seq;
		e->fn(e->ctx, HBE_ACK_WAIT, (int)io.inflight);
	}
	if (e->self.ss_dup && !e->dup_told) {
		e->dup_told = true;
		e->fn(e->ctx, HBE_DUPWRITER, SDLM_EDUPWRITER);
	}
	if (!e->dec.feed_watchdog && !e->fence_told) {
		e->fence_told = true;
		e->fn(e->ctx, HBE_SELF_FENCE, e->self.ss_self_fence_reason);
	}
}

static void write_done(void *arg, int result, const void *data, size_t len)
{
	struct hb_engine *e = arg;

	e->write_pending = false;
	e->st.writes++;
	e->st.last_write_us = (aio_now_ns() - e->write_sub_ns) / 1000;
	if (result == SDLM_EIOTIMEOUT)
		e->hb_stale++;		/* until write_gone */
	if (result < 0) {
		e->st.write_fail++;
		e->st.last_write_err = result;
	}
	/* F4: the bound of the entries this write carried runs from its
	 * completion - only if it completed within its deadline
	 * (SDLM_EIOTIMEOUT otherwise: it may land at any time later, so it
	 * proves nothing; the entries wait for the next write). */
	ho_req_written(&e->req, e->now_ms, result >= 0);
	/* After a lapse fencesm owes a fresh read: only a read submitted
	 * from now on (self_read_submitted) pays it. */
	self_renew_done(&e->self, e->write_sub_ms, result);
}

/* A heartbeat write of ours that timed out has left the kernel. */
static void write_gone(void *arg)
{
	struct hb_engine *e = arg;

	if (e->hb_stale)
		e->hb_stale--;
}

/*
 * Peers' counters against our own clock (fencesm.h clock_missed_ms): a
 * peer that wrote far more heartbeats than our elapsed time allows means
 * we were paused without our clock counting it.  Then the lease counts as
 * lapsed and (fencesm decides) the next renewal must be followed by a
 * fresh read of our message slot before any lock is used again.
 */
static void clock_check(struct hb_engine *e, uint64_t now)
{
	uint64_t missed = 0, m;
	uint32_t i, n = e->a->hdr.num_nodes;

	for (i = 1; i <= n; i++) {
		if (i == e->node_id)
			continue;
		if (e->hb_rc[i] != 0) {
			/* Unreadable this time: forget its counter.  Kept, it
			 * would be compared with the next good read over this
			 * read's window alone, and the writes the gap hid
			 * would read as a pause (the lease voided, and a
			 * lapsed lease fences). */
			e->clk_inc[i] = 0;
			continue;
		}
		if (e->clk_inc[i] != 0 && e->hb[i].incarnation == e->clk_inc[i] &&
		    e->hb[i].counter > e->clk_counter[i]) {
			/*
			 * The window: from the submission of the last read
			 * that showed an OLDER counter than the one we held,
			 * to now.  Every write above the counter we held was
			 * submitted after that one completed (one heartbeat
			 * write in flight per node), so after it landed, so
			 * after that read.  A later start undercounts: a
			 * peer's writes that FAILED still take counter values
			 * (never reused), and they may have been submitted
			 * long before our previous read (nemesis, disk-lost:
			 * a healthy node reset for a peer's disk errors).
			 * Measured to now, not to the read's completion: a
			 * stall of ours before processing it only widens the
			 * window.
			 */
			if (e->clk_base_have[i]) {
				/* The peer may tick before its time: the
				 * window's early writes (a failed read of
				 * ours stretches it) count (fencesm.h). */
				m = clock_missed_early_ms(now > e->clk_base_ms[i] ? now - e->clk_base_ms[i] : 0,
							  e->hb[i].counter - e->clk_counter[i],
							  e->hb[i].hb_interval_ms,
							  e->t->base.hb_interval_ms, e->t);
				if (m > missed)
					missed = m;
			}
			/* The read before this one showed the older counter. */
			e->clk_base_ms[i] = e->clk_sub_ms[i];
			e->clk_base_have[i] = true;
		} else if (e->clk_inc[i] == 0 || e->hb[i].incarnation != e->clk_inc[i] ||
			   e->hb[i].counter != e->clk_counter[i]) {
			/* A new baseline: when its later writes began is not
			 * known until its counter moves once. */
			e->clk_base_have[i] = false;
		}
		e->clk_inc[i] = e->hb[i].incarnation;
		e->clk_counter[i] = e->hb[i].counter;
		e->clk_sub_ms[i] = e->read_sub_ms;
	}
	if (!missed)
		return;
	self_clock_missed(&e->self, now);
	e->st.clock_misses++;
	e->fn(e->ctx, HBE_CLOCK_MISSED,
	      missed > INT32_MAX ? INT32_MAX : (int)missed);
}

static void away_acts(struct hb_engine *e, const struct ho_away_out *out)
{
	uint32_t i;

	for (i = 0; e->ho_on && i < out->n; i++)
		e->ho.act(e->ho.ctx, &out->a[i]);
}

/*
 * V1 (design-handoff.md §5): the request entries naming our node in
 * every other slot of this read, what the read made of each slot, and
 * whether the same read found a pill for us (fencesm: ss_pill).  What
 * counts is handoff.c's (ho_away_read_slots): a slot that did not decode
 * is that slot only, and a requester whose heartbeat stands still asks
 * for nothing (review RH4, RH6).
 */
static void away_tick(struct hb_engine *e, uint64_t now_ms);

static void away_read(struct hb_engine *e, uint64_t now)
{
	struct ho_seen seen[SDLM_MAX_NODES * SDLM_HB_REQ_MAX];
	struct ho_slots *sl;
	struct ho_slot_log *log;
	struct ho_away_out *out;
	uint32_t i, n = e->a->hdr.num_nodes, k;
	size_t ns = 0;

	if (!e->ho_on)
		return;
	sl = calloc(1, sizeof(*sl));
	log = malloc(sizeof(*log));
	out = malloc(sizeof(*out));
	if (!sl || !log || !out)
		goto out_free;	/* this read is skipped; the next one counts */
	for (i = 1; i <= n; i++) {
		if (i == e->node_id)
			continue;
		sl->s[i].live = peer_live(&e->pv[i], now, e->t);
		/* Never written (an all-zero sector reads as no magic): no
		 * requests there. */
		if (e->hb_rc[i] == -ENODATA || e->hb_rc[i] == SDLM_EMAGIC)
			continue;
		if (e->hb_rc[i] != 0) {
			sl->s[i].rd = HO_SLOT_BAD;
			continue;
		}
		sl->s[i].rd = HO_SLOT_OK;
		for (k = 0; k < SDLM_HB_REQ_MAX && e->hb[i].req[k].lkid; k++) {
			const struct sdlm_hb_req *r = &e->hb[i].req[k];

			if (ho_lkid_node(r->lkid) != e->node_id ||
			    r->target_incarnation != e->incarnation)
				continue;
			seen[ns].lkid = r->lkid;
			seen[ns].target_incarnation = r->target_incarnation;
			seen[ns].held = e->ho.held(e->ho.ctx, r->lkid);
			seen[ns].gone = !seen[ns].held && e->ho.gone &&
					e->ho.gone(e->ho.ctx, r->lkid);
			seen[ns].from = i;
			ns++;
		}
	}
	if (ho_away_read_slots(&e->away, now, seen, ns, sl, e->self.ss_pill,
			       out, log) == 0) {
		for (k = 0; k < log->n; k++)
			e->fn(e->ctx, HBE_HO_SLOT_BAD, (int)log->node[k]);
		away_acts(e, out);
		away_tick(e, now);	/* K of what it started stopping */
	}
out_free:
	free(out);
	free(log);
	free(sl);
}

static void read_done(void *arg, int result, const void *data, size_t len)
{
	struct hb_engine *e = arg;
	uint32_t i, n = e->a->hdr.num_nodes;
	uint64_t now = e->now_ms;
	struct hb_input in;
	struct msg_input mi;
	struct peer_slots own;

	e->read_pending = false;
	e->st.reads++;
	e->st.last_read_us = (aio_now_ns() - e->read_sub_ns) / 1000;
	if (result < 0 || !data) {
		e->st.read_fail++;
		for (i = 1; i <= n; i++)
			if (i != e->node_id)
				peer_observe_read(&e->pv[i], e->read_sub_ms,
						  now, NULL);
		self_msg_read(&e->self, now, NULL);
		self_own_read(&e->self, now, NULL);
		e->fn(e->ctx, HBE_READ, result);
		return;
	}
	area_decode_slots(&e->a->hdr, data, e->hb, e->hb_rc, e->msg, e->msg_rc);
	clock_check(e, now);
	for (i = 1; i <= n; i++) {
		if (i == e->node_id)
			continue;
		if (e->hb_rc[i] == 0) {
			hb_to_input(&e->hb[i], &in);
			peer_observe_read(&e->pv[i], e->read_sub_ms, now, &in);
		} else {
			peer_observe_read(&e->pv[i], e->read_sub_ms, now,
					  NULL);
		}
	}
	if (e->hb_rc[e->node_id] == 0) {
		hb_to_input(&e->hb[e->node_id], &in);
		self_own_read(&e->self, now, &in);
	} else {
		self_own_read(&e->self, now, NULL);
	}
	hbe_peer_slots(e, e->node_id, &own, &in, &mi);
	self_msg_read(&e->self, now, own.msg);
	away_read(e, now);
	e->fn(e->ctx, HBE_READ, 0);
}

/* Returns 0 or -errno. */
int hbe_create(struct hb_engine **out, struct area *a,
	       const struct sdlm_timeouts *t, uint32_t node_id,
	       const char *node_name, uint64_t incarnation,
	       uint64_t start_counter, hbe_event_fn fn, void *ctx)
{
	struct hb_engine *e;
	uint32_t i;

	if (node_id < 1 || node_id > a->hdr.num_nodes)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	if (posix_memalign(&e->wbuf, AIO_BUF_ALIGN, a->hdr.sector_size)) {
		free(e);
		return -ENOMEM;
	}
	e->a = a;
	e->t = t;
	e->node_id = node_id;
	snprintf(e->name, sizeof(e->name), "%s", node_name ? node_name : "");
	e->incarnation = incarnation;
	e->counter = start_counter;
	e->away_wake_ms = UINT64_MAX;
	/* This build fences on a lapsed lease, quorate or not: observers
	 * may use D from f (fencesm.h). */
	e->hb_flags = SDLM_HB_F_LAPSE_FENCES;
	e->fn = fn;
	e->ctx = ctx;
	self_init(&e->self, t, incarnation);
	ho_req_init(&e->req, node_id);
	ho_away_init(&e->away, node_id, incarnation);
	/* Without corosync (disk-only mode) nobody is a member and we are
	 * not quorate: peers can be judged dead, and a lost lease fences. */
	for (i = 0; i <= SDLM_MAX_NODES; i++) {
		peer_init(&e->pv[i]);
		e->hb_rc[i] = e->msg_rc[i] = -ENODATA;
	}
	self_quorum(&e->self, false);
	self_decide(&e->self, 0, &e->dec);
	e->dec.feed_watchdog = true;
	*out = e;
	return 0;
}

static bool hb_io_pending(void *arg)
{
	const struct hb_engine *e = arg;

	return e->write_pending || e->read_pending || e->hb_stale;
}

/*
 * The completion of a write or read still pending calls back into e, and
 * the area's context outlives the engine (area_close reaps or cancels what
 * is left, calling back as it goes).  So wait for this engine's callbacks
 * first: every request has a deadline of T, by which its callback has run;
 * a heartbeat write that missed it calls once more, when it leaves the
 * kernel (write_gone; may_write() refuses until then).  If one still has
 * not after 2T, e is leaked rather than freed under a callback to come.
 */
void hbe_destroy(struct hb_engine *e)
{
	uint64_t end;

	if (!e)
		return;
	end = aio_now_ns() + 2 * (uint64_t)e->t->base.io_timeout_ms * 1000000;
	if (aio_drain(e->a->aio, end, hb_io_pending, e))
		return;
	free(e->wbuf);
	free(e);
}

/*
 * Both hand-off areas of the write about to be submitted.  V3: a grant
 * the answer lists for the first time leaves our use now, before the
 * submission (ops->listed), whether or not the write then succeeds.
 */
static void handoff_areas(struct hb_engine *e, struct sdlm_hb *hb)
{
	enum ho_grant_state before[HO_AWAY_MAX];
	uint32_t i;

	ho_req_area(&e->req, hb);
	for (i = 0; i < e->away.n; i++)
		before[i] = e->away.g[i].state;
	ho_away_answer(&e->away, hb);
	/* ho_away_answer changes states only, never the order or count. */
	for (i = 0; e->ho_on && i < e->away.n; i++)
		if (before[i] != HO_LISTED && e->away.g[i].state == HO_LISTED)
			e->ho.listed(e->ho.ctx, e->away.g[i].lkid);
}

/* K for the away node's stopping grants (ho_away_tick): at the tick and
 * at every turn, so a kill is not an interval late; away_wake_ms is the
 * next one due. */
static void away_tick(struct hb_engine *e, uint64_t now_ms)
{
	struct ho_away_out *out;

	e->away_wake_ms = UINT64_MAX;
	if (!e->ho_on || !e->away.n)
		return;
	out = malloc(sizeof(*out));
	if (!out) {
		e->away_wake_ms = now_ms + e->t->base.hb_interval_ms;
		return;
	}
	ho_away_tick(&e->away, now_ms, e->t, out, &e->away_wake_ms);
	away_acts(e, out);
	free(out);
}

static void submit_read(struct hb_engine *e, uint64_t now_ms, uint64_t now_ns,
			uint64_t dl_ns)
{
	int rc;

	e->read_sub_ns = now_ns;
	e->read_sub_ms = now_ms;
	self_read_submitted(&e->self);
	rc = aio_submit_read(e->a->aio, e->a->fd, layout_slots_offset(&e->a->hdr),
			     layout_slots_len(&e->a->hdr), dl_ns, read_done, e);
	if (rc == 0)
		e->read_pending = true;
	else
		e->st.read_fail++;
}

/*
 * When the next read outside the tick is due (handoff.h,
 * ho_read_interval_ms: every I/4 while a hand-off may be under way), or
 * UINT64_MAX: none before the tick's.
 */
static uint64_t fast_read_due(const struct hb_engine *e, uint64_t now_ms)
{
	uint32_t i, n = e->a->hdr.num_nodes, waiting = 0, iv;
	bool away = false;

	if (!e->ho_on || e->read_pending || !e->read_sub_ms)
		return UINT64_MAX;
	for (i = 1; i <= n && !away; i++)
		away = i != e->node_id && e->pv[i].pv_memb == PEER_MEMB_AWAY &&
		       peer_live(&e->pv[i], now_ms, e->t);
	for (i = 0; i < e->req.n; i++)
		waiting += !e->req.e[i].answered;
	iv = ho_read_interval_ms(e->ho_on, away, waiting, e->t->base.hb_interval_ms);
	return iv < e->t->base.hb_interval_ms ? e->read_sub_ms + iv : UINT64_MAX;
}

void hbe_tick(struct hb_engine *e, uint64_t now_ms)
{
	uint64_t now_ns = aio_now_ns(), dl = now_ns + (uint64_t)e->t->base.io_timeout_ms * 1000000;
	uint64_t off;
	int rc;

	decide(e, now_ms);
	away_tick(e, now_ms);
	if (may_write(e)) {
		struct sdlm_hb hb = {
			.node_id = e->node_id,
			.state = e->dec.slot_state,
			.counter = e->counter + 1,
			.incarnation = e->incarnation,
			.hb_interval_ms = e->t->base.hb_interval_ms,
			.wall_time_ms = clock_realtime_ms(),
			.flags = e->hb_flags,
		};

		if (e->dec.ack_have) {
			hb.ack_cmd = e->dec.ack_cmd;
			hb.ack_seq = e->dec.ack_seq;
			hb.ack_incarnation = e->dec.ack_incarnation;
		}
		snprintf(hb.node_name, sizeof(hb.node_name), "%s", e->name);
		hb_set_version(&hb);
		handoff_areas(e, &hb);
		layout_hb_offset(&e->a->hdr, e->node_id, &off);
		rc = hb_out(&hb, e->a->hdr.uuid, e->wbuf, e->a->hdr.sector_size);
		if (rc == 0) {
			if (e->write_sub_ms && now_ms - e->write_sub_ms > e->st.submit_gap_max_ms)
				e->st.submit_gap_max_ms = now_ms - e->write_sub_ms;
			/* Out of cadence (hbe_early_tick_at): the next one
			 * waits for self_early_tick_at's rate limit. */
			if (e->write_sub_ms && now_ms - e->write_sub_ms < e->t->base.hb_interval_ms) {
				e->early_ms = now_ms;
				e->st.early_writes++;
			}
			e->write_sub_ms = now_ms;
			e->write_sub_ns = now_ns;
			self_renew_submitted(&e->self, now_ms);
			rc = aio_submit_write_gone(e->a->aio, e->a->fd, off, e->wbuf,
						   e->a->hdr.sector_size, dl, write_done, e,
						   write_gone, e);
		}
		if (rc == 0) {
			e->write_pending = true;
			e->counter++;
		} else {
			e->st.write_fail++;
			self_renew_done(&e->self, now_ms, rc);
			ho_req_written(&e->req, now_ms, false);
		}
	}
	if (!e->read_pending)
		submit_read(e, now_ms, now_ns, dl);
}

int hbe_process(struct hb_engine *e, uint64_t now_ms)
{
	int rc;

	e->now_ms = now_ms;
	rc = aio_process(e->a->aio, aio_now_ns());
	decide(e, now_ms);
	if (now_ms >= e->away_wake_ms)
		away_tick(e, now_ms);
	if (now_ms >= fast_read_due(e, now_ms)) {
		uint64_t now_ns = aio_now_ns();

		e->st.fast_reads++;
		submit_read(e, now_ms, now_ns,
			    now_ns + (uint64_t)e->t->base.io_timeout_ms * 1000000);
	}
	return rc;
}

uint64_t hbe_next_deadline_ms(struct hb_engine *e)
{
	uint64_t d = aio_next_deadline(e->a->aio), r;

	d = d == UINT64_MAX ? d : d / 1000000 + 1;
	r = fast_read_due(e, e->now_ms > e->read_sub_ms ? e->now_ms : e->read_sub_ms);
	if (r < d)
		d = r;
	return e->away_wake_ms < d ? e->away_wake_ms : d;
}

uint64_t hbe_early_tick_at(const struct hb_engine *e)
{
	if (!may_write(e) || !e->write_sub_ms)
		return UINT64_MAX;
	return self_early_tick_at(e->write_sub_ms, e->early_ms, e->t);
}

void hbe_set_quorate(struct hb_engine *e, bool quorate)
{
	self_quorum(&e->self, quorate);
}

void hbe_corosync_answered(struct hb_engine *e, uint64_t asked_ms)
{
	self_corosync_answered(&e->self, asked_ms);
}

void hbe_set_member(struct hb_engine *e, uint32_t node_id, bool member, uint64_t now_ms)
{
	if (node_id >= 1 && node_id <= SDLM_MAX_NODES)
		peer_membership(&e->pv[node_id], now_ms, member);
}

void hbe_clients_stopped(struct hb_engine *e, bool stopped)
{
	self_clients_stopped(&e->self, stopped);
}

void hbe_apply_fault(struct hb_engine *e, const char *spec)
{
	struct aio_fault f;

	if (!spec || aio_fault_parse(spec, &f) < 0)
		aio_fault_set(e->a->aio, NULL);
	else
		aio_fault_set(e->a->aio, &f);
}

void hbe_set_no_watchdog(struct hb_engine *e)
{
	e->hb_flags |= SDLM_HB_F_NO_WATCHDOG;
}

bool hbe_feed_ok(const struct hb_engine *e)
{
	return e->dec.feed_watchdog;
}

int hbe_may_use_locks(const struct hb_engine *e, uint64_t now_ms)
{
	return self_may_use_locks(&e->self, now_ms);
}

/* Returns 0 or -errno / SDLM_E*. */
int hbe_leave(struct hb_engine *e)
{
	struct sdlm_hb hb = {
		.node_id = e->node_id,
		.state = HB_FREE,
		.counter = e->counter + 1,
		.incarnation = e->incarnation,
		.hb_interval_ms = e->t->base.hb_interval_ms,
		.wall_time_ms = clock_realtime_ms(),
		.flags = e->hb_flags,
	};

	if (!may_write(e))
		return -EBUSY;
	snprintf(hb.node_name, sizeof(hb.node_name), "%s", e->name);
	hb_set_version(&hb);
	e->counter++;
	return area_write_hb(e->a, &hb);
}

void hbe_set_handoff(struct hb_engine *e, const struct hbe_handoff_ops *ops)
{
	e->ho_on = ops && ops->held && ops->act && ops->listed;
	if (e->ho_on)
		e->ho = *ops;
	else
		memset(&e->ho, 0, sizeof(e->ho));
}

struct ho_requester *hbe_requester(struct hb_engine *e) { return &e->req; }
struct ho_away *hbe_away(struct hb_engine *e) { return &e->away; }

int hbe_peer_record(const struct hb_engine *e, uint32_t node_id,
		    uint16_t *minor, uint64_t *incarnation)
{
	if (node_id < 1 || node_id > e->a->hdr.num_nodes)
		return -EINVAL;
	if (e->hb_rc[node_id] != 0 || e->hb[node_id].state == HB_FREE)
		return -ENODATA;
	*minor = e->hb[node_id].minor;
	*incarnation = e->hb[node_id].incarnation;
	return 0;
}

const struct self_state *hbe_self(const struct hb_engine *e) { return &e->self; }
const struct self_decision *hbe_decision(const struct hb_engine *e) { return &e->dec; }
const struct hbe_stats *hbe_stats(const struct hb_engine *e) { return &e->st; }
uint64_t hbe_counter(const struct hb_engine *e) { return e->counter; }
int hbe_aio_fd(const struct hb_engine *e) { return aio_ctx_fd(e->a->aio); }

const struct peer_view *hbe_peer(const struct hb_engine *e, uint32_t node_id)
{
	return node_id <= SDLM_MAX_NODES ? &e->pv[node_id] : NULL;
}

const struct sdlm_hb *hbe_slot(const struct hb_engine *e, uint32_t node_id, int *rc)
{
	if (node_id < 1 || node_id > e->a->hdr.num_nodes)
		return NULL;
	*rc = e->hb_rc[node_id];
	return &e->hb[node_id];
}

void hbe_peer_slots(const struct hb_engine *e, uint32_t node_id,
		    struct peer_slots *ps, struct hb_input *hin,
		    struct msg_input *min)
{
	memset(ps, 0, sizeof(*ps));
	/* Node 0 is no node id: "in the area" with nothing read, so no
	 * verdict takes it for a node that never ran here. */
	ps->in_area = node_id <= e->a->hdr.num_nodes;
	if (node_id < 1 || !ps->in_area)
		return;
	if (e->hb_rc[node_id] == 0) {
		hb_to_input(&e->hb[node_id], hin);
		ps->hb = hin;
	}
	if (e->msg_rc[node_id] == 0) {
		min->cmd = e->msg[node_id].cmd;
		min->seq = e->msg[node_id].seq;
		min->target_incarnation = e->msg[node_id].target_incarnation;
		ps->msg = min;
	}
}

const struct sdlm_msg *hbe_msg(const struct hb_engine *e, uint32_t node_id, int *rc)
{
	if (node_id < 1 || node_id > e->a->hdr.num_nodes)
		return NULL;
	*rc = e->msg_rc[node_id];
	return &e->msg[node_id];
}
