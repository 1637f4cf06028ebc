#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Python package (SPEC §8): `pip install .` of this tree into a fresh venv (Debian's
# python3 and python3-mesonpy, no package index), then tests/python against what was
# installed, from outside the source tree so the source's python/ is never imported.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INDEX=1
/usr/bin/python3 -m venv --system-site-packages "$work/venv"
"$work/venv/bin/pip" install -q --no-build-isolation "$src"
cd "$work"
"$work/venv/bin/python" -m pytest -q -p no:cacheprovider --rootdir "$src/tests/python" \
	"$src/tests/python"
