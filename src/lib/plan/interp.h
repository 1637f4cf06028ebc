/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "plan/types.h"

/* Makes the executable EXE (a host path: the program, or a script's interpreter) work
 * inside P wherever it is installed: its symlink chain and file, the shared objects its
 * loader will open (libdeps.h), a Python venv it belongs to (the venv directory and the base
 * installation its pyvenv.cfg names), an interpreter's installation prefix (PREFIX/bin/python3.X
 * → PREFIX/lib/python3.X; node → PREFIX/lib/node_modules), all read-only at their host
 * paths; never a home directory or /.  WHY labels the executable's own steps. */
int interp_show(Plan *p, const char *exe, const char *why, ob_error *reterr);

/* When ARGV[0] names a known interpreter (python, node, sh, bash, perl, ruby, …), the index
 * of its script argument: the first argument that is not an option or an option's value;
 * -1 when there is none (python -c, node -e, sh -c, stdin) or ARGV[0] is no interpreter. */
int interp_script_arg(char *const *argv);

/* Is the regular file at PATH a script: executable, starting with #!, or named like one
 * (.py, .sh, .bash, .js, .mjs, .cjs, .ts, .pl, .pm, .rb)? */
bool interp_is_script_file(const char *path);

/* The interpreter a script named NAME is run by when it has no #! line: .py → python3,
 * .sh → sh, .js → node; NULL when the name says nothing. */
const char *interp_for_extension(const char *name);

/* Is the executable at PATH a version manager's shim: in a directory named "shims", a #!
 * script (pyenv, rbenv, nodenv, asdf) or a link to mise?  It cannot work inside the sandbox
 * (it needs the manager's whole tree), so a name is resolved past it (shims.c). */
bool interp_is_shim(const char *path);

/* The interpreter the shim at SHIM stands for, as its manager (pyenv, rbenv, nodenv: the
 * shims directory's parent, ~/.pyenv) would choose it: the version in $PYENV_VERSION (or
 * $RBENV_VERSION, $NODENV_VERSION), else in the nearest .python-version (.ruby-version,
 * .node-version) from the working directory up, else in ROOT/version; then
 * ROOT/versions/VERSION/bin/NAME (a VERSION "3.11" not installed as such: the newest
 * 3.11.x).  *RET (malloc'ed) and 1 when that is an executable that is
 * no script; 0 when there is none ("system", an unknown manager, asdf): the caller looks
 * further on PATH. */
int interp_shim_target(const char *shim, char **ret);
