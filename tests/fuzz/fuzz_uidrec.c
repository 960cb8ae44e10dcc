/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_uidrec.c - libFuzzer target for the UID area records
 * (fence/uidrec.c: uidrec_in on both copies of a slot, then
 * uidrec_resolve on the pair).
 *
 * Input layout:
 *
 *	offset  size  field
 *	     0     1  ctl: bit 0 "fix the CRCs" (the harness rewrites bytes
 *	              508..511 of each copy with the CRC32C of 0..507, so the
 *	              fuzzer reaches the checks after the checksum)
 *	     1    16  expected cluster uuid
 *	    17     8  expected slot, little-endian
 *	    25     *  copy 0 then copy 1: the rest split in two halves of
 *	              equal length (a short or odd rest is legal input)
 *
 * Properties checked, besides "no crash, no out-of-bounds read":
 *   - uidrec_in zeroes its output on anything but 0;
 *   - a decoded record re-encodes and decodes to the same fields;
 *   - uidrec_resolve's view is what docs/uid.md says a reader trusts:
 *     generation = the highest among good copies; uidvalidity = the
 *     highest among that generation's copies; watermark = the highest
 *     among those copies of that uidvalidity (never below any of them:
 *     "the watermark a reader takes never goes backwards");
 *   - floor (record minor 2): a decoded floor is at most the watermark +
 *     1, and 0 in a record of minor < 2 whatever its bytes hold; the
 *     view's floor is the latest copy's, 0 when that copy is of another
 *     uidvalidity than the view's.
 *
 * --gen-corpus DIR [GOLDEN_DIR] writes seeds and exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdlm.h"
#include "crc32c.h"
#include "fuzzseed.h"
#include "uidrec.h"

#define PFX_LEN		25
#define CTL_FIXCRC	0x1u

static const uint8_t seed_uuid[SDLM_UUID_LEN] = {
	0x5d, 0x1a, 0x3c, 0x77, 0x20, 0x01, 0x4b, 0x9e,
	0x8f, 0x10, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
};

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		if (*b++)
			return 0;
	return 1;
}

static void rec_roundtrip(const struct uid_rec *r, const uint8_t *uuid)
{
	uint8_t buf[SDLM_RECORD_SIZE];
	struct uid_rec r2;

	if (uidrec_out(r, uuid, buf, sizeof(buf)) != 0)
		abort();
	if (uidrec_in(&r2, buf, sizeof(buf), uuid, r->slot, r->copy) != 0)
		abort();
	if (r2.flags != r->flags || r2.state != r->state ||
	    memcmp(r2.guid, r->guid, UID_GUID_LEN) || r2.gen != r->gen ||
	    r2.epoch != r->epoch || r2.seq != r->seq ||
	    r2.incarnation != r->incarnation ||
	    r2.wall_time_ms != r->wall_time_ms || r2.node_id != r->node_id ||
	    r2.uidvalidity != r->uidvalidity ||
	    r2.watermark != r->watermark || r2.res_first != r->res_first ||
	    r2.res_last != r->res_last || r2.floor != r->floor ||
	    r2.name_len != r->name_len ||
	    memcmp(r2.name, r->name, r->name_len))
		abort();
}

static void check_view(const struct uid_rec rec[2], const int rc[2],
		       const struct uid_slot_view *v)
{
	uint64_t gen = 0;
	uint32_t uv = 0, wm = 0;
	int c;

	for (c = 0; c < 2; c++)
		if (rc[c] == 0 && rec[c].gen > gen)
			gen = rec[c].gen;
	if (!gen) {
		if (v->kind != UID_SLOT_EMPTY)
			abort();
		return;
	}
	for (c = 0; c < 2; c++)
		if (rc[c] == 0 && rec[c].gen == gen && rec[c].uidvalidity > uv)
			uv = rec[c].uidvalidity;
	for (c = 0; c < 2; c++)
		if (rc[c] == 0 && rec[c].gen == gen &&
		    rec[c].uidvalidity == uv && rec[c].watermark > wm)
			wm = rec[c].watermark;
	if (v->gen != gen || v->uidvalidity != uv || v->watermark != wm)
		abort();
	if (v->kind != UID_SLOT_USED && v->kind != UID_SLOT_DELETED)
		abort();
	if (v->floor != (v->latest.uidvalidity == uv ? v->latest.floor : 0))
		abort();
}

