/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libsdlm_uid.c - libsdlm's UID calls (sdlm.h, "UID allocation"): each
 * one request to sdlmd's UID service, acknowledged when queued, then
 * answered (libsdlm.c, "UID requests", says how the waits are bounded).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "sdlm.h"
#include "sdlm_ipc.h"
#include "libsdlm_int.h"

/*
 * One UID request and its reply.  sdlmd acknowledges a request it queues
 * (within LIBSDLM_REPLY_TIMEOUT_MS, else it is lost); the answer may then
 * take a lock hand-off and a takeover, and is waited for up to the
 * handle's UID timeout (SDLM_ESLOW after it).  Returns 0 and fills *out, or the
 * daemon's error, SDLM_EDAEMON, SDLM_EPROTO, SDLM_ESLOW.
 */
static int uid_request(struct sdlm_handle *h, struct req_uid *req, struct res_uid *out)
{
	struct res_uid res;
	int rc;

	req->req_flags |= SDLM_UIDREQ_ACK;
	rc = libsdlm_exchange_acked(h, &req->hdr, sizeof(*req), SDLM_CMD_UID,
				    LIBSDLM_REPLY_TIMEOUT_MS, h->uid_timeout_ms, &res, sizeof(res),
				    sizeof(res));
	if (rc == SDLM_ESLOW && req->op == SDLM_UID_ALLOC)
		/* the allocation gave up: sdlmd must not keep it, nor hold
		 * the mailbox for it (an older sdlmd refuses the op:
		 * skipped).  Any other call holds nothing once served and
		 * stays queued: an import must still come before the
		 * allocation a delivery makes next (review s24 F7). */
		libsdlm_uid_fire_and_forget(h, SDLM_UID_CANCEL, req->hdr.seq);
	if (rc == 0 && out)
		*out = res;
	return rc;
}

int sdlm_uid_set_timeout(sdlm_handle_t *h, unsigned int timeout_ms)
{
	if (!h)
		return -EINVAL;
	h->uid_timeout_ms = timeout_ms;
	return 0;
}

static int uid_names(struct req_uid *req, const char *lockspace, const char *mailbox)
{
	size_t ll, ml;

	if (!lockspace || !mailbox)
		return -EINVAL;
	ll = strlen(lockspace);
	ml = strlen(mailbox);
	if (ll == 0 || ml == 0)
		return -EINVAL;
	if (ll > SDLM_NAME_MAX || ml > sizeof(req->mailbox) - 1)
		return -ENAMETOOLONG;
	memcpy(req->ls, lockspace, ll);
	memcpy(req->mailbox, mailbox, ml);
	req->ls_len = (uint16_t)ll;
	req->mb_len = (uint16_t)ml;
	return 0;
}

int sdlm_uid_alloc(sdlm_handle_t *h, const char *lockspace, const char *mailbox,
		   uint32_t count, struct sdlm_uid_result *r)
{
	struct req_uid req;
	struct res_uid res;
	int rc;

	if (!h || !r || count == 0)
		return -EINVAL;
	memset(&req, 0, sizeof(req));
	rc = uid_names(&req, lockspace, mailbox);
	if (rc < 0)
		return rc;
	req.op = SDLM_UID_ALLOC;
	req.count = count;
	rc = uid_request(h, &req, &res);
	if (rc < 0)
		return rc;
	memset(r, 0, sizeof(*r));
	r->first = res.first;
	r->count = res.count;
	r->uidvalidity = res.uidvalidity;
	r->epoch = res.epoch;
	r->alloc_id = res.alloc_id;
	return 0;
}

static int uid_finish(sdlm_handle_t *h, const struct sdlm_uid_result *r, uint32_t op)
{
	struct req_uid req;

	if (!h || !r || !r->alloc_id)
		return -EINVAL;
	memset(&req, 0, sizeof(req));
	req.op = op;
	req.alloc_id = r->alloc_id;
	return uid_request(h, &req, NULL);
}

int sdlm_uid_commit(sdlm_handle_t *h, const struct sdlm_uid_result *r)
{
	return uid_finish(h, r, SDLM_UID_COMMIT);
}

int sdlm_uid_abort(sdlm_handle_t *h, const struct sdlm_uid_result *r)
{
	return uid_finish(h, r, SDLM_UID_ABORT);
}

static int uid_raise(sdlm_handle_t *h, const char *lockspace, const char *mailbox,
		     uint32_t next_uid, uint32_t how, uint64_t epoch_min)
{
	struct req_uid req;
	int rc;

	if (!h || next_uid == 0)
		return -EINVAL;
	memset(&req, 0, sizeof(req));
	rc = uid_names(&req, lockspace, mailbox);
	if (rc < 0)
		return rc;
	req.op = SDLM_UID_RAISE;
	req.value = next_uid;
	req.count = how;
	req.alloc_id = epoch_min;
	return uid_request(h, &req, NULL);
}

