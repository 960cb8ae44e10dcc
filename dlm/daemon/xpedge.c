/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpedge.c - the fast-path transport's edge in sdlmd (xpedge.h says what
 * it does and does not do).
 *
 * The flow of one call into the transport (xport_input on a datagram,
 * xport_timer on the loop timer, xport_send from the echo):
 *
 *	out = the transport's decisions
 *	  tx    -> sendto() each frame to its node's nodelist address, now
 *	  reset -> the peer restarted: its outstanding echo is forgotten
 *	  reach -> a peer given up on, or back: logged, counted
 *	  rx    -> copied (their bytes live only until the next call), then
 *	           handled as the echo's core decides (xpecho.h): a request
 *	           is answered (a new xport_send), a reply is a round trip.
 *	           The echo takes every message; a consumer that may refuse
 *	           one (the masters) must be asked before the frames go, and
 *	           the refusal passed to xport_unack()
 *	  deadline -> the one loop timer, moved to it
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "sdlm_errors.h"
#include "log.h"
#include "quorum.h"
#include "xport.h"
#include "xpmsg.h"
#include "xpecho.h"
#include "xpedge.h"

/* xport's max_peers bound */
#define XE_MAX_NODES	1024
/* datagrams read per wakeup: the loop serves its other sources between */
#define XE_READ_BURST	256

struct xe_peer {
	uint32_t	node;
	struct sockaddr_storage sa;
	socklen_t	salen;
	char		addr[INET6_ADDRSTRLEN];
};

/* A delivered message, copied out of the transport's output. */
struct xe_msg {
	uint32_t	node;
	size_t		len;
	uint8_t		data[XPM_ECHO_LEN];
};

static struct {
	bool		on;
	struct xpedge_cfg cfg;
	char		key_file[512];
	int		fd;
	struct xport	*xp;
	struct xpecho	*echo;		/* the echo's decisions (xpecho.h) */
	struct xe_peer	*peers;
	unsigned	npeers;
	char		self_addr[INET6_ADDRSTRLEN];
	qb_loop_timer_handle xp_timer, echo_timer;
	bool		xp_timer_on, echo_timer_on;
	bool		learnt;		/* the peers' slots learnt: socket polled */
	uint64_t	xp_deadline;
	struct xpedge_stats st;
	uint64_t	unknown_msgs;
	struct xport_out out;		/* of xport_input and xport_timer */
	struct xport_out sout;		/* of xport_send and xport_peer_learn */
	struct xe_msg	msgs[XP_WINDOW];
	uint8_t		rbuf[XP_FRAME_MAX + 1];
} E = { .fd = -1 };

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct xe_peer *peer_of(uint32_t node)
{
	unsigned i;

	for (i = 0; i < E.npeers; i++)
		if (E.peers[i].node == node)
			return &E.peers[i];
	return NULL;
}

static void xp_timer_fn(void *data);

/* The one transport timer, moved to the transport's next deadline. */
static void timer_arm(uint64_t deadline, uint64_t now)
{
	uint64_t ns;

	if (E.xp_timer_on && deadline == E.xp_deadline)
		return;
	if (E.xp_timer_on) {
		qb_loop_timer_del(E.cfg.loop, E.xp_timer);
		E.xp_timer_on = false;
	}
	if (deadline == XP_NEVER)
		return;
	ns = deadline > now ? deadline - now : 0;
	if (ns < 1000)
		ns = 1000;
	if (qb_loop_timer_add(E.cfg.loop, QB_LOOP_HIGH, ns, NULL, xp_timer_fn, &E.xp_timer) == 0) {
		E.xp_timer_on = true;
		E.xp_deadline = deadline;
	} else {
		log_err("xport: cannot add the retransmission timer");
	}
}

