/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_header_cxx.cc - the installed header compiles alone as C++ and
 * links against the C library (its extern "C" block is right).
 *
 * sdlm.h comes first, before any other header.  No cmocka here: a
 * failed check prints its line and the program exits 1.
 */
#include "sdlm.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

static int failures;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		std::fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
		failures++;						\
	}								\
} while (0)

static void ast_cb(void *arg, struct sdlm_lksb *lksb)
{
	(void)arg;
	(void)lksb;
}

static void bast_cb(void *arg, struct sdlm_lksb *lksb, int mode)
{
	(void)arg;
	(void)lksb;
	(void)mode;
}

int main()
{
	sdlm_handle_t *h = nullptr;
	struct sdlm_lksb lksb;
	sdlm_ast_fn ast = ast_cb;
	sdlm_bast_fn bast = bast_cb;

	std::memset(&lksb, 0, sizeof(lksb));
	CHECK(sizeof(lksb.lvb) == SDLM_LVB_LEN);
	CHECK(sdlm_mode_parse("ex") == SDLM_EX);
	CHECK(std::strcmp(sdlm_mode_name(SDLM_CR), "CR") == 0);
	CHECK(std::strcmp(sdlm_strerror(SDLM_ECANCELED), "request cancelled") == 0);
	CHECK(sdlm_lock_async(h, "ls", "r", SDLM_EX, SDLM_LKF_NOQUEUE, &lksb,
			      ast, bast, nullptr) == -EINVAL);
	CHECK(sdlm_dispatch(h) == -EINVAL);
	return failures ? 1 : 0;
}
