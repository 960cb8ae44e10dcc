#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Partitions on a real 3-node corosync cluster with one shared disk:
#   A. the minority side grants nothing new (once it has been a minority
#      for corosync's settle time, a request there fails at once with
#      SDLM_ENOQUORUM) while its node keeps using what it holds (cached);
#      after the heal it rejoins with its locks intact, is not fenced, and
#      gives them up when asked;
#   B. a node cut off from the network but not from the disk, whose lock
#      another node wants, is fenced through the acknowledged path and the
#      others get its lock within grace + detection + two heartbeats;
#   C. a cold start with one node cut off grants nothing that node holds
#      until it is fenced;
#   D. every partition loses quorum, quorum re-forms: the fresh replica
#      grants nothing until the lock users of the locks a node kept using
#      meanwhile are gone (killed and reaped), and then grants;
#   F. as D, but the killed lock user is not reaped yet when every
#      partition loses quorum again: the second fresh replica waits for it
#      too (docs/model.md finding 7);
#   E. a release made while cut off never reaches the others (it is
#      delivered in the lone node's partition only): after the heal the
#      node sends it again and the waiter gets the lock, nobody fenced.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/sdlm.sh"
trap sd_teardown EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
now_s() { date +%s.%N; }
elapsed() { python3 -c "print('%.1f' % ($(now_s) - $1))"; }

sd_up 3
sd_timeouts
GRACE=$(sed -n 's/.*grace \([0-9]*\) ms.*/\1/p' "$CL_DIR/n1/sdlmd-file.log" | head -1)
SETTLE=$(sed -n 's/.*settle \([0-9]*\) ms.*/\1/p' "$CL_DIR/n1/sdlmd-file.log" | head -1)
echo "grace $GRACE ms, settle $SETTLE ms, heartbeat $I ms, dead bound $DEAD ms (+ membership)"

# --- A. minority ---------------------------------------------------------
for i in 1 2 3; do sd_lock "$i" -w 60 t warmup -- true; done
require "node 3 takes 'mine' (then keeps it cached)" sd_lock 3 -w 60 t mine -- true
cl_partition "1 2" "3"
require "nodes 1,2 see [1 2]" cl_wait_members 1 "1 2" 60
require "node 3 sees itself alone" cl_wait_for "node 3 inquorate" 60 cl_inquorate 3
check "node 3 (minority) re-takes its cached lock" sd_lock 3 -w 10 t mine -- true
# A passing view is not a minority (an overlapping partition goes through
# several): new requests are refused once it has lasted the settle time.
check "node 3 counts as a minority after the settle time" \
	cl_wait_for "node 3 minority" "$(( SETTLE / 1000 + 30 ))" \
	sh -c "ip netns exec ${CL_PREFIX}n3 $SDLMCTL ls | grep -q '^t  *minority'"
out=$(sd_lock 3 -w 8 t other -- true 2>&1); rc=$?
echo "node 3 (minority) asked for 'other': $out"
check "node 3 (minority) is granted nothing new (exit $rc)" test "$rc" != 0
check "it is told at once why (not in a quorate membership, not a timeout)" \
	sh -c 'printf "%s\n" "$1" | grep -q "not in a quorate membership"' sh "$out"
check "node 3 still fenced-safe (its disk lease holds)" sd_status_has 3 "fenced-safe"
check "majority still grants: node 1 gets 'majority'" sd_lock 1 -w 30 t majority -- true
cl_heal_all
require "healed: [1 2 3] again" cl_wait_members 1 "1 2 3" 90
check "node 3 rejoined the lockspace" cl_wait_for "node 3 ready" 60 \
	sh -c "ip netns exec ${CL_PREFIX}n3 $SDLMCTL ls | grep -q '^t  *ready'"
check "node 3's cached lock survived the partition" cl_wait_for "node 3 holds mine" 30 sd_holds 3 t mine EX
t0=$(now_s)
check "node 1 gets 'mine' from node 3 (it releases on request)" sd_lock 1 -w 60 t mine -- true
echo "hand-off after the heal took $(elapsed "$t0") s"
check "node 3 was not fenced" sh -c "$SDLMCTL fence status -d '$SD_DISK' 3 >/dev/null"
check "node 3 still running" sd_status_has 3 "fenced-safe"

