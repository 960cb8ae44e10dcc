#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/nemesis/nemesis.sh - a nemesis run: clients on every node of a real
# corosync cluster (tests/cluster/lib.sh + sdlm.sh) allocate UIDs and
# increment a lock-protected counter while faults are injected on a seeded
# schedule; then tests/nemesis/checker.py judges the history.
#
#   nemesis.sh [--seed S] [--duration SECS] [--nodes 3..5] [--clients K]
#              [--short] [--history FILE] [--kinds "K1 K2 ..."]
#
#   --short      every fault kind once, in a seeded order, with short
#                durations (part-split left out with 3 or 4 nodes: it
#                is part-alone there); tests/nemesis/t-nemesis.sh
#   --duration   (long run) inject random faults until SECS have passed
#   --kinds      draw faults only from these kinds (default: all, see
#                KINDS below); with --short each listed kind runs once
#   --history    copy the history there (it lives in the run dir otherwise,
#                which teardown removes unless CL_KEEP=1)
#
# Timeline of one fault (docs/nemesis.md has the table of kinds):
#
# After the run, tests/nemesis/digests.py compares the digest every node
# logged for its replica at each sync round: equal input, equal state.
#
#   fault ──hold──► heal ──► probe: on a quorate surviving node, one UID
#     │                      allocation + one EX lock of the counter, retried
#     │                      until both succeed or the bound passes
#     │                      (recover KIND SECONDS BOUND ok|timeout)
#     │                  ──► restore: every node that is gone, self-fenced or
#     │                      not fenced-safe in time is reset (its watchdog,
#     │                      else by us), restarted (corosync + sdlmd) and
#     │                      gets fresh clients; wait for N members
#     └── every step is a history line "nemesis fault|heal|restart ..."
#
# Bound after a heal: the longer of grace + corosync detection (token +
# consensus) and a disk-lost node's self-fence and reset (L + W + I), +
# dead bound + 10 s of slack for a 2-core machine running N nodes; the
# grace comes from `sdlmctl --json status` (grace_ms), the dead bound from
# the disk header (`sdlmctl --json fence dump`).
#
# Prints PASS:/FAIL: lines, the checker's verdict and its summary table;
# exits 0 when there is no violation and the cluster came back after every
# fault, 1 otherwise.  Everything is torn down on exit (sd_teardown).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${SDLM_BUILDDIR:=$top/_build}"
: "${SDLMD:=$SDLM_BUILDDIR/dlm/sdlmd}"
: "${SDLMCTL:=$SDLM_BUILDDIR/dlm/sdlmctl}"
: "${SDLM_WATCHDOG:=$SDLM_BUILDDIR/fence/sdlm-watchdog}"
: "${LOCKCLIENT:=$SDLM_BUILDDIR/tests/nemesis/lockclient}"
export SDLMD SDLMCTL SDLM_WATCHDOG
. "$here/../cluster/lib.sh"
. "$here/../cluster/sdlm.sh"
export SD_CTL_TIMEOUT=5

SEED=1 DURATION=600 NODES=3 CLIENTS=2 SHORT=0 HIST_COPY= ONLY_KINDS=
while [ $# -gt 0 ]; do
	case "$1" in
	--seed) SEED=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--nodes) NODES=$2; shift ;;
	--clients) CLIENTS=$2; shift ;;
	--short) SHORT=1 ;;
	--history) HIST_COPY=$2; shift ;;
	--kinds) ONLY_KINDS=$2; shift ;;
	-h | --help) sed -n '2,40p' "$0"; exit 0 ;;
	*) echo "nemesis: unknown argument '$1' (see --help)" >&2; exit 64 ;;
	esac
	shift
done
case "$SEED$DURATION$NODES$CLIENTS" in *[!0-9]*)
	echo "nemesis: --seed, --duration, --nodes and --clients take numbers" >&2; exit 64 ;;
esac
[ "$NODES" -ge 3 ] && [ "$NODES" -le 5 ] || { echo "nemesis: --nodes 3..5" >&2; exit 64; }
# Every draw comes from this one generator, in the main shell only (a
# $(...) would fork its state): a seed replays the same schedule.
RANDOM=$SEED

. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
finish() {
	[ -n "$HIST_COPY" ] && [ -f "${H:-/nonexistent}" ] && cp "$H" "$HIST_COPY"
	echo "nemesis: seed $SEED, $passes passed, $fails failed"
	[ "$fails" = 0 ] && exit 0
	exit 1
}
require() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; finish; fi; }
GUARD=
trap '[ -n "$GUARD" ] && kill "$GUARD" 2>/dev/null; sd_teardown' EXIT
trap 'echo "nemesis: interrupted"; exit 1' INT TERM

# rnd N: R = a draw in 0..N-1 (no subshell, see RANDOM above).
rnd() { R=$((RANDOM % $1)); }
now_ns() { "$LOCKCLIENT" now; }
hist() { echo "$* $(now_ns)" >>"$H"; }
log() { printf 'nemesis %6.1fs: %s\n' "$(elapsed_s)" "$*"; }
elapsed_s() { echo "$(( ($(_cl_now_cs) - T_START) / 100 )).$(( ($(_cl_now_cs) - T_START) % 100 / 10 ))"; }

