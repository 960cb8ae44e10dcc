/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fencecmd.c - `sdlmctl fence init|dump|list|message|status`, working on
 * the device directly: no daemon, no corosync.
 *
 *   init     write a fresh area (refuses to overwrite without --force)
 *   dump     print the header and the derived timeouts
 *   list     one line per slot: node, name, state, counter, incarnation,
 *            pending message, acknowledgement
 *   message  write a message (test, reset, off, clear) into a node's slot,
 *            read back and verified; --wait follows a reset/off until the
 *            node acknowledged it or stood still for the dead bound
 *   status   exit 0 alive, 2 fenced/off, 1 unknown (fence-agents'
 *            convention); it samples the slot twice, one heartbeat
 *            interval plus the I/O timeout apart, to see the counter move
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sdlm.h"
#include "clock.h"
#include "ondisk.h"
#include "area.h"
#include "timeouts.h"
#include "render.h"
#include "fencecmd.h"
#include "progress.h"
#include "uidrec.h"

#define UID_SLOTS_DEFAULT	1428572u	/* 10^6 mailboxes at 70%: 1.36 GiB at 512 B */
#define UID_SLOTS_MAX		0x7fffffffu

int ctl_exit_for(int err)
{
	switch (err) {
	case 0:
		return CTL_OK;
	case -ENOENT: case -ENOTBLK: case -EISDIR: case -ENODEV: case -ENXIO:
		return CTL_NOINPUT;
	case -EACCES: case -EPERM: case -EROFS:
		return CTL_NOPERM;
	case -EEXIST:
		return CTL_EXISTS;
	case SDLM_EMAGIC: case SDLM_EVERSION: case SDLM_ECHECKSUM:
	case SDLM_EIDENTITY: case SDLM_ENOTINIT: case -EUCLEAN:
		return CTL_DATAERR;
	case SDLM_EDAEMON:
		return CTL_NODAEMON;
	default:
		return CTL_FAIL;
	}
}

static void sleep_ms(unsigned ms)
{
	progress_sleep_ms(ms);
}

/*
 * Test seam (tests/fence/t-daemons.sh): SDLM_TEST_FENCE_READ_STALL_MS=<ms>
 * stalls `fence message --wait` that long right after each read of the
 * slots, as a process descheduled between a read and what follows does.
 */
static void test_stall_after_read(void)
{
	const char *v = getenv("SDLM_TEST_FENCE_READ_STALL_MS");

	if (v && *v)
		sleep_ms((unsigned)strtoul(v, NULL, 10));
}

static int fail(int rc, const char *why)
{
	fprintf(stderr, "sdlmctl: %s\n", why);
	return ctl_exit_for(rc);
}

static int derive(const struct sdlm_header *h, struct sdlm_timeouts *t,
		  const char **why)
{
	struct sdlm_timeouts_base b = {
		.io_timeout_ms = h->io_timeout_ms,
		.hb_interval_ms = h->hb_interval_ms,
		.watchdog_ms = h->watchdog_timeout_ms,
	};

	return timeouts_derive(&b, t, why);
}

static void render_timeouts(struct sbuf *b, const struct sdlm_timeouts *t, bool json)
{
	if (json) {
		sb_printf(b, "{\"io_timeout_ms\":%u,\"hb_interval_ms\":%u,"
			  "\"watchdog_timeout_ms\":%u,\"lease_ms\":%u,"
			  "\"dead_ms\":%u,\"ack_bound_ms\":%u}",
			  t->base.io_timeout_ms, t->base.hb_interval_ms, t->base.watchdog_ms,
			  t->lease_ms, t->dead_ms, t->ack_ms);
		return;
	}
	sb_printf(b,
		  "  io timeout         %6u ms\n"
		  "  heartbeat interval %6u ms\n"
		  "  watchdog timeout   %6u ms\n"
		  "  lease              %6u ms  (use of locks stops when no renewal completed for this long)\n"
		  "  dead bound         %6u ms  (a still, away node is dead after this)\n"
		  "  ack path bound     %6u ms  (pill written -> acknowledgement seen)\n",
		  t->base.io_timeout_ms, t->base.hb_interval_ms, t->base.watchdog_ms,
		  t->lease_ms, t->dead_ms, t->ack_ms);
}

static void render_header(struct sbuf *b, const struct sdlm_header *h, bool json)
{
	char u[SDLM_UUID_STR_LEN];

	sdlm_uuid_unparse(h->uuid, u);
	if (json) {
		sb_printf(b, "\"version\":\"%u.%u\",\"cluster\":", h->major, h->minor);
		sb_json_str(b, h->cluster_name);
		sb_printf(b, ",\"uuid\":\"%s\",\"sector_size\":%u,\"nodes\":%u,"
			  "\"create_time\":%llu,\"create_host\":", u, h->sector_size,
			  h->num_nodes, (unsigned long long)h->create_time);
		sb_json_str(b, h->create_host);
		/* where a slot's copies are: uid_area_offset +
		 * (2 * slot + copy) * sector_size (docs/ondisk.md) */
		sb_printf(b, ",\"area_bytes\":%llu,\"uid_slots\":%llu,\"uid_area_offset\":%llu",
			  (unsigned long long)layout_area_len(h),
			  (unsigned long long)uidtab_nslots(h),
			  (unsigned long long)h->uid_area_start * h->sector_size);
		return;
	}
	sb_printf(b, "format version     %u.%u\ncluster            %s\nuuid               %s\n"
		  "sector size        %u\nnode slots         %u\narea size          %llu bytes\n"
		  "uid slots          %llu\n"
		  "created            %llu by %s\n",
		  h->major, h->minor, h->cluster_name, u, h->sector_size, h->num_nodes,
		  (unsigned long long)layout_area_len(h),
		  (unsigned long long)uidtab_nslots(h),
		  (unsigned long long)h->create_time, h->create_host);
}

