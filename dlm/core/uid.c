/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uid.c - the UID allocator's pure core (see uid.h for the state machine
 * and docs/uid.md for the safety argument).
 *
 * The two copies of a mailbox record, as this holder sees them:
 *
 *	copy_w[0], copy_w[1]	watermarks our own completed writes put there
 *	usable = min(copy_w)	highest UID we may hand out
 *	max(copy_w)		highest UID reserved (durable in one copy)
 *	issued_w[0], issued_w[1]  the highest watermark each copy was ever
 *				sent (a failed or timed-out write may have
 *				landed it): the floor of every later write
 *				to that copy
 *
 * Takeover (and create, and a UIDVALIDITY bump) writes copy 0 := A then,
 * once that completed, copy 1 := B, with base = max(durable max, next-1),
 * A = base + range and B = A + range: usable = A, one range in reserve.
 * Each later reservation rewrites the LOWER copy with max + range, issued
 * when less than half a range is left below usable, so usable advances
 * by one range per write and allocations below it need no I/O:
 *
 *	copies (A, B)      usable A    next in (A - r, A]  -> write copy 0 := B + r
 *	copies (B + r, B)  usable B    next in (B - r, B]  -> write copy 1 := B + 2r
 *
 * Adaptation, at each reservation write: if the previous reservation
 * write was issued less than grow_ns ago the range doubles, if more than
 * shrink_ns ago it halves, always within [reserve_min, reserve_max].  So a
 * range lasts about grow_ns..shrink_ns at the current rate, and a fenced
 * holder burns at most about 2.5 ranges of the 32-bit space.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "sdlm.h"
#include "crc32c.h"
#include "uid.h"

#define NS_PER_SEC		1000000000ull
#define UID_GROW_NS_DEFAULT	(1 * NS_PER_SEC)
#define UID_SHRINK_NS_DEFAULT	(30 * NS_PER_SEC)

#define LVB_MAGIC		0x4955u		/* "UI" little-endian */
#define LVB_VERSION		1
#define LVB_CRC_OFFSET		28

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static uint32_t max_u32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

/* a + b, clamped to the largest UID. */
static uint32_t uid_add_clamp(uint32_t a, uint64_t b)
{
	uint64_t s = (uint64_t)a + b;

	return s > UID_MAX ? UID_MAX : (uint32_t)s;
}

static bool guid_is_nil(const uint8_t guid[UID_GUID_LEN])
{
	static const uint8_t nil[UID_GUID_LEN];

	return memcmp(guid, nil, UID_GUID_LEN) == 0;
}

/* ---- parameters ---- */

void uid_params_default(struct uid_params *p)
{
	memset(p, 0, sizeof(*p));	/* every field, later ones too */
	p->reserve_min = UID_RESERVE_MIN_DEFAULT;
	p->reserve_max = UID_RESERVE_MAX_DEFAULT;
	p->grow_ns = UID_GROW_NS_DEFAULT;
	p->shrink_ns = UID_SHRINK_NS_DEFAULT;
}

/* Returns 0 or -EINVAL. */
int uid_params_check(const struct uid_params *p)
{
	if (!p || p->reserve_min < 1 || p->reserve_min > p->reserve_max ||
	    p->reserve_max > UID_RESERVE_CAP || p->grow_ns >= p->shrink_ns)
		return -EINVAL;
	return 0;
}

/* ---- LVB ---- */

struct lvb_wire {
	uint16_t magic;
	uint8_t version;
	uint8_t flags;
	uint32_t uidvalidity;
	uint64_t epoch;
	uint32_t next;
	uint32_t slot_plus1;
	uint32_t range;
	uint32_t crc;
};

_Static_assert(sizeof(struct lvb_wire) == UID_LVB_LEN, "uid lvb size");
_Static_assert(UID_LVB_LEN == SDLM_LVB_LEN, "the LVB is the lock's");
_Static_assert(offsetof(struct lvb_wire, crc) == LVB_CRC_OFFSET, "uid lvb crc");
_Static_assert(offsetof(struct lvb_wire, epoch) == 8, "uid lvb epoch");
_Static_assert(offsetof(struct lvb_wire, next) == 16, "uid lvb next");

static bool lvb_is_sane(const struct uid_lvb *l)
{
	return l->uidvalidity && l->epoch && l->next;
}

/* Returns 0 or -EINVAL. */
int uid_lvb_out(const struct uid_lvb *l, uint8_t out[UID_LVB_LEN])
{
	struct lvb_wire wv;

	if (!l || !out || !lvb_is_sane(l))
		return -EINVAL;
	memset(&wv, 0, sizeof(wv));
	wv.magic = htole16(LVB_MAGIC);
	wv.version = LVB_VERSION;
	wv.uidvalidity = htole32(l->uidvalidity);
	wv.epoch = htole64(l->epoch);
	wv.next = htole32(l->next);
	wv.slot_plus1 = htole32(l->slot_plus1);
	wv.range = htole32(l->range);
	wv.crc = htole32(crc32c(0, &wv, LVB_CRC_OFFSET));
	memcpy(out, &wv, UID_LVB_LEN);
	return 0;
}

