/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * handoff.c - the hand-off's rules, pure (see handoff.h and
 * docs/design-handoff.md for the rules named V1-V6, F1-F6).
 */
#include <errno.h>
#include <string.h>

#include "handoff.h"

uint64_t ho_kill_ms(const struct sdlm_timeouts *t)
{
	return t->drain_ms;
}

uint32_t ho_read_interval_ms(bool ho_on, bool peer_away, uint32_t waiting,
			     uint32_t hb_interval_ms)
{
	uint32_t fast = hb_interval_ms / 4;

	if (!ho_on || (!peer_away && !waiting))
		return hb_interval_ms;
	if (fast < HO_READ_MIN_MS)
		fast = HO_READ_MIN_MS;
	return fast < hb_interval_ms ? fast : hb_interval_ms;
}

/*
 * Design §6, in series from the completion of the requester's write:
 * V's read (I + T), holders let go or killed (K), the grant's I/O leaves
 * the kernel (T), V's write (I + T), the requester's read (I + T).
 */
uint64_t ho_bound_ms(const struct sdlm_timeouts *t)
{
	uint64_t i = t->base.hb_interval_ms, io = t->base.io_timeout_ms;

	return 3 * i + 4 * io + ho_kill_ms(t);
}

/* ---- the away node ---- */

void ho_away_init(struct ho_away *a, uint32_t node_id, uint64_t incarnation)
{
	memset(a, 0, sizeof(*a));
	a->node_id = node_id;
	a->incarnation = incarnation;
}

static struct ho_grant *away_find(const struct ho_away *a, uint64_t lkid)
{
	uint32_t i;

	for (i = 0; i < a->n; i++)
		if (a->g[i].lkid == lkid)
			return (struct ho_grant *)&a->g[i];
	return NULL;
}

/*
 * Remove entry i of an array of *n entries of size sz, keeping the order
 * (V's answer lists oldest first, the request area is the oldest
 * entries); the freed last entry is zeroed.
 */
static void ordered_remove(void *base, size_t sz, uint32_t *n, size_t i)
{
	uint8_t *p = base;

	memmove(p + i * sz, p + (i + 1) * sz, (*n - i - 1) * sz);
	(*n)--;
	memset(p + *n * sz, 0, sz);
}

static void away_remove(struct ho_away *a, struct ho_grant *g)
{
	ordered_remove(a->g, sizeof(a->g[0]), &a->n, (size_t)(g - a->g));
}

static void out_add(struct ho_away_out *out, enum ho_away_act act,
		    const struct ho_grant *g)
{
	struct ho_away_action *x = &out->a[out->n++];

	memset(x, 0, sizeof(*x));
	x->act = act;
	x->lkid = g->lkid;
	if (act == HO_ACT_RELEASE) {
		x->lvb_valid = g->lvb_valid;
		memcpy(x->lvb, g->lvb, SDLM_HB_LVB_LEN);
	}
}

static bool bit_get(const uint64_t *w, uint32_t n)
{
	return (w[n / 64] >> (n % 64)) & 1;
}

static void bit_set(uint64_t *w, uint32_t n, bool on)
{
	if (on)
		w[n / 64] |= 1ull << (n % 64);
	else
		w[n / 64] &= ~(1ull << (n % 64));
}

/* This read's entries from node n's slot are its requests (they replace
 * what it asked before). */
static bool slot_counts(const struct ho_slots *sl, uint32_t n)
{
	return !sl || !n || (sl->s[n].rd == HO_SLOT_OK && sl->s[n].live);
}

/* Node n's slot did not decode this time: what it asked stands, while
 * its writer is live by its last decode. */
static bool slot_keeps(const struct ho_slots *sl, uint32_t n)
{
	return sl && n && sl->s[n].rd == HO_SLOT_BAD && sl->s[n].live;
}

/* The BAD slots to tell about: the first time, then once per
 * HO_SLOT_LOG_MS (a slot that flaps is told no more often). */
static void slot_log(struct ho_away *a, uint64_t now_ms,
		     const struct ho_slots *sl, struct ho_slot_log *log)
{
	uint32_t i;

	if (log)
		log->n = 0;
	if (!sl)
		return;
	for (i = 1; i <= SDLM_MAX_NODES; i++) {
		if (i == a->node_id || sl->s[i].rd != HO_SLOT_BAD)
			continue;
		if (a->slot_told[i] && now_ms - a->slot_told_ms[i] < HO_SLOT_LOG_MS)
			continue;
		a->slot_told[i] = true;
		a->slot_told_ms[i] = now_ms;
		if (log)
			log->node[log->n++] = i;
	}
}

