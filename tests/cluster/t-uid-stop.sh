#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# SIGTERM while a UID record write of the daemon is still in the kernel,
# on a real 2-node cluster.  Node 1 holds a mailbox; its reservation write
# is withheld by the aio LATE fault (for ever) and times out; then sdlmd
# gets SIGTERM.  It must not release its locks (a write of ours could land
# under node 2's hold): after 3T it leaves WITHOUT releasing, its slot not
# freed and its watchdog armed, so that node 2 takes the mailbox over only
# after node 1 is fenced (the test watchdog resets it).  Judged by the log
# and by the UID history: no UID reused, node 2 above everything node 1
# handed out.
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

require "node 1 allocates in stopbox" client 1 n1-before stopbox 4 5
sd_fault 1 "uid write:late=inf"
require "node 1 applied the fault" cl_wait_for "fault applied" 10 \
	grep -q "fault injection: 'uid write:late=inf'" "$log1"
# Allocations past the reserved range need a record write: it times out
# and stays withheld (in flight) for ever.
client 1 n1-during stopbox 4 400 >/dev/null 2>&1 & during=$!
require "a record write of node 1 timed out" \
	cl_wait_for "timed out" $(((2 * T + 10 * I) / 1000 + 10)) \
	grep -q "uid stopbox: record write (slot .* copy .*): " "$log1"
cl_kill 1 sdlmd TERM
wait "$during" 2>/dev/null
check "node 1 left without releasing its locks" \
	grep -q "a UID record write is still in the kernel .* WITHOUT releasing the locks" "$log1"
check "node 1's watchdog was left armed" grep -q "watchdog left armed" "$log1"
# Node 2 gets the mailbox only once node 1 is fenced (reset by its
# watchdog, then declared dead): bound W + DEAD, with room.
require "node 2 takes stopbox over after node 1 is fenced" \
	cl_wait_for "node 2 allocates" $(((W + DEAD + 30 * I) / 1000 + 60)) \
	client 2 n2-after stopbox 4 10
check "every process of node 1 is gone" cl_wait_for "node 1 gone" 30 sd_node_gone 1
check "node 1 was reset by its watchdog" cl_wait_for "watchdog log" 30 \
	grep -q "expired: killing node" "$CL_DIR/n1/watchdog.log"
w=$(watermark 2 stopbox)
out=$(python3 "$here/uidcheck.py" "$H" "--watermark=stopbox=$w"); echo "$out"
check "no UID reused, all below the durable watermark $w" sh -c "echo '$out' | tail -1 | grep -q ': ok$'"
check "node 2 continued above node 1" python3 -c "
n1 = [int(l.split()[4]) for l in open('$H') if l.startswith('got') and ' n1-' in l]
n2 = [int(l.split()[4]) for l in open('$H') if l.startswith('got') and ' n2-' in l]
assert n1 and n2 and min(n2) > max(n1), (max(n1), min(n2))"

t_tally
[ "$fails" = 0 ]
