#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# sdlm-deliver and sdlm-maildir-repair against real Dovecot 2.3 (doveadm,
# /usr/lib/dovecot/imap), no Dovecot daemon:
#   a. uidlists written by sdlm-deliver are read by Dovecot as written:
#      doveadm fetch 'uid guid' equals the file, IMAP SELECT shows sdlm's
#      UIDVALIDITY, Dovecot's own writer (doveadm save) keeps our E<epoch>
#      header field, no "Broken"/"UIDs not ordered"/... anywhere;
#   b. a split: two copies of one mailbox with duplicate UIDs and messages
#      added below the other side's UIDNEXT; after the repair every message
#      is there once, both messages of each duplicate moved, the below-
#      UIDNEXT ones moved, UIDVALIDITY unchanged, Dovecot clean; the repair
#      is idempotent, and a crash before the uidlist rename is completed
#      by a rerun into the very same uidlist;
#   c. an allocation with an older epoch than the uidlist's is refused
#      (exit 75, the MTA retries) and the uidlist stays byte-identical;
#   d. coexistence: sdlm-deliver processes and doveadm save writing into
#      one mailbox at once: every message present, UIDs unique and
#      ascending, Dovecot clean; and, when the cluster harness is
#      available (SDLMD etc.), the same on a 3-node cluster with UIDs from
#      sdlm (several sdlm-deliver per node, shared and own mailboxes).
# Parts a-c and the first half of d use the --uid-source=file: TEST SEAM
# (UIDs from a flock'ed file), not sdlmd; part b exercises the merge's
# corner cases (a crash in the middle, reruns).  The split with real sdlmd
# daemons in degraded mode on two copies of the disk is t-degraded.sh.  Needs root and dovecot-core,
# dovecot-imapd, python3; exit 77 (skip) when missing.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SDLM_SRCDIR:=$(cd "$here/../.." && pwd)}"
: "${SDLM_BUILDDIR:=$SDLM_SRCDIR/_build}"
: "${SDLM_DELIVER:=$SDLM_BUILDDIR/agents/dovecot/sdlm-deliver}"
: "${SDLM_MAILDIR_REPAIR:=$SDLM_BUILDDIR/agents/dovecot/sdlm-maildir-repair}"
export SDLM_DELIVER SDLM_MAILDIR_REPAIR
. "$here/lib.sh"

for t in doveadm python3 /usr/lib/dovecot/imap "$SDLM_DELIVER" "$SDLM_MAILDIR_REPAIR"; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing (dovecot-core, dovecot-imapd)"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (mail_uid=nobody)"; exit 77; }

. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"

# Dovecot runs as nobody: its directory must be reachable through every
# parent, which one under a checkout in a 0700 directory (mktemp -d) is not.
# /var/tmp is; nothing here needs O_DIRECT (the sdlm disk lives in $CL_DIR).
T=$(mktemp -d /var/tmp/sdlm-dovecot.XXXXXX)
chmod 755 "$T"
trap 'rm -rf "$T"' EXIT
MB=0123456789abcdef0123456789abcdef

msg() { printf 'From: t@example.org\nSubject: %s\nMessage-ID: <%s@t>\n\nbody of %s\n' "$1" "$1" "$1"; }
# deliver HOME SOURCE SUBJECT: prints the UID; the exit code is sdlm-deliver's
deliver() {
	local out rc
	out=$(msg "$3" | "$SDLM_DELIVER" --uid-source="file:$2" -m "$MB" "$1/Maildir")
	rc=$?
	[ $rc = 0 ] && echo "$out" | sed -E 's/^uid=([0-9]+) .*/\1/'
	return $rc
}
uid_of_subject() {	# HOME SUBJECT: the UID Dovecot shows for it
	dc_adm "$1" -f tab fetch 'uid hdr.subject' mailbox INBOX all |
		awk -F'\t' -v s="$2" '$2 == s || $2 == " " s { print $1 }'
}
ascending() { python3 -c 'import sys; u=[int(x.split()[0]) for x in sys.stdin if x.strip()]; sys.exit(0 if u == sorted(set(u)) else 1)'; }

