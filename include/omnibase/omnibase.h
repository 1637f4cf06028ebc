/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libomnibase — the public API of OmniBase Sandbox.
 *
 * Conventions (docs/design/api.md says them in full):
 *  - A call that can fail returns int: >= 0 success, -errno failure.  Every call returns
 *    -EINVAL for a NULL argument not documented as optional (calls returning a pointer,
 *    size or bool return NULL, 0 or false; void calls do nothing); the contracts below
 *    list the other errors.
 *  - Constructors are `int ob_x_new(ob_x **ret, ...)`; `*ret` is set only on success.
 *  - `reterr` is the last argument, may be NULL, and receives a human-readable message on
 *    failure (never for the NULL-argument -EINVAL, nor where a contract says otherwise).
 *  - Parameters are borrowed; setters copy.  A returned `const char *` or object pointer
 *    is borrowed from its object.  A returned `char *` is malloc'ed: free() it.
 *  - Destructors (`_free`, `_unref`) accept NULL and return NULL: `p = ob_x_free(p);`.
 *    ob_result_done() clears a caller-owned struct and returns void.
 *  - Threads: no global state.  An object may be read from many threads at once once
 *    built; it must not be modified (setters, `_ref`/`_unref`, free) concurrently with
 *    any other use.  Exceptions are said at the call.
 *  - Nothing here prints, exits or aborts, and nothing is safe between clone and exec.
 *  - The capability model (ob_cap*, ob_check_*, ob_capfile_*) is pure: no I/O except
 *    ob_capfile_load() reading its file.
 */
#ifndef OMNIBASE_OMNIBASE_H
#define OMNIBASE_OMNIBASE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OB_PUBLIC __attribute__((visibility("default")))

/* ---------------------------------------------------------------- version, errors, exit codes */

/* The library's version string, e.g. "0.1.0": static, never NULL. */
OB_PUBLIC const char *ob_version(void);

/* A caller-owned error, filled in place (no allocation): `code` is the negative errno of the
 * failure, `msg` a NUL-terminated sentence saying what and where (truncated to fit).  Only
 * meaningful after a call that returned < 0, except where a contract says otherwise. */
typedef struct ob_error {
	int code;
	char msg[512];
} ob_error;

/* Exit codes of `omnibase` and of sandboxed runs (SPEC §4). */
enum {
	OB_EXIT_TIMEOUT = 124,     /* wall-clock timeout */
	OB_EXIT_SETUP = 125,       /* omnibase's own failure, bad input, protection unavailable */
	OB_EXIT_NOEXEC = 126,      /* program found but not executable / exec denied */
	OB_EXIT_NOTFOUND = 127,    /* program not found */
	OB_EXIT_SIGNAL_BASE = 128, /* 128 + N: killed by signal N */
};

/* ---------------------------------------------------------------- capability types (SPEC §2.1) */

typedef enum ob_cap_type {
	OB_CAP_FILE_READ,
	OB_CAP_FILE_WRITE,
	OB_CAP_NETWORK_CONNECT,
	OB_CAP_EXTERNAL_COMMAND,
	OB_CAP_SECRET_ACCESS,
	OB_CAP_DATABASE_READ,
	OB_CAP_DATABASE_WRITE,
	OB_CAP_REGISTRY_READ,
	OB_CAP_REGISTRY_WRITE,
	OB_CAP_ARTIFACT_READ,
	OB_CAP_ARTIFACT_WRITE,
	OB_CAP_TYPE_MAX,
	OB_CAP_TYPE_INVALID = -EINVAL,
} ob_cap_type;

/* Canonical name ("FILE_READ"), static, or NULL for a value out of range. */
OB_PUBLIC const char *ob_cap_type_to_string(ob_cap_type type);

/* Parses a type name, case-insensitively, canonical names and aliases (fs_read, fs_write,
 * net_http, exec_run).  Returns the type, or OB_CAP_TYPE_INVALID (-EINVAL) for an unknown
 * name or NULL. */
OB_PUBLIC ob_cap_type ob_cap_type_from_string(const char *name);

/* ---------------------------------------------------------------- execution context (SPEC §2.3) */

/* KEY=VALUE pairs that capability conditions and policies are evaluated against.  Read
 * from many threads at once once filled; not modified concurrently. */
typedef struct ob_context ob_context;

/* A new, empty context in *ret, owned by the caller: ob_context_free().  -ENOMEM. */
OB_PUBLIC int ob_context_new(ob_context **ret);
/* Frees CTX and the strings it copied.  Returns NULL. */
OB_PUBLIC ob_context *ob_context_free(ob_context *ctx);
/* Sets KEY to VALUE (both copied; replaces an earlier value).  Keys are 1..128 bytes of
 * [A-Za-z0-9_.-]; values up to 4096 bytes.  -EINVAL on a bad key or value, -ENOMEM
 * (CTX unchanged). */
OB_PUBLIC int ob_context_set(ob_context *ctx, const char *key, const char *value);
/* Parses "KEY=VALUE" (the --context syntax) and sets it as ob_context_set() does.
 * -EINVAL when there is no '=', the key is empty or invalid, -ENOMEM. */
OB_PUBLIC int ob_context_set_assignment(ob_context *ctx, const char *assignment);
/* The value of KEY, borrowed until the context changes or is freed; NULL when unset. */
OB_PUBLIC const char *ob_context_get(const ob_context *ctx, const char *key);

/* ---------------------------------------------------------------- capabilities (SPEC §2.2) */

/* One grant: a type, a normalised resource pattern, conditions.  Immutable once its
 * conditions are added: then read from many threads at once. */
typedef struct ob_capability ob_capability;

/*
 * Parses one capability: TYPE and a resource pattern of LEN bytes (so embedded NUL bytes are
 * seen and refused).  Relative paths are made absolute against WORKDIR (an absolute,
 * normalised-or-not directory; NULL refuses relative paths).  The resource is validated and
 * normalised (paths: `.`, `..`, `//`, trailing `/`; hosts: lower case, no trailing dot).
 * *ret is owned by the caller: ob_capability_free().  RESOURCE and WORKDIR are borrowed.
 * Errors (RETERR filled): -EINVAL malformed or unknown TYPE (the message says what was
 * expected), -ENAMETOOLONG over PATH_MAX, -ENOMEM.
 */
OB_PUBLIC int ob_capability_new(ob_capability **ret, ob_cap_type type, const char *resource,
                                size_t len, const char *workdir, ob_error *reterr);
