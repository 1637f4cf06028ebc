/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the notifier counts as refused, as functions of a path or a file's owner and mode. */
#include "runner/notify-rules.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "basic/macro.h"

static gid_t groups[64];
static int n_groups;

static void read_groups(void)
{
	n_groups = getgroups(ELEMENTSOF(groups), groups);
}

/* The supervisor's supplementary groups, which a rootless sandbox keeps: read once (they do
 * not change during a run), not at every trapped open. */
static bool in_groups(gid_t gid)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	(void)pthread_once(&once, read_groups);
	for (int i = 0; i < n_groups; i++)
		if (groups[i] == gid)
			return true;
	return n_groups < 0; /* too many to tell: not a denial to report */
}

/* Run as root, the program is an unprivileged host id (SPEC §2.4): a file it sees but may
 * not open (a 0600 file of root's, /etc/shadow in mode rx, /proc/slabinfo) is refused by the
 * kernel's own permission check; rootless, the program is the caller. Foretold here from the mode
 * and owner the supervisor sees through the sandbox's mounts, where an id-mapped grant shows the
 * caller's files as the sandbox's; ACLs are not read (a file an ACL opens to others is reported
 * refused). */
bool denied_by_permissions(const Plan *p, const struct stat *st, bool write)
{
	/* rootless: the caller's own ids, and its supplementary groups, which a user namespace
	 * of an unprivileged user keeps (setgroups is denied there) */
	uid_t uid = p->id_base ? p->id_base + p->uid : p->outer_uid;
	gid_t gid = p->id_base ? p->id_base + p->gid : p->outer_gid;
	unsigned need = write ? 2 : 4;

	if (!S_ISREG(st->st_mode))
		return false;
	if (st->st_uid == uid)
		return !(((st->st_mode >> 6) & 7) & need);
	if (st->st_gid == gid || (!p->id_base && in_groups(st->st_gid)))
		return !(((st->st_mode >> 3) & 7) & need);
	return !((st->st_mode & 7) & need);
}

/* /proc is the sandbox's own: only what its layout refuses is a denial there — writes to
 * /proc/sys (read-only) and /proc/sysrq-trigger (root's), a process's `exe` opened for writing
 * (runc CVE-2019-5736), and PID 1's memory and environment (PID 1 is not dumpable). Reads
 * elsewhere in /proc are ordinary. */
bool proc_protected(const char *path, bool write)
{
	static const char *const pid1[] = {"environ", "mem",  "auxv",  "stack", "syscall",
	                                   "pagemap", "maps", "smaps", "fd",    "map_files"};
	const char *p = path + 6, *slash;

	if (write && (path_under(path, "/proc/sys") || streq(path, "/proc/sysrq-trigger")))
		return true;
	if (strncmp(path, "/proc/", 6) != 0 || !(slash = strchr(p, '/')))
		return false;
	if (write && streq(slash + 1, "exe"))
		return true;
	if (!(slash - p == 1 && p[0] == '1'))
		return false;
	for (size_t i = 0; i < ELEMENTSOF(pid1); i++)
		if (strncmp(slash + 1, pid1[i], strlen(pid1[i])) == 0 &&
		    (slash[1 + strlen(pid1[i])] == '\0' || slash[1 + strlen(pid1[i])] == '/'))
			return true;
	return false;
}
