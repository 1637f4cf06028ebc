#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Cedar decisions/s on the shared workload (../shared/bench/cedar): our evaluator
# (bench-policy, release build) next to the reference engine cedar-wasm (its own bench.mjs,
# `--mode sliced`, the most favourable way to call it), one after the other in one run, each
# on one pinned core. Both check every answer against the reference's expected.jsonl first.
# Not a test: the numbers depend on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
./bench/prepare.sh -- bench/bench-policy
shared=${OB_CEDAR_BENCH:-$PWD/../shared/bench/cedar}
seconds=${OB_BENCH_SECONDS:-5}
[ -d tests/oracle/node_modules/@cedar-policy/cedar-wasm ] ||
	(cd tests/oracle && npm ci --no-audit --no-fund --silent)
# The shared directory is read-only: run its bench.mjs from a scratch copy that sees our
# installed cedar-wasm (the same pinned version, 4.13.0).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$shared/bench.mjs" "$tmp/"
ln -s "$shared/workload" "$tmp/workload"
ln -s "$PWD/tests/oracle/node_modules" "$tmp/node_modules"
echo "== omnibase (C), preparsed requests"
ours=$(OB_BENCH_SECONDS=$seconds taskset -c 1 ./build-bench/bench/bench-policy "$shared/workload")
echo "$ours"
echo "== cedar-wasm 4.13.0, stateful+sliced"
ref=$(taskset -c 1 node "$tmp/bench.mjs" --mode sliced --seconds "$seconds" | tail -1)
echo "$ref"
/usr/bin/python3 - "$ours" "$ref" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"== ratio: {a['decisions_per_s'] / b['decisions_per_s']:.0f}x the reference engine "
      f"({a['decisions_per_s']:,.0f} vs {b['decisions_per_s']:,.0f} decisions/s)")
PY
