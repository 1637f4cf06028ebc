#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A tool for an LLM agent: run model-written Python under grants, answer with its output or
with what was denied (so the model can ask for the grant or change its code).

    python3 examples/python/agent_tool.py 'print(open("/etc/hostname").read())'
"""
import sys

from omnibase import Capability, CapabilitySet, CapabilityType, Sandbox

# What the model's code may do: read its inputs under /usr/share/dict and run Python.
GRANTS = CapabilitySet([
    Capability(CapabilityType.FILE_READ, "/usr/share/dict/*"),
    Capability(CapabilityType.EXTERNAL_COMMAND, "python3"),
])


def run_python(code: str, timeout: float = 10) -> str:
    """The tool: runs CODE in a fresh sandbox and returns text for the model."""
    with Sandbox(GRANTS, limits={"memory": "256M", "pids": "32"}) as sb:
        sb.files.write("main.py", code)
        r = sb.run(["/usr/bin/python3", "main.py"], timeout=timeout)
    if r.timed_out:
        return f"error: timed out after {timeout:g}s"
    denied = [f"{e['capability']}:{e['resource']}" for e in r.denials if "capability" in e]
    if denied:
        return ("denied by the sandbox (not granted): " + ", ".join(sorted(set(denied)))
                + "\nstderr:\n" + r.stderr[-2000:])
    if r.exit_code != 0:
        return f"exit {r.exit_code}\nstderr:\n{r.stderr[-2000:]}"
    return r.stdout[-8000:]


if __name__ == "__main__":
    print(run_python(sys.argv[1] if len(sys.argv) > 1 else 'print("hello from the sandbox")'))
