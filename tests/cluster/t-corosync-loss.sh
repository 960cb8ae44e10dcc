#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Losing corosync is being away, not being dead (issue 13, hole 12).
#
# Node 3's corosync is killed while a client of node 3 holds EX on 'held'
# and node 3 keeps EX on 'cached' and PR on 'shared' with no client.  Then:
#   - node 3's lock user survives: its lease still holds, and nobody else
#     may have its locks before node 3 gives them back or is fenced;
#   - node 3 still serves what it holds (the cached locks, re-taken);
#   - a request that needs the cluster (a new resource, EX on 'shared')
#     fails at once with a clear error (not in a quorate membership), not
#     after the client's wait runs out;
#   - node 1 asks for 'held': node 3 is away with a live heartbeat, so
#     node 1's fencer asks it through the disk (the hand-off, issue 19
#     item 1, docs/design-handoff.md); node 3's lock user, which ignores
#     its blocking callback, is killed after K and reaped, node 3 answers,
#     and only then is 'held' granted: no two EX holders, nobody fenced,
#     node 3 not reset and still fenced-safe.
# Every wait is derived from the configured timeouts (sd_timeouts, the
# grace from the daemon's log).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/sdlm.sh"
trap sd_teardown EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
now_s() { date +%s.%N; }
elapsed() { python3 -c "print('%.1f' % ($(now_s) - $1))"; }

[ "$(id -u)" = 0 ] || { echo "FAIL: must run as root"; exit 1; }

sd_up 3
sd_timeouts
GRACE=$(sed -n 's/.*grace \([0-9]*\) ms.*/\1/p' "$CL_DIR/n1/sdlmd-file.log" | head -1)
echo "grace $GRACE ms, heartbeat $I ms, I/O timeout $T ms, lease $L ms, dead bound $DEAD ms"
# Seconds, rounded up, with room for a loaded machine: a lease (what node 3
# may go on for without renewing) and the fence's bound (grace, then a
# pill written, read and acknowledged within the ack bound, two heartbeats).
lease_s=$(( (L + 999) / 1000 ))
fence_s=$(( (GRACE + ACK + 2 * I + 999) / 1000 + 30 ))

for i in 1 2 3; do sd_lock "$i" -w 60 t warmup -- true; done
require "node 3 takes 'cached' (kept cached, no client)" sd_lock 3 -w 60 t cached -- true
require "node 3 takes 'shared' in PR (kept cached)" sd_lock 3 -m PR -w 60 t shared -- true
cl_spawn 3 holder "$SDLMCTL" lock -m EX -w 60 t held -- sleep 600 >/dev/null
require "node 3's client holds EX on 'held'" cl_wait_for "node 3 holds held" 30 sd_holds 3 t held EX
hp=$(cl_pid 3 holder)
echo "node 3's lock user: pid $hp"

cl_kill 3 corosync KILL
require "node 3's daemon noticed corosync is gone" cl_wait_for "node 3 lost corosync" "$lease_s" \
	grep -q "corosync connection lost" "$CL_DIR/n3/sdlmd-file.log"
require "nodes 1,2 see [1 2]" cl_wait_members 1 "1 2" 60
check "node 3's lock user survives the loss of corosync (pid $hp)" kill -0 "$hp"
check "node 3 is still fenced-safe (its disk lease holds)" sd_status_has 3 "fenced-safe"
check "node 3 re-takes its cached lock without the cluster" sd_lock 3 -w "$lease_s" t cached -- true

# A request that needs the cluster: answered with an error while node 3's
# lease holds, never by the client's own wait running out.
t0=$(now_s)
out=$(sd_lock 3 -w "$fence_s" t fresh -- echo granted 2>&1); rc=$?
echo "node 3's request for 'fresh' answered after $(elapsed "$t0") s (exit $rc): $out"
check "node 3 is granted nothing new (exit $rc)" test "$rc" != 0
check "the error says why (not in a quorate membership)" \
	sh -c 'printf "%s\n" "$1" | grep -q "not in a quorate membership"' sh "$out"
check "node 3 re-takes its cached PR on 'shared'" sd_lock 3 -m PR -w "$lease_s" t shared -- true
check "EX on 'shared' (more than node 3 holds) is refused the same way" \
	sh -c 'out=$("$@" 2>&1); rc=$?; echo "  $out"; [ $rc != 0 ] && printf "%s\n" "$out" | grep -q "not in a quorate membership"' \
	sh ip netns exec "${CL_PREFIX}n3" "$SDLMCTL" lock -m EX -w "$fence_s" t shared -- true
check "node 3's lock user still runs (pid $hp)" kill -0 "$hp"

# Node 3 gives 'held' back through the disk before node 1 is granted it.
t0=$(now_s)
out=$(sd_lock 1 -w "$((2 * fence_s))" t held -- sh -c "$SDLMCTL fence status -d '$SD_DISK' 3 >/dev/null; echo fence-status=\$?; if kill -0 $hp 2>/dev/null; then echo holder-present; else echo holder-gone; fi" 2>&1)
echo "node 1 got node 3's lock after $(elapsed "$t0") s: $out"
check "node 1 got 'held'" sh -c 'printf "%s\n" "$1" | grep -q fence-status=' sh "$out"
check "node 3 was not fenced (fence status ON) when node 1 got it" \
	sh -c 'printf "%s\n" "$1" | grep -q fence-status=0' sh "$out"
check "node 3's lock user was gone before node 1 got it (no two EX holders)" \
	sh -c 'printf "%s\n" "$1" | grep -q holder-gone' sh "$out"
check "node 1's fencer asked node 3 through the disk" \
	grep -q "node 3 is away and holds .* asking it through the disk" "$CL_DIR/n1/sdlmd-file.log"
check "node 3 killed its holder after K" \
	grep -q "hand-off: the holders of .* did not let go" "$CL_DIR/n3/sdlmd-file.log"
check "node 3 answered through the disk" \
	grep -q "handed off through the disk while cut off" "$CL_DIR/n3/sdlmd-file.log"
check "node 3 received no pill" sh -c '! grep -q "poison pill" "$1"' sh "$CL_DIR/n3/sdlmd-file.log"
check "node 3 did not revoke everything for the loss of corosync" \
	sh -c '! grep -q "corosync connection lost.*revoking" "$1"' sh "$CL_DIR/n3/sdlmd-file.log"
check "node 3 still running, fenced-safe" sd_status_has 3 "fenced-safe"
check "node 3 was never fenced" sh -c "$SDLMCTL fence status -d '$SD_DISK' 3 >/dev/null"

t_tally
[ "$fails" = 0 ]
