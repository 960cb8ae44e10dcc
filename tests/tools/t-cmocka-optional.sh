#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# cmocka is needed only to run the tests (issue 16, item 9): a copy of the
# tree configured where pkg-config does not know cmocka
#   - configures (exit 0) and says the unit tests will not build;
#   - `make check` then fails, naming cmocka and the package to install:
#     a skipped unit tier never counts as passing.
# And the bug address in AC_INIT is not a placeholder.
. "$SDLM_SRCDIR/tests/lib.sh"
: "${SDLM_BUILDDIR:?}"
t_init cmocka-optional
S="$SDLM_SRCDIR"

if [ -e "$S/config.status" ]; then
	nok "the source tree is configured in place: configure refuses a second build directory (build in _build, as tests/check does)"
	t_done; exit
fi

# A pkg-config that knows everything the system's does, except cmocka.
real_pc=$(command -v pkg-config)
mkdir -p "$TD/bin" "$TD/b"
cat >"$TD/bin/pkg-config" <<PC
#!/bin/sh
for a in "\$@"; do
	case "\$a" in cmocka|cmocka\ *) exit 1 ;; esac
done
exec "$real_pc" "\$@"
PC
chmod +x "$TD/bin/pkg-config"
check "the wrapper hides cmocka" sh -c "! '$TD/bin/pkg-config' --exists cmocka"

(cd "$TD/b" && nice "$S/configure" PKG_CONFIG="$TD/bin/pkg-config" >"$TD/configure.log" 2>&1)
rc=$?
check "configure without cmocka succeeds (exit $rc, log $TD/configure.log)" test "$rc" = 0
check "configure says the unit tests will not build" \
	grep -q 'cmocka not found: the unit tests will not build' "$TD/configure.log"
check "configure's summary says cmocka is missing" grep -q 'cmocka: *not found' "$TD/configure.log"

if [ "$rc" = 0 ]; then
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
		nice make -C "$TD/b/tests" check >"$TD/check.log" 2>&1
	rc=$?
	check "make check fails without cmocka (exit $rc)" test "$rc" != 0
	check "make check names cmocka and the package" \
		grep -q 'cmocka.*libcmocka-dev' "$TD/check.log"
	check "make check ran no test" sh -c "! grep -q '^# TOTAL' '$TD/check.log'"
fi

bug=$(sed -n 's/^PACKAGE_BUGREPORT=.\(.*\).$/\1/p' "$SDLM_BUILDDIR/config.status" "$S/configure" | head -1)
echo "bug address: $bug"
check "AC_INIT's bug address is not a placeholder ($bug)" \
	sh -c "! printf '%s' '$bug' | grep -q -i -E 'localhost|example|invalid|^\$'"
check "the README says where bugs go" grep -q -i '^## Reporting bugs' "$S/README.md"
t_done
