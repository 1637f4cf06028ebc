#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The whole test suite, as CI runs it:
#   1. gcc, warnings as errors, coverage: unit + integration + fuzz-corpus tests; gcovr's
#      line coverage of src/ must be >= 90 %
#   2. clang with ASan + UBSan (and libFuzzer): the same tests, then each fuzzer for
#      OB_FUZZ_SECONDS (default 20: eleven targets; long fuzzing runs stay out of CI)
#   3. the Python package: pip install . into a venv, tests/python against it (ci/python.sh)
#   4. clang-format and clang-tidy over the tree
set -euo pipefail
cd "$(dirname "$0")/.."
./ci/deps.sh
# A skip fails unless this host explains it (tests/conftest.py: pytest_runtest_makereport):
# CI has every feature the tests need, so a test that skipped would hide a regression.
export OB_MUST_WORK=1
fuzz_seconds=${OB_FUZZ_SECONDS:-20}
passed=0
failed=0

count_results() { # build dir
	local log="$1/meson-logs/testlog.json"
	local p f
	p=$(grep -c '"result": "OK"' "$log" || true)
	f=$(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)
	passed=$((passed + p))
	failed=$((failed + f))
}

run_suite() { # build dir
	local rc=0
	meson test -C "$1" --print-errorlogs --num-processes 2 || rc=$?
	count_results "$1"
	return $rc
}

echo "== clang-format"
git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror

echo "== gcc: build with coverage"
rm -rf build-cov
meson setup build-cov -Db_coverage=true --werror >/dev/null
ninja -C build-cov
run_suite build-cov
echo "== coverage of src/"
# src/lib/runner/spawn.c runs only after clone, inside the sandbox, where the build tree (and so its
# coverage counters) cannot be reached: tests/security and tests/integration exercise it.
summary=$(cd build-cov && gcovr -r .. --filter ../src/ --exclude '.*/spawn\.c' --print-summary \
	-o coverage.txt . 2>/dev/null) # not -o /dev/null: gcovr replaces its output file

echo "$summary"
pct=$(echo "$summary" | sed -n 's/^lines: \([0-9.]*\)%.*/\1/p')
if ! awk -v p="$pct" 'BEGIN { exit !(p >= 90) }'; then
	echo "coverage ${pct}% is below 90%" >&2
	exit 1
fi

echo "== clang: ASan + UBSan + libFuzzer"
rm -rf build-asan
CC=clang meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=true \
	-Dc_args=-fno-sanitize-recover=all --werror >/dev/null
ninja -C build-asan
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 run_suite build-asan

echo "== python package (pip install . into a venv, tests/python)"
if ./ci/python.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

for t in audit capfile command dns elf entities gvtrace minisign pattern policy policy-text; do
	echo "== fuzz $t for ${fuzz_seconds}s"
	work=$(mktemp -d)
	cp -r "tests/fuzz/corpus/$t/." "$work/"
	# the fuzzer's own status, not the filter's (with pipefail, "| grep || true" hid it)
	rc=0
	./build-asan/tests/fuzz/fuzz-$t -max_total_time="$fuzz_seconds" -max_len=8192 \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		"$work" >"$work.log" 2>&1 || rc=$?
	grep -E 'stat::number_of_executed_units|stat::new_units_added|Done|ERROR|SUMMARY|#[0-9]+ ' \
		"$work.log" || true
	rm -rf "$work" "$work.log"
	[ "$rc" -eq 0 ] || { echo "fuzzer $t found a failure" >&2; exit 1; }
done

echo "== clang-tidy"
# gcc's -Wno-format-truncation is unknown to clang's front end: tell it not to mind.
git ls-files 'src/*.c' | xargs clang-tidy -p build-cov --quiet \
	--extra-arg=-Wno-unknown-warning-option 2>&1 | { grep -v 'warnings generated' || true; }

echo
echo "tests: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
