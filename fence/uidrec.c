/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidrec.c - every byte of the UID area is laid out here.
 *
 * One UID record per sector (docs/uid.md has the same table):
 *
 *	  0  magic[8]	"SDLMUID\0"
 *	  8  major u16	SDLM_ONDISK_MAJOR
 *	 10  minor u16	UIDREC_MINOR (1: flags and prov_base defined; 2: floor;
 *			3: lstag)
 *	 12  flags u32	bit 0 PROVISIONAL (degraded allocations above prov_base)
 *	 16  guid[16]	mailbox GUID
 *	 32  uuid[16]	cluster uuid (identity)
 *	 48  slot u64	table slot this record belongs to (identity)
 *	 56  gen u64	slot generation
 *	 64  epoch u64	writer's fencing token
 *	 72  seq u64	write sequence within the generation
 *	 80  incarnation u64
 *	 88  wall_time_ms u64
 *	 96  state u32	1 used, 2 deleted
 *	100  copy u32	0 or 1 (identity)
 *	104  node_id u32	writer
 *	108  uidvalidity u32
 *	112  watermark u32
 *	116  res_first u32	journal entry of this write
 *	120  res_last u32
 *	124  name_len u16
 *	126  pad u16
 *	128  name[256]	name_len bytes of UTF-8, the rest zero
 *	384  prov_base u32	PROVISIONAL: UIDs above it are provisional; else 0
 *	388  floor u32	minor >= 2: lowest UID the writer had not handed out
 *			(<= watermark + 1, 0 = unknown); reserved (not read) before
 *	392  lstag[8]	minor >= 3: the tag of the mailbox's lockspace
 *			(uid_lstag; all zero = not stamped yet); reserved before
 *	400  reserved[108]
 *	508  crc u32	crc32c(0, record, 508)
 *
 * Verification: length -> all-zero (absent) -> magic -> major -> CRC ->
 * sector tail -> identity (cluster uuid, slot, copy) -> sanity (prov_base at
 * most the watermark, floor at most the watermark + 1, among others).  The same
 * sanity predicate guards uidrec_out, so nothing is written that a reader
 * would refuse.
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "sdlm_errors.h"
#include "crc32c.h"
#include "uidrec.h"
#include "sha256.h"

static const char uid_magic[8] = "SDLMUID";	/* + NUL */

struct uid_disk {
	char magic[8];
	uint16_t major;
	uint16_t minor;
	uint32_t flags;
	uint8_t guid[UID_GUID_LEN];
	uint8_t uuid[SDLM_UUID_LEN];
	uint64_t slot;
	uint64_t gen;
	uint64_t epoch;
	uint64_t seq;
	uint64_t incarnation;
	uint64_t wall_time_ms;
	uint32_t state;
	uint32_t copy;
	uint32_t node_id;
	uint32_t uidvalidity;
	uint32_t watermark;
	uint32_t res_first;
	uint32_t res_last;
	uint16_t name_len;
	uint16_t pad0;
	char name[UIDREC_NAME_MAX + 1];
	uint32_t prov_base;
	uint32_t floor;
	uint8_t lstag[UIDREC_LSTAG_LEN];
	uint8_t reserved[108];
	uint32_t crc;
};

_Static_assert(sizeof(struct uid_disk) == SDLM_RECORD_SIZE, "uid record size");
_Static_assert(offsetof(struct uid_disk, crc) == SDLM_RECORD_CRC_OFFSET, "uid crc");
_Static_assert(offsetof(struct uid_disk, guid) == 16, "uid guid");
_Static_assert(offsetof(struct uid_disk, uuid) == 32, "uid uuid");
_Static_assert(offsetof(struct uid_disk, slot) == 48, "uid slot");
_Static_assert(offsetof(struct uid_disk, epoch) == 64, "uid epoch");
_Static_assert(offsetof(struct uid_disk, wall_time_ms) == 88, "uid wall_time_ms");
_Static_assert(offsetof(struct uid_disk, state) == 96, "uid state");
_Static_assert(offsetof(struct uid_disk, uidvalidity) == 108, "uid uidvalidity");
_Static_assert(offsetof(struct uid_disk, res_last) == 120, "uid res_last");
_Static_assert(offsetof(struct uid_disk, name_len) == 124, "uid name_len");
_Static_assert(offsetof(struct uid_disk, name) == 128, "uid name");
_Static_assert(offsetof(struct uid_disk, prov_base) == 384, "uid prov_base");
_Static_assert(offsetof(struct uid_disk, floor) == 388, "uid floor");
_Static_assert(offsetof(struct uid_disk, lstag) == 392, "uid lstag");
_Static_assert(offsetof(struct uid_disk, reserved) == 400, "uid reserved");

