/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The exec allow-list on gVisor, which implements no Landlock: by what its mounts show
 * (docs/design/backends.md, "The exec allow-list on gVisor"). Every bind is noexec; each file
 * an exec rule names (the program, its interpreters, the ELF interpreter, the EXTERNAL_COMMAND
 * grants and their helpers: the native backend's rules) is bound again, executable; in mode
 * sandbox the bin directories are empty tmpfs mounts holding only those. Tried with runsc
 * 2022-12: it refuses execve on a noexec mount (EACCES) and loads an ELF interpreter only from
 * an exec mount, but maps a noexec file executable (libraries stay where they are).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backends/oci.h"
#include "basic/fileio.h"
#include "basic/macro.h"

/* The bind of P whose destination (BY_SRC: source) holds PATH most closely, or NULL. */
static const MountStep *holding_bind(const Plan *p, const char *path, bool by_src)
{
	const MountStep *best = NULL;

	for (size_t i = 0; i < p->n_steps; i++) {
		const MountStep *s = &p->steps[i];
		const char *at = by_src ? s->src : s->dest;
		if (s->kind == STEP_BIND && !s->src_inside && at && path_under(path, at) &&
		    (!best || strlen(at) > strlen(by_src ? best->src : best->dest)))
			best = s;
	}
	return best;
}

/* Where the bind B shows the host path HOST (beneath its source), into DEST. */
static void shown_at(const MountStep *b, const char *host, char *dest, size_t size)
{
	const char *rest = streq(b->src, "/") ? host : host + strlen(b->src);
	(void)snprintf(dest, size, "%s%s", streq(b->dest, "/") ? "" : b->dest, rest);
}

bool oci_exec_noexec(const Plan *p, const MountStep *s)
{
	for (size_t i = 0; i < p->n_rules; i++)
		if (p->rules[i].exec_as && streq(p->rules[i].path, s->dest))
			return false; /* a pattern's prefix: all of it may run */
	return true;
}

/* The bin directories: these, whatever PATH the caller sets, and those of the plan's PATH. */
static const char *const BIN_DIRS[] = {"/usr/local/bin",   "/usr/bin",  "/bin",
                                       "/usr/local/sbin",  "/usr/sbin", "/sbin",
                                       "/usr/local/games", "/usr/games"};

/* The WANT-th bin directory, canonical on the host, into BUF[PATH_MAX] ("" if it is not
 * there); false past the last. */
static bool path_dir(const Plan *p, size_t want, char *buf)
{
	const char *path = NULL;
	char dir[PATH_MAX];

	buf[0] = '\0';
	if (want < ELEMENTSOF(BIN_DIRS)) {
		if (!realpath(BIN_DIRS[want], buf))
			buf[0] = '\0';
		return true;
	}
	want -= ELEMENTSOF(BIN_DIRS);
	for (size_t i = 0; p->envp && p->envp[i]; i++)
		if (strncmp(p->envp[i], "PATH=", 5) == 0)
			path = p->envp[i] + 5;
	for (size_t n = 0; path && *path; n++) {
		size_t len = strcspn(path, ":");
		if (n == want) {
			(void)snprintf(dir, sizeof(dir), "%.*s", (int)len, path);
			if (len == 0 || len >= sizeof(dir) || dir[0] != '/' || !realpath(dir, buf))
				buf[0] = '\0';
			return true;
		}
		path += len + (path[len] == ':');
	}
	return false;
}

#define MAX_HIDDEN 16

/* The bin directories mode sandbox hides: the PATH's directories (canonical host paths) that a
 * bind shows beneath its source, in DIRS with their binds in BINDS; how many. */
static size_t hidden_dirs(const Plan *p, char dirs[MAX_HIDDEN][PATH_MAX],
                          const MountStep *binds[MAX_HIDDEN])
{
	char dir[PATH_MAX];
	size_t n = 0;

	if (p->mode != OB_MODE_SANDBOX)
		return 0;
	for (size_t i = 0; n < MAX_HIDDEN && path_dir(p, i, dir); i++) {
		const MountStep *b = dir[0] ? holding_bind(p, dir, true) : NULL;
		bool dup = false;
		for (size_t k = 0; k < n; k++)
			dup = dup || streq(dirs[k], dir);
		/* a grant of a bin directory itself stays whole */
		if (!b || dup || streq(dir, b->src))
			continue;
		(void)snprintf(dirs[n], PATH_MAX, "%s", dir);
		binds[n++] = b;
	}
	return n;
}

void oci_exec_hide(const Plan *p, const MountStep *s, json_t *m, const char *bundle)
{
	char dirs[MAX_HIDDEN][PATH_MAX], dest[PATH_MAX], src[PATH_MAX + 32];
	const MountStep *binds[MAX_HIDDEN];
	size_t n = hidden_dirs(p, dirs, binds);

	for (size_t i = 0; i < n; i++) {
		if (binds[i] != s)
			continue;
		shown_at(s, dirs[i], dest, sizeof(dest));
		/* the bundle's directory of the granted names (oci_exec_populate): the host's
		 * root owns it, the program adds nothing there */
		(void)snprintf(src, sizeof(src), "%s/bin/%zu", bundle ? bundle : "BUNDLE", i);
		(void)json_array_append_new(m, json_pack("{s:s, s:s, s:s, s:[s,s,s,s,s]}",
		                                         "destination", dest, "type", "bind",
		                                         "source", src, "options", "rbind", "ro",
		                                         "nosuid", "nodev", "noexec"));
	}
}

/* The index of the hidden directory holding PATH directly, or -1. */
static int hidden_index(char dirs[MAX_HIDDEN][PATH_MAX], size_t n, const char *path)
{
	char parent[PATH_MAX];
	(void)snprintf(parent, sizeof(parent), "%s", path);
	const char *d = dirname(parent);
	for (size_t i = 0; i < n; i++)
		if (streq(dirs[i], d))
			return (int)i;
	return -1;
}

/* The names on the way from the rule's host path HOST to its file, as they are in the hidden
 * directories: a symlink as a symlink (python3 -> python3.11), the file as an empty file that
 * oci_exec_binds mounts it on. runsc resolves a mount's destination through the host's
 * symlinks, so a name cannot be a bind of its own. */
static int populate_chain(char dirs[MAX_HIDDEN][PATH_MAX], size_t n, const char *bundle,
                          const char *host)
{
	char cur[PATH_MAX], dir[PATH_MAX], parent[PATH_MAX], name[PATH_MAX], at[PATH_MAX * 2];
	char link[PATH_MAX];

	(void)snprintf(cur, sizeof(cur), "%s", host);
	for (int hop = 0; hop < 16; hop++) {
		struct stat st;
		(void)snprintf(parent, sizeof(parent), "%s", cur);
		(void)snprintf(name, sizeof(name), "%s", cur);
		if (!realpath(dirname(parent), dir))
			return 0;
		size_t len = strlen(dir);
		(void)snprintf(dir + len, sizeof(dir) - len, "/%s", basename(name));
		if (lstat(dir, &st) < 0)
			return 0;
		int k = hidden_index(dirs, n, dir);
		ssize_t l = S_ISLNK(st.st_mode) ? readlink(dir, link, sizeof(link) - 1) : 0;
		if (l < 0)
			return -errno;
		link[l] = '\0';
		if (k >= 0) {
			(void)snprintf(at, sizeof(at), "%s/bin/%d/%s", bundle, k, basename(name));
			int fd = -1;
			if (S_ISLNK(st.st_mode)
			        ? symlink(link, at) < 0 && errno != EEXIST
			        : (fd = open(at, O_CREAT | O_WRONLY | O_CLOEXEC, 0755)) < 0)
				return -errno;
			if (fd >= 0)
				(void)close(fd);
		}
		if (!S_ISLNK(st.st_mode))
			return 0;
		/* the next hop: the link's target, relative to the directory it is in */
		(void)snprintf(parent, sizeof(parent), "%s", dir);
		if (link[0] == '/')
			(void)snprintf(cur, sizeof(cur), "%s", link);
		else
			(void)snprintf(cur, sizeof(cur), "%s/%s", dirname(parent), link);
	}
	return 0;
}

/* Is R the ELF interpreter of the allowed programs only, never allowed to run itself? */
static bool loader_only(const FsRule *r)
{
	return r->exec_as == FS_RULE_EXEC_INTERP;
}

#define SHIM_MARK     "OMNIBASE-LOADER:"
#define SHIM_PATH_MAX 4096

/* BUNDLE/loader/I: a copy of the loader shim DATA (LEN bytes) that maps the real loader from
 * OCI_LOADER_DEST I, where oci_exec_binds puts it. */
static int write_shim(char *data, size_t len, const char *bundle, size_t i)
{
	char path[PATH_MAX + 64], dest[64];
	char *at = memmem(data, len, SHIM_MARK, strlen(SHIM_MARK));

	if (!at || (size_t)(at - data) + strlen(SHIM_MARK) + SHIM_PATH_MAX > len)
		return -ENOEXEC;
	at += strlen(SHIM_MARK);
	(void)snprintf(dest, sizeof(dest), OCI_LOADER_DEST "%zu", i);
	memset(at, 0, SHIM_PATH_MAX);
	memcpy(at, dest, strlen(dest) + 1);
	(void)snprintf(path, sizeof(path), "%s/loader/%zu", bundle, i);
	return oci_write_file(path, data, len, 0555);
}

/* A shim for each rule that is an ELF interpreter only (oci_exec_binds). */
static int populate_loaders(const Plan *p, const char *bundle, const char *loader)
{
	_cleanup_free_ char *data = NULL;
	char path[PATH_MAX + 64];
	size_t len = 0;
	int r = 0;

	for (size_t i = 0; r >= 0 && i < p->n_rules; i++) {
		if (!loader_only(&p->rules[i]))
			continue;
		if (!data) {
			r = read_file_limited(loader, (size_t)1 << 20, &data, &len, NULL);
			(void)snprintf(path, sizeof(path), "%s/loader", bundle);
			if (r >= 0 && mkdir(path, 0755) < 0)
				r = -errno;
		}
		if (r >= 0)
			r = write_shim(data, len, bundle, i);
	}
	return r;
}

int oci_exec_populate(const Plan *p, const char *bundle, const char *loader)
{
	char dirs[MAX_HIDDEN][PATH_MAX], path[PATH_MAX + 64], host[PATH_MAX];
	const MountStep *binds[MAX_HIDDEN];
	size_t n = hidden_dirs(p, dirs, binds);
	int r = loader ? populate_loaders(p, bundle, loader) : 0;

	if (n == 0 || r < 0)
		return r;
	(void)snprintf(path, sizeof(path), "%s/bin", bundle);
	if (mkdir(path, 0755) < 0)
		return -errno;
	for (size_t i = 0; i < n; i++) {
		(void)snprintf(path, sizeof(path), "%s/bin/%zu", bundle, i);
		if (mkdir(path, 0755) < 0)
			return -errno;
	}
	for (size_t i = 0; r >= 0 && i < p->n_rules; i++) {
		const FsRule *rule = &p->rules[i];
		if (!rule->exec_as)
			continue;
		const MountStep *b = holding_bind(p, rule->path, false);
		(void)snprintf(host, sizeof(host), "%s%s", b ? b->src : "",
		               b ? rule->path + (streq(b->dest, "/") ? 0 : strlen(b->dest))
		                 : rule->path);
		r = populate_chain(dirs, n, bundle, host);
	}
	return r;
}

static void bind_exec(json_t *m, const char *dest, const char *src, bool exec)
{
	json_t *o = json_pack("[s,s,s,s]", "rbind", "ro", "nosuid", "nodev");
	if (!exec)
		(void)json_array_append_new(o, json_string("noexec"));
	(void)json_array_append_new(m, json_pack("{s:s, s:s, s:s, s:o}", "destination", dest,
	                                         "type", "bind", "source", src, "options", o));
}

/* The host file behind exec rule R (through a bind, e.g. /workspace), canonical, into CANON,
 * and where the plan's binds show it, into DEST: false when it is no regular file shown. */
static bool exec_source(const Plan *p, const FsRule *r, char canon[PATH_MAX], char dest[PATH_MAX])
{
	char host[PATH_MAX];
	struct stat st;

	if (!r->exec_as)
		return false;
	const MountStep *b = holding_bind(p, r->path, false);
	(void)snprintf(host, sizeof(host), "%s%s", b ? b->src : "",
	               b ? r->path + (streq(b->dest, "/") ? 0 : strlen(b->dest)) : r->path);
	if (!realpath(host, canon) || stat(canon, &st) < 0 || !S_ISREG(st.st_mode) ||
	    !(b = holding_bind(p, canon, true)))
		return false;
	shown_at(b, canon, dest, PATH_MAX);
	return true;
}

int oci_exec_attach(const Plan *p, const char *bundle)
{
	char canon[PATH_MAX], dest[PATH_MAX], dir[PATH_MAX + 16];
	struct mount_attr attr = {.attr_set =
	                              MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
	int r = 0;

	(void)snprintf(dir, sizeof(dir), "%s/exec", bundle);
	if (mkdir(dir, 0711) < 0)
		return -errno;
	for (size_t i = 0; r >= 0 && i < p->n_rules; i++) {
		if (!exec_source(p, &p->rules[i], canon, dest))
			continue;
		struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS};
		_cleanup_close_ int fd =
		    (int)syscall(SYS_openat2, AT_FDCWD, canon, &how, sizeof(how));
		if (fd < 0)
			return -errno;
		_cleanup_close_ int tree =
		    open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
		if (tree < 0 || mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
			return -errno;
		r = oci_attach_tree(tree, dir, i);
	}
	return r;
}

void oci_exec_binds(const Plan *p, json_t *m, const char *bundle, const char *loader, bool attached)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		const FsRule *r = &p->rules[i];
		char canon[PATH_MAX], dest[PATH_MAX], src[PATH_MAX + 64];
		if (!exec_source(p, r, canon, dest))
			continue;
		if (attached)
			(void)snprintf(src, sizeof(src), "%s/exec/%zu", bundle, i);
		else
			(void)snprintf(src, sizeof(src), "%s", canon);
		if (loader && loader_only(r)) {
			/* the shim where the loader is; the loader where the shim maps it from */
			char shim[PATH_MAX + 64], real[64];
			(void)snprintf(shim, sizeof(shim), "%s/loader/%zu",
			               bundle ? bundle : "BUNDLE", i);
			(void)snprintf(real, sizeof(real), OCI_LOADER_DEST "%zu", i);
			bind_exec(m, dest, shim, true);
			bind_exec(m, real, src, false);
		} else
			bind_exec(m, dest, src, true);
	}
}
