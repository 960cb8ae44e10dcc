/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_ondisk.c - libFuzzer target for the fencing-area records
 * (fence/ondisk.c: hdr_in, hb_in, msg_in).
 *
 * Input layout (so that the fuzzer controls the identity checks too):
 *
 *	offset  size  field
 *	     0     1  ctl: bits 0-1 record kind (0 header, 1 heartbeat,
 *	              2 message, 3 = header), bit 2 "fix the CRC": the harness
 *	              rewrites bytes 508..511 of the sector with the CRC32C of
 *	              bytes 0..507 before decoding, so the fuzzer reaches the
 *	              checks that come after the checksum (a valid CRC does not
 *	              make a record sane)
 *	     1    16  expected cluster uuid (hb_in, msg_in)
 *	    17     1  expected node id (0 is legal input: -EINVAL expected)
 *	    18     *  the sector, any length (short buffers included)
 *
 * Properties checked, besides "no crash, no out-of-bounds read":
 *   - on error the output struct is all zero (the documented contract);
 *   - a record that decodes re-encodes (*_out refuses only what *_in
 *     refuses) and the re-encoding decodes to the same fields (a
 *     heartbeat of any minor re-encodes at SDLM_HB_MINOR: a minor-0
 *     slot's version is "" either way, a minor-0/1 slot's hand-off areas
 *     empty).  One
 *     known asymmetry is skipped: hb_in/msg_in accept an all-zero
 *     expected uuid (and so a record carrying it), hb_out/msg_out refuse
 *     it; callers always pass the header's uuid, which hdr_in never
 *     returns nil (regress/fuzz_ondisk/nil-uuid-hb, docs/bad-inputs.md).
 *
 * --gen-corpus DIR [GOLDEN_DIR] writes seeds (valid records of each kind
 * and sector size, and the golden images wrapped in the layout above)
 * and exits; it runs before libFuzzer parses its own flags.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdlm.h"
#include "crc32c.h"
#include "fuzzseed.h"
#include "ondisk.h"

#define PFX_LEN		18
#define CTL_KIND	0x3u
#define CTL_FIXCRC	0x4u

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

static int uuid_nil(const uint8_t *uuid)
{
	return all_zero(uuid, SDLM_UUID_LEN);
}

static void check_hdr(const uint8_t *sec, size_t len)
{
	struct sdlm_header h, h2;
	uint8_t *buf;
	int rv;

	rv = hdr_in(&h, sec, len);
	if (rv) {
		if (!all_zero(&h, sizeof(h)))
			abort();
		return;
	}
	buf = malloc(h.sector_size);
	if (!buf)
		return;
	if (hdr_out(&h, buf, h.sector_size) != 0)
		abort();
	if (hdr_in(&h2, buf, h.sector_size) != 0)
		abort();
	if (h2.flags != h.flags || h2.sector_size != h.sector_size ||
	    h2.num_nodes != h.num_nodes ||
	    h2.io_timeout_ms != h.io_timeout_ms ||
	    h2.hb_interval_ms != h.hb_interval_ms ||
	    h2.watchdog_timeout_ms != h.watchdog_timeout_ms ||
	    h2.create_time != h.create_time ||
	    h2.uid_area_start != h.uid_area_start ||
	    h2.uid_area_sectors != h.uid_area_sectors ||
	    memcmp(h2.uuid, h.uuid, SDLM_UUID_LEN) ||
	    strcmp(h2.cluster_name, h.cluster_name) ||
	    strcmp(h2.create_host, h.create_host))
		abort();
	free(buf);
}

