/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidtab.c - the chain of UID tables: table descriptors and the geometry
 * that numbers slots across tables (docs/uid.md, "Growing the table").
 *
 * A table descriptor, one sector, written twice (copy 0, copy 1) by
 * `sdlmctl uid grow` and never again:
 *
 *	  0  magic[8]	"SDLMUTB\0"
 *	  8  major u16	SDLM_ONDISK_MAJOR
 *	 10  minor u16	UIDTAB_DESC_MINOR
 *	 12  flags u32	none; written 0
 *	 16  uuid[16]	cluster uuid
 *	 32  index u32	k >= 1 (identity)
 *	 36  copy u32	0 or 1 (identity)
 *	 40  start u64	first sector of the table's slot 0 (identity: its
 *			own sector pair + 2)
 *	 48  nslots u64	>= 1
 *	 56  base u64	global slot of its slot 0 (identity: the slots of
 *			every table before it)
 *	 64  create_time u64	unix seconds, information only
 *	 72  create_host[64]	NUL-terminated, information only
 *	136  reserved[372]
 *	508  crc u32	crc32c(0, record, 508)
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sdlm_errors.h"
#include "crc32c.h"
#include "uidrec.h"

struct desc_disk {
	char magic[8];
	uint16_t major;
	uint16_t minor;
	uint32_t flags;
	uint8_t uuid[SDLM_UUID_LEN];
	uint32_t index;
	uint32_t copy;
	uint64_t start;
	uint64_t nslots;
	uint64_t base;
	uint64_t create_time;
	char create_host[SDLM_DISK_NAME_LEN];
	uint8_t reserved[372];
	uint32_t crc;
};

_Static_assert(sizeof(struct desc_disk) == SDLM_RECORD_SIZE, "table descriptor size");
_Static_assert(offsetof(struct desc_disk, crc) == SDLM_RECORD_CRC_OFFSET, "descriptor crc");
_Static_assert(offsetof(struct desc_disk, index) == 32, "descriptor index");
_Static_assert(offsetof(struct desc_disk, create_host) == 72, "descriptor host");

