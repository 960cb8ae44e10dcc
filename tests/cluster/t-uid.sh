#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# UID allocation on a real 3-node cluster with one shared disk:
#   1. several clients per node allocate concurrently in the same and in
#      different mailboxes: every UID unique per mailbox and, per mailbox,
#      committed in ascending order;
#   2. kill -9 of the node holding a mailbox in the middle of allocation:
#      no UID reused; the durable watermark is above every UID received;
#   3. a node cut off from the network whose mailboxes another node then
#      wants: the same, and the mailboxes move through the disk (the
#      hand-off): the cut-off node is not fenced, not even for a mailbox
#      whose allocation a hung delivery never commits (its client is
#      killed after K, as any lock holder's, its UIDs a gap);
#   4. a holder frozen (every process of its node) while a reservation
#      write is in flight, a takeover by another node, then the thaw: no UID
#      reused, and the frozen node hands out nothing.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/sdlm.sh"
: "${UIDCLIENT:?}"
trap sd_teardown EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
H=""
client() {	# node label mailbox count iters [hold_ms]
	ip netns exec "${CL_PREFIX}n$1" "$UIDCLIENT" t "$3" "$4" "$5" "$2" "$H" "${6:-0}"
}
watermark() {	# mailbox: the durable watermark, read by node $1
	sd_ctl "$1" --json uid show t "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["watermark"])'
}

sd_up 3
sd_timeouts
H="$CL_DIR/history"
: >"$H"

# --- 1. concurrency -----------------------------------------------------------
pids=""
for i in 1 2 3; do
	for c in a b; do
		client "$i" "n$i$c-shared" shared 2 25 & pids="$pids $!"
		client "$i" "n$i$c-own" "own$i" 3 20 & pids="$pids $!"
	done
done
rc=0
for p in $pids; do wait "$p" || rc=1; done
check "every client finished" test "$rc" = 0
out=$(python3 "$here/uidcheck.py" "$H"); echo "$out"
check "unique and ascending per mailbox (6 clients on one, 2 on each of three)" \
	sh -c "echo '$out' | tail -1 | grep -q ': ok$'"
check "6x25x2 + 3x2x20x3 = 660 UIDs received" sh -c "[ \$(grep -c '^got' '$H') = 660 ]"
# Every allocation node 1 answered is in its latency histogram (issue 16,
# item 6): _count (= the +Inf bucket) equals the allocations counter.
prom=$(sd_ctl 1 stats --prometheus)
check "node 1's UID allocation latency histogram counts every allocation" python3 -c "
import re, sys
t = sys.argv[1]
def v(pat): return float(re.search('^' + pat + r' (\\S+)$', t, re.M).group(1))
n = v(r'sdlm_uid_allocations_total\\{node=\"1\"\\}')
c = v(r'sdlm_uid_alloc_latency_seconds_count\\{node=\"1\"\\}')
i = v(r'sdlm_uid_alloc_latency_seconds_bucket\\{node=\"1\",le=\"\\+Inf\"\\}')
s = v(r'sdlm_uid_alloc_latency_seconds_sum\\{node=\"1\"\\}')
assert n > 0 and c == n and i == c and s > 0, (n, c, i, s)" "$prom"

# --- create, rename, delete ------------------------------------------------------
G=0123456789abcdef0123456789abcdef
first=$(sd_ctl 1 --json uid alloc t "$G" 3 | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["first"], d["uidvalidity"])')
check "a GUID-named mailbox is created on first use ($first)" test -n "$first"
check "rename (admin) keeps the record" sd_ctl 2 uid rename t "$G" "Archive/2026"
second=$(sd_ctl 3 --json uid alloc t "$G" 1 | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["first"], d["uidvalidity"])')
check "UIDs go on after the rename, same UIDVALIDITY ($first -> $second)" python3 -c "
a, b = '$first'.split(), '$second'.split()
assert a[1] == b[1] and int(b[0]) > int(a[0]) + 2, (a, b)"
check "delete (admin)" sd_ctl 1 uid delete t "$G"
sd_ctl 2 uid show t "$G" >/dev/null 2>&1; rc=$?
check "a deleted mailbox is gone (show exits $rc)" test "$rc" != 0
third=$(sd_ctl 2 --json uid alloc t "$G" 1 | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["first"], d["uidvalidity"])')
check "using it again creates a new mailbox: UID 1 again under another UIDVALIDITY ($third)" python3 -c "
a, c = '$first'.split(), '$third'.split()
assert c[0] == '1' and c[1] != a[1], (a, c)"

