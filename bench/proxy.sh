#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The egress proxy against a direct loopback connection, in one run: bulk throughput (1 GiB
# through CONNECT) and the time of 1,000 short requests (connect, ask, answer, close). The
# direct client runs on the host; the proxied one inside omnibase with a grant for the
# server's port. Server and clients: bench/proxy-client.py and the server below (Python on
# both sides, so the ratio is what counts). Not a test: timings depend on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
./ci/deps.sh
[ -d build-bench ] || meson setup build-bench --buildtype=release -Dtests=false >/dev/null
ninja -C build-bench >/dev/null
ob=$PWD/build-bench/omnibase
client=$PWD/bench/proxy-client.py
bytes=${OB_BENCH_BYTES:-1073741824}
requests=${OB_BENCH_REQUESTS:-1000}
port_file=$(mktemp)
trap 'kill $server 2>/dev/null; rm -f "$port_file"' EXIT

# A server that answers "N\n" with N bytes of zeros, then closes.
/usr/bin/python3 - "$port_file" <<'PY' &
import socket, socketserver, sys
class H(socketserver.BaseRequestHandler):
    def handle(self):
        n = int(self.request.makefile("rb").readline())
        chunk = b"\0" * (1 << 20) if n > 1 else b"x"
        while n > 0:
            self.request.sendall(chunk[:n])
            n -= len(chunk)
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    request_queue_size = 512
s = S(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
server=$!
while [ ! -s "$port_file" ]; do sleep 0.05; done
port=$(cat "$port_file")
proxied() { "$ob" sandbox run --timeout 120 --cap "NETWORK_CONNECT:127.0.0.1:$port" "$client" proxy "$@"; }

d_bulk=$(/usr/bin/python3 "$client" direct bulk "$port" "$bytes")
p_bulk=$(proxied bulk "$port" "$bytes")
d_short=$(/usr/bin/python3 "$client" direct short "$port" "$requests")
p_short=$(proxied short "$port" "$requests")
awk -v db="$d_bulk" -v pb="$p_bulk" -v ds="$d_short" -v ps="$p_short" 'BEGIN {
	printf "bulk (%s):   direct %6.0f MB/s   proxy %6.0f MB/s   ratio %.2f\n", "1 GiB", db, pb, pb / db
	printf "short:          direct %6.1f us     proxy %6.1f us     added %.1f us per request\n", ds, ps, ps - ds
}'
