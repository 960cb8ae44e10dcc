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
 * Membership.  Group and totem confchgs become CONFCHG events (members of
 * the group; quorate = 2 * ring > expected nodes, from cpg.c's ring view,
 * which never counts a node known down).  A node that leaves keeps its
 * locks (away is not dead); only NODE_FENCED releases them.
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
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sdlm.h"
#include "log.h"
#include "modes.h"
#include "lockstate.h"
#include "nodelock.h"
#include "msg.h"
#include "cpg.h"
#include "crc32c.h"
#include "lockspace.h"

#define LS_MAX		256		/* lockspaces per daemon */
#define LSID_SHIFT	48		/* global lkid = lsid << 48 | local */
#define NODES_MAX	LS_CPG_MAX_NODES
#define STATUS_RESEND_MS 3000
#define SDLM_MAX_NODES_LS 255	/* node ids with a disk slot */

/* Something delivered while we wait for the state, kept for the replay. */
enum buf_kind { BUF_MSG, BUF_CONFCHG, BUF_TOTEM };

struct buffered {
	enum buf_kind kind;
	struct msg m;			/* BUF_MSG; a chunk keeps no data */
	uint32_t members[NODES_MAX];
	size_t n_members;
	uint32_t left[NODES_MAX];
	size_t n_left;
	uint32_t joined[NODES_MAX];
	size_t n_joined;
	bool quorate;
	uint64_t ring_id;
};

/* A state transfer in progress, as every ready member tracks it. */
struct xfer {
	bool active;
	uint32_t sender;
	uint64_t xfer_id;
	uint32_t basis_node;
	uint64_t basis_inc, basis_seq;
	uint32_t waiting[NODES_MAX];	/* who becomes ready when it ends */
	size_t n_waiting;
	uint32_t total, got;
};

#define XFER_MAX	8

/* A transfer we (not ready) collect, keyed by (sender, xfer_id). */
struct collect {
	bool active;
	uint32_t sender;
	uint64_t xfer_id;
	uint8_t *data;
	uint32_t total, got, crc;
	uint32_t basis_node;
	uint64_t basis_inc, basis_seq;
};

struct lspace {
	unsigned lsid;
	char name[SDLM_NAME_MAX + 1];
	struct ls_cpg *cpg;
	struct ls_state *st;		/* NULL while not ready */
	struct nl_state *nl;
	struct ls_out lo;
	struct nl_out no;
	bool ready;			/* our replica is current */
	bool tainted;			/* built while not quorate */
	bool own_join_seen;		/* a confchg was buffered already */
	bool buffering;			/* not ready: keeping the stream */
	bool replaying;
	/* the current sync round (see "sync rounds") */
	bool round_active;
	bool view_quorate;
	uint32_t round_members[NODES_MAX];
	uint32_t round_flags[NODES_MAX];
	struct msg_proto_range round_proto[NODES_MAX];
	uint16_t proto_agreed;		/* protocol version of the lockspace */
	uint32_t incompatible[NODES_MAX];	/* members outside it: ignored */
	size_t n_incompatible;
	bool round_got[NODES_MAX];
	size_t n_round, n_round_got;
	struct buffered *buf;
	size_t nbuf, capbuf;
	/* Replicated bookkeeping, valid while ready (same on every ready
	 * member because it changes only at points of the ordered stream). */
	uint32_t ready_nodes[NODES_MAX];
	size_t n_ready;
	uint32_t tainted_nodes[NODES_MAX];
	size_t n_tainted;
	uint32_t waiting_nodes[NODES_MAX];
	size_t n_waiting;
	/* Members that still used locks cached before a fresh replica was
	 * formed: it grants nothing until each reported CLEAN or was
	 * fenced ("Fresh replicas and cached locks" below). */
	uint32_t dirty_nodes[NODES_MAX];
	size_t n_dirty;
	bool clean_sent;		/* our CLEAN for the current dirty set */
	struct xfer xf[XFER_MAX];
	struct collect col[XFER_MAX];
	/* fencer duties */
	uint64_t need_fence_since[SDLM_MAX_NODES_LS + 1];
	uint64_t status_sent_ms[SDLM_MAX_NODES_LS + 1];
	uint64_t gate_sent_ms;
	bool cold_blocked[SDLM_MAX_NODES_LS + 1];
	uint64_t cold_since[SDLM_MAX_NODES_LS + 1];
	bool cold_fencing[SDLM_MAX_NODES_LS + 1];
	uint64_t retry_timer_armed;
	qb_loop_timer_handle retry_timer;
	uint64_t n_sent;		/* CPG messages sent (stats, tests) */
	uint64_t n_delivered;
};

static struct {
	struct ls_host h;
	struct lspace *ls[LS_MAX];
	struct lsm_stats st;
} M;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --- small sets of node ids ------------------------------------------- */

static bool set_has(const uint32_t *s, size_t n, uint32_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == v)
			return true;
	return false;
}

static void set_add(uint32_t *s, size_t *n, uint32_t v)
{
	size_t i, j;

	if (set_has(s, *n, v) || *n >= NODES_MAX)
		return;
	for (i = 0; i < *n && s[i] < v; i++)
		;
	for (j = *n; j > i; j--)
		s[j] = s[j - 1];
	s[i] = v;
	(*n)++;
}

static void set_del(uint32_t *s, size_t *n, uint32_t v)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (s[i] == v) {
			memmove(s + i, s + i + 1, (*n - i - 1) * sizeof(*s));
			(*n)--;
			return;
		}
}

/*
 * Quorum for granting, from the ordered ring view: a majority of the
 * expected nodes; in a two-node cluster also a lone node that won the
 * arbitration on the disk (its peer is fenced).
 */
static bool view_quorate(const struct ls_cpg_view *v)
{
	if (ls_cpg_quorate(v, M.h.expected_nodes))
		return true;
	return M.h.alone_quorate && v->ring_count == 1 && v->ring[0] == M.h.nodeid &&
	       M.h.alone_quorate(M.h.ctx);
}

/* A two-node cluster's lone node keeps its replica: nobody else can
 * advance it, and it either wins the arbitration or is fenced. */
static bool keep_alone(const struct ls_cpg_view *v)
{
	return M.h.alone_quorate && M.h.expected_nodes == 2 && v->member_count <= 1;
}

/* --- sending ---------------------------------------------------------- */

static void arm_retry(struct lspace *l);

static int send_msg(struct lspace *l, struct msg *m)
{
	int rc = ls_cpg_send(l->cpg, m);

	l->n_sent++;
	M.st.msgs_sent++;
	if (rc < 0)
		log_warn("ls %s: send %s: %s", l->name, msg_type_name(m->m_type),
			 sdlm_strerror(rc));
	arm_retry(l);
	return rc;
}

static int send_event(struct lspace *l, const struct ls_event *ev)
{
	struct msg m;
	int rc;

	memset(&m, 0, sizeof(m));
	rc = msg_from_event(ev, &m);
	if (rc < 0)
		return rc;
	return send_msg(l, &m);
}

static bool has_cached(struct lspace *l);

static int send_join(struct lspace *l, uint32_t flags)
{
	struct msg m;

	if ((flags & MSG_JOIN_SYNC) && has_cached(l))
		flags |= MSG_JOIN_CACHED;
	memset(&m, 0, sizeof(m));
	m.m_type = MSG_JOIN;
	m.u.join.proto_min = MSG_PROTO_MIN;
	m.u.join.proto_max = MSG_PROTO_MAX;
	m.u.join.flags = flags;
	log_debug("ls %s: JOIN%s%s%s%s", l->name, flags & MSG_JOIN_SYNC ? " sync" : "",
		  flags & MSG_JOIN_TAINTED ? " tainted" : "",
		  flags & MSG_JOIN_CACHED ? " cached" : "",
		  flags & MSG_JOIN_CLEAN ? " clean" : "");
	return send_msg(l, &m);
}

static void retry_fire(void *data)
{
	struct lspace *l = data;

	l->retry_timer_armed = 0;
	ls_cpg_flush(l->cpg);
	arm_retry(l);
}

static void arm_retry(struct lspace *l)
{
	int ms = ls_cpg_retry_ms(l->cpg);

	if (ms < 0 || l->retry_timer_armed)
		return;
	l->retry_timer_armed = 1;
	qb_loop_timer_add(M.h.loop, QB_LOOP_HIGH, (uint64_t)(ms ? ms : 1) * QB_TIME_NS_IN_MSEC,
			  l, retry_fire, &l->retry_timer);
}

/* --- applying nodelock actions and cluster decisions ------------------ */

static uint64_t global_lkid(const struct lspace *l, uint64_t local)
{
	return ((uint64_t)l->lsid << LSID_SHIFT) | local;
}

