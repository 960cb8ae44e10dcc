/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sdlmd_status.c - what sdlmd answers to the text commands of sdlmctl:
 * status, nodes, dump, dump-config, ls, locks, fence confirm, stats (human,
 * JSON or Prometheus), uid list and degraded (status, enable, disable).
 * It reads the daemon's state (struct sdlmd, sdlmd_int.h) and changes
 * only what fence confirm and degraded enable/disable ask for.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdlm.h"
#include "conf.h"
#include "log.h"
#include "ipcreq.h"
#include "render.h"
#include "ondisk.h"
#include "area.h"
#include "fencesm.h"
#include "heartbeat.h"
#include "watchdog.h"
#include "fencer.h"
#include "lockspace.h"
#include "uidsvc.h"
#include "twonode.h"
#include "xpedge.h"
#include "sdlmd_int.h"

static const char *self_word(void)
{
	int use = hbe_may_use_locks(D.hb, clock_boottime_ms());

	if (D.self_fenced)
		return "self-fenced";
	if (D.locks_stopped)
		return "obeying pill";
	return use == 0 ? "fenced-safe" : "not-safe";
}

/* A slot's version as shown: "unknown" for an unreadable slot or one
 * written by an sdlm older than heartbeat minor 1. */
static const char *slot_version(uint32_t node, const struct sdlm_hb *hb, int hrc)
{
	if (node == D.node_id)
		return PACKAGE_VERSION;
	return !hb || hrc || !hb->version[0] ? "unknown" : hb->version;
}

/* A slot in use: not one never written since fence init (ourselves always). */
static bool slot_used(uint32_t node, const struct sdlm_hb *hb, int hrc)
{
	return node == D.node_id ||
	       (hb && !(hrc == 0 && hb->state == HB_FREE && hb->counter == 0));
}

/*
 * The version of every node, as its heartbeat slot says (issue 16, item
 * 3): a mixed-version cluster must be visible.  "Mixed" compares the
 * running nodes (slot ALIVE, and ourselves); "unknown" (an sdlm older
 * than the version field) counts as a version of its own.  Stopped nodes
 * are listed with the version they last ran, marked.
 */
static void render_versions(struct sbuf *b, bool json)
{
	const char *first_v = NULL;
	bool mixed = false, first = true;
	uint32_t i;

	sb_printf(b, json ? ",\"node_versions\":[" : "versions    ");
	for (i = 1; i <= D.area->hdr.num_nodes; i++) {
		int hrc = 0;
		const struct sdlm_hb *hb = hbe_slot(D.hb, i, &hrc);
		const char *v = slot_version(i, hb, hrc);
		bool running = i == D.node_id || (hb && !hrc && hb->state == HB_ALIVE);

		if (!slot_used(i, hb, hrc))
			continue;
		if (running) {
			if (first_v && strcmp(first_v, v))
				mixed = true;
			if (!first_v)
				first_v = v;
		}
		if (json) {
			sb_printf(b, "%s{\"node\":%u,\"name\":", first ? "" : ",", i);
			sb_json_str(b, i == D.node_id ? D.node_name : hb && !hrc ? hb->node_name : "");
			sb_printf(b, ",\"version\":");
			sb_json_str(b, v);
			sb_printf(b, ",\"running\":%s}", running ? "true" : "false");
		} else {
			sb_printf(b, "%s %u %s%s", first ? "" : ",", i, v,
				  running ? "" : " (not running)");
		}
		first = false;
	}
	if (json)
		sb_printf(b, "],\"versions_mixed\":%s", mixed ? "true" : "false");
	else
		sb_printf(b, "%s\n", mixed ? "  MIXED: the running nodes differ" : "");
}

