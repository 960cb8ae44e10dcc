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
 * ring takes every level).  So the ring and the queue below each have a
 * mutex: a line goes in whole and the write position never moves under a
 * copy.  The file is a custom target (libqb's own file target writes
 * where it is called); it keeps libqb's format.
 * libqb's threaded logging (qb_log_thread_start) is not used: it would
 * put lines in a queue that a crash dump of the ring never sees.
 *
 * Nothing that logs waits for a log destination.  A write to the log
 * file, to stderr (under systemd, the journal's socket) or to syslog's
 * socket can block for as long as that destination stalls (a hung /var,
 * a stuck journald), and the event loop that logs is the one that feeds
 * the watchdog.  So the three outer targets only format the line and
 * put it into a bounded queue (LOGQ_BYTES); one writer thread writes
 * the queue out, in order.  A line that finds the queue full is dropped
 * and counted, and once the queue has drained the writer says how many
 * each destination lost.  A reopen (SIGHUP) is a mark in the queue: the
 * lines before it go to the old file, the ones after to the new, and the
 * open itself, which can block as well, is the writer's.  The ring stays
 * synchronous: it is memory, and it is what a crash dump shows.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
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
	int fd;			/* the writer's; -1 = none */
	char path[4096];
} logfile = { .target = -1, .fd = -1 };

/* The queue's records: sink, priority, length (2 bytes), the line. */
enum { SINK_FILE, SINK_STDERR, SINK_SYSLOG, SINK_REOPEN, SINK_STOP, SINK_N = 3 };
#define LOGQ_BYTES	(1u << 20)
#define LOGQ_HDR	4u
#define LOGQ_LINE_MAX	(QB_LOG_MAX_LEN + 2)	/* the line, '\n' */
#define LOGQ_MARKS	(16u * LOGQ_HDR)	/* kept free for REOPEN and STOP */

static struct {
	uint8_t *buf;		/* LOGQ_BYTES, circular */
	size_t head, used;	/* first byte of the oldest record; bytes held */
	uint64_t dropped[SINK_N];
	bool running;
	bool joined;		/* the writer stopped: buf and the file are free */
	bool at_exit;		/* q_stop is an exit handler */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int targets[SINK_N];
} q = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER,
	.targets = { -1, -1, -1 } };

static void q_stop(void);

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

/* Called with q.lock held. */
static void q_copy_in(const void *src, size_t n)
{
	size_t tail = (q.head + q.used) % LOGQ_BYTES, k;

	k = n < LOGQ_BYTES - tail ? n : LOGQ_BYTES - tail;
	memcpy(q.buf + tail, src, k);
	memcpy(q.buf, (const uint8_t *)src + k, n - k);
	q.used += n;
}

/* Called with q.lock held. */
static void q_copy_out(void *dst, size_t n)
{
	size_t k = n < LOGQ_BYTES - q.head ? n : LOGQ_BYTES - q.head;

	memcpy(dst, q.buf + q.head, k);
	memcpy((uint8_t *)dst + k, q.buf, n - k);
	q.head = (q.head + n) % LOGQ_BYTES;
	q.used -= n;
}

/* Never waits for a destination: a full queue drops the line (counted).
 * The last LOGQ_MARKS bytes take only marks (REOPEN, STOP), which are
 * never dropped while one fits. */
static void q_put(int sink, int prio, const char *line, size_t n)
{
	uint8_t h[LOGQ_HDR];

	if (n > LOGQ_LINE_MAX)
		n = LOGQ_LINE_MAX;
	h[0] = (uint8_t)sink;
	h[1] = (uint8_t)prio;
	h[2] = (uint8_t)(n & 0xff);
	h[3] = (uint8_t)(n >> 8);
	pthread_mutex_lock(&q.lock);
	if (q.buf && q.running) {
		if (q.used + LOGQ_HDR + n <= LOGQ_BYTES - (sink < SINK_N ? LOGQ_MARKS : 0)) {
			q_copy_in(h, LOGQ_HDR);
			q_copy_in(line, n);
			pthread_cond_signal(&q.cond);
		} else if (sink < SINK_N) {
			q.dropped[sink]++;
		}
	}
	pthread_mutex_unlock(&q.lock);
}

