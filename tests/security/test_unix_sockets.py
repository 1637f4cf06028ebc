# SPDX-License-Identifier: LGPL-2.1-or-later
"""Host unix sockets only by grant (SPEC §2.2, issue 21 part 3): a host pathname socket the
sandbox can see — the whole host in --mode rx, a FILE_READ grant's directory, the workdir — is
refused (EACCES) and recorded unless NETWORK_CONNECT unix:PATH grants it — a connect, and a
datagram sent to its path; a granted one is reached in modes sandbox and rx; the program's own sockets (its /tmp, the workdir) work; a
thread swapping the path during connect() never reaches an ungranted socket. Root and
rootless (runner/notify-unix.c, docs/design/egress.md)."""
import os
import shutil
import socket
import tempfile
import threading

import pytest

from conftest import (MODE, RX, Sandbox, events, oci_backend_or_skip,
                      write_script)

PY = "#!/usr/bin/python3\n"

# Connects to each path of argv; prints "PATH OK <banner>" or "PATH <errno name>".
CONNECT = PY + """
import errno, socket, sys
for path in sys.argv[1:]:
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    try:
        s.connect(path)
        print(path, "OK", s.recv(16).decode() or "-")
    except OSError as e:
        print(path, errno.errorcode.get(e.errno, str(e.errno)))
    s.close()
"""

# The program's own sockets: one in its /tmp, one it binds (relative) in its working directory
# when that is the workdir; each connected by absolute path.
OWN = PY + """
import os, socket, threading
def serve(path):
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(4)
    def loop():
        c, _ = srv.accept()
        c.sendall(b"mine")
        c.close()
    threading.Thread(target=loop, daemon=True).start()
paths = [("/tmp/own.sock", "/tmp/own.sock")]
if os.getcwd() == "/workspace":
    paths.append(("w.sock", "/workspace/w.sock"))
for bound, full in paths:
    serve(bound)
    c = socket.socket(socket.AF_UNIX)
    c.settimeout(5)
    c.connect(full)
    print(full, c.recv(8).decode())
"""

# The race: one thread connects (ctypes, so the GIL is released while the call waits for the
# supervisor) to an address whose path another thread keeps flipping between the program's
# own socket and an ungranted host socket.
RACE = PY + """
import ctypes, os, socket, sys, threading
libc = ctypes.CDLL(None, use_errno=True)
own, host, rounds = "/tmp/own.sock", sys.argv[1], int(sys.argv[2])
srv = socket.socket(socket.AF_UNIX)
srv.bind(own)
srv.listen(512)
def drain():
    while True:
        c, _ = srv.accept()
        c.close()
threading.Thread(target=drain, daemon=True).start()
class Addr(ctypes.Structure):
    _fields_ = [("family", ctypes.c_ushort), ("path", ctypes.c_char * 108)]
addr = Addr(socket.AF_UNIX, own.encode())
a, b = own.encode().ljust(108, b"\\0"), host.encode().ljust(108, b"\\0")
stop = False
def flip():
    while not stop:
        ctypes.memmove(ctypes.addressof(addr) + 2, b, 108)
        ctypes.memmove(ctypes.addressof(addr) + 2, a, 108)
threading.Thread(target=flip, daemon=True).start()
reached = refused = 0
for i in range(rounds):
    s = socket.socket(socket.AF_UNIX)
    r = libc.connect(s.fileno(), ctypes.byref(addr), ctypes.sizeof(addr))
    if r == 0:
        reached += 1
    else:
        refused += 1
    s.close()
stop = True
print("reached", reached, "refused", refused)
"""


