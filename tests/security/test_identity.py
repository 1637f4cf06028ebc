# SPDX-License-Identifier: LGPL-2.1-or-later
"""The program never holds the caller's identity or the host's privileges (SPEC §2.4, §3).

Run as root, the sandbox's ids are an unprivileged host range: root's files outside every
grant are out of reach even where the layout shows them (mode rx, /proc), and granted files
stay usable through id-mapped mounts. Nothing made through a grant carries privilege home:
set-user-ID and set-group-ID modes and security.* attributes are refused and recorded; the
host's device nodes cannot be changed. Each attack runs as root and as an unprivileged user."""
import json
import os
import shutil
import stat
import subprocess
import tempfile

import pytest

from conftest import ATTEMPT, RX, TEST_USER, events

IDENTITY_BASE = 0x70000000
ROOT_ONLY_PROC = ["/proc/slabinfo", "/proc/timer_list", "/proc/kpageflags",
                  "/proc/vmallocinfo"]


@pytest.fixture
def visible_dir():
    """A host directory outside /tmp (the sandbox has its own /tmp), so that mode rx shows it:
    0755, holding a 0600 file of root's."""
    d = tempfile.mkdtemp(prefix="ob-ident-", dir="/var/tmp")
    os.chmod(d, 0o755)
    secret = os.path.join(d, "root-only.txt")
    with open(secret, "w") as f:
        f.write("root's own")
    os.chmod(secret, 0o600)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def denied(log, capability, resource):
    return [e for e in events(log) if e["event"] == "CapabilityDenied"
            and e["capability"] == capability and e["resource"] == resource]


def violations(log, *syscalls):
    return [e for e in events(log) if e["event"] == "SandboxViolation"
            and e["syscall"] in syscalls]


def test_rx_reads_nothing_of_roots(sandbox, shared_tmp, visible_dir):
    secret = os.path.join(visible_dir, "root-only.txt")
    targets = ["/etc/shadow", secret] + ROOT_ONLY_PROC
    log = os.path.join(shared_tmp, "a.jsonl")
    script = ATTEMPT + f"""
for p in {targets!r}:
    attempt(p, lambda p=p: open(p, "rb").read(16))
attempt("/etc/passwd", lambda: open("/etc/passwd", "rb").read(16))
print(json.dumps(out))
"""
    p = sandbox.run(*RX(sandbox), "--audit-log", log, "/usr/bin/python3", "--", "-c", script)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["/etc/passwd"] == "OK"
    for t in targets:
        assert out[t] == "EACCES", (t, out)
        assert denied(log, "FILE_READ", t), (t, events(log))


def test_granted_file_of_the_caller_is_the_sandboxes(sandbox, shared_tmp):
    """A 0600 file of the caller's, granted, reads and writes; inside it is uid 1000's."""
    data = os.path.join(shared_tmp, "own.txt")
    with open(data, "w") as f:
        f.write("mine")
    if sandbox.who == "user":
        subprocess.run(["chown", TEST_USER, data], check=True)
    os.chmod(data, 0o600)
    script = ATTEMPT + f"""
import os
st = os.stat({data!r})
out["owner"] = st.st_uid
attempt("read", lambda: open({data!r}).read())
attempt("write", lambda: open({data!r}, "a").write("+"))
print(json.dumps(out))
"""
    p = sandbox.run("--cap", f"FILE_WRITE:{data}", "/usr/bin/python3", "--", "-c", script)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out == {"owner": 1000, "read": "OK", "write": "OK"}, out
    with open(data) as f:
        assert f.read() == "mine+"
    # on the host the file is still the caller's (an id-mapped grant writes with its uid)
    import pwd
    caller = 0 if sandbox.who == "root" else pwd.getpwnam(TEST_USER).pw_uid
    assert os.stat(data).st_uid == caller


