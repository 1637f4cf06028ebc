/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The new mount API (Linux >= 5.12 for id maps), spelled out: the headers here predate it. */
#pragma once

#include <stdint.h>
#include <sys/mount.h>
#include <sys/syscall.h>

#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV  0x00000004
#define MOUNT_ATTR_NOEXEC 0x00000008
#endif
#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef RESOLVE_NO_SYMLINKS
#define RESOLVE_NO_SYMLINKS 0x04
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC 02000000
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

struct ob_mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};
struct ob_open_how {
	uint64_t flags, mode, resolve;
};

/* MS_* flags of a plan step as MOUNT_ATTR_* bits. */
static inline uint64_t mount_attrs(unsigned long flags)
{
	return ((flags & MS_RDONLY) ? MOUNT_ATTR_RDONLY : 0) |
	       ((flags & MS_NOSUID) ? MOUNT_ATTR_NOSUID : 0) |
	       ((flags & MS_NODEV) ? MOUNT_ATTR_NODEV : 0) |
	       ((flags & MS_NOEXEC) ? MOUNT_ATTR_NOEXEC : 0);
}
