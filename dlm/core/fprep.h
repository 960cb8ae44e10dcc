/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fprep.h - the CPG encoding of a fast-path report (struct fpm_report,
 * fpmaster.h; docs/design-fastpath.md 3.4, docs/protocol.md "Fast-path
 * reports").  Pure: no I/O, no clock.
 *
 * ---- How a report travels ----
 *
 * A member that processes a configuration change of a fast-path
 * lockspace (fpm_confchg) multicasts its report as REPORT chunks, then
 * its JOIN, all tagged with the JOIN's round.  Not inside the JOIN: the
 * JOIN's payload is fixed (40 bytes, checked exactly by every member of
 * every lockspace) and a report is as large as the locks a node holds
 * (100 000 locks: about 6 MB), far above MSG_MAX_LEN, which stays below
 * libcpg's atomic message size.  Before the JOIN, not after it: CPG
 * delivers one sender's messages in the order they were sent, so when a
 * member's JOIN is delivered its report is complete, and the round's
 * completion stays the delivery of its last JOIN (docs/protocol.md
 * "Rounds") with no second completion point.  A receiver keeps one
 * assembly (struct fprep_asm) per sender:
 *	a chunk of another round than the current one is dropped unread,
 *	  as a JOIN of a superseded round is;
 *	a configuration change drops every partial report (fprep_asm_reset):
 *	  each member sends a new report for the new round;
 *	at a member's JOIN, a report not complete (fprep_asm_add never
 *	  returned 1) is a missing report: fpm_round_complete refuses the
 *	  round, on every member alike (the same ordered stream).
 *
 * ---- One chunk: the payload of one CPG message (at most FPREP_CHUNK_MAX
 * bytes, a multiple of 8), little-endian ----
 *
 *	offset  size  field
 *	     0     8  round         the JOIN's round tag, non-zero
 *	     8     8  epoch         report epoch, 0..2^32-1 (0: none)
 *	    16     8  last_rid      the reporter's highest request id sent
 *	    24     4  node          the reporter, 1..SDLM_MAX_NODES
 *	    28     4  part          0..nparts-1, in order
 *	    32     4  nparts        chunks of this report, >= 1
 *	    36     4  total_own     entries of fpm_report.e, whole report
 *	    40     4  total_master  entries of fpm_report.m, whole report
 *	    44     2  n_own         own entries in this chunk
 *	    46     2  n_master      master entries in this chunk (after them)
 *	    48        entries
 *
 * One entry (struct fpm_entry; its node is lkid >> 32, which the report
 * checks require anyway):
 *
 *	     0     8  lkid          node << 32 | counter, node 1..MAX_NODES
 *	     8     8  rid           the request it last sent (0 allowed)
 *	    16     8  token         its fencing token
 *	    24     1  grmode        0..5, 0xff: none (waiting)
 *	    25     1  rqmode        0..5
 *	    26     1  flags         LS_LKF_* wire values (ls_lkf_wire)
 *	    27     1  namelen       1..SDLM_NAME_MAX
 *	    28     4  reserved      zero
 *	    32  namelen name, zero padded to a multiple of 8
 *
 * The report's own entries come first, in chunk order, then its master
 * entries.  Order is not canonical and is kept: the new master enters
 * the waiters of a report in report order (fpm_round_complete).
 *
 * fprep_decode() checks, each SDLM_EPROTO, reading no byte before its
 * length is known to be inside the buffer:
 *	len < FPREP_HDR_LEN, above FPREP_CHUNK_MAX, or not a multiple of 8
 *	round 0; node 0 or above SDLM_MAX_NODES; epoch above FPM_EPOCH_MAX
 *	nparts 0; part >= nparts; n_own > total_own; n_master > total_master
 *	no entry in the chunk unless the report has none (then nparts 1);
 *	  nparts above total_own + total_master of a report that has some
 *	an entry past the end of the buffer (its fixed part, then its name)
 *	an entry: namelen 0 or above SDLM_NAME_MAX; reserved or padding not
 *	  zero; lkid's node 0 or above SDLM_MAX_NODES; an own entry's lkid
 *	  not of node; grmode not 0xff or 0..5; rqmode not 0..5; flags
 *	  outside LS_LKF_ALL
 *	bytes after the last entry (a length lie)
 * and -ENOSPC (not a protocol error) if the caller's arrays are too
 * small.  These are fpm_round_complete's checks of one report, as the
 * wire can break them; whatever decodes encodes again to the same bytes.
 *
 * fprep_asm_add() checks, each SDLM_EPROTO (the partial report dropped):
 *	a first chunk whose part is not 0
 *	a later chunk whose round, node, epoch, last_rid, nparts or totals
 *	  differ from the first's, or whose part is not the next
 *	more entries than the totals, a master entry before the last own
 *	  one, fewer entries than the totals at the last part
 *	a chunk after the report completed
 *
 * All functions return 0 or a negative errno / sdlm domain error.
 */