# --- a. what we write, Dovecot reads ----------------------------------------
A="$T/a"
dc_home "$A"
echo "V1700000001 N1 E5" >"$T/src-a"
for s in a1 a2 a3; do deliver "$A" "$T/src-a" "$s" >/dev/null || fail "deliver $s"; done
check "uidlist header written by sdlm-deliver" \
	grep -q "^3 V1700000001 N4 G$MB E5\$" "$A/Maildir/dovecot-uidlist"
check "doveadm fetch 'uid guid' equals the uidlist" \
	diff <(dc_listed "$A") <(dc_uids "$A")
check "mailbox status: UIDVALIDITY and GUID are sdlm's, UIDNEXT 4, 3 messages" \
	test "$(dc_status "$A" uidvalidity) $(dc_status "$A" guid) $(dc_status "$A" uidnext) $(dc_status "$A" messages)" = "1700000001 $MB 4 3"
check "IMAP SELECT/UID FETCH through /usr/lib/dovecot/imap" \
	test "$(dc_imap "$A")" = "1700000001 4 1,2,3"
msg dove4 | dc_adm "$A" save -m INBOX
check "doveadm save after us takes UID 4" test "$(uid_of_subject "$A" dove4)" = 4
check "Dovecot kept E5 in the header" grep -q ' E5' "$A/Maildir/dovecot-uidlist"
check "sdlm-deliver after Dovecot: max(sdlm next, uidlist next) = 5" \
	test "$(deliver "$A" "$T/src-a" a5)" = 5
check "the file source (sdlm's stand-in) was raised to 6" grep -q 'N6' "$T/src-a"
dc_adm "$A" expunge mailbox INBOX uid 2
msg dove6 | dc_adm "$A" save -m INBOX
check "Dovecot rewrote the list and still keeps E5" grep -q '^3 .* E5' "$A/Maildir/dovecot-uidlist"
check "fetch equals the uidlist (files present)" \
	diff <(dc_listed "$A" | grep -v "$(sed -n 3p "$A/Maildir/dovecot-uidlist" | cut -d: -f2)") <(dc_uids "$A")
check "a: Dovecot logged nothing broken" dc_clean "$A"

# --- b. split and repair ------------------------------------------------------
S="$T/split"
dc_home "$S/base"
echo "V1700000002 N1 E7" >"$T/src-base"
for s in m1 m2 m3; do deliver "$S/base" "$T/src-base" "$s" >/dev/null; done
# The split: two copies, each with its own allocator state.
for side in A B; do
	mkdir -p "$S/$side"
	cp -a "$S/base/Maildir" "$S/$side/"
	dc_home "$S/$side"
	cp "$T/src-base" "$T/src-$side"
done
deliver "$S/A" "$T/src-A" a4 >/dev/null
deliver "$S/A" "$T/src-A" a5 >/dev/null
echo "V1700000002 N9 E8" >"$T/src-A"	# A handed out 6..8, since lost
deliver "$S/A" "$T/src-A" a9 >/dev/null
for s in b4 b5 b6 b7; do deliver "$S/B" "$T/src-B" "$s" >/dev/null; done
check "split made: A lists 1-5,9 and B 1-7" \
	test "$(cut -d' ' -f1 "$S/A/Maildir/dovecot-uidlist" | tail -n +2 | tr '\n' ,)$(cut -d' ' -f1 "$S/B/Maildir/dovecot-uidlist" | tail -n +2 | tr '\n' ,)" = "1,2,3,4,5,9,1,2,3,4,5,6,7,"
before=$(dc_uids "$S/A")	# Dovecot has read A: its index exists now
cp "$S/A/Maildir/dovecot-uidlist" "$T/A-pre"
out=$("$SDLM_MAILDIR_REPAIR" --json "$S/A/Maildir" "$S/B/Maildir")
rc=$?
echo "$out"
check "repair exit 0, 6 renumbered" sh -c "[ $rc = 0 ] && echo '$out' | grep -q '\"renumbered\":6'"
dc_own "$S/A"
after=$(dc_uids "$S/A")
echo "$after"
check "every message of both copies present once (10)" \
	test "$(echo "$after" | wc -l)" = 10 -a "$(echo "$after" | cut -f2 | sort -u | wc -l)" = 10
