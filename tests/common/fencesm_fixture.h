/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fencesm_fixture.h - what the fencesm unit tests share: the default
 * timeouts and the slot inputs they build.
 */
#ifndef SDLM_FENCESM_FIXTURE_H
#define SDLM_FENCESM_FIXTURE_H

#include <stdint.h>

#include "timeouts.h"
#include "fencesm.h"

#define INC_A	0xaaaa0001ull
#define INC_B	0xbbbb0002ull

/* The "default" profile, derived by setup_default (a cmocka group setup). */
extern struct sdlm_timeouts tmo;
int setup_default(void **state);

/* A verified heartbeat slot: ALIVE, no ack, written by this build (it
 * carries LAPSE_FENCES). */
struct hb_input hb_make(uint64_t inc, uint64_t counter);
/* The same from a build before issue 19 item 3 (no LAPSE_FENCES). */
struct hb_input hb_make_old(uint64_t inc, uint64_t counter);
/* The same carrying the ack (cmd, seq, ack_inc). */
struct hb_input hb_ack(uint64_t inc, uint64_t counter, uint32_t cmd,
		       uint64_t seq, uint64_t ack_inc);
/* A verified message slot. */
struct msg_input msg_make(uint32_t cmd, uint64_t seq, uint64_t target);

#endif
