#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""tests/bench scale's report: the per-request logs of a run -> the table,
the latency-over-time data and its plot.  Prints numbers; asserts nothing
about speed.  Exit 0 when the report was written, 1 when the run's
directory lacks what tests/bench scale writes.

  scale.py DIR --nodes N [--loss-rate P]

DIR (tests/bench scale writes it) holds:
  phases            "start NS", "loss NS", "heal NS", "end NS" (CLOCK_MONOTONIC),
                    "uidcheck RC"
  req.n<I>.<stream> uidbench --stream lines:
                    "<stream> <node> <due_ns> <start_ns> <end_ns> <rc> <mailbox>"
  cpgrtt-<phase>.out, cpgoneway-<phase>.out   cpgrtt's summary lines
  corosync.n1.log   node 1's corosync log (ring changes)
  sdlmd.n<I>.log    every sdlmd's log (fences)
  wall-minus-mono   CLOCK_REALTIME - CLOCK_MONOTONIC in ns (log timestamps)
  uidcheck.out, not-safe-at-end (optional)

Definitions (docs/performance.md, "Sixteen nodes"):
  phase of a request   for latency (end - start): "loss" if the request
                       was in flight at any moment of the loss, else the
                       phase it started in (so are failures); for
                       offered, served, unfinished and "from due": the
                       phase its due time falls in
  cached served        a cached request that succeeded within 1 s of its
                       due time; offered = requests due in the phase
  latency              end - start of one alloc+commit (new, shared);
                       "from due": end - due, with the wait behind the
                       node's previous request of the stream
  unfinished           due in the phase but never logged (still running
                       when the run gave up on it)
  back to clean        after the heal, the end of the last request of any
                       stream that failed or took more than twice its
                       stream's clean p99 (end - start), minus the heal

