#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# fence_sdlm never reports a node fenced that was not (issue 16, item 1).
# A slot that is free (the node's sdlmd never ran, or stopped cleanly, as
# when Pacemaker stops a clone) is not OFF: the agent writes the pill and
# reports success only after the acknowledgement or the dead bound, like
# fence_sbd's msgwait.  Disk-only sdlmd (tests/lib.sh), one file disk:
#   - node 1 runs, node 2 ran and was stopped cleanly, node 3 never ran;
#   - `fence_sdlm -o off -n 3` writes an off pill, takes at least the dead
#     bound, says "Success: Powered OFF" (not "Already OFF");
#   - node 4's message slot damaged: the agent fails naming the slot,
#     and does not call it a timeout;
#   - real Pacemaker: pacemaker-fenced (stand-alone, in its own network
#     namespace so its IPC is private) with a fence_sdlm device, and
#     `stonith_admin --reboot node2`: success only after a reset pill is on
#     node 2's slot and the dead bound passed; node 1 is untouched.
# Needs root, pacemaker (pacemaker-fenced), pacemaker-cli-utils
# (stonith_admin), python3; exit 77 (skip) when missing.
. "$SDLM_SRCDIR/tests/lib.sh"
fenced=/usr/lib/pacemaker/pacemaker-fenced
for t in stonith_admin python3 "$fenced"; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing (pacemaker, pacemaker-cli-utils, python3)"; exit 77; }
done
t_init fencestopped
C="$SDLMCTL"
DISK="$TD/disk.img"
WD_S=8
agent=${SDLM_FENCE_AGENT:-$SDLM_SRCDIR/agents/fence_sdlm}
NS="$T_RUN-fenced"
. "$SDLM_SRCDIR/tests/agents/fence-link.sh"
finish() {
	[ -n "${fenced_pid:-}" ] && kill -TERM "$fenced_pid" 2>/dev/null
	[ -n "${fenced_pid:-}" ] && wait "$fenced_pid" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	fence_link_drop
	t_cleanup
}
trap finish EXIT

$C fence init -d "$DISK" --cluster stopped --nodes 4 --profile test >/dev/null || { nok "init"; t_done; exit 1; }
eval "$($C --json fence dump -d "$DISK" | python3 -c '
import json,sys; t=json.load(sys.stdin)["timeouts"]
print("I=%d T=%d DEAD=%d" % (t["hb_interval_ms"], t["io_timeout_ms"], t["dead_ms"]))')"
echo "timeouts: I=$I T=$T dead=$DEAD (ms)"

# slot_msg N: "CMD SEQ STATE" of node N's slot
slot_msg() {
	$C --json fence list -d "$DISK" all | python3 -c '
import json, sys
n = [x for x in json.load(sys.stdin)["nodes"] if x["node"] == int(sys.argv[1])]
m = n[0].get("message", {}) if n else {}
print(m.get("cmd", "none"), m.get("seq", 0), n[0].get("state", "none") if n else "none")' "$1"
}
slot_state_is() { [ "$(slot_msg "$1" | cut -d' ' -f3)" = "$2" ]; }

for i in 1 2; do node_start $i || nok "start node $i"; done
check "nodes 1 and 2 alive" wait_for "slots 1 and 2 alive" 30 \
	sh -c "$(declare -f slot_msg slot_state_is); C='$C' DISK='$DISK'; slot_state_is 1 alive && slot_state_is 2 alive"
kill -TERM "$(cat "$TD/n2/sdlmd.pid")"
check "node 2's sdlmd stops cleanly" wait_for "node 2 stopped" 20 node_gone 2
check "node 2's slot is free" wait_for "slot 2 free" 5 slot_state_is 2 free
check "node 3's slot is free (never ran)" slot_state_is 3 free

