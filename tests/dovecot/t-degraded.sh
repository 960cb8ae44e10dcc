#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Split storage, degraded operation on both copies, rejoin repair, judged
# by real Dovecot (issue 5; docs/uid.md "Degraded operation", docs/imap.md
# "Split storage").  Real corosync, real sdlmd, real Dovecot:
#
#   site A: nodes 1 and 2 on disk A (an sdlm area) with mail store A
#   site B: node 3, on disk B and mail store B once the replication broke
#
#   1. the 3-node cluster on disk A delivers m1..m3 with sdlm's UIDs;
#      degraded mode is refused while quorate (exit 3) and without the
#      confirmation flag (64)
#   2. the split: every node cut off from the others (none quorate); on
#      ONE shared disk degraded mode is refused while another node's
#      heartbeat is on it (node 2: exit 4, named); node 2 stops; site B's
#      replica is frozen: disk A -> disk B, store A -> store B; node 3 runs
#      on disk B and is refused until node 1's copied heartbeat is dead
#   3. both sides in degraded mode deliver (A: a4, 10 UIDs lost, a5;
#      B: b4..b7, and Dovecot's own doveadm save; B's operator leaves and
#      re-enters degraded mode twice, so copy B ends with the higher
#      epoch): the same UIDs twice, marked provisional in both UID
#      records (uid show --json); a heartbeat appearing on a degraded
#      node's disk suspends it until the operator enables again
#   4. the repair is refused while degraded; both sides leave degraded
#      mode explicitly (the mark stays); site B rejoins on disk A; the
#      repair merges B into A with the floor of both sides and settles the
#      mark (the merged list's E is sdlm's epoch on disk A: copy B's
#      higher epochs never reach sdlm's record); Dovecot: every
#      message once, duplicates and below-UIDNEXT messages renumbered
#      above both sides' UIDNEXT and watermarks (dsync's rule checked
#      message by message), the rest unchanged, UIDVALIDITY unchanged,
#      nothing "broken"; a delivery after the rejoin lands above the
#      merged UIDNEXT with an epoch the merged list accepts.
# Needs root, corosync, dovecot-core, dovecot-imapd; exit 77 (skip) when
# missing.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SDLM_SRCDIR:=$(cd "$here/../.." && pwd)}"
: "${SDLM_BUILDDIR:=$SDLM_SRCDIR/_build}"
: "${SDLM_DELIVER:=$SDLM_BUILDDIR/agents/dovecot/sdlm-deliver}"
: "${SDLM_MAILDIR_REPAIR:=$SDLM_BUILDDIR/agents/dovecot/sdlm-maildir-repair}"
export SDLM_DELIVER SDLM_MAILDIR_REPAIR
. "$here/lib.sh"

for t in doveadm python3 corosync /usr/lib/dovecot/imap "$SDLM_DELIVER" "$SDLM_MAILDIR_REPAIR"; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -n "${SDLMD:-}" ] && [ -n "${SDLMCTL:-}" ] && [ -n "${SDLM_WATCHDOG:-}" ] ||
	{ echo "SKIP: SDLMD, SDLMCTL, SDLM_WATCHDOG unset (run through make check)"; exit 77; }

. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
finish() { echo "t-degraded: $passes passed, $fails failed"; [ "$fails" = 0 ]; exit $?; }
require() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; finish; fi; }

# Dovecot runs as nobody: its directory must be reachable through every
# parent (not so under a checkout in a 0700 directory); /var/tmp is.
T=$(mktemp -d /var/tmp/sdlm-degraded.XXXXXX)
chmod 755 "$T"
. "$SDLM_SRCDIR/tests/cluster/lib.sh"
. "$SDLM_SRCDIR/tests/cluster/sdlm.sh"
trap 'sd_teardown; rm -rf "$T"' EXIT

