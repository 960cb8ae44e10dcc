#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A slow CPG join blocks nothing (issue 13, hole 7, the CPG half).
#
# corosync holds its reply to the calls of a CPG join while it syncs a
# membership (and a hung corosync never replies: t-cpg-join-hang.sh).
# Node 1's sdlmd runs with the test seam SDLM_TEST_CPG_JOIN_HOLD=<file>:
# while the file exists, its cpg_join does not return (cpg.c's join
# thread waits, as in corosync).  A client's first request for lockspace
# 'slow' then starts a join that does not go through.  Meanwhile:
#   - the daemon answers `sdlmctl ls` and shows 'slow' joining; once the
#     join goes through, the request waiting for it is granted;
#   - held for longer than the watchdog timeout W: its heartbeat goes on
#     (the loop feeds the watchdog: the node is not reset), another
#     client's request in a lockspace already joined is granted, and the
#     request ends (granted, or refused after the settle time).
# A join that never goes through: the request fails with SDLM_ENOQUORUM
# ("not in a quorate membership") once corosync's settle time is over
# (2 x (token + consensus), from the daemon's log), not after the client's
# own wait; a later request joins afresh.
# With SDLM_TEST_CPG_JOIN_FAIL=<file>, cpg_join is refused while the file
# exists: each attempt's connection must be finalized (no fd leak).
# SIGTERM while a join is held: the daemon still stops cleanly (exit 0,
# slot free, watchdog disarmed, no marker left), and restarts.
# On the old code the daemon slept in the join (up to 10 s per step) and
# the watchdog reset the node.  Waits derive from the timeouts.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/sdlm.sh"
trap sd_teardown EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
now_s() { date +%s.%N; }
elapsed() { python3 -c "print('%.1f' % ($(now_s) - $1))"; }

[ "$(id -u)" = 0 ] || { echo "FAIL: must run as root"; exit 1; }

# A token of 5 s makes the settle time (about 25 s) longer than W.
export CL_TOKEN=${CL_TOKEN:-5000}
sd_up 3
sd_timeouts
SETTLE=$(sed -n 's/.*settle \([0-9]*\) ms.*/\1/p' "$CL_DIR/n1/sdlmd-file.log" | head -1)
echo "settle $SETTLE ms, heartbeat $I ms, watchdog $W ms"
require "the settle time is longer than W + 2 heartbeats" \
	test "${SETTLE:-0}" -gt $(( W + 2 * I ))
WAIT_S=$(( (SETTLE + 2 * W) / 1000 + 30 ))

for i in 1 2 3; do sd_lock "$i" -w 60 t warmup -- true; done

# node 1's sdlmd again, with the seam
cl_kill 1 sdlmd TERM
require "sdlmd on node 1 stopped cleanly" cl_wait_for "node 1 stopped" "$WAIT_S" \
	sh -c "! ip netns exec ${CL_PREFIX}n1 $SDLMCTL status >/dev/null 2>&1"
HOLD=$CL_DIR/n1/join-hold
FAILJ=$CL_DIR/n1/join-fail
export SDLM_TEST_CPG_JOIN_HOLD=$HOLD SDLM_TEST_CPG_JOIN_FAIL=$FAILJ
require "sdlmd restarted on node 1 with the join seams" sd_restart 1
unset SDLM_TEST_CPG_JOIN_HOLD SDLM_TEST_CPG_JOIN_FAIL
require "node 1 fenced-safe again" cl_wait_for "node 1 safe" "$WAIT_S" sd_status_has 1 "fenced-safe"
require "node 1 takes 't' again (joins at once: no hold yet)" sd_lock 1 -w 60 t warmup -- true

# node 1's heartbeat counter on the disk
counter() {
	"$SDLMCTL" --json fence list -d "$SD_DISK" | python3 -c '
import json, sys
for n in json.load(sys.stdin)["nodes"]:
    if n["node"] == 1:
        print(n["counter"])'
}
advanced() { [ "$(counter)" -ge "$1" ]; }
ls_state() { sd_ctl 1 ls 2>/dev/null | grep -qE "^$1 +$2( |\$)"; }

