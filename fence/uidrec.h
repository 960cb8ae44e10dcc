/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidrec.h - the on-disk UID area: per-mailbox UID records and the table
 * that addresses them.  docs/uid.md is the full description; this is the
 * arithmetic.
 *
 * The UID area is uid_area_sectors sectors starting at uid_area_start
 * (both in the fencing-area header, docs/ondisk.md).  It is a hash table
 * of SLOTS; each slot is a PAIR of sectors, copy 0 and copy 1:
 *
 *	sector uid_area_start + 2 * slot + copy		slot < nslots
 *	nslots = uid_area_sectors / 2			(an odd last sector is unused)
 *
 * One record per sector, so no two writers ever share a sector; the area's
 * sector size is the record's block size (on a 512e disk initialise the
 * area with sector_size 4096 so that a 512-byte write never becomes a
 * read-modify-write of a physical block shared with another record).
 *
 * A mailbox (keyed by its 16-byte GUID) lives in the slot found by linear
 * probing from uidtab_home(guid): slots are probed home, home+1, ... (mod
 * nslots) until the GUID, or an EMPTY slot, is found.  A deleted mailbox
 * leaves a tombstone (state DELETED) so that probes continue past it; an
 * insertion reuses the first tombstone on its path and bumps the slot's
 * generation so that a late write of the slot's previous owner is stale.
 *
 * Why two copies: the holder of a mailbox only hands out a UID once BOTH
 * copies carry a watermark at or above it, and every write goes to one
 * copy only, so a single late write (a fenced holder's write that lands
 * after a takeover) can lower at most one copy; readers take the maximum.
 * dlm/core/uid.c implements the writer side; the argument is in docs/uid.md.
 *
 * Codec contract, as in ondisk.h: uidrec_out zeroes the whole sector,
 * writes the record and its CRC32C, and refuses (-EINVAL) a record a
 * reader would refuse.  uidrec_in checks, in order, with distinct errors:
 *	bad argument, len < SDLM_RECORD_SIZE		-EINVAL
 *	all-zero sector (never written)			UIDREC_ABSENT (> 0)
 *	wrong magic					SDLM_EMAGIC
 *	major != SDLM_ONDISK_MAJOR			SDLM_EVERSION
 *	CRC32C mismatch or non-zero sector tail		SDLM_ECHECKSUM
 *	cluster uuid, slot or copy not the expected	SDLM_EIDENTITY
 *	a value the format forbids			-EUCLEAN
 *	  (among them, minor 1: prov_base above the watermark or without
 *	  PROVISIONAL; minor 2: a floor above the watermark + 1)
 * A record of minor < 2 reads with floor 0 (its bytes there are reserved),
 * one of minor < 3 with lstag all zero (likewise).
 * On anything but 0 the output struct is zeroed.  The mailbox GUID is not
 * checked by uidrec_in: a slot legitimately holds other mailboxes.
 */
#ifndef SDLM_UIDREC_H
#define SDLM_UIDREC_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ondisk.h"

#define UID_GUID_LEN		16
#define UIDREC_NAME_MAX		255	/* bytes of UTF-8, no NUL stored */
#define UID_MAX			UINT32_MAX	/* IMAP UIDs are 1..2^32-1 */
#define UIDREC_COPIES		2

#define UIDREC_ABSENT		1	/* uidrec_in: sector never written */

/*
 * Record flags (minor 1).  PROVISIONAL: UIDs above prov_base were handed
 * out in degraded mode (split storage, docs/uid.md "Degraded operation"):
 * another copy of the mail store may have given the same UIDs to other
 * messages, so a rejoin repair must look at this mailbox.  The mark is
 * carried by every later write of the mailbox until a repair settles it.
 * Readers ignore flags they do not know (a later minor may add some).
 */
