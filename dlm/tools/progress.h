/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * progress.h - progress of sdlmctl's long operations (issue 16, item 7):
 * `fence message --wait`, `fence init` zeroing a large UID area,
 * `wait-safe`.  On stderr only, never on stdout: when stderr is a
 * terminal, one line redrawn in place; with --progress (logs, a pipe),
 * a line at most every second; never with --json, whose stdout stays one
 * JSON object and whose stderr stays quiet.
 */
#ifndef SDLM_PROGRESS_H
#define SDLM_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress {
	bool on, tty, shown;
	uint64_t last_ms;
};

/* asked: --progress was given; json: --json was. */
void progress_init(struct progress *p, bool asked, bool json);

/* One progress line (no newline in fmt), shown if due. */
void progress_show(struct progress *p, uint64_t now_ms, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The same, shown even if the last one was less than a second ago: the
 * final state of an operation before its result. */
void progress_show_now(struct progress *p, uint64_t now_ms, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Before the result line: a terminal's progress line is erased. */
void progress_end(struct progress *p);

/* A sleep that survives signals: what the waits that show progress
 * count with (their clock: clock_boottime_ms, clock.h). */
void progress_sleep_ms(unsigned ms);

#endif
