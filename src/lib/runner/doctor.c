/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The probe's findings for a person: one verdict per protection (yes, partial, no) with what
 * is missing, why, and the fix; then each backend with the tier it would run here. Pure: it
 * reads only the JSON, so tests feed it hosts this machine is not.
 */
#include "runner/doctor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"

/* What each Landlock ABI adds, and the first Linux release with it. */
static const struct {
	int abi;
	const char *kernel, *what;
} landlock_steps[] = {
    {1, "5.13", "file-system rules (the exec allow-list)"},
    {2, "5.19", "moving and linking files across directories (REFER)"},
    {3, "6.2", "truncation rules (TRUNCATE)"},
    {4, "6.7", "TCP connect rules (without them the network namespace alone confines)"},
    {5, "6.10", "device ioctl rules (IOCTL_DEV)"},
    {6, "6.12", "scoping of signals and abstract unix sockets"},
};

static bool flag(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

static const char *str(const json_t *o, const char *key, const char *fallback)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : fallback;
}

static void line(FILE *f, const char *name, const char *verdict, const char *text)
{
	(void)fprintf(f, "  %-15s %-8s %s\n", name, verdict, text);
}

static void landlock_line(FILE *f, const json_t *p)
{
	int abi = (int)json_integer_value(json_object_get(p, "landlock_abi"));
	char text[1024];
	size_t n = 0;
	int last = (int)ELEMENTSOF(landlock_steps);

	if (abi <= 0) {
		line(f, "landlock", "NO",
		     "no Landlock: runs need --allow-degraded (no file rules, no exec allow-list); "
		     "fix: Linux >= 5.13 with CONFIG_SECURITY_LANDLOCK and lsm=...,landlock");
		return;
	}
	int kernel = (int)json_integer_value(json_object_get(p, "landlock_abi_kernel"));
	n += (size_t)snprintf(text, sizeof(text), "ABI %d", abi);
	if (kernel > abi) /* a test knob said so */
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		                      " (the kernel's %d lowered by OB_TEST_LANDLOCK_ABI_MAX)",
		                      kernel);
	const char *sep = "; lacks ";
	for (int i = 0; i < last && n < sizeof(text); i++)
		if (landlock_steps[i].abi > abi) {
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%s (ABI %d, Linux %s)",
			                      sep, landlock_steps[i].what, landlock_steps[i].abi,
			                      landlock_steps[i].kernel);
			sep = ", ";
		}
	line(f, "landlock", abi >= landlock_steps[last - 1].abi ? "yes" : "partial", text);
}

static void userns_line(FILE *f, const json_t *p)
{
	char text[1024];

	if (flag(p, "userns")) {
		line(f, "userns", "yes",
		     flag(p, "namespaces") ? "user, mount, pid, net, ipc and uts namespaces"
		                           : "a user namespace, but not the others in it");
		return;
	}
	(void)snprintf(text, sizeof(text), "refused by %s; fix: %s",
	               str(p, "userns_blocker", "unknown"), str(p, "userns_fix", "unknown"));
	line(f, "userns", "NO", text);
}

static void cgroup_line(FILE *f, const json_t *p)
{
	const char *v = str(p, "cgroup", "none");
	const json_t *ctl = json_object_get(p, "cgroup_v2_controllers");
	char text[512];
	size_t n = 0;

	if (streq(v, "v2"))
		n = (size_t)snprintf(text, sizeof(text), "v2, limits by cgroup; delegated:");
	else if (streq(v, "v1"))
		n = (size_t)snprintf(text, sizeof(text),
		                     "v1 (memory, pids, cpu hierarchies), limits by cgroup; v2:");
	else
		n = (size_t)snprintf(text, sizeof(text),
		                     "none writable: memory and process limits by rlimits (fix: "
		                     "delegate a cgroup v2 subtree, e.g. systemd-run --user "
		                     "--scope -p Delegate=yes); v2:");
	size_t i;
	const json_t *c;
	json_array_foreach(ctl, i, c)
		if (n < sizeof(text))
			n += (size_t)snprintf(text + n, sizeof(text) - n, " %s",
			                      json_string_value(c));
	if (json_array_size(ctl) == 0 && n < sizeof(text))
		(void)snprintf(text + n, sizeof(text) - n, " no controllers");
	line(f, "cgroup", streq(v, "none") ? "partial" : "yes", text);
}

/* The tier the native backend runs here. */
const char *doctor_native_tier(const json_t *p)
{
	bool landlock = json_integer_value(json_object_get(p, "landlock_abi")) > 0;

	if (!flag(p, "seccomp_notify"))
		return "cannot run: no seccomp user notification (Linux >= 5.0)";
	if (flag(p, "userns"))
		return landlock ? "full: namespaces, Landlock, seccomp allow-list and notifier"
		                : "namespaces and seccomp; without Landlock only with "
		                  "--allow-degraded";
	return landlock ? "without namespaces, only with --allow-degraded: Landlock on host "
	                  "paths, seccomp (no sockets), rlimits; no network grants"
	                : "cannot run: no namespaces and no Landlock";
}

