/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * killset.c - killed lock users until they are gone (see killset.h).
 *
 * No cap: this is a safety path (a user neither killed nor waited for
 * could write after the node acknowledged its pill).  The array grows by
 * doubling; when it cannot, the set is marked lost for good and is never
 * done again: the node then never acknowledges, stops feeding when the
 * pill is not drained in time, and the watchdog resets it, which stops
 * every user for certain.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "killset.h"

#define KILLSET_FIRST 64

void killset_init(struct killset *ks)
{
	memset(ks, 0, sizeof(*ks));
	ks->ks_realloc = realloc;
}

void killset_free(struct killset *ks)
{
	free(ks->ks_pids);
	ks->ks_pids = NULL;
	ks->ks_n = ks->ks_cap = 0;
}

int killset_add(struct killset *ks, pid_t pid)
{
	void *(*grow)(void *, size_t) = ks->ks_realloc ? ks->ks_realloc
							: realloc;
	size_t i, cap;
	pid_t *p;

	for (i = 0; i < ks->ks_n; i++)
		if (ks->ks_pids[i] == pid)
			return 0;
	if (ks->ks_n == ks->ks_cap) {
		cap = ks->ks_cap ? 2 * ks->ks_cap : KILLSET_FIRST;
		if (cap > SIZE_MAX / sizeof(*p))
			goto out_lost;
		p = grow(ks->ks_pids, cap * sizeof(*p));
		if (!p)
			goto out_lost;
		ks->ks_pids = p;
		ks->ks_cap = cap;
	}
	ks->ks_pids[ks->ks_n++] = pid;
	return 0;

out_lost:
	ks->ks_lost = true;
	return -ENOMEM;
}

void killset_lost(struct killset *ks)
{
	ks->ks_lost = true;
}

size_t killset_reap(struct killset *ks, bool (*alive)(pid_t pid, void *ctx),
		    void (*again_kill)(pid_t pid, void *ctx), void *ctx)
{
	size_t i, j = 0;

	for (i = 0; i < ks->ks_n; i++) {
		if (!alive(ks->ks_pids[i], ctx))
			continue;
		if (again_kill)
			again_kill(ks->ks_pids[i], ctx);
		ks->ks_pids[j++] = ks->ks_pids[i];
	}
	ks->ks_n = j;
	return j;
}

bool killset_done(const struct killset *ks)
{
	return ks->ks_n == 0 && !ks->ks_lost;
}
