/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ipcreq.c - decoding and validation of a client request to sdlmd; the
 * checks and their order are listed in ipcreq.h.
 *
 * The request is copied out of the IPC buffer before any field is read:
 * the buffer's alignment is libqb's business, and every later decision is
 * made on the copy that was checked.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "sdlm.h"
#include "sdlm_ipc.h"
#include "modes.h"
#include "nodelock.h"
#include "uidrec.h"
#include "ipcreq.h"

_Static_assert(IPCREQ_LKF_ALL == (SDLM_LKF_NOQUEUE | SDLM_LKF_VALBLK | SDLM_LKF_IVVALBLK),
	       "IPCREQ_LKF_ALL is the public lock flags");
_Static_assert(IPCREQ_LKF_ALL == NL_LKF_ALL, "the lock manager takes every flag a client may send");
_Static_assert(sizeof(((struct req_lock *)0)->ls) == SDLM_NAME_MAX, "req_lock.ls holds a name");
_Static_assert(sizeof(((struct req_lock *)0)->res) == SDLM_NAME_MAX, "req_lock.res holds a name");
_Static_assert(sizeof(((struct req_uid *)0)->ls) == SDLM_NAME_MAX, "req_uid.ls holds a name");
_Static_assert(sizeof(((struct req_uid *)0)->mailbox) > UIDREC_NAME_MAX, "req_uid.mailbox holds a name");
_Static_assert(sizeof(((struct req_uid *)0)->arg) > UIDREC_NAME_MAX, "req_uid.arg holds a name");

void ipcreq_res_hdr(struct sdlm_res_hdr *hdr, int32_t id, size_t size, int err,
		    uint32_t seq)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->qb.id = id;
	hdr->qb.size = (int32_t)size;
	hdr->qb.error = err;
	hdr->magic = SDLM_IPC_MAGIC;
	hdr->version = SDLM_IPC_VERSION;
	hdr->seq = seq;
}

bool ipcreq_is_text(int32_t cmd)
{
	switch (cmd) {
	case SDLM_CMD_STATUS:
	case SDLM_CMD_NODES:
	case SDLM_CMD_DUMP:
	case SDLM_CMD_DUMP_CONFIG:
	case SDLM_CMD_LS_LIST:
	case SDLM_CMD_LOCKS:
	case SDLM_CMD_FENCE_CONFIRM:
	case SDLM_CMD_UID_LIST:
	case SDLM_CMD_STATS:
	case SDLM_CMD_DEGRADED:
	case SDLM_CMD_DEGRADED_ENABLE:
	case SDLM_CMD_DEGRADED_DISABLE:
		return true;
	}
	return false;
}

bool ipcreq_is_lock(int32_t cmd)
{
	return cmd == SDLM_CMD_LOCK || cmd == SDLM_CMD_CONVERT ||
	       cmd == SDLM_CMD_UNLOCK || cmd == SDLM_CMD_CANCEL;
}

/* The request struct of a known command, 0 for an unknown one. */
static size_t cmd_size(int32_t cmd)
{
	if (ipcreq_is_text(cmd))
		return sizeof(struct req_text);
	switch (cmd) {
	case SDLM_CMD_LOCK: return sizeof(struct req_lock);
	case SDLM_CMD_CONVERT: return sizeof(struct req_convert);
	case SDLM_CMD_UNLOCK: return sizeof(struct req_unlock);
	case SDLM_CMD_CANCEL: return sizeof(struct req_cancel);
	case SDLM_CMD_UID: return sizeof(struct req_uid);
	}
	return 0;
}

/* The same rule as the lock manager's when it opens a lockspace. */
bool ipcreq_ls_name_ok(const char *name, size_t len)
{
	size_t i;

	if (!name || len == 0 || len > SDLM_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (name[i] <= ' ' || name[i] > '~' || name[i] == '/')
			return false;
	return true;
}

/* "N" or "N force", N decimal in 1..UINT32_MAX; returns 0 or -EINVAL. */
static int fence_arg(struct ipcreq_text *t)
{
	const char *p = t->arg;
	uint64_t n = 0;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > UINT32_MAX)
			return -EINVAL;
	}
	if (n == 0)
		return -EINVAL;
	if (*p && strcmp(p, " force"))
		return -EINVAL;
	t->node = (uint32_t)n;
	t->force = *p != '\0';
	return 0;
}

