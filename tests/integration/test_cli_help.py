# SPDX-License-Identifier: LGPL-2.1-or-later
"""What a new user meets first: did-you-mean for mistyped options, commands, capability
types and profiles; error messages that name what was written (a --limit, a URL as a network
grant); the plan as short text (--dry-run --summary); the manual page and bash completion."""
import json
import os
import re
import shutil
import subprocess

import pytest


def test_unknown_option_suggests_the_nearest(run):
    p = run("sandbox", "run", "--timout", "3", "/bin/true", check=125)
    assert p.stderr == b"omnibase: run: unrecognized option '--timout'; did you mean --timeout?\n"
    p = run("sandbox", "run", "--capabilites=x.json", "/bin/true", check=125)
    assert b"unrecognized option '--capabilites'; did you mean --capabilities?" in p.stderr
    p = run("sandbox", "run", "--frobnicate", "/bin/true", check=125)
    assert p.stderr == b"omnibase: run: unrecognized option '--frobnicate'\n"
    p = run("sandbox", "run", "--timeout", check=125)
    assert b"run: option '--timeout' requires an argument" in p.stderr
    p = run("sandbox", "run", "-x", "/bin/true", check=125)
    assert b"run: invalid option '-x'" in p.stderr
    p = run("caps", "check", "--jsn", "x.json", check=125)
    assert b"did you mean --json?" in p.stderr
    # every verb's options, the same way
    for args, said in ((["audit", "tail", "--folow", "x"], b"tail: unrecognized option "
                        b"'--folow'; did you mean --follow?"),
                       (["audit", "tail", "-e"], b"tail: option '-e' requires an argument"),
                       (["audit", "verify", "--jsno", "x"], b"verify: unrecognized option"),
                       (["policy", "eval", "--polices", "x"], b"did you mean --policies?"),
                       (["policy", "check", "--entites", "x"], b"did you mean --entities?"),
                       (["caps", "review", "--registy", "x"], b"did you mean --registry?"),
                       (["caps", "review", "-x"], b"review: invalid option '-x'"),
                       (["caps", "review", "--context"], b"'--context' requires an argument")):
        p = run(*args, check=125)
        assert said in p.stderr, (args, p.stderr)


def test_unknown_command_suggests_the_nearest(run):
    p = run("sandbxo", check=125)
    assert b"unknown command 'sandbxo'; did you mean sandbox?" in p.stderr
    p = run("caps", "chekc", check=125)
    assert b"did you mean check?" in p.stderr
    p = run("zzzzzzzzzz", check=125)
    assert b"did you mean" not in p.stderr


def test_unknown_capability_type_suggests_the_nearest(run, tmp_path):
    p = run("sandbox", "run", "--cap", "FILE_RAED:/x", "/bin/true", check=125)
    assert b"unknown capability type 'FILE_RAED'; did you mean FILE_READ?" in p.stderr
    f = tmp_path / "c.json"
    f.write_text('{"version": 1, "capabilities": [{"type": "NETWORK_CONECT", "resource": "a"}]}')
    p = run("caps", "check", str(f), check=125)
    assert b'$.capabilities[0].type: unknown capability type "NETWORK_CONECT"; did you mean ' \
        b'NETWORK_CONNECT?' in p.stderr


def test_limit_errors_name_what_was_written(run):
    p = run("sandbox", "run", "--limit", "timeout=0", "/bin/true", check=125)
    assert p.stderr.startswith(b"omnibase: --limit timeout=0: must be between")
    assert b"--timeout" not in p.stderr
    p = run("sandbox", "run", "--timeout", "0", "/bin/true", check=125)
    assert p.stderr.startswith(b"omnibase: --timeout '0': must be between")


def test_url_as_network_grant_says_what_to_write(run):
    p = run("sandbox", "run", "--cap", "NETWORK_CONNECT:https://api.example.com/v1",
            "/bin/true", check=125)
    assert b"'https://api.example.com/v1' is a URL" in p.stderr
    assert b"write api.example.com:443" in p.stderr
    assert b"IPv4" not in p.stderr


def test_dry_run_summary(run, tmp_path):
    args = ["sandbox", "run", "--dry-run", "--workdir", str(tmp_path), "--profile", "shell",
            "--cap", "NETWORK_CONNECT:example.com:443", "--env", "FOO=bar", "--timeout", "7",
            "/bin/ls"]
    text = run(*args[:2], "--summary", *args[2:], check=0).stdout.decode()
    lines = [ln.split() for ln in text.splitlines()]
    assert ["ro", "/usr", "runtime"] in lines
    assert ["rw", "/workspace", "--workdir"] in lines
    assert ["/usr", "read_file,read_dir"] in lines  # Landlock by access name
    exec_list = text.split("exec allow-list (Landlock execute):\n")[1].split("network:")[0]
    assert "/usr/bin/grep" in exec_list.split() and "/bin/ls" in exec_list.split()
    assert "network: egress by proxy and transparent connect" in text
    assert re.search(r"^limits: memory=256M .*timeout=7 ", text, re.M)
    assert "  FOO=bar" in text.splitlines()
    assert "  EXTERNAL_COMMAND:grep" in text.splitlines()
    # the full plan carries the same access as names too
    plan = json.loads(run(*args, check=0).stdout)
    rules = {r["path"]: r for r in plan["landlock"]["rules"]}
    assert rules["/usr"]["access_names"] == ["read_file", "read_dir"]
    assert "execute" in rules["/usr/bin/grep"]["access_names"]
    # without network: said so
    text = run("sandbox", "run", "--dry-run", "--summary", "/bin/true", check=0).stdout.decode()
    assert "network: none (empty network namespace)" in text
    assert "capabilities: none" in text
    for mode, said in (("proxy", "egress by proxy\n"),
                       ("transparent", "egress by transparent connect\n")):
        text = run("sandbox", "run", "--dry-run", "--summary", "--egress", mode, "--cap",
                   "NETWORK_CONNECT:example.com:443", "/bin/true", check=0).stdout.decode()
        assert "network: " + said in text
    # planning errors are the same as without --summary
    p = run("sandbox", "run", "--dry-run", "--summary", "/nonexistent/prog", check=127)
    assert p.stderr.startswith(b"omnibase: ")