#define UIDREC_F_PROVISIONAL	0x00000001u
/*
 * Minor 2 adds floor (offset 388, formerly reserved): the lowest UID the
 * writer had not handed out when it issued the write (a takeover's start,
 * 1 after a create or a UIDVALIDITY bump, its next UID at every later
 * write).  A holder's next only rises, so the value block it leaves has a
 * next at or above the floor of its last write: uid_takeover refuses one
 * below the latest copy's floor.  Every UID handed out is below the next
 * of its holder, so floor <= watermark + 1.  0 = unknown (a record of
 * minor < 2, whose bytes there are reserved and not read).
 *
 * Minor 3 adds lstag (offset 392, formerly reserved): the tag of the
 * lockspace the mailbox belongs to (uid_lstag), so that its GUID named in
 * another lockspace, whose mailbox lock is another lock, never reaches
 * the record (review s24 F2).  All zero = not stamped yet (a record of
 * minor < 3, or rewritten by an older daemon: its writes zero the
 * reserved bytes).  docs/uid.md, "One GUID, one lockspace".
 */
#define UIDREC_MINOR		3	/* minor of the UID record written */
#define UIDREC_LSTAG_LEN	8

enum uidrec_state {
	UIDREC_USED	= 1,
	UIDREC_DELETED	= 2,	/* tombstone: probes continue past it */
};

/*
 * One record, host order.  A record is written whole every time: the
 * writer's current view of the mailbox plus the reservation this write
 * makes durable (the journal entry: node_id, epoch, guid, res_first..
 * res_last; 0..0 when the write reserves nothing, e.g. a rename).
 */
struct uid_rec {
	uint32_t flags;			/* UIDREC_F_* (none in 1.0) */
	uint32_t state;			/* enum uidrec_state */
	uint8_t guid[UID_GUID_LEN];	/* mailbox identity, not all zero */
	uint8_t uuid[SDLM_UUID_LEN];	/* set by uidrec_in from the disk */
	uint64_t slot;			/* where it belongs (misdirected writes) */
	uint32_t copy;			/* 0 or 1, likewise */
	uint64_t gen;			/* slot generation, +1 per new owner; >= 1 */
	uint64_t epoch;			/* writer's fencing token; >= 1 */
	uint64_t seq;			/* +1 per write within a generation; >= 1 */
	uint64_t incarnation;		/* writer daemon's incarnation */
	uint64_t wall_time_ms;		/* information only */
	uint32_t node_id;		/* writer, 1..SDLM_MAX_NODES */
	uint32_t uidvalidity;		/* >= 1 */
	uint32_t watermark;		/* highest UID reserved; 0 = none yet */
	uint32_t res_first;		/* journal: this write's reservation */
	uint32_t res_last;		/* res_first <= res_last <= watermark */
	uint32_t prov_base;		/* PROVISIONAL: UIDs above it are provisional;
					   <= watermark; 0 when not PROVISIONAL */
	uint32_t floor;			/* lowest UID the writer had not handed
					   out, <= watermark + 1; 0 = unknown */
	uint8_t lstag[UIDREC_LSTAG_LEN];	/* its lockspace's tag (minor >= 3);
					   all zero = not stamped */
	uint16_t name_len;		/* 1..255 (0 allowed when DELETED) */
	char name[UIDREC_NAME_MAX + 1];	/* NUL-terminated copy of the name */
};

int uidrec_out(const struct uid_rec *r, const uint8_t uuid[SDLM_UUID_LEN],
	       void *sector, size_t sector_size);
int uidrec_in(struct uid_rec *r, const void *sector, size_t len,
	      const uint8_t uuid[SDLM_UUID_LEN], uint64_t expect_slot,
	      uint32_t expect_copy);

/*
 * The GUID a sector that failed uidrec_in still names, as evidence only
 * (never trusted as a record): 0 with guid filled when the sector starts
 * with the record magic and its GUID field is not all zero, else -ENOENT.
 * A restore writes into a damaged slot only if a copy names the mailbox
 * and none names another, or, on the operator's word, if none names any
 * (docs/uid.md, damaged records).
 */
int uidrec_claimed_guid(const void *sector, size_t len, uint8_t guid[UID_GUID_LEN]);
/*
 * The lockspace tag such a sector still names, as evidence only: 0 with
 * tag filled when it starts with the record magic, says minor >= 3 and
 * its tag is not all zero, else -ENOENT (review s25-rev1 R2: a copy that
 * names the GUID under another lockspace's tag is that lockspace's).
 */
