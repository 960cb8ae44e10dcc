/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lsround.c - sync rounds and the ready set of a lockspace (lsint.h).
 *
 * State transfer ("ready" members and the sync rule).  A member is ready
 * when its replica is current.  Readiness is decided at fixed points of
 * the ordered stream, so every member computes the same ready set:
 *
 *   JOIN(SYNC) from X, X not ready or its replica TAINTED (built while not
 *   quorate) and another ready member exists:
 *	X leaves the ready set; responder R = lowest ready member that did
 *	not announce a taint, else the lowest ready member; R encodes its
 *	state right there (basis = this JOIN) and multicasts it in chunks.
 *	When the last chunk of a transfer is delivered, every member that was
 *	waiting at its basis becomes ready.  A waiting member buffers every
 *	message after its own JOIN; on the complete snapshot it drops what
 *	precedes the basis and replays the rest.
 *   JOIN(SYNC|TAINTED) from X and X is the lowest ready member and no
 *	untainted one exists: X's state wins (the request is void).
 *   JOIN(SYNC) and nobody is ready (every member is new: a cold start):
 *	the lowest member forms a fresh, gated replica right there and
 *	answers as R.  A restarted daemon has no cached locks, so a fresh
 *	replica loses nothing.
 *
 * The snapshot itself, and how a waiting member collects and replays it,
 * are in lsxfer.c.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "sdlm.h"
#include "log.h"
#include "lsint.h"

/* --- sync rounds -----------------------------------------------------------
 *
 * Every group confchg starts a round: each member then multicasts one JOIN
 * saying whether it has a current replica (READY) or needs one (SYNC).  A
 * round completes at the delivery of the last member's JOIN; at that point
 * of the stream every member (newcomers included: they saw the confchg)
 * decides the same thing:
 *	ready set = the members that said READY;
 *	if it is empty: the lowest member forms a fresh, gated replica;
 *	the lowest ready member sends the others the state as of this JOIN.
 * A JOIN counts only in the round it answers (msg_join.round, the conf_tag
 * of the confchg that started it): one sent for a round that a later
 * confchg superseded carries the history of that earlier point.
 * A replica that saw its partition lose quorum is dropped at once (its
 * node keeps using its cached locks, obtains nothing new, and takes the
 * quorate side's state when it comes back).  One that did not see it (a
 * member frozen past its exclusion) comes back claiming READY: the
 * histories in the JOINs tell, and "Divergent replicas" below decides.
 */

static int form_fresh(struct lspace *l, const uint32_t *members, size_t n,
		      bool quorate, uint64_t ring_id)
{
	/* Protocol 4: rebuilt from the dirty members' reports (every member
	 * computed the same agreed version from the same JOINs). */
	struct ls_params p = { .cold = true, .default_live = false,
			       .rebuild = l->proto_agreed >= LS_REBUILD_PROTO };
	int rc;

	rc = ls_create(&p, &l->st);
	if (rc < 0)
		return rc;
	l->ready = true;
	l->tainted = false;
	l->drop_have = false;
	l->hist_formed = ring_id;
	l->hist_gen = 0;
	l->hist_decided = false;
	log_notice("ls %s: formed (cold start: gate closed until the fencer clears it%s)", l->name,
		   p.rebuild ? "; rebuilt from the locks the members report" : "");
	lspace_apply_confchg(l, members, n, quorate, ring_id);
	return 0;
}

static void drop_replica(struct lspace *l, const char *why)
{
	if (!l->ready)
		return;
	log_notice("ls %s: dropping the replica (%s); cached locks stay in use", l->name, why);
	l->drop_have = true;
	l->drop_formed = l->hist_formed;
	l->drop_gen = l->hist_gen;
	l->drop_decided = l->hist_decided;
	l->hold_gen++;	/* our reports to it come back to nobody */
	ls_destroy(l->st);
	l->st = NULL;
	l->ready = false;
	nl_hold_requests(l->nl);	/* lockspace.c "Held requests" */
	l->nbuf = 0;
	l->n_ready = l->n_waiting = l->n_tainted = l->n_dirty = l->n_refused = 0;
	l->hist_formed = l->hist_gen = 0;
	l->hist_decided = false;
	l->cache_ok = false;
	memset(l->xf, 0, sizeof(l->xf));
}

