/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_uidlist.c - libFuzzer target for the dovecot-uidlist v3 parser
 * (agents/dovecot/uidlist.c: uidlist_parse, which uidlist_read, the
 * delivery agent, the merge and the repair tool call on every file Dovecot
 * or another node wrote), its formatter and its writer.
 *
 * Input: the bytes of a dovecot-uidlist file, as read from disk.
 *
 * Properties checked, besides "no crash, no out-of-bounds read, no leak":
 *   - the result is one uidlist.h documents: 0, -EBADMSG (with a 1-based
 *     line inside the file and a reason), -EPROTONOSUPPORT (line 1, the
 *     version is not '3'); -EFBIG cannot happen at fuzzing sizes, -ENOMEM
 *     is allowed; after an error the list is empty;
 *   - the first failure names its line: every line before it is good, so
 *     the file cut before that line parses (a NUL byte is looked for in
 *     the whole file first: its error names the line of the first NUL);
 *   - parsing is deterministic (the same bytes, the same list or error);
 *   - an accepted list obeys uidlist.h, by checks written here anew: V
 *     and N non-zero, G empty or 32 hex digits, E kept apart, other header
 *     fields one key byte each, none twice and none of V, N, G, E; UIDs
 *     non-zero and strictly ascending; base names valid and never listed
 *     twice; record fields tokens "<A-Z><value>" separated by single
 *     spaces; next UID = max(N, highest UID + 1), so above every listed
 *     UID.  N itself may lag behind the highest UID (Dovecot appends
 *     without touching the header: its own files read "N3" with UIDs 1-3,
 *     or "N1" with UIDs 1-8, see the corpus), so "N > highest UID" is
 *     deliberately not a property;
 *   - round trip: uidlist_format of an accepted list parses back to the
 *     same list, and formatting that gives the same bytes again;
 *   - the writer: uidlist_write into a scratch directory, uidlist_read
 *     back: the same list with N raised to the next UID (the writer's
 *     rule), or the write refused (-E2BIG) exactly when a line would
 *     outgrow UIDLIST_LINE_MAX, so sdlm never writes a file it then
 *     refuses to read;
 *   - a delivery: appending one new message at the next UID is accepted
 *     and formats to a file that parses back with it.
 *
 * The scratch directory is made under $SDLM_FUZZ_TMPDIR, else /dev/shm,
 * else /tmp (fdatasync on tmpfs costs nothing) and removed at a normal
 * exit; after an abort it stays (t-fuzz.sh removes its whole tmpfs dir).
 *
 * --gen-corpus DIR writes the seeds (good files in Dovecot's shapes and
 * one malformed file per check; the same files are checked in under
 * tests/fuzz/corpus/fuzz_uidlist/ next to files written by Debian's
 * Dovecot 2.3.19.1) and exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzzseed.h"
#include "uidlist.h"

static char scratch[4096];

static const char *nz(const char *s)
{
	return s ? s : "";
}

static bool rec_equal(const struct uidlist_rec *a, const struct uidlist_rec *b)
{
	return a->uid == b->uid && strcmp(nz(a->fields), nz(b->fields)) == 0 &&
	       strcmp(a->name, b->name) == 0;
}

/* Same header and records; N compared only if with_n. */
static bool list_equal(const struct uidlist *a, const struct uidlist *b, bool with_n)
{
	size_t i;

	if (a->uidvalidity != b->uidvalidity || (with_n && a->next_uid != b->next_uid) ||
	    strcmp(a->guid, b->guid) || a->epoch != b->epoch ||
	    strcmp(nz(a->hdr_extra), nz(b->hdr_extra)) || a->nrecs != b->nrecs)
		return false;
	for (i = 0; i < a->nrecs; i++)
		if (!rec_equal(&a->recs[i], &b->recs[i]))
			return false;
	return true;
}