/* The first minor that defines floor; older minors leave it reserved. */
#define UIDREC_MINOR_FLOOR	2
/* The first minor that defines lstag. */
#define UIDREC_MINOR_LSTAG	3

/* ---- names ---- */

/* Length of the UTF-8 sequence at p (at most left bytes), or 0 if bad. */
static size_t utf8_seq_len(const uint8_t *p, size_t left)
{
	uint32_t cp;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;	/* continuation byte, C0/C1 overlong lead, > U+10FFFF */
	}
	if (n > left)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000))
		return 0;	/* overlong */
	if (cp >= 0xd800 && cp <= 0xdfff)
		return 0;	/* UTF-16 surrogate */
	if (cp > 0x10ffff)
		return 0;
	return n;
}

/* Returns 0, -EINVAL, -ENAMETOOLONG or -EILSEQ; see uidrec.h. */
int uidrec_name_check(const char *name, size_t len)
{
	const uint8_t *p = (const uint8_t *)name;
	size_t i = 0, n;

	if (!name || len == 0)
		return -EINVAL;
	if (len > UIDREC_NAME_MAX)
		return -ENAMETOOLONG;
	while (i < len) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return -EINVAL;
		n = utf8_seq_len(p + i, len - i);
		if (!n)
			return -EILSEQ;
		i += n;
	}
	return 0;
}

/* ---- record ---- */

static bool bytes_are_zero(const void *buf, size_t from, size_t to)
{
	const uint8_t *p = buf;
	size_t i;

	for (i = from; i < to; i++)
		if (p[i])
			return false;
	return true;
}

static bool uidrec_is_sane(const struct uid_rec *r)
{
	if (r->state != UIDREC_USED && r->state != UIDREC_DELETED)
		return false;
	if (r->copy >= UIDREC_COPIES)
		return false;
	if (bytes_are_zero(r->guid, 0, UID_GUID_LEN))
		return false;
	if (!r->gen || !r->epoch || !r->seq || !r->uidvalidity)
		return false;
	if (r->node_id < 1 || r->node_id > SDLM_MAX_NODES)
		return false;
	if (r->res_first || r->res_last) {
		if (!r->res_first || r->res_first > r->res_last ||
		    r->res_last > r->watermark)
			return false;
	}
	if (r->flags & UIDREC_F_PROVISIONAL) {
		if (r->prov_base > r->watermark)
			return false;
	} else if (r->prov_base) {
		return false;
	}
	if ((uint64_t)r->floor > (uint64_t)r->watermark + 1)
		return false;
	if (r->name_len == 0)
		return r->state == UIDREC_DELETED;
	return uidrec_name_check(r->name, r->name_len) == 0;
}

