/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sdlm-maildir-repair - rejoin repair of a Maildir mailbox split in two
 * copies: merge copy B into copy A with dsync's renumbering rule
 * (merge.h), before Dovecot reads either.
 *
 *	sdlm-maildir-repair [--floor N] [--lockspace LS --mailbox MB] [--json] A B
 *	sdlm-maildir-repair --batch [--floor N] [--json] < LIST   (a whole store)
 *	sdlm-maildir-repair --status [--json] A
 *	sdlm-maildir-repair --show [--json] A
 *
 * One run, in crash-safe order (a rerun after a crash at any point
 * completes the same repair; a rerun after success changes nothing):
 *
 *   1. dotlocks of A then B (Dovecot's writers wait on them; both are
 *      refreshed while the run works, and a run whose lock was taken over
 *      stops before writing the uidlist)                   point "locked"
 *   2. read both uidlists, the message files of both (one directory scan
 *      each, sorted: lookups are binary searches) and A/sdlm-repair.log:
 *      the renumberings logged by earlier runs are "prior" (merge.h), and
 *      a "done" line naming B with the same hash (B's uidlist and the
 *      base names of all its message files) means B is already merged
 *   3. merge; floor = max(--floor, sdlm's next UID for the mailbox)
 *   4. append one "renumber" line per moved message to the log, fsync
 *      (the intent: a rerun maps these messages to the same new UIDs)
 *                                                          point "logged"
 *   5. copy every message only B has into A: B/{cur,new}/<file> ->
 *      A/tmp/<file>.sdlm-repair (fsync, mtime kept: it is INTERNALDATE)
 *      -> rename to A/{cur,new}/<file>, fsync the directory; that is the
 *      files the merge took from B's list, and every file of B that B's
 *      uidlist does not list (an MTA wrote it, Dovecot had not scanned
 *      new/ yet, an sdlm-deliver died between its rename and its uidlist
 *      write): Dovecot numbers those above the merged UIDNEXT.  A file
 *      already in A is skipped (an earlier run copied it)  point "copied"
 *   6. write A's uidlist (.tmp, fdatasync, ownership of the dotlock
 *      checked, rename): the only step a reader notices, and it happens
 *      once every file is in place                         point "written"
 *   7. delete A's Dovecot index files (dovecot.index, .index.log*,
 *      .index.cache, and for INBOX the list index): they cache the old
 *      UIDs; Dovecot rebuilds them from the uidlist    point "invalidated"
 *   8. append the "done" line, fsync (point "done"); sdlm_uid_settle
 *      (point "settled"); drop the dotlocks.  sdlm_uid_settle:
 *      next UID raised to the merged N so sdlm never hands out a UID the
 *      repair used, the PROVISIONAL mark cleared (UIDs handed out in
 *      degraded mode, docs/uid.md: the repair it called for is done).
 *      The epoch is not touched: a uidlist's E is written by whoever can
 *      write the mailbox, so it never feeds sdlm's record (a forged
 *      E18446744073709551615 would wrap the next takeover's epoch).
 *      Instead the merged list's E comes from sdlm's own record: with
 *      --lockspace/--mailbox it is max(A's E, the mailbox's epoch in
 *      sdlm, read once the dotlocks are held), never copy B's (B's epochs
 *      were handed out on another disk and mean nothing here: keeping
 *      them would make the next holder look stale)
 *
 * Provisional marks (with --lockspace/--mailbox): the mark's base is the
 * last UID this copy handed out before the split; a UID at or below it
 * that the two copies give to different messages is not a split artifact
 * (a writer without the lock, or copies that were never one) and is
 * reported as such, though repaired the same way.  The repair refuses to
 * start (exit 3, nothing written) while the local sdlmd is in degraded
 * mode: the copy would go on changing under the merge.
 *
 * The log (append-only JSON lines, in A):
 *   {"event":"renumber","time":T,"guid":G,"name":F,"old_uid":O,"new_uid":N,
 *    "side":"A|B|both","reason":"duplicate|below-uidnext|uid-differs","uidvalidity":V}
 *   {"event":"done","time":T,"source":PATH,"source_hash":H,"renumbered":K,"next_uid":N}
 *
 * The points name where SDLM_TEST_HOOK (testhook.h, a test seam) stops or
 * kills the run: tests/dovecot/t-repair.sh kills it at each and checks
 * that a rerun ends in the same uidlist and files as an uninterrupted run.
 *
 * Exit codes: 0 repaired or nothing to do; 1 error; 2 usage; 3 refused
 * (the copies are not one mailbox generation, or a copy is inconsistent:
 * see the message; nothing written).
 */
#define _GNU_SOURCE
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sdlm.h"
#include "access.h"
#include "merge.h"
#include "uidlist.h"
#include "testhook.h"
#include "conf.h"

#define REPAIR_LOG	"sdlm-repair.log"
#define LOG_LINE_MAX	4096
#define EXIT_USAGE	2
#define EXIT_REFUSED	3

struct opts {
	const char *a, *b;
	const char *lockspace, *mailbox;
	const char *ipc, *ipc_from;	/* conf_client_value(), where it came from */
	const char *config;		/* the sdlm.conf read */
	uint32_t floor;
	bool json, status, show, batch;
	bool progress;			/* stderr is a terminal */
	unsigned lock_timeout_ms;
	unsigned lock_stale_s;
};

/* ---- the repair log --------------------------------------------------- */

struct log_entry {
	struct merge_prior p;		/* guid owned (malloc) */
	char *name;
	char side[8];
	long long time;
};