/* Parses the inline form "TYPE:RESOURCE" (the --cap syntax); TYPE as in
 * ob_cap_type_from_string().  Ownership and errors as ob_capability_new(). */
OB_PUBLIC int ob_capability_parse(ob_capability **ret, const char *spec, const char *workdir,
                                  ob_error *reterr);
/* Frees CAP.  Returns NULL. */
OB_PUBLIC ob_capability *ob_capability_free(ob_capability *cap);
/* A deep copy of CAP (conditions included) in *ret, owned by the caller:
 * ob_capability_free().  -ENOMEM. */
OB_PUBLIC int ob_capability_dup(const ob_capability *cap, ob_capability **ret);
/* Adds a condition: the capability is active only when context KEY matches VALUE_PATTERN
 * (a glob: `*`, `?`, `\` escapes; both copied).  Several conditions must all hold.
 * Errors (RETERR filled; CAP unchanged): -EINVAL bad key (as ob_context_set()), value over
 * 4096 bytes or malformed glob, -ENOMEM. */
OB_PUBLIC int ob_capability_add_condition(ob_capability *cap, const char *key,
                                          const char *value_pattern, ob_error *reterr);

/* The type; OB_CAP_TYPE_INVALID for NULL. */
OB_PUBLIC ob_cap_type ob_capability_type(const ob_capability *cap);
/* The normalised resource, borrowed for the capability's lifetime. */
OB_PUBLIC const char *ob_capability_resource(const ob_capability *cap);
/* The number of conditions (0 for NULL). */
OB_PUBLIC size_t ob_capability_n_conditions(const ob_capability *cap);
/* The I-th condition, in the order added: *ret_key and *ret_value (either pointer may be
 * NULL) are borrowed for the capability's lifetime.  -ERANGE when I is out of range. */
OB_PUBLIC int ob_capability_condition(const ob_capability *cap, size_t i, const char **ret_key,
                                      const char **ret_value);
/* True when every condition holds in CTX (NULL = empty context); false for NULL CAP. */
OB_PUBLIC bool ob_capability_is_active(const ob_capability *cap, const ob_context *ctx);
/* True when A grants everything B asks for (pattern subsumption, conservative: false when
 * undecided).  Types must be equal, or A the write type of B's read type.  Conditions are
 * not looked at.  False when either is NULL. */
OB_PUBLIC bool ob_capability_covers(const ob_capability *a, const ob_capability *b);

/* ---------------------------------------------------------------- capability sets */

/*
 * A reference-counted set of grants.  Once built it may be read from many threads at once
 * (every call below taking a const set, and ob_check_*: no call allocates or caches into
 * it).  Adding, setting the workdir, and _ref/_unref (the count is not atomic) must not run
 * concurrently with any other use.
 */
typedef struct ob_capset ob_capset;

/* A new empty set (workdir "/") in *ret with one reference, the caller's: ob_capset_unref().
 * -ENOMEM. */
OB_PUBLIC int ob_capset_new(ob_capset **ret);
/* Takes a reference; returns SET (NULL stays NULL). */
OB_PUBLIC ob_capset *ob_capset_ref(ob_capset *set);
/* Drops a reference, freeing the set and its capabilities with the last.  Returns NULL. */
OB_PUBLIC ob_capset *ob_capset_unref(ob_capset *set);
/* Sets the directory that relative request paths are resolved against (default "/"); DIR
 * is normalised and copied.  -EINVAL when DIR is not absolute or malformed, -ENAMETOOLONG,
 * -ENOMEM. */
OB_PUBLIC int ob_capset_set_workdir(ob_capset *set, const char *dir);
/* Adds a copy of CAP (CAP stays the caller's); an identical capability (type, resource,
 * conditions) is added once.  -ENOMEM (the set then grants at most what it did plus CAP,
 * never more). */
OB_PUBLIC int ob_capset_add(ob_capset *set, const ob_capability *cap);
/* The number of distinct capabilities (0 for NULL). */
OB_PUBLIC size_t ob_capset_size(const ob_capset *set);
/* The I-th capability in insertion order, borrowed until the set is freed; NULL when out
 * of range. */
OB_PUBLIC const ob_capability *ob_capset_get(const ob_capset *set, size_t i);
/* A new set with the capabilities of A and B (and A's workdir) in *ret, owned by the
 * caller: ob_capset_unref().  A and B may be the same set.  -ENOMEM. */
OB_PUBLIC int ob_capset_union(const ob_capset *a, const ob_capset *b, ob_capset **ret);
/* A new set that grants only what both A and B grant: each capability of one covered by a
 * capability of the other, with the conditions of both.  Ownership and errors as
 * ob_capset_union(). */
OB_PUBLIC int ob_capset_intersection(const ob_capset *a, const ob_capset *b, ob_capset **ret);
/* True when every capability of A is covered by one of B whose conditions A's imply.
 * False when either is NULL. */
OB_PUBLIC bool ob_capset_is_subset(const ob_capset *a, const ob_capset *b);
/* True when an active capability of SET covers CAP (CAP may itself be a pattern); CTX may
 * be NULL (empty).  False when SET or CAP is NULL. */
OB_PUBLIC bool ob_capset_has_capability(const ob_capset *set, const ob_capability *cap,
                                        const ob_context *ctx);
/* Checks a concrete request (not a pattern: `*` is an ordinary character here).  Returns
 * 1 allowed, 0 denied, -EINVAL for a malformed request or a type out of range,
 * -ENAMETOOLONG.  For NETWORK_CONNECT the resource is "host:port" or "unix:PATH"; for DATABASE_* a
 * URL or "sqlite:PATH".  Allocates nothing. */
OB_PUBLIC int ob_capset_allows(const ob_capset *set, ob_cap_type type, const char *resource,
                               const ob_context *ctx);

/* ---------------------------------------------------------------- enforcement helpers */

/* What a denied check asked for and which capability would have allowed it. */
typedef struct ob_cap_error {
	int code;            /* 0 allowed, -EACCES denied, -EINVAL malformed request */
	ob_cap_type type;    /* the capability type checked */
	char operation[16];  /* "read", "write", "connect", "exec", "access" */
	char resource[1024]; /* the request, normalised (truncated with "...") */
	char needed[1100];   /* "TYPE:RESOURCE", the grant that would allow it */
	char msg[2300];      /* one sentence for people */
} ob_cap_error;