/* Returns 0 or -EINVAL; see uidrec.h. */
int uidrec_out(const struct uid_rec *r, const uint8_t uuid[SDLM_UUID_LEN],
	       void *sector, size_t sector_size)
{
	struct uid_disk d;
	uint32_t crc;

	if (!r || !uuid || !sector || sector_size < SDLM_RECORD_SIZE ||
	    bytes_are_zero(uuid, 0, SDLM_UUID_LEN) ||
	    r->name_len > UIDREC_NAME_MAX || !uidrec_is_sane(r))
		return -EINVAL;

	memset(&d, 0, sizeof(d));
	memcpy(d.magic, uid_magic, sizeof(d.magic));
	d.major = htole16(SDLM_ONDISK_MAJOR);
	d.minor = htole16(UIDREC_MINOR);
	d.flags = htole32(r->flags);
	memcpy(d.guid, r->guid, UID_GUID_LEN);
	memcpy(d.uuid, uuid, SDLM_UUID_LEN);
	d.slot = htole64(r->slot);
	d.gen = htole64(r->gen);
	d.epoch = htole64(r->epoch);
	d.seq = htole64(r->seq);
	d.incarnation = htole64(r->incarnation);
	d.wall_time_ms = htole64(r->wall_time_ms);
	d.state = htole32(r->state);
	d.copy = htole32(r->copy);
	d.node_id = htole32(r->node_id);
	d.uidvalidity = htole32(r->uidvalidity);
	d.watermark = htole32(r->watermark);
	d.res_first = htole32(r->res_first);
	d.res_last = htole32(r->res_last);
	d.name_len = htole16(r->name_len);
	memcpy(d.name, r->name, r->name_len);
	d.prov_base = htole32(r->prov_base);
	d.floor = htole32(r->floor);
	memcpy(d.lstag, r->lstag, UIDREC_LSTAG_LEN);

	crc = htole32(crc32c(0, &d, SDLM_RECORD_CRC_OFFSET));
	memcpy((uint8_t *)&d + SDLM_RECORD_CRC_OFFSET, &crc, sizeof(crc));
	memset(sector, 0, sector_size);
	memcpy(sector, &d, SDLM_RECORD_SIZE);
	return 0;
}

/* Returns 0 or -ENOENT (-EINVAL: bad arguments); see uidrec.h. */
int uidrec_claimed_guid(const void *sector, size_t len, uint8_t guid[UID_GUID_LEN])
{
	const uint8_t *b = sector;

	if (!sector || !guid || len < SDLM_RECORD_SIZE)
		return -EINVAL;
	if (memcmp(b, uid_magic, sizeof(uid_magic)) != 0 ||
	    bytes_are_zero(b, 16, 16 + UID_GUID_LEN))
		return -ENOENT;
	memcpy(guid, b + 16, UID_GUID_LEN);
	return 0;
}

/* Returns 0 or -ENOENT (-EINVAL: bad arguments); see uidrec.h. */
int uidrec_claimed_lstag(const void *sector, size_t len, uint8_t tag[UIDREC_LSTAG_LEN])
{
	const uint8_t *b = sector;

	if (!sector || !tag || len < SDLM_RECORD_SIZE)
		return -EINVAL;
	if (memcmp(b, uid_magic, sizeof(uid_magic)) != 0 ||
	    (uint16_t)(b[10] | b[11] << 8) < 3 ||
	    bytes_are_zero(b, 392, 392 + UIDREC_LSTAG_LEN))
		return -ENOENT;
	memcpy(tag, b + 392, UIDREC_LSTAG_LEN);
	return 0;
}

/*
 * Returns 0, UIDREC_ABSENT, -EINVAL, SDLM_EMAGIC/EVERSION/ECHECKSUM/
 * EIDENTITY or -EUCLEAN; see uidrec.h.
 */
