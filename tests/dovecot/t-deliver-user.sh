#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A delivery as the mail user, not root (issue 14 item 6, the delivery
# side), with real sdlmd and real Dovecot 2.3:
#   sdlm-deliver runs as nobody with client_group (and nothing else) and
#   delivers into a mailbox where Dovecot (doveadm save) already assigned
#   UIDs above sdlm's range; the delivery takes the uidlist's next UID and
#   raises sdlm's counter above it (sdlm_uid_raise is a client operation
#   since issue 15: it was admin-only, so such a delivery got EPERM, said
#   "commit: ... (message delivered)" and left sdlm's next below UIDs the
#   store held); a user in neither group gets 75 with a 4.x.x status and
#   nothing written.
# Needs root, corosync, dovecot-core; exit 77 (skip) when missing.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SDLM_SRCDIR:=$(cd "$here/../.." && pwd)}"
: "${SDLM_BUILDDIR:=$SDLM_SRCDIR/_build}"
: "${SDLM_DELIVER:=$SDLM_BUILDDIR/agents/dovecot/sdlm-deliver}"
: "${SDLM_MAILDIR_REPAIR:=$SDLM_BUILDDIR/agents/dovecot/sdlm-maildir-repair}"
export SDLM_DELIVER SDLM_MAILDIR_REPAIR
. "$here/lib.sh"

for t in doveadm corosync setpriv "$SDLM_DELIVER"; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -n "${SDLMD:-}" ] && [ -n "${SDLMCTL:-}" ] && [ -n "${SDLM_WATCHDOG:-}" ] ||
	{ echo "SKIP: SDLMD, SDLMCTL, SDLM_WATCHDOG unset (run through make check)"; exit 77; }
CG=mail AG=adm			# Debian's groups: nobody is in neither
getent group "$CG" >/dev/null && getent group "$AG" >/dev/null ||
	{ echo "SKIP: groups $CG/$AG missing"; exit 77; }
. "$SDLM_SRCDIR/tests/cluster/lib.sh"
. "$SDLM_SRCDIR/tests/cluster/sdlm.sh"

. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"

T=$(mktemp -d /var/tmp/sdlm-deliver-user.XXXXXX)
chmod 755 "$T"
trap 'sd_teardown; rm -rf "$T"' EXIT
conf="$T/sdlm.conf"
printf 'client_group = %s\nadmin_group = %s\n' "$CG" "$AG" >"$conf"
chmod 644 "$conf"
SD_EXTRA_OPTS="-c $conf"
MB=00112233445566778899aabbccddeeff

msg() { printf 'From: t@example.org\nSubject: %s\nMessage-ID: <%s@t>\n\nbody of %s\n' "$1" "$1" "$1"; }
# udeliver GROUPS SUBJECT: sdlm-deliver in node 1 as nobody with GROUPS
udeliver() {
	local g=$1 opts
	case "$g" in
	'') opts=(--regid=nogroup --clear-groups) ;;
	*) opts=(--regid=nogroup --groups="$g") ;;
	esac
	msg "$2" | timeout 60 ip netns exec "${CL_PREFIX}n1" setpriv --reuid=nobody "${opts[@]}" \
		"$SDLM_DELIVER" -l t -m "$MB" "$H/Maildir" >"$T/out" 2>"$T/err"
}
show() { sd_ctl 1 --json uid show t "$MB" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

sd_up 1
H="$T/h"
dc_home "$H"
require "first delivery as nobody in $CG" udeliver "$CG" first
cat "$T/out"
for i in 1 2 3 4 5; do msg "dove-$i" | dc_adm "$H" save -m INBOX; done
check "Dovecot assigned UIDs 2..6 itself" \
	test "$(dc_uids "$H" | cut -f1 | tr '\n' ,)" = "1,2,3,4,5,6,"
udeliver "$CG" second
rc=$?
cat "$T/out" "$T/err"
check "the second delivery as nobody succeeds" test $rc = 0
check "... with the uidlist's next UID, 7" grep -q '^uid=7 ' "$T/out"
check "... and no complaint from the raise" sh -c "! grep -q 'commit' '$T/err'"
n=$(show next)
# (not the watermark: the reserved range alone lifts it above 7)
check "sdlm's next UID raised above the store's UIDs ($n >= 8; without the raise: 3)" \
	test "$n" -ge 8
cp "$H/Maildir/dovecot-uidlist" "$T/pre"
udeliver "" stranger
rc=$?
check "nobody in neither group: 75 ($rc), 4.x.x first on stderr" \
	sh -c "[ $rc = 75 ] && grep -q '^4\.[0-9]\.[0-9]* ' '$T/err'"
check "... nothing written" cmp -s "$T/pre" "$H/Maildir/dovecot-uidlist"
dc_own "$H"
check "Dovecot: 7 messages, clean" sh -c "[ \$(env USER=t HOME='$H' doveadm -c '$H/dovecot.conf' -f tab fetch uid mailbox INBOX all | tail -n +2 | wc -l) = 7 ]"
check "Dovecot logged nothing broken" dc_clean "$H"

t_tally
[ "$fails" = 0 ]
