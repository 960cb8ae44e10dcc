/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fpmsg.c - the fast path's P_* messages (fpmsg.h has the layout and
 * the checks).
 */
#include <errno.h>
#include <string.h>

#include "fpmsg.h"
#include "le.h"
#include "modes.h"
#include "sdlm_errors.h"

const char *fpm_type_name(uint8_t type)
{
	switch (type) {
	case FPM_P_REQUEST:	return "P_REQUEST";
	case FPM_P_CONVERT:	return "P_CONVERT";
	case FPM_P_CANCEL:	return "P_CANCEL";
	case FPM_P_RELEASE:	return "P_RELEASE";
	case FPM_P_BAST:	return "P_BAST";
	case FPM_P_GRANT:	return "P_GRANT";
	case FPM_P_FAIL:	return "P_FAIL";
	default:		return "?";
	}
}

int fpm_msg_check(const struct fpm_msg *m)
{
	uint32_t fl = 0;
	bool mode_ok, lvb_ok = false;

	if (m->type < FPM_P_REQUEST || m->type > FPM_P_FAIL)
		return -EINVAL;
	if (!m->namelen || m->namelen > SDLM_NAME_MAX)
		return -EINVAL;
	if (!m->epoch || m->epoch > FPM_EPOCH_MAX || !m->lkid || !(m->lkid >> 32))
		return -EINVAL;
	if ((m->rid == 0) != (m->type == FPM_P_BAST))
		return -EINVAL;
	switch (m->type) {
	case FPM_P_REQUEST:
		fl = LS_LKF_NOQUEUE | LS_LKF_NOQUEUEBAST;
		mode_ok = mode_valid(m->mode);
		break;
	case FPM_P_CONVERT:
		fl = LS_LKF_ALL;
		mode_ok = mode_valid(m->mode);
		lvb_ok = true;
		break;
	case FPM_P_CANCEL:
		mode_ok = m->mode == MODE_NONE;
		break;
	case FPM_P_RELEASE:
		fl = LS_LKF_IVVALBLK;
		mode_ok = m->mode == MODE_NONE;
		lvb_ok = true;
		break;
	case FPM_P_BAST:
		mode_ok = mode_valid(m->mode);
		break;
	case FPM_P_GRANT:
		mode_ok = mode_valid(m->mode);
		lvb_ok = true;
		break;
	default:	/* FPM_P_FAIL */
		mode_ok = m->mode == MODE_NONE || mode_valid(m->mode);
		break;
	}
	if (!mode_ok || (m->flags & ~fl) || (m->lvb_valid && !lvb_ok))
		return -EINVAL;
	if ((m->type == FPM_P_FAIL) ? m->err >= 0 : m->err != 0)
		return -EINVAL;
	if (m->type != FPM_P_GRANT && m->token)
		return -EINVAL;
	return 0;
}

size_t fpm_msg_len(const struct fpm_msg *m)
{
	return FPM_HDR_LEN + (m->lvb_valid ? LS_LVB_LEN : 0) + m->namelen;
}

int fpm_msg_encode(const struct fpm_msg *m, void *buf, size_t len,
		   size_t *written)
{
	uint8_t *b = buf;
	size_t n;

	if (fpm_msg_check(m))
		return -EINVAL;
	n = fpm_msg_len(m);
	if (len < n)
		return -ENOSPC;
	memset(b, 0, FPM_HDR_LEN);
	b[0] = m->type;
	b[1] = m->mode == MODE_NONE ? FPM_MODE_NONE_BYTE : (uint8_t)m->mode;
	b[2] = (uint8_t)ls_lkf_wire(m->flags);
	b[3] = m->lvb_valid ? 1 : 0;
	b[4] = m->namelen;
	put64(b + 8, m->epoch);
	put64(b + 16, m->rid);
	put64(b + 24, m->lkid);
	put32(b + 32, (uint32_t)m->err);
	put64(b + 40, m->token);
	if (m->lvb_valid)
		memcpy(b + FPM_HDR_LEN, m->lvb, LS_LVB_LEN);
	memcpy(b + n - m->namelen, m->name, m->namelen);
	*written = n;
	return 0;
}

int fpm_msg_decode(const void *buf, size_t len, struct fpm_msg *m)
{
	const uint8_t *b = buf;
	size_t lvblen;

	memset(m, 0, sizeof(*m));
	if (len < FPM_HDR_LEN + 1 || len > FPM_MSG_MAX)
		return SDLM_EPROTO;
	if (b[0] < FPM_P_REQUEST || b[0] > FPM_P_FAIL)
		return SDLM_EPROTO;
	if (b[5] || b[6] || b[7] || get32(b + 36))
		return SDLM_EPROTO;
	if (b[3] > 1 || !b[4] || b[4] > SDLM_NAME_MAX)
		return SDLM_EPROTO;
	lvblen = b[3] ? LS_LVB_LEN : 0;
	if (len != FPM_HDR_LEN + lvblen + b[4])
		return SDLM_EPROTO;
	m->type = b[0];
	m->mode = b[1] == FPM_MODE_NONE_BYTE ? MODE_NONE : b[1];
	m->flags = ls_lkf_wire(b[2]);
	m->lvb_valid = b[3];
	m->namelen = b[4];
	m->epoch = get64(b + 8);
	m->rid = get64(b + 16);
	m->lkid = get64(b + 24);
	m->err = (int32_t)get32(b + 32);
	m->token = get64(b + 40);
	if (lvblen)
		memcpy(m->lvb, b + FPM_HDR_LEN, LS_LVB_LEN);
	memcpy(m->name, b + FPM_HDR_LEN + lvblen, m->namelen);
	if (fpm_msg_check(m)) {
		memset(m, 0, sizeof(*m));
		return SDLM_EPROTO;
	}
	return 0;
}
