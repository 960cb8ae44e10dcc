/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_snapshot.c - libFuzzer target for the lock state snapshot
 * (dlm/core/lssnap.c: ls_snapshot_decode, ls_snapshot_encode, ls_digest).
 *
 * Input: one control byte, then the snapshot bytes.  Control bit 0 "fix
 * the CRC": when the snapshot is at least 8 bytes the harness rewrites
 * its last 4 bytes with the CRC32C of everything before, so the fuzzer
 * reaches the content checks that come after the checksum (a good CRC
 * does not make a state sane: counts, ordering, modes, conflicting
 * grants).
 *
 * Properties checked, besides "no crash, no out-of-bounds read, no leak":
 *   - a snapshot that decodes re-encodes to exactly its own bytes (one
 *     state, one encoding: docs/locking.md), with ls_snapshot_size() equal
 *     to the input length;
 *   - the re-encoding decodes again to a state with the same digest.
 *
 * --gen-corpus DIR writes snapshots of states built by pseudo-random but
 * fixed event sequences through ls_apply and exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdlm.h"
#include "crc32c.h"
#include "fuzzseed.h"
#include "lockstate.h"

#define CTL_FIXCRC	0x1u
#define LKID(node, n)	(((uint64_t)(node) << 32) | (uint32_t)(n))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ls_state *ls = NULL, *ls2 = NULL;
	uint8_t *buf, *enc = NULL;
	size_t len, n = 0;
	uint32_t crc;

	if (size < 1)
		return 0;
	len = size - 1;
	buf = malloc(len ? len : 1);	/* exact size for ASan */
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);
	if ((data[0] & CTL_FIXCRC) && len >= 8) {
		crc = crc32c(0, buf, len - 4);
		buf[len - 4] = crc & 0xff;
		buf[len - 3] = (crc >> 8) & 0xff;
		buf[len - 2] = (crc >> 16) & 0xff;
		buf[len - 1] = crc >> 24;
	}
	if (ls_snapshot_decode(buf, len, &ls) != 0)
		goto out_free;
	if (ls_snapshot_size(ls) != len)
		abort();
	enc = malloc(len);
	if (!enc)
		goto out_destroy;
	if (ls_snapshot_encode(ls, enc, len, &n) != 0 || n != len ||
	    memcmp(enc, buf, len) != 0)
		abort();
	if (ls_snapshot_decode(enc, len, &ls2) != 0 ||
	    ls_digest(ls2) != ls_digest(ls))
		abort();
	ls_destroy(ls2);
	free(enc);
out_destroy:
	ls_destroy(ls);
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

/* One random event; rejected ones leave the state alone. */
static void event_random(struct ls_state *ls, struct ls_out *out)
{
	static const char *const names[] = { "a", "mbox/INBOX", "uid:7", "z" };
	static const uint32_t all[] = { 1, 2, 3 }, two[] = { 1, 2 };
	static const uint64_t incs[] = { 11, 22, 33 };
	static const uint16_t protos[] = { 3, 3, 4 };
	uint8_t lvb[LS_LVB_LEN];
	struct ls_event ev;
	uint32_t node = 1 + rng() % 3;

	memset(&ev, 0, sizeof(ev));
	memset(lvb, (int)(rng() & 0xff), sizeof(lvb));
	ev.ev_nodeid = node;
	ev.ev_lkid = LKID(node, rng() % 6);
	switch (rng() % 12) {
	case 0: case 1: case 2:
		ev.ev_kind = LS_EV_REQUEST;
		ev.ev_mode = (int)(rng() % MODE_COUNT);
		ev.ev_name = names[rng() % 4];
		ev.ev_namelen = strlen(ev.ev_name);
		ev.ev_flags = rng() % 2 ? LS_LKF_NOQUEUE : 0;
		break;
	case 3:
		ev.ev_kind = LS_EV_CONVERT;
		ev.ev_mode = (int)(rng() % MODE_COUNT);
		ev.ev_lvb = rng() % 2 ? lvb : NULL;
		break;
	case 4:
		ev.ev_kind = LS_EV_RELEASE;
		ev.ev_lvb = rng() % 2 ? lvb : NULL;
		break;
	case 5:
		ev.ev_kind = LS_EV_CANCEL;
		break;
	case 6:
		ev.ev_kind = LS_EV_CONFCHG;
		ev.ev_ring_id = rng() % 1000;
		ev.ev_members = rng() % 2 ? all : two;
		ev.ev_member_count = ev.ev_members == all ? 3 : 2;
		ev.ev_quorate = true;
		break;
	case 7:
		ev.ev_kind = LS_EV_NODE_STATUS;
		ev.ev_hb_live = rng() % 4 != 0;
		ev.ev_pill_pending = rng() % 4 == 0;
		break;
	case 8:
		ev.ev_kind = LS_EV_NODE_FENCED;
		ev.ev_nodeid = 3;
		ev.ev_incarnation = 1 + rng() % 5;
		break;
	case 10:	/* the member records (minor 2), or none (minor 1) */
		ev.ev_kind = LS_EV_ROUND;
		ev.ev_members = all;
		ev.ev_incarnations = incs;
		ev.ev_protos = protos;
		ev.ev_member_count = 3;
		ev.ev_proto = rng() % 4 ? 3 : 2;
		break;
	case 11:	/* F3: right or wrong incarnation */
		ev.ev_kind = LS_EV_HANDOFF_RELEASE;
		ev.ev_incarnation = rng() % 2 ? incs[node - 1] : 1;
		ev.ev_lvb = rng() % 2 ? lvb : NULL;
		break;
	default:
		ev.ev_kind = LS_EV_GATE;
		ev.ev_gate_open = true;
		break;
	}
	ls_apply(ls, &ev, out);
}

static int gen_one(const char *dir, unsigned idx, unsigned nevents)
{
	static const uint32_t all[] = { 1, 2, 3 };
	struct ls_params p = { .cold = false, .default_live = true };
	struct ls_event ev;
	struct ls_state *ls = NULL;
	struct ls_out out;
	uint8_t *buf = NULL;
	char name[64];
	size_t n = 0, i;
	int rv = -1;

	ls_out_init(&out);
	if (ls_create(&p, &ls))
		goto out;
	memset(&ev, 0, sizeof(ev));
	ev.ev_kind = LS_EV_CONFCHG;
	ev.ev_ring_id = 1;
	ev.ev_members = all;
	ev.ev_member_count = 3;
	ev.ev_quorate = true;
	if (ls_apply(ls, &ev, &out))
		goto out;
	rng_state = 0x9e3779b97f4a7c15ull * (idx + 1);
	for (i = 0; i < nevents; i++)
		event_random(ls, &out);
	n = ls_snapshot_size(ls);
	buf = malloc(n);
	if (!buf || ls_snapshot_encode(ls, buf, n, &n))
		goto out;
	snprintf(name, sizeof(name), "state-%u-%u", idx, nevents);
	rv = fuzzseed_write(dir, name, 0, buf, n);
out:
	free(buf);
	ls_destroy(ls);
	ls_out_free(&out);
	return rv;
}

static int gen_corpus(const char *dir)
{
	static const unsigned lengths[] = { 0, 4, 12, 30, 60, 120 };
	unsigned i;

	for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++)
		if (gen_one(dir, i, lengths[i]))
			return -1;
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (*argc >= 3 && strcmp((*argv)[1], "--gen-corpus") == 0)
		exit(gen_corpus((*argv)[2]) ? 1 : 0);
	return 0;
}
