/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_rebuild.c - rebuilding a fresh replica from its dirty members'
 * reports (issue 17 item 6; docs/protocol.md "Rebuilding a fresh
 * replica"): the HELD report applied by the lock state (LS_EV_HELD), the
 * rebuild flag in the snapshot, and what a dirty member does next
 * (dlm/core/rebuild.c).  Each known-bad variant of the model (docs/model.md,
 * BAD_REBUILD_*) has the test of the rule that stops it.
 */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crc32c.h"
#include "lockstate.h"
#include "lsfx.h"
#include "rebuild.h"
#include "sdlm.h"

/* ---- fixture: a replica formed fresh to be rebuilt ----------------------- */

/*
 * As lsround.c form_fresh makes it: cold (gate closed), nodes not live
 * until the fencer says so; with rebuild (every member speaks protocol 4)
 * taking reports, without it today's revoke path.  Members 1 and 2 are
 * back, quorate; node 3 is not.
 */
static int fx_fresh(void **state, bool rebuild)
{
	struct ls_params p = { .cold = true, .default_live = false, .rebuild = rebuild };
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || ls_create(&p, &f->ls))
		return -1;
	ls_out_init(&f->out);
	*state = f;
	if (confchg(f, 7, true, m12, 2) || status(f, 1, true, false) ||
	    status(f, 2, true, false))
		return -1;
	return 0;
}

static int setup_rebuild(void **state) { return fx_fresh(state, true); }
static int setup_fresh_old(void **state) { return fx_fresh(state, false); }

static int held(struct fx *f, uint32_t node, uint32_t n, const char *name,
		int mode, uint64_t epoch, bool dirty)
{
	struct ls_event ev = {
		.ev_kind = LS_EV_HELD, .ev_nodeid = node, .ev_lkid = LKID(node, n),
		.ev_name = name, .ev_namelen = strlen(name), .ev_mode = mode,
		.ev_epoch = epoch, .ev_dirty = dirty,
	};
	return ls_apply(f->ls, &ev, &f->out);
}

static const struct ls_out_item *find(const struct fx *f, enum ls_out_kind k,
				      uint64_t lkid)
{
	size_t i;

	for (i = 0; i < f->out.count; i++)
		if (f->out.items[i].o_kind == k && f->out.items[i].o_lkid == lkid)
			return &f->out.items[i];
	return NULL;
}

struct res_get {
	const char *name;
	struct ls_res_info info;
	bool found;
};

static int res_get_cb(const struct ls_res_info *r, void *arg)
{
	struct res_get *g = arg;

	if (r->namelen == strlen(g->name) && !memcmp(r->name, g->name, r->namelen)) {
		g->info = *r;
		g->found = true;
	}
	return 0;
}

static struct ls_res_info res_info(const struct fx *f, const char *name)
{
	struct res_get g = { .name = name };

	assert_int_equal(ls_foreach_resource(f->ls, res_get_cb, &g), 0);
	assert_true(g.found);
	return g.info;
}

/* ---- applying a report ---------------------------------------------------- */

/*
 * A report from a dirty member is entered granted, in its mode, with no
 * decision (the holder has the lock); the epoch counter rises to the
 * reported epoch, the value block is invalid, the gate stays closed.  A
 * request queued meanwhile waits behind it; when the gate opens the
 * holder hears of it, and the next write tenure's epoch is above it.
 */
static void test_report_entered_granted(void **state)
{
	struct fx *f = *state;
	struct ls_lock_info li;
	struct ls_res_info ri;
	const struct ls_out_item *it;

	assert_true(ls_rebuilding(f->ls));
	assert_int_equal(held(f, 1, 1, "mbox", MODE_EX, 7, true), 0);
	assert_int_equal(f->out.count, 0);
	assert_int_equal(ls_lock_get(f->ls, LKID(1, 1), &li), 0);
	assert_int_equal(li.queue, LS_Q_GRANTED);
	assert_int_equal(li.grmode, MODE_EX);
	assert_int_equal(li.nodeid, 1);
	assert_true(ls_epoch(f->ls) == 7);
	ri = res_info(f, "mbox");
	assert_true(ri.epoch == 7);
	assert_false(ri.lvb_valid);
	assert_true(ls_grants_blocked(f->ls));

	assert_int_equal(req(f, 2, 1, "mbox", MODE_EX, 0), 0);
	assert_null(find(f, LS_OUT_GRANTED, LKID(2, 1)));
	assert_int_equal(gate(f, true), 0);
	assert_false(ls_rebuilding(f->ls));
	assert_null(find(f, LS_OUT_GRANTED, LKID(2, 1)));
	assert_non_null(find(f, LS_OUT_BLOCKING, LKID(1, 1)));

	assert_int_equal(rel(f, 1, 1, NULL), 0);
	it = find(f, LS_OUT_GRANTED, LKID(2, 1));
	assert_non_null(it);
	assert_true(it->o_epoch == 8);
	assert_false(it->o_lvb_valid);
}

