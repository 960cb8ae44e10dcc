/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * conf.c - the option table and its four faces: command line, sdlm.conf,
 * --help and dump-config.
 *
 * Order of evaluation (conf_parse_args):
 *
 *   1. conf_defaults()            every value = co_default of its row
 *   2. getopt_long over argv      collected, not yet applied; -c/--config
 *                                 and -h/--help are noted now
 *   3. conf_parse_file(config)    unless --help; ENOENT is fine only for
 *                                 the default path
 *   4. collected flags applied    in argv order, so the last one wins
 *   5. conf_check()               rules that span options
 *
 * Collecting before reading the file is what lets the command line name
 * the file and still override what the file says.
 *
 * sdlm.conf syntax, one setting per line:
 *
 *   line    = blanks [ key blanks "=" blanks value blanks ] [ comment ]
 *   key     = option name, [a-z0-9_]+      ("node_id", never "node-id")
 *   value   = quoted | bare
 *   quoted  = '"' { any char but '"' and '\' | '\"' | '\\' } '"'
 *   bare    = characters up to '#' or the end of the line, blanks trimmed;
 *             may be empty ("device =" sets the empty string)
 *   comment = "#" up to the end of the line
 *
 * A key may appear once per file: a second one is an error, not an
 * override, because a long file with two different values for the same key
 * is a mistake the operator wants to hear about.  On the command line the
 * last flag wins, as everywhere else.
 *
 * Values are checked the same way from every source (value_parse): no
 * control characters in text (so every value survives a dump and a re-read
 * intact), numbers decimal and in range, paths absolute.  A relative path
 * on the command line is made absolute against the working directory at
 * parse time, because sdlmd chdirs to / when it daemonizes; in the file it
 * is an error, since "relative to what" has no good answer there.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "conf.h"

#define STR_MAX		255u
#define PATH_LEN_MAX	(PATH_MAX - 1u)
#define LONG_NAME_MAX	40
#define WRAP_WIDTH	78

static const struct conf_choice log_levels[] = {
	{ "err",	LOG_ERR },
	{ "warning",	LOG_WARNING },
	{ "notice",	LOG_NOTICE },
	{ "info",	LOG_INFO },
	{ "debug",	LOG_DEBUG },
	{ NULL,		0 },
};

#define D CONF_DAEMON
#define C CONF_CTL

const struct conf_option conf_options[OPT_COUNT] = {
	[OPT_CONFIG] = {
		"config", 'c', CONF_PATH, D | C, CONF_F_CLI_ONLY,
		SDLM_CONFIG_FILE, "", 0, PATH_LEN_MAX, NULL,
		"Configuration file to read. A missing default file is fine; "
		"a missing file named here is an error.",
	},
	[OPT_DEVICE] = {
		"device", 'd', CONF_PATH, D | C, 0,
		"", "", 0, PATH_LEN_MAX, NULL,
		"The shared fencing and lock area: a block device (a SAN LUN) "
		"or a file. sdlmd needs it; sdlmctl's fence commands use it "
		"directly, with no daemon running.",
	},
	[OPT_NODE_ID] = {
		"node_id", 'n', CONF_UINT, D, 0,
		"0", "", 0, 255, NULL,
		"This node's id, 1 to 255. 0 takes it from corosync "
		"(the nodelist's nodeid).",
	},
	[OPT_NODE_NAME] = {
		"node_name", 0, CONF_STR, D, 0,
		"", "", 0, STR_MAX, NULL,
		"This node's name in status output and logs. Empty: the host "
		"name.",
	},
	[OPT_CLUSTER_NAME] = {
		"cluster_name", 0, CONF_STR, D, 0,
		"", "", 0, STR_MAX, NULL,
		"The cluster's name. Empty: corosync's totem.cluster_name, or "
		"the name in the disk header when corosync is off.",
	},
	[OPT_RUN_DIR] = {
		"run_dir", 0, CONF_PATH, D, 0,
		"/run/sdlm", "", 0, PATH_LEN_MAX, NULL,
		"Directory for the pid file and runtime state.",
	},
	[OPT_LOG_FILE] = {
		"log_file", 0, CONF_PATH, D, CONF_F_NONE,
		"/var/log/sdlm/sdlmd.log", "", 0, PATH_LEN_MAX, NULL,
		"Log file. Empty or \"none\": no log file.",
	},
	[OPT_LOG_SYSLOG] = {
		"log_syslog", 0, CONF_BOOL, D, 0,
		"yes", "", 0, 1, NULL,
		"Log to syslog.",
	},
	[OPT_LOG_LEVEL] = {
		"log_level", 0, CONF_MODE, D, 0,
		"info", "", 0, 0, log_levels,
		"Lowest level that goes to syslog, the log file and stderr. "
		"The in-memory debug ring (sdlmctl dump) always takes every "
		"level.",
	},
	[OPT_DEBUG_RING_SIZE] = {
		"debug_ring_size", 0, CONF_UINT, D, 0,
		"1048576", "bytes", 65536, 1073741824u, NULL,
		"Size of the in-memory debug ring.",
	},
	[OPT_FOREGROUND] = {
		"foreground", 'f', CONF_BOOL, D, 0,
		"no", "", 0, 1, NULL,
		"Stay in the foreground instead of daemonizing.",
	},
	[OPT_WATCHDOG_DEVICE] = {
		"watchdog_device", 0, CONF_PATH, D, 0,
		"/dev/watchdog", "", 0, PATH_LEN_MAX, NULL,
		"Watchdog to feed: a Linux watchdog device, or the FIFO of an "
		"sdlm-watchdog process (tests, machines without a hardware "
		"watchdog).",
	},
	[OPT_NO_WATCHDOG] = {
		"no_watchdog", 0, CONF_BOOL, D, 0,
		"no", "", 0, 1, NULL,
		"Run without any watchdog. Unsafe: a hung node is then not "
		"reset, so fencing a silent node by heartbeat timeout is no "
		"longer sound. Must be asked for explicitly; sdlmd logs it "
		"loudly.",
	},
	[OPT_IPC_NAME] = {
		"ipc_name", 0, CONF_STR, D | C, 0,
		"sdlm", "", 0, 64, NULL,
		"libqb IPC service name of sdlmd. Several daemons on one host "
		"(tests) use different names; sdlmctl must use the same name "
		"as its daemon.",
	},
	[OPT_COROSYNC] = {
		"corosync", 0, CONF_BOOL, D, 0,
		"yes", "", 0, 1, NULL,
		"Join corosync. \"no\" runs the disk heartbeat and fencing side "
		"only (disk-only tests).",
	},
	[OPT_FAULT_FILE] = {
		"fault_file", 0, CONF_PATH, D, 0,
		"", "", 0, PATH_LEN_MAX, NULL,
		"Test only: fault injection spec file, re-read every heartbeat. "
		"Empty: no fault injection.",
	},
	[OPT_ADMIN_GROUP] = {
		"admin_group", 0, CONF_STR, D | C, 0,
		"", "", 0, STR_MAX, NULL,
		"A group (name or gid) whose members may administer sdlmd "
		"besides root: fence confirm, degraded mode, UIDVALIDITY bump, "
		"settle, delete, rename, dump. Supplementary groups count. "
		"Empty: root only.",
	},
	[OPT_CLIENT_GROUP] = {
		"client_group", 0, CONF_STR, D | C, 0,
		"", "", 0, STR_MAX, NULL,
		"A group (name or gid) whose members may connect to sdlmd: "
		"locks, UID allocation for mail delivery, status. "
		"Supplementary groups count. Everyone else but root and "
		"admin_group is refused at connect time. Empty: root and "
		"admin_group only.",
	},
	[OPT_MAX_LOCKS_PER_CLIENT] = {
		"max_locks_per_client", 0, CONF_UINT, D, 0,
		"16384", "", 1, 1048576u, NULL,
		"Locks one connection may hold or wait for at once; one more "
		"is refused (SDLM_ELIMIT).",
	},
	[OPT_MAX_REQUESTS_PER_CLIENT] = {
		"max_requests_per_client", 0, CONF_UINT, D, 0,
		"1024", "", 1, 65536, NULL,
		"UID requests one connection may have waiting for their answer "
		"at once; one more is refused (SDLM_ELIMIT).",
	},
	[OPT_MAX_CONNECTIONS_PER_USER] = {
		"max_connections_per_user", 0, CONF_UINT, D, 0,
		"256", "", 1, 65536, NULL,
		"Connections one user (uid) other than root may have open at "
		"once; one more is refused at connect time (SDLM_ELIMIT). Each "
		"costs about 1 MiB of IPC buffers in the daemon.",
	},
	[OPT_GRACE_MS] = {
		"grace_ms", 0, CONF_UINT, D, 0,
		"0", "ms", 0, 3600000u, NULL,
		"How long a node that left the membership may stay away while "
		"its locks are wanted before it is fenced. 0: derived from "
		"corosync's token and consensus timeouts.",
	},
	[OPT_MAX_FENCES_PER_WINDOW] = {
		"max_fences_per_window", 0, CONF_UINT, D, 0,
		"0", "", 0, 255, NULL,
		"Fences the cluster starts on its own within one fence window; "
		"more need an operator. 0: ceil(N/2)-1 for N nodes.",
	},
	[OPT_FENCE_WINDOW_S] = {
		"fence_window_s", 0, CONF_UINT, D, 0,
		"300", "s", 1, 86400, NULL,
		"Length of the window that max_fences_per_window counts in.",
	},
	[OPT_UID_RESERVE_MIN] = {
		"uid_reserve_min", 0, CONF_UINT, D, 0,
		"16", "", 1, 1073741824u, NULL,
		"Smallest UID range a mailbox lock holder reserves on disk in "
		"one write.",
	},
	[OPT_UID_RESERVE_MAX] = {
		"uid_reserve_max", 0, CONF_UINT, D, 0,
		"65536", "", 1, 1073741824u, NULL,
		"Cap of the adaptive UID range reservation. Must not be below "
		"uid_reserve_min.",
	},
	[OPT_UID_ALLOC_LEASE_S] = {
		"uid_alloc_lease_s", 0, CONF_UINT, D, 0,
		"600", "s", 1, 86400, NULL,
		"Time a UID allocation may stay uncommitted. Past it the "
		"allocation is aborted (its UIDs become a gap, never reused), "
		"the mailbox serves the next delivery, and the late commit "
		"fails. Keep it well above the longest delivery.",
	},
	[OPT_XPORT_PORT] = {
		"xport_port", 0, CONF_UINT, D, 0,
		"0", "", 0, 65535, NULL,
		"UDP port of the fast-path transport, the same on every node: "
		"one socket on this node's address of corosync's nodelist "
		"(ring0_addr), frames signed with a key derived from "
		"xport_key_file. 0: off (nothing uses the transport yet but its "
		"echo; docs/design-fastpath.md).",
	},
	[OPT_XPORT_KEY_FILE] = {
		"xport_key_file", 0, CONF_PATH, D, 0,
		"/etc/corosync/authkey", "", 0, PATH_LEN_MAX, NULL,
		"The secret the fast-path transport's key derives from, the "
		"same file on every node: corosync's authkey (corosync-keygen). "
		"16..4096 bytes, owned by root (or sdlmd's user) and readable "
		"by no one but its owner.",
	},
	[OPT_XPORT_ECHO_MS] = {
		"xport_echo_ms", 0, CONF_UINT, D, 0,
		"1000", "ms", 0, 3600000u, NULL,
		"Interval of the echo each node sends every peer over the "
		"fast-path transport (its round trip is in sdlmctl status). "
		"0: no echo.",
	},
	[OPT_JSON] = {
		"json", 0, CONF_BOOL, C, 0,
		"no", "", 0, 1, NULL,
		"Print JSON for machines instead of tables.",
	},
	[OPT_RECOVER] = {
		"recover", 0, CONF_BOOL, D, CONF_F_CLI_ONLY,
		"no", "", 0, 1, NULL,
		"Start although the previous sdlmd of this boot stopped without "
		"a clean exit: the operator states that every process that used "
		"its locks is gone (otherwise the node waits for its watchdog "
		"reset, which the unclean exit set off).",
	},
	[OPT_DUMP_CONFIG] = {
		"dump_config", 0, CONF_BOOL, D | C, CONF_F_CLI_ONLY,
		"no", "", 0, 1, NULL,
		"Print the effective configuration (defaults, file and command "
		"line merged) in config file syntax and exit.",
	},
	[OPT_VERSION] = {
		"version", 0, CONF_BOOL, D | C, CONF_F_CLI_ONLY,
		"no", "", 0, 1, NULL,
		"Print the program's name and sdlm's version and exit.",
	},
	[OPT_HELP] = {
		"help", 'h', CONF_BOOL, D | C, CONF_F_CLI_ONLY,
		"no", "", 0, 1, NULL,
		"Print this help and exit.",
	},
};

#undef D
#undef C

static void err_set(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void err_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool id_valid(int id)
{
	return id >= 0 && id < OPT_COUNT;
}

int conf_find(const char *name)
{
	int id;

	for (id = 0; id < OPT_COUNT; id++)
		if (strcmp(conf_options[id].co_name, name) == 0)
			return id;
	return -1;
}

/* "node_id" -> "node-id" */
static void long_name(char *out, size_t outlen, const char *name)
{
	size_t i;

	for (i = 0; name[i] && i + 1 < outlen; i++)
		out[i] = name[i] == '_' ? '-' : name[i];
	out[i] = '\0';
}

static bool text_has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static int bool_parse(const char *s, uint32_t *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * Parse text for option id.  On success *num holds the number (UINT, BOOL,
 * MODE) and, for STR/PATH, *str a malloc'ed canonical copy.  Returns 0,
 * -EINVAL or -ERANGE with why set, or -ENOMEM.
 */
static int value_parse(int id, const char *text, enum conf_source src,
		       uint32_t *num, char **str, char *why, size_t whylen)
{
	const struct conf_option *o = &conf_options[id];
	const struct conf_choice *ch;
	unsigned long long v;
	char *end, *copy;
	size_t len;

	*num = 0;
	*str = NULL;

	switch (o->co_type) {
	case CONF_UINT:
		if (text[0] < '0' || text[0] > '9') {
			err_set(why, whylen,
				"bad value '%s' (expected a decimal number)",
				text);
			return -EINVAL;
		}
		errno = 0;
		v = strtoull(text, &end, 10);
		if (*end) {
			err_set(why, whylen,
				"bad value '%s' (expected a decimal number)",
				text);
			return -EINVAL;
		}
		if (errno == ERANGE || v < o->co_min || v > o->co_max) {
			err_set(why, whylen, "%s out of range (%u..%u)",
				text, o->co_min, o->co_max);
			return -ERANGE;
		}
		*num = (uint32_t)v;
		return 0;

	case CONF_BOOL:
		if (bool_parse(text, num) < 0) {
			err_set(why, whylen, "bad value '%s' (expected yes/no, "
				"true/false, on/off or 1/0)", text);
			return -EINVAL;
		}
		return 0;

	case CONF_MODE:
		for (ch = o->co_choices; ch->cc_name; ch++) {
			if (strcmp(text, ch->cc_name) == 0) {
				*num = ch->cc_value;
				return 0;
			}
		}
		err_set(why, whylen, "bad value '%s' (expected one of:", text);
		for (ch = o->co_choices; why && ch->cc_name; ch++) {
			len = strlen(why);
			err_set(why + len, whylen - len, " %s", ch->cc_name);
		}
		if (why) {
			len = strlen(why);
			err_set(why + len, whylen - len, ")");
		}
		return -EINVAL;

	case CONF_STR:
	case CONF_PATH:
		break;
	default:
		err_set(why, whylen, "option table corrupt (type %u)",
			o->co_type);
		return -EINVAL;
	}

	if (text_has_control(text)) {
		err_set(why, whylen, "control character in value");
		return -EINVAL;
	}
	if (o->co_type == CONF_PATH && (o->co_flags & CONF_F_NONE) &&
	    strcmp(text, "none") == 0)
		text = "";

	if (o->co_type == CONF_PATH && text[0] && text[0] != '/') {
		char cwd[PATH_MAX];

		if (src != CONF_SRC_CLI) {
			err_set(why, whylen,
				"'%s' is not an absolute path", text);
			return -EINVAL;
		}
		if (!getcwd(cwd, sizeof(cwd))) {
			int e = errno;

			err_set(why, whylen, "cannot make '%s' absolute: %s",
				text, strerror(e));
			return -e;
		}
		len = strlen(cwd) + 1 + strlen(text);
		if (len > o->co_max) {
			err_set(why, whylen, "path too long (max %u bytes)",
				o->co_max);
			return -ERANGE;
		}
		copy = malloc(len + 1);
		if (!copy)
			return -ENOMEM;
		snprintf(copy, len + 1, "%s/%s",
			 strcmp(cwd, "/") == 0 ? "" : cwd, text);
		*str = copy;
		return 0;
	}

	if (strlen(text) > o->co_max) {
		err_set(why, whylen, "value too long (max %u bytes)",
			o->co_max);
		return -ERANGE;
	}
	copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	*str = copy;
	return 0;
}

static void value_store(struct conf_value *cv, int id, uint32_t num,
			char *str, enum conf_source src)
{
	free(cv->cv_heap);
	cv->cv_heap = str;
	cv->cv_uint = num;
	cv->cv_source = (uint8_t)src;
	if (conf_options[id].co_type == CONF_UINT)
		snprintf(cv->cv_num, sizeof(cv->cv_num), "%u", num);
	else
		cv->cv_num[0] = '\0';
}

/* Parse and store (cf NULL: check only); err = "<where>: <why>". */
static int value_set(struct sdlm_conf *cf, int id, const char *text,
		     enum conf_source src, const char *where,
		     char *err, size_t errlen)
{
	char why[256] = "";
	uint32_t num;
	char *str;
	int rc;

	rc = value_parse(id, text, src, &num, &str, why, sizeof(why));
	if (rc < 0) {
		if (rc == -ENOMEM)
			snprintf(why, sizeof(why), "out of memory");
		err_set(err, errlen, "%s: %s", where, why);
		return rc;
	}
	if (cf)
		value_store(&cf->cf_val[id], id, num, str, src);
	else
		free(str);
	return 0;
}

void conf_defaults(struct sdlm_conf *cf)
{
	uint32_t num;
	char *str;
	int id;

	memset(cf, 0, sizeof(*cf));
	for (id = 0; id < OPT_COUNT; id++) {
		/*
		 * The table's defaults are checked by the unit tests; a
		 * default that does not parse leaves 0 / "" rather than
		 * failing here.  Strings keep pointing at the table.
		 */
		if (value_parse(id, conf_options[id].co_default,
				CONF_SRC_DEFAULT, &num, &str, NULL, 0) < 0)
			num = 0;
		free(str);
		value_store(&cf->cf_val[id], id, num, NULL, CONF_SRC_DEFAULT);
	}
}

void conf_free(struct sdlm_conf *cf)
{
	int id;

	for (id = 0; id < OPT_COUNT; id++)
		free(cf->cf_val[id].cv_heap);
	conf_defaults(cf);
}

const char *conf_str(const struct sdlm_conf *cf, int id)
{
	const struct conf_option *o;
	const struct conf_value *cv;
	const struct conf_choice *ch;

	if (!id_valid(id))
		return "";
	o = &conf_options[id];
	cv = &cf->cf_val[id];
	switch (o->co_type) {
	case CONF_UINT:
		return cv->cv_num;
	case CONF_BOOL:
		return cv->cv_uint ? "yes" : "no";
	case CONF_MODE:
		for (ch = o->co_choices; ch->cc_name; ch++)
			if (ch->cc_value == cv->cv_uint)
				return ch->cc_name;
		return "";
	default:
		return cv->cv_heap ? cv->cv_heap : o->co_default;
	}
}

uint32_t conf_uint(const struct sdlm_conf *cf, int id)
{
	return id_valid(id) ? cf->cf_val[id].cv_uint : 0;
}

bool conf_bool(const struct sdlm_conf *cf, int id)
{
	return id_valid(id) && cf->cf_val[id].cv_uint != 0;
}

enum conf_source conf_source(const struct sdlm_conf *cf, int id)
{
	return id_valid(id) ? (enum conf_source)cf->cf_val[id].cv_source
			    : CONF_SRC_DEFAULT;
}

int conf_set(struct sdlm_conf *cf, int id, const char *text,
	     enum conf_source src, char *err, size_t errlen)
{
	if (!id_valid(id) || !text) {
		err_set(err, errlen, "invalid option id %d", id);
		return -EINVAL;
	}
	return value_set(cf, id, text, src, conf_options[id].co_name,
			 err, errlen);
}

int conf_client_file(struct sdlm_conf *cf, const char *path,
		     char *err, size_t errlen)
{
	int rc;

	err_set(err, errlen, "%s", "");
	if (path) {
		rc = value_set(cf, OPT_CONFIG, path, CONF_SRC_CLI, "--config",
			       err, errlen);
		if (rc < 0)
			return rc;
	}
	rc = conf_parse_file(cf, conf_str(cf, OPT_CONFIG), CONF_CTL,
			     err, errlen);
	if (rc == -ENOENT && !path) {
		err_set(err, errlen, "%s", "");
		return 0;
	}
	if (rc == -EACCES && !path)
		return 0;	/* err keeps why */
	return rc;
}

const char *conf_client_value(const struct sdlm_conf *cf, int id,
			      const char *env, const char *env_name,
			      char *from, size_t fromlen)
{
	char name[LONG_NAME_MAX];

	if (!id_valid(id))
		return "";
	long_name(name, sizeof(name), conf_options[id].co_name);
	if (conf_source(cf, id) == CONF_SRC_CLI) {
		err_set(from, fromlen, "--%s", name);
		return conf_str(cf, id);
	}
	if (env && env[0]) {
		err_set(from, fromlen, "$%s", env_name ? env_name : "?");
		return env;
	}
	if (conf_source(cf, id) == CONF_SRC_FILE)
		err_set(from, fromlen, "%s in %s", conf_options[id].co_name,
			conf_str(cf, OPT_CONFIG));
	else
		err_set(from, fromlen, "the built-in default: no %s in %s",
			conf_options[id].co_name, conf_str(cf, OPT_CONFIG));
	return conf_str(cf, id);
}

int conf_check(const struct sdlm_conf *cf, char *err, size_t errlen)
{
	if (conf_uint(cf, OPT_UID_RESERVE_MIN) >
	    conf_uint(cf, OPT_UID_RESERVE_MAX)) {
		err_set(err, errlen, "uid_reserve_min (%u) is above "
			"uid_reserve_max (%u)",
			conf_uint(cf, OPT_UID_RESERVE_MIN),
			conf_uint(cf, OPT_UID_RESERVE_MAX));
		return -EINVAL;
	}
	return 0;
}

/*
 * Split one line into key and value, in place.  Returns 1 for a setting,
 * 0 for a blank or comment line, -EINVAL with why set for a syntax error.
 */
static int line_split(char *line, char **key, char **value,
		      char *why, size_t whylen)
{
	char *p = line, *q, *w;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '\n' || *p == '#')
		return 0;

	*key = p;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	       (*p >= '0' && *p <= '9') || *p == '_' || *p == '-')
		p++;
	if (p == *key) {
		err_set(why, whylen, "expected 'key = value'");
		return -EINVAL;
	}
	q = p;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '=') {
		err_set(why, whylen, "expected '=' after '%.*s'",
			(int)(q - *key), *key);
		return -EINVAL;
	}
	*q = '\0';
	p++;
	while (*p == ' ' || *p == '\t')
		p++;

	if (*p == '"') {
		/* Unescape in place: w never overtakes p. */
		*value = w = ++p;
		for (;;) {
			if (*p == '\0' || *p == '\n') {
				err_set(why, whylen, "unterminated quote");
				return -EINVAL;
			}
			if (*p == '"')
				break;
			if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			else if (*p == '\\') {
				err_set(why, whylen, "unknown escape '\\%c' "
					"(only \\\" and \\\\)", p[1]);
				return -EINVAL;
			}
			*w++ = *p++;
		}
		*w = '\0';
		p++;
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p != '\0' && *p != '#') {
			err_set(why, whylen, "text after closing quote");
			return -EINVAL;
		}
		return 1;
	}

	*value = p;
	q = strchr(p, '#');
	if (!q)
		q = p + strlen(p);
	while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\n' ||
			 q[-1] == '\r'))
		q--;
	*q = '\0';
	return 1;
}

