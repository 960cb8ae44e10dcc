/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lsfencer.c - the lockspace fencer's duties (lsint.h).
 *
 * The lockspace fencer is the lowest ready member while the view is
 * quorate.  It alone multicasts NODE_STATUS (heartbeat verdicts), GATE
 * (cold start: open once every node with a live heartbeat outside the
 * ring is dead or fenced) and NODE_FENCED, and asks the fence executor to
 * fence an away holder whose lock is wanted once it has been away longer
 * than the grace.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "sdlm.h"
#include "log.h"
#include "lsint.h"

#define STATUS_RESEND_MS 3000

static bool am_fencer(const struct lspace *l)
{
	return l->ready && l->st && ls_quorate(l->st) && l->n_ready &&
	       l->ready_nodes[0] == lsm.h.nodeid &&
	       !(lsm.h.is_fenced && lsm.h.is_fenced(lsm.h.ctx));
}

static void fencer_status(struct lspace *l, uint64_t now)
{
	const struct ls_cpg_view *v = ls_cpg_view(l->cpg);
	struct ls_node_info ni;
	struct ls_event ev;
	size_t i;

	for (i = 0; i < v->member_count; i++) {
		uint32_t n = v->members[i];
		bool live, pill;

		if (n == lsm.h.nodeid) {
			live = lsm.h.may_use(lsm.h.ctx) == 0;
			pill = false;
		} else {
			live = lsm.h.hb_live(lsm.h.ctx, n);
			pill = lsm.h.pill_pending(lsm.h.ctx, n);
		}
		if (ls_node_get(l->st, n, &ni) == 0 && ni.hb_live == live &&
		    ni.pill_pending == pill)
			continue;
		if (n <= SDLM_MAX_NODES_LS && now - l->status_sent_ms[n] < STATUS_RESEND_MS)
			continue;
		if (n <= SDLM_MAX_NODES_LS)
			l->status_sent_ms[n] = now;
		memset(&ev, 0, sizeof(ev));
		ev.ev_kind = LS_EV_NODE_STATUS;
		ev.ev_nodeid = n;
		ev.ev_hb_live = live;
		ev.ev_pill_pending = pill;
		log_debug("ls %s: fencer: node %u %s%s", l->name, n, live ? "live" : "NOT live",
			  pill ? ", pill pending" : "");
		lspace_send_event(l, &ev);
	}
}

static void fencer_gate(struct lspace *l, uint64_t now)
{
	const struct ls_cpg_view *v = ls_cpg_view(l->cpg);
	struct ls_event ev;
	bool ok = true;
	uint32_t n;
	size_t i;

	if (!ls_grants_blocked(l->st) || now - l->gate_sent_ms < STATUS_RESEND_MS ||
	    l->round_active)
		return;
	/* Every node with a slot in use must be in the ring (reachable: if
	 * it held locks of this lockspace it would be a member), or have
	 * left cleanly, or be fenced (fencesm's peer_cold_ok: dead by
	 * timeout is not enough).  One that is merely late to join (corosync
	 * merges the nodes of a healed network one ring after another) gets
	 * the grace to come in before it is fenced; nothing is granted
	 * meanwhile. */
	for (n = 1; n <= SDLM_MAX_NODES_LS; n++) {
		if (n == lsm.h.nodeid || nodeset_has(v->ring, v->ring_count, n) ||
		    lsm.h.cold_ok(lsm.h.ctx, n)) {
			l->cold_blocked[n] = l->cold_fencing[n] = false;
			continue;
		}
		ok = false;
		if (!l->cold_blocked[n]) {
			log_notice("ls %s: cold start: node %u has a live heartbeat outside the ring: nothing is granted until it joins, or is fenced after %u ms",
				   l->name, n, lsm.h.grace_ms);
			l->cold_since[n] = now;
		}
		l->cold_blocked[n] = true;
		/* A node whose heartbeat stopped gets no grace: the dead path
		 * fences it (its pill first) without waiting. */
		if (now - l->cold_since[n] >= lsm.h.grace_ms || !lsm.h.hb_live(lsm.h.ctx, n)) {
			if (!l->cold_fencing[n])
				log_notice("ls %s: cold start: fencing node %u before granting anything",
					   l->name, n);
			l->cold_fencing[n] = true;
			lsm.h.fence(lsm.h.ctx, n);
		}
	}
	/* A member whose incarnation our executor fenced is never a member
	 * again: it must go (its watchdog resets it) before anything is
	 * granted. */
	for (i = 0; lsm.h.inc_fenced && i < v->member_count; i++) {
		n = v->members[i];
		if (n != lsm.h.nodeid && lsm.h.inc_fenced(lsm.h.ctx, n)) {
			log_debug("ls %s: gate: node %u is in the group as an incarnation that was fenced: nothing is granted until it is gone",
				  l->name, n);
			ok = false;
		}
	}
	/* Members that still use locks cached before this replica formed
	 * must stop first; a dirty node that left is fenced. */
	for (i = 0; i < l->n_dirty; i++) {
		n = l->dirty_nodes[i];
		ok = false;
		if (!nodeset_has(v->members, v->member_count, n) && n != lsm.h.nodeid &&
		    lsm.h.fence(lsm.h.ctx, n) == -EALREADY)
			lsm_fenced(n, 0);
	}
	if (!ok)
		return;
	l->gate_sent_ms = now;
	memset(&ev, 0, sizeof(ev));
	ev.ev_kind = LS_EV_GATE;
	ev.ev_gate_open = true;
	log_info("ls %s: cold start cleared: opening the gate", l->name);
	lspace_send_event(l, &ev);
}

