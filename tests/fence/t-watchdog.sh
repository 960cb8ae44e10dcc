#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t-watchdog.sh - sdlm-watchdog end to end: feeding keeps the node alive,
# silence kills it, the magic close disarms it, a frozen node dies too.
#
# Usage: t-watchdog.sh [PATH-TO-sdlm-watchdog]   (or $SDLM_WATCHDOG)
# Prints PASS:/FAIL:/SKIP: lines (tests/checks.sh) and the tally; exits 0
# when nothing failed, else 1.
# Work files go under $SDLM_TEST_DIR, else the current directory.  The
# frozen-cgroup case needs root and the cgroup v1 freezer; without them it
# is skipped.
#
# The "node" in each case is a victim process; the writer that feeds the
# watchdog is this shell (exec 3>FIFO; printf x >&3), standing for sdlmd.
# Every wait for an event polls with a deadline; the only plain sleeps are
# the feeding cadence and the one check that nothing happens (the victim
# outliving the timeout after a magic close).

WD=${SDLM_WATCHDOG:-$1}
TIMEOUT_S=1
MARGIN_MS=1500		# scheduling + the kill itself, on a loaded 2-core box
FREEZER=/sys/fs/cgroup/freezer

. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
pids=()
cgroup=

now_ms() { local t=${EPOCHREALTIME//[.,]/}; echo $((t / 1000)); }

# Alive means able to run: a zombie or a vanished pid is dead.
alive() {
	local stat state
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	state=${stat##*) }
	state=${state%% *}
	[ "$state" != Z ] && [ "$state" != X ]
}
dead() { ! alive "$1"; }

# wait_until MS CMD...: poll CMD every 20 ms for at most MS milliseconds.
wait_until() {
	local limit=$(( $(now_ms) + $1 ))
	shift
	while ! "$@"; do
		[ "$(now_ms)" -ge "$limit" ] && return 1
		sleep 0.02
	done
	return 0
}

cleanup() {
	local p
	exec 3>&- 2>/dev/null
	if [ -n "$cgroup" ] && [ -d "$cgroup" ]; then
		echo THAWED > "$cgroup/freezer.state" 2>/dev/null
		for p in $(cat "$cgroup/cgroup.procs" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
	fi
	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	[ -n "$cgroup" ] && [ -d "$cgroup" ] && rmdir "$cgroup" 2>/dev/null
	[ -n "$dir" ] && rm -rf "$dir"
}

if [ -z "$WD" ] || [ ! -x "$WD" ]; then
	echo "FAIL: sdlm-watchdog not found: set SDLM_WATCHDOG or pass its path"
	exit 1
fi
dir=$(mktemp -d "${SDLM_TEST_DIR:-$PWD}/t-watchdog.XXXXXX") || {
	echo "FAIL: cannot make a work directory"
	exit 1
}
trap cleanup EXIT

# A victim in its own process group (setsid execs in place: pid == pgid).
start_victim() {
	setsid sleep 300 &
	victim=$!
	pids+=("$victim")
}

# start_wd NAME ARGS...: start a watchdog and wait for its pid file, which
# it writes once the FIFO is open for writers.
start_wd() {
	local name=$1
	shift
	fifo=$dir/$name.fifo
	log=$dir/$name.log
	"$WD" --fifo "$fifo" --timeout "$TIMEOUT_S" --pidfile "$dir/$name.pid" \
		--debug "$@" 2>"$log" &
	wdpid=$!
	pids+=("$wdpid")
	if ! wait_until 5000 test -s "$dir/$name.pid"; then
		fail "$name: watchdog did not start"
		cat "$log"
		return 1
	fi
	return 0
}

# feed N: N keepalives 300 ms apart, spanning more than the timeout.
feed() {
	local i
	for ((i = 0; i < $1; i++)); do
		printf x >&3 || return 1
		sleep 0.3
	done
	printf x >&3
}

# wd_exit_code: wait (bounded) for the watchdog to exit; status in $wd_rc.
# Not in a $(...) subshell: only this shell can reap its own child.
wd_exit_code() {
	wd_rc=timeout
	wait_until 15000 dead "$wdpid" || return
	wait "$wdpid"
	wd_rc=$?
}

# expect_killed NAME T0 PID...: every PID dies no sooner than the timeout
# after T0 (the last feed) and no later than timeout + margin.
expect_killed() {
	local name=$1 t0=$2 p elapsed
	shift 2
	for p in "$@"; do
		if ! wait_until $((TIMEOUT_S * 1000 + MARGIN_MS)) dead "$p"; then
			fail "$name: victim $p still alive $((TIMEOUT_S * 1000 + MARGIN_MS)) ms after the last feed"
			cat "$log"
			return 1
		fi
	done
	elapsed=$(( $(now_ms) - t0 ))
	if [ "$elapsed" -lt $((TIMEOUT_S * 1000 - 50)) ]; then
		fail "$name: killed after $elapsed ms, before the ${TIMEOUT_S} s timeout"
		return 1
	fi
	pass "$name: node killed $elapsed ms after the last feed"
	return 0
}

expect_wd_exit() {
	local name=$1 want=$2 rc
	wd_exit_code
	rc=$wd_rc
	if [ "$rc" = "$want" ]; then
		pass "$name: watchdog exited $rc"
	else
		fail "$name: watchdog exit $rc, expected $want"
		cat "$log"
	fi
}

# 1. Fed past the timeout: alive.  Writer closes without 'V' (sdlmd died):
#    still armed, the process group is killed.
case_close_nomagic() {
	start_victim
	start_wd nomagic --kill-pgid "$victim" || return
	exec 3>"$fifo"
	feed 6
	local t0
	t0=$(now_ms)
	if alive "$victim" && alive "$wdpid"; then
		pass "nomagic: victim alive after 1.8 s of feeding (timeout ${TIMEOUT_S} s)"
	else
		fail "nomagic: victim or watchdog died while fed"
		cat "$log"
	fi
	exec 3>&-
	expect_killed nomagic "$t0" "$victim"
	expect_wd_exit nomagic 3
	grep -q "expired: killing node" "$log" ||
		fail "nomagic: no 'expired: killing node' in the log"
}

# 2. Writer stays open but stops feeding (sdlmd hung): pids killed.
case_stop_feeding() {
	local v1 v2 t0
	start_victim; v1=$victim
	start_victim; v2=$victim
	start_wd silent --kill-pids "$v1,$v2" || return
	exec 3>"$fifo"
	feed 3
	t0=$(now_ms)
	expect_killed silent "$t0" "$v1" "$v2"
	expect_wd_exit silent 3
	exec 3>&-
}

# 3. Magic close disarms; the next opener re-arms, and its silence kills.
case_magic_close() {
	local t0
	start_victim
	start_wd magic --kill-pgid "$victim" || return
	exec 3>"$fifo"
	feed 2
	printf V >&3
	exec 3>&-
	wait_until 2000 grep -q "magic close: disarmed" "$log" ||
		fail "magic: watchdog did not log the magic close"
	sleep $((TIMEOUT_S * 2))
	if alive "$victim" && alive "$wdpid"; then
		pass "magic: victim alive $((TIMEOUT_S * 2)) s after a magic close"
	else
		fail "magic: victim or watchdog died after a magic close"
		cat "$log"
		return
	fi
	exec 3>"$fifo"
	printf x >&3
	t0=$(now_ms)
	expect_killed magic-rearm "$t0" "$victim"
	expect_wd_exit magic-rearm 3
	exec 3>&-
}

# 4. --exit-on-close: a magic close ends the watchdog with 0.
case_exit_on_close() {
	start_victim
	start_wd exit --kill-pgid "$victim" --exit-on-close || return
	exec 3>"$fifo"
	feed 1
	printf V >&3
	exec 3>&-
	expect_wd_exit exit-on-close 0
	if alive "$victim"; then
		pass "exit-on-close: victim untouched"
	else
		fail "exit-on-close: victim died"
	fi
	[ -e "$fifo" ] && fail "exit-on-close: FIFO left behind"
	[ -e "$dir/exit.pid" ] && fail "exit-on-close: pid file left behind"
}

# 5. The node frozen (cgroup v1 freezer) stops feeding; the watchdog,
#    outside the group, kills it anyway: kill, then thaw to deliver.
case_frozen_cgroup() {
	local v1 v2 t0 state
	if [ "$(id -u)" != 0 ] || [ ! -w "$FREEZER" ]; then
		skip "frozen: needs root and $FREEZER"
		return
	fi
	cgroup=$FREEZER/sdlmt-wd-$$
	if ! mkdir "$cgroup"; then
		fail "frozen: cannot create $cgroup"
		cgroup=
		return
	fi
	sleep 300 & v1=$!; pids+=("$v1")
	sleep 300 & v2=$!; pids+=("$v2")
	echo "$v1" > "$cgroup/cgroup.procs" && echo "$v2" > "$cgroup/cgroup.procs" || {
		fail "frozen: cannot move victims into $cgroup"
		return
	}
	start_wd frozen --kill-cgroup "$cgroup" || return
	exec 3>"$fifo"
	feed 1
	echo FROZEN > "$cgroup/freezer.state"
	t0=$(now_ms)
	state_is_frozen() { [ "$(cat "$cgroup/freezer.state")" = FROZEN ]; }
	if ! wait_until 2000 state_is_frozen; then
		fail "frozen: group did not freeze"
		return
	fi
	exec 3>&-
	expect_killed frozen "$t0" "$v1" "$v2"
	expect_wd_exit frozen 3
	state=$(cat "$cgroup/cgroup.procs")
	if [ -z "$state" ]; then
		pass "frozen: cgroup empty"
	else
		fail "frozen: cgroup still holds: $state"
	fi
	if rmdir "$cgroup"; then
		cgroup=
	else
		fail "frozen: cannot remove $cgroup"
	fi
}

# 6. The command line contract.
case_cli() {
	local rc
	"$WD" --help >/dev/null 2>&1; rc=$?
	[ "$rc" = 0 ] && pass "cli: --help exits 0" || fail "cli: --help exit $rc"
	"$WD" --fifo "$dir/x" --timeout 1 >/dev/null 2>&1; rc=$?
	[ "$rc" = 2 ] && pass "cli: no target exits 2" || fail "cli: no target exit $rc"
	"$WD" --fifo "$dir/x" --timeout 1 --reboot >/dev/null 2>&1; rc=$?
	[ "$rc" = 2 ] && pass "cli: --reboot without --allow-reboot exits 2" ||
		fail "cli: --reboot without --allow-reboot exit $rc"
	"$WD" --fifo "$dir/x" --timeout 1 --kill-pgid "$(ps -o pgid= $$ | tr -d ' ')" \
		>/dev/null 2>&1; rc=$?
	[ "$rc" = 2 ] && pass "cli: own process group as target exits 2" ||
		fail "cli: own process group as target exit $rc"
	[ -e "$dir/x" ] && fail "cli: a refused start created the FIFO"
}

case_cli
case_close_nomagic
case_stop_feeding
case_magic_close
case_exit_on_close
case_frozen_cgroup

t_tally
[ "$fails" -eq 0 ] && [ "$passes" -gt 0 ]