@pytest.fixture
def host_dir():
    """A host directory outside /tmp (mode rx shows the sandbox's own /tmp) with two listening
    sockets: root.sock (0600, the shape of docker.sock) and open.sock (0666, the shape of
    the D-Bus system bus); accepted[name] counts who got through."""
    d = tempfile.mkdtemp(prefix="ob-unix-", dir="/var/tmp")
    os.chmod(d, 0o777)
    socks, accepted, stop = {}, {"root.sock": 0, "open.sock": 0}, threading.Event()
    for name, mode in (("root.sock", 0o600), ("open.sock", 0o666)):
        s = socket.socket(socket.AF_UNIX)
        s.bind(os.path.join(d, name))
        os.chmod(os.path.join(d, name), mode)
        s.listen(64)
        s.settimeout(0.05)
        socks[name] = s

    def loop():
        while not stop.is_set():
            for name, s in socks.items():
                try:
                    c, _ = s.accept()
                except OSError:
                    continue
                accepted[name] += 1
                try:
                    c.sendall(b"HELLO")
                except OSError:
                    pass
                c.close()

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    yield d, accepted
    stop.set()
    t.join(2)
    for s in socks.values():
        s.close()
    shutil.rmtree(d, ignore_errors=True)


def run_logged(sandbox, d, *args, name="run"):
    log = os.path.join(d, name + ".jsonl")
    p = sandbox.run("--audit-log", log, *args)
    return p, events(log) if os.path.exists(log) else []


def results(p):
    return {line.split(" ", 1)[0]: line.split(" ", 1)[1]
            for line in p.stdout.decode().splitlines()}


def denied(ev):
    return {(e["capability"], e["resource"], e["operation"]) for e in ev
            if e["event"] == "CapabilityDenied"}


@pytest.mark.parametrize("how", ["rx", "file_read", "workdir"])
def test_visible_host_sockets_refused(sandbox, host_dir, how):
    d, accepted = host_dir
    script = write_script(d, "connect.py", CONNECT)
    inside = "/workspace" if how == "workdir" else d
    opts = {"rx": list(RX(sandbox)), "file_read": ["--cap", f"FILE_READ:{d}"],
            "workdir": ["--workdir", d]}[how]
    paths = [f"{inside}/root.sock", f"{inside}/open.sock"]
    p, ev = run_logged(sandbox, d, *opts, script, "--", *paths, name=how)
    assert p.returncode == 0, p.stderr
    out = results(p)
    assert out == {paths[0]: "EACCES", paths[1]: "EACCES"}, out
    assert accepted == {"root.sock": 0, "open.sock": 0}
    # recorded by host path: what a grant would have to name
    for name in ("root.sock", "open.sock"):
        assert ("NETWORK_CONNECT", f"unix:{d}/{name}", "connect") in denied(ev), ev


@pytest.mark.parametrize("mode", ["sandbox", "rx"])
def test_granted_socket_reachable(sandbox, host_dir, mode, who):
    d, accepted = host_dir
    script = write_script(d, "connect.py", CONNECT)
    paths = [f"{d}/open.sock", f"{d}/root.sock"]
    p, ev = run_logged(sandbox, d, *MODE(sandbox, mode),
                       "--cap", f"NETWORK_CONNECT:unix:{d}/*.sock",
                       script, "--", *paths, name="granted")
    assert p.returncode == 0, p.stderr
    out = results(p)
    assert out[paths[0]] == "OK HELLO", out
    # a grant gives no more than the caller has: root's 0600 socket stays root's
    assert out[paths[1]] == ("OK HELLO" if who == "root" else "EACCES"), out
    assert accepted["open.sock"] == 1
    assert not denied(ev)
    start = [e for e in ev if e["event"] == "SandboxStart"][0]
    assert f"NETWORK_CONNECT:unix:{d}/*.sock" in start["capabilities"]
    assert start["protections"]["unix_sockets"] == "by grant"


