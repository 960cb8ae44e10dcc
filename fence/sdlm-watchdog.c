/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sdlm-watchdog - a watchdog "device" in a process, for tests and for
 * machines without /dev/watchdog.
 *
 * It reads a FIFO that sdlmd's FIFO backend (watchdog.c) writes exactly as
 * it would write /dev/watchdog, and when it is not fed in time it resets
 * the node: it SIGKILLs every process of the node (a cgroup, a list of
 * pids or a process group), or, on a real machine, reboots it through
 * sysrq.  It must run outside what it kills, and outside the node's
 * freezer group: a frozen watchdog cannot fire (docs/watchdog.md).
 *
 * States and transitions (a pipe reader sees data and end-of-file, never
 * an open, so the first byte arms):
 *
 *   DISARMED ──first byte──────────────► ARMED   deadline = now + timeout
 *   ARMED ────any byte─────────────────► ARMED   deadline = now + timeout
 *   ARMED ────EOF, last byte 'V'───────► DISARMED         (magic close;
 *                                        with --exit-on-close: exit 0)
 *   ARMED ────EOF, last byte not 'V'───► ARMED   deadline unchanged: the
 *                                        writer closed or died; a new
 *                                        opener may go on feeding
 *   ARMED ────now >= deadline──────────► kill the node, exit 3 (or 4)
 *   ARMED ────SIGTERM/SIGINT, error────► kill the node as on expiry
 *   DISARMED ─SIGTERM/SIGINT───────────► exit 0
 *
 * "Last byte" stands for /dev/watchdog's "the last write held a 'V'": a
 * byte stream has no write boundaries, and sdlmd writes 'V' alone.
 *
 * The deadline is checked before pending bytes are read: a byte this
 * process reads late (it was descheduled) must not stretch the bound that
 * peers rely on.  Time is CLOCK_BOOTTIME, like the disk lease.
 *
 * After EOF the read end is reopened (the new one before the old one is
 * closed, so the pipe and any byte in it survive): an old read end keeps
 * reporting POLLHUP once its writer has gone.
 *
 * Exit codes:
 *   0  clean stop: magic close with --exit-on-close, or a signal while
 *      disarmed
 *   1  runtime failure while disarmed (FIFO, pid file, poll)
 *   2  usage error
 *   3  expired (or stopped while armed): every target process is gone
 *   4  expired, but targets were still alive after --kill-wait, or the
 *      sysrq reboot did not happen
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* ppoll */
#endif
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#define EXIT_CLEAN		0
#define EXIT_RUNTIME		1
#define EXIT_USAGE		2
#define EXIT_KILLED		3
#define EXIT_KILL_INCOMPLETE	4

#define MAGIC_BYTE		'V'
#define MAX_PIDS		64
#define KILL_RETRY_MS		10

enum target {
	TARGET_NONE = 0,
	TARGET_CGROUP,
	TARGET_PIDS,
	TARGET_PGID,
	TARGET_REBOOT,
};

struct opts {
	const char	*fifo;
	unsigned	timeout_s;
	enum target	target;
	const char	*cgroup;
	pid_t		pids[MAX_PIDS];
	int		npids;
	pid_t		pgid;
	bool		allow_reboot;
	unsigned	kill_wait_s;
	bool		exit_on_close;
	const char	*pidfile;
	bool		debug;
	bool		use_syslog;
};

static struct opts opt = { .kill_wait_s = 10 };
static volatile sig_atomic_t stop_signal;
static bool fifo_created;

