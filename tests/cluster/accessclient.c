/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * accessclient - what an unprivileged local user can send to sdlmd, spoken
 * in the raw protocol (sdlm_ipc.h) so nothing in libsdlm stands between
 * the attempt and the daemon (tests/cluster/t-access.sh, issue 15).
 *
 *   accessclient connect                 exit 0 connected, 77 refused (EACCES)
 *   accessclient lock LS RES             one EX NOQUEUE lock: prints "rc N TEXT"
 *   accessclient unlock LKID             UNLOCK of a lock id (hex) with a value block
 *   accessclient forge LS GUID           the forged-LVB sequence on mailbox GUID:
 *       EX on "uid:GUID" (its holder, the UID service, gives it up with the
 *       mailbox's next UID in the value block), then an unlock writing a
 *       value block with next = 1 and a higher epoch (CRC32C correct).
 *       Prints each step; exit 0 when the first step was refused as
 *       reserved, 1 when the forged block was written, 2 otherwise
 *   accessclient flood LS N PID          N LOCK requests (EX, distinct
 *       resources) on one connection, then N UID requests queued behind an
 *       uncommitted allocation; prints accepted/refused per kind and the
 *       resident memory of the daemon PID before and after (the figure per
 *       connection of docs/operations.md)
 *   accessclient conns N PID             N idle connections: the daemon's
 *       memory per connection before any request
 *   accessclient lvb LS RES [VALUE]      EX on RES (waiting up to 60 s):
 *       prints "lvb valid TEXT" or "lvb invalid"; then the unlock writes
 *       VALUE (zero padded) into the value block, or leaves it alone
 *       (tests/cluster/t-incarnation.sh)
 *   IPC name: $SDLM_IPC, else "sdlm".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <qb/qbipcc.h>

#include "sdlm.h"
#include "sdlm_ipc.h"
#include "uid.h"

static qb_ipcc_connection_t *conn;
static uint32_t seq;

static const char *ipc_name(void)
{
	const char *n = getenv("SDLM_IPC");

	return n && n[0] ? n : "sdlm";
}

static int do_connect(void)
{
	conn = qb_ipcc_connect(ipc_name(), SDLM_IPC_MAX_MSG);
	if (!conn) {
		int e = errno;

		fprintf(stderr, "accessclient: connect: %s\n", strerror(e));
		return e == EACCES || e == EPERM ? 77 : 2;
	}
	return 0;
}

static void hdr(struct sdlm_req_hdr *h, int cmd, size_t size, uint16_t flags)
{
	memset(h, 0, sizeof(*h));
	h->qb.id = cmd;
	h->qb.size = (int32_t)size;
	h->magic = SDLM_IPC_MAGIC;
	h->version = SDLM_IPC_VERSION;
	h->flags = flags;
	h->seq = ++seq;
}

/* One request, its reply (res, cap bytes); returns the reply's error or a
 * transport error. */
static int call(void *req, size_t size, void *res, size_t cap)
{
	ssize_t got;

	if (qb_ipcc_send(conn, req, size) < 0)
		return SDLM_EDAEMON;
	got = qb_ipcc_recv(conn, res, cap, 30000);
	if (got < (ssize_t)sizeof(struct sdlm_res_hdr))
		return SDLM_EDAEMON;
	return ((struct sdlm_res_hdr *)res)->qb.error;
}

/* As call, but the answer is the one to this request (by seq): others
 * (a call given up is answered too) are read and dropped. */
static int call_seq(void *req, size_t size, void *res, size_t cap)
{
	uint32_t want = ((struct sdlm_req_hdr *)req)->seq;
	int i;

	if (qb_ipcc_send(conn, req, size) < 0)
		return SDLM_EDAEMON;
	for (i = 0; i < 1000; i++) {
		ssize_t got = qb_ipcc_recv(conn, res, cap, 30000);

		if (got < (ssize_t)sizeof(struct sdlm_res_hdr))
			return SDLM_EDAEMON;
		if (((struct sdlm_res_hdr *)res)->seq == want)
			return ((struct sdlm_res_hdr *)res)->qb.error;
	}
	return SDLM_EDAEMON;
}

static int lock_req(const char *ls, const void *res, size_t len, int mode, uint32_t flags,
		    uint64_t *lkid, struct res_lock_ast *out)
{
	struct req_lock q;
	struct res_lock_ast a;
	int rc;

	memset(&q, 0, sizeof(q));
	hdr(&q.hdr, SDLM_CMD_LOCK, sizeof(q), SDLM_F_SYNC_AST);
	q.client_ref = seq;
	q.flags = flags;
	q.mode = mode;
	q.ls_len = (uint16_t)strlen(ls);
	q.res_len = (uint16_t)len;
	memcpy(q.ls, ls, q.ls_len);
	memcpy(q.res, res, len);
	memset(&a, 0, sizeof(a));
	rc = call(&q, sizeof(q), &a, sizeof(a));
	if (lkid)
		*lkid = a.lkid;
	if (out)
		*out = a;
	return rc;
}

/* Wait for the ast of lkid on the event channel (other events skipped). */
static int wait_ast(uint64_t lkid, struct ev_ast *ev, int timeout_ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		ssize_t got = qb_ipcc_event_recv(conn, ev, sizeof(*ev), 200);

		if (got >= (ssize_t)sizeof(*ev) && ev->hdr.qb.id == SDLM_EV_AST && ev->lkid == lkid)
			return ev->hdr.qb.error;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > timeout_ms)
			return -ETIMEDOUT;
	}
}