static void render_status(struct sbuf *b, bool json)
{
	const struct self_state *ss = hbe_self(D.hb);
	const struct hbe_stats *st = hbe_stats(D.hb);
	uint64_t now = clock_boottime_ms();
	int use = hbe_may_use_locks(D.hb, now);
	long long lease_age = ss->ss_lease_have ? (long long)(now - ss->ss_lease_sub_ms) : -1;

	if (json) {
		sb_printf(b, "{\"cluster\":");
		sb_json_str(b, D.area->hdr.cluster_name);
		sb_printf(b, ",\"version\":\"%s\",\"node_id\":%u,\"node_name\":",
			  PACKAGE_VERSION, D.node_id);
		sb_json_str(b, D.node_name);
		sb_printf(b, ",\"device\":");
		sb_json_str(b, D.area->path);
		sb_printf(b, ",\"state\":\"%s\",\"may_use_locks\":%s,\"reason\":",
			  self_word(), use == 0 ? "true" : "false");
		sb_json_str(b, use == 0 ? "" : sdlm_strerror(use));
		sb_printf(b, ",\"quorum\":\"%s\"", !D.corosync ? "disk-only" : quorate_now() ? "quorate" : "not-quorate");
		if (D.corosync)
			sb_printf(b, ",\"corosync_answering\":%s", D.probe_silent ? "false" : "true");
		{
			const char *fs = NULL;
			uint32_t victim = D.fencer ? fencer_current(D.fencer, &fs) : 0;
			const struct peer_view *vpv = victim ? hbe_peer(D.hb, victim) : NULL;

			sb_printf(b, ",\"fencing_node\":%u,\"fencing_phase\":\"%s\"", victim, victim ? fs : "none");
			if (victim)
				sb_printf(b, ",\"fencing_no_watchdog\":%s",
					  vpv && vpv->pv_no_watchdog ? "true" : "false");
		}
		if (D.locks_on)
			sb_printf(b, ",\"lockspaces\":%zu,\"grace_ms\":%u", lsm_count(), D.grace_ms);
		if (D.locks_on) {
			int susp = 0;
			bool deg = uidsvc_degraded(&susp);

			sb_printf(b, ",\"degraded\":\"%s\"", !deg ? "off" : susp ? "suspended" : "on");
		}
		if (D.corosync)
			xpedge_render(b, true);
		render_versions(b, true);
		sb_printf(b, ",\"incarnation\":\"%016llx\",\"counter\":%llu,"
			  "\"lease_age_ms\":%lld,\"lease_ms\":%u,\"dead_ms\":%u,"
			  "\"watchdog\":\"%s\",\"uptime_ms\":%llu,"
			  "\"hb_writes\":%llu,\"hb_write_fail\":%llu,"
			  "\"hb_reads\":%llu,\"hb_read_fail\":%llu,"
			  "\"last_write_us\":%llu,\"last_read_us\":%llu}\n",
			  (unsigned long long)D.incarnation,
			  (unsigned long long)hbe_counter(D.hb), lease_age,
			  D.to.lease_ms, D.to.dead_ms,
			  !D.wd ? "none" : wd_kind(D.wd) == WD_KIND_DEVICE ? "device" :
			  wd_kind(D.wd) == WD_KIND_FIFO ? "process" : "none",
			  (unsigned long long)(now - D.start_ms),
			  (unsigned long long)st->writes, (unsigned long long)st->write_fail,
			  (unsigned long long)st->reads, (unsigned long long)st->read_fail,
			  (unsigned long long)st->last_write_us,
			  (unsigned long long)st->last_read_us);
		return;
	}
	sb_printf(b, "cluster      %s\nnode         %u (%s)\nversion      %s\ndevice       %s\n",
		  D.area->hdr.cluster_name, D.node_id, D.node_name, PACKAGE_VERSION, D.area->path);
	render_versions(b, false);
	if (D.corosync)
		sb_printf(b, "quorum       %s (ring %llu, %u members)%s%s\n",
			  quorate_now() ? "quorate" : "NOT quorate",
			  (unsigned long long)D.ring_seq, D.n_members,
			  twonode_won(&D.tn) && !D.quorate ? ", alone: won the two-node arbitration" : "",
			  D.probe_silent ? ", corosync is not answering" : "");
	else
		sb_printf(b, "quorum       none (disk-only mode)\n");
	{
		const char *fs = NULL;
		uint32_t victim = D.fencer ? fencer_current(D.fencer, &fs) : 0;
		const struct peer_view *vpv = victim ? hbe_peer(D.hb, victim) : NULL;

		if (victim && vpv && vpv->pv_no_watchdog)
			sb_printf(b, "fencing      node %u: %s (it runs with no watchdog: never dead by time; "
				  "waiting for its acknowledgement, or 'sdlmctl fence confirm %u')\n",
				  victim, fs, victim);
		else if (victim)
			sb_printf(b, "fencing      node %u: %s\n", victim, fs);
		else
			sb_printf(b, "fencing      none in progress\n");
	}
	if (D.locks_on)
		sb_printf(b, "lockspaces   %zu (grace for away nodes %u ms)\n", lsm_count(), D.grace_ms);
	if (D.locks_on) {
		int susp = 0;

		if (uidsvc_degraded(&susp))
			sb_printf(b, "degraded     %s: provisional UIDs without the cluster (sdlmctl degraded status)\n",
				  susp ? "SUSPENDED" : "ON");
	}
	if (D.corosync)
		xpedge_render(b, false);
	sb_printf(b, "state        %s%s%s\n", self_word(),
		  use ? ": " : "", use ? sdlm_strerror(use) : "");
	sb_printf(b, "incarnation  %016llx\ncounter      %llu\n",
		  (unsigned long long)D.incarnation, (unsigned long long)hbe_counter(D.hb));
	if (lease_age >= 0)
		sb_printf(b, "lease        renewed %lld ms ago (lease %u ms)\n", lease_age, D.to.lease_ms);
	else
		sb_printf(b, "lease        never renewed\n");
	sb_printf(b, "watchdog     %s\n", !D.wd ? "NONE" :
		  wd_kind(D.wd) == WD_KIND_DEVICE ? "device" :
		  wd_kind(D.wd) == WD_KIND_FIFO ? "sdlm-watchdog process" : "NONE");
	sb_printf(b, "heartbeat    %llu writes (%llu failed, last %llu us), %llu reads (%llu failed, last %llu us)\n",
		  (unsigned long long)st->writes, (unsigned long long)st->write_fail,
		  (unsigned long long)st->last_write_us,
		  (unsigned long long)st->reads, (unsigned long long)st->read_fail,
		  (unsigned long long)st->last_read_us);
}

