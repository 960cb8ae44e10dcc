/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sdlmd - the sdlm daemon.
 *
 * Subsystems, set up in this order on one libqb main loop:
 *
 *   1. configuration (one option table: conf.c) and logging (log.c), so
 *      every later failure is reported where the operator looks;
 *   2. memory locking and real-time priority: wanted, not required (a
 *      container refuses both: warn and go on);
 *   3. the fencing area (area.c): header verified, timeouts derived and
 *      checked before anything is written; our incarnation raised above
 *      the one our slot names, or the start refused if none is
 *      (self_incarnation), before the transport or the heartbeat carry it;
 *   4. the watchdog (watchdog.c) armed BEFORE the first heartbeat: a node
 *      must never announce itself live on the disk without something that
 *      resets it if it stops;
 *   5. our slot: a live foreign incarnation on it (a duplicate node id or a
 *      cloned machine) refuses the start;
 *   6. the heartbeat engine (heartbeat.c): its interval timer, the aio
 *      eventfd and the aio deadline timer;
 *   7. the IPC server last, so clients only reach a daemon that is live.
 *
 * The fast-path transport's UDP socket (xpedge.c, when xport_port is set)
 * is opened right after the area (whose header names the cluster, part of
 * its key) and before the watchdog is armed: a key or a port it cannot
 * use refuses the start before anything is written.  It only sends once
 * the loop runs (its first echo is a timer).
 *
 * Each is a setup_* / close_* pair in the table parts[] at the end of this
 * file (the composition root): main sets them up in that order, runs the
 * loop, and closes what was set up in the reverse order, after a clean
 * stop as after a failed start.
 *
 * The fence side obeys pills: on RESET/OFF it stops all lock use, waits
 * for its I/O to drain, acknowledges in its slot and stops feeding the
 * watchdog (HBE_SELF_FENCE).  Without a watchdog (explicit no_watchdog)
 * it exits instead, loudly.
 *
 * sdlmd_status.c answers sdlmctl's text commands (status, nodes, stats,
 * dump, fence confirm, degraded...) from the state kept here (sdlmd_int.h).
 * hoedge.c is the hand-off's edge (docs/design-handoff.md): the lock
 * manager's and the heartbeat engine's hand-off operations, set up with
 * the cluster (setup_cluster), and its work before each heartbeat write
 * (tick).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <qb/qbloop.h>

#include "sdlm.h"
#include "sdlm_ipc.h"
#include "conf.h"
#include "log.h"
#include "notify.h"
#include "ipc.h"
#include "ondisk.h"
#include "area.h"
#include "aio.h"
#include "timeouts.h"
#include "fencesm.h"
#include "heartbeat.h"
#include "watchdog.h"
#include "quorum.h"
#include "fencer.h"
#include "lockspace.h"
#include "uidsvc.h"
#include "twonode.h"
#include "uid.h"
#include "xpedge.h"
#include "hoedge.h"
#include "sdlmd_int.h"

/* Exit codes of sdlmd (sdlmd(8)). */
#define SDLMD_EXIT_OK		0
#define SDLMD_EXIT_CONFIG	1	/* bad configuration or command line */
#define SDLMD_EXIT_DEVICE	2	/* the area cannot be used */
#define SDLMD_EXIT_WATCHDOG	3	/* the watchdog cannot be armed */
#define SDLMD_EXIT_SLOT		4	/* our slot is used by a live incarnation */
#define SDLMD_EXIT_RUNNING	5	/* another sdlmd runs with this ipc name */
#define SDLMD_EXIT_FENCED	6	/* self-fenced with no watchdog */
#define SDLMD_EXIT_INTERNAL	7
#define SDLMD_EXIT_INCARNATION	8	/* no incarnation above our slot's */

struct sdlmd D;

static void arm_aio_timer(void);
static void notify_ready(uint64_t now);
static void continue_alone(void);
static void corosync_stamp(void);
static void arm_tick(uint64_t due_ms);

/*
 * Clients killed because their locks were revoked: the node acknowledges
 * a pill only once every one of them is gone ("killed and reaped": they
 * are not our children, so we watch /proc until the pid is gone).
 */
static bool pid_alive(pid_t pid, void *ctx)
{
	char path[64];

	(void)ctx;
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	return access(path, F_OK) == 0;
}

static void pid_kill(pid_t pid, void *ctx)
{
	(void)ctx;
	kill(pid, SIGKILL);
}

static void clients_reap(void)
{
	killset_reap(&D.killing, pid_alive, pid_kill, NULL);
	if (D.killing.ks_lost && !D.killing_lost_told) {
		D.killing_lost_told = true;
		log_err("fence node %u: out of memory recording the lock users killed: "
			"cannot prove they are gone, so no pill is acknowledged; "
			"the watchdog resets this node instead", D.node_id);
	}
	if (D.stop_pending && killset_done(&D.killing)) {
		D.stop_pending = false;
		log_notice("fence node %u: every lock holder is gone", D.node_id);
		hbe_clients_stopped(D.hb, true);
	}
}

void host_kill_clients(void *ctx, const uint32_t *clients, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		pid_t pid;

		/* The UID service lost its mailbox locks with the rest: it
		 * must not hand out another UID from its reserved ranges. */
		if (clients[i] == UIDSVC_CLIENT) {
			uidsvc_stop_all();
			continue;
		}
		pid = ipc_client_pid(clients[i]);

		if (pid <= 1 || pid == getpid())
			continue;
		log_notice("revoking locks: killing client %u (pid %d)", clients[i], (int)pid);
		kill(pid, SIGKILL);
		if (killset_add(&D.killing, pid) < 0)
			killset_lost(&D.killing);
	}
	clients_reap();
}

/* A list of lock users to kill could not be made (out of memory). */
static void host_kill_lost(void *ctx)
{
	(void)ctx;
	killset_lost(&D.killing);
	clients_reap();
}

bool host_clients_stopping(void *ctx)
{
	(void)ctx;
	clients_reap();
	return !killset_done(&D.killing);
}

/* The fault file (tests only) is re-read every heartbeat. */
static void fault_refresh(void)
{
	const char *path = conf_str(&D.conf, OPT_FAULT_FILE);
	char spec[128] = "";
	FILE *f;

	if (!path || !path[0])
		return;
	f = fopen(path, "r");
	if (f) {
		if (!fgets(spec, sizeof(spec), f))
			spec[0] = '\0';
		fclose(f);
	}
	spec[strcspn(spec, "\r\n")] = '\0';
	if (strcmp(spec, D.fault_spec)) {
		log_warn("fault injection: '%s' (was '%s')", spec[0] ? spec : "none",
			 D.fault_spec[0] ? D.fault_spec : "none");
		snprintf(D.fault_spec, sizeof(D.fault_spec), "%s", spec);
		/* "uid SPEC" faults the UID service's record I/O only; any
		 * other spec the heartbeat's (and clears the other). */
		if (!strncmp(spec, "uid ", 4)) {
			hbe_apply_fault(D.hb, NULL);
			if (D.locks_on)
				uidsvc_apply_fault(spec + 4);
		} else {
			hbe_apply_fault(D.hb, spec[0] ? spec : NULL);
			if (D.locks_on)
				uidsvc_apply_fault(NULL);
		}
	}
}

static void feed_watchdog(void)
{
	uint64_t now;
	int rc;

	if (!D.wd || D.self_fenced)
		return;
	rc = wd_feed(D.wd);
	if (rc < 0) {
		log_warn("watchdog: feed failed: %s (the node may be unprotected)",
			 strerror(-rc));
		return;
	}
	/* The longest time between two feeds: about I while the loop keeps
	 * its turns short (docs/watchdog.md); W resets the node. */
	now = clock_boottime_ms();
	if (D.feed_last_ms && now - D.feed_last_ms > D.feed_gap_max_ms)
		D.feed_gap_max_ms = now - D.feed_last_ms;
	D.feed_last_ms = now;
}

static void tick(void *data)
{
	uint64_t now = clock_boottime_ms();
	int rc;

	fault_refresh();
	corosync_stamp();
	hoedge_tick();
	/* Before the heartbeat write: the hand-off requests the lockspace
	 * fencers decide now go out in this tick's write, not the next
	 * (an interval of every hand-off, issue 19 item 4). */
	if (D.locks_on)
		lsm_tick(now);
	hbe_tick(D.hb, now);
	if (D.fencer)
		fencer_tick(D.fencer, now);
	if (twonode_tick(&D.tn, D.hb, D.fencer, &D.to, D.grace_ms, D.quorate, D.n_members, now))
		continue_alone();
	if (D.locks_on) {
		uidsvc_tick();
		if (uidsvc_degraded(&rc) && !rc) {
			uint32_t blocker;

			rc = degraded_check(&blocker);
			if (rc)
				uidsvc_degraded_suspend(rc, blocker);
		}
	}
	clients_reap();
	if (hbe_feed_ok(D.hb))
		feed_watchdog();
	notify_ready(now);
	arm_aio_timer();
	arm_tick(clock_boottime_ms() + D.to.base.hb_interval_ms);
}