LS=t
MB=5ad1e0c0ffee4d1e9a0b0c0d0e0f1011
msg() { printf 'From: t@example.org\nSubject: %s\nMessage-ID: <%s@t>\n\nbody of %s\n' "$1" "$1" "$1"; }
# cdeliver NODE HOME SUBJECT: sdlm-deliver in node NODE; prints the UID
cdeliver() {
	local out rc
	out=$(msg "$3" | ip netns exec "${CL_PREFIX}n$1" "$SDLM_DELIVER" -l "$LS" -m "$MB" "$2/Maildir")
	rc=$?
	[ $rc = 0 ] && echo "$out" | sed -E 's/^uid=([0-9]+) .*/\1/'
	return $rc
}
uid_of_subject() {	# HOME SUBJECT
	dc_adm "$1" -f tab fetch 'uid hdr.subject' mailbox INBOX all |
		awk -F'\t' -v s="$2" '$2 == s || $2 == " " s { print $1 }'
}
ascending() { python3 -c 'import sys; u=[int(x.split()[0]) for x in sys.stdin if x.strip()]; sys.exit(0 if u == sorted(set(u)) else 1)'; }
jget() { python3 -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print(str(v).lower() if isinstance(v, bool) else v)' "$1"; }
# show I FIELD: a field of node I's `uid show --json`
show() { sd_ctl "$1" --json uid show "$LS" "$MB" | jget "$2"; }
# degraded I ARGS...: `sdlmctl degraded` in node I; its exit status
degraded() { local i=$1; shift; sd_ctl "$i" degraded "$@"; }
enable_ok() { degraded "$1" enable --confirm-split-storage >/dev/null 2>&1; }
deg_state() { sd_ctl "$1" --json degraded status | jget degraded; }

# --- 1. one cluster, one disk, one store ---------------------------------------
require "create 3 nodes" cl_create 3
require "disk A" sd_disk test
DISK_A=$SD_DISK
require "corosync on all nodes" cl_start_all
for i in 1 2 3; do require "node $i quorate" cl_wait_quorate "$i" 90; done
for i in 1 2 3; do require "sdlmd on node $i" sd_start "$i"; done
for i in 1 2 3; do
	require "node $i fenced-safe" cl_wait_for "node $i safe" 60 sd_status_has "$i" "fenced-safe"
done
A="$T/A" B="$T/B"
dc_home "$A"
require "m1 from node 1" cdeliver 1 "$A" m1
require "m2 from node 3" cdeliver 3 "$A" m2
require "m3 from node 1" cdeliver 1 "$A" m3
UV=$(dc_status "$A" uidvalidity)
check "before the split: UIDs 1..3, UIDVALIDITY is sdlm's" \
	test "$(dc_uids "$A" | cut -f1 | tr '\n' ,)" = "1,2,3," -a "$UV" = "$(show 1 uidvalidity)"
check "not provisional before the split" test "$(show 1 provisional)" = false

degraded 1 enable --confirm-split-storage >"$T/q.out" 2>&1
rc=$?
cat "$T/q.out"
check "degraded refused while quorate: exit 3, reason named" \
	sh -c "[ $rc = 3 ] && grep -q 'quorate' '$T/q.out'"
degraded 1 enable >"$T/u.out" 2>&1
rc=$?
check "degraded enable without --confirm-split-storage: usage (64)" \
	sh -c "[ $rc = 64 ] && grep -q 'confirm-split-storage' '$T/u.out'"
check "degraded status: off" test "$(deg_state 1)" = off

# --- 2. the split -----------------------------------------------------------------
require "every node cut off from the others" cl_partition "1" "2" "3"
for i in 1 2 3; do require "node $i not quorate" cl_wait_for "node $i inquorate" 60 cl_inquorate "$i"; done
degraded 1 enable --confirm-split-storage >"$T/p.out" 2>&1
rc=$?
cat "$T/p.out"
check "one shared disk, node 2's heartbeat on it: refused, exit 4, node 2 named" \
	sh -c "[ $rc = 4 ] && grep -q 'heartbeat is visible' '$T/p.out' && grep -q 'node 2' '$T/p.out'"
require "node 2 stops (site A keeps one node)" cl_kill 2 sdlmd TERM
# Site B's replica, frozen at the split: node 3 leaves disk A cleanly,
# then disk and store are copied as they are.
require "node 3 stops" cl_kill 3 sdlmd TERM
DISK_B="$CL_DIR/disk-b.img"
require "disk B = replica of disk A" dd if="$DISK_A" of="$DISK_B" bs=1M iflag=direct oflag=direct status=none
mkdir -p "$B"
require "store B = replica of store A" cp -a "$A/Maildir" "$B/"
dc_home "$B"
require "node 1: degraded mode enabled (node 2 left cleanly)" \
	cl_wait_for "node 1 degraded" 60 enable_ok 1
check "node 1: status on" test "$(deg_state 1)" = on
check "node 1: sdlmctl status says degraded" sd_status_has 1 "degraded +ON"
SD_DISK=$DISK_B require "node 3: sdlmd on disk B" sd_restart 3
require "node 3 fenced-safe on disk B" cl_wait_for "node 3 safe" 60 sd_status_has 3 "fenced-safe"
degraded 3 enable --confirm-split-storage >"$T/b.out" 2>&1
rc=$?
check "node 3: refused while node 1's copied heartbeat is not yet dead (exit 4: $rc)" test $rc = 4
require "node 3: degraded mode enabled once node 1's slot on disk B is dead" \
	cl_wait_for "node 3 degraded" 90 enable_ok 3

# --- 3. deliveries on both copies ----------------------------------------------------
a4=$(cdeliver 1 "$A" a4) && pass "a4 delivered on A (uid $a4)" || fail "a4 delivered on A"
require "10 UIDs handed out on A and lost" sd_ctl 1 uid alloc "$LS" "$MB" 10
a5=$(cdeliver 1 "$A" a5) && pass "a5 delivered on A (uid $a5)" || fail "a5 delivered on A"
# Site B's operator leaves and re-enters degraded mode twice: each time
# the mailbox is taken over again with a higher epoch, so copy B's
# uidlist ends with a higher epoch than copy A's (the merged list takes
# its E from sdlm's record on disk A, never from copy B's uidlist, and
# the holder after the rejoin is accepted by it).
for s in b4 b5 b6 b7; do
	u=$(cdeliver 3 "$B" "$s") && pass "$s delivered on B (uid $u)" || fail "$s delivered on B"
	case $s in b4 | b5)
		check "node 3: leave and enter degraded mode again" \
			sh -c "ip netns exec ${CL_PREFIX}n3 '$SDLMCTL' degraded disable >/dev/null && ip netns exec ${CL_PREFIX}n3 '$SDLMCTL' degraded enable --confirm-split-storage >/dev/null"
	esac
