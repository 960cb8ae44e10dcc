/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidimport.h - `sdlmctl uid import`: UID records from what a Dovecot mail
 * store knows (docs/imap.md, "Migrating an existing store"; docs/uid.md,
 * "Damaged records").
 */
#ifndef SDLM_UIDIMPORT_H
#define SDLM_UIDIMPORT_H

#include <stdbool.h>

#include "sdlm.h"

struct uidimport {
	const char *ls;
	const char *mailbox;	/* one mailbox (NULL with --store/--stdin) */
	const char *maildir;	/* its Maildir (--maildir) */
	const char *store;	/* --store: a Maildir++ root, every folder */
	bool from_stdin;	/* --stdin: "MAILDIR[<TAB>MAILBOX]" lines */
	bool restore;		/* --restore */
	bool unnamed;		/* --unnamed-slot (with --restore) */
	bool progress;		/* --progress */
	bool have_uv, have_next;
	uint32_t uidvalidity, next;	/* --uidvalidity, --next */
	uint64_t epoch;		/* --epoch: the store's E */
};

/*
 * argv[0] is "import".  Returns -1 to go on, else the exit code (usage
 * errors, --help), having printed what to say.
 */
int uidimport_args(struct uidimport *o, int argc, char **argv);

/*
 * Import as o says through h; prints one line (or one JSON document) per
 * the command's form.  *first_err: the first refusal's error (0: none),
 * for the caller's hint on permissions.  Returns the exit code.
 */
int uidimport_run(sdlm_handle_t *h, const struct uidimport *o, bool json, int *first_err);

#endif
