# SPDX-License-Identifier: LGPL-2.1-or-later
"""A record that cannot be flooded or stalled (SPEC §5, Floods; issue 22 item 2).

A program that repeats a refused call as fast as four threads can still writes a log of a
few events: identical refusals are folded (`repeated`), every run writes at most
`--limit events=N` events and says what it dropped, and an audit socket nobody reads never
holds the run up."""
import collections
import json
import os
import socket
import threading
import time

import pytest

from conftest import events


@pytest.fixture(scope="module")
def attack():
    path = os.environ.get("OB_ATTACK")
    if not path:
        pytest.fail("OB_ATTACK is not set: run through `meson test`")
    return path


def attempts(p):
    out = p.stdout.decode()
    assert out.startswith("flood "), (p.returncode, out, p.stderr)
    return int(out.split()[1])


def occurrences(ev, kind):
    """Each written refusal stands for itself and the repeats it carries."""
    return sum(1 + e.get("repeated", 0) for e in ev if e["event"] == kind)


def test_denial_flood_is_folded(sandbox, shared_tmp, attack):
    log = os.path.join(shared_tmp, "audit.jsonl")
    p = sandbox.run("--audit-log", log, attack, "flood", "/etc/passwd", "4", "2")
    assert p.returncode == 0, p.stderr
    n = attempts(p)
    assert n > 1000  # a real flood (today ~45,000 a second)
    assert os.path.getsize(log) < 200_000
    ev = events(log)
    assert len(ev) <= 10_000 + 3
    denied = [e for e in ev if e["event"] == "CapabilityDenied"]
    assert {e["resource"] for e in denied} == {"/etc/passwd"}
    # one a second (and the count pending at exit): no count lost
    assert len(denied) <= 5
    assert occurrences(ev, "CapabilityDenied") == n
    assert ev[-1]["event"] == "SandboxExit" and ev[-1]["violations"] == n
    assert not [e for e in ev if e["event"] == "EventsDropped"]


def hidden_files(shared_tmp):
    d = os.path.join(shared_tmp, "hidden")
    os.mkdir(d)
    os.chmod(d, 0o755)
    for i in range(1000):
        with open(os.path.join(d, str(i)), "w") as f:
            f.write("x")
    return d + "/"


def test_event_cap(sandbox, shared_tmp, attack):
    """A thousand different refusals, nothing to fold: fifty events, then counts."""
    log = os.path.join(shared_tmp, "audit.jsonl")
    d = hidden_files(shared_tmp)
    p = sandbox.run("--limit", "events=50", "--audit-log", log, attack, "flood", d, "4", "1")
    assert p.returncode == 0, p.stderr
    n = attempts(p)
    ev = events(log)
    kinds = collections.Counter(e["event"] for e in ev)
    assert len(ev) <= 50 + 3, kinds
    assert [e["event"] for e in ev[-3:]] == ["EventsDropped", "ResourceLimitExceeded",
                                             "SandboxExit"]
    dropped, hit = ev[-3], ev[-2]
    assert dropped["limit"] == 50
    assert (hit["resource"], hit["limit"]) == ("events", "50")
    assert occurrences(ev, "CapabilityDenied") + dropped["dropped"]["CapabilityDenied"] == n
    assert ev[-1]["violations"] == n


def test_flood_still_times_out(sandbox, shared_tmp, attack):
    log = os.path.join(shared_tmp, "audit.jsonl")
    t = time.monotonic()
    p = sandbox.run("--timeout", "2", "--audit-log", log, attack, "flood", "/etc/passwd", "4",
                    "30")
    took = time.monotonic() - t
    assert p.returncode == 124, p.stderr
    assert took < 4, took
    ev = events(log)
    assert os.path.getsize(log) < 200_000
    assert ("ResourceLimitExceeded", "timeout") in [(e["event"], e.get("resource")) for e in ev]
    assert ev[-1]["event"] == "SandboxExit"
    assert occurrences(ev, "CapabilityDenied") == ev[-1]["violations"]


class StalledReader:
    """A unix socket server that accepts and never reads."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        os.chmod(path, 0o777)
        self.sock.listen(4)
        self.conns = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                self.conns.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self):
        for c in self.conns:
            c.close()
        self.sock.close()


def test_stalled_audit_socket(sandbox, shared_tmp, attack):
    sock = os.path.join(shared_tmp, "stalled.sock")
    reader = StalledReader(sock)
    log = os.path.join(shared_tmp, "audit.jsonl")
    d = hidden_files(shared_tmp)
    try:
        t = time.monotonic()
        p, res = sandbox.run_json("--timeout", "20", "--audit-socket", sock, "--audit-log", log,
                                  attack, "flood", d, "4", "1")
        took = time.monotonic() - t
    finally:
        reader.close()
    assert res["exit_code"] == 0, p.stderr
    # a second of flood, at most a second of drain: never the timeout
    assert took < 5, took
    assert "events not delivered" in res["error"]
    assert b"audit socket:" in p.stderr
    # the file sink has it all
    ev = events(log)
    assert len(ev) <= 10_000 + 3
    assert ev[-1]["event"] == "SandboxExit"