static void send_frames(const struct xport_out *o)
{
	unsigned i;

	for (i = 0; i < o->ntx; i++) {
		const struct xe_peer *p = peer_of(o->tx[i].node);

		if (!p) {
			/* cannot happen: the transport's peers are the
			 * nodelist's (xport_cfg peers), another node's frame
			 * is refused before anything answers it */
			if (!E.st.send_errors++)
				log_warn("xport: node %u is not in the nodelist sdlmd started "
					 "with: no frame to it until sdlmd restarts", o->tx[i].node);
			continue;
		}
		if (sendto(E.fd, o->tx[i].buf, o->tx[i].len, MSG_DONTWAIT,
			   (const struct sockaddr *)&p->sa, p->salen) < 0) {
			/* a full socket buffer or no route: the frame is
			 * lost as on the wire, the transport sends it again */
			if (!E.st.send_errors++)
				log_warn("xport: sending to node %u (%s): %s (counted in "
					 "xport send_errors; retransmitted)", p->node, p->addr,
					 strerror(errno));
			continue;
		}
		E.st.frames_sent++;
	}
}

static void on_reset(const struct xport_reset *r)
{
	E.st.resets++;
	log_info("xport: node %u restarted (incarnation %016llx -> %016llx): %u message(s) "
		 "for the old one dropped", r->node, (unsigned long long)r->old_inc,
		 (unsigned long long)r->new_inc, r->dropped);
	xpecho_reset(E.echo, r->node);
}

/* The transport gave a peer up (or it is back): the layer above is told
 * here; the echo to it stops until it answers (xport_send refuses). */
static void on_reach(const struct xport_reach *r)
{
	if (r->reachable) {
		log_notice("xport: node %u answers again (incarnation %016llx): %u message(s) "
			   "that waited for it go now", r->node,
			   (unsigned long long)r->incarnation, r->pending);
		return;
	}
	E.st.unreachable++;
	log_warn("xport: node %u (incarnation %016llx) is unreachable: a message waited "
		 "for its acknowledgement longer than the transport's give-up time; %u "
		 "message(s) wait, one probe a second until it answers", r->node,
		 (unsigned long long)r->incarnation, r->pending);
}

static void handle_msgs(unsigned n, uint64_t now);

/* Everything one call decided (the flow at the top of this file). */
static void handle_out(struct xport_out *o, uint64_t now)
{
	unsigned i, n = 0;

	send_frames(o);
	if (o->has_reset)
		on_reset(&o->reset);
	for (i = 0; i < o->nreach; i++)
		on_reach(&o->reach[i]);
	for (i = 0; i < o->nrx; i++) {
		const struct xport_rx *rx = &o->rx[i];

		E.st.delivered++;
		if (rx->len != XPM_ECHO_LEN) {
			if (!E.unknown_msgs++)
				log_warn("xport: node %u sent a message of %zu bytes this "
					 "version does not know", rx->node, rx->len);
			continue;
		}
		E.msgs[n].node = rx->node;
		E.msgs[n].len = rx->len;
		memcpy(E.msgs[n].data, rx->data, rx->len);
		n++;
	}
	timer_arm(o->deadline, now);
	handle_msgs(n, now);
}

static int send_msg(uint32_t node, const uint8_t *data, size_t len, uint64_t now)
{
	int rc = xport_send(E.xp, node, 0, data, len, now, &E.sout);

	handle_out(&E.sout, now);
	return rc;
}

static void handle_msgs(unsigned n, uint64_t now)
{
	struct xe_msg m[XP_WINDOW];
	uint8_t buf[XPM_ECHO_LEN];
	unsigned i;
	int rc;

	/* handling sends, which may deliver nothing but reuses E.msgs */
	memcpy(m, E.msgs, n * sizeof(m[0]));
	for (i = 0; i < n; i++) {
		rc = xpecho_input(E.echo, m[i].node, m[i].data, m[i].len, now, buf);
		if (rc == XPE_REPLY) {
			/* a full window drops the reply: the requester gives
			 * its echo up and sends another (xpecho.h) */
			send_msg(m[i].node, buf, sizeof(buf), now);
		} else if (rc == XPE_RTT) {
			E.st.echo_replies++;
		} else if (rc < 0 && !E.unknown_msgs++) {
			log_warn("xport: node %u sent a message this version does "
				 "not know (type %u)", m[i].node, m[i].data[0]);
		}
	}
}

