#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `sdlmctl uid summary` and the refusals of `sdlmctl uid grow` that need no
# cluster (issue 17, item 5; docs/uid.md, "Growing the table"; the grow
# itself, online, is tests/cluster/t-uid-grow.sh):
#   - summary (text, --json, --prometheus, bare `sdlmctl uid`) of a fresh
#     table: every slot empty;
#   - a grow is refused while a node alive on the disk runs another sdlm
#     version, or one too old to say its version (an older daemon ignores
#     grown tables and would create their mailboxes again: UIDs twice),
#     naming the node, or while a heartbeat slot does not decode (its
#     node's state and version unknown); --force goes past it; with every node on this
#     version it goes on (to the cluster lock: no daemon here, exit 69);
#   - the table is not touched by a refused grow;
#   - `uid segments`: off on a fresh area; --enable refused like a grow
#     while a node alive runs another version (the header is not
#     touched), set once every node runs this one (docs/uid.md, "The
#     table lock").
. "$SDLM_SRCDIR/tests/lib.sh"
t_init uidtable
V=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$SDLM_BUILDDIR/config.h")
[ -n "$V" ] || { nok "PACKAGE_VERSION in $SDLM_BUILDDIR/config.h"; t_done; exit 1; }
HBSLOT="$SDLM_SRCDIR/tests/fence/hbslot.py"
C=$SDLMCTL
DISK="$TD/disk.img"
"$C" fence init -d "$DISK" --cluster uidtable --nodes 4 --uid-slots 8 --profile test >/dev/null ||
	{ nok "init"; t_done; exit 1; }

out=$("$C" uid summary -d "$DISK"); echo "$out"
check "summary: 8 slots, 0 used, 8 free" sh -c "echo '$out' | grep -q '^used    0 ' && echo '$out' | grep -q '^free    8 (empty 8, deleted 0)'"
js=$("$C" --json uid summary -d "$DISK")
check "summary --json" python3 -c "
import json, sys; d = json.loads(sys.argv[1])
assert d['slots'] == 8 and d['used'] == 0 and d['free'] == 8 and len(d['tables']) == 1, d" "$js"
check "bare 'sdlmctl uid' is the summary (device from \$SDLM_DEVICE)" \
	sh -c "SDLM_DEVICE='$DISK' '$C' uid | grep -q '^UID table on $DISK: 8 slots in 1 table'"
check "summary --prometheus" sh -c "'$C' uid summary -d '$DISK' --prometheus |
	grep -q '^sdlm_uid_table_slots_state{state=\"empty\"} 8$'"

# grow_rc ARGS...: the exit code and stderr of a grow (no daemon: ipc name nobody has)
grow() { "$C" --ipc-name "uidtable-none-$$" uid grow -d "$DISK" --slots 8 "$@" 2>"$TD/grow.err"; }

python3 "$HBSLOT" "$DISK" 2 --minor 1 --version "0.0.1-older" --name old2 --state alive >/dev/null ||
	nok "hbslot node 2"
grow; rc=$?; cat "$TD/grow.err"
check "grow refused (exit 1): node 2 alive with another version" test "$rc" = 1
check "the refusal names node 2 and its version" grep -q "node 2 (old2) runs sdlm 0.0.1-older" "$TD/grow.err"
seg() { "$C" uid segments -d "$DISK" "$@" 2>"$TD/seg.err"; }
seg >"$TD/seg.out"; rc=$?; cat "$TD/seg.out"
check "segments: off on a fresh area (the older table locks too)" \
	sh -c "[ $rc = 0 ] && grep -q '^older table locks too' '$TD/seg.out'"
seg --enable; rc=$?; cat "$TD/seg.err"
check "segments --enable refused (exit 1): node 2 alive with another version" \
	sh -c "[ $rc = 1 ] && grep -q 'uid segments --enable: node 2 (old2) runs sdlm 0.0.1-older' '$TD/seg.err' &&
	       grep -q 'segments --enable refused' '$TD/seg.err'"
check "the refused --enable left the header as it was" \
	sh -c "'$C' --json uid segments -d '$DISK' | grep -q '\"segment_locks_only\":false'"
# 0.1.0 is every build before the segment locks (the grown tables'
# UID_CHAIN included): such a node creates under the older locks alone, so
# --enable must see it as another version (this build is not 0.1.0).
python3 "$HBSLOT" "$DISK" 2 --minor 1 --version "0.1.0" --name old2 --state alive >/dev/null ||
	nok "hbslot node 2 on 0.1.0"
seg --enable; rc=$?; cat "$TD/seg.err"
check "segments --enable refused (exit 1): node 2 alive on 0.1.0, before the segment locks" \
	sh -c "[ $rc = 1 ] && grep -q 'node 2 (old2) runs sdlm 0.1.0' '$TD/seg.err'"