check "UIDs strictly ascending" ascending <<<"$after"
check "fetch equals the repaired uidlist" diff <(dc_listed "$S/A") <(echo "$after")
check "UIDVALIDITY unchanged" test "$(dc_status "$S/A" uidvalidity)" = 1700000002
for s in m1:1 m2:2 m3:3 a9:9; do
	check "${s%%:*} kept UID ${s#*:}" test "$(uid_of_subject "$S/A" "${s%%:*}")" = "${s#*:}"
done
for s in a4 b4 a5 b5; do
	u=$(uid_of_subject "$S/A" "$s")
	check "duplicate $s moved above both UIDNEXTs (now $u)" test "${u:-0}" -ge 10
done
for s in b6 b7; do
	u=$(uid_of_subject "$S/A" "$s")
	check "$s (below A's UIDNEXT 10) moved (now $u)" test "${u:-0}" -ge 10
done
check "UIDNEXT above every UID (16)" test "$(dc_status "$S/A" uidnext)" = 16
check "IMAP sees the same" test "$(dc_imap "$S/A" | cut -d' ' -f1,2)" = "1700000002 16"
check "--status: repaired, 6 renumberings" \
	sh -c "'$SDLM_MAILDIR_REPAIR' --status --json '$S/A/Maildir' | grep -q '\"state\":\"repaired\",\"runs\":1,\"renumbered\":6'"
check "--show --json lists old -> new per GUID" \
	sh -c "'$SDLM_MAILDIR_REPAIR' --show --json '$S/A/Maildir' | python3 -c 'import json,sys; l=json.load(sys.stdin); assert len(l)==6 and all(e[\"new_uid\"]>=10 for e in l), l'"
cp "$S/A/Maildir/dovecot-uidlist" "$T/repaired"
out=$("$SDLM_MAILDIR_REPAIR" "$S/A/Maildir" "$S/B/Maildir")
check "second run: nothing to do ($out)" cmp -s "$T/repaired" "$S/A/Maildir/dovecot-uidlist"
# A crash after the log and the file copies, before the uidlist rename:
# put back A's old uidlist and drop the done line; the rerun must reach
# the same uidlist.
cp "$S/A/Maildir/sdlm-repair.log" "$T/log.full"
grep -v '"event":"done"' "$T/log.full" >"$S/A/Maildir/sdlm-repair.log"
cp "$T/A-pre" "$S/A/Maildir/dovecot-uidlist"
"$SDLM_MAILDIR_REPAIR" --status "$S/A/Maildir"
check "--status reports the interrupted run" \
	sh -c "'$SDLM_MAILDIR_REPAIR' --status --json '$S/A/Maildir' | grep -q '\"state\":\"incomplete\"'"
"$SDLM_MAILDIR_REPAIR" "$S/A/Maildir" "$S/B/Maildir" >/dev/null
check "rerun after the crash: the same uidlist" cmp -s "$T/repaired" "$S/A/Maildir/dovecot-uidlist"
check "b: Dovecot logged nothing broken" dc_clean "$S/A"

# --- c. stale epoch refused ------------------------------------------------------
cp "$A/Maildir/dovecot-uidlist" "$T/before-stale"
nfiles=$(ls "$A/Maildir/new" "$A/Maildir/cur" "$A/Maildir/tmp" | wc -l)
sed -E 's/E[0-9]+/E4/' "$T/src-a" >"$T/src-stale"	# epoch 4 < the list's 5
msg stale | "$SDLM_DELIVER" --uid-source="file:$T/src-stale" -m "$MB" "$A/Maildir" 2>"$T/stale.err"
rc=$?
cat "$T/stale.err"
check "older epoch: exit 75, the MTA retries" test $rc = 75
check "older epoch: clear error after a 4.x.x status" grep -q '^4\.[0-9]\.[0-9] .*stale epoch' "$T/stale.err"
check "older epoch: uidlist byte-identical" cmp -s "$T/before-stale" "$A/Maildir/dovecot-uidlist"
check "older epoch: no message file left" \
	test "$(ls "$A/Maildir/new" "$A/Maildir/cur" "$A/Maildir/tmp" | wc -l)" = "$nfiles"
