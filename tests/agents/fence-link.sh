# SPDX-License-Identifier: GPL-2.0-or-later
# /usr/sbin/fence_sdlm for the tests that run fence_sdlm through Pacemaker:
# pacemaker-fenced and stonith_admin run fence agents from /usr/sbin only.
#
# fence_link_take AGENT: make /usr/sbin/fence_sdlm run AGENT until
# fence_link_drop (call it from the exit trap).  The tests that need the
# link hold an exclusive lock on it for as long as they use it, so two
# tests of one check never share it or remove it under each other.  Under
# that lock a symbolic link found there belongs to no running test: it is
# what a killed run left (a test's exit trap removes its link), and it is
# set aside for the test and put back afterwards.  A regular file there is
# an installed fence_sdlm: it is never touched, and the test can use it
# only if it is the same program as AGENT.  Returns 1, saying why on
# stderr, when the link cannot be made.
FENCE_LINK=/usr/sbin/fence_sdlm
FENCE_LINK_LOCK=/run/lock/sdlm-test-fence-link.lock
FENCE_LINK_MADE=0
FENCE_LINK_OLD=
FENCE_LINK_FD=

fence_link_take() {
	local agent
	agent=$(readlink -f "$1") || return 1
	mkdir -p "$(dirname "$FENCE_LINK_LOCK")"
	exec {FENCE_LINK_FD}>>"$FENCE_LINK_LOCK" || return 1
	# No deadline of its own: the holder is a test of the same check,
	# which ends (or is ended by the harness) and releases it.
	flock "$FENCE_LINK_FD" || return 1
	if [ -L "$FENCE_LINK" ]; then
		FENCE_LINK_OLD=$(readlink "$FENCE_LINK")
		[ "$(readlink -f "$FENCE_LINK")" != "$agent" ] &&
			echo "note: $FENCE_LINK -> $FENCE_LINK_OLD was left by a run that did not finish; replaced while this test runs, put back after"
		rm -f "$FENCE_LINK" || return 1
	elif [ -e "$FENCE_LINK" ]; then
		cmp -s "$FENCE_LINK" "$agent" && return 0
		echo "$FENCE_LINK is an installed fence_sdlm that is not $agent: stonith_admin would run it, not the one under test; remove or move it to run this test" >&2
		return 1
	fi
	ln -s "$agent" "$FENCE_LINK" || return 1
	FENCE_LINK_MADE=1
}

fence_link_drop() {
	if [ "$FENCE_LINK_MADE" = 1 ] && [ -L "$FENCE_LINK" ]; then
		rm -f "$FENCE_LINK"
		[ -n "$FENCE_LINK_OLD" ] && ln -s "$FENCE_LINK_OLD" "$FENCE_LINK"
	fi
	FENCE_LINK_MADE=0
	[ -n "$FENCE_LINK_FD" ] && exec {FENCE_LINK_FD}>&-
	FENCE_LINK_FD=
}
