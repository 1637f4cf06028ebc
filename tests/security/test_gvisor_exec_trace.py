# SPDX-License-Identifier: LGPL-2.1-or-later
"""gVisor without Landlock (docs/design/backends.md): the exec allow-list by what its mounts
show (bin directories holding only the granted names, every other bind noexec), refused execs
and refused system calls recorded from runsc's log, and that log unforgeable by what a program
puts in a path. As root and rootless (runsc --rootless)."""
import os

import pytest

from conftest import events, oci_backend_or_skip, write_script

# The runsc sandbox's host pid is never 1 (the host's init): a forger's best guess fails.
FORGED = (r"/nonexistent/x\n"
          r"I1205 04:16:26.035683       1 strace.go:608] [   1:   1] sh X open(0x1 /etc/shadow, "
          r"O_RDONLY, 0o0) = 0 (0x0) errno=2 (no such file or directory) (1us)\n"
          r"D1205 04:16:26.035793       1 task_syscall.go:240] [   1:   1] Syscall 153: denied "
          r"by seccomp\ny")

TRACE = "#!/bin/sh\n" + f"""
forged="$(printf '{FORGED}')"
( : < "$forged" ) 2>/dev/null || echo "forged refused"
( : < "$1" ) 2>/dev/null || echo "hidden refused"
echo done
"""

EXEC = "#!/bin/sh\n" + r"""
/usr/bin/id -u 2>/dev/null || echo "id refused"
/lib64/ld-linux-x86-64.so.2 /usr/bin/id -u 2>/dev/null || echo "loader id refused"
awk 'BEGIN { print "awk ran" }'
echo /usr/bin/*
( : > /usr/bin/new ) 2>/dev/null && echo "wrote a bin directory" || echo "bin read-only"
cp /bin/sh /tmp/sh 2>/dev/null; cat /bin/sh > /tmp/sh2 2>/dev/null
chmod +x /tmp/sh2 2>/dev/null; /tmp/sh2 -c 'echo ran a copy' 2>/dev/null || echo "copy refused"
"""


@pytest.fixture(params=["root", "user"])
def who(request, ob_bin):
    oci_backend_or_skip(ob_bin, "gvisor", request.param)
    return request.param


def test_forged_lines_give_no_event_and_hide_none(sandbox, shared_tmp):
    """A path holding newlines and copies of the log's lines (strace's and the seccomp
    refusal's, under a guessed pid) forges nothing; a host file whose name holds a newline
    and a log line, refused, is recorded under its whole name."""
    hidden = os.path.join(shared_tmp, "secret\nI1205 04:16:26.035683   1 strace.go:608] x")
    with open(hidden, "w") as f:
        f.write("x\n")
    script = write_script(shared_tmp, "trace.sh", TRACE)
    log = os.path.join(shared_tmp, "t.jsonl")
    p = sandbox.run("--backend", "gvisor", "--allow-degraded", "--audit-log", log, script,
                    "--", hidden)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split(b"\n")[:3] == [b"forged refused", b"hidden refused", b"done"], p.stdout
    ev = events(log)
    denied = [e["resource"] for e in ev if e["event"] == "CapabilityDenied"]
    assert "/etc/shadow" not in denied, denied
    assert hidden in denied, denied
    assert not [e for e in ev if e["event"] == "SandboxViolation"], ev


def test_exec_allow_list_by_visibility(sandbox, shared_tmp):
    """Only the granted names are in the bin directories (a symlink chain through
    /etc/alternatives kept); a program not granted is not there to run, not even through the
    dynamic loader; a copy of a granted one is not executable; each refusal recorded."""
    script = write_script(shared_tmp, "exec.sh", EXEC)
    log = os.path.join(shared_tmp, "e.jsonl")
    p = sandbox.run("--backend", "gvisor", "--allow-degraded", "--audit-log", log, "--cap",
                    "EXTERNAL_COMMAND:awk", "--cap", "EXTERNAL_COMMAND:cat", "--cap",
                    "EXTERNAL_COMMAND:chmod", script)
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode().split("\n")
    assert out[:3] == ["id refused", "loader id refused", "awk ran"], out
    names = set(out[3].split())
    assert names == {"/usr/bin/awk", "/usr/bin/mawk", "/usr/bin/cat", "/usr/bin/chmod",
                     "/usr/bin/dash", "/usr/bin/sh"}, names
    assert out[4:6] == ["bin read-only", "copy refused"], out
    denied = [e["resource"] for e in events(log) if e["event"] == "CapabilityDenied"
              and e["capability"] == "EXTERNAL_COMMAND"]
    assert "/usr/bin/id" in denied and "/tmp/sh2" in denied, denied


