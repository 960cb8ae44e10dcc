/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_conf.c - unit tests of the option table (dlm/daemon/conf.c).
 *
 * Config files are written to a fresh directory under $SDLM_TEST_DIR (or
 * the working directory) and removed afterwards.  The shipped example
 * conf/sdlm.conf is located through $SDLM_SRCDIR, else the SDLM_SRCDIR
 * compile-time define, and must equal conf_dump(defaults, CONF_ALL,
 * commented).  Regenerate it with:
 *
 *   test_conf --generate > conf/sdlm.conf
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"

struct fixture {
	char dir[PATH_MAX];
	char path[PATH_MAX + 32];	/* the config file of the test */
	struct sdlm_conf cf;
	char err[512];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	const char *base = getenv("SDLM_TEST_DIR");
	char cwd[PATH_MAX];

	if (!fx)
		return -1;
	if (!base || !*base)
		base = getcwd(cwd, sizeof(cwd));
	if (!base)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "%s/test_conf.XXXXXX", base);
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/sdlm.conf", fx->dir);
	conf_defaults(&fx->cf);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	conf_free(&fx->cf);
	unlink(fx->path);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

#define assert_contains(hay, needle) do {				\
	if (!strstr((hay), (needle)))					\
		fail_msg("'%s' does not contain '%s'", (hay), (needle));\
} while (0)

/* Parse text as a config file; returns conf_parse_file's result. */
static int parse_text(struct fixture *fx, const char *text, unsigned mask)
{
	write_file(fx->path, text);
	fx->err[0] = '\0';
	return conf_parse_file(&fx->cf, fx->path, mask, fx->err,
			       sizeof(fx->err));
}

static int parse_argv(struct fixture *fx, unsigned mask, int *first, ...)
{
	char *argv[32];
	va_list ap;
	int argc = 0;

	va_start(ap, first);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	fx->err[0] = '\0';
	return conf_parse_args(&fx->cf, argc, argv, mask, first, fx->err,
			       sizeof(fx->err));
}

static char *capture_help(unsigned mask)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	conf_help(f, mask, "prog");
	assert_int_equal(fclose(f), 0);
	return buf;
}

static char *capture_dump(const struct sdlm_conf *cf, unsigned mask,
			  bool commented)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	conf_dump(f, cf, mask, commented);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_defaults(void **state)
{
	struct fixture *fx = *state;
	struct sdlm_conf scratch;
	int id;

	/* Every row's default is a valid value of its own type. */
	conf_defaults(&scratch);
	for (id = 0; id < OPT_COUNT; id++) {
		char err[256] = "";

		assert_non_null(conf_options[id].co_name);
		assert_non_null(conf_options[id].co_help);
		if (conf_set(&scratch, id, conf_options[id].co_default,
			     CONF_SRC_DEFAULT, err, sizeof(err)) != 0)
			fail_msg("default of %s: %s", conf_options[id].co_name,
				 err);
		assert_int_equal(conf_find(conf_options[id].co_name), id);
	}
	conf_free(&scratch);

	/* --sysconfdir decides it (dlm/Makefile.am, tests/Makefile.am). */
	assert_string_equal(conf_str(&fx->cf, OPT_CONFIG), SDLM_CONFIG_FILE);
	assert_string_equal(conf_str(&fx->cf, OPT_DEVICE), "");
	assert_int_equal(conf_uint(&fx->cf, OPT_NODE_ID), 0);
	assert_string_equal(conf_str(&fx->cf, OPT_NODE_ID), "0");
	assert_string_equal(conf_str(&fx->cf, OPT_RUN_DIR), "/run/sdlm");
	assert_string_equal(conf_str(&fx->cf, OPT_LOG_FILE),
			    "/var/log/sdlm/sdlmd.log");
	assert_true(conf_bool(&fx->cf, OPT_LOG_SYSLOG));
	assert_int_equal(conf_uint(&fx->cf, OPT_LOG_LEVEL), LOG_INFO);
	assert_string_equal(conf_str(&fx->cf, OPT_LOG_LEVEL), "info");
	assert_int_equal(conf_uint(&fx->cf, OPT_DEBUG_RING_SIZE), 1048576);
	assert_false(conf_bool(&fx->cf, OPT_FOREGROUND));
	assert_string_equal(conf_str(&fx->cf, OPT_WATCHDOG_DEVICE),
			    "/dev/watchdog");
	assert_false(conf_bool(&fx->cf, OPT_NO_WATCHDOG));
	assert_string_equal(conf_str(&fx->cf, OPT_IPC_NAME), "sdlm");
	assert_true(conf_bool(&fx->cf, OPT_COROSYNC));
	assert_int_equal(conf_uint(&fx->cf, OPT_FENCE_WINDOW_S), 300);
	assert_int_equal(conf_uint(&fx->cf, OPT_UID_RESERVE_MAX), 65536);
	assert_int_equal(conf_uint(&fx->cf, OPT_UID_RESERVE_MIN), 16);
	assert_false(conf_bool(&fx->cf, OPT_JSON));
	assert_int_equal(conf_source(&fx->cf, OPT_DEVICE), CONF_SRC_DEFAULT);
	assert_int_equal(conf_check(&fx->cf, fx->err, sizeof(fx->err)), 0);

	/* Out-of-table ids are harmless. */
	assert_string_equal(conf_str(&fx->cf, OPT_COUNT), "");
	assert_int_equal(conf_uint(&fx->cf, -1), 0);
}

