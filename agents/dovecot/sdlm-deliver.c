/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sdlm-deliver - deliver one message into a Maildir with a UID from sdlm.
 *
 *	sdlm-deliver [options] MAILDIR [FILE]      (FILE absent or "-": stdin)
 *
 * Timeline of one delivery (docs/imap.md explains each guarantee):
 *
 *   1. copy the message to MAILDIR/tmp/<unique>, fsync       no lock held
 *      a mailbox sdlm has no record of yet is adopted as Dovecot numbered
 *      it: sdlm_uid_import(the uidlist's UIDVALIDITY and next UID), so
 *      IMAP clients notice nothing (docs/imap.md, "Migrating")
 *   2. sdlm_uid_alloc(mailbox, 1) -> first, UIDVALIDITY, epoch
 *                                  the mailbox's UID lock is now ours
 *   3. take dovecot-uidlist.lock (Dovecot's own writers take it too)
 *   4. read dovecot-uidlist; refuse if its E<epoch> is newer than ours
 *      (a later holder wrote it: we were fenced) or its UIDVALIDITY is not
 *      sdlm's (unless --adopt-uidvalidity)
 *   5. uid = max(first, uidlist next UID): Dovecot may have assigned UIDs
 *      without sdlm (IMAP APPEND, LMTP, the new/ scan) under the same
 *      dotlock; the uidlist is the final word for this mailbox
 *   6. rename tmp/<unique> -> new/<name> (or cur/<name>:2,<flags>), fsync
 *   7. rewrite dovecot-uidlist with the record and E = max(E, epoch)
 *      (.tmp, fdatasync, rename, fsync dir)                durable here
 *   8. drop the dotlock; sdlm_uid_commit (UIDs become visible in order);
 *      if uid was above sdlm's range, sdlm_uid_raise(uid + 1)
 *
 * Any failure before 7 completes undoes 6 and 1 and aborts the allocation
 * (the UID becomes a gap, never reused); the uidlist is then unchanged.
 *
 * --uid-source=file:PATH is a TEST SEAM, not a product mode: UIDs come
 * from a text file "V<uidvalidity> N<next> E<epoch>" held with flock()
 * from allocation to commit, so the Dovecot tests run without a cluster.
 *
 * Exit codes (an MTA retries only EX_TEMPFAIL and bounces on anything
 * else, so only a problem of this very message may bounce):
 *   0   delivered (stdout: "uid=U uidvalidity=V epoch=E file=F")
 *   65  EX_DATAERR, permanent, this message: it is empty (5.6.0)
 *   75  EX_TEMPFAIL, everything else: the cluster, sdlmd, the dotlock, the
 *       store, a stale epoch, a UIDVALIDITY that is not sdlm's, a bad
 *       command line (4.3.5: the transport is misconfigured; the mail
 *       waits in the queue until it is fixed)
 * Every failure line on stderr starts with an RFC 3463 enhanced status
 * code (4.x.x or 5.x.x), which Postfix copies into its DSN.
 *
 * Test points (SDLM_TEST_HOOK, testhook.h): "locked" (dotlock held, the
 * uidlist not read yet), "placed" (the message renamed into new/, the
 * uidlist not written yet).
 */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "sdlm.h"
#include "access.h"
#include "conf.h"
#include "uidlist.h"
#include "testhook.h"

#define EXIT_DATAERR	65	/* EX_DATAERR: this message cannot be delivered */
#define EXIT_TEMPFAIL	75	/* EX_TEMPFAIL: the MTA keeps it and retries */

struct opts {
	const char *lockspace;
	const char *mailbox;
	const char *uid_source;		/* "sdlm" or "file:PATH" */
	const char *ipc;		/* conf_client_value(): never NULL */
	const char *ipc_from;		/* where ipc came from, for errors */
	const char *config;		/* the sdlm.conf read */
	const char *flags;
	bool cur;
	bool adopt;
	unsigned lock_timeout_ms;
	unsigned lock_stale_s;
	const char *maildir;
	const char *input;
};

/* ---- UID sources ------------------------------------------------------ */

struct uid_src {
	sdlm_handle_t *h;
	int file_fd;			/* test seam: flock'ed state file */
	struct sdlm_uid_result res;
	uint32_t file_next;
};

static int src_open(const struct opts *o, struct uid_src *s)
{
	memset(s, 0, sizeof(*s));
	s->file_fd = -1;
	if (strncmp(o->uid_source, "file:", 5) == 0) {
		s->file_fd = open(o->uid_source + 5, O_RDWR | O_CLOEXEC);
		return s->file_fd < 0 ? -errno : 0;
	}
	return sdlm_connect(o->ipc, &s->h);
}

static int file_state(int fd, uint32_t *v, uint32_t *n, uint64_t *e)
{
	char buf[128];
	ssize_t len = pread(fd, buf, sizeof(buf) - 1, 0);

	if (len <= 0)
		return len < 0 ? -errno : -EBADMSG;
	buf[len] = '\0';
	if (sscanf(buf, "V%" SCNu32 " N%" SCNu32 " E%" SCNu64, v, n, e) != 3 ||
	    *v == 0 || *n == 0 || *e == 0)
		return -EBADMSG;
	return 0;
}

static int file_store(int fd, uint32_t v, uint32_t n, uint64_t e)
{
	char buf[128];
	int len = snprintf(buf, sizeof(buf), "V%" PRIu32 " N%" PRIu32 " E%" PRIu64 "\n",
			   v, n, e);

	if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)len, 0) != len ||
	    fdatasync(fd) != 0)
		return -EIO;
	return 0;
}

