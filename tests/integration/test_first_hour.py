# SPDX-License-Identifier: LGPL-2.1-or-later
"""A new user's first hour (SPEC §2.2, §3, §5): a denial names the grant that would allow it
(the event's `needed`, --json `denials`, the closing stderr line); omnibase says when it ended a
run (timeout, memory, output cap) unless --quiet; --json answers every outcome, option errors
included; TLS clients find their CA certificates with a network grant; routine lookups are no
denials; grants mean what they say (a directory's tree, a file still to be created, a grant
matching nothing warns, relative grants follow --workdir). As root and as an unprivileged
user."""
import json
import os
import subprocess

import pytest

from conftest import data_dir, events, write_script

PY = "#!/usr/bin/python3\n"


def closing_lines(p):
    """omnibase's own lines on stderr."""
    return [l for l in p.stderr.decode(errors="replace").splitlines()
            if l.startswith("omnibase: ")]


def denials(log):
    return [e for e in events(log) if e["event"] == "CapabilityDenied"]


def test_denial_names_the_grant(sandbox, shared_tmp):
    data = data_dir(shared_tmp)
    log = os.path.join(shared_tmp, "d.jsonl")
    script = write_script(shared_tmp, "read.py", PY + f"""
for _ in range(3):
    try:
        open("{data}/other.txt")
    except OSError:
        pass
try:
    open("/etc/passwd")
except OSError:
    pass
""")
    p, res = sandbox.run_json("--audit-log", log, script)
    assert res["exit_code"] == 0, res
    ev = {e["resource"]: e for e in denials(log)}
    assert ev[f"{data}/other.txt"]["needed"] == f"FILE_READ:{data}/other.txt"
    assert ev["/etc/passwd"]["needed"] == "FILE_READ:/etc/passwd"
    # --json: each distinct denial once, with its count and the grant that would allow it
    got = {d["resource"]: d for d in res["denials"]}
    assert got[f"{data}/other.txt"] == {"capability": "FILE_READ",
                                        "resource": f"{data}/other.txt", "operation": "read",
                                        "needed": f"FILE_READ:{data}/other.txt", "count": 3}
    assert got["/etc/passwd"]["needed"] == "FILE_READ:/etc/passwd"
    assert res["denials_count"] == 4 and res["reason"] == "exited"
    # the closing line names them and the grants (--json does not silence it)
    line = closing_lines(p)[-1]
    assert line.startswith("omnibase: 4 denials: FILE_READ "), line
    assert f"--cap FILE_READ:{data}/other.txt" in line and "FILE_READ /etc/passwd" in line


def test_exec_and_write_denials_name_their_grant(sandbox, shared_tmp):
    log = os.path.join(shared_tmp, "x.jsonl")
    data = data_dir(shared_tmp)
    script = write_script(shared_tmp, "x.py", PY + f"""
import subprocess
try:
    subprocess.run(["/usr/bin/id"])
except OSError:
    pass
try:
    open("{data}/allowed.txt", "a")
except OSError:
    pass
""")
    p = sandbox.run("--audit-log", log, "--cap", f"FILE_READ:{data}/allowed.txt", script)
    assert p.returncode == 0, p.stderr
    needed = {e["needed"] for e in denials(log)}
    assert "EXTERNAL_COMMAND:/usr/bin/id" in needed, needed
    assert f"FILE_WRITE:{data}/allowed.txt" in needed, needed


def test_timeout_says_so(sandbox):
    p = sandbox.run("--timeout", "1", "/bin/sleep", "10")
    assert p.returncode == 124
    assert closing_lines(p) == ["omnibase: killed after 1 s (--timeout)"]
    p = sandbox.run("--quiet", "--timeout", "1", "/bin/sleep", "10")
    assert p.returncode == 124 and closing_lines(p) == []


def test_output_cap_says_so(sandbox, shared_tmp):
    script = write_script(shared_tmp, "out.py", PY + "print('x' * 100000)\n")
    p = sandbox.run("--limit", "output=4K", script)
    assert len(p.stdout) <= 4096
    assert "omnibase: output cut at 4K bytes (--limit output=4K)" in closing_lines(p)
    p, res = sandbox.run_json("--limit", "output=4K", script)
    assert "output" in res["limits_hit"] and res["output"]["exceeded"]
    assert res["output_exceeded"]


