/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * access.h - who may talk to sdlmd (docs/operations.md, "Security").
 *
 * sdlmd serves root, members of admin_group (ADMIN) and members of
 * client_group (CLIENT); everyone else is refused when connecting, before
 * any request is read.  Membership counts the effective group and every
 * supplementary group of the connecting process, read from the kernel's
 * view of it (/proc/<pid>/status), so no name service is asked while the
 * daemon's loop runs: group names are resolved to ids once, at start.
 *
 * access_level() is pure (text in, a level out); the daemon reads the
 * file (dlm/daemon/ipc.c) and the tools print access_hint() when refused.
 */
#ifndef SDLM_ACCESS_H
#define SDLM_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ipcreq.h"	/* enum ipcreq_level */

struct access_policy {
	bool client_set;	/* client_group configured */
	bool admin_set;		/* admin_group configured */
	uint32_t client_gid;
	uint32_t admin_gid;
};

/*
 * The level of a process libqb saw connect with effective uid `uid`,
 * given the text of its /proc/<pid>/status (status, len bytes; NULL when
 * it could not be read).  Root is ADMIN whatever the text says.  For
 * anyone else the text must name the same effective uid (the process is
 * still the one that connected) and its Gid and Groups lines decide:
 * admin_gid among them ADMIN, else client_gid CLIENT, else NONE.  Text
 * that cannot be parsed gives NONE.
 */
enum ipcreq_level access_level(const struct access_policy *p, uint32_t uid,
			       const char *status, size_t len);

/*
 * A group option's value to a gid: a group name (getgrnam), or a decimal
 * gid for a group that has no name.  Returns 0, or -ENOENT with err set.
 * Not for the daemon's loop (asks the name service).
 */
int access_group_resolve(const char *value, uint32_t *gid, char *err, size_t errlen);

/*
 * What a refused tool prints (one line): which group it needs - admin:
 * admin_group, for a request refused with -EPERM; else client_group, for
 * a connection refused with -EACCES - where that is configured
 * (config_path, read with the daemon's option table; NULL: the default
 * sdlm.conf) and who the caller is.  `what` names the tool.
 */
void access_hint(FILE *f, const char *what, const char *config_path, bool admin);

#endif
