/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "plan/identity.h"

#include <pthread.h>
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
		/* digits only: %lu alone would take "-1" as a huge number */
		if (strncmp(line, "omnibase:", 9) != 0 ||
		    strspn(line + 9, "0123456789:\n") != strlen(line + 9) ||
		    sscanf(line + 9, "%lu:%lu", &start, &count) != 2)
			continue;
		/* ids below 65536 are the system's and its users': never ours; the range must end
		 * below the kernel's invalid id (4294967295) */
		if (start >= IDENTITY_RANGE && count >= IDENTITY_RANGE &&
		    start <= 0xfffffffeul - IDENTITY_RANGE)
			return (uid_t)start;
	}
	return IDENTITY_DEFAULT_BASE;
}

static uid_t base;

static void read_base(void)
{
	base = identity_base_from("/etc/subuid");
}

uid_t identity_base(void)
{
	/* read once per process, as the kernel's features are (probe.c) */
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	(void)pthread_once(&once, read_base);
	return base;
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