/* A whole write, or give up on this line (the destination failed). */
static void write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static int file_open(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

static void q_write(int sink, int prio, const char *line, size_t n)
{
	switch (sink) {
	case SINK_FILE:
		if (logfile.fd >= 0)
			write_all(logfile.fd, line, n);
		break;
	case SINK_STDERR:
		write_all(2, line, n);
		break;
	case SINK_SYSLOG:
		syslog(prio, "%.*s", (int)(n && line[n - 1] == '\n' ? n - 1 : n), line);
		break;
	}
}

/* The writer's own line, into the queue like any other (so it keeps its
 * place), or straight out when even that does not fit. */
static void q_say(int prio, const char *msg)
{
	qb_log(prio, "%s", msg);
}

static void q_reopen(void)
{
	char msg[4200];
	int fd = file_open(logfile.path), old;

	if (fd < 0) {
		snprintf(msg, sizeof(msg), "log file %s could not be reopened (%s): "
			 "still writing the old one", logfile.path, strerror(errno));
		q_say(LOG_WARNING, msg);
		return;
	}
	old = logfile.fd;
	logfile.fd = fd;
	if (old >= 0)
		close(old);
	q_say(LOG_NOTICE, "log file reopened");
}

static void *q_writer(void *arg)
{
	static const char *const sink_name[SINK_N] = { "log file", "stderr", "syslog" };
	char line[LOGQ_LINE_MAX + 1], msg[256];
	uint8_t h[LOGQ_HDR];
	uint64_t lost[SINK_N];
	size_t n;
	int i;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&q.lock);
		while (!q.used) {
			for (i = 0; i < SINK_N; i++) {
				lost[i] = q.dropped[i];
				q.dropped[i] = 0;
			}
			if (lost[0] || lost[1] || lost[2])
				break;
			pthread_cond_wait(&q.cond, &q.lock);
		}
		if (!q.used) {
			pthread_mutex_unlock(&q.lock);
			for (i = 0; i < SINK_N; i++) {
				if (!lost[i])
					continue;
				n = (size_t)snprintf(msg, sizeof(msg), "sdlmd: %llu log lines to "
						     "the %s were dropped: it did not keep up\n",
						     (unsigned long long)lost[i], sink_name[i]);
				q_write(i, LOG_WARNING, msg, n);
			}
			continue;
		}
		q_copy_out(h, LOGQ_HDR);
		n = (size_t)h[2] | (size_t)h[3] << 8;
		q_copy_out(line, n);
		pthread_mutex_unlock(&q.lock);
		if (h[0] == SINK_STOP)
			return NULL;
		if (h[0] == SINK_REOPEN)
			q_reopen();
		else
			q_write(h[0], h[1], line, n);
	}
}

static void q_log(int sink, int32_t t, struct qb_log_callsite *cs,
		  struct timespec *ts, const char *msg)
{
	char line[LOGQ_LINE_MAX + 1];
	size_t n;

	if (sink == SINK_SYSLOG) {
		n = (size_t)snprintf(line, sizeof(line), "%s", msg);
	} else {
		qb_log_target_format(t, cs, ts, msg, line);
		n = strnlen(line, QB_LOG_MAX_LEN);
		line[n++] = '\n';
	}
	if (n > LOGQ_LINE_MAX)
		n = LOGQ_LINE_MAX;
	q_put(sink, cs->priority & 7, line, n);
}

static void file_log(int32_t t, struct qb_log_callsite *cs,
		     struct timespec *ts, const char *msg)
{
	q_log(SINK_FILE, t, cs, ts, msg);
}

