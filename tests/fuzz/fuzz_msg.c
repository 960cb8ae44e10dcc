/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_msg.c - libFuzzer target for the lockspace CPG messages
 * (dlm/core/msg.c: msg_decode, msg_encode, msg_to_event, msg_from_event).
 *
 * Input: one control byte, then the message as CPG would deliver it.
 * Control bit 0 "fix the CRC": when the message is at least 52 bytes the
 * harness rewrites its last 4 bytes with the CRC32C of everything before,
 * so the fuzzer reaches the header, type and payload checks that come
 * after the checksum.
 *
 * Properties checked, besides "no crash, no out-of-bounds read":
 *   - msg_decode zeroes the message on error;
 *   - exactly one encoding (docs/protocol.md): whatever decodes encodes
 *     again, msg_encoded_len() is the input length, and the bytes are the
 *     input's (except the minor, which the encoder stamps with its own,
 *     and so the CRC, when the input carried another minor);
 *   - a lock-state message survives msg_to_event -> msg_from_event with
 *     the same encoding.
 *
 * --gen-corpus DIR writes one valid message of each type and exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdlm.h"
#include "crc32c.h"
#include "fuzzseed.h"
#include "msg.h"
#include "msgsample.h"

#define CTL_FIXCRC	0x1u

static uint8_t enc[MSG_MAX_LEN];
static uint8_t enc2[MSG_MAX_LEN];

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		if (*b++)
			return 0;
	return 1;
}

static void check_event_roundtrip(const struct msg *m, size_t len)
{
	struct ls_event ev;
	struct msg m2;
	size_t n = 0;

	memset(&ev, 0, sizeof(ev));
	if (msg_to_event(m, &ev) != 0) {
		if (m->m_type != MSG_JOIN && m->m_type != MSG_SNAPSHOT)
			abort();
		return;
	}
	memset(&m2, 0, sizeof(m2));
	m2.m_nodeid = m->m_nodeid;
	m2.m_incarnation = m->m_incarnation;
	m2.m_ring_id = m->m_ring_id;
	m2.m_seq = m->m_seq;
	if (msg_from_event(&ev, &m2) != 0)
		abort();
	if (msg_encode(&m2, enc2, sizeof(enc2), &n) != 0 || n != len ||
	    memcmp(enc, enc2, len) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg m;
	uint8_t *buf;
	size_t len, n = 0;
	uint32_t crc;

	if (size < 1)
		return 0;
	len = size - 1;
	buf = malloc(len ? len : 1);	/* exact size for ASan */
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);
	if ((data[0] & CTL_FIXCRC) && len >= MSG_OVERHEAD) {
		crc = crc32c(0, buf, len - MSG_CRC_LEN);
		buf[len - 4] = crc & 0xff;
		buf[len - 3] = (crc >> 8) & 0xff;
		buf[len - 2] = (crc >> 16) & 0xff;
		buf[len - 1] = crc >> 24;
	}
	if (msg_decode(buf, len, &m) != 0) {
		if (!all_zero(&m, sizeof(m)))
			abort();
		goto out_free;
	}
	if (msg_encoded_len(&m) != len)
		abort();
	if (msg_encode(&m, enc, sizeof(enc), &n) != 0 || n != len)
		abort();
	if (m.m_minor == MSG_MINOR) {
		if (memcmp(enc, buf, len) != 0)
			abort();
	} else if (memcmp(enc, buf, 6) != 0 ||
		   memcmp(enc + 8, buf + 8, len - 8 - MSG_CRC_LEN) != 0) {
		abort();
	}
	check_event_roundtrip(&m, len);
out_free:
	free(buf);
	return 0;
}

/* ---- seed corpus ---- */

/* The unit test's samples (tests/common/msgsample.c). */
static int gen_corpus(const char *dir)
{
	struct msg m;
	size_t n;
	int i;

	for (i = 0; i < MSG_NSAMPLES; i++) {
		msg_sample(&m, i);
		if (msg_encode(&m, enc, sizeof(enc), &n) ||
		    fuzzseed_write(dir, msg_type_name(m.m_type), 0, enc, n))
			return -1;
	}
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (*argc >= 3 && strcmp((*argv)[1], "--gen-corpus") == 0)
		exit(gen_corpus((*argv)[2]) ? 1 : 0);
	return 0;
}
