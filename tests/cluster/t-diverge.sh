#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The divergence detector acts (docs/protocol.md "Divergent replicas").
# Node 2's sdlmd runs with the test seam SDLM_TEST_CORRUPT_LS=t: at the
# first configuration change after it has a replica of lockspace t, it
# corrupts that replica (a heartbeat verdict no fencer sent: no lock moves,
# the digest does).  Nodes 1 and 2 hold locks in t; node 3 then asks for
# one, which changes t's group: node 2's round JOIN carries a digest the
# others do not have.  Every member must see the divergence, node 2 must
# drop its replica and take node 1's, nothing may be granted while the
# gate is held, and node 3 must still get its lock afterwards.  Judged from
# the daemons' logs and digests.py (every later round: equal digests).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/sdlm.sh"
trap sd_teardown EXIT
fails=0; passes=0
pass() { echo "PASS: $*"; passes=$((passes + 1)); }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
require() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; echo "t-diverge: $passes passed, $fails failed"; exit 1; fi; }
log_of() { echo "$CL_DIR/n$1/sdlmd-file.log"; }
# first line number of a pattern in node I's log (0: none)
line_of() { local n; n=$(grep -n -m1 -- "$2" "$(log_of "$1")" | cut -d: -f1); echo "${n:-0}"; }

sd_up 3
sd_timeouts
# Waits below: the time to join a group and receive its state is a few
# token timeouts; a held gate reopens within one fencer tick (I) once the
# cold rules hold.  Generous multiples, derived from the configured values.
WAIT_S=$(( (10 * CL_TOKEN + 20 * I) / 1000 + 30 ))

cl_kill 2 sdlmd TERM
require "sdlmd on node 2 stopped cleanly" cl_wait_for "node 2 stopped" "$WAIT_S" \
	sh -c "! ip netns exec ${CL_PREFIX}n2 $SDLMCTL status >/dev/null 2>&1"
export SDLM_TEST_CORRUPT_LS=t
require "sdlmd restarted on node 2 with the corruption seam" sd_restart 2
unset SDLM_TEST_CORRUPT_LS
require "node 2 fenced-safe again" cl_wait_for "node 2 safe" "$WAIT_S" sd_status_has 2 "fenced-safe"

cl_spawn 1 h1 "$SDLMCTL" lock -m EX -w "$WAIT_S" t a -- sleep 600 >/dev/null
require "node 1 holds EX on 'a'" cl_wait_for "node 1 holds a" "$WAIT_S" sd_holds 1 t a EX
cl_spawn 2 h2 "$SDLMCTL" lock -m EX -w "$WAIT_S" t b -- sleep 600 >/dev/null
require "node 2 holds EX on 'b'" cl_wait_for "node 2 holds b" "$WAIT_S" sd_holds 2 t b EX
check "no divergence before the seam fired" \
	sh -c "! grep -q 'REPLICAS DIVERGED' $(log_of 1) $(log_of 2) $(log_of 3)"

out=$(sd_lock 3 -m EX -w "$WAIT_S" t c -- echo granted 2>&1)
echo "node 3: $out"
check "the seam corrupted node 2's replica" grep -q "test seam: corrupting" "$(log_of 2)"
for i in 1 2 3; do
	check "node $i saw the divergence" grep -q "REPLICAS DIVERGED" "$(log_of "$i")"
done
check "node 1's replica survives (equal histories: the lowest node's side)" \
	grep -q "the replica of node 1 survives" "$(log_of 1)"
check "node 2 dropped its replica" grep -q "dropping the replica (it diverged" "$(log_of 2)"
check "node 2 took node 1's state" grep -q "state received from node 1" "$(log_of 2)"
check "node 1 held the gate" grep -q "gate held after the divergence" "$(log_of 1)"
d=$(line_of 1 "REPLICAS DIVERGED")
o=$(awk -v d="$d" 'NR > d && /opening the gate/ { print NR; exit }' "$(log_of 1)")
check "node 1 opened the gate again after the divergence" test -n "$o"
check "node 3 got its lock once the gate was open" sh -c "echo '$out' | grep -q granted"
# Nothing granted while held.  Node 3's request goes out with its JOIN,
# so it may be applied - and granted - before the round that finds the
# divergence completes (the detector acts at the round's completion): then
# node 3 learns the grant from the state ("granted before we had the
# state") and there is no ordering to check.  Otherwise its debug ring
# shows, in its own order of application, the fencer's GATE (event kind
# 8) before its cluster grant.
sd_ctl 3 dump >"$CL_DIR/n3.dump" 2>&1
ga=$(grep -n -m1 "apply kind 8 " "$CL_DIR/n3.dump" | cut -d: -f1)
gr=$(grep -n -m1 "cluster grant EX" "$CL_DIR/n3.dump" | cut -d: -f1)
gs=$(grep -n -m1 "granted before we had the state" "$CL_DIR/n3.dump" | cut -d: -f1)
echo "node 3's ring: first GATE applied at line ${ga:-none}, cluster grant at line ${gr:-none}, grant from the state at line ${gs:-none}"
if [ -n "$gr" ]; then
	check "node 3 was granted only after the held gate reopened" \
		test -n "$ga" -a "${ga:-0}" -lt "$gr"
else
	check "node 3's grant came with the state (granted before the divergence round completed)" \
		test -n "$gs"
fi
check "node 2 still holds 'b' (its cached lock re-asserted, not revoked)" sd_holds 2 t b EX
check "node 1 still holds 'a'" sd_holds 1 t a EX
check "every later round: equal digests on every node (digests.py)" \
	python3 "$here/../nemesis/digests.py" "$(log_of 1)" "$(log_of 2)" "$(log_of 3)"
echo "t-diverge: $passes passed, $fails failed"
[ "$fails" = 0 ]
