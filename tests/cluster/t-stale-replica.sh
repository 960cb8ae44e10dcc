#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A stale replica rejoins (issue 12): a node that was frozen out of the
# ring must not come back with its old replica of a lockspace, nor may a
# fenced incarnation ever be a member again.  Three variants, each on its
# own 3-node cluster (real corosync, shared disk, test profile):
#
#   outside   token 1000 ms.  Node 1, the only member of lockspace t,
#             allocates UIDs in mailbox M in a loop.  Every process of
#             node 1 is frozen, its test watchdog outside; node 2 asks for
#             M while node 1 is out of the ring (it forms a fresh replica
#             of t); node 1 is thawed before W (its watchdog stays quiet);
#             node 3 asks for M; node 1 is power-cut (node and watchdog
#             killed) and fenced.  Then nodes 2 and 3 share M.
#   vm        the same with token 3000 ms (the shipped profile) and node 1
#             paused together with its watchdog (a VM pause; sdlm.sh's
#             sd_vm_pause explains how the watchdog's paused timer is
#             modelled), for as long as it takes node 2 to form its
#             replica, always below the dead bound.
#   fenced    token 3000 ms, all three nodes in t, node 1 (the fencer)
#             holds M cached.  Node 1 paused with its watchdog until the
#             others see its heartbeat dead; then node 2 asks for M and
#             node 1 is fenced at once ("dead by heartbeat timeout"); node
#             2 allocates; node 1 is thawed, with a client that asks for M.
#             That incarnation must never be a member again: no node's
#             round names it fencer, no node takes state from it, it takes
#             no replica itself once it knows it was fenced (every member
#             computes the same ready set), and it hands out no UID.
#
# Every wait is a condition with a deadline derived from the timeouts in
# the disk header (I, W, the dead bound D) and corosync's token and
# consensus (M = token + 1.2 token).  Judged at the end of each variant:
#   - the UID and counter history (tests/nemesis/checker.py: no UID twice,
#     UIDs ascend in real time - no UID handed out below one already handed
#     out - and no two EX holders of the counter at once);
#   - the replica digests at equal rounds (tests/nemesis/digests.py);
#   - the takeovers of M in the sdlmd logs: no node takes M over while
#     another holds it (tests/cluster/stalecheck.py takeovers);
#   - fenced: stalecheck.py fenced-member.
#
#   t-stale-replica.sh [outside] [vm] [fenced]     (default: all three)
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SDLM_BUILDDIR:=$(cd "$here/../.." && pwd)/_build}"
: "${LOCKCLIENT:=$SDLM_BUILDDIR/tests/nemesis/lockclient}"
export LOCKCLIENT SDLM_BUILDDIR

# --- the driver: one child per variant, each with its own cluster ------------
if [ -z "${T_STALE_VARIANT:-}" ]; then
	variants=${*:-outside vm fenced}
	python3 "$here/stalecheck.py" --selftest || exit 1
	rc=0
	for v in $variants; do
		case "$v" in outside | vm | fenced) ;; *)
			echo "t-stale-replica: unknown variant '$v' (outside, vm, fenced)" >&2; exit 64 ;;
		esac
		echo "==== variant $v"
		T_STALE_VARIANT=$v bash "$0" || rc=1
	done
	exit "$rc"
fi

V=$T_STALE_VARIANT
case "$V" in outside) CL_TOKEN=1000 ;; *) CL_TOKEN=3000 ;; esac
FENCED=0; [ "$V" = fenced ] && FENCED=1
export CL_TOKEN
# Debug level: "uid M: given up" (the end of a holding) is a debug line,
# and the report wants to see what corosync delivers to the thawed node.
export SD_EXTRA_OPTS="--log-level=debug"
. "$here/lib.sh"
. "$here/sdlm.sh"
trap sd_teardown EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
pass() { echo "PASS: [$V] $*"; passes=$((passes + 1)); }
fail() { echo "FAIL: [$V] $*"; fails=$((fails + 1)); }
finish() { echo "t-stale-replica [$V]: $passes passed, $fails failed"; [ "$fails" = 0 ]; exit; }
require() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; judge; finish; fi; }
[ -x "$LOCKCLIENT" ] || { fail "no lockclient at $LOCKCLIENT (make check builds it)"; exit 1; }

