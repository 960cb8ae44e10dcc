#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Three sdlmd on one file-backed disk (disk-only mode, test watchdog per
# node): all alive; a reset pill is acknowledged within the ack bound and
# the node dies by its watchdog; failing disk I/O on a node makes it stop
# and die within lease + watchdog while the others stay up; a clean stop
# frees the slot; a start whose IPC server cannot be set up (after its
# first heartbeat) exits 7 and leaves as a clean stop does; a second
# daemon with the same ipc name is refused (exit 5) without touching the
# first one's pid file; `fence message --wait`
# stalled after each read (a test seam) does not call a live node dead; a
# disk that refuses every write ends the daemon (exit 2, watchdog
# disarmed), no reset; nothing is left running.
. "$SDLM_SRCDIR/tests/lib.sh"
t_init daemons
C="$SDLMCTL"
DISK="$TD/disk.img"
WD_S=8
$C fence init -d "$DISK" --cluster daemons --nodes 4 --profile test >/dev/null || { nok "init"; t_done; exit 1; }
eval "$($C --json fence dump -d "$DISK" | python3 -c '
import json,sys; t=json.load(sys.stdin)["timeouts"]
print("I=%d T=%d W=%d L=%d DEAD=%d ACK=%d" % (t["hb_interval_ms"], t["io_timeout_ms"],
      t["watchdog_timeout_ms"], t["lease_ms"], t["dead_ms"], t["ack_bound_ms"]))')"
echo "timeouts: I=$I T=$T W=$W lease=$L dead=$DEAD ack=$ACK (ms)"

for i in 1 2 3; do node_start $i || nok "start node $i"; done
all_alive() {
	local out
	out=$($C --json fence list -d "$DISK") || return 1
	python3 -c '
import json,sys
n={x["node"]:x for x in json.loads(sys.argv[1])["nodes"]}
assert all(n.get(i,{}).get("state")=="alive" and n[i]["counter"]>=2 for i in (1,2,3)), n' "$out"
}
check "fence list shows nodes 1-3 alive" wait_for "all three alive" 30 all_alive
check "node 1 status: fenced-safe" wait_for "node 1 fenced-safe" 10 sh -c "$C --ipc $T_RUN-n1 status | grep -q 'fenced-safe'"
check "node 1 sees node 3 live" wait_for "node 1 sees 3 live" 10 sh -c "$C --ipc $T_RUN-n1 --json nodes | grep -q '\"node\":3,[^}]*\"liveness\":\"live\"'"
check "fence status 3 says ON" $C fence status -d "$DISK" 3

# --- reset pill: acknowledged path ----------------------------------------
t0=$(now_ms)
out=$($C fence message -d "$DISK" --wait=60 2 reset 2>&1); rc=$?
t1=$(now_ms)
echo "$out"
if [ $rc = 0 ] && echo "$out" | grep -q acknowledged; then
	ok "reset pill to node 2 acknowledged after $((t1 - t0)) ms (bound $ACK ms)"
	check "acknowledged within the ack bound" test $((t1 - t0)) -le "$ACK"
else
	nok "reset pill to node 2: rc=$rc $out"
fi
check "node 2 killed by its watchdog within W + 2I" wait_for "node 2 gone" $(( (W + 2 * I) / 1000 + 5 )) node_gone 2
t2=$(now_ms); echo "node 2 gone $((t2 - t1)) ms after the ack"
check "fence status 2 says OFF (exit 2)" sh -c "$C fence status -d '$DISK' 2 >/dev/null; test \$? = 2"
check "nodes 1 and 3 still running" sh -c "test -n \"\$(cat $(cg_dir 1)/cgroup.procs)\" && test -n \"\$(cat $(cg_dir 3)/cgroup.procs)\""
check "node 2's log tells the pill" grep -q "poison pill" "$TD/n2/sdlmd.log"

# --- disk I/O failing on node 3 -----------------------------------------
echo "all:error=EIO" > "$TD/n3/fault"
t0=$(now_ms)
check "node 3 stops and dies within lease + W + 2I" \
	wait_for "node 3 gone" $(( (L + W + 2 * I) / 1000 + 5 )) node_gone 3
