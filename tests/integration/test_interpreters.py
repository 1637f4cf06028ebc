# SPDX-License-Identifier: LGPL-2.1-or-later
"""Programs and interpreters wherever installed, named as people name them (SPEC §3): a venv,
a program finding its libraries through RUNPATH $ORIGIN under a 0700 home, a Python with a
shared libpython in such a prefix, a script under /tmp in mode rx, task.py in the working
directory, `python3 task.py`, a version manager's shim passed over, app.js → node; and what
stays hidden beside them (the rest of the home, the prefix's other files)."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import OCI_RUNTIMES, RX, TEST_USER, oci_backend_or_skip, write_script

HOST_PY = "/usr/bin/python3"
PYVER = subprocess.run([HOST_PY, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                       capture_output=True, text=True, check=True).stdout.strip()

PROBE = r"""
#include <stdio.h>
#include <errno.h>
#include <string.h>
const char *greeting(void);
int main(int argc, char **argv)
{
	printf("%s\n", greeting());
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "r");
		printf("%s %s\n", argv[i], f ? "VISIBLE" : strerror(errno));
		if (f)
			fclose(f);
	}
	return 0;
}
"""


def run_in(sandbox, cwd, *args, env_extra=None, timeout=60):
    """sandbox.run with a working directory (the caller's: where task.py is found)."""
    cmd = [sandbox.ob_bin, "sandbox", "run", *args]
    env = dict(os.environ, **(env_extra or {}))
    if sandbox.who == "user" and os.geteuid() == 0:
        cmd = [shutil.which("runuser"), "-p", "-u", TEST_USER, "--"] + cmd
        env["GCOV_ERROR_FILE"] = "/dev/null"
    return subprocess.run(cmd, capture_output=True, cwd=cwd, env=env, timeout=timeout)


def give(path, who):
    """Makes the tree at PATH the caller's own: the test user's on the unprivileged pass."""
    if who != "user" or os.geteuid() != 0:
        return
    import pwd
    pw = pwd.getpwnam(TEST_USER)
    for root, dirs, files in os.walk(path):
        for name in [root] + [os.path.join(root, n) for n in dirs + files]:
            os.lchown(name, pw.pw_uid, pw.pw_gid)


def make_home(shared_tmp, who):
    """A home-like directory: 0700, the caller's, with a secret beside whatever goes in."""
    home = os.path.join(shared_tmp, "home")
    os.mkdir(home)
    with open(os.path.join(home, "secret.txt"), "w") as f:
        f.write("the home's secret")
    return home


def dry_run_mounts(sandbox, cwd, *args, env_extra=None):
    p = run_in(sandbox, cwd, "--dry-run", *args, env_extra=env_extra)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)["mounts"]


def test_venv_with_a_package(sandbox, shared_tmp):
    venv = os.path.join(shared_tmp, "v")
    subprocess.run([HOST_PY, "-m", "venv", "--without-pip", venv], check=True)
    pkg = os.path.join(venv, "lib", "python" + PYVER, "site-packages", "mypkg")
    os.makedirs(pkg)
    with open(os.path.join(pkg, "__init__.py"), "w") as f:
        f.write("ANSWER = 42\n")
    give(shared_tmp, sandbox.who)
    p = run_in(sandbox, shared_tmp, "v/bin/python", "-c",
               "import mypkg, sys; print(mypkg.ANSWER, sys.prefix)")
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().split() == ["42", venv]
    mounts = dry_run_mounts(sandbox, shared_tmp, "v/bin/python", "-c", "pass")
    venv_binds = [m for m in mounts if m["why"] == "venv"]
    assert [m["dest"] for m in venv_binds] == [venv] and venv_binds[0]["read_only"]


def test_venv_that_is_a_home_is_refused(sandbox, shared_tmp):
    """Never a home directory wholesale: a venv made in $HOME itself is not bound."""
    venv = os.path.join(shared_tmp, "v")
    subprocess.run([HOST_PY, "-m", "venv", "--without-pip", venv], check=True)
    give(shared_tmp, sandbox.who)
    p = run_in(sandbox, shared_tmp, "v/bin/python", "-c", "pass", env_extra={"HOME": venv})
    assert p.returncode == 125, (p.returncode, p.stderr)
    assert b"home directory" in p.stderr