# --- a join held briefly, then let through -------------------------------
touch "$HOLD"
cl_spawn 1 slow "$SDLMCTL" lock -m EX -w "$WAIT_S" slow r -- echo granted >/dev/null
check "node 1's daemon answers while its join of 'slow' is held, and shows it joining" \
	cl_wait_for "'slow' joining" 30 ls_state slow joining
rm -f "$HOLD"
check "once the join goes through, the queued request is granted" \
	cl_wait_for "'slow' granted" "$WAIT_S" grep -q granted "$CL_DIR/n1/slow.log"
check "'slow' is ready on node 1" cl_wait_for "'slow' ready" "$WAIT_S" ls_state slow ready
check "the log says how long the join took" grep -q "ls slow: joined its CPG group after" \
	"$CL_DIR/n1/sdlmd-file.log"

# --- a join held for longer than W ----------------------------------------
# A loop stuck that long would let the watchdog reset the node.  The hold
# is a fault's duration, as in the nemesis.  How the request ends depends
# on how long the steps below take on this machine: granted if the hold
# ends within the settle time, else SDLM_ENOQUORUM; either way it ends.
touch "$HOLD"
t0=$(now_s)
cl_spawn 1 held "$SDLMCTL" lock -m EX -w "$WAIT_S" held r -- echo granted >/dev/null
hp=$(cl_pid 1 held)
check "node 1 is joining 'held'" cl_wait_for "'held' joining" 30 ls_state held joining
check "another request, in a lockspace joined before, is granted meanwhile" \
	sd_lock 1 -w 30 t other -- true
c1=$(counter)
sleep $(( (W + 2 * I + 999) / 1000 ))
check "node 1's heartbeat went on while the join was held past W (counter $c1 -> $(counter))" \
	advanced $(( c1 + 2 ))
check "node 1's sdlmd is alive (not reset by its watchdog)" sd_status_has 1 "fenced-safe"
echo "the join of 'held' was held for $(elapsed "$t0") s"
rm -f "$HOLD"
check "the request for 'held' ends (granted, or refused after the settle time)" \
	cl_wait_for "'held' answered" "$WAIT_S" sh -c "! kill -0 $hp 2>/dev/null"
echo "  'held': $(tr '\n' ' ' <"$CL_DIR/n1/held.log")"
check "  and it was granted or refused with a clear error" \
	grep -qE "granted|not in a quorate membership" "$CL_DIR/n1/held.log"

# --- a join that never goes through -----------------------------------------
touch "$HOLD"
t0=$(now_s)
out=$(sd_lock 1 -w "$(( 2 * SETTLE / 1000 + 60 ))" never r -- echo granted 2>&1); rc=$?
echo "the request for 'never' was answered after $(elapsed "$t0") s (exit $rc): $out"
check "a join that never goes through fails the request (exit $rc)" test "$rc" != 0
check "with a clear error (not in a quorate membership), not the client's timeout" \
	sh -c 'printf "%s\n" "$1" | grep -q "not in a quorate membership"' sh "$out"
check "the log names the lockspace and what to check" \
	grep -q "ls never: cannot join its CPG group in .*check corosync" "$CL_DIR/n1/sdlmd-file.log"
check "'never' is closed (no lockspace left behind)" sh -c "! ip netns exec ${CL_PREFIX}n1 $SDLMCTL ls | grep -q '^never '"
rm -f "$HOLD"
check "a later request joins afresh and is granted" sd_lock 1 -w "$WAIT_S" never r -- true
check "node 1 is still fenced-safe" sd_status_has 1 "fenced-safe"

