/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * twonode.h - two-node arbitration (twonode.c): with two nodes neither
 * half of a split is a majority, so the disk decides which one survives.
 */
#ifndef SDLM_TWONODE_H
#define SDLM_TWONODE_H

#include <stdbool.h>
#include <stdint.h>

struct hb_engine;
struct fencer;
struct sdlm_timeouts;

struct twonode {
	bool on;			/* a two-node cluster */
	uint32_t self, peer;
	uint64_t alone_since;		/* 0 while the peer is a member */
	bool won;			/* the peer is fenced or stopped */
};

/* This node and its only peer form a two-node cluster. */
void twonode_init(struct twonode *t, uint32_t self, uint32_t peer);
/* Quorate: corosync says so, or alone after winning the arbitration. */
bool twonode_quorate(const struct twonode *t, bool quorate, uint32_t n_members);
/* Won the arbitration: this node may act as quorate alone. */
bool twonode_won(const struct twonode *t);
/* Corosync's membership changed to n_members nodes. */
void twonode_membership(struct twonode *t, uint32_t n_members, uint64_t now_ms);
/* The fence executor finished with victim.  True when this node now
 * continues alone (the caller makes it quorate). */
bool twonode_fenced(struct twonode *t, uint32_t victim, bool quorate,
		    uint32_t n_members);
/* Every interval: fence the peer when it is this node's turn.  True when
 * this node now continues alone (the caller makes it quorate). */
bool twonode_tick(struct twonode *t, struct hb_engine *hb, struct fencer *f,
		  const struct sdlm_timeouts *to, uint32_t grace_ms, bool quorate,
		  uint32_t n_members, uint64_t now_ms);

#endif