sd_up 3
sd_timeouts
M_MS=$((CL_TOKEN + CL_TOKEN * 12 / 10))		# corosync: token + consensus
# The membership re-forms and a round of t completes within a few
# token + consensus cycles; 10 s for a busy 2-core machine.
REFORM_S=$(( (4 * M_MS + 4 * I) / 1000 + 10 ))
# A node that stopped is fenced by the dead path within D + M (+ a beat).
FENCE_S=$(( (DEAD + M_MS + 2 * I) / 1000 + 10 ))
LOCK_TIMEOUT_MS=$((2 * M_MS))
echo "timeouts: I=$I W=$W D=$DEAD ms, token $CL_TOKEN ms, M=$M_MS ms; bounds: re-form $REFORM_S s, fence $FENCE_S s"

H=$CL_DIR/history CTR=$CL_DIR/counter STOP=$CL_DIR/stop
: >"$H"
"$LOCKCLIENT" counter-init "$CTR" || { fail "counter file"; exit 1; }
log() { echo "$CL_DIR/n$1/sdlmd-file.log"; }
mark() { wc -l <"$(log "$1")"; }
# since I MARK ERE: node I's log has a line matching ERE after line MARK
since() { tail -n +$(($2 + 1)) "$(log "$1")" | grep -qE "$3"; }
now_ns() { "$LOCKCLIENT" now; }
# got LABEL T0: UIDs LABEL received after T0 (CLOCK_MONOTONIC ns)
got() { awk -v l="$1" -v t="$2" '$1 == "got" && $2 == l && $7 > t' "$H" | wc -l; }
proc_gone() { ! cl_pid "$1" "$2" >/dev/null; }
node_dead_on() { sd_ctl "$1" --json nodes 2>/dev/null | python3 -c '
import json, sys
sys.exit(0 if any(n.get("node") == int(sys.argv[1]) and n.get("liveness") == "dead"
                  for n in json.load(sys.stdin)["nodes"]) else 1)' "$2"; }
proc_alive() { cl_pid "$1" "$2" >/dev/null; }
got_at_least() { [ "$(got "$1" "$2")" -ge "$3" ]; }
client() {	# node label [lockclient options]
	local i=$1 l=$2
	shift 2
	cl_spawn "$i" "lc-$l" "$LOCKCLIENT" run "$i" "$l" "$H" "$CTR" -l t -m M -r counter \
		-H 10 -t "$LOCK_TIMEOUT_MS" -s "$STOP" "$@" >/dev/null
}
# until_cs DEADLINE_CS DESC CMD...: poll CMD until it succeeds or the
# deadline (centiseconds of _cl_now_cs) passes.
until_cs() {
	local dl=$1 desc=$2
	shift 2
	while ! "$@" >/dev/null 2>&1; do
		if [ "$(_cl_now_cs)" -ge "$dl" ]; then
			echo "timed out waiting for: $desc"
			return 1
		fi
		sleep 0.1
	done
}
secs_since() { local d=$(( $(_cl_now_cs) - $1 )); echo "$((d / 100)).$(printf %02d $((d % 100)))"; }

judged=0 m1=0
judge() {
	local f i
	[ "$judged" = 1 ] && return
	judged=1
	touch "$STOP"
	clients_gone() {
		local f n
		for f in "$CL_DIR"/n*/lc-*.pid; do
			[ -f "$f" ] || continue
			n=${f%/*}; n=${n##*/n}
			cl_pid "$n" "$(basename "$f" .pid)" >/dev/null && return 1
		done
		return 0
	}
	cl_wait_for "clients stop" $((LOCK_TIMEOUT_MS / 1000 + 5)) clients_gone >/dev/null 2>&1
	for f in "$CL_DIR"/n*/lc-*.pid; do
		[ -f "$f" ] || continue
		i=${f%/*}; i=${i##*/n}
		cl_kill "$i" "$(basename "$f" .pid)"
	done
	echo "---- history ($(grep -c '^got' "$H") UIDs, $(grep -c '^enter' "$H") counter sections)"
	if python3 "$here/../nemesis/checker.py" "$H" "--counter=$CTR"; then
		pass "history: no UID twice, UIDs ascend in real time, one EX holder of the counter at a time"
	else
		fail "history: two holders (offending lines above)"
	fi
	echo "---- replica digests"
	if python3 "$here/../nemesis/digests.py" "$(log 1)" "$(log 2)" "$(log 3)"; then
		pass "replicas agree at every round seen on more than one node"
	else
		fail "replicas diverged (offending log lines above)"
	fi
	echo "---- takeovers of M"
	if python3 "$here/stalecheck.py" takeovers M 1="$(log 1)" 2="$(log 2)" 3="$(log 3)"; then
		pass "no node took M over while another held it"
	else
		fail "two nodes held M at once (log lines above)"
	fi
	if [ "$FENCED" = 1 ]; then
		echo "---- the fenced incarnation"
		if python3 "$here/stalecheck.py" fenced-member 1 1="$(log 1)" 2="$(log 2)" 3="$(log 3)"; then
			pass "node 1's fenced incarnation was never a member again"
		else
			fail "node 1's fenced incarnation was accepted again (log lines above)"
		fi
		n=$(got n1-thawed 0)
		check "node 1's fenced incarnation handed out no UID after the thaw ($n)" test "$n" = 0
	fi
	echo "---- what node 1's daemon saw from the freeze on (its log, debug level)"
	tail -n +$((m1 + 1)) "$(log 1)" |
		grep -E "ls t: (node [0-9]+ (left|joined)|round complete|formed|dropping|state received|sent state|group confchg|totem confchg)|corosync: (this node|quorum callback)|fence|self-fenc|lease|pill" |
		head -40 | sed 's/^/  n1: /'
}

if [ "$FENCED" = 0 ]; then
	# --- outside / vm: node 1 alone in t, frozen while node 2 joins ------
	t0=$(now_ns)
	client 1 n1
	require "node 1 allocates in M (the only member of t)" \
		cl_wait_for "node 1 allocates" "$REFORM_S" got_at_least n1 "$t0" 5
	check "nodes 2 and 3 never joined t before the freeze" \
		sh -c "! grep -q 'ls t: joining' '$(log 2)' '$(log 3)'"
	m1=$(mark 1); m2=$(mark 2)
	f0=$(_cl_now_cs)
	if [ "$V" = outside ]; then
		# Thawed in time for node 1's watchdog (outside) to stay quiet:
		# the last feed was at most I before the freeze, the first one
		# after the thaw comes within I.
		cl_pause 1
		limit=$(( f0 + (W - 2 * I) / 10 ))
		what="W - 2I = $(( (W - 2 * I) / 1000 )) s (node 1's watchdog runs on)"
	else
		sd_vm_pause 1
		limit=$(( f0 + (DEAD - 2 * I) / 10 ))
		what="D - 2I = $(( (DEAD - 2 * I) / 1000 )) s (not yet dead)"
	fi
	echo "node 1 frozen ($V); node 2 asks for M"
	t_freeze=$(now_ns)
	client 2 n2
	# The hazard: node 2 forms a fresh replica of t while node 1, its only
	# member so far, is out of the ring.
	until_cs "$limit" "node 2 forms t with node 1 out of the ring" since 2 "$m2" "ls t: formed"
	reached=$?
	hold=$(secs_since "$f0")
	m2=$(mark 2)
	if [ "$V" = outside ]; then cl_resume 1; else sd_vm_resume 1; fi
	echo "node 1 thawed after $hold s"
	require "hazard reached: node 2 formed a fresh replica of t while node 1 was frozen, within $what" \
		test "$reached" = 0
	require "node 1 survived the freeze (not reset)" proc_alive 1 sdlmd
	# Two ways on from here, both judged by the history below.  Node 2's
	# fresh replica fences a node whose heartbeat stopped at once (its
	# cold-start gate), so node 1 may find a pill when it thaws: it then
	# stops every lock use, leaves t and self-fences.  Otherwise it comes
	# back with its stale replica: the hazard of issue 12.
	pilled() { since 1 "$m1" "fence node 1: a poison pill was received"; }
	rejoined() { tail -n +$((m2 + 1)) "$(log 2)" | grep -A1000 'ls t: node 1 joined' | grep -q 'ls t: round complete'; }
	pilled_or_rejoined() { pilled || rejoined; }
	require "node 1 fenced during the freeze, or back in t (a round with it completes on node 2)" \
		cl_wait_for "node 1 pilled or back in t" "$REFORM_S" pilled_or_rejoined
	if pilled; then
		echo "node 1 was fenced during the freeze (node 2's cold-start gate): the stale replica did not come back this time"
		check "node 1, fenced, stopped its lock users and left t" \
			cl_wait_for "node 1 left t" "$REFORM_S" \
			since 1 "$m1" "ls t: left the group: this node was fenced"
	else
		echo "node 1 came back with its stale replica"
		check "membership [1 2 3] again" cl_wait_members 2 "1 2 3" "$REFORM_S"
	fi
	m3=$(mark 3)
	client 3 n3
	require "node 3 joins t and gets a replica" cl_wait_for "node 3 in t" "$REFORM_S" \
		since 3 "$m3" "ls t: (state received|formed)"
	# Power cut: the node and its watchdog are gone at once.
	m2=$(mark 2)
	t_cut=$(now_ns)
	cl_kill 1 watchdog KILL
	cl_kill_node 1
	echo "node 1 power-cut"
	# Fenced by a lockspace's fencer after the power cut, or already by the
	# cold-start gate of node 2's fresh replica during the freeze: then the
	# fencer may never log the acknowledgement (node 1 came back into the
	# ring and the gate's fence was cancelled), but node 1 logged that
	# every lock user of it was gone, which is what it acknowledges.
	fenced_1() {
		grep -qE 'ls t: node 1 fenced|fence node 1: fenced' "$(log 2)" "$(log 3)" ||
			since 1 "$m1" "fence node 1: every lock holder is gone"
	}
	# Or the cut found node 1 holding no lock the others want (its client
	# between a release and its next request, which is dropped with the
	# node; a lock nobody waits for, like the uid-table lock it keeps
	# cached since it created M, is no reason to fence): nobody fences it.
	# A lock it held stays in node 2's replica, marked away, until node 1
	# is fenced, so "left, and holds neither counter nor M's lock there"
	# cannot hide a fence that is needed; the history below judges the
	# safety of either way.
	holds_1() {	# unknown (no answer) counts as holding
		local out
		out=$(sd_ctl 2 --json locks t 2>/dev/null) || return 0
		echo "$out" | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
    held = [r["resource"] for ls in d["lockspaces"] if ls["name"] == "t"
            for r in ls["resources"]
            if (r["resource"] == "counter" or r["resource"].startswith("uid:"))
            and any(l["node"] == 1 and l["queue"] in ("granted", "converting")
                    for l in r.get("cluster", []))]
except (ValueError, KeyError, TypeError):
    sys.exit(0)
sys.exit(0 if held else 1)'
	}
	free_1() { since 2 "$m2" "ls t: node 1 left" && ! holds_1; }
	fenced_or_free_1() { fenced_1 || free_1; }
	if ! cl_wait_for "node 1 fenced or holding nothing" "$FENCE_S" fenced_or_free_1; then
		echo "node 2's locks of t: $(sd_ctl 2 --json locks t 2>&1 | cut -c1-2000)"
		echo "node 2 since the cut:"; tail -n +$((m2 + 1)) "$(log 2)" | grep -vE "shm|ringbuffer|qb_ipc" | head -40
	fi
	require "node 1 fenced, or it held no lock the others want when it was cut" fenced_or_free_1
	fenced_1 || echo "node 1 held neither counter nor M when it was cut: no fence was needed (node 2's locks of t: $(sd_ctl 2 --json locks t 2>&1 | cut -c1-400))"
	# Both remaining nodes must be served again (after the fix: in turn).
	check "node 2 gets UIDs in M after the power cut" \
		cl_wait_for "node 2 served" "$REFORM_S" got_at_least n2 "$t_cut" 3
	check "node 3 gets UIDs in M after the power cut" \
		cl_wait_for "node 3 served" "$REFORM_S" got_at_least n3 "$t_cut" 3
else
	# --- fenced: node 1 frozen with its watchdog until fenced ------------
	t0=$(now_ns)
	client 1 n1 -n 20
	require "node 1 allocates in M" cl_wait_for "node 1 done" "$REFORM_S" proc_gone 1 lc-n1
	require "node 1 got its 20 UIDs" got_at_least n1 "$t0" 20
	require "node 2 joins t" sd_lock 2 -w "$REFORM_S" t warm2 -- true
	require "node 3 joins t" sd_lock 3 -w "$REFORM_S" t warm3 -- true
	check "node 1 is t's fencer (lowest ready member)" \
		grep -qE "ls t: round complete at .* fencer 1," "$(log 2)"
	m1=$(mark 1); m2=$(mark 2); m3=$(mark 3)
	f0=$(_cl_now_cs)
	sd_vm_pause 1
	t_freeze=$(now_ns)
	# Nobody wants node 1's locks until its heartbeat is dead: the fence
	# then takes the dead path at once (model finding 1's course; the
	# fencer still leaves a pill on the disk for the thawed node).
	echo "node 1 paused with its watchdog; waiting until the others see it dead"
	require "node 2 sees node 1's heartbeat dead (D = $DEAD ms)" \
		cl_wait_for "node 1 dead" "$FENCE_S" node_dead_on 2 1
	echo "node 2 asks for M (cached on node 1)"
	client 2 n2
	require "node 1 fenced: dead by heartbeat timeout" cl_wait_for "node 1 fenced" "$FENCE_S" \
		sh -c "tail -n +$((m2 + 1)) '$(log 2)' | grep -q 'fence node 1: fenced (dead by heartbeat timeout)' ||
		       tail -n +$((m3 + 1)) '$(log 3)' | grep -q 'fence node 1: fenced (dead by heartbeat timeout)'"
	require "node 2 allocates in M after the fence" cl_wait_for "node 2 served" "$REFORM_S" \
		got_at_least n2 "$t_freeze" 3
	echo "node 1 fenced after $(secs_since "$f0") s frozen; thawing it"
	m2=$(mark 2)
	sd_vm_resume 1
	t_thaw=$(now_ns)
	client 1 n1-thawed -n 5
	# Settled: node 1 is gone (it fenced itself and its watchdog reset it)
	# or the membership re-formed with it and a round of t completed.
	settled() {
		sd_node_gone 1 && return 0
		[ "$(cl_members 2)" = "1 2 3" ] &&
			tail -n +$((m2 + 1)) "$(log 2)" | grep -A1000 'ls t: node 1 joined' | grep -q 'ls t: round complete'
	}
	check "after the thaw: node 1 gone, or a round of t with it completed" \
		cl_wait_for "settled" $((REFORM_S + W / 1000)) settled
	# Give node 1's client its chance to be served (or refused).
	cl_wait_for "node 1's client done" $((LOCK_TIMEOUT_MS / 1000 * 5 + 5)) \
		proc_gone 1 lc-n1-thawed >/dev/null 2>&1
	if sd_node_gone 1; then
		echo "node 1 is gone (reset) after the thaw"
	else
		echo "node 1 still runs after the thaw: $(sd_ctl 1 status 2>&1 | sed -n 's/^state *//p')"
	fi
fi

judge
finish