static bool zero(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static bool desc_sane(const struct uidtab_desc *d)
{
	return d->index >= 1 && d->copy < UIDREC_COPIES && d->nslots >= 1 &&
	       d->nslots <= (UINT64_MAX - d->start) / UIDREC_COPIES &&
	       d->base <= UINT64_MAX - d->nslots &&
	       memchr(d->create_host, 0, sizeof(d->create_host));
}

/* Returns 0 or -EINVAL. */
int uidtab_desc_out(const struct uidtab_desc *d, const uint8_t uuid[SDLM_UUID_LEN],
		    void *sector, size_t sector_size)
{
	struct desc_disk x;
	uint32_t crc;

	if (!d || !uuid || !sector || sector_size < SDLM_RECORD_SIZE ||
	    zero(uuid, SDLM_UUID_LEN) || !desc_sane(d))
		return -EINVAL;
	memset(&x, 0, sizeof(x));
	memcpy(x.magic, UIDTAB_DESC_MAGIC, sizeof(x.magic));
	x.major = htole16(SDLM_ONDISK_MAJOR);
	x.minor = htole16(UIDTAB_DESC_MINOR);
	memcpy(x.uuid, uuid, SDLM_UUID_LEN);
	x.index = htole32(d->index);
	x.copy = htole32(d->copy);
	x.start = htole64(d->start);
	x.nslots = htole64(d->nslots);
	x.base = htole64(d->base);
	x.create_time = htole64(d->create_time);
	memcpy(x.create_host, d->create_host, sizeof(x.create_host));
	crc = htole32(crc32c(0, &x, SDLM_RECORD_CRC_OFFSET));
	memcpy(&x.crc, &crc, sizeof(crc));
	memset(sector, 0, sector_size);
	memcpy(sector, &x, sizeof(x));
	return 0;
}

/* Returns 0, UIDREC_ABSENT or an error; see uidrec.h. */
int uidtab_desc_in(struct uidtab_desc *d, const void *sector, size_t len,
		   const uint8_t uuid[SDLM_UUID_LEN], const struct uidtab_geom *g,
		   uint32_t expect_copy)
{
	struct desc_disk x;

	if (!d)
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	if (!sector || len < SDLM_RECORD_SIZE || !uuid || !g || !g->ntables ||
	    expect_copy >= UIDREC_COPIES)
		return -EINVAL;
	/* Only the all-zero sector is "no table": init zeroes the pair
	 * after table 0, a grow the pair after its table.  Any other bytes
	 * where a descriptor may be (a bad write over the magic, an earlier
	 * use of the LUN) fail closed: read as no table, a table there
	 * would be missed and its mailboxes created again (grow review,
	 * hole 2). */
	if (zero(sector, len))
		return UIDREC_ABSENT;
	memcpy(&x, sector, sizeof(x));
	if (memcmp(x.magic, UIDTAB_DESC_MAGIC, sizeof(x.magic)))
		return SDLM_EMAGIC;
	if (le16toh(x.major) != SDLM_ONDISK_MAJOR)
		return SDLM_EVERSION;
	if (le32toh(x.crc) != crc32c(0, &x, SDLM_RECORD_CRC_OFFSET) ||
	    !zero((const uint8_t *)sector + SDLM_RECORD_SIZE, len - SDLM_RECORD_SIZE))
		return SDLM_ECHECKSUM;
	if (memcmp(x.uuid, uuid, SDLM_UUID_LEN))
		return SDLM_EIDENTITY;		/* another cluster's: fail closed too */
	d->index = le32toh(x.index);
	d->copy = le32toh(x.copy);
	d->start = le64toh(x.start);
	d->nslots = le64toh(x.nslots);
	d->base = le64toh(x.base);
	d->create_time = le64toh(x.create_time);
	memcpy(d->create_host, x.create_host, sizeof(d->create_host));
	d->create_host[sizeof(d->create_host) - 1] = 0;
	if (d->index != g->ntables || d->copy != expect_copy ||
	    d->start != g->next_desc + UIDREC_COPIES || d->base != uidtab_geom_total(g)) {
		memset(d, 0, sizeof(*d));
		return SDLM_EIDENTITY;
	}
	if (!desc_sane(d)) {
		memset(d, 0, sizeof(*d));
		return -EUCLEAN;
	}
	return 0;
}

/* Returns 0, UIDREC_ABSENT or an error; see uidrec.h. */
int uidtab_desc_resolve(const struct uidtab_desc d[UIDREC_COPIES],
			const int rc[UIDREC_COPIES], struct uidtab_desc *out)
{
	if (!d || !rc || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (rc[0] == 0 && rc[1] == 0) {
		if (d[0].index != d[1].index || d[0].start != d[1].start ||
		    d[0].nslots != d[1].nslots || d[0].base != d[1].base)
			return -EUCLEAN;
		*out = d[0];
		return 0;
	}
	if (rc[0] == 0 || rc[1] == 0) {
		*out = d[rc[0] == 0 ? 0 : 1];
		return 0;
	}
	if (rc[0] == UIDREC_ABSENT && rc[1] == UIDREC_ABSENT)
		return UIDREC_ABSENT;
	return rc[0] != UIDREC_ABSENT ? rc[0] : rc[1];
}

static const char *desc_rc_name(int rc)
{
	switch (rc) {
	case 0:			return "intact";
	case UIDREC_ABSENT:	return "all zero";
	case SDLM_EMAGIC:	return "bad magic";
	case SDLM_EVERSION:	return "unknown major version";
	case SDLM_ECHECKSUM:	return "bad checksum";
	case SDLM_EIDENTITY:	return "another table's or cluster's";
	case -EUCLEAN:		return "insane values";
	default:		return "does not decode";
	}
}

/* See uidrec.h. */
void uidtab_desc_why(char *buf, size_t len, const struct uidtab_geom *g,
		     const int rc[UIDREC_COPIES])
{
	if (!buf || !len)
		return;
	if (!g || !rc) {
		snprintf(buf, len, "bad argument");
		return;
	}
	snprintf(buf, len,
		 "UID table %u's descriptor (sectors %llu-%llu) does not read (copy 0: %s, copy 1: %s): "
		 "a table may be there, refused; if none was ever grown here, zero both sectors "
		 "(docs/uid.md, \"Growing the table\")",
		 g->ntables, (unsigned long long)g->next_desc,
		 (unsigned long long)g->next_desc + UIDREC_COPIES - 1,
		 desc_rc_name(rc[0]), desc_rc_name(rc[1]));
}

/* ---- geometry ---- */

/* Returns 0 or -EINVAL. */
int uidtab_geom_init(struct uidtab_geom *g, const struct sdlm_header *h)
{
	if (!g || !h)
		return -EINVAL;
	memset(g, 0, sizeof(*g));
	if (h->uid_area_sectors / UIDREC_COPIES == 0 || !h->uid_area_start)
		return -EINVAL;
	g->sector_size = h->sector_size;
	g->ntables = 1;
	g->t[0].start = h->uid_area_start;
	g->t[0].nslots = h->uid_area_sectors / UIDREC_COPIES;
	g->t[0].base = 0;
	g->next_desc = h->uid_area_start + h->uid_area_sectors;
	return 0;
}

uint64_t uidtab_geom_total(const struct uidtab_geom *g)
{
	uint64_t n = 0;
	uint32_t t;

	for (t = 0; g && t < g->ntables; t++)
		n += g->t[t].nslots;
	return n;
}

/* Returns 0, -EINVAL or -E2BIG. */
int uidtab_geom_add(struct uidtab_geom *g, const struct uidtab_desc *d)
{
	if (!g || !d || !g->ntables || d->index != g->ntables ||
	    d->start != g->next_desc + UIDREC_COPIES || d->base != uidtab_geom_total(g) ||
	    !desc_sane(d))
		return -EINVAL;
	if (g->ntables >= UIDTAB_MAX_TABLES)
		return -E2BIG;
	g->t[g->ntables].start = d->start;
	g->t[g->ntables].nslots = d->nslots;
	g->t[g->ntables].base = d->base;
	g->ntables++;
	g->next_desc = d->start + UIDREC_COPIES * d->nslots;
	return 0;
}

/* Returns 0, -EINVAL or -E2BIG. */
int uidtab_geom_next(const struct uidtab_geom *g, uint64_t nslots, struct uidtab_desc *d)
{
	if (!g || !d || !g->ntables || !nslots)
		return -EINVAL;
	if (g->ntables >= UIDTAB_MAX_TABLES)
		return -E2BIG;
	memset(d, 0, sizeof(*d));
	d->index = g->ntables;
	d->start = g->next_desc + UIDREC_COPIES;
	d->nslots = nslots;
	d->base = uidtab_geom_total(g);
	return desc_sane(d) ? 0 : -EINVAL;
}

int uidtab_geom_table(const struct uidtab_geom *g, uint64_t slot)
{
	uint32_t t;

	for (t = 0; g && t < g->ntables; t++)
		if (slot >= g->t[t].base && slot - g->t[t].base < g->t[t].nslots)
			return (int)t;
	return -1;
}

/* Returns 0 or -EINVAL. */
int uidtab_geom_offset(const struct uidtab_geom *g, uint64_t slot, uint32_t copy,
		       uint64_t *off)
{
	int t = uidtab_geom_table(g, slot);

	if (t < 0 || !off || copy >= UIDREC_COPIES)
		return -EINVAL;
	*off = (g->t[t].start + UIDREC_COPIES * (slot - g->t[t].base) + copy) *
	       (uint64_t)g->sector_size;
	return 0;
}

uint64_t uidtab_geom_bytes_for(const struct uidtab_geom *g, uint64_t nslots)
{
	/* its descriptor, its slots, and the next descriptor pair (zeroed) */
	return (g->next_desc + UIDREC_COPIES * (nslots + 2)) * (uint64_t)g->sector_size;
}
