/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sdlmctl - the sdlm command line.
 *
 *   sdlmctl [-c FILE] [--ipc-name NAME] [--json] COMMAND ...
 *
 * The global options and sdlm.conf go through sdlmd's option table
 * (conf.c, the keys of CONF_CTL): ipc_name and device come from the
 * command line, else $SDLM_IPC / $SDLM_DEVICE, else the file.
 *
 * "fence ..." works directly on the device (fencecmd.c); the rest asks the
 * local sdlmd over libsdlm.  Human tables by default, JSON with --json.
 * Exit codes: see fencecmd.h and sdlmctl(8).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/wait.h>
#include <unistd.h>

#include "sdlm.h"
#include "clock.h"
#include "fencecmd.h"
#include "progress.h"
#include "access.h"
#include "conf.h"
#include "uidimport.h"
#include "uidtabcmd.h"

/* -c/--config: the sdlm.conf read (also for who may talk to the daemon). */
static const char *config_path;
/* Where the IPC name came from (conf_client_value), and why the default
 * sdlm.conf could not be read, if so: said when the daemon is not found. */
static char ipc_from[PATH_MAX + 64];
static const char *conf_read_note;
/* The IPC name and the default device (ctl_main), freed by main. */
static char *ctl_ipc, *ctl_dev;

/* After a refusal: say which group is needed and where it is set. */
static int refused(int rc)
{
	if (rc == -EACCES || rc == -EPERM)
		access_hint(stderr, "sdlmctl", config_path, rc == -EPERM);
	return rc;
}

/* A connect failure's exit code: 77 refused, 1 too many connections of
 * this user (max_connections_per_user), else 69 no daemon. */
static int connect_exit(int rc)
{
	return ctl_exit_for(refused(rc) == -EACCES || rc == -EPERM || rc == SDLM_ELIMIT ?
			    rc : SDLM_EDAEMON);
}

/*
 * sdlm_connect() failed: say so, and for the common case (no daemon under
 * that IPC name) what usually causes it and how to check.  Returns the
 * exit code.
 */
static int no_daemon(const char *ipc, int rc)
{
	int code;

	fprintf(stderr, "sdlmctl: cannot reach sdlmd (ipc '%s', from %s): %s\n", ipc, ipc_from,
		sdlm_strerror(rc));
	code = connect_exit(rc);
	if (code == CTL_NODAEMON)
		fprintf(stderr,
			"  is sdlmd running on this node, with ipc_name '%s'?  Check with\n"
			"  'systemctl status sdlmd' (or 'crm_resource --locate -r sdlm' under Pacemaker)\n"
			"  and 'journalctl -u sdlmd'; another name: sdlmctl --ipc-name NAME, $SDLM_IPC\n"
			"  or ipc_name in sdlm.conf (-c FILE); run as root or a member of\n"
			"  client_group/admin_group (sdlm.conf(5)).\n",
			ipc);
	if (code == CTL_NODAEMON && conf_read_note)
		fprintf(stderr, "  (%s: the defaults were used)\n", conf_read_note);
	return code;
}

/* `sdlmctl CMD --help` for the commands that take no options. */
static bool cmd_help(int argc, char **argv, const char *usage_line)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: sdlmctl %s\n(sdlmctl --help, sdlmctl(8))\n", usage_line);
		return true;
	}
	return false;
}

