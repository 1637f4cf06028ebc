# SPDX-License-Identifier: LGPL-2.1-or-later
"""Opens performed by the supervisor (docs/design/runner.md, "Opens performed by the
supervisor"; issue 22 item 1).

The supervisor opens the program's trapped opens itself, as the program (its ids, its
Landlock domain, no capability), on its own copy of the path, and hands the fd in. A thread
that swaps the path between the supervisor's look and the kernel's read can no longer make a
refusal go unrecorded, nor have an allowed path recorded as refused; and what programs do
with open() still behaves as the kernel's own open."""
import json
import os
import pwd
import subprocess

import pytest

from conftest import ATTEMPT, TEST_USER, events


def occurrences(ev, resource):
    return sum(1 + e.get("repeated", 0) for e in ev
               if e["event"] == "CapabilityDenied" and e.get("resource") == resource)


def race(sandbox, *args):
    """Runs ob-attack's open-race: the hidden file's content never read, both files met (a
    real race). The number of failed opens."""
    p = sandbox.run(*args)
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode().split()
    assert out[0] == "open-race" and len(out) == 4, (out, p.stderr)
    attempts, failed, leaked = map(int, out[1:])
    assert leaked == 0
    assert failed > 0 and attempts - failed > 0, (attempts, failed)
    return failed


def inside_and_hidden(shared_tmp):
    """Two paths that differ in one byte: a, which the program makes inside the sandbox (its
    own /tmp), and b, a host file (0644) the sandbox does not show."""
    d = os.path.join(shared_tmp, "d")
    os.mkdir(d)
    os.chmod(d, 0o755)
    a, b = os.path.join(d, "a"), os.path.join(d, "b")
    with open(b, "w") as f:
        f.write("B")
    os.chmod(b, 0o644)
    return a, b


@pytest.mark.parametrize("kind", ["hidden", "unreadable"])
def test_swapped_path_keeps_its_record(sandbox, shared_tmp, attack, kind):
    """One thread flips a byte of the path between a readable file (a) and a refused one (b),
    the other opens it for a second: every open that failed is on the record, as b, and no
    open ever read b. b is hidden (the host has it, the sandbox does not show it) or shown
    but closed to the program's ids (mode 000: EACCES)."""
    d = os.path.join(shared_tmp, "d")
    os.mkdir(d)
    os.chmod(d, 0o755)
    a, b = os.path.join(d, "a"), os.path.join(d, "b")
    for path, text in ((a, "A"), (b, "B")):
        with open(path, "w") as f:
            f.write(text)
    os.chmod(a, 0o644)
    os.chmod(b, 0o644 if kind == "hidden" else 0o000)
    grant = a if kind == "hidden" else d
    log = os.path.join(shared_tmp, "audit.jsonl")
    failed = race(sandbox, "--cap", f"FILE_READ:{grant}", "--audit-log", log,
                  attack, "open-race", a, b, "1")
    ev = events(log)
    denied = [e for e in ev if e["event"] == "CapabilityDenied"]
    assert {e["resource"] for e in denied} == {b}, denied[:3]
    assert {e["capability"] for e in denied} == {"FILE_READ"}
    # every failed open on the record (folded into `repeated`), and nothing more
    assert occurrences(ev, b) == failed, (occurrences(ev, b), failed)
    assert ev[-1]["event"] == "SandboxExit" and ev[-1]["violations"] == failed


def test_swap_through_a_path_left_to_the_kernel_is_caught(sandbox, shared_tmp, attack):
    """The residue, tried: the allowed half of the swap is a path the broker leaves to the
    kernel (a symlink of the program's own to /proc/self/status), the other a hidden host
    file. Those opens are read twice; the supervisor reads the path once more right before it
    lets the kernel go on, and a path that changed is refused and recorded as a
    SandboxViolation: the swapping is on the record, and the hidden file is never read."""
    a, b = inside_and_hidden(shared_tmp)
    log = os.path.join(shared_tmp, "audit.jsonl")
    failed = race(sandbox, "--audit-log", log, attack, "open-race", a, b, "1",
                  "/proc/self/status")
    ev = events(log)
    swaps = [e for e in ev if e["event"] == "SandboxViolation"
             and "path changed" in e.get("detail", "")]
    assert swaps and {e["syscall"] for e in swaps} == {"openat"}, swaps[:2]
    assert occurrences(ev, b) > 0
    # most failures are on the record as b or as a caught swap (not all: the window after
    # the last look stays, docs/design/runner.md)
    caught = occurrences(ev, b) + sum(1 + e.get("repeated", 0) for e in swaps)
    assert caught > failed // 2, (caught, failed)


