/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writing an overlay's upper layer back into the host directory it covered, when the
 * program has ended (--limit disk; docs/design/disk.md).  What the upper layer holds is the
 * program's, so it is read as untrusted data and the host is touched only beneath the
 * granted directory:
 *  - every host name is opened relative to its directory's fd with openat2
 *    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV: a
 *    symlink or a mount point on the host is never gone through, a symlink in the way is
 *    replaced, not followed;
 *  - only regular files, directories and symlinks are written; devices, FIFOs and sockets
 *    are skipped; a whiteout (character device 0/0) removes the host's entry, an opaque
 *    directory (user.overlay.opaque "y") empties the host's first;
 *  - modes keep their permission bits only (never set-user-ID, set-group-ID), no extended
 *    attribute is copied (never security.*);
 *  - a hard link in the layer becomes separate files; an existing host file is rewritten in
 *    place (its owner and links kept, as the bind did), a new entry is made the caller's.
 */
#pragma once

#include <limits.h>
#include <sys/types.h>

/* Deeper than this the layer is not followed (the fds of the walk stay bounded). */
#define WRITEBACK_MAX_DEPTH 256

typedef struct Writeback {
	uid_t uid; /* owner given to new host entries, or (uid_t)-1: the writer's own */
	gid_t gid;
	unsigned written, removed, skipped; /* entries */
	int error;                          /* the first failure (-errno), or 0 */
	char first[PATH_MAX];               /* the path of the first failure or skip */
	char path[PATH_MAX];                /* where the walk is, relative to the top */
} Writeback;

/* Writes the upper layer whose root is the directory fd UPPER into the host directory fd
 * HOST (both borrowed).  Goes on past a failure (the rest is still written back); counts
 * and the first failure in WB.  The top's own mode and times are left alone. */
void writeback_tree(int upper, int host, Writeback *wb);
