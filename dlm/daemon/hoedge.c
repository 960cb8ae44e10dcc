/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hoedge.c - sdlmd's edge of the hand-off through the disk
 * (docs/design-handoff.md; rule names V1-V6, F1-F6 are the design's).
 *
 * Who does what:
 *
 *	fence/handoff.c		the pure rules of both sides: an away node's
 *				per-grant states and its answer, a
 *				requester's entries, their bound B and which
 *				answers count.  No I/O, no clock, no daemon
 *				state; tested by tests/unit/test_handoff.c
 *	fence/heartbeat.c	carries both areas in our own heartbeat
 *				record and keeps handoff.c's state for them
 *				(hbe_requester, hbe_away): reads the other
 *				slots' requests (V1), builds the answer of
 *				each write (V3), runs K (ho_away_tick)
 *	dlm/daemon/lsfencer.c	the requester's side in the lock manager:
 *				which entries to ask for and what an answer
 *				releases (F1-F6), on this file's host
 *				operations
 *	dlm/daemon/lockspace.c	lsm_ho_*: the node-level caches that stop,
 *				keep and drop a grant and name its holders
 *	this file		the glue between them and the daemon's state
 *				(struct sdlmd D): the requester's host
 *				operations (our one request area, a node's
 *				record as last read, whether our fence
 *				executor is fencing it); the away node's
 *				engine callbacks (held and gone for V1, the
 *				STOP / KEEP / KILL actions, V3's listed); and,
 *				before each heartbeat write, V2 (a stopping
 *				grant becomes final) and V5 (a member again)
 *
 * Nothing here decides a rule of the design: it gathers the facts the
 * pure core asks for (a grant's holders left, lock users killed and not
 * reaped yet) and carries its actions out.  It runs in the daemon's loop
 * and never blocks.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "sdlm.h"
#include "log.h"
#include "ondisk.h"
#include "handoff.h"
#include "heartbeat.h"
#include "fencer.h"
#include "lockspace.h"
#include "uidsvc.h"
#include "sdlmd_int.h"
#include "hoedge.h"

/* ---- the requester (dlm/daemon/lsfencer.c) ---- */

static struct ho_requester *host_ho_requester(void *ctx)
{
	(void)ctx;
	return hbe_requester(D.hb);
}

static const struct sdlm_hb *host_ho_record(void *ctx, uint32_t node)
{
	const struct sdlm_hb *hb;
	int hrc = -ENODATA;

	(void)ctx;
	if (node < 1 || node > D.area->hdr.num_nodes)
		return NULL;
	hb = hbe_slot(D.hb, node, &hrc);
	return !hrc && hb && hb->state != HB_FREE ? hb : NULL;
}

static bool host_fencing(void *ctx, uint32_t node)
{
	const char *st = NULL;

	(void)ctx;
	return D.fencer && fencer_current(D.fencer, &st) == node;
}

static void host_tick_soon(void *ctx)
{
	(void)ctx;
	sdlmd_tick_soon();
}

void hoedge_host_ops(struct ls_host *host)
{
	host->tick_soon = host_tick_soon;
	host->ho_requester = host_ho_requester;
	host->ho_record = host_ho_record;
	host->fencing = host_fencing;
}

/* ---- the away node: the heartbeat engine's callbacks ---- */

/* V1: a grant we hold (HELD in some lockspace's cache). */
static bool ho_held(void *ctx, uint64_t lkid)
{
	(void)ctx;
	return D.locks_on && !D.locks_stopped && lsm_ho_held(lkid);
}

/*
 * V1: released here, its release lost to the cut (struct ho_seen).  Not
 * while a lock user we killed is still there: a cache forgets the locks
 * of the users it kills at once (a clean stop, a revocation), and such a
 * user may be in the middle of a write under the lock (V2, as for a
 * stopping grant in hoedge_tick; the clean stop's users_gone_check).
 * The entry stays asked for: a later read answers it once they are gone
 * (review s28-rev19 C1, model finding H3).
 */
static bool ho_gone(void *ctx, uint64_t lkid)
{
	(void)ctx;
	return D.locks_on && !D.locks_stopped && lsm_ho_unknown(lkid) &&
	       !host_clients_stopping(NULL);
}

static void ho_act(void *ctx, const struct ho_away_action *a)
{
	uint32_t cl[64];
	size_t n, i, k = 0, u = 0;

	(void)ctx;
	if (!D.locks_on)
		return;
	switch (a->act) {
	case HO_ACT_STOP:
		lsm_ho_stop(a->lkid);
		break;
	case HO_ACT_KEEP:
		lsm_ho_keep(a->lkid);
		break;
	case HO_ACT_KILL:
		/* K passed: its holders are killed and reaped as a pill's
		 * are (the killset).  Not the UID service (that would stop
		 * every mailbox): for a lock of its, the clients with an
		 * allocation uncommitted under it (uidsvc_ho_kill). */
		n = lsm_ho_clients(a->lkid, cl, 64);
		if (n > 64)
			n = 64;
		for (i = 0; i < n; i++)
			if (cl[i] != UIDSVC_CLIENT)
				cl[k++] = cl[i];
		if (k < n)
			u = uidsvc_ho_kill(a->lkid);
		log_notice("hand-off: the holders of %016llx did not let go within %u ms: killing %zu client(s)",
			   (unsigned long long)a->lkid, D.to.drain_ms, k + u);
		if (k)
			host_kill_clients(NULL, cl, k);
		break;
	case HO_ACT_RELEASE:
		break;
	}
}

/* V3: listed in the answer about to be submitted - never used again. */
static void ho_listed(void *ctx, uint64_t lkid)
{
	(void)ctx;
	lsm_ho_gone(lkid);
}

void hoedge_start(void)
{
	struct hbe_handoff_ops ho = {
		.held = ho_held,
		.gone = ho_gone,
		.act = ho_act,
		.listed = ho_listed,
	};

	hbe_set_handoff(D.hb, &ho);
}

static void progress(struct ho_away *a);

/*
 * A heartbeat read completed.  As the requester: the answers it brought
 * become releases now.  As the away node: a grant it asked us to stop
 * may be final already (a lock only cached, holders that let go at once,
 * a "gone" lock id): its answer goes out in a tick run before its time
 * (sdlmd_tick_soon), not up to an interval later (issue 19 item 4).
 */
void hoedge_read(uint64_t now_ms)
{
	struct ho_away *a;

	if (!D.locks_on || D.locks_stopped)
		return;
	lsm_ho_read(now_ms);
	a = hbe_away(D.hb);
	if (!a->n || lsm_ho_member())
		return;
	progress(a);
	if (ho_away_answer_due(a))
		sdlmd_tick_soon();
}

void hoedge_slot_bad(int node)
{
	int hrc = 0;

	(void)hbe_slot(D.hb, (uint32_t)node, &hrc);
	log_warn("hand-off: heartbeat slot %d does not verify (%s): requests in it are not read "
		 "(those of every other slot are); told again at most every %u s",
		 node, sdlm_strerror(hrc), HO_SLOT_LOG_MS / 1000);
}

/*
 * V2, before each heartbeat write: a stopping grant is final once no
 * local holder is left and every lock user we killed is reaped (a killed
 * process in the middle of a write is still there) - the rule is
 * ho_away_progress's, told the holders left.  The UID service gives its
 * mailbox up only once its record writes left the kernel (uidsvc.c,
 * release), so no holder also means none of its I/O: none is in flight
 * for the rule.  V5: a
 * member of every lockspace again, what was stopping is ours again and
 * what was answered is forgotten (reconciliation releases it if the state
 * still shows it ours: it left the cache).
 */
/* V2 for every stopping grant: final once no holder is left, the cache's
 * or a killed lock user not reaped yet. */
static void progress(struct ho_away *a)
{
	uint8_t lvb[SDLM_HB_LVB_LEN];
	uint32_t i, holders;
	bool valid;

	for (i = 0; i < a->n; i++) {
		if (a->g[i].state != HO_STOPPING)
			continue;
		if (lsm_ho_state(a->g[i].lkid, &holders, lvb, &valid) < 0) {
			/* Forgotten since V1 (a clean stop, a revocation):
			 * final once every killed lock user is reaped, with
			 * no value block (review s28-rev19 L1; the rule is
			 * ho_away_forgotten's).  The UID service's record
			 * writes count as users: its mailbox was taken from
			 * it, not given up after its I/O (uidsvc_quiet).
			 * Known to a cache but not stopping there: left as
			 * it is.  Not M1's gate: it was asked for while every
			 * cache was sure, and its answer names no value block
			 * (review s28-revgate G2). */
			if (!D.locks_stopped && lsm_ho_forgotten(a->g[i].lkid) &&
			    ho_away_forgotten(a, a->g[i].lkid,
					      host_clients_stopping(NULL) || !uidsvc_quiet()) == 1)
				log_notice("hand-off: %016llx forgotten by the cache since it was asked for, "
					   "its lock users gone: answering through the disk (no value block)",
					   (unsigned long long)a->g[i].lkid);
			continue;
		}
		/* A lock user we killed that is not reaped yet may still be
		 * one of its holders (the killset does not say whose lock it
		 * used): it counts as one.  Asked, as before, only once no
		 * holder is left: the question reaps (clients_reap). */
		if (!holders && host_clients_stopping(NULL))
			holders = 1;
		if (ho_away_progress(a, a->g[i].lkid, holders, 0, valid ? lvb : NULL) == 1)
			log_notice("hand-off: %016llx stopped: answering through the disk",
				   (unsigned long long)a->g[i].lkid);
	}
}

void hoedge_tick(void)
{
	struct ho_away *a = hbe_away(D.hb);
	struct ho_away_out *out;
	uint32_t i;

	if (!D.locks_on || !a->n)
		return;
	if (lsm_ho_member()) {
		out = malloc(sizeof(*out));
		if (!out)
			return;
		ho_away_rejoin(a, out);
		for (i = 0; i < out->n; i++) {
			if (out->a[i].act == HO_ACT_KEEP)
				lsm_ho_keep(out->a[i].lkid);
			else if (out->a[i].act == HO_ACT_RELEASE)
				ho_away_released(a, out->a[i].lkid);
		}
		if (out->n)
			log_notice("hand-off: a member again: %u lock(s) kept or forgotten", out->n);
		free(out);
		return;
	}
	progress(a);
}