static void xp_timer_fn(void *data)
{
	uint64_t now = mono_ns();

	(void)data;
	E.xp_timer_on = false;
	xport_timer(E.xp, now, &E.out);
	handle_out(&E.out, now);
}

/* said at 1, 2, 4, 8...: a flood is no log storm */
static bool log_now(uint64_t count)
{
	return !(count & (count - 1));
}

static void count_input(int rc, const struct sockaddr_storage *from)
{
	char a[INET6_ADDRSTRLEN] = "?";

	switch (rc) {
	case 0:
		return;
	case -EBADMSG:
		/* a forgery, another cluster, or another key: never looked
		 * at further; said at 1, 2, 4, 8... so a flood is no log storm */
		E.st.auth_drops++;
		if (log_now(E.st.auth_drops)) {
			if (from->ss_family == AF_INET)
				inet_ntop(AF_INET, &((const struct sockaddr_in *)from)->sin_addr,
					  a, sizeof(a));
			else if (from->ss_family == AF_INET6)
				inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)from)->sin6_addr,
					  a, sizeof(a));
			log_warn("xport: a frame from %s failed authentication (%llu so far): "
				 "dropped; every node needs the same xport_key_file and cluster name",
				 a, (unsigned long long)E.st.auth_drops);
		}
		return;
	case SDLM_EPROTO:
	case SDLM_EMAGIC:
	case SDLM_EVERSION:
		E.st.malformed++;
		return;
	default:
		E.st.refused++;
		log_debug("xport: frame refused: %s", rc < -1000 ? sdlm_strerror(rc) : strerror(-rc));
		return;
	}
}

/*
 * Every peer's incarnation as its heartbeat slot names it, into the
 * transport: from then on a replayed frame of an older daemon, a HELLO
 * included, is refused (-ESTALE) instead of teaching an incarnation that
 * is gone.  Done before the socket is first polled and at every tick.
 */
static void learn_peers(uint64_t now)
{
	uint64_t inc;
	unsigned i;

	if (!E.cfg.node_inc)
		return;
	for (i = 1; i < E.npeers; i++) {
		inc = E.cfg.node_inc(E.cfg.ctx, E.peers[i].node);
		if (!inc)
			continue;	/* no daemon there */
		xport_peer_learn(E.xp, E.peers[i].node, inc, now, &E.sout);
		handle_out(&E.sout, now);
	}
}

/* The datagram came from a peer's address and port (the nodelist's
 * ring0_addr, xport_port): the only senders of authentic frames. */
static bool from_peer(const struct sockaddr_storage *from, socklen_t fl)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)from, *p4;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)from, *p6;
	unsigned i;

	for (i = 1; i < E.npeers; i++) {
		if (E.peers[i].sa.ss_family != from->ss_family)
			continue;
		if (from->ss_family == AF_INET && fl >= sizeof(*a4)) {
			p4 = (const struct sockaddr_in *)&E.peers[i].sa;
			if (p4->sin_port == a4->sin_port &&
			    p4->sin_addr.s_addr == a4->sin_addr.s_addr)
				return true;
		} else if (from->ss_family == AF_INET6 && fl >= sizeof(*a6)) {
			p6 = (const struct sockaddr_in6 *)&E.peers[i].sa;
			if (p6->sin6_port == a6->sin6_port &&
			    !memcmp(&p6->sin6_addr, &a6->sin6_addr, sizeof(a6->sin6_addr)))
				return true;
		}
	}
	return false;
}

