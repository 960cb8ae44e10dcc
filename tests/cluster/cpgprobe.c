/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cpgprobe.c - the determinism claim on real corosync.
 *
 * Joins the lockspace's CPG group (dlm/daemon/cpg.c), applies every delivered
 * message to its own replica (dlm/core/lockstate.c), and, once the group has
 * --nodes members, sends --count pseudo-random lock events of its own
 * (seeded by --seed and its node id), one at a time: the next is sent
 * when the previous one came back in agreed order.  That wait is also the
 * round-trip measurement (send -> own delivery).
 *
 * Timeline on each node:
 *	join -> confchg/totem (CONFCHG events) ... members == --nodes
 *	-> send e1 -> deliver e1 (rtt) -> send e2 ... -> send e_count
 *	-> delivered == nodes * count: print the result, leave
 * Every message of every node is sent after every node joined, so each
 * replica sees the same stream from that point on; the digests, and the
 * applied/rejected counts, must be equal everywhere - as long as no view
 * (a group or totem confchg) comes once messages flow: where a view is
 * delivered among the messages is each node's own (a ring re-formed under
 * load), and a probe has no sync round to reconcile it as sdlmd has.
 * late_views counts those views that changed the members or quorum,
 * views_hash names where each came and what it said (members, quorate,
 * messages delivered before it).
 *
 * Output (stdout, one line each):
 *	joined node <id> ls <name>
 *	result node <id> delivered <n> applied <a> rejected <r> bad <b>
 *	       locks <l> resources <r> digest <16 hex>
 *	       late_views <v> views_hash <16 hex>
 *	rtt node <id> n <n> p50_us <..> p99_us <..> max_us <..>
 * Exit 0 when all messages were delivered, 1 on timeout or error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpg.h"
#include "lockstate.h"
#include "modes.h"
#include "msg.h"
#include "sdlm.h"
#include "clock.h"

#define OWN_MAX	64

struct probe {
	struct ls_cpg	*cpg;
	struct ls_state	*ls;
	struct ls_out	out;
	uint32_t	nodes;		/* group size to wait for; quorum base */
	uint32_t	count;		/* events to send */
	uint32_t	names;		/* distinct resource names */
	uint64_t	rng;
	uint32_t	sent;
	bool		in_flight;
	uint64_t	sent_at_ns;
	uint64_t	*rtt_ns;
	uint64_t	delivered, applied, rejected, bad;
	uint64_t	late_views, views_hash;	/* changes once messages flow */
	uint64_t	views;
	bool		last_quorate;
	size_t		last_count;
	uint32_t	last_members[LS_MEMBERS_MAX];
	uint32_t	lk_counter;
	uint64_t	own[OWN_MAX];	/* lock ids this node created */
	size_t		own_count;
	int		err;
};

static uint64_t rnd(struct probe *p)
{
	p->rng ^= p->rng >> 12;
	p->rng ^= p->rng << 25;
	p->rng ^= p->rng >> 27;
	return p->rng * 0x2545F4914F6CDD1DULL;
}

static void apply(struct probe *p, const struct ls_event *ev)
{
	int rc = ls_apply(p->ls, ev, &p->out);

	if (rc == 0)
		p->applied++;
	else
		p->rejected++;
	if (rc == -ENOMEM && p->out.lost)
		p->err = -ENOMEM;
}

/*
 * Quorum is the group's (more than half of --nodes in it), not the totem
 * ring's: a newcomer's first totem view comes when its corosync delivers
 * it, possibly after the others' first messages (they start as soon as
 * their group has every member), and a replica that applied those while
 * "not quorate" grants in another order.  sdlmd closes that window with its
 * sync round; the probe claims only the agreed order of messages and group
 * confchgs.
 */
static void apply_view(struct probe *p, const struct ls_cpg_view *v)
{
	struct ls_event ev = {
		.ev_kind = LS_EV_CONFCHG,
		.ev_ring_id = v->ring_id,
		.ev_members = v->members,
		.ev_member_count = v->member_count,
		.ev_quorate = p->nodes && 2 * (uint64_t)v->member_count > p->nodes,
	};
	size_t i;
	bool same = p->views && ev.ev_quorate == p->last_quorate &&
		    v->member_count == p->last_count &&
		    !memcmp(v->members, p->last_members, v->member_count * sizeof(uint32_t));

	if (p->delivered && !same) {
		p->late_views++;
		p->views_hash = (p->views_hash ^ p->delivered) * 0x100000001b3ULL;
		p->views_hash = (p->views_hash ^ ev.ev_quorate) * 0x100000001b3ULL;
		for (i = 0; i < v->member_count; i++)
			p->views_hash = (p->views_hash ^ v->members[i]) * 0x100000001b3ULL;
		fprintf(stderr, "view after %" PRIu64 " messages: %zu members, %s\n",
			p->delivered, v->member_count, ev.ev_quorate ? "quorate" : "NOT quorate");
	}
	p->views++;
	p->last_quorate = ev.ev_quorate;
	p->last_count = v->member_count;
	memcpy(p->last_members, v->members, v->member_count * sizeof(uint32_t));
	ls_apply(p->ls, &ev, &p->out);
}

