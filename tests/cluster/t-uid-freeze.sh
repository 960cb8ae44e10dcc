#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A UID holder frozen - every process of its node, by the cgroup freezer -
# while a reservation write is in flight; a takeover by another node; then
# the thaw.  The test watchdog stands outside the frozen group (as a
# hardware watchdog would) and resets the frozen node; the takeover waits
# for that (the dead path).  No UID is reused, the watermark is above every
# UID received, and the frozen node hands out nothing after the freeze.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/sdlm.sh"
: "${UIDCLIENT:?}"
trap sd_teardown EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
mono() { python3 -c 'import time; print(time.monotonic_ns())'; }

sd_up 3
H="$CL_DIR/history"
: >"$H"
client() { ip netns exec "${CL_PREFIX}n$1" "$UIDCLIENT" t "$3" "$4" "$5" "$2" "$H" "${6:-0}"; }

require "node 1 allocates in frozenbox" client 1 n1-before frozenbox 4 10
# Every further record write of node 1's UID service hangs (its completion
# never comes back): the next reservation stays in flight.
sd_fault 1 "uid write:stall=inf"
cl_wait_for "node 1 applied the fault" 10 grep -q "fault injection: 'uid write:stall=inf'" "$CL_DIR/n1/sdlmd-file.log"
client 1 n1-frozen frozenbox 4 100000 >/dev/null 2>&1 &
cl_wait_for "node 1's client is allocating" 30 sh -c "grep -q n1-frozen '$H'"
sleep 1		# let it run into a reservation whose write hangs
cl_pause 1
t_freeze=$(mono)
echo "node 1 frozen with a reservation write in flight"
require "node 2 takes frozenbox over (after node 1's watchdog reset it)" client 2 n2-after frozenbox 4 20
cl_resume 1
check "node 1 was reset by its watchdog" cl_wait_for "node 1 gone" 60 sd_node_gone 1
w=$(sd_ctl 2 --json uid show t frozenbox | python3 -c 'import json,sys; print(json.load(sys.stdin)["watermark"])')
out=$(python3 "$here/uidcheck.py" "$H" "--watermark=frozenbox=$w"); echo "$out"
check "no UID reused, all below the durable watermark $w" sh -c "echo '$out' | tail -1 | grep -q ': ok$'"
late=$(awk -v t="$t_freeze" '$1 == "got" && $2 == "n1-frozen" && $7 > t' "$H" | wc -l)
check "the frozen node handed out nothing after the freeze ($late)" test "$late" = 0
t_tally
[ "$fails" = 0 ]