# --- the agent directly: off of a never-run node ----------------------------
t0=$(now_ms)
out=$(printf 'action=off\nport=3\ndevices=%s\nsdlmctl_path=%s\n' "$DISK" "$C" | "$agent" 2>"$TD/agent.err")
rc=$?
t1=$(now_ms)
echo "fence_sdlm off port=3: exit $rc after $((t1 - t0)) ms: $out ($(cat "$TD/agent.err"))"
check "off of a free slot is not 'Already OFF'" test "$out" != "Success: Already OFF"
check "off of a free slot: exit 0, Success: Powered OFF" test "$rc:$out" = "0:Success: Powered OFF"
check "node 3's slot carries the off pill" test "$(slot_msg 3 | cut -d' ' -f1)" = off
check "success came no sooner than the dead bound ($DEAD ms)" test $((t1 - t0)) -ge "$DEAD"

# --- the agent directly: a message slot that does not verify ---------------
# Node 4 never ran; its message slot (sector nodes+4) is overwritten with
# bytes that fail the CRC.  sdlmctl refuses to guess a seq (exit 65); the
# agent fails (exit 1) saying why, and does not call it a timeout.
ss=$($C --json fence dump -d "$DISK" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["sector_size"], d["nodes"])')
printf 'not a message slot' | dd of="$DISK" bs=1 seek=$(( (${ss#* } + 4) * ${ss% *} + 40 )) conv=notrunc status=none
out=$(printf 'action=off\nport=4\ndevices=%s\nsdlmctl_path=%s\n' "$DISK" "$C" | "$agent" 2>"$TD/agent4.err")
rc=$?
echo "fence_sdlm off port=4 (damaged slot): exit $rc: $out ($(cat "$TD/agent4.err"))"
check "off with a damaged message slot: exit 1" test "$rc" = 1
check "the failure names the damaged slot" grep -q "message slot does not verify" "$TD/agent4.err"
check "the failure is not called a timeout" bash -c '! grep -qi "timed out" "$1"' _ "$TD/agent4.err"

# --- real Pacemaker: stonith_admin --reboot of the stopped node 2 -------------
if ! fence_link_take "$agent"; then
	nok "$FENCE_LINK runs this fence_sdlm"
	t_done; exit 1
fi
ip netns add "$NS" || { nok "netns"; t_done; exit 1; }
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" "$fenced" -s -l "$TD/fenced.log" >"$TD/fenced.out" 2>&1 &
fenced_pid=$!
T_PIDS="$T_PIDS $fenced_pid"
sa() { timeout 300 ip netns exec "$NS" stonith_admin "$@"; }
check "pacemaker-fenced answers" wait_for "fenced up" 30 sa --list-registered
# The plug is the sdlm node id; Pacemaker names hosts: pcmk_host_map.
check "register a fence_sdlm device" sa --register sdlm --agent fence_sdlm \
	-o "devices=$DISK" -o "sdlmctl_path=$C" \
	-o "pcmk_host_map=node1:1;node2:2;node3:3" -o "pcmk_reboot_timeout=200"
check "the device can fence node2" wait_for "device for node2" 30 \
	sh -c "timeout 60 ip netns exec '$NS' stonith_admin --list node2 | grep -q sdlm"
before=$(slot_msg 2)
t0=$(now_ms)
sa --reboot node2 --timeout 240 >"$TD/reboot.out" 2>&1
rc=$?
t1=$(now_ms)
echo "stonith_admin --reboot node2: exit $rc after $((t1 - t0)) ms:"
sed 's/^/  | /' "$TD/reboot.out"
after=$(slot_msg 2)
echo "node 2's slot before: $before, after: $after"
check "stonith_admin --reboot node2 succeeds" test "$rc" = 0
check "node 2's slot carries a new reset pill" \
	python3 -c 'import sys; b, a = sys.argv[1].split(), sys.argv[2].split()
sys.exit(0 if a[0] == "reset" and int(a[1]) > int(b[1]) else 1)' "$before" "$after"
check "the reboot took at least the dead bound ($DEAD ms)" test $((t1 - t0)) -ge "$DEAD"
check "node 1 untouched: still alive, no pill" sh -c "$(declare -f slot_msg slot_state_is); C='$C' DISK='$DISK'; slot_state_is 1 alive && test \"\$(slot_msg 1 | cut -d' ' -f1)\" != reset"
t_done
