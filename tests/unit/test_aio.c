/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_aio.c - fence/aio.c on a real file with O_DIRECT.
 *
 * The disk file lives in $SDLM_TEST_DIR, else the current directory; it
 * must be on a file system that takes O_DIRECT (ext4, not tmpfs): if it
 * does not, every test fails saying so.  Each test gets a fresh 1 MiB
 * file and context.  Every I/O is 4096 bytes at a 4096-aligned offset,
 * which suits both 512-byte and 4Kn devices.
 *
 * Timing tests use margins of tens to hundreds of ms around the
 * deadlines they check, so a loaded machine slows them without breaking
 * them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "aio.h"
#include "sdlm.h"

#define SECT		4096u
#define FILE_SIZE	(1u << 20)
#define MS		1000000ull

struct fixture {
	char		path[PATH_MAX];
	int		fd;
	struct aio_ctx	*ctx;
};

/* What a callback saw. */
struct done_rec {
	int		calls;
	int		result;
	bool		had_data;
	size_t		len;
	unsigned char	data[SECT];
};

static void done_record(void *arg, int result, const void *data, size_t len)
{
	struct done_rec *d = arg;

	d->calls++;
	d->result = result;
	d->len = len;
	d->had_data = data != NULL;
	if (data && len <= sizeof(d->data))
		memcpy(d->data, data, len);
}

static const char *test_dir(void)
{
	const char *d = getenv("SDLM_TEST_DIR");

	return d && *d ? d : ".";
}

static void fill(unsigned char *buf, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)((i * 31 + seed * 7 + (i >> 8)) & 0xff);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Read what is on the disk, through the page cache, bypassing aio.c. */
static void disk_read(const char *path, uint64_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	uint32_t ss = 12345;
	int fd, rv;

	assert_non_null(fx);
	snprintf(fx->path, sizeof(fx->path), "%s/sdlm-test-aio-%ld.img",
		 test_dir(), (long)getpid());
	fd = open(fx->path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		fail_msg("cannot create %s: %s", fx->path, strerror(errno));
	assert_int_equal(ftruncate(fd, FILE_SIZE), 0);
	close(fd);

	rv = aio_open_dev(fx->path, &fx->fd, &ss);
	if (rv == -EINVAL)
		fail_msg("O_DIRECT refused in %s (tmpfs?): set SDLM_TEST_DIR "
			 "to a directory on ext4/xfs", test_dir());
	assert_int_equal(rv, 0);
	assert_int_equal(ss, 0);	/* regular file: caller decides */

	assert_int_equal(aio_ctx_create(&fx->ctx, 8), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx->ctx)
		aio_ctx_destroy(fx->ctx, 2000);
	close(fx->fd);
	unlink(fx->path);
	free(fx);
	return 0;
}

/* Poll the eventfd and process until d has a callback or timeout_ms passes. */
static void wait_callback(struct aio_ctx *c, struct done_rec *d,
			  unsigned timeout_ms)
{
	struct pollfd pfd = { .fd = aio_ctx_fd(c), .events = POLLIN };
	uint64_t end = aio_now_ns() + timeout_ms * MS;

	while (d->calls == 0 && aio_now_ns() < end) {
		assert_true(poll(&pfd, 1, 50) >= 0);
		assert_true(aio_process(c, aio_now_ns()) >= 0);
	}
}

static void test_async_write_read(void **state)
{
	struct fixture *fx = *state;
	struct pollfd pfd = { .fd = aio_ctx_fd(fx->ctx), .events = POLLIN };
	unsigned char out[SECT], disk[SECT];
	struct done_rec w = { 0 }, r = { 0 };
	uint64_t dl = aio_now_ns() + 5000 * MS;

	fill(out, sizeof(out), (unsigned)getpid());
	assert_int_equal(aio_submit_write(fx->ctx, fx->fd, 2 * SECT, out, SECT,
					  dl, done_record, &w), 0);
	/* Clobbering the caller's buffer after submit must not matter. */
	memset(out + 100, 0, 10);
	assert_int_equal(w.calls, 0);	/* never called back inside submit */
	assert_int_equal(aio_inflight(fx->ctx), 1);

	/* The eventfd is what the daemon's main loop waits on. */
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	wait_callback(fx->ctx, &w, 5000);
	assert_int_equal(w.calls, 1);
	assert_int_equal(w.result, 0);
	assert_false(w.had_data);
	assert_int_equal(aio_inflight(fx->ctx), 0);

	fill(out, sizeof(out), (unsigned)getpid());
	disk_read(fx->path, 2 * SECT, disk, SECT);
	assert_memory_equal(disk, out, SECT);

	assert_int_equal(aio_submit_read(fx->ctx, fx->fd, 2 * SECT, SECT, dl,
					 done_record, &r), 0);
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	wait_callback(fx->ctx, &r, 5000);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.result, 0);
	assert_true(r.had_data);
	assert_int_equal(r.len, SECT);
	assert_memory_equal(r.data, out, SECT);
	assert_int_equal(aio_next_deadline(fx->ctx), UINT64_MAX);
}

