/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lockspace.c - sdlmd's lockspaces over CPG (see lockspace.h).
 *
 * Each lockspace is one CPG group "sdlm:<name>".  Everything that changes
 * the replicated state arrives through that group in agreed order and is
 * applied by every ready member to its own replica (lockstate.c):
 *
 *	client call -> nodelock (local decision; cached path: no message)
 *	            -> CLUSTER_* action -> CPG message -> every member:
 *	               ls_apply -> decisions; the ones addressed to this
 *	               node go back into nodelock -> LOCAL_* -> the client
 *
 * Membership.  Group and totem confchgs become CONFCHG events (members of
 * the group; quorate = 2 * ring > expected nodes, from cpg.c's ring view,
 * which never counts a node known down).  A node that leaves keeps its
 * locks (away is not dead); only NODE_FENCED releases them.
 *
 * Cut off.  A node whose corosync connection is lost is away too, seen
 * from both sides: the others see it leave and must fence it (pill,
 * acknowledgement or the dead bound) before they grant its locks; it
 * keeps using what it holds while its lease is valid (the heartbeat
 * engine decides; a pill or a lost lease stops its lock users at once).
 * It drops its replica (it misses the stream from now on) and sends
 * nothing: what needs the cluster - a request, an up-conversion, one
 * already waiting - fails at once with SDLM_ENOQUORUM.  A node that is
 * in a group but not quorate refuses new requests and up-conversions the
 * same way (nothing would grant them before quorum comes back; except in
 * a two-node cluster, whose lone node may win the arbitration); its
 * releases and down-conversions still go out.
 *
 * Joining.  A client's first request for a lockspace opens it: cpg.c
 * joins in a thread of its own (corosync holds its replies through a
 * membership sync, and a hung corosync never answers; the loop must go on
 * feeding the watchdog and serving status meanwhile) and posts the result
 * on an eventfd the loop polls; the requests are queued in cpg.c and go
 * out behind the join.  If the join is not through within settle_ms
 * (corosync's own time to notice a loss, re-form and merge), or fails
 * outright, the waiting requests fail with SDLM_ENOQUORUM and a log line,
 * and the lockspace is closed (a join still in corosync is abandoned to
 * its thread): the next request tries afresh.
 *
 * Held requests.  Lock ids start again at 1 with each incarnation of the
 * daemon, and the replica keeps a predecessor's locks until they are
 * released (lsrec_release_stale) or its node is fenced: a REQUEST with
 * the id of one of them is refused as a duplicate (-EEXIST), and, on the
 * same resource in the same mode, reconciliation would take that lock's
 * grant - and its value block from before the predecessor's last write -
 * for ours (review s27-increv H2); a ready member's would wait for ever
 * (H4).  So the cache holds its new requests (nl_hold_requests) while
 * the lockspace has no replica, from each reconciliation on, and while
 * the releases of stale locks wait for killed users; they go out behind
 * those releases (lsrec_release_stale), so a RELEASE of the old lock
 * N:k is applied before our REQUEST N:k.  A held request is refused
 * like any other (cut off, minority, a join given up: SDLM_ENOQUORUM),
 * and withdrawn without a CANCEL.  A joiner's first request waits for
 * the state: it could not be granted before its round completes anyway.
 *
 * The parts (lsint.h): sync rounds and the ready set in lsround.c, state
 * transfer in lsxfer.c, reconciliation after it in lsreconcile.c, the
 * fencer in lsfencer.c, status output in lsrender.c.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qbutil.h>

#include "sdlm.h"
#include "log.h"
#include "modes.h"
#include "lsint.h"

struct ls_manager lsm;

/*
 * Quorum for granting, from the ordered ring view: a majority of the
 * expected nodes; in a two-node cluster also a lone node that won the
 * arbitration on the disk (its peer is fenced).
 */
bool lspace_view_quorate(const struct ls_cpg_view *v)
{
	if (ls_cpg_quorate(v, lsm.h.expected_nodes))
		return true;
	return lsm.h.alone_quorate && v->ring_count == 1 && v->ring[0] == lsm.h.nodeid &&
	       lsm.h.alone_quorate(lsm.h.ctx);
}

/* A two-node cluster's lone node keeps its replica: nobody else can
 * advance it, and it either wins the arbitration or is fenced. */
bool lspace_keep_alone(const struct ls_cpg_view *v)
{
	return lsm.h.alone_quorate && lsm.h.expected_nodes == 2 && v->member_count <= 1;
}

/* --- sending ---------------------------------------------------------- */

int lspace_send_msg(struct lspace *l, struct msg *m)
{
	int rc;

	if (l->gone)
		return SDLM_EFENCED;
	rc = ls_cpg_send(l->cpg, m);

	l->n_sent++;
	lsm.st.msgs_sent++;
	if (rc < 0)
		log_warn("ls %s: send %s: %s", l->name, msg_type_name(m->m_type),
			 sdlm_strerror(rc));
	lspace_arm_retry(l);
	return rc;
}

int lspace_send_event(struct lspace *l, const struct ls_event *ev)
{
	struct msg m;
	int rc;

	memset(&m, 0, sizeof(m));
	rc = msg_from_event(ev, &m);
	if (rc < 0)
		return rc;
	/* a type newer than every member may speak: only once agreed */
	if (msg_type_proto(m.m_type) > MSG_PROTO_MIN &&
	    msg_type_proto(m.m_type) > l->proto_agreed) {
		log_err("ls %s: not sending %s: the lockspace agreed on protocol %u, it needs %u",
			l->name, msg_type_name(m.m_type), l->proto_agreed,
			msg_type_proto(m.m_type));
		return SDLM_EVERSION;
	}
	return lspace_send_msg(l, &m);
}

/* What our JOIN says of our replica (nothing without one). */
void lspace_join_history(const struct lspace *l, struct msg_join *j)
{
	j->digest = j->formed_ring = j->gen = 0;
	j->hist = 0;
	if (!l->ready || !l->st) {
		if (l->drop_have) {
			j->hist = MSG_HIST_DROPPED | (l->drop_decided ? MSG_HIST_DECIDED : 0);
			j->formed_ring = l->drop_formed;
			j->gen = l->drop_gen;
		}
		return;
	}
	j->hist = MSG_HIST_REPLICA | (l->hist_decided ? MSG_HIST_DECIDED : 0);
	j->digest = ls_digest(l->st);
	j->formed_ring = l->hist_formed;
	j->gen = l->hist_gen;
}

/*
 * The highest protocol our JOINs announce: MSG_PROTO_MAX.  Test seam
 * (tests/cluster/t-partition.sh part F): SDLM_TEST_PROTO_MAX=<n> in
 * sdlmd's environment announces less (never more, never below
 * MSG_PROTO_MIN), so that a cluster of this build takes the paths of a
 * lockspace with an older member (a fresh replica revoked, not rebuilt).
 */
static uint16_t proto_max_announced(void)
{
	static int v = -1;

	if (v < 0) {
		const char *e = getenv("SDLM_TEST_PROTO_MAX");
		long n = e && *e ? strtol(e, NULL, 10) : MSG_PROTO_MAX;

		v = n < MSG_PROTO_MIN ? MSG_PROTO_MIN : n > MSG_PROTO_MAX ? MSG_PROTO_MAX : (int)n;
		if (v != MSG_PROTO_MAX)
			log_warn("test seam: announcing protocol %d..%d, not %d (SDLM_TEST_PROTO_MAX)",
				 MSG_PROTO_MIN, v, MSG_PROTO_MAX);
	}
	return (uint16_t)v;
}

/*
 * CACHED: our cache still holds cluster locks, or lock users we killed
 * (lspace_revoke_all: the cache forgot their locks at once) are not reaped yet -
 * they may still write.  With SYNC it makes a fresh replica dirty; from a
 * ready member whose replica loses a divergence, it makes the survivor's
 * dirty (lsround.c).  Model finding 7 (docs/model.md): without the second
 * half, a total loss of quorum while users are being killed let the next
 * fresh replica grant their locks before they were gone.
 */
int lspace_send_join(struct lspace *l, uint32_t flags)
{
	struct msg m;

	if (!(flags & MSG_JOIN_CLEAN) &&
	    (lsrec_has_cached(l) || (lsm.h.clients_stopping && lsm.h.clients_stopping(lsm.h.ctx))))
		flags |= MSG_JOIN_CACHED;
	memset(&m, 0, sizeof(m));
	m.m_type = MSG_JOIN;
	m.u.join.proto_min = MSG_PROTO_MIN;
	m.u.join.proto_max = proto_max_announced();
	m.u.join.flags = flags;
	if (!(flags & MSG_JOIN_CLEAN))
		m.u.join.round = l->round_tag;
	if (!(flags & MSG_JOIN_CLEAN))
		lspace_join_history(l, &m.u.join);
	log_debug("ls %s: JOIN%s%s%s%s digest %016llx formed %llx gen %llu%s", l->name,
		  flags & MSG_JOIN_SYNC ? " sync" : "",
		  flags & MSG_JOIN_TAINTED ? " tainted" : "",
		  flags & MSG_JOIN_CACHED ? " cached" : "",
		  flags & MSG_JOIN_CLEAN ? " clean" : "",
		  (unsigned long long)m.u.join.digest, (unsigned long long)m.u.join.formed_ring,
		  (unsigned long long)m.u.join.gen,
		  m.u.join.hist & MSG_HIST_DECIDED ? " decided" : "");
	return lspace_send_msg(l, &m);
}

static void retry_fire(void *data)
{
	struct lspace *l = data;

	l->retry_timer_armed = 0;
	ls_cpg_flush(l->cpg);
	lspace_arm_retry(l);
}

void lspace_arm_retry(struct lspace *l)
{
	int ms = ls_cpg_retry_ms(l->cpg);

	if (ms < 0 || l->retry_timer_armed || l->cut_off)
		return;
	l->retry_timer_armed = 1;
	qb_loop_timer_add(lsm.h.loop, QB_LOOP_HIGH, (uint64_t)(ms ? ms : 1) * QB_TIME_NS_IN_MSEC,
			  l, retry_fire, &l->retry_timer);
}

/* --- applying nodelock actions and cluster decisions ------------------ */

/*
 * Is the lockspace quorate, as far as granting goes?  A ready replica
 * knows; a dropped one (its partition lost quorum) goes by the group's
 * view once the group has answered at all.  Keeps unq_since: when it
 * stopped being quorate (0: it is).
 */
static bool ls_quorate_now(struct lspace *l, uint64_t now)
{
	bool q = l->ready && l->st ? ls_quorate(l->st) : !l->own_join_seen || l->view_quorate;

	if (q)
		l->unq_since = 0;
	else if (!l->unq_since)
		l->unq_since = now ? now : 1;
	return q;
}

/* What refuse_action() refuses now: new requests and up-conversions
 * (cut off, or on a minority side for longer than settle_ms). */
const char *lspace_refusing(const struct lspace *l)
{
	if (l->cut_off)
		return "cut-off";
	if (lsm.h.alone_quorate && lsm.h.expected_nodes == 2)
		return NULL;
	if (l->unq_since && clock_boottime_ms() - l->unq_since >= lsm.h.settle_ms)
		return "minority";
	return NULL;
}

/*
 * A cluster action that asks for more than the node holds cannot be
 * served: cut off, or on a minority side (not quorate for longer than
 * corosync takes to settle a membership change: settle_ms).  A view that
 * is not quorate for less is a passing one (an overlapping partition
 * goes through several): the request goes out and waits as before, or
 * the UID service's own requests would fail in every blip.  Not in a
 * two-node cluster, whose lone node may win the arbitration and grant.
 * Down-conversions and releases still go out while the group is there.
 */
static bool refuse_action(struct lspace *l, const struct nl_out_item *o)
{
	struct nl_res_info ri;
	uint64_t now = clock_boottime_ms();

	if (l->cut_off)
		return o->o_kind == NL_OUT_CLUSTER_REQUEST || o->o_kind == NL_OUT_CLUSTER_CONVERT;
	if (o->o_kind != NL_OUT_CLUSTER_REQUEST && o->o_kind != NL_OUT_CLUSTER_CONVERT)
		return false;
	if (lsm.h.alone_quorate && lsm.h.expected_nodes == 2)
		return false;
	if (ls_quorate_now(l, now) || now - l->unq_since < lsm.h.settle_ms)
		return false;
	if (o->o_kind == NL_OUT_CLUSTER_REQUEST)
		return true;
	return nl_res_get(l->nl, o->o_name, o->o_namelen, &ri) == 0 &&
	       !mode_covers(ri.cl_mode, o->o_mode);
}

struct refused {
	uint8_t name[SDLM_NAME_MAX];
	uint8_t namelen;
	uint64_t lkid;
};

/* Answer refused cluster actions: every local lock waiting on them fails
 * with SDLM_ENOQUORUM (nodelock keeps what the node held). */
static void refuse_run(struct lspace *l, const struct refused *rf, size_t n)
{
	struct nl_res_info ri;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		log_info("ls %s: %.*s needs the cluster, which %s: refused (%s)", l->name,
			 (int)rf[i].namelen, (const char *)rf[i].name,
			 l->joining ? "this node could not join (see above)" :
			 l->cut_off ? "this node cannot reach (no corosync)" :
				      "has not been quorate here for the settle time",
			 sdlm_strerror(SDLM_ENOQUORUM));
		/* a held request (never sent) is no cluster lock yet */
		if (nl_res_get(l->nl, rf[i].name, rf[i].namelen, &ri) == 0 && ri.unsent)
			rc = nl_unsent_failed(l->nl, rf[i].name, rf[i].namelen, rf[i].lkid,
					      SDLM_ENOQUORUM, &l->no);
		else
			rc = nl_cluster_failed(l->nl, rf[i].name, rf[i].namelen, rf[i].lkid,
					       SDLM_ENOQUORUM, &l->no);
		if (rc < 0 && l->no.lost)
			log_err("ls %s: node-level actions lost (out of memory)", l->name);
		lspace_run_nl_out(l);
	}
}

