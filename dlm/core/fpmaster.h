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
 * ---- Messages (design 2.2; docs/protocol.md "Fast-path messages") ----
 *
 * The payload of one xport DATA frame, little-endian; types from 16 on
 * (xpmsg.h has the echo's 1 and 2):
 *
 *	offset  size  field
 *	     0     1  type      FPM_P_REQUEST 16 .. FPM_P_FAIL 22
 *	     1     1  mode      0..5 (modes.h), 0xff: none
 *	     2     1  flags     LS_LKF_* as the type allows, their wire
 *	                        values (lockstate.h ls_lkf_wire)
 *	     3     1  has_lvb   0 or 1: LS_LVB_LEN bytes follow the header
 *	     4     1  namelen   1..SDLM_NAME_MAX
 *	     5     3  reserved  zero
 *	     8     8  epoch     the master epoch, 1..2^32-1
 *	    16     8  rid       request id; 0 only in P_BAST
 *	    24     8  lkid      the requester's lock id (node << 32 | n)
 *	    32     4  err       P_FAIL: a negative sdlm error; else 0
 *	    36     4  reserved  zero
 *	    40     8  token     P_GRANT: the fencing token; else 0
 *	    48    32  lvb       if has_lvb
 *	     …  namelen name
 *
 *	type        mode                flags                  lvb
 *	P_REQUEST   requested           NOQUEUE NOQUEUEBAST    no
 *	P_CONVERT   requested           LS_LKF_ALL             may
 *	P_CANCEL    none                0                      no
 *	P_RELEASE   none                IVVALBLK               may
 *	P_BAST      wanted              0                      no
 *	P_GRANT     granted             0                      may
 *	P_FAIL      left held, or none  0                      no
 *
 * fpm_msg_decode() checks, each SDLM_EPROTO, reading no byte before its
 * length is known to be inside the buffer:
 *	len < FPM_HDR_LEN + 1 or > FPM_MSG_MAX
 *	type outside 16..22
 *	reserved bytes set
 *	has_lvb not 0 or 1, namelen 0 or above SDLM_NAME_MAX, or
 *	  len != FPM_HDR_LEN + has_lvb * LS_LVB_LEN + namelen (a length lie)
 *	epoch 0 or above 2^32-1; lkid 0 or of node 0
 *	rid 0 except in P_BAST, non-zero in P_BAST
 *	mode, flags, value block, err, token not as the table allows
 *	  (err: negative in P_FAIL, 0 elsewhere; token: 0 except in P_GRANT)
 * Whatever decodes encodes again to the same bytes.
 *
 * All functions return 0 or a negative errno / sdlm domain error.
 */
#ifndef SDLM_FPMASTER_H
#define SDLM_FPMASTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lockstate.h"
#include "ondisk.h"	/* SDLM_MAX_NODES: node ids are 1..SDLM_MAX_NODES */

#define FPM_P_REQUEST		16
#define FPM_P_CONVERT		17
#define FPM_P_CANCEL		18
#define FPM_P_RELEASE		19
#define FPM_P_BAST		20
#define FPM_P_GRANT		21
#define FPM_P_FAIL		22

#define FPM_HDR_LEN		48
#define FPM_MSG_MAX		(FPM_HDR_LEN + LS_LVB_LEN + SDLM_NAME_MAX)
#define FPM_MODE_NONE_BYTE	0xff
#define FPM_EPOCH_MAX		UINT32_MAX

/* Messages of a later epoch kept during a round (design finding FM1;
 * fpm_input says what happens to one more). */
#define FPM_LATER_MAX		4096

/* Epoch changes a master remembers for its blocks (then: all blocked). */
#define FPM_HIST_MAX		8

/* The host view of one message. */
struct fpm_msg {
	uint8_t		type;
	int		mode;		/* MODE_NONE or 0..5 */
	uint32_t	flags;
	bool		lvb_valid;
	uint8_t		namelen;
	uint64_t	epoch;
	uint64_t	rid;
	uint64_t	lkid;
	int32_t		err;
	uint64_t	token;
	uint8_t		lvb[LS_LVB_LEN];
	uint8_t		name[SDLM_NAME_MAX];
};

/* Encoded length of m (no check). */
size_t fpm_msg_len(const struct fpm_msg *m);

/* Into buf (len bytes); -EINVAL: anything the decoder would refuse;
 * -ENOSPC: len too small.  *written gets the length. */
int fpm_msg_encode(const struct fpm_msg *m, void *buf, size_t len,
		   size_t *written);

/* SDLM_EPROTO for each check listed above; on error m is zeroed. */
int fpm_msg_decode(const void *buf, size_t len, struct fpm_msg *m);

const char *fpm_type_name(uint8_t type);

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
