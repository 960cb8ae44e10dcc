/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * killset.h - the lock users this node killed because their locks were
 * revoked (pill, lost lease), until each is gone.
 *
 * A victim acknowledges a pill only once every one of them is gone
 * ("killed and reaped"): they are not the daemon's children, so the
 * daemon probes each pid until it no longer exists.  Pure: the probe
 * and the kill are the caller's callbacks; allocation goes through
 * ks_realloc (a seam for tests).
 */
#ifndef SDLM_KILLSET_H
#define SDLM_KILLSET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct killset {
	pid_t *ks_pids;
	size_t ks_n;
	size_t ks_cap;
	bool ks_lost;			/* a killed user could not be recorded */
	void *(*ks_realloc)(void *p, size_t size);
};

void killset_init(struct killset *ks);
void killset_free(struct killset *ks);

/* Record pid as killed (no cap; a pid already there is kept once).
 * Returns 0, or -ENOMEM: the set is then lost (never done again). */
int killset_add(struct killset *ks, pid_t pid);

/* A killed user the caller could not even name (its list failed): the
 * set is never done again (sticky for the daemon's life). */
void killset_lost(struct killset *ks);

/*
 * Drop every pid alive() says is gone; call again_kill() on the others
 * (a kill may not have been delivered yet).  Returns how many are left.
 */
size_t killset_reap(struct killset *ks, bool (*alive)(pid_t pid, void *ctx),
		    void (*again_kill)(pid_t pid, void *ctx), void *ctx);

/* Every killed user is provably gone: none left and none lost. */
bool killset_done(const struct killset *ks);

#endif /* SDLM_KILLSET_H */
