/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lockspace.h - sdlmd's lockspaces: each joins its own CPG group, keeps a
 * replica of the cluster-level lock state (lockstate.c) fed only by the
 * ordered stream, and the node-level cache of this node (nodelock.c) fed
 * by local clients and by the decisions addressed to this node.
 *
 * The daemon provides the host interface below (heartbeat verdicts,
 * fencing, delivering completions to clients); lockspace.c and its parts
 * (lsint.h) own the CPG protocol: joining, state transfer, merges, the
 * fencer's announcements.
 */
#ifndef SDLM_LOCKSPACE_H
#define SDLM_LOCKSPACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include <qb/qbloop.h>

#include "render.h"
#include "hist.h"

struct ho_requester;
struct sdlm_hb;
struct sdlm_timeouts;

struct ls_host {
	uint32_t nodeid;
	uint64_t incarnation;
	uint32_t expected_nodes;	/* votes for quorum: 2*ring > expected */
	uint32_t grace_ms;		/* an away holder is fenced after this */
	/* corosync's time to notice a loss, re-form and merge: 2 x (token +
	 * consensus).  A lockspace not quorate for longer is on a minority
	 * side, not in a passing view; a CPG join refused for longer fails. */
	uint32_t settle_ms;
	qb_loop_t *loop;
	void *ctx;
	/* 0 when this node may use locks now, else why not (SDLM_E*). */
	int (*may_use)(void *ctx);
	/* Heartbeat view of another node: live (counter moving), pill. */
	bool (*hb_live)(void *ctx, uint32_t node);
	bool (*pill_pending)(void *ctx, uint32_t node);
	/* A slot in use on the disk of a node outside the ring blocks a
	 * cold start until it is fenced: true when the node left cleanly
	 * (slot free or exiting), has no slot, or was fenced - never for
	 * dead alone (fencesm.h, peer_cold_ok). */
	bool (*cold_ok)(void *ctx, uint32_t node);
	/* Ask the fence executor; 0 / -EALREADY (done) / other. */
	int (*fence)(void *ctx, uint32_t node);
	void (*fence_cancel)(void *ctx, uint32_t node);
	/* Deliver to a local client. */
	void (*ast)(void *ctx, uint32_t client, uint64_t lkid, uint64_t ref,
		    int err, int mode, const uint8_t *lvb, bool lvb_valid,
		    uint64_t epoch);
	void (*bast)(void *ctx, uint32_t client, uint64_t lkid, uint64_t ref,
		     int mode);
	/* Kill (and reap) these local clients: they held revoked locks. */
	void (*kill_clients)(void *ctx, const uint32_t *clients, size_t n);
	/* True while a client killed that way is not reaped yet (NULL:
	 * never). */
	bool (*clients_stopping)(void *ctx);
	/* The list of clients to kill could not be made (out of memory):
	 * some lock users cannot be named, so none may be counted as
	 * stopped (NULL: ignored). */
	void (*kill_lost)(void *ctx);
	/* Two-node clusters: true when this node won the disk arbitration
	 * and may act as quorate alone (NULL: never). */
	bool (*alone_quorate)(void *ctx);
	/* The cluster's replica records this incarnation as fenced: stop
	 * every lock use for good, as after a pill (NULL: nothing). */
	void (*fenced_self)(void *ctx);
	/* True when node's current incarnation (its heartbeat slot) was
	 * fenced by our fence executor (NULL: never). */
	bool (*inc_fenced)(void *ctx, uint32_t node);
	/* True once this daemon fenced itself (pill, lease, refusal): it
	 * never takes a replica again (NULL: never). */
	bool (*is_fenced)(void *ctx);
	/* node's incarnation as its heartbeat slot shows it (0: unknown). */
	uint64_t (*node_inc)(void *ctx, uint32_t node);
	/*
	 * The hand-off through the disk (docs/design-handoff.md; any NULL:
	 * off, an away holder is fenced after the grace as before).  The
	 * daemon's one request area (fence/handoff.h); node's heartbeat
	 * record as our last read decoded it (NULL: none, unreadable or
	 * free); whether our fence executor is fencing node now; the
	 * derived timeouts (the bound B).
	 */
	struct ho_requester *(*ho_requester)(void *ctx);
	const struct sdlm_hb *(*ho_record)(void *ctx, uint32_t node);
	bool (*fencing)(void *ctx, uint32_t node);
	/* Run the daemon's tick before its time (NULL: never): a node
	 * away holds a wanted lock, and the request goes out now. */
	void (*tick_soon)(void *ctx);
	const struct sdlm_timeouts *to;
};

/* 0, or -EINVAL for a host without a node id. */
int lsm_init(const struct ls_host *host);
void lsm_fini(void);

/*
 * Client calls.  lkids returned to clients are global (they name the
 * lockspace).  Each returns 0 or an error; completions come through
 * host->ast.  lsm_lock sets *lkid before any completion of the request is
 * delivered (a grant may come within the call): the caller can tell its
 * grant from a stale one by the lkid (uidsvc.c relies on it).
 */