# --- D. total loss of quorum, then a fresh replica -------------------------
# Every replica is dropped; the next quorate round forms a fresh one that
# knows none of the locks the nodes kept using meanwhile.  Node 3's lock
# user must be gone - killed AND reaped - before that replica grants
# anything.  Its parent here reaps it only 10 s after it died (a zombie
# stays in /proc), so a gate that did not wait would grant while it is
# still there (docs/model.md, finding 2).
reaper='import os, sys, time
pid = int(sys.argv[1])
def state():
    try:
        return open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None
while state() not in ("Z", None):
    time.sleep(0.1)
time.sleep(10)
os.waitpid(pid, 0)'
cl_spawn 3 totholder sh -c '"$1" lock -m EX -w 60 t tot -- sleep 600 & echo $! >"$2"; exec python3 -c "$3" $!' \
	sh "$SDLMCTL" "$CL_DIR/tot.pid" "$reaper" >/dev/null
require "node 3 holds EX on 'tot'" cl_wait_for "node 3 holds tot" 30 sd_holds 3 t tot EX
read -r hp <"$CL_DIR/tot.pid"
cl_cut 1; cl_cut 2; cl_cut 3
for i in 1 2 3; do
	require "node $i alone and inquorate" cl_wait_for "node $i inquorate" 60 cl_inquorate "$i"
done
check "node 3 keeps using its cached lock (holder pid $hp runs)" kill -0 "$hp"
cl_heal_all
require "healed: [1 2 3] again" cl_wait_members 1 "1 2 3" 90
t0=$(now_s)
out=$(sd_lock 1 -w 120 t tot -- sh -c "if kill -0 $hp 2>/dev/null; then echo holder-present; else echo holder-gone; fi" 2>&1)
echo "node 1 got 'tot' $(elapsed "$t0") s after the heal: $out"
check "node 1 got 'tot' only after node 3's lock user was reaped" sh -c "echo '$out' | grep -q holder-gone"
check "the fresh replica waited for node 3 (fencer log)" \
	grep -q "still use locks cached before quorum was lost" "$CL_DIR/n1/sdlmd-file.log"
check "node 3 revoked its cached lock and reported clean" \
	grep -q "reporting clean" "$CL_DIR/n3/sdlmd-file.log"
check "node 3 was not fenced" sd_status_has 3 "fenced-safe"

# --- F. lock users still being killed at a second total loss of quorum ------
# As D, but node 3's lock user is reaped only when the test says so, and
# meanwhile every partition loses quorum again and quorum re-forms.  The
# node's cache forgot the lock when it killed the user; the second fresh
# replica must still wait until the user is reaped.  Before the fix
# (docs/model.md finding 7, AS_IS_FORGET) node 3's JOIN did not say
# CACHED, the fresh replica did not count it, and node 1 was granted the
# lock while the killed user was still there.
reaper_f='import os, sys, time
pid, gate = int(sys.argv[1]), sys.argv[2]
def state():
    try:
        return open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None
while state() not in ("Z", None):
    time.sleep(0.1)
while not os.path.exists(gate):
    time.sleep(0.1)
os.waitpid(pid, 0)'
cl_spawn 3 f7holder sh -c '"$1" lock -m EX -w 60 t f7 -- sleep 600 & echo $! >"$2"; exec python3 -c "$3" $! "$4"' \
	sh "$SDLMCTL" "$CL_DIR/f7.pid" "$reaper_f" "$CL_DIR/f7-reap" >/dev/null
