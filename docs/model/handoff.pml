/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * handoff.pml - a bounded Promela model of the hand-off through the disk
 * (issue 19, docs/design-handoff.md): an away node V (not in the
 * membership, its heartbeat live) gives locks back through the shared disk
 * instead of being fenced.  docs/model.md ("The hand-off model") maps the
 * steps to the design and says what is abstracted.
 *
 *   fencer F (quorate side)                 away node V          disk
 *   -----------------------                 -----------          ----
 *   V's lock wanted, V away
 *   release request (V's incarnation,
 *   lkid) in F's OWN heartbeat slot ----------------------------> F's hb slot
 *                                           hb read: request for
 *                                           one of our grants ->
 *                                           blocking callback,
 *                                           users let go / killed,
 *                                           record write drained
 *                                           answer (incarnation,
 *                                           lkids, final LVBs) ---> V's hb slot
 *   answer read: release event
 *   (V, incarnation, lkid, LVB) in the
 *   ordered stream; the waiter is granted
 *   no answer within the bound: today's fence (pill in V's MESSAGE slot,
 *   ack or dead path, NODE_FENCED)
 *
 * Nodes: 1 and 2 are on the quorate side (1 is the lockspace fencer until
 * the role changes hands, then 2); 3 is V.  Two resources: R (0), whose
 * waiter is node 2, and Q (1), whose waiter is node 1.  A grant to V is
 * named by (incarnation, lkid); lkids restart at each incarnation, as the
 * daemon's do (nodelock.c: nodeid << 32 | a counter from daemon start).
 *
 * Faults: a write (request, answer) lands at once or stays in flight: a
 * newer write replaces it (the older one is lost) or it lands later, after
 * newer ones (late; it may outlive the incarnation that wrote it: a write
 * that left the host before a reset, fencing.md "The late write"); a
 * record is read any number of times (duplicates); V is paused (VM pause,
 * watchdog included) at any point, between reading and answering included;
 * the fencer changes hands, its old slot keeping what it last wrote and
 * its write in flight; V rejoins and leaves the membership mid-exchange;
 * V is reset and restarts as a new incarnation after it was fenced; a
 * waiter takes its request back; no answer within the bound -> the fence.
 * V1's "gone" (9ce4c58): away, V lets a lock go on its own and its
 * RELEASE is lost in the cut (the replica still shows the grant V's, V's
 * cache knows it only as RELEASING); V's read of a request for a lock id
 * of its incarnation that neither a cache nor the hand-off's table knows
 * makes it final at once, listed with no value block, and the replica
 * invalidates its own when it releases it; after a rejoin the lost
 * release is sent again with the cache's value block.  Beside it, what
 * must not count as gone: a lock V converts while away (still used, the
 * CONVERT unanswered until the rejoin), and a clean stop of V's daemon
 * (the caches forget every lock at once while the killed users are
 * reaped, one of them possibly in the kernel mid-write).  Since 80b0a4b
 * a DOWN-conversion lost in the cut (CONVERTING for good on a minority
 * side) is a grant V's read stops as a HELD one; an up-conversion is
 * still ignored (V fenced after B).
 *
 * Safety (assertions):
 *   S1  at every use of a lock (a UID handed out), at most one node may
 *       use it.  V may use a grant from the grant until it SUBMITS an
 *       answer listing it (the submission is the point of no return: a
 *       submitted write may land and be accepted at any time after),
 *       while its lease is valid, no pill read, not self-fenced, not
 *       frozen.
 *   S2  no UID is handed out twice (per resource).
 *   S4h no record write of a grant lands after an answer listing that
 *       grant was submitted (the answer is written only once drained).
 *   S5  V never uses a grant after it submitted an answer listing it.
 *   S6  a release event applies to exactly the grant it names, once: the
 *       replica releases (V, incarnation, lkid) only while it shows that
 *       grant held (checked by construction, and by S1 when it is not).
 *       The fencer's read (F2) and the event's application (F3) are two
 *       steps: anything ordered in the stream between them (V's own
 *       RELEASE after a rejoin, a grant, a fence, another read of the
 *       same answer) happens before the event applies.
 *   S7  no stale value block marked valid: whenever a release sets the
 *       replica's value block valid, no UID at or above it was handed out
 *       (the takers also read the disk - the UID service's epoch check -
 *       so a stale one would not break S2 here; it would for any other
 *       use of the value block).
 * Liveness (-DLIVE, ltl "live", weak fairness): V sound (never frozen,
 * nothing fenced), a waiter that wants R is eventually granted it.
 *
 * Variants (each must make spin find a violation; t-spin-handoff.sh):
 *   BAD_OLD_INCARNATION  the fencer accepts an answer without checking that
 *                        the record's incarnation is V's current one: a late
 *                        answer of V's previous incarnation releases the
 *                        grant of the same lkid of the new one
 *   BAD_USE_AFTER_ANSWER V answers as soon as it read the request; its
 *                        clients keep the lock until they let go
 *   BAD_RESUME_ANSWERED  V takes a lock back when the request is withdrawn
 *                        although its answer listing it was submitted
 *   BAD_REJOIN_KEEPS     V rejoining mid-exchange re-asserts a lock whose
 *                        answer it submitted (the replica still shows it)
 *   BAD_REPLAY_BY_RES    a release event names the resource, not the grant:
 *                        an answer read again releases V's later grant of
 *                        the same resource
 *   BAD_ANSWER_UNDRAINED V answers with the lock's record write in flight
 *   BAD_APPLY_UNCHECKED  the replica applies a release event to whatever
 *                        grant of V the resource has when it is delivered,
 *                        trusting the fencer's read (F2) instead of checking
 *                        (incarnation, lkid) again (F3): V, a member again,
 *                        released the grant itself and was granted the
 *                        resource anew between the read and the delivery
 *   BAD_GONE_CONVERTING  V answers "gone" for a lock its cache converts
 *                        (neither held nor unknown: V still uses it)
 *   BAD_GONE_DOWNCONV    a down-conversion lost in the cut answered "gone"
 *                        at once, not stopped, while its holders still use
 *                        it in the lower mode (the other way 80b0a4b could
 *                        have taken)
 *   BAD_GONE_LVB         the "gone" answer carries the value block V was
 *                        granted with, marked valid (stale: V handed out
 *                        UIDs under the grant since)
 *   BAD_GONE_KEEPLVB     the replica, given an answer with no value block,
 *                        keeps its own (valid, from before V's grant)
 *                        instead of invalidating it
 *   BAD_GONE_STOPPING    the code of 9ce4c58 (ho_gone, fixed since): during a
 *                        clean stop the caches forgot every lock while a
 *                        killed user may still be mid-write, and a request
 *                        for one is answered "gone" at once; the design
 *                        answers "gone" only once every killed user is
 *                        reaped, as V2 does (docs/model.md, finding H3)
 *   DRAFT_MSG_SLOT       the first draft: requests go into V's MESSAGE slot,
 *                        which the pill uses too; a late request write buries
 *                        a pill the dead path already counted
 *                        (docs/model.md, hand-off finding H1)
 *   BAD_SILENT           (with -DLIVE) V never answers: the waiter starves,
 *                        since -DLIVE fences only an unsound V; shows the
 *                        liveness search can fail
 *   BAD_IGNORE_DOWNCONV  (with -DLIVE) the code before 80b0a4b: V's read
 *                        ignores a down-converting grant (neither held nor
 *                        gone), so the waiter starves (review s28-rev19 L2;
 *                        without -DLIVE the bound fences V)
 *   BAD_WHOLE_READ       (with -DLIVE) V reads the requests only when every
 *                        slot in use decoded: a third node's slot that
 *                        never decodes (BAD3, there from the start in the
 *                        liveness runs) stops V answering at all (review
 *                        RH4); the design reads every slot that decodes
 */

#define V	3
#define NR	2	/* resources: 0 = R (waiter node 2), 1 = Q (waiter node 1) */
#define LK	3	/* lkids per incarnation */
#ifndef UMAX
#define UMAX	4	/* UIDs 1..UMAX-1 per resource */
#endif
#ifndef CUTS
#define CUTS	3	/* membership changes of V */
#endif
#ifndef FLY
#define FLY	2	/* writes that stay in flight */
#endif
#ifndef LOSTS
#define LOSTS	2	/* releases of V lost in the cut */
#endif
#ifdef LIVE
#define FREEZES	0
#define RESTARTS 0
#define CANCELS	0
#define CONVS	0	/* an up-converting lock is ignored: fenced after B */
#ifndef DCONVS
#define DCONVS	1	/* a down-converting one is stopped: in the runs */
#endif
#else
#define FREEZES	1
#define RESTARTS 1
#define CANCELS	1
#ifndef CONVS
#define CONVS	1	/* up-conversions V starts while away */
#endif
#ifndef DCONVS
#define DCONVS	1	/* down-conversions lost in the cut */
#endif
#endif
#ifndef STOPS
#define STOPS	1	/* clean stops of V's daemon */
#endif

#define G(i, k)		(((i) - 1) * LK + (k) - 1)	/* grant bit index */
#define GB(i, k)	(1 << G(i, k))
#define INCB(i)		(7 << (((i) - 1) * LK))		/* incarnation i's grants */
#define waiter(r)	(2 - (r))

/* ---- the replicated lock state of the quorate side (one copy: the
 * ordered stream makes its replicas equal) ---- */
byte owner[NR];		/* 0 none, 1..3 */
byte oinc[NR], olk[NR];	/* when owner == V: the grant's incarnation, lkid */
bool lvbv[NR];		/* value block valid */
byte lvb[NR];		/* value block: the next UID */
byte repinc;		/* V's incarnation as the replica knows it */
bool vfenced;		/* NODE_FENCED applied for repinc */
bool vmember;		/* V in the membership */
byte fencer;		/* the lockspace fencer: 1, then 2 */
byte cuts, flies, freezes, restarts, cancels, convs, dconvs, stops, losts;
bool healed;		/* -DLIVE: the faults are over */
/* release events in the ordered stream, sent by the fencer's read (F2),
 * not yet applied (F3): one per resource at a time */
bool pev[NR];
byte pinc[NR], plk[NR], pval[NR];
bool pvd[NR];		/* the event carries a value block (else: invalidate) */

/* ---- the waiters (node waiter(r) for resource r) ---- */
bool wwant[NR], wholds[NR];
byte wcur[NR], wants[NR];
bool wused[NR];

/* ---- the away node V ---- */
bool vup, vfrozen, vlease, obeying, vacked, vselffenced;
byte vinc;		/* its incarnation (1, 2 after a restart) */
byte vctr;		/* lkids used in this incarnation */
#define NONE	0
#define HELD	1	/* in use */
#define STOP	2	/* request read: blocking callback sent, users may
			 * still hold it until they let go or are killed */
#define DRAINED	3	/* users gone, record write drained: final */
#define GONE	4	/* answer listing it submitted: gone for good */
#define CONV	5	/* up-converting (CONVERT sent): still used in the mode
			 * held, neither "held" nor "gone" for the hand-off:
			 * ignored, V is fenced after B */
#define KILLED	6	/* a clean stop: the cache forgot it, its users were
			 * killed; one may still be in the kernel mid-write
			 * (vio) until it is reaped */
#define DCONV	7	/* down-converting (80b0a4b, review s28-rev19 L2): the
			 * holder let go of the write mode and the cache
			 * asked for less, the CONVERT lost in the cut (on a
			 * minority side never answered nor refused); the
			 * holders left still use it in the lower mode.  The
			 * hand-off stops it as a HELD grant (nl_handoff_held)
			 * and the answer releases the whole grant */
byte vs[NR], vlk[NR], vcur[NR];
byte vlost[NR];		/* lkid of V's release of r sent in its partition
			 * (lost: the cut came first); the cache knows it
			 * only as RELEASING, with its value block (vcur) */
byte vgf;		/* V1 "gone": grants (bits G) V found asked for that
			 * none of its caches knows (or only as released):
			 * final at once, in the next answer, no value block */
bool vstopping;		/* a clean stop of V's daemon is under way */
bool vreq[NR];		/* V asked for it again (after a rejoin) */
byte vrlk[NR];
byte vans;		/* grants (bits G) listed in V's answers, this incarnation */
bool vio[NR];		/* V's UID record write in flight */
byte viov[NR], viog[NR];

/* ---- the disk ---- */
byte dwm[NR];		/* UID record: readers take the maximum (docs/uid.md) */
byte fin[LK * 2];	/* final LVB of a grant, fixed when first answered */
byte finiv;		/* grants (bits G) answered with no value block */
byte lres[LK * 2];	/* resource of a grant (for BAD_REPLAY_BY_RES) */
/* release requests: in the requester's own heartbeat slot (node 1, 2) */
byte rqd[3], rqf[3];	/* on disk, in flight */
bool rqfly[3];
/* V's heartbeat slot: the answer (incarnation of the record, grants) */
byte and_inc, and_mask;
bool afly;
bool aw;		/* V's answer write submitted, not yet landed or in flight */
byte afinc, afmask;
/* V's message slot: pills (and, in DRAFT_MSG_SLOT, requests) */
#define MCLEAR	0
#define MREQ	1
#define MPILL	2
byte mkind, mseq, minc, mmask;
byte handled;		/* highest message seq V handled */
bool mfly;		/* DRAFT_MSG_SLOT: a request write in flight */
byte mfseq, mfmask, mfinc;
/* the fence (today's path) */
bool fop;		/* fence in flight: pill written */
bool deadv;		/* V still for D (timing lemma, docs/timeouts.md) */
int issued[NR];

#define vmay(r)		(vup && !vfrozen && vlease && !obeying && !vselffenced && \
			 !vstopping && (vs[r] == HELD || vs[r] == STOP || vs[r] == CONV || \
			 vs[r] == DCONV))