/* The checks behind the Python CapabilityContext: each returns 0 when allowed, -EACCES
 * when denied, -EINVAL (or -ENAMETOOLONG) when the request itself is malformed.  RETERR
 * (caller-owned, may be NULL) is filled in on every outcome, except the -EINVAL for a NULL
 * SET or string.  CTX may be NULL.  Pure and allocation-free: safe from many threads at
 * once on one set.  ob_check_network() joins HOST (an IPv6 address is bracketed) and
 * PORT into "host:port". */
OB_PUBLIC int ob_check_file_read(const ob_capset *set, const ob_context *ctx, const char *path,
                                 ob_cap_error *reterr);
OB_PUBLIC int ob_check_file_write(const ob_capset *set, const ob_context *ctx, const char *path,
                                  ob_cap_error *reterr);
OB_PUBLIC int ob_check_network(const ob_capset *set, const ob_context *ctx, const char *host,
                               unsigned port, ob_cap_error *reterr);
/* A connect to the host unix socket PATH (absolute, or relative to the set's workdir):
 * allowed by NETWORK_CONNECT "unix:PATTERN" grants (SPEC §2.2); RETERR's resource and
 * needed are "unix:PATH".  Errors as above (-EINVAL for an empty PATH). */
OB_PUBLIC int ob_check_unix_socket(const ob_capset *set, const ob_context *ctx, const char *path,
                                   ob_cap_error *reterr);
OB_PUBLIC int ob_check_command(const ob_capset *set, const ob_context *ctx, const char *command,
                               ob_cap_error *reterr);
OB_PUBLIC int ob_check_secret(const ob_capset *set, const ob_context *ctx, const char *name,
                              ob_cap_error *reterr);
/* MODE is "read" or "write" (-EINVAL otherwise, RETERR filled); "write" checks the
 * *_WRITE type, "read" the *_READ type (which a write grant implies). */
OB_PUBLIC int ob_check_registry(const ob_capset *set, const ob_context *ctx, const char *name,
                                const char *mode, ob_cap_error *reterr);
OB_PUBLIC int ob_check_artifact(const ob_capset *set, const ob_context *ctx, const char *name,
                                const char *mode, ob_cap_error *reterr);
OB_PUBLIC int ob_check_database(const ob_capset *set, const ob_context *ctx, const char *url,
                                const char *mode, ob_cap_error *reterr);

/* One request of any TYPE, with RESOURCE as ob_capset_allows() takes it (what `omnibase caps
 * test` asks): 0 when allowed, and then *ret_grant (RET_GRANT may be NULL) is the active grant
 * that allows it, borrowed from SET; -EACCES when denied (RETERR's needed: the grant that
 * would allow it); -EINVAL for a malformed request or a type out of range.  RETERR as for the
 * checks above. */
OB_PUBLIC int ob_check_request(const ob_capset *set, const ob_context *ctx, ob_cap_type type,
                               const char *resource, const ob_capability **ret_grant,
                               ob_cap_error *reterr);

/* ---------------------------------------------------------------- limits and capability files */

typedef enum ob_limit {
	OB_LIMIT_MEMORY,      /* bytes */
	OB_LIMIT_CPUS,        /* milli-CPUs (1000 = one CPU) */
	OB_LIMIT_PIDS,        /* processes */
	OB_LIMIT_TIMEOUT,     /* milliseconds of wall clock */
	OB_LIMIT_OUTPUT,      /* bytes per output stream */
	OB_LIMIT_TMPFS,       /* bytes of /tmp */
	OB_LIMIT_FILES,       /* open files (RLIMIT_NOFILE) */
	OB_LIMIT_CONNECTIONS, /* concurrent egress connections */
	OB_LIMIT_EGRESS,      /* bytes through egress per run, both directions */
	OB_LIMIT_EVENTS,      /* audit events written per run (folded repeats not counted) */
	OB_LIMIT_DISK,        /* bytes the program may add to host paths through writable grants */
	OB_LIMIT_MAX,
	OB_LIMIT_INVALID = -EINVAL,
} ob_limit;

/* The limits of a run: a plain caller-owned struct (nothing to free). */
typedef struct ob_limits {
	uint64_t value[OB_LIMIT_MAX];
	unsigned explicit_mask; /* bit (1 << limit) set when a file or flag gave the value */
} ob_limits;

/* Fills LIMITS with the SPEC §2.4 defaults: memory 256 MiB, cpus 1, pids 64, timeout 30 s,
 * output 16 MiB, tmpfs 64 MiB, files 256; and ours: connections 256, egress 4 GiB, events
 * 10,000, disk 1 GiB.  None
 * explicit.  Does nothing for NULL. */
OB_PUBLIC void ob_limits_init(ob_limits *limits);
/* "memory", "cpus", … (static), or NULL for a value out of range. */
OB_PUBLIC const char *ob_limit_to_string(ob_limit limit);
/* The limit named NAME exactly (lower case), or OB_LIMIT_INVALID (-EINVAL). */
OB_PUBLIC ob_limit ob_limit_from_string(const char *name);
/* Parses a size: digits with an optional K, M, G or T suffix (powers of 1024, optionally
 * followed by "B" or "iB"), or digits and "B".  *ret is set only on success.  -EINVAL when
 * malformed, -ERANGE over 2^62. */
OB_PUBLIC int ob_size_parse(const char *text, uint64_t *ret);
/* Formats V (in LIMIT's unit) into BUF (SIZE bytes, truncated; 32 always suffice) the way
 * the text form writes it: "256M", "0.5", "30", "64". */
OB_PUBLIC void ob_limit_format(ob_limit limit, uint64_t v, char *buf, size_t size);
/* Parses a limit given as text (the command-line form: a size, seconds or CPUs as a
 * decimal, or a whole number), checks its range and stores it, marking it explicit.
 * -EINVAL for an unknown LIMIT, malformed text or a value out of range (RETERR filled;
 * LIMITS unchanged). */
OB_PUBLIC int ob_limits_set_text(ob_limits *limits, ob_limit limit, const char *text,
                                 ob_error *reterr);

