#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# sdlm-deliver as a mail operator meets it (issue 14, items 2, 3, 5),
# judged by real Dovecot 2.3 (doveadm, no daemon):
#   a. the dotlock under a clock skew: a delivery holding the lock (paused
#      with SDLM_TEST_HOOK=stop:locked, a test seam) whose lock file's mtime
#      is 200 s in the past is not broken by a second delivery (it times
#      out with 75); resumed, the first delivers;
#   b. a delivery whose dotlock was taken over while it was paused writes
#      nothing and exits 75 (the MTA retries);
#   c. Dovecot rebuilds the uidlist without sdlm's E (uidlist deleted and
#      recreated from its index); a writer whose allocation predates a
#      newer holder (the UID source moved to a newer epoch while it was
#      paused) is refused with 75 and writes nothing; a current one
#      delivers and puts E back;
#   d. exit codes: everything about the cluster, the lock or the store is
#      75 with a 4.x.x status first on stderr (sdlmd unreachable, a
#      Maildir that is not there, a UIDVALIDITY that is not sdlm's, a
#      broken uidlist, a bad command line); only an empty message is 65
#      with 5.6.0.
# UIDs from the --uid-source=file: test seam.  Needs root and dovecot-core;
# exit 77 (skip) when missing.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SDLM_SRCDIR:=$(cd "$here/../.." && pwd)}"
: "${SDLM_BUILDDIR:=$SDLM_SRCDIR/_build}"
: "${SDLM_DELIVER:=$SDLM_BUILDDIR/agents/dovecot/sdlm-deliver}"
: "${SDLM_MAILDIR_REPAIR:=$SDLM_BUILDDIR/agents/dovecot/sdlm-maildir-repair}"
export SDLM_DELIVER SDLM_MAILDIR_REPAIR
. "$here/lib.sh"

for t in doveadm python3 "$SDLM_DELIVER"; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing (dovecot-core)"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (mail_uid=nobody)"; exit 77; }

. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"

T=$(mktemp -d /var/tmp/sdlm-deliver.XXXXXX)
chmod 755 "$T"
bg=""
trap 'for p in $bg; do kill -9 $p 2>/dev/null; done; rm -rf "$T"' EXIT
MB=0123456789abcdef0123456789abcdef

msg() { printf 'From: t@example.org\nSubject: %s\nMessage-ID: <%s@t>\n\nbody of %s\n' "$1" "$1" "$1"; }
deliver() {	# HOME SOURCE SUBJECT [options...]: stdout/stderr to $T/out, $T/err
	local h=$1 src=$2 s=$3
	shift 3
	msg "$s" | "$SDLM_DELIVER" --uid-source="file:$src" -m "$MB" "$@" "$h/Maildir" >"$T/out" 2>"$T/err"
}
stopped() { [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = T ]; }
wait_stopped() { local _; for _ in $(seq 1000); do stopped "$1" && return 0; sleep 0.01; done; return 1; }
nfiles() { ls "$1/Maildir/new" "$1/Maildir/cur" | grep -vc -e ':$' -e '^$'; }

# --- a. a live lock with an old mtime is not broken ---------------------------------
H="$T/a"
dc_home "$H"
echo "V1700000020 N1 E5" >"$T/src-a"
deliver "$H" "$T/src-a" first
( msg held | SDLM_TEST_HOOK=stop:locked "$SDLM_DELIVER" --uid-source="file:$T/src-a" \
	-m "$MB" "$H/Maildir" >"$T/held.out" 2>"$T/held.err" ) &
first=$!
sleep_pid=""
# The paused delivery is the subshell's child: find it.
for _ in $(seq 500); do
	p=$(pgrep -P $first -x sdlm-deliver | head -1)
	[ -n "$p" ] && break
	sleep 0.01
