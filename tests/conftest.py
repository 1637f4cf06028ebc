# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures shared by tests/integration and tests/security.

Sandboxed runs are exercised twice: as root and as an unprivileged user that the tests
create (`obtest`), run through runuser. Without root, only the unprivileged pass runs."""
import http.server
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest

TEST_USER = "obtest"


@pytest.fixture(autouse=True)
def host_dev_null_intact():
    """Whatever a test does inside a sandbox, the host's /dev/null stays a device."""
    yield
    import stat
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode), "the host's /dev/null was replaced"


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
