# SPDX-License-Identifier: LGPL-2.1-or-later
"""omnibase-loader (src/cli/loader-shim.c), gVisor's stand-in for the dynamic loader, tried on
the host kernel: bound over the real loader in a mount namespace of its own, as the gVisor
bundle binds it (tests/security/test_gvisor_exec_trace.py tries it inside gVisor). As an
interpreter it maps the loader its copy names and the program runs; run as a program it
executes its argument instead; and each way it fails with a message, never a crash."""
import os
import platform
import subprocess

import pytest

pytestmark = pytest.mark.skipif(platform.machine() != "x86_64",
                                reason="omnibase-loader is built for x86_64 only")

MARK = b"OMNIBASE-LOADER:"


def shim_copy(tmp, real):
    """A copy of omnibase-loader told that the real loader is at REAL (as oci-exec.c's
    write_shim makes it); REAL None: the copy as built, told nothing."""
    src = os.path.join(os.path.dirname(os.environ["OB_BIN"]), "omnibase-loader")
    data = bytearray(open(src, "rb").read())
    if real is not None:
        at = data.index(MARK) + len(MARK)
        data[at:at + len(real) + 1] = real.encode() + b"\0"
    path = os.path.join(tmp, "shim")
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o755)
    return path


def under_shim(shim, command):
    """COMMAND (sh) in a mount namespace where SHIM is the dynamic loader."""
    loader = os.path.realpath("/lib64/ld-linux-x86-64.so.2")
    return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                           f'mount --bind "$0" {loader} && {command}', shim],
                          capture_output=True, timeout=60)


@pytest.fixture
def tmp(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("not root")
    os.chmod(tmp_path, 0o755)
    return str(tmp_path)


def test_as_interpreter_and_as_program(tmp):
    real = os.path.join(tmp, "ld.so")
    with open(os.path.realpath("/lib64/ld-linux-x86-64.so.2"), "rb") as f, open(real, "wb") as g:
        g.write(f.read())
    shim = shim_copy(tmp, real)
    p = under_shim(shim, "/usr/bin/id -u && /usr/bin/python3 -c 'import ssl; print(\"py\")' "
                   "&& /lib64/ld-linux-x86-64.so.2 /usr/bin/echo through")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == [b"0", b"py", b"through"], p.stdout
    # run as a program: its argument executed, so a file that may not run does not
    copy = os.path.join(tmp, "echo-copy")
    with open("/usr/bin/echo", "rb") as f, open(copy, "wb") as g:
        g.write(f.read())
    os.chmod(copy, 0o644)
    for command, status, said in ((f"/lib64/ld-linux-x86-64.so.2 {copy} x", 126,
                                   b"cannot execute"),
                                  ("/lib64/ld-linux-x86-64.so.2 /nonexistent", 127,
                                   b"cannot execute"),
                                  ("/lib64/ld-linux-x86-64.so.2 --list /usr/bin/id", 127,
                                   b"takes no options"),
                                  ("/lib64/ld-linux-x86-64.so.2", 127, b"runs no program")):
        p = under_shim(shim, command)
        assert p.returncode == status and said in p.stderr, (command, p.returncode, p.stderr)


def test_failures_are_said(tmp):
    """A copy that names no loader, or a missing one, or a file that is no loader: the
    program does not start (127), and the reason is on stderr."""
    notelf = os.path.join(tmp, "notelf")
    with open(notelf, "w") as f:
        f.write("#!/bin/sh\n")
    for real, said in ((None, b"was not given"),
                       (os.path.join(tmp, "missing"), b"cannot open the dynamic loader"),
                       (notelf, b"not an x86_64 ELF shared object")):
        p = under_shim(shim_copy(tmp, real), "/usr/bin/true")
        assert p.returncode == 127 and said in p.stderr, (real, p.returncode, p.stderr)
