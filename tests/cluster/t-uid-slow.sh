#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A client is never abandoned by its own daemon (issue 17, item 4).
#
# Node 2 holds mailbox slowbox and its sdlmd is stopped (SIGSTOP, shorter
# than its watchdog timeout W): node 1's allocation in slowbox waits for a
# hand-off that cannot come yet.  The client on node 1 set a UID timeout
# of 1 s (sdlm_uid_set_timeout):
#  - its call returns SDLM_ESLOW after that second, not SDLM_EDAEMON, and
#    the handle stays usable: the same handle allocates once node 2 runs
#    again;
#  - the allocation the daemon made late for the call that gave up is
#    aborted by the library (otherwise node 1 would keep slowbox for the
#    whole allocation lease): node 3 allocates in slowbox while node 1's
#    client is still connected;
#  - a caller that gives up and goes quiet (no further call on its handle,
#    still connected) is not left holding the mailbox either: the library
#    tells the daemon the call was given up, and node 3 allocates in
#    idlebox while that client is still connected;
#  - no UID is handed out twice.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/sdlm.sh"
: "${UIDCLIENT:?}"
trap sd_teardown EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"

sd_up 3
sd_timeouts
H="$CL_DIR/history"
: >"$H"
client() { ip netns exec "${CL_PREFIX}n$1" "$UIDCLIENT" t "$3" "$4" "$5" "$2" "$H" 0; }

require "node 2 allocates in slowbox (and keeps it cached)" client 2 n2-first slowbox 2 3

# Node 2's daemon stops for less than its watchdog timeout.
cl_stop_proc 2 sdlmd

out="$CL_DIR/n1-client.out"
# A timeout of 1 s, retried on the same handle; it stays connected after
# its commit for as long as node 3 may need to get the mailbox.
linger=$(( (DEAD + 30000) ))
ip netns exec "${CL_PREFIX}n1" env UIDCLIENT_TIMEOUT_MS=1000 UIDCLIENT_RETRY_SLOW=1 \
	UIDCLIENT_LINGER_MS=$linger "$UIDCLIENT" t slowbox 1 1 n1-slow "$H" 0 >"$out" 2>&1 &
cpid=$!
# It must say "slow" well before node 2's watchdog would end node 2.
if cl_wait_for "node 1's call returns SDLM_ESLOW" $(( W / 1000 - 3 )) grep -q "slow after" "$out"; then
	pass "node 1's UID call returned SDLM_ESLOW: $(head -1 "$out")"
	ms=$(sed -n 's/.*slow after \([0-9]*\) ms.*/\1/p' "$out" | head -1)
	check "after its own timeout, not the library's default ($ms ms)" test "$ms" -ge 1000 -a "$ms" -lt 30000
else
	fail "node 1's UID call returned SDLM_ESLOW (client said: $(cat "$out"))"
fi
cl_cont_proc 2 sdlmd

check "the same handle allocates once node 2 runs again" \
	cl_wait_for "node 1 allocated" $(( DEAD / 1000 + 30 )) grep -q "lingering" "$out"
grep -v "slow after\|lingering" "$out" && fail "node 1's client printed an error"
# The late allocation of the call that gave up must be aborted, or node 1
# keeps slowbox until uid_alloc_lease_s: node 3 gets the mailbox while
# node 1's client is still connected.
check "node 3 allocates in slowbox while node 1's client lingers" \
	env UIDCLIENT_TIMEOUT_MS=$(( DEAD + 10000 )) ip netns exec "${CL_PREFIX}n3" "$UIDCLIENT" t slowbox 1 2 n3-after "$H" 0
check "node 1's client still connected then" kill -0 "$cpid"
kill "$cpid" 2>/dev/null; wait "$cpid" 2>/dev/null
# The same with a caller that goes quiet after SDLM_ESLOW: its handle
# reads nothing any more, so only the daemon can drop what it gave up.
require "node 2 allocates in idlebox (and keeps it cached)" client 2 n2-idle idlebox 2 3
cl_stop_proc 2 sdlmd
out="$CL_DIR/n1-idle.out"
ip netns exec "${CL_PREFIX}n1" env UIDCLIENT_TIMEOUT_MS=1000 UIDCLIENT_IDLE_SLOW_MS=$linger \
	"$UIDCLIENT" t idlebox 1 1 n1-idle "$H" 0 >"$out" 2>&1 &
ipid=$!
check "node 1's quiet caller got SDLM_ESLOW" \
	cl_wait_for "node 1's call returns SDLM_ESLOW" $(( W / 1000 - 3 )) grep -q "slow after .*, idle" "$out"
cl_cont_proc 2 sdlmd
check "node 3 allocates in idlebox while node 1's quiet caller is connected" \
	env UIDCLIENT_TIMEOUT_MS=$(( DEAD + 10000 )) ip netns exec "${CL_PREFIX}n3" "$UIDCLIENT" t idlebox 1 2 n3-idle "$H" 0
check "node 1's quiet caller still connected then" kill -0 "$ipid"
kill "$ipid" 2>/dev/null; wait "$ipid" 2>/dev/null

res=$(python3 "$here/uidcheck.py" "$H"); echo "$res"
check "no UID handed out twice" sh -c "echo '$res' | tail -1 | grep -q ': ok$'"
t_tally
[ "$fails" = 0 ]
