# SPDX-License-Identifier: LGPL-2.1-or-later
"""The escape suite's attacks (test_escape.py) on the OCI backends (gVisor, runc, crun), for
each runtime installed, as root, and gVisor rootless too. Each attack is asserted refused; on runc and crun, which hand
the seccomp listener to the supervisor, also recorded as natively (and they run without
--allow-degraded). gVisor observes nothing and applies no Landlock: it runs with
--allow-degraded (tests/integration/test_backends.py)."""
import glob
import json
import os
import platform
import shutil
import subprocess
import tempfile

import pytest

import test_escape as esc
from conftest import (ATTEMPT, OCI_RUNTIMES, Sandbox, events, oci_backend_or_skip,
                      write_script)

pytestmark = pytest.mark.skipif(platform.machine() != "x86_64",
                                reason="system call numbers are x86_64's")


class OciSandbox(Sandbox):
    """Runs omnibase with --backend NAME as WHO."""

    def __init__(self, ob_bin, name, who):
        super().__init__(ob_bin, who)
        self.name = name
        self.records = True  # every backend runs without --allow-degraded
        # every refused call is a SandboxViolation: through the seccomp listener (runc,
        # crun), from runsc's log (gVisor: the call's name, not its arguments)
        self.violations = True
        self.details = name != "gvisor"

    def run(self, *args, timeout=120, **kw):
        degraded = [] if self.records else ["--allow-degraded"]
        return super().run("--backend", self.name, *degraded, *args, timeout=timeout, **kw)


# every runtime as root; gVisor rootless too (runsc --rootless)
CASES = [(name, "root") for name in sorted(OCI_RUNTIMES)] + [("gvisor", "user")]


@pytest.fixture(params=CASES, ids=["-".join(c) for c in CASES])
def oci(request, ob_bin):
    name, who = request.param
    return OciSandbox(ob_bin, oci_backend_or_skip(ob_bin, name, who), who)


def probe(oci, shared_tmp, mode, paths):
    script = write_script(shared_tmp, "probe.py", esc.PROBE)
    p = oci.run(script, mode, *paths)
    assert p.returncode == 0, p.stderr
    return dict(line.rsplit(" ", 1) for line in p.stdout.decode().splitlines())


def test_keys_devices_and_cgroupfs_are_not_there(oci, shared_tmp):
    paths = ["/etc/shadow", "/etc/gshadow"] + glob.glob("/etc/ssh/ssh_host_*_key")
    paths += [p for p in ["/dev/kvm", "/dev/mem", "/dev/kmsg", "/dev/port",
                          "/sys/fs/cgroup/memory/memory.limit_in_bytes"] if os.path.exists(p)]
    out = probe(oci, shared_tmp, "r", paths)
    assert all(out[p] == "ENOENT" for p in paths), out


def test_proc_writes_refused(oci, shared_tmp):
    """runc CVE-2019-5736 (/proc/self/exe), /proc/sys, sysrq."""
    paths = ["/proc/self/exe", "/proc/sys/kernel/hostname", "/proc/sys/vm/drop_caches",
             "/proc/sysrq-trigger"]
    out = probe(oci, shared_tmp, "w", paths)
    for path in paths:
        assert out[path] in ("ETXTBSY", "EACCES", "EROFS", "EPERM", "ENOENT"), out


def test_blocked_syscalls(oci, shared_tmp):
    script = write_script(shared_tmp, "sys.py", esc.SYSCALLS)
    p, ev = esc.run_logged(oci, shared_tmp, script, json.dumps(esc.BLOCKED), name="sys")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    refused = [k for k, v in out.items() if v != "OK"]
    assert sorted(refused) == sorted(out), {k: v for k, v in out.items() if v == "OK"}
    if not oci.violations:
        return
    names = [v[0] for v in esc.violations(ev)]
    assert all(out[name] == "EPERM" and name in names for name in esc.BLOCKED), (out, names)
    counts = (esc.attempts(ev, "personality"), esc.attempts(ev, "socket"))
    assert counts == (2, 5), (counts, names)


