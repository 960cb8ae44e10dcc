/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sdlm.pml - a bounded Promela model of sdlm's safety protocol: three
 * nodes, one mailbox whose EX lock guards UID allocation, the fencing area
 * (heartbeats, poison pills, acks) and the two-copy UID record.
 * docs/model.md maps every step below to the code and says what is
 * abstracted and why.
 *
 * Timeline of one hand-off, as the model sees it (every step atomic):
 *
 *   fencer (quorate side)            victim V (away, holds EX)   disk
 *   ---------------------            -------------------------   ----
 *   V's lock wanted, V away
 *   pill(V, inc V) -------------------------------------------> msg slot
 *                                    hb cycle: read area, pill
 *                                    for us -> stop all use
 *                                    drained (no write in flight)
 *                                    ack in hb, stop feeding ---> hb slot
 *   ack(seq, inc V) seen  <------------------------------------
 *   NODE_FENCED V: owner := 0, grant the next holder
 *   next holder: read both copies, base := max, write
 *   copy 0 := base+1, then copy 1 := base+2, hand out base+1 ...
 *
 *   dead path instead of the ack: V's heartbeat stood still for D after
 *   it left; by the timing lemma of docs/timeouts.md its lease had
 *   expired and it had stopped feeding (or it is frozen, watchdog
 *   included).  The model takes the lemma as the guard of the
 *   "dead" event (deadv[V]) and checks everything else.
 *
 * Safety (assertions, checked in every reachable state):
 *   S1 at most one node USES the EX lock (may hand out a UID) at a time;
 *   S2 no UID is handed out twice;
 *   S3 the watermark a reader takes is never below a handed-out UID
 *      (so a reader resuming from it never goes backwards over a UID);
 *   S4 no write of a node lands after it acknowledged a pill (the ack
 *      path leaves no late write: what A3 of docs/uid.md relies on).
 * Liveness (-DLIVE, ltl "live"): once the environment has healed every
 * fault, some UID is handed out.
 *
 * I/O contexts: a node's writes go through two aio contexts, the fencing
 * area's (heartbeat writes, hw[]) and the UID service's (record writes,
 * wb[]).  The design acks a pill only when both are idle
 * (aio_inflight_all() in fence/heartbeat.c).
 *
 * Pills carry a seq: pseq[n] is the seq in n's message slot, handled[n]
 * the highest seq n has handled.  A node obeys a pill only when pseq[n] >
 * handled[n]; one already in the slot when it starts (a previous life's
 * "any incarnation" pill) is its baseline, handled and ignored.  The
 * design's fencer always writes its own pill, seq on disk + 1, the dead
 * path included (fence/fencesm.c fence_aim).
 *
 * Variants (each must make spin find a violation; tests/model/t-spin.sh):
 *   BAD_ACK_EARLY   the victim acks the pill before its in-flight write
 *                   completed (design: ack only when drained)
 *   BAD_ACK_UIDCTX  the victim acks when the area's context is idle,
 *                   with a UID write still in flight in the UID
 *                   service's (issue 13, hole 2)
 *   BAD_STALE_PILL  the dead path reuses a pill already in the slot (the
 *                   victim's baseline) instead of writing its own
 *                   (issue 13, hole 3)
 *   BAD_LATEST      readers take the watermark of the copy written last
 *                   instead of the maximum of both copies
 *   BAD_FORGET_TIMEOUT  a live holder treats a reservation write that
 *                   timed out as over (the old uid.c: issue 13, hole 1):
 *                   it writes again while the old write is still in the
 *                   fabric, which then lands after the newer one (the
 *                   design: a timed-out write stays in flight, wb[n],
 *                   until it landed)
 *   CODE_AS_IS      behaviours of the daemon that the model shows unsafe
 *                   (docs/model.md "Findings"), also one at a time:
 *                   AS_IS_NOPILL, the dead path declares a
 *                   victim already dead without first writing a pill;
 *                   AS_IS_REVOKE, a member's cached locks are revoked
 *                   asynchronously when a fresh replica forms;
 *                   AS_IS_COLDDEAD, the cold-start gate counts a non-member
 *                   that is dead by timeout without fencing it (no pill);
 *                   AS_IS_ADOPTOPEN, a stale copy adopted as the only
 *                   replica after the lineage that went on was lost
 *                   everywhere keeps its gate open (finding 6).
 *   BAD_KEEP_REPLICA a node that missed a configuration change (paused
 *                   past its exclusion) rejoins claiming ready and its
 *                   replica is accepted alongside the other one (issue 12)
 *   BAD_LOSER_KEEPS  when two replicas meet, the losing side's cached
 *                   locks are revoked asynchronously and the gate does not
 *                   wait for them
 *   BAD_ROUND_GRANTS replicas grant while a round is incomplete (between
 *                   the configuration change and the last JOIN): the stale
 *                   copy, back in the membership, grants its own node's
 *                   request from its own state before the divergence is
 *                   known (the daemon before "Rounds hold grants",
 *                   dlm/daemon/lsround.c)
 *   REVOKE_FRESH    the fresh-replica path before issue 17 item 6: a
 *                   member's cached locks are revoked (users killed), not
 *                   reported (a design choice, not a bad variant: safe)
 *   BAD_REBUILD_NOFENCE the rebuilt replica's gate opens once the members'
 *                   reports are in, without fencing the non-members
 *                   ("nothing could have been granted while no partition
 *                   was quorate" - but an absent node may still use a lock)
 *   BAD_REBUILD_REVOKING a member whose lock users are being killed (its
 *                   cache forgot their locks, they are not reaped yet)
 *                   reports nothing held and counts as clean at once
 *   BAD_REBUILD_STALE a member that may not use its cached lock (its
 *                   lease lapsed and its slot is unread since, it read a
 *                   pill, it stopped feeding: its lock may have been taken
 *                   away by a lineage it missed) reports it: S5
 *   BAD_REBUILD_CONFLICT as BAD_REBUILD_STALE, and a report that
 *                   conflicts with one applied before is accepted as well
 *                   (its node keeps the lock) instead of refused (the
 *                   node revokes it): S1
 *   AS_IS_FORGET    today's CACHED flag: a member whose lock users are
 *                   being killed (revoke_all forgot their locks at once)
 *                   says nothing is cached, so it is not dirty
 * Without them the model is the design with the fixes of docs/model.md
 * applied, and a fresh replica is rebuilt from the members' reports of the
 * locks they hold (issue 17 item 6, docs/protocol.md "Rebuilding a fresh
 * replica").
 *
 *   S5 (off with BAD_REBUILD_CONFLICT): a report
 *      never conflicts with the replica - the held locks of nodes that
 *      may use them are exactly right, nothing has to be chosen.
 */

#define N	3

#ifdef CODE_AS_IS
#define AS_IS_NOPILL
#define AS_IS_REVOKE
#define AS_IS_COLDDEAD
#define AS_IS_ADOPTOPEN
#define AS_IS_FORGET
#define REVOKE_FRESH
#endif
#ifdef BAD_REBUILD_CONFLICT
#define BAD_REBUILD_STALE
#endif
#ifndef UMAX
#define UMAX	6
#endif	/* UIDs 1..UMAX, bitmask in an int */
#ifndef EMAX
#define EMAX	3
#endif	/* grants (lock epochs) per run */
#ifndef CUTS
#define CUTS	2
#endif	/* membership changes the environment may make */

#ifndef FREEZES
#ifdef LIVE
#define FREEZES	0
#else
#define FREEZES	1	/* pauses per run */
#endif
#endif

/* ---- environment ---- */
bool up[N + 1];		/* daemon running; a reset node stays down */
bool frozen[N + 1];	/* cgroup freezer: node and its watchdog paused */
bit side[N + 1];	/* network partition */
byte cuts, freezes;
bool healed;

/* ---- the replicated state of the quorate partition (the main lineage) ---- */
byte owner;		/* EX holder at cluster level, 0 none */
byte oep;		/* the lock epoch of that grant */
byte epoch;		/* grants so far (bounds the run; hep values) */
bool gate;		/* cold-start gate open */
bool fresh_needed;	/* every replica dropped: next quorum starts cold */
bool fenced[N + 1];	/* NODE_FENCED applied, not rejoined since */
byte op;		/* victim of the fence in flight, 0 none */
byte dirty;		/* bit n: member still using locks the replica does not know */
/* its history, carried in every ready member's round JOIN */
bool hopen;		/* DECIDED: its gate ever opened (it could have
			 * granted) or it fenced a node */
byte hform;		/* ring of the round that formed it fresh */
byte hgen;		/* rounds it completed */
byte ring;		/* rounds completed by any quorate partition (ring id) */
byte mset;		/* bit n: member at the main lineage's last round */
bool rbld;		/* a fresh replica that takes the members' reports of
			 * the locks they hold (until its gate opens) */

/* ---- the stale copy a paused node kept (one pause per run: at most one) ---- */
byte sn;		/* node holding it, 0 none */
byte s_owner, s_oep, s_dirty, s_form, s_gen;
bool s_gate, s_open, s_rbld;
bool s_fenced[N + 1];

/* ---- fencing area ---- */
bool pill[N + 1];	/* the fence op's RESET pill is in the node's slot */
byte pseq[N + 1];	/* seq of the pill in the node's message slot */
byte handled[N + 1];	/* highest seq the node has handled (baseline) */
bool ack[N + 1];	/* the node's heartbeat carries the pill's ack */
bool deadv[N + 1];	/* still for D (lemma of docs/timeouts.md holds) */

/* ---- per node ---- */
bool qview[N + 1];	/* the node's own view: in a quorate membership */
bool lease[N + 1];	/* own lease valid */
bool lease_had[N + 1];
bool obeying[N + 1];	/* read a pill for its incarnation: stop all use */
bool selffenced[N + 1];	/* stopped feeding (sticky) */
bool wants[N + 1];
bool holds[N + 1];	/* node-level belief: holds EX (its user may use it) */
bool rvk[N + 1];	/* revoking: the users are killed, not reaped yet; the
			 * node's cache forgot the lock (nl_stop_all) */
byte hep[N + 1];	/* epoch of that grant */
byte rep[N + 1];	/* its replica: 0 none (waiting), 1 the main lineage, 2 the stale copy */
bool sync[N + 1];	/* received the state: reconcile its cached locks */
byte phase[N + 1];	/* 0 idle, 1 takeover copy 0, 2 copy 1, 3 ready */
byte cw0[N + 1], cw1[N + 1];	/* copies as its completed writes left them */
byte nextu[N + 1];
bool did[N + 1];	/* handed out a UID in this tenure */
/* one heartbeat write in flight per node (the area's aio context) */
bool hw[N + 1];
/* one UID-record write in flight per node (the UID service's context) */
bool wb[N + 1];
bool wlanded[N + 1];
bit wc[N + 1];
byte wv[N + 1];

#ifdef BAD_FORGET_TIMEOUT
/* a timed-out write the holder forgot, per copy (0: none), still to land */
byte gv0[N + 1], gv1[N + 1];
#define ghost_ok(n)	(gv0[n] > 0 || gv1[n] > 0)
#endif

/* ---- UID record on disk, and what was handed out ---- */
byte dw[2];
bit last;		/* copy written last */
bool lpend;		/* a late write landed, its copy not rewritten yet */
bit lcopy;
int issued;		/* bit u: UID u handed out */
byte maxu;
bool progressed;	/* a UID handed out after the heal */

#define member(n)	(up[n] && !frozen[n] && \
			 ((side[n] == side[1] && up[1] && !frozen[1]) + \
			  (side[n] == side[2] && up[2] && !frozen[2]) + \
			  (side[n] == side[3] && up[3] && !frozen[3]) >= 2))
#define quorum_exists	(member(1) || member(2) || member(3))
#define RB(n)		(1 << (n))
#define MASK		((member(1) -> 2 : 0) + (member(2) -> 4 : 0) + (member(3) -> 8 : 0))
#define settled		(MASK == mset)	/* the replica applied the current membership */
#define joined(n)	(!member(n) || qview[n])	/* a member sent its round JOIN */
#define mready(n)	(member(n) && rep[n] == 1)
/*
 * A round starts with the configuration change that alters the quorate
 * membership (env: cut, freeze, thaw, reset; the confchg sits at one point
 * of the ordered stream, so every node's round starts at the same point),
 * collects JOINs while members process it (node: qview), and completes at
 * the last JOIN (fencer: round_complete()).  in_round is that window.
 * Requests delivered in it are applied by every holder of a replica; the
 * design holds grants from the start to the completion (dlm/daemon/lsround.c
 * "Rounds hold grants"), BAD_ROUND_GRANTS does not: then the main lineage
 * grants to a member that holds it, and the stale copy grants its own
 * node's request from its own state, before the divergence is known.
 */
#define in_round	(quorum_exists && !settled)
#ifdef BAD_ROUND_GRANTS
#define round_holds	false
#else
#define round_holds	true
#endif
/* the main lineage grants: no round in progress, or (BAD_ROUND_GRANTS) a
 * member holding it applies the request mid-round, to a member that
 * learns the grant from its own replica of it */
#define main_grants	(settled || (!round_holds && \
			 (mready(1) || mready(2) || mready(3))))
