/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidseg.h - which table locks a creator of a new mailbox takes (pure;
 * docs/uid.md, "The table lock").
 *
 * Every table of the UID chain is cut into segments of UIDSEG_SLOTS
 * slots, one lock per segment: "uid-table.<t>.<n>" (EX) in lockspace
 * UIDSVC_TABLE_LS, t the table's index in the chain, n the segment's
 * index in it (the last one may be shorter).  A creator of GUID G (a
 * create, an import's create, a restore, the stamp of an untagged
 * record) holds, while it probes and writes:
 *
 *   - the segment of G's home slot in table 0 (every creator of G takes
 *     it: "G is in no slot" is decided under it, so no GUID lands in two
 *     slots), and
 *   - every segment of the path from G's home to the slot it writes, in
 *     the table of that slot (the slot is decided free under its
 *     segment's lock, so no two mailboxes land in one slot); for a slot
 *     past the insert window (reached only by a lookup: a record an
 *     older daemon placed there, its own tombstone, a damaged slot), the
 *     slot's segment alone.
 *
 * Locks are taken one after the other in ascending (table, segment)
 * order, the one order of every node, so there is no cycle: a path that
 * wraps round the end of its table takes segment 0 first.  A creator
 * knows the slot only after its probe: it starts with its home segment
 * (uidseg_need with no target), probes, then asks uidseg_next whether
 * what it holds covers the slot; if not, it takes more (higher ones
 * only: UIDSEG_EXTEND) or gives its segments back and takes the union
 * in order (UIDSEG_RESTART), then probes again.
 *
 * Older releases take other locks: "uid-table" in lockspace
 * UIDSVC_TABLE_LS (the area's, before this version) after "uid-table"
 * in the mailbox's own lockspace (older still: only that one).  Until
 * the area's header carries SDLM_HDR_F_UID_SEGLOCK (which every older
 * build refuses at start), a creator takes those too, first
 * (uidseg_legacy), so that it is serialised with a node of an older
 * release that shares the area.
 */
#ifndef SDLM_UIDSEG_H
#define SDLM_UIDSEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uidrec.h"

#define UIDSEG_SLOTS	256u
/* What one creator may hold: its home segment in table 0 and the
 * segments of a window (UIDTAB_WINDOW slots) in one table, and the
 * union of two such sets after a restart. */
#define UIDSEG_SET_MAX	16
#define UIDSEG_RES_PREFIX	"uid-table."
/* "uid-table." + two decimal numbers + '.' + NUL */
#define UIDSEG_NAME_MAX	48

struct uidseg {
	uint32_t table;
	uint64_t seg;
};

/* A set of segments, in ascending (table, segment) order, no repeats. */
struct uidseg_set {
	unsigned n;
	struct uidseg s[UIDSEG_SET_MAX];
};

/* The segment of a global slot: 0, or -EINVAL (no table of g holds it). */
int uidseg_of(const struct uidtab_geom *g, uint64_t slot, struct uidseg *out);

/*
 * The segments a creator of guid must hold to write into the global slot
 * target (have_target false: before its probe, its home segment in table
 * 0 only).  Returns 0, or -EINVAL (no table, an all-zero GUID, a target
 * in no table, or farther from the GUID's home in its table than the
 * insert window: no probe writes there).
 */
int uidseg_need(const struct uidtab_geom *g, const uint8_t guid[UID_GUID_LEN],
		bool have_target, uint64_t target, struct uidseg_set *out);

enum uidseg_step {
	UIDSEG_HELD	= 0,	/* held covers need: go on */
	UIDSEG_EXTEND	= 1,	/* take *take (all above what is held), in order */
	UIDSEG_RESTART	= 2,	/* give back the segments held, take *take in order */
};

/*
 * What to do when a creator holding held needs need: *take is what to
 * ask for next, in order (empty for UIDSEG_HELD).  Extend: every
 * segment missing is above those held, and all fit in a set.  Else a
 * restart takes the union of held and need (so a creator that restarts
 * holds more each time and its probes end), or need alone if the union
 * does not fit.
 */
enum uidseg_step uidseg_next(const struct uidseg_set *held, const struct uidseg_set *need,
			     struct uidseg_set *take);

/* Add s to set (kept in order): 0, or -E2BIG. */
int uidseg_add(struct uidseg_set *set, const struct uidseg *s);
bool uidseg_has(const struct uidseg_set *set, const struct uidseg *s);
int uidseg_cmp(const struct uidseg *a, const struct uidseg *b);

/* "uid-table.<table>.<seg>" into buf: its length, or -ENOSPC. */
int uidseg_name(const struct uidseg *s, char *buf, size_t len);

/* The older releases' table locks a creator takes too (before its
 * segments, in this order). */
#define UIDSEG_L_LS	0x1u	/* "uid-table" in the mailbox's lockspace */
#define UIDSEG_L_AREA	0x2u	/* "uid-table" in UIDSVC_TABLE_LS */

/*
 * Which of them, from the area header's incompatible features and the
 * mailbox's lockspace: none when the header carries
 * SDLM_HDR_F_UID_SEGLOCK (no build that takes only those can use the
 * area); else the area's, and the lockspace's unless the lockspace is
 * table_ls itself (then the two are one lock: asked for twice, the
 * second request would wait behind the first for ever).
 */
unsigned uidseg_legacy(uint32_t hdr_flags, const char *ls, const char *table_ls);

#endif
