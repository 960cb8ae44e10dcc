#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""recovery.py - the table of `tests/bench recovery` (issue 19 item 4).

    recovery.py OUT_DIR

Reads what tests/bench wrote into OUT_DIR:

  recovery.tsv         one sample a line: figure, nodes, round, seconds
                       (or "failed"), corosync's detection (s), when node 1
                       asked through the disk (s, cut only), the load
                       (1 5 15 min), nodes fenced, nodes reset, note
  recovery-params.tsv  per cluster: nodes, I, T, W, L, D, M, grace (ms)
  sbd.ms               sbd's `message NODE reset`, ms, one a line (may be
                       missing: sbd not installed)

and prints a markdown table: per figure and node count the samples' min /
median / max, the median of corosync's detection and of what followed it
(the sdlm part), the expected value from the profile, the load range and
who was fenced or reset; then the anchor (DLM + sbd) computed from two
measured parts: this run's detection and sbd's measured msgwait.  A
benchmark's table: it judges nothing.
"""
import os
import statistics
import sys

FIGURES = [
    ('cut-cached', 'holder cut off the network, lock cached (no client)'),
    ('cut-yield', 'holder cut off the network, a client that lets go on its bast'),
    ('cut-stuck', 'holder cut off the network, a client that never lets go (killed after K)'),
    ('kill', 'holder killed (kill -9 of the whole node)'),
]


def num(v):
    try:
        return float(v)
    except ValueError:
        return None


def fmt(v):
    return '-' if v is None else '%.2f' % v


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def main():
    out = sys.argv[1]
    samples = []
    with open(os.path.join(out, 'recovery.tsv')) as f:
        for line in f:
            p = line.rstrip('\n').split('\t')
            if len(p) >= 10:
                samples.append(p)
    params = {}
    pf = os.path.join(out, 'recovery-params.tsv')
    if os.path.exists(pf):
        for line in open(pf):
            p = [int(x) for x in line.split()]
            params[p[0]] = dict(I=p[1], T=p[2], W=p[3], L=p[4], D=p[5], M=p[6], grace=p[7])
    sbd = []
    sf = os.path.join(out, 'sbd.ms')
    if os.path.exists(sf):
        sbd = [int(x) / 1000 for x in open(sf).read().split()]

    print('| figure | nodes | samples | min | median | max | corosync detection, median (min–max) '
          '| after detection, median | expected (profile) | load at t0, 1 min (min–max) | fenced | reset |')
    print('|---|---|---|---|---|---|---|---|---|---|---|---|')
    det_med = {}
    for key, label in FIGURES:
        for n in sorted({int(s[1]) for s in samples if s[0] == key}):
            rows = [s for s in samples if s[0] == key and int(s[1]) == n]
            vals = [num(s[3]) for s in rows]
            ok = sorted(v for v in vals if v is not None)
            dets = [num(s[4]) for s in rows]
            det_med[(key, n)] = med(dets)
            after = [v - d for v, d in zip(vals, dets) if v is not None and d is not None]
            loads = [float(s[6].split()[0]) for s in rows]
            failed = len(vals) - len(ok)
            pr = params.get(n)
            exp = '-'
            if pr:
                i, m, d, l = pr['I'], pr['M'], pr['D'], pr['L']
                if key == 'kill':
                    exp = 'design: ≈ max(D + I, M + I) = %.1f s' % (max(d + i, m + i) / 1000)
                elif key == 'cut-stuck':
                    exp = 'goal: ≤ M + K + 2I = %.1f s (K = L)' % ((m + l + 2 * i) / 1000)
                else:
                    exp = 'goal: ≤ M + 2I = %.1f s' % ((m + 2 * i) / 1000)
            fenced = sorted({s[7] for s in rows})
            reset = sorted({s[8] for s in rows})
            print('| %s | %d | %d%s | %s | %s | %s | %s (%s–%s) | %s | %s | %.1f–%.1f | %s | %s |' % (
                label, n, len(ok), ', %d failed' % failed if failed else '',
                fmt(ok[0] if ok else None), fmt(med(ok)), fmt(ok[-1] if ok else None),
                fmt(med(dets)), fmt(min((x for x in dets if x is not None), default=None)),
                fmt(max((x for x in dets if x is not None), default=None)),
                fmt(med(after)), exp, min(loads), max(loads),
                '; '.join(fenced), '; '.join(reset)))
    if sbd:
        ms = statistics.median(sbd)
        print()
        print('sbd 1.5 `message NODE reset` (msgwait 10 s, watchdog 5 s): %d runs, min %.2f s, '
              'median %.2f s, max %.2f s.' % (len(sbd), min(sbd), ms, max(sbd)))
        print()
        print('| anchor: DLM + sbd, same scenario | nodes | corosync detection (measured here, median) '
              '| + msgwait (measured, median) | = computed | holder |')
        print('|---|---|---|---|---|---|')
        for key, label in (('cut-cached', 'holder cut off the network'), ('kill', 'holder killed')):
            for n in sorted({k[1] for k in det_med if k[0] == key}):
                d = det_med[(key, n)]
                if d is None:
                    continue
                print('| %s | %d | %.2f s | %.2f s | %.2f s | reset (sbd has no acknowledgement) |' % (
                    label, n, d, ms, d + ms))
    print()
    for n, pr in sorted(params.items()):
        print('%d nodes: I = %d ms, T = %d ms, W = %d ms, L = K = %d ms, D = %d ms, '
              'M = %d ms (token + consensus as sdlmd read them), grace %d ms' % (
                  n, pr['I'], pr['T'], pr['W'], pr['L'], pr['D'], pr['M'], pr['grace']))


if __name__ == '__main__':
    main()
