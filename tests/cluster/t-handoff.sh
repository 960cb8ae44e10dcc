#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The hand-off through the disk when the away node does not answer
# (docs/design-handoff.md F4, section 6; issue 19 item 1).  A 3-node
# cluster, node 3 cut off the network with its disk kept, node 1 wanting a
# lock node 3 holds (t-partition.sh part B is the answered case):
#   A. node 3 reads the request but never answers: its lock user, which
#      ignores its blocking callback, is killed after K and is not reaped
#      (a process killed in the middle of a write stays until the write
#      leaves the kernel: sd_spawn_unreaped), so the grant never becomes
#      final (V2).  Its heartbeat stays live all along - not the dead
#      path.  Node 1 fences it after the bound B = 3I + 4T + K counted
#      from the request, not before; node 3 reads the pill and answers
#      nothing after it; node 1 gets the lock only once node 3 is fenced
#      and its user gone; node 3's local waiter for the lock is never
#      granted it (V6).
#   B. node 3 reads the request and is paused (a VM pause: the freezer
#      with its watchdog, sd_vm_pause) before it answers; node 1 fences it
#      (its heartbeat stood still: the dead path's pill) and node 3 is
#      thawed before the dead bound, its killed user reapable, so that it
#      may answer late.  Whether its late answer or its fence releases the
#      lock, node 1 gets it only with node 3's user gone, nothing after
#      takes it from node 1 (F3: a resent release, NODE_FENCED), a request
#      from node 2 is refused while node 1 holds it, and node 3's local
#      waiter, thawed, is never granted it.
# Every wait is derived from the configured timeouts (sd_timeouts; the
# settle time from the daemon's log, detection being half of it, as in
# t-partition.sh), plus 30 s for a loaded machine.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/sdlm.sh"
trap sd_teardown EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
T_ON_REQUIRE=sd_diag
now_s() { date +%s.%N; }
elapsed() { python3 -c "print('%.1f' % ($(now_s) - $1))"; }
# secs MS_EXPR: seconds, rounded up, plus 30 s for a loaded machine
secs() { python3 -c "import math; print(math.ceil(($1) / 1000) + 30)"; }

sd_up 3
sd_timeouts
SETTLE=$(sed -n 's/.*settle \([0-9]*\) ms.*/\1/p' "$CL_DIR/n1/sdlmd-file.log" | head -1)
# K = L (the pill's drain limit); B from the completion of the write that
# first carries the request (design-handoff.md section 6).
K=$L
B=$((3 * I + 4 * T + K))
echo "heartbeat $I ms, I/O timeout $T ms, K $K ms, bound B $B ms, dead bound $DEAD ms, ack bound $ACK ms, settle $SETTLE ms"
detect_s=$(secs "$SETTLE / 2 + $I + $T")		# cut -> request written
read_s=$(secs "$I + $T")				# written -> read by node 3
kill_s=$(secs "$K + $I + $T")			# read -> its user killed after K
bound_s=$(secs "$B + $I + $T")			# request -> fence started
gone_s=$(secs "$ACK + $DEAD + $W")		# pill read -> acknowledged, or reset and dead

n1log=$CL_DIR/n1/sdlmd-file.log
n3log=$CL_DIR/n3/sdlmd-file.log
# n_lines FILE REGEX: how many lines of FILE match
n_lines() { grep -c -- "$2" "$1" 2>/dev/null; }
# after FILE N REGEX: a line of FILE after its first N lines matches
after() { tail -n "+$(($2 + 1))" "$1" | grep -q -- "$3"; }
# ring_t I REGEX: node I's CLOCK_BOOTTIME (s) of the first line of its
# debug ring that matches (durations on one node's clock, docs/timeouts.md)
ring_t() { sd_ctl "$1" dump 2>/dev/null | grep -m1 -- "$2" | cut -d' ' -f1; }
# local_waiting I LS RES: a local client of node I waits for RES
local_waiting() {
	sd_ctl "$1" locks "$2" 2>/dev/null | grep -E -A8 "resource $3( |\$)" | grep -q "local client .* waiting"
}

for i in 1 2 3; do sd_lock "$i" -w 60 h warmup -- true; done

# --- A. no answer within B: fenced after B, not before -------------------
sd_spawn_unreaped 3 aholder "$CL_DIR/a.pid" "$CL_DIR/a-reap" \
	"$SDLMCTL" lock -m EX -w 60 h a -- sleep 600 >/dev/null
