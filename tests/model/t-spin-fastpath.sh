#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/model/t-spin-fastpath.sh - model-check docs/model/fastpath.pml, the
# proposed fast path of docs/design-fastpath.md (masters and epochs,
# point-to-point messages over a lossy network, the partition window),
# with spin:
#   1. safety (S1 one user, EP a node uses only a grant of its own epoch,
#      RB a rebuild finds one holder) of the design, twice, bitstate and
#      bounded to SDLM_SPIN_MINUTES (default 1) minute each: depth-first
#      and breadth-first (memory-bounded); no violation allowed;
#   2. liveness (-DLIVE, ltl "live", weak fairness): once healed, a grant
#      is accepted; no acceptance cycle allowed;
#   3. each known-bad variant (BAD_NO_EPOCH_CHECK, BAD_REMASTER_NOFENCE,
#      BAD_RELEASE_EARLY, BAD_DUP_APPLY, BAD_STALE_ELIGIBLE,
#      BAD_ROUND_ACCEPT, BAD_REBUILD_NOOLD) MUST be caught, each with the search and the
#      bounds that find it in seconds: a variant spin finds nothing wrong
#      with is a FAIL (the model lost its teeth).
# Runs two verifiers at a time (2 cores); prints the state counts.
# The searches and their judges: tests/model/spinlib.sh.
# the breadth-first search keeps its queue in memory: 1 GB at most
SPIN_MODEL=fastpath.pml SPIN_ASSERTS=S1/EP/RB SPIN_MEMLIM=-DMEMLIM=1024
. "$(dirname "${BASH_SOURCE[0]}")/spinlib.sh"

verify safety-dfs "" "$SAFE_CC" "" &
verify live "-DLIVE" "$LIVE_CC" "-a -f -N live" &
wait
safety safety-dfs
liveness live "liveness after heal"

# variant:search:extra spin defines (the smallest bounds that hold its
# counter-example: a search of seconds, not minutes)
VARIANTS="BAD_NO_EPOCH_CHECK:bfs BAD_REMASTER_NOFENCE:bfs:-DCUTS=1,-DFREEZES=0,-DNET=2
	BAD_RELEASE_EARLY:bfs BAD_DUP_APPLY:dfs
	BAD_STALE_ELIGIBLE:bfs:-DCUTS=0,-DNET=2 BAD_ROUND_ACCEPT:bfs
	BAD_REBUILD_NOOLD:bfs:-DCUTS=1,-DFREEZES=0,-DNET=2"
verify safety-bfs "" "$BFS_CC" "" &
variants_verify &
wait
safety safety-bfs
variants_judge
t_tally
[ "$fails" = 0 ]