# --- a join corosync refuses leaves nothing behind (review item 3) -----------
# With SDLM_TEST_CPG_JOIN_FAIL's file present, cpg_join is refused (a hard
# error, after the connection to corosync is made).  Each request fails;
# the connection of each attempt must be finalized: the daemon's open fds
# do not grow with the retries (the old code leaked one per attempt).
dpid=$(cl_pid 1 sdlmd)
nfds() { ls "/proc/$dpid/fd" | wc -l; }
touch "$FAILJ"
out=$(sd_lock 1 -w 60 refused r -- echo granted 2>&1); rc=$?
echo "a refused join: exit $rc: $out"
check "a join corosync refuses fails the request (exit $rc)" test "$rc" != 0
f0=$(nfds)
for k in 1 2 3 4 5 6 7 8 9 10; do sd_lock 1 -w 60 refused r -- true >/dev/null 2>&1; done
few() { [ "$(nfds)" -le $(( f0 + 2 )) ]; }
cl_wait_for "sdlmd's fds back to $f0" 30 few
check "10 refused joins later sdlmd has $(nfds) fds open, $f0 before (nothing leaked)" few
rm -f "$FAILJ"
check "once corosync takes the join again, 'refused' works" sd_lock 1 -w "$WAIT_S" refused r -- true

# --- a clean stop while a join is held (the close-during-join path) --------
# SIGTERM while the join thread is still in cpg_join: the lockspace is
# closed under the thread (cpg.c abandons the join to it).  The daemon must
# still stop cleanly, as without the join: exit 0, the waiting request
# answered, the slot marked free, the watchdog disarmed (magic close), the
# pid file and the unclean-exit marker removed; and a restart needs no
# --recover.
slot_state() {
	"$SDLMCTL" --json fence list -d "$SD_DISK" | python3 -c '
import json, sys
s = [n["state"] for n in json.load(sys.stdin)["nodes"] if n["node"] == 1]
print(s[0] if s else "free")'
}
touch "$HOLD"
cl_spawn 1 byebye "$SDLMCTL" lock -m EX -w "$WAIT_S" byebye r -- echo granted >/dev/null
bp=$(cl_pid 1 byebye)
check "node 1 is joining 'byebye'" cl_wait_for "'byebye' joining" 30 ls_state byebye joining
ndisarm=$(grep -c "magic close: disarmed" "$CL_DIR/n1/watchdog.log")
kill -TERM "$dpid"
check "SIGTERM while the join is held: sdlmd stops" \
	cl_wait_for "node 1's sdlmd gone" "$WAIT_S" sh -c "! kill -0 $dpid 2>/dev/null"
check "  with exit status 0 (its log: $(grep 'sdlmd exiting' "$CL_DIR/n1/sdlmd-file.log" | tail -1))" \
	sh -c 'grep "sdlmd exiting" "$1" | tail -1 | grep -q "exiting (0)"' sh "$CL_DIR/n1/sdlmd-file.log"
check "  the request waiting for the join is answered" \
	cl_wait_for "'byebye' answered" "$WAIT_S" sh -c "! kill -0 $bp 2>/dev/null"
check "  and was not granted" sh -c "! grep -q granted '$CL_DIR/n1/byebye.log'"
check "  node 1's slot is free on the disk (it is $(slot_state))" test "$(slot_state)" = free
check "  its watchdog was disarmed by the magic close" \
	test "$(grep -c "magic close: disarmed" "$CL_DIR/n1/watchdog.log")" -gt "$ndisarm"
check "  its pid file and unclean-exit marker are gone" \
	sh -c "! ls '$CL_DIR/n1/run/' | grep -qE '\\.(pid|running)\$'"
rm -f "$HOLD"
require "sdlmd restarts on node 1 without --recover" sd_restart 1
check "and is fenced-safe again" cl_wait_for "node 1 safe" "$WAIT_S" sd_status_has 1 "fenced-safe"

t_tally
[ "$fails" = 0 ]
