# SPDX-License-Identifier: LGPL-2.1-or-later
"""The registry (SPEC §7): signatures that interoperate with the real minisign 0.11 both ways
(keys and signatures made by the tool during the test), add/list/show/verify/lint/sign, tamper
cases, bad input, and enforcement in `sandbox run --component`."""
import hashlib
import json
import os
import shutil
import subprocess

import pytest

from conftest import events

UUID = "5f0c2b1e-9a8d-4c7b-b6a5-443322110000"
MINISIGN = shutil.which("minisign")
needs_minisign = pytest.mark.skipif(MINISIGN is None, reason="minisign not installed")
SOURCE = os.path.join(os.path.dirname(__file__), "..", "..")
EXAMPLE = os.path.join(SOURCE, "examples", "registry")
EXAMPLE_UUID = "7d3c8f2e-5b1a-4c9d-8e6f-0a1b2c3d4e5f"


def minisign(*args, input=None):
    return subprocess.run([MINISIGN, *args], capture_output=True, input=input, timeout=120)


def keypair(d, name="k"):
    pub, sec = os.path.join(d, name + ".pub"), os.path.join(d, name + ".key")
    p = minisign("-G", "-W", "-f", "-p", pub, "-s", sec)
    assert p.returncode == 0, p.stderr
    return pub, sec


def component(d, caps=None, entry=b"print('hello')\n", **extra):
    """METADATA.json and its entrypoint in D (a staging directory), and a policy."""
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "main.py"), "wb") as f:
        f.write(entry)
    meta = {"uuid": UUID, "name": "hello", "version": "1.0", "kind": "tool",
            "groups": ["tools"], "entrypoint": "main.py",
            "sha256": hashlib.sha256(entry).hexdigest(),
            "capabilities": caps if caps is not None else
            [{"type": "FILE_READ", "resource": "/etc/hostname"}]}
    meta.update(extra)
    path = os.path.join(d, "hello.json")
    with open(path, "w") as f:
        json.dump(meta, f, indent=1)
    pol = os.path.join(d, "hello.cedar.json")
    with open(pol, "w") as f:
        json.dump({"staticPolicies": {"all": {"effect": "permit", "principal": {"op": "All"},
                                              "action": {"op": "All"},
                                              "resource": {"op": "All"},
                                              "conditions": []}}}, f)
    return path, pol


@pytest.fixture
def reg(tmp_path):
    r = tmp_path / "registry"
    (r / "keys").mkdir(parents=True)
    return str(r)


@needs_minisign
def test_we_sign_minisign_verifies(run, tmp_path, reg):
    pub, sec = keypair(str(tmp_path))
    meta, pol = component(str(tmp_path / "stage"))
    shutil.copy(pub, os.path.join(reg, "keys"))
    p = run("registry", "add", "--registry", reg, "--key", sec, meta, "--policy", pol, check=0)
    assert f"added {UUID} (signed)" in p.stdout.decode()
    stored = os.path.join(reg, "components", UUID + ".json")
    for f in (stored, os.path.join(reg, "policies", UUID + ".cedar.json")):
        v = minisign("-V", "-p", pub, "-m", f)
        assert v.returncode == 0, v.stderr
        assert b"Signature and comment signature verified" in v.stdout
    # `registry sign` of any file, verified by minisign
    other = str(tmp_path / "other.txt")
    with open(other, "w") as f:
        f.write("x" * 100000)
    run("registry", "sign", "--key", sec, other, check=0)
    assert minisign("-V", "-p", pub, "-m", other).returncode == 0
    p = run("registry", "verify", "--registry", reg, check=0)
    assert f"{UUID}: OK (key " in p.stdout.decode()


@needs_minisign
@pytest.mark.parametrize("legacy", [False, True])
def test_minisign_signs_we_verify(run, tmp_path, reg, legacy):
    pub, sec = keypair(str(tmp_path))
    meta, pol = component(str(tmp_path / "stage"))
    shutil.copy(pub, os.path.join(reg, "keys"))
    run("registry", "add", "--registry", reg, meta, "--policy", pol, check=0)
    p = run("registry", "verify", "--registry", reg, UUID, check=1)
    assert b"not signed" in p.stdout
    files = [os.path.join(reg, "components", UUID + ".json"),
             os.path.join(reg, "policies", UUID + ".cedar.json")]
    s = minisign("-S", *(["-l"] if legacy else []), "-s", sec, "-t", "reviewed by alice",
                 "-m", *files)
    assert s.returncode == 0, s.stderr
    with open(files[0] + ".minisig") as f:
        import base64
        alg = base64.b64decode(f.read().splitlines()[1])[:2]
    assert alg == (b"Ed" if legacy else b"ED")
    p = run("registry", "verify", "--registry", reg, check=0)
    assert f"{UUID}: OK" in p.stdout.decode()
    # the trusted comment is covered: editing it breaks the signature
    with open(files[0] + ".minisig") as f:
        text = f.read()
    with open(files[0] + ".minisig", "w") as f:
        f.write(text.replace("reviewed by alice", "reviewed by mallory"))
    p = run("registry", "verify", "--registry", reg, check=1)
    assert b"trusted comment" in p.stdout


