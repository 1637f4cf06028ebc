/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * OCI bundles (runtime-spec 1.0) from a plan, for the backends that are OCI runtimes (crun,
 * runc) or speak their command line (gVisor's runsc): the same layout, environment, limits
 * and seccomp allow-list as the native backend, in config.json form. The bundle is a private
 * directory (0700) under $TMPDIR holding config.json, an empty read-only root the runtime
 * mounts the plan's binds and file systems onto (with the plan's directories and symlinks
 * made in it), and the plan's generated files (secrets, resolver files), removed after the run.
 */
#pragma once

#include <jansson.h>
#include <limits.h>

#include "plan/plan.h"
#include "plan/syscall-filter.h"

/* Where the Landlock helper is bound in the container. */
#define OCI_HELPER_DEST "/.omnibase/exec"

typedef struct OciBundle {
	char dir[PATH_MAX]; /* "" when there is none */
} OciBundle;

typedef struct OciOptions {
	const FilterProfile *seccomp; /* changes to the seccomp allow-list */
	bool gvisor;                  /* for runsc */
	bool rootless;                /* runsc --rootless: no cgroup, limits as rlimits */
	const char *netns;  /* the network namespace to join (a path), or NULL: a new, empty one */
	const char *helper; /* omnibase-exec on the host: the container's first program, applying
	                     * the plan's Landlock rules (NULL: no Landlock) */
	const char *listener; /* a unix socket the runtime sends the seccomp listener to: the
	                       * supervisor observes as natively (NULL: refusals are EPERM) */
} OciOptions;

/* config.json for PLAN; FILES_DIR is where the plan's generated files are (NULL: leave them
 * out). */
/* The system call policy as an OCI runtime-spec seccomp object (linux.seccomp): with LISTENER
 * (runc, crun) every refusal and observed call goes to the supervisor through the runtime's
 * seccomp listener; without it refusals are EPERM and unrecorded (gVisor). */
json_t *oci_seccomp_json(const FilterProfile *prof, const char *listener);

json_t *oci_config(const Plan *plan, const OciOptions *o, const char *files_dir);

/* Makes the bundle for PLAN. */
int oci_bundle_create(const Plan *plan, const OciOptions *o, OciBundle *b, ob_error *reterr);
/* Removes the bundle (a no-op for one never made). */
void oci_bundle_remove(OciBundle *b);
