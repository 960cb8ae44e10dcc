/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fastpath.pml - a bounded Promela model of the proposed fast path of
 * docs/design-fastpath.md (issue 17, item 3): one resource (an EX lock)
 * with a master per epoch, point-to-point messages over a network that
 * loses, duplicates and reorders them, the partition window of an old
 * master, and the fencing of docs/model/sdlm.pml (pills, acks, leases,
 * the fencer's ordered NODE_FENCED).  docs/model.md "The fast-path
 * model" maps its steps to the design and says what is abstracted.
 *
 *   requester k              master M of epoch e             network
 *   -----------              -------------------             -------
 *   P_REQUEST(k, e, rid) ------------------------------------> bag
 *                            applies rid > last applied (dedup);
 *                            a duplicate of the granted rid is
 *                            answered again
 *                            grants the first eligible waiter
 *   <-------------------------------- P_GRANT(k, e, rid)      bag
 *   accepts only in epoch e, not in a round, for its own
 *   outstanding rid; uses the lock while its lease is valid
 *   and it read no pill
 *   users stopped, then P_RELEASE(k, e, rid) ----------------> bag
 *
 * Epochs: the completion of a round of the quorate membership (ordered
 * in the CPG stream) opens epoch E+1; its master is the first member in
 * a fixed preference order (rendezvous hashing of the one resource) and
 * rebuilds the resource from the members' reports (carried by their
 * JOINs: the lock each holds and the request each waits for) and, if the
 * old master is a member and its lineage was not lost, from the old
 * master's entries for non-members.  Otherwise the resource is blocked
 * until every non-member is fenced (design 3.4).  A node that processed
 * the configuration change that starts a round sends, accepts and
 * grants nothing until the round completes; a node that has not yet
 * processed it (cut off or paused: the partition window) still acts in
 * its old epoch, as master too.
 *
 * Safety (checked after every step that can change it, check()):
 *   S1  at most one node USES the EX lock (holds it, lease valid, no pill
 *       read, not self-fenced, not frozen);
 *   EP  a node uses only a grant of its own epoch (the last epoch it
 *       joined; a grant it held across a round is re-tagged by the
 *       rebuild, which had it in the holder's report);
 *   RB  a rebuild finds at most one holder.
 * Liveness (-DLIVE, ltl "live", weak fairness): once the environment
 * healed every fault (network whole, no loss, nothing frozen, two sound
 * nodes), a grant is accepted.
 *
 * Known-bad variants (each must make spin find a violation;
 * tests/model/t-spin-fastpath.sh):
 *   BAD_NO_EPOCH_CHECK   a node accepts a P_GRANT of an epoch other
 *                        than its own (the old master's, in the window)
 *   BAD_REMASTER_NOFENCE a new master grants a resource whose old master
 *                        is away before the away nodes are fenced
 *   BAD_RELEASE_EARLY    a holder sends P_RELEASE before its users stopped
 *   BAD_DUP_APPLY        the master applies a retransmitted P_REQUEST
 *                        again, and a requester accepts a P_GRANT that
 *                        does not answer its outstanding request id
 *   BAD_STALE_ELIGIBLE   the master's view of who is gone is not the
 *                        fencer's ordered NODE_FENCED: it drops an away
 *                        holder's lock (and lifts the remaster block) on
 *                        that node's NODE_STATUS "dead" (heartbeat still
 *                        for D), without the fence, so without its pill
 *   BAD_REBUILD_NOOLD    the rebuild takes the members' reports only: the
 *                        old master, a member, does not report its entries
 *                        for non-members (an away holder's grant is lost)
 *   BAD_ROUND_ACCEPT     a node accepts a grant of its epoch while a round
 *                        is in progress (after its JOIN reported it not
 *                        holding): design-fastpath.md before the model
 */

#define N	3

#ifndef NET
#define NET	3	/* messages in flight in the whole network */
#endif
#ifndef GMAX
#define GMAX	3	/* grants per run, all masters */
#endif
#ifndef RMAX
#define RMAX	2	/* requests per node per run */
#endif
#ifndef CUTS
#define CUTS	2	/* side changes: one partition and its heal */
#endif
#ifndef FREEZES
#ifdef LIVE
#define FREEZES	0
#else
#define FREEZES	1
#endif
#endif

#define REQ	1
#define GRANT	2
#define REL	3
/* a message: type | node << 2 | to << 4 | rid << 6 | epoch << 8 */
#define MSG(t, k, to, r, e)	((t) + ((k) << 2) + ((to) << 4) + ((r) << 6) + ((e) << 8))
#define M_T(m)	((m) & 3)
#define M_K(m)	(((m) >> 2) & 3)
#define M_TO(m)	(((m) >> 4) & 3)
#define M_R(m)	(((m) >> 6) & 3)
#define M_E(m)	((m) >> 8)

/* ---- environment ---- */
bool up[N + 1];
bool frozen[N + 1];
bit side[N + 1];
byte cuts, freezes;
bool healed;
byte cfg;		/* ring: changes of the quorate membership */
bool lost;		/* quorum was lost everywhere since the last epoch */

/* ---- the ordered stream of the quorate partition ---- */
byte E;			/* current epoch (rounds completed) */
byte ecfg;		/* cfg at the last round completion */
byte mset;		/* members of epoch E */
byte fen;		/* bit n: NODE_FENCED applied, not rejoined since */
byte op;		/* victim of the fence in flight */
byte grants;

/* ---- network: a bag (loss, duplication, reordering) ---- */
short net[NET];

/* ---- fencing area ---- */
bool pill[N + 1];
bool ack[N + 1];
bool deadv[N + 1];

/* ---- per node ---- */
byte vcfg[N + 1];	/* the cfg it processed */
byte vmask[N + 1];	/* members of its epoch; 0: not in a quorate view */
byte ep[N + 1];		/* the last epoch it joined */
bool rnd[N + 1];	/* JOIN sent, round not complete: fast path stopped */
bool lease[N + 1];
bool lease_had[N + 1];
bool obeying[N + 1];
bool selffenced[N + 1];
bool wants[N + 1];	/* a request outstanding */
byte rid[N + 1];	/* id of its latest request */
byte hold[N + 1];	/* 0 none, 1 held (users on), 2 P_RELEASE sent, users on */
byte hep[N + 1];	/* epoch of the grant it holds */
bool relpend[N + 1];	/* P_RELEASE not yet acknowledged */
bool rack[N + 1];	/* its request acknowledged (P_ACK): no more retransmission */
byte rpt[N + 1];	/* its report in its last JOIN: 0 nothing, 1 waits, 2 holds */
/* the master state node n keeps for the resource (valid for epoch mst[n]) */
byte mst[N + 1];	/* epoch, 0 none */
byte mown[N + 1];	/* holder, 0 none */
byte mwait[N + 1];	/* bit k: k waits */
byte mmem[N + 1];	/* members of that epoch (eligibility) */
bool gack[N + 1];	/* the grant to mown acknowledged (P_ACK) */
bool mblk[N + 1];	/* remastered without the old master: no grant until
			 * every non-member is fenced */
byte mrid[9];		/* [MR(M, k)]: last request id of k applied by M */
bool progressed;

#define RB(n)		(1 << (n))
#define MR(M, k)	(((M) - 1) * 3 + (k) - 1)
#define member(n)	(up[n] && !frozen[n] && \
			 ((side[n] == side[1] && up[1] && !frozen[1]) + \
			  (side[n] == side[2] && up[2] && !frozen[2]) + \
			  (side[n] == side[3] && up[3] && !frozen[3]) >= 2))
#define quorum_exists	(member(1) || member(2) || member(3))
#define MASK		((member(1) -> 2 : 0) + (member(2) -> 4 : 0) + (member(3) -> 8 : 0))
#define TOP(m)		(((m) & 8) -> 3 : (((m) & 4) -> 2 : 1))	/* master of a membership */
#define settled		(quorum_exists && ecfg == cfg)
#define joined(n)	(!member(n) || (vcfg[n] == cfg && rnd[n]))
/* the fast path runs on node n: in a quorate view (maybe an old one: the
 * window), not in a round */
#define active(n)	(up[n] && !frozen[n] && vmask[n] != 0 && !rnd[n] && !selffenced[n] && \
			 (!healed || vcfg[n] == cfg))
