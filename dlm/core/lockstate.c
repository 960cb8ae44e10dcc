/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lockstate.c - the replicated cluster-level lock state machine.
 *
 * Every member of a lockspace applies the same CPG-ordered event stream to
 * its own copy of this state; nothing here reads a clock, does I/O, draws
 * a random number, or lets a hash-table order or a pointer value decide
 * anything.  docs/locking.md is the reference; this is the short version.
 *
 * Per resource, three queues (as the DLM):
 *
 *	granted   locks holding a mode (lk_grmode == lk_rqmode)
 *	convert   granted locks asking for another mode; they keep holding
 *		  lk_grmode until the conversion is granted or cancelled
 *	wait      new requests, holding nothing (lk_grmode == MODE_NONE)
 *
 *	  REQUEST          grant                RELEASE
 *	 ---------> wait ---------> granted -----------> (freed)
 *	              |  CANCEL,      |   ^
 *	              |  node left,   |   | grant, or CANCEL / node left
 *	              v  fenced       v   |   (back to its granted mode)
 *	           (freed)          convert
 *	                             CONVERT (not a down-convert)
 *
 * Granting (res_grant_pending), after every event that may change it:
 * scan the convert queue, then - only if no eligible converter is left
 * blocked - the wait queue, each in arrival order.  A lock of a node that
 * is not *eligible* (see node_eligible) is skipped but keeps its place.
 * The first eligible lock that is not compatible with every granted mode
 * stops the scan (no barging); its conflicting holders get one BLOCKING
 * each per episode, or, when the holder's node is away, its node one
 * NEED_FENCE.  A converter never waits for a lock behind it, so a
 * conversion deadlock can only be created by a new CONVERT whose granted
 * mode blocks an earlier converter: that CONVERT is refused (DEADLOCK,
 * -EDEADLK), the later one in the total order loses.
 *
 * Membership: a node that leaves keeps its granted locks (away is not
 * dead) and loses its queued requests; only NODE_FENCED frees its locks.
 *
 * Determinism of output order: per-lock events touch one resource;
 * global events (CONFCHG, NODE_STATUS, NODE_FENCED, GATE) walk nodes in
 * id order, a node's locks in creation order, and pending resources
 * sorted by name.
 *
 * Lookups: resources and locks are in chained hash tables (FNV-1a over
 * the name, a 64-bit mixer over the lock id), so 100 000 resources cost
 * O(1) each; the node table is a sorted array (binary search).  Hash
 * order is never observable: walks that produce output sort first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "handoff.h"
#include "hash.h"
#include "list.h"
#include "lockstate_int.h"
#include "sdlm.h"

/* ---- output ------------------------------------------------------------- */

void ls_out_init(struct ls_out *out)
{
	memset(out, 0, sizeof(*out));
}

void ls_out_reset(struct ls_out *out)
{
	out->count = 0;
	out->lost = false;
}

void ls_out_free(struct ls_out *out)
{
	free(out->items);
	memset(out, 0, sizeof(*out));
}

static struct ls_out_item *out_add_raw(struct ls_out *out,
					enum ls_out_kind kind, int err,
					uint32_t nodeid, uint64_t lkid,
					int mode, const void *name,
					size_t namelen)
{
	struct ls_out_item *it;
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
	it->o_err = err;
	it->o_nodeid = nodeid;
	it->o_lkid = lkid;
	it->o_mode = mode;
	it->o_namelen = (uint8_t)namelen;
	if (namelen)
		memcpy(it->o_name, name, namelen);
	return it;
}

/* A decision about a lock on res (NULL for NEED_FENCE); GRANTED carries
 * the LVB as it is now. */
static void out_add(struct ls_out *out, enum ls_out_kind kind, int err,
		    uint32_t nodeid, uint64_t lkid, int mode,
		    const struct ls_res *res)
{
	struct ls_out_item *it;

	it = out_add_raw(out, kind, err, nodeid, lkid, mode,
			 res ? res->res_name : NULL,
			 res ? res->res_namelen : 0);
	if (it && kind == LS_OUT_GRANTED) {
		it->o_lvb_valid = res->res_lvb_valid;
		memcpy(it->o_lvb, res->res_lvb, LS_LVB_LEN);
		it->o_epoch = res->res_epoch;
	}
}

/* ---- nodes -------------------------------------------------------------- */