def test_memory_says_so(sandbox, shared_tmp):
    script = write_script(shared_tmp, "mem.py", PY + """
chunks = []
for i in range(40):
    chunks.append(bytearray(10 * 1024 * 1024))
""")
    p, res = sandbox.run_json("--memory", "50M", script)
    assert res["exit_code"] != 0
    lines = closing_lines(p)
    if sandbox.who == "root":  # the cgroup saw it
        assert res["reason"] == "memory" and res["signal"] == 9, res
        assert "memory" in res["limits_hit"]
        assert lines == ["omnibase: killed: out of memory (--memory 50M)"], lines
    elif "memory" in res["limits_hit"]:  # rootless: only when the peak shows it
        assert any("memory limit 50M reached (--memory)" in l for l in lines), lines
    p = sandbox.run("--quiet", "--memory", "50M", script)
    assert closing_lines(p) == []


def test_nothing_said_when_nothing_happened(sandbox):
    p = sandbox.run("/bin/true")
    assert p.returncode == 0 and closing_lines(p) == []


def test_json_for_option_errors(sandbox):
    for args in (["--bogus", "/bin/true"], ["--cap", "FILE_RAED:/x", "/bin/true"],
                 ["--memory", "lots", "/bin/true"], ["--timeout"]):
        p, res = sandbox.run_json(*args)
        assert p.returncode == 125, args
        assert res["exit_code"] == 125 and res["reason"] == "error", res
        assert res["status"] == -1 and res["signal"] == 0
        assert res["denials"] == [] and res["limits_hit"] == []
        assert res["output"] == {"stdout": "", "stderr": "", "exceeded": False}
        assert res["error"], res
    # a --workdir that does not exist, --json after it
    p = sandbox.run("--workdir", "/nonexistent/dir", "--json", "/bin/true")
    assert p.returncode == 125 and "/nonexistent/dir" in json.loads(p.stdout)["error"]
    # --json after the bad option counts too, and the error is the one printed
    p = sandbox.run("--cap", "FILE_RAED:/x", "--json", "/bin/true")
    res = json.loads(p.stdout)
    assert "FILE_RAED" in res["error"] and p.returncode == 125
    # a missing program: the same schema
    p, res = sandbox.run_json("/nonexistent/program")
    assert res["exit_code"] == 127 and res["reason"] == "not-found"
    assert set(res) >= {"status", "signal", "reason", "denials", "limits_hit", "output"}


def test_tls_trust_store_with_a_network_grant(sandbox, shared_tmp):
    log = os.path.join(shared_tmp, "tls.jsonl")
    script = write_script(shared_tmp, "tls.py", PY + """
import ssl, json
print(json.dumps(ssl.create_default_context().cert_store_stats()))
""")
    p = sandbox.run("--audit-log", log, "--cap", "NETWORK_CONNECT:example.com:443", script)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["x509_ca"] > 0
    assert denials(log) == []
    # the host's private keys stay outside
    p = sandbox.run("--cap", "NETWORK_CONNECT:example.com:443", "/bin/sh", "-c",
                    "test -e /etc/ssl/private && echo PRIVATE; test -d /etc/ssl/certs && echo C")
    assert p.stdout == b"C\n"


@pytest.mark.parametrize("network", [False, True])
def test_routine_lookups_are_no_denials(sandbox, shared_tmp, network):
    log = os.path.join(shared_tmp, "r.jsonl")
    script = write_script(shared_tmp, "lookup.py", PY + """
import socket, ssl, time
print(socket.getaddrinfo("localhost", 80)[0][4][0])
ssl.create_default_context()
print(time.strftime("%Z"))
try:
    open("/etc/passwd")
except OSError:
    print("no passwd")
""")
    grant = ["--cap", "NETWORK_CONNECT:example.com:443"] if network else []
    p = sandbox.run("--audit-log", log, *grant, script)
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode().split()
    assert out[0] in ("127.0.0.1", "::1") and out[-2:] == ["no", "passwd"]
    # reading passwd stays a recorded denial; the routine lookups are not
    assert [e["resource"] for e in denials(log)] == ["/etc/passwd"], denials(log)


def test_generated_etc_is_not_the_hosts(sandbox):
    p = sandbox.run("/bin/sh", "-c", "read l < /etc/hosts; echo $l; read n < /etc/nsswitch.conf; "
                    "echo $n; test -e /etc/shadow || echo noshadow")
    assert p.stdout.decode().splitlines() == [
        "# omnibase: the sandbox's own loopback", "hosts: files dns", "noshadow"]
    # a grant of /etc asks for the host's own files: nothing generated over them
    with open("/etc/hosts") as f:
        first = f.readline().strip()
    p = sandbox.run("--cap", "FILE_READ:/etc", "/bin/sh", "-c", "read l < /etc/hosts; echo $l")
    assert p.stdout.decode().strip() == " ".join(first.split()), p.stderr


