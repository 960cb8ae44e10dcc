/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidlist.c - dovecot-uidlist v3: parser, formatter, dotlock and writer.
 *
 * The format and the write rules are in uidlist.h.  The parser walks the
 * buffer line by line and checks, in this order per line: length bound,
 * no NUL, then the grammar, then the cross-line rules (ascending UIDs,
 * no duplicate file names).  The first failure wins and names its line.
 * Duplicate names are found with a small open-addressing hash of the
 * names seen so far (the file may hold millions of records).
 */
#define _GNU_SOURCE
#include "uidlist.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void uidlist_init(struct uidlist *ul)
{
	memset(ul, 0, sizeof(*ul));
}

void uidlist_free(struct uidlist *ul)
{
	size_t i;

	for (i = 0; i < ul->nrecs; i++) {
		free(ul->recs[i].fields);
		free(ul->recs[i].name);
	}
	free(ul->recs);
	free(ul->hdr_extra);
	uidlist_init(ul);
}

static int err_set(struct uidlist_err *err, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int err_set(struct uidlist_err *err, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->line = line;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

int uidlist_name_check(const char *name)
{
	size_t i, len;

	if (!name)
		return -EINVAL;
	len = strlen(name);
	if (len == 0 || len > UIDLIST_NAME_MAX)
		return -EINVAL;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/' || c < 0x20 || c == 0x7f)
			return -EINVAL;
	}
	if (name[0] == ' ' || name[len - 1] == ' ')
		return -EINVAL;
	return 0;
}

/* A field list as kept in a record: space-separated tokens, each an
 * upper-case key letter and a value without spaces, none starting ':'. */
static int fields_check(const char *f)
{
	size_t len = strlen(f);
	size_t i;

	if (len == 0)
		return 0;
	if (len > UIDLIST_LINE_MAX)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)f[i];
		bool tok_start = i == 0 || f[i - 1] == ' ';

		if (c < 0x20 || c == 0x7f)
			return -EINVAL;
		if (c == ' ' && (i + 1 == len || f[i + 1] == ' '))
			return -EINVAL;
		if (tok_start && !(c >= 'A' && c <= 'Z'))
			return -EINVAL;
	}
	return 0;
}