#define grantee(m)	(eligible(m) && (settled || rep[m] == 1))
/* the fixed rule: DECIDED (gate opened or a node fenced), then later formation, then higher
 * generation, then the lowest node id (never the number of members) */
#define stale_wins	(s_open != hopen -> s_open : \
			 (s_form != hform -> s_form > hform : \
			  (s_gen != hgen -> s_gen > hgen : \
			   ((mready(1) && 1 < sn) || (mready(2) && 2 < sn)) == 0)))
#define may_use(n)	(holds[n] && lease[n] && !obeying[n] && \
			 !selffenced[n] && up[n] && !frozen[n])
#define MAX2(a, b)	((a) > (b) -> (a) : (b))
#define MIN2(a, b)	((a) < (b) -> (a) : (b))
#ifdef BAD_LATEST
#define reader_view	(dw[last])
#else
#define reader_view	(MAX2(dw[0], dw[1]))
#endif
#define eligible(m)	(member(m) && qview[m] && wants[m] && !fenced[m] && \
			 lease[m] && !pill[m] && !holds[m] && !selffenced[m])
#ifdef AS_IS_COLDDEAD
#define COLD_OK(v)	(fenced[v] || deadv[v])	/* code: cold_ok() takes PEER_DEAD */
#define COLD_FENCE(v)	(!deadv[v])
#else
#define COLD_OK(v)	(fenced[v])		/* dead too: fenced, pill first */
#define COLD_FENCE(v)	(true)
#endif
#define victim(v)	(!member(v) && !fenced[v] && \
			 ((gate && owner == v && (wants[1] || wants[2] || wants[3])) || \
			  (!gate && COLD_FENCE(v))))