echo "node 3 gone $(( $(now_ms) - t0 )) ms after its I/O started failing (bound $((L + W)) ms + injection latency)"
check "node 3's log says it self-fenced" grep -q "self-fencing" "$TD/n3/sdlmd.log"
check "node 1 still up and fenced-safe" sh -c "$C --ipc $T_RUN-n1 status | grep -q fenced-safe"
# node 1's view of node 3: its counter stands still
check "node 1 sees node 3 still" wait_for "node 3 still" $(( L / 1000 + 10 )) \
	sh -c "$C --ipc $T_RUN-n1 --json nodes | grep -q '\"node\":3,[^}]*\"liveness\":\"\\(still\\|dead\\)\"'"

# --- clean stop of node 1 frees its slot, watchdog disarmed ---------------
kill -TERM "$(cat "$TD/n1/sdlmd.pid")"
check "node 1 exits cleanly" wait_for "node 1 exit" 20 node_gone 1
check "node 1 slot is free after a clean stop" wait_for "slot 1 free" 5 \
	sh -c "$C --json fence list -d '$DISK' | grep -q '\"node\":1,[^}]*\"state\":\"free\"'"
check "node 1 watchdog disarmed by the magic close" grep -q "magic close" "$TD/n1/wd.log"
check "dump of the debug ring needs the daemon" sh -c "$C --ipc $T_RUN-n1 dump >/dev/null 2>&1; test \$? = 69"

# --- a restarted daemon after an unclean exit ---------------------------------
# The marker in the run dir (a tmpfs in production, emptied at boot) tells
# the new daemon that its predecessor of this boot died: its lock users may
# still run, so it must not serve (nor feed the watchdog) - unless an
# operator says they are gone (--recover).
node_start 4 || nok "start node 4"
check "node 4 runs" wait_for "node 4 fenced-safe" 30 sh -c "$C --ipc $T_RUN-n4 status | grep -q fenced-safe"
kill -KILL "$(cat "$TD/n4/sdlmd.pid")"
check "node 4's daemon is gone" wait_for "node 4 daemon gone" 10 sh -c "! kill -0 $(cat "$TD/n4/sdlmd.pid") 2>/dev/null"
restart4() {
	exec bash -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' _ "$(cg_dir 4)" \
		"$SDLMD" -f -d "$DISK" -n 4 --corosync=no --node-name=node4 \
		--watchdog-device="$TD/n4/wd.fifo" --ipc-name="$T_RUN-n4" \
		--run-dir="$TD/n4" --log-file="$TD/n4/sdlmd.log" --log-syslog=no "$@"
}
(restart4) >"$TD/n4/restart.out" 2>&1; rc=$?
check "a restart after the unclean exit is refused (exit $rc = 4)" test "$rc" = 4
check "and says why" grep -q "did not exit cleanly" "$TD/n4/restart.out"
restart4 --recover >"$TD/n4/recover.out" 2>&1 &
T_PIDS="$T_PIDS $!"
echo $! >"$TD/n4/sdlmd.pid"
check "with --recover it starts and is fenced-safe" wait_for "node 4 recovered" 30 \
	sh -c "$C --ipc $T_RUN-n4 status | grep -q fenced-safe"
