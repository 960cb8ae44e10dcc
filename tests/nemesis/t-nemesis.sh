#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The short nemesis run of tests/check (docs/nemesis.md): the self-tests of
# the history checker and of digests.py (each must catch the violation it
# claims to), then a 3-node cluster with 2 clients per node and every fault
# kind once, in the order seed 7 gives, with short durations: kill -9;
# SIGSTOP of sdlmd, of corosync, and a freeze of a whole node, each for the
# token timeout; the sole member of a lockspace paused with its watchdog
# while another node joins that lockspace (sole-freeze); two partitions of
# 4 s (one node alone - with 3 nodes also the majority/minority split - and
# overlapping majorities); one node cut off the network, its disk kept,
# past detection + the grace while another node wants its lock: the lock
# moves through the disk, nobody is fenced or reset, the node serves again
# after the heal (cut-off); 5 s of 2 % loss and 2 s of 20 % loss; 2 s of
# disk write errors, 3 s of stalls near the I/O timeout and 5 s of a lost
# disk on one node.  Fenced nodes are restarted.  Then the history checker and the
# replica digests of every sync round.  About 2 min on an idle machine.
# It is judged by what happened (each fault healed within the bound its
# timeouts give, no violation in the history, equal digests), never by how
# long it took: a busy machine makes it slower, not failed (it once failed
# a fresh-clone tests/check for exceeding a fixed 172 s budget).  Its only
# cap is nemesis.sh's hang guard, derived from the timeouts.  PASS:/FAIL:
# lines, exit 0/1.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export SDLM_TEST_DIR=${SDLM_TEST_DIR:-$PWD}
rc=0
python3 "$here/checker.py" --selftest || rc=1
python3 "$here/digests.py" --selftest || rc=1
bash "$here/nemesis.sh" --short --seed "${NEMESIS_SEED:-7}" --nodes 3 --clients 2
r=$?
case "$r" in
0) echo "PASS: nemesis short run (seed ${NEMESIS_SEED:-7})" ;;
*) echo "FAIL: nemesis short run (seed ${NEMESIS_SEED:-7}, exit $r)"; rc=1 ;;
esac
exit "$rc"
