# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# tests/cluster/lib.sh - an N-node corosync 3 cluster on one machine.
#
# Source it from a bash test (`. tests/cluster/lib.sh`) and install
# `trap cl_teardown EXIT` right after.  Needs root, iproute2, nftables,
# util-linux (unshare, losetup), corosync 3 and the cgroup v1 freezer.
#
# What one node is (docs/testing-cluster.md has the picture):
#
#   netns  sdlmt-<id>-hub      bridge br0, ports vh1..vhN, no address
#   netns  sdlmt-<id>-n<I>     eth0 = $CL_NET.<I>/24 (peer of vh<I>), lo
#   cgroup /sys/fs/cgroup/freezer/sdlmt-<id>-n<I>   every process of node I
#   dir    $CL_DIR/n<I>/       corosync.conf, var-lib-corosync/, NAME.log,
#                              NAME.pid, NAME.start
#
# No interface, address or route is ever created in the root namespace:
# the veth pairs are created inside the hub namespace with their node end
# moved straight into the node namespace, so test traffic cannot leave the
# namespaces this run made.  corosync runs under `unshare -m` with a private
# tmpfs on /run (its pid/lock file) and $CL_DIR/n<I>/var-lib-corosync bind
# mounted on /var/lib/corosync; libqb IPC sockets are abstract, hence per
# network namespace, so `ip netns exec` reaches the node's own corosync.
#
# Names: every namespace, cgroup and directory of a run is prefixed
# "sdlmt-<id>-", <id> = $CL_RUN_ID (default 6 random hex digits), so runs on a
# shared machine never collide and cl_teardown finds what a run left even
# after a partial cl_create.
#
# Environment (all optional, read by cl_create / _cl_init):
#   CL_RUN_ID   run id (default: random)          CL_NET    /24 prefix, default 10.213.7
#   CL_DIR      run directory (default: mktemp -d $CL_TMPDIR/sdlmt-<id>-XXXXXX)
#   CL_TMPDIR   parent of CL_DIR (default /var/tmp: ext4 here, O_DIRECT works)
#   CL_TOKEN    totem token in ms (default 3000)  CL_KEEP=1 keep $CL_DIR on teardown
#   CL_COROSYNC_EXTRA  text appended verbatim to every node's corosync.conf
#   CL_VERBOSE=1       trace what the library does on stderr
#
# Functions (return 0 on success, 1 on failure; diagnostics go to stderr):
#   cl_create N                  namespaces, bridge, veths, addresses, freezer
#                                groups, per-node dirs and corosync.conf
#   cl_start_corosync I          corosync -f in node I (netns + mount ns +
#                                freezer group); pid in $CL_DIR/nI/corosync.pid
#   cl_start_all                 cl_start_corosync for every node
#   cl_wait_quorate I [SECS] [COUNT]
#                                wait (default 60 s) until node I is quorate
#                                with COUNT members (default N)
#   cl_wait_members I "1 2 3" [SECS]
#                                wait (default 60 s) until node I's membership
#                                is exactly those node ids
#   cl_members I                 print node I's current member ids ("1 2 3")
#   cl_quorate I                 succeed iff node I is quorate now
#   cl_inquorate I               succeed iff node I answers "not quorate"
#   cl_ring_id I                 print node I's totem ring id (e.g. "2.1c")
#   cl_exec I CMD...             CMD in node I's netns and freezer group,
#                                foreground, its exit status returned
#   cl_spawn I NAME CMD...       CMD in background in node I's netns and
#                                freezer group; output appended to
#                                $CL_DIR/nI/NAME.log; pid written to
#                                $CL_DIR/nI/NAME.pid and echoed
#   cl_spawn_outside I NAME CMD...  same, but outside the freezer group (a
#                                test watchdog keeps running while the node
#                                is frozen, like a hardware watchdog)
#   cl_pid I NAME                print the recorded pid if it still runs
#   cl_kill I NAME [SIG]         signal one recorded process (default KILL)
#                                and, for fatal signals, wait until it is gone
#   cl_kill_node I               SIGKILL every process in node I's freezer
#                                group (thawing it if frozen), wait until gone
#   cl_pause I / cl_resume I     freezer FROZEN / THAWED for the whole node,
#                                waits until the state is reached
#   cl_stop_proc I NAME / cl_cont_proc I NAME   SIGSTOP / SIGCONT one process
#   cl_cut I / cl_heal I         drop / restore all non-loopback traffic of
#                                node I (nft table sdlmt_cut in its netns)
#   cl_partition "1 2" "3" ...   each listed node drops traffic from/to every
#                                node listed in another group (table
#                                sdlmt_part); unlisted nodes are untouched
#   cl_heal_all                  remove cut, partition and loss tables on
#                                every node
#   cl_loss I PROB [both|in|out] / cl_loss_off I
#                                random drop of PROB (0.02 or 2%) of node
#                                I's input and/or output (default both;
#                                table sdlmt_loss).  With "both" on every
#                                node a packet is dropped with ~1-(1-PROB)^2;
#                                "out" on every node gives PROB per packet
#   cl_make_disk SIZE_MB [loop]  allocate $CL_DIR/disk.img (refuses tmpfs);
#                                with "loop" attach it with losetup -f and
#                                record the device; prints the path to use
#                                and sets CL_DISK
#   cl_wait_for DESC SECS CMD... run CMD every 0.2 s until it succeeds or
#                                SECS pass; on failure print DESC and CMD's
#                                last output and status
#   cl_leftovers [RUN_ID [PID...]]  list namespaces, cgroups, loop devices,
#                                processes and dirs a run left, plus any of
#                                PID... still running or owning qb files in
#                                /dev/shm; empty output = clean
#   cl_teardown                  kill every process of the run (by pid),
#                                thaw and remove freezer groups, delete nft
#                                tables and namespaces, detach the run's loop
#                                devices, remove $CL_DIR unless CL_KEEP=1;
#                                safe twice and after a partial cl_create;
#                                fails (keeping $CL_DIR) if anything is left.
#                                As an EXIT trap it does not change the
#                                script's exit status
#
# Membership and quorum come from `corosync-quorumtool -s -p` run in the
# node's netns (one short-lived votequorum+cmap client; exit 0 = quorate,
# 2 = not quorate).  It is run OUTSIDE the node's freezer group with a
# timeout, so asking a frozen node fails instead of hanging the test.
#
# Quorum: plain votequorum, expected votes = N from the nodelist, no
# two_node.  For N=2 both nodes are needed for quorum, and a lone survivor
# is NOT quorate: sdlm arbitrates two-node splits on the shared disk, and a
# corosync tie-breaker that let both halves think they are quorate
# (two_node without fencing) is exactly what sdlm must not rely on.

