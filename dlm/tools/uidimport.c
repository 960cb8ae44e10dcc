/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidimport.c - `sdlmctl uid import` (see uidimport.h, sdlmctl(8)).
 *
 * What the store knows is Dovecot's uidlist of the mailbox's Maildir:
 * UIDVALIDITY (V), the next UID (max of the header's N and the highest
 * UID + 1: Dovecot appends without updating N) and, when sdlm-deliver
 * wrote it, the epoch of its last writer (E; a record sdlm creates or
 * restores hands out epochs above it, so that writer is stale).  The
 * mailbox is named as sdlm-deliver names it by default: the uidlist's G,
 * Dovecot's mailbox GUID.  The daemon decides (uid_import_plan): create,
 * raise (never lower), restore, or refuse.
 *
 * Exit: 0 every mailbox done (or already as the store says), 1 one or
 * more refused or unreadable (each named on stderr), 64 usage, and the
 * connection codes of sdlmctl(8).
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sdlm.h"
#include "clock.h"
#include "fencecmd.h"
#include "progress.h"
#include "render.h"
#include "uidlist.h"
#include "uidimport.h"

static const char usage_s[] =
	"usage: sdlmctl uid import LOCKSPACE MAILBOX --maildir DIR [--restore]\n"
	"       sdlmctl uid import LOCKSPACE MAILBOX --uidvalidity V --next N [--epoch E] [--restore]\n"
	"       sdlmctl uid import LOCKSPACE MAILBOX --restore      (UIDVALIDITY unknown: a new one)\n"
	"       ... --restore --unnamed-slot   (the damaged slot naming no mailbox was this one's)\n"
	"       sdlmctl uid import LOCKSPACE --store DIR [--progress]\n"
	"       sdlmctl uid import LOCKSPACE --stdin [--progress]   (lines: MAILDIR[<TAB>MAILBOX])\n"
	"MAILBOX: its GUID as 32 hex digits, or a name; default with --store and\n"
	"--stdin: the uidlist's mailbox GUID (as sdlm-deliver names it)";

static int num(const char *opt, const char *s, uint64_t max, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	if (!*s || *end || errno || *v == 0 || *v > max || *s == '-') {
		fprintf(stderr, "sdlmctl: uid import: %s '%s' is not a number in 1..%" PRIu64 "\n",
			opt, s, max);
		return -1;
	}
	return 0;
}

int uidimport_args(struct uidimport *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "maildir", required_argument, NULL, 'M' },
		{ "store", required_argument, NULL, 'S' },
		{ "stdin", no_argument, NULL, 'I' },
		{ "uidvalidity", required_argument, NULL, 'V' },
		{ "next", required_argument, NULL, 'N' },
		{ "epoch", required_argument, NULL, 'E' },
		{ "restore", no_argument, NULL, 'R' },
		{ "unnamed-slot", no_argument, NULL, 'U' },
		{ "progress", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	uint64_t v;
	int c, bulk;

	memset(o, 0, sizeof(*o));
	optind = 0;	/* glibc: a full restart (permutation state too) */
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'M': o->maildir = optarg; break;
		case 'S': o->store = optarg; break;
		case 'I': o->from_stdin = true; break;
		case 'R': o->restore = true; break;
		case 'U': o->unnamed = true; break;
		case 'P': o->progress = true; break;
		case 'V':
			if (num("--uidvalidity", optarg, UINT32_MAX, &v))
				return CTL_USAGE;
			o->uidvalidity = (uint32_t)v;
			o->have_uv = true;
			break;
		case 'N':
			if (num("--next", optarg, UINT32_MAX, &v))
				return CTL_USAGE;
			o->next = (uint32_t)v;
			o->have_next = true;
			break;
		case 'E':
			/* the floor sent is E + 1 */
			if (num("--epoch", optarg, SDLM_UID_IMPORT_EPOCH_MAX - 1, &o->epoch))
				return CTL_USAGE;
			break;
		case 'h': puts(usage_s); return CTL_OK;
		default: fprintf(stderr, "%s\n", usage_s); return CTL_USAGE;
		}
	}
	bulk = (o->store != NULL) + o->from_stdin;
	if (argc - optind < 1 || argc - optind > 2 || bulk > 1 ||
	    (bulk && argc - optind != 1) || (!bulk && argc - optind != 2)) {
		fprintf(stderr, "%s\n", usage_s);
		return CTL_USAGE;
	}
	o->ls = argv[optind];
	o->mailbox = bulk ? NULL : argv[optind + 1];
	if (bulk && (o->maildir || o->have_uv || o->have_next || o->epoch || o->restore)) {
		fprintf(stderr, "sdlmctl: uid import: --store and --stdin take every value from "
			"each folder's uidlist (and restore one mailbox at a time)\n%s\n", usage_s);
		return CTL_USAGE;
	}
	if (o->unnamed && !o->restore) {
		fprintf(stderr, "sdlmctl: uid import: --unnamed-slot goes with --restore\n");
		return CTL_USAGE;
	}
	if (!bulk && o->maildir && (o->have_uv || o->have_next || o->epoch)) {
		fprintf(stderr, "sdlmctl: uid import: --maildir or --uidvalidity/--next, not both\n");
		return CTL_USAGE;
	}
	if (!bulk && !o->maildir && !o->restore && !(o->have_uv && o->have_next)) {
		fprintf(stderr, "sdlmctl: uid import: what does the store know?  --maildir DIR, "
			"or --uidvalidity V --next N (only --restore may know neither)\n%s\n",
			usage_s);
		return CTL_USAGE;
	}
	if (!bulk && o->have_uv != o->have_next) {
		fprintf(stderr, "sdlmctl: uid import: --uidvalidity and --next go together\n");
		return CTL_USAGE;
	}
	return -1;
}