struct repair_log {
	struct log_entry *e;
	size_t n, cap;
	size_t runs;			/* "done" lines */
	size_t after_done;		/* renumber lines after the last done */
	long long last_time;
	char last_source[4096];
	char last_hash[32];
	char **done_keys;		/* "source\thash" of every done line */
	size_t ndone;
};

static void json_str_out(FILE *f, const char *s, size_t len)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Value of "key":"..." in one of our own log lines, unescaped. */
static int json_get_str(const char *line, const char *key, char *out, size_t sz)
{
	char pat[64];
	const char *p;
	size_t j = 0;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = strstr(line, pat);
	if (!p)
		return -ENOENT;
	for (p += strlen(pat); *p && *p != '"'; p++) {
		char c = *p;

		if (c == '\\') {
			p++;
			if (*p == 'u') {
				unsigned v;

				if (sscanf(p + 1, "%4x", &v) != 1)
					return -EBADMSG;
				c = (char)v;
				p += 4;
			} else if (*p) {
				c = *p;
			} else {
				return -EBADMSG;
			}
		}
		if (j + 1 >= sz)
			return -ENAMETOOLONG;
		out[j++] = c;
	}
	if (*p != '"')
		return -EBADMSG;
	out[j] = '\0';
	return 0;
}

static int json_get_u64(const char *line, const char *key, uint64_t *v)
{
	char pat[64];
	const char *p;
	char *end;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(line, pat);
	if (!p)
		return -ENOENT;
	p += strlen(pat);
	if (*p < '0' || *p > '9')
		return -EBADMSG;
	errno = 0;
	*v = strtoull(p, &end, 10);
	return errno ? -errno : 0;
}

static enum merge_reason reason_parse(const char *s)
{
	if (strcmp(s, "duplicate") == 0)
		return MERGE_DUPLICATE;
	if (strcmp(s, "below-uidnext") == 0)
		return MERGE_BELOW_UIDNEXT;
	if (strcmp(s, "uid-differs") == 0)
		return MERGE_UID_DIFFERS;
	return MERGE_KEEP;
}

static void log_free(struct repair_log *lg)
{
	size_t i;

	for (i = 0; i < lg->n; i++) {
		free((char *)lg->e[i].p.guid);
		free(lg->e[i].name);
	}
	for (i = 0; i < lg->ndone; i++)
		free(lg->done_keys[i]);
	free(lg->e);
	free(lg->done_keys);
	memset(lg, 0, sizeof(*lg));
}

static int log_parse_line(struct repair_log *lg, const char *line, unsigned lineno)
{
	char ev[16], buf[LOG_LINE_MAX], reason[32];
	uint64_t o, nw, t = 0;
	struct log_entry *e;

	if (json_get_str(line, "event", ev, sizeof(ev)))
		goto bad;
	json_get_u64(line, "time", &t);
	if (strcmp(ev, "done") == 0) {
		char **k, src[4096], hash[32];

		if (json_get_str(line, "source", src, sizeof(src)) ||
		    json_get_str(line, "source_hash", hash, sizeof(hash)))
			goto bad;
		k = realloc(lg->done_keys, (lg->ndone + 1) * sizeof(*k));
		if (!k)
			return -ENOMEM;
		lg->done_keys = k;
		if (asprintf(&k[lg->ndone], "%s\t%s", src, hash) < 0)
			return -ENOMEM;
		lg->ndone++;
		lg->runs++;
		lg->after_done = 0;
		lg->last_time = (long long)t;
		snprintf(lg->last_source, sizeof(lg->last_source), "%s", src);
		snprintf(lg->last_hash, sizeof(lg->last_hash), "%s", hash);
		return 0;
	}
	if (strcmp(ev, "renumber") != 0)
		goto bad;
	if (json_get_u64(line, "old_uid", &o) || json_get_u64(line, "new_uid", &nw) ||
	    o == 0 || nw == 0 || o > UINT32_MAX || nw > UINT32_MAX ||
	    json_get_str(line, "guid", buf, sizeof(buf)) || !buf[0] ||
	    json_get_str(line, "reason", reason, sizeof(reason)))
		goto bad;
	if (lg->n == lg->cap) {
		size_t cap = lg->cap ? lg->cap * 2 : 16;
		struct log_entry *ne = realloc(lg->e, cap * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		lg->e = ne;
		lg->cap = cap;
	}
	e = &lg->e[lg->n];
	memset(e, 0, sizeof(*e));
	e->p.guid = strdup(buf);
	if (json_get_str(line, "name", buf, sizeof(buf)))
		buf[0] = '\0';
	e->name = strdup(buf);
	if (!e->p.guid || !e->name) {
		free((char *)e->p.guid);
		free(e->name);
		return -ENOMEM;
	}
	if (json_get_str(line, "side", e->side, sizeof(e->side)))
		e->side[0] = '\0';
	e->p.old_uid = (uint32_t)o;
	e->p.new_uid = (uint32_t)nw;
	e->p.reason = reason_parse(reason);
	e->time = (long long)t;
	lg->n++;
	lg->after_done++;
	return 0;
bad:
	fprintf(stderr, "sdlm-maildir-repair: %s line %u: not a repair log line\n",
		REPAIR_LOG, lineno);
	return -EBADMSG;
}

/* A missing log is an empty one; a last line without '\n' is a write cut
 * by a crash (its run did not get further: it is ignored). */
static int log_read(const char *dir, struct repair_log *lg)
{
	char path[4096], line[LOG_LINE_MAX + 2];
	unsigned lineno = 0;
	FILE *f;
	int rv = 0;

	memset(lg, 0, sizeof(*lg));
	snprintf(path, sizeof(path), "%s/%s", dir, REPAIR_LOG);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);

		lineno++;
		if (len == 0 || line[len - 1] != '\n') {
			if (feof(f))
				break;
			fprintf(stderr, "sdlm-maildir-repair: %s line %u: too long\n",
				REPAIR_LOG, lineno);
			rv = -EBADMSG;
			break;
		}
		line[len - 1] = '\0';
		rv = log_parse_line(lg, line, lineno);
		if (rv)
			break;
	}
	fclose(f);
	if (rv)
		log_free(lg);
	return rv;
}

