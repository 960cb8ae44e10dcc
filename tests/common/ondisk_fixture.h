/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ondisk_fixture.h - what the unit tests of the on-disk records share
 * (test_ondisk.c, test_uidrec.c): the two cluster uuids they encode with,
 * the golden images, and the tools of a corrupter that knows the format
 * (a little-endian store, resealing the CRC after an edit).
 *
 * Golden directory: $SDLM_GOLDEN_DIR, else the compile-time SDLM_GOLDEN_DIR,
 * else "tests/golden" under the current directory.  Run once with
 * SDLM_GOLDEN_WRITE=1 after a deliberate format change: golden_check then
 * writes the images instead of comparing.
 */
#ifndef SDLM_TEST_ONDISK_FIXTURE_H
#define SDLM_TEST_ONDISK_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "ondisk.h"

#define SECTOR_MAX	4096

/* uuid_a is the cluster's; uuid_b differs in its last byte only. */
extern const uint8_t uuid_a[SDLM_UUID_LEN];
extern const uint8_t uuid_b[SDLM_UUID_LEN];

/* Compare buf with the golden image `name` (cmocka assertions), or write
 * it when SDLM_GOLDEN_WRITE is set. */
void golden_check(const char *name, const uint8_t *buf, size_t len);

void put_le16(uint8_t *p, uint16_t v);
void put_le32(uint8_t *p, uint32_t v);

/* Recompute a record's CRC32C (its last 4 bytes of SDLM_RECORD_SIZE) after
 * a deliberate edit, so a test reaches the checks behind the checksum. */
void reseal(uint8_t *rec);

#endif
