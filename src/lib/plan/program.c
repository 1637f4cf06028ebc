/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The program of a plan (SPEC §3): a bare name looked up on PATH (past version managers'
 * shims, shims.c) or in the working directory, a script's interpreter from its #! line or
 * its name, an interpreter's script argument (python3 task.py); all made visible inside at
 * their host paths with what they need to start (interp.c), and the argv the sandbox
 * executes.
 */
#include "plan/program.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "model/pattern.h"
#include "plan/interp.h"
#include "plan/steps.h"
#include "plan/visible.h"

static bool is_executable_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

static bool is_script(const char *path)
{
	char head[2];
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	return fd >= 0 && read(fd, head, 2) == 2 && head[0] == '#' && head[1] == '!';
}

typedef enum Skip {
	SKIP_NONE,
	SKIP_SHIMS,   /* a version manager's shims (interp_is_shim) */
	SKIP_SCRIPTS, /* any executable that is itself a script */
} Skip;

/* Finds NAME on SEARCH (a PATH string); *ret is malloc'ed.  What SKIP says is passed over:
 * an interpreter found on PATH may be a version manager's shim (pyenv puts ~/.pyenv/shims
 * first), which cannot work inside the sandbox: the version it stands for can
 * (interp_shim_target), or else the next real one on PATH. */
static int find_on_path(const char *name, const char *search, Skip skip, char **ret)
{
	if (strchr(name, '/'))
		return -EINVAL;
	for (const char *p = search ? search : SANDBOX_PATH; *p;) {
		const char *e = strchrnul(p, ':');
		char buf[PATH_MAX];
		int n = snprintf(buf, sizeof(buf), "%.*s/%s", (int)(e - p), p, name);
		bool found = e > p && n > 0 && (size_t)n < sizeof(buf) && buf[0] == '/' &&
		             is_executable_file(buf);
		/* a shim stands for the version its manager selects, if any */
		int r = found && skip != SKIP_NONE ? interp_shim_target(buf, ret) : 0;
		if (r != 0)
			return r < 0 ? r : 0;
		if (found && !(skip == SKIP_SCRIPTS && is_script(buf)) &&
		    !(skip == SKIP_SHIMS && interp_is_shim(buf))) {
			*ret = strdup(buf);
			return *ret ? 0 : -ENOMEM;
		}
		p = *e ? e + 1 : e;
	}
	return -ENOENT;
}

int plan_find_on_path(const char *name, const char *search, char **ret)
{
	return find_on_path(name, search, SKIP_NONE, ret);
}

/* Reads "#!interp [arg]" from PATH.  Returns 1 with the parts, 0 when there is none. */
static int read_shebang(const char *path, char interp[PATH_MAX], char arg[256])
{
	char line[PATH_MAX + 300];
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, line, sizeof(line) - 1);
	if (n < 2 || line[0] != '#' || line[1] != '!')
		return 0;
	line[n] = '\0';
	line[strcspn(line, "\n")] = '\0';
	char *s = line + 2;
	s += strspn(s, " \t");
	size_t il = strcspn(s, " \t");
	if (il == 0 || il >= PATH_MAX)
		return -ENOEXEC;
	memcpy(interp, s, il);
	interp[il] = '\0';
	s += il;
	s += strspn(s, " \t");
	size_t al = strcspn(s, " \t");
	if (al >= 256)
		return -ENOEXEC;
	memcpy(arg, s, al);
	arg[al] = '\0';
	return 1;
}

/* Chooses the interpreter of SCRIPT: its shebang (with `env NAME` resolved on the host
 * PATH), else by its name (.py → python3, .sh → sh, .js → node: interp_for_extension).
 * *ret_interp NULL: run the file itself. */