def test_what_only_looks_like_a_venv_is_not_bound(sandbox, shared_tmp):
    """A directory is bound as a venv only for its Python with a pyvenv.cfg naming a base:
    a pyvenv.cfg beside any program's bin/ is no way to a whole directory."""
    d = os.path.join(shared_tmp, "d")
    os.makedirs(os.path.join(d, "bin"))
    for name in ("tool", "python3"):
        shutil.copy("/bin/true", os.path.join(d, "bin", name))
    give(shared_tmp, sandbox.who)
    cases = [("tool", "home = /usr/bin\n"), ("python3", "version = 3.11\n")]
    for name, cfg in cases:
        with open(os.path.join(d, "pyvenv.cfg"), "w") as f:
            f.write(cfg)
        mounts = dry_run_mounts(sandbox, shared_tmp, os.path.join(d, "bin", name))
        assert d not in {m["dest"] for m in mounts}, (name, cfg)
        assert os.path.join(d, "bin", name) in {m["dest"] for m in mounts}


def build_prefix(shared_tmp, who, dtags="runpath"):
    """HOME/.local/opt/tool: lib/libgreet.so.1 (and its .so link), bin/greet with RUNPATH
    $ORIGIN/../lib, HOME/bin/greet -> ../.local/opt/tool/bin/greet; secrets in HOME and in
    the prefix."""
    home = make_home(shared_tmp, who)
    prefix = os.path.join(home, ".local", "opt", "tool")
    os.makedirs(os.path.join(prefix, "lib"))
    os.makedirs(os.path.join(prefix, "bin"))
    os.makedirs(os.path.join(home, "bin"))
    src = os.path.join(shared_tmp, "greet.c")
    with open(src, "w") as f:
        f.write('const char *greeting(void) { return "hello from libgreet"; }\n')
    lib = os.path.join(prefix, "lib", "libgreet.so.1")
    subprocess.run(["gcc", "-shared", "-fPIC", "-Wl,-soname,libgreet.so.1", "-o", lib, src],
                   check=True)
    os.symlink("libgreet.so.1", os.path.join(prefix, "lib", "libgreet.so"))
    with open(src, "w") as f:
        f.write(PROBE)
    prog = os.path.join(prefix, "bin", "greet")
    subprocess.run(["gcc", "-o", prog, src, "-L" + os.path.join(prefix, "lib"), "-lgreet",
                    "-Wl,-rpath,$ORIGIN/../lib",
                    "-Wl,--enable-new-dtags" if dtags == "runpath" else "-Wl,--disable-new-dtags"],
                   check=True)
    os.symlink("../.local/opt/tool/bin/greet", os.path.join(home, "bin", "greet"))
    with open(os.path.join(prefix, "notes.txt"), "w") as f:
        f.write("beside the program")
    give(home, who)
    os.chmod(home, 0o700)
    return home, prefix


@pytest.mark.skipif(not shutil.which("gcc"), reason="needs gcc")
@pytest.mark.parametrize("dtags", ["runpath", "rpath"])
def test_origin_runpath_program_under_a_private_home(sandbox, shared_tmp, dtags):
    home, prefix = build_prefix(shared_tmp, sandbox.who, dtags)
    hidden = [os.path.join(home, "secret.txt"), os.path.join(prefix, "notes.txt")]
    p = run_in(sandbox, shared_tmp, os.path.join(home, "bin", "greet"), "--", *hidden)
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode()
    assert "hello from libgreet" in out
    for path in hidden:
        assert path + " No such file or directory" in out, out
    mounts = dry_run_mounts(sandbox, shared_tmp, os.path.join(home, "bin", "greet"))
    binds = {m["dest"] for m in mounts if m["type"] == "bind"}
    assert os.path.join(prefix, "lib", "libgreet.so.1") in binds
    assert os.path.join(prefix, "bin", "greet") in binds
    assert not {home, prefix, os.path.join(prefix, "lib"), "/"} & binds
    links = {m["dest"]: m["src"] for m in mounts if m["type"] == "symlink"}
    assert links[os.path.join(home, "bin", "greet")] == "../.local/opt/tool/bin/greet"


