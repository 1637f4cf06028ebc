# SPDX-License-Identifier: LGPL-2.1-or-later
"""Egress keeps its promises (SPEC §3): a granted host name that resolves to the host's own
loopback reaches nothing — through the proxy and through the transparent path (DNS stub and
connect) — refused and recorded; the address granted by itself reaches the server;
`localhost` stays allowed. The name is one the host's /etc/hosts points at 127.0.0.0/8 (the
machine's own name on Debian). Servers run on the host's 127.0.0.1. Root and rootless."""
import json
import os
import socket

import pytest

from conftest import events, write_script

PY = "#!/usr/bin/python3\n"


def loopback_name():
    """A name other than localhost that the host resolves only to loopback, or skip."""
    for name in (socket.gethostname(), "localhost.localdomain", "ip6-localhost", "runsc"):
        try:
            addrs = {a[4][0] for a in socket.getaddrinfo(name, 80, proto=socket.IPPROTO_TCP)}
        except OSError:
            continue
        if name != "localhost" and addrs and all(
                a.startswith("127.") or a in ("::1", "::ffff:127.0.0.1") for a in addrs):
            return name, addrs
    pytest.skip("no host name other than localhost resolves to loopback here")


PROXIED = PY + r"""
import json, sys, urllib.request
name, port = sys.argv[1], int(sys.argv[2])
def fetch(url):
    try:
        return urllib.request.urlopen(url, timeout=10).read().decode()
    except Exception as e:
        return "ERR %s" % getattr(e, "code", e)
print(json.dumps({"by_name": fetch(f"http://{name}:{port}/n"),
                  "localhost": fetch(f"http://localhost:{port}/l")}))
"""


def denials(log):
    return [e for e in events(log) if e["event"] == "CapabilityDenied"
            and e["capability"] == "NETWORK_CONNECT"]


def test_proxy_refuses_a_name_resolving_to_loopback(sandbox, shared_tmp, web):
    """Through the proxy: the granted name that resolves to 127.0.0.1 gets 403 and a
    CapabilityDenied saying why; the server sees nothing of it; `localhost` still works."""
    name, _ = loopback_name()
    port, hits = web
    script = write_script(shared_tmp, "proxied.py", PROXIED)
    log = os.path.join(shared_tmp, "proxy.jsonl")
    p = sandbox.run("--egress", "proxy", "--audit-log", log,
                    "--cap", f"NETWORK_CONNECT:{name}:{port}",
                    "--cap", f"NETWORK_CONNECT:localhost:{port}", script, name, str(port))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["by_name"] == "ERR 403" and out["localhost"] == "served /l"
    assert hits == ["/l"]
    ev = [e for e in denials(log) if e["resource"] == f"{name}:{port}"]
    assert ev and ev[0]["operation"] == "connect", denials(log)
    assert "resolves to loopback 127." in ev[0]["detail"]
    assert "grant the address" in ev[0]["detail"]


def test_proxy_reaches_a_loopback_name_whose_address_is_granted(sandbox, shared_tmp, web):
    """The same name with its address granted (an IP grant naming it) reaches the server."""
    name, addrs = loopback_name()
    port, hits = web
    script = write_script(shared_tmp, "proxied.py", PROXIED)
    caps = ["--cap", f"NETWORK_CONNECT:{name}:{port}", "--cap",
            f"NETWORK_CONNECT:localhost:{port}"]
    for a in sorted(addrs):
        caps += ["--cap", f"NETWORK_CONNECT:{a if ':' not in a else '[' + a + ']'}:{port}"]
    p = sandbox.run("--egress", "proxy", *caps, script, name, str(port))
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["by_name"] == "served /n"
    assert "/n" in hits


DIRECT = PY + r"""
import json, socket, sys
name, port = sys.argv[1], int(sys.argv[2])
out = {}
try:
    out["resolved"] = sorted({a[4][0] for a in socket.getaddrinfo(name, port)})
except socket.gaierror as e:
    out["resolved"] = "gaierror"
for key, host in (("by_name", name), ("by_ip", "127.0.0.1"), ("localhost", "localhost")):
    try:
        s = socket.create_connection((host, port), timeout=5)
        out[key] = s.recv(100).decode().split()[0]
    except OSError as e:
        out[key] = type(e).__name__
print(json.dumps(out))
"""


def test_transparent_refuses_a_name_resolving_to_loopback(sandbox, shared_tmp, servers):
    """Through the transparent path: the DNS stub does not answer the granted name with a
    loopback address (NXDOMAIN, recorded), and a connect to that address is refused
    (EACCES, recorded): the server is never reached; `localhost` still is."""
    name, _ = loopback_name()
    srv = servers()
    script = write_script(shared_tmp, "direct.py", DIRECT)
    log = os.path.join(shared_tmp, "direct.jsonl")
    p = sandbox.run("--egress", "transparent", "--audit-log", log,
                    "--cap", f"NETWORK_CONNECT:{name}:{srv.port}",
                    "--cap", f"NETWORK_CONNECT:localhost:{srv.port}", script, name,
                    str(srv.port))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["resolved"] == "gaierror" and out["by_name"] == "gaierror", out
    assert out["by_ip"] == "PermissionError"
    assert out["localhost"] == "hello"
    assert srv.count == 1
    ev = denials(log)
    resolve = [e for e in ev if e["operation"] == "resolve" and e["resource"] == name]
    assert resolve and "loopback" in resolve[0]["detail"], ev
    assert any(e["operation"] == "connect" and e["resource"] == f"127.0.0.1:{srv.port}"
               for e in ev), ev


def test_transparent_reaches_a_loopback_name_whose_address_is_granted(sandbox, shared_tmp,
                                                                      servers):
    """With the address granted too, the name resolves through the stub and connects."""
    name, addrs = loopback_name()
    srv = servers()
    script = write_script(shared_tmp, "direct.py", DIRECT)
    caps = ["--cap", f"NETWORK_CONNECT:{name}:{srv.port}"]
    for a in sorted(addrs):
        caps += ["--cap", f"NETWORK_CONNECT:{a if ':' not in a else '[' + a + ']'}:{srv.port}"]
    p = sandbox.run("--egress", "transparent", *caps, script, name, str(srv.port))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["by_name"] == "hello", out
    assert srv.count >= 1