void lspace_run_nl_out(struct lspace *l)
{
	struct refused *rf = NULL;
	size_t i, nrf = 0;

	for (i = 0; i < l->no.count; i++) {
		const struct nl_out_item *o = &l->no.items[i];
		struct ls_event ev;

		if (refuse_action(l, o)) {
			if (!rf)
				rf = calloc(l->no.count, sizeof(*rf));
			if (rf) {
				memcpy(rf[nrf].name, o->o_name, o->o_namelen);
				rf[nrf].namelen = o->o_namelen;
				rf[nrf].lkid = o->o_lkid;
				nrf++;
				continue;
			}
			/* Out of memory: it goes out (or nowhere, cut off) and
			 * waits as before. */
			log_err("ls %s: out of memory refusing a cluster request", l->name);
		}
		if (o->o_kind == NL_OUT_CLUSTER_REQUEST && o->o_held) {
			/* Until we have the replica and released what a
			 * predecessor of ours holds in it (lsrec_release_stale
			 * sends it then): "Held requests" above. */
			log_debug("ls %s: REQUEST %016llx %s res %.*s held", l->name,
				  (unsigned long long)o->o_lkid, mode_name(o->o_mode),
				  (int)o->o_namelen, (const char *)o->o_name);
			continue;
		}
		if (l->cut_off && o->o_kind != NL_OUT_LOCAL_GRANT &&
		    o->o_kind != NL_OUT_LOCAL_FAIL && o->o_kind != NL_OUT_LOCAL_BAST) {
			/* Nothing reaches the cluster: a release or cancel
			 * stays undone there, and the others fence us. */
			log_debug("ls %s: cut off: cluster action %d not sent", l->name, o->o_kind);
			continue;
		}

		memset(&ev, 0, sizeof(ev));
		ev.ev_nodeid = lsm.h.nodeid;
		ev.ev_lkid = o->o_lkid;
		ev.ev_mode = o->o_mode;
		ev.ev_flags = o->o_flags & LS_LKF_ALL;
		ev.ev_name = o->o_name;
		ev.ev_namelen = o->o_namelen;
		switch (o->o_kind) {
		case NL_OUT_LOCAL_GRANT:
			lsm.st.local_grants++;
			if (o->o_req_ns) {
				uint64_t t = qb_util_nano_current_get();

				hist_observe_ns(&lsm.st.grant_latency, t > o->o_req_ns ? t - o->o_req_ns : 0);
			}
			log_debug("ls %s: client %u granted %s (lkid %llx)", l->name, o->o_client,
				  mode_name(o->o_mode), (unsigned long long)o->o_local_lkid);
			lsm.h.ast(lsm.h.ctx, o->o_client, lspace_global_lkid(l, o->o_local_lkid),
				o->o_client_ref, 0, o->o_mode, o->o_lvb, o->o_lvb_valid,
				o->o_epoch);
			break;
		case NL_OUT_LOCAL_FAIL:
			lsm.h.ast(lsm.h.ctx, o->o_client, lspace_global_lkid(l, o->o_local_lkid),
				o->o_client_ref, o->o_err, o->o_mode, NULL, false, 0);
			break;
		case NL_OUT_LOCAL_BAST:
			lsm.st.local_basts++;
			lsm.h.bast(lsm.h.ctx, o->o_client, lspace_global_lkid(l, o->o_local_lkid),
				 o->o_client_ref, o->o_mode);
			break;
		case NL_OUT_CLUSTER_REQUEST:
			lsm.st.cluster_requests++;
			log_debug("ls %s: send REQUEST %016llx %s res %.*s (%zu queued before it)",
				  l->name, (unsigned long long)o->o_lkid, mode_name(o->o_mode),
				  (int)o->o_namelen, (const char *)o->o_name,
				  ls_cpg_queued(l->cpg));
			ev.ev_kind = LS_EV_REQUEST;
			lspace_send_event(l, &ev);
			break;
		case NL_OUT_CLUSTER_CONVERT:
			ev.ev_kind = LS_EV_CONVERT;
			ev.ev_lvb = o->o_lvb_valid ? o->o_lvb : NULL;
			lspace_send_event(l, &ev);
			break;
		case NL_OUT_CLUSTER_RELEASE:
			ev.ev_kind = LS_EV_RELEASE;
			ev.ev_lvb = o->o_lvb_valid ? o->o_lvb : NULL;
			lspace_send_event(l, &ev);
			break;
		case NL_OUT_CLUSTER_CANCEL:
			ev.ev_kind = LS_EV_CANCEL;
			lspace_send_event(l, &ev);
			break;
		}
	}
	if (l->no.lost)
		log_err("ls %s: node-level actions lost (out of memory)", l->name);
	nl_out_reset(&l->no);
	if (nrf)
		refuse_run(l, rf, nrf);
	free(rf);
}

