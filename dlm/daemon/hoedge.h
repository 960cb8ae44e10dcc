/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hoedge.h - sdlmd's edge of the hand-off through the disk
 * (docs/design-handoff.md): the host operations that join the pure rules
 * of fence/handoff.c to the daemon's state.  hoedge.c's opening comment
 * says who does what.
 *
 * Named hoedge, not handoff: dlm/daemon is on the daemon's include path
 * beside fence/, and a second "handoff.h" would shadow the pure core's.
 */
#ifndef SDLM_HOEDGE_H
#define SDLM_HOEDGE_H

#include <stdint.h>

struct ls_host;

/* The requester's side: fill the lock manager's host operations for the
 * hand-off (ho_requester, ho_record, fencing) before lsm_init. */
void hoedge_host_ops(struct ls_host *host);

/* The away node's side: the heartbeat engine's callbacks on (V1, V3);
 * once the lock manager is up. */
void hoedge_start(void);

/* A heartbeat read completed at now_ms (HBE_READ): the answers it
 * brought, acted on now. */
void hoedge_read(uint64_t now_ms);

/* HBE_HO_SLOT_BAD: node's heartbeat slot does not verify (the engine
 * rate-limits it). */
void hoedge_slot_bad(int node);

/* V2 and V5, every tick before the heartbeat write. */
void hoedge_tick(void);

#endif
