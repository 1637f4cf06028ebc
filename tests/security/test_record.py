# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every refusal on the record (issue 22, item 1): refusals that used to leave no event — opens
by relative path or from a directory fd, paths that reach a hidden file through "..", or a
symlink the program made, writes to read-only places by calls other than open, sendmsg
destinations, paths that are not UTF-8, malformed proxy requests — each yields a
CapabilityDenied, as root and as an unprivileged user (the `sandbox` fixture).
docs/design/runner.md "Observed denials"; threat model: docs/security/threat_model.md."""
import os
import subprocess

import pytest

from conftest import ATTEMPT, TEST_USER, Sandbox, events, oci_backend_or_skip, write_script

PY = "#!/usr/bin/python3\n"


def denied(log):
    return [(e["capability"], e["resource"], e["operation"])
            for e in events(log) if e["event"] == "CapabilityDenied"]


def run_script(sandbox, shared_tmp, name, body, *args, argv=()):
    """Runs BODY (with ATTEMPT) under the options ARGS, with ARGV after the script: its out
    dict, the denials, the log."""
    script = write_script(shared_tmp, name, PY + ATTEMPT + body + "\nprint(json.dumps(out))\n")
    log = os.path.join(shared_tmp, name + ".jsonl")
    p = sandbox.run("--audit-log", log, *args, script, *argv)
    assert p.returncode == 0, (p.stdout, p.stderr)
    import json
    return json.loads(p.stdout.decode().strip().splitlines()[-1]), denied(log), log


def test_relative_and_dotdot_opens(sandbox, shared_tmp):
    out, got, _ = run_script(sandbox, shared_tmp, "opens.py", """
import os
os.chdir("/etc")
attempt("relative", lambda: open("passwd"))
d = os.open("/etc", os.O_RDONLY | os.O_DIRECTORY)
attempt("dirfd", lambda: os.open("shadow", os.O_RDONLY, dir_fd=d))
attempt("proc-dotdot", lambda: open("/proc/../etc/shadow"))
os.mkdir("/tmp/x")
attempt("tmp-dotdot", lambda: open("/tmp/x/../../etc/group"))
os.symlink("/etc/hostname", "/tmp/mylink")
attempt("own-link", lambda: open("/tmp/mylink"))
os.chdir("/tmp/x")
attempt("relative-dotdot", lambda: open("../../etc/gshadow"))
attempt("relative-write", lambda: open("../../usr/made-here", "w"))
attempt("own-file", lambda: open("mine", "w"))
""")
    assert out == {"relative": "ENOENT", "dirfd": "ENOENT", "proc-dotdot": "ENOENT",
                   "tmp-dotdot": "ENOENT", "own-link": "ENOENT", "relative-dotdot": "ENOENT",
                   "relative-write": "EROFS", "own-file": "OK"}, out
    expect = [("FILE_READ", "/etc/passwd", "read"), ("FILE_READ", "/etc/shadow", "read"),
              ("FILE_READ", "/etc/shadow", "read"), ("FILE_READ", "/etc/group", "read"),
              ("FILE_READ", "/etc/hostname", "read"), ("FILE_READ", "/etc/gshadow", "read"),
              ("FILE_WRITE", "/usr/made-here", "write")]
    present = [e for e in expect if os.path.exists(e[1]) or e[0] == "FILE_WRITE"]
    # identical refusals (the two reads of /etc/shadow) are folded (SPEC §5): the repeat is
    # written at the end of the record, so compare what was recorded, not the order
    assert sorted(got) == sorted(present), got


def test_dotdot_through_workspace(sandbox, shared_tmp):
    work = os.path.join(shared_tmp, "work")
    os.mkdir(work)
    os.chmod(work, 0o777)
    out, got, _ = run_script(sandbox, shared_tmp, "ws.py", """
attempt("ws", lambda: open("/workspace/../etc/passwd"))
""", "--workdir", work)
    assert out == {"ws": "ENOENT"}
    assert got == [("FILE_READ", "/etc/passwd", "read")]


def test_path_not_utf8(sandbox, shared_tmp):
    """jansson takes only UTF-8: such a path is written escaped, with its capability and pid."""
    out, got, log = run_script(sandbox, shared_tmp, "bytes.py", r"""
