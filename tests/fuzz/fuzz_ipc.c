/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_ipc.c - libFuzzer target for the daemon's decoding of client
 * requests (dlm/core/ipcreq.c: ipcreq_decode, which msg_process in dlm/daemon/ipc.c
 * calls on every request before anything else).
 *
 * Input: one control byte, then the request as libqb would hand it over.
 * Control bit 0 "fix the size": the harness writes the input's length
 * into the header's qb.size (as libqb's framing guarantees), so the
 * fuzzer reaches the checks behind it when it changes a request's length.
 *
 * Properties checked, besides "no crash, no out-of-bounds read":
 *   - the error is one of those ipcreq.h lists, and a failed decode
 *     leaves nothing of the payload (and, for an untrusted header, no
 *     command or sequence to echo);
 *   - decoding is deterministic (the same bytes, the same result);
 *   - an accepted request satisfies, by checks written here anew, every
 *     rule of ipcreq.h that the daemon then relies on: terminated text,
 *     names within their fields and of the allowed bytes, valid modes and
 *     flags, a known UID op;
 *   - what was accepted is accepted again, to the same result, when
 *     re-encoded at its exact size: the decoder reads nothing past the
 *     command's struct;
 *   - who may have an accepted request served (ipcreq_permit, issue 15),
 *     by rules written here anew: a LOCK of a reserved name (uid:*,
 *     uid-table, uid-table.* -- the UID table's segments --, sdlm:*) is
 *     refused at every level, root's included; the
 *     administrator's commands are refused to a client; a connection of
 *     no level gets nothing.
 *
 * --gen-corpus DIR writes one valid request of each kind and a few bad
 * ones (also checked in under tests/fuzz/corpus/fuzz_ipc/) and exits.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdlm.h"
#include "sdlm_ipc.h"
#include "ipcreq.h"
#include "fuzzseed.h"
#include "ipcsample.h"

#define CTL_FIXSIZE	0x1u

static struct ipcreq r, r2, r3;

static int all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--)
		if (*b++)
			return 0;
	return 1;
}

static int ls_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n < 1 || n > SDLM_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '!' || s[i] > '~' || s[i] == '/')
			return 0;
	return 1;
}

/* Bytes a UID record name may hold: no NUL, no control character. */
static int mb_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n < 1 || n > 255)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int flags_ok(uint32_t f)
{
	return !(f & ~(uint32_t)(SDLM_LKF_NOQUEUE | SDLM_LKF_VALBLK | SDLM_LKF_IVVALBLK));
}

static int mode_ok(int32_t m)
{
	return m >= SDLM_NL && m <= SDLM_EX;
}

