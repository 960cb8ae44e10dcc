#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every tool tells its version, and so does a running daemon (issue 16,
# item 3): --version on sdlmd, sdlmctl, sdlm-watchdog, sdlm-deliver,
# sdlm-maildir-repair, fence_sdlm (-V as fence-agents do); the version in
# `sdlmctl status` (text and --json), as the first line of sdlmd's log, and
# as the sdlm_build_info metric.  The expected version is configure's
# PACKAGE_VERSION, read from the build tree's config.h.
. "$SDLM_SRCDIR/tests/lib.sh"
t_init version
: "${SDLM_BUILDDIR:?}" "${SDLM_DELIVER:?}" "${SDLM_MAILDIR_REPAIR:?}"
V=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$SDLM_BUILDDIR/config.h")
[ -n "$V" ] || { nok "PACKAGE_VERSION in $SDLM_BUILDDIR/config.h"; t_done; exit 1; }
echo "PACKAGE_VERSION $V"
agent=${SDLM_FENCE_AGENT:-$SDLM_SRCDIR/agents/fence_sdlm}

# has_version NAME CMD...: exit 0 and a first line "NAME (sdlm) VERSION"
has_version() {
	local name=$1 out rc
	shift
	out=$("$@" 2>&1); rc=$?
	echo "  $*: exit $rc: $(head -1 <<<"$out")"
	[ "$rc" = 0 ] && [ "$(head -1 <<<"$out")" = "$name (sdlm) $V" ]
}
check "sdlmd --version" has_version sdlmd "$SDLMD" --version
check "sdlmctl --version" has_version sdlmctl "$SDLMCTL" --version
check "sdlm-watchdog --version" has_version sdlm-watchdog "$SDLM_WATCHDOG" --version
check "sdlm-deliver --version" has_version sdlm-deliver "$SDLM_DELIVER" --version
check "sdlm-maildir-repair --version" has_version sdlm-maildir-repair "$SDLM_MAILDIR_REPAIR" --version
check "fence_sdlm -V" has_version fence_sdlm "$agent" -V
check "fence_sdlm --version" has_version fence_sdlm "$agent" --version
check "sdlmd --help lists --version" sh -c "'$SDLMD' --help | grep -q -- '--version'"

# A running daemon.
DISK="$TD/disk.img"
WD_S=8
"$SDLMCTL" fence init -d "$DISK" --cluster version --nodes 2 --profile test >/dev/null || nok "init"
node_start 1 || nok "start node 1"
check "node 1 fenced-safe" wait_for "fenced-safe" 30 sh -c "'$SDLMCTL' --ipc '$T_RUN-n1' status | grep -q fenced-safe"
first=$(head -1 "$TD/n1/sdlmd.log")
echo "  first log line: $first"
check "the first log line names the version" grep -q "sdlmd $V starting" <<<"$first"
check "sdlmctl status shows the version" \
	sh -c "ctl() { '$SDLMCTL' --ipc '$T_RUN-n1' \"\$@\"; }; ctl status | grep -Eq '^version +$V\$'"
check "sdlmctl --json status has the version" \
	sh -c "'$SDLMCTL' --ipc '$T_RUN-n1' --json status | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)[\"version\"] == sys.argv[1] else 1)' '$V'"
check "sdlm_build_info{version=\"$V\"} 1 in the metrics" \
	sh -c "'$SDLMCTL' --ipc '$T_RUN-n1' stats --prometheus | grep -q '^sdlm_build_info{node=\"1\",version=\"$V\"} 1\$'"
check "sdlm_build_info is a gauge" \
	sh -c "'$SDLMCTL' --ipc '$T_RUN-n1' stats --prometheus | grep -q '^# TYPE sdlm_build_info gauge\$'"
t_done