/* A decoded record's floor: within its bounds, absent before minor 2. */
static void check_floor(const struct uid_rec *r, const uint8_t *sec)
{
	unsigned minor = sec[10] | (unsigned)sec[11] << 8;

	if ((uint64_t)r->floor > (uint64_t)r->watermark + 1)
		abort();
	if (minor < 2 && r->floor)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uid_rec rec[2];
	struct uid_slot_view v;
	uint8_t *sec[2] = { NULL, NULL };
	uint64_t slot = 0;
	uint32_t crc;
	size_t half;
	int rc[2], c, rv;

	if (size < PFX_LEN)
		return 0;
	for (c = 7; c >= 0; c--)
		slot = slot << 8 | data[17 + c];
	half = (size - PFX_LEN) / 2;
	for (c = 0; c < 2; c++) {
		/* Exact-size copies: ASan sees any read past a sector. */
		sec[c] = malloc(half ? half : 1);
		if (!sec[c])
			goto out_free;
		memcpy(sec[c], data + PFX_LEN + c * half, half);
		if ((data[0] & CTL_FIXCRC) && half >= SDLM_RECORD_SIZE) {
			crc = crc32c(0, sec[c], SDLM_RECORD_CRC_OFFSET);
			sec[c][508] = crc & 0xff;
			sec[c][509] = (crc >> 8) & 0xff;
			sec[c][510] = (crc >> 16) & 0xff;
			sec[c][511] = crc >> 24;
		}
		rc[c] = uidrec_in(&rec[c], sec[c], half, data + 1, slot, c);
		if (rc[c] != 0 && !all_zero(&rec[c], sizeof(rec[c])))
			abort();
		if (rc[c] == 0)
			check_floor(&rec[c], sec[c]);
		if (rc[c] == 0 && !all_zero(data + 1, SDLM_UUID_LEN))
			rec_roundtrip(&rec[c], data + 1);
	}
	rv = uidrec_resolve(rec, rc, &v);
	if (rv == 0)
		check_view(rec, rc, &v);
	else if (!all_zero(&v, sizeof(v)))
		abort();
out_free:
	free(sec[0]);
	free(sec[1]);
	return 0;
}

/* ---- seed corpus ---- */

static int seed_write(const char *dir, const char *name, const uint8_t *uuid,
		      uint64_t slot, const void *s0, const void *s1,
		      size_t len)
{
	uint8_t pfx[PFX_LEN];
	struct fuzzseed s;
	int c;

	pfx[0] = 0;
	memcpy(pfx + 1, uuid, SDLM_UUID_LEN);
	for (c = 0; c < 8; c++)
		pfx[17 + c] = (slot >> (8 * c)) & 0xff;
	if (fuzzseed_open(&s, dir, name, NULL))
		return -1;
	fuzzseed_put(&s, pfx, PFX_LEN);
	fuzzseed_put(&s, s0, len);
	fuzzseed_put(&s, s1, len);
	return fuzzseed_close(&s);
}

static void rec_fill(struct uid_rec *r, uint32_t copy, uint64_t gen,
		     uint64_t epoch, uint64_t seq, uint32_t uv, uint32_t wm)
{
	memset(r, 0, sizeof(*r));
	r->state = UIDREC_USED;
	memset(r->guid, 0xa5, UID_GUID_LEN);
	r->slot = 9;
	r->copy = copy;
	r->gen = gen;
	r->epoch = epoch;
	r->seq = seq;
	r->incarnation = 77;
	r->node_id = 2;
	r->uidvalidity = uv;
	r->watermark = wm;
	r->res_first = wm > 16 ? wm - 15 : 1;
	r->res_last = wm;
	r->name_len = 5;
	memcpy(r->name, "INBOX", 5);
}

static int gen_pair(const char *dir, const char *name, size_t ss,
		    const struct uid_rec *r0, const struct uid_rec *r1)
{
	uint8_t s0[SDLM_SECTOR_SIZE_MAX], s1[SDLM_SECTOR_SIZE_MAX];

	memset(s0, 0, ss);
	memset(s1, 0, ss);
	if (r0 && uidrec_out(r0, seed_uuid, s0, ss))
		return -1;
	if (r1 && uidrec_out(r1, seed_uuid, s1, ss))
		return -1;
	return seed_write(dir, name, seed_uuid, 9, s0, s1, ss);
}