# Refused calls the policy does not name: runc takes no notification as the default action,
# so omnibase lists every call libseccomp knows that the filter refuses.
UNNAMED = {"vhangup": 153, "swapoff": 168, "setdomainname": 171, "io_setup": 206,
           "fanotify_mark": 301, "fsconfig": 431, "memfd_secret": 447}


def test_unnamed_refusals_are_recorded(oci, shared_tmp):
    if not oci.violations:
        pytest.skip("refusals not observed")
    script = write_script(shared_tmp, "sys.py", esc.SYSCALLS)
    p, ev = esc.run_logged(oci, shared_tmp, script, json.dumps(UNNAMED), name="unnamed")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    names = [v[0] for v in esc.violations(ev)]
    for name in UNNAMED:
        assert out[name] == "EPERM" and name in names, (name, out[name], names)


ARGS = "#!/usr/bin/python3\n" + ATTEMPT + r"""
import socket
for fam in (0, 3, 9, 11):  # below, between and above the allowed families
    attempt(f"socket-{fam}", lambda: socket.socket(fam, socket.SOCK_STREAM))
attempt("socketpair-inet", lambda: socket.socketpair(socket.AF_INET))
s = socket.socket()
attempt("sendto-fastopen", lambda: s.sendto(b"x", socket.MSG_FASTOPEN, ("127.0.0.1", 9)))
print(json.dumps(out))
"""


def test_refused_arguments_are_recorded(oci, shared_tmp):
    """The conditional calls' refused uses (the rules listed for runc and crun beside the
    allowing ones): socket families around the allowed ones, socketpair other than AF_UNIX,
    a send with TCP Fast Open. Refused and recorded everywhere (gVisor: by name)."""
    script = write_script(shared_tmp, "args.py", ARGS)
    p, ev = esc.run_logged(oci, shared_tmp, script, name="args")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert all(v != "OK" for v in out.values()), out
    if not oci.violations:
        return
    assert all(v == "EPERM" for v in out.values()), out
    names = [v[0] for v in esc.violations(ev)]
    assert esc.attempts(ev, "socket") == 4 and "socketpair" in names and "sendto" in names, names


@pytest.mark.parametrize("mode,syscall,detail", [
    ("int80", None, None), ("x32", None, None), ("tiocsti", "ioctl", "TIOCSTI"),
    ("tiocsti-high", "ioctl", "TIOCSTI"), ("tioclinux", "ioctl", "TIOCLINUX"),
    ("clone-newuser", "clone", "namespace")])
def test_raw_attacks(oci, shared_tmp, mode, syscall, detail):
    """Other ABIs, TIOCSTI/TIOCLINUX on a pty, a nested user namespace: refused (an error,
    or the attacker killed by the filter), never done; on runc/crun recorded, but for the
    other ABIs (the runtime's filter kills their callers: SIGSYS, nothing to record)."""
    p, ev = esc.run_logged(oci, shared_tmp, esc.ATTACK, mode, name=mode)
    said = p.stdout.decode().split()
    assert said[1:] != ["0"], (mode, p.stdout, p.stderr)
    if oci.violations and syscall:
        assert said == [mode, "EPERM"], p.stdout
        v = esc.violations(ev)
        assert any(s == syscall and (detail in d or not oci.details) for s, d in v), v


@pytest.mark.parametrize("mode", ["int80-connect", "x32-connect"])
def test_other_abis_reach_nothing(oci, mode, host_sockets):
    """connect through the i386 socketcall or x32 entry to a listener on the host's
    127.0.0.1: nothing arrives (runc's filter kills the caller; gVisor answers the i386 call
    0 without doing anything)."""
    port, _, _, accepted = host_sockets
    p = oci.run(esc.ATTACK, mode, str(port))
    assert p.stdout.decode().split()[:1] in ([], [mode]), (p.stdout, p.stderr)
    assert accepted == []


def test_host_sockets_unreachable(oci, shared_tmp, host_sockets):
    port, name, path, accepted = host_sockets
    script = write_script(shared_tmp, "conn.py", esc.CONNECT)
    specs = [f"tcp={port}", f"unix=@{name}", f"unix={path}"]
    p = oci.run(script, *specs)
    out = dict(line.rsplit(" ", 1) for line in p.stdout.decode().splitlines())
    assert out[specs[0]] in ("ECONNREFUSED", "ENETUNREACH"), out
    assert out[specs[1]] in ("ECONNREFUSED", "ENOENT"), out
    assert out[specs[2]] == "ENOENT", out
    assert accepted == []


