# SPDX-License-Identifier: LGPL-2.1-or-later
"""The disk limit (issue 20; docs/design/disk.md): what the program adds to the host through
--workdir and FILE_WRITE directory grants is bounded in bytes and in files, the run goes on
past it with ENOSPC inside and one ResourceLimitExceeded (disk) on the record; what it wrote
is on the host when it ends, and the write-back touches nothing outside the directory.
Root and rootless."""
import json
import os
import signal
import stat
import subprocess

import pytest

from conftest import events, oci_backend_or_skip, write_script

PY = "#!/usr/bin/python3\n"


def run_logged(sandbox, d, *args, name="run"):
    log = os.path.join(d, name + ".jsonl")
    p = sandbox.run("--audit-log", log, *args)
    return p, events(log)


def limits_hit(ev):
    return [e for e in ev if e["event"] == "ResourceLimitExceeded"]


def start_limits(ev):
    return next(e for e in ev if e["event"] == "SandboxStart")["limits"]


def workdir(shared_tmp, name="work"):
    d = os.path.join(shared_tmp, name)
    os.mkdir(d)
    os.chmod(d, 0o777)
    return d


def give(sandbox, top):
    """TOP and what is in it made the caller's, as a user's own directory is: rootless, the
    overlay cannot change a file whose owner the sandbox does not map (EOVERFLOW; disk.md)."""
    if sandbox.who != "user" or os.geteuid() != 0:
        return
    import pwd
    pw = pwd.getpwnam("obtest")
    os.lchown(top, pw.pw_uid, pw.pw_gid)
    for dirpath, dirs, files in os.walk(top):
        for n in dirs + files:
            os.lchown(os.path.join(dirpath, n), pw.pw_uid, pw.pw_gid)


# MiBs written round-robin into four files: the total is bounded, not one file's size
FILL = PY + """
import errno, os, sys
files = [open("%s.%d" % (sys.argv[1], i), "wb", buffering=0) for i in range(4)]
n = 0
try:
    for i in range(64):
        files[i % 4].write(b"x" * (1 << 20))
        n += 1
    print("WROTE", n)
except OSError as e:
    print(errno.errorcode[e.errno], n)
for i, f in enumerate(files):
    f.close()
    if len(sys.argv) > 2:  # the run goes on: room again once the files are gone
        os.remove("%s.%d" % (sys.argv[1], i))
if len(sys.argv) > 2:
    open(sys.argv[2], "w").write("after")
"""
# the supervisor looks at the layer at least every 100 ms (disk.h): the full layer is seen
# before the program empties it
FILL = FILL.replace("for i, f in enumerate(files):", "import time; time.sleep(0.5)\nfor i, f in enumerate(files):")


def test_bytes_bounded_in_workdir(sandbox, shared_tmp):
    work = workdir(shared_tmp)
    script = write_script(shared_tmp, "fill.py", FILL)
    p, ev = run_logged(sandbox, shared_tmp, "--limit", "disk=8M", "--memory", "512M",
                       "--workdir", work, script, "--", "/workspace/big",
                       "/workspace/after.txt")
    assert p.returncode == 0, p.stderr
    word, n = p.stdout.decode().split()
    assert word == "ENOSPC" and int(n) <= 8, p.stdout
    assert [(e["resource"], e["limit"]) for e in limits_hit(ev)] == [("disk", "8M")]
    assert start_limits(ev)["disk"] == "8M"
    # the program's last state is the host's: big removed, after.txt there
    assert sorted(os.listdir(work)) == ["after.txt"]
    assert open(os.path.join(work, "after.txt")).read() == "after"


def test_bytes_bounded_in_a_write_grant(sandbox, shared_tmp):
    out = workdir(shared_tmp, "out")
    script = write_script(shared_tmp, "fill.py", FILL)
    p, ev = run_logged(sandbox, shared_tmp, "--limit", "disk=4M", "--memory", "512M",
                       "--cap", f"FILE_WRITE:{out}/**", script, "--", f"{out}/big")
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().split()[0] == "ENOSPC", p.stdout
    assert "disk" in {e["resource"] for e in limits_hit(ev)}
    assert sum(os.path.getsize(os.path.join(out, f"big.{i}")) for i in range(4)) <= 4 << 20


