/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_ondisk.c - unit tests of fence/crc32c.c and fence/ondisk.c.
 *
 * Pure buffer tests: no I/O except the golden images.  The golden images
 * are the format's fixed points: fixed records (fixed uuid, times, names)
 * are encoded and compared byte for byte with the files in tests/golden, and the
 * files are decoded back into the same records.  A change that alters a
 * single byte of the format fails here until it is made on purpose.
 * Golden directory and SDLM_GOLDEN_WRITE: see tests/common/ondisk_fixture.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdbool.h>
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
#include "ondisk.h"
#include "ondisk_fixture.h"

/* ---- helpers ---- */

static uint32_t crc32c_bitwise(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t crc = 0xffffffffu;
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
	}
	return ~crc;
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
	       (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

/* A cluster lock id of node n (dlm/core/nodelock.c). */
#define LKID(n, c)	((uint64_t)(n) << 32 | (c))

static void fixed_header(struct sdlm_header *h, uint32_t sector_size)
{
	memset(h, 0, sizeof(*h));
	h->major = SDLM_ONDISK_MAJOR;
	h->minor = SDLM_ONDISK_MINOR;
	h->sector_size = sector_size;
	h->num_nodes = 16;
	strcpy(h->cluster_name, "imap-cluster");
	memcpy(h->uuid, uuid_a, SDLM_UUID_LEN);
	h->io_timeout_ms = 2000;
	h->hb_interval_ms = 1000;
	h->watchdog_timeout_ms = 5000;
	h->create_time = 1700000000u;
	strcpy(h->create_host, "node1.example.com");
}

static void fixed_hb(struct sdlm_hb *hb)
{
	memset(hb, 0, sizeof(*hb));
	hb->node_id = 7;
	hb->state = HB_ALIVE;
	hb->counter = 0x0102030405060708ull;
	hb->incarnation = 0xdeadbeefcafef00dull;
	hb->ack_cmd = MSG_RESET;
	hb->ack_seq = 41;
	hb->ack_incarnation = 0x1122334455667788ull;
	hb->hb_interval_ms = 1000;
	hb->wall_time_ms = 1700000000123ull;
	strcpy(hb->node_name, "node7");
	strcpy(hb->version, "1.2.3-test");
	/* minor 2: node 7 asks nodes 2 and 9 for a grant each, and answers
	 * for two of its own, the first with a value block */
	hb->req_seq = 3;
	hb->req[0].lkid = LKID(2, 5);
	hb->req[0].target_incarnation = 0x0a0b0c0d0e0f1011ull;
	hb->req[1].lkid = LKID(9, 0x77);
	hb->req[1].target_incarnation = 0x2122232425262728ull;
	hb->ans_seq = 2;
	hb->ans_count = 2;
	hb->ans_lvb = 0x1;
	hb->ans[0].lkid = LKID(7, 3);
	for (int b = 0; b < SDLM_HB_LVB_LEN; b++)
		hb->ans[0].lvb[b] = (uint8_t)(0x40 + b);
	hb->ans[1].lkid = LKID(7, 4);
	hb->minor = SDLM_HB_MINOR;
	memcpy(hb->uuid, uuid_a, SDLM_UUID_LEN);
}

/* The minor-2 fields as a reader of minor 0 or 1 records sees them. */
static void hb_clear_handoff(struct sdlm_hb *hb)
{
	hb->req_seq = 0;
	memset(hb->req, 0, sizeof(hb->req));
	hb->ans_seq = 0;
	hb->ans_count = 0;
	hb->ans_lvb = 0;
	memset(hb->ans, 0, sizeof(hb->ans));
}

static void fixed_msg(struct sdlm_msg *msg)
{
	memset(msg, 0, sizeof(*msg));
	msg->node_id = 7;
	msg->cmd = MSG_OFF;
	msg->seq = 42;
	msg->target_incarnation = 0xdeadbeefcafef00dull;
	msg->from_node = 3;
	msg->wall_time_ms = 1700000000456ull;
	memcpy(msg->uuid, uuid_a, SDLM_UUID_LEN);
}

static void assert_header_equal(const struct sdlm_header *a,
				const struct sdlm_header *b)
{
	assert_int_equal(a->major, b->major);
	assert_int_equal(a->minor, b->minor);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->sector_size, b->sector_size);
	assert_int_equal(a->num_nodes, b->num_nodes);
	assert_string_equal(a->cluster_name, b->cluster_name);
	assert_memory_equal(a->uuid, b->uuid, SDLM_UUID_LEN);
	assert_int_equal(a->io_timeout_ms, b->io_timeout_ms);
	assert_int_equal(a->hb_interval_ms, b->hb_interval_ms);
	assert_int_equal(a->watchdog_timeout_ms, b->watchdog_timeout_ms);
	assert_int_equal(a->create_time, b->create_time);
	assert_string_equal(a->create_host, b->create_host);
	assert_int_equal(a->uid_area_start, b->uid_area_start);
	assert_int_equal(a->uid_area_sectors, b->uid_area_sectors);
}

static void assert_hb_equal(const struct sdlm_hb *a, const struct sdlm_hb *b)
{
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->node_id, b->node_id);
	assert_int_equal(a->state, b->state);
	assert_int_equal(a->counter, b->counter);
	assert_int_equal(a->incarnation, b->incarnation);
	assert_int_equal(a->ack_cmd, b->ack_cmd);
	assert_int_equal(a->ack_seq, b->ack_seq);
	assert_int_equal(a->ack_incarnation, b->ack_incarnation);
	assert_int_equal(a->hb_interval_ms, b->hb_interval_ms);
	assert_int_equal(a->wall_time_ms, b->wall_time_ms);
	assert_string_equal(a->node_name, b->node_name);
	assert_memory_equal(a->version, b->version, SDLM_VERSION_LEN);
	assert_int_equal(a->req_seq, b->req_seq);
	for (int i = 0; i < SDLM_HB_REQ_MAX; i++) {
		assert_int_equal(a->req[i].lkid, b->req[i].lkid);
		assert_int_equal(a->req[i].target_incarnation,
				 b->req[i].target_incarnation);
	}
	assert_int_equal(a->ans_seq, b->ans_seq);
	assert_int_equal(a->ans_count, b->ans_count);
	assert_int_equal(a->ans_lvb, b->ans_lvb);
	for (int i = 0; i < SDLM_HB_ANS_MAX; i++) {
		assert_int_equal(a->ans[i].lkid, b->ans[i].lkid);
		assert_memory_equal(a->ans[i].lvb, b->ans[i].lvb, SDLM_HB_LVB_LEN);
	}
	assert_int_equal(a->minor, b->minor);
	assert_memory_equal(a->uuid, b->uuid, SDLM_UUID_LEN);
}

static void assert_msg_equal(const struct sdlm_msg *a, const struct sdlm_msg *b)
{
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->node_id, b->node_id);
	assert_int_equal(a->cmd, b->cmd);
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->target_incarnation, b->target_incarnation);
	assert_int_equal(a->from_node, b->from_node);
	assert_int_equal(a->wall_time_ms, b->wall_time_ms);
	assert_memory_equal(a->uuid, b->uuid, SDLM_UUID_LEN);
}

static int buf_is_zero(const uint8_t *p, size_t from, size_t to)
{
	for (; from < to; from++)
		if (p[from])
			return 0;
	return 1;
}

/* ---- crc32c ---- */

static void test_crc32c_known_answers(void **state)
{
	uint8_t buf[32];
	int i;

	(void)state;
	assert_int_equal(crc32c(0, "123456789", 9), 0xe3069283u);
	assert_int_equal(crc32c(0, "", 0), 0);
	/* RFC 3720 appendix B.4 */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(crc32c(0, buf, 32), 0x8a9136aau);
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(crc32c(0, buf, 32), 0x62a8ab43u);
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(crc32c(0, buf, 32), 0x46dd794eu);
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	assert_int_equal(crc32c(0, buf, 32), 0x113fdb5cu);
}

/* Slice-by-8 against the bitwise definition, every alignment and split. */
static void test_crc32c_matches_bitwise(void **state)
{
	uint8_t buf[300];
	size_t start, len, split;
	uint32_t want;

	(void)state;
	for (start = 0; start < sizeof(buf); start++)
		buf[start] = (uint8_t)(start * 131 + 7);
	for (start = 0; start < 9; start++) {
		for (len = 0; len + start <= sizeof(buf); len += 37) {
			want = crc32c_bitwise(buf + start, len);
			assert_int_equal(crc32c(0, buf + start, len), want);
			for (split = 0; split <= len; split += 13)
				assert_int_equal(crc32c(crc32c(0, buf + start, split),
							buf + start + split,
							len - split), want);
		}
	}
}

