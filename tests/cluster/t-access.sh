#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Local access control of sdlmd against a real daemon (issue 15), tried as
# an unprivileged user would: `nobody`, alone and as a member of each
# group (setpriv: real credentials, supplementary groups included).
#   1. who may connect: nobody in no group is refused at connect time and
#      the client tool names the group it needs; client_group (as a
#      supplementary or as the effective group) and admin_group connect;
#   2. what each may ask: a delivery's UID ops (alloc, commit, raise) are
#      the client group's; UIDVALIDITY bump, degraded mode, fence confirm
#      and dump need admin_group;
#   3. reserved names: uid:*, uid-table, uid-table.* (the UID table's
#      segment locks), sdlm:* cannot be locked by anyone,
#      root included; the daemon's own lock cannot be unlocked by its id;
#   4. the forged value block, tried from the other node (take uid:<guid>
#      in EX: node 1's UID service hands it over with the next UID in the
#      value block; unlock it with next = 1 and a higher epoch): refused,
#      and node 1's next allocation goes on above every UID handed out.
#      On the code before this test, the sequence went through and node 1
#      handed out UID 1 again;
#   5. the per-connection caps hold against a client that tries 100 000
#      lock requests and 100 000 UID requests; the daemon's memory is
#      printed before and after (the figure of docs/operations.md), and
#      another connection is still served; one user's connections are
#      capped too (max_connections_per_user).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/sdlm.sh"
: "${ACCESSCLIENT:?}"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (setpriv to nobody)"; exit 77; }
conf=$(mktemp /tmp/sdlm-access.XXXXXX) || exit 1
trap 'sd_teardown; rm -f "$conf"' EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"

CG=mail AG=adm			# Debian's groups 8 and 4: nobody is in neither
getent group "$CG" >/dev/null && getent group "$AG" >/dev/null ||
	{ echo "SKIP: groups $CG/$AG missing"; exit 77; }
MAX_LOCKS=16384 MAX_REQ=1024	# the defaults: the figure measured is theirs
MAX_CONNS=64
cat >"$conf" <<CONF
client_group = $CG
admin_group = $AG
max_locks_per_client = $MAX_LOCKS
max_requests_per_client = $MAX_REQ
max_connections_per_user = $MAX_CONNS
CONF
chmod 644 "$conf"
SD_EXTRA_OPTS="-c $conf"

# as GROUPS CMD...: CMD in node $AS_NODE (default 1) as nobody with
# GROUPS ("" none, "mail", "adm", "gid:mail" = effective group mail and
# nothing else)
as() {
	local g=$1 opts
	shift
	case "$g" in
	'') opts=(--regid=nogroup --clear-groups) ;;
	gid:*) opts=(--regid="${g#gid:}" --clear-groups) ;;
	*) opts=(--regid=nogroup --groups="$g") ;;
	esac
	timeout 60 ip netns exec "${CL_PREFIX}n${AS_NODE:-1}" setpriv --reuid=nobody "${opts[@]}" "$@"
}
ctl() { local g=$1; shift; as "$g" "$SDLMCTL" -c "$conf" "$@"; }
# exits GROUPS CODE CMD...: the sdlmctl command exits with CODE; its
# stderr is kept in $ERR
exits() {
	local g=$1 want=$2 rc
	shift 2
	ERR=$(ctl "$g" "$@" 2>&1 >/dev/null); rc=$?
	[ "$rc" = "$want" ] || { echo "  exit $rc, wanted $want: $ERR"; return 1; }
}
says() { echo "$ERR" | grep -q -- "$1" || { echo "  stderr: $ERR"; return 1; }; }

sd_up 2
log="$CL_DIR/n1/sdlmd-file.log"
check "the daemon logs its access policy" grep -q "access: root, client_group $CG, admin_group $AG" "$log"

# --- 1. who may connect -------------------------------------------------------------
check "nobody in no group is refused at connect time (exit 77)" exits "" 77 status
check "... and sdlmctl names the group it needs and where it is set" \
	says "needs group '$CG' (client_group in $conf)"
check "... once" test "$(echo "$ERR" | grep -c "needs group")" = 1
as "" "$ACCESSCLIENT" connect 2>/dev/null; rc=$?
check "a raw libqb client is refused before any request (EACCES: $rc)" test "$rc" = 77
check "the daemon logs the refusal" grep -q "refused a connection of pid .* (uid 65534" "$log"
if [ -n "${SDLM_DELIVER:-}" ]; then
	md=$(mktemp -d /tmp/sdlm-access-md.XXXXXX); mkdir -p "$md/Maildir/new" "$md/Maildir/cur" "$md/Maildir/tmp"
	chown -R nobody:nogroup "$md"
	ERR=$(echo "Subject: x" | as "" "$SDLM_DELIVER" -l t -m 00112233445566778899aabbccddeef0 "$md/Maildir" 2>&1 >/dev/null); rc=$?
	rm -rf "$md"
	check "sdlm-deliver as a user in no group: temporary failure (75, got $rc), the MTA retries" test "$rc" = 75
	check "... and it says which setting admits it" says "client_group"
fi
check "a supplementary member of client_group connects" ctl "$CG" status
check "a process whose effective group is client_group connects" ctl "gid:$CG" status
check "a supplementary member of admin_group connects" ctl "$AG" status
check "a member of a third group only is refused" exits "nogroup" 77 ls

# --- 2. what each may ask -----------------------------------------------------------
first=$(ctl "$CG" --json uid alloc t deliverbox 3 | python3 -c 'import json,sys; print(json.load(sys.stdin)["first"])')
check "client_group allocates UIDs (got $first)" test "$first" = 1
check "client_group raises the next UID above one the store holds (a delivery's raise)" \
	ctl "$CG" uid raise t deliverbox 500