static void run_nl_out(struct lspace *l)
{
	size_t i;

	for (i = 0; i < l->no.count; i++) {
		const struct nl_out_item *o = &l->no.items[i];
		struct ls_event ev;

		memset(&ev, 0, sizeof(ev));
		ev.ev_nodeid = M.h.nodeid;
		ev.ev_lkid = o->o_lkid;
		ev.ev_mode = o->o_mode;
		ev.ev_flags = o->o_flags & LS_LKF_ALL;
		ev.ev_name = o->o_name;
		ev.ev_namelen = o->o_namelen;
		switch (o->o_kind) {
		case NL_OUT_LOCAL_GRANT:
			M.st.local_grants++;
			log_debug("ls %s: client %u granted %s (lkid %llx)", l->name, o->o_client,
				  mode_name(o->o_mode), (unsigned long long)o->o_local_lkid);
			M.h.ast(M.h.ctx, o->o_client, global_lkid(l, o->o_local_lkid),
				o->o_client_ref, 0, o->o_mode, o->o_lvb, o->o_lvb_valid,
				o->o_epoch);
			break;
		case NL_OUT_LOCAL_FAIL:
			M.h.ast(M.h.ctx, o->o_client, global_lkid(l, o->o_local_lkid),
				o->o_client_ref, o->o_err, o->o_mode, NULL, false, 0);
			break;
		case NL_OUT_LOCAL_BAST:
			M.st.local_basts++;
			M.h.bast(M.h.ctx, o->o_client, global_lkid(l, o->o_local_lkid),
				 o->o_client_ref, o->o_mode);
			break;
		case NL_OUT_CLUSTER_REQUEST:
			M.st.cluster_requests++;
			log_debug("ls %s: send REQUEST %016llx %s", l->name,
				  (unsigned long long)o->o_lkid, mode_name(o->o_mode));
			ev.ev_kind = LS_EV_REQUEST;
			send_event(l, &ev);
			break;
		case NL_OUT_CLUSTER_CONVERT:
			ev.ev_kind = LS_EV_CONVERT;
			ev.ev_lvb = o->o_lvb_valid ? o->o_lvb : NULL;
			send_event(l, &ev);
			break;
		case NL_OUT_CLUSTER_RELEASE:
			ev.ev_kind = LS_EV_RELEASE;
			ev.ev_lvb = o->o_lvb_valid ? o->o_lvb : NULL;
			send_event(l, &ev);
			break;
		case NL_OUT_CLUSTER_CANCEL:
			ev.ev_kind = LS_EV_CANCEL;
			send_event(l, &ev);
			break;
		}
	}
	if (l->no.lost)
		log_err("ls %s: node-level actions lost (out of memory)", l->name);
	nl_out_reset(&l->no);
}

static bool am_fencer(const struct lspace *l)
{
	return l->ready && l->st && ls_quorate(l->st) && l->n_ready &&
	       l->ready_nodes[0] == M.h.nodeid;
}

static void run_ls_out(struct lspace *l)
{
	size_t i;

	for (i = 0; i < l->lo.count; i++) {
		const struct ls_out_item *o = &l->lo.items[i];

		if (o->o_kind == LS_OUT_NEED_FENCE) {
			if (o->o_nodeid <= SDLM_MAX_NODES_LS && !l->need_fence_since[o->o_nodeid]) {
				l->need_fence_since[o->o_nodeid] = now_ms();
				log_info("ls %s: node %u: away and holding a wanted lock", l->name,
					 o->o_nodeid);
			}
			continue;
		}
		if (o->o_nodeid != M.h.nodeid)
			continue;
		switch (o->o_kind) {
		case LS_OUT_GRANTED:
			M.st.cluster_grants++;
			log_debug("ls %s: cluster grant %s %016llx", l->name, mode_name(o->o_mode),
				  (unsigned long long)o->o_lkid);
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
			M.st.blocking++;
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
		run_nl_out(l);
	}
	if (l->lo.lost)
		log_err("ls %s: cluster decisions lost (out of memory)", l->name);
	ls_out_reset(&l->lo);
}

static void apply_event(struct lspace *l, const struct ls_event *ev)
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
}

static void apply_confchg(struct lspace *l, const uint32_t *members, size_t n,
			  bool quorate, uint64_t ring_id)
{
	struct ls_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ev_kind = LS_EV_CONFCHG;
	ev.ev_members = members;
	ev.ev_member_count = n;
	ev.ev_quorate = quorate;
	ev.ev_ring_id = ring_id;
	apply_event(l, &ev);
}

/* --- reconciliation after a state transfer ---------------------------- */

/*
 * Our cluster locks in the received state that our cache does not know
 * (released while we were in a minority, or held by a previous
 * incarnation of this daemon): release them.  Locks our cache holds that
 * the state does not: we were fenced meanwhile; revoke everything.
 */
struct mine_ctx {
	struct lspace *l;
	const struct ls_res_info *res;
	uint64_t cached_lkid;
	int n_release;
};

static int mine_lock(const struct ls_lock_info *lk, void *arg)
{
	struct mine_ctx *c = arg;
	struct ls_event ev;

	if (lk->nodeid != M.h.nodeid || lk->lkid == c->cached_lkid)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.ev_nodeid = M.h.nodeid;
	ev.ev_lkid = lk->lkid;
	if (lk->queue == LS_Q_GRANTED) {
		ev.ev_kind = LS_EV_RELEASE;
	} else {
		ev.ev_kind = LS_EV_CANCEL;
	}
	log_info("ls %s: releasing stale cluster lock %016llx", c->l->name,
		 (unsigned long long)lk->lkid);
	send_event(c->l, &ev);
	c->n_release++;
	return 0;
}

static int mine_res(const struct ls_res_info *res, void *arg)
{
	struct mine_ctx *c = arg;
	struct nl_res_info ni;

	c->res = res;
	c->cached_lkid = nl_res_get(c->l->nl, res->name, res->namelen, &ni) == 0 ?
		ni.cl_lkid : 0;
	return ls_foreach_lock(c->l->st, res->name, res->namelen, mine_lock, c);
}

static void revoke_all(struct lspace *l, int reason);
static void fencer_duties(struct lspace *l, uint64_t now);

/*
 * Fresh replicas and cached locks.  After every partition lost quorum,
 * the nodes keep using the cluster locks they cached; the replica the
 * next quorate round forms knows none of them.  Each member that still
 * uses such locks says CACHED in its round JOIN; if the round forms a
 * fresh replica, those members are its dirty set.  A dirty member that
 * got the state revokes its cached locks (reconcile: they are missing)
 * and, once every lock user it killed is reaped, multicasts JOIN(CLEAN).
 * The fencer opens the cold-start gate only with an empty dirty set; a
 * dirty node that left is fenced instead (its NODE_FENCED clears it).
 * docs/model.md, finding 2.
 */
static int cached_cb(const struct nl_res_info *res, void *arg)
{
	(void)arg;
	return res->cl_state == NL_CL_HELD || res->cl_state == NL_CL_CONVERTING;
}

static bool has_cached(struct lspace *l)
{
	return l->nl && nl_foreach_resource(l->nl, cached_cb, NULL) > 0;
}

static void maybe_clean(struct lspace *l)
{
	if (!l->ready || l->clean_sent || !set_has(l->dirty_nodes, l->n_dirty, M.h.nodeid))
		return;
	if (has_cached(l) || (M.h.clients_stopping && M.h.clients_stopping(M.h.ctx)))
		return;
	log_notice("ls %s: every user of the locks cached before quorum was lost is gone: reporting clean",
		   l->name);
	l->clean_sent = true;
	send_join(l, MSG_JOIN_CLEAN);
}

/*
 * Decisions about our own locks that were taken before we had a replica
 * (while we waited for the state) never reached our cache: a grant of a
 * request we sent, or another node waiting for a lock we hold.  They are
 * derived from the received state and fed to the cache now.
 */
enum fix_kind { FIX_GRANTED, FIX_BLOCKING, FIX_RELEASED, FIX_FAILED };

struct fixup {
	enum fix_kind kind;
	uint8_t name[LS_NAME_MAX];
	size_t namelen;
	uint64_t lkid, epoch;
	int mode;
	bool lvb_valid;
	uint8_t lvb[LS_LVB_LEN];
};

struct cache_ctx {
	struct lspace *l;
	bool missing;
	struct fixup *fx;
	size_t nfx, capfx;
	/* for the blocking scan of one resource */
	int my_mode;
	int wanted;
};

static struct fixup *fixup_add(struct cache_ctx *c, enum fix_kind kind,
				const struct nl_res_info *res)
{
	struct fixup *fx;

	if (c->nfx == c->capfx) {
		size_t cap = c->capfx ? 2 * c->capfx : 16;
		struct fixup *n = realloc(c->fx, cap * sizeof(*n));

		if (!n)
			return NULL;
		c->fx = n;
		c->capfx = cap;
	}
	fx = &c->fx[c->nfx++];
	memset(fx, 0, sizeof(*fx));
	fx->kind = kind;
	memcpy(fx->name, res->name, res->namelen);
	fx->namelen = res->namelen;
	fx->lkid = res->cl_lkid;
	return fx;
}

static int wanted_scan(const struct ls_lock_info *lk, void *arg)
{
	struct cache_ctx *c = arg;

	if (lk->nodeid != M.h.nodeid && lk->queue != LS_Q_GRANTED &&
	    !mode_compat(c->my_mode, lk->rqmode) && c->wanted < 0)
		c->wanted = lk->rqmode;
	return 0;
}

struct res_find {
	const uint8_t *name;
	size_t len;
	struct ls_res_info info;
	bool found;
};