static int text_decode(struct ipcreq *r, const struct req_text *q)
{
	struct ipcreq_text *t = &r->u.text;
	size_t len = strnlen(q->arg, sizeof(q->arg));

	if (len == sizeof(q->arg))
		return SDLM_EPROTO;
	memcpy(t->arg, q->arg, len);
	switch (r->cmd) {
	case SDLM_CMD_LOCKS:
		return len == 0 || ipcreq_ls_name_ok(t->arg, len) ? 0 : -EINVAL;
	case SDLM_CMD_STATS:
		t->prometheus = len != 0;
		return len == 0 || !strcmp(t->arg, "prometheus") ? 0 : -EINVAL;
	case SDLM_CMD_FENCE_CONFIRM:
		return fence_arg(t);
	}
	return len == 0 ? 0 : -EINVAL;
}

/* A mailbox name or a new name for one: what the UID records accept. */
static int mailbox_name_check(const char *name, size_t len)
{
	if (len == 0 || len > UIDREC_NAME_MAX)
		return -EINVAL;
	return uidrec_name_check(name, len);
}

static int uid_decode(const struct req_uid *q)
{
	int rc;

	if (q->op < SDLM_UID_ALLOC || q->op > SDLM_UID_CANCEL)
		return -EINVAL;
	if (q->req_flags & ~SDLM_UIDREQ_ALL)
		return -EINVAL;
	if (q->op == SDLM_UID_COMMIT || q->op == SDLM_UID_ABORT || q->op == SDLM_UID_CANCEL)
		return 0;
	if (q->ls_len > sizeof(q->ls) || !ipcreq_ls_name_ok(q->ls, q->ls_len) ||
	    q->mb_len > sizeof(q->mailbox))
		return -EINVAL;
	rc = mailbox_name_check(q->mailbox, q->mb_len);
	if (rc < 0)
		return rc;
	if (q->op == SDLM_UID_ALLOC && q->count == 0)
		return -EINVAL;
	if (q->op == SDLM_UID_IMPORT) {
		/* only a restore may not know UIDVALIDITY or next */
		if ((q->op_flags & ~SDLM_UID_IMPORT_FLAGS) ||
		    ((q->op_flags & SDLM_UID_IMPORT_UNNAMED) &&
		     !(q->op_flags & SDLM_UID_IMPORT_RESTORE)))
			return -EINVAL;
		if (!(q->op_flags & SDLM_UID_IMPORT_RESTORE) && (!q->value || !q->count))
			return -EINVAL;
		return 0;
	}
	if (q->op == SDLM_UID_RENAME) {
		if (q->arg_len > sizeof(q->arg))
			return -EINVAL;
		return mailbox_name_check(q->arg, q->arg_len);
	}
	return 0;
}

static bool lock_flags_ok(uint32_t flags)
{
	return !(flags & ~IPCREQ_LKF_ALL);
}

/* The payload of a request whose header and size passed. */
static int payload_decode(struct ipcreq *r, const void *data, size_t need)
{
	if (ipcreq_is_text(r->cmd)) {
		struct req_text q;

		memcpy(&q, data, sizeof(q));
		return text_decode(r, &q);
	}
	/* The union's members start with the header: copy the whole request. */
	memcpy(&r->u, data, need);
	switch (r->cmd) {
	case SDLM_CMD_LOCK: {
		const struct req_lock *q = &r->u.lock;

		if (q->ls_len > sizeof(q->ls) || !ipcreq_ls_name_ok(q->ls, q->ls_len) ||
		    q->res_len == 0 || q->res_len > sizeof(q->res) ||
		    !mode_valid(q->mode) || !lock_flags_ok(q->flags))
			return -EINVAL;
		return 0;
	}
	case SDLM_CMD_CONVERT:
		return mode_valid(r->u.convert.mode) && lock_flags_ok(r->u.convert.flags) ?
		       0 : -EINVAL;
	case SDLM_CMD_UNLOCK:
		return lock_flags_ok(r->u.unlock.flags) ? 0 : -EINVAL;
	case SDLM_CMD_CANCEL:
		return 0;
	}
	return uid_decode(&r->u.uid);
}