def test_host_ids_unprivileged_when_root(sandbox, shared_tmp):
    if sandbox.who != "root":
        pytest.skip("rootless: the caller's own uid is the one a user may map")
    script = ATTEMPT + """
import os
out["map"] = open("/proc/self/uid_map").read().split()
attempt("setuid0", lambda: os.setuid(0))
attempt("chown", lambda: os.chown("/tmp/f", 1001, -1) if open("/tmp/f", "w") else None)
attempt("setgroups", lambda: os.setgroups([1001]))
print(json.dumps(out))
"""
    p = sandbox.run("/usr/bin/python3", "--", "-c", script)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    # a whole range inside, so that set*id and chown fail as on a normal system (EPERM,
    # not EINVAL for an unmapped id)
    assert out["map"] == ["0", str(IDENTITY_BASE), "65536"], out
    assert out["setuid0"] == out["chown"] == out["setgroups"] == "EPERM", out


def test_dry_run_names_the_host_ids(sandbox):
    p = sandbox.run("--dry-run", "/bin/true")
    assert p.returncode == 0, p.stderr
    ids = json.loads(p.stdout)["host_ids"]
    if sandbox.who == "root":
        assert ids == {"uid": IDENTITY_BASE + 1000, "gid": IDENTITY_BASE + 1000,
                       "range": [IDENTITY_BASE, 65536]}
    else:
        assert ids["range"] is None and ids["uid"] != 0


def test_no_setuid_or_file_capability_plant(sandbox, shared_tmp):
    """Through --workdir (the caller's directory), a copied binary made set-user-ID or given
    file capabilities; a set-user-ID file created; a set-group-ID directory: each refused and
    recorded, and nothing privileged left on the host."""
    work = os.path.join(shared_tmp, "work")
    os.mkdir(work)
    os.chmod(work, 0o777)
    log = os.path.join(shared_tmp, "a.jsonl")
    # a version-2 security.capability value granting cap_setuid (the format setcap writes)
    fcap = "b'\\x01\\x00\\x00\\x02\\x80\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00'"
    script = ATTEMPT + f"""
import os, shutil
shutil.copy("/bin/true", "t")
attempt("chmod", lambda: os.chmod("t", 0o4755))
attempt("chmod-sgid", lambda: os.chmod("t", 0o2755))
attempt("fchmod", lambda: os.fchmod(os.open("t", os.O_RDONLY), 0o6755))
attempt("creat", lambda: os.open("s", os.O_CREAT | os.O_WRONLY, 0o4755))
attempt("mkdir", lambda: os.mkdir("d", 0o2755))
attempt("fcap", lambda: os.setxattr("t", "security.capability", {fcap}))
attempt("user-xattr", lambda: os.setxattr("t", "user.note", b"fine"))
attempt("plain", lambda: os.chmod("t", 0o755))
print(json.dumps(out))
"""
    p = sandbox.run("--workdir", work, "--audit-log", log, "/usr/bin/python3", "--", "-c",
                    script)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    for k in ("chmod", "chmod-sgid", "fchmod", "creat", "mkdir", "fcap"):
        assert out[k] == "EPERM", (k, out)
    assert out["plain"] == "OK" and out["user-xattr"] in ("OK", "ENOTSUP"), out
    t = os.path.join(work, "t")
    assert stat.S_IMODE(os.stat(t).st_mode) == 0o755
    assert not os.path.exists(os.path.join(work, "s"))
    assert not os.path.exists(os.path.join(work, "d"))
    with pytest.raises(OSError):
        os.getxattr(t, "security.capability")
    assert len(violations(log, "chmod", "fchmodat")) >= 2, events(log)
    assert violations(log, "fchmod") and violations(log, "openat")
    assert violations(log, "mkdir", "mkdirat") and violations(log, "setxattr")
    # checked from the host as another user: an ordinary program, no privilege
    if os.geteuid() == 0:
        p = subprocess.run(["runuser", "-u", TEST_USER, "--", t], capture_output=True)
        assert p.returncode == 0


