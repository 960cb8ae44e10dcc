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
 *
 * The hand-off through the disk (docs/design-handoff.md §5, the rules F1-F6
 * of fence/handoff.h), in a lockspace whose agreed protocol is >= 3 and
 * with the daemon's hooks: an away holder that passes F1 (not a member,
 * heartbeat live and of minor >= 2, the incarnation the replica records,
 * protocol >= 3 announced, not fenced, no fence in flight) is not fenced
 * after the grace: each of its locks in the way of a waiter
 * (ls_away_wanted) goes at once into the daemon's request area, which its
 * next heartbeat write carries (F1); its answers, read from its slot at
 * every tick, become HANDOFF_RELEASE events for the locks the replica
 * still shows granted to it (F2; F3 decides again at apply); a request not
 * answered within the bound B of the completion of the write that carried
 * it fences the node by today's path (F4, lsfencer_ho_tick); requests
 * leave the area when no longer wanted, when the node is a member again or
 * fenced (F5), and when this node stops being the lockspace's fencer (F6).
 * Any other F1 verdict: today's path.  What to ask, withdraw or resend and
 * when to fence are decided in fence/handoff.c (section 3 of handoff.h:
 * ho_ls_*, ho_node_decide); this file feeds them and carries them out.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <stdlib.h>

#include "sdlm.h"
#include "log.h"
#include "ondisk.h"
#include "handoff.h"
#include "lsint.h"

#define STATUS_RESEND_MS 3000

