# SPDX-License-Identifier: LGPL-2.1-or-later
"""The audit log's hash chain (SPEC §5, tamper evidence): omnibase audit verify | tail."""
import json
import os
import signal
import subprocess
import time

from conftest import events

ZEROS = "0" * 64


def audit(ob_bin, *args, timeout=30):
    return subprocess.run([ob_bin, "audit", *args], capture_output=True, timeout=timeout)


def two_runs(sandbox, log):
    for _ in range(2):
        p = sandbox.run("--audit-log", log, "--cap", "FILE_READ:/etc/hostname", "/bin/sh",
                        "--", "-c", "cat /etc/passwd; true")
        assert p.returncode == 0, p.stderr


def rewrite(log, lines):
    with open(log, "w") as f:
        f.writelines(lines)


def test_run_log_verifies_and_runs_continue_the_chain(sandbox, ob_bin, shared_tmp):
    log = os.path.join(shared_tmp, "a.jsonl")
    two_runs(sandbox, log)
    ev = events(log)
    assert [e["seq"] for e in ev] == list(range(1, len(ev) + 1))
    assert ev[0]["prev"] == ZEROS
    assert len({e["execution_id"] for e in ev}) == 2  # two runs, one chain
    assert "CapabilityDenied" in [e["event"] for e in ev]
    p = audit(ob_bin, "verify", log)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode() == f"{log}: {len(ev)} events verified\n"


def test_edited_deleted_reordered_lines(sandbox, ob_bin, shared_tmp):
    log = os.path.join(shared_tmp, "b.jsonl")
    two_runs(sandbox, log)
    with open(log) as f:
        lines = f.readlines()
    assert len(lines) >= 4

    rewrite(log, lines[:1] + [lines[1].replace('"native"', '"gvisor"')] + lines[2:])
    p = audit(ob_bin, "verify", log)
    assert p.returncode == 1
    assert f"{log}:3: expected prev ".encode() in p.stderr
    assert b"(the hash of line 2)" in p.stderr and b"edited, deleted or reordered" in p.stderr

    rewrite(log, lines[:2] + lines[3:])
    p = audit(ob_bin, "verify", log)
    assert p.returncode == 1
    assert f"{log}:3: seq 4 where 3 was expected".encode() in p.stderr

    rewrite(log, lines[:1] + [lines[2], lines[1]] + lines[3:])
    p = audit(ob_bin, "verify", log)
    assert p.returncode == 1
    assert f"{log}:2: seq 3 where 2 was expected".encode() in p.stderr

    rewrite(log, lines[:2] + ["not json\n"] + lines[3:])
    p = audit(ob_bin, "verify", log)
    assert p.returncode == 1 and f"{log}:3: not a JSON object".encode() in p.stderr

    p = audit(ob_bin, "verify", os.path.join(shared_tmp, "missing.jsonl"))
    assert p.returncode == 125


def test_damaged_log_refuses_the_sink(sandbox, shared_tmp):
    log = os.path.join(shared_tmp, "c.jsonl")
    with open(log, "w") as f:
        f.write('{"event":"SandboxStart"')  # a write cut short
    os.chmod(log, 0o666)
    p = sandbox.run("--audit-log", log, "/bin/true")
    assert p.returncode == 125
    assert b"does not end in a newline" in p.stderr
    with open(log) as f:
        assert f.read() == '{"event":"SandboxStart"'  # left as it was


def test_tail(sandbox, ob_bin, shared_tmp):
    log = os.path.join(shared_tmp, "d.jsonl")
    two_runs(sandbox, log)
    n = len(events(log))
    p = audit(ob_bin, "tail", log)
    out = p.stdout.decode().splitlines()
    assert p.returncode == 0 and len(out) == n
    assert " #1 SandboxStart program=/bin/sh mode=sandbox" in out[0]
    p = audit(ob_bin, "tail", "--event", "CapabilityDenied", log)
    out = p.stdout.decode().splitlines()
    assert out and all(" CapabilityDenied capability=" in l for l in out)
    p = audit(ob_bin, "tail", "--json", "--event", "SandboxExit", log)
    assert [json.loads(l)["event"] for l in p.stdout.decode().splitlines()] == ["SandboxExit"] * 2
    assert audit(ob_bin, "tail", "--help").stdout.startswith(b"Usage: omnibase audit tail")
    assert audit(ob_bin, "tail").returncode == 125


def test_tail_follow_sees_appended_lines(sandbox, ob_bin, shared_tmp):
    log = os.path.join(shared_tmp, "e.jsonl")
    p = sandbox.run("--audit-log", log, "/bin/true")
    assert p.returncode == 0, p.stderr
    os.chmod(log, 0o666)
    t = subprocess.Popen([ob_bin, "audit", "tail", "--follow", "--event", "SandboxExit", log],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        first = t.stdout.readline()
        assert b" #2 SandboxExit status=0" in first
        p = sandbox.run("--audit-log", log, "/bin/sh", "--", "-c", "exit 3")
        assert p.returncode == 3
        again = t.stdout.readline()  # blocks until the run's exit event arrives
        assert b" #4 SandboxExit status=3" in again
        time.sleep(0.2)
        assert t.poll() is None  # still following
    finally:
        t.send_signal(signal.SIGTERM)
        assert t.wait(10) == 0
    assert audit(ob_bin, "verify", log).returncode == 0