static void test_file_syntax_ok(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(parse_text(fx,
		"# a comment\n"
		"\n"
		"   \t\n"
		"device = /dev/sdb   # trailing comment\n"
		"\tnode_id=7\n"
		"node_name =  \"my # node\"  # comment after quote\n"
		"cluster_name = \"with \\\"quotes\\\" and \\\\\"\n"
		"run_dir = /tmp/run dir   \n"
		"log_file = none\n"
		"log_syslog = Off\n"
		"log_level = debug\n"
		"foreground = TRUE\n"
		"corosync = 0\n"
		"no_watchdog = on\n"
		"admin_group =\n"
		"ipc_name = sdlm-test\r\n"
		"uid_reserve_max = 4096", CONF_DAEMON), 0);
	assert_string_equal(fx->err, "");
	assert_string_equal(conf_str(&fx->cf, OPT_DEVICE), "/dev/sdb");
	assert_int_equal(conf_source(&fx->cf, OPT_DEVICE), CONF_SRC_FILE);
	assert_int_equal(conf_uint(&fx->cf, OPT_NODE_ID), 7);
	assert_string_equal(conf_str(&fx->cf, OPT_NODE_NAME), "my # node");
	assert_string_equal(conf_str(&fx->cf, OPT_CLUSTER_NAME),
			    "with \"quotes\" and \\");
	assert_string_equal(conf_str(&fx->cf, OPT_RUN_DIR), "/tmp/run dir");
	assert_string_equal(conf_str(&fx->cf, OPT_LOG_FILE), "");
	assert_false(conf_bool(&fx->cf, OPT_LOG_SYSLOG));
	assert_int_equal(conf_uint(&fx->cf, OPT_LOG_LEVEL), LOG_DEBUG);
	assert_true(conf_bool(&fx->cf, OPT_FOREGROUND));
	assert_false(conf_bool(&fx->cf, OPT_COROSYNC));
	assert_true(conf_bool(&fx->cf, OPT_NO_WATCHDOG));
	assert_string_equal(conf_str(&fx->cf, OPT_ADMIN_GROUP), "");
	assert_string_equal(conf_str(&fx->cf, OPT_IPC_NAME), "sdlm-test");
	assert_int_equal(conf_uint(&fx->cf, OPT_UID_RESERVE_MAX), 4096);
	/* Untouched keys keep their defaults. */
	assert_int_equal(conf_uint(&fx->cf, OPT_FENCE_WINDOW_S), 300);
	assert_int_equal(conf_source(&fx->cf, OPT_FENCE_WINDOW_S),
			 CONF_SRC_DEFAULT);
}

