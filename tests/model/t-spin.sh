#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/model/t-spin.sh - model-check docs/model/sdlm.pml with spin.
#   1. safety (assertions S1..S4) of the design, twice, each bitstate and
#      bounded to SDLM_SPIN_MINUTES (default 1) minute: a depth-first
#      search (reaches long runs) and a breadth-first one (every short run
#      up to the depth it reaches: the depth-first one alone missed a
#      violation 22 steps deep, docs/model.md finding 3); no violation
#      allowed;
#   2. liveness (-DLIVE, ltl "live", weak fairness): no acceptance cycle;
#   3. each known-bad variant (BAD_ACK_EARLY, BAD_LATEST,
#      BAD_FORGET_TIMEOUT, BAD_ACK_UIDCTX, BAD_STALE_PILL,
#      BAD_KEEP_REPLICA, BAD_LOSER_KEEPS, BAD_ROUND_GRANTS; the rebuilt
#      fresh replica's BAD_REBUILD_NOFENCE, BAD_REBUILD_REVOKING,
#      BAD_REBUILD_STALE, BAD_REBUILD_CONFLICT) and each
#      behaviour of today's code the model shows unsafe (AS_IS_NOPILL,
#      AS_IS_REVOKE, AS_IS_COLDDEAD, AS_IS_ADOPTOPEN, AS_IS_FORGET; docs/model.md
#      "Findings") MUST be caught, each with the search that finds it
#      in seconds (breadth-first: the shortest counter-example; or
#      depth-first): a variant spin finds nothing wrong with is a FAIL
#      (the model lost its teeth).
# Runs two verifiers at a time (2 cores); prints the state counts.
# The searches and their judges: tests/model/spinlib.sh.
SPIN_MODEL=sdlm.pml SPIN_ASSERTS=S1-S4
. "$(dirname "${BASH_SOURCE[0]}")/spinlib.sh"

verify safety-dfs "" "$SAFE_CC" "" &
verify live "-DLIVE" "$LIVE_CC" "-a -f -N live" &
wait
safety safety-dfs
liveness live "liveness after heal"

# variant:search[:defines] - the search that finds it in seconds, not
# minutes; the six that took 0.5 to 3.4 million states at the model's
# bounds are searched at smaller ones that still hold their
# counter-example (a fifth to a half of the states)
VARIANTS="BAD_ACK_EARLY:bfs BAD_LATEST:dfs:-DUMAX=4 BAD_FORGET_TIMEOUT:dfs
	BAD_ACK_UIDCTX:dfs:-DUMAX=4 BAD_STALE_PILL:dfs:-DUMAX=4 BAD_KEEP_REPLICA:bfs
	BAD_LOSER_KEEPS:bfs BAD_ROUND_GRANTS:bfs AS_IS_NOPILL:dfs:-DUMAX=4
	AS_IS_REVOKE:bfs AS_IS_COLDDEAD:bfs:-DCUTS=1 AS_IS_ADOPTOPEN:bfs
	AS_IS_FORGET:bfs BAD_REBUILD_NOFENCE:bfs BAD_REBUILD_REVOKING:bfs
	BAD_REBUILD_STALE:bfs BAD_REBUILD_CONFLICT:bfs:-DFREEZES=0"
verify safety-bfs "" "$BFS_CC" "" &
variants_verify &
wait
safety safety-bfs
variants_judge
t_tally
[ "$fails" = 0 ]
