# SPDX-License-Identifier: LGPL-2.1-or-later
"""The protection ladder: what a run does on the hosts users have, simulated on this kernel.

- Landlock ABI 1, 2, 3 (OB_TEST_LANDLOCK_ABI_MAX, which only lowers): runs with network
  grants work, the network namespace confining them; `landlock_tcp` says Landlock does not.
- No user namespaces (ob-enosys userns: clone and unshare with CLONE_NEWUSER fail EPERM, as
  under Ubuntu's AppArmor restriction or Docker's seccomp profile): 125 naming the blocker,
  or with --allow-degraded the tier without namespaces, which still confines files, exec and
  the network; attacks tried.
- No pidfd_getfd: transparent egress fails closed, or degrades to the proxy with an event.
- Cgroup v2 only (OB_TEST_CGROUP_NO_V1): limits by rlimits, said in SandboxStart.
"""
import json
import os
import subprocess
import time

import pytest

from conftest import ATTEMPT, TEST_USER, data_dir, events, skip_is_expected, write_script

ENOSYS = os.environ.get("OB_ENOSYS", "")
NET = ("--cap", "NETWORK_CONNECT:example.com:443")


def run_as(sandbox, argv, env_extra=None, wrap=None, timeout=60):
    """ARGV (omnibase's arguments) as SANDBOX's caller, under WRAP (ob-enosys CALLS)."""
    cmd = [sandbox.ob_bin, *argv]
    if wrap:
        cmd = [ENOSYS, wrap] + cmd
    env = dict(os.environ, **(env_extra or {}))
    if sandbox.who == "user" and os.geteuid() == 0:
        cmd = ["runuser", "-p", "-u", TEST_USER, "--"] + cmd
        env["GCOV_ERROR_FILE"] = "/dev/null"
    return subprocess.run(cmd, capture_output=True, timeout=timeout, env=env)


def start_event(log):
    return next(e for e in events(log) if e["event"] == "SandboxStart")


def degraded(log):
    return {e["protection"]: e["reason"] for e in events(log) if e["event"] == "SandboxDegraded"}


@pytest.fixture(autouse=True)
def needs_enosys():
    if not ENOSYS:
        pytest.fail("OB_ENOSYS is not set: run through `meson test`")


def kernel_abi(sandbox):
    doc = json.loads(run_as(sandbox, ["doctor", "--json"]).stdout)
    return doc["landlock_abi_kernel"]


@pytest.mark.parametrize("abi", [1, 2, 3])
def test_network_grant_runs_on_an_older_landlock(sandbox, shared_tmp, abi):
    """Landlock without TCP rules (ABI < 4): a network grant runs, files still confined."""
    data = data_dir(shared_tmp)
    log = os.path.join(shared_tmp, "a.jsonl")
    script = write_script(shared_tmp, "t.py", "#!/usr/bin/python3\n" + ATTEMPT + f"""
attempt("allowed", lambda: open({data!r} + "/allowed.txt").read())
attempt("other", lambda: open({data!r} + "/other.txt").read())
print(json.dumps(out))
""")
    p = run_as(sandbox, ["sandbox", "run", *NET, "--cap", f"FILE_READ:{data}/allowed.txt",
                         "--audit-log", log, script],
               env_extra={"OB_TEST_LANDLOCK_ABI_MAX": str(abi)})
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["allowed"] == "OK" and out["other"] in ("ENOENT", "EACCES"), out
    prot = start_event(log)["protections"]
    assert prot["landlock"] == abi and prot["landlock_tcp"] is False and prot["netns"] is True
    assert "landlock-tcp" not in degraded(log)


def test_landlock_knob_only_lowers(sandbox, shared_tmp):
    """The test knob cannot raise the ABI, and what is not a plain number is ignored."""
    real = kernel_abi(sandbox)
    for value in (str(real + 5), "-1", "2x", ""):
        log = os.path.join(shared_tmp, f"k{value}.jsonl")
        p = run_as(sandbox, ["sandbox", "run", "--audit-log", log, "/bin/true"],
                   env_extra={"OB_TEST_LANDLOCK_ABI_MAX": value})
        assert p.returncode == 0, p.stderr
        assert start_event(log)["protections"]["landlock"] == real, value