/* Returns 0, UID_LVB_EMPTY, -EINVAL, SDLM_EMAGIC/EVERSION/ECHECKSUM, -EUCLEAN. */
int uid_lvb_in(struct uid_lvb *l, const uint8_t in[UID_LVB_LEN])
{
	static const uint8_t zero[UID_LVB_LEN];
	struct lvb_wire wv;

	if (!l)
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	if (!in)
		return -EINVAL;
	if (memcmp(in, zero, UID_LVB_LEN) == 0)
		return UID_LVB_EMPTY;
	memcpy(&wv, in, UID_LVB_LEN);
	if (le16toh(wv.magic) != LVB_MAGIC)
		return SDLM_EMAGIC;
	if (wv.version != LVB_VERSION)
		return SDLM_EVERSION;
	if (le32toh(wv.crc) != crc32c(0, &wv, LVB_CRC_OFFSET))
		return SDLM_ECHECKSUM;
	l->uidvalidity = le32toh(wv.uidvalidity);
	l->epoch = le64toh(wv.epoch);
	l->next = le32toh(wv.next);
	l->slot_plus1 = le32toh(wv.slot_plus1);
	l->range = le32toh(wv.range);
	if (!lvb_is_sane(l)) {
		memset(l, 0, sizeof(*l));
		return -EUCLEAN;
	}
	return 0;
}

/* ---- write sequences ---- */

/* Fill w with the record for copy c of the sequence in progress. */
static void op_issue(struct uid_mbox *m, uint32_t c, uint32_t res_first,
		     uint32_t res_last, struct uid_write *w)
{
	struct uid_rec *r = &w->rec;

	*r = m->um_op_rec;
	r->copy = c;
	r->seq = ++m->um_seq;
	r->watermark = m->um_op_w[c];
	r->res_first = res_first;
	r->res_last = res_last;
	if (r->watermark > m->um_issued_w[c])
		m->um_issued_w[c] = r->watermark;
	w->count = 1;
	m->um_op_copy = c;
	m->um_inflight = true;
}

/* The record every write of this holder carries, before per-write fields. */
static void op_template(struct uid_mbox *m, uint32_t state, uint32_t uidvalidity)
{
	struct uid_rec *r = &m->um_op_rec;

	memset(r, 0, sizeof(*r));
	r->state = state;
	memcpy(r->guid, m->um_guid, UID_GUID_LEN);
	r->slot = m->um_slot;
	r->gen = m->um_gen;
	r->epoch = m->um_epoch;
	r->incarnation = m->um_incarnation;
	r->node_id = m->um_node_id;
	r->uidvalidity = uidvalidity;
	r->name_len = m->um_name_len;
	memcpy(r->name, m->um_name, m->um_name_len);
	r->floor = m->um_floor;
	memcpy(r->lstag, m->um_lstag, UIDREC_LSTAG_LEN);
	if (m->um_prov) {
		r->flags |= UIDREC_F_PROVISIONAL;
		r->prov_base = m->um_prov_base;
	}
}

/* Reservation journal entry for a write raising a watermark from..to. */
static void res_span(uint64_t from_excl, uint32_t to, uint32_t *first,
		     uint32_t *last)
{
	if (from_excl >= to) {
		*first = 0;
		*last = 0;
	} else {
		*first = (uint32_t)(from_excl + 1);
		*last = to;
	}
}

/*
 * Start a two-write sequence that sets both copies (takeover, create,
 * bump): copy 0 := base + r first, copy 1 := base + 2r after it.  start is
 * the first UID this holder will hand out (2^32 = none left).
 */
static int op_start_pair(struct uid_mbox *m, enum uid_op op, uint32_t state,
			 uint32_t uidvalidity, uint32_t base, uint64_t start,
			 struct uid_write *w)
{
	uint32_t first, last;

	m->um_op = op;
	m->um_op_from = m->um_phase;
	m->um_phase = UID_STARTING;
	/* Nothing handed out yet: the floor is the first UID (a failed
	 * sequence goes IDLE and leaves no LVB to check against it). */
	m->um_floor = start > UID_MAX ? UID_MAX : (uint32_t)start;
	op_template(m, state, uidvalidity);
	m->um_op_w[0] = uid_add_clamp(base, m->um_range);
	m->um_op_w[1] = uid_add_clamp(m->um_op_w[0], m->um_range);
	m->um_op_next = start > UID_MAX ? 0 : (uint32_t)start;
	m->um_op_left = 1;
	res_span(start - 1, m->um_op_w[0], &first, &last);
	op_issue(m, 0, first, last, w);
	return UID_WAIT;
}

