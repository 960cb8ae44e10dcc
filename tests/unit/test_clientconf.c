/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_clientconf.c - the ipc_name libsdlm reads from sdlm.conf
 * (dlm/lib/clientconf.c), against files written here.
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

#include "clientconf.h"

static char path[512];

static const char *with(const char *text)
{
	const char *d = getenv("SDLM_TEST_DIR");
	FILE *f;

	snprintf(path, sizeof(path), "%s/clientconf-%d.conf", d && *d ? d : ".", (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static int name_of(const char *text, char *out, size_t len)
{
	int rc = clientconf_ipc_name(with(text), out, len);

	unlink(path);
	return rc;
}

static void test_values(void **state)
{
	char n[65];

	(void)state;
	assert_int_equal(name_of("ipc_name = mail\n", n, sizeof(n)), 1);
	assert_string_equal(n, "mail");
	assert_int_equal(name_of("# sdlm.conf\n  device = /dev/x\nipc_name=mail2   # the mail cluster\n",
				 n, sizeof(n)), 1);
	assert_string_equal(n, "mail2");
	assert_int_equal(name_of("ipc_name = \"quoted \\\"x\\\"\"\n", n, sizeof(n)), 1);
	assert_string_equal(n, "quoted \"x\"");
	/* a key that only starts alike is another key */
	assert_int_equal(name_of("ipc_name_old = a\nipc_name = b\n", n, sizeof(n)), 1);
	assert_string_equal(n, "b");
	/* the last line without a newline */
	assert_int_equal(name_of("ipc_name = tail", n, sizeof(n)), 1);
	assert_string_equal(n, "tail");
}

static void test_absent_or_bad(void **state)
{
	char n[65], small[4];

	(void)state;
	assert_int_equal(clientconf_ipc_name("/nonexistent/sdlm.conf", n, sizeof(n)), 0);
	assert_int_equal(name_of("device = /dev/x\n# ipc_name = commented\n", n, sizeof(n)), 0);
	assert_int_equal(name_of("ipc_name =\n", n, sizeof(n)), -EINVAL);
	assert_int_equal(name_of("ipc_name = \"open\n", n, sizeof(n)), -EINVAL);
	assert_int_equal(name_of("ipc_name = \"a\" junk\n", n, sizeof(n)), -EINVAL);
	assert_int_equal(name_of("ipc_name = a\x01" "b\n", n, sizeof(n)), -EINVAL);
	assert_int_equal(name_of("ipc_name = long\n", small, sizeof(small)), -EINVAL);
	assert_int_equal(clientconf_ipc_name(NULL, n, sizeof(n)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_absent_or_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
