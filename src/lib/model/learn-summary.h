/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Learning mode's arithmetic (SPEC §3 `sandbox learn`; docs/design/learn.md): what a run was
 * seen to do, kept in a bounded set, turned into the least-privilege capability set that lets
 * the run repeat. Pure: the runner observes (runner/notify-learn.c) and resolves what needs
 * the host (command names on PATH, which paths are directories); this file only decides.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "omnibase/omnibase.h"

/* Observations kept by default: enough for a build, small enough to hold in memory. */
#define LEARN_MAX_OBSERVATIONS 8192
/* Files used in one directory that make its `DIR/ **` grant instead of one grant each. */
#define LEARN_COLLAPSE_FILES 8

typedef struct LearnSet LearnSet;

/* What else an observation says about a path. */
typedef enum LearnFlags {
	LEARN_LISTED = 1 << 0,  /* FILE_READ of a directory: it was listed, no file read */
	LEARN_CREATES = 1 << 1, /* FILE_WRITE of a directory: files were created in it (a grant
	                         * of a file that does not exist yet binds nothing) */
} LearnFlags;

/* A new empty set holding at most MAX distinct observations, in *RET. -ENOMEM. */
int learn_set_new(size_t max, LearnSet **ret);
LearnSet *learn_set_free(LearnSet *s);
/* Records that the program needed TYPE on RESOURCE (a FILE_* path absolute and normalised, a
 * command as it will be granted, "host:port", a secret's name), with FLAGS (LearnFlags). A
 * repeat is no new entry. Past the bound: -E2BIG and the observation is counted in
 * learn_set_dropped(). -EINVAL for an empty or relative path. */
int learn_set_add(LearnSet *s, ob_cap_type type, const char *resource, unsigned flags);
size_t learn_set_size(const LearnSet *s);
/* Observations the summary lacks: past the bound, and (once learn_summarize ran) those no
 * grant can express (a path over PATH_MAX, a malformed host). */
size_t learn_set_dropped(const LearnSet *s);

typedef struct LearnLayout {
	/* Paths the runtime layout shows without a grant (each covers what is beneath it): the
	 * runtime directories, the program, its interpreter. NULL-terminated, or NULL. */
	const char *const *given;
	/* Home directories (any passwd home, $HOME): never granted wholesale, nor anything above
	 * them. NULL-terminated, or NULL. */
	const char *const *homes;
	unsigned collapse; /* 0: LEARN_COLLAPSE_FILES */
} LearnLayout;

/* The capability set S calls for, in *RET (the caller's: ob_capset_unref()): FILE_READ and
 * FILE_WRITE for each file (a write covers its reads), `DIR/ **` where at least COLLAPSE files
 * directly in DIR were used, never for `/`, a top-level directory, a home or a directory
 * above one; a listed directory by itself only where it is none of those; nothing the
 * layout gives or GIVEN (the grants of the command line, or NULL) already allows; a
 * directory files were created in by itself, where it is none of those; GIVEN's grants
 * included; an observation no grant can express is left out (learn_set_dropped() counts
 * it). S's marks of what was granted change. Path grants are written with `*`, `?` and `\`
 * escaped. -ENOMEM, or the error of a resource the model refuses. */
int learn_summarize(LearnSet *s, const LearnLayout *layout, const ob_capset *given,
                    ob_capset **ret);
/* Is DIR a directory no learned grant may cover whole (see learn_summarize)? */
bool learn_dir_is_too_wide(const char *dir, const char *const *homes);
/* PATH with `*`, `?` and `\` escaped (a literal pattern) into BUF; false when it does not fit. */
bool learn_escape_path(const char *path, char *buf, size_t size);
