/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "runner/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/macro.h"

static const char *const v1_names[CG_MAX] = {"memory", "pids", "cpu"};

static int write_str(const char *dir, const char *file, const char *text)
{
	char path[PATH_MAX + 64];

	(void)snprintf(path, sizeof(path), "%s/%s", dir, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, text, strlen(text));
	return n == (ssize_t)strlen(text) ? 0 : (n < 0 ? -errno : -EIO);
}

static int read_str(const char *dir, const char *file, char *buf, size_t size)
{
	char path[PATH_MAX + 64];

	(void)snprintf(path, sizeof(path), "%s/%s", dir, file);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static bool list_has(const char *list, const char *item)
{
	size_t n = strlen(item);

	for (const char *p = list; *p;) {
		const char *e = strchrnul(p, ',');
		if ((size_t)(e - p) == n && strncmp(p, item, n) == 0)
			return true;
		p = *e ? e + 1 : e;
	}
	return false;
}

/* The supervisor's own cgroup for CONTROLLER ("" for the v2 hierarchy), from the
 * "ID:CONTROLLERS:PATH" lines of /proc/self/cgroup. */
static int own_cgroup(const char *controller, char *buf, size_t size)
{
	char line[PATH_MAX + 64];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (r < 0 && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
		if (!b)
			continue;
		*a = *b = '\0';
		if (controller[0] ? list_has(a + 1, controller) : a[1] == '\0') {
			(void)snprintf(buf, size, "%s", b + 1);
			r = 0;
		}
	}
	(void)fclose(f);
	return r;
}

/* Removes the "omnibase-*" cgroups a killed supervisor left in DIR.  A live run holds an
 * flock on its cgroup and a new one is younger than a few seconds: neither is touched.  And
 * rmdir(2) refuses a cgroup that still has processes anyway. */
static void collect_stale(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	time_t now = time(NULL);

	if (!d)
		return;
	while ((de = readdir(d))) {
		struct stat st;
		if (de->d_type != DT_DIR || strncmp(de->d_name, "omnibase-", 9) != 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    now - st.st_ctime < 10)
			continue;
		int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			(void)unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
		(void)close(fd);
	}
	(void)closedir(d);
}

/* Makes the cgroup directory PATH and takes the lock that marks it as alive. */
static int make_locked(const char *path, int *ret_fd)
{
	if (mkdir(path, 0755) < 0)
		return -errno;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		int r = -errno;
		if (fd >= 0)
			(void)close(fd);
		(void)rmdir(path);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

/* AT_ROOT: at the top of each hierarchy rather than under the supervisor's own cgroup (one
 * path in every controller, as an OCI cgroupsPath names it). PIDS: pids.max set (else "max"). */
static int v1_create(Cgroup *cg, const char *id, const ob_limits *l, bool at_root, bool pids)
{
	char own[PATH_MAX], v[64];
	int r;

	for (int c = 0; c < CG_MAX; c++) {
		r = at_root ? 0 : own_cgroup(v1_names[c], own, sizeof(own));
		if (r < 0)
			return r;
		if (at_root)
			(void)snprintf(own, sizeof(own), "/");
		(void)snprintf(cg->path[c], sizeof(cg->path[c]), "/sys/fs/cgroup/%s%s", v1_names[c],
		               streq(own, "/") ? "" : own);
		collect_stale(cg->path[c]);
		(void)snprintf(cg->path[c] + strlen(cg->path[c]),
		               sizeof(cg->path[c]) - strlen(cg->path[c]), "/omnibase-%s", id);
		r = make_locked(cg->path[c], &cg->lock_fd[c]);
		if (r < 0)
			return r;
		cg->version = 1; /* from here on, cgroup_destroy() cleans up */
	}
	(void)snprintf(v, sizeof(v), "%llu", (unsigned long long)l->value[OB_LIMIT_MEMORY]);
	r = write_str(cg->path[CG_MEMORY], "memory.limit_in_bytes", v);
	if (r >= 0) /* no swap beyond the limit, where swap accounting exists */
		(void)write_str(cg->path[CG_MEMORY], "memory.memsw.limit_in_bytes", v);
	if (pids)
		(void)snprintf(v, sizeof(v), "%llu", (unsigned long long)l->value[OB_LIMIT_PIDS]);
	else
		(void)snprintf(v, sizeof(v), "max");
	if (r >= 0)
		r = write_str(cg->path[CG_PIDS], "pids.max", v);
	(void)snprintf(v, sizeof(v), "%llu", (unsigned long long)l->value[OB_LIMIT_CPUS] * 100);
	if (r >= 0)
		r = write_str(cg->path[CG_CPU], "cpu.cfs_period_us", "100000");
	if (r >= 0)
		r = write_str(cg->path[CG_CPU], "cpu.cfs_quota_us", v);
	return r;
}

/* The supervisor's v2 cgroup in BASE, when it has memory and pids to delegate. */
static int v2_base(char *base, size_t size)
{
	char own[PATH_MAX], ctl[256];
	int r = own_cgroup("", own, sizeof(own));

	if (r < 0)
		return r;
	(void)snprintf(base, size, "/sys/fs/cgroup%s", streq(own, "/") ? "" : own);
	if (read_str(base, "cgroup.controllers", ctl, sizeof(ctl)) < 0 || !strstr(ctl, "memory") ||
	    !strstr(ctl, "pids"))
		return -EOPNOTSUPP;
	return 0;
}

static bool v2_usable(void)
{
	char base[PATH_MAX + 32];
	return v2_base(base, sizeof(base)) >= 0;
}

static int v2_create(Cgroup *cg, const char *id, const ob_limits *l)
{
	char base[PATH_MAX + 32], v[64];
	int r = v2_base(base, sizeof(base));

	if (r < 0)
		return r;
	(void)write_str(base, "cgroup.subtree_control", "+memory +pids +cpu");
	collect_stale(base);
	(void)snprintf(cg->path[0], sizeof(cg->path[0]), "%s/omnibase-%s", base, id);
	r = make_locked(cg->path[0], &cg->lock_fd[0]);
	if (r < 0)
		return r;
	cg->version = 2;
	(void)snprintf(v, sizeof(v), "%llu", (unsigned long long)l->value[OB_LIMIT_MEMORY]);
	r = write_str(cg->path[0], "memory.max", v);
	if (r >= 0)
		(void)write_str(cg->path[0], "memory.swap.max", "0");
	(void)snprintf(v, sizeof(v), "%llu", (unsigned long long)l->value[OB_LIMIT_PIDS]);
	if (r >= 0)
		r = write_str(cg->path[0], "pids.max", v);
	(void)snprintf(v, sizeof(v), "%llu 100000",
	               (unsigned long long)l->value[OB_LIMIT_CPUS] * 100);
	if (r >= 0)
		(void)write_str(cg->path[0], "cpu.max", v); /* cpu may not be delegated */
	return r;
}

void cgroup_init(Cgroup *cg)
{
	*cg = (Cgroup){.lock_fd = {-1, -1, -1}};
}

int cgroup_create(Cgroup *cg, const char *id, const ob_limits *limits)
{
	cgroup_init(cg);
	int r = v2_create(cg, id, limits);
	if (r >= 0)
		return 0;
	cgroup_destroy(cg);
	cgroup_init(cg);
	/* OB_TEST_CGROUP_NO_V1=1 simulates a host with cgroup v2 only: v1 is left unused (a test
	 * knob that can only take cgroups away, never add them) */
	const char *no_v1 = getenv("OB_TEST_CGROUP_NO_V1");
	if (no_v1 && streq(no_v1, "1"))
		return 0;
	r = v1_create(cg, id, limits, false, true);
	if (r >= 0)
		return 0;
	cgroup_destroy(cg);
	return 0; /* none: the caller falls back to rlimits */
}

/* FN on each v1 hierarchy mounted under /sys/fs/cgroup (blkio, freezer, the named systemd
 * one, …: the co-mounted names are symlinks, skipped) with its path. */
static void each_v1_hierarchy(void (*fn)(const char *path, const char *name), const char *name)
{
	DIR *d = opendir("/sys/fs/cgroup");
	struct dirent *de;
	char path[PATH_MAX];

	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_type == DT_DIR && de->d_name[0] != '.' && !streq(de->d_name, "unified")) {
			(void)snprintf(path, sizeof(path), "/sys/fs/cgroup/%s", de->d_name);
			fn(path, name);
		}
	(void)closedir(d);
}

static void stale_in(const char *path, const char *name)
{
	(void)name;
	collect_stale(path);
}

static void remove_in(const char *path, const char *name)
{
	char dir[PATH_MAX + 80];
	(void)snprintf(dir, sizeof(dir), "%s/%s", path, name);
	(void)rmdir(dir);
}

int cgroup_create_for_runtime(Cgroup *cg, const char *id, const ob_limits *limits, char *ret_path,
                              size_t size)
{
	cgroup_init(cg);
	ret_path[0] = '\0';
	/* only where v1 is what the host uses (as cgroup_create chooses) */
	const char *no_v1 = getenv("OB_TEST_CGROUP_NO_V1");
	if ((no_v1 && streq(no_v1, "1")) || v2_usable())
		return 0;
	int r = v1_create(cg, id, limits, true, false);
	if (r < 0) {
		cgroup_destroy(cg);
		return 0;
	}
	/* runsc makes the path in every hierarchy and, its sandbox in a user namespace, removes
	 * none of them: what killed runs left is collected as for ours, this run's at its end */
	each_v1_hierarchy(stale_in, NULL);
	(void)snprintf(cg->runtime_name, sizeof(cg->runtime_name), "omnibase-%s", id);
	(void)snprintf(ret_path, size, "/omnibase-%s", id);
	return 0;
}

int cgroup_attach(const Cgroup *cg, pid_t pid)
{
	char v[32];

	(void)snprintf(v, sizeof(v), "%d", (int)pid);
	return cg->version == 2 ? write_str(cg->path[0], "cgroup.procs", v) : 0;
}

int cgroup_open_join_fds(const Cgroup *cg, int fds[CG_MAX])
{
	char path[PATH_MAX + 16];

	for (int c = 0; c < CG_MAX; c++)
		fds[c] = -1;
	for (int c = 0; c < CG_MAX && cg->version == 1; c++) {
		(void)snprintf(path, sizeof(path), "%s/tasks", cg->path[c]);
		fds[c] = open(path, O_WRONLY | O_CLOEXEC);
		if (fds[c] < 0)
			return -errno;
	}
	return 0;
}

static uint64_t field(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

void cgroup_stats(const Cgroup *cg, CgroupStats *st)
{
	char buf[1024];

	*st = (CgroupStats){0};
	if (cg->version == 1) {
		if (read_str(cg->path[CG_MEMORY], "memory.oom_control", buf, sizeof(buf)) >= 0)
			st->oom = field(buf, "oom_kill ") > 0;
		if (read_str(cg->path[CG_MEMORY], "memory.failcnt", buf, sizeof(buf)) >= 0)
			st->oom = st->oom || strtoull(buf, NULL, 10) > 0;
		if (read_str(cg->path[CG_MEMORY], "memory.max_usage_in_bytes", buf, sizeof(buf)) >=
		    0)
			st->memory_peak = strtoull(buf, NULL, 10);
		if (read_str(cg->path[CG_PIDS], "pids.events", buf, sizeof(buf)) >= 0)
			st->pids_max = field(buf, "max ") > 0;
		if (read_str(cg->path[CG_CPU], "cpu.stat", buf, sizeof(buf)) >= 0)
			st->cpu_throttled = field(buf, "nr_throttled ") > 0;
	} else if (cg->version == 2) {
		if (read_str(cg->path[0], "memory.events", buf, sizeof(buf)) >= 0)
			st->oom = field(buf, "oom_kill ") > 0 || field(buf, "max ") > 0;
		if (read_str(cg->path[0], "memory.peak", buf, sizeof(buf)) >= 0)
			st->memory_peak = strtoull(buf, NULL, 10);
		if (read_str(cg->path[0], "pids.events", buf, sizeof(buf)) >= 0)
			st->pids_max = field(buf, "max ") > 0;
		if (read_str(cg->path[0], "cpu.stat", buf, sizeof(buf)) >= 0)
			st->cpu_throttled = field(buf, "nr_throttled ") > 0;
	}
}

void cgroup_destroy(Cgroup *cg)
{
	for (int c = 0; c < CG_MAX; c++) {
		if (!cg->path[c][0])
			continue;
		/* The pid namespace's last processes are being killed: give them a moment. */
		for (int i = 0; i < 200 && rmdir(cg->path[c]) < 0 && errno == EBUSY; i++)
			(void)nanosleep(&(struct timespec){.tv_nsec = 5L * 1000 * 1000}, NULL);
		cg->path[c][0] = '\0';
	}
	for (int c = 0; c < CG_MAX; c++)
		if (cg->lock_fd[c] >= 0) {
			(void)close(cg->lock_fd[c]);
			cg->lock_fd[c] = -1;
		}
	if (cg->runtime_name[0])
		each_v1_hierarchy(remove_in, cg->runtime_name);
	cg->runtime_name[0] = '\0';
	cg->version = 0;
}

const char *cgroup_version_string(const Cgroup *cg)
{
	return cg->version == 2 ? "v2" : cg->version == 1 ? "v1" : "none";
}
