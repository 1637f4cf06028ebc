#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Sandbox start-up: `omnibase sandbox run` against bubblewrap, unshare, firejail and gVisor's
# runsc (all from Debian), in one hyperfine run per workload, as ratios to bubblewrap.
# Workloads: /bin/true, and a Python hello-world. Also the supervisor's resident memory.
# Not a test: timings depend on the machine. Run as root (firejail and runsc need it).
set -euo pipefail
cd "$(dirname "$0")/.."
./bench/prepare.sh bubblewrap firejail hyperfine runsc
ob=$PWD/build-bench/omnibase
out=${OB_BENCH_OUT:-build-bench/startup}
mkdir -p "$out"
runs=${OB_BENCH_RUNS:-30}

# bubblewrap with the same layout omnibase builds: all namespaces, read-only runtime,
# private /proc, /dev and /tmp.
bwrap="bwrap --unshare-all --die-with-parent --ro-bind /usr /usr --symlink usr/bin /bin \
--symlink usr/lib /lib --symlink usr/lib64 /lib64 --symlink usr/sbin /sbin --proc /proc \
--dev /dev --tmpfs /tmp"

for wl in true python; do
	case $wl in
	true) cmd="/bin/true" ;;
	python) cmd="/usr/bin/python3 -c print(42)" ;;
	esac
	hyperfine --warmup 3 --runs "$runs" -N --export-json "$out/$wl.json" \
		-n bubblewrap "$bwrap $cmd" \
		-n omnibase "$ob sandbox run $cmd" \
		-n "unshare -Urnpm" "unshare -Urnpm --fork $cmd" \
		-n firejail "firejail --quiet --noprofile --net=none $cmd" \
		-n "runsc do" "runsc --network=none do $cmd" >/dev/null
	/usr/bin/python3 - "$out/$wl.json" "$wl" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
base = res["bubblewrap"]["mean"]
print(f"== {sys.argv[2]}: mean start-to-exit, ratio to bubblewrap")
for name, r in res.items():
    print(f"  {name:16s} {r['mean']*1000:8.2f} ms ± {r['stddev']*1000:5.2f}   x{r['mean']/base:5.2f}")
PY
done

# The supervisor's resident memory while the sandboxed program runs.
"$ob" sandbox run /bin/sleep 2 &
sup=$!
sleep 1
echo "== supervisor VmRSS: $(grep VmRSS /proc/$sup/status | awk '{print $2, $3}')"
wait $sup