host_sockets = esc.host_sockets


def test_fork_bomb_and_memory_bomb(oci, shared_tmp):
    script = write_script(shared_tmp, "bomb.py", esc.FORK_BOMB)
    p = oci.run("--pids", "24", "--timeout", "20", script)
    assert p.returncode == 0, p.stderr
    assert int(p.stdout) < 24, p.stdout
    script = write_script(shared_tmp, "mem.py", esc.MEMORY.replace(
        "chunks = []", "print('STARTED', flush=True)\nchunks = []"))
    p = oci.run("--memory", "50M", script)
    assert p.stdout.startswith(b"STARTED"), (p.stdout, p.stderr)  # the limit let it start
    assert b"ALLOCATED" not in p.stdout and p.returncode != 0


def test_symlinks_and_dotdot_out_of_a_grant(oci, shared_tmp):
    grant = os.path.join(shared_tmp, "grant")
    os.makedirs(grant)
    with open(os.path.join(grant, "ok.txt"), "w") as f:
        f.write("ok")
    secret = os.path.join(shared_tmp, "secret.txt")
    with open(secret, "w") as f:
        f.write("SECRET")
    os.symlink(secret, os.path.join(grant, "link"))
    os.symlink("/etc/passwd", os.path.join(grant, "passwd"))
    os.chmod(grant, 0o755)
    tries = [os.path.join(grant, "ok.txt"), os.path.join(grant, "link"),
             os.path.join(grant, "passwd"), os.path.join(grant, "..", "secret.txt")]
    script = write_script(shared_tmp, "paths.py", esc.ESCAPE_PATHS)
    p = oci.run("--cap", f"FILE_READ:{grant}/**", script, *tries)
    assert p.returncode == 0, p.stderr
    assert b"SECRET" not in p.stdout and b"root:" not in p.stdout


def test_no_leaked_fds_and_environment(oci, shared_tmp):
    script = write_script(shared_tmp, "fds.py", esc.FDS)
    p = oci.run(script)
    assert p.stdout.strip() == b"[0, 1, 2, 3]", p.stdout
    script = write_script(shared_tmp, "env.py", esc.PY + """
import os
print(sorted(os.environ))
""")
    p = oci.run(script, timeout=60)
    names = set(eval(p.stdout))  # noqa: S307 - our own script's output
    assert names <= {"PATH", "HOME", "LANG", "TERM", "TMPDIR", "HOSTNAME", "container"}, names


# ---------------------------------------------------------------- identity (SPEC §2.4)

IDENTITY_BASE = 0x70000000


def identity_base():
    """The first of the sandbox's host ids (plan/identity.c): /etc/subuid's "omnibase"."""
    try:
        with open("/etc/subuid") as f:
            for line in f:
                name, _, rest = line.strip().partition(":")
                start, _, count = rest.partition(":")
                if name == "omnibase" and start.isdigit() and count.isdigit() and \
                        int(start) >= 65536 and int(count) >= 65536:
                    return int(start)
    except OSError:
        pass
    return IDENTITY_BASE


@pytest.fixture
def root_oci(ob_bin, request):
    """runc and crun as root: a user namespace of unprivileged host ids."""
    return OciSandbox(ob_bin, oci_backend_or_skip(ob_bin, request.param), "root")


RUNTIMES = [n for n in sorted(OCI_RUNTIMES) if n != "gvisor"]


