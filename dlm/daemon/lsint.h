/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lsint.h - the private side of sdlmd's lockspaces (lockspace.h is the
 * public one): struct lspace, the lock manager's table, and the functions
 * its parts share.  One concept a file; each function a file exports
 * here carries the file's prefix:
 *
 *	lockspace.c	lspace_: the table, CPG callbacks, sending, applying
 *			decisions, client calls, clean stop
 *	lsround.c	lsround_: sync rounds and the ready set
 *	lsxfer.c	lsxfer_: state transfer: the snapshot sent, the stream
 *			buffered while waiting, the state collected, loaded
 *			and replayed
 *	lsreconcile.c	lsrec_: our cache against a received state; the
 *			dirty set of a fresh replica and the CLEAN reports
 *	lsfencer.c	lsfencer_: the lockspace fencer's duties
 *	lsrender.c	status output and counters (lockspace.h only)
 *
 * The daemon's side (lockspace.h) is lsm_; the sorted sets of node ids
 * below are nodeset_.  ls_ is lockstate's prefix (ls_apply, ls_state).
 */
#ifndef SDLM_LSINT_H
#define SDLM_LSINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <qb/qbloop.h>

#include "sdlm.h"
#include "clock.h"
#include "lockstate.h"
#include "nodelock.h"
#include "msg.h"
#include "cpg.h"
#include "lockspace.h"
#include "lssnap.h"
#include "ondisk.h"	/* SDLM_MAX_NODES: node ids with a disk slot */
#include "handoff.h"	/* struct ho_ls: a fencer's hand-off requests */

#define LS_MAX		256		/* lockspaces per daemon */
#define LSID_SHIFT	48		/* global lkid = lsid << 48 | local */
#define LSFENCER_HO_MAX	64	/* hand-off requests of one lockspace
				   (fence/handoff.h HO_REQ_MAX) */

/* Something delivered while we wait for the state, kept for the replay. */
enum lsxfer_buf_kind { LSXFER_BUF_MSG, LSXFER_BUF_CONFCHG, LSXFER_BUF_TOTEM };

struct lsxfer_buf {
	enum lsxfer_buf_kind kind;
	struct msg m;			/* LSXFER_BUF_MSG; a chunk keeps no data */
	uint32_t members[LS_MEMBERS_MAX];
	size_t n_members;
	uint32_t left[LS_MEMBERS_MAX];
	size_t n_left;
	uint32_t joined[LS_MEMBERS_MAX];
	size_t n_joined;
	bool quorate;
	uint64_t ring_id;
	uint64_t tag;			/* LSXFER_BUF_CONFCHG: its conf_tag */
};

/* A state transfer in progress, as every ready member tracks it (the
 * fields travel in the state transfer: lssnap.h). */
struct lsxfer_track {
	bool active;
	struct lssnap_xfer t;	/* t.waiting: who becomes ready when it ends */
};

#define LSXFER_MAX	8

_Static_assert(LSXFER_MAX == LSSNAP_XFER_MAX, "lssnap carries every transfer");

/* A transfer we (not ready) collect, keyed by (sender, xfer_id). */
struct lsxfer_collect {
	bool active;
	uint32_t sender;
	uint64_t xfer_id;
	uint8_t *data;
	uint32_t total, got, crc;
	uint32_t basis_node;
	uint64_t basis_inc, basis_seq;
};

