/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpmsg.h - what sdlmd's fast-path edge (xpedge.c) puts into the transport
 * of xport.h and takes out of it: the HMAC key it signs every frame with,
 * and its messages (docs/protocol.md, "Fast-path transport", "The edge").
 * Pure: no I/O, no clock, no globals.
 *
 * ---- The key ----
 *
 * The secret is corosync's authkey (xport_key_file; the file every node
 * of the cluster already holds), never used as it is: the transport's key
 * is
 *
 *	K = HMAC-SHA256(secret, "sdlm-xport-key-v1" 0x00 cluster_name)
 *
 * so nothing sdlm signs is ever a value corosync computes with that key,
 * and two clusters that (wrongly) share one authkey still refuse each
 * other's frames (-EBADMSG at the tag, before any field is trusted).
 *
 * ---- Messages ----
 *
 * The first byte of every message is its type; the echo is the first
 * user of the edge, P_* messages of the masters (design-fastpath.md 2.2)
 * will take types from 16 on.  An echo (24 bytes, little-endian):
 *
 *	offset  size  field
 *	     0     1  type        XPM_ECHO_REQ 1 or XPM_ECHO_REPLY 2
 *	     1     7  reserved    zero
 *	     8     8  id          the requester's, per peer, from 1
 *	    16     8  stamp       the requester's clock at the send (ns);
 *	                          opaque to the replier, returned unchanged
 *
 * A request is answered by a reply with the same id and stamp; the
 * requester takes a reply only with the id and stamp of its outstanding
 * request, and its round trip is its clock at the reply's delivery minus
 * its own time of the request's send (xpecho.h: never the stamp, which
 * the replier could set): the time of one message each way through the
 * transport, retransmissions included.
 */
#ifndef SDLM_XPMSG_H
#define SDLM_XPMSG_H

#include <stddef.h>
#include <stdint.h>

#define XPM_KEY_LEN		32
/* corosync-keygen writes 128..4096 bytes (default 256); shorter than 16
 * is no key. */
#define XPM_SECRET_MIN		16
#define XPM_SECRET_MAX		4096

#define XPM_ECHO_REQ		1
#define XPM_ECHO_REPLY		2
#define XPM_ECHO_LEN		24

/* K from the secret and the cluster's name (1..255 bytes of text).
 * -EINVAL: a secret outside XPM_SECRET_MIN..MAX, no cluster name. */
int xpmsg_key_derive(const void *secret, size_t len, const char *cluster,
		     uint8_t key[XPM_KEY_LEN]);

struct xpm_echo {
	uint8_t		type;	/* XPM_ECHO_REQ or XPM_ECHO_REPLY */
	uint64_t	id;
	uint64_t	stamp;
};

/* Into buf (XPM_ECHO_LEN bytes); -EINVAL: another type or id 0. */
int xpmsg_echo_encode(const struct xpm_echo *e, uint8_t buf[XPM_ECHO_LEN]);

/* SDLM_EPROTO: another length, type, reserved bytes set or id 0. */
int xpmsg_echo_decode(const void *buf, size_t len, struct xpm_echo *e);

#endif /* SDLM_XPMSG_H */