def host_uids(marker):
    """The Uid: line (real, effective, saved, fs) of each host process carrying MARKER."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() not in f.read():
                    continue
            with open(f"/proc/{pid}/status") as f:
                uid = next(l for l in f if l.startswith("Uid:"))
            found.append([int(x) for x in uid.split()[1:]])
        except (OSError, StopIteration):
            pass
    return found


@pytest.mark.parametrize("root_oci", RUNTIMES, indirect=True)
def test_program_has_unprivileged_host_ids(root_oci, shared_tmp):
    """As root, runc's and crun's program is uid 1000 inside and id_base+1000 on the host (a
    user namespace of the unprivileged range), never the host's uid 1000, a login account."""
    if os.geteuid() != 0:
        pytest.skip("not root")
    marker = f"ob-ident-{os.getpid()}-{root_oci.name}"
    script = write_script(shared_tmp, "wait.py", "#!/usr/bin/python3\n" + """
import os, sys, time
print(os.getuid(), flush=True)
for _ in range(200):
    if os.path.exists(sys.argv[2]):
        break
    time.sleep(0.05)
""")
    go = os.path.join(shared_tmp, "go")
    log = os.path.join(shared_tmp, "i.jsonl")
    p = subprocess.Popen([root_oci.ob_bin, "sandbox", "run", "--backend", root_oci.name,
                          "--audit-log", log, "--cap", f"FILE_READ:{shared_tmp}/**", script,
                          marker, go], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert p.stdout.readline().strip() == b"1000"
        uids = [u for u in host_uids(marker) if u[0] != 0]  # not the runtime's own
        assert uids and all(u == [identity_base() + 1000] * 4 for u in uids), uids
    finally:
        open(go, "w").close()
        p.wait(timeout=60)
    assert p.returncode == 0, p.stderr.read()
    start = next(e for e in events(log) if e["event"] == "SandboxStart")
    assert start["protections"]["userns"]
    assert not [e for e in events(log) if e["event"] == "SandboxDegraded"]


@pytest.fixture
def visible_dir():
    """Outside /tmp (the sandbox has its own /tmp) so that mode rx shows it: a 0600 file of
    root's, a 0600 file of the host's uid 1000 (the program's uid inside) and a 0700 dir of
    root's, to be granted."""
    d = tempfile.mkdtemp(prefix="ob-ident-", dir="/var/tmp")
    os.chmod(d, 0o755)
    for name, owner in (("root-only.txt", 0), ("uid1000-only.txt", 1000)):
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write("private")
        os.chown(path, owner, owner)
        os.chmod(path, 0o600)
    os.mkdir(os.path.join(d, "granted"), 0o700)
    yield d
    shutil.rmtree(d, ignore_errors=True)


RX = ATTEMPT + """
import sys
for p in sys.argv[1:3]:
    attempt(p, lambda p=p: open(p).read())
def write():
    with open(sys.argv[3], "w") as f:
        f.write("written")
attempt("write", write)
print(json.dumps(out))
"""


@pytest.mark.parametrize("name", sorted(OCI_RUNTIMES))
def test_rx_reads_no_host_accounts_file(ob_bin, shared_tmp, visible_dir, name):
    """Mode rx as root: neither root's 0600 file nor one of the host's uid 1000 is readable;
    a granted directory of root's (0700) stays writable, its new file the caller's (id-mapped).
    gVisor too: its Sentry and gofer in the user namespace, the grant id-mapped for the gofer
    (which creates, then chowns)."""
    if os.geteuid() != 0:
        pytest.skip("not root")
    if name == "crun":
        pytest.skip("crun 1.8 cannot bind a mount at / (mode rx, rwx): "
                    "docs/design/backends.md")
    oci = OciSandbox(ob_bin, oci_backend_or_skip(ob_bin, name), "root")
    log = os.path.join(shared_tmp, "rx.jsonl")
    granted = os.path.join(visible_dir, "granted")
    files = [os.path.join(visible_dir, n) for n in ("root-only.txt", "uid1000-only.txt")]
    p = oci.run("--mode", "rx", "--audit-log", log, "--cap", f"FILE_WRITE:{granted}/**",
                "/usr/bin/python3", "--", "-c", RX, *files, os.path.join(granted, "new"))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out[files[0]] == "EACCES", out
    degraded = {e["protection"]: e["reason"] for e in events(log)
                if e["event"] == "SandboxDegraded"}
    assert out[files[1]] == "EACCES", out
    assert "identity" not in degraded, degraded
    assert out["write"] == "OK", out
    st = os.stat(os.path.join(granted, "new"))
    assert (st.st_uid, st.st_gid) == (0, 0)  # the caller's, through the id map