# ---- the client binary --------------------------------------------------------
lockclient_build() {	# when the build tree has none (a run from the source tree)
	local out=$CL_DIR/lockclient
	cc -std=gnu11 -O2 -I"$top/include" -I"$top/dlm/lib" -I"$top/fence" "$here/lockclient.c" -o "$out" \
		-L"$SDLM_BUILDDIR/dlm/.libs" -lsdlm -Wl,-rpath,"$SDLM_BUILDDIR/dlm/.libs" || return 1
	LOCKCLIENT=$out
}

# ---- nodes --------------------------------------------------------------------
declare -A GEN	# node -> client generation (labels stay unique across restarts)

clients_start() {	# node
	local i=$1 k
	GEN[$i]=$(( ${GEN[$i]:--1} + 1 ))
	for ((k = 1; k <= CLIENTS; k++)); do
		cl_spawn "$i" "lc$k" "$LOCKCLIENT" run "$i" "n${i}c${k}g${GEN[$i]}" "$H" "$CTR" \
			-l t -m mb -r counter -H "$HOLD_MS" -t "$LOCK_TIMEOUT_MS" -s "$STOP" >/dev/null
	done
}

node_state() {	# node: ok | gone | fenced | unsafe
	local out
	cl_pid "$1" sdlmd >/dev/null || { echo gone; return; }
	out=$(sd_ctl "$1" status 2>/dev/null | sed -n 's/^state *//p')
	case "$out" in
	fenced-safe) echo ok ;;
	self-fenced* | "obeying pill"*) echo fenced ;;
	*) echo unsafe ;;
	esac
}

watchdog_pid() {	# node: the test watchdog's pid if it still runs
	local f="$CL_DIR/n$1/watchdog.pid" p
	[ -f "$f" ] || return 1
	read -r p <"$f"
	[ -r "/proc/$p/cmdline" ] && tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- "$CL_DIR/n$1/" &&
		echo "$p"
}

# node_reset I: make node I's machine "reset" for good: its watchdog gets
# W + a few seconds to do it (that is the design's reset), then whatever is
# left is killed by us, watchdog included.
node_reset() {
	local i=$1 wp
	if wp=$(watchdog_pid "$i") && [ "$(node_state "$i")" != gone ]; then
		cl_wait_for "node $i reset by its watchdog" $((W / 1000 + 12)) sd_node_gone "$i" 2>/dev/null
	fi
	cl_kill_node "$i"
	wp=$(watchdog_pid "$i") && kill -KILL "$wp" 2>/dev/null
	return 0
}

node_restart() {	# node: corosync, sdlmd, clients
	local i=$1
	log "node $i: restart"
	hist nemesis restart "$i"
	RESTARTS=$((RESTARTS + 1))
	node_reset "$i"
	cl_start_corosync "$i" >/dev/null || return 1
	# sdlmd refuses to start without its corosync (cmap).
	cl_wait_quorate "$i" 60 >/dev/null || return 1
	sd_start "$i" >/dev/null || return 1
	cl_wait_for "node $i fenced-safe after restart" 90 sd_status_has "$i" "fenced-safe" || return 1
	clients_start "$i"
}

all_members() {	# every node sees all N
	local i
	for ((i = 1; i <= NODES; i++)); do
		[ "$(cl_members "$i" 2>/dev/null)" = "$ALL" ] || return 1
	done
}

# restore: every node back, fenced-safe, all N members.  A node whose
# daemon is gone or fenced is restarted at once; one that is merely not
# safe yet (membership re-forming, disk coming back) gets SETTLE seconds.
restore() {
	local i st deadline ok
	deadline=$(($(_cl_now_cs) + SETTLE * 100))
	while :; do
		ok=1
		for ((i = 1; i <= NODES; i++)); do
			st=$(node_state "$i")
			case "$st" in
			ok) ;;
			gone | fenced) node_restart "$i" || { fail "node $i restarts"; return 1; } ;;
			*) if [ "$(_cl_now_cs)" -ge "$deadline" ]; then
				log "node $i still $st after ${SETTLE}s"
				node_restart "$i" || { fail "node $i restarts"; return 1; }
			   else ok=0; fi ;;
			esac
		done
		[ "$ok" = 1 ] && break
		sleep 0.5
	done
	cl_wait_for "all $NODES members on every node" 90 all_members || return 1
}

# ---- recovery probe -----------------------------------------------------------
# probe_node VICTIMS [NODE]: PROBE = the lowest quorate node with a safe
# daemon not in VICTIMS, or NODE alone when given.
probe_node() {
	local i
	for ((i = 1; i <= NODES; i++)); do
		case " $1 " in *" $i "*) continue ;; esac
		[ -n "${2:-}" ] && [ "$i" != "$2" ] && continue
		cl_quorate "$i" 2>/dev/null && [ "$(node_state "$i")" = ok ] && { PROBE=$i; return 0; }
	done
	return 1
}

# diagnose KIND: what every node thinks, kept in $CL_DIR/diag-N.txt and
# (its lock tables) printed, when the cluster did not come back.
diagnose() {
	local i f=$CL_DIR/diag-$PROBES.txt
	{
		for ((i = 1; i <= NODES; i++)); do
			# The debug ring first: every sdlmctl call adds IPC noise.
			echo "=== node $i after $1: sdlmctl dump (last 80 lines, IPC noise left out)"
			sd_ctl "$i" dump 2>&1 | grep -v ' [DE] \(IPC\|connecting\|added\|LIVENESS\|HUP\|qb_ipcs\|0: getsockopt\|ENTERING\)' | tail -80
			echo "--- node $i: members [$(cl_members "$i" 2>/dev/null)]"
			sd_ctl "$i" status 2>&1
			sd_ctl "$i" locks t 2>&1
			sd_ctl "$i" uid list 2>&1
		done
	} >"$f"
	echo "nemesis: the cluster did not serve again after $1; lock tables (all in $f):"
	for ((i = 1; i <= NODES; i++)); do
		echo "  node $i:"; sd_ctl "$i" locks t 2>&1 | sed 's/^/    /'
	done
}

