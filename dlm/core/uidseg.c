/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidseg.c - which table locks a creator of a new mailbox takes (pure;
 * see uidseg.h and docs/uid.md, "The table lock").
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ondisk.h"
#include "uidseg.h"

int uidseg_cmp(const struct uidseg *a, const struct uidseg *b)
{
	if (a->table != b->table)
		return a->table < b->table ? -1 : 1;
	if (a->seg != b->seg)
		return a->seg < b->seg ? -1 : 1;
	return 0;
}

bool uidseg_has(const struct uidseg_set *set, const struct uidseg *s)
{
	unsigned i;

	for (i = 0; i < set->n; i++)
		if (!uidseg_cmp(&set->s[i], s))
			return true;
	return false;
}

int uidseg_add(struct uidseg_set *set, const struct uidseg *s)
{
	unsigned i, j;

	for (i = 0; i < set->n; i++) {
		int c = uidseg_cmp(&set->s[i], s);

		if (!c)
			return 0;
		if (c > 0)
			break;
	}
	if (set->n >= UIDSEG_SET_MAX)
		return -E2BIG;
	for (j = set->n; j > i; j--)
		set->s[j] = set->s[j - 1];
	set->s[i] = *s;
	set->n++;
	return 0;
}

int uidseg_of(const struct uidtab_geom *g, uint64_t slot, struct uidseg *out)
{
	int t = g ? uidtab_geom_table(g, slot) : -1;

	if (t < 0)
		return -EINVAL;
	out->table = (uint32_t)t;
	out->seg = (slot - g->t[t].base) / UIDSEG_SLOTS;
	return 0;
}

static bool guid_zero(const uint8_t guid[UID_GUID_LEN])
{
	unsigned i;

	for (i = 0; i < UID_GUID_LEN; i++)
		if (guid[i])
			return false;
	return true;
}

int uidseg_need(const struct uidtab_geom *g, const uint8_t guid[UID_GUID_LEN],
		bool have_target, uint64_t target, struct uidseg_set *out)
{
	const struct uidtab_table *tt;
	struct uidseg s = { 0, 0 };
	uint64_t home, local, dist, window, pos, left, end, chunk;
	int t, rc;

	memset(out, 0, sizeof(*out));
	if (!g || !guid || !g->ntables || g->ntables > UIDTAB_MAX_TABLES ||
	    !g->t[0].nslots || guid_zero(guid))
		return -EINVAL;
	/* the GUID's home segment in table 0: every creator of it takes it */
	s.seg = uidtab_home(guid, g->t[0].nslots) / UIDSEG_SLOTS;
	rc = uidseg_add(out, &s);
	if (rc < 0 || !have_target)
		return rc;
	t = uidtab_geom_table(g, target);
	if (t < 0)
		return -EINVAL;
	tt = &g->t[t];
	home = uidtab_home(guid, tt->nslots);
	local = target - tt->base;
	dist = (local + tt->nslots - home) % tt->nslots;
	window = tt->nslots < UIDTAB_WINDOW ? tt->nslots : UIDTAB_WINDOW;
	if (dist >= window) {
		/* past the insert window (a record an older daemon placed
		 * there, its own tombstone reused, a damaged slot restored):
		 * the target's segment only beside the home one -- the
		 * segments between guard nothing (their slots were not
		 * free, and EMPTY never comes back), and the whole path
		 * would not fit in a set */
		if (uidseg_of(g, target, &s) < 0)
			return -EINVAL;
		return uidseg_add(out, &s);
	}
	/* the path home .. target in its table, segment by segment (it may
	 * wrap round the table's end: the set is kept in order, so segment
	 * 0 comes first) */
	s.table = (uint32_t)t;
	pos = home;
	left = dist + 1;
	while (left) {
		end = (pos / UIDSEG_SLOTS + 1) * UIDSEG_SLOTS;
		if (end > tt->nslots)
			end = tt->nslots;
		chunk = end - pos < left ? end - pos : left;
		s.seg = pos / UIDSEG_SLOTS;
		rc = uidseg_add(out, &s);
		if (rc < 0)
			return rc;
		pos = (pos + chunk) % tt->nslots;
		left -= chunk;
	}
	return 0;
}

enum uidseg_step uidseg_next(const struct uidseg_set *held, const struct uidseg_set *need,
			     struct uidseg_set *take)
{
	struct uidseg_set u;
	bool above = true;
	unsigned i;

	memset(take, 0, sizeof(*take));
	for (i = 0; i < need->n; i++) {
		if (uidseg_has(held, &need->s[i]))
			continue;
		uidseg_add(take, &need->s[i]);	/* fits: need does */
		if (held->n && uidseg_cmp(&need->s[i], &held->s[held->n - 1]) < 0)
			above = false;
	}
	if (!take->n)
		return UIDSEG_HELD;
	if (above && held->n + take->n <= UIDSEG_SET_MAX)
		return UIDSEG_EXTEND;
	/* below what is held (or more than a set holds): start again with
	 * the union, or with need alone if the union does not fit */
	u = *held;
	for (i = 0; i < need->n; i++)
		if (uidseg_add(&u, &need->s[i]) < 0) {
			*take = *need;
			return UIDSEG_RESTART;
		}
	*take = u;
	return UIDSEG_RESTART;
}

int uidseg_name(const struct uidseg *s, char *buf, size_t len)
{
	int n = snprintf(buf, len, UIDSEG_RES_PREFIX "%u.%llu", s->table,
			 (unsigned long long)s->seg);

	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

unsigned uidseg_legacy(uint32_t hdr_flags, const char *ls, const char *table_ls)
{
	if (hdr_flags & SDLM_HDR_F_UID_SEGLOCK)
		return 0;
	if (!strcmp(ls, table_ls))
		return UIDSEG_L_AREA;
	return UIDSEG_L_LS | UIDSEG_L_AREA;
}
