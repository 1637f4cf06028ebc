# SPDX-License-Identifier: LGPL-2.1-or-later
"""examples/python/agent_tool.py: output for the model, or what was denied."""
import importlib.util
import os

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python", "agent_tool.py")


def load():
    spec = importlib.util.spec_from_file_location("agent_tool", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_agent_tool():
    tool = load()
    assert tool.run_python('print(6 * 7)') == "42\n"
    denied = tool.run_python('print(open("/etc/passwd").read())')
    assert denied.startswith("denied by the sandbox") and "FILE_READ:/etc/passwd" in denied
    assert tool.run_python("import time; time.sleep(5)", timeout=0.5).startswith("error: timed out")
    assert tool.run_python("1/0").startswith("exit 1")