/* The device when a command has no -d: sdlmctl's --device, $SDLM_DEVICE or
 * sdlm.conf's device (fence_main), and where it came from. */
static const char *default_dev;
static const char *default_dev_from = "";

static void no_device(const char *usage)
{
	fprintf(stderr, "sdlmctl: no device: give -d DEV or --device, or set device = DEV in sdlm.conf (%s)\n"
		"usage: %s\n", default_dev_from, usage);
}

static int output(struct sbuf *b)
{
	if (b->oom) {
		fprintf(stderr, "sdlmctl: out of memory\n");
		return CTL_FAIL;
	}
	if (b->s)
		fputs(b->s, stdout);
	return CTL_OK;
}

static const struct option init_opts[] = {
	{ "device", required_argument, NULL, 'd' },
	{ "cluster", required_argument, NULL, 'C' },
	{ "nodes", required_argument, NULL, 'N' },
	{ "sector-size", required_argument, NULL, 'S' },
	{ "profile", required_argument, NULL, 'P' },
	{ "io-timeout", required_argument, NULL, 'I' },
	{ "hb-interval", required_argument, NULL, 'H' },
	{ "watchdog-timeout", required_argument, NULL, 'W' },
	{ "uuid", required_argument, NULL, 'U' },
	{ "uid-slots", required_argument, NULL, 'u' },
	{ "force", no_argument, NULL, 'F' },
	{ "progress", no_argument, NULL, 'p' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* fence init's progress: zeroing the UID area (area_progress_fn). */
struct init_progress {
	struct progress pg;
	uint64_t start_ms;
};

static void init_progress(void *arg, uint64_t done, uint64_t total)
{
	struct init_progress *ip = arg;
	uint64_t now = clock_boottime_ms(), el = now - ip->start_ms;
	double mib = 1024.0 * 1024.0;

	if (done == total) {
		progress_show_now(&ip->pg, now, "zeroed the UID area: %.0f MiB in %.1f s",
				  total / mib, el / 1000.0);
		return;
	}
	if (done == 0 || el == 0) {
		progress_show(&ip->pg, now, "zeroing the UID area: 0 of %.0f MiB", total / mib);
		return;
	}
	progress_show(&ip->pg, now, "zeroing the UID area: %.0f of %.0f MiB (%.0f%%), about %.0f s left",
		      done / mib, total / mib, 100.0 * done / total,
		      (double)el * (total - done) / done / 1000.0);
}

static int parse_u32(const char *s, const char *what, uint32_t min, uint32_t max,
		     uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "sdlmctl: %s: '%s' is not a number in %u..%u\n",
			what, s, min, max);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static void init_usage(FILE *f)
{
	fprintf(f,
		"usage: sdlmctl fence init [-d DEV] --cluster NAME [--nodes N] [--sector-size 512|4096]\n"
		"                          [--profile default|test] [--io-timeout MS] [--hb-interval MS]\n"
		"                          [--watchdog-timeout MS] [--uuid UUID] [--uid-slots N]\n"
		"                          [--force] [--progress] [--json]\n"
		"  --uid-slots N   mailboxes' UID records (2 sectors each; 0 = no UID area;\n"
		"                  default %u: 1 000 000 mailboxes at 70%%, an area of\n"
		"                  1.36 GiB at 512 B sectors, 10.9 GiB at 4096).  Size it\n"
		"                  10/7 x the mailboxes; grow it later, online: sdlmctl uid grow\n"
		"  --progress      show the zeroing of the UID area on stderr even when it\n"
		"                  is not a terminal (on a terminal it is shown anyway)\n",
		UID_SLOTS_DEFAULT);
}

static int fence_init(int argc, char **argv, bool json)
{
	struct sdlm_header h;
	struct sdlm_timeouts_base base;
	struct sdlm_timeouts t;
	const char *dev = NULL, *cluster = NULL, *profile = "default", *why = NULL;
	uint32_t nodes = 16, ss = 0, io = 0, hbi = 0, wd = 0;
	uint32_t uid_slots = UID_SLOTS_DEFAULT;
	char err[AREA_WHY_LEN], host[SDLM_DISK_NAME_LEN] = "";
	bool force = false, have_uuid = false, progress = false;
	struct init_progress ip;
	struct sbuf b;
	int c, rc;

	memset(&h, 0, sizeof(h));
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:h", init_opts, NULL)) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 'C': cluster = optarg; break;
		case 'N': if (parse_u32(optarg, "--nodes", 1, SDLM_MAX_NODES, &nodes)) return CTL_USAGE; break;
		case 'S': if (parse_u32(optarg, "--sector-size", 512, 4096, &ss) ||
			      (ss != 512 && ss != 4096)) {
				fprintf(stderr, "sdlmctl: --sector-size must be 512 or 4096\n");
				return CTL_USAGE;
			  }
			  break;
		case 'P': profile = optarg; break;
		case 'I': if (parse_u32(optarg, "--io-timeout", 1, 600000, &io)) return CTL_USAGE; break;
		case 'H': if (parse_u32(optarg, "--hb-interval", 1, 600000, &hbi)) return CTL_USAGE; break;
		case 'W': if (parse_u32(optarg, "--watchdog-timeout", 1, 600000, &wd)) return CTL_USAGE; break;
		case 'U':
			if (sdlm_uuid_parse(optarg, h.uuid)) {
				fprintf(stderr, "sdlmctl: --uuid: '%s' is not a UUID\n", optarg);
				return CTL_USAGE;
			}
			have_uuid = true;
			break;
		case 'u': if (parse_u32(optarg, "--uid-slots", 0, UID_SLOTS_MAX, &uid_slots)) return CTL_USAGE; break;
		case 'F': force = true; break;
		case 'p': progress = true; break;
		case 'h': init_usage(stdout); return CTL_OK;
		default: init_usage(stderr); return CTL_USAGE;
		}
	}
	if (!dev)
		dev = default_dev;
	if (!dev || !cluster || optind != argc) {
		fprintf(stderr, "sdlmctl: fence init needs -d DEV (or device in sdlm.conf) and --cluster NAME\n");
		init_usage(stderr);
		return CTL_USAGE;
	}
	if (!cluster[0] || strlen(cluster) >= SDLM_DISK_NAME_LEN) {
		fprintf(stderr, "sdlmctl: --cluster: name must have 1..%d characters\n",
			SDLM_DISK_NAME_LEN - 1);
		return CTL_USAGE;
	}
	if (timeouts_profile(profile, &base) < 0) {
		fprintf(stderr, "sdlmctl: --profile: unknown profile '%s' (default, test)\n", profile);
		return CTL_USAGE;
	}
	if (io) base.io_timeout_ms = io;
	if (hbi) base.hb_interval_ms = hbi;
	if (wd) base.watchdog_ms = wd;
	rc = timeouts_derive(&base, &t, &why);
	if (rc < 0) {
		fprintf(stderr, "sdlmctl: inconsistent timeouts: %s\n", why ? why : "?");
		return CTL_USAGE;
	}
	h.major = SDLM_ONDISK_MAJOR;
	h.minor = SDLM_ONDISK_MINOR;
	h.sector_size = ss ? ss : 512;
	h.num_nodes = nodes;
	/* the UID area follows the slots: docs/uid.md "Layout" */
	if (uid_slots) {
		h.uid_area_start = 2 * (uint64_t)nodes + 1;
		h.uid_area_sectors = 2 * (uint64_t)uid_slots;
	}
	snprintf(h.cluster_name, sizeof(h.cluster_name), "%s", cluster);
	if (!have_uuid) {
		FILE *r = fopen("/dev/urandom", "r");

		if (!r || fread(h.uuid, 1, sizeof(h.uuid), r) != sizeof(h.uuid)) {
			fprintf(stderr, "sdlmctl: cannot read /dev/urandom\n");
			if (r)
				fclose(r);
			return CTL_FAIL;
		}
		fclose(r);
		h.uuid[6] = (h.uuid[6] & 0x0f) | 0x40;	/* version 4 */
		h.uuid[8] = (h.uuid[8] & 0x3f) | 0x80;
	}
	h.io_timeout_ms = base.io_timeout_ms;
	h.hb_interval_ms = base.hb_interval_ms;
	h.watchdog_timeout_ms = base.watchdog_ms;
	h.create_time = (uint64_t)time(NULL);
	gethostname(host, sizeof(host) - 1);
	snprintf(h.create_host, sizeof(h.create_host), "%s", host);

	progress_init(&ip.pg, progress, json);
	ip.start_ms = clock_boottime_ms();
	rc = area_init(dev, &h, force, base.io_timeout_ms, err, init_progress, &ip);
	progress_end(&ip.pg);
	if (rc < 0)
		return fail(rc, err);
	sb_init(&b);
	if (json) {
		sb_printf(&b, "{\"device\":");
		sb_json_str(&b, dev);
		sb_printf(&b, ",");
		render_header(&b, &h, true);
		sb_printf(&b, ",\"timeouts\":");
		render_timeouts(&b, &t, true);
		sb_printf(&b, "}\n");
	} else {
		sb_printf(&b, "initialised %s\n", dev);
		render_header(&b, &h, false);
		sb_printf(&b, "timeouts:\n");
		render_timeouts(&b, &t, false);
	}
	rc = output(&b);
	sb_free(&b);
	return rc;
}