# probe KIND VICTIMS [NODE]: time until a surviving quorate node (NODE
# itself, when given) completes one allocation and one EX lock of the
# counter (the resource every client contends for, so a dead or away
# holder must have been dealt with).
probe() {
	local kind=$1 victims=$2 node=${3:-} t0 left secs verdict=timeout n=0
	t0=$(_cl_now_cs)
	while :; do
		left=$(( BOUND_S - ($(_cl_now_cs) - t0) / 100 ))
		[ "$left" -le 0 ] && break
		if probe_node "$victims" "$node"; then
			n=$((n + 1))
			if ip netns exec "${CL_PREFIX}n$PROBE" timeout "$left" "$LOCKCLIENT" run "$PROBE" \
				"probe${PROBES}n$PROBE.$n" "$H" "$CTR" -l t -m mb -r counter -H 0 \
				-t $((left * 1000)) -n 1 >/dev/null 2>&1; then
				verdict=ok
				break
			fi
		fi
		sleep 0.3
	done
	PROBES=$((PROBES + 1))
	[ "$verdict" = ok ] || diagnose "$kind"
	secs=$(( ($(_cl_now_cs) - t0) / 100 )).$(( ($(_cl_now_cs) - t0) % 100 / 10 ))
	hist recover "$kind" "$secs" "$BOUND_S" "$verdict"
	log "$kind: serving again after $secs s (bound $BOUND_S s): $verdict"
	[ "$verdict" = ok ]
}

# ---- faults -------------------------------------------------------------------
# Each fault_* injects, holds for $2 seconds and heals; VICTIMS is set to
# the nodes that may not serve the probe.
pick_node() { rnd "$NODES"; V=$((R + 1)); }
others_of() { local i o=; for ((i = 1; i <= NODES; i++)); do [ "$i" = "$1" ] || o="$o $i"; done; echo "${o# }"; }

fault_kill() {
	pick_node; VICTIMS=$V
	hist nemesis fault kill "$V" -
	log "kill -9 node $V (its watchdog too: the machine is gone)"
	cl_kill_node "$V"
	local wp
	wp=$(watchdog_pid "$V") && kill -KILL "$wp" 2>/dev/null
	hist nemesis heal kill
}

