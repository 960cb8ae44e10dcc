#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A node that loses the disk fences itself, quorate or not (issue 19
# item 3; until then a quorate node kept running).  Three real corosync
# nodes, sdlmd in corosync mode on each, one shared file-backed disk:
#   - all three join, are quorate and fenced-safe;
#   - node 3 takes a lock; its disk I/O fails while it stays in the quorate
#     membership: its lease expires, it fences itself and its watchdog
#     resets it within lease + W, its lock user with it;
#   - nodes 1 and 2 stay up throughout, and node 1 gets node 3's lock by
#     the dead path (D from node 3's last heartbeat).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/sdlm.sh"
trap sd_teardown EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
require() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; echo "$fails failed, cannot go on"; exit 1; fi; }

require "create 3 nodes" cl_create 3
require "shared disk" sd_disk test
sd_timeouts
echo "timeouts: I=$I T=$T W=$W lease=$L dead=$DEAD (ms)"
require "corosync on all nodes" cl_start_all
for i in 1 2 3; do require "node $i quorate" cl_wait_quorate "$i" 90; done
for i in 1 2 3; do require "sdlmd on node $i" sd_start "$i"; done
for i in 1 2 3; do
	check "node $i quorate and fenced-safe" cl_wait_for "node $i safe" 60 \
		sd_status_has "$i" "fenced-safe"
done
check "node 1 status shows quorum" sd_status_has 1 "quorum +quorate"

cl_spawn 3 holder "$SDLMCTL" lock -m EX -w 60 t lost -- sleep 600 >/dev/null
require "node 3's client holds EX on 'lost'" cl_wait_for "node 3 holds lost" 30 sd_holds 3 t lost EX
hp=$(cl_pid 3 holder)
check "node 3 is quorate" sd_status_has 3 "quorum +quorate"

# Disk lost, quorum kept: the lease lapses after L, the node fences itself
# at once and its watchdog resets it within W.
sd_fault 3 "all:error=EIO"
t0=$(date +%s)
check "node 3 (quorate, disk lost) is reset by its watchdog within lease + W" \
	cl_wait_for "node 3 gone" $(( (L + W + 3 * I) / 1000 + 30 )) sd_node_gone 3
echo "node 3 reset $(( $(date +%s) - t0 )) s after its disk failed (lease $L ms + W $W ms)"
check "node 3's log: self-fencing on the lapsed lease" grep -q "self-fencing (.*lease" "$CL_DIR/n3/sdlmd-file.log"
check "node 3's lock user is gone" sh -c '! kill -0 "$1" 2>/dev/null' sh "$hp"
for i in 1 2; do check "node $i still fenced-safe" sd_status_has "$i" "fenced-safe"; done
check "nodes 1 and 2 quorate as a pair" cl_wait_members 1 "1 2" 60
out=$(sd_lock 1 -w $(( 2 * DEAD / 1000 + 60 )) t lost -- sh -c "if kill -0 $hp 2>/dev/null; then echo holder-present; else echo holder-gone; fi" 2>&1)
echo "node 1 asked for 'lost': $out"
check "node 1 gets 'lost' with node 3's lock user gone" sh -c 'printf "%s\n" "$1" | grep -q holder-gone' sh "$out"
t_tally
[ "$fails" = 0 ]