def test_no_user_namespaces_refused(sandbox):
    """Refused user namespaces without --allow-degraded: 125, one line naming the blocker and
    pointing at doctor."""
    p = run_as(sandbox, ["sandbox", "run", "/bin/true"], wrap="userns")
    assert p.returncode == 125
    # (a coverage build adds its own "profiling:" complaints as the unprivileged user)
    lines = [line for line in p.stderr.decode().strip().splitlines()
             if not line.startswith("profiling:")]
    assert len(lines) == 1, lines
    assert "refuses new user namespaces" in lines[0] and "seccomp filter" in lines[0]
    assert "omnibase doctor" in lines[0] and "--allow-degraded" in lines[0]


def test_no_user_namespaces_doctor(sandbox):
    p = run_as(sandbox, ["doctor"], wrap="userns")
    assert p.returncode == 0
    text = p.stdout.decode()
    assert "userns          NO" in text and "fix:" in text and "--security-opt seccomp" in text
    assert "without namespaces, only with --allow-degraded" in text
    doc = json.loads(run_as(sandbox, ["doctor", "--json"], wrap="userns").stdout)
    assert doc["userns"] is False and "seccomp" in doc["userns_blocker"]
    assert doc["backends"]["native"]["tier"].startswith("without namespaces")
    doc = json.loads(run_as(sandbox, ["doctor", "--json"],
                            env_extra={"OB_TEST_LANDLOCK_ABI_MAX": "3"}).stdout)
    assert doc["landlock_abi"] == 3 and doc["landlock_tcp"] is False
    assert [x["abi"] for x in doc["landlock_lacks"]] == [4, 5, 6]
    assert doc["backends"]["native"]["tier"].startswith("full")


ATTACKS = r"""
import os, socket, subprocess
attempt("granted", lambda: open(DATA + "/allowed.txt").read())
attempt("neighbour", lambda: open(DATA + "/other.txt").read())
attempt("shadow", lambda: open("/etc/shadow").read())
attempt("write_tmp", lambda: open("/tmp/ob-ladder-escape", "w"))
attempt("exec_id", lambda: subprocess.run(["/usr/bin/id"]))
def connect():
    s = socket.socket()
    s.settimeout(2)
    s.connect(("127.0.0.1", PORT))
attempt("connect", connect)
attempt("unix", lambda: socket.socket(socket.AF_UNIX).connect("/run/systemd/private"))
attempt("signal_parent", lambda: os.kill(os.getppid(), 0))  # the reaper: same uid
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
def shm():
    if libc.shmget(0, 4096, 0o1666) < 0:
        raise OSError(ctypes.get_errno(), "shmget")
attempt("shm", shm)
print(json.dumps(out))
"""


def test_no_user_namespaces_degraded_tier_confines(sandbox, shared_tmp, servers):
    """With --allow-degraded: Landlock on host paths, the exec allow-list, no sockets; each
    missing namespace in its own SandboxDegraded event."""
    data = data_dir(shared_tmp)
    server = servers()
    log = os.path.join(shared_tmp, "t.jsonl")
    script = write_script(shared_tmp, "t.py", "#!/usr/bin/python3\n" + ATTEMPT +
                          f"DATA = {data!r}\nPORT = {server.port}\n" + ATTACKS)
    p = run_as(sandbox, ["sandbox", "run", "--allow-degraded", "--cap",
                         f"FILE_READ:{data}/allowed.txt", "--audit-log", log, script],
               wrap="userns")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["granted"] == "OK"
    for name in ("neighbour", "shadow", "write_tmp", "exec_id"):
        assert out[name] == "EACCES", (name, out)
    assert out["connect"] == "EAFNOSUPPORT" and out["unix"] == "EAFNOSUPPORT"
    # a process of the same uid outside the program's Landlock domain: ABI >= 6 scopes
    # signals; below, the gap SandboxDegraded pidns names
    abi = start_event(log)["protections"]["landlock"]
    assert out["signal_parent"] == ("EPERM" if abi >= 6 else "OK"), abi
    assert ("not signals" in degraded(log)["pidns"]) == (abi < 6)
    assert out["shm"] in ("EPERM", "ENOSYS"), out
    assert server.count == 0
    assert not os.path.exists("/tmp/ob-ladder-escape")
    prot = start_event(log)["protections"]
    assert prot["tier"] == "no-namespaces" and prot["userns"] is False
    assert set(degraded(log)) >= {"userns", "mntns", "pidns", "netns", "ipcns", "utsns",
                                  "cgroupns"}
    assert ("cgroup" in degraded(log)) == (prot["cgroup"] == "none")
    denied = {(e["capability"], e["resource"]) for e in events(log)
              if e["event"] == "CapabilityDenied"}
    assert ("EXTERNAL_COMMAND", "/usr/bin/id") in denied, denied


