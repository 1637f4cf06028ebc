# SPDX-License-Identifier: LGPL-2.1-or-later
"""No side doors to exec (SPEC §2.1 EXTERNAL_COMMAND): with only the program's interpreter
allowed, the dynamic loader run as a program, execveat of an fd, an executable memfd and a
binary copied into a writable place do not run what they aim at, and each is recorded as
CapabilityDenied (EXTERNAL_COMMAND, operation exec), in modes sandbox and rx, as root and as
an unprivileged user (the `sandbox` fixture). The target is /usr/bin/id: its "uid=" must never
show. Threat model: docs/security/threat_model.md ("run a tool it was not granted")."""
import os
import platform
import shutil
import subprocess
import tempfile

import pytest

from conftest import MODE, Sandbox, events, oci_backend_or_skip

ATTACK = os.environ.get("OB_ATTACK", "")
LOADER = "/lib64/ld-linux-x86-64.so.2"  # PT_INTERP of x86_64 programs

pytestmark = pytest.mark.skipif(platform.machine() != "x86_64" or not os.path.exists(LOADER),
                                reason="the loader's path is x86_64's")

# Each route runs in a child, which prints "NAME ERRNO" when the exec fails; the target
# prints uid=... if it runs.
DOORS = r"""#!/usr/bin/python3
import errno, os, sys
LOADER = "/lib64/ld-linux-x86-64.so.2"
ID = open("/usr/bin/id", "rb").read()

def attempt(name, f):
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        try:
            f()
        except OSError as e:
            print(name, errno.errorcode[e.errno], flush=True)
        os._exit(0)
    os.waitpid(pid, 0)

def loader():
    os.execv(LOADER, [LOADER, "/usr/bin/id"])

def loader_fd():
    fd = os.open(LOADER, os.O_RDONLY)
    os.execv(f"/proc/self/fd/{fd}", ["ld.so", "/usr/bin/id"])

def fexecve():
    os.execve(os.open("/usr/bin/id", os.O_RDONLY), ["id"], {})

def fexecve_allowed():
    os.execve(os.open(sys.executable, os.O_RDONLY), ["python3", "-c", "print('uid=')"], {})

def execveat(dirfd, path, flags):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    argv = (ctypes.c_char_p * 2)(b"id", None)
    envp = (ctypes.c_char_p * 1)(None)
    libc.syscall(322, dirfd, path, argv, envp, flags)  # x86_64 execveat
    err = ctypes.get_errno()
    raise OSError(err, os.strerror(err))

def memfd(name, flags=0):
    fd = os.memfd_create(name, flags)
    os.write(fd, ID)
    return fd

def copy():
    target = os.path.join(sys.argv[2], "id")
    with open(target, "wb") as f:
        f.write(ID)
    os.chmod(target, 0o755)
    os.execv(target, ["id"])

route = sys.argv[1]
if route == "loader":
    attempt("loader", loader)
    attempt("loader-fd", loader_fd)
elif route == "fexecve":
    attempt("fexecve", fexecve)
    attempt("fexecve-allowed", fexecve_allowed)
    r, w = os.pipe()
    print("pipe", r, flush=True)
    attempt("fexecve-pipe", lambda: execveat(r, b"", 0x1000))  # AT_EMPTY_PATH
    # relative to a directory fd: Landlock refuses, recorded as named
    d = os.open("/usr/bin", os.O_RDONLY | os.O_DIRECTORY)
    attempt("execveat-dirfd", lambda: execveat(d, b"id", 0))
elif route == "memfd":
    fd = memfd("evil")
    st = os.fstat(fd)
    print("mode", oct(st.st_mode & 0o777))
    try:
        os.fchmod(fd, 0o755)
        print("fchmod OK")
    except OSError as e:
        print("fchmod", errno.errorcode[e.errno])
    attempt("memfd-fexecve", lambda: os.execve(fd, ["id"], {}))
    attempt("memfd-proc", lambda: os.execv(f"/proc/self/fd/{fd}", ["id"]))
    attempt("memfd-devfd", lambda: os.execv(f"/dev/fd/{fd}", ["id"]))
    sealed = memfd("sealed", 0x0008)  # MFD_NOEXEC_SEAL, asked for
    attempt("memfd-sealed", lambda: os.execv(f"/proc/self/fd/{sealed}", ["id"]))
    attempt("memfd-exec-flag", lambda: memfd("asks-exec", 0x0010))  # MFD_EXEC
    # a memfd is still a memfd: written, read back, mapped
    os.lseek(fd, 0, os.SEEK_SET)
    print("read", os.read(fd, 4) == ID[:4])
elif route == "copy":
    attempt("copy", copy)
elif route == "proc-self-fd":
    # the fd of an allowed program: the same file, so it runs
    fd = os.open(sys.executable, os.O_RDONLY)
    os.execv(f"/proc/self/fd/{fd}", ["python3", "-c", "print('AGAIN')"])
"""


