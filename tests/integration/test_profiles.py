# SPDX-License-Identifier: LGPL-2.1-or-later
"""Profiles (SPEC §3, docs/design/profiles.md): `--profile NAME` adds a shipped capability
file's grants, in union with the others; `caps profiles|show|test` show them and answer with
the library's checks. Runs as root and as an unprivileged user."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import write_script

PROFILES = ["build", "git", "node", "python", "shell"]
SHELL_SCRIPT = """#!/bin/sh
set -e
mkdir -p out
printf 'b 2\\na 1\\nc 3\\n' > out/in.txt
sort out/in.txt | head -n 2 | tail -n 1 | cut -d' ' -f2 | tr 1 X | tee out/t.txt >/dev/null
grep -c a out/in.txt | sed 's/1/one/' > out/g.txt
awk '{ s += $2 } END { print s }' out/in.txt > out/sum.txt
cp out/sum.txt out/copy.txt && mv out/copy.txt out/moved.txt && rm out/moved.txt
[ -f out/sum.txt ] && test ! -e out/moved.txt
cat out/t.txt out/g.txt out/sum.txt | wc -l | tr -d ' '
echo "$(basename "$(dirname /a/b/c)") $(date +%Y | cut -c1-2) $(env | grep -c '^PATH=')"
ls out | sort | tr '\\n' ' '
"""


def test_profiles_listed_with_descriptions(run):
    p = run("caps", "profiles", check=0)
    lines = p.stdout.decode().splitlines()
    assert [ln.split()[0] for ln in lines] == PROFILES
    assert all(len(ln.split(None, 1)) == 2 for ln in lines)  # each has a description
    listed = json.loads(run("caps", "profiles", "--json", check=0).stdout)
    assert [e["name"] for e in listed] == PROFILES
    for e in listed:
        assert e["description"] and os.path.isfile(e["file"])


def test_show_prints_the_capability_file(run, source_root, tmp_path):
    for name in PROFILES:
        p = run("caps", "show", "--profile", name, check=0)
        with open(os.path.join(source_root, "profiles", name + ".json"), "rb") as f:
            assert p.stdout == f.read()
        shown = tmp_path / (name + ".json")
        shown.write_bytes(p.stdout)
        run("caps", "check", str(shown), check=0)  # a valid capability file as it stands
    p = run("caps", "show", "--profile", "shel", check=125)
    assert b"unknown profile 'shel'; did you mean shell?" in p.stderr
    assert b"build, git, node, python, shell" in p.stderr
    run("caps", "show", "--profile=git", check=0)
    p = run("caps", "show", "--profile", "../../etc/passwd", check=125)
    assert b"expected a name" in p.stderr
    run("caps", "show", check=125)
    run("caps", "show", "--help", check=0)
    run("caps", "profiles", "extra", check=125)
    run("caps", "profiles", "--help", check=0)


def test_caps_test_answers(run, tmp_path):
    p = run("caps", "test", "--profile", "shell", "EXTERNAL_COMMAND:grep", check=0)
    assert p.stdout == b"allowed by EXTERNAL_COMMAND:grep\n"
    p = run("caps", "test", "--profile", "shell", "EXTERNAL_COMMAND:curl", check=1)
    assert p.stdout == b"denied; needed EXTERNAL_COMMAND:curl\n"
    p = run("caps", "test", "--profile", "git", "EXTERNAL_COMMAND:/usr/lib/git-core/git-add",
            check=0)
    assert p.stdout == b"allowed by EXTERNAL_COMMAND:/usr/lib/git-core/**\n"
    f = tmp_path / "caps.json"
    f.write_text(json.dumps({"version": 1, "capabilities": [
        {"type": "FILE_WRITE", "resource": "/data/**"},
        {"type": "NETWORK_CONNECT", "resource": "*.example.com:443"},
        {"type": "SECRET_ACCESS", "resource": "token", "when": {"env": "prod"}}]}))
    # write implies read; the grant that allows it is named as written
    p = run("caps", "test", str(f), "FILE_READ:/data/a/b.csv", check=0)
    assert p.stdout == b"allowed by FILE_WRITE:/data/**\n"
    p = run("caps", "test", str(f), "NETWORK_CONNECT:api.example.com:443", check=0)
    assert p.stdout == b"allowed by NETWORK_CONNECT:*.example.com:443\n"
    p = run("caps", "test", str(f), "NETWORK_CONNECT:example.com:443", check=1)
    assert p.stdout == b"denied; needed NETWORK_CONNECT:example.com:443\n"
    # conditions: active only in their context
    run("caps", "test", str(f), "SECRET_ACCESS:token", check=1)
    run("caps", "test", "--context", "env=prod", str(f), "SECRET_ACCESS:token", check=0)
    # union of files and profiles; relative paths against the current directory
    run("caps", "test", str(f), "--profile", "shell", "EXTERNAL_COMMAND:sed", check=0)
    p = run("caps", "test", "FILE_READ:rel.txt", cwd=tmp_path, check=1)
    assert p.stdout == f"denied; needed FILE_READ:{tmp_path}/rel.txt\n".encode()
    # bad input: 125 with a message
    p = run("caps", "test", "--profile", "shell", "FILE_RAED:/x", check=125)
    assert b"did you mean FILE_READ?" in p.stderr
    p = run("caps", "test", "--profile", "shell", "nocolon", check=125)
    assert b"expected TYPE:RESOURCE" in p.stderr
    p = run("caps", "test", "NETWORK_CONNECT:", check=125)
    assert p.stderr.startswith(b"omnibase: caps test: ")
    p = run("caps", "test", "--profile", "nope", "FILE_READ:/x", check=125)
    assert b"unknown profile 'nope'" in p.stderr
    run("caps", "test", str(tmp_path / "missing.json"), "FILE_READ:/x", check=125)
    run("caps", "test", "--context", "bad", "FILE_READ:/x", check=125)
    p = run("caps", "test", "--porfile", "shell", "FILE_READ:/x", check=125)
    assert b"did you mean --profile?" in p.stderr
    run("caps", "test", check=125)
    run("caps", "test", "--help", check=0)


def test_installed_binary_reads_the_install_dir(ob_bin, tmp_path):
    """A binary outside its build tree never reads the source tree's profiles: it looks in
    the installation's data directory (which the meson install fills)."""
    copy = tmp_path / "omnibase"
    shutil.copy(ob_bin, copy)
    p = subprocess.run([str(copy), "caps", "profiles", "--json"], capture_output=True)
    if p.returncode == 0:  # installed on this machine: then it lists the installed ones
        assert all("/share/omnibase/profiles/" in e["file"] for e in json.loads(p.stdout))
    else:
        assert p.returncode == 125
        assert b"/share/omnibase/profiles'" in p.stderr
        assert b"meson install" in p.stderr


