/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* "Did you mean ...?": the known word nearest to a mistyped one. */
#pragma once

#include <stddef.h>

/* Longest word edit_distance() compares; longer words are never anybody's typo of ours. */
#define SUGGEST_MAX_LEN 64

/* The optimal-string-alignment distance between A and B, ignoring ASCII case: insertions,
 * deletions, substitutions and swaps of two neighbours each count one (so "FILE_RAED" is one
 * from "FILE_READ").  SIZE_MAX when either is longer than SUGGEST_MAX_LEN bytes. */
size_t edit_distance(const char *a, const char *b);

/* The first of the N CANDIDATES nearest to WORD when it is close enough to be a typo of it
 * (at most a third of the candidate's length away, at least 1 and at most 3 edits), else
 * NULL.  An exact match is not a suggestion: NULL too.  Borrowed from CANDIDATES. */
const char *suggest_closest(const char *word, const char *const *candidates, size_t n);