static void test_file_unknown_key(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(parse_text(fx, "device = /dev/sdb\n\nfrobnicate = 1\n",
				    CONF_DAEMON), -EINVAL);
	assert_contains(fx->err, fx->path);
	assert_contains(fx->err, ":3: unknown key 'frobnicate'");

	assert_int_equal(parse_text(fx, "node-id = 1\n", CONF_DAEMON), -EINVAL);
	assert_contains(fx->err, ":1: unknown key 'node-id' "
			"(did you mean 'node_id'?)");
}

static void test_file_bad_values(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(parse_text(fx, "log_syslog = yes\nlog_syslog2 = x\n",
				    CONF_DAEMON), -EINVAL);
	assert_contains(fx->err, ":2: unknown key");

	assert_int_equal(parse_text(fx, "# c\nlog_syslog = maybe\n",
				    CONF_DAEMON), -EINVAL);
	assert_contains(fx->err, ":2: log_syslog: bad value 'maybe'");

	assert_int_equal(parse_text(fx, "node_id = 256\n", CONF_DAEMON),
			 -ERANGE);
	assert_contains(fx->err, ":1: node_id: 256 out of range (0..255)");

	assert_int_equal(parse_text(fx, "\n\n\ndebug_ring_size = 4096\n",
				    CONF_DAEMON), -ERANGE);
	assert_contains(fx->err,
			":4: debug_ring_size: 4096 out of range (65536..");

	assert_int_equal(parse_text(fx, "grace_ms = 99999999999999999999\n",
				    CONF_DAEMON), -ERANGE);
	assert_contains(fx->err, "out of range");

	assert_int_equal(parse_text(fx, "node_id = -1\n", CONF_DAEMON),
			 -EINVAL);
	assert_contains(fx->err, "node_id: bad value '-1'");

	assert_int_equal(parse_text(fx, "node_id = 3x\n", CONF_DAEMON),
			 -EINVAL);
	assert_contains(fx->err, "bad value '3x'");

	assert_int_equal(parse_text(fx, "node_id =\n", CONF_DAEMON), -EINVAL);
	assert_contains(fx->err, "bad value ''");

	assert_int_equal(parse_text(fx, "log_level = verbose\n", CONF_DAEMON),
			 -EINVAL);
	assert_contains(fx->err, "log_level: bad value 'verbose' (expected "
			"one of: err warning notice info debug)");

	assert_int_equal(parse_text(fx, "run_dir = run/sdlm\n", CONF_DAEMON),
			 -EINVAL);
	assert_contains(fx->err, "run_dir: 'run/sdlm' is not an absolute path");

	/* Values before the bad line stay applied. */
	assert_int_equal(parse_text(fx, "node_id = 9\nfence_window_s = 0\n",
				    CONF_DAEMON), -ERANGE);
	assert_int_equal(conf_uint(&fx->cf, OPT_NODE_ID), 9);
	assert_contains(fx->err, ":2: fence_window_s: 0 out of range (1..");
}

static void test_file_structure_errors(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(parse_text(fx, "device = /a\nnode_id = 1\n"
				    "device = /b\n", CONF_DAEMON), -EINVAL);
	assert_contains(fx->err, ":3: duplicate key 'device' "
			"(first set on line 1)");

	assert_int_equal(parse_text(fx, "device /dev/sdb\n", CONF_DAEMON),
			 -EINVAL);
	assert_contains(fx->err, ":1: expected '=' after 'device'");

	assert_int_equal(parse_text(fx, "= 3\n", CONF_DAEMON), -EINVAL);
	assert_contains(fx->err, ":1: expected 'key = value'");

	assert_int_equal(parse_text(fx, "node_name = \"abc\n", CONF_DAEMON),
			 -EINVAL);
	assert_contains(fx->err, ":1: unterminated quote");

	assert_int_equal(parse_text(fx, "node_name = \"abc\" def\n",
				    CONF_DAEMON), -EINVAL);
	assert_contains(fx->err, ":1: text after closing quote");

	assert_int_equal(parse_text(fx, "node_name = \"a\\tb\"\n",
				    CONF_DAEMON), -EINVAL);
	assert_contains(fx->err, ":1: unknown escape");

	assert_int_equal(parse_text(fx, "config = /etc/other.conf\n",
				    CONF_DAEMON), -EINVAL);
	assert_contains(fx->err, ":1: 'config' is a command line option only");

	assert_int_equal(parse_text(fx, "node_name = a\tb\n", CONF_DAEMON),
			 -EINVAL);
	assert_contains(fx->err, "control character");
}

