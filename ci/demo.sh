#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds omnibase and runs an untrusted script twice: without capabilities, then with a
# FILE_READ grant for one file; the audit events are shown. Then `caps check` on a good and a
# bad capability file.
set -euo pipefail
cd "$(dirname "$0")/.."
./ci/deps.sh
[ -d build-demo ] || meson setup build-demo --buildtype=release -Dtests=false >/dev/null
ninja -C build-demo >/dev/null
ob=$PWD/build-demo/omnibase
demo=$(mktemp -d /tmp/omnibase-demo.XXXXXX)
trap 'rm -rf "$demo"' EXIT
mkdir -p "$demo/data"
echo "quarterly numbers: 42" > "$demo/data/allowed.txt"
echo "not for the agent" > "$demo/data/other.txt"
chmod -R a+rX "$demo"
script=examples/demo/untrusted.py

echo "\$ omnibase sandbox run $script $demo/data/allowed.txt        # no capabilities"
"$ob" sandbox run "$script" -- "$demo/data/allowed.txt" || true
echo
echo "\$ omnibase sandbox run --cap FILE_READ:$demo/data/allowed.txt \\"
echo "      --audit-log $demo/audit.jsonl $script $demo/data/allowed.txt"
"$ob" sandbox run --cap "FILE_READ:$demo/data/allowed.txt" --audit-log "$demo/audit.jsonl" \
	"$script" -- "$demo/data/allowed.txt"
echo
echo "audit events:"
sed 's/^/  /' "$demo/audit.jsonl"
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
