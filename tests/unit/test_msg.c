/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_msg.c - the lockspace CPG wire format (dlm/core/msg.c): round trips of
 * every type, each verification step with its own error, event mapping,
 * snapshot chunking through the real lockstate snapshot, version
 * negotiation, and a seeded fuzz loop whose every accepted input must
 * re-encode to the very same bytes (one message, one encoding).
 */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crc32c.h"
#include "lockstate.h"
#include "modes.h"
#include "msg.h"
#include "sdlm.h"
#include "msgsample.h"

#define LKID(node, n)	(((uint64_t)(node) << 32) | (uint32_t)(n))

static uint8_t buf[MSG_MAX_LEN + 16];
static uint8_t snapbuf[4 * MSG_SNAP_CHUNK_MAX];

/* xorshift64*: the tests' only randomness, always seeded. */
static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}


static size_t enc(const struct msg *m)
{
	size_t n = 0;

	assert_int_equal(msg_encode(m, buf, sizeof(buf), &n), 0);
	assert_int_equal(n, msg_encoded_len(m));
	return n;
}

/* Recompute the trailing CRC so a test reaches the checks behind it. */
static void reseal(uint8_t *p, size_t len)
{
	uint32_t crc = htole32(crc32c(0, p, len - MSG_CRC_LEN));

	memcpy(p + len - MSG_CRC_LEN, &crc, sizeof(crc));
}