int ho_away_read_slots(struct ho_away *a, uint64_t now_ms,
		       const struct ho_seen *seen, size_t n,
		       const struct ho_slots *sl, bool pill,
		       struct ho_away_out *out, struct ho_slot_log *log)
{
	struct ho_grant *g;
	uint32_t i, w;
	size_t k;

	if (!a || !out || (n && !seen))
		return -EINVAL;
	for (k = 0; k < n; k++)
		if (seen[k].from > SDLM_MAX_NODES)
			return -EINVAL;
	out->n = 0;
	slot_log(a, now_ms, sl, log);
	/* V1: a pill in the same read wins; it answers nothing more. */
	if (pill)
		a->pill = true;
	if (a->pill)
		return 0;

	/* What each slot asked before stands only if it did not decode
	 * now and its writer is live; the others say it again below. */
	for (i = 0; i < a->n; i++)
		for (w = 0; w <= SDLM_MAX_NODES; w++)
			if (bit_get(a->g[i].req_by, w) && !slot_keeps(sl, w))
				bit_set(a->g[i].req_by, w, false);
	for (k = 0; k < n; k++) {
		const struct ho_seen *s = &seen[k];

		if (ho_lkid_node(s->lkid) != a->node_id ||
		    s->target_incarnation != a->incarnation)
			continue;	/* not ours, or for a previous life */
		if (!slot_counts(sl, s->from))
			continue;	/* a writer that stopped: RH6 */
		g = away_find(a, s->lkid);
		if (g) {
			bit_set(g->req_by, s->from, true);
			continue;
		}
		if ((!s->held && !s->gone) || a->n == HO_AWAY_MAX)
			continue;	/* known, not held: ignored; full: later */
		g = &a->g[a->n++];
		memset(g, 0, sizeof(*g));
		g->lkid = s->lkid;
		g->order = a->next_order++;
		g->stop_ms = now_ms;
		bit_set(g->req_by, s->from, true);
		if (!s->held) {
			/* released here, the release lost to the cut: nothing
			 * to stop, nothing left of it (no value block) */
			g->state = HO_FINAL;
			continue;
		}
		g->state = HO_STOPPING;
		out_add(out, HO_ACT_STOP, g);
	}
	for (i = 0; i < a->n; i++) {
		g = &a->g[i];
		g->requested = false;
		for (w = 0; w < HO_SLOT_WORDS; w++)
			if (g->req_by[w])
				g->requested = true;
	}
	/* V4: stopping or final, nobody asks any more: V's again. */
	for (i = 0; i < a->n;) {
		g = &a->g[i];
		if (!g->requested &&
		    (g->state == HO_STOPPING || g->state == HO_FINAL)) {
			out_add(out, HO_ACT_KEEP, g);
			away_remove(a, g);
			continue;
		}
		i++;
	}
	return 0;
}

int ho_away_read(struct ho_away *a, uint64_t now_ms, const struct ho_seen *seen,
		 size_t n, bool pill, struct ho_away_out *out)
{
	return ho_away_read_slots(a, now_ms, seen, n, NULL, pill, out, NULL);
}

void ho_away_tick(struct ho_away *a, uint64_t now_ms,
		  const struct sdlm_timeouts *t, struct ho_away_out *out,
		  uint64_t *wake_ms)
{
	uint64_t k = ho_kill_ms(t), wake = UINT64_MAX, due;
	uint32_t i;

	out->n = 0;
	for (i = 0; i < a->n; i++) {
		struct ho_grant *g = &a->g[i];

		if (g->state != HO_STOPPING || g->kill_sent)
			continue;
		due = g->stop_ms + k;
		if (now_ms >= due) {
			g->kill_sent = true;
			out_add(out, HO_ACT_KILL, g);
		} else if (due < wake) {
			wake = due;
		}
	}
	if (wake_ms)
		*wake_ms = wake;
}