static void run_ls_out(struct lspace *l)
{
	size_t i;

	for (i = 0; i < l->lo.count; i++) {
		const struct ls_out_item *o = &l->lo.items[i];

		if (o->o_kind == LS_OUT_NEED_FENCE) {
			if (o->o_nodeid <= SDLM_MAX_NODES && !l->need_fence_since[o->o_nodeid]) {
				l->need_fence_since[o->o_nodeid] = clock_boottime_ms();
				log_info("ls %s: node %u: away and holding a wanted lock", l->name,
					 o->o_nodeid);
				/* The fencer's request (or fence) at a tick run
				 * now, not at the next (issue 19 item 4). */
				if (lsm.h.tick_soon)
					lsm.h.tick_soon(lsm.h.ctx);
			}
			continue;
		}
		if (o->o_nodeid != lsm.h.nodeid)
			continue;
		switch (o->o_kind) {
		case LS_OUT_GRANTED:
			lsm.st.cluster_grants++;
			log_debug("ls %s: cluster grant %s %016llx res %.*s", l->name,
				  mode_name(o->o_mode), (unsigned long long)o->o_lkid,
				  (int)o->o_namelen, (const char *)o->o_name);
			nl_cluster_granted(l->nl, o->o_name, o->o_namelen, o->o_lkid,
					   o->o_mode, o->o_lvb, o->o_lvb_valid, o->o_epoch,
					   &l->no);
			break;
		case LS_OUT_NOQUEUE_FAILED:
		case LS_OUT_CANCELLED:
		case LS_OUT_DEADLOCK:
			nl_cluster_failed(l->nl, o->o_name, o->o_namelen, o->o_lkid,
					  o->o_err, &l->no);
			break;
		case LS_OUT_BLOCKING:
			lsm.st.blocking++;
			nl_cluster_blocking(l->nl, o->o_name, o->o_namelen, o->o_lkid,
					    o->o_mode, &l->no);
			break;
		case LS_OUT_RELEASED:
			nl_cluster_released(l->nl, o->o_name, o->o_namelen, o->o_lkid,
					    o->o_err, &l->no);
			break;
		default:
			break;
		}
		lspace_run_nl_out(l);
	}
	if (l->lo.lost)
		log_err("ls %s: cluster decisions lost (out of memory)", l->name);
	ls_out_reset(&l->lo);
}