static void test_file_other_program_keys(void **state)
{
	struct fixture *fx = *state;

	/* sdlmctl reads sdlmd's keys without applying them... */
	assert_int_equal(parse_text(fx, "node_id = 3\nipc_name = x\n"
				    "json = yes\n", CONF_CTL), 0);
	assert_int_equal(conf_uint(&fx->cf, OPT_NODE_ID), 0);
	assert_string_equal(conf_str(&fx->cf, OPT_IPC_NAME), "x");
	assert_true(conf_bool(&fx->cf, OPT_JSON));
	/* ...but a broken value is still an error. */
	assert_int_equal(parse_text(fx, "node_id = 300\n", CONF_CTL), -ERANGE);
	assert_contains(fx->err, "node_id: 300 out of range");
}

static void test_missing_files(void **state)
{
	struct fixture *fx = *state;
	char missing[PATH_MAX + 64];
	int first = -1;

	snprintf(missing, sizeof(missing), "%s/nope.conf", fx->dir);
	fx->err[0] = '\0';
	assert_int_equal(conf_parse_file(&fx->cf, missing, CONF_DAEMON,
					 fx->err, sizeof(fx->err)), -ENOENT);
	assert_contains(fx->err, missing);

	/* An explicit -c that is missing is an error... */
	assert_int_equal(parse_argv(fx, CONF_DAEMON, &first, "sdlmd", "-c",
				    missing, NULL), -ENOENT);
	assert_contains(fx->err, missing);
	assert_contains(fx->err, "No such file");

	/* ...even with --help after other things went right? No: help skips
	 * the file altogether. */
	conf_free(&fx->cf);
	assert_int_equal(parse_argv(fx, CONF_DAEMON, &first, "sdlmd", "-c",
				    missing, "--help", NULL), 0);
	assert_true(conf_bool(&fx->cf, OPT_HELP));

	/* The default file missing is fine (skip where one is installed). */
	if (access(SDLM_CONFIG_FILE, F_OK) == 0)
		return;
	conf_free(&fx->cf);
	assert_int_equal(parse_argv(fx, CONF_DAEMON, &first, "sdlmd", "-f",
				    NULL), 0);
	assert_string_equal(fx->err, "");
	assert_true(conf_bool(&fx->cf, OPT_FOREGROUND));
}