/* (after the heal, a daemon processes a pending configuration change
 * before its next fast-path step: spin's weak fairness is per process, and
 * a node could otherwise retransmit to a master in a round forever) */
#define may_use(n)	(hold[n] != 0 && lease[n] && !obeying[n] && \
			 !selffenced[n] && up[n] && !frozen[n])
#define users		(may_use(1) + may_use(2) + may_use(3))
#define epok(n)		(!may_use(n) || hep[n] == ep[n])
/* node M masters its epoch and may decide */
#define mactive(M)	(active(M) && mst[M] == ep[M] && mst[M] != 0)
#define sound(n)	(up[n] && lease[n] && !selffenced[n] && !obeying[n])
#define NONMEM		(14 & ~mset)
#ifdef BAD_STALE_ELIGIBLE
#define GONE(v)		((fen & RB(v)) || deadv[v])	/* NODE_STATUS dead */
#define ALLGONE		((NONMEM & ~fen & ~((deadv[1] -> 2 : 0) + (deadv[2] -> 4 : 0) + (deadv[3] -> 8 : 0))) == 0)
#else
#define GONE(v)		(fen & RB(v))			/* ordered NODE_FENCED */
#define ALLGONE		((NONMEM & ~fen) == 0)
#endif
/* eligible in master M's view: a member of its epoch, not fenced */
#define elig(M, k)	((mwait[M] & RB(k)) && (mmem[M] & RB(k)) && !(fen & RB(k)))
#define expire_ok(n)	(!healed && lease[n] && (!member(n) || frozen[n]))
#define dead_ok(n)	(!deadv[n] && !lease[n] && !member(n) && \
			 (!up[n] || selffenced[n] || frozen[n]))