static bool list_empty(const struct uidlist *ul)
{
	return !ul->uidvalidity && !ul->next_uid && !ul->guid[0] && !ul->epoch &&
	       !ul->hdr_extra && !ul->recs && !ul->nrecs && !ul->cap;
}

static bool is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return s[n] == '\0';
}

/* Other header fields: tokens of a printable key byte and a value without
 * space or newline, single spaces, no key twice, none of V N G E. */
static bool extra_sane(const char *x)
{
	bool seen[256] = { false };
	const char *t = x;

	if (!x || !*x)
		return true;
	for (;;) {
		unsigned char key = (unsigned char)*t;
		const char *e = strchr(t, ' ');

		if (key < 0x21 || key > 0x7e || seen[key] || strchr("VNGE", key))
			return false;
		seen[key] = true;
		if (strchr(t, '\n') && (!e || strchr(t, '\n') < e))
			return false;
		if (!e)
			return true;
		t = e + 1;
		if (*t == '\0' || *t == ' ')
			return false;
	}
}

/* Record fields: "" or "<A-Z><value>" tokens separated by single spaces. */
static bool fields_sane(const char *f)
{
	size_t i, n;

	if (!f)
		return false;
	n = strlen(f);
	for (i = 0; i < n; i++) {
		if (f[i] == '\n')
			return false;
		if ((i == 0 || f[i - 1] == ' ') && !(f[i] >= 'A' && f[i] <= 'Z'))
			return false;
	}
	return n == 0 || f[n - 1] != ' ';
}

/* The rules of uidlist.h an accepted list must satisfy; false if one is
 * broken.  Names are compared pairwise only for small lists (the parser's
 * own duplicate check is a hash; this one is plain). */
static bool accepted_sane(const struct uidlist *ul)
{
	uint32_t hi = 0;
	size_t i, j, glen;

	if (ul->uidvalidity == 0 || ul->next_uid == 0)
		return false;
	if (ul->guid[0] && (strlen(ul->guid) != UIDLIST_GUID_HEX ||
			    !is_hex(ul->guid, UIDLIST_GUID_HEX)))
		return false;
	if (!extra_sane(ul->hdr_extra) || ul->nrecs > ul->cap || (ul->nrecs && !ul->recs))
		return false;
	for (i = 0; i < ul->nrecs; i++) {
		const struct uidlist_rec *r = &ul->recs[i];
		const char *g;

		if (r->uid == 0 || (i && r->uid <= ul->recs[i - 1].uid))
			return false;
		if (!r->name || uidlist_name_check(r->name) || !fields_sane(r->fields))
			return false;
		g = uidlist_rec_guid(r, &glen);
		if (!(g >= r->name && g + glen == r->name + strlen(r->name)) &&
		    !(g > r->fields && g + glen <= r->fields + strlen(r->fields)))
			return false;
		if (ul->nrecs <= 256)
			for (j = 0; j < i; j++)
				if (strcmp(ul->recs[j].name, r->name) == 0)
					return false;
		if (i < 64 && uidlist_find_name(ul, r->name) != (long)i)
			return false;
		hi = r->uid;
	}
	if (uidlist_max_uid(ul) != hi)
		return false;
	/* next UID = max(N, highest + 1): above every UID listed */
	if (uidlist_next_uid(ul) != (ul->next_uid > (uint64_t)hi + 1 ? ul->next_uid
								      : (uint64_t)hi + 1))
		return false;
	return uidlist_next_uid(ul) > hi;
}

/* Count the lines of buf (a last line without '\n' counts). */
static unsigned line_count(const char *buf, size_t len)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < len; i++)
		n += buf[i] == '\n';
	return n + (len && buf[len - 1] != '\n');
}

/* Bytes before line `line` (1-based). */
static size_t line_start(const char *buf, size_t len, unsigned line)
{
	size_t i;

	for (i = 0; i < len && line > 1; i++)
		if (buf[i] == '\n')
			line--;
	return i;
}