static void render_nodes(struct sbuf *b, bool json)
{
	uint64_t now = clock_boottime_ms();
	uint32_t i;
	bool first = true;

	if (json)
		sb_printf(b, "{\"nodes\":[");
	else
		sb_printf(b, "node  name             slot-state   liveness   counter     still-ms  version          message\n");
	for (i = 1; i <= D.area->hdr.num_nodes; i++) {
		const struct peer_view *pv = hbe_peer(D.hb, i);
		const struct sdlm_msg *m;
		const struct sdlm_hb *hb;
		int hrc, mrc;
		const char *live;
		long long still;
		bool nowd;

		hb = hbe_slot(D.hb, i, &hrc);
		m = hbe_msg(D.hb, i, &mrc);
		if (!hb || (hrc == 0 && hb->state == HB_FREE && hb->counter == 0 && i != D.node_id))
			continue;
		live = i == D.node_id ? "self" : peer_state_name(peer_state(pv, now, &D.to));
		nowd = hrc == 0 && (hb->flags & SDLM_HB_F_NO_WATCHDOG);
		/* Fenced itself with no watchdog: it exited, nothing resets
		 * it (review s25-rev2); only our fence or an operator's is. */
		if (i != D.node_id && hrc == 0 &&
		    ((hb->state == HB_FENCED_SELF && !nowd) ||
		     (D.fencer && fencer_is_fenced(D.fencer, i, hb->incarnation))))
			live = "fenced";
		still = i != D.node_id && pv->pv_have ? (long long)(now - pv->pv_first_seen_ms) : 0;
		if (json) {
			sb_printf(b, "%s{\"node\":%u,\"name\":", first ? "" : ",", i);
			sb_json_str(b, hrc ? "" : hb->node_name);
			sb_printf(b, ",\"slot_state\":\"%s\",\"liveness\":\"%s\",\"counter\":%llu,"
				  "\"still_ms\":%lld,\"message\":\"%s\",\"message_seq\":%llu%s%s%s",
				  hrc ? "unreadable" : hb_state_name(hb->state), live,
				  (unsigned long long)(hrc ? 0 : hb->counter), still,
				  mrc ? "unreadable" : msg_cmd_name(m->cmd),
				  (unsigned long long)(mrc ? 0 : m->seq),
				  hrc ? ",\"error\":\"" : "", hrc ? sdlm_strerror(hrc) : "",
				  hrc ? "\"" : "");
			sb_printf(b, ",\"version\":");
			sb_json_str(b, slot_version(i, hb, hrc));
			sb_printf(b, ",\"no_watchdog\":%s}", nowd ? "true" : "false");
		} else {
			sb_printf(b, "%4u  %-16s %-12s %-9s %8llu %12lld  %-16s %s",
				  i, hrc ? "?" : (hb->node_name[0] ? hb->node_name : "-"),
				  hrc ? "unreadable" : hb_state_name(hb->state), live,
				  (unsigned long long)(hrc ? 0 : hb->counter), still,
				  slot_version(i, hb, hrc),
				  mrc ? "unreadable" : msg_cmd_name(m->cmd));
			if (!mrc && m->cmd != MSG_CLEAR)
				sb_printf(b, "#%llu", (unsigned long long)m->seq);
			/* Never dead by time: the dead path does not apply. */
			if (nowd)
				sb_printf(b, "  no-watchdog: never dead by time");
			sb_printf(b, "\n");
		}
		first = false;
	}
	if (json)
		sb_printf(b, "]}\n");
}