static void put16(uint8_t *p, uint16_t v) { v = htole16(v); memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { v = htole32(v); memcpy(p, &v, 4); }

static void assert_msg_equal(const struct msg *a, const struct msg *b)
{
	assert_int_equal(a->m_type, b->m_type);
	assert_int_equal(a->m_nodeid, b->m_nodeid);
	assert_true(a->m_incarnation == b->m_incarnation);
	assert_true(a->m_ring_id == b->m_ring_id);
	assert_true(a->m_seq == b->m_seq);
	switch (a->m_type) {
	case MSG_REQUEST:
		assert_int_equal(a->u.lock.namelen, b->u.lock.namelen);
		assert_memory_equal(a->u.lock.name, b->u.lock.name, a->u.lock.namelen);
		/* fall through */
	case MSG_CONVERT:
		assert_int_equal(a->u.lock.mode, b->u.lock.mode);
		/* fall through */
	case MSG_RELEASE:
		assert_int_equal(a->u.lock.flags, b->u.lock.flags);
		assert_int_equal(a->u.lock.has_lvb, b->u.lock.has_lvb);
		if (a->u.lock.has_lvb)
			assert_memory_equal(a->u.lock.lvb, b->u.lock.lvb, LS_LVB_LEN);
		/* fall through */
	case MSG_CANCEL:
		assert_true(a->u.lock.lkid == b->u.lock.lkid);
		break;
	case MSG_NODE_STATUS:
		assert_int_equal(a->u.status.nodeid, b->u.status.nodeid);
		assert_int_equal(a->u.status.hb_live, b->u.status.hb_live);
		assert_int_equal(a->u.status.pill_pending, b->u.status.pill_pending);
		break;
	case MSG_NODE_FENCED:
		assert_int_equal(a->u.fenced.nodeid, b->u.fenced.nodeid);
		assert_true(a->u.fenced.incarnation == b->u.fenced.incarnation);
		break;
	case MSG_GATE:
		assert_int_equal(a->u.gate.open, b->u.gate.open);
		break;
	case MSG_HANDOFF_RELEASE:
		assert_int_equal(a->u.handoff.nodeid, b->u.handoff.nodeid);
		assert_true(a->u.handoff.incarnation == b->u.handoff.incarnation);
		assert_true(a->u.handoff.lkid == b->u.handoff.lkid);
		assert_int_equal(a->u.handoff.has_lvb, b->u.handoff.has_lvb);
		assert_memory_equal(a->u.handoff.lvb, b->u.handoff.lvb, LS_LVB_LEN);
		break;
	case MSG_HELD:
		assert_true(a->u.held.lkid == b->u.held.lkid);
		assert_true(a->u.held.epoch == b->u.held.epoch);
		assert_int_equal(a->u.held.mode, b->u.held.mode);
		assert_int_equal(a->u.held.namelen, b->u.held.namelen);
		assert_memory_equal(a->u.held.name, b->u.held.name, SDLM_NAME_MAX);
		break;
	case MSG_JOIN:
		assert_int_equal(a->u.join.proto_min, b->u.join.proto_min);
		assert_int_equal(a->u.join.proto_max, b->u.join.proto_max);
		assert_int_equal(a->u.join.flags, b->u.join.flags);
		assert_int_equal(a->u.join.digest, b->u.join.digest);
		assert_int_equal(a->u.join.formed_ring, b->u.join.formed_ring);
		assert_int_equal(a->u.join.gen, b->u.join.gen);
		assert_int_equal(a->u.join.hist, b->u.join.hist);
		assert_int_equal(a->u.join.round, b->u.join.round);
		break;
	case MSG_SNAPSHOT:
		assert_true(a->u.snap.xfer_id == b->u.snap.xfer_id);
		assert_int_equal(a->u.snap.basis_nodeid, b->u.snap.basis_nodeid);
		assert_true(a->u.snap.basis_incarnation == b->u.snap.basis_incarnation);
		assert_true(a->u.snap.basis_seq == b->u.snap.basis_seq);
		assert_int_equal(a->u.snap.total_len, b->u.snap.total_len);
		assert_int_equal(a->u.snap.offset, b->u.snap.offset);
		assert_int_equal(a->u.snap.total_crc, b->u.snap.total_crc);
		assert_int_equal(a->u.snap.len, b->u.snap.len);
		assert_memory_equal(a->u.snap.data, b->u.snap.data, a->u.snap.len);
		break;
	}
}

/* ---- round trips ---- */

static void test_round_trip_every_type(void **state)
{
	static uint8_t copy[MSG_MAX_LEN];
	struct msg m, d;
	size_t n, n2;
	int i;

	(void)state;
	for (i = 0; i < MSG_NSAMPLES; i++) {
		msg_sample(&m, i);
		n = enc(&m);
		assert_int_equal(msg_decode(buf, n, &d), 0);
		assert_int_equal(d.m_minor, MSG_MINOR);
		assert_msg_equal(&m, &d);
		/* one message, one encoding (into another buffer: d's
		 * snapshot chunk points into buf) */
		assert_int_equal(msg_encode(&d, copy, sizeof(copy), &n2), 0);
		assert_int_equal(n2, n);
		assert_memory_equal(copy, buf, n);
	}
}

/*
 * A message kept after its receive buffer is reused (sdlmd buffers the
 * stream while it waits for the state) must keep every byte it owns.
 * Regression: clearing u.snap.data on a REQUEST zeroed bytes 31..38 of
 * its resource name, so the replayed request named another resource and
 * the replica diverged (nemesis seed 11: one UID handed out twice).
 */
static void test_detach_keeps_payload(void **state)
{
	static uint8_t before[MSG_MAX_LEN];
	struct msg m, d, kept;
	size_t n, n2, i;
	int k;

	(void)state;
	for (k = 0; k < MSG_NSAMPLES; k++) {
		msg_sample(&m, k);
		if (m.m_type == MSG_REQUEST) {
			/* a name that covers every byte the union shares */
			m.u.lock.namelen = SDLM_NAME_MAX;
			for (i = 0; i < SDLM_NAME_MAX; i++)
				m.u.lock.name[i] = (uint8_t)('a' + i % 26);
		}
		n = enc(&m);
		memcpy(before, buf, n);
		assert_int_equal(msg_decode(buf, n, &d), 0);
		kept = d;
		msg_detach(&kept);
		memset(buf, 0xee, sizeof(buf));	/* the buffer is reused */
		if (m.m_type == MSG_SNAPSHOT) {
			assert_null(kept.u.snap.data);
			assert_int_equal(kept.u.snap.len, m.u.snap.len);
			assert_int_equal(kept.u.snap.xfer_id, m.u.snap.xfer_id);
			assert_int_equal(kept.u.snap.basis_seq, m.u.snap.basis_seq);
			continue;
		}
		assert_memory_equal(&kept, &d, sizeof(kept));
		assert_int_equal(msg_encode(&kept, buf, sizeof(buf), &n2), 0);
		assert_int_equal(n2, n);
		assert_memory_equal(buf, before, n);
	}
}

static void test_header_layout(void **state)
{
	struct msg m;
	uint32_t v32;
	uint64_t v64;
	size_t n;

	(void)state;
	msg_sample(&m, 0);
	n = enc(&m);
	assert_int_equal(n, MSG_OVERHEAD + 80);
	assert_memory_equal(buf, "SDLC", 4);
	assert_int_equal(buf[4] | buf[5] << 8, MSG_MAJOR);
	assert_int_equal(buf[8] | buf[9] << 8, MSG_REQUEST);
	memcpy(&v32, buf + 12, 4);
	assert_int_equal(le32toh(v32), 3);
	memcpy(&v64, buf + 16, 8);
	assert_true(le64toh(v64) == 0x1122334455667788ULL);
	memcpy(&v64, buf + 32, 8);
	assert_true(le64toh(v64) == 42);
	memcpy(&v32, buf + 40, 4);
	assert_int_equal(le32toh(v32), 80);
	memcpy(&v32, buf + n - 4, 4);
	assert_int_equal(le32toh(v32), crc32c(0, buf, n - 4));
	/* the name sits at payload offset 16, zero padded */
	assert_memory_equal(buf + MSG_HDR_LEN + 16, "mbox/INBOX\0x", 12);
	assert_int_equal(buf[MSG_HDR_LEN + 16 + 12], 0);
}

static void test_event_mapping(void **state)
{
	uint8_t lvb[LS_LVB_LEN];
	struct ls_event evs[] = {
		{ .ev_kind = LS_EV_REQUEST, .ev_nodeid = 3, .ev_lkid = LKID(3, 1),
		  .ev_mode = MODE_CW, .ev_flags = LS_LKF_NOQUEUE,
		  .ev_name = "r1", .ev_namelen = 2 },
		{ .ev_kind = LS_EV_CONVERT, .ev_nodeid = 3, .ev_lkid = LKID(3, 1),
		  .ev_mode = MODE_EX, .ev_flags = LS_LKF_IVVALBLK, .ev_lvb = lvb },
		{ .ev_kind = LS_EV_CONVERT, .ev_nodeid = 3, .ev_lkid = LKID(3, 1),
		  .ev_mode = MODE_NL },
		{ .ev_kind = LS_EV_RELEASE, .ev_nodeid = 3, .ev_lkid = LKID(3, 1),
		  .ev_lvb = lvb },
		{ .ev_kind = LS_EV_CANCEL, .ev_nodeid = 3, .ev_lkid = LKID(3, 2) },
		{ .ev_kind = LS_EV_NODE_STATUS, .ev_nodeid = 9, .ev_hb_live = true },
		{ .ev_kind = LS_EV_NODE_FENCED, .ev_nodeid = 9, .ev_incarnation = 5 },
		{ .ev_kind = LS_EV_GATE, .ev_gate_open = true },
		{ .ev_kind = LS_EV_HANDOFF_RELEASE, .ev_nodeid = 9,
		  .ev_incarnation = 6, .ev_lkid = LKID(9, 4), .ev_lvb = lvb },
		{ .ev_kind = LS_EV_HANDOFF_RELEASE, .ev_nodeid = 9,
		  .ev_incarnation = 6, .ev_lkid = LKID(9, 5) },
		{ .ev_kind = LS_EV_HELD, .ev_nodeid = 3, .ev_lkid = LKID(3, 6),
		  .ev_mode = MODE_EX, .ev_epoch = 77, .ev_name = "mbox\0x",
		  .ev_namelen = 6 },
	};
	struct ls_event out;
	struct msg m, d;
	size_t i, n;

	(void)state;
	memset(lvb, 0xc3, sizeof(lvb));
	for (i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		const struct ls_event *e = &evs[i];

		msg_sample_hdr(&m, MSG_GATE);
		m.m_nodeid = 3;
		assert_int_equal(msg_from_event(e, &m), 0);
		assert_int_equal((int)m.m_type, (int)e->ev_kind);
		n = enc(&m);
		assert_int_equal(msg_decode(buf, n, &d), 0);
		assert_int_equal(msg_to_event(&d, &out), 0);
		assert_int_equal(out.ev_kind, e->ev_kind);
		if (e->ev_kind <= LS_EV_CANCEL || e->ev_kind == LS_EV_HELD) {
			/* lock events: the node is the sender */
			assert_int_equal(out.ev_nodeid, 3);
			assert_true(out.ev_lkid == e->ev_lkid);
		} else if (e->ev_kind != LS_EV_GATE) {
			assert_int_equal(out.ev_nodeid, e->ev_nodeid);
		}
		switch (e->ev_kind) {
		case LS_EV_REQUEST:
			assert_int_equal(out.ev_namelen, e->ev_namelen);
			assert_memory_equal(out.ev_name, e->ev_name, e->ev_namelen);
			/* fall through */
		case LS_EV_CONVERT:
			assert_int_equal(out.ev_mode, e->ev_mode);
			assert_int_equal(out.ev_flags, e->ev_flags);
			/* fall through */
		case LS_EV_RELEASE:
			assert_int_equal(out.ev_lvb != NULL, e->ev_lvb != NULL);
			if (e->ev_lvb)
				assert_memory_equal(out.ev_lvb, e->ev_lvb, LS_LVB_LEN);
			break;
		case LS_EV_NODE_STATUS:
			assert_int_equal(out.ev_hb_live, e->ev_hb_live);
			assert_int_equal(out.ev_pill_pending, e->ev_pill_pending);
			break;
		case LS_EV_NODE_FENCED:
			assert_true(out.ev_incarnation == e->ev_incarnation);
			break;
		case LS_EV_GATE:
			assert_int_equal(out.ev_gate_open, e->ev_gate_open);
			break;
		case LS_EV_HANDOFF_RELEASE:
			/* V is named in the payload, not the sender */
			assert_true(out.ev_incarnation == e->ev_incarnation);
			assert_true(out.ev_lkid == e->ev_lkid);
			assert_int_equal(out.ev_lvb != NULL, e->ev_lvb != NULL);
			if (e->ev_lvb)
				assert_memory_equal(out.ev_lvb, e->ev_lvb, LS_LVB_LEN);
			break;
		case LS_EV_HELD:
			/* the sender's own lock; dirty is the host's to say */
			assert_int_equal(out.ev_mode, e->ev_mode);
			assert_true(out.ev_epoch == e->ev_epoch);
			assert_int_equal(out.ev_namelen, e->ev_namelen);
			assert_memory_equal(out.ev_name, e->ev_name, e->ev_namelen);
			assert_false(out.ev_dirty);
			assert_null(out.ev_lvb);
			break;
		default:
			break;
		}
	}
}

static void test_event_mapping_refusals(void **state)
{
	uint32_t members[] = { 1, 2 };
	struct ls_event confchg = { .ev_kind = LS_EV_CONFCHG, .ev_members = members,
				    .ev_member_count = 2, .ev_quorate = true };
	struct ls_event noname = { .ev_kind = LS_EV_REQUEST, .ev_nodeid = 1,
				   .ev_lkid = LKID(1, 1), .ev_mode = MODE_EX,
				   .ev_name = "x", .ev_namelen = 0 };
	struct ls_event longname = noname;
	struct ls_event badmode = noname;
	struct ls_event badflags = noname;
	struct ls_event status0 = { .ev_kind = LS_EV_NODE_STATUS };
	struct ls_event ho_inc0 = { .ev_kind = LS_EV_HANDOFF_RELEASE,
				    .ev_nodeid = 2, .ev_lkid = LKID(2, 1) };
	struct ls_event ho_node = { .ev_kind = LS_EV_HANDOFF_RELEASE,
				    .ev_nodeid = 2, .ev_incarnation = 1,
				    .ev_lkid = LKID(3, 1) };
	struct ls_event ho_hold = { .ev_kind = LS_EV_HOLD, .ev_hold = true };
	struct ls_event held_none = { .ev_kind = LS_EV_HELD, .ev_nodeid = 1,
				      .ev_lkid = LKID(1, 1), .ev_mode = MODE_NONE,
				      .ev_name = "x", .ev_namelen = 1 };
	struct ls_event held_noname = { .ev_kind = LS_EV_HELD, .ev_nodeid = 1,
					.ev_lkid = LKID(1, 1), .ev_mode = MODE_EX,
					.ev_name = "x", .ev_namelen = 0 };
	struct msg m, j;
	struct ls_event ev;
	char name[SDLM_NAME_MAX + 1];

	(void)state;
	memset(name, 'a', sizeof(name));
	longname.ev_name = name;
	longname.ev_namelen = SDLM_NAME_MAX + 1;
	badmode.ev_namelen = 1;
	badmode.ev_mode = MODE_COUNT;
	badflags.ev_namelen = 1;
	badflags.ev_flags = 0x80;
	msg_sample_hdr(&m, MSG_GATE);
	assert_int_equal(msg_from_event(&confchg, &m), -EINVAL);
	assert_int_equal(msg_from_event(&noname, &m), -EINVAL);
	assert_int_equal(msg_from_event(&longname, &m), -EINVAL);
	assert_int_equal(msg_from_event(&badmode, &m), -EINVAL);
	assert_int_equal(msg_from_event(&badflags, &m), -EINVAL);
	assert_int_equal(msg_from_event(&status0, &m), -EINVAL);
	/* HANDOFF_RELEASE: an incarnation, an lkid of V itself; HOLD is local */
	assert_int_equal(msg_from_event(&ho_inc0, &m), -EINVAL);
	assert_int_equal(msg_from_event(&ho_node, &m), -EINVAL);
	assert_int_equal(msg_from_event(&ho_hold, &m), -EINVAL);
	/* HELD: a granted mode (not NONE), a name */
	assert_int_equal(msg_from_event(&held_none, &m), -EINVAL);
	assert_int_equal(msg_from_event(&held_noname, &m), -EINVAL);
	longname.ev_namelen = SDLM_NAME_MAX;
	assert_int_equal(msg_from_event(&longname, &m), 0);
	assert_int_equal(m.u.lock.namelen, SDLM_NAME_MAX);
	/* JOIN and SNAPSHOT are not lock-state events */
	msg_sample(&j, 7);
	assert_int_equal(msg_to_event(&j, &ev), -EINVAL);
	msg_sample(&j, 8);
	assert_int_equal(msg_to_event(&j, &ev), -EINVAL);
}

/* ---- the verification steps, each with its error ---- */

static void test_truncated_and_oversized(void **state)
{
	struct msg m, d;
	size_t n, l;
	int i;

	(void)state;
	for (i = 0; i < MSG_NSAMPLES; i++) {
		msg_sample(&m, i);
		n = enc(&m);
		for (l = 0; l < n; l++)
			assert_int_equal(msg_decode(buf, l, &d), SDLM_EPROTO);
		/* trailing garbage is a length lie too */
		buf[n] = 0;
		assert_int_equal(msg_decode(buf, n + 1, &d), SDLM_EPROTO);
		assert_int_equal(msg_decode(buf, n + 8, &d), SDLM_EPROTO);
	}
	assert_int_equal(msg_decode(buf, MSG_MAX_LEN + 1, &d), SDLM_EPROTO);
	assert_int_equal(msg_decode(NULL, 100, &d), SDLM_EPROTO);
	assert_int_equal(msg_decode(buf, 100, NULL), -EINVAL);
}

static void test_magic_version_crc(void **state)
{
	struct msg m, d;
	size_t n, i;

	(void)state;
	msg_sample(&m, 0);
	n = enc(&m);
	buf[0] ^= 0x20;
	assert_int_equal(msg_decode(buf, n, &d), SDLM_EMAGIC);
	buf[0] ^= 0x20;
	put16(buf + 4, MSG_MAJOR + 1);
	reseal(buf, n);
	assert_int_equal(msg_decode(buf, n, &d), SDLM_EVERSION);
	put16(buf + 4, MSG_MAJOR);
	/* a higher minor is fine */
	put16(buf + 6, MSG_MINOR + 3);
	reseal(buf, n);
	assert_int_equal(msg_decode(buf, n, &d), 0);
	assert_int_equal(d.m_minor, MSG_MINOR + 3);
	/* every single bit flip behind the major is caught by the CRC */
	for (i = 64; i < n * 8; i++) {
		if (i / 8 >= 40 && i / 8 < 44)
			continue;	/* payload_len: a length lie, below */
		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(msg_decode(buf, n, &d), SDLM_ECHECKSUM);
		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	assert_int_equal(msg_decode(buf, n, &d), 0);
	/* on error the output is zeroed */
	buf[20] ^= 1;
	assert_int_equal(msg_decode(buf, n, &d), SDLM_ECHECKSUM);
	assert_int_equal(d.m_type, 0);
	assert_int_equal(d.m_nodeid, 0);
}

static void test_length_lies(void **state)
{
	struct msg m, d;
	size_t n;

	(void)state;
	msg_sample(&m, 1);
	n = enc(&m);
	/* payload_len says more / less than the buffer holds */
	put32(buf + 40, 1000);
	assert_int_equal(msg_decode(buf, n, &d), SDLM_EPROTO);
	put32(buf + 40, 0xffffffffu);
	assert_int_equal(msg_decode(buf, n, &d), SDLM_EPROTO);
	put32(buf + 40, 40);
	assert_int_equal(msg_decode(buf, n, &d), SDLM_EPROTO);
	/* consistent length, valid CRC, wrong size for the type */
	put32(buf + 40, 40);
	reseal(buf, MSG_OVERHEAD + 40);
	assert_int_equal(msg_decode(buf, MSG_OVERHEAD + 40, &d), SDLM_EPROTO);
	/* a REQUEST payload relabelled as CANCEL */
	msg_sample(&m, 0);
	n = enc(&m);
	put16(buf + 8, MSG_CANCEL);
	reseal(buf, n);
	assert_int_equal(msg_decode(buf, n, &d), SDLM_EPROTO);
	/* a snapshot whose chunk_len disagrees with payload_len */
	msg_sample(&m, 8);
	n = enc(&m);
	put32(buf + MSG_HDR_LEN + 36, m.u.snap.len + 8);
	reseal(buf, n);
	assert_int_equal(msg_decode(buf, n, &d), SDLM_EPROTO);
	put32(buf + MSG_HDR_LEN + 36, m.u.snap.len - 8);
	reseal(buf, n);
	assert_int_equal(msg_decode(buf, n, &d), SDLM_EPROTO);
	put32(buf + MSG_HDR_LEN + 36, 0xfffffff8u);
	reseal(buf, n);
	assert_int_equal(msg_decode(buf, n, &d), SDLM_EPROTO);
}

/*
 * HANDOFF_RELEASE byte for byte (docs/protocol.md; design-handoff.md
 * F3): written from the layout in msg.h, not from msg.c.
 */
static void test_handoff_release_golden(void **state)
{
	static const uint8_t payload[56] = {
		0x02, 0x00, 0x00, 0x00,		/* nodeid 2 (V) */
		0x01, 0x00, 0x00, 0x00,		/* has_lvb 1, reserved */
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,	/* incarnation */
		0x11, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,	/* lkid 2 << 32 | 0x11 */
		0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,	/* lvb */
		0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf,
		0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7,
		0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
	};
	struct msg m, d;
	struct ls_event ev;
	uint32_t v32;
	size_t n;

	(void)state;
	msg_sample(&m, 9);
	assert_int_equal(m.m_type, MSG_HANDOFF_RELEASE);
	n = enc(&m);
	assert_int_equal(n, MSG_OVERHEAD + 56);
	assert_int_equal(buf[8] | buf[9] << 8, 10);		/* type */
	memcpy(&v32, buf + 40, 4);
	assert_int_equal(le32toh(v32), 56);			/* payload_len */
	assert_memory_equal(buf + MSG_HDR_LEN, payload, sizeof(payload));
	memcpy(&v32, buf + n - 4, 4);
	assert_int_equal(le32toh(v32), crc32c(0, buf, n - 4));
	assert_int_equal(msg_decode(buf, n, &d), 0);
	assert_int_equal(msg_to_event(&d, &ev), 0);
	assert_int_equal(ev.ev_kind, LS_EV_HANDOFF_RELEASE);
	assert_int_equal(ev.ev_nodeid, 2);	/* V, not the sender (3) */
	assert_string_equal(msg_type_name(MSG_HANDOFF_RELEASE), "HANDOFF_RELEASE");
}

/*
 * HELD byte for byte (docs/protocol.md "Rebuilding a fresh replica"):
 * written from the layout in msg.h, not from msg.c.
 */
static void test_held_golden(void **state)
{
	static const uint8_t payload[88] = {
		0x21, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,	/* lkid 3 << 32 | 0x21 */
		0x11, 0x10, 0x0f, 0x0e, 0x0d, 0x0c, 0x0b, 0x0a,	/* epoch */
		0x04,						/* mode PW */
		0x09,						/* namelen 9 */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00,		/* reserved */
		'u', 'i', 'd', '/', 0x00, 'm', 'b', 'o', 'x',	/* name, then zeros */
	};
	struct msg m, d;
	struct ls_event ev;
	uint32_t v32;
	size_t n;

	(void)state;
	msg_sample(&m, 10);
	assert_int_equal(m.m_type, MSG_HELD);
	n = enc(&m);
	assert_int_equal(n, MSG_OVERHEAD + 88);
	assert_int_equal(buf[8] | buf[9] << 8, 18);		/* type */
	memcpy(&v32, buf + 40, 4);
	assert_int_equal(le32toh(v32), 88);			/* payload_len */
	assert_memory_equal(buf + MSG_HDR_LEN, payload, sizeof(payload));
	memcpy(&v32, buf + n - 4, 4);
	assert_int_equal(le32toh(v32), crc32c(0, buf, n - 4));
	assert_int_equal(msg_decode(buf, n, &d), 0);
	assert_int_equal(msg_to_event(&d, &ev), 0);
	assert_int_equal(ev.ev_kind, LS_EV_HELD);
	assert_int_equal(ev.ev_nodeid, 3);	/* the sender */
	assert_true(ev.ev_epoch == 0x0a0b0c0d0e0f1011ULL);
	assert_string_equal(msg_type_name(MSG_HELD), "HELD");
}

/* Which protocol a type needs: HANDOFF_RELEASE 3, HELD 4, every other type
 * the minimum (lspace_send_event refuses one above the agreed version). */
static void test_type_proto(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < MSG_NSAMPLES; i++) {
		struct msg m;

		msg_sample(&m, i);
		assert_int_equal(msg_type_proto(m.m_type),
				 m.m_type == MSG_HANDOFF_RELEASE ? 3 :
				 m.m_type == MSG_HELD ? 4 : MSG_PROTO_MIN);
	}
	assert_int_equal(msg_type_proto(5), 0);
	assert_int_equal(msg_type_proto(9), 0);
	/* this build applies both (ls_apply: F3; HELD, the rebuild): it
	 * announces 4 */
	assert_int_equal(MSG_PROTO_MAX, 4);
	assert_true(msg_type_proto(MSG_HANDOFF_RELEASE) <= MSG_PROTO_MAX);
	assert_true(msg_type_proto(MSG_HANDOFF_RELEASE) > MSG_PROTO_MIN);
	assert_true(msg_type_proto(MSG_HELD) <= MSG_PROTO_MAX);
}

static void test_unknown_type(void **state)
{
	static const uint16_t bad[] = { 0, 5, 9, 11, 15, 19, 0xffff };
	struct msg m, d;
	size_t n, i;

	(void)state;
	msg_sample(&m, 3);	/* CANCEL: 8-byte payload, like several others */
	n = enc(&m);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put16(buf + 8, bad[i]);
		reseal(buf, n);
		assert_int_equal(msg_decode(buf, n, &d), SDLM_EPROTO);
	}
	m.m_type = 5;
	assert_int_equal(msg_encoded_len(&m), 0);
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &n), -EINVAL);
	assert_string_equal(msg_type_name(MSG_SNAPSHOT), "SNAPSHOT");
	assert_string_equal(msg_type_name(5), "?");
}