/*
 * The next tick at due_ms (the cadence restarts from each tick), in
 * *th.  Returns 0 or what qb_loop_timer_add returned (out of memory):
 * then no tick is armed, no heartbeat goes out and the watchdog resets
 * the node - said loudly.
 */
static int arm_tick_at(uint64_t due_ms, qb_loop_timer_handle *th)
{
	uint64_t now = clock_boottime_ms();
	int rc;

	rc = qb_loop_timer_add(D.loop, QB_LOOP_HIGH,
			       (due_ms > now ? due_ms - now : 0) * QB_TIME_NS_IN_MSEC,
			       NULL, tick, th);
	if (rc)
		log_err("fence node %u: cannot arm the next tick (%s): no heartbeat will go out",
			D.node_id, strerror(-rc));
	return rc;
}

static void arm_tick(uint64_t due_ms)
{
	if (arm_tick_at(due_ms, &D.tick_timer) == 0)
		D.tick_due_ms = due_ms;
}

void sdlmd_tick_soon(void)
{
	uint64_t at = hbe_early_tick_at(D.hb);
	qb_loop_timer_handle th;

	if (at >= D.tick_due_ms || !qb_loop_timer_is_running(D.loop, D.tick_timer))
		return;
	/* The new one first: the old stays armed if it cannot be added
	 * (review s28-revearly O1). */
	if (arm_tick_at(at, &th))
		return;
	qb_loop_timer_del(D.loop, D.tick_timer);
	D.tick_timer = th;
	D.tick_due_ms = at;
	log_debug("hand-off: the tick before its time, in %lld ms",
		  (long long)at - (long long)clock_boottime_ms());
}

static void aio_timer_fire(void *data)
{
	D.aio_timer_armed = false;
	corosync_stamp();
	hbe_process(D.hb, clock_boottime_ms());
	if (D.locks_on)
		uidsvc_process();
	arm_aio_timer();
}

/*
 * One timer for both aio contexts (the heartbeat's and the UID
 * service's): the earlier deadline.  The UID service's "now" (work left
 * for the next turn) fires after the events already pending, the
 * heartbeat's and the watchdog's among them.
 */
static void arm_aio_timer(void)
{
	uint64_t dl = hbe_next_deadline_ms(D.hb), now = clock_boottime_ms();

	if (D.locks_on) {
		uint64_t u = uidsvc_next_deadline_ns();

		if (u != UINT64_MAX && (u ? u / 1000000 + 1 : 0) < dl)
			dl = u ? u / 1000000 + 1 : 0;
	}

	if (D.aio_timer_armed) {
		qb_loop_timer_del(D.loop, D.aio_timer);
		D.aio_timer_armed = false;
	}
	if (dl == UINT64_MAX)
		return;
	qb_loop_timer_add(D.loop, QB_LOOP_HIGH,
			  (dl > now ? dl - now : 0) * QB_TIME_NS_IN_MSEC + 1,
			  NULL, aio_timer_fire, &D.aio_timer);
	D.aio_timer_armed = true;
}

static int32_t aio_ready(int32_t fd, int32_t revents, void *data)
{
	corosync_stamp();
	hbe_process(D.hb, clock_boottime_ms());
	arm_aio_timer();
	return 0;
}

static int32_t uid_aio_ready(int32_t fd, int32_t revents, void *data)
{
	uidsvc_process();
	arm_aio_timer();
	return 0;
}

static void host_uid_kick(void *ctx)
{
	(void)ctx;
	arm_aio_timer();
}

/*
 * No heartbeat write completed within L of the first one (review
 * s24-review2 F5): a disk that reads and refuses writes (a reservation
 * held by another host, a thin LUN out of space, a write-protected path).
 * This incarnation never held a lease, so it never used a lock or a UID,
 * and its fence is sticky (fencesm.h, exit_never_held): the process ends,
 * its watchdog disarmed, as for an area that does not read - not a reset,
 * which with sdlmd started at boot would be a reboot loop.
 */
static void never_held_exit(void)
{
	const struct hbe_stats *st = hbe_stats(D.hb);
	int err = st->last_write_err;

	log_err("fence node %u: the disk took no heartbeat write in %u ms since start "
		"(%llu written, %llu failed; last error: %s): this node never held a lease "
		"and used no lock; exiting with the watchdog disarmed instead of a reset. "
		"Check that %s takes writes from this host (a SCSI reservation of another "
		"host, a full thin LUN, a read-only path)",
		D.node_id, D.to.lease_ms, (unsigned long long)st->writes,
		(unsigned long long)st->write_fail, err ? sdlm_strerror(err) : "unknown",
		conf_str(&D.conf, OPT_DEVICE));
	lsm_self_fenced();
	if (D.wd) {
		wd_close_magic(D.wd);
		D.wd = NULL;
	}
	/* The marker says a reset is on its way for lock users this
	 * incarnation may have left (setup_marker): it used none, and no
	 * reset is coming - left, it made the next start wait for one for
	 * ever (review s26-rev-lapse R2). */
	if (D.marker_mine)
		unlink(D.marker_path);
	exit(SDLMD_EXIT_DEVICE);
}

static void hb_event(void *ctx, int what, int reason)
{
	switch (what) {
	case HBE_STOP_LOCKS:
		log_notice("fence node %u: %s: stopping all lock use", D.node_id,
			   sdlm_strerror(reason));
		D.locks_stopped = true;
		D.stop_pending = true;
		if (D.locks_on) {
			uidsvc_stop_all();
			lsm_stop_all(reason);
		}
		clients_reap();
		break;
	case HBE_DUPWRITER:
		log_err("fence node %u: another incarnation writes our slot (duplicate node id or cloned machine): no lock use",
			D.node_id);
		break;
	case HBE_ACK_WAIT:
		log_notice("fence node %u: pill read and lock users stopped; the acknowledgement waits for "
			   "%d I/O request(s) still in flight (a UID record write may still land)",
			   D.node_id, reason);
		break;
	case HBE_CLOCK_MISSED:
		log_warn("fence node %u: peers' heartbeats advanced at least %d ms more than our clock "
			 "(a VM pause?): lease lapsed, no lock use until renewed and our pill slot re-read",
			 D.node_id, reason);
		break;
	case HBE_HO_SLOT_BAD:
		hoedge_slot_bad(reason);
		break;
	case HBE_READ:
		if (D.fencer)
			fencer_on_read(D.fencer, clock_boottime_ms());
		hoedge_read(clock_boottime_ms());
		break;
	case HBE_SELF_FENCE:
		D.self_fenced = true;
		D.self_fence_reason = reason;
		if (D.hb && hbe_decision(D.hb)->exit_never_held) {
			never_held_exit();
			break;
		}
		/* Logged first: leaving the groups asks corosync, which may be
		 * the part that hung (issue 13, hole 6). */
		if (D.wd && wd_kind(D.wd) != WD_KIND_NONE) {
			log_notice("fence node %u: self-fencing (%s): watchdog no longer fed, reset within %u s",
				   D.node_id, sdlm_strerror(reason), wd_timeout_s(D.wd));
			lsm_self_fenced();
		} else {
			log_err("fence node %u: self-fencing (%s) with NO watchdog: exiting",
				D.node_id, sdlm_strerror(reason));
			lsm_self_fenced();
			/* Let the acknowledgement reach the disk first. */
			exit(SDLMD_EXIT_FENCED);
		}
		break;
	}
}

static int host_may_use(void *ctx)
{
	return hbe_may_use_locks(D.hb, clock_boottime_ms());
}

bool host_hb_live(void *ctx, uint32_t node)
{
	const struct peer_view *pv = hbe_peer(D.hb, node);

	return pv && peer_state(pv, clock_boottime_ms(), &D.to) == PEER_LIVE;
}

/*
 * A node's slots as our last read saw them, and whether our fence
 * executor fenced the incarnation in them: the facts fencesm's peer
 * verdicts (peer_pill_pending, peer_cold_ok, peer_seen) decide from.
 */
static void node_slots(uint32_t node, struct peer_slots *ps,
		       struct hb_input *hin, struct msg_input *min)
{
	hbe_peer_slots(D.hb, node, ps, hin, min);
	ps->fenced = ps->hb && D.fencer &&
		     fencer_is_fenced(D.fencer, node, ps->hb->incarnation);
}

static bool host_pill_pending(void *ctx, uint32_t node)
{
	struct peer_slots ps;
	struct hb_input hin;
	struct msg_input min;

	node_slots(node, &ps, &hin, &min);
	return peer_pill_pending(&ps);
}

static bool host_cold_ok(void *ctx, uint32_t node)
{
	struct peer_slots ps;
	struct hb_input hin;
	struct msg_input min;

	node_slots(node, &ps, &hin, &min);
	return peer_cold_ok(&ps, hbe_peer(D.hb, node), clock_boottime_ms(), &D.to);
}

/*
 * The cluster's replica records this incarnation as fenced (we came back
 * from a freeze the others outlived): as after a pill, every lock use
 * stops and the watchdog is no longer fed; only a restart rejoins.
 */
