# SPDX-License-Identifier: LGPL-2.1-or-later
"""`omnibase sandbox learn` (SPEC §3, docs/design/learn.md): one run recorded, the capability
file it needed written, and `sandbox run --capabilities` repeating it without a denial. As root
and as the unprivileged user."""
import json
import os
import subprocess

import pytest

from conftest import TEST_USER, events, skip_expected, write_script

SCRIPT = r"""
import socket, subprocess, sys
data, out, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
print(open(data + "/in.txt").read().strip())
with open(out + "/result.txt", "w") as f:
    f.write("written by the script\n")
print(open(out + "/result.txt").read().strip())
subprocess.run(["true"], check=True)
print(subprocess.run(["date", "+%Y"], capture_output=True, text=True, check=True).stdout.strip())
if port:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    print(s.recv(64).decode().strip())
    s.close()
"""


def omnibase(sandbox, *args, env_extra=None):
    """omnibase ARGS as WHO runs it (Sandbox.run is for `sandbox run` only)."""
    cmd = [sandbox.ob_bin, *args]
    env = dict(os.environ, **(env_extra or {}))
    if sandbox.who == "user" and os.geteuid() == 0:
        cmd = ["runuser", "-p", "-u", TEST_USER, "--"] + cmd
        env["GCOV_ERROR_FILE"] = "/dev/null"
    return subprocess.run(cmd, capture_output=True, timeout=120, env=env)


def learn(sandbox, *args, **kw):
    # rootless without subordinate ids: the learning layout (rx) shows the caller's own
    # files, which SPEC §2.4 allows only with --allow-degraded
    degraded = ("--allow-degraded",) if sandbox.who == "user" else ()
    return omnibase(sandbox, "sandbox", "learn", *degraded, *args, **kw)


def make_job(shared_tmp):
    """DATA/in.txt to read and OUT to write into, both outside any workdir; the script."""
    data, out = os.path.join(shared_tmp, "data"), os.path.join(shared_tmp, "out")
    os.mkdir(data)
    os.mkdir(out)
    os.chmod(data, 0o755)
    os.chmod(out, 0o777)
    with open(os.path.join(data, "in.txt"), "w") as f:
        f.write("the input\n")
    os.chmod(os.path.join(data, "in.txt"), 0o644)
    return data, out, write_script(shared_tmp, "job.py", SCRIPT)


def grants(path):
    with open(path) as f:
        doc = json.load(f)
    assert doc["version"] == 1
    return [(c["type"], c["resource"]) for c in doc["capabilities"]]


def assert_tight(caps, homes=()):
    for _, res in caps:
        assert res not in ("*", "/", "/**") and not res.endswith("/*"), caps
        for home in homes:
            assert res not in (home, home + "/**"), caps


def test_learn_then_run_repeats_without_denial(sandbox, shared_tmp, servers):
    data, out, script = make_job(shared_tmp)
    srv = servers()
    caps, log1, log2 = (os.path.join(shared_tmp, n) for n in ("caps.json", "l1", "l2"))
    p = learn(sandbox, "--learn-network", "--output", caps, "--audit-log", log1, script, "--",
              data, out, str(srv.port))
    assert p.returncode == 0, p.stderr
    assert b"the input" in p.stdout and b"written by the script" in p.stdout
    assert b"hello 1" in p.stdout  # the connection was made
    # the learning run's write went to a scratch copy: the host is untouched
    assert os.listdir(out) == []
    learned = grants(caps)
    assert ("FILE_READ", data + "/in.txt") in learned
    assert ("FILE_WRITE", out) in learned  # a new file: its directory
    assert ("EXTERNAL_COMMAND", "true") in learned
    assert ("EXTERNAL_COMMAND", "date") in learned
    assert ("NETWORK_CONNECT", "127.0.0.1:%d" % srv.port) in learned
    assert_tight(learned)
    # observations are not denials
    assert not [e for e in events(log1) if e["event"] == "CapabilityDenied"]

    assert omnibase(sandbox, "caps", "check", caps).returncode == 0

    p = sandbox.run("--capabilities", caps, "--audit-log", log2, script, "--", data, out,
                    str(srv.port))
    assert p.returncode == 0, p.stderr
    assert b"hello 2" in p.stdout
    assert not [e for e in events(log2) if e["event"] == "CapabilityDenied"]
    with open(os.path.join(out, "result.txt")) as f:
        assert f.read() == "written by the script\n"