fault_stop() {	# stop-sdlmd | stop-corosync
	local what=${1#stop-} d=$2
	pick_node; VICTIMS=$V
	hist nemesis fault "$1" "$V" "${d}s"
	log "SIGSTOP $what on node $V for $d s"
	cl_stop_proc "$V" "$what"
	sleep "$d"
	cl_cont_proc "$V" "$what"
	hist nemesis heal "$1"
}

# A whole node paused: every process of it frozen by the cgroup freezer,
# its test watchdog outside the group (as a hardware watchdog would be),
# so a pause past the watchdog timeout resets the node.
fault_freeze() {
	local d=$1
	pick_node; VICTIMS=$V
	hist nemesis fault freeze "$V" "${d}s"
	log "freeze every process of node $V for $d s (its watchdog runs on)"
	cl_pause "$V"
	sleep "$d"
	cl_resume "$V"
	hist nemesis heal freeze
}

# The hazard of issue 12: node V the sole member of a lockspace of its
# own (soleK: a fresh one per fault), allocating in its mailbox; V paused
# with its watchdog (sd_vm_pause) until another node U, asking for the
# same mailbox meanwhile, has formed a replica of soleK without V - that
# is, V was excluded from the ring and U joined: the hazard reached - but
# never to the dead bound: V is thawed at the latest D - 2I after the
# pause (U's fencer may then have fenced it through its pill, which V
# acknowledges after the thaw, never by the dead path).  The wait for the
# hazard ends I earlier, for the resume (arm the watchdog, thaw).  A
# resume that cannot thaw V by D - 2I (a machine so loaded that it could
# not even run that) resets V instead, as a kill: thawed past D, V's
# clients would write under locks the dead path gave away - outside the
# design (docs/timeouts.md A1), not a finding.  Both clients go on until
# the run ends, so later faults meet two replicas that both think they
# are the lockspace's.  SOLE_TRIES counts the faults, SOLE_REACHED those
# that reached the hazard.
fault_sole_freeze() {
	local ls u f0 limit by m lbl ctr wp rc
	pick_node; VICTIMS=$V
	SOLE_TRIES=$((SOLE_TRIES + 1))
	ls=sole$SOLE_TRIES
	ctr=$CL_DIR/ctr-$ls
	"$LOCKCLIENT" counter-init "$ctr" || return 0
	lbl=n${V}s$SOLE_TRIES
	cl_spawn "$V" "sv$SOLE_TRIES" "$LOCKCLIENT" run "$V" "$lbl" "$H" "$ctr" \
		-l "$ls" -m "$ls" -r "ctr-$ls" -H "$HOLD_MS" -t "$LOCK_TIMEOUT_MS" -s "$STOP" >/dev/null
	if ! cl_wait_for "node $V allocates in $ls" "$BOUND_S" grep -q "^got $lbl " "$H" >/dev/null 2>&1; then
		log "sole-freeze: node $V could not allocate in $ls: hazard not tried"
		return 0
	fi
	while :; do rnd "$NODES"; u=$((R + 1)); [ "$u" != "$V" ] && break; done
	m=$(wc -l <"$CL_DIR/n$u/sdlmd-file.log")
	hist nemesis fault sole-freeze "$V" "$ls,joiner=$u"
	log "sole-freeze: node $V, sole member of $ls, paused with its watchdog; node $u asks for its mailbox"
	f0=$(_cl_now_cs)
	by=$((f0 + (DEAD - 2 * I) / 10))
	limit=$((by - I / 10))
	sd_vm_pause "$V"
	cl_spawn "$u" "sj$SOLE_TRIES" "$LOCKCLIENT" run "$u" "n${u}j$SOLE_TRIES" "$H" "$ctr" \
		-l "$ls" -m "$ls" -r "ctr-$ls" -H "$HOLD_MS" -t "$LOCK_TIMEOUT_MS" -s "$STOP" >/dev/null
	while ! tail -n +$((m + 1)) "$CL_DIR/n$u/sdlmd-file.log" | grep -q "ls $ls: formed"; do
		[ "$(_cl_now_cs)" -ge "$limit" ] && break
		sleep 0.1
	done
	if tail -n +$((m + 1)) "$CL_DIR/n$u/sdlmd-file.log" | grep -q "ls $ls: formed"; then
		SOLE_REACHED=$((SOLE_REACHED + 1))
		log "sole-freeze: hazard reached after $(( ($(_cl_now_cs) - f0) / 100 )) s: node $u formed $ls while node $V was out"
	else
		log "sole-freeze: hazard NOT reached within D - 3I = $(( (DEAD - 3 * I) / 1000 )) s"
	fi
	sd_vm_resume "$V" "$by"
	rc=$?
	if [ "$rc" = 0 ]; then
		f0=$(($(_cl_now_cs) - f0))
		log "sole-freeze: node $V thawed $((f0 / 100)).$((f0 % 100 / 10)) s after the pause (D - 2I = $(( (DEAD - 2 * I) / 1000 )) s)"
	else
		log "sole-freeze: node $V could not be thawed by D - 2I (resume: exit $rc): reset instead, as a kill"
		cl_kill_node "$V"
		wp=$(watchdog_pid "$V") && kill -KILL "$wp" 2>/dev/null
	fi
	hist nemesis heal sole-freeze
}

# Late landing of UID record writes (issue 13, hole 1): node V's UID
# service writes are withheld by the aio LATE fault and land T + I after
# submission - after their deadline, so the service sees the timeout - for
# d seconds.  The hazard: a timed-out record write kept in flight and then
# reaped (V logs "has left the kernel"); LATE_TRIES counts the faults,
# LATE_REACHED those that reached it.
fault_uid_late() {
	local d=$1 spec m log
	pick_node; VICTIMS=$V
	log=$CL_DIR/n$V/sdlmd-file.log
	LATE_TRIES=$((LATE_TRIES + 1))
	spec="uid write:late=$((T + I))"
	m=$(grep -c "has left the kernel" "$log")
	hist nemesis fault uid-late "$V" "$spec,${d}s"
	log "uid-late: node $V's UID record writes land $((T + I)) ms after submission for $d s"
	sd_fault "$V" "$spec"
	sleep "$d"
	sd_fault "$V" none
	# the last withheld write lands T + I after it was submitted and is
	# reaped at the next heartbeat tick
	sleep $(( (T + 2 * I) / 1000 + 1 ))
	if [ "$(grep -c "has left the kernel" "$log")" -gt "$m" ]; then
		LATE_REACHED=$((LATE_REACHED + 1))
		log "uid-late: hazard reached: a timed-out UID record write of node $V was kept in flight until it landed"
	else
		log "uid-late: hazard NOT reached (node $V wrote no UID record in the window)"
	fi
	hist nemesis heal uid-late
}

# A pill read while a UID record write is in flight (issue 13, hole 2):
# node V's UID record writes are withheld and land 3T after submission;
# as soon as V logged one timing out (the write is still to land), a reset
# pill is written into V's slot from outside, as an operator's `sdlmctl
# fence message` or fence_sdlm would.  The hazard: V read the pill and
# stopped its lock users with that write still in flight (V logs "the
# acknowledgement waits").  V may acknowledge only once the write has left
# the kernel; it is then reset and restored.  The checker judges what the
# late write could break: the next holder's UIDs.  ACKW_TRIES counts the
# faults, ACKW_REACHED those that reached the hazard.
fault_pill_uid_late() {
	local spec m w log deadline
	pick_node; VICTIMS=$V
	log=$CL_DIR/n$V/sdlmd-file.log
	ACKW_TRIES=$((ACKW_TRIES + 1))
	spec="uid write:late=$((3 * T))"
	m=$(grep -c "record write (slot .*I/O timed out" "$log")
	w=$(grep -c "the acknowledgement waits" "$log")
	hist nemesis fault pill-uid-late "$V" "$spec"
	log "pill-uid-late: node $V's UID record writes land $((3 * T)) ms after submission"
	sd_fault "$V" "$spec"
	# a record write of V's clients times out within a lease or so
	deadline=$(( $(_cl_now_cs) + (L + 2 * T) / 10 + 500 ))
	while [ "$(grep -c "record write (slot .*I/O timed out" "$log")" -le "$m" ]; do
		if [ "$(_cl_now_cs)" -ge "$deadline" ]; then
			sd_fault "$V" none
			log "pill-uid-late: hazard NOT reached (node $V wrote no UID record in the window)"
			hist nemesis heal pill-uid-late
			return 0
		fi
		sleep 0.1
	done
	"$SDLMCTL" fence message -d "$SD_DISK" "$V" reset >/dev/null 2>&1 ||
		log "pill-uid-late: writing the pill to node $V failed"
	sd_fault "$V" none	# writes already withheld keep their landing time
	if cl_wait_for "node $V reads the pill" $(( ACK / 1000 + 5 )) \
		sh -c '[ "$(grep -c "the acknowledgement waits" "$1")" -gt "$2" ]' sh "$log" "$w"; then
		ACKW_REACHED=$((ACKW_REACHED + 1))
		log "pill-uid-late: hazard reached: node $V read its pill with a UID record write in flight"
	else
		log "pill-uid-late: hazard NOT reached (the write had landed before node $V read its pill)"
	fi
	hist nemesis heal pill-uid-late
}

# A node cut off the cluster network, its disk kept (issue 19 item 4,
# docs/design-handoff.md): every packet of node V but loopback dropped
# (cl_cut: corosync and the fast path gone; the shared disk is a local
# device and keeps working) for d seconds, longer than corosync's
# detection + the grace, while another node wants V's locks.  So that V
# surely holds something wanted, a client of V's runs alone on a
# resource and a mailbox of their own (cut<K>, its counter ctr-cut<K>)
# until it has entered once: V keeps both cached.  Then V is cut and a
# client on another node U asks for both.  Expected: U's side asks V
# through the disk (no grace), V answers in its own slot, the fencer
# releases on its behalf, and U gets the mailbox and then the lock -
# two hand-offs in series, within detection + 2B - with nobody fenced or
# reset; after the heal V rejoins and serves again.  Recorded: recover
# cut-off/handoff (the cut to U's first critical section of cut<K>;
# verdict no-handoff when U got it without "node V gave ... back through
# the disk" in a daemon's log), and, by cut_off_judge after the restore,
# recover cut-off/rejoin and nemesis fences.  Both clients go on to the
# end of the run, so the checker judges cut<K>'s sections and UIDs
# across the hand-off.  CUT_TRIES counts the faults, CUT_MOVED those
# whose lock moved through the disk.
fault_cut_off() {
	local d=$1 u k res ctr lbl t0 off secs verdict=timeout i
	pick_node; VICTIMS=$V
	CUT_TRIES=$((CUT_TRIES + 1)); k=$CUT_TRIES
	res=cut$k ctr=$CL_DIR/ctr-cut$k lbl=n${V}v$k
	"$LOCKCLIENT" counter-init "$ctr" || return 0
	cl_spawn "$V" "cv$k" "$LOCKCLIENT" run "$V" "$lbl" "$H" "$ctr" \
		-l t -m "$res" -r "$res" -H "$HOLD_MS" -t "$LOCK_TIMEOUT_MS" -s "$STOP" >/dev/null
	if ! cl_wait_for "node $V holds $res" "$BOUND_S" grep -q "^enter $lbl " "$H" >/dev/null 2>&1; then
		log "cut-off: node $V could not take $res: not tried"
		return 0
	fi
	while :; do rnd "$NODES"; u=$((R + 1)); [ "$u" != "$V" ] && break; done
	for ((i = 1; i <= NODES; i++)); do CUT_M[i]=$(wc -l <"$CL_DIR/n$i/sdlmd-file.log"); done
	CUT_R0=$RESTARTS CUT_NODE=$V
	off=$(stat -c %s "$H")
	hist nemesis fault cut-off "$V" "$res,wanted-by=$u,${d}s"
	log "cut-off: node $V, holding $res, cut off the cluster network (its disk kept) for $d s; node $u asks for $res"
	t0=$(_cl_now_cs)
	cl_cut "$V"
	cl_spawn "$u" "cu$k" "$LOCKCLIENT" run "$u" "n${u}u$k" "$H" "$ctr" \
		-l t -m "$res" -r "$res" -H "$HOLD_MS" -t $((HO_BOUND_S * 1000)) -s "$STOP" >/dev/null
	while [ $(( ($(_cl_now_cs) - t0) / 100 )) -lt "$HO_BOUND_S" ]; do
		tail -c +$((off + 1)) "$H" | grep -q "^enter n${u}u$k " && { verdict=ok; break; }
		sleep 0.2
	done
	secs=$(( ($(_cl_now_cs) - t0) / 100 )).$(( ($(_cl_now_cs) - t0) % 100 / 10 ))
	if [ "$verdict" = ok ] && ! cut_off_grep "node $V gave [0-9a-f]* back through the disk" >/dev/null; then
		verdict=no-handoff
	fi
	[ "$verdict" = ok ] && CUT_MOVED=$((CUT_MOVED + 1))
	hist recover cut-off/handoff "$secs" "$HO_BOUND_S" "$verdict"
	log "cut-off: node $u got $res after $secs s (bound detection + 2B + 10 s = $HO_BOUND_S s): $verdict"
	cut_off_grep "handed off through the disk while cut off" | head -4 | sed 's/^/    /'
	while [ "$(_cl_now_cs)" -lt $((t0 + d * 100)) ]; do sleep 0.2; done
	cl_heal "$V"
	hist nemesis heal cut-off
	CUT_JUDGE=1
}

# cut_off_grep ERE: the lines every daemon logged since the cut that match,
# each prefixed with its node (a log shorter than at the cut - the node
# restarted with a new one - is read whole).
cut_off_grep() {
	local i m f
	for ((i = 1; i <= NODES; i++)); do
		f=$CL_DIR/n$i/sdlmd-file.log
		m=${CUT_M[$i]:-0}
		[ "$(wc -l <"$f")" -lt "$m" ] && m=0
		tail -n +$((m + 1)) "$f" | grep -E -- "$1" | sed "s/^/node $i: /"
	done | grep .
}

# After a cut-off's heal, probe and restore: the node cut off serves again
# (recover cut-off/rejoin, on that node), and nobody was fenced or reset
# for it - counted from every daemon's log since the cut (a fence
# completed, the fallback after the bound B or the grace, a pill read,
# lock use stopped, a self-fence) and from the driver's restarts; the
# count is "nemesis fences cut-off N" and the checker wants N = 0.
FENCE_ERE='fence node [0-9]+: fenced \(|back through the disk within [0-9]+ ms: fencing it|fencing it after the grace instead|stopping all lock use|self-fencing|pill read|the cluster fenced this incarnation|cold start: fencing node'
cut_off_judge() {
	local ev n r
	[ "${CUT_JUDGE:-0}" = 1 ] || return 0
	CUT_JUDGE=0
	probe cut-off/rejoin "" "$CUT_NODE"
	ev=$(cut_off_grep "$FENCE_ERE")
	n=$(printf '%s' "$ev" | grep -c .)
	r=$((RESTARTS - CUT_R0))
	hist nemesis fences cut-off $((n + r))
	if [ $((n + r)) = 0 ]; then
		log "cut-off: nobody fenced or reset (no fence, pill or self-fence in any daemon's log since the cut, no restart)"
	else
		log "cut-off: $n fence line(s) in the daemons' logs since the cut, $r node restart(s):"
		printf '%s\n' "$ev" | sed 's/^/    /'
	fi
}

fault_partition() {	# part-alone | part-split | part-overlap
	local kind=$1 d=$2 a b minority='' majority='' i size
	pick_node; a=$V
	case "$kind" in
	part-alone) minority=$a ;;
	part-split)	# a clean split: the largest minority, drawn at random
		size=$(( (NODES - 1) / 2 ))
		minority=$a
		while [ "$(echo $minority | wc -w)" -lt "$size" ]; do
			pick_node
			case " $minority " in *" $V "*) ;; *) minority="$minority $V" ;; esac
		done ;;
	part-overlap)	# only the link a-b is cut: {a, rest} and {b, rest} both majorities
		while :; do pick_node; [ "$V" != "$a" ] && break; done
		b=$V ;;
	esac
	if [ "$kind" = part-overlap ]; then
		VICTIMS=""
		hist nemesis fault "$kind" "$a,$b" "${d}s"
		log "partition: link $a-$b cut (overlapping majorities) for $d s"
		cl_partition "$a" "$b"
	else
		for ((i = 1; i <= NODES; i++)); do
			case " $minority " in *" $i "*) ;; *) majority="$majority $i" ;; esac
		done
		VICTIMS=$minority
		hist nemesis fault "$kind" "$(echo $minority | tr ' ' ,)" "${d}s"
		log "partition: [$minority] | [${majority# }] for $d s"
		cl_partition "$minority" "${majority# }"
	fi
	sleep "$d"
	cl_heal_all
	hist nemesis heal "$kind"
}