#define users(r)	(vmay(r) + wholds[r])
#define vgrant(r)	(owner[r] == V && oinc[r] == repinc)
#define wanted(r)	(wwant[r] && !wholds[r])
/* the request the fencer wants on the disk for V */
#define desr(r)		((vgrant(r) && wanted(r)) -> GB(repinc, olk[r]) : 0)
#define des		((vmember || vfenced || fop) -> 0 : (desr(0) | desr(1)))
#ifdef DRAFT_MSG_SLOT
#define vreqs		((mkind == MREQ && minc == vinc) -> mmask : 0)
#else
#define vreqs		(rqd[1] | rqd[2])
#endif
#ifdef LIVE
#define bound_ok	(vfrozen || !vup || vselffenced)
#else
#define bound_ok	true
#endif
/* A third node's heartbeat slot that never decodes (a damaged sector):
 * it holds no request V can read.  In the liveness runs it is there from
 * the start; safety does not depend on what V fails to read. */
#ifdef LIVE
#define BAD3		true
#else
#define BAD3		false
#endif
#ifdef BAD_WHOLE_READ
#define rd_slots	(!BAD3)	/* the old edge: all slots or none */
#else
#define rd_slots	true	/* each slot stands for itself */
#endif
#define pill_new	(mkind == MPILL && mseq > handled && (minc == vinc || minc == 0))
#define mine(r)		GB(vinc, vlk[r])
/* V1 "gone": the grants of V's incarnation a cache or the hand-off's
 * table still knows: held, stopping, final, listed, converting (up or
 * down); or a request not answered yet.  A lock the cache forgot
 * (KILLED) or sent the release of (vlost) is not known. */