@pytest.fixture
def host_tmp():
    """A scratch directory outside /tmp (mode rx shows the host there, not the sandbox's
    own /tmp)."""
    import tempfile
    d = tempfile.mkdtemp(prefix="ob-test-", dir="/var/tmp")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.skipif(not shutil.which("gcc"), reason="needs gcc")
def test_private_home_program_in_mode_rx(sandbox, host_tmp):
    """Mode rx shows the host as the program's identity may read it: run as root that is no
    host user, so a 0700 home hides the program; it gets an empty tmpfs taking the
    program's binds (the secret beside stays out of reach). Rootless, the home is the
    caller's own and readable, as SPEC §2.4 says."""
    home, prefix = build_prefix(host_tmp, sandbox.who)
    secret = os.path.join(home, "secret.txt")
    prog = os.path.join(home, "bin", "greet")
    p = run_in(sandbox, host_tmp, *RX(sandbox), prog, "--", secret)
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode()
    assert "hello from libgreet" in out
    mounts = dry_run_mounts(sandbox, host_tmp, *RX(sandbox), prog)
    covers = [m["dest"] for m in mounts if m["type"] == "tmpfs" and m["dest"] == home]
    if sandbox.who == "root":
        assert secret + " No such file or directory" in out, out
        assert covers == [home]
    else:
        assert secret + " VISIBLE" in out, out
        assert covers == []


@pytest.mark.skipif(not shutil.which("gcc") or
                    not os.path.exists("/usr/include/python%s/Python.h" % PYVER) or
                    not os.path.exists("/usr/lib/x86_64-linux-gnu/libpython%s.so.1.0" % PYVER),
                    reason="needs gcc, Python.h and libpython")
def test_python_with_shared_libpython_in_a_home_prefix(sandbox, shared_tmp):
    """The pyenv/uv/conda shape: PREFIX/bin/python3 -> python3.X, libpython in PREFIX/lib
    found through RUNPATH $ORIGIN/../lib, the standard library at PREFIX/lib/python3.X."""
    home = make_home(shared_tmp, sandbox.who)
    prefix = os.path.join(home, ".pyenv", "versions", PYVER)
    for d in ("bin", "lib"):
        os.makedirs(os.path.join(prefix, d))
    libname = "libpython%s.so.1.0" % PYVER
    shutil.copy("/usr/lib/x86_64-linux-gnu/" + libname, os.path.join(prefix, "lib", libname))
    os.symlink("/usr/lib/python" + PYVER, os.path.join(prefix, "lib", "python" + PYVER))
    src = os.path.join(shared_tmp, "main.c")
    with open(src, "w") as f:
        f.write("#include <Python.h>\nint main(int c, char **v) { return Py_BytesMain(c, v); }\n")
    exe = os.path.join(prefix, "bin", "python" + PYVER)
    subprocess.run(["gcc", "-o", exe, src, "-I/usr/include/python" + PYVER,
                    os.path.join(prefix, "lib", libname), "-Wl,-rpath,$ORIGIN/../lib"],
                   check=True)
    os.symlink("python" + PYVER, os.path.join(prefix, "bin", "python3"))
    give(home, sandbox.who)
    os.chmod(home, 0o700)
    script = os.path.join(prefix, "bin", "python3")
    p = run_in(sandbox, shared_tmp, script, "-c",
               "import sys, json; print(sys.prefix); "
               "import os; print(os.path.exists(%r))" % os.path.join(home, "secret.txt"))
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().split() == [prefix, "False"]


def test_script_under_tmp_in_mode_rx(sandbox, shared_tmp):
    script = write_script(shared_tmp, "rx.py", "import sys\nprint('rx ok', sys.argv[0])\n",
                          mode=0o644)
    p = sandbox.run(*RX(sandbox), script)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().split() == ["rx", "ok", script]