/* The rules an accepted request must satisfy; 0 when one is broken. */
static int accepted_sane(const struct ipcreq *q)
{
	const struct ipcreq_text *t = &q->u.text;
	const struct req_uid *u = &q->u.uid;
	size_t len;

	if (ipcreq_is_text(q->cmd)) {
		len = strnlen(t->arg, sizeof(t->arg));
		if (len == sizeof(t->arg))
			return 0;
		switch (q->cmd) {
		case SDLM_CMD_LOCKS:
			return len == 0 || ls_name_ok(t->arg, len);
		case SDLM_CMD_STATS:
			return t->prometheus == (len != 0);
		case SDLM_CMD_FENCE_CONFIRM:
			return t->node >= 1 && (unsigned long)t->node == strtoul(t->arg, NULL, 10);
		}
		return len == 0;
	}
	switch (q->cmd) {
	case SDLM_CMD_LOCK:
		return ls_name_ok(q->u.lock.ls, q->u.lock.ls_len) &&
		       q->u.lock.res_len >= 1 && q->u.lock.res_len <= SDLM_NAME_MAX &&
		       mode_ok(q->u.lock.mode) && flags_ok(q->u.lock.flags);
	case SDLM_CMD_CONVERT:
		return mode_ok(q->u.convert.mode) && flags_ok(q->u.convert.flags);
	case SDLM_CMD_UNLOCK:
		return flags_ok(q->u.unlock.flags);
	case SDLM_CMD_CANCEL:
		return 1;
	case SDLM_CMD_UID:
		if (u->op < SDLM_UID_ALLOC || u->op > SDLM_UID_CANCEL)
			return 0;
		if (u->req_flags & ~SDLM_UIDREQ_ACK)
			return 0;
		if (u->op == SDLM_UID_COMMIT || u->op == SDLM_UID_ABORT ||
		    u->op == SDLM_UID_CANCEL)
			return 1;
		if (!ls_name_ok(u->ls, u->ls_len) || !mb_name_ok(u->mailbox, u->mb_len))
			return 0;
		if (u->op == SDLM_UID_ALLOC && u->count == 0)
			return 0;
		/* an import knows UIDVALIDITY and next, unless it restores */
		if (u->op == SDLM_UID_IMPORT)
			return !(u->op_flags & ~SDLM_UID_IMPORT_FLAGS) &&
			       (!(u->op_flags & SDLM_UID_IMPORT_UNNAMED) ||
				(u->op_flags & SDLM_UID_IMPORT_RESTORE)) &&
			       ((u->op_flags & SDLM_UID_IMPORT_RESTORE) || (u->value && u->count));
		return u->op != SDLM_UID_RENAME || mb_name_ok(u->arg, u->arg_len);
	}
	return 0;
}

/* Size, magic and the header's own size agree: the reply may echo it. */
static int header_trusted(const uint8_t *buf, size_t len)
{
	struct sdlm_req_hdr h;

	if (len < sizeof(h))
		return 0;
	memcpy(&h, buf, sizeof(h));
	return h.magic == SDLM_IPC_MAGIC && h.qb.size >= 0 && (size_t)h.qb.size == len;
}

/* Encode an accepted request again at its command's exact size. */
static size_t reencode(const struct ipcreq *q, const uint8_t *in, union ipc_sample_buf *b)
{
	size_t n;

	memset(b, 0, sizeof(*b));
	if (ipcreq_is_text(q->cmd)) {
		memcpy(&b->hdr, in, sizeof(b->hdr));
		strcpy(b->text.arg, q->u.text.arg);
		n = sizeof(b->text);
	} else {
		switch (q->cmd) {
		case SDLM_CMD_LOCK: n = sizeof(b->lock); break;
		case SDLM_CMD_CONVERT: n = sizeof(b->convert); break;
		case SDLM_CMD_UNLOCK: n = sizeof(b->unlock); break;
		case SDLM_CMD_CANCEL: n = sizeof(b->cancel); break;
		default: n = sizeof(b->uid); break;
		}
		memcpy(b, &q->u, n);
	}
	b->hdr.qb.size = (int32_t)n;
	return n;
}

/* The reserved names, from docs/operations.md ("Security"). */
static int reserved(const struct ipcreq *q)
{
	const unsigned char *n = q->u.lock.res;
	size_t len = q->u.lock.res_len;

	if (q->cmd != SDLM_CMD_LOCK)
		return 0;
	return (len == 9 && !memcmp(n, "uid-table", 9)) ||
	       (len >= 10 && !memcmp(n, "uid-table.", 10)) ||
	       (len >= 4 && !memcmp(n, "uid:", 4)) || (len >= 5 && !memcmp(n, "sdlm:", 5));
}

/* The administrator's requests, from docs/operations.md ("Security"). */
static int admin_needed(const struct ipcreq *q)
{
	switch (q->cmd) {
	case SDLM_CMD_DUMP:
	case SDLM_CMD_FENCE_CONFIRM:
	case SDLM_CMD_DEGRADED_ENABLE:
	case SDLM_CMD_DEGRADED_DISABLE:
		return 1;
	case SDLM_CMD_UID:
		return q->u.uid.op == SDLM_UID_BUMP || q->u.uid.op == SDLM_UID_DELETE ||
		       q->u.uid.op == SDLM_UID_RENAME ||
		       (q->u.uid.op == SDLM_UID_RAISE && q->u.uid.count == SDLM_UID_RAISE_SETTLE) ||
		       (q->u.uid.op == SDLM_UID_IMPORT &&
			(q->u.uid.op_flags & SDLM_UID_IMPORT_RESTORE));
	}
	return 0;
}

