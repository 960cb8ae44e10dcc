#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/fuzz/t-fuzz.sh - the decoders under libFuzzer (clang
# -fsanitize=fuzzer,address,undefined).  For each target:
#   1. build it against the real project sources;
#   2. replay every regression seed in tests/fuzz/regress/<target>/ (inputs
#      that once crashed or broke a property; they must pass now);
#   3. fuzz for SDLM_FUZZ_SECONDS (default 15) from the checked-in seeds in
#      tests/fuzz/corpus/<target>/ plus what --gen-corpus writes now;
# two targets at a time (SDLM_FUZZ_JOBS, default 2).
# A crash, leak or broken property is a FAIL; its input is copied to
# tests/fuzz/regress/<target>/ (so the next run replays it first) and the
# stack is printed.  Work files live in a mktemp dir under /var/tmp (and
# fuzz_uidlist's scratch Maildir under /dev/shm), removed at the end.
# Needs clang and libclang-rt-14-dev.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${SDLM_SRCDIR:-$(cd "$here/../.." && pwd)}
secs=${SDLM_FUZZ_SECONDS:-15}
CC=${SDLM_FUZZ_CC:-clang}
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "FAIL: $CC not installed (apt-get install clang libclang-rt-14-dev)"
	exit 1
fi
work=$(mktemp -d /var/tmp/sdlm-fuzz.XXXXXX) || exit 1
# fuzz_uidlist writes every accepted list through uidlist_write (fdatasync,
# rename): on tmpfs that costs nothing
shm=$(mktemp -d /dev/shm/sdlm-fuzz.XXXXXX 2>/dev/null) || shm=$work
trap 'rm -rf "$work" "$shm"' EXIT
mkdir -p "$work/inc"
echo '#define _GNU_SOURCE 1' >"$work/inc/config.h"

D=$src/dlm/core; DD=$src/dlm/daemon; L=$src/dlm/lib; F=$src/fence; V=$src/agents/dovecot
# target: the sources it links (besides its own .c and the seed writer of
# every --gen-corpus, tests/common/fuzzseed.c) and --gen-corpus args
declare -A SRCS=(
	[fuzz_ondisk]="$F/ondisk.c $F/crc32c.c"
	[fuzz_uidrec]="$F/uidrec.c $F/ondisk.c $F/crc32c.c $F/sha256.c"
	[fuzz_msg]="$D/msg.c $D/modes.c $F/crc32c.c $src/tests/common/msgsample.c"
	[fuzz_snapshot]="$D/lockstate.c $D/lssnap.c $D/modes.c $F/crc32c.c $F/handoff.c"
	[fuzz_lssnap]="$D/lockstate.c $D/lssnap.c $D/modes.c $F/crc32c.c $F/handoff.c"
	[fuzz_conf]="$DD/conf.c"
	[fuzz_ipc]="$D/ipcreq.c $D/modes.c $F/uidrec.c $F/ondisk.c $F/crc32c.c $F/sha256.c $src/tests/common/ipcsample.c"
	[fuzz_uidlist]="$V/uidlist.c"
	[fuzz_xport]="$D/xport.c $F/sha256.c"
	[fuzz_fpmsg]="$D/fpmsg.c $D/fpmaster.c $D/lockstate.c $D/lssnap.c $D/modes.c $F/crc32c.c $F/handoff.c"
	[fuzz_fprep]="$D/fprep.c $D/fpmsg.c $D/fpmaster.c $D/lockstate.c $D/lssnap.c $D/modes.c $F/crc32c.c $F/handoff.c"
)
declare -A GENARGS=(
	[fuzz_ondisk]="$src/tests/golden"
	[fuzz_uidrec]="$src/tests/golden"
	[fuzz_msg]=""
	[fuzz_snapshot]=""
	[fuzz_lssnap]="$src/tests/golden"
	[fuzz_conf]="$src"
	[fuzz_ipc]=""
	[fuzz_uidlist]=""
	[fuzz_xport]=""
	[fuzz_fpmsg]=""
	[fuzz_fprep]=""
)
CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
	-fno-sanitize-recover=undefined -Wall -Wextra -Werror
	-I$work/inc -I$src/include -I$L -I$D -I$DD -I$F -I$V -I$src/tests/common"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export SDLM_FUZZ_TMPDIR=$shm