def test_task_in_cwd_without_dot_slash(sandbox, shared_tmp):
    write_script(shared_tmp, "task.py", "import sys\nprint('task', sys.argv[1:])\n", mode=0o644)
    p = run_in(sandbox, shared_tmp, "task.py", "--", "a")
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().strip() == "task ['a']"
    p = run_in(sandbox, shared_tmp, "no-such-task.py")
    assert p.returncode == 127 and b"nor in the current directory" in p.stderr


def test_python3_names_its_script(sandbox, shared_tmp):
    """`python3 -u task.py`: the script argument is bound read-only and the rest of its
    directory stays hidden."""
    work = os.path.join(shared_tmp, "work")
    os.mkdir(work)
    write_script(work, "task.py", "import os, sys\n"
                 "print(len(open(__file__).read()) > 0, os.path.exists('%s/other.txt'))\n"
                 "open(__file__, 'a')\n" % work, mode=0o644)
    write_script(work, "other.txt", "beside the script", mode=0o644)
    give(work, sandbox.who)
    p = run_in(sandbox, work, "python3", "-u", "task.py")
    assert p.returncode == 1, p.stderr  # the append fails: read-only
    assert p.stdout.decode().split() == ["True", "False"]
    assert b"Read-only file system" in p.stderr or b"Permission denied" in p.stderr
    p = run_in(sandbox, work, "python3", "-c", "print('code')", "task.py")
    assert p.returncode == 0 and p.stdout == b"code\n", p.stderr


def test_interpreter_argument_that_is_no_script_stays_hidden(sandbox, shared_tmp):
    """`python3 FILE` shows FILE only when it is a script (named like one, #!, or
    executable): otherwise it would be a way to any file the caller can read (run as root,
    id-mapped: the sandbox's own), past every grant."""
    work = os.path.join(shared_tmp, "work")
    os.mkdir(work)
    write_script(work, "secret.txt", "print('TOP' + 'SECRET')\n", mode=0o600)
    write_script(work, "tool", "#!/usr/bin/python3\nprint('tool ran')\n", mode=0o600)
    give(work, sandbox.who)
    for interp in ("python3", "sh"):
        p = run_in(sandbox, work, interp, "secret.txt")
        assert p.returncode != 0 and b"TOPSECRET" not in p.stdout, (interp, p.stdout)
    p = run_in(sandbox, work, "python3", "tool")  # a #! line: a script, whatever its name
    assert p.returncode == 0 and p.stdout == b"tool ran\n", p.stderr


def test_shim_stands_for_the_version_it_selects(sandbox, shared_tmp):
    """pyenv's shape: ROOT/shims/python3 (a #! script running the manager) stands for
    ROOT/versions/V/bin/python3, V from $PYENV_VERSION, the nearest .python-version, or
    ROOT/version; "system" passes it over for the next python3 on PATH."""
    root = os.path.join(shared_tmp, ".pyenv")
    os.makedirs(os.path.join(root, "shims"))
    write_script(os.path.join(root, "shims"), "python3", "#!/bin/sh\necho SHIM RAN\nexit 3\n")
    for v in ("3.90", "3.91", "3.92", "3.93.1", "3.93.10", "3.93.9"):
        os.makedirs(os.path.join(root, "versions", v, "bin"))
        os.symlink(HOST_PY, os.path.join(root, "versions", v, "bin", "python3"))
    with open(os.path.join(root, "version"), "w") as f:
        f.write("3.90\n")
    work = os.path.join(shared_tmp, "proj", "sub")
    os.makedirs(work)
    write_script(work, "task.py", "import sys\nprint(sys.argv[0])\n", mode=0o644)
    give(shared_tmp, sandbox.who)
    path = os.path.join(root, "shims") + ":/usr/bin:/bin"

    def executable(env=None):
        p = run_in(sandbox, work, "--dry-run", "python3", "task.py",
                   env_extra=dict({"PATH": path}, **(env or {})))
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)["exec"]

    assert executable() == os.path.join(root, "versions", "3.90", "bin", "python3")
    with open(os.path.join(shared_tmp, "proj", ".python-version"), "w") as f:
        f.write("3.91\n")
    assert executable() == os.path.join(root, "versions", "3.91", "bin", "python3")
    assert executable({"PYENV_VERSION": "3.92"}).endswith("/3.92/bin/python3")
    assert executable({"PYENV_VERSION": "3.93"}).endswith("/3.93.10/bin/python3")
    assert executable({"PYENV_VERSION": "3.94"}) == "/usr/bin/python3"  # not installed
    assert executable({"PYENV_VERSION": "system"}) == "/usr/bin/python3"
    assert executable({"PYENV_VERSION": "../../x"}) == "/usr/bin/python3"
    p = run_in(sandbox, work, "python3", "task.py", env_extra={"PATH": path})
    assert p.returncode == 0 and p.stdout.decode().strip() == os.path.join(work, "task.py")


