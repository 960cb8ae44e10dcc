#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The OCF agent ocf:sdlm:sdlmd against a real node.  A one-node corosync
# cluster (tests/cluster/lib.sh) with the shared disk and a test watchdog
# (sdlm-watchdog, outside the node's freezer group, kills the node when not
# fed); the agent runs inside the node's namespace and freezer group, so the
# daemon it starts belongs to the node.
#   - meta-data as nobody, valid against ra-api-1.dtd;
#   - ocf-tester passes (start/stop/monitor/probe/notify cycles);
#   - crm_resource --validate accepts good and rejects bad parameters;
#   - probe of a stopped resource is 7; start, monitor 0, start again 0;
#   - a poison pill makes monitor fail (1) with an ocf-exit-reason; the
#     watchdog resets the node; then monitor 1 (pid file of a dead daemon),
#     stop 0, monitor 7, stop 0 again.
# Needs root, corosync, resource-agents (ocf-tester), pacemaker-cli-utils
# (crm_resource), libxml2-utils.  Exit 77 (skip) when a tool is missing.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SDLM_SRCDIR:=$(cd "$here/../.." && pwd)}"
. "$SDLM_SRCDIR/tests/cluster/lib.sh"
. "$SDLM_SRCDIR/tests/cluster/sdlm.sh"

for t in ocf-tester crm_resource xmllint; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing (resource-agents, pacemaker-cli-utils, libxml2-utils)"; exit 77; }
done
[ -f /usr/lib/ocf/lib/heartbeat/ocf-shellfuncs ] && [ -f /usr/share/resource-agents/ra-api-1.dtd ] ||
	{ echo "SKIP: resource-agents not installed"; exit 77; }

. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"

# The agent: the one given, else sdlm.in with sbindir = where $SDLMD is, in
# a directory "nobody" can search (ocf-tester runs meta-data as nobody).
agent_dir=$(mktemp -d /tmp/sdlm-ocf.XXXXXX) || exit 1
chmod 755 "$agent_dir"
provider="sdlmtest-$$"
provider_dir="/usr/lib/ocf/resource.d/$provider"
cleanup() {
	rm -rf -- "$provider_dir" "$agent_dir"
	cl_teardown
}
trap cleanup EXIT
if [ -n "${SDLM_OCF_AGENT:-}" ]; then
	agent=$SDLM_OCF_AGENT
else
	agent="$agent_dir/sdlmd"
	sed "s|@sbindir@|$(dirname "$SDLMD")|g" "$SDLM_SRCDIR/agents/sdlm.in" >"$agent" &&
		chmod 755 "$agent" || exit 1
fi

require "create 1 node" cl_create 1
require "shared disk" sd_disk test
sd_timeouts
require "corosync" cl_start_all
require "node 1 quorate" cl_wait_quorate 1 90

# The test watchdog, as sd_start starts it (recorded for cl_teardown).
nd="$CL_DIR/n1"
wd_pid=$("$SDLM_WATCHDOG" --fifo "$nd/wd.fifo" --timeout $((W / 1000)) \
	--kill-cgroup "/sys/fs/cgroup/freezer/${CL_PREFIX}n1" --pidfile "$nd/wd.pidfile" \
	</dev/null >>"$nd/watchdog.log" 2>&1 & echo $!)
echo "$wd_pid" >"$nd/watchdog.pid"
_cl_proc_start "$wd_pid" >"$nd/watchdog.start" 2>/dev/null || echo gone >"$nd/watchdog.start"
require "test watchdog ready" cl_wait_for "watchdog fifo" 10 test -s "$nd/wd.pidfile"

opts=(-o "device=$SD_DISK" -o "watchdog_device=$nd/wd.fifo" -o "run_dir=$nd/run"
	-o "node_name=node1" -o "sdlmd=$SDLMD" -o "sdlmctl=$SDLMCTL"
	-o "extra_options=--log-file=$nd/sdlmd-file.log --log-syslog=no")

check "meta-data as nobody" su nobody -s /bin/sh -c "$agent meta-data >/dev/null"
check "meta-data valid against ra-api-1.dtd" \
	sh -c "cd /usr/share/resource-agents && '$agent' meta-data | xmllint --noout --valid -"