struct ls_node *node_find(const struct ls_state *ls, uint32_t id)
{
	size_t lo = 0, hi = ls->ls_node_count, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ls->ls_nodes[mid]->nd_id == id)
			return ls->ls_nodes[mid];
		if (ls->ls_nodes[mid]->nd_id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void node_insert(struct ls_state *ls, struct ls_node *nd)
{
	size_t i = ls->ls_node_count;

	while (i > 0 && ls->ls_nodes[i - 1]->nd_id > nd->nd_id)
		i--;
	memmove(&ls->ls_nodes[i + 1], &ls->ls_nodes[i],
		(ls->ls_node_count - i) * sizeof(*ls->ls_nodes));
	ls->ls_nodes[i] = nd;
	ls->ls_node_count++;
}

struct ls_node *node_alloc(const struct ls_state *ls, uint32_t id)
{
	struct ls_node *nd = calloc(1, sizeof(*nd));

	if (!nd)
		return NULL;
	nd->nd_id = id;
	nd->nd_live = ls->ls_default_live;
	dl_init(&nd->nd_locks);
	return nd;
}

/*
 * Make sure every id in ids[0..n) (ascending, unique) has a node record.
 * All or nothing: on failure no record was added.  0, -ENOSPC, -ENOMEM.
 */
static int nodes_ensure(struct ls_state *ls, const uint32_t *ids, size_t n)
{
	struct ls_node **fresh = NULL, **grown;
	size_t i, missing = 0, made = 0, ncap;
	int rc = 0;

	for (i = 0; i < n; i++)
		if (!node_find(ls, ids[i]))
			missing++;
	if (!missing)
		return 0;
	if (ls->ls_node_count + missing > LS_NODE_RECS_MAX)
		return -ENOSPC;
	if (ls->ls_node_count + missing > ls->ls_node_cap) {
		ncap = ls->ls_node_count + missing;
		if (ncap < 2 * ls->ls_node_cap)
			ncap = 2 * ls->ls_node_cap;
		grown = realloc(ls->ls_nodes, ncap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		ls->ls_nodes = grown;
		ls->ls_node_cap = ncap;
	}
	fresh = calloc(missing, sizeof(*fresh));
	if (!fresh)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (node_find(ls, ids[i]))
			continue;
		fresh[made] = node_alloc(ls, ids[i]);
		if (!fresh[made]) {
			rc = -ENOMEM;
			goto out_free_fresh;
		}
		made++;
	}
	for (i = 0; i < made; i++)
		node_insert(ls, fresh[i]);
	made = 0;
out_free_fresh:
	for (i = 0; i < made; i++)
		free(fresh[i]);
	free(fresh);
	return rc;
}

static bool node_eligible(const struct ls_state *ls, const struct ls_node *nd)
{
	return ls->ls_gate_open && !ls->ls_hold && ls->ls_quorate && nd->nd_member &&
	       nd->nd_live && !nd->nd_pill && !nd->nd_fenced;
}

/* ---- resources and locks ------------------------------------------------ */

static struct ls_res *res_find(const struct ls_state *ls, const void *name,
			       size_t len)
{
	uint64_t h = fnv64(FNV64_OFFSET, name, len);
	struct ls_res *res;

	for (res = ls->ls_rhash[h & (ls->ls_rhash_size - 1)]; res;
	     res = res->res_hnext)
		if (res->res_hash == h && res->res_namelen == len &&
		    !memcmp(res->res_name, name, len))
			return res;
	return NULL;
}

static inline uint64_t res_hashof(const struct ls_res *res)
{
	return res->res_hash;
}

static inline uint64_t lock_hashof(const struct ls_lock *lk)
{
	return mix64(lk->lk_id);
}

HASH_GROW_FN(rhash_grow, struct ls_res, res_hnext, res_hashof)
HASH_GROW_FN(lhash_grow, struct ls_lock, lk_hnext, lock_hashof)

/* A failed resize leaves longer chains, never an error. */
static void rhash_maybe_grow(struct ls_state *ls)
{
	if (ls->ls_res_count >= ls->ls_rhash_size)
		(void)rhash_grow(&ls->ls_rhash, &ls->ls_rhash_size);
}

static void lhash_maybe_grow(struct ls_state *ls)
{
	if (ls->ls_lock_count >= ls->ls_lhash_size)
		(void)lhash_grow(&ls->ls_lhash, &ls->ls_lhash_size);
}

/* Room in ls_pend/ls_scratch for one more resource.  0 or -ENOMEM. */
static int pend_reserve(struct ls_state *ls)
{
	struct ls_res **p;
	size_t ncap;

	if (ls->ls_res_count + 1 <= ls->ls_pend_cap)
		return 0;
	ncap = ls->ls_pend_cap ? ls->ls_pend_cap * 2 : 64;
	p = realloc(ls->ls_pend, ncap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	ls->ls_pend = p;
	p = realloc(ls->ls_scratch, ncap * sizeof(*p));
	if (!p)
		return -ENOMEM;	/* ls_pend merely grew: harmless */
	ls->ls_scratch = p;
	ls->ls_pend_cap = ncap;
	return 0;
}

/* Create and hash a resource.  0 or -ENOMEM (nothing changed). */
int res_create(struct ls_state *ls, const void *name, size_t len,
	       struct ls_res **resp)
{
	struct ls_res *res;
	size_t b;
	int q, rc;

	rc = pend_reserve(ls);
	if (rc)
		return rc;
	res = calloc(1, sizeof(*res));
	if (!res)
		return -ENOMEM;
	memcpy(res->res_name, name, len);
	res->res_namelen = (uint8_t)len;
	res->res_hash = fnv64(FNV64_OFFSET, name, len);
	res->res_pend_idx = SIZE_MAX;
	for (q = 0; q < 3; q++)
		dl_init(&res->res_queue[q]);
	b = res->res_hash & (ls->ls_rhash_size - 1);
	res->res_hnext = ls->ls_rhash[b];
	ls->ls_rhash[b] = res;
	ls->ls_res_count++;
	rhash_maybe_grow(ls);
	*resp = res;
	return 0;
}

void res_update_pending(struct ls_state *ls, struct ls_res *res)
{
	bool pending = !dl_empty(&res->res_queue[LS_Q_CONVERT]) ||
		       !dl_empty(&res->res_queue[LS_Q_WAIT]);
	size_t i = res->res_pend_idx;

	if (pending && i == SIZE_MAX) {
		res->res_pend_idx = ls->ls_pend_count;
		ls->ls_pend[ls->ls_pend_count++] = res;
	} else if (!pending && i != SIZE_MAX) {
		ls->ls_pend[i] = ls->ls_pend[--ls->ls_pend_count];
		ls->ls_pend[i]->res_pend_idx = i;
		res->res_pend_idx = SIZE_MAX;
	}
}

/* Free the resource if no lock remains (its LVB goes with it). */
void res_put(struct ls_state *ls, struct ls_res *res)
{
	struct ls_res **pp;

	if (res->res_nlocks)
		return;
	res_update_pending(ls, res);
	pp = &ls->ls_rhash[res->res_hash & (ls->ls_rhash_size - 1)];
	while (*pp != res)
		pp = &(*pp)->res_hnext;
	*pp = res->res_hnext;
	ls->ls_res_count--;
	free(res);
}

struct ls_lock *lock_find(const struct ls_state *ls, uint64_t lkid)
{
	struct ls_lock *lk;

	for (lk = ls->ls_lhash[mix64(lkid) & (ls->ls_lhash_size - 1)]; lk;
	     lk = lk->lk_hnext)
		if (lk->lk_id == lkid)
			return lk;
	return NULL;
}

/* Hook a fully set-up lock (queue, modes) into resource, node and hash. */
void lock_link(struct ls_state *ls, struct ls_lock *lk)
{
	struct ls_res *res = lk->lk_res;
	size_t b = mix64(lk->lk_id) & (ls->ls_lhash_size - 1);

	lk->lk_hnext = ls->ls_lhash[b];
	ls->ls_lhash[b] = lk;
	ls->ls_lock_count++;
	dl_add_tail(&res->res_queue[lk->lk_queue], &lk->lk_qlink);
	res->res_qcount[lk->lk_queue]++;
	if (lk->lk_grmode != MODE_NONE)
		res->res_grcount[lk->lk_grmode]++;
	res->res_nlocks++;
	dl_add_tail(&lk->lk_node->nd_locks, &lk->lk_nlink);
	lk->lk_node->nd_lock_count++;
	lhash_maybe_grow(ls);
}

/* Unhook and free; the caller calls res_update_pending/res_put. */
static void lock_free(struct ls_state *ls, struct ls_lock *lk)
{
	struct ls_res *res = lk->lk_res;
	struct ls_lock **pp;

	pp = &ls->ls_lhash[mix64(lk->lk_id) & (ls->ls_lhash_size - 1)];
	while (*pp != lk)
		pp = &(*pp)->lk_hnext;
	*pp = lk->lk_hnext;
	ls->ls_lock_count--;
	dl_del(&lk->lk_qlink);
	res->res_qcount[lk->lk_queue]--;
	if (lk->lk_grmode != MODE_NONE)
		res->res_grcount[lk->lk_grmode]--;
	res->res_nlocks--;
	dl_del(&lk->lk_nlink);
	lk->lk_node->nd_lock_count--;
	free(lk);
}

static void lock_move(struct ls_lock *lk, enum ls_queue q)
{
	struct ls_res *res = lk->lk_res;

	dl_del(&lk->lk_qlink);
	res->res_qcount[lk->lk_queue]--;
	lk->lk_queue = (uint8_t)q;
	dl_add_tail(&res->res_queue[q], &lk->lk_qlink);
	res->res_qcount[q]++;
}

static void lock_set_grmode(struct ls_lock *lk, int mode)
{
	struct ls_res *res = lk->lk_res;

	if (lk->lk_grmode != MODE_NONE)
		res->res_grcount[lk->lk_grmode]--;
	lk->lk_grmode = (int8_t)mode;
	if (mode != MODE_NONE)
		res->res_grcount[mode]++;
}

/* ---- LVB ---------------------------------------------------------------- */

static void lvb_invalidate(struct ls_res *res)
{
	res->res_lvb_valid = false;
	memset(res->res_lvb, 0, LS_LVB_LEN);
}

/* A PW/EX holder's RELEASE or CONVERT writes (or invalidates) the LVB. */
static void lvb_from_holder(struct ls_res *res, const struct ls_lock *lk,
			    const struct ls_event *ev)
{
	if (!mode_is_write(lk->lk_grmode))
		return;
	if (ev->ev_flags & LS_LKF_IVVALBLK) {
		lvb_invalidate(res);
	} else if (ev->ev_lvb) {
		memcpy(res->res_lvb, ev->ev_lvb, LS_LVB_LEN);
		res->res_lvb_valid = true;
	}
}

/* ---- granting ----------------------------------------------------------- */

/* Is mode compatible with every granted mode on res, self's excepted? */
static bool res_compat(const struct ls_res *res, const struct ls_lock *self,
		       int mode)
{
	uint32_t n;
	int k;

	if (!res)
		return true;
	for (k = 0; k < MODE_COUNT; k++) {
		n = res->res_grcount[k];
		if (self && self->lk_grmode == k)
			n--;
		if (n && !mode_compat(mode, k))
			return false;
	}
	return true;
}

/* Does any eligible lock wait in queue q (i.e. is blocked there)? */
static bool res_eligible_queued(const struct ls_state *ls,
				const struct ls_res *res, enum ls_queue q)
{
	const struct dl *d;

	if (!res)
		return false;
	for (d = res->res_queue[q].next; d != &res->res_queue[q]; d = d->next)
		if (node_eligible(ls, lock_of_q(d)->lk_node))
			return true;
	return false;
}

/*
 * A request for `want` (by `self`, which may hold a mode, or NULL) is
 * blocked: tell each conflicting holder once per episode, or have an away
 * holder's node fenced.  Holders in granted order, then converters.
 */
static void res_notify(struct ls_res *res,
		       const struct ls_lock *self, int want, struct ls_out *out)
{
	struct ls_lock *h;
	struct dl *d;
	int q;

	for (q = LS_Q_GRANTED; q <= LS_Q_CONVERT; q++) {
		for (d = res->res_queue[q].next; d != &res->res_queue[q];
		     d = d->next) {
			h = lock_of_q(d);
			if (h == self || mode_compat(h->lk_grmode, want))
				continue;
			if (!h->lk_node->nd_member) {
				if (!h->lk_node->nd_need_fence_sent) {
					h->lk_node->nd_need_fence_sent = true;
					out_add(out, LS_OUT_NEED_FENCE, 0,
						h->lk_node->nd_id, 0,
						MODE_NONE, NULL);
				}
			} else if (h->lk_bast_mode == MODE_NONE) {
				h->lk_bast_mode = (int8_t)want;
				out_add(out, LS_OUT_BLOCKING, 0,
					h->lk_node->nd_id, h->lk_id, want, res);
			}
		}
	}
}

/*
 * The blocking episode of res is over (nobody eligible is blocked): its
 * holders may hear the next one.  Without this a holder told while its
 * node had no replica (it was waiting for the state), whose waiter then
 * left or cancelled, would never hear of the next waiter, and its node
 * would keep serving the lock from its cache forever.
 */
static void res_bast_clear(struct ls_res *res)
{
	struct dl *d;
	int q;

	for (q = LS_Q_GRANTED; q <= LS_Q_CONVERT; q++)
		for (d = res->res_queue[q].next; d != &res->res_queue[q]; d = d->next)
			lock_of_q(d)->lk_bast_mode = MODE_NONE;
}

/* After a waiter or converter was withdrawn outside res_grant_pending. */
static void res_bast_maybe_clear(struct ls_res *res)
{
	if (dl_empty(&res->res_queue[LS_Q_CONVERT]) &&
	    dl_empty(&res->res_queue[LS_Q_WAIT]))
		res_bast_clear(res);
}

/*
 * A grant that starts a write tenure (PW/EX to a lock holding neither)
 * takes a new epoch from the lockspace-wide counter: the fencing token
 * the holder stamps on what it writes (docs/locking.md "Epochs").  A
 * down-convert EX -> PW keeps the tenure and its epoch.
 */
static void lock_grant(struct ls_state *ls, struct ls_lock *lk,
		       struct ls_out *out)
{
	if (mode_is_write(lk->lk_rqmode) && !mode_is_write(lk->lk_grmode))
		lk->lk_res->res_epoch = ++ls->ls_epoch;
	lock_set_grmode(lk, lk->lk_rqmode);
	lock_move(lk, LS_Q_GRANTED);
	lk->lk_bast_mode = MODE_NONE;
	out_add(out, LS_OUT_GRANTED, 0, lk->lk_node->nd_id, lk->lk_id,
		lk->lk_grmode, lk->lk_res);
}

/* Grant what can be granted, in queue order; notify the first blocked. */
static void res_grant_pending(struct ls_state *ls, struct ls_res *res,
			      struct ls_out *out)
{
	struct ls_lock *lk, *blocked = NULL;
	struct dl *d, *next;
	int q;

	for (q = LS_Q_CONVERT; q <= LS_Q_WAIT && !blocked; q++) {
		for (d = res->res_queue[q].next; d != &res->res_queue[q];
		     d = next) {
			next = d->next;
			lk = lock_of_q(d);
			if (!node_eligible(ls, lk->lk_node))
				continue;
			if (!res_compat(res, lk, lk->lk_rqmode)) {
				blocked = lk;
				break;
			}
			lock_grant(ls, lk, out);
		}
	}
	if (blocked)
		res_notify(res, blocked, blocked->lk_rqmode, out);
	else
		res_bast_clear(res);
	res_update_pending(ls, res);
}

int res_cmp(const void *a, const void *b)
{
	const struct ls_res *x = *(struct ls_res *const *)a;
	const struct ls_res *y = *(struct ls_res *const *)b;
	size_t n = x->res_namelen < y->res_namelen ? x->res_namelen :
						      y->res_namelen;
	int c = memcmp(x->res_name, y->res_name, n);

	if (c)
		return c;
	return (int)x->res_namelen - (int)y->res_namelen;
}

/* After a global change: retry every pending resource in name order. */
static void grant_all_pending(struct ls_state *ls, struct ls_out *out)
{
	size_t i, n = ls->ls_pend_count;

	/* nobody is eligible: nothing to grant, nobody to notify */
	if (!ls->ls_gate_open || ls->ls_hold || !ls->ls_quorate || !n)
		return;
	memcpy(ls->ls_scratch, ls->ls_pend, n * sizeof(*ls->ls_pend));
	qsort(ls->ls_scratch, n, sizeof(*ls->ls_scratch), res_cmp);
	for (i = 0; i < n; i++)
		res_grant_pending(ls, ls->ls_scratch[i], out);
}

/* ---- events ------------------------------------------------------------- */

/* The sender of a lock event must be a member and not fenced. */
static int sender_check(const struct ls_state *ls, uint32_t nodeid,
			struct ls_node **ndp)
{
	struct ls_node *nd = node_find(ls, nodeid);

	if (!nd || !nd->nd_member)
		return -EPERM;
	if (nd->nd_fenced)
		return SDLM_EFENCED;
	*ndp = nd;
	return 0;
}

static int sender_lock(const struct ls_state *ls, const struct ls_event *ev,
		       struct ls_lock **lkp)
{
	struct ls_node *nd;
	struct ls_lock *lk;
	int rc;

	rc = sender_check(ls, ev->ev_nodeid, &nd);
	if (rc)
		return rc;
	lk = lock_find(ls, ev->ev_lkid);
	if (!lk || lk->lk_node != nd)
		return -ENOENT;
	*lkp = lk;
	return 0;
}

/*
 * A new lock ev->ev_lkid of nd on *resp (created from ev's name if NULL),
 * requesting ev->ev_mode, granted grmode, in queue q: linked, or nothing
 * changed (-ENOMEM).
 */
static int lock_new(struct ls_state *ls, const struct ls_event *ev,
		    struct ls_node *nd, struct ls_res **resp, int grmode,
		    enum ls_queue q, struct ls_lock **lkp)
{
	struct ls_lock *lk = calloc(1, sizeof(*lk));
	int rc;

	if (!lk)
		return -ENOMEM;
	if (!*resp) {
		rc = res_create(ls, ev->ev_name, ev->ev_namelen, resp);
		if (rc) {
			free(lk);
			return rc;
		}
	}
	lk->lk_id = ev->ev_lkid;
	lk->lk_seq = ls->ls_lock_seq++;
	lk->lk_flags = ev->ev_flags;
	lk->lk_grmode = (int8_t)grmode;
	lk->lk_rqmode = (int8_t)ev->ev_mode;
	lk->lk_bast_mode = MODE_NONE;
	lk->lk_queue = (uint8_t)q;
	lk->lk_res = *resp;
	lk->lk_node = nd;
	lock_link(ls, lk);
	*lkp = lk;
	return 0;
}

static int ev_request(struct ls_state *ls, const struct ls_event *ev,
		      struct ls_out *out)
{
	struct ls_lock *lk;
	struct ls_node *nd;
	struct ls_res *res;
	bool grantable;
	int rc;

	if (!mode_valid(ev->ev_mode) || !ev->ev_name || !ev->ev_namelen ||
	    ev->ev_namelen > SDLM_NAME_MAX ||
	    (ev->ev_flags & ~(LS_LKF_NOQUEUE | LS_LKF_NOQUEUEBAST)) ||
	    (ev->ev_lkid >> 32) != ev->ev_nodeid)
		return -EINVAL;
	rc = sender_check(ls, ev->ev_nodeid, &nd);
	if (rc)
		return rc;
	if (lock_find(ls, ev->ev_lkid))
		return -EEXIST;
	res = res_find(ls, ev->ev_name, ev->ev_namelen);

	if (ev->ev_flags & LS_LKF_NOQUEUE) {
		grantable = node_eligible(ls, nd) &&
			    !res_eligible_queued(ls, res, LS_Q_CONVERT) &&
			    !res_eligible_queued(ls, res, LS_Q_WAIT) &&
			    res_compat(res, NULL, ev->ev_mode);
		if (!grantable) {
			/* no lock is created; the name may have no resource */
			out_add_raw(out, LS_OUT_NOQUEUE_FAILED, SDLM_EBUSY,
				    ev->ev_nodeid, ev->ev_lkid, ev->ev_mode,
				    ev->ev_name, ev->ev_namelen);
			if (res && (ev->ev_flags & LS_LKF_NOQUEUEBAST) &&
			    node_eligible(ls, nd))
				res_notify(res, NULL, ev->ev_mode, out);
			return 0;
		}
	}

	rc = lock_new(ls, ev, nd, &res, MODE_NONE, LS_Q_WAIT, &lk);
	if (rc)
		return rc;
	if (ev->ev_flags & LS_LKF_NOQUEUE)
		lock_grant(ls, lk, out);
	res_grant_pending(ls, res, out);
	return 0;
}

static int ev_convert(struct ls_state *ls, const struct ls_event *ev,
		      struct ls_out *out)
{
	struct ls_lock *lk, *c;
	struct ls_res *res;
	struct dl *d;
	bool grantable;
	int rc;

	if (!mode_valid(ev->ev_mode) || (ev->ev_flags & ~LS_LKF_ALL))
		return -EINVAL;
	rc = sender_lock(ls, ev, &lk);
	if (rc)
		return rc;
	if (lk->lk_queue != LS_Q_GRANTED)
		return -EBUSY;
	res = lk->lk_res;
	lvb_from_holder(res, lk, ev);

	/* A down-convert (or same mode) can block nobody: granted now,
	 * even to an ineligible node, as a release would be. */
	if (mode_covers(lk->lk_grmode, ev->ev_mode)) {
		lk->lk_rqmode = (int8_t)ev->ev_mode;
		lock_grant(ls, lk, out);
		goto out_retry;
	}

	if (ev->ev_flags & LS_LKF_NOQUEUE) {
		grantable = node_eligible(ls, lk->lk_node) &&
			    !res_eligible_queued(ls, res, LS_Q_CONVERT) &&
			    res_compat(res, lk, ev->ev_mode);
		if (grantable) {
			lk->lk_rqmode = (int8_t)ev->ev_mode;
			lock_grant(ls, lk, out);
		} else {
			out_add(out, LS_OUT_NOQUEUE_FAILED, SDLM_EBUSY,
				ev->ev_nodeid, lk->lk_id, lk->lk_grmode, res);
			if ((ev->ev_flags & LS_LKF_NOQUEUEBAST) &&
			    node_eligible(ls, lk->lk_node))
				res_notify(res, lk, ev->ev_mode, out);
		}
		goto out_retry;
	}

	/*
	 * Converters are served strictly in order and never wait for one
	 * behind them, so the only cycle possible is: an earlier converter
	 * wants a mode this lock's granted mode blocks, while this one
	 * would queue behind it.  Refuse the newcomer.
	 */
	for (d = res->res_queue[LS_Q_CONVERT].next;
	     d != &res->res_queue[LS_Q_CONVERT]; d = d->next) {
		c = lock_of_q(d);
		if (!mode_compat(c->lk_rqmode, lk->lk_grmode)) {
			out_add(out, LS_OUT_DEADLOCK, -EDEADLK, ev->ev_nodeid,
				lk->lk_id, lk->lk_grmode, res);
			goto out_retry;
		}
	}
	lk->lk_rqmode = (int8_t)ev->ev_mode;
	lk->lk_flags = ev->ev_flags;
	lock_move(lk, LS_Q_CONVERT);
out_retry:
	res_grant_pending(ls, res, out);
	return 0;
}

static int ev_release(struct ls_state *ls, const struct ls_event *ev,
		      struct ls_out *out)
{
	struct ls_lock *lk;
	struct ls_res *res;
	int rc;

	if (ev->ev_flags & ~LS_LKF_IVVALBLK)
		return -EINVAL;
	rc = sender_lock(ls, ev, &lk);
	if (rc)
		return rc;
	if (lk->lk_queue != LS_Q_GRANTED)
		return -EBUSY;
	res = lk->lk_res;
	lvb_from_holder(res, lk, ev);
	out_add(out, LS_OUT_RELEASED, 0, ev->ev_nodeid, lk->lk_id,
		lk->lk_grmode, res);
	lock_free(ls, lk);
	res_grant_pending(ls, res, out);
	res_put(ls, res);
	return 0;
}

/* Withdraw a queued request: a waiter is freed, a converter goes back to
 * its granted mode.  The caller retries the resource. */
static void lock_withdraw(struct ls_state *ls, struct ls_lock *lk, int err,
			  struct ls_out *out)
{
	if (lk->lk_queue == LS_Q_WAIT) {
		out_add(out, LS_OUT_CANCELLED, err, lk->lk_node->nd_id,
			lk->lk_id, MODE_NONE, lk->lk_res);
		lock_free(ls, lk);
	} else {
		lk->lk_rqmode = lk->lk_grmode;
		lock_move(lk, LS_Q_GRANTED);
		out_add(out, LS_OUT_CANCELLED, err, lk->lk_node->nd_id,
			lk->lk_id, lk->lk_grmode, lk->lk_res);
	}
}

static int ev_cancel(struct ls_state *ls, const struct ls_event *ev,
		     struct ls_out *out)
{
	struct ls_lock *lk;
	struct ls_res *res;
	int rc;

	rc = sender_lock(ls, ev, &lk);
	if (rc)
		return rc;
	if (lk->lk_queue == LS_Q_GRANTED)
		return -EALREADY;
	res = lk->lk_res;
	lock_withdraw(ls, lk, SDLM_ECANCELED, out);
	res_grant_pending(ls, res, out);
	res_put(ls, res);
	return 0;
}

static bool ids_contain(const uint32_t *ids, size_t n, uint32_t id)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ids[mid] == id)
			return true;
		if (ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int ev_confchg(struct ls_state *ls, const struct ls_event *ev,
		      struct ls_out *out)
{
	struct ls_node *nd;
	struct ls_lock *lk;
	struct ls_res *res;
	struct dl *d, *next;
	size_t i;
	int rc;

	if (ev->ev_member_count > LS_NODE_RECS_MAX ||
	    (ev->ev_member_count && !ev->ev_members))
		return -EINVAL;
	for (i = 0; i < ev->ev_member_count; i++)
		if (!ev->ev_members[i] ||
		    (i && ev->ev_members[i] <= ev->ev_members[i - 1]))
			return -EINVAL;
	rc = nodes_ensure(ls, ev->ev_members, ev->ev_member_count);
	if (rc)
		return rc;

	for (i = 0; i < ls->ls_node_count; i++) {
		nd = ls->ls_nodes[i];
		if (ids_contain(ev->ev_members, ev->ev_member_count, nd->nd_id)) {
			if (!nd->nd_member) {
				/* joined: a fenced node starts afresh */
				nd->nd_member = true;
				nd->nd_fenced = false;
				nd->nd_need_fence_sent = false;
			}
			continue;
		}
		if (!nd->nd_member)
			continue;
		/* left: keeps its granted locks, loses its requests */
		nd->nd_member = false;
		for (d = nd->nd_locks.next; d != &nd->nd_locks; d = next) {
			next = d->next;
			lk = lock_of_n(d);
			if (lk->lk_queue == LS_Q_GRANTED)
				continue;
			res = lk->lk_res;
			lock_withdraw(ls, lk, SDLM_ENOQUORUM, out);
			res_bast_maybe_clear(res);
			res_update_pending(ls, res);
			res_put(ls, res);
		}
	}
	ls->ls_ring_id = ev->ev_ring_id;
	ls->ls_quorate = ev->ev_quorate;
	grant_all_pending(ls, out);
	return 0;
}

static int ev_node_status(struct ls_state *ls, const struct ls_event *ev,
			  struct ls_out *out)
{
	struct ls_node *nd;
	int rc;

	if (!ev->ev_nodeid)
		return -EINVAL;
	rc = nodes_ensure(ls, &ev->ev_nodeid, 1);
	if (rc)
		return rc;
	nd = node_find(ls, ev->ev_nodeid);
	nd->nd_live = ev->ev_hb_live;
	nd->nd_pill = ev->ev_pill_pending;
	grant_all_pending(ls, out);
	return 0;
}

static int ev_node_fenced(struct ls_state *ls, const struct ls_event *ev,
			  struct ls_out *out)
{
	struct ls_node *nd;
	struct ls_lock *lk;
	struct ls_res *res;
	struct dl *d, *next;
	int rc;

	if (!ev->ev_nodeid)
		return -EINVAL;
	nd = node_find(ls, ev->ev_nodeid);
	if (nd && nd->nd_has_fenced_inc &&
	    ev->ev_incarnation <= nd->nd_fenced_inc)
		return -EALREADY;
	/* A verdict about an incarnation older than the node's member record
	 * comes after the node restarted and rejoined: the locks on its list
	 * are the new incarnation's (the old one's were released by it), and
	 * freeing them would grant a second holder.  A record of 0 is none
	 * (below HO_PROTOCOL_MIN). */
	if (nd && nd->nd_inc && ev->ev_incarnation < nd->nd_inc)
		return -EALREADY;
	rc = nodes_ensure(ls, &ev->ev_nodeid, 1);
	if (rc)
		return rc;
	nd = node_find(ls, ev->ev_nodeid);
	nd->nd_fenced = true;
	nd->nd_has_fenced_inc = true;
	nd->nd_fenced_inc = ev->ev_incarnation;
	nd->nd_need_fence_sent = false;

	for (d = nd->nd_locks.next; d != &nd->nd_locks; d = next) {
		next = d->next;
		lk = lock_of_n(d);
		res = lk->lk_res;
		/* its last writes may never have reached us */
		if (mode_is_write(lk->lk_grmode))
			lvb_invalidate(res);
		out_add(out, lk->lk_queue == LS_Q_WAIT ? LS_OUT_CANCELLED :
			LS_OUT_RELEASED, SDLM_EFENCED, nd->nd_id, lk->lk_id,
			lk->lk_grmode, res);
		lock_free(ls, lk);
		res_bast_maybe_clear(res);
		res_update_pending(ls, res);
		res_put(ls, res);
	}
	grant_all_pending(ls, out);
	return 0;
}

static int ev_gate(struct ls_state *ls, const struct ls_event *ev,
		   struct ls_out *out)
{
	ls->ls_gate_open = ev->ev_gate_open;
	/* a rebuilt replica takes reports until its gate first opens */
	if (ls->ls_gate_open)
		ls->ls_rebuild = false;
	grant_all_pending(ls, out);
	return 0;
}

/*
 * A lock a dirty member still holds, reported to a fresh replica that is
 * rebuilt after a total loss of quorum (docs/protocol.md "Rebuilding a
 * fresh replica", docs/model.md: each rule below stops one known-bad
 * variant).  While no partition was quorate nothing could be granted, so
 * the locks the members still hold are the locks there are; the replica
 * enters each granted, under its closed gate:
 *   - only on a replica that takes reports: formed fresh to be rebuilt,
 *     its gate never opened (after it opened, a member with cached locks
 *     was a non-member when it formed, and was fenced before: -ESTALE);
 *   - only from a dirty member (its SYNC JOIN said CACHED, no CLEAN
 *     since: -EACCES) - the host, which keeps the dirty set, says so in
 *     ev_dirty;
 *   - only if compatible with every lock granted on the resource: a
 *     conflicting report is refused (-EBUSY), its sender revokes the lock
 *     (BAD_REBUILD_CONFLICT: accepting it made two holders);
 *   - the epoch counter rises to at least the reported epoch, so the
 *     next write tenure's epoch is above the rebuilt holder's;
 *   - the value block is invalid: the next holder reads what is durable.
 * No decision is emitted (its holder has the lock); requests queued
 * meanwhile wait behind it, and when the gate opens the holder hears of
 * them (BLOCKING) like any holder.
 */
static int ev_held(struct ls_state *ls, const struct ls_event *ev)
{
	struct ls_lock *lk;
	struct ls_node *nd;
	struct ls_res *res;
	int rc;

	if (!mode_valid(ev->ev_mode) || !ev->ev_name || !ev->ev_namelen ||
	    ev->ev_namelen > SDLM_NAME_MAX || ev->ev_flags ||
	    (ev->ev_lkid >> 32) != ev->ev_nodeid)
		return -EINVAL;
	rc = sender_check(ls, ev->ev_nodeid, &nd);
	if (rc)
		return rc;
	if (!ls->ls_rebuild)
		return -ESTALE;
	if (!ev->ev_dirty)
		return -EACCES;
	if (lock_find(ls, ev->ev_lkid))
		return -EEXIST;
	res = res_find(ls, ev->ev_name, ev->ev_namelen);
	if (!res_compat(res, NULL, ev->ev_mode))
		return -EBUSY;
	rc = lock_new(ls, ev, nd, &res, ev->ev_mode, LS_Q_GRANTED, &lk);
	if (rc)
		return rc;
	if (ev->ev_epoch > ls->ls_epoch)
		ls->ls_epoch = ev->ev_epoch;
	if (ev->ev_epoch > res->res_epoch)
		res->res_epoch = ev->ev_epoch;
	lvb_invalidate(res);
	res_update_pending(ls, res);
	return 0;
}

static int ev_hold(struct ls_state *ls, const struct ls_event *ev,
		   struct ls_out *out)
{
	bool was = ls->ls_hold;

	ls->ls_hold = ev->ev_hold;
	if (was && !ls->ls_hold)
		grant_all_pending(ls, out);
	return 0;
}

/*
 * HANDOFF_RELEASE (design-handoff.md F3): the lockspace fencer releases
 * V's grant on V's behalf, after V answered through the disk that it
 * stopped it for good.  Released only while the replica shows exactly
 * that grant (ho_release_applies, fence/handoff.c): lkid granted to V,
 * V's member record naming that incarnation, V not fenced.  Anything else
 * (released already, by V's own RELEASE or an earlier HANDOFF_RELEASE; a
 * later grant; another incarnation; V fenced) is refused with the state
 * unchanged, the same on every replica: a duplicate, a replay, or one
 * answer turned into events by two successive fencers releases once.
 * Whether V is a member does not matter: a V that rejoined after listing
 * the grant never uses it again (V3, V5).  A converting lock is refused
 * (-EBUSY, as RELEASE): V's conversions were withdrawn when it left, and
 * it never converts a grant it listed.
 * The value block: a PW/EX holder's is the answer's, or invalid when the
 * answer had none (as after a fence); a reader's changes nothing.
 */
static int ev_handoff_release(struct ls_state *ls, const struct ls_event *ev,
			      struct ls_out *out)
{
	struct ho_held held = { 0 };
	struct ls_node *nd;
	struct ls_lock *lk;
	struct ls_res *res;

	if (!ev->ev_nodeid || !ev->ev_incarnation ||
	    (ev->ev_lkid >> 32) != ev->ev_nodeid || ev->ev_flags)
		return -EINVAL;
	nd = node_find(ls, ev->ev_nodeid);
	lk = lock_find(ls, ev->ev_lkid);
	/* a fenced V holds nothing (NODE_FENCED freed its locks): -ENOENT */
	if (!nd || !lk || lk->lk_node != nd)
		return -ENOENT;
	if (lk->lk_queue != LS_Q_GRANTED)
		return -EBUSY;
	held.by_v = true;
	held.incarnation = nd->nd_inc;
	held.lkid = lk->lk_id;
	held.v_fenced = nd->nd_fenced;
	if (!ho_release_applies(&held, ev->ev_incarnation, ev->ev_lkid))
		return -ESTALE;
	res = lk->lk_res;
	if (mode_is_write(lk->lk_grmode)) {
		if (ev->ev_lvb) {
			memcpy(res->res_lvb, ev->ev_lvb, LS_LVB_LEN);
			res->res_lvb_valid = true;
		} else {
			lvb_invalidate(res);
		}
	}
	out_add(out, LS_OUT_RELEASED, 0, nd->nd_id, lk->lk_id, lk->lk_grmode,
		res);
	lock_free(ls, lk);
	res_grant_pending(ls, res, out);
	res_put(ls, res);
	return 0;
}

/*
 * ROUND (local): the member records.  With the agreed protocol at
 * HO_PROTOCOL_MIN or above, each member's (incarnation, proto_max) of its
 * JOIN; below it, none at all, so that a lockspace shared with an older
 * node has the state (digest, snapshot) an older node has.
 */
static int ev_round(struct ls_state *ls, const struct ls_event *ev)
{
	size_t i;
	int rc;

	if (ev->ev_member_count > LS_NODE_RECS_MAX ||
	    (ev->ev_member_count &&
	     (!ev->ev_members || !ev->ev_incarnations || !ev->ev_protos)))
		return -EINVAL;
	for (i = 0; i < ev->ev_member_count; i++)
		if (!ev->ev_members[i] || !ev->ev_incarnations[i] ||
		    !ev->ev_protos[i] ||
		    (i && ev->ev_members[i] <= ev->ev_members[i - 1]))
			return -EINVAL;
	/* A member below protocol 4 came in before the gate first opened:
	 * no more reports (they are ignored above the agreed version), and
	 * no rebuild flag in a snapshot it may have to read. */
	if (ev->ev_proto < LS_REBUILD_PROTO)
		ls->ls_rebuild = false;
	if (ev->ev_proto < HO_PROTOCOL_MIN) {
		for (i = 0; i < ls->ls_node_count; i++) {
			ls->ls_nodes[i]->nd_inc = 0;
			ls->ls_nodes[i]->nd_proto = 0;
		}
		return 0;
	}
	rc = nodes_ensure(ls, ev->ev_members, ev->ev_member_count);
	if (rc)
		return rc;
	for (i = 0; i < ev->ev_member_count; i++) {
		struct ls_node *nd = node_find(ls, ev->ev_members[i]);

		nd->nd_inc = ev->ev_incarnations[i];
		nd->nd_proto = ev->ev_protos[i];
		/* A verdict on an older incarnation, applied after this one
		 * joined and before this round recorded it, freed the old
		 * one's locks and marked the member fenced: the member is not
		 * the incarnation fenced.  It holds nothing (the verdict freed
		 * every lock, and each event of it since was refused), so no
		 * queue changes. */
		if (nd->nd_fenced && nd->nd_member && nd->nd_has_fenced_inc &&
		    nd->nd_inc > nd->nd_fenced_inc)
			nd->nd_fenced = false;
	}
	return 0;
}

int ls_apply(struct ls_state *ls, const struct ls_event *ev, struct ls_out *out)
{
	int rc;

	if (out)
		ls_out_reset(out);
	if (!ls || !ev)
		return -EINVAL;
	switch (ev->ev_kind) {
	case LS_EV_REQUEST:
		rc = ev_request(ls, ev, out);
		break;
	case LS_EV_CONVERT:
		rc = ev_convert(ls, ev, out);
		break;
	case LS_EV_RELEASE:
		rc = ev_release(ls, ev, out);
		break;
	case LS_EV_CANCEL:
		rc = ev_cancel(ls, ev, out);
		break;
	case LS_EV_CONFCHG:
		rc = ev_confchg(ls, ev, out);
		break;
	case LS_EV_NODE_STATUS:
		rc = ev_node_status(ls, ev, out);
		break;
	case LS_EV_NODE_FENCED:
		rc = ev_node_fenced(ls, ev, out);
		break;
	case LS_EV_GATE:
		rc = ev_gate(ls, ev, out);
		break;
	case LS_EV_HOLD:
		rc = ev_hold(ls, ev, out);
		break;
	case LS_EV_HELD:
		rc = ev_held(ls, ev);
		break;
	case LS_EV_HANDOFF_RELEASE:
		rc = ev_handoff_release(ls, ev, out);
		break;
	case LS_EV_ROUND:
		rc = ev_round(ls, ev);
		break;
	default:
		rc = -EINVAL;
		break;
	}
	if (!rc && out && out->lost)
		rc = -ENOMEM;
	return rc;
}

/* ---- life cycle --------------------------------------------------------- */

#define LS_HASH_INIT	256

int ls_create(const struct ls_params *params, struct ls_state **lsp)
{
	struct ls_state *ls;
	int rc = -ENOMEM;

	if (!params || !lsp)
		return -EINVAL;
	ls = calloc(1, sizeof(*ls));
	if (!ls)
		goto out;
	ls->ls_gate_open = !params->cold;
	ls->ls_rebuild = params->cold && params->rebuild;
	ls->ls_default_live = params->default_live;
	ls->ls_rhash_size = LS_HASH_INIT;
	ls->ls_rhash = calloc(ls->ls_rhash_size, sizeof(*ls->ls_rhash));
	if (!ls->ls_rhash)
		goto out_free_ls;
	ls->ls_lhash_size = LS_HASH_INIT;
	ls->ls_lhash = calloc(ls->ls_lhash_size, sizeof(*ls->ls_lhash));
	if (!ls->ls_lhash)
		goto out_free_rhash;
	*lsp = ls;
	return 0;

out_free_rhash:
	free(ls->ls_rhash);
out_free_ls:
	free(ls);
out:
	return rc;
}

void ls_destroy(struct ls_state *ls)
{
	struct ls_lock *lk, *lnext;
	struct ls_res *res, *rnext;
	size_t i;

	if (!ls)
		return;
	for (i = 0; i < ls->ls_lhash_size; i++)
		for (lk = ls->ls_lhash[i]; lk; lk = lnext) {
			lnext = lk->lk_hnext;
			free(lk);
		}
	for (i = 0; i < ls->ls_rhash_size; i++)
		for (res = ls->ls_rhash[i]; res; res = rnext) {
			rnext = res->res_hnext;
			free(res);
		}
	for (i = 0; i < ls->ls_node_count; i++)
		free(ls->ls_nodes[i]);
	free(ls->ls_nodes);
	free(ls->ls_lhash);
	free(ls->ls_rhash);
	free(ls->ls_pend);
	free(ls->ls_scratch);
	free(ls);
}

/* ---- introspection ------------------------------------------------------ */

/* The lock the grant scan stopped at on res, as ls_apply leaves it: the
 * first eligible converter, else the first eligible waiter (every
 * eligible lock before it that could be granted was), or NULL. */
static const struct ls_lock *res_blocked(const struct ls_state *ls,
					 const struct ls_res *res)
{
	const struct dl *d;
	int q;

	for (q = LS_Q_CONVERT; q <= LS_Q_WAIT; q++)
		for (d = res->res_queue[q].next; d != &res->res_queue[q];
		     d = d->next)
			if (node_eligible(ls, lock_of_q(d)->lk_node))
				return lock_of_q(d);
	return NULL;
}

size_t ls_away_wanted(const struct ls_state *ls, uint32_t nodeid,
		      uint64_t *lkids, size_t max)
{
	const struct ls_node *nd = node_find(ls, nodeid);
	const struct ls_lock *lk, *b;
	const struct dl *d;
	size_t n = 0;

	if (!nd || nd->nd_member || nd->nd_fenced)
		return 0;
	for (d = nd->nd_locks.next; d != &nd->nd_locks; d = d->next) {
		lk = lock_of_n(d);
		if (lk->lk_queue != LS_Q_GRANTED)
			continue;
		b = res_blocked(ls, lk->lk_res);
		if (!b || mode_compat(lk->lk_grmode, b->lk_rqmode))
			continue;
		if (n < max && lkids)
			lkids[n] = lk->lk_id;
		n++;
	}
	return n;
}

/*
 * A verdict names the incarnation the executor fenced; unknown (an
 * operator's confirm of a node whose slot does not read: the machine is
 * off), the member record of this replica - per lockspace, since the node
 * may have joined one as a later incarnation than another.  Only with
 * neither (below protocol 3) does it become "the last fenced + 1", as
 * ever.  A known incarnation at or below the last one fenced is no news:
 * raised to the last fenced + 1 as before, it named the node's next
 * incarnation, which is exactly that when its clock was behind (the slot's
 * + 1, docs/recovery.md), and fenced a live member holding locks.
 */
uint64_t ls_verdict_incarnation(const struct ls_state *ls, uint32_t nodeid,
				uint64_t inc)
{
	const struct ls_node *nd = node_find(ls, nodeid);

	if (!nd || (nd->nd_fenced && !nd->nd_member))
		return 0;
	if (!inc)
		inc = nd->nd_inc;
	if (!inc)
		return nd->nd_fenced_inc + 1;
	if (nd->nd_has_fenced_inc && inc <= nd->nd_fenced_inc)
		return 0;
	/* Below the member record: the node restarted and rejoined since;
	 * the core would refuse it, and its delivery would end every node's
	 * wait for a fence of the node (lsround.c ready_msg) while the core
	 * never asks again (NEED_FENCE once per away episode). */
	if (inc < nd->nd_inc)
		return 0;
	return inc;
}

bool ls_grants_blocked(const struct ls_state *ls)
{
	return !ls->ls_gate_open;
}

bool ls_rebuilding(const struct ls_state *ls)
{
	return ls && ls->ls_rebuild;
}

bool ls_held(const struct ls_state *ls)
{
	return ls->ls_hold;
}

bool ls_quorate(const struct ls_state *ls)
{
	return ls->ls_quorate;
}

uint64_t ls_ring_id(const struct ls_state *ls)
{
	return ls->ls_ring_id;
}

uint64_t ls_epoch(const struct ls_state *ls)
{
	return ls->ls_epoch;
}

size_t ls_resource_count(const struct ls_state *ls)
{
	return ls->ls_res_count;
}

size_t ls_lock_count(const struct ls_state *ls)
{
	return ls->ls_lock_count;
}

int ls_node_get(const struct ls_state *ls, uint32_t nodeid,
		struct ls_node_info *info)
{
	const struct ls_node *nd = node_find(ls, nodeid);

	if (!nd)
		return -ENOENT;
	info->nodeid = nd->nd_id;
	info->member = nd->nd_member;
	info->hb_live = nd->nd_live;
	info->pill_pending = nd->nd_pill;
	info->fenced = nd->nd_fenced;
	info->eligible = node_eligible(ls, nd);
	info->fenced_incarnation = nd->nd_fenced_inc;
	info->incarnation = nd->nd_inc;
	info->proto = nd->nd_proto;
	info->lock_count = nd->nd_lock_count;
	return 0;
}

static void lock_info_fill(const struct ls_lock *lk, struct ls_lock_info *info)
{
	info->lkid = lk->lk_id;
	info->nodeid = lk->lk_node->nd_id;
	info->grmode = lk->lk_grmode;
	info->rqmode = lk->lk_rqmode;
	info->queue = (enum ls_queue)lk->lk_queue;
	info->flags = lk->lk_flags;
	info->away = !lk->lk_node->nd_member;
}

int ls_lock_get(const struct ls_state *ls, uint64_t lkid,
		struct ls_lock_info *info)
{
	const struct ls_lock *lk = lock_find(ls, lkid);

	if (!lk)
		return -ENOENT;
	lock_info_fill(lk, info);
	return 0;
}

/* All resources sorted by name, in a fresh array.  0 or -ENOMEM. */
int res_sorted(const struct ls_state *ls, struct ls_res ***arrp)
{
	struct ls_res **arr, *res;
	size_t i, n = 0;

	arr = malloc((ls->ls_res_count ? ls->ls_res_count : 1) * sizeof(*arr));
	if (!arr)
		return -ENOMEM;
	for (i = 0; i < ls->ls_rhash_size; i++)
		for (res = ls->ls_rhash[i]; res; res = res->res_hnext)
			arr[n++] = res;
	qsort(arr, n, sizeof(*arr), res_cmp);
	*arrp = arr;
	return 0;
}

int ls_foreach_resource(const struct ls_state *ls,
			int (*cb)(const struct ls_res_info *res, void *arg),
			void *arg)
{
	struct ls_res_info info;
	struct ls_res **arr;
	size_t i;
	int rc;

	rc = res_sorted(ls, &arr);
	if (rc)
		return rc;
	for (i = 0; i < ls->ls_res_count && !rc; i++) {
		info.name = arr[i]->res_name;
		info.namelen = arr[i]->res_namelen;
		info.lvb_valid = arr[i]->res_lvb_valid;
		info.lvb = arr[i]->res_lvb;
		info.epoch = arr[i]->res_epoch;
		info.granted = arr[i]->res_qcount[LS_Q_GRANTED];
		info.converting = arr[i]->res_qcount[LS_Q_CONVERT];
		info.waiting = arr[i]->res_qcount[LS_Q_WAIT];
		rc = cb(&info, arg);
	}
	free(arr);
	return rc;
}

int ls_foreach_lock(const struct ls_state *ls, const void *name,
		    size_t namelen,
		    int (*cb)(const struct ls_lock_info *lk, void *arg),
		    void *arg)
{
	const struct ls_res *res;
	struct ls_lock_info info;
	const struct dl *d;
	int q, rc = 0;

	if (!name || !namelen || namelen > SDLM_NAME_MAX)
		return -ENOENT;
	res = res_find(ls, name, namelen);
	if (!res)
		return -ENOENT;
	for (q = 0; q < 3 && !rc; q++)
		for (d = res->res_queue[q].next;
		     d != &res->res_queue[q] && !rc; d = d->next) {
			lock_info_fill(lock_of_q(d), &info);
			rc = cb(&info, arg);
		}
	return rc;
}
