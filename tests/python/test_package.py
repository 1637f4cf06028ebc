# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Python package (SPEC §8), tested as installed (ci/test.sh installs it into a venv)."""
import errno
import json
import os
import shutil
import threading
import time

import pytest

import omnibase as ob
from omnibase import (Capability, CapabilityContext, CapabilityError, CapabilitySet,
                      CapabilityType, RunResult, Sandbox, SandboxViolationError)

SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def test_installed_not_the_source_tree():
    assert not ob.__file__.startswith(os.path.join(SOURCE, "python")), ob.__file__
    assert ob.version() == "0.1.0"


def caps(*specs, workdir="/"):
    return CapabilitySet([Capability(CapabilityType[t], r) for t, r in specs], workdir=workdir)


def test_has_capability_and_patterns():
    s = caps(("FILE_READ", "/data/*.txt"))
    assert s.has_capability(Capability(CapabilityType.FILE_READ, "/data/a.txt"))
    assert not s.has_capability(Capability(CapabilityType.FILE_READ, "/data/a.py"))
    assert not s.has_capability(Capability(CapabilityType.FILE_WRITE, "/data/a.txt"))
    assert len(s) == 1 and list(s)[0].resource == "/data/*.txt"


def test_conditions_use_the_context():
    s = CapabilitySet([Capability("SECRET_ACCESS", "db", {"env": "prod"})])
    c = Capability(CapabilityType.SECRET_ACCESS, "db")
    assert s.has_capability(c, {"env": "prod"})
    assert not s.has_capability(c, {"env": "dev"})
    CapabilityContext(s, context={"env": "prod"}).check_secret("db")
    with pytest.raises(CapabilityError):
        CapabilityContext(s, context={"env": "dev"}).check_secret("db")


def test_check_file_read_relative_to_the_context_workdir(tmp_path):
    s = caps(("FILE_READ", str(tmp_path / "src" / "*.py")))
    ctx = CapabilityContext(s, workdir=str(tmp_path))
    ctx.check_file_read("src/a.py")
    with pytest.raises(CapabilityError) as ei:
        ctx.check_file_read("src/a.txt")
    e = ei.value
    assert e.capability == "FILE_READ"
    assert e.resource == str(tmp_path / "src" / "a.txt")
    assert e.hint == "FILE_READ:" + str(tmp_path / "src" / "a.txt")
    # Another context over the same set resolves against its own workdir.
    with pytest.raises(CapabilityError):
        CapabilityContext(s, workdir="/elsewhere").check_file_read("src/a.py")


def test_every_check():
    s = CapabilitySet([Capability("REGISTRY_READ", "validators"),
                       Capability("ARTIFACT_WRITE", "build/*"),
                       Capability("NETWORK_CONNECT", "api.example.com:443"),
                       Capability("EXTERNAL_COMMAND", "git"),
                       Capability("DATABASE_READ", "postgres://db.internal:5432/app"),
                       Capability("FILE_WRITE", "/out/*")], workdir="/")
    ctx = CapabilityContext(s)
    ctx.check_registry("validators", "read")
    with pytest.raises(CapabilityError) as ei:
        ctx.check_registry("validators", "write")
    assert ei.value.hint == "REGISTRY_WRITE:validators"
    ctx.check_artifact("build/x", "read")  # a write grant implies read
    ctx.check_artifact("build/x", "write")
    ctx.check_network("api.example.com", 443)
    with pytest.raises(CapabilityError):
        ctx.check_network("api.example.com", 80)
    ctx.check_command("git")
    with pytest.raises(CapabilityError):
        ctx.check_command("curl")
    ctx.check_database("postgres://db.internal:5432/app", "read")
    with pytest.raises(CapabilityError):
        ctx.check_database("postgres://db.internal:5432/app", "write")
    ctx.check_file_write("/out/a")
    with pytest.raises(CapabilityError):
        ctx.check_secret("token")
    with pytest.raises(ValueError):
        ctx.check_registry("validators", "delete")
    with pytest.raises(ValueError):
        ctx.check_network("api.example.com", 70000)


def test_from_file_and_its_errors(tmp_path):
    good = tmp_path / "caps.json"
    good.write_text(json.dumps({"version": 1, "capabilities": [
        {"type": "FILE_READ", "resource": "/data/*.txt"}], "limits": {"memory": "128M"}}))
    s = CapabilitySet.from_file(good)
    assert s.has_capability(Capability(CapabilityType.FILE_READ, "/data/a.txt"))
    assert json.loads(s.to_json())["limits"]["memory"] == 128 << 20

    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "version": 1,\n  "capabilities": [,]\n}\n')
    with pytest.raises(ValueError, match=r"bad\.json:3:\d+"):
        CapabilitySet.from_file(bad)
    with pytest.raises(ValueError, match="FILE_RAED"):
        CapabilitySet.from_file(os.path.join(SOURCE, "examples", "caps", "bad.json"))
    with pytest.raises(FileNotFoundError) as ei:
        CapabilitySet.from_file(tmp_path / "missing.json")
    assert ei.value.errno == errno.ENOENT


