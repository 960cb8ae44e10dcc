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
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
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

# The round that finds the divergence completes only when node 1's JOIN
# is delivered.  Node 1's sdlmd is stopped before node 3 asks (node 3's
# join starts the round, and the seam corrupts node 2's replica at it);
# then node 2 asks for 'c', which nobody holds: its request reaches node
# 2's corrupt replica while that round is still collecting JOINs.  A
# replica that may have diverged must not grant then (docs/protocol.md
# "Rounds hold grants"): node 2 must get 'c' only from the surviving
# replica, after its own was dropped.  (Node 3's own request cannot show
# it: a newcomer is granted nothing before the fencer reported it live,
# which comes after the round.)  The stop is bounded well below the lease
# L and the watchdog timeout W, so node 1 loses nothing by it.
LW=$(( L < W ? L : W ))
STOP_S=$(( LW / 2000 > 2 ? LW / 2000 : 2 ))
echo "timeouts: I=$I T=$T W=$W L=$L: node 1 stopped for at most $STOP_S s"
# node I's debug ring (the file log is at info level)
ring_has() { sd_ctl "$1" dump 2>/dev/null | grep -qE -- "$2"; }
cl_stop_proc 1 sdlmd
cl_spawn 3 l3 sh -c "$SDLMCTL lock -m EX -w $WAIT_S t c3 -- echo granted >$CL_DIR/n3.lock.out 2>&1"
check "node 2 saw node 3 join while node 1 was stopped" \
	cl_wait_for "node 3 in node 2's group" "$STOP_S" grep -q "ls t: node 3 joined" "$(log_of 2)"
cl_spawn 2 l2 sh -c "$SDLMCTL lock -m EX -w $WAIT_S t c -- echo granted >$CL_DIR/n2.lock.out 2>&1"
check "node 2 applied its request for 'c' while node 1 was stopped" \
	cl_wait_for "node 2 applies its request" "$STOP_S" ring_has 2 "apply kind 1 node 2 .* res c:"
cl_cont_proc 1 sdlmd
cl_wait_for "node 3's lock command done" "$WAIT_S" grep -q . "$CL_DIR/n3.lock.out"
cl_wait_for "node 2's lock command done" "$WAIT_S" grep -q . "$CL_DIR/n2.lock.out"
out=$(cat "$CL_DIR/n3.lock.out" 2>/dev/null)
echo "node 3: $out; node 2: $(cat "$CL_DIR/n2.lock.out" 2>/dev/null)"
check "node 2 got 'c'" grep -q granted "$CL_DIR/n2.lock.out"
sd_ctl 2 dump >"$CL_DIR/n2.dump" 2>&1
lk=$(grep -m1 -oE "apply kind 1 node 2 lkid [0-9a-f]+ .* res c:" "$CL_DIR/n2.dump" | awk '{ print $7 }')
cg=$(grep -n -m1 "cluster grant EX 0*$lk\b" "$CL_DIR/n2.dump" | cut -d: -f1)
fs=$(grep -n -m1 "granted before we had the state: 0*$lk\b" "$CL_DIR/n2.dump" | cut -d: -f1)
dr=$(grep -n -m1 "dropping the replica (it diverged" "$CL_DIR/n2.dump" | cut -d: -f1)
echo "node 2's ring: request lkid ${lk:-?}, cluster grant at line ${cg:-none}, grant from the state at line ${fs:-none}, replica dropped at line ${dr:-none}"
check "node 2's corrupt replica did not grant 'c' before the round completed" \
	test -n "$dr" -a -z "$cg" -o -n "$dr" -a "${cg:-0}" -gt "${dr:-0}"
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
# Nothing granted while held: node 3's debug ring shows, in its own
# order of application, the fencer's GATE (event kind 8) before its
# cluster grant.  A grant learnt from the state ("granted before we had
# the state") means a replica granted it while the round was incomplete.
sd_ctl 3 dump >"$CL_DIR/n3.dump" 2>&1
ga=$(grep -n -m1 "apply kind 8 " "$CL_DIR/n3.dump" | cut -d: -f1)
gr=$(grep -n -m1 "cluster grant EX" "$CL_DIR/n3.dump" | cut -d: -f1)
gs=$(grep -n -m1 "granted before we had the state" "$CL_DIR/n3.dump" | cut -d: -f1)
echo "node 3's ring: first GATE applied at line ${ga:-none}, cluster grant at line ${gr:-none}, grant from the state at line ${gs:-none}"
check "no replica granted node 3's request while the round was incomplete" test -z "$gs"
check "node 3 was granted only after the held gate reopened" \
	test -n "$ga" -a -n "$gr" -a "${ga:-0}" -lt "${gr:-0}"
check "node 2 still holds 'b' (its cached lock re-asserted, not revoked)" sd_holds 2 t b EX
check "node 1 still holds 'a'" sd_holds 1 t a EX
check "every later round: equal digests on every node (digests.py)" \
	python3 "$here/../nemesis/digests.py" "$(log_of 1)" "$(log_of 2)" "$(log_of 3)"
t_tally
[ "$fails" = 0 ]