def test_shim_first_on_path_is_passed_over(sandbox, shared_tmp):
    """A pyenv-like shim (a #! script in a shims directory first on PATH) is not what runs."""
    shims = os.path.join(shared_tmp, ".pyenv", "shims")
    os.makedirs(shims)
    write_script(shims, "python3", "#!/bin/sh\necho SHIM RAN\nexit 3\n")
    write_script(shared_tmp, "task.py", "import sys\nprint('real', sys.executable)\n",
                 mode=0o644)
    path = shims + ":/usr/bin:/bin"
    p = run_in(sandbox, shared_tmp, "python3", "task.py", env_extra={"PATH": path})
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().split() == ["real", "/usr/bin/python3"]
    p = run_in(sandbox, shared_tmp, "task.py", env_extra={"PATH": path})
    assert p.returncode == 0 and b"SHIM" not in p.stdout, p.stderr


@pytest.mark.skipif(not shutil.which("node", path="/usr/bin:/bin"), reason="needs node")
def test_js_runs_with_node(sandbox, shared_tmp):
    write_script(shared_tmp, "app.js", "console.log('js', process.argv.length)\n", mode=0o644)
    for args in (("app.js",), ("node", "app.js")):
        p = run_in(sandbox, shared_tmp, *args)
        assert p.returncode == 0, (args, p.stderr)
        assert p.stdout.decode().strip() == "js 2"


def test_node_under_nvm_sees_its_global_modules(sandbox, shared_tmp):
    """nvm's shape: HOME/.nvm/versions/node/vX/bin/node, a global package's command
    bin/greet -> ../lib/node_modules/greet/bin/greet.js (#!/usr/bin/env node) needing its
    package beside it: PREFIX/lib/node_modules is shown, the rest of the home is not."""
    node = shutil.which("node", path="/usr/bin:/bin")
    if not node:
        pytest.skip("node is not installed")
    home = make_home(shared_tmp, sandbox.who)
    prefix = os.path.join(home, ".nvm", "versions", "node", "v18.0.0")
    pkg = os.path.join(prefix, "lib", "node_modules", "greet")
    os.makedirs(os.path.join(pkg, "bin"))
    os.makedirs(os.path.join(prefix, "bin"))
    try:  # a hard link: node is 100 MB; never chowned (it is /usr/bin/node's inode)
        os.link(os.path.realpath(node), os.path.join(prefix, "bin", "node"))
    except OSError:
        pytest.skip("cannot hard-link node here")
    write_script(pkg, "index.js", "module.exports = 'hello from the package';\n", mode=0o644)
    write_script(os.path.join(pkg, "bin"), "greet.js",
                 "#!/usr/bin/env node\nconst fs = require('fs');\n"
                 "console.log(require('../index.js'), fs.existsSync(%r));\n"
                 % os.path.join(home, "secret.txt"))
    os.symlink("../lib/node_modules/greet/bin/greet.js", os.path.join(prefix, "bin", "greet"))
    if sandbox.who == "user" and os.geteuid() == 0:
        import pwd
        pw = pwd.getpwnam(TEST_USER)
        for root, dirs, files in os.walk(home):
            for name in [root] + [os.path.join(root, n) for n in dirs + files]:
                if not name.endswith("/bin/node"):
                    os.lchown(name, pw.pw_uid, pw.pw_gid)
    os.chmod(home, 0o700)
    path = os.path.join(prefix, "bin") + ":/usr/bin:/bin"
    p = run_in(sandbox, shared_tmp, "greet", env_extra={"PATH": path})
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().strip() == "hello from the package false"


