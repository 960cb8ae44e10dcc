#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The version of every node is visible from every node (issue 16, item 3):
# each heartbeat carries its writer's sdlm version (heartbeat minor 1), so
# node 1's `sdlmctl status` (text and --json), `nodes --json`, the
# sdlm_peer_build_info metric and the daemon-less `fence list` show node
# 2's version, read from node 2's slot.  A mixed-version cluster is marked
# MIXED: two more "nodes" are put on the disk by tests/fence/hbslot.py (an
# encoder written from docs/ondisk.md, not fence/ondisk.c): node 3 as an
# sdlm older than the field (minor 0: version "unknown"), node 4 as minor 1
# with another version.
. "$SDLM_SRCDIR/tests/lib.sh"
t_init versions
: "${SDLM_BUILDDIR:?}"
C="$SDLMCTL"
DISK="$TD/disk.img"
HBSLOT="$SDLM_SRCDIR/tests/fence/hbslot.py"
V=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$SDLM_BUILDDIR/config.h")
[ -n "$V" ] || { nok "PACKAGE_VERSION in $SDLM_BUILDDIR/config.h"; t_done; exit 1; }
OLDV="0.0.1-older"
[ "$V" != "$OLDV" ] || { nok "the test's other version equals the build's"; t_done; exit 1; }
$C fence init -d "$DISK" --cluster versions --nodes 5 --profile test >/dev/null || { nok "init"; t_done; exit 1; }
eval "$($C --json fence dump -d "$DISK" | python3 -c '
import json,sys; t=json.load(sys.stdin)["timeouts"]
print("I=%d L=%d" % (t["hb_interval_ms"], t["lease_ms"]))')"
# a slot written now is in every node's next read: within I (+ I/O)
SEE=$(( (2 * I + L) / 1000 + 10 ))

for i in 1 2; do node_start $i || nok "start node $i"; done

# status_json NODE PYTHON-ASSERTION: node NODE's status --json satisfies it
status_json() {
	local out
	out=$(ctl "$1" --json status) || return 1
	python3 -c '
import json,sys
s=json.loads(sys.argv[1]); v={n["node"]:n for n in s["node_versions"]}
V=sys.argv[2]; OLDV=sys.argv[3]
assert eval(sys.argv[4]), s' "$out" "$V" "$OLDV" "$2"
}
check "node 1 shows node 2's version, read from its slot ($V), not mixed" \
	wait_for "node 2's version on node 1" $SEE status_json 1 \
	'v[1]["version"]==V and v[2]["version"]==V and v[2]["name"]=="node2" and v[2]["running"] and not s["versions_mixed"]'
check "node 2 shows node 1's version" \
	wait_for "node 1's version on node 2" $SEE status_json 2 'v[1]["version"]==V and not s["versions_mixed"]'
check "status (text) lists both versions, no MIXED" \
	sh -c "'$C' --ipc '$T_RUN-n1' status | grep -E '^versions +1 $V, 2 $V\$'"
check "nodes --json carries node 2's version" \
	sh -c "'$C' --ipc '$T_RUN-n1' --json nodes | python3 -c '
import json,sys; n={x[\"node\"]:x for x in json.load(sys.stdin)[\"nodes\"]}; assert n[2][\"version\"]==sys.argv[1], n' '$V'"
check "sdlm_peer_build_info of node 2 on node 1" \
	sh -c "'$C' --ipc '$T_RUN-n1' stats --prometheus | grep -qx 'sdlm_peer_build_info{node=\"1\",peer=\"2\",version=\"$V\"} 1'"
check "fence list (no daemon asked) shows the version of each slot" \
	sh -c "'$C' --json fence list -d '$DISK' | python3 -c '
import json,sys; n={x[\"node\"]:x for x in json.load(sys.stdin)[\"nodes\"]}
assert n[1][\"version\"]==n[2][\"version\"]==sys.argv[1], n' '$V'"

# A mixed cluster: an sdlm older than the field on node 3, another version on node 4.
python3 "$HBSLOT" "$DISK" 3 --minor 0 --name old3 --counter 7 || nok "write slot 3"
python3 "$HBSLOT" "$DISK" 4 --minor 1 --version "$OLDV" --name older4 --counter 7 || nok "write slot 4"
check "node 1: node 3 (minor 0) unknown, node 4 $OLDV, MIXED" \
	wait_for "the mixed versions on node 1" $SEE status_json 1 \
	'v[3]["version"]=="unknown" and v[3]["name"]=="old3" and v[4]["version"]==OLDV and s["versions_mixed"]'
check "node 2 sees the mix too" \
	wait_for "the mixed versions on node 2" $SEE status_json 2 'v[4]["version"]==OLDV and s["versions_mixed"]'
check "status (text) says MIXED and lists every version" \
	sh -c "'$C' --ipc '$T_RUN-n1' status | grep -E '^versions +1 $V, 2 $V, 3 unknown, 4 $OLDV +MIXED'"
prom=$(ctl 1 stats --prometheus)
check "sdlm_peer_build_info: node 3 unknown" grep -qx 'sdlm_peer_build_info{node="1",peer="3",version="unknown"} 1' <<<"$prom"
check "sdlm_peer_build_info: node 4 $OLDV" grep -qx "sdlm_peer_build_info{node=\"1\",peer=\"4\",version=\"$OLDV\"} 1" <<<"$prom"
check "sdlm_peer_build_info is a gauge" grep -qx '# TYPE sdlm_peer_build_info gauge' <<<"$prom"
check "fence list: node 3 unknown, node 4 $OLDV" \
	sh -c "'$C' fence list -d '$DISK' | grep -E '^ +3 +old3 .* unknown ' && '$C' fence list -d '$DISK' | grep -E '^ +4 +older4 .* $OLDV '"

# A node that left cleanly is listed with the version it ran, and is no
# longer part of the mix.
python3 "$HBSLOT" "$DISK" 3 --minor 1 --version "$V" --name old3 --counter 8 || nok "rewrite slot 3"
python3 "$HBSLOT" "$DISK" 4 --minor 1 --version "$OLDV" --name older4 --counter 8 --state free || nok "free slot 4"
check "node 1: node 4 left cleanly: listed, not running, not mixed" \
	wait_for "the mix resolved on node 1" $SEE status_json 1 \
	'v[3]["version"]==V and v[4]["version"]==OLDV and not v[4]["running"] and not s["versions_mixed"]'
check "status (text) marks the stopped node" \
	sh -c "'$C' --ipc '$T_RUN-n1' status | grep -E '^versions .* 4 $OLDV \\(not running\\)\$'"
t_done
