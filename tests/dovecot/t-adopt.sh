#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Existing mail stores adopted as they are (issue 14 item 7), and a
# mailbox whose UID record lost both copies restored from its store
# (issue 13 hole 11), with real sdlmd and real Dovecot 2.3:
#   1. a mailbox created and filled by Dovecot (doveadm save), its UIDs
#      cached by an IMAP client; then sdlm-deliver, the first time sdlm
#      sees the mailbox: the delivery succeeds with the uidlist's next
#      UID, sdlm's record carries Dovecot's UIDVALIDITY, and the client's
#      cached UIDVALIDITY and UIDs still hold (before: sdlm created the
#      record with the current time as UIDVALIDITY, and the delivery
#      failed with 75 "UIDVALIDITY ... not sdlm's" or, with
#      --adopt-uidvalidity, made every client resync);
#   2. `sdlmctl uid import --store`: every folder of a second Dovecot store
#      adopted at once (one JSON document); a rerun, or a list on stdin,
#      changes nothing; an
#      import below what sdlm handed out never lowers the record, and one
#      of another UIDVALIDITY is refused;
#   3. both copies of mailbox 1's record damaged on the shared disk:
#      deliveries are refused (no UID reused); `sdlmctl uid import
#      --restore --maildir` rewrites it from the uidlist: the next delivery
#      takes a UID above the store's highest by the margin docs/uid.md
#      gives, UIDVALIDITY unchanged, the IMAP client's cache still valid;
#      a folder whose uidlist is lost too is restored with a new
#      UIDVALIDITY.
# Needs root, corosync, dovecot-core; exit 77 (skip) when missing.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SDLM_SRCDIR:=$(cd "$here/../.." && pwd)}"
: "${SDLM_BUILDDIR:=$SDLM_SRCDIR/_build}"
: "${SDLM_DELIVER:=$SDLM_BUILDDIR/agents/dovecot/sdlm-deliver}"
: "${SDLM_MAILDIR_REPAIR:=$SDLM_BUILDDIR/agents/dovecot/sdlm-maildir-repair}"
export SDLM_DELIVER SDLM_MAILDIR_REPAIR
. "$here/lib.sh"

for t in doveadm corosync "$SDLM_DELIVER"; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -n "${SDLMD:-}" ] && [ -n "${SDLMCTL:-}" ] && [ -n "${SDLM_WATCHDOG:-}" ] ||
	{ echo "SKIP: SDLMD, SDLMCTL, SDLM_WATCHDOG unset (run through make check)"; exit 77; }
. "$SDLM_SRCDIR/tests/cluster/lib.sh"
. "$SDLM_SRCDIR/tests/cluster/sdlm.sh"

. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"

T=$(mktemp -d /var/tmp/sdlm-adopt.XXXXXX)
chmod 755 "$T"
trap 'sd_teardown; rm -rf "$T"' EXIT
MARGIN=33554432		# UID_RESTORE_MARGIN (docs/uid.md, "Damaged records")

msg() { printf 'From: t@example.org\nSubject: %s\nMessage-ID: <%s@t>\n\nbody of %s\n' "$1" "$1" "$1"; }
# deliver MAILDIR SUBJECT [opts]: sdlm-deliver in node 1, the mailbox
# named by its uidlist's GUID (sdlm-deliver's default)
deliver() {
	local m=$1 s=$2
	shift 2
	msg "$s" | timeout 60 ip netns exec "${CL_PREFIX}n1" "$SDLM_DELIVER" -l t "$@" \
		"$m" >"$T/out" 2>"$T/err"
}
show() {	# MAILBOX FIELD
	sd_ctl 1 --json uid show t "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"
}
guid_of() { dc_adm "$1" -f tab mailbox status guid "${2:-INBOX}" | tail -n +2 | cut -f2; }
# damage MAILBOX_NAME: flip a byte in both copies of its UID record (the
# record carries the name; the GUID names a mailbox sdlm-deliver used)
damage() {
	python3 - "$SD_DISK" "$1" "$SS" <<'PY'
import os, sys
path, name, ss = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
fd = os.open(path, os.O_RDWR)
size = os.fstat(fd).st_size
hits = [off for off in range(0, size, ss) if name in os.pread(fd, ss, off)]
assert len(hits) == 2, "expected the record's two copies, found %d" % len(hits)
for off in hits:
    b = bytearray(os.pread(fd, ss, off))
    b[100] ^= 0x10
    os.pwrite(fd, bytes(b), off)
os.fsync(fd)
print(len(hits))
PY
}
# restart node 1's sdlmd: it forgets what it held (the disk is read again)
restart() {
	cl_kill 1 sdlmd TERM
	sd_restart 1 &&
		cl_wait_for "node 1 safe" 60 sd_status_has 1 "fenced-safe"
}

