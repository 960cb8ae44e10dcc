/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_fprep.c - unit tests of dlm/core/fprep.c, the CPG encoding of a
 * fast-path report (fprep.h): one chunk against bytes written by hand
 * from fprep.h's table, golden images, every decoder and assembler
 * check, and two properties against the core that takes the reports
 * (fpm_round_complete):
 *   - random reports, sane and not: the encoder takes exactly the
 *     reports fpm_round_complete takes, and each of them comes back from
 *     its chunks unchanged and is taken again;
 *   - random corruptions of their chunks: whatever assembles into a
 *     report is one fpm_round_complete takes, and each chunk that
 *     decodes encodes again to the same bytes.
 *
 * Golden images: tests/golden/fprep-rich.bin (the rich report in one
 * chunk) and fprep-rich-c144-{0,1,2}.bin (the same in chunks of at most
 * FPREP_CHUNK_MIN bytes), written by this encoder (SDLM_GOLDEN_WRITE=1)
 * when the format was made: a later change of the layout fails here.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fprep.h"
#include "modes.h"
#include "ondisk_fixture.h"
#include "sdlm_errors.h"

#define LK(n, c)	((uint64_t)(n) << 32 | (c))

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

/* Node 2's report: a PR held, an EX waited for, a PR converting to EX;
 * as old master an EX of node 3. */
static struct fpm_entry rich_e[3], rich_m[1];

static struct fpm_report rich(void)
{
	struct fpm_report r;

	rich_e[0] = ent(LK(2, 1), 3, MODE_PR, MODE_PR, 0, LK(6, 1), "r0");
	rich_e[1] = ent(LK(2, 2), 40, MODE_NONE, MODE_EX,
			LS_LKF_NOQUEUE | LS_LKF_NOQUEUEBAST, 0,
			"mailbox.alice@example.org");
	rich_e[2] = ent(LK(2, 3), 41, MODE_PR, MODE_EX, LS_LKF_IVVALBLK,
			LK(6, 2), "r2");
	rich_m[0] = ent(LK(3, 9), 17, MODE_EX, MODE_EX, 0, LK(6, 3), "r3");
	memset(&r, 0, sizeof(r));
	r.node = 2;
	r.epoch = 6;
	r.last_rid = 41;
	r.n = 3;
	r.e = rich_e;
	r.nm = 1;
	r.m = rich_m;
	return r;
}

static void entry_equal(const struct fpm_entry *a, const struct fpm_entry *b)
{
	assert_int_equal(a->node, b->node);
	assert_int_equal(a->lkid, b->lkid);
	assert_int_equal(a->rid, b->rid);
	assert_int_equal(a->grmode, b->grmode);
	assert_int_equal(a->rqmode, b->rqmode);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->token, b->token);
	assert_int_equal(a->namelen, b->namelen);
	assert_memory_equal(a->name, b->name, a->namelen);
}

static void report_equal(const struct fpm_report *a, const struct fpm_report *b)
{
	size_t i;

	assert_int_equal(a->node, b->node);
	assert_int_equal(a->epoch, b->epoch);
	assert_int_equal(a->last_rid, b->last_rid);
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->nm, b->nm);
	for (i = 0; i < a->n; i++)
		entry_equal(&a->e[i], &b->e[i]);
	for (i = 0; i < a->nm; i++)
		entry_equal(&a->m[i], &b->m[i]);
}

/* All chunks of r for round, each into its own malloc'd buffer. */
struct chunks {
	size_t	n;
	uint8_t	*buf[4096];
	size_t	len[4096];
};

static int chunks_of(const struct fpm_report *r, uint64_t round,
		     size_t chunk_max, struct chunks *c)
{
	struct fprep_enc en;
	int rc;

	memset(c, 0, sizeof(*c));
	rc = fprep_enc_init(&en, r, round, chunk_max);
	if (rc)
		return rc;
	assert_true(fprep_enc_parts(&en) <= 4096);
	while (c->n < fprep_enc_parts(&en)) {
		c->buf[c->n] = malloc(chunk_max);
		assert_non_null(c->buf[c->n]);
		assert_int_equal(fprep_enc_next(&en, c->buf[c->n], chunk_max,
						&c->len[c->n]), 0);
		assert_true(c->len[c->n] <= chunk_max);
		assert_int_equal(c->len[c->n] % 8, 0);
		c->n++;
	}
	assert_int_equal(fprep_enc_next(&en, c->buf[0], chunk_max, &c->len[0]),
			 -ENODATA);
	return 0;
}