import os
os.chdir("/etc")
attempt("bytes", lambda: open(b"/etc/../etc/\xff\\name", "w"))
""")
    assert out == {"bytes": "EROFS"}, out
    assert got == [("FILE_WRITE", "/etc/\\xff\\x5cname", "write")], got
    e = [e for e in events(log) if e["event"] == "CapabilityDenied"][0]
    assert e["pid"] > 0


def test_writes_to_read_only_places(sandbox, shared_tmp):
    """Calls that write by path without opening: each EROFS the layout makes is recorded with
    the call's name; a write of the sandbox's own (/tmp) and mkdir of what exists are not."""
    out, got, log = run_script(sandbox, shared_tmp, "writes.py", """
import os
attempt("mkdir", lambda: os.mkdir("/usr/newdir"))
attempt("mkdir-exists", lambda: os.mkdir("/usr"))
attempt("rmdir", lambda: os.rmdir("/usr/lib"))
attempt("unlink", lambda: os.unlink("/usr/bin/env"))
attempt("symlink", lambda: os.symlink("/x", "/usr/l"))
attempt("chmod", lambda: os.chmod("/usr/bin", 0o777))
attempt("chown", lambda: os.chown("/usr/bin", 0, 0))
attempt("utime", lambda: os.utime("/usr/bin"))
attempt("mkfifo", lambda: os.mkfifo("/usr/fifo"))
os.chdir("/usr")
attempt("relative", lambda: os.mkdir("zz"))
attempt("own", lambda: (os.mkdir("/tmp/ok"), os.rmdir("/tmp/ok"), os.symlink("/usr", "/tmp/u"),
                        os.unlink("/tmp/u")))
""")
    assert out == {"mkdir": "EROFS", "mkdir-exists": "EEXIST", "rmdir": "EROFS",
                   "unlink": "EROFS", "symlink": "EROFS", "chmod": "EROFS", "chown": "EROFS",
                   "utime": "EROFS", "mkfifo": "EROFS", "relative": "EROFS", "own": "OK"}, out
    assert got == [("FILE_WRITE", "/usr/newdir", "mkdir"), ("FILE_WRITE", "/usr/lib", "rmdir"),
                   ("FILE_WRITE", "/usr/bin/env", "unlink"),
                   ("FILE_WRITE", "/usr/l", "symlink"), ("FILE_WRITE", "/usr/bin", "chmod"),
                   ("FILE_WRITE", "/usr/bin", "chown"), ("FILE_WRITE", "/usr/bin", "utimensat"),
                   ("FILE_WRITE", "/usr/fifo", "mknodat"), ("FILE_WRITE", "/usr/zz", "mkdir")], got
    # a set-user-ID mode stays a violation
    out, _, log = run_script(sandbox, shared_tmp, "suid.py", """
import os
attempt("suid", lambda: os.mkdir("/tmp/s", 0o4755))
""")
    assert out == {"suid": "EPERM"}
    assert [e["syscall"] for e in events(log) if e["event"] == "SandboxViolation"] == ["mkdir"]


XATTR_BIND = """
import os, socket, sys
w = sys.argv[1]
attempt("setxattr", lambda: os.setxattr("/usr/bin/env", "user.x", b"1"))
attempt("lsetxattr", lambda: os.setxattr("/usr/bin/env", "user.x", b"1", follow_symlinks=False))
attempt("removexattr", lambda: os.removexattr("/usr/bin/env", "user.x"))
fd = os.open("/usr/bin/env", os.O_RDONLY)
attempt("fsetxattr", lambda: os.setxattr(fd, "user.x", b"1"))
attempt("futimens", lambda: os.utime(fd, (1, 2)))
attempt("fchmod", lambda: os.chmod(fd, 0o755))
attempt("fchown", lambda: os.chown(fd, os.getuid(), -1))
attempt("fremovexattr", lambda: os.removexattr(fd, "user.x"))
attempt("bind", lambda: socket.socket(socket.AF_UNIX).bind("/usr/sock"))
attempt("bind-hidden", lambda: socket.socket(socket.AF_UNIX).bind("/etc/ssh/x.sock"))
# the same calls where the program may write work as the kernel's own
attempt("setxattr-own", lambda: os.setxattr(w + "/f", "user.x", b"hello"))
out["getxattr-own"] = os.getxattr(w + "/f", "user.x").decode()
attempt("removexattr-own", lambda: os.removexattr(w + "/f", "user.x"))
wfd = os.open(w + "/f", os.O_RDONLY)
attempt("fsetxattr-own", lambda: os.setxattr(wfd, "user.y", b"2"))
attempt("futimens-own", lambda: os.utime(wfd, (1, 2)))
out["mtime"] = os.stat(w + "/f").st_mtime
attempt("fchmod-own", lambda: os.chmod(wfd, 0o640))
out["mode"] = oct(os.stat(w + "/f").st_mode & 0o777)
attempt("fchown-own", lambda: os.chown(wfd, os.getuid(), -1))
attempt("fremovexattr-own", lambda: os.removexattr(wfd, "user.y"))
attempt("fchmod-suid", lambda: os.chmod(wfd, 0o4755))
pfd = os.open(w + "/f", os.O_PATH)
attempt("futimens-opath", lambda: os.utime(pfd, (3, 4)))
s = socket.socket(socket.AF_UNIX)
attempt("bind-tmp", lambda: s.bind("/tmp/sock"))
out["sockname"] = s.getsockname()
# a NULL path to an *at call is the kernel's EFAULT, never a path read before (a review found
# the broker acting on the last path it had been given)
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
dfd = os.open(w, os.O_RDONLY | os.O_DIRECTORY)
def null_at(name, *args):
    if getattr(libc, name)(dfd, None, *args) < 0:  # a directory fd, a NULL path
        raise OSError(ctypes.get_errno(), name)
