# SPDX-License-Identifier: LGPL-2.1-or-later
"""Policies (SPEC §3, §6): `omnibase policy check` and `policy eval`, and the evaluator's
semantics proven against Cedar's own engine (@cedar-policy/cedar-wasm from npm) on randomly
generated policy sets, entities and requests over the supported subset."""
import json
import os
import re
import subprocess

import pytest

ORACLE = os.path.join(os.path.dirname(__file__), "..", "oracle")
WORKLOAD = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "bench", "cedar",
                        "workload")

POLICIES = {"staticPolicies": {
    "team-read": {"effect": "permit",
                  "principal": {"op": "in", "entity": {"type": "Group", "id": "team"}},
                  "action": {"op": "==", "entity": {"type": "Action", "id": "FILE_READ"}},
                  "resource": {"op": "All"},
                  "conditions": [{"kind": "when", "body": {"like": {
                      "left": {".": {"left": {"Var": "resource"}, "attr": "value"}},
                      "pattern": [{"Literal": "/data/"}, "Wildcard"]}}}]},
    "no-prod-risk": {"effect": "forbid", "principal": {"op": "All"}, "action": {"op": "All"},
                     "resource": {"op": "All"},
                     "conditions": [{"kind": "when", "body": {">": {
                         "left": {".": {"left": {"Var": "context"}, "attr": "risk"}},
                         "right": {"Value": 50}}}}]},
}}
ENTITIES = [
    {"uid": {"type": "Group", "id": "team"}, "attrs": {}, "parents": []},
    {"uid": {"type": "Component", "id": "c1"}, "attrs": {"signed": True},
     "parents": [{"type": "Group", "id": "team"}]},
    {"uid": {"type": "Resource", "id": "/data/a"}, "attrs": {"value": "/data/a"}, "parents": []},
    {"uid": {"type": "Resource", "id": "/etc/x"}, "attrs": {"value": "/etc/x"}, "parents": []},
]


@pytest.fixture
def files(tmp_path):
    p = tmp_path / "policies.json"
    p.write_text(json.dumps(POLICIES, indent=1))
    e = tmp_path / "entities.json"
    e.write_text(json.dumps(ENTITIES))
    return str(p), str(e)


def evaluate(run, files, resource, context, *extra):
    return run("policy", "eval", "--policies", files[0], "--entities", files[1], "--principal",
               'Component::"c1"', "--action", 'Action::"FILE_READ"', "--resource",
               f'Resource::"{resource}"', "--context", json.dumps(context), *extra)


def test_eval_allow_deny_and_json(run, files):
    p = evaluate(run, files, "/data/a", {"risk": 10})
    assert p.returncode == 0 and p.stdout.decode().splitlines()[0] == "ALLOW"
    assert b"permitted by team-read" in p.stdout
    p = evaluate(run, files, "/etc/x", {"risk": 10})
    assert p.returncode == 2 and p.stdout.startswith(b"DENY")
    p = evaluate(run, files, "/data/a", {"risk": 90}, "--json")
    assert p.returncode == 2
    assert json.loads(p.stdout) == {"decision": "deny", "reasons": ["no-prod-risk"], "errors": []}
    # no `risk` in the context: the forbid errors, is skipped and reported; the permit holds
    p = evaluate(run, files, "/data/a", {}, "--json")
    out = json.loads(p.stdout)
    assert p.returncode == 0 and out["decision"] == "allow" and out["reasons"] == ["team-read"]
    assert [e["policy"] for e in out["errors"]] == ["no-prod-risk"]


