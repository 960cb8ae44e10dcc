/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * heartbeat.h - the daemon's disk heartbeat engine: once per interval one
 * write of the node's own slot and one read of the whole slot range, both
 * asynchronous with deadlines, feeding the pure fence state machine
 * (fencesm.h).  It does no scheduling itself: the daemon calls hbe_tick()
 * every interval and hbe_process() when the aio eventfd is readable or a
 * deadline passed.
 */
#ifndef SDLM_HEARTBEAT_H
#define SDLM_HEARTBEAT_H

#include <stdbool.h>
#include <stdint.h>

#include "ondisk.h"
#include "timeouts.h"
#include "fencesm.h"
#include "handoff.h"

struct area;

struct hbe_stats {
	uint64_t writes, write_fail, reads, read_fail;
	uint64_t fast_reads;	/* reads between the ticks (a hand-off) */
	uint64_t early_writes;	/* writes of a tick before its time */
	uint64_t last_write_us, last_read_us;	/* latency of the last ones */
	uint64_t clock_misses;	/* pauses our clock missed (peers' counters) */
	/* The longest time between two heartbeat write submissions (ms):
	 * about I when the loop and the disk keep up; a stalled event loop
	 * or a write still pending shows here first. */
	uint64_t submit_gap_max_ms;
	int last_write_err;	/* the last failed write's error, 0 none */
};

struct hb_engine;

typedef void (*hbe_event_fn)(void *ctx, int what, int reason);
#define HBE_STOP_LOCKS	1	/* a pill (or lost lease): stop all lock use now */
#define HBE_SELF_FENCE	2	/* stop feeding the watchdog: reason SDLM_E* */
#define HBE_DUPWRITER	3	/* another incarnation writes our slot */
#define HBE_READ	4	/* a slot read completed (ok or not) */
#define HBE_ACK_WAIT	6	/* a pill's ack waits for I/O still in
				   flight: reason = requests in flight
				   (told once per pill) */
#define HBE_CLOCK_MISSED 5	/* peers' counters show a pause our clock
				   missed: reason = ms missed (at least);
				   the lease counts as lapsed */
#define HBE_HO_SLOT_BAD	7	/* the hand-off (V1): a slot in use did
				   not decode - reason = its node; its
				   requests are not read, every other
				   slot's are.  Rate-limited (handoff.h
				   HO_SLOT_LOG_MS) */

int hbe_create(struct hb_engine **out, struct area *a,
	       const struct sdlm_timeouts *t, uint32_t node_id,
	       const char *node_name, uint64_t incarnation,
	       uint64_t start_counter, hbe_event_fn fn, void *ctx);
void hbe_destroy(struct hb_engine *e);

/* Once per interval: submit the write and the read if none is pending. */
void hbe_tick(struct hb_engine *e, uint64_t now_ms);
/* Reap completions and deadlines; returns aio_process's result. */
int hbe_process(struct hb_engine *e, uint64_t now_ms);
/* Earliest aio deadline in ms of CLOCK_BOOTTIME, or UINT64_MAX. */
uint64_t hbe_next_deadline_ms(struct hb_engine *e);

/*
 * The earliest time a tick may run before its time, so that its write
 * goes out early (a hand-off answer final between two ticks): fencesm's
 * self_early_tick_at (at least I/2 after our last write, one such tick
 * per 4I + 2T), UINT64_MAX while no write may go out or none went yet.
 * The caller restarts its cadence from that tick.
 */
uint64_t hbe_early_tick_at(const struct hb_engine *e);

void hbe_set_quorate(struct hb_engine *e, bool quorate);
/* corosync answered a question asked at asked_ms (self_corosync_answered). */
void hbe_corosync_answered(struct hb_engine *e, uint64_t asked_ms);
void hbe_set_member(struct hb_engine *e, uint32_t node_id, bool member, uint64_t now_ms);
void hbe_clients_stopped(struct hb_engine *e, bool stopped);
void hbe_apply_fault(struct hb_engine *e, const char *spec_or_null);