/* One mailbox to import: what its store says, and how it went. */
struct item {
	char mailbox[UIDLIST_GUID_HEX + 300];
	const char *maildir;	/* NULL: from the options */
	uint32_t uidvalidity, next;	/* 0: unknown (restore only) */
	uint64_t epoch_min;
	int err;
	char why[300];		/* err != 0: what the operator does */
	struct sdlm_uid_info info;
};

/*
 * Read dir's uidlist into it.  -ENOENT: no uidlist (restore: UIDVALIDITY
 * unknown).  Another error: it->why says it.
 */
static int read_store(struct item *it, const char *dir, bool name_from_guid)
{
	struct uidlist ul;
	struct uidlist_err perr = { 0 };
	uint64_t next;
	size_t i;
	int rc;

	uidlist_init(&ul);
	rc = uidlist_read(dir, &ul, &perr);
	if (rc == -ENOENT) {
		snprintf(it->why, sizeof(it->why), "no %s: the store does not know its "
			 "UIDVALIDITY (sdlm creates the record at the first delivery; "
			 "--restore without it gives a new one)", UIDLIST_FILE);
		goto out;
	}
	if (rc == -EBADMSG) {
		snprintf(it->why, sizeof(it->why), "%s line %u: %s (doveadm force-resync "
			 "rebuilds it)", UIDLIST_FILE, perr.line, perr.msg);
		goto out;
	}
	if (rc) {
		snprintf(it->why, sizeof(it->why), "%s: %s", UIDLIST_FILE, strerror(-rc));
		goto out;
	}
	next = uidlist_next_uid(&ul);
	if (next > UINT32_MAX) {
		rc = -EOVERFLOW;
		snprintf(it->why, sizeof(it->why), "its UID space is used up (next UID 2^32): "
			 "Dovecot must give it a new UIDVALIDITY first");
		goto out;
	}
	if (ul.epoch >= SDLM_UID_IMPORT_EPOCH_MAX) {
		rc = -ERANGE;
		snprintf(it->why, sizeof(it->why), "its %s's epoch E%" PRIu64 " is above the "
			 "limit %" PRIu64 " (2^48 - 1): forged or corrupt (sdlm never hands out "
			 "such epochs); correct or remove the E field, then import again",
			 UIDLIST_FILE, ul.epoch, (uint64_t)SDLM_UID_IMPORT_EPOCH_MAX - 1);
		goto out;
	}
	it->uidvalidity = ul.uidvalidity;
	it->next = (uint32_t)next;
	it->epoch_min = ul.epoch ? ul.epoch + 1 : 0;
	if (name_from_guid) {
		if (!ul.guid[0]) {
			rc = -ENOENT;
			snprintf(it->why, sizeof(it->why), "no mailbox GUID (G) in its %s: "
				 "name the mailbox (--stdin: MAILDIR<TAB>MAILBOX)", UIDLIST_FILE);
			goto out;
		}
		for (i = 0; ul.guid[i]; i++)
			it->mailbox[i] = (char)tolower((unsigned char)ul.guid[i]);
		it->mailbox[i] = '\0';
	}
out:
	uidlist_free(&ul);
	return rc;
}

