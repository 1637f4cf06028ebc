# SPDX-License-Identifier: LGPL-2.1-or-later
"""OmniBase Sandbox for Python (SPEC §8): a thin binding over libomnibase.

Parsing, matching, conditions, capability files and running all happen in the C library
(``omnibase._omnibase``, a CPython extension linked with it), so the command line and
Python give the same answers and the same error messages.

    from omnibase import CapabilitySet, Sandbox
    caps = CapabilitySet.from_file("caps.json")
    with Sandbox(caps) as sb:
        sb.files.write("in.txt", b"hi")
        r = sb.run(["cat", "in.txt"], timeout=10)
        r.check()
"""
from __future__ import annotations

import enum
import json
import os
import shutil
import socket
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from . import _omnibase

__all__ = [
    "Capability", "CapabilityType", "CapabilitySet", "CapabilityContext", "CapabilityError",
    "SandboxViolationError", "Sandbox", "SandboxFiles", "RunResult", "version",
]


def version() -> str:
    """The version of the libomnibase this package is built with."""
    return _omnibase.version()


class CapabilityType(enum.Enum):
    """The capability types of SPEC §2.1; the value is the canonical name."""

    FILE_READ = "FILE_READ"
    FILE_WRITE = "FILE_WRITE"
    NETWORK_CONNECT = "NETWORK_CONNECT"
    EXTERNAL_COMMAND = "EXTERNAL_COMMAND"
    SECRET_ACCESS = "SECRET_ACCESS"
    DATABASE_READ = "DATABASE_READ"
    DATABASE_WRITE = "DATABASE_WRITE"
    REGISTRY_READ = "REGISTRY_READ"
    REGISTRY_WRITE = "REGISTRY_WRITE"
    ARTIFACT_READ = "ARTIFACT_READ"
    ARTIFACT_WRITE = "ARTIFACT_WRITE"


def _type_name(t: Union[CapabilityType, str]) -> str:
    if isinstance(t, CapabilityType):
        return t.value
    if isinstance(t, str):
        return t  # names and aliases are parsed by the library
    raise TypeError(f"capability type must be a CapabilityType or str, not {type(t).__name__}")


