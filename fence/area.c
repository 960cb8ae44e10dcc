/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * area.c - synchronous open/init/read/write of the fencing area.
 *
 * Probing: the header is read with one 4096-byte I/O at offset 0, which is
 * a whole number of sectors for both supported sector sizes; areas are
 * created at least 4096 bytes long for that reason.  An all-zero first
 * sector is reported as SDLM_ENOTINIT ("never initialised") rather than as
 * a bad magic, so an operator can tell an empty LUN from a foreign one.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>

#include "sdlm_errors.h"
#include "aio.h"
#include "area.h"
#include "uidrec.h"

#define PROBE_LEN	4096u
#define AREA_MIN_LEN	(1u << 20)	/* files are created at least 1 MiB */

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i])
			return false;
	return true;
}

static void *sector_alloc(size_t n)
{
	void *p = NULL;

	if (posix_memalign(&p, AIO_BUF_ALIGN, n))
		return NULL;
	memset(p, 0, n);
	return p;
}

static int area_open_dev(struct area *a, const char *path, unsigned io_timeout_ms)
{
	int rc;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	snprintf(a->path, sizeof(a->path), "%s", path);
	a->io_timeout_ms = io_timeout_ms;
	rc = aio_open_dev(path, &a->fd, &a->dev_sector);
	if (rc < 0) {
		const char *what = rc == -EINVAL ?
			"the file system refuses O_DIRECT (tmpfs?)" :
			rc == -ENOTBLK ? "not a regular file or block device" :
			strerror(-rc);
		snprintf(a->why, sizeof(a->why), "%s: cannot open: %s", path, what);
		return rc;
	}
	rc = aio_ctx_create(&a->aio, 8);
	if (rc < 0) {
		snprintf(a->why, sizeof(a->why), "%s: io_setup: %s", path, strerror(-rc));
		close(a->fd);
		a->fd = -1;
	}
	return rc;
}

/* Returns 0 or -errno / SDLM_E*. */
int area_open(struct area **out, const char *path, unsigned io_timeout_ms,
	      char why[AREA_WHY_LEN])
{
	struct area *a = calloc(1, sizeof(*a));
	void *buf = NULL;
	int rc;

	if (!a)
		return -ENOMEM;
	rc = area_open_dev(a, path, io_timeout_ms);
	if (rc < 0)
		goto out_free;
	buf = sector_alloc(PROBE_LEN);
	if (!buf) {
		rc = -ENOMEM;
		goto out_close;
	}
	rc = aio_read_sync(a->aio, a->fd, 0, buf, PROBE_LEN, io_timeout_ms);
	if (rc < 0) {
		snprintf(a->why, sizeof(a->why), "%s: reading the header: %s",
			 path, sdlm_strerror(rc));
		goto out_close;
	}
	if (all_zero(buf, SDLM_RECORD_SIZE)) {
		rc = SDLM_ENOTINIT;
		snprintf(a->why, sizeof(a->why),
			 "%s: no sdlm area (first sector is empty; run 'sdlmctl fence init')", path);
		goto out_close;
	}
	rc = hdr_in(&a->hdr, buf, PROBE_LEN);
	if (rc < 0) {
		snprintf(a->why, sizeof(a->why), "%s: header: %s%s", path,
			 rc == -EUCLEAN ? "insane values under a valid checksum" :
			 sdlm_strerror(rc),
			 rc == SDLM_EMAGIC ? " (not an sdlm area)" : "");
		goto out_close;
	}
	if (a->dev_sector > a->hdr.sector_size) {
		rc = -EINVAL;
		snprintf(a->why, sizeof(a->why),
			 "%s: area sector size %u is below the device's %u",
			 path, a->hdr.sector_size, a->dev_sector);
		goto out_close;
	}
	free(buf);
	*out = a;
	return 0;
out_close:
	free(buf);
	snprintf(why, AREA_WHY_LEN, "%s", a->why);
	area_close(a);
	return rc;
out_free:
	snprintf(why, AREA_WHY_LEN, "%s", a->why);
	free(a);
	return rc;
}

void area_close(struct area *a)
{
	if (!a)
		return;
	if (a->aio)
		aio_ctx_destroy(a->aio, a->io_timeout_ms ? 2 * a->io_timeout_ms : 1000);
	if (a->fd >= 0)
		close(a->fd);
	free(a);
}