static void log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void log_msg(int level, const char *fmt, ...)
{
	static const char *names[] = {
		[LOG_CRIT] = "CRIT", [LOG_ERR] = "ERR",
		[LOG_WARNING] = "WARNING", [LOG_INFO] = "INFO",
		[LOG_DEBUG] = "DEBUG",
	};
	char text[512];
	va_list ap;
	int64_t t;

	if (level == LOG_DEBUG && !opt.debug)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);

	t = (int64_t)clock_boottime_ms();
	fprintf(stderr, "sdlm-watchdog[%d] %lld.%03lld %s: %s\n", (int)getpid(),
		(long long)(t / 1000), (long long)(t % 1000),
		names[level] ? names[level] : "LOG", text);
	if (opt.use_syslog)
		syslog(level, "%s", text);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: sdlm-watchdog --fifo PATH --timeout SECONDS TARGET [options]\n"
"\n"
"Play /dev/watchdog for sdlmd through a FIFO: any byte written feeds it,\n"
"'V' written just before close disarms it, and when it is not fed for\n"
"SECONDS it resets the node by killing TARGET.\n"
"\n"
"TARGET (exactly one):\n"
"  --kill-cgroup DIR     SIGKILL every pid in DIR/cgroup.procs until it is\n"
"                        empty; thaws a cgroup v1 freezer group after the\n"
"                        kill so the signals are delivered\n"
"  --kill-pids PID,...   SIGKILL these processes (up to %d)\n"
"  --kill-pgid PGID      SIGKILL this process group\n"
"  --reboot              reboot at once through /proc/sysrq-trigger;\n"
"                        refused unless --allow-reboot is also given\n"
"\n"
"Options:\n"
"  --fifo PATH           FIFO to read; created (mode 0600) if missing\n"
"  --timeout SECONDS     watchdog timeout, 1..3600; start it equal to\n"
"                        sdlmd's watchdog timeout\n"
"  --allow-reboot        confirm --reboot\n"
"  --kill-wait SECONDS   how long to retry the kill (default 10)\n"
"  --exit-on-close       exit 0 after a magic close instead of waiting\n"
"                        for the next opener\n"
"  --pidfile PATH        write the pid here once the FIFO is ready\n"
"  --debug               log every feed\n"
"  --syslog              log to syslog as well as stderr\n"
"  -h, --help            this text\n"
"      --version         print the version and exit\n"
"\n"
"Exit: 0 clean stop, 1 runtime error, 2 usage error, 3 expired and node\n"
"killed, 4 expired but the kill did not complete.\n", MAX_PIDS);
}

static int usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sdlm-watchdog: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'sdlm-watchdog --help'.\n");
	return EXIT_USAGE;
}

/* Parse a decimal in [min, max]; returns 0 or -EINVAL. */
static int parse_ulong(const char *s, unsigned long min, unsigned long max,
		       unsigned long *out)
{
	unsigned long v;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_pids(const char *list)
{
	char *copy, *tok, *save = NULL;
	unsigned long v;
	int rv = 0;

	copy = strdup(list);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (opt.npids == MAX_PIDS ||
		    parse_ulong(tok, 1, INT_MAX, &v) < 0) {
			rv = -EINVAL;
			break;
		}
		opt.pids[opt.npids++] = (pid_t)v;
	}
	if (opt.npids == 0)
		rv = -EINVAL;
	free(copy);
	return rv;
}

static int set_target(enum target t)
{
	if (opt.target != TARGET_NONE)
		return -EINVAL;
	opt.target = t;
	return 0;
}

