#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/bench.d/repairbench.sh - how long sdlm-maildir-repair takes for a
# large mailbox (issue 14 item 8).  A benchmark: it prints numbers and
# asserts nothing.
#
#   tests/bench.d/repairbench.sh [N...]      default: 10000 100000
#
# For each N it builds two copies of one mailbox under $BENCH_DIR (default
# /var/tmp): both list the same N - 2K messages, then each side adds K
# messages of its own under the same UIDs (K = N / 100: duplicates, both
# renumbered), and B has K more files in new/ without a record.  It times
# one repair of B into A (cold: nothing merged yet) and a second run
# (nothing to do), and prints one line per N:
#
#   messages=N  repair_s=S  rerun_s=S  renumbered=R  copied=C  unlisted=U
#
# Files are small (a header and a line); the figure is dominated by the
# per-message work of the tool (directory scan, lookups, copies with
# fsync), which is what the O(n^2) lookup of old made quadratic.
set -u
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
REPAIR=${SDLM_MAILDIR_REPAIR:-$SRC/_build/agents/dovecot/sdlm-maildir-repair}
# The program itself, not libtool's wrapper script (about a second of
# shell per run on a busy machine).
if [ -z "${SDLM_MAILDIR_REPAIR:-}" ] && [ -x "$SRC/_build/agents/dovecot/.libs/sdlm-maildir-repair" ]; then
	REPAIR=$SRC/_build/agents/dovecot/.libs/sdlm-maildir-repair
	export LD_LIBRARY_PATH=$SRC/_build/dlm/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
[ -x "$REPAIR" ] || { echo "repairbench: build first ($REPAIR missing)" >&2; exit 1; }
D=$(mktemp -d "${BENCH_DIR:-/var/tmp}/sdlm-repairbench.XXXXXX")
trap 'rm -rf "$D"' EXIT

build() {	# N DIR
	python3 - "$1" "$2" <<'PY'
import os, sys
n, d = int(sys.argv[1]), sys.argv[2]
k = max(n // 100, 1)
common = n - 2 * k
guid = "0123456789abcdef0123456789abcdef"
for side in "AB":
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(d, side, sub), exist_ok=True)
def put(side, sub, name):
    with open(os.path.join(d, side, sub, name), "w") as f:
        f.write("Subject: %s\n\nbody\n" % name)
recs = {"A": [], "B": []}
for i in range(1, common + 1):
    name = "1700000000.M%dP1.common" % i
    for side in "AB":
        put(side, "cur", name + ":2,S")
        recs[side].append((i, name))
for side in "AB":
    for j in range(1, k + 1):
        name = "1700000001.M%dP1.only%s" % (j, side)
        put(side, "cur", name + ":2,")
        recs[side].append((common + j, name))
for j in range(1, k + 1):
    put("B", "new", "1700000002.M%dP1.unlisted" % j)
for side in "AB":
    with open(os.path.join(d, side, "dovecot-uidlist"), "w") as f:
        f.write("3 V1700000000 N%d G%s E1\n" % (recs[side][-1][0] + 1, guid))
        for uid, name in recs[side]:
            f.write("%d :%s\n" % (uid, name))
PY
}

for n in "${@:-10000 100000}"; do
	for m in $n; do
		rm -rf "$D/p"
		build "$m" "$D/p"
		sync
		t0=$(date +%s.%N)
		out=$("$REPAIR" --json "$D/p/A" "$D/p/B")
		t1=$(date +%s.%N)
		"$REPAIR" --json "$D/p/A" "$D/p/B" >/dev/null
		t2=$(date +%s.%N)
		python3 - "$m" "$t0" "$t1" "$t2" "$out" <<'PY'
import json, sys
m, t0, t1, t2 = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
r = json.loads(sys.argv[5])
print("messages=%d  repair_s=%.2f  rerun_s=%.2f  renumbered=%d  copied=%d  unlisted=%d"
      % (m, t1 - t0, t2 - t1, r["renumbered"], r["copied"], r["unlisted"]))
PY
	done
done
