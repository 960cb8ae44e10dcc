/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * twonode.c - two-node arbitration (twonode.h).
 *
 * With two nodes neither half of a split is a majority, so the disk
 * decides and exactly one side survives: the lower node id fences its
 * peer once the grace has passed (a blip heals before that); the higher
 * node never fences a peer whose heartbeat is live (it is the one being
 * fenced: it acknowledges and is reset), and fences it by the dead path
 * only when the peer's heartbeat stopped.  The winner then counts as
 * quorate alone.
 */
#include "config.h"

#include <errno.h>

#include "ondisk.h"
#include "timeouts.h"
#include "fencesm.h"
#include "heartbeat.h"
#include "fencer.h"
#include "log.h"
#include "twonode.h"

void twonode_init(struct twonode *t, uint32_t self, uint32_t peer)
{
	t->on = true;
	t->self = self;
	t->peer = peer;
	log_info("two-node cluster: splits are arbitrated on the disk (peer %u)", t->peer);
}

bool twonode_quorate(const struct twonode *t, bool quorate, uint32_t n_members)
{
	return quorate || (t->on && n_members == 1 && t->won);
}

bool twonode_won(const struct twonode *t)
{
	return t->on && t->won;
}

void twonode_membership(struct twonode *t, uint32_t n_members, uint64_t now)
{
	if (!t->on)
		return;
	if (n_members == 1 && !t->alone_since) {
		t->alone_since = now;
		log_warn("two-node: peer %u is gone: %s", t->peer,
			 t->self < t->peer ? "fencing it after the grace unless it returns" :
			 "waiting: the lower node arbitrates");
	} else if (n_members != 1) {
		t->alone_since = 0;
		t->won = false;
	}
}

bool twonode_fenced(struct twonode *t, uint32_t victim, bool quorate, uint32_t n_members)
{
	if (!(t->on && victim == t->peer && n_members == 1 && !quorate))
		return false;
	log_notice("two-node: peer %u fenced: this node continues alone", victim);
	t->won = true;
	return true;
}

bool twonode_tick(struct twonode *t, struct hb_engine *hb, struct fencer *f,
		  const struct sdlm_timeouts *to, uint32_t grace_ms, bool quorate,
		  uint32_t n_members, uint64_t now)
{
	const struct peer_view *pv;
	const struct sdlm_hb *slot;
	int hrc = -ENODATA, rc;
	bool wanted = false;

	if (!t->on || !f || quorate || n_members != 1 || t->won)
		return false;
	slot = hbe_slot(hb, t->peer, &hrc);
	pv = hbe_peer(hb, t->peer);
	if (hrc == 0 && (slot->state == HB_FREE || fencer_is_fenced(f, t->peer, slot->incarnation))) {
		log_notice("two-node: peer %u is %s: this node continues alone", t->peer,
			   slot->state == HB_FREE ? "stopped cleanly" : "fenced");
		t->won = true;
		return true;
	}
	if (t->self < t->peer)
		wanted = now - t->alone_since >= grace_ms;
	else
		wanted = pv && peer_state(pv, now, to) == PEER_DEAD;
	if (!wanted)
		return false;
	rc = fencer_request(f, t->peer, now);
	if (rc == 0)
		log_debug("two-node: fencing peer %u", t->peer);
	return false;
}