int lsm_lock(uint32_t client, uint64_t ref, const char *ls, size_t ls_len,
	     const void *res, size_t res_len, int mode, uint32_t flags,
	     uint64_t *lkid);
int lsm_convert(uint32_t client, uint64_t lkid, int mode, uint32_t flags,
		const uint8_t *lvb);
int lsm_unlock(uint32_t client, uint64_t lkid, uint32_t flags,
	       const uint8_t *lvb);
int lsm_cancel(uint32_t client, uint64_t lkid);
void lsm_client_gone(uint32_t client);
/* The client that owns lkid: 0 and *client, or -ENOENT. */
int lsm_lock_owner(uint64_t lkid, uint32_t *client);

/* Every interval: fencer duties, retries. */
void lsm_tick(uint64_t now_ms);
/* A heartbeat read completed: the hand-off answers it brought, now. */
void lsm_ho_read(uint64_t now_ms);
/* The fence executor finished with node. */
void lsm_fenced(uint32_t node, uint64_t incarnation);
/* Stop every lock use now (pill, lease): revoke and kill clients. */
void lsm_stop_all(int reason);
/* This node was fenced (a pill, or the cluster records this incarnation
 * as fenced): drop every replica and leave every lockspace's group, so
 * that the others neither count it ready nor take state or fencer duties
 * from it; nothing joins again until a restart. */
void lsm_self_fenced(void);
/* The daemon's quorum verdict changed outside corosync (two-node
 * arbitration won): re-evaluate every lockspace's view. */
void lsm_requorum(void);

void lsm_render_ls(struct sbuf *b, bool json);
void lsm_render_locks(struct sbuf *b, const char *ls, bool json);
size_t lsm_count(void);

/* Counters since start, for `sdlmctl stats`. */
struct lsm_stats {
	uint64_t local_grants;		/* client grants (cached ones included) */
	uint64_t cluster_requests;	/* acquisitions that needed the cluster */
	uint64_t cluster_grants;	/* grants to this node by the cluster */
	uint64_t blocking;		/* another node asked for our lock */
	uint64_t local_basts;
	uint64_t msgs_sent, msgs_delivered;
	uint64_t divergences;		/* rounds that found replicas differ */
	struct hist grant_latency;	/* client request in to its grant */
	size_t lockspaces;
};
void lsm_get_stats(struct lsm_stats *st);

/* The cluster's size changed (a node added to corosync's nodelist). */
void lsm_set_expected(uint32_t n);
/* Clean stop, step 1: kill every local lock user, refuse new lock use
 * (SDLM_EDAEMON), keep the value blocks of our cache.  Step 2, only once
 * every killed user is gone (killed and reaped): release every cluster
 * lock of this node through the ordered stream.  lsm_own_locks() reaches
 * 0 once every release was applied. */
void lsm_stop_users(void);
void lsm_release_own(void);
size_t lsm_own_locks(void);

/*
 * The away node's side of the hand-off (docs/design-handoff.md V1-V6),
 * over every lockspace's cache (a cluster lock id names one lockspace's
 * lock, nodelock.h): lsm_ho_held - lkid is a HELD cluster lock of ours;
 * lsm_ho_clients - its local holders' clients (returns how many);
 * lsm_ho_locks - the same with their lock ids, as lsm_lock gave them;
 * lsm_ho_stop (V1: BAST to the holders, no new local grant), _keep (V4),
 * _gone (V3: it leaves the cache, waiters fail) - 0 or -ENOENT;
 * lsm_ho_state (V2) - 0 and its holders left and value block, or
 * -ENOENT; lsm_ho_member - every lockspace we are in has a ready,
 * quorate replica again (V5: the rejoin).
 */
bool lsm_ho_held(uint64_t lkid);
/* No lockspace's cache knows lkid, or only as released (V1's "gone");
 * false with no lockspace open.  Both lsm_ho_held and this are false for
 * a new request while a lockspace's replica may still show a predecessor's
 * lock (nodelock.h struct nl_lkids, review s28-rev19 M1). */
bool lsm_ho_unknown(uint64_t lkid);
/* lsm_ho_unknown without M1's gate, for a grant already stopping (V2 of a
 * grant the caches forgot since it was asked for: hoedge progress()). */
bool lsm_ho_forgotten(uint64_t lkid);
size_t lsm_ho_clients(uint64_t lkid, uint32_t *clients, size_t max);
size_t lsm_ho_locks(uint64_t lkid, uint32_t *clients, uint64_t *lkids, size_t max);
int lsm_ho_stop(uint64_t lkid);
int lsm_ho_keep(uint64_t lkid);
int lsm_ho_gone(uint64_t lkid);
int lsm_ho_state(uint64_t lkid, uint32_t *holders, uint8_t *lvb, bool *lvb_valid);
bool lsm_ho_member(void);

#endif
