/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_lssnap.c - libFuzzer target for the state transfer (dlm/core/lssnap.h:
 * lssnap_decode, lssnap_encode, lssnap_size): the lockspace's bookkeeping
 * followed by the lock state's snapshot.
 *
 * Input: one control byte, then the transfer's bytes.  Control bit 0 "fix
 * the CRC": when the input is at least 8 bytes the harness rewrites its
 * last 4 bytes with the CRC32C of the bytes from the snapshot's start
 * (found by its magic "SDLS" after the bookkeeping) up to them, so the
 * fuzzer reaches the snapshot's content checks too.
 *
 * Properties checked, besides "no crash, no out-of-bounds read, no leak":
 *   - a failed decode leaves the caller's book and state pointer exactly
 *     as they were (lssnap.h: nothing changes unless everything decoded);
 *   - a transfer that decodes re-encodes to exactly its own bytes, with
 *     lssnap_size() equal to the input length (one state, one encoding).
 *
 * --gen-corpus DIR [GOLDEN_DIR] writes transfers of pseudo-random but
 * fixed books and lock states, plus tests/golden/lssnap-sls3.bin and
 * lssnap-sls3-m2.bin (member records: lock state minor 2) when GOLDEN_DIR
 * is given, and exits.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdlm.h"
#include "crc32c.h"
#include "fuzzseed.h"
#include "lockstate.h"
#include "lssnap.h"

#define CTL_FIXCRC	0x1u
#define LKID(node, n)	(((uint64_t)(node) << 32) | (uint32_t)(n))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Reseal the snapshot behind the bookkeeping: its CRC is the last 4 bytes
 * and covers the snapshot from its magic on. */
static void fix_crc(uint8_t *buf, size_t len)
{
	static const uint8_t magic[4] = { 'S', 'D', 'L', 'S' };
	size_t i, start = 0;
	uint32_t crc;

	for (i = LSSNAP_HDR_LEN; i + 4 <= len; i += 4)
		if (memcmp(buf + i, magic, 4) == 0) {
			start = i;
			break;
		}
	if (!start || len - start < 8)
		return;
	crc = crc32c(0, buf + start, len - start - 4);
	buf[len - 4] = crc & 0xff;
	buf[len - 3] = (crc >> 8) & 0xff;
	buf[len - 2] = (crc >> 16) & 0xff;
	buf[len - 1] = crc >> 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lssnap_book book, before;
	struct ls_state *st = (struct ls_state *)&before, *st0 = st;
	uint8_t *buf, *enc = NULL;
	size_t len, n = 0;

	if (size < 1)
		return 0;
	len = size - 1;
	buf = malloc(len ? len : 1);	/* exact size for ASan */
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);
	if ((data[0] & CTL_FIXCRC) && len >= 8)
		fix_crc(buf, len);
	memset(&book, 0xa5, sizeof(book));
	memcpy(&before, &book, sizeof(book));
	if (lssnap_decode(buf, len, &book, &st) != 0) {
		if (st != st0 || memcmp(&book, &before, sizeof(book)) != 0)
			abort();
		goto out_free;
	}
	if (lssnap_size(&book, st) != len)
		abort();
	enc = malloc(len);
	if (!enc)
		goto out_destroy;
	if (lssnap_encode(&book, st, enc, len, &n) != 0 || n != len ||
	    memcmp(enc, buf, len) != 0)
		abort();
	free(enc);
out_destroy:
	ls_destroy(st);
out_free:
	free(buf);
	return 0;
}

/* ---- seed corpus ---- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

/* A sorted set of up to max ids out of 1..16. */
static size_t ids_random(uint32_t *ids, size_t max)
{
	size_t n = 0;
	uint32_t id;

	for (id = 1; id <= 16 && n < max; id++)
		if (rng() % 4 == 0)
			ids[n++] = id;
	return n;
}

