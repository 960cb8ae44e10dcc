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

struct area;

struct hbe_stats {
	uint64_t writes, write_fail, reads, read_fail;
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

void hbe_set_quorate(struct hb_engine *e, bool quorate);
/* corosync answered a question asked at asked_ms (self_corosync_answered). */
void hbe_corosync_answered(struct hb_engine *e, uint64_t asked_ms);
void hbe_set_member(struct hb_engine *e, uint32_t node_id, bool member, uint64_t now_ms);
void hbe_clients_stopped(struct hb_engine *e, bool stopped);
void hbe_apply_fault(struct hb_engine *e, const char *spec_or_null);

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

#endif