static void chunks_free(struct chunks *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->buf[i]);
	c->n = 0;
}

/* The assembly of c; the last fprep_asm_add's return. */
static int assemble(struct fprep_asm *a, const struct chunks *c)
{
	size_t i;
	int rc = 0;

	fprep_asm_reset(a);
	for (i = 0; i < c->n; i++) {
		rc = fprep_asm_add(a, c->buf[i], c->len[i]);
		if (rc != 0 && !(rc == 1 && i + 1 == c->n))
			return rc < 0 ? rc : -EBADE;
	}
	return rc;
}

/*
 * What fpm_round_complete says of r: a core of another node (1, or 2 if
 * r is node 1's) takes the round that opens epoch 1 of the two, with its
 * own report and r.
 */
static int round_takes(const struct fpm_report *r)
{
	uint32_t self = r->node == 1 ? 2 : 1, ids[2];
	struct fpm_member mem[2];
	struct fpm_report reps[2];
	struct fpm_epoch e;
	struct fpm_out out;
	struct fpm *fp;
	int rc;

	ids[0] = self < r->node ? self : r->node;
	ids[1] = self < r->node ? r->node : self;
	mem[0].node = ids[0];
	mem[0].incarnation = 100 + ids[0];
	mem[1].node = ids[1];
	mem[1].incarnation = 100 + ids[1];
	assert_int_equal(fpm_new(self, 100 + self, &fp), 0);
	fpm_out_init(&out);
	assert_int_equal(fpm_confchg(fp, ids, 2, true), 0);
	reps[0] = *fpm_report(fp);
	reps[1] = *r;
	memset(&e, 0, sizeof(e));
	e.epoch = 1;
	e.members = mem;
	e.n = 2;
	rc = fpm_round_complete(fp, &e, reps, 2, &out);
	assert_true(rc == 0 || rc == -EINVAL);
	fpm_out_free(&out);
	fpm_free(fp);
	return rc;
}

/* ---- bytes by hand ------------------------------------------------- */

/* Node 5's report of round 0x0102, epoch 3, last rid 9, one entry: lock
 * 5<<32|7 waiting (0xff) for EX with NOQUEUE (wire 1), rid 9, token 0,
 * name "uid:7" (padded to 8): written from fprep.h's table. */
static const uint8_t hand[] = {
	0x02, 0x01, 0, 0, 0, 0, 0, 0,		/* round */
	3, 0, 0, 0, 0, 0, 0, 0,			/* epoch */
	9, 0, 0, 0, 0, 0, 0, 0,			/* last_rid */
	5, 0, 0, 0,				/* node */
	0, 0, 0, 0,				/* part */
	1, 0, 0, 0,				/* nparts */
	1, 0, 0, 0,				/* total_own */
	0, 0, 0, 0,				/* total_master */
	1, 0,					/* n_own */
	0, 0,					/* n_master */
	7, 0, 0, 0, 5, 0, 0, 0,			/* lkid */
	9, 0, 0, 0, 0, 0, 0, 0,			/* rid */
	0, 0, 0, 0, 0, 0, 0, 0,			/* token */
	0xff, 5, 1, 5,				/* grmode rqmode flags namelen */
	0, 0, 0, 0,				/* reserved */
	'u', 'i', 'd', ':', '7', 0, 0, 0,	/* name, padding */
};

static struct fpm_report hand_report(struct fpm_entry *e)
{
	struct fpm_report r;

	*e = ent(LK(5, 7), 9, MODE_NONE, MODE_EX, LS_LKF_NOQUEUE, 0, "uid:7");
	memset(&r, 0, sizeof(r));
	r.node = 5;
	r.epoch = 3;
	r.last_rid = 9;
	r.n = 1;
	r.e = e;
	return r;
}