static int unlock_req(uint64_t lkid, const uint8_t *lvb)
{
	struct req_unlock q;
	struct res_lock r;

	memset(&q, 0, sizeof(q));
	hdr(&q.hdr, SDLM_CMD_UNLOCK, sizeof(q), 0);
	q.lkid = lkid;
	if (lvb) {
		q.flags = SDLM_LKF_VALBLK;
		memcpy(q.lvb, lvb, sizeof(q.lvb));
	}
	return call(&q, sizeof(q), &r, sizeof(r));
}

static int cmd_forge(const char *ls, const char *guid)
{
	char name[64];
	struct res_lock_ast a;
	struct ev_ast ev;
	struct uid_lvb l;
	uint8_t lvb[UID_LVB_LEN];
	const uint8_t *got;
	uint64_t lkid = 0;
	int rc;

	snprintf(name, sizeof(name), "uid:%s", guid);
	rc = lock_req(ls, name, strlen(name), SDLM_EX, 0, &lkid, &a);
	printf("lock EX %s: rc %d %s\n", name, rc, sdlm_strerror(rc));
	if (rc)
		return rc == SDLM_ERESERVED ? 0 : 2;
	if (a.hdr.flags & SDLM_F_AST_INLINE) {
		rc = a.ast_status;
		got = a.lvb_valid ? a.lvb : NULL;
	} else {
		rc = wait_ast(lkid, &ev, 60000);
		got = rc == 0 && ev.lvb_valid ? ev.lvb : NULL;
	}
	printf("granted: %d %s, value block %s\n", rc, sdlm_strerror(rc), got ? "valid" : "none");
	if (rc)
		return 2;
	memset(&l, 0, sizeof(l));
	if (got && uid_lvb_in(&l, got) == 0)
		printf("value block: uidvalidity %u epoch %" PRIu64 " next %u\n",
		       l.uidvalidity, l.epoch, l.next);
	l.epoch += 1000;		/* "newer" than anything the disk holds */
	l.next = 1;			/* the next takeover starts at UID 1 */
	uid_lvb_out(&l, lvb);
	rc = unlock_req(lkid, lvb);
	printf("unlock with forged value block (next 1, epoch %" PRIu64 "): rc %d %s\n",
	       l.epoch, rc, sdlm_strerror(rc));
	return rc == 0 ? 1 : 2;
}

