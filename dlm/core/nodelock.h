/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nodelock.h - the node-level lock cache of one lockspace on one node.
 *
 * Two levels of holding (docs/nodelock.md):
 *
 *	cluster level  which NODE holds a resource in which mode; replicated
 *	               (lockstate.[ch]); one cluster lock per resource per
 *	               node, owned by this module
 *	node level     which local CLIENT of this node holds it; local only;
 *	               this module
 *
 * The node keeps a cluster lock CACHED after its clients are done with it
 * and gives it up only when another node asks (a BLOCKING from the cluster)
 * or under memory pressure (nl_drop_cached).  While the cached mode covers
 * what a client asks for, nl_lock / nl_unlock decide locally and emit no
 * cluster action at all: that is the whole point.
 *
 * Pure: no I/O, no clock, no printing, no randomness; the daemon feeds
 * client calls and cluster decisions (in CPG order) and carries out the
 * actions returned in a struct nl_out, in list order.
 *
 * Errors: every function returns 0 or a negative errno / sdlm domain error
 * (dlm/lib/sdlm.h).  A rejected call changes nothing and emits nothing.  If a
 * call was applied but out could not hold every action, out->lost is set
 * and -ENOMEM is returned: the state is right but the daemon missed
 * actions and must stop the lockspace (nl_stop_all) and leave it.
 */
#ifndef SDLM_NODELOCK_H
#define SDLM_NODELOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lockstate.h"	/* SDLM_NAME_MAX, LS_LVB_LEN, LS_LKF_* (header only) */
#include "modes.h"

/* Cluster side of a resource, as this node sees it. */
enum nl_cl_state {
	NL_CL_NONE		= 0,	/* no cluster lock */
	NL_CL_REQUESTING	= 1,	/* CLUSTER_REQUEST sent, no answer yet */
	NL_CL_HELD		= 2,	/* granted: cl_mode */
	NL_CL_CONVERTING	= 3,	/* holds cl_mode, CONVERT to cl_rqmode sent */
	NL_CL_RELEASING		= 4,	/* CLUSTER_RELEASE sent */
};

enum nl_queue {
	NL_Q_GRANTED	= 0,
	NL_Q_CONVERT	= 1,
	NL_Q_WAIT	= 2,
};

enum nl_out_kind {
	NL_OUT_LOCAL_GRANT	= 1,	/* client local_lkid client_ref mode lvb epoch */
	NL_OUT_LOCAL_FAIL	= 2,	/* client local_lkid client_ref err; mode =
					 * what the lock still holds (NONE: gone) */
	NL_OUT_LOCAL_BAST	= 3,	/* client local_lkid client_ref mode wanted */
	NL_OUT_CLUSTER_REQUEST	= 4,	/* name lkid mode flags */
	NL_OUT_CLUSTER_CONVERT	= 5,	/* name lkid mode flags [lvb] */
	NL_OUT_CLUSTER_RELEASE	= 6,	/* name lkid flags [lvb] */
	NL_OUT_CLUSTER_CANCEL	= 7,	/* name lkid */
};

/* One action.  Self-contained: name and LVB are copies. */
struct nl_out_item {
	enum nl_out_kind o_kind;
	int		o_err;
	uint32_t	o_client;
	uint64_t	o_local_lkid;
	uint64_t	o_client_ref;
	uint64_t	o_lkid;		/* CLUSTER_*: the cluster lock id */
	/* CLUSTER_REQUEST: held (nl_hold_requests): not to be sent; the
	 * caller may refuse it (nl_unsent_failed), else nl_send_held
	 * emits it again, not held. */
	bool		o_held;
	int		o_mode;
	uint32_t	o_flags;	/* CLUSTER_*: LS_LKF_* */
	/* LOCAL_GRANT: o_lvb is the resource's value.  CLUSTER_CONVERT /
	 * CLUSTER_RELEASE: o_lvb is to be sent (else send none; the flag
	 * LS_LKF_IVVALBLK in o_flags asks the cluster to invalidate it). */
	bool		o_lvb_valid;
	uint8_t		o_namelen;
	uint8_t		o_name[SDLM_NAME_MAX];
	uint8_t		o_lvb[LS_LVB_LEN];
	/* LOCAL_GRANT: the epoch of the cluster lock's last GRANTED (the
	 * fencing token of lockstate.h's o_epoch; 0 before any). */
	uint64_t	o_epoch;
	/* LOCAL_GRANT: the caller's clock (nl_set_now) when the request or
	 * conversion was made; 0 when the caller gave none. */
	uint64_t	o_req_ns;
};

