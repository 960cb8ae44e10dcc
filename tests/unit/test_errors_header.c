/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_errors_header.c - sdlm_errors.h, the domain errors every layer
 * shares, compiles alone (it is included first, before any system
 * header) and keeps every value: they cross the IPC boundary and name
 * exit reasons, so a renumbering is an ABI break.  sdlm.h includes this
 * header; test_header.c checks that it still compiles alone too.
 */
#include "sdlm_errors.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

static void test_errors_values(void **state)
{
	static const struct { int v, want; } pin[] = {
		{ SDLM_EBASE, 1000 },
		{ SDLM_EMAGIC, -1001 },		{ SDLM_EVERSION, -1002 },
		{ SDLM_ECHECKSUM, -1003 },	{ SDLM_EIDENTITY, -1004 },
		{ SDLM_EIOTIMEOUT, -1005 },	{ SDLM_ESHORTIO, -1006 },
		{ SDLM_ENOTINIT, -1007 },	{ SDLM_ETIMEOUTS, -1008 },
		{ SDLM_ENOTSAFE, -1009 },	{ SDLM_EFENCED, -1010 },
		{ SDLM_EDUPWRITER, -1011 },	{ SDLM_ENOQUORUM, -1012 },
		{ SDLM_ELEASE, -1013 },		{ SDLM_EPILL, -1014 },
		{ SDLM_EEPOCH, -1015 },		{ SDLM_EPROTO, -1016 },
		{ SDLM_EBUSY, -1017 },		{ SDLM_ECANCELED, -1018 },
		{ SDLM_EDAEMON, -1019 },	{ SDLM_EUIDWRAP, -1020 },
		{ SDLM_EUIDFULL, -1021 },	{ SDLM_EQUORATE, -1022 },
		{ SDLM_EPEERLIVE, -1023 },	{ SDLM_EDEGRADED, -1024 },
		{ SDLM_ERESERVED, -1025 },	{ SDLM_ELIMIT, -1026 },
		{ SDLM_EEXPIRED, -1027 },	{ SDLM_ESLOW, -1028 },
		{ SDLM_EOTHERLS, -1029 },	{ SDLM_EHANDEDOFF, -1030 },
		{ SDLM_ELAST, -1031 },
	};
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(pin) / sizeof(pin[0]); i++)
		assert_int_equal(pin[i].v, pin[i].want);
}

/* The text function is declared here too; libsdlm defines it. */
static void test_errors_strerror(void **state)
{
	(void)state;
	assert_string_equal(sdlm_strerror(SDLM_EPILL), "a poison pill was received");
	assert_string_equal(sdlm_strerror(SDLM_ELEASE), "own disk lease expired");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors_values),
		cmocka_unit_test(test_errors_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
