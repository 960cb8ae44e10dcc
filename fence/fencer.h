/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fencer.h - runs fence operations (fencesm.c's fence_op) against the disk:
 * writes poison pills through the heartbeat engine's aio context and
 * watches the victim's slot in every heartbeat read.
 *
 * One fence in flight at a time; further requests queue.  A rate limit
 * refuses more than max_per_window fences per window without an operator
 * (sdlmctl fence confirm), so a network storm cannot empty the cluster.
 */
#ifndef SDLM_FENCER_H
#define SDLM_FENCER_H

#include <stdbool.h>
#include <stdint.h>

#include "timeouts.h"
#include "fencesm.h"

struct area;
struct hb_engine;
struct fencer;

#define FENCER_PATH_ACK		1	/* the victim acknowledged the pill */
#define FENCER_PATH_DEAD	2	/* the victim stood still for the dead bound */
#define FENCER_PATH_OPERATOR	3	/* confirmed by hand */

/* A fence completed: the victim's incarnation (0 if unknown) and the path. */
typedef void (*fencer_done_fn)(void *ctx, uint32_t victim, uint64_t incarnation,
			       int path);

int fencer_create(struct fencer **out, struct area *a, struct hb_engine *hb,
		  const struct sdlm_timeouts *t, uint32_t my_node,
		  fencer_done_fn fn, void *ctx);
/*
 * Nothing new starts; a pill write in flight is waited for (up to 2 T)
 * so that no callback of the fencer stays on the area's aio context,
 * which the heartbeat engine and area_close reap after it; one the
 * kernel still holds then frees the fencer itself when it completes.
 */
void fencer_destroy(struct fencer *f);

/*
 * Ask for victim to be fenced.  0 queued or already in progress;
 * -EALREADY already fenced (its current incarnation); -EDQUOT the rate
 * limit refuses (an operator must confirm); -EINVAL bad node.
 */
int fencer_request(struct fencer *f, uint32_t victim, uint64_t now_ms);
/* Drop a queued or running request (the victim came back in time). */
void fencer_cancel(struct fencer *f, uint32_t victim);
/* An operator confirmed the fence (the machine is known to be off). */
void fencer_confirm(struct fencer *f, uint32_t victim);

/* After every heartbeat read (the engine's slots are fresh). */
void fencer_on_read(struct fencer *f, uint64_t now_ms);
/* Periodically (the heartbeat tick). */
void fencer_tick(struct fencer *f, uint64_t now_ms);

void fencer_set_limit(struct fencer *f, uint32_t max_per_window,
		      uint32_t window_s);

/* For status output: the victim in flight (0 none) and its state name. */
uint32_t fencer_current(const struct fencer *f, const char **state);
bool fencer_is_fenced(const struct fencer *f, uint32_t node, uint64_t incarnation);

#endif