/* Common option parsing for the other subcommands: -d DEV [extra...]. */
struct dev_args {
	const char *dev;
	unsigned wait;		/* message --wait: give up after this many seconds, 0 = no wait */
	bool force;
	bool have_seq;		/* message --seq: the operator's seq for a slot that does not verify */
	uint64_t seq;
	bool progress;		/* --progress: show it even when stderr is no terminal */
	int first;		/* first positional argument */
};

static int parse_dev_args(int argc, char **argv, struct dev_args *da, const char *usage)
{
	static const struct option o[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "wait", optional_argument, NULL, 'w' },
		{ "force", no_argument, NULL, 'F' },
		{ "progress", no_argument, NULL, 'P' },
		{ "seq", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	int c;

	memset(da, 0, sizeof(*da));
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:h", o, NULL)) != -1) {
		switch (c) {
		case 'd': da->dev = optarg; break;
		case 'w': da->wait = optarg ? (unsigned)strtoul(optarg, NULL, 10) : 3600; break;
		case 'F': da->force = true; break;
		case 'P': da->progress = true; break;
		case 'S':
			errno = 0;
			da->seq = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' ||
			    da->seq == 0 || da->seq == UINT64_MAX) {
				fprintf(stderr, "sdlmctl: --seq: '%s' is not a number in 1..%llu\n",
					optarg, (unsigned long long)UINT64_MAX - 1);
				return CTL_USAGE;
			}
			da->have_seq = true;
			break;
		case 'h': printf("usage: %s\n", usage); return 0;
		default: fprintf(stderr, "usage: %s\n", usage); return CTL_USAGE;
		}
	}
	if (!da->dev)
		da->dev = default_dev;
	if (!da->dev) {
		no_device(usage);
		return CTL_USAGE;
	}
	da->first = optind;
	return -1;
}

