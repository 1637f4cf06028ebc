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
import subprocess
import threading
import time

import pytest

from conftest import events


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


def test_violation_flood_is_folded(sandbox, shared_tmp, attack):
    """Four threads making one refused system call: one SandboxViolation a second, the
    others counted into `repeated`, and every one in SandboxExit.violations."""
    log = os.path.join(shared_tmp, "audit.jsonl")
    p = sandbox.run("--audit-log", log, attack, "flood-call", "4", "2")
    assert p.returncode == 0, p.stderr
    n = attempts(p)
    assert n > 1000
    assert os.path.getsize(log) < 200_000
    ev = events(log)
    viol = [e for e in ev if e["event"] == "SandboxViolation"]
    assert {e["syscall"] for e in viol} == {"syslog"}
    assert 1 <= len(viol) <= 5, len(viol)
    assert any(e.get("repeated", 0) > 0 for e in viol)
    assert occurrences(ev, "SandboxViolation") == n
    assert ev[-1]["event"] == "SandboxExit" and ev[-1]["violations"] == n
    assert not [e for e in ev if e["event"] == "EventsDropped"]


def timed_out_flood(sandbox, shared_tmp, max_bytes, *args):
    """Runs a flood (ARGS) under --timeout 2: it ends at the timeout (124, within 4 s), its
    record under MAX_BYTES and closed by the timeout's event and SandboxExit. The events."""
    log = os.path.join(shared_tmp, "audit.jsonl")
    t = time.monotonic()
    p = sandbox.run("--timeout", "2", "--audit-log", log, *args)
    took = time.monotonic() - t
    assert p.returncode == 124, p.stderr
    assert took < 4, took
    ev = events(log)
    assert os.path.getsize(log) < max_bytes
    assert ("ResourceLimitExceeded", "timeout") in [(e["event"], e.get("resource")) for e in ev]
    assert ev[-1]["event"] == "SandboxExit"
    return ev


def test_violation_flood_counts_against_cap_and_times_out(sandbox, shared_tmp, attack):
    ev = timed_out_flood(sandbox, shared_tmp, 50_000, "--limit", "events=3", attack,
                         "flood-call", "4", "30")
    dropped = [e for e in ev if e["event"] == "EventsDropped"]
    # SandboxStart and the first violation fill the cap; what is folded after is dropped
    # at the end (the flush), counted by kind
    written = occurrences(ev, "SandboxViolation")
    lost = dropped[0]["dropped"].get("SandboxViolation", 0) if dropped else 0
    assert written + lost == ev[-1]["violations"], (written, lost, ev[-1])
    assert written >= 1


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
    ev = timed_out_flood(sandbox, shared_tmp, 200_000, attack, "flood", "/etc/passwd", "4",
                         "30")
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


BLACKHOLE = r"""
import socket, sys, threading, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 53))
t = socket.socket()
t.bind(("127.0.0.1", 53))
t.listen(64)
n = 0
def tcp():
    while True:
        t.accept()  # and never answer
threading.Thread(target=tcp, daemon=True).start()
print("ready", flush=True)
u.settimeout(0.2)
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    try:
        u.recvfrom(4096)  # a query, never answered
        n += 1
    except socket.timeout:
        pass
open(sys.argv[1], "w").write(str(n))
"""

HANG = r"""
set -e
ip link set lo up
printf 'nameserver 127.0.0.1\noptions timeout:30 attempts:3\n' > "$DIR/resolv.conf"
mount --bind "$DIR/resolv.conf" /etc/resolv.conf
/usr/bin/python3 "$DIR/blackhole.py" "$DIR/queries" 8 > "$DIR/ready" &
while ! grep -q ready "$DIR/ready" 2>/dev/null; do sleep 0.05; done
set +e
start=$(date +%s%N)
"$OB" sandbox run --timeout 3 --egress proxy --cap NETWORK_CONNECT:slow.test:443 \
    "$ATTACK" proxy-hangup slow.test:443
echo "rc=$? took=$(( ($(date +%s%N) - start) / 1000000 ))"
wait
"""


def test_timeout_holds_during_stalled_lookups(ob_bin, attack, tmp_path):
    """Proxy lookups of a granted name that never finish, abandoned by a client that hangs up
    mid-lookup, again and again: `--timeout 3` still ends the run in about 3 s (it took 39.6 s
    before the resolver's cancel stopped waiting).  Nothing leaves the machine: omnibase runs
    in a network namespace of its own (loopback only) whose /etc/resolv.conf names a server on
    127.0.0.1 that takes every query and answers none."""
    if os.geteuid() != 0:
        pytest.skip("needs root: a mount and network namespace for the resolver")
    (tmp_path / "blackhole.py").write_text(BLACKHOLE)
    (tmp_path / "hang.sh").write_text(HANG)
    env = dict(os.environ, DIR=str(tmp_path), OB=ob_bin, ATTACK=attack)
    t = time.monotonic()
    p = subprocess.run(["unshare", "--mount", "--net", "sh", str(tmp_path / "hang.sh")],
                       capture_output=True, env=env, timeout=60)
    out = p.stdout.decode()
    assert "rc=124" in out, (out, p.stderr)
    took_ms = int(out.split("took=")[1].split()[0])
    assert 2900 <= took_ms < 4500, took_ms
    queries = int((tmp_path / "queries").read_text())
    assert queries > 0  # the lookups were under way, and stuck
    assert time.monotonic() - t < 20
