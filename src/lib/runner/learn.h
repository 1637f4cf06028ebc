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
	bool network;      /* --learn-network: connections are made (and recorded) */
	ob_capset *given;  /* the grants of the command line, before learning's own */
	char **layout;     /* what the runtime layout gives: learn_plan() */
	char **homes;      /* home directories (passwd, $HOME) */
	Scratch *scratch;
	size_t n_scratch;
	uint64_t scratch_bytes, scratch_max; /* copied in from the host; the tmpfs limit */
} Learn;

Learn *learn_free(Learn *l);
/* Before planning: the mode forced to rx, the backend checked (native: the notifier is the
 * observer), and with --learn-network grants that let every connection through; the
 * command line's grants kept for the output. No-op without learning. */
int learn_prepare(ob_sandbox *sb, ob_error *reterr);
/* After planning: Landlock lets anything be executed (the notifier records it), and what
 * the runtime layout gives is noted for the summary. No-op without learning. */
int learn_plan(ob_sandbox *sb, Plan *plan);
/* Records that the program needed TYPE on RESOURCE with FLAGS (LearnFlags); a command as its
 * bare name when the host PATH finds this file under it. */
void learn_note(Learn *l, ob_cap_type type, const char *resource, unsigned flags);
/* The notifier's DenyFn in learning mode (USERDATA: the Run): what would have been refused
 * is recorded, not reported. */
void learn_on_deny(void *userdata, const char *capability, const char *resource,
                   const char *operation, int pid);