#define sound(n)	(up[n] && lease[n] && !selffenced[n] && !obeying[n])
/* CACHED in a member's SYNC JOIN: its users may still use a lock */
#ifdef AS_IS_FORGET
#define cached(n)	(holds[n] && !rvk[n])	/* has_cached(): the cache only */
#else
#define cached(n)	(holds[n])		/* or users being killed */
#endif
/* who may report a held lock to a rebuilt replica: a node that may use it */
#ifdef BAD_REBUILD_STALE
#define reporter(n)	(up[n] && !frozen[n])
#else
#define reporter(n)	(may_use(n))
#endif
#ifdef REVOKE_FRESH
#define REBUILD		false
#else
#define REBUILD		true
#endif
/* the gate of a rebuilt replica: every non-member fenced, as a cold start */
#ifdef BAD_REBUILD_NOFENCE
#define GATE_OK(v)	(rbld || COLD_OK(v))
#else
#define GATE_OK(v)	(COLD_OK(v))
#endif
/* env steps, enabled only when they change something (weak fairness
 * is per process: a no-op branch could otherwise starve the others) */
#define expire_ok(n)	(!healed && lease[n] && (!member(n) || frozen[n]))
#define dead_ok(n)	(!deadv[n] && !lease[n] && !member(n) && \
			 (!up[n] || selffenced[n] || frozen[n]))
