/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* NULL-terminated string arrays (argv, env, lists of paths). */
#pragma once

#include <stddef.h>

/* Appends a copy of S to the NULL-terminated *V of *N entries: 0 or -ENOMEM. */
int strv_push(char ***v, size_t *n, const char *s);
/* Frees each string and the array; NULL is fine. */
void strv_free(char **v);
