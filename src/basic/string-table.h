/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Enum names: one table per enum, indexed by value, and the two lookups made from it. */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <string.h>

/* The index of NAME in TABLE (N entries, compared with CMP: strcmp or strcasecmp), or
 * -EINVAL (every public enum's INVALID value). */
static inline int string_table_lookup(const char *const *table, int n, const char *name,
                                      int (*cmp)(const char *, const char *))
{
	for (int i = 0; name && i < n; i++)
		if (table[i] && cmp(name, table[i]) == 0)
			return i;
	return -EINVAL;
}

/* Defines PREFIX_to_string(TYPE) (NULL out of range) from TABLE, MAX entries. */
#define DEFINE_STRING_TABLE_TO(prefix, type, table, max)                                           \
	const char *prefix##_to_string(type v)                                                     \
	{                                                                                          \
		return (int)v >= 0 && (int)v < (max) ? (table)[v] : NULL;                          \
	}

/* And PREFIX_from_string(NAME): the value, or -EINVAL (NULL or unknown NAME). */
#define DEFINE_STRING_TABLE(prefix, type, table, max)                                              \
	DEFINE_STRING_TABLE_TO(prefix, type, table, max)                                           \
	type prefix##_from_string(const char *name)                                                \
	{                                                                                          \
		return (type)string_table_lookup((table), (max), name, strcmp);                    \
	}
