/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sdlm.h - public interface of libsdlm, the sdlm client library.
 *
 * Every call returns 0 on success or a negative error: either a negated
 * errno value (-EINVAL, -ENOMEM, ...) or one of the sdlm domain errors
 * (enum sdlm_error, in sdlm_errors.h, which this header includes: the disk
 * layer shares them), which live in their own range so they never collide
 * with errno.  sdlm_strerror() names both kinds.
 *
 * This header (with sdlm_errors.h, installed beside it) is self-contained
 * and C++-safe.
 */
#ifndef SDLM_H
#define SDLM_H

#include <stdint.h>
#include <stddef.h>

#include "sdlm_errors.h"	/* enum sdlm_error, sdlm_strerror() */

#ifdef __cplusplus
extern "C" {
#endif

/* A connection to the local sdlmd. */
typedef struct sdlm_handle sdlm_handle_t;

/*
 * Connect to the local sdlmd.  ipc_name NULL means the environment variable
 * SDLM_IPC, else ipc_name in sdlm.conf (the daemon's file, under the
 * sysconfdir libsdlm was built with), else "sdlm".  Returns 0 or SDLM_EDAEMON / -errno (-EACCES: the
 * daemon admits root, client_group and admin_group only) / SDLM_ELIMIT (the
 * user has max_connections_per_user connections open).
 */
int sdlm_connect(const char *ipc_name, sdlm_handle_t **h);
void sdlm_disconnect(sdlm_handle_t *h);

/*
 * Administrative text queries used by sdlmctl: cmd is one of the daemon's
 * text commands (status, nodes, dump, dump-config, ls, locks), arg an
 * optional argument, json non-zero for JSON.  On success *text is a
 * malloc'ed NUL-terminated reply the caller frees.  Returns 0 or an error.
 */
int sdlm_admin_text(sdlm_handle_t *h, const char *cmd, const char *arg,
		    int json, char **text);

/* ---- locks ------------------------------------------------------------ */

/* DLM's six modes, weakest first. */
enum sdlm_mode {
	SDLM_NL = 0,	/* null: holds a place, blocks nobody */
	SDLM_CR = 1,	/* concurrent read */
	SDLM_CW = 2,	/* concurrent write */
	SDLM_PR = 3,	/* protected read (shared) */
	SDLM_PW = 4,	/* protected write */
	SDLM_EX = 5,	/* exclusive */
};

#define SDLM_NAME_MAX	64	/* lockspace and resource names, bytes */
#define SDLM_LVB_LEN	32	/* lock value block */

/* Request flags. */
#define SDLM_LKF_NOQUEUE	0x0001	/* fail with SDLM_EBUSY instead of waiting */
#define SDLM_LKF_VALBLK		0x0002	/* unlock/convert: write lksb->lvb */
#define SDLM_LKF_IVVALBLK	0x0004	/* unlock/convert: invalidate the LVB */

typedef uint64_t sdlm_lkid_t;

/*
 * Lock status block: one per lock, owned by the caller, filled by the
 * library.  status is 0 when granted, else the error of the request.
 */
struct sdlm_lksb {
	int status;
	sdlm_lkid_t lkid;		/* 0 until the daemon accepted the request */
	int mode;			/* granted mode */
	int lvb_valid;			/* lvb holds the resource's value */
	unsigned char lvb[SDLM_LVB_LEN];
};

/* Completion of an asynchronous request (grant, failure, cancel). */
typedef void (*sdlm_ast_fn)(void *arg, struct sdlm_lksb *lksb);
/* Another node or client waits for a mode incompatible with ours. */
typedef void (*sdlm_bast_fn)(void *arg, struct sdlm_lksb *lksb, int mode_wanted);

/*
 * Synchronous calls: return when the request completed (0 granted, or the
 * error), or -ETIMEDOUT after timeout_ms (0 = wait for ever; a timed-out
 * request is cancelled).  The lockspace is joined on first use.
 */
int sdlm_lock(sdlm_handle_t *h, const char *lockspace, const char *resource,
	      int mode, uint32_t flags, unsigned timeout_ms,
	      struct sdlm_lksb *lksb);
int sdlm_convert(sdlm_handle_t *h, struct sdlm_lksb *lksb, int mode,
		 uint32_t flags, unsigned timeout_ms);
int sdlm_unlock(sdlm_handle_t *h, struct sdlm_lksb *lksb, uint32_t flags);

/*
 * Asynchronous calls: return 0 once the daemon accepted the request (the
 * lksb then has its lkid); ast runs later from sdlm_dispatch() with the
 * result; bast (may be NULL) whenever someone waits for this lock.
 */
int sdlm_lock_async(sdlm_handle_t *h, const char *lockspace,
		    const char *resource, int mode, uint32_t flags,
		    struct sdlm_lksb *lksb, sdlm_ast_fn ast, sdlm_bast_fn bast,
		    void *arg);
int sdlm_convert_async(sdlm_handle_t *h, struct sdlm_lksb *lksb, int mode,
		       uint32_t flags);
/* Cancel a waiting request or conversion; its ast reports SDLM_ECANCELED. */
int sdlm_cancel(sdlm_handle_t *h, struct sdlm_lksb *lksb);

/* A descriptor that becomes readable when sdlm_dispatch() has work. */
int sdlm_fd(sdlm_handle_t *h);
/* Run pending completions and blocking callbacks; returns how many ran. */
int sdlm_dispatch(sdlm_handle_t *h);

/* ---- UID allocation (IMAP message UIDs) --------------------------------- */

struct sdlm_uid_result {
	uint32_t first;		/* first UID of the range handed out */
	uint32_t count;
	uint32_t uidvalidity;
	uint32_t reserved;
	uint64_t epoch;		/* fencing token: strictly increasing per mailbox
				   across holders; check it where data is written */
	uint64_t alloc_id;	/* for commit/abort */
};

/*
 * Allocate count UIDs in a mailbox.  mailbox is a Dovecot mailbox GUID as
 * 32 hex digits (stable across RENAME) or a name (1..255 bytes of UTF-8;
 * its GUID is derived from lockspace and name).  An unknown mailbox is
 * created (UIDVALIDITY chosen by sdlm).  The mailbox's UID lock stays with
 * this node until the allocation is committed or aborted, so UIDs become
 * visible in ascending order: commit once the message is in the store.
 * Returns 0 or -errno / SDLM_E* (SDLM_EUIDWRAP: the UID space would wrap,
 * bump UIDVALIDITY).  An allocation not committed within the daemon's
 * uid_alloc_lease_s is aborted: its commit then fails with SDLM_EEXPIRED
 * (do not write the message under those UIDs; allocate again).
 */
int sdlm_uid_alloc(sdlm_handle_t *h, const char *lockspace, const char *mailbox,
		   uint32_t count, struct sdlm_uid_result *res);
int sdlm_uid_commit(sdlm_handle_t *h, const struct sdlm_uid_result *res);
/* The UIDs are never handed out again: they become a gap. */
int sdlm_uid_abort(sdlm_handle_t *h, const struct sdlm_uid_result *res);
/* Raise the mailbox's next UID to at least next_uid (UIDs assigned
 * without sdlm, e.g. by Dovecot itself).  A delivery's operation: root,
 * client_group or admin_group. */
int sdlm_uid_raise(sdlm_handle_t *h, const char *lockspace, const char *mailbox,
		   uint32_t next_uid);

/* The rejoin repair of the mailbox is done: raise its next UID to at least
 * next_uid (the merged list's), clear its provisional mark, and make the
 * epochs handed out from now on at least epoch_min (the merged list's:
 * 0 = no floor).  Refused (-EBUSY) while this node is in degraded mode,
 * and (-ERANGE) for an epoch_min above 2^63 - 1 (epochs must never wrap).
 * Root or the admin group. */
int sdlm_uid_settle(sdlm_handle_t *h, const char *lockspace, const char *mailbox,
		    uint32_t next_uid, uint64_t epoch_min);

/* Delete a mailbox (its record is reclaimed) or rename it; a mailbox named
 * by its GUID keeps its UIDs across a rename.  Root or the admin group. */
int sdlm_uid_delete(sdlm_handle_t *h, const char *lockspace, const char *mailbox);
int sdlm_uid_rename(sdlm_handle_t *h, const char *lockspace, const char *mailbox,
		    const char *new_name);

struct sdlm_uid_info {
	uint32_t uidvalidity;
	uint32_t next;		/* next UID this node gives (held == 1) */
	uint32_t watermark;	/* durable watermark on the disk */
	uint32_t held;		/* this node holds the mailbox now */
	uint64_t epoch;
	uint8_t guid[16];
	uint32_t flags;		/* SDLM_UID_F_* */
	uint32_t prov_base;	/* PROVISIONAL: UIDs above it are provisional */
};

/* The mailbox has UIDs handed out in degraded mode (split storage) that
 * no rejoin repair has settled yet (docs/uid.md, docs/imap.md). */
#define SDLM_UID_F_PROVISIONAL	0x1
/* What sdlm_uid_import did (info->flags). */
#define SDLM_UID_F_CREATED	0x2	/* the record is new, as the store said */
#define SDLM_UID_F_RAISED	0x4	/* the record existed: next raised to the
					   store's (never lowered) */
#define SDLM_UID_F_RESTORED	0x8	/* both copies were damaged: rewritten */
#define SDLM_UID_F_BUMPED	0x10	/* restored with a new UIDVALIDITY */

/* Read the mailbox's state; changes nothing. */
int sdlm_uid_show(sdlm_handle_t *h, const char *lockspace, const char *mailbox,
		  struct sdlm_uid_info *info);
/* Give the mailbox a new UIDVALIDITY (uidvalidity, or 0: the old one + 1)
 * and start its UIDs again at 1: every IMAP client drops its cache of the
 * mailbox.  Root or the admin group.  info is the state after the bump. */
int sdlm_uid_bump(sdlm_handle_t *h, const char *lockspace, const char *mailbox,
		  uint32_t uidvalidity, struct sdlm_uid_info *info);

/*
 * How long a UID call of this handle waits for its answer once sdlmd has
 * taken the request (it acknowledges at once; an answer can take a lock
 * hand-off or a fence first).  0: as long as the daemon lives.  Default
 * SDLM_UID_TIMEOUT_DEFAULT_MS.  Past it the call returns SDLM_ESLOW and
 * the handle stays usable; an allocation that gave up is cancelled in
 * sdlmd (dropped if queued, aborted if granted: its UIDs become a gap);
 * any other call stays queued and is carried out, its answer skipped.  A daemon that does not take a
 * request within 30 s, or whose connection closes, is SDLM_EDAEMON.
 */
#define SDLM_UID_TIMEOUT_DEFAULT_MS	120000u
int sdlm_uid_set_timeout(sdlm_handle_t *h, unsigned int timeout_ms);

/*
 * A mailbox's record from what the mail store knows (docs/imap.md,
 * "Migrating an existing store"; docs/uid.md, "Damaged records"): its
 * UIDVALIDITY and its next UID (Dovecot's uidlist: max(N, highest UID +
 * 1)), epoch_min the lowest epoch a record it creates or restores hands
 * out (the uidlist's E + 1; 0 = none; above SDLM_UID_IMPORT_EPOCH_MAX:
 * -ERANGE, whatever the record: the mail user can write E).  No
 * record: it is created with them, so that IMAP clients notice nothing.
 * A record of the same UIDVALIDITY: its next is raised (never lowered);
 * an epoch_min above its epoch + 1 is -ESTALE (nothing changed).  Another UIDVALIDITY: -EEXIST (sdlmctl uid
 * uidvalidity-bump decides).  With SDLM_UID_IMPORT_RESTORE (root or the
 * admin group): only a mailbox whose record has no intact copy (else
 * -EEXIST; no damaged record: -ENOENT; only damaged slots whose copies
 * name another mailbox: -EADDRINUSE; one naming none: its damage error),
 * written anew in a damaged slot that names it, above the store's
 * next by a margin (docs/uid.md), or with a new UIDVALIDITY when
 * uidvalidity is 0 (unknown).  Without it: a delivery's operation.
 * info->flags says what was done (SDLM_UID_F_*).
 */
#define SDLM_UID_IMPORT_RESTORE	0x1
/* With RESTORE only: the operator's word that the first damaged slot on
 * the mailbox's path whose copies name no mailbox was this one's (else a
 * restore never writes there: it may have been any mailbox's). */
#define SDLM_UID_IMPORT_UNNAMED	0x2
#define SDLM_UID_IMPORT_FLAGS	(SDLM_UID_IMPORT_RESTORE | SDLM_UID_IMPORT_UNNAMED)
/* The highest epoch_min an import takes (2^48; above: -ERANGE).  Epochs
 * rise by one per holder of a mailbox: no store's E reaches it, and a
 * forged one cannot bring the mailbox's epochs near a wrap. */
#define SDLM_UID_IMPORT_EPOCH_MAX	(UINT64_C(1) << 48)
int sdlm_uid_import(sdlm_handle_t *h, const char *lockspace, const char *mailbox,
		    uint32_t uidvalidity, uint32_t next_uid, uint64_t epoch_min,
		    uint32_t flags, struct sdlm_uid_info *info);

const char *sdlm_mode_name(int mode);
/* "NL".."EX" (any case) -> mode, else -EINVAL. */
int sdlm_mode_parse(const char *name);

#ifdef __cplusplus
}
#endif
#endif /* SDLM_H */