/*
 * An operator says the node is down (powered off, reset by hand).  Refused
 * while its heartbeat still moves, unless forced ("NODE force"; the
 * argument was parsed by ipcreq.c).
 */
static int fence_confirm(uint32_t node, bool force, bool json, bool admin,
			 struct sbuf *out)
{
	if (!admin)
		return -EPERM;
	if (!D.fencer)
		return -ENOTCONN;
	if (node < 1 || node > D.area->hdr.num_nodes || node == D.node_id)
		return -EINVAL;
	if (!force && host_hb_live(NULL, node)) {
		sb_printf(out, json ? "{\"node\":%u,\"result\":\"refused\",\"reason\":\"heartbeat moving\"}\n" :
			  "node %u: refused: its heartbeat is still moving (use --force if you are sure)\n", node);
		return -EBUSY;
	}
	log_warn("fence node %u: confirmed by an operator%s", node, force ? " (forced)" : "");
	fencer_confirm(D.fencer, node);
	sb_printf(out, json ? "{\"node\":%u,\"result\":\"confirmed\"}\n" :
		  "node %u: fence confirmed\n", node);
	return 0;
}

/*
 * What an operator alerts on (docs/alerts.md), Prometheus text only:
 * state gauges, per-peer liveness (label peer: node names the reporting
 * node on every sdlm metric), and the latency histograms in seconds.
 */
static void render_prom_state(struct sbuf *b)
{
	const struct self_state *ss = hbe_self(D.hb);
	uint64_t now = clock_boottime_ms();
	int susp = 0;
	bool deg = D.locks_on && uidsvc_degraded(&susp);
	struct lsm_stats l = { 0 };
	struct uidsvc_stats u = { 0 };
	uint32_t i;

#define GAUGE(name, help) \
	sb_printf(b, "# HELP " name " " help "\n# TYPE " name " gauge\n")
	GAUGE("sdlm_fenced_safe", "1 when this node may use locks (fenced-safe), else 0");
	sb_printf(b, "sdlm_fenced_safe{node=\"%u\"} %d\n", D.node_id,
		  !D.self_fenced && !D.locks_stopped && hbe_may_use_locks(D.hb, now) == 0);
	GAUGE("sdlm_corosync", "1 when sdlmd runs with corosync, 0 in disk-only mode");
	sb_printf(b, "sdlm_corosync{node=\"%u\"} %d\n", D.node_id, D.corosync ? 1 : 0);
	GAUGE("sdlm_quorate", "1 when this node counts itself quorate (0 in disk-only mode)");
	sb_printf(b, "sdlm_quorate{node=\"%u\"} %d\n", D.node_id, D.corosync && quorate_now() ? 1 : 0);
	GAUGE("sdlm_lease_age_seconds", "age of the disk lease of this node (-1: it holds none)");
	if (ss->ss_lease_have)
		sb_printf(b, "sdlm_lease_age_seconds{node=\"%u\"} %.3f\n", D.node_id,
			  (double)(now - ss->ss_lease_sub_ms) / 1e3);
	else
		sb_printf(b, "sdlm_lease_age_seconds{node=\"%u\"} -1\n", D.node_id);
	GAUGE("sdlm_lease_seconds", "the lease this node renews (configured)");
	sb_printf(b, "sdlm_lease_seconds{node=\"%u\"} %.3f\n", D.node_id, D.to.lease_ms / 1e3);
	GAUGE("sdlm_degraded", "1 while UID degraded mode is on or suspended, else 0");
	sb_printf(b, "sdlm_degraded{node=\"%u\"} %d\n", D.node_id, deg ? 1 : 0);
	GAUGE("sdlm_peer_alive", "1 while the heartbeat of a peer moves, as this node sees it");
	for (i = 1; i <= D.area->hdr.num_nodes; i++) {
		const struct sdlm_hb *hb;
		int hrc;

		if (i == D.node_id)
			continue;
		hb = hbe_slot(D.hb, i, &hrc);
		if (!hb || (hrc == 0 && hb->state == HB_FREE && hb->counter == 0))
			continue;	/* a slot never used */
		sb_printf(b, "sdlm_peer_alive{node=\"%u\",peer=\"%u\"} %d\n", D.node_id, i,
			  host_hb_live(NULL, i) ? 1 : 0);
	}
	/* The version is printable ASCII (ondisk.c): a label value needs only
	 * its backslashes and quotes escaped. */
	GAUGE("sdlm_peer_build_info", "the sdlm version a peer's heartbeat carries "
	      "(unknown: an sdlm older than that field), value 1");
	for (i = 1; i <= D.area->hdr.num_nodes; i++) {
		const struct sdlm_hb *hb;
		const char *v, *p;
		int hrc;

		if (i == D.node_id)
			continue;
		hb = hbe_slot(D.hb, i, &hrc);
		if (!slot_used(i, hb, hrc))
			continue;
		sb_printf(b, "sdlm_peer_build_info{node=\"%u\",peer=\"%u\",version=\"", D.node_id, i);
		v = slot_version(i, hb, hrc);
		for (p = v; *p; p++)
			sb_printf(b, "%s%c", *p == '\\' || *p == '"' ? "\\" : "", *p);
		sb_printf(b, "\"} 1\n");
	}
#undef GAUGE
	if (D.locks_on) {
		lsm_get_stats(&l);
		uidsvc_get_stats(&u);
	}
	hist_render(b, "sdlm_lock_grant_latency_seconds",
		    "from the lock request or conversion of a client to its grant", D.node_id,
		    &l.grant_latency);
	hist_render(b, "sdlm_uid_alloc_latency_seconds",
		    "from a UID allocation request to its answer", D.node_id, &u.alloc_latency);
}

