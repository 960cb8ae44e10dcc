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
# Work files in a mktemp dir under /var/tmp, removed at the end.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${SDLM_SRCDIR:-$(cd "$here/../.." && pwd)}
model=$src/docs/model/fastpath.pml
mins=${SDLM_SPIN_MINUTES:-1}
passes=0; fails=0
pass() { echo "PASS: $*"; passes=$((passes + 1)); }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

for t in spin gcc; do
	command -v "$t" >/dev/null 2>&1 || { echo "FAIL: $t not installed (apt-get install spin)"; exit 1; }
done
work=$(mktemp -d /var/tmp/sdlm-spinfp.XXXXXX) || exit 1
trap 'rm -rf "$work"' EXIT

# verify NAME "SPIN_DEFINES" "CC_DEFINES" "PAN_ARGS": result in $work/NAME
verify() {
	local d=$work/$1
	mkdir -p "$d" && cp "$model" "$d/" && cd "$d" || return 1
	# shellcheck disable=SC2086
	spin $2 -a fastpath.pml >spin.out 2>&1 || { cat spin.out; return 1; }
	# shellcheck disable=SC2086
	gcc -w -O2 $3 -o pan pan.c >cc.out 2>&1 || { cat cc.out; return 1; }
	# shellcheck disable=SC2086
	nice ./pan -m100000 -w28 -Q"$mins" $4 >pan.out 2>&1
	return 0
}
states() { awk '/states, stored/{print $1; exit}' "$work/$1/pan.out"; }
errors() { sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$work/$1/pan.out" | head -1; }
depth() { sed -n 's/.*depth reached \([0-9]*\).*/\1/p' "$work/$1/pan.out" | head -1; }
secs() { sed -n 's/^pan: elapsed time \([0-9.]*\).*/\1/p' "$work/$1/pan.out" | head -1; }
what() { grep -m1 -E '^pan:1:' "$work/$1/pan.out" | cut -c1-100; }

# the breadth-first search keeps its queue in memory: 1 GB at most
SAFE_CC="-DSAFETY -DNOFAIR -DBITSTATE -DMEMLIM=1024"
BFS_CC="$SAFE_CC -DBFS"
safety() {	# NAME: no violation allowed
	local e
	e=$(errors "$1")
	if [ "$e" = 0 ]; then
		pass "$1 S1/EP/RB: no violation in $(states "$1") states, depth $(depth "$1") (bitstate, ${mins} min bound)"
	else
		fail "$1: ${e:-no result}: $(what "$1")"
		tail -20 "$work/$1/pan.out"
	fi
}
variant() {	# NAME: spin must find a violation
	local e
	e=$(errors "$1")
	if [ -n "$e" ] && [ "$e" != 0 ]; then
		pass "variant $1 caught after $(states "$1") states, depth $(depth "$1"), $(secs "$1") s: $(what "$1")"
	else
		fail "variant $1: spin found no violation in $(states "$1") states (the model no longer catches it)"
	fi
}

verify safety-dfs "" "$SAFE_CC" "" &
verify live "-DLIVE" "-DBITSTATE -DNFAIR=3 -DMEMLIM=1024" "-a -f -N live" &
wait
safety safety-dfs
e=$(errors live)
if [ "$e" = 0 ]; then
	pass "liveness after heal: no acceptance cycle in $(states live) states (weak fairness)"
else
	fail "liveness: ${e:-no result}: $(what live)"
	tail -20 "$work/live/pan.out"
fi

# variant:search:extra spin defines (the smallest bounds that hold its
# counter-example: a search of seconds, not minutes)
VARIANTS="BAD_NO_EPOCH_CHECK:bfs: BAD_REMASTER_NOFENCE:bfs:-DCUTS=1,-DFREEZES=0,-DNET=2
	BAD_RELEASE_EARLY:bfs: BAD_DUP_APPLY:dfs:
	BAD_STALE_ELIGIBLE:bfs:-DCUTS=0,-DNET=2 BAD_ROUND_ACCEPT:bfs:
	BAD_REBUILD_NOOLD:bfs:-DCUTS=1,-DFREEZES=0,-DNET=2"
verify safety-bfs "" "$BFS_CC" "" &
(
	for vs in $VARIANTS; do
		name=${vs%%:*}; rest=${vs#*:}; how=${rest%%:*}; extra=${rest#*:}
		cc=$SAFE_CC
		[ "$how" = bfs ] && cc=$BFS_CC
		verify "$name" "-D$name ${extra//,/ }" "$cc" ""
	done
) &
wait
safety safety-bfs
for vs in $VARIANTS; do
	variant "${vs%%:*}"
done
echo "t-spin-fastpath: $passes passed, $fails failed"
[ "$fails" = 0 ]
