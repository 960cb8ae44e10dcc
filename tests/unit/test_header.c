/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_header.c - the installed header compiles alone as C.
 *
 * sdlm.h is included first, before any system header, so anything it
 * forgets to include itself breaks this build.  The checks then use the
 * header's types and constants against the library, so the test also
 * fails if the header and libsdlm disagree.
 */
#include "sdlm.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static void test_header_types(void **state)
{
	struct sdlm_lksb lksb;
	sdlm_ast_fn ast = NULL;
	sdlm_bast_fn bast = NULL;
	sdlm_handle_t *h = NULL;
	(void)state;

	memset(&lksb, 0, sizeof(lksb));
	assert_int_equal(sizeof(lksb.lvb), SDLM_LVB_LEN);
	assert_int_equal(sizeof(lksb.lkid), 8);
	assert_null(ast);
	assert_null(bast);
	/* No handle: rejected before any IPC. */
	assert_int_equal(sdlm_lock(h, "ls", "r", SDLM_EX, 0, 0, &lksb), -EINVAL);
}

static void test_header_names(void **state)
{
	(void)state;
	assert_int_equal(sdlm_mode_parse(sdlm_mode_name(SDLM_PW)), SDLM_PW);
	assert_string_equal(sdlm_mode_name(SDLM_NL), "NL");
	assert_string_equal(sdlm_strerror(SDLM_EDAEMON), "cannot reach sdlmd");
	assert_string_equal(sdlm_strerror(SDLM_EBUSY),
			    "resource busy (not grantable without waiting)");
	assert_true(SDLM_ELAST < SDLM_EDAEMON);
	assert_true(SDLM_LKF_NOQUEUE != SDLM_LKF_VALBLK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_types),
		cmocka_unit_test(test_header_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
