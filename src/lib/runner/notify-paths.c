/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Paths as the kernel resolves them inside the sandbox, for judging the program's opens (and
 * the calls that write to a directory: notify-write.c). The program names a file relative to
 * its working directory or a directory fd, and through "..", symlinks of its own and places
 * that exist only inside the sandbox (/workspace); the host's lookup of the same string says
 * nothing then. So the path is first made absolute from the process's cwd or fd as the
 * sandbox names them, then walked component by component inside the sandbox's root, and only
 * the result is compared with the host. All of it happens while the call waits: a thread that
 * changes the path or the cwd meanwhile can mislabel the event, and the kernel then decides
 * under the fences on what it reads itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/macro.h"
#include "runner/notify-rules.h"
#include "runner/notify.h"

int notify_root_fd(Notifier *n, pid_t pid)
{
	char root[64];

	/* Every process of the sandbox has the same root (chroot, pivot_root, unshare and setns
	 * are refused), so the first one's serves for the whole run. */
	if (n->root_fd < 0) {
		(void)snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
		n->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (n->root_fd < 0)
			return -errno;
	}
	return n->root_fd;
}

int notify_open_inside(Notifier *n, pid_t pid, const char *path, bool nofollow)
{
	struct open_how how = {.flags = O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0),
	                       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	int root = notify_root_fd(n, pid);

	if (root < 0)
		return root;
	int fd = (int)syscall(SYS_openat2, root, path[0] ? path : "/", &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

int notify_path_absolute(pid_t pid, int dirfd, const char *path, char out[PATH_MAX])
{
	char link[64], base[PATH_MAX];

	if (dirfd == AT_FDCWD)
		(void)snprintf(link, sizeof(link), "/proc/%d/cwd", (int)pid);
	else
		(void)snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, dirfd);
	ssize_t k = readlink(link, base, sizeof(base) - 1);
	if (k < 0)
		return -errno;
	base[k] = '\0';
	/* a removed directory: no path names it any more */
	if (base[0] != '/' || (k > 10 && streq(base + k - 10, " (deleted)")))
		return -EBADF;
	int w = snprintf(out, PATH_MAX, "%s/%s", k > 1 ? base : "", path);
	return w < 0 || w >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* Appends the component C (L bytes) to the canonical path OUT ("/" or "/a/b"). */
static int push(char *out, const char *c, size_t l)
{
	size_t o = strlen(out);
	if (o + 1 + l >= PATH_MAX)
		return -ENAMETOOLONG;
	if (o > 1)
		out[o++] = '/';
	memcpy(out + o, c, l);
	out[o + l] = '\0';
	return 0;
}

/* Drops the last component of OUT; the root stays. */
static void pop(char *out)
{
	char *s = strrchr(out, '/');
	if (s == out)
		out[1] = '\0';
	else if (s)
		*s = '\0';
}

/* The target of OUT's last component when it is a symlink in the sandbox: its length, 0 when
 * not a link, -ENOENT when missing. */
static ssize_t link_target(Notifier *n, pid_t pid, const char *out, char target[PATH_MAX])
{
	_cleanup_close_ int fd = notify_open_inside(n, pid, out, /* nofollow= */ true);
	if (fd < 0)
		return fd == -ENOENT || fd == -ENOTDIR ? -ENOENT : 0;
	ssize_t k = readlinkat(fd, "", target, PATH_MAX - 1);
	if (k <= 0)
		return 0; /* EINVAL: not a link */
	target[k] = '\0';
	return k;
}

int notify_path_canonical(Notifier *n, pid_t pid, const char *path, char out[PATH_MAX])
{
	char rest[PATH_MAX], target[PATH_MAX], next[PATH_MAX], res[PATH_MAX] = "/";
	unsigned links = 0;
	int r = 0;

	(void)snprintf(rest, sizeof(rest), "%s", path);
	for (const char *p = rest; *p && r >= 0;) {
		p += strspn(p, "/");
		size_t l = strcspn(p, "/");
		const char *c = p;
		p += l;
		if (l == 0 || (l == 1 && c[0] == '.'))
			continue;
		if (l == 2 && c[0] == '.' && c[1] == '.') {
			pop(res);
			continue;
		}
		r = push(res, c, l);
		if (r < 0 || path_under(res, "/proc"))
			continue;
		ssize_t k = link_target(n, pid, res, target);
		if (k == -ENOENT) {
			/* the kernel stops here: the rest stays as written */
			size_t o = strlen(res);
			if (*p)
				(void)snprintf(res + o, sizeof(res) - o, "%s", p);
			break;
		}
		if (k == 0)
			continue;
		if (++links > 40)
			return -ELOOP;
		if (target[0] == '/')
			res[1] = '\0';
		else
			pop(res);
		/* the link's target, then what was left after it */
		if (snprintf(next, sizeof(next), "%s%s", target, p) >= (int)sizeof(next))
			return -ENAMETOOLONG;
		memcpy(rest, next, sizeof(rest));
		p = rest;
	}
	if (r < 0)
		return r;
	memcpy(out, res, strlen(res) + 1);
	return 0;
}

bool notify_fd_read_only(int fd, const struct stat *st)
{
	struct statvfs sv;
	return (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)) && fstatvfs(fd, &sv) == 0 &&
	       (sv.f_flag & ST_RDONLY);
}

/* Would a write to PATH (or with PARENT, a new file in PATH's directory) fail because the
 * sandbox shows it read-only? */
static bool on_read_only_mount(Notifier *n, pid_t pid, char *path, bool parent)
{
	struct stat st;
	char *slash = parent ? strrchr(path, '/') : NULL;

	if (slash)
		*slash = '\0';
	_cleanup_close_ int fd = notify_open_inside(n, pid, path[0] ? path : "/", false);
	if (slash)
		*slash = '/';
	return fd >= 0 && fstat(fd, &st) == 0 && notify_fd_read_only(fd, &st);
}

/* Does the sandbox refuse this open (as the kernel is about to find out)? Refused: a path the
 * sandbox does not show although the host has it (hidden: how a read of /etc/passwd fails
 * with ENOENT), followed through symlinks on both sides, so a link planted in a grant and
 * pointing out counts; a write to what it shows read-only (EROFS); a file created in a
 * read-only directory. Not: creating a file the host happens to have, in a writable place.
 * A path the sandbox lacks is first resolved inside it (a link the program made in /tmp,
 * /workspace/..), and the host asked about the result. */
static bool refused_open(Notifier *n, pid_t pid, char *path, uint64_t flags, bool write)
{
	struct stat st, fst;
	_cleanup_close_ int fd = notify_open_inside(n, pid, path, false);

	if (fd >= 0) /* one fstat for both questions: may the program's identity open it, is
	              * a write to it one to a read-only mount */
		return fstat(fd, &fst) == 0 && (denied_by_permissions(n->plan, &fst, write) ||
		                                (write && notify_fd_read_only(fd, &fst)));
	if (fd != -ENOENT)
		return false;
	bool creates_here = (flags & O_CREAT) != 0;
	if (stat(path, &st) < 0 && (notify_path_canonical(n, pid, path, path) < 0 ||
	                            path_under(path, "/proc") || stat(path, &st) < 0))
		return creates_here && on_read_only_mount(n, pid, path, true);
	if (creates_here) {
		char *slash = strrchr(path, '/');
		*slash = '\0';
		_cleanup_close_ int dir = notify_open_inside(n, pid, path[0] ? path : "/", false);
		*slash = '/';
		if (dir >= 0 && !on_read_only_mount(n, pid, path, true))
			return false; /* a new file of the sandbox's own */
	}
	return true;
}

/* A /proc file the program's identity may not open: root's kernel files (slabinfo,
 * timer_list, kpageflags, vmallocinfo) once the program is not root's (SPEC §2.4). */
static bool proc_unreadable(Notifier *n, pid_t pid, const char *path, bool write)
{
	struct stat st;
	_cleanup_close_ int fd = notify_open_inside(n, pid, path, false);
	return fd >= 0 && fstat(fd, &st) == 0 && denied_by_permissions(n->plan, &st, write);
}

/* Has PATH a ".." or "." component? */
static bool has_dots(const char *path)
{
	for (const char *p = path; (p = strstr(p, "/.")); p++)
		if (p[2] == '/' || p[2] == '\0' || (p[2] == '.' && (p[3] == '/' || p[3] == '\0')))
			return true;
	return false;
}

static bool has_dots(const char *path);

bool notify_path_via_proc(Notifier *n, pid_t pid, char path[PATH_MAX])
{
	struct open_how how = {.flags = O_PATH | O_CLOEXEC,
	                       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS};
	char canon[PATH_MAX];
	int root = notify_root_fd(n, pid);

	if (root < 0 || path_under(path, "/proc"))
		return true;
	if (!has_dots(path)) {
		/* Without symlinks the walk is the text: it ends where the one that follows them
		 * does, unless it meets a link first (ELOOP), and only then is it walked here. */
		int fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
		if (fd >= 0)
			(void)close(fd);
		if (fd >= 0 || errno != ELOOP)
			return false;
	}
	if (notify_path_canonical(n, pid, path, canon) < 0)
		return true;
	if (!path_under(canon, "/proc"))
		return false;
	/* judged where it leads: /dev/stdin is /proc/self/fd/0, nothing hidden */
	memcpy(path, canon, strlen(canon) + 1);
	return true;
}

/* Files that programs look for on every start or lookup and that the layout leaves out on
 * purpose (docs/design/runner.md "Routine lookups"): their absence is the answer, not a
 * refusal worth a record. Only reads, and only these exact paths. */
static const char *const routine_paths[] = {
    "/etc/gai.conf",            /* getaddrinfo's address ordering */
    "/etc/host.conf",           /* the resolver's options (generated in mode sandbox) */
    "/etc/ld.so.preload",       /* the dynamic loader, at every start */
    "/etc/ssl/openssl.cnf",     /* OpenSSL's configuration: at `import ssl`; shown only */
    "/usr/lib/ssl/openssl.cnf", /* with a network grant (its link into /etc/ssl) */
    "/usr/lib/ssl/cert.pem",    /* the CA bundle, likewise */
    "/etc/ssl/cert.pem",
    "/etc/ssl/certs",
    "/etc/ssl/certs/ca-certificates.crt",
    "/usr/lib/ssl/certs",
};

static bool routine_lookup(const char *path, bool write)
{
	for (size_t i = 0; !write && i < ELEMENTSOF(routine_paths); i++)
		if (streq(path, routine_paths[i]))
			return true;
	return false;
}

const char *notify_secret_refused(Notifier *n, pid_t pid, const char *path)
{
	static const char dir[] = "/run/secrets/";
	const char *name = path + sizeof(dir) - 1;

	if (strncmp(path, dir, sizeof(dir) - 1) != 0 || !*name || strchr(name, '/') ||
	    streq(name, ".") || streq(name, ".."))
		return NULL;
	_cleanup_close_ int fd = notify_open_inside(n, pid, path, false);
	return fd == -ENOENT ? name : NULL;
}

/* Under /proc only what the layout refuses counts; reads under /sys (absent by design) are
 * probes, writes there are not. "..": judged where it leads (/proc/../etc/shadow is /etc's). */
bool notify_open_refused(Notifier *n, pid_t pid, char path[PATH_MAX], uint64_t flags, bool write)
{
	if (has_dots(path) && notify_path_canonical(n, pid, path, path) < 0)
		return false;
	if (routine_lookup(path, write))
		return false;
	if (path_under(path, "/proc"))
		return proc_protected(path, write) || proc_unreadable(n, pid, path, write);
	if (path_under(path, "/sys"))
		return write && refused_open(n, pid, path, flags, write);
	return refused_open(n, pid, path, flags, write);
}

bool notify_write_refused(Notifier *n, pid_t pid, char path[PATH_MAX], bool entry, bool create)
{
	struct stat st;
	struct statvfs sv;
	char name[PATH_MAX] = "";
	char *slash = strrchr(path, '/');

	/* an entry's own name is not followed (unlink of a link removes the link): only its
	 * directory is resolved */
	if (entry && slash && slash[1]) {
		memcpy(name, slash + 1, strlen(slash + 1) + 1);
		*slash = '\0';
	}
	if (notify_path_canonical(n, pid, path[0] ? path : "/", path) < 0 ||
	    path_under(path, "/proc") || path_under(path, "/sys"))
		return false;
	_cleanup_close_ int fd = notify_open_inside(n, pid, path, false);
	bool refused = fd >= 0 ? fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_RDONLY)
	                       : fd == -ENOENT && stat(path, &st) == 0;
	if (name[0]) {
		size_t o = strlen(path);
		(void)snprintf(path + o, PATH_MAX - o, "%s%s", path[1] ? "/" : "", name);
	}
	if (refused && create) {
		_cleanup_close_ int old = notify_open_inside(n, pid, path, /* nofollow= */ true);
		return old < 0; /* EEXIST comes first */
	}
	return refused;
}
