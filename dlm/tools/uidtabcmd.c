/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidtabcmd.c - `sdlmctl uid summary` (slots used / free, per table, from
 * the device), `sdlmctl uid grow` (a table added online) and `sdlmctl uid
 * segments [--enable]` (creators take the table's segment locks only).
 *
 * Both read the device directly, like `sdlmctl fence dump`.  The grow
 * takes the cluster lock UIDTAB_GROW_LS/UIDTAB_GROW_RES (EX) through the
 * local sdlmd first, so two operators never grow at once (the second one
 * waits, then sees the table the first added and adds its own after it);
 * a node that dies holding it is fenced before anyone else gets it (the
 * lock manager's rule), so a half-zeroed table of a dead grower is never
 * zeroed again under a table that is in use.  The order on the disk
 * (area_uid_grow: zero, then the descriptor) makes a crash midway leave
 * either no table or a whole one.
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
#include "aio.h"
#include "area.h"
#include "uidrec.h"
#include "fencecmd.h"
#include "render.h"
#include "uidtabcmd.h"

#define SCAN_CHUNK	(1u << 20)

struct tab_count {
	uint64_t used, deleted, empty, damaged;
};

static const char usage_s[] =
	"usage: sdlmctl uid summary [-d DEV] [--prometheus]\n"
	"       sdlmctl uid grow [-d DEV] [--slots N] [--wait S] [--force]\n"
	"       sdlmctl uid segments [-d DEV] [--enable [--force] [--wait S]]\n"
	"  summary  slots used / free of the UID table, per table, read from the device\n"
	"  grow     add a table of N slots (default: as many as there are), online:\n"
	"           every node uses it from its next probe that needs it; refused\n"
	"           while a node alive on the disk runs another version (--force)\n"
	"  segments whether creators take the UID table's segment locks only;\n"
	"           --enable: from now on (older builds refuse the area), refused\n"
	"           while a node alive on the disk runs another version (--force);\n"
	"           written under the grow's cluster lock (through the local sdlmd)";

/* Count one table's slots by reading it in chunks.  Returns 0 or an error. */
static int count_table(struct area *a, const struct uidtab_geom *g, uint32_t t,
		       struct tab_count *n)
{
	uint32_t ss = a->hdr.sector_size;
	uint64_t pair = (uint64_t)UIDREC_COPIES * ss, per = SCAN_CHUNK / pair, s = 0;
	uint8_t *buf = NULL;
	int rc = 0;

	if (!per)
		per = 1;
	if (posix_memalign((void **)&buf, AIO_BUF_ALIGN, per * pair))
		return -ENOMEM;
	while (s < g->t[t].nslots && rc == 0) {
		uint64_t k = g->t[t].nslots - s < per ? g->t[t].nslots - s : per, i;

		rc = aio_read_sync(a->aio, a->fd, (g->t[t].start + UIDREC_COPIES * s) * ss, buf,
				   k * pair, a->io_timeout_ms);
		for (i = 0; i < k && rc == 0; i++) {
			struct uid_rec rec[UIDREC_COPIES];
			struct uid_slot_view v;
			int rrc[UIDREC_COPIES];
			uint32_t c;

			for (c = 0; c < UIDREC_COPIES; c++)
				rrc[c] = uidrec_in(&rec[c], buf + i * pair + c * ss, ss, a->hdr.uuid,
						   g->t[t].base + s + i, c);
			if (uidrec_resolve(rec, rrc, &v) < 0)
				n->damaged++;
			else if (v.kind == UID_SLOT_USED)
				n->used++;
			else if (v.kind == UID_SLOT_DELETED)
				n->deleted++;
			else
				n->empty++;
		}
		s += k;
	}
	free(buf);
	return rc;
}

static int summary(struct area *a, bool json, bool prom)
{
	struct uidtab_geom g;
	struct tab_count n[UIDTAB_MAX_TABLES], sum = { 0 };
	uint64_t total;
	struct sbuf b;
	uint32_t t;
	int rc;

	rc = area_uid_tables(a, &g);
	if (rc < 0) {
		fprintf(stderr, "sdlmctl: %s\n", a->why);
		return ctl_exit_for(rc);
	}
	memset(n, 0, sizeof(n));
	for (t = 0; t < g.ntables; t++) {
		rc = count_table(a, &g, t, &n[t]);
		if (rc < 0) {
			fprintf(stderr, "sdlmctl: %s: reading UID table %u: %s\n", a->path, t,
				sdlm_strerror(rc));
			return ctl_exit_for(rc);
		}
		sum.used += n[t].used;
		sum.deleted += n[t].deleted;
		sum.empty += n[t].empty;
		sum.damaged += n[t].damaged;
	}
	total = uidtab_geom_total(&g);
	sb_init(&b);
	if (prom) {
		sb_printf(&b, "# HELP sdlm_uid_table_slots_state slots of the UID table by state, read from the device by sdlmctl uid summary\n"
			  "# TYPE sdlm_uid_table_slots_state gauge\n");
		sb_printf(&b, "sdlm_uid_table_slots_state{state=\"used\"} %llu\n", (unsigned long long)sum.used);
		sb_printf(&b, "sdlm_uid_table_slots_state{state=\"deleted\"} %llu\n", (unsigned long long)sum.deleted);
		sb_printf(&b, "sdlm_uid_table_slots_state{state=\"empty\"} %llu\n", (unsigned long long)sum.empty);
		sb_printf(&b, "sdlm_uid_table_slots_state{state=\"damaged\"} %llu\n", (unsigned long long)sum.damaged);
		sb_printf(&b, "# HELP sdlm_uid_table_tables tables of the UID table (1 + the grows)\n"
			  "# TYPE sdlm_uid_table_tables gauge\nsdlm_uid_table_tables %u\n", g.ntables);
	} else if (json) {
		sb_printf(&b, "{\"device\":");
		sb_json_str(&b, a->path);
		sb_printf(&b, ",\"slots\":%llu,\"used\":%llu,\"free\":%llu,\"deleted\":%llu,"
			  "\"empty\":%llu,\"damaged\":%llu,\"window\":%u,\"tables\":[",
			  (unsigned long long)total, (unsigned long long)sum.used,
			  (unsigned long long)(sum.empty + sum.deleted),
			  (unsigned long long)sum.deleted, (unsigned long long)sum.empty,
			  (unsigned long long)sum.damaged, UIDTAB_WINDOW);
		for (t = 0; t < g.ntables; t++)
			sb_printf(&b, "%s{\"index\":%u,\"start_sector\":%llu,\"first_slot\":%llu,"
				  "\"slots\":%llu,\"used\":%llu,\"deleted\":%llu,\"empty\":%llu,"
				  "\"damaged\":%llu}", t ? "," : "", t,
				  (unsigned long long)g.t[t].start, (unsigned long long)g.t[t].base,
				  (unsigned long long)g.t[t].nslots, (unsigned long long)n[t].used,
				  (unsigned long long)n[t].deleted, (unsigned long long)n[t].empty,
				  (unsigned long long)n[t].damaged);
		sb_printf(&b, "]}\n");
	} else {
		sb_printf(&b, "UID table on %s: %llu slots in %u table%s\n", a->path,
			  (unsigned long long)total, g.ntables, g.ntables == 1 ? "" : "s");
		sb_printf(&b, "used    %llu (%.1f%%)\nfree    %llu (empty %llu, deleted %llu)\n",
			  (unsigned long long)sum.used, total ? 100.0 * sum.used / total : 0.0,
			  (unsigned long long)(sum.empty + sum.deleted),
			  (unsigned long long)sum.empty, (unsigned long long)sum.deleted);
		if (sum.damaged)
			sb_printf(&b, "damaged %llu (docs/uid.md, damaged records)\n",
				  (unsigned long long)sum.damaged);
		for (t = 0; t < g.ntables; t++)
			sb_printf(&b, "table %u  %llu slots from sector %llu (slots %llu..%llu): used %llu, deleted %llu, empty %llu%s\n",
				  t, (unsigned long long)g.t[t].nslots, (unsigned long long)g.t[t].start,
				  (unsigned long long)g.t[t].base,
				  (unsigned long long)(g.t[t].base + g.t[t].nslots - 1),
				  (unsigned long long)n[t].used, (unsigned long long)n[t].deleted,
				  (unsigned long long)n[t].empty, n[t].damaged ? ", damaged" : "");
		if (total && sum.used * 10 >= total * 8)
			sb_printf(&b, "over 80%% used: grow it now ('sdlmctl uid grow'), before a new mailbox finds it full\n");
	}
	fputs(b.s ? b.s : "", stdout);
	sb_free(&b);
	return CTL_OK;
}

/*
 * Every node that runs must know grown tables (docs/uid.md, "Growing the
 * table"): an older daemon would not find a mailbox in a grown table and
 * would create it again in table 0.  A slot marked alive whose version is
 * not this sdlmctl's (or unknown: a heartbeat older than the field) is
 * refused, and so is a slot that does not decode (its state and version
 * unknown), unless force (the operator knows it is a dead node's slot).
 * Returns 0 or CTL_FAIL, having printed the nodes.
 */
static int versions_ok(struct area *a, bool force, const char *verb, unsigned *alive)
{
	static struct sdlm_hb hb[SDLM_MAX_NODES + 1];
	static struct sdlm_msg msg[SDLM_MAX_NODES + 1];
	int hb_rc[SDLM_MAX_NODES + 1], msg_rc[SDLM_MAX_NODES + 1], rc, bad = 0;
	uint32_t i;

	rc = area_read_slots(a, hb, hb_rc, msg, msg_rc);
	if (rc < 0) {
		fprintf(stderr, "sdlmctl: uid %s: %s%s\n", verb, a->why,
			(rc == SDLM_EIOTIMEOUT || rc == -EIO) && !strcmp(verb, "grow") ?
			" (the table may have been added: run 'sdlmctl uid summary' before growing again)" : "");
		return ctl_exit_for(rc);
	}
	for (i = 1; i <= a->hdr.num_nodes; i++) {
		if (hb_rc[i] != 0 || hb[i].state == HB_ALIVE)
			(*alive)++;
		if (hb_rc[i] != 0) {
			/* neither its state nor its version can be read: a
			 * daemon of any version may be writing it (grow
			 * review, hole 3: such a slot passed the check) */
			fprintf(stderr, "sdlmctl: uid %s: node %u: its heartbeat slot does not decode (%s): whether a daemon runs there, and which version, cannot be told\n",
				verb, i, sdlm_strerror(hb_rc[i]));
			bad++;
			continue;
		}
		if (hb[i].state != HB_ALIVE || !strcmp(hb[i].version, PACKAGE_VERSION))
			continue;
		fprintf(stderr, "sdlmctl: uid %s: node %u (%s) runs sdlm %s, this is %s\n", verb, i,
			hb[i].node_name[0] ? hb[i].node_name : "?",
			hb[i].version[0] ? hb[i].version : "unknown (older than the heartbeat's version field)", PACKAGE_VERSION);
		bad++;
	}
	if (!bad)
		return 0;
	if (force) {
		fprintf(stderr, "sdlmctl: uid %s: --force: going on with %d node%s of another or unknown version\n",
			verb, bad, bad == 1 ? "" : "s");
		return 0;
	}
	if (!strcmp(verb, "grow"))
		fprintf(stderr, "sdlmctl: uid grow refused: every node must run a version that knows grown UID tables before the first grow (an older one would create its mailboxes again: UIDs twice).  Finish the upgrade first (a slot that does not decode: check that node, 'sdlmctl fence list' shows the slot); --force only if those slots are of nodes that are dead and will come back upgraded (docs/uid.md)\n");
	else
		fprintf(stderr, "sdlmctl: uid segments --enable refused: every node must run a version that takes the UID table's segment locks first (an older one creating mailboxes would not be serialised with the others: two mailboxes in one slot).  Finish the upgrade first (a slot that does not decode: check that node, 'sdlmctl fence list' shows the slot); --force only if those slots are of nodes that are dead and will come back upgraded (docs/uid.md, \"The table lock\")\n");
	return CTL_FAIL;
}

static int grow(const char *ipc, struct area *a, uint64_t slots, unsigned wait_s, bool json,
		bool force)
{
	struct sdlm_lksb lksb;
	struct uidtab_geom g;
	sdlm_handle_t *h;
	char host[SDLM_DISK_NAME_LEN] = "";
	uint64_t before = 0;
	int rc;

	unsigned alive = 0;

	rc = versions_ok(a, force, "grow", &alive);
	if (rc)
		return rc;
	rc = sdlm_connect(ipc, &h);
	if (rc < 0) {
		fprintf(stderr, "sdlmctl: uid grow takes the cluster lock %s/%s through the local sdlmd, which is not reachable (ipc '%s'): %s\n",
			UIDTAB_GROW_LS, UIDTAB_GROW_RES, ipc, sdlm_strerror(rc));
		return ctl_exit_for(SDLM_EDAEMON);
	}
	memset(&lksb, 0, sizeof(lksb));
	rc = sdlm_lock(h, UIDTAB_GROW_LS, UIDTAB_GROW_RES, SDLM_EX, 0, wait_s * 1000, &lksb);
	if (rc < 0) {
		fprintf(stderr, "sdlmctl: uid grow: the lock %s/%s: %s%s\n", UIDTAB_GROW_LS,
			UIDTAB_GROW_RES, sdlm_strerror(rc),
			rc == -ETIMEDOUT ? " (another grow runs? try again, or --wait longer)" : "");
		sdlm_disconnect(h);
		return rc == -ETIMEDOUT ? 75 : ctl_exit_for(rc);
	}
	/* the chain as it is now, under the lock: another grow may have
	 * added a table while this one waited */
	rc = area_uid_tables(a, &g);
	if (rc == 0) {
		before = uidtab_geom_total(&g);
		if (!slots)
			slots = before;
		gethostname(host, sizeof(host) - 1);
		rc = area_uid_grow(a, &g, slots, host, (uint64_t)time(NULL), NULL, NULL);
	}
	sdlm_unlock(h, &lksb, 0);
	sdlm_disconnect(h);
	if (rc < 0) {
		fprintf(stderr, "sdlmctl: uid grow: %s\n", a->why);
		return ctl_exit_for(rc);
	}
	if (json)
		printf("{\"table\":%u,\"start_sector\":%llu,\"first_slot\":%llu,\"slots\":%llu,"
		       "\"total_slots\":%llu,\"tables\":%u}\n", g.ntables,
		       (unsigned long long)(g.next_desc + UIDREC_COPIES), (unsigned long long)before,
		       (unsigned long long)slots, (unsigned long long)(before + slots), g.ntables + 1);
	else
		printf("UID table %u added: %llu slots from sector %llu; the UID table now has %llu slots in %u tables\n"
		       "(every node uses it from its next probe that needs it: no restart)\n",
		       g.ntables, (unsigned long long)slots,
		       (unsigned long long)(g.next_desc + UIDREC_COPIES),
		       (unsigned long long)(before + slots), g.ntables + 1);
	return CTL_OK;
}

/*
 * Whether the area's creators take the table's segment locks only (the
 * header's UID_SEGLOCK; docs/uid.md, "The table lock"); enable: set it,
 * once every node alive on the disk runs this version.
 */
static int segments(const char *ipc, struct area *a, bool enable, bool force,
		    unsigned wait_s, bool json)
{
	bool on = a->hdr.flags & SDLM_HDR_F_UID_SEGLOCK;
	struct sdlm_lksb lksb;
	sdlm_handle_t *h = NULL;
	unsigned alive = 0;
	int rc;

	if (enable && !on) {
		rc = versions_ok(a, force, "segments --enable", &alive);
		if (rc)
			return rc;
		/*
		 * The header's features are read, changed and written: a grow
		 * setting UID_CHAIN at the same time could lose one of the two
		 * flags (review s25-rev3 R5).  So the flag is set under the
		 * grow's cluster lock, taken through the local sdlmd; without
		 * one, only while no node is alive on the disk (a grow needs a
		 * running daemon, whose slot is alive).
		 */
		rc = sdlm_connect(ipc, &h);
		if (rc < 0) {
			h = NULL;
			if (alive) {
				fprintf(stderr, "sdlmctl: uid segments --enable takes the cluster lock %s/%s (as uid grow does) through the local sdlmd, which is not reachable (ipc '%s'): %s; %u node%s alive on the disk. Run it on a node whose sdlmd runs, or with every sdlmd of the cluster stopped\n",
					UIDTAB_GROW_LS, UIDTAB_GROW_RES, ipc, sdlm_strerror(rc), alive,
					alive == 1 ? " is" : "s are");
				return ctl_exit_for(SDLM_EDAEMON);
			}
		} else {
			memset(&lksb, 0, sizeof(lksb));
			rc = sdlm_lock(h, UIDTAB_GROW_LS, UIDTAB_GROW_RES, SDLM_EX, 0, wait_s * 1000, &lksb);
			if (rc < 0) {
				fprintf(stderr, "sdlmctl: uid segments --enable: the lock %s/%s: %s%s\n",
					UIDTAB_GROW_LS, UIDTAB_GROW_RES, sdlm_strerror(rc),
					rc == -ETIMEDOUT ? " (a grow runs? try again, or --wait longer)" : "");
				sdlm_disconnect(h);
				return rc == -ETIMEDOUT ? 75 : ctl_exit_for(rc);
			}
		}
		rc = area_uid_seglock(a);
		if (h) {
			sdlm_unlock(h, &lksb, 0);
			sdlm_disconnect(h);
		}
		if (rc < 0) {
			fprintf(stderr, "sdlmctl: uid segments --enable: %s\n", a->why);
			return ctl_exit_for(rc);
		}
	}
	if (json)
		printf("{\"segment_locks_only\":%s,\"changed\":%s}\n", on || enable ? "true" : "false",
		       enable && !on ? "true" : "false");
	else if (on || enable)
		printf("segment locks only: creators take the UID table's segment locks alone%s\n"
		       "(daemons started before it take the older table locks too until restarted; builds before the segment locks refuse this area)\n",
		       enable && !on ? " (enabled now)" : "");
	else
		printf("older table locks too: creators take uid-table in their lockspace and in %s as well as the segment locks, so that nodes of an older release may share the area; once every node runs this version: 'sdlmctl uid segments --enable'\n",
		       "sdlm-admin");
	return CTL_OK;
}

int uidtab_main(const char *ipc, const char *dev, int argc, char **argv, bool json)
{
	static const struct option o[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "slots", required_argument, NULL, 's' },
		{ "wait", required_argument, NULL, 'w' },
		{ "prometheus", no_argument, NULL, 'P' },
		{ "force", no_argument, NULL, 'F' },
		{ "enable", no_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	bool is_grow = !strcmp(argv[0], "grow"), is_seg = !strcmp(argv[0], "segments");
	bool prom = false, force = false, enable = false, waited = false;
	unsigned long long slots = 0;
	unsigned long wait_s = 60;
	char why[AREA_WHY_LEN], *end;
	struct area *a;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:h", o, NULL)) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 's':
			errno = 0;
			slots = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || !slots ||
			    slots > 0x7fffffffull) {
				fprintf(stderr, "sdlmctl: --slots: '%s' is not a number in 1..%u\n",
					optarg, 0x7fffffffu);
				return CTL_USAGE;
			}
			break;
		case 'w':
			errno = 0;
			wait_s = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || !wait_s || wait_s > 86400) {
				fprintf(stderr, "sdlmctl: --wait: '%s' is not a number of seconds in 1..86400\n",
					optarg);
				return CTL_USAGE;
			}
			waited = true;
			break;
		case 'P': prom = true; break;
		case 'E': enable = true; break;
		case 'F': force = true; break;
		case 'h': puts(usage_s); return CTL_OK;
		default: fprintf(stderr, "%s\n", usage_s); return CTL_USAGE;
		}
	}
	if (optind != argc || (is_grow && (prom || enable)) ||
	    (is_seg && (prom || slots || (waited && !enable) || (force && !enable))) ||
	    (!is_grow && !is_seg && (slots || force || enable))) {
		fprintf(stderr, "%s\n", usage_s);
		return CTL_USAGE;
	}
	if (!dev || !dev[0]) {
		fprintf(stderr, "sdlmctl: uid %s needs the shared device: -d DEV, --device, $SDLM_DEVICE or device in sdlm.conf\n%s\n",
			argv[0], usage_s);
		return CTL_USAGE;
	}
	rc = area_open(&a, dev, 10000, why);
	if (rc < 0) {
		fprintf(stderr, "sdlmctl: %s\n", why);
		return ctl_exit_for(rc);
	}
	rc = is_grow ? grow(ipc, a, slots, (unsigned)wait_s, json, force) :
	     is_seg ? segments(ipc, a, enable, force, (unsigned)wait_s, json) : summary(a, json, prom);
	area_close(a);
	return rc;
}
