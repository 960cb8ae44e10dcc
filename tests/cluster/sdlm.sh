# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# tests/cluster/sdlm.sh - sdlm on top of the corosync test cluster (lib.sh).
#
#   sd_disk [profile]     make the shared disk (file under $CL_DIR, ext4) and
#                         initialise the fencing area for the cluster
#                         (SD_DISK_MB, SD_DISK_NODES, SD_UID_SLOTS size it)
#   sd_start I [opts]     node I: sdlm-watchdog OUTSIDE the node's freezer
#                         group, then sdlmd INSIDE it (the fence rate limit's
#                         window is shortened to SD_FENCE_WINDOW_S, default
#                         20 s, since tests fence several nodes in minutes)
#   (sd_start continued)
#                         group (it kills the whole group when not fed), then
#                         sdlmd INSIDE it, corosync mode, default ipc name
#   sd_ctl I ARGS...      sdlmctl in node I's network namespace (outside the
#                         freezer group, so asking a frozen node fails fast)
#   sd_node_gone I        every process of node I is gone (corosync too)
#   sd_fault I SPEC       write node I's disk fault-injection spec
#   sd_timeouts           sets I T W L DEAD ACK (ms) from the disk header
#   sd_up N               N nodes, disk, corosync, sdlmd, all fenced-safe,
#                         each step through the caller's `require`
#   sd_watchdog_start I   (re)start node I's test watchdog on its FIFO
#   SD_XPORT_PORT=P      sd_start/sd_restart turn the fast-path transport on
#                         (xport_port P, a key of the run: $CL_DIR/xport.key)
#   sd_vm_pause I / sd_vm_resume I [BY]
#                         node I paused with its watchdog (a VM pause);
#                         with BY (_cl_now_cs), thawed before it or not at
#                         all (exit 2)
#   sd_spawn_unreaped I NAME PIDFILE GATE CMD...
#                         CMD in node I, its pid in PIDFILE; once it ends
#                         it stays a zombie until the file GATE exists
#   sd_is_zombie PID      PID has ended and is not reaped yet
#   sd_diag               what each node is doing now, on stderr (a
#                         test's T_ON_REQUIRE: the namespaces are gone
#                         after the teardown, CL_KEEP=1 or not)
: "${SDLMD:?}" "${SDLMCTL:?}" "${SDLM_WATCHDOG:?}"

# Sized by SD_DISK_MB (8), SD_DISK_NODES (8) and SD_UID_SLOTS (1024: a
# test cluster keeps a small table; fence init's default is a million
# mailboxes' worth): tests/bench scale runs 16 nodes.  SD_UID_SEGMENTS=1:
# the area is marked for the UID table's segment locks only (`sdlmctl uid
# segments --enable`, docs/uid.md "The table lock") before any node starts.
sd_disk() {
	SD_DISK=$(cl_make_disk "${SD_DISK_MB:-8}") || return 1
	"$SDLMCTL" fence init -d "$SD_DISK" --cluster sdlmtest --nodes "${SD_DISK_NODES:-8}" \
		--uid-slots "${SD_UID_SLOTS:-1024}" --profile "${1:-test}" >/dev/null || return 1
	if [ "${SD_UID_SEGMENTS:-0}" = 1 ]; then
		"$SDLMCTL" uid segments --enable -d "$SD_DISK" >/dev/null || return 1
	fi
}

# sd_up N: N nodes, the shared disk ($SD_DISK), corosync on all of them,
# quorate, sdlmd on each, each fenced-safe.  Every step goes through the
# caller's `require DESCRIPTION COMMAND...` (which stops the test on a
# failure), so it reports as the test's own PASS:/FAIL: lines.
sd_up() {
	local n=$1 i
	require "create $n nodes" cl_create "$n"
	require "shared disk" sd_disk test
	require "corosync on all nodes" cl_start_all
	for ((i = 1; i <= n; i++)); do require "node $i quorate" cl_wait_quorate "$i" 90; done
	for ((i = 1; i <= n; i++)); do require "sdlmd on node $i" sd_start "$i"; done
	for ((i = 1; i <= n; i++)); do
		require "node $i fenced-safe" cl_wait_for "node $i safe" 60 sd_status_has "$i" "fenced-safe"
	done
}