static void test_hand_bytes(void **state)
{
	struct fpm_entry e, own[4], master[4];
	struct fpm_report r = hand_report(&e), got;
	struct fprep_chunk c;
	struct chunks ch;

	(void)state;
	assert_int_equal(chunks_of(&r, 0x0102, FPREP_CHUNK_MAX, &ch), 0);
	assert_int_equal(ch.n, 1);
	assert_int_equal(ch.len[0], sizeof(hand));
	assert_memory_equal(ch.buf[0], hand, sizeof(hand));
	chunks_free(&ch);
	assert_int_equal(fprep_decode(hand, sizeof(hand), &c, own, 4, master, 4), 0);
	assert_int_equal(c.round, 0x0102);
	assert_int_equal(c.part, 0);
	assert_int_equal(c.nparts, 1);
	assert_int_equal(c.n_own, 1);
	assert_int_equal(c.n_master, 0);
	memset(&got, 0, sizeof(got));
	got.node = c.node;
	got.epoch = c.epoch;
	got.last_rid = c.last_rid;
	got.n = 1;
	got.e = own;
	report_equal(&got, &r);
}

/* An empty report is one chunk of its header alone. */
static void test_empty_report(void **state)
{
	struct fpm_report r = { .node = 4, .epoch = 0, .last_rid = 0 };
	struct fprep_asm a;
	struct chunks ch;

	(void)state;
	assert_int_equal(chunks_of(&r, 1, FPREP_CHUNK_MAX, &ch), 0);
	assert_int_equal(ch.n, 1);
	assert_int_equal(ch.len[0], FPREP_HDR_LEN);
	fprep_asm_init(&a);
	assert_int_equal(assemble(&a, &ch), 1);
	report_equal(fprep_asm_report(&a), &r);
	assert_int_equal(fprep_asm_round(&a), 1);
	assert_int_equal(round_takes(fprep_asm_report(&a)), 0);
	fprep_asm_free(&a);
	chunks_free(&ch);
}

/* ---- golden images ------------------------------------------------- */

static void test_golden(void **state)
{
	struct fpm_report r = rich();
	struct fprep_asm a;
	struct chunks ch;
	char name[64];
	size_t i;

	(void)state;
	fprep_asm_init(&a);
	assert_int_equal(chunks_of(&r, 0x77, FPREP_CHUNK_MAX, &ch), 0);
	assert_int_equal(ch.n, 1);
	golden_check("fprep-rich.bin", ch.buf[0], ch.len[0]);
	assert_int_equal(assemble(&a, &ch), 1);
	report_equal(fprep_asm_report(&a), &r);
	chunks_free(&ch);

	/* 88, 112, 128 bytes: the last holds an own and a master entry */
	assert_int_equal(chunks_of(&r, 0x77, FPREP_CHUNK_MIN, &ch), 0);
	assert_int_equal(ch.n, 3);
	for (i = 0; i < ch.n; i++) {
		snprintf(name, sizeof(name), "fprep-rich-c144-%zu.bin", i);
		golden_check(name, ch.buf[i], ch.len[i]);
	}
	assert_int_equal(assemble(&a, &ch), 1);
	report_equal(fprep_asm_report(&a), &r);
	assert_int_equal(round_takes(fprep_asm_report(&a)), 0);
	chunks_free(&ch);
	fprep_asm_free(&a);
}

/* ---- the decoder's checks, one by one ----------------------------- */

static uint8_t buf[FPREP_CHUNK_MAX + 8];

static void put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The hand chunk with one edit, decoded: SDLM_EPROTO and c zeroed. */
static void refused(size_t len)
{
	struct fpm_entry own[8], master[8];
	struct fprep_chunk c, zero;

	memset(&zero, 0, sizeof(zero));
	assert_int_equal(fprep_decode(buf, len, &c, own, 8, master, 8),
			 SDLM_EPROTO);
	assert_memory_equal(&c, &zero, sizeof(c));
}

