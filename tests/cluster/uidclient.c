/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidclient - a test client of the UID service: allocates UIDs through
 * libsdlm in a loop and writes a history line per UID, so a checker can
 * prove uniqueness and ascending visibility.
 *
 *   uidclient LOCKSPACE MAILBOX COUNT ITERATIONS LABEL HISTORY [HOLD_MS]
 *
 * For each iteration: alloc COUNT UIDs; write "got LABEL MAILBOX UIDVALIDITY
 * UID EPOCH T" per UID (T = CLOCK_MONOTONIC ns; one clock for every node of
 * a test cluster on one machine); sleep HOLD_MS (the message being
 * written); write "commit LABEL MAILBOX UIDVALIDITY FIRST LAST T" (the
 * moment the message is visible, still under the allocation); commit.
 * Lines are appended with O_APPEND writes of one line each.  Exit 0 when
 * every iteration succeeded, 1 at the first error (printed on stderr).
 *
 * Environment (tests of libsdlm's UID timeout):
 *   UIDCLIENT_TIMEOUT_MS  sdlm_uid_set_timeout() of the handle
 *   UIDCLIENT_RETRY_SLOW  an allocation that ends in SDLM_ESLOW prints
 *                         "uidclient LABEL: slow after N ms" and is tried
 *                         again on the same handle (never more than 100 times)
 *   UIDCLIENT_LINGER_MS   stay connected this long after the last commit
 *                         (prints "uidclient LABEL: lingering")
 *   UIDCLIENT_IDLE_SLOW_MS  an allocation that ends in SDLM_ESLOW prints
 *                         "uidclient LABEL: slow after N ms, idle", and the
 *                         client stays connected this long without another
 *                         call on the handle, then exits 0 (a caller that
 *                         gave up and went quiet)
 *
 *   uidclient --burst LOCKSPACE PREFIX N PROCS LABEL HISTORY
 *
 * A burst over many mailboxes at once: PROCS processes, each with its own
 * connection, allocate one UID (and commit it, history lines as above) in
 * each of the mailboxes PREFIX0 .. PREFIX<N-1>, process k taking those
 * whose number is k modulo PROCS.  On a node that holds none of them it
 * is a burst of N takeovers, PROCS at a time.  Exit 0 when every
 * allocation and commit succeeded.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sdlm.h"
#include "clock.h"

static void put(int fd, const char *line)
{
	size_t n = strlen(line);

	if (write(fd, line, n) != (ssize_t)n)
		perror("uidclient: history");
}

/* One allocation of one UID in mailbox mb, recorded and committed. */
static int alloc_one(sdlm_handle_t *h, int fd, const char *ls, const char *mb,
		     const char *label)
{
	struct sdlm_uid_result r;
	char line[256];
	int rc;

	rc = sdlm_uid_alloc(h, ls, mb, 1, &r);
	if (rc < 0) {
		fprintf(stderr, "uidclient %s: alloc in %s: %s\n", label, mb, sdlm_strerror(rc));
		return rc;
	}
	snprintf(line, sizeof(line), "got %s %s %u %u %llu %llu\n", label, mb,
		 r.uidvalidity, r.first, (unsigned long long)r.epoch, (unsigned long long)clock_monotonic_ns());
	put(fd, line);
	snprintf(line, sizeof(line), "commit %s %s %u %u %u %llu\n", label, mb,
		 r.uidvalidity, r.first, r.first, (unsigned long long)clock_monotonic_ns());
	put(fd, line);
	rc = sdlm_uid_commit(h, &r);
	if (rc < 0)
		fprintf(stderr, "uidclient %s: commit in %s: %s\n", label, mb, sdlm_strerror(rc));
	return rc;
}

static int burst(char **argv)
{
	const char *ls = argv[0], *prefix = argv[1], *label = argv[4];
	unsigned n = (unsigned)strtoul(argv[2], NULL, 10);
	unsigned procs = (unsigned)strtoul(argv[3], NULL, 10);
	unsigned k, i, failed = 0;
	char mb[128];
	int fd, status;
	pid_t pid;

	if (!n || !procs) {
		fprintf(stderr, "uidclient --burst: N and PROCS must be above 0\n");
		return 2;
	}
	fd = open(argv[5], O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd < 0) {
		perror(argv[5]);
		return 2;
	}
	for (k = 0; k < procs; k++) {
		pid = fork();
		if (pid < 0) {
			perror("uidclient --burst: fork");
			failed++;
			break;
		}
		if (pid == 0) {
			sdlm_handle_t *h;
			int rc = sdlm_connect(NULL, &h);

			if (rc < 0) {
				fprintf(stderr, "uidclient %s: connect: %s\n", label, sdlm_strerror(rc));
				_exit(1);
			}
			for (i = k; i < n; i += procs) {
				snprintf(mb, sizeof(mb), "%s%u", prefix, i);
				if (alloc_one(h, fd, ls, mb, label) < 0)
					_exit(1);
			}
			sdlm_disconnect(h);
			_exit(0);
		}
	}
	while ((pid = wait(&status)) > 0 || (pid < 0 && errno == EINTR))
		if (pid > 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
			failed++;
	close(fd);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct sdlm_uid_result r;
	sdlm_handle_t *h;
	char line[256];
	unsigned count, iters, i, k, hold_ms = 0;
	int fd, rc;

	if (argc == 8 && !strcmp(argv[1], "--burst"))
		return burst(argv + 2);
	if (argc < 7) {
		fprintf(stderr, "usage: uidclient LOCKSPACE MAILBOX COUNT ITERATIONS LABEL HISTORY [HOLD_MS]\n       uidclient --burst LOCKSPACE PREFIX N PROCS LABEL HISTORY\n");
		return 2;
	}
	count = (unsigned)strtoul(argv[3], NULL, 10);
	iters = (unsigned)strtoul(argv[4], NULL, 10);
	if (argc > 7)
		hold_ms = (unsigned)strtoul(argv[7], NULL, 10);
	fd = open(argv[6], O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd < 0) {
		perror(argv[6]);
		return 2;
	}
	rc = sdlm_connect(NULL, &h);
	if (rc < 0) {
		fprintf(stderr, "uidclient %s: connect: %s\n", argv[5], sdlm_strerror(rc));
		return 1;
	}
	if (getenv("UIDCLIENT_TIMEOUT_MS"))
		sdlm_uid_set_timeout(h, (unsigned)strtoul(getenv("UIDCLIENT_TIMEOUT_MS"), NULL, 10));
	for (i = 0; i < iters; i++) {
		unsigned slow = 0;
		unsigned long long t0 = (unsigned long long)clock_monotonic_ns();

		rc = sdlm_uid_alloc(h, argv[1], argv[2], count, &r);
		if (rc == SDLM_ESLOW && getenv("UIDCLIENT_IDLE_SLOW_MS")) {
			printf("uidclient %s: slow after %llu ms, idle\n", argv[5],
			       ((unsigned long long)clock_monotonic_ns() - t0) / 1000000);
			fflush(stdout);
			usleep((useconds_t)strtoul(getenv("UIDCLIENT_IDLE_SLOW_MS"), NULL, 10) * 1000);
			sdlm_disconnect(h);
			close(fd);
			return 0;
		}
		while (rc == SDLM_ESLOW && getenv("UIDCLIENT_RETRY_SLOW") && slow++ < 100) {
			printf("uidclient %s: slow after %llu ms\n", argv[5], ((unsigned long long)clock_monotonic_ns() - t0) / 1000000);
			fflush(stdout);
			t0 = (unsigned long long)clock_monotonic_ns();
			rc = sdlm_uid_alloc(h, argv[1], argv[2], count, &r);
		}
		if (rc < 0) {
			fprintf(stderr, "uidclient %s: alloc #%u: %s\n", argv[5], i, sdlm_strerror(rc));
			return 1;
		}
		for (k = 0; k < r.count; k++) {
			snprintf(line, sizeof(line), "got %s %s %u %u %llu %llu\n", argv[5], argv[2],
				 r.uidvalidity, r.first + k, (unsigned long long)r.epoch, (unsigned long long)clock_monotonic_ns());
			put(fd, line);
		}
		if (hold_ms)
			usleep(hold_ms * 1000);
		/* The message is in the store now (visible): record that
		 * moment while the allocation is still held, then commit. */
		snprintf(line, sizeof(line), "commit %s %s %u %u %u %llu\n", argv[5], argv[2],
			 r.uidvalidity, r.first, r.first + r.count - 1, (unsigned long long)clock_monotonic_ns());
		put(fd, line);
		rc = sdlm_uid_commit(h, &r);
		if (rc < 0) {
			fprintf(stderr, "uidclient %s: commit #%u: %s\n", argv[5], i, sdlm_strerror(rc));
			return 1;
		}
	}
	if (getenv("UIDCLIENT_LINGER_MS")) {
		printf("uidclient %s: lingering\n", argv[5]);
		fflush(stdout);
		usleep((useconds_t)strtoul(getenv("UIDCLIENT_LINGER_MS"), NULL, 10) * 1000);
	}
	sdlm_disconnect(h);
	close(fd);
	return 0;
}
