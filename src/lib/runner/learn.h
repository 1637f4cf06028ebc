/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Learning mode (SPEC §3 `sandbox learn`; docs/design/learn.md): the run's state that the
 * builder, the plan, the notifier and the reports share. learn.c holds the builder's and the
 * plan's side and writes the capability file; notify-learn.c observes opens and gives the
 * program what the learning layout hides (host files read-only, a scratch copy to write).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "omnibase/omnibase.h"

#include "model/learn-summary.h"
#include "plan/types.h"

/* At most this many scratch files (writes outside the workdir), each a memfd. */
#define LEARN_MAX_SCRATCH 1024

typedef struct Scratch {
	char *path; /* as the program named it, absolute */
	int fd;     /* a memfd holding what the program wrote */
} Scratch;

typedef struct Learn {
	LearnSet *set;
	bool network;         /* --learn-network: connections are made (and recorded) */
	ob_capset *given;     /* the grants of the command line, before learning's own */
	ob_sandbox_mode mode; /* the mode asked for, before learning's rx */
	char **layout;        /* what the runtime layout gives: learn_plan() */
	char **homes;         /* home directories (passwd, $HOME) */
	char **secrets;       /* the names of the --secret sources, shown at /run/secrets */
	Scratch *scratch;
	size_t n_scratch;
	uint64_t scratch_bytes, scratch_max; /* copied in from the host; the tmpfs limit */
} Learn;

/* A learning state (NETWORK: --learn-network) in *RET. -ENOMEM. */
int learn_new(bool network, Learn **ret);
Learn *learn_free(Learn *l);
/* Before planning: the backend checked (native: its notifier is the observer), *MODE forced
 * to rx, the grants *CAPS (the sandbox's reference) kept for the output and replaced by a set
 * that also shows every secret of SECRETS ("NAME=SOURCE", NULL-terminated, or NULL) and,
 * with --learn-network, lets every connection through. Once only (a second call is a no-op:
 * --dry-run, then the run). */
int learn_prepare(Learn *l, ob_backend backend, ob_sandbox_mode *mode, ob_capset **caps,
                  char *const *secrets, ob_error *reterr);
/* After planning: the host shown one top-level entry at a time (room for /workspace and
 * /run/secrets), Landlock lets anything be executed (the notifier records it), and what the
 * runtime layout gives is noted for the summary. */
int learn_plan(Learn *l, Plan *plan);
/* Records that the program needed TYPE on RESOURCE with FLAGS (LearnFlags); a command as its
 * bare name when the host PATH finds this file under it. */
void learn_note(Learn *l, ob_cap_type type, const char *resource, unsigned flags);
/* The capability file of what was recorded (ob_sandbox_learn_write() says what it holds),
 * checked and written to PATH atomically. Returns the count of observations that did not
 * fit, or -errno with RETERR filled. */
int learn_write(Learn *l, const char *path, ob_error *reterr);
