/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#define LIBDEPS_MAX_OBJECTS 512

/* Host paths, as the dynamic loader would open them (not resolved: symlinks kept). */
typedef struct PathList {
	char **paths;
	size_t n;
} PathList;

/* Adds PATH to L unless it is there already: 1 when added, 0 when there.  -ENOMEM, -E2BIG
 * past LIBDEPS_MAX_OBJECTS. */
int path_list_add(PathList *l, const char *path);
void path_list_done(PathList *l);

/* The files the dynamic loader would open to start the ELF program EXE: its PT_INTERP and the
 * shared objects of its DT_NEEDED entries, recursively (at most LIBDEPS_MAX_OBJECTS), each
 * searched as glibc's loader does (DT_RPATH when there is no DT_RUNPATH, DT_RUNPATH, the
 * directories of /etc/ld.so.conf, then the trusted default ones), $ORIGIN expanded, a
 * candidate of another ELF class or machine passed over.  A library not found is left out
 * (the loader will say so inside).  MORE (may be NULL): objects EXE loads itself (a Python's
 * extension modules), whose needs are added too.  Added to OUT; EXE and MORE are not.  0 when
 * EXE is not an ELF file; -EBADMSG for a malformed one, -ENOMEM, -E2BIG. */
int libdeps_collect(const char *exe, const PathList *more, PathList *out);