#define EDIT(stmt) do { memcpy(buf, hand, sizeof(hand)); stmt; \
	refused(sizeof(hand)); } while (0)

static void test_decode_checks(void **state)
{
	struct fpm_entry own[8], master[8];
	struct fprep_chunk c;

	(void)state;
	memcpy(buf, hand, sizeof(hand));
	/* lengths: short, long, not a multiple of 8, short by one entry */
	refused(FPREP_HDR_LEN - 8);
	refused(FPREP_CHUNK_MAX + 8);
	refused(sizeof(hand) - 1);
	refused(FPREP_HDR_LEN);
	refused(sizeof(hand) - 8);	/* the name's padding cut */
	refused(sizeof(hand) + 8);	/* bytes after the last entry */
	/* the header */
	EDIT(put64(buf, 0));				/* round 0 */
	EDIT(buf[24] = 0);				/* node 0 */
	EDIT(buf[24] = 0; buf[25] = 1);			/* node 256 */
	EDIT(put64(buf + 8, (uint64_t)FPM_EPOCH_MAX + 1));
	EDIT(buf[32] = 0);				/* nparts 0 */
	EDIT(buf[28] = 1);				/* part 1 of 1 */
	EDIT(buf[36] = 0);				/* n_own > total_own */
	EDIT(buf[44] = 0; buf[46] = 1; buf[40] = 0);	/* n_master > total */
	EDIT(buf[44] = 0);				/* no entry, report has one */
	EDIT(buf[32] = 2);				/* 2 parts of 1 entry */
	EDIT(buf[36] = 0; buf[44] = 0; buf[32] = 2);	/* empty in 2 parts */
	/* the entry */
	EDIT(buf[48 + 27] = 0);				/* namelen 0 */
	EDIT(buf[48 + 27] = SDLM_NAME_MAX + 1);
	EDIT(buf[48 + 27] = 9);				/* past the end */
	EDIT(buf[48 + 28] = 1);				/* reserved */
	EDIT(buf[48 + 31] = 0x80);
	EDIT(buf[48 + 37] = 1);				/* padding */
	EDIT(buf[48 + 39] = 1);
	EDIT(buf[48 + 4] = 0);				/* lkid of node 0 */
	EDIT(buf[48 + 4] = 6);				/* own, not of node 5 */
	EDIT(buf[24] = 0; buf[25] = 1; buf[48 + 4] = 0; buf[48 + 5] = 1);
	EDIT(buf[48 + 24] = 6);				/* grmode */
	EDIT(buf[48 + 24] = 0xfe);
	EDIT(buf[48 + 25] = 0xff);			/* rqmode none */
	EDIT(buf[48 + 25] = 6);
	EDIT(buf[48 + 26] = 8);				/* flags */
	/* a master entry of any node is fine, an own one is not */
	memcpy(buf, hand, sizeof(hand));
	buf[36] = 0; buf[40] = 1; buf[44] = 0; buf[46] = 1;
	buf[48 + 4] = 6;
	assert_int_equal(fprep_decode(buf, sizeof(hand), &c, own, 8, master, 8), 0);
	assert_int_equal(master[0].node, 6);
	/* the caller's room: not a protocol error */
	assert_int_equal(fprep_decode(hand, sizeof(hand), &c, own, 0, master, 8),
			 -ENOSPC);
}