/* Counters: human, JSON, or the Prometheus text format. */
static void render_stats(struct sbuf *b, bool json, bool prom)
{
	const struct hbe_stats *h = hbe_stats(D.hb);
	struct lsm_stats l = { 0 };
	struct uidsvc_stats u = { 0 };
	struct {
		const char *name, *help;
		uint64_t v;
		bool gauge;
	} m[] = {
		{ "sdlm_heartbeat_writes_total", "heartbeat writes", h->writes, false },
		{ "sdlm_heartbeat_write_failures_total", "heartbeat writes failed or timed out", h->write_fail, false },
		{ "sdlm_heartbeat_reads_total", "slot-range reads", h->reads, false },
		{ "sdlm_heartbeat_read_failures_total", "slot-range reads failed or timed out", h->read_fail, false },
		{ "sdlm_heartbeat_write_latency_us", "latency of the last heartbeat write", h->last_write_us, true },
		{ "sdlm_heartbeat_read_latency_us", "latency of the last slot-range read", h->last_read_us, true },
		{ "sdlm_lockspaces", "lockspaces joined", 0, true },
		{ "sdlm_local_grants_total", "locks granted to local clients (cached included)", 0, false },
		{ "sdlm_cluster_requests_total", "acquisitions that needed the cluster", 0, false },
		{ "sdlm_cluster_grants_total", "cluster grants to this node (hand-offs in)", 0, false },
		{ "sdlm_blocking_total", "requests by other nodes for our locks (hand-offs out)", 0, false },
		{ "sdlm_cpg_messages_sent_total", "lockspace messages sent", 0, false },
		{ "sdlm_cpg_messages_delivered_total", "lockspace messages delivered", 0, false },
		{ "sdlm_fences_ack_total", "fences completed by acknowledgement", D.fences[1], false },
		{ "sdlm_fences_dead_total", "fences completed by the dead bound", D.fences[2], false },
		{ "sdlm_fences_operator_total", "fences confirmed by an operator", D.fences[3], false },
		{ "sdlm_uid_allocations_total", "UID allocations served", 0, false },
		{ "sdlm_uids_total", "UIDs handed out", 0, false },
		{ "sdlm_uid_record_writes_total", "UID record writes (reservations, takeovers)", 0, false },
		{ "sdlm_uid_takeovers_total", "mailbox takeovers", 0, false },
		{ "sdlm_replica_divergences_total", "rounds whose ready members carried different replicas", 0, false },
		{ "sdlm_watchdog_feed_gap_max_ms", "the longest time between two watchdog feeds (about the heartbeat interval when the event loop keeps up)", D.feed_gap_max_ms, true },
		{ "sdlm_heartbeat_submit_gap_max_ms", "the longest time between two heartbeat write submissions", h->submit_gap_max_ms, true },
		{ "sdlm_uid_table_slots", "slots of the UID tables this node knows (grown tables included once a probe met them)", 0, true },
		{ "sdlm_uid_table_full_total", "mailbox creations refused: the UID table is full (grow it: sdlmctl uid grow)", 0, false },
		{ "sdlm_xport_frames_sent_total", "fast-path transport: UDP frames sent", 0, false },
		{ "sdlm_xport_frames_received_total", "fast-path transport: UDP frames received", 0, false },
		{ "sdlm_xport_retransmits_total", "fast-path transport: messages sent again (timer and fast retransmissions)", 0, false },
		{ "sdlm_xport_auth_drops_total", "fast-path transport: frames that failed authentication (HMAC), dropped", 0, false },
		{ "sdlm_xport_duplicates_total", "fast-path transport: messages received again (acknowledged, not delivered twice)", 0, false },
		{ "sdlm_xport_malformed_total", "fast-path transport: datagrams that are no frame of this version", 0, false },
		{ "sdlm_xport_refused_total", "fast-path transport: authentic frames refused (other node, old incarnation, bad ack)", 0, false },
		{ "sdlm_xport_send_errors_total", "fast-path transport: frames the kernel refused to send (retransmitted)", 0, false },
		{ "sdlm_xport_foreign_drops_total", "fast-path transport: datagrams from no peer's address and port, dropped before authentication", 0, false },
		{ "sdlm_xport_receive_errors_total", "fast-path transport: failed socket reads", 0, false },
	};
	struct xpedge_stats x;
	size_t i, n = sizeof(m) / sizeof(m[0]);

	if (D.locks_on) {
		lsm_get_stats(&l);
		uidsvc_get_stats(&u);
	}
	m[6].v = l.lockspaces;
	m[7].v = l.local_grants;
	m[8].v = l.cluster_requests;
	m[9].v = l.cluster_grants;
	m[10].v = l.blocking;
	m[11].v = l.msgs_sent;
	m[12].v = l.msgs_delivered;
	m[16].v = u.allocations;
	m[17].v = u.uids;
	m[18].v = u.record_writes;
	m[19].v = u.takeovers;
	m[20].v = l.divergences;
	m[23].v = u.table_slots;
	m[24].v = u.table_full;
	xpedge_get_stats(&x);
	m[25].v = x.frames_sent;
	m[26].v = x.frames_received;
	m[27].v = x.retransmits;
	m[28].v = x.auth_drops;
	m[29].v = x.duplicates;
	m[30].v = x.malformed;
	m[31].v = x.refused;
	m[32].v = x.send_errors;
	m[33].v = x.foreign_drops;
	m[34].v = x.recv_errors;
	if (json)
		sb_printf(b, "{\"version\":\"%s\",", PACKAGE_VERSION);
	else if (prom)
		sb_printf(b, "# HELP sdlm_build_info the sdlm version this daemon runs (value 1)\n"
			  "# TYPE sdlm_build_info gauge\nsdlm_build_info{node=\"%u\",version=\"%s\"} 1\n",
			  D.node_id, PACKAGE_VERSION);
	else
		sb_printf(b, "%-40s %12s  %s\n", "version", PACKAGE_VERSION, "sdlm's version");
	for (i = 0; i < n; i++) {
		if (prom)
			sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s{node=\"%u\"} %llu\n", m[i].name,
				  m[i].help, m[i].name, m[i].gauge ? "gauge" : "counter", m[i].name,
				  D.node_id, (unsigned long long)m[i].v);
		else if (json)
			sb_printf(b, "%s\"%s\":%llu", i ? "," : "", m[i].name + 5,
				  (unsigned long long)m[i].v);
		else
			sb_printf(b, "%-40s %12llu  %s\n", m[i].name + 5, (unsigned long long)m[i].v,
				  m[i].help);
	}
	if (json)
		sb_printf(b, "}\n");
	if (prom)
		render_prom_state(b);
}