fault_loss() {	# loss-2pct | loss-20pct
	local kind=$1 d=$2 p i
	p=${kind#loss-}; p=${p%pct}%
	VICTIMS=""
	hist nemesis fault "$kind" all "${d}s"
	log "$p random loss on every node's output for $d s"
	for ((i = 1; i <= NODES; i++)); do cl_loss "$i" "$p" out; done
	sleep "$d"
	for ((i = 1; i <= NODES; i++)); do cl_loss_off "$i"; done
	hist nemesis heal "$kind"
}

fault_disk() {	# disk-eio | disk-stall | disk-lost
	local kind=$1 d=$2 spec
	case "$kind" in
	disk-eio) spec="write:error=EIO" ;;
	disk-stall) spec="all:stall=$STALL_MS" ;;
	disk-lost) spec="all:error=EIO" ;;
	esac
	pick_node; VICTIMS=$V
	hist nemesis fault "$kind" "$V" "$spec,${d}s"
	log "disk fault '$spec' on node $V for $d s"
	sd_fault "$V" "$spec"
	sleep "$d"
	sd_fault "$V" none
	hist nemesis heal "$kind"
}

# run_fault KIND SECONDS: inject, heal, probe, restore.
run_fault() {
	local kind=$1 d=$2
	VICTIMS=""
	case "$kind" in
	kill) fault_kill ;;
	stop-*) fault_stop "$kind" "$d" ;;
	freeze) fault_freeze "$d" ;;
	sole-freeze) fault_sole_freeze ;;
	uid-late) fault_uid_late "$d" ;;
	pill-uid-late) fault_pill_uid_late ;;
	part-*) fault_partition "$kind" "$d" ;;
	cut-off) fault_cut_off "$d" ;;
	loss-*) fault_loss "$kind" "$d" ;;
	disk-*) fault_disk "$kind" "$d" ;;
	esac
	FAULTS=$((FAULTS + 1))
	# A cluster that does not serve again makes every later fault moot:
	# stop the schedule there and judge the history.
	if ! probe "$kind" "$VICTIMS"; then
		fail "$kind: the cluster serves again within $BOUND_S s"
		cut_off_judge
		return 1
	fi
	if ! restore; then
		fail "$kind: every node back after the fault"
		cut_off_judge
		return 1
	fi
	cut_off_judge
}

