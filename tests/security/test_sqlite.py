# SPDX-License-Identifier: LGPL-2.1-or-later
"""DATABASE_WRITE sqlite:PATH: SQLite writes and commits for real in every journal mode, its
side files (-journal, -wal, -shm) are created, kept and deleted in the host directory by the
supervisor, and nothing else in that directory is reachable. Root and rootless."""
import errno
import json
import os
import sqlite3

import pytest

from conftest import events, write_script

PY = "#!/usr/bin/python3\n"

WRITER = PY + """
import json, os, sqlite3, sys
db, mode = sys.argv[1], sys.argv[2]
c = sqlite3.connect(db)
out = {"mode": c.execute("pragma journal_mode=" + mode).fetchone()[0]}
c.execute("create table if not exists t(x)")
for i in range(20):
    with c:                                   # one transaction, one commit, each
        c.execute("insert into t values (?)", (i,))
out["count"] = c.execute("select count(*) from t").fetchone()[0]
d = os.path.dirname(db)
out["listing"] = sorted(os.listdir(d))
try:
    open(os.path.join(d, "other.txt")).read()   # hidden: refused and logged
    out["read_other"] = "read"
except OSError as e:
    out["read_other"] = e.errno
try:
    os.unlink(os.path.join(d, "other.txt"))
    out["unlink_other"] = "removed"
except OSError as e:
    out["unlink_other"] = e.errno
for probe in ("other.txt", "evil.txt"):   # land on the sandbox's own /tmp, if anywhere
    try:
        open(os.path.join(d, probe), "a").write("x")
    except OSError:
        pass
c.close()
out["after_close"] = sorted(n for n in os.listdir(d))
print(json.dumps(out))
"""

# Dies in the middle of a large transaction: SQLite's hot journal (or the uncommitted tail
# of its WAL) must be on the host, where the next run finds it and rolls back.
CRASH = PY + """
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("pragma journal_mode=" + sys.argv[2])
c.execute("pragma cache_size=1")
c.execute("create table if not exists t(x)")
c.execute("insert into t values (1)")
c.execute("begin")
for i in range(1000):
    c.execute("insert into t values (randomblob(1000))")
os._exit(3)
"""

COUNT = PY + """
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("select count(*) from t").fetchone()[0])
"""


def data_dir(shared_tmp):
    d = os.path.join(shared_tmp, "data")
    os.mkdir(d)
    os.chmod(d, 0o777)  # the unprivileged run creates the database and its journal here
    with open(os.path.join(d, "other.txt"), "w") as f:
        f.write("not granted")
    return d


@pytest.mark.parametrize("mode", ["delete", "wal", "truncate", "persist", "memory"])
def test_writes_and_commits_in_every_journal_mode(sandbox, shared_tmp, mode):
    d = data_dir(shared_tmp)
    db = os.path.join(d, "app.db")
    script = write_script(shared_tmp, "writer.py", WRITER)
    log = os.path.join(shared_tmp, "a.jsonl")
    p = sandbox.run("--cap", f"DATABASE_WRITE:sqlite:{db}", "--audit-log", log, script, db,
                    mode)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["mode"] == mode and out["count"] == 20
    # The directory shows the database alone (side files are held open, not shown).
    assert out["listing"] == ["app.db"]
    assert out["unlink_other"] != "removed" and out["read_other"] != "read"
    assert open(os.path.join(d, "other.txt")).read() == "not granted"
    assert not os.path.exists(os.path.join(d, "evil.txt"))
    # SQLite's own clean-up happened on the host: what a close leaves in each mode.
    left = sorted(n for n in os.listdir(d) if n.startswith("app.db"))
    expected = {"delete": ["app.db"], "wal": ["app.db"], "memory": ["app.db"],
                "truncate": ["app.db", "app.db-journal"],
                "persist": ["app.db", "app.db-journal"]}[mode]
    assert left == expected
    # The commits are in the host's database.
    c = sqlite3.connect(db)
    assert c.execute("select sum(x) from t").fetchone()[0] == sum(range(20))
    c.close()
    denied = [e for e in events(log) if e["event"] == "CapabilityDenied"]
    assert any(e["resource"] == os.path.join(d, "other.txt") for e in denied), denied