def test_learning_writes_never_reach_the_host(sandbox, shared_tmp):
    data, out, _ = make_job(shared_tmp)
    target = os.path.join(data, "in.txt")
    workdir = os.path.join(shared_tmp, "wd")
    os.mkdir(workdir)
    os.chmod(workdir, 0o777)
    script = write_script(shared_tmp, "w.sh", """#!/bin/sh
echo changed >> %s
cat %s
echo new > %s/new.txt
cat %s/new.txt
echo own > /tmp/own.txt
echo kept > /workspace/kept.txt
""" % (target, target, out, out))
    caps = os.path.join(shared_tmp, "caps.json")
    p = learn(sandbox, "--output", caps, "--workdir", workdir, script)
    assert p.returncode == 0, p.stderr
    # the program saw its own writes (the scratch copies)...
    assert p.stdout == b"the input\nchanged\nnew\n"
    # ...and the host did not
    with open(target) as f:
        assert f.read() == "the input\n"
    assert os.listdir(out) == []
    # the workdir is the run's own, as in any run
    with open(os.path.join(workdir, "kept.txt")) as f:
        assert f.read() == "kept\n"
    learned = grants(caps)
    assert ("FILE_WRITE", target) in learned
    assert ("FILE_WRITE", out) in learned
    # the sandbox's own /tmp and the workdir need no grant
    assert not [c for c in learned if c[1].startswith("/tmp/own") or "/workspace" in c[1]
                or c[1].startswith(workdir)]


def test_secrets_read_are_learned(sandbox, shared_tmp):
    src = os.path.join(shared_tmp, "pw")
    with open(src, "w") as f:
        f.write("s3cret")
    os.chmod(src, 0o644)
    script = write_script(shared_tmp, "sec.sh", "#!/bin/sh\ncat /run/secrets/db_password\n")
    caps = os.path.join(shared_tmp, "caps.json")
    secrets = ("--secret", "db_password=@" + src, "--secret", "unused=@" + src)
    p = learn(sandbox, *secrets, "--output", caps, script)
    assert p.returncode == 0 and p.stdout == b"s3cret", p.stderr
    learned = grants(caps)
    assert ("SECRET_ACCESS", "db_password") in learned
    assert ("SECRET_ACCESS", "unused") not in learned  # given, never read
    p = sandbox.run(*secrets, "--capabilities", caps, script)
    assert p.returncode == 0 and p.stdout == b"s3cret", p.stderr


def test_network_refused_and_recorded_without_learn_network(sandbox, shared_tmp, servers):
    data, out, script = make_job(shared_tmp)
    srv = servers()
    caps = os.path.join(shared_tmp, "caps.json")
    p = learn(sandbox, "--output", caps, script, "--", data, out, str(srv.port))
    assert p.returncode != 0  # the connect failed
    assert srv.count == 0
    assert ("NETWORK_CONNECT", "127.0.0.1:%d" % srv.port) in grants(caps)


def test_home_is_never_granted_whole(sandbox, shared_tmp):
    home = os.path.join(shared_tmp, "home")
    deep = os.path.join(home, "proj", "src")
    os.makedirs(deep)
    for d in (home, os.path.join(home, "proj"), deep):
        os.chmod(d, 0o755)
    names = []
    for d in (home, deep):
        for i in range(12):
            names.append(os.path.join(d, "f%d.txt" % i))
            with open(names[-1], "w") as f:
                f.write("x")
            os.chmod(names[-1], 0o644)
    script = write_script(shared_tmp, "many.py", """
import os, sys
for n in sys.argv[1:]:
    open(n).read()
os.listdir(%r)
""" % home)
    caps = os.path.join(shared_tmp, "caps.json")
    p = learn(sandbox, "--output", caps, script, "--", *names, env_extra={"HOME": home})
    assert p.returncode == 0, p.stderr
    learned = grants(caps)
    assert_tight(learned, homes=(home, "/root", shared_tmp))
    # beneath the home, many files of one directory make its tree; the home's own files
    # stay one grant each
    assert ("FILE_READ", deep + "/**") in learned
    assert ("FILE_READ", os.path.join(home, "f3.txt")) in learned
    # the listing of the home shows what the grants bind there
    p = sandbox.run("--capabilities", caps, script, "--", *names, env_extra={"HOME": home})
    assert p.returncode == 0, p.stderr


def test_merged_with_given_grants(sandbox, shared_tmp):
    data, out, script = make_job(shared_tmp)
    caps = os.path.join(shared_tmp, "caps.json")
    p = learn(sandbox, "--cap", "FILE_READ:%s/**" % data, "--cap", "EXTERNAL_COMMAND:git",
              "--output", caps, script, "--", data, out, "0")
    assert p.returncode == 0, p.stderr
    learned = grants(caps)
    assert ("FILE_READ", data + "/**") in learned
    assert ("EXTERNAL_COMMAND", "git") in learned
    assert ("FILE_READ", data + "/in.txt") not in learned  # the given grant covers it


