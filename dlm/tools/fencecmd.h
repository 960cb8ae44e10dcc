/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fencecmd.h - `sdlmctl fence ...`: direct commands on the fencing area
 * that need no running daemon (like `sbd -d DEV list`).
 */
#ifndef SDLM_FENCECMD_H
#define SDLM_FENCECMD_H

#include <stdbool.h>

/* sdlmctl exit codes (documented in sdlmctl(8)). */
enum ctl_exit {
	CTL_OK		= 0,	/* done; for "status": the node is alive (ON) */
	CTL_FAIL	= 1,	/* failed; for "status": state unknown */
	CTL_OFF		= 2,	/* "status": fenced or off */
	CTL_USAGE	= 64,	/* bad command line */
	CTL_DATAERR	= 65,	/* the area is corrupt or not initialised */
	CTL_NOINPUT	= 66,	/* the device cannot be opened */
	CTL_NODAEMON	= 69,	/* sdlmd is not reachable */
	CTL_EXISTS	= 73,	/* refused to overwrite an initialised area */
	CTL_NOPERM	= 77,	/* permission denied */
};

int ctl_exit_for(int err);
/* dev: the device when a command has no -d (sdlmctl's --device,
 * $SDLM_DEVICE, sdlm.conf's device; NULL or "": none), dev_from: where it
 * came from, for the error when there is none. */
int fence_main(int argc, char **argv, bool json, const char *dev, const char *dev_from);

#endif
