#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Late landing of the UID service's own record writes (issue 13, hole 1),
# on a real 2-node cluster.  Node 1's UID record writes are withheld by
# the aio LATE fault past their deadline (T) and land later; the daemon
# must keep the timed-out write in flight until it is reaped (no new
# write to that copy, no hand-off meanwhile), let the allocations wait
# rather than fail, and then go on.  Judged by the UID history: no UID
# reused, every UID below the durable watermark, the next holder (node 2,
# a clean hand-off) above all of them.  The hazard must be reached: node 1
# logs that a timed-out write left the kernel.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/sdlm.sh"
: "${UIDCLIENT:?}"
trap sd_teardown EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
client() { ip netns exec "${CL_PREFIX}n$1" "$UIDCLIENT" t "$3" "$4" "$5" "$2" "$H" "${6:-0}"; }
watermark() { sd_ctl "$1" --json uid show t "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["watermark"])'; }

sd_up 2
sd_timeouts
H="$CL_DIR/history"
: >"$H"
log1="$CL_DIR/n1/sdlmd-file.log"

require "node 1 allocates in latebox" client 1 n1-before latebox 4 5
# Every record write of node 1's UID service lands 2 heartbeats after its
# deadline: its caller has seen the timeout by then.
late=$((T + 2 * I))
sd_fault 1 "uid write:late=$late"
require "node 1 applied the fault" cl_wait_for "fault applied" 10 \
	grep -q "fault injection: 'uid write:late=$late'" "$log1"
client 1 n1-during latebox 4 40 >"$CL_DIR/during.out" 2>&1 & during=$!
# One timed-out write reaped is the hazard; bound: its deadline, its
# landing, a tick, with room for a busy machine.
require "a timed-out record write was kept in flight and reaped" \
	cl_wait_for "reaped" $(((3 * late + 10 * I) / 1000 + 10)) \
	grep -q "has left the kernel" "$log1"
check "node 1 saw the write time out" grep -q "record write (slot .* copy .*): .*" "$log1"
sd_fault 1 none
rc=0; wait "$during" || rc=$?
check "the allocations waited for the reap instead of failing (exit $rc)" test "$rc" = 0
cat "$CL_DIR/during.out"

require "node 2 takes latebox over (clean hand-off)" client 2 n2-after latebox 4 10
w=$(watermark 2 latebox)
out=$(python3 "$here/uidcheck.py" "$H" "--watermark=latebox=$w"); echo "$out"
check "no UID reused, all below the durable watermark $w" sh -c "echo '$out' | tail -1 | grep -q ': ok$'"
check "node 2 continued right above node 1 (no reuse, LVB honoured)" python3 -c "
import sys
n1 = [int(l.split()[4]) for l in open('$H') if l.startswith('got') and ' n1-' in l]
n2 = [int(l.split()[4]) for l in open('$H') if l.startswith('got') and ' n2-' in l]
assert n1 and n2 and min(n2) > max(n1), (max(n1), min(n2))"

t_tally
[ "$fails" = 0 ]
