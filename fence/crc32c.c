/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crc32c.c - CRC-32C, slice-by-8, portable C.
 *
 * crc_table[0] is the classic byte-at-a-time table of the reflected
 * polynomial; crc_table[k][b] is the CRC of byte b followed by k zero
 * bytes, so eight table lookups fold eight input bytes at once.  The input
 * is consumed as little-endian 32-bit words, which is what the reflected
 * algorithm wants; on a big-endian host the words are assembled byte by
 * byte, so the result does not depend on the host.
 *
 * The tables (8 KiB) are built once, on first use, under pthread_once:
 * cheaper to read than 2048 hand-pasted constants, and safe when several
 * threads checksum at the same time.  The sdlm hot path checksums one read
 * of 2N+1 sectors per heartbeat interval; at N = 255 that is 256 KiB, well
 * under a millisecond, so no SSE4.2 path is needed.
 */
#include <pthread.h>

#include "crc32c.h"

#define CRC32C_POLY_REFLECTED	0x82F63B78u

static uint32_t crc_table[8][256];
static pthread_once_t crc_table_once = PTHREAD_ONCE_INIT;

static void crc_table_build(void)
{
	uint32_t b, k, crc;

	for (b = 0; b < 256; b++) {
		crc = b;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (CRC32C_POLY_REFLECTED & (0u - (crc & 1u)));
		crc_table[0][b] = crc;
	}
	for (b = 0; b < 256; b++) {
		crc = crc_table[0][b];
		for (k = 1; k < 8; k++) {
			crc = (crc >> 8) ^ crc_table[0][crc & 0xff];
			crc_table[k][b] = crc;
		}
	}
}

static inline uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
	       (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t lo, hi;

	pthread_once(&crc_table_once, crc_table_build);
	crc = ~crc;

	/* Bytewise up to 8-byte alignment, so the bulk loop reads aligned. */
	while (len && ((uintptr_t)p & 7)) {
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
		len--;
	}
	while (len >= 8) {
		lo = load_le32(p) ^ crc;
		hi = load_le32(p + 4);
		crc = crc_table[7][lo & 0xff] ^
		      crc_table[6][(lo >> 8) & 0xff] ^
		      crc_table[5][(lo >> 16) & 0xff] ^
		      crc_table[4][lo >> 24] ^
		      crc_table[3][hi & 0xff] ^
		      crc_table[2][(hi >> 8) & 0xff] ^
		      crc_table[1][(hi >> 16) & 0xff] ^
		      crc_table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];

	return ~crc;
}
