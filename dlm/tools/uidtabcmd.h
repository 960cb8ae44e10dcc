/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidtabcmd.h - `sdlmctl uid summary` and `sdlmctl uid grow`: the UID
 * table as a whole, read and grown on the shared device (docs/uid.md,
 * "Growing the table").
 */
#ifndef SDLM_UIDTABCMD_H
#define SDLM_UIDTABCMD_H

#include <stdbool.h>

/* The lock that serialises growers, cluster-wide (taken through sdlmd). */
#define UIDTAB_GROW_LS		"sdlm-admin"
#define UIDTAB_GROW_RES		"uid-grow"

/* argv[0] is "summary" or "grow"; dev: the default device (or NULL).
 * Returns the exit code. */
int uidtab_main(const char *ipc, const char *dev, int argc, char **argv, bool json);

#endif
