/*
 * ipc.h - sdlmd's libqb IPC server: accepts local clients, checks their
 * credentials, validates every request header and hands commands to the
 * daemon.
 */
#ifndef SDLM_IPCS_H
#define SDLM_IPCS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <qb/qbloop.h>

#include "render.h"

struct ipcreq;

/*
 * Text command handler: render the reply for req (a decoded and checked
 * text command, ipcreq.h) into out; return 0 or an error for the reply
 * header.  admin says whether the client is root or in the admin group.
 */
typedef int (*ipc_text_fn)(void *ctx, const struct ipcreq *req, bool admin,
			   struct sbuf *out);

int ipc_setup(qb_loop_t *loop, const char *name, gid_t admin_gid,
	      ipc_text_fn text_fn, void *ctx);
void ipc_close(void);

/* Lock commands are served only when the lock manager runs (corosync). */
void ipc_enable_locks(bool on);
void ipc_send_ast(uint32_t client, uint64_t lkid, uint64_t ref, int err,
		  int mode, const uint8_t *lvb, bool lvb_valid);
void ipc_send_bast(uint32_t client, uint64_t lkid, uint64_t ref, int mode);
pid_t ipc_client_pid(uint32_t client);
struct res_uid;
void ipc_uid_reply(uint32_t client, uint32_t seq, int err, const struct res_uid *r);

#endif
