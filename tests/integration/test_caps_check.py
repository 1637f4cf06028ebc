# SPDX-License-Identifier: LGPL-2.1-or-later
"""`omnibase caps check` against SPEC §2.4 and §4: valid files print the normalised set,
every malformed file exits 125 with a message naming the file, the position and what was
expected, and nothing crashes."""
import json
import os

import pytest

GOOD = {
    "version": 1,
    "capabilities": [
        {"type": "FILE_READ", "resource": "/data/allowed.txt"},
        {"type": "FILE_WRITE", "resource": "./out/**"},
        {"type": "NETWORK_CONNECT", "resource": "API.Example.com.:443"},
        {"type": "EXTERNAL_COMMAND", "resource": "git"},
        {"type": "SECRET_ACCESS", "resource": "db_password", "when": {"env": "prod"}},
    ],
    "limits": {"memory": "256M", "cpus": 1, "pids": 64, "timeout": 30,
               "output": "16M", "tmpfs": "64M", "files": 256, "connections": 32,
               "egress": "1G", "events": 500},
}


def write(tmp_path, name, content):
    p = tmp_path / name
    if isinstance(content, (dict, list)):
        content = json.dumps(content)
    if isinstance(content, str):
        content = content.encode()
    p.write_bytes(content)
    return str(p)


def test_version_and_help(run):
    p = run("--version", check=0)
    assert p.stdout.startswith(b"omnibase ")
    for args in (["--help"], ["caps", "--help"], ["caps", "check", "--help"]):
        p = run(*args, check=0)
        assert b"Usage:" in p.stdout


def test_unknown_command_is_125(run):
    p = run("frobnicate", check=125)
    assert p.stderr.startswith(b"omnibase: ")
    p = run("caps", "frob", check=125)
    assert p.stderr.startswith(b"omnibase: ")
    run(check=125)
    run("caps", "check", check=125)
    run("caps", "check", "--bogus", check=125)


def test_good_file_prints_normalised_set(run, tmp_path):
    f = write(tmp_path, "good.json", GOOD)
    p = run("caps", "check", f, cwd=tmp_path, check=0)
    out = p.stdout.decode()
    assert "valid, 5 capabilities" in out
    assert "/data/allowed.txt" in out
    assert str(tmp_path / "out" / "**") in out  # relative to the working directory
    assert "api.example.com:443" in out  # lower case, no trailing dot
    assert "when env=prod" in out
    assert "memory=256M" in out and "files=256" in out


def test_json_output(run, tmp_path):
    f = write(tmp_path, "good.json", GOOD)
    p = run("caps", "check", "--json", f, cwd=tmp_path, check=0)
    doc = json.loads(p.stdout)
    (entry,) = doc["files"]
    assert entry["valid"] is True
    assert entry["file"] == f
    caps = entry["capabilities"]
    assert caps[0] == {"type": "FILE_READ", "resource": "/data/allowed.txt"}
    assert caps[4]["when"] == {"env": "prod"}
    assert entry["limits"]["memory"] == 256 * 1024 * 1024
    assert entry["limits"]["timeout"] == 30


def test_defaults_when_no_limits(run, tmp_path):
    f = write(tmp_path, "min.json", {"version": 1, "capabilities": []})
    p = run("caps", "check", "--json", f, check=0)
    limits = json.loads(p.stdout)["files"][0]["limits"]
    assert limits == {"memory": 256 << 20, "cpus": 1.0, "pids": 64, "timeout": 30.0,
                      "output": 16 << 20, "tmpfs": 64 << 20, "files": 256,
                      "connections": 256, "egress": 4 << 30, "events": 10000,
                      "disk": 128 << 20}


BAD = [
    # (name, content, what the message must contain)
    ("syntax", '{"version": 1,\n  "capabilities": [}', ":2:"),
    ("trailing", '{"version": 1, "capabilities": []} x', ":1:"),
    ("empty", "", ":1:"),
    ("not-object", "[1, 2]", "$: expected an object"),
    ("unknown-key", {"version": 1, "capabilities": [], "extra": 1}, 'unknown key "extra"'),
    ("no-version", {"capabilities": []}, 'missing key "version"'),
    ("wrong-version", {"version": 2, "capabilities": []}, "$.version"),
    ("version-string", {"version": "1", "capabilities": []}, "$.version"),
    ("no-caps", {"version": 1}, 'missing key "capabilities"'),
    ("caps-object", {"version": 1, "capabilities": {}}, "$.capabilities: expected an array"),
    ("cap-not-object", {"version": 1, "capabilities": ["FILE_READ"]}, "$.capabilities[0]"),
    ("unknown-type", {"version": 1, "capabilities": [{"type": "FILE_RAED", "resource": "/x"}]},
     "$.capabilities[0].type: unknown capability type"),
    ("type-number", {"version": 1, "capabilities": [{"type": 3, "resource": "/x"}]},
     "$.capabilities[0].type"),
    ("missing-resource", {"version": 1, "capabilities": [{"type": "FILE_READ"}]},
     '"resource"'),
    ("empty-resource", {"version": 1, "capabilities": [{"type": "FILE_READ", "resource": ""}]},
     "empty resource"),
    ("cap-unknown-key", {"version": 1, "capabilities": [
        {"type": "FILE_READ", "resource": "/x", "mode": "rw"}]}, 'unknown key "mode"'),
    ("bad-host", {"version": 1, "capabilities": [
        {"type": "NETWORK_CONNECT", "resource": "api.example.com:99999"}]},
     "$.capabilities[0].resource"),
    ("bad-glob", {"version": 1, "capabilities": [
        {"type": "FILE_READ", "resource": "/data/a**b"}]}, "whole path segment"),
    ("bad-when", {"version": 1, "capabilities": [
        {"type": "SECRET_ACCESS", "resource": "x", "when": {"env": 1}}]},
     "$.capabilities[0].when.env"),
    ("bad-size", {"version": 1, "capabilities": [], "limits": {"memory": "12Q"}},
     "$.limits.memory"),
    ("negative-pids", {"version": 1, "capabilities": [], "limits": {"pids": -1}},
     "$.limits.pids"),
    ("unknown-limit", {"version": 1, "capabilities": [], "limits": {"swap": "1G"}},
     "$.limits.swap"),
    ("limits-array", {"version": 1, "capabilities": [], "limits": []}, "$.limits"),
    ("duplicate-key", '{"version": 1, "version": 1, "capabilities": []}', "duplicate"),
    ("nul-escape", '{"version": 1, "capabilities": [{"type": "FILE_READ", '
                   '"resource": "/a\\u0000b"}]}', ":1:"),
    ("raw-nul", b'{"version": 1, "capabilities": [{"type": "FILE_READ", "resource": "/a\x00b"}]}',
     ":1:"),
    ("not-utf8", b'{"version": 1, "capabilities": [{"type": "FILE_READ", "resource": "/a\xffb"}]}',
     ":1:"),
]


