/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzzseed.c - the fuzz targets' seed files (fuzzseed.h).
 */
#include <stdio.h>

#include "fuzzseed.h"

int fuzzseed_open(struct fuzzseed *s, const char *dir, const char *name,
		  const char *suffix)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s%s", dir, name, suffix ? suffix : "");
	s->rc = 0;
	s->f = fopen(path, "we");
	return s->f ? 0 : -1;
}

void fuzzseed_put(struct fuzzseed *s, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, s->f) != n)
		s->rc = -1;
}

void fuzzseed_put8(struct fuzzseed *s, uint8_t v)
{
	fuzzseed_put(s, &v, 1);
}

int fuzzseed_close(struct fuzzseed *s)
{
	if (fclose(s->f))
		s->rc = -1;
	s->f = NULL;
	return s->rc;
}

int fuzzseed_write(const char *dir, const char *name, uint8_t ctl,
		   const void *p, size_t n)
{
	struct fuzzseed s;

	if (fuzzseed_open(&s, dir, name, NULL))
		return -1;
	fuzzseed_put8(&s, ctl);
	fuzzseed_put(&s, p, n);
	return fuzzseed_close(&s);
}

int fuzzseed_frame(const char *dir, const char *name, const char *suffix,
		   uint8_t ctl, const uint8_t hdr[2], const void *frame,
		   size_t n)
{
	struct fuzzseed s;
	int k;

	for (k = 0; k < 2; k++) {
		if (fuzzseed_open(&s, dir, name, k ? suffix : NULL))
			return -1;
		fuzzseed_put8(&s, k ? ctl : 0);
		fuzzseed_put(&s, hdr, 2);
		fuzzseed_put(&s, frame, n);
		if (fuzzseed_close(&s))
			return -1;
	}
	return 0;
}
