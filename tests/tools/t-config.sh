#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# One configuration for every tool (issue 16, item 4): the client tools read
# the same sdlm.conf as sdlmd, through the same option table (dlm/daemon/conf.c),
# with --config and --ipc-name overrides, and `device` as the default of
# the fence commands.  A changed ipc_name must not break them.
#
# One disk-only sdlmd (tests/lib.sh) under a non-default IPC name; a
# sdlm.conf naming that IPC name and the disk; then, with no --ipc-name and
# no -d anywhere:
#   - sdlmctl -c FILE status reaches the daemon; --dump-config shows the
#     file's ipc_name and device; --ipc-name (and --ipc, its old spelling)
#     and $SDLM_IPC beat the file; a bad file is an error naming file:line;
#   - sdlmctl -c FILE fence list/status/dump use the file's device; -d and
#     a global --device beat it;
#   - sdlm-deliver and sdlm-maildir-repair --config FILE ask the file's
#     ipc_name (their "cannot reach" error names it);
#   - fence_sdlm --config FILE (no devices) fences on the file's device;
#   - the OCF agent with config=FILE monitors the daemon (it reads the file
#     through sdlmd --dump-config and hands the name to sdlmctl).
. "$SDLM_SRCDIR/tests/lib.sh"
t_init config
: "${SDLM_DELIVER:?}" "${SDLM_MAILDIR_REPAIR:?}"
C="$SDLMCTL"
DISK="$TD/disk.img"
WD_S=8
agent=${SDLM_FENCE_AGENT:-$SDLM_SRCDIR/agents/fence_sdlm}
unset SDLM_IPC SDLM_DEVICE
IPC="$T_RUN-n1"
CONF="$TD/sdlm.conf"

# run CMD...: stdout+stderr in $out, exit code in $rc
run() { out=$("$@" 2>&1); rc=$?; echo "  $*: exit $rc"; printf '%s\n' "$out" | sed 's/^/  | /' | head -8; }

"$C" fence init -d "$DISK" --cluster conftest --nodes 3 --profile test >/dev/null || nok "init"
cat >"$CONF" <<EOF
# a node whose daemon does not use the default IPC name
device = $DISK
ipc_name = $IPC
run_dir = $TD/n1
node_id = 1
EOF
node_start 1 || nok "start node 1"
check "node 1 fenced-safe (explicit --ipc-name)" \
	wait_for "fenced-safe" 30 sh -c "'$C' --ipc-name '$IPC' status | grep -q fenced-safe"

# --- sdlmctl reads sdlm.conf ----------------------------------------------------
run "$C" -c "$CONF" status
check "sdlmctl -c FILE status: reaches the daemon named by ipc_name" \
	bash -c '[ "$1" = 0 ] && grep -q fenced-safe <<<"$2"' _ "$rc" "$out"
run "$C" --config="$CONF" --json status
check "sdlmctl --config=FILE --json status: exit 0, JSON" \
	bash -c '[ "$1" = 0 ] && python3 -c "import json,sys; json.loads(sys.argv[1])" "$2"' _ "$rc" "$out"
run "$C" -c "$CONF" --dump-config
check "sdlmctl --dump-config: the file's ipc_name" grep -qx "ipc_name = $IPC" <<<"$out"
check "sdlmctl --dump-config: the file's device" grep -qx "device = $DISK" <<<"$out"
printf 'ipc_name = sdlm-nobody-%s\n' "$$" >"$TD/wrong.conf"
run "$C" -c "$TD/wrong.conf" status
check "a wrong ipc_name in the file: exit 69, the error names it" \
	bash -c '[ "$1" = 69 ] && grep -q "ipc .sdlm-nobody-" <<<"$2"' _ "$rc" "$out"
check "... and says where the name comes from" grep -q "from ipc_name in .*wrong.conf" <<<"$out"
run "$C" -c "$TD/wrong.conf" --ipc-name "$IPC" status
check "--ipc-name beats the file" test "$rc" = 0
run "$C" -c "$TD/wrong.conf" --ipc="$IPC" status
check "--ipc (the old spelling) beats the file" test "$rc" = 0
run env SDLM_IPC="$IPC" "$C" -c "$TD/wrong.conf" status
check "\$SDLM_IPC beats the file" test "$rc" = 0
printf 'ipc_name = %s\nfrobnicate = 1\n' "$IPC" >"$TD/bad.conf"
run "$C" -c "$TD/bad.conf" status
check "a bad file: exit 64, one line naming file:line" \
	bash -c '[ "$1" = 64 ] && grep -q "bad.conf:2: unknown key .frobnicate." <<<"$2" &&
		[ "$(grep -c . <<<"$2")" = 1 ]' _ "$rc" "$out"
run "$C" -c "$TD/missing.conf" status
check "a missing -c file: exit 64, named" \
	bash -c '[ "$1" = 64 ] && grep -q "missing.conf" <<<"$2"' _ "$rc" "$out"