static void test_cli_overrides_file(void **state)
{
	struct fixture *fx = *state;
	int first = -1;

	write_file(fx->path, "node_id = 3\ndevice = /dev/from-file\n"
		   "log_level = err\n");
	/* -n before -c: the command line still wins. */
	assert_int_equal(parse_argv(fx, CONF_DAEMON, &first, "sdlmd",
				    "-n", "5", "--config", fx->path,
				    "--log-level=notice", NULL), 0);
	assert_string_equal(fx->err, "");
	assert_int_equal(first, 6);
	assert_int_equal(conf_uint(&fx->cf, OPT_NODE_ID), 5);
	assert_int_equal(conf_source(&fx->cf, OPT_NODE_ID), CONF_SRC_CLI);
	assert_string_equal(conf_str(&fx->cf, OPT_DEVICE), "/dev/from-file");
	assert_int_equal(conf_source(&fx->cf, OPT_DEVICE), CONF_SRC_FILE);
	assert_int_equal(conf_uint(&fx->cf, OPT_LOG_LEVEL), LOG_NOTICE);
	assert_string_equal(conf_str(&fx->cf, OPT_CONFIG), fx->path);
	assert_int_equal(conf_source(&fx->cf, OPT_CONFIG), CONF_SRC_CLI);

	/* The last of repeated flags wins. */
	conf_free(&fx->cf);
	assert_int_equal(parse_argv(fx, CONF_DAEMON, &first, "sdlmd", "-c",
				    fx->path, "-n", "1", "--node-id", "2",
				    NULL), 0);
	assert_int_equal(conf_uint(&fx->cf, OPT_NODE_ID), 2);

	/* A bad file stops the parse even when the CLI would override. */
	conf_free(&fx->cf);
	write_file(fx->path, "node_id = 999\n");
	assert_int_equal(parse_argv(fx, CONF_DAEMON, &first, "sdlmd", "-c",
				    fx->path, "-n", "1", NULL), -ERANGE);
	assert_contains(fx->err, ":1: node_id: 999 out of range");

	/* Cross-option check runs on the merged result. */
	conf_free(&fx->cf);
	write_file(fx->path, "uid_reserve_max = 100\n");
	assert_int_equal(parse_argv(fx, CONF_DAEMON, &first, "sdlmd", "-c",
				    fx->path, "--uid-reserve-min=101", NULL),
			 -EINVAL);
	assert_contains(fx->err, "uid_reserve_min (101) is above "
			"uid_reserve_max (100)");
}

/*
 * The client tools (issue 16, item 4): ipc_name and device come from the
 * command line, else the environment, else the file, else the default;
 * `from` says which.  conf_client_file() reads the keys of CONF_CTL: an
 * explicit file must exist, the default may be missing.
 */
static void test_client_values(void **state)
{
	struct fixture *fx = *state;
	char from[PATH_MAX + 64], missing[PATH_MAX + 64];
	int first = -1;

	write_file(fx->path, "ipc_name = from-file\ndevice = /dev/file-dev\n"
		   "node_id = 4\n");
	assert_int_equal(parse_argv(fx, CONF_CTL | CONF_SOFT_DEFAULT, &first,
				    "sdlmctl", "-c", fx->path, "status", NULL), 0);
	assert_int_equal(first, 3);
	assert_string_equal(conf_client_value(&fx->cf, OPT_IPC_NAME, NULL,
					      "SDLM_IPC", from, sizeof(from)),
			    "from-file");
	assert_contains(from, "ipc_name in ");
	assert_contains(from, fx->path);
	/* the environment beats the file; "" is unset */
	assert_string_equal(conf_client_value(&fx->cf, OPT_IPC_NAME, "from-env",
					      "SDLM_IPC", from, sizeof(from)),
			    "from-env");
	assert_string_equal(from, "$SDLM_IPC");
	assert_string_equal(conf_client_value(&fx->cf, OPT_IPC_NAME, "",
					      "SDLM_IPC", NULL, 0), "from-file");
	/* sdlmd's keys are checked but not taken */
	assert_int_equal(conf_uint(&fx->cf, OPT_NODE_ID), 0);

	/* the command line beats both; --ipc is --ipc-name abbreviated */
	conf_free(&fx->cf);
	assert_int_equal(parse_argv(fx, CONF_CTL | CONF_SOFT_DEFAULT, &first,
				    "sdlmctl", "--ipc", "from-cli", "-c",
				    fx->path, "-d", "/dev/cli-dev", "fence",
				    NULL), 0);
	assert_string_equal(conf_client_value(&fx->cf, OPT_IPC_NAME, "from-env",
					      "SDLM_IPC", from, sizeof(from)),
			    "from-cli");
	assert_string_equal(from, "--ipc-name");
	assert_string_equal(conf_client_value(&fx->cf, OPT_DEVICE, "/dev/env",
					      "SDLM_DEVICE", from, sizeof(from)),
			    "/dev/cli-dev");
	assert_string_equal(from, "--device");

	/* nothing anywhere: the default, and the message says so */
	conf_free(&fx->cf);
	if (access(SDLM_CONFIG_FILE, F_OK) != 0) {	/* none installed */
		assert_int_equal(conf_client_file(&fx->cf, NULL, fx->err,
						  sizeof(fx->err)), 0);
		assert_string_equal(fx->err, "");
		assert_string_equal(conf_client_value(&fx->cf, OPT_IPC_NAME,
						      NULL, "SDLM_IPC", from,
						      sizeof(from)), "sdlm");
		assert_contains(from, "built-in default: no ipc_name in ");
		assert_string_equal(conf_client_value(&fx->cf, OPT_DEVICE,
						      NULL, "SDLM_DEVICE", from,
						      sizeof(from)), "");
	}

	/* conf_client_file: an explicit file is read, a missing one is an
	 * error, a bad one names file:line */
	conf_free(&fx->cf);
	assert_int_equal(conf_client_file(&fx->cf, fx->path, fx->err,
					  sizeof(fx->err)), 0);
	assert_string_equal(conf_str(&fx->cf, OPT_IPC_NAME), "from-file");
	assert_string_equal(conf_str(&fx->cf, OPT_DEVICE), "/dev/file-dev");
	conf_free(&fx->cf);
	snprintf(missing, sizeof(missing), "%s/nope.conf", fx->dir);
	assert_int_equal(conf_client_file(&fx->cf, missing, fx->err,
					  sizeof(fx->err)), -ENOENT);
	assert_contains(fx->err, missing);
	conf_free(&fx->cf);
	write_file(fx->path, "ipc_name = x\nfrobnicate = 1\n");
	assert_int_equal(conf_client_file(&fx->cf, fx->path, fx->err,
					  sizeof(fx->err)), -EINVAL);
	assert_contains(fx->err, ":2: unknown key 'frobnicate'");
}

