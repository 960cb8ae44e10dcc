/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hash.h - the lock tables' hashing: FNV-1a over a name (start with
 * FNV64_OFFSET; feed a running value back to hash several pieces),
 * splitmix64's finaliser over a lock id, and the growth of a chained
 * table (HASH_GROW_FN), one definition for every table.
 */
#ifndef SDLM_HASH_H
#define SDLM_HASH_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

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

/*
 * HASH_GROW_FN(name, type, next, hashof) defines
 *
 *	static int name(type ***table, size_t *size)
 *
 * which doubles a chained table of *size buckets (a power of two): the
 * entries of a bucket are linked through their member `next`, and an
 * entry's bucket is hashof(entry) & (size - 1).  Every entry moves to its
 * bucket in the new table, pushed at the head of that chain, the old
 * buckets taken in order.  0; -ENOMEM leaves the table as it was (longer
 * chains, still correct).  A macro so that each table keeps its types.
 */
#define HASH_GROW_FN(name, type, next, hashof)				\
static int name(type ***table, size_t *size)				\
{									\
	size_t i, b, nsize = *size * 2;					\
	type **nt = calloc(nsize, sizeof(*nt)), *e, *enext;		\
									\
	if (!nt)							\
		return -ENOMEM;						\
	for (i = 0; i < *size; i++)					\
		for (e = (*table)[i]; e; e = enext) {			\
			enext = e->next;				\
			b = hashof(e) & (nsize - 1);			\
			e->next = nt[b];				\
			nt[b] = e;					\
		}							\
	free(*table);							\
	*table = nt;							\
	*size = nsize;							\
	return 0;							\
}

#endif