def test_directory_grant_covers_its_tree(sandbox, shared_tmp):
    data = data_dir(shared_tmp)
    os.makedirs(os.path.join(data, "sub"), mode=0o755)
    with open(os.path.join(data, "sub", "file"), "w") as f:
        f.write("deep")
    os.chmod(os.path.join(data, "sub", "file"), 0o644)
    p = sandbox.run("--cap", f"FILE_READ:{data}", "/bin/sh", "-c", f"read x < {data}/sub/file; "
                    f"echo $x")
    assert p.returncode == 0 and p.stdout == b"deep\n", p.stderr


def test_library_check_agrees_with_the_sandbox(sandbox, ob_bin, shared_tmp):
    """For a set of grants and paths, the library's answer (ob_check_file_read) matches what
    the program can actually read inside: a directory grant brings its tree, a pattern only
    what it matches."""
    data = data_dir(shared_tmp, files=(("a.txt", "a"), ("b.log", "b")))
    for d in ("sub", "sub/deep", "other"):
        os.makedirs(os.path.join(data, d), mode=0o755, exist_ok=True)
        os.chmod(os.path.join(data, d), 0o755)
    for f in ("sub/x.txt", "sub/deep/y.txt", "other/z.txt"):
        with open(os.path.join(data, f), "w") as fh:
            fh.write(f)
        os.chmod(os.path.join(data, f), 0o644)
    grants = [f"{data}/sub", f"{data}/*.txt"]
    paths = ["a.txt", "b.log", "sub/x.txt", "sub/deep/y.txt", "other/z.txt"]
    allowed = check_with_library(ob_bin, grants, [f"{data}/{p}" for p in paths])
    caps = sum((["--cap", f"FILE_READ:{g}"] for g in grants), [])
    body = "; ".join(f"(exec 3< {data}/{p}) 2>/dev/null && echo Y || echo N" for p in paths)
    p = sandbox.run(*caps, "/bin/sh", "-c", body)
    actual = [l == "Y" for l in p.stdout.decode().split()]
    assert actual == allowed, (paths, actual, allowed)
    assert allowed == [True, False, True, True, False]


def check_with_library(ob_bin, grants, paths):
    """ob_check_file_read's answers (tests/helpers/ob-check.c, linked with the library)."""
    helper = os.environ.get("OB_CHECK") or os.path.join(os.path.dirname(ob_bin), "tests",
                                                         "ob-check")
    p = subprocess.run([helper, *(f"FILE_READ:{g}" for g in grants), "--", *paths],
                       capture_output=True, check=True)
    return [l == "Y" for l in p.stdout.decode().split()]


def test_write_grant_of_a_new_file(sandbox, shared_tmp):
    data = data_dir(shared_tmp)
    os.chmod(data, 0o777)  # the unprivileged run's supervisor creates the file here
    new = os.path.join(data, "result.txt")
    p = sandbox.run("--cap", f"FILE_WRITE:{new}", "/bin/sh", "-c",
                    f"echo made > {new}; (read x < {data}/other.txt && echo $x) 2>/dev/null "
                    "|| echo hidden")
    assert p.returncode == 0, p.stderr
    assert open(new).read() == "made\n"
    assert b"secret" not in p.stdout and b"hidden" in p.stdout
    # left untouched: nothing remains (the program did not create it)
    os.unlink(new)
    p = sandbox.run("--cap", f"FILE_WRITE:{new}", "/bin/true")
    assert p.returncode == 0, p.stderr
    assert not os.path.exists(new)
    # --dry-run says it will be made
    p = sandbox.run("--dry-run", "--cap", f"FILE_WRITE:{new}", "/bin/true")
    assert json.loads(p.stdout)["new_files"] == [new]
    assert not os.path.exists(new)


def test_write_grant_of_a_new_file_through_a_symlink_refused(sandbox, shared_tmp):
    data = data_dir(shared_tmp)
    link = os.path.join(shared_tmp, "link")
    os.symlink(data, link)
    p = sandbox.run("--cap", f"FILE_WRITE:{link}/new.txt", "/bin/true")
    assert p.returncode == 125
    assert b"symlink" in p.stderr
    assert not os.path.exists(os.path.join(data, "new.txt"))


