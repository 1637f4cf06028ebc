# SPDX-License-Identifier: LGPL-2.1-or-later
"""Destinations of sendmsg and sendmmsg on the record (issue 22, item 1; SPEC §5): the address
is in memory (msg_name), so every sendmsg and sendmmsg goes to the supervisor, which judges it
as it judges sendto's — datagrams only to the sandbox's own loopback (with the transparent path
only to its DNS stub) — and records a refused one (CapabilityDenied, NETWORK_CONNECT, the
address, operation sendmsg or sendmmsg). A send without a destination (a connected socket,
unix IPC) goes on unchanged. A thread that swaps msg_name after the look reaches no host.
Root and rootless; runc and crun through the runtime's seccomp listener.
docs/design/runner.md "Observed denials", docs/design/egress.md."""
import os
import socket
import threading
import time

import pytest

from conftest import Sandbox, events, oci_backend_or_skip


def results(p):
    return dict(line.split(" ", 1) for line in p.stdout.decode().splitlines())


def denied(ev):
    return {(e["resource"], e["operation"]) for e in ev
            if e["event"] == "CapabilityDenied" and e["capability"] == "NETWORK_CONNECT"}


def run_logged(sb, shared_tmp, *args, name="run"):
    log = os.path.join(shared_tmp, name + ".jsonl")
    p = sb.run("--timeout", "30", "--audit-log", log, *args)
    return p, events(log)


# An address no route in the sandbox's empty network namespace reaches: nothing is sent.
UNROUTED = "10.0.0.1"


def test_destinations_recorded(sandbox, shared_tmp, attack):
    """No network grant: an outward destination is refused by the empty namespace and
    recorded; the sandbox's own loopback and unix IPC work, unrecorded."""
    p, ev = run_logged(sandbox, shared_tmp, attack, "sends", UNROUTED, "53")
    assert p.returncode == 0, p.stderr
    assert results(p) == {"sendmsg-udp": "ENETUNREACH", "sendmmsg-udp": "ENETUNREACH",
                          "sendmsg-tcp": "EPIPE", "sendmsg-own": "OK",
                          "sendmmsg-own": "OK", "sendmsg-unix": "OK",
                          "sendmmsg-unix": "OK"}, p.stdout
    assert denied(ev) == {(f"{UNROUTED}:53", "sendmsg"), (f"{UNROUTED}:53", "sendmmsg")}
    one = [e for e in ev if e["event"] == "CapabilityDenied"][0]
    assert one["pid"] > 0 and one["needed"] == f"NETWORK_CONNECT:{UNROUTED}:53"
    # the UDP sendmsg and the TCP one are the same refusal: one event carries the other
    n = sum(1 + e.get("repeated", 0) for e in ev if e["event"] == "CapabilityDenied")
    assert n == 3 and ev[-1]["violations"] == 3


def test_transparent_path_refuses(sandbox, shared_tmp, attack):
    """With a network grant (the transparent path) a datagram goes only to the DNS stub:
    everything else is answered EACCES and recorded, the host's loopback included."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(0.5)
    port = udp.getsockname()[1]
    p, ev = run_logged(sandbox, shared_tmp, "--cap", f"NETWORK_CONNECT:127.0.0.1:{port}",
                       attack, "sends", "127.0.0.1", str(port))
    assert p.returncode == 0, p.stderr
    out = results(p)
    assert out["sendmsg-udp"] == out["sendmmsg-udp"] == out["sendmsg-tcp"] == "EACCES", out
    assert out["sendmsg-unix"] == out["sendmmsg-unix"] == "OK", out
    got = denied(ev)
    assert (f"127.0.0.1:{port}", "sendmsg") in got and (f"127.0.0.1:{port}", "sendmmsg") in got
    with pytest.raises(socket.timeout):
        udp.recv(10)
    udp.close()


class UdpCounter:
    """A UDP socket on the host's 127.0.0.1 that counts what it receives."""

    def __init__(self, port=0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.count = 0
        self.stop = False
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while not self.stop:
            try:
                self.sock.recv(100)
                self.count += 1
            except OSError:
                continue

    def close(self):
        self.stop = True
        time.sleep(0.3)
        self.sock.close()


class TcpSink:
    """A TCP server on the host's 127.0.0.1 that counts connections and bytes."""

    def __init__(self, port=0):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.conns = self.bytes = 0
        self.stop = False
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.conns += 1
            threading.Thread(target=self.read, args=(c,), daemon=True).start()

    def read(self, c):
        c.settimeout(0.5)
        while not self.stop:
            try:
                b = c.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not b:
                break
            self.bytes += len(b)
        c.close()

    def close(self):
        self.stop = True
        time.sleep(0.6)
        self.sock.close()


def test_swapped_destination_reaches_nothing(sandbox, shared_tmp, attack):
    """A thread flips msg_name between NULL and the host's 127.0.0.1:BAD while sendmsg and
    sendmmsg go on, over a TCP socket the transparent path handed in (connected to the
    granted GOOD) and a UDP socket connected to the DNS stub. A swap after the look can only
    meet the kernel's own rules: TCP ignores a send's address, and a UDP socket is the
    sandbox's, whose namespace has no host. BAD (UDP and TCP) receives nothing; the attempts
    the supervisor saw are on the record."""
    good = TcpSink()
    bad_tcp = TcpSink()
    bad_udp = UdpCounter(bad_tcp.port)  # one port number, both protocols
    try:
        p, ev = run_logged(sandbox, shared_tmp, "--cap", f"NETWORK_CONNECT:127.0.0.1:{good.port}",
                           attack, "send-race", str(good.port), str(bad_udp.port), "2")
        time.sleep(0.5)
    finally:
        good.close()
        bad_udp.close()
        bad_tcp.close()
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode().split()
    assert out[0] == "send-race", out
    counts = dict(kv.split("=") for kv in out[1:])
    ok, refused = int(counts["ok"]), int(counts["refused"])
    assert ok > 0 and refused > 0, counts
    assert bad_udp.count == 0 and bad_tcp.conns == 0
    assert good.conns == 1 and good.bytes > 0
    got = denied(ev)
    assert (f"127.0.0.1:{bad_udp.port}", "sendmsg") in got, got
    assert (f"127.0.0.1:{bad_udp.port}", "sendmmsg") in got, got
    # every refusal the program saw (EACCES) is on the record
    n = sum(1 + e.get("repeated", 0) for e in ev if e["event"] == "CapabilityDenied"
            and e["resource"] == f"127.0.0.1:{bad_udp.port}")
    assert n == refused, (n, refused)


@pytest.mark.parametrize("backend", ["runc", "crun"])
def test_oci_backends_record_sends(ob_bin, shared_tmp, attack, backend):
    """runc and crun trap sendmsg and sendmmsg through the runtime's listener: the same
    events, and unix IPC unchanged (as root: they run as root only)."""
    oci_backend_or_skip(ob_bin, backend)
    sb = Sandbox(ob_bin, "root")
    p, ev = run_logged(sb, shared_tmp, "--backend", backend, "--cap",
                       f"FILE_READ:{attack}", attack, "sends", UNROUTED, "53", name=backend)
    assert p.returncode == 0, p.stderr
    out = results(p)
    assert out["sendmsg-udp"] == out["sendmmsg-udp"] == "ENETUNREACH", out
    assert out["sendmsg-unix"] == out["sendmmsg-unix"] == "OK", out
    assert out["sendmsg-own"] == out["sendmmsg-own"] == "OK", out
    assert denied(ev) == {(f"{UNROUTED}:53", "sendmsg"), (f"{UNROUTED}:53", "sendmmsg")}
