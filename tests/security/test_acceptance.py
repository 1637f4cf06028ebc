# SPDX-License-Identifier: LGPL-2.1-or-later
"""Milestone 05 acceptance, tried for real from inside the sandbox, as root and as an
unprivileged user: an untrusted Python script without capabilities cannot read /etc/passwd,
cannot reach a listener on the host's 127.0.0.1, cannot grow past --memory; with FILE_READ on
one file it reads that file and not its neighbour; runs are recorded as events."""
import os
import socket
import threading

import pytest

from conftest import data_dir, events, write_script

PY = "#!/usr/bin/python3\n"


def test_cannot_read_etc_passwd(sandbox, shared_tmp):
    script = write_script(shared_tmp, "passwd.py", PY + """
import sys
try:
    data = open("/etc/passwd").read()
except OSError as e:
    print("DENIED", type(e).__name__)
    sys.exit(3)
print("LEAK", data[:40])
""")
    log = os.path.join(shared_tmp, "passwd.jsonl")
    p = sandbox.run("--audit-log", log, script)
    assert p.returncode == 3, (p.stdout, p.stderr)
    assert b"DENIED" in p.stdout and b"LEAK" not in p.stdout
    # the layout hides the file, and the attempt is still on the record
    denied = [e for e in events(log) if e["event"] == "CapabilityDenied"]
    assert [(e["capability"], e["resource"], e["operation"]) for e in denied] == [
        ("FILE_READ", "/etc/passwd", "read")]
    assert events(log)[-1]["violations"] == 1


@pytest.fixture
def host_listener():
    """A TCP listener on the host's 127.0.0.1 that records whether anyone connected."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    srv.settimeout(0.2)
    state = {"accepted": 0, "stop": False}

    def loop():
        while not state["stop"]:
            try:
                c, _ = srv.accept()
                state["accepted"] += 1
                c.close()
            except OSError:
                pass

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    yield srv.getsockname()[1], state
    state["stop"] = True
    t.join(2)
    srv.close()


def test_cannot_connect_to_host_loopback(sandbox, shared_tmp, host_listener):
    port, state = host_listener
    script = write_script(shared_tmp, "net.py", PY + f"""
import socket, sys
s = socket.socket()
s.settimeout(3)
try:
    s.connect(("127.0.0.1", {port}))
except OSError as e:
    print("REFUSED", type(e).__name__)
    sys.exit(3)
print("CONNECTED")
""")
    p = sandbox.run(script)
    assert p.returncode == 3, (p.stdout, p.stderr)
    assert b"REFUSED" in p.stdout
    assert state["accepted"] == 0


def test_loopback_inside_works(sandbox, shared_tmp):
    """The sandbox has its own loopback: programs can talk to themselves."""
    script = write_script(shared_tmp, "lo.py", PY + """
import socket
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
c = socket.create_connection(srv.getsockname(), timeout=3)
a, _ = srv.accept(); c.sendall(b"ping"); print(a.recv(4).decode())
""")
    p = sandbox.run(script)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == b"ping"


def test_memory_limit(sandbox, shared_tmp):
    script = write_script(shared_tmp, "mem.py", PY + """
chunks = []
for i in range(40):
    chunks.append(bytearray(10 * 1024 * 1024))  # touched: bytearray zero-fills
print("ALLOCATED", sum(map(len, chunks)) >> 20, "MiB")
""")
    log = os.path.join(shared_tmp, "mem.jsonl")
    p, res = sandbox.run_json("--memory", "50M", "--audit-log", log, script)
    assert b"ALLOCATED" not in p.stdout
    assert res["exit_code"] != 0
    assert res["max_rss_kb"] < 60 * 1024, res
    ev = events(log)
    assert ev[0]["event"] == "SandboxStart" and ev[-1]["event"] == "SandboxExit"
    if sandbox.who == "root":  # the cgroup saw it: killed, and said so
        assert res["exit_code"] == 137 and res["oom"]
        assert any(e["event"] == "ResourceLimitExceeded" and e["resource"] == "memory"
                   for e in ev)


def test_file_read_grant(sandbox, shared_tmp):
    data = data_dir(shared_tmp)
    script = write_script(shared_tmp, "read.py", PY + f"""
import sys
print(open("{data}/allowed.txt").read())
try:
    print("LEAK", open("{data}/other.txt").read())