static void backends(FILE *f, const json_t *p)
{
	const json_t *b = json_object_get(p, "backends");
	static const char *const oci[] = {"gvisor", "runc", "crun"};

	(void)fprintf(f, "backends\n");
	bool landlock = json_integer_value(json_object_get(p, "landlock_abi")) > 0;
	line(f, "native",
	     !flag(p, "seccomp_notify")      ? "no"
	     : flag(p, "userns") && landlock ? "yes"
	     : flag(p, "userns") || landlock ? "degraded"
	                                     : "no",
	     doctor_native_tier(p));
	for (size_t i = 0; i < ELEMENTSOF(oci); i++) {
		const json_t *o = json_object_get(b, oci[i]);
		char text[512];
		if (!flag(o, "installed")) {
			line(f, oci[i], "no", "not installed");
			continue;
		}
		bool gvisor = streq(oci[i], "gvisor"), complete = flag(o, "complete");
		if (gvisor)
			(void)snprintf(text, sizeof(text),
			               "%s: gVisor's kernel, seccomp, egress proxy, the exec "
			               "allow-list by its mounts%s",
			               str(o, "version", "?"),
			               complete ? "; network grants as root only with "
			                          "--allow-degraded (no user namespace)"
			                        : "; only with --allow-degraded (omnibase-loader "
			                          "is not installed)");
		else
			(void)snprintf(text, sizeof(text), "%s: %s", str(o, "version", "?"),
			               flag(p, "root") ? "namespaces, cgroups, Landlock, seccomp"
			                               : "as root only");
		line(f, oci[i],
		     gvisor            ? (complete ? "yes" : "degraded")
		     : flag(p, "root") ? "yes"
		                       : "no",
		     text);
	}
}

static void verdict(FILE *f, const json_t *p)
{
	if (!flag(p, "userns"))
		(void)fprintf(f,
		              "verdict: new user namespaces are refused (%s): runs need "
		              "--allow-degraded and go without namespaces; fix: %s\n",
		              str(p, "userns_blocker", "unknown"), str(p, "userns_fix", "unknown"));
	else if (json_integer_value(json_object_get(p, "landlock_abi")) <= 0)
		(void)fprintf(f, "verdict: no Landlock: runs need --allow-degraded\n");
	else
		(void)fprintf(f, "verdict: the native backend runs with every protection it has "
		                 "here\n");
}

json_t *doctor_landlock_lacks(int abi)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < ELEMENTSOF(landlock_steps); i++)
		if (landlock_steps[i].abi > abi)
			(void)json_array_append_new(
			    a, json_pack("{s:i, s:s, s:s}", "abi", landlock_steps[i].abi, "linux",
			                 landlock_steps[i].kernel, "what", landlock_steps[i].what));
	return a;
}

int doctor_text(const json_t *p, char **ret)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return -ENOMEM;
	(void)fprintf(f, "omnibase %s on Linux %s, as %s\n", str(p, "version", "?"),
	              str(p, "kernel", "?"), flag(p, "root") ? "root" : "an unprivileged user");
	(void)fprintf(f, "protections\n");
	userns_line(f, p);
	landlock_line(f, p);
	line(f, "seccomp", flag(p, "seccomp_notify") ? "yes" : "NO",
	     flag(p, "seccomp_notify") ? "filters and the user-notification supervisor"
	                               : "no user notification: fix: Linux >= 5.0");
	line(f, "pidfd_getfd", flag(p, "pidfd_getfd") ? "yes" : "no",
	     flag(p, "pidfd_getfd") ? "the supervisor takes the program's sockets (Linux 5.6)"
	                            : "no transparent connects or unix-socket grants: fix: "
	                              "Linux >= 5.6");
	line(f, "addfd", flag(p, "addfd_setfd") ? "yes" : "no",
	     flag(p, "addfd_setfd") ? "SECCOMP_ADDFD_FLAG_SETFD: transparent egress"
	                            : "no transparent egress (the proxy alone, with "
	                              "--allow-degraded): fix: Linux >= 5.14");
	line(f, "memfd_noexec", flag(p, "memfd_noexec") ? "yes" : "no",
	     flag(p, "memfd_noexec") ? "memfds cannot be run around the exec allow-list"
	                             : "needs --allow-degraded with an exec allow-list: fix: "
	                               "Linux >= 6.3");
	cgroup_line(f, p);
	backends(f, p);
	verdict(f, p);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}