/* Decimal without sign or leading '+', within max. */
static int parse_dec(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 20)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned)(s[i] - '0');
		if (v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int is_hex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

static int extra_add(char **extra, const char *tok, size_t len)
{
	size_t old = *extra ? strlen(*extra) : 0;
	char *n;

	n = realloc(*extra, old + len + 2);
	if (!n)
		return -ENOMEM;
	if (old)
		n[old++] = ' ';
	memcpy(n + old, tok, len);
	n[old + len] = '\0';
	*extra = n;
	return 0;
}

static int parse_header(const char *l, size_t len, struct uidlist *ul,
			struct uidlist_err *err)
{
	bool seen[256] = { false };
	size_t i = 2;
	int rv;

	if (len < 1)
		return err_set(err, 1, "Broken header (empty line)");
	if (l[0] != '3') {
		err_set(err, 1, "Unsupported version %c (only 3 is handled)", l[0]);
		return -EPROTONOSUPPORT;
	}
	if (len < 2 || l[1] != ' ')
		return err_set(err, 1, "Broken header (no fields)");

	while (i < len) {
		size_t s = i, tl;
		uint64_t v;
		unsigned char key;

		while (i < len && l[i] != ' ')
			i++;
		tl = i - s;
		if (tl == 0)
			return err_set(err, 1, "Broken header (empty field at column %zu)", s + 1);
		key = (unsigned char)l[s];
		if (key < 0x21 || key > 0x7e)
			return err_set(err, 1, "Broken header (bad field key)");
		if (seen[key])
			return err_set(err, 1, "Broken header (field %c twice)", key);
		seen[key] = true;
		switch (key) {
		case 'V':
		case 'N':
			if (parse_dec(l + s + 1, tl - 1, UINT32_MAX, &v) || v == 0)
				return err_set(err, 1, "Broken header (bad %c value)", key);
			if (key == 'V')
				ul->uidvalidity = (uint32_t)v;
			else
				ul->next_uid = (uint32_t)v;
			break;
		case 'G':
			if (tl - 1 != UIDLIST_GUID_HEX || !is_hex(l + s + 1, tl - 1))
				return err_set(err, 1, "Broken header (G is not 32 hex digits)");
			memcpy(ul->guid, l + s + 1, UIDLIST_GUID_HEX);
			ul->guid[UIDLIST_GUID_HEX] = '\0';
			break;
		case 'E':
			if (parse_dec(l + s + 1, tl - 1, UINT64_MAX, &v) || v == 0)
				return err_set(err, 1, "Broken header (bad E epoch)");
			ul->epoch = v;
			break;
		default:
			rv = extra_add(&ul->hdr_extra, l + s, tl);
			if (rv)
				return rv;
		}
		if (i < len)
			i++;	/* the separating space */
		if (i == len && l[len - 1] == ' ')
			return err_set(err, 1, "Broken header (trailing space)");
	}
	if (!seen['V'] || !seen['N'])
		return err_set(err, 1, "Broken header (missing %s)", seen['V'] ? "N" : "V");
	return 0;
}

static int recs_grow(struct uidlist *ul)
{
	struct uidlist_rec *n;
	size_t cap;

	if (ul->nrecs < ul->cap)
		return 0;
	cap = ul->cap ? ul->cap * 2 : 16;
	n = realloc(ul->recs, cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	ul->recs = n;
	ul->cap = cap;
	return 0;
}

/* ---- names seen: open addressing on FNV-1a, indices into ul->recs ---- */

struct nameset {
	size_t *slot;		/* record index + 1; 0 = empty */
	size_t mask;
};

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
	return h;
}

/* Insert record idx; 1 if its name is already there, 0 if added. */
static int nameset_add(struct nameset *ns, const struct uidlist *ul, size_t idx,
		       size_t *dup)
{
	size_t i = (size_t)name_hash(ul->recs[idx].name) & ns->mask;

	while (ns->slot[i]) {
		if (strcmp(ul->recs[ns->slot[i] - 1].name, ul->recs[idx].name) == 0) {
			*dup = ns->slot[i] - 1;
			return 1;
		}
		i = (i + 1) & ns->mask;
	}
	ns->slot[i] = idx + 1;
	return 0;
}

static int parse_record(const char *l, size_t len, unsigned lineno,
			struct uidlist *ul, struct uidlist_err *err)
{
	size_t i = 0, fs, fe, ns;
	uint64_t uid;
	struct uidlist_rec *r;
	int rv;

	while (i < len && l[i] >= '0' && l[i] <= '9')
		i++;
	if (i == 0 || parse_dec(l, i, UINT32_MAX, &uid) || uid == 0)
		return err_set(err, lineno, "Invalid UID");
	if (i == len || l[i] != ' ')
		return err_set(err, lineno, "Missing space after UID");
	i++;
	fs = i;
	/* Fields until a token that starts with ':'. */
	while (i < len && l[i] != ':') {
		if (!(l[i] >= 'A' && l[i] <= 'Z'))
			return err_set(err, lineno, "Invalid extension key '%c'",
				       l[i] >= 0x20 && l[i] < 0x7f ? l[i] : '?');
		while (i < len && l[i] != ' ')
			i++;
		if (i == len)
			return err_set(err, lineno, "Missing ':' before the file name");
		i++;
	}
	if (i == len)
		return err_set(err, lineno, "Missing ':' before the file name");
	fe = i > fs ? i - 1 : fs;	/* drop the space before ':' */
	ns = i + 1;
	if (ns == len)
		return err_set(err, lineno, "Empty file name");
	if (len - ns > UIDLIST_NAME_MAX)
		return err_set(err, lineno, "File name too long");

	if (ul->nrecs && uid <= ul->recs[ul->nrecs - 1].uid)
		return err_set(err, lineno, "UIDs not ordered (%" PRIu32 " >= %" PRIu64 ")",
			       ul->recs[ul->nrecs - 1].uid, uid);
	rv = recs_grow(ul);
	if (rv)
		return rv;
	r = &ul->recs[ul->nrecs];
	r->uid = (uint32_t)uid;
	r->fields = strndup(l + fs, fe - fs);
	r->name = strndup(l + ns, len - ns);
	if (!r->fields || !r->name) {
		free(r->fields);
		free(r->name);
		return -ENOMEM;
	}
	if (uidlist_name_check(r->name)) {
		free(r->fields);
		free(r->name);
		return err_set(err, lineno, "Invalid file name");
	}
	ul->nrecs++;
	return 0;
}

int uidlist_parse(const char *buf, size_t len, struct uidlist *ul,
		  struct uidlist_err *err)
{
	struct nameset ns = { NULL, 0 };
	size_t pos = 0, nlines = 0, i, sz;
	unsigned lineno = 0;
	int rv = 0;

	uidlist_init(ul);
	if (err) {
		err->line = 0;
		err->msg[0] = '\0';
	}
	if (!buf)
		return -EINVAL;
	if (len > UIDLIST_FILE_MAX)
		return -EFBIG;
	if (len == 0)
		return err_set(err, 1, "Empty file");
	if (memchr(buf, '\0', len)) {
		const char *z = memchr(buf, '\0', len);

		for (i = 0, lineno = 1; buf + i < z; i++)
			lineno += buf[i] == '\n';
		return err_set(err, lineno, "NUL byte");
	}
	for (i = 0; i < len; i++)
		nlines += buf[i] == '\n';
	for (sz = 16; sz < 2 * nlines; sz <<= 1)
		;
	ns.slot = calloc(sz, sizeof(*ns.slot));
	if (!ns.slot)
		return -ENOMEM;
	ns.mask = sz - 1;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t ll;
		size_t dup;

		lineno++;
		if (!nl) {
			rv = err_set(err, lineno, "No newline at the end (partial write?)");
			goto out_free;
		}
		ll = (size_t)(nl - (buf + pos));
		if (ll > UIDLIST_LINE_MAX) {
			rv = err_set(err, lineno, "Line too long (%zu bytes)", ll);
			goto out_free;
		}
		if (lineno == 1) {
			rv = parse_header(buf + pos, ll, ul, err);
		} else if (ll == 0) {
			rv = err_set(err, lineno, "Empty line");
		} else {
			rv = parse_record(buf + pos, ll, lineno, ul, err);
			if (rv == 0 && nameset_add(&ns, ul, ul->nrecs - 1, &dup))
				rv = err_set(err, lineno, "Duplicate file entry: %s (UIDs %" PRIu32
					     " and %" PRIu32 ")", ul->recs[dup].name,
					     ul->recs[dup].uid, ul->recs[ul->nrecs - 1].uid);
		}
		if (rv)
			goto out_free;
		pos += ll + 1;
	}
	free(ns.slot);
	return 0;

out_free:
	free(ns.slot);
	uidlist_free(ul);
	return rv;
}

