#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""History checker of the nemesis runs (docs/nemesis.md).

  checker.py HISTORY [--watermark=MAILBOX=N ...] [--counter=FILE]
             [--uidcheck=PATH] [--table]
  checker.py --selftest

HISTORY is what tests/nemesis/lockclient (one line per operation invoked
and completed) and tests/nemesis/nemesis.sh (faults, heals, recoveries)
appended during a run; lockclient.c documents the client lines, the driver
adds

  nemesis fault KIND NODES DETAIL T     NODES: "2", "1,3" or "all"; DETAIL no spaces
  nemesis heal KIND T
  nemesis restart NODE T
  nemesis fences KIND N T               N: fences, pills, self-fences and
                                        restarts seen since the fault began
  recover KIND SECONDS BOUND ok|timeout|no-handoff T

Checks, each printing the offending history lines:

  unique      no (mailbox, UIDVALIDITY, UID) given to two messages
  commit      per mailbox, committed ranges ascend in commit-time order
  watermark   every UID received is <= the durable watermark read at the end
              (these three are tests/cluster/uidcheck.py, run as is)
  realtime    UIDs ascend in real-time order: an allocation invoked after
              another one returned gets a higher UID
  exclusion   no two EX critical sections of the counter overlap in time
  counter     no lost update: the values written to the lock-protected
              counter are exactly 1..final, each written once
  recovery    after each heal a quorate node allocated and locked within
              the bound the driver derived from the timeouts; after a
              cut-off, the lock moved through the disk (cut-off/handoff)
              and the node cut off served again (cut-off/rejoin)
  no fence    a node cut off the network with its disk kept gives its
              wanted locks back through the disk: until the next fault,
              the driver's "nemesis fences cut-off N" says N = 0 and no
              node restarted