/*
 * The cluster's replica says this incarnation of ours was fenced: we must
 * have been cut off or paused long enough for the others to take our
 * locks.  Nothing of ours may be used again; only a restart (a new
 * incarnation) comes back.
 */
void lsround_refused_self(struct lspace *l)
{
	if (l->self_refused)
		return;
	l->self_refused = true;
	log_err("ls %s: the cluster records this incarnation (%016llx) as fenced: stopping every lock use; restart sdlmd to rejoin",
		l->name, (unsigned long long)lsm.h.incarnation);
	lspace_revoke_all(l, SDLM_EFENCED);
	if (lsm.h.fenced_self)
		lsm.h.fenced_self(lsm.h.ctx);
}

/*
 * Rounds hold grants.  From the confchg that starts a round to the
 * delivery of its last JOIN, a replica may be one that diverged: only the
 * JOINs tell ("Divergent replicas" below), and a lock granted from it in
 * the meantime would be a second holder.  So every holder of a replica
 * holds its grants (LS_EV_HOLD) at the start of a round, goes on applying
 * the stream (releases, cancels, fencer verdicts, requests queued), and
 * releases the hold at the round's completion - after the divergence
 * rule, the held gate and the dirty set are decided, and before the state
 * for waiting members is encoded, so the snapshot carries what the release
 * granted.  Losers drop their replica, with its held requests: the
 * survivor's state has them.  A node replaying its buffer after taking the
 * state passes the same confchgs and JOINs, so it holds and releases at
 * the same points.  A NOQUEUE request that meets a hold fails with
 * SDLM_EBUSY, as it would with the gate closed.
 */
static void set_hold(struct lspace *l, bool hold)
{
	struct ls_event ev;

	if (!l->ready || !l->st || ls_held(l->st) == hold)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.ev_kind = LS_EV_HOLD;
	ev.ev_hold = hold;
	lspace_apply_event(l, &ev);
}

/*
 * This node was fenced: its replica is dropped and it leaves the group.
 * A fenced node that stayed in the group would still be counted READY by
 * a round whose JOIN it sent before (and so be the fencer or the sender
 * of the state, doing neither), or form a fresh replica when it is the
 * lowest member; leaving ends all of it, and the others see it gone
 * (away with its locks: fenced already, they take them back).
 */
void lsround_leave(struct lspace *l)
{
	int rc;

	if (l->gone && !l->leave_retry)
		return;
	if (!l->gone) {
		l->gone = true;
		l->self_refused = true;
		drop_replica(l, "this node was fenced");
		l->buffering = false;
		l->nbuf = 0;
		l->round_active = false;
	}
	rc = ls_cpg_leave(l->cpg);
	/* busy: corosync is still joining us; try again at the next tick */
	l->leave_retry = rc == -EAGAIN || rc == -EBUSY;
	if (rc == 0)
		log_notice("ls %s: left the group: this node was fenced", l->name);
	else if (!l->leave_retry)
		log_err("ls %s: cannot leave the group: %s (the watchdog resets this node)",
			l->name, sdlm_strerror(rc));
}

/* The tag of a round that quorum's return starts (no group confchg): the
 * totem ring it came with, and the members.  Salted apart from conf_tag. */
uint64_t lsround_view_tag(const struct ls_cpg_view *v)
{
	uint64_t t = v->ring_id ^ 0x71756f72756d0000ULL;
	size_t i;

	for (i = 0; i < v->member_count; i++) {
		t ^= v->members[i];
		t *= 0x100000001b3ULL;
	}
	return t ? t : 1;
}

void lsround_start(struct lspace *l, const uint32_t *members, size_t n,
		   uint64_t tag)
{
	set_hold(l, true);
	l->round_tag = tag;
	memcpy(l->round_members, members, n * sizeof(uint32_t));
	l->n_round = n;
	l->n_round_got = 0;
	memset(l->round_flags, 0, sizeof(l->round_flags));
	memset(l->round_got, 0, sizeof(l->round_got));
	memset(l->round_join, 0, sizeof(l->round_join));
	memset(l->round_inc, 0, sizeof(l->round_inc));
	l->round_active = true;
}

