/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* OCI bundles from a plan (see oci.h). */
#include "backends/oci.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/macro.h"

/* The runtime makes /dev (its default devices, pts, shm) and the /dev links itself. */
static bool runtime_owned(const MountStep *s)
{
	return strncmp(s->dest, "/dev/", 5) == 0 && !streq(s->dest, "/dev/shm");
}

static json_t *mount_options(unsigned long flags, const char *data, bool bind)
{
	json_t *o = json_array();

	if (bind)
		(void)json_array_append_new(o, json_string("rbind"));
	if (flags & MS_RDONLY)
		(void)json_array_append_new(o, json_string("ro"));
	if (flags & MS_NOSUID)
		(void)json_array_append_new(o, json_string("nosuid"));
	if (flags & MS_NODEV)
		(void)json_array_append_new(o, json_string("nodev"));
	if (flags & MS_NOEXEC)
		(void)json_array_append_new(o, json_string("noexec"));
	/* a tmpfs's data ("mode=1777,size=...") as options */
	for (const char *p = data; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		(void)json_array_append_new(o, json_stringn(p, len));
		p += len + (comma ? 1 : 0);
	}
	return o;
}

static json_t *oci_mounts(const Plan *p, const char *files_dir, const char *helper)
{
	json_t *m = json_array();
	size_t nfile = 0;

	if (helper)
		(void)json_array_append_new(m, json_pack("{s:s, s:s, s:s, s:[s,s,s,s]}",
		                                         "destination", OCI_HELPER_DEST, "type",
		                                         "bind", "source", helper, "options",
		                                         "bind", "ro", "nosuid", "nodev"));
	for (size_t i = 0; i < p->n_steps; i++) {
		const MountStep *s = &p->steps[i];
		char src[PATH_MAX + 32];
		switch (s->kind) {
		case STEP_BIND:
			if (runtime_owned(s) || s->src_inside) /* /proc/sys: readonlyPaths */
				continue;
			(void)json_array_append_new(
			    m, json_pack("{s:s, s:s, s:s, s:o}", "destination", s->dest, "type",
			                 "bind", "source", s->src, "options",
			                 mount_options(s->flags | MS_NOSUID, NULL, true)));
			break;
		case STEP_TMPFS:
		case STEP_PROC:
		case STEP_DEVPTS: {
			static const char *const fs[] = {
			    [STEP_TMPFS] = "tmpfs", [STEP_PROC] = "proc", [STEP_DEVPTS] = "devpts"};
			/* devpts: no gid= (the tty group may not be mapped) */
			const char *data = s->kind == STEP_DEVPTS
			                       ? "newinstance,ptmxmode=0666,mode=0620"
			                       : s->data;
			json_t *o = mount_options(s->flags, data, false);
			/* natively the sandbox's user makes its file systems and owns them (its
			 * /run/secrets is 0500): here the runtime's root makes them */
			if (s->kind == STEP_TMPFS) {
				(void)json_array_append_new(
				    o, json_sprintf("uid=%u", (unsigned)p->uid));
				(void)json_array_append_new(
				    o, json_sprintf("gid=%u", (unsigned)p->gid));
			}
			(void)json_array_append_new(
			    m, json_pack("{s:s, s:s, s:s, s:o}", "destination", s->dest, "type",
			                 fs[s->kind], "source", fs[s->kind], "options", o));
			break;
		}
		case STEP_SECRET:
		case STEP_FILE:
			if (!files_dir)
				continue;
			(void)snprintf(src, sizeof(src), "%s/%zu", files_dir, nfile++);
			(void)json_array_append_new(
			    m, json_pack("{s:s, s:s, s:s, s:[s,s,s,s,s]}", "destination", s->dest,
			                 "type", "bind", "source", src, "options", "bind", "ro",
			                 "nosuid", "nodev", "noexec"));
			break;
		default: /* directories and symlinks are made in the root itself */
			break;
		}
	}
	return m;
}

static json_t *string_array(char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++)
		(void)json_array_append_new(a, json_string(v[i]));
	return a;
}

/* What the runtime executes: the resolved file; through the helper, which applies the plan's
 * Landlock rules first ("omnibase-exec ABI ACCESS:PATH... -- FILE ARGS..."). */
