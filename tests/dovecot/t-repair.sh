#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# sdlm-maildir-repair loses nothing and survives being killed (issue 14,
# items 1 and 8), judged by real Dovecot 2.3 (doveadm, no daemon):
#   a. every message file of copy B ends up in A: the ones B's uidlist
#      lists (dsync's rule, t-dovecot.sh part b) and the ones it does not
#      list — written straight into new/ by an MTA, in cur/ without a
#      record, left by an sdlm-deliver killed between its rename and its
#      uidlist write; Dovecot numbers those above the merged UIDNEXT;
#   b. the "done" hash covers them: a file that appears in B after a
#      repair is copied by the next run;
#   c. killed at each step (SDLM_TEST_HOOK=kill:POINT, a test seam) and
#      rerun: the same uidlist as an uninterrupted run, byte for byte,
#      the same message files, every message once in Dovecot, no dotlock
#      left behind (the dead holder's lock is broken at once);
#   d. a repair whose dotlock is taken over while it works writes no
#      uidlist and says so; a rerun completes it;
#   e. JSON output stays valid for a path with a quote and a backslash;
#   f. --batch: a whole store from a list on stdin, a failure does not
#      stop the others, one JSON line each and a summary.
# Uses the --uid-source=file: test seam for the deliveries that build the
# copies.  Needs root and dovecot-core, python3; exit 77 (skip) when missing.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SDLM_SRCDIR:=$(cd "$here/../.." && pwd)}"
: "${SDLM_BUILDDIR:=$SDLM_SRCDIR/_build}"
: "${SDLM_DELIVER:=$SDLM_BUILDDIR/agents/dovecot/sdlm-deliver}"
: "${SDLM_MAILDIR_REPAIR:=$SDLM_BUILDDIR/agents/dovecot/sdlm-maildir-repair}"
export SDLM_DELIVER SDLM_MAILDIR_REPAIR
. "$here/lib.sh"

for t in doveadm python3 "$SDLM_DELIVER" "$SDLM_MAILDIR_REPAIR"; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing (dovecot-core)"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (mail_uid=nobody)"; exit 77; }

. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"

T=$(mktemp -d /var/tmp/sdlm-repair.XXXXXX)
chmod 755 "$T"
trap 'rm -rf "$T"' EXIT
MB=0123456789abcdef0123456789abcdef

msg() { printf 'From: t@example.org\nSubject: %s\nMessage-ID: <%s@t>\n\nbody of %s\n' "$1" "$1" "$1"; }
deliver() {	# HOME SOURCE SUBJECT [env...]
	msg "$3" | "$SDLM_DELIVER" --uid-source="file:$2" -m "$MB" "$1/Maildir" >/dev/null
}
# A file written straight into a Maildir, as an MTA does: no record.
drop() {	# MAILDIR SUB SUBJECT [SUFFIX]
	msg "$3" >"$1/$2/$(date +%s).M$RANDOM$RANDOM.mta-$3${4:-}"
}
subjects() {	# HOME: every subject Dovecot shows, sorted
	dc_adm "$1" -f tab fetch 'hdr.subject' mailbox INBOX all | tail -n +2 |
		sed 's/^ //' | sort
}
files_of() {	# MAILDIR: base names of new/ and cur/, sorted
	( cd "$1" && ls new cur ) | grep -v -e '^new:$' -e '^cur:$' -e '^$' |
		sed 's/:2,.*$//' | sort
}
want_all="a4 a5 b4 b5 b6 m1 m2 m3 u-cur u-killed u-new"

# The pair: base m1..m3, then A: a4 a5 and B: b4..b6 with the file source,
# and B's files without a record.
mkpair() {
	local P=$1 side
	dc_home "$P/base"
	echo "V1700000010 N1 E3" >"$P/src"
	for s in m1 m2 m3; do deliver "$P/base" "$P/src" "$s"; done
	for side in A B; do
		mkdir -p "$P/$side"
		cp -a "$P/base/Maildir" "$P/$side/"
		cp "$P/src" "$P/src-$side"
	done
	rm -rf "$P/base"
	deliver "$P/A" "$P/src-A" a4
	deliver "$P/A" "$P/src-A" a5
	for s in b4 b5 b6; do deliver "$P/B" "$P/src-B" "$s"; done
	drop "$P/B/Maildir" new u-new
	drop "$P/B/Maildir" cur u-cur ":2,S"
	# An sdlm-deliver killed between its rename and its uidlist write.
	( msg u-killed | SDLM_TEST_HOOK=kill:placed "$SDLM_DELIVER" \
		--uid-source="file:$P/src-B" -m "$MB" "$P/B/Maildir" >/dev/null; true ) 2>/dev/null
	grep -rqs 'Subject: u-killed' "$P/B/Maildir/new" ||
		drop "$P/B/Maildir" new u-killed	# a tool without the hook
	rm -f "$P/B/Maildir/dovecot-uidlist.lock"
	dc_home "$P/A"
	dc_home "$P/B"
}