static void transfer_start(struct lspace *l, uint32_t sender, const struct msg *basis,
			   const uint32_t *waiting, size_t n_waiting)
{
	struct lsxfer_track *xf = NULL;
	size_t i;

	for (i = 0; i < LSXFER_MAX; i++)
		if (!l->xf[i].active) {
			xf = &l->xf[i];
			break;
		}
	if (!xf) {
		log_err("ls %s: too many state transfers at once", l->name);
		return;
	}
	memset(xf, 0, sizeof(*xf));
	xf->active = true;
	xf->t.sender = sender;
	xf->t.xfer_id = basis->m_seq ^ ((uint64_t)basis->m_nodeid << 40) ^ basis->m_incarnation;
	xf->t.basis_node = basis->m_nodeid;
	xf->t.basis_inc = basis->m_incarnation;
	xf->t.basis_seq = basis->m_seq;
	memcpy(xf->t.waiting, waiting, n_waiting * sizeof(uint32_t));
	xf->t.n_waiting = n_waiting;
	if (sender == lsm.h.nodeid && l->ready)
		lsxfer_send_snapshot(l, basis, xf->t.xfer_id);
}

/*
 * Divergent replicas.  Members of one history apply the same stream, so
 * right after the confchg that starts a round their replicas are equal:
 * the JOINs of the ready members carry equal histories (digest, formation,
 * generation, DECIDED).  Different histories mean some member missed part
 * of the stream - it was frozen past its exclusion from the ring and came
 * back believing nothing happened, or a replica is corrupt - and two
 * replicas must never both go on granting.  Exactly one survives, chosen
 * by every member from the JOINs alone (never by counting members: the
 * stale side can be the larger one):
 *
 *	1. a replica that DECIDED something (opened its gate, so it may have
 *	   granted; or fenced a node) beats one that never did - a fresh,
 *	   gated replica has nothing to lose;
 *	2. then the later lineage: a higher formation ring (a fresh replica
 *	   that could decide was formed by a quorate partition after the
 *	   other lineage lost its last contact with it);
 *	3. then the longer history: more rounds completed by the lineage
 *	   (the side that applied the confchg which excluded the other);
 *	4. then the side of the lowest node id (equal histories with
 *	   different digests: a corrupt replica - no side is trusted more).
 *
 * Members whose replica loses drop it and wait for the survivor's state
 * (basis: this JOIN), then reconcile their cache with it: a cached lock
 * the survivor shows granted to them is kept, anything else is revoked.
 * If a loser still uses cached locks, may have granted, or the replicas
 * differ in their digest alone, the survivor's gate closes here and the
 * losers with cached locks are its dirty set: nothing is granted until
 * each reported CLEAN and the cold-start rules hold again.
 *
 * Then every member holding the survivor refuses each round member whose
 * JOIN came from an incarnation it records as fenced: that incarnation is
 * never a member again (its messages are ignored; it stops for good when
 * it sees the state).  The refused set travels with the state.
 */
static bool hist_same(const struct msg_join *a, const struct msg_join *b)
{
	return a->digest == b->digest && a->formed_ring == b->formed_ring &&
	       a->gen == b->gen && a->hist == b->hist;
}

/* Does history a (lowest member a_low) survive against b? */
static bool hist_beats(const struct msg_join *a, uint32_t a_low,
		       const struct msg_join *b, uint32_t b_low)
{
	bool ad = a->hist & MSG_HIST_DECIDED, bd = b->hist & MSG_HIST_DECIDED;

	if (ad != bd)
		return ad;
	if (a->formed_ring != b->formed_ring)
		return a->formed_ring > b->formed_ring;
	if (a->gen != b->gen)
		return a->gen > b->gen;
	return a_low < b_low;
}

/* A member that answered READY: it claims a replica. */
static bool round_ready(const struct lspace *l, size_t i)
{
	return !(l->round_flags[i] & MSG_JOIN_SYNC);
}

/*
 * Pick the surviving history among the ready members of the round.
 * Returns the index of one member of it, or -1 if nobody is ready;
 * *n_hist gets the number of distinct histories.
 */