/* Change byte off (absolute) of sample `which`, reseal: must be EPROTO. */
static void expect_proto(int which, size_t off, uint8_t val)
{
	struct msg m, d;
	size_t n;
	int rc;

	msg_sample(&m, which);
	n = enc(&m);
	assert_true(off < n - MSG_CRC_LEN);
	buf[off] = val;
	reseal(buf, n);
	rc = msg_decode(buf, n, &d);
	if (rc != SDLM_EPROTO)
		fail_msg("sample %d, byte %zu = %#x: %d, want SDLM_EPROTO",
			 which, off, val, rc);
}

/*
 * Lock flags: the daemon's LS_LKF_* have a range of their own, apart from
 * the client's SDLM_LKF_* (NOQUEUEBAST and VALBLK were both 0x2); on the
 * wire they keep the values docs/protocol.md lists, and ls_lkf_wire() is
 * its own inverse.
 */
static void test_lock_flags_wire(void **state)
{
	struct msg m, d;
	uint32_t w, x;
	size_t n, i;

	(void)state;
	assert_int_equal(LS_LKF_ALL & (SDLM_LKF_NOQUEUE | SDLM_LKF_VALBLK |
				       SDLM_LKF_IVVALBLK), 0);
	assert_int_equal(ls_lkf_wire(LS_LKF_NOQUEUE), 1);
	assert_int_equal(ls_lkf_wire(LS_LKF_NOQUEUEBAST), 2);
	assert_int_equal(ls_lkf_wire(LS_LKF_IVVALBLK), 4);
	rng_state = 0xf1a95ULL;
	for (i = 0; i < 1000; i++) {
		x = (uint32_t)rng();
		assert_int_equal(ls_lkf_wire(ls_lkf_wire(x)), x);
	}
	/* REQUEST NOQUEUE | NOQUEUEBAST, CONVERT IVVALBLK: flags at 12 */
	msg_sample(&m, 0);
	n = enc(&m);
	memcpy(&w, buf + MSG_HDR_LEN + 12, sizeof(w));
	assert_int_equal(le32toh(w), 3);
	assert_int_equal(msg_decode(buf, n, &d), 0);
	assert_int_equal(d.u.lock.flags, LS_LKF_NOQUEUE | LS_LKF_NOQUEUEBAST);
	msg_sample(&m, 1);
	n = enc(&m);
	memcpy(&w, buf + MSG_HDR_LEN + 12, sizeof(w));
	assert_int_equal(le32toh(w), 4);
	assert_int_equal(msg_decode(buf, n, &d), 0);
	assert_int_equal(d.u.lock.flags, LS_LKF_IVVALBLK);
}

