# SPDX-License-Identifier: LGPL-2.1-or-later
"""The supervisor's promises: if omnibase dies, even by SIGKILL, the sandbox dies with it; a
run leaves no process, mount or cgroup behind; a later run collects what a killed one left."""
import glob
import os
import signal
import subprocess
import time
import uuid

from conftest import TEST_USER


def sandbox_procs(marker):
    """Host pids whose command line carries MARKER."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    out.append(int(pid))
        except OSError:
            pass
    return out


def omnibase_cgroups():
    return glob.glob("/sys/fs/cgroup/**/omnibase-*", recursive=True)


def wait_for(cond, seconds=10):
    end = time.time() + seconds
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def start(sandbox, *args):
    cmd = [sandbox.ob_bin, "sandbox", "run", *args]
    if sandbox.who == "user" and os.geteuid() == 0:
        cmd = ["runuser", "-u", TEST_USER, "--"] + cmd
    env = dict(os.environ, GCOV_ERROR_FILE="/dev/null")
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


def supervisor_pid(sandbox, popen):
    """The omnibase process itself: runuser, for the unprivileged pass, forks it."""
    if not (sandbox.who == "user" and os.geteuid() == 0):
        return popen.pid
    found = []

    def look():
        for child in _children(popen.pid):
            with open(f"/proc/{child}/cmdline", "rb") as f:
                if b"omnibase" in f.read().split(b"\0")[0]:
                    found.append(child)
        return found

    assert wait_for(look), "omnibase did not start"
    return found[0]


def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def test_sigkill_of_the_supervisor_kills_the_sandbox(sandbox):
    marker = f"3{uuid.uuid4().int % 10**6:06d}"  # a unique sleep length
    p = start(sandbox, "--cap", "EXTERNAL_COMMAND:sleep", "/bin/sh", "--", "-c",
              f"sleep {marker} & sleep {marker}")
    try:
        assert wait_for(lambda: len(sandbox_procs(f"sleep\0{marker}")) == 2), "never started"
        os.kill(supervisor_pid(sandbox, p), signal.SIGKILL)
        assert wait_for(lambda: not sandbox_procs(f"sleep\0{marker}")), \
            "the sandbox outlived its supervisor"
    finally:
        p.kill()
        p.wait()
    if os.geteuid() == 0 and sandbox.who == "root":
        # what the killed run left is collected by a later one: once its last processes are
        # gone (the kernel refuses otherwise) and it is 10 s old (a new run's cgroup is
        # never mistaken for a leftover)
        def next_run_collects():
            subprocess.run([sandbox.ob_bin, "sandbox", "run", "/bin/true"], check=True,
                           capture_output=True)
            return omnibase_cgroups() == []
        assert wait_for(next_run_collects, 20)


def test_runs_leave_nothing_behind(sandbox):
    def mounts():
        with open("/proc/self/mountinfo") as f:
            return f.read()

    before_mounts = mounts()
    before_tmp = set(os.listdir("/tmp"))
    for i in range(200):
        p = sandbox.run("/bin/sh", "--", "-c", f"exit {i % 3}")
        assert p.returncode == i % 3, p.stderr
    assert mounts() == before_mounts
    assert omnibase_cgroups() == []
    assert not sandbox_procs("sandbox\0run")
    assert {f for f in set(os.listdir("/tmp")) - before_tmp if "ob" in f.lower()} == set()