# --- a. unlisted files of B reach A -----------------------------------------------
P="$T/a"
mkpair "$P"
check "a: B's uidlist lists none of u-new, u-cur, u-killed" \
	sh -c "! grep -q 'mta-u-' '$P/B/Maildir/dovecot-uidlist' && [ \$(grep -c . '$P/B/Maildir/dovecot-uidlist') = 7 ]"
out=$("$SDLM_MAILDIR_REPAIR" --json "$P/A/Maildir" "$P/B/Maildir")
rc=$?
echo "$out"
check "a: repair exit 0" test $rc = 0
dc_own "$P/A"
got=$(subjects "$P/A" | tr '\n' ' ')
check "a: every message of both copies in A once ($got)" test "$got" = "$want_all "
check "a: the JSON line counts the unlisted files" \
	python3 -c "import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d['unlisted'] == 3 else 1)" "$out"
lowest_u=$(dc_adm "$P/A" -f tab fetch 'uid hdr.subject' mailbox INBOX all | awk -F'\t' '/u-/ { print $1 }' | sort -n | head -1)
merged_next=$(python3 -c "import json,sys; print(json.loads(sys.argv[1]).get('next_uid', 0))" "$out")
check "a: Dovecot numbered them above the merged UIDNEXT ($lowest_u >= $merged_next)" \
	test "${lowest_u:-0}" -ge "${merged_next:-1}"
check "a: Dovecot logged nothing broken" dc_clean "$P/A"

# --- b. the hash covers B's files ----------------------------------------------------
out=$("$SDLM_MAILDIR_REPAIR" --json "$P/A/Maildir" "$P/B/Maildir")
check "b: a rerun has nothing to do" sh -c "echo '$out' | grep -q already-merged"
drop "$P/B/Maildir" new u-late
out=$("$SDLM_MAILDIR_REPAIR" --json "$P/A/Maildir" "$P/B/Maildir")
echo "$out"
dc_own "$P/A"
check "b: a file that appeared in B later is copied by the next run" \
	grep -q u-late <(subjects "$P/A")
check "b: still every message once" \
	test "$(subjects "$P/A" | tr '\n' ' ')" = "$(echo $want_all u-late | tr ' ' '\n' | sort | tr '\n' ' ')"

# --- c. killed at each step, then rerun --------------------------------------------
mkpair "$T/tmpl"
cp -a "$T/tmpl" "$T/ref"
dc_home "$T/ref/A"; dc_home "$T/ref/B"
"$SDLM_MAILDIR_REPAIR" "$T/ref/A/Maildir" "$T/ref/B/Maildir" >/dev/null
files_of "$T/ref/A/Maildir" >"$T/ref.files"
for point in locked logged copied:1 copied:2 copied:4 written invalidated done; do
	R="$T/run"
	rm -rf "$R"
	cp -a "$T/tmpl" "$R"
	dc_home "$R/A"; dc_home "$R/B"
	rc=$( (SDLM_TEST_HOOK="kill:$point" "$SDLM_MAILDIR_REPAIR" "$R/A/Maildir" \
		"$R/B/Maildir" >/dev/null 2>&1; echo $?) 2>/dev/null)
	check "c: killed at $point (exit $rc = 137)" test $rc = 137
	"$SDLM_MAILDIR_REPAIR" --lock-timeout 5000 "$R/A/Maildir" "$R/B/Maildir" >"$T/rerun.out" 2>&1
	rc=$?
	check "c: $point: the rerun exits 0 ($(cat "$T/rerun.out"))" test $rc = 0
	check "c: $point: the same uidlist as an uninterrupted run" \
		cmp -s "$T/ref/A/Maildir/dovecot-uidlist" "$R/A/Maildir/dovecot-uidlist"
	check "c: $point: the same message files" diff <(files_of "$R/A/Maildir") "$T/ref.files"
	check "c: $point: no dotlock left" \
		test ! -e "$R/A/Maildir/dovecot-uidlist.lock" -a ! -e "$R/B/Maildir/dovecot-uidlist.lock"
	dc_own "$R/A"
	check "c: $point: Dovecot shows every message once" \
		test "$(subjects "$R/A" | tr '\n' ' ')" = "$want_all "
	check "c: $point: Dovecot clean" dc_clean "$R/A"
