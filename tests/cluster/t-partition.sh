#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Partitions on a real 3-node corosync cluster with one shared disk:
#   A. the minority side grants nothing new (once it has been a minority
#      for corosync's settle time, a request there fails at once with
#      SDLM_ENOQUORUM) while its node keeps using what it holds (cached);
#      after the heal it rejoins with its locks intact, is not fenced, and
#      gives them up when asked;
#   B. a node cut off from the network but not from the disk, whose lock
#      another node wants, gives it back through the disk (the hand-off,
#      docs/design-handoff.md): its holder, which ignores its blocking
#      callback, is killed after K, the others get the lock within
#      detection + the bound B, nobody is fenced, and the node rejoins after
#      the heal;
#   C. a cold start with one node cut off grants nothing that node holds
#      until it is fenced;
#   D. every partition loses quorum, quorum re-forms without node 2: the
#      fresh replica is rebuilt from the locks the members report (protocol
#      4): a lock held across the loss stays with its user (not killed), no
#      second holder is granted, and node 2, which did not come back, is
#      fenced before anything is granted; then node 2 comes back;
#   F. with a member of protocol 3 (the fresh replica is not rebuilt): the
#      cached locks are revoked, and the replica grants nothing until their
#      users are gone (killed and reaped); a killed user not reaped yet when
#      every partition loses quorum again is waited for by the second fresh
#      replica too (docs/model.md findings 2 and 7);
#   E. a release made while cut off, before anybody noticed the cut, never
#      reaches the others (it is delivered in the lone node's partition
#      only): after the heal the node sends it again and the waiter gets
#      the lock, nobody fenced.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/sdlm.sh"
trap sd_teardown EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
T_ON_REQUIRE=sd_diag
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

# --- D. total loss of quorum: the fresh replica is rebuilt -----------------
# Every replica is dropped; the next quorate round forms a fresh one that
# knows none of the locks the nodes kept using meanwhile.  Every member
# speaks protocol 4, so it is rebuilt from what they report
# (docs/protocol.md "Rebuilding a fresh replica", issue 17 item 6): node
# 3's lock user keeps 'tot' across the loss, is not killed, and nobody
# else is granted 'tot' while it runs.  Node 2, holding 'abs', does not
# come back (still cut off): nothing is granted until it is fenced (it
# may still use 'abs'), so node 1 gets 'abs' only with node 2 fenced.
# (Part F runs the revoke path of a lockspace with an older member.)
tD=$(now_s)
cl_spawn 3 totholder "$SDLMCTL" lock -m EX -w 60 t tot -- \
	sh -c 'while [ ! -e "$1" ]; do sleep 0.1; done; touch "$2"' sh "$CL_DIR/tot-release" "$CL_DIR/tot-done" >/dev/null
require "node 3 holds EX on 'tot'" cl_wait_for "node 3 holds tot" 30 sd_holds 3 t tot EX
hp=$(cl_pid 3 totholder)
cl_spawn 2 absholder "$SDLMCTL" lock -m EX -w 60 t abs -- sleep 600 >/dev/null
require "node 2 holds EX on 'abs'" cl_wait_for "node 2 holds abs" 30 sd_holds 2 t abs EX
kills3=$(grep -c "local lock holder" "$CL_DIR/n3/sdlmd-file.log")
cl_cut 1; cl_cut 2; cl_cut 3
for i in 1 2 3; do
	require "node $i alone and inquorate" cl_wait_for "node $i inquorate" 60 cl_inquorate "$i"
done
check "node 3 keeps using its cached lock (holder pid $hp runs)" kill -0 "$hp"
cl_heal 1; cl_heal 3
require "nodes 1,3 see [1 3] (node 2 still cut off)" cl_wait_members 1 "1 3" 90
t0=$(now_s)
out=$(sd_lock 1 -w 240 t abs -- sh -c "$SDLMCTL fence status -d '$SD_DISK' 2 >/dev/null; echo fence-status=\$?" 2>&1)
echo "node 1 got 'abs' $(elapsed "$t0") s after quorum re-formed: $out"
check "node 2, which did not come back, was fenced before the gate opened" \
	sh -c "echo '$out' | grep -q fence-status=2"
check "the fresh replica waited for the members' cached locks (dirty set)" \
	grep -q "still use locks cached before quorum was lost" "$CL_DIR"/n[13]/sdlmd-file.log
check "node 3 reported its cached locks to the rebuilt replica" \
	grep -q "reported to the rebuilt replica" "$CL_DIR/n3/sdlmd-file.log"