def test_eval_bad_input_is_125(run, files, tmp_path):
    assert evaluate(run, files, "/data/a", [1]).returncode == 125
    p = run("policy", "eval", "--policies", files[0], "--principal", "c1", "--action",
            'Action::"FILE_READ"', "--resource", 'Resource::"x"')
    assert p.returncode == 125 and b"not an entity reference" in p.stderr
    p = run("policy", "eval", "--policies", files[0])
    assert p.returncode == 125 and b"required" in p.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"staticPolicies": {"p": {"effect": "permit", "principal": {"op": "All"},\n'
                   ' "action": {"op": "All"}, "resource": {"op": "All"},\n'
                   ' "conditions": [{"kind": "when", "body": {"==": {"left": {"Var": "context"},\n'
                   '   "right": {"Valu": 1}}}}]}}}')
    p = run("policy", "eval", "--policies", str(bad), "--principal", 'A::"a"', "--action",
            'Action::"x"', "--resource", 'R::"r"')
    assert p.returncode == 125
    assert re.search(rb"bad\.json:4:22: \$\.staticPolicies\.p\.conditions\[0\]\.body\..*Valu: "
                     rb"unknown operator", p.stderr), p.stderr


def test_check(run, files, tmp_path):
    p = run("policy", "check", files[0])
    assert p.returncode == 0 and b"valid, 2 policies" in p.stdout
    p = run("policy", "check", "--entities", files[1])
    assert p.returncode == 0 and b"valid, 4 entities" in p.stdout
    bad = tmp_path / "bad.json"
    bad.write_text('{"staticPolicies": {"p": {"effect": "allow"}}}')
    p = run("policy", "check", files[0], str(bad))
    assert p.returncode == 125
    assert b"bad.json:1:37: $.staticPolicies.p.effect: expected \"effect\": \"permit\" or " \
           b"\"forbid\"" in p.stderr, p.stderr
    bad.write_text("[{\"uid\": {\"type\": \"A\", \"id\": 1}}]")
    p = run("policy", "check", "--entities", str(bad))
    assert p.returncode == 125 and b"$[0].uid: expected an entity reference" in p.stderr
    assert run("policy", "check").returncode == 125


def test_shared_workload_matches_reference(run):
    """A sample of the shared benchmark's requests through the CLI, against cedar-wasm's
    recorded answers (bench-policy checks all 10,000)."""
    if not os.path.isdir(WORKLOAD):
        pytest.skip("no shared workload next to this checkout")
    reqs = open(os.path.join(WORKLOAD, "requests.jsonl")).read().splitlines()
    exp = open(os.path.join(WORKLOAD, "expected.jsonl")).read().splitlines()
    for i in range(0, len(reqs), 997):
        r, e = json.loads(reqs[i]), json.loads(exp[i])
        p = run("policy", "eval", "--policies", os.path.join(WORKLOAD, "policies.json"),
                "--entities", os.path.join(WORKLOAD, "entities.json"), "--principal",
                r["principal"], "--action", r["action"], "--resource", r["resource"],
                "--context", json.dumps(r["context"]), "--json")
        out = json.loads(p.stdout)
        assert p.returncode == (0 if e["decision"] == "allow" else 2)
        assert out["decision"] == e["decision"] and sorted(out["reasons"]) == e["reasons"]
        assert sorted(x["policy"] for x in out["errors"]) == sorted(
            x["policy"] for x in e["errors"])


def oracle_ready():
    if not os.path.isdir(os.path.join(ORACLE, "node_modules", "@cedar-policy", "cedar-wasm")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=ORACLE,
                       check=True, timeout=300)


def test_differential_against_cedar_wasm(tmp_path):
    """Random policy sets (every supported operator and scope, ill-typed expressions on
    purpose) answered by Cedar's engine and by ours: decisions, determining policies and
    erroring policies must be identical on every request."""
    oracle_ready()
    n = int(os.environ.get("OB_ORACLE_CASES", "240"))
    cases = tmp_path / "cases.jsonl"
    for seed in (1, 2):
        with open(cases, "w") as f:
            subprocess.run(["node", os.path.join(ORACLE, "gen.mjs"), "--seed", str(seed),
                            "--cases", str(n // 2)], stdout=f, check=True, timeout=600)
        texts = tmp_path / "texts.jsonl"
        p = subprocess.run([os.environ["OB_POLICY_DIFF"], str(cases), str(texts)],
                           capture_output=True, timeout=600)
        print(p.stdout.decode())
        assert p.returncode == 0, p.stderr.decode()[-4000:]
        m = re.match(rb"cases (\d+) requests (\d+) allow (\d+) errors (\d+) mismatches 0",
                     p.stdout)
        assert m, p.stdout
        cases_n, reqs, allow, errs = (int(x) for x in m.groups())
        # the comparison is only worth something if both outcomes and errors occur
        assert cases_n == n // 2 and reqs > 20 * cases_n
        assert allow > reqs // 20 and errs > reqs // 20 and reqs - allow > reqs // 5
        # the Cedar text `caps review` shows, parsed by the reference engine, answers alike
        t = subprocess.run(["node", os.path.join(ORACLE, "text-check.mjs"), str(cases),
                            str(texts)], capture_output=True, timeout=600)
        assert t.returncode == 0 and t.stdout.startswith(b"text requests %d mismatches 0" % reqs), \
            t.stderr.decode()[-4000:]


def test_corpus_regressions(tmp_path):
    """What Cedar's public corpus taught (tests/oracle/regress.json, our own cases): NUL and
    any Unicode scalar in ids, strings and keys, `has` with attribute paths, duplicate
    entities, cycles, what Cedar refuses in JSON policies and entities. Each is answered by
    the reference engine and must get the same decision, reasons and erroring policies from
    ours, or be refused by both at the same stage."""
    oracle_ready()
    cases = tmp_path / "regress.jsonl"
    with open(cases, "w") as f:
        subprocess.run(["node", os.path.join(ORACLE, "corpus.mjs"), "--cases",
                        os.path.join(ORACLE, "regress.json")], stdout=f, check=True, timeout=300)
    p = subprocess.run([os.environ["OB_POLICY_DIFF"], str(cases)], capture_output=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr.decode()[-4000:]
    m = re.match(rb"cases (\d+) requests (\d+) allow (\d+) errors (\d+) mismatches 0 "
                 rb"refusals (\d+)", p.stdout)
    assert m, p.stdout
    n, reqs, allow, errs, refusals = (int(x) for x in m.groups())
    assert n >= 23 and allow > 10 and errs > 5 and refusals >= 13


def text_diff(tmp_path, *args):
    """Texts answered by the reference parser (tests/oracle/text-parse.mjs ARGS) and
    compared with ours by ob-text-diff: returns (texts, parsed, refused)."""
    out = tmp_path / "texts.jsonl"
    with open(out, "w") as f:
        subprocess.run(["node", os.path.join(ORACLE, "text-parse.mjs"), *args], stdout=f,
                       check=True, timeout=600)
    tool = os.environ.get("OB_TEXT_DIFF") or os.path.join(
        os.path.dirname(os.environ["OB_POLICY_DIFF"]), "ob-text-diff")
    p = subprocess.run([tool, str(out)], capture_output=True, timeout=600)
    assert p.returncode == 0, p.stderr.decode()[-4000:]
    m = re.match(rb"texts (\d+) parsed (\d+) refused (\d+) mismatches 0", p.stdout)
    assert m, p.stdout
    return tuple(int(x) for x in m.groups())


def test_text_parser_against_cedar(tmp_path):
    """Cedar's policy text parsed by us into exactly the JSON form Cedar's own parser
    writes, or refused by both: our snippets (every construct, every error class), the
    regression cases' texts, and random policy sets written as text by the reference."""
    oracle_ready()
    n, parsed, refused = text_diff(tmp_path, "--snippets", os.path.join(ORACLE, "texts.cedar"))
    assert n >= 140 and parsed >= 70 and refused >= 70
    n, parsed, refused = text_diff(tmp_path, "--cases", os.path.join(ORACLE, "regress.json"))
    assert parsed >= 8 and refused == 0
    cases = tmp_path / "gen.jsonl"
    with open(cases, "w") as f:
        subprocess.run(["node", os.path.join(ORACLE, "gen.mjs"), "--seed", "3", "--cases",
                        os.environ.get("OB_ORACLE_CASES", "240")], stdout=f, check=True,
                       timeout=600)
    n, parsed, refused = text_diff(tmp_path, "--gen", str(cases))
    assert parsed == n and n >= 200


def test_cedar_text_files(run, files, tmp_path):
    """policy check and policy eval take Cedar's text as well as JSON; a text error names
    the file, line and column and what was expected."""
    text = tmp_path / "policies.cedar"
    text.write_text('// the JSON POLICIES above, as text\n'
                    '@id("team-read")\n'
                    'permit (principal in Group::"team", action == Action::"FILE_READ", resource)\n'
                    'when { resource.value like "/data/*" };\n'
                    'forbid (principal, action, resource) when { context.risk > 50 };\n')
    p = run("policy", "check", str(text))
    assert p.returncode == 0 and b"2 policies" in p.stdout
    for res, risk, want, reasons in (("/data/a", 10, 0, ["policy0"]), ("/etc/x", 10, 2, []),
                                     ("/data/a", 90, 2, ["policy1"])):
        p = evaluate(run, (str(text), files[1]), res, {"risk": risk}, "--json")
        assert p.returncode == want, p.stderr
        assert json.loads(p.stdout)["reasons"] == reasons
    bad = tmp_path / "bad.cedar"
    bad.write_text('permit(principal, action, resource)\nwhen { context.risk < 1 < 2 };\n')
    p = run("policy", "check", str(bad))
    assert p.returncode == 125
    assert re.search(rb"bad\.cedar:2:25: expected parentheses around a comparison", p.stderr)
    bad.write_text('permit(principal, action == User::"x", resource);')
    p = run("policy", "check", str(bad))
    assert re.search(rb"bad\.cedar:1:29: expected an entity of type Action", p.stderr)
