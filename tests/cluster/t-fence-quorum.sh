#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Losing the disk is not losing the cluster.  Three real corosync nodes,
# sdlmd in corosync mode on each, one shared file-backed disk:
#   - all three join, are quorate and fenced-safe;
#   - node 3's disk I/O fails while it stays in the quorate membership: its
#     lease expires (it stops using locks) but it does NOT fence itself;
#   - node 3 is then cut off the network as well: disk and quorum both lost,
#     so it fences itself and its watchdog resets it within lease + W;
#   - nodes 1 and 2 stay up throughout.
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

# Disk lost, quorum kept: no self-fence.
sd_fault 3 "all:error=EIO"
check "node 3 loses its lease" cl_wait_for "node 3 lease lost" $(( L / 1000 + 20 )) \
	sd_status_has 3 "not-safe.*lease"
# Wait past the point where a self-fencing node would have been reset.
deadline=$(( $(date +%s) + (L + W + 3 * I) / 1000 + 2 ))
alive=1
while [ "$(date +%s)" -lt "$deadline" ]; do
	sd_node_gone 3 && { alive=0; break; }
	sleep 0.5
done
check "node 3 (quorate, disk lost) did not fence itself" test "$alive" = 1
check "node 3 still answers and is quorate" sd_status_has 3 "quorum +quorate"

# Now quorum goes too: self-fence, watchdog reset.
cl_cut 3
t0=$(date +%s)
check "node 3 (disk and quorum lost) is reset by its watchdog" \
	cl_wait_for "node 3 gone" $(( (W + 3 * I) / 1000 + 30 )) sd_node_gone 3
echo "node 3 reset $(( $(date +%s) - t0 )) s after it was cut off (token + lease already expired + W)"
check "node 3's log: self-fencing" grep -q "self-fencing" "$CL_DIR/n3/sdlmd-file.log"
for i in 1 2; do check "node $i still fenced-safe" sd_status_has "$i" "fenced-safe"; done
check "nodes 1 and 2 quorate as a pair" cl_wait_members 1 "1 2" 60
t_tally
[ "$fails" = 0 ]