/* Returns 0 or an error; see ipcreq.h. */
int ipcreq_decode(const void *data, size_t size, struct ipcreq *r)
{
	struct sdlm_req_hdr hdr;
	size_t need;
	int rc;

	memset(r, 0, sizeof(*r));
	if (!data || size < sizeof(hdr))
		return SDLM_EPROTO;
	memcpy(&hdr, data, sizeof(hdr));
	if (hdr.magic != SDLM_IPC_MAGIC || hdr.qb.size < 0 || (size_t)hdr.qb.size != size)
		return SDLM_EPROTO;
	r->cmd = hdr.qb.id;
	r->seq = hdr.seq;
	r->json = hdr.flags & SDLM_F_JSON;
	if (hdr.version != SDLM_IPC_VERSION)
		return SDLM_EVERSION;
	need = cmd_size(r->cmd);
	if (!need)
		return -EOPNOTSUPP;
	if (size < need)
		return SDLM_EPROTO;
	rc = payload_decode(r, data, need);
	if (rc)
		memset(&r->u, 0, sizeof(r->u));
	return rc;
}

/*
 * The request table: what each command (and each UID op) needs.  Kept as
 * one table so that the split between a mail delivery (CLIENT) and an
 * operator (ADMIN) is read in one place (docs/imap.md says which group the
 * mail user needs).  uid_op 0: any op; admin_form: the op's operator
 * form (uid_admin_form).  The first row that matches decides; no row:
 * ADMIN.
 */
static const struct {
	int32_t cmd;
	uint32_t uid_op;
	bool admin_form;
	enum ipcreq_level need;
} need_table[] = {
	/* read-only views */
	{ SDLM_CMD_STATUS,		0, false, IPCREQ_CLIENT },
	{ SDLM_CMD_NODES,		0, false, IPCREQ_CLIENT },
	{ SDLM_CMD_DUMP_CONFIG,		0, false, IPCREQ_CLIENT },
	{ SDLM_CMD_LS_LIST,		0, false, IPCREQ_CLIENT },
	{ SDLM_CMD_LOCKS,		0, false, IPCREQ_CLIENT },
	{ SDLM_CMD_UID_LIST,		0, false, IPCREQ_CLIENT },
	{ SDLM_CMD_STATS,		0, false, IPCREQ_CLIENT },
	{ SDLM_CMD_DEGRADED,		0, false, IPCREQ_CLIENT },
	/* the debug ring names every client and lock: operators only */
	{ SDLM_CMD_DUMP,		0, false, IPCREQ_ADMIN },
	{ SDLM_CMD_FENCE_CONFIRM,	0, false, IPCREQ_ADMIN },
	{ SDLM_CMD_DEGRADED_ENABLE,	0, false, IPCREQ_ADMIN },
	{ SDLM_CMD_DEGRADED_DISABLE,	0, false, IPCREQ_ADMIN },
	/* locks (reserved names: ipcreq_permit) */
	{ SDLM_CMD_LOCK,		0, false, IPCREQ_CLIENT },
	{ SDLM_CMD_CONVERT,		0, false, IPCREQ_CLIENT },
	{ SDLM_CMD_UNLOCK,		0, false, IPCREQ_CLIENT },
	{ SDLM_CMD_CANCEL,		0, false, IPCREQ_CLIENT },
	/* what a delivery needs (issue 14 item 6) */
	{ SDLM_CMD_UID, SDLM_UID_ALLOC,	 false, IPCREQ_CLIENT },
	{ SDLM_CMD_UID, SDLM_UID_COMMIT, false, IPCREQ_CLIENT },
	{ SDLM_CMD_UID, SDLM_UID_ABORT,	 false, IPCREQ_CLIENT },
	{ SDLM_CMD_UID, SDLM_UID_CANCEL, false, IPCREQ_CLIENT },	/* own calls only */
	{ SDLM_CMD_UID, SDLM_UID_RAISE,	 true,  IPCREQ_ADMIN },	/* settle */
	{ SDLM_CMD_UID, SDLM_UID_RAISE,	 false, IPCREQ_CLIENT },	/* only up */
	{ SDLM_CMD_UID, SDLM_UID_SHOW,	 false, IPCREQ_CLIENT },
	/* first-contact adoption of an existing mailbox (issue 14 item 7) */
	{ SDLM_CMD_UID, SDLM_UID_IMPORT, true,  IPCREQ_ADMIN },	/* restore */
	{ SDLM_CMD_UID, SDLM_UID_IMPORT, false, IPCREQ_CLIENT },	/* create, raise */
	/* what an operator does */
	{ SDLM_CMD_UID, SDLM_UID_BUMP,	 false, IPCREQ_ADMIN },
	{ SDLM_CMD_UID, SDLM_UID_DELETE, false, IPCREQ_ADMIN },
	{ SDLM_CMD_UID, SDLM_UID_RENAME, false, IPCREQ_ADMIN },
};