static void test_short_and_long_flags(void **state)
{
	struct fixture *fx = *state;
	char cwd[PATH_MAX], want[PATH_MAX + 16];
	int first = -1;

	write_file(fx->path, "");
	assert_int_equal(parse_argv(fx, CONF_DAEMON, &first, "sdlmd", "-c",
				    fx->path, "-d", "/dev/sdc", "-n4", "-f",
				    NULL), 0);
	assert_string_equal(conf_str(&fx->cf, OPT_DEVICE), "/dev/sdc");
	assert_int_equal(conf_uint(&fx->cf, OPT_NODE_ID), 4);
	assert_true(conf_bool(&fx->cf, OPT_FOREGROUND));
	assert_int_equal(first, 7);

	conf_free(&fx->cf);
	assert_int_equal(parse_argv(fx, CONF_DAEMON, &first, "sdlmd",
				    "--config", fx->path, "--device=/dev/sdd",
				    "--node-id", "250", "--foreground",
				    "--no-watchdog", "--log-syslog=no",
				    "--watchdog-device", "wd.fifo",
				    "--debug-ring-size=65536", NULL), 0);
	assert_string_equal(conf_str(&fx->cf, OPT_DEVICE), "/dev/sdd");
	assert_int_equal(conf_uint(&fx->cf, OPT_NODE_ID), 250);
	assert_true(conf_bool(&fx->cf, OPT_FOREGROUND));
	assert_true(conf_bool(&fx->cf, OPT_NO_WATCHDOG));
	assert_false(conf_bool(&fx->cf, OPT_LOG_SYSLOG));
	assert_int_equal(conf_uint(&fx->cf, OPT_DEBUG_RING_SIZE), 65536);
	/* A relative path on the command line is made absolute. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(want, sizeof(want), "%s/wd.fifo", cwd);
	assert_string_equal(conf_str(&fx->cf, OPT_WATCHDOG_DEVICE), want);

	/* sdlmctl: options stop at the subcommand. */
	conf_free(&fx->cf);
	assert_int_equal(parse_argv(fx, CONF_CTL, &first, "sdlmctl", "-c",
				    fx->path, "--json", "--ipc-name", "n2",
				    "lock", "--foo", "-x", NULL), 0);
	assert_int_equal(first, 6);
	assert_true(conf_bool(&fx->cf, OPT_JSON));
	assert_string_equal(conf_str(&fx->cf, OPT_IPC_NAME), "n2");

	assert_int_equal(parse_argv(fx, CONF_CTL, &first, "sdlmctl", "-c",
				    fx->path, "--", "-status", NULL), 0);
	assert_int_equal(first, 4);

	/* Errors name the option. */
	assert_int_equal(parse_argv(fx, CONF_CTL, &first, "sdlmctl",
				    "--node-id=3", "status", NULL), -EINVAL);
	assert_contains(fx->err, "unknown option '--node-id=3'");
	assert_int_equal(parse_argv(fx, CONF_DAEMON, &first, "sdlmd", "-x",
				    NULL), -EINVAL);
	assert_contains(fx->err, "unknown option '-x'");
	assert_int_equal(parse_argv(fx, CONF_DAEMON, &first, "sdlmd", "-d",
				    NULL), -EINVAL);
	assert_contains(fx->err, "missing value for option '-d'");
	assert_int_equal(parse_argv(fx, CONF_DAEMON, &first, "sdlmd",
				    "--device", NULL), -EINVAL);
	assert_contains(fx->err, "missing value for option '--device'");
	assert_int_equal(parse_argv(fx, CONF_DAEMON, &first, "sdlmd", "-c",
				    fx->path, "--foreground=perhaps", NULL),
			 -EINVAL);
	assert_contains(fx->err, "--foreground: bad value 'perhaps'");
	assert_int_equal(parse_argv(fx, CONF_DAEMON, &first, "sdlmd", "-c",
				    fx->path, "-n", "0x10", NULL), -EINVAL);
	assert_contains(fx->err, "--node-id: bad value '0x10'");
}

