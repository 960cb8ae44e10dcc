/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libsdlm_int.h - the private side of libsdlm, shared by its files:
 *
 *	libsdlm.c	libsdlm_: the connection, the request exchange, events,
 *			locks, modes, administrative text
 *	libsdlm_uid.c	the UID calls (sdlm_uid_*), over the exchange
 *
 * Nothing here is exported from the library (libsdlm.map).
 */
#ifndef SDLM_LIBSDLM_INT_H
#define SDLM_LIBSDLM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qb/qbipcc.h>

#include "sdlm.h"
#include "sdlm_ipc.h"

#define LIBSDLM_REPLY_TIMEOUT_MS	30000	/* immediate reply, and a cancel's ast */
#define LIBSDLM_FF_MAX		16	/* aborts whose replies are skipped */
#define LIBSDLM_LOCK_HASH_SIZE	256	/* power of two */
#define LIBSDLM_EV_BUF_SIZE	4096	/* larger than any event we know */

struct lock_ent;
struct ev_queued;

struct sdlm_handle {
	qb_ipcc_connection_t *conn;
	uint32_t seq;
	uint64_t next_ref;
	int dead;			/* connection lost */
	int dead_reported;		/* pending asts already completed */
	struct lock_ent *by_ref[LIBSDLM_LOCK_HASH_SIZE];
	struct lock_ent *by_id[LIBSDLM_LOCK_HASH_SIZE];
	struct ev_queued *q_head, *q_tail;
	size_t reply_len;		/* bytes of the last good reply */
	unsigned uid_timeout_ms;	/* wait after sdlmd took a UID request */
	/* Sequence numbers of the aborts sent for allocations answered after
	 * their call gave up (SDLM_ESLOW): their replies are skipped. */
	uint32_t ff_seq[LIBSDLM_FF_MAX];
	unsigned ff_next;
	bool daemon_acks;		/* a UID acknowledgement was seen */
	union {
		struct sdlm_res_hdr hdr;
		struct ev_ast ast;
		struct ev_bast bast;
		char raw[LIBSDLM_EV_BUF_SIZE];
	} evbuf;
};

/* Send a UID op (ABORT, CANCEL) whose reply is skipped, not waited for. */
void libsdlm_uid_fire_and_forget(struct sdlm_handle *h, uint32_t op, uint64_t alloc_id);

/*
 * Send one request and read its reply (libsdlm.c says how the wait is
 * bounded and what is skipped).  Returns 0, the daemon's error, or
 * SDLM_EDAEMON / SDLM_EPROTO / SDLM_ESLOW.
 */
int libsdlm_exchange_acked(struct sdlm_handle *h, struct sdlm_req_hdr *req, size_t size,
			   int cmd, unsigned timeout_ms, unsigned acked_ms, void *res,
			   size_t res_cap, size_t min_len);

#endif
