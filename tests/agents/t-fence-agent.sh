#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# fence_sdlm against a live three-node cluster.  Real corosync in network
# namespaces (tests/cluster/lib.sh), sdlmd on each node with its test
# watchdog, one file-backed shared disk:
#   - metadata: valid against fence-agents' metadata.rng, accepted by
#     stonith_admin --metadata; stonith_admin --validate accepts the
#     device options and rejects their absence; validate-all;
#   - list shows the three node names; status of node 3 is ON (exit 0);
#   - "action=off nodename=node3 devices=DISK" on stdin fences the live
#     node 3: exit 0 "Success: Powered OFF"; node 3's watchdog kills every
#     process of the node; nodes 1 and 2 see it fenced through their own
#     namespace (sdlmctl fence status exit 2, sdlmctl nodes); status OFF
#     (exit 2); off again "Success: Already OFF";
#   - an unknown node is a failure (exit 1); "on" clears the pill.
# Needs root, corosync, fence-agents (metadata.rng), pacemaker-cli-utils
# (stonith_admin), libxml2-utils, python3.  Exit 77 (skip) when missing.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SDLM_SRCDIR:=$(cd "$here/../.." && pwd)}"
. "$SDLM_SRCDIR/tests/cluster/lib.sh"
. "$SDLM_SRCDIR/tests/cluster/sdlm.sh"

rng=/usr/share/cluster/relaxng/metadata.rng
for t in stonith_admin xmllint python3; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing (pacemaker-cli-utils, libxml2-utils, python3)"; exit 77; }
done
[ -f "$rng" ] || { echo "SKIP: $rng missing (fence-agents)"; exit 77; }

. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"

agent=${SDLM_FENCE_AGENT:-$SDLM_SRCDIR/agents/fence_sdlm}
# stonith_admin runs agents from /usr/sbin only: a symlink while the test
# runs, never over an installed fence_sdlm.
. "$SDLM_SRCDIR/tests/agents/fence-link.sh"
cleanup() {
	fence_link_drop
	cl_teardown
}
trap cleanup EXIT

# fence ACTION [KEY=VALUE...]: the agent the way Pacemaker runs it (no
# argv, name=value lines on stdin); stdout in $out, stderr in $err.
fence() {
	local action=$1 kv
	shift
	{
		echo "action=$action"
		echo "devices=$SD_DISK"
		echo "sdlmctl_path=$SDLMCTL"
		for kv in "$@"; do echo "$kv"; done
	} >"$CL_DIR/fence.in"
	"$agent" <"$CL_DIR/fence.in" >"$CL_DIR/fence.out" 2>"$CL_DIR/fence.err"
	frc=$?
	out=$(cat "$CL_DIR/fence.out")
	err=$(cat "$CL_DIR/fence.err")
	echo "  fence_sdlm $action $*: exit $frc: $out ${err:+(stderr: $err)}"
}

require "create 3 nodes" cl_create 3
require "shared disk" sd_disk test
sd_timeouts
require "corosync on all nodes" cl_start_all
for i in 1 2 3; do require "node $i quorate" cl_wait_quorate "$i" 90; done
for i in 1 2 3; do require "sdlmd on node $i" sd_start "$i"; done
for i in 1 2 3; do
	check "node $i fenced-safe" cl_wait_for "node $i safe" 60 sd_status_has "$i" "fenced-safe"
done

# Metadata and validation.
check "metadata valid against metadata.rng" \
	bash -c '"$1" -o metadata | xmllint --noout --relaxng "$2" -' _ "$agent" "$rng"