struct lspace {
	unsigned lsid;
	char name[SDLM_NAME_MAX + 1];
	struct ls_cpg *cpg;
	struct ls_state *st;		/* NULL while not ready */
	struct nl_state *nl;
	struct ls_out lo;
	struct nl_out no;
	bool ready;			/* our replica is current */
	bool tainted;			/* built while not quorate */
	bool own_join_seen;		/* a confchg was buffered already */
	bool buffering;			/* not ready: keeping the stream */
	bool replaying;
	/* the current sync round (see "sync rounds") */
	bool round_active;
	bool view_quorate;
	bool confchg_since_totem;	/* a group confchg since the last totem view */
	uint32_t round_members[LS_MEMBERS_MAX];
	uint32_t round_flags[LS_MEMBERS_MAX];
	struct msg_proto_range round_proto[LS_MEMBERS_MAX];
	uint16_t proto_agreed;		/* protocol version of the lockspace */
	uint32_t incompatible[LS_MEMBERS_MAX];	/* members outside it: ignored */
	size_t n_incompatible;
	bool round_got[LS_MEMBERS_MAX];
	struct msg_join round_join[LS_MEMBERS_MAX];	/* each member's round JOIN */
	uint64_t round_inc[LS_MEMBERS_MAX];		/* and the incarnation it came from */
	size_t n_round, n_round_got;
	uint64_t round_tag;		/* the round JOINs must answer */
	struct lsxfer_buf *buf;
	size_t nbuf, capbuf;
	/* Replicated bookkeeping, valid while ready (same on every ready
	 * member because it changes only at points of the ordered stream). */
	uint32_t ready_nodes[LS_MEMBERS_MAX];
	size_t n_ready;
	uint32_t tainted_nodes[LS_MEMBERS_MAX];
	size_t n_tainted;
	uint32_t waiting_nodes[LS_MEMBERS_MAX];
	size_t n_waiting;
	/* Members that still used locks cached before a fresh replica was
	 * formed: it grants nothing until each reported CLEAN or was
	 * fenced ("Fresh replicas and cached locks" below). */
	uint32_t dirty_nodes[LS_MEMBERS_MAX];
	size_t n_dirty;
	bool clean_sent;		/* our CLEAN for the current dirty set */
	bool cache_ok;			/* reconcile found every cached lock */
	bool stale_pending;		/* stale locks wait for killed users */
	/* Our reports to a rebuilt fresh replica (lsreconcile.c "Rebuilding
	 * a fresh replica"): cached locks it lacks, the HELDs sent for them
	 * (for the lineage formed at rb_formed), how many came back, whether
	 * one was refused and we revoked. */
	bool rb_to_report;
	bool rb_reported;
	uint64_t rb_formed, rb_hold;
	/* Counts our replica holdings: drop_replica starts a new one. */
	uint64_t hold_gen;
	size_t rb_sent, rb_seen;
	bool rb_refused, rb_revoked;
	/* The replica's history (lsround.c "Divergent replicas"): when its
	 * lineage was formed, the rounds it completed since, whether it
	 * ever decided anything (opened its gate, fenced a node). */
	uint64_t hist_formed;
	uint64_t hist_gen;
	bool hist_decided;
	/* The history of the replica we dropped last (kept until we are
	 * ready again): a SYNC JOIN carries it (MSG_HIST_DROPPED). */
	bool drop_have;
	uint64_t drop_formed;
	uint64_t drop_gen;
	bool drop_decided;
	/* Incarnations the replica records as fenced that are in the group
	 * again: never members (their messages are ignored). */
	uint32_t refused[LS_MEMBERS_MAX];
	size_t n_refused;
	bool self_refused;		/* we are one of them: stopped for good */
	bool gone;			/* left the group (lsm_self_fenced) */
	bool leave_retry;		/* the leave met CS_ERR_TRY_AGAIN */
	/* The corosync connection is gone (lockspace.c "Cut off"): no
	 * replica, nothing sent; the node keeps what it holds. */
	bool cut_off;
	/* Since when (clock_boottime_ms) the group's view, as refuse_action() judges
	 * it, has not been quorate; 0 while it is. */
	uint64_t unq_since;
	struct lsxfer_track xf[LSXFER_MAX];
	struct lsxfer_collect col[LSXFER_MAX];
	/* fencer duties */
	uint64_t need_fence_since[SDLM_MAX_NODES + 1];
	/* the hand-off: the requests this lockspace's fencer put into the
	 * daemon's request area (lsfencer.c), and the release events sent
	 * lately for V's answers (resent at most every few seconds) */
	struct ho_ls ho;
	uint64_t status_sent_ms[SDLM_MAX_NODES + 1];
	uint64_t gate_sent_ms;
	bool cold_blocked[SDLM_MAX_NODES + 1];
	uint64_t cold_since[SDLM_MAX_NODES + 1];
	bool cold_fencing[SDLM_MAX_NODES + 1];
	uint64_t retry_timer_armed;
	qb_loop_timer_handle retry_timer;
	/* Joining the CPG group (lockspace.c "Joining"): since when, the
	 * retry timer and its current interval. */
	bool joining;
	uint64_t join_since;
	bool join_timer_armed;
	bool join_polled;	/* ls_cpg_join_fd is in the loop */
	uint32_t join_retry_ms;
	qb_loop_timer_handle join_timer;
	uint64_t n_sent;		/* CPG messages sent (stats, tests) */
	uint64_t n_delivered;
};

