/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nodelock.c - the node-level lock cache (docs/nodelock.md).
 *
 * Per resource, the CLUSTER side: this node's one cluster lock.
 *
 *	        request                 GRANTED
 *	NONE -------------> REQUESTING ------------> HELD(m) <------+
 *	 ^  ^                 |  failed                |  |  ^        |
 *	 |  +-----------------+  (local waiters that   |  |  | GRANTED|
 *	 |                        needed it fail)      |  |  | failed | (back
 *	 |        RELEASED                 release     |  |  |        |  to m)
 *	 +---------------------- RELEASING <-----------+  v  |        |
 *	                                      convert  CONVERTING(m->n)
 *
 *	- up-convert: the first blocked local request fits the local holders
 *	  but not the cluster mode: CONVERT to sup(held, its mode);
 *	- BLOCKING(w): another node wants w.  Local holders whose mode
 *	  conflicts with w get one LOCAL_BAST; new local grants that conflict
 *	  with w wait.  Once no local holder conflicts, the node gives way:
 *	  RELEASE if nothing is held locally, else a down-CONVERT to the sup
 *	  of what is held (compatible with w: the modes compatible with w are
 *	  closed under sup).  The episode ends with the next GRANTED or
 *	  RELEASED; then local waiters re-request (behind the other node).
 *	- a REQUEST or up-CONVERT nobody needs any more (its waiters were
 *	  cancelled) is withdrawn with one CANCEL; a GRANTED that wins the
 *	  race is simply cached.
 *	- an answer with SDLM_EFENCED: the node lost the lock; every local
 *	  lock on the resource fails and the resource is forgotten.
 *	- held (nl_hold_requests, docs/nodelock.md "Held requests"): a new
 *	  REQUEST is emitted o_held and not sent; the resource is REQUESTING
 *	  but unsent, no cluster answer names it, a withdrawal needs no
 *	  CANCEL; nl_send_held sends it.
 *
 * Per resource, the LOCAL side: three FIFO queues as in the DLM (granted,
 * converting, waiting).  A local request is granted iff the cluster lock
 * is HELD in a mode covering sup(local holders, request), the request is
 * compatible with every local holder, nothing is queued ahead (converters
 * go before waiters, each in order; the scan stops at the first blocked),
 * and no other node waits for a mode it conflicts with.
 *
 * Caching: a HELD lock with no local lock stays, on an LRU list of idle
 * cached locks (nl_drop_cached); the next nl_lock on it is decided here
 * with no action but LOCAL_GRANT.  A resource with no local lock and no
 * cluster lock is freed.
 *
 * LVB: the resource keeps the value of the last cluster GRANTED.  A local
 * PW/EX holder's VALBLK/IVVALBLK changes it and marks it dirty; a dirty
 * value travels with the next CONVERT or RELEASE of the cluster lock (the
 * cluster mode is then PW/EX: it covers the writer).  While dirty, a
 * GRANTED does not overwrite the newer local value.
 *
 * Cost: resources and local locks are in chained hash tables (FNV-1a over
 * the name, a 64-bit mixer over the lock id), and so are the resources
 * with a cluster lock, by its id (the hand-off's look-ups), so the common
 * path is O(1) at 100 000 resources.  Output order is deterministic: per-call work
 * touches one resource; nl_client_gone walks locks in creation order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "list.h"
#include "nodelock.h"
#include "sdlm.h"

struct nl_res {
	struct nl_res	*r_hnext;
	struct nl_res	*r_knext;	/* nl_khash chain, while r_cl_lkid */
	uint64_t	r_hash;
	struct dl	r_queue[3];
	size_t		r_qcount[3];
	uint32_t	r_grcount[MODE_COUNT];	/* granted + converting locks */
	struct dl	r_idle;		/* on nl_idle while cached, unused */
	struct dl	r_touch;	/* nl_client_gone's work list */
	uint64_t	r_cl_lkid;
	uint64_t	r_epoch;	/* of the last cluster GRANTED */
	uint8_t		r_cl_state;	/* enum nl_cl_state */
	int8_t		r_cl_mode;
	int8_t		r_cl_rqmode;
	int8_t		r_wanted;	/* BLOCKING episode, or MODE_NONE */
	bool		r_cancel_sent;
	bool		r_touched;
	bool		r_lvb_valid;
	bool		r_lvb_dirty;	/* changed locally, not yet sent */
	bool		r_handoff;	/* asked for through the disk: stopping */
	bool		r_unsent;	/* REQUESTING, held: not sent yet */
	uint32_t	r_req_flags;	/* r_unsent: the REQUEST's LS_LKF_* */
	struct dl	r_unsent_link;	/* on nl_unsent while r_unsent */
	uint8_t		r_namelen;
	uint8_t		r_name[SDLM_NAME_MAX];
	uint8_t		r_lvb[LS_LVB_LEN];
};

struct nl_lock {
	struct nl_lock	*lk_hnext;
	uint64_t	lk_id;
	uint64_t	lk_ref;
	uint32_t	lk_client;
	uint32_t	lk_flags;
	int8_t		lk_grmode;
	int8_t		lk_rqmode;
	uint8_t		lk_queue;
	bool		lk_bast_sent;	/* this BLOCKING episode */
	uint64_t	lk_req_ns;	/* nl_now when requested / converted */
	struct nl_res	*lk_res;
	struct dl	lk_qlink;
	struct dl	lk_alink;	/* nl_all, creation order */
};

struct nl_state {
	struct nl_lkids	*nl_ids;	/* the daemon's, shared (nodelock.h) */
	uint64_t	nl_next_local;	/* next local lkid */
	uint64_t	nl_now;		/* nl_set_now */

	struct nl_res	**nl_rhash;
	size_t		nl_rhash_size;	/* power of two */
	size_t		nl_res_count;

	/* the resources with a cluster lock id, by that id (the hand-off
	 * names grants by lkid, per read and per tick) */
	struct nl_res	**nl_khash;
	size_t		nl_khash_size;	/* power of two */
	size_t		nl_kcount;

	struct nl_lock	**nl_lhash;
	size_t		nl_lhash_size;
	size_t		nl_lock_count;

	struct dl	nl_all;		/* every local lock, creation order */
	struct dl	nl_idle;	/* idle cached resources, LRU first */
	bool		nl_hold;	/* nl_hold_requests: requests wait */
	bool		nl_unsure;	/* counted in nl_ids->unsure */
	struct dl	nl_unsent;	/* held requests, in lock id order */
};

#define HASH_INIT	1024
#define CL_COUNTER_MAX	0xffffffffull

/* ---- modes -------------------------------------------------------------- */

int nl_mode_sup(int a, int b)
{
	int m, k;

	if (a == MODE_NONE)
		return mode_valid(b) ? b : MODE_NONE;
	if (b == MODE_NONE || !mode_valid(a) || !mode_valid(b))
		return mode_valid(a) && b == MODE_NONE ? a : MODE_NONE;
	/*
	 * Candidates (modes blocking everything a or b blocks) form an
	 * up-set with a least element; the numeric order is a linear
	 * extension of the lattice, so the first candidate is the least.
	 */
	for (m = MODE_NL; m < MODE_COUNT; m++) {
		for (k = 0; k < MODE_COUNT; k++)
			if ((!mode_compat(a, k) || !mode_compat(b, k)) &&
			    mode_compat(m, k))
				break;
		if (k == MODE_COUNT)
			return m;
	}
	return MODE_EX;
}

/* mode_covers with MODE_NONE as the bottom: NONE is covered by anything,
 * and covers only NONE. */
static bool covers(int have, int need)
{
	if (need == MODE_NONE)
		return true;
	if (have == MODE_NONE)
		return false;
	return mode_covers(have, need);
}

/* ---- output ------------------------------------------------------------- */

void nl_out_init(struct nl_out *out)
{
	memset(out, 0, sizeof(*out));
}

void nl_out_reset(struct nl_out *out)
{
	out->count = 0;
	out->lost = false;
}

void nl_out_free(struct nl_out *out)
{
	free(out->items);
	memset(out, 0, sizeof(*out));
}

static struct nl_out_item *out_add(struct nl_out *out, enum nl_out_kind kind,
				   const struct nl_res *res)
{
	struct nl_out_item *it;
	size_t ncap;

	if (!out)
		return NULL;
	if (out->count == out->cap) {
		ncap = out->cap ? out->cap * 2 : 16;
		it = realloc(out->items, ncap * sizeof(*it));
		if (!it) {
			out->lost = true;
			return NULL;
		}
		out->items = it;
		out->cap = ncap;
	}
	it = &out->items[out->count++];
	memset(it, 0, sizeof(*it));
	it->o_kind = kind;
	it->o_mode = MODE_NONE;
	it->o_namelen = res->r_namelen;
	memcpy(it->o_name, res->r_name, res->r_namelen);
	return it;
}

static void out_local(struct nl_out *out, enum nl_out_kind kind, int err,
		      const struct nl_lock *lk, int mode)
{
	const struct nl_res *res = lk->lk_res;
	struct nl_out_item *it = out_add(out, kind, res);

	if (!it)
		return;
	it->o_err = err;
	it->o_client = lk->lk_client;
	it->o_local_lkid = lk->lk_id;
	it->o_client_ref = lk->lk_ref;
	it->o_mode = mode;
	if (kind == NL_OUT_LOCAL_GRANT) {
		it->o_lvb_valid = res->r_lvb_valid;
		memcpy(it->o_lvb, res->r_lvb, LS_LVB_LEN);
		it->o_epoch = res->r_epoch;
		it->o_req_ns = lk->lk_req_ns;
	}
}

/* A cluster action; with_lvb: attach the dirty LVB (or IVVALBLK). */
static void out_cluster(struct nl_out *out, enum nl_out_kind kind,
			struct nl_res *res, int mode, uint32_t flags,
			bool with_lvb)
{
	struct nl_out_item *it = out_add(out, kind, res);

	if (with_lvb && res->r_lvb_dirty) {
		if (!res->r_lvb_valid)
			flags |= LS_LKF_IVVALBLK;
		res->r_lvb_dirty = false;
	} else {
		with_lvb = false;
	}
	if (!it)
		return;
	it->o_lkid = res->r_cl_lkid;
	it->o_mode = mode;
	it->o_flags = flags;
	it->o_held = res->r_unsent;
	if (with_lvb && res->r_lvb_valid) {
		it->o_lvb_valid = true;
		memcpy(it->o_lvb, res->r_lvb, LS_LVB_LEN);
	}
}

/* ---- tables ------------------------------------------------------------- */

static inline uint64_t res_hashof(const struct nl_res *r)
{
	return r->r_hash;
}

static inline uint64_t lock_hashof(const struct nl_lock *lk)
{
	return mix64(lk->lk_id);
}

static inline uint64_t res_khashof(const struct nl_res *r)
{
	return mix64(r->r_cl_lkid);
}

/* On -ENOMEM the old table stays (longer chains, still correct). */
HASH_GROW_FN(rhash_grow, struct nl_res, r_hnext, res_hashof)
HASH_GROW_FN(lhash_grow, struct nl_lock, lk_hnext, lock_hashof)
HASH_GROW_FN(khash_grow, struct nl_res, r_knext, res_khashof)

static struct nl_res *res_find(const struct nl_state *nl, const void *name,
			       size_t namelen)
{
	uint64_t h = fnv64(FNV64_OFFSET, name, namelen);
	struct nl_res *r;

	for (r = nl->nl_rhash[h & (nl->nl_rhash_size - 1)]; r; r = r->r_hnext)
		if (r->r_hash == h && r->r_namelen == namelen &&
		    !memcmp(r->r_name, name, namelen))
			return r;
	return NULL;
}

static struct nl_lock *lock_find(const struct nl_state *nl, uint64_t id)
{
	struct nl_lock *lk;

	for (lk = nl->nl_lhash[mix64(id) & (nl->nl_lhash_size - 1)]; lk;
	     lk = lk->lk_hnext)
		if (lk->lk_id == id)
			return lk;
	return NULL;
}

static struct nl_res *res_alloc(const void *name, size_t namelen)
{
	struct nl_res *r = calloc(1, sizeof(*r));
	int q;

	if (!r)
		return NULL;
	r->r_hash = fnv64(FNV64_OFFSET, name, namelen);
	for (q = 0; q < 3; q++)
		dl_init(&r->r_queue[q]);
	dl_init(&r->r_idle);
	dl_init(&r->r_touch);
	dl_init(&r->r_unsent_link);
	r->r_cl_state = NL_CL_NONE;
	r->r_cl_mode = MODE_NONE;
	r->r_cl_rqmode = MODE_NONE;
	r->r_wanted = MODE_NONE;
	r->r_namelen = (uint8_t)namelen;
	memcpy(r->r_name, name, namelen);
	return r;
}

static void res_insert(struct nl_state *nl, struct nl_res *r)
{
	size_t b;

	if (nl->nl_res_count >= nl->nl_rhash_size)
		(void)rhash_grow(&nl->nl_rhash, &nl->nl_rhash_size);
	b = r->r_hash & (nl->nl_rhash_size - 1);
	r->r_hnext = nl->nl_rhash[b];
	nl->nl_rhash[b] = r;
	nl->nl_res_count++;
}

/* The cluster lock id index: every resource with r_cl_lkid != 0 is in
 * it, under that id.  Change r_cl_lkid only through res_set_cl_lkid. */
static void kindex_del(struct nl_state *nl, struct nl_res *r)
{
	struct nl_res **pp = &nl->nl_khash[res_khashof(r) & (nl->nl_khash_size - 1)];

	while (*pp != r)
		pp = &(*pp)->r_knext;
	*pp = r->r_knext;
	r->r_knext = NULL;
	nl->nl_kcount--;
}

static void res_set_cl_lkid(struct nl_state *nl, struct nl_res *r, uint64_t lkid)
{
	size_t b;

	if (r->r_cl_lkid)
		kindex_del(nl, r);
	r->r_cl_lkid = lkid;
	if (!lkid)
		return;
	if (nl->nl_kcount >= nl->nl_khash_size)
		(void)khash_grow(&nl->nl_khash, &nl->nl_khash_size);
	b = res_khashof(r) & (nl->nl_khash_size - 1);
	r->r_knext = nl->nl_khash[b];
	nl->nl_khash[b] = r;
	nl->nl_kcount++;
}

static void res_free(struct nl_state *nl, struct nl_res *r)
{
	struct nl_res **pp = &nl->nl_rhash[r->r_hash & (nl->nl_rhash_size - 1)];

	if (r->r_cl_lkid)
		kindex_del(nl, r);
	while (*pp != r)
		pp = &(*pp)->r_hnext;
	*pp = r->r_hnext;
	dl_del(&r->r_idle);
	dl_del(&r->r_touch);
	dl_del(&r->r_unsent_link);
	nl->nl_res_count--;
	free(r);
}

static size_t res_nlocks(const struct nl_res *r)
{
	return r->r_qcount[0] + r->r_qcount[1] + r->r_qcount[2];
}

static void lock_insert(struct nl_state *nl, struct nl_lock *lk)
{
	size_t b;

	if (nl->nl_lock_count >= nl->nl_lhash_size)
		(void)lhash_grow(&nl->nl_lhash, &nl->nl_lhash_size);
	b = mix64(lk->lk_id) & (nl->nl_lhash_size - 1);
	lk->lk_hnext = nl->nl_lhash[b];
	nl->nl_lhash[b] = lk;
	dl_add_tail(&nl->nl_all, &lk->lk_alink);
	nl->nl_lock_count++;
}

static void queue_add(struct nl_lock *lk, enum nl_queue q)
{
	lk->lk_queue = (uint8_t)q;
	dl_add_tail(&lk->lk_res->r_queue[q], &lk->lk_qlink);
	lk->lk_res->r_qcount[q]++;
}

static void queue_del(struct nl_lock *lk)
{
	dl_del(&lk->lk_qlink);
	lk->lk_res->r_qcount[lk->lk_queue]--;
}

/* Unlink and free a lock (its granted mode must already be dropped from
 * r_grcount by the caller if it held one). */
static void lock_free(struct nl_state *nl, struct nl_lock *lk)
{
	struct nl_lock **pp = &nl->nl_lhash[mix64(lk->lk_id) &
					    (nl->nl_lhash_size - 1)];

	while (*pp != lk)
		pp = &(*pp)->lk_hnext;
	*pp = lk->lk_hnext;
	queue_del(lk);
	dl_del(&lk->lk_alink);
	nl->nl_lock_count--;
	free(lk);
}

static void lock_drop_grant(struct nl_lock *lk)
{
	if (lk->lk_grmode != MODE_NONE)
		lk->lk_res->r_grcount[lk->lk_grmode]--;
}

/* ---- local decisions ---------------------------------------------------- */

/* sup of every mode held locally (granted and converting locks), leaving
 * out one lock's mode (skip: MODE_NONE for none). */
static int held_sup(const struct nl_res *r, int skip)
{
	int m, s = MODE_NONE;

	for (m = 0; m < MODE_COUNT; m++)
		if (r->r_grcount[m] > (uint32_t)(m == skip))
			s = nl_mode_sup(s, m);
	return s;
}

/* true if a local holder (but one lock's mode, skip) conflicts with mode */
static bool held_conflicts(const struct nl_res *r, int mode, int skip)
{
	int m;

	for (m = 0; m < MODE_COUNT; m++)
		if (r->r_grcount[m] > (uint32_t)(m == skip) &&
		    !mode_compat(m, mode))
			return true;
	return false;
}

/*
 * May lk get its requested mode from the local holders and the wanted
 * mode alone (the cluster mode aside)?  During a BLOCKING episode a
 * request that conflicts with the wanted mode waits, so that the other
 * node is not starved - except a conversion whose granted mode already
 * blocks the other node: the node cannot give way before that lock goes
 * anyway, and its client may well wait for the conversion before it
 * releases (the DLM serves converters first for the same reason).
 */
static bool fits_locally(const struct nl_res *r, const struct nl_lock *lk)
{
	/* V6: a lock being handed off is granted to no local client. */
	if (r->r_handoff)
		return false;
	if (r->r_wanted != MODE_NONE &&
	    !mode_compat(lk->lk_rqmode, r->r_wanted) &&
	    (lk->lk_queue != NL_Q_CONVERT ||
	     mode_compat(lk->lk_grmode, r->r_wanted)))
		return false;
	return !held_conflicts(r, lk->lk_rqmode, lk->lk_grmode);
}

static bool fits_cluster(const struct nl_res *r, const struct nl_lock *lk)
{
	if (r->r_cl_state != NL_CL_HELD)
		return false;
	return covers(r->r_cl_mode,
		      nl_mode_sup(held_sup(r, lk->lk_grmode), lk->lk_rqmode));
}

static void lock_grant(struct nl_lock *lk, struct nl_out *out)
{
	struct nl_res *r = lk->lk_res;

	lock_drop_grant(lk);
	lk->lk_grmode = lk->lk_rqmode;
	r->r_grcount[lk->lk_grmode]++;
	queue_del(lk);
	queue_add(lk, NL_Q_GRANTED);
	out_local(out, NL_OUT_LOCAL_GRANT, 0, lk, lk->lk_grmode);
}

/* Converters first, then waiters, each in order; the first blocked one
 * stops the scan, and a blocked converter keeps every waiter waiting. */
static void grant_scan(struct nl_res *r, struct nl_out *out)
{
	struct dl *q;
	int i;

	for (i = NL_Q_CONVERT; i <= NL_Q_WAIT; i++) {
		q = &r->r_queue[i];
		while (!dl_empty(q)) {
			struct nl_lock *lk = container_of(q->next,
							  struct nl_lock,
							  lk_qlink);

			if (!fits_locally(r, lk) || !fits_cluster(r, lk))
				return;
			lock_grant(lk, out);
		}
	}
}

static struct nl_lock *first_queued(const struct nl_res *r)
{
	const struct dl *q;

	if (r->r_qcount[NL_Q_CONVERT])
		q = &r->r_queue[NL_Q_CONVERT];
	else if (r->r_qcount[NL_Q_WAIT])
		q = &r->r_queue[NL_Q_WAIT];
	else
		return NULL;
	return container_of(q->next, struct nl_lock, lk_qlink);
}

/* ---- cluster actions ---------------------------------------------------- */

static void bast_clear(struct nl_res *r)
{
	struct dl *p;
	int q;

	r->r_wanted = MODE_NONE;
	for (q = NL_Q_GRANTED; q <= NL_Q_CONVERT; q++)
		for (p = r->r_queue[q].next; p != &r->r_queue[q]; p = p->next)
			container_of(p, struct nl_lock, lk_qlink)->lk_bast_sent =
				false;
}

/*
 * Every local request queued on r fails with err, except (only_noqueue)
 * those without NOQUEUE, and those the cluster mode now held covers:
 * converters go back to their granted mode, waiters are freed.
 */
static void fail_queued(struct nl_state *nl, struct nl_res *r, int err,
			bool only_noqueue, struct nl_out *out)
{
	struct dl *p, *next;
	struct nl_lock *lk;
	int q;

	for (q = NL_Q_CONVERT; q <= NL_Q_WAIT; q++)
		for (p = r->r_queue[q].next; p != &r->r_queue[q]; p = next) {
			next = p->next;
			lk = container_of(p, struct nl_lock, lk_qlink);
			if (only_noqueue && !(lk->lk_flags & SDLM_LKF_NOQUEUE))
				continue;
			if (r->r_cl_state == NL_CL_HELD &&
			    covers(r->r_cl_mode, lk->lk_rqmode))
				continue;
			out_local(out, NL_OUT_LOCAL_FAIL, err, lk,
				  lk->lk_grmode);
			if (q == NL_Q_CONVERT) {
				lk->lk_rqmode = lk->lk_grmode;
				queue_del(lk);
				queue_add(lk, NL_Q_GRANTED);
			} else {
				lock_free(nl, lk);
			}
		}
}

static void cluster_request(struct nl_state *nl, struct nl_res *r, int mode,
			    uint32_t flags, struct nl_out *out)
{
	struct nl_lkids *ids = nl->nl_ids;

	if (ids->next > CL_COUNTER_MAX) {
		/* Cluster lock ids are never reused in an incarnation (not
		 * across lockspaces either, nodelock.h): out of them, only a
		 * restart of the daemon gives new ones. */
		fail_queued(nl, r, -EOVERFLOW, false, out);
		return;
	}
	res_set_cl_lkid(nl, r, ((uint64_t)ids->nodeid << 32) | ids->next++);
	r->r_cl_state = NL_CL_REQUESTING;
	r->r_cl_rqmode = (int8_t)mode;
	r->r_cancel_sent = false;
	if (nl->nl_hold) {
		/* Held (nl_hold_requests): nl_send_held sends it. */
		r->r_unsent = true;
		r->r_req_flags = flags;
		dl_add_tail(&nl->nl_unsent, &r->r_unsent_link);
	}
	out_cluster(out, NL_OUT_CLUSTER_REQUEST, r, mode, flags, false);
}

/* A held request is no cluster request any more: it leaves nl_unsent. */
static void unsent_clear(struct nl_res *r)
{
	r->r_unsent = false;
	r->r_req_flags = 0;
	dl_del(&r->r_unsent_link);
}

static void cluster_convert(struct nl_res *r, int mode, uint32_t flags,
			    struct nl_out *out)
{
	r->r_cl_state = NL_CL_CONVERTING;
	r->r_cl_rqmode = (int8_t)mode;
	r->r_cancel_sent = false;
	out_cluster(out, NL_OUT_CLUSTER_CONVERT, r, mode, flags,
		    mode_is_write(r->r_cl_mode));
}

static void cluster_release(struct nl_res *r, struct nl_out *out)
{
	r->r_cl_state = NL_CL_RELEASING;
	r->r_cl_rqmode = MODE_NONE;
	out_cluster(out, NL_OUT_CLUSTER_RELEASE, r, MODE_NONE, 0,
		    mode_is_write(r->r_cl_mode));
}

/* The resource after its local queues or cluster state changed: grant
 * what fits, give way to another node, ask the cluster for more, or
 * withdraw a request nobody needs.  May free r. */
static void res_update(struct nl_state *nl, struct nl_res *r,
		       struct nl_out *out)
{
	struct nl_lock *first;
	uint32_t flags;
	int keep, need;

	switch (r->r_cl_state) {
	case NL_CL_HELD:
		grant_scan(r, out);
		/* Being handed off through the disk: it goes back that way
		 * (or is kept), never through a cluster action from here. */
		if (r->r_handoff)
			break;
		if (r->r_wanted != MODE_NONE &&
		    mode_compat(r->r_cl_mode, r->r_wanted))
			bast_clear(r);
		if (r->r_wanted != MODE_NONE &&
		    !held_conflicts(r, r->r_wanted, MODE_NONE)) {
			keep = held_sup(r, MODE_NONE);
			if (keep == MODE_NONE)
				cluster_release(r, out);
			else
				cluster_convert(r, keep, 0, out);
			break;
		}
		/* Holders in the way of another node may still up-convert
		 * (fits_locally); the cluster serves converters first. */
		first = first_queued(r);
		if (first && fits_locally(r, first) && !fits_cluster(r, first)) {
			need = nl_mode_sup(held_sup(r, MODE_NONE),
					   first->lk_rqmode);
			flags = first->lk_flags & SDLM_LKF_NOQUEUE ?
				LS_LKF_NOQUEUE : 0;
			cluster_convert(r, need, flags, out);
		}
		break;
	case NL_CL_NONE:
		first = first_queued(r);
		if (first) {
			flags = first->lk_flags & SDLM_LKF_NOQUEUE ?
				LS_LKF_NOQUEUE : 0;
			cluster_request(nl, r, first->lk_rqmode, flags, out);
		}
		break;
	case NL_CL_REQUESTING:
	case NL_CL_CONVERTING:
		if (r->r_cancel_sent)
			break;
		if (r->r_unsent) {
			/* Never sent: withdrawn here, with no CANCEL.  A
			 * waiter left behind asks again (a new lock id). */
			if (first_queued(r))
				break;
			unsent_clear(r);
			r->r_cl_state = NL_CL_NONE;
			res_set_cl_lkid(nl, r, 0);
			r->r_cl_rqmode = MODE_NONE;
			res_update(nl, r, out);
			return;
		}
		if (r->r_cl_state == NL_CL_CONVERTING &&
		    mode_covers(r->r_cl_mode, r->r_cl_rqmode))
			break;	/* a down-convert is never withdrawn */
		first = first_queued(r);
		need = nl_mode_sup(held_sup(r, MODE_NONE),
				   first ? first->lk_rqmode : MODE_NONE);
		if (covers(r->r_cl_state == NL_CL_CONVERTING ?
			   r->r_cl_mode : MODE_NONE, need)) {
			r->r_cancel_sent = true;
			out_cluster(out, NL_OUT_CLUSTER_CANCEL, r, MODE_NONE, 0,
				    false);
		}
		break;
	default:
		break;
	}

	if (r->r_cl_state == NL_CL_HELD && !res_nlocks(r) &&
	    r->r_wanted == MODE_NONE && !r->r_handoff) {
		if (dl_empty(&r->r_idle))
			dl_add_tail(&nl->nl_idle, &r->r_idle);
	} else {
		dl_del(&r->r_idle);
	}
	if (r->r_cl_state == NL_CL_NONE && !res_nlocks(r))
		res_free(nl, r);
}

/* The node lost the cluster lock (fenced): every local lock fails. */
static void res_lose(struct nl_state *nl, struct nl_res *r, int err,
		     struct nl_out *out)
{
	struct nl_lock *lk;
	int q;

	for (q = NL_Q_GRANTED; q <= NL_Q_WAIT; q++)
		while (!dl_empty(&r->r_queue[q])) {
			lk = container_of(r->r_queue[q].next, struct nl_lock,
					  lk_qlink);
			out_local(out, NL_OUT_LOCAL_FAIL, err, lk, MODE_NONE);
			lock_drop_grant(lk);
			lock_free(nl, lk);
		}
	res_free(nl, r);
}

static int out_status(const struct nl_out *out)
{
	return out && out->lost ? -ENOMEM : 0;
}

/* ---- create / destroy --------------------------------------------------- */

int nl_lkids_init(struct nl_lkids *ids, uint32_t nodeid)
{
	if (!ids || !nodeid)
		return -EINVAL;
	ids->nodeid = nodeid;
	ids->next = 1;
	ids->unsure = 0;
	return 0;
}

int nl_create(struct nl_lkids *ids, struct nl_state **nlp)
{
	struct nl_state *nl;

	if (!ids || !ids->nodeid || !ids->next || !nlp)
		return -EINVAL;
	nl = calloc(1, sizeof(*nl));
	if (!nl)
		goto out_nomem;
	nl->nl_rhash = calloc(HASH_INIT, sizeof(*nl->nl_rhash));
	if (!nl->nl_rhash)
		goto out_free_nl;
	nl->nl_lhash = calloc(HASH_INIT, sizeof(*nl->nl_lhash));
	if (!nl->nl_lhash)
		goto out_free_rhash;
	nl->nl_khash = calloc(HASH_INIT, sizeof(*nl->nl_khash));
	if (!nl->nl_khash)
		goto out_free_lhash;
	nl->nl_rhash_size = HASH_INIT;
	nl->nl_lhash_size = HASH_INIT;
	nl->nl_khash_size = HASH_INIT;
	nl->nl_ids = ids;
	nl->nl_unsure = true;
	ids->unsure++;
	nl->nl_next_local = 1;
	dl_init(&nl->nl_all);
	dl_init(&nl->nl_idle);
	dl_init(&nl->nl_unsent);
	*nlp = nl;
	return 0;

out_free_lhash:
	free(nl->nl_lhash);
out_free_rhash:
	free(nl->nl_rhash);
out_free_nl:
	free(nl);
out_nomem:
	return -ENOMEM;
}

/* Free every lock and resource; the tables stay. */
static void nl_forget(struct nl_state *nl)
{
	struct nl_res *r, *next;
	struct nl_lock *lk, *lnext;
	size_t i;

	for (i = 0; i < nl->nl_lhash_size; i++) {
		for (lk = nl->nl_lhash[i]; lk; lk = lnext) {
			lnext = lk->lk_hnext;
			free(lk);
		}
		nl->nl_lhash[i] = NULL;
	}
	for (i = 0; i < nl->nl_rhash_size; i++) {
		for (r = nl->nl_rhash[i]; r; r = next) {
			next = r->r_hnext;
			free(r);
		}
		nl->nl_rhash[i] = NULL;
	}
	memset(nl->nl_khash, 0, nl->nl_khash_size * sizeof(*nl->nl_khash));
	nl->nl_lock_count = 0;
	nl->nl_res_count = 0;
	nl->nl_kcount = 0;
	dl_init(&nl->nl_all);
	dl_init(&nl->nl_idle);
	dl_init(&nl->nl_unsent);
}

void nl_predecessor_gone(struct nl_state *nl)
{
	if (!nl || !nl->nl_unsure)
		return;
	nl->nl_unsure = false;
	nl->nl_ids->unsure--;
}

bool nl_predecessor_unsure(const struct nl_state *nl)
{
	return nl && nl->nl_unsure;
}

void nl_destroy(struct nl_state *nl)
{
	if (!nl)
		return;
	nl_forget(nl);
	free(nl->nl_khash);
	free(nl->nl_lhash);
	free(nl->nl_rhash);
	free(nl);
}

/* ---- client calls ------------------------------------------------------- */

static bool name_ok(const void *name, size_t namelen)
{
	return name && namelen >= 1 && namelen <= SDLM_NAME_MAX;
}

/* Apply a local holder's VALBLK / IVVALBLK (PW/EX holders only). */
static void lvb_write(struct nl_lock *lk, uint32_t flags, const uint8_t *lvb)
{
	struct nl_res *r = lk->lk_res;

	if (!mode_is_write(lk->lk_grmode))
		return;
	if (flags & SDLM_LKF_IVVALBLK) {
		r->r_lvb_valid = false;
		memset(r->r_lvb, 0, LS_LVB_LEN);
		r->r_lvb_dirty = true;
	} else if ((flags & SDLM_LKF_VALBLK) && lvb) {
		memcpy(r->r_lvb, lvb, LS_LVB_LEN);
		r->r_lvb_valid = true;
		r->r_lvb_dirty = true;
	}
}

/* Could a NOQUEUE request for mode (by lk, or a new lock when lk is NULL)
 * be served without waiting behind anybody: at once, or by one cluster
 * request/conversion that nothing local stands in front of? */
static bool noqueue_ok(const struct nl_res *r, const struct nl_lock *lk,
		       int mode)
{
	int skip = lk ? lk->lk_grmode : MODE_NONE;

	if (r->r_qcount[NL_Q_CONVERT] || (!lk && r->r_qcount[NL_Q_WAIT]))
		return false;
	if (r->r_handoff)
		return false;
	if (r->r_wanted != MODE_NONE && !mode_compat(mode, r->r_wanted))
		return false;
	if (held_conflicts(r, mode, skip))
		return false;
	return r->r_cl_state == NL_CL_HELD ||
	       (r->r_cl_state == NL_CL_NONE && !lk);
}

int nl_lock(struct nl_state *nl, uint32_t client, uint64_t client_ref,
	    const void *name, size_t namelen, int mode, uint32_t flags,
	    int may_use, uint64_t *local_lkid, struct nl_out *out)
{
	struct nl_res *r, *fresh = NULL;
	struct nl_lock *lk;

	if (out)
		nl_out_reset(out);
	if (!nl || !name_ok(name, namelen) || !mode_valid(mode) ||
	    (flags & ~NL_LKF_ALL) || !local_lkid)
		return -EINVAL;
	if (may_use)
		return may_use > 0 ? -EINVAL : may_use;

	r = res_find(nl, name, namelen);
	if (!r) {
		fresh = r = res_alloc(name, namelen);
		if (!r)
			return -ENOMEM;
	}
	if ((flags & SDLM_LKF_NOQUEUE) && !noqueue_ok(r, NULL, mode)) {
		free(fresh);
		return SDLM_EBUSY;
	}
	lk = calloc(1, sizeof(*lk));
	if (!lk) {
		free(fresh);
		return -ENOMEM;
	}
	if (fresh)
		res_insert(nl, fresh);
	lk->lk_id = nl->nl_next_local++;
	lk->lk_ref = client_ref;
	lk->lk_client = client;
	lk->lk_flags = flags;
	lk->lk_grmode = MODE_NONE;
	lk->lk_rqmode = (int8_t)mode;
	lk->lk_req_ns = nl->nl_now;
	lk->lk_res = r;
	dl_init(&lk->lk_qlink);
	dl_init(&lk->lk_alink);
	lock_insert(nl, lk);
	queue_add(lk, NL_Q_WAIT);
	*local_lkid = lk->lk_id;
	res_update(nl, r, out);
	return out_status(out);
}

static int lock_lookup(struct nl_state *nl, uint32_t client, uint64_t id,
		       struct nl_lock **lkp)
{
	struct nl_lock *lk;

	if (!nl || !id)
		return -EINVAL;
	lk = lock_find(nl, id);
	if (!lk || lk->lk_client != client)
		return -ENOENT;
	*lkp = lk;
	return 0;
}

int nl_lock_owner(const struct nl_state *nl, uint64_t local_lkid, uint32_t *client)
{
	struct nl_lock *lk = nl && local_lkid ? lock_find(nl, local_lkid) : NULL;

	if (!lk)
		return -ENOENT;
	*client = lk->lk_client;
	return 0;
}

void nl_set_now(struct nl_state *nl, uint64_t now_ns)
{
	if (nl)
		nl->nl_now = now_ns;
}

int nl_convert(struct nl_state *nl, uint32_t client, uint64_t local_lkid,
	       int mode, uint32_t flags, const uint8_t *lvb, int may_use,
	       struct nl_out *out)
{
	struct nl_lock *lk, *other;
	struct nl_res *r;
	struct dl *p;
	int rc;

	if (out)
		nl_out_reset(out);
	if (!mode_valid(mode) || (flags & ~NL_LKF_ALL))
		return -EINVAL;
	rc = lock_lookup(nl, client, local_lkid, &lk);
	if (rc)
		return rc;
	if (lk->lk_queue != NL_Q_GRANTED)
		return -EBUSY;
	r = lk->lk_res;
	lk->lk_req_ns = nl->nl_now;

	if (mode_covers(lk->lk_grmode, mode)) {
		/* Down (or same): only reduces what is held, never waits. */
		lvb_write(lk, flags, lvb);
		lk->lk_rqmode = (int8_t)mode;
		lk->lk_flags = flags;
		lock_grant(lk, out);
		res_update(nl, r, out);
		return out_status(out);
	}
	if (may_use)
		return may_use > 0 ? -EINVAL : may_use;
	/* Two local PR holders both converting to EX would wait for each
	 * other for ever: the later one loses, as in the cluster. */
	for (p = r->r_queue[NL_Q_CONVERT].next; p != &r->r_queue[NL_Q_CONVERT];
	     p = p->next) {
		other = container_of(p, struct nl_lock, lk_qlink);
		if (!mode_compat(lk->lk_grmode, other->lk_rqmode))
			return -EDEADLK;
	}
	if ((flags & SDLM_LKF_NOQUEUE) && !noqueue_ok(r, lk, mode))
		return SDLM_EBUSY;

	lvb_write(lk, flags, lvb);
	lk->lk_rqmode = (int8_t)mode;
	lk->lk_flags = flags;
	queue_del(lk);
	queue_add(lk, NL_Q_CONVERT);
	res_update(nl, r, out);
	return out_status(out);
}

int nl_unlock(struct nl_state *nl, uint32_t client, uint64_t local_lkid,
	      uint32_t flags, const uint8_t *lvb, struct nl_out *out)
{
	struct nl_lock *lk;
	struct nl_res *r;
	int rc;

	if (out)
		nl_out_reset(out);
	if (flags & ~NL_LKF_ALL)
		return -EINVAL;
	rc = lock_lookup(nl, client, local_lkid, &lk);
	if (rc)
		return rc;
	if (lk->lk_queue != NL_Q_GRANTED)
		return -EBUSY;
	r = lk->lk_res;
	lvb_write(lk, flags, lvb);
	lock_drop_grant(lk);
	lock_free(nl, lk);
	res_update(nl, r, out);
	return out_status(out);
}

/* Withdraw lk's request (waiting: freed; converting: back to granted). */
static void lock_withdraw(struct nl_state *nl, struct nl_lock *lk,
			  struct nl_out *out, bool notify)
{
	if (notify)
		out_local(out, NL_OUT_LOCAL_FAIL, SDLM_ECANCELED, lk,
			  lk->lk_grmode);
	if (lk->lk_queue == NL_Q_CONVERT) {
		lk->lk_rqmode = lk->lk_grmode;
		queue_del(lk);
		queue_add(lk, NL_Q_GRANTED);
	} else {
		lock_free(nl, lk);
	}
}

int nl_cancel(struct nl_state *nl, uint32_t client, uint64_t local_lkid,
	      struct nl_out *out)
{
	struct nl_lock *lk;
	struct nl_res *r;
	int rc;

	if (out)
		nl_out_reset(out);
	rc = lock_lookup(nl, client, local_lkid, &lk);
	if (rc)
		return rc;
	if (lk->lk_queue == NL_Q_GRANTED)
		return -EALREADY;
	r = lk->lk_res;
	lock_withdraw(nl, lk, out, true);
	res_update(nl, r, out);
	return out_status(out);
}

static void res_touch(struct dl *list, struct nl_res *r)
{
	if (!r->r_touched) {
		r->r_touched = true;
		dl_add_tail(list, &r->r_touch);
	}
}

int nl_client_gone(struct nl_state *nl, uint32_t client, struct nl_out *out)
{
	struct dl touched, *p, *next;
	struct nl_lock *lk;
	struct nl_res *r;

	if (out)
		nl_out_reset(out);
	if (!nl)
		return -EINVAL;
	dl_init(&touched);
	/* Requests first, then holdings, and only then re-evaluate: a
	 * release must not grant the client's own queued request. */
	for (p = nl->nl_all.next; p != &nl->nl_all; p = next) {
		next = p->next;
		lk = container_of(p, struct nl_lock, lk_alink);
		if (lk->lk_client != client || lk->lk_queue == NL_Q_GRANTED)
			continue;
		res_touch(&touched, lk->lk_res);
		lock_withdraw(nl, lk, out, false);
	}
	for (p = nl->nl_all.next; p != &nl->nl_all; p = next) {
		next = p->next;
		lk = container_of(p, struct nl_lock, lk_alink);
		if (lk->lk_client != client)
			continue;
		res_touch(&touched, lk->lk_res);
		lock_drop_grant(lk);
		lock_free(nl, lk);
	}
	while (!dl_empty(&touched)) {
		r = container_of(touched.next, struct nl_res, r_touch);
		dl_del(&r->r_touch);
		r->r_touched = false;
		res_update(nl, r, out);
	}
	return out_status(out);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int nl_stop_all(struct nl_state *nl, uint32_t **clients, size_t *count)
{
	struct nl_lock *lk;
	uint32_t *ids = NULL;
	size_t n = 0, i, u = 0;
	struct dl *p;
	int rc = 0;

	if (!nl || !clients || !count)
		return -EINVAL;
	if (nl->nl_lock_count) {
		ids = malloc(nl->nl_lock_count * sizeof(*ids));
		if (!ids) {
			rc = -ENOMEM;
			goto out_forget;
		}
		for (p = nl->nl_all.next; p != &nl->nl_all; p = p->next) {
			lk = container_of(p, struct nl_lock, lk_alink);
			ids[n++] = lk->lk_client;
		}
		qsort(ids, n, sizeof(*ids), cmp_u32);
		for (i = 0; i < n; i++)
			if (!u || ids[u - 1] != ids[i])
				ids[u++] = ids[i];
	}
out_forget:
	nl_forget(nl);
	*clients = ids;
	*count = u;
	return rc;
}

int nl_drop_cached(struct nl_state *nl, size_t max, size_t *released,
		   struct nl_out *out)
{
	struct nl_res *r;
	size_t n = 0;

	if (out)
		nl_out_reset(out);
	if (!nl)
		return -EINVAL;
	while (n < max && !dl_empty(&nl->nl_idle)) {
		r = container_of(nl->nl_idle.next, struct nl_res, r_idle);
		dl_del(&r->r_idle);
		cluster_release(r, out);
		n++;
	}
	if (released)
		*released = n;
	return out_status(out);
}

/* ---- cluster decisions -------------------------------------------------- */

static int cl_lookup(struct nl_state *nl, const void *name, size_t namelen,
		     uint64_t lkid, struct nl_res **rp)
{
	struct nl_res *r;

	if (!nl || !name_ok(name, namelen))
		return -EINVAL;
	r = res_find(nl, name, namelen);
	if (!r || r->r_cl_state == NL_CL_NONE || r->r_cl_lkid != lkid)
		return -ENOENT;
	/* A held request never reached the cluster: a decision naming its
	 * lock id is about a predecessor's lock (nodelock.h). */
	if (r->r_unsent)
		return -ENOENT;
	*rp = r;
	return 0;
}

int nl_cluster_granted(struct nl_state *nl, const void *name, size_t namelen,
		       uint64_t lkid, int mode, const uint8_t *lvb,
		       bool lvb_valid, uint64_t epoch, struct nl_out *out)
{
	struct nl_res *r;
	int rc;

	if (out)
		nl_out_reset(out);
	rc = cl_lookup(nl, name, namelen, lkid, &r);
	if (rc)
		return rc;
	if (!mode_valid(mode) || (r->r_cl_state != NL_CL_REQUESTING &&
				  r->r_cl_state != NL_CL_CONVERTING))
		return -EINVAL;
	/* The grant must cover whatever is held locally (a down-convert
	 * was asked for exactly that). */
	if (!covers(mode, held_sup(r, MODE_NONE)))
		return -EINVAL;
	r->r_cl_state = NL_CL_HELD;
	r->r_cl_mode = (int8_t)mode;
	r->r_cl_rqmode = MODE_NONE;
	r->r_epoch = epoch;
	r->r_cancel_sent = false;
	bast_clear(r);
	if (!r->r_lvb_dirty) {
		r->r_lvb_valid = lvb_valid && lvb;
		if (r->r_lvb_valid)
			memcpy(r->r_lvb, lvb, LS_LVB_LEN);
		else
			memset(r->r_lvb, 0, LS_LVB_LEN);
	}
	res_update(nl, r, out);
	return out_status(out);
}

int nl_cluster_failed(struct nl_state *nl, const void *name, size_t namelen,
		      uint64_t lkid, int err, struct nl_out *out)
{
	struct nl_res *r;
	bool withdrawn;
	int rc;

	if (out)
		nl_out_reset(out);
	rc = cl_lookup(nl, name, namelen, lkid, &r);
	if (rc)
		return rc;
	if (err >= 0)
		return -EINVAL;
	if (err == SDLM_EFENCED) {
		res_lose(nl, r, err, out);
		return out_status(out);
	}
	if (r->r_cl_state != NL_CL_REQUESTING &&
	    r->r_cl_state != NL_CL_CONVERTING)
		return -EINVAL;
	withdrawn = r->r_cancel_sent && err == SDLM_ECANCELED;
	if (r->r_cl_state == NL_CL_REQUESTING) {
		r->r_cl_state = NL_CL_NONE;
		res_set_cl_lkid(nl, r, 0);
		r->r_cl_mode = MODE_NONE;
	} else {
		r->r_cl_state = NL_CL_HELD;
	}
	r->r_cl_rqmode = MODE_NONE;
	r->r_cancel_sent = false;
	/* Our own CANCEL answered: nobody needed it; others re-request. */
	if (!withdrawn)
		fail_queued(nl, r, err, err == SDLM_EBUSY, out);
	res_update(nl, r, out);
	return out_status(out);
}

int nl_cluster_blocking(struct nl_state *nl, const void *name,
			size_t namelen, uint64_t lkid, int mode_wanted,
			struct nl_out *out)
{
	struct nl_lock *lk;
	struct nl_res *r;
	struct dl *p;
	int rc, q;

	if (out)
		nl_out_reset(out);
	rc = cl_lookup(nl, name, namelen, lkid, &r);
	if (rc)
		return rc;
	if (!mode_valid(mode_wanted))
		return -EINVAL;
	/* Only a held lock can be in the way; a BLOCKING the cluster sent
	 * before our release or down-convert was applied is stale. */
	if ((r->r_cl_state != NL_CL_HELD &&
	     r->r_cl_state != NL_CL_CONVERTING) ||
	    mode_compat(r->r_cl_mode, mode_wanted))
		return 0;
	r->r_wanted = (int8_t)mode_wanted;
	for (q = NL_Q_GRANTED; q <= NL_Q_CONVERT; q++)
		for (p = r->r_queue[q].next; p != &r->r_queue[q]; p = p->next) {
			lk = container_of(p, struct nl_lock, lk_qlink);
			if (lk->lk_bast_sent ||
			    mode_compat(lk->lk_grmode, mode_wanted))
				continue;
			lk->lk_bast_sent = true;
			out_local(out, NL_OUT_LOCAL_BAST, 0, lk, mode_wanted);
		}
	res_update(nl, r, out);
	return out_status(out);
}

int nl_cluster_released(struct nl_state *nl, const void *name,
			size_t namelen, uint64_t lkid, int err,
			struct nl_out *out)
{
	struct nl_res *r;
	int rc;

	if (out)
		nl_out_reset(out);
	rc = cl_lookup(nl, name, namelen, lkid, &r);
	if (rc)
		return rc;
	if (err == SDLM_EFENCED) {
		res_lose(nl, r, err, out);
		return out_status(out);
	}
	if (err || r->r_cl_state != NL_CL_RELEASING)
		return -EINVAL;
	r->r_cl_state = NL_CL_NONE;
	res_set_cl_lkid(nl, r, 0);
	r->r_cl_mode = MODE_NONE;
	bast_clear(r);
	/* The value now lives in the cluster; the next GRANTED brings it. */
	r->r_lvb_valid = false;
	r->r_lvb_dirty = false;
	memset(r->r_lvb, 0, LS_LVB_LEN);
	res_update(nl, r, out);
	return out_status(out);
}

/* ---- held requests ------------------------------------------------------ */

void nl_hold_requests(struct nl_state *nl)
{
	if (nl)
		nl->nl_hold = true;
}

bool nl_holding(const struct nl_state *nl)
{
	return nl && nl->nl_hold;
}

int nl_send_held(struct nl_state *nl, struct nl_out *out)
{
	struct nl_res *r;
	uint32_t flags;

	if (out)
		nl_out_reset(out);
	if (!nl)
		return -EINVAL;
	nl->nl_hold = false;
	while (!dl_empty(&nl->nl_unsent)) {
		r = container_of(nl->nl_unsent.next, struct nl_res, r_unsent_link);
		flags = r->r_req_flags;
		unsent_clear(r);
		out_cluster(out, NL_OUT_CLUSTER_REQUEST, r, r->r_cl_rqmode,
			    flags, false);
	}
	return out_status(out);
}

int nl_unsent_failed(struct nl_state *nl, const void *name, size_t namelen,
		     uint64_t lkid, int err, struct nl_out *out)
{
	struct nl_res *r;

	if (out)
		nl_out_reset(out);
	if (!nl || !name_ok(name, namelen))
		return -EINVAL;
	r = res_find(nl, name, namelen);
	if (!r || !r->r_unsent || r->r_cl_lkid != lkid)
		return -ENOENT;
	if (err >= 0)
		return -EINVAL;
	unsent_clear(r);
	r->r_cl_state = NL_CL_NONE;
	res_set_cl_lkid(nl, r, 0);
	r->r_cl_rqmode = MODE_NONE;
	fail_queued(nl, r, err, false, out);
	res_update(nl, r, out);
	return out_status(out);
}

/* ---- the hand-off through the disk -------------------------------------- */

/* The resource whose cluster lock is lkid: the id index, O(1).  The
 * daemon asks every lockspace's cache, for every request entry V reads
 * and every stopping grant at every tick. */
static struct nl_res *res_by_cl_lkid(const struct nl_state *nl, uint64_t lkid)
{
	struct nl_res *r;

	if (!nl || !lkid)
		return NULL;
	for (r = nl->nl_khash[mix64(lkid) & (nl->nl_khash_size - 1)]; r;
	     r = r->r_knext)
		if (r->r_cl_lkid == lkid && r->r_cl_state != NL_CL_NONE)
			return r;
	return NULL;
}

/*
 * Review s28-rev19 M1: while a cache of the daemon is unsure, a request
 * for lkid may be for a predecessor's lock with the same number in that
 * cache's lockspace (the replica names it by our member incarnation);
 * our own lock of that id elsewhere is not what it asks for.  A grant
 * stopping already was asked for while every cache was sure.
 */
static bool handoff_sure(const struct nl_state *nl)
{
	return nl && !nl->nl_ids->unsure;
}

/*
 * A grant the hand-off may stop: HELD, or down-converting - a
 * down-conversion is never refused on a minority side nor withdrawn
 * (res_update), so one sent just before a cut waits there for good while
 * the other side still shows the grant at its old mode and asks for it
 * (review s28-rev19 L2).  Stopping it takes no cluster action either way;
 * its holders go as a HELD grant's do, and the answer releases the whole
 * grant.  An up-conversion is not: it may still be refused or cancelled.
 */
static bool handoff_holds(const struct nl_res *r)
{
	return r->r_cl_state == NL_CL_HELD ||
	       (r->r_cl_state == NL_CL_CONVERTING &&
		mode_covers(r->r_cl_mode, r->r_cl_rqmode));
}

bool nl_handoff_held(const struct nl_state *nl, uint64_t lkid)
{
	const struct nl_res *r = res_by_cl_lkid(nl, lkid);

	return r && handoff_holds(r) &&
	       (r->r_handoff || handoff_sure(nl));
}

bool nl_handoff_forgotten(const struct nl_state *nl, uint64_t lkid)
{
	const struct nl_res *r;

	/* Only an id this incarnation gave out is never used again: one
	 * above the counter is a predecessor's, and ours later. */
	if (!nl || (uint32_t)(lkid >> 32) != nl->nl_ids->nodeid ||
	    (lkid & CL_COUNTER_MAX) == 0 || (lkid & CL_COUNTER_MAX) >= nl->nl_ids->next)
		return false;
	r = res_by_cl_lkid(nl, lkid);
	return !r || r->r_cl_state == NL_CL_RELEASING;
}

bool nl_handoff_unknown(const struct nl_state *nl, uint64_t lkid)
{
	return handoff_sure(nl) && nl_handoff_forgotten(nl, lkid);
}

int nl_handoff_stop(struct nl_state *nl, uint64_t lkid, struct nl_out *out)
{
	struct nl_res *r = res_by_cl_lkid(nl, lkid);
	struct nl_lock *lk;
	struct dl *p;
	int q;

	if (out)
		nl_out_reset(out);
	if (!r)
		return -ENOENT;
	if (!handoff_holds(r))
		return -EBUSY;
	if (r->r_handoff)
		return 0;
	r->r_handoff = true;
	dl_del(&r->r_idle);
	for (q = NL_Q_GRANTED; q <= NL_Q_CONVERT; q++)
		for (p = r->r_queue[q].next; p != &r->r_queue[q]; p = p->next) {
			lk = container_of(p, struct nl_lock, lk_qlink);
			if (lk->lk_bast_sent)
				continue;
			lk->lk_bast_sent = true;
			out_local(out, NL_OUT_LOCAL_BAST, 0, lk, MODE_EX);
		}
	return out_status(out);
}

int nl_handoff_state(const struct nl_state *nl, uint64_t lkid,
		     uint32_t *holders, uint8_t *lvb, bool *lvb_valid)
{
	const struct nl_res *r = res_by_cl_lkid(nl, lkid);

	if (!r || !r->r_handoff)
		return -ENOENT;
	*holders = (uint32_t)(r->r_qcount[NL_Q_GRANTED] + r->r_qcount[NL_Q_CONVERT]);
	*lvb_valid = r->r_lvb_valid;
	memcpy(lvb, r->r_lvb, LS_LVB_LEN);
	return 0;
}

size_t nl_handoff_locks(const struct nl_state *nl, uint64_t lkid,
			uint32_t *clients, uint64_t *lkids, size_t max)
{
	const struct nl_res *r = res_by_cl_lkid(nl, lkid);
	const struct nl_lock *lk;
	const struct dl *p;
	size_t n = 0;
	int q;

	if (!r)
		return 0;
	for (q = NL_Q_GRANTED; q <= NL_Q_CONVERT; q++)
		for (p = r->r_queue[q].next; p != &r->r_queue[q]; p = p->next) {
			lk = container_of(p, struct nl_lock, lk_qlink);
			if (n < max) {
				clients[n] = lk->lk_client;
				if (lkids)
					lkids[n] = lk->lk_id;
			}
			n++;
		}
	return n;
}

size_t nl_handoff_clients(const struct nl_state *nl, uint64_t lkid,
			  uint32_t *clients, size_t max)
{
	return nl_handoff_locks(nl, lkid, clients, NULL, max);
}

int nl_handoff_keep(struct nl_state *nl, uint64_t lkid, struct nl_out *out)
{
	struct nl_res *r = res_by_cl_lkid(nl, lkid);

	if (out)
		nl_out_reset(out);
	if (!r || !r->r_handoff)
		return -ENOENT;
	r->r_handoff = false;
	if (r->r_wanted == MODE_NONE)
		bast_clear(r);
	res_update(nl, r, out);
	return out_status(out);
}

int nl_handoff_gone(struct nl_state *nl, uint64_t lkid, int err,
		    struct nl_out *out)
{
	struct nl_res *r = res_by_cl_lkid(nl, lkid);

	if (out)
		nl_out_reset(out);
	if (!r)
		return -ENOENT;
	res_lose(nl, r, err, out);
	return out_status(out);
}

/* ---- introspection ------------------------------------------------------ */

size_t nl_resource_count(const struct nl_state *nl)
{
	return nl ? nl->nl_res_count : 0;
}

size_t nl_lock_count(const struct nl_state *nl)
{
	return nl ? nl->nl_lock_count : 0;
}

static void res_info(const struct nl_res *r, struct nl_res_info *info)
{
	memset(info, 0, sizeof(*info));
	info->name = r->r_name;
	info->namelen = r->r_namelen;
	info->cl_state = (enum nl_cl_state)r->r_cl_state;
	info->cl_lkid = r->r_cl_lkid;
	info->cl_mode = r->r_cl_mode;
	info->cl_rqmode = r->r_cl_rqmode;
	info->wanted = r->r_wanted;
	info->cancel_sent = r->r_cancel_sent;
	info->unsent = r->r_unsent;
	info->idle = !dl_empty(&r->r_idle);
	info->lvb_valid = r->r_lvb_valid;
	info->lvb = r->r_lvb;
	info->epoch = r->r_epoch;
	info->granted = r->r_qcount[NL_Q_GRANTED];
	info->converting = r->r_qcount[NL_Q_CONVERT];
	info->waiting = r->r_qcount[NL_Q_WAIT];
}

static void lock_info(const struct nl_lock *lk, struct nl_lock_info *info)
{
	memset(info, 0, sizeof(*info));
	info->local_lkid = lk->lk_id;
	info->client = lk->lk_client;
	info->client_ref = lk->lk_ref;
	info->grmode = lk->lk_grmode;
	info->rqmode = lk->lk_rqmode;
	info->queue = (enum nl_queue)lk->lk_queue;
	info->flags = lk->lk_flags;
	info->name = lk->lk_res->r_name;
	info->namelen = lk->lk_res->r_namelen;
}

int nl_res_get(const struct nl_state *nl, const void *name, size_t namelen,
	       struct nl_res_info *info)
{
	const struct nl_res *r;

	if (!nl || !name_ok(name, namelen) || !info)
		return -EINVAL;
	r = res_find(nl, name, namelen);
	if (!r)
		return -ENOENT;
	res_info(r, info);
	return 0;
}

int nl_res_get_lkid(const struct nl_state *nl, uint64_t lkid,
		    struct nl_res_info *info)
{
	const struct nl_res *r;

	if (!nl || !info)
		return -EINVAL;
	r = res_by_cl_lkid(nl, lkid);
	if (!r)
		return -ENOENT;
	res_info(r, info);
	return 0;
}

int nl_lock_get(const struct nl_state *nl, uint64_t local_lkid,
		struct nl_lock_info *info)
{
	const struct nl_lock *lk;

	if (!nl || !info)
		return -EINVAL;
	lk = lock_find(nl, local_lkid);
	if (!lk)
		return -ENOENT;
	lock_info(lk, info);
	return 0;
}

static int cmp_res(const void *a, const void *b)
{
	const struct nl_res *x = *(const struct nl_res *const *)a;
	const struct nl_res *y = *(const struct nl_res *const *)b;
	size_t n = x->r_namelen < y->r_namelen ? x->r_namelen : y->r_namelen;
	int c = memcmp(x->r_name, y->r_name, n);

	if (c)
		return c;
	return (int)x->r_namelen - (int)y->r_namelen;
}

int nl_foreach_resource(const struct nl_state *nl,
			int (*cb)(const struct nl_res_info *res, void *arg),
			void *arg)
{
	struct nl_res **all, *r;
	struct nl_res_info info;
	size_t i, n = 0;
	int rc = 0;

	if (!nl || !cb)
		return -EINVAL;
	if (!nl->nl_res_count)
		return 0;
	all = malloc(nl->nl_res_count * sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (i = 0; i < nl->nl_rhash_size; i++)
		for (r = nl->nl_rhash[i]; r; r = r->r_hnext)
			all[n++] = r;
	qsort(all, n, sizeof(*all), cmp_res);
	for (i = 0; i < n && !rc; i++) {
		res_info(all[i], &info);
		rc = cb(&info, arg);
	}
	free(all);
	return rc;
}

int nl_foreach_lock(const struct nl_state *nl, const void *name,
		    size_t namelen,
		    int (*cb)(const struct nl_lock_info *lk, void *arg),
		    void *arg)
{
	const struct nl_res *r;
	struct nl_lock_info info;
	const struct dl *p;
	int q, rc;

	if (!nl || !name_ok(name, namelen) || !cb)
		return -EINVAL;
	r = res_find(nl, name, namelen);
	if (!r)
		return -ENOENT;
	for (q = NL_Q_GRANTED; q <= NL_Q_WAIT; q++)
		for (p = r->r_queue[q].next; p != &r->r_queue[q]; p = p->next) {
			lock_info(container_of(p, struct nl_lock, lk_qlink),
				  &info);
			rc = cb(&info, arg);
			if (rc)
				return rc;
		}
	return 0;
}