#ifdef BAD_GONE_CONVERTING
#define kn(r)		((vs[r] != NONE && vs[r] != KILLED && vs[r] != CONV -> GB(vinc, vlk[r]) : 0) | \
			 (vreq[r] -> GB(vinc, vrlk[r]) : 0))
#elif defined(BAD_GONE_DOWNCONV)
#define kn(r)		((vs[r] != NONE && vs[r] != KILLED && vs[r] != DCONV -> GB(vinc, vlk[r]) : 0) | \
			 (vreq[r] -> GB(vinc, vrlk[r]) : 0))
#else
#define kn(r)		((vs[r] != NONE && vs[r] != KILLED -> GB(vinc, vlk[r]) : 0) | \
			 (vreq[r] -> GB(vinc, vrlk[r]) : 0))
#endif
/* A stop's killed lock users are all reaped (killset_done): none of
 * their writes is still in the kernel. */
#ifdef BAD_GONE_STOPPING
#define gone_ok		true
#else
#define gone_ok		(!vstopping || !vio[0] && !vio[1])
#endif
#define gonenew		((rd_slots && gone_ok) -> \
			 (vreqs & INCB(vinc) & ~(kn(0) | kn(1)) & ~vans & ~vgf) : 0)
/* V's read changes something.  A grant to stop: HELD, or down-converting
 * (nl_handoff_held since 80b0a4b); an up-converting one is ignored.
 * BAD_IGNORE_DOWNCONV: the code before 80b0a4b, HELD only;
 * BAD_GONE_DOWNCONV: the other fix 80b0a4b could have been, "gone". */
#if defined(BAD_IGNORE_DOWNCONV) || defined(BAD_GONE_DOWNCONV)
#define stoppable(r)	(vs[r] == HELD)
#else
#define stoppable(r)	(vs[r] == HELD || vs[r] == DCONV)
#endif
#define rd_stop(r)	(rd_slots && stoppable(r) && (vreqs & mine(r)))
#ifdef BAD_RESUME_ANSWERED
#define rd_resume(r)	(rd_slots && (vs[r] == STOP || vs[r] == DRAINED || vs[r] == GONE) && !(vreqs & mine(r)))
#else
#define rd_resume(r)	(rd_slots && (vs[r] == STOP || vs[r] == DRAINED) && !(vreqs & mine(r)))
#endif
#define rd_ok		(!vlease || pill_new || (!obeying && \
			 (rd_stop(0) || rd_stop(1) || rd_resume(0) || rd_resume(1) || \
			  gonenew != 0 || rd_slots && (vgf & ~vreqs) != 0)))
