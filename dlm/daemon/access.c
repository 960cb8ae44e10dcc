/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * access.c - who may talk to sdlmd (see access.h).
 *
 * Why /proc/<pid>/status and not the group database: the kernel's list is
 * what the process really holds (a delivery agent that dropped to the
 * mail user with initgroups() has exactly that user's groups; one that
 * cleared them has none), reading it never waits on a name service, and
 * a group added to a user takes effect at that user's next login, as for
 * files.  libqb hands us the connecting process's pid and effective uid
 * from the socket's credentials; the Uid line must still show that uid,
 * so a pid reused by another user's process in between is refused.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "access.h"

/* The line of status that starts with key (e.g. "Groups:"), or NULL;
 * *end is its end. */
static const char *line_of(const char *s, size_t len, const char *key, const char **end)
{
	size_t klen = strlen(key);
	const char *p = s, *e = s + len;

	while (p < e) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		const char *le = nl ? nl : e;

		if ((size_t)(le - p) >= klen && !memcmp(p, key, klen)) {
			*end = le;
			return p + klen;
		}
		p = le + 1;
	}
	return NULL;
}

/* Next decimal number in [*p, end); false at the end or on garbage. */
static bool next_num(const char **p, const char *end, uint32_t *v)
{
	const char *q = *p;
	uint64_t n = 0;

	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	if (q == end || *q < '0' || *q > '9')
		return false;
	for (; q < end && *q >= '0' && *q <= '9'; q++) {
		n = n * 10 + (uint64_t)(*q - '0');
		if (n > UINT32_MAX)
			return false;
	}
	if (q < end && *q != ' ' && *q != '\t')
		return false;
	*v = (uint32_t)n;
	*p = q;
	return true;
}

/* Only blanks left in [p, end). */
static bool rest_blank(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p != ' ' && *p != '\t')
			return false;
	return true;
}

enum ipcreq_level access_level(const struct access_policy *pol, uint32_t uid,
			       const char *status, size_t len)
{
	const char *p, *end;
	uint32_t v, real, eff, g;
	bool admin = false, client = false;
	int i;

	if (uid == 0)
		return IPCREQ_ADMIN;
	if (!status || (!pol->admin_set && !pol->client_set))
		return IPCREQ_NONE;
	/* Uid: real effective saved fs */
	p = line_of(status, len, "Uid:", &end);
	if (!p || !next_num(&p, end, &real) || !next_num(&p, end, &eff) || eff != uid)
		return IPCREQ_NONE;
	(void)real;
	/* Gid: the effective group (second) counts, as for files */
	p = line_of(status, len, "Gid:", &end);
	if (!p)
		return IPCREQ_NONE;
	for (i = 0; i < 4; i++) {
		if (!next_num(&p, end, &g))
			return IPCREQ_NONE;
		if (i == 1) {
			admin |= pol->admin_set && g == pol->admin_gid;
			client |= pol->client_set && g == pol->client_gid;
		}
	}
	/* Groups: the supplementary groups, possibly none */
	p = line_of(status, len, "Groups:", &end);
	if (!p)
		return IPCREQ_NONE;
	while (next_num(&p, end, &v)) {
		admin |= pol->admin_set && v == pol->admin_gid;
		client |= pol->client_set && v == pol->client_gid;
	}
	if (!rest_blank(p, end))
		return IPCREQ_NONE;
	return admin ? IPCREQ_ADMIN : client ? IPCREQ_CLIENT : IPCREQ_NONE;
}

int access_group_resolve(const char *value, uint32_t *gid, char *err, size_t errlen)
{
	struct group *g = getgrnam(value);
	const char *p;
	uint64_t n = 0;

	if (g) {
		*gid = (uint32_t)g->gr_gid;
		return 0;
	}
	for (p = value; *p >= '0' && *p <= '9' && n <= UINT32_MAX; p++)
		n = n * 10 + (uint64_t)(*p - '0');
	if (*value && !*p && n < UINT32_MAX) {
		*gid = (uint32_t)n;
		return 0;
	}
	if (err && errlen)
		snprintf(err, errlen, "no such group '%s' (a group name, or a numeric gid)", value);
	return -ENOENT;
}

void access_hint(FILE *f, const char *what, const char *config_path, bool admin)
{
	struct sdlm_conf cf;
	struct passwd *pw = getpwuid(geteuid());
	char err[256], who[64];
	const char *cg = "", *ag = "", *need;
	int rc;

	if (!config_path)
		config_path = conf_options[OPT_CONFIG].co_default;
	conf_defaults(&cf);
	rc = conf_parse_file(&cf, config_path, CONF_ALL, err, sizeof(err));
	if (rc == 0 || rc == -ENOENT) {
		cg = conf_str(&cf, OPT_CLIENT_GROUP);
		ag = conf_str(&cf, OPT_ADMIN_GROUP);
	}
	if (pw)
		snprintf(who, sizeof(who), "user '%s'", pw->pw_name);
	else
		snprintf(who, sizeof(who), "uid %u", (unsigned)geteuid());
	need = admin ? ag : cg[0] ? cg : ag;
	if (rc < 0 && rc != -ENOENT)
		fprintf(f, "%s: sdlmd admits only root and the members of client_group "
			"(locks, UIDs) and admin_group (fencing, degraded mode, UIDVALIDITY); "
			"cannot read %s to say which groups: %s\n", what, config_path, err);
	else if (!need[0])
		fprintf(f, "%s: %s: only root may: %s is not set in %s\n", what,
			admin ? "an administrator's command" : "sdlmd admits only root",
			admin ? "admin_group" : "client_group", config_path);
	else
		fprintf(f, "%s: %s needs group '%s' (%s in %s); %s is not in it: "
			"ask an administrator to add it (it counts from the next login)\n",
			what, admin ? "this administrator's command" : "talking to sdlmd",
			need, need == ag ? "admin_group" : "client_group", config_path, who);
	conf_free(&cf);
}
