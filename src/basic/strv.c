/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "basic/strv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int strv_push(char ***v, size_t *n, const char *s)
{
	char **w = reallocarray(*v, *n + 2, sizeof(char *));
	if (!w)
		return -ENOMEM;
	*v = w;
	w[*n] = strdup(s);
	if (!w[*n])
		return -ENOMEM;
	w[++*n] = NULL;
	return 0;
}

void strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}