/* Returns -1 to go on, or the exit code. */
static int parse_args(int argc, char **argv)
{
	enum { O_FIFO = 256, O_TIMEOUT, O_CGROUP, O_PIDS, O_PGID, O_REBOOT,
	       O_ALLOW_REBOOT, O_KILL_WAIT, O_EXIT_ON_CLOSE, O_PIDFILE,
	       O_DEBUG, O_SYSLOG };
	static const struct option longopts[] = {
		{ "fifo",		required_argument, NULL, O_FIFO },
		{ "timeout",		required_argument, NULL, O_TIMEOUT },
		{ "kill-cgroup",	required_argument, NULL, O_CGROUP },
		{ "kill-pids",		required_argument, NULL, O_PIDS },
		{ "kill-pgid",		required_argument, NULL, O_PGID },
		{ "reboot",		no_argument,	   NULL, O_REBOOT },
		{ "allow-reboot",	no_argument,	   NULL, O_ALLOW_REBOOT },
		{ "kill-wait",		required_argument, NULL, O_KILL_WAIT },
		{ "exit-on-close",	no_argument,	   NULL, O_EXIT_ON_CLOSE },
		{ "pidfile",		required_argument, NULL, O_PIDFILE },
		{ "debug",		no_argument,	   NULL, O_DEBUG },
		{ "syslog",		no_argument,	   NULL, O_SYSLOG },
		{ "help",		no_argument,	   NULL, 'h' },
		{ "version",		no_argument,	   NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case O_FIFO:
			opt.fifo = optarg;
			break;
		case O_TIMEOUT:
			if (parse_ulong(optarg, 1, 3600, &v) < 0)
				return usage_error("--timeout: '%s' is not a "
						   "whole number of seconds in "
						   "1..3600", optarg);
			opt.timeout_s = (unsigned)v;
			break;
		case O_CGROUP:
			if (set_target(TARGET_CGROUP) < 0)
				return usage_error("%s", "give exactly one "
						   "target");
			opt.cgroup = optarg;
			break;
		case O_PIDS:
			if (set_target(TARGET_PIDS) < 0)
				return usage_error("%s", "give exactly one "
						   "target");
			if (parse_pids(optarg) < 0)
				return usage_error("--kill-pids: '%s' is not a "
						   "comma-separated list of "
						   "pids", optarg);
			break;
		case O_PGID:
			if (set_target(TARGET_PGID) < 0)
				return usage_error("%s", "give exactly one "
						   "target");
			if (parse_ulong(optarg, 1, INT_MAX, &v) < 0)
				return usage_error("--kill-pgid: '%s' is not a "
						   "process group id", optarg);
			opt.pgid = (pid_t)v;
			break;
		case O_REBOOT:
			if (set_target(TARGET_REBOOT) < 0)
				return usage_error("%s", "give exactly one "
						   "target");
			break;
		case O_ALLOW_REBOOT:
			opt.allow_reboot = true;
			break;
		case O_KILL_WAIT:
			if (parse_ulong(optarg, 1, 3600, &v) < 0)
				return usage_error("--kill-wait: '%s' is not a "
						   "whole number of seconds in "
						   "1..3600", optarg);
			opt.kill_wait_s = (unsigned)v;
			break;
		case O_EXIT_ON_CLOSE:
			opt.exit_on_close = true;
			break;
		case O_PIDFILE:
			opt.pidfile = optarg;
			break;
		case O_DEBUG:
			opt.debug = true;
			break;
		case O_SYSLOG:
			opt.use_syslog = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_CLEAN;
		case 'V':
			printf("sdlm-watchdog (sdlm) %s\n", PACKAGE_VERSION);
			return EXIT_CLEAN;
		case ':':
			return usage_error("option '%s' needs a value",
					   argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!opt.fifo)
		return usage_error("%s", "--fifo PATH is required");
	if (!opt.timeout_s)
		return usage_error("%s", "--timeout SECONDS is required");
	if (opt.target == TARGET_NONE)
		return usage_error("%s", "a target is required: --kill-cgroup, "
				   "--kill-pids, --kill-pgid or --reboot");
	if (opt.target == TARGET_REBOOT && !opt.allow_reboot)
		return usage_error("%s", "--reboot reboots this machine on "
				   "expiry; add --allow-reboot to mean it");
	if (opt.target != TARGET_REBOOT && opt.allow_reboot)
		return usage_error("%s", "--allow-reboot without --reboot");
	return -1;
}

/*
 * State and process group of a pid from /proc/PID/stat.  Returns 0, or
 * -ESRCH when the process is gone.  comm may hold ')' or spaces: parse
 * after the last ')'.
 */
static int proc_stat(pid_t pid, char *state, pid_t *pgrp)
{
	char path[64], buf[512], *p;
	int ppid, pg;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ESRCH;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %d %d", state, &ppid, &pg) != 3)
		return -ESRCH;
	if (pgrp)
		*pgrp = pg;
	return 0;
}

/* Alive means it can still run: a zombie has done all its harm. */
static bool pid_alive(pid_t pid)
{
	char state;

	return proc_stat(pid, &state, NULL) == 0 && state != 'Z' &&
	       state != 'X';
}

static int write_file(const char *path, const char *text)
{
	ssize_t n;
	int fd, rv = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	if (n < 0)
		rv = -errno;
	close(fd);
	return rv;
}

static int cgroup_file(char *buf, size_t len, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", opt.cgroup, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/*
 * One pass over the cgroup: SIGKILL every member, then thaw.  The order
 * matters: a frozen task gets the SIGKILL queued and dies when thawed,
 * without running one more instruction of its own.  cgroup v2's
 * cgroup.kill does all of it in the kernel where it exists.  Returns the
 * number of live members seen, or a negative errno.
 */
static int cgroup_kill_pass(void)
{
	char path[PATH_MAX];
	FILE *f;
	int pid, alive = 0;

	if (cgroup_file(path, sizeof(path), "cgroup.kill") == 0 &&
	    access(path, W_OK) == 0)
		write_file(path, "1");

	if (cgroup_file(path, sizeof(path), "cgroup.procs") < 0)
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fscanf(f, "%d", &pid) == 1) {
		if (pid == getpid())
			continue;
		if (kill(pid, SIGKILL) == 0 && pid_alive(pid))
			alive++;
	}
	fclose(f);

	if (cgroup_file(path, sizeof(path), "freezer.state") == 0 &&
	    access(path, W_OK) == 0)
		write_file(path, "THAWED");
	return alive;
}

static int pids_kill_pass(void)
{
	int i, alive = 0;

	for (i = 0; i < opt.npids; i++) {
		kill(opt.pids[i], SIGKILL);
		if (pid_alive(opt.pids[i]))
			alive++;
	}
	return alive;
}

/* Zombies stay in their group until reaped: count members from /proc. */
static int pgid_kill_pass(void)
{
	struct dirent *de;
	pid_t pid, pgrp;
	char state;
	DIR *d;
	int alive = 0;

	kill(-opt.pgid, SIGKILL);
	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)atoi(de->d_name);
		if (proc_stat(pid, &state, &pgrp) == 0 && pgrp == opt.pgid &&
		    state != 'Z' && state != 'X')
			alive++;
	}
	closedir(d);
	return alive;
}