require "node 3 holds EX on 'a'" cl_wait_for "node 3 holds a" 30 sd_holds 3 h a EX
read -r apid <"$CL_DIR/a.pid"
cl_spawn 3 awaiter "$SDLMCTL" lock -m EX -w 600 h a -- touch "$CL_DIR/a-local-got" >/dev/null
require "node 3's second client waits locally for 'a'" cl_wait_for "node 3 local waiter" 30 local_waiting 3 h a
cl_cut 3
t0=$(now_s)
# Node 1's request: once granted, it reports how many fences of node 3
# its daemon has completed (the dead path leaves node 3's slot saying
# nothing: `fence status` answers "unknown" then) and the state of node
# 3's lock user, then lets go (want N LOCK PID OUT [GATE]: keeps the lock
# until GATE exists).
want() {
	cl_spawn "$1" "${2}want" sh -c '"$1" lock -m EX -w 600 h "$2" -- sh -c "echo fenced=\$(grep -c \"fence node 3: fenced (\" \"$3\"); s=\$(cut -d\" \" -f3 /proc/$4/stat 2>/dev/null || echo gone); echo holder=\$s; [ -z \"$6\" ] || while [ ! -e \"$6\" ]; do sleep 0.1; done" >"$5" 2>&1' \
		sh "$SDLMCTL" "$2" "$n1log" "$3" "$4" "${5:-}" >/dev/null
}
want 1 a "$apid" "$CL_DIR/a-out"
asked="node 3 is away and holds .* asking it through the disk"
require "node 1's fencer asks node 3 through the disk" \
	cl_wait_for "node 1 asks" "$detect_s" grep -q "$asked" "$n1log"
require "node 3 read the request" cl_wait_for "node 3 reads" "$read_s" \
	grep -q "asked for through the disk: stopping its holders" "$n3log"
require "node 3 killed its user after K (pid $apid), which is not reaped yet" \
	cl_wait_for "a user killed" "$kill_s" sd_is_zombie "$apid"
fencing="node 3 did not give .* back through the disk within $B ms: fencing it"
require "node 1 fences node 3 for not answering within B ($B ms)" \
	cl_wait_for "node 1 fences node 3" "$bound_s" grep -q "$fencing" "$n1log"
echo "node 1 started the fence $(elapsed "$t0") s after the cut"
ta=$(ring_t 1 "$asked")
tf=$(ring_t 1 "$fencing")
echo "node 1's ring: asked at $ta, fence at $tf (boottime s)"
# The bound runs from the completion of the request's write, after the
# line that says it is asked; it ends at a tick (every I) after B.
check "not before B: the fence came >= $B ms after the request" \
	python3 -c "import sys; sys.exit(0 if ($tf - $ta) * 1000 >= $B else 1)"
check "nor much after: < B + 2(I + T) + 30 s" \
	python3 -c "import sys; sys.exit(0 if ($tf - $ta) * 1000 < $B + 2 * ($I + $T) + 30000 else 1)"
until_fence() { sed -n "1,/$fencing/p" "$n1log"; }
check "node 3's heartbeat was live up to the fence (not the dead path)" \
	eval '! until_fence | grep -q "node 3: no hand-off any more"'
require "node 3 read the pill" cl_wait_for "node 3 reads the pill" "$(secs "$ACK")" \
	grep -q "a poison pill was received: stopping all lock use" "$n3log"
# Its user reaped now: node 3 can drain and acknowledge.  A grant made
# final after the pill must not be answered (design-handoff.md section 7).
touch "$CL_DIR/a-reap"
require "node 1 gets 'a'" cl_wait_for "node 1 got a" "$gone_s" test -s "$CL_DIR/a-out"
echo "node 1 got 'a' $(elapsed "$t0") s after the cut: $(tr '\n' ' ' <"$CL_DIR/a-out")"
check "node 3 was fenced when node 1 got 'a'" grep -q "fenced=1" "$CL_DIR/a-out"
check "node 3's user was gone when node 1 got 'a' (no two holders)" grep -q "holder=gone" "$CL_DIR/a-out"
check "node 1's executor fenced node 3" grep -q "fence node 3: fenced (" "$n1log"
grep "fence node 3: fenced (" "$n1log" | tail -1
check "node 3 never answered (no hand-off released for it)" \
	eval '! grep -q "node 3 gave .* back through the disk" "$CL_DIR"/n[12]/sdlmd-file.log'
check "node 3 wrote no answer" eval '! grep -q "stopped: answering through the disk" "$n3log"'
require "node 3 reset by its watchdog" cl_wait_for "node 3 gone" "$(secs "$L + $W")" sd_node_gone 3
check "node 3's local waiter was never granted 'a'" test ! -e "$CL_DIR/a-local-got"

# node 3 back (a reboot), a member again
cl_heal_all
require "node 3 restarts corosync" cl_start_corosync 3
require "node 3 back in the membership" cl_wait_members 1 "1 2 3" 90
require "sdlmd on node 3 again" sd_start 3
require "node 3 fenced-safe again" cl_wait_for "node 3 safe" 60 sd_status_has 3 "fenced-safe"
n3log_skip=$(wc -l <"$n3log")
n1log_skip=$(wc -l <"$n1log")

