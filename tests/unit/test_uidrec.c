/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_uidrec.c - unit tests of fence/uidrec.c: the UID record codec, its
 * errors, name validation, slot-pair resolution and table addressing.
 *
 * Pure buffer tests; the table tests run on an in-memory array of sectors
 * through the real codec.  Golden images (tests/golden/uid-{512,4096}.bin):
 * see tests/common/ondisk_fixture.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sdlm.h"
#include "crc32c.h"
#include "uidrec.h"
#include "sha256.h"
#include "ondisk_fixture.h"

static void guid_make(uint8_t guid[UID_GUID_LEN], uint32_t n)
{
	int i;

	for (i = 0; i < UID_GUID_LEN; i++)
		guid[i] = (uint8_t)(0x11 * (i + 1));
	for (i = 0; i < 4; i++)
		guid[i] = (uint8_t)(n >> (8 * i));	/* little-endian */
}

static void fixed_rec(struct uid_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->state = UIDREC_USED;
	guid_make(r->guid, 0xa1b2c3d4);
	r->slot = 4242;
	r->copy = 1;
	r->gen = 3;
	r->epoch = 77;
	r->seq = 1234;
	r->incarnation = 0x0123456789abcdefull;
	r->wall_time_ms = 1700000000123ull;
	r->node_id = 9;
	r->uidvalidity = 1700000000;
	r->watermark = 5000;
	r->res_first = 4001;
	r->res_last = 5000;
	r->floor = 4321;
	assert_int_equal(uid_lstag("imap", r->lstag), 0);
	strcpy(r->name, "INBOX/Sent \xc3\xa9t\xc3\xa9");	/* "été" */
	r->name_len = (uint16_t)strlen(r->name);
}

static void assert_rec_equal(const struct uid_rec *a, const struct uid_rec *b)
{
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->state, b->state);
	assert_memory_equal(a->guid, b->guid, UID_GUID_LEN);
	assert_int_equal(a->slot, b->slot);
	assert_int_equal(a->copy, b->copy);
	assert_int_equal(a->gen, b->gen);
	assert_int_equal(a->epoch, b->epoch);
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->incarnation, b->incarnation);
	assert_int_equal(a->wall_time_ms, b->wall_time_ms);
	assert_int_equal(a->node_id, b->node_id);
	assert_int_equal(a->uidvalidity, b->uidvalidity);
	assert_int_equal(a->watermark, b->watermark);
	assert_int_equal(a->res_first, b->res_first);
	assert_int_equal(a->res_last, b->res_last);
	assert_int_equal(a->prov_base, b->prov_base);
	assert_int_equal(a->floor, b->floor);
	assert_memory_equal(a->lstag, b->lstag, UIDREC_LSTAG_LEN);
	assert_int_equal(a->name_len, b->name_len);
	assert_memory_equal(a->name, b->name, sizeof(a->name));
}

/* ---- codec ---- */

static void test_round_trip(void **state)
{
	static const uint32_t sizes[] = { 512, 4096 };
	uint8_t sector[SECTOR_MAX];
	struct uid_rec r, r2;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		fixed_rec(&r);
		assert_int_equal(uidrec_out(&r, uuid_a, sector, sizes[i]), 0);
		/* Layout spot checks: the offsets of docs/uid.md. */
		assert_memory_equal(sector, "SDLMUID\0", 8);
		assert_int_equal(sector[8], SDLM_ONDISK_MAJOR);
		assert_memory_equal(sector + 16, r.guid, UID_GUID_LEN);
		assert_memory_equal(sector + 32, uuid_a, SDLM_UUID_LEN);
		assert_int_equal(sector[48], 4242 & 0xff);
		assert_int_equal(sector[49], 4242 >> 8);
		assert_int_equal(sector[64], 77);
		assert_int_equal(sector[100], 1);
		assert_int_equal(sector[104], 9);
		assert_int_equal(sector[112], 5000 & 0xff);
		assert_int_equal(sector[124], r.name_len);
		assert_memory_equal(sector + 128, r.name, r.name_len);
		assert_int_equal(sector[10], 3);
		assert_int_equal(sector[388] | sector[389] << 8, 4321);
		assert_memory_equal(sector + 392, r.lstag, UIDREC_LSTAG_LEN);
		assert_int_equal(crc32c(0, sector, 508),
				 (uint32_t)sector[508] | (uint32_t)sector[509] << 8 |
				 (uint32_t)sector[510] << 16 | (uint32_t)sector[511] << 24);

		assert_int_equal(uidrec_in(&r2, sector, sizes[i], uuid_a, 4242, 1), 0);
		assert_rec_equal(&r2, &r);
		assert_memory_equal(r2.uuid, uuid_a, SDLM_UUID_LEN);
	}
}