static json_t *oci_args(const Plan *p, bool helper)
{
	json_t *args = json_array();
	char rule[PATH_MAX + 32];

	if (helper) {
		(void)snprintf(rule, sizeof(rule), "%d", p->landlock_abi);
		(void)json_array_append_new(args, json_string(OCI_HELPER_DEST));
		(void)json_array_append_new(args, json_string(rule));
		for (size_t i = 0; i < p->n_rules; i++) {
			(void)snprintf(rule, sizeof(rule), "%llx:%s",
			               (unsigned long long)p->rules[i].access, p->rules[i].path);
			(void)json_array_append_new(args, json_string(rule));
		}
		(void)json_array_append_new(args, json_string("--"));
	}
	(void)json_array_append_new(args, json_string(p->exec_path));
	for (size_t i = 1; p->argv[0] && p->argv[i]; i++)
		(void)json_array_append_new(args, json_string(p->argv[i]));
	return args;
}

static json_t *oci_process(const Plan *p, bool helper, bool rootless)
{
	json_t *args = oci_args(p, helper);
	uint64_t files = p->limits.value[OB_LIMIT_FILES], pids = p->limits.value[OB_LIMIT_PIDS];
	uint64_t memory = p->limits.value[OB_LIMIT_MEMORY];

	/* RLIMIT_NPROC besides the pids cgroup: gVisor's processes are not the host's, and
	 * its cgroup holds its own threads (docs/design/backends.md) */
	json_t *o =
	    json_pack("{s:b, s:{s:i, s:i}, s:o, s:o, s:s, s:{s:[], s:[], s:[], s:[], s:[]}, "
	              "s:[{s:s, s:I, s:I}, {s:s, s:i, s:i}, {s:s, s:I, s:I}], s:b}",
	              "terminal", false, "user", "uid", (int)p->uid, "gid", (int)p->gid, "args",
	              args, "env", string_array(p->envp), "cwd", p->cwd, "capabilities", "bounding",
	              "effective", "inheritable", "permitted", "ambient", "rlimits", "type",
	              "RLIMIT_NOFILE", "hard", (json_int_t)files, "soft", (json_int_t)files, "type",
	              "RLIMIT_CORE", "hard", 0, "soft", 0, "type", "RLIMIT_NPROC", "hard",
	              (json_int_t)pids, "soft", (json_int_t)pids, "noNewPrivileges", true);
	/* rootless gVisor has no cgroup: the memory limit as RLIMIT_AS, which its memory
	 * manager enforces (RLIMIT_DATA, the native backend's choice without a cgroup, it
	 * accepts and ignores: tested) */
	if (o && rootless)
		(void)json_array_append_new(json_object_get(o, "rlimits"),
		                            json_pack("{s:s, s:I, s:I}", "type", "RLIMIT_AS",
		                                      "hard", (json_int_t)memory, "soft",
		                                      (json_int_t)memory));
	return o;
}

static json_t *oci_resources(const Plan *p, bool gvisor)
{
	const uint64_t *v = p->limits.value;
	const int64_t period = 100000; /* µs */

	json_t *r = json_pack(
	    "{s:{s:I, s:I}, s:{s:I, s:I}}", "memory", "limit", (json_int_t)v[OB_LIMIT_MEMORY],
	    "swap", (json_int_t)v[OB_LIMIT_MEMORY], "cpu", "quota",
	    (json_int_t)(v[OB_LIMIT_CPUS] * (uint64_t)period / 1000), "period", (json_int_t)period);
	/* gVisor's cgroup holds the Sentry's own threads: the pids limit would starve it */
	if (r && !gvisor)
		(void)json_object_set_new(
		    r, "pids", json_pack("{s:I}", "limit", (json_int_t)v[OB_LIMIT_PIDS]));
	return r;
}