static long round_survivor(const struct lspace *l, size_t *n_hist)
{
	const struct msg_join *hist[LS_MEMBERS_MAX];
	uint32_t low[LS_MEMBERS_MAX];
	size_t first[LS_MEMBERS_MAX], nh = 0, i, k;
	long best = -1;
	size_t bk = 0;

	for (i = 0; i < l->n_round; i++) {
		if (!round_ready(l, i))
			continue;
		for (k = 0; k < nh; k++)
			if (hist_same(hist[k], &l->round_join[i]))
				break;
		if (k == nh) {
			hist[nh] = &l->round_join[i];
			low[nh] = l->round_members[i];
			first[nh] = i;
			nh++;
		} else if (l->round_members[i] < low[k]) {
			low[k] = l->round_members[i];
		}
	}
	for (k = 0; k < nh; k++)
		if (best < 0 || hist_beats(hist[k], low[k], hist[bk], low[bk])) {
			best = (long)first[k];
			bk = k;
		}
	*n_hist = nh;
	return best;
}

static void log_divergence(struct lspace *l, const struct msg *last, long win)
{
	const struct msg_join *w = &l->round_join[win];
	size_t i;

	log_err("ls %s: REPLICAS DIVERGED at round %u:%llx:%llu: ready members carry different histories; the replica of node %u survives (digest %016llx formed %llx gen %llu%s)",
		l->name, last->m_nodeid, (unsigned long long)last->m_incarnation,
		(unsigned long long)last->m_seq, l->round_members[win],
		(unsigned long long)w->digest, (unsigned long long)w->formed_ring,
		(unsigned long long)w->gen, w->hist & MSG_HIST_DECIDED ? " decided" : "");
	for (i = 0; i < l->n_round; i++) {
		const struct msg_join *j = &l->round_join[i];

		if (!round_ready(l, i) || hist_same(j, w))
			continue;
		log_err("ls %s: node %u's replica is dropped (digest %016llx formed %llx gen %llu%s%s)",
			l->name, l->round_members[i], (unsigned long long)j->digest,
			(unsigned long long)j->formed_ring, (unsigned long long)j->gen,
			j->hist & MSG_HIST_DECIDED ? " decided" : "",
			l->round_flags[i] & MSG_JOIN_CACHED ? ", cached locks in use" : "");
	}
}

/*
 * A stale survivor (model finding 6).  The surviving history is "the only
 * one there is" when every other replica was dropped: a member frozen past
 * its exclusion keeps an old replica while the others go on, grant, then
 * all lose quorum and drop theirs, their nodes still using the locks they
 * cached.  The old replica cannot know those grants and would grant them
 * again.  A SYNC member's JOIN carries the history of the replica it
 * dropped (MSG_HIST_DROPPED); one that DECIDED and is later than the
 * survivor's (a later formation, or the same lineage further on) makes
 * the survivor stale: its gate is held as after a divergence, members
 * still using cached locks are its dirty set, and the cold-start rules
 * (every node outside the ring fenced) hold before anything is granted.
 * By quorum intersection, a quorate round has a member of the last
 * quorate partition of that later history.
 */
static bool stale_survivor(struct lspace *l, const struct msg *last,
			   const struct msg_join *win)
{
	bool stale = false;
	size_t i;

	for (i = 0; i < l->n_round; i++) {
		const struct msg_join *j = &l->round_join[i];

		if (!(j->hist & MSG_HIST_DROPPED) || !(j->hist & MSG_HIST_DECIDED))
			continue;
		if (j->formed_ring < win->formed_ring ||
		    (j->formed_ring == win->formed_ring && j->gen <= win->gen))
			continue;
		log_err("ls %s: STALE REPLICA at round %u:%llx:%llu: node %u dropped a later history (formed %llx gen %llu) than the surviving one (formed %llx gen %llu): gate held",
			l->name, last->m_nodeid, (unsigned long long)last->m_incarnation,
			(unsigned long long)last->m_seq, l->round_members[i],
			(unsigned long long)j->formed_ring, (unsigned long long)j->gen,
			(unsigned long long)win->formed_ring, (unsigned long long)win->gen);
		stale = true;
	}
	if (stale)
		lsm.st.divergences++;
	return stale;
}

/* Close the survivor's gate at this point of the stream (every holder of
 * it does the same here): the fencer opens it again under the cold rules. */
static void hold_gate(struct lspace *l)
{
	struct ls_event ev;

	if (!l->st || ls_grants_blocked(l->st))
		return;
	memset(&ev, 0, sizeof(ev));
	ev.ev_kind = LS_EV_GATE;
	ev.ev_gate_open = false;
	lspace_apply_event(l, &ev);
	l->gate_sent_ms = 0;
}

