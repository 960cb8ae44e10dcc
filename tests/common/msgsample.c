/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * msgsample.c - one valid lockspace CPG message of each type; see
 * msgsample.h.
 */
#include <stdint.h>
#include <string.h>

#include "lockstate.h"
#include "modes.h"
#include "msgsample.h"

#define LKID(node, n)	(((uint64_t)(node) << 32) | (uint32_t)(n))

void msg_sample_hdr(struct msg *m, enum msg_type type)
{
	memset(m, 0, sizeof(*m));
	m->m_type = type;
	m->m_nodeid = 3;
	m->m_incarnation = 0x1122334455667788ULL;
	m->m_ring_id = 0x100000017ULL;
	m->m_seq = 42;
}

void msg_sample(struct msg *m, int which)
{
	static const enum msg_type types[MSG_NSAMPLES] = {
		MSG_REQUEST, MSG_CONVERT, MSG_RELEASE, MSG_CANCEL,
		MSG_NODE_STATUS, MSG_NODE_FENCED, MSG_GATE, MSG_JOIN,
		MSG_SNAPSHOT, MSG_HANDOFF_RELEASE, MSG_HELD,
	};
	static uint8_t chunk[1001];
	size_t i;

	msg_sample_hdr(m, types[which]);
	switch (m->m_type) {
	case MSG_REQUEST:
		m->u.lock.lkid = LKID(3, 7);
		m->u.lock.mode = MODE_EX;
		m->u.lock.flags = LS_LKF_NOQUEUE | LS_LKF_NOQUEUEBAST;
		m->u.lock.namelen = 12;
		memcpy(m->u.lock.name, "mbox/INBOX\0x", 12);
		break;
	case MSG_CONVERT:
		m->u.lock.lkid = LKID(3, 8);
		m->u.lock.mode = MODE_PR;
		m->u.lock.flags = LS_LKF_IVVALBLK;
		m->u.lock.has_lvb = true;
		for (i = 0; i < LS_LVB_LEN; i++)
			m->u.lock.lvb[i] = (uint8_t)(0xa0 + i);
		break;
	case MSG_RELEASE:
		m->u.lock.lkid = LKID(3, 9);
		m->u.lock.has_lvb = true;
		memset(m->u.lock.lvb, 0x5a, LS_LVB_LEN);
		break;
	case MSG_CANCEL:
		m->u.lock.lkid = LKID(3, 10);
		break;
	case MSG_NODE_STATUS:
		m->u.status.nodeid = 2;
		m->u.status.hb_live = true;
		m->u.status.pill_pending = true;
		break;
	case MSG_NODE_FENCED:
		m->u.fenced.nodeid = 2;
		m->u.fenced.incarnation = 0xdeadbeefcafeULL;
		break;
	case MSG_GATE:
		m->u.gate.open = true;
		break;
	case MSG_HANDOFF_RELEASE:
		m->u.handoff.nodeid = 2;
		m->u.handoff.incarnation = 0x0102030405060708ULL;
		m->u.handoff.lkid = LKID(2, 0x11);
		m->u.handoff.has_lvb = true;
		for (i = 0; i < LS_LVB_LEN; i++)
			m->u.handoff.lvb[i] = (uint8_t)(0xc0 + i);
		break;
	case MSG_HELD:
		m->u.held.lkid = LKID(3, 0x21);
		m->u.held.epoch = 0x0a0b0c0d0e0f1011ULL;
		m->u.held.mode = MODE_PW;
		m->u.held.namelen = 9;
		memcpy(m->u.held.name, "uid/\0mbox", 9);
		break;
	case MSG_JOIN:
		m->u.join.proto_min = 1;
		m->u.join.proto_max = 4;
		m->u.join.flags = MSG_JOIN_SYNC | MSG_JOIN_TAINTED;
		break;
	case MSG_SNAPSHOT:
		for (i = 0; i < sizeof(chunk); i++)
			chunk[i] = (uint8_t)(i * 7 + 1);
		m->u.snap.xfer_id = 99;
		m->u.snap.basis_nodeid = 5;
		m->u.snap.basis_incarnation = 77;
		m->u.snap.basis_seq = 1234;
		m->u.snap.total_len = 5000;
		m->u.snap.offset = 3999;
		m->u.snap.total_crc = 0x12345678;
		m->u.snap.data = chunk;
		m->u.snap.len = sizeof(chunk);	/* odd: exercises padding */
		break;
	}
}