uint32_t uidlist_max_uid(const struct uidlist *ul)
{
	return ul->nrecs ? ul->recs[ul->nrecs - 1].uid : 0;
}

uint64_t uidlist_next_uid(const struct uidlist *ul)
{
	uint64_t hi = (uint64_t)uidlist_max_uid(ul) + 1;

	return ul->next_uid > hi ? ul->next_uid : hi;
}

/*
 * -E2BIG if a line would be longer than UIDLIST_LINE_MAX: the parser
 * refuses such a file, so it is never written.  A list that parsed formats
 * to lines no longer than it read, but uidlist_write raises N (a lagging
 * "N1" can become "N4294967295") and uidlist_append takes fields up to the
 * bound on their own.
 */
int uidlist_format(const struct uidlist *ul, char **out, size_t *out_len)
{
	char *buf = NULL;
	size_t sz = 0, i;
	FILE *f;
	int rv = 0;

	if (!ul || !out || ul->uidvalidity == 0 || ul->next_uid == 0)
		return -EINVAL;
	f = open_memstream(&buf, &sz);
	if (!f)
		return -ENOMEM;
	fprintf(f, "3 V%" PRIu32 " N%" PRIu32, ul->uidvalidity, ul->next_uid);
	if (ul->guid[0])
		fprintf(f, " G%s", ul->guid);
	if (ul->epoch)
		fprintf(f, " E%" PRIu64, ul->epoch);
	if (ul->hdr_extra && ul->hdr_extra[0])
		fprintf(f, " %s", ul->hdr_extra);
	fputc('\n', f);
	if (ftell(f) > (long)UIDLIST_LINE_MAX + 1)
		rv = -E2BIG;
	for (i = 0; i < ul->nrecs && !rv; i++) {
		const struct uidlist_rec *r = &ul->recs[i];
		int n;

		if (r->fields && r->fields[0])
			n = fprintf(f, "%" PRIu32 " %s :%s\n", r->uid, r->fields, r->name);
		else
			n = fprintf(f, "%" PRIu32 " :%s\n", r->uid, r->name);
		if (n > UIDLIST_LINE_MAX + 1)
			rv = -E2BIG;
	}
	if (ferror(f) && !rv)
		rv = -ENOMEM;
	if (fclose(f) && !rv)
		rv = -ENOMEM;
	if (rv) {
		free(buf);
		return rv;
	}
	*out = buf;
	if (out_len)
		*out_len = sz;
	return 0;
}

