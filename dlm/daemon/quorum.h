/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * quorum.h - sdlmd's view of corosync's quorum and membership (libquorum)
 * and of its own node id (cmap).  This feeds only what the fence side
 * needs (is this node quorate, which peers are members); the lock
 * manager's replicated state gets its membership from CPG, in order.
 */
#ifndef SDLM_QUORUM_H
#define SDLM_QUORUM_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <qb/qbloop.h>

typedef void (*quorum_change_fn)(void *ctx, bool quorate, uint64_t ring_seq,
				 uint32_t n, const uint32_t *members);

/*
 * Connect to corosync, read our node id (cmap runtime.votequorum.this_node_id)
 * and the cluster name (totem.cluster_name, may be NULL), start tracking.
 * Returns 0 or a negative errno; *why names the failing call.
 */
int quorum_setup(qb_loop_t *loop, quorum_change_fn fn, void *ctx,
		 uint32_t *node_id, char *cluster, size_t cluster_len,
		 const char **why);
void quorum_close(void);

/*
 * From cmap: the number of nodes in corosync's nodelist (votes for
 * quorum) and the totem token and consensus timeouts in ms (the grace
 * an away node gets derives from them).  0 where unknown.
 */
void quorum_cluster_facts(uint32_t *nodes, uint32_t *token_ms, uint32_t *consensus_ms);

/* The node ids of corosync's nodelist, ascending; returns how many (<= max). */
size_t quorum_nodelist(uint32_t *ids, size_t max);

/* A node of corosync's nodelist and the address its link 0 uses
 * (nodelist.node.X.ring0_addr: a numeric address or a host name). */
struct quorum_node {
	uint32_t	qn_id;
	char		qn_addr[256];	/* "" when the entry has none */
};

/* corosync's nodelist with the addresses, ascending by id; returns how
 * many (<= max), or a negative errno when cmap cannot be read. */
int quorum_nodelist_addrs(struct quorum_node *nodes, size_t max);

/*
 * Is corosync still answering?  A thread with its own connection to
 * corosync's votequorum service (the quorum service when votequorum is
 * not loaded) asks every interval_ms for this node's (node_id) entry and
 * stamps, on CLOCK_BOOTTIME (clock_boottime_ms, clock.h), when it asked the last
 * question that was answered (CS_OK only); it reconnects after an error.
 * The event loop does not wait on this: it reads the stamp
 * (quorum_probe_asked).  A hung corosync answers nothing, so the stamp
 * ages (issue 13, hole 6).  0 or a negative errno (no thread).
 */
int quorum_probe_start(uint32_t interval_ms, uint32_t node_id);

/* When the last answered question was asked (ms on CLOCK_BOOTTIME), 0
 * before the first answer. */
uint64_t quorum_probe_asked(void);

/* Since the last call: the longest wait for an answer (ms), questions that
 * got an error instead, failed connections; and whether the probe asks the
 * quorum service (votequorum not loaded). */
void quorum_probe_stats(uint64_t *slowest_ms, uint32_t *refused, uint32_t *reconnects,
			bool *via_quorum);

#endif