@pytest.mark.parametrize("mode", ["delete", "wal"])
def test_a_crashed_transaction_is_rolled_back_from_the_host_journal(sandbox, shared_tmp, mode):
    d = data_dir(shared_tmp)
    db = os.path.join(d, "app.db")
    crash = write_script(shared_tmp, "crash.py", CRASH)
    count = write_script(shared_tmp, "count.py", COUNT)
    grant = f"DATABASE_WRITE:sqlite:{db}"
    p = sandbox.run("--cap", grant, crash, db, mode)
    assert p.returncode == 3, p.stderr
    side = "app.db-journal" if mode == "delete" else "app.db-wal"
    assert os.path.getsize(os.path.join(d, side)) > 0  # the hot journal is on the host
    p = sandbox.run("--cap", grant, count, db)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == b"1"  # the uncommitted rows are gone, the committed one not
    assert sqlite3.connect(db).execute("pragma integrity_check").fetchone()[0] == "ok"


def test_database_created_when_missing_and_directory_required(sandbox, shared_tmp):
    d = data_dir(shared_tmp)
    db = os.path.join(d, "new.db")
    script = write_script(shared_tmp, "writer.py", WRITER)
    p = sandbox.run("--cap", f"DATABASE_WRITE:sqlite:{db}", script, db, "delete")
    assert p.returncode == 0, p.stderr
    assert sqlite3.connect(db).execute("select count(*) from t").fetchone()[0] == 20
    missing = os.path.join(d, "nodir", "x.db")
    p = sandbox.run("--cap", f"DATABASE_WRITE:sqlite:{missing}", script, missing, "delete")
    assert p.returncode == 125 and b"directory" in p.stderr


def test_read_grant_does_not_write(sandbox, shared_tmp):
    d = data_dir(shared_tmp)
    db = os.path.join(d, "app.db")
    c = sqlite3.connect(db)
    c.execute("create table t(x)")
    c.commit()
    c.close()
    os.chmod(db, 0o666)
    script = write_script(shared_tmp, "writer.py", WRITER)
    p = sandbox.run("--cap", f"DATABASE_READ:sqlite:{db}", script, db, "delete")
    assert p.returncode != 0
    assert b"readonly database" in p.stderr or b"read-only" in p.stderr, p.stderr
    assert sqlite3.connect(db).execute("select count(*) from t").fetchone()[0] == 0
    assert sorted(os.listdir(d)) == ["app.db", "other.txt"]


PLANTED = PY + """
import os, sys
try:
    fd = os.open(sys.argv[1] + "-journal", os.O_WRONLY | os.O_CREAT)
    os.write(fd, b"pwned")
    print("written")
except OSError as e:
    print(e.errno)
"""


def test_planted_side_file_symlink_is_not_followed(sandbox, shared_tmp):
    """A symlink where the journal goes must not let the sandbox write its target."""
    d = data_dir(shared_tmp)
    db = os.path.join(d, "app.db")
    target = os.path.join(shared_tmp, "victim.txt")
    with open(target, "w") as f:
        f.write("intact")
    os.chmod(target, 0o666)
    os.symlink(target, db + "-journal")
    probe = write_script(shared_tmp, "planted.py", PLANTED)
    p = sandbox.run("--cap", f"DATABASE_WRITE:sqlite:{db}", probe, db)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == str(errno.ELOOP).encode()
    assert open(target).read() == "intact"
    # SQLite itself takes the link for a stale journal and removes it (the link, not the
    # file it points to), exactly as it would outside.
    script = write_script(shared_tmp, "writer.py", WRITER)
    p = sandbox.run("--cap", f"DATABASE_WRITE:sqlite:{db}", script, db, "delete")
    assert p.returncode == 0, p.stderr
    assert open(target).read() == "intact"
    assert not os.path.lexists(db + "-journal")


def test_dry_run_names_the_database(sandbox, shared_tmp):
    d = data_dir(shared_tmp)
    db = os.path.join(d, "app.db")
    p = sandbox.run("--dry-run", "--cap", f"DATABASE_WRITE:sqlite:{db}", "/bin/true")
    assert p.returncode == 0, p.stderr
    plan = json.loads(p.stdout)
    assert plan["sqlite_databases"] == [db]
    assert not os.path.exists(db)  # a dry run changes nothing