#define PICK(v, ok)	if :: ok(1) -> v = 1 :: ok(2) -> v = 2 :: ok(3) -> v = 3 fi

inline check()
{
	assert(users <= 1);				/* S1 */
	assert(epok(1) && epok(2) && epok(3))		/* EP */
}

#if NET > 3
#define INBAG(m)	(net[0] == (m) || net[1] == (m) || net[2] == (m) || net[3] == (m))
#elif NET > 2
#define INBAG(m)	(net[0] == (m) || net[1] == (m) || net[2] == (m))
#else
#define INBAG(m)	(net[0] == (m) || net[1] == (m))
#endif
#define REQM(n)	MSG(REQ, n, TOP(vmask[n]), rid[n], ep[n])
#define GRANTM(M)	MSG(GRANT, mown[M], mown[M], mrid[MR(M, mown[M])], mst[M])
#define RELM(n)	MSG(REL, n, TOP(vmask[n]), rid[n], hep[n])

/* put a message in the first free slot; a full network loses it; an
 * identical copy already in flight makes it a duplicate (the bag can
 * deliver that copy any number of times) */
inline send(m)
{
	if
	:: net[0] == m -> skip
	:: net[1] == m -> skip
#if NET > 2
	:: net[2] == m -> skip
#endif
#if NET > 3
	:: net[3] == m -> skip
#endif
	:: else ->
		if
		:: net[0] == 0 -> net[0] = m
		:: else -> if
			:: net[1] == 0 -> net[1] = m
#if NET > 2
			:: else -> if
				:: net[2] == 0 -> net[2] = m
#if NET > 3
				:: else -> if
					:: net[3] == 0 -> net[3] = m
					:: else -> skip
					fi
#else
				:: else -> skip
#endif
				fi
#else
			:: else -> skip
#endif
			fi
		fi
	fi
}

