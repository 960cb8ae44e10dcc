#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The event loop never blocks on UID record I/O (issue 13, hole 7), on a
# real 2-node cluster.  Node 1 creates N mailboxes; then node 2, with
# every UID record write of its own stalled 900 ms (the aio STALL fault:
# each write reaches the disk and completes 900 ms late, within T), takes
# all N over at once (a burst of N takeovers, each at least two record
# writes).  Record I/O done on the loop would hold it 1.8 s per takeover:
# heartbeats late, the watchdog starved, a healthy node reset.
#
# The bound comes from the configured timeouts: the daemon feeds the
# watchdog and submits its heartbeat write once per tick, every I; a turn
# of the loop that runs for d delays the next tick by d.  "No turn as long
# as I" is therefore: the longest gap between two feeds, and between two
# heartbeat write submissions (sdlmctl stats: watchdog_feed_gap_max_ms,
# heartbeat_submit_gap_max_ms, since the daemon started), stays under 2I.
# Judged as well: node 2 is still running and fenced-safe, did N
# takeovers, and the UID history shows no UID reused.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/sdlm.sh"
: "${UIDCLIENT:?}"
trap sd_teardown EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
stat2() { sd_ctl 2 --json stats | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
gaps_under() {
	local f g
	f=$(stat2 watchdog_feed_gap_max_ms) && g=$(stat2 heartbeat_submit_gap_max_ms) || return 1
	echo "node 2: longest gap between watchdog feeds $f ms, between heartbeat submissions $g ms (bound $1 ms)"
	[ "$f" -lt "$1" ] && [ "$g" -lt "$1" ]
}

N=${UID_BURST_N:-1000}
PROCS=${UID_BURST_PROCS:-64}
STALL=900
# A table four times the burst: short probe sequences, as in production.
SD_UID_SLOTS=$((4 * N))
sd_up 2
sd_timeouts
H="$CL_DIR/history"
: >"$H"
log2="$CL_DIR/n2/sdlmd-file.log"
bound=$((2 * I))
require "the stall fits in the I/O timeout ($STALL < T $T ms)" test "$STALL" -lt "$T"

# Creating N mailboxes: a few I/Os each, at most one second each.
require "node 1 creates $N mailboxes" timeout $((N + 60)) \
	ip netns exec "${CL_PREFIX}n1" "$UIDCLIENT" --burst t burst "$N" "$PROCS" n1 "$H"
require "node 2 joined the lockspace (one allocation of its own)" \
	ip netns exec "${CL_PREFIX}n2" "$UIDCLIENT" t warm 1 1 n2-warm "$H"
require "node 2's loop kept its turns short before the burst" gaps_under "$bound"
t0=$(stat2 uid_takeovers_total)

sd_fault 2 "uid write:stall=$STALL"
require "node 2 applied the fault" cl_wait_for "fault applied" $((10 * I / 1000 + 10)) \
	grep -q "fault injection: 'uid write:stall=$STALL'" "$log2"
# Even one takeover at a time the burst ends within N times two stalled
# writes, with room for a busy machine.
rc=0
timeout $((N * 2 * (STALL + T) / 1000 + 60)) \
	ip netns exec "${CL_PREFIX}n2" "$UIDCLIENT" --burst t burst "$N" "$PROCS" n2 "$H" || rc=$?
check "node 2 allocated in all $N mailboxes (exit $rc)" test "$rc" = 0
sd_fault 2 none

check "node 2's sdlmd still runs" eval "cl_pid 2 sdlmd >/dev/null"
check "node 2 is still fenced-safe" sd_status_has 2 "fenced-safe"
t1=$(stat2 uid_takeovers_total)
check "node 2 took all $N mailboxes over ($((t1 - t0)) takeovers)" test "$((t1 - t0))" -ge "$N"
check "node 2's writes were stalled (the fault's log)" grep -q "uid write:stall=$STALL" "$log2"
check "node 2 fed its watchdog and submitted heartbeats at least every 2I through the burst" \
	gaps_under "$bound"
out=$(python3 "$here/uidcheck.py" "$H"); echo "$out"
check "no UID reused" sh -c "echo '$out' | tail -1 | grep -q ': ok$'"

t_tally
[ "$fails" = 0 ]
