/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cpg.h - the corosync edge of a lockspace: one CPG group per lockspace.
 *
 * A member joins the group "sdlm:<lockspace>" with CPG_MODEL_V1 and
 * CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF (ls_cpg_open starts a join
 * thread; ls_cpg_join_step once ls_cpg_join_fd is readable: the calling
 * thread never waits on corosync), so that everything the lock state machine needs
 * arrives through one ordered stream:
 *
 *	cpg fd readable -> ls_cpg_dispatch()
 *	  group confchg  -> confchg cb  (lockspace members, left, joined)
 *	  totem confchg  -> totem cb    (ring id, every node in the ring)
 *	  message        -> deliver cb  (decoded struct msg, agreed order)
 *	                 or bad_msg cb  (undecodable: the error, the sender)
 *	  then the send queue is flushed
 *
 * Sending: ls_cpg_send() stamps the header (our node id, incarnation,
 * ring id, next sequence), encodes, queues and multicasts with
 * CPG_TYPE_AGREED.  CS_ERR_TRY_AGAIN (flow control, a membership change
 * in progress) leaves the message at the head of the queue; it is retried
 * from ls_cpg_dispatch() or ls_cpg_flush(), which the main loop calls
 * when ls_cpg_retry_ms() has passed (a timer: nothing arrives on the fd
 * to wake us when corosync is ready again).  Messages leave in send order
 * and none is dropped; a full queue refuses new ones (-ENOBUFS).
 *
 * The ring view.  Quorum for granting is computed from the totem ring:
 * quorate iff 2 * ring nodes > expected nodes (ls_cpg_quorate).  When a
 * node dies, corosync delivers the group confchg (reason NODEDOWN)
 * *before* the totem confchg of the same ring change; a view built from
 * the previous totem confchg would still count the dead node and could
 * call a minority quorate for the length of one event.  So the view drops
 * NODEDOWN leavers from the ring at the group confchg, and the totem
 * confchg then replaces it: the ring view never counts a node known down.
 *
 * Node ids are corosync's; the ring id is the totem ring sequence (it
 * only grows).  All functions return 0 or a negative errno / sdlm domain
 * error; corosync's cs_error_t never leaks out (CS_OK is 1, not 0).
 * Callbacks run inside ls_cpg_dispatch(); they may call ls_cpg_send()
 * but not ls_cpg_close().
 */
#ifndef SDLM_CPG_H
#define SDLM_CPG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"

/* A lockspace name: 1..SDLM_NAME_MAX printable ASCII; a group holds
 * LS_MEMBERS_MAX (lockstate.h) nodes at most. */
#define LS_CPG_PREFIX		"sdlm:"
#define LS_CPG_QUEUE_MAX	65536	/* messages waiting for CPG */

/* Why a member joined or left (values equal corosync's cpg_reason_t). */
enum ls_cpg_reason {
	LS_CPG_REASON_UNDEFINED	= 0,
	LS_CPG_REASON_JOIN	= 1,
	LS_CPG_REASON_LEAVE	= 2,	/* cpg_leave: a clean leave */
	LS_CPG_REASON_NODEDOWN	= 3,	/* the node left the ring */
	LS_CPG_REASON_NODEUP	= 4,
	LS_CPG_REASON_PROCDOWN	= 5,	/* the process died */
};

struct ls_cpg_member {
	uint32_t	nodeid;
	uint32_t	pid;
	enum ls_cpg_reason reason;
};

/* What the lockspace sees now; arrays ascending, ids unique. */
struct ls_cpg_view {
	uint64_t	ring_id;	/* last totem ring sequence, 0 = none yet */
	uint32_t	ring_nodeid;	/* the ring's representative */
	size_t		ring_count;
	uint32_t	ring[LS_MEMBERS_MAX];	/* nodes in the ring */
	size_t		member_count;
	uint32_t	members[LS_MEMBERS_MAX]; /* nodes in the group */
	/* Identifies the group as the last confchg left it, the same on
	 * every member: a hash of the member list (node id and pid each, in
	 * any order).  Only the member list: when two partitions merge, each
	 * side gets its own sequence of confchgs (one per process joining
	 * from the other side), with different joined lists, but they end
	 * at the same members.  Two consecutive confchgs never have the same
	 * members (each reports a join or a leave). */
	uint64_t	conf_tag;
};

struct ls_cpg;