int sdlm_uid_raise(sdlm_handle_t *h, const char *lockspace, const char *mailbox,
		   uint32_t next_uid)
{
	return uid_raise(h, lockspace, mailbox, next_uid, 0, 0);
}

int sdlm_uid_settle(sdlm_handle_t *h, const char *lockspace, const char *mailbox,
		    uint32_t next_uid, uint64_t epoch_min)
{
	return uid_raise(h, lockspace, mailbox, next_uid, SDLM_UID_RAISE_SETTLE, epoch_min);
}

static void info_from(struct sdlm_uid_info *info, const struct res_uid *res)
{
	memset(info, 0, sizeof(*info));
	info->uidvalidity = res->uidvalidity;
	info->next = res->next;
	info->watermark = res->watermark;
	info->held = res->held;
	info->epoch = res->epoch;
	memcpy(info->guid, res->guid, sizeof(info->guid));
	info->flags = res->flags;
	info->prov_base = res->prov_base;
}

/* SHOW or BUMP (value: the new UIDVALIDITY, 0 = old + 1). */
static int uid_state(sdlm_handle_t *h, const char *lockspace, const char *mailbox,
		     uint32_t op, uint32_t value, struct sdlm_uid_info *info)
{
	struct req_uid req;
	struct res_uid res;
	int rc;

	if (!h || !info)
		return -EINVAL;
	memset(&req, 0, sizeof(req));
	rc = uid_names(&req, lockspace, mailbox);
	if (rc < 0)
		return rc;
	req.op = op;
	req.value = value;
	rc = uid_request(h, &req, &res);
	if (rc < 0)
		return rc;
	info_from(info, &res);
	return 0;
}

int sdlm_uid_show(sdlm_handle_t *h, const char *lockspace, const char *mailbox,
		  struct sdlm_uid_info *info)
{
	return uid_state(h, lockspace, mailbox, SDLM_UID_SHOW, 0, info);
}

int sdlm_uid_bump(sdlm_handle_t *h, const char *lockspace, const char *mailbox,
		  uint32_t uidvalidity, struct sdlm_uid_info *info)
{
	return uid_state(h, lockspace, mailbox, SDLM_UID_BUMP, uidvalidity, info);
}

int sdlm_uid_import(sdlm_handle_t *h, const char *lockspace, const char *mailbox,
		    uint32_t uidvalidity, uint32_t next_uid, uint64_t epoch_min,
		    uint32_t flags, struct sdlm_uid_info *info)
{
	struct req_uid req;
	struct res_uid res;
	int rc;

	if (!h || !info || (flags & ~(uint32_t)SDLM_UID_IMPORT_FLAGS) ||
	    ((flags & SDLM_UID_IMPORT_UNNAMED) && !(flags & SDLM_UID_IMPORT_RESTORE)) ||
	    (!(flags & SDLM_UID_IMPORT_RESTORE) && (!uidvalidity || !next_uid)))
		return -EINVAL;
	memset(&req, 0, sizeof(req));
	rc = uid_names(&req, lockspace, mailbox);
	if (rc < 0)
		return rc;
	req.op = SDLM_UID_IMPORT;
	req.value = uidvalidity;
	req.count = next_uid;
	req.alloc_id = epoch_min;
	req.op_flags = (uint16_t)flags;
	rc = uid_request(h, &req, &res);
	if (rc < 0)
		return rc;
	info_from(info, &res);
	return 0;
}

/* Delete a mailbox's record (reclaimed) or rename it (GUID-named
 * mailboxes keep their UIDs).  Root or the admin group. */
int sdlm_uid_delete(sdlm_handle_t *h, const char *lockspace, const char *mailbox)
{
	struct req_uid req;
	int rc;

	if (!h)
		return -EINVAL;
	memset(&req, 0, sizeof(req));
	rc = uid_names(&req, lockspace, mailbox);
	if (rc < 0)
		return rc;
	req.op = SDLM_UID_DELETE;
	return uid_request(h, &req, NULL);
}

int sdlm_uid_rename(sdlm_handle_t *h, const char *lockspace, const char *mailbox,
		    const char *new_name)
{
	struct req_uid req;
	size_t n;
	int rc;

	if (!h || !new_name)
		return -EINVAL;
	n = strlen(new_name);
	if (n == 0)
		return -EINVAL;
	if (n > sizeof(req.arg) - 1)
		return -ENAMETOOLONG;
	memset(&req, 0, sizeof(req));
	rc = uid_names(&req, lockspace, mailbox);
	if (rc < 0)
		return rc;
	req.op = SDLM_UID_RENAME;
	memcpy(req.arg, new_name, n);
	req.arg_len = (uint16_t)n;
	return uid_request(h, &req, NULL);
}