# --- 2. kill -9 of the holder in the middle of allocation ------------------------
client 2 "n2-victim" killbox 1 400 20 >/dev/null 2>&1 & victim=$!
cl_wait_for "node 2 allocating in killbox" 30 sh -c "grep -q 'n2-victim' '$H'"
cl_kill_node 2
wait "$victim" 2>/dev/null
got_before=$(grep -c 'n2-victim' "$H")
require "node 1 takes over killbox after the fence" client 1 "n1-after-kill" killbox 1 20
w=$(watermark 1 killbox)
out=$(python3 "$here/uidcheck.py" "$H" "--watermark=killbox=$w"); echo "$out"
check "no UID reused after kill -9 ($got_before received by the victim, watermark $w)" \
	sh -c "echo '$out' | tail -1 | grep -q ': ok$'"
# The fenced node comes back (a rejoin), so three nodes are there again.
require "node 2 restarts corosync" cl_start_corosync 2
require "node 2 back in the membership" cl_wait_members 1 "1 2 3" 90
require "sdlmd on node 2 again" sd_start 2
require "node 2 fenced-safe again" cl_wait_for "node 2 safe" 60 sd_status_has 2 "fenced-safe"
require "node 2 allocates again after its rejoin" client 2 "n2-rejoined" killbox 1 5

# --- 3. a holder cut off from the network -------------------------------------------
# hungbox: a delivery on node 3 allocates and hangs before its commit,
# for far longer than the hand-off's bound B = 3I + 4T + K (K = L,
# docs/design-handoff.md section 6) and far shorter than the allocation
# lease (600 s): only K can make node 3 give hungbox up in time.
B=$((3 * I + 4 * T + L))
client 3 "n3-hung" hungbox 1 1 $((10 * B)) >"$CL_DIR/hung.out" 2>&1 & hung=$!
cl_wait_for "node 3 allocated in hungbox" 30 sh -c "grep -q '^got n3-hung' '$H'"
client 3 "n3-cut" cutbox 1 300 30 >/dev/null 2>&1 & victim=$!
cl_wait_for "node 3 allocating in cutbox" 30 sh -c "grep -q 'n3-cut' '$H'"
cl_cut 3
client 1 "n1-after-hung" hungbox 1 5 >"$CL_DIR/after-hung.out" 2>&1 & after_hung=$!
require "node 1 takes over cutbox (node 3 hands it off through the disk)" client 1 "n1-after-cut" cutbox 1 20
wait "$victim" 2>/dev/null
rc=0; wait "$after_hung" || rc=$?
cat "$CL_DIR/after-hung.out"
check "node 1 takes over hungbox (exit $rc)" test "$rc" = 0
rc=0; wait "$hung" || rc=$?
check "node 3's hung delivery was killed (exit $rc), its allocation never committed" \
	sh -c "[ '$rc' = 137 ] && ! grep -q '^commit n3-hung' '$H'"
check "node 3 killed it after K for the hand-off" \
	grep -q "uid hungbox: asked for through the disk and not given up within" "$CL_DIR/n3/sdlmd-file.log"
w=$(watermark 1 cutbox)
wh=$(watermark 1 hungbox)
out=$(python3 "$here/uidcheck.py" "$H" "--watermark=cutbox=$w" "--watermark=hungbox=$wh"); echo "$out"
check "no UID reused after the cut (watermarks $w, $wh)" sh -c "echo '$out' | tail -1 | grep -q ': ok$'"
check "node 1's hungbox UIDs above the hung delivery's (a gap, never reused)" python3 -c "
h = [int(l.split()[4]) for l in open('$H') if l.startswith('got n3-hung ')]
n = [int(l.split()[4]) for l in open('$H') if l.startswith('got n1-after-hung ')]
assert h and n and min(n) > max(h), (h, n)"
# The hand-off (docs/design-handoff.md): node 3's UID service gave the
# mailbox up as to any other node (allocations in flight committed, the
# record's final state written) and answered through its heartbeat slot;
# nobody was fenced, and node 3 keeps running.
check "node 3 handed cutbox and hungbox off through the disk" \
	sh -c "[ \$(grep -c 'handed off through the disk while cut off' '$CL_DIR/n3/sdlmd-file.log') -ge 2 ]"
check "node 3 read no pill" eval '! grep -q "poison pill" "$CL_DIR/n3/sdlmd-file.log"'
check "node 3 not fenced, still fenced-safe" sd_status_has 3 "fenced-safe"

t_tally
[ "$fails" = 0 ]