int uidrec_claimed_lstag(const void *sector, size_t len, uint8_t tag[UIDREC_LSTAG_LEN]);

/*
 * Mailbox names: 1..255 bytes of well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF), no C0 control character, no DEL.
 * '/' is allowed: it is the usual IMAP hierarchy separator and the name is
 * a label only (mailboxes are keyed by GUID).  Returns 0, -EINVAL (empty,
 * NULL or a control character), -ENAMETOOLONG or -EILSEQ (bad UTF-8).
 */
int uidrec_name_check(const char *name, size_t len);

/*
 * The GUID of a mailbox known by its name in a lockspace (docs/uid.md,
 * "Names and GUIDs").  UIDNAME_V2: the first 16 bytes of
 * SHA-256("sdlm mailbox guid v2" NUL ls NUL name).  UIDNAME_V1, the
 * legacy derivation (four CRC32C of "ls/name" with different seeds: CRC
 * is affine in its seed, so this has 32 bits of strength and names of
 * equal length collide completely) is kept only to find records created
 * before v2.  Both set byte 6 to 0x8X (never all zero).  Returns 0,
 * -EINVAL or a uidrec_name_check error.
 */
#define UIDNAME_V1	1
#define UIDNAME_V2	2
int uid_name_guid(const char *ls, const char *name, size_t len, int version,
		  uint8_t guid[UID_GUID_LEN]);

/* ---- a slot pair, resolved ---- */

enum uid_slot_kind {
	UID_SLOT_EMPTY	= 0,	/* neither copy ever written */
	UID_SLOT_USED	= 1,
	UID_SLOT_DELETED = 2,
};

/*
 * What readers trust about one slot, from its two copies:
 *   - only copies of the highest generation count (older ones are late
 *     writes of a previous owner of the slot);
 *   - uidvalidity = the highest among them; watermark = the highest among
 *     the copies of that uidvalidity; epoch and seq = the highest;
 *   - provisional if any counted copy of that uidvalidity is (a copy
 *     without the mark may be the older one), prov_base the lowest;
 *   - state, name, node and reservation come from the LATEST copy, the
 *     greatest (epoch, seq, watermark), copy 0 on a full tie;
 *   - floor is the latest copy's (the tenure that wrote last), 0 if that
 *     copy has none or is of another UIDVALIDITY than the view's;
 *   - lstag is the one non-zero tag among them (all zero: none carries
 *     one), lstag_mixed when two counted copies carry different ones.
 * copies_ok says which copies counted (bit c for copy c).
 *
 * One damaged copy (uidrec_in failed) with the other intact: the slot is
 * resolved from the intact copy alone, and damaged_copy (copy + 1) and
 * damaged_err say so.  One intact copy tells the slot's owner (a create
 * writes copy 0 then copy 1, so a newer owner whose create completed is
 * in both), but not how far the damaged copy had reserved: a holder must
 * resume above anything it could have (uid_takeover does).
 */
struct uid_slot_view {
	enum uid_slot_kind kind;
	uint8_t guid[UID_GUID_LEN];
	uint64_t gen;
	uint64_t epoch;
	uint64_t seq;
	uint32_t uidvalidity;
	uint32_t watermark;
	bool provisional;	/* a counted copy carries PROVISIONAL */
	uint32_t prov_base;	/* the lowest prov_base among those copies */
	uint32_t floor;		/* the latest copy's floor; 0 = unknown */
	uint8_t lstag[UIDREC_LSTAG_LEN];	/* the lockspace's tag; 0 = none */
	bool lstag_mixed;	/* two counted copies, two different tags */
	unsigned copies_ok;
	uint32_t damaged_copy;	/* 0, or the damaged copy + 1 */
	int damaged_err;	/* its uidrec_in error */
	struct uid_rec latest;
};

/*
 * rc[c] is what uidrec_in returned for copy c and rec[c] its output.
 * Returns 0 (one damaged copy included, see above), or the first copy
 * error when no copy is intact (fail closed: only an operator restores
 * such a mailbox, from the mail store), or -EUCLEAN when two copies of
 * the same generation name different mailboxes.
 */
int uidrec_resolve(const struct uid_rec rec[UIDREC_COPIES],
		   const int rc[UIDREC_COPIES], struct uid_slot_view *v);