@pytest.mark.skipif(not shutil.which("gcc"), reason="needs gcc")
@pytest.mark.parametrize("name", sorted(OCI_RUNTIMES))
def test_oci_backends_make_the_symlink_chain(ob_bin, host_tmp, name):
    """The OCI bundle holds the chain's symlinks with their parents (a home's depth)."""
    backend = oci_backend_or_skip(ob_bin, name)
    home, prefix = build_prefix(host_tmp, "root")
    secret = os.path.join(home, "secret.txt")
    p = subprocess.run([ob_bin, "sandbox", "run", "--backend", backend, "--allow-degraded",
                        os.path.join(home, "bin", "greet"), "--", secret],
                       capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode()
    assert "hello from libgreet" in out and secret + " VISIBLE" not in out, out


@pytest.mark.parametrize("exe,libdir", [("python3.42", "python3.42"), ("pypy3.9", "pypy3.9"),
                                        ("node", "node_modules"), ("ruby", "ruby"),
                                        ("perl", "perl5")])
def test_interpreter_prefix_library_is_shown(sandbox, shared_tmp, exe, libdir):
    """PREFIX/bin/NAME brings PREFIX/lib/<its library> read-only, nothing else of PREFIX
    (a Python's only with os.py, the landmark Python looks for)."""
    prefix = os.path.join(shared_tmp, "prefix")
    for d in ("bin", "lib/" + libdir, "lib/other", "share"):
        os.makedirs(os.path.join(prefix, d))
    shutil.copy("/bin/true", os.path.join(prefix, "bin", exe))
    if exe.startswith(("python", "pypy")):
        os.makedirs(os.path.join(prefix, "lib", "python3.41"))  # no os.py: not a stdlib
        for d in (libdir, "python3.41"):
            with open(os.path.join(prefix, "lib", d, "site.py" if d == "python3.41" else
                                   "os.py"), "w") as f:
                f.write("")
    give(shared_tmp, sandbox.who)
    mounts = dry_run_mounts(sandbox, shared_tmp, os.path.join(prefix, "bin", exe))
    shown = {m["dest"] for m in mounts if m["why"] == "interpreter prefix"}
    assert shown == {os.path.join(prefix, "lib", libdir)}
    assert all(m["read_only"] for m in mounts if m["dest"] in shown)
    p = run_in(sandbox, shared_tmp, os.path.join(prefix, "bin", exe))
    assert p.returncode == 0, p.stderr


def test_prefix_library_linked_elsewhere_is_not_bound(sandbox, shared_tmp):
    """PREFIX/lib/node_modules (or python3.X) as a symlink to a directory outside the
    prefix is no way to that directory."""
    prefix = os.path.join(shared_tmp, "prefix")
    elsewhere = os.path.join(shared_tmp, "elsewhere")
    os.makedirs(os.path.join(prefix, "bin"))
    os.makedirs(os.path.join(prefix, "lib"))
    os.makedirs(elsewhere)
    with open(os.path.join(elsewhere, "os.py"), "w") as f:
        f.write("")
    shutil.copy("/bin/true", os.path.join(prefix, "bin", "node"))
    shutil.copy("/bin/true", os.path.join(prefix, "bin", "python3.42"))
    os.symlink(elsewhere, os.path.join(prefix, "lib", "node_modules"))
    os.symlink(elsewhere, os.path.join(prefix, "lib", "python3.42"))
    give(shared_tmp, sandbox.who)
    for exe in ("node", "python3.42"):
        mounts = dry_run_mounts(sandbox, shared_tmp, os.path.join(prefix, "bin", exe))
        assert elsewhere not in {m["dest"] for m in mounts}, exe
