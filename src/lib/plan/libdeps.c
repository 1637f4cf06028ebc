/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The shared objects a program needs, found like glibc's dynamic loader finds them
 * (ld.so(8)), without running anything: a Python or a toolchain under a home directory has
 * its libraries beside it (RUNPATH $ORIGIN/../lib), which the sandbox must show file by file.
 * The loader's cache (/etc/ld.so.cache) is not read: the directories it was built from
 * (/etc/ld.so.conf and its includes) are searched instead, which finds the same files unless
 * the cache is stale.
 */
#include "plan/libdeps.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/macro.h"
#include "plan/elf.h"

#define LDCONF_MAX_DIRS  64
#define LDCONF_MAX_DEPTH 4

int path_list_add(PathList *l, const char *path)
{
	for (size_t i = 0; i < l->n; i++)
		if (streq(l->paths[i], path))
			return 0;
	if (l->n >= LIBDEPS_MAX_OBJECTS)
		return -E2BIG;
	char **n = reallocarray(l->paths, l->n + 1, sizeof(char *));
	if (!n)
		return -ENOMEM;
	l->paths = n;
	l->paths[l->n] = strdup(path);
	if (!l->paths[l->n])
		return -ENOMEM;
	l->n++;
	return 1;
}

void path_list_done(PathList *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->paths[i]);
	free(l->paths);
	*l = (PathList){0};
}

/* The directories of one ld.so.conf file: one absolute path a line, "include GLOB" lines
 * followed (bounded), comments and "hwcap" lines skipped. */
static void ldconf_read(const char *file, PathList *dirs, unsigned depth)
{
	_cleanup_(fclosep) FILE *f = depth < LDCONF_MAX_DEPTH ? fopen(file, "re") : NULL;
	char line[PATH_MAX];

	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "#\n")] = '\0';
		char *s = line + strspn(line, " \t");
		if (strncmp(s, "include", 7) == 0 && (s[7] == ' ' || s[7] == '\t')) {
			glob_t g;
			char *pat = s + 7 + strspn(s + 7, " \t");
			pat[strcspn(pat, " \t")] = '\0';
			if (glob(pat, 0, NULL, &g) == 0)
				for (size_t i = 0; i < g.gl_pathc; i++)
					ldconf_read(g.gl_pathv[i], dirs, depth + 1);
			globfree(&g);
			continue;
		}
		s[strcspn(s, " \t=:,")] = '\0'; /* old "DIR=TYPE" lines name DIR */
		if (s[0] == '/' && dirs->n < LDCONF_MAX_DIRS)
			(void)path_list_add(dirs, s);
	}
}

/* One object to look into: the path the loader opens, the directory $ORIGIN names. */
typedef struct Object {
	char *path;
	char *origin;
} Object;

typedef struct Search {
	PathList dirs; /* ld.so.conf's, then the defaults */
	ElfInfo exe;   /* the program: its RPATH applies to its libraries too */
	char exe_origin[PATH_MAX];
	PathList done; /* objects already looked into */
	/* what the system directories gave for a name (path NULL: nothing), for objects of
	 * the program's kind: a Python's dozens of modules all need libc */
	struct {
		char *name, *path;
	} sys[LIBDEPS_MAX_OBJECTS];
	size_t n_sys;
	PathList *out;
} Search;

/* Is the ELF file at PATH one the loader would take for an object of INFO's kind? */
static bool compatible(const char *path, const ElfInfo *want)
{
	ElfInfo info;
	if (access(path, R_OK) < 0 || elf_parse_file(path, /* kind_only= */ true, &info) < 0)
		return false;
	bool ok = info.elf_class == want->elf_class && info.machine == want->machine;
	elf_info_done(&info);
	return ok;
}

/* Looks for NAME in each directory of the ':'-separated LIST ($ORIGIN: ORIGIN). */
static bool search_list(const char *list, const char *origin, const char *name, const ElfInfo *want,
                        char *buf, size_t size)
{
	char expanded[PATH_MAX * 2];

	if (!list || elf_expand_origin(list, origin, expanded, sizeof(expanded)) < 0)
		return false;
	for (char *p = expanded; *p;) {
		char *e = strchrnul(p, ':');
		int n = snprintf(buf, size, "%.*s/%s", (int)(e - p), p, name);
		if (e > p && n > 0 && (size_t)n < size && buf[0] == '/' && compatible(buf, want))
			return true;
		p = *e ? e + 1 : e;
	}
	return false;
}

