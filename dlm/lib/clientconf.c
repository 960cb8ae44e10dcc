/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* clientconf.c - ipc_name from sdlm.conf for libsdlm (clientconf.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clientconf.h"

#define KEY "ipc_name"

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* The value after "=" (at p): quoted or bare; 1, or -EINVAL. */
static int value_of(const char *p, char *out, size_t len)
{
	size_t n = 0;

	p = skip_blanks(p);
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			if ((unsigned char)*p < 0x20 || *p == 0x7f || n + 1 >= len)
				return -EINVAL;
			out[n++] = *p;
		}
		if (*p != '"')
			return -EINVAL;
		p = skip_blanks(p + 1);
		if (*p && *p != '#' && *p != '\n')
			return -EINVAL;
	} else {
		for (; *p && *p != '#' && *p != '\n'; p++) {
			if ((unsigned char)*p < 0x20 && *p != '\t')
				return -EINVAL;
			if (n + 1 >= len)
				return -EINVAL;
			out[n++] = *p;
		}
		while (n && (out[n - 1] == ' ' || out[n - 1] == '\t'))
			n--;
	}
	out[n] = '\0';
	return n ? 1 : -EINVAL;
}

int clientconf_ipc_name(const char *path, char *out, size_t len)
{
	char line[1024];
	FILE *f;
	int rc = 0;

	if (!path || !out || len < 2)
		return -EINVAL;
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		const char *p = skip_blanks(line);

		if (strncmp(p, KEY, strlen(KEY)))
			continue;
		p = skip_blanks(p + strlen(KEY));
		if (*p != '=')
			continue;	/* another key that starts alike */
		rc = value_of(p + 1, out, len);
		break;
	}
	fclose(f);
	return rc;
}
