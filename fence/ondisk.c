/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ondisk.c - every byte of the heartbeat/fencing area is laid out here.
 *
 * The disk structs below are the format: little-endian, naturally
 * aligned, explicit padding, reserved bytes up to offset 508 and the
 * CRC32C of bytes [0, 508) in the last four.  Offsets are pinned by
 * _Static_assert so that a field moved by accident breaks the build, not
 * a cluster; docs/ondisk.md holds the same tables for humans.
 *
 *	common prefix (every record)
 *	  0  magic[8]	"SDLMHDR\0" / "SDLMHB\0\0" / "SDLMMSG\0"
 *	  8  major u16	SDLM_ONDISK_MAJOR; another major is refused (the
 *			header: 2 when it carries incompatible features)
 *	 10  minor u16	per record kind (ondisk.h); a higher minor only adds
 *			fields in reserved
 *	 12  flags u32
 *	 16  ...record fields...
 *	508  crc u32	crc32c(0, record, 508)
 *
 * Conversion is memcpy into the disk struct (no alignment or aliasing
 * assumptions about the caller's buffer) plus htole/letoh per field.
 * Reserved and padding bytes are written as zero and ignored on read, so
 * that a reader of minor 0 accepts what a writer of minor 1 put there.
 *
 * Verification (each *_in): length -> magic -> major -> CRC -> sector tail
 * -> identity -> sanity, each with its own error (see ondisk.h).  Sanity
 * is the same predicate for both directions: *_out refuses to write what
 * *_in would refuse to read.
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "sdlm_errors.h"
#include "crc32c.h"
#include "ondisk.h"

static const char hdr_magic[8] = "SDLMHDR";	/* + NUL */
static const char hb_magic[8] = "SDLMHB";	/* + two NULs */
static const char msg_magic[8] = "SDLMMSG";	/* + NUL */

struct rec_prefix {
	char magic[8];
	uint16_t major;
	uint16_t minor;
	uint32_t flags;
};

struct hdr_disk {
	struct rec_prefix pfx;
	uint32_t sector_size;
	uint32_t num_nodes;
	uint32_t io_timeout_ms;
	uint32_t hb_interval_ms;
	uint32_t watchdog_timeout_ms;
	uint32_t pad0;
	uint64_t create_time;
	uint64_t uid_area_start;
	uint64_t uid_area_sectors;
	uint8_t uuid[SDLM_UUID_LEN];
	char cluster_name[SDLM_DISK_NAME_LEN];
	char create_host[SDLM_DISK_NAME_LEN];
	uint8_t reserved[300];
	uint32_t crc;
};

struct hb_disk {
	struct rec_prefix pfx;
	uint32_t node_id;
	uint32_t state;
	uint64_t counter;
	uint64_t incarnation;
	uint64_t ack_seq;
	uint64_t ack_incarnation;
	uint32_t ack_cmd;
	uint32_t hb_interval_ms;
	uint64_t wall_time_ms;
	uint8_t uuid[SDLM_UUID_LEN];
	char node_name[SDLM_DISK_NAME_LEN];
	char version[SDLM_VERSION_LEN];	/* minor >= 1; reserved in minor 0 */
	/* minor >= 2; reserved in minor 0 and 1 (docs/design-handoff.md §4) */
	uint64_t req_seq;
	struct {
		uint64_t lkid;
		uint64_t target_incarnation;
	} req[SDLM_HB_REQ_MAX];
	uint64_t ans_seq;
	uint32_t ans_count;
	uint32_t ans_lvb;
	struct {
		uint64_t lkid;
		uint8_t lvb[SDLM_HB_LVB_LEN];
	} ans[SDLM_HB_ANS_MAX];
	uint8_t reserved[12];
	uint32_t crc;
};

/* The first heartbeat minors that define version, the hand-off areas. */
#define HB_MINOR_VERSION	1
#define HB_MINOR_HANDOFF	2

struct msg_disk {
	struct rec_prefix pfx;
	uint32_t node_id;
	uint32_t cmd;
	uint64_t seq;
	uint64_t target_incarnation;
	uint32_t from_node;
	uint32_t pad0;
	uint64_t wall_time_ms;
	uint8_t uuid[SDLM_UUID_LEN];
	uint8_t reserved[436];
	uint32_t crc;
};

_Static_assert(sizeof(struct rec_prefix) == 16, "record prefix");
_Static_assert(sizeof(struct hdr_disk) == SDLM_RECORD_SIZE, "hdr size");
_Static_assert(sizeof(struct hb_disk) == SDLM_RECORD_SIZE, "hb size");
_Static_assert(sizeof(struct msg_disk) == SDLM_RECORD_SIZE, "msg size");
_Static_assert(offsetof(struct hdr_disk, crc) == SDLM_RECORD_CRC_OFFSET, "hdr crc");
_Static_assert(offsetof(struct hb_disk, crc) == SDLM_RECORD_CRC_OFFSET, "hb crc");
_Static_assert(offsetof(struct msg_disk, crc) == SDLM_RECORD_CRC_OFFSET, "msg crc");
_Static_assert(offsetof(struct hdr_disk, sector_size) == 16, "hdr sector_size");
_Static_assert(offsetof(struct hdr_disk, create_time) == 40, "hdr create_time");
_Static_assert(offsetof(struct hdr_disk, uuid) == 64, "hdr uuid");
_Static_assert(offsetof(struct hdr_disk, cluster_name) == 80, "hdr cluster_name");
_Static_assert(offsetof(struct hdr_disk, create_host) == 144, "hdr create_host");
_Static_assert(offsetof(struct hdr_disk, reserved) == 208, "hdr reserved");
_Static_assert(offsetof(struct hb_disk, node_id) == 16, "hb node_id");
_Static_assert(offsetof(struct hb_disk, counter) == 24, "hb counter");
_Static_assert(offsetof(struct hb_disk, ack_cmd) == 56, "hb ack_cmd");
_Static_assert(offsetof(struct hb_disk, wall_time_ms) == 64, "hb wall_time_ms");
_Static_assert(offsetof(struct hb_disk, uuid) == 72, "hb uuid");
_Static_assert(offsetof(struct hb_disk, node_name) == 88, "hb node_name");
_Static_assert(offsetof(struct hb_disk, version) == 152, "hb version");
_Static_assert(offsetof(struct hb_disk, req_seq) == 184, "hb req_seq");
_Static_assert(offsetof(struct hb_disk, req) == 192, "hb req");
_Static_assert(sizeof(((struct hb_disk *)0)->req[0]) == 16, "hb req entry");
_Static_assert(offsetof(struct hb_disk, ans_seq) == 320, "hb ans_seq");
_Static_assert(offsetof(struct hb_disk, ans_count) == 328, "hb ans_count");
_Static_assert(offsetof(struct hb_disk, ans_lvb) == 332, "hb ans_lvb");
_Static_assert(offsetof(struct hb_disk, ans) == 336, "hb ans");
_Static_assert(sizeof(((struct hb_disk *)0)->ans[0]) == 40, "hb ans entry");
_Static_assert(offsetof(struct hb_disk, reserved) == 496, "hb reserved");
_Static_assert(offsetof(struct msg_disk, node_id) == 16, "msg node_id");
_Static_assert(offsetof(struct msg_disk, seq) == 24, "msg seq");
_Static_assert(offsetof(struct msg_disk, from_node) == 40, "msg from_node");
_Static_assert(offsetof(struct msg_disk, wall_time_ms) == 48, "msg wall_time_ms");
_Static_assert(offsetof(struct msg_disk, uuid) == 56, "msg uuid");
_Static_assert(offsetof(struct msg_disk, reserved) == 72, "msg reserved");

/* ---- shared pieces ---- */

static void prefix_out(struct rec_prefix *p, const char magic[8], uint16_t major,
		       uint16_t minor, uint32_t flags)
{
	memcpy(p->magic, magic, sizeof(p->magic));
	p->major = htole16(major);
	p->minor = htole16(minor);
	p->flags = htole32(flags);
}

/* Zero the sector, place the record, seal it with its CRC. */
static void record_seal(void *sector, size_t sector_size, void *rec)
{
	uint32_t crc = crc32c(0, rec, SDLM_RECORD_CRC_OFFSET);

	crc = htole32(crc);
	memcpy((uint8_t *)rec + SDLM_RECORD_CRC_OFFSET, &crc, sizeof(crc));
	memset(sector, 0, sector_size);
	memcpy(sector, rec, SDLM_RECORD_SIZE);
}

/*
 * Magic, then major, then CRC, on a buffer of at least one record.
 * Copies the record into rec (SDLM_RECORD_SIZE bytes) for decoding.
 */
static int record_verify(void *rec, const void *sector, const char magic[8],
			 uint16_t max_major)
{
	const struct rec_prefix *p = rec;
	uint32_t disk_crc;

	memcpy(rec, sector, SDLM_RECORD_SIZE);
	if (memcmp(p->magic, magic, sizeof(p->magic)) != 0)
		return SDLM_EMAGIC;
	if (le16toh(p->major) < SDLM_ONDISK_MAJOR || le16toh(p->major) > max_major)
		return SDLM_EVERSION;
	memcpy(&disk_crc, (uint8_t *)rec + SDLM_RECORD_CRC_OFFSET, sizeof(disk_crc));
	if (le32toh(disk_crc) != crc32c(0, rec, SDLM_RECORD_CRC_OFFSET))
		return SDLM_ECHECKSUM;
	return 0;
}

/* The part of a sector after the record is outside the CRC: must be zero. */
static bool tail_is_zero(const void *sector, size_t end)
{
	const uint8_t *p = sector;
	size_t i;

	for (i = SDLM_RECORD_SIZE; i < end; i++)
		if (p[i])
			return false;
	return true;
}

/* A name field holds its NUL and min_len..63 characters before it. */
static bool name_is_sane(const char *name, size_t min_len)
{
	const char *nul = memchr(name, '\0', SDLM_DISK_NAME_LEN);

	return nul && (size_t)(nul - name) >= min_len;
}

/* Copy up to the NUL and zero the rest: what follows the NUL is not data. */
static void name_copy(char *dst, const char *src)
{
	size_t n = strnlen(src, SDLM_DISK_NAME_LEN - 1);

	memset(dst, 0, SDLM_DISK_NAME_LEN);
	memcpy(dst, src, n);
}

static bool uuid_is_nil(const uint8_t uuid[SDLM_UUID_LEN])
{
	static const uint8_t nil[SDLM_UUID_LEN];

	return memcmp(uuid, nil, SDLM_UUID_LEN) == 0;
}

static bool node_id_is_valid(uint32_t node_id)
{
	return node_id >= 1 && node_id <= SDLM_MAX_NODES;
}

/* ---- header ---- */

static bool hdr_is_sane(const struct sdlm_header *h)
{
	uint64_t first_free = 2 * (uint64_t)h->num_nodes + 1;

	if (h->sector_size != 512 && h->sector_size != 4096)
		return false;
	if (h->num_nodes < 1 || h->num_nodes > SDLM_MAX_NODES)
		return false;
	if (!name_is_sane(h->cluster_name, 1) || !name_is_sane(h->create_host, 0))
		return false;
	if (uuid_is_nil(h->uuid))
		return false;
	if (!h->io_timeout_ms || !h->hb_interval_ms || !h->watchdog_timeout_ms)
		return false;
	if (!h->uid_area_sectors)
		return h->uid_area_start == 0;
	/* The UID area follows the slots and its byte end fits in 64 bits. */
	if (h->uid_area_start < first_free)
		return false;
	if (h->uid_area_sectors > UINT64_MAX / SDLM_SECTOR_SIZE_MAX ||
	    h->uid_area_start > UINT64_MAX / SDLM_SECTOR_SIZE_MAX - h->uid_area_sectors)
		return false;
	return true;
}

/* Returns 0 or -EINVAL; see ondisk.h. */
int hdr_out(const struct sdlm_header *h, void *sector, size_t sector_size)
{
	struct hdr_disk d;

	if (!h || !sector || sector_size < SDLM_RECORD_SIZE || !hdr_is_sane(h) ||
	    (h->flags & ~SDLM_HDR_F_KNOWN))
		return -EINVAL;

	memset(&d, 0, sizeof(d));
	/* major 2 only with a feature an older reader must not miss: an
	 * area without one stays readable by every 1.x reader */
	prefix_out(&d.pfx, hdr_magic, h->flags ? SDLM_HDR_MAJOR_FEATURES : SDLM_ONDISK_MAJOR,
		   SDLM_ONDISK_MINOR, h->flags);
	d.sector_size = htole32(h->sector_size);
	d.num_nodes = htole32(h->num_nodes);
	d.io_timeout_ms = htole32(h->io_timeout_ms);
	d.hb_interval_ms = htole32(h->hb_interval_ms);
	d.watchdog_timeout_ms = htole32(h->watchdog_timeout_ms);
	d.create_time = htole64(h->create_time);
	d.uid_area_start = htole64(h->uid_area_start);
	d.uid_area_sectors = htole64(h->uid_area_sectors);
	memcpy(d.uuid, h->uuid, SDLM_UUID_LEN);
	name_copy(d.cluster_name, h->cluster_name);
	name_copy(d.create_host, h->create_host);
	record_seal(sector, sector_size, &d);
	return 0;
}

/* Returns 0, -EINVAL, SDLM_EMAGIC/EVERSION/ECHECKSUM or -EUCLEAN. */
int hdr_in(struct sdlm_header *h, const void *sector, size_t len)
{
	struct hdr_disk d;
	size_t tail_end;
	int rv;

	if (!h)
		return -EINVAL;
	memset(h, 0, sizeof(*h));
	if (!sector || len < SDLM_RECORD_SIZE)
		return -EINVAL;

	rv = record_verify(&d, sector, hdr_magic, SDLM_HDR_MAJOR_MAX);
	if (rv)
		goto out_clear;

	h->major = le16toh(d.pfx.major);
	h->minor = le16toh(d.pfx.minor);
	/*
	 * Major 1 defines no header flag (every writer wrote 0, every
	 * reader ignored them): read as none.  Major 2's flags are the
	 * area's incompatible features, each one a reason an older reader
	 * must not use the area: one this reader does not know refuses it,
	 * as every 1.x reader refuses major 2.  A major-2 header without a
	 * feature is never written.
	 */
	h->flags = h->major == SDLM_HDR_MAJOR_FEATURES ? le32toh(d.pfx.flags) : 0;
	if (h->flags & ~SDLM_HDR_F_KNOWN) {
		rv = SDLM_EVERSION;
		goto out_clear;
	}
	if (h->major == SDLM_HDR_MAJOR_FEATURES && !h->flags) {
		rv = -EUCLEAN;
		goto out_clear;
	}
	h->sector_size = le32toh(d.sector_size);
	h->num_nodes = le32toh(d.num_nodes);
	h->io_timeout_ms = le32toh(d.io_timeout_ms);
	h->hb_interval_ms = le32toh(d.hb_interval_ms);
	h->watchdog_timeout_ms = le32toh(d.watchdog_timeout_ms);
	h->create_time = le64toh(d.create_time);
	h->uid_area_start = le64toh(d.uid_area_start);
	h->uid_area_sectors = le64toh(d.uid_area_sectors);
	memcpy(h->uuid, d.uuid, SDLM_UUID_LEN);
	/* Raw copy: the sanity check must see a missing NUL. */
	memcpy(h->cluster_name, d.cluster_name, SDLM_DISK_NAME_LEN);
	memcpy(h->create_host, d.create_host, SDLM_DISK_NAME_LEN);

	/*
	 * Only the header's own sector must have a zero tail: a probe read
	 * longer than a 512-byte sector already holds heartbeat slots.  An
	 * insane sector_size is left for the sanity check to name.
	 */
	if (h->sector_size == 512 || h->sector_size == 4096) {
		tail_end = len < h->sector_size ? len : h->sector_size;
		if (!tail_is_zero(sector, tail_end)) {
			rv = SDLM_ECHECKSUM;
			goto out_clear;
		}
	}
	if (!hdr_is_sane(h)) {
		rv = -EUCLEAN;
		goto out_clear;
	}
	name_copy(h->cluster_name, d.cluster_name);
	name_copy(h->create_host, d.create_host);
	return 0;

out_clear:
	memset(h, 0, sizeof(*h));
	return rv;
}

/* ---- heartbeat slot ---- */

/*
 * A version field holds 0..31 printable ASCII characters, a NUL and zero
 * bytes after it: it is printed in tables, JSON and Prometheus labels,
 * and a checksummed record with anything else in it is nonsense.
 */
static bool version_is_sane(const char *v)
{
	const char *nul = memchr(v, '\0', SDLM_VERSION_LEN);
	const char *p;

	if (!nul)
		return false;
	for (p = v; p < nul; p++)
		if (*p < 0x20 || *p > 0x7e)
			return false;
	for (p = nul; p < v + SDLM_VERSION_LEN; p++)
		if (*p)
			return false;
	return true;
}

static bool bytes_are_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/* The node a cluster lock id names: its upper 32 bits (dlm/core/nodelock.c). */
static uint64_t lkid_node(uint64_t lkid)
{
	return lkid >> 32;
}

/* Rules H1-H3 of ondisk.h: the release requests. */
static bool hb_req_is_sane(const struct sdlm_hb *hb)
{
	bool empty_seen = false;
	size_t i;

	for (i = 0; i < SDLM_HB_REQ_MAX; i++) {
		const struct sdlm_hb_req *e = &hb->req[i];

		if (!e->lkid)
			empty_seen = true;
		if (empty_seen) {
			if (e->lkid || e->target_incarnation)
				return false;			/* H1 */
			continue;
		}
		if (lkid_node(e->lkid) < 1 ||
		    lkid_node(e->lkid) > SDLM_MAX_NODES ||
		    lkid_node(e->lkid) == hb->node_id ||
		    !e->target_incarnation)
			return false;				/* H2 */
	}
	return hb->req_seq || !hb->req[0].lkid;			/* H3 */
}

/* Rules H4-H7 of ondisk.h: the answer. */
static bool hb_ans_is_sane(const struct sdlm_hb *hb)
{
	size_t i;

	if (hb->ans_count > SDLM_HB_ANS_MAX)
		return false;					/* H4 */
	if (hb->ans_count && !hb->ans_seq)
		return false;					/* H7 */
	if (hb->ans_lvb >> hb->ans_count)
		return false;					/* H6 */
	for (i = 0; i < SDLM_HB_ANS_MAX; i++) {
		const struct sdlm_hb_ans *e = &hb->ans[i];

		if (i >= hb->ans_count) {
			if (e->lkid || !bytes_are_zero(e->lvb, SDLM_HB_LVB_LEN))
				return false;			/* H4 */
			continue;
		}
		if (lkid_node(e->lkid) != hb->node_id)
			return false;				/* H5 */
		if (!(hb->ans_lvb & (1u << i)) &&
		    !bytes_are_zero(e->lvb, SDLM_HB_LVB_LEN))
			return false;				/* H6 */
	}
	return true;
}

/*
 * A record of a minor above ours (docs/ondisk.md, "Versioning"; review
 * s25-rev2).  By the promise its writer keeps the rules of every field we
 * know.  A field we would act on that breaks them anyway means something
 * we cannot tell: it reads as absent - the version "" (unknown), both
 * hand-off areas empty (no request, no answer: a hand-off with that node
 * falls back to the fence, as with a writer before minor 2) - and the rest
 * of the record is read.  Refusing the slot instead would hide a live node
 * from every older reader, and its acknowledgement of a pill with it: a
 * fence of it could never end.  What no minor may change (state, ack_cmd,
 * node, name) is still checked by hb_is_sane.
 */
static void later_minor_fields(struct sdlm_hb *hb)
{
	if (!version_is_sane(hb->version))
		memset(hb->version, 0, sizeof(hb->version));
	if (!hb_req_is_sane(hb) || !hb_ans_is_sane(hb)) {
		hb->req_seq = 0;
		memset(hb->req, 0, sizeof(hb->req));
		hb->ans_seq = 0;
		hb->ans_count = 0;
		hb->ans_lvb = 0;
		memset(hb->ans, 0, sizeof(hb->ans));
	}
}

/* minor: the record's (hb_in) or the one written (hb_out). */
static bool hb_is_sane(const struct sdlm_hb *hb, uint16_t minor)
{
	return node_id_is_valid(hb->node_id) &&
	       hb->state <= HB_STATE_MAX &&
	       hb->ack_cmd <= MSG_CMD_MAX &&
	       name_is_sane(hb->node_name, 0) &&
	       version_is_sane(hb->version) &&
	       (minor < HB_MINOR_HANDOFF ||
		(hb_req_is_sane(hb) && hb_ans_is_sane(hb)));
}

/* Returns 0 or -EINVAL; see ondisk.h. */
int hb_out(const struct sdlm_hb *hb, const uint8_t uuid[SDLM_UUID_LEN],
	   void *sector, size_t sector_size)
{
	struct hb_disk d;
	size_t i;

	if (!hb || !uuid || !sector || sector_size < SDLM_RECORD_SIZE ||
	    uuid_is_nil(uuid) || !hb_is_sane(hb, SDLM_HB_MINOR))
		return -EINVAL;

	memset(&d, 0, sizeof(d));
	prefix_out(&d.pfx, hb_magic, SDLM_ONDISK_MAJOR, SDLM_HB_MINOR, hb->flags);
	d.node_id = htole32(hb->node_id);
	d.state = htole32(hb->state);
	d.counter = htole64(hb->counter);
	d.incarnation = htole64(hb->incarnation);
	d.ack_seq = htole64(hb->ack_seq);
	d.ack_incarnation = htole64(hb->ack_incarnation);
	d.ack_cmd = htole32(hb->ack_cmd);
	d.hb_interval_ms = htole32(hb->hb_interval_ms);
	d.wall_time_ms = htole64(hb->wall_time_ms);
	memcpy(d.uuid, uuid, SDLM_UUID_LEN);
	name_copy(d.node_name, hb->node_name);
	memcpy(d.version, hb->version, SDLM_VERSION_LEN);
	d.req_seq = htole64(hb->req_seq);
	for (i = 0; i < SDLM_HB_REQ_MAX; i++) {
		d.req[i].lkid = htole64(hb->req[i].lkid);
		d.req[i].target_incarnation = htole64(hb->req[i].target_incarnation);
	}
	d.ans_seq = htole64(hb->ans_seq);
	d.ans_count = htole32(hb->ans_count);
	d.ans_lvb = htole32(hb->ans_lvb);
	for (i = 0; i < SDLM_HB_ANS_MAX; i++) {
		d.ans[i].lkid = htole64(hb->ans[i].lkid);
		memcpy(d.ans[i].lvb, hb->ans[i].lvb, SDLM_HB_LVB_LEN);
	}
	record_seal(sector, sector_size, &d);
	return 0;
}

/* Returns 0, -EINVAL, SDLM_EMAGIC/EVERSION/ECHECKSUM/EIDENTITY or -EUCLEAN. */
int hb_in(struct sdlm_hb *hb, const void *sector, size_t len,
	  const uint8_t uuid[SDLM_UUID_LEN], uint32_t expect_node_id)
{
	struct hb_disk d;
	size_t i;
	int rv;

	if (!hb)
		return -EINVAL;
	memset(hb, 0, sizeof(*hb));
	if (!sector || len < SDLM_RECORD_SIZE || !uuid ||
	    !node_id_is_valid(expect_node_id))
		return -EINVAL;

	rv = record_verify(&d, sector, hb_magic, SDLM_ONDISK_MAJOR);
	if (rv)
		goto out_clear;
	if (!tail_is_zero(sector, len)) {
		rv = SDLM_ECHECKSUM;
		goto out_clear;
	}
	if (memcmp(d.uuid, uuid, SDLM_UUID_LEN) != 0 ||
	    le32toh(d.node_id) != expect_node_id) {
		rv = SDLM_EIDENTITY;
		goto out_clear;
	}

	hb->flags = le32toh(d.pfx.flags);
	hb->minor = le16toh(d.pfx.minor);
	hb->node_id = le32toh(d.node_id);
	hb->state = le32toh(d.state);
	hb->counter = le64toh(d.counter);
	hb->incarnation = le64toh(d.incarnation);
	hb->ack_seq = le64toh(d.ack_seq);
	hb->ack_incarnation = le64toh(d.ack_incarnation);
	hb->ack_cmd = le32toh(d.ack_cmd);
	hb->hb_interval_ms = le32toh(d.hb_interval_ms);
	hb->wall_time_ms = le64toh(d.wall_time_ms);
	memcpy(hb->uuid, d.uuid, SDLM_UUID_LEN);
	memcpy(hb->node_name, d.node_name, SDLM_DISK_NAME_LEN);
	/* Reserved in minor 0: not data, whatever it holds. */
	if (hb->minor >= HB_MINOR_VERSION)
		memcpy(hb->version, d.version, SDLM_VERSION_LEN);
	/* Reserved below minor 2: not data, the areas read as empty. */
	if (hb->minor >= HB_MINOR_HANDOFF) {
		hb->req_seq = le64toh(d.req_seq);
		for (i = 0; i < SDLM_HB_REQ_MAX; i++) {
			hb->req[i].lkid = le64toh(d.req[i].lkid);
			hb->req[i].target_incarnation =
				le64toh(d.req[i].target_incarnation);
		}
		hb->ans_seq = le64toh(d.ans_seq);
		hb->ans_count = le32toh(d.ans_count);
		hb->ans_lvb = le32toh(d.ans_lvb);
		for (i = 0; i < SDLM_HB_ANS_MAX; i++) {
			hb->ans[i].lkid = le64toh(d.ans[i].lkid);
			memcpy(hb->ans[i].lvb, d.ans[i].lvb, SDLM_HB_LVB_LEN);
		}
	}
	if (hb->minor > SDLM_HB_MINOR)
		later_minor_fields(hb);
	if (!hb_is_sane(hb, hb->minor)) {
		rv = -EUCLEAN;
		goto out_clear;
	}
	name_copy(hb->node_name, d.node_name);
	return 0;

out_clear:
	memset(hb, 0, sizeof(*hb));
	return rv;
}

/* ---- message slot ---- */

static bool msg_is_sane(const struct sdlm_msg *msg)
{
	return node_id_is_valid(msg->node_id) &&
	       msg->cmd <= MSG_CMD_MAX &&
	       msg->from_node <= SDLM_MAX_NODES;
}

/* Returns 0 or -EINVAL; see ondisk.h. */
int msg_out(const struct sdlm_msg *msg, const uint8_t uuid[SDLM_UUID_LEN],
	    void *sector, size_t sector_size)
{
	struct msg_disk d;

	if (!msg || !uuid || !sector || sector_size < SDLM_RECORD_SIZE ||
	    uuid_is_nil(uuid) || !msg_is_sane(msg))
		return -EINVAL;

	memset(&d, 0, sizeof(d));
	prefix_out(&d.pfx, msg_magic, SDLM_ONDISK_MAJOR, SDLM_ONDISK_MINOR, msg->flags);
	d.node_id = htole32(msg->node_id);
	d.cmd = htole32(msg->cmd);
	d.seq = htole64(msg->seq);
	d.target_incarnation = htole64(msg->target_incarnation);
	d.from_node = htole32(msg->from_node);
	d.wall_time_ms = htole64(msg->wall_time_ms);
	memcpy(d.uuid, uuid, SDLM_UUID_LEN);
	record_seal(sector, sector_size, &d);
	return 0;
}

/* Returns 0, -EINVAL, SDLM_EMAGIC/EVERSION/ECHECKSUM/EIDENTITY or -EUCLEAN. */
int msg_in(struct sdlm_msg *msg, const void *sector, size_t len,
	   const uint8_t uuid[SDLM_UUID_LEN], uint32_t expect_node_id)
{
	struct msg_disk d;
	int rv;

	if (!msg)
		return -EINVAL;
	memset(msg, 0, sizeof(*msg));
	if (!sector || len < SDLM_RECORD_SIZE || !uuid ||
	    !node_id_is_valid(expect_node_id))
		return -EINVAL;

	rv = record_verify(&d, sector, msg_magic, SDLM_ONDISK_MAJOR);
	if (rv)
		goto out_clear;
	if (!tail_is_zero(sector, len)) {
		rv = SDLM_ECHECKSUM;
		goto out_clear;
	}
	if (memcmp(d.uuid, uuid, SDLM_UUID_LEN) != 0 ||
	    le32toh(d.node_id) != expect_node_id) {
		rv = SDLM_EIDENTITY;
		goto out_clear;
	}

	msg->flags = le32toh(d.pfx.flags);
	msg->node_id = le32toh(d.node_id);
	msg->cmd = le32toh(d.cmd);
	msg->seq = le64toh(d.seq);
	msg->target_incarnation = le64toh(d.target_incarnation);
	msg->from_node = le32toh(d.from_node);
	msg->wall_time_ms = le64toh(d.wall_time_ms);
	memcpy(msg->uuid, d.uuid, SDLM_UUID_LEN);
	if (!msg_is_sane(msg)) {
		rv = -EUCLEAN;
		goto out_clear;
	}
	return 0;

out_clear:
	memset(msg, 0, sizeof(*msg));
	return rv;
}

/* ---- layout ---- */

/*
 * Sector arithmetic, all in 64 bits: with N <= 255 and S <= 4096 the slots
 * end below 2 MiB, and hdr_is_sane bounds the UID area's end.
 */
int layout_hb_offset(const struct sdlm_header *h, uint32_t node_id,
		     uint64_t *off)
{
	if (node_id < 1 || node_id > h->num_nodes)
		return -EINVAL;
	*off = (uint64_t)node_id * h->sector_size;
	return 0;
}

int layout_msg_offset(const struct sdlm_header *h, uint32_t node_id,
		      uint64_t *off)
{
	if (node_id < 1 || node_id > h->num_nodes)
		return -EINVAL;
	*off = ((uint64_t)h->num_nodes + node_id) * h->sector_size;
	return 0;
}

uint64_t layout_slots_offset(const struct sdlm_header *h)
{
	return h->sector_size;
}

uint64_t layout_slots_len(const struct sdlm_header *h)
{
	return 2 * (uint64_t)h->num_nodes * h->sector_size;
}

uint64_t layout_area_len(const struct sdlm_header *h)
{
	uint64_t sectors = 2 * (uint64_t)h->num_nodes + 1;
	uint64_t uid_end = h->uid_area_start + h->uid_area_sectors;

	if (h->uid_area_sectors && uid_end > sectors)
		sectors = uid_end;
	return sectors * h->sector_size;
}

/* ---- names ---- */

static const char *const hb_state_names[] = {
	[HB_FREE] = "free",
	[HB_ALIVE] = "alive",
	[HB_FENCED_SELF] = "fenced-self",
	[HB_EXITING] = "exiting",
};

static const char *const msg_cmd_names[] = {
	[MSG_CLEAR] = "clear",
	[MSG_TEST] = "test",
	[MSG_RESET] = "reset",
	[MSG_OFF] = "off",
};

const char *hb_state_name(uint32_t state)
{
	return state <= HB_STATE_MAX ? hb_state_names[state] : "unknown";
}

const char *msg_cmd_name(uint32_t cmd)
{
	return cmd <= MSG_CMD_MAX ? msg_cmd_names[cmd] : "unknown";
}

/* Returns the enum msg_cmd value (>= 0) or -EINVAL. */
int msg_cmd_parse(const char *name)
{
	int cmd;

	if (!name)
		return -EINVAL;
	for (cmd = 0; cmd <= MSG_CMD_MAX; cmd++)
		if (strcmp(name, msg_cmd_names[cmd]) == 0)
			return cmd;
	return -EINVAL;
}

/* ---- uuid text ---- */

/* Byte index before which a '-' appears in the text form. */
static bool uuid_dash_before(int byte)
{
	return byte == 4 || byte == 6 || byte == 8 || byte == 10;
}

void sdlm_uuid_unparse(const uint8_t uuid[SDLM_UUID_LEN],
		       char out[SDLM_UUID_STR_LEN])
{
	static const char hex[] = "0123456789abcdef";
	char *p = out;
	int i;

	for (i = 0; i < SDLM_UUID_LEN; i++) {
		if (uuid_dash_before(i))
			*p++ = '-';
		*p++ = hex[uuid[i] >> 4];
		*p++ = hex[uuid[i] & 0xf];
	}
	*p = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Returns 0, or -EINVAL (uuid untouched) unless in is exactly 8-4-4-4-12. */
int sdlm_uuid_parse(const char *in, uint8_t uuid[SDLM_UUID_LEN])
{
	uint8_t tmp[SDLM_UUID_LEN];
	int i, hi, lo;

	if (!in || !uuid)
		return -EINVAL;
	for (i = 0; i < SDLM_UUID_LEN; i++) {
		if (uuid_dash_before(i) && *in++ != '-')
			return -EINVAL;
		hi = hex_value(in[0]);
		if (hi < 0)
			return -EINVAL;
		lo = hex_value(in[1]);
		if (lo < 0)
			return -EINVAL;
		tmp[i] = (uint8_t)(hi << 4 | lo);
		in += 2;
	}
	if (*in != '\0')
		return -EINVAL;
	memcpy(uuid, tmp, SDLM_UUID_LEN);
	return 0;
}