Writes DIR/table.md (and prints it), DIR/summary.json (the counts per
phase, for tests/cluster/t-scale.sh), DIR/scale-latency.dat
("t_s stream node latency_ms rc", t from the start of the clean phase)
and DIR/scale.svg (the plot; no gnuplot needed).
"""
import glob
import json
import math
import os
import re
import sys
import time

PHASES = ('clean', 'loss', 'healed')
STREAMS = ('cached', 'new', 'shared')
RATE = {'cached': 20.0, 'new': 0.5, 'shared': 0.5}


def pct(v, q):
    """Nearest rank, as tests/bench.d/stats.c."""
    if not v:
        return None
    v = sorted(v)
    r = max(1, math.ceil(len(v) * q / 100))
    return v[r - 1]


def ms(x):
    if x is None:
        return '-'
    if x >= 10000:
        return '%.1f s' % (x / 1000)
    if x >= 1000:
        return '%.2f s' % (x / 1000)
    if x >= 10:
        return '%.0f ms' % x
    return '%.1f ms' % x


def field(line, key):
    f = line.split()
    for i in range(len(f) - 1):
        if f[i] == key:
            return f[i + 1]
    return None


def log_ts(s, year, w2m):
    """'Dec 07 03:20:01[.123]' (wall) -> CLOCK_MONOTONIC ns."""
    m = re.match(r'^([A-Z][a-z]{2}) +(\d+) (\d\d):(\d\d):(\d\d)(\.\d+)?', s)
    if not m:
        return None
    t = time.strptime('%d %s %s %s:%s:%s' % (year, m.group(1), m.group(2), m.group(3),
                                             m.group(4), m.group(5)), '%Y %b %d %H:%M:%S')
    wall = time.mktime(t) + (float(m.group(6)) if m.group(6) else 0.0)
    return int(wall * 1e9) - w2m


def main():
    a = sys.argv[1:]
    if not a or a[0].startswith('-'):
        print(__doc__, file=sys.stderr)
        return 1
    d = a[0]
    nodes = int(a[a.index('--nodes') + 1]) if '--nodes' in a else 0
    rate = a[a.index('--loss-rate') + 1] if '--loss-rate' in a else '2%'
    ph = {}
    try:
        for ln in open(os.path.join(d, 'phases')):
            k, v = ln.split()
            ph[k] = int(v)
        w2m = int(open(os.path.join(d, 'wall-minus-mono')).read())
    except (OSError, ValueError) as e:
        print('scale.py: %s: %s (run tests/bench scale first)' % (d, e), file=sys.stderr)
        return 1
    bounds = {'clean': (ph['start'], ph['loss']), 'loss': (ph['loss'], ph['heal']),
              'healed': (ph['heal'], ph['end'])}
    at = ph['start']

    def phase_of(t):
        for p in PHASES:
            if bounds[p][0] <= t < bounds[p][1]:
                return p
        return None

    reqs = []
    for f in sorted(glob.glob(os.path.join(d, 'req.n*.*'))):
        for ln in open(f):
            x = ln.split()
            if len(x) != 7:
                continue
            reqs.append((x[0], int(x[1]), int(x[2]), int(x[3]), int(x[4]), int(x[5]), x[6]))
    if not reqs:
        print('scale.py: no request logs in %s' % d, file=sys.stderr)
        return 1
    if not nodes:
        nodes = len(set(r[1] for r in reqs))

    # Slots due per phase and stream (uidbench: due = at + k / rate).
    def due_slots(stream, p):
        step = 1e9 / RATE[stream]
        lo, hi = bounds[p]
        k0 = max(0, math.ceil((lo - at) / step))
        k1 = math.ceil((hi - at) / step)
        return max(0, k1 - k0) * nodes

    st = {p: {s: {'lat': [], 'due': [], 'n': 0, 'fail': 0, 'served': 0} for s in STREAMS}
          for p in PHASES}
    lo_loss, hi_loss = bounds['loss']

    def phase_run(t0, t1):
        """The phase a request ran in: loss if it was in flight at any
        moment of the loss, else the phase it started in."""
        if t0 < hi_loss and t1 >= lo_loss:
            return 'loss'
        return phase_of(t0)

    for s, node, due, t0, t1, rc, mb in reqs:
        p = phase_of(due)
        if p is not None:
            e = st[p][s]
            e['n'] += 1
            if not rc:
                e['due'].append((t1 - due) / 1e6)
                if s == 'cached' and t1 - due <= 1e9:
                    e['served'] += 1
        p = phase_run(t0, t1)
        if p is not None and rc:
            st[p][s]['fail'] += 1
        elif p is not None:
            st[p][s]['lat'].append((t1 - t0) / 1e6)

    # Ring changes (node 1's corosync) and fences (every sdlmd), by phase.
    year = time.localtime((at + w2m) / 1e9).tm_year
    rings = {p: 0 for p in PHASES}
    try:
        for ln in open(os.path.join(d, 'corosync.n1.log'), errors='replace'):
            if 'A new membership' in ln:
                t = log_ts(ln, year, w2m)
                p = phase_of(t) if t is not None else None
                if p:
                    rings[p] += 1
    except OSError:
        pass
    fenced = {p: set() for p in PHASES}
    fenced_any = set()
    for f in glob.glob(os.path.join(d, 'sdlmd.n*.log')):
        for ln in open(f, errors='replace'):
            m = re.search(r'fence node (\d+): fenced \(', ln)
            if m:
                fenced_any.add(m.group(1))
                t = log_ts(ln, year, w2m)
                # second resolution: a fence in the second of a boundary
                # counts in the later phase
                p = phase_of(t + 999999999) if t is not None else None
                if p:
                    fenced[p].add(m.group(1))

    rtt = {}
    for p in PHASES:
        r = {}
        for kind in ('cpgrtt', 'cpgoneway'):
            try:
                line = [x for x in open(os.path.join(d, '%s-%s.out' % (kind, p)))
                        if x.startswith(kind + ' ')]
            except OSError:
                line = []
            r[kind] = line[0] if line else ''
        rtt[p] = r

    # Back to clean after the heal.
    clean_p99 = {}
    for s in STREAMS:
        clean_p99[s] = pct(st['clean'][s]['lat'], 99)
    heal = ph['heal']
    last_bad = None
    slow_after = 0
    for s, node, due, t0, t1, rc, mb in reqs:
        if t1 < heal or clean_p99[s] is None:
            continue
        lat = (t1 - t0) / 1e6
        if rc or lat > 2 * clean_p99[s]:
            if due >= heal:
                slow_after += 1
            last_bad = t1 if last_bad is None else max(last_bad, t1)
    back = 0.0 if last_bad is None else (last_bad - heal) / 1e9

    # The table.
    out = []
    out.append('| phase | length | cached served / offered | new mailbox p50 / p99 / max (n) | '
               'shared mailbox p50 / p99 / max (n) | failed | unfinished | ring changes | '
               'nodes fenced | raw CPG round trip n1↔n2 p50 / p99 / max (n) |')
    out.append('|---|---|---|---|---|---|---|---|---|---|')
    for p in PHASES:
        lo, hi = bounds[p]
        c = st[p]['cached']
        off = c['n']
        cells = ['%s%s' % (p, ' (%s on every node)' % rate if p == 'loss' else ''),
                 '%.0f s' % ((hi - lo) / 1e9),
                 '%.3f (%d / %d); one request p50 / p99 %s / %s' % (
                     c['served'] / off if off else 0, c['served'], off,
                     ms(pct(c['lat'], 50)), ms(pct(c['lat'], 99)))]
        for s in ('new', 'shared'):
            v, w = st[p][s]['lat'], st[p][s]['due']
            cells.append('%s / %s / %s (%d); from due: %s / %s' % (
                ms(pct(v, 50)), ms(pct(v, 99)), ms(max(v) if v else None), len(v),
                ms(pct(w, 50)), ms(pct(w, 99))))
        fails = sum(st[p][s]['fail'] for s in STREAMS)
        unfin = sum(max(0, due_slots(s, p) - st[p][s]['n']) for s in STREAMS)
        cells += [str(fails), str(unfin), str(rings[p]), str(len(fenced[p]))]
        r = rtt[p]['cpgrtt']
        if r:
            pend = float(field(r, 'pending_us') or 0)
            cells.append('%s / %s / %s (%s%s)' % (
                ms(float(field(r, 'p50_us')) / 1000), ms(float(field(r, 'p99_us')) / 1000),
                ms(float(field(r, 'max_us')) / 1000), field(r, 'samples'),
                '; 1 still in flight after %s' % ms(pend / 1000) if pend else ''))
        else:
            cells.append('not measured')
        out.append('| ' + ' | '.join(cells) + ' |')
    out.append('')
    uc = ph.get('uidcheck')
    try:
        ucl = open(os.path.join(d, 'uidcheck.out')).read().strip().splitlines()[-1]
    except (OSError, IndexError):
        ucl = 'uidcheck: no output'
    out.append('UIDs: %s (exit %s): %s' % (ucl, uc, 'no UID handed out twice' if uc == 0
                                           else 'VIOLATION, see uidcheck.out'))
    out.append('back to clean after the heal: %.1f s (the last request that failed or took '
               'more than 2 × its stream\'s clean p99 — cached %s, new %s, shared %s — ended '
               'then; %d such requests were due after the heal)' % (
                   back, ms(clean_p99['cached']), ms(clean_p99['new']),
                   ms(clean_p99['shared']), slow_after))
    ns = ''
    try:
        ns = open(os.path.join(d, 'not-safe-at-end')).read().split('\n')
        ns = ', '.join(x for x in ns if x)
    except OSError:
        pass
    out.append('nodes fenced during the run: %s; not fenced-safe at the end: %s' % (
        ', '.join(sorted(fenced_any, key=int)) or 'none', ns or 'none'))
    for p in PHASES:
        r = rtt[p]['cpgoneway']
        if r:
            out.append('raw CPG one way n1→n2, %s: p50 %s, p99 %s (%s samples)' % (
                p, ms(float(field(r, 'p50_us')) / 1000), ms(float(field(r, 'p99_us')) / 1000),
                field(r, 'samples')))
    out.append('%d nodes; per node 20 cached UIDs/s over 10 own mailboxes, a new mailbox '
               'every 2 s, the shared mailbox every 2 s; %d requests logged' % (nodes, len(reqs)))
    text = '\n'.join(out) + '\n'
    open(os.path.join(d, 'table.md'), 'w').write(text)
    summary = {'nodes': nodes, 'uidcheck': uc, 'back_to_clean_s': back,
               'fenced': sorted(fenced_any, key=int), 'not_safe_at_end': ns or '',
               'phases': {}}
    for p in PHASES:
        summary['phases'][p] = {
            'secs': (bounds[p][1] - bounds[p][0]) / 1e9,
            'requests': sum(st[p][s]['n'] for s in STREAMS),
            'failed': sum(st[p][s]['fail'] for s in STREAMS),
            'unfinished': sum(max(0, due_slots(s, p) - st[p][s]['n']) for s in STREAMS),
            'cached_offered': st[p]['cached']['n'], 'cached_served': st[p]['cached']['served'],
            'ring_changes': rings[p], 'fenced': len(fenced[p])}
    with open(os.path.join(d, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=1)
    sys.stdout.write(text)

    # Latency over time: data file and SVG plot.
    with open(os.path.join(d, 'scale-latency.dat'), 'w') as f:
        f.write('# t_s stream node latency_ms rc (t = start - start of the clean phase;'
                ' latency = end - start)\n')
        for s, node, due, t0, t1, rc, mb in sorted(reqs, key=lambda r: r[3]):
            f.write('%.3f %s %d %.3f %d\n' % ((t0 - at) / 1e9, s, node, (t1 - t0) / 1e6, rc))
    svg(d, reqs, at, bounds, rate, nodes)
    return 0


def svg(d, reqs, at, bounds, rate, nodes):
    W, H, L, R, T, B = 900, 420, 70, 20, 30, 50
    tmax = max((r[4] - at) / 1e9 for r in reqs)
    tmax = max(tmax, (bounds['healed'][1] - at) / 1e9)
    lats = [max(0.1, (r[4] - r[3]) / 1e6) for r in reqs]
    ymin, ymax = 0.1, max(1000.0, max(lats) * 1.5)
    ly0, ly1 = math.log10(ymin), math.log10(ymax)

    def X(t):
        return L + (W - L - R) * t / tmax

    def Y(v):
        return T + (H - T - B) * (1 - (math.log10(max(v, ymin)) - ly0) / (ly1 - ly0))

    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
         'font-family="sans-serif" font-size="11">' % (W, H),
         '<rect width="100%" height="100%" fill="white"/>']
    lo, hi = bounds['loss']
    o.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="#fde2e2"/>' % (
        X((lo - at) / 1e9), T, X((hi - at) / 1e9) - X((lo - at) / 1e9), H - T - B))
    o.append('<text x="%.1f" y="%d" fill="#a00">%s loss</text>' % (X((lo - at) / 1e9) + 4, T + 12, rate))
    e = ly0
    while e <= ly1 + 1e-9:
        v = 10 ** e
        o.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (L, W - R, Y(v), Y(v)))
        o.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (L - 4, Y(v) + 4,
                 ('%g ms' % v) if v < 1000 else ('%g s' % (v / 1000))))
        e += 1
    step = 30 if tmax > 120 else 10
    t = 0
    while t <= tmax:
        o.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#eee"/>' % (X(t), X(t), T, H - B))
        o.append('<text x="%.1f" y="%d" text-anchor="middle">%d</text>' % (X(t), H - B + 15, t))
        t += step
    o.append('<text x="%d" y="%d" text-anchor="middle">time since the start of the clean phase (s),'
             ' by request start</text>' % ((L + W - R) // 2, H - 12))
    o.append('<text x="14" y="%d" transform="rotate(-90 14 %d)" text-anchor="middle">'
             'latency of one alloc+commit (log)</text>' % ((T + H - B) // 2, (T + H - B) // 2))
    # cached: the slowest request of each second, as a line
    mx = {}
    for s, node, due, t0, t1, rc, mb in reqs:
        if s == 'cached':
            k = int((t0 - at) / 1e9)
            mx[k] = max(mx.get(k, 0), (t1 - t0) / 1e6)
    pts = ' '.join('%.1f,%.1f' % (X(k + 0.5), Y(v)) for k, v in sorted(mx.items()))
    o.append('<polyline fill="none" stroke="#888" stroke-width="1" points="%s"/>' % pts)
    col = {'new': '#1f5fbf', 'shared': '#d2691e'}
    for s, node, due, t0, t1, rc, mb in reqs:
        if s == 'cached':
            continue
        x, y = X((t0 - at) / 1e9), Y((t1 - t0) / 1e6)
        if rc:
            o.append('<text x="%.1f" y="%.1f" fill="black" text-anchor="middle">×</text>' % (x, y + 4))
        else:
            o.append('<circle cx="%.1f" cy="%.1f" r="1.8" fill="%s" fill-opacity="0.6"/>' % (x, y, col[s]))
    lx = L + 10
    for label, c in (('new mailbox', col['new']), ('shared mailbox', col['shared']),
                     ('cached: slowest per second', '#888'), ('failed', 'black')):
        o.append('<rect x="%d" y="%d" width="10" height="10" fill="%s"/>' % (lx, 8, c))
        o.append('<text x="%d" y="%d">%s</text>' % (lx + 14, 17, label))
        lx += 40 + 7 * len(label)
    o.append('<text x="%d" y="%d" text-anchor="end">%d nodes</text>' % (W - R, 17, nodes))
    o.append('</svg>')
    open(os.path.join(d, 'scale.svg'), 'w').write('\n'.join(o) + '\n')


if __name__ == '__main__':
    sys.exit(main())