def test_host_device_nodes_unchanged(sandbox, shared_tmp):
    before = {n: os.stat(n) for n in ("/dev/null", "/dev/zero", "/dev/urandom")}
    script = ATTEMPT + """
import os
for n in ("/dev/null", "/dev/zero", "/dev/urandom"):
    attempt("chmod " + n, lambda n=n: os.chmod(n, 0o600))
    attempt("utime " + n, lambda n=n: os.utime(n, (0, 0)))
    attempt("touch " + n, lambda n=n: os.utime(n))
attempt("write", lambda: open("/dev/null", "w").write("still a sink"))
print(json.dumps(out))
"""
    p = sandbox.run("/usr/bin/python3", "--", "-c", script)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out.pop("write") == "OK"
    assert all(v in ("EPERM", "EROFS") for v in out.values()), out
    for n, st in before.items():
        now = os.stat(n)
        assert (now.st_mode, now.st_uid, now.st_gid) == (st.st_mode, st.st_uid, st.st_gid)
        assert now.st_mtime == st.st_mtime


def test_grant_without_id_mapped_mounts_degrades_openly(sandbox, shared_tmp):
    """sysfs has no id-mapped mounts: the grant is bound as is, still readable (0644), and
    SandboxDegraded says so when run as root (rootless maps no ids to begin with)."""
    target = "/sys/kernel/mm/transparent_hugepage/enabled"
    if not os.path.exists(target):
        pytest.skip("no " + target)
    log = os.path.join(shared_tmp, "a.jsonl")
    p = sandbox.run("--cap", f"FILE_READ:{target}", "--audit-log", log,
                    "/usr/bin/python3", "--", "-c", f"print(open({target!r}).read())")
    assert p.returncode == 0 and b"never" in p.stdout, p.stderr
    degraded = [e for e in events(log) if e["event"] == "SandboxDegraded"]
    if sandbox.who == "root":
        assert [e["protection"] for e in degraded] == ["idmapped-grants"], degraded
        assert target in degraded[0]["reason"]
    else:
        assert degraded == []


def test_rootless_rx_needs_allow_degraded(sandbox, shared_tmp):
    """Rootless, mode rx would let the program act as the caller on the whole visible host:
    refused (125) unless --allow-degraded, which SandboxDegraded then records."""
    if sandbox.who == "root":
        pytest.skip("root: the program gets unprivileged host ids")
    p = sandbox.run("--mode", "rx", "/bin/true")
    assert p.returncode == 125 and b"--allow-degraded" in p.stderr, p.stderr
    log = os.path.join(shared_tmp, "a.jsonl")
    p = sandbox.run("--mode", "rx", "--allow-degraded", "--audit-log", log, "/bin/true")
    assert p.returncode == 0, p.stderr
    assert [e["protection"] for e in events(log) if e["event"] == "SandboxDegraded"] == \
        ["identity"]


def test_too_many_binds_for_the_open_file_limit(sandbox, shared_tmp):
    """Run as root, every bind is an fd of the supervisor until the sandbox mounted it: past
    what RLIMIT_NOFILE's hard limit allows, the run fails closed (125) and says why."""
    if sandbox.who != "root":
        pytest.skip("rootless: the sandbox opens its binds itself")
    d = os.path.join(shared_tmp, "many")
    os.mkdir(d)
    for i in range(80):
        with open(os.path.join(d, f"f{i}"), "w") as f:
            f.write("x")
    cmd = ["prlimit", "--nofile=300:300", sandbox.ob_bin, "sandbox", "run", "--cap",
           f"FILE_READ:{d}/*", "/bin/true"]
    p = subprocess.run(cmd, capture_output=True, timeout=60)
    assert p.returncode == 125, (p.returncode, p.stderr)
    assert b"binds need as many open files" in p.stderr, p.stderr
    # with room for them, the same run works
    p = subprocess.run(cmd[2:], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