int uidrec_in(struct uid_rec *r, const void *sector, size_t len,
	      const uint8_t uuid[SDLM_UUID_LEN], uint64_t expect_slot,
	      uint32_t expect_copy)
{
	struct uid_disk d;
	uint32_t disk_crc;
	int rv;

	if (!r)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	if (!sector || len < SDLM_RECORD_SIZE || !uuid ||
	    expect_copy >= UIDREC_COPIES)
		return -EINVAL;

	if (bytes_are_zero(sector, 0, len))
		return UIDREC_ABSENT;
	memcpy(&d, sector, SDLM_RECORD_SIZE);
	if (memcmp(d.magic, uid_magic, sizeof(d.magic)) != 0)
		return SDLM_EMAGIC;
	if (le16toh(d.major) != SDLM_ONDISK_MAJOR)
		return SDLM_EVERSION;
	memcpy(&disk_crc, (uint8_t *)&d + SDLM_RECORD_CRC_OFFSET, sizeof(disk_crc));
	if (le32toh(disk_crc) != crc32c(0, &d, SDLM_RECORD_CRC_OFFSET) ||
	    !bytes_are_zero(sector, SDLM_RECORD_SIZE, len))
		return SDLM_ECHECKSUM;
	if (memcmp(d.uuid, uuid, SDLM_UUID_LEN) != 0 ||
	    le64toh(d.slot) != expect_slot ||
	    le32toh(d.copy) != expect_copy)
		return SDLM_EIDENTITY;

	r->flags = le32toh(d.flags);
	memcpy(r->guid, d.guid, UID_GUID_LEN);
	memcpy(r->uuid, d.uuid, SDLM_UUID_LEN);
	r->slot = le64toh(d.slot);
	r->gen = le64toh(d.gen);
	r->epoch = le64toh(d.epoch);
	r->seq = le64toh(d.seq);
	r->incarnation = le64toh(d.incarnation);
	r->wall_time_ms = le64toh(d.wall_time_ms);
	r->state = le32toh(d.state);
	r->copy = le32toh(d.copy);
	r->node_id = le32toh(d.node_id);
	r->uidvalidity = le32toh(d.uidvalidity);
	r->watermark = le32toh(d.watermark);
	r->res_first = le32toh(d.res_first);
	r->res_last = le32toh(d.res_last);
	r->name_len = le16toh(d.name_len);
	r->prov_base = le32toh(d.prov_base);
	/* Reserved before minor 2: not data, whatever it holds. */
	if (le16toh(d.minor) >= UIDREC_MINOR_FLOOR)
		r->floor = le32toh(d.floor);
	if (le16toh(d.minor) >= UIDREC_MINOR_LSTAG)
		memcpy(r->lstag, d.lstag, UIDREC_LSTAG_LEN);
	if (r->name_len > UIDREC_NAME_MAX) {
		rv = -EUCLEAN;
		goto out_clear;
	}
	/* Bytes after name_len are not data: decoded as zero. */
	memcpy(r->name, d.name, r->name_len);
	if (!uidrec_is_sane(r)) {
		rv = -EUCLEAN;
		goto out_clear;
	}
	return 0;

out_clear:
	memset(r, 0, sizeof(*r));
	return rv;
}

/* ---- resolution of a slot pair ---- */

/* Is a later than b: (epoch, seq, watermark) lexicographically. */
static bool rec_is_later(const struct uid_rec *a, const struct uid_rec *b)
{
	if (a->epoch != b->epoch)
		return a->epoch > b->epoch;
	if (a->seq != b->seq)
		return a->seq > b->seq;
	return a->watermark > b->watermark;
}

/* Returns 0, a copy's error, or -EUCLEAN; see uidrec.h. */
int uidrec_resolve(const struct uid_rec rec[UIDREC_COPIES],
		   const int rc[UIDREC_COPIES], struct uid_slot_view *v)
{
	uint64_t gen = 0;
	int c, latest = -1;

	if (!v)
		return -EINVAL;
	memset(v, 0, sizeof(*v));
	if (!rec || !rc)
		return -EINVAL;

	for (c = 0; c < UIDREC_COPIES; c++) {
		if (rc[c] >= 0)
			continue;
		/* one damaged copy next to an intact one: resolve from it */
		if (!v->damaged_copy && rc[!c] == 0) {
			v->damaged_copy = (uint32_t)c + 1;
			v->damaged_err = rc[c];
			continue;
		}
		memset(v, 0, sizeof(*v));
		return rc[0] < 0 ? rc[0] : rc[1];
	}
	for (c = 0; c < UIDREC_COPIES; c++)
		if (rc[c] == 0 && rec[c].gen > gen)
			gen = rec[c].gen;
	if (!gen)
		return 0;	/* both absent: EMPTY */

	for (c = 0; c < UIDREC_COPIES; c++) {
		if (rc[c] != 0 || rec[c].gen != gen)
			continue;
		if (latest >= 0 &&
		    memcmp(rec[c].guid, rec[latest].guid, UID_GUID_LEN) != 0) {
			memset(v, 0, sizeof(*v));
			return -EUCLEAN;
		}
		v->copies_ok |= 1u << c;
		if (rec[c].epoch > v->epoch)
			v->epoch = rec[c].epoch;
		if (rec[c].seq > v->seq)
			v->seq = rec[c].seq;
		if (rec[c].uidvalidity > v->uidvalidity) {
			v->uidvalidity = rec[c].uidvalidity;
			v->watermark = rec[c].watermark;
			v->provisional = false;
			v->prov_base = 0;
		} else if (rec[c].uidvalidity == v->uidvalidity &&
			   rec[c].watermark > v->watermark) {
			v->watermark = rec[c].watermark;
		}
		if (rec[c].uidvalidity == v->uidvalidity &&
		    (rec[c].flags & UIDREC_F_PROVISIONAL) &&
		    (!v->provisional || rec[c].prov_base < v->prov_base)) {
			v->provisional = true;
			v->prov_base = rec[c].prov_base;
		}
		if (latest < 0 || rec_is_later(&rec[c], &rec[latest]))
			latest = c;
		/* the lockspace's tag: any counted copy's; two different
		 * ones (never written by one lockspace) are lstag_mixed */
		if (!bytes_are_zero(rec[c].lstag, 0, UIDREC_LSTAG_LEN)) {
			if (!bytes_are_zero(v->lstag, 0, UIDREC_LSTAG_LEN) &&
			    memcmp(v->lstag, rec[c].lstag, UIDREC_LSTAG_LEN) != 0)
				v->lstag_mixed = true;
			else
				memcpy(v->lstag, rec[c].lstag, UIDREC_LSTAG_LEN);
		}
	}
	v->gen = gen;
	v->latest = rec[latest];
	if (rec[latest].uidvalidity == v->uidvalidity)
		v->floor = rec[latest].floor;
	memcpy(v->guid, rec[latest].guid, UID_GUID_LEN);
	v->kind = rec[latest].state == UIDREC_USED ? UID_SLOT_USED
						    : UID_SLOT_DELETED;
	return 0;
}

