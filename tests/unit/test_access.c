/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_access.c - who may connect to sdlmd (dlm/daemon/access.c): the level of
 * a process from its /proc/<pid>/status text, supplementary groups
 * counted; root always; text that does not parse, or names another uid,
 * refused; group values by name or number.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "access.h"

#define CLIENT	100
#define ADMIN	200

static const struct access_policy both = {
	.client_set = true, .admin_set = true, .client_gid = CLIENT, .admin_gid = ADMIN,
};

/* A status text as the kernel writes it (the lines around matter not). */
static char *status(unsigned uid, unsigned egid, const char *groups)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf),
		 "Name:\tsdlm-deliver\nUmask:\t0022\nState:\tR (running)\nTgid:\t4242\n"
		 "Pid:\t4242\nPPid:\t1\nTracerPid:\t0\n"
		 "Uid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\nFDSize:\t64\n"
		 "Groups:\t%s\nNStgid:\t4242\nVmPeak:\t  1000 kB\n",
		 uid, uid, uid, uid, egid, egid, egid, egid, groups);
	return buf;
}

static enum ipcreq_level level(const struct access_policy *p, unsigned uid, const char *text)
{
	return access_level(p, uid, text, text ? strlen(text) : 0);
}

static void test_levels(void **state)
{
	(void)state;
	/* nobody in no group */
	assert_int_equal(level(&both, 65534, status(65534, 65534, "65534 ")), IPCREQ_NONE);
	/* a supplementary group counts, wherever it stands in the list */
	assert_int_equal(level(&both, 8, status(8, 8, "8 100 ")), IPCREQ_CLIENT);
	assert_int_equal(level(&both, 8, status(8, 8, "5 6 7 200 ")), IPCREQ_ADMIN);
	assert_int_equal(level(&both, 8, status(8, 8, "100 200 ")), IPCREQ_ADMIN);
	/* the effective group counts, as for files */
	assert_int_equal(level(&both, 8, status(8, 100, "")), IPCREQ_CLIENT);
	assert_int_equal(level(&both, 8, status(8, 200, " ")), IPCREQ_ADMIN);
	/* no supplementary groups at all (the kernel writes "Groups:\t\n") */
	assert_int_equal(level(&both, 8, status(8, 8, "")), IPCREQ_NONE);
	/* a number that merely starts like the group is not the group */
	assert_int_equal(level(&both, 8, status(8, 8, "1000 2001 10 ")), IPCREQ_NONE);
	/* root, whatever it holds, and even with no text */
	assert_int_equal(level(&both, 0, status(0, 0, "")), IPCREQ_ADMIN);
	assert_int_equal(level(&both, 0, NULL), IPCREQ_ADMIN);
}

static void test_policy(void **state)
{
	struct access_policy none = { 0 }, client_only = both, admin_only = both;

	(void)state;
	client_only.admin_set = false;
	admin_only.client_set = false;
	/* nothing configured: root only */
	assert_int_equal(level(&none, 8, status(8, 100, "100 200")), IPCREQ_NONE);
	assert_int_equal(level(&none, 0, NULL), IPCREQ_ADMIN);
	/* an unset group matches nobody, gid 0 included */
	assert_int_equal(level(&client_only, 8, status(8, 8, "200")), IPCREQ_NONE);
	assert_int_equal(level(&client_only, 8, status(8, 8, "100")), IPCREQ_CLIENT);
	assert_int_equal(level(&admin_only, 8, status(8, 8, "100")), IPCREQ_NONE);
	assert_int_equal(level(&admin_only, 8, status(8, 8, "200")), IPCREQ_ADMIN);
	none.client_set = true;		/* client_gid 0: the root group */
	assert_int_equal(level(&none, 8, status(8, 0, "")), IPCREQ_CLIENT);
	assert_int_equal(level(&none, 8, status(8, 8, "")), IPCREQ_NONE);
}