static void test_sync_write_read(void **state)
{
	struct fixture *fx = *state;
	unsigned char out[SECT], in[SECT];

	fill(out, sizeof(out), (unsigned)time(NULL));
	memset(in, 0, sizeof(in));
	assert_int_equal(aio_write_sync(fx->ctx, fx->fd, 5 * SECT, out, SECT,
					5000), 0);
	assert_int_equal(aio_read_sync(fx->ctx, fx->fd, 5 * SECT, in, SECT,
				       5000), 0);
	assert_memory_equal(in, out, SECT);
	/* A neighbouring sector is still the file's zeroes. */
	assert_int_equal(aio_read_sync(fx->ctx, fx->fd, 6 * SECT, in, SECT,
				       5000), 0);
	assert_int_equal(in[0], 0);
	assert_int_equal(in[SECT - 1], 0);
	assert_int_equal(aio_inflight(fx->ctx), 0);
}

static void set_fault(struct aio_ctx *c, const char *spec)
{
	struct aio_fault f;

	assert_int_equal(aio_fault_parse(spec, &f), 0);
	aio_fault_set(c, &f);
}

/*
 * Deadline 50 ms, completion held until 400 ms: one SDLM_EIOTIMEOUT, the
 * request stays in flight until 400 ms, then vanishes with no callback.
 */
static void test_stall_timeout_once(void **state)
{
	struct fixture *fx = *state;
	unsigned char out[SECT];
	struct done_rec r = { 0 };
	uint64_t t0, t1, next;

	fill(out, sizeof(out), 3);
	assert_int_equal(aio_write_sync(fx->ctx, fx->fd, 0, out, SECT, 5000), 0);

	set_fault(fx->ctx, "read:stall=400");
	t0 = aio_now_ns();
	assert_int_equal(aio_submit_read(fx->ctx, fx->fd, 0, SECT, t0 + 50 * MS,
					 done_record, &r), 0);
	t1 = aio_now_ns();
	assert_int_equal(aio_next_deadline(fx->ctx), t0 + 50 * MS);

	while (aio_now_ns() < t0 + 250 * MS) {
		assert_true(aio_process(fx->ctx, aio_now_ns()) >= 0);
		sleep_ms(10);
	}
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.result, SDLM_EIOTIMEOUT);
	assert_false(r.had_data);
	assert_int_equal(aio_inflight(fx->ctx), 1);
	/*
	 * The daemon's next timer is the release of the held completion,
	 * 400 ms after the submission (which happened between t0 and t1).
	 */
	next = aio_next_deadline(fx->ctx);
	assert_true(next >= t0 + 400 * MS && next <= t1 + 400 * MS);

	while (aio_now_ns() < t0 + 600 * MS) {
		assert_true(aio_process(fx->ctx, aio_now_ns()) >= 0);
		sleep_ms(10);
	}
	assert_int_equal(r.calls, 1);
	assert_int_equal(aio_inflight(fx->ctx), 0);
	assert_int_equal(aio_next_deadline(fx->ctx), UINT64_MAX);
}