# A start that fails after its first heartbeat (review s25-rev2): the IPC
# server is set up last, after the first tick wrote the slot ALIVE.  Node
# 1's daemon with node 4's ipc name (its own run dir: no pid file clash)
# fails there (exit 7).  It never held a lease and no client reached it,
# so it leaves as a clean stop does: slot free, watchdog disarmed, no
# marker.  Before, its slot stayed ALIVE and stood still: the others'
# cold-start gate waited for it and fenced it after the dead bound.
c1=$($C --json fence list -d "$DISK" | python3 -c '
import json,sys; print([n for n in json.load(sys.stdin)["nodes"] if n["node"]==1][0]["counter"])')
closes1=$(grep -c "magic close" "$TD/n1/wd.log")
mkdir -p "$TD/n1b"
bash -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' _ "$(cg_dir 1)" \
	"$SDLMD" -f -d "$DISK" -n 1 --corosync=no --node-name=node1 \
	--watchdog-device="$TD/n1/wd.fifo" --ipc-name="$T_RUN-n4" \
	--run-dir="$TD/n1b" --log-file="$TD/n1/ipcfail.log" --log-syslog=no >"$TD/n1/ipcfail.out" 2>&1; rc=$?
check "a start whose IPC server cannot be set up fails (exit $rc = 7)" test "$rc" = 7
check "its log names the ipc" grep -q "ipc '$T_RUN-n4'" "$TD/n1/ipcfail.log"
check "it had written its slot (counter above $c1) and left it free" python3 -c '
import json,subprocess,sys
d=json.loads(subprocess.check_output([sys.argv[1], "--json", "fence", "list", "-d", sys.argv[2]]))
n=[n for n in d["nodes"] if n["node"]==1][0]
assert n["counter"] > int(sys.argv[3]) and n["state"] == "free", n' "$C" "$DISK" "$c1"
check "its watchdog was disarmed by the magic close" \
	sh -c "test \$(grep -c 'magic close' '$TD/n1/wd.log') -gt $closes1"
check "it left no marker" test ! -e "$TD/n1b/sdlmd-$T_RUN-n4.running"
check "node 4 still runs" sh -c "$C --ipc $T_RUN-n4 status | grep -q fenced-safe"
# A second daemon with the same ipc name is refused (exit 5) and leaves the
# running one's pid file alone: logrotate finds the daemons to send SIGHUP
# to by their pid files, and a third start must be refused the same way.
pidf="$TD/n4/sdlmd-$T_RUN-n4.pid"
check "node 4's pid file names its daemon" grep -qx "$(cat "$TD/n4/sdlmd.pid")" "$pidf"
# (their own log file: the last incarnation in sdlmd.log stays the slot's)
(restart4 --log-file="$TD/n4/refused.log") >"$TD/n4/second.out" 2>&1; rc=$?
check "a second sdlmd with the same ipc name is refused (exit $rc = 5)" test "$rc" = 5
check "and says why" grep -q "another sdlmd runs with ipc name" "$TD/n4/second.out"
check "the running daemon's pid file is still there" grep -qx "$(cat "$TD/n4/sdlmd.pid")" "$pidf"
(restart4 --log-file="$TD/n4/refused.log") >"$TD/n4/third.out" 2>&1; rc=$?
check "a third one is refused the same way (exit $rc = 5)" test "$rc" = 5
kill -TERM "$(cat "$TD/n4/sdlmd.pid")"
check "node 4 stops cleanly" wait_for "node 4 stopped" 20 sh -c "! kill -0 $(cat "$TD/n4/sdlmd.pid") 2>/dev/null"
check "a clean exit removes the marker" test ! -e "$TD/n4/sdlmd-$T_RUN-n4.running"

# --- incarnations grow even when the wall clock went back ----------------------
# A "node fenced" for an incarnation not above the last one fenced is
# ignored, so a daemon started with its clock two days behind must still
# take an incarnation above the one its slot names.
prev=$(sed -n 's/.*incarnation \([0-9a-f]\{16\}\)$/\1/p' "$TD/n4/sdlmd.log" | tail -1)
FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f -2d bash -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' _ "$(cg_dir 4)" \
	"$SDLMD" -f -d "$DISK" -n 4 --corosync=no --node-name=node4 \
	--watchdog-device="$TD/n4/wd.fifo" --ipc-name="$T_RUN-n4" \
	--run-dir="$TD/n4" --log-file="$TD/n4/sdlmd.log" --log-syslog=no >"$TD/n4/behind.out" 2>&1 &
T_PIDS="$T_PIDS $!"
echo $! >"$TD/n4/sdlmd.pid"
check "with its clock 2 days behind node 4 starts and is fenced-safe" wait_for "node 4 behind" 30 \
	sh -c "$C --ipc $T_RUN-n4 status | grep -q fenced-safe"
now=$($C --ipc "$T_RUN-n4" status | sed -n 's/^incarnation *//p')
echo "incarnation before: $prev, with the clock behind: $now"
check "its incarnation is above the previous one" \
	python3 -c "import sys; sys.exit(0 if int('$now', 16) > int('${prev:-x}', 16) else 1)"
check "and its log says the clock is behind" grep -q "clock is behind the previous incarnation" "$TD/n4/sdlmd.log"
# $! is faketime's pid, not the daemon's: the daemon's own pid file says
# which process to stop (a TERM to faketime left the daemon running).
d4=$(cat "$pidf")
check "the daemon under faketime wrote its pid file" test -n "$d4"
kill -TERM "$d4"
check "node 4 stops cleanly again" wait_for "node 4 stopped" 20 sh -c "! kill -0 $d4 2>/dev/null"

# --- fence message --wait stalled after a read ----------------------------
# The direct tool has no watchdog: a stall between a read and the clock
# read after it must not age what the read saw.  Node 4's disk I/O fails
# for L/2 (its lease stays valid: it is alive, and acknowledges the test
# message once its I/O is back); the tool stalls D after every read.  A
# verdict timed after the stall called node 4 dead on a read that was
# taken with its counter still for one interval.
restart4 --fault-file="$TD/n4/fault" >"$TD/n4/stall.out" 2>&1 &
T_PIDS="$T_PIDS $!"
echo $! >"$TD/n4/sdlmd.pid"
check "node 4 runs again (fault file)" wait_for "node 4 fenced-safe" 30 \
	sh -c "$C --ipc $T_RUN-n4 status | grep -q fenced-safe"
echo "all:error=EIO" > "$TD/n4/fault"
SDLM_TEST_FENCE_READ_STALL_MS=$DEAD $C fence message -d "$DISK" --wait=$(( (3 * DEAD + 4 * I) / 1000 + 30 )) 4 test \
	>"$TD/stall-msg.out" 2>&1 &
msg_pid=$!
# The fault's length is the scenario, not a wait: half the lease.
sleep "$(printf "%d.%03d" $(( L / 2000 )) $(( L / 2 % 1000 )))"
: > "$TD/n4/fault"
wait "$msg_pid"; rc=$?
cat "$TD/stall-msg.out"
check "node 4, alive with a valid lease, is acknowledged, not called dead (rc $rc)" \
	grep -q "node 4: acknowledged" "$TD/stall-msg.out"
check "node 4's daemon never stopped" kill -0 "$(cat "$TD/n4/sdlmd.pid")"
kill -TERM "$(cat "$TD/n4/sdlmd.pid")"
check "node 4 stops cleanly a third time" wait_for "node 4 stopped" 20 sh -c "! kill -0 $(cat "$TD/n4/sdlmd.pid") 2>/dev/null"

# --- a disk that reads but refuses writes (review s24-review2 F5) ---------
# Every heartbeat write fails from the start: no lease is ever held, and
# the never-held lapse ends the process (exit 2, watchdog disarmed by the
# magic close) instead of a reset - which at boot would be a reboot loop.
echo "write:error=EIO" > "$TD/n4/fault"
closes=$(grep -c "magic close" "$TD/n4/wd.log")
restart4 --fault-file="$TD/n4/fault" >"$TD/n4/rofs.out" 2>&1 &
ro_pid=$!
T_PIDS="$T_PIDS $ro_pid"
check "node 4 with a disk that refuses writes exits within L + T + 2I" \
	wait_for "node 4 exits" $(( (L + T + 2 * I) / 1000 + 10 )) sh -c "! kill -0 $ro_pid 2>/dev/null"
wait "$ro_pid"; rc=$?
check "its exit status is 2, the area cannot be used (rc $rc)" test "$rc" = 2
check "its log says the disk took no heartbeat write" grep -q "took no heartbeat write" "$TD/n4/sdlmd.log"
check "its watchdog was disarmed by the magic close" \
	sh -c "test \$(grep -c 'magic close' '$TD/n4/wd.log') -gt $closes"
# It left no lock user (it never held a lease) and no reset is coming: the
# marker of an unclean exit must not make the next start wait for one
# (review s26-rev-lapse R2: it did, "waiting for the watchdog reset").
check "it removed the marker: the next start is not refused" \
	test ! -e "$TD/n4/sdlmd-$T_RUN-n4.running"
: > "$TD/n4/fault"

t_done
