/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The resolved plan of a run, computed in the supervisor before clone: which program and
 * interpreter, which mounts in which order, the environment, the limits.  The child only
 * walks these arrays (no allocation between clone and exec). The types only: plan.h builds
 * one, steps.h adds to one.
 */
#pragma once

#include <jansson.h>
#include <limits.h>
#include <sys/types.h>

#include "omnibase/omnibase.h"

#include "plan/syscall-filter.h"

typedef enum StepKind {
	STEP_DIR,     /* make a directory at dest */
	STEP_SYMLINK, /* dest -> src */
	STEP_BIND,    /* bind host path src at dest (MS_RDONLY in flags = read-only) */
	STEP_TMPFS,   /* tmpfs at dest, mount data in `data` */
	STEP_PROC,    /* a new procfs at dest */
	STEP_DEVPTS,  /* a private devpts instance at dest */
	STEP_SECRET,  /* a file at dest holding data (data_len bytes), mode 0400 */
	STEP_FILE,    /* a file at dest holding data (data_len bytes), mode 0444 */
} StepKind;

typedef struct MountStep {
	StepKind kind;
	char *src;
	char *dest;
	char *data;
	size_t data_len;
	unsigned long flags; /* MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC */
	bool src_is_dir;
	bool recursive;
	bool src_inside; /* src is a path inside the new root (e.g. its own /proc/sys) */
	bool idmap;      /* a grant: the caller's files are the sandbox uid's here (identity.h) */
	int tree_fd;     /* the bind, opened and set up by the supervisor (open_tree), or -1 */
	unsigned
	    overlay;     /* 0, or 1 + the number of its upper layer on the disk tmpfs (overlay.h) */
	const char *why; /* for --dry-run: "runtime", "grant FILE_READ:/data/x", ... */
} MountStep;

/* Why a Landlock rule grants EXECUTE: the file is run as a program (the program, its
 * interpreter, an EXTERNAL_COMMAND grant), or is the ELF interpreter (PT_INTERP, the dynamic
 * loader) of one. A file that is only the latter may not be run as a program (notify-exec.c). */
#define FS_RULE_EXEC_PROGRAM (1u << 0)
#define FS_RULE_EXEC_INTERP  (1u << 1)

/* A Landlock rule: ACCESS (LANDLOCK_ACCESS_FS_* bits) beneath PATH, inside the sandbox. */
typedef struct FsRule {
	char *path;
	uint64_t access;
	unsigned exec_as; /* FS_RULE_EXEC_* bits, with LANDLOCK_ACCESS_FS_EXECUTE */
	char *why;        /* for --dry-run: the grant behind an exec rule, or NULL */
} FsRule;

/* An EXTERNAL_COMMAND path pattern (exec-rules.c). Landlock rules are per hierarchy, so the
 * EXECUTE rule goes on PREFIX, its longest wildcard-free directory; the supervisor matches
 * each exec beneath it against GLOB (a model/pattern.h Glob) before and after the exec. */
typedef struct ExecPattern {
	struct Glob *glob;
	char *prefix;
	bool exact; /* the pattern is PREFIX then `**`: the Landlock rule says all of it */
} ExecPattern;

#define PLAN_MAX_RULES 4096

/* A writable SQLite database (DATABASE_WRITE sqlite:PATH): the file is bound read-write, and
 * its side files PATH-journal, PATH-wal and PATH-shm, which SQLite creates and deletes beside
 * it, are opened, examined and removed by the supervisor on the program's behalf
 * (dbfiles.c), so the directory's other files stay out of sight. */
typedef struct SqliteDb {
	char *path; /* absolute; the same inside the sandbox and on the host */
	size_t len; /* strlen(path) */
	int dirfd;  /* the host directory (O_PATH), opened at launch; -1 before */
	uid_t uid;  /* the database's owner and mode, given to side files it creates */
	gid_t gid;
	mode_t mode;
} SqliteDb;

/* A granted file that does not exist yet: created empty at launch, removed again if the
 * program left it as it was made (grantfiles.c). */
