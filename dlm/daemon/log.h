/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log.h - sdlmd logging: libqb's targets (syslog, file, stderr) filtered by
 * the configured level, plus an always-on in-memory debug ring that takes
 * every message at every level and that `sdlmctl dump` prints.
 *
 * Levels have one meaning each (style.md):
 *   LOG_ERR      should never happen: report it as a bug or a broken disk
 *   LOG_WARNING  an operator should look
 *   LOG_NOTICE   a state change an operator wants in syslog (fenced, joined)
 *   LOG_INFO     routine events
 *   LOG_DEBUG    everything else; always recorded in the ring
 * Messages name their object first: "ls imap node 3: ...", "fence node 2: ...".
 */
#ifndef SDLM_LOG_H
#define SDLM_LOG_H

#include <stddef.h>
#include <stdbool.h>
#include <syslog.h>
#include <qb/qblog.h>

struct log_setup {
	const char *ident;	/* program name in syslog */
	const char *file;	/* NULL or "" = no log file */
	bool syslog;
	bool to_stderr;
	bool journal;		/* stderr is the systemd journal: log_stderr_is_journal() */
	int level;		/* LOG_ERR .. LOG_DEBUG for syslog/file/stderr */
	size_t ring_size;	/* bytes of the debug ring */
};

/*
 * Returns 0 or -errno (the log file could not be opened).  Under systemd
 * (ls->journal) stderr is the journal, and so is syslog: lines go there
 * once, through syslog when it is on (it carries the priority), else
 * through stderr.
 */
int log_init(const struct log_setup *ls);
void log_fini(void);

/* Reopen the log file at its path (SIGHUP, after logrotate moved it):
 * queued after the lines logged so far, done by the log writer, which
 * logs "log file reopened" into the new file, or a warning with the old
 * file still in use.  Returns 0. */
int log_reopen(void);

/* True when stderr is the stream systemd named in $JOURNAL_STREAM. */
bool log_stderr_is_journal(void);

/*
 * Copy the ring, oldest line first, into a malloc'ed NUL-terminated buffer.
 * Returns 0 or -ENOMEM.
 */
int log_ring_copy(char **buf, size_t *len);

int log_level_parse(const char *name);

#define log_err(fmt, args...)	qb_log(LOG_ERR, fmt, ##args)
#define log_warn(fmt, args...)	qb_log(LOG_WARNING, fmt, ##args)
#define log_notice(fmt, args...) qb_log(LOG_NOTICE, fmt, ##args)
#define log_info(fmt, args...)	qb_log(LOG_INFO, fmt, ##args)
#define log_debug(fmt, args...)	qb_log(LOG_DEBUG, fmt, ##args)

#endif