@needs_minisign
def test_encrypted_key(run, tmp_path, reg):
    pub, sec = str(tmp_path / "e.pub"), str(tmp_path / "e.key")
    g = minisign("-G", "-f", "-p", pub, "-s", sec, input=b"pass word\npass word\n")
    assert g.returncode == 0, g.stderr
    f = str(tmp_path / "f.json")
    with open(f, "w") as fh:
        fh.write("{}\n")
    p = run("registry", "sign", "--key", sec, f, check=125)
    assert b"encrypted" in p.stderr
    pw = str(tmp_path / "pw")
    with open(pw, "w") as fh:
        fh.write("wrong\n")
    p = run("registry", "sign", "--key", sec, "--password-file", pw, f, check=125)
    assert b"wrong password" in p.stderr
    with open(pw, "w") as fh:
        fh.write("pass word\n")
    run("registry", "sign", "--key", sec, "--password-file", pw, f, check=0)
    assert minisign("-V", "-p", pub, "-m", f).returncode == 0


@needs_minisign
def test_tampering(run, tmp_path, reg):
    pub, sec = keypair(str(tmp_path))
    other_pub, other_sec = keypair(str(tmp_path), "other")
    meta, pol = component(str(tmp_path / "stage"))
    shutil.copy(pub, os.path.join(reg, "keys"))
    run("registry", "add", "--registry", reg, "--key", sec, meta, "--policy", pol, check=0)
    stored = os.path.join(reg, "components", UUID + ".json")
    stored_pol = os.path.join(reg, "policies", UUID + ".cedar.json")
    entry = os.path.join(reg, "components", UUID, "main.py")

    def verify_fails(needle):
        p = run("registry", "verify", "--registry", reg, check=1)
        out = p.stdout.decode()
        assert f"{UUID}: BAD" in out and needle in out, out
        p = run("caps", "review", "--registry", reg, "--component", UUID, check=0)
        assert b"signature unverified" in p.stdout

    def write(path, data):
        with open(path, "wb") as f:
            f.write(data)

    def restore(path, data):
        write(path, data)
        run("registry", "verify", "--registry", reg, check=0)

    # one edited byte of the metadata
    orig = open(stored, "rb").read()
    write(stored, orig.replace(b'"hello"', b'"hellp"'))
    verify_fails("does not match the file")
    restore(stored, orig)
    # a changed entrypoint
    e = open(entry, "rb").read()
    write(entry, e + b"import os\n")
    verify_fails("changed since signed")
    restore(entry, e)
    # a swapped policy file (validly signed by another, untrusted key)
    p = open(stored_pol, "rb").read()
    s = open(stored_pol + ".minisig", "rb").read()
    write(stored_pol, b'{"staticPolicies": {}}')
    verify_fails("does not match the file")
    assert minisign("-S", "-s", other_sec, "-m", stored_pol).returncode == 0
    verify_fails("not trusted")
    write(stored_pol, p)
    restore(stored_pol + ".minisig", s)
    # signed by a key that is not in keys/
    assert minisign("-S", "-s", other_sec, "-m", stored).returncode == 0
    verify_fails("which is not trusted")
    # a removed signature
    os.unlink(stored + ".minisig")
    verify_fails("not signed")


@needs_minisign
def test_list_show(run, tmp_path, reg):
    pub, sec = keypair(str(tmp_path))
    meta, pol = component(str(tmp_path / "stage"))
    shutil.copy(pub, os.path.join(reg, "keys"))
    run("registry", "add", "--registry", reg, "--key", sec, meta, "--policy", pol, check=0)
    p = run("registry", "list", "--registry", reg, "--json", check=0)
    (c,) = json.loads(p.stdout)
    assert c["uuid"] == UUID and c["name"] == "hello" and c["signature"]["state"] == "verified"
    p = run("registry", "list", "--registry", reg, check=0)
    assert f"{UUID}  hello" in p.stdout.decode() and b"verified" in p.stdout
    p = run("registry", "show", "--registry", reg, UUID, "--json", check=0)
    d = json.loads(p.stdout)
    assert d["metadata"]["uuid"] == UUID and d["signature"]["state"] == "verified"
    p = run("registry", "show", "--registry", reg, UUID, check=0)
    assert b"signature: verified by key" in p.stdout
    run("registry", "show", "--registry", reg, "0000-missing", check=125)