@pytest.mark.parametrize("args,message", [
    ((), b"--output FILE is required"),
    (("--output", ""), b"--output: expected a file name"),
    (("--output", "/nonexistent-dir/caps.json"), b"cannot create a file beside it"),
    (("--output", "x.json", "--backend", "runc"), b"learning needs the native backend"),
])
def test_bad_usage_is_refused(sandbox, shared_tmp, args, message):
    script = write_script(shared_tmp, "t.sh", "#!/bin/sh\ntrue\n")
    p = learn(sandbox, *args, script)
    assert p.returncode == 125, p.stderr
    assert p.stderr.startswith(b"omnibase: ") and message in p.stderr, p.stderr


def test_run_has_no_learning_options(sandbox, shared_tmp):
    script = write_script(shared_tmp, "t.sh", "#!/bin/sh\ntrue\n")
    p = sandbox.run("--output", "x", script)
    assert p.returncode == 125
    assert b"--output is an option of `sandbox learn`" in p.stderr
    p = sandbox.run("--learn-network", script)
    assert p.returncode == 125


def test_help(sandbox):
    p = omnibase(sandbox, "sandbox", "learn", "--help")
    assert p.returncode == 0 and b"--learn-network" in p.stdout and b"--output FILE" in p.stdout
    p = omnibase(sandbox, "sandbox", "--help")
    assert b"learn --output FILE" in p.stdout


@pytest.fixture
def visible_tmp():
    """A directory outside /tmp, which the learning layout (mode rx) shows as the host has it
    (pytest's and shared_tmp's directories are under /tmp, which the sandbox's own hides)."""
    import shutil
    import tempfile
    d = tempfile.mkdtemp(prefix="ob-learn-", dir="/var/tmp")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_visible_host_files_and_commands(sandbox, shared_tmp, visible_tmp):
    data = os.path.join(visible_tmp, "conf.txt")
    with open(data, "w") as f:
        f.write("setting=1\n")
    os.chmod(data, 0o644)
    if sandbox.who == "user" and os.geteuid() == 0:  # the caller's own file, as root's is root's
        import pwd
        pw = pwd.getpwnam(TEST_USER)
        os.chown(data, pw.pw_uid, pw.pw_gid)
    tool = os.path.join(visible_tmp, "mytool")
    import shutil
    shutil.copy("/bin/true", tool)
    os.chmod(tool, 0o755)
    script = write_script(shared_tmp, "v.py", r"""
import errno, os, subprocess, sys
conf, tool, vis = sys.argv[1:4]
print(open(conf).read().strip())
subprocess.run([tool], check=True)
with open(conf, "a") as f:          # read-only in the layout: a scratch copy
    f.write("setting=2\n")
print(open(conf).read().replace("\n", " ").strip())
for mode, path in (("x", conf), ("w", vis)):
    try:
        open(path, mode)
    except OSError as e:
        print(errno.errorcode[e.errno])
with open(conf, "w") as f:          # truncated: the scratch copy, not the host
    f.write("fresh\n")
print(open(conf).read().strip())
fd = os.open(conf, os.O_RDONLY | os.O_NOFOLLOW)  # the scratch copy is a file, not a link
print(os.read(fd, 64).decode().strip())
""")
    caps = os.path.join(shared_tmp, "caps.json")
    p = learn(sandbox, "--output", caps, script, "--", data, tool, visible_tmp)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().split("\n") == [
        "setting=1", "setting=1 setting=2", "EEXIST", "EISDIR", "fresh", "fresh", ""]
    with open(data) as f:
        assert f.read() == "setting=1\n"
    learned = grants(caps)
    assert ("FILE_WRITE", data) in learned
    assert ("EXTERNAL_COMMAND", tool) in learned  # not on PATH: by its path
    log = os.path.join(shared_tmp, "log")
    p = sandbox.run("--capabilities", caps, "--audit-log", log, script, "--", data, tool,
                    visible_tmp)
    assert b"setting=1 setting=2" in p.stdout, p.stderr
    assert not [e for e in events(log) if e["event"] == "CapabilityDenied"]
    with open(data) as f:
        assert f.read() == "fresh\n"  # the repeat writes for real, as granted