# Durations.  Short run: one of each kind, around the corosync token for
# pauses, below corosync's detection for partitions, past detection + the
# grace for the cut-off (what it is about), packet loss in a short phase
# and a 20 % burst of a few seconds.
short_duration() {
	case "$1" in
	kill | sole-freeze | pill-uid-late) D_S=0 ;;
	stop-sdlmd | stop-corosync | freeze) D_S=$((TOKEN_MS / 1000)) ;;
	part-*) D_S=4 ;;
	loss-2pct) D_S=5 ;;
	loss-20pct) D_S=2 ;;
	disk-eio) D_S=2 ;;
	disk-stall) D_S=3 ;;
	disk-lost) D_S=5 ;;
	uid-late) D_S=$(( (T + 2 * I) / 1000 + 3 )) ;;
	cut-off) D_S=$(( (DETECT + GRACE) / 1000 + 2 )) ;;
	esac
}

# Long run: pauses either around the token timeout or around the dead
# bound; partitions up to past the grace (past detection a wanted holder
# gives its locks back through the disk); cut-offs up to 8 s longer than
# the short one; loss phases of at most 90 s; disk faults past the lease.
long_duration() {
	local dead_s=$((DEAD / 1000)) grace_s=$((GRACE / 1000)) tok=$((TOKEN_MS / 1000))
	case "$1" in
	kill | sole-freeze | pill-uid-late) D_S=0 ;;
	stop-* | freeze) rnd 2
		if [ "$R" = 0 ]; then rnd 3; D_S=$((tok - 1 + R))
		else rnd 7; D_S=$((dead_s - 3 + R)); fi ;;
	part-*) rnd $((grace_s + 6)); D_S=$((2 + R)) ;;
	loss-2pct) rnd 81; D_S=$((10 + R)) ;;
	loss-20pct) rnd 5; D_S=$((2 + R)) ;;
	disk-* | uid-late) rnd $((L / 1000 + 6)); D_S=$((2 + R)) ;;
	cut-off) rnd 9; D_S=$(( (DETECT + GRACE) / 1000 + 2 + R )) ;;
	esac
}