Client failures ("fail" lines: timeouts in a minority, a fenced node's
clients) are expected during faults and are counted, never violations.
A client killed inside its critical section leaves an "enter" without an
"exit": its write may or may not have landed, and the counter check accepts
either.  Exit status 0 when no violation, 1 otherwise, 2 on bad usage."""
import os
import subprocess
import sys
import tempfile
from collections import defaultdict, OrderedDict


class History:
    """The parsed history: every list keeps file order and the raw line."""

    def __init__(self, lines):
        self.invokes = []      # (t, node, label, op, target, line)
        self.gots = []         # dict(label, mb, uv, uid, epoch, t, t_inv, line, inv_line)
        self.commits = []
        self.fails = []        # (op, err, node, line)
        self.sections = defaultdict(list)   # resource -> [dict(enter.., exit..)]
        self.faults = []       # (kind, nodes, t, detail, line)
        self.heals = []
        self.restarts = []
        self.fences = []       # (kind, n, t, line)
        self.recovers = []     # (kind, secs, bound, verdict, line)
        self.bad_lines = []
        last_inv = {}
        open_cs = {}
        for raw in lines:
            ln = raw.rstrip('\n')
            f = ln.split()
            if not f:
                continue
            try:
                self._parse(f, ln, last_inv, open_cs)
            except (IndexError, ValueError):
                self.bad_lines.append(ln)
        # Sections still open at the end: their client was killed inside.
        for cs in open_cs.values():
            self.sections[cs['res']].append(cs)

    def _parse(self, f, ln, last_inv, open_cs):
        k = f[0]
        if k == 'invoke':
            self.invokes.append((int(f[5]), f[1], f[2], f[3], f[4], ln))
            last_inv[(f[2], f[3])] = (int(f[5]), ln)
        elif k == 'got':
            t_inv, inv_ln = last_inv.get((f[1], 'uid'), (None, None))
            self.gots.append(dict(label=f[1], mb=f[2], uv=int(f[3]), uid=int(f[4]),
                                  epoch=int(f[5]), t=int(f[6]), t_inv=t_inv,
                                  line=ln, inv_line=inv_ln))
        elif k == 'commit':
            self.commits.append(ln)
        elif k == 'fail':
            self.fails.append((f[3], int(f[5]), f[1], ln))
        elif k == 'enter':
            prev = open_cs.pop(f[1], None)
            if prev is not None:
                self.sections[prev['res']].append(prev)
            open_cs[f[1]] = dict(label=f[1], res=f[2], read=int(f[3]), writer=f[4],
                                 t_enter=int(f[5]), enter=ln, t_exit=None,
                                 wrote=None, exit=None)
        elif k == 'exit':
            cs = open_cs.pop(f[1], None)
            if cs is None or cs['res'] != f[2]:
                self.bad_lines.append(ln)
                return
            cs.update(t_exit=int(f[4]), wrote=int(f[3]), exit=ln)
            self.sections[cs['res']].append(cs)
        elif k == 'nemesis' and f[1] == 'fault':
            self.faults.append((f[2], f[3], int(f[-1]), f[4] if len(f) > 5 else '', ln))
        elif k == 'nemesis' and f[1] == 'heal':
            self.heals.append((f[2], int(f[3]), ln))
        elif k == 'nemesis' and f[1] == 'restart':
            self.restarts.append((f[2], int(f[3]), ln))
        elif k == 'nemesis' and f[1] == 'fences':
            self.fences.append((f[2], int(f[3]), int(f[4]), ln))
        elif k == 'recover':
            self.recovers.append((f[1], float(f[2]), float(f[3]), f[4], ln))
        else:
            self.bad_lines.append(ln)


def parse(path):
    with open(path) as fh:
        return History(fh.readlines())


def check_realtime(h):
    """Per (mailbox, UIDVALIDITY): an allocation invoked after another one
    returned must get a higher UID.  Sweep the allocations by invoke time
    while adding the returned ones by return time."""
    out = []
    groups = defaultdict(list)
    for g in h.gots:
        groups[(g['mb'], g['uv'])].append(g)
    for key, gs in groups.items():
        by_ret = sorted(gs, key=lambda g: g['t'])
        by_inv = sorted((g for g in gs if g['t_inv'] is not None), key=lambda g: g['t_inv'])
        best = None
        i = 0
        for g2 in by_inv:
            while i < len(by_ret) and by_ret[i]['t'] < g2['t_inv']:
                if best is None or by_ret[i]['uid'] > best['uid']:
                    best = by_ret[i]
                i += 1
            if best is not None and best is not g2 and best['uid'] >= g2['uid']:
                out.append(('NOT ASCENDING IN REAL TIME in %s: UID %d invoked after UID %d '
                            'was returned' % (key[0], g2['uid'], best['uid']),
                            [best['line'], g2['inv_line'], g2['line']]))
    return out


def check_exclusion(h):
    """Recorded critical sections [enter, exit] lie inside the real ones
    (enter is stamped after the grant, exit before the unlock): two that
    overlap prove two EX holders at once.  An unfinished section counts
    from its enter on, as a point."""
    out = []
    for res, css in h.sections.items():
        ivs = sorted(css, key=lambda c: c['t_enter'])
        hold = None
        for c in ivs:
            if hold is not None and c['t_enter'] < hold['t_exit']:
                out.append(('TWO EX HOLDERS of %s at once' % res,
                            [hold['enter'], hold['exit'], c['enter']] +
                            ([c['exit']] if c['exit'] else [])))
            if c['t_exit'] is not None and (hold is None or c['t_exit'] > hold['t_exit']):
                hold = c
    return out


def check_counter(h, counter_file):
    """Every increment writes read + 1.  Values that landed: those of
    finished sections, plus an unfinished section's read + 1 when a later
    reader (or the final file) names it as the writer.  They must be
    exactly 1..final, each once: two sections writing the same value is a
    lost update."""
    out = []
    final = None
    final_writer = None
    if counter_file and os.path.exists(counter_file):
        with open(counter_file) as fh:
            p = fh.read().split()
        if len(p) >= 2:
            final, final_writer = int(p[0]), p[1]
    for res, css in h.sections.items():
        unfinished = {c['label']: c for c in css if c['exit'] is None}
        writes = defaultdict(list)
        for c in css:
            if c['exit'] is not None:
                if c['wrote'] != c['read'] + 1:
                    out.append(('COUNTER %s: wrote %d after reading %d' %
                                (res, c['wrote'], c['read']), [c['enter'], c['exit']]))
                writes[c['wrote']].append(c['exit'])
        readers = [(c['read'], c['writer'], c['enter']) for c in css]
        if res == 'counter' and final is not None:
            readers.append((final, final_writer, 'final counter file: %d %s' % (final, final_writer)))
        landed_unfinished = set()
        # (value, writer) of every finished section: one set lookup per
        # reader, not a scan of every section (quadratic: a 30-minute run
        # has tens of thousands of sections).
        finished = {(c['wrote'], c['label']) for c in css if c['exit']}
        for v, w, ln in readers:
            if w in unfinished and unfinished[w]['read'] + 1 == v:
                if w not in landed_unfinished:
                    writes[v].append(unfinished[w]['enter'] + '   (write landed, no exit line)')
                    landed_unfinished.add(w)
            elif v == 0 and w == 'init':
                pass
            elif (v, w) not in finished:
                out.append(('COUNTER %s: read %d from %s, which never wrote it' % (res, v, w), [ln]))
        for v, lns in sorted(writes.items()):
            if len(lns) > 1:
                out.append(('LOST UPDATE on %s: value %d written %d times' %
                            (res, v, len(lns)), lns))
        top = max(writes) if writes else 0
        if res == 'counter' and final is not None:
            top = max(top, final)
            if final != (max(writes) if writes else 0):
                out.append(('COUNTER %s: final value %d, highest value written %d' %
                            (res, final, max(writes) if writes else 0),
                            ['final counter file: %d %s' % (final, final_writer)]))
        missing = [v for v in range(1, top + 1) if v not in writes]
        if missing:
            out.append(('COUNTER %s: values never written: %s' %
                        (res, ' '.join(map(str, missing[:20]))), []))
    return out


def check_recovery(h):
    out = []
    for kind, secs, bound, verdict, ln in h.recovers:
        if verdict == 'ok' and secs <= bound:
            continue
        if kind == 'cut-off/handoff':
            out.append(('LOCK NOT HANDED OFF through the disk within %.1f s of the cut (%s)' %
                        (bound, verdict), [ln]))
        else:
            out.append(('NOT SERVING AGAIN within %.1f s after %s' % (bound, kind), [ln]))
    return out


def check_cut_off(h):
    """A node cut off the network, its disk kept, gives its wanted locks
    back through the disk (docs/design-handoff.md): nobody is fenced or
    reset for it.  Each cut-off fault, up to the next fault, must carry the
    driver's fence count, zero, and no node restart."""
    out = []
    faults = sorted(h.faults, key=lambda f: f[2])
    for i, (kind, nodes, t, detail, ln) in enumerate(faults):
        if kind != 'cut-off':
            continue
        t_end = faults[i + 1][2] if i + 1 < len(faults) else float('inf')
        counts = [c for c in h.fences if c[0] == kind and t <= c[2] < t_end]
        if not counts:
            out.append(('CUT-OFF NOT JUDGED: no fence count after the cut-off of node %s' %
                        nodes, [ln]))
        for _, n, _, cln in counts:
            if n:
                out.append(('FENCED during the cut-off of node %s: %d fence(s), pill(s), '
                            'self-fence(s) or restart(s) (the driver printed the log lines)' %
                            (nodes, n), [ln, cln]))
        for node, tr, rln in h.restarts:
            if t <= tr < t_end:
                out.append(('RESET during the cut-off of node %s: node %s restarted' %
                            (nodes, node), [ln, rln]))
    return out


