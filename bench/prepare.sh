#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# What every benchmark needs first: the build dependencies (ci/deps.sh), the peers it compares
# against (Debian packages named before --, installed when missing) and an optimised tree in
# build-bench (the ninja targets named after --, or all).
# Usage: bench/prepare.sh [PACKAGE...] [-- TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
./ci/deps.sh
need=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" || need+=("$1")
	shift
done
[ $# -gt 0 ] && shift
if [ ${#need[@]} -gt 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" \
		>/dev/null
fi
[ -d build-bench ] || meson setup build-bench --buildtype=release -Dtests=false >/dev/null
ninja -C build-bench "$@" >/dev/null