json_t *oci_config(const Plan *p, const OciOptions *opt, const char *files_dir)
{
	bool helper = opt->helper && p->landlock_abi > 0;
	/* What the native layout hides or makes read-only under /proc and /sys, by path. */
	json_t *masked = json_pack("[s,s,s,s,s,s,s,s]", "/proc/kcore", "/proc/keys",
	                           "/proc/timer_list", "/proc/sched_debug", "/proc/acpi",
	                           "/proc/scsi", "/sys/firmware", "/proc/latency_stats");
	json_t *readonly = json_pack("[s,s,s,s,s,s]", "/proc/sys", "/proc/sysrq-trigger",
	                             "/proc/irq", "/proc/bus", "/proc/fs", "/proc/asound");
	/* an empty network namespace: nothing but loopback (and with network grants the
	 * supervisor's, holding the egress proxy's listener) */
	json_t *net = opt->netns ? json_pack("{s:s, s:s}", "type", "network", "path", opt->netns)
	                         : json_pack("{s:s}", "type", "network");
	json_t *ns = json_pack("[{s:s}, o, {s:s}, {s:s}, {s:s}, {s:s}]", "type", "pid", net, "type",
	                       "ipc", "type", "uts", "type", "mount", "type", "cgroup");
	return json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:{s:o, s:o, s:o, s:o, s:o}}",
	                 "ociVersion", "1.0.2", "process", oci_process(p, helper, opt->rootless),
	                 "root", "path", "rootfs", "readonly", true, "hostname", "sandbox",
	                 "mounts", oci_mounts(p, files_dir, helper ? opt->helper : NULL), "linux",
	                 "namespaces", ns, "resources", oci_resources(p, opt->gvisor), "seccomp",
	                 oci_seccomp_json(opt->seccomp, opt->listener), "maskedPaths", masked,
	                 "readonlyPaths", readonly);
}

/* ---------------------------------------------------------------- the bundle on disk */

static int write_all(const char *path, const char *data, size_t len, mode_t mode)
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

/* The plan's directories and symlinks, in the root; its generated files, in FILES (owned by
 * the sandbox's user: a secret is 0400). */
static int populate(const Plan *p, const char *root, const char *files)
{
	/* the files are the sandbox user's: chowned as root; rootless (gVisor) they stay the
	 * caller's, which gVisor shows as its root's — readable by all then (nobody but the
	 * program is inside; on the host they stay in the caller's private bundle) */
	bool own = geteuid() == 0;
	char path[PATH_MAX + 64];
	size_t nfile = 0;
	int r = 0;

	for (size_t i = 0; r >= 0 && i < p->n_steps; i++) {
		const MountStep *s = &p->steps[i];
		if (runtime_owned(s) || streq(s->dest, "/dev"))
			continue;
		(void)snprintf(path, sizeof(path), "%s%s", root, s->dest);
		if (s->kind == STEP_DIR)
			r = mkdir(path, 0755) < 0 && errno != EEXIST ? -errno : 0;
		else if (s->kind == STEP_SYMLINK)
			r = symlink(s->src, path) < 0 ? -errno : 0;
		else if (s->kind == STEP_SECRET || s->kind == STEP_FILE) {
			(void)snprintf(path, sizeof(path), "%s/%zu", files, nfile++);
			r = write_all(path, s->data, s->data_len,
			              s->kind == STEP_SECRET && own ? 0400 : 0444);
			if (r >= 0 && own && chown(path, p->uid, p->gid) < 0)
				r = -errno;
		}
	}
	return r;
}

int oci_bundle_create(const Plan *p, const OciOptions *o, OciBundle *b, ob_error *reterr)
{
	const char *tmp = getenv("TMPDIR");
	char root[PATH_MAX + 16], files[PATH_MAX + 16], config[PATH_MAX + 16];

	(void)snprintf(b->dir, sizeof(b->dir), "%s/omnibase-oci-XXXXXX",
	               tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(b->dir)) {
		int e = -errno;
		b->dir[0] = '\0';
		return ob_error_set(reterr, e, "the OCI bundle's directory: %s", strerror(-e));
	}
	(void)snprintf(root, sizeof(root), "%s/rootfs", b->dir);
	(void)snprintf(files, sizeof(files), "%s/files", b->dir);
	(void)snprintf(config, sizeof(config), "%s/config.json", b->dir);
	int r = mkdir(root, 0755) < 0 || mkdir(files, 0700) < 0 ? -errno : 0;
	if (r >= 0)
		r = populate(p, root, files);
	json_t *c = r >= 0 ? oci_config(p, o, files) : NULL;
	char *text = c ? json_dumps(c, JSON_INDENT(1)) : NULL;
	json_decref(c);
	if (r >= 0)
		r = text ? write_all(config, text, strlen(text), 0600) : -ENOMEM;
	free(text);
	if (r < 0) {
		oci_bundle_remove(b);
		return ob_error_set(reterr, r, "writing the OCI bundle: %s", strerror(-r));
	}
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -1 : 0;
}

void oci_bundle_remove(OciBundle *b)
{
	if (b->dir[0])
		(void)nftw(b->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	b->dir[0] = '\0';
}