static void test_field_checks(void **state)
{
	const size_t P = MSG_HDR_LEN;
	size_t i;

	(void)state;
	expect_proto(0, 10, 1);		/* header flags */
	expect_proto(0, 44, 1);		/* header reserved */
	for (i = 12; i < 16; i++)
		buf[i] = 0;
	reseal(buf, MSG_OVERHEAD + 80);
	assert_int_equal(msg_decode(buf, MSG_OVERHEAD + 80, &(struct msg){0}),
			 SDLM_EPROTO);		/* nodeid 0 */
	expect_proto(0, P + 8, 6);		/* REQUEST mode */
	expect_proto(0, P + 8, 0xff);
	expect_proto(0, P + 9, 0);		/* namelen 0 */
	expect_proto(0, P + 9, 65);		/* namelen > 64 */
	expect_proto(0, P + 10, 1);		/* reserved */
	expect_proto(0, P + 12, 0x8);		/* unknown lock flag */
	expect_proto(0, P + 16 + 12, 'z');	/* name padding */
	expect_proto(0, P + 16 + 63, 1);
	expect_proto(1, P + 8, 7);		/* CONVERT mode */
	expect_proto(1, P + 9, 2);		/* has_lvb not boolean */
	expect_proto(1, P + 15, 0x80);		/* flags */
	/* lock flags at their in-memory value (LS_LKF_*, bits 8..15) or
	 * with a bit a one-way shift would lose (ls_lkf_wire) */
	expect_proto(0, P + 13, 1);
	expect_proto(1, P + 14, 1);
	expect_proto(2, P + 15, 1);
	expect_proto(2, P + 8, 1);		/* RELEASE carries no mode */
	expect_proto(4, P + 0, 0);		/* NODE_STATUS nodeid 0 */
	expect_proto(4, P + 4, 0x7);		/* unknown status bit */
	expect_proto(5, P + 4, 1);		/* NODE_FENCED reserved */
	expect_proto(6, P + 0, 2);		/* GATE open not boolean */
	expect_proto(6, P + 7, 1);		/* GATE reserved */
	expect_proto(7, P + 0, 5);		/* JOIN min 5 > max 4 */
	expect_proto(7, P + 4, 0x1f);		/* JOIN: unknown flag bit 0x10 */
	expect_proto(7, P + 7, 1);		/* JOIN: flags high byte */
	expect_proto(8, P + 44, 1);		/* SNAPSHOT reserved */
	expect_proto(8, P + 33, 0x20);		/* offset 8351: chunk past total */
	expect_proto(8, P + 48 + 1001, 1);	/* chunk padding */
	expect_proto(9, P + 0, 0);		/* HANDOFF_RELEASE: V 0 */
	expect_proto(9, P + 0, 3);		/* V not the lkid's node */
	expect_proto(9, P + 20, 3);		/* lkid not V's */
	expect_proto(9, P + 4, 2);		/* has_lvb not boolean */
	expect_proto(9, P + 5, 1);		/* reserved */
	expect_proto(9, P + 7, 1);
	expect_proto(10, P + 16, 6);		/* HELD: mode out of range */
	expect_proto(10, P + 16, 0xff);		/* MODE_NONE: not a held mode */
	expect_proto(10, P + 17, 0);		/* namelen 0 */
	expect_proto(10, P + 17, 65);		/* namelen > 64 */
	expect_proto(10, P + 18, 1);		/* reserved16 */
	expect_proto(10, P + 20, 1);		/* reserved */
	expect_proto(10, P + 23, 0x80);
	expect_proto(10, P + 24 + 9, 'z');	/* name padding */
	expect_proto(10, P + 24 + 63, 1);

	/* HANDOFF_RELEASE: incarnation 0; LVB bytes without has_lvb */
	{
		struct msg m, d;
		size_t n;

		msg_sample(&m, 9);
		n = enc(&m);
		memset(buf + P + 8, 0, 8);
		reseal(buf, n);
		assert_int_equal(msg_decode(buf, n, &d), SDLM_EPROTO);
		m.u.handoff.has_lvb = false;
		memset(m.u.handoff.lvb, 0, LS_LVB_LEN);
		n = enc(&m);
		assert_int_equal(msg_decode(buf, n, &d), 0);
		assert_false(d.u.handoff.has_lvb);
		buf[P + 24 + 31] = 1;
		reseal(buf, n);
		assert_int_equal(msg_decode(buf, n, &d), SDLM_EPROTO);
	}

	/* LVB bytes without has_lvb */
	{
		struct msg m, d;
		size_t n;

		msg_sample(&m, 1);
		m.u.lock.has_lvb = false;
		memset(m.u.lock.lvb, 0, LS_LVB_LEN);
		n = enc(&m);
		assert_int_equal(msg_decode(buf, n, &d), 0);
		buf[P + 16 + 5] = 1;
		reseal(buf, n);
		assert_int_equal(msg_decode(buf, n, &d), SDLM_EPROTO);
	}
}