#if defined(BAD_SILENT)
#define ans_ready(r)	false	/* liveness has teeth: V never answers */
#elif defined(BAD_USE_AFTER_ANSWER)
#define ans_ready(r)	((vs[r] == DRAINED || vs[r] == STOP) && !(vans & mine(r)))
#else
#define ans_ready(r)	(vs[r] == DRAINED)
#endif
/* the fencer's answer read: which resource it releases */
#ifdef BAD_REPLAY_BY_RES
#define acc(r)		(owner[r] == V && and_inc == repinc && \
			 ((and_mask & 1) && lres[0] == r || (and_mask & 2) && lres[1] == r || \
			  (and_mask & 4) && lres[2] == r || (and_mask & 8) && lres[3] == r || \
			  (and_mask & 16) && lres[4] == r || (and_mask & 32) && lres[5] == r))
#elif defined(BAD_OLD_INCARNATION)
#define acc(r)		(owner[r] == V && (and_mask & GB(and_inc, olk[r])))
#else
#define acc(r)		(vgrant(r) && and_inc == repinc && (and_mask & GB(repinc, olk[r])))
#endif
/* F3 at the event's delivery: which grant it releases (the daemon:
 * ls_apply's HANDOFF_RELEASE, through ho_release_applies - V's member
 * record names the event's incarnation, the lkid is V's granted lock) */
#if defined(BAD_REPLAY_BY_RES) || defined(BAD_APPLY_UNCHECKED)
#define app(r)		(owner[r] == V)
#elif defined(BAD_OLD_INCARNATION)
#define app(r)		(owner[r] == V && olk[r] == plk[r])
#else
#define app(r)		(owner[r] == V && !vfenced && repinc == pinc[r] && olk[r] == plk[r])
#endif

/* F3's value block: the answer's, or none - the replica invalidates its
 * own (lockstate.c ev_handoff_release).  BAD_GONE_KEEPLVB: an answer
 * with none leaves the replica's value block as it was, valid if it was. */
inline keep_lvb(r)
{
#ifdef BAD_GONE_KEEPLVB
	if :: !pvd[r] -> pval[r] = lvb[r]; pvd[r] = lvbv[r] :: else -> skip fi
#else
	skip
#endif
}

/* a record write of V lands: readers take the maximum; S4h */
inline vland(r)
{
	assert(!(vans & (1 << viog[r])));	/* S4h */
	dwm[r] = (viov[r] > dwm[r] -> viov[r] : dwm[r]);
	vio[r] = false
}

/* release of r in the ordered stream, the value block given */
inline release(r, v, valid)
{
	/* S7: a value block marked valid is never stale: no UID at or above
	 * it was handed out */
	assert(!(valid) || (issued[r] >> (v)) == 0);
	/* v is read before the grant is cleared (it may name olk[r]) */
	lvb[r] = v;
	owner[r] = 0; oinc[r] = 0; olk[r] = 0;
	lvbv[r] = valid
}

/* The away node's daemon: heartbeat loop (read, then write), its lock
 * users, its UID record writes. */
