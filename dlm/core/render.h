/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * render.h - a growing text buffer and JSON string escaping, shared by
 * sdlmd (status replies) and sdlmctl (direct commands), so both render
 * tables and JSON the same way.
 */
#ifndef SDLM_RENDER_H
#define SDLM_RENDER_H

#include <stddef.h>

struct sbuf {
	char *s;
	size_t len, cap;
	int oom;		/* set once an allocation failed */
};

void sb_init(struct sbuf *b);
void sb_free(struct sbuf *b);
void sb_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal, quotes included. */
void sb_json_str(struct sbuf *b, const char *s);

#endif