/*
 * Parses a capability file (SPEC §2.4) held in DATA (LEN bytes) and adds its grants to SET
 * and its limits to LIMITS (either may be NULL to only validate).  NAME is used in messages.
 * Nothing is added unless the whole file is valid.  Every error message names the file,
 * the line:column (syntax) or JSON path (structure), and what was expected.  All borrowed;
 * SET must not be in use by other threads meanwhile.
 * Errors (RETERR filled): -EINVAL malformed, -EFBIG over 1 MiB, 4096 capabilities or 32
 * conditions, -ENAMETOOLONG, -ENOMEM (then SET may hold part of the file).
 */
OB_PUBLIC int ob_capfile_parse(const char *data, size_t len, const char *name, const char *workdir,
                               ob_capset *set, ob_limits *limits, ob_error *reterr);
/* Reads PATH (a regular file of at most 1 MiB) and parses it as above.  Besides those
 * errors: the open/read errno (-ENOENT, -EACCES, …), -EINVAL not a regular file, -EFBIG. */
OB_PUBLIC int ob_capfile_load(const char *path, const char *workdir, ob_capset *set,
                              ob_limits *limits, ob_error *reterr);
/* The set (and LIMITS, may be NULL) as a JSON document: {"capabilities": [{"type",
 * "resource", "when"}], "limits": {...}}.  *ret is malloc'ed, owned by the caller: free().
 * -ENOMEM. */
OB_PUBLIC int ob_capset_to_json(const ob_capset *set, const ob_limits *limits, char **ret);

/* ---------------------------------------------------------------- profiles (SPEC §3) */

/* Named sets of grants shipped with omnibase (`--profile NAME`): capability files NAME.json
 * in one directory.  That directory is the installed one (DATADIR/omnibase/profiles), or the
 * source tree's profiles/ when the running program lives in the build tree it was built in
 * (so tests of a build work before it is installed).  *ret is malloc'ed, the caller's:
 * free().  -ENOMEM. */
OB_PUBLIC int ob_profile_dir(char **ret);
/* The profiles as a JSON array [{"name", "description", "file"}] sorted by name; *ret is
 * malloc'ed, the caller's: free().  Errors (RETERR filled): the directory's open errno
 * (-ENOENT: not installed), -EINVAL a profile file that is not valid JSON, -ENOMEM. */
OB_PUBLIC int ob_profiles_json(char **ret, ob_error *reterr);
/* The file of profile NAME in *ret (malloc'ed, the caller's: free()).  Errors (RETERR
 * filled): -EINVAL NAME is not 1-64 of [a-z0-9_-], -ENOENT no such profile (the message
 * lists those there are and suggests the nearest), -ENOMEM. */
OB_PUBLIC int ob_profile_path(const char *name, char **ret, ob_error *reterr);
/* Loads profile NAME into SET and LIMITS (either may be NULL) as ob_capfile_load() does.
 * Errors as ob_profile_path() and ob_capfile_load(). */
OB_PUBLIC int ob_profile_load(const char *name, const char *workdir, ob_capset *set,
                              ob_limits *limits, ob_error *reterr);

/* ---------------------------------------------------------------- sandbox runner (SPEC §3–5) */

/*
 * A run's description, built with setters and run with ob_sandbox_run().  Setters validate
 * and copy (no system call beyond a realpath/stat or reading a named file), return 0 or a
 * negative errno, and leave the sandbox unchanged on failure.  All setters: -EINVAL for a
 * NULL sandbox or argument, -ENOMEM (without a message).  One thread at a time per
 * sandbox; separate sandboxes may be built and run from separate threads.
 */
typedef struct ob_sandbox ob_sandbox;

typedef enum ob_sandbox_mode {
	OB_MODE_SANDBOX, /* only granted paths are visible (default) */
	OB_MODE_RX,      /* the host file system readable, writes only where granted */
	OB_MODE_RWX,     /* no file-system restriction: trusted components only; logged */
	OB_MODE_MAX,
	OB_MODE_INVALID = -EINVAL,
} ob_sandbox_mode;

/* What runs the plan (SPEC §3): native namespaces, or an OCI runtime on a bundle made from
 * the same plan (docs/design/backends.md says what each provides). */
typedef enum ob_backend {
	OB_BACKEND_NATIVE,
	OB_BACKEND_GVISOR, /* runsc */
	OB_BACKEND_CRUN,
	OB_BACKEND_RUNC,
	OB_BACKEND_MAX,
	OB_BACKEND_INVALID = -EINVAL,
} ob_backend;

/* Name <-> value for backends, egress modes and sandbox modes: to_string gives the static
 * lower-case name ("native", "proxy", "rx") or NULL out of range; from_string takes the
 * exact name and returns the *_INVALID value (-EINVAL) for any other string or NULL. */
OB_PUBLIC const char *ob_backend_to_string(ob_backend backend);
OB_PUBLIC ob_backend ob_backend_from_string(const char *name);

/* How granted network is reached (SPEC §3). */
typedef enum ob_egress {
	OB_EGRESS_BOTH,        /* trapped connects and the proxy (default, native) */
	OB_EGRESS_PROXY,       /* only the proxy; no DNS inside */
	OB_EGRESS_TRANSPARENT, /* only trapped connects and the DNS stub; no proxy variables */
	OB_EGRESS_MAX,
	OB_EGRESS_INVALID = -EINVAL,
} ob_egress;

/* As ob_backend_to_string() and ob_backend_from_string(). */
OB_PUBLIC const char *ob_egress_to_string(ob_egress egress);
OB_PUBLIC ob_egress ob_egress_from_string(const char *name);

/* As ob_backend_to_string() and ob_backend_from_string(). */
OB_PUBLIC const char *ob_sandbox_mode_to_string(ob_sandbox_mode mode);
OB_PUBLIC ob_sandbox_mode ob_sandbox_mode_from_string(const char *name);

/* One distinct denial of a run (SPEC §5 CapabilityDenied): what was refused and the grant
 * that would allow it ("FILE_READ:/etc/passwd"); COUNT times (repeats folded). */
typedef struct ob_denial {
	char capability[32]; /* "FILE_READ", "NETWORK_CONNECT", … */
	char operation[32];  /* "open", "exec", "connect", "resolve", … */
	char *resource;      /* owned by the result */
	char *needed;        /* owned by the result: "TYPE:RESOURCE", "" when no grant allows it */
	unsigned count;
} ob_denial;

/* At most this many distinct denials are kept in a result (the rest are only counted). */
#define OB_RESULT_MAX_DENIALS 32

/* The outcome of a run: a caller-owned struct that ob_sandbox_run() fills; what it points
 * to is released with ob_result_done(). */