/* ---- round trips and byte positions ---- */

static void test_hdr_round_trip(void **state)
{
	static const uint32_t sizes[] = { 512, 4096 };
	uint8_t sector[SECTOR_MAX + 1];
	struct sdlm_header in, out;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		fixed_header(&in, sizes[i]);
		in.uid_area_start = 2 * in.num_nodes + 1;
		in.uid_area_sectors = 1000;
		memset(sector, 0xa5, sizeof(sector));
		assert_int_equal(hdr_out(&in, sector, sizes[i]), 0);
		assert_memory_equal(sector, "SDLMHDR\0", 8);
		assert_int_equal(sector[8], 1);
		assert_int_equal(get_le32(sector + 16), sizes[i]);
		assert_int_equal(get_le32(sector + 20), 16);
		assert_int_equal(get_le64(sector + 40), 1700000000u);
		assert_int_equal(get_le64(sector + 48), 33);
		assert_memory_equal(sector + 64, uuid_a, SDLM_UUID_LEN);
		assert_string_equal((char *)sector + 80, "imap-cluster");
		assert_string_equal((char *)sector + 144, "node1.example.com");
		assert_int_equal(get_le32(sector + 508), crc32c(0, sector, 508));
		assert_true(buf_is_zero(sector, 208, 508));
		assert_true(buf_is_zero(sector, 512, sizes[i]));
		assert_int_equal(sector[sizes[i]], 0xa5);	/* no overrun */

		assert_int_equal(hdr_in(&out, sector, sizes[i]), 0);
		assert_header_equal(&out, &in);
	}
}

static void test_hb_round_trip(void **state)
{
	static const uint32_t sizes[] = { 512, 4096 };
	uint8_t sector[SECTOR_MAX];
	struct sdlm_hb in, out;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		fixed_hb(&in);
		memset(sector, 0xa5, sizeof(sector));
		assert_int_equal(hb_out(&in, uuid_a, sector, sizes[i]), 0);
		assert_memory_equal(sector, "SDLMHB\0\0", 8);
		assert_int_equal(get_le32(sector + 16), 7);
		assert_int_equal(get_le32(sector + 20), HB_ALIVE);
		/* little-endian on disk, whatever the host */
		assert_int_equal(sector[24], 0x08);
		assert_int_equal(sector[31], 0x01);
		assert_int_equal(get_le64(sector + 32), 0xdeadbeefcafef00dull);
		assert_int_equal(get_le64(sector + 40), 41);
		assert_int_equal(get_le32(sector + 56), MSG_RESET);
		assert_memory_equal(sector + 72, uuid_a, SDLM_UUID_LEN);
		assert_string_equal((char *)sector + 88, "node7");
		assert_int_equal(get_le32(sector + 8), SDLM_ONDISK_MAJOR | SDLM_HB_MINOR << 16);
		assert_memory_equal(sector + 152, "1.2.3-test\0", 11);
		assert_true(buf_is_zero(sector, 163, 184));
		/* minor 2: the hand-off areas */
		assert_int_equal(get_le64(sector + 184), 3);
		assert_int_equal(get_le64(sector + 192), LKID(2, 5));
		assert_int_equal(get_le64(sector + 200), 0x0a0b0c0d0e0f1011ull);
		assert_int_equal(get_le64(sector + 208), LKID(9, 0x77));
		assert_int_equal(get_le64(sector + 216), 0x2122232425262728ull);
		assert_true(buf_is_zero(sector, 224, 320));
		assert_int_equal(get_le64(sector + 320), 2);
		assert_int_equal(get_le32(sector + 328), 2);
		assert_int_equal(get_le32(sector + 332), 0x1);
		assert_int_equal(get_le64(sector + 336), LKID(7, 3));
		assert_int_equal(sector[344], 0x40);
		assert_int_equal(sector[375], 0x40 + 31);
		assert_int_equal(get_le64(sector + 376), LKID(7, 4));
		assert_true(buf_is_zero(sector, 384, 508));
		assert_true(buf_is_zero(sector, 512, sizes[i]));

		assert_int_equal(hb_in(&out, sector, sizes[i], uuid_a, 7), 0);
		assert_hb_equal(&out, &in);
	}
}

static void test_msg_round_trip(void **state)
{
	static const uint32_t sizes[] = { 512, 4096 };
	static const uint32_t cmds[] = { MSG_CLEAR, MSG_TEST, MSG_RESET, MSG_OFF };
	uint8_t sector[SECTOR_MAX];
	struct sdlm_msg in, out;
	size_t i, c;

	(void)state;
	for (i = 0; i < 2; i++) {
		for (c = 0; c < 4; c++) {
			fixed_msg(&in);
			in.cmd = cmds[c];
			in.seq += c;
			assert_int_equal(msg_out(&in, uuid_a, sector, sizes[i]), 0);
			assert_memory_equal(sector, "SDLMMSG\0", 8);
			assert_int_equal(get_le32(sector + 20), cmds[c]);
			assert_int_equal(get_le64(sector + 24), 42 + c);
			assert_int_equal(get_le32(sector + 40), 3);
			assert_memory_equal(sector + 56, uuid_a, SDLM_UUID_LEN);
			assert_true(buf_is_zero(sector, 72, 508));
			assert_true(buf_is_zero(sector, 512, sizes[i]));
			assert_int_equal(msg_in(&out, sector, sizes[i], uuid_a, 7), 0);
			assert_msg_equal(&out, &in);
		}
	}
}

/* hb_out stamps the uuid argument, not hb->uuid. */
static void test_hb_out_stamps_uuid(void **state)
{
	uint8_t sector[512];
	struct sdlm_hb in, out;

	(void)state;
	fixed_hb(&in);
	memcpy(in.uuid, uuid_b, SDLM_UUID_LEN);
	assert_int_equal(hb_out(&in, uuid_a, sector, sizeof(sector)), 0);
	assert_int_equal(hb_in(&out, sector, sizeof(sector), uuid_a, 7), 0);
	assert_memory_equal(out.uuid, uuid_a, SDLM_UUID_LEN);
}

/* ---- verification order and errors ---- */

typedef int (*decode_fn)(const uint8_t *sector, size_t len);

static int decode_hdr(const uint8_t *sector, size_t len)
{
	struct sdlm_header h;

	return hdr_in(&h, sector, len);
}

static int decode_hb(const uint8_t *sector, size_t len)
{
	struct sdlm_hb hb;
	int rv = hb_in(&hb, sector, len, uuid_a, 7);

	if (rv)
		assert_int_equal(hb.counter, 0);	/* cleared on error */
	return rv;
}

static int decode_msg(const uint8_t *sector, size_t len)
{
	struct sdlm_msg msg;

	return msg_in(&msg, sector, len, uuid_a, 7);
}

static void encode_fixed(int kind, uint8_t *sector, size_t size)
{
	struct sdlm_header h;
	struct sdlm_hb hb;
	struct sdlm_msg msg;

	switch (kind) {
	case 0:
		fixed_header(&h, (uint32_t)size);
		assert_int_equal(hdr_out(&h, sector, size), 0);
		break;
	case 1:
		fixed_hb(&hb);
		assert_int_equal(hb_out(&hb, uuid_a, sector, size), 0);
		break;
	default:
		fixed_msg(&msg);
		assert_int_equal(msg_out(&msg, uuid_a, sector, size), 0);
		break;
	}
}

