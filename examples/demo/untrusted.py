#!/usr/bin/python3
# An "agent-written" script: it wants one data file, and tries a few things it should not.
import os
import socket
import sys

data = sys.argv[1] if len(sys.argv) > 1 else "/srv/data/allowed.txt"
for path in (data, "/etc/passwd", "/root/.ssh/id_rsa"):
    try:
        with open(path) as f:
            print(f"read   {path}: {f.read().strip()[:40]!r}")
    except OSError as e:
        print(f"denied {path}: {e.strerror}")
try:
    socket.create_connection(("127.0.0.1", 22), timeout=2)
    print("connected to the host's 127.0.0.1:22")
except OSError as e:
    print(f"denied connect 127.0.0.1:22: {e.strerror}")
print(f"running as uid {os.getuid()} on host {socket.gethostname()!r}")
