# SPDX-License-Identifier: LGPL-2.1-or-later
"""The OCI backends (--backend gvisor|crun|runc): the same plan as an OCI bundle run by the
runtime. Each test runs for every runtime installed (ci/deps.sh installs runsc, crun, runc);
as root, and rootless where the backend can (gVisor; runc and crun refuse: tested)."""
import glob
import json
import os
import platform
import pwd
import shutil
import subprocess
import time

import pytest

from conftest import (OCI_RUNTIMES, TEST_USER, data_dir, events, oci_backend_or_skip,
                      write_script)

@pytest.fixture(params=sorted(OCI_RUNTIMES))
def backend(request, ob_bin):
    return oci_backend_or_skip(ob_bin, request.param)


def run(ob_bin, *args, timeout=120):
    return subprocess.run([ob_bin, "sandbox", "run", *args], capture_output=True,
                          timeout=timeout)


def bundles():
    """The OCI bundles on this machine: root's, each a tmpfs under /run/omnibase/oci; an
    unprivileged caller's in /dev/shm; never under $TMPDIR (older versions)."""
    return {b for pattern in ("/run/omnibase/oci/omnibase-oci-*", "/dev/shm/omnibase-oci-*",
                              "/tmp/omnibase-oci-*") for b in glob.glob(pattern)}


LOOK = "#!/bin/sh\n" + r"""
echo "uid=$(id -u) host=$(hostname)"
cat "$1" 2>/dev/null || echo "no $1"
cat /etc/shadow 2>/dev/null || echo "no shadow"
touch /usr/x 2>/dev/null && echo "wrote /usr" || echo "/usr read-only"
echo hi > /tmp/t && cat /tmp/t
exit 7
"""


def test_layout_identity_and_exit_status(ob_bin, shared_tmp, backend):
    """The plan's layout, user and hostname; the program's exit status comes back; the bundle
    is removed afterwards."""
    data = os.path.join(shared_tmp, "data.txt")
    with open(data, "w") as f:
        f.write("granted data\n")
    os.chmod(data, 0o644)
    script = write_script(shared_tmp, "look.sh", LOOK)
    before = bundles()
    log = os.path.join(shared_tmp, "b.jsonl")
    tools = [a for c in ("id", "hostname", "cat", "touch")
             for a in ("--cap", f"EXTERNAL_COMMAND:{c}")]
    # runc and crun apply the plan's Landlock rules through omnibase-exec and hand the seccomp
    # listener to the supervisor (observed denials, every refusal recorded); gVisor has its
    # exec allow-list by its mounts and omnibase-loader: none needs --allow-degraded
    runtime = backend != "gvisor"
    p = run(ob_bin, "--backend", backend, "--audit-log", log, "--cap",
            f"FILE_READ:{data}", *tools, script, data)
    assert p.returncode == 7, p.stderr
    assert p.stdout.decode().split("\n")[:5] == [
        "uid=1000 host=sandbox", "granted data", "no shadow", "/usr read-only", "hi"], p.stdout
    assert bundles() <= before  # another run's may have ended meanwhile
    ev = events(log)
    assert {e["backend"] for e in ev} == {backend}
    assert ev[0]["event"] == "SandboxStart" and ev[0]["protections"]["backend"] == backend
    assert not [e["protection"] for e in ev if e["event"] == "SandboxDegraded"]
    assert (ev[0]["protections"]["landlock"] > 0) == runtime
    assert ev[0]["protections"]["observed_denials"]  # gVisor: from runsc's strace
    denied = {(e["capability"], e["resource"]) for e in ev if e["event"] == "CapabilityDenied"}
    assert ("FILE_READ", "/etc/shadow") in denied, denied
    assert not any("/.omnibase" in r for _, r in denied), denied  # the helper is ours
    assert ev[-1]["event"] == "SandboxExit" and ev[-1]["status"] == 7
    # no cgroup of the run's left in any hierarchy (runsc makes one in each and, its sandbox
    # in a user namespace, removes none)
    assert not glob.glob(f"/sys/fs/cgroup/*/omnibase-{ev[0]['execution_id']}"), ev[0]


SECRET = "#!/usr/bin/python3\n" + r"""
import os
st = os.stat("/run/secrets/TOKEN")
print(oct(st.st_mode & 0o777), st.st_uid, open("/run/secrets/TOKEN").read(),
      "TOKEN" in os.environ)
"""