/* Corruptions common to all three records, each with its own error. */
static void test_corruption_common(void **state)
{
	static const decode_fn decode[] = { decode_hdr, decode_hb, decode_msg };
	static const size_t sizes[] = { 512, 4096 };
	uint8_t sector[SECTOR_MAX];
	int kind;
	size_t s, size;

	(void)state;
	for (kind = 0; kind < 3; kind++) {
		for (s = 0; s < 2; s++) {
			size = sizes[s];
			encode_fixed(kind, sector, size);
			assert_int_equal(decode[kind](sector, size), 0);

			/* too short: refused before the payload is read */
			assert_int_equal(decode[kind](sector, 511), -EINVAL);

			/* magic, even with a valid CRC */
			encode_fixed(kind, sector, size);
			sector[3] ^= 0x20;
			assert_int_equal(decode[kind](sector, size), SDLM_EMAGIC);
			reseal(sector);
			assert_int_equal(decode[kind](sector, size), SDLM_EMAGIC);

			/* major: checked before the CRC */
			encode_fixed(kind, sector, size);
			/* the header knows majors 1 and 2 (features) */
			put_le16(sector + 8, (kind == 0 ? SDLM_HDR_MAJOR_MAX : SDLM_ONDISK_MAJOR) + 1);
			assert_int_equal(decode[kind](sector, size), SDLM_EVERSION);
			reseal(sector);
			assert_int_equal(decode[kind](sector, size), SDLM_EVERSION);
			put_le16(sector + 8, 0);
			reseal(sector);
			assert_int_equal(decode[kind](sector, size), SDLM_EVERSION);

			/* a higher minor is compatible */
			encode_fixed(kind, sector, size);
			put_le16(sector + 10, SDLM_HB_MINOR + 3);
			sector[500] = 0x5a;	/* a newer field in reserved */
			reseal(sector);
			assert_int_equal(decode[kind](sector, size), 0);

			/* a payload byte, a CRC byte, the last covered byte */
			encode_fixed(kind, sector, size);
			sector[20] ^= 0x01;
			assert_int_equal(decode[kind](sector, size), SDLM_ECHECKSUM);
			encode_fixed(kind, sector, size);
			sector[510] ^= 0x80;
			assert_int_equal(decode[kind](sector, size), SDLM_ECHECKSUM);
			encode_fixed(kind, sector, size);
			sector[507] ^= 0x01;
			assert_int_equal(decode[kind](sector, size), SDLM_ECHECKSUM);

			/* all-zero sector: never initialised */
			memset(sector, 0, size);
			assert_int_equal(decode[kind](sector, size), SDLM_EMAGIC);
		}

		/* the tail of a 4096-byte sector is outside the CRC, but checked */
		encode_fixed(kind, sector, 4096);
		sector[4095] = 1;
		assert_int_equal(decode[kind](sector, 4096), SDLM_ECHECKSUM);
		encode_fixed(kind, sector, 4096);
		sector[512] = 1;
		assert_int_equal(decode[kind](sector, 4096), SDLM_ECHECKSUM);
	}
}

static void test_identity(void **state)
{
	uint8_t sector[4096];
	struct sdlm_hb hb;
	struct sdlm_msg msg;

	(void)state;
	encode_fixed(1, sector, 4096);
	assert_int_equal(hb_in(&hb, sector, 4096, uuid_b, 7), SDLM_EIDENTITY);
	assert_int_equal(hb_in(&hb, sector, 4096, uuid_a, 8), SDLM_EIDENTITY);
	assert_int_equal(hb_in(&hb, sector, 4096, uuid_a, 0), -EINVAL);
	assert_int_equal(hb_in(&hb, sector, 4096, uuid_a, 256), -EINVAL);
	assert_int_equal(hb_in(&hb, sector, 4096, NULL, 7), -EINVAL);
	assert_int_equal(hb_in(&hb, sector, 4096, uuid_a, 7), 0);

	encode_fixed(2, sector, 512);
	assert_int_equal(msg_in(&msg, sector, 512, uuid_b, 7), SDLM_EIDENTITY);
	assert_int_equal(msg_in(&msg, sector, 512, uuid_a, 6), SDLM_EIDENTITY);
	assert_int_equal(msg_in(&msg, sector, 512, uuid_a, 0), -EINVAL);
	assert_int_equal(msg_in(&msg, sector, 512, uuid_a, 7), 0);

	/* a record of one kind read as another is a magic error */
	encode_fixed(1, sector, 512);
	assert_int_equal(msg_in(&msg, sector, 512, uuid_a, 7), SDLM_EMAGIC);
	assert_int_equal(decode_hdr(sector, 512), SDLM_EMAGIC);
}

/* Patch a u32 at off, re-seal, expect err from decode. */
static void expect_u32_patch(int kind, size_t size, size_t off, uint32_t v,
			     int err)
{
	static const decode_fn decode[] = { decode_hdr, decode_hb, decode_msg };
	uint8_t sector[SECTOR_MAX];

	encode_fixed(kind, sector, size);
	put_le32(sector + off, v);
	reseal(sector);
	assert_int_equal(decode[kind](sector, size), err);
}

static void expect_bytes_patch(int kind, size_t off, uint8_t v, size_t n,
			       int err)
{
	static const decode_fn decode[] = { decode_hdr, decode_hb, decode_msg };
	uint8_t sector[512];

	encode_fixed(kind, sector, 512);
	memset(sector + off, v, n);
	reseal(sector);
	assert_int_equal(decode[kind](sector, 512), err);
}

/* A valid CRC does not make a record sane. */
static void test_insane_values(void **state)
{
	(void)state;
	/* header: sector_size, num_nodes, timeouts */
	expect_u32_patch(0, 512, 16, 1024, -EUCLEAN);
	expect_u32_patch(0, 512, 16, 0, -EUCLEAN);
	expect_u32_patch(0, 512, 20, 0, -EUCLEAN);
	expect_u32_patch(0, 512, 20, 256, -EUCLEAN);
	expect_u32_patch(0, 512, 20, 255, 0);
	expect_u32_patch(0, 512, 24, 0, -EUCLEAN);
	expect_u32_patch(0, 512, 28, 0, -EUCLEAN);
	expect_u32_patch(0, 512, 32, 0, -EUCLEAN);
	/* header: uid area inside the slots (N = 16: first free sector 33) */
	expect_u32_patch(0, 512, 48, 5, -EUCLEAN);	/* start, no sectors */
	{
		uint8_t sector[512];
		struct sdlm_header h;

		encode_fixed(0, sector, 512);
		put_le32(sector + 48, 32);
		put_le32(sector + 56, 10);
		reseal(sector);
		assert_int_equal(hdr_in(&h, sector, 512), -EUCLEAN);
		put_le32(sector + 48, 33);
		reseal(sector);
		assert_int_equal(hdr_in(&h, sector, 512), 0);
		assert_int_equal(h.uid_area_start, 33);
		assert_int_equal(h.uid_area_sectors, 10);
		memset(sector + 56, 0xff, 8);	/* end overflows */
		reseal(sector);
		assert_int_equal(hdr_in(&h, sector, 512), -EUCLEAN);
	}
	/* header: nil uuid, empty or unterminated names */
	expect_bytes_patch(0, 64, 0, SDLM_UUID_LEN, -EUCLEAN);
	expect_bytes_patch(0, 80, 0, 1, -EUCLEAN);
	expect_bytes_patch(0, 80, 'x', SDLM_DISK_NAME_LEN, -EUCLEAN);
	expect_bytes_patch(0, 144, 'x', SDLM_DISK_NAME_LEN, -EUCLEAN);
	expect_bytes_patch(0, 144, 0, 1, 0);	/* empty host is fine */
	/* header with an insane sector_size skips the tail check */
	expect_u32_patch(0, 4096, 16, 8192, -EUCLEAN);

	/* heartbeat: state, ack_cmd, name */
	expect_u32_patch(1, 512, 20, HB_STATE_MAX + 1, -EUCLEAN);
	expect_u32_patch(1, 512, 20, HB_EXITING, 0);
	expect_u32_patch(1, 512, 56, MSG_CMD_MAX + 1, -EUCLEAN);
	expect_bytes_patch(1, 88, 'x', SDLM_DISK_NAME_LEN, -EUCLEAN);
	/* an identity check comes before sanity */
	expect_u32_patch(1, 512, 16, 300, SDLM_EIDENTITY);

	/* message: cmd, from_node */
	expect_u32_patch(2, 512, 20, MSG_CMD_MAX + 1, -EUCLEAN);
	expect_u32_patch(2, 512, 20, 0xffffffffu, -EUCLEAN);
	expect_u32_patch(2, 512, 40, 256, -EUCLEAN);
	expect_u32_patch(2, 512, 40, 0, 0);
	expect_u32_patch(2, 512, 40, 255, 0);
}