#define land_ok(n)	(wb[n] && !wlanded[n] && (frozen[n] || !may_use(n)))
#define PICK(v, ok)	if :: ok(1) -> v = 1 :: ok(2) -> v = 2 :: ok(3) -> v = 3 fi
#define late(n)	(owner != n || !holds[n] || obeying[n] || selffenced[n])
#define users		(may_use(1) + may_use(2) + may_use(3))

/*
 * S3: what a reader takes, checked after every landing.  Not "never
 * lower than the last read": a late write may take back a reservation
 * nobody used (spin shows it: 5 -> 4 with UIDs up to 4 handed out);
 * what must hold is that no handed-out UID is above it.
 */
inline reader_check()
{
	assert(reader_view >= maxu)
}

/*
 * A write lands on the disk (any time: the I/O may sit in the fabric).
 * A write is LATE when its node no longer holds the lock for good (not
 * the owner any more, or obeying a pill, or self-fenced).  Assumption A3 of
 * docs/uid.md: no two late writes land on different copies before a live
 * holder rewrote the first one's copy; a landing A3 excludes is dropped
 * (the model does not check what A3 assumes: docs/model.md).
 */
inline land(n)
{
	if
	:: !late(n) ->
		dw[wc[n]] = wv[n];
		last = wc[n];
		if
		:: lpend && lcopy == wc[n] -> lpend = false
		:: else -> skip
		fi
	:: late(n) && !(lpend && lcopy != wc[n]) ->
		dw[wc[n]] = wv[n];
		last = wc[n];
		lpend = true;
		lcopy = wc[n]
	:: else -> skip		/* excluded by A3 */
	fi;
	assert(!ack[n]);	/* S4: an acked victim has nothing in flight */
	wlanded[n] = true;
	reader_check()
}

inline write_issue(n, c, v)
{
	wb[n] = true;
	wlanded[n] = false;
	wc[n] = c;
	wv[n] = v
}

inline drop_lock(n)
{
	holds[n] = false;
	phase[n] = 0
}

/* the node drops its replica (a non-quorate view, a reset); cached
 * locks stay in use */
inline drop_replica(n)
{
	if
	:: rep[n] == 2 -> sn = 0
	:: else -> skip
	fi;
	rep[n] = 0;
	sync[n] = false
}

/* node n, paused, keeps its replica: it is stale from now on */
inline fork(n)
{
	sn = n; rep[n] = 2;
	s_owner = owner; s_oep = oep; s_dirty = dirty; s_gate = gate;
	s_open = hopen; s_form = hform; s_gen = hgen; s_rbld = rbld;
	s_fenced[1] = fenced[1]; s_fenced[2] = fenced[2]; s_fenced[3] = fenced[3]
}

/* the stale copy survives: it becomes the partition's state */
inline adopt()
{
	owner = s_owner; oep = s_oep; dirty = s_dirty; gate = s_gate;
	hopen = s_open; hform = s_form; hgen = s_gen; rbld = s_rbld;
	fenced[1] = s_fenced[1]; fenced[2] = s_fenced[2]; fenced[3] = s_fenced[3];
	op = 0;
	fresh_needed = false;
	rep[sn] = 1;
	sn = 0
}