int conf_parse_file(struct sdlm_conf *cf, const char *path, unsigned mask,
		    char *err, size_t errlen)
{
	unsigned seen[OPT_COUNT] = { 0 };
	char why[256], where[PATH_MAX + 64];
	char *line = NULL, *key, *value;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;
	FILE *f;
	int rc = 0, id, r;

	f = fopen(path, "re");
	if (!f) {
		rc = -errno;
		err_set(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}

	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (strlen(line) != (size_t)n) {
			err_set(err, errlen, "%s:%u: NUL byte in line",
				path, lineno);
			rc = -EINVAL;
			goto out_free;
		}
		r = line_split(line, &key, &value, why, sizeof(why));
		if (r < 0) {
			err_set(err, errlen, "%s:%u: %s", path, lineno, why);
			rc = r;
			goto out_free;
		}
		if (r == 0)
			continue;

		id = conf_find(key);
		if (id < 0) {
			char hint[LONG_NAME_MAX];
			size_t i;

			for (i = 0; key[i] && i + 1 < sizeof(hint); i++)
				hint[i] = key[i] == '-' ? '_' : key[i];
			hint[i] = '\0';
			if (strcmp(hint, key) != 0 && conf_find(hint) >= 0)
				err_set(err, errlen, "%s:%u: unknown key '%s' "
					"(did you mean '%s'?)",
					path, lineno, key, hint);
			else
				err_set(err, errlen, "%s:%u: unknown key '%s'",
					path, lineno, key);
			rc = -EINVAL;
			goto out_free;
		}
		if (conf_options[id].co_flags & CONF_F_CLI_ONLY) {
			err_set(err, errlen, "%s:%u: '%s' is a command line "
				"option only", path, lineno, key);
			rc = -EINVAL;
			goto out_free;
		}
		if (seen[id]) {
			err_set(err, errlen, "%s:%u: duplicate key '%s' "
				"(first set on line %u)",
				path, lineno, key, seen[id]);
			rc = -EINVAL;
			goto out_free;
		}
		seen[id] = lineno;

		snprintf(where, sizeof(where), "%s:%u: %s", path, lineno, key);
		/* Keys of the other program are checked, then dropped. */
		rc = value_set(conf_options[id].co_mask & mask ? cf : NULL,
			       id, value, CONF_SRC_FILE, where, err, errlen);
		if (rc < 0)
			goto out_free;
	}
	if (ferror(f)) {
		rc = -EIO;
		err_set(err, errlen, "%s: read error", path);
	}

out_free:
	free(line);
	fclose(f);
out:
	return rc;
}

