/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * conf.h - the one option table of sdlmd and sdlmctl.
 *
 * Every setting is one row of conf_options[], indexed by enum conf_opt.
 * The row drives all four faces of the setting:
 *
 *   command line   --name-with-dashes[=VALUE] and the short flag, if any
 *   config file    name = value            (sdlm.conf, see conf.c)
 *   --help         conf_help()
 *   dump-config    conf_dump()             (commented: the shipped sdlm.conf)
 *
 * Precedence, lowest first:
 *
 *   built-in default  <  config file  <  command line
 *
 * conf_parse_args() does the whole sequence: it collects the command line,
 * reads the config file named by -c/--config (default /etc/sdlm/sdlm.conf;
 * a missing default file is fine, a missing explicit one is an error), then
 * applies the command line over it.
 *
 * The module is pure apart from reading the config file and getcwd(): no
 * libqb, no logging, no printing except into a FILE * the caller passes.
 * Errors come back as 0 / negative errno plus one line of text in the
 * caller's buffer naming where (file:line or --flag) and what is wrong.
 */
#ifndef SDLM_CONF_H
#define SDLM_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* $(sysconfdir)/sdlm/sdlm.conf from dlm/Makefile.am; builds outside make
 * (the fuzz targets) get the usual place. */
#ifndef SDLM_CONFIG_FILE
#define SDLM_CONFIG_FILE "/etc/sdlm/sdlm.conf"
#endif

/* Option ids: the index into conf_options[] and into struct sdlm_conf. */
enum conf_opt {
	OPT_CONFIG = 0,
	OPT_DEVICE,
	OPT_NODE_ID,
	OPT_NODE_NAME,
	OPT_CLUSTER_NAME,
	OPT_RUN_DIR,
	OPT_LOG_FILE,
	OPT_LOG_SYSLOG,
	OPT_LOG_LEVEL,
	OPT_DEBUG_RING_SIZE,
	OPT_FOREGROUND,
	OPT_WATCHDOG_DEVICE,
	OPT_NO_WATCHDOG,
	OPT_IPC_NAME,
	OPT_COROSYNC,
	OPT_FAULT_FILE,
	OPT_ADMIN_GROUP,
	OPT_CLIENT_GROUP,
	OPT_MAX_LOCKS_PER_CLIENT,
	OPT_MAX_REQUESTS_PER_CLIENT,
	OPT_MAX_CONNECTIONS_PER_USER,
	OPT_GRACE_MS,
	OPT_MAX_FENCES_PER_WINDOW,
	OPT_FENCE_WINDOW_S,
	OPT_UID_RESERVE_MIN,
	OPT_UID_RESERVE_MAX,
	OPT_UID_ALLOC_LEASE_S,
	OPT_XPORT_PORT,
	OPT_XPORT_KEY_FILE,
	OPT_XPORT_ECHO_MS,
	OPT_JSON,
	OPT_RECOVER,
	OPT_DUMP_CONFIG,
	OPT_VERSION,
	OPT_HELP,
	OPT_COUNT
};

enum conf_type {
	CONF_STR = 1,	/* free text, no control characters */
	CONF_PATH,	/* absolute path or ""; relative CLI paths are made absolute */
	CONF_UINT,	/* decimal uint32_t within [co_min, co_max] */
	CONF_BOOL,	/* yes/no true/false on/off 1/0 */
	CONF_MODE,	/* one name of co_choices; conf_uint() gives its value */
};

/* Which program reads an option (co_mask, and the mask argument below). */
#define CONF_DAEMON	0x1u	/* sdlmd */
#define CONF_CTL	0x2u	/* sdlmctl */
#define CONF_ALL	(CONF_DAEMON | CONF_CTL)
/* A flag of the mask argument of conf_parse_args(), not a program: a client
 * tool, for which an unreadable *default* file (-EACCES: a user outside the
 * file's group) is not an error: parsing goes on with the defaults and err
 * keeps why, for the tool to say when something then fails. */
#define CONF_SOFT_DEFAULT 0x80u

/* co_flags */
#define CONF_F_CLI_ONLY	0x1u	/* not a config file key (config, help...) */
#define CONF_F_NONE	0x2u	/* PATH: the word "none" is stored as "" */

/* Where the current value came from. */
enum conf_source {
	CONF_SRC_DEFAULT = 0,
	CONF_SRC_FILE,
	CONF_SRC_CLI,
};

struct conf_choice {
	const char *cc_name;
	uint32_t cc_value;
};

