/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fpmsg.h - the messages of the fast path's masters and requesters
 * (docs/design-fastpath.md 2.2; docs/protocol.md "Fast-path messages"):
 * what fpmaster.h's core sends (FPM_OUT_SEND) and takes (fpm_input), as
 * bytes.  Pure: no I/O, no clock, no globals.
 *
 * The payload of one xport DATA frame (xport.h; the frame's epoch is the
 * message's), little-endian; types from 16 on (xpmsg.h has the echo's 1
 * and 2):
 *
 *	offset  size  field
 *	     0     1  type      FPM_P_REQUEST 16 .. FPM_P_FAIL 22
 *	     1     1  mode      0..5 (modes.h), 0xff: none
 *	     2     1  flags     LS_LKF_* as the type allows, their wire
 *	                        values (lockstate.h ls_lkf_wire)
 *	     3     1  has_lvb   0 or 1: LS_LVB_LEN bytes follow the header
 *	     4     1  namelen   1..SDLM_NAME_MAX
 *	     5     3  reserved  zero
 *	     8     8  epoch     the master epoch, 1..2^32-1
 *	    16     8  rid       request id; 0 only in P_BAST
 *	    24     8  lkid      the requester's lock id (node << 32 | n)
 *	    32     4  err       P_FAIL: a negative sdlm error; else 0
 *	    36     4  reserved  zero
 *	    40     8  token     P_GRANT: the fencing token; else 0
 *	    48    32  lvb       if has_lvb
 *	     …  namelen name
 *
 *	type        mode                flags                  lvb
 *	P_REQUEST   requested           NOQUEUE NOQUEUEBAST    no
 *	P_CONVERT   requested           LS_LKF_ALL             may
 *	P_CANCEL    none                0                      no
 *	P_RELEASE   none                IVVALBLK               may
 *	P_BAST      wanted              0                      no
 *	P_GRANT     granted             0                      may
 *	P_FAIL      left held, or none  0                      no
 *
 * fpm_msg_decode() checks, each SDLM_EPROTO, reading no byte before its
 * length is known to be inside the buffer:
 *	len < FPM_HDR_LEN + 1 or > FPM_MSG_MAX
 *	type outside 16..22
 *	reserved bytes set
 *	has_lvb not 0 or 1, namelen 0 or above SDLM_NAME_MAX, or
 *	  len != FPM_HDR_LEN + has_lvb * LS_LVB_LEN + namelen (a length lie)
 *	epoch 0 or above 2^32-1; lkid 0 or of node 0
 *	rid 0 except in P_BAST, non-zero in P_BAST
 *	mode, flags, value block, err, token not as the table allows
 *	  (err: negative in P_FAIL, 0 elsewhere; token: 0 except in P_GRANT)
 * Whatever decodes encodes again to the same bytes.
 *
 * All functions return 0 or a negative errno / sdlm domain error.
 */
#ifndef SDLM_FPMSG_H
#define SDLM_FPMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lockstate.h"	/* LS_LVB_LEN, LS_LKF_*; SDLM_NAME_MAX */

#define FPM_P_REQUEST		16
#define FPM_P_CONVERT		17
#define FPM_P_CANCEL		18
#define FPM_P_RELEASE		19
#define FPM_P_BAST		20
#define FPM_P_GRANT		21
#define FPM_P_FAIL		22

#define FPM_HDR_LEN		48
#define FPM_MSG_MAX		(FPM_HDR_LEN + LS_LVB_LEN + SDLM_NAME_MAX)
#define FPM_MODE_NONE_BYTE	0xff
#define FPM_EPOCH_MAX		UINT32_MAX

/* The host view of one message. */
struct fpm_msg {
	uint8_t		type;
	int		mode;		/* MODE_NONE or 0..5 */
	uint32_t	flags;
	bool		lvb_valid;
	uint8_t		namelen;
	uint64_t	epoch;
	uint64_t	rid;
	uint64_t	lkid;
	int32_t		err;
	uint64_t	token;
	uint8_t		lvb[LS_LVB_LEN];
	uint8_t		name[SDLM_NAME_MAX];
};

/* Encoded length of m (no check). */
size_t fpm_msg_len(const struct fpm_msg *m);

/* 0 if m may travel; -EINVAL if it fails a check of the list above
 * (those a struct can fail: all but the buffer's length, has_lvb and
 * the reserved bytes).  For a message that does not come from the
 * decoder (fpm_input); the encoder and the decoder apply it too. */
int fpm_msg_check(const struct fpm_msg *m);

/* Into buf (len bytes); -EINVAL: anything the decoder would refuse;
 * -ENOSPC: len too small.  *written gets the length. */
int fpm_msg_encode(const struct fpm_msg *m, void *buf, size_t len,
		   size_t *written);

/* SDLM_EPROTO for each check listed above; on error m is zeroed. */
int fpm_msg_decode(const void *buf, size_t len, struct fpm_msg *m);

const char *fpm_type_name(uint8_t type);

#endif /* SDLM_FPMSG_H */
