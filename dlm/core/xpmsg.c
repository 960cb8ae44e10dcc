/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpmsg.c - the edge's key and messages (xpmsg.h has the layout).
 */
#include <errno.h>
#include <string.h>

#include "le.h"
#include "sdlm_errors.h"
#include "xport.h"
#include "xpmsg.h"

static const char key_label[] = "sdlm-xport-key-v1";

int xpmsg_key_derive(const void *secret, size_t len, const char *cluster,
		     uint8_t key[XPM_KEY_LEN])
{
	uint8_t msg[sizeof(key_label) + 256];
	struct xport_key k;
	size_t cl;

	if (!secret || len < XPM_SECRET_MIN || len > XPM_SECRET_MAX || !cluster)
		return -EINVAL;
	cl = strlen(cluster);
	if (cl < 1 || cl > 255)
		return -EINVAL;
	/* the label's terminating NUL separates it from the name */
	memcpy(msg, key_label, sizeof(key_label));
	memcpy(msg + sizeof(key_label), cluster, cl);
	xport_key_init(&k, secret, len);
	xport_hmac(&k, msg, sizeof(key_label) + cl, key);
	memset(&k, 0, sizeof(k));
	return 0;
}

int xpmsg_echo_encode(const struct xpm_echo *e, uint8_t buf[XPM_ECHO_LEN])
{
	if ((e->type != XPM_ECHO_REQ && e->type != XPM_ECHO_REPLY) || !e->id)
		return -EINVAL;
	memset(buf, 0, XPM_ECHO_LEN);
	buf[0] = e->type;
	put64(buf + 8, e->id);
	put64(buf + 16, e->stamp);
	return 0;
}

int xpmsg_echo_decode(const void *buf, size_t len, struct xpm_echo *e)
{
	const uint8_t *b = buf;
	int i;

	memset(e, 0, sizeof(*e));
	if (len != XPM_ECHO_LEN || (b[0] != XPM_ECHO_REQ && b[0] != XPM_ECHO_REPLY))
		return SDLM_EPROTO;
	for (i = 1; i < 8; i++)
		if (b[i])
			return SDLM_EPROTO;
	if (!get64(b + 8))
		return SDLM_EPROTO;
	e->type = b[0];
	e->id = get64(b + 8);
	e->stamp = get64(b + 16);
	return 0;
}