check "node 3's lock user was not killed (pid $hp runs)" kill -0 "$hp"
check "node 3 killed no lock user" \
	test "$(grep -c "local lock holder" "$CL_DIR/n3/sdlmd-file.log")" = "$kills3"
check "node 3 still holds 'tot' (its view)" sd_holds 3 t tot EX
node1_sees_3_tot() { sd_ctl 1 locks t 2>/dev/null | grep -E -A8 "resource tot( |\$)" | grep -q "node 3 .*granted *EX"; }
check "node 1's replica shows node 3 holding 'tot'" node1_sees_3_tot
out=$(sd_lock 1 -n t tot -- echo granted 2>&1); rc=$?
check "no second holder: node 1's NOQUEUE request for 'tot' fails (exit $rc)" \
	sh -c "[ $rc = 75 ] && ! echo '$out' | grep -q granted"
touch "$CL_DIR/tot-release"
out=$(sd_lock 1 -w 60 t tot -- sh -c "if [ -e '$CL_DIR/tot-done' ]; then echo holder-done; else echo holder-running; fi" 2>&1)
check "node 1 gets 'tot' only after node 3's user is done with it ($out)" sh -c "echo '$out' | grep -q holder-done"
check "node 3 was not fenced" sd_status_has 3 "fenced-safe"
# node 2 was reset by its watchdog: it comes back (a reboot)
require "node 2 reset by its watchdog" cl_wait_for "node 2 gone" 90 sd_node_gone 2
cl_heal_all
require "node 2 restarts corosync" cl_start_corosync 2
require "node 2 back in the membership" cl_wait_members 1 "1 2 3" 90
require "sdlmd on node 2 again" sd_start 2
require "node 2 fenced-safe again" cl_wait_for "node 2 safe" 60 sd_status_has 2 "fenced-safe"
echo "part D took $(elapsed "$tD") s (node 2's fence and reboot included)"

# --- F. lock users still being killed at a second total loss of quorum ------
# A lockspace with a member that speaks protocol 3 at most (node 3, by the
# test seam SDLM_TEST_PROTO_MAX) takes the revoke path: a fresh replica's
# dirty members revoke their cached locks (their users are killed) and
# report CLEAN once the users are reaped; the replica grants nothing
# before (docs/model.md finding 2).  Here node 3's lock user is reaped
# only when the test says so, and meanwhile every partition loses quorum
# again and quorum re-forms.  The node's cache forgot the lock when it
# killed the user; the second fresh replica must still wait until the
# user is reaped.  Before the fix (docs/model.md finding 7, AS_IS_FORGET)
# node 3's JOIN did not say CACHED, the fresh replica did not count it,
# and node 1 was granted the lock while the killed user was still there.
tF=$(now_s)
cl_kill 3 sdlmd TERM
require "sdlmd on node 3 stopped cleanly" cl_wait_for "node 3 stopped" 30 \
	sh -c "! ip netns exec ${CL_PREFIX}n3 $SDLMCTL status >/dev/null 2>&1"
cl_spawn 3 sdlmd env SDLM_TEST_PROTO_MAX=3 "$SDLMD" -f -d "$SD_DISK" --node-name=node3 \
	--watchdog-device="$CL_DIR/n3/wd.fifo" --run-dir="$CL_DIR/n3/run" \
	--log-file="$CL_DIR/n3/sdlmd-file.log" --log-syslog=no --fault-file="$CL_DIR/n3/fault" \
	--fence-window-s="${SD_FENCE_WINDOW_S:-20}" ${SD_EXTRA_OPTS:-} >/dev/null
require "node 3 fenced-safe again (protocol 3 at most)" cl_wait_for "node 3 safe" 60 sd_status_has 3 "fenced-safe"
echo "node 3's restart at protocol 3 took $(elapsed "$tF") s"
sd_spawn_unreaped 3 f7holder "$CL_DIR/f7.pid" "$CL_DIR/f7-reap" \
	"$SDLMCTL" lock -m EX -w 60 t f7 -- sleep 600 >/dev/null