/* Names after the NUL are not data: decoded names are zero-filled. */
static void test_name_garbage_after_nul(void **state)
{
	uint8_t sector[512];
	struct sdlm_hb hb;
	char want[SDLM_DISK_NAME_LEN] = "node7";

	(void)state;
	encode_fixed(1, sector, 512);
	memset(sector + 88 + 6, 'z', SDLM_DISK_NAME_LEN - 6);
	reseal(sector);
	assert_int_equal(hb_in(&hb, sector, 512, uuid_a, 7), 0);
	assert_memory_equal(hb.node_name, want, SDLM_DISK_NAME_LEN);
}

/* *_out never writes what *_in would refuse. */
static void test_out_refuses_insane(void **state)
{
	uint8_t sector[SECTOR_MAX];
	static const uint8_t nil[SDLM_UUID_LEN];
	struct sdlm_header h;
	struct sdlm_hb hb;
	struct sdlm_msg msg;

	(void)state;
	fixed_header(&h, 512);
	assert_int_equal(hdr_out(&h, sector, 511), -EINVAL);
	h.sector_size = 2048;
	assert_int_equal(hdr_out(&h, sector, 512), -EINVAL);
	fixed_header(&h, 512);
	h.num_nodes = 0;
	assert_int_equal(hdr_out(&h, sector, 512), -EINVAL);
	fixed_header(&h, 512);
	h.cluster_name[0] = '\0';
	assert_int_equal(hdr_out(&h, sector, 512), -EINVAL);
	fixed_header(&h, 512);
	memset(h.cluster_name, 'c', SDLM_DISK_NAME_LEN);
	assert_int_equal(hdr_out(&h, sector, 512), -EINVAL);
	fixed_header(&h, 512);
	memcpy(h.uuid, nil, SDLM_UUID_LEN);
	assert_int_equal(hdr_out(&h, sector, 512), -EINVAL);
	fixed_header(&h, 512);
	h.uid_area_start = 10;
	h.uid_area_sectors = 5;
	assert_int_equal(hdr_out(&h, sector, 512), -EINVAL);

	fixed_hb(&hb);
	assert_int_equal(hb_out(&hb, nil, sector, 512), -EINVAL);
	assert_int_equal(hb_out(&hb, uuid_a, sector, 100), -EINVAL);
	hb.node_id = 0;
	assert_int_equal(hb_out(&hb, uuid_a, sector, 512), -EINVAL);
	fixed_hb(&hb);
	hb.state = 9;
	assert_int_equal(hb_out(&hb, uuid_a, sector, 512), -EINVAL);

	fixed_msg(&msg);
	msg.cmd = 4;
	assert_int_equal(msg_out(&msg, uuid_a, sector, 512), -EINVAL);
	fixed_msg(&msg);
	msg.node_id = 256;
	assert_int_equal(msg_out(&msg, uuid_a, sector, 512), -EINVAL);
	fixed_msg(&msg);
	msg.from_node = 1000;
	assert_int_equal(msg_out(&msg, uuid_a, sector, 512), -EINVAL);
}

/* ---- layout ---- */

static void test_layout_arithmetic(void **state)
{
	struct sdlm_header h;
	uint64_t off;

	(void)state;
	fixed_header(&h, 512);
	h.num_nodes = 3;
	assert_int_equal(layout_hb_offset(&h, 1, &off), 0);
	assert_int_equal(off, 512);
	assert_int_equal(layout_hb_offset(&h, 3, &off), 0);
	assert_int_equal(off, 1536);
	assert_int_equal(layout_msg_offset(&h, 1, &off), 0);
	assert_int_equal(off, 2048);
	assert_int_equal(layout_msg_offset(&h, 3, &off), 0);
	assert_int_equal(off, 3072);
	off = 77;
	assert_int_equal(layout_hb_offset(&h, 0, &off), -EINVAL);
	assert_int_equal(layout_hb_offset(&h, 4, &off), -EINVAL);
	assert_int_equal(layout_msg_offset(&h, 0, &off), -EINVAL);
	assert_int_equal(layout_msg_offset(&h, 4, &off), -EINVAL);
	assert_int_equal(off, 77);
	assert_int_equal(layout_slots_offset(&h), 512);
	assert_int_equal(layout_slots_len(&h), 3072);
	assert_int_equal(layout_area_len(&h), 3584);
	h.uid_area_start = 10;
	h.uid_area_sectors = 20;
	assert_int_equal(layout_area_len(&h), 30 * 512);

	fixed_header(&h, 4096);
	h.num_nodes = SDLM_MAX_NODES;
	assert_int_equal(layout_hb_offset(&h, 255, &off), 0);
	assert_int_equal(off, 255ull * 4096);
	assert_int_equal(layout_msg_offset(&h, 255, &off), 0);
	assert_int_equal(off, 510ull * 4096);
	assert_int_equal(layout_slots_offset(&h), 4096);
	assert_int_equal(layout_slots_len(&h), 510ull * 4096);
	assert_int_equal(layout_area_len(&h), 511ull * 4096);
	/* last message slot ends exactly where the slots region ends */
	assert_int_equal(off + 4096,
			 layout_slots_offset(&h) + layout_slots_len(&h));
}

/*
 * A whole area in memory, as init would write it: every record at its
 * layout offset, then everything decoded from one "read" of the slots.
 */
static void test_area_image(void **state)
{
	static const uint32_t sizes[] = { 512, 4096 };
	struct sdlm_header h, h2;
	struct sdlm_hb hb, hb2;
	struct sdlm_msg msg, msg2;
	uint8_t *area, *slots;
	uint64_t off;
	uint32_t id, ss;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		ss = sizes[i];
		fixed_header(&h, ss);
		h.num_nodes = 5;
		area = calloc(1, layout_area_len(&h));
		assert_non_null(area);
		assert_int_equal(hdr_out(&h, area, ss), 0);
		for (id = 1; id <= h.num_nodes; id++) {
			fixed_hb(&hb);
			hb_clear_handoff(&hb);	/* they name node 7 */
			hb.node_id = id;
			hb.counter = 100 + id;
			assert_int_equal(layout_hb_offset(&h, id, &off), 0);
			assert_int_equal(hb_out(&hb, h.uuid, area + off, ss), 0);
			fixed_msg(&msg);
			msg.node_id = id;
			msg.seq = 200 + id;
			assert_int_equal(layout_msg_offset(&h, id, &off), 0);
			assert_int_equal(msg_out(&msg, h.uuid, area + off, ss), 0);
		}

		/* probe the header with a 4096-byte read whatever the sector */
		assert_int_equal(hdr_in(&h2, area, 4096), 0);
		assert_int_equal(h2.sector_size, ss);

		slots = area + layout_slots_offset(&h2);
		for (id = 1; id <= h2.num_nodes; id++) {
			assert_int_equal(layout_hb_offset(&h2, id, &off), 0);
			off -= layout_slots_offset(&h2);
			assert_int_equal(hb_in(&hb2, slots + off, ss, h2.uuid, id), 0);
			assert_int_equal(hb2.counter, 100 + id);
			assert_int_equal(layout_msg_offset(&h2, id, &off), 0);
			off -= layout_slots_offset(&h2);
			assert_int_equal(msg_in(&msg2, slots + off, ss, h2.uuid, id), 0);
			assert_int_equal(msg2.seq, 200 + id);
		}
		/* node 2's heartbeat read as node 3's */
		assert_int_equal(hb_in(&hb2, area + 2 * ss, ss, h2.uuid, 3),
				 SDLM_EIDENTITY);
		/* a read spanning two sectors is not a sector */
		assert_int_equal(hb_in(&hb2, area + ss, 2 * ss, h2.uuid, 1),
				 SDLM_ECHECKSUM);
		free(area);
	}
}

/* ---- names and uuids ---- */

static void test_names(void **state)
{
	uint32_t c;

	(void)state;
	assert_string_equal(hb_state_name(HB_FREE), "free");
	assert_string_equal(hb_state_name(HB_ALIVE), "alive");
	assert_string_equal(hb_state_name(HB_FENCED_SELF), "fenced-self");
	assert_string_equal(hb_state_name(HB_EXITING), "exiting");
	assert_string_equal(hb_state_name(4), "unknown");
	assert_string_equal(hb_state_name(0xffffffffu), "unknown");
	assert_string_equal(msg_cmd_name(MSG_OFF), "off");
	assert_string_equal(msg_cmd_name(4), "unknown");
	for (c = 0; c <= MSG_CMD_MAX; c++)
		assert_int_equal(msg_cmd_parse(msg_cmd_name(c)), (int)c);
	assert_int_equal(msg_cmd_parse("reset"), MSG_RESET);
	assert_int_equal(msg_cmd_parse("unknown"), -EINVAL);
	assert_int_equal(msg_cmd_parse("OFF"), -EINVAL);
	assert_int_equal(msg_cmd_parse(""), -EINVAL);
	assert_int_equal(msg_cmd_parse(NULL), -EINVAL);
}

