/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * testhook.h - a TEST SEAM for the Dovecot tools, like --uid-source=file:
 * (not a product mode): the environment variable
 *
 *	SDLM_TEST_HOOK=ACTION:POINT[:N]		ACTION = stop | kill
 *
 * makes the tool stop itself (SIGSTOP: a pause the test resumes with
 * SIGCONT) or die (SIGKILL: a crash, a fence) the N-th time (default 1)
 * it passes the named point.  tests/dovecot/t-repair.sh uses it to kill
 * the repair at each of its steps and to take a dotlock away from a
 * holder; the points are named in each tool's opening comment.
 */
#ifndef SDLM_TESTHOOK_H
#define SDLM_TESTHOOK_H

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static inline void test_hook(const char *point)
{
	static unsigned passes;
	const char *h = getenv("SDLM_TEST_HOOK");
	const char *p, *n;
	size_t pl = strlen(point);
	unsigned want = 1;
	int sig;

	if (!h)
		return;
	if (strncmp(h, "stop:", 5) == 0)
		sig = SIGSTOP;
	else if (strncmp(h, "kill:", 5) == 0)
		sig = SIGKILL;
	else
		return;
	p = h + 5;
	if (strncmp(p, point, pl) != 0 || (p[pl] != '\0' && p[pl] != ':'))
		return;
	n = p[pl] == ':' ? p + pl + 1 : NULL;
	if (n)
		want = (unsigned)strtoul(n, NULL, 10);
	if (++passes == want)
		raise(sig);
}

#endif /* SDLM_TESTHOOK_H */
