/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The OCI bundle on a tmpfs (see oci.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backends/oci.h"
#include "basic/error.h"
#include "basic/macro.h"

#define BUNDLE_PREFIX "omnibase-oci-"
/* rootless: /dev/shm, a tmpfs on every system this runs on (a user cannot mount one) */
#define SHM_DIR "/dev/shm"

int oci_write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	_cleanup_close_ int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode);
	size_t off = 0;

	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		off += (size_t)n;
	}
	return 0;
}

/* Makes PATH a directory of the container's root (in a user namespace, an unprivileged host
 * id, which runc and crun are when they make the mount points in the root). */
static int make_dir(const char *path, mode_t mode, uid_t owner)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	return owner != (uid_t)-1 && lchown(path, owner, owner) < 0 ? -errno : 0;
}

/* The directories between ROOT and PATH (ROOT/...): a symlink deep in a home (an
 * interpreter's chain, plan/visible.c) needs them before the runtime mounts anything. */
static int make_parents(const char *root, char *path, uid_t owner)
{
	for (char *s = path + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		int r = make_dir(path, 0755, owner);
		*s = '/';
		if (r < 0)
			return r;
	}
	return 0;
}

int oci_attach_tree(int fd, const char *binds, size_t i)
{
	char path[PATH_MAX + 32];
	struct stat st;

	(void)snprintf(path, sizeof(path), "%s/%zu", binds, i);
	if (fstat(fd, &st) < 0)
		return -errno;
	int r = S_ISDIR(st.st_mode) ? make_dir(path, 0700, (uid_t)-1)
	                            : oci_write_file(path, "", 0, 0600);
	if (r >= 0 && move_mount(fd, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		r = -errno;
	return r;
}

/* The binds the supervisor opened, attached in the bundle: runc and crun open a bind's source
 * before they enter the user namespace, so a grant keeps its id map and a source below a
 * directory the container's root may not search (/root/...) is still reached. */
static int attach_trees(Plan *p, const char *dir)
{
	char binds[PATH_MAX + 16];

	(void)snprintf(binds, sizeof(binds), "%s/binds", dir);
	int r = make_dir(binds, 0711, (uid_t)-1);
	for (size_t i = 0; r >= 0 && i < p->n_steps; i++) {
		MountStep *s = &p->steps[i];
		if (!oci_bind_in_bundle(s))
			continue;
		r = s->tree_fd >= 0 ? oci_attach_tree(s->tree_fd, binds, i) : -EBADF;
		if (s->tree_fd >= 0)
			(void)close(s->tree_fd);
		s->tree_fd = -1;
	}
	return r;
}

/* The plan's directories and symlinks, in the root (the container root's: OWNER); its
 * generated files, in FILES (owned by the sandbox's user: a secret is 0400). */
static int populate(const Plan *p, const char *root, const char *files, uid_t owner)
{
	/* the files are the sandbox user's: chowned as root; rootless (gVisor) they stay the
	 * caller's, which gVisor shows as its root's — readable by all then (nobody but the
	 * program is inside; on the host they stay in the caller's private bundle) */
	bool own = geteuid() == 0;
	uid_t base = owner != (uid_t)-1 ? p->id_base : 0;
	char path[PATH_MAX + 64];
	size_t nfile = 0;
	int r = make_dir(root, 0755, owner);

	for (size_t i = 0; r >= 0 && i < p->n_steps; i++) {
		const MountStep *s = &p->steps[i];
		if (oci_runtime_owned(s) || streq(s->dest, "/dev"))
			continue;
		(void)snprintf(path, sizeof(path), "%s%s", root, s->dest);
		if (s->kind == STEP_DIR)
			r = make_dir(path, 0755, owner);
		else if (s->kind == STEP_SYMLINK) {
			r = make_parents(root, path, owner);
			if (r >= 0 && symlink(s->src, path) < 0)
				r = -errno;
			if (r >= 0 && owner != (uid_t)-1 && lchown(path, owner, owner) < 0)
				r = -errno;
		} else if (s->kind == STEP_SECRET || s->kind == STEP_FILE) {
			(void)snprintf(path, sizeof(path), "%s/%zu", files, nfile++);
			r = oci_write_file(path, s->data, s->data_len,
			                   s->kind == STEP_SECRET && own ? 0400 : 0444);
			if (r >= 0 && own && chown(path, base + p->uid, base + p->gid) < 0)
				r = -errno;
		}
	}
	return r;
}

/* ROOT as a mount of its own without nosuid and nodev: gVisor's gofer remounts its root
 * read-only from inside the container's user namespace, where the kernel refuses to clear a
 * flag the bundle's tmpfs was mounted with (locked). The root holds only the plan's
 * directories and symlinks, and nothing in the container writes it. */
static int root_mount(const char *root)
{
	if (mount(root, root, NULL, MS_BIND, NULL) < 0 ||
	    mount(NULL, root, NULL, MS_REMOUNT | MS_BIND, NULL) < 0)
		return -errno;
	return 0;
}

/* Takes the lock that marks the bundle DIR as alive. */
static int lock_bundle(OciBundle *b)
{
	b->lock_fd = open(b->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (b->lock_fd < 0 || flock(b->lock_fd, LOCK_EX) < 0)
		return -errno;
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -1 : 0;
}

/* DIR and what is in it: a tmpfs (and the trees attached in it) lazily unmounted — never a
 * walk that could reach into an attached grant; else its files, without leaving its file
 * system. */
static void remove_dir(const char *dir, bool mounted)
{
	if (mounted)
		(void)umount2(dir, MNT_DETACH | UMOUNT_NOFOLLOW);
	else
		(void)nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	(void)rmdir(dir);
}

/* Removes the bundles in PARENT that killed supervisors left: ours, older than 10 s (a new
 * one is never taken for a leftover before it is locked), and unlocked. As root each is a
 * tmpfs, unmounted. */
static void collect_stale(const char *parent, bool root)
{
	DIR *d = opendir(parent);
	struct dirent *de;
	time_t now = time(NULL);
	char path[PATH_MAX];

	if (!d)
		return;
	while ((de = readdir(d))) {
		struct stat st;
		if (strncmp(de->d_name, BUNDLE_PREFIX, strlen(BUNDLE_PREFIX)) != 0 ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode) || st.st_uid != geteuid() || now - st.st_ctime < 10)
			continue;
		int fd =
		    openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		(void)snprintf(path, sizeof(path), "%s/%s", parent, de->d_name);
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			remove_dir(path, root);
		(void)close(fd);
	}
	(void)closedir(d);
}

/* The bundle's directory, on a tmpfs: as root a private one mounted on it, sized for the
 * plan's files (the runtime's state and config.json fit in the rest); rootless in /dev/shm. */
static int make_bundle_dir(const Plan *p, OciBundle *b)
{
	bool root = geteuid() == 0;
	const char *parent = root ? OCI_RUN_DIR : SHM_DIR;
	size_t data = 0;
	char opts[128];

	if (root && ((mkdir("/run/omnibase", 0711) < 0 && errno != EEXIST) ||
	             (mkdir(OCI_RUN_DIR, 0711) < 0 && errno != EEXIST)))
		return -errno;
	collect_stale(parent, root);
	(void)snprintf(b->dir, sizeof(b->dir), "%s/" BUNDLE_PREFIX "XXXXXX", parent);
	if (!mkdtemp(b->dir)) {
		int e = -errno;
		b->dir[0] = '\0';
		return e;
	}
	for (size_t i = 0; i < p->n_steps; i++)
		data += p->steps[i].data_len;
	/* 0711: the container's root (in a user namespace, an unprivileged id) reaches the root
	 * by its path; it lists nothing */
	(void)snprintf(opts, sizeof(opts), "size=%zu,nr_inodes=%zu,mode=0711",
	               ((size_t)16 << 20) + data, 1024 + 4 * p->n_steps);
	if (root) {
		if (mount("omnibase-oci", b->dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
			return -errno;
		b->mounted = true;
	}
	return lock_bundle(b);
}

int oci_bundle_create(Plan *p, const OciOptions *o, OciBundle *b, ob_error *reterr)
{
	char root[PATH_MAX + 16], files[PATH_MAX + 16], config[PATH_MAX + 16];
	bool userns = oci_userns(p, o);

	*b = (OciBundle){.lock_fd = -1, .disk_fd = -1};
	int r = make_bundle_dir(p, b);
	if (r < 0 && !b->dir[0])
		return ob_error_set(reterr, r, "the OCI bundle's directory: %s", strerror(-r));
	(void)snprintf(root, sizeof(root), "%s/rootfs", b->dir);
	(void)snprintf(files, sizeof(files), "%s/files", b->dir);
	(void)snprintf(config, sizeof(config), "%s/config.json", b->dir);
	/* gVisor's gofer, the container's root in its user namespace, reaches the files by
	 * their paths (runc and crun open them before entering it) */
	if (r >= 0)
		r = make_dir(files, 0700, userns && o->gvisor ? p->id_base : (uid_t)-1);
	if (r >= 0)
		r = populate(p, root, files, userns ? p->id_base : (uid_t)-1);
	if (r >= 0 && userns && o->gvisor && b->mounted)
		r = root_mount(root);
	if (r >= 0 && o->gvisor && p->landlock_abi > 0)
		r = oci_exec_populate(p, b->dir, o->loader);
	if (r >= 0 && userns)
		r = attach_trees(p, b->dir);
	/* gVisor's gofer, in the user namespace, reaches the executable binds' sources by their
	 * paths too */
	if (r >= 0 && userns && o->gvisor && p->landlock_abi > 0)
		r = oci_exec_attach(p, b->dir);
	if (r >= 0 && userns && p->n_overlays)
		r = oci_disk_overlays(p, b->dir, &b->disk_fd);
	json_t *c = r >= 0 ? oci_config(p, o, b->dir) : NULL;
	char *text = c ? json_dumps(c, JSON_INDENT(1)) : NULL;
	json_decref(c);
	if (r >= 0)
		r = text ? oci_write_file(config, text, strlen(text), 0600) : -ENOMEM;
	free(text);
	if (r < 0) {
		oci_bundle_remove(b);
		return ob_error_set(reterr, r, "writing the OCI bundle: %s", strerror(-r));
	}
	return 0;
}

void oci_bundle_remove(OciBundle *b)
{
	if (b->dir[0])
		remove_dir(b->dir, b->mounted);
	if (b->dir[0] && b->lock_fd >= 0)
		(void)close(b->lock_fd);
	if (b->dir[0] && b->disk_fd >= 0)
		(void)close(b->disk_fd);
	b->disk_fd = -1;
	b->dir[0] = '\0';
	b->lock_fd = -1;
	b->mounted = false;
}