static void stderr_log(int32_t t, struct qb_log_callsite *cs,
		       struct timespec *ts, const char *msg)
{
	q_log(SINK_STDERR, t, cs, ts, msg);
}

static void syslog_log(int32_t t, struct qb_log_callsite *cs,
		       struct timespec *ts, const char *msg)
{
	q_log(SINK_SYSLOG, t, cs, ts, msg);
}

/* One custom target per destination, libqb's filter and format on it. */
static int q_target(int sink, qb_log_logger_fn fn, const char *fmt, int level)
{
	int32_t t = qb_log_custom_open(fn, NULL, NULL, NULL);

	if (t < 0)
		return t;
	qb_log_format_set(t, fmt);
	qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", level);
	qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_TRUE);
	q.targets[sink] = t;
	return 0;
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
	sigset_t all, old;
	int rc;

	qb_log_init(ls->ident, LOG_DAEMON, LOG_INFO);
	/* libqb's own syslog and stderr targets write where they are called:
	 * ours queue (see the top of this file). */
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_FALSE);
	q.buf = malloc(LOGQ_BYTES);
	if (!q.buf)
		return -ENOMEM;
	q.head = q.used = 0;
	q.running = true;
	/* The writer takes no signal: they are the loop's (sdlmd blocks its
	 * stop signals until its handlers are in place, and a thread that
	 * had them unblocked would take a SIGTERM by the default action). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&q.thread, NULL, q_writer, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		q.running = false;
		return -rc;
	}
	if (!q.at_exit)
		q.at_exit = atexit(q_stop) == 0;
	if (ls->syslog) {
		openlog(ls->ident, LOG_PID, LOG_DAEMON);
		rc = q_target(SINK_SYSLOG, syslog_log, "%b", ls->level);
		if (rc < 0)
			return rc;
	}
	if (ls->to_stderr && !(ls->journal && ls->syslog)) {
		rc = q_target(SINK_STDERR, stderr_log, fmt, ls->level);
		if (rc < 0)
			return rc;
	}

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
		/* The first open is ours, before anything else starts: a
		 * log file that cannot be opened stops the start. */
		logfile.fd = file_open(ls->file);
		if (logfile.fd < 0)
			return -errno;
		snprintf(logfile.path, sizeof(logfile.path), "%s", ls->file);
		rc = q_target(SINK_FILE, file_log, fmt, ls->level);
		if (rc < 0)
			return rc;
		logfile.target = q.targets[SINK_FILE];
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
	q_put(SINK_REOPEN, 0, "", 0);
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

/*
 * The writer gets LOG_FINI_WAIT_MS to write what is queued.  A writer
 * still blocked in a destination then is left behind (the process ends
 * under it), with the queue and the file it uses.
 */
#define LOG_FINI_WAIT_MS	2000

/*
 * Stop the writer once what is queued is written, or LOG_FINI_WAIT_MS
 * has passed.  log_fini's first step, and an exit handler: sdlmd also
 * ends by exit() where it logged why (it never held a lease, or it
 * self-fences with no watchdog), and exit() would end the writer with
 * those last lines still queued.
 */
static void q_stop(void)
{
	struct timespec dl;

	if (!q.running)
		return;
	q_put(SINK_STOP, 0, "", 0);
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += LOG_FINI_WAIT_MS / 1000;
	q.joined = pthread_timedjoin_np(q.thread, NULL, &dl) == 0;
	if (!q.joined)
		pthread_detach(q.thread);
	pthread_mutex_lock(&q.lock);
	q.running = false;
	pthread_mutex_unlock(&q.lock);
}

void log_fini(void)
{
	q_stop();
	qb_log_fini();
	logfile.target = -1;
	if (q.joined) {
		if (logfile.fd >= 0)
			close(logfile.fd);
		logfile.fd = -1;
		free(q.buf);
		q.buf = NULL;
		q.joined = false;
	}
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