LINT_CASES = [
    ({"type": "FILE_WRITE", "resource": "/"}, "write-root"),
    ({"type": "FILE_WRITE", "resource": "**"}, "write-root"),
    ({"type": "FILE_WRITE", "resource": "/home/alice/**"}, "write-root"),
    ({"type": "FILE_WRITE", "resource": "~/.ssh"}, "write-root"),
    ({"type": "FILE_WRITE", "resource": "/registry/components/**"}, "write-registry"),
    ({"type": "REGISTRY_WRITE", "resource": "*"}, "write-registry"),
    ({"type": "NETWORK_CONNECT", "resource": "*"}, "network-any"),
    ({"type": "NETWORK_CONNECT", "resource": "*:*"}, "network-any"),
    ({"type": "SECRET_ACCESS", "resource": "*"}, "secret-any"),
    ({"type": "EXTERNAL_COMMAND", "resource": "*"}, "command-any"),
]


@pytest.mark.parametrize("cap,rule", LINT_CASES)
def test_lint_rejects(run, tmp_path, cap, rule):
    meta, _ = component(str(tmp_path), caps=[cap])
    p = run("registry", "lint", meta, check=1)
    assert f"{meta}:$.capabilities[0]: {rule}: " in p.stdout.decode(), p.stdout


def test_add_refuses_writes_to_the_registry(run, tmp_path, reg):
    for res in (reg + "/**", os.path.dirname(reg) + "/**", reg + "/components/x.json"):
        meta, pol = component(str(tmp_path / "stage"), caps=[{"type": "FILE_WRITE",
                                                             "resource": res}])
        run("registry", "lint", meta, check=0)  # lint alone does not know the registry
        p = run("registry", "add", "--registry", reg, meta, check=125)
        assert b"write-registry" in p.stderr, p.stderr
    meta, pol = component(str(tmp_path / "stage"), caps=[{"type": "FILE_WRITE",
                                                         "resource": reg + "-other/**"}])
    run("registry", "add", "--registry", reg, meta, check=0)
    # a registry directory that does not exist yet is made
    run("registry", "add", "--registry", str(tmp_path / "new"), meta, check=0)
    assert os.path.exists(str(tmp_path / "new" / "components" / (UUID + ".json")))


def test_lint_shell_with_network(run, tmp_path):
    caps = [{"type": "EXTERNAL_COMMAND", "resource": "/bin/bash"},
            {"type": "NETWORK_CONNECT", "resource": "api.example.com:443"}]
    meta, _ = component(str(tmp_path), caps=caps)
    p = run("registry", "lint", meta, check=1)
    assert b"$.capabilities[0]: shell-network: " in p.stdout
    meta, _ = component(str(tmp_path), caps=caps[:1])
    run("registry", "lint", meta, check=0)
    meta, _ = component(str(tmp_path), caps=[{"type": "FILE_WRITE", "resource": "/data/out/**"},
                                             {"type": "EXTERNAL_COMMAND", "resource": "git"}])
    run("registry", "lint", meta, check=0)


def test_lint_schema_and_bad_input(run, tmp_path, reg):
    meta, _ = component(str(tmp_path), extra_field=1, uuid="not-a-uuid", sha256="XYZ",
                        entrypoint="../../etc/passwd")
    p = run("registry", "lint", meta, check=1)
    out = p.stdout.decode()
    for rule in ('$: schema: unknown field "extra_field"', "$.uuid: uuid:", "$.sha256: sha256:",
                 "$.entrypoint: entrypoint:"):
        assert f"{meta}:{rule}" in out, out
    # add refuses what lint refuses, and stores nothing
    p = run("registry", "add", "--registry", reg, meta, check=125)
    assert b"lint finding" in p.stderr
    assert not os.path.exists(os.path.join(reg, "components"))
    bad = str(tmp_path / "bad.json")
    with open(bad, "w") as f:
        f.write("{not json")
    p = run("registry", "lint", bad, check=125)
    assert b"bad.json:1:" in p.stderr
    with open(bad, "w") as f:
        f.write("[1]")
    assert b"expected a JSON object" in run("registry", "lint", bad, check=1).stdout
    meta, _ = component(str(tmp_path), caps=[{"type": "FILE_READ"}])
    assert b"capability" in run("registry", "lint", meta, check=1).stdout
    run("registry", "verify", "--registry", reg, "../x", check=125)
    run("registry", "bogus", check=125)
    run("registry", "add", meta, check=125)
    run("registry", "sign", meta, check=125)


