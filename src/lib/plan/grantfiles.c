/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Grants against the host's file system. A FILE_WRITE grant of a file that does not exist yet
 * cannot be a bind (there is nothing to bind) and binding its directory would expose the
 * siblings. So the supervisor creates the file empty in its host directory at launch, opened
 * through a directory fd that no symlink led to and with O_EXCL|O_NOFOLLOW, and binds that
 * one file; the grant's id map shows it as the program's. If the program never touches it,
 * it is removed again at the end, so "the program may create it" leaves nothing behind when
 * it did not.
 */
#include "plan/grantfiles.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "plan/steps.h"

int plan_warn(Plan *p, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	char **n = reallocarray(p->warnings, p->n_warnings + 1, sizeof(char *));
	if (!n)
		return -ENOMEM;
	p->warnings = n;
	va_start(ap, fmt);
	int k = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (k < 0)
		return -ENOMEM;
	p->warnings[p->n_warnings++] = s;
	return 0;
}

/* The directory part of PATH ("/" for "/x"), in BUF. */
static const char *dir_of(const char *path, char buf[PATH_MAX])
{
	size_t n = (size_t)(strrchr(path, '/') - path);
	memcpy(buf, path, n);
	buf[n ? n : 1] = '\0';
	if (n == 0)
		buf[0] = '/';
	return buf;
}

int grantfiles_plan_new(Plan *p, const char *path, const char *why, ob_error *reterr)
{
	char dir[PATH_MAX], real[PATH_MAX];
	struct stat st;

	dir_of(path, dir);
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return plan_warn(
		    p,
		    "grant FILE_WRITE:%s matches nothing on the host: its directory %s "
		    "does not exist",
		    why, dir);
	if (!realpath(dir, real) || !streq(real, dir))
		return ob_error_set(
		    reterr, -ELOOP,
		    "grant FILE_WRITE:%s: '%s' goes through a symlink; grant the path "
		    "it resolves to instead",
		    why, dir);
	NewFile *n = reallocarray(p->new_files, p->n_new_files + 1, sizeof(NewFile));
	if (!n)
		return -ENOMEM;
	p->new_files = n;
	p->new_files[p->n_new_files] = (NewFile){.path = strdup(path)};
	if (!p->new_files[p->n_new_files].path)
		return -ENOMEM;
	p->n_new_files++;
	int r = plan_add(p, STEP_BIND, path, path, NULL, MS_NOSUID | MS_NODEV, why);
	if (r >= 0)
		p->steps[p->n_steps - 1].recursive = true;
	return r;
}

/* Opens DIR with no symlink on the way (where the file goes must not be steered). */
static int open_dir_nofollow(const char *dir)
{
	struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
	                       .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, dir, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

static int create_one(NewFile *f, ob_error *reterr)
{
	char dir[PATH_MAX];
	struct stat st;
	const char *base = strrchr(f->path, '/') + 1;

	_cleanup_close_ int dfd = open_dir_nofollow(dir_of(f->path, dir));
	if (dfd < 0)
		return ob_error_set(reterr, dfd, "FILE_WRITE:%s: directory '%s': %s", f->path, dir,
		                    strerror(-dfd));
	_cleanup_close_ int fd = openat(
	    dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0666);
	if (fd < 0 && errno != EEXIST)
		return ob_error_set(reterr, -errno, "FILE_WRITE:%s: creating it: %s", f->path,
		                    strerror(errno));
	/* made meanwhile (by whom?): bound only if it is a plain file, not a link or a device */
	if (fd < 0 && (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode)))
		return ob_error_set(reterr, -ELOOP, "FILE_WRITE:%s: appeared as other than a file",
		                    f->path);
	if (fd >= 0 && fstat(fd, &st) == 0)
		*f = (NewFile){.path = f->path,
		               .made = true,
		               .dev = st.st_dev,
		               .ino = st.st_ino,
		               .mtime = st.st_mtim};
	return 0;
}

int grantfiles_prepare(Plan *p, ob_error *reterr)
{
	for (size_t i = 0; i < p->n_new_files; i++) {
		int r = create_one(&p->new_files[i], reterr);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool as_made(const NewFile *f, const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_size == 0 && st->st_dev == f->dev &&
	       st->st_ino == f->ino && st->st_mtim.tv_sec == f->mtime.tv_sec &&
	       st->st_mtim.tv_nsec == f->mtime.tv_nsec;
}

void grantfiles_cleanup(Plan *p)
{
	for (size_t i = 0; i < p->n_new_files; i++) {
		NewFile *f = &p->new_files[i];
		char dir[PATH_MAX];
		struct stat st;
		const char *base = strrchr(f->path, '/') + 1;
		if (!f->made)
			continue;
		f->made = false;
		_cleanup_close_ int dfd = open_dir_nofollow(dir_of(f->path, dir));
		if (dfd >= 0 && fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    as_made(f, &st))
			(void)unlinkat(dfd, base, 0);
	}
}

void grantfiles_done(Plan *p)
{
	for (size_t i = 0; i < p->n_warnings; i++)
		free(p->warnings[i]);
	free(p->warnings);
	p->warnings = NULL;
	p->n_warnings = 0;
	for (size_t i = 0; i < p->n_new_files; i++)
		free(p->new_files[i].path);
	free(p->new_files);
	p->new_files = NULL;
	p->n_new_files = 0;
}

void grantfiles_to_json(const Plan *p, json_t *o)
{
	json_t *w = json_array(), *n = json_array();

	for (size_t i = 0; i < p->n_warnings; i++)
		(void)json_array_append_new(w, json_string(p->warnings[i]));
	for (size_t i = 0; i < p->n_new_files; i++)
		(void)json_array_append_new(n, json_string(p->new_files[i].path));
	(void)json_object_set_new(o, "warnings", w);
	(void)json_object_set_new(o, "new_files", n);
}
