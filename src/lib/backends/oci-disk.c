/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --limit disk under runc and crun run as root (plan/overlay.h, docs/design/disk.md): the
 * supervisor, root on the host, mounts the disk tmpfs in the bundle and an overlay over each
 * overlaid bind it attached there (oci-bundle.c); the runtime binds that as any other, and
 * the supervisor writes the upper layers back at the end as natively (runner/disk.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/oci.h"
#include "plan/overlay.h"

/* Layer N's upper and work directories in DISK; the upper takes the mode and owner of the
 * bind's root as the container sees it (the overlay's root shows the upper's). */
static int make_layer(const char *disk, unsigned n, const struct stat *st, char *upper, char *work,
                      size_t size)
{
	char dir[PATH_MAX + 32];

	(void)snprintf(dir, sizeof(dir), "%s/%u", disk, n);
	(void)snprintf(upper, size, "%s/u", dir);
	(void)snprintf(work, size, "%s/w", dir);
	if (mkdir(dir, 0700) < 0 || mkdir(upper, 0700) < 0 || mkdir(work, 0700) < 0 ||
	    chown(upper, st->st_uid, st->st_gid) < 0 || chmod(upper, st->st_mode & 07777) < 0)
		return -errno;
	return 0;
}

int oci_disk_overlays(const Plan *p, const char *dir, int *ret_fd)
{
	char disk[PATH_MAX + 16], lower[PATH_MAX + 48], upper[PATH_MAX + 48], work[PATH_MAX + 48];
	struct stat st;

	(void)snprintf(disk, sizeof(disk), "%s/disk", dir);
	if (mkdir(disk, 0700) < 0 ||
	    mount("omnibase-disk", disk, "tmpfs", MS_NOSUID | MS_NODEV, p->disk_data) < 0)
		return -errno;
	for (size_t i = 0; i < p->n_steps; i++) {
		const MountStep *s = &p->steps[i];
		if (!s->overlay)
			continue;
		(void)snprintf(lower, sizeof(lower), "%s/binds/%zu", dir, i);
		int r = stat(lower, &st) < 0 ? -errno : 0;
		if (r >= 0)
			r = make_layer(disk, s->overlay, &st, upper, work, sizeof(upper));
		if (r >= 0)
			r = overlay_mount(lower, upper, work, s->flags, /* userxattr= */ false);
		if (r < 0)
			return r;
	}
	int fd = open(disk, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}
