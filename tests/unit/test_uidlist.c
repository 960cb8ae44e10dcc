/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_uidlist.c - unit tests of agents/dovecot/uidlist.c: the
 * dovecot-uidlist v3 parser and formatter, the next-UID rule, and the
 * locked writer on a real directory.
 *
 * Malformed files must be rejected with the right line number and never
 * crash: every case below is also cut at every length (a truncated file,
 * as a crash in the middle of a write could leave) and must either parse
 * or fail cleanly.  Files go under $SDLM_TEST_DIR, else the current
 * directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "uidlist.h"

static const char good[] =
	"3 V1275660208 N25022 G3085f01b7f11094c501100008c4a11c1 E7 P%08Xu\n"
	"25017 W2481 :1276533073.M242911P3632.kurkku\n"
	"25018 :1276533074.M1P1.kurkku\n"
	"25020 S100 GABCDEF :1276533075.M1P1.kurkku\n";

static void test_parse_good(void **state)
{
	struct uidlist ul;
	struct uidlist_err err;
	size_t gl;
	const char *g;

	(void)state;
	assert_int_equal(uidlist_parse(good, strlen(good), &ul, &err), 0);
	assert_int_equal(ul.uidvalidity, 1275660208u);
	assert_int_equal(ul.next_uid, 25022);
	assert_string_equal(ul.guid, "3085f01b7f11094c501100008c4a11c1");
	assert_int_equal(ul.epoch, 7);
	assert_string_equal(ul.hdr_extra, "P%08Xu");
	assert_int_equal(ul.nrecs, 3);
	assert_int_equal(ul.recs[0].uid, 25017);
	assert_string_equal(ul.recs[0].fields, "W2481");
	assert_string_equal(ul.recs[0].name, "1276533073.M242911P3632.kurkku");
	assert_string_equal(ul.recs[1].fields, "");
	g = uidlist_rec_guid(&ul.recs[1], &gl);
	assert_int_equal(gl, strlen("1276533074.M1P1.kurkku"));
	assert_memory_equal(g, "1276533074.M1P1.kurkku", gl);
	g = uidlist_rec_guid(&ul.recs[2], &gl);
	assert_int_equal(gl, 6);
	assert_memory_equal(g, "ABCDEF", 6);
	assert_int_equal(uidlist_max_uid(&ul), 25020);
	assert_int_equal(uidlist_next_uid(&ul), 25022);
	assert_int_equal(uidlist_find_name(&ul, "1276533074.M1P1.kurkku"), 1);
	assert_int_equal(uidlist_find_name(&ul, "nope"), -ENOENT);
	uidlist_free(&ul);
}

