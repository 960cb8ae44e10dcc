#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Where the time of one slow request goes: its timeline from the client's
log and the daemon's debug log (tests/bench scale runs sdlmd with
--log-level=debug on its --debug-nodes; millisecond timestamps).

  timeline.py DIR [--node I] [--stream new|shared] [--phase loss|clean|healed]
              [--rank K]

Picks the K-th slowest (default 1: the slowest) successful request of the
stream on node I (default 1) of the phase (default loss; as in scale.py, a
request in flight at any moment of the loss is of the loss phase, any
other of the phase it started in), and prints
every line of node I's sdlmd log between the request's start and its end
that belongs to it, with the time since the client's start:
  uid <mailbox>: ...                 the UID service's steps
  ls <ls>: send REQUEST ... res R    the lock request leaves for CPG
                                     (with the node's CPG send queue length)
  ls <ls>: apply kind K node N ... res R
                                     an agreed delivery of an event on R
                                     (1 REQUEST, 2 CONVERT, 3 RELEASE, 4 CANCEL)
  ls <ls>: cluster grant ... res R   the replica grants R to this node
and, as context, what happened to the whole lockspace meanwhile: totem and
group membership changes, JOINs, completed sync rounds (the lines
"totem confchg", "group confchg", "JOIN", "round complete", "state").
Then a summary: the time up to the REQUEST's send, from the send to its
own agreed delivery, from the delivery to the grant, and the rest, per lock
the request needed, beside the number of ring changes and rounds it waited
through.  DIR is the directory tests/bench scale writes ($BENCH_OUT/scale).
"""
import glob
import os
import re
import sys
import time

KIND = {'1': 'REQUEST', '2': 'CONVERT', '3': 'RELEASE', '4': 'CANCEL', '5': 'CONFCHG',
        '6': 'NODE_STATUS', '7': 'NODE_FENCED', '8': 'GATE'}
SLACK = 50000000
CONTEXT = ('totem confchg', 'group confchg', ': JOIN', 'round complete', 'state received',
           'sent state', 'node ', 'gate')


def log_ts(line, year, w2m):
    m = re.match(r'^([A-Z][a-z]{2}) +(\d+) (\d\d:\d\d:\d\d)(\.\d+)?', line)
    if not m:
        return None
    t = time.strptime('%d %s %s %s' % (year, m.group(1), m.group(2), m.group(3)),
                      '%Y %b %d %H:%M:%S')
    return int((time.mktime(t) + float(m.group(4) or 0)) * 1e9) - w2m


def main():
    a = sys.argv[1:]
    if not a or a[0].startswith('-'):
        print(__doc__, file=sys.stderr)
        return 2

    def opt(k, dflt):
        return a[a.index(k) + 1] if k in a else dflt
    d = a[0]
    node, stream = int(opt('--node', '1')), opt('--stream', 'new')
    phase, rank = opt('--phase', 'loss'), int(opt('--rank', '1'))
    ph = dict((x.split()[0], int(x.split()[1])) for x in open(os.path.join(d, 'phases')))
    w2m = int(open(os.path.join(d, 'wall-minus-mono')).read())
    lo, hi = {'clean': (ph['start'], ph['loss']), 'loss': (ph['loss'], ph['heal']),
              'healed': (ph['heal'], ph['end'])}[phase]
    reqs = []
    for ln in open(os.path.join(d, 'req.n%d.%s' % (node, stream))):
        s, n, due, t0, t1, rc, mb = ln.split()
        # as scale.py: "loss" = in flight at any moment of the loss,
        # otherwise the phase the request started in
        t0_, t1_ = int(t0), int(t1)
        if phase == 'loss':
            inside = t0_ < hi and t1_ >= lo
        else:
            inside = lo <= t0_ < hi and not (t0_ < ph['heal'] and t1_ >= ph['loss'])
        if rc == '0' and inside:
            reqs.append((int(t1) - int(t0), int(t0), int(t1), mb))
    if len(reqs) < rank:
        print('timeline.py: only %d successful %s requests of node %d in the %s phase' % (
            len(reqs), stream, node, phase), file=sys.stderr)
        return 1
    reqs.sort(reverse=True)
    lat, t0, t1, mb = reqs[rank - 1]
    year = time.localtime((t0 + w2m) / 1e9).tm_year
    logf = os.path.join(d, 'sdlmd.n%d.log' % node)
    lines = []
    for ln in open(logf, errors='replace'):
        t = log_ts(ln, year, w2m)
        # libqb's millisecond stamps and the run's one reading of
        # CLOCK_REALTIME - CLOCK_MONOTONIC agree to a few ms: some slack
        if t is None or t < t0 - SLACK or t > t1 + SLACK:
            continue
        lines.append((t, ln.rstrip('\n')))
    # The lock resources of this request: from "uid MB: ... lock uid:X" and
    # the table lock of a new mailbox.
    res = set()
    for t, ln in lines:
        m = re.search(r'uid %s: not held here: requesting lock (\S+)' % re.escape(mb), ln)
        if m:
            res.add(m.group(1))
        if re.search(r'uid %s: new mailbox: requesting the table lock' % re.escape(mb), ln):
            res.add('uid-table')
        # its segment locks (docs/uid.md, "The table lock")
        m = re.search(r'uid %s: table segment (\d+)\.(\d+) granted' % re.escape(mb), ln)
        if m:
            res.add('uid-table.%s.%s' % (m.group(1), m.group(2)))
    print('# %s request of node %d, mailbox %s, %s phase: %.0f ms (rank %d of %d)' % (
        stream, node, mb, phase, lat / 1e6, rank, len(reqs)))
    print('# +ms     line (node %d sdlmd log, ms timestamps; client start = 0)' % node)
    print('%8.1f  client: sdlm_uid_alloc(%s) called' % (0.0, mb))
    marks = {}
    rings = rounds = 0
    for t, ln in lines:
        body = ln.split(' debug ', 1)[-1] if ' debug ' in ln else ln.split('] ', 1)[-1]
        mine = ('uid %s:' % mb) in ln or any(('res %s' % r) in ln for r in res)
        ctx = any(c in ln for c in CONTEXT) and ' uid ' not in ln and t0 <= t <= t1
        if not (mine or ctx):
            continue
        m = re.search(r'apply kind (\d+) node (\d+) lkid (\S+) mode (\S+) res (\S*?): -?\d+$', ln.rstrip())
        if m:
            body = body.replace('apply kind %s' % m.group(1),
                                'apply kind %s (%s)' % (m.group(1), KIND.get(m.group(1), '?')))
        print('%8.1f  %s%s' % ((t - t0) / 1e6, '' if mine else '  [lockspace] ', body))
        if 'totem confchg' in ln:
            rings += 1
        if 'round complete' in ln:
            rounds += 1
        for r in res:
            if ('send REQUEST' in ln and ('res %s ' % r) in ln):
                marks.setdefault(r, {})['send'] = t
            if m and m.group(5) == r and m.group(1) == '1' and m.group(2) == str(node):
                marks.setdefault(r, {}).setdefault('deliver', t)
            if ('cluster grant' in ln and ln.rstrip().endswith('res %s' % r)):
                marks.setdefault(r, {})['grant'] = t
    print('%8.1f  client: sdlm_uid_commit returned' % ((t1 - t0) / 1e6))
    print('# summary (ms):')
    for r, k in sorted(marks.items(), key=lambda x: x[1].get('send', 0)):
        s, dl, g = k.get('send'), k.get('deliver'), k.get('grant')

        def span(x, y):
            return '%.1f' % ((y - x) / 1e6) if x is not None and y is not None else '-'
        print('#   lock %s: client start -> REQUEST sent %s; sent -> own agreed delivery %s; '
              'delivery -> grant %s' % (r, span(t0, s), span(s, dl), span(dl, g)))
    print('#   totem ring changes seen meanwhile: %d; sync rounds completed meanwhile: %d' % (
        rings, rounds))
    return 0


if __name__ == '__main__':
    sys.exit(main())
