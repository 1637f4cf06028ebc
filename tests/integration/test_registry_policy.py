# SPDX-License-Identifier: LGPL-2.1-or-later
"""The registry's policy store (SPEC §6, §7): a component's requested capabilities decided by
its Cedar policy set, in `caps review` and in `sandbox run --component` (grants, narrowing
by runtime flags, PolicyEvaluated events); root and rootless for the runs."""
import hashlib
import json
import os
import shutil
import subprocess

from conftest import events, write_script

UUID = "0b6e2a4c-1f3d-4e5a-9b7c-8d9e0f1a2b3c"


SOURCE = os.path.join(os.path.dirname(__file__), "..", "..")
TEST_KEY = os.path.join(SOURCE, "examples", "keys", "example-TEST-ONLY.key")


def make_registry(base, data, requested, policies, groups=("tools",)):
    """A registry holding one component, signed with the examples' TEST key (trusted in its
    keys/), so that `sandbox run --component` accepts it."""
    reg = os.path.join(base, "registry")
    for d in ("components", "policies", "keys", os.path.join("components", UUID)):
        os.makedirs(os.path.join(reg, d), exist_ok=True)
    shutil.copy(os.path.join(SOURCE, "examples", "registry", "keys", "example-TEST-ONLY.pub"),
                os.path.join(reg, "keys"))
    entry = b"print('reader')\n"
    with open(os.path.join(reg, "components", UUID, "reader.py"), "wb") as f:
        f.write(entry)
    meta = os.path.join(reg, "components", UUID + ".json")
    with open(meta, "w") as f:
        json.dump({"uuid": UUID, "name": "reader", "version": 2, "kind": "tool",
                   "groups": list(groups), "entrypoint": "reader.py",
                   "sha256": hashlib.sha256(entry).hexdigest(), "capabilities": requested},
                  f, indent=1)
    pol = os.path.join(reg, "policies", UUID + ".cedar.json")
    with open(pol, "w") as f:
        json.dump({"staticPolicies": policies}, f, indent=1)
    subprocess.run([os.environ["OB_BIN"], "registry", "sign", "--key", TEST_KEY, meta, pol],
                   check=True, capture_output=True)
    with open(os.path.join(reg, "entities.json"), "w") as f:
        json.dump([{"uid": {"type": "Group", "id": "tools"}, "attrs": {},
                    "parents": [{"type": "Group", "id": "trusted"}]},
                   {"uid": {"type": "Group", "id": "trusted"}, "attrs": {}, "parents": []}], f)
    for root, dirs, files in os.walk(base):
        for n in dirs + files:
            os.chmod(os.path.join(root, n), 0o755 if n in dirs else 0o644)
    return reg


def like_data(data):
    return {"like": {"left": {".": {"left": {"Var": "resource"}, "attr": "value"}},
                     "pattern": [{"Literal": data + "/"}, "Wildcard"]}}


def scenario(shared_tmp):
    data = os.path.join(shared_tmp, "data")
    os.makedirs(data)
    for name in ("ok.txt", "secret.txt"):
        with open(os.path.join(data, name), "w") as f:
            f.write("content of " + name)
    requested = [{"type": "FILE_READ", "resource": f"{data}/ok.txt"},
                 {"type": "FILE_READ", "resource": f"{data}/secret.txt"},
                 {"type": "NETWORK_CONNECT", "resource": "api.example.com:443"},
                 {"type": "SECRET_ACCESS", "resource": "token"}]
    policies = {
        "trusted-read-data": {"effect": "permit",
                              "principal": {"op": "in", "entity": {"type": "Group", "id": "trusted"}},
                              "action": {"op": "==", "entity": {"type": "Action", "id": "FILE_READ"}},
                              "resource": {"op": "All"},
                              "conditions": [{"kind": "when", "body": like_data(data)}]},
        "never-secrets-file": {"effect": "forbid", "principal": {"op": "All"},
                               "action": {"op": "All"},
                               "resource": {"op": "==", "entity": {"type": "Resource",
                                                                   "id": f"{data}/secret.txt"}},
                               "conditions": []},
        "token-in-prod": {"effect": "permit", "principal": {"op": "All"},
                          "action": {"op": "==", "entity": {"type": "Action", "id": "SECRET_ACCESS"}},
                          "resource": {"op": "All"},
                          "conditions": [{"kind": "when", "body": {"==": {
                              "left": {".": {"left": {"Var": "context"}, "attr": "env"}},
                              "right": {"Value": "prod"}}}}]},
    }
    return data, make_registry(shared_tmp, data, requested, policies)