int lspace_apply_event(struct lspace *l, const struct ls_event *ev)
{
	int rc;

	rc = ls_apply(l->st, ev, &l->lo);
	log_debug("ls %s: apply kind %d node %u lkid %llx mode %d res %.*s: %d", l->name,
		  ev->ev_kind, ev->ev_nodeid, (unsigned long long)ev->ev_lkid, ev->ev_mode,
		  ev->ev_name ? (int)ev->ev_namelen : 0, ev->ev_name ? (const char *)ev->ev_name : "",
		  rc);
	if (rc < 0 && rc != -EALREADY)
		log_debug("ls %s: event %d from node %u rejected: %s", l->name,
			  ev->ev_kind, ev->ev_nodeid, sdlm_strerror(rc));
	if (ev->ev_kind == LS_EV_CONFCHG && !ev->ev_quorate)
		l->tainted = true;
	run_ls_out(l);
	return rc;
}

void lspace_apply_confchg(struct lspace *l, const uint32_t *members, size_t n,
			  bool quorate, uint64_t ring_id)
{
	struct ls_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ev_kind = LS_EV_CONFCHG;
	ev.ev_members = members;
	ev.ev_member_count = n;
	ev.ev_quorate = quorate;
	ev.ev_ring_id = ring_id;
	lspace_apply_event(l, &ev);
}

/* --- CPG callbacks ------------------------------------------------------ */

static void cb_deliver(struct ls_cpg *c, const struct msg *m, bool self, void *arg)
{
	struct lspace *l = arg;
	struct lsxfer_buf *b;

	if (l->gone)
		return;
	l->n_delivered++;
	lsm.st.msgs_delivered++;
	if (!l->ready && l->buffering) {
		b = lsxfer_buf_add(l, LSXFER_BUF_MSG);
		if (b) {
			b->m = *m;
			msg_detach(&b->m);
		}
	}
	lsround_handle_msg(l, m);
	if (!l->ready && l->buffering && m->m_type == MSG_SNAPSHOT)
		lsxfer_collect_chunk(l, m);
}

static void cb_bad(struct ls_cpg *c, uint32_t nodeid, uint32_t pid, int err, void *arg)
{
	struct lspace *l = arg;

	log_warn("ls %s: undecodable message from node %u pid %u: %s", l->name,
		 nodeid, pid, sdlm_strerror(err));
}

/*
 * Test seam (tests/cluster/t-diverge.sh): SDLM_TEST_CORRUPT_LS=<name> in
 * sdlmd's environment corrupts this node's replica of that lockspace once,
 * at the first confchg after it is ready, by recording a heartbeat verdict
 * for node 250 that no fencer sent.  No lock changes; the digest does, and
 * the divergence detector must catch it.
 */
static void corrupt_seam(struct lspace *l)
{
	static bool done;
	const char *name = getenv("SDLM_TEST_CORRUPT_LS");
	struct ls_event ev;

	if (done || !name || strcmp(name, l->name) || !l->ready || !l->st)
		return;
	done = true;
	memset(&ev, 0, sizeof(ev));
	ev.ev_kind = LS_EV_NODE_STATUS;
	ev.ev_nodeid = 250;
	ev.ev_hb_live = true;
	log_err("ls %s: test seam: corrupting this replica (SDLM_TEST_CORRUPT_LS)", l->name);
	lspace_apply_event(l, &ev);
}

/* "[1 2 3]" for a debug line. */
struct ids_buf { char s[4 * LS_MEMBERS_MAX + 3]; };

static struct ids_buf ids_str(const uint32_t *ids, size_t n)
{
	struct ids_buf b;
	size_t i, off = 0;

	b.s[off++] = '[';
	for (i = 0; i < n && off < sizeof(b.s) - 6; i++)
		off += (size_t)snprintf(b.s + off, sizeof(b.s) - off, "%s%u", i ? " " : "", ids[i]);
	snprintf(b.s + off, sizeof(b.s) - off, "]");
	return b;
}

static void cb_confchg(struct ls_cpg *c, const struct ls_cpg_view *v,
		       const struct ls_cpg_member *left, size_t n_left,
		       const struct ls_cpg_member *joined, size_t n_joined, void *arg)
{
	struct lspace *l = arg;
	uint32_t lids[LS_MEMBERS_MAX];
	bool q = lspace_view_quorate(v);
	size_t i;

	if (l->gone)
		return;
	for (i = 0; i < n_left && i < LS_MEMBERS_MAX; i++) {
		lids[i] = left[i].nodeid;
		log_info("ls %s: node %u left (%s)", l->name, lids[i],
			 left[i].reason == LS_CPG_REASON_LEAVE ? "clean leave" :
			 left[i].reason == LS_CPG_REASON_NODEDOWN ? "node down" :
			 left[i].reason == LS_CPG_REASON_PROCDOWN ? "daemon died" : "?");
	}
	for (i = 0; i < n_joined; i++)
		log_info("ls %s: node %u joined", l->name, joined[i].nodeid);
	log_debug("ls %s: group confchg: members %s, %zu left, %zu joined, ring %u.%llx %s",
		  l->name, ids_str(v->members, v->member_count).s, n_left, n_joined,
		  v->ring_nodeid, (unsigned long long)v->ring_id,
		  q ? "quorate" : "NOT quorate");
	if (!l->ready) {
		/* Everything from this round on may follow a basis we get. */
		l->nbuf = 0;
		l->buffering = true;
		if (l->own_join_seen) {
			struct lsxfer_buf *b = lsxfer_buf_add(l, LSXFER_BUF_CONFCHG);

			if (b) {
				memcpy(b->members, v->members, v->member_count * sizeof(uint32_t));
				b->n_members = v->member_count;
				memcpy(b->left, lids, n_left * sizeof(uint32_t));
				b->n_left = n_left;
				b->quorate = q;
				b->ring_id = v->ring_id;
				b->tag = v->conf_tag;
			}
		}
		l->own_join_seen = true;
	}
	l->view_quorate = q;
	l->confchg_since_totem = true;
	lsround_handle_confchg(l, v->members, v->member_count, lids, n_left, q, v->ring_id,
			       v->conf_tag);
	corrupt_seam(l);
	lspace_send_join(l, l->ready ? 0 : MSG_JOIN_SYNC);
	if (l->ready)
		lsfencer_duties(l, clock_boottime_ms());
	ls_quorate_now(l, clock_boottime_ms());
}