static size_t dec_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* Length of the header line uidlist_format writes for ul, without '\n'. */
static size_t header_len(const struct uidlist *ul)
{
	size_t n = 3 + dec_len(ul->uidvalidity) + 2 + dec_len(ul->next_uid);

	if (ul->guid[0])
		n += 2 + strlen(ul->guid);
	if (ul->epoch)
		n += 2 + dec_len(ul->epoch);
	if (ul->hdr_extra && ul->hdr_extra[0])
		n += 1 + strlen(ul->hdr_extra);
	return n;
}

static void check_error(const char *buf, size_t len, int rc,
			const struct uidlist *ul, const struct uidlist_err *err)
{
	struct uidlist pre;
	const char *z;
	size_t cut;

	if (!list_empty(ul))
		abort();
	switch (rc) {
	case -EBADMSG:
		if (err->line < 1 || err->line > line_count(buf, len) + (len == 0) ||
		    !err->msg[0] || !memchr(err->msg, '\0', sizeof(err->msg)))
			abort();
		/* The NUL check runs over the whole file first: it names the
		 * line of the first NUL even if an earlier line is bad too. */
		z = memchr(buf, '\0', len);
		if (z) {
			if (err->line != line_count(buf, (size_t)(z - buf) + 1))
				abort();
			break;
		}
		/* Otherwise the first failure wins: the lines before are good. */
		if (err->line >= 2) {
			cut = line_start(buf, len, err->line);
			if (uidlist_parse(buf, cut, &pre, NULL) != 0)
				abort();
			uidlist_free(&pre);
		}
		break;
	case -EPROTONOSUPPORT:
		if (err->line != 1 || len == 0 || buf[0] == '3')
			abort();
		break;
	case -ENOMEM:
		break;
	default:
		abort();
	}
}

static void check_format(const struct uidlist *ul)
{
	struct uidlist back;
	char *out = NULL, *out2 = NULL;
	size_t n = 0, n2 = 0;

	if (uidlist_format(ul, &out, &n) != 0)
		abort();
	if (n != strlen(out) || uidlist_parse(out, n, &back, NULL) != 0 ||
	    !list_equal(ul, &back, true))
		abort();
	if (uidlist_format(&back, &out2, &n2) != 0 || n2 != n || memcmp(out, out2, n))
		abort();
	uidlist_free(&back);
	free(out);
	free(out2);
}

static void check_write(const struct uidlist *ul)
{
	struct uidlist back, want = *ul;
	uint64_t next = uidlist_next_uid(ul);
	int rc;

	if (next <= UINT32_MAX)
		want.next_uid = (uint32_t)next;
	rc = uidlist_write(scratch, ul, NULL);
	if (header_len(&want) > UIDLIST_LINE_MAX) {
		if (rc != -E2BIG)
			abort();
		return;
	}
	if (rc != 0 || uidlist_read(scratch, &back, NULL) != 0 ||
	    !list_equal(&want, &back, true))
		abort();
	uidlist_free(&back);
}

/* A delivery: one new message at the next UID, then the file again. */
static void check_append(struct uidlist *ul)
{
	static const char name[] = "1795909999.M1P1.fuzz,S=48,W=53";
	struct uidlist back;
	uint64_t next = uidlist_next_uid(ul);
	char *out = NULL;
	size_t n = 0;

	if (next > UINT32_MAX) {
		if (uidlist_append(ul, UINT32_MAX, NULL, name) != -ERANGE)
			abort();
		return;
	}
	if (uidlist_find_name(ul, name) >= 0) {
		if (uidlist_append(ul, (uint32_t)next, "W53", name) != -EEXIST)
			abort();
		return;
	}
	if (uidlist_append(ul, (uint32_t)next, "W53", name) != 0 ||
	    uidlist_max_uid(ul) != next || uidlist_next_uid(ul) <= next)
		abort();
	if (uidlist_format(ul, &out, &n) != 0 || uidlist_parse(out, n, &back, NULL) != 0 ||
	    !list_equal(ul, &back, true))
		abort();
	uidlist_free(&back);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uidlist ul, ul2;
	struct uidlist_err err, err2;
	char *buf;
	int rc, rc2;

	buf = malloc(size ? size : 1);	/* exact size for ASan, no NUL after */
	if (!buf)
		return 0;
	memcpy(buf, data, size);

	memset(&err, 0x5a, sizeof(err));
	rc = uidlist_parse(buf, size, &ul, &err);
	rc2 = uidlist_parse(buf, size, &ul2, &err2);
	if (rc != rc2)
		abort();
	if (rc == 0) {
		if (!list_equal(&ul, &ul2, true) || !accepted_sane(&ul))
			abort();
		check_format(&ul);
		check_write(&ul);
		check_append(&ul);
	} else {
		if (err.line != err2.line || strcmp(err.msg, err2.msg))
			abort();
		check_error(buf, size, rc, &ul, &err);
	}
	uidlist_free(&ul);
	uidlist_free(&ul2);
	free(buf);
	return 0;
}