sd_timeouts() {
	eval "$("$SDLMCTL" --json fence dump -d "$SD_DISK" | python3 -c '
import json,sys; t=json.load(sys.stdin)["timeouts"]
print("I=%d T=%d W=%d L=%d DEAD=%d ACK=%d" % (t["hb_interval_ms"], t["io_timeout_ms"],
      t["watchdog_timeout_ms"], t["lease_ms"], t["dead_ms"], t["ack_bound_ms"]))')"
}

# sd_watchdog_start I: node I's test watchdog on $CL_DIR/nI/wd.fifo (the
# FIFO is created when missing and kept when there: a running sdlmd's feed
# goes on into the new one).
sd_watchdog_start() {
	local i=$1 d cg wds pid
	d="$CL_DIR/n$i"
	cg="/sys/fs/cgroup/freezer/${CL_PREFIX}n$i"
	wds=$("$SDLMCTL" --json fence dump -d "$SD_DISK" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["timeouts"]["watchdog_timeout_ms"] // 1000)')
	rm -f "$d/wd.pidfile"
	# Not through `ip netns exec`: it remounts /sys, hiding the freezer
	# hierarchy the watchdog must reach.  The FIFO needs no namespace.
	# Recorded like lib.sh's processes, so cl_teardown ends it by pid.
	# A child of the test's shell (disowned: no job notices), so it is
	# reaped when it ends even where pid 1 reaps nothing.
	"$SDLM_WATCHDOG" --fifo "$d/wd.fifo" --timeout "$wds" --kill-cgroup "$cg" \
		--pidfile "$d/wd.pidfile" </dev/null >>"$d/watchdog.log" 2>&1 &
	pid=$!
	disown "$pid" 2>/dev/null
	echo "$pid" >"$d/watchdog.pid"
	_cl_proc_start "$pid" >"$d/watchdog.start" 2>/dev/null || echo gone >"$d/watchdog.start"
	cl_wait_for "node $i watchdog ready" 10 test -s "$d/wd.pidfile"
}

# The fast-path transport's options when SD_XPORT_PORT is set: one key for
# the run, as corosync's authkey would be on a real cluster.
_sd_xport_opts() {
	[ -n "${SD_XPORT_PORT:-}" ] || return 0
	if [ ! -s "$CL_DIR/xport.key" ]; then
		(umask 077 && head -c 256 /dev/urandom >"$CL_DIR/xport.key.new" &&
			mv "$CL_DIR/xport.key.new" "$CL_DIR/xport.key") || return 1
	fi
	echo "--xport-port=$SD_XPORT_PORT --xport-key-file=$CL_DIR/xport.key"
}

sd_start() {
	local i=$1 d xo
	shift
	d="$CL_DIR/n$i"
	rm -f "$d/wd.fifo"
	sd_watchdog_start "$i" || return 1
	# A node starts with an empty /run, as after a boot: a fenced node's
	# restart is a reboot here (every process of it was killed).
	rm -rf "$d/run"
	xo=$(_sd_xport_opts) || return 1
	# shellcheck disable=SC2086
	cl_spawn "$i" sdlmd "$SDLMD" -f -d "$SD_DISK" --node-name="node$i" \
		--watchdog-device="$d/wd.fifo" --run-dir="$d/run" \
		--log-file="$d/sdlmd-file.log" --log-syslog=no --fault-file="$d/fault" \
		--fence-window-s="${SD_FENCE_WINDOW_S:-20}" $xo ${SD_EXTRA_OPTS:-} "$@" >/dev/null
}

# sd_vm_pause I / sd_vm_resume I [BY]: node I paused as a whole VM is, its
# watchdog with it (docs/testing-cluster.md).  A VM's virtual watchdog
# stops counting while the VM is paused; the test watchdog counts
# CLOCK_BOOTTIME and, merely stopped and continued, would fire the moment
# it runs again.  So the pause, once the node is frozen, replaces the
# stopped one by a fresh watchdog on the same FIFO (SIGKILL: a killed
# watchdog resets nothing; the fresh one is disarmed until its first
# byte, and nothing in the frozen node can write one).  The resume arms it
# by one byte (a full W from the resume, where the paused one had between
# W - I and W left), waits until it says so, and thaws the node.
#
# Everything slow (killing a process, sdlmctl and python3 for the
# timeout, starting the watchdog) is done by the pause, so that the
# resume is fast on a loaded machine too: a test that must thaw the node
# before the others may declare it dead (D - 2I after the pause: a node
# paused past the dead bound is outside the design, docs/timeouts.md A1 -
# its users write at the thaw, before its daemon can read the pill) gets
# that bound.  The resume used to do all of it, and took 15 s in a
# fresh-clone tests/check at a load of 15: the nemesis's sole-freeze thawed
# its victim 25 s after the pause, after the dead path had fenced it and
# its lock was granted - two EX holders made by the harness.  BY (an
# _cl_now_cs value, optional): a resume that cannot thaw before it thaws
# nothing and returns 2 - the node stays frozen, its watchdog armed or
# not; the caller resets it (cl_kill_node and the watchdog, as a kill).
sd_vm_pause() {
	cl_stop_proc "$1" watchdog && cl_pause "$1" || return 1
	cl_kill "$1" watchdog KILL && sd_watchdog_start "$1"
}

sd_vm_resume() {
	local i=$1 by=${2:-} d n fd deadline
	d="$CL_DIR/n$i"
	deadline=${by:-$(($(_cl_now_cs) + 1000))}
	n=$(grep -c "armed: timeout" "$d/watchdog.log")
	[ "$(_cl_now_cs)" -lt "$deadline" ] || return 2
	# O_RDWR (bash's <>): never blocks, and closing without a 'V' leaves
	# it armed.  No process started: the resume stays fast.
	exec {fd}<>"$d/wd.fifo" || return 1
	printf 1 >&"$fd"
	exec {fd}>&-
	until [ "$(grep -c "armed: timeout" "$d/watchdog.log")" -gt "$n" ]; do
		if [ "$(_cl_now_cs)" -ge "$deadline" ]; then
			[ -n "$by" ] && return 2
			_cl_err "node $i: the new watchdog did not arm within 10 s"
			return 1
		fi
		sleep 0.05
	done
	[ -z "$by" ] || [ "$(_cl_now_cs)" -lt "$by" ] || return 2
	cl_resume "$i"
}

# sd_spawn_unreaped I NAME PIDFILE GATE CMD...: CMD in node I (cl_spawn
# NAME runs its parent), CMD's pid written to PIDFILE.  The parent reaps
# CMD only once the file GATE exists: killed, CMD stays in /proc as a
# zombie until then, as a process killed in the middle of a write stays
# until the write leaves the kernel.  The parent is the Python interpreter
# itself (sys.executable): where `python3` is a wrapper script (a pyenv
# shim is a bash), a shell between them would reap CMD at once.
_sd_unreaped_py='import os, sys, time
pidfile, gate, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
with open(pidfile + ".new", "w") as f:
    f.write("%d\n" % pid)
os.rename(pidfile + ".new", pidfile)
def state():
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None
while state() not in ("Z", None):
    time.sleep(0.1)
while not os.path.exists(gate):
    time.sleep(0.1)
os.waitpid(pid, 0)'
sd_spawn_unreaped() {
	local i=$1 name=$2 pidfile=$3 gate=$4 py
	shift 4
	py=$(python3 -c 'import sys; print(sys.executable)') && [ -x "$py" ] || return 1
	rm -f "$pidfile"
	cl_spawn "$i" "$name" "$py" -c "$_sd_unreaped_py" "$pidfile" "$gate" "$@"
}

# sd_is_zombie PID: PID has ended and its parent has not reaped it.
sd_is_zombie() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" = Z ]
}

