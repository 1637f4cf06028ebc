/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* OCI bundles from a plan (see oci.h). */
#include "backends/oci.h"

#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include "basic/macro.h"
#include "plan/identity.h"

bool oci_runtime_owned(const MountStep *s)
{
	return strncmp(s->dest, "/dev/", 5) == 0 && !streq(s->dest, "/dev/shm");
}

bool oci_bind_in_bundle(const MountStep *s)
{
	return s->kind == STEP_BIND && !oci_runtime_owned(s) && !s->src_inside;
}

bool oci_userns(const Plan *p, const OciOptions *o)
{
	return p->id_base != 0 && !(o->gvisor && (o->rootless || o->netns));
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

static json_t *oci_mounts(const Plan *p, const char *bundle, bool trees, const char *helper,
                          bool exec_view, const char *loader)
{
	json_t *m = json_array();
	size_t nfile = 0;

	for (size_t i = 0; i < p->n_steps; i++) {
		const MountStep *s = &p->steps[i];
		char src[PATH_MAX + 32];
		switch (s->kind) {
		case STEP_BIND:
			if (!oci_bind_in_bundle(s)) /* /proc/sys: readonlyPaths */
				continue;
			/* in a user namespace, the tree the supervisor opened (and id-mapped, for
			 * a grant), attached in the bundle (oci_bundle_create) */
			(void)snprintf(src, sizeof(src), "%s/binds/%zu", bundle ? bundle : "", i);
			unsigned long noexec = exec_view && oci_exec_noexec(p, s) ? MS_NOEXEC : 0;
			(void)json_array_append_new(
			    m,
			    json_pack("{s:s, s:s, s:s, s:o}", "destination", s->dest, "type",
			              "bind", "source", trees && bundle ? src : s->src, "options",
			              mount_options(s->flags | MS_NOSUID | noexec, NULL, true)));
			if (exec_view)
				oci_exec_hide(p, s, m, bundle);
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
			if (!bundle)
				continue;
			(void)snprintf(src, sizeof(src), "%s/files/%zu", bundle, nfile++);
			(void)json_array_append_new(
			    m, json_pack("{s:s, s:s, s:s, s:[s,s,s,s,s]}", "destination", s->dest,
			                 "type", "bind", "source", src, "options", "bind", "ro",
			                 "nosuid", "nodev", "noexec"));
			break;
		default: /* directories and symlinks are made in the root itself */
			break;
		}
	}
	if (exec_view)
		oci_exec_binds(p, m, bundle, loader, trees && bundle);
	/* last, in the plan's /dev tmpfs: under mode rx or rwx the root is the host's, where
	 * the runtime could not (and must not) make a mount point */
	if (helper)
		(void)json_array_append_new(m, json_pack("{s:s, s:s, s:s, s:[s,s,s,s]}",
		                                         "destination", OCI_HELPER_DEST, "type",
		                                         "bind", "source", helper, "options",
		                                         "bind", "ro", "nosuid", "nodev"));
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
	uint64_t memory = p->limits.value[OB_LIMIT_MEMORY], disk = p->limits.value[OB_LIMIT_DISK];

	/* RLIMIT_NPROC besides the pids cgroup: gVisor's processes are not the host's, and
	 * its cgroup holds its own threads (docs/design/backends.md). RLIMIT_FSIZE: a file
	 * granted alone grows at most by --limit disk (omnibase-exec ignores SIGXFSZ, so a write
	 * past it fails with EFBIG; without the helper the signal ends the program). */
	json_t *o = json_pack(
	    "{s:b, s:{s:i, s:i}, s:o, s:o, s:s, s:{s:[], s:[], s:[], s:[], s:[]}, "
	    "s:[{s:s, s:I, s:I}, {s:s, s:i, s:i}, {s:s, s:I, s:I}, {s:s, s:I, s:I}], s:b}",
	    "terminal", false, "user", "uid", (int)p->uid, "gid", (int)p->gid, "args", args, "env",
	    string_array(p->envp), "cwd", p->cwd, "capabilities", "bounding", "effective",
	    "inheritable", "permitted", "ambient", "rlimits", "type", "RLIMIT_NOFILE", "hard",
	    (json_int_t)files, "soft", (json_int_t)files, "type", "RLIMIT_CORE", "hard", 0, "soft",
	    0, "type", "RLIMIT_NPROC", "hard", (json_int_t)pids, "soft", (json_int_t)pids, "type",
	    "RLIMIT_FSIZE", "hard", (json_int_t)disk, "soft", (json_int_t)disk, "noNewPrivileges",
	    true);
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

/* runc and crun as root: a user namespace whose ids 0..65535 are the plan's unprivileged host
 * range (SPEC §2.4, plan/identity.h); the program is its uid 1000. */
static json_t *oci_idmap(const Plan *p)
{
	return json_pack("[{s:i, s:I, s:I}]", "containerID", 0, "hostID", (json_int_t)p->id_base,
	                 "size", (json_int_t)IDENTITY_RANGE);
}

json_t *oci_config(const Plan *p, const OciOptions *opt, const char *bundle)
{
	bool helper = opt->helper && p->landlock_abi > 0, userns = oci_userns(p, opt);
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
	json_t *lx = json_pack("{s:o, s:o, s:o, s:o, s:o}", "namespaces", ns, "resources",
	                       oci_resources(p, opt->gvisor), "seccomp",
	                       oci_seccomp_json(opt->seccomp, opt->listener), "maskedPaths", masked,
	                       "readonlyPaths", readonly);
	if (lx && opt->cgroups_path)
		(void)json_object_set_new(lx, "cgroupsPath", json_string(opt->cgroups_path));
	if (lx && userns) {
		(void)json_array_append_new(ns, json_pack("{s:s}", "type", "user"));
		(void)json_object_set_new(lx, "uidMappings", oci_idmap(p));
		(void)json_object_set_new(lx, "gidMappings", oci_idmap(p));
	}
	return json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}", "ociVersion", "1.0.2",
	                 "process", oci_process(p, helper, opt->rootless), "root", "path", "rootfs",
	                 "readonly", true, "hostname", "sandbox", "mounts",
	                 oci_mounts(p, bundle, userns, helper ? opt->helper : NULL,
	                            opt->gvisor && p->landlock_abi > 0,
	                            opt->gvisor ? opt->loader : NULL),
	                 "linux", lx);
}