def test_no_user_namespaces_program_runs_unprivileged(sandbox, shared_tmp):
    """Root's program takes its unprivileged host id (no user namespace to map it)."""
    log = os.path.join(shared_tmp, "u.jsonl")
    p = run_as(sandbox, ["sandbox", "run", "--allow-degraded", "--audit-log", log,
                         "/usr/bin/python3", "--", "-c", "import os; print(os.getuid())"],
               wrap="userns")
    assert p.returncode == 0, p.stderr
    uid = int(p.stdout)
    assert uid != 0
    assert start_event(log)["protections"]["host_ids"]["uid"] == uid


@pytest.mark.parametrize("extra", [NET, ("--secret", "TOKEN=env:HOME", "--cap", "SECRET_ACCESS:TOKEN")])
def test_no_user_namespaces_refuses_what_it_cannot_confine(sandbox, extra):
    """Network grants (no namespace to hold the proxy) and secrets (no private mount)."""
    p = run_as(sandbox, ["sandbox", "run", "--allow-degraded", *extra, "/bin/true"],
               wrap="userns")
    assert p.returncode == 125
    assert b"refuses new user namespaces" in p.stderr


def leftovers(marker):
    """The processes whose command line matches MARKER, once SIGKILLs sent have had time to
    land (a second at most)."""
    for _ in range(20):
        found = subprocess.run(["pgrep", "-f", marker], capture_output=True).stdout.split()
        if not found:
            break
        time.sleep(0.05)
    for pid in found:  # not left for the next test to trip on
        subprocess.run(["kill", "-9", pid.decode()])
    return found


@pytest.mark.parametrize("timeout", [None, "2"])
def test_no_user_namespaces_leaves_nothing_running(sandbox, timeout):
    """Without a pid namespace the run still takes down what the program started: at its
    end (the reaper), and at a timeout (the supervisor stops and kills the tree)."""
    marker = "31%d" % (7 if timeout else 3)
    script = f"sleep {marker} & setsid sleep {marker} & " + ("wait" if timeout else "true")
    args = ["--timeout", timeout] if timeout else []
    p = run_as(sandbox, ["sandbox", "run", "--allow-degraded", "--cap",
                         "EXTERNAL_COMMAND:sleep", "--cap", "EXTERNAL_COMMAND:setsid", *args,
                         "/bin/sh", "--", "-c", script], wrap="userns")
    assert p.returncode == (124 if timeout else 0), p.stderr
    assert leftovers(f"^sleep {marker}$") == []


@pytest.mark.parametrize("missing", ["pidfd_getfd", "addfd"])
def test_without_pidfd_getfd_or_addfd(sandbox, shared_tmp, missing):
    """No pidfd_getfd, or no SECCOMP_IOCTL_NOTIF_ADDFD (each tried, not inferred from the
    release): transparent egress fails closed; --allow-degraded falls back to the proxy and
    says so; doctor names it."""
    doc = json.loads(run_as(sandbox, ["doctor", "--json"], wrap=missing).stdout)
    assert doc["egress"]["transparent"] is False
    assert doc["pidfd_getfd" if missing == "pidfd_getfd" else "addfd_setfd"] is False
    p = run_as(sandbox, ["sandbox", "run", *NET, "/bin/true"], wrap=missing)
    assert p.returncode == 125 and b"SECCOMP_ADDFD_FLAG_SETFD" in p.stderr
    log = os.path.join(shared_tmp, "p.jsonl")
    p = run_as(sandbox, ["sandbox", "run", "--allow-degraded", *NET, "--audit-log", log,
                         "/bin/true"], wrap=missing)
    assert p.returncode == 0, p.stderr
    assert "egress-transparent" in degraded(log)
    prot = start_event(log)["protections"]
    assert prot["egress_transparent"] is False and prot["egress_proxy"] is True
    if missing == "pidfd_getfd":
        # the supervisor cannot copy the program's socket: a connect to the proxy is left to
        # the kernel (read twice) and still reaches it; another port stays Landlock's EACCES
        p = run_as(sandbox, ["sandbox", "run", "--allow-degraded", *NET, "/usr/bin/python3",
                             "--", "-c", PROXY_AND_OTHER], wrap=missing)
        assert p.returncode == 0, p.stderr
        assert p.stdout.split() == [b"proxy", b"connected", b"other", b"13"], p.stdout


