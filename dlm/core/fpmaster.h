/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fpmaster.h - the fast path's resource masters (docs/design-fastpath.md
 * 2.1-2.3 and 3; the checked model is docs/model/fastpath.pml): one
 * struct fpm per daemon and lockspace plays both roles of the design,
 *
 *   the MASTER of the resources the epoch's hash gives this node: their
 *	queues, their value blocks and every decision on them, taken by the
 *	same pure state machine as the CPG path (lockstate.h's ls_apply, on
 *	a struct ls_state that holds only these resources), fed by the
 *	requesters' P_REQUEST / P_CONVERT / P_CANCEL / P_RELEASE and by the
 *	ordered stream's NODE_STATUS, NODE_FENCED and GATE;
 *   the REQUESTER of this node's own fast-path locks: what it asked for,
 *	which answer it takes, what it reports at an epoch change.
 *
 * Pure: no I/O, no clock, no randomness, no printing.  The edge (not
 * written yet: design section 7 step 3) carries FPM_OUT_SEND messages in
 * the transport of xport.h (one message per DATA frame; the frame's
 * epoch is the message's) and feeds what the transport delivers to
 * fpm_input(); a message to this node itself never leaves the core (a
 * resource this node masters costs no message, design 2.3).
 *
 * ---- Masters and epochs (design 2.1, 3.4) ----
 *
 * An epoch opens at the completion of a round of the quorate membership
 * (fpm_round_complete, an ordered event: every member gets it at the same
 * point of the CPG stream); its number is the round's count, 1..2^32-1,
 * strictly increasing.  The master of a resource in an epoch is
 * fpm_master_of(name, the epoch's members): rendezvous hashing, so a
 * membership change moves only the resources of the nodes that left or
 * came.  (The affinity transfer of design 2.4 is not here: the model
 * does not have it yet.)
 *
 * Phases of a node: OUT (no quorate view: it neither masters nor sends;
 * its held locks stay in use under its lease, the edge's business) ──
 * fpm_confchg as a quorate member ──► ROUND ── fpm_round_complete ──►
 * ACTIVE in the new epoch.  fpm_confchg is when the node PROCESSES the
 * configuration change, i.e. sends its JOIN: from then until the round
 * completes it accepts no P_GRANT, not even one of its current epoch
 * (model finding 8), sends nothing, and masters nothing (its master
 * state is kept, unused, until the round completes: a second
 * configuration change restarts the round, and its new report must name
 * the same grants).  Requests, conversions,
 * cancels and releases asked for meanwhile wait in the core and go to
 * the new masters after the round.
 *
 * The report (fpm_report, sent just before the node's JOIN, in the
 * chunks of fprep.h): the locks the node holds, converts
 * and waits for (with the request ids), its highest request id, the
 * epoch it was active in, and, as old master, its grants to nodes
 * outside the new membership (model finding 9).  The new master of a
 * resource rebuilds it at the round's completion from
 *   - each member's own report of its locks (a member's report wins);
 *   - the old master's entries for non-members, taken only if the old
 *     master (fpm_master_of over the previous epoch's members) is a
 *     member, was active in the previous epoch and the lineage was not
 *     lost (fpm_epoch.lost: quorum lost everywhere since);
 *   - and the resource is BLOCKED (nothing granted on it; requests and
 *     conversions wait, a NOQUEUE request or up-conversion fails at
 *     once with SDLM_EBUSY, releases and cancels go on) while some node that
 *     is not a member and not fenced exists (fpm_epoch.away, then each
 *     NODE_FENCED) and some epoch change since the last time there was
 *     none left the resource without its old master, or lost the
 *     lineage, or happened before this node had the history (a node that
 *     was not active in the previous epoch takes every resource as
 *     blocked).  Each such away node is asked for once (FPM_OUT_NEED_FENCE).
 * A rebuilt held lock's value block is invalid (as a HELD report's,
 * lockstate.h): the reports carry none.
 *
 * ---- The fencing rule (design 3) ----
 *
 * A grant needs the grantee eligible and every conflicting holder
 * released or fenced, in the master's view of the ORDERED stream: the
 * core forwards NODE_STATUS, NODE_FENCED and GATE (fpm_node_status,
 * fpm_node_fenced, fpm_gate) to ls_apply unchanged, so eligibility is
 * lockstate.h's (gate open, member, heartbeat live, no pill, not fenced
 * since it rejoined); a holder's lock goes only with its P_RELEASE (sent
 * by fpm_unlock only once its users stopped: users != 0 is refused) or
 * with the ordered NODE_FENCED (of its incarnation: a verdict on an older
 * one changes nothing), never with a NODE_STATUS "dead"; an away
 * holder in the way of an eligible request is reported (NEED_FENCE) as
 * on the CPG path.
 *
 * Fencing token of a grant: epoch << 32 | the master's write-tenure
 * counter of the epoch (ls_out_item.o_epoch), so it strictly increases
 * from one writer of a resource to the next across epochs too.
 *
 * ---- Idempotency (design 2.2) ----
 *
 * Every requester→master message carries a request id, strictly
 * increasing per requester incarnation over all its messages (fpm keeps
 * the counter).  A master applies a message only if its id is above the
 * last it applied from that requester in the epoch (set from the
 * requester's report at the rebuild): a duplicate is refused
 * (-EALREADY), never applied twice.  A P_GRANT / P_FAIL names the id of
 * the request or conversion it answers; the requester takes it only if
 * the lock has exactly that request outstanding, in its current epoch,
 * from the resource's master, while ACTIVE.  (Retransmission itself is
 * the transport's, xport.h.)
 *
 * A member fenced (NODE_FENCED of its member incarnation) is told what it
 * lost: each master sends P_FAIL with SDLM_EFENCED for each lock of it
 * the fence freed (active) or the rebuild refused (its report, in a
 * round), naming the request id the lock was last asked with; the
 * requester takes it as FAILED for what it asked, REVOKE for what it
 * held.  A node away is not told: nothing of it listens.
 *
 * ---- Messages ----
 *
 * The P_* messages a requester and a master exchange, their layout and
 * every check of their decoder, are fpmsg.h's.
 *
 * All functions return 0 or a negative errno / sdlm domain error.
 */
#ifndef SDLM_FPMASTER_H
#define SDLM_FPMASTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fpmsg.h"
#include "lockstate.h"
#include "ondisk.h"	/* SDLM_MAX_NODES: node ids are 1..SDLM_MAX_NODES */

/* Messages of a later epoch kept during a round (design finding FM1;
 * fpm_input says what happens to one more). */
#define FPM_LATER_MAX		4096

/* Epoch changes a master remembers for its blocks (then: all blocked). */
#define FPM_HIST_MAX		8

/* The master of a resource among members (n >= 1, any order): the member
 * with the highest mix64(fnv64(name) ^ mix64(node)) (hash.h).  0 if n is
 * 0. */
uint32_t fpm_master_of(const void *name, size_t namelen,
		       const uint32_t *members, size_t n);

/* ---- the core ---- */

enum fpm_phase {
	FPM_OUT		= 0,	/* no quorate view */
	FPM_ROUND	= 1,	/* JOIN sent, round not complete */
	FPM_ACTIVE	= 2,
};

struct fpm_member {
	uint32_t	node;
	uint64_t	incarnation;	/* its JOIN's, non-zero */
};

/* One lock in a report. */
struct fpm_entry {
	uint32_t	node;		/* the holder / requester */
	uint64_t	lkid;
	uint64_t	rid;		/* the request or conversion it last
					   sent (what a grant answers) */
	int		grmode;		/* MODE_NONE: waiting */
	int		rqmode;		/* != grmode: converting */
	uint32_t	flags;		/* of the request / conversion */
	uint64_t	token;		/* held: its fencing token */
	uint8_t		namelen;
	uint8_t		name[SDLM_NAME_MAX];
};

/* What a member's JOIN carries (fpm_report()). */
struct fpm_report {
	uint32_t	node;
	uint64_t	epoch;		/* the epoch it was active in, 0 none */
	uint64_t	last_rid;	/* its highest request id sent */
	size_t		n;		/* its own locks, sent requests only */
	const struct fpm_entry *e;
	size_t		nm;		/* as old master: its grants to nodes
					   outside the new membership */
	const struct fpm_entry *m;
};

/* The round's completion, as the ordered stream says it (the same input
 * on every member). */
struct fpm_epoch {
	uint64_t	epoch;		/* > the last, <= FPM_EPOCH_MAX */
	const struct fpm_member *members;	/* ascending node ids */
	size_t		n;
	uint64_t	prev_epoch;	/* the epoch before, 0 none */
	const uint32_t	*prev;		/* its members, ascending */
	size_t		nprev;
	bool		lost;		/* quorum lost everywhere since prev */
	const uint32_t	*away;		/* the replica's nodes that are not
					   members and not fenced, ascending */
	size_t		naway;
};

enum fpm_out_kind {
	FPM_OUT_SEND		= 1,	/* node: msg, to send (never to self) */
	FPM_OUT_GRANTED		= 2,	/* own lock: msg.lkid mode token lvb */
	FPM_OUT_FAILED		= 3,	/* own request / conversion ended:
					   msg.lkid err, mode left held */
	FPM_OUT_BAST		= 4,	/* own lock blocks: msg.lkid, mode
					   wanted */
	FPM_OUT_NEED_FENCE	= 5,	/* node: fence it (an away holder in
					   the way, or a block's away node) */
	FPM_OUT_REVOKE		= 6,	/* own held lock refused by the
					   rebuild, or freed by this node's
					   fence (msg.err SDLM_EFENCED; a
					   conversion's FAILED comes first):
					   msg.lkid (users must go) */
};

struct fpm_out_item {
	enum fpm_out_kind kind;
	uint32_t	node;
	struct fpm_msg	msg;
};

struct fpm_out {
	struct fpm_out_item *items;
	size_t		count, cap;
	bool		lost;		/* an item could not be stored */
};

void fpm_out_init(struct fpm_out *out);
void fpm_out_free(struct fpm_out *out);

struct fpm;

/* 0, -EINVAL (node 0 or above SDLM_MAX_NODES, incarnation 0), -ENOMEM. */
int fpm_new(uint32_t node, uint64_t incarnation, struct fpm **fp);
void fpm_free(struct fpm *fp);

enum fpm_phase fpm_phase(const struct fpm *fp);
uint64_t fpm_epoch(const struct fpm *fp);
/* The master of name in the current epoch (0: not ACTIVE). */
uint32_t fpm_master(const struct fpm *fp, const void *name, size_t namelen);
/* name is blocked here (this node its master, ACTIVE). */
bool fpm_blocked(const struct fpm *fp, const void *name, size_t namelen);
/* The master state of this node's resources (NULL unless ACTIVE): for
 * tests and status, never to be changed. */
const struct ls_state *fpm_ls(const struct fpm *fp);

/* ---- the ordered stream (out is reset and filled) ---- */

/* The node processes a configuration change (sends its JOIN): a quorate
 * membership that holds it: ROUND, and its report is built (fpm_report);
 * else OUT.  members ascending. */
int fpm_confchg(struct fpm *fp, const uint32_t *members, size_t n,
		bool quorate);
/* The report built by the last fpm_confchg (valid until the next). */
const struct fpm_report *fpm_report(const struct fpm *fp);

/* The round completed: epoch e opens, the masters rebuild from the
 * reports of every member (one each, any order; fpm_report()'s of
 * others as their JOINs carried them).  A node not in e->members: OUT
 * (it holds no epoch).  -EINVAL, nothing changed, reading no byte of an
 * entry's name before its length is checked:
 *	a malformed epoch (0, not above the last, above FPM_EPOCH_MAX;
 *	  members none, unsorted, node 0 or above SDLM_MAX_NODES,
 *	  incarnation 0; prev or away likewise; an away node a member)
 *	a member's report missing or twice, a report of a non-member
 *	a report: n or nm without its array, epoch above FPM_EPOCH_MAX
 *	an entry (e and m alike): namelen 0 or above SDLM_NAME_MAX; node 0
 *	  or above SDLM_MAX_NODES; lkid not of node (lkid >> 32); grmode
 *	  not MODE_NONE or a mode; rqmode not a mode; flags outside
 *	  LS_LKF_ALL
 *	an entry of e not of the reporting node
 * A refused completion is refused alike on every member (the same
 * input): the edge leaves the lockspace, as after -ENOMEM. */
int fpm_round_complete(struct fpm *fp, const struct fpm_epoch *e,
		       const struct fpm_report *reports, size_t nreports,
		       struct fpm_out *out);

int fpm_node_status(struct fpm *fp, uint32_t node, bool hb_live,
		    bool pill_pending, struct fpm_out *out);
/* -EALREADY, nothing changed: incarnation is older than node's member
 * incarnation (of the last round it was a member of, as this core saw
 * the rounds): the verdict on a predecessor of the incarnation that
 * rejoined, which holds its own locks and owes its own fence. */
int fpm_node_fenced(struct fpm *fp, uint32_t node, uint64_t incarnation,
		    struct fpm_out *out);
int fpm_gate(struct fpm *fp, bool open, struct fpm_out *out);

/* ---- the requester (out is reset and filled) ----
 * Each sends at once when ACTIVE, else waits in the core for the next
 * epoch.  -EEXIST: lkid in use; -ENOENT: no such own lock; -EBUSY: not in
 * a state that allows it; -EINVAL: malformed (lkid not of this node, ...).
 */
int fpm_lock(struct fpm *fp, uint64_t lkid, const void *name, size_t namelen,
	     int mode, uint32_t flags, struct fpm_out *out);
int fpm_convert(struct fpm *fp, uint64_t lkid, int mode, uint32_t flags,
		const uint8_t *lvb, struct fpm_out *out);
int fpm_cancel(struct fpm *fp, uint64_t lkid, struct fpm_out *out);
/* users: the lock's local users not yet stopped; a release is sent only
 * at 0 (-EBUSY otherwise: design 3.2).  The lock is forgotten here. */
int fpm_unlock(struct fpm *fp, uint64_t lkid, unsigned users, uint32_t flags,
	       const uint8_t *lvb, struct fpm_out *out);

struct fpm_own_info {
	int		grmode;		/* MODE_NONE: not granted */
	int		rqmode;
	bool		outstanding;	/* a request / conversion not answered */
	uint64_t	rid;
	uint64_t	epoch;		/* of its grant (re-tagged at a rebuild) */
	uint64_t	token;
};
/* 0 or -ENOENT. */
int fpm_own_get(const struct fpm *fp, uint64_t lkid, struct fpm_own_info *info);

/* ---- the transport's deliveries ----
 * One message from node (its incarnation as the transport delivered it).
 * Refused, nothing changed: -EINVAL a message fpm_msg_decode() would
 * refuse (the same checks: m need not come from the decoder) or from
 * this node itself, -EAGAIN not ACTIVE (the round's reports
 * cover it), -ESTALE another epoch or incarnation, -EPERM not a member,
 * -EXDEV not this resource's master (either role), -EALREADY a
 * duplicate request id, -EINVAL a lock id not of the sender; to a
 * requester also -ESTALE for an answer that answers nothing outstanding;
 * ls_apply's errors (a P_REQUEST / P_CONVERT refused is answered by
 * P_FAIL).
 *
 * A message of a later epoch during the round (design finding FM1) is
 * kept (0) and taken or refused once the round completes here, at most
 * FPM_LATER_MAX of them (168 bytes each on x86_64: 672 KiB); one more is
 * refused with -ENOBUFS, nothing kept, and counted (fpm_later_dropped).
 * Such a message is not taken: its sender must send it again, so the
 * edge must leave it unacknowledged.  The transport as built
 * (xport.h) acknowledges a message when it delivers it, and has no way
 * yet to take a delivery back: until the edge has one, an overflow
 * loses the message, and the counter is how it shows.
 */
int fpm_input(struct fpm *fp, uint32_t node, uint64_t incarnation,
	      const struct fpm_msg *m, struct fpm_out *out);
/* Messages of a later epoch refused since fpm_new (-ENOBUFS). */
uint64_t fpm_later_dropped(const struct fpm *fp);

#endif /* SDLM_FPMASTER_H */