static void count_foreign(const struct sockaddr_storage *from)
{
	char a[INET6_ADDRSTRLEN] = "?";

	E.st.foreign_drops++;
	if (!log_now(E.st.foreign_drops))
		return;
	if (from->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)from)->sin_addr, a, sizeof(a));
	else if (from->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)from)->sin6_addr, a, sizeof(a));
	log_warn("xport: a datagram from %s port %u, which is no peer's address and port "
		 "(%llu so far): dropped unread; peers send from their nodelist ring0_addr "
		 "and xport_port", a,
		 from->ss_family == AF_INET ? ntohs(((const struct sockaddr_in *)from)->sin_port) :
		 from->ss_family == AF_INET6 ? ntohs(((const struct sockaddr_in6 *)from)->sin6_port) : 0,
		 (unsigned long long)E.st.foreign_drops);
}

static int32_t on_readable(int32_t fd, int32_t revents, void *data)
{
	struct sockaddr_storage from;
	socklen_t fl;
	ssize_t n;
	uint64_t now;
	int i, rc;

	(void)revents;
	(void)data;
	for (i = 0; i < XE_READ_BURST; i++) {
		fl = sizeof(from);
		n = recvfrom(fd, E.rbuf, sizeof(E.rbuf), MSG_DONTWAIT | MSG_TRUNC,
			     (struct sockaddr *)&from, &fl);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    log_now(++E.st.recv_errors))
				log_warn("xport: receive: %s (%llu so far)", strerror(errno),
					 (unsigned long long)E.st.recv_errors);
			break;
		}
		E.st.frames_received++;
		if (!from_peer(&from, fl)) {
			count_foreign(&from);
			continue;
		}
		if ((size_t)n > XP_FRAME_MAX) {
			E.st.malformed++;	/* MSG_TRUNC: its real length */
			continue;
		}
		now = mono_ns();
		rc = xport_input(E.xp, E.rbuf, (size_t)n, now, &E.out);
		count_input(rc, &from);
		/* valid whatever rc: a refused frame may still be answered */
		handle_out(&E.out, now);
	}
	return 0;
}

/* The tick's interval: the echo's, 1 s with the echo off. */
static uint64_t tick_ns(void)
{
	return (uint64_t)(E.cfg.echo_ms ? E.cfg.echo_ms : 1000) * 1000000u;
}

/* Until the heartbeat engine has read the slots, the tick looks again
 * this often (ns). */
#define XE_LEARN_WAIT_NS	50000000ull

/*
 * The tick: the peers' incarnations again (learn_peers), then the echo
 * (xport_echo_ms; with the echo off the tick still learns, every second).
 * The first ticks wait for the heartbeat engine's first read of the slots
 * (slots_read): only then are the incarnations learnt and the socket
 * polled, so no datagram, not even one queued while sdlmd started, is
 * read by a transport that knows no peer's incarnation yet.
 */
static void echo_tick(void *data)
{
	uint64_t now = mono_ns();
	uint8_t buf[XPM_ECHO_LEN];
	unsigned i;

	(void)data;
	E.echo_timer_on = false;
	if (!E.learnt && E.cfg.slots_read && !E.cfg.slots_read(E.cfg.ctx)) {
		if (qb_loop_timer_add(E.cfg.loop, QB_LOOP_MED, XE_LEARN_WAIT_NS, NULL,
				      echo_tick, &E.echo_timer) == 0)
			E.echo_timer_on = true;
		return;
	}
	learn_peers(now);
	if (!E.learnt) {
		if (qb_loop_poll_add(E.cfg.loop, QB_LOOP_HIGH, E.fd, POLLIN, NULL,
				     on_readable) != 0)
			log_err("xport: cannot poll the socket in the main loop: the "
				"transport stays silent until sdlmd restarts");
		E.learnt = true;
	}
	for (i = 1; i < E.npeers && E.cfg.echo_ms; i++) {
		struct xe_peer *p = &E.peers[i];

		/* no daemon in the slot: an echo would only wait for one */
		if (!E.cfg.node_inc || !E.cfg.node_inc(E.cfg.ctx, p->node))
			continue;
		if (xpecho_request(E.echo, p->node, now, buf) != 1)
			continue;
		if (send_msg(p->node, buf, sizeof(buf), now) == 0) {
			xpecho_sent(E.echo, p->node, now);
			E.st.echo_sent++;
		}
	}
	if (qb_loop_timer_add(E.cfg.loop, QB_LOOP_MED, tick_ns(), NULL, echo_tick,
			      &E.echo_timer) == 0)
		E.echo_timer_on = true;
}