static int open_area(const char *dev, struct area **a)
{
	char why[AREA_WHY_LEN];
	int rc;

	/* The I/O timeout is not known before the header is read: use a
	 * generous one for the probe, then the header's. */
	rc = area_open(a, dev, 10000, why);
	if (rc < 0)
		return fail(rc, why);
	(*a)->io_timeout_ms = (*a)->hdr.io_timeout_ms;
	return 0;
}

static int fence_dump(int argc, char **argv, bool json)
{
	struct dev_args da;
	struct sdlm_timeouts t;
	const char *why = NULL;
	struct area *a;
	struct sbuf b;
	int rc;

	rc = parse_dev_args(argc, argv, &da, "sdlmctl fence dump [-d DEV] [--json]");
	if (rc >= 0)
		return rc;
	rc = open_area(da.dev, &a);
	if (rc)
		return rc;
	sb_init(&b);
	rc = derive(&a->hdr, &t, &why);
	if (json) {
		sb_printf(&b, "{\"device\":");
		sb_json_str(&b, da.dev);
		sb_printf(&b, ",");
		render_header(&b, &a->hdr, true);
		sb_printf(&b, ",\"timeouts\":");
		if (rc == 0)
			render_timeouts(&b, &t, true);
		else
			sb_json_str(&b, why ? why : "inconsistent");
		sb_printf(&b, "}\n");
	} else {
		sb_printf(&b, "device             %s\n", da.dev);
		render_header(&b, &a->hdr, false);
		sb_printf(&b, "timeouts:\n");
		if (rc == 0)
			render_timeouts(&b, &t, false);
		else
			sb_printf(&b, "  INCONSISTENT: %s\n", why ? why : "?");
	}
	area_close(a);
	rc = output(&b);
	sb_free(&b);
	return rc;
}

struct slots {
	struct sdlm_hb hb[SDLM_MAX_NODES + 1];
	int hb_rc[SDLM_MAX_NODES + 1];
	struct sdlm_msg msg[SDLM_MAX_NODES + 1];
	int msg_rc[SDLM_MAX_NODES + 1];
};

static bool acked(const struct sdlm_hb *hb, const struct sdlm_msg *m)
{
	return (m->cmd == MSG_RESET || m->cmd == MSG_OFF || m->cmd == MSG_TEST) &&
	       hb->ack_cmd == m->cmd && hb->ack_seq == m->seq &&
	       (m->target_incarnation == 0 || hb->ack_incarnation == m->target_incarnation);
}

/* The writer runs with no watchdog (no_watchdog = yes): nothing resets
 * it, so a still heartbeat or a fenced-self slot proves nothing. */
static bool no_watchdog(const struct sdlm_hb *hb)
{
	return (hb->flags & SDLM_HB_F_NO_WATCHDOG) != 0;
}