/* The encoder refuses what the decoder would. */
static void test_encode_refuses(void **state)
{
	struct fpm_report r = rich(), bad;
	struct fpm_entry e[3];
	struct fprep_enc en;
	size_t i, n;

	(void)state;
	assert_int_equal(fprep_enc_init(&en, &r, 0, FPREP_CHUNK_MAX), -EINVAL);
	assert_int_equal(fprep_enc_init(&en, &r, 1, FPREP_CHUNK_MIN - 1), -EINVAL);
	assert_int_equal(fprep_enc_init(&en, &r, 1, FPREP_CHUNK_MAX + 8), -EINVAL);
	bad = r;
	bad.node = 0;
	assert_int_equal(fprep_enc_init(&en, &bad, 1, FPREP_CHUNK_MAX), -EINVAL);
	bad = r;
	bad.epoch = (uint64_t)FPM_EPOCH_MAX + 1;
	assert_int_equal(fprep_enc_init(&en, &bad, 1, FPREP_CHUNK_MAX), -EINVAL);
	bad = r;
	bad.e = NULL;
	assert_int_equal(fprep_enc_init(&en, &bad, 1, FPREP_CHUNK_MAX), -EINVAL);
	for (i = 0; i < 6; i++) {
		memcpy(e, rich_e, sizeof(e));
		switch (i) {
		case 0: e[1].namelen = 0; break;
		case 1: e[1].namelen = SDLM_NAME_MAX + 1; break;
		case 2: e[1].node = 3; e[1].lkid = LK(3, 2); break;
		case 3: e[1].node = 3; break;
		case 4: e[1].rqmode = MODE_NONE; break;
		case 5: e[1].flags = 0x800; break;
		}
		bad = r;
		bad.e = e;
		assert_int_equal(fprep_enc_init(&en, &bad, 1, FPREP_CHUNK_MAX), -EINVAL);
		assert_int_equal(round_takes(&bad), -EINVAL);
	}
	assert_int_equal(fprep_enc_init(&en, &r, 1, FPREP_CHUNK_MAX), 0);
	assert_int_equal(fprep_enc_next(&en, buf, 100, &n), -ENOSPC);
	assert_int_equal(fprep_enc_next(&en, buf, sizeof(buf), &n), 0);
}

/* ---- the assembler's checks ---------------------------------------- */

static void test_asm_checks(void **state)
{
	struct fpm_report r = rich(), r2;
	struct chunks ch, other;
	struct fprep_asm a;

	(void)state;
	fprep_asm_init(&a);
	assert_int_equal(chunks_of(&r, 9, FPREP_CHUNK_MIN, &ch), 0);
	assert_int_equal(ch.n, 3);

	/* a first chunk that is not part 0 */
	assert_int_equal(fprep_asm_add(&a, ch.buf[1], ch.len[1]), SDLM_EPROTO);
	/* a part skipped; a part twice */
	assert_int_equal(fprep_asm_add(&a, ch.buf[0], ch.len[0]), 0);
	assert_int_equal(fprep_asm_add(&a, ch.buf[2], ch.len[2]), SDLM_EPROTO);
	assert_null(fprep_asm_report(&a));
	assert_int_equal(fprep_asm_add(&a, ch.buf[0], ch.len[0]), 0);
	assert_int_equal(fprep_asm_add(&a, ch.buf[0], ch.len[0]), SDLM_EPROTO);
	/* a chunk of another round, node, epoch or last rid mid-report */
	assert_int_equal(chunks_of(&r, 10, FPREP_CHUNK_MIN, &other), 0);
	assert_int_equal(fprep_asm_add(&a, ch.buf[0], ch.len[0]), 0);
	assert_int_equal(fprep_asm_add(&a, other.buf[1], other.len[1]), SDLM_EPROTO);
	chunks_free(&other);
	r2 = r;
	r2.last_rid++;
	assert_int_equal(chunks_of(&r2, 9, FPREP_CHUNK_MIN, &other), 0);
	assert_int_equal(fprep_asm_add(&a, ch.buf[0], ch.len[0]), 0);
	assert_int_equal(fprep_asm_add(&a, other.buf[1], other.len[1]), SDLM_EPROTO);
	chunks_free(&other);
	/* a configuration change drops a partial report */
	assert_int_equal(fprep_asm_add(&a, ch.buf[0], ch.len[0]), 0);
	assert_int_equal(fprep_asm_round(&a), 9);
	fprep_asm_reset(&a);
	assert_int_equal(fprep_asm_round(&a), 0);
	assert_int_equal(fprep_asm_add(&a, ch.buf[1], ch.len[1]), SDLM_EPROTO);
	/* in order: complete; then nothing more */
	assert_int_equal(assemble(&a, &ch), 1);
	report_equal(fprep_asm_report(&a), &r);
	assert_int_equal(fprep_asm_add(&a, ch.buf[0], ch.len[0]), SDLM_EPROTO);
	assert_null(fprep_asm_report(&a));
	chunks_free(&ch);
	fprep_asm_free(&a);
}