def run_uidcheck(path, uidcheck, marks):
    args = [sys.executable, uidcheck, path] + ['--watermark=%s=%d' % (mb, n) for mb, n in marks.items()]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    return p.returncode, p.stdout


def summary(h, nviol, out):
    ops = OrderedDict()
    for t, node, label, op, target, ln in h.invokes:
        ops.setdefault(op, [0, 0, 0])[0] += 1
    for op, err, node, ln in h.fails:
        ops.setdefault(op, [0, 0, 0])[2] += 1
    ok = {'uid': len(h.gots), 'lock': sum(len(v) for v in h.sections.values())}
    out.append('%-14s %8s %8s %8s' % ('operation', 'invoked', 'ok', 'failed'))
    for op, (inv, _, failed) in ops.items():
        out.append('%-14s %8d %8s %8d' % (op, inv, ok.get(op, '-'), failed))
    errs = defaultdict(int)
    for op, err, node, ln in h.fails:
        errs['%s %d' % (op, err)] += 1
    if errs:
        out.append('failures by (operation, error): ' +
                   ', '.join('%s: %d' % kv for kv in sorted(errs.items())))
    out.append('')
    out.append('%-14s %6s %s' % ('fault', 'count', 'recovery s (bound s)'))
    kinds = OrderedDict()
    for kind, nodes, t, detail, ln in h.faults:
        kinds.setdefault(kind, [0, []])[0] += 1
    for kind, secs, bound, verdict, ln in h.recovers:
        kinds.setdefault(kind, [0, []])[1].append(
            '%.1f%s' % (secs, '' if verdict == 'ok' else '!') + '(%.0f)' % bound)
    for kind, (n, recs) in kinds.items():
        out.append('%-14s %6d %s' % (kind, n, ' '.join(recs)))
    out.append('node restarts: %d' % len(h.restarts))
    out.append('violations: %d' % nviol)