static void render_slot(struct sbuf *b, const struct slots *s, uint32_t i, bool json)
{
	const struct sdlm_hb *hb = &s->hb[i];
	const struct sdlm_msg *m = &s->msg[i];
	uint64_t wall = clock_realtime_ms();
	long long age = hb->wall_time_ms && wall >= hb->wall_time_ms ?
		(long long)(wall - hb->wall_time_ms) : -1;

	if (json) {
		sb_printf(b, "{\"node\":%u,", i);
		if (s->hb_rc[i]) {
			sb_printf(b, "\"error\":");
			sb_json_str(b, sdlm_strerror(s->hb_rc[i]));
		} else {
			sb_printf(b, "\"name\":");
			sb_json_str(b, hb->node_name);
			sb_printf(b, ",\"state\":\"%s\",\"counter\":%llu,"
				  "\"incarnation\":\"%016llx\",\"wall_age_ms\":%lld,"
				  "\"ack\":{\"cmd\":\"%s\",\"seq\":%llu}",
				  hb_state_name(hb->state), (unsigned long long)hb->counter,
				  (unsigned long long)hb->incarnation, age,
				  msg_cmd_name(hb->ack_cmd), (unsigned long long)hb->ack_seq);
			sb_printf(b, ",\"version\":");
			sb_json_str(b, hb->version[0] ? hb->version : "unknown");
			sb_printf(b, ",\"no_watchdog\":%s", no_watchdog(hb) ? "true" : "false");
		}
		if (s->msg_rc[i]) {
			sb_printf(b, ",\"message_error\":");
			sb_json_str(b, sdlm_strerror(s->msg_rc[i]));
		} else {
			sb_printf(b, ",\"message\":{\"cmd\":\"%s\",\"seq\":%llu,\"from\":%u,"
				  "\"acked\":%s}", msg_cmd_name(m->cmd),
				  (unsigned long long)m->seq, m->from_node,
				  !s->hb_rc[i] && acked(hb, m) ? "true" : "false");
		}
		sb_printf(b, "}");
		return;
	}
	if (s->hb_rc[i]) {
		sb_printf(b, "%4u  %-16s %s\n", i, "?", sdlm_strerror(s->hb_rc[i]));
		return;
	}
	sb_printf(b, "%4u  %-16s %-12s %10llu  %016llx  ", i,
		  hb->node_name[0] ? hb->node_name : "-", hb_state_name(hb->state),
		  (unsigned long long)hb->counter, (unsigned long long)hb->incarnation);
	if (age >= 0)
		sb_printf(b, "%7.1fs  ", age / 1000.0);
	else
		sb_printf(b, "%8s  ", "-");
	sb_printf(b, "%-16s ", hb->version[0] ? hb->version : "unknown");
	if (s->msg_rc[i])
		sb_printf(b, "msg? %s", sdlm_strerror(s->msg_rc[i]));
	else if (m->cmd != MSG_CLEAR)
		sb_printf(b, "%s#%llu%s", msg_cmd_name(m->cmd), (unsigned long long)m->seq,
			  acked(hb, m) ? " acked" : " pending");
	else
		sb_printf(b, "-");
	if (no_watchdog(hb))
		sb_printf(b, "  no-watchdog");
	sb_printf(b, "\n");
}

static int fence_list(int argc, char **argv, bool json)
{
	struct dev_args da;
	struct slots *s;
	struct area *a;
	struct sbuf b;
	uint32_t i;
	bool first = true, all = false;
	int rc;

	rc = parse_dev_args(argc, argv, &da, "sdlmctl fence list [-d DEV] [--json] [all]");
	if (rc >= 0)
		return rc;
	if (da.first < argc && !strcmp(argv[da.first], "all"))
		all = true;
	rc = open_area(da.dev, &a);
	if (rc)
		return rc;
	s = calloc(1, sizeof(*s));
	if (!s) {
		area_close(a);
		return CTL_FAIL;
	}
	rc = area_read_slots(a, s->hb, s->hb_rc, s->msg, s->msg_rc);
	if (rc < 0) {
		rc = fail(rc, a->why);
		goto out;
	}
	sb_init(&b);
	if (json)
		sb_printf(&b, "{\"cluster\":\"%s\",\"nodes\":[", a->hdr.cluster_name);
	else
		sb_printf(&b, "node  name             state           counter  incarnation        wall-age  version          message\n");
	for (i = 1; i <= a->hdr.num_nodes; i++) {
		/* Unused slots are noise on a 255-slot area; "all" shows them. */
		if (!all && !s->hb_rc[i] && s->hb[i].state == HB_FREE &&
		    s->hb[i].counter == 0 && !s->msg_rc[i] && s->msg[i].seq == 0)
			continue;
		if (json && !first)
			sb_printf(&b, ",");
		render_slot(&b, s, i, json);
		first = false;
	}
	if (json)
		sb_printf(&b, "]}\n");
	rc = output(&b);
	sb_free(&b);
out:
	free(s);
	area_close(a);
	return rc;
}

static int parse_node(struct area *a, const char *arg, uint32_t *node)
{
	struct slots *s;
	uint32_t i;
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (*arg && !*end) {
		if (v < 1 || v > a->hdr.num_nodes) {
			fprintf(stderr, "sdlmctl: node %s: not a slot of %s (1..%u)\n",
				arg, a->path, a->hdr.num_nodes);
			return -1;
		}
		*node = (uint32_t)v;
		return 0;
	}
	/* A name: find the slot that carries it. */
	s = calloc(1, sizeof(*s));
	if (!s || area_read_slots(a, s->hb, s->hb_rc, s->msg, s->msg_rc) < 0) {
		free(s);
		fprintf(stderr, "sdlmctl: %s\n", a->why);
		return -1;
	}
	for (i = 1; i <= a->hdr.num_nodes; i++)
		if (!s->hb_rc[i] && !strcmp(s->hb[i].node_name, arg)) {
			*node = i;
			free(s);
			return 0;
		}
	free(s);
	fprintf(stderr, "sdlmctl: node '%s': no slot of %s carries that name\n", arg, a->path);
	return -1;
}

/*
 * Read the target's two slots until both verify: the fencer's rule
 * (fence/fencesm.h, "Every pill written ..."; issue 13, hole 3) - a slot
 * that does not verify is read again, never guessed.  A running node
 * rewrites its heartbeat slot every interval and a torn read does not
 * repeat, so the reads go on for two heartbeat intervals plus the I/O
 * timeout.  Returns area_read_slots' result of the last read (< 0: the
 * read itself failed); the per-slot results are in s.  *reads counts them.
 */