/* The log is appended with O_APPEND; a cut last line (crash) is ended
 * with '\n' first so the next line stays parseable. */
static FILE *log_open_append(const char *dir)
{
	char path[4096];
	struct stat st;
	int fd;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, REPAIR_LOG);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "a");
	if (!f) {
		close(fd);
		return NULL;
	}
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		char last = '\n';
		int rfd = open(path, O_RDONLY | O_CLOEXEC);

		if (rfd >= 0) {
			if (pread(rfd, &last, 1, st.st_size - 1) == 1 && last != '\n')
				fputc('\n', f);
			close(rfd);
		}
	}
	return f;
}

static int log_sync(FILE *f)
{
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		return -errno;
	return 0;
}

/* ---- files ------------------------------------------------------------ */

/*
 * The message files of one Maildir (new/ and cur/), read once and sorted
 * by base name (the file name without ":2,<flags>"), so finding a file
 * costs a binary search, not a directory scan per message.
 */
struct dent {
	char *base;
	char *full;
	char sub[4];		/* "new" or "cur" */
};

struct dir_index {
	struct dent *e;
	size_t n, cap;
};

static void dir_index_free(struct dir_index *ix)
{
	size_t i;

	for (i = 0; i < ix->n; i++) {
		free(ix->e[i].base);
		free(ix->e[i].full);
	}
	free(ix->e);
	memset(ix, 0, sizeof(*ix));
}

static int dent_cmp(const void *x, const void *y)
{
	return strcmp(((const struct dent *)x)->base, ((const struct dent *)y)->base);
}

/* 0, or -errno of a directory that exists but cannot be read. */
static int dir_index_load(const char *maildir, struct dir_index *ix)
{
	static const char *const subs[] = { "new", "cur" };
	size_t i;

	memset(ix, 0, sizeof(*ix));
	for (i = 0; i < 2; i++) {
		char d[4096];
		struct dirent *de;
		DIR *dp;

		snprintf(d, sizeof(d), "%s/%s", maildir, subs[i]);
		dp = opendir(d);
		if (!dp) {
			if (errno == ENOENT)
				continue;
			dir_index_free(ix);
			return -errno;
		}
		while ((de = readdir(dp))) {
			struct dent *e;

			if (de->d_name[0] == '.')
				continue;
			if (ix->n == ix->cap) {
				size_t cap = ix->cap ? ix->cap * 2 : 256;
				struct dent *ne = realloc(ix->e, cap * sizeof(*ne));

				if (!ne) {
					closedir(dp);
					dir_index_free(ix);
					return -ENOMEM;
				}
				ix->e = ne;
				ix->cap = cap;
			}
			e = &ix->e[ix->n];
			e->full = strdup(de->d_name);
			e->base = strndup(de->d_name, strcspn(de->d_name, ":"));
			strcpy(e->sub, subs[i]);
			if (!e->full || !e->base) {
				free(e->full);
				free(e->base);
				closedir(dp);
				dir_index_free(ix);
				return -ENOMEM;
			}
			ix->n++;
		}
		closedir(dp);
	}
	if (ix->n)
		qsort(ix->e, ix->n, sizeof(*ix->e), dent_cmp);
	return 0;
}

static const struct dent *dir_index_find(const struct dir_index *ix, const char *base)
{
	struct dent key = { .base = (char *)base };

	if (!ix->n)
		return NULL;
	return bsearch(&key, ix->e, ix->n, sizeof(*ix->e), dent_cmp);
}

/* The base names a uidlist lists, sorted: "is it listed" in O(log n). */
struct name_set {
	const char **v;
	size_t n;
};

static int str_cmp(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static int name_set_make(const struct uidlist *ul, struct name_set *ns)
{
	size_t i;

	ns->n = ul->nrecs;
	ns->v = malloc((ul->nrecs + 1) * sizeof(*ns->v));
	if (!ns->v)
		return -ENOMEM;
	for (i = 0; i < ul->nrecs; i++)
		ns->v[i] = ul->recs[i].name;
	qsort(ns->v, ns->n, sizeof(*ns->v), str_cmp);
	return 0;
}

static bool name_set_has(const struct name_set *ns, const char *name)
{
	return ns->n && bsearch(&name, ns->v, ns->n, sizeof(*ns->v), str_cmp);
}

static int file_copy_in(const char *a, const char *b, const char *sub, const char *full)
{
	char src[4096], tmp[4096], dst[4096], dd[4096], buf[65536];
	struct timespec times[2];
	struct stat st, ast;
	int in, out, rv = 0;
	ssize_t n;

	snprintf(src, sizeof(src), "%s/%s/%s", b, sub, full);
	snprintf(tmp, sizeof(tmp), "%s/tmp/%s.sdlm-repair", a, full);
	snprintf(dst, sizeof(dst), "%s/%s/%s", a, sub, full);
	snprintf(dd, sizeof(dd), "%s/%s", a, sub);
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	if (fstat(in, &st) != 0) {
		rv = -errno;
		goto out_close_in;
	}
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 0777);
	if (out < 0) {
		rv = -errno;
		goto out_close_in;
	}
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write(out, buf, (size_t)n) != n) {
			rv = errno ? -errno : -EIO;
			goto out_unlink;
		}
	}
	if (geteuid() == 0 && stat(a, &ast) == 0 && fchown(out, ast.st_uid, ast.st_gid) != 0) {
		rv = -errno;
		goto out_unlink;
	}
	times[0] = st.st_atim;
	times[1] = st.st_mtim;	/* INTERNALDATE */
	if (futimens(out, times) != 0 || fsync(out) != 0 || rename(tmp, dst) != 0) {
		rv = -errno;
		goto out_unlink;
	}
	close(out);
	close(in);
	return dir_fsync(dd);