/* What a refusal means, in the operator's words. */
static void explain(sdlm_handle_t *h, const char *ls, struct item *it, bool restore)
{
	struct sdlm_uid_info cur;
	int rc = it->err;

	if (rc == -EEXIST && restore) {
		snprintf(it->why, sizeof(it->why), "its record has an intact copy: it resumes "
			 "by itself, nothing to restore (sdlmctl uid show)");
	} else if (rc == -EEXIST) {
		if (sdlm_uid_show(h, ls, it->mailbox, &cur))
			cur.uidvalidity = 0;
		snprintf(it->why, sizeof(it->why), "sdlm's record has UIDVALIDITY %u, the store "
			 "%u: an import never changes it (sdlmctl uid uidvalidity-bump does; "
			 "clients then resynchronise)", cur.uidvalidity, it->uidvalidity);
	} else if (rc == -ENOENT && restore) {
		snprintf(it->why, sizeof(it->why), "no damaged record where the mailbox would be: "
			 "nothing to restore (an import without --restore creates it)");
	} else if (rc == -ERANGE && it->epoch_min > SDLM_UID_IMPORT_EPOCH_MAX) {
		snprintf(it->why, sizeof(it->why), "the store's epoch %" PRIu64 " is above the "
			 "limit %" PRIu64 " (2^48 - 1) sdlmd takes: forged or corrupt; correct the "
			 "uidlist's E (or --epoch)", it->epoch_min - 1,
			 (uint64_t)SDLM_UID_IMPORT_EPOCH_MAX - 1);
	} else if (rc == -ESTALE) {
		snprintf(it->why, sizeof(it->why), "the store's epoch E%" PRIu64 " is above sdlm's "
			 "record's (sdlmd's log names both): the store saw a writer this record "
			 "never had. --epoch only sets the epoch of a record sdlm creates or "
			 "restores; nothing changed (docs/imap.md)", it->epoch_min - 1);
	} else if (rc == -ERANGE && !restore) {
		snprintf(it->why, sizeof(it->why), "a deleted record of this mailbox had a higher "
			 "UIDVALIDITY than the store's %u (its UIDs are unknown): let sdlm create it, "
			 "or give it a higher one", it->uidvalidity);
	} else if (rc == -EADDRINUSE && restore) {
		snprintf(it->why, sizeof(it->why), "the damaged slot on its path is another "
			 "mailbox's (its copies name that one; sdlmd's log names the slot and its "
			 "GUID): a restore never writes there. Restore that mailbox (uid import "
			 "%s GUID --restore); this one is then found, or created, as usual", ls);
	} else if (restore && (rc == SDLM_EMAGIC || rc == SDLM_EVERSION ||
			       rc == SDLM_ECHECKSUM || rc == SDLM_EIDENTITY || rc == -EUCLEAN)) {
		snprintf(it->why, sizeof(it->why), "a damaged slot on its path names no mailbox "
			 "(%s; sdlmd's log names the slot): it may have been any mailbox's, so a "
			 "restore writes there only if you know it was this one's: add "
			 "--unnamed-slot (docs/uid.md, damaged records)",
			 sdlm_strerror(rc));
	} else if (rc == SDLM_EMAGIC || rc == SDLM_EVERSION || rc == SDLM_ECHECKSUM ||
		   rc == SDLM_EIDENTITY || rc == -EUCLEAN) {
		snprintf(it->why, sizeof(it->why), "its UID record is damaged (%s; sdlmd's log "
			 "names the slot): restore it, sdlmctl uid import --restore (docs/uid.md)",
			 sdlm_strerror(rc));
	} else if (rc == -EBUSY) {
		snprintf(it->why, sizeof(it->why), "refused in degraded mode: import after the "
			 "rejoin (sdlmctl degraded status)");
	} else if (rc == -EPERM && restore) {
		snprintf(it->why, sizeof(it->why), "a restore is an administrator's command");
	} else {
		snprintf(it->why, sizeof(it->why), "%s", sdlm_strerror(rc));
	}
}