static void test_uuid_text(void **state)
{
	char text[SDLM_UUID_STR_LEN];
	uint8_t u[SDLM_UUID_LEN];

	(void)state;
	sdlm_uuid_unparse(uuid_a, text);
	assert_string_equal(text, "6b1d2e3f-4051-4263-8495-a6b7c8d9eafb");
	assert_int_equal(sdlm_uuid_parse(text, u), 0);
	assert_memory_equal(u, uuid_a, SDLM_UUID_LEN);
	assert_int_equal(sdlm_uuid_parse("6B1D2E3F-4051-4263-8495-A6B7C8D9EAFC", u), 0);
	assert_memory_equal(u, uuid_b, SDLM_UUID_LEN);

	memset(u, 0x11, sizeof(u));
	assert_int_equal(sdlm_uuid_parse("6b1d2e3f-4051-4263-8495-a6b7c8d9eaf", u), -EINVAL);
	assert_int_equal(sdlm_uuid_parse("6b1d2e3f-4051-4263-8495-a6b7c8d9eafb0", u), -EINVAL);
	assert_int_equal(sdlm_uuid_parse("6b1d2e3f40514263-8495-a6b7c8d9eafb00", u), -EINVAL);
	assert_int_equal(sdlm_uuid_parse("6b1d2e3f-4051-4263-8495-a6b7c8d9eafg", u), -EINVAL);
	assert_int_equal(sdlm_uuid_parse("", u), -EINVAL);
	assert_int_equal(u[0], 0x11);	/* untouched on error */
}

/* ---- heartbeat minor 1: the writer's version ---- */

/*
 * An older heartbeat golden image of one sector size, as it was written:
 * "1.0" (minor 0), "1.1" (minor 1).
 */
static void read_hb_image(const char *ver, uint32_t size, uint8_t *sector)
{
	const char *dir = getenv("SDLM_GOLDEN_DIR");
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/hb-%s-%u.bin", dir ? dir : SDLM_GOLDEN_DIR,
		 ver, size);
	f = fopen(path, "re");
	assert_non_null(f);
	assert_int_equal(fread(sector, 1, size, f), size);
	fclose(f);
}

/*
 * Backward: the slot of a writer of minor 0 (tests/golden/hb-1.0-*.bin,
 * the images of format 1.0 as they were) reads with version "" (shown
 * as "unknown"), every other field as before; its bytes where minor 1
 * keeps the version are reserved there and not read, whatever they hold.
 */
static void test_hb_minor0_reads(void **state)
{
	static const uint32_t sizes[] = { 512, 4096 };
	uint8_t sector[SECTOR_MAX];
	struct sdlm_hb want, out;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		read_hb_image("1.0", sizes[i], sector);
		assert_int_equal(get_le32(sector + 8), SDLM_ONDISK_MAJOR);	/* 1.0 */
		fixed_hb(&want);
		memset(want.version, 0, sizeof(want.version));
		hb_clear_handoff(&want);
		want.minor = 0;
		assert_int_equal(hb_in(&out, sector, sizes[i], uuid_a, 7), 0);
		assert_hb_equal(&out, &want);

		/* reserved in 1.0: junk there (no NUL, control bytes) is ignored */
		memset(sector + 152, 0x01, SDLM_RECORD_CRC_OFFSET - 152);
		reseal(sector);
		assert_int_equal(hb_in(&out, sector, sizes[i], uuid_a, 7), 0);
		assert_string_equal(out.version, "");
		assert_int_equal(out.req[0].lkid, 0);
		assert_int_equal(out.ans_count, 0);
	}
}

/*
 * Forward: a reader of format 1.0 checks the magic, the major (not the
 * minor), the CRC, the tail, the identity and the fields it knows, and
 * ignores reserved bytes.  So it reads a minor-1 slot exactly as the 1.0
 * slot of the same fields if the two differ only in the minor, in bytes
 * 1.0 reserved and in the CRC - shown here byte for byte against the 1.0
 * golden image that reader's own encoder wrote.
 */
static void test_hb_minor1_old_reader(void **state)
{
	static const uint32_t sizes[] = { 512, 4096 };
	uint8_t sector[SECTOR_MAX], old[SECTOR_MAX];
	struct sdlm_hb hb;
	size_t i, b;

	(void)state;
	for (i = 0; i < 2; i++) {
		read_hb_image("1.0", sizes[i], old);
		fixed_hb(&hb);
		assert_int_equal(hb_out(&hb, uuid_a, sector, sizes[i]), 0);
		assert_int_equal(get_le32(sector + 8) & 0xffff, SDLM_ONDISK_MAJOR);
		for (b = 0; b < sizes[i]; b++) {
			bool minor = b == 10 || b == 11;
			bool reserved_in_10 = b >= 152 && b < SDLM_RECORD_CRC_OFFSET;
			bool crc = b >= SDLM_RECORD_CRC_OFFSET && b < SDLM_RECORD_SIZE;

			if (!minor && !reserved_in_10 && !crc && sector[b] != old[b])
				fail_msg("byte %zu differs from the 1.0 image", b);
		}
	}
}

/*
 * What every reader of the header checked before the incompatible
 * features (format 1.0, fence/ondisk.c since a5ec514, and every build
 * before this one): magic, major == 1, CRC.  It never looked at the
 * flags word.
 */
static bool reader_1_0_accepts_hdr(const uint8_t *sector)
{
	return !memcmp(sector, "SDLMHDR", 8) && get_le32(sector + 8) % 65536 == 1 &&
	       get_le32(sector + SDLM_RECORD_CRC_OFFSET) == crc32c(0, sector, SDLM_RECORD_CRC_OFFSET);
}

/*
 * Grow review, hole 1 (failed before the fix: the header of a grown area
 * was written major 1 with its flags ignored, so a daemon that does not
 * follow the chain of UID tables used the area, looked for mailboxes in
 * table 0 only and created one again there: UIDs twice).  The header of
 * an area with the UID_CHAIN feature is major 2: the 1.0 rule refuses
 * it; a feature this reader does not know refuses it too; an area with
 * no feature stays major 1 (readable by every 1.x reader).
 */
static void test_hdr_features(void **state)
{
	static const uint32_t sizes[] = { 512, 4096 };
	uint8_t sector[SECTOR_MAX];
	struct sdlm_header h, out;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		fixed_header(&h, sizes[i]);
		assert_int_equal(hdr_out(&h, sector, sizes[i]), 0);
		assert_true(reader_1_0_accepts_hdr(sector));
		assert_int_equal(hdr_in(&out, sector, sizes[i]), 0);
		assert_int_equal(out.flags, 0);

		h.flags = SDLM_HDR_F_UID_CHAIN;
		assert_int_equal(hdr_out(&h, sector, sizes[i]), 0);
		assert_false(reader_1_0_accepts_hdr(sector));
		assert_int_equal(get_le32(sector + 8) % 65536, 2);
		assert_int_equal(get_le32(sector + 12), SDLM_HDR_F_UID_CHAIN);
		assert_int_equal(hdr_in(&out, sector, sizes[i]), 0);
		assert_int_equal(out.major, 2);
		assert_int_equal(out.flags, SDLM_HDR_F_UID_CHAIN);

		/* a feature this reader does not know: refused, like major 2
		 * by a 1.x reader */
		put_le32(sector + 12, SDLM_HDR_F_UID_CHAIN | 0x80000000u);
		reseal(sector);
		assert_int_equal(hdr_in(&out, sector, sizes[i]), SDLM_EVERSION);
		assert_int_equal(out.sector_size, 0);
		put_le32(sector + 12, 0x4);
		reseal(sector);
		assert_int_equal(hdr_in(&out, sector, sizes[i]), SDLM_EVERSION);
		/* UID_SEGLOCK (docs/uid.md, "The table lock"): known, alone
		 * or with UID_CHAIN; a reader of the release before it
		 * (which knew UID_CHAIN only) refused 0x2 just above */
		put_le32(sector + 12, SDLM_HDR_F_UID_SEGLOCK);
		reseal(sector);
		assert_int_equal(hdr_in(&out, sector, sizes[i]), 0);
		assert_int_equal(out.flags, SDLM_HDR_F_UID_SEGLOCK);
		assert_false(reader_1_0_accepts_hdr(sector));
		put_le32(sector + 12, SDLM_HDR_F_UID_CHAIN | SDLM_HDR_F_UID_SEGLOCK);
		reseal(sector);
		assert_int_equal(hdr_in(&out, sector, sizes[i]), 0);
		assert_int_equal(out.flags, SDLM_HDR_F_UID_CHAIN | SDLM_HDR_F_UID_SEGLOCK);
		/* never written: major 2 without a feature */
		put_le32(sector + 12, 0);
		reseal(sector);
		assert_int_equal(hdr_in(&out, sector, sizes[i]), -EUCLEAN);
		/* major 1 defines no flag: whatever is there reads as none */
		put_le16(sector + 8, 1);
		put_le32(sector + 12, SDLM_HDR_F_UID_CHAIN);
		reseal(sector);
		assert_int_equal(hdr_in(&out, sector, sizes[i]), 0);
		assert_int_equal(out.flags, 0);
		/* an encoder never writes a feature it does not know */
		h.flags = 0x4;
		assert_int_equal(hdr_out(&h, sector, sizes[i]), -EINVAL);
	}
}