require "node 3 holds EX on 'f7'" cl_wait_for "node 3 holds f7" 30 sd_holds 3 t f7 EX
read -r fp <"$CL_DIR/f7.pid"
is_zombie() { [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
total_loss() {
	cl_cut 1; cl_cut 2; cl_cut 3
	for i in 1 2 3; do
		require "node $i alone and inquorate ($1)" cl_wait_for "node $i inquorate" 60 cl_inquorate "$i"
	done
	cl_heal_all
	require "healed: [1 2 3] again ($1)" cl_wait_members 1 "1 2 3" 90
}
total_loss "first loss"
require "node 3 killed its lock user (pid $fp), which is not reaped yet" \
	cl_wait_for "f7 user killed" 60 is_zombie "$fp"
dirty_line="still use locks cached before quorum was lost"
# Logged by the replica's holders when it counts a member dirty (the
# lowest member of the round that forms it may be any node: corosync
# often merges the nodes one ring after another).
dirty_count() { cat "$CL_DIR"/n[123]/sdlmd-file.log | grep -c "$dirty_line"; }
n_dirty=$(dirty_count)
total_loss "second loss, the killed user still there"
cl_spawn 1 f7waiter sh -c '"$1" lock -m EX -w 240 t f7 -- sh -c "if kill -0 $2 2>/dev/null; then echo holder-present; else echo holder-gone; fi" >"$3" 2>&1' \
	sh "$SDLMCTL" "$fp" "$CL_DIR/f7-out" >/dev/null
# Either node 1 is granted 'f7' at once (the hole) or the second fresh
# replica counts node 3 as still using cached locks.
decided() { [ -s "$CL_DIR/f7-out" ] || [ "$(dirty_count)" -gt "$n_dirty" ]; }
require "the second fresh replica decided about node 3" cl_wait_for "f7 decided" 120 decided
check "node 1 was not granted 'f7' while node 3's killed user was there" \
	sh -c '! grep -q holder-present "$1" 2>/dev/null' sh "$CL_DIR/f7-out"
touch "$CL_DIR/f7-reap"
require "node 1 gets 'f7'" cl_wait_for "node 1 got f7" 240 test -s "$CL_DIR/f7-out"
check "node 1 got 'f7' only after node 3's user was reaped" grep -q holder-gone "$CL_DIR/f7-out"
echo "node 1's request for 'f7': $(cat "$CL_DIR/f7-out" 2>/dev/null)"
check "node 3 was not fenced" sd_status_has 3 "fenced-safe"

# --- E. a release lost in a partition -----------------------------------------
cl_spawn 1 lostholder "$SDLMCTL" lock -m EX -w 60 t lost -- \
	sh -c 'while [ ! -e "$1" ]; do sleep 0.1; done' sh "$CL_DIR/release-lost" >/dev/null
require "node 1 holds EX on 'lost'" cl_wait_for "node 1 holds lost" 30 sd_holds 1 t lost EX
cl_spawn 2 lostwaiter "$SDLMCTL" lock -m EX -w 120 t lost -- touch "$CL_DIR/lost-got" >/dev/null
node2_waits() { sd_ctl 1 locks t 2>/dev/null | grep -A6 "resource lost" | grep -q "node 2 *waiting"; }
require "node 1 sees node 2 waiting for 'lost'" cl_wait_for "node 2 waits" 30 node2_waits
cl_cut 1
require "node 1 alone and inquorate" cl_wait_for "node 1 inquorate" 60 cl_inquorate 1
touch "$CL_DIR/release-lost"
holder_gone() { ! cl_pid 1 lostholder >/dev/null; }
require "node 1's holder released 'lost' while cut off" cl_wait_for "holder done" 30 holder_gone
cl_heal_all
require "healed: [1 2 3] again" cl_wait_members 1 "1 2 3" 90
t0=$(now_s)
check "node 2 gets 'lost' after the heal" cl_wait_for "node 2 got lost" 60 test -e "$CL_DIR/lost-got"
echo "node 2 got 'lost' $(elapsed "$t0") s after the heal"
check "node 1 sent its lost release again" grep -q "RELEASE of .* never reached the cluster" "$CL_DIR/n1/sdlmd-file.log"
check "node 1 was not fenced" sd_status_has 1 "fenced-safe"

# --- B. cut off, disk still there: the acknowledged path --------------------
cl_spawn 3 holder "$SDLMCTL" lock -m EX -w 60 t cut -- sleep 600 >/dev/null
require "node 3 holds EX on 'cut'" cl_wait_for "node 3 holds cut" 30 sd_holds 3 t cut EX
cl_cut 3
t0=$(now_s)
out=$(sd_lock 1 -w 240 t cut -- sh -c "$SDLMCTL fence status -d '$SD_DISK' 3 >/dev/null; echo fence-status=\$?" 2>&1)
took=$(elapsed "$t0")
echo "node 1 got the cut-off node's lock after $took s: $out"
check "node 1 got the lock" sh -c "echo '$out' | grep -q fence-status="
check "node 3 was fenced (OFF: acknowledged) before node 1 got it" sh -c "echo '$out' | grep -q fence-status=2"
check "node 3 acknowledged a pill (its log)" grep -q "poison pill" "$CL_DIR/n3/sdlmd-file.log"
check "node 3 reset by its watchdog" cl_wait_for "node 3 gone" 60 sd_node_gone 3
bound=$(python3 -c "print(($GRACE + 2 * $I) / 1000 + 30)")
echo "bound used: grace + 2 heartbeats + 30 s for corosync to notice the cut and a slow machine: $bound s"
check "within the bound ($took <= $bound s)" python3 -c "import sys; sys.exit(0 if $took <= $bound else 1)"

t_tally
[ "$fails" = 0 ]