/* Option id of a getopt return value, or -1. */
static int getopt_id(int c, unsigned mask)
{
	int id;

	if (c >= 256)
		return id_valid(c - 256) ? c - 256 : -1;
	for (id = 0; id < OPT_COUNT; id++)
		if (conf_options[id].co_short == c &&
		    (conf_options[id].co_mask & mask))
			return id;
	return -1;
}

struct cli_setting {
	int id;
	const char *arg;	/* NULL: a bare boolean flag */
};

int conf_parse_args(struct sdlm_conf *cf, int argc, char **argv,
		    unsigned mask, int *first_nonopt, char *err, size_t errlen)
{
	char names[OPT_COUNT][LONG_NAME_MAX];
	struct option longopts[OPT_COUNT + 1];
	char shortopts[2 + 2 * OPT_COUNT + 1];
	char flag[LONG_NAME_MAX + 3];
	struct cli_setting *set;
	int nset = 0, nlong = 0, saved_opterr, c, id, i, rc = 0;
	bool help = false, explicit_config = false;
	size_t ns = 0;

	*first_nonopt = argc > 0 ? argc : 0;
	if (argc <= 1) {
		set = NULL;
		goto read_file;
	}

	shortopts[ns++] = '+';	/* stop at the first non-option */
	shortopts[ns++] = ':';	/* report a missing argument as ':' */
	for (id = 0; id < OPT_COUNT; id++) {
		const struct conf_option *o = &conf_options[id];

		if (!(o->co_mask & mask))
			continue;
		long_name(names[id], sizeof(names[id]), o->co_name);
		longopts[nlong].name = names[id];
		longopts[nlong].has_arg = o->co_type == CONF_BOOL ?
			optional_argument : required_argument;
		longopts[nlong].flag = NULL;
		longopts[nlong].val = 256 + id;
		nlong++;
		if (o->co_short) {
			shortopts[ns++] = o->co_short;
			if (o->co_type != CONF_BOOL)
				shortopts[ns++] = ':';
		}
	}
	shortopts[ns] = '\0';
	memset(&longopts[nlong], 0, sizeof(longopts[nlong]));

	set = calloc((size_t)argc, sizeof(*set));
	if (!set) {
		err_set(err, errlen, "out of memory");
		return -ENOMEM;
	}

	saved_opterr = opterr;
	opterr = 0;		/* libraries never print */
	optind = 0;		/* glibc: full re-initialisation */
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			const char *what = c == '?' ? "unknown option" :
				"missing value for option";

			id = optopt >= 256 ? getopt_id(optopt, mask) : -1;
			if (id >= 0)
				err_set(err, errlen, "%s '--%s'", what,
					names[id]);
			else if (optopt > 0)
				err_set(err, errlen, "%s '-%c'", what, optopt);
			else
				err_set(err, errlen, "%s '%s'", what,
					argv[optind - 1]);
			rc = -EINVAL;
			break;
		}
		id = getopt_id(c, mask);
		if (id < 0) {
			err_set(err, errlen, "option table corrupt (%d)", c);
			rc = -EINVAL;
			break;
		}
		set[nset].id = id;
		set[nset].arg = optarg;
		nset++;
		if (id == OPT_HELP || id == OPT_VERSION)
			help = true;
	}
	*first_nonopt = optind;
	opterr = saved_opterr;
	if (rc < 0)
		goto out_free;

	/* The file must be known before it is read: -c is applied first. */
	for (i = 0; i < nset; i++) {
		if (set[i].id != OPT_CONFIG)
			continue;
		rc = value_set(cf, OPT_CONFIG, set[i].arg, CONF_SRC_CLI,
			       "--config", err, errlen);
		if (rc < 0)
			goto out_free;
		explicit_config = true;
	}