struct nl_out {
	struct nl_out_item *items;
	size_t		count;
	size_t		cap;
	bool		lost;	/* some action could not be stored */
};

void nl_out_init(struct nl_out *out);
void nl_out_reset(struct nl_out *out);	/* count = 0, keeps the buffer */
void nl_out_free(struct nl_out *out);

/* Local request flags: the client's SDLM_LKF_* (sdlm.h). */
#define NL_LKF_ALL	0x0007u
_Static_assert(!(NL_LKF_ALL & LS_LKF_ALL),
	       "a client's flags and the cluster's have ranges of their own");

struct nl_state;

/*
 * The cluster lock ids of one daemon incarnation: ONE source, shared by
 * the caches of every lockspace the daemon is in (the lockspace manager
 * owns it; the caller keeps it alive while any cache uses it).  A cluster
 * lock id is nodeid << 32 | n, n = 1, 2, ... 2^32 - 1 in the order the
 * caches ask the cluster for locks, so an id is never handed out twice
 * in one incarnation, whatever lockspace asked and whether the lockspace
 * was left and joined again: (incarnation, lkid) names one grant of the
 * daemon (docs/design-handoff.md, finding H2; the hand-off's request,
 * answer and HANDOFF_RELEASE name no lockspace).
 *
 * Exhausted (after 2^32 - 1 cluster requests of the incarnation, every
 * lockspace together): a new cluster request fails its local waiters
 * with -EOVERFLOW in every lockspace; locks already held and cached keep
 * working.  Only a restart of the daemon (a new incarnation) gives new
 * ids.  The fields are the module's; tests may set next to reach the end.
 *
 * Because the ids are the daemon's and start again at 1, an id alone does
 * not tell our lock in one lockspace from a predecessor's lock with the
 * same number in another, which that lockspace's replica shows under our
 * member incarnation from our JOIN until its stale release is applied
 * (review s28-rev19 M1).  unsure counts the caches whose lockspace's
 * replica may still show such a lock (nl_predecessor_gone); while it is
 * not 0 the hand-off names no lock of ours (nl_handoff_held).
 */
struct nl_lkids {
	uint32_t	nodeid;
	uint64_t	next;	/* the next n; above 2^32 - 1: exhausted */
	uint32_t	unsure;	/* caches not told nl_predecessor_gone,
				   destroyed ones included */
};

/* nodeid: this node (non-zero).  0 or -EINVAL. */
int nl_lkids_init(struct nl_lkids *ids, uint32_t nodeid);

/* ids: the daemon's one source (nl_lkids_init), which gives the node id.
 * A new cache is unsure (ids->unsure + 1): its lockspace's replica may
 * show a predecessor's locks.  0, -EINVAL or -ENOMEM. */
int nl_create(struct nl_lkids *ids, struct nl_state **nlp);
/* A cache destroyed while unsure stays counted: its lockspace's replica
 * may still show a predecessor's lock under our member incarnation. */
void nl_destroy(struct nl_state *nl);

/*
 * nl_predecessor_gone: the daemon knows that this cache's lockspace shows
 * no predecessor's lock under our member incarnation (a quorate replica
 * showed no lock of our node the cache does not know, or we never sent
 * a JOIN in it): ids->unsure - 1, once.  nl_predecessor_unsure: not yet.
 */
void nl_predecessor_gone(struct nl_state *nl);
bool nl_predecessor_unsure(const struct nl_state *nl);

/* The weakest mode that blocks everything a or b blocks (DLM lattice:
 * NL < CR < CW, PR < PW < EX, sup(CW, PR) = PW).  MODE_NONE is the
 * bottom: sup(NONE, m) = m.  MODE_NONE if an argument is invalid. */
int nl_mode_sup(int a, int b);

/* --- client calls ---------------------------------------------------- */

/*
 * A new local lock.  may_use is the daemon's verdict on whether this node
 * may use locks now (0, or e.g. SDLM_ELEASE / SDLM_EPILL / SDLM_ENOTSAFE):
 * a non-zero verdict is returned and nothing happens.  On 0, *local_lkid
 * is set and out holds LOCAL_GRANT if it was granted at once, else the
 * lock waits (maybe with a CLUSTER_* action).
 * Errors: -EINVAL, may_use, SDLM_EBUSY (NOQUEUE and not grantable without
 * waiting behind others), -ENOMEM.
 */