def test_caps_review(run, shared_tmp):
    data, reg = scenario(shared_tmp)
    p = run("caps", "review", "--registry", reg, "--component", UUID, "--json")
    assert p.returncode == 0, p.stderr
    rv = json.loads(p.stdout)
    got = {e["capability"]: e for e in rv["requested"]}
    ok, sec = got[f"FILE_READ:{data}/ok.txt"], got[f"FILE_READ:{data}/secret.txt"]
    assert ok["decision"] == "allow" and [x["id"] for x in ok["policies"]] == ["trusted-read-data"]
    assert "principal in Group::\"trusted\"" in ok["policies"][0]["text"]
    assert f'resource.value like "{data}/*"' in ok["policies"][0]["text"]
    assert sec["decision"] == "deny" and [x["id"] for x in sec["policies"]] == ["never-secrets-file"]
    net = got["NETWORK_CONNECT:api.example.com:443"]
    assert net["decision"] == "deny" and net["policies"] == [] and net["errors"] == []
    tok = got["SECRET_ACCESS:token"]  # no `env` in the context: the condition errs
    assert tok["decision"] == "deny" and [e["policy"] for e in tok["errors"]] == ["token-in-prod"]
    assert ok["principal"] == f'Component::"{UUID}"' and ok["action"] == 'Action::"FILE_READ"'
    assert rv["granted"] == [f"FILE_READ:{data}/ok.txt"]
    p = run("caps", "review", "--registry", reg, "--component", UUID, "--context", "env=prod")
    out = p.stdout.decode()
    assert p.returncode == 0 and "granted 2 of 4" in out
    assert "GRANT  SECRET_ACCESS:token" in out and "forbidden by never-secrets-file" in out
    assert "no policy permits it" in out


def test_review_bad_input(run, shared_tmp):
    data, reg = scenario(shared_tmp)
    assert run("caps", "review", "--registry", reg, "--component", "../etc").returncode == 125
    p = run("caps", "review", "--registry", reg, "--component", "0000-missing")
    assert p.returncode == 125 and b"components/0000-missing.json" in p.stderr
    with open(os.path.join(reg, "components", UUID + ".json"), "w") as f:
        f.write('{"uuid": "%s",\n "capabilities": [{"type": "FILE_REED", "resource": "/x"}]}' % UUID)
    p = run("caps", "review", "--registry", reg, "--component", UUID)
    assert p.returncode == 125
    assert f"{UUID}.json:2:28: $.capabilities[0].type: unknown capability type".encode() in \
        p.stderr, p.stderr
    os.unlink(os.path.join(reg, "policies", UUID + ".cedar.json"))
    with open(os.path.join(reg, "components", UUID + ".json"), "w") as f:
        json.dump({"uuid": UUID, "capabilities": []}, f)
    p = run("caps", "review", "--registry", reg, "--component", UUID)
    assert p.returncode == 125 and b".cedar.json: cannot open" in p.stderr


READER = "#!/usr/bin/python3\n" + """
import sys
for path in sys.argv[1:]:
    try:
        print(path, open(path).read())
    except OSError as e:
        print(path, "DENIED", type(e).__name__)
"""


