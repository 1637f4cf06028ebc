/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Learning mode, the notifier's side (learn.h): every trapped open is recorded, and an open
 * that the learning layout would refuse is given what a grant would give, without touching
 * the host — a read gets the host file, opened read-only by the supervisor; a write gets a
 * scratch copy (a memfd, filled with the host file's bytes unless truncated), which later
 * opens of the same path find again. The program's writes never reach the host's files.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/macro.h"
#include "runner/learn.h"
#include "runner/notify.h"

/* The old path calls exist on x86_64 only; elsewhere a number no call has. */
#ifdef __NR_stat
#define LEARN_NR_STAT   __NR_stat
#define LEARN_NR_LSTAT  __NR_lstat
#define LEARN_NR_ACCESS __NR_access
#else
#define LEARN_NR_STAT   0xffffb
#define LEARN_NR_LSTAT  0xffffa
#define LEARN_NR_ACCESS 0xffffc
#endif

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

/* The sandbox's own places: what the program does there needs no grant, unless the sandbox
 * hid a host file there (a refused open of a host /tmp file is a grant to learn). */
static bool is_sandbox_own(const char *path)
{
	static const char *const own[] = {"/tmp", "/workspace", "/run/secrets", "/dev/shm"};

	for (size_t i = 0; i < ELEMENTSOF(own); i++)
		if (path_under(path, own[i]))
			return true;
	return false;
}

/* Records the open of PATH (as the sandbox judged it) for writing with WRITE; REFUSED: the
 * learning layout would have refused it. Probes of files the host lacks are not needs. */
static void note_open(Learn *l, const char *path, bool write, bool refused)
{
	struct stat st;

	if (path_under(path, "/proc") || path_under(path, "/dev") || path_under(path, "/sys"))
		return;                                     /* the sandbox's own, never granted */
	if (!refused && path_under(path, "/run/secrets")) { /* a secret read: its name */
		const char *name = path + strlen("/run/secrets/");
		for (char **s = l->secrets; path[strlen("/run/secrets")] && s && *s; s++)
			if (streq(*s, name))
				learn_note(l, OB_CAP_SECRET_ACCESS, name, 0);
		return;
	}
	if (!refused && is_sandbox_own(path))
		return;
	if (write) /* a new file included: learn_note finds its directory */
		learn_note(l, OB_CAP_FILE_WRITE, path, 0);
	else if (stat(path, &st) == 0) /* else a probe of what the host lacks: not a need */
		learn_note(l, OB_CAP_FILE_READ, path, S_ISDIR(st.st_mode) ? LEARN_LISTED : 0);
}

static Scratch *scratch_find(Learn *l, const char *path)
{
	for (size_t i = 0; i < l->n_scratch; i++)
		if (streq(l->scratch[i].path, path))
			return &l->scratch[i];
	return NULL;
}

/* A memfd holding the host file at PATH (empty when TRUNCATE or when there is none). The
 * copies together stay within the sandbox's tmpfs limit. */
static int scratch_fill(Learn *l, const char *path, bool truncate)
{
	struct stat st;
	int fd = memfd_create("omnibase-learn", MFD_CLOEXEC | MFD_NOEXEC_SEAL);

	if (fd < 0 && errno == EINVAL) /* before Linux 6.3 */
		fd = memfd_create("omnibase-learn", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	_cleanup_close_ int src = truncate ? -1 : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (src < 0 || fstat(src, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
		return fd;
	if ((uint64_t)st.st_size > l->scratch_max - MIN(l->scratch_bytes, l->scratch_max)) {
		(void)close(fd);
		return -ENOSPC;
	}
	for (off_t off = 0; off < st.st_size;) {
		ssize_t k = sendfile(fd, src, &off, (size_t)(st.st_size - off));
		if (k <= 0) {
			(void)close(fd);
			return k < 0 ? -errno : -EIO;
		}
	}
	l->scratch_bytes += (uint64_t)st.st_size;
	return fd;
}

/* The scratch copy of PATH, opened anew as FLAGS ask (its own offset: a reopen through
 * /proc/self/fd makes a new open file of a memfd). */
static int scratch_open(Learn *l, const char *path, uint64_t flags)
{
	struct stat st;
	Scratch *s = scratch_find(l, path);

	if (!s && stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EACCES;
	if ((flags & O_CREAT) && (flags & O_EXCL) && (s || stat(path, &st) == 0))
		return -EEXIST;
	if (!s) {
		if (l->n_scratch >= LEARN_MAX_SCRATCH)
			return -ENOSPC;
		Scratch *a = reallocarray(l->scratch, l->n_scratch + 1, sizeof(Scratch));
		if (!a)
			return -ENOMEM;
		l->scratch = a;
		int fd = scratch_fill(l, path, (flags & O_TRUNC) != 0);
		if (fd < 0)
			return fd;
		char *p = strdup(path);
		if (!p) {
			(void)close(fd);
			return -ENOMEM;
		}
		s = &l->scratch[l->n_scratch++];
		*s = (Scratch){.path = p, .fd = fd};
	} else if ((flags & O_TRUNC) && ftruncate(s->fd, 0) < 0) {
		return -errno;
	}
	char link[64];
	(void)snprintf(link, sizeof(link), "/proc/self/fd/%d", s->fd);
	int fd = open(link, (int)(flags & (O_ACCMODE | O_APPEND)) | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* The host file at PATH, read-only: what a FILE_READ grant would show. */
static int host_open(Learn *l, const char *path, uint64_t flags)
{
	Scratch *s = scratch_find(l, path);
	int keep = (int)(flags & (O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_PATH));
	char link[64];

	if (s) { /* written earlier in this run: the program reads its own bytes back, through
		  * the memfd's magic link, which O_NOFOLLOW would refuse to follow */
		(void)snprintf(link, sizeof(link), "/proc/self/fd/%d", s->fd);
		path = link;
		keep &= ~O_NOFOLLOW;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | keep);
	return fd < 0 ? -errno : fd;
}

/* A file created in a directory the host has and the learning layout hides (a host /tmp
 * directory under the sandbox's own /tmp): the kernel would say ENOENT, which the notifier
 * does not count as a refusal (nothing of the host's is there to hide), but a grant would
 * make the creation work. */
static bool creates_in_hidden_dir(Notifier *n, pid_t pid, char path[PATH_MAX], uint64_t flags)
{
	struct stat st;
	char *slash = strrchr(path, '/');

	if (!(flags & O_CREAT) || !slash || slash == path)
		return false;
	*slash = '\0';
	_cleanup_close_ int dir = notify_open_inside(n, pid, path, false);
	bool hidden = dir == -ENOENT && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
	*slash = '/';
	return hidden;
}

void notify_learn_open(Notifier *n, const struct seccomp_notif *req, char path[PATH_MAX],
                       uint64_t flags, bool write, Reply *rep)
{
	bool refused = notify_open_refused(n, req->pid, path, flags, write) ||
	               (write && creates_in_hidden_dir(n, req->pid, path, flags));
	bool scratched = scratch_find(n->learn, path) != NULL;

	note_open(n->learn, path, write, refused);
	if (!refused && !scratched)
		return; /* the kernel opens it under the learning layout's fences */
	int fd = write ? scratch_open(n->learn, path, flags) : host_open(n->learn, path, flags);
	/* the path was the trapping process's: acting on it only while the request lives */
	if (fd >= 0 && ioctl(n->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0) {
		(void)close(fd);
		rep->answered = true; /* the target is gone: nothing to answer */
		return;
	}
	*rep = (Reply){.emulated = true,
	               .error = fd < 0 ? fd : 0,
	               .addfd = fd,
	               .cloexec = (flags & O_CLOEXEC) != 0};
}

/* Writes SIZE bytes of BUF at ADDR in the trapping process (a stat result for it). */
static int write_result(const struct seccomp_notif *req, uint64_t addr, const void *buf,
                        size_t size)
{
	char mem[64];

	(void)snprintf(mem, sizeof(mem), "/proc/%d/mem", (int)req->pid);
	_cleanup_close_ int fd = open(mem, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t k = pwrite(fd, buf, size, (off_t)addr);
	return k == (ssize_t)size ? 0 : k < 0 ? -errno : -EFAULT;
}

/* The stat or access call REQ on the hidden host path PATH, done on the host: its result, or
 * -errno. */
static int path_call_on_host(const struct seccomp_notif *req, const char *path, uint64_t flags)
{
	const __u64 *a = req->data.args;
	int nr = (int)req->data.nr;
	int nofollow = (int)(flags & AT_SYMLINK_NOFOLLOW);
	struct stat st;

	if (nr == __NR_statx) {
		struct statx stx;
		if (statx(AT_FDCWD, path, nofollow, (unsigned)a[3], &stx) < 0)
			return -errno;
		return write_result(req, a[4], &stx, sizeof(stx));
	}
	if (nr == __NR_faccessat || nr == 439 /* faccessat2 */ || nr == LEARN_NR_ACCESS) {
		int mode = (int)a[nr == LEARN_NR_ACCESS ? 1 : 2];
		return faccessat(AT_FDCWD, path, mode, nofollow) < 0 ? -errno : 0;
	}
	if (nr == LEARN_NR_LSTAT)
		nofollow = AT_SYMLINK_NOFOLLOW;
	if (fstatat(AT_FDCWD, path, &st, nofollow) < 0)
		return -errno;
	return write_result(req, a[nr == __NR_newfstatat ? 2 : 1], &st, sizeof(st));
}

void notify_learn_path_call(Notifier *n, const struct seccomp_notif *req, const char *path,
                            uint64_t flags, Reply *rep)
{
	char abs[PATH_MAX];
	struct stat st;
	int nr = (int)req->data.nr;
	bool at = nr == __NR_faccessat || nr == 439 || nr == __NR_newfstatat || nr == __NR_statx;

	if (path[0] == '\0' || (nr != __NR_statx && nr != __NR_newfstatat && nr != LEARN_NR_STAT &&
	                        nr != LEARN_NR_LSTAT && !at && nr != LEARN_NR_ACCESS))
		return; /* fstat's empty path; an unlink: the kernel answers */
	if (path[0] == '/')
		(void)snprintf(abs, sizeof(abs), "%s", path);
	else if (notify_path_absolute(req->pid, at ? (int)req->data.args[0] : AT_FDCWD, path, abs) <
	         0)
		return;
	if (notify_path_canonical(n, req->pid, abs, abs) < 0 || path_under(abs, "/proc") ||
	    path_under(abs, "/sys") || path_under(abs, "/dev"))
		return;
	_cleanup_close_ int inside = notify_open_inside(n, req->pid, abs, false);
	if (inside >= 0 || (inside != -ENOENT && inside != -EACCES) || stat(abs, &st) < 0)
		return;          /* the sandbox shows it, or the host has nothing either */
	if (S_ISREG(st.st_mode)) /* a file looked at is one to see; a directory is not all of it */
		learn_note(n->learn, OB_CAP_FILE_READ, abs, 0);
	int r = path_call_on_host(req, abs, flags);
	if (ioctl(n->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0) {
		rep->answered = true;
		return;
	}
	*rep = (Reply){.emulated = true, .error = r, .addfd = -1};
}
