/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_fprep.c - libFuzzer target for the CPG encoding of a fast-path
 * report (dlm/core/fprep.c: fprep_decode, fprep_encode_chunk, the
 * assembler, and fpm_round_complete behind them).
 *
 * Input: chunks, each preceded by its length (u16 little-endian; the
 * last one takes what is left), each copied into a buffer of its exact
 * size (ASan sees a read past it), decoded alone and fed in order to one
 * assembler.
 *
 * Properties checked, besides "no crash, no out-of-bounds read, no leak":
 *   - fprep_decode zeroes the chunk header on error;
 *   - one chunk, one encoding: whatever decodes encodes again to the
 *     very same bytes;
 *   - a report the assembler completes is one fpm_round_complete takes
 *     (a core of another node, in the round that opens epoch 1 of the
 *     two), and it comes back unchanged from the encoder's own chunks.
 *
 * --gen-corpus DIR writes a report of three own entries and one master
 * entry in one chunk and in three, an empty report, and exits.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fprep.h"
#include "fuzzseed.h"
#include "modes.h"
#include "sdlm_errors.h"

#define ENTS	FPREP_ENTS_IN(FPREP_CHUNK_MAX)

static struct fpm_entry own[ENTS], mas[ENTS];
static uint8_t enc[FPREP_CHUNK_MAX];

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		if (*b++)
			return 0;
	return 1;
}

static void check_chunk(const uint8_t *buf, size_t len)
{
	struct fprep_chunk c;
	size_t n = 0;

	if (fprep_decode(buf, len, &c, own, ENTS, mas, ENTS) != 0) {
		if (!all_zero(&c, sizeof(c)))
			abort();
		return;
	}
	if (fprep_encode_chunk(&c, own, mas, enc, sizeof(enc), &n) != 0 ||
	    n != len || memcmp(enc, buf, len) != 0)
		abort();
}

static void check_round(const struct fpm_report *r)
{
	uint32_t self = r->node == 1 ? 2 : 1, ids[2];
	struct fpm_member mem[2];
	struct fpm_report reps[2];
	struct fpm_epoch e;
	struct fpm_out out;
	struct fpm *fp;

	ids[0] = self < r->node ? self : r->node;
	ids[1] = self < r->node ? r->node : self;
	mem[0].node = ids[0];
	mem[0].incarnation = 100 + ids[0];
	mem[1].node = ids[1];
	mem[1].incarnation = 100 + ids[1];
	if (fpm_new(self, 100 + self, &fp))
		abort();
	fpm_out_init(&out);
	if (fpm_confchg(fp, ids, 2, true))
		abort();
	reps[0] = *fpm_report(fp);
	reps[1] = *r;
	memset(&e, 0, sizeof(e));
	e.epoch = 1;
	e.members = mem;
	e.n = 2;
	if (fpm_round_complete(fp, &e, reps, 2, &out) == -EINVAL)
		abort();
	fpm_out_free(&out);
	fpm_free(fp);
}

static bool entry_same(const struct fpm_entry *a, const struct fpm_entry *b)
{
	return a->node == b->node && a->lkid == b->lkid && a->rid == b->rid &&
	       a->grmode == b->grmode && a->rqmode == b->rqmode &&
	       a->flags == b->flags && a->token == b->token &&
	       a->namelen == b->namelen && !memcmp(a->name, b->name, a->namelen);
}

