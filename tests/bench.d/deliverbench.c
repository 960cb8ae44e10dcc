/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * deliverbench.c - whole deliveries per second: one delivery program run
 * per message, as an MTA runs its local delivery agent.  Prints numbers,
 * asserts nothing.
 *
 *   deliverbench --msg FILE [--secs S] [--samples FILE] [--user NAME]
 *                [--label L] -- COMMAND [ARG...]
 *
 * From the first run on, COMMAND runs again and again, one at a time, for
 * S seconds, with FILE on its standard input and its output thrown away;
 * one sample is fork -> exec -> exit seen by waitpid, i.e. everything a
 * delivery costs (process start, dynamic linking, configuration, the
 * message copy, fsyncs, UID, index or uidlist update).  --user runs
 * COMMAND as that user (setgid, initgroups, setuid in the child after the
 * fork, so the drop is not in the sample's path of a helper binary),
 * the way Dovecot's LDA runs for a mail user.  A run that exits non-zero
 * stops the benchmark: its status is printed and the program exits 1.
 *
 * Prints: <L> ops <n> secs <s> ops_s <r> p50_us <..> p99_us <..> max_us <..>
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "stats.h"

struct run_as {
	const char	*name;
	uid_t		uid;
	gid_t		gid;
};

/* One delivery: 0, or the wait status of a failed run, or -errno. */
static int deliver_once(char **argv, const char *msg, const struct run_as *ra)
{
	pid_t pid;
	int st, fd;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		fd = open(msg, O_RDONLY);
		if (fd < 0 || dup2(fd, 0) < 0)
			_exit(126);
		fd = open("/dev/null", O_WRONLY);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(126);
		if (ra->name && (setgid(ra->gid) || initgroups(ra->name, ra->gid) ||
				 setuid(ra->uid)))
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : (st ? st : 1);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "msg", required_argument, NULL, 'm' },
		{ "secs", required_argument, NULL, 's' },
		{ "samples", required_argument, NULL, 'o' },
		{ "user", required_argument, NULL, 'u' },
		{ "label", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *msg = NULL, *out = NULL, *label = "deliver";
	struct run_as ra = { 0 };
	struct samples s = { 0 };
	struct passwd *pw;
	uint64_t t0, t1, end;
	double secs = 10;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "+", lopts, NULL)) != -1) {
		switch (opt) {
		case 'm': msg = optarg; break;
		case 's': secs = strtod(optarg, NULL); break;
		case 'o': out = optarg; break;
		case 'u': ra.name = optarg; break;
		case 'l': label = optarg; break;
		default: return 2;
		}
	}
	if (!msg || optind >= argc || secs <= 0) {
		fprintf(stderr, "usage: deliverbench --msg FILE [--secs S] [--samples FILE] "
			"[--user NAME] [--label L] -- COMMAND [ARG...]\n");
		return 2;
	}
	if (ra.name) {
		pw = getpwnam(ra.name);
		if (!pw) {
			fprintf(stderr, "deliverbench: no user %s\n", ra.name);
			return 2;
		}
		ra.uid = pw->pw_uid;
		ra.gid = pw->pw_gid;
	}
	t0 = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	for (t1 = t0; t1 < end;) {
		uint64_t a = t1;

		rc = deliver_once(argv + optind, msg, &ra);
		if (rc) {
			fprintf(stderr, "deliverbench: %s: run %zu failed (%s %d)\n",
				argv[optind], s.s_n + 1, rc < 0 ? "errno" : "wait status",
				rc < 0 ? -rc : rc);
			samples_free(&s);
			return 1;
		}
		t1 = now_ns();
		if (samples_add(&s, t1 - a)) {
			samples_free(&s);
			return 1;
		}
	}
	samples_report(&s, label, t1 - t0, stdout);
	rc = samples_write(&s, out);
	samples_free(&s);
	return rc ? 1 : 0;
}
