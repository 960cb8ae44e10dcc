/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_fpmsg.c - libFuzzer target for the fast path's master messages
 * (dlm/core/fpmaster.c: fpm_msg_decode, fpm_msg_encode, and fpm_input behind
 * them).
 *
 * Input: one control byte, then messages, each preceded by its sender
 * (one byte: node 1 + b % 3) and its length (u8; the last one takes what
 * is left).  Control bit 0 "core": the messages also go, in order, to a
 * core of node 2 in epoch 1 of members 1, 2, 3 (every node live, the gate
 * open), which holds a lock of its own on "r0" and waits for one on "r1".
 *
 * Properties checked, besides "no crash, no out-of-bounds read, no leak":
 *   - fpm_msg_decode zeroes the message on error;
 *   - one message, one encoding: whatever decodes encodes again to the
 *     very same bytes;
 *   - with the core, every message it sends encodes (never to itself),
 *     and no output is lost.
 *
 * --gen-corpus DIR writes one message of each type, each without and
 * with the core, and exits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fpmaster.h"
#include "modes.h"
#include "sdlm_errors.h"

#define CTL_CORE	0x1u

static uint8_t enc[FPM_MSG_MAX];

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		if (*b++)
			return 0;
	return 1;
}

static int check_codec(const uint8_t *buf, size_t len, struct fpm_msg *m)
{
	size_t n = 0;

	if (fpm_msg_decode(buf, len, m) != 0) {
		if (!all_zero(m, sizeof(*m)))
			abort();
		return -1;
	}
	if (fpm_msg_len(m) != len)
		abort();
	if (fpm_msg_encode(m, enc, sizeof(enc), &n) != 0 || n != len ||
	    memcmp(enc, buf, len) != 0)
		abort();
	return 0;
}

static void check_out(const struct fpm_out *out)
{
	size_t i, n;

	if (out->lost)
		abort();
	for (i = 0; i < out->count; i++) {
		const struct fpm_out_item *it = &out->items[i];

		if (it->kind == FPM_OUT_SEND &&
		    (it->node == 2 || fpm_msg_encode(&it->msg, enc, sizeof(enc), &n)))
			abort();
	}
}

static struct fpm *core_new(struct fpm_out *out)
{
	static const uint32_t ids[3] = { 1, 2, 3 };
	static const struct fpm_member mem[3] = { { 1, 11 }, { 2, 22 }, { 3, 33 } };
	struct fpm_report rep[3];
	struct fpm_epoch e;
	struct fpm *fp;
	uint32_t n;

	if (fpm_new(2, 22, &fp))
		return NULL;
	fpm_gate(fp, true, out);
	for (n = 1; n <= 3; n++)
		fpm_node_status(fp, n, true, false, out);
	if (fpm_confchg(fp, ids, 3, true))
		abort();
	memset(rep, 0, sizeof(rep));
	rep[0].node = 1;
	rep[1] = *fpm_report(fp);
	rep[2].node = 3;
	memset(&e, 0, sizeof(e));
	e.epoch = 1;
	e.members = mem;
	e.n = 3;
	if (fpm_round_complete(fp, &e, rep, 3, out))
		abort();
	fpm_lock(fp, (uint64_t)2 << 32 | 1, "r0", 2, MODE_PR, 0, out);
	fpm_lock(fp, (uint64_t)2 << 32 | 2, "r1", 2, MODE_EX, 0, out);
	return fp;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fpm_out out;
	struct fpm *fp = NULL;
	struct fpm_msg m;
	size_t pos = 1, len;
	uint32_t from;
	uint8_t *buf;

	if (size < 1)
		return 0;
	if (data[0] & CTL_CORE) {
		fp = core_new(&out);
		if (!fp)
			return 0;
	}
	while (pos + 1 < size) {
		from = 1 + data[pos] % 3;
		len = size - pos - 2;
		if (data[pos + 1] <= len)
			len = data[pos + 1];
		pos += 2;
		buf = malloc(len ? len : 1);	/* exact size for ASan */
		if (!buf)
			break;
		memcpy(buf, data + pos, len);
		pos += len;
		if (check_codec(buf, len, &m) == 0 && fp && from != 2) {
			fpm_input(fp, from, from * 11, &m, &out);
			check_out(&out);
		}
		free(buf);
	}
	fpm_free(fp);
	return 0;
}

/* ---- seed corpus ---- */

static int put(const char *dir, const char *name, uint32_t from,
	       const struct fpm_msg *m)
{
	char path[4096];
	uint8_t ctl, hdr[2];
	size_t n;
	FILE *fp;
	int k;

	if (fpm_msg_encode(m, enc, sizeof(enc), &n))
		return -1;
	hdr[0] = (uint8_t)(from - 1);
	hdr[1] = (uint8_t)n;
	for (k = 0; k < 2; k++) {
		ctl = k ? CTL_CORE : 0;
		snprintf(path, sizeof(path), "%s/%s%s", dir, name, k ? "-core" : "");
		fp = fopen(path, "we");
		if (!fp)
			return -1;
		if (fwrite(&ctl, 1, 1, fp) != 1 || fwrite(hdr, 1, 2, fp) != 2 ||
		    fwrite(enc, 1, n, fp) != n) {
			fclose(fp);
			return -1;
		}
		if (fclose(fp))
			return -1;
	}
	return 0;
}

static void msg(struct fpm_msg *m, uint8_t type, int mode, uint64_t rid,
		uint64_t lkid, const char *name)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->mode = mode;
	m->epoch = 1;
	m->rid = rid;
	m->lkid = lkid;
	m->namelen = (uint8_t)strlen(name);
	memcpy(m->name, name, m->namelen);
}

static int gen_corpus(const char *dir)
{
	const uint64_t l1 = (uint64_t)1 << 32 | 1, l2 = (uint64_t)2 << 32 | 2;
	struct fpm_msg m;

	msg(&m, FPM_P_REQUEST, MODE_EX, 1, l1, "r0");
	m.flags = LS_LKF_NOQUEUE;
	if (put(dir, "P_REQUEST", 1, &m))
		return -1;
	msg(&m, FPM_P_CONVERT, MODE_PR, 2, l1, "r0");
	m.lvb_valid = true;
	memset(m.lvb, 0x5a, sizeof(m.lvb));
	if (put(dir, "P_CONVERT", 1, &m))
		return -1;
	msg(&m, FPM_P_CANCEL, MODE_NONE, 3, l1, "r0");
	if (put(dir, "P_CANCEL", 1, &m))
		return -1;
	msg(&m, FPM_P_RELEASE, MODE_NONE, 4, l1, "r0");
	m.flags = LS_LKF_IVVALBLK;
	if (put(dir, "P_RELEASE", 1, &m))
		return -1;
	msg(&m, FPM_P_BAST, MODE_EX, 0, (uint64_t)2 << 32 | 1, "r0");
	if (put(dir, "P_BAST", 3, &m))
		return -1;
	msg(&m, FPM_P_GRANT, MODE_EX, 2, l2, "r1");
	m.token = (uint64_t)1 << 32 | 1;
	if (put(dir, "P_GRANT", 3, &m))
		return -1;
	msg(&m, FPM_P_FAIL, MODE_NONE, 2, l2, "r1");
	m.err = SDLM_EBUSY;
	if (put(dir, "P_FAIL", 3, &m))
		return -1;
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int i;

	for (i = 1; i + 1 < *argc; i++)
		if (!strcmp((*argv)[i], "--gen-corpus"))
			exit(gen_corpus((*argv)[i + 1]) ? 1 : 0);
	return 0;
}
