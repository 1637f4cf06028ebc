# SPDX-License-Identifier: LGPL-2.1-or-later
"""TCP connects with --egress proxy (docs/design/egress.md, "Landlock TCP rules"; issue 22).
Landlock lets the program's TCP connects reach the proxy's port only. A connect to another
port (a server of the program's own on the sandbox's loopback) was Landlock's EACCES with no
event; it is now answered by the supervisor and recorded. A connect to the proxy is made by
the supervisor on a copy of the program's socket, with its own copy of the address, so a
thread that swaps the port after the look cannot get an unrecorded refusal either."""
import os

from conftest import events


def test_swapped_port_keeps_its_record(sandbox, shared_tmp, attack):
    """One thread flips the port of a sockaddr between the proxy's (3128) and another, the
    other connects new TCP sockets to it for a second: every refused connect is on the record
    as 127.0.0.1:3129, and the connects to the proxy worked."""
    log = os.path.join(shared_tmp, "audit.jsonl")
    p = sandbox.run("--egress", "proxy", "--cap", "NETWORK_CONNECT:127.0.0.1:9",
                    "--audit-log", log, attack, "connect-race", "3128", "3129", "1")
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode().split()
    assert out[0] == "connect-race" and len(out) == 5, (out, p.stderr)
    attempts, connected, refused, caught = map(int, out[1:])
    assert connected > 0 and refused > 0 and caught == 0, out
    assert connected + refused == attempts, out
    ev = events(log)
    denied = [e for e in ev if e["event"] == "CapabilityDenied"]
    assert {(e["capability"], e["resource"], e["operation"]) for e in denied} == {
        ("NETWORK_CONNECT", "127.0.0.1:3129", "connect")}, denied[:3]
    assert sum(1 + e.get("repeated", 0) for e in denied) == refused
    assert not [e for e in ev if e["event"] == "SandboxViolation"]