out_unlink:
	close(out);
	unlink(tmp);
out_close_in:
	close(in);
	return rv;
}

/* Dovecot's caches of the mailbox: rebuilt from the uidlist. */
static int index_invalidate(const char *a)
{
	static const char *const files[] = {
		"dovecot.index", "dovecot.index.log", "dovecot.index.log.2",
		"dovecot.index.cache", "dovecot.list.index", "dovecot.list.index.log",
		"dovecot.list.index.log.2",
	};
	char p[4096];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", a, files[i]);
		if (unlink(p) != 0 && errno != ENOENT)
			return -errno;
	}
	return dir_fsync(a);
}

static uint64_t fnv_add(uint64_t h, const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
	return h;
}

/* FNV-1a 64 of B's uidlist as formatted and of the base names of every
 * message file in B (sorted): names B's state in "done", so a file that
 * appears in B later, listed or not, makes the next run merge again. */
static int source_hash(const struct uidlist *b, const struct dir_index *bix,
		       char *out, size_t sz)
{
	uint64_t h = 0xcbf29ce484222325ull;
	char *text = NULL;
	size_t len = 0, i;
	int rv = uidlist_format(b, &text, &len);

	if (rv)
		return rv;
	h = fnv_add(h, text, len);
	free(text);
	for (i = 0; i < bix->n; i++) {
		h = fnv_add(h, "\n", 1);
		h = fnv_add(h, bix->e[i].base, strlen(bix->e[i].base));
	}
	snprintf(out, sz, "%016" PRIx64, h);
	return 0;
}

static const char *side_name(enum merge_side s)
{
	return s == MERGE_SIDE_A ? "A" : s == MERGE_SIDE_B ? "B" : "both";
}

/* ---- the commands ----------------------------------------------------- */

static int read_list(const char *dir, struct uidlist *ul)
{
	struct uidlist_err err;
	int rv = uidlist_read(dir, ul, &err);

	if (rv == -EBADMSG)
		fprintf(stderr, "sdlm-maildir-repair: %s/%s line %u: %s\n", dir,
			UIDLIST_FILE, err.line, err.msg);
	else if (rv)
		fprintf(stderr, "sdlm-maildir-repair: %s/%s: %s\n", dir, UIDLIST_FILE,
			strerror(-rv));
	return rv;
}

/* Is the local sdlmd in degraded mode (on or suspended)? */
static bool sdlm_degraded(sdlm_handle_t *h)
{
	char *text = NULL;
	bool deg;

	if (sdlm_admin_text(h, "degraded", NULL, 1, &text))
		return false;
	deg = !strstr(text, "\"degraded\":\"off\"");
	free(text);
	return deg;
}

static int sdlm_floor(const struct opts *o, sdlm_handle_t **h, uint32_t *floor,
		      struct sdlm_uid_info *info_out)
{
	struct sdlm_uid_info info;
	int rv;

	*h = NULL;
	memset(info_out, 0, sizeof(*info_out));
	if (!o->lockspace)
		return 0;
	rv = sdlm_connect(o->ipc, h);
	if (!rv)
		rv = sdlm_uid_show(*h, o->lockspace, o->mailbox, &info);
	if (rv) {
		fprintf(stderr, "sdlm-maildir-repair: sdlm %s %s (ipc '%s', from %s): %s\n",
			o->lockspace, o->mailbox, o->ipc, o->ipc_from, sdlm_strerror(rv));
		if (rv == -EACCES)	/* not admitted: say which group */
			access_hint(stderr, "sdlm-maildir-repair", o->config, false);
		return rv;
	}
	*info_out = info;
	if (sdlm_degraded(*h)) {
		fprintf(stderr, "sdlm-maildir-repair: %s %s: the local sdlmd is still in degraded mode: "
			"leave it first (sdlmctl degraded disable); refused, nothing written\n",
			o->lockspace, o->mailbox);
		return -EBUSY;
	}
	/* Everything sdlm may have handed out is at or below the watermark. */
	if (info.watermark != UINT32_MAX && info.watermark + 1 > *floor)
		*floor = info.watermark + 1;
	if (info.next > *floor)
		*floor = info.next;
	return 0;
}

/* A long step under the dotlocks: keep both fresh, and stop at once if
 * either was taken over (another writer judged us stale). */
static int locks_refresh(const struct opts *o, struct uidlist_lock *la,
			 struct uidlist_lock *lb)
{
	int rv = uidlist_lock_refresh(la);

	if (rv) {
		fprintf(stderr, "sdlm-maildir-repair: %s/%s: %s: stopped, the uidlist not "
			"written (rerun to complete)\n", o->a, UIDLIST_LOCK_FILE,
			rv == -ESTALE ? "the dotlock was taken over" : strerror(-rv));
		return rv;
	}
	rv = uidlist_lock_refresh(lb);
	if (rv)
		fprintf(stderr, "sdlm-maildir-repair: %s/%s: %s: stopped, the uidlist not "
			"written (rerun to complete)\n", o->b, UIDLIST_LOCK_FILE,
			rv == -ESTALE ? "the dotlock was taken over" : strerror(-rv));
	return rv;
}