typedef struct ob_result {
	int exit_code;        /* what `omnibase sandbox run` exits with (SPEC §4) */
	int status;           /* the program's exit status, or -1 */
	int signal;           /* the signal that killed it, or 0 */
	bool timed_out;       /* killed by the wall-clock timeout */
	bool oom;             /* killed or refused by the memory limit */
	uint64_t duration_ms; /* wall clock from start to exit */
	uint64_t max_rss_kb;  /* largest resident set of the program's processes */
	unsigned violations;  /* denials and violations recorded */
	bool output_exceeded; /* a stream hit the output limit and was cut there */
	char execution_id[37];
	char *stdout_data; /* captured output (ob_sandbox_set_capture_output), or NULL; */
	char *stderr_data; /* NUL-terminated, owned by the result: ob_result_done() */
	size_t stdout_len, stderr_len;
	ob_denial *denials;     /* the first distinct denials, in order (owned) */
	size_t n_denials;       /* entries in DENIALS (<= OB_RESULT_MAX_DENIALS) */
	unsigned denials_total; /* every denial, repeats and those not kept included */
	unsigned limits_hit;    /* bit (1 << ob_limit) for each limit the run reached */
	ob_limits limits;       /* the limits in force (for messages) */
} ob_result;

/* The one line that says how omnibase ended or constrained a run (SPEC §3): killed after
 * the timeout or out of memory, output cut at its cap, another limit reached, the denials
 * and the grants that would allow them, e.g. "killed after 30 s (--timeout); 2 denials:
 * FILE_READ /etc/passwd, … (allow with --cap FILE_READ:/etc/passwd …)", without the
 * "omnibase: " prefix.  *ret is malloc'ed (free()), or NULL when there is nothing to say
 * (the program ended by itself with no denial).  -EINVAL, -ENOMEM. */
OB_PUBLIC int ob_result_summary(const ob_result *res, char **ret);
/* The result object of `sandbox run --json` (SPEC §3; docs/design/runner.md "The result
 * object"), one schema for every outcome: RES NULL means no run happened (bad options),
 * ERR (may be NULL) the message behind it.  *ret is malloc'ed (free()).  -ENOMEM. */
OB_PUBLIC int ob_result_json(const ob_result *res, const ob_error *err, char **ret);

/* Frees the captured output a result owns and zeroes those fields; the struct itself is
 * the caller's, so this returns void (a `_done`, not a `_free`).  Accepts NULL. */
OB_PUBLIC void ob_result_done(ob_result *res);

/* A new sandbox description with SPEC defaults (no capabilities, default limits, mode
 * sandbox, backend native, egress both) in *ret, owned by the caller: ob_sandbox_free().
 * Nothing runs until ob_sandbox_run().  -ENOMEM. */
OB_PUBLIC int ob_sandbox_new(ob_sandbox **ret);
/* Frees SB, dropping its reference on the grants and wiping secret sources.  Returns NULL. */
OB_PUBLIC ob_sandbox *ob_sandbox_free(ob_sandbox *sb);
/* The grants: a reference on SET is taken (the caller keeps its own), so SET must not be
 * changed while the sandbox uses it. */
OB_PUBLIC int ob_sandbox_set_capabilities(ob_sandbox *sb, ob_capset *set);
/* The context the grants' conditions and the registry policy see (copied); -EINVAL for a
 * bad key or value as ob_context_set(). */
OB_PUBLIC int ob_sandbox_set_context(ob_sandbox *sb, const char *key, const char *value);
/* Copies LIMITS as they are: the values are not range-checked here (ob_limits_set_text()
 * and capability files check them). */
OB_PUBLIC int ob_sandbox_set_limits(ob_sandbox *sb, const ob_limits *limits);
/* The file-system mode, the egress mode and the backend; -EINVAL for a value out of
 * range.  Whether the backend can run this plan is decided at plan time (-EOPNOTSUPP). */
OB_PUBLIC int ob_sandbox_set_mode(ob_sandbox *sb, ob_sandbox_mode mode);
OB_PUBLIC int ob_sandbox_set_egress(ob_sandbox *sb, ob_egress egress);
OB_PUBLIC int ob_sandbox_set_backend(ob_sandbox *sb, ob_backend backend);
/* A host directory mounted read-write at /workspace and used as the working directory.
 * DIR is resolved (realpath) and the result copied.  Errors (RETERR filled, except
 * -ENOMEM): realpath's errno (-ENOENT, -EACCES, -ELOOP, …), -ENOTDIR. */
OB_PUBLIC int ob_sandbox_set_workdir(ob_sandbox *sb, const char *dir, ob_error *reterr);
/* Where the registry store (REGISTRY_* grants, mounted at /registry) and the artifact store
 * (ARTIFACT_* grants, at /artifacts) are on the host. A grant whose store is not set fails
 * the run (125).  Resolved, copied and failing as ob_sandbox_set_workdir(). */
OB_PUBLIC int ob_sandbox_set_registry(ob_sandbox *sb, const char *dir, ob_error *reterr);
OB_PUBLIC int ob_sandbox_set_artifacts(ob_sandbox *sb, const char *dir, ob_error *reterr);
/* Takes the grants from the registry's policy for component UUID (see ob_registry_review;
 * needs the registry directory). With NARROW, the capabilities set with
 * ob_sandbox_set_capabilities only narrow what the policy grants (their intersection);
 * without, they are replaced. Each decision is a PolicyEvaluated event.  UUID is copied
 * and checked when the run is planned, where the registry's errors surface. */
OB_PUBLIC int ob_sandbox_set_component(ob_sandbox *sb, const char *uuid, bool narrow);
/* Changes the seccomp allow-list from a JSON file {"version": 1, "allow": [names],
 * "deny": [names]} (docs/security/seccomp.md), read now; errors name the file, position
 * and name.  Errors (RETERR filled): the open/read errno (-ENOENT, …), -EINVAL malformed
 * or not a regular file, -EFBIG over 1 MiB, -ENOMEM. */
OB_PUBLIC int ob_sandbox_set_seccomp_profile(ob_sandbox *sb, const char *path, ob_error *reterr);
/* Adds KEY=VALUE (copied) to the program's environment.  -EINVAL without '=' or with an
 * empty KEY (RETERR filled). */