def test_run_with_component(sandbox, shared_tmp):
    data, reg = scenario(shared_tmp)
    script = write_script(shared_tmp, "reader.py", READER)
    log = os.path.join(shared_tmp, "audit.jsonl")
    ok, sec = f"{data}/ok.txt", f"{data}/secret.txt"
    p = sandbox.run("--registry", reg, "--component", UUID, "--audit-log", log, script, ok, sec)
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode()
    assert "content of ok.txt" in out and "content of secret.txt" not in out
    ev = events(log)
    pe = [e for e in ev if e["event"] == "PolicyEvaluated"]
    assert len(pe) == 4 and all(e["component"] == UUID for e in ev)
    by_res = {e["resource"]: e for e in pe}
    assert by_res[f'Resource::"{sec}"']["decision"] == "deny"
    assert by_res[f'Resource::"{sec}"']["policies"] == ["never-secrets-file"]
    assert by_res[f'Resource::"{ok}"']["decision"] == "allow"
    start = [e for e in ev if e["event"] == "SandboxStart"][0]
    assert start["capabilities"] == [f"FILE_READ:{ok}"]
    assert any(e["event"] == "CapabilityDenied" and e["resource"] == sec for e in ev)


def test_runtime_flags_only_narrow(sandbox, shared_tmp):
    data, reg = scenario(shared_tmp)
    script = write_script(shared_tmp, "reader.py", READER)
    ok, sec = f"{data}/ok.txt", f"{data}/secret.txt"
    # a --cap the policy forbids does not widen the grant; one inside it keeps it
    p = sandbox.run("--registry", reg, "--component", UUID, "--cap", f"FILE_READ:{data}/**",
                    script, ok, sec)
    out = p.stdout.decode()
    assert p.returncode == 0 and "content of ok.txt" in out and "content of secret" not in out
    # flags that grant nothing the policy grants leave nothing
    p = sandbox.run("--registry", reg, "--component", UUID, "--cap", f"FILE_READ:{sec}",
                    script, ok, sec)
    out = p.stdout.decode()
    assert "content of" not in out
    token = os.path.join(shared_tmp, "token")
    with open(token, "w") as f:
        f.write("t0k3n")
    os.chmod(token, 0o644)
    plan = sandbox.run("--dry-run", "--registry", reg, "--component", UUID, "--context",
                       "env=prod", "--secret", f"token=@{token}", script)
    assert plan.returncode == 0, plan.stderr
    d = json.loads(plan.stdout)
    assert d["capabilities"] == [f"FILE_READ:{ok}", "SECRET_ACCESS:token"]
    assert len(d["policy"]["requested"]) == 4


def test_component_needs_registry(sandbox, shared_tmp):
    p = sandbox.run("--component", UUID, "/bin/true")
    assert p.returncode == 125 and b"--component needs --registry" in p.stderr


def test_caps_review_cedar_text(run, shared_tmp):
    """The store may hold policies/UUID.cedar (Cedar's text) instead of .cedar.json: the
    same policies in text give the same review; both files at once are refused."""
    data, reg = scenario(shared_tmp)
    text = os.path.join(reg, "policies", UUID + ".cedar")
    with open(text, "w") as f:
        f.write('@id("trusted-read-data")\n'
                'permit (principal in Group::"trusted", action == Action::"FILE_READ", '
                'resource)\n'
                f'when {{ resource.value like "{data}/*" }};\n'
                f'forbid (principal, action, resource == Resource::"{data}/secret.txt");\n'
                'permit (principal, action == Action::"SECRET_ACCESS", resource)\n'
                'when { context.env == "prod" };\n')
    p = run("caps", "review", "--registry", reg, "--component", UUID, "--json")
    assert p.returncode == 125 and b"both exist" in p.stderr
    os.unlink(os.path.join(reg, "policies", UUID + ".cedar.json"))
    p = run("caps", "review", "--registry", reg, "--component", UUID, "--json",
            "--context", "env=prod")
    assert p.returncode == 0, p.stderr
    rv = json.loads(p.stdout)
    assert sorted(rv["granted"]) == [f"FILE_READ:{data}/ok.txt", "SECRET_ACCESS:token"]
    got = {e["capability"]: e for e in rv["requested"]}
    assert [x["id"] for x in got[f"FILE_READ:{data}/secret.txt"]["policies"]] == ["policy1"]
    with open(text, "a") as f:
        f.write("permit (principal, action, resource) when { context.env == };\n")
    p = run("caps", "review", "--registry", reg, "--component", UUID)
    assert p.returncode == 125 and f"{UUID}.cedar:7:".encode() in p.stderr, p.stderr