static void test_encode_refusals(void **state)
{
	struct msg m;
	size_t n = 0, need;

	(void)state;
	msg_sample(&m, 0);
	need = msg_encoded_len(&m);
	assert_int_equal(msg_encode(&m, buf, need - 1, &n), -ENOSPC);
	assert_int_equal(msg_encode(&m, buf, need, &n), 0);
	assert_int_equal(n, need);
	m.m_nodeid = 0;
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &n), -EINVAL);
	msg_sample(&m, 0);
	m.m_incarnation = 0;
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &n), -EINVAL);
	msg_sample(&m, 0);
	m.u.lock.name[40] = 'q';	/* garbage behind namelen */
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &n), -EINVAL);
	msg_sample(&m, 1);
	m.u.lock.has_lvb = false;	/* LVB bytes but no flag */
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &n), -EINVAL);
	msg_sample(&m, 8);
	m.u.snap.len = MSG_SNAP_CHUNK_MAX + 1;
	m.u.snap.total_len = MSG_SNAP_CHUNK_MAX + 1;
	m.u.snap.offset = 0;
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &n), -EINVAL);
	msg_sample(&m, 8);
	m.u.snap.offset = 4000;		/* 4000 + 1001 > 5000 */
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &n), -EINVAL);
	msg_sample(&m, 7);
	m.u.join.proto_min = 0;
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &n), -EINVAL);
	msg_sample(&m, 10);
	m.u.held.name[20] = 'q';	/* HELD: garbage behind namelen */
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &n), -EINVAL);
	msg_sample(&m, 10);
	m.u.held.mode = MODE_NONE;
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &n), -EINVAL);
	assert_int_equal(msg_encode(NULL, buf, sizeof(buf), &n), -EINVAL);
}