@pytest.fixture
def outside_tmp():
    """A directory that both modes show (mode rx hides the host's /tmp): scripts, binaries."""
    d = tempfile.mkdtemp(prefix="ob-exec-", dir="/var/tmp")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def run_route(sandbox, shared_tmp, outside_tmp, mode, route, *extra, arg=None):
    script = os.path.join(outside_tmp, "doors.py")
    with open(script, "w") as f:
        f.write(DOORS)
    os.chmod(script, 0o644)
    log = os.path.join(shared_tmp, f"{route}.jsonl")
    p = sandbox.run(*MODE(sandbox, mode), "--audit-log", log, *extra, script, route,
                    *([arg] if arg else []))
    out = p.stdout.decode()
    assert "uid=" not in out, (out, p.stderr)
    return p, out.split("\n"), events(log)


def denied(ev):
    return {(e["capability"], e["resource"], e["operation"]) for e in ev
            if e["event"] == "CapabilityDenied"}


MODES = ["sandbox", "rx"]


@pytest.mark.parametrize("mode", MODES)
def test_loader_as_a_program(sandbox, shared_tmp, outside_tmp, mode):
    """`ld.so /usr/bin/id`: Landlock allows the loader (it loads every allowed program) and
    does not check what it mmaps; the supervisor refuses an exec of the loader itself, by
    path and by an fd link to it."""
    p, out, ev = run_route(sandbox, shared_tmp, outside_tmp, mode, "loader")
    assert "loader EACCES" in out and "loader-fd EACCES" in out, (out, p.stderr)
    d = denied(ev)
    assert ("EXTERNAL_COMMAND", LOADER, "exec") in d, d
    # the fd link is recorded as the file it holds
    assert any(c == "EXTERNAL_COMMAND" and r != LOADER and "ld-linux" in r and o == "exec"
               for c, r, o in d), d


@pytest.mark.parametrize("mode", MODES)
def test_loader_swapped_in_after_the_look(sandbox, shared_tmp, outside_tmp, mode):
    """A thread swaps execve's path between an allowed program and the loader, so that the
    supervisor may look at the one and the kernel run the other: the process is watched
    until its next trap (the loader must open its target), where /proc/PID/exe shows the
    loader: refused, recorded, killed. The target never runs, however the race goes."""
    attack = os.path.join(outside_tmp, "ob-attack")
    shutil.copy(ATTACK, attack)
    os.chmod(attack, 0o755)
    log = os.path.join(shared_tmp, "race.jsonl")
    # another spelling of the loader, so that the two looks are told apart in the record
    real = os.path.realpath(LOADER)
    p = sandbox.run(*MODE(sandbox, mode), "--audit-log", log, attack, "exec-race", real,
                    "/usr/bin/id", "200")
    out = p.stdout.decode()
    assert "uid=" not in out and "exec-race ran=" in out, (out, p.stderr)
    counts = dict(kv.split("=") for kv in out.split()[1:])
    d = {e["resource"] for e in events(log) if e["event"] == "CapabilityDenied"}
    assert d <= {LOADER, real}, d
    # a loader that started was caught by the look after the exec (whose record names the
    # loader as the plan does) and killed; the look before records the swapped-in spelling
    if int(counts["killed"]):
        assert LOADER in d, (counts, d)


@pytest.mark.parametrize("mode", MODES)
def test_execveat_of_an_fd(sandbox, shared_tmp, outside_tmp, mode):
    """fexecve (execveat with AT_EMPTY_PATH) is refused on its flags, whatever the fd holds,
    even an allowed program: what an fd holds was never looked up by path."""
    p, out, ev = run_route(sandbox, shared_tmp, outside_tmp, mode, "fexecve")
    for name in ("fexecve", "fexecve-allowed", "fexecve-pipe", "execveat-dirfd"):
        assert f"{name} EACCES" in out, (name, out, p.stderr)
    d = denied(ev)
    assert ("EXTERNAL_COMMAND", "/usr/bin/id", "exec") in d, d
    pipe = next(line.split()[1] for line in out if line.startswith("pipe "))
    assert ("EXTERNAL_COMMAND", f"fd {pipe}", "exec") in d, d  # no file: the fd
    assert ("EXTERNAL_COMMAND", "id", "exec") in d, d