/* The round's members whose JOIN came from an incarnation the replica
 * records as fenced (holders of the replica only). */
static void refuse_fenced(struct lspace *l)
{
	struct ls_node_info ni;
	size_t i;

	l->n_refused = 0;
	for (i = 0; i < l->n_round; i++) {
		uint32_t n = l->round_members[i];

		if (ls_node_get(l->st, n, &ni) == 0 && ni.fenced_incarnation &&
		    l->round_inc[i] <= ni.fenced_incarnation) {
			log_warn("ls %s: node %u rejoined as incarnation %016llx, which was fenced: it is not a member",
				 l->name, n, (unsigned long long)l->round_inc[i]);
			nodeset_add(l->refused, &l->n_refused, n);
		}
	}
}

/*
 * The member records (lockstate.h LS_EV_ROUND; design-handoff.md F1, F3):
 * every holder of the replica applies them at the same point, the round's
 * completion, before a transfer whose basis this is, so the snapshot
 * carries them.  A refused or incompatible member gets none.  With the
 * agreed protocol below 3 the event clears every record instead.
 */
static void round_records(struct lspace *l)
{
	uint32_t ids[LS_MEMBERS_MAX];
	uint64_t incs[LS_MEMBERS_MAX];
	uint16_t protos[LS_MEMBERS_MAX];
	struct ls_event ev;
	size_t i, n = 0;
	int rc;

	for (i = 0; i < l->n_round; i++) {
		uint32_t id = l->round_members[i];

		if (nodeset_has(l->refused, l->n_refused, id) ||
		    nodeset_has(l->incompatible, l->n_incompatible, id))
			continue;
		ids[n] = id;
		incs[n] = l->round_inc[i];
		protos[n] = l->round_proto[i].proto_max;
		n++;
	}
	memset(&ev, 0, sizeof(ev));
	ev.ev_kind = LS_EV_ROUND;
	ev.ev_members = ids;
	ev.ev_incarnations = incs;
	ev.ev_protos = protos;
	ev.ev_member_count = n;
	ev.ev_proto = l->proto_agreed;
	rc = lspace_apply_event(l, &ev);
	if (rc < 0)
		log_err("ls %s: member records of the round not applied: %s",
			l->name, sdlm_strerror(rc));
}