out=$(cl_exec 1 ocf-tester -n sdlmd "${opts[@]}" "$agent" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/  ocf-tester| /'
check "ocf-tester passes (exit $rc)" test "$rc" = 0
check "ocf-tester says it passed all tests" grep -q "passed all tests" <<<"$out"

# crm_resource finds agents under /usr/lib/ocf/resource.d/<provider>/.
mkdir -p "$provider_dir" && ln -s "$agent" "$provider_dir/sdlmd"
cr_opts=(--option "device=$SD_DISK" --option "watchdog_device=$nd/wd.fifo"
	--option "sdlmd=$SDLMD" --option "sdlmctl=$SDLMCTL")
check "crm_resource --validate accepts the parameters" \
	crm_resource --validate --class ocf --provider "$provider" --agent sdlmd "${cr_opts[@]}"
check "crm_resource --validate rejects a missing device" \
	bash -c '! crm_resource --validate --class ocf --provider "$1" --agent sdlmd \
		--option device=/nonexistent/sdlm --option "watchdog_device=$2" \
		--option "sdlmd=$3" --option "sdlmctl=$4" >/dev/null 2>&1' _ \
	"$provider" "$nd/wd.fifo" "$SDLMD" "$SDLMCTL"
check "crm_resource --show-metadata" \
	bash -c 'crm_resource --show-metadata "ocf:$1:sdlmd" | grep -q "<parameter name=\"device\""' _ "$provider"
rm -rf -- "$provider_dir"

# The agent by hand, inside the node, with a probe and a failure.
ra() { # ra ACTION [VAR=VALUE...]: run the agent action in node 1, print rc
	local action=$1
	shift
	cl_exec 1 env OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=sdlmd \
		OCF_RESKEY_CRM_meta_timeout=30000 OCF_RESKEY_CRM_meta_interval=10000 \
		OCF_RESKEY_device="$SD_DISK" OCF_RESKEY_watchdog_device="$nd/wd.fifo" \
		OCF_RESKEY_run_dir="$nd/run" OCF_RESKEY_node_name=node1 \
		OCF_RESKEY_sdlmd="$SDLMD" OCF_RESKEY_sdlmctl="$SDLMCTL" \
		OCF_RESKEY_extra_options="--log-file=$nd/sdlmd-file.log --log-syslog=no" \
		"$@" "$agent" "$action" 2>"$nd/ra.err" >/dev/null
	echo $?
}
check "probe of a stopped resource: 7" test "$(ra monitor OCF_RESKEY_CRM_meta_interval=0)" = 7
check "start: 0" test "$(ra start)" = 0
check "monitor: 0" test "$(ra monitor)" = 0
check "probe of a running resource: 0" test "$(ra monitor OCF_RESKEY_CRM_meta_interval=0)" = 0
check "start when running: 0" test "$(ra start)" = 0
check "daemon status through sdlmctl: fenced-safe" sd_status_has 1 "fenced-safe"
check "notify: 0" test "$(ra notify)" = 0
check "promote: 3 (not promotable)" test "$(ra promote)" = 3
truncate -s 1M "$nd/blank.img"
check "start on an uninitialised area (another ipc name): 1" \
	test "$(ra start OCF_RESKEY_ipc_name=other OCF_RESKEY_device="$nd/blank.img")" = 1
check "  with the reason from sdlmd's exit code" grep -q "ocf-exit-reason:sdlmd exited with 2" "$nd/ra.err"

# A poison pill: the daemon stops lock use and fences itself; monitor must
# say failed (1, with a reason), and the watchdog resets the node.
"$SDLMCTL" fence message -d "$SD_DISK" node1 off >/dev/null
mon_fails() { [ "$(ra monitor)" = 1 ] && grep -q "ocf-exit-reason:" "$nd/ra.err"; }
check "after a pill, monitor fails with an exit reason" cl_wait_for "monitor 1" 20 mon_fails
echo "  reason: $(cat "$nd/ra.err")"
check "the watchdog resets the node" cl_wait_for "node 1 gone" $((W / 1000 + 20)) sd_node_gone 1
check "monitor after the reset: 1 (pid file of a dead daemon)" test "$(ra monitor)" = 1
check "stop: 0" test "$(ra stop)" = 0
check "monitor after stop: 7" test "$(ra monitor)" = 7
check "stop again: 0" test "$(ra stop)" = 0

t_tally
[ "$fails" = 0 ]
