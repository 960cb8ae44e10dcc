#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 2% random packet loss on every node for 90 s, with the corosync settings
# the project ships (token 3000, miss_count_const 1, retransmits 10,
# knet_pong_count 1): every result stays correct, nobody is fenced, and a
# client re-taking its cached lock is never interrupted.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/sdlm.sh"
trap sd_teardown EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
LOSS_S=${LOSS_S:-90}

sd_up 3
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
t_tally
[ "$fails" = 0 ]
