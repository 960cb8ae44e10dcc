#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A corosync that stops answering (issue 13, hole 6), after issue 19
# item 3: what corosync answers is no longer a safety input.
#
# Node 3's corosync hangs (SIGSTOP): no POLLHUP, the quorum connection
# stays open and silent.  sdlmd's probe thread gets no answer and says so
# within M (token + consensus), but node 3's lease is valid (its disk
# works), so it keeps running and keeps its lock user: away is not dead.
# Then node 3 loses its disk: its lease lapses and it fences itself (it
# would as a quorate node too), its watchdog resets it, its lock user with
# it.  Node 1 then gets node 3's lock (dead path) with that lock user gone.
# The healthy nodes' probes never went stale.  Every wait is derived from
# the configured timeouts.
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
M=$(sed -n 's/.*(token \([0-9]*\), consensus \([0-9]*\)).*/\1 \2/p' "$CL_DIR/n3/sdlmd-file.log" |
	head -1 | awk '{ print $1 + $2 }')
echo "heartbeat $I ms, I/O timeout $T ms, lease $L ms, watchdog $W ms, dead bound $DEAD ms, M $M ms"

cl_spawn 3 holder "$SDLMCTL" lock -m EX -w 60 t hung -- sleep 600 >/dev/null
require "node 3's client holds EX on 'hung'" cl_wait_for "node 3 holds hung" 30 sd_holds 3 t hung EX
hp=$(cl_pid 3 holder)

cl_stop_proc 3 corosync
# The probe's word: within M (+ a probe period and a busy machine's slack).
check "node 3's probe says corosync does not answer" \
	cl_wait_for "node 3 probe stale" $(( (2 * M + 3 * I) / 1000 + 30 )) \
	grep -q "corosync: no answer for" "$CL_DIR/n3/sdlmd-file.log"
check "node 3 still runs (lease valid: corosync's silence fences nothing)" eval '! sd_node_gone 3'
check "node 3's lock user still runs" kill -0 "$hp"

sd_fault 3 "all:error=EIO"
t0=$(now_s)
# The lease lapses within L, the self-fence is immediate, then W.
bound=$(( (L + W + 3 * I) / 1000 + 30 ))
check "node 3 (disk lost, corosync hung) is reset by its watchdog within $bound s" \
	cl_wait_for "node 3 gone" "$bound" sd_node_gone 3
echo "node 3 reset $(elapsed "$t0") s after its disk failed"
check "node 3's log: corosync did not answer" grep -q "corosync: no answer for" "$CL_DIR/n3/sdlmd-file.log"
check "node 3's log: self-fencing" grep -q "self-fencing" "$CL_DIR/n3/sdlmd-file.log"
check "node 3's lock user is gone" sh -c '! kill -0 "$1" 2>/dev/null' sh "$hp"

require "nodes 1,2 see [1 2]" cl_wait_members 1 "1 2" 60
out=$(sd_lock 1 -w $(( 2 * DEAD / 1000 + 60 )) t hung -- sh -c "if kill -0 $hp 2>/dev/null; then echo holder-present; else echo holder-gone; fi" 2>&1)
echo "node 1 asked for 'hung': $out"
check "node 1 gets 'hung' with node 3's lock user gone" sh -c 'printf "%s\n" "$1" | grep -q holder-gone' sh "$out"
for i in 1 2; do
	check "node $i still fenced-safe" sd_status_has "$i" "fenced-safe"
	check "node $i's probe never went stale" sh -c '! grep -q "corosync: no answer for" "$1"' sh "$CL_DIR/n$i/sdlmd-file.log"
done

t_tally
[ "$fails" = 0 ]