static void test_bad_text(void **state)
{
	static const char *const bad[] = {
		"",
		"Uid:\t8\t8\t8\t8\nGroups:\t100\n",			/* no Gid */
		"Uid:\t8\t8\t8\t8\nGid:\t8\t8\t8\t8\n",		/* no Groups */
		"Gid:\t8\t8\t8\t8\nGroups:\t100\n",			/* no Uid */
		"Uid:\t8\nGid:\t8\t8\t8\t8\nGroups:\t100\n",		/* short Uid */
		"Uid:\t8\t8\t8\t8\nGid:\t8\t100\nGroups:\t\n",		/* short Gid */
		"Uid:\t8\t8\t8\t8\nGid:\t8\t8\t8\t8\nGroups:\t1x00\n",	/* garbage */
		"Uid:\t8\t8\t8\t8\nGid:\t8\t8\t8\t8\nGroups:\t7 100x\n",
		"Uid:\t8\t8\t8\t8\nGid:\t8\t8\t8\t8\nGroups:\t99999999999 100\n",
		"Uid:\t8\t8\t8\t8\nGid:\t8\t8\t8\t8\nGroups:\t-100\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(level(&both, 8, bad[i]), IPCREQ_NONE);
	assert_int_equal(level(&both, 8, NULL), IPCREQ_NONE);
	/* the same text, well formed, is admitted: the refusals above are
	 * the text's fault */
	assert_int_equal(level(&both, 8, "Uid:\t8\t8\t8\t8\nGid:\t8\t8\t8\t8\nGroups:\t7 100\n"),
			 IPCREQ_CLIENT);
	/* the text must be of the process that connected: another uid (a pid
	 * reused in between) is refused */
	assert_int_equal(level(&both, 8, status(9, 8, "100")), IPCREQ_NONE);
	/* the effective uid decides (a setuid program's real uid is not it) */
	assert_int_equal(level(&both, 8, "Uid:\t9\t8\t8\t8\nGid:\t8\t8\t8\t8\nGroups:\t100\n"),
			 IPCREQ_CLIENT);
	/* the length bounds the text: a Groups line cut short is not read on */
	{
		const char *t = "Uid:\t8\t8\t8\t8\nGid:\t8\t8\t8\t8\nGroups:\t1\n";
		char g[64];

		snprintf(g, sizeof(g), "%s", "Uid:\t8\t8\t8\t8\nGid:\t8\t8\t8\t8\nGroups:\t100\n");
		/* cut after "Groups:\t1": "1" is not group 100 */
		assert_int_equal(access_level(&both, 8, g, strlen(t) - 1), IPCREQ_NONE);
	}
}

static void test_group_resolve(void **state)
{
	char err[128];
	uint32_t gid = 7;

	(void)state;
	assert_int_equal(access_group_resolve("root", &gid, err, sizeof(err)), 0);
	assert_int_equal(gid, 0);
	assert_int_equal(access_group_resolve("64123", &gid, err, sizeof(err)), 0);
	assert_int_equal(gid, 64123);
	assert_int_equal(access_group_resolve("no-such-group-sdlm", &gid, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no-such-group-sdlm"));
	assert_int_equal(access_group_resolve("12x", &gid, err, sizeof(err)), -ENOENT);
	assert_int_equal(access_group_resolve("4294967295", &gid, err, sizeof(err)), -ENOENT);
	assert_int_equal(access_group_resolve("99999999999999999999", &gid, err, sizeof(err)), -ENOENT);
}

static void test_hint(void **state)
{
	char path[] = "/tmp/sdlm-access-XXXXXX", *text = NULL;
	size_t len = 0;
	FILE *f, *out;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("client_group = mail\nadmin_group = adm\n", f);
	fclose(f);
	out = open_memstream(&text, &len);
	access_hint(out, "sdlmctl", path, false);
	fclose(out);
	assert_non_null(strstr(text, "group 'mail' (client_group in "));
	assert_non_null(strstr(text, path));
	free(text);
	out = open_memstream(&text, &len);
	access_hint(out, "sdlmctl", path, true);
	fclose(out);
	assert_non_null(strstr(text, "group 'adm' (admin_group in "));
	free(text);
	f = fopen(path, "w");
	fputs("# nothing set\n", f);
	fclose(f);
	out = open_memstream(&text, &len);
	access_hint(out, "sdlmctl", path, false);
	fclose(out);
	assert_non_null(strstr(text, "only root"));
	free(text);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_bad_text),
		cmocka_unit_test(test_group_resolve),
		cmocka_unit_test(test_hint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
