/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lssnap.h - the state a joining member receives (pure: no I/O, no clock):
 * the lockspace's replicated bookkeeping (struct lssnap_book) followed by
 * the lock state's snapshot (lockstate.h, ls_snapshot_encode).  The
 * daemon (dlm/daemon/lsxfer.c) cuts these bytes into SNAPSHOT messages (msg.h)
 * and glues them together again; the transfer's CRC32C travels in those
 * messages (total_crc), not here.
 *
 *	offset	size	field
 *	0	4	magic		0x33534c53 ("SLS3" as bytes)
 *	4	4	n_ready		0..LS_MEMBERS_MAX
 *	8	4	n_tainted	0..LS_MEMBERS_MAX
 *	12	4	n_waiting	0..LS_MEMBERS_MAX
 *	16	4	n_xfer		0..LSSNAP_XFER_MAX
 *	20	4	n_dirty		0..LS_MEMBERS_MAX
 *	24	4	n_refused	0..LS_MEMBERS_MAX
 *	28	4	decided		0 or 1
 *	32	8	formed		the replica's history (lsround.c)
 *	40	8	gen
 *	48	4 each	ready[n_ready], tainted[n_tainted], waiting[n_waiting],
 *			dirty[n_dirty], refused[n_refused]: node ids
 *	then n_xfer transfer records, 48 + 4 x n bytes each:
 *		0	4	sender		non-zero
 *		4	4	basis_node	non-zero
 *		8	8	xfer_id
 *		16	8	basis_inc
 *		24	8	basis_seq
 *		32	4	total		bytes of the transfer
 *		36	4	got		bytes seen so far
 *		40	4	n		0..LS_MEMBERS_MAX
 *		44	4	pad		zero
 *		48	4 each	waiting[n]	node ids
 *	then	the rest	the lock state's snapshot (its own magic,
 *				version, lengths and CRC32C)
 *
 * All integers little-endian, no alignment (the u64 fields sit wherever
 * the lists before them end).  No version field:
 * "SLS3" is the third layout; another layout takes another magic, which
 * an older decoder refuses (SDLM_EMAGIC).
 *
 * lssnap_decode() checks, in this order, and reads no byte before its
 * offset is known to be inside the buffer:
 *	buf, book or stp NULL, len < 48 or > UINT32_MAX	SDLM_EPROTO
 *	magic						SDLM_EMAGIC
 *	a count above its maximum, decided not 0/1	SDLM_EPROTO
 *	the lists or a transfer record past the end	SDLM_EPROTO
 *	a node id 0, a list not strictly ascending	SDLM_EPROTO
 *	  (so also no id twice in one list)
 *	a transfer: sender or basis_node 0, pad not	SDLM_EPROTO
 *	  zero, got not below total (unless both 0),
 *	  its waiting list as above, the same
 *	  (sender, xfer_id) twice
 *	the lock state snapshot: ls_snapshot_decode()'s errors (SDLM_EMAGIC,
 *	  SDLM_EVERSION, SDLM_ECHECKSUM, SDLM_EPROTO, -ENOMEM)
 * On any error *book and *stp are left exactly as they were: the decoder
 * works on its own copy and hands it over only when everything decoded.
 * lssnap_encode() refuses (-EINVAL) a book the decoder would refuse, so
 * what one node sends every node can read.
 *
 * Every list the daemon keeps is a sorted set (lsint.h nodeset_add), and a
 * transfer's waiting list is the waiting set of its round: sorted too.
 */
#ifndef SDLM_LSSNAP_H
#define SDLM_LSSNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lockstate.h"

#define LSSNAP_MAGIC		0x33534c53u	/* "SLS3" as bytes */
#define LSSNAP_HDR_LEN		48
#define LSSNAP_XFER_LEN		48		/* a transfer record, list aside */
#define LSSNAP_XFER_MAX		8		/* transfers at once */

/* A state transfer in progress, as every ready member tracks it. */
struct lssnap_xfer {
	uint32_t	sender;
	uint32_t	basis_node;
	uint64_t	xfer_id;
	uint64_t	basis_inc;
	uint64_t	basis_seq;
	uint32_t	total;
	uint32_t	got;
	uint32_t	waiting[LS_MEMBERS_MAX];
	size_t		n_waiting;
};

/* The replicated bookkeeping of a lockspace (lsint.h struct lspace). */
struct lssnap_book {
	uint32_t	ready[LS_MEMBERS_MAX];
	size_t		n_ready;
	uint32_t	tainted[LS_MEMBERS_MAX];
	size_t		n_tainted;
	uint32_t	waiting[LS_MEMBERS_MAX];
	size_t		n_waiting;
	uint32_t	dirty[LS_MEMBERS_MAX];
	size_t		n_dirty;
	uint32_t	refused[LS_MEMBERS_MAX];
	size_t		n_refused;
	bool		decided;
	uint64_t	formed;
	uint64_t	gen;
	struct lssnap_xfer xf[LSSNAP_XFER_MAX];
	size_t		n_xfer;
};

/* Exact size of lssnap_encode()'s output for this book and state. */
size_t lssnap_size(const struct lssnap_book *b, const struct ls_state *st);

/* Encode into buf.  0; -EINVAL (a book the decoder would refuse, or more
 * than UINT32_MAX bytes), -ENOSPC (len too small), -ENOMEM; *written is
 * set on success. */
int lssnap_encode(const struct lssnap_book *b, const struct ls_state *st,
		  void *buf, size_t len, size_t *written);

/* Decode; on success fill *b and set *stp to a new lock state (the
 * caller destroys it).  Errors above; nothing changed on error. */
int lssnap_decode(const void *buf, size_t len, struct lssnap_book *b,
		  struct ls_state **stp);

#endif /* SDLM_LSSNAP_H */
