#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds omnibase and shows `caps check` on a good and a bad capability file.
set -euo pipefail
cd "$(dirname "$0")/.."
./ci/deps.sh
[ -d build-demo ] || meson setup build-demo --buildtype=release -Dtests=false >/dev/null
ninja -C build-demo >/dev/null
ob=./build-demo/omnibase
echo "\$ omnibase --version"
"$ob" --version
echo
echo "\$ omnibase caps check examples/caps/good.json"
"$ob" caps check examples/caps/good.json
echo
echo "\$ omnibase caps check examples/caps/bad.json"
set +e
"$ob" caps check examples/caps/bad.json 2>&1
rc=$?
set -e
echo "(exit status $rc: a bad capability file is refused before anything runs)"
[ "$rc" -eq 125 ]