static int read_target_slots(struct area *a, struct slots *s, uint32_t node,
			     const struct sdlm_timeouts *t, unsigned *reads)
{
	uint64_t end = clock_boottime_ms() + 2 * (uint64_t)t->base.hb_interval_ms +
		       t->base.io_timeout_ms;
	int rc;

	for (*reads = 1;; ++*reads) {
		rc = area_read_slots(a, s->hb, s->hb_rc, s->msg, s->msg_rc);
		if (rc == 0 && !s->hb_rc[node] && !s->msg_rc[node])
			return 0;
		if (clock_boottime_ms() >= end)
			return rc;
		sleep_ms(t->base.hb_interval_ms);
	}
}

/*
 * The message to write: seq = (seq on disk) + 1, naming the incarnation
 * in the heartbeat slot, as the fencer aims its pills.  A message slot
 * that does not verify has no seq on disk: only the operator's --seq
 * (above anything the node can have handled) rewrites it.  A heartbeat
 * slot that does not verify has no incarnation: no test/reset/off (a
 * message for "any incarnation" may be taken as the node's baseline and
 * ignored); a clear names nobody and stops nothing, so it may go.
 * Returns 0 or an exit code, the reason on stderr.
 */
static int aim_message(const struct slots *s, uint32_t node, int cmd,
		       const struct dev_args *da, unsigned reads, struct sdlm_msg *m)
{
	const struct sdlm_hb *hb = &s->hb[node];

	memset(m, 0, sizeof(*m));
	m->node_id = node;
	m->cmd = (uint32_t)cmd;
	if (s->msg_rc[node] && !da->have_seq) {
		fprintf(stderr, "sdlmctl: node %u: message slot does not verify (%s) in %u reads: "
			"the seq on disk is unknown, and a message at or below one the node "
			"already handled is ignored, so none is guessed.  Check the path to the "
			"device ('sdlmctl fence list all'); to rewrite the slot, give --seq N above "
			"any seq the node can have handled (%s%llu; sdlmd logs the seq of every "
			"pill it writes)\n",
			node, sdlm_strerror(s->msg_rc[node]), reads,
			s->hb_rc[node] ? "its heartbeat slot does not verify either, last ack #" :
			"its last acknowledgement is #",
			(unsigned long long)(s->hb_rc[node] ? 0 : hb->ack_seq));
		return CTL_DATAERR;
	}
	if (!s->msg_rc[node] && da->have_seq) {
		fprintf(stderr, "sdlmctl: --seq is only for a message slot that does not verify: "
			"node %u's holds #%llu, the next message gets #%llu\n", node,
			(unsigned long long)s->msg[node].seq,
			(unsigned long long)s->msg[node].seq + 1);
		return CTL_USAGE;
	}
	if (s->msg_rc[node] && !s->hb_rc[node] && da->seq <= hb->ack_seq) {
		fprintf(stderr, "sdlmctl: --seq %llu: node %u already acknowledged #%llu; "
			"give a seq above it\n", (unsigned long long)da->seq, node,
			(unsigned long long)hb->ack_seq);
		return CTL_USAGE;
	}
	if (!s->msg_rc[node] && s->msg[node].seq == UINT64_MAX) {
		fprintf(stderr, "sdlmctl: node %u: message slot holds the last seq there is; "
			"reinitialise the area ('sdlmctl fence init --force') with the cluster stopped\n",
			node);
		return CTL_DATAERR;
	}
	if (s->hb_rc[node] && cmd != MSG_CLEAR) {
		fprintf(stderr, "sdlmctl: node %u: heartbeat slot does not verify (%s) in %u reads: "
			"the node's incarnation is unknown and a %s must name it (one for any "
			"incarnation may be ignored), so none is sent.  A running sdlmd rewrites "
			"its slot every heartbeat interval: check the path to the device "
			"('sdlmctl fence list all'); if the slot stays unreadable, fence the node "
			"by other means (power it off)\n",
			node, sdlm_strerror(s->hb_rc[node]), reads, msg_cmd_name(m->cmd));
		return CTL_DATAERR;
	}
	m->seq = s->msg_rc[node] ? da->seq : s->msg[node].seq + 1;
	m->target_incarnation = s->hb_rc[node] ? 0 : hb->incarnation;
	m->from_node = 0;
	m->wall_time_ms = clock_realtime_ms();
	return 0;
}