static void cb_totem(struct ls_cpg *c, const struct ls_cpg_view *v, void *arg)
{
	struct lspace *l = arg;
	bool q = lspace_view_quorate(v);

	if (l->gone)
		return;
	log_debug("ls %s: totem confchg: ring %u.%llx, nodes %s, %s, %s", l->name,
		  v->ring_nodeid, (unsigned long long)v->ring_id,
		  ids_str(v->ring, v->ring_count).s, q ? "quorate" : "NOT quorate",
		  l->ready ? "ready" : "not ready");
	if (!l->ready && l->buffering) {
		struct lsxfer_buf *b = lsxfer_buf_add(l, LSXFER_BUF_TOTEM);

		if (b) {
			memcpy(b->members, v->members, v->member_count * sizeof(uint32_t));
			b->n_members = v->member_count;
			b->quorate = q;
			b->ring_id = v->ring_id;
		}
	}
	lsround_handle_view(l, v->members, v->member_count, q, v->ring_id);
	/* Quorum came back without a change of the group: that is a round
	 * too (members whose replica was dropped need the state).  Not when
	 * a group confchg came since the last totem view: that started the
	 * round already, on every member (a newcomer gets its first totem
	 * view right after the confchg of its own join; both sides of a
	 * merge get their confchgs before the totem view).  A round of its
	 * own there, with another tag, would be this member's alone. */
	if (q && !l->view_quorate && !l->confchg_since_totem) {
		if (!l->ready) {
			l->nbuf = 0;
			l->buffering = true;
		}
		lsround_start(l, v->members, v->member_count, lsround_view_tag(v));
		lspace_send_join(l, l->ready ? 0 : MSG_JOIN_SYNC);
	}
	l->view_quorate = q;
	l->confchg_since_totem = false;
	ls_quorate_now(l, clock_boottime_ms());
}

static const struct ls_cpg_callbacks cpg_cbs = {
	.deliver = cb_deliver,
	.bad_msg = cb_bad,
	.confchg = cb_confchg,
	.totem = cb_totem,
};

/* Requests and conversions this node's cache has out to the cluster. */
struct waiting_ctx {
	struct refused *rf;
	size_t n, cap;
};

static int waiting_cb(const struct nl_res_info *res, void *arg)
{
	struct waiting_ctx *c = arg;

	if (res->cl_state != NL_CL_REQUESTING && res->cl_state != NL_CL_CONVERTING)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct refused *n = realloc(c->rf, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		c->rf = n;
		c->cap = cap;
	}
	memcpy(c->rf[c->n].name, res->name, res->namelen);
	c->rf[c->n].namelen = (uint8_t)res->namelen;
	c->rf[c->n].lkid = res->cl_lkid;
	c->n++;
	return 0;
}

/* Every request and conversion this node has out to the cluster fails
 * with SDLM_ENOQUORUM (refuse_run; l->cut_off is set). */
static void fail_waiting(struct lspace *l)
{
	struct waiting_ctx c = { 0 };

	if (nl_foreach_resource(l->nl, waiting_cb, &c) < 0) {
		/* Cannot answer them: stop them rather than leave them hang. */
		log_err("ls %s: out of memory listing the waiting requests", l->name);
		lspace_revoke_all(l, SDLM_ENOQUORUM);
	} else {
		refuse_run(l, c.rf, c.n);
	}
	free(c.rf);
}

/*
 * The corosync connection is gone ("Cut off" above): no replica (it would
 * miss the stream), nothing sent, what waits for the cluster fails now.
 * The lock users stay: the heartbeat engine stops them on a pill or when
 * the lease lapses, as for a node cut off the network.
 */
static void cut_off(struct lspace *l)
{
	l->cut_off = true;
	l->ready = false;
	nl_hold_requests(l->nl);
	l->buffering = false;
	l->round_active = false;
	l->view_quorate = false;
	l->nbuf = 0;
	if (l->st) {
		ls_destroy(l->st);
		l->st = NULL;
	}
	if (l->retry_timer_armed) {
		qb_loop_timer_del(lsm.h.loop, l->retry_timer);
		l->retry_timer_armed = 0;
	}
	fail_waiting(l);
}

static int32_t cpg_ready(int32_t fd, int32_t revents, void *data)
{
	struct lspace *l = data;
	int rc;

	rc = ls_cpg_dispatch(l->cpg);
	if (rc < 0) {
		log_err("ls %s: corosync connection lost (%s): this node is cut off; "
			"its lock users keep what they hold while its lease is valid, "
			"requests that need the cluster fail (%s), and the other nodes "
			"fence this node before they grant its locks",
			l->name, sdlm_strerror(rc), sdlm_strerror(SDLM_ENOQUORUM));
		qb_loop_poll_del(lsm.h.loop, ls_cpg_fd(l->cpg));
		cut_off(l);
		return -1;
	}
	lspace_arm_retry(l);
	return 0;
}

/* --- lockspace table --------------------------------------------------- */

static struct lspace *ls_find(const char *name, size_t len)
{
	unsigned i;

	for (i = 1; i < LS_MAX; i++)
		if (lsm.ls[i] && strlen(lsm.ls[i]->name) == len && !memcmp(lsm.ls[i]->name, name, len))
			return lsm.ls[i];
	return NULL;
}

static void join_stop_waiting(struct lspace *l);

static void ls_free(struct lspace *l)
{
	size_t k;

	lsfencer_ho_drop(l);
	if (ls_cpg_joined(l->cpg))
		qb_loop_poll_del(lsm.h.loop, ls_cpg_fd(l->cpg));
	if (l->retry_timer_armed)
		qb_loop_timer_del(lsm.h.loop, l->retry_timer);
	join_stop_waiting(l);
	ls_cpg_close(l->cpg);
	if (l->st)
		ls_destroy(l->st);
	nl_destroy(l->nl);
	ls_out_free(&l->lo);
	nl_out_free(&l->no);
	free(l->buf);
	for (k = 0; k < LSXFER_MAX; k++)
		free(l->col[k].data);
	free(l);
}

static void join_fire(void *data);
static int32_t join_ready(int32_t fd, int32_t revents, void *data);