_cl_log() { [ "${CL_VERBOSE:-0}" = 1 ] && echo "cl: $*" >&2; return 0; }
_cl_err() { echo "cl: error: $*" >&2; return 1; }

# Monotonic-enough time in centiseconds (CLOCK_BOOTTIME via /proc/uptime),
# without forking; wall-clock jumps must not stretch or cut a deadline.
_cl_now_cs() {
	local up _
	read -r up _ </proc/uptime
	echo $((10#${up/./}))
}

_cl_sleep_poll() { sleep 0.2; }

_cl_ns_hub() { echo "${CL_PREFIX}hub"; }
_cl_ns() { echo "${CL_PREFIX}n$1"; }
_cl_cg() { echo "/sys/fs/cgroup/freezer/${CL_PREFIX}n$1"; }
_cl_addr() { echo "${CL_NET}.$1"; }
_cl_ndir() { echo "$CL_DIR/n$1"; }

_cl_need_node() {
	[ -n "${CL_PREFIX:-}" ] || { _cl_err "no cluster (call cl_create first)"; return 1; }
	case "${1:-}" in
	'' | *[!0-9]*) _cl_err "bad node number '${1:-}'"; return 1 ;;
	esac
	[ "$1" -ge 1 ] && [ "$1" -le "${CL_N:-0}" ] ||
		{ _cl_err "node $1 not in 1..${CL_N:-0}"; return 1; }
}

# _cl_init: fix the run id, prefix and run directory; idempotent.  The run
# directory records what the run created (run.env, netns, cgroups, loops) so
# cl_teardown can also be run from another shell:
#   CL_DIR=/var/tmp/sdlmt-ab12cd-XXXX bash -c '. lib.sh; cl_teardown'
_cl_init() {
	if [ -z "${CL_RUN_ID:-}" ]; then
		CL_RUN_ID=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n') || return 1
	fi
	CL_PREFIX="sdlmt-${CL_RUN_ID}-"
	# tests/check lists every run it started, for its leak check.
	[ -n "${SDLM_RUNS_FILE:-}" ] && echo "$CL_PREFIX" >>"$SDLM_RUNS_FILE"
	CL_NET=${CL_NET:-10.213.7}
	CL_TOKEN=${CL_TOKEN:-3000}
	if [ -z "${CL_DIR:-}" ]; then
		CL_DIR=$(mktemp -d "${CL_TMPDIR:-/var/tmp}/${CL_PREFIX}XXXXXX") ||
			{ _cl_err "mktemp failed"; return 1; }
	else
		mkdir -p "$CL_DIR" || return 1
	fi
	export CL_RUN_ID CL_PREFIX CL_NET CL_TOKEN CL_DIR
	if [ ! -f "$CL_DIR/run.env" ]; then
		printf 'CL_RUN_ID=%s\nCL_PREFIX=%s\nCL_NET=%s\nCL_TOKEN=%s\nCL_N=%s\n' \
			"$CL_RUN_ID" "$CL_PREFIX" "$CL_NET" "$CL_TOKEN" "${CL_N:-0}" \
			>"$CL_DIR/run.env"
	fi
}

# Picks up a run from its directory when this shell did not create it.
_cl_load() {
	[ -n "${CL_PREFIX:-}" ] && return 0
	[ -n "${CL_DIR:-}" ] && [ -f "$CL_DIR/run.env" ] || return 1
	# shellcheck disable=SC1091
	. "$CL_DIR/run.env"
	export CL_RUN_ID CL_PREFIX CL_NET CL_TOKEN CL_N
}

_cl_record() { echo "$2" >>"$CL_DIR/$1"; }

_cl_check_tools() {
	local t
	[ "$(id -u)" = 0 ] || { _cl_err "must run as root"; return 1; }
	for t in ip nft unshare corosync corosync-quorumtool timeout; do
		command -v "$t" >/dev/null || { _cl_err "missing tool: $t"; return 1; }
	done
	[ -f /sys/fs/cgroup/freezer/cgroup.procs ] ||
		{ _cl_err "cgroup v1 freezer not mounted at /sys/fs/cgroup/freezer"; return 1; }
	[ -d /var/lib/corosync ] ||
		{ _cl_err "/var/lib/corosync missing (bind-mount target)"; return 1; }
}

# _cl_write_conf I: node I's corosync.conf.  The totem numbers are the
# lossy-network settings of conf/corosync.conf.example (see the reasons there).
_cl_write_conf() {
	local i=$1 j d
	d=$(_cl_ndir "$i")
	{
		cat <<EOF
# generated by tests/cluster/lib.sh for run $CL_RUN_ID, node $i
totem {
	version: 2
	cluster_name: sdlmtest
	transport: knet
	crypto_cipher: none
	crypto_hash: none
	token: $CL_TOKEN
	miss_count_const: 1
	token_retransmits_before_loss_const: 10
	knet_pmtud_interval: 5
	interface {
		linknumber: 0
		knet_pong_count: 1
	}
}

nodelist {
EOF
		for ((j = 1; j <= CL_N; j++)); do
			printf '\tnode {\n\t\tring0_addr: %s\n\t\tname: node%d\n\t\tnodeid: %d\n\t}\n' \
				"$(_cl_addr "$j")" "$j" "$j"
		done
		cat <<EOF
}

quorum {
	provider: corosync_votequorum
}

logging {
	to_logfile: yes
	logfile: $d/corosync.log
	to_stderr: no
	to_syslog: no
	timestamp: hires
	fileline: off
	debug: off
}
EOF
		if [ -n "${CL_COROSYNC_EXTRA:-}" ]; then
			printf '\n%s\n' "$CL_COROSYNC_EXTRA"
		fi
	} >"$d/corosync.conf"
}

cl_create() {
	local n=${1:-} i hub ns cg d
	case "$n" in
	'' | *[!0-9]*) _cl_err "usage: cl_create N"; return 1 ;;
	esac
	[ "$n" -ge 1 ] && [ "$n" -le 250 ] || { _cl_err "N must be 1..250"; return 1; }
	_cl_check_tools || return 1
	CL_N=$n
	export CL_N
	_cl_init || return 1
	sed -i "s/^CL_N=.*/CL_N=$n/" "$CL_DIR/run.env"
	_cl_log "run $CL_RUN_ID, dir $CL_DIR, $n nodes on $CL_NET.0/24"

	hub=$(_cl_ns_hub)
	_cl_record netns "$hub"
	ip netns add "$hub" || { _cl_err "ip netns add $hub"; return 1; }
	ip -n "$hub" link set lo up &&
		ip netns exec "$hub" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 &&
		ip -n "$hub" link add br0 type bridge &&
		ip -n "$hub" link set br0 up || { _cl_err "hub bridge setup"; return 1; }

	for ((i = 1; i <= n; i++)); do
		ns=$(_cl_ns "$i")
		cg=$(_cl_cg "$i")
		d=$(_cl_ndir "$i")
		_cl_record netns "$ns"
		ip netns add "$ns" || { _cl_err "ip netns add $ns"; return 1; }
		# IPv6 off before the link comes up: no DAD/RS chatter on the bridge.
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 &&
			ip -n "$hub" link add "vh$i" type veth peer name eth0 netns "$ns" &&
			ip -n "$hub" link set "vh$i" master br0 &&
			ip -n "$hub" link set "vh$i" up &&
			ip -n "$ns" link set lo up &&
			ip -n "$ns" addr add "$(_cl_addr "$i")/24" dev eth0 &&
			ip -n "$ns" link set eth0 up || { _cl_err "node $i network setup"; return 1; }
		_cl_record cgroups "$cg"
		mkdir -p "$cg" || { _cl_err "mkdir $cg"; return 1; }
		mkdir -p "$d/var-lib-corosync" || return 1
		_cl_write_conf "$i" || return 1
	done
}