/*
 * Zero the UID area: an all-zero sector is UIDREC_ABSENT (never written),
 * while a record left by an earlier area on the same device would fail its
 * identity check and close its slot.  Cheapest first: a hole punched in a
 * regular file (sparse, any size, instant), BLKZEROOUT on a block device
 * (the array may offload it) in chunks of AREA_ZERO_CHUNK so that progress
 * can be told, else plain zero writes of up to 1 MiB from where
 * BLKZEROOUT stopped.  Returns 0 or -errno / SDLM_E*.
 */
#define ZERO_WRITE	(1u << 20)

static int zero_range(struct area *a, uint64_t off, uint64_t len,
		      unsigned io_timeout_ms, area_progress_fn progress, void *arg)
{
	uint64_t done = 0;
	struct stat st;
	void *zero;
	int rc = 0;

	if (fstat(a->fd, &st) < 0)
		return -errno;
	if (progress)
		progress(arg, 0, len);
	if (S_ISREG(st.st_mode) &&
	    fallocate(a->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len) == 0)
		goto done;
	while (S_ISBLK(st.st_mode) && done < len) {
		uint64_t n = len - done < AREA_ZERO_CHUNK ? len - done : AREA_ZERO_CHUNK;
		uint64_t range[2] = { off + done, n };

		if (ioctl(a->fd, BLKZEROOUT, range) < 0)
			break;		/* not supported: write zeros from here */
		done += n;
		if (progress && done < len)
			progress(arg, done, len);
	}
	if (done == len)
		goto done;
	zero = sector_alloc(ZERO_WRITE);
	if (!zero)
		return -ENOMEM;
	while (done < len && rc == 0) {
		size_t n = len - done < ZERO_WRITE ? (size_t)(len - done) : ZERO_WRITE;

		rc = aio_write_sync(a->aio, a->fd, off + done, zero, n, io_timeout_ms);
		done += n;
		if (rc == 0 && progress && done < len)
			progress(arg, done, len);
	}
	free(zero);
	if (rc < 0)
		return rc;
done:
	if (progress)
		progress(arg, len, len);
	return 0;
}