KINDS="kill stop-sdlmd stop-corosync freeze sole-freeze part-alone part-split part-overlap cut-off loss-2pct loss-20pct disk-eio disk-stall disk-lost uid-late pill-uid-late"
if [ -n "$ONLY_KINDS" ]; then
	for k in $ONLY_KINDS; do
		case " $KINDS " in *" $k "*) ;; *)
			echo "nemesis: unknown fault kind '$k' (kinds: $KINDS)" >&2; exit 64 ;;
		esac
	done
	KINDS=$ONLY_KINDS
elif [ "$SHORT" = 1 ] && [ $(( (NODES - 1) / 2 )) = 1 ]; then
	# With 3 or 4 nodes a clean split's minority is one node: part-split
	# is part-alone, and the short run runs it once (the time went to
	# cut-off, which needs detection + the grace).
	KINDS=${KINDS/ part-split/}
fi

# ---- main ---------------------------------------------------------------------
T_START=$(_cl_now_cs)
[ -x "$SDLMD" ] && [ -x "$SDLMCTL" ] && [ -x "$SDLM_WATCHDOG" ] ||
	{ echo "FAIL: sdlmd, sdlmctl or sdlm-watchdog not built under $SDLM_BUILDDIR"; exit 1; }
require "create $NODES nodes" cl_create "$NODES"
if [ ! -x "$LOCKCLIENT" ]; then
	require "build lockclient" lockclient_build
fi
require "shared disk" sd_disk test
sd_timeouts
TOKEN_MS=$CL_TOKEN
require "corosync on all nodes" cl_start_all
for ((i = 1; i <= NODES; i++)); do require "node $i quorate" cl_wait_quorate "$i" 90; done
for ((i = 1; i <= NODES; i++)); do require "sdlmd on node $i" sd_start "$i"; done
for ((i = 1; i <= NODES; i++)); do
	require "node $i fenced-safe" cl_wait_for "node $i safe" 60 sd_status_has "$i" "fenced-safe"
