#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# sdlmd and signals, systemd's notify protocol and the journal (issue 16,
# item 2).  Real disk-only sdlmd with the test watchdog:
#   - SIGHUP (logrotate's postrotate) reopens the log file: the daemon
#     stays, stays fenced-safe, and writes into a new file at the old path;
#     its watchdog never fires;
#   - SIGUSR1/SIGUSR2 (sent by accident) do not end it either;
#   - with NOTIFY_SOCKET set (Type=notify), READY=1 arrives only once the
#     node is fenced-safe, STOPPING=1 on a clean stop;
#   - with its stderr the journal (JOURNAL_STREAM) and syslog on, lines go
#     to the journal once: nothing on stderr.
. "$SDLM_SRCDIR/tests/lib.sh"
t_init signals
C="$SDLMCTL"
DISK="$TD/disk.img"
WD_S=8
$C fence init -d "$DISK" --cluster signals --nodes 4 --profile test >/dev/null || { nok "init"; t_done; exit 1; }
eval "$($C --json fence dump -d "$DISK" | python3 -c '
import json,sys; t=json.load(sys.stdin)["timeouts"]
print("I=%d T=%d L=%d" % (t["hb_interval_ms"], t["io_timeout_ms"], t["lease_ms"]))')"
safe() { ctl "$1" status 2>/dev/null | grep -q fenced-safe; }
alive() { kill -0 "$(cat "$TD/n$1/sdlmd.pid")" 2>/dev/null; }

# --- SIGHUP reopens the log -------------------------------------------------
node_start 1 || nok "start node 1"
check "node 1 fenced-safe" wait_for "node 1 fenced-safe" 30 safe 1
mv "$TD/n1/sdlmd.log" "$TD/n1/sdlmd.log.1"
kill -HUP "$(cat "$TD/n1/sdlmd.pid")"
check "after SIGHUP a new log file is written at the old path" \
	wait_for "new sdlmd.log" $(( (I + T) / 1000 + 10 )) grep -q "log file reopened" "$TD/n1/sdlmd.log"
check "the rotated file got the line before the reopen" grep -q "SIGHUP" "$TD/n1/sdlmd.log.1"
check "sdlmd still runs after SIGHUP" alive 1
# Wait out a lease: a daemon that stopped feeding would be gone by then.
sleep_until=$(( $(now_ms) + L + 2 * I ))
still_safe() { safe 1 && [ "$(now_ms)" -ge "$sleep_until" ]; }
check "and stays fenced-safe for a lease after it" wait_for "safe for a lease" $(( (L + 2 * I) / 1000 + 20 )) still_safe
check "its watchdog did not fire" node_alive 1

# --- the shipped logrotate file, run by logrotate itself ----------------------
if command -v logrotate >/dev/null; then
	sed -e "s|/var/log/sdlm/sdlmd.log|$TD/n1/sdlmd.log|" -e "s|/run/sdlm/|$TD/n1/|" \
		"$SDLM_SRCDIR/conf/sdlmd.logrotate" >"$TD/logrotate.conf"
	chmod 644 "$TD/logrotate.conf"
	# A pid file a crashed daemon left, whose pid is now another program's
	# (here a sleep, which SIGHUP would end): postrotate must not signal it.
	sleep 3600 &
	stranger=$!
	echo "$stranger" >"$TD/n1/sdlmd-crashed.pid"
	check "logrotate -f with conf/sdlmd.logrotate succeeds" \
		logrotate -f -s "$TD/logrotate.state" "$TD/logrotate.conf"
	check "the log was rotated" test -s "$TD/n1/sdlmd.log.1"
	check "postrotate's HUP made sdlmd reopen its log" \
		wait_for "reopened after logrotate" $(( (I + T) / 1000 + 10 )) grep -q "log file reopened" "$TD/n1/sdlmd.log"
	check "sdlmd still runs after logrotate" alive 1
	check "the process a stale pid file names got no signal (the file is not locked by a daemon)" \
		kill -0 "$stranger"
	kill "$stranger" 2>/dev/null
	wait "$stranger" 2>/dev/null
	rm -f "$TD/n1/sdlmd-crashed.pid"
else
	nok "logrotate missing (tests/deps.sh installs it)"
fi

# --- SIGUSR1, SIGUSR2 ------------------------------------------------------
kill -USR1 "$(cat "$TD/n1/sdlmd.pid")"
kill -USR2 "$(cat "$TD/n1/sdlmd.pid")"
check "SIGUSR1 and SIGUSR2 are logged (into the reopened file), not fatal" \
	wait_for "signal lines" 10 sh -c "grep -q 'signal 10' '$TD/n1/sdlmd.log' && grep -q 'signal 12' '$TD/n1/sdlmd.log'"
check "sdlmd still runs after SIGUSR1/SIGUSR2" alive 1
check "still fenced-safe" safe 1

# --- Type=notify --------------------------------------------------------------
# The listener records each datagram with what `sdlmctl status` said at
# that moment.
sock="$TD/notify.sock"
python3 - "$sock" "$TD/notify.log" "$C" "$T_RUN-n2" <<'EOF' &
import os, socket, subprocess, sys
path, log, ctl, ipc = sys.argv[1:5]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(300)
with open(log, "a") as f:
    while True:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            break
        st = subprocess.run([ctl, "--ipc", ipc, "status"], capture_output=True, text=True).stdout
        safe = "fenced-safe" if "fenced-safe" in st else "not-safe"
        for line in msg.splitlines():
            f.write("%s %s\n" % (line, safe))
        f.flush()
        if "STOPPING=1" in msg:
            break