OB_PUBLIC int ob_sandbox_add_env(ob_sandbox *sb, const char *assignment, ob_error *reterr);
/* The program (a path, or a name looked up on PATH) or script, and its arguments: ARGV is
 * NULL-terminated and copied; resolved when the run is planned.  -EINVAL for an empty ARGV
 * (RETERR filled). */
OB_PUBLIC int ob_sandbox_set_command(ob_sandbox *sb, char *const argv[], ob_error *reterr);
/* A secret source on the host side, "NAME=@FILE" or "NAME=env:VAR" (copied; read when the
 * run starts). A secret that an active SECRET_ACCESS grant names appears in the sandbox as
 * /run/secrets/NAME (mode 0400, on a private read-only tmpfs), never in the environment or
 * an event. A literal SECRET_ACCESS grant without a source fails the run (125).  -EINVAL
 * for another form (RETERR filled). */
OB_PUBLIC int ob_sandbox_add_secret(ob_sandbox *sb, const char *source, ob_error *reterr);
/* Capture the program's stdout and stderr into the result instead of relaying them to the
 * caller's (both are capped by the output limit either way). */
OB_PUBLIC int ob_sandbox_set_capture_output(ob_sandbox *sb, bool capture);
/* Run even when a protection is unavailable, emitting SandboxDegraded for it. */
OB_PUBLIC int ob_sandbox_set_allow_degraded(ob_sandbox *sb, bool allow);
/* With a component (ob_sandbox_set_component): run it even when its signature, key or
 * entrypoint does not verify (ob_registry_verify), said in a SandboxDegraded event
 * ("signature"); without, such a run fails with -EPERM. */
OB_PUBLIC int ob_sandbox_set_allow_unsigned(ob_sandbox *sb, bool allow);
/* Also report what was allowed, not only what was refused: each egress connection made
 * (CapabilityUsed events). */
OB_PUBLIC int ob_sandbox_set_verbose(ob_sandbox *sb, bool verbose);
/* Writes the plan's warnings at start to FD (borrowed, never closed), one line each:
 * "omnibase: warning: grant FILE_READ:/x matches nothing on the host" (also in
 * SandboxStart's "warnings").  -EINVAL for a negative FD. */
OB_PUBLIC int ob_sandbox_set_warning_fd(ob_sandbox *sb, int fd);
/* Event sinks, at most 4 of each kind (-E2BIG beyond).  ob_sandbox_add_audit_log()
 * appends events as JSON Lines to PATH (copied; opened O_APPEND when the run starts, its
 * failure then fails the run with 125). */
OB_PUBLIC int ob_sandbox_add_audit_log(ob_sandbox *sb, const char *path);
/* Also sends each event to the unix socket PATH (copied; connected when the run starts; a
 * socket that cannot be reached then fails the run with 125, one that fails later is
 * reported). */
OB_PUBLIC int ob_sandbox_add_audit_socket(ob_sandbox *sb, const char *path);
/* Also copies each event to FD (borrowed, never closed: it must stay open during runs;
 * e.g. stderr for --verbose).  -EINVAL for a negative FD. */
OB_PUBLIC int ob_sandbox_add_audit_fd(ob_sandbox *sb, int fd);
/* Resolves the run without running it: program, interpreter, mounts, environment, limits,
 * protections.  *ret is a JSON document, malloc'ed, owned by the caller: free().  Errors
 * (RETERR filled) as the planning step of ob_sandbox_run(). */
OB_PUBLIC int ob_sandbox_plan_json(ob_sandbox *sb, char **ret, ob_error *reterr);
/* The same plan for people (`--dry-run --summary`): program, capabilities, mounts as
 * `ro /usr` / `rw /workspace`, Landlock rules by access name, the exec allow-list, network,
 * limits, environment; one item a line.  *ret is malloc'ed text, the caller's: free().
 * Errors as ob_sandbox_plan_json(). */
OB_PUBLIC int ob_sandbox_plan_summary(ob_sandbox *sb, char **ret, ob_error *reterr);
/*
 * Runs the program and waits for it.  RESULT is always filled (exit_code 125 until the run
 * happens); release it with ob_result_done().  Returns 0 when the run happened, whatever
 * the program did (see RESULT; RETERR may still carry a message: code 0 for an audit-log
 * write error, or the exec failure behind exit code 126/127).  Otherwise a negative errno,
 * RETERR saying why, and RESULT->exit_code 125 (planning's -ENOENT: 127, its -EACCES and
 * -ENOEXEC: 126).  -EINVAL no program, a bad grant, secret or policy; -ENOENT program,
 * interpreter or registry file missing; -EACCES/-ENOEXEC not executable; -EOPNOTSUPP a
 * protection or backend feature unavailable (without allow_degraded); -ELOOP a symlink in
 * a granted path; -E2BIG a grant matching too many files; -ENOMEM; system errors of the
 * setup (-EPERM, -ENOSPC for namespaces, -EIO, …).
 * Forks: one run at a time per sandbox, several sandboxes may run from different threads;
 * the caller must not reap the child (no waitpid(-1), SIGCHLD not ignored).
 */
OB_PUBLIC int ob_sandbox_run(ob_sandbox *sb, ob_result *result, ob_error *reterr);

/* Learning mode (SPEC §3 `sandbox learn`, docs/design/learn.md): with LEARN, the next
 * ob_sandbox_run() records what the program does instead of refusing it. The host is shown
 * read-only (mode rx, whatever ob_sandbox_set_mode() said); a file it hides is served
 * read-only from the host with the caller's access, a write outside the workdir goes to a
 * scratch copy (the host's file is never changed); every command may run; the network
 * stays refused (and recorded) unless NETWORK, then every connection is made (and
 * recorded). Native backend only (the run fails with -EOPNOTSUPP otherwise). The program can
 * read whatever the caller can: learn only what you would let read your files. -ENOMEM. */
OB_PUBLIC int ob_sandbox_set_learn(ob_sandbox *sb, bool learn, bool network);
/* After a learning run: the least-privilege capability file (SPEC §2.5) that lets
 * ob_sandbox_run() repeat it with no denial — what the program used, tightened (single
 * files; DIR/ ** only where many files of DIR were used; never `/`, a top-level directory or
 * a home wholesale; nothing the runtime layout gives), merged with the sandbox's own grants
 * — checked as `caps check` would and written to PATH atomically (a temporary file beside
 * it, renamed). Returns how many observations the file lacks (0 normally; past the bounded
 * record, or no grant can express them, e.g. a path over PATH_MAX), or -EINVAL (not a
 * learning run, RETERR says), -ENOMEM, or the error of creating, writing or renaming the file
 * (RETERR says). */