int ho_away_progress(struct ho_away *a, uint64_t lkid, uint32_t holders,
		     uint32_t io_inflight, const uint8_t *lvb)
{
	struct ho_grant *g = away_find(a, lkid);

	if (!g || g->state != HO_STOPPING)
		return -ENOENT;
	/* V2: final only once nobody holds it and none of its I/O can land. */
	if (holders || io_inflight)
		return 0;
	g->state = HO_FINAL;
	g->lvb_valid = lvb != NULL;
	if (lvb)
		memcpy(g->lvb, lvb, SDLM_HB_LVB_LEN);
	else
		memset(g->lvb, 0, SDLM_HB_LVB_LEN);
	return 1;
}

int ho_away_forgotten(struct ho_away *a, uint64_t lkid, bool users_left)
{
	/* No holder the cache knows of; a killed user not reaped yet may
	 * still be one (V2: final only once every holder is gone). */
	return ho_away_progress(a, lkid, users_left ? 1 : 0, 0, NULL);
}

/* Put g in the answer being built at index *count. */
static void answer_add(struct sdlm_hb_ans *ans, uint32_t *count, uint32_t *bits,
		       const struct ho_grant *g)
{
	struct sdlm_hb_ans *e = &ans[*count];

	e->lkid = g->lkid;
	if (g->lvb_valid) {
		memcpy(e->lvb, g->lvb, SDLM_HB_LVB_LEN);
		*bits |= 1u << *count;
	}
	(*count)++;
}

void ho_away_answer(struct ho_away *a, struct sdlm_hb *hb)
{
	struct sdlm_hb_ans ans[SDLM_HB_ANS_MAX];
	uint32_t count = 0, bits = 0, i;

	if (!a->pill) {
		memset(ans, 0, sizeof(ans));
		/* Grants already answered that a requester still names ... */
		for (i = 0; i < a->n && count < SDLM_HB_ANS_MAX; i++)
			if (a->g[i].state == HO_LISTED && a->g[i].requested)
				answer_add(ans, &count, &bits, &a->g[i]);
		/* ... then the final ones, oldest first: listed from now on
		 * (V3: the point of no return is this write's submission). */
		for (i = 0; i < a->n && count < SDLM_HB_ANS_MAX; i++) {
			if (a->g[i].state != HO_FINAL)
				continue;
			answer_add(ans, &count, &bits, &a->g[i]);
			a->g[i].state = HO_LISTED;
		}
		if (count != a->ans_count || bits != a->ans_lvb ||
		    memcmp(ans, a->ans, sizeof(ans)) != 0) {
			a->ans_seq++;
			a->ans_count = count;
			a->ans_lvb = bits;
			memcpy(a->ans, ans, sizeof(ans));
		}
	}
	hb->ans_seq = a->ans_seq;
	hb->ans_count = a->ans_count;
	hb->ans_lvb = a->ans_lvb;
	memcpy(hb->ans, a->ans, sizeof(hb->ans));
}

void ho_away_rejoin(struct ho_away *a, struct ho_away_out *out)
{
	uint32_t i;

	out->n = 0;
	for (i = 0; i < a->n;) {
		struct ho_grant *g = &a->g[i];

		if (g->state == HO_LISTED) {
			out_add(out, HO_ACT_RELEASE, g);	/* V5 */
			i++;
			continue;
		}
		out_add(out, HO_ACT_KEEP, g);			/* V4 */
		away_remove(a, g);
	}
}

int ho_away_released(struct ho_away *a, uint64_t lkid)
{
	struct ho_grant *g = away_find(a, lkid);

	if (!g || g->state != HO_LISTED)
		return -ENOENT;
	away_remove(a, g);
	return 0;
}

enum ho_grant_state ho_away_state(const struct ho_away *a, uint64_t lkid)
{
	const struct ho_grant *g = away_find(a, lkid);

	return g ? g->state : HO_HELD;
}

bool ho_away_may_use(const struct ho_away *a, uint64_t lkid)
{
	enum ho_grant_state s = ho_away_state(a, lkid);

	return s == HO_HELD || s == HO_STOPPING;
}

bool ho_away_answer_due(const struct ho_away *a)
{
	uint32_t i;

	for (i = 0; i < a->n; i++)
		if (a->g[i].state == HO_FINAL)
			return true;
	return false;
}

bool ho_away_may_grant_local(const struct ho_away *a, uint64_t lkid)
{
	return ho_away_state(a, lkid) == HO_HELD;
}

/* ---- the requester ---- */