@needs_minisign
def test_bad_keys_and_signatures(run, tmp_path, reg):
    pub, sec = keypair(str(tmp_path))
    meta, pol = component(str(tmp_path / "stage"))
    shutil.copy(pub, os.path.join(reg, "keys"))
    run("registry", "add", "--registry", reg, "--key", sec, meta, "--policy", pol, check=0)
    sig = os.path.join(reg, "components", UUID + ".json.minisig")
    good = open(sig).read()
    lines = good.splitlines()
    for text, needle in [("garbage", "not a minisign signature"),
                         ("\n".join([lines[0], lines[1][:30], *lines[2:]]), "line 2"),
                         ("\n".join([*lines[:3], lines[3][:-8]]), "line 4"),
                         ("", "not a minisign signature")]:
        with open(sig, "w") as f:
            f.write(text)
        p = run("registry", "verify", "--registry", reg, check=1)
        assert needle in p.stdout.decode(), p.stdout
    with open(sig, "w") as f:
        f.write(good)
    run("registry", "verify", "--registry", reg, check=0)
    # a key file of the wrong size in keys/ is an error naming it, not skipped
    with open(os.path.join(reg, "keys", "short.pub"), "w") as f:
        f.write("untrusted comment: x\nRWSu9pgRBNm453uF\n")
    p = run("registry", "verify", "--registry", reg, check=125)
    assert b"short.pub: the key is not 42 bytes" in p.stdout
    os.unlink(os.path.join(reg, "keys", "short.pub"))
    # a secret key that is not one
    p = run("registry", "sign", "--key", pub, meta, check=125)
    assert b"not a minisign secret key" in p.stderr or b"not 158 bytes" in p.stderr


def test_example_registry_verifies(run):
    p = run("registry", "verify", "--registry", EXAMPLE, check=0)
    assert f"{EXAMPLE_UUID}: OK" in p.stdout.decode()
    run("registry", "lint", os.path.join(EXAMPLE, "components", EXAMPLE_UUID + ".json"), check=0)


def test_run_refuses_unsigned(sandbox, tmp_path, shared_tmp):
    reg = os.path.join(shared_tmp, "registry")
    shutil.copytree(EXAMPLE, reg)
    for root, dirs, files in os.walk(shared_tmp):
        for n in dirs + files:
            os.chmod(os.path.join(root, n), 0o755 if n in dirs else 0o644)
    args = ("--registry", reg, "--component", EXAMPLE_UUID)
    p = sandbox.run(*args, "/bin/true")
    assert p.returncode == 0, p.stderr
    meta = os.path.join(reg, "components", EXAMPLE_UUID + ".json")
    with open(meta, "a") as f:
        f.write(" ")
    p = sandbox.run(*args, "/bin/true")
    assert p.returncode == 125
    assert f"refusing component {EXAMPLE_UUID}".encode() in p.stderr
    assert b"does not match the file" in p.stderr
    log = os.path.join(shared_tmp, "audit.jsonl")
    p = sandbox.run("--allow-unsigned", "--audit-log", log, *args, "/bin/true")
    assert p.returncode == 0, p.stderr
    deg = [e for e in events(log) if e["event"] == "SandboxDegraded"
           and e["protection"] == "signature"]
    assert len(deg) == 1 and "does not match" in deg[0]["reason"]


def test_cli_usage(run, tmp_path):
    assert run("registry", "--help", check=0).stdout.startswith(b"Usage: omnibase registry")
    assert b"--password-file" in run("registry", "verify", "--help", check=0).stdout
    p = run("registry", "list", "--regsitry", "x", check=125)
    assert b"did you mean --registry?" in p.stderr
    run("registry", "list", check=125)
    run("registry", "add", "--registry", str(tmp_path), check=125)
    run("registry", "show", "--registry", str(tmp_path), check=125)
    run("registry", "lint", check=125)
    run("registry", "list", "--registry", str(tmp_path / "none"), check=125)
    run("registry", "verify", "--registry", str(tmp_path / "none"), check=125)
    p = run("registry", "sign", "--key", str(tmp_path / "no.key"), str(tmp_path / "f"), check=125)
    assert b"/f: cannot open" in p.stderr