/* The daemon of node n: heartbeat loop, self state, UID core. */
proctype node(byte n)
{
	byte base;
end:	do
	/* membership as the node's daemon learns it (confchg processing);
	 * rejoining a quorate membership reconciles cached locks */
	:: d_step { up[n] && !frozen[n] && qview[n] != member(n) ->
		if
		:: !member(n) -> drop_replica(n)	/* not quorate */
		:: else -> skip		/* its round JOIN: READY if rep[n], else SYNC */
		fi;
		qview[n] = member(n) }
	/* with the state received: a cached lock the state does not show
	 * granted to it is revoked: its users are killed now (the cache
	 * forgets the lock), and gone only once reaped (below).  A dirty
	 * member of a rebuilt replica reports its lock instead. */
	:: d_step { up[n] && !frozen[n] && sync[n] ->
		sync[n] = false;
		if
		:: holds[n] && !rvk[n] && !(owner == n && hep[n] == oep) &&
		   !(rbld && (dirty & RB(n))) -> rvk[n] = true
		:: else -> skip
		fi }
	/* the killed users are reaped */
	:: d_step { up[n] && !frozen[n] && rvk[n] -> rvk[n] = false; drop_lock(n) }
	/* JOIN(CLEAN): it uses no lock the replica does not know, and no
	 * write of a dropped one is in flight */
	:: d_step { up[n] && !frozen[n] && member(n) && qview[n] && rep[n] == 1 &&
		!sync[n] && (dirty & RB(n)) &&
		((holds[n] && owner == n && hep[n] == oep && !rvk[n]) ||
		 (!holds[n] && !wb[n])
#ifdef BAD_REBUILD_REVOKING
		 || (rvk[n] && rbld)	/* its cache shows nothing: "clean" */
#endif
		) ->
		dirty = dirty & ~RB(n) }
	/* HELD report to a rebuilt replica (issue 17 item 6): a dirty member
	 * that holds a cached lock reports it (mode, epoch); applied at one
	 * point of the ordered stream, the lock is granted to it there, and
	 * the member is no longer dirty.  A report that conflicts with the
	 * replica (another holder reported first) is refused: its node
	 * revokes the lock and stays dirty until its users are reaped.  The
	 * design never meets one (S5): reporters may use their lock. */
	:: d_step { up[n] && !frozen[n] && member(n) && qview[n] && rep[n] == 1 &&
		!sync[n] && rbld && (dirty & RB(n)) && holds[n] && !rvk[n] &&
		reporter(n) ->
		if
		:: owner == 0 || owner == n ->
			owner = n;
			oep = hep[n];
			dirty = dirty & ~RB(n)
		:: else ->
#ifndef BAD_REBUILD_CONFLICT
			assert(false);		/* S5: a conflicting report */
#endif
#ifdef BAD_REBUILD_CONFLICT
			dirty = dirty & ~RB(n)	/* accepted too: it keeps it */
#else
			rvk[n] = true		/* refused: revoked */
#endif
		fi }
	/* heartbeat cycle: read the area (pill?), then write (renew) */
	:: d_step { up[n] && !frozen[n] && !selffenced[n] && !lease[n] ->
		if
		:: pseq[n] > handled[n] -> obeying[n] = true; handled[n] = pseq[n]
		:: else -> skip
		fi;
		hw[n] = true;
		lease[n] = true;
		lease_had[n] = true;
		deadv[n] = false }
	/* the heartbeat write completes (area context) */
	:: d_step { up[n] && !frozen[n] && hw[n] -> hw[n] = false }
	/* obey: ack only once every I/O context is drained */
	:: d_step { up[n] && !frozen[n] && obeying[n] && !ack[n] &&
#if defined(BAD_ACK_EARLY)
		true ->
#elif defined(BAD_ACK_UIDCTX)
		!hw[n] ->
#else
		!hw[n] && !wb[n] ->
#endif
		ack[n] = true;
		selffenced[n] = true;
		deadv[n] = false }
	/* self_decide: lease expired and (here) not quorate -> stop feeding.
	 * The code fences on a lapsed lease quorate or not (issue 19 item 3);
	 * this guard keeps the old rule's quorum term on purpose: the qview
	 * step is always enabled, so every self-fence of the new rule is
	 * reached here one step later, and the searches keep their reach
	 * (docs/model.md, "Abstractions", Time) */
	:: d_step { up[n] && !frozen[n] && !selffenced[n] && lease_had[n] &&
		!lease[n] && !qview[n] -> selffenced[n] = true }
	/* the watchdog resets a node that stopped feeding; an I/O still in
	 * flight completes or is lost at the reset */
	:: atomic { up[n] && !frozen[n] && selffenced[n] && !(obeying[n] && !ack[n]) ->
		if
		:: wb[n] && !wlanded[n] -> land(n)
		:: true -> skip
		fi;
		wb[n] = false;
		hw[n] = false;
		up[n] = false;
		lease[n] = false;
		qview[n] = false;
		drop_lock(n);
		rvk[n] = false;
		drop_replica(n);
		wants[n] = false }
	/* a client asks for the mailbox lock */
	:: d_step { up[n] && !frozen[n] && !wants[n] && !holds[n] ->
		wants[n] = true }
	/* UID core: takeover writes (sequential), reservation, allocation */
	:: d_step { may_use(n) && phase[n] == 1 && !wb[n] ->
		base = reader_view;
		if
		:: base + 2 <= UMAX -> write_issue(n, 0, base + 1); cw0[n] = base + 1; cw1[n] = 0; nextu[n] = base + 1; phase[n] = 2
		:: else -> skip
		fi }
	:: d_step { may_use(n) && phase[n] == 2 && !wb[n] ->
		write_issue(n, 1, cw0[n] + 1); phase[n] = 3 }
	:: d_step { may_use(n) && phase[n] == 3 && !wb[n] &&
		nextu[n] > MIN2(cw0[n], cw1[n]) && MAX2(cw0[n], cw1[n]) < UMAX ->
		if
		:: cw0[n] <= cw1[n] -> write_issue(n, 0, cw1[n] + 1)
		:: else -> write_issue(n, 1, cw0[n] + 1)
		fi }
#ifdef BAD_FORGET_TIMEOUT
	/* a reservation write misses its deadline and is forgotten: the
	 * holder may write that copy again, the old write lands later */
	:: atomic { up[n] && !frozen[n] && wb[n] && !wlanded[n] &&
		phase[n] == 3 && cw1[n] > 0 &&
		((wc[n] == 0 && gv0[n] == 0) || (wc[n] == 1 && gv1[n] == 0)) ->
		if
		:: wc[n] == 0 -> gv0[n] = wv[n]
		:: else -> gv1[n] = wv[n]
		fi;
		wb[n] = false }
#endif
	/* a running node's write lands and completes (one step) */
	:: d_step { up[n] && !frozen[n] && wb[n] ->
		if
		:: !wlanded[n] -> land(n)
		:: else -> skip
		fi;
		if
		:: wc[n] == 0 -> cw0[n] = wv[n]
		:: else -> cw1[n] = wv[n]
		fi;
		wb[n] = false }
	:: d_step { may_use(n) && phase[n] == 3 && !wb[n] && cw1[n] > 0 &&
		nextu[n] <= MIN2(cw0[n], cw1[n]) ->
		assert(users == 1);			/* S1 */
		assert((issued & (1 << nextu[n])) == 0);	/* S2 */
		issued = issued | (1 << nextu[n]);
		maxu = MAX2(maxu, nextu[n]);
		assert(MAX2(dw[0], dw[1]) >= maxu);
		nextu[n]++;
		did[n] = true;
		progressed = healed }
	/* release through the ordered stream (quorate, tenure used) */
	:: d_step { holds[n] && !rvk[n] && up[n] && !frozen[n] && member(n) && qview[n] &&
		owner == n && did[n] && !wb[n] ->
		owner = 0;
		drop_lock(n);
		wants[n] = false }
	od
}