# fuzz_one TARGET: build, replay, fuzz; prints PASS:/FAIL: lines and the
# details of a failure (run in the background, its output to a file)
fuzz_one() {
	local t=$1 bin reg seeds rc runs cov crash
	bin=$work/$t
	# shellcheck disable=SC2086
	if ! $CC $CFLAGS "$here/$t.c" "$src/tests/common/fuzzseed.c" ${SRCS[$t]} \
		-o "$bin" >"$work/$t.build" 2>&1; then
		fail "$t: build"; cat "$work/$t.build"; return
	fi
	reg=$here/regress/$t
	if [ -d "$reg" ] && [ -n "$(ls -A "$reg" 2>/dev/null)" ]; then
		if "$bin" -runs=0 "$reg"/* >"$work/$t.replay" 2>&1; then
			pass "$t: $(ls "$reg" | wc -l) regression seed(s) replay clean"
		else
			fail "$t: a regression seed fails again"
			grep -A25 -m1 'ERROR\|runtime error' "$work/$t.replay"
			return
		fi
	fi
	mkdir -p "$work/$t.corpus" "$work/$t.gen" "$work/$t.art"
	# shellcheck disable=SC2086
	if ! "$bin" --gen-corpus "$work/$t.gen" ${GENARGS[$t]} >"$work/$t.genlog" 2>&1; then
		fail "$t: --gen-corpus"; cat "$work/$t.genlog"; return
	fi
	seeds="$work/$t.gen"
	[ -d "$here/corpus/$t" ] && seeds="$seeds $here/corpus/$t"
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 \
		-artifact_prefix="$work/$t.art/" -print_final_stats=1 \
		"$work/$t.corpus" $seeds >"$work/$t.log" 2>&1
	rc=$?
	runs=$(awk '/stat::number_of_executed_units/{print $2}' "$work/$t.log")
	cov=$(grep -o 'cov: [0-9]*' "$work/$t.log" | tail -1)
	crash=$(ls "$work/$t.art" 2>/dev/null | head -1)
	if [ "$rc" = 0 ] && [ -z "$crash" ]; then
		pass "$t: ${runs:-?} runs in ${secs}s, ${cov:-cov ?}, no crash"
	else
		fail "$t: exit $rc${crash:+, input $crash}"
		grep -B2 -A30 -m1 'ERROR\|runtime error\|deadly signal' "$work/$t.log"
		if [ -n "$crash" ]; then
			mkdir -p "$reg"
			cp "$work/$t.art/$crash" "$reg/"
			echo "saved as regression seed: tests/fuzz/regress/$t/$crash"
		fi
	fi
}

# Two targets at a time (SDLM_FUZZ_JOBS): each fuzzes for $secs of wall
# time on one core, and a machine of 2 cores runs two (the suite's other
# test beside this one mostly waits on a cluster's timeouts); the runs each
# target got are in its PASS line.  The reports are read back in the
# order of the list and counted here.
jobs=${SDLM_FUZZ_JOBS:-2}
targets="fuzz_ondisk fuzz_uidrec fuzz_msg fuzz_snapshot fuzz_lssnap fuzz_conf fuzz_ipc fuzz_uidlist fuzz_xport fuzz_fpmsg fuzz_fprep"
for t in $targets; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
	{ fuzz_one "$t"; : >"$work/$t.done"; } >"$work/$t.out" 2>&1 &
done
wait
for t in $targets; do
	[ -e "$work/$t.done" ] || fail "$t: its run did not finish"
	while IFS= read -r l; do
		case $l in
		"PASS: "*) pass "${l#PASS: }" ;;
		"FAIL: "*) fail "${l#FAIL: }" ;;
		*) printf '%s\n' "$l" ;;
		esac
	done <"$work/$t.out"
done
t_tally
[ "$fails" = 0 ]