sed -E 's/E[0-9]+/E6/' "$T/src-a" >"$T/src-newer"
deliver "$A" "$T/src-newer" newer >/dev/null
check "newer epoch delivers and raises E to 6" grep -q '^3 .* E6' "$A/Maildir/dovecot-uidlist"
cp "$A/Maildir/dovecot-uidlist" "$T/before-v"
echo "V1700000099 N1 E9" >"$T/src-v"
msg v | "$SDLM_DELIVER" --uid-source="file:$T/src-v" -m "$MB" "$A/Maildir" 2>"$T/v.err"
rc=$?
check "other UIDVALIDITY: exit 75 ($rc), 4.x.x on stderr, uidlist byte-identical" \
	sh -c "[ $rc = 75 ] && grep -q '^4\.' '$T/v.err' && cmp -s '$T/before-v' '$A/Maildir/dovecot-uidlist'"

# --- d. coexistence with Dovecot's own writer -------------------------------------
C="$T/co"
dc_home "$C"
echo "V1700000003 N1 E1" >"$T/src-co"
deliver "$C" "$T/src-co" first >/dev/null
pids=""
for w in 1 2 3 4; do
	( for i in $(seq 10); do deliver "$C" "$T/src-co" "w$w-$i" >/dev/null || echo "deliver w$w-$i failed"; done ) & pids="$pids $!"
done
( for i in $(seq 10); do msg "dove-$i" | dc_adm "$C" save -m INBOX || echo "save $i failed"; done ) & pids="$pids $!"
for p in $pids; do wait "$p"; done
dc_own "$C"
after=$(dc_uids "$C")
check "d: 51 messages present" test "$(echo "$after" | wc -l)" = 51
check "d: UIDs unique and ascending" ascending <<<"$after"
check "d: fetch equals the uidlist" diff <(dc_listed "$C") <(echo "$after")
check "d: every subject once" \
	test "$(dc_adm "$C" -f tab fetch 'hdr.subject' mailbox INBOX all | tail -n +2 | sort -u | wc -l)" = 51
check "d: Dovecot logged nothing broken" dc_clean "$C"

