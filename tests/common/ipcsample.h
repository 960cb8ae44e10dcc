/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ipcsample.h - one valid client request of each kind (sdlm_ipc.h), shared
 * by the unit test of the request decoder and its fuzzer's seed corpus.
 */
#ifndef SDLM_TEST_IPCSAMPLE_H
#define SDLM_TEST_IPCSAMPLE_H

#include <stddef.h>

#include "sdlm_ipc.h"

/* Room for any request. */
union ipc_sample_buf {
	struct sdlm_req_hdr hdr;
	struct req_text text;
	struct req_lock lock;
	struct req_convert convert;
	struct req_unlock unlock;
	struct req_cancel cancel;
	struct req_uid uid;
};

/* 12 text commands, 4 lock commands, the 9 UID ops. */
#define IPC_NSAMPLES	26

/*
 * Write sample `which` (0..IPC_NSAMPLES-1) into *b with a complete header
 * (qb.size = the returned size, seq = 1000 + which, SDLM_F_JSON on the odd
 * ones); *name (if not NULL) gets a file name for it.  Returns its size.
 */
size_t ipc_sample(unsigned which, union ipc_sample_buf *b, const char **name);

/* Fill the header of a request of cmd and size (for hand-made ones). */
void ipc_sample_hdr(struct sdlm_req_hdr *h, int cmd, size_t size, unsigned seq);

#endif