static int reboot_now(void)
{
	int rv;

	/* No 's' (sync) first: a sync can hang forever on a dead SAN. */
	rv = write_file("/proc/sysrq-trigger", "b");
	log_msg(LOG_CRIT, "sysrq reboot did not happen: %s",
		strerror(rv < 0 ? -rv : EAGAIN));
	return EXIT_KILL_INCOMPLETE;
}

/* Reset the node; returns the exit code. */
static int node_reset(const char *reason)
{
	int64_t give_up = (int64_t)clock_boottime_ms() + (int64_t)opt.kill_wait_s * 1000;
	struct timespec pause = { 0, KILL_RETRY_MS * 1000000L };
	int alive, passes = 0;

	log_msg(LOG_CRIT, "%s: killing node", reason);
	if (opt.target == TARGET_REBOOT)
		return reboot_now();

	for (;;) {
		passes++;
		switch (opt.target) {
		case TARGET_CGROUP:
			alive = cgroup_kill_pass();
			break;
		case TARGET_PIDS:
			alive = pids_kill_pass();
			break;
		default:
			alive = pgid_kill_pass();
			break;
		}
		if (alive == 0)
			break;
		if (alive < 0) {
			log_msg(LOG_ERR, "kill pass failed: %s",
				strerror(-alive));
		}
		if ((int64_t)clock_boottime_ms() >= give_up) {
			log_msg(LOG_CRIT, "node not dead after %u s: %d "
				"process(es) still alive", opt.kill_wait_s,
				alive);
			return EXIT_KILL_INCOMPLETE;
		}
		nanosleep(&pause, NULL);
	}
	log_msg(LOG_CRIT, "node killed (%d pass(es))", passes);
	return EXIT_KILLED;
}

