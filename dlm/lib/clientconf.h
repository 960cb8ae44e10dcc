/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * clientconf.h - the one setting libsdlm takes from sdlm.conf: ipc_name.
 *
 * sdlmd, sdlmctl and the agents read sdlm.conf through conf.c's option
 * table; a program that links libsdlm and calls sdlm_connect(NULL, ...)
 * must reach the same daemon, so the library reads the file's ipc_name
 * too (docs/configuration.md).  Only that key, with the file syntax of
 * conf.c (key = value, value quoted or bare, '#' comments); every other
 * key is skipped unread.  Pure apart from reading the file.
 */
#ifndef SDLM_CLIENTCONF_H
#define SDLM_CLIENTCONF_H
#include <stddef.h>

/*
 * The ipc_name set in the file at path, into out (len bytes, NUL
 * terminated).  Returns 1 when the file sets a usable name; 0 when the
 * file cannot be read or does not set it; -EINVAL when its value is
 * empty, too long, malformed or has a control character (the daemon
 * refuses such a file: the caller keeps its default).
 */
int clientconf_ipc_name(const char *path, char *out, size_t len);

#endif