static void host_fenced_self(void *ctx)
{
	if (D.self_fenced)
		return;
	log_err("fence node %u: the cluster fenced this incarnation %016llx: stopping all lock use and self-fencing",
		D.node_id, (unsigned long long)D.incarnation);
	D.locks_stopped = true;
	if (D.locks_on) {
		uidsvc_stop_all();
		lsm_stop_all(SDLM_EFENCED);
	}
	clients_reap();
	hb_event(NULL, HBE_SELF_FENCE, SDLM_EFENCED);
}

/* Our fence executor fenced node's current incarnation (its slot's). */
static bool host_inc_fenced(void *ctx, uint32_t node)
{
	const struct sdlm_hb *hb;
	int hrc = -ENODATA;

	if (!D.fencer || node > D.area->hdr.num_nodes)
		return false;
	hb = hbe_slot(D.hb, node, &hrc);
	return !hrc && hb && hb->state != HB_FREE &&
	       fencer_is_fenced(D.fencer, node, hb->incarnation);
}

static bool host_is_fenced(void *ctx)
{
	return D.self_fenced;
}

static uint64_t host_node_inc(void *ctx, uint32_t node)
{
	const struct sdlm_hb *hb;
	int hrc = -ENODATA;

	if (!D.hb || node > D.area->hdr.num_nodes)
		return 0;
	hb = hbe_slot(D.hb, node, &hrc);
	return !hrc && hb && hb->state != HB_FREE ? hb->incarnation : 0;
}

/* The heartbeat engine has read the area's slots once: our own reads back
 * valid (it is -ENODATA until the first read completes). */
static bool host_slots_read(void *ctx)
{
	int hrc = -ENODATA;

	(void)ctx;
	return D.hb && hbe_slot(D.hb, D.node_id, &hrc) && hrc == 0;
}

static int host_fence(void *ctx, uint32_t node)
{
	static uint64_t nowd_told[SDLM_MAX_NODES + 1];	/* incarnation told */
	const struct peer_view *pv = hbe_peer(D.hb, node);
	int rc = fencer_request(D.fencer, node, clock_boottime_ms());

	if (rc == 0 && pv && pv->pv_no_watchdog && node <= SDLM_MAX_NODES &&
	    nowd_told[node] != pv->pv_incarnation) {
		nowd_told[node] = pv->pv_incarnation;
		log_warn("fence node %u: it runs with no watchdog (no_watchdog = yes), so it is never dead "
			 "by time: waiting for its acknowledgement of the pill, or an operator "
			 "(sdlmctl fence confirm %u once the machine is known to be off)", node, node);
	}
	if (rc == -EDQUOT)
		log_warn("fence node %u: refused by the rate limit: confirm by hand (sdlmctl fence confirm %u)",
			 node, node);
	return rc;
}

static void host_fence_cancel(void *ctx, uint32_t node)
{
	fencer_cancel(D.fencer, node);
}

static void host_ast(void *ctx, uint32_t client, uint64_t lkid, uint64_t ref,
		     int err, int mode, const uint8_t *lvb, bool lvb_valid, uint64_t epoch)
{
	if (client == UIDSVC_CLIENT)
		uidsvc_ast(lkid, ref, err, mode, lvb, lvb_valid, epoch);
	else
		ipc_send_ast(client, lkid, ref, err, mode, lvb, lvb_valid);
}

static void host_bast(void *ctx, uint32_t client, uint64_t lkid, uint64_t ref, int mode)
{
	if (client == UIDSVC_CLIENT)
		uidsvc_bast(lkid, ref, mode);
	else
		ipc_send_bast(client, lkid, ref, mode);
}

static void host_uid_reply(void *ctx, uint32_t client, uint32_t seq, int err,
			   const struct res_uid *res)
{
	ipc_uid_reply(client, seq, err, res);
}

static void fence_done(void *ctx, uint32_t victim, uint64_t inc, int path)
{
	if (path >= 1 && path <= 3)
		D.fences[path]++;
	log_notice("fence node %u: fenced (%s), incarnation %016llx", victim,
		   path == FENCER_PATH_ACK ? "acknowledged the pill" :
		   path == FENCER_PATH_DEAD ? "dead by heartbeat timeout" : "confirmed by an operator",
		   (unsigned long long)inc);
	if (twonode_fenced(&D.tn, victim, D.quorate, D.n_members))
		continue_alone();
	if (D.locks_on)
		lsm_fenced(victim, inc);
}

/* fencesm's verdict is what uid_degraded_allowed reads, value for value. */
_Static_assert((int)PEER_SEEN_STOPPED == (int)UID_PEER_STOPPED &&
	       (int)PEER_SEEN_VISIBLE == (int)UID_PEER_VISIBLE &&
	       (int)PEER_SEEN_UNREAD == (int)UID_PEER_UNREAD,
	       "enum peer_seen and UID_PEER_* must agree");

/*
 * Degraded operation (docs/uid.md): allowed only for a node alone on its
 * copy of the disk, outside any quorate membership.  What our reads say
 * about another node's slot is fencesm's peer_seen.
 */
static uint8_t node_seen(uint32_t i)
{
	struct peer_slots ps;
	struct hb_input hin;
	struct msg_input min;

	node_slots(i, &ps, &hin, &min);
	return (uint8_t)peer_seen(&ps, hbe_peer(D.hb, i), clock_boottime_ms(), &D.to);
}

/* Returns 0, SDLM_EQUORATE or SDLM_EPEERLIVE (*blocker); see uid.h. */
int degraded_check(uint32_t *blocker)
{
	uint8_t seen[SDLM_MAX_NODES + 1] = { 0 };
	uint32_t i;

	for (i = 1; i <= D.area->hdr.num_nodes; i++)
		if (i != D.node_id)
			seen[i] = node_seen(i);
	return uid_degraded_allowed(quorate_now(), seen, D.area->hdr.num_nodes,
				    D.node_id, blocker);
}

bool quorate_now(void)
{
	return twonode_quorate(&D.tn, D.quorate, D.n_members);
}

/*
 * When corosync last answered (issue 13, hole 6): the ask time of the
 * newest question the probe thread got an answer to, or the probe's start
 * before the first answer (corosync answered our setup just before).
 */
static uint64_t corosync_asked(void)
{
	uint64_t asked = quorum_probe_asked();

	return asked > D.probe_started_ms ? asked : D.probe_started_ms;
}

/*
 * Tell the fence side, right before it decides, when corosync last
 * answered (self_corosync_answered): what the node believes about quorum,
 * for the log and status; since issue 19 the self-fence rule does not
 * read it.  The log says when corosync falls silent.
 */
static void corosync_stamp(void)
{
	uint64_t now = clock_boottime_ms(), asked;
	bool silent;

	if (!D.probe_on)
		return;
	asked = corosync_asked();
	hbe_corosync_answered(D.hb, asked);
	silent = now > asked && now - asked > D.to.base.membership_ms;
	if (silent != D.probe_silent) {
		if (silent)
			log_err("corosync: no answer for %llu ms (limit M = %u ms): not provably quorate "
				"(a diagnosis: this node fences itself on a lapsed lease, quorate or not)",
				(unsigned long long)(now - asked), D.to.base.membership_ms);
		else
			log_notice("corosync: answering again");
		D.probe_silent = silent;
	}
}

/* Every probe period: log when corosync answers slowly (half of M or
 * more), falls silent or answers again. */
static void probe_check(void *data)
{
	uint64_t slowest;
	bool via_quorum;
	uint32_t refused, reconnects;

	(void)data;
	quorum_probe_stats(&slowest, &refused, &reconnects, &via_quorum);
	if (via_quorum != D.probe_via_quorum) {
		D.probe_via_quorum = via_quorum;
		if (via_quorum)
			log_warn("corosync: votequorum not loaded: asking the quorum service, which "
				 "answers nothing while corosync synchronises a membership");
	}
	if (slowest >= D.to.base.membership_ms / 2)
		log_warn("corosync: took %llu ms to answer (after %u ms without an answer "
			 "this node reports corosync as not answering)",
			 (unsigned long long)slowest, D.to.base.membership_ms);
	if (refused || reconnects)
		log_debug("corosync: probe: %u questions refused, %u failed connections",
			  refused, reconnects);
	corosync_stamp();
	qb_loop_timer_add(D.loop, QB_LOOP_HIGH, (uint64_t)D.probe_period_ms * QB_TIME_NS_IN_MSEC,
			  NULL, probe_check, &D.probe_timer);
}

/* Start the probe: a question every P = M / 8 (at least 50 ms). */
static void probe_start(void)
{
	uint32_t m = D.to.base.membership_ms;
	int rc;

	D.probe_period_ms = m / 8 > 50 ? m / 8 : 50;
	D.probe_started_ms = clock_boottime_ms();
	rc = quorum_probe_start(D.probe_period_ms, D.node_id);
	if (rc < 0) {
		log_err("corosync: cannot start the thread that checks corosync answers: %s "
			"(a hung corosync will not be noticed)", strerror(-rc));
		return;
	}
	D.probe_on = true;
	log_info("corosync: asked every %u ms whether it answers; unanswered for "
		 "M = %u ms is reported as not answering", D.probe_period_ms, m);
	probe_check(NULL);
}

static bool host_alone_quorate(void *ctx)
{
	return twonode_won(&D.tn);
}