static long rss_kb(const char *pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void drain_events(void)
{
	struct ev_ast ev;

	while (qb_ipcc_event_recv(conn, &ev, sizeof(ev), 0) > 0)
		;
}

static void count_uid(const struct res_uid *ur, unsigned long *ok, unsigned long *limit,
		      unsigned long *other)
{
	if (ur->hdr.qb.error == SDLM_ELIMIT)
		(*limit)++;
	else if (ur->hdr.qb.error == 0)
		(*ok)++;
	else
		(*other)++;
}

static int cmd_flood(const char *ls, unsigned long n, const char *pid)
{
	unsigned long i, ok = 0, limit = 0, other = 0, uok = 0, ulimit = 0, uother = 0;
	int first_other = 0, rc, crc, mrc;
	uint64_t first_alloc, first_queued;
	long before = rss_kb(pid), after_locks, after;
	char res[64];
	struct req_uid u;
	struct res_uid ur;

	for (i = 0; i < n; i++) {
		snprintf(res, sizeof(res), "flood-%lu", i);
		rc = lock_req(ls, res, strlen(res), SDLM_EX, 0, NULL, NULL);
		if (rc == 0)
			ok++;
		else if (rc == SDLM_ELIMIT)
			limit++;
		else if (!other++)
			first_other = rc;
		if (!(i & 255))
			drain_events();
	}
	drain_events();
	after_locks = rss_kb(pid);
	printf("locks: %lu requests, %lu accepted, %lu refused (%s), %lu other errors%s%s\n",
	       n, ok, limit, sdlm_strerror(SDLM_ELIMIT), other, other ? ": " : "",
	       other ? sdlm_strerror(first_other) : "");
	/* UID requests: one allocation left uncommitted, then n more in the
	 * same mailbox, sent without waiting: they queue behind it. */
	memset(&u, 0, sizeof(u));
	hdr(&u.hdr, SDLM_CMD_UID, sizeof(u), 0);
	u.op = SDLM_UID_ALLOC;
	u.count = 1;
	u.ls_len = (uint16_t)strlen(ls);
	memcpy(u.ls, ls, u.ls_len);
	u.mb_len = (uint16_t)strlen("flood-mailbox");
	memcpy(u.mailbox, "flood-mailbox", u.mb_len);
	rc = call(&u, sizeof(u), &ur, sizeof(ur));
	first_alloc = ur.alloc_id;
	printf("uid: first allocation %d %s (left uncommitted)\n", rc, sdlm_strerror(rc));
	first_queued = seq + 1;
	for (i = 0; i < n; i++) {
		ssize_t sent;
		int wait = 0;

		u.hdr.seq = ++seq;
		/* the socket full: read the answers that came meanwhile */
		while ((sent = qb_ipcc_send(conn, &u, sizeof(u))) == -EAGAIN && wait++ < 1000)
			if (qb_ipcc_recv(conn, &ur, sizeof(ur), 10) > 0)
				count_uid(&ur, &uok, &ulimit, &uother);
		if (sent < 0) {
			uother++;
			continue;
		}
		/* a refusal comes back at once; a queued request answers later */
		while (qb_ipcc_recv(conn, &ur, sizeof(ur), 0) > 0) {
			if (ur.hdr.qb.error == SDLM_ELIMIT)
				ulimit++;
			else if (ur.hdr.qb.error == 0)
				uok++;
			else
				uother++;
		}
	}
	while (qb_ipcc_recv(conn, &ur, sizeof(ur), 200) > 0) {
		if (ur.hdr.qb.error == SDLM_ELIMIT)
			ulimit++;
		else if (ur.hdr.qb.error == 0)
			uok++;
		else
			uother++;
	}
	after = rss_kb(pid);
	printf("uid: %lu requests, %lu refused (%s), %lu answered, %lu other, %lu waiting\n",
	       n, ulimit, sdlm_strerror(SDLM_ELIMIT), uok, uother, n - ulimit - uok - uother);
	/* At its limit the client can still give a call up (SDLM_UID_CANCEL
	 * naming a waiting one's seq) and commit the allocation it holds:
	 * both are answered at once and free what they name. */
	memset(&u, 0, sizeof(u));
	hdr(&u.hdr, SDLM_CMD_UID, sizeof(u), 0);
	u.op = SDLM_UID_CANCEL;
	u.alloc_id = first_queued;
	crc = call_seq(&u, sizeof(u), &ur, sizeof(ur));
	memset(&u, 0, sizeof(u));
	hdr(&u.hdr, SDLM_CMD_UID, sizeof(u), 0);
	u.op = SDLM_UID_COMMIT;
	u.alloc_id = first_alloc;
	mrc = call_seq(&u, sizeof(u), &ur, sizeof(ur));
	printf("uid: at the limit, cancel of a waiting call: %d %s; commit of the allocation held: %d %s\n",
	       crc, sdlm_strerror(crc), mrc, sdlm_strerror(mrc));
	printf("daemon rss: %ld kB before, %ld kB after the locks (+%ld kB, %.0f bytes per accepted lock), "
	       "%ld kB after the UID requests (+%ld kB)\n", before, after_locks, after_locks - before,
	       ok ? (after_locks - before) * 1024.0 / (double)ok : 0.0, after, after - after_locks);
	printf("RESULT locks_accepted=%lu locks_refused=%lu uid_refused=%lu uid_waiting=%lu "
	       "rss_kb_before=%ld rss_kb_after=%ld cancel_rc=%d commit_rc=%d\n", ok, limit, ulimit,
	       n - ulimit - uok - uother, before, after, crc, mrc);
	return 0;
}

static int cmd_lvb(const char *ls, const char *res, const char *value)
{
	uint8_t lvb[SDLM_LVB_LEN] = { 0 };
	struct res_lock_ast a;
	struct ev_ast ev;
	const uint8_t *got;
	uint64_t lkid = 0;
	int rc;

	rc = lock_req(ls, res, strlen(res), SDLM_EX, 0, &lkid, &a);
	if (rc) {
		printf("lock EX %s: rc %d %s\n", res, rc, sdlm_strerror(rc));
		return 2;
	}
	if (a.hdr.flags & SDLM_F_AST_INLINE) {
		rc = a.ast_status;
		got = a.lvb_valid ? a.lvb : NULL;
	} else {
		rc = wait_ast(lkid, &ev, 60000);
		got = rc == 0 && ev.lvb_valid ? ev.lvb : NULL;
	}
	if (rc) {
		printf("lock EX %s: granted rc %d %s\n", res, rc, sdlm_strerror(rc));
		return 2;
	}
	if (got)
		printf("lvb valid %.*s\n", (int)strnlen((const char *)got, SDLM_LVB_LEN),
		       (const char *)got);
	else
		printf("lvb invalid\n");
	if (value)
		memcpy(lvb, value, strnlen(value, sizeof(lvb)));
	rc = unlock_req(lkid, value ? lvb : NULL);
	if (rc) {
		printf("unlock: rc %d %s\n", rc, sdlm_strerror(rc));
		return 2;
	}
	return 0;
}

static int cmd_conns(unsigned long n, const char *pid)
{
	qb_ipcc_connection_t **c = calloc(n, sizeof(*c));
	long before = rss_kb(pid), after;
	unsigned long i, ok = 0;

	for (i = 0; c && i < n; i++)
		if ((c[i] = qb_ipcc_connect(ipc_name(), SDLM_IPC_MAX_MSG)))
			ok++;
	after = rss_kb(pid);
	printf("connections: %lu of %lu; daemon rss %ld kB -> %ld kB: %.1f kB per idle connection\n",
	       ok, n, before, after, ok ? (double)(after - before) / (double)ok : 0.0);
	for (i = 0; c && i < n; i++)
		if (c[i])
			qb_ipcc_disconnect(c[i]);
	free(c);
	return ok == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: accessclient connect|lock|unlock|forge|flood|conns|lvb ...\n");
		return 2;
	}
	if (!strcmp(argv[1], "conns") && argc == 4)
		return cmd_conns(strtoul(argv[2], NULL, 10), argv[3]);
	rc = do_connect();
	if (rc)
		return rc;
	if (!strcmp(argv[1], "connect"))
		rc = 0;
	else if (!strcmp(argv[1], "lock") && argc == 4) {
		rc = lock_req(argv[2], argv[3], strlen(argv[3]), SDLM_EX, SDLM_LKF_NOQUEUE, NULL, NULL);
		printf("rc %d %s\n", rc, sdlm_strerror(rc));
		rc = 0;
	} else if (!strcmp(argv[1], "unlock") && argc == 3) {
		uint8_t lvb[SDLM_LVB_LEN] = { 0 };

		rc = unlock_req(strtoull(argv[2], NULL, 16), lvb);
		printf("rc %d %s\n", rc, sdlm_strerror(rc));
		rc = 0;
	} else if (!strcmp(argv[1], "forge") && argc == 4)
		rc = cmd_forge(argv[2], argv[3]);
	else if (!strcmp(argv[1], "lvb") && (argc == 4 || argc == 5))
		rc = cmd_lvb(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	else if (!strcmp(argv[1], "flood") && argc == 5)
		rc = cmd_flood(argv[2], strtoul(argv[3], NULL, 10), argv[4]);
	else {
		fprintf(stderr, "accessclient: bad arguments\n");
		rc = 2;
	}
	qb_ipcc_disconnect(conn);
	return rc;
}