/* A timed-out sync read never writes the caller's buffer, even later. */
static void test_stall_sync_buffer_untouched(void **state)
{
	struct fixture *fx = *state;
	unsigned char out[SECT], in[SECT], aa[SECT];
	uint64_t t0;

	fill(out, sizeof(out), 4);
	assert_int_equal(aio_write_sync(fx->ctx, fx->fd, SECT, out, SECT, 5000),
			 0);
	memset(in, 0xaa, sizeof(in));
	memset(aa, 0xaa, sizeof(aa));

	set_fault(fx->ctx, "all:stall=200");
	t0 = aio_now_ns();
	assert_int_equal(aio_read_sync(fx->ctx, fx->fd, SECT, in, SECT, 30),
			 SDLM_EIOTIMEOUT);
	assert_true(aio_now_ns() - t0 < 200 * MS);
	assert_int_equal(aio_inflight(fx->ctx), 1);

	sleep_ms(300);
	assert_int_equal(aio_process(fx->ctx, aio_now_ns()), 0);
	assert_int_equal(aio_inflight(fx->ctx), 0);
	assert_memory_equal(in, aa, SECT);
}

/* A STALL that ends before the deadline only delays the result. */
static void test_stall_within_deadline(void **state)
{
	struct fixture *fx = *state;
	unsigned char out[SECT], in[SECT];
	uint64_t t0;

	fill(out, sizeof(out), 5);
	assert_int_equal(aio_write_sync(fx->ctx, fx->fd, 3 * SECT, out, SECT,
					5000), 0);
	set_fault(fx->ctx, "read:stall=100");
	t0 = aio_now_ns();
	assert_int_equal(aio_read_sync(fx->ctx, fx->fd, 3 * SECT, in, SECT,
				       5000), 0);
	assert_true(aio_now_ns() - t0 >= 100 * MS);
	assert_memory_equal(in, out, SECT);
}

/*
 * stall=inf holds a write (which reached the disk) until the fault is
 * cleared: the hung path comes back.
 */
static void test_stall_forever_then_clear(void **state)
{
	struct fixture *fx = *state;
	unsigned char out[SECT], disk[SECT];

	fill(out, sizeof(out), 6);
	set_fault(fx->ctx, "all:stall=inf");
	assert_int_equal(aio_write_sync(fx->ctx, fx->fd, 4 * SECT, out, SECT,
					50), SDLM_EIOTIMEOUT);
	sleep_ms(100);
	assert_int_equal(aio_process(fx->ctx, aio_now_ns()), 0);
	assert_int_equal(aio_inflight(fx->ctx), 1);
	assert_int_equal(aio_next_deadline(fx->ctx), UINT64_MAX);

	disk_read(fx->path, 4 * SECT, disk, SECT);
	assert_memory_equal(disk, out, SECT);

	aio_fault_set(fx->ctx, NULL);
	assert_int_equal(aio_next_deadline(fx->ctx), 0);
	assert_int_equal(aio_process(fx->ctx, aio_now_ns()), 0);
	assert_int_equal(aio_inflight(fx->ctx), 0);
}