/*
 * First contact (step 1): sdlm creates the record of a mailbox it has not
 * seen with the uidlist's UIDVALIDITY and next UID instead of its own
 * choice.  The header is enough (read without the lock, as Dovecot's
 * readers do): its N may lag, but step 5 takes the uidlist's real next
 * under the dotlock and step 8 raises sdlm above it.  A record that exists
 * is kept (same UIDVALIDITY: raised, never lowered; another: refused, and
 * step 4 says so), so this is best effort: whatever the daemon refuses
 * here, the allocation that follows reports.
 */
static void src_adopt(const struct opts *o, struct uid_src *s)
{
	char path[4096], buf[UIDLIST_LINE_MAX + 2];
	struct sdlm_uid_info info;
	struct uidlist ul;
	ssize_t len;
	char *nl;
	int fd;

	if (!s->h || snprintf(path, sizeof(path), "%s/%s", o->maildir, UIDLIST_FILE) >=
	    (int)sizeof(path))
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;		/* a new mailbox: sdlm chooses */
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	nl = len > 0 ? memchr(buf, '\n', (size_t)len) : NULL;
	if (!nl)
		return;
	uidlist_init(&ul);
	if (uidlist_parse(buf, (size_t)(nl - buf) + 1, &ul, NULL) == 0 &&
	    ul.uidvalidity && ul.next_uid)
		sdlm_uid_import(s->h, o->lockspace, o->mailbox, ul.uidvalidity, ul.next_uid,
				ul.epoch ? ul.epoch + 1 : 0, 0, &info);
	uidlist_free(&ul);
}

static int src_alloc(const struct opts *o, struct uid_src *s)
{
	uint32_t v, n;
	uint64_t e;
	int rv;

	if (s->h)
		return sdlm_uid_alloc(s->h, o->lockspace, o->mailbox, 1, &s->res);
	if (flock(s->file_fd, LOCK_EX) != 0)
		return -errno;
	rv = file_state(s->file_fd, &v, &n, &e);
	if (rv)
		return rv;
	s->res.first = n;
	s->res.count = 1;
	s->res.uidvalidity = v;
	s->res.epoch = e;
	s->res.alloc_id = 1;
	s->file_next = n;
	return 0;
}

/* Commit the allocation; next is the UID after the one used. */
static int src_commit(const struct opts *o, struct uid_src *s, uint32_t next)
{
	uint32_t v, n;
	uint64_t e;
	int rv;

	if (s->h) {
		rv = sdlm_uid_commit(s->h, &s->res);
		if (rv == 0 && next > s->res.first + s->res.count)
			rv = sdlm_uid_raise(s->h, o->lockspace, o->mailbox, next);
		return rv;
	}
	rv = file_state(s->file_fd, &v, &n, &e);
	if (!rv)
		rv = file_store(s->file_fd, v, next > n ? next : n, e);
	flock(s->file_fd, LOCK_UN);
	return rv;
}