def test_swap_between_a_device_and_a_hidden_file_keeps_its_record(sandbox, shared_tmp, attack):
    """The memory devices (/dev/null here, reached through a symlink of the program's own)
    are opened by the broker too, so a swap between one and a hidden host file is recorded
    exactly, like one between two files."""
    a, b = inside_and_hidden(shared_tmp)
    log = os.path.join(shared_tmp, "audit.jsonl")
    p = sandbox.run("--audit-log", log, attack, "open-race", a, b, "1", "/dev/zero")
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode().split()
    assert out[0] == "open-race" and len(out) == 4, (out, p.stderr)
    attempts, failed, leaked = map(int, out[1:])
    assert leaked == 0 and failed > 0 and attempts > failed, out
    ev = events(log)
    assert occurrences(ev, b) == failed, (occurrences(ev, b), failed)
    assert not [e for e in ev if e["event"] == "SandboxViolation"]


ORDINARY = ATTEMPT + r"""
import os, stat, sys
w = sys.argv[1]
os.umask(0o027)
# a new file: the umask applied, the sandbox's uid
with open("/tmp/new", "w") as f:
    f.write("hello")
st = os.stat("/tmp/new")
out["new_mode"] = oct(stat.S_IMODE(st.st_mode))
out["new_uid"] = st.st_uid
# O_TRUNC, O_APPEND
with open("/tmp/new", "w") as f:
    pass
out["trunc_size"] = os.path.getsize("/tmp/new")
for s in ("a", "b"):
    with open("/tmp/new", "a") as f:
        f.write(s)
out["appended"] = open("/tmp/new").read()
# O_CREAT|O_EXCL on an existing file, O_CREAT on a directory, O_NOFOLLOW on a symlink
attempt("excl", lambda: os.open("/tmp/new", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
attempt("creat_dir", lambda: os.open("/tmp", os.O_CREAT | os.O_WRONLY))
os.symlink("/tmp/new", "/tmp/link")
attempt("nofollow", lambda: os.open("/tmp/link", os.O_RDONLY | os.O_NOFOLLOW))
# O_CREAT through a dangling symlink makes its target
os.symlink("/tmp/target", "/tmp/dangling")
os.close(os.open("/tmp/dangling", os.O_CREAT | os.O_WRONLY, 0o600))
out["dangling_target"] = os.path.exists("/tmp/target")
# a flag bit open(2) does not know is ignored, as by the kernel (openat2 would refuse it)
os.close(os.open("/tmp/unknown", os.O_CREAT | os.O_WRONLY | 0x40000000, 0o600))
out["unknown_flag"] = os.path.exists("/tmp/unknown")
# directories
fd = os.open("/tmp", os.O_RDONLY | os.O_DIRECTORY)
out["dir_list"] = "new" in os.listdir(fd)
os.close(fd)
attempt("notdir", lambda: os.open("/tmp/new", os.O_RDONLY | os.O_DIRECTORY))
# relative to the working directory and to a directory fd
os.chdir("/tmp")
out["relative"] = open("new").read()
dfd = os.open("/tmp", os.O_RDONLY | os.O_DIRECTORY)
out["openat"] = os.read(os.open("new", os.O_RDONLY, dir_fd=dfd), 10).decode()
# O_PATH, O_CLOEXEC kept or not
fd = os.open("/tmp/new", os.O_PATH)
out["o_path"] = os.readlink(f"/proc/self/fd/{fd}")
fd = os.open("/tmp/new", os.O_RDONLY | os.O_CLOEXEC)
out["cloexec"] = not os.get_inheritable(fd)
fd = os.open("/tmp/new", os.O_RDONLY)
out["inheritable"] = os.get_inheritable(fd) is False  # Python sets O_CLOEXEC itself
# FIFOs (left to the kernel), devices, /proc through a symlink
os.mkfifo("/tmp/fifo")
r = os.open("/tmp/fifo", os.O_RDONLY | os.O_NONBLOCK)
wr = os.open("/tmp/fifo", os.O_WRONLY | os.O_NONBLOCK)
os.write(wr, b"x")
out["fifo"] = os.read(r, 1).decode()
with open("/dev/null", "w") as f:
    f.write("x")
attempt("stdin", lambda: open("/dev/stdin").close())
attempt("proc_self", lambda: open("/proc/self/status").readline())
# a granted writable directory of the host: the file is the sandbox's inside
with open(os.path.join(w, "made"), "w") as f:
    f.write("x")
out["grant_uid"] = os.stat(os.path.join(w, "made")).st_uid
# refused: a read-only place, recorded
attempt("readonly", lambda: open("/usr/ob-new", "w"))
print(json.dumps(out))
"""