def test_refused_calls_recorded(sandbox, shared_tmp):
    """A call the seccomp allow-list refuses is a SandboxViolation on gVisor too (runsc's
    debug log names it, without its arguments)."""
    script = write_script(shared_tmp, "ns.sh", "#!/bin/sh\nunshare -U true 2>/dev/null; "
                          "echo $?\n")
    log = os.path.join(shared_tmp, "v.jsonl")
    p = sandbox.run("--backend", "gvisor", "--allow-degraded", "--audit-log", log, "--cap",
                    "EXTERNAL_COMMAND:unshare", "--cap", "EXTERNAL_COMMAND:true", script)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() != b"0", p.stdout
    v = [e["syscall"] for e in events(log) if e["event"] == "SandboxViolation"]
    assert "unshare" in v, v


LOADER = "#!/bin/sh\n" + r"""
ld=/lib64/ld-linux-x86-64.so.2
$ld /usr/bin/awk 'BEGIN { print "granted ran" }' || echo "granted refused"
$ld "$1" -u 2>/dev/null; echo "copy $?"
$ld /usr/bin/id -u 2>/dev/null; echo "hidden $?"
$ld --list /usr/bin/awk 2>/dev/null; echo "option $?"
$ld 2>/dev/null; echo "alone $?"
for real in /dev/.omnibase-loader-*; do
    "$real" /usr/bin/awk 'BEGIN { print 1 }' 2>/dev/null; echo "real $?"
done
/usr/bin/python3 -c 'import ssl, sys; print("python", sys.version_info[0])'
"""


def test_loader_as_program_runs_only_what_the_mounts_allow(sandbox, shared_tmp):
    """Without --allow-degraded: the dynamic loader's place holds omnibase-loader, which maps
    the real loader for the programs that name it (python3 with its C extensions runs) and,
    run as a program ("ld.so FILE"), executes FILE, so only a granted program runs; a
    readable copy of one (noexec) and a program not granted are refused and recorded, as is
    the real loader run from where the shim maps it (noexec)."""
    copy = os.path.join(shared_tmp, "id-copy")
    with open("/usr/bin/id", "rb") as src, open(copy, "wb") as dst:
        dst.write(src.read())
    os.chmod(copy, 0o755)
    script = write_script(shared_tmp, "loader.sh", LOADER)
    log = os.path.join(shared_tmp, "l.jsonl")
    p = sandbox.run("--backend", "gvisor", "--audit-log", log, "--cap",
                    f"FILE_READ:{copy}", "--cap", "EXTERNAL_COMMAND:awk", "--cap",
                    "EXTERNAL_COMMAND:/usr/bin/python3", script, "--", copy)
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode().split("\n")
    assert out[:5] == ["granted ran", "copy 126", "hidden 127", "option 127", "alone 127"], out
    real = [line for line in out if line.startswith("real ")]
    assert real and set(real) == {"real 126"}, out
    assert "python 3" in out, out
    ev = events(log)
    assert not [e for e in ev if e["event"] == "SandboxDegraded"], ev
    denied = {e["resource"] for e in ev if e["event"] == "CapabilityDenied"
              and e["capability"] == "EXTERNAL_COMMAND"}
    assert {copy, "/usr/bin/id"} <= denied, denied
    assert any(r.startswith("/dev/.omnibase-loader-") for r in denied), denied
