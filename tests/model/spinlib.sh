# SPDX-License-Identifier: GPL-2.0-or-later
# tests/model/spinlib.sh - what the model checks (t-spin*.sh) share:
# sourced after setting
#   SPIN_MODEL   the model's file name in docs/model (e.g. sdlm.pml)
#   SPIN_ASSERTS what its safety search checks, for the messages ("S1-S4")
# and then offers
#   verify NAME "SPIN_DEFINES" "CC_DEFINES" "PAN_ARGS" [MINUTES]
#       generate, compile and run one search in $spin_work/NAME, bitstate
#       and bounded to MINUTES (default $spin_mins = SDLM_SPIN_MINUTES,
#       default 1): a busy machine searches fewer states, never longer
#   safety NAME          pass if the search found no violation
#   liveness NAME DESC   pass if the liveness search found no acceptance cycle
#   teeth NAME DESC      pass if it DID find one (the search can fail)
#   variants_verify      run each of $VARIANTS ("NAME:SEARCH[:DEFINES]",
#                        SEARCH dfs or bfs, DEFINES comma-separated spin
#                        defines: the bounds that hold its counter-example)
#                        one after the other, each bounded by
#                        SDLM_SPIN_VARIANT_MINUTES (default 10): a caught
#                        variant ends at its counter-example, so the bound
#                        costs nothing while the model has its teeth; it
#                        is long because pan's bound is wall-clock time and
#                        a loaded machine gives a niced pan a tenth of a
#                        core (AS_IS_COLDDEAD at the model's bounds needed
#                        3.4 million states: 9 s at load 6, not found in 1
#                        minute at load 20);
#                        compiled -O0: each is found in seconds, and the
#                        compile is what costs (pan.c at -O2: 7 s of CPU,
#                        at -O0: 1 s; 31 variants in the three models)
#   variants_judge       pass each variant spin caught, fail the others
#                        (a variant found harmless: the model lost its teeth)
#   SAFE_CC, BFS_CC, LIVE_CC   the compile flags of the three searches
# The work directory is a mktemp dir under /var/tmp, removed at exit.
set -u
spin_src=${SDLM_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
spin_model=$spin_src/docs/model/$SPIN_MODEL
spin_mins=${SDLM_SPIN_MINUTES:-1}
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"

for t in spin gcc; do
	command -v "$t" >/dev/null 2>&1 || { echo "FAIL: $t not installed (apt-get install spin)"; exit 1; }
done
[ -r "$spin_model" ] || { echo "FAIL: $spin_model not found (set SDLM_SRCDIR)"; exit 1; }
spin_work=$(mktemp -d "/var/tmp/sdlm-spin-${SPIN_MODEL%.pml}.XXXXXX") || exit 1
trap 'rm -rf "$spin_work"' EXIT

# SPIN_MEMLIM (optional, e.g. -DMEMLIM=1024): a bound on pan's memory,
# for a model whose breadth-first queue would otherwise grow past 1 GB
SAFE_CC="-DSAFETY -DNOFAIR -DBITSTATE ${SPIN_MEMLIM:-}"
BFS_CC="$SAFE_CC -DBFS"
LIVE_CC="-DBITSTATE -DNFAIR=3 ${SPIN_MEMLIM:-}"

verify() {
	local d=$spin_work/$1
	mkdir -p "$d" && cp "$spin_model" "$d/" && cd "$d" || return 1
	# shellcheck disable=SC2086
	spin $2 -a "$SPIN_MODEL" >spin.out 2>&1 || { cat spin.out; return 1; }
	# shellcheck disable=SC2086
	gcc -w -O2 $3 -o pan pan.c >cc.out 2>&1 || { cat cc.out; return 1; }
	# shellcheck disable=SC2086
	nice ./pan -m100000 -w28 -Q"${5:-$spin_mins}" $4 >pan.out 2>&1
	return 0
}
states() { awk '/states, stored/{print $1; exit}' "$spin_work/$1/pan.out"; }
errors() { sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$spin_work/$1/pan.out" | head -1; }
depth() { sed -n 's/.*depth reached \([0-9]*\).*/\1/p' "$spin_work/$1/pan.out" | head -1; }
secs() { sed -n 's/^pan: elapsed time \([0-9.]*\).*/\1/p' "$spin_work/$1/pan.out" | head -1; }
what() { grep -m1 -E '^pan:1:' "$spin_work/$1/pan.out" | cut -c1-160; }
caught() { local e; e=$(errors "$1"); [ -n "$e" ] && [ "$e" != 0 ]; }

safety() {
	local e
	e=$(errors "$1")
	if [ "$e" = 0 ]; then
		pass "$1 $SPIN_ASSERTS: no violation in $(states "$1") states, depth $(depth "$1") (bitstate, ${spin_mins} min bound)"
	else
		fail "$1: ${e:-no result}: $(what "$1")"
		tail -20 "$spin_work/$1/pan.out"
	fi
}
liveness() {
	local e
	e=$(errors "$1")
	if [ "$e" = 0 ]; then
		pass "$2: no acceptance cycle in $(states "$1") states (weak fairness)"
	else
		fail "liveness: ${e:-no result}: $(what "$1")"
		tail -20 "$spin_work/$1/pan.out"
	fi
}
teeth() {
	if caught "$1"; then
		pass "liveness has teeth: $2, found after $(states "$1") states"
	else
		fail "liveness: $1 not caught in $(states "$1") states (the liveness search lost its teeth)"
	fi
}
variants_verify() {
	local vs name rest how extra cc
	for vs in $VARIANTS; do
		name=${vs%%:*}; rest=${vs#*:}; how=${rest%%:*}; extra=
		[ "$rest" != "$how" ] && extra=${rest#*:}
		cc=$SAFE_CC
		[ "$how" = bfs ] && cc=$BFS_CC
		verify "$name" "-D$name ${extra//,/ }" "$cc -O0" "" "${SDLM_SPIN_VARIANT_MINUTES:-10}"
	done
}
variants_judge() {
	local vs
	for vs in $VARIANTS; do
		vs=${vs%%:*}
		if caught "$vs"; then
			pass "variant $vs caught after $(states "$vs") states, depth $(depth "$vs"), $(secs "$vs") s: $(what "$vs")"
		else
			fail "variant $vs: spin found no violation in $(states "$vs") states (the model no longer catches it)"
		fi
	done
}
