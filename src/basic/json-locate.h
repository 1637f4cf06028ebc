/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "omnibase/omnibase.h"

#include "basic/macro.h"

/*
 * Finds the value that PATH ("$", "$.key", "$.list[3].key") names in DATA, a JSON text that
 * has already been parsed successfully, and returns its 1-based line and column (columns
 * count characters).  -ENOENT when the path does not lead to a value, -EINVAL for a path
 * that does not start with '$'.
 */
int json_locate(const char *data, size_t len, const char *path, unsigned *ret_line,
                unsigned *ret_col);

/* A JSON document being parsed, for errors as NAME:LINE:COL: $.json.path: what. */
typedef struct JsonDoc {
	const char *data; /* the text; NULL (only with LEN 0) gives errors without positions */
	size_t len;
	const char *name; /* the file, or a placeholder such as "<policies>" */
	ob_error *err;
} JsonDoc;

/*
 * Parses D's text with jansson, refusing duplicate keys, into *RET (the caller's reference).
 * A syntax error is -EINVAL with the message NAME:LINE:COL: what jansson said.
 */
int json_doc_parse(const JsonDoc *d, json_t **ret);

/*
 * Reads the regular file PATH (at most MAX bytes, as read_file_limited) and parses it as
 * json_doc_parse does, naming PATH in errors.  On success *RET_DATA and *RET_LEN hold the
 * malloc'ed text (the caller frees it; keep it for json_doc_fail) and *RET the root.
 */
int json_doc_load(const char *path, size_t max, char **ret_data, size_t *ret_len, json_t **ret,
                  ob_error *reterr);

/*
 * Reports a structure error at PATH ("$.list[3].key") of D: the message is
 * NAME:LINE:COL: PATH: what, or NAME: PATH: what when PATH cannot be located in the text.
 * Returns CODE.
 */
int json_doc_fail(const JsonDoc *d, int code, const char *path, const char *fmt, ...)
    _printf_(4, 5);
int json_doc_failv(const JsonDoc *d, int code, const char *path, const char *fmt, va_list ap)
    _printf_(4, 0);