/* Returns 0 (*bytes: the device's or file's size now) or -errno. */
int area_dev_size(struct area *a, uint64_t *bytes)
{
	struct stat st;
	uint64_t have = 0;

	*bytes = 0;
	if (fstat(a->fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		*bytes = (uint64_t)st.st_size;
		return 0;
	}
	if (ioctl(a->fd, BLKGETSIZE64, &have) < 0)
		return -errno;
	*bytes = have;
	return 0;
}

/*
 * The UID area, and the sector pair after it where a grown table's
 * descriptor would go (docs/uid.md, "Growing the table"): a pair left by
 * an earlier area on the device must not read as a table.  The pair is
 * zeroed only where the device has it (a file or LUN sized to the area
 * ends there: a read past the end finds no table either).
 */
static int uid_area_zero(struct area *a, const struct sdlm_header *h,
			 unsigned io_timeout_ms, area_progress_fn progress, void *arg)
{
	uint64_t end = (h->uid_area_start + h->uid_area_sectors) * h->sector_size;
	uint64_t pair = (uint64_t)UIDREC_COPIES * h->sector_size, have;
	int rc;

	if (!h->uid_area_sectors)
		return 0;
	rc = zero_range(a, h->uid_area_start * h->sector_size,
			h->uid_area_sectors * h->sector_size, io_timeout_ms, progress, arg);
	if (rc < 0)
		return rc;
	/* a size that does not read is an error, not a device ending at
	 * the area: the pair would be left as it was (an old descriptor) */
	rc = area_dev_size(a, &have);
	if (rc < 0) {
		snprintf(a->why, sizeof(a->why),
			 "%s: sizing the device (fstat/BLKGETSIZE64) to zero the UID table descriptor pair at sector %llu: %s",
			 a->path, (unsigned long long)(end / h->sector_size), strerror(-rc));
		return rc;
	}
	if (have >= end + pair)
		rc = zero_range(a, end, pair, io_timeout_ms, NULL, NULL);
	return rc;
}

static int area_size_ok(struct area *a, uint64_t need)
{
	struct stat st;
	uint64_t have = 0;

	if (fstat(a->fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size >= need)
			return 0;
		if (ftruncate(a->fd, (off_t)need) < 0) {
			int rc = -errno;
			snprintf(a->why, sizeof(a->why), "%s: cannot extend to %llu bytes: %s",
				 a->path, (unsigned long long)need, strerror(-rc));
			return rc;
		}
		return 0;
	}
	if (ioctl(a->fd, BLKGETSIZE64, &have) < 0)
		return -errno;
	if (have < need) {
		snprintf(a->why, sizeof(a->why),
			 "%s: device has %llu bytes, the area needs %llu", a->path,
			 (unsigned long long)have, (unsigned long long)need);
		return -ENOSPC;
	}
	return 0;
}

/* Returns 0 or -errno / SDLM_E*. */
int area_init(const char *path, const struct sdlm_header *h, bool force,
	      unsigned io_timeout_ms, char why[AREA_WHY_LEN],
	      area_progress_fn progress, void *progress_arg)
{
	struct area *a = calloc(1, sizeof(*a));
	struct sdlm_header old;
	struct stat st;
	uint64_t len, need;
	void *buf = NULL;
	uint32_t i, ss = h->sector_size;
	int rc;

	if (!a)
		return -ENOMEM;
	/* A missing path becomes a file-backed area (tests, demos). */
	if (access(path, F_OK) < 0 && errno == ENOENT) {
		int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);

		if (fd >= 0)
			close(fd);
	}
	rc = area_open_dev(a, path, io_timeout_ms);
	if (rc < 0)
		goto out;
	if (a->dev_sector > ss) {
		rc = -EINVAL;
		snprintf(a->why, sizeof(a->why),
			 "%s: sector size %u is below the device's %u (use --sector-size %u)",
			 path, ss, a->dev_sector, a->dev_sector);
		goto out;
	}
	len = layout_area_len(h);
	need = len < AREA_MIN_LEN ? AREA_MIN_LEN : len;
	buf = sector_alloc(PROBE_LEN > ss ? PROBE_LEN : ss);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	/* Refuse an existing area before touching anything (a refused init
	 * must not even extend the file); a file too short to hold a header
	 * (just created) has none. */
	if (fstat(a->fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size >= (off_t)PROBE_LEN) {
		rc = aio_read_sync(a->aio, a->fd, 0, buf, PROBE_LEN, io_timeout_ms);
		if (rc < 0) {
			snprintf(a->why, sizeof(a->why), "%s: reading sector 0: %s",
				 path, sdlm_strerror(rc));
			goto out;
		}
		if (!force && hdr_in(&old, buf, PROBE_LEN) == 0) {
			rc = -EEXIST;
			snprintf(a->why, sizeof(a->why),
				 "%s: already holds the sdlm area of cluster '%s' (use --force to overwrite)",
				 path, old.cluster_name);
			goto out;
		}
	}
	rc = area_size_ok(a, need);
	if (rc < 0)
		goto out;
	a->hdr = *h;
	/* Slots and UID area first, header last: a crash midway leaves no
	 * valid header over half-written slots. */
	rc = uid_area_zero(a, h, io_timeout_ms, progress, progress_arg);
	if (rc < 0) {
		if (!a->why[0])
			snprintf(a->why, sizeof(a->why), "%s: zeroing the UID area: %s",
				 path, sdlm_strerror(rc));
		goto out;
	}
	for (i = 1; i <= h->num_nodes; i++) {
		struct sdlm_hb hb = { .node_id = i, .state = HB_FREE };
		struct sdlm_msg msg = { .node_id = i, .cmd = MSG_CLEAR };
		uint64_t off;

		layout_hb_offset(h, i, &off);
		rc = hb_out(&hb, h->uuid, buf, ss);
		if (rc == 0)
			rc = aio_write_sync(a->aio, a->fd, off, buf, ss, io_timeout_ms);
		if (rc == 0) {
			layout_msg_offset(h, i, &off);
			rc = msg_out(&msg, h->uuid, buf, ss);
		}
		if (rc == 0)
			rc = aio_write_sync(a->aio, a->fd, off, buf, ss, io_timeout_ms);
		if (rc < 0) {
			snprintf(a->why, sizeof(a->why), "%s: writing slot %u: %s",
				 path, i, sdlm_strerror(rc));
			goto out;
		}
	}
	rc = hdr_out(h, buf, ss);
	if (rc == 0)
		rc = aio_write_sync(a->aio, a->fd, 0, buf, ss, io_timeout_ms);
	if (rc < 0)
		snprintf(a->why, sizeof(a->why), "%s: writing the header: %s",
			 path, sdlm_strerror(rc));
out:
	free(buf);
	snprintf(why, AREA_WHY_LEN, "%s", a->why);
	area_close(a);
	return rc;
}

void area_decode_slots(const struct sdlm_header *h, const void *buf,
		       struct sdlm_hb *hb, int *hb_rc,
		       struct sdlm_msg *msg, int *msg_rc)
{
	const unsigned char *p = buf;
	uint32_t i, ss = h->sector_size, n = h->num_nodes;

	for (i = 1; i <= n; i++) {
		hb_rc[i] = hb_in(&hb[i], p + (size_t)(i - 1) * ss, ss, h->uuid, i);
		msg_rc[i] = msg_in(&msg[i], p + (size_t)(n + i - 1) * ss, ss, h->uuid, i);
	}
}

/* Returns 0 or -errno / SDLM_E*. */
int area_read_slots(struct area *a, struct sdlm_hb *hb, int *hb_rc,
		    struct sdlm_msg *msg, int *msg_rc)
{
	uint64_t len = layout_slots_len(&a->hdr);
	void *buf = sector_alloc(len);
	int rc;

	if (!buf)
		return -ENOMEM;
	rc = aio_read_sync(a->aio, a->fd, layout_slots_offset(&a->hdr), buf,
			   len, a->io_timeout_ms);
	if (rc < 0)
		snprintf(a->why, sizeof(a->why), "%s: reading the slots: %s",
			 a->path, sdlm_strerror(rc));
	else
		area_decode_slots(&a->hdr, buf, hb, hb_rc, msg, msg_rc);
	free(buf);
	return rc;
}

/* Returns 0 or -errno / SDLM_E*. */
int area_write_hb(struct area *a, const struct sdlm_hb *hb)
{
	uint32_t ss = a->hdr.sector_size;
	void *buf = sector_alloc(ss);
	uint64_t off;
	int rc;

	if (!buf)
		return -ENOMEM;
	rc = layout_hb_offset(&a->hdr, hb->node_id, &off);
	if (rc == 0)
		rc = hb_out(hb, a->hdr.uuid, buf, ss);
	if (rc == 0)
		rc = aio_write_sync(a->aio, a->fd, off, buf, ss, a->io_timeout_ms);
	if (rc < 0)
		snprintf(a->why, sizeof(a->why), "%s: writing heartbeat slot %u: %s",
			 a->path, hb->node_id, sdlm_strerror(rc));
	free(buf);
	return rc;
}

/* Returns 0 or -errno / SDLM_E*; -EIO when the read-back differs. */
int area_write_msg(struct area *a, const struct sdlm_msg *msg)
{
	uint32_t ss = a->hdr.sector_size;
	unsigned char *buf = sector_alloc(2 * (size_t)ss);
	uint64_t off;
	int rc;

	if (!buf)
		return -ENOMEM;
	rc = layout_msg_offset(&a->hdr, msg->node_id, &off);
	if (rc == 0)
		rc = msg_out(msg, a->hdr.uuid, buf, ss);
	if (rc == 0)
		rc = aio_write_sync(a->aio, a->fd, off, buf, ss, a->io_timeout_ms);
	if (rc == 0)
		rc = aio_read_sync(a->aio, a->fd, off, buf + ss, ss, a->io_timeout_ms);
	if (rc == 0 && memcmp(buf, buf + ss, ss))
		rc = -EIO;
	if (rc < 0)
		snprintf(a->why, sizeof(a->why), "%s: writing message slot %u: %s%s",
			 a->path, msg->node_id, sdlm_strerror(rc),
			 rc == -EIO ? " (read-back differs)" : "");
	free(buf);
	return rc;
}

/* ---- the chain of UID tables (docs/uid.md, "Growing the table") ---- */

/* Returns 1, 0 or an error; see area.h. */
int area_uid_desc_missing(struct area *a, const struct uidtab_geom *g)
{
	uint64_t off = g->next_desc * a->hdr.sector_size;
	uint64_t pair = (uint64_t)UIDREC_COPIES * a->hdr.sector_size;
	uint64_t have = 0;
	int rc = area_dev_size(a, &have);

	if (rc < 0)
		return rc;
	if (have >= off + pair)
		return 0;
	/* only an area sized to table 0 ends before the pair after it: a
	 * grow writes the pair after its table (zeroed), so after a grown
	 * table, and wherever a part of the pair is there, the device was
	 * cut short: a table may be there */
	if (have <= off && g->ntables == 1)
		return 1;
	return SDLM_ESHORTIO;
}

/* Returns 0 (*found: a table was added to g, or none is there) or an error. */
static int read_next_table(struct area *a, struct uidtab_geom *g, bool *found)
{
	uint32_t ss = a->hdr.sector_size, c;
	uint64_t off = g->next_desc * ss;
	struct uidtab_desc d[UIDREC_COPIES], r;
	int rc, drc[UIDREC_COPIES];
	uint8_t *buf;

	*found = false;
	rc = area_uid_desc_missing(a, g);
	if (rc < 0) {
		snprintf(a->why, sizeof(a->why),
			 "%s: the UID table descriptor at sector %llu is not (all) on the device: %s (a table may be there: the device was cut short, or its size does not read)",
			 a->path, (unsigned long long)g->next_desc, sdlm_strerror(rc));
		return rc;
	}
	if (rc == 1)
		return 0;		/* table 0 ends the device: no table */
	buf = sector_alloc((size_t)UIDREC_COPIES * ss);
	if (!buf)
		return -ENOMEM;
	rc = aio_read_sync(a->aio, a->fd, off, buf, (size_t)UIDREC_COPIES * ss, a->io_timeout_ms);
	if (rc < 0) {
		snprintf(a->why, sizeof(a->why), "%s: reading the UID table descriptor at sector %llu: %s",
			 a->path, (unsigned long long)g->next_desc, sdlm_strerror(rc));
		free(buf);
		return rc;
	}
	for (c = 0; c < UIDREC_COPIES; c++)
		drc[c] = uidtab_desc_in(&d[c], buf + (size_t)c * ss, ss, a->hdr.uuid, g, c);
	free(buf);
	rc = uidtab_desc_resolve(d, drc, &r);
	if (rc == UIDREC_ABSENT)
		return 0;
	if (rc < 0) {
		char why[sizeof(a->why) - 64];

		uidtab_desc_why(why, sizeof(why), g, drc);
		snprintf(a->why, sizeof(a->why), "%s: %s", a->path, why);
		return rc;
	}
	rc = uidtab_geom_add(g, &r);
	if (rc < 0) {
		snprintf(a->why, sizeof(a->why),
			 "%s: the UID table descriptor at sector %llu does not read: %s",
			 a->path, (unsigned long long)g->next_desc, sdlm_strerror(rc));
		return rc;
	}
	*found = true;
	return 0;
}

/* Returns 0 or -errno / SDLM_E*; -ENOTSUP: the area has no UID table. */
int area_uid_tables(struct area *a, struct uidtab_geom *g)
{
	bool found = true;
	int rc;

	if (uidtab_geom_init(g, &a->hdr) < 0) {
		snprintf(a->why, sizeof(a->why), "%s: the area has no UID table", a->path);
		return -ENOTSUP;
	}
	while (found && g->ntables < UIDTAB_MAX_TABLES) {
		rc = read_next_table(a, g, &found);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static bool hdr_same_area(const struct sdlm_header *x, const struct sdlm_header *y)
{
	return x->sector_size == y->sector_size && x->num_nodes == y->num_nodes &&
	       !memcmp(x->uuid, y->uuid, SDLM_UUID_LEN) &&
	       !strcmp(x->cluster_name, y->cluster_name) &&
	       x->create_time == y->create_time && !strcmp(x->create_host, y->create_host) &&
	       x->io_timeout_ms == y->io_timeout_ms && x->hb_interval_ms == y->hb_interval_ms &&
	       x->watchdog_timeout_ms == y->watchdog_timeout_ms &&
	       x->uid_area_start == y->uid_area_start &&
	       x->uid_area_sectors == y->uid_area_sectors;
}

/*
 * Set an incompatible feature in the header (ondisk.h, SDLM_HDR_F_*):
 * the header is read again and must still be the one opened (an area
 * initialised again meanwhile is not touched), then written with the
 * feature (major 2) and read back.  Returns 0 or -errno / SDLM_E*.
 */
static int area_set_feature(struct area *a, uint32_t feature)
{
	uint32_t ss = a->hdr.sector_size;
	struct sdlm_header now;
	uint8_t *buf;
	int rc;

	if ((a->hdr.flags & feature) == feature)
		return 0;		/* read from the disk with it */
	buf = sector_alloc(2 * (size_t)ss);
	if (!buf)
		return -ENOMEM;
	rc = aio_read_sync(a->aio, a->fd, 0, buf, ss, a->io_timeout_ms);
	if (rc < 0) {
		snprintf(a->why, sizeof(a->why), "%s: reading the header again: %s", a->path,
			 sdlm_strerror(rc));
		goto out;
	}
	rc = hdr_in(&now, buf, ss);
	if (rc == 0 && !hdr_same_area(&now, &a->hdr))
		rc = -ESTALE;
	if (rc < 0) {
		snprintf(a->why, sizeof(a->why),
			 "%s: the header is not the one read at open (%s): the area was initialised again or damaged meanwhile; nothing written",
			 a->path, rc == -ESTALE ? "another area" : sdlm_strerror(rc));
		goto out;
	}
	if ((now.flags & feature) == feature)
		goto set;
	now.flags |= feature;
	rc = hdr_out(&now, buf, ss);
	if (rc == 0)
		rc = aio_write_sync(a->aio, a->fd, 0, buf, ss, a->io_timeout_ms);
	if (rc == 0)
		rc = aio_read_sync(a->aio, a->fd, 0, buf + ss, ss, a->io_timeout_ms);
	if (rc == 0 && memcmp(buf, buf + ss, ss))
		rc = -EIO;
	if (rc < 0) {
		snprintf(a->why, sizeof(a->why),
			 "%s: writing the header's incompatible-feature flag: %s%s", a->path,
			 sdlm_strerror(rc), rc == -EIO ? " (read-back differs)" : "");
		goto out;
	}
set:
	a->hdr.major = SDLM_HDR_MAJOR_FEATURES;
	a->hdr.flags = now.flags;
out:
	free(buf);
	return rc;
}

/* Returns 0 or -errno / SDLM_E*; see area.h. */
int area_uid_seglock(struct area *a)
{
	return area_set_feature(a, SDLM_HDR_F_UID_SEGLOCK);
}

/* Returns 0 or -errno / SDLM_E*; see area.h. */
int area_uid_grow(struct area *a, const struct uidtab_geom *g, uint64_t nslots,
		  const char *host, uint64_t now_s, area_progress_fn progress, void *arg)
{
	uint32_t ss = a->hdr.sector_size, c;
	uint64_t from = g->next_desc * ss, need;
	struct uidtab_desc d;
	uint8_t *buf;
	int rc;

	rc = uidtab_geom_next(g, nslots, &d);
	if (rc < 0) {
		snprintf(a->why, sizeof(a->why), "%s: no room for another UID table (%u tables at most)",
			 a->path, UIDTAB_MAX_TABLES);
		return rc;
	}
	d.create_time = now_s;
	snprintf(d.create_host, sizeof(d.create_host), "%s", host ? host : "");
	need = uidtab_geom_bytes_for(g, nslots);
	rc = area_size_ok(a, need);
	if (rc < 0)
		return rc;
	/* the new table, its descriptor pair and the pair after it: zero
	 * BEFORE the descriptor is written (a crash before it leaves no table) */
	rc = zero_range(a, from, need - from, a->io_timeout_ms, progress, arg);
	if (rc < 0) {
		snprintf(a->why, sizeof(a->why), "%s: zeroing the new UID table: %s",
			 a->path, sdlm_strerror(rc));
		goto drain;
	}
	/* the UID_CHAIN feature BEFORE the descriptor: from the moment the
	 * table can be found, no reader that does not follow the chain
	 * uses the area (grow review, hole 1; docs/ondisk.md) */
	rc = area_set_feature(a, SDLM_HDR_F_UID_CHAIN);
	if (rc < 0)
		goto drain;
	buf = sector_alloc(2 * (size_t)ss);
	if (!buf) {
		rc = -ENOMEM;
		goto drain;
	}
	for (c = 0; c < UIDREC_COPIES && rc == 0; c++) {
		d.copy = c;
		rc = uidtab_desc_out(&d, a->hdr.uuid, buf, ss);
		if (rc == 0)
			rc = aio_write_sync(a->aio, a->fd, from + (uint64_t)c * ss, buf, ss,
					    a->io_timeout_ms);
		if (rc == 0)
			rc = aio_read_sync(a->aio, a->fd, from + (uint64_t)c * ss, buf + ss, ss,
					   a->io_timeout_ms);
		if (rc == 0 && memcmp(buf, buf + ss, ss))
			rc = -EIO;
	}
	free(buf);
	if (rc < 0)
		snprintf(a->why, sizeof(a->why), "%s: writing the UID table descriptor: %s%s",
			 a->path, sdlm_strerror(rc), rc == -EIO ? " (read-back differs)" : "");
	/* never return (and so let the caller release the grow lock) while
	 * a write of ours that timed out may still land: a later grow would
	 * zero or write over a table in use (grow review finding 2) */
drain:
	while (aio_inflight(a->aio) > 0) {
		struct timespec ts = { 0, 10 * 1000000L };

		aio_process(a->aio, aio_now_ns());
		nanosleep(&ts, NULL);
	}
	return rc;
}