proctype vnode()
{
	byte r;
end:	do
	/* heartbeat read: the whole area in one read.  A pill for us wins;
	 * else every request for one of our grants (any slot, any writer)
	 * starts stopping it; a withdrawn one whose answer was not submitted
	 * may be taken back.  The read renews the lease (the write follows). */
	:: d_step { vup && !vfrozen && !vselffenced && rd_ok ->
		if
		:: pill_new -> obeying = true; handled = mseq
		:: else -> skip
		fi;
#ifdef DRAFT_MSG_SLOT
		if
		:: mkind == MREQ && mseq > handled -> handled = mseq
		:: else -> skip
		fi;
#endif
		if
		:: !obeying ->
			/* V1 "gone" (handoff.c ho_away_read_slots): asked for
			 * a lock no cache knows: final now, nothing to stop;
			 * V4: one nobody asks for any more leaves the table */
			if
			:: rd_slots -> vgf = (vgf & vreqs) | gonenew
			:: else -> skip
			fi;
			r = 0;
			do
			:: r < NR ->
				if
				:: rd_stop(r) -> vs[r] = STOP
				:: rd_resume(r) -> vs[r] = HELD
				:: else -> skip
				fi;
				r++
			:: else -> break
			od;
			r = 0
		:: else -> skip
		fi;
		vlease = true;
		deadv = false }
	/* the users of a stopping lock let go (or are killed and reaped),
	 * and its record write drained: final */
	:: d_step { vup && !vfrozen && (vs[0] == STOP && !vio[0] || vs[1] == STOP && !vio[1]
#ifdef BAD_ANSWER_UNDRAINED
		|| vs[0] == STOP || vs[1] == STOP
#endif
		) ->
		if
		:: vs[0] == STOP && !vio[0] -> vs[0] = DRAINED
		:: vs[1] == STOP && !vio[1] -> vs[1] = DRAINED
#ifdef BAD_ANSWER_UNDRAINED
		:: vs[0] == STOP -> vs[0] = DRAINED
		:: vs[1] == STOP -> vs[1] = DRAINED
#endif
		fi }
	/* heartbeat write with the answer: every grant stopped in this
	 * incarnation, each with its final value block.  Submitting it is the
	 * point of no return. */
	:: d_step { vup && !vfrozen && !vselffenced && !obeying && !aw &&
		(ans_ready(0) || ans_ready(1) || vgf != 0 ||
		 (and_inc != vinc || and_mask != vans) && !afly) ->
		if
		:: ans_ready(0) ->
			fin[G(vinc, vlk[0])] = vcur[0];
			vans = vans | mine(0);
			if :: vs[0] == DRAINED -> vs[0] = GONE :: else -> skip fi
		:: else -> skip
		fi;
		if
		:: ans_ready(1) ->
			fin[G(vinc, vlk[1])] = vcur[1];
			vans = vans | mine(1);
			if :: vs[1] == DRAINED -> vs[1] = GONE :: else -> skip fi
		:: else -> skip
		fi;
		/* the gone ones: listed with no value block (BAD_GONE_LVB:
		 * with the one V was granted, fin[] set at the grant) */
#ifndef BAD_GONE_LVB
		finiv = finiv | vgf;
#endif
		vans = vans | vgf;
		vgf = 0;
		aw = true }
	/* the write lands, or stays in flight (a pending one is lost) */
	:: d_step { aw -> aw = false; and_inc = vinc; and_mask = vans }
	:: d_step { aw && flies < FLY -> aw = false; flies++;
		afly = true; afinc = vinc; afmask = vans }
	/* a user of a lock hands out a UID: reservation on disk first */
	:: d_step { vmay(0) && !vio[0] && dwm[0] <= vcur[0] && vcur[0] + 1 < UMAX ->
		vio[0] = true; viov[0] = vcur[0] + 1; viog[0] = G(vinc, vlk[0]) }
	:: d_step { vmay(1) && !vio[1] && dwm[1] <= vcur[1] && vcur[1] + 1 < UMAX ->
		vio[1] = true; viov[1] = vcur[1] + 1; viog[1] = G(vinc, vlk[1]) }
	:: d_step { vup && !vfrozen && vio[0] -> vland(0) }
	:: d_step { vup && !vfrozen && vio[1] -> vland(1) }
	:: d_step { vmay(0) && dwm[0] > vcur[0] ->
		assert(users(0) == 1);			/* S1 */
		assert(!(vans & mine(0)));		/* S5 */
		assert((issued[0] & (1 << vcur[0])) == 0);	/* S2 */
		issued[0] = issued[0] | (1 << vcur[0]);
		vcur[0]++ }
	:: d_step { vmay(1) && dwm[1] > vcur[1] ->
		assert(users(1) == 1);
		assert(!(vans & mine(1)));
		assert((issued[1] & (1 << vcur[1])) == 0);
		issued[1] = issued[1] | (1 << vcur[1]);
		vcur[1]++ }
	/* a member: a waiter's blocking callback reaches V through the
	 * stream; V releases once its users let go and its write drained */
	:: d_step { vup && !vfrozen && vmember && !obeying &&
		(vgrant(0) && olk[0] == vlk[0] && (vs[0] == HELD || vs[0] == STOP) && wanted(0) && !vio[0] ||
		 vgrant(1) && olk[1] == vlk[1] && (vs[1] == HELD || vs[1] == STOP) && wanted(1) && !vio[1]) ->
		if
		:: vgrant(0) && olk[0] == vlk[0] && (vs[0] == HELD || vs[0] == STOP) && wanted(0) && !vio[0] ->
			release(0, vcur[0], true); vs[0] = NONE
		:: vgrant(1) && olk[1] == vlk[1] && (vs[1] == HELD || vs[1] == STOP) && wanted(1) && !vio[1] ->
			release(1, vcur[1], true); vs[1] = NONE
		fi }
	/* a member: a client of V asks for a lock again (a new lkid) */
	:: d_step { vup && !vfrozen && vmember && !obeying && !vstopping && vctr < LK &&
		(vs[0] == NONE && !vreq[0] || vs[1] == NONE && !vreq[1]) ->
		vctr++;
		if
		:: vs[0] == NONE && !vreq[0] -> vreq[0] = true; vrlk[0] = vctr
		:: vs[1] == NONE && !vreq[1] -> vreq[1] = true; vrlk[1] = vctr
		fi }
	/* away: V lets a lock go on its own (its users let go, its write
	 * drained); the RELEASE goes out in V's partition and is lost (the
	 * cut came first: EVS delivers it there only).  The replica still
	 * shows the grant V's; V's cache knows it only as RELEASING. */
	:: d_step { vup && !vfrozen && !vmember && !obeying && !vselffenced && !vstopping &&
		losts < LOSTS && vs[0] == HELD && !vio[0] -> losts++; vlost[0] = vlk[0]; vs[0] = NONE }
	:: d_step { vup && !vfrozen && !vmember && !obeying && !vselffenced && !vstopping &&
		losts < LOSTS && vs[1] == HELD && !vio[1] -> losts++; vlost[1] = vlk[1]; vs[1] = NONE }
	/* away: a client of V asks for a higher mode; the CONVERT cannot be
	 * answered before V rejoins (the grant is used meanwhile) */
	:: d_step { vup && !vfrozen && !vmember && !obeying && !vstopping && convs < CONVS &&
		vs[0] == HELD -> convs++; vs[0] = CONV }
	:: d_step { vup && !vfrozen && !vmember && !obeying && !vstopping && convs < CONVS &&
		vs[1] == HELD -> convs++; vs[1] = CONV }
	/* a down-conversion sent just before the cut and lost in it (another
	 * node wanted the lock, its holder let go of the write mode): never
	 * answered nor refused before the rejoin; the holders left use the
	 * lock in the lower mode - here, as any use, UIDs may still be handed
	 * out under it (more than the code does; the answer's value block
	 * covers them) */
	:: d_step { vup && !vfrozen && !vmember && !obeying && !vstopping && dconvs < DCONVS &&
		vs[0] == HELD -> dconvs++; vs[0] = DCONV }
	:: d_step { vup && !vfrozen && !vmember && !obeying && !vstopping && dconvs < DCONVS &&
		vs[1] == HELD -> dconvs++; vs[1] = DCONV }
	/* a clean stop of V's daemon (sdlmd.c uid_quiet_check,
	 * lsm_stop_users): the UID service is quiet first - here a write in
	 * flight is a killed client's, still in the kernel mid-write - then
	 * every lock user is killed and the caches forget their locks at
	 * once; requests fail.  A stopping grant stays in the table. */
	:: d_step { vup && !vfrozen && !vselffenced && !obeying && !vstopping && stops < STOPS ->
		stops++; vstopping = true; vreq[0] = false; vreq[1] = false;
		if :: vs[0] == HELD || vs[0] == CONV || vs[0] == DCONV -> vs[0] = KILLED :: else -> skip fi;
		if :: vs[1] == HELD || vs[1] == CONV || vs[1] == DCONV -> vs[1] = KILLED :: else -> skip fi }
	/* every killed user reaped (users_gone_check): the locks are
	 * released with the value blocks kept (lsm_release_own), through
	 * the stream if V is a member, else in V's partition: lost */
	:: d_step { vup && !vfrozen && vstopping && !vio[0] && !vio[1] &&
		(vs[0] == KILLED || vs[1] == KILLED) ->
		if
		:: vs[0] == KILLED && vmember && vgrant(0) && olk[0] == vlk[0] ->
			release(0, vcur[0], true)
		:: vs[0] == KILLED && !vmember -> vlost[0] = vlk[0]
		:: else -> skip
		fi;
		if
		:: vs[1] == KILLED && vmember && vgrant(1) && olk[1] == vlk[1] ->
			release(1, vcur[1], true)
		:: vs[1] == KILLED && !vmember -> vlost[1] = vlk[1]
		:: else -> skip
		fi;
		if :: vs[0] == KILLED -> vs[0] = NONE :: else -> skip fi;
		if :: vs[1] == KILLED -> vs[1] = NONE :: else -> skip fi }
	/* obey the pill: ack once every write drained (users were stopped
	 * when it was read) */
	:: d_step { vup && !vfrozen && obeying && !vacked && !vio[0] && !vio[1] ->
		vacked = true; vselffenced = true }
	/* the watchdog resets a node that stopped feeding; a record write in
	 * flight lands or is lost; an answer write may still sit in the
	 * fabric (afly) */
	:: d_step { vup && !vfrozen && vselffenced ->
		if
		:: aw -> aw = false; afly = true; afinc = vinc; afmask = vans
		:: else -> skip
		fi;
		if :: vio[0] -> vland(0) :: else -> skip fi;
		if :: vio[1] -> vland(1) :: else -> skip fi;
		vup = false; vlease = false;
		vs[0] = NONE; vs[1] = NONE; vreq[0] = false; vreq[1] = false;
		vlost[0] = 0; vlost[1] = 0; vgf = 0 }
	/* restart, once its incarnation was fenced: a new incarnation, lkids
	 * from 1 again; the pill in the slot is its baseline */
	:: d_step { !vup && vfenced && repinc == vinc && restarts < RESTARTS ->
		restarts++;
		vinc++; vctr = 0; vans = 0;
		vup = true; vlease = true; obeying = false; vacked = false;
		vselffenced = false; vstopping = false; handled = mseq }
	od
}