/* A lock only an administrator may take, from docs/uid.md ("Two
 * operators at once"): sdlm-admin/uid-grow, sdlmctl uid grow's. */
static int admin_lock(const struct ipcreq *q)
{
	return q->cmd == SDLM_CMD_LOCK && q->u.lock.ls_len == 10 &&
	       !memcmp(q->u.lock.ls, "sdlm-admin", 10) && q->u.lock.res_len == 8 &&
	       !memcmp(q->u.lock.res, "uid-grow", 8);
}

static int permit_sane(const struct ipcreq *q)
{
	int res = reserved(q), adm = admin_needed(q);

	if (ipcreq_permit(q, IPCREQ_ADMIN) != (res ? SDLM_ERESERVED : 0))
		return 0;
	if (ipcreq_permit(q, IPCREQ_CLIENT) !=
	    (res ? SDLM_ERESERVED : adm || admin_lock(q) ? -EPERM : 0))
		return 0;
	if (ipcreq_permit(q, IPCREQ_NONE) == 0)
		return 0;
	return ipcreq_admin_only(q) == adm && ipcreq_name_reserved(q->u.lock.res, q->u.lock.res_len) ==
	       (q->cmd == SDLM_CMD_LOCK ? res : ipcreq_name_reserved(q->u.lock.res, q->u.lock.res_len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static union ipc_sample_buf again;
	uint8_t *buf;
	size_t len, n;
	int rc, rc2;

	if (size < 1)
		return 0;
	len = size - 1;
	buf = malloc(len ? len : 1);	/* exact size for ASan */
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);
	if ((data[0] & CTL_FIXSIZE) && len >= sizeof(struct sdlm_req_hdr)) {
		int32_t sz = (int32_t)len;

		memcpy(buf + offsetof(struct sdlm_req_hdr, qb.size), &sz, sizeof(sz));
	}

	rc = ipcreq_decode(buf, len, &r);
	rc2 = ipcreq_decode(buf, len, &r2);
	if (rc != rc2 || memcmp(&r, &r2, sizeof(r)))
		abort();
	(void)ipcreq_admin_only(&r);
	if (header_trusted(buf, len)) {
		if (r.cmd != ((const struct sdlm_req_hdr *)(const void *)buf)->qb.id ||
		    r.seq != ((const struct sdlm_req_hdr *)(const void *)buf)->seq)
			abort();
	} else if (rc != SDLM_EPROTO || r.cmd || r.seq || r.json) {
		abort();
	}
	switch (rc) {
	case 0:
		if (!accepted_sane(&r) || !permit_sane(&r))
			abort();
		n = reencode(&r, buf, &again);
		r3 = r;		/* the copied header now tells the exact size */
		if (!ipcreq_is_text(r.cmd))
			memcpy((char *)&r3.u + offsetof(struct sdlm_req_hdr, qb.size),
			       &again.hdr.qb.size, sizeof(again.hdr.qb.size));
		if (ipcreq_decode(&again, n, &r2) != 0 || memcmp(&r3, &r2, sizeof(r3)))
			abort();
		break;
	case SDLM_EPROTO:
	case SDLM_EVERSION:
	case -EOPNOTSUPP:
	case -EINVAL:
	case -EILSEQ:
		if (!all_zero(&r.u, sizeof(r.u)))
			abort();
		break;
	default:
		abort();
	}
	free(buf);
	return 0;
}

/* ---- seed corpus ---- */

/* The sample called `want` (ipcsample.c's names: the indices moved when
 * commands were added). */
static size_t sample_named(const char *want, union ipc_sample_buf *b)
{
	const char *name;
	unsigned i;
	size_t n;

	for (i = 0; i < IPC_NSAMPLES; i++) {
		n = ipc_sample(i, b, &name);
		if (!strcmp(name, want))
			return n;
	}
	abort();
}

static int gen_corpus(const char *dir)
{
	union ipc_sample_buf b;
	const char *name;
	unsigned i;
	size_t n;
	int rc = 0;

	for (i = 0; i < IPC_NSAMPLES; i++) {
		n = ipc_sample(i, &b, &name);
		rc |= fuzzseed_write(dir, name, CTL_FIXSIZE, &b, n);
	}
	/* bad ones: each stops at a different check of ipcreq.h */
	n = ipc_sample(0, &b, &name);
	rc |= fuzzseed_write(dir, "bad-short-header", 0, &b, sizeof(b.hdr) - 1);
	b.hdr.magic = 0x4c4d4453u;
	rc |= fuzzseed_write(dir, "bad-magic", 0, &b, n);
	n = ipc_sample(0, &b, &name);
	b.hdr.version = SDLM_IPC_VERSION + 1;
	rc |= fuzzseed_write(dir, "bad-version", 0, &b, n);
	n = ipc_sample(0, &b, &name);
	b.hdr.qb.id = 77;
	rc |= fuzzseed_write(dir, "bad-command", 0, &b, n);
	n = sample_named("lock", &b);
	b.hdr.qb.size = (int32_t)(n - 8);
	rc |= fuzzseed_write(dir, "bad-lock-truncated", 0, &b, n - 8);
	n = sample_named("lock", &b);
	b.lock.mode = 6;
	rc |= fuzzseed_write(dir, "bad-lock-mode", 0, &b, n);
	n = sample_named("lock", &b);
	b.lock.ls_len = 65;
	rc |= fuzzseed_write(dir, "bad-lock-ls-len", 0, &b, n);
	n = sample_named("locks", &b);
	memset(b.text.arg, 'x', sizeof(b.text.arg));
	rc |= fuzzseed_write(dir, "bad-text-unterminated", 0, &b, n);
	n = sample_named("fence-confirm", &b);
	strcpy(b.text.arg, "3 forced");
	rc |= fuzzseed_write(dir, "bad-fence-arg", 0, &b, n);
	n = sample_named("uid-alloc", &b);
	b.uid.mailbox[3] = (char)0xff;
	rc |= fuzzseed_write(dir, "bad-uid-mailbox-utf8", 0, &b, n);
	/* refusals (ipcreq_permit): reserved names, and settle is admin's */
	{
		static const char *const names[][2] = {
			{ "uid:00112233445566778899aabbccddeeff", "refuse-lock-uid-mailbox" },
			{ "uid-table", "refuse-lock-uid-table" },
			{ "uid-table.0.0", "refuse-lock-uid-table-segment" },
			{ "sdlm:future", "refuse-lock-sdlm-prefix" },
			{ "uid-tables", "lock-almost-reserved" },
		};
		unsigned k;

		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			n = sample_named("lock", &b);
			memset(b.lock.res, 0, sizeof(b.lock.res));
			b.lock.res_len = (uint16_t)strlen(names[k][0]);
			memcpy(b.lock.res, names[k][0], b.lock.res_len);
			rc |= fuzzseed_write(dir, names[k][1], CTL_FIXSIZE, &b, n);
		}
	}
	n = sample_named("uid-raise", &b);
	b.uid.count = SDLM_UID_RAISE_SETTLE;
	rc |= fuzzseed_write(dir, "refuse-uid-settle-as-client", CTL_FIXSIZE, &b, n);
	return rc;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (*argc >= 3 && strcmp((*argv)[1], "--gen-corpus") == 0)
		exit(gen_corpus((*argv)[2]) ? 1 : 0);
	return 0;
}
