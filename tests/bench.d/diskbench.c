/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * diskbench.c - the disk-side yardsticks of docs/performance.md, on the
 * same file system as the cluster's shared disk.  Prints numbers, asserts
 * nothing.
 *
 *   diskbench odirect DIR [--secs S] [--samples FILE]
 *   diskbench dotlock DIR [--secs S] [--samples FILE] [--keep N]
 *
 * odirect: one 512-byte write with O_DIRECT|O_DSYNC per sample (pwrite on
 * a preallocated 1 MiB file, rotating over its 2048 sectors, so no write
 * allocates), the cost of one heartbeat write or one UID watermark write.
 *
 * dotlock: Dovecot's own way of handing out one UID (Maildir, without
 * sdlm), one sample per delivery:
 *
 *	open(dovecot-uidlist.lock, O_CREAT|O_EXCL)   the dotlock
 *	read dovecot-uidlist                         header "3 V.. N<next> ..."
 *	write dovecot-uidlist.tmp                    header with N+1, the
 *	                                             records, one new record
 *	fdatasync(.tmp), rename(.tmp, uidlist)       durable, atomic
 *	unlink(dovecot-uidlist.lock)                 the dotlock goes
 *
 * The list keeps the newest --keep records (default 1000: a mailbox of
 * 1000 messages whose oldest are expunged as new ones arrive), so every
 * sample rewrites the same amount and the rate does not drift with the
 * run's length.  Dovecot writes the new list into the lock file itself and
 * renames that; the I/O (one create, one read, one write, one fdatasync,
 * one rename, one unlink) is the same.
 *
 * Prints:  <mode> ops <n> secs <s> ops_s <r> p50_us <..> p99_us <..> max_us <..>
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "stats.h"

#define SECTOR		512
#define ODIRECT_FILE_SECTORS	2048
#define LIST_MAX	(1 << 20)

/* Prints the summary line, writes the samples if asked.  0 or -errno. */
static int report(struct samples *s, const char *mode, uint64_t ns, const char *path)
{
	samples_report(s, mode, ns, stdout);
	return samples_write(s, path);
}

static int bench_odirect(const char *dir, double secs, const char *out)
{
	struct samples s = { 0 };
	char path[4096];
	void *buf = NULL;
	uint64_t t0, t1, end, i = 0;
	int fd, rc;

	snprintf(path, sizeof(path), "%s/odirect.img", dir);
	fd = open(path, O_RDWR | O_CREAT | O_DIRECT | O_DSYNC, 0600);
	if (fd < 0)
		return -errno;
	rc = posix_fallocate(fd, 0, (off_t)SECTOR * ODIRECT_FILE_SECTORS);
	if (rc) {
		rc = -rc;
		goto out_close_fd;
	}
	rc = posix_memalign(&buf, 4096, SECTOR);
	if (rc) {
		rc = -rc;
		goto out_close_fd;
	}
	/* Write every sector once: later writes overwrite, never allocate. */
	for (i = 0; i < ODIRECT_FILE_SECTORS; i++) {
		memset(buf, (int)i, SECTOR);
		if (pwrite(fd, buf, SECTOR, (off_t)(i * SECTOR)) != SECTOR) {
			rc = -EIO;
			goto out_free_buf;
		}
	}
	t0 = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	for (t1 = t0, i = 0; t1 < end; i++) {
		uint64_t a = t1;

		memcpy(buf, &i, sizeof(i));
		if (pwrite(fd, buf, SECTOR, (off_t)((i % ODIRECT_FILE_SECTORS) * SECTOR)) != SECTOR) {
			rc = -EIO;
			goto out_free_buf;
		}
		t1 = now_ns();
		rc = samples_add(&s, t1 - a);
		if (rc)
			goto out_free_buf;
	}
	rc = report(&s, "odirect", t1 - t0, out);
out_free_buf:
	free(buf);
out_close_fd:
	close(fd);
	unlink(path);
	samples_free(&s);
	return rc;
}

/*
 * One delivery the Dovecot way.  list/len: scratch buffer for the file.
 * Returns 0 or -errno.
 */
