#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/model/t-spin-handoff.sh - model-check docs/model/handoff.pml (the
# hand-off through the disk, issue 19; docs/design-handoff.md) with spin.
#   1. safety (S1 one user, S2 no UID twice, S4h drained answer, S5 no use
#      after the answer) of the design, twice, each bitstate and bounded to
#      SDLM_SPIN_MINUTES (default 1) minute: depth-first and breadth-first;
#      no violation allowed;
#   2. liveness (-DLIVE, ltl "live", weak fairness): the waiter is granted;
#      no acceptance cycle allowed - and with BAD_SILENT (V never answers)
#      one MUST be found, so the liveness search is shown able to fail;
#   3. each known-bad variant (BAD_OLD_INCARNATION, BAD_USE_AFTER_ANSWER,
#      BAD_RESUME_ANSWERED, BAD_REJOIN_KEEPS, BAD_REPLAY_BY_RES,
#      BAD_ANSWER_UNDRAINED, DRAFT_MSG_SLOT: docs/model.md "The hand-off
#      model") MUST be caught, each with the search that finds it in
#      seconds; a variant spin finds nothing wrong with is a FAIL.
# Two verifiers at a time (2 cores); prints the state counts.
# Work files in a mktemp dir under /var/tmp, removed at the end.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${SDLM_SRCDIR:-$(cd "$here/../.." && pwd)}
model=$src/docs/model/handoff.pml
mins=${SDLM_SPIN_MINUTES:-1}
passes=0; fails=0
pass() { echo "PASS: $*"; passes=$((passes + 1)); }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

for t in spin gcc; do
	command -v "$t" >/dev/null 2>&1 || { echo "FAIL: $t not installed (apt-get install spin)"; exit 1; }
done
[ -r "$model" ] || { echo "FAIL: $model not found (set SDLM_SRCDIR)"; exit 1; }
work=$(mktemp -d /var/tmp/sdlm-spin-handoff.XXXXXX) || exit 1
trap 'rm -rf "$work"' EXIT

# verify NAME "SPIN_DEFINES" "CC_DEFINES" "PAN_ARGS" MINUTES: result in $work/NAME
verify() {
	local d=$work/$1
	mkdir -p "$d" && cp "$model" "$d/" && cd "$d" || return 1
	# shellcheck disable=SC2086
	spin $2 -a handoff.pml >spin.out 2>&1 || { cat spin.out; return 1; }
	# shellcheck disable=SC2086
	gcc -w -O2 $3 -o pan pan.c >cc.out 2>&1 || { cat cc.out; return 1; }
	# shellcheck disable=SC2086
	nice ./pan -m100000 -w28 -Q"$5" $4 >pan.out 2>&1
	return 0
}
states() { awk '/states, stored/{print $1; exit}' "$work/$1/pan.out"; }
errors() { sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$work/$1/pan.out" | head -1; }
depth() { sed -n 's/.*depth reached \([0-9]*\).*/\1/p' "$work/$1/pan.out" | head -1; }
what() { grep -m1 -E '^pan:1:' "$work/$1/pan.out" | cut -c1-160; }

SAFE_CC="-DSAFETY -DNOFAIR -DBITSTATE"
BFS_CC="$SAFE_CC -DBFS"
LIVE_CC="-DBITSTATE -DNFAIR=3"
safety() {	# NAME: no violation allowed
	local e
	e=$(errors "$1")
	if [ "$e" = 0 ]; then
		pass "$1 S1 S2 S4h S5: no violation in $(states "$1") states, depth $(depth "$1") (bitstate, ${mins} min bound)"
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

# The variants are each found in well under a second on an idle machine;
# their bound (1 minute) only matters when one is no longer caught.
VARIANTS="BAD_OLD_INCARNATION:bfs BAD_USE_AFTER_ANSWER:dfs
	BAD_RESUME_ANSWERED:dfs BAD_REJOIN_KEEPS:bfs BAD_REPLAY_BY_RES:bfs
	BAD_ANSWER_UNDRAINED:dfs DRAFT_MSG_SLOT:bfs"

verify safety-dfs "" "$SAFE_CC" "" "$mins" &
verify safety-bfs "" "$BFS_CC" "" "$mins" &
wait
safety safety-dfs
safety safety-bfs

verify live "-DLIVE" "$LIVE_CC" "-a -f -N live" "$mins" &
(
	verify live-silent "-DLIVE -DBAD_SILENT" "$LIVE_CC" "-a -f -N live" 1
	for vs in $VARIANTS; do
		cc=$SAFE_CC
		[ "${vs#*:}" = bfs ] && cc=$BFS_CC
		verify "${vs%:*}" "-D${vs%:*}" "$cc" "" 1
	done
) &
wait
e=$(errors live)
if [ "$e" = 0 ]; then
	pass "liveness: the waiter is granted: no acceptance cycle in $(states live) states (weak fairness)"
else
	fail "liveness: ${e:-no result}: $(what live)"
	tail -20 "$work/live/pan.out"
fi
e=$(errors live-silent)
if [ -n "$e" ] && [ "$e" != 0 ]; then
	pass "liveness has teeth: BAD_SILENT (V never answers) starves the waiter, found after $(states live-silent) states"
else
	fail "liveness: BAD_SILENT not caught in $(states live-silent) states (the liveness search lost its teeth)"
fi
for vs in $VARIANTS; do
	variant "${vs%:*}"
done
echo "t-spin-handoff: $passes passed, $fails failed"
[ "$fails" = 0 ]
