/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * modes.c - the DLM compatibility matrix.
 *
 * One table, written as the DLM documents it (rows: mode held, columns:
 * mode requested; 1 = may coexist).  It is symmetric; test_modes.c checks
 * all 36 pairs against an independently written table.
 *
 *	      NL CR CW PR PW EX
 *	NL     1  1  1  1  1  1
 *	CR     1  1  1  1  1  0
 *	CW     1  1  1  0  0  0
 *	PR     1  1  0  1  0  0
 *	PW     1  1  0  0  0  0
 *	EX     1  0  0  0  0  0
 */
#include <errno.h>
#include <strings.h>

#include "modes.h"

static const unsigned char compat_matrix[MODE_COUNT][MODE_COUNT] = {
	/*           NL CR CW PR PW EX */
	[MODE_NL] = { 1, 1, 1, 1, 1, 1 },
	[MODE_CR] = { 1, 1, 1, 1, 1, 0 },
	[MODE_CW] = { 1, 1, 1, 0, 0, 0 },
	[MODE_PR] = { 1, 1, 0, 1, 0, 0 },
	[MODE_PW] = { 1, 1, 0, 0, 0, 0 },
	[MODE_EX] = { 1, 0, 0, 0, 0, 0 },
};

static const char *const mode_names[MODE_COUNT] = {
	[MODE_NL] = "NL", [MODE_CR] = "CR", [MODE_CW] = "CW",
	[MODE_PR] = "PR", [MODE_PW] = "PW", [MODE_EX] = "EX",
};

bool mode_valid(int m)
{
	return m >= MODE_NL && m < MODE_COUNT;
}

bool mode_compat(int a, int b)
{
	if (!mode_valid(a) || !mode_valid(b))
		return false;
	return compat_matrix[a][b];
}

bool mode_is_write(int m)
{
	return m == MODE_PW || m == MODE_EX;
}

bool mode_covers(int from, int to)
{
	int k;

	if (!mode_valid(from) || !mode_valid(to))
		return false;
	for (k = 0; k < MODE_COUNT; k++)
		if (compat_matrix[from][k] && !compat_matrix[to][k])
			return false;
	return true;
}

const char *mode_name(int m)
{
	if (m == MODE_NONE)
		return "NONE";
	if (!mode_valid(m))
		return "?";
	return mode_names[m];
}

int mode_parse(const char *s)
{
	int m;

	if (!s)
		return -EINVAL;
	for (m = 0; m < MODE_COUNT; m++)
		if (!strcasecmp(s, mode_names[m]))
			return m;
	return -EINVAL;
}
