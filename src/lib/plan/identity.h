/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who the program is on the host (SPEC §2.4). Run as root, the sandbox's ids 0..65535 are an
 * unprivileged host range: the program (uid 1000 inside) owns nothing of root's, and the
 * caller's files in its grants are its own through id-mapped mounts (runner/idmap.c). Run
 * rootless, the one uid a user may map is the caller's own.
 */
#pragma once

#include <jansson.h>
#include <sys/types.h>

#include "plan/types.h"

/* The first of 65536 host ids: the "omnibase" entry of /etc/subuid when it has a range of
 * at least 65536 ids starting above 65535, else IDENTITY_DEFAULT_BASE; read once per process.
 * The gids are the same numbers (/etc/subgid is not read: its entry is expected to match). */
uid_t identity_base(void);
/* The same, read from the subuid file PATH (for tests). */
uid_t identity_base_from(const char *path);

/* 0x70000000: in the range systemd leaves unused (docs/design/runner.md, "Identity"). */
#define IDENTITY_DEFAULT_BASE ((uid_t)0x70000000u)
#define IDENTITY_RANGE        65536u

/* {"uid": …, "gid": …, "range": [first, count] | null}: the program's ids on the host. */
json_t *identity_json(const Plan *p);