/* ---- the lockspace a record belongs to ---- */

/* Returns 0 or -EINVAL; see uidrec.h. */
int uid_lstag(const char *ls, uint8_t tag[UIDREC_LSTAG_LEN])
{
	static const char dom[] = "sdlm lockspace tag v1";	/* + NUL */
	uint8_t h[SHA256_LEN];
	struct sha256 s;

	if (!ls || !*ls || !tag)
		return -EINVAL;
	sha256_init(&s);
	sha256_update(&s, dom, sizeof(dom));
	sha256_update(&s, ls, strlen(ls) + 1);
	sha256_final(&s, h);
	memcpy(tag, h, UIDREC_LSTAG_LEN);
	if (bytes_are_zero(tag, 0, UIDREC_LSTAG_LEN))
		tag[0] = 1;	/* all zero means "not stamped" */
	return 0;
}

/* Returns a verdict; see uidrec.h. */
enum uid_lstag_verdict uid_lstag_check(const struct uid_slot_view *v,
				       const uint8_t tag[UIDREC_LSTAG_LEN])
{
	if (!v || !tag || bytes_are_zero(tag, 0, UIDREC_LSTAG_LEN) || v->lstag_mixed)
		return UID_LSTAG_OTHER;
	if (bytes_are_zero(v->lstag, 0, UIDREC_LSTAG_LEN))
		return UID_LSTAG_STAMP;
	return memcmp(v->lstag, tag, UIDREC_LSTAG_LEN) == 0 ? UID_LSTAG_OURS
							   : UID_LSTAG_OTHER;
}

/* ---- table ---- */

uint64_t uidtab_nslots(const struct sdlm_header *h)
{
	return h->uid_area_sectors / UIDREC_COPIES;
}

int uidtab_offset(const struct sdlm_header *h, uint64_t slot, uint32_t copy,
		  uint64_t *off)
{
	if (!h || !off || copy >= UIDREC_COPIES || slot >= uidtab_nslots(h))
		return -EINVAL;
	*off = (h->uid_area_start + UIDREC_COPIES * slot + copy) * h->sector_size;
	return 0;
}

/* splitmix64's finaliser: every input bit reaches every output bit. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/*
 * GUIDs are usually random, but not every mail store makes them so (some
 * embed a time or a host id), hence the mixing.  Bytes are read as two
 * little-endian words so the home slot is the same on every host.
 */
uint64_t uidtab_home(const uint8_t guid[UID_GUID_LEN], uint64_t nslots)
{
	uint64_t lo = 0, hi = 0;
	int i;

	for (i = 7; i >= 0; i--) {
		lo = lo << 8 | guid[i];
		hi = hi << 8 | guid[8 + i];
	}
	return mix64(lo ^ mix64(hi)) % nslots;
}

