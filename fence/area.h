/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * area.h - synchronous access to the fencing area for sdlmctl's direct
 * commands (no daemon needed, like `sbd -d DEV list`) and for sdlmd's
 * start-up.  The daemon's steady state uses the asynchronous path
 * (heartbeat.c) on the same aio context.
 *
 * All calls return 0 or a negative error (-errno or SDLM_E*); on error a
 * one-line reason naming the device and what is wrong is left in
 * area->why (or in the caller's buffer for area_open/area_init).
 */
#ifndef SDLM_AREA_H
#define SDLM_AREA_H

#include <stdbool.h>
#include <stdint.h>
#include <limits.h>

#include "ondisk.h"

struct aio_ctx;

struct area {
	char path[PATH_MAX];
	int fd;
	uint32_t dev_sector;		/* device's sector size, 0 for a file */
	struct aio_ctx *aio;
	struct sdlm_header hdr;
	unsigned io_timeout_ms;
	char why[512];			/* long enough for a path and a reason */
};

#define AREA_WHY_LEN 256

/* Open path and read and verify its header. */
int area_open(struct area **out, const char *path, unsigned io_timeout_ms,
	      char why[AREA_WHY_LEN]);
void area_close(struct area *a);

/*
 * Progress of area_init's one long part, zeroing the UID area (a large
 * area on a block device takes minutes): called with the bytes zeroed so
 * far and the total, first with done 0, last with done == total (only
 * if it succeeded), and after every chunk between.  NULL: not told.
 */
typedef void (*area_progress_fn)(void *arg, uint64_t done, uint64_t total);

/*
 * Initialise an area: header, every heartbeat slot FREE with counter 0,
 * every message slot CLEAR with seq 0, and the UID area (if the header
 * has one) all zero: every slot EMPTY (a hole in a file, BLKZEROOUT on a
 * device in chunks of AREA_ZERO_CHUNK, else zero writes).  Refuses
 * (-EEXIST) when the device already holds a valid sdlm header unless
 * force.  A regular file is extended to the area's size; a block device
 * must be large enough.
 */
#define AREA_ZERO_CHUNK		(64ull << 20)
int area_init(const char *path, const struct sdlm_header *h, bool force,
	      unsigned io_timeout_ms, char why[AREA_WHY_LEN],
	      area_progress_fn progress, void *progress_arg);

/*
 * Decode the slot range read in one I/O (layout_slots_len bytes from
 * layout_slots_offset) into per-node arrays indexed by node id (entry 0
 * unused; arrays of num_nodes + 1).  rc[i] is hb_in's / msg_in's result.
 */
void area_decode_slots(const struct sdlm_header *h, const void *buf,
		       struct sdlm_hb *hb, int *hb_rc,
		       struct sdlm_msg *msg, int *msg_rc);

/* One synchronous read of every slot, decoded as above. */
int area_read_slots(struct area *a, struct sdlm_hb *hb, int *hb_rc,
		    struct sdlm_msg *msg, int *msg_rc);

/* Write one record; the message write is read back and compared. */
int area_write_hb(struct area *a, const struct sdlm_hb *hb);
int area_write_msg(struct area *a, const struct sdlm_msg *msg);

/*
 * The chain of UID tables (docs/uid.md, "Growing the table"): table 0
 * from the header, then every table a grow added.  area_uid_grow adds
 * one of nslots after the last of g (which must be the whole chain, read
 * by area_uid_tables under the grow lock): extends a file or checks the
 * device's size, zeroes the new table and the descriptor pairs before
 * and after it, sets the header's SDLM_HDR_F_UID_CHAIN feature (header
 * read again and still the one opened, written, read back: no reader
 * that does not follow the chain uses the area from then on), then
 * writes the descriptor's two copies (each read back).  A crash before the first descriptor write leaves no table;
 * after it, the table is there (one copy is enough to find it).
 */
struct uidtab_geom;
/* The device's (or file's) size now, no disk I/O: 0 (*bytes) or -errno
 * (*bytes 0, never to be taken for a size). */
int area_dev_size(struct area *a, uint64_t *bytes);
int area_uid_tables(struct area *a, struct uidtab_geom *g);
/*
 * Is the descriptor pair after g's last table on the device, sized now
 * (no disk I/O: fstat or BLKGETSIZE64)?  0: all of it is (read it);
 * 1: no table, only when g is table 0 alone and the device ends at or
 * before the pair (an area sized to table 0); an error otherwise (a part
 * of the pair, a device cut short after a grown table, a size that does
 * not read): a table may be there, the caller fails closed.  A short read
 * of the pair is "no table" only when this says 1.
 */
int area_uid_desc_missing(struct area *a, const struct uidtab_geom *g);
int area_uid_grow(struct area *a, const struct uidtab_geom *g, uint64_t nslots,
		  const char *host, uint64_t now_s, area_progress_fn progress, void *arg);
/*
 * Set the header's SDLM_HDR_F_UID_SEGLOCK feature (docs/uid.md, "The
 * table lock"): from then on every node creates under the UID table's
 * segment locks only, and every older build refuses the area.  The
 * caller has checked the heartbeat slots.  0, or an error (a->why says
 * it: the header changed since it was opened, I/O).
 */
int area_uid_seglock(struct area *a);

#endif
