#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A CPG join into a hung corosync blocks nothing (review item 1).
#
# Every call of a CPG join (cpg_model_initialize, cpg_local_get,
# cpg_max_atomic_msgsize_get, cpg_join) waits for corosync's reply with no
# timeout, and a hung corosync never replies.  Node 3's corosync is
# stopped (SIGSTOP; its disk is fine, its lease valid) and a client asks
# node 3 for a lock in a lockspace it has not joined yet.  Then:
#   - node 3's daemon goes on answering `sdlmctl status` and is not reset
#     by its watchdog, for W + the settle time and beyond;
#   - the request fails with SDLM_ENOQUORUM ("not in a quorate
#     membership") once the settle time is over, and the log says the
#     join did not go through in that time;
#   - once corosync goes on (SIGCONT), the same lockspace works on node 3.
# On the old code the loop sat in the join: status stopped answering and
# the watchdog reset node 3 within W.  Waits derive from the timeouts.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/sdlm.sh"
trap sd_teardown EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
now_s() { date +%s.%N; }
elapsed() { python3 -c "print('%.1f' % ($(now_s) - $1))"; }
past() { python3 -c "import sys; sys.exit(0 if $(now_s) - $1 >= $2 else 1)"; }

[ "$(id -u)" = 0 ] || { echo "FAIL: must run as root"; exit 1; }

sd_up 3
sd_timeouts
SETTLE=$(sed -n 's/.*settle \([0-9]*\) ms.*/\1/p' "$CL_DIR/n3/sdlmd-file.log" | head -1)
echo "settle $SETTLE ms, heartbeat $I ms, watchdog $W ms, lease $L ms"
require "the settle time is known" test "${SETTLE:-0}" -gt 0
WAIT_S=$(( (SETTLE + 2 * W) / 1000 + 30 ))

for i in 1 2 3; do require "node $i takes a lock in 't'" sd_lock "$i" -w 60 t warmup -- true; done

cl_stop_proc 3 corosync
t0=$(now_s)
cl_spawn 3 req "$SDLMCTL" lock -m EX -w "$WAIT_S" fresh r -- echo granted >/dev/null
rp=$(cl_pid 3 req)

# Status must answer all along (each call within W: a loop stuck longer
# than that is reset by the watchdog anyway), for W + settle + 2 heartbeats.
span=$(( (W + SETTLE + 2 * I + 999) / 1000 ))
asked=0 unanswered=0
while ! past "$t0" "$span"; do
	asked=$((asked + 1))
	SD_CTL_TIMEOUT=$(( (W + 999) / 1000 )) sd_ctl 3 status >/dev/null 2>&1 ||
		unanswered=$((unanswered + 1))
	sleep 0.5
done
echo "node 3's status asked $asked times over $(elapsed "$t0") s with its corosync stopped"
check "node 3's daemon answered every status call ($unanswered of $asked unanswered)" \
	test "$unanswered" = 0
check "node 3 was not reset by its watchdog" eval '! sd_node_gone 3'
check "node 3 is still fenced-safe (its lease is valid)" sd_status_has 3 "fenced-safe"

check "the request for 'fresh' ends" \
	cl_wait_for "'fresh' answered" "$WAIT_S" sh -c "! kill -0 $rp 2>/dev/null"
echo "  'fresh': $(tr '\n' ' ' <"$CL_DIR/n3/req.log")"
check "  refused with SDLM_ENOQUORUM (not in a quorate membership)" \
	grep -q "not in a quorate membership" "$CL_DIR/n3/req.log"
took=$(sed -n 's/.*ls fresh: cannot join its CPG group in \([0-9]*\) ms.*/\1/p' \
	"$CL_DIR/n3/sdlmd-file.log" | head -1)
check "  after the settle time: the log says the join did not go through in ${took:-?} ms >= $SETTLE ms" \
	test "${took:-0}" -ge "$SETTLE"

cl_cont_proc 3 corosync
require "node 3 is back in the ring" cl_wait_members 3 "1 2 3" "$WAIT_S"
check "with corosync back, node 3 takes a lock in 'fresh'" \
	sd_lock 3 -w "$WAIT_S" fresh r -- true
check "and node 1 too" sd_lock 1 -w "$WAIT_S" fresh r -- true
check "node 3 is still fenced-safe" sd_status_has 3 "fenced-safe"

t_tally
[ "$fails" = 0 ]