/* r through the encoder and a second assembler: the same report. */
static void check_again(const struct fpm_report *r, uint64_t round)
{
	const struct fpm_report *got;
	struct fprep_enc en;
	struct fprep_asm a;
	size_t n, i;
	int rc = 0;

	fprep_asm_init(&a);
	if (fprep_enc_init(&en, r, round, FPREP_CHUNK_MAX))
		abort();
	while (fprep_enc_next(&en, enc, sizeof(enc), &n) == 0) {
		rc = fprep_asm_add(&a, enc, n);
		if (rc < 0)
			abort();
	}
	got = fprep_asm_report(&a);
	if (rc != 1 || !got || got->node != r->node || got->epoch != r->epoch ||
	    got->last_rid != r->last_rid || got->n != r->n || got->nm != r->nm)
		abort();
	for (i = 0; i < r->n; i++)
		if (!entry_same(&got->e[i], &r->e[i]))
			abort();
	for (i = 0; i < r->nm; i++)
		if (!entry_same(&got->m[i], &r->m[i]))
			abort();
	fprep_asm_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fprep_asm a;
	size_t pos = 0, len;
	uint8_t *buf;

	fprep_asm_init(&a);
	while (pos + 2 <= size) {
		len = (size_t)data[pos] | (size_t)data[pos + 1] << 8;
		pos += 2;
		if (len > size - pos)
			len = size - pos;
		buf = malloc(len ? len : 1);	/* exact size for ASan */
		if (!buf)
			break;
		memcpy(buf, data + pos, len);
		pos += len;
		check_chunk(buf, len);
		if (fprep_asm_add(&a, buf, len) == 1) {
			if (!fprep_asm_report(&a))
				abort();
			check_round(fprep_asm_report(&a));
			check_again(fprep_asm_report(&a), fprep_asm_round(&a));
			fprep_asm_reset(&a);
		}
		free(buf);
	}
	fprep_asm_free(&a);
	return 0;
}

/* ---- seed corpus ---- */

static struct fpm_entry ent(uint64_t lkid, uint64_t rid, int gr, int rq,
			    uint32_t flags, uint64_t token, const char *name)
{
	struct fpm_entry e;

	memset(&e, 0, sizeof(e));
	e.node = (uint32_t)(lkid >> 32);
	e.lkid = lkid;
	e.rid = rid;
	e.grmode = gr;
	e.rqmode = rq;
	e.flags = flags;
	e.token = token;
	e.namelen = (uint8_t)strlen(name);
	memcpy(e.name, name, e.namelen);
	return e;
}

static int put(const char *dir, const char *name, const struct fpm_report *r,
	       size_t chunk_max)
{
	struct fprep_enc en;
	struct fuzzseed s;
	uint8_t hdr[2];
	size_t n;

	if (fprep_enc_init(&en, r, 5, chunk_max))
		return -1;
	if (fuzzseed_open(&s, dir, name, NULL))
		return -1;
	while (fprep_enc_next(&en, enc, sizeof(enc), &n) == 0) {
		hdr[0] = (uint8_t)n;
		hdr[1] = (uint8_t)(n >> 8);
		fuzzseed_put(&s, hdr, 2);
		fuzzseed_put(&s, enc, n);
	}
	return fuzzseed_close(&s);
}

static int gen_corpus(const char *dir)
{
	struct fpm_entry e[3], m[1];
	struct fpm_report r;

	e[0] = ent((uint64_t)2 << 32 | 1, 3, MODE_PR, MODE_PR, 0,
		   (uint64_t)6 << 32 | 1, "r0");
	e[1] = ent((uint64_t)2 << 32 | 2, 40, MODE_NONE, MODE_EX,
		   LS_LKF_NOQUEUE, 0, "mailbox.alice@example.org");
	e[2] = ent((uint64_t)2 << 32 | 3, 41, MODE_PR, MODE_EX,
		   LS_LKF_IVVALBLK, (uint64_t)6 << 32 | 2, "r2");
	m[0] = ent((uint64_t)3 << 32 | 9, 17, MODE_EX, MODE_EX, 0,
		   (uint64_t)6 << 32 | 3, "r3");
	memset(&r, 0, sizeof(r));
	r.node = 2;
	r.epoch = 6;
	r.last_rid = 41;
	r.n = 3;
	r.e = e;
	r.nm = 1;
	r.m = m;
	if (put(dir, "rich", &r, FPREP_CHUNK_MAX) ||
	    put(dir, "rich-c144", &r, FPREP_CHUNK_MIN))
		return -1;
	memset(&r, 0, sizeof(r));
	r.node = 1;
	return put(dir, "empty", &r, FPREP_CHUNK_MAX);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int i;

	for (i = 1; i + 1 < *argc; i++)
		if (!strcmp((*argv)[i], "--gen-corpus"))
			exit(gen_corpus((*argv)[i + 1]) ? 1 : 0);
	return 0;
}