sd_up 1
SS=$("$SDLMCTL" --json fence dump -d "$SD_DISK" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sector_size"])')

# --- 1. a Dovecot mailbox, first contact through sdlm-deliver -----------------
H="$T/h"
dc_home "$H"
for i in 1 2 3 4 5; do msg "dove-$i" | dc_adm "$H" save -m INBOX; done
dc_own "$H"
before=$(dc_imap "$H")
echo "IMAP client's cache: $before"
V1=${before%% *}
MB1=$(guid_of "$H")
check "Dovecot filled the mailbox: UIDs 1..5, UIDNEXT 6" \
	test "$(echo "$before" | cut -d' ' -f2-)" = "6 1,2,3,4,5"
cp "$H/Maildir/dovecot-uidlist" "$T/uidlist-before"
deliver "$H/Maildir" first-sdlm
rc=$?
cat "$T/out" "$T/err"
check "the first delivery by sdlm-deliver succeeds ($rc; before: 75, UIDVALIDITY not sdlm's)" test $rc = 0
check "... with the store's next UID, 6" grep -q '^uid=6 ' "$T/out"
check "sdlm adopted Dovecot's UIDVALIDITY ($V1)" test "$(show "$MB1" uidvalidity)" = "$V1"
dc_own "$H"
after=$(dc_imap "$H")
echo "IMAP after: $after"
check "the IMAP client's cache holds: same UIDVALIDITY, its UIDs, one new" \
	test "$after" = "$V1 7 1,2,3,4,5,6"
check "every UID names the message it named before" \
	sh -c "tail -n +2 '$T/uidlist-before' | while read -r l; do grep -qxF \"\$l\" '$H/Maildir/dovecot-uidlist' || exit 1; done"
deliver "$H/Maildir" second-sdlm
check "the next delivery takes 7" grep -q '^uid=7 ' "$T/out"

# --- 2. a whole store at once ---------------------------------------------------
S="$T/s"
dc_home "$S"
for f in Sent Archive; do dc_adm "$S" mailbox create "$f"; done
for i in 1 2 3; do msg "s-in-$i" | dc_adm "$S" save -m INBOX; done
for i in 1 2; do msg "s-sent-$i" | dc_adm "$S" save -m Sent; done
for i in 1 2 3 4; do msg "s-arch-$i" | dc_adm "$S" save -m Archive; done
dc_own "$S"
SI=$(guid_of "$S"); SA=$(guid_of "$S" Archive)
VA=$(dc_adm "$S" -f tab mailbox status uidvalidity Archive | tail -n +2 | cut -f2)
sd_ctl 1 --json uid import t --store "$S/Maildir" >"$T/imp.json" 2>"$T/imp.err"
rc=$?
cat "$T/imp.json" "$T/imp.err"
check "uid import --store: exit $rc, three folders created" python3 -c "
import json; d = json.load(open('$T/imp.json'))
assert $rc == 0 and d['created'] == 3 and d['failed'] == 0, d
assert sorted(m['result'] for m in d['mailboxes']) == ['created'] * 3, d"
check "Archive's record: Dovecot's UIDVALIDITY" test "$(show "$SA" uidvalidity)" = "$VA"
first=$(sd_ctl 1 --json uid alloc t "$SA" | python3 -c 'import json,sys; print(json.load(sys.stdin)["first"])')
check "Archive's record: the first UID sdlm hands out is its next, 5 ($first)" test "$first" = 5
sd_ctl 1 --json uid import t --store "$S/Maildir" >"$T/imp2.json" 2>/dev/null
check "a rerun changes nothing" python3 -c "
import json; d = json.load(open('$T/imp2.json'))
assert d['created'] == 0 and d['raised'] == 0 and d['unchanged'] == 3, d"
printf '%s\n# a comment\n%s\t%s\n' "$S/Maildir/.Sent" "$S/Maildir/.Archive" "$SA" |
	sd_ctl 1 --json uid import t --stdin >"$T/imp3.json" 2>/dev/null
rc=$?
cat "$T/imp3.json"
check "uid import --stdin: a list of Maildirs (one named), exit $rc, nothing to change" python3 -c "
import json; d = json.load(open('$T/imp3.json'))
assert $rc == 0 and d['unchanged'] == 2 and len(d['mailboxes']) == 2, d
assert d['mailboxes'][1]['mailbox'] == '$SA', d"
n=$(show "$SA" next)
sd_ctl 1 uid import t "$SA" --uidvalidity "$VA" --next 2 >"$T/low.out" 2>&1
rc=$?
cat "$T/low.out"
check "an import below sdlm's next ($n): exit $rc, unchanged" \
	sh -c "[ $rc = 0 ] && grep -q 'unchanged' '$T/low.out'"
check "... sdlm's next is still $n" test "$(show "$SA" next)" = "$n"
sd_ctl 1 uid import t "$SI" --uidvalidity $((VA + 1000)) --next 9 >"$T/other.out" 2>&1
rc=$?
cat "$T/other.out"
check "an import of another UIDVALIDITY is refused (exit $rc: 73), naming both" \
	sh -c "[ $rc = 73 ] && grep -q 'UIDVALIDITY 1[0-9]*, the store' '$T/other.out'"

# --- 3. both copies damaged: restored from the store --------------------------
require "both copies of mailbox 1's record damaged" damage "$MB1"
require "sdlmd on node 1 restarted (forgets what it held)" restart
cp "$H/Maildir/dovecot-uidlist" "$T/uidlist-dmg"
deliver "$H/Maildir" refused
rc=$?
cat "$T/err"
check "a delivery to the damaged mailbox is refused, temporarily ($rc)" test $rc = 75
check "... nothing written" cmp -s "$T/uidlist-dmg" "$H/Maildir/dovecot-uidlist"
sd_ctl 1 uid import t "$MB1" --restore --maildir "$H/Maildir" >"$T/res.out" 2>&1
rc=$?
cat "$T/res.out"
check "uid import --restore --maildir: exit $rc" test $rc = 0
check "the record carries the store's UIDVALIDITY again" test "$(show "$MB1" uidvalidity)" = "$V1"
deliver "$H/Maildir" after-restore
rc=$?
cat "$T/out" "$T/err"
check "the next delivery succeeds ($rc) above the store's highest UID 7 by the margin" \
	grep -q "^uid=$((8 + MARGIN)) " "$T/out"
dc_own "$H"
after=$(dc_imap "$H")
check "the IMAP client's cache still holds" \
	sh -c "case '$after' in '$V1 '*' 1,2,3,4,5,6,7,$((8 + MARGIN))') exit 0;; esac; exit 1"
check "Dovecot logged nothing broken" dc_clean "$H"

# Sent: damaged, and its store lost its uidlist: UIDVALIDITY unknown.
SS_GUID=$(guid_of "$S" Sent)
VS=$(show "$SS_GUID" uidvalidity)
require "both copies of Sent's record damaged" damage "$SS_GUID"
require "sdlmd on node 1 restarted" restart
rm -f "$S/Maildir/.Sent/dovecot-uidlist"
sd_ctl 1 --json uid import t "$SS_GUID" --restore --maildir "$S/Maildir/.Sent" >"$T/bump.json" 2>"$T/bump.err"
rc=$?
cat "$T/bump.json" "$T/bump.err"
check "restore with UIDVALIDITY unknown: exit $rc, bumped above $VS" python3 -c "
import json; d = json.load(open('$T/bump.json'))
assert $rc == 0 and d['result'] == 'restored' and d['bumped'] and d['uidvalidity'] > $VS, d"
deliver "$S/Maildir/.Sent" sent-after -m "$SS_GUID"
cat "$T/out" "$T/err"
check "a delivery to it succeeds with the new UIDVALIDITY" \
	grep -q "uidvalidity=$(show "$SS_GUID" uidvalidity) " "$T/out"
sd_ctl 1 uid import t "$SA" --restore --uidvalidity "$VA" --next 5 >"$T/intact.out" 2>&1
rc=$?
check "a restore of a record that is not damaged is refused ($rc)" test $rc != 0

t_tally
[ "$fails" = 0 ]
