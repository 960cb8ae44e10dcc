#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# An install a distribution can package (issue 16, items 4 and 9), checked
# on this build tree:
#   - the default config path follows --sysconfdir (sdlmd --help, sdlmctl
#     --help, the OCF agent's meta-data);
#   - without --with-ocfdir / --with-systemdsystemunitdir, configure takes
#     them from resource-agents.pc and systemd.pc;
#   - libsdlm.pc lists libqb under Requires.private;
#   - make install puts sdlm.conf under $(sysconfdir)/sdlm, the logrotate
#     file under $(sysconfdir)/logrotate.d, corosync.conf.example and the
#     license files under $(docdir).
. "$SDLM_SRCDIR/tests/lib.sh"
: "${SDLM_BUILDDIR:?}"
t_init install
B="$SDLM_BUILDDIR"
# mkvar NAME: a variable of the top Makefile, fully expanded by make.  The
# make running this test passes its flags down (with -w when it was started
# with -C, as CI does), and "Entering directory" lines would end up in the
# value: run a make of our own, with none of them.
mkvar() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
	make -s --no-print-directory -C "$B" -f Makefile -f - "print-$1" <<'MK'
print-%:
	@echo '$($*)'
MK
}
sysconfdir=$(mkvar sysconfdir)
docdir=$(mkvar docdir)
includedir=$(mkvar includedir)
ocfdir=$(mkvar OCFDIR)
unitdir=$(mkvar SYSTEMDUNITDIR)
echo "sysconfdir=$sysconfdir docdir=$docdir OCFDIR=$ocfdir units=$unitdir"
conf="$sysconfdir/sdlm/sdlm.conf"

check "sdlmd --help: default config $conf" sh -c "'$SDLMD' --help | tr -s ' \n' '  ' | grep -qF 'Default: $conf.'"
check "sdlmctl --help names $conf" sh -c "'$SDLMCTL' --help | grep -qF '$conf'"
ocf_agent="$B/agents/sdlmd"
check "OCF agent built" test -x "$ocf_agent"
check "OCF agent meta-data names $conf" sh -c "OCF_ROOT=/usr/lib/ocf '$ocf_agent' meta-data | grep -qF '$conf'"

if ! grep -q -- "--with-ocfdir" "$B/config.status" && pkg-config --exists resource-agents; then
	want=$(pkg-config --variable=ocfrootdir resource-agents)
	check "OCF root from resource-agents.pc ($want)" test "$ocfdir" = "$want"
fi
if ! grep -q -- "--with-systemdsystemunitdir" "$B/config.status" && pkg-config --exists systemd; then
	want=$(pkg-config --variable=systemdsystemunitdir systemd)
	check "unit directory from systemd.pc ($want)" test "$unitdir" = "$want"
fi
check "libsdlm.pc: libqb in Requires.private" \
	sh -c "PKG_CONFIG_PATH='$B/dlm' pkg-config --print-requires-private libsdlm | grep -q '^libqb'"
check "libsdlm.pc: no -lqb in Libs.private (Requires.private says it)" \
	sh -c "! grep -q '^Libs.private:.*-lqb' '$B/dlm/libsdlm.pc'"

D="$TD/destdir"
check "make install DESTDIR=..." sh -c "nice make -s -C '$B' install DESTDIR='$D' >'$TD/install.log' 2>&1"
for f in "$conf" "$sysconfdir/logrotate.d/sdlmd" "$docdir/corosync.conf.example" \
	"$docdir/COPYING" "$docdir/COPYING.LGPL" "$docdir/LICENSE" "$unitdir/sdlmd.service" \
	"$ocfdir/resource.d/sdlm/sdlmd"; do
	check "installed: $f" test -f "$D$f"
done
for f in "$includedir/sdlm.h" "$includedir/sdlm_errors.h"; do
	check "installed: $f" test -f "$D$f"
done
# The public header needs nothing but what is installed beside it.
printf '#include <sdlm.h>\nint main(void) { return SDLM_EFENCED == -1010 ? 0 : 1; }\n' >"$TD/hdr.c"
check "the installed sdlm.h compiles alone (with sdlm_errors.h beside it)" \
	sh -c "${CC:-cc} -fsyntax-only -I'$D$includedir' '$TD/hdr.c'"
check "the installed unit reads the installed config path" grep -qF "$sysconfdir/sdlm/sdlm.conf" "$D$unitdir/sdlmd.service"
t_done
