# SPDX-License-Identifier: GPL-2.0-or-later
# tests/deps.sh - install the Debian 12 packages sdlm needs, if missing.
# Sourced by tests/check, tests/quickstart and tests/bench.
SDLM_DEPS="build-essential autoconf automake libtool pkg-config
 libqb-dev libcorosync-common-dev libcpg-dev libcmap-dev libquorum-dev
 libvotequorum-dev libcfg-dev libaio-dev libcmocka-dev
 corosync nftables iproute2 libxml2-utils procps psmisc util-linux
 g++ python3 resource-agents pacemaker pacemaker-cli-utils fence-agents
 dovecot-core dovecot-imapd spin clang libclang-rt-14-dev faketime logrotate
 groff-base bsdextrautils"

deps_install() {
	local missing="" p
	for p in $SDLM_DEPS; do
		case "$p" in *-) continue ;; esac
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "== installing:$missing"
	if [ "$(id -u)" != 0 ]; then
		echo "error: missing packages ($missing) and not root" >&2
		return 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends $missing >/dev/null 2>&1 || {
		apt-get update >/dev/null && apt-get install -y --no-install-recommends $missing
	} || { echo "error: apt-get install failed for:$missing" >&2; return 1; }
	# corosync's package enables and starts a host-wide instance; tests run
	# their own per-namespace instances and must not talk to it.
	if command -v systemctl >/dev/null 2>&1; then
		for svc in corosync pacemaker sbd openhpid dovecot; do
			systemctl is-active -q "$svc" 2>/dev/null && systemctl stop "$svc" >/dev/null 2>&1
			systemctl disable "$svc" >/dev/null 2>&1
		done
	fi
	return 0
}

# Build into $top/_build (ext4 under the work tree: the disk tests need
# O_DIRECT, which tmpfs does not support).
deps_build() {
	local top=$1; shift
	( cd "$top" && ./autogen.sh >/dev/null 2>&1 ) || { echo "error: autogen.sh failed" >&2; return 1; }
	mkdir -p "$top/_build"
	( cd "$top/_build" &&
	  { [ -f Makefile ] || ../configure "$@" >configure.out 2>&1 || { cat configure.out; exit 1; }; } &&
	  make -j"$(nproc)" >make.out 2>&1 || { tail -50 make.out; exit 1; } )
}