read_file:
	if (!help) {
		rc = conf_parse_file(cf, conf_str(cf, OPT_CONFIG), mask,
				     err, errlen);
		if (rc == -ENOENT && !explicit_config) {
			rc = 0;
			err_set(err, errlen, "%s", "");
		}
		if (rc == -EACCES && !explicit_config &&
		    (mask & CONF_SOFT_DEFAULT))
			rc = 0;		/* err keeps why, for the caller */
		if (rc < 0)
			goto out_free;
	}

	for (i = 0; i < nset; i++) {
		if (set[i].id == OPT_CONFIG)
			continue;
		snprintf(flag, sizeof(flag), "--%s", names[set[i].id]);
		rc = value_set(cf, set[i].id, set[i].arg ? set[i].arg : "yes",
			       CONF_SRC_CLI, flag, err, errlen);
		if (rc < 0)
			goto out_free;
	}

	if (!help)
		rc = conf_check(cf, err, errlen);

out_free:
	free(set);
	return rc;
}

/*
 * Write text word-wrapped at WRAP_WIDTH columns, each line starting with
 * prefix.  Words longer than a line are not split.
 */
static void put_wrapped(FILE *f, const char *prefix, const char *text)
{
	size_t col = 0, plen = strlen(prefix), wlen;
	const char *p = text;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		wlen = strcspn(p, " ");
		if (col && col + 1 + wlen > WRAP_WIDTH) {
			fputc('\n', f);
			col = 0;
		}
		if (!col) {
			fputs(prefix, f);
			col = plen;
		} else {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, wlen, f);
		col += wlen;
		p += wlen;
	}
	if (col)
		fputc('\n', f);
}