PROXY_AND_OTHER = """
import socket
for name, port in (("proxy", 3128), ("other", 3129)):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", port))
        print(name, "connected")
    except OSError as e:
        print(name, e.errno)
"""


def test_cgroup_v2_only(sandbox, shared_tmp):
    """Cgroup v1 ignored (OB_TEST_CGROUP_NO_V1): where the v2 hierarchy delegates no memory
    or pids controller (this host), the limits are rlimits, and SandboxStart says so."""
    log = os.path.join(shared_tmp, "c.jsonl")
    p = run_as(sandbox, ["sandbox", "run", "--audit-log", log, "/bin/true"],
               env_extra={"OB_TEST_CGROUP_NO_V1": "1"})
    assert p.returncode == 0, p.stderr
    prot = start_event(log)["protections"]
    doc = json.loads(run_as(sandbox, ["doctor", "--json"]).stdout)
    v2 = {"memory", "pids"} <= set(doc["cgroup_v2_controllers"])
    assert prot["cgroup"] in (("v2", "none") if v2 else ("none",)), prot
    assert prot["rlimits"] is (prot["cgroup"] == "none")


def test_skip_reasons_are_classified():
    """OB_MUST_WORK's classification: a host fact this host explains stands, others fail."""
    assert skip_is_expected("expected on this host: anything said so")
    assert skip_is_expected("no /nonexistent/file")
    assert not skip_is_expected("no /proc/self")
    assert not skip_is_expected("OB_ENOSYS not set: run through `meson test`")
    assert not skip_is_expected("sh is not installed")
    assert skip_is_expected("ob-surely-absent-tool is not installed")
    assert skip_is_expected("not root") == (os.geteuid() != 0)
    assert not skip_is_expected("a reason nobody classified")


def exe_of(pid):
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def test_no_user_namespaces_sigkill_of_the_supervisor(sandbox):
    """SIGKILL of omnibase itself: no pid namespace ends with it, so its reaper ends the
    program and what the program started."""
    marker = "329"
    cmd = [ENOSYS, "userns", sandbox.ob_bin, "sandbox", "run", "--allow-degraded", "--cap",
           "EXTERNAL_COMMAND:sleep", "--cap", "EXTERNAL_COMMAND:setsid", "/bin/sh", "--", "-c",
           f"sleep {marker} & setsid sleep {marker} & wait"]
    env = dict(os.environ, GCOV_ERROR_FILE="/dev/null")
    if sandbox.who == "user" and os.geteuid() == 0:
        cmd = ["runuser", "-p", "-u", TEST_USER, "--"] + cmd
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        for _ in range(100):
            if len(subprocess.run(["pgrep", "-f", f"^sleep {marker}$"],
                                  capture_output=True).stdout.split()) == 2:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the program never started")
        # omnibase and its reaper (a fork of it): the one whose parent is not the other
        ours = {int(x) for x in subprocess.run(
            ["pgrep", "-f", "sandbox run --allow-degraded --cap EXTERNAL_COMMAND:sleep"],
            capture_output=True).stdout.split()
            if exe_of(int(x)) == os.path.realpath(sandbox.ob_bin)}
        ppid = {pid: int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
                for pid in ours}
        supervisor = [pid for pid in ours if ppid[pid] not in ours]
        assert len(supervisor) == 1, (ours, ppid)
        os.kill(supervisor[0], 9)
        assert leftovers(f"^sleep {marker}$") == []
    finally:
        p.kill()
        p.wait()


def test_no_user_namespaces_pids_limit(sandbox):
    """--pids without a pid namespace: by the cgroup, or RLIMIT_NPROC set above what the uid
    already runs on the host (it counts them all), so the program gets about --pids more."""
    script = ("import os, signal\nn = 0\ntry:\n    for _ in range(200):\n"
              "        if os.fork() == 0:\n            signal.pause()\n        n += 1\n"
              "except OSError:\n    pass\nprint(n)\n")
    p = run_as(sandbox, ["sandbox", "run", "--allow-degraded", "--pids", "16",
                         "/usr/bin/python3", "--", "-c", script], wrap="userns")
    assert p.returncode == 0, p.stderr
    assert 8 <= int(p.stdout) < 40, p.stdout
