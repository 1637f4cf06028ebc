/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which binds go under an overlay, and the size of the tmpfs their upper layers share. */
#include "plan/overlay.h"

#include <errno.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/error.h"

uint64_t overlay_inodes(uint64_t bytes)
{
	uint64_t n = bytes / 4096;

	/* an empty file costs an inode and no block: without nr_inodes a million of them fit
	 * in any size (and each costs kernel memory), so the count is bounded too */
	if (n < 1024)
		return 1024;
	return n > (UINT64_C(4) << 20) ? UINT64_C(4) << 20 : n;
}

void plan_overlay_add(Plan *p, size_t step)
{
	MountStep *s = &p->steps[step];
	uint64_t bytes = p->limits.value[OB_LIMIT_DISK];

	/* a file bound alone cannot carry an overlay: RLIMIT_FSIZE bounds it (spawn.c) */
	if (s->kind != STEP_BIND || !s->src_is_dir || (s->flags & MS_RDONLY) || s->overlay)
		return;
	s->overlay = ++p->n_overlays;
	(void)snprintf(p->disk_data, sizeof(p->disk_data), "mode=0700,size=%llu,nr_inodes=%llu",
	               (unsigned long long)bytes, (unsigned long long)overlay_inodes(bytes));
}

void plan_overlay_drop(Plan *p)
{
	for (size_t i = 0; i < p->n_steps; i++)
		p->steps[i].overlay = 0;
	p->n_overlays = 0;
	p->disk_data[0] = '\0';
}

int overlay_decision(bool supported, bool allow_degraded, Plan *p, ob_error *reterr)
{
	p->disk_may_degrade = allow_degraded;
	if (supported || p->n_overlays == 0)
		return 0;
	if (!allow_degraded)
		return ob_error_set(
		    reterr, -EOPNOTSUPP,
		    "--limit disk: this backend cannot bound what the program "
		    "writes through --workdir and FILE_WRITE directories (the native "
		    "backend, and runc and crun run as root, put them under an "
		    "overlay); refusing to run less confined than asked "
		    "(--allow-degraded binds them unbounded)");
	plan_overlay_drop(p);
	p->disk_unbounded = true;
	return 0;
}

/* Said outright, whatever the kernel's defaults: no metacopy, no redirects (the upper layer
 * then holds whole files and directories under their own names, which is what the write-back
 * reads; renaming a directory of the host gives EXDEV, and tools copy). xino off: a file
 * shows its layer's own inode number, which runner/notify-unix.c compares with the upper
 * layer's. In a user namespace (USERXATTR) the overlay keeps its marks (opaque directories)
 * in user.overlay.*, else in trusted.overlay.*. */
int overlay_mount(const char *lower, const char *upper, const char *work, unsigned long flags,
                  bool userxattr)
{
	uint64_t attrs = (flags & MS_RDONLY ? MOUNT_ATTR_RDONLY : 0) |
	                 (flags & MS_NOSUID ? MOUNT_ATTR_NOSUID : 0) |
	                 (flags & MS_NODEV ? MOUNT_ATTR_NODEV : 0) |
	                 (flags & MS_NOEXEC ? MOUNT_ATTR_NOEXEC : 0);
	int r = 0;

	int fs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir+", lower, 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 ||
	    (userxattr && syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0) ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "xino", "off", 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "metacopy", "off", 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "redirect_dir", "nofollow", 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		r = -errno;
	int m = r < 0 ? -1 : (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attrs);
	if (r >= 0 && m < 0)
		r = -errno;
	(void)close(fs);
	if (m >= 0 && syscall(SYS_move_mount, m, "", AT_FDCWD, lower, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		r = -errno;
	if (m >= 0)
		(void)close(m);
	return r;
}
