# SPDX-License-Identifier: LGPL-2.1-or-later
import os
import subprocess

import pytest


@pytest.fixture(scope="session")
def ob_bin():
    path = os.environ.get("OB_BIN")
    if not path:
        pytest.fail("OB_BIN is not set: run through `meson test`")
    return path


@pytest.fixture(scope="session")
def source_root():
    return os.environ.get("OB_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))


@pytest.fixture
def run(ob_bin):
    def _run(*args, cwd=None, check=None):
        p = subprocess.run([ob_bin, *args], capture_output=True, cwd=cwd, timeout=60)
        if check is not None:
            assert p.returncode == check, (p.returncode, p.stdout, p.stderr)
        return p
    return _run
