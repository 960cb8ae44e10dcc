/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of every sdlm record.
 *
 * Polynomial 0x1EDC6F41 (reflected 0x82F63B78), initial value and final
 * XOR 0xFFFFFFFF, as in iSCSI, ext4 and btrfs.  The function follows
 * zlib's crc32() convention: pass 0 to start, pass the previous result to
 * continue, and the pre/post inversion is done inside, so
 *
 *	crc32c(crc32c(0, a, la), b, lb) == crc32c(0, a || b, la + lb)
 *	crc32c(0, "123456789", 9) == 0xE3069283
 *
 * Thread-safe; no initialisation call is needed.
 */
#ifndef SDLM_CRC32C_H
#define SDLM_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

#endif /* SDLM_CRC32C_H */