run "$C" -c "$TD/bad.conf" --help
check "--help works whatever the file holds" \
	bash -c '[ "$1" = 0 ] && grep -q -- "--ipc-name" <<<"$2"' _ "$rc" "$out"

# --- device from sdlm.conf for the fence commands ---------------------------------
run "$C" -c "$CONF" --json fence list
check "fence list with no -d: the file's device" \
	bash -c '[ "$1" = 0 ] && python3 -c "
import json, sys
d = json.loads(sys.argv[1])
sys.exit(0 if any(n[\"node\"] == 1 for n in d[\"nodes\"]) else 1)" "$2"' _ "$rc" "$out"
run "$C" -c "$CONF" fence status 1
check "fence status 1 with no -d: 0 (alive)" test "$rc" = 0
run "$C" -c "$CONF" fence dump
check "fence dump with no -d: the file's area" \
	bash -c '[ "$1" = 0 ] && grep -q conftest <<<"$2"' _ "$rc" "$out"
"$C" fence init -d "$TD/other.img" --cluster otherarea --nodes 2 --profile test >/dev/null ||
	nok "init other"
run "$C" -c "$CONF" fence dump -d "$TD/other.img"
check "fence dump -d beats the file" bash -c '[ "$1" = 0 ] && grep -q otherarea <<<"$2"' _ "$rc" "$out"
run "$C" -c "$CONF" --device "$TD/other.img" fence dump
check "a global --device beats the file" bash -c '[ "$1" = 0 ] && grep -q otherarea <<<"$2"' _ "$rc" "$out"
run env SDLM_DEVICE="$TD/other.img" "$C" -c "$CONF" fence dump
check "\$SDLM_DEVICE beats the file" bash -c '[ "$1" = 0 ] && grep -q otherarea <<<"$2"' _ "$rc" "$out"
printf '# nothing\n' >"$TD/empty.conf"
run "$C" -c "$TD/empty.conf" fence dump
check "no device anywhere: exit 64, says where to set it" \
	bash -c '[ "$1" = 64 ] && grep -q "sdlm.conf" <<<"$2"' _ "$rc" "$out"

# --- the Dovecot tools ----------------------------------------------------------------
mkdir -p "$TD/mail/new" "$TD/mail/cur" "$TD/mail/tmp"
printf 'Subject: x\n\nbody\n' >"$TD/msg"
run "$SDLM_DELIVER" --config "$TD/wrong.conf" -m 0123456789abcdef0123456789abcdef "$TD/mail" "$TD/msg"
check "sdlm-deliver --config: asks the file's ipc_name" \
	bash -c '[ "$1" = 75 ] && grep -q "ipc .sdlm-nobody-" <<<"$2"' _ "$rc" "$out"
run "$SDLM_DELIVER" --config "$TD/bad.conf" -m 0123456789abcdef0123456789abcdef "$TD/mail" "$TD/msg"
check "sdlm-deliver with a bad file: 75, names file:line" \
	bash -c '[ "$1" = 75 ] && grep -q "bad.conf:2" <<<"$2"' _ "$rc" "$out"
mkdir -p "$TD/a" "$TD/b"
run "$SDLM_MAILDIR_REPAIR" --config "$TD/wrong.conf" -l imap -m 0123456789abcdef0123456789abcdef "$TD/a" "$TD/b"
check "sdlm-maildir-repair --config: asks the file's ipc_name" grep -q "ipc .sdlm-nobody-" <<<"$out"

# --- fence_sdlm: the device of sdlm.conf ------------------------------------------------
run "$agent" --config="$CONF" --sdlmctl-path="$C" -o status -n 1
check "fence_sdlm --config, no devices: status of node 1 is ON" \
	bash -c '[ "$1" = 0 ] && grep -q "Status: ON" <<<"$2"' _ "$rc" "$out"
run "$agent" --config="$TD/empty.conf" --sdlmctl-path="$C" -o status -n 1
check "fence_sdlm with no devices and none in the file: fails, says so" \
	bash -c '[ "$1" = 1 ] && grep -q "device" <<<"$2"' _ "$rc" "$out"

# --- the OCF agent --------------------------------------------------------------------
if [ -f /usr/lib/ocf/lib/heartbeat/ocf-shellfuncs ]; then
	ocfa="$TD/sdlmd-agent"
	sed "s|@sbindir@|$(dirname "$SDLMD")|g" "$SDLM_SRCDIR/agents/sdlm.in" >"$ocfa" && chmod 755 "$ocfa"
	run env OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=sdlm-conf OCF_RESKEY_sdlmd="$SDLMD" \
		OCF_RESKEY_sdlmctl="$C" OCF_RESKEY_config="$CONF" "$ocfa" monitor
	check "OCF agent with config=FILE: monitor finds the daemon (0)" test "$rc" = 0
else
	echo "note: resource-agents not installed; OCF agent check skipped"
fi
t_done
