/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_xport.c - libFuzzer target for the fast path's frames (dlm/core/xport.c:
 * xport_frame_decode, xport_frame_encode, and xport_input behind them).
 *
 * Input: one control byte, then frames as UDP would deliver them, each
 * preceded by its length (u16 little-endian; the last one takes what is
 * left).  Control bit 0 "re-sign": the harness rewrites each frame's last
 * 16 bytes with the HMAC of everything before, under the harness's key,
 * so the fuzzer reaches the checks behind the tag.  Control bit 1
 * "stream": the frames also go, in order, to an endpoint (costly: an
 * endpoint is made per input, so decoder-only inputs run many times
 * faster).  Control bit 2 "refuse" (with bit 1): the harness's consumer
 * refuses every delivered message whose first byte is odd and takes it
 * back (xport_unack), as the lock layer does with a message it has no
 * room for.
 *
 * Properties checked, besides "no crash, no out-of-bounds read":
 *   - xport_frame_decode zeroes the frame on error;
 *   - one frame, one encoding: whatever decodes encodes again to the very
 *     same bytes (except the minor, which the encoder stamps with its own,
 *     and so the tag);
 *   - with CTL_STREAM, fed in order to one endpoint (node 2, incarnation 22, peers 1 and 3
 *     known), a sequence of frames never yields more deliveries or frames
 *     than an output holds, every delivery is of a frame's payload size
 *     range, and seqs delivered from one peer are consecutive;
 *   - with CTL_REFUSE too, xport_unack takes every refused delivery back,
 *     none of that peer's is left in the output after it, and the seqs
 *     the consumer takes from one peer are still consecutive (a refused
 *     one comes again, with the same seq).
 *
 * --gen-corpus DIR writes a HELLO, an ACK and DATA frames (one with a SACK
 * block), all to node 2, each without and with CTL_STREAM, and exits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzseed.h"
#include "sdlm_errors.h"
#include "xport.h"

#define CTL_RESIGN	0x1u
#define CTL_STREAM	0x2u
#define CTL_REFUSE	0x4u

static const char fuzz_key[] = "fuzz_xport key";
static struct xport_key key;
static uint8_t enc[XP_FRAME_MAX];

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		if (*b++)
			return 0;
	return 1;
}

static void check_codec(const uint8_t *buf, size_t len)
{
	struct xport_frame f;
	size_t n = 0;

	if (xport_frame_decode(buf, len, &key, &f) != 0) {
		if (!all_zero(&f, sizeof(f)))
			abort();
		return;
	}
	if (xport_frame_len(&f) != len)
		abort();
	if (xport_frame_encode(&f, &key, enc, sizeof(enc), &n) != 0 || n != len)
		abort();
	if (f.f_minor == XP_MINOR) {
		if (memcmp(enc, buf, len) != 0)
			abort();
	} else if (memcmp(enc, buf, 6) != 0 ||
		   memcmp(enc + 8, buf + 8, len - 8 - XP_TAG_LEN) != 0) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xport_out out;
	struct xport_cfg c;
	struct xport *xp = NULL;
	uint64_t last[4] = { 0 }, now = 0;
	uint8_t ctl, *buf, tag[SHA256_LEN];
	size_t pos = 1, len;
	unsigned i;

	if (size < 1)
		return 0;
	ctl = data[0];
	memset(&c, 0, sizeof(c));
	c.node = 2;
	c.incarnation = 22;
	c.key = fuzz_key;
	c.keylen = sizeof(fuzz_key) - 1;
	c.max_peers = 2;
	if (ctl & CTL_STREAM) {
		if (xport_new(&c, &xp))
			return 0;
		xport_peer_learn(xp, 1, 11, 0, &out);
		xport_peer_learn(xp, 3, 33, 0, &out);
	}
	while (pos < size) {
		len = size - pos;
		if (len > 2 && (size_t)(data[pos] | data[pos + 1] << 8) <= len - 2) {
			len = (size_t)(data[pos] | data[pos + 1] << 8);
			pos += 2;
		}
		buf = malloc(len ? len : 1);	/* exact size for ASan */
		if (!buf)
			break;
		memcpy(buf, data + pos, len);
		pos += len;
		if ((ctl & CTL_RESIGN) && len >= XP_FRAME_MIN) {
			xport_hmac(&key, buf, len - XP_TAG_LEN, tag);
			memcpy(buf + len - XP_TAG_LEN, tag, XP_TAG_LEN);
		}
		check_codec(buf, len);
		if (!xp) {
			free(buf);
			continue;
		}
		now += 1000000;
		xport_input(xp, buf, len, now, &out);
		if (out.nrx > XP_WINDOW || out.ntx > XP_OUT_MAX)
			abort();
		for (i = 0; i < out.nrx; i++) {
			const struct xport_rx *r = &out.rx[i];

			if (r->len < 1 || r->len > XP_PAYLOAD_MAX || !r->data ||
			    r->node < 1 || r->node > 3 || r->seq == 0)
				abort();
			if ((ctl & CTL_REFUSE) && (r->data[0] & 1)) {
				uint32_t node = r->node;
				unsigned k, n = out.nrx;

				if (xport_unack(xp, node, r->seq, &out) != 0 || out.nrx >= n)
					abort();
				for (k = i; k < out.nrx; k++)
					if (out.rx[k].node == node)
						abort();
				i--;	/* out.rx[i] is the next one now */
				continue;
			}
			/* consecutive per peer (a reset starts again at 1) */
			if (r->seq != last[r->node] + 1 && r->seq != 1)
				abort();
			last[r->node] = r->seq;
		}
		for (i = 0; i < out.ntx; i++)
			if (out.tx[i].len < XP_FRAME_MIN || out.tx[i].len > XP_FRAME_MAX)
				abort();
		free(buf);
		xport_timer(xp, now, &out);
	}
	xport_free(xp);
	return 0;
}

/* ---- seed corpus ---- */

/* Each seed twice: decoder only, and with CTL_STREAM. */
static int put(const char *dir, const char *name, const struct xport_frame *f)
{
	uint8_t lenb[2];
	size_t n;

	if (xport_frame_encode(f, &key, enc, sizeof(enc), &n))
		return -1;
	lenb[0] = n & 0xff;
	lenb[1] = n >> 8;
	return fuzzseed_frame(dir, name, "-stream", CTL_STREAM, lenb, enc, n);
}

static int gen_corpus(const char *dir)
{
	struct xport_frame f;

	memset(&f, 0, sizeof(f));
	f.f_src_node = 1;
	f.f_dst_node = 2;
	f.f_src_inc = 11;
	f.f_flags = XP_F_HELLO;
	if (put(dir, "HELLO", &f))
		return -1;
	f.f_flags = 0;
	f.f_dst_inc = 22;
	if (put(dir, "ACK", &f))
		return -1;
	f.f_seq = 2;
	f.f_payload = (const uint8_t *)"P_REQUEST uid:0123";
	f.f_len = 18;
	f.f_nsack = 1;
	f.f_sack[0].start = 2;	/* never sent by node 2: -ERANGE */
	f.f_sack[0].end = 3;
	if (put(dir, "DATA-SACK", &f))
		return -1;
	f.f_nsack = 0;
	f.f_seq = 1;
	return put(dir, "DATA", &f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	xport_key_init(&key, fuzz_key, sizeof(fuzz_key) - 1);
	if (*argc >= 3 && strcmp((*argv)[1], "--gen-corpus") == 0)
		exit(gen_corpus((*argv)[2]) ? 1 : 0);
	return 0;
}