static void src_abort(struct uid_src *s)
{
	if (s->h)
		sdlm_uid_abort(s->h, &s->res);
	else if (s->file_fd >= 0)
		flock(s->file_fd, LOCK_UN);
}

static void src_close(struct uid_src *s)
{
	if (s->h)
		sdlm_disconnect(s->h);
	if (s->file_fd >= 0)
		close(s->file_fd);
}

/* ---- Maildir ---------------------------------------------------------- */

/* Dovecot's unique name: <secs>.M<usecs>P<pid>R<random>.<host>; the host
 * part escapes '/' and ':' as Dovecot does (\057, \072). */
static int name_make(char *buf, size_t sz)
{
	char host[256] = "localhost", esc[1024];
	struct timeval tv;
	uint32_t rnd = 0;
	size_t i, j = 0;
	int n;

	gettimeofday(&tv, NULL);
	gethostname(host, sizeof(host) - 1);
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint32_t)tv.tv_usec ^ (uint32_t)getpid();
	for (i = 0; host[i] && j + 5 < sizeof(esc); i++) {
		if (host[i] == '/' || host[i] == ':' || host[i] == ',') {
			j += (size_t)snprintf(esc + j, sizeof(esc) - j, "\\%03o",
					      (unsigned char)host[i]);
		} else {
			esc[j++] = host[i];
		}
	}
	esc[j] = '\0';
	n = snprintf(buf, sz, "%ld.M%ldP%dR%08" PRIx32 ".%s", (long)tv.tv_sec,
		     (long)tv.tv_usec, (int)getpid(), rnd, esc);
	return n < 0 || (size_t)n >= sz ? -ENAMETOOLONG : 0;
}

static void owner_follow(int fd, const char *dir)
{
	struct stat st;

	if (geteuid() == 0 && stat(dir, &st) == 0 && fchown(fd, st.st_uid, st.st_gid) != 0)
		return;	/* best effort: Dovecot reports EACCES itself */
}

/* Copy the input into tmp/, fsync; *size = bytes written. */
static int message_spool(const struct opts *o, const char *tmp_path, size_t *size)
{
	char buf[65536];
	int in = 0, out, rv = 0;
	ssize_t n;

	*size = 0;
	if (o->input && strcmp(o->input, "-") != 0) {
		in = open(o->input, O_RDONLY | O_CLOEXEC);
		if (in < 0)
			return -errno;
	}
	out = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		rv = -errno;
		goto out_close_in;
	}
	owner_follow(out, o->maildir);
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write(out, buf, (size_t)n) != n) {
			rv = errno ? -errno : -EIO;
			goto out_close_out;
		}
		*size += (size_t)n;
	}
	if (*size == 0)
		rv = -ENODATA;
	else if (fsync(out) != 0)
		rv = -errno;
out_close_out:
	close(out);
	if (rv)
		unlink(tmp_path);
out_close_in:
	if (in > 0)
		close(in);
	return rv;
}