def test_grant_matching_nothing_warns(sandbox, shared_tmp):
    log = os.path.join(shared_tmp, "w.jsonl")
    missing = os.path.join(shared_tmp, "nothere")
    p = sandbox.run("--audit-log", log, "--cap", f"FILE_READ:{missing}", "--cap",
                    f"FILE_WRITE:{missing}/x", "--cap", f"FILE_READ:{shared_tmp}/*.none",
                    "/bin/true")
    assert p.returncode == 0, p.stderr
    lines = closing_lines(p)
    assert f"omnibase: warning: grant FILE_READ:{missing} matches nothing on the host" in lines
    assert any(f"FILE_WRITE:{missing}/x matches nothing" in l and "does not exist" in l
               for l in lines), lines
    assert any(f"FILE_READ:{shared_tmp}/*.none matches nothing" in l for l in lines), lines
    start = events(log)[0]
    assert start["event"] == "SandboxStart" and len(start["warnings"]) == 3
    # a grant that does match says nothing
    p = sandbox.run("--cap", f"FILE_READ:{shared_tmp}", "/bin/true")
    assert closing_lines(p) == []


def test_relative_grant_follows_workdir(sandbox, shared_tmp):
    data = data_dir(shared_tmp)
    work = os.path.join(shared_tmp, "work")
    os.mkdir(work)
    os.chmod(work, 0o777)
    # ../data/allowed.txt from the workdir, whatever the caller's directory is
    p = sandbox.run("--cap", "FILE_READ:../data/allowed.txt", "--workdir", work, "/bin/sh",
                    "-c", f"read x < {data}/allowed.txt; echo $x")
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"the allowed text\n"
    p = sandbox.run("--dry-run", "--workdir", work, "--cap", "FILE_READ:rel.txt", "/bin/true")
    assert f"FILE_READ:{work}/rel.txt matches nothing" in json.loads(p.stdout)["warnings"][0]


def test_localhost_answer_grants_nothing(sandbox, shared_tmp, servers):
    """With a network grant the DNS stub answers an ungranted "localhost" with the sandbox's
    own loopback, unrecorded; connecting there still needs a grant: the host's listener on
    127.0.0.1 is never reached and the attempt is recorded."""
    srv = servers()
    log = os.path.join(shared_tmp, "lh.jsonl")
    script = write_script(shared_tmp, "lh.py", PY + """
import socket, sys
addrs = {a[4][0] for a in socket.getaddrinfo("localhost", int(sys.argv[1]))}
print(sorted(addrs))
try:
    socket.create_connection(("localhost", int(sys.argv[1])), timeout=3).recv(10)
    print("REACHED")
except OSError as e:
    print(type(e).__name__)
""")
    p = sandbox.run("--audit-log", log, "--cap", "NETWORK_CONNECT:example.com:443", script,
                    str(srv.port))
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode().splitlines()
    assert set(eval(out[0])) <= {"127.0.0.1", "::1"} and out[1] == "PermissionError", out
    assert srv.count == 0
    denied = {(e["resource"], e["operation"]) for e in denials(log)}
    assert (f"127.0.0.1:{srv.port}", "connect") in denied, denied
    assert not any(e["operation"] == "resolve" for e in denials(log))


def test_missing_secret_names_its_grant(sandbox, shared_tmp):
    """A read of /run/secrets/NAME that no grant brings is a SECRET_ACCESS denial whose
    `needed` is the grant; a granted secret beside it is read and not recorded."""
    log = os.path.join(shared_tmp, "s.jsonl")
    script = write_script(shared_tmp, "sec.py", PY + """
print(open("/run/secrets/token").read())
try:
    open("/run/secrets/db_password")
except OSError as e:
    print(type(e).__name__)
""")
    p = sandbox.run("--audit-log", log, "--cap", "SECRET_ACCESS:token", "--secret",
                    "token=env:OB_TOKEN", script, env_extra={"OB_TOKEN": "t0ken"})
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().split() == ["t0ken", "FileNotFoundError"]
    got = [(e["capability"], e["resource"], e["needed"]) for e in denials(log)]
    assert got == [("SECRET_ACCESS", "db_password", "SECRET_ACCESS:db_password")], got
    assert "t0ken" not in open(log).read()
