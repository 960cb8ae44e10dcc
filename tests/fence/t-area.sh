#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Format tests on file-backed disks through the real CLI: init, dump, list,
# message, status; every kind of bad input gets its documented exit code, a
# message naming the device and what is wrong, and leaves the disk as it was.
. "$SDLM_SRCDIR/tests/lib.sh"
t_init area

C="$SDLMCTL"
D512="$TD/a512.img"
D4K="$TD/a4k.img"
# sum IMAGE: a digest of the image's content, equal for two images exactly
# when their bytes are.  The areas are sparse (--nodes 8 makes 1.4 GB,
# nearly all of it the UID area's holes) and sha256sum reads every zero:
# 7 s of CPU an image, 14 images, two thirds of this test.  This hashes
# the size and each 4 KiB block that is not all zeros with its offset,
# reading only the data extents (SEEK_DATA/SEEK_HOLE; where the file
# system has no holes it reads everything, the same digest).
sum() {
	python3 - "$1" <<'PY'
import hashlib, os, sys
B = 4096
fd = os.open(sys.argv[1], os.O_RDONLY)
size = os.fstat(fd).st_size
h = hashlib.sha256(b"%d\n" % size)
pos = 0	# the first block not hashed yet
while pos < size:
    try:
        data = os.lseek(fd, pos, os.SEEK_DATA)
    except OSError:	# ENXIO: only a hole past pos
        break
    end = os.lseek(fd, data, os.SEEK_HOLE)
    off = max(pos, data - data % B)
    stop = min(size, end + (-end) % B)	# the end, up to the next block
    while off < stop:
        n = min(1 << 20, stop - off)
        buf = os.pread(fd, n, off)
        for i in range(0, len(buf), B):
            if buf[i:i + B].strip(b"\0"):
                h.update(b"%d:" % (off + i) + buf[i:i + B])
        off += n
    pos = off
print(h.hexdigest())
PY
}
# run CMD, expect exit code E and stderr matching RE
expect() {
	local desc=$1 e=$2 re=$3; shift 3
	local out rc
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" = "$e" ] && echo "$out" | grep -qE -- "$re"; then
		ok "$desc (exit $rc)"
	else
		nok "$desc: expected exit $e and /$re/, got exit $rc: $out"
	fi
}

expect "init 512" 0 "initialised" $C fence init -d "$D512" --cluster t1 --nodes 8 --profile test
expect "init 4096" 0 "sector size +4096" $C fence init -d "$D4K" --cluster t2 --nodes 3 --sector-size 4096
expect "dump shows the derived dead bound" 0 "dead bound" $C fence dump -d "$D512"
out=$($C --json fence dump -d "$D4K")
check "dump --json parses and carries the sector size" \
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["sector_size"]==4096 and d["nodes"]==3' "$out"

s=$(sum "$D512")
expect "re-init refused without --force" 73 "already holds the sdlm area of cluster 't1'" \
	$C fence init -d "$D512" --cluster other
check "refused re-init changed nothing" test "$(sum "$D512")" = "$s"
expect "re-init with --force" 0 "initialised" $C fence init -d "$D512" --cluster t1 --nodes 8 --force

expect "missing device" 66 "$TD/nope.img: cannot open" $C fence list -d "$TD/nope.img"
expect "directory as device" 66 "$TD: cannot open" $C fence list -d "$TD"
expect "no device given" 64 "no device" env -u SDLM_DEVICE $C fence list
expect "bad option" 64 "usage" $C fence list -d "$D512" --bogus
expect "bad sector size" 64 "512 or 4096" $C fence init -d "$TD/x.img" --cluster x --sector-size 1000
expect "inconsistent timeouts" 64 "inconsistent timeouts" \
	$C fence init -d "$TD/x.img" --cluster x --io-timeout 9000 --hb-interval 1000
check "refused init created no area" test ! -s "$TD/x.img"
expect "unknown message" 64 "unknown message" $C fence message -d "$D512" 1 explode
expect "node out of range" 64 "not a slot" $C fence message -d "$D512" 99 test

