#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Errors that say what to do (issue 16, item 5):
#   - "cannot reach sdlmd" names the likely cause and the command to check;
#   - a usage error is one line that says where the help is;
#   - `sdlmctl status --help` (and its siblings) print their usage, exit 0;
#   - `--json` after `--` belongs to the command `sdlmctl lock` runs;
#   - the OCF agent: a problem of one node's configuration (its sdlm.conf,
#     its device) is OCF_ERR_ARGS (2), not OCF_ERR_CONFIGURED (6), which
#     Pacemaker treats as fatal on every node; a bad resource parameter
#     stays 6; stop with a broken node config is not 6.
# One real corosync node (tests/cluster/lib.sh) for the lock check.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SDLM_SRCDIR:=$(cd "$here/../.." && pwd)}"
. "$SDLM_SRCDIR/tests/cluster/lib.sh"
. "$SDLM_SRCDIR/tests/cluster/sdlm.sh"
[ -f /usr/lib/ocf/lib/heartbeat/ocf-shellfuncs ] || { echo "SKIP: resource-agents not installed"; exit 77; }

. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
tmp=$(mktemp -d /tmp/sdlm-errors.XXXXXX) || exit 1
trap 'rm -rf -- "$tmp"; sd_teardown' EXIT
C=$SDLMCTL

# run CMD...: stdout+stderr in $out, exit code in $rc
run() { out=$("$@" 2>&1); rc=$?; echo "  $*: exit $rc:"; printf '%s\n' "$out" | sed 's/^/  | /'; }

# --- sdlmctl without a daemon ---------------------------------------------------
run "$C" --ipc "sdlm-none-$$" status
check "no daemon: exit 69" test "$rc" = 69
check "no daemon: names the likely cause" grep -q "is sdlmd running" <<<"$out"
check "no daemon: names the command to check it" grep -q "systemctl status sdlmd" <<<"$out"
run "$C" --bogus-option status
check "unknown option: exit 64" test "$rc" = 64
check "unknown option: one line" test "$(grep -c . <<<"$out")" = 1
check "unknown option: says where the help is" grep -q "sdlmctl --help" <<<"$out"
run "$C"
check "no command: exit 64, one line naming --help" \
	bash -c '[ "$1" = 64 ] && [ "$(grep -c . <<<"$2")" = 1 ] && grep -q -- "--help" <<<"$2"' _ "$rc" "$out"
for sub in status nodes ls dump stats locks; do
	run "$C" "$sub" --help
	check "sdlmctl $sub --help: exit 0 with its usage" \
		bash -c '[ "$1" = 0 ] && grep -q "^usage: sdlmctl $2" <<<"$3"' _ "$rc" "$sub" "$out"
done

# --- OCF agent: node-local configuration errors are OCF_ERR_ARGS ----------------
agent="$tmp/sdlmd"
sed "s|@sbindir@|$(dirname "$SDLMD")|g" "$SDLM_SRCDIR/agents/sdlm.in" >"$agent" && chmod 755 "$agent"
ocf() {
	env OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=sdlm-test OCF_RESKEY_sdlmd="$SDLMD" \
		OCF_RESKEY_sdlmctl="$C" OCF_RESKEY_run_dir="$tmp/run" "$@" >"$tmp/ocf.out" 2>&1
	rc=$?
	echo "  ocf $*: exit $rc: $(grep -o 'ocf-exit-reason:.*' "$tmp/ocf.out" | head -1)"
}
printf 'log_level = nonsense\n' >"$tmp/bad.conf"
ocf OCF_RESKEY_config="$tmp/bad.conf" OCF_RESKEY_device=/nonexistent "$agent" validate-all
check "this node's sdlm.conf is invalid: validate-all exit 2 (OCF_ERR_ARGS)" test "$rc" = 2
ocf OCF_RESKEY_config="$tmp/bad.conf" OCF_RESKEY_device=/nonexistent "$agent" stop
check "stop with this node's sdlm.conf invalid: not 6 (OCF_ERR_CONFIGURED)" test "$rc" != 6
printf '# no device here\n' >"$tmp/nodev.conf"
ocf OCF_RESKEY_config="$tmp/nodev.conf" "$agent" validate-all
check "no device in this node's sdlm.conf: exit 2 (OCF_ERR_ARGS)" test "$rc" = 2
ocf OCF_RESKEY_config="$tmp/nodev.conf" OCF_RESKEY_device=/nonexistent \
	OCF_RESKEY_extra_options="--log-level=nonsense" "$agent" validate-all
check "a bad resource parameter: exit 6 (OCF_ERR_CONFIGURED, wrong everywhere)" test "$rc" = 6

# --- --json after -- belongs to the wrapped command ---------------------------------
require "create 1 node" cl_create 1
require "shared disk" sd_disk test
require "corosync" cl_start_all
require "node 1 quorate" cl_wait_quorate 1 90
require "sdlmd on node 1" sd_start 1
require "node 1 fenced-safe" cl_wait_for "node 1 safe" 60 sd_status_has 1 "fenced-safe"
out=$(sd_lock 1 -w 60 t r1 -- sh -c 'echo "args:$*"' _ --json a 2>&1); rc=$?
echo "  lock -- sh -c ... --json a: exit $rc: $out"
check "lock ... -- CMD --json: CMD gets --json" test "$out" = "args:--json a"
out=$(ip netns exec "${CL_PREFIX}n1" "$C" --json lock -w 60 t r2 -- sh -c 'echo "args:$*"' _ x 2>&1); rc=$?
echo "  --json lock -- sh -c ... x: exit $rc: $out"
check "sdlmctl --json lock -- CMD: CMD does not get --json" test "$out" = "args:x"
t_tally
[ "$fails" = 0 ]
