# SPDX-License-Identifier: LGPL-2.1-or-later
"""The caller's stdio stays the caller's, on every backend, as root and rootless where the
backend runs rootless. No program and no runtime is handed one of the caller's descriptors:
runsc changed the owner of a stdin on /dev/null (the host's!) to nobody:nogroup, crun and runc
chowned a stdin file to the container's ids, and a rootless native program could fchmod the
caller's own stdin file. omnibase hands pipes of its own and relays (src/lib/runner/output.h).
Each test tries the attack from inside: fchown and fchmod of 0, 1 and 2."""
import os
import pwd
import select
import shutil
import stat
import subprocess
import tempfile

import pytest

from conftest import OCI_RUNTIMES, TEST_USER, _ensure_user, write_script

BACKENDS = ["native", "gvisor", "runc", "crun"]

ATTACK = "#!/usr/bin/python3\n" + r"""
import os, sys
for fd in (0, 1, 2):
    for what, call in (("chown", lambda: os.fchown(fd, 0, 0)),
                       ("chown-me", lambda: os.fchown(fd, os.getuid(), os.getgid())),
                       ("chmod", lambda: os.fchmod(fd, 0o777))):
        try:
            call()
        except OSError:
            pass
data = sys.stdin.buffer.read()
sys.stdout.buffer.write(b"in:" + data)
sys.stderr.buffer.write(b"err:" + str(len(data)).encode())
sys.exit(3)
"""

ECHO = "#!/usr/bin/python3\n" + r"""
import sys
for line in sys.stdin:
    if line.strip() == "quit":
        break
    print("echo:" + line.strip(), flush=True)
"""


def backend_or_skip(name, who):
    if who == "root" and os.geteuid() != 0:
        pytest.skip("not root")
    if name != "native" and not shutil.which(OCI_RUNTIMES[name]):
        pytest.skip(f"{OCI_RUNTIMES[name]} is not installed")
    if who == "user" and name in ("runc", "crun"):
        pytest.skip("runc and crun run as root only")  # tests/integration/test_backends.py
    if who == "user" and os.geteuid() == 0:
        _ensure_user()


def command(ob_bin, who, name, *args):
    cmd = [ob_bin, "sandbox", "run", "--backend", name, "--allow-degraded", *args]
    if who == "user" and os.geteuid() == 0:
        cmd = ["runuser", "-p", "-u", TEST_USER, "--"] + cmd
    return cmd


# as conftest's Sandbox: the coverage build cannot write its counters as the test user
ENV = dict(os.environ, GCOV_ERROR_FILE="/dev/null")


def look(path):
    st = os.stat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