_Static_assert(SDLM_HB_LVB_LEN == LS_LVB_LEN, "an answer's value block is a lock's");
_Static_assert(LSFENCER_HO_MAX == HO_REQ_MAX, "a lockspace asks for what the area keeps");

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
		if (n <= SDLM_MAX_NODES && now - l->status_sent_ms[n] < STATUS_RESEND_MS)
			continue;
		if (n <= SDLM_MAX_NODES)
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
	for (n = 1; n <= SDLM_MAX_NODES; n++) {
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

/* ---- the hand-off (design-handoff.md F1-F6) ---- */

static bool ho_on(const struct lspace *l)
{
	return lsm.h.ho_requester && lsm.h.ho_record && lsm.h.to &&
	       l->proto_agreed >= HO_PROTOCOL_MIN;
}

/* F1 for an away node n; *ni gets the replica's record of it. */
static enum ho_f1_verdict ho_f1(struct lspace *l, uint32_t n, struct ls_node_info *ni)
{
	const struct sdlm_hb *hb = lsm.h.ho_record(lsm.h.ctx, n);
	struct ho_f1_in in;

	if (ls_node_get(l->st, n, ni) < 0)
		memset(ni, 0, sizeof(*ni));
	memset(&in, 0, sizeof(in));
	in.member = false;
	in.hb_live = lsm.h.hb_live(lsm.h.ctx, n);
	in.hb_minor = hb ? hb->minor : 0;
	in.hb_incarnation = hb ? hb->incarnation : 0;
	in.replica_incarnation = ni->incarnation;
	in.fenced = ni->fenced;
	in.fence_in_flight = lsm.ho_fence[n] ||
			     (lsm.h.fencing && lsm.h.fencing(lsm.h.ctx, n));
	in.protocol = l->proto_agreed;
	in.v_protocol = ni->proto;
	return ho_f1_check(&in);
}

/* F5 (node n a member again, or fenced) and F6 (n == 0: every entry). */
static void ho_drop_node(struct lspace *l, uint32_t n)
{
	if (!lsm.h.ho_requester)
		return;
	ho_ls_drop_node(&l->ho, lsm.h.ho_requester(lsm.h.ctx), n, NULL);
}

/*
 * F1 passed for n: every lock of it in the way of a waiter is asked for
 * (at once, no grace), and what is no longer wanted (its release
 * delivered, the waiter gone) leaves the area (F5): ho_ls_request.  False
 * when some wanted lock could not be asked for (the area full): today's
 * path.
 */
static bool ho_request(struct lspace *l, uint32_t n, const struct ls_node_info *ni)
{
	struct ho_ls_chg *chg = malloc(sizeof(*chg));
	uint64_t want[LSFENCER_HO_MAX];
	size_t nw;
	uint32_t k;
	bool ok;

	nw = ls_away_wanted(l->st, n, want, LSFENCER_HO_MAX);
	if (nw > LSFENCER_HO_MAX)
		nw = LSFENCER_HO_MAX;	/* the others once these are answered */
	ok = ho_ls_request(&l->ho, lsm.h.ho_requester(lsm.h.ctx), n, ni->incarnation,
			   want, nw, chg);
	for (k = 0; chg && k < chg->n_drop; k++)
		log_debug("ls %s: node %u: %016llx no longer wanted from it: request withdrawn",
			  l->name, n, (unsigned long long)chg->drop[k]);
	for (k = 0; chg && k < chg->n_refused; k++)
		log_warn("ls %s: node %u: cannot ask for %016llx through the disk: %s: fencing it after the grace instead",
			 l->name, n, (unsigned long long)chg->refused[k],
			 strerror(-chg->refused_rc[k]));
	for (k = 0; chg && k < chg->n_add; k++)
		log_notice("ls %s: node %u is away and holds %016llx, which is wanted: asking it through the disk to give it back",
			   l->name, n, (unsigned long long)chg->add[k]);
	free(chg);
	return ok;
}

/*
 * F2: V's answer, as our last read of its slot shows it, counts only if
 * it is of the incarnation the replica records and V is not fenced
 * (ho_answer_filter); every listed lock the replica shows granted to V
 * becomes one HANDOFF_RELEASE, whoever asked for it.
 */
static void ho_answers(struct lspace *l, uint32_t n, const struct ls_node_info *ni,
		       uint64_t now)
{
	struct ho_release rel[SDLM_HB_ANS_MAX];
	struct ho_answer_in in = {
		.node = n,
		.hb = lsm.h.ho_record(lsm.h.ctx, n),
		.replica_incarnation = ni->incarnation,
		.fenced = ni->fenced,
	};
	struct ls_lock_info li;
	struct ls_event ev;
	size_t k, m;

	m = ho_answer_filter(&in, rel);
	if (!m)
		return;
	ho_req_note_answer(lsm.h.ho_requester(lsm.h.ctx), rel, m);
	for (k = 0; k < m; k++) {
		if (ls_lock_get(l->st, rel[k].lkid, &li) < 0 || li.nodeid != n ||
		    li.queue != LS_Q_GRANTED)
			continue;
		if (!ho_ls_resend_due(&l->ho, rel[k].lkid, now, STATUS_RESEND_MS))
			continue;
		memset(&ev, 0, sizeof(ev));
		ev.ev_kind = LS_EV_HANDOFF_RELEASE;
		ev.ev_nodeid = n;
		ev.ev_lkid = rel[k].lkid;
		ev.ev_incarnation = rel[k].incarnation;
		ev.ev_lvb = rel[k].lvb_valid ? rel[k].lvb : NULL;
		log_notice("ls %s: node %u gave %016llx back through the disk: releasing it on its behalf",
			   l->name, n, (unsigned long long)rel[k].lkid);
		lspace_send_event(l, &ev);
	}
}

/* The decisions are ho_node_decide's (fence/handoff.h); this carries them
 * out. */
static void fencer_fence(struct lspace *l, uint64_t now)
{
	const struct ls_cpg_view *v = ls_cpg_view(l->cpg);
	struct ls_node_info ni;
	struct ho_node_in in;
	struct ho_node_out out;
	uint32_t n;

	for (n = 1; n <= SDLM_MAX_NODES; n++) {
		uint64_t since = l->need_fence_since[n];
		int rc;

		memset(&in, 0, sizeof(in));
		in.has_entries = ho_ls_has_node(&l->ho, n);
		if (!since && !in.has_entries)
			continue;
		in.member = nodeset_has(v->members, v->member_count, n);
		in.ho_on = !in.member && ho_on(l);
		if (in.ho_on) {
			in.f1 = ho_f1(l, n, &ni);
			/* F2 holds until NODE_FENCED is applied, a fence
			 * running or not (F4). */
			ho_answers(l, n, &ni, now);
			if (in.f1 == HO_F1_OK)
				in.asked_all = ho_request(l, n, &ni);
		}
		in.since_ms = since;
		in.now_ms = now;
		in.grace_ms = lsm.h.grace_ms;
		in.hb_live = lsm.h.hb_live(lsm.h.ctx, n);
		in.bound_passed = lsm.ho_fence[n];
		ho_node_decide(&in, &out);
		if (out.drop) {
			log_notice("ls %s: node %u: no hand-off any more (%s): today's path",
				   l->name, n, ho_f1_name(in.f1));
			ho_drop_node(l, n);
		}
		switch (out.act) {
		case HO_NODE_MEMBER:
			l->need_fence_since[n] = 0;
			ho_drop_node(l, n);
			lsm.ho_fence[n] = false;
			lsm.h.fence_cancel(lsm.h.ctx, n);
			break;
		case HO_NODE_FENCE:
			rc = lsm.h.fence(lsm.h.ctx, n);
			if (rc == -EALREADY)
				lsm_fenced(n, 0);
			break;
		case HO_NODE_NONE:
		case HO_NODE_HANDOFF:
			break;
		}
	}
}

void lsfencer_ho_drop(struct lspace *l)
{
	if (!l->ho.n)
		return;
	log_info("ls %s: not the fencer any more: withdrawing %zu hand-off request(s)",
		 l->name, l->ho.n);
	ho_drop_node(l, 0);
}

void lsfencer_ho_tick(uint64_t now)
{
	struct ho_req_out *out;
	uint32_t k, node;
	int rc;

	if (!lsm.h.ho_requester || !lsm.h.to)
		return;
	out = malloc(sizeof(*out));
	if (!out)
		return;		/* the next tick */
	ho_req_tick(lsm.h.ho_requester(lsm.h.ctx), now, lsm.h.to, out, NULL);
	for (k = 0; k < out->n; k++) {
		node = ho_lkid_node(out->e[k].lkid);
		if (!node || node > SDLM_MAX_NODES)
			continue;
		if (!lsm.ho_fence[node])
			log_warn("node %u did not give %016llx back through the disk within %llu ms: fencing it",
				 node, (unsigned long long)out->e[k].lkid,
				 (unsigned long long)ho_bound_ms(lsm.h.to));
		lsm.ho_fence[node] = true;
		rc = lsm.h.fence(lsm.h.ctx, node);
		if (rc == -EALREADY)
			lsm_fenced(node, 0);
	}
	free(out);
}

/*
 * A heartbeat read completed: the answers it brought are turned into
 * HANDOFF_RELEASE now, not at the next tick (an interval more of the
 * hand-off's time, issue 19 item 4).  The rest of the duties stays on
 * the tick.
 */
void lsm_ho_read(uint64_t now)
{
	const struct ls_cpg_view *v;
	struct ls_node_info ni;
	unsigned i;
	uint32_t n;

	for (i = 1; i < LS_MAX; i++) {
		struct lspace *l = lsm.ls[i];

		if (!l || l->cut_off || l->joining || l->gone || !am_fencer(l) || !ho_on(l))
			continue;
		v = ls_cpg_view(l->cpg);
		for (n = 1; n <= SDLM_MAX_NODES; n++) {
			if (!ho_ls_has_node(&l->ho, n) ||
			    nodeset_has(v->members, v->member_count, n) ||
			    ls_node_get(l->st, n, &ni) < 0)
				continue;
			ho_answers(l, n, &ni, now);
		}
	}
}

void lsfencer_duties(struct lspace *l, uint64_t now)
{
	if (!am_fencer(l)) {
		/* F6: the role lost - our requests leave the area. */
		lsfencer_ho_drop(l);
		return;
	}
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
	struct ls_event ev;
	uint64_t inc;
	unsigned i;

	/* F5: fenced - no hand-off request for it any more. */
	if (node <= SDLM_MAX_NODES)
		lsm.ho_fence[node] = false;
	for (i = 1; i < LS_MAX; i++)
		if (lsm.ls[i])
			ho_drop_node(lsm.ls[i], node);

	/* The incarnation fenced is what a rejoin is refused by (lsround.c):
	 * the slot's when the executor did not say; still unknown, each
	 * replica's member record (ls_verdict_incarnation). */
	if (!incarnation && lsm.h.node_inc)
		incarnation = lsm.h.node_inc(lsm.h.ctx, node);
	for (i = 1; i < LS_MAX; i++) {
		struct lspace *l = lsm.ls[i];

		if (!l || !am_fencer(l))
			continue;
		inc = ls_verdict_incarnation(l->st, node, incarnation);
		if (!inc)
			continue;
		memset(&ev, 0, sizeof(ev));
		ev.ev_kind = LS_EV_NODE_FENCED;
		ev.ev_nodeid = node;
		ev.ev_incarnation = inc;
		log_notice("ls %s: node %u fenced: releasing its locks", l->name, node);
		lspace_send_event(l, &ev);
	}
}