def shell_workdir(shared_tmp):
    work = os.path.join(shared_tmp, "work")
    os.mkdir(work)
    os.chmod(work, 0o777)
    write_script(work, "job.sh", SHELL_SCRIPT)
    return work


def test_shell_profile_runs_a_posix_script(sandbox, shared_tmp):
    work = shell_workdir(shared_tmp)
    p = sandbox.run("--profile", "shell", "--workdir", work, os.path.join(work, "job.sh"))
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().splitlines() == ["3", "b 20 1", "g.txt in.txt sum.txt t.txt "]
    with open(os.path.join(work, "out", "sum.txt")) as f:
        assert f.read() == "6\n"
    # without the profile the same script is refused its first command
    p = sandbox.run("--workdir", work, os.path.join(work, "job.sh"))
    assert p.returncode != 0


# A bare command grant is resolved on the host PATH, the program finds commands on the
# sandbox's (/usr/local/bin:/usr/bin:/bin:...): a host PATH that puts a version manager's shims
# first (pyenv on a developer's machine) grants the shim, not /usr/bin/python3. The tests
# run with the sandbox's PATH so both agree, as on CI.
SANDBOX_PATH = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"}


def test_profiles_union_with_other_grants(sandbox, shared_tmp):
    work = shell_workdir(shared_tmp)
    write_script(work, "py.sh", "#!/bin/sh\npython3 -c 'print(6 * 7)' | tr 4 X\n")
    p = sandbox.run("--profile", "shell", "--profile", "python", "--workdir", work,
                    os.path.join(work, "py.sh"), env_extra=SANDBOX_PATH)
    assert (p.returncode, p.stdout) == (0, b"X2\n"), p.stderr
    # one profile alone lacks the other's commands
    p = sandbox.run("--profile", "python", "--workdir", work, os.path.join(work, "py.sh"))
    assert p.returncode != 0
    # --cap and --profile add up
    p = sandbox.run("--profile", "python", "--cap", "EXTERNAL_COMMAND:sh", "--cap",
                    "EXTERNAL_COMMAND:tr", "--workdir", work, os.path.join(work, "py.sh"),
                    env_extra=SANDBOX_PATH)
    assert (p.returncode, p.stdout) == (0, b"X2\n"), p.stderr


def test_node_profile(sandbox, shared_tmp):
    if not shutil.which("node"):
        pytest.skip("node is not installed")
    work = shell_workdir(shared_tmp)
    write_script(work, "n.sh", "#!/bin/sh\nnode -e 'console.log(6 * 7)'\n")
    p = sandbox.run("--profile", "shell", "--profile", "node", "--workdir", work, os.path.join(work, "n.sh"))
    assert (p.returncode, p.stdout) == (0, b"42\n"), p.stderr


def test_git_profile(sandbox, shared_tmp):
    work = shell_workdir(shared_tmp)
    write_script(work, "g.sh", "#!/bin/sh\nset -e\ngit init -q repo\ncd repo\n"
                 "echo hi > f\ngit add f\n"
                 "git -c user.name=t -c user.email=t@t commit -qm one\ngit log --oneline | wc -l\n")
    p = sandbox.run("--profile", "shell", "--profile", "git", "--workdir", work, os.path.join(work, "g.sh"))
    assert (p.returncode, p.stdout.strip()) == (0, b"1"), p.stderr


def test_build_profile_compiles_and_runs(sandbox, shared_tmp):
    work = shell_workdir(shared_tmp)
    with open(os.path.join(work, "hello.c"), "w") as f:
        f.write('#include <stdio.h>\nint main(void) { puts("built"); return 0; }\n')
    with open(os.path.join(work, "Makefile"), "w") as f:
        f.write("hello: hello.c\n\tcc -o hello hello.c\n")
    write_script(work, "b.sh", "#!/bin/sh\nset -e\nmake -s\n./hello\n")
    p = sandbox.run("--profile", "build", "--workdir", work, os.path.join(work, "b.sh"))
    assert (p.returncode, p.stdout) == (0, b"built\n"), p.stderr


def test_unknown_profile_is_125(sandbox):
    p = sandbox.run("--profile", "pyhton", "/bin/true")
    assert p.returncode == 125
    assert b"omnibase: --profile: unknown profile 'pyhton'; did you mean python?" in p.stderr