static void round_decide(struct lspace *l, const struct msg *last)
{
	uint32_t ready[LS_MEMBERS_MAX], waiting[LS_MEMBERS_MAX];
	size_t nr = 0, nw = 0, n_hist = 0, i;
	const struct ls_cpg_view *v = ls_cpg_view(l->cpg);
	const struct msg_join *win = NULL;
	bool hold = false;
	long w;

	l->round_active = false;
	/* Version negotiation: every member computes the same agreed
	 * version from the same JOINs; a member that cannot speak it is
	 * ignored (its lock traffic is not applied) until it leaves. */
	{
		bool ok[LS_MEMBERS_MAX];
		uint16_t agreed = 0;

		l->n_incompatible = 0;
		if (msg_version_agree(l->round_proto, l->n_round, &agreed, ok) >= 0) {
			l->proto_agreed = agreed;
			for (i = 0; i < l->n_round; i++)
				if (!ok[i]) {
					log_warn("ls %s: node %u speaks protocol %u..%u, the lockspace %u: ignoring it",
						 l->name, l->round_members[i], l->round_proto[i].proto_min,
						 l->round_proto[i].proto_max, agreed);
					l->incompatible[l->n_incompatible++] = l->round_members[i];
				}
		}
	}
	w = round_survivor(l, &n_hist);
	if (w >= 0)
		win = &l->round_join[w];
	if (n_hist > 1) {
		bool me_lost = false;

		lsm.st.divergences++;
		log_divergence(l, last, w);
		for (i = 0; i < l->n_round; i++) {
			const struct msg_join *j = &l->round_join[i];

			if (!round_ready(l, i) || hist_same(j, win))
				continue;
			if ((l->round_flags[i] & MSG_JOIN_CACHED) || (j->hist & MSG_HIST_DECIDED) ||
			    (j->formed_ring == win->formed_ring && j->gen == win->gen))
				hold = true;
			if (l->round_members[i] == lsm.h.nodeid)
				me_lost = true;
		}
		if (me_lost && l->ready) {
			struct lsxfer_buf *b;

			drop_replica(l, "it diverged from the surviving replica");
			/* The state comes as of this JOIN: keep the stream
			 * from here on, this JOIN first (take_state looks
			 * for its basis in the buffer). */
			l->buffering = true;
			b = lsxfer_buf_add(l, LSXFER_BUF_MSG);
			if (b) {
				b->m = *last;
				msg_detach(&b->m);
			}
		}
	}
	if (win && stale_survivor(l, last, win))
		hold = true;
	for (i = 0; i < l->n_round; i++) {
		if (round_ready(l, i) && hist_same(&l->round_join[i], win))
			ready[nr++] = l->round_members[i];
		else
			waiting[nw++] = l->round_members[i];
	}
	if (nr == 0 && !lspace_view_quorate(v)) {
		/* Nobody has a replica and we may not form one without
		 * quorum: wait for the round that quorum starts. */
		memcpy(l->waiting_nodes, waiting, nw * sizeof(uint32_t));
		l->n_waiting = nw;
		l->n_ready = 0;
		return;
	}
	if (nr == 0) {
		/* Nobody has a replica: the lowest member forms one here.
		 * Members that still use cached locks make it dirty. */
		uint32_t former = l->round_members[0];

		l->n_dirty = 0;
		l->clean_sent = false;
		for (i = 0, nw = 0; i < l->n_round; i++)
			if (l->round_members[i] != former)
				waiting[nw++] = l->round_members[i];
		ready[nr++] = former;
		if (former == lsm.h.nodeid && !l->ready) {
			if (form_fresh(l, v->members, v->member_count,
				       lspace_view_quorate(v), v->ring_id) < 0) {
				log_err("ls %s: cannot form the lockspace", l->name);
				return;
			}
			l->nbuf = 0;
		}
	}
	if (l->st) {
		/* Holders of the surviving replica: its bookkeeping. */
		l->hist_gen++;
		if (hold) {
			hold_gate(l);
			for (i = 0; i < l->n_round; i++)
				if (round_ready(l, i) && !hist_same(&l->round_join[i], win) &&
				    (l->round_flags[i] & MSG_JOIN_CACHED))
					nodeset_add(l->dirty_nodes, &l->n_dirty, l->round_members[i]);
			l->clean_sent = false;
		}
		refuse_fenced(l);
		if (l->n_refused) {
			size_t k;

			/* A refused member is never ready; it still gets the
			 * state, which tells it to stop (chunk_progress never
			 * makes it ready).  waiting stays a sorted set: the
			 * state transfer carries it (lssnap.h). */
			for (i = 0, k = 0; i < nr; i++)
				if (!nodeset_has(l->refused, l->n_refused, ready[i]))
					ready[k++] = ready[i];
				else
					nodeset_add(waiting, &nw, ready[i]);
			nr = k;
			if (nodeset_has(l->refused, l->n_refused, lsm.h.nodeid)) {
				lsround_refused_self(l);
				drop_replica(l, "this incarnation was fenced");
				return;
			}
		}
		round_records(l);
	}
	if (nr == 0)
		return;
	memcpy(l->ready_nodes, ready, nr * sizeof(uint32_t));
	l->n_ready = nr;
	memcpy(l->waiting_nodes, waiting, nw * sizeof(uint32_t));
	l->n_waiting = nw;
	l->n_tainted = 0;
	/* While the replica's gate is closed (a fresh one), a member that
	 * asks for the state and still uses cached locks it cannot know is
	 * dirty.  Decided before the transfer below, whose basis is this
	 * point. */
	if (l->st && ls_grants_blocked(l->st)) {
		size_t before = l->n_dirty;

		for (i = 0; i < l->n_round; i++)
			if ((l->round_flags[i] & MSG_JOIN_SYNC) &&
			    (l->round_flags[i] & MSG_JOIN_CACHED) &&
			    !nodeset_has(l->dirty_nodes, l->n_dirty, l->round_members[i]))
				nodeset_add(l->dirty_nodes, &l->n_dirty, l->round_members[i]);
		if (l->n_dirty > before)
			log_notice("ls %s: gate closed and %zu member(s) still use locks cached before quorum was lost: nothing is granted until they stopped",
				   l->name, l->n_dirty);
	}
	if (hold && l->st)
		log_notice("ls %s: gate held after the divergence: %zu member(s) must stop their cached locks first",
			   l->name, l->n_dirty);
	set_hold(l, false);
	/* Every ready member logs the same digest for the same basis
	 * (tests/nemesis/digests.py compares them across nodes). */
	log_info("ls %s: round complete at %u:%llx:%llu: %zu ready, %zu waiting, fencer %u, digest %016llx",
		 l->name, last->m_nodeid, (unsigned long long)last->m_incarnation,
		 (unsigned long long)last->m_seq, nr, nw, ready[0],
		 l->st ? (unsigned long long)ls_digest(l->st) : 0ULL);
	if (nw)
		transfer_start(l, ready[0], last, waiting, nw);
	if (l->ready && ready[0] == lsm.h.nodeid && nr == 1 && l->st) {
		lsrec_reconcile(l);
		lsfencer_duties(l, clock_boottime_ms());
	}
}

