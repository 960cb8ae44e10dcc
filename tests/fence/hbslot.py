#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""hbslot.py - write one heartbeat slot of a file-backed sdlm area, encoded
from the byte table of docs/ondisk.md (not through fence/ondisk.c), so a
test can put "another sdlm" on the disk: a writer of heartbeat minor 0 (no
version field: an sdlm older than it) or of minor 1 with any version.

usage: hbslot.py AREA NODE --minor 0|1 [--version V] [--name N]
                 [--state alive|free] [--counter C] [--incarnation HEX]
                 [--flags F]
--flags: the prefix's flags word (bit 0 LAPSE_FENCES, bit 1 NO_WATCHDOG).
The area's uuid, sector size and slot offset come from its header.
"""
import argparse
import os
import struct
import sys

# CRC32C (Castagnoli), reflected polynomial 0x82F63B78, init and final xor
# 0xffffffff: the checksum every sdlm record ends with.
_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc32c(data):
    crc = 0xffffffff
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xff] ^ (crc >> 8)
    return crc ^ 0xffffffff


STATES = {"free": 0, "alive": 1, "fenced-self": 2, "exiting": 3}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("area")
    ap.add_argument("node", type=int)
    ap.add_argument("--minor", type=int, choices=(0, 1), required=True)
    ap.add_argument("--version", default="")
    ap.add_argument("--name", default="")
    ap.add_argument("--state", default="alive", choices=sorted(STATES))
    ap.add_argument("--counter", type=int, default=1)
    ap.add_argument("--incarnation", default="1234abcd5678ef01")
    ap.add_argument("--flags", type=lambda v: int(v, 0), default=0)
    a = ap.parse_args()
    if a.minor == 0 and a.version:
        sys.exit("hbslot.py: minor 0 has no version field")

    with open(a.area, "rb") as f:
        hdr = f.read(512)
    if hdr[:8] != b"SDLMHDR\0":
        sys.exit("hbslot.py: %s: not an sdlm area" % a.area)
    sector_size, num_nodes = struct.unpack_from("<II", hdr, 16)
    uuid = hdr[64:80]
    if not 1 <= a.node <= num_nodes:
        sys.exit("hbslot.py: node %d: not a slot (1..%d)" % (a.node, num_nodes))

    rec = bytearray(512)
    struct.pack_into("<8sHHI", rec, 0, b"SDLMHB\0\0", 1, a.minor, a.flags)
    struct.pack_into("<IIQQQQIIQ", rec, 16, a.node, STATES[a.state], a.counter,
                     int(a.incarnation, 16), 0, 0, 0, 1000, 0)
    rec[72:88] = uuid
    name = a.name.encode()
    rec[88:88 + len(name)] = name
    if a.minor >= 1:
        v = a.version.encode("ascii")
        assert len(v) < 32
        rec[152:152 + len(v)] = v
    struct.pack_into("<I", rec, 508, crc32c(bytes(rec[:508])))
    sector = bytes(rec) + bytes(sector_size - 512)

    fd = os.open(a.area, os.O_WRONLY)
    try:
        os.pwrite(fd, sector, a.node * sector_size)
        os.fsync(fd)
    finally:
        os.close(fd)


if __name__ == "__main__":
    main()