long uidlist_find_name(const struct uidlist *ul, const char *name)
{
	size_t i;

	for (i = 0; i < ul->nrecs; i++)
		if (strcmp(ul->recs[i].name, name) == 0)
			return (long)i;
	return -ENOENT;
}

int uidlist_append(struct uidlist *ul, uint32_t uid, const char *fields,
		   const char *name)
{
	struct uidlist_rec *r;
	int rv;

	if (uid == 0 || uidlist_name_check(name) || strchr(name, ':') ||
	    (fields && fields_check(fields)))
		return -EINVAL;
	if (uid <= uidlist_max_uid(ul))
		return -ERANGE;
	if (uidlist_find_name(ul, name) >= 0)
		return -EEXIST;
	rv = recs_grow(ul);
	if (rv)
		return rv;
	r = &ul->recs[ul->nrecs];
	r->uid = uid;
	r->fields = strdup(fields ? fields : "");
	r->name = strdup(name);
	if (!r->fields || !r->name) {
		free(r->fields);
		free(r->name);
		return -ENOMEM;
	}
	ul->nrecs++;
	return 0;
}

const char *uidlist_rec_guid(const struct uidlist_rec *rec, size_t *len)
{
	const char *f = rec->fields;

	while (f && *f) {
		const char *e = strchr(f, ' ');
		size_t tl = e ? (size_t)(e - f) : strlen(f);

		if (f[0] == 'G' && tl > 1) {
			*len = tl - 1;
			return f + 1;
		}
		f = e ? e + 1 : NULL;
	}
	*len = strlen(rec->name);
	return rec->name;
}

/* ---- files ------------------------------------------------------------ */

static int path_join(char *dst, size_t sz, const char *dir, const char *name)
{
	int n = snprintf(dst, sz, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= sz ? -ENAMETOOLONG : 0;
}

/* Files we create belong to the Maildir's owner (Dovecot runs as the
 * mail user and must be able to rewrite them): matters when run as root. */
static void owner_follow_dir(int fd, const char *dir)
{
	struct stat st;

	if (geteuid() != 0 || stat(dir, &st) != 0)
		return;
	if (fchown(fd, st.st_uid, st.st_gid) != 0)
		return;	/* best effort: Dovecot then reports EACCES itself */
}

int dir_fsync(const char *dir)
{
	int fd, rv = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) != 0)
		rv = -errno;
	close(fd);
	return rv;
}