static int guid_hex(const char *s)
{
	size_t i;

	if (strlen(s) != UIDLIST_GUID_HEX)
		return 0;
	for (i = 0; i < UIDLIST_GUID_HEX; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* G of a new uidlist: the mailbox GUID (given, or sdlm's for a name). */
static void guid_for_new(const struct opts *o, struct uid_src *s, char *guid)
{
	struct sdlm_uid_info info;
	uint8_t raw[16];
	size_t i;

	if (guid_hex(o->mailbox)) {
		memcpy(guid, o->mailbox, UIDLIST_GUID_HEX + 1);
		return;
	}
	if (s->h && sdlm_uid_show(s->h, o->lockspace, o->mailbox, &info) == 0)
		memcpy(raw, info.guid, sizeof(raw));
	else if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
		memset(raw, 0x5a, sizeof(raw));
	for (i = 0; i < 16; i++)
		snprintf(guid + 2 * i, 3, "%02x", raw[i]);
}

/*
 * Every failure message starts with an RFC 3463 enhanced status code, as
 * delivery agents print them: Postfix (pipe, local's mailbox_command)
 * takes a leading 4.x.x / 5.x.x from the output into its DSN, Exim shows
 * it in the log.  code is the exit code that goes with it.
 */
static int fail(int code, const char *dsn, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(int code, const char *dsn, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s sdlm-deliver: ", dsn);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/*
 * The mailbox's current epoch as the UID source knows it now, for a
 * uidlist that carries no E (Dovecot rebuilt it, or it is new): sdlm's
 * view of the mailbox (held by this node, at which epoch), or the test
 * seam's file.  0 if our allocation is still the current one, else an
 * error the caller reports (nothing written).
 */
static int src_still_current(const struct opts *o, struct uid_src *s, uint64_t *cur)
{
	struct sdlm_uid_info info;
	uint32_t v, n;
	int rv;

	if (s->h) {
		rv = sdlm_uid_show(s->h, o->lockspace, o->mailbox, &info);
		if (rv)
			return rv;
		*cur = info.epoch;
		if (!info.held || info.epoch != s->res.epoch)
			return -ESTALE;
		return 0;
	}
	rv = file_state(s->file_fd, &v, &n, cur);
	if (rv)
		return rv;
	return *cur != s->res.epoch ? -ESTALE : 0;
}

static int deliver(const struct opts *o)
{
	char uniq[512], tmp_path[4096], dst_path[4096], dst_dir[4096], tmp_dir[4096];
	struct uid_src src;
	struct uidlist ul;
	struct uidlist_err perr;
	struct uidlist_lock lk;
	size_t size;
	uint64_t next, cur;
	uint32_t uid;
	int rv, code = EXIT_TEMPFAIL;

	uidlist_init(&ul);
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/tmp", o->maildir);
	snprintf(dst_dir, sizeof(dst_dir), "%s/%s", o->maildir, o->cur ? "cur" : "new");
	if (name_make(uniq, sizeof(uniq)) ||
	    snprintf(tmp_path, sizeof(tmp_path), "%s/%s", tmp_dir, uniq) >= (int)sizeof(tmp_path))
		return fail(EXIT_TEMPFAIL, "4.3.5", "%s: path too long", o->maildir);
	rv = message_spool(o, tmp_path, &size);
	if (rv == -ENODATA)
		return fail(EXIT_DATAERR, "5.6.0", "empty message: nothing to deliver");
	if (rv == -EDQUOT)
		return fail(EXIT_TEMPFAIL, "4.2.2", "%s: over quota: %s", tmp_path, strerror(-rv));
	if (rv == -ENOSPC)
		return fail(EXIT_TEMPFAIL, "4.3.1", "%s: %s", tmp_path, strerror(-rv));
	if (rv)
		return fail(EXIT_TEMPFAIL, "4.3.0", "%s: %s", tmp_path, strerror(-rv));
	/* The base name carries the size (Dovecot trusts S= for the size). */
	snprintf(uniq + strlen(uniq), sizeof(uniq) - strlen(uniq), ",S=%zu", size);

	rv = src_open(o, &src);
	if (rv) {
		fail(EXIT_TEMPFAIL, "4.3.0", "UID source %s (ipc '%s', from %s): %s%s",
		     o->uid_source, o->ipc, o->ipc_from,
		     sdlm_strerror(rv), rv == -EACCES ? "" : " (is sdlmd running?)");
		if (rv == -EACCES)	/* not admitted: say which group */
			access_hint(stderr, "sdlm-deliver", o->config, false);
		goto out_unlink_tmp;
	}
	src_adopt(o, &src);
	rv = src_alloc(o, &src);
	if (rv) {
		if (rv == SDLM_EUIDWRAP)
			fail(EXIT_TEMPFAIL, "4.2.0", "%s: UID space used up: an administrator "
			     "bumps UIDVALIDITY (sdlmctl uid bump)", o->mailbox);
		else
			fail(EXIT_TEMPFAIL, "4.3.0", "%s: UID allocation: %s", o->mailbox,
			     sdlm_strerror(rv));
		goto out_close_src;
	}
	rv = uidlist_lock(o->maildir, o->lock_timeout_ms, o->lock_stale_s, &lk);
	if (rv) {
		fail(EXIT_TEMPFAIL, "4.2.0", "%s/%s: %s", o->maildir, UIDLIST_LOCK_FILE,
		     rv == -ETIMEDOUT ? "held by another writer (timed out)" : strerror(-rv));
		goto out_abort;
	}
	test_hook("locked");
	rv = uidlist_read(o->maildir, &ul, &perr);
	if (rv == -ENOENT) {
		uidlist_init(&ul);
		ul.uidvalidity = src.res.uidvalidity;
		ul.next_uid = 1;
		guid_for_new(o, &src, ul.guid);
	} else if (rv) {
		if (rv == -EBADMSG)
			fail(EXIT_TEMPFAIL, "4.2.0", "%s/%s line %u: %s (doveadm force-resync "
			     "rebuilds it)", o->maildir, UIDLIST_FILE, perr.line, perr.msg);
		else
			fail(EXIT_TEMPFAIL, "4.3.0", "%s/%s: %s", o->maildir, UIDLIST_FILE,
			     strerror(-rv));
		goto out_unlock;
	}
	if (ul.epoch > src.res.epoch) {
		fail(EXIT_TEMPFAIL, "4.4.0", "%s: stale epoch: the uidlist carries epoch %" PRIu64
		     ", this allocation has %" PRIu64 " (a newer holder wrote it); nothing "
		     "written", o->maildir, ul.epoch, src.res.epoch);
		goto out_unlock;
	}
	if (ul.epoch == 0) {
		/* No E: Dovecot rebuilt the list (or it is new).  Its absence
		 * says nothing about later holders: ask the UID source. */
		rv = src_still_current(o, &src, &cur);
		if (rv == -ESTALE) {
			fail(EXIT_TEMPFAIL, "4.4.0", "%s: stale epoch: the uidlist carries none "
			     "and sdlm's mailbox is at epoch %" PRIu64 ", this allocation has %"
			     PRIu64 " (a newer holder took over); nothing written", o->maildir,
			     cur, src.res.epoch);
			goto out_unlock;
		}
		if (rv) {
			fail(EXIT_TEMPFAIL, "4.3.0", "%s: the uidlist carries no epoch and sdlm "
			     "cannot confirm ours: %s; nothing written", o->maildir,
			     sdlm_strerror(rv));
			goto out_unlock;
		}
	}
	if (ul.uidvalidity != src.res.uidvalidity) {
		if (!o->adopt) {
			fail(EXIT_TEMPFAIL, "4.2.0", "%s: UIDVALIDITY %" PRIu32 " in the uidlist, %"
			     PRIu32 " in sdlm (a mailbox older than sdlm's record of it): an "
			     "administrator decides; --adopt-uidvalidity rewrites it to sdlm's "
			     "(clients resynchronise); nothing written", o->maildir,
			     ul.uidvalidity, src.res.uidvalidity);
			goto out_unlock;
		}
		ul.uidvalidity = src.res.uidvalidity;
	}
	next = uidlist_next_uid(&ul);
	if (next < src.res.first)
		next = src.res.first;
	if (next > UINT32_MAX) {
		fail(EXIT_TEMPFAIL, "4.2.0", "%s: UID space used up: an administrator bumps "
		     "UIDVALIDITY", o->maildir);
		goto out_unlock;
	}
	uid = (uint32_t)next;
	rv = uidlist_append(&ul, uid, NULL, uniq);
	if (rv) {
		fail(EXIT_TEMPFAIL, "4.3.0", "record %s: %s", uniq, strerror(-rv));
		goto out_unlock;
	}
	if (src.res.epoch > ul.epoch)
		ul.epoch = src.res.epoch;
	if (snprintf(dst_path, sizeof(dst_path), "%s/%s%s%s", dst_dir, uniq,
		     o->cur ? ":2," : "", o->cur ? o->flags : "") >= (int)sizeof(dst_path)) {
		fail(EXIT_TEMPFAIL, "4.3.5", "%s: path too long", o->maildir);
		goto out_unlock;
	}
	rv = uidlist_lock_check(&lk);
	if (rv) {
		fail(EXIT_TEMPFAIL, "4.2.0", "%s/%s: %s before the message was placed: nothing "
		     "written", o->maildir, UIDLIST_LOCK_FILE,
		     rv == -ESTALE ? "the dotlock was taken over" : strerror(-rv));
		goto out_unlock;
	}
	if (rename(tmp_path, dst_path) != 0) {
		fail(EXIT_TEMPFAIL, "4.3.0", "rename to %s: %s", dst_path, strerror(errno));
		goto out_unlock;
	}
	rv = dir_fsync(dst_dir);
	if (!rv)
		rv = dir_fsync(tmp_dir);
	test_hook("placed");
	if (!rv)
		rv = uidlist_write(o->maildir, &ul, &lk);
	if (rv) {
		if (rv == -ESTALE)
			fail(EXIT_TEMPFAIL, "4.2.0", "%s/%s: the dotlock was taken over before "
			     "the uidlist was written: message removed, nothing written",
			     o->maildir, UIDLIST_LOCK_FILE);
		else
			fail(EXIT_TEMPFAIL, "4.3.0", "%s: writing: %s", o->maildir, strerror(-rv));
		unlink(dst_path);
		dir_fsync(dst_dir);
		goto out_unlock;
	}
	/* Checked right before both renames: the uidlist is ours. */
	uidlist_unlock(&lk);
	rv = src_commit(o, &src, uid + 1);
	if (rv) {
		/* The message is in the store with its UID: delivered.  Only
		 * sdlm's bookkeeping failed; its next holder resumes above. */
		fprintf(stderr, "sdlm-deliver: %s: commit: %s (message delivered)\n",
			o->mailbox, sdlm_strerror(rv));
	}
	printf("uid=%" PRIu32 " uidvalidity=%" PRIu32 " epoch=%" PRIu64 " file=%s\n",
	       uid, ul.uidvalidity, ul.epoch, dst_path);
	uidlist_free(&ul);
	src_close(&src);
	return 0;

out_unlock:
	uidlist_unlock(&lk);
out_abort:
	src_abort(&src);
out_close_src:
	src_close(&src);
out_unlink_tmp:
	unlink(tmp_path);
	uidlist_free(&ul);
	return code;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sdlm-deliver [options] MAILDIR [FILE|-]\n"
		"  -l, --lockspace LS        sdlm lockspace (default imap)\n"
		"  -m, --mailbox MB          mailbox GUID (32 hex) or name; default: the\n"
		"                            uidlist's G (Dovecot's mailbox GUID)\n"
		"      --cur                 deliver into cur/ (default new/)\n"
		"      --flags FLAGS         Maildir flags with --cur (e.g. S)\n"
		"      --adopt-uidvalidity   rewrite a different UIDVALIDITY to sdlm's\n"
		"      --lock-timeout MS     dotlock wait (default 30000)\n"
		"      --lock-stale S        a dotlock unchanged this long is stale\n"
		"                            (default 120, Dovecot's)\n"
		"  -c, --config FILE         sdlm.conf to read ipc_name from (default\n"
		"                            " SDLM_CONFIG_FILE ")\n"
		"      --ipc-name NAME       sdlmd IPC name (default: $SDLM_IPC, else\n"
		"                            ipc_name in sdlm.conf, else sdlm; --ipc:\n"
		"                            the old spelling)\n"
		"      --uid-source=SRC      sdlm (default) or file:PATH (TEST SEAM)\n"
		"  -h, --help                this text;  --version  the version\n"
		"exit: 0 delivered; 65 this message is undeliverable (5.x.x on stderr);\n"
		"      75 temporary, the MTA retries (4.x.x on stderr): everything else\n");
}

/* What run() strdup()s from the configuration, freed by main(). */
static char *conf_keep[2];

static int run(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "lockspace", required_argument, NULL, 'l' },
		{ "mailbox", required_argument, NULL, 'm' },
		{ "cur", no_argument, NULL, 'C' },
		{ "config", required_argument, NULL, 'c' },
		{ "flags", required_argument, NULL, 'f' },
		{ "adopt-uidvalidity", no_argument, NULL, 'A' },
		{ "lock-timeout", required_argument, NULL, 't' },
		{ "lock-stale", required_argument, NULL, 'T' },
		{ "ipc-name", required_argument, NULL, 'i' },
		{ "ipc", required_argument, NULL, 'i' },	/* the old spelling */
		{ "uid-source", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = {
		.lockspace = "imap", .uid_source = "sdlm", .flags = "",
		.lock_timeout_ms = 30000,
	};
	struct uidlist ul;
	struct sdlm_conf cf;
	static char g[UIDLIST_GUID_HEX + 1];
	static char ipc_from[PATH_MAX + 64], err[PATH_MAX + 300];
	const char *config = NULL, *ipc = NULL;
	size_t i;
	int c, rc;

	while ((c = getopt_long(argc, argv, "c:l:m:h", lo, NULL)) != -1) {
		switch (c) {
		case 'l': o.lockspace = optarg; break;
		case 'm': o.mailbox = optarg; break;
		case 'C': o.cur = true; break;
		case 'c': config = optarg; break;
		case 'f': o.flags = optarg; break;
		case 'A': o.adopt = true; break;
		case 't': o.lock_timeout_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'T': o.lock_stale_s = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'i': ipc = optarg; break;
		case 's': o.uid_source = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("sdlm-deliver (sdlm) %s\n", PACKAGE_VERSION); return 0;
		default:
			usage(stderr);
			return fail(EXIT_TEMPFAIL, "4.3.5", "bad command line");
		}
	}
	if (optind >= argc || argc - optind > 2) {
		usage(stderr);
		return fail(EXIT_TEMPFAIL, "4.3.5", "bad command line: MAILDIR [FILE|-]");
	}
	o.maildir = argv[optind];
	o.input = optind + 1 < argc ? argv[optind + 1] : NULL;
	/* ipc_name: --ipc-name, else $SDLM_IPC, else sdlm.conf (sdlmd's option
	 * table), else "sdlm".  The strings stay until exit. */
	conf_defaults(&cf);
	rc = conf_client_file(&cf, config, err, sizeof(err));
	if (rc == 0 && ipc)
		rc = conf_set(&cf, OPT_IPC_NAME, ipc, CONF_SRC_CLI, err, sizeof(err));
	if (rc < 0) {
		conf_free(&cf);
		return fail(EXIT_TEMPFAIL, "4.3.5", "configuration: %s", err);
	}
	o.config = conf_keep[0] = strdup(conf_str(&cf, OPT_CONFIG));
	o.ipc = conf_keep[1] = strdup(conf_client_value(&cf, OPT_IPC_NAME, getenv("SDLM_IPC"),
							"SDLM_IPC", ipc_from, sizeof(ipc_from)));
	o.ipc_from = ipc_from;
	conf_free(&cf);
	if (!o.config || !o.ipc)
		return fail(EXIT_TEMPFAIL, "4.3.0", "out of memory");
	if (strcmp(o.uid_source, "sdlm") != 0 && strncmp(o.uid_source, "file:", 5) != 0) {
		usage(stderr);
		return fail(EXIT_TEMPFAIL, "4.3.5", "bad --uid-source %s", o.uid_source);
	}
	for (i = 0; o.flags[i]; i++)
		if (o.flags[i] < 'A' || o.flags[i] > 'z' || o.flags[i] == '/')
			return fail(EXIT_TEMPFAIL, "4.3.5", "bad --flags %s", o.flags);
	if (!o.mailbox) {
		/* Unlocked read: G never changes for a mailbox's life. */
		if (uidlist_read(o.maildir, &ul, NULL) != 0 || !ul.guid[0]) {
			uidlist_free(&ul);
			return fail(EXIT_TEMPFAIL, "4.3.5", "%s: no --mailbox and no mailbox GUID "
				    "in its uidlist: pass -m (the Dovecot mailbox GUID, doveadm "
				    "mailbox status guid)", o.maildir);
		}
		memcpy(g, ul.guid, sizeof(g));
		for (i = 0; g[i]; i++)
			if (g[i] >= 'A' && g[i] <= 'F')
				g[i] = (char)(g[i] - 'A' + 'a');
		o.mailbox = g;
		uidlist_free(&ul);
	}
	return deliver(&o);
}

int main(int argc, char **argv)
{
	int rc = run(argc, argv);

	free(conf_keep[0]);
	free(conf_keep[1]);
	return rc;
}