def man_page(source_root):
    return os.path.join(source_root, "docs", "man", "omnibase.1")


def test_man_page_renders_without_warnings(source_root):
    if shutil.which("groff"):
        cmd = ["groff", "-man", "-Tutf8", "-ww", "-z", man_page(source_root)]
    elif shutil.which("man"):
        cmd = ["man", "--warnings", "-l", "-Tutf8", man_page(source_root)]
    else:
        pytest.skip("neither groff nor man is installed")
    p = subprocess.run(cmd, capture_output=True, env=dict(os.environ, LC_ALL="C.UTF-8"))
    assert p.returncode == 0 and p.stderr == b"", p.stderr


def test_man_page_covers_every_option_and_command(run, source_root):
    with open(man_page(source_root)) as f:
        page = f.read().replace("\\-", "-")
    helps = [run("sandbox", "run", "--help", check=0).stdout.decode()]
    for args in (["sandbox", "learn"], ["caps", "test"], ["caps", "review"], ["caps", "check"], ["policy", "eval"],
                 ["policy", "check"], ["audit", "tail"]):
        helps.append(run(*args, "--help", check=0).stdout.decode())
    options = set()
    for h in helps:
        options |= set(re.findall(r"--[a-z][a-z-]+", h))
    assert len(options) > 30
    missing = sorted(o for o in options if o not in page)
    assert not missing, missing
    for words in ("sandbox run", "sandbox learn", "caps check", "caps review", "caps profiles", "caps show",
                  "caps test", "policy check", "policy eval", "audit verify", "audit tail",
                  "doctor", "EXIT STATUS", "FILES", "EXAMPLES"):
        assert words in page, words
    for code in ("124", "125", "126", "127", "128+N"):
        assert f".B {code}\n" in page, code


def complete(ob_bin, source_root, *words):
    """The completions bash offers for WORDS (the last is the word being completed)."""
    script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _omnibase; '
              'printf "%s\\n" "${COMPREPLY[@]}"')
    p = subprocess.run(["bash", "--norc", "-c", script, "bash",
                        os.path.join(source_root, "completion", "omnibase.bash"), ob_bin,
                        *words], capture_output=True, check=True)
    return p.stdout.decode().split()


def test_bash_completion(ob_bin, source_root):
    if not shutil.which("bash"):
        pytest.skip("no bash")
    assert complete(ob_bin, source_root, "sa") == ["sandbox"]
    assert complete(ob_bin, source_root, "caps", "") == \
        ["check", "review", "profiles", "show", "test", "--help"]
    assert complete(ob_bin, source_root, "sandbox", "run", "--prof") == ["--profile"]
    assert complete(ob_bin, source_root, "sandbox", "run", "--profile", "") == \
        ["build", "git", "node", "python", "shell"]
    assert complete(ob_bin, source_root, "caps", "show", "--profile", "sh") == ["shell"]
    assert complete(ob_bin, source_root, "sandbox", "run", "--cap", "FILE_") == \
        ["FILE_READ:", "FILE_WRITE:"]
    assert complete(ob_bin, source_root, "caps", "test", "NETWORK") == ["NETWORK_CONNECT:"]
    assert complete(ob_bin, source_root, "sandbox", "run", "--mode", "r") == ["rx", "rwx"]
    assert complete(ob_bin, source_root, "sandbox", "run", "--dry") == ["--dry-run"]
    # every option of `sandbox run --help` is offered
    offered = set(complete(ob_bin, source_root, "sandbox", "run", "--"))
    p = subprocess.run([ob_bin, "sandbox", "run", "--help"], capture_output=True, check=True)
    assert set(re.findall(r"--[a-z][a-z-]+", p.stdout.decode())) <= offered
    assert complete(ob_bin, source_root, "sandbox", "le") == ["learn"]
    assert complete(ob_bin, source_root, "sandbox", "learn", "--ou") == ["--output"]
    offered = set(complete(ob_bin, source_root, "sandbox", "learn", "--"))
    p = subprocess.run([ob_bin, "sandbox", "learn", "--help"], capture_output=True, check=True)
    assert set(re.findall(r"--[a-z][a-z-]+", p.stdout.decode())) <= offered