static const char *result_word(const struct item *it)
{
	uint32_t f = it->info.flags;

	if (it->err)
		return "failed";
	return f & SDLM_UID_F_RESTORED ? "restored" : f & SDLM_UID_F_CREATED ? "created" :
	       f & SDLM_UID_F_RAISED ? "raised" : "unchanged";
}

static void import_one(sdlm_handle_t *h, const struct uidimport *o, struct item *it)
{
	it->err = sdlm_uid_import(h, o->ls, it->mailbox, it->uidvalidity, it->next,
				  it->epoch_min, (o->restore ? SDLM_UID_IMPORT_RESTORE : 0) |
				  (o->unnamed ? SDLM_UID_IMPORT_UNNAMED : 0),
				  &it->info);
	if (it->err)
		explain(h, o->ls, it, o->restore);
}

static void print_text(const struct item *it)
{
	const struct sdlm_uid_info *in = &it->info;
	const char *w = result_word(it);

	if (it->err) {
		fprintf(stderr, "sdlmctl: uid import %s%s%s%s: %s\n", it->mailbox[0] ? it->mailbox : "",
			it->maildir ? " (" : "", it->maildir ? it->maildir : "", it->maildir ? ")" : "",
			it->why);
		return;
	}
	if (!strcmp(w, "unchanged"))
		printf("%s: unchanged: UIDVALIDITY %u, sdlm's next UID %u is at or above the store's %u\n",
		       it->mailbox, in->uidvalidity, in->next, it->next);
	else
		printf("%s: %s: UIDVALIDITY %u%s, next UID %u, epoch %" PRIu64 "\n", it->mailbox, w,
		       in->uidvalidity, in->flags & SDLM_UID_F_BUMPED ?
		       " (new: the store's was unknown; clients resynchronise)" : "",
		       in->next, in->epoch);
}

static void json_item(struct sbuf *b, const struct item *it)
{
	sb_printf(b, "{\"mailbox\":");
	sb_json_str(b, it->mailbox);
	if (it->maildir) {
		sb_printf(b, ",\"maildir\":");
		sb_json_str(b, it->maildir);
	}
	sb_printf(b, ",\"result\":\"%s\"", result_word(it));
	if (it->err) {
		sb_printf(b, ",\"error\":");
		sb_json_str(b, it->why);
	} else {
		sb_printf(b, ",\"uidvalidity\":%u,\"next\":%u,\"epoch\":%" PRIu64 ",\"bumped\":%s",
			  it->info.uidvalidity, it->info.next, it->info.epoch,
			  it->info.flags & SDLM_UID_F_BUMPED ? "true" : "false");
	}
	sb_printf(b, "}");
}

/* The Maildirs of a Maildir++ store: the root (INBOX) and every .Folder
 * that has a uidlist.  Returns the count, or -errno; *out malloc'ed. */
static int store_list(const char *root, char ***out)
{
	char **v = NULL, **nv, path[4096];
	struct dirent *d;
	struct stat st;
	size_t n = 0, cap = 0;
	DIR *dir = opendir(root);

	if (!dir)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s", root, UIDLIST_FILE);
	for (d = NULL;;) {
		const char *p = path;

		if (d) {
			if (d->d_name[0] != '.' || !strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				goto next;
			if ((size_t)snprintf(path, sizeof(path), "%s/%s/%s", root, d->d_name,
					     UIDLIST_FILE) >= sizeof(path))
				goto next;
		}
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				nv = realloc(v, cap * sizeof(*v));
				if (!nv)
					break;
				v = nv;
			}
			path[strlen(path) - strlen(UIDLIST_FILE) - 1] = '\0';
			v[n] = strdup(path);
			if (!v[n])
				break;
			n++;
		}
next:
		d = readdir(dir);
		if (!d)
			break;
	}
	closedir(dir);
	*out = v;
	return (int)n;
}

