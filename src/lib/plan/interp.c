/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Interpreters wherever they are installed (SPEC §3): a pyenv, uv or conda Python under a
 * home directory, a venv, node under nvm.  What such an interpreter opens to start is
 * computed from the files themselves (the ELF loader's view, libdeps.c; pyvenv.cfg; the
 * prefix layout) and shown file by file or as the one directory that holds its library,
 * never as the home directory it lives in.  Also: how people name programs (python3
 * task.py: the script argument of a known interpreter; shims passed over).
 */
#include "plan/interp.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/dirent-util.h"
#include "basic/error.h"
#include "basic/macro.h"
#include "plan/libdeps.h"
#include "plan/visible.h"

#define MAX_EXT_MODULES 256 /* a prefix's lib-dynload modules looked into */

/* Is NAME FAMILY followed by nothing but a version ("python3.11", "ruby3.1")? */
static bool is_versioned(const char *name, const char *family)
{
	size_t n = strlen(family);

	if (strncmp(name, family, n) != 0)
		return false;
	for (const char *s = name + n; *s; s++)
		if (!isdigit((unsigned char)*s) && *s != '.')
			return false;
	return true;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static int show_error(int r, const char *what, const char *path, ob_error *reterr)
{
	if (r == -EPERM)
		return ob_error_set(reterr, -EPERM,
		                    "%s %s: refusing to show a home directory or / inside the "
		                    "sandbox",
		                    what, path);
	return ob_error_set(reterr, r, "%s %s: %s", what, path, strerror(-r));
}

/* The shared objects the ELF file EXE and the objects it loads itself (MORE, may be NULL)
 * need, each shown with its symlinks. */
static int show_libraries(Plan *p, const char *exe, const PathList *more, ob_error *reterr)
{
	_cleanup_(path_list_done) PathList libs = {0};

	int r = libdeps_collect(exe, more, &libs);
	if (r < 0)
		return ob_error_set(reterr, r, "%s: reading its ELF headers: %s", exe,
		                    r == -EBADMSG ? "malformed"
		                    : r == -E2BIG ? "it needs too many shared objects"
		                                  : strerror(-r));
	for (size_t i = 0; i < libs.n; i++) {
		r = plan_show_path(p, libs.paths[i], /* dir_ok= */ false, "library", NULL);
		if (r < 0)
			return show_error(r, "library", libs.paths[i], reterr);
	}
	return 0;
}

/* The libraries of the extension modules in STDLIB of the Python EXE (conda's _ssl.so needs
 * PREFIX/lib/libssl): the loader opens them when Python imports the module. */
static int show_ext_modules(Plan *p, const char *exe, const char *stdlib, ob_error *reterr)
{
	_cleanup_(path_list_done) PathList mods = {0};
	char dir[PATH_MAX], path[PATH_MAX * 2];
	(void)snprintf(dir, sizeof(dir), "%s/lib-dynload", stdlib);
	_cleanup_(closedirp) DIR *d = opendir(dir);
	struct dirent *de;

	while (d && mods.n < MAX_EXT_MODULES && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n < 3 || !streq(de->d_name + n - 3, ".so"))
			continue;
		(void)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		int r = path_list_add(&mods, path);
		if (r < 0)
			return r;
	}
	return mods.n ? show_libraries(p, exe, &mods, reterr) : 0;
}

/* A library directory DIR of the installation at PREFIX, shown whole: only where it lies
 * (symlinks resolved) inside PREFIX, or where the layout shows it anyway (a prefix's
 * lib/python3.X linked to /usr/lib/python3.X).  A prefix/lib/node_modules linked to any
 * other directory is not a way to that directory. */
static int show_lib_dir(Plan *p, const char *prefix, const char *dir, ob_error *reterr)
{
	char real[PATH_MAX], rprefix[PATH_MAX];

	if (!realpath(dir, real) || !realpath(prefix, rprefix))
		return 0;
	size_t n = strlen(rprefix);
	if (!(strncmp(real, rprefix, n) == 0 && real[n] == '/') && !plan_shows(p, real))
		return 0;
	int r = plan_show_path(p, dir, /* dir_ok= */ true, "interpreter prefix", NULL);
	return r < 0 ? show_error(r, "interpreter library", dir, reterr) : 0;
}