static void test_error_fault(void **state)
{
	struct fixture *fx = *state;
	unsigned char out[SECT], in[SECT], disk[SECT], zero[SECT];
	struct done_rec d = { 0 };

	fill(out, sizeof(out), 7);
	memset(zero, 0, sizeof(zero));

	set_fault(fx->ctx, "write:error=EIO");
	assert_int_equal(aio_write_sync(fx->ctx, fx->fd, 7 * SECT, out, SECT,
					5000), -EIO);
	/* The injected error never reached the disk. */
	disk_read(fx->path, 7 * SECT, disk, SECT);
	assert_memory_equal(disk, zero, SECT);
	/* Reads are not affected by a write fault. */
	assert_int_equal(aio_read_sync(fx->ctx, fx->fd, 7 * SECT, in, SECT,
				       5000), 0);

	set_fault(fx->ctx, "read:error=ENOSPC");
	assert_int_equal(aio_write_sync(fx->ctx, fx->fd, 7 * SECT, out, SECT,
					5000), 0);
	memset(in, 0x55, sizeof(in));
	assert_int_equal(aio_read_sync(fx->ctx, fx->fd, 7 * SECT, in, SECT,
				       5000), -ENOSPC);
	assert_int_equal(in[0], 0x55);

	/* Async: no callback inside submit, one from aio_process. */
	assert_int_equal(aio_submit_read(fx->ctx, fx->fd, 0, SECT,
					 UINT64_MAX, done_record, &d), 0);
	assert_int_equal(d.calls, 0);
	assert_int_equal(aio_inflight(fx->ctx), 0);
	assert_int_equal(aio_next_deadline(fx->ctx), 0);
	wait_callback(fx->ctx, &d, 1000);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.result, -ENOSPC);
	assert_false(d.had_data);
}

static void test_short_fault(void **state)
{
	struct fixture *fx = *state;
	unsigned char out[SECT], in[SECT];

	fill(out, sizeof(out), 8);
	assert_int_equal(aio_write_sync(fx->ctx, fx->fd, 9 * SECT, out, SECT,
					5000), 0);

	set_fault(fx->ctx, "read:short=256");
	memset(in, 0x11, sizeof(in));
	assert_int_equal(aio_read_sync(fx->ctx, fx->fd, 9 * SECT, in, SECT,
				       5000), SDLM_ESHORTIO);
	assert_int_equal(in[0], 0x11);

	/* short_len covering the whole request changes nothing. */
	set_fault(fx->ctx, "read:short=4096");
	assert_int_equal(aio_read_sync(fx->ctx, fx->fd, 9 * SECT, in, SECT,
				       5000), 0);
	assert_memory_equal(in, out, SECT);

	set_fault(fx->ctx, "write:short=0");
	assert_int_equal(aio_write_sync(fx->ctx, fx->fd, 9 * SECT, out, SECT,
					5000), SDLM_ESHORTIO);
}

static void test_fault_parse(void **state)
{
	struct aio_fault f;
	static const char *const bad[] = {
		"", "   ", "nonE", "bogus", "read", "read:", "read:error",
		"read:error=", "read:error=0", "read:error=EFOO",
		"read:error=4096", "read:error=-5", "both:error=EIO",
		"READ:error=EIO", "read:stall=", "read:stall=-1",
		"read:stall=4294967295", "read:stall=1x", "read:stall=infinity",
		"read:short=4294967296", "read:short=+3", "all:hang=3",
		"all:stall=3 000", "all:stall=3000,write:error=EIO",
		"read:late=5", "all:late=5", "write:late=", "write:late=-1",
		"write:late=4294967295", "write:late=never",
	};
	size_t i;

	(void)state;

	assert_int_equal(aio_fault_parse("none", &f), 0);
	assert_int_equal(f.kind, AIO_FAULT_NONE);

	assert_int_equal(aio_fault_parse("write:error=EIO", &f), 0);
	assert_int_equal(f.kind, AIO_FAULT_ERROR);
	assert_int_equal(f.ops, AIO_FAULT_WRITE);
	assert_int_equal(f.err, EIO);

	assert_int_equal(aio_fault_parse(" read:error=enospc\n", &f), 0);
	assert_int_equal(f.ops, AIO_FAULT_READ);
	assert_int_equal(f.err, ENOSPC);

	assert_int_equal(aio_fault_parse("read:error=61", &f), 0);
	assert_int_equal(f.err, 61);

	assert_int_equal(aio_fault_parse("all:stall=3000", &f), 0);
	assert_int_equal(f.kind, AIO_FAULT_STALL);
	assert_int_equal(f.ops, AIO_FAULT_ALL);
	assert_int_equal(f.stall_ms, 3000);

	assert_int_equal(aio_fault_parse("all:stall=inf", &f), 0);
	assert_int_equal(f.stall_ms, AIO_STALL_FOREVER);

	assert_int_equal(aio_fault_parse("write:late=2500", &f), 0);
	assert_int_equal(f.kind, AIO_FAULT_LATE);
	assert_int_equal(f.ops, AIO_FAULT_WRITE);
	assert_int_equal(f.late_ms, 2500);

	assert_int_equal(aio_fault_parse("write:late=inf", &f), 0);
	assert_int_equal(f.late_ms, AIO_STALL_FOREVER);

	assert_int_equal(aio_fault_parse("read:short=256", &f), 0);
	assert_int_equal(f.kind, AIO_FAULT_SHORT);
	assert_int_equal(f.short_len, 256);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&f, 0x5a, sizeof(f));
		if (aio_fault_parse(bad[i], &f) != -EINVAL)
			fail_msg("spec \"%s\" accepted", bad[i]);
		assert_int_equal(f.kind, 0x5a5a5a5a);	/* left untouched */
	}
	assert_int_equal(aio_fault_parse(NULL, &f), -EINVAL);
}