/* The join is through: from now on corosync talks to us on the fd. */
static void joined(struct lspace *l)
{
	log_notice("ls %s: joined its CPG group after %llu ms", l->name,
		   (unsigned long long)(clock_boottime_ms() - l->join_since));
	l->joining = false;
	qb_loop_poll_add(lsm.h.loop, QB_LOOP_HIGH, ls_cpg_fd(l->cpg), POLLIN, l, cpg_ready);
	lspace_arm_retry(l);
}

static void join_stop_waiting(struct lspace *l)
{
	if (l->join_polled)
		qb_loop_poll_del(lsm.h.loop, ls_cpg_join_fd(l->cpg));
	l->join_polled = false;
	if (l->join_timer_armed)
		qb_loop_timer_del(lsm.h.loop, l->join_timer);
	l->join_timer_armed = false;
}

/*
 * The join did not go through in time (or failed): every request waiting
 * for it fails with SDLM_ENOQUORUM, and the lockspace is closed (nothing
 * can be held in a lockspace never joined); the next request opens it
 * again.  A join still in corosync is abandoned to cpg.c's join thread.
 */
static void join_give_up(struct lspace *l, int why)
{
	log_err("ls %s: cannot join its CPG group in %llu ms (%s): its waiting requests fail (%s); "
		"check corosync (corosync-cfgtool -s, corosync-cpgtool) and retry",
		l->name, (unsigned long long)(clock_boottime_ms() - l->join_since),
		why == -EAGAIN ? "corosync did not let us join: try again, or no answer" :
				 sdlm_strerror(why),
		sdlm_strerror(SDLM_ENOQUORUM));
	lsm.ls[l->lsid] = NULL;
	l->cut_off = true;	/* refuse_action: what follows fails too */
	/* Never joined, so no JOIN of ours was sent in it (rounds start
	 * once joined): its member record is not ours through this open,
	 * and the hand-off's gate need not wait for it (M1). */
	nl_predecessor_gone(l->nl);
	ls_cpg_leave(l->cpg);
	fail_waiting(l);
	ls_free(l);
}

/* The join thread is done (or the settle time is over): see how it went. */
static void join_check(struct lspace *l)
{
	int rc = ls_cpg_join_step(l->cpg);
	uint64_t waited = clock_boottime_ms() - l->join_since;

	if (rc == -EAGAIN && waited < lsm.h.settle_ms) {
		/* still in corosync: come back at the end of the settle time */
		if (!l->join_timer_armed) {
			l->join_timer_armed = true;
			qb_loop_timer_add(lsm.h.loop, QB_LOOP_HIGH,
					  (lsm.h.settle_ms - waited + 1) * QB_TIME_NS_IN_MSEC,
					  l, join_fire, &l->join_timer);
		}
		return;
	}
	join_stop_waiting(l);
	if (rc == 0)
		joined(l);
	else if (rc != -ECANCELED)	/* left before it joined: this node was fenced */
		join_give_up(l, rc);
}

static void join_fire(void *data)
{
	struct lspace *l = data;

	l->join_timer_armed = false;
	join_check(l);
}

static int32_t join_ready(int32_t fd, int32_t revents, void *data)
{
	(void)fd;
	(void)revents;
	join_check(data);
	return 0;
}

static int ls_open(const char *name, size_t len, struct lspace **out)
{
	struct lspace *l;
	unsigned i;
	size_t k;
	int rc;

	for (k = 0; k < len; k++)
		if (name[k] <= ' ' || name[k] > '~' || name[k] == '/')
			return -EINVAL;
	if (lsm.h.is_fenced && lsm.h.is_fenced(lsm.h.ctx))
		return SDLM_EFENCED;	/* a fenced node joins nothing */
	for (i = 1; i < LS_MAX && lsm.ls[i]; i++)
		;
	if (i == LS_MAX)
		return -ENOSPC;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->lsid = i;
	memcpy(l->name, name, len);
	ls_out_init(&l->lo);
	nl_out_init(&l->no);
	rc = nl_create(&lsm.lkids, &l->nl);
	if (rc < 0)
		goto out_free;
	nl_hold_requests(l->nl);	/* until the replica: "Held requests" */
	rc = ls_cpg_open(l->name, lsm.h.nodeid, lsm.h.incarnation, &cpg_cbs, l, &l->cpg);
	if (rc < 0) {
		log_err("ls %s: cannot join its CPG group: %s", l->name, sdlm_strerror(rc));
		goto out_nl;
	}
	lsm.ls[i] = l;
	/* cpg.c joins in a thread; its requests wait for it, at most
	 * settle_ms (join_check) */
	log_notice("ls %s: joining", l->name);
	l->joining = true;
	l->join_since = clock_boottime_ms();
	l->join_polled = true;
	qb_loop_poll_add(lsm.h.loop, QB_LOOP_HIGH, ls_cpg_join_fd(l->cpg), POLLIN, l, join_ready);
	l->join_timer_armed = true;
	qb_loop_timer_add(lsm.h.loop, QB_LOOP_HIGH, (uint64_t)lsm.h.settle_ms * QB_TIME_NS_IN_MSEC,
			  l, join_fire, &l->join_timer);
	*out = l;
	return 0;
out_nl:
	/* No CPG handle, so no JOIN of ours in it: a cache destroyed
	 * unsure stays counted and would shut the hand-off's gate for the
	 * daemon's life (review s28-revgate, M1's counter). */
	nl_predecessor_gone(l->nl);
	nl_destroy(l->nl);
out_free:
	free(l);
	return rc;
}

int lsm_init(const struct ls_host *host)
{
	lsm.h = *host;
	return nl_lkids_init(&lsm.lkids, host->nodeid);
}

void lsm_fini(void)
{
	unsigned i;

	for (i = 1; i < LS_MAX; i++) {
		if (!lsm.ls[i])
			continue;
		ls_free(lsm.ls[i]);
		lsm.ls[i] = NULL;
	}
}

size_t lsm_count(void)
{
	size_t n = 0;
	unsigned i;

	for (i = 1; i < LS_MAX; i++)
		if (lsm.ls[i])
			n++;
	return n;
}

static struct lspace *ls_of_lkid(uint64_t lkid, uint64_t *local)
{
	unsigned id = (unsigned)(lkid >> LSID_SHIFT);

	if (id == 0 || id >= LS_MAX || !lsm.ls[id])
		return NULL;
	*local = lkid & ((1ULL << LSID_SHIFT) - 1);
	return lsm.ls[id];
}

/* --- client calls -------------------------------------------------------- */

/* New lock use: the fence side's word, and none once a clean stop began
 * (a user granted after lsm_stop_users would never be stopped). */