@pytest.fixture
def scratch():
    d = tempfile.mkdtemp(prefix="ob-stdio-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("who", ["root", "user"])
@pytest.mark.parametrize("name", BACKENDS)
def test_stdio_files_keep_owner_and_mode(ob_bin, scratch, name, who):
    """stdin a file of the unprivileged user's (0600), stdout 0640 and stderr 0600 files of
    theirs: the program reads the input and writes the output intact, its exit status comes
    back, and no file changes owner, group or mode."""
    backend_or_skip(name, who)
    user = pwd.getpwnam(TEST_USER) if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    script = write_script(scratch, "attack.py", ATTACK)
    files = {}
    for stream, mode in (("in", 0o600), ("out", 0o640), ("err", 0o600)):
        files[stream] = os.path.join(scratch, stream)
        with open(files[stream], "wb") as f:
            f.write(b"payload\n" * 1000 if stream == "in" else b"")
        os.chown(files[stream], user.pw_uid, user.pw_gid)
        os.chmod(files[stream], mode)
    before = {k: look(v) for k, v in files.items()}
    with open(files["in"], "rb") as i, open(files["out"], "wb") as o, \
            open(files["err"], "wb") as e:
        p = subprocess.run(command(ob_bin, who, name, script), stdin=i, stdout=o, stderr=e,
                           timeout=120, env=ENV)
    with open(files["out"], "rb") as o, open(files["err"], "rb") as e:
        out, err = o.read(), e.read()
    assert p.returncode == 3, err
    assert out == b"in:" + b"payload\n" * 1000
    assert b"err:8000" in err, err
    assert {k: look(v) for k, v in files.items()} == before


@pytest.mark.parametrize("who", ["root", "user"])
@pytest.mark.parametrize("name", BACKENDS)
def test_null_stdin_keeps_owner_and_mode(ob_bin, scratch, name, who):
    """stdin on a null device: the program reads end-of-file, and the device node keeps its
    owner and mode. runsc used to chown the host's /dev/null to nobody:nogroup, crun to the
    container's ids. Nodes of the test's own (c 1 3), so that another run on the machine cannot
    blur the result: one handed as stdin, and one bound over /dev/null in a mount namespace of
    the run's own, so that whatever omnibase or a runtime opens as /dev/null is watched too
    (omnibase's stdin there is "/dev/null")."""
    backend_or_skip(name, who)
    if os.geteuid() != 0:
        pytest.skip("not root")  # the mount namespace with /dev/null bound over
    script = write_script(scratch, "attack.py", ATTACK)
    nodes = [os.path.join(scratch, n) for n in ("null", "devnull")]
    for node in nodes:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        os.chmod(node, 0o666)
    before = [look(n) for n in nodes]
    with open(nodes[0], "rb") as i:
        p = subprocess.run(command(ob_bin, who, name, script), stdin=i, capture_output=True,
                           timeout=120, env=ENV)
    assert p.returncode == 3, p.stderr
    assert p.stdout == b"in:" and b"err:0" in p.stderr, (p.stdout, p.stderr)
    bound = ["unshare", "-m", "--propagation", "private", "sh", "-c",
             'mount --bind "$0" /dev/null && exec "$@" </dev/null', nodes[1]]
    p = subprocess.run(bound + command(ob_bin, who, name, script), capture_output=True,
                       timeout=120, env=ENV)
    assert p.returncode == 3, p.stderr
    assert p.stdout == b"in:" and b"err:0" in p.stderr, (p.stdout, p.stderr)
    assert [look(n) for n in nodes] == before


@pytest.mark.parametrize("who", ["root", "user"])
@pytest.mark.parametrize("name", BACKENDS)
def test_piped_stdin_streams(ob_bin, name, who, scratch):
    """A pipe without a terminal on both sides: each line sent reaches the program and its
    answer comes back before the next is sent (relayed as it comes, not at end-of-file);
    an output cap still holds."""
    backend_or_skip(name, who)
    script = write_script(scratch, "echo.py", ECHO)
    p = subprocess.Popen(command(ob_bin, who, name, script), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    try:
        for word in ("one", "two", "three"):
            p.stdin.write(word.encode() + b"\n")
            p.stdin.flush()
            ready, _, _ = select.select([p.stdout], [], [], 60)
            assert ready, f"no answer to {word}"
            assert p.stdout.readline() == f"echo:{word}\n".encode()
        p.stdin.write(b"quit\n")
        p.stdin.close()
        assert p.wait(timeout=60) == 0, p.stderr.read()
    finally:
        p.kill()
        p.wait()
    # a large input through the relay, its output cut at the cap
    q = subprocess.run(command(ob_bin, who, name, "--limit", "output=1000", script),
                       input=b"x\n" * 100000, capture_output=True, timeout=120, env=ENV)
    assert len(q.stdout) == 1000 and q.stdout.startswith(b"echo:x\n"), len(q.stdout)


@pytest.mark.parametrize("name", [b for b in BACKENDS if b != "runc"])
def test_unread_input_stays_for_the_caller(ob_bin, name, scratch):
    """From a file, what the program did not read is left to whoever reads stdin next (the
    relay moves the offset back), as when the program had the file itself. runc copies stdin
    through pipes of its own and reads ahead: not promised there (docs/design/backends.md)."""
    backend_or_skip(name, "root")
    data = os.path.join(scratch, "in")
    with open(data, "wb") as f:
        f.write(b"abcdefgh\n" + b"rest\n" * 2000)
    with open(data, "rb") as i:
        p = subprocess.run(command(ob_bin, "root", name, "/usr/bin/head", "-c", "3"), stdin=i,
                           capture_output=True, timeout=120, env=ENV)
        assert p.returncode == 0 and p.stdout == b"abc", (p.stdout, p.stderr)
        assert i.read() == b"defgh\n" + b"rest\n" * 2000


DEV_STDIO = "#!/usr/bin/python3\n" + r"""
import sys
data = open("/dev/stdin", "rb").read()
with open("/dev/stdout", "wb") as out:
    out.write(b"in:" + data)
with open("/dev/stderr", "wb") as err:
    err.write(b"err:ok")
"""


@pytest.mark.parametrize("who", ["root", "user"])
def test_dev_stdio_opens_work(ob_bin, scratch, who):
    """/dev/stdin, /dev/stdout and /dev/stderr open (a reopen of the pipes through /proc,
    which checks their owner and mode): run as root the program is an unprivileged host id,
    and the pipes were root's and 0600 ("cannot create /dev/stdout: Permission denied")."""
    backend_or_skip("native", who)
    script = write_script(scratch, "devstdio.py", DEV_STDIO)
    p = subprocess.run(command(ob_bin, who, "native", script), input=b"payload",
                       capture_output=True, timeout=120, env=ENV)
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"in:payload" and b"err:ok" in p.stderr, (p.stdout, p.stderr)
