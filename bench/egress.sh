#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Egress against a direct loopback connection, in one run: bulk throughput (1 GiB) and the
# time of 1,000 short requests (connect, ask, answer, close), for the transparent path
# (--egress transparent: plain sockets, the supervisor makes each connect) and the proxy
# (--egress proxy: CONNECT). The direct client runs on the host; the others inside omnibase
# with a grant for the server's port. Server and clients: bench/egress-client.py and the
# server below (Python on both sides, so the ratios are what counts). Not a test: timings
# depend on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
./bench/prepare.sh
ob=$PWD/build-bench/omnibase
client=$PWD/bench/egress-client.py
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
inside() {
	local mode=$1
	shift
	"$ob" sandbox run --timeout 120 --egress "$mode" --cap "NETWORK_CONNECT:127.0.0.1:$port" \
		"$client" "$mode" "$@"
}

d_bulk=$(/usr/bin/python3 "$client" direct bulk "$port" "$bytes")
t_bulk=$(inside transparent bulk "$port" "$bytes")
p_bulk=$(inside proxy bulk "$port" "$bytes")
d_short=$(/usr/bin/python3 "$client" direct short "$port" "$requests")
t_short=$(inside transparent short "$port" "$requests")
p_short=$(inside proxy short "$port" "$requests")
awk -v db="$d_bulk" -v tb="$t_bulk" -v pb="$p_bulk" -v ds="$d_short" -v ts="$t_short" \
	-v ps="$p_short" 'BEGIN {
	printf "bulk 1 GiB:   direct %6.0f MB/s   transparent %6.0f MB/s (x%.2f)   proxy %6.0f MB/s (x%.2f)\n", db, tb, tb / db, pb, pb / db
	printf "short:        direct %6.1f us     transparent %6.1f us (+%.1f)    proxy %6.1f us (+%.1f) per request\n", ds, ts, ts - ds, ps, ps - ds
}'
