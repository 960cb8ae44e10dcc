#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A node's daemon restarts (a new incarnation) while the replica still
# holds a lock of its predecessor under the lock id the new daemon's first
# request uses (lock ids start at 1 with each incarnation).  Here the
# request is for the same resource in the same mode: sent before the new
# daemon had the replica, it was refused as a duplicate and then taken by
# the reconciliation for "granted before we had the state" - the new
# daemon's client got its predecessor's grant, and with it the value
# block as it was before the predecessor wrote it, marked valid.  The predecessor's last value never reached the
# cluster; what a holder that vanished leaves is invalid (a fence
# invalidates it, and so does the release of a stale lock,
# lsrec_release_stale).
#
# Review s27-increv H2: this test failed before a daemon held its
# requests until it has the replica and sent the releases of its
# predecessor's locks (node 3's new daemon read "lvb valid v1");
# docs/recovery.md, docs/nodelock.md "Held requests".
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/sdlm.sh"
: "${ACCESSCLIENT:?}"
trap sd_teardown EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"

# ac I ARGS...: the test client in node I
ac() {
	local i=$1
	shift
	timeout 90 ip netns exec "${CL_PREFIX}n$i" "$ACCESSCLIENT" "$@"
}
# lkid3 LS RES: node 1's view of node 3's cluster lock id on RES
lkid3() {
	sd_ctl 1 locks "$1" 2>/dev/null | grep -E -A8 "resource $2( |\$)" |
		awk '/^  resource/ && NR > 1 { exit } { print }' |
		sed -n 's/.*node 3 .*granted.*lkid \([0-9a-f]*\).*/\1/p'
}

sd_up 3

# Node 1 writes v1 and keeps the lock cached; node 3's daemon, whose first
# lock this is (lock id 3:1), takes it over (v1, valid) and writes v2,
# which stays in its cache with the cluster lock.
out=$(ac 1 lvb t alias v1)
require "node 1 takes 'alias' (value block: $out)" test "$out" = "lvb invalid"
out=$(ac 3 lvb t alias v2)
require "node 3 takes 'alias' over from node 1 with v1 ($out)" test "$out" = "lvb valid v1"
require "node 3 holds 'alias'" cl_wait_for "node 3 holds alias" 30 sd_holds 3 t alias EX
id=$(lkid3 t alias)
require "node 3's cluster lock on 'alias' is its first, 3:1 ($id)" test "$id" = 0000000300000001

# Node 3's daemon stops while cut off: its release (with v2) never reaches
# the cluster, which keeps 3:1 granted to the away node.
cl_cut 3
require "node 3 alone and inquorate" cl_wait_for "node 3 inquorate" 60 cl_inquorate 3
cl_kill 3 sdlmd TERM
cl_heal 3
require "healed: [1 2 3] again" cl_wait_members 1 "1 2 3" 90
require "the cluster still shows node 3's 3:1 on 'alias'" test "$(lkid3 t alias)" = 0000000300000001
sd_restart 3
require "node 3's new sdlmd fenced-safe" cl_wait_for "node 3 safe" 60 sd_status_has 3 "fenced-safe"

# The new daemon's first request: 'alias' EX, lock id 3:1 again.
out=$(ac 3 lvb t alias)
echo "node 3's new daemon, first request ('alias' EX): $out"
check "it is granted" grep -q "^lvb " <<<"$out"
check "not with its predecessor's grant and the value block it never saw written over, as valid" \
	eval '! grep -q "lvb valid" <<<"$out"'
out=$(ac 1 lvb t alias)
echo "node 1 then: $out"
check "node 1 does not read v1 as valid either (v2 was written after it)" \
	eval '! grep -q "lvb valid v1" <<<"$out"'
t_tally
[ "$fails" = 0 ]