static int cmd_merge(const struct opts *o)
{
	struct uidlist a, b;
	struct uidlist_lock la, lb;
	struct repair_log lg;
	struct merge_result r;
	struct merge_prior *prior = NULL;
	struct dir_index aix, bix;
	struct name_set bnames = { 0 }, outnames = { 0 };
	sdlm_handle_t *h = NULL;
	struct sdlm_uid_info info;
	char hash[32], key[4200], real_b[4096];
	uint32_t floor = o->floor;
	size_t i, copied = 0, unlisted = 0, below_base = 0;
	bool prov;
	FILE *lf = NULL;
	int rv, code = 1;

	uidlist_init(&a);
	uidlist_init(&b);
	memset(&aix, 0, sizeof(aix));
	memset(&bix, 0, sizeof(bix));
	if (!realpath(o->b, real_b)) {
		fprintf(stderr, "sdlm-maildir-repair: %s: %s\n", o->b, strerror(errno));
		return 1;
	}
	rv = sdlm_floor(o, &h, &floor, &info);
	if (rv) {
		if (h)
			sdlm_disconnect(h);
		return rv == -EBUSY ? EXIT_REFUSED : 1;
	}
	prov = info.flags & SDLM_UID_F_PROVISIONAL;
	rv = uidlist_lock(o->a, o->lock_timeout_ms, o->lock_stale_s, &la);
	if (rv) {
		fprintf(stderr, "sdlm-maildir-repair: %s: dotlock: %s\n", o->a, strerror(-rv));
		goto out_disconnect;
	}
	rv = uidlist_lock(o->b, o->lock_timeout_ms, o->lock_stale_s, &lb);
	if (rv) {
		fprintf(stderr, "sdlm-maildir-repair: %s: dotlock: %s\n", o->b, strerror(-rv));
		goto out_unlock_a;
	}
	test_hook("locked");
	if (h) {
		/* sdlm's epoch now: every writer that got into A's uidlist
		 * under the dotlock had its epoch durable in the record first,
		 * so this is at least the E of any holder's write. */
		rv = sdlm_uid_show(h, o->lockspace, o->mailbox, &info);
		if (rv) {
			fprintf(stderr, "sdlm-maildir-repair: sdlm %s %s: %s\n", o->lockspace,
				o->mailbox, sdlm_strerror(rv));
			goto out_unlock_b;
		}
	}
	if (read_list(o->b, &b))
		goto out_unlock_b;
	rv = uidlist_read(o->a, &a, NULL);
	if (rv == -ENOENT) {
		/* A is empty: it takes B's identity. */
		uidlist_init(&a);
		a.uidvalidity = b.uidvalidity;
		a.next_uid = 1;
		memcpy(a.guid, b.guid, sizeof(a.guid));
	} else if (rv) {
		uidlist_free(&a);
		if (read_list(o->a, &a))
			goto out_unlock_b;
	}
	rv = dir_index_load(o->b, &bix);
	if (!rv)
		rv = dir_index_load(o->a, &aix);
	if (rv) {
		fprintf(stderr, "sdlm-maildir-repair: reading the message directories: %s\n",
			strerror(-rv));
		goto out_unlock_b;
	}
	if (log_read(o->a, &lg))
		goto out_index;
	if (source_hash(&b, &bix, hash, sizeof(hash)))
		goto out_log;
	snprintf(key, sizeof(key), "%s\t%s", real_b, hash);
	for (i = 0; i < lg.ndone; i++)
		if (strcmp(lg.done_keys[i], key) == 0)
			break;
	if (i < lg.ndone) {
		if (h) {
			/* A run that stopped between its done line and the settle. */
			uint64_t n64 = uidlist_next_uid(&a);
			uint32_t next = n64 > UINT32_MAX ? UINT32_MAX : (uint32_t)n64;

			rv = sdlm_uid_settle(h, o->lockspace, o->mailbox, next, 0);
			if (rv) {
				fprintf(stderr, "sdlm-maildir-repair: sdlm settle to %" PRIu32 ": %s\n",
					next, sdlm_strerror(rv));
				if (rv == -EPERM)	/* settling is admin_group's */
					access_hint(stderr, "sdlm-maildir-repair", NULL, true);
				goto out_log;
			}
		}
		if (o->json) {
			printf("{\"result\":\"already-merged\",\"source\":");
			json_str_out(stdout, real_b, strlen(real_b));
			printf(",\"renumbered\":0}\n");
		} else {
			printf("%s: already merged into %s, nothing to do\n", o->b, o->a);
		}
		code = 0;
		goto out_log;
	}
	prior = calloc(lg.n + 1, sizeof(*prior));
	if (!prior)
		goto out_log;
	for (i = 0; i < lg.n; i++)
		prior[i] = lg.e[i].p;

	rv = merge_uidlists(&a, &b, floor, prior, lg.n, &r);
	if (rv) {
		fprintf(stderr, "sdlm-maildir-repair: %s + %s: %s: refused, nothing written\n",
			o->a, o->b, r.msg[0] ? r.msg : strerror(-rv));
		code = rv == -ENOMEM ? 1 : 3;
		goto out_prior;
	}
	if (name_set_make(&b, &bnames) || name_set_make(&r.out, &outnames))
		goto out_result;
	if (h)
		r.out.epoch = a.epoch > info.epoch ? a.epoch : info.epoch;

	if (prov) {
		for (i = 0; i < r.out.nrecs; i++) {
			uint32_t old = r.items[i].old_uid;

			if (r.items[i].reason != MERGE_KEEP && !r.items[i].logged &&
			    r.items[i].reason != MERGE_BELOW_UIDNEXT && old && old <= info.prov_base)
				below_base++;
		}
		if (below_base)
			fprintf(stderr, "sdlm-maildir-repair: warning: %zu conflicting UID(s) at or below %" PRIu32
				", the last UID handed out before the split: not a split artifact "
				"(a writer without the lock?); repaired all the same\n",
				below_base, info.prov_base);
	}

	/* 4. intent */
	lf = log_open_append(o->a);
	if (!lf) {
		fprintf(stderr, "sdlm-maildir-repair: %s/%s: %s\n", o->a, REPAIR_LOG,
			strerror(errno));
		goto out_result;
	}
	for (i = 0; i < r.out.nrecs; i++) {
		struct merge_prior lp[2];
		size_t k, n = merge_log_entries(&r, i, lp);

		for (k = 0; k < n; k++) {
			fprintf(lf, "{\"event\":\"renumber\",\"time\":%lld,\"guid\":",
				(long long)time(NULL));
			json_str_out(lf, lp[k].guid, lp[k].guid_len);
			fputs(",\"name\":", lf);
			json_str_out(lf, r.out.recs[i].name, strlen(r.out.recs[i].name));
			fprintf(lf, ",\"old_uid\":%" PRIu32 ",\"new_uid\":%" PRIu32
				",\"side\":\"%s\",\"reason\":\"%s\",\"uidvalidity\":%" PRIu32 "}\n",
				lp[k].old_uid, lp[k].new_uid, side_name(r.items[i].side),
				merge_reason_name(lp[k].reason), r.out.uidvalidity);
		}
	}
	if (log_sync(lf)) {
		fprintf(stderr, "sdlm-maildir-repair: %s/%s: write failed\n", o->a, REPAIR_LOG);
		goto out_logfile;
	}
	test_hook("logged");

	/* 5. files of B into A: the ones B lists that the merge took from B,
	 * then every file B has without a record (an MTA's, a new/ Dovecot
	 * has not scanned, a delivery cut between its rename and its uidlist
	 * write): they go to the same subdirectory of A, flags kept, for
	 * Dovecot to number above the merged UIDNEXT.  A file A already has
	 * (an interrupted run copied it) or A's list names is skipped. */
	for (i = 0; i < r.out.nrecs + bix.n; i++) {
		const struct dent *d;
		bool listed = i < r.out.nrecs;

		if (listed) {
			if (r.items[i].side != MERGE_SIDE_B)
				continue;
			d = dir_index_find(&bix, r.out.recs[i].name);
			if (!d)
				continue;	/* expunged in B: listed, Dovecot drops it */
		} else {
			d = &bix.e[i - r.out.nrecs];
			if (name_set_has(&bnames, d->base) || name_set_has(&outnames, d->base))
				continue;
		}
		if (dir_index_find(&aix, d->base))
			continue;	/* already in A (an interrupted run copied it) */
		if (locks_refresh(o, &la, &lb))
			goto out_logfile;
		rv = file_copy_in(o->a, o->b, d->sub, d->full);
		if (rv) {
			fprintf(stderr, "sdlm-maildir-repair: copying %s/%s/%s: %s\n", o->b, d->sub,
				d->full, strerror(-rv));
			goto out_logfile;
		}
		copied++;
		if (!listed)
			unlisted++;
		if (o->progress && copied % 1000 == 0)
			fprintf(stderr, "\r%s: %zu files copied", o->a, copied);
		test_hook("copied");
	}
	if (o->progress && copied >= 1000)
		fprintf(stderr, "\r%s: %zu files copied\n", o->a, copied);
	if (dir_fsync(o->a) == 0) {
		char t[4096];

		snprintf(t, sizeof(t), "%s/tmp", o->a);
		dir_fsync(t);
	}

	/* 6, 7 */
	rv = uidlist_write(o->a, &r.out, &la);
	if (rv == -ESTALE) {
		fprintf(stderr, "sdlm-maildir-repair: %s/%s: the dotlock was taken over: "
			"the uidlist not written (rerun to complete)\n", o->a, UIDLIST_LOCK_FILE);
		goto out_logfile;
	}
	if (!rv) {
		test_hook("written");
		rv = index_invalidate(o->a);
	}
	if (rv) {
		fprintf(stderr, "sdlm-maildir-repair: %s: %s (rerun to complete)\n", o->a,
			strerror(-rv));
		goto out_logfile;
	}
	test_hook("invalidated");

	/* 8 */
	fprintf(lf, "{\"event\":\"done\",\"time\":%lld,\"source\":", (long long)time(NULL));
	json_str_out(lf, real_b, strlen(real_b));
	fprintf(lf, ",\"source_hash\":\"%s\",\"renumbered\":%zu,\"next_uid\":%" PRIu32 "}\n",
		hash, r.renumbered, r.out.next_uid);
	if (log_sync(lf))
		goto out_logfile;
	test_hook("done");
	if (h) {
		rv = sdlm_uid_settle(h, o->lockspace, o->mailbox, r.out.next_uid, 0);
		if (rv) {
			fprintf(stderr, "sdlm-maildir-repair: sdlm settle to %" PRIu32 ": %s (rerun to complete)\n",
				r.out.next_uid, sdlm_strerror(rv));
			if (rv == -EPERM)	/* settling is admin_group's */
				access_hint(stderr, "sdlm-maildir-repair", NULL, true);
			goto out_logfile;
		}
		test_hook("settled");
	}
	if (o->json) {
		printf("{\"result\":\"merged\",\"source\":");
		json_str_out(stdout, real_b, strlen(real_b));
		printf(",\"renumbered\":%zu,\"copied\":%zu,\"unlisted\":%zu,\"messages\":%zu,"
		       "\"uidvalidity\":%" PRIu32 ",\"next_uid\":%" PRIu32 ",\"provisional\":%s,"
		       "\"prov_base\":%" PRIu32 ",\"settled\":%s,\"below_prov_base\":%zu}\n",
		       r.renumbered, copied, unlisted, r.out.nrecs, r.out.uidvalidity,
		       r.out.next_uid, prov ? "true" : "false", info.prov_base,
		       h ? "true" : "false", below_base);
	} else {
		printf("%s: merged %s: %zu messages, %zu renumbered, %zu copied (%zu without a "
		       "record: Dovecot numbers them), UIDVALIDITY %" PRIu32 ", next UID %" PRIu32
		       "\n", o->a, o->b, r.out.nrecs, r.renumbered, copied, unlisted,
		       r.out.uidvalidity, r.out.next_uid);
	}
	code = 0;

out_logfile:
	fclose(lf);
out_result:
	free(bnames.v);
	free(outnames.v);
	merge_result_free(&r);
out_prior:
	free(prior);
out_log:
	log_free(&lg);
out_index:
	dir_index_free(&aix);
	dir_index_free(&bix);
out_unlock_b:
	uidlist_unlock(&lb);
out_unlock_a:
	uidlist_unlock(&la);
out_disconnect:
	if (h)
		sdlm_disconnect(h);
	uidlist_free(&a);
	uidlist_free(&b);
	return code;
}

