/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * modes.h - the six DLM lock modes and their compatibility.
 *
 * sdlm uses the DLM's modes unchanged (VMS heritage), so that anyone who
 * knows the kernel DLM or OpenVMS reads sdlm's lock dumps the same way:
 *
 *	mode  name                 what the holder may do   others may hold
 *	NL    null                 nothing (keeps the LVB)  anything
 *	CR    concurrent read      read, others write       NL CR CW PR PW
 *	CW    concurrent write     write, others write      NL CR CW
 *	PR    protected read       read, nobody writes      NL CR PR
 *	PW    protected write      write, others read       NL CR
 *	EX    exclusive            everything               NL
 *
 * The numeric values are fixed: they travel in CPG messages and snapshots
 * and appear in lock dumps.  MODE_NONE (-1) means "no mode", e.g. the
 * granted mode of a lock that is still waiting.
 */
#ifndef SDLM_MODES_H
#define SDLM_MODES_H

#include <stdbool.h>

enum lk_mode {
	MODE_NONE	= -1,
	MODE_NL		= 0,
	MODE_CR		= 1,
	MODE_CW		= 2,
	MODE_PR		= 3,
	MODE_PW		= 4,
	MODE_EX		= 5,
	MODE_COUNT	= 6,
};

/* true if m is one of the six modes (MODE_NONE is not). */
bool mode_valid(int m);

/* true if a lock in mode a and a lock in mode b may be granted together.
 * Symmetric.  false if either argument is not a valid mode. */
bool mode_compat(int a, int b);

/* true for the modes whose holder writes the lock value block: PW, EX. */
bool mode_is_write(int m);

/* true if every mode compatible with `from` is also compatible with `to`:
 * converting from `from` to `to` can never block anybody (a down-convert).
 * PR and CW do not cover each other. */
bool mode_covers(int from, int to);

/* "NL" ... "EX"; "NONE" for MODE_NONE; "?" for anything else. */
const char *mode_name(int m);

/* The mode named by s ("nl", "Ex", ... case-insensitive, exactly the six
 * names), or -EINVAL. */
int mode_parse(const char *s);

#endif /* SDLM_MODES_H */