static int fence_message(int argc, char **argv, bool json)
{
	const char *usage = "sdlmctl fence message [-d DEV] [--wait[=SECONDS]] [--progress] [--seq N] NODE test|reset|off|clear";
	struct dev_args da;
	struct sdlm_timeouts t;
	struct sdlm_msg m;
	struct slots *s = NULL;
	const char *why = NULL;
	struct area *a;
	uint64_t start, still_since, last_counter, last_inc, before;
	struct progress pg;
	uint32_t node;
	unsigned reads;
	bool nowd;
	int cmd, rc;

	rc = parse_dev_args(argc, argv, &da, usage);
	if (rc >= 0)
		return rc;
	if (argc - da.first != 2) {
		fprintf(stderr, "usage: %s\n", usage);
		return CTL_USAGE;
	}
	cmd = msg_cmd_parse(argv[da.first + 1]);
	if (cmd < 0) {
		fprintf(stderr, "sdlmctl: unknown message '%s' (test, reset, off, clear)\n",
			argv[da.first + 1]);
		return CTL_USAGE;
	}
	rc = open_area(da.dev, &a);
	if (rc)
		return rc;
	if (parse_node(a, argv[da.first], &node)) {
		rc = CTL_USAGE;
		goto out;
	}
	rc = derive(&a->hdr, &t, &why);
	if (rc < 0) {
		rc = fail(rc, why ? why : "inconsistent timeouts in the header");
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		rc = CTL_FAIL;
		goto out;
	}
	rc = read_target_slots(a, s, node, &t, &reads);
	if (rc < 0) {
		rc = fail(rc, a->why);
		goto out;
	}
	rc = aim_message(s, node, cmd, &da, reads, &m);
	if (rc)
		goto out;
	rc = area_write_msg(a, &m);
	if (rc < 0) {
		rc = fail(rc, a->why);
		goto out;
	}
	if (!json)
		printf("sent %s #%llu to node %u (incarnation %016llx)\n", msg_cmd_name(m.cmd),
		       (unsigned long long)m.seq, node, (unsigned long long)m.target_incarnation);
	if (!da.wait || cmd == MSG_CLEAR) {
		if (json)
			printf("{\"node\":%u,\"message\":\"%s\",\"seq\":%llu,\"result\":\"sent\"}\n",
			       node, msg_cmd_name(m.cmd), (unsigned long long)m.seq);
		rc = CTL_OK;
		goto out;
	}
	/*
	 * Wait for the acknowledgement, or for the counter to stand still
	 * for the dead bound on our own clock.  A target whose heartbeat
	 * carries LAPSE_FENCES fences itself once its lease lapsed, quorate
	 * or not, so D from when its counter stood still is enough.  One of
	 * a build before that rule (no flag: a rolling upgrade) keeps
	 * running while it is in a quorate partition: for it the dead path
	 * assumes it is not (as this tool always did; it knows no
	 * membership), the daemon's fencer waits D + M from when it left.
	 * This direct tool says which path it took.  A target whose
	 * incarnation runs with no watchdog (NO_WATCHDOG) is never dead by
	 * time: nothing resets it (review s25-rev2); only its ack counts.
	 */
	start = clock_boottime_ms();
	still_since = start;
	last_counter = s->hb_rc[node] ? 0 : s->hb[node].counter;
	last_inc = s->hb_rc[node] ? 0 : s->hb[node].incarnation;
	nowd = !s->hb_rc[node] && no_watchdog(&s->hb[node]);
	progress_init(&pg, da.progress, json);
	for (;;) {
		const char *result = NULL;
		uint64_t now = clock_boottime_ms(), dead_at = still_since + t.dead_ms;
		uint64_t end = start + (uint64_t)da.wait * 1000;

		if (nowd)
			progress_show(&pg, now, "node %u: waiting for the acknowledgement, %llu s left; "
				      "it runs with no watchdog: never dead by time",
				      node, (unsigned long long)((end > now ? end - now : 0) + 999) / 1000);
		else
			progress_show(&pg, now, "node %u: waiting for the acknowledgement, %llu s left; "
				      "dead if its heartbeat stands still %.1f s more",
				      node, (unsigned long long)((end > now ? end - now : 0) + 999) / 1000,
				      (dead_at > now ? dead_at - now : 0) / 1000.0);
		sleep_ms(t.base.hb_interval_ms);
		/* A read shows the disk as it was when it was submitted, and
		 * this tool has no watchdog to bound a stall after it: the dead
		 * verdict is timed at the submission (a stall before the clock
		 * is read must not age what the read saw); a moved counter is
		 * timed after the read (later: the verdict only later). */
		before = clock_boottime_ms();
		rc = area_read_slots(a, s->hb, s->hb_rc, s->msg, s->msg_rc);
		test_stall_after_read();
		if (rc == 0 && !s->hb_rc[node]) {
			/* Per incarnation: one record that said so is enough. */
			if (s->hb[node].incarnation != last_inc) {
				last_inc = s->hb[node].incarnation;
				nowd = false;
			}
			nowd = nowd || no_watchdog(&s->hb[node]);
			if (acked(&s->hb[node], &m))
				result = "acknowledged";
			else if (s->hb[node].counter != last_counter) {
				last_counter = s->hb[node].counter;
				still_since = clock_boottime_ms();
			} else if (!nowd && before >= still_since && before - still_since >= t.dead_ms)
				result = "dead";
		}
		if (!result && clock_boottime_ms() - start >= (uint64_t)da.wait * 1000) {
			progress_end(&pg);
			if (nowd)
				fprintf(stderr, "sdlmctl: node %u: no acknowledgement after %u s; node %u runs with "
					"no watchdog (no_watchdog = yes), so it is never dead by time: only its "
					"acknowledgement fences it.  If the machine is known to be off, say so "
					"(sdlmctl fence confirm %u on a running node, or your cluster manager's "
					"manual confirmation)\n", node, da.wait, node, node);
			else
				fprintf(stderr, "sdlmctl: node %u: no acknowledgement and not provably dead after %u s\n",
					node, da.wait);
			rc = CTL_FAIL;
			goto out;
		}
		if (result) {
			progress_end(&pg);
			if (json)
				printf("{\"node\":%u,\"message\":\"%s\",\"seq\":%llu,\"result\":\"%s\",\"elapsed_ms\":%llu}\n",
				       node, msg_cmd_name(m.cmd), (unsigned long long)m.seq, result,
				       (unsigned long long)(clock_boottime_ms() - start));
			else
				printf("node %u: %s after %.1f s\n", node, result,
				       (clock_boottime_ms() - start) / 1000.0);
			rc = CTL_OK;
			goto out;
		}
	}
out:
	free(s);
	area_close(a);
	return rc;
}

