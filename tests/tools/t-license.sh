#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every source file names its license (issue 16, item 8): LGPL-2.1-or-later
# for libsdlm and its header, GPL-2.0-or-later for everything else; the
# license texts are in the tree.  Source files: C, C++, Promela, linker
# map, pkg-config, shell, Python, automake/autoconf, gnuplot, the agents,
# the unit/logrotate/corosync/MTA configuration examples and the test
# driver scripts.  conf/sdlm.conf is generated from the option table and
# not counted.  Generated autotools files are not sources.
set -u
src=${SDLM_SRCDIR:?}
fails=0; n=0
lgpl=" dlm/lib/libsdlm.c dlm/lib/libsdlm_uid.c dlm/lib/libsdlm_int.h dlm/lib/strerror.c dlm/lib/clientconf.c dlm/lib/clientconf.h dlm/lib/sdlm.h include/sdlm_errors.h dlm/lib/sdlm_ipc.h dlm/lib/libsdlm.map dlm/lib/libsdlm.pc.in "
for f in COPYING COPYING.LGPL LICENSE; do
	[ -s "$src/$f" ] || { echo "FAIL: $f missing"; fails=$((fails + 1)); }
done
grep -q "GNU GENERAL PUBLIC LICENSE" "$src/COPYING" && grep -q "Version 2, June 1991" "$src/COPYING" ||
	{ echo "FAIL: COPYING is not the GPL version 2"; fails=$((fails + 1)); }
grep -q "GNU LESSER GENERAL PUBLIC LICENSE" "$src/COPYING.LGPL" && grep -q "Version 2.1, February 1999" "$src/COPYING.LGPL" ||
	{ echo "FAIL: COPYING.LGPL is not the LGPL version 2.1"; fails=$((fails + 1)); }
grep -q "LGPL-2.1-or-later" "$src/README.md" && grep -q "GPL-2.0-or-later" "$src/README.md" ||
	{ echo "FAIL: README.md does not name the licenses"; fails=$((fails + 1)); }
cd "$src" || exit 1
while IFS= read -r f; do
	f=${f#./}
	n=$((n + 1))
	case "$lgpl" in *" $f "*) want=LGPL-2.1-or-later ;; *) want=GPL-2.0-or-later ;; esac
	if ! head -n 3 "$f" | grep -q "SPDX-License-Identifier: $want\b"; then
		echo "FAIL: $f: no 'SPDX-License-Identifier: $want' in its first lines"
		fails=$((fails + 1))
	fi
done < <(find . -type d \( -name _build -o -name .git -o -name autom4te.cache -o -name build-aux \
		-o -name m4 -o -path ./tests/golden -o -path ./tests/fuzz/corpus \
		-o -path ./tests/fuzz/regress -o -name 'run-*' \) -prune -o -type f \
	\( -name '*.c' -o -name '*.h' -o -name '*.cc' -o -name '*.pml' -o -name '*.map' \
	-o -name '*.pc.in' -o -name '*.sh' -o -name '*.py' -o -name Makefile.am \
	-o -name configure.ac -o -name '*.gp' -o -name '*.service.in' -o -name sdlm.in \
	-o -name fence_sdlm -o -name sdlmd.logrotate -o -name corosync.conf.example \
	-o -name '*-sdlm-deliver.c*' -o -path ./tests/bench -o -path ./tests/check \
	-o -path ./tests/leakcheck -o -path ./tests/quickstart -o -path ./tests/run-script \
	-o -path ./.ci/run \) ! -name config.h -print | sort)
echo "t-license: $n source files, $fails failed"
[ "$n" -gt 100 ] && [ "$fails" = 0 ]
