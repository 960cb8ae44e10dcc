/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidsvc.h - the daemon's UID service: per mailbox, the EX lock held as an
 * internal client of the lockspace, the allocator core (uid.c) and the
 * mailbox's records on the shared disk (uidrec.c).
 */
#ifndef SDLM_UIDSVC_H
#define SDLM_UIDSVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "render.h"
#include "hist.h"

struct area;
struct res_uid;
struct req_uid;

/* The lock manager's client id of the UID service (IPC ids never reach it). */
#define UIDSVC_CLIENT	0xffffffffu

/* The table lock, one per area whatever the mailbox's lockspace (its
 * name is reserved: no client may take it, ipcreq_name_reserved). */
#define UIDSVC_TABLE_LS		"sdlm-admin"
#define UIDSVC_TABLE_RES	"uid-table"

struct uidsvc_host {
	void *ctx;
	uint32_t nodeid;
	uint64_t incarnation;
	uint32_t reserve_min, reserve_max;
	uint64_t alloc_lease_ms;	/* uncommitted allocations expire (0: never) */
	/* 0 when this node may use its locks right now (lease, pill). */
	int (*may_use)(void *ctx);
	/* Send the (possibly late) reply of a UID request. */
	void (*reply)(void *ctx, uint32_t client, uint32_t seq, int err,
		      const struct res_uid *res);
	void (*kill_clients)(void *ctx, const uint32_t *clients, size_t n);
	/* Record I/O was queued outside uidsvc_process: arm the timer at
	 * uidsvc_next_deadline_ns() (which is then "now"). */
	void (*kick)(void *ctx);
};

/* Returns 0, or -errno (the area has no UID table: fence init --uid-slots). */
int uidsvc_init(const struct uidsvc_host *host, struct area *a);
void uidsvc_fini(void);

/* A request from a client; the reply comes through host->reply. */
void uidsvc_request(uint32_t client, uint32_t seq, const struct req_uid *req);
void uidsvc_client_gone(uint32_t client);

/* The internal lock's completions (routed here by the daemon). */
void uidsvc_ast(uint64_t lkid, uint64_t ref, int err, int mode,
		const uint8_t *lvb, bool lvb_valid, uint64_t epoch);
void uidsvc_bast(uint64_t lkid, uint64_t ref, int mode);

/*
 * The hand-off through the disk: the cluster lock lkid, under which the
 * service holds a lock, was asked for while this node is away and K
 * passed since its blocking callback (HO_ACT_KILL).  The mailbox serves nothing more; the clients with an
 * allocation uncommitted under it are killed (host->kill_clients) and
 * their allocations aborted once they are gone; then it is released as
 * on a blocking callback.  Returns how many clients were killed.
 */
size_t uidsvc_ho_kill(uint64_t lkid);

/* Lock use stops (pill, revocation): forget every holding, kill the
 * clients with allocations not yet committed. */
void uidsvc_stop_all(void);

/*
 * The daemon leaves (SIGTERM): uidsvc_stop_all, and every new request is
 * answered SDLM_EDAEMON.  The UID locks must not be released before
 * uidsvc_quiet(): no operation running (each ends at its current I/O:
 * no write is submitted after the stop), no entry keeping its lock for
 * a timed-out write, nothing of the service in the kernel.  Until then
 * a record write of ours may still land under a lock another node would
 * take (docs/uid.md, "Leaving").
 */
void uidsvc_leave(void);
bool uidsvc_quiet(void);

void uidsvc_render(struct sbuf *b, bool json);

struct uidsvc_stats {
	uint64_t allocations, uids, record_writes, takeovers;
	uint64_t table_slots;	/* slots of the UID tables this node knows */
	uint32_t table_tables;	/* and how many tables */
	uint64_t table_full;	/* creations refused: the table is full */
	uint64_t table_seg_more;	/* creates whose slot was past the table
					   segments held: more taken, probed again */
	struct hist alloc_latency;	/* request in to allocation answered */
};
void uidsvc_get_stats(struct uidsvc_stats *st);

/* Every heartbeat interval. */
void uidsvc_tick(void);

/*
 * The record I/O (uidio.h), driven by the daemon's loop like the
 * heartbeat's: poll uidsvc_fd() for POLLIN and arm a timer at
 * uidsvc_next_deadline_ns() (ns of CLOCK_BOOTTIME, 0: now, UINT64_MAX:
 * none), and call uidsvc_process() on either.  Each call is one bounded
 * turn.  -1 / UINT64_MAX without a UID service.
 */
void uidsvc_process(void);
uint64_t uidsvc_next_deadline_ns(void);
int uidsvc_fd(void);

/*
 * Degraded mode (docs/uid.md): the caller (the daemon) has checked the
 * conditions (uid_degraded_allowed).  set: 0, -ENOTSUP, -EBUSY (an
 * allocation is not committed yet); enabling again resumes a suspended
 * mode.  suspend: the conditions broke; allocations fail with
 * SDLM_EDEGRADED until the operator enables again or leaves.
 */
int uidsvc_degraded_set(bool on);
bool uidsvc_degraded(int *suspended);
void uidsvc_degraded_suspend(int reason, uint32_t node);
void uidsvc_degraded_render(struct sbuf *b, bool json);

/* Test fault injection on the record I/O (aio_fault_parse grammar; NULL = none). */
void uidsvc_apply_fault(const char *spec);

#endif
