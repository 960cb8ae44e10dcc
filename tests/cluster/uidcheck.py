#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Check a UID history written by uidclient (and by the test itself).

  uidcheck.py HISTORY [--watermark MAILBOX=N ...]

Checks: no (mailbox, uidvalidity, uid) handed out twice; per mailbox the
committed ranges, in commit-time order, are strictly ascending; every UID a
client received is below the durable watermark given for its mailbox.
Prints the offending lines and exits 1 on a violation."""
import sys
from collections import defaultdict

path = sys.argv[1]
marks = {}
for a in sys.argv[2:]:
    if a.startswith('--watermark='):
        mb, n = a.split('=', 1)[1].rsplit('=', 1)
        marks[mb] = int(n)
got = {}
dup = []
commits = defaultdict(list)
for ln in open(path):
    f = ln.split()
    if not f:
        continue
    if f[0] == 'got':
        key = (f[2], f[3], int(f[4]))
        if key in got:
            dup.append((got[key], ln.strip()))
        got[key] = ln.strip()
    elif f[0] == 'commit':
        commits[(f[2], f[3])].append((int(f[6]), int(f[4]), int(f[5]), ln.strip()))
bad = 0
for a, b in dup:
    print('DUPLICATE UID:\n  %s\n  %s' % (a, b))
    bad = 1
for mb, cs in commits.items():
    cs.sort()
    last = 0
    for t, first, lastuid, ln in cs:
        if first <= last:
            print('NOT ASCENDING in %s: committed %d..%d after %d: %s' % (mb, first, lastuid, last, ln))
            bad = 1
        last = lastuid
for (mb, uv, uid), ln in got.items():
    if mb in marks and uid > marks[mb]:
        print('ABOVE THE DURABLE WATERMARK %d: %s' % (marks[mb], ln))
        bad = 1
n_mb = len(set((k[0], k[1]) for k in got))
print('uidcheck: %d UIDs in %d mailbox(es), %d commits: %s' %
      (len(got), n_mb, sum(len(c) for c in commits.values()), 'VIOLATIONS' if bad else 'ok'))
sys.exit(bad)