/*
 * A whole store: one mailbox per line on stdin, fields separated by tabs
 * (paths may hold spaces):  A <TAB> B [<TAB> LOCKSPACE <TAB> MAILBOX].
 * Each is merged as if given on the command line (the same output, one
 * JSON line each with --json), a terminal sees "[k/n]" progress on
 * stderr, a failed mailbox does not stop the others, and the exit code is
 * the worst one met.
 */
static int cmd_batch(const struct opts *base)
{
	char **lines = NULL, *line = NULL;
	size_t n = 0, cap = 0, len = 0, i, failed = 0;
	int worst = 0;
	ssize_t got;

	while ((got = getline(&line, &len, stdin)) > 0) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (n == cap) {
			char **nl = realloc(lines, (cap ? cap * 2 : 64) * sizeof(*nl));

			if (!nl) {
				fprintf(stderr, "sdlm-maildir-repair: out of memory\n");
				return 1;
			}
			lines = nl;
			cap = cap ? cap * 2 : 64;
		}
		lines[n] = strdup(line);
		if (!lines[n++]) {
			fprintf(stderr, "sdlm-maildir-repair: out of memory\n");
			return 1;
		}
	}
	free(line);
	for (i = 0; i < n; i++) {
		struct opts o = *base;
		char *f[4] = { NULL }, *save = NULL, *t;
		int k = 0, rc;

		for (t = strtok_r(lines[i], "\t", &save); t && k < 4; t = strtok_r(NULL, "\t", &save))
			f[k++] = t;
		if ((k != 2 && k != 4) || t) {
			fprintf(stderr, "sdlm-maildir-repair: stdin line %zu: want A<TAB>B"
				"[<TAB>LOCKSPACE<TAB>MAILBOX]\n", i + 1);
			rc = EXIT_USAGE;
		} else {
			o.a = f[0];
			o.b = f[1];
			if (k == 4) {
				o.lockspace = f[2];
				o.mailbox = f[3];
			}
			if (o.progress)
				fprintf(stderr, "[%zu/%zu] %s\n", i + 1, n, o.a);
			fflush(stdout);
			rc = cmd_merge(&o);
		}
		if (rc) {
			failed++;
			if (rc > worst)
				worst = rc;
		}
		free(lines[i]);
	}
	free(lines);
	if (base->json)
		printf("{\"result\":\"batch\",\"mailboxes\":%zu,\"failed\":%zu}\n", n, failed);
	else
		printf("%zu mailboxes, %zu failed\n", n, failed);
	return worst;
}