static void test_errors(void **state)
{
	uint8_t sector[SECTOR_MAX], bad[SECTOR_MAX];
	struct uid_rec r, r2;

	(void)state;
	fixed_rec(&r);
	assert_int_equal(uidrec_out(&r, uuid_a, sector, 4096), 0);

	/* caller errors */
	assert_int_equal(uidrec_in(&r2, sector, 511, uuid_a, 4242, 1), -EINVAL);
	assert_int_equal(uidrec_in(&r2, sector, 512, uuid_a, 4242, 2), -EINVAL);
	assert_int_equal(uidrec_in(&r2, NULL, 512, uuid_a, 4242, 1), -EINVAL);

	/* never written */
	memset(bad, 0, sizeof(bad));
	assert_int_equal(uidrec_in(&r2, bad, 4096, uuid_a, 0, 0), UIDREC_ABSENT);

	/* magic */
	memcpy(bad, sector, 4096);
	bad[3] ^= 0x20;
	assert_int_equal(uidrec_in(&r2, bad, 4096, uuid_a, 4242, 1), SDLM_EMAGIC);
	assert_int_equal(r2.epoch, 0);

	/* major, even with a correct CRC */
	memcpy(bad, sector, 4096);
	bad[8] = 2;
	reseal(bad);
	assert_int_equal(uidrec_in(&r2, bad, 4096, uuid_a, 4242, 1), SDLM_EVERSION);
	/* a higher minor is fine */
	memcpy(bad, sector, 4096);
	bad[10] = 7;
	reseal(bad);
	assert_int_equal(uidrec_in(&r2, bad, 4096, uuid_a, 4242, 1), 0);

	/* CRC: one flipped bit anywhere in the record */
	memcpy(bad, sector, 4096);
	bad[113] ^= 0x01;
	assert_int_equal(uidrec_in(&r2, bad, 4096, uuid_a, 4242, 1), SDLM_ECHECKSUM);
	/* a non-zero tail of a 4096-byte sector */
	memcpy(bad, sector, 4096);
	bad[4000] = 1;
	assert_int_equal(uidrec_in(&r2, bad, 4096, uuid_a, 4242, 1), SDLM_ECHECKSUM);

	/* identity: cluster, slot, copy */
	assert_int_equal(uidrec_in(&r2, sector, 4096, uuid_b, 4242, 1), SDLM_EIDENTITY);
	assert_int_equal(uidrec_in(&r2, sector, 4096, uuid_a, 4243, 1), SDLM_EIDENTITY);
	assert_int_equal(uidrec_in(&r2, sector, 4096, uuid_a, 4242, 0), SDLM_EIDENTITY);

	/* insane but well checksummed */
	memcpy(bad, sector, 4096);
	put_le32(bad + 96, 3);			/* state */
	reseal(bad);
	assert_int_equal(uidrec_in(&r2, bad, 4096, uuid_a, 4242, 1), -EUCLEAN);
	memcpy(bad, sector, 4096);
	put_le32(bad + 120, 5001);		/* res_last > watermark */
	reseal(bad);
	assert_int_equal(uidrec_in(&r2, bad, 4096, uuid_a, 4242, 1), -EUCLEAN);
	memcpy(bad, sector, 4096);
	put_le32(bad + 108, 0);			/* uidvalidity 0 */
	reseal(bad);
	assert_int_equal(uidrec_in(&r2, bad, 4096, uuid_a, 4242, 1), -EUCLEAN);
	memcpy(bad, sector, 4096);
	bad[128] = 0xff;			/* name not UTF-8 */
	reseal(bad);
	assert_int_equal(uidrec_in(&r2, bad, 4096, uuid_a, 4242, 1), -EUCLEAN);
	memcpy(bad, sector, 4096);
	bad[124] = 0;				/* used record without a name */
	bad[125] = 1;				/* name_len 256 */
	reseal(bad);
	assert_int_equal(uidrec_in(&r2, bad, 4096, uuid_a, 4242, 1), -EUCLEAN);
	memcpy(bad, sector, 4096);
	put_le32(bad + 104, 0);			/* node 0 */
	reseal(bad);
	assert_int_equal(uidrec_in(&r2, bad, 4096, uuid_a, 4242, 1), -EUCLEAN);
	assert_int_equal(r2.watermark, 0);

	/* bytes after the name are not data */
	memcpy(bad, sector, 4096);
	bad[128 + r.name_len + 1] = 'x';
	reseal(bad);
	assert_int_equal(uidrec_in(&r2, bad, 4096, uuid_a, 4242, 1), 0);
	assert_int_equal(r2.name[r.name_len + 1], 0);
}