static void on_confchg(struct ls_cpg *c, const struct ls_cpg_view *v,
		       const struct ls_cpg_member *left, size_t n_left,
		       const struct ls_cpg_member *joined, size_t n_joined,
		       void *arg)
{
	(void)c; (void)left; (void)n_left; (void)joined; (void)n_joined;
	apply_view(arg, v);
}

static void on_totem(struct ls_cpg *c, const struct ls_cpg_view *v, void *arg)
{
	(void)c;
	apply_view(arg, v);
}

static void on_bad(struct ls_cpg *c, uint32_t nodeid, uint32_t pid, int err,
		   void *arg)
{
	struct probe *p = arg;

	(void)c;
	fprintf(stderr, "bad message from %u/%u: %s\n", nodeid, pid,
		sdlm_strerror(err));
	p->bad++;
	p->delivered++;
}

static void on_deliver(struct ls_cpg *c, const struct msg *m, bool self,
		       void *arg)
{
	struct probe *p = arg;
	struct ls_event ev;

	(void)c;
	p->delivered++;
	if (self && p->in_flight) {
		p->rtt_ns[p->sent - 1] = clock_monotonic_ns() - p->sent_at_ns;
		p->in_flight = false;
	}
	if (msg_to_event(m, &ev) != 0) {
		p->rejected++;
		return;
	}
	apply(p, &ev);
}

/* The next pseudo-random event of this node, chosen on its replica. */
static void next_event(struct probe *p, struct ls_event *ev, char *name,
		       uint8_t *lvb)
{
	uint32_t nodeid = ls_cpg_nodeid(p->cpg);
	struct ls_lock_info info;
	size_t i;

	memset(ev, 0, sizeof(*ev));
	while (p->own_count > 0 && rnd(p) % 2) {
		i = rnd(p) % p->own_count;
		if (ls_lock_get(p->ls, p->own[i], &info) != 0) {
			p->own[i] = p->own[--p->own_count];	/* gone */
			continue;
		}
		ev->ev_lkid = p->own[i];
		if (info.queue != LS_Q_GRANTED) {
			ev->ev_kind = LS_EV_CANCEL;
		} else if (rnd(p) % 2) {
			ev->ev_kind = LS_EV_RELEASE;
		} else {
			ev->ev_kind = LS_EV_CONVERT;
			ev->ev_mode = (int)(rnd(p) % MODE_COUNT);
			ev->ev_flags = rnd(p) % 4 == 0 ? LS_LKF_NOQUEUE : 0;
		}
		if (ev->ev_kind != LS_EV_CANCEL && rnd(p) % 3 == 0) {
			for (i = 0; i < LS_LVB_LEN; i++)
				lvb[i] = (uint8_t)rnd(p);
			ev->ev_lvb = lvb;
		}
		return;
	}
	ev->ev_kind = LS_EV_REQUEST;
	ev->ev_lkid = ((uint64_t)nodeid << 32) | ++p->lk_counter;
	ev->ev_mode = (int)(rnd(p) % MODE_COUNT);
	ev->ev_flags = rnd(p) % 5 == 0 ? LS_LKF_NOQUEUE : 0;
	snprintf(name, SDLM_NAME_MAX + 1, "res-%u", (unsigned)(rnd(p) % p->names));
	ev->ev_name = name;
	ev->ev_namelen = strlen(name);
	if (p->own_count < OWN_MAX)
		p->own[p->own_count++] = ev->ev_lkid;
}