def run_ordinary_opens(sandbox, shared_tmp, *extra):
    """Runs ORDINARY (with EXTRA options) and checks what the kernel's own opens would have
    given, and the record; the granted directory."""
    w = os.path.join(shared_tmp, "w")
    os.mkdir(w)
    if sandbox.who == "user":
        subprocess.run(["chown", TEST_USER, w], check=True)
    log = os.path.join(shared_tmp, "audit.jsonl")
    p = sandbox.run(*extra, "--cap", f"FILE_WRITE:{w}", "--audit-log", log, "/usr/bin/python3",
                    "--", "-c", ORDINARY, w)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out == {
        "new_mode": "0o640", "new_uid": 1000, "trunc_size": 0, "appended": "ab",
        "excl": "EEXIST", "creat_dir": "EISDIR", "nofollow": "ELOOP",
        "dangling_target": True, "unknown_flag": True, "dir_list": True, "notdir": "ENOTDIR",
        "relative": "ab", "openat": "ab", "o_path": "/tmp/new", "cloexec": True,
        "inheritable": True, "fifo": "x", "stdin": "OK", "proc_self": "OK",
        "grant_uid": 1000, "readonly": "EROFS",
    }, out
    denied = [(e["capability"], e["resource"]) for e in events(log)
              if e["event"] == "CapabilityDenied"]
    assert denied == [("FILE_WRITE", "/usr/ob-new")], denied
    return w


def test_ordinary_opens_behave(sandbox, shared_tmp):
    w = run_ordinary_opens(sandbox, shared_tmp)
    # on the host the new file belongs to the caller (the id-mapped grant)
    caller = 0 if sandbox.who == "root" else pwd.getpwnam(TEST_USER).pw_uid
    assert os.stat(os.path.join(w, "made")).st_uid == caller
    with open(os.path.join(w, "made")) as f:
        assert f.read() == "x"


def test_kernel_refusal_is_recorded(sandbox, shared_tmp):
    """A refusal that only the kernel's own check makes (a new file in the sandbox's /dev,
    a root-owned directory the program may not write): the broker's EACCES is recorded,
    where the prediction saw nothing to refuse."""
    log = os.path.join(shared_tmp, "audit.jsonl")
    script = ATTEMPT + """
attempt("dev", lambda: open("/dev/ob-new", "w"))
print(json.dumps(out))
"""
    p = sandbox.run("--audit-log", log, "/usr/bin/python3", "--", "-c", script)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {"dev": "EACCES"}
    denied = [(e["capability"], e["resource"]) for e in events(log)
              if e["event"] == "CapabilityDenied"]
    assert denied == [("FILE_WRITE", "/dev/ob-new")], denied


def test_broker_thread_cannot_be_reached_from_the_program_host_uid(ob_bin, shared_tmp):
    """Run as root, the broker thread holds the program's host uid inside the root
    supervisor (one memory): were the process dumpable, any process of that uid could open
    the thread's /proc/.../mem and write the supervisor's memory. It is left non-dumpable
    (notify-broker.c): tried from a process of that uid, during a run."""
    if os.geteuid() != 0:
        pytest.skip("the broker changes ids only when the supervisor is root")
    log = os.path.join(shared_tmp, "dump.jsonl")
    env = dict(os.environ, GCOV_ERROR_FILE="/dev/null")
    # sleep's loader opens its libraries: the broker is there then
    sup = subprocess.Popen([ob_bin, "sandbox", "run", "--audit-log", log, "/bin/sleep", "3"],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        uid, tid = None, None
        for _ in range(100):  # the broker's thread: the task of the supervisor with uid
            if os.path.exists(log) and uid is None:
                starts = [e for e in events(log) if e["event"] == "SandboxStart"]
                uid = starts[0]["protections"]["host_ids"]["uid"] if starts else None
            for t in os.listdir(f"/proc/{sup.pid}/task") if uid is not None else []:
                with open(f"/proc/{sup.pid}/task/{t}/status") as f:
                    if f"\nUid:\t{uid}\t" in f.read():
                        tid = t
            if tid:
                break
            subprocess.run(["sleep", "0.05"])
        assert tid, "no broker thread with the program's host uid"
        probe = ("import sys\nfor p in sys.argv[1:]:\n    try:\n        open(p, 'rb').close()\n"
                 "        print('OPEN', p)\n    except OSError as e:\n        print(e.errno, p)\n")
        target = f"/proc/{sup.pid}/task/{tid}"
        p = subprocess.run(["/usr/bin/python3", "-c", probe, target + "/mem", target + "/environ"],
                           capture_output=True, timeout=30,
                           preexec_fn=lambda: (os.setgroups([]), os.setresgid(uid, uid, uid),
                                               os.setresuid(uid, uid, uid)))
        assert b"OPEN" not in p.stdout, p.stdout
        assert p.stdout.count(b"13 ") == 2, (p.stdout, p.stderr)  # EACCES both
    finally:
        sup.kill()
        sup.wait()