@pytest.mark.parametrize("mode", MODES)
def test_memfd(sandbox, shared_tmp, outside_tmp, mode):
    """A memfd lives on an internal file system that Landlock does not check: every memfd is
    made non-executable (MFD_NOEXEC_SEAL), so fexecve, /proc/self/fd/N and /dev/fd/N of one
    fail, and MFD_EXEC is refused; each recorded as memfd:NAME. It still works as memory."""
    p, out, ev = run_route(sandbox, shared_tmp, outside_tmp, mode, "memfd")
    assert p.returncode == 0, p.stderr
    for name in ("memfd-fexecve", "memfd-proc", "memfd-devfd", "memfd-sealed",
                 "memfd-exec-flag"):
        assert f"{name} EACCES" in out, (name, out, p.stderr)
    assert "mode 0o666" in out and "fchmod EPERM" in out and "read True" in out, out
    d = denied(ev)
    for name in ("evil", "sealed", "asks-exec"):
        assert ("EXTERNAL_COMMAND", f"memfd:{name}", "exec") in d, (name, d)


@pytest.mark.parametrize("mode", MODES)
def test_binary_copied_into_a_writable_place(sandbox, shared_tmp, outside_tmp, mode):
    """A copy of a refused program, written where the program may write (/workspace, a
    FILE_WRITE grant), is not executable: Landlock grants EXECUTE on the allowed files only,
    not beneath writable places."""
    work = os.path.join(outside_tmp, "work")
    os.mkdir(work)
    os.chmod(work, 0o777)
    # mode rx binds the host's root read-only, where no /workspace can be made: a grant there
    grant, inside = (("--workdir", work), "/workspace") if mode == "sandbox" else \
        (("--cap", f"FILE_WRITE:{work}"), work)
    p, out, ev = run_route(sandbox, shared_tmp, outside_tmp, mode, "copy", *grant, arg=inside)
    assert "copy EACCES" in out, (out, p.stderr)
    assert ("EXTERNAL_COMMAND", f"{inside}/id", "exec") in denied(ev)


@pytest.mark.parametrize("mode", MODES)
def test_proc_self_fd_of_an_allowed_program_runs(sandbox, shared_tmp, outside_tmp, mode):
    """/proc/self/fd/N of an fd on an allowed program is the same file: it runs, unrecorded."""
    p, out, ev = run_route(sandbox, shared_tmp, outside_tmp, mode, "proc-self-fd")
    assert "AGAIN" in out, (out, p.stderr)
    assert not [e for e in ev if e["event"] == "CapabilityDenied"], ev


class BackendSandbox(Sandbox):
    def __init__(self, ob_bin, backend):
        super().__init__(ob_bin, "root")
        self.backend = backend

    def run(self, *args, **kw):
        return super().run("--backend", self.backend, *args, timeout=120, **kw)


@pytest.mark.parametrize("backend", ["runc", "crun"])
def test_side_doors_on_runc_and_crun(ob_bin, shared_tmp, outside_tmp, backend):
    """runc and crun hand the seccomp listener to the supervisor and apply the plan's Landlock
    rules (omnibase-exec): the same doors are shut there, and recorded. (gVisor runs no exec
    allow-list at all: --allow-degraded, docs/design/backends.md.)"""
    sb = BackendSandbox(ob_bin, oci_backend_or_skip(ob_bin, backend))
    p, out, ev = run_route(sb, shared_tmp, outside_tmp, "sandbox", "loader")
    assert "loader EACCES" in out, (out, p.stderr)
    assert ("EXTERNAL_COMMAND", LOADER, "exec") in denied(ev)
    p, out, ev = run_route(sb, shared_tmp, outside_tmp, "sandbox", "memfd")
    assert "memfd-proc EACCES" in out and "memfd-fexecve EACCES" in out, (out, p.stderr)
    assert ("EXTERNAL_COMMAND", "memfd:evil", "exec") in denied(ev)


def test_without_memfd_seal_fails_closed(ob_bin, shared_tmp):
    """On a kernel without MFD_NOEXEC_SEAL (simulated: memfd_create fails with ENOSYS) a run is
    refused, unless --allow-degraded, which runs and records SandboxDegraded."""
    enosys = os.environ.get("OB_ENOSYS")
    if not enosys:
        pytest.skip("OB_ENOSYS not set: run through `meson test`")
    p = subprocess.run([enosys, "memfd_create", ob_bin, "sandbox", "run", "/bin/true"],
                       capture_output=True, timeout=60)
    assert p.returncode == 125 and b"MFD_NOEXEC_SEAL" in p.stderr, p.stderr
    log = os.path.join(shared_tmp, "deg.jsonl")
    p = subprocess.run([enosys, "memfd_create", ob_bin, "sandbox", "run", "--allow-degraded",
                        "--audit-log", log, "/bin/true"], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    deg = [e for e in events(log) if e["event"] == "SandboxDegraded"]
    assert [e["protection"] for e in deg] == ["memfd-noexec"], deg
    # mode rwx keeps no exec allow-list: nothing to degrade
    p = subprocess.run([enosys, "memfd_create", ob_bin, "sandbox", "run", "--mode", "rwx",
                        "/bin/true"], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
