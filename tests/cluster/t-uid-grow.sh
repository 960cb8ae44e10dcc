#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The UID table grown online (issue 17, item 5; docs/uid.md, "Growing the
# table"), on a 2-node cluster with a small table (16 slots):
#   1. mailboxes are created until the table is full: the 17th is refused,
#      the client's error and the daemon's log line name the grow command,
#      `sdlmctl uid summary` says 16 used / 0 free, the counter of refused
#      creations moves;
#   2. while both nodes deliver into old mailboxes and keep trying to create
#      new ones, an operator grows the table on node 1 (`sdlmctl uid grow`):
#      the creations waiting on both nodes succeed (node 2 learns of the
#      new table without a restart), deliveries never stop;
#   3. two operators grow at once, one per node: both tables are added, one
#      after the other, neither over the other;
#   4. every old mailbox is still served, same UIDVALIDITY, its UIDs going
#      on above the ones before; the new ones too; no UID twice in the
#      whole history (uidcheck.py), every mailbox in exactly one slot.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/sdlm.sh"
: "${UIDCLIENT:?}"
trap sd_teardown EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
H=""
client() {	# node label mailbox count iters [hold_ms]
	ip netns exec "${CL_PREFIX}n$1" "$UIDCLIENT" t "$3" "$4" "$5" "$2" "$H" "${6:-0}"
}
summary() {	# node: `uid summary --json` of the shared disk, as node $1 reads it
	sd_ctl "$1" --json uid summary -d "$SD_DISK"
}
field() {	# json key
	python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}
prom() {	# node metric
	sd_ctl "$1" stats --prometheus | sed -n "s/^$2{node=\"$1\"} //p"
}

SLOTS=16
export SD_UID_SLOTS=$SLOTS
sd_up 2
sd_timeouts
H="$CL_DIR/history"
: >"$H"

# --- 1. fill the table until it is full ------------------------------------------
for ((k = 0; k < SLOTS; k++)); do
	client $((k % 2 + 1)) "fill$k" "old$k" 1 1 >/dev/null 2>&1 || fail "creating old$k"
done
check "$SLOTS mailboxes created in a table of $SLOTS slots" \
	sh -c "[ \$(grep -c '^got fill' '$H') = $SLOTS ]"
err=$(client 2 "over" "over0" 1 1 2>&1); rc=$?
echo "$err"
check "mailbox $((SLOTS + 1)) is refused (exit $rc)" test "$rc" != 0
check "the client's error says the table is full and names the grow command" \
	sh -c "echo '$err' | grep -q 'UID table full.*sdlmctl uid grow'"
check "node 2's log says FULL and names the grow command" \
	grep -q "the UID table is FULL.*sdlmctl uid grow --slots" "$CL_DIR/n2/sdlmd-file.log"
s=$(summary 1); echo "$s"
check "uid summary: $SLOTS used, 0 free, 1 table" python3 -c "
import json, sys; d = json.loads(sys.argv[1])
assert d['used'] == $SLOTS and d['free'] == 0 and len(d['tables']) == 1, d" "$s"
check "node 2 counts the refused creation (sdlm_uid_table_full_total)" \
	test "$(prom 2 sdlm_uid_table_full_total)" -ge 1
check "node 2 knows $SLOTS slots (sdlm_uid_table_slots)" test "$(prom 2 sdlm_uid_table_slots)" = "$SLOTS"

# --- 2. grow while both nodes deliver and wait to create -------------------------------
# Deliveries into old mailboxes on both nodes, all through the grow.
deliver() {	# node label mailbox: the uidclient itself in the background ($! is its pid)
	exec ip netns exec "${CL_PREFIX}n$1" "$UIDCLIENT" t "$3" 1 100000 "$2" "$H" 30 >/dev/null 2>&1
}
deliver 1 "deliv1" old0 & d1=$!
deliver 2 "deliv2" old1 & d2=$!
cl_wait_for "deliveries running on both nodes" 30 \
	sh -c "grep -q '^got deliv1' '$H' && grep -q '^got deliv2' '$H'"
# Creators on both nodes that try again until the table has room.
creator() {	# node name: retried until created, for 10 x the lease
	local end=$((SECONDS + 10 * L / 1000 + 30))
	until client "$1" "new-$2" "$2" 1 1 >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}