/* The quorate side: the lockspace fencer (1, later 2), the replicated
 * state's grants, the waiters. */
proctype quorate()
{
	byte r, f;
end:	do
	/* the fencer's heartbeat write carries its release requests */
#ifndef DRAFT_MSG_SLOT
	:: atomic { rqd[fencer] != des && !(rqfly[fencer] && rqf[fencer] == des) ->
		if
		:: rqd[fencer] = des
		:: flies < FLY -> flies++; rqfly[fencer] = true; rqf[fencer] = des
		fi }
	/* the old fencer (alive, not the fencer any more) withdraws */
	:: d_step { fencer == 2 && rqd[1] != 0 -> rqd[1] = 0 }
#else
	/* draft: the request goes into V's message slot, seq on disk + 1,
	 * never over a pill naming V's incarnation (the late write does) */
	:: atomic { des != 0 && !(mkind == MREQ && mmask == des && minc == repinc) &&
		!(mkind == MPILL && minc == repinc) && !mfly ->
		if
		:: mseq++; mkind = MREQ; mmask = des; minc = repinc
		:: flies < FLY -> flies++;
			mfly = true; mfseq = mseq + 1; mfmask = des; mfinc = repinc
		fi }
#endif
	/* the fencer reads V's heartbeat slot: each grant the answer lists
	 * that the replica shows V holding becomes a release event in the
	 * ordered stream, with its final value block (requested or not) */
	:: d_step { acc(0) && !pev[0] || acc(1) && !pev[1] ->
		if
		:: acc(0) && !pev[0] ->
#ifdef BAD_REPLAY_BY_RES
			f = (lres[0] == 0 && (and_mask & 1) -> 0 : (lres[1] == 0 && (and_mask & 2) -> 1 :
			     (lres[2] == 0 && (and_mask & 4) -> 2 : (lres[3] == 0 && (and_mask & 8) -> 3 :
			     (lres[4] == 0 && (and_mask & 16) -> 4 : 5)))))
#elif defined(BAD_OLD_INCARNATION)
			f = G(and_inc, olk[0])
#else
			f = G(repinc, olk[0])
#endif
			; pval[0] = fin[f]; pvd[0] = ((finiv >> f) & 1) == 0;
			pev[0] = true; pinc[0] = and_inc; plk[0] = olk[0]
		:: acc(1) && !pev[1] ->
#ifdef BAD_REPLAY_BY_RES
			f = (lres[0] == 1 && (and_mask & 1) -> 0 : (lres[1] == 1 && (and_mask & 2) -> 1 :
			     (lres[2] == 1 && (and_mask & 4) -> 2 : (lres[3] == 1 && (and_mask & 8) -> 3 :
			     (lres[4] == 1 && (and_mask & 16) -> 4 : 5)))))
#elif defined(BAD_OLD_INCARNATION)
			f = G(and_inc, olk[1])
#else
			f = G(repinc, olk[1])
#endif
			; pval[1] = fin[f]; pvd[1] = ((finiv >> f) & 1) == 0;
			pev[1] = true; pinc[1] = and_inc; plk[1] = olk[1]
		fi;
		f = 0 }
	/* the release event is delivered: F3 against the replica as it is
	 * at that point of the stream; one that names no held grant is a
	 * no-op (a duplicate, a replay, V released it itself) */
	:: d_step { pev[0] ->
		if :: app(0) -> keep_lvb(0); release(0, pval[0], pvd[0]) :: else -> skip fi;
		pev[0] = false }
	:: d_step { pev[1] ->
		if :: app(1) -> keep_lvb(1); release(1, pval[1], pvd[1]) :: else -> skip fi;
		pev[1] = false }
	/* the bound passes with the request unanswered: today's fence.  The
	 * pill goes into V's message slot, seq above what is there, naming
	 * V's incarnation.  With -DLIVE V answers in time when sound (the
	 * bound is chosen for that), so the fence runs only for an unsound V. */
	:: d_step { des != 0 && !fop && bound_ok ->
		fop = true;
		mseq++; mkind = MPILL; minc = repinc }
	/* read back: our pill is not in the slot (overwritten): again above */
	:: d_step { fop && !(mkind == MPILL && minc == repinc) ->
		mseq++; mkind = MPILL; minc = repinc }
	/* the verdict: the ack of our pill, or dead with our pill read back */
	:: d_step { fop && (vacked && vinc == repinc ||
		deadv && mkind == MPILL && minc == repinc) ->
		if :: vgrant(0) -> release(0, 0, false) :: else -> skip fi;
		if :: vgrant(1) -> release(1, 0, false) :: else -> skip fi;
		vfenced = true;
		fop = false }
	/* grants: the waiter first, then V (a member, not fenced) */
	:: d_step { owner[0] == 0 && wanted(0) ->
		owner[0] = waiter(0); wholds[0] = true; wused[0] = false;
		wcur[0] = (lvbv[0] -> lvb[0] : dwm[0]);
		wcur[0] = (wcur[0] > dwm[0] -> wcur[0] : dwm[0]) }
	:: d_step { owner[1] == 0 && wanted(1) ->
		owner[1] = waiter(1); wholds[1] = true; wused[1] = false;
		wcur[1] = (lvbv[1] -> lvb[1] : dwm[1]);
		wcur[1] = (wcur[1] > dwm[1] -> wcur[1] : dwm[1]) }
	:: d_step { vmember && vup && !vfenced && !obeying &&
		(owner[0] == 0 && !wanted(0) && vreq[0] || owner[1] == 0 && !wanted(1) && vreq[1]) ->
		if
		:: owner[0] == 0 && !wanted(0) && vreq[0] -> r = 0
		:: owner[1] == 0 && !wanted(1) && vreq[1] -> r = 1
		fi;
		owner[r] = V; oinc[r] = vinc; olk[r] = vrlk[r];
		lres[G(vinc, vrlk[r])] = r;
		vreq[r] = false; vs[r] = HELD; vlk[r] = vrlk[r];
		vcur[r] = (lvbv[r] -> lvb[r] : dwm[r]);
		vcur[r] = (vcur[r] > dwm[r] -> vcur[r] : dwm[r]);
#ifdef BAD_GONE_LVB
		fin[G(vinc, vrlk[r])] = vcur[r];	/* the value block it was granted */
#endif
		r = 0 }
	/* a waiter asks (twice at most), takes its request back, uses the
	 * lock (the UID record is written before the UID leaves: its own
	 * writes are sdlm.pml's business), releases it */
	:: d_step { !wwant[0] && wants[0] < 2 -> wwant[0] = true; wants[0]++ }
	:: d_step { !wwant[1] && wants[1] < 2 -> wwant[1] = true; wants[1]++ }
	:: d_step { wanted(0) && cancels < CANCELS -> cancels++; wwant[0] = false }
	:: d_step { wanted(1) && cancels < CANCELS -> cancels++; wwant[1] = false }
	:: d_step { wholds[0] && wcur[0] + 1 < UMAX ->
		assert(users(0) == 1);			/* S1 */
		assert((issued[0] & (1 << wcur[0])) == 0);	/* S2 */
		issued[0] = issued[0] | (1 << wcur[0]);
		wcur[0]++;
		dwm[0] = (wcur[0] > dwm[0] -> wcur[0] : dwm[0]);
		wused[0] = true }
	:: d_step { wholds[1] && wcur[1] + 1 < UMAX ->
		assert(users(1) == 1);
		assert((issued[1] & (1 << wcur[1])) == 0);
		issued[1] = issued[1] | (1 << wcur[1]);
		wcur[1]++;
		dwm[1] = (wcur[1] > dwm[1] -> wcur[1] : dwm[1]);
		wused[1] = true }
	:: d_step { wholds[0] && (wused[0] || wcur[0] + 1 >= UMAX) ->
		release(0, wcur[0], true); wholds[0] = false; wwant[0] = false }
	:: d_step { wholds[1] && (wused[1] || wcur[1] + 1 >= UMAX) ->
		release(1, wcur[1], true); wholds[1] = false; wwant[1] = false }
	od
}