/* Chunks the encoder never writes, each sane alone: a master entry
 * before the last own one, fewer entries than the totals. */
static void test_asm_order(void **state)
{
	struct fpm_report r = rich();
	struct fprep_chunk c;
	struct fprep_asm a;
	size_t n;

	(void)state;
	fprep_asm_init(&a);
	/* part 0 of 2: the master entry while one own entry of 1 is owed */
	memset(&c, 0, sizeof(c));
	c.round = 1;
	c.node = 2;
	c.nparts = 2;
	c.total_own = 1;
	c.total_master = 1;
	c.n_master = 1;
	assert_int_equal(fprep_encode_chunk(&c, NULL, r.m, buf, sizeof(buf), &n), 0);
	assert_int_equal(fprep_asm_add(&a, buf, n), SDLM_EPROTO);
	/* the last part, one entry of two */
	c.nparts = 1;
	c.total_own = 2;
	c.total_master = 0;
	c.n_own = 1;
	c.n_master = 0;
	assert_int_equal(fprep_encode_chunk(&c, r.e, NULL, buf, sizeof(buf), &n), 0);
	assert_int_equal(fprep_asm_add(&a, buf, n), SDLM_EPROTO);
	assert_null(fprep_asm_report(&a));
	fprep_asm_free(&a);
}

/* ---- the properties ------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* A random entry of node (own) or of any node; now and then one that
 * breaks a report check. */
static void rnd_entry(struct fpm_entry *e, uint32_t node, bool own)
{
	uint32_t n = own ? node : 1 + rnd(SDLM_MAX_NODES);
	size_t i;

	memset(e, 0, sizeof(*e));
	e->node = n;
	e->lkid = LK(n, 1 + rnd(1000));
	e->rid = rnd(4) ? rnd(100000) : 0;
	e->grmode = rnd(3) ? MODE_NONE + (int)rnd(MODE_COUNT + 1) : MODE_NONE;
	e->rqmode = e->grmode != MODE_NONE && rnd(2) ? e->grmode : (int)rnd(MODE_COUNT);
	e->flags = rnd(2) ? 0 : ls_lkf_wire(rnd(8));
	e->token = rnd(2) ? (uint64_t)rnd(50) << 32 | rnd(9) : 0;
	e->namelen = (uint8_t)(1 + rnd(SDLM_NAME_MAX));
	for (i = 0; i < e->namelen; i++)
		e->name[i] = (uint8_t)('a' + rnd(4));
	if (rnd(60))
		return;
	switch (rnd(8)) {
	case 0: e->namelen = 0; break;
	case 1: e->namelen = (uint8_t)(SDLM_NAME_MAX + 1 + rnd(100)); break;
	case 2: e->lkid &= UINT32_MAX; break;
	case 3: e->node = n % SDLM_MAX_NODES + 1; break;
	case 4: e->grmode = MODE_COUNT + (int)rnd(3); break;
	case 5: e->rqmode = MODE_NONE; break;
	case 6: e->flags |= 0x800u << rnd(4); break;
	case 7: e->lkid = LK(n % SDLM_MAX_NODES + 1, 5);
		e->node = n % SDLM_MAX_NODES + 1; break;
	}
}

#define PROP_E	48
#define PROP_M	12

static void rnd_report(struct fpm_report *r, struct fpm_entry *e,
		       struct fpm_entry *m)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->node = 1 + rnd(SDLM_MAX_NODES);
	r->epoch = rnd(50) ? rnd(20) : (uint64_t)FPM_EPOCH_MAX + rnd(2);
	r->last_rid = rnd(100000);
	r->n = rnd(4) ? rnd(PROP_E + 1) : 0;
	r->nm = rnd(3) ? 0 : rnd(PROP_M + 1);
	for (i = 0; i < r->n; i++)
		rnd_entry(&e[i], r->node, true);
	for (i = 0; i < r->nm; i++)
		rnd_entry(&m[i], r->node, false);
	r->e = r->n ? e : NULL;
	r->m = r->nm ? m : NULL;
}

