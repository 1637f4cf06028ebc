#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds an optimised tree and runs the capability-check benchmark (one core, pinned).
set -euo pipefail
cd "$(dirname "$0")/.."
./bench/prepare.sh -- bench/bench-capset
echo "== capability checks: 100 grants, 16 mixed requests, one core"
taskset -c 0 ./build-bench/bench/bench-capset "${1:-5000000}"
