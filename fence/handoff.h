/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * handoff.h - the pure rules of the hand-off through the disk: an away
 * node V (not in the lockspace's membership, its heartbeat live) gives
 * the grants it is asked for back through the shared disk instead of
 * being fenced (docs/design-handoff.md; the checked model is
 * docs/model/handoff.pml).  Rule names (V1-V6, F1-F6) are the design's.
 *
 * Pure: no I/O, no clock, no allocation, no printing, no randomness.
 * Time is an argument (now_ms on the caller's CLOCK_BOOTTIME, never
 * compared across nodes).  The areas it fills and reads are the
 * heartbeat record's minor-2 fields (fence/ondisk.h, struct sdlm_hb):
 * the requests go into the REQUESTER'S OWN heartbeat slot, the answer
 * into V's own slot; nothing here ever writes another node's slot or a
 * message slot (design §3, the model's finding H1).
 *
 * A grant is named by (incarnation, lkid), lkid = node id << 32 | counter
 * (dlm/core/nodelock.c); an lkid alone does not name a grant across V's
 * incarnations.
 *
 * 1. The away node V (struct ho_away, one per daemon incarnation)
 *
 *	a grant V holds and nobody asks for is not tracked here (HELD)
 *
 *	HELD ──a request for it, for our incarnation, read (V1)──► STOPPING
 *	         actions: STOP (blocking callback to its holders; no new
 *	         local client takes it); KILL once its holders did not let
 *	         go within K = drain_ms of the read
 *	STOPPING ──holders gone and no I/O of it left in the kernel (V2)──►
 *	         FINAL (its value block is fixed)
 *	FINAL ──put into the answer of the heartbeat write about to be
 *	         submitted (V3, the point of no return)──► LISTED: never used
 *	         again; not by a withdrawal, not by a rejoin
 *	STOPPING, FINAL ──no request for it any more, or V rejoins (V4)──►
 *	         HELD (action KEEP: the grant is V's again)
 *	LISTED ──V rejoins (V5)──► action RELEASE (V's own RELEASE with the
 *	         final value block if the state still shows it granted);
 *	         forgotten by ho_away_released once its release was applied
 *
 *	V1 reads slot by slot (ho_away_read_slots): a request counts only
 *	from a slot that decoded and whose writer is live; a slot that did
 *	not decode adds nothing and keeps what it asked (review RH4, RH6).
 *	A pill for V in a read wins (V1): from then on nothing new stops,
 *	nothing new is listed and the answer area stays what it last was
 *	(valid until NODE_FENCED, design §7).
 *	The answer lists, oldest first, the LISTED grants some request still
 *	names, then FINAL grants, SDLM_HB_ANS_MAX at most; ans_seq + 1 when
 *	its content changes.  A LISTED grant no request names any more
 *	leaves the answer (the requesters' drop is V's acknowledgement) but
 *	stays tracked until released, so that it is answered again if asked
 *	again and released through the stream at the rejoin.
 *	At most HO_AWAY_MAX grants are tracked: a request beyond that is
 *	ignored for now (not answered: the requester fences after B, today's
 *	path; availability, never safety).
 *
 * 2. The requester (struct ho_requester, one per daemon: the requests of
 *    every lockspace it is the fencer of share its one area, design §3)
 *
 *	F1  ho_f1_check: whether a request may be made at all (V's
 *	    heartbeat minor >= 2, the lockspace's agreed protocol >= 3 AND
 *	    V's own announced protocol >= 3, design §2 and §4)
 *	    ho_req_want: an entry (lkid, target_incarnation), oldest first;
 *	    the area of the next heartbeat write carries the
 *	    SDLM_HB_REQ_MAX oldest (ho_req_area; req_seq + 1 when its
 *	    content changes), the others wait for a free entry
 *	F4  the bound B = 3I + 4T + K (K = drain_ms) runs from the
 *	    COMPLETION of the first write that carried the entry
 *	    (ho_req_written); an entry not answered by then is returned by
 *	    ho_req_tick, once, for today's fence of its node; it stays in
 *	    the area while the fence runs
 *	F2  ho_answer_filter: what of V's answer counts - only a record of
 *	    V's incarnation as the replica knows it, V not fenced; every
 *	    listed lkid then (whoever asked for it, F6)
 *	    ho_req_note_answer: the entries it answers no longer run a bound
 *	F5  ho_req_drop / ho_req_drop_node / ho_req_clear: an entry leaves
 *	    once its release event was delivered, the waiter went away, V
 *	    is a member again or fenced; the role lost: all of them
 *	F3  ho_release_applies: the replica's test, the same on every
 *	    replica, of whether a release event releases anything
 *
 * The edges: fence/heartbeat.c carries both areas (heartbeat.h,
 * hbe_set_handoff); dlm/daemon/hoedge.c joins them to the daemon's state
 * (the host operations of both sides, V2 and V5 before each write);
 * dlm/daemon/lsfencer.c, the lockspace, the UID service and
 * reconciliation: design-handoff.md §10, step 4.
 */
#ifndef SDLM_HANDOFF_H
#define SDLM_HANDOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ondisk.h"
#include "timeouts.h"

#define HO_AWAY_MAX		64	/* grants V tracks at once */
#define HO_REQ_MAX		64	/* entries a requester keeps (the area
					   carries SDLM_HB_REQ_MAX of them) */
#define HO_HB_MINOR_MIN		2	/* V's heartbeat must speak it */
#define HO_PROTOCOL_MIN		3	/* the lockspace protocol with
					   HANDOFF_RELEASE (design §4) */

/* The node a cluster lock id names (its upper 32 bits). */
static inline uint32_t ho_lkid_node(uint64_t lkid)
{
	return lkid >> 32 > SDLM_MAX_NODES ? 0 : (uint32_t)(lkid >> 32);
}

/* B (design §6) and K, from the derived timeouts. */
uint64_t ho_bound_ms(const struct sdlm_timeouts *t);
uint64_t ho_kill_ms(const struct sdlm_timeouts *t);

/*
 * The read cadence (design §6).  A read of the area is due this long
 * after the last one: I as a rule, one read per heartbeat write; every
 * I/4 (at least HO_READ_MIN_MS) while a hand-off may be under way: some
 * peer live on the disk has left our membership (peer_away: it may be
 * asked for its locks, or we may be the one asked), or requests of ours
 * wait for their answers (waiting > 0).  A request is then seen, and an
 * answer turned into releases, within I/4 of landing instead of up to I:
 * an interval off each of the exchange's two reads.  Reads change
 * nothing on the disk, so more of them weakens no rule (the clock
 * check's window starts at a read's submission; a dead verdict's f is
 * the completion of the first read that saw a counter, whichever read
 * that is); writes stay one per I.
 */
#define HO_READ_MIN_MS	50
uint32_t ho_read_interval_ms(bool ho_on, bool peer_away, uint32_t waiting,
			     uint32_t hb_interval_ms);

/* ---- 1. the away node V ------------------------------------------- */

enum ho_grant_state {
	HO_HELD		= 0,	/* not tracked */
	HO_STOPPING	= 1,
	HO_FINAL	= 2,
	HO_LISTED	= 3,
};

#define HO_SLOT_WORDS	((SDLM_MAX_NODES + 64) / 64)	/* a bit per node 0..255 */

struct ho_grant {
	uint64_t lkid;
	enum ho_grant_state state;
	uint64_t order;			/* when it started stopping: oldest first */
	uint64_t stop_ms;		/* the read that started it (K from here) */
	bool requested;			/* some slot's request stands (req_by) */
	uint64_t req_by[HO_SLOT_WORDS];	/* bit n: node n's slot asks for it
					   (bit 0: a request of no said slot) */
	bool kill_sent;
	bool lvb_valid;
	uint8_t lvb[SDLM_HB_LVB_LEN];	/* FINAL, LISTED: the final value block */
};

struct ho_away {
	uint32_t node_id;
	uint64_t incarnation;
	bool pill;			/* a pill was read: nothing new */
	/* a slot that did not decode: when it was last told (rate limit) */
	bool slot_told[SDLM_MAX_NODES + 1];
	uint64_t slot_told_ms[SDLM_MAX_NODES + 1];
	uint64_t next_order;
	uint32_t n;
	struct ho_grant g[HO_AWAY_MAX];
	/* the answer area as last built */
	uint64_t ans_seq;
	uint32_t ans_count;
	uint32_t ans_lvb;
	struct sdlm_hb_ans ans[SDLM_HB_ANS_MAX];
};

/*
 * One request entry found by V's read in another node's heartbeat slot.
 * held: V holds a grant of that lkid (the edge's look-up in its
 * node-level cache; a LISTED grant has left it and is not "held").
 * gone: no cache of V knows the lkid any more, or only as released (V
 * let it go and its release did not reach the requester's side: the
 * cut came first).  Lock ids are never reused within an incarnation, so
 * it is never used here again: answered at once, final, with no value
 * block.  Neither (a cache still requests or converts it): ignored.
 * from: the node whose slot holds it (0: not said - ho_away_read).
 */
struct ho_seen {
	uint64_t lkid;
	uint64_t target_incarnation;
	bool held;
	bool gone;
	uint32_t from;
};

/*
 * What V's read made of each other node's heartbeat slot (V1; review
 * RH4, RH6).  A slot stands for itself only:
 *
 *	NONE  never written (no magic), or not in the area: no request
 *	OK    decoded: its entries are its requests - while its writer is
 *	      live; a writer whose counter has not moved for L (crashed,
 *	      fenced, reset: it never withdraws, and only its next
 *	      incarnation's first write empties its area) asks for nothing
 *	BAD   in use but did not decode (a CRC that does not verify, a
 *	      sanity rule, a version this build does not read): no new
 *	      request from it; what it asked at its last decode stands
 *	      while its writer is live by that decode (a damaged read must
 *	      not undo a stop, V4), then nothing
 *
 * One bad slot never stops V answering the others'.  A BAD slot is told
 * (ho_slot_log) at its first bad read and then at most once per
 * HO_SLOT_LOG_MS, however it flaps.
 */
#define HO_SLOT_LOG_MS	300000

enum ho_slot_read {
	HO_SLOT_NONE	= 0,
	HO_SLOT_OK	= 1,
	HO_SLOT_BAD	= 2,
};

struct ho_slot_in {
	enum ho_slot_read rd;
	bool live;			/* its counter moved within L of now
					   (fencesm's peer_live) */
};

/* s[n]: node n's slot, 1..SDLM_MAX_NODES (V's own and 0 are ignored). */
struct ho_slots {
	struct ho_slot_in s[SDLM_MAX_NODES + 1];
};

/* The BAD slots to tell about now (rate-limited). */
struct ho_slot_log {
	uint32_t n;
	uint32_t node[SDLM_MAX_NODES];
};

enum ho_away_act {
	HO_ACT_STOP	= 1,	/* blocking callback; no new local client */
	HO_ACT_KEEP	= 2,	/* V4: not stopping any more, V's again */
	HO_ACT_KILL	= 3,	/* holders did not let go within K */
	HO_ACT_RELEASE	= 4,	/* V5: send RELEASE (lvb) if still granted */
};

struct ho_away_action {
	enum ho_away_act act;
	uint64_t lkid;
	bool lvb_valid;			/* RELEASE only */
	uint8_t lvb[SDLM_HB_LVB_LEN];
};

/* At most one action per tracked grant per call. */
struct ho_away_out {
	uint32_t n;
	struct ho_away_action a[HO_AWAY_MAX];
};

void ho_away_init(struct ho_away *a, uint32_t node_id, uint64_t incarnation);

/*
 * V1, V4: one read of the area, completed at now_ms: the request entries
 * of every other slot (n of them, in any order) and whether the same
 * read found a pill for V's incarnation (fencesm's self_msg_read).  An
 * entry counts only if it names V's node and incarnation.  out is
 * cleared and gets STOP and KEEP actions.  Returns 0, or -EINVAL.
 */
int ho_away_read(struct ho_away *a, uint64_t now_ms, const struct ho_seen *seen,
		 size_t n, bool pill, struct ho_away_out *out);

/*
 * The same, slot by slot (struct ho_slots above): each entry's from names
 * its slot (1..SDLM_MAX_NODES), and counts only if that slot is OK and
 * live; a BAD live slot's earlier requests stand.  sl NULL: every slot
 * OK and live (ho_away_read).  log (if not NULL) gets the BAD slots to
 * tell about now.  Returns 0, or -EINVAL.
 */
int ho_away_read_slots(struct ho_away *a, uint64_t now_ms,
		       const struct ho_seen *seen, size_t n,
		       const struct ho_slots *sl, bool pill,
		       struct ho_away_out *out, struct ho_slot_log *log);

/*
 * K: STOPPING grants whose holders have not let go within K of the read
 * that started them get one KILL each.  *wake_ms (if not NULL): when the
 * next one is due, UINT64_MAX if none.
 */
void ho_away_tick(struct ho_away *a, uint64_t now_ms,
		  const struct sdlm_timeouts *t, struct ho_away_out *out,
		  uint64_t *wake_ms);

/*
 * V2: what is left of a STOPPING grant: its holders (not yet reaped) and
 * its I/O still owned by the kernel (timed-out requests included).  Both
 * 0: FINAL, with lvb (NULL: no valid value block) as its final value
 * block; returns 1.  Returns 0 if still stopping, -ENOENT if lkid is not
 * a STOPPING grant (not tracked, FINAL or LISTED already).
 */
int ho_away_progress(struct ho_away *a, uint64_t lkid, uint32_t holders,
		     uint32_t io_inflight, const uint8_t *lvb);

/*
 * V2 for a STOPPING grant no cache of V knows any more (the edge's
 * look-up of its holders finds nothing: a clean stop or a revocation
 * forgot every lock at once, killing its users, after V1 started stopping
 * it; review s28-rev19 L1).  Lock ids are never reused within an
 * incarnation, so nothing here uses it again - except a lock user killed
 * and not reaped yet (users_left): it may be in the middle of a write
 * under it, and the caches do not say whose lock it used (9e0621f, V1's
 * "gone").  users_left false: FINAL with no valid value block (the
 * requester invalidates its own: what the last holder wrote is lost with
 * the cache), returns 1; true: still stopping, 0.  -ENOENT if lkid is not
 * a STOPPING grant (a FINAL one keeps the value block it had).
 */
int ho_away_forgotten(struct ho_away *a, uint64_t lkid, bool users_left);

/*
 * V3: the answer area for the heartbeat write about to be SUBMITTED:
 * fills hb's ans_seq, ans_count, ans_lvb and ans[].  Every FINAL grant it
 * lists is LISTED from this call on: the edge drops it from its node
 * cache before submitting (if the write then fails, it stays LISTED and
 * is listed again: V never uses it either way).
 */
void ho_away_answer(struct ho_away *a, struct sdlm_hb *hb);

/* V5 (and V4): V is a member again and got the state.  out: KEEP for each
 * STOPPING/FINAL grant (forgotten), RELEASE for each LISTED one (kept
 * until ho_away_released). */
void ho_away_rejoin(struct ho_away *a, struct ho_away_out *out);

/* The release of a LISTED grant was applied (the state no longer shows
 * it granted to V): forget it.  Returns 0 or -ENOENT (not LISTED). */
int ho_away_released(struct ho_away *a, uint64_t lkid);

enum ho_grant_state ho_away_state(const struct ho_away *a, uint64_t lkid);
/* Its holders may go on using it: HELD or STOPPING (V3: never LISTED). */
bool ho_away_may_use(const struct ho_away *a, uint64_t lkid);
/* Some grant is final and not yet in an answer written: the next
 * heartbeat write carries it (the edge may run that tick early:
 * hbe_early_tick_at). */
bool ho_away_answer_due(const struct ho_away *a);

/* A new local client may be granted it: HELD only (V6). */
bool ho_away_may_grant_local(const struct ho_away *a, uint64_t lkid);

/* ---- 2. the requester --------------------------------------------- */

/* F1's inputs: what the replica and the fencer's peer view say of V. */
struct ho_f1_in {
	bool member;			/* V in the lockspace's membership */
	bool hb_live;			/* PEER_LIVE in the fencer's peer_view */
	uint16_t hb_minor;		/* V's heartbeat record's minor */
	uint64_t hb_incarnation;	/* V's heartbeat record's incarnation
					   (0: not decoded by our last read) */
	uint64_t replica_incarnation;	/* V's member incarnation (JOIN) */
	bool fenced;			/* NODE_FENCED applied for it */
	bool fence_in_flight;		/* a fence of V is running */
	uint32_t protocol;		/* the lockspace's agreed version */
	uint32_t v_protocol;		/* the highest version V announced in
					   its own last JOIN of the lockspace,
					   kept with its member incarnation
					   (0: unknown).  Not implied by the
					   agreed one: V, away, is not among
					   the members it is the minimum of */
};

enum ho_f1_verdict {
	HO_F1_OK		= 0,
	HO_F1_MEMBER		= 1,	/* V is a member: its own RELEASE */
	HO_F1_NOT_LIVE		= 2,	/* heartbeat not live: fence */
	HO_F1_RESTARTED		= 3,	/* another incarnation: fence */
	HO_F1_FENCED		= 4,
	HO_F1_FENCING		= 5,	/* fence in flight: no new request */
	HO_F1_OLD_MINOR		= 6,	/* V's heartbeat below minor 2: fence */
	HO_F1_OLD_PROTOCOL	= 7,	/* lockspace below protocol 3: fence */
	HO_F1_V_OLD_PROTOCOL	= 8,	/* V announced below 3 (a build whose
					   lkids are per lockspace, design
					   §2 finding H2): fence */
	HO_F1_UNREAD		= 9,	/* V's slot not decoded by our last
					   read (hb_incarnation 0): no new
					   request, none withdrawn, no fence
					   for it; the next read decides and
					   the bound B of what was asked runs
					   on (review s26-rev-handoff RH1) */
};

enum ho_f1_verdict ho_f1_check(const struct ho_f1_in *in);
const char *ho_f1_name(enum ho_f1_verdict v);

struct ho_entry {
	uint64_t lkid;
	uint64_t target_incarnation;
	uint64_t order;			/* oldest first */
	bool in_write;			/* carried by the write in flight */
	bool carried;			/* a write carrying it completed */
	uint64_t carried_ms;		/* that completion: B runs from here */
	bool answered;			/* F2 saw it listed: no bound */
	bool fence_sent;
};

struct ho_requester {
	uint32_t node_id;
	uint64_t next_order;
	uint32_t n;
	struct ho_entry e[HO_REQ_MAX];
	/* the request area as last built */
	uint64_t req_seq;
	struct sdlm_hb_req area[SDLM_HB_REQ_MAX];
};

void ho_req_init(struct ho_requester *r, uint32_t node_id);

/*
 * F1 passed: ask for (lkid, target_incarnation).  Returns 0, -EEXIST
 * (already asked), -ENOSPC (HO_REQ_MAX entries: fence instead), -EINVAL
 * (lkid 0, of node 0 or above 255 or of our own node; incarnation 0).
 */
int ho_req_want(struct ho_requester *r, uint64_t lkid, uint64_t target_incarnation);

/* F5: returns 0 or -ENOENT. */
int ho_req_drop(struct ho_requester *r, uint64_t lkid, uint64_t target_incarnation);
/* F5: every entry for node (a member again, or fenced). */
void ho_req_drop_node(struct ho_requester *r, uint32_t node);
/* F6: the role lost - every entry (the next area is empty). */
void ho_req_clear(struct ho_requester *r);

/* The request area of the heartbeat write about to be submitted: fills
 * hb's req_seq and req[] (the SDLM_HB_REQ_MAX oldest entries). */
void ho_req_area(struct ho_requester *r, struct sdlm_hb *hb);

/* That write completed at now_ms (ok) or failed (!ok: no bound starts). */
void ho_req_written(struct ho_requester *r, uint64_t now_ms, bool ok);

/* F4: entries unanswered B after their first write completed, each once,
 * as (lkid, target_incarnation): fence their node.  *wake_ms (if not
 * NULL): the next deadline, UINT64_MAX if none. */
struct ho_req_out {
	uint32_t n;
	struct sdlm_hb_req e[HO_REQ_MAX];
};
void ho_req_tick(struct ho_requester *r, uint64_t now_ms,
		 const struct sdlm_timeouts *t, struct ho_req_out *out,
		 uint64_t *wake_ms);

/* What F2 needs: V's verified heartbeat slot and the replica's view. */
struct ho_answer_in {
	uint32_t node;			/* V */
	const struct sdlm_hb *hb;	/* V's slot as hb_in decoded it */
	uint64_t replica_incarnation;	/* V's incarnation as the replica
					   records it */
	bool fenced;			/* NODE_FENCED applied for it */
};

/* One release event to send: HANDOFF_RELEASE (V, incarnation, lkid, lvb). */
struct ho_release {
	uint64_t incarnation;
	uint64_t lkid;
	bool lvb_valid;
	uint8_t lvb[SDLM_HB_LVB_LEN];
};

/*
 * F2: the answer entries that count, into out[SDLM_HB_ANS_MAX]; returns
 * their number.  None unless the record is V's, of minor >= 2, of the
 * incarnation the replica records for V (not 0), and V is not fenced.
 * The edge sends one release event per entry whose grant the replica
 * shows held by V (F3 decides again at apply).
 */
size_t ho_answer_filter(const struct ho_answer_in *in, struct ho_release *out);

/* The entries these releases answer stop running their bound. */
void ho_req_note_answer(struct ho_requester *r, const struct ho_release *rel,
			size_t n);

/* ---- 3. the requester's lockspace (dlm/daemon/lsfencer.c, the edge) ---- */

/*
 * A lockspace fencer keeps the entries IT asked for (F5 drops only its
 * own; they share the daemon's struct ho_requester with the other
 * lockspaces it fences) and the release events it sent lately.
 *
 * Per away node n and tick, in this order:
 *	ho_f1_check                   may n be asked at all
 *	ho_answer_filter, ho_ls_resend_due   F2: which answers become
 *	                              release events now
 *	ho_ls_request (F1 passed)     the entries for n become exactly the
 *	                              wanted locks: F5 withdraws, F1 asks
 *	ho_node_decide                member again, the hand-off decides
 *	                              (no grace), the entries dropped (any
 *	                              other F1 verdict), or the grace and
 *	                              the fence (today's path)
 */
#define HO_LS_MAX		HO_REQ_MAX

struct ho_ls {
	size_t n;
	uint64_t lkid[HO_LS_MAX];
	uint64_t inc[HO_LS_MAX];
	/* release events sent (F2), each with when */
	uint64_t rel_lkid[HO_LS_MAX];
	uint64_t rel_ms[HO_LS_MAX];
};

/* What ho_ls_request and ho_ls_drop_node changed, for the edge's log. */
struct ho_ls_chg {
	uint32_t n_drop, n_add, n_refused;
	uint64_t drop[HO_LS_MAX];
	uint64_t add[HO_LS_MAX];
	uint64_t refused[HO_LS_MAX];
	int refused_rc[HO_LS_MAX];	/* ho_req_want's error */
};

bool ho_ls_has_node(const struct ho_ls *s, uint32_t node);

/*
 * F1 passed for node (its member incarnation inc): want[nw] are its
 * locks in the way of a waiter (at most HO_LS_MAX count; the others once
 * these are answered).  Entries of node no longer wanted, or of another
 * incarnation, leave the lockspace and the daemon's area r (F5); wanted
 * ones not asked yet are asked at once (F1: ho_req_want; -EEXIST counts
 * as asked).  Returns true if every wanted lock is asked for; false if
 * some could not be (the lockspace's entries full, or ho_req_want
 * refused it: chg->refused): the grace and the fence then decide, what
 * was asked stays asked.  chg may be NULL.
 */
bool ho_ls_request(struct ho_ls *s, struct ho_requester *r, uint32_t node,
		   uint64_t inc, const uint64_t *want, size_t nw,
		   struct ho_ls_chg *chg);

/* F5 (node a member again, or fenced; another F1 verdict) and F6 (node
 * 0: every entry, the role lost): the entries leave the lockspace and
 * the daemon's area r.  chg may be NULL. */
void ho_ls_drop_node(struct ho_ls *s, struct ho_requester *r, uint32_t node,
		     struct ho_ls_chg *chg);

/*
 * F2: a release event for lkid may be sent now - none was within
 * interval_ms (it is being delivered; F3 would ignore the second anyway).
 * True records now as its sending (the oldest record makes room).
 */
bool ho_ls_resend_due(struct ho_ls *s, uint64_t lkid, uint64_t now_ms,
		      uint64_t interval_ms);

/* One away node of the lockspace, at one tick of the fencer's duties. */
struct ho_node_in {
	bool member;			/* in the lockspace's membership */
	bool ho_on;			/* the hand-off applies here (the
					   daemon's hooks, protocol >= 3) */
	enum ho_f1_verdict f1;		/* ho_f1_check (ho_on only) */
	bool asked_all;			/* F1 OK: ho_ls_request's result */
	bool has_entries;		/* ho_ls_has_node, before this tick */
	uint64_t since_ms;		/* a lock of it in the way of a waiter
					   since (0: none) */
	uint64_t now_ms;
	uint64_t grace_ms;
	bool hb_live;			/* its heartbeat live */
	bool bound_passed;		/* an entry for it unanswered B after
					   its write (F4, ho_req_tick) */
};

enum ho_node_act {
	HO_NODE_NONE	= 0,	/* nothing to do, or the grace runs */
	HO_NODE_MEMBER	= 1,	/* a member again: keeps its locks - its
				   entries leave, no fence (cancel one) */
	HO_NODE_HANDOFF	= 2,	/* the hand-off decides, no grace: its
				   bound B, not the grace, may fence */
	HO_NODE_FENCE	= 3,	/* today's path: fence it */
};

struct ho_node_out {
	enum ho_node_act act;
	bool drop;			/* its entries leave: F1 gave another
					   verdict (heartbeat not live,
					   another incarnation, old minor or
					   protocol, fenced) */
};

/*
 * The requester's decision for one away node: a member again keeps its
 * locks; F1 passed with every wanted lock asked, or its slot unread
 * (RH1) with entries standing: the hand-off decides; another verdict
 * but "fence in flight" drops the entries; then today's path - fenced
 * once a lock of it waited the grace, at once if its heartbeat is not
 * live or an entry's bound B passed.
 */
void ho_node_decide(const struct ho_node_in *in, struct ho_node_out *out);

/* F3: the replica's record of a resource's grant to V. */
struct ho_held {
	bool by_v;			/* the resource is granted to V */
	uint64_t incarnation;		/* under this incarnation of V */
	uint64_t lkid;			/* with this lkid */
	bool v_fenced;			/* NODE_FENCED applied for it */
};

/* F3: a release event (incarnation, lkid) releases the grant only if it is
 * exactly that grant, held, and V is not fenced. */
bool ho_release_applies(const struct ho_held *h, uint64_t incarnation,
			uint64_t lkid);

#endif /* SDLM_HANDOFF_H */