static int lsm_may_use(void)
{
	return lsm.stopping ? SDLM_EDAEMON : lsm.h.may_use(lsm.h.ctx);
}

int lsm_lock(uint32_t client, uint64_t ref, const char *ls, size_t ls_len,
	     const void *res, size_t res_len, int mode, uint32_t flags,
	     uint64_t *lkid)
{
	struct lspace *l;
	uint64_t local = 0;
	int rc;

	if (!ls_len || ls_len > SDLM_NAME_MAX || !res_len || res_len > SDLM_NAME_MAX)
		return -EINVAL;
	l = ls_find(ls, ls_len);
	if (!l) {
		rc = ls_open(ls, ls_len, &l);
		if (rc < 0)
			return rc;
	}
	if (l->self_refused)
		return SDLM_EFENCED;
	nl_set_now(l->nl, qb_util_nano_current_get());
	rc = nl_lock(l->nl, client, ref, res, res_len, mode, flags, lsm_may_use(),
		     &local, &l->no);
	if (rc == 0)
		*lkid = lspace_global_lkid(l, local);
	lspace_run_nl_out(l);
	return rc;
}

int lsm_convert(uint32_t client, uint64_t lkid, int mode, uint32_t flags,
		const uint8_t *lvb)
{
	uint64_t local;
	struct lspace *l = ls_of_lkid(lkid, &local);
	int rc;

	if (!l)
		return -ENOENT;
	nl_set_now(l->nl, qb_util_nano_current_get());
	rc = nl_convert(l->nl, client, local, mode, flags, lvb, lsm_may_use(), &l->no);
	lspace_run_nl_out(l);
	return rc;
}

int lsm_unlock(uint32_t client, uint64_t lkid, uint32_t flags, const uint8_t *lvb)
{
	uint64_t local;
	struct lspace *l = ls_of_lkid(lkid, &local);
	int rc;

	if (!l)
		return -ENOENT;
	rc = nl_unlock(l->nl, client, local, flags, lvb, &l->no);
	lspace_run_nl_out(l);
	return rc;
}

int lsm_cancel(uint32_t client, uint64_t lkid)
{
	uint64_t local;
	struct lspace *l = ls_of_lkid(lkid, &local);
	int rc;

	if (!l)
		return -ENOENT;
	rc = nl_cancel(l->nl, client, local, &l->no);
	lspace_run_nl_out(l);
	return rc;
}

int lsm_lock_owner(uint64_t lkid, uint32_t *client)
{
	uint64_t local;
	struct lspace *l = ls_of_lkid(lkid, &local);

	return l ? nl_lock_owner(l->nl, local, client) : -ENOENT;
}

void lsm_client_gone(uint32_t client)
{
	unsigned i;

	for (i = 1; i < LS_MAX; i++)
		if (lsm.ls[i]) {
			nl_client_gone(lsm.ls[i]->nl, client, &lsm.ls[i]->no);
			lspace_run_nl_out(lsm.ls[i]);
			lsrec_maybe_clean(lsm.ls[i]);
		}
}

void lspace_revoke_all(struct lspace *l, int reason)
{
	uint32_t *clients = NULL;
	size_t n = 0;

	if (nl_stop_all(l->nl, &clients, &n) < 0) {
		log_err("ls %s: %s: out of memory listing the local lock holders: "
			"this node will not acknowledge a pill", l->name,
			sdlm_strerror(reason));
		if (lsm.h.kill_lost)
			lsm.h.kill_lost(lsm.h.ctx);
	}
	if (n) {
		log_notice("ls %s: %s: stopping %zu local lock holder(s)", l->name,
			   sdlm_strerror(reason), n);
		lsm.h.kill_clients(lsm.h.ctx, clients, n);
	}
	free(clients);
}

void lsm_stop_all(int reason)
{
	unsigned i;

	for (i = 1; i < LS_MAX; i++)
		if (lsm.ls[i])
			lspace_revoke_all(lsm.ls[i], reason);
}
void lsm_self_fenced(void)
{
	unsigned i;

	for (i = 1; i < LS_MAX; i++)
		if (lsm.ls[i])
			lsround_leave(lsm.ls[i]);
}

void lsm_tick(uint64_t now)
{
	unsigned i;

	for (i = 1; i < LS_MAX; i++) {
		struct lspace *l = lsm.ls[i];

		if (!l)
			continue;
		/* No fencer duties here any more: F6, before the bound of a
		 * request no fencer stands behind can fence anybody. */
		if (l->cut_off || l->joining || l->gone)
			lsfencer_ho_drop(l);
		if (l->cut_off || l->joining)
			continue;
		if (l->gone) {
			lsround_leave(l);		/* retries a busy leave */
			continue;
		}
		ls_cpg_flush(l->cpg);
		lspace_arm_retry(l);
		if (l->stale_pending)
			lsrec_release_stale(l);
		lsrec_predecessor_check(l);
		lsrec_maybe_clean(l);
		lsfencer_duties(l, now);
		ls_quorate_now(l, clock_boottime_ms());
	}
	lsfencer_ho_tick(now);
}

/* ---- the hand-off through the disk: the away node's side ---------------- */

/* The lockspace whose cache holds cluster lock lkid (HELD), or NULL. */
static struct lspace *ho_ls(uint64_t lkid)
{
	unsigned i;

	for (i = 1; i < LS_MAX; i++)
		if (lsm.ls[i] && lsm.ls[i]->nl && nl_handoff_held(lsm.ls[i]->nl, lkid))
			return lsm.ls[i];
	return NULL;
}

bool lsm_ho_held(uint64_t lkid)
{
	return ho_ls(lkid) != NULL;
}

/* Some cache must say so: with none open nothing vouches for the id
 * (and none can say the hand-off's gate is open, review s28-rev19 M1). */
bool lsm_ho_unknown(uint64_t lkid)
{
	bool asked = false;
	unsigned i;

	for (i = 1; i < LS_MAX; i++) {
		if (!lsm.ls[i] || !lsm.ls[i]->nl)
			continue;
		if (!nl_handoff_unknown(lsm.ls[i]->nl, lkid))
			return false;
		asked = true;
	}
	return asked;
}

/* lsm_ho_unknown for a grant already stopping: M1's gate left out. */
bool lsm_ho_forgotten(uint64_t lkid)
{
	bool asked = false;
	unsigned i;

	for (i = 1; i < LS_MAX; i++) {
		if (!lsm.ls[i] || !lsm.ls[i]->nl)
			continue;
		if (!nl_handoff_forgotten(lsm.ls[i]->nl, lkid))
			return false;
		asked = true;
	}
	return asked;
}

size_t lsm_ho_clients(uint64_t lkid, uint32_t *clients, size_t max)
{
	struct lspace *l = ho_ls(lkid);

	return l ? nl_handoff_clients(l->nl, lkid, clients, max) : 0;
}