/* a message is delivered to its destination (which must be running) */
#define deliv_ok(m)	((m) != 0 && up[M_TO(m)] && !frozen[M_TO(m)])

#define GACK(M)	if :: mst[M] == e && mown[M] == k && mrid[MR(M, k)] == r -> gack[M] = true \
		   :: else -> skip fi

/* the destination handles message m (atomic with the delivery) */
inline handle(m)
{
	k = M_K(m); to = M_TO(m); r = M_R(m); e = M_E(m);
	if
	:: M_T(m) == REQ && mactive(to) && mst[to] == e ->
		if :: r == rid[k] -> rack[k] = true :: else -> skip fi;
		if
		:: mown[to] == k && mrid[MR(to, k)] == r ->
			send(MSG(GRANT, k, k, r, e))	/* answered again */
#ifdef BAD_DUP_APPLY
		:: !(mown[to] == k && mrid[MR(to, k)] == r) && mown[to] != k ->
#else
		:: r > mrid[MR(to, k)] && mown[to] != k ->
#endif
			mwait[to] = mwait[to] | RB(k);
			mrid[MR(to, k)] = r
		:: else -> skip		/* an old duplicate */
		fi
	:: M_T(m) == REL && mactive(to) && mst[to] == e ->
		if
		:: mown[to] == k && mrid[MR(to, k)] == r -> mown[to] = 0
		:: else -> skip
		fi;
		if :: r == rid[k] -> relpend[k] = false :: else -> skip fi	/* P_ACK */
	:: M_T(m) == GRANT && hold[k] == 0 && wants[k] &&
#ifdef BAD_ROUND_ACCEPT
		up[k] && !frozen[k] && vmask[k] != 0 && !selffenced[k] &&
#else
		active(k) &&
#endif
#ifndef BAD_NO_EPOCH_CHECK
		e == ep[k] &&
#endif
#ifndef BAD_DUP_APPLY
		r == rid[k] &&
#endif
		true ->
		hold[k] = 1;
		hep[k] = e;
		wants[k] = false;
		progressed = healed
	:: else -> skip		/* refused: another epoch, a stale id, not
				 * the master any more, in a round */
	fi;
	if	/* a grant delivered is acknowledged, taken or refused */
	:: M_T(m) == GRANT -> GACK(1); GACK(2); GACK(3)
	:: else -> skip
	fi;
	k = 0; to = 0; r = 0; e = 0
}

