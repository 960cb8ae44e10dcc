/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * watchdog.c - watchdog backends: Linux watchdog device, sdlm-watchdog's
 * FIFO, and "none".  The protocol and the states are in watchdog.h.
 *
 * Opening a device, in order, and why:
 *
 *   open(O_WRONLY)          arms the device with the driver's old timeout
 *   WDIOC_GETSUPPORT        proves it is a watchdog, and that it has magic
 *                           close: without it every close disarms, so a
 *                           crashed sdlmd would leave the node unprotected
 *   WDIOC_SETTIMEOUT        ask for timeout_s (drivers may round or clamp)
 *   WDIOC_GETTIMEOUT        what the driver really took; longer than
 *                           timeout_s breaks the dead-node bound that peers
 *                           compute from the configured value: refuse
 *   write(1 byte)           restart the timer with the new timeout
 *
 * Any refusal after the open disarms with the magic close ('V', close).
 *
 * Feeding is a one-byte write on both backends rather than
 * WDIOC_KEEPALIVE: every driver takes writes (the ioctl needs
 * WDIOF_KEEPALIVEPING) and the FIFO takes nothing else.  The feed byte is
 * never 'V', so no feed can turn a later close into a magic close.
 *
 * The FIFO is opened O_NONBLOCK: the open fails with ENXIO when no
 * sdlm-watchdog is reading, and a feed never stalls sdlmd's main loop.  A
 * write to a FIFO whose reader is gone raises SIGPIPE; a library must not
 * kill its caller for that, so the write runs with SIGPIPE blocked and a
 * SIGPIPE it raised is consumed before the mask is restored.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/watchdog.h>

#include "watchdog.h"

#define WD_FEED_BYTE	'.'
#define WD_MAGIC_BYTE	'V'

struct wd {
	enum wd_kind	wd_kind;
	int		wd_fd;
	unsigned	wd_timeout_s;
};

/* Room for a reason with numbers in it; one per thread, like strerror_r. */
static _Thread_local char wd_why_buf[192];

static const char *why_printf(const char *fmt, unsigned a, unsigned b)
{
	snprintf(wd_why_buf, sizeof(wd_why_buf), fmt, a, b);
	return wd_why_buf;
}

static void why_set(const char **why, const char *text)
{
	if (why)
		*why = text;
}

/*
 * Write one byte without ever raising SIGPIPE in the caller.  Returns 0 or
 * a negative errno (-EPIPE when a FIFO lost its reader).
 */
static int fd_write_byte(int fd, char c)
{
	sigset_t pipe_set, old_set, pending;
	struct timespec zero = { 0, 0 };
	int was_pending, rv;
	ssize_t n;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	if (pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set))
		return -EINVAL;

	/* A SIGPIPE pending from elsewhere is not ours to swallow. */
	was_pending = sigpending(&pending) == 0 &&
		      sigismember(&pending, SIGPIPE) == 1;

	do {
		n = write(fd, &c, 1);
	} while (n < 0 && errno == EINTR);
	rv = n == 1 ? 0 : n < 0 ? -errno : -EIO;

	if (rv == -EPIPE && !was_pending)
		sigtimedwait(&pipe_set, NULL, &zero);

	pthread_sigmask(SIG_SETMASK, &old_set, NULL);
	return rv;
}

/*
 * Best-effort disarm of a device we are giving up on.  A NOWAYOUT driver
 * ignores it and resets the node; nothing more can be done from here.
 */
static void fd_disarm(int fd)
{
	fd_write_byte(fd, WD_MAGIC_BYTE);
	close(fd);
}

/* Returns 0 or a negative errno; on error fd is disarmed and closed. */
static int device_setup(int fd, unsigned timeout_s, unsigned *taken,
			const char **why)
{
	struct watchdog_info info;
	int t, rv;

	memset(&info, 0, sizeof(info));
	if (ioctl(fd, WDIOC_GETSUPPORT, &info) < 0) {
		rv = errno == ENOTTY || errno == EINVAL ? -ENOTSUP : -errno;
		why_set(why, "WDIOC_GETSUPPORT failed: not a watchdog device");
		goto out_disarm;
	}
	if (!(info.options & WDIOF_MAGICCLOSE)) {
		rv = -ENOTSUP;
		why_set(why, "driver has no magic close: every close, even a "
			"crash of sdlmd, would disarm it");
		goto out_disarm;
	}

	/*
	 * A failed SETTIMEOUT is not final: the read-back below decides
	 * whether the timeout in force is acceptable.
	 */
	if (info.options & WDIOF_SETTIMEOUT) {
		t = (int)timeout_s;
		(void)ioctl(fd, WDIOC_SETTIMEOUT, &t);
	}

	t = 0;
	if (ioctl(fd, WDIOC_GETTIMEOUT, &t) < 0) {
		rv = -errno;
		why_set(why, "WDIOC_GETTIMEOUT failed: timeout in force unknown");
		goto out_disarm;
	}
	if (t <= 0 || (unsigned)t > timeout_s) {
		rv = -ERANGE;
		why_set(why, why_printf("driver timeout %u s is longer than the "
					"configured %u s", (unsigned)t,
					timeout_s));
		goto out_disarm;
	}

	rv = fd_write_byte(fd, WD_FEED_BYTE);
	if (rv < 0) {
		why_set(why, "first keepalive write failed");
		goto out_disarm;
	}
	*taken = (unsigned)t;
	return 0;

out_disarm:
	fd_disarm(fd);
	return rv;
}