open(w + "/victim", "w").close()
os.chmod(w + "/victim", 0o644)
attempt("unlinkat-null", lambda: null_at("unlinkat", 0))
attempt("mkdirat-null", lambda: null_at("mkdirat", 0o755))
attempt("fchmodat-null", lambda: null_at("fchmodat", 0o600, 0))
out["victim"] = oct(os.stat(w + "/victim").st_mode & 0o777)
"""


def test_xattrs_binds_and_fd_writes_to_read_only_places(sandbox, shared_tmp):
    """Issue 22's last writes: setxattr and removexattr by path and by fd, the mode, owner
    and times of an open file (fchmod, fchown, futimens), and bind of a unix socket to a
    path, each refused in a read-only or hidden place and recorded; the same calls where the
    program may write behave as the kernel's own (an O_PATH fd still EBADF, a set-user-ID
    mode a violation, a bound socket's name the program's own string). Root and rootless."""
    w = os.path.join(shared_tmp, "w")
    os.mkdir(w)
    with open(os.path.join(w, "f"), "w") as f:
        f.write("x")
    os.chmod(w, 0o777)
    os.chmod(os.path.join(w, "f"), 0o666)
    if sandbox.who == "user":  # an owner the sandbox maps: xattrs of an unmapped one are EPERM
        subprocess.run(["chown", "-R", f"{TEST_USER}:", w], check=True)
    out, got, _ = run_script(sandbox, shared_tmp, "xattr.py", XATTR_BIND, "--cap",
                             f"FILE_WRITE:{w}", argv=(w,))
    assert out == {"setxattr": "EROFS", "lsetxattr": "EROFS", "removexattr": "EROFS",
                   "fsetxattr": "EROFS", "futimens": "EROFS", "fchmod": "EROFS",
                   "fchown": "EROFS", "fremovexattr": "EROFS", "bind": "EROFS",
                   "bind-hidden": "ENOENT", "setxattr-own": "OK", "getxattr-own": "hello",
                   "removexattr-own": "OK", "fsetxattr-own": "OK", "futimens-own": "OK",
                   "mtime": 2.0, "fchmod-own": "OK", "mode": "0o640", "fchown-own": "OK",
                   "fremovexattr-own": "OK", "fchmod-suid": "EPERM",
                   "futimens-opath": "EBADF", "bind-tmp": "OK", "sockname": "/tmp/sock",
                   "unlinkat-null": "EFAULT", "mkdirat-null": "EFAULT",
                   "fchmodat-null": "EFAULT", "victim": "0o644"}, out
    assert got == [("FILE_WRITE", "/usr/bin/env", "setxattr"),
                   ("FILE_WRITE", "/usr/bin/env", "lsetxattr"),
                   ("FILE_WRITE", "/usr/bin/env", "removexattr"),
                   ("FILE_WRITE", "/usr/bin/env", "fsetxattr"),
                   ("FILE_WRITE", "/usr/bin/env", "utimensat"),
                   ("FILE_WRITE", "/usr/bin/env", "fchmod"),
                   ("FILE_WRITE", "/usr/bin/env", "fchown"),
                   ("FILE_WRITE", "/usr/bin/env", "fremovexattr"),
                   ("FILE_WRITE", "/usr/sock", "bind"),
                   ("FILE_WRITE", "/etc/ssh/x.sock", "bind")], got


@pytest.mark.parametrize("backend", ["runc", "crun"])
def test_oci_writes_to_read_only_places(ob_bin, shared_tmp, backend):
    """runc and crun observe the path-writing calls through the runtime's seccomp listener, as
    the native filter does: the same events (as root: they run as root only)."""
    oci_backend_or_skip(ob_bin, backend)
    sb = Sandbox(ob_bin, "root")
    out, got, log = run_script(sb, shared_tmp, "writes-" + backend + ".py", """