def test_bad_input_raises():
    with pytest.raises(ValueError):
        CapabilitySet([Capability("NO_SUCH_TYPE", "x")])
    with pytest.raises(ValueError):
        CapabilitySet([Capability("FILE_READ", "a\x00b")])
    with pytest.raises(TypeError):
        Capability(CapabilityType.FILE_READ, 42)
    with pytest.raises(TypeError):
        CapabilitySet("FILE_READ:/x")
    with pytest.raises(TypeError):
        CapabilitySet([Capability("FILE_READ", "/a")]).has_capability("FILE_READ:/a")
    with pytest.raises(TypeError):
        CapabilityContext(caps()).check_file_read(b"/etc")
    with pytest.raises(TypeError):
        CapabilityContext(caps()).check_network("h", "80")
    with pytest.raises(TypeError):
        Sandbox(caps(), limits={"memory": object()})
    with Sandbox(caps()) as sb:
        with pytest.raises(TypeError):
            sb.run("echo hi")
        with pytest.raises(TypeError):
            sb.run([b"/bin/true"])
        with pytest.raises(ValueError):
            sb.run([])
    with Sandbox(caps(), mode="nope") as sb, pytest.raises(ValueError, match="mode"):
        sb.run(["/bin/true"])
    with Sandbox(caps(), limits={"memory": "lots"}) as sb, pytest.raises(ValueError):
        sb.run(["/bin/true"])
    with Sandbox(caps(), limits={"bogus": "1"}) as sb, pytest.raises(ValueError):
        sb.run(["/bin/true"])


def test_failed_setup_is_oserror(tmp_path):
    d = tmp_path / "gone"
    d.mkdir()
    sb = Sandbox(caps(), workdir=str(d))
    d.rmdir()
    with pytest.raises(FileNotFoundError) as ei:
        sb.run(["/bin/true"])
    assert ei.value.errno == errno.ENOENT
    with Sandbox(caps()) as sb, pytest.raises(OSError) as ei:
        sb.run(["/no/such/program"])
    assert ei.value.errno == errno.ENOENT


def test_oci_backends_find_their_helpers_in_the_wheel():
    """The wheel holds omnibase-exec and omnibase-loader beside the extension, where the
    library looks for them: runc runs the program under its Landlock rules as from a system
    install (no SandboxDegraded), where it used to fail closed. As root (runc, crun as root
    only)."""
    pkg = os.path.dirname(ob.__file__)
    for helper in ("omnibase-exec", "omnibase-loader"):
        assert os.access(os.path.join(pkg, helper), os.X_OK), helper
    if os.geteuid() != 0 or not shutil.which("runc"):
        pytest.skip("runc, as root")
    with Sandbox(caps(), backend="runc") as sb:
        r = sb.run(["/bin/true"])
        assert r.exit_code == 0, (r.stderr, r.events)
        assert not [e for e in r.events if e["event"] == "SandboxDegraded"], r.events


def test_run_files_in_and_out():
    events = []
    with Sandbox(caps(("EXTERNAL_COMMAND", "tr")), on_event=events.append) as sb:
        sb.files.write("in.txt", b"hello")
        r = sb.run(["/bin/sh", "-c", "tr a-z A-Z < in.txt > out.txt; echo done; echo warn >&2"])
        assert isinstance(r, RunResult)
        assert (r.exit_code, r.signal, r.timed_out) == (0, 0, False)
        assert r.stdout == "done\n" and r.stdout_bytes == b"done\n"
        assert r.stderr == "warn\n"
        assert sb.files.read("out.txt") == b"HELLO"
        assert r.duration_ms >= 0
        assert [e["event"] for e in r.events][0] == "SandboxStart"
        assert r.events[-1]["event"] == "SandboxExit"
        assert events == r.events
        r.check()
        for bad in ("../x", "/etc/passwd", "a/../../x", "."):
            with pytest.raises(ValueError):
                sb.files.read(bad)
        os.symlink("/etc", os.path.join(sb.workdir, "link"))
        with pytest.raises(ValueError):
            sb.files.read("link/passwd")
        workdir = sb.workdir
    assert not os.path.exists(workdir)