/* A minor-1 version is 0..31 printable characters, a NUL, zeros. */
static void test_hb_version_sanity(void **state)
{
	static const char *const bad[] = {
		"1.2\n3",			/* a control character */
		"1.2\x7f",			/* DEL */
		"\xc3\xa9t\xc3\xa9",		/* not ASCII */
	};
	uint8_t sector[SECTOR_MAX];
	struct sdlm_hb hb, out;
	size_t i;

	(void)state;
	/* no NUL in 32 bytes */
	fixed_hb(&hb);
	assert_int_equal(hb_out(&hb, uuid_a, sector, 512), 0);
	memset(sector + 152, 'v', SDLM_VERSION_LEN);
	reseal(sector);
	assert_int_equal(hb_in(&out, sector, 512, uuid_a, 7), -EUCLEAN);
	memset(hb.version, 'v', SDLM_VERSION_LEN);
	assert_int_equal(hb_out(&hb, uuid_a, sector, 512), -EINVAL);
	/* garbage after the NUL */
	fixed_hb(&hb);
	assert_int_equal(hb_out(&hb, uuid_a, sector, 512), 0);
	sector[152 + 20] = 'x';
	reseal(sector);
	assert_int_equal(hb_in(&out, sector, 512, uuid_a, 7), -EUCLEAN);
	hb.version[20] = 'x';
	assert_int_equal(hb_out(&hb, uuid_a, sector, 512), -EINVAL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fixed_hb(&hb);
		assert_int_equal(hb_out(&hb, uuid_a, sector, 512), 0);
		memset(sector + 152, 0, SDLM_VERSION_LEN);
		memcpy(sector + 152, bad[i], strlen(bad[i]));
		reseal(sector);
		assert_int_equal(hb_in(&out, sector, 512, uuid_a, 7), -EUCLEAN);
		memset(hb.version, 0, SDLM_VERSION_LEN);
		memcpy(hb.version, bad[i], strlen(bad[i]));
		assert_int_equal(hb_out(&hb, uuid_a, sector, 512), -EINVAL);
	}
	/* 31 characters is the longest; "" (unknown) is fine */
	fixed_hb(&hb);
	memset(hb.version, 'a', SDLM_VERSION_LEN - 1);
	assert_int_equal(hb_out(&hb, uuid_a, sector, 512), 0);
	assert_int_equal(hb_in(&out, sector, 512, uuid_a, 7), 0);
	assert_int_equal(strlen(out.version), SDLM_VERSION_LEN - 1);
	memset(hb.version, 0, SDLM_VERSION_LEN);
	assert_int_equal(hb_out(&hb, uuid_a, sector, 512), 0);
	assert_int_equal(hb_in(&out, sector, 512, uuid_a, 7), 0);
	assert_string_equal(out.version, "");
	assert_int_equal(out.minor, SDLM_HB_MINOR);
}

/* ---- heartbeat minor 2: the hand-off areas ---- */

/*
 * Backward: a minor-2 reader reads the slot of a minor-1 writer
 * (tests/golden/hb-1.1-*.bin, the images of minor 1 as they were) with
 * every field as before and no request, no answer; the bytes where
 * minor 2 keeps its areas are reserved in minor 1 and never read,
 * whatever they hold (here: junk that breaks every hand-off rule).
 */
static void test_hb_minor1_reads(void **state)
{
	static const uint32_t sizes[] = { 512, 4096 };
	uint8_t sector[SECTOR_MAX];
	struct sdlm_hb want, out;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		read_hb_image("1.1", sizes[i], sector);
		assert_int_equal(get_le32(sector + 8), SDLM_ONDISK_MAJOR | 1 << 16);
		fixed_hb(&want);
		hb_clear_handoff(&want);
		want.minor = 1;
		assert_int_equal(hb_in(&out, sector, sizes[i], uuid_a, 7), 0);
		assert_hb_equal(&out, &want);

		memset(sector + 184, 0xee, SDLM_RECORD_CRC_OFFSET - 184);
		reseal(sector);
		assert_int_equal(hb_in(&out, sector, sizes[i], uuid_a, 7), 0);
		assert_hb_equal(&out, &want);
		/* the same bytes in a minor-2 record: refused */
		put_le16(sector + 10, 2);
		reseal(sector);
		assert_int_equal(hb_in(&out, sector, sizes[i], uuid_a, 7), -EUCLEAN);
	}
}

/*
 * Forward: a reader of minor 1 checks the magic, the major, the CRC, the
 * tail, the identity and the fields it knows (offsets below 184), and
 * ignores reserved bytes.  A minor-2 slot with both areas in use differs
 * from the minor-1 image of the same fields only in the minor, in bytes
 * 184..507 (reserved in minor 1) and in the CRC - byte for byte against
 * the minor-1 golden image that reader's own encoder wrote - so that
 * reader decodes every field it knows as before and ignores the areas.
 */
static void test_hb_minor2_old_reader(void **state)
{
	static const uint32_t sizes[] = { 512, 4096 };
	uint8_t sector[SECTOR_MAX], old[SECTOR_MAX];
	struct sdlm_hb hb;
	size_t i, b;

	(void)state;
	for (i = 0; i < 2; i++) {
		read_hb_image("1.1", sizes[i], old);
		fixed_hb(&hb);
		assert_int_not_equal(hb.req[0].lkid, 0);	/* areas in use */
		assert_int_not_equal(hb.ans_count, 0);
		assert_int_equal(hb_out(&hb, uuid_a, sector, sizes[i]), 0);
		assert_int_equal(get_le32(sector + 8), SDLM_ONDISK_MAJOR | 2 << 16);
		assert_false(buf_is_zero(sector, 184, 496));
		for (b = 0; b < sizes[i]; b++) {
			bool minor = b == 10 || b == 11;
			bool reserved_in_11 = b >= 184 && b < SDLM_RECORD_CRC_OFFSET;
			bool crc = b >= SDLM_RECORD_CRC_OFFSET && b < SDLM_RECORD_SIZE;

			if (!minor && !reserved_in_11 && !crc && sector[b] != old[b])
				fail_msg("byte %zu differs from the minor-1 image", b);
		}
	}
}

/* The test's own encoder of the areas: what hb_out would write, unchecked. */
static void put_handoff(uint8_t *sector, const struct sdlm_hb *hb)
{
	int i;

	put_le64(sector + 184, hb->req_seq);
	for (i = 0; i < SDLM_HB_REQ_MAX; i++) {
		put_le64(sector + 192 + 16 * i, hb->req[i].lkid);
		put_le64(sector + 200 + 16 * i, hb->req[i].target_incarnation);
	}
	put_le64(sector + 320, hb->ans_seq);
	put_le32(sector + 328, hb->ans_count);
	put_le32(sector + 332, hb->ans_lvb);
	for (i = 0; i < SDLM_HB_ANS_MAX; i++) {
		put_le64(sector + 336 + 40 * i, hb->ans[i].lkid);
		memcpy(sector + 344 + 40 * i, hb->ans[i].lvb, SDLM_HB_LVB_LEN);
	}
	reseal(sector);
}

