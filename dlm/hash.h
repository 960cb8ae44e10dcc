/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hash.h - the two hashes of the lock tables: FNV-1a over a name (start
 * with FNV64_OFFSET; feed a running value back to hash several pieces)
 * and splitmix64's finaliser over a lock id.
 */
#ifndef SDLM_HASH_H
#define SDLM_HASH_H

#include <stddef.h>
#include <stdint.h>

#define FNV64_OFFSET	0xcbf29ce484222325ull
#define FNV64_PRIME	0x100000001b3ull

static inline uint64_t fnv64(uint64_t h, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len--) {
		h ^= *p++;
		h *= FNV64_PRIME;
	}
	return h;
}

/* splitmix64's finaliser: a bijective 64-bit mixer */
static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

#endif
