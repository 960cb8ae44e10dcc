#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A JOIN counts only in the round it answers (docs/protocol.md "Rounds").
# Nodes 1 and 2 hold locks in lockspace t (both have a replica).  Node 1's
# sdlmd is stopped; node 3 joins t (round N) and its sdlmd stops (round
# N+1: node 3 left); node 1 is continued.  Node 1 then answers round N
# after the confchg of N+1 was delivered: that JOIN's digest is of the
# state after N, node 2's of the state after N+1.  Counted in round N+1,
# it made the healthy replicas look diverged (REPLICAS DIVERGED, node 2's
# replica dropped, the gate held).  It must be ignored: no divergence,
# equal digests at every round (digests.py), both locks kept.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/sdlm.sh"
trap sd_teardown EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
log_of() { echo "$CL_DIR/n$1/sdlmd-file.log"; }
logs() { echo "$(log_of 1) $(log_of 2) $(log_of 3)"; }

sd_up 3
sd_timeouts
# Joining a group and getting the state takes a few token timeouts.
WAIT_S=$(( (10 * CL_TOKEN + 20 * I) / 1000 + 30 ))
# Node 1's daemon is stopped for at most half the watchdog timeout W: its
# watchdog is not fed meanwhile.
STOP_S=$(( W / 2000 > 2 ? W / 2000 : 2 ))
echo "timeouts: I=$I W=$W L=$L; node 1 stopped for at most $STOP_S s"

cl_spawn 1 h1 "$SDLMCTL" lock -m EX -w "$WAIT_S" t a -- sleep 600 >/dev/null
require "node 1 holds EX on 'a'" cl_wait_for "node 1 holds a" "$WAIT_S" sd_holds 1 t a EX
cl_spawn 2 h2 "$SDLMCTL" lock -m EX -w "$WAIT_S" t b -- sleep 600 >/dev/null
require "node 2 holds EX on 'b'" cl_wait_for "node 2 holds b" "$WAIT_S" sd_holds 2 t b EX

cl_stop_proc 1 sdlmd
cl_spawn 3 l3 "$SDLMCTL" lock -m EX -w "$WAIT_S" t c -- true
check "round N: node 2 saw node 3 join t" \
	cl_wait_for "node 3 joined" "$STOP_S" grep -q "ls t: node 3 joined" "$(log_of 2)"
# Its watchdog first (a killed test watchdog resets nothing): node 3
# keeps its corosync, only its daemon leaves the group.
cl_kill 3 watchdog KILL
cl_kill 3 sdlmd KILL
check "round N+1: node 2 saw node 3 leave t" \
	cl_wait_for "node 3 left" "$STOP_S" grep -q "ls t: node 3 left" "$(log_of 2)"
n=$(grep -c "ls t: round complete" "$(log_of 2)")
cl_cont_proc 1 sdlmd
check "a round with node 1 completes on node 2" \
	cl_wait_for "round complete" "$WAIT_S" \
	sh -c "[ \$(grep -c 'ls t: round complete' '$(log_of 2)') -gt $n ]"
check "no divergence was reported" sh -c "! grep -q 'REPLICAS DIVERGED' $(logs)"
check "node 2 kept its replica" sh -c "! grep -q 'dropping the replica' '$(log_of 2)'"
check "node 1 still holds 'a'" sd_holds 1 t a EX
check "node 2 still holds 'b'" sd_holds 2 t b EX
check "every round: equal digests on every node (digests.py)" \
	python3 "$here/../nemesis/digests.py" $(logs)
t_tally
[ "$fails" = 0 ]