/* The epoch counter only rises: a report below it leaves it. */
static void test_report_epoch_only_rises(void **state)
{
	struct fx *f = *state;

	assert_int_equal(held(f, 1, 1, "a", MODE_EX, 40, true), 0);
	assert_int_equal(held(f, 2, 1, "b", MODE_PW, 12, true), 0);
	assert_true(ls_epoch(f->ls) == 40);
	assert_true(res_info(f, "b").epoch == 12);
	assert_int_equal(held(f, 2, 2, "c", MODE_PR, 0, true), 0);
	assert_true(res_info(f, "c").epoch == 0);
}

/*
 * BAD_REBUILD_CONFLICT: a report that conflicts with a lock granted
 * before is refused (-EBUSY), the state unchanged - accepting it makes
 * two holders (S1).  Compatible reports share the resource.
 */
static void test_report_conflict_refused(void **state)
{
	struct fx *f = *state;
	struct ls_lock_info li;
	uint64_t d;

	assert_int_equal(held(f, 1, 1, "mbox", MODE_EX, 3, true), 0);
	d = ls_digest(f->ls);
	assert_int_equal(held(f, 2, 1, "mbox", MODE_EX, 5, true), -EBUSY);
	assert_int_equal(held(f, 2, 2, "mbox", MODE_NL, 0, true), 0);
	assert_int_equal(ls_lock_get(f->ls, LKID(2, 1), &li), -ENOENT);
	assert_true(ls_epoch(f->ls) == 3);
	assert_true(ls_digest(f->ls) != d);	/* the NL one went in */

	assert_int_equal(held(f, 1, 2, "shared", MODE_PR, 0, true), 0);
	assert_int_equal(held(f, 2, 3, "shared", MODE_PR, 0, true), 0);
	d = ls_digest(f->ls);
	assert_int_equal(held(f, 2, 4, "shared", MODE_PW, 9, true), -EBUSY);
	assert_true(ls_digest(f->ls) == d);
}

/*
 * Reports only from a dirty member: one that reported CLEAN (or never
 * said CACHED) is refused (-EACCES).  BAD_REBUILD_REVOKING's lock-state
 * side: a member counted clean cannot add locks afterwards.
 */
static void test_report_only_from_dirty(void **state)
{
	struct fx *f = *state;
	uint64_t d = ls_digest(f->ls);

	assert_int_equal(held(f, 1, 1, "mbox", MODE_EX, 3, false), -EACCES);
	assert_true(ls_digest(f->ls) == d);
	assert_int_equal(ls_lock_count(f->ls), 0);
}

/*
 * Reports only on a replica that takes them: one formed fresh below
 * protocol 4 takes none (-ESTALE), and a rebuilt one takes none once its
 * gate has opened, even if a divergence closes it again.
 */
static void test_report_only_while_rebuilding(void **state)
{
	struct fx *f = *state;

	assert_int_equal(held(f, 1, 1, "a", MODE_EX, 3, true), 0);
	assert_int_equal(gate(f, true), 0);
	assert_int_equal(held(f, 1, 2, "b", MODE_EX, 3, true), -ESTALE);
	assert_int_equal(gate(f, false), 0);
	assert_false(ls_rebuilding(f->ls));
	assert_int_equal(held(f, 1, 2, "b", MODE_EX, 3, true), -ESTALE);
}

static void test_report_old_fresh_takes_none(void **state)
{
	struct fx *f = *state;

	assert_false(ls_rebuilding(f->ls));
	assert_int_equal(held(f, 1, 1, "a", MODE_EX, 3, true), -ESTALE);
	assert_int_equal(ls_lock_count(f->ls), 0);
}