/*
 * SDLM_CMD_DEGRADED (status), _ENABLE, _DISABLE: the operator's word.  A
 * refusal is the reply's error; the reason and the blocking node are in
 * the status that sdlmctl then prints.
 */
static int degraded_cmd(int cmd, bool json, bool admin, struct sbuf *out)
{
	uint32_t blocker = 0;
	int rc;

	if (cmd == SDLM_CMD_DEGRADED) {
		rc = degraded_check(&blocker);
		uidsvc_degraded_render(out, json);
		if (!json) {
			sb_printf(out, "may enable   %s%s", rc ? "no: " : "yes",
				  rc ? sdlm_strerror(rc) : "");
			if (blocker)
				sb_printf(out, " (node %u)", blocker);
			sb_printf(out, "\n");
		}
		return 0;
	}
	if (!admin)
		return -EPERM;
	if (cmd == SDLM_CMD_DEGRADED_ENABLE) {
		rc = degraded_check(&blocker);
		if (rc) {
			log_warn("uid: degraded mode refused: %s%s%u", sdlm_strerror(rc),
				 blocker ? ", node " : "", blocker);
			return rc;
		}
		rc = uidsvc_degraded_set(true);
	} else {
		rc = uidsvc_degraded_set(false);
	}
	if (rc == 0)
		uidsvc_degraded_render(out, json);
	return rc;
}

