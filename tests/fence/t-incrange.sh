#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A new daemon's incarnation is above every one its node had: its
# heartbeat slot names the last (fence/fencesm.h, self_incarnation).  A
# slot ahead of the clock is followed (its millisecond + 1); a slot one
# millisecond below the top of the 64 bits gives the top one; a slot in
# the top millisecond refuses the start (exit 8) instead of wrapping to a
# low incarnation every peer would take for an older daemon, and the
# refused start leaves nothing behind: slot unchanged, watchdog never
# armed, no marker.
#
# Before the fix the start after the top millisecond took incarnation
# 00000000000xxxxx (((prev >> 20) + 1) << 20 wrapped to 0) and ran.
. "$SDLM_SRCDIR/tests/lib.sh"
t_init incrange
C="$SDLMCTL"
DISK="$TD/disk.img"
HBSLOT="$SDLM_SRCDIR/tests/fence/hbslot.py"
$C fence init -d "$DISK" --cluster incrange --nodes 2 --profile test >/dev/null || { nok "init"; t_done; exit 1; }
eval "$($C --json fence dump -d "$DISK" | python3 -c '
import json,sys; t=json.load(sys.stdin)["timeouts"]
print("I=%d T=%d" % (t["hb_interval_ms"], t["io_timeout_ms"]))')"
# A start or stop ends within a few intervals and I/O timeouts.
END_S=$(( 4 * (I + T) / 1000 + 10 ))

# slot_inc NODE: the incarnation its slot names (hex)
slot_inc() {
	$C --json fence list -d "$DISK" all | python3 -c '
import json,sys
print([n for n in json.load(sys.stdin)["nodes"] if n["node"]==int(sys.argv[1])][0]["incarnation"])' "$1"
}
alive() { test "$($C --json fence list -d "$DISK" | python3 -c '
import json,sys
print([n["state"] for n in json.load(sys.stdin)["nodes"] if n["node"]==int(sys.argv[1])])' "$1")" = "['alive']"; }
gone() { ! kill -0 "$(cat "$TD/n$1/sdlmd.pid")" 2>/dev/null; }
# stop NODE: SIGTERM, wait for the exit; returns its status
stop() {
	local pid
	pid=$(cat "$TD/n$1/sdlmd.pid")
	kill -TERM "$pid"
	wait_for "node $1 stopped" "$END_S" gone "$1" || return 99
	wait "$pid"
}

# --- the clock behind the slot: the slot's millisecond + 1 -----------------
ahead_ms=$(( $(now_ms) + 3600000 ))
python3 "$HBSLOT" "$DISK" 2 --minor 1 --state free --counter 5 \
	--incarnation "$(printf '%x' $(( (ahead_ms << 20) | 5 )))" >/dev/null || nok "hbslot node 2"
node_start 2 || nok "start node 2"
check "node 2 starts behind its slot's clock" wait_for "node 2 alive" "$END_S" alive 2
inc=$(slot_inc 2)
check "node 2's incarnation $inc is in the slot's millisecond + 1 ($ahead_ms + 1)" \
	test $(( 0x$inc >> 20 )) = $(( ahead_ms + 1 ))
check "its log says the clock is behind" grep -q "is behind the previous incarnation" "$TD/n2/sdlmd.log"
stop 2; rc=$?
check "node 2 stops cleanly (exit $rc = 0)" test "$rc" = 0

# --- one millisecond below the top: the top one ------------------------------
python3 "$HBSLOT" "$DISK" 1 --minor 1 --state free --counter 5 \
	--incarnation ffffffffffefffff >/dev/null || nok "hbslot node 1"
node_start 1 || nok "start node 1"
check "node 1 starts below the top" wait_for "node 1 alive" "$END_S" alive 1
inc=$(slot_inc 1)
check "node 1's incarnation $inc is in the top millisecond" \
	test "${inc:0:11}" = fffffffffff
stop 1; rc=$?
check "node 1 stops cleanly (exit $rc = 0)" test "$rc" = 0

# --- the top millisecond: refused --------------------------------------------
before=$(slot_inc 1)
mkdir -p "$TD/n1"; : >"$TD/n1/sdlmd.log"; : >"$TD/n1/wd.log"
node_start 1 || nok "start node 1 again"
pid=$(cat "$TD/n1/sdlmd.pid")
check "the next start of node 1 ends" wait_for "node 1 refused" "$END_S" gone 1
wait "$pid"; rc=$?
check "it is refused (exit $rc = 8)" test "$rc" = 8
check "stderr names the slot and the incarnation" \
	grep -q "heartbeat slot 1 of $DISK names incarnation $before: no incarnation above it" "$TD/n1/out.log"
check "its log says why" grep -q "no incarnation above it exists" "$TD/n1/sdlmd.log"
check "the slot still names $before" test "$(slot_inc 1)" = "$before"
check "its watchdog was never armed" sh -c "! grep -q 'INFO: armed' '$TD/n1/wd.log'"
check "no marker left" sh -c "! ls '$TD'/n1/*.running 2>/dev/null | grep -q ."
t_done
