/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Showing a host file inside the sandbox at its own path, as the program will reach it:
 * through the same symlinks (a venv's bin/python -> python3 -> /usr/bin/python3.11, a
 * library's libfoo.so.1 -> libfoo.so.1.2), ending at the one file bound read-only.  Binds
 * open their source without following symlinks (runner/spawn.c), so every link is made a
 * symlink step and only symlink-free paths are bound.
 */
#include "plan/visible.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/macro.h"
#include "model/pattern.h"
#include "plan/steps.h"

#define MAX_SYMLINKS 40 /* the kernel's own limit on one path walk */

static bool is_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (streq(dir, "/"))
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

bool plan_shows(const Plan *p, const char *path)
{
	const MountStep *best = NULL;
	size_t best_len = 0;

	/* the deepest step above PATH decides; of two at one place, the later */
	for (size_t i = 0; i < p->n_steps; i++) {
		const MountStep *s = &p->steps[i];
		size_t n = strlen(s->dest);
		if (is_under(path, s->dest) && (!best || n >= best_len)) {
			best = s;
			best_len = n;
		}
	}
	if (!best)
		return false; /* mode sandbox's empty root */
	if (best->kind == STEP_SYMLINK)
		return streq(best->dest, path);
	if (best->kind != STEP_BIND || best->src_inside || !streq(best->src, best->dest))
		return false;
	return streq(best->dest, path) || best->src_is_dir;
}

static bool same_dir(const char *a, const char *b)
{
	char x[PATH_MAX], y[PATH_MAX];

	return a && b && path_normalize(a, strlen(a), "/", true, false, x, sizeof(x), NULL) >= 0 &&
	       path_normalize(b, strlen(b), "/", true, false, y, sizeof(y), NULL) >= 0 &&
	       streq(x, y);
}

bool path_is_home_or_root(const char *path)
{
	static const char *const home_parents[] = {"/home", "/var/home", "/usr/home"};
	const char *slash = strrchr(path, '/');

	if (streq(path, "/") || streq(path, "/root"))
		return true;
	for (size_t i = 0; slash && i < ELEMENTSOF(home_parents); i++) {
		size_t n = strlen(home_parents[i]);
		if (streq(path, home_parents[i]) ||
		    ((size_t)(slash - path) == n && strncmp(path, home_parents[i], n) == 0))
			return true;
	}
	if (same_dir(path, getenv("HOME")))
		return true;
	const struct passwd *pw = getpwuid(getuid()); /* last: it reads the passwd database */
	return pw && same_dir(path, pw->pw_dir);
}

/* Binds the symlink-free PATH at its own path (read-only), if P does not show it yet. */
static int show_real(Plan *p, const char *path, bool dir_ok, const char *why)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode) && !dir_ok)
		return -EISDIR;
	if (plan_shows(p, path))
		return 0;
	if (path_is_home_or_root(path))
		return -EPERM;
	size_t from = p->n_steps;
	int r = plan_bind_same(p, path, /* ro= */ true, why);
	if (r >= 0)
		plan_mark_idmap(p, from);
	return r;
}

/* Run as root in modes rx and rwx, the program's identity is no host user's (SPEC §2.4): a
 * directory of the host tree that others may not search (root's 0700 home, where pyenv put
 * the interpreter) hides what the program needs below it.  An empty tmpfs over it hides
 * nothing the program could reach, and takes the binds of the files it needs. */
static int cover_unsearchable(Plan *p, const char *dir)
{
	struct stat st;

	if (!p->id_base || p->mode == OB_MODE_SANDBOX || streq(dir, "/") || stat(dir, &st) < 0 ||
	    !S_ISDIR(st.st_mode) || (st.st_mode & S_IXOTH) || !plan_shows(p, dir))
		return 0;
	return plan_add(p, STEP_TMPFS, NULL, dir, "mode=0755,size=64k", MS_NOSUID | MS_NODEV,
	                "unsearchable for the sandbox");
}

int plan_show_path(Plan *p, const char *path, bool dir_ok, const char *why, char *ret_real)
{
	char cur[PATH_MAX], next[PATH_MAX], target[PATH_MAX];
	unsigned links = 0;

	if (path_normalize(path, strlen(path), NULL, true, false, cur, sizeof(cur), NULL) < 0)
		return -EINVAL;
	/* walk component by component; at a symlink, start over on what it names */
	for (size_t at = 1; cur[at - 1] != '\0';) {
		size_t end = at + strcspn(cur + at, "/");
		char saved = cur[end];
		struct stat st;
		cur[end] = '\0';
		if (lstat(cur, &st) < 0)
			return -errno;
		int r = saved && S_ISDIR(st.st_mode) ? cover_unsearchable(p, cur) : 0;
		if (r < 0)
			return r;
		if (!S_ISLNK(st.st_mode)) {
			cur[end] = saved;
			at = end + 1;
			continue;
		}
		if (++links > MAX_SYMLINKS)
			return -ELOOP;
		ssize_t n = readlink(cur, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		r = plan_shows(p, cur) ? 0 : plan_add(p, STEP_SYMLINK, target, cur, NULL, 0, why);
		if (r < 0)
			return r;
		/* the link's directory is symlink-free: TARGET is relative to it */
		char *slash = strrchr(cur, '/');
		*slash = '\0';
		int k = snprintf(next, sizeof(next), "%s/%s%s%s", target[0] == '/' ? "" : cur,
		                 target, saved ? "/" : "", saved ? cur + end + 1 : "");
		if (k < 0 || (size_t)k >= sizeof(next) ||
		    path_normalize(next, (size_t)k, NULL, true, false, cur, sizeof(cur), NULL) < 0)
			return -ENAMETOOLONG;
		at = 1;
	}
	if (ret_real)
		memcpy(ret_real, cur, strlen(cur) + 1);
	return show_real(p, cur, dir_ok, why);
}