/*
 * The lockspace a record belongs to (review s24 F2, docs/uid.md "One
 * GUID, one lockspace").  A record is found by its GUID alone, but the
 * mailbox lock uid:<guid> is taken in the caller's lockspace: the same
 * GUID named in two lockspaces would be two locks over one record.  So
 * the record carries the tag of the lockspace whose lock guards it.
 * uid_lstag: the first 8 bytes of SHA-256("sdlm lockspace tag v1" NUL
 * ls NUL), never all zero; 0 or -EINVAL (NULL or empty).
 * uid_lstag_check, of a USED slot's view and the caller's tag:
 *	UID_LSTAG_OURS	the record carries the caller's tag: use it
 *	UID_LSTAG_STAMP	it carries none (written before minor 3, or by
 *			an older daemon): the caller writes its tag, under
 *			the area's table lock, looked up again after the
 *			grant, before any allocation from it
 *	UID_LSTAG_OTHER	another lockspace's tag (or two different ones,
 *			or the caller has none): refused, SDLM_EOTHERLS
 */
enum uid_lstag_verdict {
	UID_LSTAG_OURS	= 0,
	UID_LSTAG_STAMP	= 1,
	UID_LSTAG_OTHER	= 2,
};
int uid_lstag(const char *ls, uint8_t tag[UIDREC_LSTAG_LEN]);
enum uid_lstag_verdict uid_lstag_check(const struct uid_slot_view *v,
				       const uint8_t tag[UIDREC_LSTAG_LEN]);

/* ---- table addressing ---- */

/*
 * Online growth (docs/uid.md, "Growing the table").  The UID table is a
 * chain of TABLES: table 0 is the header's UID area; table k >= 1 was
 * added by `sdlmctl uid grow` right after the end of table k-1, as a
 * descriptor (a sector pair, two identical copies) followed by its slot
 * pairs:
 *
 *	D_1 = uid_area_start + uid_area_sectors		(end of table 0)
 *	table k: descriptor at sectors D_k, D_k + 1; slot pairs from D_k + 2;
 *	D_{k+1} = D_k + 2 + 2 * nslots_k
 *
 * Slots are numbered globally: table k's slots are base_k .. base_k +
 * nslots_k - 1, base_k = the sum of the tables before it; a record's slot
 * field is its global slot.  A reader learns of a new table by reading
 * the descriptor position after the last table it knows (an all-zero
 * pair: no table there; any other bytes fail closed).
 */
#define UIDTAB_MAX_TABLES	32
/*
 * The insert window: a new mailbox goes into the first free slot (EMPTY
 * or tombstone) within UIDTAB_WINDOW slots of its home (the whole table
 * if it is smaller) in the FIRST table that has one; none in any table:
 * full.  So an EMPTY slot within the window of a table proves that the
 * GUID is in no later table (EMPTY slots never come back), and a table
 * past its load never makes every create walk all of it.  Part of the
 * format.
 */
#define UIDTAB_WINDOW		1024
#define UIDTAB_DESC_MAGIC	"SDLMUTB"	/* + NUL */
#define UIDTAB_DESC_MINOR	0

struct uidtab_table {
	uint64_t start;		/* first sector of its slot 0 */
	uint64_t nslots;
	uint64_t base;		/* global slot number of its slot 0 */
};

struct uidtab_geom {
	uint32_t sector_size;
	uint32_t ntables;
	uint64_t next_desc;	/* sector of the next table's descriptor */
	struct uidtab_table t[UIDTAB_MAX_TABLES];
};

/* A table descriptor (one sector, both copies alike), host order. */
struct uidtab_desc {
	uint32_t index;		/* k >= 1 */
	uint32_t copy;		/* 0 or 1 (identity) */
	uint64_t start;		/* = its own sector pair + 2 (identity) */
	uint64_t nslots;	/* >= 1 */
	uint64_t base;		/* = the slots of the tables before it (identity) */
	uint64_t create_time;	/* unix seconds, information only */
	char create_host[SDLM_DISK_NAME_LEN];
};