except OSError as e:
    print("DENIED other", type(e).__name__)
try:
    open("{data}/allowed.txt", "a").write("x")
    print("WROTE")
except OSError as e:
    print("DENIED write", type(e).__name__)
""")
    log = os.path.join(shared_tmp, "read.jsonl")
    p = sandbox.run("--cap", f"FILE_READ:{data}/allowed.txt", "--audit-log", log, script)
    out = p.stdout.decode()
    assert p.returncode == 0, p.stderr
    assert "the allowed text" in out
    assert "DENIED other" in out and "the secret text" not in out
    assert "DENIED write" in out and "WROTE" not in out
    denied = [(e["capability"], e["resource"]) for e in events(log)
              if e["event"] == "CapabilityDenied"]
    assert ("FILE_READ", f"{data}/other.txt") in denied
    assert ("FILE_WRITE", f"{data}/allowed.txt") in denied  # shown read-only: EROFS, logged
    start = events(log)[0]
    assert start["capabilities"] == [f"FILE_READ:{data}/allowed.txt"]
    # without the grant the file is not there at all
    p = sandbox.run(script)
    assert p.returncode != 0
    assert b"the allowed text" not in p.stdout


def test_writes_to_read_only_places_are_observed(sandbox, shared_tmp):
    """A write to what the sandbox shows read-only (the runtime, through a symlink too) and a
    file created in a read-only directory are refused (EROFS) and each is one event; writes
    where writing is allowed are not."""
    script = write_script(shared_tmp, "rofs.py", PY + """
import errno
for path, mode in (("/usr/bin/awk", "a"), ("/usr/lib/planted", "w"), ("/tmp/ok", "w")):
    try:
        open(path, mode).write("x")
        print(path, "written")
    except OSError as e:
        print(path, errno.errorcode[e.errno])
""")
    log = os.path.join(shared_tmp, "rofs.jsonl")
    p = sandbox.run("--audit-log", log, script)
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode().splitlines()
    # rootless, the file's owner (host root) is unmapped: permissions refuse first (EACCES)
    assert out[0] in ("/usr/bin/awk EROFS", "/usr/bin/awk EACCES")
    assert out[1:] == ["/usr/lib/planted EROFS", "/tmp/ok written"]
    denied = [(e["capability"], e["resource"], e["operation"]) for e in events(log)
              if e["event"] == "CapabilityDenied"]
    assert denied == [("FILE_WRITE", "/usr/bin/awk", "write"),
                      ("FILE_WRITE", "/usr/lib/planted", "write")]


def test_denied_exec_and_connect_are_observed(sandbox, shared_tmp):
    """Denials are observed at the system call (seccomp user notification), not inferred:
    one CapabilityDenied per refused execve and outward connect, with the resource."""
    script = write_script(shared_tmp, "deny.py", PY + """
import os, socket
try:
    os.execv("/usr/bin/id", ["id"])
except OSError as e:
    print("exec", e.errno)
for addr in (("10.1.2.3", 80), ("127.0.0.1", 9)):
    s = socket.socket(); s.settimeout(1)
    try:
        s.connect(addr)
    except OSError as e:
        print("connect", addr[0], e.errno)
""")
    log = os.path.join(shared_tmp, "deny.jsonl")
    p, res = sandbox.run_json("--audit-log", log, script)
    assert res["exit_code"] == 0, p.stderr
    assert "exec 13" in res["stdout"]  # EACCES: Landlock refused it
    denied = [e for e in events(log) if e["event"] == "CapabilityDenied"]
    assert [(e["capability"], e["resource"], e["operation"]) for e in denied] == [
        ("EXTERNAL_COMMAND", "/usr/bin/id", "exec"),
        ("NETWORK_CONNECT", "10.1.2.3:80", "connect"),  # not the sandbox's own loopback
    ]
    assert all(isinstance(e["pid"], int) and e["pid"] > 1 for e in denied)
    assert res["violations"] == 2
    assert events(log)[-1]["violations"] == 2
    # granted: no denial
    p, res = sandbox.run_json("--audit-log", log, "--cap", "EXTERNAL_COMMAND:/usr/bin/id",
                              "/bin/sh", "--", "-c", "/usr/bin/id -u")
    assert res["exit_code"] == 0 and res["violations"] == 0