def _check_str(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    return value


@dataclass(frozen=True)
class Capability:
    """One grant or request: a type, a resource pattern and conditions (context KEY -> glob)."""

    type: Union[CapabilityType, str]
    resource: str
    conditions: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _type_name(self.type)
        _check_str("resource", self.resource)
        if not isinstance(self.conditions, Mapping):
            raise TypeError("conditions must be a mapping of str to str")


class CapabilityError(PermissionError):
    """A check refused: ``capability`` (type name), ``resource`` (the request, normalised),
    ``operation``, ``hint`` (the grant that would allow it, ``TYPE:RESOURCE``)."""

    def __init__(self, message: str, *, capability: str = "", resource: str = "",
                 operation: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.capability = capability
        self.resource = resource
        self.operation = operation
        self.hint = hint

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class SandboxViolationError(RuntimeError):
    """A run recorded denials or violations; ``events`` are those events (dicts)."""

    def __init__(self, message: str, *, events: List[Dict[str, Any]], result: "RunResult") -> None:
        super().__init__(message)
        self.events = events
        self.result = result


class CapabilitySet:
    """A set of grants (the library's ``ob_capset``).

    ``CapabilitySet([Capability(...), ...], workdir=None)``: relative resource paths are
    made absolute against ``workdir`` (default: the current directory), as the command
    line does.  ``CapabilitySet.from_file(path)`` reads a capability file (SPEC §2.4);
    its limits apply to sandboxes run with the set.
    """

    def __init__(self, capabilities: Iterable[Capability] = (), workdir: Optional[str] = None) -> None:
        self._set = _omnibase.CapSet()
        self._workdir = os.path.abspath(workdir) if workdir is not None else os.getcwd()
        if isinstance(capabilities, (str, bytes)) or not isinstance(capabilities, Iterable):
            raise TypeError("capabilities must be an iterable of Capability")
        for c in capabilities:
            self.add(c)

    @classmethod
    def from_file(cls, path: Union[str, "os.PathLike[str]"], workdir: Optional[str] = None) -> "CapabilitySet":
        """Reads a capability file.  Raises ValueError naming file:line:col or the JSON path
        (the command line's message), OSError (FileNotFoundError, ...) when unreadable."""
        s = cls((), workdir)
        s._set.load(os.fspath(path), s._workdir)
        return s

    def add(self, capability: Capability) -> None:
        """Adds a copy of CAPABILITY (ValueError for a malformed resource or condition)."""
        if not isinstance(capability, Capability):
            raise TypeError(f"expected a Capability, not {type(capability).__name__}")
        self._set.add(_type_name(capability.type), capability.resource, self._workdir,
                      dict(capability.conditions))

    def has_capability(self, capability: Capability, context: Optional[Mapping[str, str]] = None) -> bool:
        """True when an active grant covers CAPABILITY (which may itself be a pattern)."""
        if not isinstance(capability, Capability):
            raise TypeError(f"expected a Capability, not {type(capability).__name__}")
        ctx = _omnibase.Context(dict(context)) if context else None
        return self._set.has(_type_name(capability.type), capability.resource, self._workdir,
                             dict(capability.conditions), ctx)

    def __len__(self) -> int:
        return len(self._set)

    def __iter__(self):  # type: ignore[no-untyped-def]
        for t, r, conds in self._set.items():
            yield Capability(CapabilityType(t), r, conds)

    def to_json(self) -> str:
        """The set (and its file's limits) as the library writes it."""
        return self._set.to_json()

    def __repr__(self) -> str:
        return f"CapabilitySet({list(self)!r})"


class CapabilityContext:
    """Checks of concrete requests against a set, in an execution context.

    Relative paths resolve against ``workdir`` (default: the current directory).  Each
    ``check_*`` returns None when allowed and raises CapabilityError when denied, ValueError
    for a malformed request.  Safe to use from many threads at once.
    """

    def __init__(self, capabilities: CapabilitySet, context: Optional[Mapping[str, str]] = None,
                 workdir: Optional[str] = None) -> None:
        if not isinstance(capabilities, CapabilitySet):
            raise TypeError("capabilities must be a CapabilitySet")
        self.capabilities = capabilities
        self.context: Dict[str, str] = dict(context or {})
        self.workdir = os.path.abspath(workdir) if workdir is not None else os.getcwd()
        self._set = capabilities._set.copy()  # its own workdir; the caller's set untouched
        self._set.set_workdir(self.workdir)
        self._ctx = _omnibase.Context(self.context)

    def _check(self, kind: str, a: Any, b: Any = None) -> None:
        _check_str("resource", a)
        denied = self._set.check(kind, self._ctx, a, b)
        if denied is not None:
            _, cap, op, res, needed, msg = denied
            raise CapabilityError(msg, capability=cap, resource=res, operation=op, hint=needed)

    def check_file_read(self, path: str) -> None:
        self._check("file_read", path)

    def check_file_write(self, path: str) -> None:
        self._check("file_write", path)

    def check_network(self, host: str, port: int) -> None:
        if not isinstance(port, int) or isinstance(port, bool):
            raise TypeError("port must be an int")
        self._check("network", host, port)

    def check_unix_socket(self, path: str) -> None:
        self._check("unix_socket", path)

    def check_command(self, name: str) -> None:
        self._check("command", name)

    def check_secret(self, name: str) -> None:
        self._check("secret", name)

    def check_database(self, url: str, mode: str = "read") -> None:
        self._check("database", url, _check_str("mode", mode))

    def check_registry(self, name: str, mode: str = "read") -> None:
        self._check("registry", name, _check_str("mode", mode))

    def check_artifact(self, name: str, mode: str = "read") -> None:
        self._check("artifact", name, _check_str("mode", mode))


_DENIALS = ("CapabilityDenied", "SandboxViolation")


@dataclass
class RunResult:
    """The outcome of Sandbox.run: what ``omnibase sandbox run`` would exit with and print."""

    exit_code: int
    signal: int
    stdout_bytes: bytes
    stderr_bytes: bytes
    events: List[Dict[str, Any]]
    duration_ms: int
    timed_out: bool
    status: int = -1
    oom: bool = False
    violations: int = 0
    output_exceeded: bool = False
    execution_id: str = ""
    message: str = ""

    @property
    def stdout(self) -> str:
        return self.stdout_bytes.decode("utf-8", "replace")

    @property
    def stderr(self) -> str:
        return self.stderr_bytes.decode("utf-8", "replace")

    @property
    def denials(self) -> List[Dict[str, Any]]:
        """The CapabilityDenied and SandboxViolation events."""
        return [e for e in self.events if e.get("event") in _DENIALS]

    def check(self) -> "RunResult":
        """Raises SandboxViolationError when anything was denied; returns self otherwise."""
        d = self.denials
        if d or self.violations:
            first = d[0] if d else {}
            what = first.get("needed") or ":".join(str(first[k]) for k in ("capability", "resource") if k in first) or first.get("detail") or first.get("syscall") or "?"
            raise SandboxViolationError(
                f"{self.violations or len(d)} denial(s) in the sandbox, first: {first.get('event', '?')} {what}",
                events=d, result=self)
        return self


class SandboxFiles:
    """Files of a sandbox's workdir, seen from the host.  Paths are relative to the workdir
    (absolute ones are taken as /workspace-relative); a path that leaves it -> ValueError."""

    def __init__(self, root: str) -> None:
        self._root = root

    def _path(self, name: Union[str, "os.PathLike[str]"]) -> str:
        name = os.fspath(name)
        if not isinstance(name, str):
            raise TypeError("path must be a str")
        if name.startswith("/workspace/"):
            name = name[len("/workspace/"):]
        p = os.path.realpath(os.path.join(self._root, name))
        if os.path.commonpath([p, self._root]) != self._root or p == self._root:
            raise ValueError(f"{name!r}: outside the sandbox's workdir")
        return p

    def read(self, name: Union[str, "os.PathLike[str]"]) -> bytes:
        with open(self._path(name), "rb") as f:
            return f.read()

    def read_text(self, name: Union[str, "os.PathLike[str]"]) -> str:
        return self.read(name).decode("utf-8")

    def write(self, name: Union[str, "os.PathLike[str]"], data: Union[bytes, str]) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("data must be bytes or str")
        p = self._path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)

    def exists(self, name: Union[str, "os.PathLike[str]"]) -> bool:
        return os.path.exists(self._path(name))


def _str_map(name: str, m: Optional[Mapping[str, Any]]) -> Dict[str, str]:
    if m is None:
        return {}
    if not isinstance(m, Mapping):
        raise TypeError(f"{name} must be a dict")
    out = {}
    for k, v in m.items():
        if not isinstance(k, str) or not isinstance(v, (str, int, float)) or isinstance(v, bool):
            raise TypeError(f"{name} must map str to str")
        out[k] = str(v)
    return out


class _EventStream:
    """A unix socket the library sends each event to as it happens (an audit socket sink,
    ob_sandbox_add_audit_socket): a thread reads it and calls on_event while the run goes
    on (the GIL is released during the run)."""

    def __init__(self, on_event: Callable[[Dict[str, Any]], None], directory: str) -> None:
        self.path = os.path.join(directory, "events.sock")
        self._on_event = on_event
        self._srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._srv.bind(self.path)
        self._srv.listen(1)
        self.delivered = 0
        self.error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            self._srv.settimeout(60)
            conn, _ = self._srv.accept()
        except OSError:
            return  # closed: the run never connected (it failed before starting)
        with conn:
            buf = b""
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    if line.strip() and self.error is None:
                        try:
                            self._on_event(json.loads(line))
                            self.delivered += 1
                        except BaseException as e:  # raised from run() afterwards
                            self.error = e

    def close(self) -> None:
        """Waits for the end of the stream (the library closes it when the run ends)."""
        self._thread.join(timeout=10)
        self._srv.close()
        self._thread.join(timeout=1)


class Sandbox:
    """A sandbox over one workdir; each run() is a fresh sandbox (ob_sandbox_run) over it.

    ``workdir=None`` makes a temporary directory, removed on close.  ``on_event`` is called
    with each event (a dict) as the run goes, from a thread of the binding that reads an
    audit socket the library writes to; events that had not arrived when the run ended are
    delivered from ``run()`` before it returns.  An exception of ``on_event`` is raised
    from ``run()`` after the run.
    ``secrets`` maps a name to its bytes (handed to the library through a 0400 file in a
    private directory, removed after the run).  Objects are independent: many may run in
    many threads at once, each with its own grants.  One run at a time per object.
    """

    def __init__(self, capabilities: Optional[CapabilitySet] = None, workdir: Optional[str] = None,
                 mode: str = "sandbox", limits: Optional[Mapping[str, Any]] = None,
                 backend: str = "native", egress: str = "both",
                 context: Optional[Mapping[str, str]] = None,
                 secrets: Optional[Mapping[str, Union[bytes, str]]] = None,
                 audit_log: Optional[str] = None,
                 on_event: Optional[Callable[[Dict[str, Any]], None]] = None,
                 allow_degraded: bool = False, registry: Optional[str] = None,
                 artifacts: Optional[str] = None) -> None:
        if capabilities is not None and not isinstance(capabilities, CapabilitySet):
            raise TypeError("capabilities must be a CapabilitySet or None")
        for n, v in (("mode", mode), ("backend", backend), ("egress", egress)):
            _check_str(n, v)
        if on_event is not None and not callable(on_event):
            raise TypeError("on_event must be callable")
        self.capabilities = capabilities
        self._own = workdir is None
        self.workdir = tempfile.mkdtemp(prefix="omnibase-") if workdir is None else os.path.realpath(workdir)
        self.files = SandboxFiles(self.workdir)
        self._secrets: Dict[str, bytes] = {}
        for k, v in (secrets or {}).items():
            if not isinstance(k, str) or not isinstance(v, (bytes, str)):
                raise TypeError("secrets must map str to bytes")
            self._secrets[k] = v.encode() if isinstance(v, str) else v
        self._opts: Dict[str, Any] = {
            "workdir": self.workdir, "mode": mode, "backend": backend, "egress": egress,
            "limits": _str_map("limits", limits), "context": _str_map("context", context),
            "audit_logs": [os.fspath(audit_log)] if audit_log else [],
            "allow_degraded": bool(allow_degraded), "registry": registry, "artifacts": artifacts,
        }
        self.on_event = on_event
        self._lock = threading.Lock()
        self._closed = False

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Removes the workdir when the sandbox made it."""
        if not self._closed and self._own:
            shutil.rmtree(self.workdir, ignore_errors=True)
        self._closed = True

    def run(self, argv: Sequence[str], stdin: Optional[bytes] = None, timeout: Optional[float] = None,
            env: Optional[Mapping[str, str]] = None) -> RunResult:
        """Runs ARGV in a fresh sandbox over the workdir; the GIL is released meanwhile.

        ``timeout`` in seconds (default: the limits' timeout, 30 s).  ``stdin`` other than
        None or b"" is not supported yet (the library has no stdin setter): the program's
        standard input is this process's.  Raises ValueError for bad arguments (the command
        line's message), OSError with errno when the sandbox cannot be set up.
        """
        if self._closed:
            raise ValueError("the sandbox is closed")
        if isinstance(argv, (str, bytes)) or not isinstance(argv, Sequence):
            raise TypeError("argv must be a list of str")
        argv = [_check_str("argv item", a) for a in argv]
        if not argv:
            raise ValueError("argv is empty: no program to run")
        if stdin not in (None, b""):
            raise NotImplementedError("stdin data is not supported yet: write a file instead")
        opts = dict(self._opts)
        opts["env"] = [f"{k}={v}" for k, v in _str_map("env", env).items()]
        if timeout is not None:
            if not isinstance(timeout, (int, float)) or isinstance(timeout, bool):
                raise TypeError("timeout must be a number of seconds")
            opts["limits"] = dict(opts["limits"], timeout=repr(float(timeout)))
        capset = self.capabilities._set if self.capabilities is not None else None
        with self._lock:
            secret_dir = None
            stream = None
            try:
                if self._secrets or self.on_event is not None:
                    secret_dir = tempfile.mkdtemp(prefix="omnibase-run-")
                if self.on_event is not None:
                    stream = _EventStream(self.on_event, secret_dir)
                    opts["audit_sockets"] = [stream.path]
                if self._secrets:
                    opts["secrets"] = []
                    for k, v in self._secrets.items():
                        p = os.path.join(secret_dir, f"s{len(opts['secrets'])}")
                        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
                        with os.fdopen(fd, "wb") as f:
                            f.write(v)
                        opts["secrets"].append(f"{k}=@{p}")
                raw = _omnibase.run(capset, argv, **opts)
            finally:
                if stream is not None:
                    stream.close()
                if secret_dir:
                    shutil.rmtree(secret_dir, ignore_errors=True)
        events = [json.loads(line) for line in raw["events"].splitlines() if line.strip()]
        r = RunResult(exit_code=raw["exit_code"], signal=raw["signal"],
                      stdout_bytes=raw["stdout"], stderr_bytes=raw["stderr"], events=events,
                      duration_ms=raw["duration_ms"], timed_out=raw["timed_out"],
                      status=raw["status"], oom=raw["oom"], violations=raw["violations"],
                      output_exceeded=raw["output_exceeded"], execution_id=raw["execution_id"],
                      message=raw["message"])
        if stream is not None:
            if stream.error is not None:
                raise stream.error
            for e in events[stream.delivered:]:  # what the stream had not delivered yet
                self.on_event(e)  # type: ignore[misc]
        return r
