/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ondisk_fixture.c - shared by the on-disk record tests; see
 * ondisk_fixture.h.
 */
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

#include "crc32c.h"
#include "ondisk_fixture.h"

#ifndef SDLM_GOLDEN_DIR
#define SDLM_GOLDEN_DIR "tests/golden"
#endif

const uint8_t uuid_a[SDLM_UUID_LEN] = {
	0x6b, 0x1d, 0x2e, 0x3f, 0x40, 0x51, 0x42, 0x63,
	0x84, 0x95, 0xa6, 0xb7, 0xc8, 0xd9, 0xea, 0xfb,
};
const uint8_t uuid_b[SDLM_UUID_LEN] = {
	0x6b, 0x1d, 0x2e, 0x3f, 0x40, 0x51, 0x42, 0x63,
	0x84, 0x95, 0xa6, 0xb7, 0xc8, 0xd9, 0xea, 0xfc,
};

static const char *golden_dir(void)
{
	const char *dir = getenv("SDLM_GOLDEN_DIR");

	return dir && *dir ? dir : SDLM_GOLDEN_DIR;
}

void golden_check(const char *name, const uint8_t *buf, size_t len)
{
	char path[4096];
	uint8_t file[SECTOR_MAX + 1];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", golden_dir(), name);
	if (getenv("SDLM_GOLDEN_WRITE")) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, buf, len), (ssize_t)len);
		assert_int_equal(close(fd), 0);
		fprintf(stderr, "wrote %s\n", path);
		return;
	}
	fd = open(path, O_RDONLY);
	if (fd < 0)
		fail_msg("cannot open golden image %s: %s", path, strerror(errno));
	n = read(fd, file, sizeof(file));
	close(fd);
	assert_int_equal(n, (ssize_t)len);
	assert_memory_equal(file, buf, len);
}

void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, v & 0xffff);
	put_le16(p + 2, v >> 16);
}

void reseal(uint8_t *rec)
{
	put_le32(rec + SDLM_RECORD_CRC_OFFSET,
		 crc32c(0, rec, SDLM_RECORD_CRC_OFFSET));
}