/* Returns 0 or a negative errno; on error fd is closed. */
static int fifo_setup(int fd, const char **why)
{
	int rv;

	/* The first byte is what arms sdlm-watchdog (it cannot see opens). */
	rv = fd_write_byte(fd, WD_FEED_BYTE);
	if (rv < 0) {
		why_set(why, rv == -EPIPE ?
			"sdlm-watchdog closed the FIFO during open" :
			"first keepalive write to the FIFO failed");
		close(fd);
	}
	return rv;
}

int wd_open(struct wd **out, const char *path, unsigned timeout_s,
	    const char **why)
{
	struct stat st, fst;
	struct wd *w;
	int fd, flags, rv;

	why_set(why, NULL);
	if (!out || !path || timeout_s == 0) {
		why_set(why, "no path, or a zero timeout");
		return -EINVAL;
	}

	w = calloc(1, sizeof(*w));
	if (!w) {
		why_set(why, "out of memory");
		return -ENOMEM;
	}
	w->wd_fd = -1;

	if (strcmp(path, WD_PATH_NONE) == 0) {
		w->wd_kind = WD_KIND_NONE;
		why_set(why, "no watchdog: if sdlmd hangs this node is never "
			"reset, and peers that wait out the dead bound may "
			"take its locks while it still writes");
		*out = w;
		return 0;
	}

	if (stat(path, &st) < 0) {
		rv = -errno;
		why_set(why, "cannot stat the watchdog path");
		goto out_free;
	}
	if (S_ISCHR(st.st_mode)) {
		w->wd_kind = WD_KIND_DEVICE;
		flags = O_WRONLY | O_CLOEXEC;
	} else if (S_ISFIFO(st.st_mode)) {
		w->wd_kind = WD_KIND_FIFO;
		flags = O_WRONLY | O_NONBLOCK | O_CLOEXEC;
	} else {
		rv = -ENOTSUP;
		why_set(why, "watchdog path is neither a character device nor "
			"a FIFO");
		goto out_free;
	}

	fd = open(path, flags);
	if (fd < 0) {
		rv = -errno;
		why_set(why, rv == -ENXIO && w->wd_kind == WD_KIND_FIFO ?
			"FIFO has no reader: sdlm-watchdog is not running" :
			rv == -EBUSY ? "watchdog device is held by another "
			"process" : "cannot open the watchdog");
		goto out_free;
	}

	/* The path may have been replaced between stat and open. */
	if (fstat(fd, &fst) < 0 ||
	    (fst.st_mode & S_IFMT) != (st.st_mode & S_IFMT)) {
		rv = -ENOTSUP;
		why_set(why, "watchdog path changed type while opening");
		if (w->wd_kind == WD_KIND_DEVICE)
			fd_disarm(fd);
		else
			close(fd);
		goto out_free;
	}

	if (w->wd_kind == WD_KIND_DEVICE)
		rv = device_setup(fd, timeout_s, &w->wd_timeout_s, why);
	else {
		rv = fifo_setup(fd, why);
		w->wd_timeout_s = timeout_s;
	}
	if (rv < 0)
		goto out_free;

	w->wd_fd = fd;
	*out = w;
	return 0;

out_free:
	free(w);
	return rv;
}

int wd_feed(struct wd *w)
{
	if (!w)
		return -EINVAL;
	if (w->wd_kind == WD_KIND_NONE)
		return 0;
	return fd_write_byte(w->wd_fd, WD_FEED_BYTE);
}

int wd_close_magic(struct wd *w)
{
	int rv = 0;

	if (!w)
		return -EINVAL;
	if (w->wd_kind != WD_KIND_NONE) {
		rv = fd_write_byte(w->wd_fd, WD_MAGIC_BYTE);
		if (close(w->wd_fd) < 0 && rv == 0)
			rv = -errno;
	}
	free(w);
	return rv;
}

void wd_close_nomagic(struct wd *w)
{
	if (!w)
		return;
	if (w->wd_kind != WD_KIND_NONE)
		close(w->wd_fd);
	free(w);
}

enum wd_kind wd_kind(const struct wd *w)
{
	return w->wd_kind;
}

unsigned wd_timeout_s(const struct wd *w)
{
	return w->wd_timeout_s;
}