MANY = PY + """
import errno, os
n = 0
try:
    for n in range(1000000):
        open("/workspace/f%d" % n, "w").close()
    print("MADE", n)
except OSError as e:
    print(errno.errorcode[e.errno], n)
"""


def test_file_count_bounded(sandbox, shared_tmp):
    """A million empty files cost no byte: the inode count is bounded too (1 per 4 KiB of
    the limit, at least 1024)."""
    work = workdir(shared_tmp)
    script = write_script(shared_tmp, "many.py", MANY)
    p, ev = run_logged(sandbox, shared_tmp, "--limit", "disk=4M", "--workdir", work, script)
    assert p.returncode == 0, p.stderr
    word, n = p.stdout.decode().split()
    assert word == "ENOSPC" and 900 <= int(n) <= 1024, p.stdout
    assert "disk" in {e["resource"] for e in limits_hit(ev)}
    assert len(os.listdir(work)) == int(n)


GROW = PY + """
import errno, sys
try:
    with open(sys.argv[1], "ab", buffering=0) as f:
        for i in range(16):
            f.write(b"x" * (1 << 20))
    print("WROTE")
except OSError as e:
    print(errno.errorcode[e.errno])
"""


def grown_file(shared_tmp):
    out = workdir(shared_tmp, "out")
    log = os.path.join(out, "log.txt")
    open(log, "w").close()
    os.chmod(log, 0o666)
    return log, write_script(shared_tmp, "grow.py", GROW)


def test_a_file_granted_alone_is_bounded(sandbox, shared_tmp):
    """A FILE_WRITE grant of one file has no overlay: RLIMIT_FSIZE stops it at the limit."""
    log, script = grown_file(shared_tmp)
    p, ev = run_logged(sandbox, shared_tmp, "--limit", "disk=2M", "--cap", f"FILE_WRITE:{log}",
                       script, "--", log)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == b"EFBIG", p.stdout
    assert os.path.getsize(log) == 2 << 20
    assert "disk" in {e["resource"] for e in limits_hit(ev)}


def test_default_limit_shown_and_not_hit(sandbox, shared_tmp):
    work = workdir(shared_tmp)
    p, ev = run_logged(sandbox, shared_tmp, "--workdir", work, "/bin/sh", "--", "-c",
                       "echo hi > /workspace/a.txt")
    assert p.returncode == 0, p.stderr
    assert start_limits(ev)["disk"] == "128M"
    assert not limits_hit(ev)
    assert open(os.path.join(work, "a.txt")).read() == "hi\n"


ATTACKS = PY + """
import os, shutil
os.chdir("/workspace")
# a host symlink to a directory outside: removed and made a directory, written into
os.remove("hostlink"); os.mkdir("hostlink"); open("hostlink/x", "w").write("attack")
# a host symlink to a file outside: replaced by a file
os.remove("victim.txt"); open("victim.txt", "w").write("attack")
# a host symlink left alone but written through: the sandbox has no outside there
try:
    open("keeplink/y", "w").write("attack"); print("THROUGH keeplink")
except OSError as e:
    print("keeplink", type(e).__name__)
# a symlink of ours pointing outside, a hard link, a FIFO, a removed host file
os.symlink(os.environ["OUTSIDE"], "mylink")
open("a.txt", "w").write("a"); os.link("a.txt", "b.txt")
os.mkfifo("fifo")
os.remove("gone.txt")
# a directory of the host renamed (the overlay says EXDEV; shutil copies)
shutil.move("olddir", "newdir")
print("DONE")
"""


