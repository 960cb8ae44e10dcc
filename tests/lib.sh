# SPDX-License-Identifier: GPL-2.0-or-later
# tests/lib.sh - helpers for sdlm's script tests (sourced).
#
#   t_init NAME          run directory $TD under the build tree, cleanup trap
#   ok/nok MSG, check    record a check (tests/checks.sh's pass/fail/check);
#                        t_done  prints the tally, true when all passed
#   wait_for DESC SECS CMD...   poll CMD every 0.2 s until it succeeds; on the
#                        deadline report DESC and CMD's last output (no fixed
#                        sleeps as synchronisation anywhere in the tests;
#                        the argument order of cluster/lib.sh's cl_wait_for)
#   node_start I [opts]  start sdlm-watchdog (outside) and sdlmd (inside a
#                        freezer group) for node I on $DISK, disk-only mode
#   node_pids I          pids of node I's group;   node_gone I  true when empty
#   t_cleanup            kill every process we started, by pid; remove groups
set -u
: "${SDLMD:?}" "${SDLMCTL:?}" "${SDLM_WATCHDOG:?}"
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
T_PIDS=""
T_GROUPS=""

t_init() {
	T_NAME=$1
	T_RUN="sdlmt-$$"
	[ -n "${SDLM_RUNS_FILE:-}" ] && echo "$T_RUN-" >>"$SDLM_RUNS_FILE"
	TD="${SDLM_TEST_DIR:-$PWD}/run-$T_NAME-$$"
	rm -rf "$TD"
	mkdir -p "$TD"
	trap t_cleanup EXIT
	trap 'exit 1' INT TERM
}

ok()  { pass "$@"; }
nok() { fail "$@"; }

wait_for() {
	local desc=$1 secs=$2; shift 2
	local end=$(( $(date +%s%N) / 1000000 + secs * 1000 )) out=""
	while :; do
		if out=$("$@" 2>&1); then
			return 0
		fi
		if [ $(( $(date +%s%N) / 1000000 )) -ge $end ]; then
			echo "deadline ($secs s) passed waiting for: $desc"
			echo "last output of '$*':"
			echo "$out" | sed 's/^/    /' | tail -20
			return 1
		fi
		sleep 0.2
	done
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

cg_dir() { echo "/sys/fs/cgroup/freezer/$T_RUN-n$1"; }

node_start() {
	local i=$1; shift
	local nd="$TD/n$i" cg
	cg=$(cg_dir "$i")
	mkdir -p "$nd" "$cg"
	T_GROUPS="$T_GROUPS $cg"
	"$SDLM_WATCHDOG" --fifo "$nd/wd.fifo" --timeout "${WD_S:-8}" --kill-cgroup "$cg" \
		--pidfile "$nd/wd.pid" >"$nd/wd.log" 2>&1 &
	T_PIDS="$T_PIDS $!"
	wait_for "watchdog of node $i ready" 10 test -s "$nd/wd.pid" || return 1
	# The daemon enters the node's freezer group before it execs, so the
	# test watchdog can kill "the node" without touching anything else.
	bash -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' _ "$cg" \
		"$SDLMD" -f -d "$DISK" -n "$i" --corosync=no --node-name="node$i" \
		--watchdog-device="$nd/wd.fifo" --ipc-name="$T_RUN-n$i" \
		--run-dir="$nd" --log-file="$nd/sdlmd.log" --log-syslog=no \
		--fault-file="$nd/fault" "$@" >"$nd/out.log" 2>&1 &
	T_PIDS="$T_PIDS $!"
	echo $! > "$nd/sdlmd.pid"
}

node_pids() { cat "$(cg_dir "$1")/cgroup.procs" 2>/dev/null; }
node_gone() { [ -z "$(node_pids "$1")" ]; }
node_alive() { [ -n "$(node_pids "$1")" ]; }
ctl() { local i=$1; shift; "$SDLMCTL" --ipc "$T_RUN-n$i" "$@"; }

t_cleanup() {
	local p cg
	for cg in $T_GROUPS; do
		[ -d "$cg" ] || continue
		echo THAWED > "$cg/freezer.state" 2>/dev/null
		for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	done
	for p in $T_PIDS; do kill -TERM "$p" 2>/dev/null; done
	for p in $T_PIDS; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for cg in $T_GROUPS; do
		for _ in $(seq 50); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
	done
	[ "${T_KEEP:-0}" = 1 ] || rm -rf "$TD"
}

t_done() {
	t_tally
	[ "$fails" = 0 ] && [ "$passes" -gt 0 ]
}