/* hb_out refuses hb with -EINVAL, and its bytes on disk read -EUCLEAN. */
static void expect_handoff_insane(const struct sdlm_hb *hb, const char *what)
{
	uint8_t sector[512];
	struct sdlm_hb good, out;

	if (hb_out(hb, uuid_a, sector, 512) != -EINVAL)
		fail_msg("hb_out wrote an insane area (%s)", what);
	fixed_hb(&good);
	assert_int_equal(hb_out(&good, uuid_a, sector, 512), 0);
	put_handoff(sector, hb);
	if (hb_in(&out, sector, 512, uuid_a, 7) != -EUCLEAN)
		fail_msg("hb_in read an insane area (%s)", what);
}

/* Both directions accept hb and the areas round-trip. */
static void expect_handoff_sane(const struct sdlm_hb *hb)
{
	uint8_t sector[512];
	struct sdlm_hb out;

	assert_int_equal(hb_out(hb, uuid_a, sector, 512), 0);
	assert_int_equal(hb_in(&out, sector, 512, uuid_a, 7), 0);
	assert_hb_equal(&out, hb);
	fixed_hb(&out);
	assert_int_equal(hb_out(&out, uuid_a, sector, 512), 0);
	put_handoff(sector, hb);
	assert_int_equal(hb_in(&out, sector, 512, uuid_a, 7), 0);
	assert_hb_equal(&out, hb);
}

/* Rules H1-H7 of ondisk.h, each one way to break it, both directions. */
static void test_hb_handoff_sanity(void **state)
{
	struct sdlm_hb hb;
	int i;

	(void)state;
	fixed_hb(&hb);
	expect_handoff_sane(&hb);
	/* the areas empty, and never written */
	hb_clear_handoff(&hb);
	expect_handoff_sane(&hb);
	/* emptied again after use: seq stays */
	hb.req_seq = 9;
	hb.ans_seq = 4;
	expect_handoff_sane(&hb);
	/* full: 8 requests (node 1 and node 255 included), 4 answers, all
	 * with their value block */
	fixed_hb(&hb);
	for (i = 0; i < SDLM_HB_REQ_MAX; i++) {
		hb.req[i].lkid = LKID(i == 7 ? 255 : i + 1 + (i >= 6), 0xffffffffu - i);
		hb.req[i].target_incarnation = 1 + i;
	}
	hb.ans_count = SDLM_HB_ANS_MAX;
	hb.ans_lvb = 0xf;
	for (i = 0; i < SDLM_HB_ANS_MAX; i++) {
		hb.ans[i].lkid = LKID(7, 10 + i);
		memset(hb.ans[i].lvb, 0xff - i, SDLM_HB_LVB_LEN);
	}
	expect_handoff_sane(&hb);

	/* H1: a request after an empty entry; an empty entry not all zero */
	fixed_hb(&hb);
	hb.req[0].lkid = 0;
	hb.req[0].target_incarnation = 0;
	expect_handoff_insane(&hb, "request after an empty entry");
	fixed_hb(&hb);
	hb.req[5].target_incarnation = 1;
	expect_handoff_insane(&hb, "empty entry with an incarnation");
	/* H2: node 0, node 256, the slot's own node, incarnation 0 */
	fixed_hb(&hb);
	hb.req[1].lkid = 0x77;
	expect_handoff_insane(&hb, "request naming node 0");
	fixed_hb(&hb);
	hb.req[1].lkid = LKID(256, 1);
	expect_handoff_insane(&hb, "request naming node 256");
	fixed_hb(&hb);
	hb.req[1].lkid = LKID(7, 1);
	expect_handoff_insane(&hb, "request naming its own writer");
	fixed_hb(&hb);
	hb.req[1].target_incarnation = 0;
	expect_handoff_insane(&hb, "request for incarnation 0");
	/* H3: requests, yet "never written" */
	fixed_hb(&hb);
	hb.req_seq = 0;
	expect_handoff_insane(&hb, "requests with req_seq 0");
	/* H4: too many answers; an entry at or after ans_count not zero */
	fixed_hb(&hb);
	hb.ans_count = SDLM_HB_ANS_MAX + 1;
	expect_handoff_insane(&hb, "ans_count 5");
	fixed_hb(&hb);
	hb.ans[2].lkid = LKID(7, 9);
	expect_handoff_insane(&hb, "answer entry past ans_count");
	fixed_hb(&hb);
	hb.ans[3].lvb[31] = 1;
	expect_handoff_insane(&hb, "value block past ans_count");
	/* H5: an answer for another node's grant, or lkid 0 */
	fixed_hb(&hb);
	hb.ans[1].lkid = LKID(2, 4);
	expect_handoff_insane(&hb, "answer naming another node");
	fixed_hb(&hb);
	hb.ans[1].lkid = 0;
	expect_handoff_insane(&hb, "answer entry 0 below ans_count");
	/* H6: a valid bit at or above ans_count; a value block without it */
	fixed_hb(&hb);
	hb.ans_lvb = 0x5;
	expect_handoff_insane(&hb, "lvb bit past ans_count");
	fixed_hb(&hb);
	hb.ans_lvb = 0x80000000u;
	expect_handoff_insane(&hb, "lvb bit 31");
	fixed_hb(&hb);
	hb.ans[1].lvb[0] = 1;
	expect_handoff_insane(&hb, "value block without its bit");
	/* H7: answers, yet "never written" */
	fixed_hb(&hb);
	hb.ans_seq = 0;
	expect_handoff_insane(&hb, "answers with ans_seq 0");
}

/* ---- a later minor (review s25-rev2, "future minors") ---- */

/*
 * A record of a minor above ours (SDLM_HB_MINOR).  The promise (docs/
 * ondisk.md, "Versioning"): a minor only adds fields in reserved bytes,
 * so its writer keeps the rules of the fields we know, and a reader
 * accepts any minor of its major, never requiring reserved bytes zero.
 * Read: a sane record of minor 3 whose last reserved bytes (496..507)
 * carry data reads as minor 2 does.  If a field we would act on breaks
 * our rules anyway (the areas' H1-H7, the version's characters), we
 * cannot tell what it means: it reads as absent - areas empty (no
 * request, no answer: as from a writer before them, which is fenced as
 * before), version "" - and the rest of the record is read.  On the old
 * code the whole slot was refused (-EUCLEAN): a live node looked dead-
 * silent to every older reader, and its acknowledgement of a pill could
 * not be read, so a fence of it could never end.  A record of our own
 * minor that breaks them is still refused.
 */
static void put_minor(uint8_t *sector, uint16_t minor)
{
	put_le16(sector + 10, minor);
	reseal(sector);
}

static void test_hb_later_minor(void **state)
{
	uint8_t sector[512];
	struct sdlm_hb hb, out, want;

	(void)state;
	/* Sane, with data in what minor 2 still reserves: read as is. */
	fixed_hb(&hb);
	assert_int_equal(hb_out(&hb, uuid_a, sector, 512), 0);
	memset(sector + 496, 0xa5, 12);
	put_minor(sector, SDLM_HB_MINOR + 1);
	assert_int_equal(hb_in(&out, sector, 512, uuid_a, 7), 0);
	assert_int_equal(out.minor, SDLM_HB_MINOR + 1);
	want = hb;
	want.minor = SDLM_HB_MINOR + 1;
	assert_hb_equal(&out, &want);

	/* Areas that break H4 (five answers) and H2 (a request to itself):
	 * read as empty, everything else as written. */
	fixed_hb(&hb);
	assert_int_equal(hb_out(&hb, uuid_a, sector, 512), 0);
	hb.ans_count = SDLM_HB_ANS_MAX + 1;
	hb.req[1].lkid = LKID(7, 1);
	put_handoff(sector, &hb);
	put_minor(sector, SDLM_HB_MINOR + 1);
	assert_int_equal(hb_in(&out, sector, 512, uuid_a, 7), 0);
	fixed_hb(&want);
	hb_clear_handoff(&want);
	want.minor = SDLM_HB_MINOR + 1;
	assert_hb_equal(&out, &want);
	assert_int_equal(out.ack_cmd, MSG_RESET);
	assert_int_equal(out.ack_seq, 41);
	/* The same bytes at our own minor: refused. */
	put_minor(sector, SDLM_HB_MINOR);
	assert_int_equal(hb_in(&out, sector, 512, uuid_a, 7), -EUCLEAN);

	/* A version that is not printable: "" (unknown), the areas kept. */
	fixed_hb(&hb);
	assert_int_equal(hb_out(&hb, uuid_a, sector, 512), 0);
	sector[152] = 0x07;
	put_minor(sector, 0xffff);
	assert_int_equal(hb_in(&out, sector, 512, uuid_a, 7), 0);
	want = hb;
	want.minor = 0xffff;
	memset(want.version, 0, sizeof(want.version));
	assert_hb_equal(&out, &want);
	put_minor(sector, SDLM_HB_MINOR);
	assert_int_equal(hb_in(&out, sector, 512, uuid_a, 7), -EUCLEAN);

	/* What no minor may change stays refused: a state, an ack command
	 * this reader does not know. */
	fixed_hb(&hb);
	assert_int_equal(hb_out(&hb, uuid_a, sector, 512), 0);
	put_le32(sector + 20, HB_STATE_MAX + 1);
	put_minor(sector, SDLM_HB_MINOR + 1);
	assert_int_equal(hb_in(&out, sector, 512, uuid_a, 7), -EUCLEAN);
}