@pytest.mark.parametrize("name,content,needle", BAD, ids=[b[0] for b in BAD])
def test_bad_file_exits_125_with_position(run, tmp_path, name, content, needle):
    f = write(tmp_path, name + ".json", content)
    p = run("caps", "check", f, check=125)
    err = p.stderr.decode(errors="replace")
    assert err.startswith("omnibase: ")
    assert f in err, err
    assert needle in err, err
    assert p.stdout == b""
    assert err.count("\n") == 1  # one clear line, no crash dump


def test_deep_nesting_does_not_crash(run, tmp_path):
    for opener in ("[", '{"a":'):
        f = write(tmp_path, "deep.json", opener * 200000)
        p = run("caps", "check", f, check=125)
        assert b"depth" in p.stderr


def test_ten_megabyte_file_is_refused(run, tmp_path):
    body = '{"version": 1, "capabilities": [' + ",".join(
        ['{"type": "FILE_READ", "resource": "/data/%08d"}' % i for i in range(200000)]) + "]}"
    assert len(body) > 10_000_000
    f = write(tmp_path, "big.json", body)
    p = run("caps", "check", f, check=125)
    assert b"limit" in p.stderr


def test_too_many_capabilities(run, tmp_path):
    caps = [{"type": "FILE_READ", "resource": "/d/%d" % i} for i in range(5000)]
    f = write(tmp_path, "many.json", {"version": 1, "capabilities": caps})
    p = run("caps", "check", f, check=125)
    assert b"$.capabilities" in p.stderr and b"limit" in p.stderr


def test_missing_and_special_files(run, tmp_path):
    p = run("caps", "check", str(tmp_path / "nope.json"), check=125)
    assert b"nope.json" in p.stderr and b"No such file" in p.stderr
    p = run("caps", "check", str(tmp_path), check=125)
    assert b"not a regular file" in p.stderr
    p = run("caps", "check", "/dev/zero", check=125)
    assert b"not a regular file" in p.stderr


def test_one_bad_file_fails_the_run_but_all_are_checked(run, tmp_path):
    good = write(tmp_path, "good.json", GOOD)
    bad = write(tmp_path, "bad.json", {"version": 3, "capabilities": []})
    p = run("caps", "check", bad, good, check=125)
    assert b"bad.json" in p.stderr
    assert b"good.json: valid" in p.stdout
    p = run("caps", "check", "--json", bad, good, check=125)
    files = json.loads(p.stdout)["files"]
    assert [f["valid"] for f in files] == [False, True]
    assert "$.version" in files[0]["error"]


def test_examples_in_tree(run, source_root):
    run("caps", "check", os.path.join(source_root, "examples/caps/good.json"), check=0)
    p = run("caps", "check", os.path.join(source_root, "examples/caps/bad.json"), check=125)
    assert b"FILE_RAED" in p.stderr
    # structure errors carry the line:column of the offending value and its JSON path
    assert b"bad.json:5:14: $.capabilities[1].type: unknown capability type" in p.stderr


def test_structure_errors_point_at_the_value(run, tmp_path):
    text = ('{\n  "version": 1,\n  "capabilities": [\n'
            '    {"type": "SECRET_ACCESS", "resource": "x", "when": {"a.b": "1", "c": 3}}\n'
            '  ],\n  "limits": {"memory": "1Q"}\n}\n')
    f = write(tmp_path, "pos.json", text)
    p = run("caps", "check", f, check=125)
    assert f.encode() + b":4:74: $.capabilities[0].when.c: expected a string" in p.stderr
    f = write(tmp_path, "pos2.json", text.replace('"c": 3', '"c": "3"'))
    p = run("caps", "check", f, check=125)
    assert f.encode() + b":6:24: $.limits.memory" in p.stderr
