/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The disk limit (--limit disk, docs/design/disk.md): a writable host bind is mounted under
 * an overlay whose upper layer lives on one tmpfs of the run, sized by the limit in bytes
 * and in inodes, so the kernel answers ENOSPC past it; the supervisor writes the upper
 * layers back to the host when the program has ended (runner/writeback.c).
 *
 * On the disk tmpfs, layer N (1, 2, …) has its upper directory at "N/u" and the overlay's
 * work directory at "N/w".
 */
#pragma once

#include <stddef.h>

#include "plan/types.h"

/* Where the child mounts the disk tmpfs in its staging root, before the new root exists. */
#define OVERLAY_DISK_DIR "/disk"

/* Files a disk limit of BYTES allows: one per 4 KiB, at least 1024, at most 4 Mi. */
uint64_t overlay_inodes(uint64_t bytes);
/* Puts the writable bind STEP of P under an overlay (nothing for a read-only one), and
 * writes the disk tmpfs's mount data from P's disk limit. */
void plan_overlay_add(Plan *p, size_t step);
/* Fail closed: a backend that cannot mount the overlays (not SUPPORTED: gVisor, rootless
 * OCI) runs the writable binds unbounded with --allow-degraded (P's overlays dropped,
 * disk_unbounded set for SandboxDegraded "disk"), else -EOPNOTSUPP. */
int overlay_decision(bool supported, bool allow_degraded, Plan *p, ob_error *reterr);
/* An overlay of LOWER (a directory: its own file system only) with UPPER and WORK, mounted
 * over LOWER with FLAGS (MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC); USERXATTR when made in
 * a user namespace.  Allocation-free (the native child calls it after clone).  0 or -errno. */
int overlay_mount(const char *lower, const char *upper, const char *work, unsigned long flags,
                  bool userxattr);
/* Binds every overlaid step of P directly again (a backend without the overlay, with
 * --allow-degraded): writes then reach the host unbounded. */
void plan_overlay_drop(Plan *p);
