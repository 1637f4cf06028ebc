# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes by path performed by the supervisor (docs/design/runner.md, "Opens performed by the
supervisor"; issue 22 item 1): mkdir, unlink, rename, link, symlink, mknod, chmod, chown,
truncate and utimensat are done by the open broker on the supervisor's copy of the paths, as
the program (its ids, its Landlock domain, no capability). A thread that swaps the path
between the supervisor's look and the kernel's read can no longer make a refusal go
unrecorded; and the calls still behave as the kernel's own."""
import json
import os

from conftest import ATTEMPT, events, write_script


def occurrences(ev, resource):
    return sum(1 + e.get("repeated", 0) for e in ev
               if e["event"] == "CapabilityDenied" and e.get("resource") == resource)


def test_swapped_mkdir_keeps_its_record(sandbox, shared_tmp, attack):
    """One thread flips a byte of the path between a directory that exists in a writable
    grant (EEXIST, not a refusal) and one in a read-only grant (EROFS), the other calls mkdir
    on it for a second: every refused mkdir is on the record, as the read-only path."""
    mkdir_race(sandbox, shared_tmp, attack)


def mkdir_race(sandbox, shared_tmp, attack, *extra):
    """test_swapped_mkdir_keeps_its_record's run, with EXTRA options (a backend)."""
    w, r = os.path.join(shared_tmp, "w"), os.path.join(shared_tmp, "r")
    for d in (w, r):
        os.mkdir(d)
        os.chmod(d, 0o777)
    os.mkdir(os.path.join(w, "d"))
    a, b = os.path.join(w, "d"), os.path.join(r, "d")
    log = os.path.join(shared_tmp, "audit.jsonl")
    p = sandbox.run(*extra, "--cap", f"FILE_WRITE:{w}", "--cap", f"FILE_READ:{r}",
                    "--audit-log", log, attack, "mkdir-race", a, b, "1")
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode().split()
    assert out[0] == "mkdir-race" and len(out) == 5, (out, p.stderr)
    attempts, exists, refused, made = map(int, out[1:])
    assert made == 0 and exists > 0 and refused > 0, out
    ev = events(log)
    denied = [e for e in ev if e["event"] == "CapabilityDenied"]
    assert {(e["capability"], e["resource"], e["operation"]) for e in denied} == {
        ("FILE_WRITE", b, "mkdir")}, denied[:3]
    assert occurrences(ev, b) == refused, (occurrences(ev, b), refused)
    assert not os.path.exists(b)


WRITES = "#!/usr/bin/python3\n" + ATTEMPT + r"""
import os, stat, sys
w = sys.argv[1]
os.umask(0o027)
attempt("mkdir", lambda: os.mkdir(w + "/d", 0o777))
out["dmode"] = oct(os.stat(w + "/d").st_mode & 0o777)
attempt("mknod", lambda: os.mknod(w + "/fifo", 0o666 | stat.S_IFIFO))
out["fifo"] = stat.S_ISFIFO(os.stat(w + "/fifo").st_mode)
with open(w + "/f", "w") as f:
    f.write("hello")
attempt("link", lambda: os.link(w + "/f", w + "/d/hard"))
attempt("symlink", lambda: os.symlink("../f", w + "/d/soft"))
out["readlink"] = os.readlink(w + "/d/soft")
attempt("rename", lambda: os.rename(w + "/d/hard", w + "/d/moved"))
attempt("chmod", lambda: os.chmod(w + "/d/moved", 0o600))
out["fmode"] = oct(os.stat(w + "/f").st_mode & 0o777)
attempt("chown-self", lambda: os.chown(w + "/f", os.getuid(), os.getgid()))
attempt("chown-root", lambda: os.chown(w + "/f", 0, 0))
attempt("lchown", lambda: os.lchown(w + "/d/soft", os.getuid(), -1))
attempt("truncate", lambda: os.truncate(w + "/f", 2))
out["size"] = os.stat(w + "/f").st_size
attempt("utime", lambda: os.utime(w + "/f", (1, 2)))
out["mtime"] = os.stat(w + "/f").st_mtime
attempt("rmdir-full", lambda: os.rmdir(w + "/d"))
os.chdir(w + "/d")
attempt("relative", lambda: os.mkdir("rel"))
out["rel"] = os.path.isdir(w + "/d/rel")
attempt("unlink", lambda: os.unlink(w + "/d/soft"))
# the forms left to the kernel: a trailing slash; a link that follows /proc's fd link (an
# O_TMPFILE file, itself made by the broker, given a name)
attempt("slash", lambda: os.mkdir(w + "/slash/"))
fd = os.open(w, os.O_TMPFILE | os.O_RDWR, 0o666)
out["tmpmode"] = oct(os.fstat(fd).st_mode & 0o777)
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, AT_SYMLINK_FOLLOW = -100, 0x400
libc.linkat(AT_FDCWD, f"/proc/self/fd/{fd}".encode(), AT_FDCWD, (w + "/named").encode(),
            AT_SYMLINK_FOLLOW)
out["named"] = os.path.isfile(w + "/named")
attempt("mkdir-ro", lambda: os.mkdir("/usr/made"))
attempt("hidden", lambda: os.mkdir("/etc/ssh/made"))
print(json.dumps(out))
"""


WRITES_OUT = {"mkdir": "OK", "dmode": "0o750", "mknod": "OK", "fifo": True, "link": "OK",
              "symlink": "OK", "readlink": "../f", "rename": "OK", "chmod": "OK",
              "fmode": "0o600", "chown-self": "OK", "lchown": "OK",
              "truncate": "OK", "size": 2, "utime": "OK", "mtime": 2.0,
              "rmdir-full": "ENOTEMPTY", "relative": "OK", "rel": True, "unlink": "OK",
              "slash": "OK", "tmpmode": "0o640", "named": True,
              "mkdir-ro": "EROFS", "hidden": "ENOENT"}


def test_brokered_writes_behave_as_the_kernels(sandbox, shared_tmp):
    """What the calls do when the supervisor performs them: the umask, hard and soft links,
    renames, modes, owners (the program's ids as its namespace names them), sizes, times,
    relative paths, O_TMPFILE; the forms left to the kernel still work; refusals recorded (read-only, hidden), a chown to another id refused
    (EPERM) without a FILE_WRITE denial, which no grant would lift."""
    w = os.path.join(shared_tmp, "w")
    os.mkdir(w)
    os.chmod(w, 0o777)
    script = write_script(shared_tmp, "writes.py", WRITES)
    log = os.path.join(shared_tmp, "audit.jsonl")
    p = sandbox.run("--cap", f"FILE_WRITE:{w}", "--audit-log", log, script, w)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    # rootless the sandbox maps no uid 0: the kernel's EINVAL (left to it)
    assert out.pop("chown-root") == ("EPERM" if sandbox.who == "root" else "EINVAL"), out
    assert out == WRITES_OUT, out
    denied = [(e["resource"], e["operation"]) for e in events(log)
              if e["event"] == "CapabilityDenied"]
    assert denied == [("/usr/made", "mkdir"), ("/etc/ssh/made", "mkdir")], denied
    # on the host: the program's files, as the kernel would have made them
    st = os.stat(os.path.join(w, "f"))
    assert st.st_size == 2 and st.st_mtime == 2.0
    assert os.path.islink(os.path.join(w, "d", "soft")) is False  # unlinked
    assert os.path.isdir(os.path.join(w, "d", "rel"))
