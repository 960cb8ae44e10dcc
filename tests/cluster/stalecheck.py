#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""stalecheck.py - judge the sdlmd logs of a cluster test for two holders.

  stalecheck.py takeovers MAILBOX N=LOG ...
  stalecheck.py fenced-member NODE N=LOG ...
  stalecheck.py --selftest

N=LOG names node N's sdlmd log file.  Log lines look like
"Dec 06 21:00:01 sdlmd[123] info uid M: taken over at epoch 7, next 40 (...)".

takeovers: every holding of MAILBOX's UID lock starts with
    uid M: taken over at epoch E, next N (...)     (or "mailbox created")
and ends with
    uid M: given up (next N, epoch E)              (debug level)
    uid M: mailbox lock lost (...)
    fence node A: every lock holder is gone         (A's own log: it
                                                     acknowledges a pill
                                                     only after that)
or with the node's fence.  Ordered by epoch, each takeover by a node B
after a holding of another node A must follow the end of A's holding:
A's log says it gave the mailbox up, or some log shows A fenced ("ls LS:
node A fenced: releasing its locks", logged by the fencer that sends it;
"fence node A: fenced (...)"), no later than B's takeover - to the
second: the logs carry no finer time, so this check is lenient within a
second (the history's real-time check is not).
Otherwise two nodes held the mailbox at once: printed, exit 1.  Two
takeovers at one epoch by different nodes are a violation as well.

fenced-member: once a node's log shows NODE fenced, that incarnation
must never again count as a current replica there: no later
    ls LS: round complete at ...: ..., fencer NODE, ...
    ls LS: state received from node NODE (...)
in the same log (NODE is the lowest ready member whenever it is ready
in the recipe this serves, so it is the fencer then).  NODE's own log,
once it knows it was fenced ("fence node NODE: a poison pill was
received", "self-fencing"), must show no replica taken or formed again
("ls LS: state received", "ls LS: formed"): every member computes the
same ready set, so a transfer that completes makes the fenced
incarnation a ready member everywhere.  A restart would be a new
incarnation; the tests that use this check restart nothing.
"""
import re
import sys

TS = r"^(\w{3} +\d+ \d\d:\d\d:\d\d)"
TAKE = r"uid %s: taken over at epoch (\d+)"
CREATE = r"uid %s: mailbox created in slot"
GIVEN = r"uid %s: given up \(next \d+, epoch (\d+)\)"
LOST = r"uid %s: mailbox lock lost"
FENCED_LS = re.compile(r"ls \S+: node (\d+) fenced: releasing its locks")
FENCED_ME = re.compile(r"fence node (\d+): fenced \(([^)]*)\)")
# the victim's own word, logged once its lock users are gone and before it
# acknowledges the pill (the fencer may never log the ack: a node that
# comes back into the ring cancels its cold-start fence)
STOPPED = r"fence node %d: every lock holder is gone"


def stamp(line):
    m = re.match(TS, line)
    return m.group(1) if m else ""


def secs(ts):
    """Seconds within the year's month-day from a syslog-style stamp
    (only compared between logs of one run on one machine)."""
    m = re.match(r"(\w{3}) +(\d+) (\d\d):(\d\d):(\d\d)", ts)
    if not m:
        return None
    _, d, h, mi, s = m.groups()
    return ((int(d) * 24 + int(h)) * 60 + int(mi)) * 60 + int(s)


def read_logs(args):
    logs = {}
    for a in args:
        n, path = a.split("=", 1)
        with open(path, errors="replace") as f:
            logs[int(n)] = [ln.rstrip("\n") for ln in f]
    return logs


def takeovers(mb, logs, quiet=False):
    q = re.escape(mb)
    take, create = re.compile(TAKE % q), re.compile(CREATE % q)
    given, lost = re.compile(GIVEN % q), re.compile(LOST % q)
    holds = []          # (epoch, node, index, line)
    ends = {}           # node -> [(index, seconds, line)]
    fenced_at = {}      # victim -> [seconds it was seen fenced, in any log]
    for node, lines in logs.items():
        for i, ln in enumerate(lines):
            m = take.search(ln)
            if m:
                holds.append((int(m.group(1)), node, i, ln))
            elif create.search(ln):
                holds.append((-1, node, i, ln))
            elif given.search(ln) or lost.search(ln) or re.search(STOPPED % node, ln):
                ends.setdefault(node, []).append((i, secs(stamp(ln)), ln))
            m = FENCED_LS.search(ln) or FENCED_ME.search(ln)
            t = secs(stamp(ln))
            if m and t is not None:
                fenced_at.setdefault(int(m.group(1)), []).append(t)
    holds.sort(key=lambda h: (h[0], h[1]))
    bad = []
    for prev, cur in zip(holds, holds[1:]):
        e1, a, ia, la = prev
        e2, b, ib, lb = cur
        if a == b:
            continue
        if e1 == e2:
            bad.append(("TWO TAKEOVERS of %s AT EPOCH %d by node %d and node %d" % (mb, e1, a, b),
                        ["node %d: %s" % (a, la), "node %d: %s" % (b, lb)]))
            continue
        tb = secs(stamp(lb))
        ended = [e for e in ends.get(a, []) if e[0] > ia and (tb is None or e[1] is None or e[1] <= tb)]
        ta = secs(stamp(la))
        fenced = [f for f in fenced_at.get(a, []) if (ta is None or f >= ta) and (tb is None or f <= tb)]
        if ended or fenced:
            continue
        bad.append(("TWO HOLDERS of %s: node %d took it over at epoch %d while node %d, holder since "
                    "epoch %d, had neither given it up nor been fenced" % (mb, b, e2, a, e1),
                    ["node %d: %s" % (a, la), "node %d: %s" % (b, lb)]))
    if not quiet:
        for what, lines in bad:
            print(what)
            for ln in lines:
                print("  " + ln)
        print("takeovers of %s: %d holding(s) by node(s) %s: %s" %
              (mb, len(holds), " ".join("%d@%s" % (h[1], h[0] if h[0] >= 0 else "create") for h in holds),
               "VIOLATIONS" if bad else "ok"))
    return bad


def fenced_member(victim, logs, quiet=False):
    bad = []
    seen = 0
    round_re = re.compile(r"ls (\S+): round complete at \S+: .* fencer %d," % victim)
    state_re = re.compile(r"ls (\S+): state received from node %d \(" % victim)
    self_fenced = re.compile(r"fence node %d: (a poison pill was received|self-fencing)" % victim)
    self_ready = re.compile(r"ls (\S+): (state received from node \d+|formed)")
    for node, lines in logs.items():
        if node == victim:
            fence = None
            for ln in lines:
                if fence is None:
                    if self_fenced.search(ln):
                        fence = ln
                    continue
                if self_ready.search(ln):
                    bad.append(("FENCED NODE %d BECAME A READY MEMBER AGAIN (its own log: it took a replica "
                                "after it knew it was fenced)" % victim,
                                ["node %d: %s" % (node, fence), "node %d: %s" % (node, ln)]))
                    break
            continue
        fence = None
        for i, ln in enumerate(lines):
            if fence is None:
                m = FENCED_LS.search(ln) or FENCED_ME.search(ln)
                if m and int(m.group(1)) == victim:
                    fence = ln
                    seen += 1
                continue
            if round_re.search(ln) or state_re.search(ln):
                bad.append(("FENCED NODE %d ACCEPTED AGAIN by node %d (same incarnation: nothing restarted it)"
                            % (victim, node), ["node %d: %s" % (node, fence), "node %d: %s" % (node, ln)]))
                break
    if not quiet:
        for what, lines in bad:
            print(what)
            for ln in lines:
                print("  " + ln)
        print("fenced-member: node %d fenced in %d other log(s), %d violation(s): %s" %
              (victim, seen, len(bad), "VIOLATIONS" if bad else "ok"))
    return bad, seen


def selftest():
    n1 = ["Dec 06 21:00:00 sdlmd[1] notice uid M: mailbox created in slot 3, UIDVALIDITY 9",
          "Dec 06 21:00:02 sdlmd[1] debug uid M: given up (next 40, epoch 2)"]
    n2 = ["Dec 06 21:00:03 sdlmd[2] info uid M: taken over at epoch 3, next 40 (from the lock value block)"]
    assert not takeovers("M", {1: n1, 2: n2}, True)
    n1b = n1[:1]
    assert takeovers("M", {1: n1b, 2: n2}, True)
    n2f = ["Dec 06 21:00:03 sdlmd[2] notice ls t: node 1 fenced: releasing its locks"] + n2
    assert not takeovers("M", {1: n1b, 2: n2f}, True)
    n3 = ["Dec 06 21:00:03 sdlmd[3] info uid M: taken over at epoch 4, next 90 (from the disk)"]
    assert len(takeovers("M", {1: n1b, 2: n2f, 3: n3}, True)) == 1      # 3 while 2 held it
    late = ["Dec 06 21:00:09 sdlmd[2] notice ls t: node 1 fenced: releasing its locks"] + n2
    assert len(takeovers("M", {1: n1b, 2: late}, True)) == 1            # fenced only after
    # the victim's own "every lock holder is gone" ends its holding; another
    # node's does not, nor does it after the takeover
    gone1 = n1b + ["Dec 06 21:00:02 sdlmd[1] notice fence node 1: every lock holder is gone"]
    assert not takeovers("M", {1: gone1, 2: n2}, True)
    gone2 = ["Dec 06 21:00:02 sdlmd[1] notice fence node 2: every lock holder is gone"]
    assert takeovers("M", {1: n1b + gone2, 2: n2}, True)
    gone_late = n1b + ["Dec 06 21:00:05 sdlmd[1] notice fence node 1: every lock holder is gone"]
    assert takeovers("M", {1: gone_late, 2: n2}, True)
    ok2 = ["x notice fence node 1: fenced (dead by heartbeat timeout), incarnation 00ab",
           "x info ls t: round complete at 2:1:5: 2 ready, 0 waiting, fencer 2, digest 00000000000000aa"]
    assert fenced_member(1, {2: ok2}, True) == ([], 1)
    bad2 = ok2 + ["x info ls t: round complete at 1:ab:9: 3 ready, 0 waiting, fencer 1, digest 00000000000000bb"]
    assert len(fenced_member(1, {2: bad2}, True)[0]) == 1
    me = ["x notice fence node 1: a poison pill was received: stopping all lock use",
          "x notice ls t: state received from node 2 (776 bytes, 4 locks, basis 2:ab:9, digest 00000000000000aa)"]
    assert len(fenced_member(1, {1: me, 2: ok2}, True)[0]) == 1
    assert not fenced_member(1, {1: me[:1], 2: ok2}, True)[0]
    print("stalecheck.py selftest: ok")
    return 0


def main(argv):
    if argv[1:] == ["--selftest"]:
        return selftest()
    if len(argv) >= 4 and argv[1] == "takeovers":
        return 1 if takeovers(argv[2], read_logs(argv[3:])) else 0
    if len(argv) >= 4 and argv[1] == "fenced-member":
        bad, seen = fenced_member(int(argv[2]), read_logs(argv[3:]))
        if not seen:
            print("fenced-member: node %s was never fenced: nothing to judge" % argv[2])
            return 1
        return 1 if bad else 0
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