require "node 3 holds EX on 'f7'" cl_wait_for "node 3 holds f7" 30 sd_holds 3 t f7 EX
read -r fp <"$CL_DIR/f7.pid"
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
	cl_wait_for "f7 user killed" 60 sd_is_zombie "$fp"
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
# The holder lets go right after the cut, before either side notices it
# (token + consensus): its release goes out into the ring that is breaking
# and is delivered in node 1's lone partition only.  The others then ask
# node 1 for 'lost' through the disk, and node 1, whose caches no longer
# know the lock, answers at once (design-handoff.md V1, "gone"); if the
# heal comes first, node 1 sends the lost release again.  Either way node
# 2 gets it and nobody is fenced.
cl_cut 1
touch "$CL_DIR/release-lost"
holder_gone() { ! cl_pid 1 lostholder >/dev/null; }
require "node 1's holder released 'lost' while cut off" cl_wait_for "holder done" 30 holder_gone
require "node 1 alone and inquorate" cl_wait_for "node 1 inquorate" 60 cl_inquorate 1
cl_heal_all
require "healed: [1 2 3] again" cl_wait_members 1 "1 2 3" 90
t0=$(now_s)
check "node 2 gets 'lost' after the heal" cl_wait_for "node 2 got lost" 60 test -e "$CL_DIR/lost-got"
echo "node 2 got 'lost' $(elapsed "$t0") s after the heal"
lost_back() {
	grep -q "RELEASE of .* never reached the cluster" "$CL_DIR/n1/sdlmd-file.log" ||
		grep -q "node 1 gave .* back through the disk" "$CL_DIR"/n[23]/sdlmd-file.log
}
check "node 1's lost release reached the others (answered through the disk, or sent again after the heal)" lost_back
check "node 1 was not fenced" sd_status_has 1 "fenced-safe"

# --- B. cut off, disk still there: the hand-off through the disk ------------
# Node 3's holder ignores its blocking callback.  Node 1's fencer asks node 3
# through the disk at once (no grace); node 3 kills the holder after K (its
# pill drain limit L), answers in its own heartbeat slot, and node 1's
# fencer releases the lock on its behalf: node 1 gets it with nobody fenced
# and node 3's holder gone first (no second holder).  Node 3 keeps running
# and rejoins after the heal without its handed-off lock.
cl_spawn 3 holder "$SDLMCTL" lock -m EX -w 60 t cut -- sleep 600 >/dev/null
require "node 3 holds EX on 'cut'" cl_wait_for "node 3 holds cut" 30 sd_holds 3 t cut EX
hpid=$(cl_pid 3 holder)
cl_cut 3
t0=$(now_s)
out=$(sd_lock 1 -w 240 t cut -- sh -c "$SDLMCTL fence status -d '$SD_DISK' 3 >/dev/null; echo fence-status=\$?; if kill -0 $hpid 2>/dev/null; then echo holder=alive; else echo holder=gone; fi" 2>&1)
took=$(elapsed "$t0")
echo "node 1 got the cut-off node's lock after $took s: $out"
check "node 1 got the lock" sh -c "echo '$out' | grep -q fence-status="
check "node 3 was not fenced (fence status ON) when node 1 got it" sh -c "echo '$out' | grep -q fence-status=0"
check "node 3's holder was gone (killed after K) when node 1 got it" sh -c "echo '$out' | grep -q holder=gone"
check "node 1's fencer asked node 3 through the disk" grep -q "node 3 is away and holds .* asking it through the disk" "$CL_DIR/n1/sdlmd-file.log"
check "node 3 killed its holder after K" grep -q "hand-off: the holders of .* did not let go" "$CL_DIR/n3/sdlmd-file.log"
check "node 3 answered through the disk" grep -q "handed off through the disk while cut off" "$CL_DIR/n3/sdlmd-file.log"
check "node 1 released it on node 3's behalf" grep -q "node 3 gave .* back through the disk" "$CL_DIR/n1/sdlmd-file.log"
check "node 3 read no pill" eval '! grep -q "poison pill" "$CL_DIR/n3/sdlmd-file.log"'
check "node 3 still running, fenced-safe" sd_status_has 3 "fenced-safe"
# Detection (token + consensus: half the settle time) and the hand-off's
# bound B = 3I + 4T + K (K = L), as a ceiling: the expected time is about
# detection + K + two heartbeats.  Plus 30 s for a slow machine.
bound=$(python3 -c "print(($SETTLE / 2 + 3 * $I + 4 * $T + $L) / 1000 + 30)")
echo "bound used: detection + B + 30 s: $bound s"
check "within the bound ($took <= $bound s)" python3 -c "import sys; sys.exit(0 if $took <= $bound else 1)"
cl_heal_all
require "healed: [1 2 3] again" cl_wait_members 1 "1 2 3" 90
check "node 3 fenced-safe after the heal (not fenced)" cl_wait_for "node 3 safe" 60 sd_status_has 3 "fenced-safe"
check "node 3 takes 'cut' again after its rejoin" sd_lock 3 -w 60 t cut -- true
check "node 3 was never fenced" sh -c "$SDLMCTL fence status -d '$SD_DISK' 3 >/dev/null"

t_tally
[ "$fails" = 0 ]
