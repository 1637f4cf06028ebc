/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The supervisor's half of the program's identity when run as root (SPEC §2.4,
 * plan/identity.h): every bind of a host path opened here (open_tree), so the sandbox's first
 * process, an unprivileged host id, needs no access to the host paths it mounts; the grants'
 * binds given an id map under which the caller's files are the sandbox uid's.
 */
#pragma once

#include "omnibase/omnibase.h"

#include "plan/types.h"

/* Opens P's host binds as detached mounts (their tree_fd), attributes set, grants id-mapped
 * (the caller's uid and gid as the sandbox's). A grant whose file system has no id-mapped
 * mounts is bound as is and named in P->idmap_unsupported. Only for P->id_base != 0. */
int idmap_open_trees(Plan *p, ob_error *reterr);
/* Closes the supervisor's copies of the opened binds. */
void idmap_close_trees(Plan *p);
/* A user namespace (an O_PATH-free fd on /proc/PID/ns/user) mapping host UID to TO_UID and
 * host GID to TO_GID, one id each, and ROOT (uid and gid) to itself unless 0: what an
 * id-mapped mount maps through. */
int idmap_userns(uid_t uid, uid_t to_uid, gid_t gid, gid_t to_gid, uid_t root);
