#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The OCI backends against their runtime invoked directly on the same bundle, in one run, as
# root: start-up (hyperfine, /bin/true) and a syscall-heavy workload (bench/syscall-loop.c,
# ns per iteration). The direct bundle is the config.json omnibase's --dry-run prints, with the
# root's directories and symlinks made as omnibase makes them; the direct command goes through
# `sh -c` for a fresh container name each time (~1 ms, said in the README). And native
# omnibase, for the overhead table. Not a test: timings depend on the machine.
# OB_BENCH_BACKENDS: the backends to measure (default "gvisor runc crun"); OB_BENCH_RUNS,
# OB_BENCH_ITERS: hyperfine runs and the loop's iterations.
set -euo pipefail
cd "$(dirname "$0")/.."
./bench/prepare.sh hyperfine
ob=$PWD/build-bench/omnibase
loop=$PWD/build-bench/bench/syscall-loop
work=$(mktemp -d /tmp/omnibase-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
# the container's root, an unprivileged host id in the user namespace (as root), reaches the
# bundles by their paths, as in omnibase's own (a 0711 tmpfs)
chmod 0711 "$work"
runs=${OB_BENCH_RUNS:-20}
iters=${OB_BENCH_ITERS:-200000}

# A bundle like omnibase's for PROGRAM ARGS..., at DIR.
bundle() {
	local backend=$1 dir=$2
	shift 2
	mkdir -p "$dir/rootfs"
	"$ob" sandbox run --dry-run --backend "$backend" --allow-degraded "$@" |
		/usr/bin/python3 -c '
import json, os, sys
d, root = json.load(sys.stdin), sys.argv[1]
sec = d["oci"]["linux"]["seccomp"]
if sec.pop("listenerPath", None):
    # nobody serves the listener here: the calls omnibase observes allowed, its recorded
    # refusals plain EPERM (the runtime alone, on the same allow-list)
    observed = {"open", "openat", "openat2", "creat", "execve", "execveat", "connect",
                "listen", "sendto"}
    rules = []
    for r in sec["syscalls"]:
        if r["action"] == "SCMP_ACT_NOTIFY":
            if "args" in r:
                continue
            rules.append({"names": [n for n in r["names"] if n in observed],
                          "action": "SCMP_ACT_ALLOW"})
            continue
        rules.append(r)
    sec["syscalls"] = rules
# gVisor: the bin directories as omnibase makes them in its bundle (oci-exec.c), holding
# the mount points of the executable binds beneath them
bundle_dir = os.path.dirname(root)
hidden = {}
for m in d["oci"]["mounts"]:
    if m["source"].startswith("BUNDLE/loader/"):
        # omnibase-loader in place of the dynamic loader, told where the real one is bound
        # (oci-exec.c: write_shim)
        shim = bytearray(open(sys.argv[2], "rb").read())
        at = shim.index(b"OMNIBASE-LOADER:") + 16
        real = ("/dev/.omnibase-loader-" + m["source"].rsplit("/", 1)[1]).encode()
        shim[at:at + 4096] = real + bytes(4096 - len(real))
        m["source"] = os.path.join(bundle_dir, m["source"][len("BUNDLE/"):])
        os.makedirs(os.path.dirname(m["source"]), exist_ok=True)
        open(m["source"], "wb").write(shim)
        os.chmod(m["source"], 0o555)
    elif m["source"].startswith("BUNDLE/"):
        m["source"] = os.path.join(bundle_dir, m["source"][len("BUNDLE/"):])
        os.makedirs(m["source"], exist_ok=True)
        hidden[m["destination"]] = m["source"]
    elif os.path.dirname(m["destination"]) in hidden:
        open(os.path.join(hidden[os.path.dirname(m["destination"])],
                          os.path.basename(m["destination"])), "w").close()
json.dump(d["oci"], open(os.path.join(bundle_dir, "config.json"), "w"))
# in a user namespace the root belongs to the container root (oci-bundle.c: populate)
owner = next((m["hostID"] for m in d["oci"]["linux"].get("uidMappings", [])
              if m["containerID"] == 0), None)
for m in d["mounts"]:
    if m["dest"].startswith("/dev"):
        continue
    if m["type"] == "dir":
        os.makedirs(root + m["dest"], exist_ok=True)
    elif m["type"] == "symlink":
        os.symlink(m["src"], root + m["dest"])
if owner is not None:
    for top, dirs, files in os.walk(root):
        for name in [top] + [os.path.join(top, n) for n in dirs + files]:
            os.lchown(name, owner, owner)' "$dir/rootfs" "$PWD/build-bench/omnibase-loader"
}

flags() {
	case $1 in
	gvisor) echo "--network=none --oci-seccomp" ;;
	*) echo "" ;;
	esac
}

runtime_of() {
	case $1 in
	gvisor) echo runsc ;;
	*) echo "$1" ;;
	esac
}

printf '%-8s %-34s %12s %12s %8s\n' backend workload direct omnibase ratio
for b in ${OB_BENCH_BACKENDS:-gvisor runc crun}; do
	rt=$(command -v "$(runtime_of "$b")") || continue
	"$ob" sandbox run --backend "$b" --allow-degraded /bin/true >/dev/null 2>&1 || {
		echo "$b: cannot run here (see docs/design/backends.md)"
		continue
	}
	bundle "$b" "$work/$b-true" /bin/true
	bundle "$b" "$work/$b-loop" "$loop" -- openat "$iters"
	if [ "$b" = crun ] && [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
		# as omnibase runs it on a hybrid host (src/lib/backends/runtime.c): the v2 mount hidden
		printf '#!/bin/sh\nexec unshare -m --propagation slave sh -c %s %s "$@"\n' \
			"'mount -t tmpfs none /sys/fs/cgroup/unified && exec \"\$0\" \"\$@\"'" \
			"$rt" >"$work/crun-hybrid"
		chmod +x "$work/crun-hybrid"
		rt=$work/crun-hybrid
	fi
	direct="$rt --root $work/$b-state $(flags "$b") run --bundle"
	hyperfine -N --runs "$runs" --warmup 2 --export-json "$work/$b.json" \
		"sh -c '$direct $work/$b-true c\$\$'" \
		"$ob sandbox run --backend $b --allow-degraded /bin/true" >/dev/null
	/usr/bin/python3 - "$work/$b.json" "$b" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
d, o = r[0]["mean"] * 1e3, r[1]["mean"] * 1e3
print("%-8s %-34s %9.2f ms %9.2f ms %7.2fx" % (sys.argv[2], "start-up, /bin/true", d, o, o / d))
PY
	d=$(sh -c "$direct $work/$b-loop l\$\$" | tail -1)
	o=$("$ob" sandbox run --backend "$b" --allow-degraded --timeout 600 "$loop" -- openat "$iters" | tail -1)
	awk -v b="$b" -v d="$d" -v o="$o" -v n="$iters" 'BEGIN {
		printf "%-8s %-34s %9.0f ns %9.0f ns %7.2fx\n", b, "openat+close x" n, d, o, o / d }'
done
# native, for the overhead table (its openat is observed by the supervisor)
hyperfine -N --runs "$runs" --warmup 2 --export-json "$work/native.json" \
	"$ob sandbox run /bin/true" >/dev/null
/usr/bin/python3 - "$work/native.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print("%-8s %-34s %12s %9.2f ms" % ("native", "start-up, /bin/true", "", r[0]["mean"] * 1e3))
PY
o=$("$ob" sandbox run "$loop" -- openat "$iters" | tail -1)
printf '%-8s %-34s %12s %9.0f ns\n' native "openat+close x$iters" "" "$o"
