#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Long operations show progress (issue 16, item 7), on stderr when stderr
# is a terminal (script(1)) or with --progress; never otherwise, never
# with --json (stdout stays one JSON object):
#   - `sdlmctl fence message --wait` counts down (the target is a slot no
#     daemon ever ran: the wait ends by the dead bound);
#   - `sdlmctl fence init` zeroing a large UID area: a file (a hole
#     punched at once) and a loop device (BLKZEROOUT in chunks, each one
#     told on a terminal);
#   - `sdlmctl wait-safe` until this node is fenced-safe: a node whose
#     heartbeat writes stall from its start never holds a lease (exit 1
#     at the bound, the reason shown while it waits) and ends at the
#     never-held lapse (exit 2, issue 19 item 3); a node whose disk
#     answers becomes fenced-safe (exit 0); after a pill it is fenced
#     (exit 2 at once); no daemon: exit 69.
. "$SDLM_SRCDIR/tests/lib.sh"
t_init progress
C="$SDLMCTL"
WD_S=120	# the pilled node of wait-safe's exit 2 stays up while it is asked
DISK="$TD/disk.img"
$C fence init -d "$DISK" --cluster progress --nodes 3 --profile test >/dev/null || { nok "init"; t_done; exit 1; }
eval "$($C --json fence dump -d "$DISK" | python3 -c '
import json,sys; t=json.load(sys.stdin)["timeouts"]
print("D=%d" % t["dead_ms"])')"
W=$(( D / 1000 * 4 + 60 ))	# --wait: well past the dead bound

$C fence message -d "$DISK" --wait=$W --progress 2 reset >"$TD/p.out" 2>"$TD/p.err"; rc=$?
check "--progress: the wait ends by the dead bound (exit $rc)" sh -c "[ $rc = 0 ] && grep -q 'node 2: dead after' '$TD/p.out'"
check "--progress: a countdown on stderr" grep -q 'node 2: waiting.* s left' "$TD/p.err"
check "--progress: nothing of it on stdout" sh -c "! grep -q 's left' '$TD/p.out'"

$C fence message -d "$DISK" --wait=$W 2 reset >"$TD/n.out" 2>"$TD/n.err"; rc=$?
check "not a terminal, no --progress: exit $rc, no countdown" sh -c "[ $rc = 0 ] && ! grep -q 's left' '$TD/n.err'"

$C --json fence message -d "$DISK" --wait=$W --progress 2 reset >"$TD/j.out" 2>"$TD/j.err"; rc=$?
check "--json --progress: no countdown (exit $rc)" sh -c "[ $rc = 0 ] && ! grep -q 's left' '$TD/j.err'"
check "--json: stdout is one JSON object" python3 -c "import json; d=json.load(open('$TD/j.out')); assert d['result'] == 'dead', d"

# stderr a terminal: script(1) gives the command a pty.
script -qec "'$C' fence message -d '$DISK' --wait=$W 2 reset" /dev/null >"$TD/t.out" 2>&1 </dev/null; rc=$?
check "on a terminal: a countdown without --progress (exit $rc)" grep -q 'node 2: waiting.* s left' "$TD/t.out"
check "on a terminal: the result line after it" grep -q 'node 2: dead after' "$TD/t.out"

# --- fence init: zeroing the UID area -----------------------------------
# 1 000 000 mailboxes: 977 MiB of UID area at 512-byte sectors.
$C fence init -d "$TD/big.img" --cluster big --nodes 3 --uid-slots 1000000 --progress \
	>"$TD/i.out" 2>"$TD/i.err"; rc=$?
check "init --progress: exit $rc, the result on stdout" sh -c "[ $rc = 0 ] && grep -q '^initialised' '$TD/i.out'"
check "init --progress: the zeroing on stderr, start and end" \
	sh -c "grep -q '^zeroing the UID area: 0 of 977 MiB' '$TD/i.err' && grep -q '^zeroed the UID area: 977 MiB in' '$TD/i.err'"
check "init --progress: nothing of it on stdout" sh -c "! grep -q 'zero' '$TD/i.out'"
$C fence init -d "$TD/big.img" --cluster big --nodes 3 --uid-slots 1000000 --force \
	>"$TD/i2.out" 2>"$TD/i2.err"; rc=$?
check "init, not a terminal, no --progress: exit $rc, quiet" sh -c "[ $rc = 0 ] && ! [ -s '$TD/i2.err' ]"
$C --json fence init -d "$TD/big.img" --cluster big --nodes 3 --uid-slots 1000000 --force --progress \
	>"$TD/i3.out" 2>"$TD/i3.err"; rc=$?
check "init --json --progress: exit $rc, quiet stderr, one JSON object" \
	sh -c "[ $rc = 0 ] && ! [ -s '$TD/i3.err' ] && python3 -c 'import json; json.load(open(\"$TD/i3.out\"))'"
