# SPDX-License-Identifier: LGPL-2.1-or-later
"""Attacks on the transparent egress path (a network grant, --egress both): other ABIs'
connect, TCP Fast Open, reusing a handed-over host socket (reconnect, disconnect, bind,
listen), datagrams past the DNS stub, io_uring, and a race on connect's address. Each must be refused, recorded, and
never reach the server that counts. Root and rootless."""
import json
import os
import platform
import socket
import time

import pytest

from conftest import ATTEMPT, events, write_script

PY = "#!/usr/bin/python3\n"
ATTACK = os.environ.get("OB_ATTACK", "")

pytestmark = pytest.mark.skipif(platform.machine() != "x86_64",
                                reason="system call numbers below are x86_64's")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run_logged(sandbox, shared_tmp, *args, name="run"):
    log = os.path.join(shared_tmp, name + ".jsonl")
    p = sandbox.run("--audit-log", log, *args)
    return p, events(log)


@pytest.mark.parametrize("mode", ["int80-connect", "x32-connect"])
def test_other_abis_cannot_connect(sandbox, shared_tmp, servers, mode):
    """The i386 socketcall and x32 connect entry points never reach the trap's decision,
    let alone the network: refused as violations."""
    target = servers()
    p, ev = run_logged(sandbox, shared_tmp, "--cap", f"NETWORK_CONNECT:127.0.0.1:{target.port}",
                       ATTACK, mode, str(target.port), name=mode)
    assert p.stdout.decode().split() == [mode, "EPERM"], (p.stdout, p.stderr)
    assert any(e["event"] == "SandboxViolation" for e in ev)
    assert target.count == 0


REUSE = PY + ATTEMPT + r"""
import ctypes, select, socket, struct, sys, time
granted_closed, other, granted_open = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
libc = ctypes.CDLL(None, use_errno=True)
UNSPEC = b"\0" * 16  # connect(AF_UNSPEC): a disconnect

def disconnect(s):
    if libc.connect(s.fileno(), UNSPEC, 16) < 0:
        raise OSError(ctypes.get_errno(), "connect(AF_UNSPEC)")

# a handed-over host socket whose connection failed (nothing listens on the granted port)
s = socket.socket()
s.setblocking(False)
s.connect_ex(("127.0.0.1", granted_closed))
select.select([], [s], [], 5)
out["failed"] = errno.errorcode.get(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), "0")
attempt("listen_after_failure", lambda: s.listen(5))
attempt("reconnect_elsewhere", lambda: s.connect(("127.0.0.1", other)))
attempt("bind_after_failure", lambda: s.bind(("127.0.0.1", 0)))
# the same after a disconnect (connect with AF_UNSPEC)
t = socket.socket()
t.setblocking(False)
t.connect_ex(("127.0.0.1", granted_closed))
select.select([], [t], [], 5)
attempt("disconnect_failed", lambda: disconnect(t))
attempt("listen_after_disconnect", lambda: t.listen(5))
# a connected one (the server greets, then closes): still connected, it cannot be
# disconnected, bound or listened on; once its connection has ended the kernel would let
# it bind a host port: refused too
c = socket.create_connection(("127.0.0.1", granted_open), timeout=5)
out["greeting"] = c.recv(100).decode().split()[0]
attempt("reconnect_connected", lambda: c.connect(("127.0.0.1", granted_open)))
attempt("disconnect_connected", lambda: disconnect(c))
attempt("bind_connected", lambda: c.bind(("127.0.0.1", 0)))
attempt("listen_connected", lambda: c.listen(5))
c.shutdown(socket.SHUT_WR)
time.sleep(0.2)
attempt("bind_ended", lambda: c.bind(("127.0.0.1", 0)))
# the sandbox's own sockets keep binding, listening and disconnecting
own = socket.socket()
attempt("own_bind", lambda: own.bind(("127.0.0.1", 0)))
attempt("own_listen", lambda: own.listen(5))
attempt("own_low_port", lambda: socket.socket().bind(("127.0.0.1", 80)))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 0))
attempt("own_udp_disconnect", lambda: disconnect(u))
x = socket.socket(socket.AF_UNIX)
attempt("own_unix_bind", lambda: x.bind("/tmp/own.sock"))
# TCP Fast Open: a connect inside sendto / sendmsg
u = socket.socket()
attempt("fastopen_sendto", lambda: u.sendto(b"x", socket.MSG_FASTOPEN, ("127.0.0.1", other)))
attempt("fastopen_sendmsg",
        lambda: u.sendmsg([b"x"], [], socket.MSG_FASTOPEN, ("127.0.0.1", other)))
# datagrams: only to the DNS stub, never out, not even to a port 53 elsewhere
d = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
attempt("udp_sendto", lambda: d.sendto(b"x", ("127.0.0.1", other)))
attempt("udp_sendto_dns_elsewhere", lambda: d.sendto(b"x", ("10.0.0.1", 53)))
attempt("udp_connect", lambda: d.connect(("127.0.0.1", other)))
# io_uring stays refused with a network grant
params = ctypes.create_string_buffer(120)
r = libc.syscall(425, 4, params)
out["io_uring"] = errno.errorcode[ctypes.get_errno()] if r < 0 else "OK"
print(json.dumps(out))
"""