/* PREFIX/lib/python3.X (holding os.py, the landmark Python looks for) of the Python EXE. */
static int show_python_prefix(Plan *p, const char *exe, const char *prefix, ob_error *reterr)
{
	char lib[PATH_MAX], stdlib[PATH_MAX], landmark[PATH_MAX + 8];
	(void)snprintf(lib, sizeof(lib), "%s/lib", prefix);
	_cleanup_(closedirp) DIR *d = opendir(lib);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		if (!is_versioned(de->d_name, "python") && !is_versioned(de->d_name, "pypy"))
			continue;
		(void)snprintf(stdlib, sizeof(stdlib), "%s/%s", lib, de->d_name);
		(void)snprintf(landmark, sizeof(landmark), "%s/os.py", stdlib);
		if (access(landmark, F_OK) < 0)
			continue;
		bool shown = plan_shows(p, stdlib);
		int r = show_lib_dir(p, prefix, stdlib, reterr);
		if (r < 0)
			return r;
		if (!shown && plan_shows(p, stdlib) &&
		    (r = show_ext_modules(p, exe, stdlib, reterr)) < 0)
			return r;
	}
	return 0;
}

/* The installation prefix of an interpreter at REAL (symlink-free): PREFIX/bin/NAME. */
static int show_prefix(Plan *p, const char *real, ob_error *reterr)
{
	const char *name = base_name(real);
	_cleanup_free_ char *prefix = strndup(real, (size_t)(name - real - 1));

	if (!prefix)
		return -ENOMEM;
	char *bin = strrchr(prefix, '/');
	if (!bin || !streq(bin, "/bin") || bin == prefix)
		return 0;
	*bin = '\0';
	if (is_versioned(name, "python") || is_versioned(name, "pypy"))
		return show_python_prefix(p, real, prefix, reterr);
	/* the library directory of other interpreters' prefixes (nvm, rbenv, perlbrew) */
	static const char *const libdirs[][2] = {
	    {"node", "node_modules"}, {"ruby", "ruby"}, {"perl", "perl5"}};
	for (size_t i = 0; i < ELEMENTSOF(libdirs); i++) {
		char dir[PATH_MAX];
		if (!is_versioned(name, libdirs[i][0]))
			continue;
		(void)snprintf(dir, sizeof(dir), "%s/lib/%s", prefix, libdirs[i][1]);
		return access(dir, F_OK) < 0 ? 0 : show_lib_dir(p, prefix, dir, reterr);
	}
	return 0;
}

/* The value of KEY in a pyvenv.cfg line "KEY = VALUE", or NULL. */
static const char *cfg_value(char *line, const char *key)
{
	size_t n = strlen(key);
	char *s = line + strspn(line, " \t");

	if (strncmp(s, key, n) != 0)
		return NULL;
	s += n;
	s += strspn(s, " \t");
	if (*s != '=')
		return NULL;
	s++;
	s += strspn(s, " \t");
	s[strcspn(s, "\r\n")] = '\0';
	return s;
}

static int show_executable(Plan *p, const char *exe, const char *why, bool venv_ok,
                           ob_error *reterr);

/* A venv (pyvenv.cfg beside EXE's bin/): the venv directory, and the base interpreter its
 * `home` key names (a --copies venv reaches it by no symlink). */
static int show_venv(Plan *p, const char *exe, ob_error *reterr)
{
	char venv[PATH_MAX], cfg[PATH_MAX + 16], line[PATH_MAX + 16], base[PATH_MAX + 16];
	const char *name = base_name(exe);

	/* a venv's Python (its other commands are #! scripts naming it) */
	if (!is_versioned(name, "python") && !is_versioned(name, "pypy"))
		return 0;
	(void)snprintf(venv, sizeof(venv), "%.*s", (int)(name - exe - 1), exe);
	char *bin = strrchr(venv, '/');
	if (!bin || !streq(bin, "/bin") || bin == venv)
		return 0;
	*bin = '\0';
	(void)snprintf(cfg, sizeof(cfg), "%s/pyvenv.cfg", venv);
	_cleanup_(fclosep) FILE *f = fopen(cfg, "re");
	const char *home = NULL;
	while (f && !home && fgets(line, sizeof(line), f))
		home = cfg_value(line, "home");
	if (!home || home[0] != '/')
		return 0; /* every venv names its base: no such key, no venv */
	int r = plan_show_path(p, venv, /* dir_ok= */ true, "venv", NULL);
	if (r < 0)
		return show_error(r, "venv", venv, reterr);
	/* the names a base installation has its interpreter under (uv's may lack one) */
	static const char *const names[] = {"python3", "python", "pypy3"};
	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		(void)snprintf(base, sizeof(base), "%s/%s", home, names[i]);
		if (access(base, X_OK) == 0)
			return show_executable(p, base, "venv base interpreter", false, reterr);
	}
	return 0;
}