static void book_random(struct lssnap_book *b)
{
	size_t i;

	memset(b, 0, sizeof(*b));
	b->n_ready = ids_random(b->ready, 8);
	b->n_tainted = ids_random(b->tainted, 2);
	b->n_waiting = ids_random(b->waiting, 8);
	b->n_dirty = ids_random(b->dirty, 4);
	b->n_refused = ids_random(b->refused, 2);
	b->decided = rng() % 2;
	b->formed = rng() % 1000;
	b->gen = rng() % 100;
	b->n_xfer = rng() % 3;
	for (i = 0; i < b->n_xfer; i++) {
		struct lssnap_xfer *x = &b->xf[i];

		x->sender = 1 + (uint32_t)i;
		x->basis_node = 1 + rng() % 16;
		x->xfer_id = rng();
		x->basis_inc = rng();
		x->basis_seq = 1 + rng() % 1000;
		x->total = (uint32_t)(rng() % 200000);
		x->got = x->total ? (uint32_t)(rng() % x->total) : 0;
		x->n_waiting = ids_random(x->waiting, 6);
	}
}

/* A lock state: three members, a few requests. */
static struct ls_state *state_random(unsigned nreq)
{
	static const uint32_t all[] = { 1, 2, 3 };
	static const char *const names[] = { "a", "mbox/INBOX", "uid:7" };
	struct ls_params p = { .cold = false, .default_live = true };
	struct ls_state *ls = NULL;
	struct ls_event ev;
	struct ls_out out;
	unsigned i;

	ls_out_init(&out);
	if (ls_create(&p, &ls))
		return NULL;
	memset(&ev, 0, sizeof(ev));
	ev.ev_kind = LS_EV_CONFCHG;
	ev.ev_ring_id = 1;
	ev.ev_members = all;
	ev.ev_member_count = 3;
	ev.ev_quorate = true;
	ls_apply(ls, &ev, &out);
	for (i = 0; i < nreq; i++) {
		memset(&ev, 0, sizeof(ev));
		ev.ev_kind = LS_EV_REQUEST;
		ev.ev_nodeid = 1 + rng() % 3;
		ev.ev_lkid = LKID(ev.ev_nodeid, i);
		ev.ev_mode = (int)(rng() % MODE_COUNT);
		ev.ev_name = names[rng() % 3];
		ev.ev_namelen = strlen(ev.ev_name);
		ls_apply(ls, &ev, &out);
	}
	ls_out_free(&out);
	return ls;
}

static int gen_one(const char *dir, unsigned idx, unsigned nreq)
{
	struct lssnap_book b;
	struct ls_state *ls;
	uint8_t *buf = NULL;
	char name[64];
	size_t n = 0;
	int rv = -1;

	rng_state = 0x9e3779b97f4a7c15ull * (idx + 1);
	book_random(&b);
	ls = state_random(nreq);
	if (!ls)
		return -1;
	n = lssnap_size(&b, ls);
	buf = malloc(n);
	if (buf && lssnap_encode(&b, ls, buf, n, &n) == 0) {
		snprintf(name, sizeof(name), "xfer-%u-%u", idx, nreq);
		rv = fuzzseed_write(dir, name, 0, buf, n);
	}
	free(buf);
	ls_destroy(ls);
	return rv;
}

static int gen_golden1(const char *dir, const char *golden, const char *name,
		       const char *seed)
{
	char path[4096];
	uint8_t buf[8192];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", golden, name);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return fuzzseed_write(dir, seed, 0, buf, n);
}

/* The golden transfers: a minor 1 lock state, and one with member
 * records (minor 2). */
static int gen_golden(const char *dir, const char *golden)
{
	return gen_golden1(dir, golden, "lssnap-sls3.bin", "golden-sls3") ||
	       gen_golden1(dir, golden, "lssnap-sls3-m2.bin", "golden-sls3-m2") ?
	       -1 : 0;
}

static int gen_corpus(const char *dir, const char *golden)
{
	static const unsigned nreq[] = { 0, 3, 10, 30 };
	unsigned i;

	for (i = 0; i < sizeof(nreq) / sizeof(nreq[0]); i++)
		if (gen_one(dir, i, nreq[i]))
			return -1;
	return golden ? gen_golden(dir, golden) : 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (*argc >= 3 && strcmp((*argv)[1], "--gen-corpus") == 0)
		exit(gen_corpus((*argv)[2], *argc >= 4 ? (*argv)[3] : NULL) ? 1 : 0);
	return 0;
}