static void test_round_trip(void **state)
{
	struct uidlist ul, ul2;
	char *out = NULL, *out2 = NULL;
	size_t len = 0, len2 = 0;

	(void)state;
	assert_int_equal(uidlist_parse(good, strlen(good), &ul, NULL), 0);
	assert_int_equal(uidlist_format(&ul, &out, &len), 0);
	/* Header fields come out in our order: V N G E, then the rest. */
	assert_int_equal(len, strlen(good));
	assert_string_equal(out, good);
	assert_int_equal(uidlist_parse(out, len, &ul2, NULL), 0);
	assert_int_equal(uidlist_format(&ul2, &out2, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(out, out2, len);
	uidlist_free(&ul);
	uidlist_free(&ul2);
	free(out);
	free(out2);
}

static void test_next_uid_rule(void **state)
{
	static const char lag[] = "3 V5 N1\n1 :a\n2 :b\n3 :c\n";
	static const char ahead[] = "3 V5 N40\n1 :a\n2 :b\n";
	static const char empty[] = "3 V5 N9 G00000000000000000000000000000000\n";
	static const char top[] = "3 V5 N4294967295\n4294967295 :z\n";
	struct uidlist ul;

	(void)state;
	assert_int_equal(uidlist_parse(lag, strlen(lag), &ul, NULL), 0);
	assert_int_equal(uidlist_next_uid(&ul), 4);	/* N lags: highest + 1 */
	uidlist_free(&ul);
	assert_int_equal(uidlist_parse(ahead, strlen(ahead), &ul, NULL), 0);
	assert_int_equal(uidlist_next_uid(&ul), 40);	/* N ahead: N */
	uidlist_free(&ul);
	assert_int_equal(uidlist_parse(empty, strlen(empty), &ul, NULL), 0);
	assert_int_equal(uidlist_next_uid(&ul), 9);
	assert_int_equal(uidlist_max_uid(&ul), 0);
	uidlist_free(&ul);
	assert_int_equal(uidlist_parse(top, strlen(top), &ul, NULL), 0);
	assert_true(uidlist_next_uid(&ul) == 4294967296ull);	/* used up */
	uidlist_free(&ul);
}

static void test_append(void **state)
{
	static const char base[] = "3 V5 N1\n1 :a\n";
	struct uidlist ul;
	char *out = NULL;

	(void)state;
	assert_int_equal(uidlist_parse(base, strlen(base), &ul, NULL), 0);
	assert_int_equal(uidlist_append(&ul, 1, NULL, "b"), -ERANGE);
	assert_int_equal(uidlist_append(&ul, 0, NULL, "b"), -EINVAL);
	assert_int_equal(uidlist_append(&ul, 5, NULL, "a"), -EEXIST);
	assert_int_equal(uidlist_append(&ul, 5, NULL, "x/y"), -EINVAL);
	assert_int_equal(uidlist_append(&ul, 5, NULL, "x:2,S"), -EINVAL);
	assert_int_equal(uidlist_append(&ul, 5, "w12", "b"), -EINVAL);
	assert_int_equal(uidlist_append(&ul, 5, "W12 ", "b"), -EINVAL);
	assert_int_equal(uidlist_append(&ul, 5, "W12 S10", "b"), 0);
	assert_int_equal(uidlist_append(&ul, 6, "", "c"), 0);
	assert_int_equal(uidlist_next_uid(&ul), 7);
	assert_int_equal(uidlist_format(&ul, &out, NULL), 0);
	assert_string_equal(out, "3 V5 N1\n1 :a\n5 W12 S10 :b\n6 :c\n");
	free(out);
	uidlist_free(&ul);
}

struct bad_case {
	const char *text;
	int rv;
	unsigned line;
	const char *msg;	/* substring of the reason */
};

static const struct bad_case bad[] = {
	{ "", -EBADMSG, 1, "Empty" },
	{ "1 1234 5\n", -EPROTONOSUPPORT, 1, "version" },
	{ "4 V1 N1\n", -EPROTONOSUPPORT, 1, "version" },
	{ "3\n", -EBADMSG, 1, "Broken header" },
	{ "3 N5\n", -EBADMSG, 1, "missing V" },
	{ "3 V5\n", -EBADMSG, 1, "missing N" },
	{ "3 V0 N1\n", -EBADMSG, 1, "bad V" },
	{ "3 V1 N0\n", -EBADMSG, 1, "bad N" },
	{ "3 V4294967296 N1\n", -EBADMSG, 1, "bad V" },
	{ "3 V1 N1 V2\n", -EBADMSG, 1, "twice" },
	{ "3 V1 N1 Gabc\n", -EBADMSG, 1, "32 hex" },
	{ "3 V1 N1 E0\n", -EBADMSG, 1, "epoch" },
	{ "3 V1  N1\n", -EBADMSG, 1, "empty field" },
	{ "3 V1 N1 \n", -EBADMSG, 1, "trailing" },
	{ "3 V1 N1\n1 :a\n1 :b\n", -EBADMSG, 3, "UIDs not ordered (1 >= 1)" },
	{ "3 V1 N1\n1 :a\n4 :b\n4 :c\n", -EBADMSG, 4, "UIDs not ordered (4 >= 4)" },
	{ "3 V1 N1\n1 :a\n2 :a\n", -EBADMSG, 3, "Duplicate file entry" },
	{ "3 V1 N1\n0 :a\n", -EBADMSG, 2, "Invalid UID" },
	{ "3 V1 N1\nx :a\n", -EBADMSG, 2, "Invalid UID" },
	{ "3 V1 N1\n4294967296 :a\n", -EBADMSG, 2, "Invalid UID" },
	{ "3 V1 N1\n1:a\n", -EBADMSG, 2, "Missing space" },
	{ "3 V1 N1\n1 a\n", -EBADMSG, 2, "extension key" },
	{ "3 V1 N1\n1 W12\n", -EBADMSG, 2, "Missing ':'" },
	{ "3 V1 N1\n1 :\n", -EBADMSG, 2, "Empty file name" },
	{ "3 V1 N1\n1 :a/b\n", -EBADMSG, 2, "Invalid file name" },
	{ "3 V1 N1\n1 :a\n\n", -EBADMSG, 3, "Empty line" },
	{ "3 V1 N1\n1 :a\n2 :b", -EBADMSG, 3, "No newline" },
	{ "3 V1 N1\n1 :a\r\n", -EBADMSG, 2, "Invalid file name" },
};

static void test_malformed(void **state)
{
	struct uidlist_err err;
	struct uidlist ul;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rv = uidlist_parse(bad[i].text, strlen(bad[i].text), &ul, &err);

		if (rv != bad[i].rv || err.line != bad[i].line ||
		    !strstr(err.msg, bad[i].msg))
			fail_msg("case %zu \"%s\": rv %d line %u \"%s\"", i, bad[i].text,
				 rv, err.line, err.msg);
		assert_int_equal(ul.nrecs, 0);
		assert_null(ul.recs);
	}
}

static void test_nul_and_bounds(void **state)
{
	static const char nul[] = "3 V1 N1\n1 :a\n2 :b\0c\n";
	struct uidlist_err err;
	struct uidlist ul;
	size_t n = UIDLIST_LINE_MAX + 64;
	char *big;

	(void)state;
	assert_int_equal(uidlist_parse(nul, sizeof(nul) - 1, &ul, &err), -EBADMSG);
	assert_int_equal(err.line, 3);
	assert_non_null(strstr(err.msg, "NUL"));

	big = malloc(n + 16);
	assert_non_null(big);
	memcpy(big, "3 V1 N1\n1 :", 11);
	memset(big + 11, 'x', n - 12);
	big[n - 1] = '\n';
	assert_int_equal(uidlist_parse(big, n, &ul, &err), -EBADMSG);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.msg, "too long"));
	free(big);
}

