#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Docs that match the code (issue 16, item 10): every flag a tool's --help
# shows is in its man page (docs/man/) and every flag its man page
# documents is in --help.  Long flags (--name) and short flags (-x) are
# compared as sets.  From the man page (groff, ASCII, no hyphenation) only
# the sections that document the tool's own flags are read: SYNOPSIS,
# OPTIONS, TARGET and the *COMMANDS sections; DESCRIPTION, EXAMPLES and
# the others may quote other programs' flags.
#
# Also checks the man page facts the issue names: sdlmctl.8 has stats,
# fence init --uuid and uid delete/rename; libsdlm.3 has every function
# of sdlm.h; that docs/guide.md and docs/operations.md state the area
# sizes `fence init` makes; and that dated run reports are under
# docs/reports/, not in the reference docs.
set -u
: "${SDLM_SRCDIR:?}" "${SDLM_BUILDDIR:?}"
for t in groff col; do
	command -v $t >/dev/null || { echo "SKIP: $t missing (groff-base, bsdextrautils)"; exit 77; }
done
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"

man_text() {
	groff -man -Tascii -rLL=400n -rHY=0 -P-c "$1" 2>/dev/null | col -b |
		awk '/^[A-Z][A-Z -]*$/ { keep = ($0 ~ /^(SYNOPSIS|OPTIONS|TARGET)$/ || $0 ~ /COMMANDS/); next } keep'
}
longs() { grep -oE -- '(^|[^a-zA-Z0-9_-])--[a-z][a-z0-9-]*' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }
shorts() { grep -oE -- '(^|[][ (,|])-[a-zA-Z]([],= |)]|$)' | grep -oE -- '-[a-zA-Z]' | sort -u; }

# compare NAME MANPAGE CMD...: the flag sets of CMD's output and the man page
compare() {
	local name=$1 man=$2 help mt kind only_help only_man
	shift 2
	help=$("$@" 2>&1)
	mt=$(man_text "$SDLM_SRCDIR/docs/man/$man")
	if [ "$(longs <<<"$help" | grep -c .)" -lt 2 ] || [ "$(longs <<<"$mt" | grep -c .)" -lt 2 ]; then
		fail "$name: no flags found in --help or $man (the extraction is broken)"
		return
	fi
	for kind in longs shorts; do
		only_help=$(comm -23 <($kind <<<"$help") <($kind <<<"$mt") | tr '\n' ' ')
		only_man=$(comm -13 <($kind <<<"$help") <($kind <<<"$mt") | tr '\n' ' ')
		if [ -z "$only_help" ]; then
			pass "$name: every flag of --help is in $man ($kind)"
		else
			fail "$name: in --help, not in $man: $only_help"
		fi
		if [ -z "$only_man" ]; then
			pass "$name: every flag of $man is in --help ($kind)"
		else
			fail "$name: in $man, not in --help: $only_man"
		fi
	done
}

B=$SDLM_BUILDDIR
compare sdlmd sdlmd.8 "$B/dlm/sdlmd" --help
compare sdlmctl sdlmctl.8 "$B/dlm/sdlmctl" --help
compare sdlm-watchdog sdlm-watchdog.8 "$B/fence/sdlm-watchdog" --help
compare sdlm-deliver sdlm-deliver.1 "$B/agents/dovecot/sdlm-deliver" --help
compare sdlm-maildir-repair sdlm-maildir-repair.8 "$B/agents/dovecot/sdlm-maildir-repair" --help
compare fence_sdlm fence_sdlm.8 python3 "$SDLM_SRCDIR/agents/fence_sdlm" --help

# sdlmctl.8: the commands the issue found missing
ctl=$(man_text "$SDLM_SRCDIR/docs/man/sdlmctl.8")
for want in "stats" "fence init .*--uuid" "uid delete" "uid rename"; do
	if grep -Eq -- "^ *$want" <<<"$ctl"; then pass "sdlmctl.8 documents '$want'"
	else fail "sdlmctl.8 does not document '$want'"; fi
done
# libsdlm.3: every function sdlm.h declares
lib=$(groff -man -Tascii -rLL=400n -rHY=0 -P-c "$SDLM_SRCDIR/docs/man/libsdlm.3" 2>/dev/null | col -b)
missing=""
for f in $(grep -oE '\bsdlm_[a-z_0-9]+\(' "$SDLM_SRCDIR/dlm/lib/sdlm.h" | tr -d '(' | sort -u); do
	grep -q "\b$f\b" <<<"$lib" || missing="$missing $f"
done
if [ -z "$missing" ]; then pass "libsdlm.3 documents every function of sdlm.h"
else fail "libsdlm.3 lacks:$missing"; fi

# The area size: docs/guide.md and docs/operations.md give the same bytes
# for the same N (nodes), S (UID slots) and sector size, and they are what
# `fence init` makes (sparse files: init punches a hole).
: "${SDLMCTL:?}"
tmp=$(mktemp -d "${SDLM_TEST_DIR:-$SDLM_BUILDDIR}/run-manpages.XXXXXX") || exit 1
trap 'rm -rf -- "$tmp"' EXIT
# size N S SECTOR: the area bytes fence init reports, with spaces every 3 digits
size() {
	rm -f "$tmp/a.img"
	"$SDLMCTL" --json fence init -d "$tmp/a.img" --cluster size --nodes "$1" --uid-slots "$2" \
		--sector-size "$3" --profile test |
		python3 -c 'import json, sys; print(format(json.load(sys.stdin)["area_bytes"], ",").replace(",", " "))'
}
for case in "16 0 512" "16 0 4096" "16 1024 512" "16 1024 4096" "16 1428572 512" "16 1428572 4096" \
	    "255 1024 4096"; do
	# shellcheck disable=SC2086
	b=$(size $case)
	for doc in operations.md guide.md; do
		[ "$case" = "255 1024 4096" ] && [ "$doc" = guide.md ] && continue
		if [ -n "$b" ] && grep -q "| $b B" "$SDLM_SRCDIR/docs/$doc"; then
			pass "docs/$doc: area of N S sector = $case is $b B"
		else
			fail "docs/$doc does not give the area of N S sector = $case as '${b:-?} B'"
		fi
	done
done
rm -f "$tmp/a.img"

# Dated run reports live under docs/reports/ (and are distributed), not in
# the reference docs: no docs/*.md heading carries a date, no paragraph
# starts "Run of <date>".
dated=$(cd "$SDLM_SRCDIR/docs" &&
	grep -nE '^#+ .*20[0-9]{2}-[0-9]{2}-[0-9]{2}|^Runs? (of|on) 20[0-9]{2}-' ./*.md)
if [ -z "$dated" ]; then pass "no dated run report in docs/*.md"
else fail "dated run reports in the reference docs (move them to docs/reports/): $dated"; fi
for r in "$SDLM_SRCDIR"/docs/reports/*.md; do
	[ -e "$r" ] || continue
	if grep -q "reports/$(basename "$r")" "$SDLM_SRCDIR/docs/Makefile.am"; then
		pass "docs/Makefile.am distributes reports/$(basename "$r")"
	else
		fail "docs/Makefile.am does not distribute reports/$(basename "$r")"
	fi
done

t_tally
[ "$fails" = 0 ]
