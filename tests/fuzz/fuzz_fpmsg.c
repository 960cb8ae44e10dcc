/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_fpmsg.c - libFuzzer target for the fast path's master messages
 * (dlm/core/fpmsg.c: fpm_msg_decode, fpm_msg_encode; and fpm_input of
 * dlm/core/fpmaster.c behind them).
 *
 * Input: one control byte, then messages, each preceded by its sender
 * (one byte: node 1 + b % 3) and its length (u8; the last one takes what
 * is left).  Control bit 0 "core": the messages also go, in order, to a
 * core of node 2 in epoch 1 of members 1, 2, 3 (every node live, the gate
 * open), which holds a lock of its own on "r0" and waits for one on "r1".
 * Control bit 1 "report" (with the core): before the messages, a count
 * byte (k % 5) and k report entries of ENT_LEN bytes each, node 1's
 * report of the round that opens epoch 2 (fpm_round_complete: its own
 * entries and, as old master, its entries for non-members), each list
 * in an array of its exact size (ASan sees a read past it); bit 2
 * "away": node 3 is not a member of epoch 2, away.  An entry:
 *	0 list (bit 0: the old master's)   1 node   2 lkid's node
 *	3 lkid's counter   4 rid   5 grmode (0xff none)   6 rqmode
 *	7 flags (wire)   8 namelen   9..15 the name's first bytes
 *
 * Properties checked, besides "no crash, no out-of-bounds read, no leak":
 *   - fpm_msg_decode zeroes the message on error;
 *   - one message, one encoding: whatever decodes encodes again to the
 *     very same bytes;
 *   - with the core, every message it sends encodes (never to itself),
 *     and no output is lost;
 *   - a report fpm_round_complete accepts has only entries that pass
 *     the report checks of fpmaster.h (checked here again, by hand).
 *
 * --gen-corpus DIR writes one message of each type, each without and
 * with the core, four report rounds (two with a name longer than
 * SDLM_NAME_MAX: 65 and 255 bytes), and exits.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fpmaster.h"
#include "fuzzseed.h"
#include "modes.h"
#include "sdlm_errors.h"

#define CTL_CORE	0x1u
#define CTL_REPORT	0x2u
#define CTL_AWAY	0x4u
#define ENT_LEN		16
#define ENT_MAX		4

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

static void entry_of(const uint8_t *b, struct fpm_entry *en)
{
	memset(en, 0, sizeof(*en));
	en->node = b[1];
	en->lkid = (uint64_t)b[2] << 32 | b[3];
	en->rid = b[4];
	en->grmode = b[5] == 0xff ? MODE_NONE : (int8_t)b[5];
	en->rqmode = b[6] == 0xff ? MODE_NONE : (int8_t)b[6];
	en->flags = ls_lkf_wire(b[7]);
	en->namelen = b[8];
	memcpy(en->name, b + 9, ENT_LEN - 9);
}

/* The report checks of fpmaster.h, written again from the list. */
static int entry_sane(const struct fpm_entry *en)
{
	return en->namelen >= 1 && en->namelen <= SDLM_NAME_MAX &&
	       en->node >= 1 && en->node <= SDLM_MAX_NODES &&
	       (en->lkid >> 32) == en->node &&
	       (en->grmode == MODE_NONE || mode_valid(en->grmode)) &&
	       mode_valid(en->rqmode) && !(en->flags & ~LS_LKF_ALL);
}

/* Node 1's report from data (at *pos), and the round of epoch 2. */
static void report_round(struct fpm *fp, const uint8_t *data, size_t size,
			 size_t *pos, bool away, struct fpm_out *out)
{
	static const uint32_t all[3] = { 1, 2, 3 }, three[1] = { 3 };
	static const struct fpm_member mem[3] = { { 1, 11 }, { 2, 22 }, { 3, 33 } };
	struct fpm_entry *e = NULL, *m = NULL, tmp;
	struct fpm_report rep[3];
	struct fpm_epoch ep;
	size_t k, i, ne = 0, nm = 0, n = away ? 2 : 3;
	bool sane = true;
	int rc;

	if (*pos >= size)
		return;
	k = data[(*pos)++] % (ENT_MAX + 1);
	if (k > (size - *pos) / ENT_LEN)
		k = (size - *pos) / ENT_LEN;
	for (i = 0; i < k; i++)
		if (data[*pos + i * ENT_LEN] & 1)
			nm++;
	ne = k - nm;
	/* exact sizes, so that a read past the last entry is ASan's */
	if (ne && !(e = malloc(ne * sizeof(*e))))
		goto out;
	if (nm && !(m = malloc(nm * sizeof(*m))))
		goto out;
	ne = nm = 0;
	for (i = 0; i < k; i++) {
		entry_of(data + *pos + i * ENT_LEN, &tmp);
		if (!entry_sane(&tmp))
			sane = false;
		if (data[*pos + i * ENT_LEN] & 1) {
			m[nm++] = tmp;
		} else {
			if (tmp.node != 1)
				sane = false;
			e[ne++] = tmp;
		}
	}
	*pos += k * ENT_LEN;
	if (fpm_confchg(fp, all, n, true))
		abort();
	memset(rep, 0, sizeof(rep));
	rep[0].node = 1;
	rep[0].epoch = 1;
	rep[0].n = ne;
	rep[0].e = e;
	rep[0].nm = nm;
	rep[0].m = m;
	rep[1] = *fpm_report(fp);
	rep[2].node = 3;
	memset(&ep, 0, sizeof(ep));
	ep.epoch = 2;
	ep.members = mem;
	ep.n = n;
	ep.prev_epoch = 1;
	ep.prev = all;
	ep.nprev = 3;
	ep.away = away ? three : NULL;
	ep.naway = away ? 1 : 0;
	rc = fpm_round_complete(fp, &ep, rep, n, out);
	if (rc == 0 && !sane)
		abort();
	if (rc == 0)
		check_out(out);
out:
	free(e);
	free(m);
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
		if (data[0] & CTL_REPORT)
			report_round(fp, data, size, &pos, data[0] & CTL_AWAY, &out);
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

/* Each seed twice: decoder only, and with CTL_CORE. */
static int put(const char *dir, const char *name, uint32_t from,
	       const struct fpm_msg *m)
{
	uint8_t hdr[2];
	size_t n;

	if (fpm_msg_encode(m, enc, sizeof(enc), &n))
		return -1;
	hdr[0] = (uint8_t)(from - 1);
	hdr[1] = (uint8_t)n;
	return fuzzseed_frame(dir, name, "-core", CTL_CORE, hdr, enc, n);
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

/* A report seed: the core, node 1's report (a PR held on "r0", an EX
 * waited for on "r1", as old master an EX of node 3 on "r2"), node 3
 * away or not, then one P_REQUEST of node 1 (epoch 2). */
static int put_report(const char *dir, const char *name, bool away,
		      uint8_t namelen)
{
	static const uint8_t ents[3][ENT_LEN] = {
		{ 0, 1, 1, 7, 3, MODE_PR, MODE_PR, 0, 2, 'r', '0' },
		{ 0, 1, 1, 8, 4, 0xff, MODE_EX, 0, 2, 'r', '1' },
		{ 1, 3, 3, 1, 1, MODE_EX, MODE_EX, 0, 2, 'r', '2' },
	};
	uint8_t ent[3][ENT_LEN], hdr[2];
	struct fpm_msg m;
	struct fuzzseed s;
	size_t n;

	memcpy(ent, ents, sizeof(ent));
	ent[2][8] = namelen;
	msg(&m, FPM_P_REQUEST, MODE_PR, 9, (uint64_t)1 << 32 | 9, "r3");
	m.epoch = 2;
	if (fpm_msg_encode(&m, enc, sizeof(enc), &n))
		return -1;
	hdr[0] = 0;
	hdr[1] = (uint8_t)n;
	if (fuzzseed_open(&s, dir, name, NULL))
		return -1;
	fuzzseed_put8(&s, CTL_CORE | CTL_REPORT | (away ? CTL_AWAY : 0));
	fuzzseed_put8(&s, 3);	/* entries */
	fuzzseed_put(&s, ent, sizeof(ent));
	fuzzseed_put(&s, hdr, 2);
	fuzzseed_put(&s, enc, n);
	return fuzzseed_close(&s);
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
	if (put_report(dir, "report", false, 2) ||
	    put_report(dir, "report-away", true, 2) ||
	    put_report(dir, "report-name65", true, SDLM_NAME_MAX + 1) ||
	    put_report(dir, "report-name255", true, 255))
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