/* Refuse a target that contains this process: it would kill its killer. */
static int target_check(void)
{
	char path[PATH_MAX];
	FILE *f;
	int i, pid;
	bool self = false;

	switch (opt.target) {
	case TARGET_CGROUP:
		if (cgroup_file(path, sizeof(path), "cgroup.procs") < 0)
			return usage_error("--kill-cgroup: '%s' is too long",
					   opt.cgroup);
		f = fopen(path, "re");
		if (!f)
			return usage_error("--kill-cgroup: cannot read "
					   "%s/cgroup.procs", opt.cgroup);
		while (fscanf(f, "%d", &pid) == 1)
			if (pid == getpid())
				self = true;
		fclose(f);
		break;
	case TARGET_PIDS:
		for (i = 0; i < opt.npids; i++)
			if (opt.pids[i] == getpid())
				self = true;
		break;
	case TARGET_PGID:
		self = getpgrp() == opt.pgid;
		break;
	default:
		break;
	}
	if (self)
		return usage_error("%s", "sdlm-watchdog is itself part of its "
				   "target; run it outside the node");
	return -1;
}

static int fifo_open_reader(void)
{
	return open(opt.fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

static int fifo_setup(void)
{
	struct stat st;
	int fd;

	if (mkfifo(opt.fifo, 0600) == 0) {
		fifo_created = true;
	} else if (errno != EEXIST) {
		log_msg(LOG_ERR, "cannot create FIFO %s: %s", opt.fifo,
			strerror(errno));
		return -1;
	} else if (lstat(opt.fifo, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		log_msg(LOG_ERR, "%s exists and is not a FIFO", opt.fifo);
		return -1;
	}
	fd = fifo_open_reader();
	if (fd < 0) {
		log_msg(LOG_ERR, "cannot open FIFO %s: %s", opt.fifo,
			strerror(errno));
		if (fifo_created)
			unlink(opt.fifo);
	}
	return fd;
}

/* Atomic: a reader sees no pid file or a whole one. */
static int pidfile_write(void)
{
	char tmp[PATH_MAX], text[32];
	int fd, len, rv = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", opt.pidfile) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	len = snprintf(text, sizeof(text), "%d\n", (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != len)
		rv = -EIO;
	if (close(fd) < 0 && rv == 0)
		rv = -errno;
	if (rv == 0 && rename(tmp, opt.pidfile) < 0)
		rv = -errno;
	if (rv < 0)
		unlink(tmp);
	return rv;
}

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* Block the stop signals except inside ppoll, so none is missed. */
static int signals_setup(sigset_t *poll_mask)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	if (sigprocmask(SIG_BLOCK, &block, poll_mask) < 0 ||
	    sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGINT, &sa, NULL) < 0)
		return -errno;
	sigdelset(poll_mask, SIGTERM);
	sigdelset(poll_mask, SIGINT);
	signal(SIGHUP, SIG_IGN);
	return 0;
}

/*
 * The state machine at the top of this file; returns the exit code.
 * *rfdp is the read end, replaced after each EOF.
 */
static int watch(int *rfdp, const sigset_t *poll_mask)
{
	struct pollfd pfd;
	struct timespec ts;
	bool armed = false;
	int64_t deadline = 0, now, left;
	unsigned char buf[4096], last = 0;
	char reason[64];
	ssize_t n;
	int nfd, r;

	for (;;) {
		if (stop_signal) {
			if (armed) {
				snprintf(reason, sizeof(reason), "%s while "
					 "armed", strsignal(stop_signal));
				return node_reset(reason);
			}
			log_msg(LOG_INFO, "%s while disarmed: exiting",
				strsignal(stop_signal));
			return EXIT_CLEAN;
		}

		now = (int64_t)clock_boottime_ms();
		if (armed && now >= deadline)
			return node_reset("expired");
		if (armed) {
			left = deadline - now;
			ts.tv_sec = left / 1000;
			ts.tv_nsec = (left % 1000) * 1000000L;
		}
		pfd.fd = *rfdp;
		pfd.events = POLLIN;
		pfd.revents = 0;
		r = ppoll(&pfd, 1, armed ? &ts : NULL, poll_mask);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			log_msg(LOG_ERR, "poll: %s", strerror(errno));
			goto out_error;
		}

		/* Late bytes do not count: see the comment at the top. */
		if (armed && (int64_t)clock_boottime_ms() >= deadline)
			return node_reset("expired");
		if (r == 0)
			continue;

		n = read(*rfdp, buf, sizeof(buf));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			log_msg(LOG_ERR, "read: %s", strerror(errno));
			goto out_error;
		}
		if (n > 0) {
			last = buf[n - 1];
			if (!armed)
				log_msg(LOG_INFO, "armed: timeout %u s",
					opt.timeout_s);
			armed = true;
			deadline = (int64_t)clock_boottime_ms() + (int64_t)opt.timeout_s * 1000;
			log_msg(LOG_DEBUG, "fed (%zd byte(s))", n);
			continue;
		}

		/* EOF: every writer has closed. */
		if (armed && last == MAGIC_BYTE) {
			armed = false;
			log_msg(LOG_INFO, "magic close: disarmed");
			if (opt.exit_on_close)
				return EXIT_CLEAN;
		} else if (armed) {
			log_msg(LOG_WARNING, "writer closed without magic "
				"close: still armed, %lld ms left",
				(long long)(deadline - (int64_t)clock_boottime_ms()));
		}
		last = 0;
		nfd = fifo_open_reader();
		if (nfd < 0) {
			log_msg(LOG_ERR, "reopen FIFO: %s", strerror(errno));
			goto out_error;
		}
		close(*rfdp);
		*rfdp = nfd;
	}

