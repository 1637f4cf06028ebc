/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Is S valid UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF)? */
bool utf8_is_valid(const char *s);
/* S when it is valid UTF-8; otherwise S written into BUF (SIZE bytes, SIZE > 0) with every
 * byte that is not part of a valid sequence, and every backslash, as "\xNN" (so the event a
 * path names is always written: JSON strings are UTF-8), cut short to fit. Returns S or BUF. */
const char *utf8_escape(const char *s, char *buf, size_t size);
/* Writes the UTF-8 bytes of CP (a Unicode scalar value, at most U+10FFFF) into OUT, which has
 * room for 4; returns how many. */
size_t utf8_put(char *out, uint32_t cp);
/* The 1-based line and column (in characters, not bytes) of AT in the text at START. */
void utf8_position(const char *start, const char *at, unsigned *line, unsigned *col);