/* ---- scratch directory ---- */

static void scratch_remove(void)
{
	char p[4200];

	if (!scratch[0])
		return;
	snprintf(p, sizeof(p), "%s/" UIDLIST_FILE, scratch);
	unlink(p);
	snprintf(p, sizeof(p), "%s/" UIDLIST_TMP_FILE, scratch);
	unlink(p);
	rmdir(scratch);
}

static int scratch_make(void)
{
	const char *env = getenv("SDLM_FUZZ_TMPDIR");
	const char *base = env && *env ? env : access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	snprintf(scratch, sizeof(scratch), "%s/fuzz_uidlist.XXXXXX", base);
	if (!mkdtemp(scratch)) {
		perror(scratch);
		return -1;
	}
	atexit(scratch_remove);
	return 0;
}

/* ---- seed corpus ---- */

struct seed {
	const char *name;
	const char *text;
};

static const char nul_seed[] = "3 V1 N1\n1 :a\n2 :b\0c\n";

static const struct seed seeds[] = {
	/* good: the shapes Dovecot writes (contracts 5.1) */
	{ "good-saved", "3 V1795909359 N3 G83916f1aef660b6b7164000083ecc375\n"
		"1 :1795909359.M441979P25713.vm,S=48,W=53\n"
		"2 :1795909359.M558212P25718.vm,S=48,W=53\n"
		"3 :1795909359.M657430P25731.vm,S=48,W=53\n" },
	{ "good-empty", "3 V1275660208 N1 G3085f01b7f11094c501100008c4a11c1\n" },
	{ "good-fields", "3 V1275660208 N25022 G3085f01b7f11094c501100008c4a11c1\n"
		"25017 W2481 :1276533073.M242911P3632.kurkku\n"
		"25018 W2480 S2400 :1276533074.M1P1.kurkku\n"
		"25020 S100 G5f2b1e0a61e4b26a7f00000083ecc375 :1276533075.M1P1.kurkku\n" },
	{ "good-pop3", "3 V1700000000 N12 G0123456789abcdef0123456789abcdef P%08Xu%08Xv\n"
		"3 P00000003650e5f00 O1 W36 S32 :1700000001.M1P99.host\n"
		"7 P00000007650e5f00 O2 W36 S32 :1700000002.M2P99.host\n" },
	{ "good-epoch", "3 V77 N10 E42 Xextra\n1 :m1\n9 W5 :m9\n" },
	{ "good-no-guid", "3 N5 V7\n2 :a\n4 :b\n" },
	{ "good-lag", "3 V1 N1\n1 :a\n2 :b\n3 :c\n" },
	{ "good-top", "3 V4294967295 N4294967295 E18446744073709551615\n"
		"4294967295 :last\n" },
	{ "good-leading-zeros", "3 V0001 N007\n0005 W01 :x\n" },
	{ "good-colon-name", "3 V1 N3\n1 :a:2,S\n2 ::b\n" },
	/* bad: one per check of uidlist.c */
	{ "bad-empty", "" },
	{ "bad-version-1", "1 1234 5\n1 :a\n" },
	{ "bad-version-4", "4 V1 N1\n" },
	{ "bad-header-nofields", "3\n" },
	{ "bad-header-missing-n", "3 V5\n" },
	{ "bad-header-v0", "3 V0 N1\n" },
	{ "bad-header-twice", "3 V1 N1 V2\n" },
	{ "bad-header-guid", "3 V1 N1 Gxyz\n" },
	{ "bad-header-spaces", "3 V1  N1 \n" },
	{ "bad-huge-v", "3 V99999999999999999999999 N1\n" },
	{ "bad-huge-n", "3 V1 N4294967296\n" },
	{ "bad-huge-epoch", "3 V1 N1 E18446744073709551616\n" },
	{ "bad-huge-uid", "3 V1 N1\n4294967296 :a\n" },
	{ "bad-uid-0", "3 V1 N1\n0 :a\n" },
	{ "bad-descending", "3 V1 N10\n5 :a\n3 :b\n" },
	{ "bad-equal-uids", "3 V1 N1\n1 :a\n4 :b\n4 :c\n" },
	{ "bad-duplicate-name", "3 V1 N1\n1 :a\n2 :a\n" },
	{ "bad-missing-colon", "3 V1 N1\n1 W12 a\n" },
	{ "bad-no-colon", "3 V1 N1\n1 W12\n" },
	{ "bad-no-space", "3 V1 N1\n1:a\n" },
	{ "bad-ext-lower", "3 V1 N1\n1 w12 :a\n" },
	{ "bad-ext-spaces", "3 V1 N1\n1 W12  :a\n" },
	{ "bad-empty-name", "3 V1 N1\n1 :\n" },
	{ "bad-slash-name", "3 V1 N1\n1 :cur/a\n" },
	{ "bad-dot-name", "3 V1 N1\n1 :..\n" },
	{ "bad-crlf", "3 V1 N1\r\n1 :a\r\n" },
	{ "bad-empty-line", "3 V1 N1\n1 :a\n\n2 :b\n" },
	{ "bad-partial", "3 V1 N1\n1 :a\n2 :b" },
};