static int res_find_cb(const struct ls_res_info *r, void *arg)
{
	struct res_find *f = arg;

	if (r->namelen == f->len && !memcmp(r->name, f->name, f->len)) {
		f->info = *r;
		f->found = true;
		return 1;
	}
	return 0;
}

/* Send one of our cluster actions again (reconcile: it was lost). */
static void resend(struct lspace *l, const struct nl_res_info *res, enum ls_event_kind kind,
		   int mode)
{
	struct ls_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ev_kind = kind;
	ev.ev_nodeid = M.h.nodeid;
	ev.ev_lkid = res->cl_lkid;
	ev.ev_mode = mode;
	ev.ev_name = res->name;
	ev.ev_namelen = res->namelen;
	/* The value block the lost message carried: our cache still has it.
	 * Without one, a write holder invalidates it rather than leave an
	 * older holder's value standing (the next holder then reads what is
	 * durable: a UID watermark never goes backwards). */
	if ((kind == LS_EV_RELEASE || kind == LS_EV_CONVERT) && mode_is_write(res->cl_mode)) {
		if (res->lvb_valid)
			ev.ev_lvb = res->lvb;
		else
			ev.ev_flags = LS_LKF_IVVALBLK;
	}
	log_info("ls %s: %s of %016llx never reached the cluster (sent in a partition): sending it again",
		 l->name, kind == LS_EV_REQUEST ? "REQUEST" : kind == LS_EV_CONVERT ? "CONVERT" :
		 kind == LS_EV_RELEASE ? "RELEASE" : "CANCEL", (unsigned long long)res->cl_lkid);
	send_event(l, &ev);
}

/*
 * Bring one resource of our cache and the received state together.  What
 * we sent while we had no replica either reached the cluster before the
 * basis (its effect is in the state; the decision about it may not have
 * reached our cache: a fixup), after it (replayed already), or never - it
 * went out in a partition that did not survive (EVS delivers it to that
 * partition only): then it is sent again.  A duplicate of something that
 * did arrive is refused by the state machine and harmless (lkids are never
 * reused).
 *
 *   cache        state shows                      action
 *   REQUESTING   nothing                          cancel sent: fail it; else REQUEST again
 *   REQUESTING   waiting                          cancel sent: CANCEL again
 *   REQUESTING   granted                          fixup GRANTED
 *   CONVERTING   converting                       (in progress)
 *   CONVERTING   granted in the mode asked        fixup GRANTED
 *   CONVERTING   granted in the old mode          cancel sent: fail it; else CONVERT again
 *   RELEASING    granted                          RELEASE again (with our value block)
 *   RELEASING    nothing                          fixup RELEASED
 *   HELD         nothing, or only waiting         we were fenced meanwhile: revoke all
 *   HELD/CONV.   granted, another node waits      fixup BLOCKING
 */
static int cache_res(const struct nl_res_info *res, void *arg)
{
	struct cache_ctx *c = arg;
	struct ls_lock_info li;
	struct fixup *fx;
	bool known;

	if (res->cl_state == NL_CL_NONE)
		return 0;
	known = ls_lock_get(c->l->st, res->cl_lkid, &li) == 0;
	switch (res->cl_state) {
	case NL_CL_RELEASING:
		if (known && li.queue == LS_Q_GRANTED) {
			resend(c->l, res, LS_EV_RELEASE, MODE_NONE);
		} else if (!known) {
			if (!fixup_add(c, FIX_RELEASED, res))
				return -ENOMEM;
		}
		return 0;
	case NL_CL_REQUESTING:
		if (!known || li.queue == LS_Q_WAIT) {
			if (res->cancel_sent && known) {
				resend(c->l, res, LS_EV_CANCEL, MODE_NONE);
			} else if (res->cancel_sent) {
				if (!fixup_add(c, FIX_FAILED, res))
					return -ENOMEM;
			} else if (!known) {
				/* Our request went out before the state we now
				 * have was formed, or in a lost partition. */
				resend(c->l, res, LS_EV_REQUEST, res->cl_rqmode);
			}
			return 0;
		}
		break;
	case NL_CL_CONVERTING:
		if (!known || li.queue == LS_Q_WAIT) {
			c->missing = true;
			return 0;
		}
		if (li.queue == LS_Q_GRANTED && li.grmode != res->cl_rqmode) {
			if (res->cancel_sent) {
				if (!fixup_add(c, FIX_FAILED, res))
					return -ENOMEM;
			} else {
				resend(c->l, res, LS_EV_CONVERT, res->cl_rqmode);
			}
			return 0;
		}
		break;
	case NL_CL_HELD:
		if (!known || li.queue == LS_Q_WAIT) {
			c->missing = true;
			return 0;
		}
		break;
	default:
		return 0;
	}
	/* Granted (or converted) before we had a replica. */
	if ((res->cl_state == NL_CL_REQUESTING && li.queue == LS_Q_GRANTED) ||
	    (res->cl_state == NL_CL_CONVERTING && li.queue == LS_Q_GRANTED &&
	     li.grmode == res->cl_rqmode)) {
		struct res_find f = { .name = res->name, .len = res->namelen };

		ls_foreach_resource(c->l->st, res_find_cb, &f);
		fx = fixup_add(c, FIX_GRANTED, res);
		if (!fx)
			return -ENOMEM;
		fx->mode = li.grmode;
		if (f.found) {
			fx->lvb_valid = f.info.lvb_valid;
			if (f.info.lvb_valid && f.info.lvb)
				memcpy(fx->lvb, f.info.lvb, LS_LVB_LEN);
			fx->epoch = f.info.epoch;
		}
	}
	/* Someone waits behind our granted lock. */
	if (li.queue == LS_Q_GRANTED || li.queue == LS_Q_CONVERT) {
		c->my_mode = li.grmode;
		c->wanted = -1;
		ls_foreach_lock(c->l->st, res->name, res->namelen, wanted_scan, c);
		if (c->wanted >= 0) {
			fx = fixup_add(c, FIX_BLOCKING, res);
			if (!fx)
				return -ENOMEM;
			fx->mode = c->wanted;
		}
	}
	return 0;
}

static void reconcile(struct lspace *l)
{
	struct mine_ctx mc = { .l = l };
	struct cache_ctx cc = { .l = l };
	size_t i;

	nl_foreach_resource(l->nl, cache_res, &cc);
	if (cc.missing) {
		log_warn("ls %s: the cluster state no longer shows locks this node holds: revoking every local lock",
			 l->name);
		revoke_all(l, SDLM_EFENCED);
	} else {
		for (i = 0; i < cc.nfx; i++) {
			struct fixup *f = &cc.fx[i];

			switch (f->kind) {
			case FIX_GRANTED:
				log_debug("ls %s: granted before we had the state: %016llx", l->name,
					  (unsigned long long)f->lkid);
				nl_cluster_granted(l->nl, f->name, f->namelen, f->lkid, f->mode,
						   f->lvb_valid ? f->lvb : NULL, f->lvb_valid,
						   f->epoch, &l->no);
				break;
			case FIX_BLOCKING:
				nl_cluster_blocking(l->nl, f->name, f->namelen, f->lkid, f->mode,
						    &l->no);
				break;
			case FIX_RELEASED:
				log_debug("ls %s: released before we had the state: %016llx", l->name,
					  (unsigned long long)f->lkid);
				nl_cluster_released(l->nl, f->name, f->namelen, f->lkid, 0, &l->no);
				break;
			case FIX_FAILED:
				log_debug("ls %s: cancelled before we had the state: %016llx", l->name,
					  (unsigned long long)f->lkid);
				nl_cluster_failed(l->nl, f->name, f->namelen, f->lkid,
						  SDLM_ECANCELED, &l->no);
				break;
			}
			run_nl_out(l);
		}
	}
	free(cc.fx);
	ls_foreach_resource(l->st, mine_res, &mc);
	maybe_clean(l);
}

/* --- the ready set, joins and transfers -------------------------------- */

/*
 * The snapshot a responder sends is the lock state plus the bookkeeping a
 * newcomer cannot know, both as of the basis JOIN:
 *
 *	u32 magic "SLS2"  u32 n_ready  u32 n_tainted  u32 n_waiting
 *	u32 n_xfer  u32 n_dirty
 *	ready[], tainted[], waiting[], dirty[] (u32 node ids)
 *	per transfer: u32 sender, u32 basis_node, u64 xfer_id, u64 basis_inc,
 *	              u64 basis_seq, u32 total, u32 got, u32 n_waiting,
 *	              u32 pad, waiting[] (u32)
 *	then the lockstate snapshot (its own magic, version and CRC)
 * little-endian; the whole is covered by the transfer's CRC32C.
 */
#define SYNC_MAGIC	0x32534c53u	/* "SLS2" */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static void wb_put(struct wbuf *w, const void *d, size_t n)
{
	if (w->oom)
		return;
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		uint8_t *np;

		while (cap < w->len + n)
			cap *= 2;
		np = realloc(w->p, cap);
		if (!np) {
			w->oom = true;
			return;
		}
		w->p = np;
		w->cap = cap;
	}
	memcpy(w->p + w->len, d, n);
	w->len += n;
}

static void wb_u32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	wb_put(w, b, 4);
}