/* The operator's form of a UID op: RAISE that settles, IMPORT that restores. */
static bool uid_admin_form(const struct req_uid *q)
{
	return (q->op == SDLM_UID_RAISE && q->count == SDLM_UID_RAISE_SETTLE) ||
	       (q->op == SDLM_UID_IMPORT && (q->op_flags & SDLM_UID_IMPORT_RESTORE));
}

enum ipcreq_level ipcreq_needs(const struct ipcreq *r)
{
	size_t i;

	for (i = 0; i < sizeof(need_table) / sizeof(need_table[0]); i++) {
		if (need_table[i].cmd != r->cmd)
			continue;
		if (r->cmd != SDLM_CMD_UID)
			return need_table[i].need;
		if (need_table[i].uid_op != r->u.uid.op)
			continue;
		if (need_table[i].admin_form != uid_admin_form(&r->u.uid))
			continue;
		return need_table[i].need;
	}
	return IPCREQ_ADMIN;
}

bool ipcreq_uid_inline(const struct req_uid *q)
{
	return q->op == SDLM_UID_CANCEL || q->op == SDLM_UID_COMMIT || q->op == SDLM_UID_ABORT;
}

bool ipcreq_admin_only(const struct ipcreq *r)
{
	return ipcreq_needs(r) == IPCREQ_ADMIN;
}

static bool has_prefix(const void *name, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && !memcmp(name, prefix, n);
}

bool ipcreq_name_reserved(const void *res, size_t len)
{
	if (!res)
		return false;
	return (len == 9 && !memcmp(res, "uid-table", 9)) ||
	       has_prefix(res, len, "uid-table.") ||
	       has_prefix(res, len, "uid:") || has_prefix(res, len, "sdlm:");
}

/*
 * Locks an administrator's command takes through sdlmd, which only an
 * administrator may take: sdlm-admin/uid-grow serialises `sdlmctl uid
 * grow` (uidtabcmd.h); a client holding it would block every grow for
 * ever.  Not reserved like the daemon's own names: sdlmctl takes it.
 */
static bool admin_lock(const struct req_lock *q)
{
	static const char ls[] = "sdlm-admin", res[] = "uid-grow";

	return q->ls_len == sizeof(ls) - 1 && !memcmp(q->ls, ls, sizeof(ls) - 1) &&
	       q->res_len == sizeof(res) - 1 && !memcmp(q->res, res, sizeof(res) - 1);
}

int ipcreq_permit(const struct ipcreq *r, enum ipcreq_level level)
{
	if (r->cmd == SDLM_CMD_LOCK &&
	    ipcreq_name_reserved(r->u.lock.res, r->u.lock.res_len))
		return SDLM_ERESERVED;
	if (r->cmd == SDLM_CMD_LOCK && admin_lock(&r->u.lock) && level < IPCREQ_ADMIN)
		return -EPERM;
	return level >= ipcreq_needs(r) ? 0 : -EPERM;
}