static int resolve_interpreter(const char *script, const char *host_path, char **ret_interp,
                               char **ret_arg, ob_error *reterr)
{
	char interp[PATH_MAX], arg[256] = "";
	int r = read_shebang(script, interp, arg);

	*ret_interp = *ret_arg = NULL;
	if (r < 0)
		return ob_error_set(reterr, r, "%s: cannot read: %s", script, strerror(-r));
	if (r == 0) {
		const char *name = interp_for_extension(script);
		if (!name)
			return 0;
		r = find_on_path(name, host_path, SKIP_SCRIPTS, ret_interp);
		if (r < 0)
			return ob_error_set(reterr, -ENOENT,
			                    "%s: interpreter '%s' not found on PATH", script, name);
		return 0;
	}
	if (streq(interp, "/usr/bin/env") && arg[0]) {
		r = find_on_path(arg, host_path, SKIP_SCRIPTS, ret_interp);
		if (r < 0)
			return ob_error_set(reterr, -ENOENT,
			                    "%s: interpreter '%s' not found on PATH", script, arg);
		return 0;
	}
	*ret_interp = strdup(interp);
	*ret_arg = arg[0] ? strdup(arg) : NULL;
	if (!*ret_interp || (arg[0] && !*ret_arg))
		return -ENOMEM;
	return 0;
}

/* Makes the interpreter INTERP of a script work inside: it must be a real executable (a
 * shebang naming a shim or another script cannot run), shown with all it opens to start. */
static int plan_interpreter(Plan *p, const char *interp, ob_error *reterr)
{
	char real[PATH_MAX], ia[PATH_MAX], ib[256];

	if (!realpath(interp, real))
		return ob_error_set(reterr, -ENOENT, "interpreter %s: %s", interp, strerror(errno));
	if (!is_executable_file(real))
		return ob_error_set(reterr, -EACCES, "interpreter %s is not executable", interp);
	if (read_shebang(real, ia, ib) == 1)
		return ob_error_set(reterr, -ENOEXEC,
		                    "interpreter %s is itself a script (a version-manager shim?); "
		                    "put the real interpreter first on PATH or name it in the "
		                    "shebang",
		                    interp);
	return interp_show(p, interp, "interpreter", reterr);
}