/*
 * The completion of a round of the quorate partition: its membership
 * changed (the round's start: in_round) and every member has sent its JOIN
 * (READY with its replica's history, or SYNC, with CACHED if it still uses
 * a cluster lock).  At the last JOIN every member decides the same thing
 * from the JOINs alone; then the hold on grants is released.
 */
inline left_behind(n)
{
	if	/* a running node left behind drops its replica when it
		 * processes the view (in order: it cannot come back first) */
	:: !member(n) && rep[n] == 1 && !frozen[n] -> rep[n] = 0; sync[n] = false
	:: else -> skip
	fi
}

inline waiting(n)
{
	if
	:: member(n) && rep[n] == 0 && fenced[n] ->
		selffenced[n] = true	/* refused: a fenced incarnation stops */
	:: member(n) && rep[n] == 0 && !fenced[n] ->
		rep[n] = 1;	/* receives the state */
		sync[n] = true;
#ifndef AS_IS_REVOKE
		if
		:: cached(n) && (!gate || (lose & RB(n))
#ifdef BAD_LOSER_KEEPS
			&& false
#endif
			) -> dirty = dirty | RB(n)
		:: else -> skip
		fi;
#endif
		skip
	:: else -> skip
	fi
}

inline round_complete()
{
	ring++;
	mset = MASK;
	left_behind(1); left_behind(2); left_behind(3);
	lose = 0;
	if
	:: !(mready(1) || mready(2) || mready(3)) && !(sn != 0 && member(sn)) ->
		/* nobody ready: a fresh, gated replica */
		fresh_needed = false;
		owner = 0; gate = false; op = 0; dirty = 0;
		fenced[1] = false; fenced[2] = false; fenced[3] = false;
		hopen = false; hform = ring; hgen = 0;
		rbld = REBUILD	/* its dirty members report what they hold */
	:: !(mready(1) || mready(2) || mready(3)) && sn != 0 && member(sn) ->
#ifndef AS_IS_ADOPTOPEN
		/* the only replica there is, but the lineage that went on
		 * after it forked was lost (its holders dropped it with
		 * quorum; by quorum intersection one of them is in this round
		 * and carries its history): the copy cannot know what that
		 * lineage granted, so it starts gated, as a fresh one would */
		ldec = (s_form != hform || s_gen != hgen);
#endif
		adopt();	/* the only history there is */
		if	/* before the dirty set is decided (waiting()) */
		:: ldec -> gate = false
		:: else -> skip
		fi
	:: (mready(1) || mready(2) || mready(3)) && !(sn != 0 && member(sn)) -> skip
	:: (mready(1) || mready(2) || mready(3)) && sn != 0 && member(sn) ->
#ifdef BAD_KEEP_REPLICA
		skip		/* both ready: the stale copy is kept */
#else
		/* two histories: exactly one class survives */
		if
		:: stale_wins ->
			lose = (mready(1) -> 2 : 0) + (mready(2) -> 4 : 0) + (mready(3) -> 8 : 0);
			ldec = hopen;
			if :: mready(1) -> rep[1] = 0 :: else -> skip fi;
			if :: mready(2) -> rep[2] = 0 :: else -> skip fi;
			if :: mready(3) -> rep[3] = 0 :: else -> skip fi;
			adopt()
		:: else ->
			lose = RB(sn);
			ldec = s_open;
			rep[sn] = 0;
			sn = 0
		fi
#endif
	fi;
	hgen++;
	waiting(1); waiting(2); waiting(3);
	if	/* losers still using cached locks, or a losing replica
		 * that may have granted: the survivor's gate closes */
	:: (dirty & lose) || ldec -> gate = false
	:: else -> skip
	fi;
	ldec = false;
	lose = 0
}