/* Collapse runs of blanks and newlines to one space: undo the wrapping. */
static void squeeze_blanks(char *s)
{
	char *w = s, *r, c;

	for (r = s; *r; r++) {
		c = *r == '\n' ? ' ' : *r;
		if (c == ' ' && w > s && w[-1] == ' ')
			continue;
		*w++ = c;
	}
	*w = '\0';
}

static void test_help_lists_every_option(void **state)
{
	char name[64], flag[80];
	unsigned masks[] = { CONF_DAEMON, CONF_CTL };
	size_t m, i;
	int id;

	(void)state;
	for (m = 0; m < 2; m++) {
		char *help = capture_help(masks[m]);

		assert_contains(help, "Usage: prog [OPTION]...");
		for (id = 0; id < OPT_COUNT; id++) {
			const struct conf_option *o = &conf_options[id];

			for (i = 0; o->co_name[i]; i++)
				name[i] = o->co_name[i] == '_' ? '-' :
					  o->co_name[i];
			name[i] = '\0';
			snprintf(flag, sizeof(flag), "  --%s", name);
			if (o->co_short)
				snprintf(flag, sizeof(flag), "-%c, --%s",
					 o->co_short, name);
			if (o->co_mask & masks[m])
				assert_contains(help, flag);
			else if (strstr(help, flag))
				fail_msg("%s in help of mask %u", flag,
					 masks[m]);
		}
		free(help);
	}

	{
		char *help = capture_help(CONF_DAEMON);

		assert_contains(help, "-n, --node-id=N\n");
		squeeze_blanks(help);
		assert_contains(help, "Range: 65536..1073741824 bytes.");
		assert_contains(help, "One of: err, warning, notice, info, "
				"debug. Default: info.");
		free(help);
	}
}

