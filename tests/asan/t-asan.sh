#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/asan/t-asan.sh - the sanitizer tier.
#   1. configure a separate build with --enable-sanitizers (ASan + UBSan,
#      -fno-sanitize-recover) and build it;
#   2. run the unit tests there (SDLM_TESTS=unit): none may fail;
#   3. run one cluster smoke test (tests/cluster/t-locks.sh) with the
#      sanitized sdlmd/sdlmctl/sdlm-watchdog;
#   4. start a sanitized sdlmd alone (pure-disk mode), stop it with SIGTERM
#      and require a clean exit: LeakSanitizer reports leaks at exit;
# and every sanitizer report written meanwhile (ASAN_OPTIONS log_path: one
# file per process, whatever the process's stderr was) is a FAIL.
# Steps 3 and 4 run while step 2 builds and runs the unit tests: they need
# only the daemons of step 1, and the cluster test mostly waits on its
# timeouts while the unit tests' build keeps the CPU busy (about 60 s of
# this test's 220).  Each step has its own report directory, so a report
# is still charged to the step that wrote it.
# Everything lives in a mktemp dir under /var/tmp (ext4: O_DIRECT), removed
# at the end.  Needs root for steps 3 and 4 (namespaces, freezer).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${SDLM_SRCDIR:-$(cd "$here/../.." && pwd)}
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
unit_pid=
finish() {
	[ -n "$unit_pid" ] && judge_units
	echo "t-asan: $passes passed, $fails failed"; [ "$fails" = 0 ]; exit
}