/* "Default: 1048576 bytes. Range: 65536..1073741824." and the like. */
static void option_facts(char *buf, size_t len, int id)
{
	const struct conf_option *o = &conf_options[id];
	const struct conf_choice *ch;
	size_t n = 0;

	buf[0] = '\0';
	if (o->co_type == CONF_MODE) {
		n += (size_t)snprintf(buf + n, len - n, "One of:");
		for (ch = o->co_choices; ch->cc_name && n < len; ch++)
			n += (size_t)snprintf(buf + n, len - n, " %s%s",
					      ch->cc_name,
					      ch[1].cc_name ? "," : ".");
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, " ");
	}
	if (n >= len)
		return;
	if (o->co_default[0])
		n += (size_t)snprintf(buf + n, len - n, "Default: %s%s%s.",
				      o->co_default, o->co_unit[0] ? " " : "",
				      o->co_unit);
	else
		n += (size_t)snprintf(buf + n, len - n, "Default: \"\".");
	if (n < len && o->co_type == CONF_UINT)
		snprintf(buf + n, len - n, " Range: %u..%u%s%s.",
			 o->co_min, o->co_max, o->co_unit[0] ? " " : "",
			 o->co_unit);
}

static const char *option_metavar(int id)
{
	switch (conf_options[id].co_type) {
	case CONF_PATH:
		return "=PATH";
	case CONF_STR:
		return "=TEXT";
	case CONF_UINT:
		return "=N";
	case CONF_MODE:
		return "=LEVEL";
	case CONF_BOOL:
		return conf_options[id].co_flags & CONF_F_CLI_ONLY ?
			"" : "[=yes|no]";
	default:
		return "";
	}
}