/* Two-node arbitration won: this node continues alone, quorate. */
static void continue_alone(void)
{
	hbe_set_quorate(D.hb, true);
	if (D.locks_on)
		lsm_requorum();
}

/* Push corosync's view into the fence side: quorum and peer membership. */
static void membership_apply(void)
{
	uint64_t now = clock_boottime_ms();
	uint32_t i, j;

	if (!D.hb)
		return;
	twonode_membership(&D.tn, D.n_members, now);
	hbe_set_quorate(D.hb, quorate_now());
	for (i = 1; i <= D.area->hdr.num_nodes; i++) {
		bool member = false;

		for (j = 0; j < D.n_members; j++)
			if (D.members[j] == i)
				member = true;
		if (i != D.node_id)
			hbe_set_member(D.hb, i, member, now);
	}
}

static void on_quorum(void *ctx, bool quorate, uint64_t ring_seq, uint32_t n,
		      const uint32_t *members)
{
	uint32_t i;

	log_debug("corosync: quorum callback: %s, ring %llu, %u members",
		  quorate ? "quorate" : "NOT quorate", (unsigned long long)ring_seq, n);
	if (quorate != D.quorate)
		log_notice("corosync: this node is %s (ring %llu, %u members)",
			   quorate ? "quorate" : "NOT quorate",
			   (unsigned long long)ring_seq, n);
	D.quorate = quorate;
	D.ring_seq = ring_seq;
	if (D.locks_on) {
		uint32_t nodes = 0, tok, cons;

		quorum_cluster_facts(&nodes, &tok, &cons);
		if (nodes && nodes != D.expected_nodes) {
			D.expected_nodes = nodes;
			lsm_set_expected(nodes);
		}
	}
	D.n_members = n > SDLM_MAX_NODES ? SDLM_MAX_NODES : n;
	for (i = 0; i < D.n_members; i++)
		D.members[i] = members[i];
	membership_apply();
}

/*
 * Clean stop.  With the lock manager on: the UID service's writes are
 * over (uid_quiet_check), every local lock user is stopped and no new
 * lock use accepted (lsm_stop_users), every killed user is gone
 * (users_gone_check), and only then is every cluster lock of this node
 * released through the ordered stream (nobody must wait for a daemon
 * that left); the loop goes on until the releases are applied, at most
 * a few seconds, then stops.  Leaving with releases not yet applied is
 * safe: nothing of this node can use those locks any more, and the
 * others fence it (the dead path) before they grant them.
 */
static void stop_check(void *data)
{
	uint64_t started = (uint64_t)(uintptr_t)data;

	if (lsm_own_locks() == 0 || clock_boottime_ms() - started > 5000) {
		if (lsm_own_locks())
			log_warn("leaving with %zu lock(s) not released yet: the other nodes fence this node before granting them",
				 lsm_own_locks());
		qb_loop_stop(D.loop);
		return;
	}
	qb_loop_timer_add(D.loop, QB_LOOP_HIGH, 50 * QB_TIME_NS_IN_MSEC, data, stop_check,
			  NULL);
}

/*
 * Before the release: every lock user we killed is gone, killed AND
 * reaped, as before a pill's acknowledgement.  SIGKILL ends a process
 * only when it leaves the kernel: one in the middle of a write is still
 * there, and a release now would let another node's user write beside
 * it.  Past 3 T one is still there: the locks are not released, the slot
 * is not marked free and the watchdog stays armed (exit 6), so that the
 * others fence this node and its watchdog resets the machine.
 */
static void users_gone_check(void *data)
{
	static bool told;
	uint64_t started = (uint64_t)(uintptr_t)data;
	uint64_t bound = 3ull * D.to.base.io_timeout_ms;

	clients_reap();
	if (killset_done(&D.killing)) {
		lsm_release_own();
		stop_check((void *)(uintptr_t)clock_boottime_ms());
		return;
	}
	if (clock_boottime_ms() - started > bound) {
		log_err("fence node %u: %s %llu ms after the stop: leaving WITHOUT releasing the locks; the other nodes fence this node",
			D.node_id, D.killing.ks_lost ? "the lock users killed could not all be recorded" :
			"a lock user killed is still there", (unsigned long long)bound);
		D.self_fenced = true;
		qb_loop_stop(D.loop);
		return;
	}
	if (!told) {
		told = true;
		log_notice("stopping: the locks are released once every lock user killed is gone (%zu still there)",
			   D.killing.ks_n);
	}
	qb_loop_timer_add(D.loop, QB_LOOP_HIGH, 20 * QB_TIME_NS_IN_MSEC, data, users_gone_check,
			  NULL);
}

/*
 * Before the lock users are stopped: the UID service's record writes must
 * be over (docs/uid.md, "Leaving").  Its operations end at their current
 * I/O; a write that timed out leaves the kernel when the device gives it
 * back.  Past 3 T it is still there: the locks are not released (a write
 * of ours could land under another node's hold), the slot is not marked
 * free and the watchdog stays armed, so that the others fence this node.
 */
static void uid_quiet_check(void *data)
{
	uint64_t started = (uint64_t)(uintptr_t)data;
	uint64_t bound = 3ull * D.to.base.io_timeout_ms;

	if (uidsvc_quiet()) {
		lsm_stop_users();
		users_gone_check((void *)(uintptr_t)clock_boottime_ms());
		return;
	}
	if (clock_boottime_ms() - started > bound) {
		log_err("fence node %u: a UID record write is still in the kernel %llu ms after the stop: leaving WITHOUT releasing the locks; the other nodes fence this node",
			D.node_id, (unsigned long long)bound);
		D.self_fenced = true;
		qb_loop_stop(D.loop);
		return;
	}
	qb_loop_timer_add(D.loop, QB_LOOP_HIGH, 20 * QB_TIME_NS_IN_MSEC, data, uid_quiet_check,
			  NULL);
}

/*
 * systemd (Type=notify): READY=1 once, the first time this node is
 * fenced-safe (what `sdlmctl status` calls it), so that pacemaker.service,
 * ordered after sdlmd.service, starts only on a node that may use locks.
 */
static void notify_ready(uint64_t now)
{
	static bool sent;
	int rc;

	if (sent || D.self_fenced || D.locks_stopped || hbe_may_use_locks(D.hb, now) != 0)
		return;
	sent = true;
	rc = notify_send("READY=1\nSTATUS=fenced-safe");
	if (rc < 0)
		log_warn("systemd notify socket %s: %s", getenv("NOTIFY_SOCKET"), strerror(-rc));
}

/* logrotate's postrotate: `systemctl kill -s HUP sdlmd` (conf/sdlmd.logrotate). */
static int32_t sig_hup(int32_t sig, void *data)
{
	log_notice("SIGHUP: reopening the log file");
	log_reopen();	/* the log writer says how it went */
	return 0;
}

/* Signals whose default action would end the daemon (and have the armed
 * watchdog reset the node) but that nobody should send on purpose. */
static int32_t sig_ignored(int32_t sig, void *data)
{
	log_notice("signal %d (%s) ignored: sdlmd stops on SIGTERM or SIGINT",
		   sig, strsignal(sig));
	return 0;
}

static int32_t sig_term(int32_t sig, void *data)
{
	static bool stopping;

	if (stopping)
		return 0;
	stopping = true;
	log_notice("signal %d: leaving", sig);
	notify_send("STOPPING=1");
	if (!D.locks_on) {
		qb_loop_stop(D.loop);
		return 0;
	}
	uidsvc_leave();
	uid_quiet_check((void *)(uintptr_t)clock_boottime_ms());
	return 0;
}

/* ---- the composition root --------------------------------------------
 *
 * sdlmd is the list of parts below: each a setup_* and the close_* that
 * undoes it.  main sets them up in the table's order (the header comment
 * says why that order), runs the loop, and closes every part that was set
 * up in the reverse order, after a clean stop as after a failed setup.  A
 * setup that fails undoes what it did itself and returns the exit code
 * (sdlmd(8)); its close is not called.  The order of the closes is the
 * clean stop's:
 *
 *	ipc		clients are gone first
 *	cluster		the UID service, the lockspaces (their CPG groups)
 *			and corosync are let go before the slot is freed
 *	fencer
 *	heartbeat	the slot is marked free (after a clean stop, not
 *			self-fenced), then the engine goes
 *	watchdog	disarmed (magic close) only after the slot is free;
 *			left armed when self-fenced
 *	xport		the fast-path socket (nothing depends on it yet)
 *	area
 *	marker		removed unless self-fenced (the node is being reset)
 *	pidfile, corosync, log ("sdlmd exiting (rc)"), conf
 */

/* A setup that ends the run with exit 0 (--help, --version...). */
#define SDLMD_DONE	(-1)

/* What one setup hands to a later one, and the run's outcome. */
static struct {
	int argc;
	char **argv;
	struct ipc_policy ipol;		/* conf -> ipc */
	struct sdlm_timeouts_base base;	/* area -> cluster */
	bool ran;			/* the loop ran and stopped */
	bool live;			/* setup_live ran: the first heartbeat
					   (ALIVE) may be on the disk */
	uint64_t inc_wall_ms;		/* identity -> incarnation: the */
	uint32_t inc_rnd;		/* clock and random bits drawn */
	int exit_code;
} start;

