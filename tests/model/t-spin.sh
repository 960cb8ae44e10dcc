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
# Work files in a mktemp dir under /var/tmp, removed at the end.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${SDLM_SRCDIR:-$(cd "$here/../.." && pwd)}
model=$src/docs/model/sdlm.pml
mins=${SDLM_SPIN_MINUTES:-1}
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"

for t in spin gcc; do
	command -v "$t" >/dev/null 2>&1 || { echo "FAIL: $t not installed (apt-get install spin)"; exit 1; }
done
work=$(mktemp -d /var/tmp/sdlm-spin.XXXXXX) || exit 1
trap 'rm -rf "$work"' EXIT

# verify NAME "SPIN_DEFINES" "CC_DEFINES" "PAN_ARGS": result in $work/NAME
verify() {
	local d=$work/$1
	mkdir -p "$d" && cp "$model" "$d/" && cd "$d" || return 1
	# shellcheck disable=SC2086
	spin $2 -a sdlm.pml >spin.out 2>&1 || { cat spin.out; return 1; }
	# shellcheck disable=SC2086
	gcc -w -O2 $3 -o pan pan.c >cc.out 2>&1 || { cat cc.out; return 1; }
	# shellcheck disable=SC2086
	./pan -m100000 -w28 -Q"$mins" $4 >pan.out 2>&1
	return 0
}
states() { awk '/states, stored/{print $1; exit}' "$work/$1/pan.out"; }
errors() { sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$work/$1/pan.out" | head -1; }
what() { grep -m1 -E '^pan:1:' "$work/$1/pan.out" | cut -c1-160; }

SAFE_CC="-DSAFETY -DNOFAIR -DBITSTATE"
BFS_CC="$SAFE_CC -DBFS"
depth() { sed -n 's/.*depth reached \([0-9]*\).*/\1/p' "$work/$1/pan.out" | head -1; }
safety() {	# NAME: no violation allowed
	local e
	e=$(errors "$1")
	if [ "$e" = 0 ]; then
		pass "$1 S1-S4: no violation in $(states "$1") states, depth $(depth "$1") (bitstate, ${mins} min bound)"
	else
		fail "$1: ${e:-no result}: $(what "$1")"
		tail -20 "$work/$1/pan.out"
	fi
}
variant() {	# NAME: spin must find a violation
	local e
	e=$(errors "$1")
	if [ -n "$e" ] && [ "$e" != 0 ]; then
		pass "variant $1 caught after $(states "$1") states: $(what "$1")"
	else
		fail "variant $1: spin found no violation in $(states "$1") states (the model no longer catches it)"
	fi
}

verify safety-dfs "" "$SAFE_CC" "" &
verify live "-DLIVE" "-DBITSTATE -DNFAIR=3" "-a -f -N live" &
wait
safety safety-dfs
e=$(errors live)
if [ "$e" = 0 ]; then
	pass "liveness after heal: no acceptance cycle in $(states live) states (weak fairness)"
else
	fail "liveness: ${e:-no result}: $(what live)"
	tail -20 "$work/live/pan.out"
fi

# variant:search - the search that finds it in seconds, not minutes
VARIANTS="BAD_ACK_EARLY:bfs BAD_LATEST:dfs BAD_FORGET_TIMEOUT:dfs
	BAD_ACK_UIDCTX:dfs BAD_STALE_PILL:dfs BAD_KEEP_REPLICA:bfs
	BAD_LOSER_KEEPS:bfs BAD_ROUND_GRANTS:bfs AS_IS_NOPILL:dfs
	AS_IS_REVOKE:bfs AS_IS_COLDDEAD:bfs AS_IS_ADOPTOPEN:bfs
	AS_IS_FORGET:bfs BAD_REBUILD_NOFENCE:bfs BAD_REBUILD_REVOKING:bfs
	BAD_REBUILD_STALE:bfs BAD_REBUILD_CONFLICT:bfs"
verify safety-bfs "" "$BFS_CC" "" &
(
	for vs in $VARIANTS; do
		cc=$SAFE_CC
		[ "${vs#*:}" = bfs ] && cc=$BFS_CC
		verify "${vs%:*}" "-D${vs%:*}" "$cc" ""
	done
) &
wait
safety safety-bfs
for vs in $VARIANTS; do
	variant "${vs%:*}"
done
t_tally
[ "$fails" = 0 ]
