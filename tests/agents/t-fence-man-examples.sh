#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The EXAMPLES of fence_sdlm(8) work as written (issue 16, item 10).  The
# section is rendered with groff (as a reader sees it) and each fence_sdlm
# line is run by bash with only /dev/sdb replaced by a file area; a node
# named node3 runs on it (disk-only sdlmd, tests/lib.sh):
#   - the status line prints "Status: ON" and 0;
#   - the stdin line (printf 'action=off...' | fence_sdlm) powers node3
#     off: "Success: Powered OFF", exit 0, and node3's processes are gone.
# The pcs line is run against a CIB file (pcs -f) when pcs is installed;
# otherwise it is reported as not checked (and not counted).
. "$SDLM_SRCDIR/tests/lib.sh"
for t in groff col python3; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
t_init fencemanex
C="$SDLMCTL"
DISK="$TD/disk.img"
WD_S=8
agent=${SDLM_FENCE_AGENT:-$SDLM_SRCDIR/agents/fence_sdlm}

examples=$(groff -man -Tascii -rLL=400n -rHY=0 -P-c "$SDLM_SRCDIR/docs/man/fence_sdlm.8" |
	col -b | awk '/^[A-Z][A-Z -]*$/ { keep = ($0 == "EXAMPLES"); next } keep' |
	sed 's/^[[:space:]]*//')
printf '%s\n' "$examples" | sed 's/^/  example: /'
status_line=$(grep '^fence_sdlm .*-o status' <<<"$examples")
stdin_line=$(grep '| fence_sdlm$' <<<"$examples")
check "fence_sdlm.8 has a status example" test -n "$status_line"
check "fence_sdlm.8 has a stdin example" test -n "$stdin_line"

# fence_sdlm and sdlmctl side by side first in PATH (fence_sdlm finds
# sdlmctl beside itself), as an install puts them.
mkdir -p "$TD/bin"
ln -s "$(readlink -f "$agent")" "$TD/bin/fence_sdlm"
ln -s "$(readlink -f "$C")" "$TD/bin/sdlmctl"
"$C" fence init -d "$DISK" --cluster manex --nodes 3 --profile test >/dev/null || nok "init"
node_start 3 || nok "start node3"
check "node3 fenced-safe" wait_for "fenced-safe" 30 sh -c "'$C' --ipc-name '$T_RUN-n3' status | grep -q fenced-safe"

# run LINE: the example with /dev/sdb -> the file area, by bash
run() {
	local line=${1//\/dev\/sdb/$DISK}
	out=$(PATH="$TD/bin:$PATH" bash -c "$line" 2>&1); rc=$?
	echo "  \$ $line: exit $rc"; printf '%s\n' "$out" | sed 's/^/  | /'
}
run "$status_line"
check "status example: 'Status: ON' and 0" \
	bash -c '[ "$1" = 0 ] && grep -q "Status: ON" <<<"$2" && [ "$(tail -1 <<<"$2")" = 0 ]' _ "$rc" "$out"
run "$stdin_line"
check "stdin example: exit 0, Success: Powered OFF" \
	bash -c '[ "$1" = 0 ] && grep -q "Success: Powered OFF" <<<"$2"' _ "$rc" "$out"
check "stdin example: no parse warnings" bash -c '! grep -qi "parse error\|unknown option" <<<"$1"' _ "$out"
check "node3 is gone (its watchdog killed it)" wait_for "node3 gone" $((WD_S + 20)) node_gone 3

pcs_line=$(awk '/^pcs stonith create/ { l = $0; while (l ~ /\\$/ && (getline n) > 0) { sub(/\\$/, "", l); l = l " " n } print l }' <<<"$examples")
if [ -n "$pcs_line" ] && command -v pcs >/dev/null; then
	cibadmin --empty >"$TD/cib.xml" 2>/dev/null
	run "${pcs_line/pcs /pcs -f $TD/cib.xml }"
	check "pcs example creates the stonith resource" test "$rc" = 0
else
	echo "note: pcs not installed: the pcs example is not checked"
fi
t_done