/*
 * BAD_REBUILD_NOFENCE: the reports never open the gate.  Node 3 is not
 * back (it may still use a lock nobody reported): it cannot report
 * (not a member), and nothing is granted - a request for its resource
 * waits - until the fencer's GATE, which it sends only once every node
 * outside the ring is fenced (lsfencer.c; t-partition.sh part D).
 */
static void test_reports_do_not_open_gate(void **state)
{
	struct fx *f = *state;

	assert_int_equal(held(f, 3, 1, "n3", MODE_EX, 2, true), -EPERM);
	assert_int_equal(held(f, 1, 1, "a", MODE_EX, 3, true), 0);
	assert_int_equal(held(f, 2, 1, "b", MODE_PR, 0, true), 0);
	assert_true(ls_grants_blocked(f->ls));
	assert_int_equal(req(f, 2, 2, "n3", MODE_EX, 0), 0);
	assert_null(find(f, LS_OUT_GRANTED, LKID(2, 2)));
	assert_int_equal(req(f, 1, 9, "n3", MODE_EX, LS_LKF_NOQUEUE), 0);
	assert_non_null(find(f, LS_OUT_NOQUEUE_FAILED, LKID(1, 9)));
	assert_int_equal(fenced(f, 3, 0x33), 0);
	assert_true(ls_grants_blocked(f->ls));
	assert_int_equal(gate(f, true), 0);
	assert_non_null(find(f, LS_OUT_GRANTED, LKID(2, 2)));
}

/* Malformed reports, a fenced sender, an lkid in use. */
static void test_report_refusals(void **state)
{
	struct fx *f = *state;
	struct ls_event ev = {
		.ev_kind = LS_EV_HELD, .ev_nodeid = 1, .ev_lkid = LKID(2, 1),
		.ev_name = "a", .ev_namelen = 1, .ev_mode = MODE_EX,
		.ev_dirty = true,
	};

	assert_int_equal(ls_apply(f->ls, &ev, &f->out), -EINVAL);	/* not its lkid */
	ev.ev_lkid = LKID(1, 1);
	ev.ev_mode = MODE_NONE;
	assert_int_equal(ls_apply(f->ls, &ev, &f->out), -EINVAL);
	ev.ev_mode = MODE_EX;
	ev.ev_namelen = 0;
	assert_int_equal(ls_apply(f->ls, &ev, &f->out), -EINVAL);
	ev.ev_namelen = SDLM_NAME_MAX + 1;
	assert_int_equal(ls_apply(f->ls, &ev, &f->out), -EINVAL);
	ev.ev_namelen = 1;
	ev.ev_flags = LS_LKF_NOQUEUE;
	assert_int_equal(ls_apply(f->ls, &ev, &f->out), -EINVAL);
	ev.ev_flags = 0;
	assert_int_equal(ls_apply(f->ls, &ev, &f->out), 0);
	assert_int_equal(ls_apply(f->ls, &ev, &f->out), -EEXIST);
	assert_int_equal(fenced(f, 2, 0x22), 0);
	assert_int_equal(held(f, 2, 1, "b", MODE_EX, 3, true), SDLM_EFENCED);
}

/* ---- the snapshot carries the rebuild ------------------------------------ */

static void test_snapshot_carries_rebuild(void **state)
{
	struct fx *f = *state;
	struct ls_state *copy = NULL;
	uint8_t *b;
	size_t len;
	uint32_t flags, crc;
	struct fx g = { 0 };

	assert_int_equal(held(f, 1, 1, "a", MODE_EX, 3, true), 0);
	b = snap(f->ls, &len);
	assert_int_equal(ls_snapshot_decode(b, len, &copy), 0);
	assert_true(ls_rebuilding(copy));
	assert_true(ls_digest(copy) == ls_digest(f->ls));
	/* a member that took the state applies the next report alike */
	g.ls = copy;
	ls_out_init(&g.out);
	assert_int_equal(held(&g, 2, 1, "b", MODE_PR, 0, true), 0);
	assert_int_equal(held(f, 2, 1, "b", MODE_PR, 0, true), 0);
	assert_true(ls_digest(copy) == ls_digest(f->ls));
	ls_out_free(&g.out);
	ls_destroy(copy);

	/* the flag with an open gate is no state: refused */
	memcpy(&flags, b + 8, 4);
	assert_true(le32toh(flags) & 0x8u);
	flags = htole32(le32toh(flags) | 0x1u);
	memcpy(b + 8, &flags, 4);
	crc = htole32(crc32c(0, b, len - 4));
	memcpy(b + len - 4, &crc, 4);
	assert_int_equal(ls_snapshot_decode(b, len, &copy), SDLM_EPROTO);
	free(b);

	/* once the gate opened, the state encodes as before the rebuild */
	assert_int_equal(gate(f, true), 0);
	b = snap(f->ls, &len);
	memcpy(&flags, b + 8, 4);
	assert_false(le32toh(flags) & 0x8u);
	assert_int_equal(ls_snapshot_decode(b, len, &copy), 0);
	assert_false(ls_rebuilding(copy));
	ls_destroy(copy);
	free(b);
}