static void usage_error(const char *err)
{
	fprintf(stderr, "sdlmd: %s\n(sdlmd --help for the options)\n", err);
}

/* client_group, admin_group (resolved to gids) and the per-connection
 * caps; returns 0 or -ENOENT with err set. */
static int ipc_policy_from_conf(const struct sdlm_conf *cf, struct ipc_policy *p,
				char *err, size_t errlen)
{
	const char *cg = conf_str(cf, OPT_CLIENT_GROUP), *ag = conf_str(cf, OPT_ADMIN_GROUP);
	char why[256];

	memset(p, 0, sizeof(*p));
	if (cg[0]) {
		if (access_group_resolve(cg, &p->access.client_gid, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "client_group: %s", why);
			return -ENOENT;
		}
		p->access.client_set = true;
	}
	if (ag[0]) {
		if (access_group_resolve(ag, &p->access.admin_gid, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "admin_group: %s", why);
			return -ENOENT;
		}
		p->access.admin_set = true;
	}
	p->max_locks = conf_uint(cf, OPT_MAX_LOCKS_PER_CLIENT);
	p->max_requests = conf_uint(cf, OPT_MAX_REQUESTS_PER_CLIENT);
	p->max_conns = conf_uint(cf, OPT_MAX_CONNECTIONS_PER_USER);
	return 0;
}

/* The command line and sdlm.conf; --help, --version and --dump-config
 * answer here.  Group names become ids now, once: the loop never asks NSS. */
static int setup_conf(void)
{
	char err[512];
	int first, rc;

	conf_defaults(&D.conf);
	rc = conf_parse_args(&D.conf, start.argc, start.argv, CONF_DAEMON, &first, err, sizeof(err));
	if (rc < 0) {
		usage_error(err);
		return SDLMD_EXIT_CONFIG;
	}
	if (conf_bool(&D.conf, OPT_VERSION)) {
		printf("sdlmd (sdlm) %s\n", PACKAGE_VERSION);
		return SDLMD_DONE;
	}
	if (conf_bool(&D.conf, OPT_HELP)) {
		conf_help(stdout, CONF_DAEMON, "sdlmd");
		return SDLMD_DONE;
	}
	if (conf_bool(&D.conf, OPT_DUMP_CONFIG)) {
		conf_dump(stdout, &D.conf, CONF_DAEMON, false);
		return SDLMD_DONE;
	}
	if (first < start.argc) {
		snprintf(err, sizeof(err), "unexpected argument '%s'", start.argv[first]);
		usage_error(err);
		return SDLMD_EXIT_CONFIG;
	}
	if (!conf_str(&D.conf, OPT_DEVICE)[0]) {
		usage_error("no device: set 'device' in sdlm.conf or give -d DEV");
		return SDLMD_EXIT_CONFIG;
	}
	D.node_id = conf_uint(&D.conf, OPT_NODE_ID);
	D.corosync = conf_bool(&D.conf, OPT_COROSYNC);
	if (!D.corosync && D.node_id == 0) {
		usage_error("node_id is required when corosync = no (-n ID)");
		return SDLMD_EXIT_CONFIG;
	}
	if (ipc_policy_from_conf(&D.conf, &start.ipol, err, sizeof(err)) < 0) {
		usage_error(err);
		return SDLMD_EXIT_CONFIG;
	}
	return 0;
}

static void close_conf(void)
{
	conf_free(&D.conf);
}

/* Detach (unless foreground), then the log: every later failure is
 * reported where the operator looks. */
static int setup_log(void)
{
	struct log_setup lsu;
	int rc, lvl;

	lvl = log_level_parse(conf_str(&D.conf, OPT_LOG_LEVEL));
	lsu = (struct log_setup) {
		.ident = "sdlmd",
		.file = conf_str(&D.conf, OPT_LOG_FILE),
		.syslog = conf_bool(&D.conf, OPT_LOG_SYSLOG),
		.to_stderr = conf_bool(&D.conf, OPT_FOREGROUND),
		.journal = log_stderr_is_journal(),
		.level = lvl < 0 ? LOG_INFO : lvl,
		.ring_size = conf_uint(&D.conf, OPT_DEBUG_RING_SIZE),
	};
	if (!conf_bool(&D.conf, OPT_FOREGROUND) && daemon(0, 0) < 0) {
		fprintf(stderr, "sdlmd: daemon(): %s\n", strerror(errno));
		return SDLMD_EXIT_INTERNAL;
	}
	rc = log_init(&lsu);
	if (rc < 0) {
		fprintf(stderr, "sdlmd: log file %s: %s\n", lsu.file, strerror(-rc));
		return SDLMD_EXIT_CONFIG;
	}
	return 0;
}

static void close_log(void)
{
	log_notice("sdlmd exiting (%d)", start.exit_code);
	log_fini();
}

/* Who this daemon is: its name and incarnation. */
static int setup_identity(void)
{
	uint32_t r = 0;

	sigset_t stop;

	/* Until the main loop handles them (sdlmd.8, SIGNALS). */
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	/*
	 * A stop asked for during the start waits for the loop (setup_signals
	 * unblocks it): from setup_marker on, the default action would leave
	 * the marker, and from setup_watchdog on an armed watchdog that
	 * nothing feeds - the node reset for a systemctl restart (review
	 * s25-rev2 R3).  SIGKILL still ends a start that hangs, and then the
	 * reset is right.
	 */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	D.start_ms = clock_boottime_ms();
	snprintf(D.node_name, sizeof(D.node_name), "%s", conf_str(&D.conf, OPT_NODE_NAME));
	if (!D.node_name[0])
		gethostname(D.node_name, sizeof(D.node_name) - 1);
	/*
	 * Incarnations grow across restarts (self_incarnation, fencesm.h):
	 * wall-clock milliseconds in the high bits, 20 random bits below so
	 * two starts in one millisecond (cloned machines) still differ.
	 * This one, from the clock alone, names the start until the area is
	 * read: setup_incarnation raises it above our slot's.
	 */
	start.inc_wall_ms = clock_realtime_ms();
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)getpid() ^ (uint32_t)clock_boottime_ns();
	start.inc_rnd = r;
	self_incarnation(start.inc_wall_ms, r, 0, &D.incarnation);
	log_notice("sdlmd %s starting: node %u (%s), incarnation %016llx",
		   PACKAGE_VERSION, D.node_id, D.node_name, (unsigned long long)D.incarnation);
	return 0;
}

/* The one libqb main loop; it lives until the process exits. */
static int setup_loop(void)
{
	D.loop = qb_loop_create();
	return D.loop ? 0 : SDLMD_EXIT_INTERNAL;
}

/* corosync's quorum service: our node id and the cluster's name. */
static int setup_corosync(void)
{
	char cs_cluster[SDLM_DISK_NAME_LEN] = "", err[512];
	const char *why = NULL;
	uint32_t cs_node = 0;
	int rc;

	if (!D.corosync)
		return 0;
	rc = quorum_setup(D.loop, on_quorum, NULL, &cs_node, cs_cluster,
			  sizeof(cs_cluster), &why);
	if (rc < 0) {
		log_err("corosync: %s: %s", why, strerror(-rc));
		fprintf(stderr, "sdlmd: corosync: %s: %s (use --corosync=no for the disk-only mode)\n",
			why, strerror(-rc));
		return SDLMD_EXIT_CONFIG;
	}
	if (D.node_id && D.node_id != cs_node) {
		log_err("node_id %u is configured but corosync says this node is %u",
			D.node_id, cs_node);
		quorum_close();
		return SDLMD_EXIT_CONFIG;
	}
	D.node_id = cs_node;
	if (!conf_str(&D.conf, OPT_CLUSTER_NAME)[0] && cs_cluster[0])
		conf_set(&D.conf, OPT_CLUSTER_NAME, cs_cluster, CONF_SRC_DEFAULT, err, sizeof(err));
	log_info("corosync: node id %u, cluster '%s'", D.node_id, cs_cluster);
	return 0;
}

static void close_corosync(void)
{
	quorum_close();
}

/* The pid file, locked: one sdlmd per ipc name.  A refused start leaves
 * the running daemon's pid file alone. */
static int setup_pidfile(void)
{
	const char *dir = conf_str(&D.conf, OPT_RUN_DIR);
	char buf[32];
	int n;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		log_err("run dir %s: %s", dir, strerror(errno));
		return SDLMD_EXIT_RUNNING;
	}
	snprintf(D.pid_path, sizeof(D.pid_path), "%s/sdlmd-%s.pid", dir,
		 conf_str(&D.conf, OPT_IPC_NAME));
	D.pid_fd = open(D.pid_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (D.pid_fd < 0) {
		log_err("pid file %s: %s", D.pid_path, strerror(errno));
		return SDLMD_EXIT_RUNNING;
	}
	if (flock(D.pid_fd, LOCK_EX | LOCK_NB) < 0) {
		log_err("pid file %s is locked: another sdlmd runs with ipc name '%s'",
			D.pid_path, conf_str(&D.conf, OPT_IPC_NAME));
		close(D.pid_fd);
		D.pid_fd = -1;
		return SDLMD_EXIT_RUNNING;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(D.pid_fd, 0) < 0 || write(D.pid_fd, buf, (size_t)n) != n)
		log_warn("pid file %s: cannot write", D.pid_path);
	return 0;
}