import os
attempt("mkdir", lambda: os.mkdir("/usr/newdir"))
attempt("unlink", lambda: os.unlink("/usr/bin/env"))
attempt("rename", lambda: os.rename("/usr/bin/env", "/usr/bin/env2"))
attempt("chmod", lambda: os.chmod("/usr/bin", 0o777))
attempt("own", lambda: (os.mkdir("/tmp/ok"), os.rmdir("/tmp/ok")))
attempt("suid", lambda: os.mkdir("/tmp/s", 0o4755))
""", "--backend", backend, "--cap", f"FILE_READ:{shared_tmp}")
    assert out == {"mkdir": "EROFS", "unlink": "EROFS", "rename": "EROFS", "chmod": "EROFS",
                   "own": "OK", "suid": "EPERM"}, out
    assert got == [("FILE_WRITE", "/usr/newdir", "mkdir"),
                   ("FILE_WRITE", "/usr/bin/env", "unlink"),
                   ("FILE_WRITE", "/usr/bin/env", "rename"),
                   ("FILE_WRITE", "/usr/bin", "chmod")], got
    assert [e["syscall"] for e in events(log) if e["event"] == "SandboxViolation"] == ["mkdir"]


GV_WRITES = """
import os
attempt("mkdir", lambda: os.mkdir("/usr/newdir"))
attempt("unlink", lambda: os.unlink("/usr/lib/os-release"))
attempt("rename", lambda: os.rename("/usr/lib/os-release", "/usr/lib/x"))
attempt("symlink", lambda: os.symlink("/x", "/usr/lib/y"))
attempt("chmod", lambda: os.chmod("/usr/lib", 0o777))
attempt("hidden", lambda: os.chmod("/etc/passwd", 0o777))
attempt("setxattr", lambda: os.setxattr("/usr/lib/os-release", "user.x", b"1"))
attempt("removexattr", lambda: os.removexattr("/usr/lib/os-release", "user.x"))
fd = os.open("/usr/lib/os-release", os.O_RDONLY)
attempt("fchmod", lambda: os.chmod(fd, 0o755))
attempt("fsetxattr", lambda: os.setxattr(fd, "user.x", b"1"))
attempt("own", lambda: (os.mkdir("/tmp/ok"), os.rmdir("/tmp/ok")))
"""


def test_gvisor_writes_to_read_only_places(sandbox, shared_tmp):
    """gVisor: the path-writing calls read from runsc's strace, the same events (its errors
    differ: it answers EACCES or EPERM for the host root's files before EROFS). Root and
    rootless."""
    oci_backend_or_skip(sandbox.ob_bin, "gvisor", sandbox.who)
    out, got, _ = run_script(sandbox, shared_tmp, "writes-gvisor.py", GV_WRITES,
                             "--backend", "gvisor")
    assert out["own"] == "OK", out
    assert all(v != "OK" for k, v in out.items() if k != "own"), out
    assert got == [("FILE_WRITE", "/usr/newdir", "mkdir"),
                   ("FILE_WRITE", "/usr/lib/os-release", "unlink"),
                   ("FILE_WRITE", "/usr/lib/os-release", "rename"),
                   ("FILE_WRITE", "/usr/lib/y", "symlink"),
                   ("FILE_WRITE", "/usr/lib", "chmod"),
                   ("FILE_WRITE", "/etc/passwd", "chmod"),
                   ("FILE_WRITE", "/usr/lib/os-release", "setxattr"),
                   ("FILE_WRITE", "/usr/lib/os-release", "removexattr"),
                   ("FILE_WRITE", "/usr/lib/os-release", "fchmod"),
                   ("FILE_WRITE", "/usr/lib/os-release", "fsetxattr")], got