# sd_diag: for each node, which of its processes run, its nft tables,
# corosync's view of quorum and of its links, sdlmd's status and the
# watchdog's last words, on stderr.
sd_diag() {
	local i p
	for ((i = 1; i <= ${CL_N:-0}; i++)); do
		{
			echo "--- node $i (diagnosis at $(date -u +%T.%N | cut -c1-12) UTC)"
			for p in corosync sdlmd watchdog; do
				echo "$p: $(cl_pid "$i" "$p" >/dev/null && echo running || echo gone)"
			done
			ip netns exec "${CL_PREFIX}n$i" nft list tables 2>&1 | sed 's/^/nft: /'
			_cl_qt "$i" | grep -E '^(Ring ID|Quorate):|^ +[0-9]+ ' | sed 's/^/quorumtool: /'
			ip netns exec "${CL_PREFIX}n$i" timeout 5 corosync-cfgtool -n 2>&1 | sed 's/^/cfgtool: /'
			sd_ctl "$i" status 2>&1 | head -12 | sed 's/^/status: /'
			tail -3 "$CL_DIR/n$i/watchdog.log" 2>/dev/null | sed 's/^/watchdog: /'
		} >&2
	done
}

sd_ctl() {
	local i=$1
	shift
	timeout "${SD_CTL_TIMEOUT:-20}" ip netns exec "${CL_PREFIX}n$i" "$SDLMCTL" "$@"
}