/* Faults and time. */
proctype env()
{
end:	do
	/* V leaves the membership (cut off) or rejoins it (mid-exchange
	 * included).  A rejoining V: a new incarnation is recorded; the same
	 * one reconciles its cache with the replica: a grant whose answer it
	 * submitted is not re-asserted (its release goes out in the stream,
	 * with the final value block), one it was only stopping is kept, one
	 * the replica no longer shows is dropped. */
	:: d_step { !healed && cuts < CUTS && vmember -> cuts++; vmember = false }
	:: d_step { !healed && cuts < CUTS && !vmember && vup && !vfrozen && !vselffenced &&
		!vstopping && !(vfenced && repinc == vinc) ->
		cuts++;
		vmember = true;
		if
		:: repinc != vinc -> repinc = vinc; vfenced = false
		:: else -> skip
		fi;
		/* a release lost in the cut: sent again, with the value block
		 * the cache kept, if the replica still shows the grant V's
		 * (lsreconcile.c: RELEASING, granted); otherwise it was
		 * released meanwhile (the gone answer, a fence): forgotten.
		 * Gone entries not answered yet leave the table (V4). */
		if
		:: vlost[0] != 0 && vgrant(0) && olk[0] == vlost[0] -> release(0, vcur[0], true)
		:: else -> skip
		fi;
		if
		:: vlost[1] != 0 && vgrant(1) && olk[1] == vlost[1] -> release(1, vcur[1], true)
		:: else -> skip
		fi;
		vlost[0] = 0; vlost[1] = 0; vgf = 0;
		if :: vs[0] == CONV || vs[0] == DCONV -> vs[0] = HELD :: else -> skip fi;
		if :: vs[1] == CONV || vs[1] == DCONV -> vs[1] = HELD :: else -> skip fi;
		if
		:: vs[0] == GONE && vgrant(0) && olk[0] == vlk[0] ->
#ifdef BAD_REJOIN_KEEPS
			vs[0] = HELD
#else
			release(0, fin[G(vinc, vlk[0])], true); vs[0] = NONE
#endif
		:: vs[0] == STOP || vs[0] == DRAINED -> vs[0] = HELD
		:: else -> skip
		fi;
		if
		:: vs[1] == GONE && vgrant(1) && olk[1] == vlk[1] ->
#ifdef BAD_REJOIN_KEEPS
			vs[1] = HELD
#else
			release(1, fin[G(vinc, vlk[1])], true); vs[1] = NONE
#endif
		:: vs[1] == STOP || vs[1] == DRAINED -> vs[1] = HELD
		:: else -> skip
		fi;
		if
		:: vs[0] != NONE && !(vgrant(0) && olk[0] == vlk[0]) -> vs[0] = NONE
		:: else -> skip
		fi;
		if
		:: vs[1] != NONE && !(vgrant(1) && olk[1] == vlk[1]) -> vs[1] = NONE
		:: else -> skip
		fi }
	/* a write in flight lands late (after newer ones), possibly after
	 * its writer lost its role or its incarnation */
	:: d_step { afly -> afly = false; and_inc = afinc; and_mask = afmask }
	:: d_step { rqfly[1] -> rqfly[1] = false; rqd[1] = rqf[1] }
	:: d_step { rqfly[2] -> rqfly[2] = false; rqd[2] = rqf[2] }
	:: d_step { mfly -> mfly = false; mseq = mfseq; mkind = MREQ; mmask = mfmask; minc = mfinc }
	/* the record write of a node that may not use the lock lands */
	:: d_step { vio[0] && (vfrozen || !vup) -> vland(0) }
	:: d_step { vio[1] && (vfrozen || !vup) -> vland(1) }
	/* the fencer changes hands (node 1 crashed or was cut off) */
	:: d_step { !healed && fencer == 1 -> fencer = 2 }
	/* V paused (VM pause, watchdog included) and resumed */
	:: d_step { !vfrozen && vup && freezes < FREEZES -> freezes++; vfrozen = true; vmember = false }
	:: d_step { vfrozen -> vfrozen = false }
	/* time: the lease of an away or paused V runs out; D passes */
#ifndef LIVE
	:: d_step { vlease && (!vmember || vfrozen) -> vlease = false }
#endif
#ifdef LIVE
	/* from here on no membership change, no hand-over: V stays away or
	 * a member for good (weak fairness would otherwise force a rejoin) */
	:: d_step { !healed -> healed = true }
#endif
	:: d_step { !deadv && !vlease && !vmember && (vfrozen || !vup || vselffenced) -> deadv = true }
	od
}