python3 "$HBSLOT" "$DISK" 2 --minor 0 --name old2 --state alive >/dev/null || nok "hbslot node 2 minor 0"
grow; rc=$?
check "grow refused (exit 1): node 2 too old to say its version" \
	sh -c "[ $rc = 1 ] && grep -q 'node 2 (old2) runs sdlm unknown' '$TD/grow.err'"
grow --force; rc=$?; cat "$TD/grow.err"
check "--force goes past it (then no daemon for the lock: exit 69)" \
	sh -c "[ $rc = 69 ] && grep -q 'going on with 1 node' '$TD/grow.err'"
python3 "$HBSLOT" "$DISK" 2 --minor 1 --version "$V" --name new2 --state alive >/dev/null ||
	nok "hbslot node 2 upgraded"
# grow review, hole 3 (passed the check before the fix: a slot that does
# not decode was skipped): node 3's heartbeat hit by a bad write (one
# byte of its payload), so neither its state nor its version can be read
python3 -c "
import struct, sys
with open(sys.argv[1], 'r+b') as f:
    ss = struct.unpack('<I', f.read(20)[16:20])[0]
    f.seek(3 * ss + 100); b = f.read(1); f.seek(3 * ss + 100); f.write(bytes([b[0] ^ 0x55]))" "$DISK" ||
	nok "corrupt node 3's slot"
grow; rc=$?; cat "$TD/grow.err"
check "grow refused (exit 1): node 3's heartbeat slot does not decode" \
	sh -c "[ $rc = 1 ] && grep -q 'node 3: its heartbeat slot does not decode (checksum' '$TD/grow.err'"
grow --force; rc=$?
check "--force goes past an undecodable slot (a dead node's)" \
	sh -c "[ $rc = 69 ] && grep -q 'going on with 1 node' '$TD/grow.err'"
python3 "$HBSLOT" "$DISK" 3 --minor 1 --name n3 --state free >/dev/null || nok "hbslot node 3 rewritten"
grow; rc=$?
check "every node on $V: the grow goes on to the cluster lock (no daemon here: exit 69)" \
	sh -c "[ $rc = 69 ] && grep -q 'takes the cluster lock sdlm-admin/uid-grow' '$TD/grow.err'"
js=$("$C" --json uid summary -d "$DISK")
check "no table added by the refused grows" python3 -c "
import json, sys; d = json.loads(sys.argv[1]); assert len(d['tables']) == 1 and d['slots'] == 8, d" "$js"
check "uid grow --prometheus is a usage error" sh -c "'$C' uid grow -d '$DISK' --prometheus 2>/dev/null; [ \$? = 64 ]"
check "uid segments --force without --enable is a usage error" \
	sh -c "'$C' uid segments -d '$DISK' --force 2>/dev/null; [ \$? = 64 ]"
check "uid segments --slots is a usage error" \
	sh -c "'$C' uid segments -d '$DISK' --slots 4 2>/dev/null; [ \$? = 64 ]"
# review s25-rev3 R5: the flag is written under the grow's cluster lock
# (a grow's UID_CHAIN written at the same time could be lost); with no
# sdlmd to take it through, only while no node is alive on the disk
seg --enable; rc=$?; cat "$TD/seg.err"
check "node 2 alive on $V, no sdlmd here: --enable refused (exit 69), it needs the grow's cluster lock" \
	sh -c "[ $rc = 69 ] && grep -q 'takes the cluster lock sdlm-admin/uid-grow.*1 node is alive' '$TD/seg.err'"
check "the refused --enable left the header as it was (no lock)" \
	sh -c "'$C' --json uid segments -d '$DISK' | grep -q '\"segment_locks_only\":false'"
python3 "$HBSLOT" "$DISK" 2 --minor 1 --version "$V" --name new2 --state free >/dev/null ||
	nok "hbslot node 2 stopped"
seg --enable >"$TD/seg.out"; rc=$?; cat "$TD/seg.out" "$TD/seg.err"
check "no node alive on the disk: segments --enable sets the feature without a lock" \
	sh -c "[ $rc = 0 ] && grep -q 'segment locks only.*(enabled now)' '$TD/seg.out'"
check "the header says it (UID_SEGLOCK: format 2, flag 0x2)" python3 -c "
import struct, sys
with open(sys.argv[1], 'rb') as f:
    h = f.read(16)
major, minor, flags = struct.unpack('<HHI', h[8:16])
assert major == 2 and flags & 2, (major, flags)" "$DISK"
check "segments --json after it" sh -c "'$C' --json uid segments -d '$DISK' | grep -q '\"segment_locks_only\":true,\"changed\":false'"
check "the area still opens (summary)" sh -c "'$C' uid summary -d '$DISK' | grep -q '^used    0 '"
t_done
