/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * watchdog.h - the watchdog that resets this node when sdlmd stops feeding.
 *
 * Three backends behind one handle, chosen by what the path names:
 *
 *   char device   Linux /dev/watchdog (or /dev/watchdogN).  Opening arms
 *                 it.  wd_open sets the timeout with WDIOC_SETTIMEOUT and
 *                 reads back what the driver took with WDIOC_GETTIMEOUT.
 *   FIFO          the test watchdog, sdlm-watchdog(8), reading a named
 *                 pipe.  Same byte protocol, no ioctls: its timeout is its
 *                 own --timeout, which the caller must start equal to the
 *                 configured one (nothing on a pipe can check it).
 *   "none"        a no-op handle.  The caller allows it only on an explicit
 *                 option (no_watchdog=yes) and logs that the node is
 *                 unprotected; this file does not decide that.
 *
 * Byte protocol, the same on both real backends:
 *
 *   open ──► ARMED ──(any byte written)──► ARMED, timer restarted
 *              │
 *              ├── 'V' written, then close ──► DISARMED   (wd_close_magic)
 *              ├── close without 'V'      ──► stays ARMED (wd_close_nomagic,
 *              │                                or sdlmd dying)
 *              └── timer runs out         ──► node reset
 *
 * A driver that disarms on every close (no WDIOF_MAGICCLOSE) is refused:
 * with it, sdlmd crashing would silently disarm the node's watchdog.
 *
 * The FIFO backend arms the test watchdog with the byte wd_open writes
 * (a pipe reader cannot see an open, only data).
 *
 * All calls return 0 or a negative errno.  Nothing here prints; where an
 * error needs words, wd_open gives them through *why.
 */
#ifndef SDLM_WATCHDOG_H
#define SDLM_WATCHDOG_H

struct wd;

enum wd_kind {
	WD_KIND_NONE	= 0,	/* "none": no protection */
	WD_KIND_DEVICE	= 1,	/* Linux watchdog character device */
	WD_KIND_FIFO	= 2,	/* sdlm-watchdog's named pipe */
};

/* The path that selects the no-op backend. */
#define WD_PATH_NONE "none"

/*
 * Open and arm the watchdog at path with a timeout of timeout_s seconds
 * (the caller rounds a millisecond setting up).  On success *out is the
 * handle; *why is NULL, except for "none", where it is a sentence the
 * caller should log as a warning.  On failure *why (if why is not NULL)
 * says what was wrong, for the log.
 *
 *   -ENXIO    FIFO with no reader: sdlm-watchdog is not running
 *   -ENOTSUP  neither a character device nor a FIFO; or a driver without
 *             magic close
 *   -ERANGE   the driver kept a timeout longer than timeout_s
 *   -EINVAL   timeout_s is 0, or an argument is NULL
 *   other     from open(2), ioctl(2), write(2)
 *
 * A device that was armed by the open and then refused is disarmed with
 * the magic close before returning (a driver built with NOWAYOUT cannot
 * be disarmed; it will reset the node).
 */
int wd_open(struct wd **out, const char *path, unsigned timeout_s,
	    const char **why);

/*
 * Restart the timer.  Never blocks.  -EPIPE: the FIFO's reader is gone
 * (sdlm-watchdog died: no protection any more); -EAGAIN: the FIFO is full
 * (sdlm-watchdog stopped reading).  No signal is raised either way.
 */
int wd_feed(struct wd *w);

/* Disarm (magic close) and free w.  Returns 0 or the error of the write. */
int wd_close_magic(struct wd *w);

/*
 * Close and free w leaving the timer running: for a deliberate stop of
 * feeding (self-fence), where the node must be reset when it runs out.
 */
void wd_close_nomagic(struct wd *w);

enum wd_kind wd_kind(const struct wd *w);

/*
 * Timeout in force: the driver's read-back value for a device, timeout_s
 * as given for a FIFO (assumed, see above), 0 for "none".  Feed at least
 * twice per this period.
 */
unsigned wd_timeout_s(const struct wd *w);

#endif /* SDLM_WATCHDOG_H */