size_t lsm_ho_locks(uint64_t lkid, uint32_t *clients, uint64_t *lkids, size_t max)
{
	struct lspace *l = ho_ls(lkid);
	size_t n, i;

	if (!l)
		return 0;
	n = nl_handoff_locks(l->nl, lkid, clients, lkids, max);
	for (i = 0; i < n && i < max; i++)
		lkids[i] = lspace_global_lkid(l, lkids[i]);
	return n;
}

int lsm_ho_stop(uint64_t lkid)
{
	struct lspace *l = ho_ls(lkid);
	int rc;

	if (!l)
		return -ENOENT;
	rc = nl_handoff_stop(l->nl, lkid, &l->no);
	log_notice("ls %s: cluster lock %016llx asked for through the disk: stopping its holders",
		   l->name, (unsigned long long)lkid);
	lspace_run_nl_out(l);
	return rc;
}

int lsm_ho_keep(uint64_t lkid)
{
	struct lspace *l = ho_ls(lkid);
	int rc;

	if (!l)
		return -ENOENT;
	rc = nl_handoff_keep(l->nl, lkid, &l->no);
	if (rc == 0)
		log_notice("ls %s: cluster lock %016llx no longer asked for: kept", l->name,
			   (unsigned long long)lkid);
	lspace_run_nl_out(l);
	return rc;
}

int lsm_ho_gone(uint64_t lkid)
{
	struct lspace *l = ho_ls(lkid);
	int rc;

	if (!l)
		return -ENOENT;
	/* V3: from this write's submission on the lock is never used here
	 * again; a request still waiting for it fails and says why. */
	rc = nl_handoff_gone(l->nl, lkid, SDLM_EHANDEDOFF, &l->no);
	log_notice("ls %s: cluster lock %016llx handed off through the disk while cut off: gone from this node",
		   l->name, (unsigned long long)lkid);
	lspace_run_nl_out(l);
	return rc;
}

int lsm_ho_state(uint64_t lkid, uint32_t *holders, uint8_t *lvb, bool *lvb_valid)
{
	struct lspace *l = ho_ls(lkid);

	return l ? nl_handoff_state(l->nl, lkid, holders, lvb, lvb_valid) : -ENOENT;
}

bool lsm_ho_member(void)
{
	unsigned i;

	for (i = 1; i < LS_MAX; i++) {
		struct lspace *l = lsm.ls[i];

		if (!l || l->gone)
			continue;
		if (!l->ready || !l->st || !ls_quorate(l->st) || l->cut_off ||
		    lspace_refusing(l))
			return false;
	}
	return true;
}

void lsm_set_expected(uint32_t n)
{
	if (n && n != lsm.h.expected_nodes) {
		log_notice("lock manager: %u nodes expected (was %u)", n, lsm.h.expected_nodes);
		lsm.h.expected_nodes = n;
	}
}

/*
 * Clean stop, in two steps (sdlmd.c, users_gone_check).  First every
 * local lock user is stopped (killed: its locks are about to go) and no
 * new lock use is accepted; the value blocks our cache still had are
 * kept.  Only once every killed user is gone - killed AND reaped, as
 * before a pill's acknowledgement: a killed process in the middle of a
 * write is still there - every cluster lock of this node is released or
 * cancelled through the ordered stream, with those value blocks, so no
 * other node ever waits for a daemon that left.
 */
struct shut_lvb {
	uint64_t lkid;
	uint8_t lvb[LS_LVB_LEN];
};

struct shut_ctx {
	struct lspace *l;
};

static int shut_lvb(const struct nl_res_info *res, void *arg)
{
	(void)arg;
	if (!res->cl_lkid || !res->lvb_valid || !res->lvb)
		return 0;
	if (lsm.shut_n == lsm.shut_cap) {
		size_t cap = lsm.shut_cap ? 2 * lsm.shut_cap : 16;
		void *n = realloc(lsm.shut_lv, cap * sizeof(*lsm.shut_lv));

		if (!n)
			return 0;	/* released without it: the LVB is invalid */
		lsm.shut_lv = n;
		lsm.shut_cap = cap;
	}
	lsm.shut_lv[lsm.shut_n].lkid = res->cl_lkid;
	memcpy(lsm.shut_lv[lsm.shut_n].lvb, res->lvb, LS_LVB_LEN);
	lsm.shut_n++;
	return 0;
}

static int shut_lock(const struct ls_lock_info *lk, void *arg)
{
	struct shut_ctx *c = arg;
	struct ls_event ev;
	size_t i;

	if (lk->nodeid != lsm.h.nodeid)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.ev_nodeid = lsm.h.nodeid;
	ev.ev_lkid = lk->lkid;
	ev.ev_kind = lk->queue == LS_Q_GRANTED ? LS_EV_RELEASE : LS_EV_CANCEL;
	/* lkids are unique across the daemon's lockspaces (nl_lkids) */
	if (ev.ev_kind == LS_EV_RELEASE && mode_is_write(lk->grmode))
		for (i = 0; i < lsm.shut_n; i++)
			if (lsm.shut_lv[i].lkid == lk->lkid)
				ev.ev_lvb = lsm.shut_lv[i].lvb;
	lspace_send_event(c->l, &ev);
	return 0;
}

static int shut_res(const struct ls_res_info *res, void *arg)
{
	struct shut_ctx *c = arg;

	return ls_foreach_lock(c->l->st, res->name, res->namelen, shut_lock, c);
}

void lsm_stop_users(void)
{
	unsigned i;

	lsm.stopping = true;
	for (i = 1; i < LS_MAX; i++) {
		struct lspace *l = lsm.ls[i];

		if (!l)
			continue;
		nl_foreach_resource(l->nl, shut_lvb, NULL);
		lspace_revoke_all(l, SDLM_EDAEMON);
	}
}

void lsm_release_own(void)
{
	unsigned i;

	for (i = 1; i < LS_MAX; i++) {
		struct lspace *l = lsm.ls[i];
		struct shut_ctx c = { .l = l };

		if (!l)
			continue;
		if (l->ready && l->st)
			ls_foreach_resource(l->st, shut_res, &c);
		ls_cpg_flush(l->cpg);
	}
	free(lsm.shut_lv);
	lsm.shut_lv = NULL;
	lsm.shut_n = lsm.shut_cap = 0;
}

/* Locks of this node still in a ready replica (the releases not applied yet). */
size_t lsm_own_locks(void)
{
	size_t n = 0;
	unsigned i;

	for (i = 1; i < LS_MAX; i++) {
		struct lspace *l = lsm.ls[i];
		struct ls_node_info ni;

		if (l && l->ready && l->st && ls_node_get(l->st, lsm.h.nodeid, &ni) == 0)
			n += ni.lock_count;
	}
	return n;
}