OB_PUBLIC int ob_sandbox_learn_write(ob_sandbox *sb, const char *path, ob_error *reterr);

/* ---------------------------------------------------------------- policies (Cedar subset) */

/*
 * Policy sets in Cedar's JSON policy format (SPEC §6), entities in Cedar's JSON entity
 * format, and authorization with Cedar's semantics.  Parse errors name the file, line,
 * column and JSON path and say what was expected.
 * Policy sets and entities are immutable once parsed: many threads and authorizers may
 * share them.  An authorizer and its requests belong to one thread at a time.
 */
typedef struct ob_policy_set ob_policy_set;
typedef struct ob_entities ob_entities;
typedef struct ob_authorizer ob_authorizer;
typedef struct ob_authz_request ob_authz_request;

/* Parses a policy set from DATA (LEN bytes; NAME, may be NULL, is used in messages) into
 * *ret, owned by the caller: ob_policy_set_free().  Nothing is kept of DATA.
 * Errors (RETERR filled): -EINVAL malformed, -EFBIG over 64 MiB, -ENOMEM. */
OB_PUBLIC int ob_policy_set_parse(const char *data, size_t len, const char *name,
                                  ob_policy_set **ret, ob_error *reterr);
/* Reads PATH (a regular file) and parses it as above.  Besides those errors: the
 * open/read errno (-ENOENT, -EACCES, …), -EINVAL not a regular file. */
OB_PUBLIC int ob_policy_set_load(const char *path, ob_policy_set **ret, ob_error *reterr);
/* Frees PS; authorizers made from it must be freed first.  Returns NULL. */
OB_PUBLIC ob_policy_set *ob_policy_set_free(ob_policy_set *ps);
/* The number of policies (0 for NULL). */
OB_PUBLIC size_t ob_policy_set_size(const ob_policy_set *ps);
/* The id of policy I ("p0" for {"staticPolicies": {"p0": ...}}; "policyI" in a list),
 * borrowed for the set's lifetime; NULL when I is out of range. */
OB_PUBLIC const char *ob_policy_set_id(const ob_policy_set *ps, size_t i);
/* Policy I as Cedar policy text on one line (binary operations parenthesised); *ret is
 * malloc'ed, owned by the caller: free().  -EINVAL when I is out of range, -ENOMEM. */
OB_PUBLIC int ob_policy_set_text(const ob_policy_set *ps, size_t i, char **ret);

/* Parses and loads entities as the policy-set calls above do: same ownership (free with
 * ob_entities_free()), same errors, messages naming "<entities>" when NAME is NULL. */
OB_PUBLIC int ob_entities_parse(const char *data, size_t len, const char *name, ob_entities **ret,
                                ob_error *reterr);
OB_PUBLIC int ob_entities_load(const char *path, ob_entities **ret, ob_error *reterr);
/* Frees ES; authorizers made with it must be freed first.  Returns NULL. */
OB_PUBLIC ob_entities *ob_entities_free(ob_entities *es);
/* The number of entities the file lists (0 for NULL). */
OB_PUBLIC size_t ob_entities_size(const ob_entities *es);

/* Links PS to ES (NULL: no entities) once into *ret, owned by the caller:
 * ob_authorizer_free().  PS and ES are borrowed and must outlive the authorizer.  -ENOMEM
 * (no ob_error).  Not thread-safe: it caches as it answers; one authorizer per thread. */
OB_PUBLIC int ob_authorizer_new(const ob_policy_set *ps, const ob_entities *es,
                                ob_authorizer **ret);
/* Frees A; its requests must be freed first.  Returns NULL. */
OB_PUBLIC ob_authorizer *ob_authorizer_free(ob_authorizer *a);

/* A request: PRINCIPAL, ACTION, RESOURCE as Cedar entity references (`Type::"id"`), CONTEXT
 * a JSON object or NULL (all copied). Parsed once, evaluated any number of times with A
 * (it adds to A's caches: same thread as A).  *ret is owned by the caller:
 * ob_authz_request_free(), before A.  Errors (RETERR filled): -EINVAL a malformed
 * reference or context, -ENOMEM. */
OB_PUBLIC int ob_authz_request_new(ob_authorizer *a, const char *principal, const char *action,
                                   const char *resource, const char *context_json,
                                   ob_authz_request **ret, ob_error *reterr);
/* Frees R.  Returns NULL. */
OB_PUBLIC ob_authz_request *ob_authz_request_free(ob_authz_request *r);

/* The answer: REASONS are the determining policies (the satisfied forbids when any, else the
 * satisfied permits), ERRORS the policies whose evaluation failed (skipped, as in Cedar),
 * each with a message; indices into the policy set. Valid until the next ob_authorize(). */
typedef struct ob_decision {
	bool allow;
	const uint32_t *reasons;
	size_t n_reasons;
	const uint32_t *errors;
	const char *const *error_messages;
	size_t n_errors;
} ob_decision;

/* Evaluates R (made with A) into *ret, whose arrays are borrowed from A until the next
 * ob_authorize() on it.  Allocates nothing once warm (a scratch arena is reused).  Returns
 * 0 (a policy that errs is reported in *ret, not as a failure); -EINVAL for NULL only. */
OB_PUBLIC int ob_authorize(ob_authorizer *a, const ob_authz_request *r, ob_decision *ret);

/* ---------------------------------------------------------------- registry policy store (SPEC §7)
 */

/*
 * A component's requested capabilities (DIR/components/UUID.json) decided one by one by its
 * policy set (DIR/policies/UUID.cedar.json), as Cedar requests principal Component::"UUID",
 * action Action::"TYPE", resource Resource::"RESOURCE", context CTX (values that are integers
 * or true/false become Cedar longs and booleans). Only what is allowed is granted.
 * A review is immutable once made: read from many threads at once.
 */
typedef struct ob_review ob_review;

/* Reviews component UUID of the registry at DIR (CTX may be NULL) into *ret, owned by the
 * caller: ob_review_free().  Errors (RETERR filled): -EINVAL a malformed UUID or file, the
 * open/read errno of a file (-ENOENT when the component or its policy is missing, …),
 * -EFBIG an oversized file, -ENOMEM. */
