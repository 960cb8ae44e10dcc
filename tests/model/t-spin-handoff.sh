#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/model/t-spin-handoff.sh - model-check docs/model/handoff.pml (the
# hand-off through the disk, issue 19; docs/design-handoff.md) with spin.
#   1. safety (S1 one user, S2 no UID twice, S4h drained answer, S5 no use
#      after the answer, S7 no stale value block marked valid) of the
#      design, twice, each bitstate and bounded to
#      SDLM_SPIN_MINUTES (default 1) minute: depth-first and breadth-first;
#      no violation allowed;
#   2. liveness (-DLIVE, ltl "live", weak fairness): the waiter is granted;
#      no acceptance cycle allowed - and with BAD_SILENT (V never answers)
#      one MUST be found, so the liveness search is shown able to fail,
#      and with BAD_WHOLE_READ (one slot that never decodes stops V
#      reading any: review RH4); and, V away for good (no membership
#      change, no clean stop, no write in flight, UIDs 1..2: a search
#      that ends, about 75,000 states), a down-conversion lost in the cut
#      (80b0a4b) is handed off - with BAD_IGNORE_DOWNCONV (the code
#      before 80b0a4b: V's read ignores it) the waiter MUST starve;
#   3. each known-bad variant (BAD_OLD_INCARNATION, BAD_USE_AFTER_ANSWER,
#      BAD_RESUME_ANSWERED, BAD_REJOIN_KEEPS, BAD_REPLAY_BY_RES,
#      BAD_ANSWER_UNDRAINED, BAD_APPLY_UNCHECKED, DRAFT_MSG_SLOT, and V1's
#      "gone" answer: BAD_GONE_CONVERTING, BAD_GONE_DOWNCONV, BAD_GONE_LVB,
#      BAD_GONE_KEEPLVB, BAD_GONE_STOPPING: docs/model.md "The hand-off
#      model") MUST be
#      caught, each with the search that finds it in seconds; a variant
#      spin finds nothing wrong with is a FAIL.
# Two verifiers at a time (2 cores); prints the state counts.
# The searches and their judges: tests/model/spinlib.sh.
SPIN_MODEL=handoff.pml SPIN_ASSERTS="S1 S2 S4h S5 S7"
. "$(dirname "${BASH_SOURCE[0]}")/spinlib.sh"

# The variants are each found in seconds on an idle machine; their bound
# (SDLM_SPIN_VARIANT_MINUTES, spinlib.sh) only matters when one is no
# longer caught.  Those that have nothing to do with V1's "gone" answer
# are searched without its steps (no lost release, conversion - up or
# down - or clean stop of V: LOSTS, CONVS, DCONVS, STOPS = 0), at the
# cost they had before it; the five "gone" ones with only the steps their
# counter-example needs (BAD_GONE_KEEPLVB: one lost release, one
# membership change, no write in flight, UIDs 1..2), about 0.8 million
# states in all.
NOGONE=-DLOSTS=0,-DCONVS=0,-DDCONVS=0,-DSTOPS=0
VARIANTS="BAD_OLD_INCARNATION:bfs:$NOGONE BAD_USE_AFTER_ANSWER:dfs:$NOGONE
	BAD_RESUME_ANSWERED:dfs:$NOGONE BAD_REJOIN_KEEPS:bfs:$NOGONE
	BAD_REPLAY_BY_RES:bfs:$NOGONE BAD_ANSWER_UNDRAINED:dfs:$NOGONE
	BAD_APPLY_UNCHECKED:bfs:$NOGONE DRAFT_MSG_SLOT:bfs:$NOGONE
	BAD_GONE_CONVERTING:bfs:-DLOSTS=0,-DDCONVS=0,-DSTOPS=0
	BAD_GONE_DOWNCONV:bfs:-DLOSTS=0,-DCONVS=0,-DSTOPS=0
	BAD_GONE_LVB:bfs:-DLOSTS=1,-DCONVS=0,-DDCONVS=0,-DSTOPS=0
	BAD_GONE_KEEPLVB:bfs:-DLOSTS=1,-DCONVS=0,-DDCONVS=0,-DSTOPS=0,-DCUTS=1,-DFLY=0,-DUMAX=3
	BAD_GONE_STOPPING:bfs:-DLOSTS=0,-DCONVS=0,-DDCONVS=0"
# V away for good: the down-conversion's liveness search ends (pan at -O0:
# it is the compile that costs)
AWAY="-DLIVE -DCUTS=0 -DSTOPS=0 -DFLY=0 -DUMAX=3"

verify safety-dfs "" "$SAFE_CC" "" &
verify safety-bfs "" "$BFS_CC" "" &
wait
safety safety-dfs
safety safety-bfs

verify live "-DLIVE" "$LIVE_CC" "-a -f -N live" &
(
	verify live-silent "-DLIVE -DBAD_SILENT" "$LIVE_CC" "-a -f -N live" 1
	verify live-wholeread "-DLIVE -DBAD_WHOLE_READ" "$LIVE_CC" "-a -f -N live" 1
	verify live-downconv "$AWAY" "$LIVE_CC -O0" "-a -f -N live" 1
	verify live-ignoredown "$AWAY -DBAD_IGNORE_DOWNCONV" "$LIVE_CC -O0" "-a -f -N live" 1
	variants_verify
) &
wait
liveness live "liveness: the waiter is granted"
teeth live-silent "BAD_SILENT (V never answers) starves the waiter"
teeth live-wholeread "BAD_WHOLE_READ (a slot that never decodes stops V reading every other) starves the waiter"
liveness live-downconv "liveness, V away for good: a down-converting grant is handed off"
teeth live-ignoredown "BAD_IGNORE_DOWNCONV (V's read ignores a down-converting grant: before 80b0a4b) starves the waiter"
variants_judge
t_tally
[ "$fails" = 0 ]
