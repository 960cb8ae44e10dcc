/* SPDX-License-Identifier: GPL-2.0-or-later */
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
#include "access.h"

struct ipcreq;

/*
 * Text command handler: render the reply for req (a decoded and checked
 * text command, ipcreq.h) into out; return 0 or an error for the reply
 * header.  admin says whether the client is root or in admin_group.
 */
typedef int (*ipc_text_fn)(void *ctx, const struct ipcreq *req, bool admin,
			   struct sbuf *out);

/* Who may connect, and the caps of each connection (ipc.c). */
struct ipc_policy {
	struct access_policy access;
	uint32_t max_locks;		/* lock objects per connection */
	uint32_t max_requests;		/* UID requests awaiting an answer */
	uint32_t max_conns;		/* connections per uid (root: no cap) */
};

int ipc_setup(qb_loop_t *loop, const char *name, const struct ipc_policy *pol,
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