static int dotlock_deliver(const char *dir, char *list, unsigned keep)
{
	char lock[4096], tmp[4096], ul[4096], hdr[128];
	unsigned long v = 0, next = 0;
	char *body, *p;
	size_t len = 0, nrec = 0;
	ssize_t r;
	int fd, lfd, rc = 0;

	snprintf(lock, sizeof(lock), "%s/dovecot-uidlist.lock", dir);
	snprintf(tmp, sizeof(tmp), "%s/dovecot-uidlist.tmp", dir);
	snprintf(ul, sizeof(ul), "%s/dovecot-uidlist", dir);
	lfd = open(lock, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (lfd < 0)
		return -errno;
	fd = open(ul, O_RDONLY);
	if (fd < 0) {
		rc = -errno;
		goto out_unlock;
	}
	while (len < LIST_MAX - 1 && (r = read(fd, list + len, LIST_MAX - 1 - len)) > 0)
		len += (size_t)r;
	close(fd);
	list[len] = 0;
	if (sscanf(list, "3 V%lu N%lu", &v, &next) != 2 || !(body = strchr(list, '\n'))) {
		rc = -EBADMSG;
		goto out_unlock;
	}
	body++;
	for (p = body; *p; p++)
		nrec += *p == '\n';
	/* Expunge the oldest records beyond keep - 1, then append one. */
	while (nrec >= keep && (p = strchr(body, '\n'))) {
		body = p + 1;
		nrec--;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out_unlock;
	}
	snprintf(hdr, sizeof(hdr), "3 V%lu N%lu G0123456789abcdef0123456789abcdef\n",
		 v, next + 1);
	if (dprintf(fd, "%s%s%lu :%lu.M%luP1.bench,S=1000,W=1020:2,\n", hdr,
		    body, next, next, next) < 0 || fdatasync(fd) != 0) {
		rc = -errno;
		close(fd);
		goto out_unlock;
	}
	close(fd);
	if (rename(tmp, ul) != 0)
		rc = -errno;
out_unlock:
	close(lfd);
	unlink(lock);
	return rc;
}

static int bench_dotlock(const char *dir, double secs, const char *out, unsigned keep)
{
	struct samples s = { 0 };
	char ul[4096], *list;
	uint64_t t0, t1, end;
	FILE *f;
	int rc = 0;

	list = malloc(LIST_MAX);
	if (!list)
		return -ENOMEM;
	snprintf(ul, sizeof(ul), "%s/dovecot-uidlist", dir);
	f = fopen(ul, "w");
	if (!f) {
		rc = -errno;
		goto out_free;
	}
	fprintf(f, "3 V1700000000 N1 G0123456789abcdef0123456789abcdef\n");
	fclose(f);
	t0 = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	for (t1 = t0; t1 < end;) {
		uint64_t a = t1;

		rc = dotlock_deliver(dir, list, keep);
		if (rc)
			goto out_unlink;
		t1 = now_ns();
		rc = samples_add(&s, t1 - a);
		if (rc)
			goto out_unlink;
	}
	rc = report(&s, "dotlock", t1 - t0, out);
out_unlink:
	unlink(ul);
out_free:
	free(list);
	samples_free(&s);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "secs", required_argument, NULL, 's' },
		{ "samples", required_argument, NULL, 'o' },
		{ "keep", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *mode, *dir;
	double secs = 10;
	unsigned keep = 1000;
	int opt, rc;

	if (argc < 3) {
		fprintf(stderr, "usage: diskbench odirect|dotlock DIR [--secs S] [--samples FILE] [--keep N]\n");
		return 2;
	}
	mode = argv[1];
	dir = argv[2];
	optind = 3;
	while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (opt) {
		case 's': secs = strtod(optarg, NULL); break;
		case 'o': out = optarg; break;
		case 'k': keep = (unsigned)strtoul(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	if (secs <= 0 || keep == 0)
		return 2;
	if (!strcmp(mode, "odirect"))
		rc = bench_odirect(dir, secs, out);
	else if (!strcmp(mode, "dotlock"))
		rc = bench_dotlock(dir, secs, out, keep);
	else
		rc = -EINVAL;
	if (rc)
		fprintf(stderr, "diskbench %s: %s\n", mode, strerror(-rc));
	return rc ? 1 : 0;
}
