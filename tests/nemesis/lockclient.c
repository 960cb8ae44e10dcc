/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lockclient - the workload of the nemesis runs (docs/nemesis.md): a client
 * of libsdlm that alternates UID allocations and increments of a shared
 * counter under an EX lock, and appends one history line per operation
 * invoked and per operation completed.
 *
 *   lockclient run NODE LABEL HISTORY COUNTER [-l LS] [-m MAILBOX]
 *              [-r RESOURCE] [-H HOLD_MS] [-t LOCK_TIMEOUT_MS]
 *              [-s STOPFILE] [-n ITERATIONS]
 *   lockclient now          print CLOCK_MONOTONIC in ns (for the driver)
 *   lockclient counter-init COUNTER
 *
 * One round (until STOPFILE exists, or ITERATIONS rounds):
 *
 *   UID:   invoke -> sdlm_uid_alloc(1) --ok--> got -> sleep HOLD -> commit
 *                      |                                  -> sdlm_uid_commit
 *                      +--error--> fail                        |error: fail
 *   LOCK:  invoke -> sdlm_lock(EX, LOCK_TIMEOUT) --ok--> enter (read counter)
 *                      |             -> sleep HOLD -> write counter+1 -> exit
 *                      +--error--> fail               -> sdlm_unlock
 *
 * History lines (T = CLOCK_MONOTONIC ns: one clock for every node of a test
 * cluster on one machine; fields separated by one space, no field empty):
 *
 *   invoke NODE LABEL uid|lock MAILBOX|RESOURCE T
 *   got    LABEL MAILBOX UIDVALIDITY UID EPOCH T NODE
 *   commit LABEL MAILBOX UIDVALIDITY FIRST LAST T NODE
 *   enter  LABEL RESOURCE VALUE_READ WRITER_OF_IT T NODE
 *   exit   LABEL RESOURCE VALUE_WRITTEN T NODE
 *   fail   NODE LABEL OP TARGET ERRNO_OR_SDLM_ERROR T
 *
 * "got" and "commit" are tests/cluster/uidclient's lines with the node
 * appended, so tests/cluster/uidcheck.py reads this history unchanged.
 *
 * The counter file holds one fixed-width record "VALUE WRITER\n" and is
 * rewritten in place with one pwrite, so a reader never sees a torn value
 * from a writer that ran to completion.  A client killed inside the
 * critical section leaves an "enter" without an "exit": the checker knows
 * its write may or may not have landed.
 *
 * Errors are part of the workload, not of the client: a lock request that
 * times out in a minority, a daemon that went away, an allocation refused
 * while fencing - each is a "fail" line, after which the client reconnects
 * and goes on.  Exit status 0 when it stopped on STOPFILE or ran its
 * ITERATIONS rounds without an error, 1 when one of those rounds failed
 * (the driver's recovery probe is "lockclient run ... -n 1"), 2 on a usage
 * or history-file error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sdlm.h"
#include "clock.h"

#define COUNTER_REC_LEN	64	/* "%020llu %-42s\n" */
#define LINE_MAX_LEN	384

struct client {
	const char *node;
	const char *label;
	const char *ls;
	const char *mailbox;
	const char *resource;
	const char *stop;
	unsigned hold_ms;
	unsigned lock_timeout_ms;
	unsigned long iterations;
	int hist_fd;
	int ctr_fd;
	sdlm_handle_t *h;
};

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* One line, one O_APPEND write: lines of concurrent clients never mix. */
static void hist_put(struct client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void hist_put(struct client *c, const char *fmt, ...)
{
	char line[LINE_MAX_LEN];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	if (write(c->hist_fd, line, (size_t)n) != n)
		perror("lockclient: history");
}

static void hist_fail(struct client *c, const char *op, const char *target, int err)
{
	hist_put(c, "fail %s %s %s %s %d %llu\n", c->node, c->label, op, target, err, (unsigned long long)clock_monotonic_ns());
}

/* Returns 0 or the sdlm_connect error. */
static int client_reconnect(struct client *c)
{
	int rc;

	if (c->h) {
		sdlm_disconnect(c->h);
		c->h = NULL;
	}
	rc = sdlm_connect(NULL, &c->h);
	if (rc < 0) {
		c->h = NULL;
		hist_fail(c, "connect", "-", rc);
	}
	return rc;
}

static int counter_read(int fd, unsigned long long *value, char *writer, size_t wlen)
{
	char rec[COUNTER_REC_LEN + 1];
	char who[COUNTER_REC_LEN];
	ssize_t n;

	n = pread(fd, rec, COUNTER_REC_LEN, 0);
	if (n != COUNTER_REC_LEN)
		return n < 0 ? -errno : -EIO;
	rec[COUNTER_REC_LEN] = '\0';
	if (sscanf(rec, "%llu %63s", value, who) != 2)
		return -EIO;
	snprintf(writer, wlen, "%s", who);
	return 0;
}

static int counter_write(int fd, unsigned long long value, const char *writer)
{
	char rec[COUNTER_REC_LEN + 1];

	snprintf(rec, sizeof(rec), "%020llu %-42.42s\n", value, writer);
	if (pwrite(fd, rec, COUNTER_REC_LEN, 0) != COUNTER_REC_LEN)
		return -EIO;
	return 0;
}

/* Returns 0, or the error that made the connection suspect. */
static int op_uid(struct client *c)
{
	struct sdlm_uid_result r;
	int rc;

	hist_put(c, "invoke %s %s uid %s %llu\n", c->node, c->label, c->mailbox, (unsigned long long)clock_monotonic_ns());
	rc = sdlm_uid_alloc(c->h, c->ls, c->mailbox, 1, &r);
	if (rc < 0) {
		hist_fail(c, "uid", c->mailbox, rc);
		return rc;
	}
	hist_put(c, "got %s %s %u %u %llu %llu %s\n", c->label, c->mailbox, r.uidvalidity,
		 r.first, (unsigned long long)r.epoch, (unsigned long long)clock_monotonic_ns(), c->node);
	if (c->hold_ms)
		sleep_ms(c->hold_ms);
	/* Visible in the store now, still under the allocation (uidclient). */
	hist_put(c, "commit %s %s %u %u %u %llu %s\n", c->label, c->mailbox, r.uidvalidity,
		 r.first, r.first + r.count - 1, (unsigned long long)clock_monotonic_ns(), c->node);
	rc = sdlm_uid_commit(c->h, &r);
	if (rc < 0)
		hist_fail(c, "uid-commit", c->mailbox, rc);
	return rc;
}

static int op_lock(struct client *c)
{
	struct sdlm_lksb lksb;
	unsigned long long v;
	char writer[COUNTER_REC_LEN];
	int rc, urc;

	memset(&lksb, 0, sizeof(lksb));
	hist_put(c, "invoke %s %s lock %s %llu\n", c->node, c->label, c->resource, (unsigned long long)clock_monotonic_ns());
	rc = sdlm_lock(c->h, c->ls, c->resource, SDLM_EX, 0, c->lock_timeout_ms, &lksb);
	if (rc < 0) {
		hist_fail(c, "lock", c->resource, rc);
		return rc;
	}
	rc = counter_read(c->ctr_fd, &v, writer, sizeof(writer));
	if (rc < 0) {
		hist_fail(c, "counter-read", c->resource, rc);
		goto out_unlock;
	}
	hist_put(c, "enter %s %s %llu %s %llu %s\n", c->label, c->resource, v, writer,
		 (unsigned long long)clock_monotonic_ns(), c->node);
	/* The sleep widens the window a second holder would need. */
	if (c->hold_ms)
		sleep_ms(c->hold_ms);
	rc = counter_write(c->ctr_fd, v + 1, c->label);
	if (rc < 0) {
		hist_fail(c, "counter-write", c->resource, rc);
		goto out_unlock;
	}
	hist_put(c, "exit %s %s %llu %llu %s\n", c->label, c->resource, v + 1, (unsigned long long)clock_monotonic_ns(), c->node);
out_unlock:
	urc = sdlm_unlock(c->h, &lksb, 0);
	if (urc < 0) {
		hist_fail(c, "unlock", c->resource, urc);
		if (!rc)
			rc = urc;
	}
	return rc;
}

/* Returns 0, or 1 when a round of a bounded run (-n) failed. */
static int client_run(struct client *c)
{
	unsigned long i;
	int rc, failed = 0;

	for (i = 0; !c->iterations || i < c->iterations; i++) {
		if (c->stop && access(c->stop, F_OK) == 0)
			break;
		if (!c->h && client_reconnect(c) < 0) {
			failed = 1;
			sleep_ms(200);
			continue;
		}
		rc = op_uid(c);
		if (rc == 0)
			rc = op_lock(c);
		/* Any error may have been the connection: start afresh,
		 * after a pause so a lost daemon is not hammered. */
		if (rc < 0) {
			failed = 1;
			sdlm_disconnect(c->h);
			c->h = NULL;
			sleep_ms(100);
		}
	}
	if (c->h)
		sdlm_disconnect(c->h);
	return c->iterations && failed ? 1 : 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: lockclient run NODE LABEL HISTORY COUNTER [-l LS] [-m MAILBOX]\n"
		"                  [-r RESOURCE] [-H HOLD_MS] [-t LOCK_TIMEOUT_MS]\n"
		"                  [-s STOPFILE] [-n ITERATIONS]\n"
		"       lockclient now\n"
		"       lockclient counter-init COUNTER\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct client c = {
		.ls = "t", .mailbox = "mb", .resource = "counter",
		.hold_ms = 20, .lock_timeout_ms = 10000, .hist_fd = -1, .ctr_fd = -1,
	};
	int opt, rc = 2;

	if (argc >= 2 && !strcmp(argv[1], "now")) {
		printf("%llu\n", (unsigned long long)clock_monotonic_ns());
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "counter-init")) {
		c.ctr_fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (c.ctr_fd < 0 || counter_write(c.ctr_fd, 0, "init") < 0) {
			perror(argv[2]);
			return 2;
		}
		close(c.ctr_fd);
		return 0;
	}
	if (argc < 6 || strcmp(argv[1], "run"))
		return usage();
	c.node = argv[2];
	c.label = argv[3];
	optind = 6;
	while ((opt = getopt(argc, argv, "l:m:r:H:t:s:n:")) != -1) {
		switch (opt) {
		case 'l': c.ls = optarg; break;
		case 'm': c.mailbox = optarg; break;
		case 'r': c.resource = optarg; break;
		case 'H': c.hold_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't': c.lock_timeout_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's': c.stop = optarg; break;
		case 'n': c.iterations = strtoul(optarg, NULL, 10); break;
		default: return usage();
		}
	}
	if (strchr(c.label, ' ') || strlen(c.label) > 42)
		return usage();
	c.hist_fd = open(argv[4], O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (c.hist_fd < 0) {
		perror(argv[4]);
		goto out;
	}
	c.ctr_fd = open(argv[5], O_RDWR);
	if (c.ctr_fd < 0) {
		perror(argv[5]);
		goto out_close_hist;
	}
	rc = client_run(&c);
	close(c.ctr_fd);
out_close_hist:
	close(c.hist_fd);
out:
	return rc;
}