static void round_complete(struct lspace *l, const struct msg *last)
{
	round_decide(l, last);
	set_hold(l, false);	/* on every path (released already if a
				 * snapshot was encoded) */
}

static void round_join(struct lspace *l, const struct msg *m)
{
	size_t i;

	if (m->u.join.flags & MSG_JOIN_CLEAN) {
		/* a report, not a round's JOIN */
		if (nodeset_has(l->dirty_nodes, l->n_dirty, m->m_nodeid)) {
			nodeset_del(l->dirty_nodes, &l->n_dirty, m->m_nodeid);
			log_info("ls %s: node %u stopped using its old cached locks (%zu still to go)",
				 l->name, m->m_nodeid, l->n_dirty);
		}
		return;
	}
	if (!l->round_active)
		return;
	if (m->u.join.round != l->round_tag) {
		/* Sent for a round a later confchg superseded: its history is
		 * of that earlier point.  The sender answers this one too. */
		log_debug("ls %s: JOIN from node %u answers another round (%016llx, this one %016llx): not counted",
			  l->name, m->m_nodeid, (unsigned long long)m->u.join.round,
			  (unsigned long long)l->round_tag);
		return;
	}
	for (i = 0; i < l->n_round; i++)
		if (l->round_members[i] == m->m_nodeid)
			break;
	if (i == l->n_round || l->round_got[i])
		return;		/* not of this round, or said already */
	l->round_got[i] = true;
	l->round_flags[i] = m->u.join.flags;
	l->round_join[i] = m->u.join;
	l->round_inc[i] = m->m_incarnation;
	l->round_proto[i].proto_min = m->u.join.proto_min;
	l->round_proto[i].proto_max = m->u.join.proto_max;
	if (++l->n_round_got == l->n_round)
		round_complete(l, m);
}

static void chunk_progress(struct lspace *l, const struct msg *m)
{
	const struct msg_snapshot *s = &m->u.snap;
	size_t i, k;

	for (i = 0; i < LSXFER_MAX; i++) {
		struct lsxfer_track *x = &l->xf[i];

		if (!x->active || x->t.sender != m->m_nodeid || x->t.xfer_id != s->xfer_id)
			continue;
		x->t.total = s->total_len;
		if (s->offset != x->t.got)
			return;
		x->t.got += s->len;
		if (x->t.got < x->t.total)
			return;
		for (k = 0; k < x->t.n_waiting; k++) {
			nodeset_del(l->waiting_nodes, &l->n_waiting, x->t.waiting[k]);
			if (!nodeset_has(l->refused, l->n_refused, x->t.waiting[k]))
				nodeset_add(l->ready_nodes, &l->n_ready, x->t.waiting[k]);
		}
		x->active = false;
		return;
	}
}