/*
 * The dotlock, by Dovecot's rules (file-dotlock.c, read for facts):
 *
 * - the holder creates dovecot-uidlist.lock with O_CREAT|O_EXCL and
 *   writes "<pid>:<host>" into it;
 * - a waiter never compares the lock's mtime with its own clock (another
 *   node's, the NFS server's, or a stepped clock may differ by minutes):
 *   it remembers what it saw (device, inode, size, mtime, ctime) and
 *   when, on its own monotonic clock; the lock is stale once it has not
 *   changed for stale_s seconds of that clock.  A live holder refreshes
 *   (touches) it every stale_s / 4, so it never looks unchanged that long;
 * - a lock naming this host and a process that no longer exists is
 *   stale at once (a crashed or killed holder);
 * - before unlinking a stale lock the waiter looks again: if it changed
 *   meanwhile (refreshed, or replaced by a new holder) it is left alone.
 *   The last stat and the unlink are not atomic: a holder therefore also
 *   checks, right before each rename that publishes its work, that the
 *   lock on disk is still its own inode (uidlist_lock_check), and gives
 *   up without writing if not.
 */
struct lock_seen {
	bool valid;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	uint64_t since_ms;	/* monotonic: when we first saw this state */
	uint64_t pid_check_ms;
};

static bool lock_same(const struct lock_seen *s, const struct stat *st)
{
	return s->valid && s->dev == st->st_dev && s->ino == st->st_ino &&
	       s->size == st->st_size && s->mtime.tv_sec == st->st_mtim.tv_sec &&
	       s->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	       s->ctime.tv_sec == st->st_ctim.tv_sec && s->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* Does the lock name a process of this host that is gone? */
static bool lock_owner_dead(const char *path)
{
	char buf[320], host[256] = "", *colon, *end;
	ssize_t n;
	long pid;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;	/* not written yet: judged by time only */
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	colon = strchr(buf, ':');
	if (!colon)
		return false;
	*colon = '\0';
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno || *end || pid <= 0 || pid > INT32_MAX)
		return false;
	gethostname(host, sizeof(host) - 1);
	if (strcmp(colon + 1, host) != 0)
		return false;	/* another host's process: cannot tell */
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

int uidlist_lock(const char *dir, unsigned timeout_ms, unsigned stale_s,
		 struct uidlist_lock *lk)
{
	uint64_t now, deadline = clock_monotonic_ms() + timeout_ms;
	struct lock_seen seen = { .valid = false };
	unsigned pause_us = 1000;
	char host[256] = "";
	char text[320];
	struct stat st;
	int fd, rv, n;

	lk->fd = -1;
	lk->stale_s = stale_s ? stale_s : UIDLIST_LOCK_STALE_S;
	rv = path_join(lk->path, sizeof(lk->path), dir, UIDLIST_LOCK_FILE);
	if (rv)
		return rv;
	for (;;) {
		bool stale = false;

		fd = open(lk->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0)
			break;
		if (errno != EEXIST)
			return -errno;
		now = clock_monotonic_ms();
		if (lstat(lk->path, &st) != 0) {
			if (errno == ENOENT)
				continue;	/* just released: try again */
			return -errno;
		}
		if (!lock_same(&seen, &st)) {
			seen.valid = true;
			seen.dev = st.st_dev;
			seen.ino = st.st_ino;
			seen.size = st.st_size;
			seen.mtime = st.st_mtim;
			seen.ctime = st.st_ctim;
			seen.since_ms = now;
			seen.pid_check_ms = 0;
		}
		if (now - seen.since_ms >= (uint64_t)lk->stale_s * 1000) {
			stale = true;
		} else if (seen.pid_check_ms == 0 || now - seen.pid_check_ms >= 1000) {
			seen.pid_check_ms = now;
			stale = lock_owner_dead(lk->path);
		}
		if (stale) {
			/* Look again right before the unlink: a refresh or a new
			 * holder since our judgement keeps the lock. */
			if (lstat(lk->path, &st) == 0 && lock_same(&seen, &st))
				unlink(lk->path);
			seen.valid = false;
			continue;
		}
		if (now >= deadline)
			return -ETIMEDOUT;
		usleep(pause_us);
		if (pause_us < 20000)
			pause_us *= 2;
	}
	gethostname(host, sizeof(host) - 1);
	n = snprintf(text, sizeof(text), "%d:%s", (int)getpid(), host);
	if (n > 0 && write(fd, text, (size_t)n) != n) {
		rv = errno ? -errno : -EIO;
		goto out_unlink;
	}
	if (fstat(fd, &st) != 0) {
		rv = -errno;
		goto out_unlink;
	}
	owner_follow_dir(fd, dir);
	lk->fd = fd;
	lk->dev = st.st_dev;
	lk->ino = st.st_ino;
	lk->touched_ms = clock_monotonic_ms();
	return 0;

out_unlink:
	unlink(lk->path);
	close(fd);
	return rv;
}

/* Is the lock on disk still the inode we created? */
static int lock_ours(const struct uidlist_lock *lk)
{
	struct stat st;

	if (lk->fd < 0)
		return -EBADF;
	if (lstat(lk->path, &st) != 0)
		return errno == ENOENT ? -ESTALE : -errno;
	if (st.st_dev != lk->dev || st.st_ino != lk->ino)
		return -ESTALE;
	return 0;
}

static int lock_touch(struct uidlist_lock *lk)
{
	if (futimens(lk->fd, NULL) != 0)
		return -errno;
	lk->touched_ms = clock_monotonic_ms();
	return 0;
}

int uidlist_lock_refresh(struct uidlist_lock *lk)
{
	uint64_t every = (uint64_t)lk->stale_s * 1000 / 4;
	int rv = lock_ours(lk);

	if (rv)
		return rv;
	if (clock_monotonic_ms() - lk->touched_ms < every)
		return 0;
	return lock_touch(lk);
}

int uidlist_lock_check(struct uidlist_lock *lk)
{
	int rv = lock_ours(lk);

	return rv ? rv : lock_touch(lk);
}

int uidlist_unlock(struct uidlist_lock *lk)
{
	int rv;

	if (lk->fd < 0)
		return -EBADF;
	rv = lock_ours(lk);
	if (!rv && unlink(lk->path) != 0)
		rv = -errno;
	close(lk->fd);
	lk->fd = -1;
	return rv;
}

int uidlist_read(const char *dir, struct uidlist *ul, struct uidlist_err *err)
{
	char path[4096];
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd, rv;

	uidlist_init(ul);
	rv = path_join(path, sizeof(path), dir, UIDLIST_FILE);
	if (rv)
		return rv;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		rv = -errno;
		goto out_close;
	}
	if ((uint64_t)st.st_size > UIDLIST_FILE_MAX) {
		rv = -EFBIG;
		goto out_close;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rv = -ENOMEM;
		goto out_close;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rv = -errno;
			goto out_free;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	rv = uidlist_parse(buf, got, ul, err);
out_free:
	free(buf);
out_close:
	close(fd);
	return rv;
}

int uidlist_write(const char *dir, const struct uidlist *ul, struct uidlist_lock *lk)
{
	char tmp[4096], path[4096];
	struct uidlist hdr = *ul;
	uint64_t next = uidlist_next_uid(ul);
	char *text = NULL;
	size_t len = 0, off = 0;
	int fd, rv;

	if (next <= UINT32_MAX)
		hdr.next_uid = (uint32_t)next;
	rv = path_join(tmp, sizeof(tmp), dir, UIDLIST_TMP_FILE);
	if (!rv)
		rv = path_join(path, sizeof(path), dir, UIDLIST_FILE);
	if (!rv)
		rv = uidlist_format(&hdr, &text, &len);
	if (rv)
		return rv;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rv = -errno;
		goto out_free;
	}
	owner_follow_dir(fd, dir);
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rv = n < 0 ? -errno : -EIO;
			goto out_unlink;
		}
		off += (size_t)n;
	}
	if (fdatasync(fd) != 0) {
		rv = -errno;
		goto out_unlink;
	}
	if (lk) {
		rv = uidlist_lock_check(lk);
		if (rv)
			goto out_unlink;
	}
	if (rename(tmp, path) != 0) {
		rv = -errno;
		goto out_unlink;
	}
	close(fd);
	free(text);
	return dir_fsync(dir);

out_unlink:
	unlink(tmp);
	close(fd);
out_free:
	free(text);
	return rv;
}