/* The daemon of node n. */
proctype node(byte n)
{
	byte k;
end:	do
	/* the configuration change, as the daemon processes it: a member
	 * sends its JOIN (its report: the lock it holds, the request it waits
	 * for) and stops the fast path until the round completes; a node left
	 * out, or without quorum, stops at once (its masters too); cached
	 * locks stay in use under the lease */
	:: d_step { up[n] && !frozen[n] && vcfg[n] != cfg ->
		vcfg[n] = cfg;
		if
		:: member(n) -> rnd[n] = true;
			rpt[n] = (hold[n] != 0 -> 2 : (wants[n] -> 1 : 0))
		:: else -> rnd[n] = false; vmask[n] = 0; mst[n] = 0
		fi }
	/* a client asks for the lock: P_REQUEST to the master of its epoch */
	:: d_step { active(n) && !wants[n] && hold[n] == 0 && !relpend[n] &&
		!obeying[n] && rid[n] < RMAX ->
		wants[n] = true;
		rid[n]++;
		rack[n] = false;
		send(REQM(n)) }
	/* retransmission: send again (nothing of this request in flight) */
	:: d_step { active(n) && wants[n] && hold[n] == 0 && !rack[n] &&
		!INBAG(REQM(n)) && !INBAG(MSG(GRANT, n, n, rid[n], ep[n])) ->
		send(REQM(n)) }
	/* release: users stopped first, then P_RELEASE */
	:: d_step { active(n) && hold[n] == 1 ->
#ifdef BAD_RELEASE_EARLY
		hold[n] = 2;		/* users still on */
#else
		hold[n] = 0;
#endif
		relpend[n] = true;
		send(RELM(n)) }
#ifdef BAD_RELEASE_EARLY
	:: d_step { up[n] && !frozen[n] && hold[n] == 2 -> hold[n] = 0 }
#endif
	:: d_step { active(n) && relpend[n] && hold[n] == 0 && !INBAG(RELM(n)) ->
		send(RELM(n)) }
	/* the master grants the first eligible waiter, if nothing blocks */
	:: d_step { mactive(n) && mown[n] == 0 && !mblk[n] && (grants < GMAX || healed) &&
		(elig(n, 1) || elig(n, 2) || elig(n, 3)) ->
		if
		:: elig(n, 1) -> k = 1
		:: !elig(n, 1) && elig(n, 2) -> k = 2
		:: !elig(n, 1) && !elig(n, 2) -> k = 3
		fi;
		mwait[n] = mwait[n] & ~RB(k);
		mown[n] = k;
		gack[n] = false;
		grants++;
		send(GRANTM(n));
		k = 0 }
	/* retransmission of a grant not acknowledged */
	:: d_step { mactive(n) && mown[n] != 0 && !gack[n] && !INBAG(GRANTM(n)) ->
		send(GRANTM(n)) }
	/* heartbeat cycle: read the area (a pill? obey), renew the lease */
	:: d_step { up[n] && !frozen[n] && !selffenced[n] && !lease[n] ->
		if
		:: pill[n] -> obeying[n] = true
		:: else -> skip
		fi;
		lease[n] = true;
		lease_had[n] = true;
		deadv[n] = false;
		check() }
	/* obey: users stopped, ack, stop feeding */
	:: d_step { up[n] && !frozen[n] && obeying[n] && !ack[n] ->
		ack[n] = true;
		selffenced[n] = true;
		deadv[n] = false }
	/* self_decide: lease expired and not quorate */
	:: d_step { up[n] && !frozen[n] && !selffenced[n] && lease_had[n] &&
		!lease[n] && vmask[n] == 0 -> selffenced[n] = true }
	/* the watchdog resets a node that stopped feeding (it stays down) */
	:: d_step { up[n] && !frozen[n] && selffenced[n] && !(obeying[n] && !ack[n]) ->
		up[n] = false; lease[n] = false; vmask[n] = 0; rnd[n] = false;
		mst[n] = 0; hold[n] = 0; wants[n] = false; relpend[n] = false }
	od
}

/* The network delivers, duplicates (delivers and keeps), loses. */
proctype network()
{
	byte k, to, r, e;
	short m;
end:	do
	:: d_step { deliv_ok(net[0]) -> m = net[0]; net[0] = 0; handle(m); m = 0; check() }
	:: d_step { deliv_ok(net[1]) -> m = net[1]; net[1] = 0; handle(m); m = 0; check() }
#if NET > 2
	:: d_step { deliv_ok(net[2]) -> m = net[2]; net[2] = 0; handle(m); m = 0; check() }
#endif
#if NET > 3
	:: d_step { deliv_ok(net[3]) -> m = net[3]; net[3] = 0; handle(m); m = 0; check() }
#endif
	:: d_step { !healed && deliv_ok(net[0]) -> m = net[0]; handle(m); m = 0; check() }
	:: d_step { !healed && deliv_ok(net[1]) -> m = net[1]; handle(m); m = 0; check() }
#if NET > 2
	:: d_step { !healed && deliv_ok(net[2]) -> m = net[2]; handle(m); m = 0; check() }
#endif
#if NET > 3
	:: d_step { !healed && deliv_ok(net[3]) -> m = net[3]; handle(m); m = 0; check() }
#endif
	:: d_step { !healed && net[0] != 0 -> net[0] = 0 }
	:: d_step { !healed && net[1] != 0 -> net[1] = 0 }
#if NET > 2
	:: d_step { !healed && net[2] != 0 -> net[2] = 0 }
#endif
#if NET > 3
	:: d_step { !healed && net[3] != 0 -> net[3] = 0 }
#endif
	od
}

