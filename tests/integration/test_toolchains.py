# SPDX-License-Identifier: LGPL-2.1-or-later
"""Compile, run, test (SPEC §2.2 Commands): EXTERNAL_COMMAND path patterns (/workspace/**,
/workspace/*.sh), compiler toolchains (a grant of gcc/cc covers cc1, as, collect2, ld and
nothing else; make and sh grant nothing of what they run), and one CapabilityDenied per
refused PATH search. As root and as an unprivileged user (the `sandbox` fixture).
Design: docs/design/toolchains.md."""
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import events, write_script

ATTACK = os.environ.get("OB_ATTACK", "")

pytestmark = pytest.mark.skipif(not shutil.which("gcc") or not shutil.which("make"),
                                reason="needs gcc and make on the host")

HELLO = '#include <stdio.h>\nint main(void) { puts("hello from h"); return 0; }\n'


@pytest.fixture
def workdir(shared_tmp):
    """A workdir the unprivileged user may use, holding h.c."""
    w = os.path.join(shared_tmp, "w")
    os.mkdir(w)
    os.chmod(w, 0o777)
    write_script(w, "h.c", HELLO, mode=0o644)
    return w


def denials(log):
    return [e for e in events(log) if e["event"] == "CapabilityDenied"]


def exec_denials(log):
    return [e["resource"] for e in denials(log) if e["capability"] == "EXTERNAL_COMMAND"]


def test_gcc_compiles_links_and_runs_in_the_workdir(sandbox, shared_tmp, workdir):
    log = os.path.join(shared_tmp, "gcc.jsonl")
    p = sandbox.run("--workdir", workdir, "--audit-log", log, "--cap", "EXTERNAL_COMMAND:gcc",
                    "--cap", "EXTERNAL_COMMAND:/workspace/**", "--cap", "EXTERNAL_COMMAND:sh",
                    "/bin/sh", "--", "-c", "gcc -o h h.c && ./h")
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert p.stdout.decode() == "hello from h\n"
    assert denials(log) == []


@pytest.mark.skipif(not shutil.which("clang"), reason="needs clang on the host")
def test_clang_compiles_and_links(sandbox, shared_tmp, workdir):
    """clang (/usr/bin/clang → its LLVM installation's bin/clang): it links with the
    system's ld, a helper of its table; no exec is refused."""
    log = os.path.join(shared_tmp, "clang.jsonl")
    p = sandbox.run("--workdir", workdir, "--audit-log", log, "--cap", "EXTERNAL_COMMAND:clang",
                    "--cap", "EXTERNAL_COMMAND:/workspace/**", "--cap", "EXTERNAL_COMMAND:sh",
                    "/bin/sh", "--", "-c", "clang -o h h.c && ./h")
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert p.stdout.decode() == "hello from h\n"
    assert exec_denials(log) == [], denials(log)


def test_what_was_built_is_refused_without_a_grant(sandbox, shared_tmp, workdir):
    """gcc's grant covers gcc's helpers, not what it builds: ./h is refused (126) and
    recorded."""
    log = os.path.join(shared_tmp, "built.jsonl")
    p = sandbox.run("--workdir", workdir, "--audit-log", log, "--cap", "EXTERNAL_COMMAND:gcc",
                    "--cap", "EXTERNAL_COMMAND:sh", "/bin/sh", "--", "-c", "gcc -o h h.c && ./h")
    assert p.returncode == 126, (p.stdout, p.stderr)
    assert b"Permission denied" in p.stderr
    assert os.path.exists(os.path.join(workdir, "h"))  # gcc did its part
    assert [r for r in exec_denials(log) if r.endswith("h")], denials(log)