def check(path, marks, counter_file, uidcheck, table=True, quiet=False):
    """Returns (violation count, printed text)."""
    text = []
    h = parse(path)
    viol = []
    if uidcheck:
        rc, o = run_uidcheck(path, uidcheck, marks)
        text.append(o.rstrip('\n'))
        if rc != 0:
            viol.append(('uidcheck.py found violations (above)', []))
    viol += check_realtime(h)
    viol += check_exclusion(h)
    viol += check_counter(h, counter_file)
    viol += check_recovery(h)
    viol += check_cut_off(h)
    for ln in h.bad_lines:
        viol.append(('UNPARSABLE history line', [ln]))
    for msg, lns in viol:
        text.append('VIOLATION: ' + msg)
        for ln in lns:
            text.append('  ' + ln)
    if table:
        text.append('')
        summary(h, len(viol), text)
    if not quiet:
        print('\n'.join(text))
    return len(viol), '\n'.join(text)


# ---- self-test: the checker must catch what it claims to ------------------

def _hist(lines):
    fd, p = tempfile.mkstemp(prefix='nemesis-selftest-', dir=os.environ.get('SDLM_TEST_DIR', '.'))
    with os.fdopen(fd, 'w') as fh:
        fh.write('\n'.join(lines) + '\n')
    return p


def _uid_ops(label, node, mb, uid, t0, epoch=1):
    return ['invoke %s %s uid %s %d' % (node, label, mb, t0),
            'got %s %s 7 %d %d %d %s' % (label, mb, uid, epoch, t0 + 10, node),
            'commit %s %s 7 %d %d %d %s' % (label, mb, uid, uid, t0 + 20, node)]


def _cs(label, node, read, writer, t0, finish=True):
    ls = ['invoke %s %s lock counter %d' % (node, label, t0),
          'enter %s counter %d %s %d %s' % (label, read, writer, t0 + 10, node)]
    if finish:
        ls.append('exit %s counter %d %d %s' % (label, read + 1, t0 + 20, node))
    return ls


