/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_conf.c - libFuzzer target for the configuration file parser
 * (dlm/daemon/conf.c: conf_parse_file, conf_check, conf_dump).
 *
 * conf.c has no parse-from-buffer entry point, so the input goes into a
 * memfd and is parsed through /proc/self/fd/N: the real conf_parse_file,
 * the real getline loop.  Input: one control byte (mask = 1 + ctl % 3:
 * sdlmd, sdlmctl or both), then the file's bytes.
 *
 * Properties checked, besides "no crash, no out-of-bounds read, no leak":
 *   - an error always comes with a message in err;
 *   - a file that parses dumps (conf_dump, "dump-config") to a file that
 *     parses back to the same value of every option in the mask.
 *
 * --gen-corpus DIR [SRCDIR] writes a few small files (and conf/sdlm.conf
 * from SRCDIR, the commented default file) and exits.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "fuzzseed.h"

static int fd_in = -1, fd_dump = -1;

static int fd_fill(int fd, const void *p, size_t n)
{
	if (ftruncate(fd, 0) || (n && pwrite(fd, p, n, 0) != (ssize_t)n))
		return -1;
	return 0;
}

static void check_dump(const struct sdlm_conf *cf, unsigned mask)
{
	struct sdlm_conf cf2;
	char path[64], err[512];
	char *text = NULL;
	size_t n = 0;
	FILE *f;
	int id;

	f = open_memstream(&text, &n);
	if (!f)
		return;
	conf_dump(f, cf, mask, false);
	if (fclose(f) || fd_fill(fd_dump, text, n))
		goto out;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd_dump);
	conf_defaults(&cf2);
	if (conf_parse_file(&cf2, path, mask, err, sizeof(err)) != 0)
		abort();
	for (id = 0; id < OPT_COUNT; id++) {
		if (!(conf_options[id].co_mask & mask) ||
		    (conf_options[id].co_flags & CONF_F_CLI_ONLY))
			continue;
		if (strcmp(conf_str(cf, id), conf_str(&cf2, id)) != 0)
			abort();
	}
	conf_free(&cf2);
out:
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdlm_conf cf;
	char path[64], err[512];
	unsigned mask;
	int rv;

	if (size < 1 || fd_in < 0 || fd_dump < 0)
		return 0;
	mask = 1u + data[0] % 3u;
	if (fd_fill(fd_in, data + 1, size - 1))
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd_in);
	conf_defaults(&cf);
	err[0] = '\0';
	rv = conf_parse_file(&cf, path, mask, err, sizeof(err));
	if (rv != 0 && err[0] == '\0')
		abort();
	if (rv == 0) {
		conf_check(&cf, err, sizeof(err));
		check_dump(&cf, mask);
	}
	conf_free(&cf);
	return 0;
}

/* ---- seed corpus ---- */

static int gen_corpus(const char *dir, const char *srcdir)
{
	static const char *const files[] = {
		"",
		"# comment only\n\n",
		"device = /var/lib/sdlm/disk\nnode_id = 3\nnode_name = n3\n",
		"cluster_name = imap\nlog_level = debug\nlog_syslog = no\n"
		"grace_ms = 5000\nuid_reserve_min = 16\nuid_reserve_max = 65536\n",
		"run_dir = /run/sdlm\nwatchdog_device = none\n"
		"max_fences_per_window = 1\nfence_window_s = 60\n",
		"json = yes\nipc_name = sdlm\n",
		"node_id = 0\n",
		"node_id = 99999999999\n",
		"device = relative\n",
		"unknown_key = 1\n",
		"node_id = 1\nnode_id = 2\n",
	};
	char path[4096], name[32], *buf;
	size_t i, n;
	FILE *f;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(name, sizeof(name), "file-%zu", i);
		if (fuzzseed_write(dir, name, (uint8_t)i, files[i],
				   strlen(files[i])))
			return -1;
	}
	if (!srcdir)
		return 0;
	snprintf(path, sizeof(path), "%s/conf/sdlm.conf", srcdir);
	f = fopen(path, "re");
	if (!f)
		return -1;
	buf = malloc(65536);
	n = buf ? fread(buf, 1, 65536, f) : 0;
	fclose(f);
	if (!buf || fuzzseed_write(dir, "sdlm.conf", 2, buf, n)) {
		free(buf);
		return -1;
	}
	free(buf);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (*argc >= 3 && strcmp((*argv)[1], "--gen-corpus") == 0)
		exit(gen_corpus((*argv)[2], *argc >= 4 ? (*argv)[3] : NULL) ?
		     1 : 0);
	fd_in = memfd_create("sdlm-fuzz-conf", MFD_CLOEXEC);
	fd_dump = memfd_create("sdlm-fuzz-dump", MFD_CLOEXEC);
	return 0;
}
