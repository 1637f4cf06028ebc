# SPDX-License-Identifier: LGPL-2.1-or-later
"""`omnibase scan` (SPEC §9): Python parsed by Python's ast inside a sandbox with no grants,
what it needs judged against a capability file; file:line:col: rule: message; 0/1/125."""
import json
import os

import pytest

SOURCE = '''import subprocess, socket
import ctypes as c
from os import system
import requests as rq

def f(x):
    eval(x)
    subprocess.run(["curl", "-s", "https://x"])
    system("rm -rf /")
    open("/etc/passwd", "w").write("x")
    open("out.txt", "w")
    rq.get("https://api.example.com/v1")
    rq.get("http://evil.example:8080/")
    eval("1+1")
    open("/etc/hostname").read()
'''

CAPS = {"version": 1, "capabilities": [
    {"type": "NETWORK_CONNECT", "resource": "api.example.com:443"},
    {"type": "FILE_WRITE", "resource": "./**"},
    {"type": "EXTERNAL_COMMAND", "resource": "curl"}]}


def write(d, name, text):
    p = os.path.join(d, name)
    with open(p, "w") as f:
        f.write(text)
    return p


def test_scan_without_grants(run, tmp_path):
    src = write(str(tmp_path), "s.py", SOURCE)
    p = run("scan", src, cwd=str(tmp_path), check=1)
    out = p.stdout.decode()
    for want in (f"{src}:1:1: import: import of subprocess",
                 f"{src}:1:1: import: import of socket: nothing grants NETWORK_CONNECT",
                 f"{src}:2:1: native-code: import of ctypes",
                 f"{src}:7:5: dynamic-code: eval of a non-literal",
                 f"{src}:8:5: command: subprocess.run runs curl: needs EXTERNAL_COMMAND:curl",
                 f"{src}:9:5: command: os.system runs rm",
                 f"{src}:10:5: file-write: open(\"/etc/passwd\")",
                 f"{src}:12:5: network: requests.get(\"https://api.example.com/v1\") connects "
                 "to api.example.com:443"):
        assert want in out, out
    assert ":14:" not in out and ":15:" not in out  # a literal eval, a read


def test_scan_with_capabilities(run, tmp_path):
    src = write(str(tmp_path), "s.py", SOURCE)
    caps = write(str(tmp_path), "caps.json", json.dumps(CAPS))
    p = run("scan", "--capabilities", caps, "--json", src, cwd=str(tmp_path), check=1)
    found = {(f["line"], f["rule"]) for f in json.loads(p.stdout)["findings"]}
    assert found == {(2, "native-code"), (7, "dynamic-code"), (9, "command"),
                     (10, "file-write"), (13, "network")}, found
    ok = write(str(tmp_path), "ok.py", "import json\nprint(json.dumps({'a': 1}))\n")
    p = run("scan", "--capabilities", caps, ok, check=0)
    assert p.stdout == b""


def test_scan_bad_input(run, tmp_path):
    bad = write(str(tmp_path), "bad.py", "def (:\n")
    p = run("scan", bad, check=125)
    assert f"{bad}:1:".encode() in p.stderr and b"syntax" in p.stderr
    run("scan", str(tmp_path / "missing.py"), check=125)
    run("scan", str(tmp_path), check=125)
    run("scan", check=125)
    caps = write(str(tmp_path), "caps.json", "{")
    ok = write(str(tmp_path), "ok.py", "x = 1\n")
    run("scan", "--capabilities", caps, ok, check=125)
    run("scan", "--bogus", ok, check=125)
    assert run("scan", "--help", check=0).stdout.startswith(b"Usage: omnibase scan")


def test_parser_is_sandboxed(run, tmp_path):
    """Source that would do harm if it ran is only parsed: nothing it says happens."""
    marker = tmp_path / "ran"
    src = write(str(tmp_path), "evil.py", f"open({str(marker)!r}, 'w').write('x')\n")
    run("scan", src, check=1)
    assert not marker.exists()


SHELL = '''#!/bin/bash
curl -s https://api.example.com/x > /etc/out
FOO=1 git status 2>&1 | grep x >/dev/null
eval "$x"
$cmd arg
if true; then rm -rf /; fi
echo $(wget -q http://evil.example/)
exec python3 -c 1
echo hi >> out.log
'''

needs_shfmt = pytest.mark.skipif(not os.path.exists("/usr/bin/shfmt"), reason="no shfmt")


@needs_shfmt
def test_scan_shell(run, tmp_path):
    src = write(str(tmp_path), "t.sh", SHELL)
    caps = write(str(tmp_path), "caps.json", json.dumps(CAPS))
    p = run("scan", "--capabilities", caps, "--json", src, cwd=str(tmp_path), check=1)
    found = {(f["line"], f["col"], f["rule"]) for f in json.loads(p.stdout)["findings"]}
    assert found == {(2, 35, "file-write"), (3, 7, "command"), (3, 25, "command"),
                     (4, 1, "dynamic-code"), (5, 1, "dynamic-code"), (6, 15, "command"),
                     (7, 8, "command"), (7, 16, "network"), (8, 6, "command")}, found
    p = run("scan", src, cwd=str(tmp_path), check=1)
    out = p.stdout.decode()
    assert f"{src}:2:1: command: runs curl: needs EXTERNAL_COMMAND:curl" in out
    assert f"{src}:9:9: file-write: writes \"out.log\"" in out
    # a #! line makes a file without extension shell
    noext = write(str(tmp_path), "tool", "#!/usr/bin/env bash\nls\n")
    assert b"runs ls" in run("scan", noext, check=1).stdout
    bad = write(str(tmp_path), "b.sh", "if then fi\n")
    p = run("scan", bad, check=125)
    assert f"{bad}:1:1: syntax: ".encode() in p.stderr