# sd_lock I ARGS...: `sdlmctl lock` in node I, no time limit of its own (use -w)
sd_lock() {
	local i=$1
	shift
	ip netns exec "${CL_PREFIX}n$i" "$SDLMCTL" lock "$@"
}

# The test watchdogs run outside the nodes; an armed one that sees its
# node vanish in teardown would try to "reset" it: end them first.
sd_teardown() {
	local f wpid
	for f in "${CL_DIR:-/nonexistent}"/n*/watchdog.pid; do
		[ -f "$f" ] || continue
		read -r wpid <"$f"
		# Ours for sure: its command line names this run's FIFO.
		if [ -r "/proc/$wpid/cmdline" ] &&
		   tr '\0' ' ' <"/proc/$wpid/cmdline" 2>/dev/null | grep -q -- "$CL_DIR/"; then
			kill -KILL "$wpid" 2>/dev/null
		fi
	done
	cl_teardown
}

sd_node_gone() {
	[ -z "$(cat "/sys/fs/cgroup/freezer/${CL_PREFIX}n$1/cgroup.procs" 2>/dev/null)" ]
}

sd_fault() { echo "$2" >"$CL_DIR/n$1/fault"; }

# sd_status_has I REGEX: node I's `sdlmctl status` matches
sd_status_has() { sd_ctl "$1" status 2>/dev/null | grep -qE "$2"; }

# sd_restart I [opts]: a new sdlmd on node I, fed to the same test watchdog
# (the old daemon must have stopped cleanly: magic close disarmed it).
sd_restart() {
	local i=$1 d xo
	shift
	d="$CL_DIR/n$i"
	xo=$(_sd_xport_opts) || return 1
	# shellcheck disable=SC2086
	cl_spawn "$i" sdlmd "$SDLMD" -f -d "$SD_DISK" --node-name="node$i" \
		--watchdog-device="$d/wd.fifo" --run-dir="$d/run" \
		--log-file="$d/sdlmd-file.log" --log-syslog=no --fault-file="$d/fault" \
		--fence-window-s="${SD_FENCE_WINDOW_S:-20}" $xo ${SD_EXTRA_OPTS:-} "$@" >/dev/null
}

# sd_holds I LS RES MODE: node I's view says node I holds RES in MODE
sd_holds() {
	sd_ctl "$1" locks "$2" 2>/dev/null | grep -E -A8 "resource $3( |\$)" |
		awk '/^  resource/ && NR > 1 { exit } { print }' | grep -q "node $1 .*granted *$4"
}
