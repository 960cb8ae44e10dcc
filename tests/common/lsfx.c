/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lsfx.c - driving a lock state in unit tests; see lsfx.h.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lockstate.h"
#include "lsfx.h"

/* ---- event helpers ------------------------------------------------------ */

int req(struct fx *f, uint32_t node, uint32_t n, const char *name,
	int mode, uint32_t flags)
{
	struct ls_event ev = {
		.ev_kind = LS_EV_REQUEST, .ev_nodeid = node,
		.ev_lkid = LKID(node, n), .ev_mode = mode, .ev_flags = flags,
		.ev_name = name, .ev_namelen = strlen(name),
	};
	return ls_apply(f->ls, &ev, &f->out);
}

int conv(struct fx *f, uint32_t node, uint32_t n, int mode,
	 uint32_t flags, const uint8_t *lvb)
{
	struct ls_event ev = {
		.ev_kind = LS_EV_CONVERT, .ev_nodeid = node,
		.ev_lkid = LKID(node, n), .ev_mode = mode, .ev_flags = flags,
		.ev_lvb = lvb,
	};
	return ls_apply(f->ls, &ev, &f->out);
}

int rel(struct fx *f, uint32_t node, uint32_t n, const uint8_t *lvb)
{
	struct ls_event ev = {
		.ev_kind = LS_EV_RELEASE, .ev_nodeid = node,
		.ev_lkid = LKID(node, n), .ev_lvb = lvb,
	};
	return ls_apply(f->ls, &ev, &f->out);
}

int cancel(struct fx *f, uint32_t node, uint32_t n)
{
	struct ls_event ev = {
		.ev_kind = LS_EV_CANCEL, .ev_nodeid = node,
		.ev_lkid = LKID(node, n),
	};
	return ls_apply(f->ls, &ev, &f->out);
}

int confchg(struct fx *f, uint64_t ring, bool quorate,
	    const uint32_t *members, size_t n)
{
	struct ls_event ev = {
		.ev_kind = LS_EV_CONFCHG, .ev_ring_id = ring,
		.ev_members = members, .ev_member_count = n,
		.ev_quorate = quorate,
	};
	return ls_apply(f->ls, &ev, &f->out);
}

int status(struct fx *f, uint32_t node, bool live, bool pill)
{
	struct ls_event ev = {
		.ev_kind = LS_EV_NODE_STATUS, .ev_nodeid = node,
		.ev_hb_live = live, .ev_pill_pending = pill,
	};
	return ls_apply(f->ls, &ev, &f->out);
}

int fenced(struct fx *f, uint32_t node, uint64_t inc)
{
	struct ls_event ev = {
		.ev_kind = LS_EV_NODE_FENCED, .ev_nodeid = node,
		.ev_incarnation = inc,
	};
	return ls_apply(f->ls, &ev, &f->out);
}

int gate(struct fx *f, bool open)
{
	struct ls_event ev = { .ev_kind = LS_EV_GATE, .ev_gate_open = open };

	return ls_apply(f->ls, &ev, &f->out);
}

/* ---- fixtures ----------------------------------------------------------- */

const uint32_t m123[] = { 1, 2, 3 };
const uint32_t m23[] = { 2, 3 };
const uint32_t m12[] = { 1, 2 };

static int fx_make(void **state, bool cold, bool default_live)
{
	struct ls_params p = { .cold = cold, .default_live = default_live };
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || ls_create(&p, &f->ls))
		return -1;
	ls_out_init(&f->out);
	*state = f;
	return 0;
}

/* Three live members, quorate, gate open. */
int setup(void **state)
{
	struct fx *f;
	uint32_t i;

	if (fx_make(state, false, false))
		return -1;
	f = *state;
	if (confchg(f, 1, true, m123, 3))
		return -1;
	for (i = 1; i <= 3; i++)
		if (status(f, i, true, false))
			return -1;
	return 0;
}

int setup_bare(void **state)
{
	return fx_make(state, false, false);
}

int setup_cold(void **state)
{
	return fx_make(state, true, true);
}

int teardown(void **state)
{
	struct fx *f = *state;

	ls_out_free(&f->out);
	ls_destroy(f->ls);
	free(f);
	return 0;
}

/* ---- snapshot ------------------------------------------------------------- */

uint8_t *snap(struct ls_state *ls, size_t *len)
{
	size_t n = ls_snapshot_size(ls), w = 0;
	uint8_t *buf = malloc(n);

	assert_non_null(buf);
	assert_int_equal(ls_snapshot_encode(ls, buf, n - 1, &w), -ENOSPC);
	assert_int_equal(ls_snapshot_encode(ls, buf, n, &w), 0);
	assert_int_equal(w, n);
	*len = n;
	return buf;
}

int horel(struct fx *f, uint32_t node, uint64_t inc, uint32_t n,
	  const uint8_t *lvb)
{
	struct ls_event ev = {
		.ev_kind = LS_EV_HANDOFF_RELEASE, .ev_nodeid = node,
		.ev_incarnation = inc, .ev_lkid = LKID(node, n), .ev_lvb = lvb,
	};
	return ls_apply(f->ls, &ev, &f->out);
}

int round_rec(struct fx *f, uint16_t agreed, const uint32_t *members,
	      const uint64_t *incs, const uint16_t *protos, size_t n)
{
	struct ls_event ev = {
		.ev_kind = LS_EV_ROUND, .ev_members = members,
		.ev_incarnations = incs, .ev_protos = protos,
		.ev_member_count = n, .ev_proto = agreed,
	};
	return ls_apply(f->ls, &ev, &f->out);
}
