#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A corosync that stops answering is not quorum (issue 13, hole 6).
#
# Node 3 loses its disk (its lease expires; still quorate, so it keeps
# running, as t-fence-quorum shows), then its corosync hangs (SIGSTOP):
# no POLLHUP, the quorum connection stays open and silent.  sdlmd's probe
# thread gets no answer, so within M (token + consensus) node 3 counts
# itself not quorate: lease expired and not quorate, it fences itself and
# its watchdog resets it, its lock user with it.  Node 1 then gets node
# 3's lock (dead path) with that lock user gone.  The healthy nodes' probes
# never went stale.  Every wait is derived from the configured timeouts.
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

sd_fault 3 "all:error=EIO"
require "node 3 loses its lease (disk gone, still quorate)" \
	cl_wait_for "node 3 lease lost" $(( L / 1000 + 20 )) sd_status_has 3 "not-safe.*lease"
check "node 3 still runs (quorate: no self-fence)" eval '! sd_node_gone 3'

cl_stop_proc 3 corosync
t0=$(now_s)
# Not quorate within M, then the self-fence and the watchdog's W.
bound=$(( (M + W + 3 * I) / 1000 + 30 ))
check "node 3 (disk lost, corosync hung) is reset by its watchdog within $bound s" \
	cl_wait_for "node 3 gone" "$bound" sd_node_gone 3
echo "node 3 reset $(elapsed "$t0") s after its corosync hung"
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