typedef struct NewFile {
	char *path;
	bool made; /* this run created it */
	dev_t dev; /* and what it made, to know it again */
	ino_t ino;
	struct timespec mtime; /* a write, a truncation or a touch changes it */
} NewFile;

typedef struct Plan {
	MountStep *steps;
	size_t n_steps, alloc;
	char *program;     /* as named on the command line */
	char *exec_path;   /* the file execve() runs */
	char **argv;       /* NULL-terminated */
	char **envp;       /* NULL-terminated */
	char *interpreter; /* or NULL */
	char *cwd;
	ob_sandbox_mode mode;
	ob_limits limits;
	FsRule *rules;
	size_t n_rules;
	ExecPattern *exec_patterns;
	size_t n_exec_patterns;
	int landlock_abi; /* 0: no Landlock (mode rwx, or degraded) */
	bool has_secrets; /* /run/secrets is made read-only once its files are written */
	SqliteDb *dbs;
	size_t n_dbs;
	FilterProg seccomp; /* the allow-list filter the program installs before execve */
	/* With a network grant: the egress proxy (proxy.h), and/or the transparent path
	 * (tconnect.h) with its DNS stub (dnsstub.h), as --egress says. */
	bool proxy, transparent;
	/* With a network grant and Landlock ABI >= 4, the program's own TCP connect() only to
	 * these ports: the proxy's with --egress proxy; none otherwise (the supervisor makes
	 * every connect of the transparent path). */
	bool tcp_connect_handled;
	bool transparent_unavailable; /* asked for, not on this kernel: --allow-degraded */
	/* memfd_create's MFD_NOEXEC_SEAL (Linux >= 6.3) missing: memfds the program makes can be
	 * executed around the exec allow-list (--allow-degraded) */
	bool memfd_noexec_unavailable;
	uint16_t tcp_connect_ports[2];
	size_t n_tcp_connect_ports;
	uid_t uid, outer_uid;
	gid_t gid, outer_gid;
	/* Run as root: the sandbox's ids 0..65535 are the host's id_base..id_base+65535, an
	 * unprivileged range (SPEC §2.4; identity.c); 0: rootless, the sandbox uid and gid are
	 * the caller's own. */
	uid_t id_base;
	const char *idmap_unsupported; /* a grant bound without an id map (its file system has
	                                * none): said in SandboxDegraded */
	bool idmap_root;               /* the grants' id map also maps the sandbox's root (as
	                                * itself): gVisor's gofer creates files as it, then
	                                * chowns them (docs/design/backends.md, "Identity") */
	char **warnings; /* grants that match nothing on the host, … (grantfiles.c) */
	size_t n_warnings;
	NewFile *new_files; /* FILE_WRITE of files that do not exist yet (grantfiles.c) */
	size_t n_new_files;
	bool no_namespaces;    /* the tier without namespaces (runner/nons.h): host paths */
	unsigned n_overlays;   /* writable host binds under an overlay (overlay.h) */
	bool disk_may_degrade; /* --allow-degraded: a failed overlay keeps its plain bind */
	bool disk_unbounded;   /* another backend binds them directly: --allow-degraded */
	int disk_fd;           /* that tmpfs (borrowed from the run) once received, else 0 or -1 */
	char disk_data[80]; /* the mount data of their tmpfs: size and nr_inodes of --limit disk */
} Plan;

/* Inputs of a plan: a borrowed view of the sandbox's settings. */
/* The PATH inside, and where bare names are looked up when the caller has none. */
#define SANDBOX_PATH "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"

typedef struct PlanInput {
	char *const *argv;
	const ob_capset *caps;
	const ob_context *ctx;
	const ob_limits *limits;
	ob_sandbox_mode mode;
	ob_egress egress;
	const char *workdir;
	char *const *extra_env;
	const char *host_path;     /* the supervisor's PATH, for resolving names */
	int landlock_abi;          /* what the kernel offers; 0 to plan without Landlock */
	char *const *secrets;      /* "NAME=@FILE" / "NAME=env:VAR" host-side sources */
	const char *registry_dir;  /* the registry store (REGISTRY_*), or NULL */
	const char *artifacts_dir; /* the artifact store (ARTIFACT_*), or NULL */
} PlanInput;