static void test_dump_round_trip(void **state)
{
	struct fixture *fx = *state;
	struct sdlm_conf back;
	char *text;
	int id;

	assert_int_equal(conf_set(&fx->cf, OPT_DEVICE, "/dev/disk/by-id/x#1",
				  CONF_SRC_CLI, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(conf_set(&fx->cf, OPT_NODE_NAME, "  lead and trail ",
				  CONF_SRC_CLI, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(conf_set(&fx->cf, OPT_CLUSTER_NAME, "q\"b\\s",
				  CONF_SRC_CLI, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(conf_set(&fx->cf, OPT_IPC_NAME, "\"quoted\"",
				  CONF_SRC_CLI, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(conf_set(&fx->cf, OPT_LOG_FILE, "none",
				  CONF_SRC_CLI, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(conf_set(&fx->cf, OPT_GRACE_MS, "4500",
				  CONF_SRC_CLI, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(conf_set(&fx->cf, OPT_LOG_LEVEL, "warning",
				  CONF_SRC_CLI, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(conf_set(&fx->cf, OPT_COROSYNC, "off",
				  CONF_SRC_CLI, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(conf_set(&fx->cf, OPT_JSON, "yes",
				  CONF_SRC_CLI, fx->err, sizeof(fx->err)), 0);

	text = capture_dump(&fx->cf, CONF_ALL, false);
	assert_contains(text, "device = \"/dev/disk/by-id/x#1\"\n");
	assert_contains(text, "log_file = \"\"\n");
	assert_null(strstr(text, "config ="));
	write_file(fx->path, text);
	free(text);

	conf_defaults(&back);
	assert_int_equal(conf_parse_file(&back, fx->path, CONF_ALL, fx->err,
					 sizeof(fx->err)), 0);
	for (id = 0; id < OPT_COUNT; id++) {
		if (conf_options[id].co_flags & CONF_F_CLI_ONLY)
			continue;
		assert_string_equal(conf_str(&back, id), conf_str(&fx->cf, id));
		assert_int_equal(conf_uint(&back, id), conf_uint(&fx->cf, id));
	}
	assert_int_equal(conf_source(&back, OPT_RUN_DIR), CONF_SRC_FILE);
	conf_free(&back);

	/* The commented dump sets nothing and mentions every file key. */
	text = capture_dump(&fx->cf, CONF_ALL, true);
	write_file(fx->path, text);
	for (id = 0; id < OPT_COUNT; id++) {
		char key[64];

		snprintf(key, sizeof(key), "\n#%s = ", conf_options[id].co_name);
		if (conf_options[id].co_flags & CONF_F_CLI_ONLY)
			assert_null(strstr(text, key));
		else
			assert_contains(text, key);
	}
	assert_contains(text, "#grace_ms = 4500\n");
	free(text);
	conf_defaults(&back);
	assert_int_equal(conf_parse_file(&back, fx->path, CONF_ALL, fx->err,
					 sizeof(fx->err)), 0);
	for (id = 0; id < OPT_COUNT; id++)
		assert_int_equal(conf_source(&back, id), CONF_SRC_DEFAULT);
	conf_free(&back);
}

#ifndef SDLM_SRCDIR
#define SDLM_SRCDIR "."
#endif

static void test_shipped_conf_matches(void **state)
{
	struct fixture *fx = *state;
	const char *src = getenv("SDLM_SRCDIR");
	char path[PATH_MAX], *shipped = NULL, *generated;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	if (!src || !*src)
		src = SDLM_SRCDIR;
	snprintf(path, sizeof(path), "%s/conf/sdlm.conf", src);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s (set SDLM_SRCDIR)", path);
	n = getdelim(&shipped, &cap, '\0', f);
	fclose(f);
	assert_true(n > 0);

	generated = capture_dump(&fx->cf, CONF_ALL, true);
	if (strcmp(shipped, generated) != 0)
		fail_msg("%s differs from conf_dump(); regenerate it with "
			 "'test_conf --generate > conf/sdlm.conf'", path);
	free(generated);
	free(shipped);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_syntax_ok, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_file_unknown_key, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_file_bad_values, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_file_structure_errors,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_other_program_keys,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_files, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cli_overrides_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_client_values, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_short_and_long_flags,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_help_lists_every_option,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_shipped_conf_matches,
						setup, teardown),
	};

	if (argc > 1 && strcmp(argv[1], "--generate") == 0) {
		struct sdlm_conf cf;

		conf_defaults(&cf);
		conf_dump(stdout, &cf, CONF_ALL, true);
		conf_free(&cf);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
