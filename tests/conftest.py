# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures shared by tests/integration and tests/security.

Sandboxed runs are exercised twice: as root and as an unprivileged user that the tests
create (`obtest`), run through runuser. Without root, only the unprivileged pass runs.

From any checkout: when that user cannot reach the build (a clone under /root, which is
0700), the binaries the tests run are copied to a directory it can (pytest_configure).
With OB_MUST_WORK=1 (ci/test.sh) a skip fails unless its reason is one this host explains
(pytest_runtest_makereport)."""
import grp
import http.server
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest

TEST_USER = "obtest"

# The programs the tests run, by their environment variable (tests/meson.build sets them).
BINARIES = ("OB_BIN", "OB_ENOSYS", "OB_ATTACK", "OB_POLICY_DIFF")
# Beside OB_BIN and run from there: runc and crun's helper inside the container.
BESIDE_BIN = ("omnibase-exec",)


def can_reach(path, uid, gids):
    """Whether UID (with groups GIDS) may run PATH: every directory above it searchable by
    them and the file itself readable and executable, by the owner, group or other bits."""
    if uid == 0:
        return True

    def allowed(st, bits):  # bits: an octal digit (4 read, 1 execute) of "other"
        if st.st_uid == uid:
            return st.st_mode & (bits << 6) == bits << 6
        if st.st_gid in gids:
            return st.st_mode & (bits << 3) == bits << 3
        return st.st_mode & bits == bits

    path = os.path.abspath(path)
    parent = os.path.dirname(path)
    while True:
        try:
            st = os.stat(parent)
        except OSError:
            return False
        if not allowed(st, 1):
            return False
        if parent == "/":
            break
        parent = os.path.dirname(parent)
    try:
        return allowed(os.stat(path), 5)
    except OSError:
        return False


def _user_ids():
    u = _ensure_user()
    return u.pw_uid, {u.pw_gid} | {g.gr_gid for g in grp.getgrall() if TEST_USER in g.gr_mem}


def copy_for_user(paths, uid, gids):
    """PATHS (name -> path) that UID cannot reach copied into a new 0755 directory, with the
    helpers BESIDE_BIN next to OB_BIN's copy: (the directory or None, name -> path to use)."""
    if all(can_reach(p, uid, gids) for p in paths.values()):
        return None, dict(paths)
    d = tempfile.mkdtemp(prefix="ob-bin-")
    os.chmod(d, 0o755)
    out = {}
    for name, path in paths.items():
        out[name] = os.path.join(d, os.path.basename(path))
        shutil.copy2(path, out[name])
        os.chmod(out[name], 0o755)
        if name == "OB_BIN":
            for helper in BESIDE_BIN:
                src = os.path.join(os.path.dirname(path), helper)
                if os.path.exists(src):
                    shutil.copy2(src, os.path.join(d, helper))
                    os.chmod(os.path.join(d, helper), 0o755)
    return d, out


def pytest_configure(config):
    """The unprivileged pass from any checkout: when the test user cannot reach the build,
    the binaries go to a 0755 directory of their own for the session, and the environment
    names those copies (for root's runs too: one binary per session). A hook, not a fixture:
    test modules read these variables when they are imported, before any fixture runs."""
    if os.geteuid() != 0:
        return
    paths = {k: os.environ[k] for k in BINARIES if os.environ.get(k)}
    if not paths:
        return
    d, copies = copy_for_user(paths, *_user_ids())
    if d:
        config._ob_bin_copies = d
        os.environ.update(copies)


def pytest_unconfigure(config):
    d = getattr(config, "_ob_bin_copies", None)
    if d:
        shutil.rmtree(d, ignore_errors=True)


# OB_MUST_WORK=1: a skip fails unless this host explains it. Each known reason with what
# makes it expected here (a parameter that does not apply to this caller, or a host fact
# checked now); any other reason, or a known one this host does not explain, fails.
EXPECTED_PREFIX = "expected on this host: "


def _hybrid_cgroups():
    return os.path.isdir("/sys/fs/cgroup/unified")


