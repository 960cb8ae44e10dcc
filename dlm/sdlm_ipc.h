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
};

/* hdr.flags */
#define SDLM_F_JSON		0x0001	/* render text replies as JSON */

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

#endif
