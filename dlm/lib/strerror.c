/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * strerror.c - text for errno values and sdlm's domain errors.
 */
#include "config.h"

#include <string.h>

#include "sdlm.h"

static const char *const domain_text[] = {
	[-(SDLM_EMAGIC) - 1001]		= "not an sdlm record (bad magic)",
	[-(SDLM_EVERSION) - 1001]	= "unsupported format or protocol version",
	[-(SDLM_ECHECKSUM) - 1001]	= "checksum mismatch",
	[-(SDLM_EIDENTITY) - 1001]	= "record belongs to another cluster or node",
	[-(SDLM_EIOTIMEOUT) - 1001]	= "I/O timed out",
	[-(SDLM_ESHORTIO) - 1001]	= "short I/O",
	[-(SDLM_ENOTINIT) - 1001]	= "device holds no sdlm area",
	[-(SDLM_ETIMEOUTS) - 1001]	= "inconsistent timeouts",
	[-(SDLM_ENOTSAFE) - 1001]	= "this node is not fenced-safe",
	[-(SDLM_EFENCED) - 1001]	= "this node was fenced",
	[-(SDLM_EDUPWRITER) - 1001]	= "another incarnation writes this node's slot",
	[-(SDLM_ENOQUORUM) - 1001]	= "not in a quorate membership",
	[-(SDLM_ELEASE) - 1001]		= "own disk lease expired",
	[-(SDLM_EPILL) - 1001]		= "a poison pill was received",
	[-(SDLM_EEPOCH) - 1001]		= "stale fencing token (epoch)",
	[-(SDLM_EPROTO) - 1001]		= "malformed message",
	[-(SDLM_EBUSY) - 1001]		= "resource busy (not grantable without waiting)",
	[-(SDLM_ECANCELED) - 1001]	= "request cancelled",
	[-(SDLM_EDAEMON) - 1001]	= "cannot reach sdlmd",
	[-(SDLM_EUIDWRAP) - 1001]	= "UID space of the mailbox exhausted (bump UIDVALIDITY)",
	[-(SDLM_EUIDFULL) - 1001]	= "UID table full: no free slot for a new mailbox; grow it online with 'sdlmctl uid grow' (docs/uid.md)",
	[-(SDLM_EQUORATE) - 1001]	= "the cluster is quorate: normal rules apply, no degraded mode",
	[-(SDLM_EPEERLIVE) - 1001]	= "another node's heartbeat is visible on this disk",
	[-(SDLM_EDEGRADED) - 1001]	= "degraded mode suspended (an operator must look)",
	[-(SDLM_ERESERVED) - 1001]	= "resource name is reserved for sdlmd's own use (uid:*, uid-table, uid-table.*, sdlm:*)",
	[-(SDLM_ELIMIT) - 1001]		= "per-client limit reached (max_locks_per_client, max_requests_per_client or max_connections_per_user): release locks, wait for answers or close connections",
	[-(SDLM_ESLOW) - 1001]		= "sdlmd has the request queued but gave no answer within the UID timeout (the cluster is slow: retry later)",
	[-(SDLM_EOTHERLS) - 1001]	= "the mailbox's GUID belongs to a mailbox of another lockspace: a GUID names one mailbox in one lockspace (docs/uid.md, \"One GUID, one lockspace\")",
	[-(SDLM_EHANDEDOFF) - 1001]	= "the lock was handed off to another node through the shared disk while this node was cut off the cluster network (docs/design-handoff.md): request it again once the node is back in the cluster",
	[-(SDLM_EEXPIRED) - 1001]	= "UID allocation expired: not committed within uid_alloc_lease_s, its UIDs are a gap (allocate again)",
};

const char *sdlm_strerror(int err)
{
	if (err == 0)
		return "success";
	if (err <= SDLM_EMAGIC && err > SDLM_ELAST) {
		const char *t = domain_text[-err - 1001];
		return t ? t : "unknown sdlm error";
	}
	if (err < 0 && err > -4096)
		return strerror(-err);
	return "unknown error";
}