/*
 * The floor a write of a READY holder carries: the lowest UID not handed
 * out yet.  um_next only rises, so the next a release puts in the LVB is
 * at or above the floor of every write before it.
 */
static void floor_now(struct uid_mbox *m)
{
	m->um_floor = m->um_exhausted ? UID_MAX : m->um_next;
}

/*
 * Two writes that rewrite both copies with their current watermarks and a
 * new state or name (never lowering a copy: each keeps its own value).
 */
static int op_start_rewrite(struct uid_mbox *m, enum uid_op op, uint32_t state,
			    const char *name, size_t name_len,
			    struct uid_write *w)
{
	m->um_op = op;
	m->um_op_from = m->um_phase;
	m->um_phase = UID_STARTING;
	floor_now(m);
	op_template(m, state, m->um_uidvalidity);
	memset(m->um_op_rec.name, 0, sizeof(m->um_op_rec.name));
	memcpy(m->um_op_rec.name, name, name_len);
	m->um_op_rec.name_len = (uint16_t)name_len;
	/* A copy may hold a higher watermark than we know (a failed write
	 * that landed): never write it lower. */
	m->um_op_w[0] = max_u32(m->um_copy_w[0], m->um_issued_w[0]);
	m->um_op_w[1] = max_u32(m->um_copy_w[1], m->um_issued_w[1]);
	m->um_op_next = m->um_next;
	m->um_op_left = 1;
	op_issue(m, 0, 0, 0, w);
	return UID_WAIT;
}

/*
 * Adapt the range to the rate, then reserve one range in the lower copy
 * (or in the copy a reaped late write left unknown).  Returns false, and
 * issues nothing, when that copy is stuck.
 */
static bool reserve_issue(struct uid_mbox *m, const struct uid_params *p,
			  uint32_t count, uint64_t now_ns, struct uid_write *w)
{
	uint64_t elapsed = now_ns - m->um_last_reserve_ns;
	uint32_t lo = m->um_copy_w[0] <= m->um_copy_w[1] ? 0 : 1;
	uint32_t hi_w = max_u32(m->um_copy_w[0], m->um_copy_w[1]);
	uint32_t range, first, last;

	if (m->um_rewrite & (1u << !lo))
		lo = !lo;
	if (m->um_stuck & (1u << lo))
		return false;

	if (now_ns >= m->um_last_reserve_ns && elapsed < p->grow_ns)
		m->um_range = min_u32(m->um_range * 2, p->reserve_max);
	else if (now_ns >= m->um_last_reserve_ns && elapsed > p->shrink_ns)
		m->um_range = max_u32(m->um_range / 2, p->reserve_min);
	m->um_last_reserve_ns = now_ns;
	range = max_u32(m->um_range, count);

	m->um_op = UID_OP_RESERVE;
	m->um_op_from = m->um_phase;
	floor_now(m);
	op_template(m, UIDREC_USED, m->um_uidvalidity);
	/* Never below what this copy was sent before (a failed write
	 * that landed; the range may have shrunk since): no copy goes down. */
	m->um_op_w[lo] = max_u32(uid_add_clamp(hi_w, range), m->um_issued_w[lo]);
	m->um_op_w[!lo] = m->um_copy_w[!lo];
	m->um_op_left = 0;
	res_span(hi_w, m->um_op_w[lo], &first, &last);
	op_issue(m, lo, first, last, w);
	m->um_rewrite &= ~(1u << lo);
	return true;
}

/* Can a reservation write still raise usable? */
static bool reserve_possible(const struct uid_mbox *m)
{
	return min_u32(m->um_copy_w[0], m->um_copy_w[1]) < UID_MAX;
}

/* ---- holder operations ---- */

