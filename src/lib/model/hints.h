/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a mistyped capability most likely meant: for the error messages of the model. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The type name (canonical or alias) nearest to the unknown NAME when it looks like a typo
 * of it ("FILE_RAED" → "FILE_READ"), else NULL.  Static. */
const char *cap_type_suggest(const char *name);

/* When RES (LEN bytes) is a URL ("https://api.example.com/v1"), writes the host:port grant
 * it stands for ("api.example.com:443"; the bare host when the scheme's port is not known)
 * into BUF (SIZE bytes) and returns true; false, BUF untouched, otherwise. */
bool url_to_host_grant(const char *res, size_t len, char *buf, size_t size);