def test_denial_raises_via_check():
    with Sandbox(caps()) as sb:
        r = sb.run(["/bin/cat", "/etc/shadow"])
        assert r.exit_code != 0
        with pytest.raises(SandboxViolationError) as ei:
            r.check()
        ev = ei.value.events
        assert ev and ev[0]["event"] == "CapabilityDenied"
        assert ev[0]["resource"] == "/etc/shadow"


def test_grants_let_it_read(tmp_path):
    (tmp_path / "data.txt").write_text("granted\n")
    with Sandbox(caps(("FILE_READ", str(tmp_path / "data.txt")))) as sb:
        r = sb.run(["/bin/cat", str(tmp_path / "data.txt")]).check()
        assert r.stdout == "granted\n"


def test_output_larger_than_a_pipe_buffer():
    with Sandbox(caps(("EXTERNAL_COMMAND", "head"), ("EXTERNAL_COMMAND", "tr"))) as sb:
        r = sb.run(["/bin/sh", "-c", "head -c 1000000 /dev/zero | tr '\\0' x"])
        assert r.exit_code == 0
        assert len(r.stdout_bytes) == 1000000 and set(r.stdout_bytes) == {ord("x")}


def test_timeout():
    with Sandbox(caps()) as sb:
        r = sb.run(["/bin/sleep", "10"], timeout=0.5)
        assert r.timed_out and r.exit_code == 124
        assert r.duration_ms < 5000


def test_env_and_secrets():
    s = caps(("SECRET_ACCESS", "db"), ("EXTERNAL_COMMAND", "cat"))
    with Sandbox(s, secrets={"db": b"s3cret"}) as sb:
        r = sb.run(["/bin/sh", "-c", 'echo "$GREETING"; cat /run/secrets/db'],
                   env={"GREETING": "hi"})
        assert r.stdout == "hi\ns3cret", (r.stdout, r.stderr)
        assert "s3cret" not in json.dumps(r.events)


def test_threads_each_with_its_own_grants(tmp_path):
    (tmp_path / "a.txt").write_text("A")
    (tmp_path / "b.txt").write_text("B")
    results = {}
    errors = []

    def worker(name, other):
        try:
            s = caps(("FILE_READ", str(tmp_path / f"{name}.txt")))
            with Sandbox(s) as sb:
                for i in range(3):
                    r = sb.run(["/bin/cat", str(tmp_path / f"{name}.txt"),
                                str(tmp_path / f"{other}.txt")])
                    results[(name, i)] = (r.stdout, r.exit_code, [e["resource"] for e in r.denials])
                    ctx = CapabilityContext(s)
                    ctx.check_file_read(str(tmp_path / f"{name}.txt"))
                    with pytest.raises(CapabilityError):
                        ctx.check_file_read(str(tmp_path / f"{other}.txt"))
        except Exception as e:  # reported below
            errors.append(e)

    ts = [threading.Thread(target=worker, args=p) for p in (("a", "b"), ("b", "a"))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors
    for (name, i), (out, code, denied) in results.items():
        other = "b" if name == "a" else "a"
        assert out == name.upper(), (name, out)
        assert code == 1
        assert denied == [str(tmp_path / f"{other}.txt")]
    assert len(results) == 6


def test_on_event_streams_during_the_run():
    """Events arrive while the program still runs: the program's first denial reaches
    on_event seconds before the program ends. (Not through a file written into the workdir
    meanwhile: the workdir is an overlay over the host directory for the run, --limit disk,
    and what the host adds to it during the run is not promised to show inside.)"""
    seen, arrived = [], []
    with Sandbox(caps(("EXTERNAL_COMMAND", "cat"), ("EXTERNAL_COMMAND", "sleep"))) as sb:
        def on_event(e):
            seen.append(e)
            if e["event"] == "CapabilityDenied":
                arrived.append(time.monotonic())

        sb.on_event = on_event
        r = sb.run(["/bin/sh", "-c", "cat /etc/shadow 2>/dev/null; sleep 2; exit 7"],
                   timeout=20)
        ended = time.monotonic()
    assert r.exit_code == 7, (r.exit_code, r.stderr)
    assert len(arrived) == 1, seen
    assert ended - arrived[0] >= 1.5, (ended - arrived[0], seen)
    assert seen == r.events


def test_on_event_exception_is_raised_from_run():
    def boom(e):
        raise KeyError("from on_event")

    with Sandbox(caps(), on_event=boom) as sb, pytest.raises(KeyError):
        sb.run(["/bin/true"])
