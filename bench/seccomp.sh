#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# What the hardening layers cost per system call, in one run: a syscall-heavy loop
# (bench/syscall-loop.c: getppid, stat, openat+close, sendmsg) on the host, under bubblewrap (the
# same namespaces and layout, no seccomp, no Landlock), under bubblewrap with an allow-all
# seccomp filter (the floor any filter costs), under omnibase --mode rwx (seccomp, no
# Landlock) and under omnibase (seccomp and Landlock). Each figure is the median of
# OB_BENCH_REPEAT runs; ratios are to bubblewrap. Not a test: timings depend on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
./bench/prepare.sh bubblewrap
ob=$PWD/build-bench/omnibase
loop=$PWD/build-bench/bench/syscall-loop
repeat=${OB_BENCH_REPEAT:-5}
bwrap=(bwrap --unshare-all --die-with-parent --ro-bind /usr /usr --symlink usr/bin /bin
	--symlink usr/lib /lib --symlink usr/lib64 /lib64 --proc /proc --dev /dev --tmpfs /tmp
	--ro-bind "$loop" "$loop")

# One BPF instruction, "allow": struct sock_filter {u16 code=BPF_RET|BPF_K, u8 jt, u8 jf,
# u32 k=SECCOMP_RET_ALLOW}, little-endian.
allow_all=$(mktemp)
trap 'rm -f "$allow_all"' EXIT
printf '\x06\x00\x00\x00\x00\x00\xff\x7f' >"$allow_all"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() { # n, command...
	local n=$1
	shift
	# fd 9: the allow-all filter, opened anew for each run (bwrap --seccomp 9 reads it)
	for _ in $(seq "$repeat"); do taskset -c 1 "$@" "$n" 9<"$allow_all"; done | median
}

printf '%-9s %11s %11s %13s %13s %11s %9s %9s\n' workload host bubblewrap "bwrap+allow" \
	"omnibase rwx" omnibase "allow/bwrap" "rwx/bwrap" "ob/bwrap"
for w in getppid stat openat sendmsg; do
	n=2000000
	[ "$w" = openat ] || [ "$w" = sendmsg ] && n=100000
	host=$(measure $n "$loop" "$w")
	bw=$(measure $n "${bwrap[@]}" "$loop" "$w")
	floor=$(measure $n "${bwrap[@]}" --seccomp 9 "$loop" "$w")
	rwx=$(measure $n "$ob" sandbox run --mode rwx "$loop" "$w")
	full=$(measure $n "$ob" sandbox run "$loop" "$w")
	awk -v w="$w" -v h="$host" -v b="$bw" -v a="$floor" -v r="$rwx" -v f="$full" 'BEGIN {
		printf "%-9s %8.1f ns %8.1f ns %10.1f ns %10.1f ns %10.1f ns %10.2fx %8.2fx %8.2fx\n",
			w, h, b, a, r, f, a / b, r / b, f / b }'
done