int text_cmd(void *ctx, const struct ipcreq *req, bool admin, struct sbuf *out)
{
	bool json = req->json;
	char *ring;
	size_t len;
	FILE *f;
	char *buf = NULL;
	size_t blen = 0;

	switch (req->cmd) {
	case SDLM_CMD_STATUS:
		render_status(out, json);
		return 0;
	case SDLM_CMD_NODES:
		render_nodes(out, json);
		return 0;
	case SDLM_CMD_DUMP:
		if (!admin)
			return -EPERM;
		if (log_ring_copy(&ring, &len) < 0)
			return -ENOMEM;
		if (json) {
			sb_printf(out, "{\"ring\":");
			sb_json_str(out, ring);
			sb_printf(out, "}\n");
		} else {
			sb_printf(out, "%s", ring);
		}
		free(ring);
		return 0;
	case SDLM_CMD_DUMP_CONFIG:
		f = open_memstream(&buf, &blen);
		if (!f)
			return -ENOMEM;
		conf_dump(f, &D.conf, CONF_DAEMON, false);
		fclose(f);
		if (json) {
			sb_printf(out, "{\"config\":");
			sb_json_str(out, buf);
			sb_printf(out, "}\n");
		} else {
			sb_printf(out, "%s", buf);
		}
		free(buf);
		return 0;
	case SDLM_CMD_LS_LIST:
		if (!D.locks_on) {
			sb_printf(out, json ? "{\"lockspaces\":[],\"mode\":\"disk-only\"}\n" :
				  "no lockspaces (disk-only mode: corosync = no)\n");
			return 0;
		}
		lsm_render_ls(out, json);
		return 0;
	case SDLM_CMD_LOCKS:
		if (!D.locks_on) {
			sb_printf(out, json ? "{\"lockspaces\":[]}\n" : "(no lockspaces)\n");
			return 0;
		}
		lsm_render_locks(out, req->u.text.arg, json);
		return 0;
	case SDLM_CMD_FENCE_CONFIRM:
		return fence_confirm(req->u.text.node, req->u.text.force, json, admin, out);
	case SDLM_CMD_STATS:
		render_stats(out, json, req->u.text.prometheus);
		return 0;
	case SDLM_CMD_UID_LIST:
		if (!D.locks_on) {
			sb_printf(out, json ? "{\"mailboxes\":[]}\n" : "(no UID service: disk-only mode)\n");
			return 0;
		}
		uidsvc_render(out, json);
		return 0;
	case SDLM_CMD_DEGRADED:
	case SDLM_CMD_DEGRADED_ENABLE:
	case SDLM_CMD_DEGRADED_DISABLE:
		if (!D.locks_on)
			return -ENOTCONN;	/* disk-only: no UID service */
		return degraded_cmd(req->cmd, json, admin, out);
	}
	return -EOPNOTSUPP;
}