static void close_pidfile(void)
{
	unlink(D.pid_path);
	close(D.pid_fd);
	D.pid_fd = -1;
}

/*
 * A restarted sdlmd whose previous incarnation (of this boot: the run dir
 * is a tmpfs, emptied at boot) did not exit cleanly may leave clients that
 * still use that incarnation's locks; the lock manager releases them only
 * once that incarnation is fenced.  The unclean exit stopped the watchdog
 * feed, so the node's reset is on its way: this daemon must not feed it
 * again.  Refuse, unless the operator says every lock user is gone.
 * The marker holds the incarnation; a clean exit removes it.
 */
static int setup_marker(void)
{
	char path[600];
	FILE *f;
	unsigned long long prev = 0;

	snprintf(D.marker_path, sizeof(D.marker_path), "%s/sdlmd-%s.running",
		 conf_str(&D.conf, OPT_RUN_DIR), conf_str(&D.conf, OPT_IPC_NAME));
	snprintf(path, sizeof(path), "%s", D.marker_path);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%llx", &prev) != 1)
			prev = 0;
		fclose(f);
		if (!conf_bool(&D.conf, OPT_RECOVER)) {
			log_err("the previous sdlmd of this boot (incarnation %016llx) did not exit cleanly: "
				"its lock users may still run; waiting for the watchdog reset it set off "
				"(or, once every process that used its locks is gone: sdlmd --recover)", prev);
			fprintf(stderr, "sdlmd: previous incarnation %016llx did not exit cleanly; "
				"not starting (see sdlmd(8), --recover)\n", prev);
			return SDLMD_EXIT_SLOT;
		}
		log_warn("--recover: the operator states the lock users of incarnation %016llx are gone",
			 prev);
	}
	f = fopen(path, "w");
	if (!f || fprintf(f, "%016llx\n", (unsigned long long)D.incarnation) < 0)
		log_warn("marker %s: cannot write", path);
	else
		D.marker_mine = true;
	if (f)
		fclose(f);
	return 0;
}

/* The marker stays only when this incarnation may have left lock users
 * behind: it self-fenced (the node is being reset). */
static void close_marker(void)
{
	if (D.marker_mine && !D.self_fenced)
		unlink(D.marker_path);
}

/* Memory locking and real-time scheduling are wanted, not required. */
static int setup_harden(void)
{
	struct sched_param sp = { .sched_priority = 1 };

	if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
		log_warn("mlockall refused (%s): going on; page faults may delay heartbeats",
			 strerror(errno));
	if (sched_setscheduler(0, SCHED_RR, &sp) < 0)
		log_warn("real-time priority refused (%s): going on with normal priority",
			 strerror(errno));
	return 0;
}

/* The fencing area: header verified, timeouts derived and checked
 * before anything is written. */
static int setup_area(void)
{
	const char *why = NULL;
	char err[512];
	int rc;

	rc = area_open(&D.area, conf_str(&D.conf, OPT_DEVICE), 10000, err);
	if (rc < 0) {
		log_err("%s", err);
		fprintf(stderr, "sdlmd: %s\n", err);
		return SDLMD_EXIT_DEVICE;
	}
	start.base = (struct sdlm_timeouts_base) {
		.io_timeout_ms = D.area->hdr.io_timeout_ms,
		.hb_interval_ms = D.area->hdr.hb_interval_ms,
		.watchdog_ms = D.area->hdr.watchdog_timeout_ms,
	};
	if (timeouts_derive(&start.base, &D.to, &why) < 0) {
		log_err("%s: timeouts in the header are inconsistent: %s",
			D.area->path, why ? why : "?");
		rc = SDLMD_EXIT_DEVICE;
		goto out_close;
	}
	D.area->io_timeout_ms = D.to.base.io_timeout_ms;
	if (conf_str(&D.conf, OPT_CLUSTER_NAME)[0] &&
	    strcmp(conf_str(&D.conf, OPT_CLUSTER_NAME), D.area->hdr.cluster_name)) {
		log_err("%s: belongs to cluster '%s', this node is in cluster '%s'",
			D.area->path, D.area->hdr.cluster_name, conf_str(&D.conf, OPT_CLUSTER_NAME));
		rc = SDLMD_EXIT_DEVICE;
		goto out_close;
	}
	if (D.node_id > D.area->hdr.num_nodes) {
		log_err("%s: node id %u has no slot (the area has %u)", D.area->path,
			D.node_id, D.area->hdr.num_nodes);
		rc = SDLMD_EXIT_CONFIG;
		goto out_close;
	}
	log_info("area %s: cluster %s, %u slots, I=%u T=%u W=%u ms, lease %u, dead %u ms",
		 D.area->path, D.area->hdr.cluster_name, D.area->hdr.num_nodes,
		 D.to.base.hb_interval_ms, D.to.base.io_timeout_ms, D.to.base.watchdog_ms,
		 D.to.lease_ms, D.to.dead_ms);
	return 0;

out_close:
	area_close(D.area);
	D.area = NULL;
	return rc;
}

static void close_area(void)
{
	area_close(D.area);
	D.area = NULL;
}

/* The watchdog, armed BEFORE the first heartbeat: a node must never
 * announce itself live on the disk without something that resets it if
 * it stops. */
static int setup_watchdog(void)
{
	const char *why = NULL, *wdpath;
	int rc;

	wdpath = conf_str(&D.conf, OPT_WATCHDOG_DEVICE);
	if (conf_bool(&D.conf, OPT_NO_WATCHDOG))
		wdpath = WD_PATH_NONE;
	else if (!strcmp(wdpath, WD_PATH_NONE) || !wdpath[0]) {
		log_err("watchdog_device is '%s' but no_watchdog is not set: refusing to run unprotected",
			wdpath);
		return SDLMD_EXIT_WATCHDOG;
	}
	rc = wd_open(&D.wd, wdpath, (D.to.base.watchdog_ms + 999) / 1000, &why);
	if (rc < 0) {
		log_err("watchdog %s: %s", wdpath, why ? why : strerror(-rc));
		return SDLMD_EXIT_WATCHDOG;
	}
	if (wd_kind(D.wd) == WD_KIND_NONE)
		log_warn("RUNNING WITHOUT A WATCHDOG (no_watchdog = yes): %s",
			 why ? why : "nothing resets this node if sdlmd hangs");
	return 0;
}

/* Disarmed only after the slot is marked free (close_heartbeat); a node
 * that fenced itself leaves it armed: the reset is on its way. */
static void close_watchdog(void)
{
	if (D.self_fenced) {
		log_notice("fence node %u: stopping while self-fenced: watchdog left armed", D.node_id);
		wd_close_nomagic(D.wd);
	} else {
		wd_close_magic(D.wd);
	}
	D.wd = NULL;
}

/*
 * Our incarnation, above every one this node had (self_incarnation): the
 * slot names the last.  Chosen before anything hands it on - the
 * transport's frames carry it from setup_xport on, the heartbeat from
 * setup_heartbeat - and before the watchdog is armed, so a refusal leaves
 * nothing behind.  An unreadable slot names nothing: slot_claim warns and
 * rewrites it, and the clock's incarnation stands.
 */
static int setup_incarnation(void)
{
	struct sdlm_hb *hb = calloc(SDLM_MAX_NODES + 1, sizeof(*hb));
	struct sdlm_msg *msg = calloc(SDLM_MAX_NODES + 1, sizeof(*msg));
	int *hrc = calloc(SDLM_MAX_NODES + 1, sizeof(int));
	int *mrc = calloc(SDLM_MAX_NODES + 1, sizeof(int));
	uint64_t prev, clock_inc = D.incarnation;
	int rc;

	if (!hb || !msg || !hrc || !mrc) {
		rc = SDLMD_EXIT_INTERNAL;
		goto out;
	}
	rc = area_read_slots(D.area, hb, hrc, msg, mrc);
	if (rc < 0) {
		log_err("fence node %u: %s", D.node_id, D.area->why);
		rc = SDLMD_EXIT_DEVICE;
		goto out;
	}
	rc = 0;
	if (hrc[D.node_id])
		goto out;
	prev = hb[D.node_id].incarnation;
	switch (self_incarnation(start.inc_wall_ms, start.inc_rnd, prev, &D.incarnation)) {
	case SELF_INC_CLOCK:
		goto out;
	case SELF_INC_AFTER_SLOT:
		log_warn("fence node %u: the clock is behind the previous incarnation %016llx "
			 "(or beyond the range: %llu ms): starting as %016llx, not %016llx",
			 D.node_id, (unsigned long long)prev, (unsigned long long)start.inc_wall_ms,
			 (unsigned long long)D.incarnation, (unsigned long long)clock_inc);
		break;
	case SELF_INC_EXHAUSTED:
		log_err("fence node %u: slot %u of %s names incarnation %016llx, the last millisecond "
			"of the range: no incarnation above it exists, and peers would take any lower "
			"one for an older daemon; not starting (a slot some other writer or a damage "
			"filled, or an older sdlmd's clock beyond the year 2527): see sdlmd(8), EXIT STATUS",
			D.node_id, D.node_id, D.area->path, (unsigned long long)prev);
		fprintf(stderr, "sdlmd: heartbeat slot %u of %s names incarnation %016llx: "
			"no incarnation above it; not starting (see sdlmd(8), exit status 8)\n",
			D.node_id, D.area->path, (unsigned long long)prev);
		rc = SDLMD_EXIT_INCARNATION;
		goto out;
	}
	if (D.marker_mine) {
		FILE *f = fopen(D.marker_path, "w");

		if (f) {
			fprintf(f, "%016llx\n", (unsigned long long)D.incarnation);
			fclose(f);
		}
	}
out:
	free(hb);
	free(msg);
	free(hrc);
	free(mrc);
	return rc;
}