@pytest.mark.parametrize("driver", ["gcc", "cc"])
def test_a_compiler_grant_covers_only_its_helpers(sandbox, shared_tmp, workdir, driver):
    """EXTERNAL_COMMAND:gcc, or cc (cc → /etc/alternatives/cc → gcc → gcc-12): cc1, as and
    ld may run (gcc compiles, assembles, links), but python3, id and the like stay refused
    and recorded."""
    log = os.path.join(shared_tmp, "only.jsonl")
    p = sandbox.run("--workdir", workdir, "--audit-log", log, "--cap",
                    f"EXTERNAL_COMMAND:{driver}", "--cap", "EXTERNAL_COMMAND:sh", "/bin/sh",
                    "--", "-c",
                    f"{driver} -c h.c && {driver} -o h h.o && echo linked; "
                    "/usr/bin/python3 -c 1; echo $?; id; echo $?")
    out = p.stdout.decode().split()
    assert out == ["linked", "126", "126"], (p.stdout, p.stderr)
    refused = exec_denials(log)
    assert "/usr/bin/python3" in refused and "/usr/bin/id" in refused, refused
    assert not [r for r in refused if "/gcc/" in r or r.endswith(("/as", "/ld"))], refused


def test_dry_run_lists_the_helpers(ob_bin, workdir):
    p = subprocess.run([ob_bin, "sandbox", "run", "--dry-run", "--workdir", workdir, "--cap",
                        "EXTERNAL_COMMAND:gcc", "--cap", "EXTERNAL_COMMAND:/workspace/*.sh",
                        "/bin/true"], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    import json
    rules = {r["path"]: r.get("why") for r in json.loads(p.stdout)["landlock"]["rules"]}
    helpers = {os.path.basename(k) for k, v in rules.items() if v and v.startswith("toolchain gcc")}
    assert {"cc1", "collect2", "as", "ld"} <= helpers, rules
    assert "python3" not in helpers and "make" not in helpers
    assert rules["/workspace"] == "EXTERNAL_COMMAND:/workspace/*.sh"


def test_make_drives_cc_and_a_test_script(sandbox, shared_tmp, workdir):
    """make runs cc and the test script: each needs its own grant (make grants nothing of
    what it runs); without the cc grant, make's cc is refused and recorded."""
    write_script(workdir, "Makefile", "check: h\n\tsh ./test.sh\nh: h.c\n\tcc -o h h.c\n",
                 mode=0o644)
    write_script(workdir, "test.sh",
                 '#!/bin/sh\n[ "$(./h)" = "hello from h" ] && echo TESTS-PASSED\n')
    grants = ["--cap", "EXTERNAL_COMMAND:make", "--cap", "EXTERNAL_COMMAND:sh", "--cap",
              "EXTERNAL_COMMAND:/workspace/**"]
    log = os.path.join(shared_tmp, "make.jsonl")
    p = sandbox.run("--workdir", workdir, "--audit-log", log, *grants, "make")
    assert p.returncode != 0 and b"TESTS-PASSED" not in p.stdout, (p.stdout, p.stderr)
    assert "/usr/bin/cc" in exec_denials(log), denials(log)
    log = os.path.join(shared_tmp, "make-cc.jsonl")
    p = sandbox.run("--workdir", workdir, "--audit-log", log, *grants, "--cap",
                    "EXTERNAL_COMMAND:cc", "make")
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert b"TESTS-PASSED" in p.stdout
    assert denials(log) == []


def test_a_pattern_allows_what_it_matches(sandbox, shared_tmp, workdir):
    """/workspace/*.sh: run.sh runs; other.bin (under the same Landlock prefix), a symlink
    x.sh → other.bin and an fd link to fd.bin (/proc/self/fd/3) are refused with EACCES
    and recorded as the file they lead to."""
    write_script(workdir, "run.sh", "#!/bin/sh\necho run-ok\n")
    shutil.copy("/bin/true", os.path.join(workdir, "other.bin"))
    os.chmod(os.path.join(workdir, "other.bin"), 0o755)
    shutil.copy(os.path.join(workdir, "other.bin"), os.path.join(workdir, "fd.bin"))
    os.symlink("other.bin", os.path.join(workdir, "x.sh"))
    log = os.path.join(shared_tmp, "pattern.jsonl")
    p = sandbox.run("--workdir", workdir, "--audit-log", log, "--cap",
                    "EXTERNAL_COMMAND:/workspace/*.sh", "--cap", "EXTERNAL_COMMAND:sh",
                    "/bin/sh", "--", "-c", "./run.sh; ./other.bin; echo $?; ./x.sh; echo $?; "
                    "exec 3<fd.bin; /proc/self/fd/3; echo $?")
    assert p.stdout.decode().split() == ["run-ok", "126", "126", "126"], (p.stdout, p.stderr)
    # (identical denials within a second may be folded: SPEC §5 `repeated`)
    assert list(dict.fromkeys(exec_denials(log))) == ["/workspace/other.bin",
                                                       "/workspace/fd.bin"], denials(log)


def test_a_path_swapped_after_the_look_is_killed(sandbox, shared_tmp, workdir):
    """A thread swaps execve's path between an allowed program and other.bin, a copy of id
    beneath the pattern's Landlock prefix that the pattern does not match: the supervisor
    may look at the one while the kernel runs the other, so the process is looked at again
    at its next trap, where /proc/PID/exe shows other.bin: refused, recorded, killed. id
    never gets as far as to print anything."""
    attack = os.path.join(shared_tmp, "ob-attack")
    shutil.copy(ATTACK, attack)
    os.chmod(attack, 0o755)
    shutil.copy("/usr/bin/id", os.path.join(workdir, "other.bin"))
    os.chmod(os.path.join(workdir, "other.bin"), 0o755)
    log = os.path.join(shared_tmp, "race.jsonl")
    p = sandbox.run("--workdir", workdir, "--audit-log", log, "--cap",
                    "EXTERNAL_COMMAND:/workspace/*.sh", attack, "exec-race",
                    "/workspace/other.bin", "/usr/bin/id", "200")
    out = p.stdout.decode()
    assert "exec-race ran=" in out, (out, p.stderr)
    assert "uid=" not in out and b"no such user" not in p.stderr, (out, p.stderr)
    assert set(exec_denials(log)) <= {"/workspace/other.bin"}, denials(log)


@pytest.fixture
def tools_dir():
    """A read-only tree outside /tmp (so mode rx would show it too): tools/a/bin/x and
    tools/b/bin/y (copies of echo), tools/c/bin/x a symlink out of the tree, to id."""
    d = tempfile.mkdtemp(prefix="ob-tools-", dir="/var/tmp")
    os.chmod(d, 0o755)
    for sub in ("a", "b", "c"):
        os.makedirs(os.path.join(d, "tools", sub, "bin"))
    shutil.copy("/usr/bin/echo", os.path.join(d, "tools/a/bin/x"))
    shutil.copy("/usr/bin/echo", os.path.join(d, "tools/b/bin/y"))
    os.symlink("/usr/bin/id", os.path.join(d, "tools/c/bin/x"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_a_pattern_over_a_read_only_tree_is_exact_in_landlock(sandbox, ob_bin, shared_tmp,
                                                              tools_dir):
    """Where the program cannot add names beneath the prefix, the files matching at launch
    get rules of their own: no EXECUTE on the prefix (the kernel is the exact fence, no
    race), a symlink out of the tree is left out."""
    tools = os.path.join(tools_dir, "tools")
    grants = ["--cap", f"FILE_READ:{tools}/**", "--cap", f"EXTERNAL_COMMAND:{tools}/*/bin/x",
              "--cap", "EXTERNAL_COMMAND:sh"]
    p = subprocess.run([ob_bin, "sandbox", "run", "--dry-run", *grants, "/bin/true"],
                       capture_output=True, timeout=60)
    import json
    rules = {r["path"]: r.get("why") for r in json.loads(p.stdout)["landlock"]["rules"]}
    assert rules.get(f"{tools}/a/bin/x") == f"EXTERNAL_COMMAND:{tools}/*/bin/x", rules
    assert f"{tools}/c/bin/x" not in rules and f"{tools}/b/bin/y" not in rules
    access = {r["path"]: r["access"] for r in json.loads(p.stdout)["landlock"]["rules"]}
    assert not access[tools] & 1, access  # LANDLOCK_ACCESS_FS_EXECUTE: not on the tree
    log = os.path.join(shared_tmp, "tools.jsonl")
    p = sandbox.run("--audit-log", log, *grants, "/bin/sh", "--", "-c",
                    f"{tools}/a/bin/x ok-a; {tools}/b/bin/y; echo $?; {tools}/c/bin/x; echo $?")
    assert p.stdout.decode().split() == ["ok-a", "126", "126"], (p.stdout, p.stderr)
    assert exec_denials(log) == [f"{tools}/b/bin/y", f"{tools}/c/bin/x"], denials(log)


def test_exec_from_tmp_only_with_a_grant(sandbox, shared_tmp):
    """The sandbox's /tmp: a program copied there runs exactly when a pattern covers it."""
    script = write_script(shared_tmp, "copy.py",
                          "#!/usr/bin/python3\nimport os, shutil, subprocess\n"
                          "shutil.copy('/bin/true', '/tmp/t')\nos.chmod('/tmp/t', 0o755)\n"
                          "try:\n    print(subprocess.run(['/tmp/t']).returncode)\n"
                          "except PermissionError:\n    print('EACCES')\n")
    p = sandbox.run(script)
    assert p.stdout.decode().split() == ["EACCES"], (p.stdout, p.stderr)
    p = sandbox.run("--cap", "EXTERNAL_COMMAND:/tmp/*", script)
    assert p.stdout.decode().split() == ["0"], (p.stdout, p.stderr)


def test_one_event_per_refused_path_search(sandbox, shared_tmp):
    """sh looks for ls in each PATH directory (/usr/bin/ls, then /bin/ls, the same file on
    a merged /usr): one refusal, one event, naming the first path tried; each exec is still
    refused (126)."""
    log = os.path.join(shared_tmp, "search.jsonl")
    p = sandbox.run("--audit-log", log, "--env", "PATH=/usr/local/bin:/usr/bin:/bin:/sbin",
                    "--cap", "EXTERNAL_COMMAND:sh", "/bin/sh", "--", "-c", "ls")
    assert p.returncode == 126, (p.stdout, p.stderr)
    assert exec_denials(log) == ["/usr/bin/ls"], denials(log)
    # two searches are two events (two processes: the first command is forked)
    log = os.path.join(shared_tmp, "two.jsonl")
    p = sandbox.run("--audit-log", log, "--cap", "EXTERNAL_COMMAND:sh", "/bin/sh", "--", "-c",
                    "ls; id")
    assert exec_denials(log) == ["/usr/bin/ls", "/usr/bin/id"], denials(log)


def test_a_name_pattern_is_refused(ob_bin):
    """A name pattern cannot be looked up on PATH: refused before anything runs (125)."""
    p = subprocess.run([ob_bin, "sandbox", "run", "--cap", "EXTERNAL_COMMAND:git*",
                        "/bin/true"], capture_output=True, timeout=60)
    assert p.returncode == 125, p.stderr
    assert p.stderr.startswith(b"omnibase: ") and b"EXTERNAL_COMMAND:git*" in p.stderr


def test_a_relative_pattern_names_the_workdir(ob_bin, workdir):
    """A pattern beneath the host workdir (./build/* from there) is beneath /workspace
    inside."""
    p = subprocess.run([ob_bin, "sandbox", "run", "--dry-run", "--workdir", workdir, "--cap",
                        "EXTERNAL_COMMAND:./build/*", "/bin/true"], capture_output=True,
                       timeout=60, cwd=workdir)
    assert p.returncode == 0, p.stderr
    import json
    rules = {r["path"]: r.get("why") for r in json.loads(p.stdout)["landlock"]["rules"]}
    assert "/workspace/build" in rules, rules
