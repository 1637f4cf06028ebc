#!/usr/bin/python3
# An "agent-written" client that ignores proxy variables: plain sockets and DNS. It was
# granted one service (NETWORK_CONNECT localhost:PORT) and tries a few other places.
import socket
import sys

port = int(sys.argv[1])


def get(host, p):
    try:
        with socket.create_connection((host, p), timeout=3) as s:
            s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
            return s.recv(200).split(b"\r\n")[0].decode()
    except OSError as e:
        return f"refused: {e.strerror or e}"


print(f"localhost:{port}           {get('localhost', port)}")
print(f"127.0.0.1:{port + 1}         {get('127.0.0.1', port + 1)}")
print(f"169.254.169.254:80       {get('169.254.169.254', 80)}  (cloud metadata)")
print(f"pypi.org:443             {get('pypi.org', 443)}")
