/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidio_fixture.c - the file-backed area of test_uidio and test_uidsvc
 * (uidio_fixture.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sdlm.h"
#include "aio.h"
#include "area.h"
#include "ondisk.h"
#include "uidrec.h"
#include "uid.h"
#include "uidio.h"
#include "uidio_fixture.h"

static const char *test_dir(void)
{
	const char *d = getenv("SDLM_TEST_DIR");

	return d && *d ? d : ".";
}

int fx_may_use(void *ctx)
{
	struct fixture *fx = ctx;

	fx->may_use_asked++;
	return fx->may_use;
}

void fx_kick(void *ctx)
{
	((struct fixture *)ctx)->kicks++;
}

int fx_setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct sdlm_header h;
	char why[AREA_WHY_LEN];
	int rv;

	assert_non_null(fx);
	snprintf(fx->path, sizeof(fx->path), "%s/sdlm-test-uidio-%ld.img", test_dir(),
		 (long)getpid());
	memset(&h, 0, sizeof(h));
	h.sector_size = 512;
	h.num_nodes = 2;
	snprintf(h.cluster_name, sizeof(h.cluster_name), "uidio");
	memset(h.uuid, 0x3c, sizeof(h.uuid));
	h.io_timeout_ms = IO_MS;
	h.hb_interval_ms = 100;
	h.watchdog_timeout_ms = 1000;
	h.uid_area_start = 2 * h.num_nodes + 1;
	h.uid_area_sectors = 2 * NSLOTS;
	rv = area_init(fx->path, &h, true, 2000, why, NULL, NULL);
	if (rv == -EINVAL)
		fail_msg("%s (tmpfs?): set SDLM_TEST_DIR to a directory on ext4/xfs", why);
	assert_int_equal(rv, 0);
	assert_int_equal(area_open(&fx->a, fx->path, 2000, why), 0);
	assert_int_equal(uio_create(&fx->io, fx->a, fx_may_use, fx_kick, fx), 0);
	uid_params_default(&fx->params);
	*state = fx;
	return 0;
}

int fx_teardown(void **state)
{
	struct fixture *fx = *state;

	uio_destroy(fx->io, 2 * IO_MS);
	area_close(fx->a);
	unlink(fx->path);
	free(fx);
	return 0;
}

void guid_of(unsigned i, uint8_t g[UID_GUID_LEN])
{
	memset(g, 0, UID_GUID_LEN);
	g[0] = 0xa5;
	g[1] = (uint8_t)i;
	g[2] = (uint8_t)(i >> 8);
}

/* A used record of GUID i in global slot s, both copies, written with
 * plain pwrite (the test plays another node). */
void put_rec_st(struct fixture *fx, const struct uidtab_geom *g, uint64_t s, unsigned i,
		uint32_t state)
{
	uint8_t sec[512];
	struct uid_rec r;
	uint64_t off;
	int fd = open(fx->path, O_WRONLY);

	assert_true(fd >= 0);
	for (uint32_t c = 0; c < 2; c++) {
		memset(&r, 0, sizeof(r));
		r.state = state;
		guid_of(i, r.guid);
		r.slot = s;
		r.copy = c;
		r.gen = 1;
		r.epoch = 1;
		r.seq = 1 + c;
		r.node_id = 2;
		r.uidvalidity = 9;
		r.watermark = 10;
		r.name_len = (uint16_t)snprintf(r.name, sizeof(r.name), "box%u", i);
		assert_int_equal(uidrec_out(&r, fx->a->hdr.uuid, sec, sizeof(sec)), 0);
		assert_int_equal(uidtab_geom_offset(g, s, c, &off), 0);
		assert_int_equal(pwrite(fd, sec, sizeof(sec), (off_t)off), (ssize_t)sizeof(sec));
	}
	close(fd);
}

void put_rec(struct fixture *fx, const struct uidtab_geom *g, uint64_t s, unsigned i)
{
	put_rec_st(fx, g, s, i, UIDREC_USED);
}
