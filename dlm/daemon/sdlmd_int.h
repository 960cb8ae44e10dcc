/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sdlmd_int.h - the private side of the daemon: struct sdlmd, its one
 * instance D, and the functions its files share.
 *
 *	sdlmd.c		the parts' setup/close pairs and main, the heartbeat, aio and
 *			watchdog glue, the lockspaces' host callbacks,
 *			quorum and membership, the degraded-mode check,
 *			signals
 *	sdlmd_status.c	the text commands: status, nodes, stats, dump,
 *			fence confirm, degraded...
 *	hoedge.c	the hand-off's edge: its host operations, between
 *			fence/handoff.c's rules and the daemon's state
 */
#ifndef SDLM_SDLMD_INT_H
#define SDLM_SDLMD_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <qb/qbloop.h>

#include "clock.h"
#include "conf.h"
#include "killset.h"
#include "ondisk.h"
#include "area.h"
#include "timeouts.h"
#include "heartbeat.h"
#include "watchdog.h"
#include "fencer.h"
#include "twonode.h"
#include "ipcreq.h"
#include "render.h"

struct sdlmd {
	struct sdlm_conf conf;
	qb_loop_t *loop;
	struct area *area;
	struct sdlm_timeouts to;
	uint32_t node_id;
	char node_name[SDLM_DISK_NAME_LEN];
	uint64_t incarnation;
	struct hb_engine *hb;
	struct wd *wd;
	qb_loop_timer_handle tick_timer, aio_timer;
	uint64_t tick_due_ms;		/* when tick_timer fires */
	bool aio_timer_armed;
	bool self_fenced;
	int self_fence_reason;
	bool locks_stopped;
	char fault_spec[128];
	uint64_t start_ms;
	int pid_fd;			/* the locked pid file (setup_pidfile) */
	char pid_path[512];
	char marker_path[600];
	bool marker_mine;		/* we wrote it: ours to remove */
	bool corosync;
	bool quorate;
	/* Is corosync still answering (quorum_probe_*, issue 13 hole 6)?
	 * probe_silent: unanswered for M, not provably quorate (corosync_stamp). */
	bool probe_on, probe_silent, probe_via_quorum;
	uint32_t probe_period_ms;
	uint64_t probe_started_ms;
	qb_loop_timer_handle probe_timer;
	uint32_t members[SDLM_MAX_NODES + 1];
	uint32_t n_members;
	uint64_t ring_seq;
	struct fencer *fencer;
	bool locks_on;
	uint32_t expected_nodes;
	uint32_t grace_ms;
	struct killset killing;		/* clients killed for a revocation */
	bool killing_lost_told;
	bool stop_pending;		/* pill: waiting for clients to die */
	struct twonode tn;		/* two-node clusters: the disk arbitrates */
	uint64_t fences[4];		/* by path: ack, dead, operator */
	uint64_t feed_last_ms;		/* the last watchdog feed */
	uint64_t feed_gap_max_ms;	/* the longest time between two feeds */
};

/* The daemon: one instance, defined in sdlmd.c (the name kept from when
 * it was static there). */
extern struct sdlmd D;

/* sdlmd.c */
bool quorate_now(void);
/* Run the tick before its time, as soon as the heartbeat engine allows
 * (hbe_early_tick_at): its write carries a hand-off answer now. */
void sdlmd_tick_soon(void);
bool host_hb_live(void *ctx, uint32_t node);
/* Kill lock users (their locks were revoked or handed off); true while
 * one killed is not reaped yet (the killset). */
void host_kill_clients(void *ctx, const uint32_t *clients, size_t n);
bool host_clients_stopping(void *ctx);
int degraded_check(uint32_t *blocker);

/* sdlmd_status.c: ipc.c's text command handler */
int text_cmd(void *ctx, const struct ipcreq *req, bool admin, struct sbuf *out);

#endif