static void wb_u64(struct wbuf *w, uint64_t v)
{
	wb_u32(w, (uint32_t)v);
	wb_u32(w, (uint32_t)(v >> 32));
}

struct rbuf {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};

static uint32_t rb_u32(struct rbuf *r)
{
	const uint8_t *b;

	if (r->bad || r->len - r->off < 4) {
		r->bad = true;
		return 0;
	}
	b = r->p + r->off;
	r->off += 4;
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t rb_u64(struct rbuf *r)
{
	uint64_t lo = rb_u32(r);

	return lo | (uint64_t)rb_u32(r) << 32;
}

static void rb_ids(struct rbuf *r, uint32_t *ids, size_t *n, uint32_t count)
{
	uint32_t i;

	if (count > NODES_MAX) {
		r->bad = true;
		return;
	}
	for (i = 0; i < count; i++)
		ids[i] = rb_u32(r);
	*n = r->bad ? 0 : count;
}

static void send_snapshot(struct lspace *l, const struct msg *basis, uint64_t xfer_id)
{
	size_t slen = ls_snapshot_size(l->st), w = 0, off, i, k;
	struct wbuf wb = { 0 };
	struct msg m;
	uint8_t *sbuf;
	uint32_t crc;
	int rc;

	wb_u32(&wb, SYNC_MAGIC);
	wb_u32(&wb, (uint32_t)l->n_ready);
	wb_u32(&wb, (uint32_t)l->n_tainted);
	wb_u32(&wb, (uint32_t)l->n_waiting);
	for (i = 0, k = 0; i < XFER_MAX; i++)
		k += l->xf[i].active;
	wb_u32(&wb, (uint32_t)k);
	wb_u32(&wb, (uint32_t)l->n_dirty);
	for (i = 0; i < l->n_ready; i++)
		wb_u32(&wb, l->ready_nodes[i]);
	for (i = 0; i < l->n_tainted; i++)
		wb_u32(&wb, l->tainted_nodes[i]);
	for (i = 0; i < l->n_waiting; i++)
		wb_u32(&wb, l->waiting_nodes[i]);
	for (i = 0; i < l->n_dirty; i++)
		wb_u32(&wb, l->dirty_nodes[i]);
	for (i = 0; i < XFER_MAX; i++) {
		const struct xfer *x = &l->xf[i];

		if (!x->active)
			continue;
		wb_u32(&wb, x->sender);
		wb_u32(&wb, x->basis_node);
		wb_u64(&wb, x->xfer_id);
		wb_u64(&wb, x->basis_inc);
		wb_u64(&wb, x->basis_seq);
		wb_u32(&wb, x->total);
		wb_u32(&wb, x->got);
		wb_u32(&wb, (uint32_t)x->n_waiting);
		wb_u32(&wb, 0);
		for (k = 0; k < x->n_waiting; k++)
			wb_u32(&wb, x->waiting[k]);
	}
	sbuf = malloc(slen ? slen : 1);
	if (!sbuf || wb.oom) {
		log_err("ls %s: no memory for a snapshot", l->name);
		goto out;
	}
	rc = ls_snapshot_encode(l->st, sbuf, slen, &w);
	if (rc < 0) {
		log_err("ls %s: snapshot: %s", l->name, sdlm_strerror(rc));
		goto out;
	}
	wb_put(&wb, sbuf, w);
	if (wb.oom)
		goto out;
	crc = crc32c(0, wb.p, wb.len);
	for (off = 0; off < wb.len; off += MSG_SNAP_CHUNK_MAX) {
		memset(&m, 0, sizeof(m));
		m.m_type = MSG_SNAPSHOT;
		m.u.snap.xfer_id = xfer_id;
		m.u.snap.basis_nodeid = basis->m_nodeid;
		m.u.snap.basis_incarnation = basis->m_incarnation;
		m.u.snap.basis_seq = basis->m_seq;
		m.u.snap.total_len = (uint32_t)wb.len;
		m.u.snap.offset = (uint32_t)off;
		m.u.snap.total_crc = crc;
		m.u.snap.data = wb.p + off;
		m.u.snap.len = (uint32_t)(wb.len - off < MSG_SNAP_CHUNK_MAX ?
					  wb.len - off : MSG_SNAP_CHUNK_MAX);
		send_msg(l, &m);
	}
	log_info("ls %s: sent state (%zu bytes, %zu locks) for node %u's join", l->name,
		 wb.len, ls_lock_count(l->st), basis->m_nodeid);
out:
	free(sbuf);
	free(wb.p);
}

static int form_fresh(struct lspace *l, const uint32_t *members, size_t n,
		      bool quorate, uint64_t ring_id)
{
	struct ls_params p = { .cold = true, .default_live = false };
	int rc;

	rc = ls_create(&p, &l->st);
	if (rc < 0)
		return rc;
	l->ready = true;
	l->tainted = false;
	log_notice("ls %s: formed (cold start: gate closed until the fencer clears it)", l->name);
	apply_confchg(l, members, n, quorate, ring_id);
	return 0;
}

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
 * A replica that saw its partition lose quorum is dropped at once (its
 * node keeps using its cached locks, obtains nothing new, and takes the
 * quorate side's state when it comes back), so no stale replica can ever
 * grant anything.
 */

static void drop_replica(struct lspace *l, const char *why)
{
	if (!l->ready)
		return;
	log_notice("ls %s: dropping the replica (%s); cached locks stay in use", l->name, why);
	ls_destroy(l->st);
	l->st = NULL;
	l->ready = false;
	l->nbuf = 0;
	l->n_ready = l->n_waiting = l->n_tainted = l->n_dirty = 0;
	memset(l->xf, 0, sizeof(l->xf));
}

static void round_start(struct lspace *l, const uint32_t *members, size_t n)
{
	memcpy(l->round_members, members, n * sizeof(uint32_t));
	l->n_round = n;
	l->n_round_got = 0;
	memset(l->round_flags, 0, sizeof(l->round_flags));
	memset(l->round_got, 0, sizeof(l->round_got));
	l->round_active = true;
}

static void transfer_start(struct lspace *l, uint32_t sender, const struct msg *basis,
			   const uint32_t *waiting, size_t n_waiting)
{
	struct xfer *xf = NULL;
	size_t i;

	for (i = 0; i < XFER_MAX; i++)
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
	xf->sender = sender;
	xf->xfer_id = basis->m_seq ^ ((uint64_t)basis->m_nodeid << 40) ^ basis->m_incarnation;
	xf->basis_node = basis->m_nodeid;
	xf->basis_inc = basis->m_incarnation;
	xf->basis_seq = basis->m_seq;
	memcpy(xf->waiting, waiting, n_waiting * sizeof(uint32_t));
	xf->n_waiting = n_waiting;
	if (sender == M.h.nodeid && l->ready)
		send_snapshot(l, basis, xf->xfer_id);
}

static void round_complete(struct lspace *l, const struct msg *last)
{
	uint32_t ready[NODES_MAX], waiting[NODES_MAX];
	size_t nr = 0, nw = 0, i;
	const struct ls_cpg_view *v = ls_cpg_view(l->cpg);

	l->round_active = false;
	/* Version negotiation: every member computes the same agreed
	 * version from the same JOINs; a member that cannot speak it is
	 * ignored (its lock traffic is not applied) until it leaves. */
	{
		bool ok[NODES_MAX];
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
	for (i = 0; i < l->n_round; i++) {
		if (l->round_flags[i] & MSG_JOIN_SYNC)
			waiting[nw++] = l->round_members[i];
		else
			ready[nr++] = l->round_members[i];
	}
	if (nr == 0 && !view_quorate(v)) {
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
		if (former == M.h.nodeid && !l->ready) {
			if (form_fresh(l, v->members, v->member_count,
				       view_quorate(v), v->ring_id) < 0) {
				log_err("ls %s: cannot form the lockspace", l->name);
				return;
			}
			l->nbuf = 0;
		}
	}
	memcpy(l->ready_nodes, ready, nr * sizeof(uint32_t));
	l->n_ready = nr;
	memcpy(l->waiting_nodes, waiting, nw * sizeof(uint32_t));
	l->n_waiting = nw;
	l->n_tainted = 0;
	/* While the replica's gate is closed (a fresh one), a member that
	 * still uses cached locks it cannot know is dirty.  Decided before
	 * the transfer below, whose basis is this point. */
	if (l->st && ls_grants_blocked(l->st)) {
		size_t before = l->n_dirty;

		for (i = 0; i < l->n_round; i++)
			if ((l->round_flags[i] & MSG_JOIN_CACHED) &&
			    !set_has(l->dirty_nodes, l->n_dirty, l->round_members[i]))
				set_add(l->dirty_nodes, &l->n_dirty, l->round_members[i]);
		if (l->n_dirty > before)
			log_notice("ls %s: gate closed and %zu member(s) still use locks cached before quorum was lost: nothing is granted until they stopped",
				   l->name, l->n_dirty);
	}
	/* Every ready member logs the same digest for the same basis
	 * (tests/nemesis/digests.py compares them across nodes). */
	log_info("ls %s: round complete at %u:%llx:%llu: %zu ready, %zu waiting, fencer %u, digest %016llx",
		 l->name, last->m_nodeid, (unsigned long long)last->m_incarnation,
		 (unsigned long long)last->m_seq, nr, nw, ready[0],
		 l->st ? (unsigned long long)ls_digest(l->st) : 0ULL);
	if (nw)
		transfer_start(l, ready[0], last, waiting, nw);
	if (l->ready && ready[0] == M.h.nodeid && nr == 1 && l->st) {
		reconcile(l);
		fencer_duties(l, now_ms());
	}
}

static void round_join(struct lspace *l, const struct msg *m)
{
	size_t i;

	if (m->u.join.flags & MSG_JOIN_CLEAN) {
		/* a report, not a round's JOIN */
		if (set_has(l->dirty_nodes, l->n_dirty, m->m_nodeid)) {
			set_del(l->dirty_nodes, &l->n_dirty, m->m_nodeid);
			log_info("ls %s: node %u stopped using its old cached locks (%zu still to go)",
				 l->name, m->m_nodeid, l->n_dirty);
		}
		return;
	}
	if (!l->round_active)
		return;
	for (i = 0; i < l->n_round; i++)
		if (l->round_members[i] == m->m_nodeid)
			break;
	if (i == l->n_round || l->round_got[i])
		return;		/* not of this round, or said already */
	l->round_got[i] = true;
	l->round_flags[i] = m->u.join.flags;
	l->round_proto[i].proto_min = m->u.join.proto_min;
	l->round_proto[i].proto_max = m->u.join.proto_max;
	if (++l->n_round_got == l->n_round)
		round_complete(l, m);
}

static void chunk_progress(struct lspace *l, const struct msg *m)
{
	const struct msg_snapshot *s = &m->u.snap;
	size_t i, k;

	for (i = 0; i < XFER_MAX; i++) {
		struct xfer *x = &l->xf[i];

		if (!x->active || x->sender != m->m_nodeid || x->xfer_id != s->xfer_id)
			continue;
		x->total = s->total_len;
		if (s->offset != x->got)
			return;
		x->got += s->len;
		if (x->got < x->total)
			return;
		for (k = 0; k < x->n_waiting; k++) {
			set_del(l->waiting_nodes, &l->n_waiting, x->waiting[k]);
			set_add(l->ready_nodes, &l->n_ready, x->waiting[k]);
		}
		x->active = false;
		return;
	}
}

/* A lock or fencer message applied to a current replica. */
static void ready_msg(struct lspace *l, const struct msg *m)
{
	struct ls_event ev;

	if (msg_to_event(m, &ev) < 0)
		return;
	if (set_has(l->incompatible, l->n_incompatible, m->m_nodeid))
		return;
	/* Only a ready member speaks for the fence side. */
	if ((ev.ev_kind == LS_EV_NODE_STATUS || ev.ev_kind == LS_EV_NODE_FENCED ||
	     ev.ev_kind == LS_EV_GATE) && !set_has(l->ready_nodes, l->n_ready, m->m_nodeid)) {
		log_warn("ls %s: fencer message from node %u, which is not ready: ignored",
			 l->name, m->m_nodeid);
		return;
	}
	if (ev.ev_kind == LS_EV_NODE_FENCED && ev.ev_nodeid <= SDLM_MAX_NODES_LS)
		l->need_fence_since[ev.ev_nodeid] = 0;
	/* The gate opens only at a point of the stream where every member
	 * has said whether it still uses cached locks, and none does. */
	if (ev.ev_kind == LS_EV_GATE && ev.ev_gate_open && (l->round_active || l->n_dirty)) {
		log_info("ls %s: GATE from node %u ignored: %s", l->name, m->m_nodeid,
			 l->round_active ? "a round is not complete" :
			 "a member still uses cached locks");
		return;
	}
	apply_event(l, &ev);
	if (ev.ev_kind == LS_EV_NODE_FENCED && l->st) {
		struct ls_node_info ni;

		/* a fenced node's lock users are gone with it */
		if (ls_node_get(l->st, ev.ev_nodeid, &ni) == 0 && ni.fenced)
			set_del(l->dirty_nodes, &l->n_dirty, ev.ev_nodeid);
	}
}

/* One ordered input, whatever our state (replay included). */
static void handle_msg(struct lspace *l, const struct msg *m)
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

static void handle_view(struct lspace *l, const uint32_t *members, size_t n,
			bool quorate, uint64_t ring_id)
{
	if (!l->ready)
		return;
	if (!quorate && !keep_alone(ls_cpg_view(l->cpg))) {
		drop_replica(l, "partition not quorate");
		return;
	}
	apply_confchg(l, members, n, quorate, ring_id);
}

static void handle_confchg(struct lspace *l, const uint32_t *members, size_t n,
			   const uint32_t *left, size_t n_left, bool quorate,
			   uint64_t ring_id)
{
	size_t i, k;

	for (i = 0; i < n_left; i++) {
		set_del(l->ready_nodes, &l->n_ready, left[i]);
		set_del(l->waiting_nodes, &l->n_waiting, left[i]);
		for (k = 0; k < XFER_MAX; k++)
			if (l->xf[k].active && l->xf[k].sender == left[i])
				l->xf[k].active = false;
	}
	round_start(l, members, n);
	handle_view(l, members, n, quorate, ring_id);
}

/* --- waiting for the state ---------------------------------------------- */

static struct buffered *buf_add(struct lspace *l, enum buf_kind kind)
{
	struct buffered *b;

	if (l->nbuf == l->capbuf) {
		size_t cap = l->capbuf ? 2 * l->capbuf : 64;
		struct buffered *nb = realloc(l->buf, cap * sizeof(*nb));

		if (!nb) {
			log_err("ls %s: cannot buffer during the state transfer", l->name);
			return NULL;
		}
		l->buf = nb;
		l->capbuf = cap;
	}
	b = &l->buf[l->nbuf++];
	memset(b, 0, sizeof(*b));
	b->kind = kind;
	return b;
}

static int load_sync(struct lspace *l, const uint8_t *p, size_t len)
{
	struct rbuf r = { .p = p, .len = len };
	uint32_t nr, nt, nw, nx, nd, i;
	struct ls_state *st = NULL;
	int rc;

	if (rb_u32(&r) != SYNC_MAGIC)
		return SDLM_EMAGIC;
	nr = rb_u32(&r);
	nt = rb_u32(&r);
	nw = rb_u32(&r);
	nx = rb_u32(&r);
	nd = rb_u32(&r);
	if (r.bad || nx > XFER_MAX)
		return SDLM_EPROTO;
	rb_ids(&r, l->ready_nodes, &l->n_ready, nr);
	rb_ids(&r, l->tainted_nodes, &l->n_tainted, nt);
	rb_ids(&r, l->waiting_nodes, &l->n_waiting, nw);
	rb_ids(&r, l->dirty_nodes, &l->n_dirty, nd);
	l->clean_sent = false;
	memset(l->xf, 0, sizeof(l->xf));
	for (i = 0; i < nx && !r.bad; i++) {
		struct xfer *x = &l->xf[i];
		uint32_t n;

		x->active = true;
		x->sender = rb_u32(&r);
		x->basis_node = rb_u32(&r);
		x->xfer_id = rb_u64(&r);
		x->basis_inc = rb_u64(&r);
		x->basis_seq = rb_u64(&r);
		x->total = rb_u32(&r);
		x->got = rb_u32(&r);
		n = rb_u32(&r);
		rb_u32(&r);
		rb_ids(&r, x->waiting, &x->n_waiting, n);
	}
	if (r.bad)
		return SDLM_EPROTO;
	rc = ls_snapshot_decode(p + r.off, len - r.off, &st);
	if (rc < 0)
		return rc;
	l->st = st;
	return 0;
}

/* A complete transfer whose basis is in our buffer: take it and replay. */
static void take_state(struct lspace *l, struct collect *c)
{
	size_t i, start = SIZE_MAX;
	int rc;

	for (i = 0; i < l->nbuf; i++) {
		const struct msg *bm = &l->buf[i].m;

		if (l->buf[i].kind == BUF_MSG && bm->m_type == MSG_JOIN &&
		    bm->m_nodeid == c->basis_node && bm->m_incarnation == c->basis_inc &&
		    bm->m_seq == c->basis_seq) {
			start = i + 1;
			break;
		}
	}
	if (start == SIZE_MAX)
		return;		/* its basis precedes what we buffered */
	rc = load_sync(l, c->data, c->total);
	if (rc < 0) {
		log_err("ls %s: state from node %u unusable: %s", l->name, c->sender,
			sdlm_strerror(rc));
		return;
	}
	l->ready = true;
	log_notice("ls %s: state received from node %u (%u bytes, %zu locks, basis %u:%llx:%llu, digest %016llx)",
		   l->name, c->sender, c->total, ls_lock_count(l->st), c->basis_node,
		   (unsigned long long)c->basis_inc, (unsigned long long)c->basis_seq,
		   (unsigned long long)ls_digest(l->st));
	/* The rounds and transfers after the basis are replayed too, so our
	 * bookkeeping ends where every other member's is. */
	l->replaying = true;
	for (i = start; i < l->nbuf; i++) {
		struct buffered *b = &l->buf[i];

		switch (b->kind) {
		case BUF_CONFCHG:
			handle_confchg(l, b->members, b->n_members, b->left, b->n_left,
				       b->quorate, b->ring_id);
			break;
		case BUF_TOTEM:
			handle_view(l, b->members, b->n_members, b->quorate, b->ring_id);
			break;
		case BUF_MSG:
			handle_msg(l, &b->m);
			break;
		}
	}
	l->replaying = false;
	l->nbuf = 0;
	for (i = 0; i < XFER_MAX; i++) {
		free(l->col[i].data);
		memset(&l->col[i], 0, sizeof(l->col[i]));
	}
	if (l->ready) {
		reconcile(l);
		fencer_duties(l, now_ms());
	}
}

static void collect_chunk(struct lspace *l, const struct msg *m)
{
	const struct msg_snapshot *s = &m->u.snap;
	struct collect *c = NULL;
	size_t i;

	for (i = 0; i < XFER_MAX; i++)
		if (l->col[i].active && l->col[i].sender == m->m_nodeid &&
		    l->col[i].xfer_id == s->xfer_id)
			c = &l->col[i];
	if (!c) {
		if (s->offset != 0)
			return;		/* joined the transfer midway */
		for (i = 0; i < XFER_MAX && !c; i++)
			if (!l->col[i].active)
				c = &l->col[i];
		if (!c)
			return;
		memset(c, 0, sizeof(*c));
		c->data = malloc(s->total_len ? s->total_len : 1);
		if (!c->data)
			return;
		c->active = true;
		c->sender = m->m_nodeid;
		c->xfer_id = s->xfer_id;
		c->total = s->total_len;
		c->crc = s->total_crc;
		c->basis_node = s->basis_nodeid;
		c->basis_inc = s->basis_incarnation;
		c->basis_seq = s->basis_seq;
	}
	if (s->offset != c->got || s->total_len != c->total || s->offset + s->len > c->total)
		return;
	memcpy(c->data + s->offset, s->data, s->len);
	c->got += s->len;
	if (c->got < c->total)
		return;
	if (crc32c(0, c->data, c->total) != c->crc) {
		log_err("ls %s: state transfer from node %u: checksum mismatch", l->name, c->sender);
	} else {
		take_state(l, c);
		if (l->ready)
			return;		/* take_state freed the collections */
	}
	free(c->data);
	memset(c, 0, sizeof(*c));
}

/* --- CPG callbacks ------------------------------------------------------ */

static void cb_deliver(struct ls_cpg *c, const struct msg *m, bool self, void *arg)
{
	struct lspace *l = arg;
	struct buffered *b;

	l->n_delivered++;
	M.st.msgs_delivered++;
	if (!l->ready && l->buffering) {
		b = buf_add(l, BUF_MSG);
		if (b) {
			b->m = *m;
			msg_detach(&b->m);
		}
	}
	handle_msg(l, m);
	if (!l->ready && l->buffering && m->m_type == MSG_SNAPSHOT)
		collect_chunk(l, m);
}

static void cb_bad(struct ls_cpg *c, uint32_t nodeid, uint32_t pid, int err, void *arg)
{
	struct lspace *l = arg;

	log_warn("ls %s: undecodable message from node %u pid %u: %s", l->name,
		 nodeid, pid, sdlm_strerror(err));
}

static void cb_confchg(struct ls_cpg *c, const struct ls_cpg_view *v,
		       const struct ls_cpg_member *left, size_t n_left,
		       const struct ls_cpg_member *joined, size_t n_joined, void *arg)
{
	struct lspace *l = arg;
	uint32_t lids[NODES_MAX];
	bool q = view_quorate(v);
	size_t i;

	for (i = 0; i < n_left && i < NODES_MAX; i++) {
		lids[i] = left[i].nodeid;
		log_info("ls %s: node %u left (%s)", l->name, lids[i],
			 left[i].reason == LS_CPG_REASON_LEAVE ? "clean leave" :
			 left[i].reason == LS_CPG_REASON_NODEDOWN ? "node down" :
			 left[i].reason == LS_CPG_REASON_PROCDOWN ? "daemon died" : "?");
	}
	for (i = 0; i < n_joined; i++)
		log_info("ls %s: node %u joined", l->name, joined[i].nodeid);
	if (!l->ready) {
		/* Everything from this round on may follow a basis we get. */
		l->nbuf = 0;
		l->buffering = true;
		if (l->own_join_seen) {
			struct buffered *b = buf_add(l, BUF_CONFCHG);

			if (b) {
				memcpy(b->members, v->members, v->member_count * sizeof(uint32_t));
				b->n_members = v->member_count;
				memcpy(b->left, lids, n_left * sizeof(uint32_t));
				b->n_left = n_left;
				b->quorate = q;
				b->ring_id = v->ring_id;
			}
		}
		l->own_join_seen = true;
	}
	l->view_quorate = q;
	handle_confchg(l, v->members, v->member_count, lids, n_left, q, v->ring_id);
	send_join(l, l->ready ? 0 : MSG_JOIN_SYNC);
	if (l->ready)
		fencer_duties(l, now_ms());
}

static void cb_totem(struct ls_cpg *c, const struct ls_cpg_view *v, void *arg)
{
	struct lspace *l = arg;
	bool q = view_quorate(v);

	if (!l->ready && l->buffering) {
		struct buffered *b = buf_add(l, BUF_TOTEM);

		if (b) {
			memcpy(b->members, v->members, v->member_count * sizeof(uint32_t));
			b->n_members = v->member_count;
			b->quorate = q;
			b->ring_id = v->ring_id;
		}
	}
	handle_view(l, v->members, v->member_count, q, v->ring_id);
	/* Quorum came back without a change of the group: that is a round
	 * too (members whose replica was dropped need the state). */
	if (q && !l->view_quorate) {
		if (!l->ready) {
			l->nbuf = 0;
			l->buffering = true;
		}
		round_start(l, v->members, v->member_count);
		send_join(l, l->ready ? 0 : MSG_JOIN_SYNC);
	}
	l->view_quorate = q;
}

static const struct ls_cpg_callbacks cpg_cbs = {
	.deliver = cb_deliver,
	.bad_msg = cb_bad,
	.confchg = cb_confchg,
	.totem = cb_totem,
};

static int32_t cpg_ready(int32_t fd, int32_t revents, void *data)
{
	struct lspace *l = data;
	int rc;

	rc = ls_cpg_dispatch(l->cpg);
	if (rc < 0) {
		log_err("ls %s: corosync connection lost (%s): revoking local locks",
			l->name, sdlm_strerror(rc));
		qb_loop_poll_del(M.h.loop, ls_cpg_fd(l->cpg));
		revoke_all(l, SDLM_EDAEMON);
		return -1;
	}
	arm_retry(l);
	return 0;
}

/* --- lockspace table --------------------------------------------------- */

static struct lspace *ls_find(const char *name, size_t len)
{
	unsigned i;

	for (i = 1; i < LS_MAX; i++)
		if (M.ls[i] && strlen(M.ls[i]->name) == len && !memcmp(M.ls[i]->name, name, len))
			return M.ls[i];
	return NULL;
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
	for (i = 1; i < LS_MAX && M.ls[i]; i++)
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
	rc = nl_create(M.h.nodeid, &l->nl);
	if (rc < 0)
		goto out_free;
	rc = ls_cpg_join(l->name, M.h.incarnation, &cpg_cbs, l, &l->cpg);
	if (rc < 0) {
		log_err("ls %s: cannot join its CPG group: %s", l->name, sdlm_strerror(rc));
		goto out_nl;
	}
	qb_loop_poll_add(M.h.loop, QB_LOOP_HIGH, ls_cpg_fd(l->cpg), POLLIN, l, cpg_ready);
	M.ls[i] = l;
	log_notice("ls %s: joining", l->name);
	*out = l;
	return 0;
out_nl:
	nl_destroy(l->nl);
out_free:
	free(l);
	return rc;
}

int lsm_init(const struct ls_host *host)
{
	M.h = *host;
	return 0;
}

void lsm_fini(void)
{
	unsigned i;

	for (i = 1; i < LS_MAX; i++) {
		struct lspace *l = M.ls[i];

		if (!l)
			continue;
		qb_loop_poll_del(M.h.loop, ls_cpg_fd(l->cpg));
		if (l->retry_timer_armed)
			qb_loop_timer_del(M.h.loop, l->retry_timer);
		ls_cpg_close(l->cpg);
		if (l->st)
			ls_destroy(l->st);
		nl_destroy(l->nl);
		ls_out_free(&l->lo);
		nl_out_free(&l->no);
		free(l->buf);
		{
			size_t k;

			for (k = 0; k < XFER_MAX; k++)
				free(l->col[k].data);
		}
		free(l);
		M.ls[i] = NULL;
	}
}

size_t lsm_count(void)
{
	size_t n = 0;
	unsigned i;

	for (i = 1; i < LS_MAX; i++)
		if (M.ls[i])
			n++;
	return n;
}

static struct lspace *ls_of_lkid(uint64_t lkid, uint64_t *local)
{
	unsigned id = (unsigned)(lkid >> LSID_SHIFT);

	if (id == 0 || id >= LS_MAX || !M.ls[id])
		return NULL;
	*local = lkid & ((1ULL << LSID_SHIFT) - 1);
	return M.ls[id];
}

/* --- client calls -------------------------------------------------------- */

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
	rc = nl_lock(l->nl, client, ref, res, res_len, mode, flags, M.h.may_use(M.h.ctx),
		     &local, &l->no);
	if (rc == 0)
		*lkid = global_lkid(l, local);
	run_nl_out(l);
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
	rc = nl_convert(l->nl, client, local, mode, flags, lvb, M.h.may_use(M.h.ctx), &l->no);
	run_nl_out(l);
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
	run_nl_out(l);
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
	run_nl_out(l);
	return rc;
}

void lsm_client_gone(uint32_t client)
{
	unsigned i;

	for (i = 1; i < LS_MAX; i++)
		if (M.ls[i]) {
			nl_client_gone(M.ls[i]->nl, client, &M.ls[i]->no);
			run_nl_out(M.ls[i]);
			maybe_clean(M.ls[i]);
		}
}

static void revoke_all(struct lspace *l, int reason)
{
	uint32_t *clients = NULL;
	size_t n = 0;

	nl_stop_all(l->nl, &clients, &n);
	if (n) {
		log_notice("ls %s: %s: stopping %zu local lock holder(s)", l->name,
			   sdlm_strerror(reason), n);
		M.h.kill_clients(M.h.ctx, clients, n);
	}
	free(clients);
}

void lsm_stop_all(int reason)
{
	unsigned i;

	for (i = 1; i < LS_MAX; i++)
		if (M.ls[i])
			revoke_all(M.ls[i], reason);
}

/* --- fencer duties ------------------------------------------------------- */

static void fencer_status(struct lspace *l, uint64_t now)
{
	const struct ls_cpg_view *v = ls_cpg_view(l->cpg);
	struct ls_node_info ni;
	struct ls_event ev;
	size_t i;

	for (i = 0; i < v->member_count; i++) {
		uint32_t n = v->members[i];
		bool live, pill;

		if (n == M.h.nodeid) {
			live = M.h.may_use(M.h.ctx) == 0;
			pill = false;
		} else {
			live = M.h.hb_live(M.h.ctx, n);
			pill = M.h.pill_pending(M.h.ctx, n);
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
		send_event(l, &ev);
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
	/* Every node with a live heartbeat must be in the ring (reachable:
	 * if it held locks of this lockspace it would be a member) or be
	 * dead or fenced.  One that is merely late to join (corosync merges
	 * the nodes of a healed network one ring after another) gets the
	 * grace to come in before it is fenced; nothing is granted meanwhile. */
	for (n = 1; n <= SDLM_MAX_NODES_LS; n++) {
		if (n == M.h.nodeid || set_has(v->ring, v->ring_count, n) ||
		    M.h.cold_ok(M.h.ctx, n)) {
			l->cold_blocked[n] = l->cold_fencing[n] = false;
			continue;
		}
		ok = false;
		if (!l->cold_blocked[n]) {
			log_notice("ls %s: cold start: node %u has a live heartbeat outside the ring: nothing is granted until it joins, or is fenced after %u ms",
				   l->name, n, M.h.grace_ms);
			l->cold_since[n] = now;
		}
		l->cold_blocked[n] = true;
		if (now - l->cold_since[n] >= M.h.grace_ms) {
			if (!l->cold_fencing[n])
				log_notice("ls %s: cold start: fencing node %u before granting anything",
					   l->name, n);
			l->cold_fencing[n] = true;
			M.h.fence(M.h.ctx, n);
		}
	}
	/* Members that still use locks cached before this replica formed
	 * must stop first; a dirty node that left is fenced. */
	for (i = 0; i < l->n_dirty; i++) {
		n = l->dirty_nodes[i];
		ok = false;
		if (!set_has(v->members, v->member_count, n) && n != M.h.nodeid &&
		    M.h.fence(M.h.ctx, n) == -EALREADY)
			lsm_fenced(n, 0);
	}
	if (!ok)
		return;
	l->gate_sent_ms = now;
	memset(&ev, 0, sizeof(ev));
	ev.ev_kind = LS_EV_GATE;
	ev.ev_gate_open = true;
	log_info("ls %s: cold start cleared: opening the gate", l->name);
	send_event(l, &ev);
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
		if (set_has(v->members, v->member_count, n)) {
			/* Came back in time: keeps its locks. */
			l->need_fence_since[n] = 0;
			M.h.fence_cancel(M.h.ctx, n);
			continue;
		}
		/* Away and its heartbeat stopped: no reason to wait for the
		 * grace (the dead path itself waits the dead bound). */
		if (now - since < M.h.grace_ms && M.h.hb_live(M.h.ctx, n))
			continue;
		rc = M.h.fence(M.h.ctx, n);
		if (rc == -EALREADY)
			lsm_fenced(n, 0);
	}
}

static void fencer_duties(struct lspace *l, uint64_t now)
{
	if (!am_fencer(l))
		return;
	fencer_status(l, now);
	fencer_gate(l, now);
	fencer_fence(l, now);
}

void lsm_tick(uint64_t now)
{
	unsigned i;

	for (i = 1; i < LS_MAX; i++) {
		struct lspace *l = M.ls[i];

		if (!l)
			continue;
		ls_cpg_flush(l->cpg);
		arm_retry(l);
		maybe_clean(l);
		fencer_duties(l, now);
	}
}

void lsm_requorum(void)
{
	unsigned i;

	for (i = 1; i < LS_MAX; i++) {
		struct lspace *l = M.ls[i];
		const struct ls_cpg_view *v;

		if (!l || !l->ready)
			continue;
		v = ls_cpg_view(l->cpg);
		handle_view(l, v->members, v->member_count, view_quorate(v), v->ring_id);
		fencer_duties(l, now_ms());
	}
	/* Lockspaces that waited for quorum to form or get the state: a
	 * round, as when quorum comes back through corosync. */
	for (i = 1; i < LS_MAX; i++) {
		struct lspace *l = M.ls[i];
		const struct ls_cpg_view *v;

		if (!l || l->ready)
			continue;
		v = ls_cpg_view(l->cpg);
		if (!view_quorate(v))
			continue;
		l->nbuf = 0;
		l->buffering = true;
		l->view_quorate = true;
		round_start(l, v->members, v->member_count);
		send_join(l, MSG_JOIN_SYNC);
	}
}

void lsm_fenced(uint32_t node, uint64_t incarnation)
{
	struct ls_node_info ni;
	struct ls_event ev;
	unsigned i;

	for (i = 1; i < LS_MAX; i++) {
		struct lspace *l = M.ls[i];

		if (!l || !am_fencer(l))
			continue;
		if (ls_node_get(l->st, node, &ni) < 0 || (ni.fenced && !ni.member))
			continue;
		memset(&ev, 0, sizeof(ev));
		ev.ev_kind = LS_EV_NODE_FENCED;
		ev.ev_nodeid = node;
		ev.ev_incarnation = incarnation ? incarnation : ni.fenced_incarnation + 1;
		log_notice("ls %s: node %u fenced: releasing its locks", l->name, node);
		send_event(l, &ev);
	}
}

/* --- status output ------------------------------------------------------- */

void lsm_render_ls(struct sbuf *b, bool json)
{
	unsigned i;
	bool first = true;

	if (json)
		sb_printf(b, "{\"lockspaces\":[");
	else
		sb_printf(b, "lockspace         state     quorate  gate    members  ready  resources  locks(cluster/local)\n");
	for (i = 1; i < LS_MAX; i++) {
		struct lspace *l = M.ls[i];
		const struct ls_cpg_view *v;
		size_t k;

		if (!l)
			continue;
		v = ls_cpg_view(l->cpg);
		if (json) {
			sb_printf(b, "%s{\"name\":", first ? "" : ",");
			sb_json_str(b, l->name);
			sb_printf(b, ",\"state\":\"%s\",\"quorate\":%s,\"gate\":\"%s\",\"members\":[",
				  l->ready ? "ready" : "syncing",
				  l->st && ls_quorate(l->st) ? "true" : "false",
				  !l->st ? "?" : ls_grants_blocked(l->st) ? "closed" : "open");
			for (k = 0; k < v->member_count; k++)
				sb_printf(b, "%s%u", k ? "," : "", v->members[k]);
			sb_printf(b, "],\"fencer\":%u,\"msgs_sent\":%llu,\"msgs_delivered\":%llu,"
				  "\"resources\":%zu,\"cluster_locks\":%zu,\"local_locks\":%zu}",
				  l->n_ready ? l->ready_nodes[0] : 0,
				  (unsigned long long)l->n_sent, (unsigned long long)l->n_delivered,
				  l->st ? ls_resource_count(l->st) : 0,
				  l->st ? ls_lock_count(l->st) : 0, nl_lock_count(l->nl));
		} else {
			char mem[128] = "";
			size_t off = 0;

			for (k = 0; k < v->member_count && off < sizeof(mem) - 8; k++)
				off += (size_t)snprintf(mem + off, sizeof(mem) - off, "%s%u",
							k ? "," : "", v->members[k]);
			sb_printf(b, "%-17s %-9s %-8s %-7s %-8s %-6u %-10zu %zu/%zu\n", l->name,
				  l->ready ? "ready" : "syncing",
				  l->st && ls_quorate(l->st) ? "yes" : "no",
				  !l->st ? "?" : ls_grants_blocked(l->st) ? "closed" : "open",
				  mem, l->n_ready ? l->ready_nodes[0] : 0,
				  l->st ? ls_resource_count(l->st) : 0,
				  l->st ? ls_lock_count(l->st) : 0, nl_lock_count(l->nl));
		}
		first = false;
	}
	if (json)
		sb_printf(b, "]}\n");
	else if (first)
		sb_printf(b, "(no lockspaces)\n");
}

struct render_ctx {
	struct sbuf *b;
	struct lspace *l;
	bool json;
	bool first_res, first_lock;
	const struct ls_res_info *res;
};

static void render_name(struct sbuf *b, const uint8_t *name, size_t len, bool json)
{
	char tmp[LS_NAME_MAX * 4 + 1];
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (name[i] >= ' ' && name[i] <= '~' && name[i] != '\\')
			tmp[o++] = (char)name[i];
		else
			o += (size_t)snprintf(tmp + o, sizeof(tmp) - o, "\\x%02x", name[i]);
	}
	tmp[o] = '\0';
	if (json)
		sb_json_str(b, tmp);
	else
		sb_printf(b, "%s", tmp);
}

static int render_cl_lock(const struct ls_lock_info *lk, void *arg)
{
	struct render_ctx *c = arg;
	const char *q = lk->queue == LS_Q_GRANTED ? "granted" :
		lk->queue == LS_Q_CONVERT ? "converting" : "waiting";

	if (c->json) {
		sb_printf(c->b, "%s{\"lkid\":\"%016llx\",\"node\":%u,\"queue\":\"%s\","
			  "\"granted\":\"%s\",\"requested\":\"%s\",\"away\":%s}",
			  c->first_lock ? "" : ",", (unsigned long long)lk->lkid, lk->nodeid, q,
			  lk->grmode >= 0 ? mode_name(lk->grmode) : "-",
			  mode_name(lk->rqmode), lk->away ? "true" : "false");
	} else {
		sb_printf(c->b, "    node %-3u %-10s %-2s", lk->nodeid, q,
			  lk->grmode >= 0 ? mode_name(lk->grmode) : "-");
		if (lk->queue != LS_Q_GRANTED)
			sb_printf(c->b, " -> %s", mode_name(lk->rqmode));
		sb_printf(c->b, "%s  lkid %016llx\n", lk->away ? "  (away)" : "",
			  (unsigned long long)lk->lkid);
	}
	c->first_lock = false;
	return 0;
}

static int render_local_lock(const struct nl_lock_info *lk, void *arg)
{
	struct render_ctx *c = arg;
	const char *q = lk->queue == NL_Q_GRANTED ? "granted" :
		lk->queue == NL_Q_CONVERT ? "converting" : "waiting";

	if (c->json) {
		sb_printf(c->b, "%s{\"client\":%u,\"lkid\":\"%016llx\",\"queue\":\"%s\","
			  "\"granted\":\"%s\",\"requested\":\"%s\"}",
			  c->first_lock ? "" : ",", lk->client,
			  (unsigned long long)global_lkid(c->l, lk->local_lkid), q,
			  lk->grmode >= 0 ? mode_name(lk->grmode) : "-", mode_name(lk->rqmode));
	} else {
		sb_printf(c->b, "    local client %-6u %-10s %-2s", lk->client, q,
			  lk->grmode >= 0 ? mode_name(lk->grmode) : "-");
		if (lk->queue != NL_Q_GRANTED)
			sb_printf(c->b, " -> %s", mode_name(lk->rqmode));
		sb_printf(c->b, "\n");
	}
	c->first_lock = false;
	return 0;
}

static int render_res(const struct ls_res_info *res, void *arg)
{
	struct render_ctx *c = arg;

	if (c->json) {
		sb_printf(c->b, "%s{\"resource\":", c->first_res ? "" : ",");
		render_name(c->b, res->name, res->namelen, true);
		sb_printf(c->b, ",\"lvb_valid\":%s,\"cluster\":[", res->lvb_valid ? "true" : "false");
	} else {
		sb_printf(c->b, "  resource ");
		render_name(c->b, res->name, res->namelen, false);
		sb_printf(c->b, "%s\n", res->lvb_valid ? "" : "  (lvb invalid)");
	}
	c->first_lock = true;
	ls_foreach_lock(c->l->st, res->name, res->namelen, render_cl_lock, c);
	if (c->json)
		sb_printf(c->b, "],\"local\":[");
	c->first_lock = true;
	nl_foreach_lock(c->l->nl, res->name, res->namelen, render_local_lock, c);
	if (c->json)
		sb_printf(c->b, "]}");
	c->first_res = false;
	return 0;
}

void lsm_render_locks(struct sbuf *b, const char *ls, bool json)
{
	unsigned i;
	bool first = true;

	if (json)
		sb_printf(b, "{\"lockspaces\":[");
	for (i = 1; i < LS_MAX; i++) {
		struct lspace *l = M.ls[i];
		struct render_ctx c = { .b = b, .l = l, .json = json, .first_res = true };

		if (!l || (ls && ls[0] && strcmp(ls, l->name)))
			continue;
		if (json) {
			sb_printf(b, "%s{\"name\":", first ? "" : ",");
			sb_json_str(b, l->name);
			sb_printf(b, ",\"resources\":[");
		} else {
			sb_printf(b, "lockspace %s%s\n", l->name, l->ready ? "" : " (syncing)");
		}
		if (l->st)
			ls_foreach_resource(l->st, render_res, &c);
		if (json)
			sb_printf(b, "]}");
		first = false;
	}
	if (json)
		sb_printf(b, "]}\n");
	else if (first)
		sb_printf(b, ls && ls[0] ? "no lockspace '%s' on this node\n" : "(no lockspaces)\n",
			  ls ? ls : "");
}

void lsm_get_stats(struct lsm_stats *st)
{
	*st = M.st;
	st->lockspaces = lsm_count();
}

void lsm_set_expected(uint32_t n)
{
	if (n && n != M.h.expected_nodes) {
		log_notice("lock manager: %u nodes expected (was %u)", n, M.h.expected_nodes);
		M.h.expected_nodes = n;
	}
}

/*
 * Clean stop: every local lock user is stopped (killed: its locks are
 * about to go), every cluster lock of this node released or cancelled
 * through the ordered stream - with the value block our cache still had
 * to send - so no other node ever waits for a daemon that left.
 */
struct shut_ctx {
	struct lspace *l;
	struct { uint64_t lkid; bool lvb_valid; uint8_t lvb[LS_LVB_LEN]; } *lv;
	size_t n, cap;
};

static int shut_lvb(const struct nl_res_info *res, void *arg)
{
	struct shut_ctx *c = arg;

	if (!res->cl_lkid || !res->lvb_valid || !res->lvb)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		void *n = realloc(c->lv, cap * sizeof(*c->lv));

		if (!n)
			return 0;
		c->lv = n;
		c->cap = cap;
	}
	c->lv[c->n].lkid = res->cl_lkid;
	c->lv[c->n].lvb_valid = true;
	memcpy(c->lv[c->n].lvb, res->lvb, LS_LVB_LEN);
	c->n++;
	return 0;
}

static int shut_lock(const struct ls_lock_info *lk, void *arg)
{
	struct shut_ctx *c = arg;
	struct ls_event ev;
	size_t i;

	if (lk->nodeid != M.h.nodeid)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.ev_nodeid = M.h.nodeid;
	ev.ev_lkid = lk->lkid;
	ev.ev_kind = lk->queue == LS_Q_GRANTED ? LS_EV_RELEASE : LS_EV_CANCEL;
	if (ev.ev_kind == LS_EV_RELEASE && mode_is_write(lk->grmode))
		for (i = 0; i < c->n; i++)
			if (c->lv[i].lkid == lk->lkid)
				ev.ev_lvb = c->lv[i].lvb;
	send_event(c->l, &ev);
	return 0;
}

static int shut_res(const struct ls_res_info *res, void *arg)
{
	struct shut_ctx *c = arg;

	return ls_foreach_lock(c->l->st, res->name, res->namelen, shut_lock, c);
}

void lsm_shutdown(void)
{
	unsigned i;

	for (i = 1; i < LS_MAX; i++) {
		struct lspace *l = M.ls[i];
		struct shut_ctx c = { .l = l };

		if (!l)
			continue;
		nl_foreach_resource(l->nl, shut_lvb, &c);
		revoke_all(l, SDLM_EDAEMON);
		if (l->ready && l->st)
			ls_foreach_resource(l->st, shut_res, &c);
		ls_cpg_flush(l->cpg);
		free(c.lv);
	}
}

/* Locks of this node still in a ready replica (the releases not applied yet). */
size_t lsm_own_locks(void)
{
	size_t n = 0;
	unsigned i;

	for (i = 1; i < LS_MAX; i++) {
		struct lspace *l = M.ls[i];
		struct ls_node_info ni;

		if (l && l->ready && l->st && ls_node_get(l->st, M.h.nodeid, &ni) == 0)
			n += ni.lock_count;
	}
	return n;
}
