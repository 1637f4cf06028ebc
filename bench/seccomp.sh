#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# What the hardening layers cost per system call, in one run: a syscall-heavy loop
# (bench/syscall-loop.c: getppid, stat, openat+close) on the host, under bubblewrap (the
# same namespaces and layout, no seccomp, no Landlock), under omnibase --mode rwx (seccomp,
# no Landlock) and under omnibase (seccomp and Landlock). Each figure is the median of
# OB_BENCH_REPEAT runs; ratios are to bubblewrap. Not a test: timings depend on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
./ci/deps.sh
dpkg-query -W -f='${Status}' bubblewrap 2>/dev/null | grep -q "install ok installed" ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
[ -d build-bench ] || meson setup build-bench --buildtype=release -Dtests=false >/dev/null
ninja -C build-bench >/dev/null
ob=$PWD/build-bench/omnibase
loop=$PWD/build-bench/bench/syscall-loop
repeat=${OB_BENCH_REPEAT:-5}
bwrap=(bwrap --unshare-all --die-with-parent --ro-bind /usr /usr --symlink usr/bin /bin
	--symlink usr/lib /lib --symlink usr/lib64 /lib64 --proc /proc --dev /dev --tmpfs /tmp
	--ro-bind "$loop" "$loop")

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() { # n, command...
	local n=$1
	shift
	for _ in $(seq "$repeat"); do taskset -c 1 "$@" "$n"; done | median
}

printf '%-9s %12s %12s %14s %14s %9s %9s\n' workload host bubblewrap "omnibase rwx" omnibase \
	"rwx/bwrap" "ob/bwrap"
for w in getppid stat openat; do
	n=2000000
	[ "$w" = openat ] && n=100000
	host=$(measure $n "$loop" "$w")
	bw=$(measure $n "${bwrap[@]}" "$loop" "$w")
	rwx=$(measure $n "$ob" sandbox run --mode rwx "$loop" "$w")
	full=$(measure $n "$ob" sandbox run "$loop" "$w")
	awk -v w="$w" -v h="$host" -v b="$bw" -v r="$rwx" -v f="$full" 'BEGIN {
		printf "%-9s %9.1f ns %9.1f ns %11.1f ns %11.1f ns %8.2fx %8.2fx\n", w, h, b, r, f,
			r / b, f / b }'
done
