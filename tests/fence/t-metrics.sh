#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Metrics an operator alerts on (issue 16, item 6): two real disk-only
# sdlmd; `sdlmctl stats --prometheus` of node 1 is parsed as Prometheus
# text and checked:
#   - every sample belongs to a family with a # TYPE line;
#   - the gauges fenced-safe, corosync, quorate, lease age, degraded,
#     per-peer liveness and build info are there with the right values;
#   - the lock grant and UID allocation latencies are histograms in
#     seconds: _bucket with ascending le, cumulative counts, the last
#     le="+Inf" equal to _count, and a _sum.
# The latencies are observed only with corosync: tests/cluster/t-locks.sh
# and t-uid.sh check that every grant / allocation lands in its histogram.
. "$SDLM_SRCDIR/tests/lib.sh"
t_init metrics
C="$SDLMCTL"
DISK="$TD/disk.img"
$C fence init -d "$DISK" --cluster metrics --nodes 4 --profile test >/dev/null || { nok "init"; t_done; exit 1; }
eval "$($C --json fence dump -d "$DISK" | python3 -c '
import json,sys; t=json.load(sys.stdin)["timeouts"]
print("I=%d T=%d L=%d" % (t["hb_interval_ms"], t["io_timeout_ms"], t["lease_ms"]))')"
safe() { ctl "$1" status 2>/dev/null | grep -q fenced-safe; }
node_start 1 || nok "start node 1"
node_start 2 || nok "start node 2"
check "node 1 fenced-safe" wait_for "node 1 fenced-safe" $(( (L + 4 * I) / 1000 + 30 )) safe 1
check "node 2 fenced-safe" wait_for "node 2 fenced-safe" $(( (L + 4 * I) / 1000 + 30 )) safe 2
peer_live() { ctl 1 stats --prometheus | grep -q '^sdlm_peer_alive{node="1",peer="2"} 1$'; }
check "node 1 sees node 2 alive (sdlm_peer_alive)" wait_for "peer 2 alive" $(( (L + 4 * I) / 1000 + 30 )) peer_live

ctl 1 stats --prometheus >"$TD/metrics.txt" 2>"$TD/metrics.err"
check "sdlmctl stats --prometheus succeeds" test -s "$TD/metrics.txt"
python3 - "$TD/metrics.txt" "$L" >"$TD/check.out" 2>&1 <<'PY'
import math, re, sys
text = open(sys.argv[1]).read()
lease_s = int(sys.argv[2]) / 1000.0
types, samples, bad = {}, [], []
for line in text.splitlines():
    if line.startswith('# TYPE '):
        _, _, name, typ = line.split(None, 3)
        types[name] = typ
    elif line.startswith('#') or not line.strip():
        continue
    else:
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$', line)
        if not m:
            bad.append('unparsable: ' + line); continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(3) or ''))
        samples.append((m.group(1), labels, float(m.group(4))))
def family(name):
    for suf in ('_bucket', '_sum', '_count'):
        if name.endswith(suf) and types.get(name[:-len(suf)]) == 'histogram':
            return name[:-len(suf)]
    return name
for n, l, v in samples:
    if family(n) not in types:
        bad.append('no # TYPE for ' + n)
def val(name, **lab):
    vs = [v for n, l, v in samples if n == name and all(l.get(k) == w for k, w in lab.items())]
    return vs[0] if len(vs) == 1 else None
want = {'sdlm_build_info': 'gauge', 'sdlm_fenced_safe': 'gauge', 'sdlm_corosync': 'gauge',
        'sdlm_quorate': 'gauge', 'sdlm_lease_age_seconds': 'gauge', 'sdlm_degraded': 'gauge',
        'sdlm_peer_alive': 'gauge', 'sdlm_lock_grant_latency_seconds': 'histogram',
        'sdlm_uid_alloc_latency_seconds': 'histogram'}
for n, t in want.items():
    if types.get(n) != t:
        bad.append('%s: type %s, want %s' % (n, types.get(n), t))
if val('sdlm_fenced_safe', node='1') != 1: bad.append('sdlm_fenced_safe is not 1')
if val('sdlm_corosync', node='1') != 0: bad.append('sdlm_corosync is not 0 (disk-only)')
if val('sdlm_quorate', node='1') != 0: bad.append('sdlm_quorate is not 0 (disk-only)')
if val('sdlm_degraded', node='1') != 0: bad.append('sdlm_degraded is not 0')
a = val('sdlm_lease_age_seconds', node='1')
if a is None or not (0 <= a <= lease_s): bad.append('lease age %r not in [0, %g]' % (a, lease_s))
if val('sdlm_peer_alive', node='1', peer='2') != 1: bad.append('peer 2 not alive')
if val('sdlm_peer_alive', node='1', peer='3') is not None: bad.append('a never-used slot reported')
bi = [l for n, l, v in samples if n == 'sdlm_build_info' and v == 1]
if not bi or not bi[0].get('version'): bad.append('sdlm_build_info without version')
for h in ('sdlm_lock_grant_latency_seconds', 'sdlm_uid_alloc_latency_seconds'):
    bk = [(l['le'], v) for n, l, v in samples if n == h + '_bucket']
    les = [float(le) for le, v in bk]
    if not bk or bk[-1][0] != '+Inf': bad.append(h + ': last bucket is not le="+Inf"'); continue
    if les != sorted(les) or len(set(les)) != len(les): bad.append(h + ': le not ascending')
    cs = [v for le, v in bk]
    if cs != sorted(cs): bad.append(h + ': buckets not cumulative')
    cnt, s = val(h + '_count', node='1'), val(h + '_sum', node='1')
    if cnt is None or cnt != cs[-1]: bad.append(h + ': +Inf %r != _count %r' % (cs[-1], cnt))
    if s is None or s < 0: bad.append(h + ': no _sum')
    if les[0] > 0.01 or les[-2] < 1: bad.append(h + ': buckets not in seconds (%r .. %r)' % (les[0], les[-2]))
print('\n'.join(bad) if bad else 'all good: %d samples, %d families' % (len(samples), len(types)))
sys.exit(1 if bad else 0)
PY
rc=$?
cat "$TD/check.out"
check "the metrics parse, with types, gauges and histograms as documented" test "$rc" = 0
t_done
