/*
 * sdlm.h - public interface of libsdlm, the sdlm client library.
 *
 * Every call returns 0 on success or a negative error: either a negated
 * errno value (-EINVAL, -ENOMEM, ...) or one of the sdlm domain errors
 * below, which live in their own range so they never collide with errno.
 * sdlm_strerror() names both kinds.
 *
 * This header is self-contained and C++-safe.
 */
#ifndef SDLM_H
#define SDLM_H

#include <stdint.h>
#include <stddef.h>

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
	SDLM_ELAST	= -1020,
};

/* Text for any value returned by an sdlm call (errno or domain error). */
const char *sdlm_strerror(int err);

/* A connection to the local sdlmd. */
typedef struct sdlm_handle sdlm_handle_t;

/*
 * Connect to the local sdlmd.  ipc_name NULL means the environment variable
 * SDLM_IPC, else "sdlm".  Returns 0 or SDLM_EDAEMON / -errno.
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

#ifdef __cplusplus
}
#endif
#endif /* SDLM_H */
