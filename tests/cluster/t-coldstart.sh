#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A cold start with one node cut off grants nothing until that node is
# fenced.  Node 3 holds EX on 'cold' and is cut off the network (not the
# disk); sdlmd is restarted on nodes 1 and 2, so the lockspace forms anew
# without any member of its previous configuration.  Its heartbeat is live
# on the disk but it is outside the ring: nothing may be granted - neither
# its lock nor any other - until it is fenced.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/sdlm.sh"
trap sd_teardown EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"

sd_up 3
cl_spawn 3 holder "$SDLMCTL" lock -m EX -w 60 t cold -- sleep 600 >/dev/null
require "node 3 holds EX on 'cold'" cl_wait_for "node 3 holds cold" 30 sd_holds 3 t cold EX
cl_cut 3
require "nodes 1,2 see [1 2]" cl_wait_members 1 "1 2" 60
for i in 1 2; do
	cl_kill "$i" sdlmd TERM
	require "sdlmd on node $i stopped cleanly" cl_wait_for "node $i stopped" 30 \
		sh -c "! ip netns exec ${CL_PREFIX}n$i $SDLMCTL status >/dev/null 2>&1"
done
for i in 1 2; do require "sdlmd restarted on node $i" sd_restart "$i"; done
for i in 1 2; do
	require "node $i fenced-safe again" cl_wait_for "node $i safe" 60 sd_status_has "$i" "fenced-safe"
done
probe='s=$('"$SDLMCTL"' fence status -d '"$SD_DISK"' 3 >/dev/null; echo $?); echo "fence-status=$s"'
out_other=$(sd_lock 2 -w 240 t other -- sh -c "$probe" 2>&1)
out_cold=$(sd_lock 1 -w 240 t cold -- sh -c "$probe" 2>&1)
echo "node 2 got 'other': $out_other"
echo "node 1 got 'cold': $out_cold"
check "nothing granted before node 3 was fenced: 'other'" sh -c "echo '$out_other' | grep -q fence-status=2"
check "node 3's own lock granted only after its fence" sh -c "echo '$out_cold' | grep -q fence-status=2"
check "the fencer said why it fenced" sh -c "cat $CL_DIR/n1/sdlmd-file.log $CL_DIR/n2/sdlmd-file.log | grep -q \"cold start: node 3\""
check "node 3 acknowledged the pill and was reset" cl_wait_for "node 3 gone" 60 sd_node_gone 3
t_tally
[ "$fails" = 0 ]