done

# --- d. a repair that loses its dotlock writes no uidlist ---------------------------
R="$T/lost"
cp -a "$T/tmpl" "$R"
dc_home "$R/A"; dc_home "$R/B"
cp "$R/A/Maildir/dovecot-uidlist" "$T/lost.pre"
SDLM_TEST_HOOK="stop:copied:2" "$SDLM_MAILDIR_REPAIR" "$R/A/Maildir" "$R/B/Maildir" >"$T/lost.out" 2>&1 &
pid=$!
stopped() { [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = T ]; }
for _ in $(seq 500); do stopped $pid && break; sleep 0.02; done
check "d: the repair paused while holding the dotlocks" stopped $pid
# Another writer judged it stale and took A's lock.
rm -f "$R/A/Maildir/dovecot-uidlist.lock"
sleep 600 & holder=$!
echo "$holder:$(hostname)" >"$R/A/Maildir/dovecot-uidlist.lock"
kill -CONT $pid
wait $pid
rc=$?
cat "$T/lost.out"
check "d: the repair fails ($rc) and says the lock was lost" \
	sh -c "[ $rc != 0 ] && grep -q 'dotlock' '$T/lost.out'"
check "d: A's uidlist untouched" cmp -s "$T/lost.pre" "$R/A/Maildir/dovecot-uidlist"
check "d: the new holder's lock left in place" grep -q "^$holder:" "$R/A/Maildir/dovecot-uidlist.lock"
kill $holder; wait $holder 2>/dev/null
"$SDLM_MAILDIR_REPAIR" --lock-timeout 5000 "$R/A/Maildir" "$R/B/Maildir" >/dev/null
check "d: once the holder is gone, a rerun completes the same repair" \
	cmp -s "$T/ref/A/Maildir/dovecot-uidlist" "$R/A/Maildir/dovecot-uidlist"

# --- e. JSON for any file name ---------------------------------------------------------
Q="$T/q\"uo\\te"
mkdir -p "$Q"
cp -a "$T/tmpl/A" "$T/tmpl/B" "$Q/"
chmod 755 "$Q"
out=$("$SDLM_MAILDIR_REPAIR" --json "$Q/A/Maildir" "$Q/B/Maildir")
check "e: merge --json is valid JSON with a quote in the path" \
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["source"].endswith("/B/Maildir"), d' "$out"
out=$("$SDLM_MAILDIR_REPAIR" --json "$Q/A/Maildir" "$Q/B/Maildir")
check "e: already-merged --json is valid JSON" python3 -c 'import json,sys; json.loads(sys.argv[1])' "$out"

# --- f. a whole store: a list on stdin ----------------------------------------------
W="$T/store"
mkdir -p "$W/one" "$W/two words"
cp -a "$T/tmpl/A" "$T/tmpl/B" "$W/one/"
cp -a "$T/tmpl/A" "$T/tmpl/B" "$W/two words/"
printf '%s\t%s\n' "$W/one/A/Maildir" "$W/one/B/Maildir" "$W/two words/A/Maildir" "$W/two words/B/Maildir" \
	"$W/none/A/Maildir" "$W/none/B/Maildir" >"$T/list"
out=$("$SDLM_MAILDIR_REPAIR" --batch --json <"$T/list" 2>"$T/batch.err")
rc=$?
echo "$out"
check "f: batch: every line valid JSON, two merged, one failed, a summary" \
	python3 -c '
import json, sys
l = [json.loads(x) for x in sys.argv[1].splitlines()]
assert [d["result"] for d in l] == ["merged", "merged", "batch"], l
assert l[-1]["mailboxes"] == 3 and l[-1]["failed"] == 1, l' "$out"
check "f: batch exit is the worst one met (1: a missing mailbox)" test $rc = 1
check "f: both stores repaired like the reference" \
	sh -c "cmp -s '$T/ref/A/Maildir/dovecot-uidlist' '$W/one/A/Maildir/dovecot-uidlist' && cmp -s '$T/ref/A/Maildir/dovecot-uidlist' '$W/two words/A/Maildir/dovecot-uidlist'"

t_tally
[ "$fails" = 0 ]