/*
 * A round that agrees on less than protocol 4 (a member of an older build
 * came in before the gate first opened) ends the rebuild at that point of
 * the stream, as it ends the member records below 3: the replica takes no
 * more reports (a HELD would be ignored above the agreed version anyway)
 * and its snapshot no longer carries header flag 0x8, which a node that
 * reads only flags 0x7 refuses (protocol 2: it would never become ready,
 * while the others count it ready).  A round at 4 leaves it.
 */
static void test_round_below_4_ends_rebuild(void **state)
{
	struct fx *f = *state;
	static const uint64_t incs[2] = { 11, 12 };
	static const uint16_t p4[2] = { 4, 4 }, p2[2] = { 4, 2 };
	uint8_t *b;
	size_t len;
	uint32_t flags;

	assert_int_equal(held(f, 1, 1, "a", MODE_EX, 3, true), 0);
	assert_int_equal(round_rec(f, 4, m12, incs, p4, 2), 0);
	assert_true(ls_rebuilding(f->ls));
	assert_int_equal(round_rec(f, 2, m12, incs, p2, 2), 0);
	assert_false(ls_rebuilding(f->ls));
	assert_true(ls_grants_blocked(f->ls));	/* the gate is as it was */
	assert_int_equal(held(f, 2, 1, "b", MODE_PR, 0, true), -ESTALE);
	/* the report applied before stays: its holder keeps it */
	{
		struct ls_lock_info li;

		assert_int_equal(ls_lock_get(f->ls, LKID(1, 1), &li), 0);
		assert_int_equal(li.queue, LS_Q_GRANTED);
		assert_int_equal(li.grmode, MODE_EX);
	}
	b = snap(f->ls, &len);
	memcpy(&flags, b + 8, 4);
	assert_int_equal(le32toh(flags) & ~0x7u, 0);
	free(b);
	/* a later round at 4 does not make it take reports again */
	assert_int_equal(round_rec(f, 4, m12, incs, p4, 2), 0);
	assert_false(ls_rebuilding(f->ls));
}

/* ---- what a dirty member does next (rebuild.c) ---------------------------- */

static struct rb_view dirty_member(void)
{
	struct rb_view v = {
		.ready = true, .dirty = true, .to_report = true,
		.cache_missing = true,
	};
	return v;
}

/*
 * Reports whose replica this node dropped (a partition without quorum
 * between their send and their delivery: its own copies never came back
 * to it, ready_msg runs only with a replica) are not on their way any
 * more: once it takes the state again - of the same lineage, the others
 * kept it - it starts over (reports what the state lacks, or CLEAN).
 * Counting them still kept it dirty for ever: the gate never opened, the
 * lockspace granted nothing to anybody (review s25-rev4 R2).
 */
static void test_rb_dropped_replica_starts_over(void **state)
{
	struct rb_view v = {
		.ready = true, .dirty = true, .reported = true, .sent = 2,
	};

	(void)state;
	/* on the replica it sent them to: wait for them */
	assert_true(rb_reports_pending(true, 7, 7, 1, 1, 2, 0));
	assert_false(rb_reports_pending(true, 7, 7, 1, 1, 2, 2));
	assert_false(rb_reports_pending(false, 7, 7, 1, 1, 0, 0));
	/* another lineage, or the same lineage taken again after a drop */
	assert_false(rb_reports_pending(true, 7, 9, 1, 1, 2, 0));
	assert_false(rb_reports_pending(true, 7, 7, 1, 2, 2, 0));
	/* what waiting on them looked like: nothing, for ever */
	assert_int_equal(rb_next(&v), RB_NONE);
	v.reported = false;
	v.sent = 0;
	assert_int_equal(rb_next(&v), RB_CLEAN);
}