/* Walk table t of p->g from the GUID's home in it. */
static void probe_enter(struct uidtab_probe *p, uint32_t t)
{
	p->tab = t;
	p->nslots = p->g->t[t].nslots;
	p->base = p->g->t[t].base;
	p->home = uidtab_home(p->guid, p->nslots);
	p->step = 0;
	p->slot = p->base + p->home;
}

/* Returns 0 or -EINVAL (no table, all-zero GUID). */
int uidtab_probe_init_geom(struct uidtab_probe *p, const uint8_t guid[UID_GUID_LEN],
			   const struct uidtab_geom *g, bool insert)
{
	uint32_t t;

	if (!p || !guid || !g || !g->ntables || g->ntables > UIDTAB_MAX_TABLES ||
	    bytes_are_zero(guid, 0, UID_GUID_LEN))
		return -EINVAL;
	for (t = 0; t < g->ntables; t++)
		if (!g->t[t].nslots)
			return -EINVAL;
	memset(p, 0, sizeof(*p));
	memcpy(p->guid, guid, UID_GUID_LEN);
	p->g = g;
	p->insert = insert;
	probe_enter(p, 0);
	return 0;
}

/* Returns 0 or -EINVAL (nslots 0, all-zero GUID). */
int uidtab_probe_init(struct uidtab_probe *p, const uint8_t guid[UID_GUID_LEN],
		      uint64_t nslots, bool insert)
{
	struct uidtab_geom one;
	int rv;

	if (!p || !nslots)
		return -EINVAL;
	memset(&one, 0, sizeof(one));
	one.ntables = 1;
	one.t[0].nslots = nslots;
	rv = uidtab_probe_init_geom(p, guid, &one, insert);
	if (rv == 0) {
		p->one = one;
		p->g = &p->one;
		p->last = true;
	}
	return rv;
}

/* The insert window of the table being walked. */
static uint64_t probe_window(const struct uidtab_probe *p)
{
	return p->nslots < UIDTAB_WINDOW ? p->nslots : UIDTAB_WINDOW;
}

/* The insert answer where a lookup proves absence: the first free slot
 * within a window, else slot (never when the insert met its own
 * tombstone: that is its answer, see probe_step). */
static int probe_insert_here(struct uidtab_probe *p, uint64_t slot, uint64_t gen)
{
	if (p->have_tomb) {
		p->slot = p->tomb_slot;
		p->reuse_gen = p->tomb_gen;
	} else {
		p->slot = slot;
		p->reuse_gen = gen;
	}
	return 0;
}

static int probe_step(struct uidtab_probe *p, const struct uid_slot_view *v);

/* A "not there" answer, unless the probe passed a damaged slot. */
static int probe_absent(struct uidtab_probe *p, int rv)
{
	if (!p->damaged)
		return rv;
	p->slot = p->damaged_slot;
	return p->damaged;
}

/* Every table walked, none proved the GUID absent. */
static int probe_finish(struct uidtab_probe *p)
{
	if (!p->insert)
		return -ENOENT;
	if (p->have_tomb)
		return probe_insert_here(p, 0, 0);
	return UIDTAB_EFULL;
}

/* The table being walked ended without an answer: the next one. */
static int probe_next_table(struct uidtab_probe *p)
{
	if (p->tab + 1 < p->g->ntables) {
		probe_enter(p, p->tab + 1);
		return UIDTAB_MORE;
	}
	if (!p->last)
		return UIDTAB_TABLE;
	return probe_finish(p);
}

static int probe_answer(struct uidtab_probe *p, int rv)
{
	if (rv == 0 && !p->insert)
		return 0;
	if (rv == 0 || rv == -ENOENT || rv == UIDTAB_EFULL)
		return probe_absent(p, rv);
	return rv;
}

/* Returns UIDTAB_MORE, UIDTAB_TABLE, 0, -ENOENT, -EEXIST or UIDTAB_EFULL. */
int uidtab_probe_step(struct uidtab_probe *p, const struct uid_slot_view *v)
{
	return probe_answer(p, probe_step(p, v));
}