/* Wait (with a deadline) until the context has nothing in flight. */
static void wait_idle(struct aio_ctx *c, unsigned timeout_ms)
{
	struct pollfd pfd = { .fd = aio_ctx_fd(c), .events = POLLIN };
	uint64_t end = aio_now_ns() + timeout_ms * MS;

	while (aio_inflight(c) && aio_now_ns() < end) {
		assert_true(poll(&pfd, 1, 20) >= 0);
		assert_true(aio_process(c, aio_now_ns()) >= 0);
	}
	assert_int_equal(aio_inflight(c), 0);
}

/*
 * LATE: write B times out (its caller sees SDLM_EIOTIMEOUT) while it is
 * withheld; write C to the same sector, submitted after B, completes;
 * then B lands and the disk holds B's older data over C's.
 */
static void test_late_lands_after_newer(void **state)
{
	struct fixture *fx = *state;
	unsigned char a[SECT], b[SECT], cc[SECT], disk[SECT];
	struct done_rec rb = { 0 };
	uint64_t t0;

	fill(a, SECT, 11);
	fill(b, SECT, 12);
	fill(cc, SECT, 13);
	assert_int_equal(aio_write_sync(fx->ctx, fx->fd, 5 * SECT, a, SECT,
					5000), 0);

	/* A landing time no test run reaches: only aio_land_late lands it. */
	set_fault(fx->ctx, "write:late=4294967294");
	t0 = aio_now_ns();
	assert_int_equal(aio_submit_write(fx->ctx, fx->fd, 5 * SECT, b, SECT,
					  t0 + 50 * MS, done_record, &rb), 0);
	assert_int_equal(aio_process(fx->ctx, t0 + 60 * MS), 1);
	assert_int_equal(rb.calls, 1);
	assert_int_equal(rb.result, SDLM_EIOTIMEOUT);
	assert_int_equal(aio_inflight(fx->ctx), 1);
	disk_read(fx->path, 5 * SECT, disk, SECT);
	assert_memory_equal(disk, a, SECT);	/* not landed yet */

	aio_fault_set(fx->ctx, NULL);		/* B keeps its landing time */
	assert_int_equal(aio_write_sync(fx->ctx, fx->fd, 5 * SECT, cc, SECT,
					5000), 0);
	assert_int_equal(aio_inflight(fx->ctx), 1);
	disk_read(fx->path, 5 * SECT, disk, SECT);
	assert_memory_equal(disk, cc, SECT);
	assert_int_equal(aio_late_landings(fx->ctx), 0);

	assert_int_equal(aio_land_late(fx->ctx), 1);
	wait_idle(fx->ctx, 5000);
	assert_int_equal(rb.calls, 1);		/* its completion is discarded */
	assert_int_equal(aio_late_landings(fx->ctx), 1);
	disk_read(fx->path, 5 * SECT, disk, SECT);
	assert_memory_equal(disk, b, SECT);	/* the old data over the new */
}