init {
	atomic {
		fencer = 1;
		mseq = 1; handled = 1;	/* a previous life's message: baseline */
		if
		:: /* V (incarnation 1) holds R (lkid 1) and Q (lkid 2), used
		    * (UID 1 handed out of each), and has just been cut off;
		    * node 2 waits for R */
		   vup = true; vlease = true; vinc = 1; repinc = 1; vctr = 2;
		   and_inc = 1;
		   owner[0] = V; oinc[0] = 1; olk[0] = 1; lres[0] = 0;
		   owner[1] = V; oinc[1] = 1; olk[1] = 2; lres[1] = 1;
		   vs[0] = HELD; vlk[0] = 1; vcur[0] = 2; dwm[0] = 2; issued[0] = 2;
		   vs[1] = HELD; vlk[1] = 2; vcur[1] = 2; dwm[1] = 2; issued[1] = 2;
		   wwant[0] = true; wants[0] = 1
#ifdef BAD_GONE_LVB
		   ; fin[0] = 1; fin[1] = 1	/* granted with UID 1 next */
#endif
#ifndef LIVE
		:: /* V's incarnation 1 answered for R (lkid 1, value block 2)
		    * and was fenced (a pill, then its reset) before that answer
		    * landed: the write is still in the fabric.  V restarted as
		    * incarnation 2, rejoined; nobody holds anything. */
		   vup = true; vlease = true; vinc = 2; repinc = 2;
		   vmember = true; restarts = RESTARTS;
		   and_inc = 2; mseq = 2; handled = 2; mkind = MPILL; minc = 1;
		   afly = true; afinc = 1; afmask = GB(1, 1); fin[G(1, 1)] = 2;
		   lres[G(1, 1)] = 0; lres[G(1, 2)] = 1; flies = 1;
		   dwm[0] = 2; issued[0] = 2; dwm[1] = 2; issued[1] = 2;
		   lvbv[0] = false; lvbv[1] = false
		:: /* rejoin mid-exchange: V (incarnation 1, away) read the
		    * request for R, stopped it and submitted its answer (not
		    * landed yet); it still holds Q */
		   vup = true; vlease = true; vinc = 1; repinc = 1; vctr = 2;
		   and_inc = 1; rqd[1] = GB(1, 1);
		   owner[0] = V; oinc[0] = 1; olk[0] = 1; lres[0] = 0;
		   owner[1] = V; oinc[1] = 1; olk[1] = 2; lres[1] = 1;
		   vs[0] = GONE; vlk[0] = 1; vcur[0] = 2; dwm[0] = 2; issued[0] = 2;
		   vans = GB(1, 1); fin[0] = 2; aw = true;
		   vs[1] = HELD; vlk[1] = 2; vcur[1] = 2; dwm[1] = 2; issued[1] = 2;
		   wwant[0] = true; wants[0] = 1
		:: /* replay: V's answer for R (incarnation 1, lkid 1) was accepted,
		    * R went to node 2 and back (node 2 released it with the
		    * value block 2, valid): V, a member again, holds R under
		    * lkid 3 and handed out UID 2 under it; the old answer is
		    * still in its heartbeat slot */
		   vup = true; vlease = true; vinc = 1; repinc = 1; vctr = 3;
		   vmember = true; cuts = 1;
		   and_inc = 1; and_mask = GB(1, 1); vans = GB(1, 1); fin[0] = 2;
		   owner[0] = V; oinc[0] = 1; olk[0] = 3; lres[0] = 0; lres[2] = 0;
		   owner[1] = V; oinc[1] = 1; olk[1] = 2; lres[1] = 1;
		   vs[0] = HELD; vlk[0] = 3; vcur[0] = 3; dwm[0] = 3; issued[0] = 6;
		   vs[1] = HELD; vlk[1] = 2; vcur[1] = 2; dwm[1] = 2; issued[1] = 2;
		   lvb[0] = 2; lvbv[0] = true;
		   wants[0] = 1
#endif
		fi;
		run vnode(); run quorate(); run env()
	}
}

#ifdef LIVE
ltl live { [] (wanted(0) -> <> (wholds[0] || !wwant[0])) }
#endif