static int holder_init(struct uid_mbox *m, const struct uid_params *p,
		       const uint8_t guid[UID_GUID_LEN], uint64_t slot,
		       uint32_t node_id, uint64_t incarnation, uint64_t now_ns)
{
	uint8_t tag[UIDREC_LSTAG_LEN];
	bool may_stamp = m->um_may_stamp;

	if (uid_params_check(p) || guid_is_nil(guid) ||
	    node_id < 1 || node_id > SDLM_MAX_NODES)
		return -EINVAL;
	memcpy(tag, m->um_lstag, UIDREC_LSTAG_LEN);
	memset(m, 0, sizeof(*m));
	memcpy(m->um_lstag, tag, UIDREC_LSTAG_LEN);	/* uid_set_lstag's */
	m->um_may_stamp = may_stamp;
	memcpy(m->um_guid, guid, UID_GUID_LEN);
	m->um_slot = slot;
	m->um_node_id = node_id;
	m->um_incarnation = incarnation;
	m->um_range = p->reserve_min;
	m->um_last_reserve_ns = now_ns;
	return 0;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

void uid_set_lstag(struct uid_mbox *m, const uint8_t tag[UIDREC_LSTAG_LEN], bool may_stamp)
{
	if (!m)
		return;
	if (tag)
		memcpy(m->um_lstag, tag, UIDREC_LSTAG_LEN);
	else
		memset(m->um_lstag, 0, UIDREC_LSTAG_LEN);
	m->um_may_stamp = may_stamp;
}

static bool tag_is_nil(const uint8_t tag[UIDREC_LSTAG_LEN])
{
	static const uint8_t nil[UIDREC_LSTAG_LEN];

	return memcmp(tag, nil, UIDREC_LSTAG_LEN) == 0;
}

/* Returns UID_WAIT, -ENOENT, -EINVAL, SDLM_EOTHERLS or -EPERM; see uid.h. */
int uid_takeover(struct uid_mbox *m, const struct uid_params *p,
		 const uint8_t guid[UID_GUID_LEN], uint64_t slot,
		 const struct uid_slot_view *v, const uint8_t *lvb,
		 uint64_t lock_epoch, uint32_t node_id, uint64_t incarnation,
		 uint64_t now_ns, struct uid_write *w)
{
	struct uid_lvb l;
	uint64_t start;
	bool lvb_ok = false;
	int rv;

	if (!m || !p || !guid || !v || !w)
		return -EINVAL;
	w->count = 0;
	if (uid_busy(m))
		return -EBUSY;
	rv = holder_init(m, p, guid, slot, node_id, incarnation, now_ns);
	if (rv)
		return rv;
	if (v->kind != UID_SLOT_USED || memcmp(v->guid, guid, UID_GUID_LEN) != 0)
		return -ENOENT;
	/* The record belongs to one lockspace, whose mailbox lock we may
	 * not be holding (docs/uid.md, "One GUID, one lockspace"). */
	if (!tag_is_nil(m->um_lstag)) {
		enum uid_lstag_verdict lv = uid_lstag_check(v, m->um_lstag);

		if (lv == UID_LSTAG_OTHER)
			return SDLM_EOTHERLS;
		if (lv == UID_LSTAG_STAMP && !m->um_may_stamp)
			return -EPERM;
	}

	m->um_gen = v->gen;
	m->um_seq = v->seq;
	m->um_uidvalidity = v->uidvalidity;
	m->um_name_len = v->latest.name_len;
	memcpy(m->um_name, v->latest.name, v->latest.name_len);
	m->um_epoch = max_u64(lock_epoch, v->epoch + 1);
	start = (uint64_t)v->watermark + 1;

	/*
	 * The LVB counts only if it is at least as recent as the disk (its
	 * writer was the last to write the record) and its next is not
	 * below the floor of that write (the lowest UID its writer had not
	 * handed out then; its next only rose since); otherwise resume from
	 * the disk.  Every UID handed out before that write is below the
	 * floor, so a next at or above it reuses none of them; what the
	 * writer handed out after its last write (about one range) the
	 * disk cannot see: that is what the reserved uid:* names guard
	 * (docs/uid.md).  A record without a floor (minor < 2) bounds
	 * nothing below its maximum + 1: such a next is not used.
	 *
	 * A next above the disk's maximum + 1 is honoured, never
	 * discarded: the disk can only be behind its writer because late
	 * landings lowered it below UIDs that writer handed out (starting
	 * at disk + 1 would reuse them); op_start_pair rewrites both copies
	 * above it.  It is above the floor too (the floor is at most the
	 * watermark + 1), so the two rules never disagree; a forged high
	 * next costs a gap, never a reuse.
	 */
	m->um_lvb_verdict = UID_LVBV_NONE;
	if (lvb) {
		rv = uid_lvb_in(&l, lvb);
		if (rv < 0) {
			m->um_lvb_verdict = UID_LVBV_BAD;
			m->um_lvb_err = rv;
		} else if (rv == 0) {
			m->um_epoch = max_u64(m->um_epoch, l.epoch + 1);
			m->um_lvb_next = l.next;
			m->um_lvb_epoch = l.epoch;
			if (l.uidvalidity != v->uidvalidity ||
			    (l.slot_plus1 != 0 && l.slot_plus1 - 1 != slot))
				m->um_lvb_verdict = UID_LVBV_OTHER;
			else if (l.epoch < v->epoch)
				m->um_lvb_verdict = UID_LVBV_STALE;
			else if (l.next <= v->watermark && !v->floor)
				m->um_lvb_verdict = UID_LVBV_NOFLOOR;
			else if (l.next < v->floor)
				m->um_lvb_verdict = UID_LVBV_BELOW;
			else
				lvb_ok = true;
		}
		if (lvb_ok) {
			m->um_lvb_verdict = UID_LVBV_USED;
			m->um_lvb_above = l.next > (uint64_t)v->watermark + 1;
			start = l.next;
			if (l.range >= p->reserve_min && l.range <= p->reserve_max)
				m->um_range = l.range;
		}
	}
	m->um_lvb_used = lvb_ok;
	/* One copy damaged: it may have reserved up to one range above the
	 * intact one, and the LVB may be older than it. */
	if (v->damaged_copy) {
		uint64_t above = (uint64_t)v->watermark + 1 + UID_DAMAGE_MARGIN;

		m->um_damaged_copy = v->damaged_copy;
		if (start < above)
			start = above > (uint64_t)UID_MAX + 1 ? (uint64_t)UID_MAX + 1 : above;
	}
	if (v->provisional) {
		m->um_prov = true;
		m->um_prov_base = v->prov_base;
	} else if (p->provisional) {
		m->um_prov = true;
		m->um_prov_base = (uint32_t)(start - 1);
	}
	return op_start_pair(m, UID_OP_TAKEOVER, UIDREC_USED, m->um_uidvalidity,
			     max_u32(v->watermark, (uint32_t)(start - 1)),
			     start, w);
}

/* Returns UID_WAIT, -EINVAL, -ENAMETOOLONG, -EILSEQ or -EEXIST; see uid.h. */
/* A new record: both copies written from first, generation gen. */
static int create_start(struct uid_mbox *m, const struct uid_params *p,
			const uint8_t guid[UID_GUID_LEN], const char *name,
			size_t name_len, uint32_t uidvalidity, uint32_t first,
			uint64_t gen, uint64_t epoch, uint64_t slot,
			uint32_t node_id, uint64_t incarnation, uint64_t now_ns,
			struct uid_write *w)
{
	int rv;

	rv = holder_init(m, p, guid, slot, node_id, incarnation, now_ns);
	if (rv)
		return rv;
	m->um_gen = gen;
	m->um_uidvalidity = uidvalidity;
	m->um_name_len = (uint16_t)name_len;
	memcpy(m->um_name, name, name_len);
	m->um_epoch = epoch;
	m->um_prov = p->provisional;
	m->um_prov_base = first - 1;
	return op_start_pair(m, UID_OP_TAKEOVER, UIDREC_USED, uidvalidity,
			     first - 1, first, w);
}

/* Checks common to uid_create and uid_import: 0 or the error. */
static int create_check(const struct uid_mbox *m, const struct uid_params *p,
			const uint8_t *guid, const char *name, size_t name_len,
			struct uid_write *w)
{
	if (!m || !p || !guid || !w)
		return -EINVAL;
	w->count = 0;
	if (uid_busy(m))
		return -EBUSY;
	return uidrec_name_check(name, name_len);
}

/* The epoch of a new record in a slot whose view is v (NULL: unknown). */
static uint64_t create_epoch(const struct uid_slot_view *v,
			     const uint8_t guid[UID_GUID_LEN], uint64_t epoch)
{
	epoch = max_u64(epoch, 1);
	/* A tombstone of this very GUID: its lock's epochs go on rising. */
	if (v && v->kind == UID_SLOT_DELETED &&
	    memcmp(v->guid, guid, UID_GUID_LEN) == 0)
		epoch = max_u64(epoch, v->epoch + 1);
	return epoch;
}

int uid_create(struct uid_mbox *m, const struct uid_params *p,
	       const uint8_t guid[UID_GUID_LEN], const char *name,
	       size_t name_len, uint32_t uidvalidity, uint64_t slot,
	       const struct uid_slot_view *v, uint64_t lock_epoch,
	       uint32_t node_id, uint64_t incarnation, uint64_t now_ns,
	       struct uid_write *w)
{
	int rv;

	if (!v || !uidvalidity)
		return -EINVAL;
	rv = create_check(m, p, guid, name, name_len, w);
	if (rv)
		return rv;
	if (v->kind == UID_SLOT_USED)
		return -EEXIST;
	return create_start(m, p, guid, name, name_len, uidvalidity, 1,
			    v->gen + 1, create_epoch(v, guid, lock_epoch), slot,
			    node_id, incarnation, now_ns, w);
}

/* Returns 0 or an error; the table of cases is in uid.h. */
int uid_import_plan(const struct uid_import_req *q, int found,
		    const struct uid_slot_view *v, uint64_t now_ms,
		    struct uid_import_plan *pl)
{
	uint64_t next, now_s = now_ms / 1000;

	if (!q || !pl || (found >= 0 && !v) || found > 0)
		return -EINVAL;
	memset(pl, 0, sizeof(*pl));
	if (!q->restore && (!q->uidvalidity || !q->next))
		return -EINVAL;
	if (found == 0) {
		if (q->restore)
			return -EEXIST;
		if (v->uidvalidity != q->uidvalidity)
			return -EEXIST;
		pl->act = UID_IMPORT_RAISE;
		pl->uidvalidity = q->uidvalidity;
		pl->next = q->next;
		return 0;
	}
	if (found == -ENOENT) {
		if (q->restore)
			return -ENOENT;
		next = q->next;
		if (v->kind == UID_SLOT_DELETED &&
		    !memcmp(v->guid, q->guid, UID_GUID_LEN)) {
			if (q->uidvalidity < v->uidvalidity)
				return -ERANGE;
			if (q->uidvalidity == v->uidvalidity &&
			    next <= v->watermark)
				next = (uint64_t)v->watermark + 1;
		}
		if (next > UID_MAX)
			return UID_EWRAP;
		pl->act = UID_IMPORT_CREATE;
		pl->uidvalidity = q->uidvalidity;
		pl->next = (uint32_t)next;
		return 0;
	}
	if (!q->restore)
		return found;
	pl->act = UID_IMPORT_RESTORE;
	pl->gen = max_u64(now_ms, 1);
	next = (uint64_t)(q->next ? q->next : 1) + UID_RESTORE_MARGIN;
	if (q->uidvalidity && next <= UID_MAX) {
		pl->uidvalidity = q->uidvalidity;
		pl->next = (uint32_t)next;
		return 0;
	}
	/* Not known, or no room left under it: a new UIDVALIDITY, next 1. */
	next = max_u64(now_s, (uint64_t)q->uidvalidity + 1);
	if (next > UINT32_MAX)
		return -EOVERFLOW;
	pl->uidvalidity = (uint32_t)next;
	pl->next = 1;
	pl->bumped = true;
	return 0;
}

/* Returns UID_WAIT or an error; see uid.h. */
int uid_import(struct uid_mbox *m, const struct uid_params *p,
	       const struct uid_import_plan *pl, const uint8_t guid[UID_GUID_LEN],
	       const char *name, size_t name_len, uint64_t slot,
	       const struct uid_slot_view *v, uint64_t epoch_min,
	       uint64_t lock_epoch, uint32_t node_id, uint64_t incarnation,
	       uint64_t now_ns, struct uid_write *w)
{
	uint64_t gen, epoch = max_u64(lock_epoch, epoch_min);
	int rv;

	if (!pl || !pl->uidvalidity || !pl->next)
		return -EINVAL;
	if (epoch_min > UID_EPOCH_MIN_MAX)
		return -ERANGE;
	rv = create_check(m, p, guid, name, name_len, w);
	if (rv)
		return rv;
	if (pl->act == UID_IMPORT_CREATE) {
		if (!v)
			return -EINVAL;
		if (v->kind == UID_SLOT_USED)
			return -EEXIST;
		gen = v->gen + 1;
		epoch = create_epoch(v, guid, epoch);
	} else if (pl->act == UID_IMPORT_RESTORE && pl->gen) {
		gen = pl->gen;
		epoch = create_epoch(NULL, guid, epoch);
	} else {
		return -EINVAL;
	}
	return create_start(m, p, guid, name, name_len, pl->uidvalidity,
			    pl->next, gen, epoch, slot, node_id, incarnation,
			    now_ns, w);
}

/* Returns 0, UID_WAIT, may_use, -ENOLCK, -EINVAL or UID_EWRAP; see uid.h. */
int uid_alloc(struct uid_mbox *m, const struct uid_params *p, uint32_t count,
	      uint64_t now_ns, int may_use, uint32_t *first,
	      struct uid_write *w)
{
	uint64_t end, usable;

	if (!m || !p || !first || !w)
		return -EINVAL;
	w->count = 0;
	if (may_use)
		return may_use;
	if (m->um_phase == UID_STARTING)
		return UID_WAIT;	/* a two-write sequence is under way */
	if (m->um_phase != UID_READY)
		return -ENOLCK;
	if (count == 0 || count > p->reserve_max)
		return -EINVAL;
	if (m->um_exhausted)
		return UID_EWRAP;
	end = (uint64_t)m->um_next + count - 1;	/* last UID handed out */
	if (end > UID_MAX)
		return UID_EWRAP;

	usable = min_u32(m->um_copy_w[0], m->um_copy_w[1]);
	if (end > usable) {
		/* (nothing issued while the copy to write is stuck) */
		if (!m->um_inflight && reserve_possible(m))
			reserve_issue(m, p, count, now_ns, w);
		return UID_WAIT;
	}

	*first = m->um_next;
	if (end == UID_MAX) {
		m->um_exhausted = true;
		m->um_next = 0;
		return 0;
	}
	m->um_next = (uint32_t)end + 1;
	/* Less than half a range left below usable: reserve in the background. */
	if (!m->um_inflight && reserve_possible(m) &&
	    2 * (usable - end) < m->um_range)
		reserve_issue(m, p, 0, now_ns, w);
	return 0;
}

/* A sequence ended (done or failed): drop its state. */
static void op_clear(struct uid_mbox *m)
{
	m->um_op = UID_OP_NONE;
	m->um_op_left = 0;
	m->um_inflight = false;
}

/* Returns 0, UID_WAIT, status or -EINVAL; see uid.h. */
int uid_write_done(struct uid_mbox *m, int status, struct uid_write *w)
{
	uint32_t c;

	if (!m || !w)
		return -EINVAL;
	w->count = 0;
	if (!m->um_inflight || status > 0)
		return -EINVAL;
	m->um_inflight = false;

	/* Timed out: still in the kernel, it may land after anything we
	 * write next.  Nothing goes to that copy until it is reaped. */
	if (status == SDLM_EIOTIMEOUT)
		m->um_stuck |= 1u << m->um_op_copy;

	if (status < 0) {
		/*
		 * The sector holds the old record or the new one.  A failed
		 * reservation leaves what we knew; a failed two-write
		 * sequence may have changed one copy under our feet (name,
		 * UIDVALIDITY), so we stop and must take over afresh.
		 */
		if (m->um_op != UID_OP_RESERVE)
			m->um_phase = UID_IDLE;
		op_clear(m);
		return status;
	}

	c = m->um_op_copy;
	if (m->um_op == UID_OP_RESERVE) {
		m->um_copy_w[c] = m->um_op_w[c];
		m->um_copy_ours[c] = true;
		op_clear(m);
		return 0;
	}
	if (m->um_op_left) {
		uint32_t first, last;

		m->um_op_left--;
		c = !c;
		if (m->um_op == UID_OP_TAKEOVER)
			res_span(m->um_op_w[!c], m->um_op_w[c], &first, &last);
		else
			first = last = 0;
		op_issue(m, c, first, last, w);
		return UID_WAIT;
	}

	/* Both copies now carry the sequence's record. */
	m->um_copy_w[0] = m->um_op_w[0];
	m->um_copy_w[1] = m->um_op_w[1];
	m->um_copy_ours[0] = m->um_copy_ours[1] = true;
	m->um_uidvalidity = m->um_op_rec.uidvalidity;
	m->um_name_len = m->um_op_rec.name_len;
	memcpy(m->um_name, m->um_op_rec.name, sizeof(m->um_name));
	switch (m->um_op) {
	case UID_OP_TAKEOVER:
		m->um_next = m->um_op_next;
		m->um_exhausted = m->um_op_next == 0;
		m->um_phase = UID_READY;
		break;
	case UID_OP_RENAME:
		m->um_phase = UID_READY;
		break;
	case UID_OP_SETTLE:
		m->um_prov = false;
		m->um_prov_base = 0;
		m->um_phase = UID_READY;
		break;
	default:
		m->um_phase = UID_DELETED;
		break;
	}
	op_clear(m);
	return 0;
}

/* Returns 0, may_use or -EINVAL; see uid.h. */
int uid_write_gate(struct uid_mbox *m, int may_use, struct uid_write *w)
{
	struct uid_write none;

	if (!m || !w || may_use > 0)
		return -EINVAL;
	if (!may_use)
		return 0;
	if (w->count && m->um_inflight)
		uid_write_done(m, may_use, &none);	/* never issued */
	w->count = 0;
	return may_use;
}

/* Returns 0 or -EINVAL; see uid.h. */
int uid_write_reaped(struct uid_mbox *m, uint32_t copy)
{
	if (!m || copy >= UIDREC_COPIES || !(m->um_stuck & (1u << copy)))
		return -EINVAL;
	m->um_stuck &= ~(1u << copy);
	m->um_rewrite |= 1u << copy;
	return 0;
}

bool uid_busy(const struct uid_mbox *m)
{
	return m && (m->um_inflight || m->um_stuck);
}

/* Returns UID_WAIT, -ENOLCK, -EBUSY or a name error; see uid.h. */
int uid_rename(struct uid_mbox *m, const char *name, size_t name_len,
	       struct uid_write *w)
{
	int rv;

	if (!m || !w)
		return -EINVAL;
	w->count = 0;
	if (m->um_phase != UID_READY)
		return -ENOLCK;
	if (uid_busy(m))
		return -EBUSY;
	rv = uidrec_name_check(name, name_len);
	if (rv)
		return rv;
	return op_start_rewrite(m, UID_OP_RENAME, UIDREC_USED, name, name_len, w);
}

/* Returns UID_WAIT, -ENOLCK or -EBUSY; see uid.h. */
int uid_delete(struct uid_mbox *m, struct uid_write *w)
{
	if (!m || !w)
		return -EINVAL;
	w->count = 0;
	if (m->um_phase != UID_READY)
		return -ENOLCK;
	if (uid_busy(m))
		return -EBUSY;
	return op_start_rewrite(m, UID_OP_DELETE, UIDREC_DELETED, m->um_name,
				m->um_name_len, w);
}

/* Returns UID_WAIT, -ENOLCK, -EBUSY, -ERANGE or -EOVERFLOW; see uid.h. */
int uid_bump_uidvalidity(struct uid_mbox *m, const struct uid_params *p,
			 uint32_t uidvalidity, uint64_t now_ns,
			 struct uid_write *w)
{
	if (!m || !p || !w)
		return -EINVAL;
	w->count = 0;
	if (m->um_phase != UID_READY)
		return -ENOLCK;
	if (uid_busy(m))
		return -EBUSY;
	if (!uidvalidity) {
		if (m->um_uidvalidity == UINT32_MAX)
			return -EOVERFLOW;
		uidvalidity = m->um_uidvalidity + 1;
	}
	if (uidvalidity <= m->um_uidvalidity)
		return -ERANGE;
	m->um_range = p->reserve_min;
	m->um_last_reserve_ns = now_ns;
	/* Watermarks of the old UIDVALIDITY are no floor for the new one
	 * (readers compare (UIDVALIDITY, watermark)); nothing is stuck. */
	m->um_issued_w[0] = m->um_issued_w[1] = 0;
	/* The sequence's template is made from these; a failed bump goes
	 * IDLE, so the old mark is never needed again. */
	m->um_prov = p->provisional;
	m->um_prov_base = 0;
	return op_start_pair(m, UID_OP_TAKEOVER, UIDREC_USED, uidvalidity, 0, 1, w);
}

/* Returns UID_WAIT, 0, -ENOLCK or -EBUSY; see uid.h. */
int uid_settle(struct uid_mbox *m, const struct uid_params *p,
	       uint64_t epoch_min, struct uid_write *w)
{
	if (!m || !p || !w)
		return -EINVAL;
	w->count = 0;
	if (m->um_phase != UID_READY)
		return -ENOLCK;
	if (uid_busy(m) || p->provisional)
		return -EBUSY;
	if (epoch_min > UID_EPOCH_MIN_MAX)
		return -ERANGE;	/* the next takeover's epoch would wrap */
	if (!m->um_prov && m->um_epoch >= epoch_min)
		return 0;
	/* Raised before the writes: nothing is handed out until both are
	 * durable (STARTING), and a failure sends the core IDLE. */
	m->um_epoch = max_u64(m->um_epoch, epoch_min);
	op_start_rewrite(m, UID_OP_SETTLE, UIDREC_USED, m->um_name,
			 m->um_name_len, w);
	m->um_op_rec.flags &= ~UIDREC_F_PROVISIONAL;
	m->um_op_rec.prov_base = 0;
	w->rec.flags = m->um_op_rec.flags;
	w->rec.prov_base = 0;
	return UID_WAIT;
}

/* Returns 0, -EINVAL or -EBUSY; see uid.h. */
int uid_release(struct uid_mbox *m, uint8_t *lvb)
{
	struct uid_lvb l;
	int rv = 0;

	if (!m || !lvb)
		return -EINVAL;
	if (uid_busy(m))
		return -EBUSY;
	memset(lvb, 0, UID_LVB_LEN);
	if (m->um_phase == UID_READY && !m->um_exhausted) {
		memset(&l, 0, sizeof(l));
		l.uidvalidity = m->um_uidvalidity;
		l.epoch = m->um_epoch;
		l.next = m->um_next;
		l.slot_plus1 = m->um_slot < UINT32_MAX ? (uint32_t)m->um_slot + 1 : 0;
		l.range = m->um_range;
		rv = uid_lvb_out(&l, lvb);
	}
	if (m->um_phase != UID_DELETED)
		m->um_phase = UID_IDLE;
	return rv;
}

uint64_t uid_remaining(const struct uid_mbox *m)
{
	if (!m || m->um_phase != UID_READY || m->um_exhausted)
		return 0;
	return (uint64_t)UID_MAX - m->um_next + 1;
}

/* Returns 0, SDLM_EQUORATE or SDLM_EPEERLIVE; see uid.h. */
int uid_degraded_allowed(bool quorate, const uint8_t *seen, uint32_t nnodes,
			 uint32_t self, uint32_t *blocker)
{
	uint32_t i;

	if (blocker)
		*blocker = 0;
	if (quorate)
		return SDLM_EQUORATE;
	for (i = 1; i <= nnodes; i++) {
		if (i == self || seen[i] == UID_PEER_STOPPED)
			continue;
		if (blocker)
			*blocker = i;
		return SDLM_EPEERLIVE;
	}
	return 0;
}