if fence_link_take "$agent"; then
	check "stonith_admin --metadata accepts it" \
		bash -c 'stonith_admin --metadata -a fence_sdlm | grep -q "<parameter name=\"devices\""'
	check "stonith_admin --validate accepts devices" \
		bash -c 'stonith_admin --validate -a fence_sdlm -o "devices=$1" -o "sdlmctl_path=$2" |
			grep -q "Validation of fence_sdlm succeeded"' _ "$SD_DISK" "$SDLMCTL"
	check "stonith_admin --validate rejects a missing devices option" \
		bash -c '! stonith_admin --validate -a fence_sdlm -o "sdlmctl_path=$1" >/dev/null 2>&1' _ "$SDLMCTL"
	fence_link_drop
else
	check "$FENCE_LINK runs this fence_sdlm" false
fi
fence validate-all port=node3
check "validate-all: 0" test "$frc" = 0
fence validate-all
check "validate-all without a plug: 1, 'validate-all failed'" \
	bash -c '[ "$1" = 1 ] && grep -q "validate-all failed" <<<"$2"' _ "$frc" "$err"
fence monitor
check "monitor: 0" test "$frc" = 0

# list, status.
fence list
names=$(printf '%s\n' "$out" | cut -d, -f1 | sort | paste -sd' ')
check "list shows node1 node2 node3 (got '$names')" test "$names" = "node1 node2 node3"
fence list-status
check "list-status: all three ON" test "$(grep -c ',,ON$' <<<"$out")" = 3
fence status nodename=node3
check "status node3: exit 0, Status: ON" bash -c '[ "$1" = 0 ] && [ "$2" = "Status: ON" ]' _ "$frc" "$out"
fence off nodename=nosuchnode
check "off of an unknown node: exit 1" test "$frc" = 1

# Fence the live node 3.
t0=$(date +%s)
fence off nodename=node3 nodeid=3
check "off node3: exit 0, Success: Powered OFF" \
	bash -c '[ "$1" = 0 ] && [ "$2" = "Success: Powered OFF" ]' _ "$frc" "$out"
echo "  off took $(( $(date +%s) - t0 )) s"
check "node 3's watchdog kills its processes" \
	cl_wait_for "node 3 gone" $((W / 1000 + 20)) sd_node_gone 3
for i in 1 2; do
	check "node $i: sdlmctl fence status node3 exit 2" \
		bash -c 'sd_ctl() { timeout 20 ip netns exec "$1" "$2" "${@:3}"; }
			sd_ctl "$1" "$2" fence status -d "$3" node3 >/dev/null; [ $? = 2 ]' _ \
		"${CL_PREFIX}n$i" "$SDLMCTL" "$SD_DISK"
	sd_ctl "$i" nodes >"$CL_DIR/nodes.$i" 2>&1
	sed 's/^/  node '"$i"' nodes| /' "$CL_DIR/nodes.$i"
	check "node $i: sdlmctl nodes shows node 3 fenced, with the off pill" \
		grep -Eq '^ +3 +node3 +fenced-self .*off#[0-9]+' "$CL_DIR/nodes.$i"
done
fence status port=node3 nodename=node1
check "status node3 (port beats nodename): exit 2, Status: OFF" \
	bash -c '[ "$1" = 2 ] && [ "$2" = "Status: OFF" ]' _ "$frc" "$out"
fence off nodename=node3
check "off again: exit 0, Success: Already OFF" \
	bash -c '[ "$1" = 0 ] && [ "$2" = "Success: Already OFF" ]' _ "$frc" "$out"
for i in 1 2; do check "node $i still fenced-safe" sd_status_has "$i" "fenced-safe"; done

# Unfence.
fence on nodename=node3
check "on node3: exit 0, Success: Powered ON" \
	bash -c '[ "$1" = 0 ] && [ "$2" = "Success: Powered ON" ]' _ "$frc" "$out"
msg=$("$SDLMCTL" --json fence list -d "$SD_DISK" | python3 -c '
import json, sys
print([n for n in json.load(sys.stdin)["nodes"] if n["node"] == 3][0]["message"]["cmd"])')
check "node 3's message slot is clear (got '$msg')" test "$msg" = clear

t_tally
[ "$fails" = 0 ]
