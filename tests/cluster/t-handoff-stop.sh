#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The hand-off's "gone" answer (design-handoff.md V1, 9ce4c58) and a lock
# user that was killed but is not reaped yet.  A 3-node cluster; node 3
# holds EX on 'a' through a client, is cut off the network (its disk
# kept) and its sdlmd is stopped cleanly (SIGTERM: what Pacemaker does to
# the resources of a node that lost quorum).  The clean stop kills the
# lock user and its cache forgets the lock at once (lsm_stop_users); the
# user stays until it leaves the kernel (a process killed in the middle
# of a write: sd_spawn_unreaped), which is why users_gone_check does not
# release the locks before every killed user is reaped, and leaves
# WITHOUT releasing them after 3 T (the others fence the node).
#
# Node 1 then wants 'a'.  Its fencer asks node 3 through the disk.  A lock
# id no cache of node 3 knows is answered at once, final, with no value
# block ("gone") - but here it is not gone: its user is still there.  V2
# (a grant is final only once its holders are gone, killed AND reaped)
# must hold for it as for a lock that is still cached: node 1 may get
# 'a' only once node 3's user is gone.
#
# Review s28-rev19 C1: on the code of 9ce4c58 node 1 gets 'a' about two
# heartbeats after it asks, node 3's user still there (holder=Z).
# Every wait is derived from the configured timeouts (sd_timeouts; the
# settle time from the daemon's log, detection being half of it), plus
# 30 s for a loaded machine.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/sdlm.sh"
trap sd_teardown EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
T_ON_REQUIRE=sd_diag
secs() { python3 -c "import math; print(math.ceil(($1) / 1000) + 30)"; }

sd_up 3
sd_timeouts
SETTLE=$(sed -n 's/.*settle \([0-9]*\) ms.*/\1/p' "$CL_DIR/n1/sdlmd-file.log" | head -1)
echo "heartbeat $I ms, I/O timeout $T ms, lease $L ms, dead bound $DEAD ms, ack bound $ACK ms, settle $SETTLE ms"
n1log=$CL_DIR/n1/sdlmd-file.log
n3log=$CL_DIR/n3/sdlmd-file.log

for i in 1 2 3; do sd_lock "$i" -w 60 h warmup -- true; done

sd_spawn_unreaped 3 aholder "$CL_DIR/a.pid" "$CL_DIR/a-reap" \
	"$SDLMCTL" lock -m EX -w 60 h a -- sleep 600 >/dev/null
require "node 3 holds EX on 'a'" cl_wait_for "node 3 holds a" 30 sd_holds 3 h a EX
read -r apid <"$CL_DIR/a.pid"

cl_cut 3
require "node 3 alone and inquorate" cl_wait_for "node 3 inquorate" "$(secs "$SETTLE")" cl_inquorate 3
require "nodes 1, 2 see [1 2]" cl_wait_members 1 "1 2" "$(secs "$SETTLE")"

# The clean stop: node 3 kills its lock user (not reaped: a zombie until
# a-reap exists) and waits up to 3 T for it before leaving.  Node 1 wants
# 'a' at once (once granted it reports the state of node 3's user), so
# that its request reaches node 3 well within those 3 T.
# (not cl_kill: it waits for the process to end)
kill -s TERM "$(cl_pid 3 sdlmd)"
cl_spawn 1 awant sh -c '"$1" lock -m EX -w 600 h a -- sh -c "s=\$(cut -d\" \" -f3 /proc/$2/stat 2>/dev/null || echo gone); echo holder=\$s" >"$3" 2>&1' \
	sh "$SDLMCTL" "$apid" "$CL_DIR/a-out" >/dev/null
require "node 3 killed its lock user, which is not reaped yet" \
	cl_wait_for "a user killed" "$(secs "$T")" sd_is_zombie "$apid"
asked="node 3 is away and holds .* asking it through the disk"
require "node 1's fencer asks node 3 through the disk" \
	cl_wait_for "node 1 asks" "$(secs "2 * $I")" grep -q "$asked" "$n1log"

# Until node 3's daemon gives up waiting for its user (3 T after the stop)
# or node 1 gets 'a', the user stays a zombie; then it may go.
cl_wait_for "node 3 gives up or node 1 gets 'a'" "$(secs "3 * $T + 2 * $I")" \
	sh -c "grep -q 'leaving WITHOUT releasing the locks' '$n3log' || test -s '$CL_DIR/a-out'"
if test -s "$CL_DIR/a-out"; then
	echo "node 1 got 'a' while node 3's daemon was still stopping: $(cat "$CL_DIR/a-out")"
fi
# log_s FILE REGEX: the wall-clock second of day of FILE's first line
# matching (every node logs on this machine's clock)
log_s() {
	grep -m1 -- "$2" "$1" | awk '{ split($3, t, ":"); printf "%.3f\n", t[1] * 3600 + t[2] * 60 + t[3] }'
}
if grep -q "leaving WITHOUT releasing the locks" "$n3log"; then
	# Node 3 left with its user still there: the run shows something only
	# if node 1's request had time to reach node 3 and its answer to come
	# back before that (a write, a read, a write: I + T + I).
	margin=$(python3 -c "print(round((($(log_s "$n3log" "leaving WITHOUT releasing") - $(log_s "$n1log" "$asked")) % 86400) * 1000))")
	echo "node 1 asked $margin ms before node 3 left"
	require "node 1 asked at least 2I + T before node 3 left ($margin ms)" test "$margin" -ge $((2 * I + T))
fi
touch "$CL_DIR/a-reap"
require "node 1 gets 'a'" cl_wait_for "node 1 got a" "$(secs "$L + $ACK + $DEAD + $W")" test -s "$CL_DIR/a-out"
echo "node 1: $(cat "$CL_DIR/a-out")"
check "node 3's user was gone when node 1 got 'a' (no two holders)" grep -q "holder=gone" "$CL_DIR/a-out"
check "node 3 answered nothing for 'a' (it left without releasing; the dead path moved it)" \
	eval '! grep -q "node 3 gave .* back through the disk" "$n1log"'

t_tally
[ "$fails" = 0 ]