/* The caller's clock for the requests that follow (nodelock reads no
 * clock): stamped on the lock, returned in its LOCAL_GRANT's o_req_ns. */
void nl_set_now(struct nl_state *nl, uint64_t now_ns);

int nl_lock(struct nl_state *nl, uint32_t client, uint64_t client_ref,
	    const void *name, size_t namelen, int mode, uint32_t flags,
	    int may_use, uint64_t *local_lkid, struct nl_out *out);

/*
 * Convert a granted lock of client.  A down-convert (mode_covers) is
 * granted at once (LOCAL_GRANT) whatever may_use says; an up-convert is
 * refused with may_use if non-zero.  VALBLK + lvb from a PW/EX holder
 * writes the LVB, IVVALBLK invalidates it, when the conversion is
 * accepted.  Errors: -EINVAL, -ENOENT (no such lock of client), -EBUSY
 * (not granted, or already converting), may_use, -EDEADLK (its granted
 * mode blocks a local conversion queued earlier), SDLM_EBUSY (NOQUEUE).
 */
int nl_convert(struct nl_state *nl, uint32_t client, uint64_t local_lkid,
	       int mode, uint32_t flags, const uint8_t *lvb, int may_use,
	       struct nl_out *out);

/* Release a granted lock of client (LVB as for nl_convert).  No action
 * for the caller itself.  -EINVAL, -ENOENT, -EBUSY (waiting or converting:
 * cancel first). */
int nl_unlock(struct nl_state *nl, uint32_t client, uint64_t local_lkid,
	      uint32_t flags, const uint8_t *lvb, struct nl_out *out);

/* Withdraw a waiting request (freed) or a conversion (back to its granted
 * mode): LOCAL_FAIL with SDLM_ECANCELED.  -ENOENT, -EALREADY (granted:
 * the grant won the race; unlock it). */
int nl_cancel(struct nl_state *nl, uint32_t client, uint64_t local_lkid,
	      struct nl_out *out);

/* The client that owns local_lkid (held, converting or waiting):
 * 0 and *client, or -ENOENT. */
int nl_lock_owner(const struct nl_state *nl, uint64_t local_lkid, uint32_t *client);

/* The client's connection is gone: its requests are withdrawn and its
 * locks released, with no action addressed to it. */
int nl_client_gone(struct nl_state *nl, uint32_t client, struct nl_out *out);

/*
 * Revoke everything (poison pill, lost lease: the node is being fenced).
 * All local state is forgotten (cluster side included) and nothing is
 * emitted: the cluster takes the node's locks when it is fenced.
 * *clients receives the ids of every client that held or waited for a
 * lock, ascending, unique (malloc'ed; free it; NULL when *count is 0):
 * the daemon kills them.  -ENOMEM: the state is forgotten anyway but the
 * list could not be made (*clients NULL): kill every lock user.
 */
int nl_stop_all(struct nl_state *nl, uint32_t **clients, size_t *count);

/* Release up to max idle cached cluster locks, least recently used first
 * (CLUSTER_RELEASE each); *released (may be NULL) gets how many. */
int nl_drop_cached(struct nl_state *nl, size_t max, size_t *released,
		   struct nl_out *out);

/* --- cluster decisions addressed to this node, in CPG order ---------- */
/*
 * Each names the resource and the cluster lock id.  An answer for a lock
 * id that is not the resource's current one is stale: -ENOENT, ignored.
 * One in the wrong state (e.g. GRANTED while HELD): -EINVAL, ignored.
 */

/* GRANTED (a request, an up- or a down-conversion); epoch is the
 * decision's o_epoch, handed to every local grant until the next GRANTED. */
int nl_cluster_granted(struct nl_state *nl, const void *name, size_t namelen,
		       uint64_t lkid, int mode, const uint8_t *lvb,
		       bool lvb_valid, uint64_t epoch, struct nl_out *out);

/* NOQUEUE_FAILED (SDLM_EBUSY), CANCELLED (SDLM_ECANCELED, SDLM_ENOQUORUM,
 * SDLM_EFENCED ...), DEADLOCK (-EDEADLK) of a request or conversion.
 * SDLM_EFENCED: the node lost the lock, every local lock on it fails. */