static int fence_status(int argc, char **argv, bool json)
{
	const char *usage = "sdlmctl fence status [-d DEV] NODE";
	struct dev_args da;
	struct slots *s = NULL;
	struct area *a;
	const char *state, *reason;
	bool fenced = false;
	uint64_t c0;
	uint32_t node;
	int rc;

	rc = parse_dev_args(argc, argv, &da, usage);
	if (rc >= 0)
		return rc;
	if (argc - da.first != 1) {
		fprintf(stderr, "usage: %s\n", usage);
		return CTL_USAGE;
	}
	rc = open_area(da.dev, &a);
	if (rc)
		return rc;
	if (parse_node(a, argv[da.first], &node)) {
		area_close(a);
		return CTL_FAIL;
	}
	s = calloc(1, sizeof(*s));
	if (!s || area_read_slots(a, s->hb, s->hb_rc, s->msg, s->msg_rc) < 0) {
		rc = s ? fail(-EIO, a->why) : CTL_FAIL;
		goto out;
	}
	if (s->hb_rc[node]) {
		state = "unknown";
		reason = sdlm_strerror(s->hb_rc[node]);
		rc = CTL_FAIL;
		goto report;
	}
	c0 = s->hb[node].counter;
	if (s->hb[node].state == HB_FENCED_SELF && no_watchdog(&s->hb[node]) &&
	    !(!s->msg_rc[node] && (s->msg[node].cmd == MSG_RESET || s->msg[node].cmd == MSG_OFF) &&
	      acked(&s->hb[node], &s->msg[node]))) {
		state = "unknown";
		reason = "fenced itself with no watchdog: sdlmd exited, nothing resets the node, "
			 "its lock users are not proven gone; not provably fenced";
		rc = CTL_FAIL;
		goto report;
	}
	if (s->hb[node].state == HB_FENCED_SELF ||
	    (!s->msg_rc[node] && (s->msg[node].cmd == MSG_RESET || s->msg[node].cmd == MSG_OFF) &&
	     acked(&s->hb[node], &s->msg[node]))) {
		state = "off";
		reason = "fenced (acknowledged a poison pill)";
		fenced = true;
		rc = CTL_OFF;
		goto report;
	}
	sleep_ms(a->hdr.hb_interval_ms + a->hdr.io_timeout_ms);
	if (area_read_slots(a, s->hb, s->hb_rc, s->msg, s->msg_rc) < 0 || s->hb_rc[node]) {
		state = "unknown";
		reason = "second read failed";
		rc = CTL_FAIL;
	} else if (s->hb[node].counter != c0) {
		state = "on";
		reason = "heartbeat moving";
		rc = CTL_OK;
	} else if (s->hb[node].state == HB_FREE || s->hb[node].state == HB_EXITING) {
		state = "off";
		reason = "not running (slot free or cleanly left), not fenced";
		rc = CTL_OFF;
	} else {
		state = "unknown";
		reason = no_watchdog(&s->hb[node]) ?
			 "heartbeat not moving; it runs with no watchdog: never provably dead" :
			 "heartbeat not moving, not provably dead";
		rc = CTL_FAIL;
	}
report:
	if (json)
		printf("{\"node\":%u,\"status\":\"%s\",\"fenced\":%s,\"reason\":\"%s\"}\n",
		       node, state, fenced ? "true" : "false", reason);
	else
		printf("Status: %s (node %u: %s)\n", !strcmp(state, "on") ? "ON" :
		       !strcmp(state, "off") ? "OFF" : "UNKNOWN", node, reason);
out:
	free(s);
	area_close(a);
	return rc;
}

int fence_main(int argc, char **argv, bool json, const char *dev, const char *dev_from)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	default_dev = dev && dev[0] ? dev : NULL;
	default_dev_from = dev_from ? dev_from : "";

	if (!sub || !strcmp(sub, "help") || !strcmp(sub, "--help")) {
		printf("usage: sdlmctl fence init|dump|list|message|status ... (see sdlmctl(8))\n");
		return sub ? CTL_OK : CTL_USAGE;
	}
	argc--, argv++;
	if (!strcmp(sub, "init"))
		return fence_init(argc, argv, json);
	if (!strcmp(sub, "dump"))
		return fence_dump(argc, argv, json);
	if (!strcmp(sub, "list"))
		return fence_list(argc, argv, json);
	if (!strcmp(sub, "message"))
		return fence_message(argc, argv, json);
	if (!strcmp(sub, "status"))
		return fence_status(argc, argv, json);
	fprintf(stderr, "sdlmctl: unknown fence command '%s' (init, dump, list, message, status)\n", sub);
	return CTL_USAGE;
}