/* The secret: a regular file of 16..4096 bytes that only its owner, root
 * or sdlmd's user, may read or write; K derived from it (xpmsg.h). */
static int key_read(const char *path, const char *cluster, uint8_t key[XPM_KEY_LEN],
		    char *err, size_t errlen)
{
	uint8_t secret[XPM_SECRET_MAX + 1];
	struct stat st;
	ssize_t n;
	int fd, rc = 0;

	/* O_NONBLOCK: a FIFO put there is refused below, not waited on */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "xport_key_file %s: %s: create it with corosync-keygen and "
			 "copy it to every node, or name another file in xport_key_file "
			 "(xport_port = 0 turns the transport off)", path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		snprintf(err, errlen, "xport_key_file %s: not a regular file", path);
		goto out;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		rc = -EPERM;
		snprintf(err, errlen, "xport_key_file %s: owned by uid %u, neither root nor "
			 "sdlmd's user (uid %u): its owner may change the key; chown root it",
			 path, (unsigned)st.st_uid, (unsigned)geteuid());
		goto out;
	}
	if (st.st_mode & 0077) {
		rc = -EPERM;
		snprintf(err, errlen, "xport_key_file %s: readable or writable by others than "
			 "its owner (mode %04o): chmod 0400 it", path,
			 (unsigned)(st.st_mode & 07777));
		goto out;
	}
	n = read(fd, secret, sizeof(secret));
	if (n < 0) {
		rc = -errno;
		snprintf(err, errlen, "xport_key_file %s: %s", path, strerror(-rc));
		goto out;
	}
	if (n < XPM_SECRET_MIN || n > XPM_SECRET_MAX) {
		rc = -EINVAL;
		snprintf(err, errlen, "xport_key_file %s: %s%zd bytes; a key is %d..%d bytes "
			 "(corosync-keygen writes one)", path, n > XPM_SECRET_MAX ? "more than " : "",
			 n > XPM_SECRET_MAX ? (ssize_t)XPM_SECRET_MAX : n, XPM_SECRET_MIN,
			 XPM_SECRET_MAX);
		goto out;
	}
	rc = xpmsg_key_derive(secret, (size_t)n, cluster, key);
	if (rc < 0)
		snprintf(err, errlen, "xport: no key without a cluster name");
out:
	memset(secret, 0, sizeof(secret));
	close(fd);
	return rc;
}

/* node's nodelist address with the port; the family of the first
 * answer, or of want when given. */
static int addr_resolve(const char *addr, uint16_t port, int want, struct xe_peer *p)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res, *r;
	char ps[8];
	int rc;

	hints.ai_family = want ? want : AF_UNSPEC;
	snprintf(ps, sizeof(ps), "%u", port);
	rc = getaddrinfo(addr, ps, &hints, &res);
	if (rc)
		return rc;
	for (r = res; r; r = r->ai_next)
		if (r->ai_family == AF_INET || r->ai_family == AF_INET6)
			break;
	if (!r) {
		freeaddrinfo(res);
		return EAI_FAMILY;
	}
	memcpy(&p->sa, r->ai_addr, r->ai_addrlen);
	p->salen = r->ai_addrlen;
	if (r->ai_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)r->ai_addr)->sin_addr, p->addr,
			  sizeof(p->addr));
	else
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)r->ai_addr)->sin6_addr, p->addr,
			  sizeof(p->addr));
	freeaddrinfo(res);
	return 0;
}

