#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Python package's overhead (issue 18's goal: Sandbox.run within 1 ms of the CLI): the
# package installed into a fresh venv, then N runs of /bin/true through Sandbox.run and N
# through `omnibase sandbox run` (the release build), interleaved so both see the same
# machine; medians and their difference. Not a test: timings depend on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
./bench/prepare.sh
ob=$PWD/build-bench/omnibase
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INDEX=1
/usr/bin/python3 -m venv --system-site-packages "$work/venv"
"$work/venv/bin/pip" install -q --no-build-isolation .
cd "$work"
"$work/venv/bin/python" - "$ob" "${OB_BENCH_RUNS:-200}" <<'PY'
import statistics, subprocess, sys, time
from omnibase import CapabilitySet, Sandbox

ob, n = sys.argv[1], int(sys.argv[2])
py, cli = [], []
with Sandbox(CapabilitySet([])) as sb:
    for _ in range(n):
        t = time.perf_counter()
        r = sb.run(["/bin/true"])
        py.append(time.perf_counter() - t)
        assert r.exit_code == 0, r.stderr
        t = time.perf_counter()
        subprocess.run([ob, "sandbox", "run", "/bin/true"], check=True)
        cli.append(time.perf_counter() - t)
mp, mc = statistics.median(py) * 1000, statistics.median(cli) * 1000
print(f"== /bin/true, {n} runs each, medians")
print(f"  Sandbox.run            {mp:7.2f} ms")
print(f"  omnibase sandbox run   {mc:7.2f} ms")
print(f"  overhead of Python     {mp - mc:+7.2f} ms (goal <= +1 ms)")
PY
