# SPDX-License-Identifier: LGPL-2.1-or-later
"""Transparent egress (--egress transparent|both): a program that ignores proxy variables
connects with plain sockets; the supervisor makes each granted connect from the host side and
hands the socket over; names come from the sandbox's DNS stub. Servers run on the host's
127.0.0.1, started here. Root and rootless."""
import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import events, write_script

PY = "#!/usr/bin/python3\n"


CLIENT = PY + r"""
import json, os, socket, sys
port, other = int(sys.argv[1]), int(sys.argv[2])
out = {"proxy_env": os.environ.get("HTTP_PROXY")}

def get(host, p):
    try:
        s = socket.create_connection((host, p), timeout=5)
        return s.recv(100).decode().strip()
    except OSError as e:
        return type(e).__name__

out["by_ip"] = get("127.0.0.1", port)
out["by_name"] = get("localhost", port)
out["other_port"] = get("127.0.0.1", other)
try:
    socket.getaddrinfo("not-granted.example", 80)
    out["dns_other"] = "RESOLVED"
except socket.gaierror as e:
    out["dns_other"] = e.errno == socket.EAI_NONAME
print(json.dumps(out))
"""


@pytest.mark.parametrize("egress", ["transparent", "both"])
def test_plain_sockets_reach_granted_ports(sandbox, shared_tmp, servers, egress):
    """A raw-socket client reaches a granted ip:port, by IP and through the DNS stub by
    name; another port is refused (EACCES), recorded and never reached; a name no grant
    covers does not resolve and is recorded."""
    good, other = servers(), servers()
    script = write_script(shared_tmp, "client.py", CLIENT)
    log = os.path.join(shared_tmp, "t.jsonl")
    p = sandbox.run("--egress", egress, "--audit-log", log, "--cap",
                    f"NETWORK_CONNECT:127.0.0.1:{good.port}", "--cap",
                    f"NETWORK_CONNECT:localhost:{good.port}", script, str(good.port),
                    str(other.port))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["proxy_env"] == (None if egress == "transparent" else "http://127.0.0.1:3128")
    assert out["by_ip"] == "hello 1" and out["by_name"] == "hello 2"
    assert out["other_port"] == "PermissionError"
    assert out["dns_other"] is True
    assert good.count == 2 and other.count == 0
    ev = events(log)
    denied = {(e["resource"], e["operation"]) for e in ev if e["event"] == "CapabilityDenied"}
    assert (f"127.0.0.1:{other.port}", "connect") in denied
    assert ("not-granted.example", "resolve") in denied
    assert not any(e["event"] == "CapabilityDenied" and e["capability"] == "FILE_READ"
                   for e in ev), "the resolver's files are there"
    egress_stats = ev[-1]["egress"]
    assert egress_stats["direct_connections"] == 2 and egress_stats["direct_refused"] == 1


NONBLOCKING = PY + r"""
import errno, select, socket, sys
port = int(sys.argv[1])
s = socket.socket()
s.setblocking(False)
r = s.connect_ex(("127.0.0.1", port))
assert r in (0, errno.EINPROGRESS), r
_, w, _ = select.select([], [s], [], 5)
assert w and s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
s.setblocking(True)
s.settimeout(5)
print(s.recv(100).decode().strip(), s.getpeername()[1] == port)
"""


def test_nonblocking_connect_with_select(sandbox, shared_tmp, servers):
    srv = servers()
    script = write_script(shared_tmp, "nb.py", NONBLOCKING)
    p = sandbox.run("--egress", "transparent", "--cap", f"NETWORK_CONNECT:127.0.0.1:{srv.port}",
                    script, str(srv.port))
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == [b"hello", b"1", b"True"]


MANY = PY + r"""
import socket, sys, threading
threading.stack_size(256 * 1024)
port, n = int(sys.argv[1]), int(sys.argv[2])
got = []
def one():
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    got.append(s.recv(100).startswith(b"hello"))
threads = [threading.Thread(target=one) for _ in range(n)]
for t in threads: t.start()
for t in threads: t.join()
print(sum(got))
"""


