/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lockstate_int.h - the private side of the replicated lock state
 * (lockstate.h is the public one): its structures and the functions its
 * two files share.
 *
 *	lockstate.c	the state machine: events, granting, life cycle,
 *			introspection
 *	lssnap.c	the snapshot (encode, decode and its checks) and the
 *			digest
 */
#ifndef SDLM_LOCKSTATE_INT_H
#define SDLM_LOCKSTATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "list.h"
#include "lockstate.h"

struct ls_node {
	uint32_t	nd_id;
	bool		nd_member;
	bool		nd_live;
	bool		nd_pill;
	bool		nd_fenced;
	bool		nd_has_fenced_inc;
	bool		nd_need_fence_sent;	/* once per away episode */
	uint64_t	nd_fenced_inc;
	uint64_t	nd_inc;		/* member record (ROUND), 0 = none */
	uint16_t	nd_proto;	/* its JOIN's proto_max, 0 = none */
	size_t		nd_lock_count;
	struct dl	nd_locks;		/* creation (lk_seq) order */
};

struct ls_res;

struct ls_lock {
	uint64_t	lk_id;
	uint64_t	lk_seq;		/* creation order, for node lists */
	uint32_t	lk_flags;
	int8_t		lk_grmode;
	int8_t		lk_rqmode;
	int8_t		lk_bast_mode;	/* BLOCKING sent this episode, or NONE */
	uint8_t		lk_queue;
	struct ls_res	*lk_res;
	struct ls_node	*lk_node;
	struct dl	lk_qlink;
	struct dl	lk_nlink;
	struct ls_lock	*lk_hnext;
};

#define lock_of_q(d)	container_of(d, struct ls_lock, lk_qlink)
#define lock_of_n(d)	container_of(d, struct ls_lock, lk_nlink)

struct ls_res {
	uint64_t	res_hash;
	struct ls_res	*res_hnext;
	size_t		res_pend_idx;	/* in ls_pend, or SIZE_MAX */
	size_t		res_nlocks;
	size_t		res_qcount[3];
	uint32_t	res_grcount[MODE_COUNT];
	struct dl	res_queue[3];
	uint8_t		res_namelen;
	bool		res_lvb_valid;
	uint64_t	res_epoch;	/* epoch of the last write tenure */
	uint8_t		res_name[SDLM_NAME_MAX];
	uint8_t		res_lvb[LS_LVB_LEN];	/* zero while invalid */
};

struct ls_state {
	bool		ls_gate_open;
	bool		ls_hold;	/* LS_EV_HOLD: nothing granted */
	bool		ls_rebuild;	/* takes HELD reports (gate never open) */
	bool		ls_quorate;
	bool		ls_default_live;
	uint64_t	ls_ring_id;
	uint64_t	ls_lock_seq;	/* next lk_seq */
	uint64_t	ls_epoch;	/* last epoch handed out (o_epoch) */

	struct ls_node	**ls_nodes;	/* sorted by nd_id */
	size_t		ls_node_count;
	size_t		ls_node_cap;

	struct ls_res	**ls_rhash;
	size_t		ls_rhash_size;	/* power of two */
	size_t		ls_res_count;

	struct ls_lock	**ls_lhash;
	size_t		ls_lhash_size;
	size_t		ls_lock_count;

	/*
	 * Resources with a non-empty convert or wait queue, unordered.
	 * ls_scratch has the same capacity (>= ls_res_count, grown when a
	 * resource is created, before anything changes) so that a global
	 * retry can copy and sort them without allocating mid-event.
	 */
	struct ls_res	**ls_pend;
	struct ls_res	**ls_scratch;
	size_t		ls_pend_count;
	size_t		ls_pend_cap;
};

/* lockstate.c */
struct ls_node *node_find(const struct ls_state *ls, uint32_t id);
struct ls_node *node_alloc(const struct ls_state *ls, uint32_t id);
int res_create(struct ls_state *ls, const void *name, size_t len,
	       struct ls_res **resp);
void res_update_pending(struct ls_state *ls, struct ls_res *res);
void res_put(struct ls_state *ls, struct ls_res *res);
struct ls_lock *lock_find(const struct ls_state *ls, uint64_t lkid);
void lock_link(struct ls_state *ls, struct ls_lock *lk);
int res_cmp(const void *a, const void *b);
int res_sorted(const struct ls_state *ls, struct ls_res ***arrp);

#endif
