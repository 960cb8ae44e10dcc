/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_log.c - the debug ring under several logging threads.
 *
 * libqb calls the ring's target from whichever thread logs (the event
 * loop, the quorum probe, the CPG join threads through libqb's client
 * code).  Four threads log 10^6 lines of known shapes into a small ring
 * (it wraps thousands of times) while a fifth copies the ring now and
 * then, as `sdlmctl dump` does.  Every copy, and the ring at the end,
 * must hold whole lines only, each one a line some thread wrote, and no
 * more bytes than the ring has.  Without a lock a line is torn or
 * interleaved with another, and the write position can move between
 * computing the room and the copy: a write past the buffer (ASan's run
 * sees that too).
 *
 * test_exit_writes_queued: the log file is written by a writer thread from
 * a queue, and sdlmd also ends by exit() right after logging why (it never
 * held a lease; it self-fences with no watchdog).  A child logs more than
 * a pipe holds into a FIFO whose reader (the parent) reads only once the
 * child says it is done, then calls exit(): every line, the last one
 * included, must come out.  exit() ends the writer thread wherever it is
 * unless the log waits for it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "log.h"

#define THREADS		4
#define LINES		250000		/* per thread: 10^6 in all */
#define RING		4096

static atomic_bool writing;
static atomic_ulong bad_copies;
static char bad_line[256];

/* "<sec>.<usec> D w<t> <n> <pad>" where pad is (n % 40) times 'a' + t */
static bool line_ok(const char *line, size_t len)
{
	char l[256];
	unsigned t, n;
	int at = 0, k;
	size_t i;

	if (len >= sizeof(l))
		return false;
	memcpy(l, line, len);
	l[len] = '\0';
	if (sscanf(l, "%*u.%*6u D w%u %u %n", &t, &n, &at) != 2 || at <= 0 || t >= THREADS ||
	    n >= LINES)
		return false;
	k = (int)(n % 40);
	if (len != (size_t)at + (size_t)k)
		return false;
	for (i = 0; i < (size_t)k; i++)
		if (l[at + i] != (char)('a' + t))
			return false;
	return true;
}

/* 0 when every line of buf is whole and well formed, else the bad lines' count. */
static unsigned long check_ring(const char *buf, size_t len)
{
	unsigned long bad = 0;
	const char *p = buf, *e = buf + len, *nl;

	if (len > RING)
		return 1;
	while (p < e) {
		nl = memchr(p, '\n', (size_t)(e - p));
		if (!nl) {
			bad++;		/* a copy ends at a line's end */
			break;
		}
		if (!line_ok(p, (size_t)(nl - p))) {
			if (!bad)
				snprintf(bad_line, sizeof(bad_line), "%.*s", (int)(nl - p), p);
			bad++;
		}
		p = nl + 1;
	}
	return bad;
}

static void *writer(void *arg)
{
	unsigned t = (unsigned)(uintptr_t)arg, n;
	char pad[41];

	for (n = 0; n < LINES; n++) {
		memset(pad, 'a' + t, n % 40);
		pad[n % 40] = '\0';
		qb_log(LOG_DEBUG, "w%u %u %s", t, n, pad);
	}
	return NULL;
}

static void *reader(void *arg)
{
	(void)arg;
	while (atomic_load(&writing)) {
		char *b;
		size_t len;

		if (log_ring_copy(&b, &len) == 0) {
			atomic_fetch_add(&bad_copies, check_ring(b, len));
			free(b);
		}
	}
	return NULL;
}

static void test_ring_threads(void **state)
{
	struct log_setup ls = { .ident = "test_log", .level = LOG_ERR, .ring_size = RING };
	pthread_t w[THREADS], r;
	unsigned long bad;
	unsigned i;
	char *b;
	size_t len;

	(void)state;
	assert_int_equal(log_init(&ls), 0);
	atomic_store(&writing, true);
	assert_int_equal(pthread_create(&r, NULL, reader, NULL), 0);
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&w[i], NULL, writer, (void *)(uintptr_t)i), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(w[i], NULL);
	atomic_store(&writing, false);
	pthread_join(r, NULL);

	assert_int_equal(log_ring_copy(&b, &len), 0);
	bad = check_ring(b, len);
	if (bad || atomic_load(&bad_copies))
		print_message("torn or foreign lines: %lu at the end, %lu in copies taken meanwhile; first: '%s'\n",
			      bad, (unsigned long)atomic_load(&bad_copies), bad_line);
	assert_true(len > RING / 2);	/* it did fill (and wrap) */
	assert_int_equal(bad, 0);
	assert_int_equal(atomic_load(&bad_copies), 0);
	free(b);
	log_fini();
}

#define EXIT_LINES	3000	/* ~100 bytes each: several pipes full */

static void exit_child(const char *fifo, int rfd, int done_fd)
{
	struct log_setup ls = { .ident = "test_log", .file = fifo, .level = LOG_INFO,
				.ring_size = RING };
	char pad[81];
	unsigned n;

	close(rfd);
	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	if (log_init(&ls) < 0)
		_exit(2);
	for (n = 0; n < EXIT_LINES; n++)
		qb_log(LOG_INFO, "line %u %s", n, pad);
	qb_log(LOG_INFO, "the last line");
	if (write(done_fd, "d", 1) != 1)
		_exit(3);
	exit(0);	/* as sdlmd's never_held_exit: no log_fini */
}

static void test_exit_writes_queued(void **state)
{
	char dir[] = "/tmp/test_log.XXXXXX", fifo[64], c, *buf, *p;
	size_t len = 0, cap = 1 << 20;
	int sync[2], rfd, st;
	unsigned lines = 0;
	ssize_t r;
	pid_t pid;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/log", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	/* a reader first, so that the child's open does not wait */
	rfd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(rfd >= 0);
	assert_int_equal(pipe(sync), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sync[0]);
		exit_child(fifo, rfd, sync[1]);
	}
	close(sync[1]);
	/* the child has logged everything (or died: EOF) */
	(void)read(sync[0], &c, 1);
	close(sync[0]);
	assert_int_equal(fcntl(rfd, F_SETFL, 0), 0);
	buf = malloc(cap);
	assert_non_null(buf);
	while (len < cap - 1 && (r = read(rfd, buf + len, cap - 1 - len)) != 0) {
		if (r < 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	close(rfd);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	for (p = buf; (p = strchr(p, '\n')); p++)
		lines++;
	if (lines != EXIT_LINES + 1)
		print_message("%u of %u lines reached the log file before exit()\n", lines,
			      EXIT_LINES + 1);
	assert_int_equal(lines, EXIT_LINES + 1);
	assert_non_null(strstr(buf, "the last line\n"));
	free(buf);
	unlink(fifo);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_threads),
		cmocka_unit_test(test_exit_writes_queued),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