/* A lock or fencer message applied to a current replica. */
static void ready_msg(struct lspace *l, const struct msg *m)
{
	struct ls_event ev;
	int rc;

	if (msg_to_event(m, &ev) < 0)
		return;
	if (nodeset_has(l->incompatible, l->n_incompatible, m->m_nodeid) ||
	    nodeset_has(l->refused, l->n_refused, m->m_nodeid))
		return;
	/* A type above the agreed protocol: a sender broke the agreement
	 * (lspace_send_event refuses it); every member ignores it alike. */
	if (msg_type_proto(m->m_type) > MSG_PROTO_MIN &&
	    msg_type_proto(m->m_type) > l->proto_agreed) {
		log_warn("ls %s: %s from node %u above the agreed protocol %u: ignored",
			 l->name, msg_type_name(m->m_type), m->m_nodeid, l->proto_agreed);
		if (ev.ev_kind == LS_EV_HELD)
			lsrec_report_applied(l, &ev, SDLM_EVERSION);	/* ours: revoke */
		return;
	}
	/* A report to a rebuilt replica: whether its sender is dirty is the
	 * replicated dirty set's to say. */
	if (ev.ev_kind == LS_EV_HELD)
		ev.ev_dirty = nodeset_has(l->dirty_nodes, l->n_dirty, m->m_nodeid);
	/* Only a ready member speaks for the fence side. */
	if ((ev.ev_kind == LS_EV_NODE_STATUS || ev.ev_kind == LS_EV_NODE_FENCED ||
	     ev.ev_kind == LS_EV_GATE || ev.ev_kind == LS_EV_HANDOFF_RELEASE) &&
	    !nodeset_has(l->ready_nodes, l->n_ready, m->m_nodeid)) {
		log_warn("ls %s: fencer message from node %u, which is not ready: ignored",
			 l->name, m->m_nodeid);
		return;
	}
	if (ev.ev_kind == LS_EV_NODE_FENCED && ev.ev_nodeid <= SDLM_MAX_NODES)
		l->need_fence_since[ev.ev_nodeid] = 0;
	/* The gate opens only at a point of the stream where every member
	 * has said whether it still uses cached locks, and none does. */
	if (ev.ev_kind == LS_EV_GATE && ev.ev_gate_open && (l->round_active || l->n_dirty)) {
		log_info("ls %s: GATE from node %u ignored: %s", l->name, m->m_nodeid,
			 l->round_active ? "a round is not complete" :
			 "a member still uses cached locks");
		return;
	}
	rc = lspace_apply_event(l, &ev);
	if (ev.ev_kind == LS_EV_HELD)
		lsrec_report_applied(l, &ev, rc);
	/* A replica that may have granted, or fenced a node, or released a
	 * grant on an away node's behalf, has a history a divergence must
	 * not throw away. */
	if ((ev.ev_kind == LS_EV_GATE && ev.ev_gate_open) || ev.ev_kind == LS_EV_NODE_FENCED ||
	    (ev.ev_kind == LS_EV_HANDOFF_RELEASE && rc == 0))
		l->hist_decided = true;
	if (ev.ev_kind == LS_EV_NODE_FENCED && l->st) {
		struct ls_node_info ni;

		/* a fenced node's lock users are gone with it */
		if (ls_node_get(l->st, ev.ev_nodeid, &ni) == 0 && ni.fenced)
			nodeset_del(l->dirty_nodes, &l->n_dirty, ev.ev_nodeid);
	}
}

/* One ordered input, whatever our state (replay included). */
void lsround_handle_msg(struct lspace *l, const struct msg *m)
{
	switch (m->m_type) {
	case MSG_JOIN:
		round_join(l, m);
		return;
	case MSG_SNAPSHOT:
		chunk_progress(l, m);
		return;
	default:
		if (l->ready)
			ready_msg(l, m);
	}
}

void lsround_handle_view(struct lspace *l, const uint32_t *members, size_t n,
			bool quorate, uint64_t ring_id)
{
	if (!l->ready)
		return;
	if (!quorate && !lspace_keep_alone(ls_cpg_view(l->cpg))) {
		drop_replica(l, "partition not quorate");
		return;
	}
	lspace_apply_confchg(l, members, n, quorate, ring_id);
}

void lsround_handle_confchg(struct lspace *l, const uint32_t *members, size_t n,
			   const uint32_t *left, size_t n_left, bool quorate,
			   uint64_t ring_id, uint64_t tag)
{
	size_t i, k;

	for (i = 0; i < n_left; i++) {
		nodeset_del(l->ready_nodes, &l->n_ready, left[i]);
		nodeset_del(l->waiting_nodes, &l->n_waiting, left[i]);
		for (k = 0; k < LSXFER_MAX; k++)
			if (l->xf[k].active && l->xf[k].t.sender == left[i])
				l->xf[k].active = false;
	}
	lsround_start(l, members, n, tag);
	lsround_handle_view(l, members, n, quorate, ring_id);
}