static void test_rb_reports_then_clean(void **state)
{
	struct rb_view v = dirty_member();

	(void)state;
	assert_int_equal(rb_next(&v), RB_REPORT);
	v.reported = true;
	v.sent = 2;
	v.seen = 1;
	assert_int_equal(rb_next(&v), RB_NONE);	/* CLEAN after every report */
	v.seen = 2;
	v.cache_missing = false;		/* the reports made it whole */
	assert_int_equal(rb_next(&v), RB_CLEAN);
	v.clean_sent = true;
	assert_int_equal(rb_next(&v), RB_NONE);
	v = dirty_member();
	v.dirty = false;
	assert_int_equal(rb_next(&v), RB_NONE);
	v = dirty_member();
	v.ready = false;
	assert_int_equal(rb_next(&v), RB_NONE);
	assert_string_equal(rb_action_name(RB_REPORT), "report");
}

/*
 * BAD_REBUILD_REVOKING (model finding 7): a member whose lock users are
 * being killed neither reports nor counts as clean until they are reaped.
 */
static void test_rb_revoking_waits_for_reaping(void **state)
{
	struct rb_view v = dirty_member();

	(void)state;
	v.stopping = true;
	assert_int_equal(rb_next(&v), RB_NONE);
	v.to_report = false;			/* nothing to report either */
	v.cache_missing = false;
	assert_int_equal(rb_next(&v), RB_NONE);
	v.stopping = false;
	assert_int_equal(rb_next(&v), RB_CLEAN);
	v = dirty_member();
	v.stopping = true;
	v.stopping = false;
	assert_int_equal(rb_next(&v), RB_REPORT);
}

/*
 * BAD_REBUILD_STALE: a member that may not use its locks (lease lapsed,
 * no read since; pill read) reports nothing and never counts as clean:
 * it stays dirty until it is fenced.
 */
static void test_rb_stale_reports_nothing(void **state)
{
	struct rb_view v = dirty_member();

	(void)state;
	v.may_use = SDLM_ELEASE;
	assert_int_equal(rb_next(&v), RB_NONE);
	v.may_use = SDLM_EFENCED;
	assert_int_equal(rb_next(&v), RB_NONE);
	v.may_use = 0;				/* a read since showed no pill */
	assert_int_equal(rb_next(&v), RB_REPORT);
}

/*
 * BAD_REBUILD_CONFLICT's second line: a refused report makes the member
 * revoke, and it stays dirty until the users it killed are reaped.
 */
static void test_rb_refused_report_revokes(void **state)
{
	struct rb_view v = dirty_member();

	(void)state;
	v.reported = true;
	v.sent = v.seen = 3;
	v.refused = true;
	assert_int_equal(rb_next(&v), RB_REVOKE);
	v.revoked = true;
	v.cache_missing = false;
	v.stopping = true;
	assert_int_equal(rb_next(&v), RB_NONE);
	v.stopping = false;
	assert_int_equal(rb_next(&v), RB_CLEAN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_report_entered_granted, setup_rebuild, teardown),
		cmocka_unit_test_setup_teardown(test_report_epoch_only_rises, setup_rebuild, teardown),
		cmocka_unit_test_setup_teardown(test_report_conflict_refused, setup_rebuild, teardown),
		cmocka_unit_test_setup_teardown(test_report_only_from_dirty, setup_rebuild, teardown),
		cmocka_unit_test_setup_teardown(test_report_only_while_rebuilding, setup_rebuild, teardown),
		cmocka_unit_test_setup_teardown(test_report_old_fresh_takes_none, setup_fresh_old, teardown),
		cmocka_unit_test_setup_teardown(test_reports_do_not_open_gate, setup_rebuild, teardown),
		cmocka_unit_test_setup_teardown(test_report_refusals, setup_rebuild, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_carries_rebuild, setup_rebuild, teardown),
		cmocka_unit_test_setup_teardown(test_round_below_4_ends_rebuild, setup_rebuild, teardown),
		cmocka_unit_test(test_rb_reports_then_clean),
		cmocka_unit_test(test_rb_dropped_replica_starts_over),
		cmocka_unit_test(test_rb_revoking_waits_for_reaping),
		cmocka_unit_test(test_rb_stale_reports_nothing),
		cmocka_unit_test(test_rb_refused_report_revokes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