/* Every prefix of every case: parses or fails cleanly (ASan watches). */
static void test_truncations(void **state)
{
	struct uidlist ul;
	size_t i, cut;

	(void)state;
	for (cut = 0; cut <= strlen(good); cut++) {
		char *copy = malloc(cut + 1);
		int rv;

		assert_non_null(copy);
		memcpy(copy, good, cut);	/* not NUL-terminated on purpose */
		rv = uidlist_parse(copy, cut, &ul, NULL);
		/* Only whole lines parse. */
		if (cut > 0 && good[cut - 1] == '\n')
			assert_int_equal(rv, 0);
		else
			assert_int_equal(rv, -EBADMSG);
		uidlist_free(&ul);
		free(copy);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		for (cut = 0; cut <= strlen(bad[i].text); cut++) {
			char *copy = malloc(cut + 1);

			assert_non_null(copy);
			memcpy(copy, bad[i].text, cut);
			(void)uidlist_parse(copy, cut, &ul, NULL);
			uidlist_free(&ul);
			free(copy);
		}
}

static char *test_dir(void)
{
	const char *base = getenv("SDLM_TEST_DIR");
	char *d = NULL;

	if (asprintf(&d, "%s/test_uidlist.XXXXXX", base && *base ? base : ".") < 0)
		return NULL;
	return mkdtemp(d);
}

static void test_write_and_lock(void **state)
{
	struct uidlist ul, back;
	struct uidlist_lock lk, lk2;
	char path[4096], tmp[4096];
	struct stat st;
	char *dir = test_dir();

	(void)state;
	assert_non_null(dir);
	assert_int_equal(uidlist_read(dir, &back, NULL), -ENOENT);
	assert_int_equal(uidlist_lock(dir, 1000, 0, &lk), 0);
	/* A second taker times out while we hold it. */
	assert_int_equal(uidlist_lock(dir, 20, 0, &lk2), -ETIMEDOUT);

	uidlist_init(&ul);
	ul.uidvalidity = 77;
	ul.next_uid = 1;
	ul.epoch = 3;
	assert_int_equal(uidlist_append(&ul, 1, NULL, "m1"), 0);
	assert_int_equal(uidlist_append(&ul, 9, "W5", "m9"), 0);
	assert_int_equal(uidlist_write(dir, &ul, NULL), 0);
	snprintf(tmp, sizeof(tmp), "%s/" UIDLIST_TMP_FILE, dir);
	assert_int_equal(stat(tmp, &st), -1);	/* renamed away */
	assert_int_equal(uidlist_read(dir, &back, NULL), 0);
	assert_int_equal(back.next_uid, 10);	/* the writer raises N */
	assert_int_equal(back.epoch, 3);
	assert_int_equal(back.nrecs, 2);
	assert_string_equal(back.recs[1].fields, "W5");
	uidlist_free(&back);

	assert_int_equal(uidlist_unlock(&lk), 0);
	snprintf(path, sizeof(path), "%s/" UIDLIST_LOCK_FILE, dir);
	assert_int_equal(stat(path, &st), -1);

	/* A lock replaced under us is reported, and the new one left alone. */
	assert_int_equal(uidlist_lock(dir, 1000, 0, &lk), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(uidlist_lock(dir, 1000, 0, &lk2), 0);
	assert_int_equal(uidlist_unlock(&lk), -ESTALE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(uidlist_unlock(&lk2), 0);

	/* A lock that was taken over is noticed before the publishing
	 * rename: the uidlist stays as it was. */
	assert_int_equal(uidlist_lock(dir, 1000, 0, &lk), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(uidlist_lock(dir, 1000, 0, &lk2), 0);
	assert_int_equal(uidlist_lock_check(&lk), -ESTALE);
	assert_int_equal(uidlist_lock_refresh(&lk), -ESTALE);
	assert_int_equal(uidlist_append(&ul, 10, NULL, "m10"), 0);
	assert_int_equal(uidlist_write(dir, &ul, &lk), -ESTALE);
	assert_int_equal(uidlist_read(dir, &back, NULL), 0);
	assert_int_equal(back.nrecs, 2);
	uidlist_free(&back);
	assert_int_equal(uidlist_write(dir, &ul, &lk2), 0);
	assert_int_equal(uidlist_unlock(&lk), -ESTALE);
	assert_int_equal(uidlist_unlock(&lk2), 0);

	/* An old lock of unknown owner is stale only after stale_s of our
	 * own clock, whatever its mtime. */
	{
		struct timespec old[2] = { { time(NULL) - 600, 0 }, { time(NULL) - 600, 0 } };
		struct timespec t0, t1;
		int fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0644);

		assert_true(fd >= 0);
		close(fd);
		assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(uidlist_lock(dir, 10000, 1, &lk), 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		assert_true((t1.tv_sec - t0.tv_sec) * 1000 +
			    (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 1000);
		assert_int_equal(uidlist_unlock(&lk), 0);
	}
	/* A lock of a process of this host that is gone: broken at once. */
	{
		char text[320], host[256] = "";
		pid_t dead = fork();
		int fd, n;

		assert_true(dead >= 0);
		if (dead == 0)
			_exit(0);
		assert_int_equal(waitpid(dead, NULL, 0), dead);
		gethostname(host, sizeof(host) - 1);
		n = snprintf(text, sizeof(text), "%d:%s", (int)dead, host);
		fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0644);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, text, (size_t)n), n);
		close(fd);
		assert_int_equal(uidlist_lock(dir, 300, 0, &lk), 0);
		assert_int_equal(uidlist_unlock(&lk), 0);
	}

	snprintf(path, sizeof(path), "%s/" UIDLIST_FILE, dir);
	unlink(path);
	rmdir(dir);
	free(dir);
	uidlist_free(&ul);
}

/*
 * Never write what the parser refuses (the writer round trip of
 * tests/fuzz/fuzz_uidlist; input tests/fuzz/regress/fuzz_uidlist/
 * long-header-raised-n): a header of
 * exactly UIDLIST_LINE_MAX bytes with a lagging N parses, but the writer
 * raises N to the next UID, the header grows past the bound and the file
 * written could not be read back ("Line too long").  A record line made
 * long by uidlist_append's fields is the same case.  Now such a list is
 * refused with -E2BIG and the file on disk is left as it was.
 */
static void test_write_line_bound(void **state)
{
	static const char head[] = "3 V1 N1 X";
	static const char tail[] = "\n4294967294 :a\n";
	static const char old[] = "3 V1 N2\n1 :old\n";
	size_t n = UIDLIST_LINE_MAX + sizeof(tail) - 1;
	struct uidlist ul, back;
	struct stat st;
	char path[4096];
	char *buf, *out = NULL, *fields;
	char *dir = test_dir();
	size_t len;

	(void)state;
	assert_non_null(dir);
	buf = malloc(n);
	assert_non_null(buf);
	memcpy(buf, head, sizeof(head) - 1);
	memset(buf + sizeof(head) - 1, 'x', UIDLIST_LINE_MAX - (sizeof(head) - 1));
	memcpy(buf + UIDLIST_LINE_MAX, tail, sizeof(tail) - 1);
	assert_int_equal(uidlist_parse(buf, n, &ul, NULL), 0);
	/* As read, it formats back (N unchanged, same length). */
	assert_int_equal(uidlist_format(&ul, &out, &len), 0);
	assert_int_equal(len, n);
	free(out);
	/* The writer would raise N1 to N4294967295: 9 bytes too long.  The
	 * file there stays, and no temporary file is left. */
	assert_int_equal(uidlist_parse(old, strlen(old), &back, NULL), 0);
	assert_int_equal(uidlist_write(dir, &back, NULL), 0);
	uidlist_free(&back);
	assert_int_equal(uidlist_write(dir, &ul, NULL), -E2BIG);
	assert_int_equal(uidlist_read(dir, &back, NULL), 0);
	assert_int_equal(back.nrecs, 1);
	assert_string_equal(back.recs[0].name, "old");
	uidlist_free(&back);
	snprintf(path, sizeof(path), "%s/" UIDLIST_TMP_FILE, dir);
	assert_int_equal(stat(path, &st), -1);
	snprintf(path, sizeof(path), "%s/" UIDLIST_FILE, dir);
	uidlist_free(&ul);

	/* A record line over the bound, through uidlist_append's fields. */
	uidlist_init(&ul);
	ul.uidvalidity = 1;
	ul.next_uid = 1;
	fields = malloc(UIDLIST_LINE_MAX);
	assert_non_null(fields);
	memset(fields, 'W', UIDLIST_LINE_MAX - 4);
	fields[UIDLIST_LINE_MAX - 4] = '\0';
	assert_int_equal(uidlist_append(&ul, 1, fields, "a"), 0);
	assert_int_equal(uidlist_format(&ul, &out, &len), -E2BIG);
	uidlist_free(&ul);
	/* One byte shorter than the bound on its line: written and read. */
	uidlist_init(&ul);
	ul.uidvalidity = 1;
	ul.next_uid = 1;
	fields[UIDLIST_LINE_MAX - 5] = '\0';	/* "1 " + fields + " :a" = LINE_MAX */
	assert_int_equal(uidlist_append(&ul, 1, fields, "a"), 0);
	assert_int_equal(uidlist_write(dir, &ul, NULL), 0);
	assert_int_equal(uidlist_read(dir, &back, NULL), 0);
	assert_int_equal(back.nrecs, 1);
	assert_string_equal(back.recs[0].fields, fields);
	uidlist_free(&back);
	uidlist_free(&ul);

	unlink(path);
	rmdir(dir);
	free(fields);
	free(buf);
	free(dir);
}

/*
 * Issue 14 item 2: the stale rule follows Dovecot's, not the lock file's
 * mtime against our clock.  A lock whose mtime lies 600 s in the past
 * (a clock behind ours: another node, the NFS server, a step) but whose
 * holder is alive must not be broken.
 */
static void test_lock_skewed_mtime_live_holder(void **state)
{
	struct timespec old[2] = { { time(NULL) - 600, 0 }, { time(NULL) - 600, 0 } };
	struct uidlist_lock lk;
	char path[4096], host[256] = "", text[320];
	char *dir = test_dir();
	int fd, n;

	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/" UIDLIST_LOCK_FILE, dir);
	gethostname(host, sizeof(host) - 1);
	n = snprintf(text, sizeof(text), "%d:%s", (int)getpid(), host);
	fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, (size_t)n), n);
	close(fd);
	assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
	assert_int_equal(uidlist_lock(dir, 300, 0, &lk), -ETIMEDOUT);
	unlink(path);
	rmdir(dir);
	free(dir);
}

