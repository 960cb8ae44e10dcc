#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Long operations show progress (issue 16, item 7): `sdlmctl fence message
# --wait` counts down on stderr when stderr is a terminal (script(1)) or
# with --progress; never otherwise, never with --json (stdout stays one
# JSON object).  The target is a slot no daemon ever ran: the wait ends
# by the dead bound.
. "$SDLM_SRCDIR/tests/lib.sh"
t_init progress
C="$SDLMCTL"
DISK="$TD/disk.img"
$C fence init -d "$DISK" --cluster progress --nodes 3 --profile test >/dev/null || { nok "init"; t_done; exit 1; }
eval "$($C --json fence dump -d "$DISK" | python3 -c '
import json,sys; t=json.load(sys.stdin)["timeouts"]
print("D=%d" % t["dead_ms"])')"
W=$(( D / 1000 * 4 + 60 ))	# --wait: well past the dead bound

$C fence message -d "$DISK" --wait=$W --progress 2 reset >"$TD/p.out" 2>"$TD/p.err"; rc=$?
check "--progress: the wait ends by the dead bound (exit $rc)" sh -c "[ $rc = 0 ] && grep -q 'node 2: dead after' '$TD/p.out'"
check "--progress: a countdown on stderr" grep -q 'node 2: waiting.* s left' "$TD/p.err"
check "--progress: nothing of it on stdout" sh -c "! grep -q 's left' '$TD/p.out'"

$C fence message -d "$DISK" --wait=$W 2 reset >"$TD/n.out" 2>"$TD/n.err"; rc=$?
check "not a terminal, no --progress: exit $rc, no countdown" sh -c "[ $rc = 0 ] && ! grep -q 's left' '$TD/n.err'"

$C --json fence message -d "$DISK" --wait=$W --progress 2 reset >"$TD/j.out" 2>"$TD/j.err"; rc=$?
check "--json --progress: no countdown (exit $rc)" sh -c "[ $rc = 0 ] && ! grep -q 's left' '$TD/j.err'"
check "--json: stdout is one JSON object" python3 -c "import json; d=json.load(open('$TD/j.out')); assert d['result'] == 'dead', d"

# stderr a terminal: script(1) gives the command a pty.
script -qec "'$C' fence message -d '$DISK' --wait=$W 2 reset" /dev/null >"$TD/t.out" 2>&1 </dev/null; rc=$?
check "on a terminal: a countdown without --progress (exit $rc)" grep -q 'node 2: waiting.* s left' "$TD/t.out"
check "on a terminal: the result line after it" grep -q 'node 2: dead after' "$TD/t.out"
t_done
