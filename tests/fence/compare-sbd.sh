#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/fence/compare-sbd.sh - sdlm's fencing area against sbd 1.5, measured
# once on two loop devices. A benchmark that prints numbers, not a test: it
# asserts nothing and is not part of tests/check. Results and their reading:
# docs/sbd-comparison.md.
#
#   tests/fence/compare-sbd.sh [SECONDS] [RUNS]      as root, sbd installed
#
# Timeline (default SECONDS = 30, RUNS = 3):
#
#   setup   two sparse 16 MiB files under $SDLM_TEST_DIR (default: the build
#           tree, ext4: O_DIRECT does not work on tmpfs), one loop device
#           each; `sbd create` (watchdog 5 s, loop 1 s, msgwait 10 s) on one,
#           `sdlmctl fence init --profile default` (I = 1 s, T = 1 s,
#           W = 5 s) on the other.
#   start   sbd's daemon as node sbd-n1 (inquisitor + one disk servant) and
#           one sdlmd (node 1, disk only, sdlm-watchdog --timeout 5).
#   (1) I/O both run alone on their device for SECONDS; reads and writes
#           completed are taken from /sys/block/loopN/stat before and after.
#   (2) sbd `sbd message sbd-n1 reset` against the live watcher (it obeys:
#           its servant sees the pill within ~1 s) and `sbd message sbd-n2
#           reset` against a slot nobody watches: wall time of each.
#   (3) sdlm `sdlmctl fence message --wait NODE reset` against a live sdlmd,
#           RUNS times (one fresh node each: acknowledged path), then once
#           against a node frozen just before (dead-by-timeout path);
#           plus when the test watchdog removed each victim.
#   report  a table of the numbers and what each fencer knows at the end.
#   cleanup (EXIT trap) kill what we started by pid, remove the freezer
#           groups, detach our two loop devices by name, remove the files.
#
# sbd is made harmless on a shared machine, twice over: -Z -Z (debug mode 2:
# a reset request or a watchdog timeout makes it exit instead of rebooting)
# and its own PID namespace (a reboot(2) from inside a non-initial PID
# namespace only kills that namespace). No watchdog device is used
# (-w /dev/null); Pacemaker checks are off (SBD_PACEMAKER=no).
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SDLM_BUILD=${SDLM_BUILD:-$SRC/_build}
export SDLM_SRCDIR=${SDLM_SRCDIR:-$SRC}
export SDLMD=${SDLMD:-$SDLM_BUILD/dlm/sdlmd}
export SDLMCTL=${SDLMCTL:-$SDLM_BUILD/dlm/sdlmctl}
export SDLM_WATCHDOG=${SDLM_WATCHDOG:-$SDLM_BUILD/fence/sdlm-watchdog}
export SDLM_TEST_DIR=${SDLM_TEST_DIR:-$SDLM_BUILD}
DUR=${1:-30}
RUNS=${2:-3}
SBD=${SBD:-sbd}

die() { echo "compare-sbd: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (loop devices, freezer groups)"
command -v "$SBD" >/dev/null || die "sbd not found (apt-get install -y sbd; do not enable its service)"
for b in "$SDLMD" "$SDLMCTL" "$SDLM_WATCHDOG"; do
	[ -x "$b" ] || die "$b missing: build first (see README.md)"
done
[ -d /sys/fs/cgroup/freezer ] || die "needs the cgroup v1 freezer (tests/lib.sh)"

. "$SDLM_SRCDIR/tests/lib.sh"
t_init compare-sbd
LOOPS=""
SBD_NS=""	# pid of `unshare`; its child is the namespace's init

cmp_cleanup() {
	local init l
	if [ -n "$SBD_NS" ] && pid_live "$SBD_NS"; then
		# Killing the namespace's init kills everything inside it.
		init=$(cat "/proc/$SBD_NS/task/$SBD_NS/children" 2>/dev/null)
		for l in $init; do kill -KILL "$l" 2>/dev/null; done
		kill -KILL "$SBD_NS" 2>/dev/null
		wait "$SBD_NS" 2>/dev/null
	fi
	t_cleanup
	for l in $LOOPS; do losetup -d "$l" 2>/dev/null; done
}
trap cmp_cleanup EXIT

# reads writes sectors_read sectors_written of a loop device
io_stat() { awk '{ print $1, $5, $3, $7 }' "/sys/block/${1#/dev/}/stat"; }
# "x.xx" = (b - a) / DUR
per_s() { awk -v a="$1" -v b="$2" -v d="$DUR" 'BEGIN { printf "%.2f", (b - a) / d }'; }
ms_s() { awk -v m="$1" 'BEGIN { printf "%.2f", m / 1000 }'; }
# true while PID runs (a zombie, not yet reaped by us, counts as gone)
pid_live() { local st; st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null); [ -n "$st" ] && [ "$st" != Z ]; }