int nl_cluster_failed(struct nl_state *nl, const void *name, size_t namelen,
		      uint64_t lkid, int err, struct nl_out *out);

/* BLOCKING: another node wants mode_wanted. */
int nl_cluster_blocking(struct nl_state *nl, const void *name,
			size_t namelen, uint64_t lkid, int mode_wanted,
			struct nl_out *out);

/* RELEASED: err 0 (our CLUSTER_RELEASE done) or SDLM_EFENCED (taken from
 * this fenced node: every local lock on it fails with SDLM_EFENCED). */
int nl_cluster_released(struct nl_state *nl, const void *name,
			size_t namelen, uint64_t lkid, int err,
			struct nl_out *out);

/* --- held requests (docs/nodelock.md "Held requests") ---------------- */
/*
 * A lock id restarts at 1 with each incarnation, and the replica keeps a
 * predecessor's locks until they are released: a request sent before the
 * daemon knows which of its ids the replica holds may carry one of them
 * (review s27-increv H2, H4).  The daemon holds its requests until it
 * has the replica and sent the releases of its predecessor's locks.
 *
 * nl_hold_requests: from now on a new cluster request is not emitted.
 *	The resource is REQUESTING with its lock id, unsent (res_info's
 *	unsent), and the CLUSTER_REQUEST is emitted with o_held (the
 *	caller's refusal still applies to it); no cluster decision names it (nl_cluster_* answer -ENOENT:
 *	a decision with its lock id is about a predecessor's lock).  A held
 *	request nobody needs any more is withdrawn here, with no CANCEL.
 * nl_holding: whether requests are held.
 * nl_send_held: not held any more; one CLUSTER_REQUEST for each held
 *	request, in lock id order.  0, -EINVAL, -ENOMEM (out->lost).
 * nl_unsent_failed: the held request lkid fails (the daemon refuses it,
 *	e.g. SDLM_ENOQUORUM: cut off); its local waiters fail with err, as
 *	nl_cluster_failed.  0, -EINVAL, -ENOENT (no such held request).
 */
void nl_hold_requests(struct nl_state *nl);
bool nl_holding(const struct nl_state *nl);
int nl_send_held(struct nl_state *nl, struct nl_out *out);
int nl_unsent_failed(struct nl_state *nl, const void *name, size_t namelen,
		     uint64_t lkid, int err, struct nl_out *out);

/* --- the hand-off through the disk (docs/design-handoff.md) ---------- */
/*
 * This node, away (cut off the cluster network, its disk kept), is asked
 * through the disk for its cluster lock lkid (fence/handoff.h names the
 * rules V1-V6).  The caches are per lockspace; lkid is unique across
 * them (struct nl_lkids), so the daemon asks each.
 *
 * nl_handoff_held: lkid is this cache's cluster lock, HELD (stopping
 *	included) or down-converting (a conversion lost in the cut waits
 *	for good on a minority side): what V1 calls "a grant V holds".
 *	While any cache of the daemon is unsure (struct nl_lkids) only a
 *	stopping one is: a new request may be for a predecessor's lock
 *	with that id in another lockspace (review s28-rev19 M1); ignored,
 *	the requester fences after B.
 * nl_handoff_unknown: lkid is an id this incarnation gave out (below
 *	the counter) and no cluster lock of this cache, or one being
 *	released (its release sent): never used here again (V1's "gone",
 *	struct ho_seen).  An id not given out yet is not: the replica may
 *	show a predecessor's lock under it, and it names a later request.
 *	Nor any id while a cache of the daemon is unsure (M1).
 * nl_handoff_forgotten: nl_handoff_unknown without M1's gate - V2's
 *	question for a grant already stopping (asked for while every cache
 *	was sure) that the cache forgot since (review s28-revgate G2): the
 *	gate is for new requests only.
 * nl_handoff_stop (V1): one LOCAL_BAST (wanted EX) to every local holder
 *	not yet told; from now on no local request on the resource is
 *	granted (V6) and the cache takes no cluster action for it (no
 *	release, no convert, not cached idle).  0, -ENOENT (not ours),
 *	-EBUSY (not held: requesting, up-converting or releasing).
 * nl_handoff_state (V2): the local holders left (granted + converting)
 *	and the resource's value block now.  0 or -ENOENT (not stopping).
 * nl_handoff_keep (V4): not stopping any more: local waiters are
 *	granted again.  0 or -ENOENT.
 * nl_handoff_gone (V3): listed in the answer - the cluster lock leaves
 *	the cache for good; every local lock on it fails with err (there
 *	are no holders left by then, V2: waiters).  0 or -ENOENT.
 */