static void usage(FILE *f)
{
	/* The options: sdlmd's option table, as sdlmd --help prints its own. */
	conf_help(f, CONF_CTL, "sdlmctl");
	fprintf(f,
		"          (--ipc, the old spelling of --ipc-name, still works.)\n"
		"\n"
		"Commands that ask the local sdlmd:\n"
		"  status                 this node, its lease, fencing in progress\n"
		"  nodes                  every node the daemon sees on the disk\n"
		"  ls                     lockspaces\n"
		"  locks [LOCKSPACE]      locks\n"
		"  dump                   the daemon's in-memory debug log\n"
		"  dump-config            the daemon's effective configuration\n"
		"  wait-safe [--timeout S] [--progress]\n"
		"                         wait until this node is fenced-safe (exit 0;\n"
		"                         1 not within S, default the dead bound;\n"
		"                         2 fenced: never in this incarnation)\n"
		"  stats [--prometheus]   counters (Prometheus text format on request)\n"
		"\n"
		"Direct commands on the shared device (no daemon needed; DEV: -d, else\n"
		"--device, $SDLM_DEVICE or device in sdlm.conf):\n"
		"  fence init [-d DEV] --cluster NAME [--nodes N] [--sector-size 512|4096]\n"
		"             [--profile default|test] [--io-timeout MS] [--hb-interval MS]\n"
		"             [--watchdog-timeout MS] [--uid-slots N] [--uuid UUID] [--force]\n"
		"             [--progress]\n"
		"  fence dump [-d DEV]\n"
		"  fence list [-d DEV] [all]\n"
		"  fence message [-d DEV] [--wait[=S]] [--progress] [--seq N]\n"
		"                NODE test|reset|off|clear\n"
		"  fence status [-d DEV] NODE  exit 0 alive, 2 fenced/off, 1 unknown\n"
		"\n"
		"Through the daemon:\n"
		"  fence confirm NODE [--force]   an operator says NODE is down\n"
		"  uid alloc|show|raise|uidvalidity-bump LOCKSPACE MAILBOX [N]\n"
		"  uid list               mailboxes whose UIDs this node hands out\n"
		"  uid [summary [-d DEV] [--prometheus]]\n"
		"                         UID table slots used / free, from the device\n"
		"  uid grow [-d DEV] [--slots N] [--wait S] [--force]\n"
		"                         add a table of N slots online (default: double)\n"
		"  uid segments [-d DEV] [--enable [--force]]\n"
		"                         creators take the table's segment locks only\n"
		"  uid settle LOCKSPACE MAILBOX NEXT_UID   rejoin repair done: clear the\n"
		"                         provisional mark, next UID >= NEXT_UID\n"
		"  uid delete LOCKSPACE MAILBOX            the mailbox is gone: free its record\n"
		"  uid rename LOCKSPACE MAILBOX NEW_NAME   a mailbox named by name moved\n"
		"  uid import LOCKSPACE MAILBOX --maildir DIR | --uidvalidity V --next N\n"
		"             [--epoch E] adopt a mailbox as its mail store has it\n"
		"  uid import LOCKSPACE --store DIR | --stdin [--progress]\n"
		"                         a whole store at once\n"
		"  uid import LOCKSPACE MAILBOX --restore [--maildir DIR] [--unnamed-slot]\n"
		"                         both copies of its record damaged: rewrite it\n"
		"                         from the store (docs/uid.md)\n"
		"  degraded status        split-storage degraded mode, and may it be enabled\n"
		"  degraded enable --confirm-split-storage\n"
		"                         hand out provisional UIDs without the cluster\n"
		"                         (refused: 3 quorate, 4 another heartbeat on the disk)\n"
		"  degraded disable       leave degraded mode (5: an allocation in flight)\n"
		"  lock [-m MODE] [-w S] [-n] LOCKSPACE RESOURCE -- COMMAND...\n"
		"                         hold a lock while COMMAND runs (exit: its status;\n"
		"                         75 when -n/-w could not get the lock)\n"
		"\n"
		"Exit codes: 0 ok, 1 failed (status: unknown), 2 status: fenced/off,\n"
		"64 usage or a bad sdlm.conf, 65 corrupt or uninitialised area, 66 cannot open device,\n"
		"69 daemon not reachable, 73 refused to overwrite, 77 permission denied.\n");
}

static int daemon_text(const char *ipc, const char *cmd, const char *arg, bool json)
{
	sdlm_handle_t *h;
	char *text = NULL;
	int rc;

	rc = sdlm_connect(ipc, &h);
	if (rc < 0) {
		return no_daemon(ipc, rc);
	}
	rc = sdlm_admin_text(h, cmd, arg, json, &text);
	sdlm_disconnect(h);
	if (rc < 0) {
		fprintf(stderr, "sdlmctl: %s: %s\n", cmd, sdlm_strerror(refused(rc)));
		return ctl_exit_for(rc);
	}
	fputs(text, stdout);
	free(text);
	return CTL_OK;
}

/*
 * A field of the daemon's status --json (render_status, sdlmd_status.c):
 * a string into out, or a number.  Its own output, one flat object of
 * known keys, whose strings are JSON-escaped (no bare quote inside).
 */
static bool status_str(const char *json, const char *key, char *out, size_t len)
{
	char pat[64];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = strstr(json, pat);
	if (!p)
		return false;
	p += strlen(pat);
	for (e = p; *e && *e != '"'; e++)
		if (*e == '\\' && e[1])
			e++;
	snprintf(out, len, "%.*s", (int)(e - p), p);
	return true;
}

static bool status_num(const char *json, const char *key, unsigned long long *v)
{
	char pat[64];
	const char *p;
	char *end;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(json, pat);
	if (!p)
		return false;
	p += strlen(pat);
	*v = strtoull(p, &end, 10);
	return end != p;
}