static int cmd_report(const struct opts *o)
{
	struct repair_log lg;
	size_t i;

	if (log_read(o->a, &lg))
		return 1;
	if (o->status) {
		const char *state = lg.after_done ? "incomplete" : lg.runs ? "repaired" : "none";

		if (o->json) {
			printf("{\"maildir\":");
			json_str_out(stdout, o->a, strlen(o->a));
			printf(",\"state\":\"%s\",\"runs\":%zu,\"renumbered\":%zu,"
			       "\"pending\":%zu,\"last_time\":%lld,\"last_source\":", state,
			       lg.runs, lg.n, lg.after_done, lg.last_time);
			json_str_out(stdout, lg.last_source, strlen(lg.last_source));
			printf("}\n");
		} else {
			printf("%s: %s; %zu runs, %zu renumberings", o->a, state, lg.runs, lg.n);
			if (lg.after_done)
				printf(", %zu from an interrupted run (rerun the merge)",
				       lg.after_done);
			printf("\n");
		}
	} else {
		if (o->json)
			printf("[");
		else
			printf("%-10s %-10s %-6s %-14s %s\n", "OLD_UID", "NEW_UID", "SIDE",
			       "REASON", "GUID");
		for (i = 0; i < lg.n; i++) {
			const struct log_entry *e = &lg.e[i];

			if (o->json) {
				printf("%s{\"guid\":", i ? "," : "");
				json_str_out(stdout, e->p.guid, strlen(e->p.guid));
				printf(",\"name\":");
				json_str_out(stdout, e->name, strlen(e->name));
				printf(",\"old_uid\":%" PRIu32 ",\"new_uid\":%" PRIu32 ",\"side\":\"%s\","
				       "\"reason\":\"%s\",\"time\":%lld}", e->p.old_uid, e->p.new_uid,
				       e->side, merge_reason_name(e->p.reason), e->time);
			} else {
				printf("%-10" PRIu32 " %-10" PRIu32 " %-6s %-14s %s\n", e->p.old_uid,
				       e->p.new_uid, e->side, merge_reason_name(e->p.reason),
				       e->p.guid);
			}
		}
		if (o->json)
			printf("]\n");
	}
	log_free(&lg);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sdlm-maildir-repair [options] A B   merge copy B into copy A\n"
		"       sdlm-maildir-repair --batch [options] < LIST   a whole store: lines\n"
		"                             A<TAB>B[<TAB>LOCKSPACE<TAB>MAILBOX]\n"
		"       sdlm-maildir-repair --status [--json] A\n"
		"       sdlm-maildir-repair --show [--json] A\n"
		"  --floor N             new UIDs start at N or above (sdlm's next UID)\n"
		"  -l, --lockspace LS -m, --mailbox MB   the mailbox in sdlm: floor, epoch, settle\n"
		"  -c, --config FILE     sdlm.conf to read ipc_name from\n"
		"                        (default " SDLM_CONFIG_FILE ")\n"
		"  --ipc-name NAME       sdlmd IPC name (default: $SDLM_IPC, else\n"
		"                        ipc_name in sdlm.conf, else sdlm; --ipc:\n"
		"                        the old spelling)\n"
		"  --lock-timeout MS     dotlock wait (default 30000)\n"
		"  --lock-stale S        a dotlock unchanged this long is stale (default 120)\n"
		"  --json                machine output\n"
		"  -h, --help            this text;  --version  the version\n"
		"exit: 0 ok, 1 error, 2 usage, 3 refused (nothing written)\n");
}

