/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writable SQLite databases (issue: DATABASE_WRITE sqlite:PATH).  SQLite keeps a rollback
 * journal (PATH-journal) or a write-ahead log and its index (PATH-wal, PATH-shm) beside the
 * database, creating and deleting them as transactions come and go.  Binding the directory
 * would expose its other files, and a private directory would lose a hot journal when the
 * program crashes (the host database would be left half-written).  So the database alone is
 * bound, and the supervisor, which traps open, unlink, access and stat (notify.c), performs
 * exactly these calls on exactly these three names in the host directory, handing opened
 * files in with SECCOMP_IOCTL_NOTIF_ADDFD.  The journal then lives where SQLite, and any
 * other process using the database, expects it.
 */
#include "plan/dbfiles.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/macro.h"

static const char *const suffixes[] = {"-journal", "-wal", "-shm"};

int dbfiles_plan(Plan *p, const char *path)
{
	for (size_t i = 0; i < p->n_dbs; i++)
		if (streq(p->dbs[i].path, path))
			return 0;
	SqliteDb *n = reallocarray(p->dbs, p->n_dbs + 1, sizeof(SqliteDb));
	if (!n)
		return -ENOMEM;
	p->dbs = n;
	p->dbs[p->n_dbs] = (SqliteDb){.path = strdup(path), .len = strlen(path), .dirfd = -1};
	if (!p->dbs[p->n_dbs].path)
		return -ENOMEM;
	p->n_dbs++;
	return 0;
}

/* Opens DIR with every component checked: no symlink may steer where the side files go. */
static int open_dir_nofollow(const char *dir)
{
	struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
	                       .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, dir, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

/* Opens (creating if missing) the database file itself, to learn its owner and mode. */
static int prepare_one(SqliteDb *db, ob_error *reterr)
{
	_cleanup_free_ char *dir = strndup(db->path, (size_t)(strrchr(db->path, '/') - db->path));
	const char *base = strrchr(db->path, '/') + 1;
	struct stat st;

	if (!dir)
		return -ENOMEM;
	db->dirfd = open_dir_nofollow(dir[0] ? dir : "/");
	if (db->dirfd < 0)
		return ob_error_set(reterr, db->dirfd,
		                    "DATABASE_WRITE:sqlite:%s: directory '%s': %s%s", db->path,
		                    dir[0] ? dir : "/", strerror(-db->dirfd),
		                    db->dirfd == -ELOOP ? " (it goes through a symlink)" : "");
	int fd =
	    openat(db->dirfd, base, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int r = fd < 0 ? -errno : -EINVAL;
		if (fd >= 0)
			(void)close(fd);
		return ob_error_set(reterr, r, "DATABASE_WRITE:sqlite:%s: %s", db->path,
		                    r == -EINVAL ? "not a regular file" : strerror(-r));
	}
	(void)close(fd);
	db->uid = st.st_uid;
	db->gid = st.st_gid;
	db->mode = st.st_mode & 0666;
	return 0;
}

int dbfiles_prepare(Plan *p, ob_error *reterr)
{
	for (size_t i = 0; i < p->n_dbs; i++) {
		int r = prepare_one(&p->dbs[i], reterr);
		if (r < 0)
			return r;
	}
	return 0;
}

void dbfiles_done(Plan *p)
{
	for (size_t i = 0; i < p->n_dbs; i++) {
		if (p->dbs[i].dirfd >= 0)
			(void)close(p->dbs[i].dirfd);
		free(p->dbs[i].path);
	}
	free(p->dbs);
	p->dbs = NULL;
	p->n_dbs = 0;
}

const SqliteDb *dbfiles_match(const Plan *p, const char *path, char *name, size_t size)
{
	for (size_t i = 0; i < p->n_dbs; i++) {
		const SqliteDb *db = &p->dbs[i];
		if (db->dirfd < 0 || strncmp(path, db->path, db->len) != 0)
			continue;
		for (size_t k = 0; k < ELEMENTSOF(suffixes); k++) {
			if (!streq(path + db->len, suffixes[k]))
				continue;
			(void)snprintf(name, size, "%s%s", strrchr(db->path, '/') + 1, suffixes[k]);
			return db;
		}
	}
	return NULL;
}

int dbfiles_open(const SqliteDb *db, const char *name, int flags)
{
	const int keep = O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC |
	                 O_SYNC | O_CLOEXEC | O_LARGEFILE;
	int base = (flags & keep & ~(O_CREAT | O_EXCL)) | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC;

	/* First without O_CREAT: an existing file keeps its owner. */
	int fd = openat(db->dirfd, name, base);
	if (fd >= 0 && (flags & O_CREAT) && (flags & O_EXCL)) {
		(void)close(fd);
		return -EEXIST;
	}
	if (fd >= 0 || errno != ENOENT || !(flags & O_CREAT))
		return fd >= 0 ? fd : -errno;
	fd = openat(db->dirfd, name, base | O_CREAT | O_EXCL, db->mode);
	if (fd < 0 && errno == EEXIST && !(flags & O_EXCL)) { /* created meanwhile by another */
		fd = openat(db->dirfd, name, base);
		return fd >= 0 ? fd : -errno;
	}
	if (fd < 0)
		return -errno;
	/* As SQLite does when it runs as root: the side file belongs to the database's owner,
	 * so that later users of the database can still write it. */
	if (geteuid() == 0)
		(void)fchown(fd, db->uid, db->gid);
	(void)fchmod(fd, db->mode);
	return fd;
}