def test_200_concurrent_connects(sandbox, shared_tmp, servers):
    srv = servers()
    script = write_script(shared_tmp, "many.py", MANY)
    p = sandbox.run("--pids", "512", "--egress", "transparent", "--cap",
                    f"NETWORK_CONNECT:127.0.0.1:{srv.port}", script, str(srv.port), "200")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == b"200" and srv.count == 200


BLACKHOLE = PY + r"""
import socket, sys, threading, time
hole, good = int(sys.argv[1]), int(sys.argv[2])
def stuck():
    try:
        socket.create_connection(("127.0.0.1", hole))   # blocking, no timeout
    except OSError:
        pass
threading.Thread(target=stuck, daemon=True).start()
time.sleep(0.5)                                          # the stuck connect is in flight
t = time.monotonic()
s = socket.create_connection(("127.0.0.1", good), timeout=10)
print(s.recv(100).decode().strip(), round(time.monotonic() - t, 3))
"""


def test_blackholed_destination_delays_nobody(sandbox, shared_tmp, servers):
    """A connect to a listener whose backlog is full (its SYNs are dropped) stays in flight
    in the supervisor's loop; another connect meanwhile is answered at once."""
    hole, good = servers(backlog=1, accept=False), servers()
    filler = []
    for _ in range(4):  # fill the accept queue from the host side
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", hole.port))
        filler.append(c)
    time.sleep(0.2)
    script = write_script(shared_tmp, "hole.py", BLACKHOLE)
    p = sandbox.run("--egress", "transparent", "--cap", f"NETWORK_CONNECT:127.0.0.1:{hole.port}",
                    "--cap", f"NETWORK_CONNECT:127.0.0.1:{good.port}", script, str(hole.port),
                    str(good.port))
    for c in filler:
        c.close()
    assert p.returncode == 0, p.stderr
    reply, n, waited = p.stdout.split()
    assert (reply, n) == (b"hello", b"1")
    assert float(waited) < 2.0, waited


# ---------------------------------------------------------------- PostgreSQL

