# SPDX-License-Identifier: LGPL-2.1-or-later
"""Tests from any checkout: conftest decides whether the unprivileged test user can reach
the build, and copies what it runs where it can (a clone under /root, which is 0700)."""
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import TEST_USER, _user_ids, can_reach, copy_for_user


@pytest.fixture
def private_dir():
    d = tempfile.mkdtemp(prefix="ob-private-")
    os.chmod(d, 0o700)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_reachability_follows_every_directory(private_dir):
    uid, gids = 54321, {54321}
    sub = os.path.join(private_dir, "build")
    os.mkdir(sub)
    os.chmod(sub, 0o755)
    exe = os.path.join(sub, "prog")
    with open(exe, "w") as f:
        f.write("#!/bin/sh\n")
    os.chmod(exe, 0o755)
    assert can_reach(exe, 0, set())  # root reaches everything
    assert not can_reach(exe, uid, gids)  # the 0700 parent
    os.chmod(private_dir, 0o711)
    assert can_reach(exe, uid, gids)  # search is enough for a directory
    os.chmod(exe, 0o750)
    assert not can_reach(exe, uid, gids)
    os.chown(exe, -1, 54321)
    assert can_reach(exe, uid, gids)  # by its group
    os.chmod(exe, 0o700)
    os.chown(exe, uid, -1)
    assert can_reach(exe, uid, gids)  # by its owner
    assert not can_reach(os.path.join(sub, "absent"), uid, gids)


def test_unreachable_build_is_copied(ob_bin, private_dir):
    """A build in a 0700 directory: copied to a 0755 one with its helper beside, and the
    test user runs the copy."""
    if os.geteuid() != 0:
        pytest.skip("not root")
    uid, gids = _user_ids()
    for name in ("omnibase", "omnibase-exec"):
        shutil.copy2(os.path.join(os.path.dirname(ob_bin), name),
                     os.path.join(private_dir, name))
    hidden = os.path.join(private_dir, "omnibase")
    d, copies = copy_for_user({"OB_BIN": hidden}, uid, gids)
    try:
        assert d and copies["OB_BIN"] == os.path.join(d, "omnibase")
        assert os.stat(d).st_mode & 0o777 == 0o755
        assert os.path.exists(os.path.join(d, "omnibase-exec"))
        p = subprocess.run(["runuser", "-u", TEST_USER, "--", copies["OB_BIN"], "--version"],
                           capture_output=True)
        assert p.returncode == 0, p.stderr
        p = subprocess.run(["runuser", "-u", TEST_USER, "--", hidden, "--version"],
                           capture_output=True)
        assert p.returncode != 0  # what the copy is for
    finally:
        if d:
            shutil.rmtree(d)
    # reachable already: nothing copied
    assert copy_for_user({"OB_BIN": "/bin/true"},
                         uid, gids) == (None, {"OB_BIN": "/bin/true"})
