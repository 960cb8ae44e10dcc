/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rebuild.c - what a dirty member of a fresh replica does next; see
 * rebuild.h.
 */
#include "rebuild.h"

enum rb_action rb_next(const struct rb_view *v)
{
	if (!v->ready || !v->dirty || v->clean_sent)
		return RB_NONE;
	if (v->to_report && !v->reported) {
		/* finding 7: users being killed may still write; and a node
		 * that may not use its locks reports none of them */
		if (v->stopping || v->may_use != 0)
			return RB_NONE;
		return RB_REPORT;
	}
	/* CLEAN ends the report: only once every report came back */
	if (v->reported && v->seen < v->sent)
		return RB_NONE;
	if (v->refused && !v->revoked)
		return RB_REVOKE;
	if (v->stopping || v->cache_missing)
		return RB_NONE;
	return RB_CLEAN;
}

bool rb_reports_pending(bool reported, uint64_t sent_formed, uint64_t formed,
			uint64_t sent_hold, uint64_t hold, size_t sent, size_t seen)
{
	return reported && sent_formed == formed && sent_hold == hold && seen < sent;
}

const char *rb_action_name(enum rb_action a)
{
	switch (a) {
	case RB_NONE:	return "none";
	case RB_REPORT:	return "report";
	case RB_REVOKE:	return "revoke";
	case RB_CLEAN:	return "clean";
	}
	return "?";
}
