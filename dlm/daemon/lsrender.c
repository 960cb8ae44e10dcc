/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lsrender.c - status output of the lockspaces (`sdlmctl ls`, `sdlmctl
 * locks`) and their counters (`sdlmctl stats`).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "sdlm.h"
#include "modes.h"
#include "lsint.h"

static const char *ls_state_word(const struct lspace *l)
{
	if (l->joining)
		return "joining";
	if (lspace_refusing(l))
		return lspace_refusing(l);
	return l->ready ? "ready" : "syncing";
}

void lsm_render_ls(struct sbuf *b, bool json)
{
	unsigned i;
	bool first = true;

	if (json)
		sb_printf(b, "{\"lockspaces\":[");
	else
		sb_printf(b, "lockspace         state     quorate  gate    members  ready  resources  locks(cluster/local)\n");
	for (i = 1; i < LS_MAX; i++) {
		struct lspace *l = lsm.ls[i];
		const struct ls_cpg_view *v;
		size_t k;

		if (!l)
			continue;
		v = ls_cpg_view(l->cpg);
		if (json) {
			sb_printf(b, "%s{\"name\":", first ? "" : ",");
			sb_json_str(b, l->name);
			sb_printf(b, ",\"state\":\"%s\",\"quorate\":%s,\"gate\":\"%s\",\"members\":[",
				  ls_state_word(l),
				  l->st && ls_quorate(l->st) ? "true" : "false",
				  !l->st ? "?" : ls_grants_blocked(l->st) ? "closed" : "open");
			for (k = 0; k < v->member_count; k++)
				sb_printf(b, "%s%u", k ? "," : "", v->members[k]);
			sb_printf(b, "],\"fencer\":%u,\"msgs_sent\":%llu,\"msgs_delivered\":%llu,"
				  "\"resources\":%zu,\"cluster_locks\":%zu,\"local_locks\":%zu}",
				  l->n_ready ? l->ready_nodes[0] : 0,
				  (unsigned long long)l->n_sent, (unsigned long long)l->n_delivered,
				  l->st ? ls_resource_count(l->st) : 0,
				  l->st ? ls_lock_count(l->st) : 0, nl_lock_count(l->nl));
		} else {
			char mem[128] = "";
			size_t off = 0;

			for (k = 0; k < v->member_count && off < sizeof(mem) - 8; k++)
				off += (size_t)snprintf(mem + off, sizeof(mem) - off, "%s%u",
							k ? "," : "", v->members[k]);
			sb_printf(b, "%-17s %-9s %-8s %-7s %-8s %-6u %-10zu %zu/%zu\n", l->name,
				  ls_state_word(l),
				  l->st && ls_quorate(l->st) ? "yes" : "no",
				  !l->st ? "?" : ls_grants_blocked(l->st) ? "closed" : "open",
				  mem, l->n_ready ? l->ready_nodes[0] : 0,
				  l->st ? ls_resource_count(l->st) : 0,
				  l->st ? ls_lock_count(l->st) : 0, nl_lock_count(l->nl));
		}
		first = false;
	}
	if (json)
		sb_printf(b, "]}\n");
	else if (first)
		sb_printf(b, "(no lockspaces)\n");
}

struct render_ctx {
	struct sbuf *b;
	struct lspace *l;
	bool json;
	bool first_res, first_lock;
	const struct ls_res_info *res;
};

static void render_name(struct sbuf *b, const uint8_t *name, size_t len, bool json)
{
	char tmp[SDLM_NAME_MAX * 4 + 1];
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (name[i] >= ' ' && name[i] <= '~' && name[i] != '\\')
			tmp[o++] = (char)name[i];
		else
			o += (size_t)snprintf(tmp + o, sizeof(tmp) - o, "\\x%02x", name[i]);
	}
	tmp[o] = '\0';
	if (json)
		sb_json_str(b, tmp);
	else
		sb_printf(b, "%s", tmp);
}