done
GRACE=$(sd_ctl 1 --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["grace_ms"])')
# corosync's detection: token + consensus (1.2 x token by default).
DETECT=$((TOKEN_MS + TOKEN_MS * 12 / 10))
# The worst recovery the design allows: corosync's detection, the grace
# before an away holder is fenced, the dead bound, and - since the dead
# path writes its own pill and declares only once it read it back (issue
# 13 hole 3) - one more write and read of the slot (2T + I).  Since issue
# 19 item 3 a node whose disk fails for L or more fences itself, quorate
# or not, and is reset W later: its last counter can be first seen as
# late as L + W + I after the fault, and D counts from there; the longer
# of that and detection + grace starts the dead bound.
START=$(( GRACE + DETECT > L + W + I ? GRACE + DETECT : L + W + I ))
BOUND_S=$(( (START + DEAD + 2 * T + I) / 1000 + 10 ))
# A cut-off node's wanted mailbox and then its lock move through the disk:
# detection + two hand-offs in series, each within B = 3I + 4T + K with
# K = L (docs/design-handoff.md section 6), + the same 10 s of slack.
HO_BOUND_S=$(( (DETECT + 2 * (3 * I + 4 * T + L)) / 1000 + 10 ))
STALL_MS=$((T * 5 / 6))	# near the I/O timeout, below it
SETTLE=20
HOLD_MS=20
# A hang guard for the short run, derived from the timeouts, never a fixed
# budget: every fault heals within BOUND_S or is judged a failure right
# there, so the run ends by its own bounded waits however slow the machine
# is.  This only ends a run whose bounded waits failed to (a bug), with
# room for each kind's fault, recovery and settling, and the setup.
if [ "$SHORT" = 1 ]; then
	CAP_S=$(( $(wc -w <<<"$KINDS") * (BOUND_S + SETTLE + 30) + 300 ))
	( sleep "$CAP_S" & s=$!
	  trap 'kill "$s" 2>/dev/null; exit 0' TERM
	  wait "$s" || exit 0
	  echo "nemesis: hang guard fired after $CAP_S s (derived from the timeouts)"
	  kill -TERM $$ ) &
	GUARD=$!
fi
LOCK_TIMEOUT_MS=10000
ALL=$(seq -s' ' 1 "$NODES")
H=$CL_DIR/history CTR=$CL_DIR/counter STOP=$CL_DIR/stop
: >"$H"
"$LOCKCLIENT" counter-init "$CTR" || { fail "counter file"; finish; }
echo "nemesis: seed $SEED, $NODES nodes, $CLIENTS clients each, $([ "$SHORT" = 1 ] && echo short || echo "${DURATION}s") run"
echo "nemesis: timeouts I=$I T=$T W=$W L=$L dead=$DEAD grace=$GRACE token=$TOKEN_MS ms; recovery bound $BOUND_S s, hand-off bound $HO_BOUND_S s"
FAULTS=0 RESTARTS=0 PROBES=0 SOLE_TRIES=0 SOLE_REACHED=0 LATE_TRIES=0 LATE_REACHED=0 ACKW_TRIES=0 ACKW_REACHED=0
CUT_TRIES=0 CUT_MOVED=0
for ((i = 1; i <= NODES; i++)); do clients_start "$i"; done
sleep 1

if [ "$SHORT" = 1 ]; then
	# Every kind once, in a seeded order (Fisher-Yates).
	read -ra order <<<"$KINDS"
	for ((k = ${#order[@]} - 1; k > 0; k--)); do
		rnd $((k + 1)); tmp=${order[$k]}; order[$k]=${order[$R]}; order[$R]=$tmp
	done
	for kind in "${order[@]}"; do
		short_duration "$kind"
		run_fault "$kind" "$D_S" || break
	done
else
	read -ra kinds <<<"$KINDS"
	end=$(($(_cl_now_cs) + DURATION * 100))
	while [ "$(_cl_now_cs)" -lt "$end" ]; do
		rnd ${#kinds[@]}; kind=${kinds[$R]}
		long_duration "$kind"
		run_fault "$kind" "$D_S" || break
		rnd 4; sleep $((2 + R))
	done
fi

# Stop the clients; those blocked in a request get 3 s, then die
# (their last operation stays "invoked": the checker allows that).
touch "$STOP"
sleep 3
for ((i = 1; i <= NODES; i++)); do
	for ((k = 1; k <= CLIENTS; k++)); do cl_kill "$i" "lc$k" 2>/dev/null; done
	for f in "$CL_DIR/n$i"/[sc][vju][0-9]*.pid; do
		[ -f "$f" ] && cl_kill "$i" "$(basename "$f" .pid)" 2>/dev/null
	done
done
probe_node "" && WM=$(sd_ctl "$PROBE" --json uid show t mb |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["watermark"])')
if [ -n "${WM:-}" ]; then
	pass "durable watermark of mb read on node $PROBE: $WM"
else
	fail "durable watermark of mb could not be read"
fi
echo "nemesis: $FAULTS faults, $RESTARTS node restarts, $(grep -c '^invoke' "$H") operations in $(elapsed_s) s"
echo "nemesis: sole-freeze hazard reached $SOLE_REACHED of $SOLE_TRIES time(s) (the sole member of a lockspace out of the ring while another node joined it)"
echo "nemesis: uid-late hazard reached $LATE_REACHED of $LATE_TRIES time(s) (a timed-out UID record write kept in flight until it landed)"
echo "nemesis: pill-uid-late hazard reached $ACKW_REACHED of $ACKW_TRIES time(s) (a pill read with a UID record write in flight)"
echo "nemesis: cut-off: the wanted locks moved through the disk $CUT_MOVED of $CUT_TRIES time(s) (a node cut off the network past detection + the grace)"
echo "---- checker"
if python3 "$here/checker.py" "$H" ${WM:+"--watermark=mb=$WM"} "--counter=$CTR"; then
	pass "history: no violation"
else
	fail "history: violations (offending operations above)"
fi
echo "---- replica digests"
if python3 "$here/digests.py" "$CL_DIR"/n*/sdlmd-file.log; then
	pass "replicas agree at every sync round"
else
	fail "replicas diverged (offending log lines above)"
fi
finish