/*
 * late=MS lands by itself MS after submission; a landing before the
 * deadline is only a slow write (its result is reported, no late
 * landing); late=inf lands when the fault is cleared.
 */
static void test_late_timed_and_cleared(void **state)
{
	struct fixture *fx = *state;
	unsigned char b[SECT], d[SECT], disk[SECT];
	struct done_rec rb = { 0 }, rd = { 0 }, re = { 0 };
	uint64_t t0, next;

	fill(b, SECT, 21);
	fill(d, SECT, 22);
	set_fault(fx->ctx, "write:late=100");
	t0 = aio_now_ns();
	assert_int_equal(aio_submit_write(fx->ctx, fx->fd, 6 * SECT, b, SECT,
					  t0 + 30 * MS, done_record, &rb), 0);
	next = aio_next_deadline(fx->ctx);
	assert_int_equal(next, t0 + 30 * MS);
	wait_idle(fx->ctx, 5000);
	assert_int_equal(rb.calls, 1);
	assert_int_equal(rb.result, SDLM_EIOTIMEOUT);
	assert_int_equal(aio_late_landings(fx->ctx), 1);
	disk_read(fx->path, 6 * SECT, disk, SECT);
	assert_memory_equal(disk, b, SECT);

	/* Lands within its deadline: an ordinary, slow, write. */
	t0 = aio_now_ns();
	assert_int_equal(aio_submit_write(fx->ctx, fx->fd, 7 * SECT, d, SECT,
					  UINT64_MAX, done_record, &rd), 0);
	wait_callback(fx->ctx, &rd, 5000);
	assert_int_equal(rd.calls, 1);
	assert_int_equal(rd.result, 0);
	assert_true(aio_now_ns() - t0 >= 100 * MS);
	assert_int_equal(aio_late_landings(fx->ctx), 1);

	set_fault(fx->ctx, "write:late=inf");
	t0 = aio_now_ns();
	assert_int_equal(aio_submit_write(fx->ctx, fx->fd, 8 * SECT, b, SECT,
					  t0 + 10 * MS, done_record, &re), 0);
	assert_int_equal(aio_process(fx->ctx, t0 + 20 * MS), 1);
	assert_int_equal(re.result, SDLM_EIOTIMEOUT);
	assert_int_equal(aio_next_deadline(fx->ctx), UINT64_MAX);
	assert_int_equal(aio_inflight(fx->ctx), 1);
	aio_fault_set(fx->ctx, NULL);		/* the path came back */
	assert_int_equal(aio_next_deadline(fx->ctx), 0);
	wait_idle(fx->ctx, 5000);
	assert_int_equal(aio_late_landings(fx->ctx), 2);
	disk_read(fx->path, 8 * SECT, disk, SECT);
	assert_memory_equal(disk, b, SECT);

	/* Reads are never withheld. */
	set_fault(fx->ctx, "write:late=inf");
	assert_int_equal(aio_read_sync(fx->ctx, fx->fd, 8 * SECT, disk, SECT,
				       5000), 0);
	assert_int_equal(aio_inflight(fx->ctx), 0);
}

/* What a gone callback saw: how often, and what was still in flight. */
struct gone_rec {
	struct aio_ctx	*ctx;
	int		calls;
	unsigned	inflight;
};

static void gone_record(void *arg)
{
	struct gone_rec *g = arg;

	g->calls++;
	g->inflight = aio_inflight(g->ctx);
}

/*
 * aio_submit_write_gone: a write that timed out (LATE, withheld) reports
 * leaving the kernel once, after its landing, while another request (a
 * read held by STALL) is still in flight; a write that completes in time
 * never calls gone; nor does one cancelled by destroy.
 */