EOF
T_PIDS="$T_PIDS $!"
check "notify listener ready" wait_for "socket" 10 test -S "$sock"
export NOTIFY_SOCKET="$sock"
node_start 2 || nok "start node 2"
unset NOTIFY_SOCKET
check "READY=1 arrives" wait_for "READY=1" 30 grep -q "^READY=1" "$TD/notify.log"
check "and only once the node is fenced-safe" grep -q "^READY=1 fenced-safe" "$TD/notify.log"
check "READY=1 sent once" test "$(grep -c '^READY=1' "$TD/notify.log")" = 1
kill -TERM "$(cat "$TD/n2/sdlmd.pid")"
check "STOPPING=1 on a clean stop" wait_for "STOPPING=1" 20 grep -q "^STOPPING=1" "$TD/notify.log"
check "node 2 exits cleanly" wait_for "node 2 stopped" 20 sh -c "! kill -0 $(cat "$TD/n2/sdlmd.pid") 2>/dev/null"

# --- the journal once -----------------------------------------------------------
mkdir -p "$TD/n3"
: >"$TD/n3/out.log"
export JOURNAL_STREAM
JOURNAL_STREAM=$(stat -c '%d:%i' "$TD/n3/out.log")
node_start 3 --log-syslog=yes || nok "start node 3"
unset JOURNAL_STREAM
check "node 3 fenced-safe" wait_for "node 3 fenced-safe" 30 safe 3
check "node 3 logs to its file" grep -q "starting" "$TD/n3/sdlmd.log"
check "stderr is the journal and syslog is on: nothing on stderr" \
	test "$(grep -c . "$TD/n3/out.log")" = 0

# --- SIGTERM during the start (review s25-rev2 R3) ----------------------------
# The watchdog is armed before the first heartbeat and nothing feeds it
# until the loop runs; a SIGTERM in between (systemctl restart right after
# a start) used to end sdlmd by the default action: the node was reset by
# its watchdog and the marker left behind.  Slot 4 shows a previous life
# ALIVE, so the slot claim waits I + T with the watchdog armed.
python3 "$SDLM_SRCDIR/tests/fence/hbslot.py" "$DISK" 4 --minor 1 --state alive \
	--counter 7 --incarnation 5eed >/dev/null || nok "hbslot node 4"
node_start 4 || nok "start node 4"
check "node 4's watchdog armed" wait_for "node 4 armed" 20 grep -q "INFO: armed" "$TD/n4/wd.log"
kill -TERM "$(cat "$TD/n4/sdlmd.pid")"
check "node 4 stops after a SIGTERM during its start" \
	wait_for "node 4 stopped" $(( (I + T) / 1000 + 20 )) sh -c "! kill -0 $(cat "$TD/n4/sdlmd.pid") 2>/dev/null"
check "its watchdog disarmed by the magic close, not left to reset the node" \
	grep -q "magic close: disarmed" "$TD/n4/wd.log"
check "its log says it exited cleanly" grep -q "sdlmd exiting (0)" "$TD/n4/sdlmd.log"
check "no marker left for the next start" sh -c "! ls '$TD'/n4/*.running 2>/dev/null | grep -q ."

# --- a log destination that stalls ---------------------------------------------
# The log file is a FIFO whose reader stops reading (as a hung /var or a
# stuck journald stops taking lines), its pipe shrunk to one page so a few
# debug lines fill it.  Writing the log must not hold the event loop: the
# node stays fenced-safe and answers for two leases while nothing is read,
# its watchdog is fed, and once the reader reads again the lines come.
fifo="$TD/n2/stall.fifo"
rm -f "$fifo" && mkfifo "$fifo"
python3 - "$fifo" "$TD/n2/stall.read" <<'EOF_PY' &
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
out = open(sys.argv[2], "ab", buffering=0)
shrunk = False
while True:
    b = os.read(fd, 512)
    if not b:
        break
    out.write(b)
    if not shrunk:
        try:
            fcntl.fcntl(fd, 1031, 4096)   # F_SETPIPE_SZ
            shrunk = True
            out.write(b"# pipe shrunk\n")
        except OSError:
            pass
EOF_PY
reader=$!
node_start 2 --log-level=debug --log-file="$fifo" || nok "start node 2 logging into a FIFO"
check "node 2 fenced-safe, logging into the FIFO" wait_for "node 2 fenced-safe" 30 safe 2
check "the reader shrank the pipe" wait_for "pipe shrunk" 10 grep -q "pipe shrunk" "$TD/n2/stall.read"
kill -STOP "$reader"
stall_until=$(( $(now_ms) + 2 * L ))
safe_through_stall() { timeout 5 "$SDLMCTL" --ipc "$T_RUN-n2" status 2>/dev/null | grep -q fenced-safe && [ "$(now_ms)" -ge "$stall_until" ]; }
check "with its log unread, node 2 stays fenced-safe and answers for two leases" \
	wait_for "safe through the stall" $(( 2 * L / 1000 + 30 )) safe_through_stall
check "its watchdog did not fire" node_alive 2
kill -CONT "$reader"
kill -USR2 "$(cat "$TD/n2/sdlmd.pid")"
check "once read again, the lines come (the SIGUSR2 after the stall)" \
	wait_for "lines after the stall" 30 grep -q "signal 12" "$TD/n2/stall.read"
kill -TERM "$(cat "$TD/n2/sdlmd.pid")"
check "node 2 stops" wait_for "node 2 stopped" 30 sh -c "! kill -0 $(cat "$TD/n2/sdlmd.pid") 2>/dev/null"
kill "$reader" 2>/dev/null
wait "$reader" 2>/dev/null
t_done