/* The lockspace fencer and the replicated lock state of the quorate side. */
proctype fencer()
{
	byte m, v, lose;
	bool ldec;	/* the losing replica had DECIDED */
end:	do
	:: d_step { quorum_exists && !settled &&
		joined(1) && joined(2) && joined(3) -> round_complete() }
	/* quorum lost everywhere: every running node drops its replica */
	:: d_step { !quorum_exists && !fresh_needed ->
		fresh_needed = true;
		mset = 0;
		if :: rep[1] == 1 -> rep[1] = 0; sync[1] = false :: else -> skip fi;
		if :: rep[2] == 1 -> rep[2] = 0; sync[2] = false :: else -> skip fi;
		if :: rep[3] == 1 -> rep[3] = 0; sync[3] = false :: else -> skip fi }
	/* cold-start gate: every non-member fenced (AS_IS_COLDDEAD: or dead
	 * by timeout), every member's cached locks reported dropped */
	:: d_step { quorum_exists && settled && !fresh_needed && !gate &&
		(member(1) || GATE_OK(1)) &&
		(member(2) || GATE_OK(2)) &&
		(member(3) || GATE_OK(3)) &&
		!(member(1) && fenced[1]) && !(member(2) && fenced[2]) &&
		!(member(3) && fenced[3]) &&
		dirty == 0 -> gate = true; hopen = true; rbld = false }
	/* grant to an eligible member that wants it (lowest id first) */
	:: d_step { quorum_exists && main_grants && !fresh_needed && gate && owner == 0 &&
		epoch < EMAX && (grantee(1) || grantee(2) || grantee(3)) ->
		if
		:: grantee(1) -> m = 1
		:: !grantee(1) && grantee(2) -> m = 2
		:: !grantee(1) && !grantee(2) -> m = 3
		fi;
		epoch++;
		owner = m;
		oep = epoch;
		holds[m] = true;
		hep[m] = epoch;
		phase[m] = 1;
		did[m] = false;
		m = 0 }
	/* the stale copy applies its own node's request (sn is a member
	 * again: a round is in progress until the divergence rule resolved
	 * the copy, so only where rounds do not hold grants) and grants
	 * from its own state; sn believes its replica */
	:: d_step { sn != 0 && member(sn) && qview[sn] && (!in_round || !round_holds) &&
		s_gate && s_owner == 0 && epoch < EMAX &&
		wants[sn] && !s_fenced[sn] && lease[sn] && !pill[sn] &&
		!holds[sn] && !selffenced[sn] ->
		epoch++;
		s_owner = sn;
		s_oep = epoch;
		holds[sn] = true;
		hep[sn] = epoch;
		phase[sn] = 1;
		did[sn] = false }
	/* fence on demand: the owner is away and its lock is wanted; on a
	 * cold start, any non-member with a live heartbeat */
	:: d_step { quorum_exists && settled && !fresh_needed && op == 0 &&
		(victim(1) || victim(2) || victim(3)) ->
		if
		:: victim(1) -> v = 1
		:: !victim(1) && victim(2) -> v = 2
		:: !victim(1) && !victim(2) -> v = 3
		fi;
#if defined(AS_IS_NOPILL)
		if
		:: deadv[v] -> skip	/* already dead: no pill */
		:: else -> pill[v] = true; pseq[v]++
		fi;
#elif defined(BAD_STALE_PILL)
		if
		:: deadv[v] && pseq[v] > 0 -> pill[v] = true	/* reused */
		:: else -> pill[v] = true; pseq[v]++
		fi;
#else
		/* always our own pill, seq on disk + 1, even if already dead */
		pill[v] = true;
		pseq[v]++;
#endif
		op = v;
		v = 0 }
	/* the verdict: ack of our pill, or dead by timeout */
	:: d_step { quorum_exists && settled && !fresh_needed && op != 0 &&
		((ack[op] && pill[op]) || deadv[op]) ->
		if
		:: owner == op -> owner = 0
		:: else -> skip
		fi;
		fenced[op] = true;
		hopen = true;		/* DECIDED */
		dirty = dirty & ~RB(op);	/* its lock users are gone with it */
		op = 0 }
	od
}

/* Faults, time passing, and the heal. */
proctype env()
{
	byte n;
end:	do
	/* time: the lease of an away or frozen node runs out (a member's
	 * disk is assumed to work: the lost-disk case is not modelled) */
	:: atomic { expire_ok(1) || expire_ok(2) || expire_ok(3) ->
		PICK(n, expire_ok);
		lease[n] = false; n = 0 }
	/* D passes: the fencer saw the heartbeat still for D since the node
	 * left; the timing lemma of docs/timeouts.md is the guard (lease
	 * over, not feeding or frozen); a later landing clears it */
	:: atomic { dead_ok(1) || dead_ok(2) || dead_ok(3) ->
		PICK(n, dead_ok);
		deadv[n] = true; n = 0 }
	/* the write of a node that may not use its lock (frozen, pilled,
	 * fenced) lands: late, at any time (the I/O sits in the fabric) */
	:: atomic { land_ok(1) || land_ok(2) || land_ok(3) ->
		PICK(n, land_ok);
		land(n); n = 0 }
#ifdef BAD_FORGET_TIMEOUT
	/* a forgotten write lands, after whatever was written since */
	:: atomic { ghost_ok(1) || ghost_ok(2) || ghost_ok(3) ->
		PICK(n, ghost_ok);
		if
		:: gv0[n] > 0 -> dw[0] = gv0[n]; last = 0; gv0[n] = 0
		:: gv1[n] > 0 -> dw[1] = gv1[n]; last = 1; gv1[n] = 0
		fi;
		reader_check(); n = 0 }
#endif
	/* membership change: a node moves to the other side */
	:: atomic { cuts < CUTS && !healed -> cuts++;
		if
		:: n = 1
		:: n = 2
		:: n = 3
		fi;
		side[n] = 1 - side[n]; n = 0 }
	/* pause and resume (freezer: watchdog paused too) */
	:: atomic { freezes < FREEZES && !healed -> freezes++;
		if
		:: n = 1
		:: n = 2
		:: n = 3
		fi;
		frozen[n] = true;
		if	/* it keeps its replica and misses what follows */
		:: rep[n] == 1 -> fork(n)
		:: else -> skip
		fi;
		n = 0 }
	:: d_step { (frozen[1] || frozen[2] || frozen[3]) ->
		frozen[1] = false; frozen[2] = false; frozen[3] = false;
		if	/* nothing happened meanwhile: the copy is current */
		:: sn != 0 && !fresh_needed && s_form == hform && s_gen == hgen ->
			rep[sn] = 1; sn = 0
		:: else -> skip
		fi }
#ifdef LIVE
	/* heal: network whole, nothing frozen, two nodes sound (a reset
	 * node is not restarted in the model); from now on time is kind:
	 * leases are renewed in time */
	:: atomic { !healed && !frozen[1] && !frozen[2] && !frozen[3] &&
		(sound(1) + sound(2) + sound(3) >= 2) &&
		MAX2(dw[0], dw[1]) + 3 <= UMAX && epoch + 2 <= EMAX ->
		side[1] = 0; side[2] = 0; side[3] = 0;
		healed = true }
#endif
	od
}