SKIP_REASONS = [
    (r"^not root$", lambda m: os.geteuid() != 0),
    (r"^needs root|needs root$", lambda m: os.geteuid() != 0),
    (r"^(\S+) is not installed$", lambda m: not shutil.which(m.group(1))),
    (r"^runc and crun run as root only$", lambda m: True),
    (r"^the unprivileged case$", lambda m: True),
    (r"^rootless: |^root: ", lambda m: True),
    (r"^omnibase-exec is installed on this machine$", lambda m: True),
    (r"^not a hybrid cgroup host", lambda m: not _hybrid_cgroups()),
    (r"^no shared workload next to this checkout$", lambda m: True),
    (r"^no host name other than localhost resolves to loopback", lambda m: True),
    (r"^gVisor observes no denials$", lambda m: True),
    (r"^crun 1\.8 cannot bind", lambda m: True),
    (r"^PostgreSQL server not installed, or not root$",
     lambda m: os.geteuid() != 0 or not os.path.exists("/usr/lib/postgresql")),
    (r"^no (/\S+)$", lambda m: not os.path.exists(m.group(1))),
    (r"x86_64", lambda m: __import__("platform").machine() != "x86_64"),
]


def skip_is_expected(reason):
    """Whether a skip for REASON is one this host explains (OB_MUST_WORK lets it stand)."""
    if reason.startswith(EXPECTED_PREFIX):
        return True
    for pattern, expected in SKIP_REASONS:
        m = re.search(pattern, reason)
        if m:
            return bool(expected(m))
    return False


def skip_expected(reason):
    """Skips: this host lacks what the test needs, which OB_MUST_WORK=1 accepts."""
    pytest.skip(EXPECTED_PREFIX + reason)


def _skip_reason(report):
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("OB_MUST_WORK") != "1" or not report.skipped:
        return
    if getattr(report, "wasxfail", None) is not None:
        return
    reason = _skip_reason(report)
    if not skip_is_expected(reason):
        report.outcome = "failed"
        report.longrepr = (f"OB_MUST_WORK=1: skipped for a reason this host does not "
                           f"explain: {reason}")


@pytest.fixture(autouse=True)
def host_dev_null_intact():
    """Whatever a test does inside a sandbox, the host's /dev/null stays a device."""
    yield
    import stat
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode), "the host's /dev/null was replaced"


@pytest.fixture(scope="session")
def attack():
    """tests/helpers/ob-attack, the attacker run inside the sandbox."""
    path = os.environ.get("OB_ATTACK")
    if not path:
        pytest.fail("OB_ATTACK is not set: run through `meson test`")
    return path


@pytest.fixture(scope="session")
def ob_bin():
    path = os.environ.get("OB_BIN")
    if not path:
        pytest.fail("OB_BIN is not set: run through `meson test`")
    return path


@pytest.fixture(scope="session")
def source_root():
    return os.environ.get("OB_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), ".."))


@pytest.fixture
def run(ob_bin):
    def _run(*args, cwd=None, check=None):
        p = subprocess.run([ob_bin, *args], capture_output=True, cwd=cwd, timeout=60)
        if check is not None:
            assert p.returncode == check, (p.returncode, p.stdout, p.stderr)
        return p
    return _run


def _ensure_user():
    try:
        return pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/bin/sh",
                        TEST_USER], check=True)
        return pwd.getpwnam(TEST_USER)


@pytest.fixture(params=["root", "user"])
def who(request):
    """Who runs omnibase: 'root', or 'user' (an unprivileged account)."""
    if request.param == "root" and os.geteuid() != 0:
        pytest.skip("not root")
    if request.param == "user" and os.geteuid() == 0:
        _ensure_user()
    return request.param


@pytest.fixture
def shared_tmp():
    """A scratch directory the unprivileged user can read (pytest's tmp_path is 0700)."""
    d = tempfile.mkdtemp(prefix="ob-test-")
    os.chmod(d, 0o777)  # the unprivileged user writes audit logs here
    yield d
    shutil.rmtree(d, ignore_errors=True)


