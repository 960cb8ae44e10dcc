/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * msgsample.h - one valid lockspace CPG message of each type (dlm/core/msg.h),
 * shared by the unit test of the wire format and its fuzzer's seed corpus.
 */
#ifndef SDLM_TEST_MSGSAMPLE_H
#define SDLM_TEST_MSGSAMPLE_H

#include "msg.h"

/* REQUEST, CONVERT, RELEASE, CANCEL, NODE_STATUS, NODE_FENCED, GATE, JOIN,
 * SNAPSHOT, HANDOFF_RELEASE, HELD: sample i is of the i-th of these types. */
#define MSG_NSAMPLES	11

/* A zeroed message of type with a fixed sender header (node 3, seq 42). */
void msg_sample_hdr(struct msg *m, enum msg_type type);

/*
 * Sample `which` (0..MSG_NSAMPLES-1).  The values reach the corners of the
 * format: a name with a NUL inside, every flag a type takes, an LVB, a
 * snapshot chunk of odd length (padding) that points into a static buffer.
 */
void msg_sample(struct msg *m, int which);

#endif
