#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The short form of `tests/bench scale` (issue 17) as a pass/fail test:
# 3 nodes, the mail workload (cached deliveries, new mailboxes, a shared
# mailbox), 5 s clean, 10 s of 2% loss on every node, 5 s healed.  It
# judges correctness only, never a timing: the run completes and writes
# its report, no UID is handed out twice (uidcheck.py on the history of
# every UID), no request fails and none is left unfinished in the clean
# phase, no request fails in any phase, nobody is fenced and every node
# is still fenced-safe at the end.  The 16-node run is a benchmark
# (docs/performance.md), too long for this machine's `make check`.
set -u
: "${SDLM_SRCDIR:?}" "${SDLM_BUILDDIR:?}"
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
out=$(mktemp -d /var/tmp/sdlm-t-scale.XXXXXX) || exit 1
trap 'rm -rf "$out"' EXIT

BENCH_NO_BUILD=1 BENCH_BUILD="$SDLM_BUILDDIR" BENCH_OUT="$out" \
	bash "$SDLM_SRCDIR/tests/bench" scale --nodes 3 --clean 5 --loss 10 --healed 5 \
	--debug-nodes "" >"$out/bench.log" 2>&1
rc=$?
if [ "$rc" != 0 ] || [ ! -f "$out/scale/summary.json" ]; then
	fail "tests/bench scale ran to its report (exit $rc)"
	tail -30 "$out/bench.log"
	echo "t-scale: $passes passed, $fails failed"
	exit 1
fi
pass "tests/bench scale ran to its report"
cat "$out/scale/table.md"
# get KEY...: one value of summary.json
get() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2:]: d=d[k]
print(d)' "$out/scale/summary.json" "$@"; }
check "no UID handed out twice, commits ascending (uidcheck exit $(get uidcheck))" test "$(get uidcheck)" = 0
check "the clean phase had requests ($(get phases clean requests))" test "$(get phases clean requests)" -gt 0
check "no request left unfinished in the clean phase" test "$(get phases clean unfinished)" = 0
for p in clean loss healed; do
	check "no request failed in the $p phase ($(get phases $p failed))" test "$(get phases $p failed)" = 0
done
check "nobody fenced ($(get fenced))" test "$(get fenced)" = "[]"
check "every node fenced-safe at the end" test -z "$(get not_safe_at_end)"
t_tally
[ "$fails" = 0 ]
