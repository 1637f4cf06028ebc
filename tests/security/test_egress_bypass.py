# SPDX-License-Identifier: LGPL-2.1-or-later
"""Attacks on the transparent egress path (a network grant, --egress both): other ABIs'
connect, TCP Fast Open, reusing a handed-over host socket (reconnect, listen), datagrams past
the DNS stub, io_uring, and a race on connect's address. Each must be refused, recorded, and
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
import select, socket, sys
granted_closed, other = int(sys.argv[1]), int(sys.argv[2])

# a handed-over host socket whose connection failed (nothing listens on the granted port)
s = socket.socket()
s.setblocking(False)
s.connect_ex(("127.0.0.1", granted_closed))
select.select([], [s], [], 5)
out["failed"] = errno.errorcode.get(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), "0")
attempt("listen_after_failure", lambda: s.listen(5))
attempt("reconnect_elsewhere", lambda: s.connect(("127.0.0.1", other)))
# the same after a disconnect (connect with AF_UNSPEC)
t = socket.socket()
t.setblocking(False)
t.connect_ex(("127.0.0.1", granted_closed))
select.select([], [t], [], 5)
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
out["disconnect"] = libc.connect(t.fileno(), b"\0" * 16, 16)  # AF_UNSPEC
attempt("listen_after_disconnect", lambda: t.listen(5))
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
    """A host socket handed over after a failed connect cannot listen on the host's network
    nor reconnect elsewhere; TCP Fast Open and datagrams past the stub are refused; io_uring
    stays refused."""
    other = servers()
    closed = free_port()
    script = write_script(shared_tmp, "reuse.py", REUSE)
    p, ev = run_logged(sandbox, shared_tmp, "--cap", f"NETWORK_CONNECT:127.0.0.1:{closed}",
                       script, str(closed), str(other.port), name="reuse")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["failed"] == "ECONNREFUSED" and out["disconnect"] == 0
    assert out["listen_after_failure"] == "EPERM"
    assert out["reconnect_elsewhere"] == "EACCES"
    assert out["listen_after_disconnect"] == "EPERM"
    assert out["fastopen_sendto"] == "EPERM" and out["fastopen_sendmsg"] == "EPERM"
    assert out["udp_sendto"] == "EACCES" and out["udp_sendto_dns_elsewhere"] == "EACCES"
    assert out["udp_connect"] == "EACCES"
    assert out["io_uring"] == "EPERM"
    assert other.count == 0
    denied = {(e["resource"], e["operation"]) for e in ev if e["event"] == "CapabilityDenied"}
    assert (f"127.0.0.1:{other.port}", "connect") in denied
    assert (f"127.0.0.1:{other.port}", "sendto") in denied
    assert ("10.0.0.1:53", "sendto") in denied
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