/*
 * Our slot must not be in use by another live incarnation: read it, wait
 * one interval plus the I/O timeout, read again.  A moving counter under a
 * foreign incarnation means a duplicate node id or a cloned machine.
 * Returns 0 (and the counter to continue from) or SDLM_EDUPWRITER / error.
 */
static int slot_claim(uint64_t *start_counter)
{
	struct sdlm_hb *hb = calloc(2 * (SDLM_MAX_NODES + 1), sizeof(*hb));
	struct sdlm_msg *msg = calloc(SDLM_MAX_NODES + 1, sizeof(*msg));
	int *hrc = calloc(SDLM_MAX_NODES + 1, sizeof(int));
	int *mrc = calloc(SDLM_MAX_NODES + 1, sizeof(int));
	struct timespec ts;
	uint64_t c0;
	int rc;

	if (!hb || !msg || !hrc || !mrc) {
		rc = -ENOMEM;
		goto out;
	}
	rc = area_read_slots(D.area, hb, hrc, msg, mrc);
	if (rc < 0)
		goto out;
	if (hrc[D.node_id]) {
		log_warn("fence node %u: own slot unreadable (%s): it will be rewritten",
			 D.node_id, sdlm_strerror(hrc[D.node_id]));
		*start_counter = 0;
		rc = 0;
		goto out;
	}
	c0 = hb[D.node_id].counter;
	/* setup_incarnation chose ours above the slot's: a slot at or above
	 * it now was written since (or unreadable then) by another writer. */
	if (hb[D.node_id].incarnation >= D.incarnation) {
		log_err("fence node %u: slot names incarnation %016llx (%s), not below ours %016llx: "
			"another writer? not starting",
			D.node_id, (unsigned long long)hb[D.node_id].incarnation,
			hb[D.node_id].node_name, (unsigned long long)D.incarnation);
		rc = SDLM_EDUPWRITER;
		goto out;
	}
	if (hb[D.node_id].state == HB_ALIVE) {
		ts.tv_sec = (D.to.base.hb_interval_ms + D.to.base.io_timeout_ms) / 1000;
		ts.tv_nsec = (long)((D.to.base.hb_interval_ms + D.to.base.io_timeout_ms) % 1000) * 1000000L;
		nanosleep(&ts, NULL);
		rc = area_read_slots(D.area, hb, hrc, msg, mrc);
		if (rc < 0)
			goto out;
		if (!hrc[D.node_id] && hb[D.node_id].counter != c0) {
			log_err("fence node %u: slot is being written by incarnation %016llx (%s): duplicate node id?",
				D.node_id, (unsigned long long)hb[D.node_id].incarnation,
				hb[D.node_id].node_name);
			rc = SDLM_EDUPWRITER;
			goto out;
		}
		log_notice("fence node %u: previous incarnation %016llx left the slot ALIVE (crash or fenced)",
			   D.node_id, (unsigned long long)hb[D.node_id].incarnation);
	}
	*start_counter = hb[D.node_id].counter;
	rc = 0;
out:
	free(hb);
	free(msg);
	free(hrc);
	free(mrc);
	return rc;
}

/* Our slot claimed, and the heartbeat engine on it (its interval timer
 * and aio eventfd start with the first tick: setup_live). */
static int setup_heartbeat(void)
{
	uint64_t start_counter = 0;
	int rc;

	rc = slot_claim(&start_counter);
	if (rc < 0)
		return rc == SDLM_EDUPWRITER ? SDLMD_EXIT_SLOT : SDLMD_EXIT_DEVICE;
	rc = hbe_create(&D.hb, D.area, &D.to, D.node_id, D.node_name,
			D.incarnation, start_counter, hb_event, NULL);
	if (rc < 0)
		return SDLMD_EXIT_INTERNAL;
	/* Peers must never count a node nothing resets as dead by time:
	 * its heartbeat says so (review s25-rev2). */
	if (wd_kind(D.wd) == WD_KIND_NONE)
		hbe_set_no_watchdog(D.hb);
	return 0;
}

/*
 * Mark the slot free.  hbe_leave refuses while a heartbeat I/O of ours may
 * still land over the FREE record: wait for it up to T (a start that
 * fails right after its first tick has that write in flight; T < L, so
 * the never-held lapse cannot end the process meanwhile).
 */
static int leave_slot(void)
{
	uint64_t end = clock_boottime_ms() + D.to.base.io_timeout_ms;
	struct pollfd p = { .fd = hbe_aio_fd(D.hb), .events = POLLIN };
	int rc;

	while ((rc = hbe_leave(D.hb)) == -EBUSY && clock_boottime_ms() < end) {
		(void)poll(&p, 1, 10);
		hbe_process(D.hb, clock_boottime_ms());
	}
	return rc;
}

/*
 * A clean stop marks the slot free; a self-fenced node's slot stays as it
 * is (the acknowledgement, or a heartbeat that stands still).  So does a
 * start that fails after the first heartbeat (setup_ipc, review s25-rev2):
 * it never held a lease (no completion was processed before the loop) and
 * no client ever reached it, so nothing of it used a lock or a UID - left
 * ALIVE, its still slot blocked the others' cold-start gate until they
 * fenced it (D later; never, for a node run with no watchdog).
 */
static void close_heartbeat(void)
{
	if ((start.ran || start.live) && !D.self_fenced && leave_slot() < 0)
		log_warn("fence node %u: could not mark the slot free; peers will see it stop",
			 D.node_id);
	hbe_destroy(D.hb);
	D.hb = NULL;
}

/* The fence executor: pills to the nodes the lock manager asks to fence. */
static int setup_fencer(void)
{
	if (fencer_create(&D.fencer, D.area, D.hb, &D.to, D.node_id, fence_done, NULL) < 0)
		return SDLMD_EXIT_INTERNAL;
	return 0;
}

static void close_fencer(void)
{
	fencer_destroy(D.fencer);
	D.fencer = NULL;
}

/* Without an operator, at most ceil(N/2) - 1 fences per window (at least
 * one), N the cluster's size: a network storm cannot empty the cluster. */
static void fence_limit(void)
{
	uint32_t lim = conf_uint(&D.conf, OPT_MAX_FENCES_PER_WINDOW);

	if (!lim)
		lim = (D.expected_nodes + 1) / 2 > 1 ? (D.expected_nodes + 1) / 2 - 1 : 1;
	fencer_set_limit(D.fencer, lim, conf_uint(&D.conf, OPT_FENCE_WINDOW_S));
	log_info("fencing: at most %u fence(s) per %u s without an operator", lim,
		 conf_uint(&D.conf, OPT_FENCE_WINDOW_S));
}

/* The UID service, on the lockspaces; off when the area has no table. */
static void uid_start(void)
{
	struct uidsvc_host uh = {
		.nodeid = D.node_id,
		.incarnation = D.incarnation,
		.reserve_min = conf_uint(&D.conf, OPT_UID_RESERVE_MIN),
		.reserve_max = conf_uint(&D.conf, OPT_UID_RESERVE_MAX),
		.alloc_lease_ms = (uint64_t)conf_uint(&D.conf, OPT_UID_ALLOC_LEASE_S) * 1000,
		.may_use = host_may_use,
		.reply = host_uid_reply,
		.kill_clients = host_kill_clients,
		.kick = host_uid_kick,
	};
	int urc = uidsvc_init(&uh, D.area);

	if (urc == 0)
		qb_loop_poll_add(D.loop, QB_LOOP_HIGH, uidsvc_fd(), POLLIN, NULL, uid_aio_ready);
	else if (urc == -ENOTSUP)
		log_warn("UID allocation off: %s has no UID table (sdlmctl fence init --uid-slots)",
			 D.area->path);
	else if (urc < 0)
		log_err("UID allocation off: %s", sdlm_strerror(urc));
}

/*
 * With corosync: the lock manager and the UID service, the check that
 * corosync answers, and corosync's view pushed into the fence side.
 * Disk-only: no membership, so every peer counts as away.
 */
