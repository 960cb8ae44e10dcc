/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidlist.h - Dovecot's Maildir dovecot-uidlist (version 3): parse, format,
 * and the locked writer.
 *
 * The file (docs/imap.md, Dovecot 2.3 maildir-uidlist.c):
 *
 *	3 V<uidvalidity> N<nextuid> G<guid> [E<epoch>] [<other fields>]
 *	<uid> [<KEY><value> ...] :<base filename>
 *	...
 *
 * - header fields are one letter + value, separated by single spaces, in
 *   any order; V and N are required and non-zero; G is 32 hex digits;
 *   unknown fields are kept by Dovecot across its own rewrites, which is
 *   where sdlm keeps its fencing token: E<epoch> (decimal, the highest
 *   epoch that ever wrote the file).  Other unknown fields are kept
 *   verbatim here too.
 * - records: UIDs non-zero and strictly ascending; the base filename is
 *   written without ":2,<flags>", never contains '/', is never listed
 *   twice.  Fields (S size, W CRLF size, G GUID, ...) are kept verbatim.
 * - next UID = max(N, highest UID + 1): Dovecot appends records without
 *   touching the header, so N may lag behind.
 *
 * Writing (uidlist_write): only while holding the dotlock
 * dovecot-uidlist.lock (uidlist_lock: O_CREAT|O_EXCL, Dovecot's stale
 * rules, refreshed while held, removed only if it is still ours); the whole file is
 * written to dovecot-uidlist.tmp (O_TRUNC), fdatasync'ed, renamed over
 * dovecot-uidlist, and the directory fsync'ed.  A reader sees the old or
 * the new file, never a mix.
 *
 * Parsing is bounded (line length, file size, field count) and never
 * trusts the input: a malformed file is rejected with the 1-based line
 * number and a reason, the same checks Dovecot makes ("UIDs not ordered",
 * "Duplicate file entry", "Broken header").
 *
 * Errors: 0 or a negative errno.  -EBADMSG = malformed (see the error
 * record), -EPROTONOSUPPORT = not version 3, -EFBIG = too large.  Nothing
 * here prints.
 */
#ifndef SDLM_UIDLIST_H
#define SDLM_UIDLIST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define UIDLIST_FILE		"dovecot-uidlist"
#define UIDLIST_LOCK_FILE	"dovecot-uidlist.lock"
#define UIDLIST_TMP_FILE	"dovecot-uidlist.tmp"

#define UIDLIST_LINE_MAX	8192		/* bytes of one line, without '\n' */
#define UIDLIST_NAME_MAX	255		/* base filename (NAME_MAX) */
#define UIDLIST_FILE_MAX	(256u << 20)	/* refuse larger files */
#define UIDLIST_GUID_HEX	32
#define UIDLIST_LOCK_STALE_S	120		/* Dovecot's default */

struct uidlist_rec {
	uint32_t uid;
	char *fields;		/* "W2481 S2400" as read ("" if none), no ':' */
	char *name;		/* base filename */
};

struct uidlist {
	uint32_t uidvalidity;	/* V */
	uint32_t next_uid;	/* N as in the header (may lag, see above) */
	char guid[UIDLIST_GUID_HEX + 1];	/* G, "" if absent */
	uint64_t epoch;		/* E, 0 if absent */
	char *hdr_extra;	/* other header fields verbatim, "" if none */
	struct uidlist_rec *recs;
	size_t nrecs;
	size_t cap;
};

/* Where and why a parse failed. */
struct uidlist_err {
	unsigned line;		/* 1-based; 0 = not tied to a line */
	char msg[128];
};

void uidlist_init(struct uidlist *ul);
void uidlist_free(struct uidlist *ul);

/*
 * Parse len bytes (need not be NUL-terminated).  An empty buffer is
 * malformed (Dovecot writes a header even for an empty mailbox).  On
 * error *ul is left empty and err (may be NULL) says where.
 */
int uidlist_parse(const char *buf, size_t len, struct uidlist *ul,
		  struct uidlist_err *err);

