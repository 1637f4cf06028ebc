/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fuzz targets' inputs split into newline-separated parts. */
#pragma once

#include <stddef.h>
#include <string.h>

/* The part at *P (up to the next newline or END), its length into LEN; *P moves past it. */
static inline const char *next_part(const char **p, const char *end, size_t *len)
{
	const char *start = *p;
	const char *nl = memchr(start, '\n', (size_t)(end - start));
	const char *stop = nl ? nl : end;

	*len = (size_t)(stop - start);
	*p = nl ? nl + 1 : end;
	return start;
}
