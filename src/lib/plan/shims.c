/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Version managers' shims (pyenv, rbenv, nodenv; asdf's and mise's are recognised and passed
 * over): a shim found on PATH cannot run inside the sandbox (it runs the manager, whose tree
 * is not there), so a name is resolved to the interpreter the shim stands for, read from the
 * same settings the manager reads, without running it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/dirent-util.h"
#include "basic/macro.h"
#include "plan/interp.h"

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static bool starts_with_shebang(int fd)
{
	char head[2];
	return fd >= 0 && pread(fd, head, 2, 0) == 2 && head[0] == '#' && head[1] == '!';
}

bool interp_is_shim(const char *path)
{
	const char *name = base_name(path);
	char real[PATH_MAX];

	if ((size_t)(name - path) < 7 || strncmp(name - 7, "/shims/", 7) != 0)
		return false;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (starts_with_shebang(fd))
		return true; /* pyenv, rbenv, nodenv, asdf */
	/* mise's shims are links to mise itself */
	return realpath(path, real) &&
	       (streq(base_name(real), "mise") || streq(base_name(real), "rtx"));
}

typedef struct Manager {
	const char *root; /* the shims directory's parent's name */
	const char *env;  /* the version variable */
	const char *file; /* the per-directory version file */
} Manager;

static const Manager managers[] = {
    {".pyenv", "PYENV_VERSION", ".python-version"},
    {".rbenv", "RBENV_VERSION", ".ruby-version"},
    {".nodenv", "NODENV_VERSION", ".node-version"},
};

/* A version name that stays inside ROOT/versions: no '/', not hidden, not empty. */
static bool valid_version(const char *v)
{
	return v && v[0] && v[0] != '.' && !strchr(v, '/') && strlen(v) < 128;
}

/* The first version named in FILE (pyenv lists several, ':' or blank separated). */
static bool read_version(const char *file, char *buf, size_t size)
{
	_cleanup_(fclosep) FILE *f = fopen(file, "re");
	char line[256];

	if (!f || !fgets(line, sizeof(line), f))
		return false;
	char *s = line + strspn(line, " \t");
	s[strcspn(s, " \t\r\n:")] = '\0';
	return valid_version(s) && snprintf(buf, size, "%s", s) < (int)size;
}

/* The version M selects: its variable, the nearest version file from the working directory
 * up, ROOT/version. */
static bool selected_version(const Manager *m, const char *root, char *buf, size_t size)
{
	char dir[PATH_MAX], file[PATH_MAX + 32];
	const char *v = getenv(m->env);

	if (v) {
		v += strspn(v, " \t");
		int n = (int)strcspn(v, " \t:");
		return n > 0 && snprintf(buf, size, "%.*s", n, v) < (int)size && valid_version(buf);
	}
	if (getcwd(dir, sizeof(dir)))
		for (;;) {
			(void)snprintf(file, sizeof(file), "%s/%s", streq(dir, "/") ? "" : dir,
			               m->file);
			if (read_version(file, buf, size))
				return true;
			char *slash = strrchr(dir, '/');
			if (!slash || streq(dir, "/"))
				break;
			slash[slash == dir] = '\0';
		}
	(void)snprintf(file, sizeof(file), "%s/version", root);
	return read_version(file, buf, size);
}

/* pyenv's prefix versions: "3.11" selects the newest 3.11.x installed.  MISSING is
 * ROOT/versions/PREFIX, which does not exist. */
static bool newest_with_prefix(const char *missing, const char *prefix, char *buf, size_t size)
{
	_cleanup_free_ char *dir = strndup(missing, (size_t)(base_name(missing) - missing));
	_cleanup_(closedirp) DIR *d = dir ? opendir(dir) : NULL;
	char best[128] = "";
	size_t n = strlen(prefix);
	struct dirent *de;

	while (d && (de = readdir(d)))
		if (strncmp(de->d_name, prefix, n) == 0 && de->d_name[n] == '.' &&
		    valid_version(de->d_name) && strverscmp(de->d_name, best) > 0)
			(void)snprintf(best, sizeof(best), "%s", de->d_name);
	return best[0] && snprintf(buf, size, "%s", best) < (int)size;
}

int interp_shim_target(const char *shim, char **ret)
{
	const char *name = base_name(shim);
	char root[PATH_MAX], version[128], target[PATH_MAX * 2];

	if (!interp_is_shim(shim))
		return 0;
	(void)snprintf(root, sizeof(root), "%.*s", (int)(name - shim - strlen("/shims/")), shim);
	const char *rname = base_name(root);
	for (size_t i = 0; i < ELEMENTSOF(managers); i++) {
		if (!streq(rname, managers[i].root))
			continue;
		if (!selected_version(&managers[i], root, version, sizeof(version)) ||
		    streq(version, "system"))
			return 0; /* "system": the next one on PATH */
		(void)snprintf(target, sizeof(target), "%s/versions/%s", root, version);
		if (access(target, F_OK) < 0 &&
		    !newest_with_prefix(target, version, version, sizeof(version)))
			return 0;
		(void)snprintf(target, sizeof(target), "%s/versions/%s/bin/%s", root, version,
		               name);
		_cleanup_close_ int fd = open(target, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0 || access(target, X_OK) < 0 || starts_with_shebang(fd))
			return 0;
		*ret = strdup(target);
		return *ret ? 1 : -ENOMEM;
	}
	return 0;
}