static int send_next(struct probe *p)
{
	char name[SDLM_NAME_MAX + 1];
	uint8_t lvb[LS_LVB_LEN];
	struct ls_event ev;
	struct msg m = { 0 };
	int rc;

	next_event(p, &ev, name, lvb);
	rc = msg_from_event(&ev, &m);
	if (rc)
		return rc;
	p->sent_at_ns = clock_monotonic_ns();
	rc = ls_cpg_send(p->cpg, &m);
	if (rc)
		return rc;
	p->sent++;
	p->in_flight = true;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void print_rtt(struct probe *p, uint32_t nodeid)
{
	uint32_t n = p->sent - (p->in_flight ? 1 : 0);

	if (n == 0)
		return;
	qsort(p->rtt_ns, n, sizeof(*p->rtt_ns), cmp_u64);
	/* nearest rank: the smallest sample with >= q of them at or below */
	printf("rtt node %u n %u p50_us %.1f p99_us %.1f max_us %.1f\n", nodeid,
	       n, p->rtt_ns[(n * 50 + 99) / 100 - 1] / 1e3,
	       p->rtt_ns[(n * 99 + 99) / 100 - 1] / 1e3, p->rtt_ns[n - 1] / 1e3);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: cpgprobe [--ls NAME] [--nodes N] [--count N] [--seed S]\n"
		"                [--names N] [--timeout SECS]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ls", required_argument, NULL, 'l' },
		{ "nodes", required_argument, NULL, 'n' },
		{ "count", required_argument, NULL, 'c' },
		{ "seed", required_argument, NULL, 's' },
		{ "names", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct ls_cpg_callbacks cb = {
		.deliver = on_deliver, .bad_msg = on_bad,
		.confchg = on_confchg, .totem = on_totem,
	};
	struct ls_params params = { .cold = false, .default_live = true };
	struct probe p = { .nodes = 3, .count = 1000, .names = 16 };
	const char *lsname = "probe";
	uint64_t seed = 1, deadline, target;
	unsigned timeout = 60;
	uint32_t nodeid;
	int opt, rc, ret = 1;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'l': lsname = optarg; break;
		case 'n': p.nodes = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'c': p.count = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'r': p.names = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 't': timeout = (unsigned)strtoul(optarg, NULL, 0); break;
		default: usage(); return 2;
		}
	}
	if (p.nodes == 0 || p.names == 0 || optind != argc) {
		usage();
		return 2;
	}
	p.rtt_ns = calloc(p.count ? p.count : 1, sizeof(*p.rtt_ns));
	if (!p.rtt_ns || ls_create(&params, &p.ls) != 0) {
		fprintf(stderr, "cpgprobe: out of memory\n");
		return 1;
	}
	ls_out_init(&p.out);
	/* A test program may wait for corosync; the daemon never does. */
	rc = ls_cpg_open(lsname, 0, (uint64_t)time(NULL), &cb, &p, &p.cpg);
	if (rc == 0) {
		while ((rc = ls_cpg_join_step(p.cpg)) == -EAGAIN)
			poll(NULL, 0, 10);
		if (rc)
			ls_cpg_close(p.cpg);
	}
	if (rc) {
		fprintf(stderr, "cpgprobe: join %s: %s\n", lsname, sdlm_strerror(rc));
		goto out_ls;
	}
	nodeid = ls_cpg_nodeid(p.cpg);
	p.rng = seed ^ ((uint64_t)nodeid * 0x9E3779B97F4A7C15ull);
	if (!p.rng)
		p.rng = 1;
	printf("joined node %u ls %s\n", nodeid, lsname);
	fflush(stdout);

	target = (uint64_t)p.nodes * p.count;
	deadline = clock_monotonic_ns() + (uint64_t)timeout * 1000000000ull;
	while (p.delivered < target && !p.err) {
		struct pollfd pfd = { .fd = ls_cpg_fd(p.cpg), .events = POLLIN };
		int wait = ls_cpg_retry_ms(p.cpg);

		if (clock_monotonic_ns() > deadline) {
			fprintf(stderr, "cpgprobe: timeout\n");
			break;
		}
		if (!p.in_flight && p.sent < p.count &&
		    ls_cpg_view(p.cpg)->member_count >= p.nodes) {
			rc = send_next(&p);
			if (rc) {
				fprintf(stderr, "cpgprobe: send: %s\n", sdlm_strerror(rc));
				break;
			}
		}
		if (wait < 0 || wait > 100)
			wait = 100;
		rc = poll(&pfd, 1, wait);
		if (rc < 0 && errno != EINTR)
			break;
		rc = rc > 0 ? ls_cpg_dispatch(p.cpg) : ls_cpg_flush(p.cpg);
		if (rc) {
			fprintf(stderr, "cpgprobe: dispatch: %s\n", sdlm_strerror(rc));
			break;
		}
	}
	if (p.delivered == target && !p.err)
		ret = 0;
	printf("result node %u delivered %" PRIu64 " applied %" PRIu64
	       " rejected %" PRIu64 " bad %" PRIu64 " locks %zu resources %zu"
	       " digest %016" PRIx64 " late_views %" PRIu64 " views_hash %016" PRIx64 "\n",
	       nodeid, p.delivered, p.applied,
	       p.rejected, p.bad, ls_lock_count(p.ls), ls_resource_count(p.ls),
	       ls_digest(p.ls), p.late_views, p.views_hash);
	print_rtt(&p, nodeid);
	fflush(stdout);
	ls_cpg_close(p.cpg);
out_ls:
	ls_out_free(&p.out);
	ls_destroy(p.ls);
	free(p.rtt_ns);
	return ret;
}
