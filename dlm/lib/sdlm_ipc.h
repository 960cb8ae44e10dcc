/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sdlm_ipc.h - the private protocol between sdlmd and its local clients
 * (libsdlm, sdlmctl).  Not installed.
 *
 * Transport: libqb IPC (service name = the ipc_name option, default "sdlm";
 * libqb uses abstract unix sockets, so the name is per network namespace).
 *
 * Every message starts with a fixed header.  The libqb header comes first
 * because libqb reads it (id = command, size = whole message in bytes); our
 * own fields follow: magic, protocol version, flags, a client-chosen
 * sequence echoed in the reply.  All fields are fixed width and the
 * payloads are defined per command below; the daemon validates size against
 * the command's minimum before touching a payload and answers SDLM_EPROTO
 * otherwise.  Both ends run on one host, so host byte order is used.
 *
 *   request:  sdlm_req_hdr  + req_<command> payload
 *   response: sdlm_res_hdr  + res_<command> payload (error in qb.error:
 *             0, -errno or an SDLM_E* value)
 *
 * Text replies (status, nodes, dump, ...) carry the rendered text, either
 * human tables or JSON (SDLM_F_JSON), so every client shows the same thing.
 */
#ifndef SDLM_IPC_H
#define SDLM_IPC_H

#include <stdint.h>
#include <qb/qbipc_common.h>

#define SDLM_IPC_MAGIC		0x4d4c4453u	/* "SDLM" */
#define SDLM_IPC_VERSION	1
#define SDLM_IPC_MAX_MSG	(1024 * 1024)	/* libqb buffer size */
#define SDLM_IPC_RESPONSE	0x10000		/* or'ed into the reply id */

enum sdlm_cmd {
	SDLM_CMD_STATUS		= 1,	/* text: this node, fencing, peers */
	SDLM_CMD_NODES		= 2,	/* text: every slot of the area */
	SDLM_CMD_DUMP		= 3,	/* text: the debug ring */
	SDLM_CMD_DUMP_CONFIG	= 4,	/* text: effective configuration */
	SDLM_CMD_LS_LIST	= 5,	/* text: lockspaces */
	SDLM_CMD_LOCKS		= 6,	/* text: locks of one or all lockspaces */
	SDLM_CMD_FENCE_CONFIRM	= 7,	/* text, admin: arg "NODE" or "NODE force" */
	SDLM_CMD_UID_LIST	= 8,	/* text: mailboxes this node holds */
	SDLM_CMD_STATS		= 9,	/* text: counters; arg "prometheus" */
	SDLM_CMD_DEGRADED	= 10,	/* text: degraded mode (docs/uid.md) */
	SDLM_CMD_DEGRADED_ENABLE = 11,	/* text, admin: the operator's word */
	SDLM_CMD_DEGRADED_DISABLE = 12,	/* text, admin: leave degraded mode */
	SDLM_CMD_LOCK		= 20,	/* req_lock -> res_lock, then ev_ast */
	SDLM_CMD_CONVERT	= 21,	/* req_convert -> res_lock, then ev_ast */
	SDLM_CMD_UNLOCK		= 22,	/* req_unlock -> res_lock (done) */
	SDLM_CMD_CANCEL		= 23,	/* req_cancel -> res_lock, then ev_ast */
	SDLM_CMD_UID		= 30,	/* req_uid -> res_uid (may come later) */
};

/* req_uid.op */
enum sdlm_uid_op {
	SDLM_UID_ALLOC		= 1,	/* count UIDs; held until COMMIT/ABORT */
	SDLM_UID_COMMIT		= 2,	/* alloc_id */
	SDLM_UID_ABORT		= 3,	/* alloc_id */
	SDLM_UID_RAISE		= 4,	/* next UID >= value (admin); count
					   SDLM_UID_RAISE_SETTLE: and clear the
					   provisional mark, epoch >= alloc_id
					   (rejoin repair done) */
	SDLM_UID_BUMP		= 5,	/* new UIDVALIDITY, next = 1 (admin) */
	SDLM_UID_SHOW		= 6,	/* the mailbox's state */
	SDLM_UID_DELETE		= 7,	/* tombstone the record (admin) */
	SDLM_UID_RENAME		= 8,	/* new name in arg (admin) */
	SDLM_UID_IMPORT		= 9,	/* a record from the mail store: value
					   UIDVALIDITY (0: unknown), count its
					   next UID (0: unknown), alloc_id the
					   epoch floor; flags
					   SDLM_UID_IMPORT_RESTORE (admin) */
	SDLM_UID_CANCEL		= 10,	/* alloc_id: the seq of this client's
					   call that gave up (SDLM_ESLOW): a
					   queued one is answered SDLM_ECANCELED,
					   its allocation aborted */
};

#define SDLM_UID_RAISE_SETTLE	1

/*
 * Degraded mode (SDLM_CMD_DEGRADED*, no argument): a refusal of ENABLE or
 * DISABLE is the reply's error (SDLM_EQUORATE, SDLM_EPEERLIVE, -EBUSY)
 * and DEGRADED (the status) names the reason and the node.
 */

/* Events the daemon sends on the libqb event channel. */
enum sdlm_event {
	SDLM_EV_AST		= 100,	/* ev_ast: a request completed */
	SDLM_EV_BAST		= 101,	/* ev_bast: someone waits for our lock */
};

/* hdr.flags */
#define SDLM_F_JSON		0x0001	/* render text replies as JSON */
#define SDLM_F_SYNC_AST		0x0002	/* req_lock: the client waits for this
					   request's ast; one decided at once
					   may come in the reply */
