/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log.c - libqb log targets and the in-memory debug ring.
 *
 * The ring is a byte array written circularly; a line that does not fit at
 * the end wraps around.  log_ring_copy() returns it oldest-first, starting
 * after the first newline past the write position so no torn line is shown.
 *
 * Threads.  libqb calls every target from the thread that logs: the event
 * loop, and also the quorum probe and the CPG join threads, through
 * libqb's and corosync's client code (qb_ipcc_* log at LOG_DEBUG, and the
 * ring takes every level).  So the ring and the log file each have a
 * mutex: a line goes in whole, the write position never moves under a
 * copy, and a reopen (SIGHUP) never closes the file under a writer.  The
 * file is a custom target for that reason (libqb's own file target
 * writes without a lock we could share); it keeps libqb's format.
 * libqb's threaded logging (qb_log_thread_start) is not used: it would
 * put lines in a queue that a crash dump of the ring never sees.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <stdio.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "log.h"

static struct {
	char *buf;
	size_t size;
	size_t pos;		/* next byte to write */
	bool wrapped;
	int target;
	pthread_mutex_t lock;	/* buf's bytes, pos, wrapped */
} ring = { .target = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

static struct {
	int target;		/* custom libqb target, -1 = no log file */
	FILE *f;
	char path[4096];
	pthread_mutex_t lock;	/* f */
} logfile = { .target = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

/* Called with ring.lock held. */
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
	pthread_mutex_lock(&ring.lock);
	ring_put(line, (size_t)n);
	pthread_mutex_unlock(&ring.lock);
}

static void file_log(int32_t t, struct qb_log_callsite *cs,
		     struct timespec *ts, const char *msg)
{
	char line[QB_LOG_MAX_LEN];

	qb_log_target_format(t, cs, ts, msg, line);
	pthread_mutex_lock(&logfile.lock);
	if (logfile.f) {
		fputs(line, logfile.f);
		fputc('\n', logfile.f);
		fflush(logfile.f);
	}
	pthread_mutex_unlock(&logfile.lock);
}

static FILE *file_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	FILE *f;

	if (fd < 0)
		return NULL;
	f = fdopen(fd, "a");
	if (!f) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return f;
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
		logfile.f = file_open(ls->file);
		if (!logfile.f)
			return -errno;
		ft = qb_log_custom_open(file_log, NULL, NULL, NULL);
		if (ft < 0) {
			fclose(logfile.f);
			logfile.f = NULL;
			return ft;
		}
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
	FILE *f;

	if (logfile.target < 0)
		return 0;
	f = file_open(logfile.path);
	if (!f)
		return -errno;
	pthread_mutex_lock(&logfile.lock);
	if (logfile.f)
		fclose(logfile.f);
	logfile.f = f;
	pthread_mutex_unlock(&logfile.lock);
	return 0;
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
	pthread_mutex_lock(&logfile.lock);
	if (logfile.f)
		fclose(logfile.f);
	logfile.f = NULL;
	pthread_mutex_unlock(&logfile.lock);
	pthread_mutex_lock(&ring.lock);
	free(ring.buf);
	ring.buf = NULL;
	pthread_mutex_unlock(&ring.lock);
}

/* Returns 0 or -ENOMEM. */
int log_ring_copy(char **out, size_t *len)
{
	size_t n = ring.size;
	char *b = malloc(n + 1);
	size_t start = 0;
	bool wrapped;

	if (!b)
		return -ENOMEM;
	pthread_mutex_lock(&ring.lock);
	wrapped = ring.wrapped;
	if (!ring.buf) {
		n = 0;
	} else if (wrapped) {
		memcpy(b, ring.buf + ring.pos, ring.size - ring.pos);
		memcpy(b + ring.size - ring.pos, ring.buf, ring.pos);
	} else {
		n = ring.pos;
		memcpy(b, ring.buf, n);
	}
	pthread_mutex_unlock(&ring.lock);
	if (wrapped) {
		/* Drop the torn first line. */
		while (start < n && b[start] != '\n')
			start++;
		if (start < n)
			start++;
		memmove(b, b + start, n - start);
		n -= start;
	}
	b[n] = '\0';
	*out = b;
	*len = n;
	return 0;
}