/* ---- heartbeat flags (issue 19 item 3) ---- */

/*
 * LAPSE_FENCES, bit 0 of the heartbeat's flags word: the writer fences
 * itself on a lapsed lease, quorate or not.  Golden images hb-flags-*.bin
 * (fixed_hb with the flag, as this build writes every heartbeat).
 * Old readers: every hb_in since 1.0 copies the flags word and checks
 * nothing about it, so a record with the flag is, to them, the record
 * without it: the two differ in the flags word and the CRC only.  Old
 * writers wrote 0: their records (the 1.0 and 1.1 images) read as "no
 * flag".  A bit this reader does not know is kept, not refused (a later
 * flag is a compatible addition, docs/ondisk.md).
 */
static void test_hb_flags(void **state)
{
	static const uint32_t sizes[] = { 512, 4096 };
	uint8_t sector[SECTOR_MAX], plain[SECTOR_MAX];
	struct sdlm_hb hb, out;
	char name[32];
	size_t i, b;

	(void)state;
	for (i = 0; i < 2; i++) {
		fixed_hb(&hb);
		assert_int_equal(hb_out(&hb, uuid_a, plain, sizes[i]), 0);
		hb.flags = SDLM_HB_F_LAPSE_FENCES;
		assert_int_equal(hb_out(&hb, uuid_a, sector, sizes[i]), 0);
		snprintf(name, sizeof(name), "hb-flags-%u.bin", sizes[i]);
		golden_check(name, sector, sizes[i]);
		assert_int_equal(get_le32(sector + 12), SDLM_HB_F_LAPSE_FENCES);
		assert_int_equal(hb_in(&out, sector, sizes[i], uuid_a, 7), 0);
		assert_int_equal(out.flags, SDLM_HB_F_LAPSE_FENCES);
		assert_hb_equal(&out, &hb);
		for (b = 0; b < sizes[i]; b++) {
			bool flags = b >= 12 && b < 16;
			bool crc = b >= SDLM_RECORD_CRC_OFFSET && b < SDLM_RECORD_SIZE;

			if (!flags && !crc && sector[b] != plain[b])
				fail_msg("byte %zu differs from the record without the flag", b);
		}

		/* Older writers: no flag. */
		read_hb_image("1.0", sizes[i], sector);
		assert_int_equal(hb_in(&out, sector, sizes[i], uuid_a, 7), 0);
		assert_int_equal(out.flags & SDLM_HB_F_LAPSE_FENCES, 0);
		read_hb_image("1.1", sizes[i], sector);
		assert_int_equal(hb_in(&out, sector, sizes[i], uuid_a, 7), 0);
		assert_int_equal(out.flags & SDLM_HB_F_LAPSE_FENCES, 0);

		/* NO_WATCHDOG, bit 1 (review s25-rev2): a daemon run with
		 * no_watchdog = yes; golden images hb-nowd-*.bin.  To an
		 * older reader the record without it: flags and CRC only. */
		fixed_hb(&hb);
		hb.flags = SDLM_HB_F_LAPSE_FENCES | SDLM_HB_F_NO_WATCHDOG;
		assert_int_equal(hb_out(&hb, uuid_a, sector, sizes[i]), 0);
		snprintf(name, sizeof(name), "hb-nowd-%u.bin", sizes[i]);
		golden_check(name, sector, sizes[i]);
		assert_int_equal(get_le32(sector + 12), 0x3);
		assert_int_equal(hb_in(&out, sector, sizes[i], uuid_a, 7), 0);
		assert_int_equal(out.flags, SDLM_HB_F_LAPSE_FENCES | SDLM_HB_F_NO_WATCHDOG);
		for (b = 0; b < sizes[i]; b++) {
			bool flags = b >= 12 && b < 16;
			bool crc = b >= SDLM_RECORD_CRC_OFFSET && b < SDLM_RECORD_SIZE;

			if (!flags && !crc && sector[b] != plain[b])
				fail_msg("byte %zu differs from the record without the flags", b);
		}
		read_hb_image("1.1", sizes[i], sector);
		assert_int_equal(hb_in(&out, sector, sizes[i], uuid_a, 7), 0);
		assert_int_equal(out.flags & SDLM_HB_F_NO_WATCHDOG, 0);

		/* A later flag: kept. */
		fixed_hb(&hb);
		hb.flags = SDLM_HB_F_LAPSE_FENCES | 0x80000000u;
		assert_int_equal(hb_out(&hb, uuid_a, sector, sizes[i]), 0);
		assert_int_equal(hb_in(&out, sector, sizes[i], uuid_a, 7), 0);
		assert_int_equal(out.flags, SDLM_HB_F_LAPSE_FENCES | 0x80000000u);
	}
}

/* ---- golden images ---- */

static void test_golden(void **state)
{
	static const uint32_t sizes[] = { 512, 4096 };
	uint8_t sector[SECTOR_MAX];
	struct sdlm_header h, h2;
	struct sdlm_hb hb, hb2;
	struct sdlm_msg msg, msg2;
	char name[32];
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		fixed_header(&h, sizes[i]);
		h.uid_area_start = 33;
		h.uid_area_sectors = 4096;
		assert_int_equal(hdr_out(&h, sector, sizes[i]), 0);
		snprintf(name, sizeof(name), "hdr-%u.bin", sizes[i]);
		golden_check(name, sector, sizes[i]);
		assert_int_equal(hdr_in(&h2, sector, sizes[i]), 0);
		assert_header_equal(&h2, &h);

		fixed_hb(&hb);
		assert_int_equal(hb_out(&hb, uuid_a, sector, sizes[i]), 0);
		snprintf(name, sizeof(name), "hb-%u.bin", sizes[i]);
		golden_check(name, sector, sizes[i]);
		assert_int_equal(hb_in(&hb2, sector, sizes[i], uuid_a, 7), 0);
		assert_hb_equal(&hb2, &hb);

		fixed_msg(&msg);
		assert_int_equal(msg_out(&msg, uuid_a, sector, sizes[i]), 0);
		snprintf(name, sizeof(name), "msg-%u.bin", sizes[i]);
		golden_check(name, sector, sizes[i]);
		assert_int_equal(msg_in(&msg2, sector, sizes[i], uuid_a, 7), 0);
		assert_msg_equal(&msg2, &msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_known_answers),
		cmocka_unit_test(test_crc32c_matches_bitwise),
		cmocka_unit_test(test_hdr_round_trip),
		cmocka_unit_test(test_hb_round_trip),
		cmocka_unit_test(test_msg_round_trip),
		cmocka_unit_test(test_hb_out_stamps_uuid),
		cmocka_unit_test(test_corruption_common),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_insane_values),
		cmocka_unit_test(test_name_garbage_after_nul),
		cmocka_unit_test(test_out_refuses_insane),
		cmocka_unit_test(test_layout_arithmetic),
		cmocka_unit_test(test_area_image),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_uuid_text),
		cmocka_unit_test(test_hb_minor0_reads),
		cmocka_unit_test(test_hb_minor1_old_reader),
		cmocka_unit_test(test_hb_version_sanity),
		cmocka_unit_test(test_hb_minor1_reads),
		cmocka_unit_test(test_hb_minor2_old_reader),
		cmocka_unit_test(test_hb_handoff_sanity),
		cmocka_unit_test(test_hb_later_minor),
		cmocka_unit_test(test_hdr_features),
		cmocka_unit_test(test_hb_flags),
		cmocka_unit_test(test_golden),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
