/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sdlm_errors.h - the sdlm domain errors, shared by every layer: the disk
 * area library (fence/), the daemon and the client library.  A header of
 * its own so that fence/ does not include the client library's header
 * (a lower layer depending on an upper one).  Installed with sdlm.h,
 * which includes it: a client includes <sdlm.h> and sees the same names
 * and values as before.
 *
 * Every call returns 0 on success or a negative error: either a negated
 * errno value (-EINVAL, -ENOMEM, ...) or one of the domain errors below,
 * which live in their own range so they never collide with errno.
 * sdlm_strerror() names both kinds.
 *
 * Self-contained and C++-safe; tests/unit/test_errors_header.c compiles it
 * alone and pins every value.
 */
#ifndef SDLM_ERRORS_H
#define SDLM_ERRORS_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Domain errors.  Values are fixed: they cross the IPC boundary and appear
 * in logs and in sdlmctl's exit reasons.
 */
enum sdlm_error {
	SDLM_EBASE	= 1000,
	SDLM_EMAGIC	= -1001,	/* record has no sdlm magic */
	SDLM_EVERSION	= -1002,	/* unsupported format/protocol major */
	SDLM_ECHECKSUM	= -1003,	/* CRC32C mismatch */
	SDLM_EIDENTITY	= -1004,	/* record of another cluster or node */
	SDLM_EIOTIMEOUT	= -1005,	/* I/O missed its deadline */
	SDLM_ESHORTIO	= -1006,	/* I/O transferred fewer bytes */
	SDLM_ENOTINIT	= -1007,	/* device holds no sdlm area */
	SDLM_ETIMEOUTS	= -1008,	/* timeouts inconsistent */
	SDLM_ENOTSAFE	= -1009,	/* this node is not fenced-safe */
	SDLM_EFENCED	= -1010,	/* this node was fenced */
	SDLM_EDUPWRITER	= -1011,	/* another incarnation writes our slot */
	SDLM_ENOQUORUM	= -1012,	/* not in a quorate membership */
	SDLM_ELEASE	= -1013,	/* own disk lease expired */
	SDLM_EPILL	= -1014,	/* a poison pill was read */
	SDLM_EEPOCH	= -1015,	/* stale fencing token (epoch) */
	SDLM_EPROTO	= -1016,	/* malformed message */
	SDLM_EBUSY	= -1017,	/* NOQUEUE request not grantable now */
	SDLM_ECANCELED	= -1018,	/* request cancelled */
	SDLM_EDAEMON	= -1019,	/* cannot reach sdlmd */
	SDLM_EUIDWRAP	= -1020,	/* mailbox UID space exhausted: bump UIDVALIDITY */
	SDLM_EUIDFULL	= -1021,	/* UID table full: no free mailbox slot */
	SDLM_EQUORATE	= -1022,	/* quorate: normal rules, no degraded mode */
	SDLM_EPEERLIVE	= -1023,	/* another node's heartbeat is on this disk */
	SDLM_EDEGRADED	= -1024,	/* degraded mode suspended: operator needed */
	SDLM_ERESERVED	= -1025,	/* resource name reserved for sdlmd itself */
	SDLM_ELIMIT	= -1026,	/* per-client limit reached */
	SDLM_EEXPIRED	= -1027,	/* UID allocation not committed within its lease */
	SDLM_ESLOW	= -1028,	/* queued by sdlmd, no answer within the
					   caller's UID timeout */
	SDLM_EOTHERLS	= -1029,	/* the mailbox (its GUID) belongs to
					   another lockspace */
	SDLM_EHANDEDOFF	= -1030,	/* the lock was handed off through the
					   disk while this node was cut off */
	SDLM_ELAST	= -1031,
};

/* Text for any value returned by an sdlm call (errno or domain error). */
const char *sdlm_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* SDLM_ERRORS_H */