def test_grant_of_one_socket_only(sandbox, host_dir):
    d, accepted = host_dir
    script = write_script(d, "connect.py", CONNECT)
    paths = [f"{d}/open.sock", f"{d}/root.sock"]
    p, ev = run_logged(sandbox, d, "--cap", f"NETWORK_CONNECT:unix:{d}/open.sock", script,
                       "--", *paths, name="one")
    out = results(p)
    # not granted and not shown: ENOENT as the kernel says it, and on the record
    assert out == {paths[0]: "OK HELLO", paths[1]: "ENOENT"}, out
    assert accepted["root.sock"] == 0
    assert denied(ev) == {("NETWORK_CONNECT", f"unix:{d}/root.sock", "connect")}


@pytest.mark.parametrize("workdir", [False, True])
def test_own_sockets_work(sandbox, host_dir, workdir):
    d, _ = host_dir
    script = write_script(d, "own.py", OWN)
    wd = os.path.join(d, "wd")
    os.mkdir(wd)
    os.chmod(wd, 0o777)
    opts = ["--workdir", wd] if workdir else []
    p, ev = run_logged(sandbox, d, *opts, script, name="own")
    assert p.returncode == 0, p.stderr
    out = results(p)
    want = {"/tmp/own.sock": "mine"}
    if workdir:
        want["/workspace/w.sock"] = "mine"
    assert out == want, (out, p.stderr)
    assert not denied(ev)


def test_swapped_path_never_reaches_an_ungranted_socket(sandbox, host_dir):
    d, accepted = host_dir
    script = write_script(d, "race.py", RACE)
    p, ev = run_logged(sandbox, d, *RX(sandbox), script, "--", f"{d}/open.sock", "400",
                       name="race")
    assert p.returncode == 0, p.stderr
    words = p.stdout.decode().split()
    reached, refused = int(words[1]), int(words[3])
    assert reached + refused == 400
    assert accepted["open.sock"] == 0, (accepted, words)
    # both sides of the flip were seen: the race ran
    assert reached > 0 and refused > 0, words
    assert ("NETWORK_CONNECT", f"unix:{d}/open.sock", "connect") in denied(ev)


# Sends a datagram to each path of argv with sendto and with sendmsg; prints "PATH CALL OK"
# or "PATH CALL <errno name>". Then one to a datagram socket of its own in /tmp.
SENDS = PY + """
import errno, socket, sys
c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for path in sys.argv[1:]:
    for call, send in (("sendto", lambda: c.sendto(b"to", path)),
                       ("sendmsg", lambda: c.sendmsg([b"msg"], [], 0, path))):
        try:
            send()
            print(path, call, "OK")
        except OSError as e:
            print(path, call, errno.errorcode.get(e.errno, str(e.errno)))
own = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
own.bind("/tmp/own.dgram")
c.sendto(b"mine", "/tmp/own.dgram")
print("/tmp/own.dgram", "recv", own.recv(8).decode())
"""


