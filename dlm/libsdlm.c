/*
 * libsdlm.c - the thin client library: libqb IPC to the local sdlmd and
 * nothing else (no libaio, no corosync).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <qb/qbipcc.h>

#include "sdlm.h"
#include "sdlm_ipc.h"

struct sdlm_handle {
	qb_ipcc_connection_t *conn;
	uint32_t seq;
};

int sdlm_connect(const char *ipc_name, sdlm_handle_t **out)
{
	struct sdlm_handle *h;

	if (!ipc_name)
		ipc_name = getenv("SDLM_IPC");
	if (!ipc_name || !ipc_name[0])
		ipc_name = "sdlm";
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->conn = qb_ipcc_connect(ipc_name, SDLM_IPC_MAX_MSG);
	if (!h->conn) {
		int err = errno;

		free(h);
		return err == EACCES || err == EPERM ? -err : SDLM_EDAEMON;
	}
	*out = h;
	return 0;
}

void sdlm_disconnect(sdlm_handle_t *h)
{
	if (!h)
		return;
	qb_ipcc_disconnect(h->conn);
	free(h);
}

static const struct { const char *name; enum sdlm_cmd cmd; } text_cmds[] = {
	{ "status", SDLM_CMD_STATUS },
	{ "nodes", SDLM_CMD_NODES },
	{ "dump", SDLM_CMD_DUMP },
	{ "dump-config", SDLM_CMD_DUMP_CONFIG },
	{ "ls", SDLM_CMD_LS_LIST },
	{ "locks", SDLM_CMD_LOCKS },
};

/* Returns 0 or -errno / SDLM_E*. */
int sdlm_admin_text(sdlm_handle_t *h, const char *cmd, const char *arg,
		    int json, char **text)
{
	struct req_text req;
	struct sdlm_res_hdr *res;
	size_t i, n;
	ssize_t got;
	int rc;

	for (i = 0; i < sizeof(text_cmds) / sizeof(text_cmds[0]); i++)
		if (!strcmp(cmd, text_cmds[i].name))
			break;
	if (i == sizeof(text_cmds) / sizeof(text_cmds[0]))
		return -EINVAL;
	if (arg && strlen(arg) >= sizeof(req.arg))
		return -ENAMETOOLONG;

	memset(&req, 0, sizeof(req));
	req.hdr.qb.id = text_cmds[i].cmd;
	req.hdr.qb.size = sizeof(req);
	req.hdr.magic = SDLM_IPC_MAGIC;
	req.hdr.version = SDLM_IPC_VERSION;
	req.hdr.flags = json ? SDLM_F_JSON : 0;
	req.hdr.seq = ++h->seq;
	if (arg)
		strcpy(req.arg, arg);

	res = malloc(SDLM_IPC_MAX_MSG);
	if (!res)
		return -ENOMEM;
	got = qb_ipcc_send(h->conn, &req, sizeof(req));
	if (got < 0) {
		rc = got == -ENOTCONN ? SDLM_EDAEMON : (int)got;
		goto out_free;
	}
	got = qb_ipcc_recv(h->conn, res, SDLM_IPC_MAX_MSG, 30000);
	if (got < 0) {
		rc = got == -ENOTCONN ? SDLM_EDAEMON : (int)got;
		goto out_free;
	}
	if ((size_t)got < sizeof(*res) || res->magic != SDLM_IPC_MAGIC ||
	    res->seq != req.hdr.seq) {
		rc = SDLM_EPROTO;
		goto out_free;
	}
	if (res->qb.error) {
		rc = res->qb.error;
		goto out_free;
	}
	n = (size_t)got - sizeof(*res);
	*text = malloc(n + 1);
	if (!*text) {
		rc = -ENOMEM;
		goto out_free;
	}
	memcpy(*text, res + 1, n);
	(*text)[n] = '\0';
	rc = 0;
out_free:
	free(res);
	return rc;
}