bool nl_handoff_held(const struct nl_state *nl, uint64_t lkid);
bool nl_handoff_unknown(const struct nl_state *nl, uint64_t lkid);
bool nl_handoff_forgotten(const struct nl_state *nl, uint64_t lkid);
int nl_handoff_stop(struct nl_state *nl, uint64_t lkid, struct nl_out *out);
int nl_handoff_state(const struct nl_state *nl, uint64_t lkid,
		     uint32_t *holders, uint8_t *lvb, bool *lvb_valid);
/* The clients of the local holders (granted + converting), up to max into
 * clients (a client twice if it holds twice); returns how many there are
 * (0: none, or not ours).  K: the ones to kill. */
size_t nl_handoff_clients(const struct nl_state *nl, uint64_t lkid,
			  uint32_t *clients, size_t max);
/* The same, with each holder's local lock id (the one nl_lock gave its
 * client) into lkids: a client holding several locks of the daemon
 * (the UID service) learns which of them K is about. */
size_t nl_handoff_locks(const struct nl_state *nl, uint64_t lkid,
			uint32_t *clients, uint64_t *lkids, size_t max);
int nl_handoff_keep(struct nl_state *nl, uint64_t lkid, struct nl_out *out);
int nl_handoff_gone(struct nl_state *nl, uint64_t lkid, int err,
		    struct nl_out *out);

/* --- introspection (sdlmctl locks) ----------------------------------- */

size_t nl_resource_count(const struct nl_state *nl);
size_t nl_lock_count(const struct nl_state *nl);

struct nl_res_info {
	const uint8_t	*name;
	size_t		namelen;
	enum nl_cl_state cl_state;
	uint64_t	cl_lkid;	/* 0 in NL_CL_NONE */
	int		cl_mode;	/* held (HELD, CONVERTING, RELEASING) */
	int		cl_rqmode;	/* asked (REQUESTING, CONVERTING) */
	int		wanted;		/* mode another node waits for, or NONE */
	bool		cancel_sent;	/* a CANCEL of cl_lkid's request is out */
	bool		unsent;		/* REQUESTING, held: not sent yet */
	bool		idle;		/* cached: held, no local lock */
	bool		lvb_valid;
	const uint8_t	*lvb;
	uint64_t	epoch;		/* of the last cluster GRANTED */
	size_t		granted, converting, waiting;
};

struct nl_lock_info {
	uint64_t	local_lkid;
	uint32_t	client;
	uint64_t	client_ref;
	int		grmode;		/* MODE_NONE while waiting */
	int		rqmode;		/* == grmode when granted */
	enum nl_queue	queue;
	uint32_t	flags;
	const uint8_t	*name;
	size_t		namelen;
};

/* 0 or -ENOENT. */
int nl_res_get(const struct nl_state *nl, const void *name, size_t namelen,
	       struct nl_res_info *info);
/* The resource whose cluster lock is lkid (not NL_CL_NONE), by the id
 * index the hand-off's look-ups use.  0, -ENOENT or -EINVAL. */
int nl_res_get_lkid(const struct nl_state *nl, uint64_t lkid,
		    struct nl_res_info *info);
int nl_lock_get(const struct nl_state *nl, uint64_t local_lkid,
		struct nl_lock_info *info);

/* Every resource in name order (memcmp, then shorter first).  The callback
 * returns 0 to go on, anything else stops the walk and is returned.  The
 * state must not change during the walk.  -ENOMEM possible. */
int nl_foreach_resource(const struct nl_state *nl,
			int (*cb)(const struct nl_res_info *res, void *arg),
			void *arg);

/* The local locks of one resource: granted, converting, waiting, each in
 * queue order.  0, the callback's value, or -ENOENT. */
int nl_foreach_lock(const struct nl_state *nl, const void *name,
		    size_t namelen,
		    int (*cb)(const struct nl_lock_info *lk, void *arg),
		    void *arg);

#endif /* SDLM_NODELOCK_H */