enum ho_f1_verdict ho_f1_check(const struct ho_f1_in *in)
{
	if (in->member)
		return HO_F1_MEMBER;
	if (in->fenced)
		return HO_F1_FENCED;
	if (in->fence_in_flight)
		return HO_F1_FENCING;
	if (!in->hb_live)
		return HO_F1_NOT_LIVE;
	if (!in->replica_incarnation)
		return HO_F1_RESTARTED;
	/* No record from our last read (unreadable slot): not a restart;
	 * the next read decides, the bound of what was asked runs on. */
	if (!in->hb_incarnation)
		return HO_F1_UNREAD;
	if (in->hb_incarnation != in->replica_incarnation)
		return HO_F1_RESTARTED;
	if (in->hb_minor < HO_HB_MINOR_MIN)
		return HO_F1_OLD_MINOR;
	if (in->protocol < HO_PROTOCOL_MIN)
		return HO_F1_OLD_PROTOCOL;
	if (in->v_protocol < HO_PROTOCOL_MIN)
		return HO_F1_V_OLD_PROTOCOL;
	return HO_F1_OK;
}

const char *ho_f1_name(enum ho_f1_verdict v)
{
	switch (v) {
	case HO_F1_OK:		return "ok";
	case HO_F1_MEMBER:	return "member";
	case HO_F1_NOT_LIVE:	return "heartbeat not live";
	case HO_F1_RESTARTED:	return "another incarnation";
	case HO_F1_FENCED:	return "fenced";
	case HO_F1_FENCING:	return "fence in flight";
	case HO_F1_OLD_MINOR:	return "heartbeat minor below 2";
	case HO_F1_OLD_PROTOCOL: return "lockspace protocol below 3";
	case HO_F1_V_OLD_PROTOCOL: return "V announced a protocol below 3";
	case HO_F1_UNREAD:	return "heartbeat slot not read";
	}
	return "unknown";
}

void ho_req_init(struct ho_requester *r, uint32_t node_id)
{
	memset(r, 0, sizeof(*r));
	r->node_id = node_id;
}

static struct ho_entry *req_find(struct ho_requester *r, uint64_t lkid,
				 uint64_t target_incarnation)
{
	uint32_t i;

	for (i = 0; i < r->n; i++)
		if (r->e[i].lkid == lkid &&
		    r->e[i].target_incarnation == target_incarnation)
			return &r->e[i];
	return NULL;
}

static void req_remove(struct ho_requester *r, struct ho_entry *e)
{
	ordered_remove(r->e, sizeof(r->e[0]), &r->n, (size_t)(e - r->e));
}

int ho_req_want(struct ho_requester *r, uint64_t lkid, uint64_t target_incarnation)
{
	struct ho_entry *e;
	uint32_t node = ho_lkid_node(lkid);

	if (!node || node == r->node_id || !target_incarnation)
		return -EINVAL;
	if (req_find(r, lkid, target_incarnation))
		return -EEXIST;
	if (r->n == HO_REQ_MAX)
		return -ENOSPC;
	e = &r->e[r->n++];
	memset(e, 0, sizeof(*e));
	e->lkid = lkid;
	e->target_incarnation = target_incarnation;
	e->order = r->next_order++;
	return 0;
}

int ho_req_drop(struct ho_requester *r, uint64_t lkid, uint64_t target_incarnation)
{
	struct ho_entry *e = req_find(r, lkid, target_incarnation);

	if (!e)
		return -ENOENT;
	req_remove(r, e);
	return 0;
}

void ho_req_drop_node(struct ho_requester *r, uint32_t node)
{
	uint32_t i;

	for (i = 0; i < r->n;) {
		if (ho_lkid_node(r->e[i].lkid) == node) {
			req_remove(r, &r->e[i]);
			continue;
		}
		i++;
	}
}

void ho_req_clear(struct ho_requester *r)
{
	r->n = 0;
	memset(r->e, 0, sizeof(r->e));
}

/* Entries are kept in the order they were wanted: the area is the head. */
void ho_req_area(struct ho_requester *r, struct sdlm_hb *hb)
{
	struct sdlm_hb_req area[SDLM_HB_REQ_MAX];
	uint32_t i;

	memset(area, 0, sizeof(area));
	for (i = 0; i < r->n; i++) {
		r->e[i].in_write = i < SDLM_HB_REQ_MAX;
		if (i < SDLM_HB_REQ_MAX) {
			area[i].lkid = r->e[i].lkid;
			area[i].target_incarnation = r->e[i].target_incarnation;
		}
	}
	if (memcmp(area, r->area, sizeof(area)) != 0) {
		r->req_seq++;
		memcpy(r->area, area, sizeof(area));
	}
	hb->req_seq = r->req_seq;
	memcpy(hb->req, r->area, sizeof(hb->req));
}