/* NAME in the system's directories (ld.so.conf's, then the defaults). */
static bool search_system(Search *s, const char *name, const ElfInfo *info, char *buf, size_t size)
{
	bool cacheable = info->elf_class == s->exe.elf_class && info->machine == s->exe.machine;

	for (size_t i = 0; cacheable && i < s->n_sys; i++)
		if (streq(s->sys[i].name, name))
			return s->sys[i].path &&
			       snprintf(buf, size, "%s", s->sys[i].path) < (int)size;
	bool found = false;
	for (size_t i = 0; !found && i < s->dirs.n; i++)
		found = search_list(s->dirs.paths[i], "", name, info, buf, size);
	if (cacheable && s->n_sys < ELEMENTSOF(s->sys)) {
		char *n = strdup(name), *f = found ? strdup(buf) : NULL;
		if (n && (f || !found)) /* else not remembered: looked up again */
			s->sys[s->n_sys++] = (typeof(s->sys[0])){.name = n, .path = f};
		else {
			free(n);
			free(f);
		}
	}
	return found;
}

/* Where the loader finds NAME, needed by the object OBJ (parsed: INFO). */
static bool find_library(Search *s, const Object *obj, const ElfInfo *info, const char *name,
                         char *buf, size_t size)
{
	if (strchr(name, '/')) {
		int n = snprintf(buf, size, "%s", name);
		return name[0] == '/' && n > 0 && (size_t)n < size && compatible(buf, info);
	}
	/* ld.so(8): DT_RPATH only when there is no DT_RUNPATH, the object's then the
	 * program's; then DT_RUNPATH (LD_LIBRARY_PATH is not passed into the sandbox) */
	if (!info->runpath && search_list(info->rpath, obj->origin, name, info, buf, size))
		return true;
	if (!info->runpath && !s->exe.runpath &&
	    search_list(s->exe.rpath, s->exe_origin, name, info, buf, size))
		return true;
	if (search_list(info->runpath, obj->origin, name, info, buf, size))
		return true;
	return search_system(s, name, info, buf, size);
}

static int visit(Search *s, const char *path);

/* The libraries INFO (of the object at PATH) needs, each added and visited. */
static int visit_needed(Search *s, const char *path, const ElfInfo *info)
{
	_cleanup_free_ char *origin = strndup(path, (size_t)(strrchr(path, '/') - path));
	char found[PATH_MAX];

	if (!origin)
		return -ENOMEM;
	Object obj = {.path = (char *)path, .origin = origin};
	for (size_t i = 0; i < info->n_needed; i++) {
		if (!find_library(s, &obj, info, info->needed[i], found, sizeof(found)))
			continue; /* the loader inside will name it */
		int r = path_list_add(s->out, found);
		if (r > 0) /* new: what it needs is not known yet */
			r = visit(s, found);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Looks into the object at PATH (absolute) once. */
static int visit(Search *s, const char *path)
{
	char real[PATH_MAX];
	ElfInfo info;

	if (!realpath(path, real))
		return 0;
	for (size_t i = 0; i < s->done.n; i++)
		if (streq(s->done.paths[i], real))
			return 0;
	int r = path_list_add(&s->done, real);
	if (r < 0)
		return r;
	r = elf_parse_file(real, /* kind_only= */ false, &info);
	if (r < 0)
		return r == -EBADMSG ? r : 0; /* not ELF, unreadable: nothing to follow */
	if (info.interp && info.interp[0] == '/')
		r = path_list_add(s->out, info.interp);
	if (r >= 0)
		r = visit_needed(s, path, &info);
	elf_info_done(&info);
	return r;
}

int libdeps_collect(const char *exe, const PathList *more, PathList *out)
{
	static const char *const defaults[] = {"/lib64", "/usr/lib64", "/lib", "/usr/lib"};
	Search s = {.out = out};
	char real[PATH_MAX];

	if (!realpath(exe, real) || elf_parse_file(real, /* kind_only= */ false, &s.exe) < 0)
		return 0; /* a script, or nothing: the caller deals with it */
	/* glibc takes the program's $ORIGIN from /proc/self/exe: its real path */
	(void)snprintf(s.exe_origin, sizeof(s.exe_origin), "%.*s", (int)(strrchr(real, '/') - real),
	               real);
	ldconf_read("/etc/ld.so.conf", &s.dirs, 0);
	int r = 0;
	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(defaults); i++)
		r = path_list_add(&s.dirs, defaults[i]);
	if (r >= 0)
		r = visit(&s, real);
	/* what the program loads itself: looked into with the same search, each library once */
	for (size_t i = 0; r >= 0 && more && i < more->n; i++)
		r = visit(&s, more->paths[i]);
	for (size_t i = 0; i < s.n_sys; i++) {
		free(s.sys[i].name);
		free(s.sys[i].path);
	}
	elf_info_done(&s.exe);
	path_list_done(&s.dirs);
	path_list_done(&s.done);
	return r;
}