# _cl_proc_start PID: the process's start time (field 22 of /proc/PID/stat),
# nothing if it does not exist or is a zombie.  Recorded beside every pid so
# a recycled pid is never signalled.
_cl_proc_start() {
	local stat rest
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	rest=${stat##*) }
	# shellcheck disable=SC2086
	set -- $rest
	[ "$1" = Z ] && return 1
	echo "${20}"
}

# _cl_alive PID [START]: PID runs (not a zombie) and, if given, started at START.
# Reaps PID when it is a zombie child of this shell.
_cl_alive() {
	local s
	if s=$(_cl_proc_start "$1"); then
		[ -z "${2:-}" ] || [ "$s" = "$2" ]
		return
	fi
	[ -e "/proc/$1" ] && wait "$1" 2>/dev/null
	return 1
}

_cl_spawn() {
	local frz=$1 i=$2 name=$3 ns d cg pid start
	shift 3
	_cl_need_node "$i" || return 1
	case "$name" in
	'' | */* | .*) _cl_err "bad process name '$name'"; return 1 ;;
	esac
	[ $# -ge 1 ] || { _cl_err "no command for $name"; return 1; }
	ns=$(_cl_ns "$i")
	d=$(_cl_ndir "$i")
	cg=$(_cl_cg "$i")
	# Started from a subshell that exits at once: the process is not a job
	# of the test's shell (no zombie to reap, no "Killed" job notices).
	if [ "$frz" = 1 ]; then
		# The shell joins the freezer group, then execs: every descendant
		# inherits the group, there is no window outside it.
		pid=$(sh -c 'echo $$ >"$1/cgroup.procs" || exit 126; shift; exec "$@"' \
			sh "$cg" ip netns exec "$ns" "$@" </dev/null >>"$d/$name.log" 2>&1 &
			echo $!)
	else
		pid=$(ip netns exec "$ns" "$@" </dev/null >>"$d/$name.log" 2>&1 & echo $!)
	fi
	start=$(_cl_proc_start "$pid") || start=gone
	echo "$pid" >"$d/$name.pid"
	echo "$start" >"$d/$name.start"
	_cl_log "node $i: $name pid $pid (in freezer group: $frz)"
	echo "$pid"
}

cl_spawn() { _cl_spawn 1 "$@"; }
cl_spawn_outside() { _cl_spawn 0 "$@"; }

cl_exec() {
	local i=${1:-}
	_cl_need_node "$i" || return 1
	shift
	sh -c 'echo $$ >"$1/cgroup.procs" || exit 126; shift; exec "$@"' \
		sh "$(_cl_cg "$i")" ip netns exec "$(_cl_ns "$i")" "$@"
}

cl_pid() {
	local d pid start
	_cl_need_node "${1:-}" || return 1
	d=$(_cl_ndir "$1")
	[ -f "$d/$2.pid" ] || return 1
	read -r pid <"$d/$2.pid"
	read -r start <"$d/$2.start" 2>/dev/null || start=
	_cl_alive "$pid" "$start" || return 1
	echo "$pid"
}

# _cl_wait_gone SECS PID...: poll until none of the pids runs.
_cl_wait_gone() {
	local secs=$1 deadline p left
	shift
	deadline=$(($(_cl_now_cs) + secs * 100))
	while :; do
		left=
		for p in "$@"; do
			_cl_alive "$p" && left="$left $p"
		done
		[ -z "$left" ] && return 0
		[ "$(_cl_now_cs)" -ge "$deadline" ] &&
			{ _cl_err "still running after ${secs}s:$left"; return 1; }
		sleep 0.05
	done
}

cl_kill() {
	local i=${1:-} name=${2:-} sig=${3:-KILL} pid
	pid=$(cl_pid "$i" "$name") || { _cl_log "node $i: $name not running"; return 0; }
	kill -s "$sig" "$pid" 2>/dev/null || true
	case "$sig" in
	STOP | CONT | SIGSTOP | SIGCONT | 0 | 19 | 18) return 0 ;;
	esac
	# A stopped process would keep a TERM pending forever.
	[ "$sig" = KILL ] || [ "$sig" = 9 ] || kill -s CONT "$pid" 2>/dev/null
	_cl_wait_gone 30 "$pid"
}

cl_stop_proc() { cl_kill "${1:-}" "${2:-}" STOP; }
cl_cont_proc() { cl_kill "${1:-}" "${2:-}" CONT; }

_cl_cg_pids() { cat "$1/cgroup.procs" 2>/dev/null; }

# _cl_freeze CG STATE: write FROZEN or THAWED and poll until reached
# (FREEZING is transient; a task in uninterruptible sleep can hold it).
_cl_freeze() {
	local cg=$1 want=$2 deadline cur
	[ -f "$cg/freezer.state" ] || return 0
	echo "$want" >"$cg/freezer.state" || return 1
	deadline=$(($(_cl_now_cs) + 1000))
	while read -r cur <"$cg/freezer.state" && [ "$cur" != "$want" ]; do
		[ "$(_cl_now_cs)" -ge "$deadline" ] &&
			{ _cl_err "$cg: freezer.state $cur, wanted $want"; return 1; }
		echo "$want" >"$cg/freezer.state"
		sleep 0.02
	done
}

cl_pause() { _cl_need_node "${1:-}" && _cl_freeze "$(_cl_cg "$1")" FROZEN; }
cl_resume() { _cl_need_node "${1:-}" && _cl_freeze "$(_cl_cg "$1")" THAWED; }

# _cl_kill_cg CG SECS: SIGKILL until the group is empty.  Frozen tasks only
# die once thawed, so kill first (nothing runs in between), then thaw.
_cl_kill_cg() {
	local cg=$1 secs=$2 deadline pids p
	[ -d "$cg" ] || return 0
	deadline=$(($(_cl_now_cs) + secs * 100))
	while pids=$(_cl_cg_pids "$cg") && [ -n "$pids" ]; do
		for p in $pids; do kill -KILL "$p" 2>/dev/null; done
		_cl_freeze "$cg" THAWED
		for p in $pids; do _cl_alive "$p"; done
		[ "$(_cl_now_cs)" -ge "$deadline" ] &&
			{ _cl_err "$cg still has:" $pids; return 1; }
		sleep 0.05
	done
}

cl_kill_node() {
	_cl_need_node "${1:-}" || return 1
	_cl_kill_cg "$(_cl_cg "$1")" 30
}

cl_start_corosync() {
	local i=${1:-} d
	_cl_need_node "$i" || return 1
	d=$(_cl_ndir "$i")
	if cl_pid "$i" corosync >/dev/null; then
		_cl_err "node $i: corosync already running"
		return 1
	fi
	cl_spawn "$i" corosync unshare -m sh -c '
		mount -t tmpfs -o mode=0755 sdlmt-run /run &&
		mount --bind "$1" /var/lib/corosync || exit 125
		shift
		exec "$@"' sh "$d/var-lib-corosync" corosync -f -c "$d/corosync.conf" >/dev/null
}

cl_start_all() {
	local i
	for ((i = 1; i <= ${CL_N:-0}; i++)); do
		cl_start_corosync "$i" || return 1
	done
}

# _cl_qt I: `corosync-quorumtool -s -p` of node I, run outside its freezer
# group.  Exit status 0 quorate, 2 not quorate, other = no answer.
_cl_qt() {
	ip netns exec "$(_cl_ns "$1")" timeout 5 corosync-quorumtool -s -p 2>&1
}

# Member ids from the "Membership information" table of -s -p output.
_cl_qt_members() {
	awk '/^Membership information/ { m = 1; next }
	     m && $1 ~ /^[0-9]+$/ { print $1 }' | sort -n | paste -sd' '
}

cl_members() {
	local out
	_cl_need_node "${1:-}" || return 1
	out=$(_cl_qt "$1")
	case $? in 0 | 2) ;; *) return 1 ;; esac
	printf '%s\n' "$out" | _cl_qt_members
}

cl_quorate() {
	_cl_need_node "${1:-}" || return 1
	_cl_qt "$1" >/dev/null
}

# Not the negation of cl_quorate: a node that does not answer is neither.
cl_inquorate() {
	_cl_need_node "${1:-}" || return 1
	_cl_qt "$1" >/dev/null
	[ $? = 2 ]
}

# cl_ring_id I: node I's current totem ring id ("1.d"), to count re-forms.
cl_ring_id() {
	_cl_need_node "${1:-}" || return 1
	_cl_qt "$1" | awk '/^Ring ID:/ { print $3 }'
}

_cl_norm_ids() { printf '%s\n' $1 | sort -n | paste -sd' '; }

# Poll condition for cl_wait_quorate; prints what it saw for cl_wait_for.
_cl_is_quorate_with() {
	local out rc got
	out=$(_cl_qt "$1")
	rc=$?
	got=$(printf '%s\n' "$out" | _cl_qt_members)
	printf 'node %s: quorumtool rc=%s members [%s]\n%s\n' "$1" "$rc" "$got" "$out"
	[ "$rc" = 0 ] && [ "$(printf '%s\n' $got | grep -c .)" = "$2" ]
}

_cl_has_members() {
	local got
	got=$(cl_members "$1")
	printf 'node %s: members [%s], want [%s]\n' "$1" "$got" "$2"
	[ "$got" = "$2" ]
}

cl_wait_quorate() {
	local i=${1:-} secs=${2:-60} count=${3:-${CL_N:-0}}
	_cl_need_node "$i" || return 1
	cl_wait_for "node $i quorate with $count members" "$secs" _cl_is_quorate_with "$i" "$count"
}

cl_wait_members() {
	local i=${1:-} want secs=${3:-60}
	_cl_need_node "$i" || return 1
	want=$(_cl_norm_ids "${2:-}")
	cl_wait_for "node $i members [$want]" "$secs" _cl_has_members "$i" "$want"
}

cl_wait_for() {
	local desc=${1:-} secs=${2:-} deadline out rc
	case "$secs" in
	'' | *[!0-9.]*) _cl_err "usage: cl_wait_for DESC SECS CMD..."; return 1 ;;
	esac
	shift 2
	deadline=$(($(_cl_now_cs) + ${secs%.*} * 100))
	while :; do
		out=$("$@" 2>&1)
		rc=$?
		[ "$rc" = 0 ] && return 0
		[ "$(_cl_now_cs)" -ge "$deadline" ] && break
		_cl_sleep_poll
	done
	{
		echo "cl_wait_for: timed out after ${secs}s waiting for: $desc"
		echo "  last command: $*  (exit $rc)"
		printf '%s\n' "$out" | sed 's/^/  | /'
	} >&2
	return 1
}

# _cl_nft I TABLE RULESET: (re)load one table in node I's netns atomically.
_cl_nft() {
	local ns
	ns=$(_cl_ns "$1")
	ip netns exec "$ns" nft -f - <<EOF
table inet $2
delete table inet $2
table inet $2 {
$3
}
EOF
}

_cl_nft_del() {
	ip netns exec "$(_cl_ns "$1")" nft delete table inet "$2" 2>/dev/null
	return 0
}

# Priority -300: before conntrack and any table a test adds itself.
cl_cut() {
	_cl_need_node "${1:-}" || return 1
	_cl_nft "$1" sdlmt_cut '
	chain input { type filter hook input priority -300; policy accept; iifname != "lo" drop; }
	chain output { type filter hook output priority -300; policy accept; oifname != "lo" drop; }'
}

cl_heal() { _cl_need_node "${1:-}" && _cl_nft_del "$1" sdlmt_cut; }

cl_partition() {
	local g h i j peers set
	[ $# -ge 2 ] || { _cl_err "usage: cl_partition \"1 2\" \"3\" ..."; return 1; }
	for g in "$@"; do
		for i in $g; do
			_cl_need_node "$i" || return 1
			peers=
			for h in "$@"; do
				[ "$h" = "$g" ] && continue
				for j in $h; do peers="$peers${peers:+, }$(_cl_addr "$j")"; done
			done
			[ -n "$peers" ] || continue
			set="{ $peers }"
			_cl_nft "$i" sdlmt_part "
	chain input { type filter hook input priority -300; policy accept; ip saddr $set drop; }
	chain output { type filter hook output priority -300; policy accept; ip daddr $set drop; }" ||
				return 1
		done
	done
}

cl_heal_all() {
	local i t
	for ((i = 1; i <= ${CL_N:-0}; i++)); do
		for t in sdlmt_cut sdlmt_part sdlmt_loss; do _cl_nft_del "$i" "$t"; done
	done
}

# PROB as a fraction (0.02) or a percentage (2%); nft draws per packet.
# DIR: both (default), in or out.
cl_loss() {
	local i=${1:-} p=${2:-} dir=${3:-both} permille rules=
	_cl_need_node "$i" || return 1
	case "$p" in
	*%) permille=$(awk -v p="${p%\%}" 'BEGIN { printf "%d", p * 10 + 0.5 }') ;;
	*) permille=$(awk -v p="$p" 'BEGIN { printf "%d", p * 1000 + 0.5 }') ;;
	esac
	[ -n "$permille" ] && [ "$permille" -ge 0 ] && [ "$permille" -le 1000 ] ||
		{ _cl_err "bad probability '$p'"; return 1; }
	case "$dir" in
	both | in)
		rules="$rules
	chain input { type filter hook input priority -290; policy accept; iifname != \"lo\" numgen random mod 1000 < $permille drop; }" ;;
	out) ;;
	*) _cl_err "cl_loss: direction must be both, in or out"; return 1 ;;
	esac
	case "$dir" in
	both | out)
		rules="$rules
	chain output { type filter hook output priority -290; policy accept; oifname != \"lo\" numgen random mod 1000 < $permille drop; }" ;;
	esac
	_cl_nft "$i" sdlmt_loss "$rules"
}

cl_loss_off() { _cl_need_node "${1:-}" && _cl_nft_del "$1" sdlmt_loss; }

cl_make_disk() {
	local mb=${1:-} mode=${2:-} img fstype dev
	case "$mb" in
	'' | *[!0-9]*) _cl_err "usage: cl_make_disk SIZE_MB [loop]"; return 1 ;;
	esac
	_cl_init || return 1
	img=$CL_DIR/disk.img
	fstype=$(stat -f -c %T "$CL_DIR") || return 1
	[ "$fstype" != tmpfs ] ||
		{ _cl_err "$CL_DIR is on tmpfs: O_DIRECT fails there; set CL_TMPDIR"; return 1; }
	rm -f "$img"
	fallocate -l "${mb}M" "$img" 2>/dev/null || truncate -s "${mb}M" "$img" || return 1
	CL_DISK=$img
	if [ "$mode" = loop ]; then
		dev=$(losetup -f --show "$img") || { _cl_err "losetup failed"; return 1; }
		_cl_record loops "$dev $img"
		CL_DISK=$dev
	fi
	export CL_DISK
	echo "$CL_DISK"
}

# Every pid ever recorded by cl_spawn*, alive or not.
_cl_recorded_pids() {
	local f pid
	[ -d "${CL_DIR:-/nonexistent}" ] || return 0
	for f in "$CL_DIR"/n*/*.pid; do
		[ -f "$f" ] && read -r pid <"$f" && echo "$pid"
	done
	return 0
}

# Every pid that belongs to the run: recorded ones that still match their
# start time, members of the node freezer groups, tasks in the namespaces.
_cl_run_pids() {
	local f pid start cg ns
	if [ -d "${CL_DIR:-/nonexistent}" ]; then
		for f in "$CL_DIR"/n*/*.pid; do
			[ -f "$f" ] || continue
			read -r pid <"$f"
			read -r start <"${f%.pid}.start" 2>/dev/null || start=
			_cl_alive "$pid" "$start" && echo "$pid"
		done
	fi
	for cg in /sys/fs/cgroup/freezer/"${CL_PREFIX}"*; do
		[ -d "$cg" ] && _cl_cg_pids "$cg"
	done
	for ns in $(_cl_run_netns); do
		ip netns pids "$ns" 2>/dev/null
	done
}

_cl_run_netns() {
	ip netns list 2>/dev/null | awk -v p="$CL_PREFIX" 'index($1, p) == 1 { print $1 }'
}

# shellcheck disable=SC2120
cl_leftovers() {
	local prefix="${CL_PREFIX:-}" pids p pid
	if [ -n "${1:-}" ]; then
		prefix="sdlmt-$1-"
	fi
	[ $# -gt 0 ] && shift
	[ -n "$prefix" ] || return 0
	(
		for pid in "$@"; do
			[ -e "/proc/$pid" ] && _cl_proc_start "$pid" >/dev/null &&
				echo "process $pid $(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null)"
			for p in /dev/shm/qb-"$pid"-* /dev/shm/qb-*-"$pid"-*; do
				[ -e "$p" ] && echo "shm $p"
			done
		done
		[ "$prefix" = "${CL_PREFIX:-}" ] || CL_DIR=
		CL_PREFIX=$prefix
		for p in $(_cl_run_netns); do
			echo "netns $p"
			ip netns exec "$p" nft list tables 2>/dev/null | sed "s/^/nft $p: /"
		done
		for p in /sys/fs/cgroup/freezer/"$prefix"*; do
			[ -d "$p" ] && echo "cgroup $p"
		done
		losetup -l -n -O NAME,BACK-FILE 2>/dev/null | awk -v p="$prefix" 'index($0, p) { print "loop " $0 }'
		pids=$(_cl_run_pids | sort -un)
		for p in $pids; do
			echo "process $p $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null)"
		done
		for p in /var/tmp/"$prefix"* ${CL_TMPDIR:+"$CL_TMPDIR"/"$prefix"*}; do
			[ -e "$p" ] && echo "dir $p"
		done
		[ -f "${CL_DIR:-/nonexistent}/shm" ] && while read -r p; do
			[ -e "$p" ] && echo "shm $p"
		done <"$CL_DIR/shm"
		true
	)
}

# libqb names its /dev/shm files after process ids: the corosync blackbox
# qb-corosync-<pid>-blackbox-{header,data} (8 MiB each), IPC rings
# qb-<server pid>-<client pid>-<conn>-<random>/.  A SIGKILLed process leaves
# them behind in the shared /dev/shm.  _cl_note_shm PID... records those of
# the given (dead) processes in $CL_DIR/shm.
_cl_note_shm() {
	local pid p
	[ -d "${CL_DIR:-/nonexistent}" ] || return 0
	for pid in "$@"; do
		for p in /dev/shm/qb-"$pid"-* /dev/shm/qb-*-"$pid"-*; do
			[ -e "$p" ] && echo "$p"
		done
	done >>"$CL_DIR/shm"
	return 0
}

cl_teardown() {
	local rc=0 pids allpids='' p cg ns deadline line dev img i
	_cl_load || [ -n "${CL_PREFIX:-}" ] || return 0
	_cl_log "teardown of run $CL_RUN_ID"

	# Processes first: a namespace or cgroup with tasks cannot go away.
	deadline=$(($(_cl_now_cs) + 3000))
	while pids=$(_cl_run_pids | sort -un) && [ -n "$pids" ]; do
		allpids="$allpids $pids"
		for p in $pids; do kill -KILL "$p" 2>/dev/null; done
		for cg in /sys/fs/cgroup/freezer/"${CL_PREFIX}"*; do
			[ -d "$cg" ] && _cl_freeze "$cg" THAWED
		done
		_cl_wait_gone 5 $pids 2>/dev/null
		[ "$(_cl_now_cs)" -ge "$deadline" ] && { _cl_err "cannot kill:" $pids; break; }
	done
	# shellcheck disable=SC2046,SC2086
	_cl_note_shm $(_cl_recorded_pids) $allpids
	if [ -f "${CL_DIR:-/nonexistent}/shm" ]; then
		while read -r p; do
			case "$p" in /dev/shm/qb-*) rm -rf -- "$p" ;; esac
		done <"$CL_DIR/shm"
		rm -f "$CL_DIR/shm"
	fi

	for cg in /sys/fs/cgroup/freezer/"${CL_PREFIX}"*; do
		[ -d "$cg" ] || continue
		_cl_freeze "$cg" THAWED
		rmdir "$cg" 2>/dev/null || _cl_err "cannot remove $cg"
	done

	for ns in $(_cl_run_netns); do
		case "$ns" in
		*hub) ;;
		*) for i in sdlmt_cut sdlmt_part sdlmt_loss; do
			ip netns exec "$ns" nft delete table inet "$i" 2>/dev/null
		done ;;
		esac
		ip netns del "$ns" || _cl_err "cannot delete netns $ns"
	done

	if [ -f "${CL_DIR:-/nonexistent}/loops" ]; then
		while read -r dev img; do
			# Only if the device still backs our file: never detach a
			# device someone attached after ours went away.
			if losetup -l -n -O BACK-FILE "$dev" 2>/dev/null | grep -qF "$img"; then
				losetup -d "$dev" || _cl_err "cannot detach $dev"
			fi
		done <"$CL_DIR/loops"
		rm -f "$CL_DIR/loops"
	fi

	line=$(cl_leftovers | grep -v '^dir ')
	if [ -n "$line" ]; then
		_cl_err "run $CL_RUN_ID left:"$'\n'"$line"
		echo "cl: keeping $CL_DIR" >&2
		rc=1
	elif [ "${CL_KEEP:-0}" = 1 ]; then
		echo "cl: CL_KEEP=1, run directory kept: $CL_DIR" >&2
	elif [ -d "${CL_DIR:-/nonexistent}" ] && [ -f "$CL_DIR/run.env" ]; then
		rm -rf -- "$CL_DIR"
	fi
	return "$rc"
}