dd if=/dev/zero of="$TD/zero.img" bs=1M count=1 status=none
expect "uninitialised device" 65 "no sdlm area" $C fence list -d "$TD/zero.img"

# Corruptions: each gets its own error and the image stays byte-identical.
corrupt() {	# file offset mask: the byte there XOR mask (mask != 0: it always changes;
		# setting a value instead failed when the byte already had it,
		# e.g. one of create_time's, 1 run in 256)
	local orig
	orig=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\x%02x' $((orig ^ $3)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
cp "$D512" "$TD/c1.img"; corrupt "$TD/c1.img" 0 0x41; s=$(sum "$TD/c1.img")
expect "bad header magic" 65 "bad magic" $C fence list -d "$TD/c1.img"
expect "bad header magic: message refused" 65 "bad magic" $C fence message -d "$TD/c1.img" 1 reset
check "bad magic image unchanged" test "$(sum "$TD/c1.img")" = "$s"
cp "$D512" "$TD/c2.img"; corrupt "$TD/c2.img" 40 0x7e; s=$(sum "$TD/c2.img")
expect "bad header checksum" 65 "checksum" $C fence dump -d "$TD/c2.img"
check "bad checksum image unchanged" test "$(sum "$TD/c2.img")" = "$s"
cp "$D512" "$TD/c3.img"; corrupt "$TD/c3.img" 8 0x09; s=$(sum "$TD/c3.img")
expect "unknown major version" 65 "version" $C fence dump -d "$TD/c3.img"
check "bad version image unchanged" test "$(sum "$TD/c3.img")" = "$s"
# heartbeat slot of node 2 is sector 2: corrupt one byte in its payload
cp "$D512" "$TD/c4.img"; corrupt "$TD/c4.img" $((2 * 512 + 100)) 0x55; s=$(sum "$TD/c4.img")
out=$($C fence list -d "$TD/c4.img" all 2>&1); rc=$?
if [ $rc = 0 ] && echo "$out" | grep -E '^ +2 .*checksum' >/dev/null &&
   echo "$out" | grep -E '^ +1 +- +free' >/dev/null; then
	ok "corrupt slot 2 reported alone, other slots listed"
else
	nok "corrupt slot listing: rc=$rc $out"
fi
expect "status of a corrupt slot is unknown" 1 "UNKNOWN" $C fence status -d "$TD/c4.img" 2
check "corrupt slot image unchanged" test "$(sum "$TD/c4.img")" = "$s"
cp "$TD/c4.img" "$TD/c4.img.orig"

# A slot that does not verify is re-read, never guessed (issue 13, hole 3):
# a pill with a made-up seq 1 may be at or below what the node already
# handled, and one for "any incarnation" may be taken as its baseline -
# either way ignored while the fencer believes it delivered.
cp "$D512" "$TD/m1.img"; corrupt "$TD/m1.img" $(( (8 + 2) * 512 + 100 )) 0x55; s=$(sum "$TD/m1.img")
expect "reset to a node whose message slot does not verify is refused" 65 \
	"node 2: message slot does not verify .*seq" $C fence message -d "$TD/m1.img" 2 reset
expect "the refusal says what to do" 65 "--seq" $C fence message -d "$TD/m1.img" 2 off
check "refused pill wrote nothing" test "$(sum "$TD/m1.img")" = "$s"
expect "reset to a node whose heartbeat slot does not verify is refused" 65 \
	"node 2: heartbeat slot does not verify .*incarnation" $C fence message -d "$TD/c4.img" 2 reset
check "refused pill wrote nothing (heartbeat slot)" test "$(sum "$TD/c4.img")" = "$(sum "$TD/c4.img.orig")"
expect "--seq on a slot that verifies is refused" 64 "only for a message slot that does not verify" $C fence message -d "$D512" --seq 7 3 test
expect "the operator repairs the message slot with an explicit --seq" 0 "sent clear #500 to node 2" \
	$C fence message -d "$TD/m1.img" --seq 500 2 clear
expect "after the repair a pill follows the slot's seq" 0 "sent reset #501 to node 2" \
	$C fence message -d "$TD/m1.img" 2 reset
expect "clear needs no incarnation: a corrupt heartbeat slot does not block it" 0 "sent clear #1 to node 2" \
	$C fence message -d "$TD/c4.img" 2 clear

# Messages on a quiet area.
expect "message test" 0 "sent test #1 to node 3" $C fence message -d "$D512" 3 test
expect "second message gets the next seq" 0 "sent clear #2 to node 3" $C fence message -d "$D512" 3 clear
out=$($C --json fence list -d "$D512" all)
check "json list shows seq 2 clear for node 3" python3 -c '
import json,sys
d=json.loads(sys.argv[1]); n=[x for x in d["nodes"] if x["node"]==3][0]
assert n["message"]["seq"]==2 and n["message"]["cmd"]=="clear", n' "$out"
expect "status of a free slot is OFF" 2 "Status: OFF" $C fence status -d "$D512" 1


# A node run with no_watchdog = yes (review s25-rev2): its heartbeat says
# so (NO_WATCHDOG, bit 1 of the flags word), and as nothing resets it a
# still heartbeat proves nothing: `fence message --wait` never declares it
# dead, it waits for the acknowledgement only and says why it gave up;
# `fence status` does not call it fenced when it fenced itself (sdlmd
# exits at once, its killed users not proven gone, no reset); `fence list`
# shows the flag.  The same still slot of a node with a watchdog is dead
# by D.  An area with short timeouts: D = 1.9 s, so this adds about 10 s.
DNW="$TD/nowd.img"
HBSLOT="$SDLM_SRCDIR/tests/fence/hbslot.py"
$C fence init -d "$DNW" --cluster nowd --nodes 4 --io-timeout 300 --hb-interval 100 \
	--watchdog-timeout 1000 --uid-slots 0 >/dev/null || nok "init the no-watchdog area"
NW_D=$($C --json fence dump -d "$DNW" | python3 -c 'import json,sys; print(json.load(sys.stdin)["timeouts"]["dead_ms"])')
NW_WAIT=$(( (3 * NW_D + 999) / 1000 + 1 ))	# seconds: well past D
python3 "$HBSLOT" "$DNW" 2 --minor 1 --name nowd2 --flags 3 >/dev/null || nok "hbslot node 2"
python3 "$HBSLOT" "$DNW" 3 --minor 1 --name wd3 --flags 1 >/dev/null || nok "hbslot node 3"
python3 "$HBSLOT" "$DNW" 4 --minor 1 --name nowd4 --flags 3 --state fenced-self >/dev/null || nok "hbslot node 4"
expect "--wait: a node with no watchdog is never dead by time (waited ${NW_WAIT} s)" 1 \
	"node 2 runs with no watchdog.*never dead by time.*fence confirm" \
	$C fence message -d "$DNW" --wait=$NW_WAIT 2 reset
expect "--wait: the same still slot with a watchdog is dead" 0 "node 3: dead after" \
	$C fence message -d "$DNW" --wait=$NW_WAIT 3 reset
expect "status: still with no watchdog is not provably dead" 1 "no watchdog" $C fence status -d "$DNW" 2
expect "status: fenced itself with no watchdog is not fenced" 1 "fenced itself with no watchdog" \
	$C fence status -d "$DNW" 4
out=$($C --json fence list -d "$DNW")
check "list --json: no_watchdog for nodes 2 and 4 only" python3 -c '
import json,sys
d={n["node"]: n for n in json.loads(sys.argv[1])["nodes"]}
assert d[2]["no_watchdog"] and d[4]["no_watchdog"] and not d[3]["no_watchdog"], d' "$out"
expect "list: the flag in the table" 0 "nowd2 .*no-watchdog" $C fence list -d "$DNW"

t_done