int uidimport_run(sdlm_handle_t *h, const struct uidimport *o, bool json, int *first_err)
{
	struct item it;
	struct sbuf b;
	size_t counts[5] = { 0 }, total = 0, done = 0;	/* created raised unchanged restored failed */
	static const char *const words[5] = { "created", "raised", "unchanged", "restored", "failed" };
	struct progress prog;
	char **dirs = NULL, *line = NULL;
	size_t cap = 0;
	int n = 0, i, k, code = CTL_OK;

	*first_err = 0;
	if (o->mailbox) {
		memset(&it, 0, sizeof(it));
		snprintf(it.mailbox, sizeof(it.mailbox), "%s", o->mailbox);
		it.maildir = o->maildir;
		it.uidvalidity = o->uidvalidity;
		it.next = o->next;
		it.epoch_min = o->epoch ? o->epoch + 1 : 0;
		if (o->maildir) {
			it.err = read_store(&it, o->maildir, false);
			if (it.err == -ENOENT && o->restore)
				it.err = 0;	/* unknown: a new UIDVALIDITY */
		}
		if (!it.err)
			import_one(h, o, &it);
		if (json) {
			sb_init(&b);
			json_item(&b, &it);
			printf("%s\n", b.s ? b.s : "{}");
			sb_free(&b);
		}
		if (!json || it.err)
			print_text(&it);
		*first_err = it.err;
		return it.err ? ctl_exit_for(it.err) : CTL_OK;
	}
	if (o->store) {
		n = store_list(o->store, &dirs);
		if (n < 0) {
			fprintf(stderr, "sdlmctl: uid import --store %s: %s\n", o->store, strerror(-n));
			return CTL_FAIL;
		}
		total = (size_t)n;
	}
	progress_init(&prog, o->progress, json);
	sb_init(&b);
	sb_printf(&b, "{\"mailboxes\":[");
	for (i = 0;; i++) {
		ssize_t len;
		char *tab;

		memset(&it, 0, sizeof(it));
		if (o->store) {
			if (i >= n)
				break;
			it.maildir = dirs[i];
		} else {
			len = getline(&line, &cap, stdin);
			if (len < 0)
				break;
			if (len && line[len - 1] == '\n')
				line[--len] = '\0';
			if (!len || line[0] == '#')
				continue;
			tab = strchr(line, '\t');
			if (tab) {
				*tab = '\0';
				snprintf(it.mailbox, sizeof(it.mailbox), "%s", tab + 1);
			}
			it.maildir = line;
		}
		it.err = read_store(&it, it.maildir, !it.mailbox[0]);
		if (!it.err)
			import_one(h, o, &it);
		if (it.err && !*first_err)
			*first_err = it.err;
		for (k = 0; k < 5; k++)
			if (!strcmp(result_word(&it), words[k]))
				counts[k]++;
		if (json) {
			if (done)
				sb_printf(&b, ",");
			json_item(&b, &it);
		} else {
			progress_end(&prog);
			print_text(&it);
		}
		if (total)
			progress_show(&prog, clock_boottime_ms(), "import: %zu/%zu mailboxes", ++done, total);
		else
			progress_show(&prog, clock_boottime_ms(), "import: %zu mailboxes", ++done);
	}
	progress_end(&prog);
	sb_printf(&b, "]");
	for (k = 0; k < 5; k++)
		sb_printf(&b, ",\"%s\":%zu", words[k], counts[k]);
	sb_printf(&b, "}");
	if (json)
		printf("%s\n", b.s ? b.s : "{}");
	else
		printf("import: %zu mailboxes: %zu created, %zu raised, %zu unchanged, %zu failed\n",
		       done, counts[0], counts[1], counts[2], counts[4]);
	if (counts[4])
		code = CTL_FAIL;
	sb_free(&b);
	free(line);
	for (i = 0; i < n; i++)
		free(dirs[i]);
	free(dirs);
	return code;
}
