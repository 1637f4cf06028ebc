#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs the build and test dependencies from Debian's archive when any is missing.
set -euo pipefail
pkgs=(meson ninja-build gcc clang pkg-config libseccomp-dev libjansson-dev libsodium-dev libcmocka-dev
      python3 python3-pytest python3-dev python3-venv python3-mesonpy gcovr clang-format clang-tidy
      libclang-rt-dev postgresql postgresql-client runsc crun runc minisign shfmt)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm run the reference Cedar engine (tests/oracle): the machine's own if present.
command -v npm >/dev/null && command -v node >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
	echo "== installing: ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "ci/deps.sh: missing packages and not root: ${missing[*]}" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
