#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A two-node cluster split by the network (both nodes keep the disk):
# neither half is a majority, so the disk arbitrates and exactly one node
# survives - the lower node id fences its peer after the grace; the peer
# acknowledges and is reset.  The survivor then gets the peer's lock.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/sdlm.sh"
trap sd_teardown EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"

require "create 2 nodes" cl_create 2
require "shared disk" sd_disk test
require "corosync on both nodes" cl_start_all
for i in 1 2; do require "node $i quorate" cl_wait_quorate "$i" 90; done
for i in 1 2; do require "sdlmd on node $i" sd_start "$i"; done
for i in 1 2; do
	require "node $i fenced-safe" cl_wait_for "node $i safe" 60 sd_status_has "$i" "fenced-safe"
done
check "two-node arbitration is on" grep -q "two-node cluster" "$CL_DIR/n1/sdlmd-file.log"
cl_spawn 2 holder "$SDLMCTL" lock -m EX -w 60 t split -- sleep 600 >/dev/null
require "node 2 holds EX on 'split'" cl_wait_for "node 2 holds split" 30 sd_holds 2 t split EX
cl_partition "1" "2"
out=$(sd_lock 1 -w 240 t split -- sh -c "$SDLMCTL fence status -d '$SD_DISK' 2 >/dev/null; echo fence-status=\$?" 2>&1)
echo "node 1 got 'split': $out"
if echo "$out" | grep -q fence-status=2; then
	pass "node 1 (lower id) survived and got the lock"
else
	fail "node 1 (lower id) survived and got the lock"
	sd_ctl 1 locks t; sd_ctl 1 ls; sd_ctl 1 dump | grep -v "fencer: node\|apply kind 6" | tail -40
fi
check "node 2 was reset by its watchdog" cl_wait_for "node 2 gone" 60 sd_node_gone 2
check "node 1 still running and fenced-safe" sd_status_has 1 "fenced-safe"
if sd_node_gone 1; then fail "node 1 is gone too"; else pass "node 1 is the one survivor"; fi
t_tally
[ "$fails" = 0 ]