class Sandbox:
    def __init__(self, ob_bin, who):
        self.ob_bin = ob_bin
        self.who = who

    def run(self, *args, input=None, timeout=60, env_extra=None):
        cmd = [self.ob_bin, "sandbox", "run", *args]
        env = dict(os.environ, **(env_extra or {}))
        if self.who == "user" and os.geteuid() == 0:
            cmd = ["runuser", "-p", "-u", TEST_USER, "--"] + cmd
            # the coverage build cannot write its counters as that user: say nothing
            env["GCOV_ERROR_FILE"] = "/dev/null"
        return subprocess.run(cmd, capture_output=True, input=input, timeout=timeout, env=env)

    def run_json(self, *args, **kw):
        p = self.run("--json", *args, **kw)
        last = p.stdout.decode(errors="replace").strip().splitlines()[-1]
        return p, json.loads(last)


@pytest.fixture
def sandbox(ob_bin, who):
    return Sandbox(ob_bin, who)


def RX(sandbox):
    """The options of a mode rx run: rootless, the program's only identity is the caller's,
    which SPEC §2.4 lets run only with --allow-degraded."""
    return ("--mode", "rx") + (("--allow-degraded",) if sandbox.who == "user" else ())


def MODE(sandbox, mode):
    """--mode MODE, with --allow-degraded where a rootless mode rx needs it (RX)."""
    return RX(sandbox) if mode == "rx" else ("--mode", mode)


# For scripts run inside a sandbox: attempt(NAME, F) records "OK" or F's errno name in out.
ATTEMPT = r"""
import errno, json
out = {}
def attempt(name, f):
    try:
        f()
        out[name] = "OK"
    except OSError as e:
        out[name] = errno.errorcode[e.errno]
"""


def data_dir(parent, files=(("allowed.txt", "the allowed text"),
                              ("other.txt", "the secret text"))):
    """PARENT/data, readable by all, holding FILES (name, text), each 0644: a grant's target
    and its neighbour."""
    data = os.path.join(parent, "data")
    os.mkdir(data)
    os.chmod(data, 0o755)
    for name, text in files:
        with open(os.path.join(data, name), "w") as f:
            f.write(text)
        os.chmod(os.path.join(data, name), 0o644)
    return data


def write_script(directory, name, body, mode=0o755):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(body)
    os.chmod(path, mode)
    return path


def events(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


class CountingServer:
    """A TCP server on the host's 127.0.0.1 that counts the connections it accepts and answers
    each with 'hello N' (N its number); with accept=False it never accepts (a black hole once
    its backlog is full)."""

    def __init__(self, backlog=512, accept=True):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(backlog)
        self.port = self.sock.getsockname()[1]
        self.count = 0
        self.stop = False
        if accept:
            threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.count += 1
            try:
                c.sendall(b"hello %d\n" % self.count)
            except OSError:
                pass
            c.close()

    def close(self):
        self.stop = True
        time.sleep(0.3)
        self.sock.close()


@pytest.fixture
def servers():
    """Makes CountingServers (keyword arguments as CountingServer's), closed afterwards."""
    made = []

    def make(**kw):
        s = CountingServer(**kw)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()


@pytest.fixture
def web():
    """An HTTP server on the host's loopback: (port, the paths it served); /big... is 1 MiB."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            body = ("served " + self.path).encode()
            if self.path.startswith("/big"):
                body = b"x" * (1 << 20)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    class Server(http.server.ThreadingHTTPServer):
        request_queue_size = 512  # the default 5 would drop SYNs of concurrent clients

    srv = Server(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_address[1], hits
    srv.shutdown()
    srv.server_close()


OCI_RUNTIMES = {"gvisor": "runsc", "crun": "crun", "runc": "runc"}


def oci_backend_or_skip(ob_bin, name, who="root"):
    """NAME if its runtime is installed and it can run for WHO (rootless: gVisor only; the
    others' refusal is tests/integration/test_backends.py's), else the test skips."""
    if not shutil.which(OCI_RUNTIMES[name]):
        pytest.skip(f"{OCI_RUNTIMES[name]} is not installed")
    if who == "root" and os.geteuid() != 0:
        pytest.skip("not root")
    if who == "user" and name != "gvisor":
        pytest.skip("runc and crun run as root only")
    if who == "user" and os.geteuid() == 0:
        _ensure_user()
    return name