static int setup_cluster(void)
{
	struct ls_host host = {
		.nodeid = D.node_id,
		.incarnation = D.incarnation,
		.loop = D.loop,
		.may_use = host_may_use,
		.hb_live = host_hb_live,
		.pill_pending = host_pill_pending,
		.cold_ok = host_cold_ok,
		.fence = host_fence,
		.fence_cancel = host_fence_cancel,
		.ast = host_ast,
		.bast = host_bast,
		.kill_clients = host_kill_clients,
		.clients_stopping = host_clients_stopping,
		.kill_lost = host_kill_lost,
		.alone_quorate = host_alone_quorate,
		.fenced_self = host_fenced_self,
		.inc_fenced = host_inc_fenced,
		.is_fenced = host_is_fenced,
		.node_inc = host_node_inc,
		.to = &D.to,
	};
	uint32_t token = 0, consensus = 0, i;
	const char *why = NULL;

	if (!D.corosync) {
		for (i = 1; i <= D.area->hdr.num_nodes; i++)
			if (i != D.node_id)
				hbe_set_member(D.hb, i, false, clock_boottime_ms());
		return 0;
	}
	quorum_cluster_facts(&D.expected_nodes, &token, &consensus);
	if (!D.expected_nodes)
		D.expected_nodes = D.area->hdr.num_nodes;
	if (D.expected_nodes == 2) {
		uint32_t ids[2];

		if (quorum_nodelist(ids, 2) == 2)
			twonode_init(&D.tn, D.node_id, ids[0] == D.node_id ? ids[1] : ids[0]);
	}
	D.grace_ms = conf_uint(&D.conf, OPT_GRACE_MS);
	if (!D.grace_ms)
		/* Long enough for a blip: corosync's own time to notice a
		 * loss and re-form (token + consensus), once more for the
		 * merge, plus two heartbeat intervals. */
		D.grace_ms = 2 * (token + consensus) + 2 * D.to.base.hb_interval_ms;
	/* M: the probe's pace and limit.  Not in the dead bound since
	 * issue 19 (a lapsed lease fences quorate or not). */
	start.base.membership_ms = token + consensus;
	if (timeouts_derive(&start.base, &D.to, &why) < 0) {
		log_err("timeouts with corosync's token %u + consensus %u ms: %s",
			token, consensus, why ? why : "?");
		return SDLMD_EXIT_CONFIG;
	}
	host.expected_nodes = D.expected_nodes;
	host.grace_ms = D.grace_ms;
	/* corosync's time to notice a loss and re-form, once more for a
	 * merge: a view not quorate for longer is a minority side. */
	host.settle_ms = 2 * (token + consensus);
	if (!host.settle_ms)
		host.settle_ms = D.grace_ms;
	fence_limit();
	hoedge_host_ops(&host);
	lsm_init(&host);
	hoedge_start();
	uid_start();
	D.locks_on = true;
	ipc_enable_locks(true);
	log_info("lock manager: %u nodes expected, grace %u ms, settle %u ms (token %u, consensus %u)",
		 D.expected_nodes, D.grace_ms, host.settle_ms, token, consensus);
	probe_start();
	membership_apply();
	return 0;
}

/* The lockspaces' CPG groups and corosync are let go before the slot is
 * marked free (close_heartbeat). */
static void close_cluster(void)
{
	if (D.locks_on) {
		uidsvc_fini();
		lsm_fini();
	}
	quorum_close();
}

/* The fast-path transport's socket (xport_port; 0: off).  Needs corosync's
 * nodelist (the addresses) and the area (the cluster's name, part of the
 * key); the peers' incarnations come from their heartbeat slots, read
 * once the loop runs. */
static int setup_xport(void)
{
	struct xpedge_cfg xc = {
		.loop = D.loop,
		.node = D.node_id,
		.incarnation = D.incarnation,
		.cluster = D.area->hdr.cluster_name,
		.port = (uint16_t)conf_uint(&D.conf, OPT_XPORT_PORT),
		.key_file = conf_str(&D.conf, OPT_XPORT_KEY_FILE),
		.echo_ms = conf_uint(&D.conf, OPT_XPORT_ECHO_MS),
		.node_inc = host_node_inc,
		.slots_read = host_slots_read,
	};
	char err[768];

	if (!xc.port)
		return 0;
	if (!D.corosync) {
		log_err("xport: xport_port = %u needs corosync (its nodelist names the peers); "
			"set xport_port = 0 with corosync = no", xc.port);
		fprintf(stderr, "sdlmd: xport_port = %u needs corosync: set xport_port = 0 with "
			"corosync = no\n", xc.port);
		return SDLMD_EXIT_CONFIG;
	}
	if (xpedge_setup(&xc, err, sizeof(err)) < 0) {
		log_err("%s", err);
		fprintf(stderr, "sdlmd: %s\n", err);
		return SDLMD_EXIT_CONFIG;
	}
	return 0;
}

static void close_xport(void)
{
	xpedge_close();
}

/* The loop's signals (sdlmd.8, SIGNALS); the rest are ignored. */
static int setup_signals(void)
{
	qb_loop_signal_handle sh;
	sigset_t stop;

	qb_loop_signal_add(D.loop, QB_LOOP_HIGH, SIGTERM, NULL, sig_term, &sh);
	qb_loop_signal_add(D.loop, QB_LOOP_HIGH, SIGINT, NULL, sig_term, &sh);
	qb_loop_signal_add(D.loop, QB_LOOP_HIGH, SIGHUP, NULL, sig_hup, &sh);
	qb_loop_signal_add(D.loop, QB_LOOP_HIGH, SIGUSR1, NULL, sig_ignored, &sh);
	qb_loop_signal_add(D.loop, QB_LOOP_HIGH, SIGUSR2, NULL, sig_ignored, &sh);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGPROF, SIG_IGN);
	signal(SIGVTALRM, SIG_IGN);
	/* A stop asked for during the start (setup_identity) reaches the
	 * loop now: it stops cleanly once it runs. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_UNBLOCK, &stop, NULL);
	return 0;
}

/* The aio eventfd polled, and the first tick: the first heartbeat, the
 * watchdog's first feed, the interval timer. */
static int setup_live(void)
{
	start.live = true;
	qb_loop_poll_add(D.loop, QB_LOOP_HIGH, hbe_aio_fd(D.hb), POLLIN, NULL, aio_ready);
	tick(NULL);
	return 0;
}

/* The IPC server last, so clients only reach a daemon that is live. */
static int setup_ipc(void)
{
	const struct ipc_policy *p = &start.ipol;
	int rc;

	log_notice("access: root%s%s%s%s%s%s; per connection at most %u locks and %u UID requests waiting; "
		   "at most %u connections per user",
		   p->access.client_set ? ", client_group " : "",
		   p->access.client_set ? conf_str(&D.conf, OPT_CLIENT_GROUP) : "",
		   p->access.admin_set ? ", admin_group " : "",
		   p->access.admin_set ? conf_str(&D.conf, OPT_ADMIN_GROUP) : "",
		   p->access.client_set || p->access.admin_set ? "" : " only",
		   "", p->max_locks, p->max_requests, p->max_conns);
	rc = ipc_setup(D.loop, conf_str(&D.conf, OPT_IPC_NAME), p, text_cmd, &D);
	if (rc < 0) {
		log_err("ipc '%s': %s", conf_str(&D.conf, OPT_IPC_NAME), strerror(-rc));
		return SDLMD_EXIT_INTERNAL;
	}
	log_notice("fence node %u: joined %s (ipc '%s')", D.node_id, D.area->path,
		   conf_str(&D.conf, OPT_IPC_NAME));
	return 0;
}

static void close_ipc(void)
{
	ipc_close();
}

static const struct sdlmd_part {
	int (*setup)(void);	/* 0, SDLMD_DONE or an exit code */
	void (*close)(void);	/* NULL: nothing to undo */
} parts[] = {
	{ setup_conf,		close_conf },
	{ setup_log,		close_log },
	{ setup_identity,	NULL },
	{ setup_loop,		NULL },
	{ setup_corosync,	close_corosync },
	{ setup_pidfile,	close_pidfile },
	{ setup_marker,		close_marker },
	{ setup_harden,		NULL },
	{ setup_area,		close_area },
	{ setup_incarnation,	NULL },
	{ setup_xport,		close_xport },
	{ setup_watchdog,	close_watchdog },
	{ setup_heartbeat,	close_heartbeat },
	{ setup_fencer,		close_fencer },
	{ setup_cluster,	close_cluster },
	{ setup_signals,	NULL },
	{ setup_live,		NULL },
	{ setup_ipc,		close_ipc },
};

int main(int argc, char **argv)
{
	size_t n, count = sizeof(parts) / sizeof(parts[0]);
	int rc = 0;

	start.argc = argc;
	start.argv = argv;
	for (n = 0; n < count; n++) {
		rc = parts[n].setup();
		if (rc)
			break;
	}
	if (n == count) {
		qb_loop_run(D.loop);
		start.ran = true;
		/* Clean stop (sig_term), or the locks could not be released
		 * safely (uid_quiet_check): exit 6, the watchdog left armed. */
		rc = D.self_fenced ? SDLMD_EXIT_FENCED : SDLMD_EXIT_OK;
	}
	start.exit_code = rc == SDLMD_DONE ? SDLMD_EXIT_OK : rc;
	while (n-- > 0)
		if (parts[n].close)
			parts[n].close();
	return start.exit_code;
}
