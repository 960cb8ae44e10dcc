/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lockstate.h - the replicated, deterministic cluster-level lock state
 * machine of one lockspace.
 *
 * Every member of a lockspace feeds the same CPG-ordered stream of events
 * (lock requests, conversions, releases, cancels, configuration changes,
 * fencer reports, the cold-start gate) to its own struct ls_state through
 * ls_apply().  The state machine is pure: no I/O, no clock, no randomness,
 * no decision depends on hash order or pointer values.  So the same stream
 * yields the same state (ls_digest()) and the same decisions (struct
 * ls_out) on every node.  "Who am I" is not part of the state: each daemon
 * picks out of the decisions those addressed to its own node id.
 *
 * It tracks which NODE holds each resource in which mode; which local
 * client uses a node's lock, and caching, live in the daemon.  A node keeps
 * a granted lock until it releases it, typically after a BLOCKING decision.
 *
 * docs/locking.md gives the exact semantics of every event and decision.
 * lockstate.c implements the machine, lssnap.c the snapshot and the
 * digest (lockstate_int.h is what they share) and, declared in lssnap.h,
 * the state transfer that carries the snapshot.
 *
 * Errors: functions return 0 or a negative errno / sdlm domain error
 * (dlm/lib/sdlm.h).  An event that ls_apply() rejects leaves the state
 * untouched, on every replica alike.
 */
#ifndef SDLM_LOCKSTATE_H
#define SDLM_LOCKSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modes.h"
#include "sdlm.h"	/* SDLM_NAME_MAX: resource names, 1..64 arbitrary bytes */

#define LS_LVB_LEN	32	/* lock value block */
/* Members of one lockspace's group at once (corosync's CPG_MEMBERS_MAX):
 * the node lists of the daemon and of the state transfer (lssnap.h). */
#define LS_MEMBERS_MAX	128
/* Node records one lockspace may know (every node it ever saw). */
#define LS_NODE_RECS_MAX	4096

/*
 * Cluster lock flags (REQUEST, CONVERT, RELEASE; a lock in the replica).
 * In memory they have a range of their own, bits 8..15, apart from the
 * client's SDLM_LKF_* (sdlm.h, bits 0..7: NOQUEUEBAST and VALBLK once
 * shared 0x2).  On the wire - CPG messages (msg.c) and snapshots
 * (lssnap.c) - they are one byte lower, the values docs/protocol.md lists
 * (NOQUEUE 1, NOQUEUEBAST 2, IVVALBLK 4); ls_lkf_wire() translates.
 */
#define LS_LKF_NOQUEUE		0x100u	/* grant now or fail with SDLM_EBUSY */
#define LS_LKF_NOQUEUEBAST	0x200u	/* a failed NOQUEUE still notifies holders */
#define LS_LKF_IVVALBLK		0x400u	/* PW/EX holder invalidates the LVB */
#define LS_LKF_ALL		0x700u

/*
 * The one translation between the two, both ways: it swaps the two low
 * bytes, so it is its own inverse and loses no bit - a stray bit on the
 * wire stays a stray bit in memory, which the decoders' check against
 * LS_LKF_ALL refuses.
 */
static inline uint32_t ls_lkf_wire(uint32_t f)
{
	return (f & 0xffff0000u) | ((f & 0xffu) << 8) | ((f >> 8) & 0xffu);
}

enum ls_queue {
	LS_Q_GRANTED	= 0,
	LS_Q_CONVERT	= 1,
	LS_Q_WAIT	= 2,
};

/* The protocol version from which a fresh replica is rebuilt from its
 * dirty members' reports (HELD, docs/protocol.md "Rebuilding a fresh
 * replica"). */
#define LS_REBUILD_PROTO	4