def test_write_back_stays_in_the_directory(sandbox, shared_tmp):
    work = workdir(shared_tmp)
    outside = os.path.join(shared_tmp, "outside")
    os.mkdir(outside)
    with open(os.path.join(outside, "target.txt"), "w") as f:
        f.write("outside")
    os.symlink(outside, os.path.join(work, "hostlink"))
    os.symlink(outside, os.path.join(work, "keeplink"))
    os.symlink(os.path.join(outside, "target.txt"), os.path.join(work, "victim.txt"))
    with open(os.path.join(work, "gone.txt"), "w") as f:
        f.write("gone")
    os.mkdir(os.path.join(work, "olddir"))
    with open(os.path.join(work, "olddir", "in.txt"), "w") as f:
        f.write("in")
    for dirpath, dirs, files in os.walk(work):
        os.chmod(dirpath, 0o777)
        for f in files:
            os.chmod(os.path.join(dirpath, f), 0o666)
    give(sandbox, work)
    script = write_script(shared_tmp, "attacks.py", ATTACKS)
    p, ev = run_logged(sandbox, shared_tmp, "--workdir", work, "--env", f"OUTSIDE={outside}",
                       script)
    assert p.returncode == 0, p.stderr
    assert b"DONE" in p.stdout and b"THROUGH" not in p.stdout, p.stdout
    assert sorted(os.listdir(outside)) == ["target.txt"]
    assert open(os.path.join(outside, "target.txt")).read() == "outside"
    assert os.path.isdir(os.path.join(work, "hostlink"))
    assert not os.path.islink(os.path.join(work, "hostlink"))
    assert open(os.path.join(work, "hostlink", "x")).read() == "attack"
    assert not os.path.islink(os.path.join(work, "victim.txt"))
    assert open(os.path.join(work, "victim.txt")).read() == "attack"
    assert os.readlink(os.path.join(work, "mylink")) == outside
    assert os.stat(os.path.join(work, "b.txt")).st_nlink == 1
    assert not os.path.exists(os.path.join(work, "fifo"))
    assert not os.path.exists(os.path.join(work, "gone.txt"))
    assert not os.path.exists(os.path.join(work, "olddir"))
    assert open(os.path.join(work, "newdir", "in.txt")).read() == "in"
    # new entries are the caller's on the host
    me = os.geteuid() if sandbox.who == "root" else int(
        subprocess.run(["id", "-u", "obtest"], capture_output=True).stdout)
    assert os.lstat(os.path.join(work, "b.txt")).st_uid == me
    assert os.lstat(os.path.join(work, "mylink")).st_uid == me
    assert b"fifo" in p.stderr  # said: not written back


def test_set_id_bits_never_reach_the_host(sandbox, shared_tmp):
    work = workdir(shared_tmp)
    script = write_script(shared_tmp, "suid.py", PY + """
import os
open("/workspace/s", "w").write("x")
os.chmod("/workspace/s", 0o755)
for mode in (0o4755, 0o2755):
    try:
        os.chmod("/workspace/s", mode); print("SET", oct(mode))
    except OSError as e:
        print("refused", e.errno)
""")
    p, ev = run_logged(sandbox, shared_tmp, "--workdir", work, script)
    assert p.returncode == 0, p.stderr
    assert b"SET" not in p.stdout
    assert stat.S_IMODE(os.stat(os.path.join(work, "s")).st_mode) == 0o755