def selftest():
    cases = []
    good = (_uid_ops('a', '1', 'mb', 1, 100) + _uid_ops('b', '2', 'mb', 2, 200) +
            _cs('a', '1', 0, 'init', 300) + _cs('b', '2', 1, 'a', 400) +
            _cs('a', '1', 2, 'b', 500, finish=False) +     # killed, write lost
            _cs('b', '2', 2, 'b', 600) +
            ['fail 3 c lock counter -110 650',
             'nemesis fault kill 3 - 640', 'nemesis heal kill 700',
             'nemesis fault part-split 1 4s 720', 'nemesis restart 3 730',
             'recover kill 3.2 40 ok 710',
             'nemesis fault cut-off 2 cut1,wanted-by=1,26s 800',
             'recover cut-off/handoff 9.4 56 ok 810', 'nemesis heal cut-off 820',
             'recover cut-off 0.3 58 ok 830', 'recover cut-off/rejoin 2.1 58 ok 840',
             'nemesis fences cut-off 0 850'])
    cases.append(('clean history', good, 3, {'mb': 2}, None))
    landed = (_cs('a', '1', 0, 'init', 300) + _cs('b', '2', 1, 'a', 400, finish=False) +
              _cs('c', '3', 2, 'b', 500))                   # killed after its write
    cases.append(('unfinished section whose write landed', landed, 3, {}, None))
    dup = _uid_ops('a', '1', 'mb', 5, 100) + _uid_ops('b', '2', 'mb', 5, 200)
    cases.append(('duplicate UID', dup, 3, {}, 'uidcheck'))
    rt = (_uid_ops('a', '1', 'mb', 9, 100) +
          ['invoke 2 b uid mb 150', 'got b mb 7 8 1 400 2'])
    cases.append(('UID below one returned earlier', rt, 3, {}, 'REAL TIME'))
    wm = _uid_ops('a', '1', 'mb', 12, 100)
    cases.append(('UID above the watermark', wm, 3, {'mb': 10}, 'uidcheck'))
    ovl = (['enter a counter 0 init 100 1', 'enter b counter 0 init 150 2',
            'exit a counter 1 200 1', 'exit b counter 1 250 2'])
    cases.append(('two EX holders', ovl, 3, {}, 'TWO EX HOLDERS'))
    lost = _cs('a', '1', 0, 'init', 100) + _cs('b', '2', 0, 'init', 200)
    cases.append(('lost update without overlap', lost, 3, {}, 'LOST UPDATE'))
    rec = ['recover partition 50.0 30 ok 100']
    cases.append(('late recovery', rec, 3, {}, 'NOT SERVING'))
    rec2 = ['recover kill 1.0 30 timeout 100']
    cases.append(('failed recovery probe', rec2, 3, {}, 'NOT SERVING'))
    cut = 'nemesis fault cut-off 2 cut1,wanted-by=1,26s 100'
    cases.append(('lock not handed off', [cut, 'recover cut-off/handoff 9.4 56 no-handoff 110',
                                          'nemesis fences cut-off 0 150'], 3, {}, 'NOT HANDED OFF'))
    cases.append(('fenced during a cut-off', [cut, 'nemesis fences cut-off 1 150'], 3, {},
                  'FENCED during the cut-off'))
    cases.append(('reset during a cut-off', [cut, 'nemesis restart 2 140',
                                             'nemesis fences cut-off 0 150'], 3, {},
                  'RESET during the cut-off'))
    cases.append(('cut-off not judged', [cut, 'nemesis fault kill 3 - 200',
                                         'nemesis fences cut-off 0 250'], 3, {}, 'NOT JUDGED'))
    here = os.path.dirname(os.path.abspath(__file__))
    uidcheck = os.path.join(here, '..', 'cluster', 'uidcheck.py')
    failed = 0
    for name, lines, final, marks, want in cases:
        p = _hist(lines)
        cf = None
        if name == 'clean history':
            cf = p + '.ctr'
            with open(cf, 'w') as fh:
                fh.write('%020d %-42s\n' % (final, 'b'))
        try:
            n, text = check(p, marks, cf, uidcheck, table=False, quiet=True)
        finally:
            os.unlink(p)
            if cf:
                os.unlink(cf)
        ok = (n == 0) if want is None else (n > 0 and want in text)
        print('%s: checker selftest: %s' % ('PASS' if ok else 'FAIL', name))
        if not ok:
            print('\n'.join('  | ' + x for x in text.splitlines()))
            failed += 1
    return 1 if failed else 0


def main(argv):
    if argv[1:] == ['--selftest']:
        return selftest()
    marks = {}
    counter = None
    here = os.path.dirname(os.path.abspath(__file__))
    uidcheck = os.path.join(here, '..', 'cluster', 'uidcheck.py')
    path = None
    for a in argv[1:]:
        if a.startswith('--watermark='):
            mb, n = a.split('=', 1)[1].rsplit('=', 1)
            marks[mb] = int(n)
        elif a.startswith('--counter='):
            counter = a.split('=', 1)[1]
        elif a.startswith('--uidcheck='):
            uidcheck = a.split('=', 1)[1]
        elif a == '--table':
            pass
        elif path is None and not a.startswith('--'):
            path = a
        else:
            print(__doc__, file=sys.stderr)
            return 2
    if path is None:
        print(__doc__, file=sys.stderr)
        return 2
    n, _ = check(path, marks, counter, uidcheck)
    return 1 if n else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