int xpedge_setup(const struct xpedge_cfg *cfg, char *err, size_t errlen)
{
	struct quorum_node *nl = NULL;
	uint8_t key[XPM_KEY_LEN];
	struct xport_cfg xc;
	struct xe_peer *self = NULL;
	uint32_t *ids = NULL;
	int n, i, rc, family;

	E.cfg = *cfg;
	snprintf(E.key_file, sizeof(E.key_file), "%s", cfg->key_file);
	E.cfg.key_file = E.key_file;
	E.cfg.cluster = NULL;
	rc = key_read(cfg->key_file, cfg->cluster, key, err, errlen);
	if (rc < 0)
		return rc;
	nl = calloc(XE_MAX_NODES, sizeof(*nl));
	E.peers = calloc(XE_MAX_NODES, sizeof(*E.peers));
	if (!nl || !E.peers) {
		rc = -ENOMEM;
		snprintf(err, errlen, "xport: out of memory");
		goto out_free;
	}
	n = quorum_nodelist_addrs(nl, XE_MAX_NODES);
	if (n < 0) {
		rc = n;
		snprintf(err, errlen, "xport: cannot read corosync's nodelist (cmap): %s",
			 strerror(-rc));
		goto out_free;
	}
	/* our own address first: its family is the socket's */
	for (i = 0; i < n && nl[i].qn_id != cfg->node; i++)
		;
	if (i == n || !nl[i].qn_addr[0]) {
		rc = -ENOENT;
		snprintf(err, errlen, "xport: node %u has no ring0_addr in corosync's nodelist: "
			 "the transport uses the nodelist's addresses (corosync.conf, nodelist { "
			 "node { ring0_addr: ... } })", cfg->node);
		goto out_free;
	}
	self = &E.peers[0];
	self->node = cfg->node;
	rc = addr_resolve(nl[i].qn_addr, cfg->port, 0, self);
	if (rc) {
		snprintf(err, errlen, "xport: node %u's ring0_addr '%s': %s", cfg->node,
			 nl[i].qn_addr, gai_strerror(rc));
		rc = -EINVAL;
		goto out_free;
	}
	family = self->sa.ss_family;
	snprintf(E.self_addr, sizeof(E.self_addr), "%s", self->addr);
	E.npeers = 1;
	for (i = 0; i < n; i++) {
		struct xe_peer *p = &E.peers[E.npeers];

		if (nl[i].qn_id == cfg->node)
			continue;
		p->node = nl[i].qn_id;
		if (!nl[i].qn_addr[0] || (rc = addr_resolve(nl[i].qn_addr, cfg->port, family, p))) {
			snprintf(err, errlen, "xport: node %u's ring0_addr '%s': %s (the same "
				 "address family as this node's, %s)", p->node, nl[i].qn_addr,
				 nl[i].qn_addr[0] ? gai_strerror(rc) : "missing",
				 family == AF_INET ? "IPv4" : "IPv6");
			rc = -EINVAL;
			goto out_free;
		}
		E.npeers++;
	}
	E.fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (E.fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "xport: UDP socket: %s", strerror(-rc));
		goto out_free;
	}
	if (bind(E.fd, (struct sockaddr *)&self->sa, self->salen) < 0) {
		rc = -errno;
		snprintf(err, errlen, "xport: cannot bind UDP %s port %u (node %u's ring0_addr in "
			 "corosync's nodelist): %s; xport_port must be free on every node "
			 "(0 turns the transport off)", self->addr, cfg->port, cfg->node,
			 strerror(-rc));
		goto out_close;
	}
	/* the nodelist is the peer table: a frame of any other node, even
	 * authentic, is refused and takes no peer's place */
	ids = calloc(E.npeers, sizeof(*ids));
	if (!ids) {
		rc = -ENOMEM;
		snprintf(err, errlen, "xport: out of memory");
		goto out_close;
	}
	for (i = 1; i < (int)E.npeers; i++)
		ids[i - 1] = E.peers[i].node;
	xc = (struct xport_cfg) {
		.node = cfg->node,
		.incarnation = cfg->incarnation,
		.key = key,
		.keylen = sizeof(key),
		.peers = ids,
		.npeers = E.npeers - 1,
	};
	rc = xport_new(&xc, &E.xp);
	if (rc == 0 && E.npeers > 1)
		rc = xpecho_new(ids, E.npeers - 1, tick_ns(), &E.echo);
	free(ids);
	if (rc < 0) {
		snprintf(err, errlen, "xport: %s", strerror(-rc));
		goto out_xport;
	}
	E.on = true;
	memset(key, 0, sizeof(key));
	free(nl);
	log_notice("xport: UDP %s port %u, %u peer(s) from corosync's nodelist, key from %s%s",
		   self->addr, cfg->port, E.npeers - 1, cfg->key_file,
		   cfg->echo_ms ? "" : ", no echo");
	/* the first tick once the loop runs (node_inc reads the heartbeat
	 * engine, which does not exist yet): it polls the socket once the
	 * peers' incarnations are learnt (echo_tick) */
	E.learnt = false;
	if (qb_loop_timer_add(cfg->loop, QB_LOOP_MED, XE_LEARN_WAIT_NS, NULL, echo_tick,
			      &E.echo_timer) != 0) {
		rc = -EIO;
		snprintf(err, errlen, "xport: cannot add a timer to the main loop");
		goto out_xport;
	}
	E.echo_timer_on = true;
	return 0;

