/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidio_fixture.h - what the UID I/O and UID service unit tests share
 * (test_uidio, test_uidsvc): a file-backed area with a UID table of
 * NSLOTS slots, a record I/O context over it, and records written as
 * another node would.
 */
#ifndef SDLM_UIDIO_FIXTURE_H
#define SDLM_UIDIO_FIXTURE_H

#include <limits.h>
#include <stdint.h>

#include "area.h"
#include "uidrec.h"
#include "uid.h"
#include "uidio.h"

#define IO_MS		300u	/* the area's T */
#define NSLOTS		512u
#define MS		1000000ull

struct fixture {
	char path[PATH_MAX];
	struct area *a;
	struct uio *io;
	struct uid_params params;
	int may_use;
	unsigned may_use_asked;
	unsigned kicks;
};

/* cmocka setup and teardown: the area (in $SDLM_TEST_DIR, else the
 * current directory: not tmpfs, which has no O_DIRECT) and its context. */
int fx_setup(void **state);
int fx_teardown(void **state);

/* The context's host calls (uio_create): fx->may_use, counted; kicks
 * counted. */
int fx_may_use(void *ctx);
void fx_kick(void *ctx);

/* The GUID of test mailbox i. */
void guid_of(unsigned i, uint8_t g[UID_GUID_LEN]);

/* A record of GUID i (name "box<i>") in global slot s, both copies, in
 * state (UIDREC_*), written with plain pwrite (the test plays another
 * node); put_rec: a used one. */
void put_rec_st(struct fixture *fx, const struct uidtab_geom *g, uint64_t s, unsigned i,
		uint32_t state);
void put_rec(struct fixture *fx, const struct uidtab_geom *g, uint64_t s, unsigned i);

#endif