done
bg="$bg $p"
check "a: the first delivery paused holding the dotlock" wait_stopped "$p"
touch -d '-200 seconds' "$H/Maildir/dovecot-uidlist.lock"
echo "V1700000020 N100 E5" >"$T/src-a2"
deliver "$H" "$T/src-a2" second --lock-timeout 2000
rc=$?
check "a: a second delivery does not break it: 75 after its timeout ($rc)" test $rc = 75
check "a: ... with a 4.x.x status naming the dotlock" grep -q '^4\.[0-9]\.[0-9] .*dovecot-uidlist.lock' "$T/err"
check "a: the lock is still the first delivery's" grep -q "^$p:" "$H/Maildir/dovecot-uidlist.lock"
kill -CONT "$p"
wait $first
check "a: resumed, the first delivers (uid 2)" grep -q '^uid=2 ' "$T/held.out"
dc_own "$H"
check "a: Dovecot: 2 messages, clean" \
	sh -c "[ \"\$(env USER=t HOME='$H' doveadm -c '$H/dovecot.conf' -f tab fetch uid mailbox INBOX all | tail -n +2 | tr '\n' ,)\" = 1,2, ]"
check "a: Dovecot logged nothing broken" dc_clean "$H"

# --- b. a delivery that lost its lock writes nothing -------------------------------
cp "$H/Maildir/dovecot-uidlist" "$T/b.pre"
n0=$(nfiles "$H")
( msg lost | SDLM_TEST_HOOK=stop:locked "$SDLM_DELIVER" --uid-source="file:$T/src-a" \
	-m "$MB" "$H/Maildir" >"$T/lost.out" 2>"$T/lost.err"; echo $? >"$T/lost.rc" ) &
sub=$!
for _ in $(seq 500); do
	p=$(pgrep -P $sub -x sdlm-deliver | head -1)
	[ -n "$p" ] && break
	sleep 0.01
done
bg="$bg $p"
check "b: paused holding the dotlock" wait_stopped "$p"
# Another writer judged it stale and took it over.
sleep 600 & holder=$!
bg="$bg $holder"
rm -f "$H/Maildir/dovecot-uidlist.lock"
echo "$holder:$(hostname)" >"$H/Maildir/dovecot-uidlist.lock"
kill -CONT "$p"
wait $sub
cat "$T/lost.err"
check "b: exit 75" test "$(cat "$T/lost.rc")" = 75
check "b: says the dotlock was taken over, 4.x.x first" grep -q '^4\.[0-9]\.[0-9] .*taken over' "$T/lost.err"
check "b: uidlist byte-identical" cmp -s "$T/b.pre" "$H/Maildir/dovecot-uidlist"
check "b: no message file added" test "$(nfiles "$H")" = "$n0"
check "b: the new holder's lock left alone" grep -q "^$holder:" "$H/Maildir/dovecot-uidlist.lock"
kill $holder; wait $holder 2>/dev/null
rm -f "$H/Maildir/dovecot-uidlist.lock"

# --- c. Dovecot rebuilt the uidlist without E: a stale writer is refused -----------
H="$T/c"
dc_home "$H"
echo "V1700000030 N1 E5" >"$T/src-c"
for s in c1 c2; do deliver "$H" "$T/src-c" "$s"; done
check "c: the uidlist carries E5" grep -q '^3 .* E5' "$H/Maildir/dovecot-uidlist"
dc_own "$H"
dc_uids "$H" >/dev/null	# Dovecot's index now knows the mailbox
rm "$H/Maildir/dovecot-uidlist"
dc_uids "$H" >/dev/null	# ... and rebuilds the uidlist from it
check "c: Dovecot rebuilt the uidlist, without E" \
	sh -c "[ -e '$H/Maildir/dovecot-uidlist' ] && ! grep -q '^3 .* E' '$H/Maildir/dovecot-uidlist'"
cp "$H/Maildir/dovecot-uidlist" "$T/c.pre"
n0=$(nfiles "$H")
# A writer allocates at epoch 5 and pauses; meanwhile a newer holder took
# the mailbox over (the UID source is at epoch 6 now).
( msg stale | SDLM_TEST_HOOK=stop:locked "$SDLM_DELIVER" --uid-source="file:$T/src-c" \
	-m "$MB" "$H/Maildir" >"$T/stale.out" 2>"$T/stale.err"; echo $? >"$T/stale.rc" ) &