# A block device: BLKZEROOUT in chunks; a terminal is told each one.
truncate -s 1100M "$TD/loop.img"
LOOP=$(losetup -f --show "$TD/loop.img")
if [ -n "$LOOP" ]; then
	trap 'losetup -d "$LOOP"; t_cleanup' EXIT
	script -qec "'$C' fence init -d '$LOOP' --cluster big --nodes 3 --uid-slots 1000000" /dev/null \
		>"$TD/l.out" 2>&1 </dev/null; rc=$?
	check "init on a loop device, on a terminal: exit $rc" sh -c "[ $rc = 0 ] && grep -q 'initialised $LOOP' '$TD/l.out'"
	check "init on a loop device, on a terminal: chunk by chunk" \
		sh -c "[ \$(grep -o 'zeroing the UID area: [0-9]* of 977 MiB ([0-9]*%)' '$TD/l.out' | sort -u | wc -l) -ge 10 ]"
	check "the device's area reads back" sh -c "'$C' fence dump -d '$LOOP' | grep -q 'uid slots *1000000'"
else
	nok "losetup -f: no loop device for the block-device case"
fi

# --- wait-safe ----------------------------------------------------------
eval "$($C --json fence dump -d "$DISK" | python3 -c '
import json,sys; t=json.load(sys.stdin)["timeouts"]
print("L=%d D=%d" % (t["lease_ms"], t["dead_ms"]))')"
mkdir -p "$TD/n1"
echo "write:stall=inf" >"$TD/n1/fault"	# its first renewal never completes
node_start 1 || nok "start node 1"
check "node 1 answers" wait_for "node 1's ipc" 30 ctl 1 status
ctl 1 wait-safe --timeout=2 --progress >"$TD/w1.out" 2>"$TD/w1.err"; rc=$?
check "wait-safe, no lease: exit 1 at the bound ($rc)" sh -c "[ $rc = 1 ] && grep -q 'not fenced-safe after 2' '$TD/w1.err'"
check "wait-safe --progress: the reason and a countdown on stderr" \
	grep -q '^waiting until fenced-safe: not-safe: .*, [0-9]* s left' "$TD/w1.err"
ctl 1 --json wait-safe --timeout=1 --progress >"$TD/w2.out" 2>"$TD/w2.err"; rc=$?
check "wait-safe --json: exit $rc, one JSON object, no countdown" \
	sh -c "[ $rc = 1 ] && ! grep -q 's left' '$TD/w2.err' && python3 -c 'import json; d=json.load(open(\"$TD/w2.out\")); assert d[\"result\"]==\"timeout\", d'"
# Its renewals never complete: at the never-held lapse (L after the
# first submission) the process ends instead of waiting for the disk
# (issue 19 item 3, review s24-review2 F5; tests/fence/t-daemons.sh).
check "node 1, whose renewals never completed, ends at the never-held lapse" \
	wait_for "node 1's sdlmd exits" $(( (L + D) / 1000 + 10 )) node_gone 1
check "its log says the disk took no heartbeat write" grep -q "took no heartbeat write" "$TD/n1/sdlmd.log"
node_start 2 || nok "start node 2"
check "node 2 answers" wait_for "node 2's ipc" 30 ctl 2 status
ctl 2 wait-safe --progress >"$TD/w3.out" 2>"$TD/w3.err"; rc=$?
check "a node whose disk answers: wait-safe (default bound D) exit 0 ($rc)" \
	sh -c "[ $rc = 0 ] && grep -q '^fenced-safe after' '$TD/w3.out'"
check "status agrees" sh -c "'$C' --ipc '$T_RUN-n2' status | grep -q '^state *fenced-safe'"
ctl 2 wait-safe >"$TD/w4.out" 2>"$TD/w4.err"; rc=$?
check "already safe, not a terminal: exit $rc, quiet" sh -c "[ $rc = 0 ] && ! [ -s '$TD/w4.err' ]"
$C fence message -d "$DISK" --wait=$W 2 reset >/dev/null 2>&1 || nok "pill to node 2"
ctl 2 wait-safe --timeout=$(( D / 1000 )) >"$TD/w5.out" 2>"$TD/w5.err"; rc=$?
check "after a pill: exit 2 at once ($rc), saying it needs a restart" \
	sh -c "[ $rc = 2 ] && grep -q 'restarted' '$TD/w5.err'"
$C --ipc "$T_RUN-none" wait-safe >/dev/null 2>"$TD/w6.err"; rc=$?
check "no daemon: exit 69 ($rc)" sh -c "[ $rc = 69 ] && grep -q 'cannot reach sdlmd' '$TD/w6.err'"
$C --ipc "$T_RUN-none" wait-safe --timeout=1 >/dev/null 2>"$TD/w7.err"; rc=$?
check "no daemon within --timeout: exit 69 ($rc)" sh -c "[ $rc = 69 ] && grep -q 'did not answer within 1 s' '$TD/w7.err'"
t_done
