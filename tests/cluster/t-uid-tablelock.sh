#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The table locks are the area's, whatever the mailbox's lockspace
# (docs/uid.md, "The table lock"), here the segment locks alone (the area
# is marked UID_SEGLOCK before the nodes start; the older table locks as
# well are what every other cluster test takes): on a 2-node cluster with
# a small table (600 slots: segments 0 and 1 of 256, segment 2 of 88),
# node 1 creates new mailboxes in lockspace "t" while
# node 2 creates new ones in lockspace "t2", at the same moment, several
# clients each, with every record read held back on both nodes (the window
# between a creator's probe for a free slot and its record landing).  Then:
#   - every mailbox is found again, by the other node, same UIDVALIDITY,
#     its UIDs going on above the first ones;
#   - `sdlmctl uid summary` counts exactly one used slot per mailbox and no
#     damaged slot (two creators in one slot: one record over the other);
#   - no UID twice in the whole history (uidcheck.py);
#   - a mailbox in lockspace sdlm-admin (the table locks' own) is
#     created, and creation goes on afterwards (with the older table
#     locks, the area's was asked for twice and waited behind itself for
#     ever).
# The table lock used to be taken in the mailbox's own lockspace: creators
# in two lockspaces were not serialised and took the same free slot.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/sdlm.sh"
: "${UIDCLIENT:?}"
trap sd_teardown EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
H=""
burst() {	# node lockspace prefix n procs label [timeout_s]
	timeout "${7:-600}" ip netns exec "${CL_PREFIX}n$1" "$UIDCLIENT" --burst "$2" "$3" "$4" "$5" "$6" "$H"
}
summary() {	# node: `uid summary --json` of the shared disk, as node $1 reads it
	sd_ctl "$1" --json uid summary -d "$SD_DISK"
}

SLOTS=600
N=28		# new mailboxes per node (2N <= SLOTS: the table never fills)
PROBE=$((2 * N + 1))	# at most 2N used slots: a probe meets an EMPTY one within 2N + 1
PROCS=4
STALL=100	# ms per record read
export SD_UID_SLOTS=$SLOTS SD_UID_SEGMENTS=1
sd_up 2
sd_timeouts
H="$CL_DIR/history"
: >"$H"
for i in 1 2; do
	check "node $i creates under the segment locks only (the area is marked)" \
		grep -q "created under the UID table's segment locks only" "$CL_DIR/n$i/sdlmd-file.log"
done

for i in 1 2; do
	sd_fault "$i" "uid read:stall=$STALL"
	require "node $i applied the fault" cl_wait_for "fault applied" $((10 * I / 1000 + 10)) \
		grep -q "fault injection: 'uid read:stall=$STALL'" "$CL_DIR/n$i/sdlmd-file.log"
done

# --- the two lockspaces create at once ------------------------------------------
# A creation reads at most PROBE slots twice (lookup, insert) and writes a
# few records; with room for a busy machine.
limit=$((N * (2 * PROBE + 4) * (STALL + T) / 1000 + 120))
burst 1 t a "$N" "$PROCS" c1 "$limit" & b1=$!
burst 2 t2 b "$N" "$PROCS" c2 "$limit" & b2=$!
wait "$b1"; r1=$?
wait "$b2"; r2=$?
check "node 1 created $N mailboxes in lockspace t (exit $r1)" test "$r1" = 0
check "node 2 created $N mailboxes in lockspace t2 (exit $r2)" test "$r2" = 0
for i in 1 2; do
	sd_fault "$i" none
done
s=$(summary 2); echo "$s"
check "uid summary after the creations: $((2 * N)) used (one slot per mailbox), none damaged" python3 -c "
import json, sys; d = json.loads(sys.argv[1])
assert d['used'] == $((2 * N)) and d['damaged'] == 0, d" "$s"

# --- every mailbox found again, by the other node -----------------------------------
rc1=0; rc2=0
burst 2 t a "$N" "$PROCS" again2 || rc1=$?
burst 1 t2 b "$N" "$PROCS" again1 || rc2=$?
check "node 2 allocates again in node 1's $N mailboxes (exit $rc1)" test "$rc1" = 0
check "node 1 allocates again in node 2's $N mailboxes (exit $rc2)" test "$rc2" = 0
check "every mailbox found again: same UIDVALIDITY, UIDs above the first ones" python3 -c "
import sys
first, again, uv = {}, {}, {}
for ln in open(sys.argv[1]):
    f = ln.split()
    if f[0] != 'got':
        continue
    lab, mb, v, u = f[1], f[2], f[3], int(f[4])
    uv.setdefault(mb, set()).add(v)
    d = again if lab.startswith('again') else first
    d[mb] = max(d.get(mb, 0), u)
want = ['a%d' % k for k in range($N)] + ['b%d' % k for k in range($N)]
bad = [mb for mb in want if mb not in first or mb not in again or len(uv[mb]) != 1
       or again[mb] <= first[mb]]
for mb in bad:
    print('mailbox', mb, 'first', first.get(mb), 'again', again.get(mb), 'uidvalidity', uv.get(mb))
assert not bad, bad
" "$H"
# --- a mailbox in lockspace sdlm-admin, the table locks' own ------------------
# With the older table locks too, its lockspace's uid-table is the area's:
# taken once (it used to be asked for a second time while held, waiting
# behind itself for ever: test_uidsvc test_svc_mailbox_in_table_ls).  Here
# the segment locks live in that lockspace beside its mailbox lock.
# One creation, no fault: reads PROBE + 1 slots twice at most and writes a
# few records, each within T; room for a busy machine.  Past it the call
# gives up (SDLM_ESLOW: uidclient exits 1) rather than wait for ever.
one=$(( (2 * (PROBE + 1) + 4) * T / 1000 + 30 ))
rc1=0; rc2=0
timeout $((one + 30)) ip netns exec "${CL_PREFIX}n1" env UIDCLIENT_TIMEOUT_MS=$((one * 1000)) \
	"$UIDCLIENT" sdlm-admin adminbox 1 1 adm1 "$H" || rc1=$?
check "node 1 creates a mailbox in lockspace sdlm-admin (exit $rc1)" test "$rc1" = 0
timeout $((one + 30)) ip netns exec "${CL_PREFIX}n2" env UIDCLIENT_TIMEOUT_MS=$((one * 1000)) \
	"$UIDCLIENT" t afteradmin 1 1 adm2 "$H" || rc2=$?
check "node 2 creates a mailbox in lockspace t after it (exit $rc2)" test "$rc2" = 0
s=$(summary 1); echo "$s"
check "uid summary at the end: $((2 * N + 2)) used (none created twice), none damaged" python3 -c "
import json, sys; d = json.loads(sys.argv[1])
assert d['used'] == $((2 * N + 2)) and d['damaged'] == 0, d" "$s"
out=$(python3 "$here/uidcheck.py" "$H"); echo "$out"
check "no UID twice, ascending per mailbox, in the whole history" \
	sh -c "echo '$out' | tail -1 | grep -q ': ok$'"
check "no node's log reports a damaged or foreign record" \
	sh -c "! grep -hE 'damaged|another mailbox|identity' '$CL_DIR/n1/sdlmd-file.log' '$CL_DIR/n2/sdlmd-file.log'"

t_tally
[ "$fails" = 0 ]