/* The lock manager: one per daemon. */
struct ls_manager {
	struct ls_host h;
	/* the cluster lock ids of this incarnation, shared by every
	 * lockspace's cache (nodelock.h, design-handoff.md H2) */
	struct nl_lkids lkids;
	struct lspace *ls[LS_MAX];
	struct lsm_stats st;
	/* clean stop begun (lsm_stop_users): no new lock use; the value
	 * blocks our cache had, kept for the releases (lsm_release_own) */
	bool stopping;
	struct shut_lvb *shut_lv;
	size_t shut_n, shut_cap;
	/* the hand-off's F4: a request to node was not answered within the
	 * bound, its fence runs (lsfencer.c) */
	bool ho_fence[SDLM_MAX_NODES + 1];
};

extern struct ls_manager lsm;

/* "cut-off" or "minority" while new requests are refused, else NULL. */
const char *lspace_refusing(const struct lspace *l);


/* --- small sets of node ids ------------------------------------------- */

static inline bool nodeset_has(const uint32_t *s, size_t n, uint32_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == v)
			return true;
	return false;
}

static inline void nodeset_add(uint32_t *s, size_t *n, uint32_t v)
{
	size_t i, j;

	if (nodeset_has(s, *n, v) || *n >= LS_MEMBERS_MAX)
		return;
	for (i = 0; i < *n && s[i] < v; i++)
		;
	for (j = *n; j > i; j--)
		s[j] = s[j - 1];
	s[i] = v;
	(*n)++;
}

static inline void nodeset_del(uint32_t *s, size_t *n, uint32_t v)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (s[i] == v) {
			memmove(s + i, s + i + 1, (*n - i - 1) * sizeof(*s));
			(*n)--;
			return;
		}
}

static inline uint64_t lspace_global_lkid(const struct lspace *l, uint64_t local)
{
	return ((uint64_t)l->lsid << LSID_SHIFT) | local;
}

/* lockspace.c */
bool lspace_view_quorate(const struct ls_cpg_view *v);
bool lspace_keep_alone(const struct ls_cpg_view *v);
int lspace_send_msg(struct lspace *l, struct msg *m);
int lspace_send_event(struct lspace *l, const struct ls_event *ev);
int lspace_send_join(struct lspace *l, uint32_t flags);
void lspace_arm_retry(struct lspace *l);
void lspace_run_nl_out(struct lspace *l);
/* ls_apply's result (the decisions are run either way). */
int lspace_apply_event(struct lspace *l, const struct ls_event *ev);
void lspace_apply_confchg(struct lspace *l, const uint32_t *members, size_t n,
			  bool quorate, uint64_t ring_id);
void lspace_revoke_all(struct lspace *l, int reason);
void lspace_join_history(const struct lspace *l, struct msg_join *j);

/* lsround.c */
void lsround_start(struct lspace *l, const uint32_t *members, size_t n,
		   uint64_t tag);
uint64_t lsround_view_tag(const struct ls_cpg_view *v);
void lsround_handle_msg(struct lspace *l, const struct msg *m);
void lsround_handle_view(struct lspace *l, const uint32_t *members, size_t n,
			 bool quorate, uint64_t ring_id);
void lsround_handle_confchg(struct lspace *l, const uint32_t *members, size_t n,
			    const uint32_t *left, size_t n_left, bool quorate,
			    uint64_t ring_id, uint64_t tag);
void lsround_refused_self(struct lspace *l);
void lsround_leave(struct lspace *l);

/* lsxfer.c */
void lsxfer_send_snapshot(struct lspace *l, const struct msg *basis, uint64_t xfer_id);
struct lsxfer_buf *lsxfer_buf_add(struct lspace *l, enum lsxfer_buf_kind kind);
void lsxfer_collect_chunk(struct lspace *l, const struct msg *m);

/* lsreconcile.c */
bool lsrec_has_cached(struct lspace *l);
void lsrec_report_applied(struct lspace *l, const struct ls_event *ev, int rc);
void lsrec_maybe_clean(struct lspace *l);
void lsrec_reconcile(struct lspace *l);
void lsrec_release_stale(struct lspace *l);
/* The hand-off's gate (review s28-rev19 M1, nodelock.h struct nl_lkids):
 * tells the cache once a quorate replica shows no lock of ours it does
 * not know - none of a predecessor's is left under our incarnation. */
void lsrec_predecessor_check(struct lspace *l);

/* lsfencer.c */
void lsfencer_duties(struct lspace *l, uint64_t now);
/* Once per tick after every lockspace's duties: F4, the hand-off's
 * requests not answered within the bound fence their node. */
void lsfencer_ho_tick(uint64_t now);
/* F6 for a lockspace whose duties stop (cut off, left, closed): its
 * requests leave the daemon's area. */
void lsfencer_ho_drop(struct lspace *l);

#endif