#define SDLM_F_AST_INLINE	0x0004	/* res_lock_ast: the reply carries the
					   ast; no ev_ast follows for it */

struct sdlm_req_hdr {
	struct qb_ipc_request_header qb;	/* id = enum sdlm_cmd, size */
	uint32_t magic;
	uint16_t version;
	uint16_t flags;
	uint32_t seq;
	uint32_t reserved;
} __attribute__((aligned(8)));

struct sdlm_res_hdr {
	struct qb_ipc_response_header qb;	/* id = cmd | RESPONSE, size, error */
	uint32_t magic;
	uint16_t version;
	uint16_t flags;
	uint32_t seq;
	uint32_t reserved;
} __attribute__((aligned(8)));

/* Text commands: the request payload is an optional NUL-terminated argument
 * (a lockspace name for LOCKS); the reply payload is NUL-terminated text. */
struct req_text {
	struct sdlm_req_hdr hdr;
	char arg[256];
};

/*
 * Lock requests.  client_ref is the client's cookie for the lock (libsdlm
 * uses it to find the lksb); the daemon echoes it in every event.  Names
 * are byte strings of name_len / res_len bytes (1..SDLM_NAME_MAX), not
 * NUL-terminated on the wire.  mode is enum sdlm_mode; flags SDLM_LKF_*.
 */
struct req_lock {
	struct sdlm_req_hdr hdr;
	uint64_t client_ref;
	uint32_t flags;
	int32_t mode;
	uint16_t ls_len;
	uint16_t res_len;
	uint32_t pad;
	char ls[64];
	unsigned char res[64];
};

struct req_convert {
	struct sdlm_req_hdr hdr;
	uint64_t lkid;
	uint32_t flags;			/* VALBLK: lvb is written on down-convert */
	int32_t mode;
	unsigned char lvb[32];
};

struct req_unlock {
	struct sdlm_req_hdr hdr;
	uint64_t lkid;
	uint32_t flags;			/* VALBLK / IVVALBLK */
	uint32_t pad;
	unsigned char lvb[32];
};

struct req_cancel {
	struct sdlm_req_hdr hdr;
	uint64_t lkid;
};

/* Immediate reply to LOCK/CONVERT/UNLOCK/CANCEL: accepted (lkid) or error. */
struct res_lock {
	struct sdlm_res_hdr hdr;
	uint64_t lkid;
};

/*
 * Reply to a LOCK sent with SDLM_F_SYNC_AST whose outcome was decided
 * while the daemon processed it (a cached grant, a NOQUEUE refusal): the
 * ast rides in the reply (hdr.flags SDLM_F_AST_INLINE) instead of an
 * ev_ast, saving one message and one read per cached lock.  The fields
 * after lkid are those of ev_ast.  A client that did not ask, or a daemon
 * that does not know the flag, keeps the two-message exchange; a reply
 * without SDLM_F_AST_INLINE means the ast comes as an event.
 */
struct res_lock_ast {
	struct sdlm_res_hdr hdr;
	uint64_t lkid;
	int32_t ast_status;		/* ev_ast's qb.error */
	int32_t mode;
	int32_t lvb_valid;
	uint32_t pad;
	unsigned char lvb[32];
};

/*
 * UID requests name a lockspace and a mailbox (32 hex digits of its GUID,
 * or a name); the reply is sent once the allocation is durable, which may
 * be after a lock hand-off and a takeover.
 */
struct req_uid {
	struct sdlm_req_hdr hdr;
	uint32_t op;			/* enum sdlm_uid_op */
	uint32_t count;			/* ALLOC */
	uint64_t alloc_id;		/* COMMIT, ABORT */
	uint32_t value;			/* RAISE: next UID; BUMP: UIDVALIDITY or 0 */
	uint16_t ls_len;
	uint16_t mb_len;
	char ls[64];
	char mailbox[256];
	uint16_t arg_len;		/* RENAME: the new name */
	uint16_t req_flags;		/* SDLM_UIDREQ_* */
	uint16_t op_flags;		/* IMPORT: SDLM_UID_IMPORT_* */
	uint16_t pad2[1];
	char arg[256];
};

/* The client takes an acknowledgement (a res_uid with SDLM_UIDRES_ACCEPTED
 * and no error) before the answer of a request sdlmd queues. */
#define SDLM_UIDREQ_ACK		0x1
#define SDLM_UIDREQ_ALL		SDLM_UIDREQ_ACK
/* res_uid.flags: this is the acknowledgement, the answer follows. */
#define SDLM_UIDRES_ACCEPTED	0x80000000u

struct res_uid {
	struct sdlm_res_hdr hdr;
	uint32_t first;
	uint32_t count;
	uint32_t uidvalidity;
	uint32_t next;			/* SHOW: next UID this holder gives */
	uint64_t epoch;
	uint64_t alloc_id;
	uint32_t watermark;		/* SHOW: durable watermark (max of copies) */
	uint32_t held;			/* SHOW: this node holds the mailbox */
	uint8_t guid[16];
	uint32_t flags;			/* SHOW: SDLM_UID_F_PROVISIONAL */
	uint32_t prov_base;		/* SHOW: provisional above this UID */
};

struct ev_ast {
	struct sdlm_res_hdr hdr;	/* qb.id = SDLM_EV_AST, qb.error = status */
	uint64_t lkid;
	uint64_t client_ref;
	int32_t mode;			/* granted mode (status 0) */
	int32_t lvb_valid;
	unsigned char lvb[32];
};

struct ev_bast {
	struct sdlm_res_hdr hdr;	/* qb.id = SDLM_EV_BAST */
	uint64_t lkid;
	uint64_t client_ref;
	int32_t mode_wanted;
	uint32_t pad;
};

#endif