/* This target's input has no control byte: the list's bytes alone. */
static int write_seed(const char *dir, const char *name, const char *p, size_t n)
{
	struct fuzzseed s;

	if (fuzzseed_open(&s, dir, name, NULL))
		return -1;
	fuzzseed_put(&s, p, n);
	return fuzzseed_close(&s);
}

/* A header of exactly UIDLIST_LINE_MAX bytes with a lagging N, then a
 * record with a long UID: the longest header the parser takes. */
static int write_long_header(const char *dir)
{
	static const char head[] = "3 V1 N1 X";
	static const char tail[] = "\n4294967294 :a\n";
	size_t n = UIDLIST_LINE_MAX + sizeof(tail);
	char *b = malloc(n);
	int rc;

	if (!b)
		return -1;
	memcpy(b, head, sizeof(head) - 1);
	memset(b + sizeof(head) - 1, 'x', UIDLIST_LINE_MAX - (sizeof(head) - 1));
	memcpy(b + UIDLIST_LINE_MAX, tail, sizeof(tail) - 1);
	rc = write_seed(dir, "good-long-header", b, n - 1);
	free(b);
	return rc;
}

static int gen_corpus(const char *dir)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		rc |= write_seed(dir, seeds[i].name, seeds[i].text, strlen(seeds[i].text));
	rc |= write_seed(dir, "bad-nul", nul_seed, sizeof(nul_seed) - 1);
	rc |= write_long_header(dir);
	return rc;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (*argc >= 3 && strcmp((*argv)[1], "--gen-corpus") == 0)
		exit(gen_corpus((*argv)[2]) ? 1 : 0);
	if (scratch_make())
		exit(1);
	return 0;
}
