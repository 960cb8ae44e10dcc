#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t-cpg.sh - the lockspace CPG protocol on real corosync: every replica
# that applies the agreed stream ends in the same state.
#
# Timeline (token 3000 ms; each step waits by polling):
#   create 3 nodes, start corosync, all quorate [1 2 3]
#   cpgprobe on nodes 1, 2, 3 at once (lockspace "det"): each waits for
#       the 3 group members, then sends $COUNT pseudo-random lock events
#       one at a time, applies everything it delivers to its lockstate
#   wait until all three exit and printed "result"
#   check: each delivered 3 * $COUNT messages, none bad, and the three
#       digests and applied/rejected counts are equal - unless a view
#       (the ring re-formed under load) came while messages flowed, at
#       different points of the stream on different nodes: a probe has no
#       sync round, so equality is not claimed for that run and it runs
#       again, at most 3 times (a run with no such view is required)
#   cpgprobe on nodes 1 and 2 only (lockspace "rtt"): round trip = send ->
#       own delivery; p50/p99 printed (INFO), not asserted
#   teardown -> nothing of the run is left
#
# CPGPROBE names the probe binary (default: tests/cluster/cpgprobe next to
# this script, as built by make).  COUNT (default 2000) events per node.
# Exit 0 when every check passed, 1 otherwise.  Root only.

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/cluster/lib.sh
. "$here/lib.sh"
trap cl_teardown EXIT

probe=${CPGPROBE:-$here/cpgprobe}
count=${COUNT:-2000}
failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
info() { echo "INFO: $*"; }

check() {
	local desc=$1
	shift
	if "$@"; then pass "$desc"; else fail "$desc"; return 1; fi
}

require() {
	local desc=$1
	shift
	if "$@"; then
		pass "$desc"
	else
		fail "$desc"
		echo "FAIL: aborting after $failures failure(s)"
		exit 1
	fi
}

# field LINE NAME: the word after NAME in LINE
field() { awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' <<<"$1"; }

# probes_done LS NODE...: every probe of that run has exited
probes_done() {
	local ls=$1 i
	shift
	for i in "$@"; do
		if cl_pid "$i" "probe-$ls" >/dev/null; then return 1; fi
	done
}

[ "$(id -u)" = 0 ] || { echo "FAIL: must run as root"; exit 1; }
require "probe binary $probe" test -x "$probe"

echo "== create and start"
require "create 3 nodes" cl_create 3
info "run $CL_RUN_ID in $CL_DIR"
require "start corosync on every node" cl_start_all
for i in 1 2 3; do
	require "node $i quorate with 3 members" cl_wait_quorate "$i" 60 3
done

# One determinism run under lockspace $1: 0 replicas equal, 1 a check
# failed, 2 void (a view came at different points of the stream on
# different nodes: each probe applies it where it came, with no round to
# reconcile; cpgprobe.c).
det_run() {
	local ls=$1 i log line digests=() hashes=() late=0 rc=0
	for i in 1 2 3; do
		cl_spawn "$i" "probe-$ls" "$probe" --ls "$ls" --nodes 3 --count "$count" \
			--seed 7 --timeout 120 >/dev/null
	done
	check "all probes finished" cl_wait_for "probes finished" 150 probes_done "$ls" 1 2 3 || rc=1
	for i in 1 2 3; do
		log="$CL_DIR/n$i/probe-$ls.log"
		line=$(grep '^result ' "$log")
		if [ -z "$line" ]; then
			fail "node $i printed no result"
			sed 's/^/    /' "$log"
			rc=1
			continue
		fi
		info "$line"
		check "node $i delivered $((3 * count)) messages" \
			test "$(field "$line" delivered)" = $((3 * count)) || rc=1
		check "node $i saw no bad message" test "$(field "$line" bad)" = 0 || rc=1
		digests+=("$(field "$line" digest) $(field "$line" applied) $(field "$line" rejected) $(field "$line" locks)")
		hashes+=("$(field "$line" views_hash)")
		late=$((late + $(field "$line" late_views)))
		rtt=$(grep '^rtt ' "$log") && info "under 3 senders: $rtt"
	done
	[ "$rc" = 0 ] || return 1
	if [ "$late" != 0 ] && { [ "${hashes[0]}" != "${hashes[1]}" ] || [ "${hashes[1]}" != "${hashes[2]}" ]; }; then
		info "views came while messages flowed, at different points on different nodes (views_hash ${hashes[*]}): equality is not claimed for this run"
		grep -h '^view after' "$CL_DIR"/n[123]/probe-"$ls".log 2>/dev/null | sed 's/^/    /'
		return 2
	fi
	if [ "${digests[0]}" = "${digests[1]}" ] && [ "${digests[1]}" = "${digests[2]}" ]; then
		pass "digest, applied, rejected and lock counts equal on 3 nodes (${digests[0]}; $late late views)"
		return 0
	fi
	fail "replicas differ: ${digests[*]} (late views $late, views_hash ${hashes[*]})"
	return 1
}

echo "== determinism: 3 probes, $count events each"
for try in 1 2 3; do
	det_run "det$try"
	r=$?
	[ "$r" = 2 ] || break
done
[ "$r" = 2 ] && fail "3 determinism runs, each with a view at different points of the stream: nothing was shown"

echo "== CPG round trip between two nodes"
for i in 1 2; do
	cl_spawn "$i" probe-rtt "$probe" --ls rtt --nodes 2 --count 2000 \
		--seed 3 --timeout 120 >/dev/null
done
check "rtt probes finished" cl_wait_for "rtt probes finished" 150 probes_done rtt 1 2
for i in 1 2; do
	rtt=$(grep '^rtt ' "$CL_DIR/n$i/probe-rtt.log") &&
		info "2 nodes (ring of 3 corosyncs): $rtt" ||
		fail "node $i printed no rtt"
done

echo "== teardown"
run=$CL_RUN_ID
dir=$CL_DIR
pids=$(cat "$CL_DIR"/n*/*.pid)
check "teardown" cl_teardown
left=$(cl_leftovers "$run" $pids)
if [ -d "$dir" ]; then left="$left${left:+$'\n'}dir $dir"; fi
if [ -z "$left" ]; then
	pass "nothing of run $run is left"
else
	fail "run $run left:"
	printf '%s\n' "$left" | sed 's/^/    /'
fi

if [ "$failures" = 0 ]; then
	echo "PASS: t-cpg ($run)"
	exit 0
fi
echo "FAIL: t-cpg: $failures check(s) failed"
exit 1
