/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An overlay's upper layer written back into the host directory it covered (writeback.h). */
#include "runner/writeback.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "basic/macro.h"
#include "runner/mount-api.h"

#ifndef RESOLVE_NO_XDEV
#define RESOLVE_NO_XDEV 0x01
#endif
#ifndef RESOLVE_NO_MAGICLINKS
#define RESOLVE_NO_MAGICLINKS 0x02
#endif
#ifndef RESOLVE_BENEATH
#define RESOLVE_BENEATH 0x08
#endif

static void walk_dir(Writeback *wb, int upper, int host, unsigned depth);

/* NAME (one component) beneath the host directory DIR, never through a symlink, a magic
 * link or onto another mount. */
static int open_beneath(int dir, const char *name, int flags, mode_t mode)
{
	struct ob_open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
	                          .mode = mode,
	                          .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
	                                     RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV};
	int fd = (int)syscall(SYS_openat2, dir, name, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

static void note(Writeback *wb, int r, const char *name)
{
	if (wb->error || wb->first[0])
		return;
	wb->error = r;
	(void)snprintf(wb->first, sizeof(wb->first), "%s%s%s", wb->path, wb->path[0] ? "/" : "",
	               name);
}

/* Everything inside the host directory fd DIR, removed (mount points and what is too deep
 * stay, noted). */
static void clear_dir(Writeback *wb, int dir, unsigned depth);

/* The host's entry NAME in DIR removed, whatever it is (a directory with its contents);
 * nothing for one that is not there. */
static void remove_entry(Writeback *wb, int dir, const char *name, unsigned depth)
{
	struct stat st;

	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			note(wb, -errno, name);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		_cleanup_close_ int fd = open_beneath(dir, name, O_RDONLY | O_DIRECTORY, 0);
		if (fd < 0 || depth >= WRITEBACK_MAX_DEPTH) {
			note(wb, fd < 0 ? fd : -ELOOP, name);
			return;
		}
		clear_dir(wb, fd, depth + 1);
	}
	if (unlinkat(dir, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
		note(wb, -errno, name);
	else
		wb->removed++;
}

/* Calls FN for each entry of directory DIR (but . and ..); HOST is passed on. */
static void for_each_entry(Writeback *wb, int dir, int host, unsigned depth,
                           void (*fn)(Writeback *, int, int, const char *, unsigned))
{
	DIR *d = fdopendir(fcntl(dir, F_DUPFD_CLOEXEC, 3));
	struct dirent *de;

	if (!d) {
		note(wb, -errno, ".");
		return;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			fn(wb, dir, host, de->d_name, depth);
	(void)closedir(d);
}

static void remove_in(Writeback *wb, int dir, int host, const char *name, unsigned depth)
{
	(void)host;
	remove_entry(wb, dir, name, depth);
}

static void clear_dir(Writeback *wb, int dir, unsigned depth)
{
	for_each_entry(wb, dir, -1, depth, remove_in);
}

static int copy_data(int from, int to)
{
	char buf[65536];

	for (;;) {
		ssize_t n = copy_file_range(from, NULL, to, NULL, SIZE_MAX >> 2, 0);
		if (n == 0)
			return 0;
		if (n > 0)
			continue;
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
			return -errno;
		break; /* copy_file_range cannot between these file systems: by hand */
	}
	for (;;) {
		ssize_t n = read(from, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : 0;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(to, buf + off, (size_t)(n - off));
			if (w < 0 && errno != EINTR)
				return -errno;
			off += w > 0 ? w : 0;
		}
	}
}

/* A new host entry is the caller's (run as root; rootless it is the writer's already). */
static int own(const Writeback *wb, int fd)
{
	if (wb->uid == (uid_t)-1)
		return 0;
	return fchown(fd, wb->uid, wb->gid) < 0 ? -errno : 0;
}

/* The host's file NAME: the existing regular file opened for rewriting in place, else
 * whatever is there removed and a new file made. */
static int open_host_file(Writeback *wb, int host, const char *name, mode_t mode, bool *made)
{
	struct stat st;

	*made = false;
	if (fstatat(host, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
		/* O_NONBLOCK: should a FIFO have been put there since the look, the open does not
		 * wait for a reader; what is not a regular file is refused below */
		int fd = open_beneath(host, name, O_WRONLY | O_NONBLOCK | O_NOCTTY, 0);
		if (fd < 0)
			return fd;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || ftruncate(fd, 0) < 0) {
			(void)close(fd);
			return -EPERM;
		}
		return fd;
	}
	remove_entry(wb, host, name, 0);
	*made = true;
	return open_beneath(host, name, O_WRONLY | O_CREAT | O_EXCL, mode);
}

/* NAME in the layer opened with FLAGS; a mode that shuts its owner out (0000, 0200: the
 * program's to choose) is opened up first, the layer being the supervisor's by now (rootless
 * it is not root, so the mode applies to it). */
static int open_layer(int upper, const char *name, int flags, const struct stat *st)
{
	int fd = openat(upper, name, flags | O_NOFOLLOW | O_CLOEXEC);
	mode_t need = S_ISDIR(st->st_mode) ? S_IRUSR | S_IXUSR : S_IRUSR;
	if (fd >= 0 || errno != EACCES ||
	    fchmodat(upper, name, (st->st_mode & 07777) | need, 0) < 0)
		return fd;
	return openat(upper, name, flags | O_NOFOLLOW | O_CLOEXEC);
}

static void copy_file(Writeback *wb, int upper, int host, const char *name, const struct stat *st)
{
	_cleanup_close_ int from = open_layer(upper, name, O_RDONLY, st);
	if (from < 0) {
		note(wb, -errno, name);
		return;
	}
	bool made;
	_cleanup_close_ int to = open_host_file(wb, host, name, 0600, &made);
	int r = to < 0 ? to : 0;
	if (r >= 0 && made)
		r = own(wb, to);
	if (r >= 0)
		r = copy_data(from, to);
	/* permission bits only: never set-user-ID or set-group-ID on the host (root's write
	 * keeps them, CAP_FSETID); unchanged ones are left alone (another's file, rootless) */
	struct stat now;
	if (r >= 0 && fstat(to, &now) < 0)
		r = -errno;
	if (r >= 0 && (now.st_mode & 07777) != (st->st_mode & 0777) &&
	    fchmod(to, st->st_mode & 0777) < 0)
		r = -errno;
	if (r < 0) {
		note(wb, r, name);
		return;
	}
	/* the times a build tool compares; refused (EPERM) on a file of another owner */
	(void)futimens(to, (struct timespec[]){st->st_atim, st->st_mtim});
	wb->written++;
}

static void copy_symlink(Writeback *wb, int upper, int host, const char *name)
{
	char target[PATH_MAX];

	ssize_t n = readlinkat(upper, name, target, sizeof(target) - 1);
	if (n < 0) {
		note(wb, -errno, name);
		return;
	}
	target[n] = '\0';
	/* the link is made, never followed: where it points is no business of the write-back */
	remove_entry(wb, host, name, 0);
	if (symlinkat(target, host, name) < 0 ||
	    (wb->uid != (uid_t)-1 &&
	     fchownat(host, name, wb->uid, wb->gid, AT_SYMLINK_NOFOLLOW) < 0)) {
		note(wb, -errno, name);
		return;
	}
	wb->written++;
}

/* The overlay made the directory anew where the host had something (user.overlay.opaque
 * "y"): what the host had under it is gone. */
static bool is_opaque(int fd)
{
	char v[2];
	return fgetxattr(fd, "user.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y';
}

/* The host's directory NAME, made if needed (what else is there removed); emptied first
 * when the layer's is opaque. */
static int open_host_dir(Writeback *wb, int host, const char *name, bool opaque, unsigned depth,
                         bool *made)
{
	struct stat st;

	*made = false;
	if (fstatat(host, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
		int fd = open_beneath(host, name, O_RDONLY | O_DIRECTORY, 0);
		if (fd >= 0 && opaque)
			clear_dir(wb, fd, depth + 1);
		return fd;
	}
	remove_entry(wb, host, name, depth);
	if (mkdirat(host, name, 0700) < 0)
		return -errno;
	*made = true;
	return open_beneath(host, name, O_RDONLY | O_DIRECTORY, 0);
}

static void copy_dir(Writeback *wb, int upper, int host, const char *name, const struct stat *st,
                     unsigned depth)
{
	if (depth >= WRITEBACK_MAX_DEPTH) {
		note(wb, -ELOOP, name);
		wb->skipped++;
		return;
	}
	_cleanup_close_ int from = open_layer(upper, name, O_RDONLY | O_DIRECTORY, st);
	if (from < 0) {
		note(wb, -errno, name);
		return;
	}
	bool made;
	_cleanup_close_ int to = open_host_dir(wb, host, name, is_opaque(from), depth, &made);
	int r = to < 0 ? to : 0;
	if (r >= 0 && made)
		r = own(wb, to);
	if (r < 0) {
		note(wb, r, name);
		return;
	}
	size_t len = strlen(wb->path);
	(void)snprintf(wb->path + len, sizeof(wb->path) - len, "%s%s", len ? "/" : "", name);
	walk_dir(wb, from, to, depth + 1);
	wb->path[len] = '\0';
	/* a directory the layer only holds for what is under it has the host's mode already;
	 * a changed one is applied (its sticky bit too), never set-group-ID */
	struct stat now;
	if (fstat(to, &now) == 0 && (now.st_mode & 01777) != (st->st_mode & 01777) &&
	    fchmod(to, st->st_mode & 01777) < 0)
		note(wb, -errno, name);
	if (made)
		(void)futimens(to, (struct timespec[]){st->st_atim, st->st_mtim});
	wb->written++;
}

static void copy_entry(Writeback *wb, int upper, int host, const char *name, unsigned depth)
{
	struct stat st;

	if (fstatat(upper, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		note(wb, -errno, name);
		return;
	}
	if (S_ISCHR(st.st_mode) && st.st_rdev == 0) /* a whiteout: removed in the sandbox */
		remove_entry(wb, host, name, depth);
	else if (S_ISREG(st.st_mode))
		copy_file(wb, upper, host, name, &st);
	else if (S_ISDIR(st.st_mode))
		copy_dir(wb, upper, host, name, &st, depth);
	else if (S_ISLNK(st.st_mode))
		copy_symlink(wb, upper, host, name);
	else if (!S_ISSOCK(st.st_mode)) {
		/* devices, FIFOs: nothing the program may leave on the host (a socket is left
		 * behind by whatever listened: gone with it, as always) */
		note(wb, 0, name);
		wb->skipped++;
	}
}

static void walk_dir(Writeback *wb, int upper, int host, unsigned depth)
{
	for_each_entry(wb, upper, host, depth, copy_entry);
}

void writeback_tree(int upper, int host, Writeback *wb)
{
	wb->path[0] = '\0';
	walk_dir(wb, upper, host, 0);
}
