# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# tests/dovecot/lib.sh - real Dovecot on a Maildir, no daemon
# (docs/imap.md, contracts 5.7): a private config per mailbox home, every
# command with USER/HOME in its environment, mail_uid=nobody because the
# tests run as root.
#
#   dc_home DIR             make DIR/{dovecot.conf,run,Maildir/{cur,new,tmp}}
#   dc_adm DIR ARGS...      doveadm with DIR's config; stderr is appended
#                           to DIR/doveadm.err (checked by dc_clean)
#   dc_uids DIR             "uid<TAB>guid" lines, as Dovecot sees them
#   dc_status DIR FIELD     the value of one of uidvalidity uidnext messages guid
#   dc_clean DIR            no "Broken", "UIDs not ordered", "next_uid was
#                           lowered" or "Duplicate file entry" anywhere
#   dc_imap DIR             "UIDVALIDITY UIDNEXT uid,uid,..." through the
#                           real imap binary (PREAUTH over stdin/stdout)
#   dc_own DIR              hand the Maildir to nobody:nogroup again
: "${SDLM_DELIVER:?}" "${SDLM_MAILDIR_REPAIR:?}"

DC_USER=${DC_USER:-nobody}
DC_GROUP=${DC_GROUP:-nogroup}
DC_BAD='Broken|UIDs not ordered|next_uid was lowered|Duplicate file entry'

dc_home() {
	local d=$1
	mkdir -p "$d/run" "$d/Maildir/cur" "$d/Maildir/new" "$d/Maildir/tmp" || return 1
	cat >"$d/dovecot.conf" <<CONF
base_dir = $d/run
log_path = $d/dovecot.log
mail_location = maildir:$d/Maildir
ssl = no
mail_uid = $DC_USER
mail_gid = $DC_GROUP
mail_fsync = always
mmap_disable = yes
CONF
	: >"$d/doveadm.err"
	dc_own "$d"
}

dc_own() {
	chown -R "$DC_USER:$DC_GROUP" "$1/Maildir"
}

dc_adm() {
	local d=$1
	shift
	env USER=t HOME="$d" doveadm -c "$d/dovecot.conf" "$@" 2>>"$d/doveadm.err"
}

dc_uids() {
	dc_adm "$1" -f tab fetch 'uid guid' mailbox INBOX all | tail -n +2
}

dc_status() {
	dc_adm "$1" -f tab mailbox status "$2" INBOX | tail -n +2 | cut -f2
}

dc_clean() {
	local d=$1
	! grep -Eq "$DC_BAD" "$d/doveadm.err" "$d/dovecot.log" 2>/dev/null
}

dc_imap() {
	python3 - "$1" <<'PY'
import imaplib, re, sys
d = sys.argv[1]
m = imaplib.IMAP4_stream("env USER=t HOME=%s /usr/lib/dovecot/imap -c %s/dovecot.conf" % (d, d))
typ, _ = m.select("INBOX")
assert typ == "OK"
v = m.response("UIDVALIDITY")[1][0].decode()
n = m.response("UIDNEXT")[1][0].decode()
typ, data = m.uid("FETCH", "1:*", "(UID)")
uids = [re.search(rb"UID (\d+)", x).group(1).decode() for x in data if x]
m.logout()
print(v, n, ",".join(uids))
PY
}

# The UIDs of the uidlist we wrote, in the same "uid<TAB>guid" form.
dc_listed() {
	tail -n +2 "$1/Maildir/dovecot-uidlist" | sed -E 's/^([0-9]+) ([^:]*):(.*)$/\1\t\3/'
}