static void check_hb(const uint8_t *sec, size_t len, const uint8_t *uuid,
		     uint32_t node)
{
	struct sdlm_hb hb, hb2;
	uint8_t buf[SDLM_SECTOR_SIZE_MAX];
	size_t n = len <= 512 ? 512 : SDLM_SECTOR_SIZE_MAX;
	int rv;

	rv = hb_in(&hb, sec, len, uuid, node);
	if (rv) {
		if (!all_zero(&hb, sizeof(hb)))
			abort();
		return;
	}
	if (uuid_nil(uuid))
		return;
	if (hb_out(&hb, uuid, buf, n) != 0)
		abort();
	if (hb_in(&hb2, buf, n, uuid, node) != 0)
		abort();
	if (hb2.flags != hb.flags || hb2.node_id != hb.node_id ||
	    hb2.state != hb.state || hb2.counter != hb.counter ||
	    hb2.incarnation != hb.incarnation ||
	    hb2.ack_cmd != hb.ack_cmd || hb2.ack_seq != hb.ack_seq ||
	    hb2.ack_incarnation != hb.ack_incarnation ||
	    hb2.hb_interval_ms != hb.hb_interval_ms ||
	    hb2.wall_time_ms != hb.wall_time_ms ||
	    strcmp(hb2.node_name, hb.node_name) ||
	    memcmp(hb2.version, hb.version, SDLM_VERSION_LEN) ||
	    hb2.req_seq != hb.req_seq ||
	    memcmp(hb2.req, hb.req, sizeof(hb.req)) ||
	    hb2.ans_seq != hb.ans_seq || hb2.ans_count != hb.ans_count ||
	    hb2.ans_lvb != hb.ans_lvb ||
	    memcmp(hb2.ans, hb.ans, sizeof(hb.ans)) ||
	    hb2.minor != SDLM_HB_MINOR ||
	    memcmp(hb2.uuid, hb.uuid, SDLM_UUID_LEN))
		abort();
}

static void check_msg(const uint8_t *sec, size_t len, const uint8_t *uuid,
		      uint32_t node)
{
	struct sdlm_msg m, m2;
	uint8_t buf[SDLM_SECTOR_SIZE_MAX];
	size_t n = len <= 512 ? 512 : SDLM_SECTOR_SIZE_MAX;
	int rv;

	rv = msg_in(&m, sec, len, uuid, node);
	if (rv) {
		if (!all_zero(&m, sizeof(m)))
			abort();
		return;
	}
	if (uuid_nil(uuid))
		return;
	if (msg_out(&m, uuid, buf, n) != 0)
		abort();
	if (msg_in(&m2, buf, n, uuid, node) != 0)
		abort();
	if (m2.flags != m.flags || m2.node_id != m.node_id ||
	    m2.cmd != m.cmd || m2.seq != m.seq ||
	    m2.target_incarnation != m.target_incarnation ||
	    m2.from_node != m.from_node || m2.wall_time_ms != m.wall_time_ms)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *sec;
	size_t len;
	uint32_t crc;

	if (size < PFX_LEN)
		return 0;
	len = size - PFX_LEN;
	/* An exact-size copy: ASan sees any read past the sector. */
	sec = malloc(len ? len : 1);
	if (!sec)
		return 0;
	memcpy(sec, data + PFX_LEN, len);
	if ((data[0] & CTL_FIXCRC) && len >= SDLM_RECORD_SIZE) {
		crc = crc32c(0, sec, SDLM_RECORD_CRC_OFFSET);
		sec[508] = crc & 0xff;
		sec[509] = (crc >> 8) & 0xff;
		sec[510] = (crc >> 16) & 0xff;
		sec[511] = crc >> 24;
	}
	switch (data[0] & CTL_KIND) {
	case 1:
		check_hb(sec, len, data + 1, data[17]);
		break;
	case 2:
		check_msg(sec, len, data + 1, data[17]);
		break;
	default:
		check_hdr(sec, len);
		break;
	}
	free(sec);
	return 0;
}

/* ---- seed corpus ---- */

static int seed_write(const char *dir, const char *name, uint8_t ctl,
		      const uint8_t *uuid, uint8_t node, const void *sec,
		      size_t len)
{
	struct fuzzseed s;

	if (fuzzseed_open(&s, dir, name, NULL))
		return -1;
	fuzzseed_put8(&s, ctl);
	fuzzseed_put(&s, uuid, SDLM_UUID_LEN);
	fuzzseed_put8(&s, node);
	fuzzseed_put(&s, sec, len);
	return fuzzseed_close(&s);
}