def test_hidden_files_can_be_looked_at(sandbox, shared_tmp):
    """Files the learning layout hides (a host /tmp directory) answer stat and access, not only
    open: a tool that looks before it reads works while learning, and its repeat too."""
    data, _, _ = make_job(shared_tmp)
    script = write_script(shared_tmp, "look.sh", """#!/bin/sh
test -r %s/in.txt && echo readable
ls %s
ls -d %s/missing 2>/dev/null || echo missing
""" % (data, data, data))
    caps, log = os.path.join(shared_tmp, "caps.json"), os.path.join(shared_tmp, "log")
    p = learn(sandbox, "--output", caps, script)
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"readable\nin.txt\nmissing\n"
    learned = grants(caps)
    # the file looked at; the listing of its directory is the repeat's skeleton, not a grant
    assert ("FILE_READ", data + "/in.txt") in learned
    assert ("FILE_READ", data) not in learned
    assert not [c for c in learned if c[1].endswith("/missing")]
    p = sandbox.run("--capabilities", caps, "--audit-log", log, script)
    assert p.returncode == 0 and p.stdout == b"readable\nin.txt\nmissing\n", p.stderr
    assert not [e for e in events(log) if e["event"] == "CapabilityDenied"]


def test_dry_run_shows_the_learning_plan(sandbox, shared_tmp):
    script = write_script(shared_tmp, "t.sh", "#!/bin/sh\ntrue\n")
    out = os.path.join(shared_tmp, "never.json")
    p = learn(sandbox, "--learn-network", "--dry-run", "--output", out, script)
    assert p.returncode == 0, p.stderr
    plan = json.loads(p.stdout)
    assert plan["mode"] == "rx"
    assert "NETWORK_CONNECT:0.0.0.0/0" in plan["capabilities"]
    # Landlock lets anything run while learning: EXECUTE (1) beneath /
    assert [r for r in plan["landlock"]["rules"] if r["path"] == "/" and r["access"] & 1]
    assert not os.path.exists(out)


def test_scratch_copies_are_bounded(sandbox, shared_tmp, visible_tmp):
    """The host bytes copied into scratch files stay within the tmpfs limit."""
    big = os.path.join(visible_tmp, "big.bin")
    with open(big, "wb") as f:
        f.write(b"x" * (3 << 20))
    os.chmod(big, 0o644)
    script = write_script(shared_tmp, "big.py", r"""
import errno, os, sys
os.chdir(os.path.dirname(sys.argv[1]))
print(os.path.exists(os.path.basename(sys.argv[1])))  # a relative stat
try:
    open(sys.argv[1], "a")
except OSError as e:
    print(errno.errorcode[e.errno])
""")
    caps = os.path.join(shared_tmp, "caps.json")
    p = learn(sandbox, "--limit", "tmpfs=1M", "--output", caps, script, "--", big)
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"True\nENOSPC\n"
    assert os.path.getsize(big) == 3 << 20


def test_created_directories_are_learned_by_their_parent(sandbox, shared_tmp):
    """mkdir outside the workdir is recorded, not served (EROFS/ENOENT while learning): the
    file grants the directory it goes into, and the repeat makes it."""
    _, out, _ = make_job(shared_tmp)
    script = write_script(shared_tmp, "mk.sh", """#!/bin/sh
mkdir %s/sub 2>/dev/null
echo x > %s/sub/f 2>/dev/null
exit 0
""" % (out, out))
    caps = os.path.join(shared_tmp, "caps.json")
    p = learn(sandbox, "--output", caps, script)
    assert p.returncode == 0, p.stderr
    assert os.listdir(out) == []
    assert ("FILE_WRITE", out) in grants(caps)
    p = sandbox.run("--capabilities", caps, script)
    assert p.returncode == 0, p.stderr
    assert os.path.exists(os.path.join(out, "sub", "f"))


def test_host_files_are_owned_as_a_grant_shows_them(sandbox, shared_tmp, visible_tmp):
    """Run as root, the learning layout shows the caller's files as the sandbox uid's own (as
    a grant's id-mapped bind will): a tool that checks ownership or reads a private file
    behaves as in the repeat."""
    if sandbox.who != "root" or os.geteuid() != 0:
        skip_expected("id-mapped binds are made for runs as root")
    secret = os.path.join(visible_tmp, "private.txt")
    with open(secret, "w") as f:
        f.write("mine\n")
    os.chmod(secret, 0o600)
    script = write_script(shared_tmp, "own.sh", "#!/bin/sh\nstat -c %%u %s\ncat %s\n"
                          % (secret, secret))
    caps, log = os.path.join(shared_tmp, "caps.json"), os.path.join(shared_tmp, "log")
    p = learn(sandbox, "--output", caps, script)
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"1000\nmine\n"
    assert ("FILE_READ", secret) in grants(caps)
    p = sandbox.run("--capabilities", caps, "--audit-log", log, script)
    assert p.returncode == 0 and p.stdout == b"1000\nmine\n", p.stderr
    assert not [e for e in events(log) if e["event"] == "CapabilityDenied"]
