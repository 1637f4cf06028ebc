#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds omnibase and runs an untrusted script twice: without capabilities, then with a
# FILE_READ grant for one file; the audit events are shown. Then a client that ignores proxy
# variables, granted one local service (transparent egress). Then `caps check` on a good and
# a bad capability file.
set -euo pipefail
cd "$(dirname "$0")/.."
./ci/deps.sh
[ -d build-demo ] || meson setup build-demo --buildtype=release -Dtests=false >/dev/null
ninja -C build-demo >/dev/null
ob=$PWD/build-demo/omnibase
demo=$(mktemp -d /tmp/omnibase-demo.XXXXXX)
server=
trap 'rm -rf "$demo"; [ -z "$server" ] || kill "$server" 2>/dev/null' EXIT
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
# A web server on the host's loopback, for the network part.
/usr/bin/python3 -c '
import http.server, sys
s = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.serve_forever()' "$demo/port" >/dev/null 2>&1 &
server=$!
while [ ! -s "$demo/port" ]; do sleep 0.05; done
port=$(cat "$demo/port")
echo "\$ omnibase sandbox run --cap NETWORK_CONNECT:localhost:$port \\"
echo "      --audit-log $demo/net.jsonl examples/demo/netclient.py $port"
"$ob" sandbox run --cap "NETWORK_CONNECT:localhost:$port" --audit-log "$demo/net.jsonl" \
	examples/demo/netclient.py -- "$port"
echo
echo "refusals on the record:"
grep '"CapabilityDenied"' "$demo/net.jsonl" | /usr/bin/python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    print("  %-16s %-24s %-8s %s" % (e["capability"], e["resource"], e["operation"], e.get("detail", "")))'
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