out_xport:
	E.on = false;
	xpecho_free(E.echo);
	E.echo = NULL;
	xport_free(E.xp);
	E.xp = NULL;
out_close:
	close(E.fd);
	E.fd = -1;
out_free:
	memset(key, 0, sizeof(key));
	free(nl);
	free(E.peers);
	E.peers = NULL;
	E.npeers = 0;
	return rc;
}

void xpedge_close(void)
{
	if (!E.on)
		return;
	if (E.echo_timer_on)
		qb_loop_timer_del(E.cfg.loop, E.echo_timer);
	if (E.xp_timer_on)
		qb_loop_timer_del(E.cfg.loop, E.xp_timer);
	if (E.learnt)
		qb_loop_poll_del(E.cfg.loop, E.fd);
	close(E.fd);
	E.fd = -1;
	xpecho_free(E.echo);
	E.echo = NULL;
	xport_free(E.xp);
	E.xp = NULL;
	free(E.peers);
	E.peers = NULL;
	E.npeers = 0;
	E.on = false;
}

bool xpedge_on(void)
{
	return E.on;
}

void xpedge_get_stats(struct xpedge_stats *st)
{
	struct xport_peer_info pi;
	unsigned i;

	*st = E.st;
	st->retransmits = st->fast_retransmits = st->duplicates = 0;
	if (!E.on)
		return;
	/* the transport's per-peer counters survive a peer's restart */
	for (i = 1; i < E.npeers; i++) {
		if (xport_peer_info(E.xp, E.peers[i].node, &pi) < 0)
			continue;
		st->retransmits += pi.retransmits;
		st->fast_retransmits += pi.fast_retransmits;
		st->duplicates += pi.duplicates;
	}
}

static void us_or_null(struct sbuf *b, const char *name, bool have, uint64_t ns)
{
	if (have)
		sb_printf(b, ",\"%s\":%.1f", name, ns / 1e3);
	else
		sb_printf(b, ",\"%s\":null", name);
}