/* The whole file as Dovecot would write it; *out is malloc'ed, NUL-ended.
 * -E2BIG if a line would be longer than the parser accepts (a header near
 * the limit whose N grew): nothing is produced that cannot be read back. */
int uidlist_format(const struct uidlist *ul, char **out, size_t *out_len);

/* max(N, highest UID + 1); 2^32 means the UID space is used up. */
uint64_t uidlist_next_uid(const struct uidlist *ul);

/* Highest UID listed, 0 if none. */
uint32_t uidlist_max_uid(const struct uidlist *ul);

/*
 * Append a record; uid must be above every listed UID (-ERANGE otherwise),
 * name a valid base filename not listed yet (-EINVAL / -EEXIST), fields
 * NULL or a valid field list.  N is not touched (Dovecot's rule); callers
 * that rewrite the file raise it with uidlist_next_uid().
 */
int uidlist_append(struct uidlist *ul, uint32_t uid, const char *fields,
		   const char *name);

/* Index of the record with this base filename, or -ENOENT. */
long uidlist_find_name(const struct uidlist *ul, const char *name);

/*
 * The message GUID of a record: the value of its G field if it has one,
 * else the base filename (Dovecot's Maildir rule).  Points into rec;
 * *len is its length (the G value ends at a space).
 */
const char *uidlist_rec_guid(const struct uidlist_rec *rec, size_t *len);

/* A base filename Dovecot would accept in a record: 1..255 bytes, no '/',
 * no control characters, no space at either end, not "." or "..".
 * (uidlist_append also refuses ':', the Maildir flags separator.)
 * Returns 0 or -EINVAL. */
int uidlist_name_check(const char *name);

/* ---- files (dir = the Maildir of one mailbox) ------------------------ */

struct uidlist_lock {
	int fd;
	dev_t dev;
	ino_t ino;
	unsigned stale_s;
	uint64_t touched_ms;	/* monotonic: our last refresh */
	char path[4096];
};

/*
 * Take dir/dovecot-uidlist.lock, waiting up to timeout_ms.  Dovecot's
 * stale rules (uidlist.c explains them): a lock is broken when it has not
 * changed for stale_s seconds of *our* monotonic clock since we first saw
 * it (0 = UIDLIST_LOCK_STALE_S, Dovecot's default), or at once when it
 * names a process of this host that no longer exists; never because of
 * its mtime against our clock.  Returns 0 or -ETIMEDOUT / -errno.
 */
int uidlist_lock(const char *dir, unsigned timeout_ms, unsigned stale_s,
		 struct uidlist_lock *lk);

/*
 * While holding: -ESTALE if the lock on disk is no longer ours (it was
 * judged stale and taken over: the caller must write nothing more), else
 * touch it when stale_s / 4 has passed since the last touch, so waiters
 * see a live holder.  Call it in every long loop under the lock.
 */
int uidlist_lock_refresh(struct uidlist_lock *lk);

/* Ownership check and touch now: right before a rename that publishes
 * work done under the lock.  0 or -ESTALE / -errno. */
int uidlist_lock_check(struct uidlist_lock *lk);

/*
 * Remove the lock if it is still ours (same inode); -ESTALE if someone
 * replaced it meanwhile (our hold was judged stale: the caller's write
 * may have raced another writer and must be reported).
 */
int uidlist_unlock(struct uidlist_lock *lk);

/* Read and parse dir/dovecot-uidlist; -ENOENT if there is none. */
int uidlist_read(const char *dir, struct uidlist *ul, struct uidlist_err *err);

/*
 * Replace dir/dovecot-uidlist by ul (.tmp, fdatasync, rename, fsync of
 * dir).  The caller holds the lock; with lk non-NULL its ownership is
 * checked right before the rename (-ESTALE: nothing replaced).  The header N written is
 * uidlist_next_uid(ul), so it never lowers what a reader saw.  -E2BIG
 * (uidlist_format) before anything is written: the file stays as it was.
 */
int uidlist_write(const char *dir, const struct uidlist *ul, struct uidlist_lock *lk);

/* fsync a directory (after rename/link/unlink in it). */
int dir_fsync(const char *dir);

#endif /* SDLM_UIDLIST_H */