struct ls_cpg_callbacks {
	/* A message, in agreed order; m (and its snapshot chunk) is valid
	 * during the call only.  self: sent by this very ls_cpg. */
	void (*deliver)(struct ls_cpg *c, const struct msg *m, bool self,
			void *arg);
	/* A message that did not decode (err: msg_decode's error, or
	 * SDLM_EPROTO when the header's node id is not CPG's sender). */
	void (*bad_msg)(struct ls_cpg *c, uint32_t nodeid, uint32_t pid,
			int err, void *arg);
	/* The group changed; view is already updated. */
	void (*confchg)(struct ls_cpg *c, const struct ls_cpg_view *view,
			const struct ls_cpg_member *left, size_t n_left,
			const struct ls_cpg_member *joined, size_t n_joined,
			void *arg);
	/* The totem ring changed (and once right after our join). */
	void (*totem)(struct ls_cpg *c, const struct ls_cpg_view *view,
		      void *arg);
};

/*
 * Start joining "sdlm:<lockspace>" without blocking: a thread connects to
 * corosync and joins the group (corosync may hold its answers through a
 * membership sync, or forever when hung); messages sent meanwhile are
 * queued and go out once joined.  nodeid is ours (0: take corosync's;
 * another than corosync's fails the join with -EPROTO); incarnation
 * (non-zero) goes into every message header.  0 (joining); -EINVAL
 * (name, incarnation, callbacks); -ENOMEM, -EAGAIN (no thread, no eventfd).
 */
int ls_cpg_open(const char *lockspace, uint32_t nodeid, uint64_t incarnation,
		const struct ls_cpg_callbacks *cb, void *arg,
		struct ls_cpg **cp);

/* Readable once the join thread is done (an eventfd; valid until
 * ls_cpg_close): then call ls_cpg_join_step. */
int ls_cpg_join_fd(const struct ls_cpg *c);

/* The join's outcome, never waiting: 0 joined (the queue is flushed),
 * -EAGAIN still joining, -ECANCELED left before it joined; else the
 * join failed (no handle is kept): -ENOTCONN (no corosync), -EMSGSIZE
 * (libcpg would fragment MSG_MAX_LEN messages), -EPROTO (node id), other
 * mapped errors. */
int ls_cpg_join_step(struct ls_cpg *c);

bool ls_cpg_joined(const struct ls_cpg *c);

/* Finalize (corosync reports our leave to the others) and free, without
 * waiting: cpg_finalize runs in a thread, and a join still in corosync
 * is abandoned to its thread, which finalizes once corosync answers.
 * Queued, unsent messages are discarded: the caller is leaving. */
void ls_cpg_close(struct ls_cpg *c);

/* Leave the group (corosync reports a clean leave to the others) but keep
 * the handle: callbacks may still come and are the caller's to ignore.
 * Queued, unsent messages are discarded.  Before the join is through it
 * only stops the join (the join thread leaves a join that got through).
 * Once joined this is cpg_leave, which waits for corosync's reply (only a
 * fenced node leaves).  0; -EAGAIN (corosync busy: call again later);
 * other mapped errors. */
int ls_cpg_leave(struct ls_cpg *c);

/* The fd to poll for reading once joined (-1 before corosync took us). */
int ls_cpg_fd(const struct ls_cpg *c);

/* Dispatch everything pending, then flush the send queue.  0, or an
 * error after which the lockspace must be left (-ENOTCONN: corosync is
 * gone). */
int ls_cpg_dispatch(struct ls_cpg *c);

/*
 * Stamp m's header (m_nodeid, m_incarnation, m_ring_id, m_seq are set in
 * m), encode, queue, try to send.  0 when queued or sent; -EINVAL (msg
 * refused by msg_encode), -ENOBUFS (queue full), -ENOMEM, or a send error
 * (the message stays queued).
 */
int ls_cpg_send(struct ls_cpg *c, struct msg *m);

/* Retry queued messages now.  0 (sent or still blocked) or an error. */
int ls_cpg_flush(struct ls_cpg *c);

/* Milliseconds until the queue should be retried; -1 when it is empty. */
int ls_cpg_retry_ms(const struct ls_cpg *c);

size_t ls_cpg_queued(const struct ls_cpg *c);
uint32_t ls_cpg_nodeid(const struct ls_cpg *c);
const struct ls_cpg_view *ls_cpg_view(const struct ls_cpg *c);

/* Quorum for granting from the ring view: 2 * ring_count > expected. */
bool ls_cpg_quorate(const struct ls_cpg_view *view, uint32_t expected_nodes);

#endif /* SDLM_CPG_H */
