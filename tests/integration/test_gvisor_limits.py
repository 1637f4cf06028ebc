# SPDX-License-Identifier: LGPL-2.1-or-later
"""ResourceLimitExceeded on gVisor as natively. Memory: as root runsc's sandbox joins a cgroup
the supervisor made (linux.cgroupsPath), whose counters are still there when runsc has ended
(the kill is the host OOM killer's, of the Sentry). Pids: RLIMIT_NPROC inside the Sentry,
whose refusal (a clone, fork or vfork failing with EAGAIN) is read from runsc's strace.
Without --allow-degraded (docs/design/backends.md)."""
import glob
import os

import pytest

from conftest import events, oci_backend_or_skip, write_script

MEM = "#!/usr/bin/python3\n" + """
chunks = [bytearray(10 << 20) for i in range(40)]
print("ALLOCATED")
"""

SMALL = "#!/usr/bin/python3\n" + """
x = bytearray(20 << 20)
for i in range(0, len(x), 4096):
    x[i] = 1
print("fine")
"""

FORK = "#!/usr/bin/python3\n" + r"""
import os, sys, time
n, kids, failed = N, 0, None
for i in range(n):
    try:
        pid = os.fork()
    except OSError as e:
        failed = e.errno
        break
    if pid == 0:
        time.sleep(2)
        os._exit(0)
    kids += 1
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
print("forked", kids, "failed", failed)
"""


def limits_hit(log):
    return [(e["resource"], e["limit"]) for e in events(log)
            if e["event"] == "ResourceLimitExceeded"]


def gvisor(ob_bin, sandbox, shared_tmp, script, body, *args):
    path = write_script(shared_tmp, script, body)
    log = os.path.join(shared_tmp, script + ".jsonl")
    if os.path.exists(log):
        os.unlink(log)
    p = sandbox.run("--backend", "gvisor", "--audit-log", log, *args,
                    path, timeout=120)
    return p, log


def test_memory_limit_event(ob_bin, sandbox, shared_tmp):
    """A memory hog is killed and says so; a program within the limit gets no event; the
    cgroup of ours is gone afterwards."""
    oci_backend_or_skip(ob_bin, "gvisor", sandbox.who)
    if sandbox.who == "user":
        pytest.skip("rootless: runsc --rootless has no cgroup; RLIMIT_AS refusals inside the "
                    "Sentry are not observed (docs/design/backends.md)")
    p, log = gvisor(ob_bin, sandbox, shared_tmp, "mem.py", MEM, "--memory", "50M")
    assert b"ALLOCATED" not in p.stdout and p.returncode == 137, (p.returncode, p.stderr)
    assert ("memory", "50M") in limits_hit(log), events(log)
    ev = events(log)
    assert ev[0]["protections"]["cgroup"] == "v1", ev[0]["protections"]
    assert ev[-1]["event"] == "SandboxExit" and ev[-1]["signal"] == 9
    run_id = ev[0]["execution_id"]
    assert not glob.glob(f"/sys/fs/cgroup/*/omnibase-{run_id}"), "cgroup left behind"
    p, log = gvisor(ob_bin, sandbox, shared_tmp, "small.py", SMALL, "--memory", "100M")
    assert p.returncode == 0 and p.stdout == b"fine\n", p.stderr
    assert not [r for r, _ in limits_hit(log) if r == "memory"], events(log)


def test_pids_limit_event(ob_bin, sandbox, shared_tmp):
    """A fork bomb under --pids is refused (EAGAIN inside gVisor) and the limit is reported,
    as root and rootless; forks under the limit report nothing."""
    oci_backend_or_skip(ob_bin, "gvisor", sandbox.who)
    for n, want in ((200, True), (5, False)):
        body = FORK.replace("N, 0", f"{n}, 0")
        p, log = gvisor(ob_bin, sandbox, shared_tmp, f"fork{n}.py", body, "--pids", "20")
        assert p.returncode == 0, p.stderr
        out = p.stdout.decode().split()
        if want:
            assert out[3] == "11" and int(out[1]) < 20, out  # EAGAIN
            assert ("pids", "20") in limits_hit(log), events(log)
            assert b"process limit 20 reached" in p.stderr, p.stderr
        else:
            assert out == ["forked", "5", "failed", "None"], out
            assert not [r for r, _ in limits_hit(log) if r == "pids"], events(log)