static size_t rnd_chunk_max(void)
{
	switch (rnd(3)) {
	case 0: return FPREP_CHUNK_MAX;
	case 1: return FPREP_CHUNK_MIN;
	default: return FPREP_CHUNK_MIN + rnd(2000);
	}
}

static void test_prop_roundtrip(void **state)
{
	struct fpm_entry e[PROP_E], m[PROP_M];
	struct fpm_report r;
	struct fprep_asm a;
	struct chunks ch;
	unsigned i, taken = 0, refused_n = 0, multi = 0;
	int rc, takes;

	(void)state;
	fprep_asm_init(&a);
	for (i = 0; i < 3000; i++) {
		rnd_report(&r, e, m);
		takes = round_takes(&r);
		rc = chunks_of(&r, 1 + rnd(1000), rnd_chunk_max(), &ch);
		/* exactly the reports the core takes */
		assert_int_equal(rc, takes);
		if (rc) {
			refused_n++;
			continue;
		}
		taken++;
		if (ch.n > 1)
			multi++;
		assert_int_equal(assemble(&a, &ch), 1);
		report_equal(fprep_asm_report(&a), &r);
		assert_int_equal(round_takes(fprep_asm_report(&a)), 0);
		chunks_free(&ch);
	}
	/* the property saw both sides, and reports of several chunks */
	assert_true(taken > 1000 && refused_n > 100 && multi > 100);
	fprep_asm_free(&a);
}

static void test_prop_corrupt(void **state)
{
	struct fpm_entry e[PROP_E], m[PROP_M];
	struct fpm_entry own[FPREP_ENTS_IN(FPREP_CHUNK_MAX)];
	struct fpm_entry mas[FPREP_ENTS_IN(FPREP_CHUNK_MAX)];
	struct fpm_report r;
	struct fprep_chunk c;
	struct fprep_asm a;
	struct chunks ch;
	uint8_t *re = malloc(FPREP_CHUNK_MAX);
	unsigned i, k, complete = 0, decoded = 0;
	size_t j, n;
	int rc;

	(void)state;
	assert_non_null(re);
	fprep_asm_init(&a);
	for (i = 0; i < 3000; i++) {
		rnd_report(&r, e, m);
		if (chunks_of(&r, 1 + rnd(1000), rnd_chunk_max(), &ch))
			continue;
		/* one to four bytes of the chunks changed */
		for (k = 0; k <= rnd(4); k++) {
			j = rnd((uint32_t)ch.n);
			ch.buf[j][rnd((uint32_t)ch.len[j])] ^= (uint8_t)(1 + rnd(255));
		}
		if (rnd(8) == 0)
			ch.len[rnd((uint32_t)ch.n)] -= 8;
		for (j = 0; j < ch.n; j++) {
			if (fprep_decode(ch.buf[j], ch.len[j], &c, own,
					 FPREP_ENTS_IN(FPREP_CHUNK_MAX), mas,
					 FPREP_ENTS_IN(FPREP_CHUNK_MAX)))
				continue;
			decoded++;
			assert_int_equal(fprep_encode_chunk(&c, own, mas, re,
							    FPREP_CHUNK_MAX, &n), 0);
			assert_int_equal(n, ch.len[j]);
			assert_memory_equal(re, ch.buf[j], n);
		}
		rc = assemble(&a, &ch);
		if (rc == 1) {
			complete++;
			assert_int_equal(round_takes(fprep_asm_report(&a)), 0);
		}
		chunks_free(&ch);
	}
	/* corruption that decodes is the norm (names, ids, counters) */
	assert_true(complete > 100 && decoded > 1000);
	fprep_asm_free(&a);
	free(re);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hand_bytes),
		cmocka_unit_test(test_empty_report),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_decode_checks),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_asm_checks),
		cmocka_unit_test(test_asm_order),
		cmocka_unit_test(test_prop_roundtrip),
		cmocka_unit_test(test_prop_corrupt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
