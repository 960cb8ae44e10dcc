/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log.c - libqb log targets and the in-memory debug ring.
 *
 * The ring is a byte array written circularly; a line that does not fit at
 * the end wraps around.  log_ring_copy() returns it oldest-first, starting
 * after the first newline past the write position so no torn line is shown.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <stdio.h>
#include <sys/stat.h>

#include "log.h"

static struct {
	char *buf;
	size_t size;
	size_t pos;		/* next byte to write */
	bool wrapped;
	int target;
} ring = { .target = -1 };

static struct {
	int target;		/* libqb file target, -1 = no log file */
	char path[4096];
} logfile = { .target = -1 };

static void ring_put(const char *s, size_t n)
{
	while (n > 0) {
		size_t room = ring.size - ring.pos;
		size_t k = n < room ? n : room;

		memcpy(ring.buf + ring.pos, s, k);
		ring.pos += k;
		s += k;
		n -= k;
		if (ring.pos == ring.size) {
			ring.pos = 0;
			ring.wrapped = true;
		}
	}
}

static void ring_log(int32_t t, struct qb_log_callsite *cs,
		     struct timespec *ts, const char *msg)
{
	char line[QB_LOG_MAX_LEN + 64];
	struct timespec mono;
	int n;

	if (!ring.buf)
		return;
	/* Monotonic seconds: the ring is for correlating events on one node. */
	clock_gettime(CLOCK_BOOTTIME, &mono);
	n = snprintf(line, sizeof(line), "%lld.%06ld %c %s\n",
		     (long long)mono.tv_sec, mono.tv_nsec / 1000,
		     "EACEWNID"[cs->priority & 7], msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	ring_put(line, (size_t)n);
}

int log_level_parse(const char *name)
{
	static const struct { const char *n; int l; } lv[] = {
		{ "err", LOG_ERR }, { "error", LOG_ERR },
		{ "warning", LOG_WARNING }, { "warn", LOG_WARNING },
		{ "notice", LOG_NOTICE }, { "info", LOG_INFO },
		{ "debug", LOG_DEBUG },
	};
	size_t i;

	for (i = 0; i < sizeof(lv) / sizeof(lv[0]); i++)
		if (!strcasecmp(name, lv[i].n))
			return lv[i].l;
	return -EINVAL;
}

/* Returns 0 or -errno. */
int log_init(const struct log_setup *ls)
{
	const char *fmt = "%T %N[%P] %p %b";	/* %T: with milliseconds */
	int32_t ft;

	qb_log_init(ls->ident, LOG_DAEMON, LOG_INFO);
	qb_log_format_set(QB_LOG_SYSLOG, "%b");
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, ls->syslog ? QB_TRUE : QB_FALSE);
	qb_log_filter_ctl(QB_LOG_SYSLOG, QB_LOG_FILTER_CLEAR_ALL, QB_LOG_FILTER_FILE, "*", 0);
	qb_log_filter_ctl(QB_LOG_SYSLOG, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", ls->level);

	qb_log_format_set(QB_LOG_STDERR, fmt);
	qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", ls->level);
	qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED,
		   ls->to_stderr && !(ls->journal && ls->syslog) ? QB_TRUE : QB_FALSE);

	if (ls->file && ls->file[0] && strcmp(ls->file, "none")) {
		char dir[4096];
		char *slash;

		/* The default /var/log/sdlm may not exist yet: create it. */
		snprintf(dir, sizeof(dir), "%s", ls->file);
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			if (mkdir(dir, 0750) < 0 && errno != EEXIST)
				return -errno;
		}
		ft = qb_log_file_open(ls->file);
		if (ft < 0)
			return ft;
		qb_log_format_set(ft, fmt);
		qb_log_filter_ctl(ft, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", ls->level);
		qb_log_ctl(ft, QB_LOG_CONF_ENABLED, QB_TRUE);
		logfile.target = ft;
		snprintf(logfile.path, sizeof(logfile.path), "%s", ls->file);
	}

	ring.size = ls->ring_size ? ls->ring_size : 1 << 20;
	ring.buf = calloc(1, ring.size);
	if (!ring.buf)
		return -ENOMEM;
	ring.target = qb_log_custom_open(ring_log, NULL, NULL, NULL);
	if (ring.target < 0)
		return ring.target;
	qb_log_filter_ctl(ring.target, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_TRACE);
	qb_log_ctl(ring.target, QB_LOG_CONF_ENABLED, QB_TRUE);
	return 0;
}

int log_reopen(void)
{
	if (logfile.target < 0)
		return 0;
	return qb_log_file_reopen(logfile.target, logfile.path);
}

bool log_stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_fini(void)
{
	qb_log_fini();
	logfile.target = -1;
	free(ring.buf);
	ring.buf = NULL;
}

/* Returns 0 or -ENOMEM. */
int log_ring_copy(char **out, size_t *len)
{
	size_t n = ring.wrapped ? ring.size : ring.pos;
	char *b = malloc(n + 1);
	size_t start = 0;

	if (!b)
		return -ENOMEM;
	if (ring.wrapped) {
		memcpy(b, ring.buf + ring.pos, ring.size - ring.pos);
		memcpy(b + ring.size - ring.pos, ring.buf, ring.pos);
		/* Drop the torn first line. */
		while (start < n && b[start] != '\n')
			start++;
		if (start < n)
			start++;
		memmove(b, b + start, n - start);
		n -= start;
	} else {
		memcpy(b, ring.buf, n);
	}
	b[n] = '\0';
	*out = b;
	*len = n;
	return 0;
}