void conf_help(FILE *f, unsigned mask, const char *progname)
{
	char name[LONG_NAME_MAX], text[1024], facts[256];
	const struct conf_option *o;
	int id;

	fprintf(f, "Usage: %s [OPTION]...%s\n\n", progname,
		mask == CONF_CTL ? " COMMAND [ARG]..." : "");
	put_wrapped(f, "", "Every option except --config, --dump-config and "
		    "--help is also a key of the config file, with '_' for "
		    "'-'. The command line wins over the file, the file over "
		    "the built-in default.");
	fputs("\nOptions:\n", f);
	for (id = 0; id < OPT_COUNT; id++) {
		o = &conf_options[id];
		if (!(o->co_mask & mask))
			continue;
		long_name(name, sizeof(name), o->co_name);
		if (o->co_short)
			fprintf(f, "  -%c, --%s%s\n", o->co_short, name,
				option_metavar(id));
		else
			fprintf(f, "      --%s%s\n", name, option_metavar(id));
		if (o->co_flags & CONF_F_CLI_ONLY && o->co_type == CONF_BOOL)
			facts[0] = '\0';
		else
			option_facts(facts, sizeof(facts), id);
		snprintf(text, sizeof(text), "%s %s", o->co_help, facts);
		put_wrapped(f, "          ", text);
	}
}

