/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fencesm_fixture.c - see fencesm_fixture.h. */
#include <string.h>

#include "fencesm_fixture.h"

struct sdlm_timeouts tmo;

int setup_default(void **state)
{
	struct sdlm_timeouts_base b;

	(void)state;
	if (timeouts_profile("default", &b) || timeouts_derive(&b, &tmo, NULL))
		return -1;
	return 0;
}

struct hb_input hb_make(uint64_t inc, uint64_t counter)
{
	struct hb_input hb;

	memset(&hb, 0, sizeof(hb));
	hb.incarnation = inc;
	hb.counter = counter;
	hb.state = SM_SLOT_ALIVE;
	hb.lapse_fences = true;
	return hb;
}

struct hb_input hb_make_old(uint64_t inc, uint64_t counter)
{
	struct hb_input hb = hb_make(inc, counter);

	hb.lapse_fences = false;
	return hb;
}

struct hb_input hb_ack(uint64_t inc, uint64_t counter, uint32_t cmd,
		       uint64_t seq, uint64_t ack_inc)
{
	struct hb_input hb = hb_make(inc, counter);

	hb.ack_cmd = cmd;
	hb.ack_seq = seq;
	hb.ack_incarnation = ack_inc;
	return hb;
}

struct msg_input msg_make(uint32_t cmd, uint64_t seq, uint64_t target)
{
	struct msg_input m = { .cmd = cmd, .seq = seq,
			       .target_incarnation = target };
	return m;
}
