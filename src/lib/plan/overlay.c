/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which binds go under an overlay, and the size of the tmpfs their upper layers share. */
#include "plan/overlay.h"

#include <stdio.h>
#include <sys/mount.h>

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

int overlay_decision(bool native, bool allow_degraded, Plan *p, ob_error *reterr)
{
	p->disk_may_degrade = allow_degraded;
	if (native || p->n_overlays == 0)
		return 0;
	if (!allow_degraded)
		return ob_error_set(reterr, -EOPNOTSUPP,
		                    "--limit disk: this backend cannot bound what the program "
		                    "writes through --workdir and FILE_WRITE directories (only the "
		                    "native backend puts them under an overlay); refusing to run "
		                    "less confined than asked (--allow-degraded binds them "
		                    "unbounded)");
	plan_overlay_drop(p);
	p->disk_unbounded = true;
	return 0;
}
