#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The allocation lease (issue 13, hole 10), on a real 2-node cluster with
# uid_alloc_lease_s=LEASE: a delivery that allocates and then hangs
# (longer than the lease) no longer blocks its mailbox for ever.  Its
# allocation is aborted (a gap, never reused), the next deliveries on
# both nodes go on, and its late commit fails with SDLM_EEXPIRED.  Judged
# by the UID history.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/sdlm.sh"
: "${UIDCLIENT:?}"
trap sd_teardown EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
client() { ip netns exec "${CL_PREFIX}n$1" "$UIDCLIENT" t "$3" "$4" "$5" "$2" "$H" "${6:-0}"; }
watermark() { sd_ctl "$1" --json uid show t "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["watermark"])'; }

LEASE=4
SD_EXTRA_OPTS="--uid-alloc-lease-s=$LEASE"
sd_up 2
sd_timeouts
H="$CL_DIR/history"
: >"$H"
log1="$CL_DIR/n1/sdlmd-file.log"

require "node 1 allocates in leasebox" client 1 n1-before leasebox 2 3
# A delivery that allocates, then hangs for ten leases before its commit.
hold=$((10 * LEASE * 1000))
client 1 n1-stuck leasebox 2 1 "$hold" >"$CL_DIR/stuck.out" 2>&1 & stuck=$!
require "the stuck delivery got its UIDs" cl_wait_for "stuck got" 20 grep -q "^got n1-stuck" "$H"
# Within the lease, the next delivery waits; past it, it goes on.  Bound:
# the lease, two heartbeats for the tick, room for a busy machine.
t0=$(date +%s)
require "the next delivery on node 1 is served once the lease ran out" \
	timeout $((LEASE + 2 * I / 1000 + 30)) \
	ip netns exec "${CL_PREFIX}n1" "$UIDCLIENT" t leasebox 2 3 n1-after "$H" 0
t1=$(date +%s)
check "it waited for the lease, not for the stuck delivery ($((t1 - t0)) s)" test $((t1 - t0)) -lt $((5 * LEASE))
check "node 1 logged the expiry naming the UIDs" grep -q "leasebox: allocation of UIDs .* not committed within uid_alloc_lease_s" "$log1"
require "node 2 takes leasebox over" client 2 n2-after leasebox 2 5
rc=0; wait "$stuck" || rc=$?
cat "$CL_DIR/stuck.out"
check "the late commit failed (exit $rc)" test "$rc" != 0
check "... with SDLM_EEXPIRED's message" grep -q "commit #0: UID allocation expired" "$CL_DIR/stuck.out"
# The stuck delivery's commit line is the late writer the store-side epoch
# check refuses (it never became visible): judge the rest.
grep -v " n1-stuck " "$H" >"$H.judged"
grep "^got n1-stuck " "$H" >>"$H.judged"
w=$(watermark 2 leasebox)
out=$(python3 "$here/uidcheck.py" "$H.judged" "--watermark=leasebox=$w"); echo "$out"
check "no UID reused (the expired UIDs are a gap), all below the watermark $w" \
	sh -c "echo '$out' | tail -1 | grep -q ': ok$'"

t_tally
[ "$fails" = 0 ]