/* Exit codes of wait-safe (sdlmctl(8)). */
#define SAFE_TIMEOUT	1	/* not fenced-safe within the bound */
#define SAFE_FENCED	2	/* self-fenced or obeying a pill */

/*
 * sdlmctl wait-safe [--timeout S] [--progress]: wait until this node is
 * fenced-safe (what `status` says; the daemon's READY=1 to systemd).
 * The bound, unless --timeout: the dead bound D of the area (status
 * --json dead_ms) from the first answer - by then the other nodes treat
 * a node that stood still as dead, so a node not fenced-safe after that
 * long will not become so by waiting.  A node that fenced itself or
 * obeys a pill never becomes fenced-safe in this incarnation: exit 2 at
 * once.  An sdlmd that does not answer: exit 69 at once, or, with
 * --timeout, when it has not answered within S.  Progress (progress.h):
 * the reason it is not safe yet and the seconds left.
 */
static int cmd_wait_safe(const char *ipc, int argc, char **argv, bool json)
{
	static const struct option o[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "progress", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *usage_s = "usage: sdlmctl wait-safe [--timeout SECONDS] [--progress]";
	unsigned long long timeout_s = 0, dead_ms, lease_ms;
	uint64_t start = clock_boottime_ms(), end = 0, now;
	char state[32] = "", reason[256] = "", *text = NULL, *e;
	sdlm_handle_t *h = NULL;
	struct progress pg;
	bool asked = false, have_timeout = false;
	unsigned poll_ms = 200;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", o, NULL)) != -1) {
		switch (c) {
		case 't':
			errno = 0;
			timeout_s = strtoull(optarg, &e, 10);
			if (errno || e == optarg || *e || optarg[0] == '-' || timeout_s > 86400 * 365) {
				fprintf(stderr, "sdlmctl: wait-safe --timeout: '%s' is not a number of seconds\n",
					optarg);
				return CTL_USAGE;
			}
			have_timeout = true;
			end = start + timeout_s * 1000;
			break;
		case 'p': asked = true; break;
		case 'h': printf("%s\n(sdlmctl --help, sdlmctl(8))\n", usage_s); return CTL_OK;
		default: fprintf(stderr, "%s\n", usage_s); return CTL_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s\n", usage_s);
		return CTL_USAGE;
	}
	progress_init(&pg, asked, json);
	for (;;) {
		now = clock_boottime_ms();
		if (!h) {
			rc = sdlm_connect(ipc, &h);
			if (rc < 0) {
				h = NULL;
				if (!have_timeout || now >= end) {
					progress_end(&pg);
					if (have_timeout)
						fprintf(stderr, "sdlmctl: wait-safe: sdlmd did not answer within %llu s\n",
							timeout_s);
					return no_daemon(ipc, rc);
				}
				progress_show(&pg, now, "waiting for sdlmd (ipc '%s') to answer, %llu s left",
					      ipc, (unsigned long long)(end - now + 999) / 1000);
				progress_sleep_ms(poll_ms);
				continue;
			}
		}
		free(text);
		text = NULL;
		rc = sdlm_admin_text(h, "status", NULL, true, &text);
		if (rc < 0) {
			/* The daemon went away: tried again within the bound. */
			sdlm_disconnect(h);
			h = NULL;
			if (!end || now >= end) {
				progress_end(&pg);
				fprintf(stderr, "sdlmctl: wait-safe: status: %s\n", sdlm_strerror(refused(rc)));
				free(text);
				return ctl_exit_for(rc);
			}
			progress_sleep_ms(poll_ms);
			continue;
		}
		if (!status_str(text, "state", state, sizeof(state)) ||
		    !status_num(text, "dead_ms", &dead_ms) || !status_num(text, "lease_ms", &lease_ms)) {
			progress_end(&pg);
			fprintf(stderr, "sdlmctl: wait-safe: the daemon's status has no state (an sdlmd of another version?)\n");
			rc = CTL_FAIL;
			break;
		}
		status_str(text, "reason", reason, sizeof(reason));
		if (!end)
			end = now + dead_ms;
		/* A tenth of the lease: the state changes with a renewal. */
		poll_ms = lease_ms / 10 < 100 ? 100 : lease_ms / 10 > 1000 ? 1000 : (unsigned)(lease_ms / 10);
		if (!strcmp(state, "fenced-safe") || !strcmp(state, "self-fenced") ||
		    !strcmp(state, "obeying pill")) {
			bool safe = !strcmp(state, "fenced-safe");

			progress_end(&pg);
			if (json)
				printf("{\"state\":\"%s\",\"result\":\"%s\",\"elapsed_ms\":%llu}\n",
				       state, safe ? "safe" : "fenced",
				       (unsigned long long)(now - start));
			else if (safe)
				printf("fenced-safe after %.1f s\n", (now - start) / 1000.0);
			if (!safe)
				fprintf(stderr, "sdlmctl: wait-safe: this node is %s%s%s: it does not become "
					"fenced-safe before sdlmd is restarted (sdlmctl status, journalctl -u sdlmd)\n",
					state, reason[0] ? ": " : "", reason);
			rc = safe ? CTL_OK : SAFE_FENCED;
			break;
		}
		if (now >= end) {
			progress_end(&pg);
			if (json)
				printf("{\"state\":\"%s\",\"reason\":\"%s\",\"result\":\"timeout\",\"elapsed_ms\":%llu}\n",
				       state, reason, (unsigned long long)(now - start));
			fprintf(stderr, "sdlmctl: wait-safe: not fenced-safe after %.1f s (%s%s%s); "
				"sdlmctl status says why\n", (now - start) / 1000.0, state,
				reason[0] ? ": " : "", reason);
			rc = SAFE_TIMEOUT;
			break;
		}
		progress_show(&pg, now, "waiting until fenced-safe: %s%s%s, %llu s left",
			      state, reason[0] ? ": " : "", reason,
			      (unsigned long long)(end - now + 999) / 1000);
		progress_sleep_ms(poll_ms);
	}
	free(text);
	if (h)
		sdlm_disconnect(h);
	return rc;
}

/*
 * sdlmctl lock [-m MODE] [-w SECONDS] [-n] LOCKSPACE RESOURCE -- COMMAND...
 * Hold the lock while COMMAND runs (like flock(1)); exit with its status.
 */
static int cmd_lock(const char *ipc, int argc, char **argv)
{
	static const struct option o[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "wait", required_argument, NULL, 'w' },
		{ "nonblock", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *usage_s = "usage: sdlmctl lock [-m NL|CR|CW|PR|PW|EX] [-w SECONDS] [-n] LOCKSPACE RESOURCE -- COMMAND...";
	struct sdlm_lksb lksb;
	sdlm_handle_t *h;
	unsigned wait_s = 0;
	uint32_t flags = 0;
	int mode = SDLM_EX, c, rc, status;
	pid_t pid;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+m:w:nh", o, NULL)) != -1) {
		switch (c) {
		case 'm':
			mode = sdlm_mode_parse(optarg);
			if (mode < 0) {
				fprintf(stderr, "sdlmctl: lock: unknown mode '%s' (NL CR CW PR PW EX)\n", optarg);
				return CTL_USAGE;
			}
			break;
		case 'w': wait_s = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': flags |= SDLM_LKF_NOQUEUE; break;
		case 'h': puts(usage_s); return CTL_OK;
		default: fprintf(stderr, "%s\n", usage_s); return CTL_USAGE;
		}
	}
	if (argc - optind < 3) {
		fprintf(stderr, "%s\n", usage_s);
		return CTL_USAGE;
	}
	rc = sdlm_connect(ipc, &h);
	if (rc < 0) {
		return no_daemon(ipc, rc);
	}
	memset(&lksb, 0, sizeof(lksb));
	rc = sdlm_lock(h, argv[optind], argv[optind + 1], mode, flags, wait_s * 1000, &lksb);
	if (rc < 0) {
		fprintf(stderr, "sdlmctl: lock %s/%s %s: %s\n", argv[optind], argv[optind + 1],
			sdlm_mode_name(mode), sdlm_strerror(refused(rc)));
		sdlm_disconnect(h);
		return rc == SDLM_EBUSY || rc == -ETIMEDOUT ? CTL_FAIL + 74 : CTL_FAIL;
	}
	pid = fork();
	if (pid == 0) {
		char **cmd = argv + optind + 2;

		if (!strcmp(cmd[0], "--"))
			cmd++;
		execvp(cmd[0], cmd);
		fprintf(stderr, "sdlmctl: %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	status = 0;
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	sdlm_unlock(h, &lksb, 0);
	sdlm_disconnect(h);
	if (pid < 0)
		return CTL_FAIL;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void guid_hex(const uint8_t *g, char out[33])
{
	static const char hx[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 16; i++) {
		out[2 * i] = hx[g[i] >> 4];
		out[2 * i + 1] = hx[g[i] & 15];
	}
	out[32] = '\0';
}

/*
 * sdlmctl uid alloc LS MAILBOX [COUNT]      allocate and commit at once
 *        uid show LS MAILBOX
 *        uid raise LS MAILBOX NEXT_UID
 *        uid uidvalidity-bump LS MAILBOX [UIDVALIDITY]
 *        uid list                           mailboxes this node holds
 */
static int cmd_uid(const char *ipc, int argc, char **argv, bool json)
{
	const char *usage_s =
		"usage: sdlmctl uid alloc LOCKSPACE MAILBOX [COUNT]\n"
		"       sdlmctl uid show LOCKSPACE MAILBOX\n"
		"       sdlmctl uid raise LOCKSPACE MAILBOX NEXT_UID\n"
		"       sdlmctl uid settle LOCKSPACE MAILBOX NEXT_UID\n"
		"       sdlmctl uid uidvalidity-bump LOCKSPACE MAILBOX [UIDVALIDITY]\n"
		"       sdlmctl uid delete LOCKSPACE MAILBOX\n"
		"       sdlmctl uid rename LOCKSPACE MAILBOX NEW_NAME\n"
		"       sdlmctl uid import LOCKSPACE ... (sdlmctl uid import --help)\n"
		"       sdlmctl uid list\n"
		"       sdlmctl uid summary [-d DEV] [--prometheus]\n"
		"       sdlmctl uid grow [-d DEV] [--slots N] [--wait S] [--force]\n"
		"       sdlmctl uid segments [-d DEV] [--enable [--force]]\n"
		"MAILBOX: its GUID as 32 hex digits, or a name";
	const char *sub = argc > 1 ? argv[1] : "";
	unsigned long v = 0;
	sdlm_handle_t *h;
	char g[33];
	int rc;

	if (argc == 1) {	/* bare `sdlmctl uid`: the table's summary */
		char *sv[] = { (char *)"summary", NULL };

		return uidtab_main(ipc, ctl_dev, 1, sv, json);
	}
	if (!strcmp(sub, "summary") || !strcmp(sub, "grow") || !strcmp(sub, "segments"))
		return uidtab_main(ipc, ctl_dev, argc - 1, argv + 1, json);
	if (!strcmp(sub, "list")) {
		if (argc != 2) {
			fprintf(stderr, "%s\n", usage_s);
			return CTL_USAGE;
		}
		return daemon_text(ipc, "uids", NULL, json);
	}
	if (!strcmp(sub, "import")) {
		struct uidimport o;
		int err;

		rc = uidimport_args(&o, argc - 1, argv + 1);
		if (rc >= 0)
			return rc;
		rc = sdlm_connect(ipc, &h);
		if (rc < 0)
			return no_daemon(ipc, rc);
		rc = uidimport_run(h, &o, json, &err);
		sdlm_disconnect(h);
		refused(err);
		return rc;
	}
	if (!strcmp(sub, "delete") || !strcmp(sub, "rename")) {
		if (argc != (!strcmp(sub, "delete") ? 4 : 5)) {
			fprintf(stderr, "%s\n", usage_s);
			return CTL_USAGE;
		}
		rc = sdlm_connect(ipc, &h);
		if (rc < 0) {
			return no_daemon(ipc, rc);
		}
		rc = !strcmp(sub, "delete") ? sdlm_uid_delete(h, argv[2], argv[3]) :
			sdlm_uid_rename(h, argv[2], argv[3], argv[4]);
		refused(rc);
		sdlm_disconnect(h);
		if (rc < 0) {
			fprintf(stderr, "sdlmctl: uid %s %s/%s: %s\n", sub, argv[2], argv[3], sdlm_strerror(rc));
			return ctl_exit_for(rc);
		}
		if (json)
			printf("{\"result\":\"%s\"}\n", !strcmp(sub, "delete") ? "deleted" : "renamed");
		else
			printf("%s %s\n", argv[3], !strcmp(sub, "delete") ? "deleted" : "renamed");
		return CTL_OK;
	}
	if (argc < 4 || argc > 5 || (strcmp(sub, "alloc") && strcmp(sub, "show") &&
				     strcmp(sub, "raise") && strcmp(sub, "settle") &&
				     strcmp(sub, "uidvalidity-bump")) ||
	    (!strcmp(sub, "show") && argc != 4) ||
	    ((!strcmp(sub, "raise") || !strcmp(sub, "settle")) && argc != 5)) {
		fprintf(stderr, "%s\n", usage_s);
		return CTL_USAGE;
	}
	if (argc == 5) {
		char *end;

		v = strtoul(argv[4], &end, 10);
		if (*end || v == 0 || v > 0xffffffffUL) {
			fprintf(stderr, "sdlmctl: uid %s: '%s' is not a number in 1..4294967295\n",
				sub, argv[4]);
			return CTL_USAGE;
		}
	}
	rc = sdlm_connect(ipc, &h);
	if (rc < 0) {
		return no_daemon(ipc, rc);
	}
	if (!strcmp(sub, "alloc")) {
		struct sdlm_uid_result r;

		rc = sdlm_uid_alloc(h, argv[2], argv[3], v ? (uint32_t)v : 1, &r);
		if (rc == 0)
			rc = sdlm_uid_commit(h, &r);
		if (rc == 0) {
			if (json)
				printf("{\"first\":%u,\"count\":%u,\"uidvalidity\":%u,\"epoch\":%llu}\n",
				       r.first, r.count, r.uidvalidity, (unsigned long long)r.epoch);
			else if (r.count == 1)
				printf("uid %u (uidvalidity %u, epoch %llu)\n", r.first, r.uidvalidity,
				       (unsigned long long)r.epoch);
			else
				printf("uids %u..%u (uidvalidity %u, epoch %llu)\n", r.first,
				       r.first + r.count - 1, r.uidvalidity, (unsigned long long)r.epoch);
		}
	} else if (!strcmp(sub, "settle")) {
		rc = sdlm_uid_settle(h, argv[2], argv[3], (uint32_t)v, 0);
		if (rc == 0 && !json)
			printf("%s settled: provisional mark cleared, next uid at least %lu\n", argv[3], v);
		else if (rc == 0)
			printf("{\"settled\":true,\"next_at_least\":%lu}\n", v);
	} else if (!strcmp(sub, "raise")) {
		rc = sdlm_uid_raise(h, argv[2], argv[3], (uint32_t)v);
		if (rc == 0 && !json)
			printf("next uid of %s is now at least %lu\n", argv[3], v);
		else if (rc == 0)
			printf("{\"next_at_least\":%lu}\n", v);
	} else {
		struct sdlm_uid_info in;

		if (!strcmp(sub, "show"))
			rc = sdlm_uid_show(h, argv[2], argv[3], &in);
		else
			rc = sdlm_uid_bump(h, argv[2], argv[3], (uint32_t)v, &in);
		if (rc == 0) {
			guid_hex(in.guid, g);
			if (json)
				printf("{\"guid\":\"%s\",\"uidvalidity\":%u,\"watermark\":%u,"
				       "\"next\":%u,\"held\":%s,\"epoch\":%llu,"
				       "\"provisional\":%s,\"prov_base\":%u}\n", g, in.uidvalidity,
				       in.watermark, in.next, in.held ? "true" : "false",
				       (unsigned long long)in.epoch,
				       in.flags & SDLM_UID_F_PROVISIONAL ? "true" : "false",
				       in.prov_base);
			else {
				char nx[16] = "";

				if (in.held)
					snprintf(nx, sizeof(nx), "%u", in.next);
				printf("mailbox     %s\nguid        %s\nuidvalidity %u\nwatermark   %u (durable)\n"
				       "held here   %s%s\nepoch       %llu\n", argv[3], g, in.uidvalidity,
				       in.watermark, in.held ? "yes, next uid " : "no", nx,
				       (unsigned long long)in.epoch);
				if (in.flags & SDLM_UID_F_PROVISIONAL)
					printf("provisional UIDs above %u (degraded mode; not settled by a rejoin repair)\n",
					       in.prov_base);
			}
		}
	}
	sdlm_disconnect(h);
	if (rc < 0) {
		refused(rc);
		fprintf(stderr, "sdlmctl: uid %s %s/%s: %s\n", sub, argv[2], argv[3], sdlm_strerror(rc));
		return ctl_exit_for(rc);
	}
	return CTL_OK;
}

/* Exit codes of "degraded" (sdlmctl(8)). */
#define DEG_REFUSED_QUORATE	3
#define DEG_REFUSED_PEER	4
#define DEG_BUSY		5

/*
 * sdlmctl degraded [status]
 *        degraded enable --confirm-split-storage
 *        degraded disable
 * The operator's word for split storage (docs/uid.md).  A refusal names
 * its reason: the daemon's status, printed to stderr, says which node.
 */
static int cmd_degraded(const char *ipc, int argc, char **argv, bool json)
{
	const char *usage_s =
		"usage: sdlmctl degraded [status]\n"
		"       sdlmctl degraded enable --confirm-split-storage\n"
		"       sdlmctl degraded disable\n"
		"Degraded mode is for SPLIT STORAGE only (two copies of the mail store whose\n"
		"replication broke): this node hands out UIDs without the cluster, marked\n"
		"provisional, until a rejoin repair (sdlm-maildir-repair) merges the copies.";
	const char *sub = argc > 1 ? argv[1] : "status";
	char cmdname[32], *text = NULL;
	sdlm_handle_t *h;
	int rc;

	if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		puts(usage_s);
		return CTL_OK;
	}
	if ((!strcmp(sub, "status") && argc > 2) ||
	    (!strcmp(sub, "disable") && argc != 2) ||
	    (!strcmp(sub, "enable") && (argc != 3 || strcmp(argv[2], "--confirm-split-storage"))) ||
	    (strcmp(sub, "status") && strcmp(sub, "enable") && strcmp(sub, "disable"))) {
		if (!strcmp(sub, "enable"))
			fprintf(stderr, "sdlmctl: degraded enable needs --confirm-split-storage: "
				"it is only for two copies of the storage that no longer replicate, "
				"with this node the only one left on this copy\n");
		fprintf(stderr, "%s\n", usage_s);
		return CTL_USAGE;
	}
	snprintf(cmdname, sizeof(cmdname), "%s%s", !strcmp(sub, "status") ? "degraded" : "degraded-",
		 !strcmp(sub, "status") ? "" : sub);
	rc = sdlm_connect(ipc, &h);
	if (rc < 0) {
		return no_daemon(ipc, rc);
	}
	rc = sdlm_admin_text(h, cmdname, NULL, json, &text);
	if (rc == SDLM_EQUORATE || rc == SDLM_EPEERLIVE || rc == -EBUSY) {
		char *st = NULL;

		fprintf(stderr, "sdlmctl: degraded %s refused: %s\n", sub,
			rc == -EBUSY ? "a UID allocation is not committed yet or a record I/O is in flight (retry)" :
			sdlm_strerror(rc));
		if (rc == SDLM_EQUORATE)
			fprintf(stderr, "sdlmctl: this node is in a quorate membership: the normal fencing rules apply\n");
		if (sdlm_admin_text(h, "degraded", NULL, false, &st) == 0) {
			fputs(st, stderr);
			free(st);
		}
		if (json)
			printf("{\"result\":\"refused\",\"reason\":\"%s\"}\n",
			       rc == SDLM_EQUORATE ? "quorate" : rc == SDLM_EPEERLIVE ?
			       "peer-heartbeat" : "busy");
		sdlm_disconnect(h);
		return rc == SDLM_EQUORATE ? DEG_REFUSED_QUORATE :
		       rc == SDLM_EPEERLIVE ? DEG_REFUSED_PEER : DEG_BUSY;
	}
	sdlm_disconnect(h);
	if (rc < 0) {
		fprintf(stderr, "sdlmctl: degraded %s: %s\n", sub, sdlm_strerror(refused(rc)));
		return ctl_exit_for(rc);
	}
	fputs(text, stdout);
	free(text);
	return CTL_OK;
}

static int ctl_main(int argc, char **argv)
{
	struct sdlm_conf cf;
	char err[PATH_MAX + 300], dev_from[PATH_MAX + 64];
	const char *ipc, *dev, *cmd;
	bool json = false;
	int i, first, rc;

	/* --json may also follow the command, up to a "--": what follows
	 * belongs to the command `lock` runs. */
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--json"))
			json = true;
	/* The global options and sdlm.conf, through sdlmd's option table.
	 * getopt takes --ipc, the old spelling, as an abbreviation of
	 * --ipc-name. */
	conf_defaults(&cf);
	rc = conf_parse_args(&cf, argc, argv, CONF_CTL | CONF_SOFT_DEFAULT, &first,
			     err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "sdlmctl: %s (sdlmctl --help)\n", err);
		conf_free(&cf);
		return CTL_USAGE;
	}
	conf_read_note = err[0] ? strdup(err) : NULL;
	if (conf_bool(&cf, OPT_HELP) || conf_bool(&cf, OPT_VERSION) ||
	    conf_bool(&cf, OPT_DUMP_CONFIG)) {
		if (conf_bool(&cf, OPT_HELP))
			usage(stdout);
		else if (conf_bool(&cf, OPT_VERSION))
			printf("sdlmctl (sdlm) %s\n", PACKAGE_VERSION);
		else
			conf_dump(stdout, &cf, CONF_CTL, false);
		conf_free(&cf);
		return CTL_OK;
	}
	if (conf_bool(&cf, OPT_JSON))
		json = true;
	config_path = strdup(conf_str(&cf, OPT_CONFIG));
	ipc = ctl_ipc = strdup(conf_client_value(&cf, OPT_IPC_NAME, getenv("SDLM_IPC"),
						 "SDLM_IPC", ipc_from, sizeof(ipc_from)));
	dev = ctl_dev = strdup(conf_client_value(&cf, OPT_DEVICE, getenv("SDLM_DEVICE"),
						 "SDLM_DEVICE", dev_from, sizeof(dev_from)));
	conf_free(&cf);
	if (!config_path || !ipc || !dev) {
		fprintf(stderr, "sdlmctl: out of memory\n");
		return CTL_FAIL;
	}
	optind = first;
	if (optind >= argc) {
		fprintf(stderr, "sdlmctl: no command (sdlmctl --help lists them)\n");
		return CTL_USAGE;
	}
	/* Drop --json wherever it stands so subcommand parsers never see it. */
	{
		int j = optind;
		for (i = optind; i < argc && strcmp(argv[i], "--"); i++)
			if (strcmp(argv[i], "--json"))
				argv[j++] = argv[i];
		for (; i < argc; i++)
			argv[j++] = argv[i];
		argc = j;
	}
	cmd = argv[optind];
	if (!strcmp(cmd, "fence") && argc - optind >= 2 && !strcmp(argv[optind + 1], "confirm")) {
		char arg[64];

		if (argc - optind < 3 || argc - optind > 4 ||
		    (argc - optind == 4 && strcmp(argv[optind + 3], "--force"))) {
			fprintf(stderr, "usage: sdlmctl fence confirm NODE [--force]\n");
			return CTL_USAGE;
		}
		snprintf(arg, sizeof(arg), "%s%s", argv[optind + 2],
			 argc - optind == 4 ? " force" : "");
		return daemon_text(ipc, "fence-confirm", arg, json);
	}
	if (!strcmp(cmd, "fence"))
		return fence_main(argc - optind, argv + optind, json, dev, dev_from);
	if (!strcmp(cmd, "lock"))
		return cmd_lock(ipc, argc - optind, argv + optind);
	if (!strcmp(cmd, "uid"))
		return cmd_uid(ipc, argc - optind, argv + optind, json);
	if (!strcmp(cmd, "degraded"))
		return cmd_degraded(ipc, argc - optind, argv + optind, json);
	if (!strcmp(cmd, "wait-safe"))
		return cmd_wait_safe(ipc, argc - optind, argv + optind, json);
	if (!strcmp(cmd, "status") || !strcmp(cmd, "nodes") || !strcmp(cmd, "ls") ||
	    !strcmp(cmd, "dump") || !strcmp(cmd, "dump-config")) {
		if (cmd_help(argc - optind, argv + optind, cmd))
			return CTL_OK;
		if (argc - optind != 1) {
			fprintf(stderr, "sdlmctl: %s takes no arguments\n", cmd);
			return CTL_USAGE;
		}
		return daemon_text(ipc, cmd, NULL, json);
	}
	if (!strcmp(cmd, "stats")) {
		if (cmd_help(argc - optind, argv + optind, "stats [--prometheus] [--json]"))
			return CTL_OK;
		if (argc - optind > 2 || (argc - optind == 2 && strcmp(argv[optind + 1], "--prometheus"))) {
			fprintf(stderr, "usage: sdlmctl stats [--prometheus] [--json]\n");
			return CTL_USAGE;
		}
		return daemon_text(ipc, "stats", argc - optind == 2 ? "prometheus" : NULL, json);
	}
	if (!strcmp(cmd, "locks") || !strcmp(cmd, "lockdump")) {
		if (cmd_help(argc - optind, argv + optind, "locks [LOCKSPACE]"))
			return CTL_OK;
		if (argc - optind > 2) {
			fprintf(stderr, "sdlmctl: locks takes at most one lockspace\n");
			return CTL_USAGE;
		}
		return daemon_text(ipc, "locks", argc - optind == 2 ? argv[optind + 1] : NULL, json);
	}
	fprintf(stderr, "sdlmctl: unknown command '%s' (sdlmctl --help)\n", cmd);
	return CTL_USAGE;
}

int main(int argc, char **argv)
{
	int rc = ctl_main(argc, argv);

	free(ctl_ipc);
	free(ctl_dev);
	free((char *)config_path);
	free((char *)conf_read_note);
	return rc;
}