static void test_out_refuses_insane(void **state)
{
	uint8_t sector[SECTOR_MAX];
	struct uid_rec r;

	(void)state;
	memset(sector, 0xaa, sizeof(sector));
	fixed_rec(&r);
	assert_int_equal(uidrec_out(&r, uuid_a, sector, 511), -EINVAL);
	r.epoch = 0;
	assert_int_equal(uidrec_out(&r, uuid_a, sector, 512), -EINVAL);
	fixed_rec(&r);
	r.res_first = 0;
	assert_int_equal(uidrec_out(&r, uuid_a, sector, 512), -EINVAL);
	fixed_rec(&r);
	r.copy = 2;
	assert_int_equal(uidrec_out(&r, uuid_a, sector, 512), -EINVAL);
	fixed_rec(&r);
	memset(r.guid, 0, UID_GUID_LEN);
	assert_int_equal(uidrec_out(&r, uuid_a, sector, 512), -EINVAL);
	fixed_rec(&r);
	r.name_len = 0;
	assert_int_equal(uidrec_out(&r, uuid_a, sector, 512), -EINVAL);
	r.state = UIDREC_DELETED;	/* a tombstone may drop its name */
	assert_int_equal(uidrec_out(&r, uuid_a, sector, 512), 0);
	fixed_rec(&r);
	assert_int_equal(uidrec_out(&r, (const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
				    sector, 512), -EINVAL);
	/* the one success above zeroed its 512 bytes, no more */
	assert_int_equal(sector[300], 0);
	assert_int_equal(sector[512], 0xaa);
	/* a refusal leaves the buffer alone */
	memset(sector, 0xaa, sizeof(sector));
	r.watermark = 10;	/* below res_last */
	assert_int_equal(uidrec_out(&r, uuid_a, sector, 512), -EINVAL);
	assert_int_equal(sector[0], 0xaa);
	assert_int_equal(sector[511], 0xaa);
}

static void test_names(void **state)
{
	char longname[300];

	(void)state;
	assert_int_equal(uidrec_name_check("INBOX", 5), 0);
	assert_int_equal(uidrec_name_check("a/b/c", 5), 0);
	assert_int_equal(uidrec_name_check("\xe6\x97\xa5\xe6\x9c\xac", 6), 0);	/* 日本 */
	assert_int_equal(uidrec_name_check("\xf0\x9f\x93\xa7", 4), 0);		/* U+1F4E7 */
	assert_int_equal(uidrec_name_check("", 0), -EINVAL);
	assert_int_equal(uidrec_name_check(NULL, 3), -EINVAL);
	assert_int_equal(uidrec_name_check("a\0b", 3), -EINVAL);
	assert_int_equal(uidrec_name_check("a\nb", 3), -EINVAL);
	assert_int_equal(uidrec_name_check("a\x7f", 2), -EINVAL);
	assert_int_equal(uidrec_name_check("\xc3", 1), -EILSEQ);		/* truncated */
	assert_int_equal(uidrec_name_check("\xc0\xaf", 2), -EILSEQ);		/* overlong '/' */
	assert_int_equal(uidrec_name_check("\xe0\x80\xaf", 3), -EILSEQ);	/* overlong */
	assert_int_equal(uidrec_name_check("\xed\xa0\x80", 3), -EILSEQ);	/* surrogate */
	assert_int_equal(uidrec_name_check("\xf4\x90\x80\x80", 4), -EILSEQ);	/* > U+10FFFF */
	assert_int_equal(uidrec_name_check("\x80", 1), -EILSEQ);
	assert_int_equal(uidrec_name_check("a\xe2\x82", 3), -EILSEQ);
	memset(longname, 'x', sizeof(longname));
	assert_int_equal(uidrec_name_check(longname, 255), 0);
	assert_int_equal(uidrec_name_check(longname, 256), -ENAMETOOLONG);
	/* a 255-byte name ending in a complete 2-byte sequence */
	longname[253] = '\xc3';
	longname[254] = '\xa9';
	assert_int_equal(uidrec_name_check(longname, 255), 0);
	assert_int_equal(uidrec_name_check(longname, 254), -EILSEQ);
}

/* ---- resolution ---- */

static void rec_for(struct uid_rec *r, uint32_t guid_n, uint64_t gen,
		    uint64_t epoch, uint64_t seq, uint32_t uidv, uint32_t wm)
{
	memset(r, 0, sizeof(*r));
	r->state = UIDREC_USED;
	guid_make(r->guid, guid_n);
	r->gen = gen;
	r->epoch = epoch;
	r->seq = seq;
	r->node_id = 1;
	r->uidvalidity = uidv;
	r->watermark = wm;
	r->name_len = 1;
	r->name[0] = 'm';
}

static void test_resolve(void **state)
{
	struct uid_rec rec[2];
	struct uid_slot_view v;
	int rc[2];

	(void)state;
	/* both absent */
	memset(rec, 0, sizeof(rec));
	rc[0] = rc[1] = UIDREC_ABSENT;
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_int_equal(v.kind, UID_SLOT_EMPTY);

	/* max watermark; latest by epoch decides the name */
	rc[0] = rc[1] = 0;
	rec_for(&rec[0], 1, 1, 5, 10, 100, 900);
	rec_for(&rec[1], 1, 1, 4, 11, 100, 1000);	/* a late write of epoch 4 */
	rec[0].name[0] = 'n';
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_int_equal(v.kind, UID_SLOT_USED);
	assert_int_equal(v.watermark, 1000);
	assert_int_equal(v.epoch, 5);
	assert_int_equal(v.seq, 11);
	assert_int_equal(v.latest.name[0], 'n');
	assert_int_equal(v.copies_ok, 3);

	/* a higher UIDVALIDITY wins even with a lower watermark */
	rec_for(&rec[0], 1, 1, 6, 12, 101, 16);
	rec_for(&rec[1], 1, 1, 5, 11, 100, 70000);
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_int_equal(v.uidvalidity, 101);
	assert_int_equal(v.watermark, 16);
	/* ... in either copy */
	rec_for(&rec[1], 1, 1, 6, 12, 101, 16);
	rec_for(&rec[0], 1, 1, 5, 11, 100, 70000);
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_int_equal(v.uidvalidity, 101);
	assert_int_equal(v.watermark, 16);

	/* an older generation (the slot's previous owner) does not count */
	rec_for(&rec[0], 2, 1, 90, 90, 500, 90000);
	rec_for(&rec[1], 1, 2, 1, 2, 100, 32);
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_int_equal(v.gen, 2);
	assert_int_equal(v.watermark, 32);
	assert_int_equal(v.epoch, 1);
	assert_int_equal(v.copies_ok, 2);
	guid_make(rec[0].guid, 1);
	assert_memory_equal(v.guid, rec[0].guid, UID_GUID_LEN);

	/* one copy absent */
	rc[0] = UIDREC_ABSENT;
	memset(&rec[0], 0, sizeof(rec[0]));
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_int_equal(v.watermark, 32);

	/* tombstone latest */
	rc[0] = 0;
	rec_for(&rec[0], 1, 2, 2, 3, 100, 32);
	rec[0].state = UIDREC_DELETED;
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_int_equal(v.kind, UID_SLOT_DELETED);

	/* two mailboxes in one generation: nonsense */
	rec_for(&rec[0], 1, 2, 2, 3, 100, 32);
	rec_for(&rec[1], 3, 2, 2, 3, 100, 32);
	assert_int_equal(uidrec_resolve(rec, rc, &v), -EUCLEAN);
	assert_int_equal(v.kind, UID_SLOT_EMPTY);

	/*
	 * One damaged copy, the other intact (issue 13, hole 11 a): the
	 * slot resolves from the intact copy and says which copy is
	 * damaged and how (the holder resumes above anything it could have
	 * reserved: dlm/core/uid.c).
	 */
	rec_for(&rec[0], 1, 2, 2, 3, 100, 32);
	rc[0] = 0;
	rec_for(&rec[1], 1, 2, 2, 4, 100, 48);
	rc[1] = SDLM_ECHECKSUM;
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_int_equal(v.kind, UID_SLOT_USED);
	assert_int_equal(v.watermark, 32);
	assert_int_equal(v.copies_ok, 1);
	assert_int_equal(v.damaged_copy, 2);		/* copy 1, + 1 */
	assert_int_equal(v.damaged_err, SDLM_ECHECKSUM);
	rc[0] = SDLM_EIDENTITY;
	rc[1] = 0;
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_int_equal(v.watermark, 48);
	assert_int_equal(v.damaged_copy, 1);
	assert_int_equal(v.damaged_err, SDLM_EIDENTITY);
	/* no intact copy: fail closed, the first error */
	rc[1] = -EUCLEAN;
	assert_int_equal(uidrec_resolve(rec, rc, &v), SDLM_EIDENTITY);
	rc[0] = UIDREC_ABSENT;
	assert_int_equal(uidrec_resolve(rec, rc, &v), -EUCLEAN);
	/* intact copies agree: nothing damaged */
	rc[0] = rc[1] = 0;
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_int_equal(v.damaged_copy, 0);
}

/* ---- table ---- */

#define TAB_SLOTS	8
#define TAB_S		512

static uint8_t tab[TAB_SLOTS][2][TAB_S];

static void tab_view(uint64_t slot, struct uid_slot_view *v)
{
	struct uid_rec rec[2];
	int rc[2], c;

	for (c = 0; c < 2; c++)
		rc[c] = uidrec_in(&rec[c], tab[slot][c], TAB_S, uuid_a, slot, c);
	assert_int_equal(uidrec_resolve(rec, rc, v), 0);
}

static int tab_probe(const uint8_t guid[UID_GUID_LEN], bool insert,
		     struct uidtab_probe *p)
{
	struct uid_slot_view v;
	int rv;

	assert_int_equal(uidtab_probe_init(p, guid, TAB_SLOTS, insert), 0);
	do {
		tab_view(p->slot, &v);
		rv = uidtab_probe_step(p, &v);
	} while (rv == UIDTAB_MORE);
	return rv;
}

/* Write both copies of a mailbox record into slot. */
static void tab_put(uint64_t slot, uint32_t guid_n, uint64_t gen, uint32_t st)
{
	struct uid_rec r;
	int c;

	for (c = 0; c < 2; c++) {
		rec_for(&r, guid_n, gen, 1, 1 + c, 1, 0);
		r.state = st;
		r.slot = slot;
		r.copy = c;
		assert_int_equal(uidrec_out(&r, uuid_a, tab[slot][c], TAB_S), 0);
	}
}

/* Insert guid_n: probe, then write in the answer slot with gen + 1. */
static int tab_insert(uint32_t guid_n, uint64_t *slot)
{
	struct uidtab_probe p;
	uint8_t guid[UID_GUID_LEN];
	int rv;

	guid_make(guid, guid_n);
	rv = tab_probe(guid, true, &p);
	if (rv == 0)
		tab_put(p.slot, guid_n, p.reuse_gen + 1, UIDREC_USED);
	*slot = p.slot;
	return rv;
}

static int tab_lookup(uint32_t guid_n, uint64_t *slot)
{
	struct uidtab_probe p;
	uint8_t guid[UID_GUID_LEN];
	int rv;

	guid_make(guid, guid_n);
	rv = tab_probe(guid, false, &p);
	*slot = p.slot;
	return rv;
}

/* A probe that goes on past slots that cannot be resolved. */
static int tab_probe_d(uint32_t guid_n, bool insert, struct uidtab_probe *p)
{
	uint8_t guid[UID_GUID_LEN];
	struct uid_slot_view v;
	struct uid_rec rec[2];
	int rc[2], c, rv;

	guid_make(guid, guid_n);
	assert_int_equal(uidtab_probe_init(p, guid, TAB_SLOTS, insert), 0);
	do {
		for (c = 0; c < 2; c++)
			rc[c] = uidrec_in(&rec[c], tab[p->slot][c], TAB_S, uuid_a,
					  p->slot, c);
		rv = uidrec_resolve(rec, rc, &v);
		if (rv < 0)
			rv = uidtab_probe_damaged(p, rv);
		else
			rv = uidtab_probe_step(p, &v);
	} while (rv == UIDTAB_MORE);
	return rv;
}

/* Find n GUID numbers whose home in TAB_SLOTS is home. */
static void find_colliding(uint64_t home, uint32_t *out, int n)
{
	uint8_t guid[UID_GUID_LEN];
	uint32_t g;
	int k = 0;

	for (g = 1; k < n; g++) {
		guid_make(guid, g);
		if (uidtab_home(guid, TAB_SLOTS) == home)
			out[k++] = g;
	}
}

static void find_colliding(uint64_t home, uint32_t *out, int n);

static void hex_is(const uint8_t *d, const char *hex)
{
	char got[2 * SHA256_LEN + 1];
	int i;

	for (i = 0; i < SHA256_LEN; i++)
		snprintf(got + 2 * i, 3, "%02x", d[i]);
	assert_string_equal(got, hex);
}

/* FIPS 180-4 example vectors, one-shot and fed in odd pieces. */
static void test_sha256(void **state)
{
	static const char m448[] =
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	uint8_t d[SHA256_LEN], a[1001];
	struct sha256 s;
	int i;

	(void)state;
	sha256("abc", 3, d);
	hex_is(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256("", 0, d);
	hex_is(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256(m448, strlen(m448), d);
	hex_is(d, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	memset(a, 'a', sizeof(a));
	sha256_init(&s);
	for (i = 0; i < 1000; i++)
		sha256_update(&s, a, i % 2 ? 999 : 1001);
	sha256_final(&s, d);
	hex_is(d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/*
 * Issue 13, hole 5: the legacy name -> GUID derivation has 32 bits of
 * strength (the pair collides completely); v2 does not, and a
 * probe given the name treats a record of its GUID with another name as
 * a collision, not as its mailbox.
 */
static void test_name_guid(void **state)
{
	uint8_t g1[UID_GUID_LEN], g2[UID_GUID_LEN];
	struct uidtab_probe p;
	struct uid_slot_view v;
	struct uid_rec r;
	uint64_t slot;
	int c, rv;

	(void)state;
	assert_int_equal(uid_name_guid("t", "user04f14f65/IN", 15, UIDNAME_V1, g1), 0);
	assert_int_equal(uid_name_guid("t", "user29de60e8/IN", 15, UIDNAME_V1, g2), 0);
	assert_memory_equal(g1, g2, UID_GUID_LEN);	/* the hole, kept for old records */
	assert_int_equal(uid_name_guid("t", "user04f14f65/IN", 15, UIDNAME_V2, g1), 0);
	assert_int_equal(uid_name_guid("t", "user29de60e8/IN", 15, UIDNAME_V2, g2), 0);
	assert_memory_not_equal(g1, g2, UID_GUID_LEN);
	assert_int_equal(g1[6] & 0xf0, 0x80);
	assert_int_equal(uid_name_guid("u", "user04f14f65/IN", 15, UIDNAME_V2, g2), 0);
	assert_memory_not_equal(g1, g2, UID_GUID_LEN);	/* the lockspace counts */
	assert_int_equal(uid_name_guid("t", "", 0, UIDNAME_V2, g2), -EINVAL);
	assert_int_equal(uid_name_guid("t", "x", 1, 3, g2), -EINVAL);

	/* a record of g1 named "A" in its home slot */
	memset(tab, 0, sizeof(tab));
	slot = uidtab_home(g1, TAB_SLOTS);
	for (c = 0; c < 2; c++) {
		rec_for(&r, 1, 1, 1, 1 + c, 1, 0);
		memcpy(r.guid, g1, UID_GUID_LEN);
		r.name_len = 1;
		memset(r.name, 0, sizeof(r.name));
		r.name[0] = 'A';
		r.slot = slot;
		r.copy = c;
		assert_int_equal(uidrec_out(&r, uuid_a, tab[slot][c], TAB_S), 0);
	}
	assert_int_equal(tab_probe(g1, false, &p), 0);	/* by GUID: found */
	assert_int_equal(uidtab_probe_init(&p, g1, TAB_SLOTS, false), 0);
	p.name = "A";
	p.name_len = 1;
	do {
		tab_view(p.slot, &v);
		rv = uidtab_probe_step(&p, &v);
	} while (rv == UIDTAB_MORE);
	assert_int_equal(rv, 0);
	assert_int_equal(p.slot, slot);
	/* another name with the same GUID: a collision, probe on */
	assert_int_equal(uidtab_probe_init(&p, g1, TAB_SLOTS, false), 0);
	p.name = "B";
	p.name_len = 1;
	do {
		tab_view(p.slot, &v);
		rv = uidtab_probe_step(&p, &v);
	} while (rv == UIDTAB_MORE);
	assert_int_equal(rv, -ENOENT);
	assert_int_equal(uidtab_probe_init(&p, g1, TAB_SLOTS, true), 0);
	p.name = "B";
	p.name_len = 1;
	do {
		tab_view(p.slot, &v);
		rv = uidtab_probe_step(&p, &v);
	} while (rv == UIDTAB_MORE);
	assert_int_equal(rv, 0);		/* not -EEXIST */
	assert_int_equal(p.slot, (slot + 1) % TAB_SLOTS);
}

/*
 * Issue 13, hole 11 (b): a damaged slot never blocks a mailbox found
 * further on its probe path; a mailbox that is not found past it may be
 * the damaged one, so "not there" becomes the damage, naming the slot.
 */
static void test_probe_damaged(void **state)
{
	struct uidtab_probe p;
	uint32_t g[4];
	uint64_t slot;

	(void)state;
	memset(tab, 0, sizeof(tab));
	find_colliding(3, g, 4);
	assert_int_equal(tab_insert(g[0], &slot), 0);
	assert_int_equal(slot, 3);
	assert_int_equal(tab_insert(g[1], &slot), 0);
	assert_int_equal(slot, 4);
	assert_int_equal(tab_insert(g[2], &slot), 0);
	assert_int_equal(slot, 5);
	/* slot 3, copy 0 torn: copy 1 still names g[0] */
	tab[3][0][200] ^= 0x40;
	assert_int_equal(tab_probe_d(g[0], false, &p), 0);
	assert_int_equal(p.slot, 3);
	assert_int_equal(tab_probe_d(g[3], false, &p), -ENOENT);
	/* both copies bad: the slot's owner is unknown */
	tab[3][1][200] ^= 0x40;

	assert_int_equal(tab_probe_d(g[1], false, &p), 0);
	assert_int_equal(p.slot, 4);
	assert_int_equal(tab_probe_d(g[2], false, &p), 0);
	assert_int_equal(p.slot, 5);
	assert_int_equal(tab_probe_d(g[1], true, &p), -EEXIST);

	/* not found past it: it may be the damaged one */
	assert_int_equal(tab_probe_d(g[3], false, &p), SDLM_ECHECKSUM);
	assert_int_equal(p.slot, 3);
	assert_int_equal(p.damaged_slot, 3);
	assert_int_equal(tab_probe_d(g[3], true, &p), SDLM_ECHECKSUM);
	assert_int_equal(p.slot, 3);
	assert_int_equal(tab_probe_d(g[0], false, &p), SDLM_ECHECKSUM);

	assert_int_equal(uidtab_probe_damaged(&p, 0), -EINVAL);
}

/*
 * Import/restore review, finding 1: what a copy that fails uidrec_in
 * still names (uidrec_claimed_guid), the evidence a restore uses to tell
 * its own damaged slot from another mailbox's: the GUID of a torn or
 * checksum-failing record; nothing for a sector without the record magic,
 * with an all-zero GUID, or an empty one.
 */
static void test_claimed_guid(void **state)
{
	uint8_t g[UID_GUID_LEN], want[UID_GUID_LEN], sec[TAB_S];
	struct uid_rec r;
	uint64_t slot;

	(void)state;
	memset(tab, 0, sizeof(tab));
	assert_int_equal(tab_insert(7, &slot), 0);
	guid_make(want, 7);
	/* intact, then its checksum broken: still names mailbox 7 */
	assert_int_equal(uidrec_claimed_guid(tab[slot][0], TAB_S, g), 0);
	assert_memory_equal(g, want, UID_GUID_LEN);
	memcpy(sec, tab[slot][1], TAB_S);
	sec[200] ^= 0x40;
	assert_true(uidrec_in(&r, sec, TAB_S, uuid_a, slot, 1) < 0);
	memset(g, 0, sizeof(g));
	assert_int_equal(uidrec_claimed_guid(sec, TAB_S, g), 0);
	assert_memory_equal(g, want, UID_GUID_LEN);
	/* no magic: names nobody */
	sec[0] ^= 0x01;
	assert_int_equal(uidrec_claimed_guid(sec, TAB_S, g), -ENOENT);
	/* the magic, a zero GUID: nobody */
	sec[0] ^= 0x01;
	memset(sec + 16, 0, UID_GUID_LEN);
	assert_int_equal(uidrec_claimed_guid(sec, TAB_S, g), -ENOENT);
	memset(sec, 0, sizeof(sec));
	assert_int_equal(uidrec_claimed_guid(sec, TAB_S, g), -ENOENT);
	memset(sec, 0xe7, sizeof(sec));
	assert_int_equal(uidrec_claimed_guid(sec, TAB_S, g), -ENOENT);
	assert_int_equal(uidrec_claimed_guid(sec, 100, g), -EINVAL);
	assert_int_equal(uidrec_claimed_guid(NULL, TAB_S, g), -EINVAL);
}

/*
 * An insert that passes another mailbox's tombstone and then meets its
 * own answers its own (slot and generation): the caller decides from
 * that slot's view (a deleted mailbox's UIDVALIDITY and watermark), and
 * the earlier, foreign tombstone would hide it (an import under the same
 * UIDVALIDITY would re-issue the deleted mailbox's UIDs).  Failed on the
 * old probe, which answered the first tombstone on the path.
 */
static void test_probe_own_tombstone(void **state)
{
	struct uidtab_probe p;
	uint32_t g[3];
	uint64_t slot;

	(void)state;
	memset(tab, 0, sizeof(tab));
	find_colliding(3, g, 3);
	tab_put(3, g[0], 2, UIDREC_DELETED);	/* X's tombstone at home */
	tab_put(4, g[1], 5, UIDREC_DELETED);	/* M's, further on */
	assert_int_equal(tab_lookup(g[1], &slot), -ENOENT);
	assert_int_equal(slot, 4);
	assert_int_equal(tab_probe_d(g[1], true, &p), 0);
	assert_int_equal(p.slot, 4);
	assert_int_equal(p.reuse_gen, 5);
	/* a mailbox with no tombstone of its own takes the first one */
	assert_int_equal(tab_probe_d(g[2], true, &p), 0);
	assert_int_equal(p.slot, 3);
	assert_int_equal(p.reuse_gen, 2);
	/* so M is created again over its own tombstone, found there */
	assert_int_equal(tab_insert(g[1], &slot), 0);
	assert_int_equal(slot, 4);
	assert_int_equal(tab_lookup(g[1], &slot), 0);
	assert_int_equal(slot, 4);
}

static void test_table_probe(void **state)
{
	uint32_t g[TAB_SLOTS + 1];
	uint64_t slot, s2;
	int i;

	(void)state;
	memset(tab, 0, sizeof(tab));
	find_colliding(6, g, TAB_SLOTS + 1);

	/* colliding inserts fill 6, 7, then wrap to 0, 1 */
	for (i = 0; i < 4; i++) {
		assert_int_equal(tab_insert(g[i], &slot), 0);
		assert_int_equal(slot, (6 + i) % TAB_SLOTS);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(tab_lookup(g[i], &slot), 0);
		assert_int_equal(slot, (6 + i) % TAB_SLOTS);
	}
	assert_int_equal(tab_lookup(g[4], &slot), -ENOENT);
	assert_int_equal(slot, 2);	/* stopped at the first empty slot */
	assert_int_equal(tab_insert(g[1], &slot), -EEXIST);
	assert_int_equal(slot, 7);

	/* delete g[1] (slot 7): g[2], g[3] stay reachable past the tombstone */
	tab_put(7, g[1], 1, UIDREC_DELETED);
	assert_int_equal(tab_lookup(g[1], &slot), -ENOENT);
	assert_int_equal(tab_lookup(g[2], &slot), 0);
	assert_int_equal(slot, 0);
	assert_int_equal(tab_lookup(g[3], &slot), 0);
	assert_int_equal(slot, 1);

	/* the next insert reuses the tombstone, generation + 1 */
	assert_int_equal(tab_insert(g[4], &slot), 0);
	assert_int_equal(slot, 7);
	{
		struct uid_slot_view v;

		tab_view(7, &v);
		assert_int_equal(v.gen, 2);
		assert_int_equal(v.kind, UID_SLOT_USED);
	}
	assert_int_equal(tab_lookup(g[4], &slot), 0);
	assert_int_equal(slot, 7);

	/* fill the table; then it is full */
	for (i = 5; i < TAB_SLOTS + 1; i++)
		assert_int_equal(tab_insert(g[i], &s2), 0);
	assert_int_equal(tab_lookup(g[TAB_SLOTS], &slot), 0);
	assert_int_equal(tab_insert(g[TAB_SLOTS] + 100000, &slot), UIDTAB_EFULL);
	/* a lookup in a full table without the GUID ends, too */
	assert_int_equal(tab_lookup(g[TAB_SLOTS] + 100000, &slot), -ENOENT);

	/* a full table with a tombstone takes the insert there */
	tab_put(2, 0xdead, 1, UIDREC_DELETED);
	assert_int_equal(tab_insert(g[TAB_SLOTS] + 100000, &slot), 0);
	assert_int_equal(slot, 2);
}

static void test_table_addressing(void **state)
{
	struct sdlm_header h;
	uint8_t guid[UID_GUID_LEN];
	uint64_t off, counts[64] = { 0 };
	uint32_t i;

	(void)state;
	memset(&h, 0, sizeof(h));
	h.sector_size = 4096;
	h.num_nodes = 16;
	h.uid_area_start = 33;
	h.uid_area_sectors = 2000001;	/* odd: the last sector is unused */
	assert_int_equal(uidtab_nslots(&h), 1000000);
	assert_int_equal(uidtab_offset(&h, 0, 0, &off), 0);
	assert_int_equal(off, 33 * 4096);
	assert_int_equal(uidtab_offset(&h, 0, 1, &off), 0);
	assert_int_equal(off, 34 * 4096);
	assert_int_equal(uidtab_offset(&h, 999999, 1, &off), 0);
	assert_int_equal(off, (33 + 1999999ull) * 4096);
	assert_int_equal(uidtab_offset(&h, 1000000, 0, &off), -EINVAL);
	assert_int_equal(uidtab_offset(&h, 5, 2, &off), -EINVAL);

	/* The home slot is part of the format: values pinned from an
	 * independent implementation (Python) of the mixing in docs/uid.md. */
	guid_make(guid, 1);
	assert_int_equal(uidtab_home(guid, 1000000), 515545);
	guid_make(guid, 2);
	assert_int_equal(uidtab_home(guid, 1000003), 908079);

	/* Sequential GUIDs spread evenly (the mixing works). */
	for (i = 0; i < 64000; i++) {
		guid_make(guid, i);
		counts[uidtab_home(guid, 64)]++;
	}
	for (i = 0; i < 64; i++) {
		assert_true(counts[i] > 850);
		assert_true(counts[i] < 1150);
	}

	assert_int_equal(uidtab_probe_init(NULL, guid, 1, false), -EINVAL);
	{
		struct uidtab_probe p;

		assert_int_equal(uidtab_probe_init(&p, guid, 0, false), -EINVAL);
		memset(guid, 0, sizeof(guid));
		assert_int_equal(uidtab_probe_init(&p, guid, 8, false), -EINVAL);
	}
}

/* ---- golden images ---- */

/*
 * Minor 3: the lockspace tag (offset 392, review s24 F2).  The minor-2
 * images (tests/golden/uid-1.2-*.bin, written before minor 3) are today's
 * record with the minor put back to 2 and no tag, and read back with the
 * tag all zero (not stamped); in a record of minor 2 those bytes are
 * reserved: not read, whatever they hold (an older daemon writes them
 * zero).  The tag itself is pinned: SHA-256("sdlm lockspace tag v1" NUL
 * "imap" NUL), first 8 bytes (computed apart, with Python's hashlib).
 */
static void test_lstag(void **state)
{
	static const uint32_t sizes[] = { 512, 4096 };
	static const uint8_t imap[UIDREC_LSTAG_LEN] = {
		0x70, 0x04, 0x70, 0xa4, 0xab, 0x9b, 0xa1, 0xba };
	uint8_t sector[SECTOR_MAX], t[UIDREC_LSTAG_LEN], t2[UIDREC_LSTAG_LEN];
	static const uint8_t zero[UIDREC_LSTAG_LEN];
	struct uid_rec r, r2;
	char name[32];
	size_t i;

	(void)state;
	assert_int_equal(uid_lstag("imap", t), 0);
	assert_memory_equal(t, imap, UIDREC_LSTAG_LEN);
	assert_int_equal(uid_lstag("imap2", t2), 0);
	assert_memory_not_equal(t, t2, UIDREC_LSTAG_LEN);
	assert_int_equal(uid_lstag("", t2), -EINVAL);
	assert_int_equal(uid_lstag(NULL, t2), -EINVAL);

	for (i = 0; i < 2; i++) {
		fixed_rec(&r);
		memset(r.lstag, 0, UIDREC_LSTAG_LEN);
		assert_int_equal(uidrec_out(&r, uuid_a, sector, sizes[i]), 0);
		put_le16(sector + 10, 2);
		reseal(sector);
		snprintf(name, sizeof(name), "uid-1.2-%u.bin", sizes[i]);
		golden_check(name, sector, sizes[i]);
		assert_int_equal(uidrec_in(&r2, sector, sizes[i], uuid_a, 4242, 1), 0);
		assert_rec_equal(&r2, &r);
		/* reserved in minor 2: bytes there are no tag, and no error */
		memcpy(sector + 392, imap, UIDREC_LSTAG_LEN);
		reseal(sector);
		assert_int_equal(uidrec_in(&r2, sector, sizes[i], uuid_a, 4242, 1), 0);
		assert_memory_equal(r2.lstag, zero, UIDREC_LSTAG_LEN);
		/* the same bytes in minor 3 are the tag */
		put_le16(sector + 10, 3);
		reseal(sector);
		assert_int_equal(uidrec_in(&r2, sector, sizes[i], uuid_a, 4242, 1), 0);
		assert_memory_equal(r2.lstag, imap, UIDREC_LSTAG_LEN);
		/* a record of minor 3 without a tag (not stamped) is legal */
		assert_int_equal(uidrec_out(&r, uuid_a, sector, sizes[i]), 0);
		assert_int_equal(sector[10], 3);
		assert_memory_equal(sector + 392, zero, UIDREC_LSTAG_LEN);
		assert_int_equal(uidrec_in(&r2, sector, sizes[i], uuid_a, 4242, 1), 0);
		assert_memory_equal(r2.lstag, zero, UIDREC_LSTAG_LEN);
	}
}

/*
 * The verdict on a slot's tag (uid_lstag_check): ours, to stamp (no
 * counted copy carries one), or another lockspace's (refused), from the
 * resolved view of both copies.
 */
static void test_lstag_check(void **state)
{
	uint8_t a[UIDREC_LSTAG_LEN], b[UIDREC_LSTAG_LEN];
	static const uint8_t zero[UIDREC_LSTAG_LEN];
	struct uid_rec rec[2];
	struct uid_slot_view v;
	int rc[2] = { 0, 0 };

	(void)state;
	assert_int_equal(uid_lstag("ls", a), 0);
	assert_int_equal(uid_lstag("evil", b), 0);
	rec_for(&rec[0], 1, 1, 5, 10, 100, 900);
	rec_for(&rec[1], 1, 1, 5, 11, 100, 1000);
	/* neither copy tagged: a record of before minor 3 */
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_memory_equal(v.lstag, zero, UIDREC_LSTAG_LEN);
	assert_int_equal(uid_lstag_check(&v, a), UID_LSTAG_STAMP);
	assert_int_equal(uid_lstag_check(&v, b), UID_LSTAG_STAMP);
	/* both tagged "ls" */
	memcpy(rec[0].lstag, a, UIDREC_LSTAG_LEN);
	memcpy(rec[1].lstag, a, UIDREC_LSTAG_LEN);
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_int_equal(uid_lstag_check(&v, a), UID_LSTAG_OURS);
	assert_int_equal(uid_lstag_check(&v, b), UID_LSTAG_OTHER);
	/* the latest copy rewritten without it (an older daemon's write, or
	 * a stamp whose second write did not land): still "ls"'s */
	memset(rec[1].lstag, 0, UIDREC_LSTAG_LEN);
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_memory_equal(v.lstag, a, UIDREC_LSTAG_LEN);
	assert_int_equal(uid_lstag_check(&v, a), UID_LSTAG_OURS);
	assert_int_equal(uid_lstag_check(&v, b), UID_LSTAG_OTHER);
	/* two different tags: nobody's, refused to both */
	memcpy(rec[1].lstag, b, UIDREC_LSTAG_LEN);
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_true(v.lstag_mixed);
	assert_int_equal(uid_lstag_check(&v, a), UID_LSTAG_OTHER);
	assert_int_equal(uid_lstag_check(&v, b), UID_LSTAG_OTHER);
	/* a copy of an older generation (a late write of the slot's
	 * previous owner) does not count */
	rec[1].gen = 2;
	memcpy(rec[0].lstag, b, UIDREC_LSTAG_LEN);
	memcpy(rec[1].lstag, a, UIDREC_LSTAG_LEN);
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_false(v.lstag_mixed);
	assert_int_equal(uid_lstag_check(&v, a), UID_LSTAG_OURS);
	/* one copy damaged: the intact one's tag */
	rc[1] = SDLM_ECHECKSUM;
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_int_equal(uid_lstag_check(&v, b), UID_LSTAG_OURS);
	assert_int_equal(uid_lstag_check(&v, a), UID_LSTAG_OTHER);
	/* a caller without a tag is never "ours" */
	assert_int_equal(uid_lstag_check(&v, zero), UID_LSTAG_OTHER);
	assert_int_equal(uid_lstag_check(NULL, a), UID_LSTAG_OTHER);
}

static void test_golden(void **state)
{
	static const uint32_t sizes[] = { 512, 4096 };
	uint8_t sector[SECTOR_MAX];
	struct uid_rec r, r2;
	char name[32];
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		fixed_rec(&r);
		assert_int_equal(uidrec_out(&r, uuid_a, sector, sizes[i]), 0);
		snprintf(name, sizeof(name), "uid-%u.bin", sizes[i]);
		golden_check(name, sector, sizes[i]);
		assert_int_equal(uidrec_in(&r2, sector, sizes[i], uuid_a, 4242, 1), 0);
		assert_rec_equal(&r2, &r);
	}
}

/*
 * Minor 1: the PROVISIONAL flag and prov_base (offset 384).  A record of
 * minor 0 (the images of format 1.0, kept as golden files) still reads,
 * unmarked; a marked record reads back marked; a mark above the watermark,
 * or a prov_base without the mark, is refused both ways.
 */
static void test_provisional(void **state)
{
	static const uint32_t sizes[] = { 512, 4096 };
	uint8_t sector[SECTOR_MAX];
	struct uid_rec r, r2;
	char name[40];
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		fixed_rec(&r);
		r.flags = UIDREC_F_PROVISIONAL;
		r.prov_base = 4500;
		assert_int_equal(uidrec_out(&r, uuid_a, sector, sizes[i]), 0);
		assert_int_equal(sector[10], UIDREC_MINOR);
		assert_int_equal(sector[12], 1);
		assert_int_equal(sector[384] | sector[385] << 8, 4500);
		snprintf(name, sizeof(name), "uid-prov-%u.bin", sizes[i]);
		golden_check(name, sector, sizes[i]);
		assert_int_equal(uidrec_in(&r2, sector, sizes[i], uuid_a, 4242, 1), 0);
		assert_rec_equal(&r2, &r);

		/* prov_base = watermark: nothing provisional yet, legal */
		r.prov_base = r.watermark;
		assert_int_equal(uidrec_out(&r, uuid_a, sector, sizes[i]), 0);
		/* above the watermark: refused when written and when read */
		r.prov_base = r.watermark + 1;
		assert_int_equal(uidrec_out(&r, uuid_a, sector, sizes[i]), -EINVAL);
		r.prov_base = 4500;
		assert_int_equal(uidrec_out(&r, uuid_a, sector, sizes[i]), 0);
		put_le32(sector + 384, r.watermark + 1);
		reseal(sector);
		assert_int_equal(uidrec_in(&r2, sector, sizes[i], uuid_a, 4242, 1), -EUCLEAN);
		/* a base without the mark */
		r.flags = 0;
		assert_int_equal(uidrec_out(&r, uuid_a, sector, sizes[i]), -EINVAL);
		r.prov_base = 0;
		assert_int_equal(uidrec_out(&r, uuid_a, sector, sizes[i]), 0);
		put_le32(sector + 384, 7);
		reseal(sector);
		assert_int_equal(uidrec_in(&r2, sector, sizes[i], uuid_a, 4242, 1), -EUCLEAN);
		/* unknown flags are a later minor's: ignored, kept */
		fixed_rec(&r);
		r.flags = 0x80000000u;
		assert_int_equal(uidrec_out(&r, uuid_a, sector, sizes[i]), 0);
		assert_int_equal(uidrec_in(&r2, sector, sizes[i], uuid_a, 4242, 1), 0);
		assert_int_equal(r2.flags, 0x80000000u);
	}
}

/*
 * The format 1.0 images (minor 0, written before minor 1 existed): today's
 * record with the minor put back to 0 must be those very bytes, and read
 * back as an ordinary (unmarked) record.
 */
static void test_golden_minor0(void **state)
{
	static const uint32_t sizes[] = { 512, 4096 };
	uint8_t sector[SECTOR_MAX];
	struct uid_rec r, r2;
	char name[32];
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		fixed_rec(&r);
		r.floor = 0;	/* minor 2's: reserved bytes in 1.0 */
		memset(r.lstag, 0, UIDREC_LSTAG_LEN);	/* minor 3's */
		assert_int_equal(uidrec_out(&r, uuid_a, sector, sizes[i]), 0);
		put_le16(sector + 10, 0);
		reseal(sector);
		snprintf(name, sizeof(name), "uid-1.0-%u.bin", sizes[i]);
		golden_check(name, sector, sizes[i]);
		assert_int_equal(uidrec_in(&r2, sector, sizes[i], uuid_a, 4242, 1), 0);
		assert_rec_equal(&r2, &r);
	}
}

/*
 * Minor 2: floor (offset 388).  The minor-1 images (tests/golden/
 * uid-1.1-*.bin, written before minor 2) are today's record with the
 * minor put back to 1 and no floor, and read back with floor 0 (unknown);
 * in a record of minor 1 the floor's bytes are reserved: not read,
 * whatever they hold.  A floor above the watermark + 1 is refused both
 * ways.
 */
static void test_floor(void **state)
{
	static const uint32_t sizes[] = { 512, 4096 };
	uint8_t sector[SECTOR_MAX];
	struct uid_rec r, r2;
	char name[32];
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		fixed_rec(&r);
		r.floor = 0;
		memset(r.lstag, 0, UIDREC_LSTAG_LEN);	/* minor 3's */
		assert_int_equal(uidrec_out(&r, uuid_a, sector, sizes[i]), 0);
		put_le16(sector + 10, 1);
		reseal(sector);
		snprintf(name, sizeof(name), "uid-1.1-%u.bin", sizes[i]);
		golden_check(name, sector, sizes[i]);
		assert_int_equal(uidrec_in(&r2, sector, sizes[i], uuid_a, 4242, 1), 0);
		assert_rec_equal(&r2, &r);
		/* reserved in minor 1: junk there is no floor, and no error */
		put_le32(sector + 388, 0xffffffffu);
		reseal(sector);
		assert_int_equal(uidrec_in(&r2, sector, sizes[i], uuid_a, 4242, 1), 0);
		assert_int_equal(r2.floor, 0);
		/* the same bytes in minor 2 are a floor above the watermark */
		put_le16(sector + 10, 2);
		reseal(sector);
		assert_int_equal(uidrec_in(&r2, sector, sizes[i], uuid_a, 4242, 1), -EUCLEAN);
		assert_int_equal(r2.epoch, 0);

		/* the watermark + 1 (all reserved UIDs handed out) is legal */
		fixed_rec(&r);
		r.floor = r.watermark + 1;
		assert_int_equal(uidrec_out(&r, uuid_a, sector, sizes[i]), 0);
		assert_int_equal(uidrec_in(&r2, sector, sizes[i], uuid_a, 4242, 1), 0);
		assert_int_equal(r2.floor, 5001);
		r.floor = r.watermark + 2;
		assert_int_equal(uidrec_out(&r, uuid_a, sector, sizes[i]), -EINVAL);
		r.floor = 4321;
		assert_int_equal(uidrec_out(&r, uuid_a, sector, sizes[i]), 0);
		put_le32(sector + 388, 5002);
		reseal(sector);
		assert_int_equal(uidrec_in(&r2, sector, sizes[i], uuid_a, 4242, 1), -EUCLEAN);
		/* the top of the UID space: no overflow in the check */
		fixed_rec(&r);
		r.watermark = r.res_last = UID_MAX;
		r.floor = UID_MAX;
		assert_int_equal(uidrec_out(&r, uuid_a, sector, sizes[i]), 0);
		assert_int_equal(uidrec_in(&r2, sector, sizes[i], uuid_a, 4242, 1), 0);
		assert_int_equal(r2.floor, UID_MAX);
	}
}

/* The view's floor is the latest copy's, of the view's UIDVALIDITY. */
static void test_resolve_floor(void **state)
{
	struct uid_rec rec[2];
	struct uid_slot_view v;
	int rc[2] = { 0, 0 };

	(void)state;
	rec_for(&rec[0], 1, 1, 5, 10, 100, 900);
	rec_for(&rec[1], 1, 1, 5, 11, 100, 1000);
	rec[0].floor = 850;
	rec[1].floor = 870;
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_int_equal(v.floor, 870);
	/* a late write of an older epoch is not the latest */
	rec[1].epoch = 4;
	rec[1].floor = 990;
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_int_equal(v.floor, 850);
	/* the latest copy has none (an older daemon wrote it): unknown */
	rec[1].epoch = 6;
	rec[1].floor = 0;
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_int_equal(v.floor, 0);
	/* the latest copy is of an older UIDVALIDITY than the view's */
	rec[1].floor = 950;
	rec[1].uidvalidity = 99;
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_int_equal(v.uidvalidity, 100);
	assert_int_equal(v.floor, 0);
	/* one damaged copy: the intact one's */
	rec[1].uidvalidity = 100;
	rc[1] = SDLM_ECHECKSUM;
	memset(&rec[1], 0, sizeof(rec[1]));
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_int_equal(v.floor, 850);
}

static void test_resolve_provisional(void **state)
{
	struct uid_rec rec[2];
	struct uid_slot_view v;
	int rc[2] = { 0, 0 };

	(void)state;
	rec_for(&rec[0], 1, 1, 5, 10, 100, 900);
	rec_for(&rec[1], 1, 1, 5, 11, 100, 1000);
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_false(v.provisional);
	assert_int_equal(v.prov_base, 0);

	/* one copy marked (a settle or a first degraded write half done) */
	rec[1].flags = UIDREC_F_PROVISIONAL;
	rec[1].prov_base = 800;
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_true(v.provisional);
	assert_int_equal(v.prov_base, 800);
	/* both marked: the lower base */
	rec[0].flags = UIDREC_F_PROVISIONAL;
	rec[0].prov_base = 700;
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_int_equal(v.prov_base, 700);
	/* a mark of an older UIDVALIDITY does not count */
	rec[0].uidvalidity = 99;
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_int_equal(v.prov_base, 800);
	rec[1].flags = 0;
	rec[1].prov_base = 0;
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_false(v.provisional);
	/* nor a mark of an older generation */
	rec[0].uidvalidity = 100;
	rec[0].gen = 0;
	rec[1].gen = 2;
	assert_int_equal(uidrec_resolve(rec, rc, &v), 0);
	assert_false(v.provisional);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_provisional),
		cmocka_unit_test(test_golden_minor0),
		cmocka_unit_test(test_floor),
		cmocka_unit_test(test_resolve_floor),
		cmocka_unit_test(test_probe_damaged),
		cmocka_unit_test(test_claimed_guid),
		cmocka_unit_test(test_probe_own_tombstone),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_name_guid),
		cmocka_unit_test(test_resolve_provisional),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_out_refuses_insane),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_table_probe),
		cmocka_unit_test(test_table_addressing),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_lstag),
		cmocka_unit_test(test_lstag_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