/* NAME made absolute against the working directory, into *RET (malloc'ed). */
static int absolute_path(const char *name, char **ret, ob_error *reterr)
{
	char buf[PATH_MAX], cwd[PATH_MAX];

	if (name[0] != '/' && !getcwd(cwd, sizeof(cwd)))
		return ob_error_set(reterr, -errno, "getcwd: %s", strerror(errno));
	int r = path_normalize(name, strlen(name), name[0] == '/' ? NULL : cwd, true, false, buf,
	                       sizeof(buf), NULL);
	if (r < 0)
		return ob_error_set(reterr, r, "%s: bad path", name);
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

/* The program's host path: NAME made absolute, or looked up on the host PATH (past shims),
 * or a file of that name in the working directory (SPEC §3: named without ./). */
static int locate_program(const char *name, const char *host_path, char **ret, ob_error *reterr)
{
	struct stat st;

	if (strchr(name, '/'))
		return absolute_path(name, ret, reterr);
	int r = find_on_path(name, host_path, SKIP_SHIMS, ret);
	if (r != -ENOENT)
		return r;
	if (stat(name, &st) == 0 && S_ISREG(st.st_mode))
		return absolute_path(name, ret, reterr);
	return ob_error_set(reterr, -ENOENT, "%s: not found on PATH nor in the current directory",
	                    name);
}

/* `python3 task.py`: the script argument of an interpreter run as the program is shown
 * read-only (when it is a script: interp_is_script_file), and named by its absolute path
 * (the sandbox's working directory is not the caller's).  *RET_ARG: that path, or NULL. */
static int plan_script_arg(Plan *p, char *const *argv, int *ret_index, char **ret_arg,
                           ob_error *reterr)
{
	struct stat st;
	int i = interp_script_arg(argv);

	*ret_index = -1;
	*ret_arg = NULL;
	if (i < 0 || stat(argv[i], &st) < 0 || !S_ISREG(st.st_mode))
		return 0; /* code, stdin, or a name the interpreter resolves (python3 -m) */
	/* Only what is a script, as a program named by path must be executable or a script:
	 * `python3 /etc/shadow` is not a way to a file no grant shows. */
	if (!interp_is_script_file(argv[i]))
		return 0;
	int r = absolute_path(argv[i], ret_arg, reterr);
	if (r < 0)
		return r;
	r = plan_show_path(p, *ret_arg, /* dir_ok= */ false, "script", NULL);
	if (r < 0)
		return ob_error_set(reterr, r, "script %s: %s", *ret_arg,
		                    r == -EPERM ? "a home directory" : strerror(-r));
	*ret_index = i;
	return 0;
}

/* argv = [interpreter [arg]] program args..., the argument at SCRIPT_INDEX (when >= 0)
 * replaced by SCRIPT. */
static int plan_argv(Plan *p, char *const *argv, const char *interp, const char *iarg,
                     const char *path, int script_index, const char *script)
{
	size_t n = 0, k = 0;

	while (argv[n])
		n++;
	p->argv = calloc(n + 3, sizeof(char *));
	if (!p->argv)
		return -ENOMEM;
	if (interp)
		p->argv[k++] = strdup(interp);
	if (interp && iarg)
		p->argv[k++] = strdup(iarg);
	p->argv[k++] = strdup(path);
	for (size_t i = 1; i < n; i++)
		p->argv[k++] = strdup((int)i == script_index ? script : argv[i]);
	for (size_t i = 0; i < k; i++)
		if (!p->argv[i])
			return -ENOMEM;
	return 0;
}

/* The program file shown inside: a script as itself (its interpreter: plan_interpreter), an
 * executable with all it opens to start. */
static int plan_program_file(Plan *p, const char *path, bool script, ob_error *reterr)
{
	if (!script)
		return interp_show(p, path, "program", reterr);
	int r = plan_show_path(p, path, /* dir_ok= */ false, "program", NULL);
	if (r < 0)
		return ob_error_set(reterr, r, "%s: %s", path,
		                    r == -EPERM ? "a home directory" : strerror(-r));
	return 0;
}

int plan_program(Plan *p, const PlanInput *in, ob_error *reterr)
{
	_cleanup_free_ char *path = NULL, *interp = NULL, *iarg = NULL, *script = NULL;
	int script_index = -1;
	struct stat st;

	int r = locate_program(in->argv[0], in->host_path, &path, reterr);
	if (r < 0 || !path)
		return r < 0 ? r : -ENOMEM;
	if (stat(path, &st) < 0)
		return ob_error_set(reterr, -ENOENT, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return ob_error_set(reterr, -EACCES, "%s: not a regular file", path);
	r = resolve_interpreter(path, in->host_path, &interp, &iarg, reterr);
	if (r < 0)
		return r;
	if (!interp && access(path, X_OK) < 0)
		return ob_error_set(reterr, -EACCES,
		                    "%s: not executable and no interpreter known for it", path);
	/* Every mode: what lies in the sandbox's own /tmp or empty root is bound (plan_shows). */
	if (interp)
		r = plan_interpreter(p, interp, reterr);
	if (r >= 0)
		r = plan_program_file(p, path, interp != NULL, reterr);
	if (r >= 0 && !interp)
		r = plan_script_arg(p, in->argv, &script_index, &script, reterr);
	if (r < 0)
		return r;
	if (plan_argv(p, in->argv, interp, iarg, path, script_index, script) < 0)
		return -ENOMEM;
	p->exec_path = strdup(interp ? interp : path);
	p->interpreter = TAKE_PTR(interp);
	p->program = TAKE_PTR(path);
	return p->exec_path ? 0 : -ENOMEM;
}

/* ---------------------------------------------------------------- environment */