init {
	atomic {
		up[1] = true; up[2] = true; up[3] = true;
		qview[1] = true; qview[2] = true; qview[3] = true;
		lease[1] = true; lease[2] = true; lease[3] = true;
		lease_had[1] = true; lease_had[2] = true; lease_had[3] = true;
		/* A previous life's pill in every slot, each daemon took it as
		 * its baseline at its first read.  The worst case, and no loss:
		 * the design compares seqs only, so an empty slot (0, 0) behaves
		 * the same, and only a fencer that reuses what is there
		 * (BAD_STALE_PILL) tells them apart. */
		pseq[1] = 1; pseq[2] = 1; pseq[3] = 1;
		handled[1] = 1; handled[2] = 1; handled[3] = 1;
		if
		:: gate = true;		/* warm: a running, whole cluster */
		   hopen = true; mset = 14;
		   rep[1] = 1; rep[2] = 1; rep[3] = 1
		:: side[3] = 1;		/* cold start with node 3 cut off, */
		   qview[3] = false;	/* still holding EX from before */
		   holds[3] = true; phase[3] = 3;
		   cw0[3] = 2; cw1[3] = 2; nextu[3] = 2;
		   dw[0] = 2; dw[1] = 2; issued = 2; maxu = 1;
		   did[3] = true; wants[3] = true;
		   fresh_needed = true
#if FREEZES > 0
		:: gate = true;		/* paused holder: node 3 holds EX (UID 1 */
		   hopen = true;	/* handed out) and has just been paused */
		   mset = 14;		/* past its exclusion, keeping its replica */
		   rep[1] = 1; rep[2] = 1; rep[3] = 1;
		   epoch = 1; owner = 3; oep = 1; hep[3] = 1;
		   holds[3] = true; phase[3] = 3;
		   cw0[3] = 2; cw1[3] = 2; nextu[3] = 2;
		   dw[0] = 2; dw[1] = 2; issued = 2; maxu = 1;
		   did[3] = true; wants[3] = true;
		   frozen[3] = true; freezes = FREEZES;
		   fork(3)
		:: hopen = true;	/* lost continuation: node 3 was paused */
		   gate = true;		/* (holding nothing) and kept its replica; */
		   rep[3] = 1;		/* nodes 1 and 2 went on, node 1 got EX */
		   frozen[3] = true;	/* (UID 1 handed out), then quorum was lost */
		   freezes = FREEZES;	/* everywhere (every replica dropped, node */
		   fork(3);		/* 1 still using its EX) and is back: the */
		   ring = 1; mset = 0;	/* next round forms a fresh replica (node 1 */
		   cuts = CUTS;		/* dirty) or, node 3 thawed first, adopts */
		   hgen = 1; owner = 1;	/* node 3's copy */
		   oep = 1; fresh_needed = true;
		   epoch = 1; hep[1] = 1;
		   holds[1] = true; phase[1] = 3;
		   cw0[1] = 2; cw1[1] = 2; nextu[1] = 2;
		   dw[0] = 2; dw[1] = 2; issued = 2; maxu = 1;
		   did[1] = true; wants[1] = true
#endif
		:: fresh_needed = true;	/* revoking across a total loss: node 1 */
		   ring = 2;		/* holds EX (UID 1 handed out) and its */
		   cuts = CUTS;		/* users are being killed (a replica it */
		   freezes = FREEZES;	/* took did not show the lock: its cache */
		   epoch = 1; hep[1] = 1;	/* forgot it, rvk), when quorum */
		   holds[1] = true;	/* was lost everywhere; it is back with */
		   rvk[1] = true;	/* all three members about to JOIN */
		   phase[1] = 3;
		   qview[1] = false; qview[2] = false; qview[3] = false;
		   cw0[1] = 2; cw1[1] = 2; nextu[1] = 2;
		   dw[0] = 2; dw[1] = 2; issued = 2; maxu = 1;
		   did[1] = true; wants[2] = true
		:: fresh_needed = true;	/* a pilled holder across a total loss: */
		   ring = 2;		/* node 3 held EX (UID 1), was cut off, */
		   cuts = CUTS;		/* read its pill and acked; its watchdog */
		   freezes = FREEZES;	/* has not reset it yet.  Node 1 got EX */
		   epoch = 2;		/* (UID 3), then quorum was lost */
		   holds[3] = true; hep[3] = 1; phase[3] = 3;	/* everywhere */
		   cw0[3] = 2; cw1[3] = 2; nextu[3] = 2; did[3] = true;
		   pseq[3] = 2; handled[3] = 2; pill[3] = true;
		   obeying[3] = true; ack[3] = true; selffenced[3] = true;
		   holds[1] = true; hep[1] = 2; phase[1] = 3;
		   cw0[1] = 3; cw1[1] = 4; nextu[1] = 4; did[1] = true;
		   dw[0] = 3; dw[1] = 4; issued = 10; maxu = 3;
		   qview[1] = false; qview[2] = false; qview[3] = false;
		   wants[1] = true; wants[2] = true
		fi;
		run node(1); run node(2); run node(3);
		run fencer();
		run env()
	}
}

#ifdef LIVE
ltl live { [] (healed -> <> progressed) }
#endif
