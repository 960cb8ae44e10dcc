# SPDX-License-Identifier: GPL-2.0-or-later
# tests/checks.sh - the tally of a script test (sourced by every script
# test, directly or through tests/lib.sh):
#
#   pass MSG / fail MSG      record a check ("PASS: MSG" / "FAIL: MSG")
#   skip MSG                 a check that cannot run here ("SKIP: MSG"):
#                            counted neither way, listed in the tally
#   check DESC CMD...        run CMD: pass DESC if it succeeds, else fail
#   require DESC CMD...      check, and on failure print the tally and
#                            exit 1 (run T_ON_REQUIRE first when set: a
#                            script's own judge/cleanup before leaving)
#   t_tally                  "NAME: N passed, M failed"; NAME is $T_NAME,
#                            else the script's name
#   $passes, $fails          the counts so far
passes=0
fails=0
skips=0
pass() { echo "PASS: $*"; passes=$((passes + 1)); }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
skip() { echo "SKIP: $*"; skips=$((skips + 1)); }
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
t_tally() {
	local s=""
	[ "$skips" -gt 0 ] && s=", $skips skipped"
	echo "${T_NAME:-$(basename "$0" .sh)}: $passes passed, $fails failed$s"
}
require() {
	local d=$1; shift
	if "$@"; then pass "$d"; return 0; fi
	fail "$d"
	[ -n "${T_ON_REQUIRE:-}" ] && "$T_ON_REQUIRE"
	echo "$fails failed, cannot go on"
	t_tally
	exit 1
}
