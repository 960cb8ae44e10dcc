/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * quorum.c - libquorum tracking on the main loop (see quorum.h).
 *
 * corosync's cs_error_t (CS_OK = 1) never leaves this file: callers get
 * 0 or a negative errno.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <corosync/corotypes.h>
#include <corosync/quorum.h>
#include <corosync/cmap.h>

#include "log.h"
#include "quorum.h"

static struct {
	quorum_handle_t qh;
	bool have;
	qb_loop_t *loop;
	int fd;
	quorum_change_fn fn;
	void *ctx;
} Q;

static int cs_to_errno(cs_error_t e)
{
	switch (e) {
	case CS_OK: return 0;
	case CS_ERR_TRY_AGAIN: return -EAGAIN;
	case CS_ERR_NO_MEMORY: return -ENOMEM;
	case CS_ERR_ACCESS: return -EACCES;
	case CS_ERR_NOT_EXIST: return -ENOENT;
	case CS_ERR_LIBRARY: return -ENOTCONN;
	default: return -EIO;
	}
}

static void notify(quorum_handle_t h, uint32_t quorate,
		   struct quorum_ring_id ring_id, uint32_t n, const uint32_t *members)
{
	Q.fn(Q.ctx, quorate != 0, ring_id.seq, n, members);
}

static int32_t quorum_ready(int32_t fd, int32_t revents, void *data)
{
	cs_error_t e;

	if (revents & (POLLHUP | POLLERR)) {
		log_err("corosync: quorum connection lost: treating this node as not quorate");
		qb_loop_poll_del(Q.loop, Q.fd);
		Q.fn(Q.ctx, false, 0, 0, NULL);
		return 0;
	}
	e = quorum_dispatch(Q.qh, CS_DISPATCH_ALL);
	if (e != CS_OK && e != CS_ERR_TRY_AGAIN) {
		log_err("corosync: quorum_dispatch: error %d: treating this node as not quorate", e);
		qb_loop_poll_del(Q.loop, Q.fd);
		Q.fn(Q.ctx, false, 0, 0, NULL);
	}
	return 0;
}

/* Returns 0 or -errno. */
int quorum_setup(qb_loop_t *loop, quorum_change_fn fn, void *ctx,
		 uint32_t *node_id, char *cluster, size_t cluster_len,
		 const char **why)
{
	quorum_model_v1_data_t md;
	cmap_handle_t ch;
	uint32_t type;
	char *name = NULL;
	cs_error_t e;

	e = cmap_initialize(&ch);
	if (e != CS_OK) {
		*why = "cmap_initialize (is corosync running?)";
		return cs_to_errno(e);
	}
	e = cmap_get_uint32(ch, "runtime.votequorum.this_node_id", node_id);
	if (e != CS_OK) {
		cmap_finalize(ch);
		*why = "cmap runtime.votequorum.this_node_id";
		return cs_to_errno(e);
	}
	if (cluster && cmap_get_string(ch, "totem.cluster_name", &name) == CS_OK) {
		strncpy(cluster, name, cluster_len - 1);
		cluster[cluster_len - 1] = '\0';
		free(name);
	}
	cmap_finalize(ch);

	memset(&md, 0, sizeof(md));
	md.model = QUORUM_MODEL_V1;
	md.quorum_notify_fn = notify;
	Q.fn = fn;
	Q.ctx = ctx;
	Q.loop = loop;
	e = quorum_model_initialize(&Q.qh, QUORUM_MODEL_V1, (quorum_model_data_t *)&md,
				    &type, NULL);
	if (e != CS_OK) {
		*why = "quorum_model_initialize";
		return cs_to_errno(e);
	}
	Q.have = true;
	if (type != QUORUM_SET)
		log_warn("corosync: no quorum provider configured: this node never counts as quorate");
	e = quorum_fd_get(Q.qh, &Q.fd);
	if (e == CS_OK)
		e = quorum_trackstart(Q.qh, CS_TRACK_CHANGES | CS_TRACK_CURRENT);
	if (e != CS_OK) {
		*why = "quorum_trackstart";
		quorum_close();
		return cs_to_errno(e);
	}
	qb_loop_poll_add(loop, QB_LOOP_HIGH, Q.fd, POLLIN, NULL, quorum_ready);
	return 0;
}

void quorum_close(void)
{
	if (!Q.have)
		return;
	quorum_trackstop(Q.qh);
	quorum_finalize(Q.qh);
	Q.have = false;
}

void quorum_cluster_facts(uint32_t *nodes, uint32_t *token_ms, uint32_t *consensus_ms)
{
	cmap_iter_handle_t it;
	cmap_handle_t ch;
	char key[CMAP_KEYNAME_MAXLEN + 1];
	size_t len;
	cmap_value_types_t type;
	uint32_t n = 0;

	*nodes = *token_ms = *consensus_ms = 0;
	if (cmap_initialize(&ch) != CS_OK)
		return;
	if (cmap_iter_init(ch, "nodelist.node.", &it) == CS_OK) {
		while (cmap_iter_next(ch, it, key, &len, &type) == CS_OK) {
			size_t kl = strlen(key);

			if (kl > 7 && !strcmp(key + kl - 7, ".nodeid"))
				n++;
		}
		cmap_iter_finalize(ch, it);
	}
	*nodes = n;
	cmap_get_uint32(ch, "runtime.config.totem.token", token_ms);
	cmap_get_uint32(ch, "runtime.config.totem.consensus", consensus_ms);
	cmap_finalize(ch);
}

size_t quorum_nodelist(uint32_t *ids, size_t max)
{
	cmap_iter_handle_t it;
	cmap_handle_t ch;
	char key[CMAP_KEYNAME_MAXLEN + 1];
	size_t len, n = 0, i, j;
	cmap_value_types_t type;

	if (cmap_initialize(&ch) != CS_OK)
		return 0;
	if (cmap_iter_init(ch, "nodelist.node.", &it) == CS_OK) {
		while (n < max && cmap_iter_next(ch, it, key, &len, &type) == CS_OK) {
			size_t kl = strlen(key);
			uint32_t id;

			if (kl > 7 && !strcmp(key + kl - 7, ".nodeid") &&
			    cmap_get_uint32(ch, key, &id) == CS_OK)
				ids[n++] = id;
		}
		cmap_iter_finalize(ch, it);
	}
	cmap_finalize(ch);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
			uint32_t t = ids[j];

			ids[j] = ids[j - 1];
			ids[j - 1] = t;
		}
	return n;
}