def test_secrets(ob_bin, shared_tmp, backend):
    """A granted secret is a file under /run/secrets, mode 0400, the program's, never in
    the environment (the runtime makes the tmpfs: it is given the program's uid)."""
    script = write_script(shared_tmp, "secret.py", SECRET)
    p = subprocess.run([ob_bin, "sandbox", "run", "--backend", backend,
                        "--cap", "SECRET_ACCESS:TOKEN", "--secret", "TOKEN=env:TOKEN", script],
                       capture_output=True, timeout=120, env=dict(os.environ, TOKEN="s3cret"))
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == [b"0o400", b"1000", b"s3cret", b"False"], p.stdout


WAIT = "#!/usr/bin/python3\n" + r"""
import os, sys, time
print(open("/run/secrets/TOKEN").read(), flush=True)
for _ in range(600):
    if os.path.exists(sys.argv[1]):
        break
    time.sleep(0.05)
"""


def runtime_bundle(supervisor):
    """The --bundle of the runtime SUPERVISOR started."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().decode().split("\0")
        except (OSError, ValueError, IndexError):
            continue
        if ppid == supervisor and "--bundle" in argv:
            return argv[argv.index("--bundle") + 1]
    return None


def test_secrets_on_a_tmpfs_collected_after_a_kill(ob_bin, shared_tmp, backend):
    """As root the bundle, secrets included, is a tmpfs of its own, never on disk; one that a
    SIGKILLed supervisor left is removed (unmounted) by a later run once 10 s old."""
    if os.geteuid() != 0:
        pytest.skip("not root")
    token = f"s3cret-{os.getpid()}-{backend}"
    go = os.path.join(shared_tmp, "go")
    script = write_script(shared_tmp, "wait.py", WAIT)
    p = subprocess.Popen([ob_bin, "sandbox", "run", "--backend", backend,
                          "--cap", "SECRET_ACCESS:TOKEN", "--secret", "TOKEN=env:TOKEN",
                          "--cap", f"FILE_READ:{shared_tmp}/**", script, go],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         env=dict(os.environ, TOKEN=token))
    try:
        assert p.stdout.readline().strip() == token.encode()
        bundle = runtime_bundle(p.pid)
        assert bundle and bundle.startswith("/run/omnibase/oci/omnibase-oci-"), bundle
        fs = subprocess.run(["stat", "-f", "-c", "%T", bundle], capture_output=True,
                            check=True).stdout.strip()
        assert fs == b"tmpfs", fs
        files = os.path.join(bundle, "files")  # the secret is there, on the tmpfs
        assert token in [open(os.path.join(files, n)).read() for n in os.listdir(files)]
        assert not [f for f in glob.glob("/tmp/omnibase-*/**", recursive=True)
                    if os.path.isfile(f) and token.encode() in open(f, "rb").read()]
        p.kill()  # the supervisor: what it made stays
        p.wait()
    finally:
        open(go, "w").close()  # the container ends
        p.kill()
        p.wait()
    assert os.path.isdir(os.path.join(bundle, "files"))

    def next_run_collects():
        subprocess.run([ob_bin, "sandbox", "run", "--backend", backend,
                        "/bin/true"], capture_output=True, timeout=120)
        return not os.path.exists(bundle)
    deadline = time.time() + 40
    while not next_run_collects():
        assert time.time() < deadline, f"{bundle} was not collected"
        time.sleep(1)
    with open("/proc/self/mountinfo") as f:
        assert bundle not in f.read()


def test_timeout_kills_the_container(ob_bin, backend):
    p = run(ob_bin, "--backend", backend, "--timeout", "1", "/bin/sleep",
            "--", "30")
    assert p.returncode == 124, p.stderr


def test_seccomp_allow_list_applies(ob_bin, shared_tmp, backend):
    """A nested user namespace is refused by the same allow-list (EPERM), and recorded on
    every backend (SandboxViolation, as natively; gVisor from its Sentry's "denied by seccomp",
    which names the call but not its arguments)."""
    attack = os.environ.get("OB_ATTACK")
    if not attack:
        pytest.skip("OB_ATTACK not set: run through `meson test`")
    log = os.path.join(shared_tmp, "s.jsonl")
    p = run(ob_bin, "--backend", backend, "--audit-log", log, attack, "--",
            "clone-newuser")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == [b"clone-newuser", b"EPERM"], p.stdout
    v = [(e["syscall"], e["detail"]) for e in events(log) if e["event"] == "SandboxViolation"]
    assert v, v
    assert all(s == "clone" and ("namespace" in d or backend == "gvisor") for s, d in v), v


THREADS = r"""
import ctypes, errno, threading
libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall(435, 0, 0)  # clone3 with no arguments
print("clone3", errno.errorcode.get(ctypes.get_errno(), "?") if r < 0 else r)
t = threading.Thread(target=lambda: print("in a thread"))
t.start()
t.join()
"""


def test_threads_and_clone3(ob_bin, backend):
    """Threads start on every backend: clone3 answers ENOSYS (its flags are out of a filter's
    reach), and the C library falls back to clone. On gVisor the profile lets clone3 through
    to gVisor's kernel, which implements none: should a runsc implement it, this fails and
    the profile must refuse it again (runsc applies no errnoRet: oci-seccomp.c)."""
    p = run(ob_bin, "--backend", backend, "/usr/bin/python3", "--", "-c", THREADS)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().split("\n")[:2] == ["clone3 ENOSYS", "in a thread"], p.stdout


def test_what_a_backend_cannot_provide_fails_closed(ob_bin, backend):
    """Every backend runs without --allow-degraded; gVisor as root with network grants
    (no user namespace there) does not, nor any backend with --egress transparent (native
    only) or with a writable SQLite database: 125, nothing runs."""
    p = run(ob_bin, "--backend", backend, "/bin/true")
    assert p.returncode == 0, p.stderr
    if backend == "gvisor" and os.geteuid() == 0:
        p = run(ob_bin, "--backend", backend, "--cap", "NETWORK_CONNECT:127.0.0.1:80",
                "/bin/true")
        assert p.returncode == 125 and b"user namespace" in p.stderr, p.stderr
    for args, said in ((["--allow-degraded", "--egress", "transparent", "--cap",
                         "NETWORK_CONNECT:example.com:443", "/bin/true"], b"native"),
                       (["--allow-degraded", "--cap", "DATABASE_WRITE:sqlite:/tmp/x.db",
                         "/bin/true"], b"sqlite")):
        p = run(ob_bin, "--backend", backend, *args)
        assert p.returncode == 125 and said in p.stderr, (args, p.stderr)


ROOTLESS = "#!/bin/sh\n" + r"""
echo "uid=$(id -u)"
cat "$1" && cat /etc/shadow 2>/dev/null || echo "no shadow"
cat /run/secrets/TOKEN && echo
echo "as $(ulimit -v)"
"""


@pytest.mark.parametrize("name", sorted(OCI_RUNTIMES))
def test_rootless(ob_bin, sandbox, shared_tmp, name):
    """gVisor runs rootless (runsc --rootless: its sandbox in a user namespace of its own, no
    cgroup, the memory limit as RLIMIT_AS); network grants there need root. runc and crun
    refuse (their state and stdio are chowned to the container root's host id)."""
    if sandbox.who != "user":
        pytest.skip("the unprivileged case")
    if not shutil.which(OCI_RUNTIMES[name]):
        pytest.skip(f"{OCI_RUNTIMES[name]} is not installed")
    if name != "gvisor":
        p = sandbox.run("--backend", name, "--allow-degraded", "/bin/true")
        assert p.returncode == 125 and b"root only" in p.stderr, p.stderr
        return
    data = os.path.join(shared_tmp, "data.txt")
    with open(data, "w") as f:
        f.write("granted\n")
    # the caller's own; gVisor shows the caller's files as its root's, so a private (0600)
    # one would not be readable by the program (docs/design/backends.md)
    os.chmod(data, 0o644)
    os.chown(data, pwd.getpwnam(TEST_USER).pw_uid, -1)
    script = write_script(shared_tmp, "rootless.sh", ROOTLESS)
    log = os.path.join(shared_tmp, "r.jsonl")
    p = sandbox.run("--backend", "gvisor", "--audit-log", log, "--memory",
                    "200M", "--cap", f"FILE_READ:{data}", "--cap", "EXTERNAL_COMMAND:id",
                    "--cap", "EXTERNAL_COMMAND:cat", "--cap", "SECRET_ACCESS:TOKEN",
                    "--secret", "TOKEN=env:TOKEN", script, data, env_extra={"TOKEN": "s3cret"})
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().split("\n")[:5] == [
        "uid=1000", "granted", "no shadow", "s3cret", "as 204800"], p.stdout
    ev = events(log)
    prot = ev[0]["protections"]
    assert prot["userns"] and prot["rlimits"] and prot["cgroup"] == "none", prot
    assert ("FILE_READ", "/etc/shadow") in {
        (e["capability"], e["resource"]) for e in ev if e["event"] == "CapabilityDenied"}
    p = sandbox.run("--backend", "gvisor", "--allow-degraded", "--cap",
                    "NETWORK_CONNECT:127.0.0.1:80", "/bin/true")
    assert p.returncode == 125 and b"network grants run as root only" in p.stderr, p.stderr


def test_doctor_lists_backends(run):
    doc = json.loads(run("doctor", "--json", check=0).stdout)
    assert set(doc["backends"]) == {"native", "gvisor", "crun", "runc"}
    for name, exe in OCI_RUNTIMES.items():
        assert doc["backends"][name]["installed"] == bool(shutil.which(exe))
    # what each lacks, as the runs decide it (gVisor runs rootless, without network grants)
    assert "Landlock" in doc["backends"]["gvisor"]["lacks"]
    # omnibase-loader is built beside the CLI on x86_64: gVisor needs no --allow-degraded
    assert doc["backends"]["gvisor"]["complete"] == (platform.machine() == "x86_64")
    assert "network grants when rootless" in doc["backends"]["gvisor"]["lacks"]
    assert all(doc["backends"][n]["lacks"].endswith(", rootless") for n in ("runc", "crun"))


def test_dry_run_shows_the_bundle(ob_bin, backend):
    """--dry-run with another backend prints the config.json it would run."""
    p = run(ob_bin, "--dry-run", "--backend", backend, "--memory", "32M",
            "/bin/true")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    oci = d["oci"]
    assert d["backend"] == backend and oci["root"] == {"path": "rootfs", "readonly": True}
    assert oci["process"]["user"] == {"uid": 1000, "gid": 1000}
    assert oci["process"]["noNewPrivileges"] is True
    assert all(v == [] for v in oci["process"]["capabilities"].values())
    assert oci["linux"]["resources"]["memory"]["limit"] == 32 << 20
    assert {"type": "network"} in oci["linux"]["namespaces"]
    assert not d["egress"]["transparent"] and "native" in d["egress"]["note"]
    # every tmpfs the program's, as natively
    assert all("uid=1000" in m["options"] for m in oci["mounts"] if m["type"] == "tmpfs")
    assert oci["linux"]["seccomp"]["defaultAction"] == "SCMP_ACT_ERRNO"
    # as root every backend has the user namespace; gVisor's dynamic loader is the shim,
    # the real one noexec where the shim maps it from
    if os.geteuid() == 0:
        assert {"type": "user"} in oci["linux"]["namespaces"]
    if backend == "gvisor" and platform.machine() == "x86_64":
        shim = [m for m in oci["mounts"] if m["source"].startswith("BUNDLE/loader/")]
        real = [m for m in oci["mounts"] if m["destination"].startswith("/dev/.omnibase-loader-")]
        assert len(shim) == 1 and "noexec" not in shim[0]["options"], shim
        assert len(real) == 1 and "noexec" in real[0]["options"], real
        assert real[0]["destination"].endswith(shim[0]["source"].rsplit("/", 1)[1])
        assert real[0]["source"] == os.path.realpath("/lib64/ld-linux-x86-64.so.2")


NET = "#!/usr/bin/python3\n" + r"""
import os, socket, sys, urllib.request
port = int(sys.argv[1])
print(os.environ.get("HTTP_PROXY"))
def get(url):
    try:
        return urllib.request.urlopen(url, timeout=10).read().decode()
    except Exception as e:
        return "ERR %s" % getattr(e, "code", type(e).__name__)
print(get(f"http://127.0.0.1:{port}/a"))
print(get(f"http://127.0.0.1:{port + 1}/b"))
try:
    socket.create_connection(("127.0.0.1", port), timeout=3)
    print("direct CONNECTED")
except OSError as e:
    print("direct", type(e).__name__)
try:  # TEST-NET-1: nothing outside the namespace is reachable, gVisor's "host" network too
    socket.create_connection(("192.0.2.1", 80), timeout=3)
    print("outside CONNECTED")
except OSError as e:
    print("outside", type(e).__name__)
"""


def test_network_grants_through_the_proxy(ob_bin, shared_tmp, backend, web):
    """With a network grant the container joins a namespace of the supervisor's holding the
    egress proxy's listener: the granted port answers through the proxy, another is refused
    (403, recorded, never reached), and the host's loopback is not there."""
    port, hits = web
    script = write_script(shared_tmp, "net.py", NET)
    log = os.path.join(shared_tmp, "net.jsonl")
    p = run(ob_bin, "--backend", backend, "--allow-degraded", "--audit-log", log, "--cap",
            f"NETWORK_CONNECT:127.0.0.1:{port}", script, str(port))
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().split("\n")[:5] == [
        "http://127.0.0.1:3128", "served /a", "ERR 403", "direct ConnectionRefusedError",
        "outside OSError"], p.stdout
    assert hits == ["/a"]
    denied = [e["resource"] for e in events(log) if e["event"] == "CapabilityDenied"]
    assert f"127.0.0.1:{port + 1}" in denied  # the proxy's refusal
    assert "192.0.2.1:80" in denied  # outward: the call observed (gVisor: runsc's strace)
    if backend != "gvisor":  # the direct loopback connect (in gVisor, its own loopback)
        assert f"127.0.0.1:{port}" in denied


ACCEPT = "#!/usr/bin/python3\n" + r"""
import json, socket, sys
data, port = sys.argv[1], int(sys.argv[2])
out = {}
def attempt(name, f):
    try:
        out[name] = f()
    except OSError as e:
        out[name] = type(e).__name__
attempt("passwd", lambda: open("/etc/passwd").read()[:10])
attempt("allowed", lambda: open(data + "/allowed.txt").read())
attempt("other", lambda: open(data + "/other.txt").read())
attempt("write", lambda: open(data + "/allowed.txt", "a").write("x"))
attempt("host", lambda: socket.create_connection(("127.0.0.1", port), timeout=3) and "CONNECTED")
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
c = socket.create_connection(srv.getsockname(), timeout=3)
a, _ = srv.accept(); c.sendall(b"ping"); out["loopback"] = a.recv(4).decode()
print(json.dumps(out))
"""


def test_acceptance(ob_bin, shared_tmp, backend):
    """The milestone's acceptance on each backend: /etc/passwd unreadable, one granted file
    readable and not writable, its neighbour not there, the host's loopback unreachable, the
    sandbox's own loopback working, and --memory holding."""
    data = data_dir(shared_tmp)
    lst = __import__("socket").socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    script = write_script(shared_tmp, "accept.py", ACCEPT)
    p = run(ob_bin, "--backend", backend, "--cap",
            f"FILE_READ:{data}/allowed.txt", script, data, str(lst.getsockname()[1]))
    lst.close()
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["passwd"] == "FileNotFoundError" and out["allowed"] == "the allowed text"
    assert out["other"] == "FileNotFoundError"
    assert out["write"] in ("OSError", "PermissionError")  # EROFS
    assert out["host"] in ("ConnectionRefusedError", "OSError")
    assert out["loopback"] == "ping"
    mem = write_script(shared_tmp, "mem.py", "#!/usr/bin/python3\n" + """
chunks = [bytearray(10 << 20) for i in range(40)]
print("ALLOCATED")
""")
    p = run(ob_bin, "--backend", backend, "--memory", "50M", mem)
    assert b"ALLOCATED" not in p.stdout and p.returncode != 0


EXEC = "#!/bin/sh\n" + r"""
/usr/bin/id -u 2>/dev/null || echo "id refused"
"""


def test_exec_allow_list(ob_bin, shared_tmp, backend):
    """EXTERNAL_COMMAND is the exec allow-list on runc and crun too (Landlock applied in the
    container by omnibase-exec before the program runs); on gVisor by noexec mounts with the
    granted files bound executable, the refused exec recorded from its strace."""
    script = write_script(shared_tmp, "exec.sh", EXEC)
    log = os.path.join(shared_tmp, "exec.jsonl")
    p = run(ob_bin, "--backend", backend, "--audit-log", log, script)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == b"id refused", p.stdout
    denied = [e["resource"] for e in events(log) if e["event"] == "CapabilityDenied"
              and e["capability"] == "EXTERNAL_COMMAND"]
    assert "/usr/bin/id" in denied, denied
    p = run(ob_bin, "--backend", backend, "--cap", "EXTERNAL_COMMAND:id",
            script)
    assert p.stdout.strip() == b"1000", p.stdout


def test_without_the_landlock_helper(ob_bin, shared_tmp):
    """runc without omnibase-exec (the CLI alone, the helper not installed) applies no
    Landlock: 125 naming it, or with --allow-degraded a run that says so."""
    oci_backend_or_skip(ob_bin, "runc")
    if os.path.exists("/usr/local/libexec/omnibase-exec"):
        pytest.skip("omnibase-exec is installed on this machine")
    alone = os.path.join(shared_tmp, "omnibase")
    shutil.copy(ob_bin, alone)  # linked statically against the library
    p = run(alone, "--backend", "runc", "/bin/true")
    assert p.returncode == 125 and b"omnibase-exec is not installed" in p.stderr, p.stderr
    log = os.path.join(shared_tmp, "h.jsonl")
    p = run(alone, "--backend", "runc", "--allow-degraded", "--audit-log", log, "/bin/true")
    assert p.returncode == 0, p.stderr
    ev = events(log)
    assert [e["protection"] for e in ev if e["event"] == "SandboxDegraded"] == ["landlock"]
    assert ev[0]["protections"]["landlock"] == 0


def hybrid_cgroups():
    """Is the host's /sys/fs/cgroup/unified a cgroup2 mount (the topmost one there)?"""
    with open("/proc/self/mounts") as f:
        types = [line.split()[2] for line in f if line.split()[1] == "/sys/fs/cgroup/unified"]
    return types[-1:] == ["cgroup2"]


def test_crun_view_fails_closed(ob_bin):
    """On a hybrid cgroup host crun runs in a mount namespace of its own with the v2 mount
    hidden; when that cannot be made, nothing runs (125). The host's v2 mount stays as it
    was (the namespace is a slave: nothing propagates back)."""
    oci_backend_or_skip(ob_bin, "crun")
    if not hybrid_cgroups():
        pytest.skip("not a hybrid cgroup host: crun runs as it is")
    enosys = os.environ.get("OB_ENOSYS")
    if not enosys:
        pytest.skip("OB_ENOSYS not set: run through `meson test`")
    p = subprocess.run([enosys, "unshare", ob_bin, "sandbox", "run", "--backend", "crun",
                        "/bin/true"], capture_output=True, timeout=120)
    assert p.returncode == 125 and b"crun's mount namespace" in p.stderr, p.stderr
    p = run(ob_bin, "--backend", "crun", "/bin/true")
    assert p.returncode == 0, p.stderr
    assert hybrid_cgroups()


def test_exec_helper_refuses_what_it_cannot_read(ob_bin):
    """omnibase-exec's arguments are omnibase's own, but a misread would mean fewer Landlock
    rules: anything but "ABI ACCESS:/PATH... -- PROGRAM" is exit 125, nothing runs."""
    helper = os.path.join(os.path.dirname(ob_bin), "omnibase-exec")
    if not os.path.exists(helper):
        pytest.skip("omnibase-exec is not beside the CLI")
    for args, said in ((["x", "c:/", "--", "/bin/echo", "ran"], b"bad Landlock ABI"),
                       (["7", "zz:/", "--", "/bin/echo", "ran"], b"bad arguments at 'zz:/'"),
                       (["7", "c:rel", "--", "/bin/echo", "ran"], b"bad arguments"),
                       (["7", "-5:/", "--", "/bin/echo", "ran"], b"bad arguments"),
                       (["7", "c:/", "/bin/echo", "ran"], b"bad arguments"),
                       (["7", "c:/", "--"], b"bad arguments at '--'"),
                       (["7", "--"], b"usage")):
        p = subprocess.run([helper, *args], capture_output=True, timeout=30)
        assert p.returncode == 125 and said in p.stderr and b"ran" not in p.stdout, (args, p)
    p = subprocess.run([helper, "0", "--", "/nonexistent"], capture_output=True, timeout=30)
    assert p.returncode == 127, p.stderr
    p = subprocess.run([helper, "0", "--", "/bin/echo", "ran"], capture_output=True, timeout=30)
    assert p.returncode == 0 and p.stdout == b"ran\n", p


def test_missing_runtime_fails_closed(ob_bin):
    """A backend whose runtime is not on PATH: 125, naming the package to install."""
    p = subprocess.run([ob_bin, "sandbox", "run", "--backend", "runc", "--allow-degraded",
                        "/bin/true"], capture_output=True, timeout=60,
                       env=dict(os.environ, PATH="/nonexistent"))
    if os.geteuid() != 0:
        assert p.returncode == 125 and b"root only" in p.stderr, p.stderr
        return
    assert p.returncode == 125 and b"not installed" in p.stderr, p.stderr