static size_t file_read(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static int gen_golden(const char *dir, const char *golden)
{
	static const char *const sizes[] = { "512", "4096" };
	/* heartbeat images: this minor's, minor 1's and format 1.0's (minor 0) */
	static const char *const hb_versions[] = { "", "1.1-", "1.0-" };
	uint8_t buf[SDLM_SECTOR_SIZE_MAX];
	struct sdlm_header h;
	struct sdlm_hb hb;
	struct sdlm_msg m;
	char path[4096], name[64];
	size_t n;
	unsigned i, v, node;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/hdr-%s.bin", golden, sizes[i]);
		n = file_read(path, buf, sizeof(buf));
		if (!n || hdr_in(&h, buf, n) != 0)
			return -1;
		snprintf(name, sizeof(name), "golden-hdr-%s", sizes[i]);
		if (seed_write(dir, name, 0, h.uuid, 0, buf, n))
			return -1;
		for (v = 0; v < 3; v++) {
			snprintf(path, sizeof(path), "%s/hb-%s%s.bin", golden,
				 hb_versions[v], sizes[i]);
			n = file_read(path, buf, sizeof(buf));
			for (node = 1; node <= SDLM_MAX_NODES; node++)
				if (hb_in(&hb, buf, n, h.uuid, node) == 0)
					break;
			snprintf(name, sizeof(name), "golden-hb-%s%s",
				 hb_versions[v], sizes[i]);
			if (node > SDLM_MAX_NODES ||
			    seed_write(dir, name, 1, h.uuid, node, buf, n))
				return -1;
		}
		snprintf(path, sizeof(path), "%s/msg-%s.bin", golden, sizes[i]);
		n = file_read(path, buf, sizeof(buf));
		for (node = 1; node <= SDLM_MAX_NODES; node++)
			if (msg_in(&m, buf, n, h.uuid, node) == 0)
				break;
		snprintf(name, sizeof(name), "golden-msg-%s", sizes[i]);
		if (node > SDLM_MAX_NODES ||
		    seed_write(dir, name, 2, h.uuid, node, buf, n))
			return -1;
	}
	return 0;
}

static int gen_corpus(const char *dir, const char *golden)
{
	uint8_t buf[SDLM_SECTOR_SIZE_MAX];
	struct sdlm_header h;
	struct sdlm_hb hb;
	struct sdlm_msg m;
	size_t ss;
	char name[64];

	for (ss = 512; ss <= 4096; ss *= 8) {
		memset(&h, 0, sizeof(h));
		h.sector_size = ss;
		h.num_nodes = 3;
		strcpy(h.cluster_name, "fuzz");
		memcpy(h.uuid, seed_uuid, SDLM_UUID_LEN);
		h.io_timeout_ms = 1000;
		h.hb_interval_ms = 1000;
		h.watchdog_timeout_ms = 5000;
		h.uid_area_start = 7;
		h.uid_area_sectors = 64;
		if (hdr_out(&h, buf, ss))
			return -1;
		snprintf(name, sizeof(name), "hdr-%zu", ss);
		if (seed_write(dir, name, 0, seed_uuid, 0, buf, ss))
			return -1;

		memset(&hb, 0, sizeof(hb));
		hb.node_id = 2;
		hb.state = HB_ALIVE;
		hb.counter = 41;
		hb.incarnation = 0x1122334455667788ull;
		hb.ack_cmd = MSG_RESET;
		hb.ack_seq = 3;
		hb.ack_incarnation = hb.incarnation;
		hb.hb_interval_ms = 1000;
		strcpy(hb.node_name, "node2");
		strcpy(hb.version, "0.9.0");
		hb.req_seq = 1;
		hb.req[0].lkid = (uint64_t)3 << 32 | 1;
		hb.req[0].target_incarnation = 0x99;
		hb.ans_seq = 1;
		hb.ans_count = 1;
		hb.ans_lvb = 1;
		hb.ans[0].lkid = (uint64_t)2 << 32 | 5;
		hb.ans[0].lvb[0] = 6;
		if (hb_out(&hb, seed_uuid, buf, ss))
			return -1;
		snprintf(name, sizeof(name), "hb-%zu", ss);
		if (seed_write(dir, name, 1, seed_uuid, 2, buf, ss))
			return -1;

		memset(&m, 0, sizeof(m));
		m.node_id = 2;
		m.cmd = MSG_RESET;
		m.seq = 3;
		m.target_incarnation = 0x1122334455667788ull;
		m.from_node = 1;
		if (msg_out(&m, seed_uuid, buf, ss))
			return -1;
		snprintf(name, sizeof(name), "msg-%zu", ss);
		if (seed_write(dir, name, 2, seed_uuid, 2, buf, ss))
			return -1;
	}
	return golden ? gen_golden(dir, golden) : 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (*argc >= 3 && strcmp((*argv)[1], "--gen-corpus") == 0)
		exit(gen_corpus((*argv)[2], *argc >= 4 ? (*argv)[3] : NULL) ?
		     1 : 0);
	return 0;
}