out_error:
	/* A watchdog that cannot watch must not leave an armed node. */
	if (armed)
		return node_reset("watchdog failure while armed");
	return EXIT_RUNTIME;
}

int main(int argc, char **argv)
{
	sigset_t poll_mask;
	int rv, rfd;

	rv = parse_args(argc, argv);
	if (rv >= 0)
		return rv;
	rv = target_check();
	if (rv >= 0)
		return rv;
	if (opt.use_syslog)
		openlog("sdlm-watchdog", LOG_PID, LOG_DAEMON);

	if (signals_setup(&poll_mask) < 0) {
		log_msg(LOG_ERR, "signal setup: %s", strerror(errno));
		return EXIT_RUNTIME;
	}

	rfd = fifo_setup();
	if (rfd < 0)
		return EXIT_RUNTIME;

	if (opt.pidfile) {
		rv = pidfile_write();
		if (rv < 0) {
			log_msg(LOG_ERR, "cannot write pid file %s: %s",
				opt.pidfile, strerror(-rv));
			rv = EXIT_RUNTIME;
			goto out_close_fifo;
		}
	}

	log_msg(LOG_INFO, "watching %s: timeout %u s, disarmed until the "
		"first byte", opt.fifo, opt.timeout_s);
	rv = watch(&rfd, &poll_mask);

	if (opt.pidfile)
		unlink(opt.pidfile);
out_close_fifo:
	close(rfd);
	if (fifo_created)
		unlink(opt.fifo);
	return rv;
}