void xpedge_render(struct sbuf *b, bool json)
{
	struct xpedge_stats st;
	struct xport_peer_info pi;
	struct xpe_figures ef;
	unsigned i;

	if (!E.on) {
		if (json)
			sb_printf(b, ",\"xport\":null");
		else
			sb_printf(b, "xport        off (xport_port = 0)\n");
		return;
	}
	xpedge_get_stats(&st);
	if (json) {
		sb_printf(b, ",\"xport\":{\"address\":");
		sb_json_str(b, E.self_addr);
		sb_printf(b, ",\"port\":%u,\"frames_sent\":%llu,\"frames_received\":%llu,"
			  "\"send_errors\":%llu,\"auth_drops\":%llu,\"foreign_drops\":%llu,"
			  "\"receive_errors\":%llu,\"malformed\":%llu,\"refused\":%llu,"
			  "\"retransmits\":%llu,\"fast_retransmits\":%llu,"
			  "\"duplicates\":%llu,\"delivered\":%llu,\"resets\":%llu,\"unreachable\":%llu,"
			  "\"echo_sent\":%llu,\"echo_replies\":%llu,\"peers\":[",
			  E.cfg.port, (unsigned long long)st.frames_sent,
			  (unsigned long long)st.frames_received, (unsigned long long)st.send_errors,
			  (unsigned long long)st.auth_drops, (unsigned long long)st.foreign_drops,
			  (unsigned long long)st.recv_errors, (unsigned long long)st.malformed,
			  (unsigned long long)st.refused, (unsigned long long)st.retransmits,
			  (unsigned long long)st.fast_retransmits, (unsigned long long)st.duplicates,
			  (unsigned long long)st.delivered, (unsigned long long)st.resets,
			  (unsigned long long)st.unreachable,
			  (unsigned long long)st.echo_sent, (unsigned long long)st.echo_replies);
	} else {
		sb_printf(b, "xport        UDP %s port %u: %llu frames sent (%llu messages "
			  "retransmitted), %llu received (%llu from no peer's address, %llu failed "
			  "authentication, %llu malformed, %llu refused, %llu duplicate messages)\n",
			  E.self_addr, E.cfg.port, (unsigned long long)st.frames_sent,
			  (unsigned long long)st.retransmits, (unsigned long long)st.frames_received,
			  (unsigned long long)st.foreign_drops,
			  (unsigned long long)st.auth_drops, (unsigned long long)st.malformed,
			  (unsigned long long)st.refused, (unsigned long long)st.duplicates);
	}
	for (i = 1; i < E.npeers; i++) {
		const struct xe_peer *p = &E.peers[i];
		bool have = xport_peer_info(E.xp, p->node, &pi) == 0;

		if (!have)
			memset(&pi, 0, sizeof(pi));
		(void)xpecho_figures(E.echo, p->node, &ef);
		if (json) {
			sb_printf(b, "%s{\"node\":%u,\"address\":", i > 1 ? "," : "", p->node);
			sb_json_str(b, p->addr);
			sb_printf(b, ",\"incarnation\":\"%016llx\"", (unsigned long long)pi.incarnation);
			us_or_null(b, "srtt_us", pi.rtt_samples > 0, pi.srtt);
			us_or_null(b, "rttvar_us", pi.rtt_samples > 0, pi.rttvar);
			us_or_null(b, "rto_us", have, pi.rto);
			sb_printf(b, ",\"inflight\":%u,\"unreachable\":%s,\"echo_replies\":%llu",
				  pi.inflight, pi.unreachable ? "true" : "false",
				  (unsigned long long)ef.replies);
			us_or_null(b, "echo_rtt_us", ef.replies > 0, ef.rtt_last);
			us_or_null(b, "echo_rtt_min_us", ef.replies > 0, ef.rtt_min);
			us_or_null(b, "echo_rtt_max_us", ef.replies > 0, ef.rtt_max);
			us_or_null(b, "echo_rtt_mean_us", ef.replies > 0,
				   ef.replies ? ef.rtt_sum / ef.replies : 0);
			sb_printf(b, "}");
			continue;
		}
		sb_printf(b, "  node %-6u %s: ", p->node, p->addr);
		if (ef.replies)
			sb_printf(b, "echo %.3f ms (min %.3f, mean %.3f, max %.3f; %llu replies)",
				  ef.rtt_last / 1e6, ef.rtt_min / 1e6,
				  (double)(ef.rtt_sum / ef.replies) / 1e6, ef.rtt_max / 1e6,
				  (unsigned long long)ef.replies);
		else
			sb_printf(b, "no echo reply yet");
		if (pi.rtt_samples)
			sb_printf(b, ", srtt %.3f ms, rto %.3f ms", pi.srtt / 1e6, pi.rto / 1e6);
		sb_printf(b, "%s\n", pi.unreachable ? ", UNREACHABLE (given up on, probed)" :
			  pi.inflight ? ", messages in flight" : "");
	}
	if (json)
		sb_printf(b, "]}");
}