def test_handed_over_sockets_and_datagrams(sandbox, shared_tmp, servers):
    """A host socket handed over by the transparent path stays what it was granted for:
    whether its connection failed, holds or ended, it cannot be disconnected
    (connect(AF_UNSPEC)), reconnected elsewhere, bound or listened on in the host's network
    — each refused and recorded; the sandbox's own sockets still bind, listen and
    disconnect. TCP Fast Open and datagrams past the stub are refused; io_uring stays
    refused."""
    other, greeter = servers(), servers()
    closed = free_port()
    script = write_script(shared_tmp, "reuse.py", REUSE)
    p, ev = run_logged(sandbox, shared_tmp, "--cap", f"NETWORK_CONNECT:127.0.0.1:{closed}",
                       "--cap", f"NETWORK_CONNECT:127.0.0.1:{greeter.port}",
                       script, str(closed), str(other.port), str(greeter.port), name="reuse")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["failed"] == "ECONNREFUSED"
    assert out["listen_after_failure"] == "EPERM"
    assert out["reconnect_elsewhere"] == "EACCES"
    assert out["bind_after_failure"] == "EPERM"
    assert out["disconnect_failed"] == "EACCES"
    assert out["listen_after_disconnect"] == "EPERM"
    assert out["greeting"] == "hello"
    assert out["reconnect_connected"] == "EISCONN"  # as the kernel says; nothing changes
    assert out["disconnect_connected"] == "EACCES"
    assert out["bind_connected"] == "EPERM" and out["listen_connected"] == "EPERM"
    assert out["bind_ended"] == "EPERM"
    assert out["own_bind"] == "OK" and out["own_listen"] == "OK"
    assert out["own_low_port"] == "EACCES"  # as the kernel would say to the program
    assert out["own_udp_disconnect"] == "OK" and out["own_unix_bind"] == "OK"
    assert out["fastopen_sendto"] == "EPERM" and out["fastopen_sendmsg"] == "EPERM"
    assert out["udp_sendto"] == "EACCES" and out["udp_sendto_dns_elsewhere"] == "EACCES"
    assert out["udp_connect"] == "EACCES"
    assert out["io_uring"] == "EPERM"
    assert other.count == 0 and greeter.count == 1
    denials = [e for e in ev if e["event"] == "CapabilityDenied"
               and e["capability"] == "NETWORK_CONNECT"]
    denied = {(e["resource"], e["operation"]) for e in denials}
    assert (f"127.0.0.1:{other.port}", "sendto") in denied
    assert ("10.0.0.1:53", "sendto") in denied
    # the connected host socket: recorded with its own address (its peer), per operation
    for op in ("connect", "bind", "listen"):
        assert (f"127.0.0.1:{greeter.port}", op) in denied, (op, denied)
    host = [e for e in denials if "handed in by the transparent path" in e.get("detail", "")]
    assert {e["operation"] for e in host} == {"connect", "bind", "listen"}
    assert any("AF_UNSPEC" in e["detail"] for e in host)
    assert any(f"to 127.0.0.1:{other.port}" in e["detail"] for e in host)
    calls = [e["syscall"] for e in ev if e["event"] == "SandboxViolation"]
    assert "sendto" in calls and "sendmsg" in calls and "io_uring_setup" in calls


RACE = PY + r"""
import ctypes, socket, struct, sys, threading, time
libc = ctypes.CDLL(None, use_errno=True)
good, bad = int(sys.argv[1]), int(sys.argv[2])
addr = ctypes.create_string_buffer(16)
def sa(port):
    return struct.pack("!HH4s8x", socket.AF_INET, port, socket.inet_aton("127.0.0.1"))
sa_good = struct.pack("=H", socket.AF_INET) + sa(good)[2:]
sa_bad = struct.pack("=H", socket.AF_INET) + sa(bad)[2:]
ctypes.memmove(addr, sa_good, 16)
stop = False
def flip():
    while not stop:
        ctypes.memmove(addr, sa_bad, 16)
        ctypes.memmove(addr, sa_good, 16)
threading.Thread(target=flip, daemon=True).start()
ok = refused = 0
end = time.monotonic() + 2
while time.monotonic() < end:
    s = socket.socket()
    if libc.connect(s.fileno(), addr, 16) == 0:
        ok += 1
    else:
        refused += 1
    s.close()
stop = True
print(ok, refused)
"""


def test_racing_the_address_reaches_nothing_else(sandbox, shared_tmp, servers):
    """A thread flips connect()'s address between a granted and a refused port while the
    main thread connects in a loop: the supervisor connects with its own copy of what it
    checked, so the refused port is never reached."""
    good, bad = servers(), servers()
    script = write_script(shared_tmp, "race.py", RACE)
    p = sandbox.run("--timeout", "20", "--cap", f"NETWORK_CONNECT:127.0.0.1:{good.port}",
                    script, str(good.port), str(bad.port))
    assert p.returncode == 0, p.stderr
    ok, refused = map(int, p.stdout.split())
    assert ok > 0 and refused > 0, (ok, refused)
    time.sleep(0.3)
    assert bad.count == 0 and good.count == ok


NO_LISTENER = PY + r"""
import os
links = []
for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            links.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
    except OSError:
        pass
print(sum("seccomp" in l for l in links), len(links) > 0)
"""


def test_no_process_inside_holds_the_listener(sandbox, shared_tmp):
    """The notification path cannot be forged or answered from inside: no process in the
    sandbox holds the seccomp listener (the program sent it to the supervisor and closed
    it; PID 1 never had one)."""
    script = write_script(shared_tmp, "nolistener.py", NO_LISTENER)
    p = sandbox.run("--cap", "NETWORK_CONNECT:127.0.0.1:9", script)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == [b"0", b"True"], p.stdout