OB_PUBLIC int ob_registry_review(const char *dir, const char *uuid, const ob_context *ctx,
                                 ob_review **ret, ob_error *reterr);
/* Frees RV and its reference on the granted set.  Returns NULL. */
OB_PUBLIC ob_review *ob_review_free(ob_review *rv);
/* The granted capabilities, borrowed for the review's lifetime (ob_capset_ref() to keep
 * them longer); NULL for NULL. */
OB_PUBLIC const ob_capset *ob_review_granted(const ob_review *rv);
/* The review as JSON: each requested capability with its decision, the determining policies
 * (id and Cedar text) and the policies that erred; *ret is malloc'ed, owned by the caller:
 * free().  -ENOMEM. */
OB_PUBLIC int ob_review_to_json(const ob_review *rv, char **ret);

/* ---------------------------------------------------------------- registry store (SPEC §7)
 *
 * Signatures are minisign's (Ed25519, legacy "Ed" and prehashed "ED", trusted comments).
 * A component UUID of the registry DIR is trusted when components/UUID.json and
 * policies/UUID.cedar.json are each signed (FILE.minisig) by a key in DIR/keys (*.pub) and its
 * entrypoint, DIR/components/UUID/ENTRYPOINT, has the metadata's sha256.
 */

/* Checks component UUID (see above). 0, *RET_KEY (may be NULL; free()) the signing key's id;
 * -EBADMSG not trusted, RETERR naming the file and why (unsigned, an untrusted key, a
 * signature or trusted comment that does not match, a changed entrypoint); -EINVAL a
 * malformed id or file; the errno of a missing file (-ENOENT); -ENOMEM. */
OB_PUBLIC int ob_registry_verify(const char *dir, const char *uuid, char **ret_key,
                                 ob_error *reterr);
/* Signs FILE into FILE.minisig (prehashed, as minisign -S) with the minisign secret key
 * SECKEY; an encrypted key's password is the first line of PASSWORD_FILE, or (NULL)
 * $OMNIBASE_KEY_PASSWORD. -EINVAL a malformed key, -EACCES a missing or wrong password. */
OB_PUBLIC int ob_registry_sign(const char *seckey, const char *password_file, const char *file,
                               ob_error *reterr);
/* Lints the component metadata at PATH: *ret (free()) the findings, one a line
 * ("PATH:$.json.path: rule: message"); returns their number (>= 0), or -EINVAL when PATH is
 * not JSON, the errno of reading it, -ENOMEM. */
OB_PUBLIC int ob_registry_lint(const char *path, char **ret, ob_error *reterr);
/* Lints, then stores METADATA (its entrypoint, found next to it, and POLICY when not NULL)
 * in DIR, signing each with SECKEY when not NULL; *RET_UUID (may be NULL; free()) the id.
 * -EINVAL lint findings (listed in RETERR) or a bad policy; errno of files; -ENOMEM. */
OB_PUBLIC int ob_registry_add(const char *dir, const char *metadata, const char *policy,
                              const char *seckey, const char *password_file, char **ret_uuid,
                              ob_error *reterr);
/* The components as a JSON array of {"uuid", "name", "version", "kind", "signature":
 * {"state": "verified"|"unverified", "key"|"reason"}}, sorted by id (free()). */
OB_PUBLIC int ob_registry_list(const char *dir, char **ret_json, ob_error *reterr);
/* One component: {"metadata", "policy" (its path, when present), "signature"} (free()). */
OB_PUBLIC int ob_registry_show(const char *dir, const char *uuid, char **ret_json,
                               ob_error *reterr);

/* ---------------------------------------------------------------- audit logs (SPEC §5) */

/* Checks the hash chain of the audit log at PATH (`omnibase audit verify`): every line is a
 * JSON object whose `seq` is the previous line's plus one (1 on the first line) and whose
 * `prev` is the lowercase hex SHA-256 of the previous line's bytes without its newline (64
 * zeros on the first line); the file ends in a newline.  Reads the file once, in pieces (a
 * line may be up to 16 MiB).  On success sets *RET_EVENTS (may be NULL) to the number of
 * lines and returns 0.  Errors (RETERR filled): -EBADMSG the chain is broken, RETERR naming
 * the first line that breaks it and what is wrong ("PATH:LINE: seq 5 where 4 was expected:
 * …", "…: expected prev H, found G: the line before was edited, deleted or reordered", "not
 * a JSON object", "the last line has no newline"); -EFBIG a line over 16 MiB; the errno of
 * open/read; -ENOMEM.  An edit of the last line is not seen: nothing after it hashes it. */
OB_PUBLIC int ob_audit_verify(const char *path, uint64_t *ret_events, ob_error *reterr);
/* ob_audit_verify() on SIZE bytes of DATA (may be NULL when SIZE is 0), named NAME in
 * messages: same results, without the errno of open/read. */
OB_PUBLIC int ob_audit_verify_buffer(const char *data, size_t size, const char *name,
                                     uint64_t *ret_events, ob_error *reterr);

/* ob_audit_format() flags. */
#define OB_AUDIT_FORMAT_JSON (1u << 0) /* the line's own JSON, not the readable form */

/* Formats one audit log line (LEN bytes; a trailing newline is ignored) for reading
 * (`omnibase audit tail`): "TS #SEQ EVENT key=value …" with the event's key fields (strings
 * that hold spaces, quotes or control characters JSON-quoted), or with OB_AUDIT_FORMAT_JSON
 * the line itself.  EVENT (may be NULL: any) keeps only events of that type (case-insensitive).
 * Returns 1 with *RET malloc'ed (no newline; free() it), 0 when the event is of another
 * type (*RET untouched); -EBADMSG when the line is not a JSON object with an "event" string,
 * -ENOMEM.  RETERR-less: the caller names the line. */
OB_PUBLIC int ob_audit_format(const char *line, size_t len, const char *event, unsigned flags,
                              char **ret);

/* What this kernel and user can apply, as a JSON document (omnibase doctor): probes with
 * short-lived child processes and system calls.  *ret is malloc'ed, owned by the caller:
 * free().  -ENOMEM. */
OB_PUBLIC int ob_probe_json(char **ret);
/* The same for reading: a verdict line per protection and per backend, the tier each backend
 * would run, and what blocks a missing protection with its fix. *ret as above. */
OB_PUBLIC int ob_probe_text(char **ret);

#ifdef __cplusplus
}
#endif

#endif
