/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "plan/identity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"

uid_t identity_base_from(const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char line[256];

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long start, count;
		if (strncmp(line, "omnibase:", 9) != 0 ||
		    sscanf(line + 9, "%lu:%lu", &start, &count) != 2)
			continue;
		/* ids below 65536 are the system's and its users': never ours */
		if (start >= IDENTITY_RANGE && count >= IDENTITY_RANGE &&
		    start + IDENTITY_RANGE <= 0xfffffffeul)
			return (uid_t)start;
	}
	return IDENTITY_DEFAULT_BASE;
}

uid_t identity_base(void)
{
	return identity_base_from("/etc/subuid");
}

json_t *identity_json(const Plan *p)
{
	if (!p->id_base)
		return json_pack("{s:i, s:i, s:n}", "uid", (int)p->outer_uid, "gid",
		                 (int)p->outer_gid, "range");
	return json_pack("{s:I, s:I, s:[I, i]}", "uid", (json_int_t)p->id_base + p->uid, "gid",
	                 (json_int_t)p->id_base + p->gid, "range", (json_int_t)p->id_base,
	                 (int)IDENTITY_RANGE);
}
