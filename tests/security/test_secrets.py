# SPDX-License-Identifier: LGPL-2.1-or-later
"""SECRET_ACCESS: a granted secret is a read-only file /run/secrets/NAME (0400) on a private
tmpfs; never in the environment, an event or the plan; an ungranted one is not there."""
import json
import os

from conftest import events, write_script

PY = "#!/usr/bin/python3\n"
VALUE = "s3cr3t-do-not-leak"

PROBE = PY + """
import os, stat, json
out = {"env_leak": any("%s" in v for v in os.environ.values())}
try:
    st = os.stat("/run/secrets")
    out["dir_mode"] = oct(stat.S_IMODE(st.st_mode))
    out["files"] = sorted(os.listdir("/run/secrets"))
except OSError:
    out["files"] = None
for n in out["files"] or []:
    p = "/run/secrets/" + n
    out[n] = {"mode": oct(stat.S_IMODE(os.stat(p).st_mode)), "value": open(p).read()}
try:
    open("/run/secrets/added", "w"); out["writable"] = True
except OSError:
    out["writable"] = False
print(json.dumps(out))
""" % VALUE


def secret_file(d, name="db_password"):
    path = os.path.join(d, name + ".txt")
    with open(path, "w") as f:
        f.write(VALUE)
    os.chmod(path, 0o644)
    return path


def test_granted_secret_is_a_read_only_file(sandbox, shared_tmp):
    src = secret_file(shared_tmp)
    script = write_script(shared_tmp, "probe.py", PROBE)
    log = os.path.join(shared_tmp, "s.jsonl")
    p = sandbox.run("--cap", "SECRET_ACCESS:db_password", "--secret", f"db_password=@{src}",
                    "--secret", f"other=@{src}", "--audit-log", log, script)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["files"] == ["db_password"]  # "other" has a source but no grant
    assert d["db_password"] == {"mode": "0o400", "value": VALUE}
    assert d["writable"] is False and d["env_leak"] is False
    assert VALUE not in open(log).read()
    assert VALUE.encode() not in p.stderr
    assert events(log)[0]["capabilities"] == ["SECRET_ACCESS:db_password"]
    plan = sandbox.run("--dry-run", "--cap", "SECRET_ACCESS:db_password", "--secret",
                       f"db_password=@{src}", script)
    assert plan.returncode == 0 and VALUE.encode() not in plan.stdout
    assert b"/run/secrets/db_password" in plan.stdout


def test_pattern_grant_and_env_source(sandbox, shared_tmp):
    script = write_script(shared_tmp, "probe.py", PROBE)
    p = sandbox.run("--cap", "SECRET_ACCESS:db_*", "--secret", "db_token=env:OB_TEST_SECRET",
                    "--secret", "api_key=env:OB_TEST_SECRET", script,
                    env_extra={"OB_TEST_SECRET": VALUE})
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["files"] == ["db_token"] and d["db_token"]["value"] == VALUE
    assert d["env_leak"] is False  # the host variable did not travel


def test_no_secret_without_a_grant(sandbox, shared_tmp):
    src = secret_file(shared_tmp)
    script = write_script(shared_tmp, "probe.py", PROBE)
    p = sandbox.run("--secret", f"db_password=@{src}", script)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["files"] is None


def test_secret_errors_are_125(sandbox, shared_tmp):
    for args in (["--cap", "SECRET_ACCESS:db_password"],  # granted, no source
                 ["--cap", "SECRET_ACCESS:x", "--secret", "x=@/nonexistent/file"],
                 ["--cap", "SECRET_ACCESS:x", "--secret", "x=env:OB_SURELY_UNSET_VAR"],
                 ["--secret", "x=plain-text-value"],
                 ["--secret", "=@/etc/hostname"]):
        p = sandbox.run(*args, "/bin/true")
        assert p.returncode == 125, (args, p.stderr)
        assert b"secret" in p.stderr.lower()