static int render_cl_lock(const struct ls_lock_info *lk, void *arg)
{
	struct render_ctx *c = arg;
	const char *q = lk->queue == LS_Q_GRANTED ? "granted" :
		lk->queue == LS_Q_CONVERT ? "converting" : "waiting";

	if (c->json) {
		sb_printf(c->b, "%s{\"lkid\":\"%016llx\",\"node\":%u,\"queue\":\"%s\","
			  "\"granted\":\"%s\",\"requested\":\"%s\",\"away\":%s}",
			  c->first_lock ? "" : ",", (unsigned long long)lk->lkid, lk->nodeid, q,
			  lk->grmode >= 0 ? mode_name(lk->grmode) : "-",
			  mode_name(lk->rqmode), lk->away ? "true" : "false");
	} else {
		sb_printf(c->b, "    node %-3u %-10s %-2s", lk->nodeid, q,
			  lk->grmode >= 0 ? mode_name(lk->grmode) : "-");
		if (lk->queue != LS_Q_GRANTED)
			sb_printf(c->b, " -> %s", mode_name(lk->rqmode));
		sb_printf(c->b, "%s  lkid %016llx\n", lk->away ? "  (away)" : "",
			  (unsigned long long)lk->lkid);
	}
	c->first_lock = false;
	return 0;
}

static int render_local_lock(const struct nl_lock_info *lk, void *arg)
{
	struct render_ctx *c = arg;
	const char *q = lk->queue == NL_Q_GRANTED ? "granted" :
		lk->queue == NL_Q_CONVERT ? "converting" : "waiting";

	if (c->json) {
		sb_printf(c->b, "%s{\"client\":%u,\"lkid\":\"%016llx\",\"queue\":\"%s\","
			  "\"granted\":\"%s\",\"requested\":\"%s\"}",
			  c->first_lock ? "" : ",", lk->client,
			  (unsigned long long)lspace_global_lkid(c->l, lk->local_lkid), q,
			  lk->grmode >= 0 ? mode_name(lk->grmode) : "-", mode_name(lk->rqmode));
	} else {
		sb_printf(c->b, "    local client %-6u %-10s %-2s", lk->client, q,
			  lk->grmode >= 0 ? mode_name(lk->grmode) : "-");
		if (lk->queue != NL_Q_GRANTED)
			sb_printf(c->b, " -> %s", mode_name(lk->rqmode));
		sb_printf(c->b, "\n");
	}
	c->first_lock = false;
	return 0;
}

static int render_res(const struct ls_res_info *res, void *arg)
{
	struct render_ctx *c = arg;

	if (c->json) {
		sb_printf(c->b, "%s{\"resource\":", c->first_res ? "" : ",");
		render_name(c->b, res->name, res->namelen, true);
		sb_printf(c->b, ",\"lvb_valid\":%s,\"cluster\":[", res->lvb_valid ? "true" : "false");
	} else {
		sb_printf(c->b, "  resource ");
		render_name(c->b, res->name, res->namelen, false);
		sb_printf(c->b, "%s\n", res->lvb_valid ? "" : "  (lvb invalid)");
	}
	c->first_lock = true;
	ls_foreach_lock(c->l->st, res->name, res->namelen, render_cl_lock, c);
	if (c->json)
		sb_printf(c->b, "],\"local\":[");
	c->first_lock = true;
	nl_foreach_lock(c->l->nl, res->name, res->namelen, render_local_lock, c);
	if (c->json)
		sb_printf(c->b, "]}");
	c->first_res = false;
	return 0;
}

void lsm_render_locks(struct sbuf *b, const char *ls, bool json)
{
	unsigned i;
	bool first = true;

	if (json)
		sb_printf(b, "{\"lockspaces\":[");
	for (i = 1; i < LS_MAX; i++) {
		struct lspace *l = lsm.ls[i];
		struct render_ctx c = { .b = b, .l = l, .json = json, .first_res = true };

		if (!l || (ls && ls[0] && strcmp(ls, l->name)))
			continue;
		if (json) {
			sb_printf(b, "%s{\"name\":", first ? "" : ",");
			sb_json_str(b, l->name);
			sb_printf(b, ",\"resources\":[");
		} else {
			sb_printf(b, "lockspace %s%s\n", l->name, l->ready ? "" : " (syncing)");
		}
		if (l->st)
			ls_foreach_resource(l->st, render_res, &c);
		if (json)
			sb_printf(b, "]}");
		first = false;
	}
	if (json)
		sb_printf(b, "]}\n");
	else if (first)
		sb_printf(b, ls && ls[0] ? "no lockspace '%s' on this node\n" : "(no lockspaces)\n",
			  ls ? ls : "");
}

void lsm_get_stats(struct lsm_stats *st)
{
	*st = lsm.st;
	st->lockspaces = lsm_count();
}