# Debian's server and client binaries (postgresql, postgresql-client: ci/deps.sh)
PG_BIN = (sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres")) or ["/nonexistent/x"])[-1]
PG_BIN = os.path.dirname(PG_BIN)


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server (Debian's) on 127.0.0.1, as the postgres user, trust auth."""
    if not os.path.exists(os.path.join(PG_BIN, "postgres")) or os.geteuid() != 0:
        pytest.skip("PostgreSQL server not installed, or not root")
    d = tempfile.mkdtemp(prefix="ob-pg-")
    os.chmod(d, 0o755)
    data = os.path.join(d, "data")
    shutil.chown(d, "postgres", "postgres")
    run = ["runuser", "-u", "postgres", "--"]
    subprocess.run(run + [f"{PG_BIN}/initdb", "-D", data, "--auth=trust", "-U", "postgres"],
                   check=True, capture_output=True)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    subprocess.run(run + [f"{PG_BIN}/pg_ctl", "-D", data, "-w", "-l", os.path.join(d, "log"),
                          "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {d}", "start"],
                   check=True, capture_output=True)
    yield port
    subprocess.run(run + [f"{PG_BIN}/pg_ctl", "-D", data, "-m", "immediate", "stop"],
                   capture_output=True)
    shutil.rmtree(d, ignore_errors=True)


def test_psql_through_a_database_grant(sandbox, shared_tmp, postgres):
    """psql ignores proxy variables: with DATABASE_READ postgres://127.0.0.1:PORT/db it
    queries the server through a socket the supervisor connected; without, it is refused."""
    psql = os.path.join(PG_BIN, "psql")
    args = [psql, "--", "-h", "127.0.0.1", "-p", str(postgres), "-U", "postgres", "-d",
            "postgres", "-At", "-c", "select 6 * 7"]
    p = sandbox.run("--cap", f"DATABASE_READ:postgres://127.0.0.1:{postgres}/postgres", *args)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == b"42"
    log = os.path.join(shared_tmp, "pg.jsonl")
    p = sandbox.run("--audit-log", log, *args)
    assert p.returncode != 0 and b"42" not in p.stdout
    assert any(e["event"] == "CapabilityDenied" and e["resource"] == f"127.0.0.1:{postgres}"
               for e in events(log))


CAP = PY + r"""
import errno, socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2)]
def third():
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        return "OK"
    except OSError as e:
        return errno.errorcode[e.errno]
over = third()
held[0].close()
time.sleep(0.2)
print(over, third())
"""


def test_connection_cap_counts_live_connections(sandbox, shared_tmp, servers):
    """--limit connections=2 on the transparent path: with two connections open a third is
    refused (EAGAIN) and the limit reported once; once one is closed, the next goes through
    (connections are counted while the kernel still has them)."""
    srv = servers()
    script = write_script(shared_tmp, "cap.py", CAP)
    log = os.path.join(shared_tmp, "cap.jsonl")
    p = sandbox.run("--egress", "transparent", "--limit", "connections=2", "--audit-log", log,
                    "--cap", f"NETWORK_CONNECT:127.0.0.1:{srv.port}", script, str(srv.port))
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == [b"EAGAIN", b"OK"], p.stdout
    hit = [e for e in events(log) if e["event"] == "ResourceLimitExceeded"]
    assert [(e["resource"], e["limit"]) for e in hit] == [("connections", "2")]


def test_without_pidfd_getfd_fails_closed(ob_bin, shared_tmp, servers):
    """On a kernel without pidfd_getfd (simulated: it fails with ENOSYS) a network grant with
    the transparent path is refused, unless --allow-degraded, which falls back to the proxy
    and records SandboxDegraded."""
    enosys = os.environ.get("OB_ENOSYS")
    if not enosys:
        pytest.skip("OB_ENOSYS not set: run through `meson test`")
    srv = servers()
    base = [enosys, "pidfd_getfd", ob_bin, "sandbox", "run", "--cap",
            f"NETWORK_CONNECT:127.0.0.1:{srv.port}"]
    p = subprocess.run(base + ["/bin/true"], capture_output=True, timeout=60)
    assert p.returncode == 125 and b"transparent egress needs" in p.stderr, p.stderr
    log = os.path.join(shared_tmp, "deg.jsonl")
    p = subprocess.run(base + ["--allow-degraded", "--audit-log", log, "/usr/bin/env"],
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert b"HTTP_PROXY=http://127.0.0.1:3128" in p.stdout
    ev = events(log)
    assert [e["protection"] for e in ev if e["event"] == "SandboxDegraded"] == [
        "egress-transparent"]
    assert ev[0]["protections"]["egress_transparent"] is False


DNS_TCP = PY + r"""
import socket, struct, sys
def ask(name, qtype=1):
    q = struct.pack("!HHHHHH", 7, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack("!HH", qtype, 1)
    s = socket.create_connection(("127.0.0.1", 53), timeout=5)
    s.sendall(struct.pack("!H", len(q)) + q)
    n = struct.unpack("!H", s.recv(2))[0]
    r = b""
    while len(r) < n:
        r += s.recv(n - len(r))
    rcode, answers = r[3] & 0xf, struct.unpack("!H", r[6:8])[0]
    return rcode, answers, socket.inet_ntoa(r[-4:]) if answers else None
print(ask("localhost"), ask("not-granted.example"))
"""


def test_dns_stub_over_tcp_and_verbose_events(sandbox, shared_tmp, servers):
    """The stub answers over TCP too (length-prefixed); --verbose records each connection
    made, under the name it came from."""
    srv = servers()
    script = write_script(shared_tmp, "dnstcp.py", DNS_TCP)
    p = sandbox.run("--egress", "transparent", "--cap", f"NETWORK_CONNECT:localhost:{srv.port}",
                    script)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == b"(0, 1, '127.0.0.1') (3, 0, None)", p.stdout
    script = write_script(shared_tmp, "byname.py", PY + """
import socket, sys
print(socket.create_connection(("localhost", int(sys.argv[1])), timeout=5).recv(20))
""")
    log = os.path.join(shared_tmp, "v.jsonl")
    p = sandbox.run("--verbose", "--audit-log", log, "--egress", "transparent", "--cap",
                    f"NETWORK_CONNECT:localhost:{srv.port}", script, str(srv.port))
    assert p.returncode == 0, p.stderr
    used = [e for e in events(log) if e["event"] == "CapabilityUsed"]
    assert [(e["resource"], e["address"]) for e in used] == [
        (f"localhost:{srv.port}", f"127.0.0.1:{srv.port}")], used