done
check "copy B's uidlist has the higher epoch" python3 - "$A/Maildir/dovecot-uidlist" "$B/Maildir/dovecot-uidlist" <<'PY'
import re, sys
e = [int(re.search(r' E(\d+)', open(f).readline()).group(1)) for f in sys.argv[1:]]
print("epochs A %d B %d" % tuple(e))
sys.exit(0 if e[1] > e[0] + 1 else 1)
PY
dc_own "$B"
msg dove-b | dc_adm "$B" save -m INBOX
db=$(uid_of_subject "$B" dove-b)
check "Dovecot's own writer on copy B goes on (doveadm save: uid $db)" test "${db:-0}" -gt 3
check "both sides gave the first UID after the split to different messages" \
	test "$a4" = "$(uid_of_subject "$B" b4)"
PB_A=$(show 1 prov_base) PB_B=$(show 3 prov_base)
check "A: uid show --json: provisional above $PB_A" \
	test "$(show 1 provisional)" = true -a "${PB_A:-0}" -ge 3 -a "${PB_A:-0}" -lt "$a4"
check "B: uid show --json: provisional, the same base" \
	test "$(show 3 provisional)" = true -a "$PB_B" = "$PB_A"
check "degraded status lists the mailbox" \
	sh -c "ip netns exec ${CL_PREFIX}n1 '$SDLMCTL' --json degraded status | grep -q '\"prov_base\":$PB_A'"

# A heartbeat appears on a degraded node's disk: node 2 comes back on disk A.
require "node 2: sdlmd again on disk A" sd_restart 2
require "node 1: degraded mode suspended by node 2's heartbeat" \
	cl_wait_for "node 1 suspended" 30 sh -c "[ \"\$(ip netns exec ${CL_PREFIX}n1 '$SDLMCTL' --json degraded status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"degraded\"])')\" = suspended ]"
check "suspended: a delivery on A fails, the uidlist is unchanged" \
	sh -c "cp '$A/Maildir/dovecot-uidlist' '$T/ul'; printf 'Subject: x\n\nx\n' | ip netns exec ${CL_PREFIX}n1 '$SDLM_DELIVER' -l $LS -m $MB '$A/Maildir' >/dev/null 2>&1 && exit 1; cmp -s '$T/ul' '$A/Maildir/dovecot-uidlist'"