enum ls_event_kind {
	LS_EV_REQUEST		= 1,	/* nodeid lkid name mode flags */
	LS_EV_CONVERT		= 2,	/* nodeid lkid mode flags [lvb] */
	LS_EV_RELEASE		= 3,	/* nodeid lkid flags [lvb] */
	LS_EV_CANCEL		= 4,	/* nodeid lkid */
	LS_EV_CONFCHG		= 5,	/* ring_id members quorate */
	LS_EV_NODE_STATUS	= 6,	/* nodeid hb_live pill_pending */
	LS_EV_NODE_FENCED	= 7,	/* nodeid incarnation */
	LS_EV_GATE		= 8,	/* gate_open */
	LS_EV_HOLD		= 9,	/* hold (local: never on the wire) */
	/* nodeid (the away node V) incarnation lkid [lvb]: the lockspace
	 * fencer releases V's grant on V's behalf (design-handoff.md F3,
	 * protocol 3).  Applied only while the replica shows exactly that
	 * grant: lkid granted to V, V's member incarnation (ROUND) equal to
	 * incarnation, V not fenced; anything else is refused, the state
	 * unchanged (docs/locking.md "Hand-off release"). */
	LS_EV_HANDOFF_RELEASE	= 10,
	/*
	 * nodeid lkid name mode epoch dirty: a lock the sender still holds,
	 * reported to a fresh replica rebuilt after a total loss of quorum
	 * (protocol 4, docs/protocol.md "Rebuilding a fresh replica").
	 * Entered granted to the sender in mode only on a replica that takes
	 * reports (ls_params.rebuild, until its gate first opens), only with
	 * ev_dirty (the host's replicated dirty set holds the sender), only
	 * if mode is compatible with every lock granted on the resource: a
	 * conflict is refused (-EBUSY) and the sender revokes.  The epoch
	 * counter rises to at least the reported epoch; the resource's value
	 * block is invalid.  No decision is emitted: the holder has the lock.
	 */
	LS_EV_HELD		= 18,
	/* members incarnations protos proto (local: never on the wire): a
	 * sync round completed (dlm/daemon/lsround.c).  With the agreed protocol
	 * proto >= 3 each member's incarnation and announced proto_max (its
	 * JOIN) is recorded as its member record (a member still marked
	 * fenced by a verdict on an older incarnation, delivered after it
	 * joined, is fenced no more); below 3 every node's
	 * record is cleared (an older node keeps none: same digest, and the
	 * snapshot stays at minor 1, which it reads).  Below
	 * LS_REBUILD_PROTO it also ends a rebuild for good (ls_rebuilding()
	 * false: the replica takes no more reports, and its snapshot no
	 * longer carries the rebuild flag, which a protocol 2 node refuses).
	 * Its value is outside the message types (msg.h), so no future
	 * message can take it. */
	LS_EV_ROUND		= 64,
};

/*
 * One ordered input.  Only the fields named for the kind above are read;
 * the rest may be anything (zero them).  Nothing is retained after
 * ls_apply() returns: name, lvb and members are copied.
 */
struct ls_event {
	enum ls_event_kind ev_kind;
	uint32_t	ev_nodeid;
	uint64_t	ev_lkid;	/* (nodeid << 32) | node-local counter */
	int		ev_mode;	/* enum lk_mode */
	uint32_t	ev_flags;	/* LS_LKF_* */
	const void	*ev_name;
	size_t		ev_namelen;
	const uint8_t	*ev_lvb;	/* LS_LVB_LEN bytes, or NULL */
	uint64_t	ev_ring_id;	/* CONFCHG */
	const uint32_t	*ev_members;	/* CONFCHG: ascending node ids */
	size_t		ev_member_count;
	bool		ev_quorate;	/* CONFCHG */
	bool		ev_hb_live;	/* NODE_STATUS */
	bool		ev_pill_pending; /* NODE_STATUS */
	uint64_t	ev_epoch;	/* HELD: the grant's epoch */
	bool		ev_dirty;	/* HELD: the sender is a dirty member */
	uint64_t	ev_incarnation;	/* NODE_FENCED, HANDOFF_RELEASE */
	/* ROUND: ev_members (ascending) and, per member, the incarnation
	 * (non-zero) and proto_max of its JOIN; ev_proto the agreed version */
	const uint64_t	*ev_incarnations;
	const uint16_t	*ev_protos;
	uint16_t	ev_proto;
	bool		ev_gate_open;	/* GATE */
	/*
	 * HOLD: while set, nothing is granted (a NOQUEUE request fails with
	 * SDLM_EBUSY, as with the gate closed); releases, cancels and
	 * down-conversions go on.  Cleared, what waits is granted at once.
	 * The host sets it while a sync round collects its JOINs: a replica
	 * may turn out to have diverged, and must not have granted meanwhile
	 * (lsround.c "Rounds hold grants").  Not part of the snapshot or the
	 * digest: every holder sets and clears it at the same points of the
	 * stream, and a snapshot is never taken while it is set.
	 */
	bool		ev_hold;
};

enum ls_out_kind {
	LS_OUT_GRANTED		= 1,	/* nodeid lkid name mode lvb epoch */
	LS_OUT_NOQUEUE_FAILED	= 2,	/* nodeid lkid, err SDLM_EBUSY */
	LS_OUT_CANCELLED	= 3,	/* nodeid lkid name, err = why */
	LS_OUT_DEADLOCK		= 4,	/* nodeid lkid name, err -EDEADLK */
	LS_OUT_BLOCKING		= 5,	/* holder nodeid lkid name, mode wanted */
	LS_OUT_NEED_FENCE	= 6,	/* nodeid (away holder in the way) */
	LS_OUT_RELEASED		= 7,	/* nodeid lkid name, err 0 or SDLM_EFENCED */
};