/*
 * A holder that refreshes its lock keeps it for longer than stale_s: a
 * waiter with the same stale_s times out instead of breaking it.  The
 * holder is a child process refreshing in a loop for 3 stale periods.
 */
static void test_lock_refresh_keeps_it(void **state)
{
	struct uidlist_lock lk;
	char *dir = test_dir();
	int go[2], status;
	pid_t child;
	char c;

	(void)state;
	assert_non_null(dir);
	assert_int_equal(pipe(go), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct timespec t0, t;

		if (uidlist_lock(dir, 1000, 2, &lk) != 0)
			_exit(1);
		if (write(go[1], "x", 1) != 1)
			_exit(1);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		do {
			if (uidlist_lock_refresh(&lk) != 0)
				_exit(2);
			usleep(20000);
			clock_gettime(CLOCK_MONOTONIC, &t);
		} while (t.tv_sec - t0.tv_sec < 6);
		_exit(uidlist_unlock(&lk) == 0 ? 0 : 3);
	}
	assert_int_equal(read(go[0], &c, 1), 1);
	assert_int_equal(uidlist_lock(dir, 4500, 2, &lk), -ETIMEDOUT);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(go[0]);
	close(go[1]);
	rmdir(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_next_uid_rule),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_nul_and_bounds),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_write_and_lock),
		cmocka_unit_test(test_write_line_bound),
		cmocka_unit_test(test_lock_skewed_mtime_live_holder),
		cmocka_unit_test(test_lock_refresh_keeps_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