static int gen_golden(const char *dir, const char *golden)
{
	static const char *const sizes[] = { "512", "4096", "1.1-512", "1.1-4096" };
	uint8_t buf[SDLM_SECTOR_SIZE_MAX], zero[SDLM_SECTOR_SIZE_MAX];
	char path[4096], name[64];
	uint64_t slot = 0;
	FILE *f;
	size_t n;
	int i, c;

	memset(zero, 0, sizeof(zero));
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/uid-%s.bin", golden, sizes[i]);
		f = fopen(path, "re");
		if (!f)
			return -1;
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		if (n < SDLM_RECORD_SIZE)
			return -1;
		/* uuid at byte 32, slot at 48, copy at 100 (docs/uid.md) */
		for (c = 7, slot = 0; c >= 0; c--)
			slot = slot << 8 | buf[48 + c];
		snprintf(name, sizeof(name), "golden-uid-%s", sizes[i]);
		if (seed_write(dir, name, buf + 32, slot,
			       buf[100] ? zero : buf, buf[100] ? buf : zero, n))
			return -1;
	}
	return 0;
}

static int gen_floor_minor1(const char *dir, const struct uid_rec *r0,
			    const struct uid_rec *r1)
{
	uint8_t sec[2][SDLM_RECORD_SIZE];
	uint32_t crc;
	int c;

	for (c = 0; c < 2; c++) {
		if (uidrec_out(c ? r1 : r0, seed_uuid, sec[c], SDLM_RECORD_SIZE))
			return -1;
		sec[c][10] = 1;				/* minor 1 */
		memset(sec[c] + 388, 0xee, 4);		/* not a floor there */
		crc = crc32c(0, sec[c], SDLM_RECORD_CRC_OFFSET);
		sec[c][508] = crc & 0xff;
		sec[c][509] = (crc >> 8) & 0xff;
		sec[c][510] = (crc >> 16) & 0xff;
		sec[c][511] = crc >> 24;
	}
	return seed_write(dir, "floor-minor1", seed_uuid, 9, sec[0], sec[1],
			  SDLM_RECORD_SIZE);
}

static int gen_corpus(const char *dir, const char *golden)
{
	struct uid_rec a, b;

	rec_fill(&a, 0, 1, 3, 7, 10, 1000);
	rec_fill(&b, 1, 1, 3, 8, 10, 1064);
	if (gen_pair(dir, "both-512", 512, &a, &b) ||
	    gen_pair(dir, "both-4096", 4096, &a, &b) ||
	    gen_pair(dir, "copy0-only", 512, &a, NULL) ||
	    gen_pair(dir, "empty", 512, NULL, NULL))
		return -1;
	/* a late write of an older epoch lowered copy 1 */
	rec_fill(&b, 1, 1, 2, 9, 10, 900);
	if (gen_pair(dir, "late-write", 512, &a, &b))
		return -1;
	/* a UIDVALIDITY bump, and an older generation in the other copy */
	rec_fill(&b, 1, 1, 4, 9, 11, 1);
	if (gen_pair(dir, "bump", 512, &a, &b))
		return -1;
	rec_fill(&b, 1, 2, 5, 1, 1, 16);
	b.state = UIDREC_DELETED;
	b.name_len = 0;
	b.name[0] = 0;
	if (gen_pair(dir, "newgen-tomb", 512, &a, &b))
		return -1;
	/* minor 2: floors (the latest copy's counts), and the same pair put
	 * back to minor 1 with junk where the floor is (reserved there) */
	rec_fill(&a, 0, 1, 3, 7, 10, 1000);
	rec_fill(&b, 1, 1, 3, 8, 10, 1064);
	a.floor = 990;
	b.floor = 1001;
	if (gen_pair(dir, "floor", 512, &a, &b) ||
	    gen_floor_minor1(dir, &a, &b))
		return -1;
	return golden ? gen_golden(dir, golden) : 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (*argc >= 3 && strcmp((*argv)[1], "--gen-corpus") == 0)
		exit(gen_corpus((*argv)[2], *argc >= 4 ? (*argv)[3] : NULL) ?
		     1 : 0);
	return 0;
}