truncate -s 16M "$TD/sbd.img" "$TD/sdlm.img"
LSBD=$(losetup -f --show "$TD/sbd.img") || die "losetup"
LOOPS="$LSBD"
LSDLM=$(losetup -f --show "$TD/sdlm.img") || die "losetup"
LOOPS="$LOOPS $LSDLM"
# read by tests/lib.sh's node_start
# shellcheck disable=SC2034
DISK=$LSDLM
# shellcheck disable=SC2034
WD_S=5

echo "== machine"
echo "date        $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "kernel      $(uname -r), $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
echo "backing fs  $(findmnt -n -o FSTYPE -T "$TD") ($TD)"
echo "sbd         $(dpkg-query -W -f '${Version}' sbd 2>/dev/null || echo '?')"
for l in $LSBD $LSDLM; do
	q=/sys/block/${l#/dev/}/queue
	echo "$l  logical $(cat $q/logical_block_size) B, physical $(cat $q/physical_block_size) B"
done

echo "== setup"
"$SBD" -d "$LSBD" -1 5 -3 1 -4 10 create >/dev/null || die "sbd create"
"$SBD" -d "$LSBD" dump | sed 's/^/    /'
"$SBD" -d "$LSBD" allocate sbd-n2 >/dev/null || die "sbd allocate"
"$SDLMCTL" fence init -d "$LSDLM" --cluster cmpsbd --nodes $((RUNS + 1)) \
	--profile default | sed 's/^/    /'

unshare --pid --fork --mount-proc env SBD_PACEMAKER=no SBD_SYNC_RESOURCE_STARTUP=no \
	bash -c '"$1" -Z -Z -R -w /dev/null -n sbd-n1 -p "$3" -d "$2" watch || exit 1
		 while kill -0 "$(cat "$3")" 2>/dev/null; do sleep 0.1; done' \
	_ "$SBD" "$LSBD" "$TD/sbd.pid" >"$TD/sbd-ns.log" 2>&1 &
SBD_NS=$!
node_start 1 || die "sdlmd node 1 did not start"

node_alive_on_disk() {
	"$SDLMCTL" --json fence list -d "$LSDLM" | python3 -c '
import json, sys
n = {x["node"]: x for x in json.load(sys.stdin)["nodes"]}
sys.exit(0 if all(n.get(int(i), {}).get("state") == "alive" and n[int(i)]["counter"] >= 2
              for i in sys.argv[1:]) else 1)' "$@"
}
sbd_watching() { "$SBD" -d "$LSBD" list | grep -q "sbd-n1"$'\t'"clear"; }
wait_for "sbd watcher on slot sbd-n1" 30 sbd_watching || die "sbd watcher did not start"
wait_for "sdlmd node 1 alive" 30 node_alive_on_disk 1 || die "sdlmd node 1 not alive"
sleep 3		# past start-up I/O (slot allocation, first reads)

echo "== (1) I/O per node, ${DUR} s, each daemon alone on its loop device"
read -r sr0 sw0 ssr0 ssw0 < <(io_stat "$LSBD")
read -r dr0 dw0 dsr0 dsw0 < <(io_stat "$LSDLM")
sleep "$DUR"
read -r sr1 sw1 ssr1 ssw1 < <(io_stat "$LSBD")
read -r dr1 dw1 dsr1 dsw1 < <(io_stat "$LSDLM")
SBD_R=$(per_s "$sr0" "$sr1"); SBD_W=$(per_s "$sw0" "$sw1")
SBD_RB=$(per_s $((ssr0 * 512)) $((ssr1 * 512))); SBD_WB=$(per_s $((ssw0 * 512)) $((ssw1 * 512)))
SDLM_R=$(per_s "$dr0" "$dr1"); SDLM_W=$(per_s "$dw0" "$dw1")
SDLM_RB=$(per_s $((dsr0 * 512)) $((dsr1 * 512))); SDLM_WB=$(per_s $((dsw0 * 512)) $((dsw1 * 512)))
echo "sbd   $((sr1 - sr0)) reads, $((sw1 - sw0)) writes: $SBD_R reads/s ($SBD_RB B/s), $SBD_W writes/s ($SBD_WB B/s)"
echo "sdlmd $((dr1 - dr0)) reads, $((dw1 - dw0)) writes: $SDLM_R reads/s ($SDLM_RB B/s), $SDLM_W writes/s ($SDLM_WB B/s)"

echo "== (2) sbd: message reset"
gone_at="$TD/sbd-gone.ms"
( while pid_live "$SBD_NS"; do sleep 0.05; done; now_ms >"$gone_at" ) &
T_PIDS="$T_PIDS $!"
t0=$(now_ms)
"$SBD" -d "$LSBD" message sbd-n1 reset; rc=$?
t1=$(now_ms)
SBD_LIVE_MS=$((t1 - t0))
wait_for "sbd watcher gone" 5 test -s "$gone_at"
SBD_OBEY_MS=$(( $(cat "$gone_at" 2>/dev/null || echo "$t0") - t0 ))
echo "sbd message sbd-n1 reset (live watcher): rc=$rc after $SBD_LIVE_MS ms; the watcher obeyed (exited, debug mode) $SBD_OBEY_MS ms after the start"
t0=$(now_ms)
"$SBD" -d "$LSBD" message sbd-n2 reset; rc2=$?
t1=$(now_ms)
SBD_ABSENT_MS=$((t1 - t0))
echo "sbd message sbd-n2 reset (nobody watching): rc=$rc2 after $SBD_ABSENT_MS ms"
echo "what the fencer can read afterwards (sbd list):"
"$SBD" -d "$LSBD" list | sed 's/^/    /'

echo "== (3) sdlm: fence message --wait reset"
others=""
for i in $(seq 2 $((RUNS + 1))); do node_start "$i" || die "sdlmd node $i"; others="$others $i"; done
# shellcheck disable=SC2086
wait_for "sdlmd nodes$others alive" 30 node_alive_on_disk $others || die "nodes$others not alive"
result_of() { sed -n 's/.*"result":"\([a-z]*\)".*"elapsed_ms":\([0-9]*\).*/\1 \2/p'; }
ACK_MS=""; ACK_GONE=""
for i in $(seq 1 "$RUNS"); do
	t0=$(now_ms)
	out=$("$SDLMCTL" --json fence message -d "$LSDLM" --wait=60 "$i" reset); rc=$?
	t1=$(now_ms)
	read -r res el <<<"$(echo "$out" | result_of)"
	wait_for "node $i removed by its watchdog" 30 node_gone "$i"
	t2=$(now_ms)
	echo "node $i (live): rc=$rc result=${res:-?} tool-elapsed=${el:-?} ms wall=$((t1 - t0)) ms; node gone $((t2 - t0)) ms after the start"
	ACK_MS="$ACK_MS $((t1 - t0))"; ACK_GONE="$ACK_GONE $((t2 - t0))"
	ACK_RES="${res:-?}"
done
D=$((RUNS + 1))
echo FROZEN > "$(cg_dir "$D")/freezer.state"
t0=$(now_ms)
out=$("$SDLMCTL" --json fence message -d "$LSDLM" --wait=60 "$D" reset); rc=$?
t1=$(now_ms)
read -r DEAD_RES el <<<"$(echo "$out" | result_of)"
wait_for "node $D removed by its watchdog" 30 node_gone "$D"
DEAD_MS=$((t1 - t0))
echo "node $D (frozen just before): rc=$rc result=${DEAD_RES:-?} tool-elapsed=${el:-?} ms wall=$DEAD_MS ms"
echo "what the fencer can read afterwards (sdlmctl fence list):"
"$SDLMCTL" fence list -d "$LSDLM" | sed 's/^/    /'

stats() { echo "$@" | tr ' ' '\n' | sort -n | awk 'NF { v[n++] = $1 }
	END { printf "%.2f / %.2f / %.2f s", v[0] / 1000, v[int(n / 2)] / 1000, v[n - 1] / 1000 }'; }

echo
echo "== summary (paste into a new dated report under docs/reports/, as docs/reports/sbd-comparison-2026-11-28.md)"
echo "| | sbd $(dpkg-query -W -f '${Version}' sbd 2>/dev/null) | sdlm (profile default) |"
echo "|---|---|---|"
echo "| reads/s per node (${DUR} s) | $SBD_R ($SBD_RB B/s) | $SDLM_R ($SDLM_RB B/s) |"
echo "| writes/s per node | $SBD_W | $SDLM_W ($SDLM_WB B/s) |"
echo "| fence a live victim (min / median / max, $RUNS runs for sdlm) | $(ms_s $SBD_LIVE_MS) s (victim obeyed at $(ms_s $SBD_OBEY_MS) s) | $(stats $ACK_MS), $ACK_RES |"
echo "| fence a victim that cannot answer | $(ms_s $SBD_ABSENT_MS) s (slot never watched) | $(ms_s $DEAD_MS) s, ${DEAD_RES:-?} (frozen) |"
echo "| sdlm victim removed by its test watchdog (from the start) | - | $(stats $ACK_GONE) |"