/* One decision.  Self-contained (the name and LVB are copies). */
struct ls_out_item {
	enum ls_out_kind o_kind;
	int		o_err;
	uint32_t	o_nodeid;
	uint64_t	o_lkid;
	int		o_mode;		/* granted mode; BLOCKING: mode wanted */
	uint8_t		o_namelen;
	uint8_t		o_name[SDLM_NAME_MAX];
	bool		o_lvb_valid;	/* GRANTED */
	uint8_t		o_lvb[LS_LVB_LEN];
	/*
	 * GRANTED: the resource's epoch, a fencing token.  Every grant that
	 * starts a write tenure (PW or EX granted to a lock that held neither)
	 * sets it to a new value of a lockspace-wide counter, so on one
	 * resource it strictly increases from one writer to the next while
	 * the lockspace lives (it restarts with a new lockspace: users that
	 * need more, like the UID allocator, combine it with a durable epoch).
	 * A grant that is no new write tenure (a read mode, a down-convert)
	 * carries the current value.
	 */
	uint64_t	o_epoch;
};

/* The decisions of one ls_apply(), in the order they were taken. */
struct ls_out {
	struct ls_out_item *items;
	size_t		count;
	size_t		cap;
	bool		lost;		/* some decision could not be stored */
};

void ls_out_init(struct ls_out *out);
void ls_out_reset(struct ls_out *out);	/* count = 0, keeps the buffer */
void ls_out_free(struct ls_out *out);

struct ls_params {
	/* Gate closed at creation: nothing is granted until a GATE(open)
	 * event (cold start; see docs/locking.md). */
	bool		cold;
	/* Heartbeat liveness assumed for a node before its first
	 * NODE_STATUS.  false (the safe choice) means a node is granted
	 * nothing until the fencer has reported it live. */
	bool		default_live;
	/* With cold: the replica is rebuilt from its dirty members'
	 * reports (LS_EV_HELD) and takes them until its gate first opens
	 * (protocol 4; the host sets it only when every member agreed).  A
	 * ROUND agreeing on less than LS_REBUILD_PROTO ends it. */
	bool		rebuild;
};

struct ls_state;

/* Create an empty lockspace.  0, -EINVAL or -ENOMEM. */
int ls_create(const struct ls_params *params, struct ls_state **lsp);
void ls_destroy(struct ls_state *ls);

/*
 * Apply one event.  out (may be NULL) is reset and receives the decisions.
 *
 * Returns 0 when the event was applied; a negative error when it was
 * rejected, and then the state is unchanged (the same on every replica):
 *	-EINVAL		malformed (bad mode, name length, flags, lkid not
 *			of the node, unsorted members, node id 0 ...)
 *	-EPERM		sender is not a member of the current configuration
 *	SDLM_EFENCED	sender was fenced and has not rejoined since
 *	-EEXIST		REQUEST with a lock id already in use
 *	-ENOENT		no such lock (of this node)
 *	-EBUSY		CONVERT/RELEASE of a lock that is not granted or
 *			already converting (cancel it first)
 *	-ESTALE		HELD on a replica that takes no reports (not rebuilt,
 *			or its gate has opened)
 *	-EACCES		HELD from a member that is not dirty
 *	-EBUSY		HELD that conflicts with a granted lock
 *	-ESTALE		HANDOFF_RELEASE of another incarnation than V's
 *			member record (none recorded included); its -ENOENT:
 *			no such grant of V (released, or V fenced)
 *	-EALREADY	CANCEL of a granted lock (the grant won the race);
 *			NODE_FENCED of an incarnation already fenced, or
 *			older than the node's member record (it restarted
 *			and rejoined: the locks it holds are the new one's)
 *	-ENOSPC		more than LS_NODE_RECS_MAX nodes
 *	-ENOMEM		allocation failed before anything changed
 * If an event was applied but out could not hold every decision,
 * out->lost is set and -ENOMEM is returned: the state is correct but the
 * caller missed decisions, and must leave the lockspace.
 */
int ls_apply(struct ls_state *ls, const struct ls_event *ev, struct ls_out *out);

/* --- introspection ----------------------------------------------------- */

bool ls_grants_blocked(const struct ls_state *ls);	/* gate closed */
bool ls_held(const struct ls_state *ls);		/* HOLD set */
/* The replica takes HELD reports (rebuilt, gate never opened yet). */
bool ls_rebuilding(const struct ls_state *ls);
bool ls_quorate(const struct ls_state *ls);
uint64_t ls_ring_id(const struct ls_state *ls);
/* The lockspace-wide epoch counter: the last epoch handed out (0 = none). */
uint64_t ls_epoch(const struct ls_state *ls);
size_t ls_resource_count(const struct ls_state *ls);
size_t ls_lock_count(const struct ls_state *ls);

