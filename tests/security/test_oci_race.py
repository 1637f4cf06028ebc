# SPDX-License-Identifier: LGPL-2.1-or-later
"""The open broker on runc and crun (docs/design/runner.md, "Opens performed by the
supervisor"; issue 22 item 1). Their program takes its Landlock domain from omnibase-exec,
which keeps the ruleset's fd until it executes the program; the supervisor takes a copy at
that exec's trap and performs the program's opens and writes by path as the program, as
natively. A thread that swaps a path between the supervisor's look and the kernel's read
can no longer make a refusal go unrecorded there either. As root: they run as root only."""
import json
import os

import pytest

from conftest import ATTEMPT, Sandbox, events, oci_backend_or_skip, write_script
from test_open_race import inside_and_hidden, occurrences, race, run_ordinary_opens
from test_write_race import WRITES, WRITES_OUT, mkdir_race

BACKENDS = ["runc", "crun"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_swapped_open_keeps_its_record(ob_bin, shared_tmp, attack, backend):
    """A path flipped between a granted file and a hidden host file: every failed open is on
    the record, as the hidden file (before, about a third had no event)."""
    oci_backend_or_skip(ob_bin, backend)
    a, b = inside_and_hidden(shared_tmp)
    with open(a, "w") as f:
        f.write("A")
    os.chmod(a, 0o644)
    log = os.path.join(shared_tmp, "audit.jsonl")
    failed = race(Sandbox(ob_bin, "root"), "--backend", backend, "--cap", f"FILE_READ:{a}",
                  "--audit-log", log, attack, "open-race", a, b, "1")
    ev = events(log)
    assert occurrences(ev, b) == failed, (occurrences(ev, b), failed)
    assert {e["resource"] for e in ev if e["event"] == "CapabilityDenied"} == {b}


@pytest.mark.parametrize("backend", BACKENDS)
def test_swapped_mkdir_keeps_its_record(ob_bin, shared_tmp, attack, backend):
    """mkdir flipped between a directory that exists in a writable grant (EEXIST) and one in a
    read-only grant (EROFS): every refused mkdir is on the record."""
    oci_backend_or_skip(ob_bin, backend)
    mkdir_race(Sandbox(ob_bin, "root"), shared_tmp, attack, "--backend", backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_brokered_calls_behave_as_the_kernels(ob_bin, shared_tmp, backend):
    """The same programs as natively (test_open_race's opens, test_write_race's writes by
    path), performed by the broker on these runtimes: the same answers, the same record."""
    oci_backend_or_skip(ob_bin, backend)
    sb = Sandbox(ob_bin, "root")
    w = run_ordinary_opens(sb, shared_tmp, "--backend", backend)
    assert os.stat(os.path.join(w, "made")).st_uid == 0  # the caller's, on the host
    w2 = os.path.join(shared_tmp, "w2")
    os.mkdir(w2)
    os.chmod(w2, 0o777)
    script = write_script(shared_tmp, "writes.py", WRITES)
    log = os.path.join(shared_tmp, "writes.jsonl")
    p = sb.run("--backend", backend, "--cap", f"FILE_WRITE:{w2}", "--audit-log", log, script,
               w2)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == dict(WRITES_OUT, **{"chown-root": "EPERM"})
    assert [(e["resource"], e["operation"]) for e in events(log)
            if e["event"] == "CapabilityDenied"] == [("/usr/made", "mkdir"),
                                                     ("/etc/ssh/made", "mkdir")]


HELPER_AGAIN = ATTEMPT + r"""
import subprocess
# the Landlock helper again, with rules of the program's own (every right beneath /dev): had
# the supervisor taken this ruleset for its broker, the broker would create what the
# program's domain refuses
attempt("helper", lambda: subprocess.run(
    ["/dev/.omnibase-exec", "7", "ffff:/dev", "--", "/usr/bin/true"], check=True))
attempt("create", lambda: open("/dev/ob-new", "w"))
print(json.dumps(out))
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_program_cannot_run_the_helper_again(ob_bin, shared_tmp, backend):
    """The supervisor takes the broker's ruleset once, at the runtime's own exec of
    omnibase-exec: the program's exec of it is an exec like any other, refused (EACCES: not on
    the exec allow-list) and recorded, and the broker's domain stays the program's (a file in
    /dev, which the domain refuses, is not made)."""
    oci_backend_or_skip(ob_bin, backend)
    log = os.path.join(shared_tmp, "again.jsonl")
    p = Sandbox(ob_bin, "root").run("--backend", backend, "--audit-log", log,
                                    "/usr/bin/python3", "--", "-c", HELPER_AGAIN)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {"helper": "EACCES", "create": "EACCES"}
    assert {(e["capability"], e["resource"], e["operation"]) for e in events(log)
            if e["event"] == "CapabilityDenied"} == {
        ("EXTERNAL_COMMAND", "/dev/.omnibase-exec", "exec"), ("FILE_WRITE", "/dev/ob-new", "write")}