/* Write a value so that line_split() gives it back unchanged. */
static void put_value(FILE *f, const char *v)
{
	size_t len = strlen(v);

	if (len && v[0] != ' ' && v[0] != '\t' && v[len - 1] != ' ' &&
	    v[len - 1] != '\t' && !strpbrk(v, "#\"\\")) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', f);
		fputc(*v, f);
	}
	fputc('"', f);
}

static const char conf_file_header[] =
	"# sdlm.conf - configuration of sdlmd (the daemon) and sdlmctl (the CLI)\n"
	"#\n"
	"# One \"key = value\" per line; '#' starts a comment. Quote a value with\n"
	"# \"...\" (escapes \\\" and \\\\) when it is empty or holds '#' or leading or\n"
	"# trailing blanks. Booleans: yes/no, true/false, on/off, 1/0. Numbers are\n"
	"# decimal. Paths are absolute. A key may appear only once.\n"
	"#\n"
	"# Precedence: built-in default < this file < command line. Every key is\n"
	"# also a command line flag, with '-' for '_' (node_id: --node-id).\n"
	"# sdlmd and sdlmctl share this file; each ignores the other's keys.\n"
	"#\n"
	"# Every option is listed below, commented out, with its default. This\n"
	"# text is generated from the option table in dlm/daemon/conf.c (conf_dump) and\n"
	"# the unit tests check that the two agree.\n";