/*
 * Round completion (the last JOIN delivered, ordered): epoch E+1 opens.
 * The new master rebuilds the resource: members' own reports for
 * members; for non-members the old master's entries, if it is a member
 * and its lineage was not lost; otherwise the resource is blocked until
 * every non-member is fenced.
 */
inline rebuild_member(m)
{
	if
	:: mset & RB(m) ->
		if
		:: fen & RB(m) ->
			selffenced[m] = true	/* a fenced incarnation is refused */
		:: else ->
			if
			:: rpt[m] == 2 ->
				assert(nown == 0 || nown == m);	/* RB */
				nown = m; hep[m] = E
			:: else -> skip
			fi;
			if
			:: rpt[m] == 1 -> nwait = nwait | RB(m); rack[m] = true
			:: else -> skip
			fi;
			mrid[MR(M, m)] = rid[m];
			relpend[m] = false
		fi;
		ep[m] = E; vmask[m] = mset; rnd[m] = false
	:: else -> skip
	fi
}

inline round_complete()
{
	OM = TOP(mset);
	keep = (!lost && (MASK & RB(OM)) && mst[OM] == E && E != 0);
	E++;
	ecfg = cfg;
	mset = MASK;
	M = TOP(mset);
	nown = 0; nwait = 0;
	if
#ifdef BAD_REBUILD_NOOLD
	:: false ->
#else
	:: keep && mown[OM] != 0 && !(mset & RB(mown[OM])) ->
#endif
		nown = mown[OM];
		nr = mrid[MR(OM, nown)]
	:: else -> nr = 0
	fi;
	nblk = (!keep || mblk[OM]);
#ifdef BAD_REMASTER_NOFENCE
	nblk = false;
#endif
	/* fenced members are refused; members rejoining are not fenced */
	rebuild_member(1); rebuild_member(2); rebuild_member(3);
	if :: !(nown != 0 && !(mset & RB(nown))) -> skip
	   :: else -> mrid[MR(M, nown)] = nr
	fi;
	if :: mset & 2 -> mst[1] = 0 :: else -> skip fi;	/* a window master */
	if :: mset & 4 -> mst[2] = 0 :: else -> skip fi;	/* keeps its state */
	if :: mset & 8 -> mst[3] = 0 :: else -> skip fi;
	mst[M] = E; mmem[M] = mset; mown[M] = nown; mwait[M] = nwait;
	gack[M] = true;		/* a holder in the reports knows it holds */
	mblk[M] = nblk && !ALLGONE;
	lost = false;
	OM = 0; M = 0; nown = 0; nwait = 0; nr = 0; keep = false; nblk = false
}