/* What run() strdup()s from the configuration, freed by main(). */
static char *conf_keep[2];

static int run(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "floor", required_argument, NULL, 'F' },
		{ "lockspace", required_argument, NULL, 'l' },
		{ "mailbox", required_argument, NULL, 'm' },
		{ "config", required_argument, NULL, 'c' },
		{ "ipc-name", required_argument, NULL, 'i' },
		{ "ipc", required_argument, NULL, 'i' },	/* the old spelling */
		{ "lock-timeout", required_argument, NULL, 't' },
		{ "lock-stale", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ "status", no_argument, NULL, 's' },
		{ "show", no_argument, NULL, 'S' },
		{ "batch", no_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .lock_timeout_ms = 30000 };
	static char ipc_from[PATH_MAX + 64], err[PATH_MAX + 300];
	const char *config = NULL, *ipc = NULL;
	struct sdlm_conf cf;
	unsigned long v;
	int c, rc;

	while ((c = getopt_long(argc, argv, "c:l:m:h", lo, NULL)) != -1) {
		switch (c) {
		case 'F':
			v = strtoul(optarg, NULL, 10);
			if (v == 0 || v > UINT32_MAX) {
				usage(stderr);
				return EXIT_USAGE;
			}
			o.floor = (uint32_t)v;
			break;
		case 'l': o.lockspace = optarg; break;
		case 'm': o.mailbox = optarg; break;
		case 'c': config = optarg; break;
		case 'i': ipc = optarg; break;
		case 't': o.lock_timeout_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'T': o.lock_stale_s = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'j': o.json = true; break;
		case 's': o.status = true; break;
		case 'S': o.show = true; break;
		case 'B': o.batch = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("sdlm-maildir-repair (sdlm) %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if ((o.lockspace != NULL) != (o.mailbox != NULL)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* ipc_name: --ipc-name, else $SDLM_IPC, else sdlm.conf (sdlmd's option
	 * table), else "sdlm".  The strings stay until exit. */
	conf_defaults(&cf);
	rc = conf_client_file(&cf, config, err, sizeof(err));
	if (rc == 0 && ipc)
		rc = conf_set(&cf, OPT_IPC_NAME, ipc, CONF_SRC_CLI, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "sdlm-maildir-repair: configuration: %s\n", err);
		conf_free(&cf);
		return EXIT_USAGE;
	}
	o.config = conf_keep[0] = strdup(conf_str(&cf, OPT_CONFIG));
	o.ipc = conf_keep[1] = strdup(conf_client_value(&cf, OPT_IPC_NAME, getenv("SDLM_IPC"),
							"SDLM_IPC", ipc_from, sizeof(ipc_from)));
	o.ipc_from = ipc_from;
	conf_free(&cf);
	if (!o.config || !o.ipc) {
		fprintf(stderr, "sdlm-maildir-repair: out of memory\n");
		return 1;
	}
	if (o.status || o.show) {
		if (argc - optind != 1 || (o.status && o.show)) {
			usage(stderr);
			return EXIT_USAGE;
		}
		o.a = argv[optind];
		return cmd_report(&o);
	}
	o.progress = isatty(STDERR_FILENO);
	if (o.batch) {
		if (argc != optind || o.lockspace) {
			usage(stderr);
			return EXIT_USAGE;
		}
		return cmd_batch(&o);
	}
	if (argc - optind != 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	o.a = argv[optind];
	o.b = argv[optind + 1];
	return cmd_merge(&o);
}

int main(int argc, char **argv)
{
	int rc = run(argc, argv);

	free(conf_keep[0]);
	free(conf_keep[1]);
	return rc;
}