/*
 * uidtab_desc_in: 0, UIDREC_ABSENT (the all-zero sector, the only "no
 * table here"), -EINVAL, SDLM_EMAGIC (any other bytes: a bad write, an
 * earlier use of the LUN), SDLM_EVERSION, SDLM_ECHECKSUM, SDLM_EIDENTITY
 * (another cluster's uuid; index, copy, start or base not the expected:
 * a misdirected write), -EUCLEAN (nslots 0, start + slots past 2^64).
 * uidtab_desc_resolve of the two copies: 0 (*out: a table; one intact copy
 * is enough, the other may be absent or damaged), UIDREC_ABSENT (neither
 * copy is there), or the first error when no copy is intact and one is
 * not absent (fail closed: a table whose descriptor does not read may
 * hold mailboxes), -EUCLEAN when both are intact and differ.
 */
int uidtab_desc_out(const struct uidtab_desc *d, const uint8_t uuid[SDLM_UUID_LEN],
		    void *sector, size_t sector_size);
int uidtab_desc_in(struct uidtab_desc *d, const void *sector, size_t len,
		   const uint8_t uuid[SDLM_UUID_LEN], const struct uidtab_geom *g,
		   uint32_t expect_copy);
int uidtab_desc_resolve(const struct uidtab_desc d[UIDREC_COPIES],
			const int rc[UIDREC_COPIES], struct uidtab_desc *out);
/*
 * The one-line reason for a descriptor pair after g's last table that
 * uidtab_desc_resolve refused (rc: uidtab_desc_in per copy): names the
 * table, its sectors, what each copy is and what to do.
 */
void uidtab_desc_why(char *buf, size_t len, const struct uidtab_geom *g,
		     const int rc[UIDREC_COPIES]);

/* Table 0 from the header: 0, or -EINVAL (no UID area). */
int uidtab_geom_init(struct uidtab_geom *g, const struct sdlm_header *h);
/* Append the table d (as uidtab_desc_resolve gave it): 0, -EINVAL (not the
 * next one), -E2BIG (UIDTAB_MAX_TABLES reached). */
int uidtab_geom_add(struct uidtab_geom *g, const struct uidtab_desc *d);
/* The descriptor a new table of nslots gets (index, start, base). */
int uidtab_geom_next(const struct uidtab_geom *g, uint64_t nslots, struct uidtab_desc *d);
uint64_t uidtab_geom_total(const struct uidtab_geom *g);
/* Byte offset of (global slot, copy): 0, or -EINVAL when out of every table. */
int uidtab_geom_offset(const struct uidtab_geom *g, uint64_t slot, uint32_t copy,
		       uint64_t *off);
/* The table holding a global slot, or -1. */
int uidtab_geom_table(const struct uidtab_geom *g, uint64_t slot);
/* Byte end of the last table's next descriptor pair: a device (or file)
 * must be at least this long to hold one more table of nslots. */
uint64_t uidtab_geom_bytes_for(const struct uidtab_geom *g, uint64_t nslots);

/* Number of slots of the header's UID area (0 = no UID area). */
uint64_t uidtab_nslots(const struct sdlm_header *h);
/* Byte offset of (slot, copy): 0, or -EINVAL when out of the area. */
int uidtab_offset(const struct sdlm_header *h, uint64_t slot, uint32_t copy,
		  uint64_t *off);
/* Home slot of a GUID; nslots >= 1. Stable: it is part of the format. */
uint64_t uidtab_home(const uint8_t guid[UID_GUID_LEN], uint64_t nslots);

/*
 * A probe walks the table for one GUID, one slot at a time (each step is a
 * read of one slot pair by the caller):
 *
 *	uidtab_probe_init(&p, guid, nslots, insert);
 *	while ((rv = uidtab_probe_step(&p, &view_of(p.slot))) == UIDTAB_MORE)
 *		;
 *
 * uidtab_probe_step returns
 *	UIDTAB_MORE	read slot p.slot and step again
 *	0		done: p.slot is the answer.  Lookup: the GUID's slot
 *			(USED).  Insert: the slot to create in (EMPTY, or a
 *			tombstone; p.reuse_gen is its generation, 0 if empty)
 *	-ENOENT		lookup: no such mailbox (or it was deleted)
 *	-EEXIST		insert: the mailbox exists (p.slot holds it)
 *	UIDTAB_EFULL	insert: every slot probed, none free
 * A tombstone of the same GUID ends a lookup (-ENOENT) and is the slot an
 * insert of that GUID reuses, even when the insert passed another
 * mailbox's tombstone before it (the caller decides from the answer's
 * view: the deleted mailbox's UIDVALIDITY, watermark and epoch).  An
 * insert that proves absence without meeting its own GUID takes the
 * first free slot within a window on its path.  An insert stops at its own GUID, so a GUID is
 * never in two slots.  Creating needs the slot's lock (see uid.md).
 */