/*
 * This daemon runs with no watchdog (no_watchdog = yes): every heartbeat
 * from now on says so (SDLM_HB_F_NO_WATCHDOG), and peers never judge it
 * dead by time.  Call before the first hbe_tick.
 */
void hbe_set_no_watchdog(struct hb_engine *e);

bool hbe_feed_ok(const struct hb_engine *e);
int hbe_may_use_locks(const struct hb_engine *e, uint64_t now_ms);

/* Clean stop: one last write marking the slot FREE (synchronous). */
int hbe_leave(struct hb_engine *e);

/* Introspection for status commands. */
const struct self_state *hbe_self(const struct hb_engine *e);
const struct self_decision *hbe_decision(const struct hb_engine *e);
const struct peer_view *hbe_peer(const struct hb_engine *e, uint32_t node_id);
const struct sdlm_hb *hbe_slot(const struct hb_engine *e, uint32_t node_id, int *rc);
const struct sdlm_msg *hbe_msg(const struct hb_engine *e, uint32_t node_id, int *rc);
/*
 * node_id's slots as last read, as fencesm's inputs: ps->hb and ps->msg
 * point into *hin and *min, or are NULL where that read failed; fenced is
 * left false (the caller's fence executor knows).
 */
void hbe_peer_slots(const struct hb_engine *e, uint32_t node_id,
		    struct peer_slots *ps, struct hb_input *hin,
		    struct msg_input *min);
const struct hbe_stats *hbe_stats(const struct hb_engine *e);
uint64_t hbe_counter(const struct hb_engine *e);
int hbe_aio_fd(const struct hb_engine *e);

/*
 * The hand-off through the disk (docs/design-handoff.md §3-5).  The
 * engine carries both areas of our own heartbeat record and keeps the
 * pure state of fence/handoff.h for them:
 *
 *	requester	hbe_requester(): the daemon's one struct ho_requester
 *			(every lockspace it fences shares it).  Each write
 *			carries ho_req_area; ho_req_written is told when
 *			that write COMPLETES within its deadline (ok) - a
 *			write that failed or missed its deadline is no proof
 *			that the entries are on the disk, so their bound B
 *			does not start from it.
 *	away node V	hbe_away(): our struct ho_away.  Each read that
 *			completed with every slot decoded goes through
 *			ho_away_read (the request entries naming our node in
 *			every other slot, the pill of the same read); its
 *			STOP and KEEP actions, and ho_away_tick's KILLs at
 *			each tick, go to ops->act.  Each write carries
 *			ho_away_answer; every grant it newly lists goes to
 *			ops->listed BEFORE the write is submitted (V3: the
 *			submission is the point of no return).
 *
 * Without hbe_set_handoff (ops NULL) nothing is held, so no request is
 * ever taken up: the answer area stays empty.  The request area is
 * whatever the caller put into hbe_requester().
 */
struct hbe_handoff_ops {
	/* V1: whether this daemon holds the grant lkid now; whether none of
	 * its caches knows lkid any more, or only as released (NULL: never;
	 * struct ho_seen). */
	bool (*held)(void *ctx, uint64_t lkid);
	bool (*gone)(void *ctx, uint64_t lkid);
	/* STOP, KEEP (a read), KILL (a tick). */
	void (*act)(void *ctx, const struct ho_away_action *a);
	/* V3: lkid is in the answer about to be submitted: never use it
	 * again. */
	void (*listed)(void *ctx, uint64_t lkid);
	void *ctx;
};
void hbe_set_handoff(struct hb_engine *e, const struct hbe_handoff_ops *ops);
struct ho_requester *hbe_requester(struct hb_engine *e);
struct ho_away *hbe_away(struct hb_engine *e);

/*
 * F1's peer view: node's heartbeat record as our last read decoded it -
 * its minor and incarnation.  0, or -ENODATA (never read, unreadable,
 * or a free slot), -EINVAL (no such slot).
 */
int hbe_peer_record(const struct hb_engine *e, uint32_t node_id,
		    uint16_t *minor, uint64_t *incarnation);

#endif