full1=$(prom 1 sdlm_uid_table_full_total)
full2=$(prom 2 sdlm_uid_table_full_total)
creator 1 new1 & c1=$!
creator 2 new2 & c2=$!
check "both creators were refused: full (node 1 had $full1, node 2 $full2)" \
	cl_wait_for "a refusal on each node" $((10 * L / 1000 + 30)) sh -c "
	[ \"\$(timeout 20 ip netns exec ${CL_PREFIX}n1 $SDLMCTL stats --prometheus | sed -n 's/^sdlm_uid_table_full_total{node=\"1\"} //p')\" -gt $full1 ] &&
	[ \"\$(timeout 20 ip netns exec ${CL_PREFIX}n2 $SDLMCTL stats --prometheus | sed -n 's/^sdlm_uid_table_full_total{node=\"2\"} //p')\" -gt $full2 ]"
out=$(SD_CTL_TIMEOUT=120 sd_ctl 1 uid grow -d "$SD_DISK" --slots 32); rc=$?
echo "$out"
check "uid grow on node 1 while the cluster runs (exit $rc)" test "$rc" = 0
check "the grown area's header carries the UID_CHAIN feature (format 2.0: a build that does not follow the chain refuses it)" \
	sh -c "'$SDLMCTL' --json fence dump -d '$SD_DISK' | grep -q '\"version\":\"2.0\"'"
wait "$c1"; r1=$?
wait "$c2"; r2=$?
check "the creation waiting on node 1 succeeds after the grow" test "$r1" = 0
check "the creation waiting on node 2 succeeds (learnt without a restart)" test "$r2" = 0
check "node 2's log: the new table found" grep -q "UID table 1 found (grown online): 32 slots" \
	"$CL_DIR/n2/sdlmd-file.log"
check "node 2 knows $((SLOTS + 32)) slots now" test "$(prom 2 sdlm_uid_table_slots)" = $((SLOTS + 32))
for ((k = 0; k < 10; k++)); do
	client $((k % 2 + 1)) "more$k" "more$k" 2 1 >/dev/null 2>&1 || fail "creating more$k"
done
pass "10 more mailboxes created, both nodes"

# --- 3. two operators grow at once ---------------------------------------------------------
SD_CTL_TIMEOUT=120 sd_ctl 1 uid grow -d "$SD_DISK" --slots 8 >"$CL_DIR/g1.out" 2>&1 & g1=$!
SD_CTL_TIMEOUT=120 sd_ctl 2 uid grow -d "$SD_DISK" --slots 8 >"$CL_DIR/g2.out" 2>&1 & g2=$!
wait "$g1"; r1=$?
wait "$g2"; r2=$?
cat "$CL_DIR/g1.out" "$CL_DIR/g2.out"
check "two grows at once both succeed ($r1, $r2)" test "$r1$r2" = 00
s=$(summary 2); echo "$s"
check "four tables, one after the other, none over another" python3 -c "
import json, sys; d = json.loads(sys.argv[1]); t = d['tables']
assert [x['slots'] for x in t] == [$SLOTS, 32, 8, 8], t
for a, b in zip(t, t[1:]):
    assert b['first_slot'] == a['first_slot'] + a['slots'], (a, b)
    assert b['start_sector'] == a['start_sector'] + 2 * a['slots'] + 2, (a, b)
assert d['used'] == $SLOTS + 2 + 10 and d['damaged'] == 0, d" "$s"

# --- 4. everything served; the history judged ------------------------------------------------
alive=0
kill -0 "$d1" 2>/dev/null && kill -0 "$d2" 2>/dev/null && alive=1
check "the deliveries on both nodes ran through the grows" test "$alive" = 1
kill "$d1" "$d2" 2>/dev/null
wait "$d1" "$d2" 2>/dev/null
for ((k = 0; k < SLOTS; k++)); do
	client $((k % 2 + 1)) "after$k" "old$k" 1 1 >/dev/null 2>&1 || fail "old$k after the grow"
done
for m in new1 new2 more0 more9; do
	client 2 "after-$m" "$m" 1 1 >/dev/null 2>&1 || fail "$m after the grows"
done
check "every old mailbox served after the grows: same UIDVALIDITY, UIDs above the earlier ones" python3 -c "
import sys
first, last, uv = {}, {}, {}
for ln in open(sys.argv[1]):
    f = ln.split()
    if f[0] != 'got':
        continue
    lab, mb, v, u = f[1], f[2], f[3], int(f[4])
    uv.setdefault(mb, set()).add(v)
    if lab.startswith('after'):
        last[mb] = max(last.get(mb, 0), u)
    else:
        first[mb] = max(first.get(mb, 0), u)
for k in range($SLOTS):
    mb = 'old%d' % k
    assert len(uv[mb]) == 1, (mb, uv[mb])
    assert last[mb] > first[mb], (mb, first[mb], last[mb])
for mb in ('new1', 'new2', 'more0', 'more9'):
    assert len(uv[mb]) == 1 and last[mb] > first[mb], mb
" "$H"
out=$(python3 "$here/uidcheck.py" "$H"); echo "$out"
check "no UID twice, ascending per mailbox, in the whole history" \
	sh -c "echo '$out' | tail -1 | grep -q ': ok$'"
s=$(summary 1)
check "uid summary after: every mailbox in one slot ($((SLOTS + 12)) used)" python3 -c "
import json, sys; d = json.loads(sys.argv[1]); assert d['used'] == $SLOTS + 12, d" "$s"

t_tally
[ "$fails" = 0 ]