static void fencer_fence(struct lspace *l, uint64_t now)
{
	const struct ls_cpg_view *v = ls_cpg_view(l->cpg);
	uint32_t n;

	for (n = 1; n <= SDLM_MAX_NODES_LS; n++) {
		uint64_t since = l->need_fence_since[n];
		int rc;

		if (!since)
			continue;
		if (nodeset_has(v->members, v->member_count, n)) {
			/* Came back in time: keeps its locks. */
			l->need_fence_since[n] = 0;
			lsm.h.fence_cancel(lsm.h.ctx, n);
			continue;
		}
		/* Away and its heartbeat stopped: no reason to wait for the
		 * grace (the dead path itself waits the dead bound). */
		if (now - since < lsm.h.grace_ms && lsm.h.hb_live(lsm.h.ctx, n))
			continue;
		rc = lsm.h.fence(lsm.h.ctx, n);
		if (rc == -EALREADY)
			lsm_fenced(n, 0);
	}
}

void lsfencer_duties(struct lspace *l, uint64_t now)
{
	if (!am_fencer(l))
		return;
	fencer_status(l, now);
	fencer_gate(l, now);
	fencer_fence(l, now);
}

void lsm_requorum(void)
{
	unsigned i;

	for (i = 1; i < LS_MAX; i++) {
		struct lspace *l = lsm.ls[i];
		const struct ls_cpg_view *v;

		if (!l || !l->ready)
			continue;
		v = ls_cpg_view(l->cpg);
		lsround_handle_view(l, v->members, v->member_count, lspace_view_quorate(v), v->ring_id);
		lsfencer_duties(l, clock_boottime_ms());
	}
	/* Lockspaces that waited for quorum to form or get the state: a
	 * round, as when quorum comes back through corosync. */
	for (i = 1; i < LS_MAX; i++) {
		struct lspace *l = lsm.ls[i];
		const struct ls_cpg_view *v;

		if (!l || l->ready || l->gone)
			continue;
		v = ls_cpg_view(l->cpg);
		if (!lspace_view_quorate(v))
			continue;
		l->nbuf = 0;
		l->buffering = true;
		l->view_quorate = true;
		lsround_start(l, v->members, v->member_count, lsround_view_tag(v));
		lspace_send_join(l, MSG_JOIN_SYNC);
	}
}

void lsm_fenced(uint32_t node, uint64_t incarnation)
{
	struct ls_node_info ni;
	struct ls_event ev;
	unsigned i;

	for (i = 1; i < LS_MAX; i++) {
		struct lspace *l = lsm.ls[i];

		if (!l || !am_fencer(l))
			continue;
		if (ls_node_get(l->st, node, &ni) < 0 || (ni.fenced && !ni.member))
			continue;
		memset(&ev, 0, sizeof(ev));
		ev.ev_kind = LS_EV_NODE_FENCED;
		ev.ev_nodeid = node;
		/* The incarnation fenced is what a rejoin is refused by
		 * (lsround.c): the slot's when the executor did not say. */
		if (!incarnation && lsm.h.node_inc)
			incarnation = lsm.h.node_inc(lsm.h.ctx, node);
		ev.ev_incarnation = incarnation > ni.fenced_incarnation ? incarnation :
				    ni.fenced_incarnation + 1;
		log_notice("ls %s: node %u fenced: releasing its locks", l->name, node);
		lspace_send_event(l, &ev);
	}
}
