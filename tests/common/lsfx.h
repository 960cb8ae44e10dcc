/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lsfx.h - driving a lock state (dlm/core/lockstate.h) in unit tests: a state
 * with its decision list, one call per event kind, the cmocka fixtures and
 * a checked snapshot; shared by test_lockstate.c and test_lssnap.c.
 */
#ifndef SDLM_TEST_LSFX_H
#define SDLM_TEST_LSFX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lockstate.h"

/* Lock n of a node: the node id in the upper half, as the daemon does. */
#define LKID(node, n)	(((uint64_t)(node) << 32) | (uint32_t)(n))

struct fx {
	struct ls_state *ls;
	struct ls_out out;
};

/* One event applied to f->ls, decisions into f->out; ls_apply()'s answer. */
int req(struct fx *f, uint32_t node, uint32_t n, const char *name,
	int mode, uint32_t flags);
int conv(struct fx *f, uint32_t node, uint32_t n, int mode,
	 uint32_t flags, const uint8_t *lvb);
int rel(struct fx *f, uint32_t node, uint32_t n, const uint8_t *lvb);
int cancel(struct fx *f, uint32_t node, uint32_t n);
int confchg(struct fx *f, uint64_t ring, bool quorate,
	    const uint32_t *members, size_t n);
int status(struct fx *f, uint32_t node, bool live, bool pill);
int fenced(struct fx *f, uint32_t node, uint64_t inc);
int gate(struct fx *f, bool open);
/* HANDOFF_RELEASE of V's lock n under incarnation inc (lvb may be NULL). */
int horel(struct fx *f, uint32_t node, uint64_t inc, uint32_t n,
	  const uint8_t *lvb);
/* ROUND: the member records of a completed round, agreed protocol. */
int round_rec(struct fx *f, uint16_t agreed, const uint32_t *members,
	      const uint64_t *incs, const uint16_t *protos, size_t n);

/* Member lists. */
extern const uint32_t m123[3];
extern const uint32_t m23[2];
extern const uint32_t m12[2];

/* cmocka setups (*state is a struct fx) and their teardown: setup has
 * three live members, quorate, gate open; setup_bare no member; setup_cold
 * no member, the gate closed, nodes live by default. */
int setup(void **state);
int setup_bare(void **state);
int setup_cold(void **state);
int teardown(void **state);

/* The encoded state, of exactly ls_snapshot_size() bytes (*len); one byte
 * less is -ENOSPC.  The caller frees it. */
uint8_t *snap(struct ls_state *ls, size_t *len);

#endif
