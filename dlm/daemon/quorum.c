/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * quorum.c - libquorum tracking on the main loop (see quorum.h).
 *
 * corosync's cs_error_t (CS_OK = 1) never leaves this file: callers get
 * 0 or a negative errno.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <corosync/corotypes.h>
#include <corosync/quorum.h>
#include <corosync/votequorum.h>
#include <corosync/cmap.h>

#include "log.h"
#include "clock.h"
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

int quorum_nodelist_addrs(struct quorum_node *nodes, size_t max)
{
	cmap_iter_handle_t it;
	cmap_handle_t ch;
	char key[CMAP_KEYNAME_MAXLEN + 1], akey[CMAP_KEYNAME_MAXLEN + 16];
	size_t len, n = 0, i, j;
	cmap_value_types_t type;

	if (cmap_initialize(&ch) != CS_OK)
		return -ENOTCONN;
	if (cmap_iter_init(ch, "nodelist.node.", &it) == CS_OK) {
		while (n < max && cmap_iter_next(ch, it, key, &len, &type) == CS_OK) {
			size_t kl = strlen(key);
			char *addr = NULL;
			uint32_t id;

			if (kl <= 7 || strcmp(key + kl - 7, ".nodeid") ||
			    cmap_get_uint32(ch, key, &id) != CS_OK)
				continue;
			/* nodelist.node.X.nodeid -> nodelist.node.X.ring0_addr */
			snprintf(akey, sizeof(akey), "%.*sring0_addr", (int)(kl - 6), key);
			nodes[n].qn_id = id;
			nodes[n].qn_addr[0] = 0;
			if (cmap_get_string(ch, akey, &addr) == CS_OK && addr) {
				snprintf(nodes[n].qn_addr, sizeof(nodes[n].qn_addr), "%s", addr);
				free(addr);
			}
			n++;
		}
		cmap_iter_finalize(ch, it);
	}
	cmap_finalize(ch);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && nodes[j - 1].qn_id > nodes[j].qn_id; j--) {
			struct quorum_node t = nodes[j];

			nodes[j] = nodes[j - 1];
			nodes[j - 1] = t;
		}
	return (int)n;
}

/* --- the probe ------------------------------------------------------- */

/*
 * Why votequorum: corosync stops reading the requests of every IPC
 * service while it synchronises a new membership (and while its totem
 * send queue is critical), votequorum's only excepted during the sync.
 * A question to the quorum service waits out every membership change -
 * seconds under packet loss - which is no sign of a hung corosync; a
 * question to votequorum is answered through the sync, unless the totem
 * queue is critical too: then votequorum waits like the others, and a
 * node whose lease lapsed (disk lost) may fence itself under load
 * (docs/timeouts.md).
 */
static struct {
	uint32_t interval_ms;
	uint32_t node_id;
	_Atomic uint64_t asked_ms;	/* the last answered question was asked */
	_Atomic uint64_t slowest_ms;	/* longest wait for an answer, since read */
	_Atomic uint32_t refused;	/* questions that got no answer (an error) */
	_Atomic uint32_t reconnects;	/* connections lost or refused */
	_Atomic bool via_quorum;	/* no votequorum: asking the quorum service */
} P;

static void probe_notify(quorum_handle_t h, uint32_t quorate,
			 struct quorum_ring_id ring_id, uint32_t n, const uint32_t *members)
{
	(void)h; (void)quorate; (void)ring_id; (void)n; (void)members;
}

/* One connection, to votequorum or (without it) to the quorum service. */
struct probe_conn {
	bool have, vq;
	votequorum_handle_t vh;
	quorum_handle_t qh;
};

static cs_error_t probe_connect(struct probe_conn *c)
{
	votequorum_callbacks_t vcb;
	quorum_model_v1_data_t md;
	uint32_t type;
	cs_error_t e;

	memset(&vcb, 0, sizeof(vcb));
	e = votequorum_initialize(&c->vh, &vcb);
	if (e == CS_OK) {
		c->have = c->vq = true;
		atomic_store(&P.via_quorum, false);
		return e;
	}
	if (e != CS_ERR_NOT_EXIST)
		return e;
	memset(&md, 0, sizeof(md));
	md.model = QUORUM_MODEL_V1;
	md.quorum_notify_fn = probe_notify;
	e = quorum_model_initialize(&c->qh, QUORUM_MODEL_V1, (quorum_model_data_t *)&md,
				    &type, NULL);
	if (e == CS_OK) {
		c->have = true;
		c->vq = false;
		atomic_store(&P.via_quorum, true);
	}
	return e;
}

static void probe_disconnect(struct probe_conn *c)
{
	if (c->vq)
		votequorum_finalize(c->vh);
	else
		quorum_finalize(c->qh);
	c->have = false;
}

static cs_error_t probe_ask(struct probe_conn *c)
{
	struct votequorum_info info;
	int q;

	if (c->vq)
		return votequorum_getinfo(c->vh, P.node_id, &info);
	return quorum_getquorate(c->qh, &q);
}

/*
 * No logging of our own here (libqb's client code does log from this
 * thread, at LOG_DEBUG: log.c's targets take a lock).  Only CS_OK counts as an
 * answer: CS_ERR_TRY_AGAIN can come from the client library alone (a
 * flow-control flag corosync set in shared memory before it hung).  A
 * connection that fails is reopened at the next turn.
 */
static void *probe_main(void *arg)
{
	struct probe_conn c = { 0 };
	struct timespec ts;

	(void)arg;
	ts.tv_sec = P.interval_ms / 1000;
	ts.tv_nsec = (long)(P.interval_ms % 1000) * 1000000;
	for (;;) {
		uint64_t asked = clock_boottime_ms();
		cs_error_t e = CS_OK;

		if (!c.have && probe_connect(&c) != CS_OK)
			atomic_fetch_add(&P.reconnects, 1);
		if (c.have) {
			e = probe_ask(&c);
			if (e == CS_OK) {
				uint64_t took = clock_boottime_ms() - asked, s = atomic_load(&P.slowest_ms);

				while (took > s && !atomic_compare_exchange_weak(&P.slowest_ms, &s, took))
					;
				atomic_store(&P.asked_ms, asked);
			} else {
				atomic_fetch_add(&P.refused, 1);
				if (e != CS_ERR_TRY_AGAIN) {
					probe_disconnect(&c);
					atomic_fetch_add(&P.reconnects, 1);
				}
			}
		}
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int quorum_probe_start(uint32_t interval_ms, uint32_t node_id)
{
	pthread_attr_t a;
	pthread_t t;
	int rc;

	P.interval_ms = interval_ms ? interval_ms : 1;
	P.node_id = node_id;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &a, probe_main, NULL);
	pthread_attr_destroy(&a);
	return -rc;
}

uint64_t quorum_probe_asked(void)
{
	return atomic_load(&P.asked_ms);
}

void quorum_probe_stats(uint64_t *slowest_ms, uint32_t *refused, uint32_t *reconnects,
			bool *via_quorum)
{
	*slowest_ms = atomic_exchange(&P.slowest_ms, 0);
	*refused = atomic_exchange(&P.refused, 0);
	*reconnects = atomic_exchange(&P.reconnects, 0);
	*via_quorum = atomic_load(&P.via_quorum);
}