/* The ordered stream: rounds, and the lockspace fencer. */
proctype fencer()
{
	byte M, OM, nown, nwait, nr, v;
	bool keep, nblk;
end:	do
	:: d_step { quorum_exists && ecfg != cfg &&
		joined(1) && joined(2) && joined(3) -> round_complete(); check() }
	/* fence on demand: an away holder of a wanted lock, or, while the
	 * resource is blocked, every away node */
	:: d_step { settled && op == 0 && mst[TOP(mset)] == E &&
		((mown[TOP(mset)] != 0 && !(mset & RB(mown[TOP(mset)])) &&
		  !(fen & RB(mown[TOP(mset)])) && mwait[TOP(mset)] != 0) ||
		 (mblk[TOP(mset)] && (NONMEM & ~fen) != 0)) ->
		M = TOP(mset);
		if
		:: mown[M] != 0 && !(mset & RB(mown[M])) && !(fen & RB(mown[M])) -> v = mown[M]
		:: else ->
			if
			:: (NONMEM & ~fen) & 2 -> v = 1
			:: else -> if :: (NONMEM & ~fen) & 4 -> v = 2 :: else -> v = 3 fi
			fi
		fi;
		pill[v] = true;		/* always our own pill, dead or not */
		op = v; v = 0; M = 0 }
	/* the verdict: ack of the pill, or dead by timeout (pill written) */
	:: d_step { settled && op != 0 && ((ack[op] && pill[op]) || deadv[op]) ->
		fen = fen | RB(op);
		M = TOP(mset);
		if
		:: mst[M] == E ->
			if :: mown[M] == op -> mown[M] = 0 :: else -> skip fi;
			mwait[M] = mwait[M] & ~RB(op);
			mblk[M] = mblk[M] && !ALLGONE
		:: else -> skip
		fi;
		op = 0; M = 0 }
#ifdef BAD_STALE_ELIGIBLE
	/* the master takes NODE_STATUS "dead" for gone */
	:: d_step { settled && mst[TOP(mset)] == E &&
		((mown[TOP(mset)] != 0 && !(mset & RB(mown[TOP(mset)])) &&
		  GONE(mown[TOP(mset)])) || (mblk[TOP(mset)] && ALLGONE)) ->
		M = TOP(mset);
		if :: mown[M] != 0 && !(mset & RB(mown[M])) && GONE(mown[M]) -> mown[M] = 0
		   :: else -> skip
		fi;
		mblk[M] = mblk[M] && !ALLGONE;
		M = 0 }
#endif
	od
}

/* Faults, time passing, the heal.  One d_step per node and fault, so
 * that a step of the search is one event. */
#define MEMCHG(change)	om = MASK; change; \
			if :: MASK != om -> cfg++ :: else -> skip fi; \
			if :: !quorum_exists -> lost = true :: else -> skip fi; \
			om = 0
#define ENV_NODE(n) \
	:: d_step { expire_ok(n) -> lease[n] = false } \
	:: d_step { dead_ok(n) -> deadv[n] = true } \
	:: d_step { cuts < CUTS && !healed -> cuts++; \
		MEMCHG(side[n] = 1 - side[n]) } \
	:: d_step { freezes < FREEZES && !healed -> freezes++; \
		MEMCHG(frozen[n] = true) } \
	:: d_step { frozen[n] -> MEMCHG(frozen[n] = false); check() }
proctype env()
{
	byte om;
end:	do
	ENV_NODE(1)
	ENV_NODE(2)
	ENV_NODE(3)
#ifdef LIVE
	/* heal: network whole, no more loss, nothing frozen, two sound nodes,
	 * room left in the bounds; leases are renewed in time from now on */
	:: d_step { !healed && !frozen[1] && !frozen[2] && !frozen[3] &&
		(sound(1) + sound(2) + sound(3) >= 2) &&
		((sound(1) && (wants[1] || rid[1] < RMAX)) ||
		 (sound(2) && (wants[2] || rid[2] < RMAX)) ||
		 (sound(3) && (wants[3] || rid[3] < RMAX))) ->
		MEMCHG(side[1] = 0; side[2] = 0; side[3] = 0);
		healed = true }
#endif
	od
}

init {
	atomic {
		/* a whole running cluster in epoch 1, node 3 masters the lock */
		up[1] = true; up[2] = true; up[3] = true;
		lease[1] = true; lease[2] = true; lease[3] = true;
		lease_had[1] = true; lease_had[2] = true; lease_had[3] = true;
		E = 1; mset = 14;
		vmask[1] = 14; vmask[2] = 14; vmask[3] = 14;
		ep[1] = 1; ep[2] = 1; ep[3] = 1;
		mst[3] = 1; mmem[3] = 14;
		if
		:: skip			/* the lock free */
		:: hold[1] = 1;		/* node 1 holds it, granted by node 3 */
		   hep[1] = 1; rid[1] = 1; mown[3] = 1; mrid[MR(3, 1)] = 1;
		   grants = 1
		fi;
		run node(1); run node(2); run node(3);
		run network();
		run fencer();
		run env()
	}
}

#ifdef LIVE
ltl live { [] (healed -> <> progressed) }
#endif