# --- d (cluster). UIDs from sdlm on a real 3-node cluster ---------------------------
if [ -n "${SDLMD:-}" ] && [ -n "${SDLMCTL:-}" ] && [ -n "${SDLM_WATCHDOG:-}" ] &&
   [ -z "${SDLM_DOVECOT_NO_CLUSTER:-}" ]; then
	. "$SDLM_SRCDIR/tests/cluster/lib.sh"
	. "$SDLM_SRCDIR/tests/cluster/sdlm.sh"
	trap 'sd_teardown; rm -rf "$T"' EXIT
	sd_up 3
	K="$T/cluster"
	SH=fedcba98765432100123456789abcdef
	dc_home "$K/shared"
	for i in 1 2 3; do dc_home "$K/own$i"; done
	cdeliver() {	# NODE HOME MAILBOX SUBJECT
		msg "$4" | ip netns exec "${CL_PREFIX}n$1" "$SDLM_DELIVER" -l t -m "$3" "$2/Maildir" >/dev/null
	}
	require "first delivery creates the shared mailbox" cdeliver 1 "$K/shared" "$SH" first
	pids=""
	for i in 1 2 3; do
		for w in a b; do
			( for j in $(seq 8); do cdeliver "$i" "$K/shared" "$SH" "n$i$w-$j" || echo "n$i$w-$j failed"; done ) & pids="$pids $!"
		done
		( for j in $(seq 8); do cdeliver "$i" "$K/own$i" "own-mailbox-$i" "own$i-$j" || echo "own$i-$j failed"; done ) & pids="$pids $!"
	done
	( for j in $(seq 8); do msg "dove-$j" | dc_adm "$K/shared" save -m INBOX || echo "save $j failed"; done ) & pids="$pids $!"
	for p in $pids; do wait "$p"; done
	dc_own "$K/shared"
	after=$(dc_uids "$K/shared")
	check "cluster: shared mailbox has 1 + 48 + 8 messages" test "$(echo "$after" | wc -l)" = 57
	check "cluster: shared UIDs unique and ascending" ascending <<<"$after"
	check "cluster: shared UIDVALIDITY is sdlm's" \
		test "$(dc_status "$K/shared" uidvalidity)" = \
		"$(sd_ctl 1 --json uid show t "$SH" | python3 -c 'import json,sys; print(json.load(sys.stdin)["uidvalidity"])')"
	check "cluster: shared fetch equals the uidlist" diff <(dc_listed "$K/shared") <(echo "$after")
	check "cluster: shared Dovecot clean" dc_clean "$K/shared"
	for i in 1 2 3; do
		dc_own "$K/own$i"
		u=$(dc_uids "$K/own$i")
		check "cluster: own$i has 8 messages, ascending, clean" \
			sh -c "[ $(echo "$u" | wc -l) = 8 ] && echo '$u' | python3 -c 'import sys; u=[int(x.split()[0]) for x in sys.stdin if x.strip()]; sys.exit(0 if u == sorted(set(u)) else 1)'"
		check "cluster: own$i Dovecot clean" dc_clean "$K/own$i"
	done
	# Issue 14 item 4: the settle never takes an epoch from a uidlist
	# (the mail user writes it).  Copy B of the shared mailbox carries a
	# forged E at the top of the 64-bit range and one more message; the
	# repair with sdlm must leave sdlm's epoch where it was, write sdlm's
	# epoch (not B's) into the merged list, and deliveries go on.
	show_epoch() { sd_ctl "$1" --json uid show t "$SH" | python3 -c 'import json,sys; print(json.load(sys.stdin)["epoch"])'; }
	F="$K/forged"
	mkdir -p "$F"
	cp -a "$K/shared/Maildir" "$F/"
	sed -i -E '1s/ E[0-9]+/ E18446744073709551615/' "$F/Maildir/dovecot-uidlist"
	msg forged-extra >"$F/Maildir/new/$(date +%s).M1P1.forged-extra"
	ep0=$(show_epoch 1)
	out=$(ip netns exec "${CL_PREFIX}n1" "$SDLM_MAILDIR_REPAIR" --json -l t -m "$SH" "$K/shared/Maildir" "$F/Maildir")
	echo "$out"
	check "item 4: the repair with a forged E in copy B succeeds" \
		python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d["result"] == "merged" and d["settled"] else 1)' "$out"
	ep1=$(show_epoch 1)
	# (the settle takes the mailbox over on node 1: one more epoch, not 2^64 - 1)
	check "item 4: sdlm's epoch not taken from the uidlist ($ep0 -> $ep1)" \
		test "$ep1" -ge "$ep0" -a "$ep1" -le $((ep0 + 3))
	em=$(head -1 "$K/shared/Maildir/dovecot-uidlist" | sed -nE 's/.* E([0-9]+).*/\1/p')
	check "item 4: the merged list's E ($em) is sdlm's record epoch, not copy B's" \
		test "${em:-0}" -ge "$ep0" -a "${em:-0}" -le "$ep1"
	check "item 4: a delivery after the repair (node 2)" cdeliver 2 "$K/shared" "$SH" after-forged
	dc_own "$K/shared"
	check "item 4: Dovecot shows the extra message and the new one, clean" \
		sh -c "env USER=t HOME='$K/shared' doveadm -c '$K/shared/dovecot.conf' -f tab fetch hdr.subject mailbox INBOX all | grep -c -e forged-extra -e after-forged | grep -qx 2"
	check "item 4: shared Dovecot clean" dc_clean "$K/shared"
else
	echo "NOTE: cluster part of d not run (SDLMD/SDLMCTL/SDLM_WATCHDOG unset)"
fi

t_tally
[ "$fails" = 0 ]