struct ls_node_info {
	uint32_t	nodeid;
	bool		member;
	bool		hb_live;
	bool		pill_pending;
	bool		fenced;		/* since its last NODE_FENCED, not rejoined */
	bool		eligible;	/* may be granted something right now */
	uint64_t	fenced_incarnation;	/* 0 if never fenced */
	/* Its member record (ROUND): the incarnation and proto_max of its
	 * JOIN in the last round it completed as a member while the agreed
	 * protocol was >= 3; 0 and 0 if none (design-handoff.md F1, F3). */
	uint64_t	incarnation;
	uint16_t	proto;
	size_t		lock_count;
};

/* 0 or -ENOENT. */
int ls_node_get(const struct ls_state *ls, uint32_t nodeid,
		struct ls_node_info *info);

struct ls_lock_info {
	uint64_t	lkid;
	uint32_t	nodeid;
	int		grmode;		/* MODE_NONE while waiting */
	int		rqmode;		/* == grmode when granted */
	enum ls_queue	queue;
	uint32_t	flags;
	bool		away;		/* holder's node is not a member */
};

struct ls_res_info {
	const uint8_t	*name;
	size_t		namelen;
	bool		lvb_valid;
	const uint8_t	*lvb;
	uint64_t	epoch;		/* of the last write tenure, 0 = none */
	size_t		granted, converting, waiting;
};

/*
 * The granted locks of an away node (not a member, not fenced) that stand
 * in the way of an eligible lock right now - per lock, what LS_OUT_NEED_FENCE
 * says per node; what the lockspace fencer asks such a node to give back
 * through the disk (design-handoff.md F1).  A lock is in the way when it
 * conflicts with the first eligible converter of its resource, or with
 * its first eligible waiter if no converter is eligible.  Fills lkids
 * with up to max of them, in the node's creation order; returns how many
 * there are in all (may be above max).  0 for a member, a fenced or an
 * unknown node, and while nothing is eligible (gate closed, HOLD, no
 * quorum).
 */
size_t ls_away_wanted(const struct ls_state *ls, uint32_t nodeid,
		      uint64_t *lkids, size_t max);

/*
 * The incarnation the NODE_FENCED of a fence verdict about nodeid should
 * carry, or 0 when none is to be sent (lsfencer.c lsm_fenced, per
 * lockspace).  inc is the verdict's incarnation as the edge knows it (the
 * executor's, else the node's heartbeat slot's; 0 unknown).  0 for an
 * unknown node, one fenced and away, and a known inc at or below the last
 * one fenced or below the node's member record; an unknown inc is the
 * member record's, and with none either, the last one fenced + 1 (1 if
 * never fenced).
 */
uint64_t ls_verdict_incarnation(const struct ls_state *ls, uint32_t nodeid,
				uint64_t inc);

/* 0 or -ENOENT. */
int ls_lock_get(const struct ls_state *ls, uint64_t lkid,
		struct ls_lock_info *info);

/*
 * Visit every resource in name order (memcmp, then shorter first).  The
 * callback returns 0 to go on; anything else stops the walk and is
 * returned.  The state must not change during the walk.  -ENOMEM possible.
 */
int ls_foreach_resource(const struct ls_state *ls,
			int (*cb)(const struct ls_res_info *res, void *arg),
			void *arg);

/* Visit the locks of one resource: granted, then converting, then waiting,
 * each in queue order.  0, the callback's value, or -ENOENT. */
int ls_foreach_lock(const struct ls_state *ls, const void *name,
		    size_t namelen,
		    int (*cb)(const struct ls_lock_info *lk, void *arg),
		    void *arg);

/* A 64-bit hash of the whole replicated state; equal states give equal
 * digests on every host.  Used to compare replicas. */
uint64_t ls_digest(const struct ls_state *ls);

/* --- state transfer (docs/locking.md "Snapshot") ------------------------ */

/* Exact size of ls_snapshot_encode()'s output. */
size_t ls_snapshot_size(const struct ls_state *ls);

/* Encode into buf.  0, -ENOSPC (len too small) or -ENOMEM; *written is
 * set on success. */
int ls_snapshot_encode(const struct ls_state *ls, void *buf, size_t len,
		       size_t *written);

/*
 * Build a new lockspace from a snapshot.  0; SDLM_EMAGIC, SDLM_EVERSION,
 * SDLM_ECHECKSUM for those; SDLM_EPROTO for any length, count, ordering
 * or consistency error; -ENOMEM.
 */
int ls_snapshot_decode(const void *buf, size_t len, struct ls_state **lsp);

#endif /* SDLM_LOCKSTATE_H */