#ifndef SDLM_FPREP_H
#define SDLM_FPREP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fpmaster.h"
#include "msg.h"

#define FPREP_HDR_LEN		48
#define FPREP_ENT_LEN		32	/* an entry without its name */
#define FPREP_ENT_MAX		(FPREP_ENT_LEN + SDLM_NAME_MAX)
/* The largest chunk: one CPG message (MSG_MAX_LEN with its header and
 * CRC), rounded down to a multiple of 8. */
#define FPREP_CHUNK_MAX		((MSG_MAX_LEN - MSG_OVERHEAD) & ~(size_t)7)
/* The smallest chunk an encoder may be asked for: one entry fits. */
#define FPREP_CHUNK_MIN		(FPREP_HDR_LEN + FPREP_ENT_MAX)
/* Entries a chunk of len bytes can hold at most (the shortest entry is
 * FPREP_ENT_LEN + 8). */
#define FPREP_ENTS_IN(len)	(((len) - FPREP_HDR_LEN) / (FPREP_ENT_LEN + 8))

/* The header of one chunk. */
struct fprep_chunk {
	uint64_t	round;
	uint64_t	epoch;
	uint64_t	last_rid;
	uint32_t	node;
	uint32_t	part;
	uint32_t	nparts;
	uint32_t	total_own;
	uint32_t	total_master;
	uint16_t	n_own;
	uint16_t	n_master;
};

/* Encoded length of an entry. */
size_t fprep_entry_len(const struct fpm_entry *en);

/* One chunk as given: c's header, own[0..n_own) then master[0..n_master).
 * -EINVAL: anything fprep_decode() would refuse (including an own entry
 * whose node field is not c->node, a master entry whose node is not its
 * lkid's); -ENOSPC: len too small.  *written gets the length. */
int fprep_encode_chunk(const struct fprep_chunk *c,
		       const struct fpm_entry *own,
		       const struct fpm_entry *master,
		       void *buf, size_t len, size_t *written);

/* Decode and verify one chunk (the checks listed above); own gets
 * n_own entries, master n_master (cap_own, cap_master: their room;
 * FPREP_ENTS_IN(len) is always enough).  On error c is zeroed. */
int fprep_decode(const void *buf, size_t len, struct fprep_chunk *c,
		 struct fpm_entry *own, size_t cap_own,
		 struct fpm_entry *master, size_t cap_master);

/* ---- a whole report, chunk by chunk ---- */

struct fprep_enc {
	const struct fpm_report *r;
	uint64_t	round;
	size_t		chunk_max;
	size_t		i_own, i_master;	/* next entries to encode */
	uint32_t	part, nparts;
};

/*
 * Prepare r's chunks for round, each at most chunk_max bytes
 * (FPREP_CHUNK_MIN..FPREP_CHUNK_MAX; the edge uses FPREP_CHUNK_MAX).
 * -EINVAL: round 0, chunk_max out of range, or a report fpm_round_complete
 * refuses by itself (fpmaster.h: its epoch, an entry, an own entry not of
 * r->node) or whose node is not 1..SDLM_MAX_NODES; -E2BIG: more than
 * 2^32-1 entries in a list.  Each chunk is filled with as many entries
 * as fit.  r must not change until the last chunk is written.
 */
int fprep_enc_init(struct fprep_enc *en, const struct fpm_report *r,
		   uint64_t round, size_t chunk_max);
/* Chunks fprep_enc_init found (>= 1). */
uint32_t fprep_enc_parts(const struct fprep_enc *en);
/* The next chunk into buf (len >= en->chunk_max is always enough):
 * -ENOSPC len too small, -ENODATA every chunk was written. */
int fprep_enc_next(struct fprep_enc *en, void *buf, size_t len,
		   size_t *written);

/* ---- one sender's report, assembled ---- */

struct fprep_asm {
	bool		busy;		/* a first chunk was taken */
	bool		done;		/* the last chunk was taken */
	struct fprep_chunk first;
	uint32_t	next;		/* the part expected */
	struct fpm_entry *e, *m;
	size_t		n, nm, cap_e, cap_m;
	struct fpm_report rep;
};

void fprep_asm_init(struct fprep_asm *a);
void fprep_asm_free(struct fprep_asm *a);
/* Drop what was taken (a configuration change, or before a new report). */
void fprep_asm_reset(struct fprep_asm *a);
/* Take one chunk (bytes as delivered): 0 more to come, 1 the report is
 * complete; fprep_decode's errors and the checks above (the assembly is
 * then dropped), -ENOMEM (likewise). */
int fprep_asm_add(struct fprep_asm *a, const void *buf, size_t len);
/* The assembled report (NULL unless complete; valid until the next
 * reset, add or free).  Its round is fprep_asm_round(). */
const struct fpm_report *fprep_asm_report(const struct fprep_asm *a);
uint64_t fprep_asm_round(const struct fprep_asm *a);

#endif /* SDLM_FPREP_H */
