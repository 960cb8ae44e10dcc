/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * progress.c - progress lines of sdlmctl's long operations (progress.h).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

void progress_init(struct progress *p, bool asked, bool json)
{
	memset(p, 0, sizeof(*p));
	p->tty = isatty(STDERR_FILENO);
	p->on = !json && (asked || p->tty);
}

static void progress_vshow(struct progress *p, uint64_t now, bool force,
			   const char *fmt, va_list ap)
{
	if (!p->on || (!force && !p->tty && p->shown && now - p->last_ms < 1000))
		return;
	p->last_ms = now;
	p->shown = true;
	if (p->tty)
		fputs("\r", stderr);
	vfprintf(stderr, fmt, ap);
	fputs(p->tty ? "\033[K" : "\n", stderr);
	fflush(stderr);
}

void progress_show(struct progress *p, uint64_t now, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	progress_vshow(p, now, false, fmt, ap);
	va_end(ap);
}

void progress_show_now(struct progress *p, uint64_t now, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	progress_vshow(p, now, true, fmt, ap);
	va_end(ap);
}

void progress_end(struct progress *p)
{
	if (p->on && p->tty && p->shown)
		fputs("\r\033[K", stderr);
	fflush(stderr);
}

void progress_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
