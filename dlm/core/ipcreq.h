/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ipcreq.h - decoding and validation of a client request to sdlmd (the
 * private protocol of sdlm_ipc.h).  Pure: bytes in, a decoded request or
 * an error out; no I/O, no daemon state.  msg_process (dlm/daemon/ipc.c) calls it
 * on every request before anything else, so what the fuzzer
 * (tests/fuzz/fuzz_ipc.c) and the unit test see is what the daemon does.
 *
 * The checks, in the order they are made (the first that fails decides):
 *
 *   1. size >= header, magic, header's qb.size == size    SDLM_EPROTO  (*)
 *   2. version == SDLM_IPC_VERSION                        SDLM_EVERSION
 *   3. a known command                                    -EOPNOTSUPP
 *   4. size >= the command's request struct               SDLM_EPROTO
 *   5. strings that must be NUL-terminated are           SDLM_EPROTO
 *      (the text argument)
 *   6. the command's fields:                              -EINVAL unless said
 *      text     arg empty, except LOCKS (empty or a lockspace name),
 *               STATS (empty or "prometheus"), FENCE_CONFIRM ("N" or
 *               "N force", N decimal 1..UINT32_MAX)
 *      LOCK     ls_len, res_len in 1..SDLM_NAME_MAX; the lockspace name
 *               printable ASCII without space or '/'; mode one of the six;
 *               flags only SDLM_LKF_*
 *      CONVERT  mode, flags as for LOCK
 *      UNLOCK   flags as for LOCK
 *      CANCEL   nothing more (the lkid is checked by the lock manager)
 *      UID      op known; req_flags only SDLM_UIDREQ_*; COMMIT/ABORT
 *               carry only alloc_id; every other op
 *               names a lockspace (as LOCK) and a mailbox (1..255 bytes,
 *               uidrec_name_check: -EINVAL, -EILSEQ); ALLOC count >= 1;
 *               RENAME a new name like a mailbox's; IMPORT flags only
 *               SDLM_UID_IMPORT_RESTORE (and _UNNAMED with it), and
 *               without RESTORE value
 *               (UIDVALIDITY) and count (next UID) >= 1
 *
 * (*) The reply to a request whose header cannot be trusted carries
 *     command 0 and sequence 0; from check 2 on, the request's own.
 *
 * What needs the daemon's state stays with the daemon: whether the lock
 * manager runs (-ENOTCONN), the node range of FENCE_CONFIRM, the UID
 * reservation maximum, lock ids and allocation ids.
 */
#ifndef SDLM_IPCREQ_H
#define SDLM_IPCREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdlm_ipc.h"

/* Flags a lock request may carry (SDLM_LKF_*). */
#define IPCREQ_LKF_ALL	0x0007u

struct ipcreq_text {
	char arg[sizeof(((struct req_text *)0)->arg)];	/* NUL-terminated */
	uint32_t node;			/* FENCE_CONFIRM */
	bool force;			/* FENCE_CONFIRM */
	bool prometheus;		/* STATS */
};

/*
 * A decoded request.  The lock and UID payloads are copies of the wire
 * structs whose fields passed the checks above; names in them stay
 * length-counted as on the wire.
 */
struct ipcreq {
	int32_t cmd;			/* enum sdlm_cmd; 0 if the header is not trusted */
	uint32_t seq;			/* echoed in the reply */
	bool json;			/* SDLM_F_JSON */
	union {
		struct ipcreq_text text;
		struct req_lock lock;
		struct req_convert convert;
		struct req_unlock unlock;
		struct req_cancel cancel;
		struct req_uid uid;
	} u;
};

/*
 * Decode the size bytes at data (any alignment) into *r.  On error *r is
 * zero but for cmd, seq and json as far as the header was trusted (see (*)
 * above), which the reply needs.  Returns 0 or the error of the first
 * failed check (see the list above).
 */
int ipcreq_decode(const void *data, size_t size, struct ipcreq *r);

/*
 * The header of everything sdlmd sends a client, zeroed first (no byte
 * left over): id is the request's cmd | SDLM_IPC_RESPONSE for a reply or
 * SDLM_EV_AST/SDLM_EV_BAST for an event; size the whole message's; err
 * the status (0 when there is none); seq the request's (0 for an event).
 */
void ipcreq_res_hdr(struct sdlm_res_hdr *hdr, int32_t id, size_t size, int err,
		    uint32_t seq);

/* true for the commands of enum sdlm_cmd that are text commands. */
bool ipcreq_is_text(int32_t cmd);

/* true for LOCK, CONVERT, UNLOCK, CANCEL (their reply is a res_lock). */
bool ipcreq_is_lock(int32_t cmd);

/*
 * Who may send what (docs/operations.md, "Security").  A connection gets
 * its level once, when it connects (dlm/daemon/access.c): root and members of
 * admin_group are ADMIN, members of client_group CLIENT, everyone else is
 * refused before a request is read.
 */
enum ipcreq_level {
	IPCREQ_NONE	= 0,
	IPCREQ_CLIENT	= 1,	/* locks, UID delivery ops, read-only status */
	IPCREQ_ADMIN	= 2,	/* fencing, degraded mode, UIDVALIDITY, settle */
};

/*
 * The level a decoded request needs: the table in ipcreq.c.  Everything a
 * delivery does (UID alloc, commit, abort, raise, show, import: the
 * first-contact adoption of an existing mailbox) is CLIENT; DUMP,
 * FENCE_CONFIRM, DEGRADED_ENABLE/DISABLE and the UID ops BUMP, DELETE,
 * RENAME, RAISE with SDLM_UID_RAISE_SETTLE and IMPORT with
 * SDLM_UID_IMPORT_RESTORE are ADMIN.  A command or UID
 * op the table does not name needs ADMIN (fail closed).
 */
enum ipcreq_level ipcreq_needs(const struct ipcreq *r);

/* ipcreq_needs(r) == IPCREQ_ADMIN */
bool ipcreq_admin_only(const struct ipcreq *r);

/*
 * true if res[0..len) is a name sdlmd locks itself, in every lockspace:
 * "uid-table", anything starting with "uid-table." (the UID table's
 * segment locks, uidseg.h), anything starting with "uid:" (a mailbox's lock, whose value
 * block carries its UID state) and anything starting with "sdlm:" (kept
 * for names the daemon adds later).
 */
bool ipcreq_name_reserved(const void *res, size_t len);

/*
 * May a connection of level have r served?  0, -EPERM (r needs more than
 * level) or SDLM_ERESERVED (a LOCK of a reserved name: refused at every
 * level, root's included).  A client converts, unlocks and cancels only
 * locks it took, so the name check at LOCK covers those too; the daemon
 * also answers SDLM_ERESERVED when a lock id names one of its own locks.
 */
/* A UID op the service answers at once, freeing what it names (CANCEL,
 * COMMIT, ABORT): not held against max_requests_per_client. */
bool ipcreq_uid_inline(const struct req_uid *q);

int ipcreq_permit(const struct ipcreq *r, enum ipcreq_level level);

/* true if name[0..len) may name a lockspace (1..SDLM_NAME_MAX bytes of
 * printable ASCII, no space, no '/'). */
bool ipcreq_ls_name_ok(const char *name, size_t len);

#endif