# Run from `make check`: the outer make's variables (TESTS=..., -j jobserver)
# must not leak into the inner build.
unset MAKEFLAGS MFLAGS MAKELEVEL TESTS
work=$(mktemp -d /var/tmp/sdlm-asan.XXXXXX) || exit 1
cg=/sys/fs/cgroup/freezer/sdlm-asan-$$
wd_pid=; d_pid=
cleanup() {
	[ -n "$unit_pid" ] && kill "$unit_pid" 2>/dev/null && wait "$unit_pid"
	[ -n "$d_pid" ] && kill -KILL "$d_pid" 2>/dev/null
	[ -n "$wd_pid" ] && kill -KILL "$wd_pid" 2>/dev/null
	[ -d "$cg" ] && rmdir "$cg" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# san_to STEP: the sanitizers of this shell and its children write their
# reports to $work/san-STEP/
san_to() {
	mkdir -p "$work/san-$1"
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$work/san-$1/asan"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$work/san-$1/ubsan"
	export LSAN_OPTIONS="log_path=$work/san-$1/lsan"
}
san_to build
mkdir -p "$work/build"

# san_check STEP...: prints the reports of each STEP, returns 1 if any.
san_check() {
	local f s new=0
	for s in "$@"; do for f in "$work/san-$s"/*; do
		[ -f "$f" ] || continue
		new=1
		echo "--- $f"; head -40 "$f"
	done; done
	[ "$new" = 0 ]
}

# --- 1. build ----------------------------------------------------------
cd "$work/build" || exit 1
if ( "$src/configure" --enable-sanitizers >configure.out 2>&1 &&
     make -j"$(nproc)" >make.out 2>&1 ); then
	pass "sanitized build (configure --enable-sanitizers)"
else
	fail "sanitized build"; tail -30 configure.out make.out; finish
fi

# --- 2. unit tests, while steps 3 and 4 run --------------------------
( san_to unit; exec make -C tests -j"$(nproc)" check SDLM_TESTS=unit >check.out 2>&1 ) &
unit_pid=$!
# judge_units: wait for step 2 and judge it (finish does, on every way out)
judge_units() {
	wait "$unit_pid"
	unit_pid=
	nfail=$(awk '/^# (FAIL|ERROR|XPASS):/{s+=$3} END{print s+0}' tests/test-suite.log 2>/dev/null)
	npass=$(awk '/^# PASS:/{print $3}' tests/test-suite.log 2>/dev/null)
	if [ -n "$npass" ] && [ "$npass" -gt 0 ] && [ "$nfail" = 0 ]; then
		pass "unit tests under ASan+UBSan: $npass passed"
	else
		fail "unit tests under ASan+UBSan: ${npass:-0} passed, ${nfail:-?} failed"
		grep -E '^(FAIL|ERROR)' check.out
		for f in $(grep -l '^:test-result: \(FAIL\|ERROR\)' tests/unit/*.trs 2>/dev/null); do
			echo "--- ${f%.trs}.log"; tail -40 "${f%.trs}.log"
		done
	fi
	if san_check build unit; then pass "no sanitizer report from the build or the unit tests"
	else fail "sanitizer report(s) from the build or the unit tests"; fi
}

if [ "$(id -u)" != 0 ]; then
	fail "steps 3 and 4 need root"; finish
fi
export SDLMD=$work/build/dlm/sdlmd SDLMCTL=$work/build/dlm/sdlmctl
export SDLM_WATCHDOG=$work/build/fence/sdlm-watchdog
export SDLM_TEST_DIR=$work SDLM_SRCDIR=$src SDLM_BUILDDIR=$work/build

# --- 3. cluster smoke test ------------------------------------------------
san_to cluster
if CL_TMPDIR=$work bash "$src/tests/cluster/t-locks.sh" >"$work/t-locks.out" 2>&1; then
	pass "cluster smoke test t-locks.sh with sanitized daemons"
else
	fail "cluster smoke test t-locks.sh with sanitized daemons"
	grep -E '^(PASS|FAIL)' "$work/t-locks.out"; tail -20 "$work/t-locks.out"
fi
if san_check cluster; then pass "no sanitizer report from the cluster daemons"; else fail "sanitizer report(s) from the cluster daemons"; fi

# --- 4. LeakSanitizer at a clean daemon exit ----------------------------
san_to daemon
disk=$work/disk.img
"$SDLMCTL" fence init -d "$disk" --cluster asan --nodes 2 --profile test >/dev/null ||
	{ fail "fence init"; finish; }
wds=$("$SDLMCTL" --json fence dump -d "$disk" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["timeouts"]["watchdog_timeout_ms"] // 1000)')
mkdir -p "$cg" "$work/n1" || { fail "freezer group $cg"; finish; }
"$SDLM_WATCHDOG" --fifo "$work/n1/wd.fifo" --timeout "$wds" --kill-cgroup "$cg" \
	--pidfile "$work/n1/wd.pid" >"$work/n1/wd.log" 2>&1 &
wd_pid=$!
for _ in $(seq 50); do [ -s "$work/n1/wd.pid" ] && break; sleep 0.2; done
bash -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' _ "$cg" \
	"$SDLMD" -f -d "$disk" -n 1 --corosync=no --node-name=node1 \
	--watchdog-device="$work/n1/wd.fifo" --ipc-name="sdlm-asan-$$" \
	--run-dir="$work/n1" --log-file="$work/n1/sdlmd.log" --log-syslog=no \
	>"$work/n1/out.log" 2>&1 &
d_pid=$!
up=0
for _ in $(seq 50); do
	"$SDLMCTL" --ipc "sdlm-asan-$$" status >/dev/null 2>&1 && { up=1; break; }
	sleep 0.2
done
sleep 2
kill -TERM "$d_pid"
rc=124
for _ in $(seq 100); do
	kill -0 "$d_pid" 2>/dev/null || { wait "$d_pid"; rc=$?; break; }
	sleep 0.1
done
d_pid=
if [ "$up" = 1 ] && [ "$rc" = 0 ]; then
	pass "sanitized sdlmd served and exited 0 on SIGTERM"
else
	fail "sanitized sdlmd: served=$up, exit status $rc on SIGTERM"
	tail -20 "$work/n1/out.log"
fi
if grep -q LeakSanitizer "$work"/san-daemon/* "$work/n1/out.log" 2>/dev/null; then
	fail "LeakSanitizer reports a leak at sdlmd exit"
	grep -h -A25 LeakSanitizer "$work"/san-daemon/* "$work/n1/out.log" | head -60
else
	pass "no leak at sdlmd exit (LeakSanitizer)"
fi
if san_check daemon; then pass "no other sanitizer report"; else fail "sanitizer report(s) from the standalone daemon"; fi
kill -KILL "$wd_pid" 2>/dev/null; wait "$wd_pid" 2>/dev/null; wd_pid=
finish