static void test_write_gone(void **state)
{
	struct fixture *fx = *state;
	unsigned char b[SECT];
	struct done_rec rw = { 0 }, rr = { 0 }, rt = { 0 }, rc = { 0 };
	struct gone_rec gw = { .ctx = fx->ctx }, gt = { .ctx = fx->ctx },
			gc = { .ctx = fx->ctx };
	uint64_t t0;

	fill(b, SECT, 31);
	/* in time: the callback has the result, gone is never called */
	assert_int_equal(aio_submit_write_gone(fx->ctx, fx->fd, 9 * SECT, b, SECT, UINT64_MAX,
					       done_record, &rt, gone_record, &gt), 0);
	wait_callback(fx->ctx, &rt, 5000);
	assert_int_equal(rt.result, 0);
	wait_idle(fx->ctx, 5000);
	assert_int_equal(gt.calls, 0);

	set_fault(fx->ctx, "write:late=inf");
	t0 = aio_now_ns();
	assert_int_equal(aio_submit_write_gone(fx->ctx, fx->fd, 10 * SECT, b, SECT, t0 + 10 * MS,
					       done_record, &rw, gone_record, &gw), 0);
	assert_int_equal(aio_process(fx->ctx, t0 + 20 * MS), 1);
	assert_int_equal(rw.result, SDLM_EIOTIMEOUT);
	assert_int_equal(gw.calls, 0);		/* still withheld */
	/* another request in flight for ever; the withheld write lands */
	set_fault(fx->ctx, "read:stall=inf");
	assert_int_equal(aio_submit_read(fx->ctx, fx->fd, 0, SECT, UINT64_MAX, done_record, &rr),
			 0);
	t0 = aio_now_ns();
	while (!gw.calls && aio_now_ns() - t0 < 5000 * MS) {
		struct pollfd pfd = { .fd = aio_ctx_fd(fx->ctx), .events = POLLIN };

		assert_true(poll(&pfd, 1, 20) >= 0);
		assert_true(aio_process(fx->ctx, aio_now_ns()) >= 0);
	}
	assert_int_equal(gw.calls, 1);
	assert_int_equal(gw.inflight, 1);	/* only the stalled read: freed first */
	assert_int_equal(rw.calls, 1);		/* no second callback */
	assert_int_equal(rr.calls, 0);
	assert_int_equal(aio_inflight(fx->ctx), 1);
	assert_int_equal(aio_late_landings(fx->ctx), 1);

	/* cancelled by destroy: callback once, no gone */
	set_fault(fx->ctx, "write:stall=inf");
	assert_int_equal(aio_submit_write_gone(fx->ctx, fx->fd, 11 * SECT, b, SECT, UINT64_MAX,
					       done_record, &rc, gone_record, &gc), 0);
	assert_int_equal(aio_ctx_destroy(fx->ctx, 50), -EBUSY);
	fx->ctx = NULL;
	assert_int_equal(rc.calls, 1);
	assert_int_equal(gc.calls, 0);
	assert_int_equal(gw.calls, 1);
}

/*
 * Destroy with a write stalled forever: -EBUSY after wait_ms, not before
 * and not much after, and its callback made exactly once (cancelled).
 */
static void test_destroy_busy(void **state)
{
	struct fixture *fx = *state;
	struct aio_ctx *c;
	unsigned char out[SECT];
	struct done_rec a = { 0 }, b = { 0 };
	uint64_t t0, dt;

	fill(out, sizeof(out), 9);
	assert_int_equal(aio_ctx_create(&c, 4), 0);
	set_fault(c, "all:stall=inf");
	t0 = aio_now_ns();
	assert_int_equal(aio_submit_write(c, fx->fd, 0, out, SECT, UINT64_MAX,
					  done_record, &a), 0);
	assert_int_equal(aio_submit_read(c, fx->fd, 0, SECT, t0 + 50 * MS,
					 done_record, &b), 0);
	assert_int_equal(aio_ctx_destroy(c, 200), -EBUSY);
	dt = aio_now_ns() - t0;
	assert_true(dt >= 200 * MS);
	assert_true(dt < 1000 * MS);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.result, SDLM_ECANCELED);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.result, SDLM_EIOTIMEOUT);

	/* With nothing in flight, destroy is immediate and clean. */
	assert_int_equal(aio_ctx_create(&c, 4), 0);
	assert_int_equal(aio_write_sync(c, fx->fd, 0, out, SECT, 5000), 0);
	assert_int_equal(aio_ctx_destroy(c, 0), 0);
	assert_int_equal(aio_ctx_destroy(NULL, 0), 0);
}