/*
 * A ready member's JOIN carries its replica's history (protocol 2): it
 * round-trips; without a replica every history field is zero; a member
 * asking for the state (SYNC) has no replica; unknown history bits and the
 * reserved word are refused by the decoder, whatever the CRC says.
 */
static void test_join_history(void **state)
{
	struct msg m, d;
	size_t n;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.m_type = MSG_JOIN;
	m.m_nodeid = 3;
	m.m_incarnation = 0x1234;
	m.m_seq = 9;
	m.u.join.proto_min = MSG_PROTO_MIN;
	m.u.join.proto_max = MSG_PROTO_MAX;
	m.u.join.flags = MSG_JOIN_CACHED;
	m.u.join.hist = MSG_HIST_REPLICA | MSG_HIST_DECIDED;
	m.u.join.digest = 0x0123456789abcdefULL;
	m.u.join.formed_ring = 0x88;
	m.u.join.gen = 7;
	m.u.join.round = 0xfedcba9876543210ULL;
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &n), 0);
	assert_int_equal(n, MSG_HDR_LEN + 48 + 4);
	assert_int_equal(msg_decode(buf, n, &d), 0);
	assert_msg_equal(&m, &d);

	/* history without a replica */
	m.u.join.hist = 0;
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &n), -EINVAL);
	m.u.join.digest = m.u.join.formed_ring = m.u.join.gen = 0;
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &n), 0);
	/* SYNC with a replica */
	m.u.join.flags = MSG_JOIN_SYNC;
	m.u.join.hist = MSG_HIST_REPLICA;
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &n), -EINVAL);
	/* unknown history bit */
	m.u.join.flags = 0;
	m.u.join.hist = MSG_HIST_REPLICA | 0x8;
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &n), -EINVAL);
	/* a dropped replica's history: only with SYNC, never with REPLICA
	 * or a digest */
	m.u.join.flags = MSG_JOIN_SYNC | MSG_JOIN_CACHED;
	m.u.join.hist = MSG_HIST_DROPPED | MSG_HIST_DECIDED;
	m.u.join.formed_ring = 0x88;
	m.u.join.gen = 9;
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &n), 0);
	assert_int_equal(msg_decode(buf, n, &d), 0);
	assert_msg_equal(&m, &d);
	m.u.join.digest = 1;
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &n), -EINVAL);
	m.u.join.digest = 0;
	m.u.join.hist = MSG_HIST_DROPPED | MSG_HIST_REPLICA;
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &n), -EINVAL);
	m.u.join.flags = 0;
	m.u.join.hist = MSG_HIST_DROPPED;
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &n), -EINVAL);
	m.u.join.formed_ring = m.u.join.gen = 0;

	/* the decoder refuses a reserved word or a bit no encoder sets */
	m.u.join.hist = MSG_HIST_REPLICA;
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &n), 0);
	buf[MSG_HDR_LEN + 36] = 1;		/* reserved */
	reseal(buf, n);
	assert_int_equal(msg_decode(buf, n, &d), SDLM_EPROTO);
	buf[MSG_HDR_LEN + 36] = 0;
	buf[MSG_HDR_LEN + 32] = 0x8;		/* hist: unknown bit */
	reseal(buf, n);
	assert_int_equal(msg_decode(buf, n, &d), SDLM_EPROTO);
}

