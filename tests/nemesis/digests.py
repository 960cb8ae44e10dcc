#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""digests.py - do the replicas of every node agree?

    digests.py LOG...     (sdlmd log files, one per node; also a selftest:
    digests.py --selftest)

Every ready member of a lockspace logs the digest of its replica at the
end of each sync round, naming the JOIN that completed the round (the
round's basis):

    ls t: round complete at 2:1a2b..:17: 2 ready, 1 waiting, fencer 1, digest 32ff..

and a member that receives the state logs the digest it decoded, with the
basis the sender encoded it at:

    ls t: state received from node 1 (628 bytes, 3 locks, basis 2:1a2b..:17, digest 32ff..)

The same (lockspace, basis) must show the same digest everywhere: the
replicas applied the same ordered stream up to that point.  A difference
is a divergence (a replica that will grant what another does not); the
offending lines are printed and the exit status is 1.  A digest of 0 is a
member without a replica and is skipped.
"""
import re
import sys

ROUND = re.compile(r"ls (\S+): round complete at (\d+:[0-9a-f]+:\d+): .*digest ([0-9a-f]{16})")
STATE = re.compile(r"ls (\S+): state received from node \d+ \(.*basis (\d+:[0-9a-f]+:\d+), digest ([0-9a-f]{16})\)")


def scan(lines, source, seen):
    for n, line in enumerate(lines, 1):
        m = ROUND.search(line) or STATE.search(line)
        if not m:
            continue
        ls, basis, digest = m.groups()
        if int(digest, 16) == 0:
            continue
        seen.setdefault((ls, basis), []).append((digest, "%s:%d" % (source, n), line.rstrip()))


def judge(seen, quiet=False):
    bad = 0
    compared = 0
    for key, obs in sorted(seen.items()):
        if len(obs) > 1:
            compared += 1
        if len({d for d, _, _ in obs}) > 1:
            bad += 1
            if quiet:
                continue
            print("DIVERGENCE in lockspace %s at basis %s:" % key)
            for d, where, line in obs:
                print("  %s  %s" % (where, line))
    return bad, compared


def selftest():
    ok = ["x ls t: round complete at 2:ab:17: 2 ready, 1 waiting, fencer 1, digest 00000000000000aa",
          "x ls t: state received from node 1 (9 bytes, 3 locks, basis 2:ab:17, digest 00000000000000aa)"]
    seen = {}
    scan(ok[:1], "n1", seen)
    scan(ok[1:], "n2", seen)
    scan(["x ls t: round complete at 2:ab:17: 0 ready, 3 waiting, fencer 1, digest 0000000000000000"], "n3", seen)
    assert judge(seen, True) == (0, 1), judge(seen, True)
    scan(["x ls t: round complete at 2:ab:17: 2 ready, 1 waiting, fencer 1, digest 00000000000000bb"], "n3", seen)
    assert judge(seen, True)[0] == 1
    print("digests.py selftest: ok")
    return 0


def main(argv):
    if argv[1:] == ["--selftest"]:
        return selftest()
    if len(argv) < 2:
        print("usage: digests.py LOG... | --selftest", file=sys.stderr)
        return 64
    seen = {}
    for path in argv[1:]:
        with open(path, errors="replace") as f:
            scan(f, path, seen)
    bad, compared = judge(seen)
    print("digests: %d round(s) seen on more than one node, %d divergence(s)" % (compared, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