static void test_submit_limits(void **state)
{
	struct fixture *fx = *state;
	unsigned char out[SECT];
	struct done_rec d[9];
	unsigned i;

	memset(d, 0, sizeof(d));
	fill(out, sizeof(out), 10);
	assert_int_equal(aio_submit_read(fx->ctx, fx->fd, 100, SECT,
					 UINT64_MAX, done_record, &d[0]),
			 -EINVAL);
	assert_int_equal(aio_submit_read(fx->ctx, fx->fd, 0, 100, UINT64_MAX,
					 done_record, &d[0]), -EINVAL);
	assert_int_equal(aio_submit_read(fx->ctx, fx->fd, 0, 0, UINT64_MAX,
					 done_record, &d[0]), -EINVAL);
	assert_int_equal(aio_submit_read(fx->ctx, fx->fd, 0, SECT, UINT64_MAX,
					 NULL, NULL), -EINVAL);
	assert_int_equal(aio_submit_read(fx->ctx, -1, 0, SECT, UINT64_MAX,
					 done_record, &d[0]), -EBADF);

	/* A hung path fills the table (8 slots) and then refuses more. */
	set_fault(fx->ctx, "all:stall=inf");
	for (i = 0; i < 8; i++)
		assert_int_equal(aio_submit_write(fx->ctx, fx->fd, i * SECT,
						  out, SECT, aio_now_ns(),
						  done_record, &d[i]), 0);
	assert_int_equal(aio_submit_write(fx->ctx, fx->fd, 0, out, SECT,
					  UINT64_MAX, done_record, &d[8]),
			 -EAGAIN);
	assert_int_equal(aio_process(fx->ctx, aio_now_ns()), 8);
	for (i = 0; i < 8; i++)
		assert_int_equal(d[i].result, SDLM_EIOTIMEOUT);

	/* The path comes back: slots drain, submits work again. */
	aio_fault_set(fx->ctx, NULL);
	for (i = 0; i < 100 && aio_inflight(fx->ctx) > 0; i++) {
		assert_int_equal(aio_process(fx->ctx, aio_now_ns()), 0);
		sleep_ms(10);
	}
	assert_int_equal(aio_inflight(fx->ctx), 0);
	assert_int_equal(aio_write_sync(fx->ctx, fx->fd, 0, out, SECT, 5000),
			 0);
	for (i = 0; i < 8; i++)
		assert_int_equal(d[i].calls, 1);
	assert_int_equal(d[8].calls, 0);
}

static void test_open_errors(void **state)
{
	char path[PATH_MAX];
	uint32_t ss;
	int fd = -1;

	(void)state;

	snprintf(path, sizeof(path), "%s/sdlm-test-aio-missing-%ld",
		 test_dir(), (long)getpid());
	assert_int_equal(aio_open_dev(path, &fd, &ss), -ENOENT);
	assert_int_equal(fd, -1);
	/* open(2) refuses a directory for writing before we can look. */
	assert_int_equal(aio_open_dev(test_dir(), &fd, &ss), -EISDIR);
	assert_int_equal(fd, -1);
	assert_int_equal(aio_open_dev(NULL, &fd, &ss), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_async_write_read,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_write_read,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_stall_timeout_once,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_stall_sync_buffer_untouched,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_stall_within_deadline,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_stall_forever_then_clear,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_fault,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_fault,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_lands_after_newer,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_timed_and_cleared,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_gone, setup, teardown),
		cmocka_unit_test(test_fault_parse),
		cmocka_unit_test_setup_teardown(test_destroy_busy,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_submit_limits,
						setup, teardown),
		cmocka_unit_test(test_open_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