/* ---- snapshots through CPG-sized chunks ---- */

static void test_snapshot_chunking(void **state)
{
	struct ls_params params = { .default_live = true };
	uint32_t members[] = { 1, 2, 3 };
	struct ls_event ev = { .ev_kind = LS_EV_CONFCHG, .ev_ring_id = 4,
			       .ev_members = members, .ev_member_count = 3,
			       .ev_quorate = true };
	struct ls_state *ls, *copy;
	size_t size, written, off, n, chunks = 0;
	struct msg m, d;
	uint32_t total_crc, got_crc = 0;
	char name[SDLM_NAME_MAX];
	uint32_t i;

	(void)state;
	assert_int_equal(ls_create(&params, &ls), 0);
	assert_int_equal(ls_apply(ls, &ev, NULL), 0);
	/* enough resources for a snapshot of more than two chunks */
	for (i = 0; i < 1400; i++) {
		uint32_t node = 1 + i % 3;

		snprintf(name, sizeof(name), "resource-%05u-with-a-long-name", i);
		ev = (struct ls_event){ .ev_kind = LS_EV_REQUEST, .ev_nodeid = node,
					.ev_lkid = LKID(node, i + 1),
					.ev_mode = (int)(i % MODE_COUNT),
					.ev_name = name, .ev_namelen = strlen(name) };
		assert_int_equal(ls_apply(ls, &ev, NULL), 0);
	}
	size = ls_snapshot_size(ls);
	assert_true(size > 2 * MSG_SNAP_CHUNK_MAX);
	assert_true(size <= sizeof(snapbuf));
	assert_int_equal(ls_snapshot_encode(ls, snapbuf, sizeof(snapbuf), &written), 0);
	assert_int_equal(written, size);
	total_crc = crc32c(0, snapbuf, size);

	/* sender: chunk; receiver: decode each and reassemble in a new buffer */
	uint8_t *rx = calloc(1, size);
	assert_non_null(rx);
	for (off = 0; off < size; off += n) {
		n = size - off < MSG_SNAP_CHUNK_MAX ? size - off : MSG_SNAP_CHUNK_MAX;
		msg_sample_hdr(&m, MSG_SNAPSHOT);
		m.u.snap = (struct msg_snapshot){
			.xfer_id = 1, .basis_nodeid = 2, .basis_incarnation = 9,
			.basis_seq = 3, .total_len = (uint32_t)size,
			.offset = (uint32_t)off, .total_crc = total_crc,
			.data = snapbuf + off, .len = (uint32_t)n,
		};
		size_t len = enc(&m);
		assert_true(len <= MSG_MAX_LEN);
		assert_int_equal(msg_decode(buf, len, &d), 0);
		assert_int_equal(d.u.snap.offset, off);
		memcpy(rx + d.u.snap.offset, d.u.snap.data, d.u.snap.len);
		got_crc = d.u.snap.total_crc;
		chunks++;
	}
	assert_int_equal(chunks, (size + MSG_SNAP_CHUNK_MAX - 1) / MSG_SNAP_CHUNK_MAX);
	assert_int_equal(crc32c(0, rx, size), got_crc);
	assert_int_equal(ls_snapshot_decode(rx, size, &copy), 0);
	assert_true(ls_digest(copy) == ls_digest(ls));
	assert_int_equal(ls_lock_count(copy), 1400);
	free(rx);
	ls_destroy(copy);
	ls_destroy(ls);
}