@pytest.fixture
def host_dgram(host_dir):
    """A host datagram socket (0666, the shape of /dev/log) in host_dir, and what it got."""
    d, _ = host_dir
    path = os.path.join(d, "log.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o666)
    s.setblocking(False)

    def received():
        got = []
        while True:
            try:
                got.append(s.recv(64))
            except BlockingIOError:
                return got
    yield path, received
    s.close()


def send_lines(p):
    return {tuple(line.split(" ")[:2]): line.split(" ", 2)[2]
            for line in p.stdout.decode().splitlines()}


@pytest.mark.parametrize("grant", [False, True])
def test_host_datagram_sockets_by_grant(sandbox, host_dir, host_dgram, grant):
    """A datagram sent with an address (sendto, sendmsg) to a host socket the sandbox shows
    (a FILE_READ grant's directory here) is refused (EACCES) and recorded unless
    NETWORK_CONNECT unix:PATH grants it, as a connect is; it used to reach the host socket
    with no grant at all. The program's own datagram socket works."""
    d, _ = host_dir
    path, received = host_dgram
    script = write_script(d, "sends.py", SENDS)
    opts = ["--cap", f"FILE_READ:{d}"]
    if grant:
        opts += ["--cap", f"NETWORK_CONNECT:unix:{path}"]
    p, ev = run_logged(sandbox, d, *opts, script, "--", path, name="dgram")
    assert p.returncode == 0, p.stderr
    out = send_lines(p)
    want = "OK" if grant else "EACCES"
    assert out == {(path, "sendto"): want, (path, "sendmsg"): want,
                   ("/tmp/own.dgram", "recv"): "mine"}, out
    assert received() == ([b"to", b"msg"] if grant else [])
    assert denied(ev) == (set() if grant else {("NETWORK_CONNECT", f"unix:{path}", "sendto"),
                                               ("NETWORK_CONNECT", f"unix:{path}", "sendmsg")})


def test_hidden_host_datagram_socket(sandbox, host_dir, host_dgram):
    """Not shown at all: ENOENT, as the kernel says it, and on the record."""
    d, _ = host_dir
    path, received = host_dgram
    script = write_script(d, "sends.py", SENDS)
    p, ev = run_logged(sandbox, d, "--cap", f"FILE_READ:{d}/sends.py", script, "--", path,
                       name="hidden")
    assert p.returncode == 0, p.stderr
    out = send_lines(p)
    assert (out[(path, "sendto")], out[(path, "sendmsg")]) == ("ENOENT", "ENOENT"), out
    assert received() == []
    assert {("NETWORK_CONNECT", f"unix:{path}", "sendto"),
            ("NETWORK_CONNECT", f"unix:{path}", "sendmsg")} <= denied(ev)


def test_dry_run_shows_unix_grants(run, host_dir):
    d, _ = host_dir
    p = run("sandbox", "run", "--dry-run", "--cap", f"NETWORK_CONNECT:unix:{d}/open.sock",
            "/bin/true", check=0)
    import json
    plan = json.loads(p.stdout)
    assert plan["egress"]["unix_sockets"] == [f"unix:{d}/open.sock"]
    assert plan["egress"]["proxy"] is False and plan["egress"]["transparent"] is False
    binds = [m for m in plan["mounts"] if m.get("src") == f"{d}/open.sock"]
    assert binds and binds[0]["read_only"] and binds[0]["dest"] == f"{d}/open.sock"
    # the other socket is no part of the layout
    assert not [m for m in plan["mounts"] if m.get("src") == f"{d}/root.sock"]


@pytest.mark.parametrize("backend", ["runc", "crun"])
def test_oci_backends_same_rule(ob_bin, host_dir, backend):
    """runc and crun run the same notifier through the runtime's seccomp listener: a visible
    host socket refused and recorded, a granted one reached (as root: they run as root only)."""
    oci_backend_or_skip(ob_bin, backend)
    d, accepted = host_dir
    sb = Sandbox(ob_bin, "root")
    script = write_script(d, "connect.py", CONNECT)
    paths = [f"{d}/open.sock", f"{d}/root.sock"]
    p, ev = run_logged(sb, d, "--backend", backend, "--cap", f"FILE_READ:{d}", "--cap",
                       f"NETWORK_CONNECT:unix:{d}/root.sock", script, "--", *paths,
                       name=backend)
    assert p.returncode == 0, p.stderr
    assert results(p) == {paths[0]: "EACCES", paths[1]: "OK HELLO"}, p.stdout
    assert accepted == {"open.sock": 0, "root.sock": 1}
    assert denied(ev) == {("NETWORK_CONNECT", f"unix:{d}/open.sock", "connect")}


def test_gvisor_refuses_unix_grants(ob_bin, host_dir):
    oci_backend_or_skip(ob_bin, "gvisor")
    d, _ = host_dir
    p = Sandbox(ob_bin, "root").run("--backend", "gvisor", "--allow-degraded", "--cap",
                                    f"NETWORK_CONNECT:unix:{d}/open.sock", "/bin/true")
    assert p.returncode == 125 and b"host unix socket grants" in p.stderr, p.stderr
