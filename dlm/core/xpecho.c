/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpecho.c - the edge's echo (xpecho.h has the rules).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sdlm_errors.h"
#include "xpecho.h"

struct xpe_peer {
	uint32_t	node;
	uint64_t	next_id;	/* the last id made */
	uint64_t	out_id;		/* outstanding; 0: none */
	uint64_t	out_sent;	/* its send, by our clock */
	uint64_t	out_stamp;	/* the stamp it carries */
	uint64_t	made_stamp;	/* the stamp of the request made last */
	struct xpe_figures f;
};

struct xpecho {
	unsigned	n;
	uint64_t	giveup;
	struct xpe_peer	*peers;
};

int xpecho_new(const uint32_t *nodes, unsigned n, uint64_t interval_ns,
	       struct xpecho **ep)
{
	struct xpecho *e;
	unsigned i, j;

	*ep = NULL;
	if (!nodes || !n || n > 1024 || !interval_ns)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!nodes[i])
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (nodes[j] == nodes[i])
				return -EINVAL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->peers = calloc(n, sizeof(*e->peers));
	if (!e->peers) {
		free(e);
		return -ENOMEM;
	}
	e->n = n;
	for (i = 0; i < n; i++)
		e->peers[i].node = nodes[i];
	e->giveup = interval_ns > XPE_GIVEUP_MIN / XPE_GIVEUP_INTERVALS ?
		    interval_ns * XPE_GIVEUP_INTERVALS : XPE_GIVEUP_MIN;
	*ep = e;
	return 0;
}

void xpecho_free(struct xpecho *e)
{
	if (!e)
		return;
	free(e->peers);
	free(e);
}

static struct xpe_peer *peer_of(const struct xpecho *e, uint32_t node)
{
	unsigned i;

	for (i = 0; node && i < e->n; i++)
		if (e->peers[i].node == node)
			return &e->peers[i];
	return NULL;
}

int xpecho_request(struct xpecho *e, uint32_t node, uint64_t now,
		   uint8_t buf[XPM_ECHO_LEN])
{
	struct xpe_peer *p = peer_of(e, node);
	struct xpm_echo m;

	if (!p)
		return -ENOENT;
	if (p->out_id && now - p->out_sent < e->giveup)
		return 0;
	m = (struct xpm_echo) { .type = XPM_ECHO_REQ, .id = ++p->next_id, .stamp = now };
	p->made_stamp = now;
	return xpmsg_echo_encode(&m, buf) < 0 ? -EINVAL : 1;
}

void xpecho_sent(struct xpecho *e, uint32_t node, uint64_t now)
{
	struct xpe_peer *p = peer_of(e, node);

	if (!p || !p->next_id)
		return;
	p->out_id = p->next_id;
	p->out_sent = now;
	p->out_stamp = p->made_stamp;
	p->f.sent++;
	p->f.outstanding = true;
}

/* One round trip into the figures. */
static void rtt_take(struct xpe_peer *p, uint64_t rtt)
{
	p->f.rtt_last = rtt;
	if (!p->f.replies || rtt < p->f.rtt_min)
		p->f.rtt_min = rtt;
	if (rtt > p->f.rtt_max)
		p->f.rtt_max = rtt;
	p->f.rtt_sum += rtt;
	p->f.replies++;
}

int xpecho_input(struct xpecho *e, uint32_t node, const void *data, size_t len,
		 uint64_t now, uint8_t buf[XPM_ECHO_LEN])
{
	struct xpe_peer *p = peer_of(e, node);
	struct xpm_echo m;
	int rc;

	if (!p)
		return -ENOENT;
	rc = xpmsg_echo_decode(data, len, &m);
	if (rc < 0)
		return rc;
	if (m.type == XPM_ECHO_REQ) {
		m.type = XPM_ECHO_REPLY;
		return xpmsg_echo_encode(&m, buf) < 0 ? -EINVAL : XPE_REPLY;
	}
	/* one we gave up on, or not returned unchanged: not ours.  The
	 * stamp is only compared: the round trip is our own clock's, a
	 * reply's stamp would let its sender make it anything */
	if (!p->out_id || m.id != p->out_id || m.stamp != p->out_stamp ||
	    now < p->out_sent) {
		p->f.ignored++;
		return XPE_IGNORED;
	}
	p->out_id = 0;
	p->f.outstanding = false;
	rtt_take(p, now - p->out_sent);
	return XPE_RTT;
}

void xpecho_reset(struct xpecho *e, uint32_t node)
{
	struct xpe_peer *p = peer_of(e, node);

	if (!p)
		return;
	p->out_id = 0;
	p->f.outstanding = false;
}

int xpecho_figures(const struct xpecho *e, uint32_t node, struct xpe_figures *f)
{
	const struct xpe_peer *p = peer_of(e, node);

	memset(f, 0, sizeof(*f));
	if (!p)
		return -ENOENT;
	*f = p->f;
	return 0;
}
