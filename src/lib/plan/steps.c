/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plan's mount steps, added one at a time (plan.c, program.c). */
#include "plan/steps.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/dirent-util.h"
#include "basic/macro.h"

#define PLAN_MAX_STEPS 4096

const char *const plan_runtime_dirs[] = {"/usr",   "/bin",   "/sbin",  "/lib",
                                         "/lib64", "/lib32", "/libx32"};
const size_t plan_n_runtime_dirs = ELEMENTSOF(plan_runtime_dirs);

bool plan_under_runtime(const char *path)
{
	for (size_t i = 0; i < plan_n_runtime_dirs; i++) {
		size_t n = strlen(plan_runtime_dirs[i]);
		if (strncmp(path, plan_runtime_dirs[i], n) == 0 &&
		    (path[n] == '/' || path[n] == '\0'))
			return true;
	}
	return false;
}

int plan_add(Plan *p, StepKind kind, const char *src, const char *dest, const char *data,
             unsigned long flags, const char *why)
{
	if (p->n_steps >= PLAN_MAX_STEPS)
		return -E2BIG;
	if (p->n_steps == p->alloc) {
		size_t na = p->alloc ? p->alloc * 2 : 64;
		MountStep *n = reallocarray(p->steps, na, sizeof(MountStep));
		if (!n)
			return -ENOMEM;
		p->steps = n;
		p->alloc = na;
	}
	MountStep *s = &p->steps[p->n_steps];
	*s = (MountStep){.kind = kind, .flags = flags, .why = why, .tree_fd = -1};
	s->src = src ? strdup(src) : NULL;
	s->dest = strdup(dest);
	s->data = data ? strdup(data) : NULL;
	if ((src && !s->src) || !s->dest || (data && !s->data)) {
		free(s->src);
		free(s->dest);
		free(s->data);
		return -ENOMEM;
	}
	p->n_steps++;
	return 0;
}

/* A bind of host path SRC at the same path, if it exists; symlinks become symlinks. */
int plan_bind_same(Plan *p, const char *src, bool ro, const char *why)
{
	struct stat st;
	char target[PATH_MAX];

	if (lstat(src, &st) < 0)
		return 0; /* nothing to show */
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlink(src, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		return plan_add(p, STEP_SYMLINK, target, src, NULL, 0, why);
	}
	int r = plan_add(p, STEP_BIND, src, src, NULL, MS_NOSUID | MS_NODEV | (ro ? MS_RDONLY : 0),
	                 why);
	if (r >= 0) {
		p->steps[p->n_steps - 1].src_is_dir = S_ISDIR(st.st_mode);
		p->steps[p->n_steps - 1].recursive = true;
	}
	return r;
}

void plan_mark_idmap(Plan *p, size_t from)
{
	for (size_t i = from; i < p->n_steps; i++)
		p->steps[i].idmap = p->steps[i].kind == STEP_BIND && !p->steps[i].src_inside;
}

/* Not taken from the host: what the sandbox mounts of its own (/proc, /dev, /tmp), the
 * workdir's place, and /run: the host's sockets and runtime state (pid files, other
 * programs' mounts that come and go), where the sandbox's /run/secrets goes. */
static bool host_root_shows(const char *name)
{
	static const char *const own[] = {".", "..", "proc", "dev", "tmp", "workspace", "run"};

	for (size_t i = 0; i < ELEMENTSOF(own); i++)
		if (streq(name, own[i]))
			return false;
	return true;
}

/* A bind of "/" itself would leave no room for mount points the host lacks (/workspace,
 * /run/secrets: EROFS on the read-only root of mode rx), so each top-level entry is bound
 * on the sandbox's root instead: directories recursively, symlinks as symlinks. */
int plan_host_root(Plan *p, bool ro)
{
	_cleanup_(closedirp) DIR *d = opendir("/");
	struct dirent *de;
	int r = 0;

	if (!d)
		return -errno;
	while (r >= 0 && (de = readdir(d))) {
		char path[NAME_MAX + 2];
		if (!host_root_shows(de->d_name))
			continue;
		(void)snprintf(path, sizeof(path), "/%s", de->d_name);
		r = plan_bind_same(p, path, ro, PLAN_HOST_ROOT_WHY);
	}
	return r;
}