degraded 1 enable --confirm-split-storage >/dev/null 2>&1
check "enable again while node 2 runs: refused (exit 4)" test $? = 4
require "node 2 stops again" cl_kill 2 sdlmd TERM
require "node 1: resumed by the operator" cl_wait_for "node 1 resumed" 30 enable_ok 1
check "node 1: status on again" test "$(deg_state 1)" = on

# --- 4. rejoin and repair ----------------------------------------------------------------
out=$(ip netns exec "${CL_PREFIX}n1" "$SDLM_MAILDIR_REPAIR" --lockspace "$LS" --mailbox "$MB" \
	"$A/Maildir" "$B/Maildir" 2>&1)
rc=$?
echo "$out"
check "repair refused while node 1 is degraded (exit 3), A untouched" \
	sh -c "[ $rc = 3 ] && [ ! -e '$A/Maildir/sdlm-repair.log' ]"
check "node 3 leaves degraded mode" degraded 3 disable
check "node 1 leaves degraded mode" degraded 1 disable
check "left: status off on both" test "$(deg_state 1)$(deg_state 3)" = offoff
check "the provisional mark outlives the mode (A and B)" \
	test "$(show 1 provisional)$(show 3 provisional)" = truetrue
# B's floor: everything site B's sdlm may have handed out.
FB=$(sd_ctl 3 --json uid show "$LS" "$MB" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(max(j["watermark"] + 1, j["next"]))')
FA=$(sd_ctl 1 --json uid show "$LS" "$MB" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(max(j["watermark"] + 1, j["next"]))')
NA=$(dc_status "$A" uidnext) NB=$(dc_status "$B" uidnext)
echo "floors: A $FA, B $FB; UIDNEXT: A $NA, B $NB"
# Site B gives up its copy and rejoins site A's disk.
require "node 3 leaves disk B" cl_kill 3 sdlmd TERM
require "the network heals" cl_heal_all
require "node 1 quorate again" cl_wait_quorate 1 90
SD_DISK=$DISK_A require "node 3: sdlmd on disk A again" sd_restart 3
require "node 3 fenced-safe on disk A" cl_wait_for "node 3 safe" 90 sd_status_has 3 "fenced-safe"
require "node 1 fenced-safe" cl_wait_for "node 1 safe" 90 sd_status_has 1 "fenced-safe"
cp "$A/Maildir/dovecot-uidlist" "$T/A-pre"
cp "$B/Maildir/dovecot-uidlist" "$T/B-pre"
low=$FA
for x in "$FB" "$NA" "$NB"; do [ "$x" -gt "$low" ] && low=$x; done
out=$(ip netns exec "${CL_PREFIX}n1" "$SDLM_MAILDIR_REPAIR" --json --lockspace "$LS" --mailbox "$MB" \
	--floor "$FB" "$A/Maildir" "$B/Maildir" 2>"$T/repair.err")
rc=$?
echo "$out"; cat "$T/repair.err"
check "repair: exit 0, merged, provisional mailbox settled" \
	sh -c "[ $rc = 0 ] && echo '$out' | grep -q '\"result\":\"merged\"' && echo '$out' | grep -q '\"settled\":true' && echo '$out' | grep -q '\"below_prov_base\":0'"
dc_own "$A"
dc_uids "$A" >"$T/after"
after=$(cat "$T/after")
echo "$after"
check "every message of both copies present once (10)" \
	test "$(echo "$after" | wc -l)" = 10 -a "$(echo "$after" | cut -f2 | sort -u | wc -l)" = 10
check "every subject once" \
	test "$(dc_adm "$A" -f tab fetch 'hdr.subject' mailbox INBOX all | tail -n +2 | sort -u | wc -l)" = 10
check "UIDs strictly ascending" ascending <<<"$after"
check "fetch equals the repaired uidlist" diff <(dc_listed "$A") <(echo "$after")
check "UIDVALIDITY unchanged" test "$(dc_status "$A" uidvalidity)" = "$UV"
for s in m1:1 m2:2 m3:3; do
	check "${s%%:*} kept UID ${s#*:}" test "$(uid_of_subject "$A" "${s%%:*}")" = "${s#*:}"
done
# dsync's rule, message by message, from the two copies as they were:
# both of a duplicate pair and every message below the other side's
# UIDNEXT move above both sides' UIDNEXT and watermarks; the rest keep
# their UIDs; the repair's count is the number that moved.
check "dsync's rule: duplicates and below-UIDNEXT moved above $low, the rest kept" \
	python3 - "$T/A-pre" "$T/B-pre" "$T/after" "$low" "$(echo "$out" | jget renumbered)" <<'PY'
import sys
def load(f):
    lines = open(f).read().splitlines()
    n = int([x[1:] for x in lines[0].split() if x.startswith("N")][0])
    recs = {}
    for l in lines[1:]:
        uid, rest = l.split(" ", 1)
        recs[rest.split(":", 1)[1]] = int(uid)
    return recs, max([n] + [u + 1 for u in recs.values()])
(a, na), (b, nb) = load(sys.argv[1]), load(sys.argv[2])
after = {g: int(u) for u, g in (l.split("\t") for l in open(sys.argv[3]).read().split("\n") if l)}
low, count = int(sys.argv[4]), int(sys.argv[5])
ua, ub = {u: g for g, u in a.items()}, {u: g for g, u in b.items()}
moved = {}
for g in set(a) | set(b):
    if g in a and g in b:
        why = "kept" if a[g] == b[g] else "uid-differs"
    elif g in a:
        why = "duplicate" if a[g] in ub else "below-uidnext" if a[g] < nb else "kept"
    else:
        why = "duplicate" if b[g] in ua else "below-uidnext" if b[g] < na else "kept"
    old = a.get(g, b.get(g))
    ok = after.get(g) == old if why == "kept" else after.get(g, 0) >= low
    print("%-10s %-45s %6d -> %6s %s" % ("ok" if ok else "WRONG", g, old, after.get(g), why))
    moved[g] = (why, ok)
kinds = {w for w, _ in moved.values()}
sys.exit(0 if all(ok for _, ok in moved.values()) and "duplicate" in kinds and
         "below-uidnext" in kinds and count == sum(w != "kept" for w, _ in moved.values()) else 1)
PY
check "A: the mark is settled" test "$(show 1 provisional)" = false
EM=$(head -1 "$A/Maildir/dovecot-uidlist" | sed -nE 's/.* E([0-9]+).*/\1/p')
EB=$(head -1 "$T/B-pre" | sed -nE 's/.* E([0-9]+).*/\1/p')
EA=$(head -1 "$T/A-pre" | sed -nE 's/.* E([0-9]+).*/\1/p')
# (the settle takes the mailbox over on node 1, so sdlm's epoch is one more
# by now than the one the repair read)
check "the merged list's E ($EM) is sdlm's epoch on disk A (A's list $EA, sdlm now $(show 1 epoch)), not copy B's ($EB)" \
	test "${EM:-0}" -ge "${EA:-0}" -a "${EM:-0}" -le "$(show 1 epoch)" -a "${EM:-0}" != "$EB"
N=$(dc_status "$A" uidnext)
check "sdlm's next UID is at or above the merged UIDNEXT $N" test "$(show 1 watermark)" -ge $((N - 1))
check "IMAP sees the same" test "$(dc_imap "$A" | cut -d' ' -f1,2)" = "$UV $N"
out2=$(ip netns exec "${CL_PREFIX}n1" "$SDLM_MAILDIR_REPAIR" --json --lockspace "$LS" --mailbox "$MB" \
	--floor "$FB" "$A/Maildir" "$B/Maildir" 2>&1)
check "second run: already merged" sh -c "echo '$out2' | grep -q already-merged"
u=$(cdeliver 3 "$A" after) && pass "a delivery after the rejoin (node 3, uid $u)" || fail "a delivery after the rejoin"
check "it lands at or above the merged UIDNEXT" test "${u:-0}" -ge "$N"
check "the holder's epoch after the rejoin ($(show 3 epoch)) is at or above the merged list's ($EM)" \
	test "$(show 3 epoch)" -ge "${EM:-0}"
check "its record is not provisional" test "$(show 3 provisional)" = false
dc_own "$A"
after=$(dc_uids "$A")
check "Dovecot: 11 messages, fetch equals the uidlist, ascending" \
	sh -c "[ $(echo "$after" | wc -l) = 11 ]" && check "  (fetch = uidlist)" diff <(dc_listed "$A") <(echo "$after") &&
	check "  (ascending)" ascending <<<"$after"
check "Dovecot logged nothing broken (A)" dc_clean "$A"
check "Dovecot logged nothing broken (B)" dc_clean "$B"
finish
