/*
 * ipc.c - the libqb IPC server of sdlmd.
 *
 * Every request is checked before its payload is read: size at least a
 * header, magic, version, then the command's own minimum size.  A bad
 * request gets SDLM_EPROTO and the connection stays usable; the daemon
 * never trusts a length it did not check.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qbipcs.h>
#include <qb/qbloop.h>

#include "sdlm.h"
#include "sdlm_ipc.h"
#include "log.h"
#include "ipc.h"

static struct {
	qb_ipcs_service_t *svc;
	qb_loop_t *loop;
	gid_t admin_gid;
	ipc_text_fn text_fn;
	void *ctx;
} ipcs;

struct client {
	uid_t uid;
	gid_t gid;
	bool admin;
};

/*
 * libqb calls accept and then created for the same connection, one
 * connection at a time on our single-threaded loop: the credentials seen
 * by accept are carried over to the connection's context.
 */
static uid_t accepted_uid;
static gid_t accepted_gid;

static int32_t conn_accept(qb_ipcs_connection_t *c, uid_t uid, gid_t gid)
{
	accepted_uid = uid;
	accepted_gid = gid;
	return 0;
}

static void conn_created(qb_ipcs_connection_t *c)
{
	struct client *cl = calloc(1, sizeof(*cl));

	if (!cl)
		return;
	cl->uid = accepted_uid;
	cl->gid = accepted_gid;
	cl->admin = cl->uid == 0 ||
		    (ipcs.admin_gid != (gid_t)-1 && cl->gid == ipcs.admin_gid);
	qb_ipcs_context_set(c, cl);
}

static int32_t conn_closed(qb_ipcs_connection_t *c)
{
	return 0;
}

static void conn_destroyed(qb_ipcs_connection_t *c)
{
	free(qb_ipcs_context_get(c));
}

static void send_reply(qb_ipcs_connection_t *c, const struct sdlm_req_hdr *req,
		       int cmd, int err, const char *text, size_t len)
{
	struct sdlm_res_hdr res;
	struct iovec iov[2];

	if (sizeof(res) + len > SDLM_IPC_MAX_MSG - 64) {
		err = -E2BIG;
		len = 0;
	}
	memset(&res, 0, sizeof(res));
	res.qb.id = cmd | SDLM_IPC_RESPONSE;
	res.qb.size = (int32_t)(sizeof(res) + len);
	res.qb.error = err;
	res.magic = SDLM_IPC_MAGIC;
	res.version = SDLM_IPC_VERSION;
	res.seq = req ? req->seq : 0;
	iov[0].iov_base = &res;
	iov[0].iov_len = sizeof(res);
	iov[1].iov_base = (void *)text;
	iov[1].iov_len = len;
	qb_ipcs_response_sendv(c, iov, len ? 2 : 1);
}

static int32_t msg_process(qb_ipcs_connection_t *c, void *data, size_t size)
{
	const struct sdlm_req_hdr *hdr = data;
	struct client *cl = qb_ipcs_context_get(c);
	struct sbuf out;
	char arg[sizeof(((struct req_text *)0)->arg)];
	int rc;

	if (size < sizeof(*hdr) || hdr->magic != SDLM_IPC_MAGIC) {
		log_debug("ipc: request of %zu bytes without a valid header", size);
		send_reply(c, NULL, 0, SDLM_EPROTO, NULL, 0);
		return 0;
	}
	if (hdr->version != SDLM_IPC_VERSION) {
		send_reply(c, hdr, hdr->qb.id, SDLM_EVERSION, NULL, 0);
		return 0;
	}
	switch (hdr->qb.id) {
	case SDLM_CMD_STATUS:
	case SDLM_CMD_NODES:
	case SDLM_CMD_DUMP:
	case SDLM_CMD_DUMP_CONFIG:
	case SDLM_CMD_LS_LIST:
	case SDLM_CMD_LOCKS:
		if (size < sizeof(struct req_text)) {
			send_reply(c, hdr, hdr->qb.id, SDLM_EPROTO, NULL, 0);
			return 0;
		}
		memcpy(arg, ((const struct req_text *)data)->arg, sizeof(arg));
		arg[sizeof(arg) - 1] = '\0';
		sb_init(&out);
		rc = ipcs.text_fn(ipcs.ctx, hdr->qb.id, arg,
				  hdr->flags & SDLM_F_JSON, cl && cl->admin, &out);
		if (out.oom)
			rc = -ENOMEM;
		send_reply(c, hdr, hdr->qb.id, rc, rc ? NULL : out.s,
			   rc || !out.s ? 0 : out.len + 1);
		sb_free(&out);
		return 0;
	default:
		log_debug("ipc: unknown command %d", hdr->qb.id);
		send_reply(c, hdr, hdr->qb.id, -EOPNOTSUPP, NULL, 0);
		return 0;
	}
}

/* libqb asks the application to run its sockets on the main loop. */
static int32_t job_add(enum qb_loop_priority p, void *data, qb_loop_job_dispatch_fn fn)
{
	return qb_loop_job_add(ipcs.loop, p, data, fn);
}

static int32_t dispatch_add(enum qb_loop_priority p, int32_t fd, int32_t events,
			    void *data, qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_add(ipcs.loop, p, fd, events, data, fn);
}

static int32_t dispatch_mod(enum qb_loop_priority p, int32_t fd, int32_t events,
			    void *data, qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_mod(ipcs.loop, p, fd, events, data, fn);
}

static int32_t dispatch_del(int32_t fd)
{
	return qb_loop_poll_del(ipcs.loop, fd);
}

/* Returns 0 or -errno. */
int ipc_setup(qb_loop_t *loop, const char *name, gid_t admin_gid,
	      ipc_text_fn text_fn, void *ctx)
{
	static struct qb_ipcs_service_handlers sh = {
		.connection_accept = conn_accept,
		.connection_created = conn_created,
		.msg_process = msg_process,
		.connection_closed = conn_closed,
		.connection_destroyed = conn_destroyed,
	};
	static struct qb_ipcs_poll_handlers ph = {
		.job_add = job_add,
		.dispatch_add = dispatch_add,
		.dispatch_mod = dispatch_mod,
		.dispatch_del = dispatch_del,
	};
	int rc;

	ipcs.loop = loop;
	ipcs.admin_gid = admin_gid;
	ipcs.text_fn = text_fn;
	ipcs.ctx = ctx;
	ipcs.svc = qb_ipcs_create(name, 0, QB_IPC_SOCKET, &sh);
	if (!ipcs.svc)
		return -errno ? -errno : -ENOMEM;
	qb_ipcs_poll_handlers_set(ipcs.svc, &ph);
	qb_ipcs_enforce_buffer_size(ipcs.svc, SDLM_IPC_MAX_MSG);
	rc = qb_ipcs_run(ipcs.svc);
	if (rc < 0) {
		qb_ipcs_destroy(ipcs.svc);
		ipcs.svc = NULL;
	}
	return rc;
}

void ipc_close(void)
{
	if (ipcs.svc)
		qb_ipcs_destroy(ipcs.svc);
	ipcs.svc = NULL;
}