#define UIDTAB_MORE	1
#define UIDTAB_TABLE	2	/* read the descriptor at g->next_desc, then
				   uidtab_probe_table() */
#define UIDTAB_EFULL	(-ENOSPC)	/* proposed: SDLM_EUIDFULL */

/*
 * Over a chain of tables (uidtab_probe_init_geom): each table is walked
 * from the GUID's home in it (uidtab_home(guid, nslots_k), + base_k) until
 * the GUID, an EMPTY slot or a full turn.  An EMPTY slot within the window
 * ends the probe (lookup -ENOENT; insert: the first free slot within the
 * window of the earliest table, EMPTY or tombstone).  Otherwise the next
 * table is walked; past the last table known, UIDTAB_TABLE asks the caller
 * to look for a new one (uidtab_probe_table), and when there is none:
 * lookup -ENOENT, insert the free slot found or UIDTAB_EFULL.
 * uidtab_probe_init is the one-table form (tests; no UIDTAB_TABLE).
 */
struct uidtab_probe {
	uint8_t guid[UID_GUID_LEN];
	const struct uidtab_geom *g;
	struct uidtab_geom one;	/* uidtab_probe_init's single table */
	bool last;		/* no table after g's: none to look for */
	uint32_t tab;		/* table being walked */
	uint64_t nslots;	/* its size */
	uint64_t base;		/* its first global slot */
	uint64_t home;		/* local home in it */
	uint64_t step;		/* slots of it probed so far */
	uint64_t slot;		/* global slot to read next / the answer */
	bool insert;
	bool have_tomb;		/* a free slot within a window (tombstone or EMPTY) */
	uint64_t tomb_slot;	/* the first one on the path */
	uint64_t tomb_gen;
	uint64_t reuse_gen;	/* insert answer: generation found there */
	int damaged;		/* first unreadable slot's error, 0 none */
	uint64_t damaged_slot;	/* and which slot it was */
	/* Set after init when the caller named the mailbox: a slot of our
	 * GUID whose record carries another name is a collision, not ours
	 * (the probe goes on past it). */
	const char *name;
	size_t name_len;
};

int uidtab_probe_init(struct uidtab_probe *p, const uint8_t guid[UID_GUID_LEN],
		      uint64_t nslots, bool insert);
int uidtab_probe_init_geom(struct uidtab_probe *p, const uint8_t guid[UID_GUID_LEN],
			   const struct uidtab_geom *g, bool insert);
int uidtab_probe_step(struct uidtab_probe *p, const struct uid_slot_view *v);
/* After UIDTAB_TABLE: the caller added the table it found to p->g (or
 * found none).  Returns UIDTAB_MORE (walk the new table) or the answer. */
int uidtab_probe_table(struct uidtab_probe *p);

/*
 * Slot p.slot cannot be resolved (err: uidrec_in's or uidrec_resolve's
 * error for one of its copies).  It may hold any mailbox, ours included,
 * so the probe goes on past it (a damaged slot never blocks a mailbox
 * found further on: a GUID is in one slot only), never reuses it, and
 * every answer that would say "not there" (lookup -ENOENT, an insert
 * position) becomes err instead, with p.damaged_slot naming the slot:
 * the mailbox may be the damaged one, and creating it again would reuse
 * its UIDs.  Returns UIDTAB_MORE or that answer, like uidtab_probe_step.
 */
int uidtab_probe_damaged(struct uidtab_probe *p, int err);

#endif /* SDLM_UIDREC_H */
