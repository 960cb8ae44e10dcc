/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ipcsample.c - one valid client request of each kind; see ipcsample.h.
 * The values are chosen to reach every field's check: a resource name with
 * a NUL byte inside (resource names are arbitrary bytes), a GUID-named
 * mailbox, an LVB with a pattern.
 */
#include <string.h>

#include "sdlm.h"
#include "ipcsample.h"

void ipc_sample_hdr(struct sdlm_req_hdr *h, int cmd, size_t size, unsigned seq)
{
	memset(h, 0, sizeof(*h));
	h->qb.id = cmd;
	h->qb.size = (int32_t)size;
	h->magic = SDLM_IPC_MAGIC;
	h->version = SDLM_IPC_VERSION;
	h->seq = seq;
}

static size_t text(union ipc_sample_buf *b, const char *arg)
{
	strcpy(b->text.arg, arg);
	return sizeof(b->text);
}

static void uid_names(struct req_uid *u, const char *ls, const char *mb)
{
	u->ls_len = (uint16_t)strlen(ls);
	memcpy(u->ls, ls, u->ls_len);
	u->mb_len = (uint16_t)strlen(mb);
	memcpy(u->mailbox, mb, u->mb_len);
}

size_t ipc_sample(unsigned which, union ipc_sample_buf *b, const char **name)
{
	static const struct {
		int cmd;
		unsigned op;
		const char *name;
	} kinds[IPC_NSAMPLES] = {
		{ SDLM_CMD_STATUS, 0, "status" },
		{ SDLM_CMD_NODES, 0, "nodes" },
		{ SDLM_CMD_DUMP, 0, "dump" },
		{ SDLM_CMD_DUMP_CONFIG, 0, "dump-config" },
		{ SDLM_CMD_LS_LIST, 0, "ls" },
		{ SDLM_CMD_LOCKS, 0, "locks" },
		{ SDLM_CMD_FENCE_CONFIRM, 0, "fence-confirm" },
		{ SDLM_CMD_UID_LIST, 0, "uids" },
		{ SDLM_CMD_STATS, 0, "stats" },
		{ SDLM_CMD_DEGRADED, 0, "degraded" },
		{ SDLM_CMD_DEGRADED_ENABLE, 0, "degraded-enable" },
		{ SDLM_CMD_DEGRADED_DISABLE, 0, "degraded-disable" },
		{ SDLM_CMD_LOCK, 0, "lock" },
		{ SDLM_CMD_CONVERT, 0, "convert" },
		{ SDLM_CMD_UNLOCK, 0, "unlock" },
		{ SDLM_CMD_CANCEL, 0, "cancel" },
		{ SDLM_CMD_UID, SDLM_UID_ALLOC, "uid-alloc" },
		{ SDLM_CMD_UID, SDLM_UID_COMMIT, "uid-commit" },
		{ SDLM_CMD_UID, SDLM_UID_ABORT, "uid-abort" },
		{ SDLM_CMD_UID, SDLM_UID_CANCEL, "uid-cancel" },
		{ SDLM_CMD_UID, SDLM_UID_RAISE, "uid-raise" },
		{ SDLM_CMD_UID, SDLM_UID_BUMP, "uid-bump" },
		{ SDLM_CMD_UID, SDLM_UID_SHOW, "uid-show" },
		{ SDLM_CMD_UID, SDLM_UID_DELETE, "uid-delete" },
		{ SDLM_CMD_UID, SDLM_UID_RENAME, "uid-rename" },
		{ SDLM_CMD_UID, SDLM_UID_IMPORT, "uid-import" },
	};
	int cmd = kinds[which].cmd;
	size_t size, i;

	memset(b, 0, sizeof(*b));
	switch (cmd) {
	case SDLM_CMD_LOCKS:
		size = text(b, "imap");
		break;
	case SDLM_CMD_FENCE_CONFIRM:
		size = text(b, "3 force");
		break;
	case SDLM_CMD_STATS:
		size = text(b, "prometheus");
		break;
	case SDLM_CMD_LOCK:
		b->lock.client_ref = 0x1122334455667788ull;
		b->lock.flags = SDLM_LKF_NOQUEUE;
		b->lock.mode = SDLM_EX;
		b->lock.ls_len = 4;
		memcpy(b->lock.ls, "imap", 4);
		b->lock.res_len = 12;
		memcpy(b->lock.res, "mbox/INBOX\0x", 12);
		size = sizeof(b->lock);
		break;
	case SDLM_CMD_CONVERT:
		b->convert.lkid = 0x100000007ull;
		b->convert.flags = SDLM_LKF_VALBLK;
		b->convert.mode = SDLM_PR;
		for (i = 0; i < sizeof(b->convert.lvb); i++)
			b->convert.lvb[i] = (unsigned char)(0xa0 + i);
		size = sizeof(b->convert);
		break;
	case SDLM_CMD_UNLOCK:
		b->unlock.lkid = 0x100000008ull;
		b->unlock.flags = SDLM_LKF_IVVALBLK;
		size = sizeof(b->unlock);
		break;
	case SDLM_CMD_CANCEL:
		b->cancel.lkid = 0x100000009ull;
		size = sizeof(b->cancel);
		break;
	case SDLM_CMD_UID:
		b->uid.op = kinds[which].op;
		size = sizeof(b->uid);
		switch (b->uid.op) {
		case SDLM_UID_COMMIT:
		case SDLM_UID_ABORT:
		case SDLM_UID_CANCEL:
			b->uid.alloc_id = 0x2a;
			break;
		case SDLM_UID_SHOW:
			uid_names(&b->uid, "imap", "00112233445566778899aabbccddeeff");
			break;
		default:
			uid_names(&b->uid, "imap", "user/alice/INBOX");
			break;
		}
		if (b->uid.op == SDLM_UID_ALLOC)
			b->uid.count = 10;
		if (b->uid.op == SDLM_UID_RAISE)
			b->uid.value = 1000;
		if (b->uid.op == SDLM_UID_IMPORT) {
			b->uid.value = 1500000000;	/* the store's UIDVALIDITY */
			b->uid.count = 4242;		/* and next UID */
		}
		if (b->uid.op == SDLM_UID_RENAME) {
			b->uid.arg_len = 18;
			memcpy(b->uid.arg, "user/alice/Archive", 18);
		}
		break;
	default:
		size = text(b, "");
		break;
	}
	ipc_sample_hdr(&b->hdr, cmd, size, 1000 + which);
	if (which & 1)
		b->hdr.flags = SDLM_F_JSON;
	if (name)
		*name = kinds[which].name;
	return size;
}