static int show_executable(Plan *p, const char *exe, const char *why, bool venv_ok,
                           ob_error *reterr)
{
	char real[PATH_MAX];

	int r = venv_ok ? show_venv(p, exe, reterr) : 0;
	if (r < 0)
		return r;
	r = plan_show_path(p, exe, /* dir_ok= */ false, why, real);
	if (r < 0)
		return show_error(r, why, exe, reterr);
	r = show_libraries(p, real, NULL, reterr);
	if (r >= 0)
		r = show_prefix(p, real, reterr);
	return r;
}

int interp_show(Plan *p, const char *exe, const char *why, ob_error *reterr)
{
	return show_executable(p, exe, why, /* venv_ok= */ true, reterr);
}

/* ---------------------------------------------------------------- naming */

/* How an interpreter's command line reads: which short options end it without a script
 * (-c CODE), which take the next word as a value, which long ones take a value. */
typedef struct InterpSyntax {
	const char *family;
	const char *short_end;
	const char *short_value;
	const char *const *long_end;
	const char *const *long_value;
} InterpSyntax;

static const char *const none[] = {NULL};
static const char *const node_end[] = {"--eval", "--print", "--version", "--help", NULL};
static const char *const node_value[] = {
    "--require", "--import", "--loader", "--experimental-loader", "--input-type", NULL};
static const char *const sh_value[] = {"--rcfile", "--init-file", NULL};
static const char *const py_end[] = {"--version", "--help", NULL};

static const InterpSyntax syntaxes[] = {
    {"python", "cm", "WX", py_end, none},      {"pypy", "cm", "WX", py_end, none},
    {"node", "ep", "r", node_end, node_value}, {"nodejs", "ep", "r", node_end, node_value},
    {"sh", "cs", "oO", none, sh_value},        {"bash", "cs", "oO", none, sh_value},
    {"dash", "cs", "o", none, none},           {"zsh", "cs", "o", none, none},
    {"perl", "eE", "IMm", none, none},         {"ruby", "e", "IrCE", none, none},
};

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (streq(*list, s))
			return true;
	return false;
}

/* The script argument after the options (from ARGV[1]) read with SYNTAX. */
static int script_after_options(const InterpSyntax *x, char *const *argv)
{
	for (int i = 1; argv[i]; i++) {
		const char *a = argv[i];
		if (streq(a, "--"))
			return argv[i + 1] ? i + 1 : -1;
		if (a[0] != '-' && !(a[0] == '+' && strchr(x->short_value, 'o')))
			return i;
		if (streq(a, "-"))
			return -1; /* stdin */
		if (a[1] == '-') {
			if (in_list(x->long_end, a))
				return -1;
			if (!strchr(a, '=') && in_list(x->long_value, a) && argv[i + 1])
				i++;
			continue;
		}
		for (const char *c = a + 1; *c; c++) {
			if (strchr(x->short_end, *c))
				return -1;
			if (strchr(x->short_value, *c)) {
				if (c[1] == '\0' && argv[i + 1])
					i++; /* "-W error": the value is the next word */
				break;
			}
		}
	}
	return -1;
}

int interp_script_arg(char *const *argv)
{
	const char *name = base_name(argv[0]);

	for (size_t i = 0; i < ELEMENTSOF(syntaxes); i++)
		if (is_versioned(name, syntaxes[i].family))
			return script_after_options(&syntaxes[i], argv);
	return -1;
}

const char *interp_for_extension(const char *name)
{
	static const char *const map[][2] = {
	    {".py", "python3"}, {".sh", "sh"}, {".js", "node"}, {".mjs", "node"}, {".cjs", "node"}};
	size_t n = strlen(name);

	for (size_t i = 0; i < ELEMENTSOF(map); i++) {
		size_t k = strlen(map[i][0]);
		if (n > k && streq(name + n - k, map[i][0]))
			return map[i][1];
	}
	return NULL;
}

bool interp_is_script_file(const char *path)
{
	static const char *const exts[] = {".py",  ".sh", ".bash", ".js", ".mjs",
	                                   ".cjs", ".ts", ".pl",   ".pm", ".rb"};
	const char *dot = strrchr(base_name(path), '.');
	char head[2];

	for (size_t i = 0; dot && i < ELEMENTSOF(exts); i++)
		if (streq(dot, exts[i]) && dot != base_name(path))
			return true;
	if (access(path, X_OK) == 0)
		return true;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	return fd >= 0 && read(fd, head, 2) == 2 && head[0] == '#' && head[1] == '!';
}