next=$(ctl "$CG" --json uid alloc t deliverbox 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["first"])')
check "... and the next UID is above it ($next)" test "$next" -ge 500
check "client_group may hold a lock" ctl "$CG" lock -n t plain-resource -- true
check "client_group may not bump UIDVALIDITY (77)" exits "$CG" 77 uid uidvalidity-bump t deliverbox
check "... and is told it needs admin_group" says "needs group '$AG' (admin_group in $conf)"
check "client_group may not settle a mailbox" exits "$CG" 77 uid settle t deliverbox 900
check "client_group may not delete a mailbox" exits "$CG" 77 uid delete t deliverbox
check "client_group may not read the debug ring" exits "$CG" 77 dump
check "client_group may not confirm a fence" exits "$CG" 77 fence confirm 2
check "client_group may not enter degraded mode" exits "$CG" 77 degraded enable --confirm-split-storage
check "admin_group reads the debug ring" ctl "$AG" dump
check "admin_group bumps UIDVALIDITY" ctl "$AG" uid uidvalidity-bump t deliverbox
check "admin_group is a client too (locks)" ctl "$AG" lock -n t plain-resource -- true

# --- 3. reserved names --------------------------------------------------------------
G=00112233445566778899aabbccddeeff
for who in "$CG" "$AG"; do
	for name in "uid:$G" uid-table uid-table.0.0 sdlm:future; do
		check "'$name' cannot be locked by group $who" exits "$who" 1 lock -n t "$name" -- true
		check "... and the error says the name is reserved" says "reserved"
	done
done
ERR=$(sd_ctl 1 lock -n t uid-table -- true 2>&1); rc=$?
check "not even root locks uid-table (exit $rc)" test "$rc" != 0
check "... and root is told the name is reserved" says "reserved"
check "a name that only looks alike is a client's (uid-tables)" ctl "$CG" lock -n t uid-tables -- true

# --- 4. the forged value block ------------------------------------------------------
got=$(sd_ctl 1 --json uid alloc t "$G" 5 | python3 -c 'import json,sys; print(json.load(sys.stdin)["first"])')
require "mailbox $G: UIDs $got..$((got + 4)) handed out" test "$got" = 1
out=$(AS_NODE=2 as "$CG" "$ACCESSCLIENT" forge t "$G" 2>&1); rc=$?
echo "$out" | sed 's/^/  /'
check "the forged-LVB sequence from node 2 is refused at its first step (reserved name)" test "$rc" = 0
out=$(timeout 60 ip netns exec "${CL_PREFIX}n2" "$ACCESSCLIENT" forge t "$G" 2>&1); rc=$?
check "root's forgery is refused the same way" test "$rc" = 0
out=$(as "$CG" "$ACCESSCLIENT" forge t "$G" 2>&1); rc=$?
check "and on the node that holds the mailbox" test "$rc" = 0
lkid=$(sd_ctl 1 --json locks t | python3 -c "
import json,sys
d=json.load(sys.stdin)
def walk(o):
    if isinstance(o, dict):
        if o.get('client') == 4294967295 and 'lkid' in o: yield o['lkid']
        for v in o.values(): yield from walk(v)
    elif isinstance(o, list):
        for v in o: yield from walk(v)
print(next(walk(d), ''))")
if [ -n "$lkid" ]; then
	ERR=$(as "$CG" "$ACCESSCLIENT" unlock "$lkid" 2>&1)
	check "the UID service's own lock ($lkid) cannot be unlocked by its id: $ERR" \
		says "^rc -1025 .*reserved"
else
	fail "the UID service's lock of $G is in the lock list"
fi
after=$(ctl "$CG" --json uid alloc t "$G" 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["first"])')
check "node 1's next allocation goes on above every UID handed out ($after > 5)" test "$after" -gt 5

# --- 5. per-connection caps ---------------------------------------------------------
pid=$(cl_pid 1 sdlmd)
out=$(as "$CG" "$ACCESSCLIENT" flood t 100000 "$pid" 2>&1); rc=$?
echo "$out" | sed 's/^/  /'
res=$(echo "$out" | sed -n 's/^RESULT //p')
check "the flood client ran to its end (exit $rc)" test "$rc" = 0 -a -n "$res"
eval "$res"
check "locks: $MAX_LOCKS accepted, every other one refused with the limit" \
	test "${locks_accepted:-0}" = "$MAX_LOCKS" -a "${locks_refused:-0}" = $((100000 - MAX_LOCKS))
check "UID requests: $MAX_REQ waiting, every other one refused with the limit" \
	test "${uid_waiting:-0}" = "$MAX_REQ" -a "${uid_refused:-0}" = $((100000 - MAX_REQ))
check "at its limit the client can still cancel a waiting call (review s25-rev1 R5; was SDLM_ELIMIT)" \
	test "${cancel_rc:-x}" = 0
check "at its limit the client can still commit the allocation it holds" test "${commit_rc:-x}" = 0
check "another connection is served at once after the flood" ctl "$CG" lock -n t after-flood -- true
ERR=$out
check "the limit is told as such" says "per-client limit reached"
ctl "$CG" status >/dev/null 2>&1
out=$(as "$CG" "$ACCESSCLIENT" conns 100 "$pid" 2>&1); echo "  $out"
check "one user opening 100 connections gets $MAX_CONNS (max_connections_per_user)" \
	sh -c "echo '$out' | grep -q '^connections: $MAX_CONNS of 100;'"
check "the daemon logs the refusal" grep -q "connections open (max_connections_per_user)" "$log"
check "the daemon survived it all" sd_status_has 1 "fenced-safe"

t_tally
[ "$fails" = 0 ]
