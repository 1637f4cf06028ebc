# SPDX-License-Identifier: LGPL-2.1-or-later
"""--seccomp-profile and the seccomp policy in --dry-run (docs/security/seccomp.md)."""
import json
import os

import pytest

from conftest import events, write_script


def profile(shared_tmp, text, name="profile.json"):
    path = os.path.join(shared_tmp, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    return path


def test_dry_run_shows_the_policy(sandbox):
    p = sandbox.run("--dry-run", "/bin/true")
    assert p.returncode == 0, p.stderr
    sc = json.loads(p.stdout)["seccomp"]
    assert "read" in sc["allowed"] and "mount" not in sc["allowed"]
    assert "io_uring_setup" in sc["refused_examples"] and "bpf" in sc["refused_examples"]
    assert sc["observed"][:16] == ["execve", "execveat", "connect", "bind", "listen",
                                   "sendto", "open", "openat", "openat2", "creat", "sendmsg",
                                   "sendmmsg", "setxattr", "lsetxattr", "fsetxattr",
                                   "memfd_create"]
    # and the calls that write by path (notify-write.c)
    assert {"mkdir", "unlink", "renameat2", "utimensat"} <= set(sc["observed"][16:])
    assert any("TIOCSTI" in c for c in sc["conditional"])
    assert any("MFD_NOEXEC_SEAL" in c for c in sc["conditional"])
    assert "memfd_create" not in sc["allowed"]


def test_profile_denies_and_allows(sandbox, shared_tmp):
    path = profile(shared_tmp, '{"version": 1, "deny": ["getppid", "clone"],\n'
                               ' "allow": ["mbind", "kcmp"]}')
    script = write_script(shared_tmp, "ppid.py", "#!/usr/bin/python3\n"
                          "import os\nprint(os.getppid())\n")
    log = os.path.join(shared_tmp, "p.jsonl")
    p = sandbox.run("--seccomp-profile", path, "--audit-log", log, script)
    assert p.returncode == 0 and p.stdout.strip() == b"-1", (p.stdout, p.stderr)
    assert any(e["event"] == "SandboxViolation" and e["syscall"] == "getppid"
               for e in events(log))
    plan = json.loads(sandbox.run("--dry-run", "--seccomp-profile", path, "/bin/true").stdout)
    assert "getppid" not in plan["seccomp"]["allowed"] and "kcmp" in plan["seccomp"]["allowed"]
    assert "kcmp" not in plan["seccomp"]["refused_examples"]


@pytest.mark.parametrize("text,needle", [
    ('{"version": 1, "deny": ["nosuch"]}', b"1:25: $.deny[0]: unknown system call name"),
    ('{"version": 1, "allow": [1]}', b"$.allow[0]: expected a string"),
    ('{"version": 1, "allow": "mount"}', b"$.allow: expected an array"),
    ('{"version": 2}', b"$.version: expected 1"),
    ('{"version": 1, "extra": []}', b"$.extra: unknown key"),
    ('{"version": 1, "deny": ["openat"]}', b"cannot be changed here"),
    ('[1]', b"$: expected an object"),
    ('{"version": 1,', b"profile.json:1:"),
])
def test_bad_profiles_are_125(sandbox, shared_tmp, text, needle):
    path = profile(shared_tmp, text)
    p = sandbox.run("--seccomp-profile", path, "/bin/true")
    assert p.returncode == 125 and needle in p.stderr, p.stderr
    assert sandbox.run("--seccomp-profile", path + ".missing", "/bin/true").returncode == 125
