#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 2% random packet loss on every node for 90 s, with the corosync settings
# the project ships (token 3000, miss_count_const 1, retransmits 10,
# knet_pong_count 1): every result stays correct, nobody is fenced, and a
# client re-taking its cached lock is never interrupted.
#
# The fast-path transport's edge runs too (xport_port, docs/protocol.md
# "The edge"): every daemon echoes every peer over its UDP socket; before
# the loss the echoes come back, datagrams from no peer's address and port
# are dropped before the HMAC (foreign_drops), and forged frames from a
# peer's spoofed address and port are dropped and counted as failed
# authentication, never delivered; through the loss the echoes
# go on, the lost frames retransmitted by the transport.  A restarting
# daemon refuses a replayed HELLO of a peer's older daemon; key files that
# are not the owner's alone, or no file, stop a start.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/sdlm.sh"
trap sd_teardown EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
LOSS_S=${LOSS_S:-90}
SD_XPORT_PORT=${SD_XPORT_PORT:-21065}

# The transport's figures, read in one Python per question (a Python start
# costs seconds on a loaded machine).  xp_snap: every node's status --json
# into $CL_DIR/xp<I>.json.  xp_eval EXPR...: each Python EXPR over that
# snapshot, one line each: X[i] is node i's "xport" object, P[i][j] its
# peer j.  xp_until EXPR: a new snapshot, EXPR holds on it.
xp_snap() {
	local i
	for i in 1 2 3; do sd_ctl "$i" --json status >"$CL_DIR/xp$i.json" || return 1; done
}
xp_eval() {
	python3 - "$CL_DIR" "$@" <<'PY'
import json, sys
d = sys.argv[1]
X = {i: json.load(open("%s/xp%d.json" % (d, i)))["xport"] for i in (1, 2, 3)}
P = {i: {q["node"]: q for q in X[i]["peers"]} for i in X}
for e in sys.argv[2:]:
    print(eval(e))
PY
}
xp_until() { xp_snap && [ "$(xp_eval "$1")" = True ]; }
# xp_checks DESC EXPR [DESC EXPR...]: a pass or a fail per pair, on the snapshot
xp_checks() {
	local -a descs=() exprs=() res=()
	local k
	while [ $# -ge 2 ]; do
		descs+=("$1")
		exprs+=("$2")
		shift 2
	done
	mapfile -t res < <(xp_eval "${exprs[@]}")
	for ((k = 0; k < ${#descs[@]}; k++)); do
		if [ "${res[k]:-}" = True ]; then pass "${descs[k]}"; else fail "${descs[k]} (${res[k]:-no answer})"; fi
	done
}
# XP_PEERS, I replaced by a node id: that node's peers in one line
XP_PEERS="'; '.join('node %d echo mean %.0f us (min %.0f, max %.0f), srtt %s us, rto %s us' % (j, P[I][j]['echo_rtt_mean_us'], P[I][j]['echo_rtt_min_us'], P[I][j]['echo_rtt_max_us'], P[I][j]['srtt_us'], P[I][j]['rto_us']) for j in sorted(P[I]))"

# forge I J N [SPORT]: N frames from node I's namespace to node J's port,
# well formed (magic, version, lengths) but signed with no key of this
# cluster.  With SPORT the datagrams carry node I's address and that
# source port, written through a raw socket (the port node I's daemon
# holds: what a forger who spoofs a peer's address sends); without, an
# ordinary socket's random port.
forge() {
	ip netns exec "${CL_PREFIX}n$1" python3 - "$(_cl_addr "$2")" "$SD_XPORT_PORT" "$1" "$2" "$3" \
		"$(_cl_addr "$1")" "${4:-0}" <<'PY'
import os, socket, struct, sys
addr, port, src, dst, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
saddr, sport = sys.argv[6], int(sys.argv[7])
if sport:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for seq in range(1, n + 1):
    payload = bytes([1]) + bytes(7) + struct.pack("<QQ", seq, 0)
    hdr = struct.pack("<IHHHBBIIIQQQQQ", 0x584c4453, 1, 0, 0, 0, 0, src, dst,
                      len(payload), 1, 1, 0, seq, 0)
    data = hdr + payload + os.urandom(16)
    if sport:
        # UDP header, checksum 0 (none, IPv4); the kernel writes the IP header
        s.sendto(struct.pack("!HHHH", sport, port, 8 + len(data), 0) + data, (addr, 0))
    else:
        s.sendto(data, (addr, port))
PY
}

sd_up 3
xp_t0=$SECONDS
# Each node's echo to each peer comes back (the echo interval is 1 s).
require "every node: echo replies from both peers over the fast-path transport" \
	cl_wait_for "echoes" 30 xp_until "all(P[i][j]['echo_replies'] >= 3 for i in P for j in P[i])"
xp_eval "'node 1, no loss: ' + ${XP_PEERS//I/1}" "'node 2, no loss: ' + ${XP_PEERS//I/2}" \
	"'node 3, no loss: ' + ${XP_PEERS//I/3}"
xp_checks "no frame failed authentication before the forgery" \
	"all(X[i]['auth_drops'] == 0 for i in X)"
delivered0=$(xp_eval "X[1]['delivered']")
# Not from a peer's address and port: dropped before the HMAC is computed
# (a flood costs a comparison, not a hash), counted apart.
require "forge 7 frames from node 3's namespace, another port, to node 1" forge 3 1 7
check "node 1: the 7 frames from no peer's port were dropped unread" \
	cl_wait_for "node 1 counts 7 foreign drops" 20 xp_until "X[1]['foreign_drops'] >= 7"
xp_checks "node 1: exactly 7 foreign, none reached the HMAC" \
	"X[1]['foreign_drops'] == 7 and X[1]['auth_drops'] == 0"
# From node 3's address and port (spoofed): only the tag tells.
require "forge 5 frames as node 3's daemon (its address and port) to node 1" \
	forge 3 1 5 "$SD_XPORT_PORT"
check "node 1: the 5 forged frames failed authentication" \
	cl_wait_for "node 1 counts 5 auth drops" 20 xp_until "X[1]['auth_drops'] >= 5"
xp_checks "node 1: exactly 5 failed authentication" "X[1]['auth_drops'] == 5" \
	"node 1: nothing else about them was counted (malformed, refused, foreign)" \
	"X[1]['malformed'] == 0 and X[1]['refused'] == 0 and X[1]['foreign_drops'] == 7" \
	"node 2 saw no forged frame" "X[2]['auth_drops'] == 0 and X[2]['foreign_drops'] == 0" \
	"node 3 saw no forged frame" "X[3]['auth_drops'] == 0 and X[3]['foreign_drops'] == 0"
check "node 1: the echoes go on after the forgery" \
	cl_wait_for "node 1 delivers more" 20 xp_until "X[1]['delivered'] >= $delivered0 + 4"

# A start that cannot use the transport is refused before the watchdog or
# the disk is touched (the socket opens right after the area's header is
# read), exit 1, naming the cause: a second sdlmd in node 3's namespace
# (its own ipc name and run dir) whose port node 3's daemon holds, then
# one whose key file others may read, one owned by another user, a FIFO.
# xp_refused PATTERN ARGS...: that sdlmd exits 1 and says PATTERN on stderr
xp_refused() {
	local pat=$1 rc
	shift
	rm -rf "$CL_DIR/xptest-run"
	timeout 120 ip netns exec "${CL_PREFIX}n3" "$SDLMD" -f -d "$SD_DISK" --ipc-name=xptest \
		--run-dir="$CL_DIR/xptest-run" --log-file=none --log-syslog=no --no-watchdog \
		--xport-port="$SD_XPORT_PORT" "$@" >/dev/null 2>"$CL_DIR/xptest.err"
	rc=$?
	sed 's/^/  sdlmd: /' "$CL_DIR/xptest.err" | grep -m1 xport
	[ "$rc" = 1 ] && grep -qE "$pat" "$CL_DIR/xptest.err"
}
check "a second sdlmd on node 3's port: exit 1, 'cannot bind UDP <node 3's address> port'" \
	xp_refused "cannot bind UDP $(_cl_addr 3) port $SD_XPORT_PORT .*Address already in use" \
	--xport-key-file="$CL_DIR/xport.key"
cp "$CL_DIR/xport.key" "$CL_DIR/xport.key.loose" && chmod 0644 "$CL_DIR/xport.key.loose"
check "a key file others may read: exit 1, 'chmod 0400'" \
	xp_refused "xport_key_file $CL_DIR/xport.key.loose: .*mode 0644.*chmod 0400" \
	--xport-key-file="$CL_DIR/xport.key.loose"
# A key file owned by someone else, 0400: its owner may rewrite the key
# (review s26-rev-xport X4).
cp "$CL_DIR/xport.key" "$CL_DIR/xport.key.other" && chmod 0400 "$CL_DIR/xport.key.other" &&
	chown nobody "$CL_DIR/xport.key.other"
check "a key file owned by another user: exit 1, 'owned by uid <nobody's>'" \
	xp_refused "xport_key_file $CL_DIR/xport.key.other: owned by uid $(id -u nobody), .*chown" \
	--xport-key-file="$CL_DIR/xport.key.other"
# A FIFO named as the key file: refused at once, the start never waits
# for a writer (X4).
rm -f "$CL_DIR/xport.key.fifo" && mkfifo -m 0600 "$CL_DIR/xport.key.fifo"
check "a FIFO as the key file: exit 1, 'not a regular file'" \
	xp_refused "xport_key_file $CL_DIR/xport.key.fifo: not a regular file" \
	--xport-key-file="$CL_DIR/xport.key.fifo"

# A replayed HELLO of an older daemon of node 2 (incarnation 1, signed with
# the cluster's key as a captured one is), sent to node 3 every 20 ms from
# node 2's address and xport port (a raw socket: what a replay of a captured
# datagram looks like; from another port it is not even read) while
# node 3's sdlmd restarts: the new daemon learns node 2's incarnation from
# its heartbeat slot before it reads any frame, so it refuses the HELLO
# (counted as refused) and never takes incarnation 1 for node 2's, which
# node 2's first real frame would then reset (review s26-rev-xport X3).
hello_replay() {
	ip netns exec "${CL_PREFIX}n2" python3 - "$(_cl_addr 3)" "$SD_XPORT_PORT" "$CL_DIR/xport.key" \
		"$CL_DIR/hello.stop" <<'PY'
import hashlib, hmac, os, socket, struct, sys, time
addr, port, keyf, stop = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
k = hmac.new(open(keyf, "rb").read(), b"sdlm-xport-key-v1\0sdlmtest", hashlib.sha256).digest()
# HELLO: flags 1, src 2, dst 3, src_inc 1, everything else 0
body = struct.pack("<IHHHBBIIIQQQQQ", 0x584c4453, 1, 0, 1, 0, 0, 2, 3, 0, 1, 0, 0, 0, 0)
frame = body + hmac.new(k, body, hashlib.sha256).digest()[:16]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
dgram = struct.pack("!HHHH", port, port, 8 + len(frame), 0) + frame
end = time.monotonic() + 600	# a safety net only: the test stops it
while os.path.exists(keyf) and not os.path.exists(stop) and time.monotonic() < end:
    s.sendto(dgram, (addr, 0))
    open(stop + ".sending", "w").close()
    time.sleep(0.02)
PY
}
rm -f "$CL_DIR/hello.stop" "$CL_DIR/hello.stop.sending"
hello_replay &
hello_pid=$!
require "the replayed HELLOs are being sent" cl_wait_for "HELLOs sent" 60 test -e "$CL_DIR/hello.stop.sending"
cl_kill 3 sdlmd TERM
require "sdlmd on node 3 stopped cleanly" cl_wait_for "node 3 stopped" 60 \
	sh -c "! ip netns exec ${CL_PREFIX}n3 $SDLMCTL status >/dev/null 2>&1"
require "sdlmd restarted on node 3 under the replayed HELLOs" sd_restart 3
require "node 3 fenced-safe again" cl_wait_for "node 3 safe" 60 sd_status_has 3 "fenced-safe"
check "node 3 refused the replayed HELLO and echoes node 2" \
	cl_wait_for "node 3 echoes node 2" 60 xp_until "X[3]['refused'] >= 1 and P[3][2]['echo_replies'] >= 1"
touch "$CL_DIR/hello.stop"
wait "$hello_pid"
xp_checks "node 3 never took the old incarnation for node 2's (no reset)" "X[3]['resets'] == 0" \
	"node 3 knows node 2's live incarnation" "P[3][2]['incarnation'] == P[1][2]['incarnation']"
xp_secs=$((SECONDS - xp_t0))
for i in 1 2 3; do require "node $i caches its own lock" sd_lock "$i" -w 60 t "own$i" -- true; done
ring0=$(cl_ring_id 1)
CTR="$CL_DIR/counter"
echo 0 >"$CTR"
STOP="$CL_DIR/stop"

# Per node: re-take the cached lock as fast as possible (counting every
# attempt that did not succeed within 1 s), and every 20th round take the
# shared counter lock (a hand-off between nodes) and increment it.
worker() {
	local i=$1 n=0 slow=0 incs=0 failed=0
	while [ ! -e "$STOP" ]; do
		if ! sd_lock "$i" -w 1 t "own$i" -- true 2>/dev/null; then
			slow=$((slow + 1))
		fi
		n=$((n + 1))
		if [ $((n % 20)) = 0 ]; then
			if sd_lock "$i" -w 60 t counter -- sh -c 'v=$(cat "$1"); sleep 0.02; echo $((v + 1)) >"$1"' _ "$CTR"; then
				incs=$((incs + 1))
			else
				failed=$((failed + 1))
			fi
		fi
	done
	echo "$n $slow $incs $failed" >"$CL_DIR/worker$i"
}
xp_t0=$SECONDS
xp_snap
read -r echo0 retx0 <<<"$(xp_eval "' '.join(str(sum(P[i][j]['echo_replies'] for j in P[i])) for i in (1, 2, 3)) + ' ' + ' '.join(str(X[i]['retransmits']) for i in (1, 2, 3))" | awk '{ print $1 "," $2 "," $3, $4 "," $5 "," $6 }')"
xp_secs=$((xp_secs + SECONDS - xp_t0))
for i in 1 2 3; do cl_loss "$i" 2% out; done
echo "2% loss on every node's output for $LOSS_S s"
for i in 1 2 3; do worker "$i" & done
sleep "$LOSS_S"
touch "$STOP"
wait
for i in 1 2 3; do cl_loss_off "$i"; done
total_incs=0
for i in 1 2 3; do
	read -r n slow incs failed <"$CL_DIR/worker$i"
	echo "node $i: $n cached re-takes ($slow not within 1 s), $incs counter hand-offs, $failed failed"
	check "node $i: every cached re-take succeeded within 1 s" test "$slow" = 0
	check "node $i: no counter lock failed" test "$failed" = 0
	total_incs=$((total_incs + incs))
done
check "counter = $total_incs: no update lost" test "$(cat "$CTR")" = "$total_incs"
echo "totem ring before $ring0, after $(cl_ring_id 1)"
for i in 1 2 3; do
	check "node $i not fenced and still safe" sd_status_has "$i" "fenced-safe"
	check "node $i's log shows no fence" sh -c "! grep -q 'fenced (' '$CL_DIR/n$i/sdlmd-file.log'"
done
xp_t0=$SECONDS
# The edge through the loss: the echoes went on (at one a second per peer,
# well more than half of them), and lost frames were sent again.
xp_snap
E0="[None, $echo0]"
R0="[None, $retx0]"
for i in 1 2 3; do
	xp_eval "'node $i, ${LOSS_S} s at 2%% loss: echo replies %d, retransmits %d; ' % (sum(P[$i][j]['echo_replies'] for j in P[$i]) - ${E0}[$i], X[$i]['retransmits'] - ${R0}[$i]) + ${XP_PEERS//I/$i}"
	xp_checks "node $i: echo replies went on through the loss" \
		"sum(P[$i][j]['echo_replies'] for j in P[$i]) - ${E0}[$i] >= $LOSS_S" \
		"node $i: no frame failed authentication but node 1's forged ones" \
		"X[$i]['auth_drops'] == (5 if $i == 1 else 0)"
done
# 2% of some 1 000 frames per node are lost: a handful per node (a node
# may see none), some thirty in all
xp_checks "the transports retransmitted lost frames" \
	"sum(X[i]['retransmits'] - ${R0}[i] for i in X) > 0"
echo "the fast-path transport's checks took $((xp_secs + SECONDS - xp_t0)) s"
t_tally
[ "$fails" = 0 ]