@pytest.mark.parametrize("name", ["runc", "crun", "gvisor"])
def test_oci_backends_as_root(ob_bin, shared_tmp, name):
    """runc, crun and gVisor as root: the supervisor makes the overlays in the bundle; the
    same bound, event and write-back as natively."""
    oci_backend_or_skip(ob_bin, name)
    work = workdir(shared_tmp)
    log = os.path.join(shared_tmp, "oci.jsonl")
    script = write_script(shared_tmp, "fill.py", FILL)
    p = subprocess.run([ob_bin, "sandbox", "run", "--backend", name, "--limit", "disk=4M",
                        "--memory", "512M", "--audit-log", log, "--workdir", work, script,
                        "--", "/workspace/big", "/workspace/after.txt"],
                       capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr
    word, n = p.stdout.decode().split()
    assert word == "ENOSPC" and int(n) <= 4, p.stdout
    assert "disk" in {e["resource"] for e in limits_hit(events(log))}
    assert sorted(os.listdir(work)) == ["after.txt"]
    assert os.stat(os.path.join(work, "after.txt")).st_uid == os.geteuid()


@pytest.mark.parametrize("name", ["runc", "crun", "gvisor"])
def test_oci_file_granted_alone(ob_bin, shared_tmp, name):
    oci_backend_or_skip(ob_bin, name)
    log, script = grown_file(shared_tmp)
    audit = os.path.join(shared_tmp, "oci.jsonl")
    p = subprocess.run([ob_bin, "sandbox", "run", "--backend", name, "--limit", "disk=2M",
                        "--audit-log", audit, "--cap", f"FILE_WRITE:{log}", script, "--", log],
                       capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == b"EFBIG", p.stdout
    assert os.path.getsize(log) == 2 << 20
    assert "disk" in {e["resource"] for e in limits_hit(events(audit))}


def test_gvisor_rootless_fails_closed(ob_bin, sandbox, shared_tmp):
    """Rootless gVisor binds --workdir directly (the overlays are the root supervisor's): no
    bound without --allow-degraded, and with it SandboxDegraded says so. (As root gVisor gets
    the overlays: test_oci_backends_as_root.)"""
    if sandbox.who != "user":
        pytest.skip("the unprivileged case")
    oci_backend_or_skip(ob_bin, "gvisor", "user")
    work = workdir(shared_tmp)
    p = sandbox.run("--backend", "gvisor", "--workdir", work, "/bin/true")
    assert p.returncode == 125 and b"--limit disk" in p.stderr, p.stderr
    log = os.path.join(shared_tmp, "oci.jsonl")
    p = sandbox.run("--backend", "gvisor", "--allow-degraded", "--audit-log", log, "--workdir",
                    work, "/bin/true")
    assert p.returncode == 0, p.stderr
    assert "disk" in {e["protection"] for e in events(log) if e["event"] == "SandboxDegraded"}


def test_dry_run_marks_the_overlays(sandbox, shared_tmp):
    work = workdir(shared_tmp)
    out = workdir(shared_tmp, "out")
    ro = workdir(shared_tmp, "ro")
    p = sandbox.run("--dry-run", "--workdir", work, "--cap", f"FILE_WRITE:{out}/**",
                    "--cap", f"FILE_READ:{ro}/**", "/bin/true")
    assert p.returncode == 0, p.stderr
    plan = json.loads(p.stdout)
    overlaid = {m["src"] for m in plan["mounts"] if m.get("disk_overlay")}
    assert overlaid == {work, out}, plan["mounts"]
    assert plan["limits"]["disk"] == "128M"


def test_write_back_goes_to_the_bound_directory(sandbox, shared_tmp):
    """The granted path swapped during the run (renamed away, a symlink to another directory
    put in its place): the write-back goes to the directory that was bound, opened when the
    run started, and nothing reaches the symlink's target."""
    work = workdir(shared_tmp)
    moved = os.path.join(shared_tmp, "moved")
    outside = workdir(shared_tmp, "outside")
    script = write_script(shared_tmp, "late.py", PY + """
import sys
print("READY", flush=True)
sys.stdin.readline()
open("/workspace/late.txt", "w").write("late")
print("WROTE", flush=True)
""")
    cmd = [sandbox.ob_bin, "sandbox", "run", "--workdir", work, script]
    if sandbox.who == "user" and os.geteuid() == 0:
        cmd = ["runuser", "-p", "-u", "obtest", "--"] + cmd
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        assert p.stdout.readline() == b"READY\n"
        os.rename(work, moved)
        os.symlink(outside, work)
        p.stdin.write(b"go\n")
        p.stdin.close()
        p.wait(timeout=60)
        out, err = p.stdout.read(), p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0 and out == b"WROTE\n", (out, err)
    assert os.listdir(outside) == []
    assert open(os.path.join(moved, "late.txt")).read() == "late"


def test_no_overlay_fails_closed(sandbox, shared_tmp):
    """A kernel that cannot mount the overlay (simulated: fsopen fails with ENOSYS): the run
    is refused, unless --allow-degraded, which binds the workdir as is and records
    SandboxDegraded (disk)."""
    enosys = os.environ.get("OB_ENOSYS")
    if not enosys:
        pytest.skip("OB_ENOSYS not set: run through `meson test`")
    work = workdir(shared_tmp)
    log = os.path.join(shared_tmp, "deg.jsonl")

    def run(*args):
        cmd = [enosys, "fsopen", sandbox.ob_bin, "sandbox", "run", *args]
        if sandbox.who == "user" and os.geteuid() == 0:
            cmd = ["runuser", "-p", "-u", "obtest", "--"] + cmd
        return subprocess.run(cmd, capture_output=True, timeout=60,
                              env=dict(os.environ, GCOV_ERROR_FILE="/dev/null"))

    p = run("--workdir", work, "/bin/sh", "--", "-c", "echo no > /workspace/a.txt")
    assert p.returncode == 125 and b"--limit disk overlay" in p.stderr, p.stderr
    assert os.listdir(work) == []
    p = run("--allow-degraded", "--audit-log", log, "--workdir", work, "/bin/sh", "--", "-c",
            "echo direct > /workspace/a.txt")
    assert p.returncode == 0, p.stderr
    deg = [e for e in events(log) if e["event"] == "SandboxDegraded"]
    assert [e["protection"] for e in deg] == ["disk"], deg
    assert "could not be mounted" in deg[0]["reason"]
    assert open(os.path.join(work, "a.txt")).read() == "direct\n"


@pytest.mark.parametrize("signo", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_keeps_its_writes(sandbox, shared_tmp, signo):
    """Ctrl-C or SIGTERM to omnibase while the program runs: the sandbox ends, what it wrote
    is written back, SandboxExit is recorded, and omnibase then ends by the same signal."""
    work = workdir(shared_tmp)
    log = os.path.join(shared_tmp, "sig.jsonl")
    script = write_script(shared_tmp, "slow.py", PY + """
import time
open("/workspace/saved.txt", "w").write("saved")
print("READY", flush=True)
time.sleep(60)
""")
    cmd = [sandbox.ob_bin, "sandbox", "run", "--audit-log", log, "--workdir", work, script]
    if sandbox.who == "user" and os.geteuid() == 0:
        cmd = ["runuser", "-p", "-u", "obtest", "--"] + cmd
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=dict(os.environ, GCOV_ERROR_FILE="/dev/null"))
    try:
        assert p.stdout.readline() == b"READY\n"
        target = p.pid
        if cmd[0] == "runuser":  # omnibase is runuser's child
            with open(f"/proc/{p.pid}/task/{p.pid}/children") as f:
                target = int(f.read().split()[0])
        os.kill(target, signo)
        p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    if cmd[0] != "runuser":
        assert p.returncode == -signo, p.stderr.read()
    assert open(os.path.join(work, "saved.txt")).read() == "saved"
    assert events(log)[-1]["event"] == "SandboxExit"


def test_modes_that_shut_the_owner_out(sandbox, shared_tmp):
    """Files and directories the program leaves unreadable to itself (0000) are written back
    all the same, with those modes (rootless, the supervisor is subject to them)."""
    work = workdir(shared_tmp)
    script = write_script(shared_tmp, "lock.py", PY + """
import os
os.mkdir("/workspace/locked")
open("/workspace/locked/f", "w").write("x")
os.chmod("/workspace/locked/f", 0)
os.chmod("/workspace/locked", 0)
""")
    p = sandbox.run("--workdir", work, script)
    assert p.returncode == 0, p.stderr
    # nothing but a coverage build's own "profiling:" complaints as the unprivileged user
    assert all(line.startswith(b"profiling:") for line in p.stderr.splitlines()), p.stderr
    locked = os.path.join(work, "locked")
    assert stat.S_IMODE(os.stat(locked).st_mode) == 0
    assert stat.S_IMODE(os.stat(os.path.join(locked, "f")).st_mode) == 0
    assert open(os.path.join(locked, "f")).read() == "x"  # the test runs as root