# --- B. paused between reading the request and answering -----------------
# A VM pause (the node frozen with its watchdog) from just after node 3
# read the request until node 1 is fencing it (its heartbeat stood still
# for L: the dead path's pill, not the bound B), thawed before the dead
# bound can pass (D - 2I after the pause, as the nemesis's sole-freeze: a
# node paused past it is outside the design, docs/timeouts.md A1).  At the
# thaw its lock user is reapable once killed (K passed meanwhile on its
# clock), so node 3 may answer late, before or after it reads the pill:
# whichever releases 'b' first, node 1 gets it only with node 3's user
# gone, and nothing that comes after (a resent release, NODE_FENCED)
# takes it from node 1.
require "node 3 joins 'h' again" sd_lock 3 -w 60 h warmup -- true
sd_spawn_unreaped 3 bholder "$CL_DIR/b.pid" "$CL_DIR/b-reap" \
	"$SDLMCTL" lock -m EX -w 60 h b -- sleep 600 >/dev/null
require "node 3 holds EX on 'b'" cl_wait_for "node 3 holds b" 30 sd_holds 3 h b EX
read -r bpid <"$CL_DIR/b.pid"
cl_spawn 3 bwaiter "$SDLMCTL" lock -m EX -w 600 h b -- touch "$CL_DIR/b-local-got" >/dev/null
require "node 3's second client waits locally for 'b'" cl_wait_for "node 3 local waiter" 30 local_waiting 3 h b
fenced_before=$(n_lines "$n1log" "fence node 3: fenced (")
cl_cut 3
t0=$(now_s)
# Node 1 keeps 'b' until the test says so.
want 1 b "$bpid" "$CL_DIR/b-out" "$CL_DIR/b-release"
read_req() { after "$n3log" "$n3log_skip" "asked for through the disk: stopping its holders"; }
require "node 3 read node 1's request" cl_wait_for "node 3 reads" "$(secs "$SETTLE / 2 + 2 * ($I + $T)")" read_req
require "node 3 paused (with its watchdog)" sd_vm_pause 3
by=$(($(_cl_now_cs) + (DEAD - 2 * I) / 10))
check "node 3 had not answered when paused" \
	eval '! after "$n3log" "$n3log_skip" "stopped: answering through the disk"'
touch "$CL_DIR/b-reap"
fencing_3() { sd_ctl 1 status 2>/dev/null | grep -q "^fencing  *node 3:"; }
until fencing_3 || [ "$(_cl_now_cs)" -ge "$by" ]; do sleep 0.2; done
check "node 1 is fencing node 3 while it is paused" fencing_3
echo "node 1 started the fence $(elapsed "$t0") s after the cut; thawing node 3"
sd_vm_resume 3 "$by"; rc=$?
if [ "$rc" = 2 ]; then
	cl_kill_node 3
	cl_kill 3 watchdog KILL
fi
require "node 3 thawed before the dead bound could pass (resume exit $rc)" test "$rc" = 0
require "node 1 gets 'b'" cl_wait_for "node 1 got b" "$(secs "$ACK + $DEAD")" test -s "$CL_DIR/b-out"
echo "node 1 got 'b' $(elapsed "$t0") s after the cut: $(tr '\n' ' ' <"$CL_DIR/b-out")"
check "node 3's user was gone when node 1 got 'b' (no two holders)" grep -qE "holder=(gone|Z)" "$CL_DIR/b-out"
fenced_b() { [ "$(n_lines "$n1log" "fence node 3: fenced (")" -gt "$fenced_before" ]; }
check "node 3 was fenced" cl_wait_for "node 3 fenced" "$(secs "$ACK + $DEAD")" fenced_b
tail -n "+$((n1log_skip + 1))" "$n1log" | grep -E "fence node 3: fenced \(|node 3 gave .* back through the disk" | head -3
require "node 3 reset by its watchdog" cl_wait_for "node 3 gone" "$(secs "$L + $W")" sd_node_gone 3
echo "node 3 after the thaw:"
tail -n "+$((n3log_skip + 1))" "$n3log" | grep -E "hand-off|pill|fence node 3|lease|VM pause" | tail -12
check "node 1 still holds EX on 'b'" sd_holds 1 h b EX
one_holder() {
	[ "$(sd_ctl 1 locks h 2>/dev/null | awk '/^  resource/ { r = $2 } r == "b" && /^    node .* granted/' | grep -c .)" = 1 ]
}
check "node 1's replica shows exactly one grant of 'b'" one_holder
out=$(sd_lock 2 -n h b -- echo granted 2>&1); rc=$?
check "no second holder: node 2's NOQUEUE request for 'b' fails (exit $rc)" \
	sh -c "[ $rc != 0 ] && ! echo '$out' | grep -q granted"
check "node 3's local waiter, thawed, was never granted 'b'" test ! -e "$CL_DIR/b-local-got"
touch "$CL_DIR/b-release"
check "node 2 gets 'b' once node 1 lets go" sd_lock 2 -w 60 h b -- true

t_tally
[ "$fails" = 0 ]