/* ---- version negotiation ---- */

static void test_version_agree(void **state)
{
	struct msg_proto_range r[4] = { { 1, 3 }, { 2, 5 }, { 1, 2 }, { 3, 4 } };
	bool ok[4];
	uint16_t v = 0;

	(void)state;
	/* agreed = min of the maxima = 2; { 3, 4 } cannot speak 2 */
	assert_int_equal(msg_version_agree(r, 4, &v, ok), 1);
	assert_int_equal(v, 2);
	assert_true(ok[0] && ok[1] && ok[2]);
	assert_false(ok[3]);
	assert_int_equal(msg_version_agree(r, 3, &v, ok), 0);
	assert_int_equal(v, 2);
	assert_int_equal(msg_version_agree(r + 1, 1, &v, NULL), 0);
	assert_int_equal(v, 5);
	r[1].proto_min = 6;
	assert_int_equal(msg_version_agree(r, 2, &v, ok), -EINVAL);
	r[1].proto_min = 0;
	assert_int_equal(msg_version_agree(r, 2, &v, ok), -EINVAL);
	assert_int_equal(msg_version_agree(r, 0, &v, ok), -EINVAL);
	/* this build agrees with itself */
	r[0] = (struct msg_proto_range){ MSG_PROTO_MIN, MSG_PROTO_MAX };
	r[1] = r[0];
	assert_int_equal(msg_version_agree(r, 2, &v, ok), 0);
	assert_int_equal(v, MSG_PROTO_MAX);
}

/* ---- fuzz ---- */

static bool expected_error(int rc)
{
	return rc == SDLM_EPROTO || rc == SDLM_EMAGIC || rc == SDLM_EVERSION ||
	       rc == SDLM_ECHECKSUM;
}

/*
 * Random buffers and mutations of valid messages (half of them resealed,
 * so the checks behind the CRC are reached).  Every answer is 0 or one of
 * the four decode errors, and whatever is accepted re-encodes to exactly
 * the bytes it came from.
 */
static void test_fuzz(void **state)
{
	static uint8_t in[MSG_MAX_LEN + 8], again[MSG_MAX_LEN + 8];
	unsigned long accepted = 0, magic = 0, version = 0, checksum = 0, proto = 0;
	struct msg m, d;
	size_t n, n2, k, flips;
	int i, rc;

	(void)state;
	rng_state = 0x5d1e5eed12345ULL;
	for (i = 0; i < 100000; i++) {
		if (i % 4 == 0) {
			n = rng() % 300;
			for (k = 0; k < n; k++)
				in[k] = (uint8_t)rng();
			if (n >= 8 && (rng() & 1)) {
				put32(in, MSG_MAGIC);
				put16(in + 4, MSG_MAJOR);
			}
		} else {
			msg_sample(&m, (int)(rng() % MSG_NSAMPLES));
			assert_int_equal(msg_encode(&m, in, sizeof(in), &n), 0);
			flips = 1 + rng() % 4;
			for (k = 0; k < flips; k++) {
				switch (rng() % 4) {
				case 0: /* byte */
					if (n)
						in[rng() % n] = (uint8_t)rng();
					break;
				case 1: /* bit */
					if (n)
						in[rng() % n] ^= (uint8_t)(1u << (rng() % 8));
					break;
				case 2: /* length */
					n = (size_t)(rng() % (n + 16));
					break;
				default: /* a header field */
					in[8 + rng() % 40] ^= (uint8_t)rng();
					break;
				}
			}
			if ((rng() & 1) && n >= MSG_OVERHEAD)
				reseal(in, n);
		}
		rc = msg_decode(in, n, &d);
		if (rc == 0) {
			accepted++;
			assert_int_equal(msg_encode(&d, again, sizeof(again), &n2), 0);
			assert_int_equal(n2, n);
			/* the minor is the encoder's own; everything else equal */
			put16(again + 6, d.m_minor);
			reseal(again, n2);
			assert_memory_equal(again, in, n);
			continue;
		}
		if (!expected_error(rc))
			fail_msg("iteration %d: unexpected error %d", i, rc);
		magic += rc == SDLM_EMAGIC;
		version += rc == SDLM_EVERSION;
		checksum += rc == SDLM_ECHECKSUM;
		proto += rc == SDLM_EPROTO;
	}
	/* the loop reached every layer */
	print_message("fuzz: %lu accepted, %lu magic, %lu version, %lu crc, %lu proto\n",
		      accepted, magic, version, checksum, proto);
	assert_true(accepted > 0 && magic > 0 && version > 0 && checksum > 0 &&
		    proto > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_every_type),
		cmocka_unit_test(test_detach_keeps_payload),
		cmocka_unit_test(test_header_layout),
		cmocka_unit_test(test_event_mapping),
		cmocka_unit_test(test_event_mapping_refusals),
		cmocka_unit_test(test_truncated_and_oversized),
		cmocka_unit_test(test_magic_version_crc),
		cmocka_unit_test(test_length_lies),
		cmocka_unit_test(test_unknown_type),
		cmocka_unit_test(test_handoff_release_golden),
		cmocka_unit_test(test_held_golden),
		cmocka_unit_test(test_type_proto),
		cmocka_unit_test(test_lock_flags_wire),
		cmocka_unit_test(test_field_checks),
		cmocka_unit_test(test_encode_refusals),
		cmocka_unit_test(test_join_history),
		cmocka_unit_test(test_snapshot_chunking),
		cmocka_unit_test(test_version_agree),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