void ho_req_written(struct ho_requester *r, uint64_t now_ms, bool ok)
{
	uint32_t i;

	for (i = 0; i < r->n; i++) {
		struct ho_entry *e = &r->e[i];

		if (!e->in_write)
			continue;
		e->in_write = false;
		if (ok && !e->carried) {
			e->carried = true;
			e->carried_ms = now_ms;
		}
	}
}

void ho_req_tick(struct ho_requester *r, uint64_t now_ms,
		 const struct sdlm_timeouts *t, struct ho_req_out *out,
		 uint64_t *wake_ms)
{
	uint64_t b = ho_bound_ms(t), wake = UINT64_MAX, due;
	uint32_t i;

	out->n = 0;
	for (i = 0; i < r->n; i++) {
		struct ho_entry *e = &r->e[i];

		if (!e->carried || e->answered || e->fence_sent)
			continue;
		due = e->carried_ms + b;
		if (now_ms >= due) {
			e->fence_sent = true;
			out->e[out->n].lkid = e->lkid;
			out->e[out->n].target_incarnation = e->target_incarnation;
			out->n++;
		} else if (due < wake) {
			wake = due;
		}
	}
	if (wake_ms)
		*wake_ms = wake;
}

size_t ho_answer_filter(const struct ho_answer_in *in, struct ho_release *out)
{
	const struct sdlm_hb *hb = in->hb;
	size_t n = 0;
	uint32_t i;

	if (!hb || hb->node_id != in->node || hb->minor < HO_HB_MINOR_MIN)
		return 0;
	/* F2: an answer is its record's incarnation's, and only V's current
	 * one (as the replica records it), not fenced, counts. */
	if (!in->replica_incarnation || hb->incarnation != in->replica_incarnation ||
	    in->fenced)
		return 0;
	for (i = 0; i < hb->ans_count && i < SDLM_HB_ANS_MAX; i++) {
		const struct sdlm_hb_ans *a = &hb->ans[i];

		if (ho_lkid_node(a->lkid) != in->node)
			continue;	/* hb_in refuses it; never trusted */
		memset(&out[n], 0, sizeof(out[n]));
		out[n].incarnation = hb->incarnation;
		out[n].lkid = a->lkid;
		out[n].lvb_valid = (hb->ans_lvb >> i) & 1;
		if (out[n].lvb_valid)
			memcpy(out[n].lvb, a->lvb, SDLM_HB_LVB_LEN);
		n++;
	}
	return n;
}

void ho_req_note_answer(struct ho_requester *r, const struct ho_release *rel,
			size_t n)
{
	struct ho_entry *e;
	size_t k;

	for (k = 0; k < n; k++) {
		e = req_find(r, rel[k].lkid, rel[k].incarnation);
		if (e)
			e->answered = true;
	}
}

/* ---- the requester's lockspace ---- */

bool ho_ls_has_node(const struct ho_ls *s, uint32_t node)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (ho_lkid_node(s->lkid[i]) == node)
			return true;
	return false;
}

static bool ls_has(const struct ho_ls *s, uint64_t lkid, uint64_t inc)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->lkid[i] == lkid && s->inc[i] == inc)
			return true;
	return false;
}

/* Entry i leaves the lockspace and the daemon's area. */
static void ls_forget(struct ho_ls *s, struct ho_requester *r, size_t i,
		      struct ho_ls_chg *chg)
{
	(void)ho_req_drop(r, s->lkid[i], s->inc[i]);
	if (chg)
		chg->drop[chg->n_drop++] = s->lkid[i];
	memmove(&s->lkid[i], &s->lkid[i + 1], (s->n - i - 1) * sizeof(s->lkid[0]));
	memmove(&s->inc[i], &s->inc[i + 1], (s->n - i - 1) * sizeof(s->inc[0]));
	s->n--;
}

static void chg_reset(struct ho_ls_chg *chg)
{
	if (chg)
		chg->n_drop = chg->n_add = chg->n_refused = 0;
}