sub=$!
for _ in $(seq 500); do
	p=$(pgrep -P $sub -x sdlm-deliver | head -1)
	[ -n "$p" ] && break
	sleep 0.01
done
bg="$bg $p"
check "c: the writer paused after its allocation" wait_stopped "$p"
sed 's/E5/E6/' "$T/src-c" >"$T/src-c.new" && cat "$T/src-c.new" >"$T/src-c"	# same inode: the seam holds it open
kill -CONT "$p"
wait $sub
cat "$T/stale.err"
check "c: the stale writer exits 75" test "$(cat "$T/stale.rc")" = 75
check "c: ... naming the stale epoch, 4.x.x first" grep -q '^4\.[0-9]\.[0-9] .*stale epoch' "$T/stale.err"
check "c: uidlist byte-identical" cmp -s "$T/c.pre" "$H/Maildir/dovecot-uidlist"
check "c: no message file added" test "$(nfiles "$H")" = "$n0"
deliver "$H" "$T/src-c" c3
check "c: a current writer delivers" test $? = 0
check "c: ... and puts E back (E6)" grep -q '^3 .* E6' "$H/Maildir/dovecot-uidlist"
dc_own "$H"
check "c: Dovecot: 3 messages, clean" \
	sh -c "[ \$(env USER=t HOME='$H' doveadm -c '$H/dovecot.conf' -f tab fetch uid mailbox INBOX all | tail -n +2 | wc -l) = 3 ]"
check "c: Dovecot logged nothing broken" dc_clean "$H"

# --- d. exit codes -------------------------------------------------------------------
H="$T/d"
dc_home "$H"
echo "V1700000040 N1 E1" >"$T/src-d"
deliver "$H" "$T/src-d" d1
code() {	# DESCRIPTION WANT_RC WANT_DSN_CLASS COMMAND...
	local d=$1 want=$2 cls=$3 rc
	shift 3
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	check "d: $d: exit $want ($rc), $cls.x.x first on stderr ($(head -1 "$T/err"))" \
		sh -c "[ $rc = $want ] && grep -q '^$cls\.[0-9]\.[0-9]* ' '$T/err'"
}
msgf="$T/m.eml"
msg d >"$msgf"
code "sdlmd unreachable" 75 4 "$SDLM_DELIVER" --ipc sdlm-none-here -m "$MB" "$H/Maildir" "$msgf"
code "no such Maildir" 75 4 "$SDLM_DELIVER" --uid-source="file:$T/src-d" -m "$MB" "$T/nowhere/Maildir" "$msgf"
echo "V1700000099 N1 E1" >"$T/src-v"
code "UIDVALIDITY not sdlm's" 75 4 "$SDLM_DELIVER" --uid-source="file:$T/src-v" -m "$MB" "$H/Maildir" "$msgf"
code "unknown option" 75 4 "$SDLM_DELIVER" --no-such-option "$H/Maildir" "$msgf"
H2="$T/d2"
dc_home "$H2"
code "no uidlist and no -m" 75 4 "$SDLM_DELIVER" --uid-source="file:$T/src-d" "$H2/Maildir" "$msgf"
cp "$H/Maildir/dovecot-uidlist" "$T/d.good"
printf '3 V1700000040 N9 G%s E1\n5 :b\n3 :a\n' "$MB" >"$H/Maildir/dovecot-uidlist"
code "broken uidlist" 75 4 "$SDLM_DELIVER" --uid-source="file:$T/src-d" -m "$MB" "$H/Maildir" "$msgf"
cp "$T/d.good" "$H/Maildir/dovecot-uidlist"
: >"$T/empty.eml"
code "empty message (permanent)" 65 5 "$SDLM_DELIVER" --uid-source="file:$T/src-d" -m "$MB" "$H/Maildir" "$T/empty.eml"
check "d: nothing left in tmp/" test -z "$(ls "$H/Maildir/tmp")"
check "d: the good uidlist untouched by the failures" cmp -s "$T/d.good" "$H/Maildir/dovecot-uidlist"

t_tally
[ "$fails" = 0 ]