struct conf_option {
	const char *co_name;		/* file key; CLI --co-name */
	char co_short;			/* short flag, or 0 */
	uint8_t co_type;		/* enum conf_type */
	uint8_t co_mask;		/* CONF_DAEMON | CONF_CTL */
	uint8_t co_flags;		/* CONF_F_* */
	const char *co_default;		/* text, parsed like a file value */
	const char *co_unit;		/* "ms", "s", "bytes" or "" */
	uint32_t co_min;		/* UINT: range; STR/PATH: co_max = max length */
	uint32_t co_max;
	const struct conf_choice *co_choices;	/* MODE: NULL-name terminated */
	const char *co_help;		/* one sentence or a few; wrapped on output */
};

extern const struct conf_option conf_options[OPT_COUNT];

struct conf_value {
	char *cv_heap;		/* STR/PATH value when not the default text */
	uint32_t cv_uint;	/* UINT value, BOOL 0/1, MODE choice value */
	uint8_t cv_source;	/* enum conf_source */
	char cv_num[12];	/* UINT in decimal, for conf_str() */
};

struct sdlm_conf {
	struct conf_value cf_val[OPT_COUNT];
};

/* Set every option to its built-in default.  Call on uninitialised memory. */
void conf_defaults(struct sdlm_conf *cf);

/* Free what parsing allocated and return to the defaults. */
void conf_free(struct sdlm_conf *cf);

/*
 * Read a config file.  Keys of options outside mask are checked and then
 * ignored (sdlmd and sdlmctl share one file).  Returns 0, -errno of
 * opening/reading the file (-ENOENT: missing), -EINVAL (syntax, unknown or
 * duplicate key, bad value) or -ERANGE (number out of range); err then holds
 * "path:line: what".  Values set before the error stay set, so call
 * conf_free() on the error path too.
 */
int conf_parse_file(struct sdlm_conf *cf, const char *path, unsigned mask,
		    char *err, size_t errlen);

/*
 * The whole sequence: command line collected, config file read, command
 * line applied, conf_check() run.  Options stop at the first non-option
 * argument or "--" (getopt "+" mode); *first_nonopt receives its index in
 * argv (argc when there is none).  With --help the config file is not
 * read, so help works whatever the file holds.  Returns 0, -EINVAL,
 * -ERANGE or -errno with err set, as conf_parse_file().  Uses getopt's
 * global state (optind is reset to 0 on entry and left after the options).
 */
int conf_parse_args(struct sdlm_conf *cf, int argc, char **argv,
		    unsigned mask, int *first_nonopt, char *err, size_t errlen);

/*
 * Checks that span options (uid_reserve_min <= uid_reserve_max).
 * Returns 0 or -EINVAL with err set.
 */
int conf_check(const struct sdlm_conf *cf, char *err, size_t errlen);

/*
 * The client tools' configuration (sdlmctl, sdlm-deliver,
 * sdlm-maildir-repair): read path (NULL: the default file) with the keys of
 * CONF_CTL into cf (conf_defaults() first).  A missing or unreadable
 * (-EACCES) default file is no error (err then says why, or is empty); an
 * explicit path must be read.  Returns 0 or the errors of conf_parse_file().
 */
int conf_client_file(struct sdlm_conf *cf, const char *path,
		     char *err, size_t errlen);

/*
 * What a client tool uses for option id (ipc_name, device): the command
 * line, else the environment variable's value env (NULL or "": unset; its
 * name env_name), else the config file, else the built-in default.  from
 * (may be NULL) receives where the value came from, for error messages:
 * "--ipc-name", "$SDLM_IPC", "ipc_name in /etc/sdlm/sdlm.conf", "the
 * built-in default: no ipc_name in /etc/sdlm/sdlm.conf".
 */
const char *conf_client_value(const struct sdlm_conf *cf, int id,
			      const char *env, const char *env_name,
			      char *from, size_t fromlen);

/* Value access.  conf_str() works for every type (canonical text). */
const char *conf_str(const struct sdlm_conf *cf, int id);
uint32_t conf_uint(const struct sdlm_conf *cf, int id);
bool conf_bool(const struct sdlm_conf *cf, int id);
enum conf_source conf_source(const struct sdlm_conf *cf, int id);

/* Set one option from text as if from source; same errors as parsing. */
int conf_set(struct sdlm_conf *cf, int id, const char *text,
	     enum conf_source src, char *err, size_t errlen);

/* --help text for the options of mask. */
void conf_help(FILE *f, unsigned mask, const char *progname);

/*
 * Write the configuration of the options in mask as a config file.
 * commented = false: "key = value" lines that conf_parse_file() reads back
 * to the same values (dump-config).  commented = true: every option
 * commented out with its help, default, unit and range; with defaults this
 * is exactly conf/sdlm.conf for mask CONF_ALL.
 */
void conf_dump(FILE *f, const struct sdlm_conf *cf, unsigned mask,
	       bool commented);

/* Option id of a file key ("node_id"), or -1. */
int conf_find(const char *name);

#endif /* SDLM_CONF_H */