bool ho_ls_request(struct ho_ls *s, struct ho_requester *r, uint32_t node,
		   uint64_t inc, const uint64_t *want, size_t nw,
		   struct ho_ls_chg *chg)
{
	bool ok = true, still;
	size_t i, k;
	int rc;

	chg_reset(chg);
	if (nw > HO_LS_MAX)
		nw = HO_LS_MAX;
	/* F5: no longer wanted (its release delivered, the waiter gone) or
	 * asked of another incarnation. */
	for (i = 0; i < s->n;) {
		if (ho_lkid_node(s->lkid[i]) != node) {
			i++;
			continue;
		}
		still = false;
		for (k = 0; k < nw; k++)
			if (want[k] == s->lkid[i] && s->inc[i] == inc)
				still = true;
		if (!still) {
			ls_forget(s, r, i, chg);
			continue;
		}
		i++;
	}
	/* F1: at once, no grace. */
	for (k = 0; k < nw; k++) {
		if (ls_has(s, want[k], inc))
			continue;
		if (s->n == HO_LS_MAX) {
			ok = false;
			break;
		}
		rc = ho_req_want(r, want[k], inc);
		if (rc < 0 && rc != -EEXIST) {
			if (chg) {
				chg->refused[chg->n_refused] = want[k];
				chg->refused_rc[chg->n_refused++] = rc;
			}
			ok = false;
			continue;
		}
		if (chg)
			chg->add[chg->n_add++] = want[k];
		s->lkid[s->n] = want[k];
		s->inc[s->n] = inc;
		s->n++;
	}
	return ok;
}

void ho_ls_drop_node(struct ho_ls *s, struct ho_requester *r, uint32_t node,
		     struct ho_ls_chg *chg)
{
	size_t i;

	chg_reset(chg);
	for (i = 0; i < s->n;) {
		if (!node || ho_lkid_node(s->lkid[i]) == node) {
			ls_forget(s, r, i, chg);
			continue;
		}
		i++;
	}
}

bool ho_ls_resend_due(struct ho_ls *s, uint64_t lkid, uint64_t now_ms,
		      uint64_t interval_ms)
{
	size_t i, old = 0;

	for (i = 0; i < HO_LS_MAX; i++) {
		if (s->rel_lkid[i] == lkid && now_ms - s->rel_ms[i] < interval_ms)
			return false;
		if (s->rel_ms[i] < s->rel_ms[old])
			old = i;
	}
	s->rel_lkid[old] = lkid;
	s->rel_ms[old] = now_ms;
	return true;
}

void ho_node_decide(const struct ho_node_in *in, struct ho_node_out *out)
{
	memset(out, 0, sizeof(*out));
	if (!in->since_ms && !in->has_entries)
		return;
	if (in->member) {
		/* Came back in time: keeps its locks. */
		out->act = HO_NODE_MEMBER;
		return;
	}
	if (in->ho_on) {
		if (in->f1 == HO_F1_OK && in->asked_all) {
			out->act = HO_NODE_HANDOFF;
			return;
		}
		/* Its slot unreadable this time: what was asked stays
		 * asked, and the bound B (F4), not the grace, decides
		 * (review s26-rev-handoff RH1). */
		if (in->f1 == HO_F1_UNREAD && in->has_entries) {
			out->act = HO_NODE_HANDOFF;
			return;
		}
		/* A fence in flight keeps what was asked (F4: an answer
		 * that comes first still counts); F1 OK with some lock not
		 * asked keeps the rest asked. */
		out->drop = in->has_entries && in->f1 != HO_F1_OK &&
			    in->f1 != HO_F1_FENCING && in->f1 != HO_F1_UNREAD;
	}
	if (!in->since_ms)
		return;
	/* Away and its heartbeat stopped: no reason to wait for the grace
	 * (the dead path itself waits the dead bound); nor after a hand-off
	 * not answered within its bound (F4). */
	if (in->now_ms - in->since_ms < in->grace_ms && in->hb_live &&
	    !in->bound_passed)
		return;
	out->act = HO_NODE_FENCE;
}

bool ho_release_applies(const struct ho_held *h, uint64_t incarnation,
			uint64_t lkid)
{
	return h->by_v && !h->v_fenced && incarnation &&
	       h->incarnation == incarnation && h->lkid == lkid;
}
