/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * OCI bundles (runtime-spec 1.0) from a plan, for the backends that are OCI runtimes (crun,
 * runc) or speak their command line (gVisor's runsc): the same layout, environment, limits
 * and seccomp allow-list as the native backend, in config.json form. The bundle is a directory
 * on a tmpfs, never on disk (the plan's secrets are in it): run as root, a private tmpfs of its
 * own mounted at OCI_RUN_DIR/omnibase-oci-XXXXXX; rootless, a directory (0700) in /dev/shm. It
 * holds config.json, an empty read-only root the runtime mounts the plan's binds and file
 * systems onto (with the plan's directories and symlinks made in it), the plan's generated
 * files (secrets, resolver files), and, for runc and crun as root, the plan's binds as the
 * trees the supervisor opened (runner/idmap.h). A run holds a lock on its bundle; the next
 * run removes the bundles whose lock nobody holds (a supervisor that was killed).
 */
#pragma once

#include <jansson.h>
#include <limits.h>

#include "plan/plan.h"
#include "plan/syscall-filter.h"

/* Where the Landlock helper is bound in the container: in the plan's own /dev tmpfs, which
 * every mode has (under mode rx the root is the host's, read-only). */
#define OCI_HELPER_DEST "/dev/.omnibase-exec"
/* gVisor: where the real dynamic loader is, noexec, for omnibase-loader to map (oci-exec.c) */
#define OCI_LOADER_DEST "/dev/.omnibase-loader-"

/* Where root's bundles are, each a tmpfs mounted on a directory "omnibase-oci-XXXXXX". */
#define OCI_RUN_DIR "/run/omnibase/oci"

typedef struct OciBundle {
	char dir[PATH_MAX]; /* "" when there is none */
	int lock_fd;        /* the bundle's root, flock()ed while the run lives; -1: none */
	bool mounted;       /* a tmpfs of its own at DIR */
	int disk_fd;        /* --limit disk: the overlays' tmpfs (oci-disk.c), the caller's to take;
	                     * -1: none */
} OciBundle;

typedef struct OciOptions {
	const FilterProfile *seccomp; /* changes to the seccomp allow-list */
	bool gvisor;                  /* for runsc */
	bool rootless;                /* runsc --rootless: no cgroup, limits as rlimits */
	const char *netns;  /* the network namespace to join (a path), or NULL: a new, empty one */
	const char *helper; /* omnibase-exec on the host: the container's first program, applying
	                     * the plan's Landlock rules (NULL: no Landlock) */
	const char *listener;     /* a unix socket the runtime sends the seccomp listener to: the
	                           * supervisor observes as natively (NULL: refusals are EPERM) */
	const char *cgroups_path; /* linux.cgroupsPath: a cgroup the supervisor made (NULL: the
	                           * runtime's own choice) */
	const char *loader;       /* gVisor: omnibase-loader on the host, shown at the dynamic
	                           * loader's place (oci-exec.c; NULL: the loader itself) */
} OciOptions;

/* Does the runtime make DEST itself (/dev's default devices and links)? */
bool oci_runtime_owned(const MountStep *s);
/* Is S a bind of a host path that the bundle's config lists (and, in a user namespace, that
 * the bundle holds as BUNDLE/binds/<step index>)? */
bool oci_bind_in_bundle(const MountStep *s);
/* Run as root, every backend: the container in a user namespace of the plan's host id range
 * (plan/identity.h), its binds the trees the supervisor opened (gVisor's gofer runs in it
 * too). Not gVisor joining the proxy's network namespace (runsc 2022-12 fails to set up its
 * chroot then: "error converting mounts"), nor rootless gVisor (runsc --rootless maps the
 * caller itself). */
bool oci_userns(const Plan *plan, const OciOptions *o);

/* config.json for PLAN; BUNDLE is the bundle's directory (NULL: leave the generated files out
 * and name the binds' host paths, for --dry-run). */
/* The system call policy as an OCI runtime-spec seccomp object (linux.seccomp): with LISTENER
 * (runc, crun) every refusal and observed call goes to the supervisor through the runtime's
 * seccomp listener; without it refusals are EPERM and unrecorded (gVisor). */
json_t *oci_seccomp_json(const FilterProfile *prof, const char *listener);

json_t *oci_config(const Plan *plan, const OciOptions *o, const char *bundle);

/* gVisor has no Landlock: the exec allow-list by its mounts (oci-exec.c), for a plan with
 * Landlock rules. Is the bind S mounted noexec (all but a directory an exec rule names)? */
bool oci_exec_noexec(const Plan *p, const MountStep *s);
/* Mode sandbox: after the bind S, into M, over each directory of the PATH that S shows (the
 * bin directories), the bundle's directory of the names an exec rule needs there: none of
 * their other programs visible. BUNDLE NULL: --dry-run. */
void oci_exec_hide(const Plan *p, const MountStep *s, json_t *m, const char *bundle);
/* Those directories in BUNDLE/bin/N: the exec rules' files as empty files (mount points),
 * the symlinks on the way to them as symlinks. 0 or -errno. */
int oci_exec_populate(const Plan *p, const char *bundle, const char *loader);
/* For a bundle in a user namespace (gVisor's gofer in it, reaching a bind's source by its
 * path): each file oci_exec_binds binds, opened here read-only as a detached mount and
 * attached at BUNDLE/exec/<rule>, so that a program below a directory only root may search
 * (a home) is still reached. */
int oci_exec_attach(const Plan *p, const char *bundle);
/* Into M, each file an exec rule names bound executable at its place (and under the name the
 * rule gives it, when that is another), after every other mount; with LOADER, an ELF
 * interpreter as the bundle's copy of it, the interpreter itself noexec at
 * OCI_LOADER_DEST<rule>. ATTACHED: the sources are oci_exec_attach's. */
void oci_exec_binds(const Plan *p, json_t *m, const char *bundle, const char *loader,
                    bool attached);

/* Tree FD (a detached mount) attached at DIR/I, on a directory or an empty file as the tree's
 * root is. */
int oci_attach_tree(int fd, const char *dir, size_t i);
/* Writes a new file PATH (never an existing one) of MODE holding LEN bytes of DATA. */
int oci_write_file(const char *path, const char *data, size_t len, mode_t mode);

/* Makes the bundle for PLAN, first removing the bundles killed supervisors left. With
 * oci_userns(), every bind oci_bind_in_bundle() names must have been opened
 * (idmap_open_trees): its tree is attached in the bundle and its tree_fd closed (-1). */
int oci_bundle_create(Plan *plan, const OciOptions *o, OciBundle *b, ob_error *reterr);
/* As root, under runc and crun: the disk tmpfs of P's overlays mounted at DIR/disk and an
 * overlay over each overlaid bind attached at DIR/binds/I; the tmpfs's root in *RET_FD.
 * 0 or -errno. */
int oci_disk_overlays(const Plan *p, const char *dir, int *ret_fd);
/* Removes the bundle, and its tmpfs with what is attached in it (a no-op for one never
 * made). */
void oci_bundle_remove(OciBundle *b);