void conf_dump(FILE *f, const struct sdlm_conf *cf, unsigned mask,
	       bool commented)
{
	char name[LONG_NAME_MAX], flags[LONG_NAME_MAX + 8], facts[256];
	const struct conf_option *o;
	int id;

	if (commented)
		fputs(conf_file_header, f);
	else
		fputs("# sdlm effective configuration "
		      "(default < config file < command line)\n", f);

	for (id = 0; id < OPT_COUNT; id++) {
		o = &conf_options[id];
		if (!(o->co_mask & mask) || (o->co_flags & CONF_F_CLI_ONLY))
			continue;
		if (!commented) {
			fprintf(f, "%s = ", o->co_name);
			put_value(f, conf_str(cf, id));
			fputc('\n', f);
			continue;
		}
		long_name(name, sizeof(name), o->co_name);
		if (o->co_short)
			snprintf(flags, sizeof(flags), "-%c, --%s",
				 o->co_short, name);
		else
			snprintf(flags, sizeof(flags), "--%s", name);
		fprintf(f, "\n# %s (%s; command line: %s)\n", o->co_name,
			(o->co_mask & CONF_ALL) == CONF_ALL ? "sdlmd, sdlmctl" :
			o->co_mask & CONF_DAEMON ? "sdlmd" : "sdlmctl", flags);
		put_wrapped(f, "#   ", o->co_help);
		option_facts(facts, sizeof(facts), id);
		put_wrapped(f, "#   ", facts);
		fprintf(f, "#%s = ", o->co_name);
		put_value(f, conf_str(cf, id));
		fputc('\n', f);
	}
}