/* Returns UIDTAB_MORE or the answer; see uidrec.h. */
int uidtab_probe_table(struct uidtab_probe *p)
{
	if (!p || !p->g)
		return -EINVAL;
	if (p->tab + 1 < p->g->ntables) {
		probe_enter(p, p->tab + 1);
		return UIDTAB_MORE;
	}
	p->last = true;
	return probe_answer(p, probe_finish(p));
}

/* One slot passed: the next in this table, or the next table. */
static int probe_advance(struct uidtab_probe *p)
{
	if (p->step == p->nslots)
		return probe_next_table(p);
	p->slot = p->base + (p->home + p->step) % p->nslots;
	return UIDTAB_MORE;
}

/* Returns UIDTAB_MORE, UIDTAB_TABLE, or err / -EINVAL; see uidrec.h. */
int uidtab_probe_damaged(struct uidtab_probe *p, int err)
{
	int rv;

	if (!p || !p->g || err >= 0 || p->step >= p->nslots)
		return -EINVAL;
	if (!p->damaged) {
		p->damaged = err;
		p->damaged_slot = p->slot;
	}
	p->step++;
	rv = probe_advance(p);
	return rv > 0 ? rv : probe_answer(p, rv);
}

static int probe_step(struct uidtab_probe *p, const struct uid_slot_view *v)
{
	bool mine, in_window;

	if (!p || !p->g || !v || p->step >= p->nslots)
		return -EINVAL;
	mine = v->kind != UID_SLOT_EMPTY &&
	       memcmp(v->guid, p->guid, UID_GUID_LEN) == 0 &&
	       (!p->name || (v->latest.name_len == p->name_len &&
			     memcmp(v->latest.name, p->name, p->name_len) == 0));
	in_window = p->step < probe_window(p);
	p->step++;

	if (v->kind == UID_SLOT_EMPTY) {
		if (!in_window)		/* not proof: the GUID may be further on */
			return probe_next_table(p);
		return p->insert ? probe_insert_here(p, p->slot, 0) : -ENOENT;
	}
	if (mine && v->kind == UID_SLOT_USED)
		return p->insert ? -EEXIST : 0;
	if (mine && !p->insert)
		return -ENOENT;	/* our own tombstone: deleted */
	if (mine) {
		/* Our own tombstone is where we go, even past an earlier free
		 * slot: the caller decides from its view (a deleted mailbox's
		 * UIDVALIDITY, watermark and epoch), which another mailbox's
		 * tombstone would hide (docs/uid.md). */
		p->reuse_gen = v->gen;
		return 0;
	}
	if (v->kind == UID_SLOT_DELETED && in_window && !p->have_tomb) {
		p->have_tomb = true;
		p->tomb_slot = p->slot;
		p->tomb_gen = v->gen;
	}
	return probe_advance(p);
}

/* ---- names and GUIDs ---- */

/* Returns 0, -EINVAL or a uidrec_name_check error; see uidrec.h. */
int uid_name_guid(const char *ls, const char *name, size_t len, int version,
		  uint8_t guid[UID_GUID_LEN])
{
	static const char tag[] = "sdlm mailbox guid v2";
	uint8_t d[SHA256_LEN], nul = 0;
	struct sha256 s;
	uint32_t i, c;
	int rv;

	if (!ls || !guid || (version != UIDNAME_V1 && version != UIDNAME_V2))
		return -EINVAL;
	rv = uidrec_name_check(name, len);
	if (rv)
		return rv;
	if (version == UIDNAME_V1) {
		for (i = 0; i < 4; i++) {
			c = crc32c(i * 0x9e3779b9u, ls, strlen(ls));
			c = crc32c(c, "/", 1);
			c = crc32c(c, name, len);
			memcpy(guid + 4 * i, &c, 4);
		}
	} else {
		sha256_init(&s);
		sha256_update(&s, tag, sizeof(tag));	/* with its NUL */
		sha256_update(&s, ls, strlen(ls));
		sha256_update(&s, &nul, 1);
		sha256_update(&s, name, len);
		sha256_final(&s, d);
		memcpy(guid, d, UID_GUID_LEN);
	}
	guid[6] = (guid[6] & 0x0f) | 0x80;	/* never all zero */
	return 0;
}
