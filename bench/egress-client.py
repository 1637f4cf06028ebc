#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# The client side of bench/egress.sh: MODE direct|transparent|proxy, bulk PORT BYTES or short
# PORT N. direct and transparent connect plainly (transparent runs inside omnibase, where the
# supervisor makes the connect); proxy goes through CONNECT on the sandbox's proxy.
# Prints one number: MB/s (bulk) or microseconds per request (short).
import socket
import sys
import time

mode, kind, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])


def connect():
    if mode in ("direct", "transparent"):
        return socket.create_connection(("127.0.0.1", port))
    s = socket.create_connection(("127.0.0.1", 3128))
    s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\n\r\n" % port)
    reply = b""
    while not reply.endswith(b"\r\n\r\n"):
        reply += s.recv(1)
    assert reply.startswith(b"HTTP/1.1 200"), reply
    return s


if kind == "bulk":
    s = connect()
    s.sendall(b"%d\n" % n)
    buf = bytearray(1 << 20)
    got, t = 0, time.monotonic()
    while got < n:
        k = s.recv_into(buf)
        if not k:
            break
        got += k
    dt = time.monotonic() - t
    assert got == n, (got, n)
    print("%.0f" % (got / dt / 1e6))
else:
    t = time.monotonic()
    for _ in range(n):
        s = connect()
        s.sendall(b"1\n")
        assert s.recv(16) == b"x"
        s.close()
    print("%.1f" % ((time.monotonic() - t) / n * 1e6))
