#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t-corosync.sh - the cluster harness itself, against real corosync.
#
# Timeline (token 3000 ms, consensus 3600 ms; each step waits by polling):
#   create 3 nodes + a loop-attached disk, start corosync, all quorate [1 2 3]
#   cut node 3      -> 1,2 quorate with [1 2]; 3 alone and inquorate
#   heal node 3     -> [1 2 3] everywhere
#   2% loss on every node for 10 s -> membership sampled each second and
#                      reported; after loss off [1 2 3] again
#   freezer: a ticker inside node 2's group and one outside; pause node 2
#                      for 2 s -> inside stops, outside keeps ticking; resume
#   kill node 1     -> its freezer group empties; 2,3 quorate with [2 3]
#   teardown (twice) -> no namespace, cgroup, nft table, loop device,
#                      process, qb shm file or run directory is left
#
# Exit 0 when every check passed, 1 otherwise.  Root only; ~1 minute.

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/cluster/lib.sh
. "$here/lib.sh"
trap cl_teardown EXIT

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
info() { echo "INFO: $*"; }

# check DESC CMD...: one PASS/FAIL line for CMD's status.
check() {
	local desc=$1
	shift
	if "$@"; then pass "$desc"; else fail "$desc"; fi
}

# Fatal: later steps make no sense without a running cluster.
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

all_members() {
	local want=$1 i
	shift
	for i in "$@"; do
		cl_wait_members "$i" "$want" 60 && cl_wait_quorate "$i" 30 "$(echo "$want" | wc -w)" ||
			return 1
	done
}

[ "$(id -u)" = 0 ] || { echo "FAIL: must run as root"; exit 1; }

echo "== create and start"
require "create 3 nodes" cl_create 3
info "run $CL_RUN_ID in $CL_DIR"
disk=$(cl_make_disk 16 loop)
require "shared disk $disk attached from $CL_DIR/disk.img" test -b "$disk"
require "start corosync on every node" cl_start_all
for i in 1 2 3; do
	require "node $i quorate with 3 members" cl_wait_quorate "$i" 60 3
done
check "node 1 sees members [1 2 3]" test "$(cl_members 1)" = "1 2 3"
# The mount namespace of corosync: private /run, our /var/lib/corosync.
pid=$(cl_pid 2 corosync)
check "node 2 corosync runs in its freezer group" \
	grep -qx "$pid" "/sys/fs/cgroup/freezer/${CL_PREFIX}n2/cgroup.procs"
check "node 2 corosync has a private /run" \
	test "$(nsenter -t "$pid" -m findmnt -n -o SOURCE /run)" = sdlmt-run

echo "== cut node 3"
cl_cut 3
check "nodes 1,2 quorate with [1 2]" all_members "1 2" 1 2
check "node 3 sees only itself" cl_wait_members 3 "3" 60
check "node 3 is inquorate" cl_wait_for "node 3 inquorate" 30 cl_inquorate 3

echo "== heal node 3"
cl_heal 3
check "all quorate with [1 2 3] after heal" all_members "1 2 3" 1 2 3

echo "== 2% loss on every node for 10 s"
ring0=$(cl_ring_id 1)
for i in 1 2 3; do cl_loss "$i" 2%; done
t_end=$(($(_cl_now_cs) + 1000))
samples=0
short=0
while [ "$(_cl_now_cs)" -lt "$t_end" ]; do
	m=$(cl_members 1) || m="(no answer)"
	samples=$((samples + 1))
	[ "$m" = "1 2 3" ] || short=$((short + 1))
	sleep 1
done
m_end=$(cl_members 1)
ring1=$(cl_ring_id 1)
for i in 1 2 3; do cl_loss_off "$i"; done
info "under loss: node 1 saw a membership other than [1 2 3] in $short of $samples samples"
info "at the end of loss: members [$m_end], ring $ring0 -> $ring1"
if [ "$m_end" = "1 2 3" ] && [ "$ring0" = "$ring1" ]; then
	pass "membership [1 2 3] and ring unchanged through 10 s of 2% loss"
else
	info "membership re-formed under loss (reported, not asserted)"
fi
check "all quorate with [1 2 3] after loss off" all_members "1 2 3" 1 2 3

echo "== freeze node 2 for 2 s"
tick='while :; do echo x >>"$0"; sleep 0.05; done'
cl_spawn 2 tick_in sh -c "$tick" "$CL_DIR/n2/tick_in" >/dev/null
cl_spawn_outside 2 tick_out sh -c "$tick" "$CL_DIR/n2/tick_out" >/dev/null
lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
grows() { local a; a=$(lines "$1"); sleep 0.3; [ "$(lines "$1")" -gt "$a" ]; }
check "both tickers run" cl_wait_for "tickers" 10 eval 'grows "$CL_DIR/n2/tick_in" && grows "$CL_DIR/n2/tick_out"'
not_in_group() { ! grep -qx "$2" "/sys/fs/cgroup/freezer/${CL_PREFIX}n$1/cgroup.procs"; }
check "the outside ticker is not in node 2's freezer group" \
	not_in_group 2 "$(cl_pid 2 tick_out)"
check "the inside ticker is in node 2's freezer group" \
	eval '! not_in_group 2 "$(cl_pid 2 tick_in)"'
ring0=$(cl_ring_id 1)
frozen_at=$(_cl_now_cs)
check "pause node 2 (FROZEN)" cl_pause 2
check "inside ticker stopped while frozen" eval '! grows "$CL_DIR/n2/tick_in"'
check "outside ticker still runs while frozen" grows "$CL_DIR/n2/tick_out"
# Short timeout: the whole freeze must stay below the token timeout.
check "node 2's corosync does not answer while frozen" \
	eval '! ip netns exec "${CL_PREFIX}n2" timeout 1 corosync-quorumtool -s >/dev/null 2>&1'
while [ "$(_cl_now_cs)" -lt $((frozen_at + 200)) ]; do sleep 0.1; done
check "resume node 2 (THAWED)" cl_resume 2
info "node 2 was frozen for $(($(_cl_now_cs) - frozen_at))0 ms"
check "inside ticker runs again" cl_wait_for "inside ticker" 10 grows "$CL_DIR/n2/tick_in"
check "all quorate with [1 2 3] after the pause" all_members "1 2 3" 1 2 3
info "2 s freeze (< token 3000 ms): ring $ring0 -> $(cl_ring_id 1)"
check "kill one process (tick_out)" cl_kill 2 tick_out
check "tick_out is gone" eval '! cl_pid 2 tick_out'

echo "== kill node 1"
check "kill node 1" cl_kill_node 1
check "node 1's freezer group is empty" \
	test -z "$(cat "/sys/fs/cgroup/freezer/${CL_PREFIX}n1/cgroup.procs")"
check "nodes 2,3 quorate with [2 3]" all_members "2 3" 2 3

echo "== teardown"
run=$CL_RUN_ID
dir=$CL_DIR
pids=$(cat "$CL_DIR"/n*/*.pid)
check "teardown" cl_teardown
check "second teardown is harmless" cl_teardown
left=$(cl_leftovers "$run" $pids)
if [ -d "$dir" ]; then left="$left${left:+$'\n'}dir $dir"; fi
if [ -z "$left" ]; then
	pass "nothing of run $run is left"
else
	fail "run $run left:"
	printf '%s\n' "$left" | sed 's/^/    /'
fi

if [ "$failures" = 0 ]; then
	echo "PASS: t-corosync ($run)"
	exit 0
fi
echo "FAIL: t-corosync: $failures check(s) failed"
exit 1
