/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_watchdog.c - the watchdog backends (fence/watchdog.c) against real
 * FIFOs, a regular file and /dev/null; the FIFO's reader plays
 * sdlm-watchdog and checks the exact bytes the backend writes.
 *
 * Files go under $SDLM_TEST_DIR, else the current directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "watchdog.h"

struct fixture {
	char	dir[PATH_MAX - 16];	/* leaves room for "/wd.fifo" */
	char	fifo[PATH_MAX];
	char	file[PATH_MAX];
};

static int setup(void **state)
{
	const char *base = getenv("SDLM_TEST_DIR");
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	if (snprintf(fx->dir, sizeof(fx->dir), "%s/test_watchdog.XXXXXX",
		     base && *base ? base : ".") >= (int)sizeof(fx->dir) ||
	    !mkdtemp(fx->dir)) {
		free(fx);
		return -1;
	}
	snprintf(fx->fifo, sizeof(fx->fifo), "%s/wd.fifo", fx->dir);
	snprintf(fx->file, sizeof(fx->file), "%s/wd.file", fx->dir);
	if (mkfifo(fx->fifo, 0600) < 0) {
		rmdir(fx->dir);
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	unlink(fx->fifo);
	unlink(fx->file);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* The test's end of the FIFO: what sdlm-watchdog would hold. */
static int reader_open(const struct fixture *fx)
{
	int fd = open(fx->fifo, O_RDONLY | O_NONBLOCK);

	assert_true(fd >= 0);
	return fd;
}

/* Everything buffered in the FIFO, NUL-terminated; returns read()'s last. */
static ssize_t reader_drain(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while ((n = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	return n;
}

static void test_fifo_no_reader(void **state)
{
	struct fixture *fx = *state;
	struct wd *w = NULL;
	const char *why = NULL;

	assert_int_equal(wd_open(&w, fx->fifo, 5, &why), -ENXIO);
	assert_null(w);
	assert_non_null(why);
	assert_non_null(strstr(why, "sdlm-watchdog"));
}

static void test_regular_file(void **state)
{
	struct fixture *fx = *state;
	struct wd *w = NULL;
	const char *why = NULL;
	char buf[8];
	int fd;

	fd = open(fx->file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);

	assert_int_equal(wd_open(&w, fx->file, 5, &why), -ENOTSUP);
	assert_null(w);
	assert_non_null(why);

	/* Refused before opening: the file must be untouched. */
	fd = open(fx->file, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 0);
	close(fd);
}

static void test_missing_path(void **state)
{
	struct fixture *fx = *state;
	struct wd *w = NULL;
	const char *why = NULL;

	assert_int_equal(wd_open(&w, fx->file, 5, &why), -ENOENT);
	assert_null(w);
	assert_non_null(why);
}

static void test_bad_args(void **state)
{
	struct fixture *fx = *state;
	struct wd *w = NULL;
	const char *why = NULL;

	assert_int_equal(wd_open(&w, fx->fifo, 0, &why), -EINVAL);
	assert_int_equal(wd_open(&w, NULL, 5, &why), -EINVAL);
	assert_int_equal(wd_open(NULL, fx->fifo, 5, NULL), -EINVAL);
	assert_null(w);
}

/* A character device that is no watchdog: WDIOC_GETSUPPORT fails. */
static void test_chardev_not_watchdog(void **state)
{
	struct wd *w = NULL;
	const char *why = NULL;

	(void)state;
	assert_int_equal(wd_open(&w, "/dev/null", 5, &why), -ENOTSUP);
	assert_null(w);
	assert_non_null(why);
	assert_non_null(strstr(why, "not a watchdog"));
}

static void test_none(void **state)
{
	struct wd *w = NULL;
	const char *why = NULL;

	(void)state;
	assert_int_equal(wd_open(&w, WD_PATH_NONE, 5, &why), 0);
	assert_non_null(w);
	/* "none" succeeds with a warning the caller must log. */
	assert_non_null(why);
	assert_int_equal(wd_kind(w), WD_KIND_NONE);
	assert_int_equal(wd_timeout_s(w), 0);
	assert_int_equal(wd_feed(w), 0);
	assert_int_equal(wd_close_magic(w), 0);

	assert_int_equal(wd_open(&w, WD_PATH_NONE, 5, NULL), 0);
	wd_close_nomagic(w);
}

/* Open arms with one byte; each feed is one non-'V' byte; 'V' then EOF. */
static void test_fifo_feed_magic_close(void **state)
{
	struct fixture *fx = *state;
	struct wd *w = NULL;
	const char *why = "unset";
	char buf[64];
	int rfd;

	rfd = reader_open(fx);
	assert_int_equal(wd_open(&w, fx->fifo, 7, &why), 0);
	assert_null(why);
	assert_int_equal(wd_kind(w), WD_KIND_FIFO);
	assert_int_equal(wd_timeout_s(w), 7);

	assert_int_equal(reader_drain(rfd, buf, sizeof(buf)), -1);
	assert_int_equal(strlen(buf), 1);
	assert_true(buf[0] != 'V');

	assert_int_equal(wd_feed(w), 0);
	assert_int_equal(wd_feed(w), 0);
	assert_int_equal(wd_feed(w), 0);
	assert_int_equal(reader_drain(rfd, buf, sizeof(buf)), -1);
	assert_int_equal(strlen(buf), 3);
	assert_null(strchr(buf, 'V'));

	assert_int_equal(wd_close_magic(w), 0);
	/* read() returns 0: EOF, every writer closed, right after the 'V'. */
	assert_int_equal(reader_drain(rfd, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "V");
	close(rfd);
}

static void test_fifo_close_nomagic(void **state)
{
	struct fixture *fx = *state;
	struct wd *w = NULL;
	char buf[64];
	int rfd;

	rfd = reader_open(fx);
	assert_int_equal(wd_open(&w, fx->fifo, 7, NULL), 0);
	assert_int_equal(wd_feed(w), 0);
	wd_close_nomagic(w);

	assert_int_equal(reader_drain(rfd, buf, sizeof(buf)), 0);
	assert_int_equal(strlen(buf), 2);
	assert_null(strchr(buf, 'V'));
	close(rfd);
}

/*
 * The watchdog process dies: the feed reports -EPIPE, and the caller is
 * not killed by SIGPIPE even with the default disposition, nor left with
 * a pending one.
 */
static void test_fifo_reader_gone(void **state)
{
	struct fixture *fx = *state;
	struct sigaction dfl, old;
	struct wd *w = NULL;
	sigset_t pending;
	int rfd;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	assert_int_equal(sigaction(SIGPIPE, &dfl, &old), 0);

	rfd = reader_open(fx);
	assert_int_equal(wd_open(&w, fx->fifo, 7, NULL), 0);
	close(rfd);

	assert_int_equal(wd_feed(w), -EPIPE);
	assert_int_equal(wd_feed(w), -EPIPE);
	assert_int_equal(sigpending(&pending), 0);
	assert_int_equal(sigismember(&pending, SIGPIPE), 0);
	assert_int_equal(wd_close_magic(w), -EPIPE);

	sigaction(SIGPIPE, &old, NULL);
}

/* A reader that stops reading: the feed must not block sdlmd. */
static void test_fifo_full(void **state)
{
	struct fixture *fx = *state;
	struct wd *w = NULL;
	int rfd, i, rv = 0;

	rfd = reader_open(fx);
	assert_int_equal(wd_open(&w, fx->fifo, 7, NULL), 0);
	for (i = 0; i < 1 << 20 && rv == 0; i++)
		rv = wd_feed(w);
	assert_int_equal(rv, -EAGAIN);
	assert_true(i > 1);
	wd_close_nomagic(w);
	close(rfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fifo_no_reader,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_regular_file,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_path,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_args,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_chardev_not_watchdog,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_feed_magic_close,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_close_nomagic,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_reader_gone,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_full,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
