/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Landlock: the second fence behind the mount layout.  The supervisor computes the rules
 * (fs_rules_build); the program's process applies them right before execve
 * (fs_rules_apply), without allocating.  The kernel headers of the build machine may predate
 * the running kernel's Landlock, so the ABI is spelled out here and the rights actually used
 * are masked to what the running kernel reports (down to ABI 1).
 */
#include "plan/fs-rules.h"

#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "model/capability.h"
#include "plan/exec-rules.h"
#include "plan/program.h"
#include "plan/toolchain.h"

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule       445
#define SYS_landlock_restrict_self  446
#endif

#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH      1
#define LL_RULE_NET_PORT          2 /* ABI 4 */

#define LL_FS_EXECUTE     (1ULL << 0)
#define LL_FS_WRITE_FILE  (1ULL << 1)
#define LL_FS_READ_FILE   (1ULL << 2)
#define LL_FS_READ_DIR    (1ULL << 3)
#define LL_FS_REMOVE_DIR  (1ULL << 4)
#define LL_FS_REMOVE_FILE (1ULL << 5)
#define LL_FS_MAKE_CHAR   (1ULL << 6)
#define LL_FS_MAKE_DIR    (1ULL << 7)
#define LL_FS_MAKE_REG    (1ULL << 8)
#define LL_FS_MAKE_SOCK   (1ULL << 9)
#define LL_FS_MAKE_FIFO   (1ULL << 10)
#define LL_FS_MAKE_BLOCK  (1ULL << 11)
#define LL_FS_MAKE_SYM    (1ULL << 12)
#define LL_FS_REFER       (1ULL << 13) /* ABI 2 */
#define LL_FS_TRUNCATE    (1ULL << 14) /* ABI 3 */
#define LL_FS_IOCTL_DEV   (1ULL << 15) /* ABI 5 */

#define LL_NET_BIND_TCP    (1ULL << 0) /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1) /* ABI 4 */

#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL               (1ULL << 1) /* ABI 6 */

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;             /* ABI 6 */
};

struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

struct ll_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
} __attribute__((packed));

#define FS_READ (LL_FS_READ_FILE | LL_FS_READ_DIR)
#define FS_WRITE                                                                                   \
	(LL_FS_WRITE_FILE | LL_FS_REMOVE_DIR | LL_FS_REMOVE_FILE | LL_FS_MAKE_DIR |                \
	 LL_FS_MAKE_REG | LL_FS_MAKE_SOCK | LL_FS_MAKE_FIFO | LL_FS_MAKE_SYM | LL_FS_REFER |       \
	 LL_FS_TRUNCATE)
#define FS_DEVICE (LL_FS_READ_FILE | LL_FS_READ_DIR | LL_FS_WRITE_FILE | LL_FS_IOCTL_DEV)

int fs_rules_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
	return abi < 0 ? 0 : (int)abi;
}

/* Every file-system right this ABI knows: all of them are handled, so all are denied
 * unless a rule grants them. */
static uint64_t handled_fs(int abi)
{
	uint64_t all = (LL_FS_MAKE_SYM << 1) - 1;

	if (abi >= 2)
		all |= LL_FS_REFER;
	if (abi >= 3)
		all |= LL_FS_TRUNCATE;
	if (abi >= 5)
		all |= LL_FS_IOCTL_DEV;
	return all;
}

static int rules_add(Plan *p, const char *path, uint64_t access)
{
	if (p->n_rules >= PLAN_MAX_RULES)
		return -E2BIG;
	for (size_t i = 0; i < p->n_rules; i++)
		if (streq(p->rules[i].path, path)) {
			p->rules[i].access |= access;
			return 0;
		}
	FsRule *n = reallocarray(p->rules, p->n_rules + 1, sizeof(FsRule));
	if (!n)
		return -ENOMEM;
	p->rules = n;
	p->rules[p->n_rules].path = strdup(path);
	if (!p->rules[p->n_rules].path)
		return -ENOMEM;
	p->rules[p->n_rules].exec_as = 0;
	p->rules[p->n_rules].why = NULL;
	p->rules[p->n_rules++].access = access;
	return 0;
}

/* The ELF interpreter (dynamic loader) of PATH, from its PT_INTERP header; "" if none. */
static int elf_interpreter(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf64_Ehdr eh;

	buf[0] = '\0';
	if (fd < 0)
		return -errno;
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64)
		return 0;
	for (unsigned i = 0; i < eh.e_phnum && i < 256; i++) {
		Elf64_Phdr ph;
		if (pread(fd, &ph, sizeof(ph),
		          (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) !=
		    (ssize_t)sizeof(ph))
			return -EIO;
		if (ph.p_type != PT_INTERP)
			continue;
		if (ph.p_filesz == 0 || ph.p_filesz >= size)
			return -ENAMETOOLONG;
		if (pread(fd, buf, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz)
			return -EIO;
		buf[ph.p_filesz] = '\0';
		return 0;
	}
	return 0;
}

/* EXECUTE on PATH, run AS a program or an ELF interpreter (FS_RULE_EXEC_*). */
static int rules_add_exec(Plan *p, const char *path, unsigned as)
{
	int r = rules_add(p, path, LL_FS_EXECUTE | LL_FS_READ_FILE);
	for (size_t i = 0; r >= 0 && i < p->n_rules; i++)
		if (streq(p->rules[i].path, path))
			p->rules[i].exec_as |= as;
	return r;
}

/* PATH may be run, and its dynamic loader may load it (but not be run itself). */
static int rules_exec(Plan *p, const char *path)
{
	char loader[PATH_MAX];

	int r = rules_add_exec(p, path, FS_RULE_EXEC_PROGRAM);
	if (r >= 0 && elf_interpreter(path, loader, sizeof(loader)) >= 0 && loader[0])
		r = rules_add_exec(p, loader, FS_RULE_EXEC_INTERP);
	return r;
}

static uint64_t step_access(const MountStep *s)
{
	switch (s->kind) {
	case STEP_BIND:
		if (strncmp(s->dest, "/dev/", 5) == 0)
			return FS_DEVICE;
		return (s->flags & MS_RDONLY) ? FS_READ : FS_READ | FS_WRITE;
	case STEP_TMPFS:
		if (streq(s->dest, "/run/secrets"))
			return FS_READ;
		return streq(s->dest, "/dev") ? FS_DEVICE : FS_READ | FS_WRITE;
	case STEP_PROC:
		return FS_READ | LL_FS_WRITE_FILE;
	case STEP_DEVPTS:
		return FS_DEVICE;
	case STEP_FILE: /* the generated /etc files (plan.c: plan_etc) */
		return FS_READ;
	default:
		return 0;
	}
}

/* Notes WHY on PATH's rule for --dry-run; the first reason stays. */
static int rule_why(Plan *p, const char *path, const char *why)
{
	for (size_t i = 0; i < p->n_rules; i++)
		if (streq(p->rules[i].path, path) && !p->rules[i].why)
			return (p->rules[i].why = strdup(why)) ? 0 : -ENOMEM;
	return 0;
}

static int rules_exec_why(Plan *p, const char *path, const char *why)
{
	int r = rules_exec(p, path);
	return r < 0 ? r : rule_why(p, path, why);
}

typedef struct ToolchainRules {
	Plan *plan;
	const char *grant;
} ToolchainRules;

static int add_helper(void *userdata, const char *helper, const char *toolchain)
{
	ToolchainRules *t = userdata;
	char why[PATH_MAX + 64];

	(void)snprintf(why, sizeof(why), "toolchain %s of %s", toolchain, t->grant);
	return rules_exec_why(t->plan, helper, why);
}

/* The host directory shown at /workspace (--workdir), or NULL. */
static const char *plan_workdir(const Plan *p)
{
	for (size_t i = 0; i < p->n_steps; i++)
		if (p->steps[i].kind == STEP_BIND && streq(p->steps[i].dest, "/workspace"))
			return p->steps[i].src;
	return NULL;
}

/* Can the program make new names beneath PREFIX, or a directory above it? */
static bool prefix_writable(const Plan *p, const char *prefix)
{
	for (size_t i = 0; i < p->n_rules; i++)
		if ((p->rules[i].access & FS_WRITE) &&
		    (streq(prefix, "/") || path_under(p->rules[i].path, prefix) ||
		     path_under(prefix, p->rules[i].path)))
			return true;
	return false;
}

typedef struct MatchRules {
	Plan *plan;
	const char *why;
} MatchRules;

static int add_match(void *userdata, const char *path)
{
	MatchRules *m = userdata;
	return rules_exec_why(m->plan, path, m->why);
}

/* A pattern, or a path in a place the program writes (what it builds there comes later).
 * Where the program can add no name beneath the prefix, the files matching now are all there
 * will be: each gets its own rule, and Landlock alone is the exact fence. Elsewhere EXECUTE
 * beneath the prefix, the pattern itself checked at each exec (exec-rules.c). */
static int pattern_rules(Plan *p, const char *pattern, const char *why)
{
	const char *prefix;

	int r = exec_patterns_add(p, pattern, &prefix);
	if (r < 0)
		return r;
	if (!p->exec_patterns[p->n_exec_patterns - 1].exact && !prefix_writable(p, prefix)) {
		MatchRules m = {.plan = p, .why = why};
		r = exec_pattern_expand(p->exec_patterns[p->n_exec_patterns - 1].glob, add_match,
		                        &m);
		if (r != -E2BIG) {
			exec_patterns_pop(p);
			return r;
		}
	}
	r = rules_add_exec(p, prefix, FS_RULE_EXEC_PROGRAM);
	return r < 0 ? r : rule_why(p, prefix, why);
}

/* -EOPNOTSUPP: a name pattern; -ENOENT: a name not on PATH. */
static int command_rules_add(Plan *p, const ob_capability *c, const char *host_path)
{
	_cleanup_free_ char *resolved = NULL;
	char why[PATH_MAX + 32], inside[PATH_MAX];
	int r = 0;

	(void)snprintf(why, sizeof(why), "EXTERNAL_COMMAND:%s", c->resource);
	if (c->kind == RES_NAME && !c->glob.literal)
		return -EOPNOTSUPP;
	if (c->kind == RES_NAME) {
		if (plan_find_on_path(c->glob.lit, host_path, &resolved) < 0)
			return -ENOENT;
		r = rules_exec_why(p, resolved, why);
	} else {
		int t = exec_pattern_inside(c->resource, plan_workdir(p), inside, sizeof(inside));
		if (t < 0)
			return t;
		/* the host path as well: a FILE_* grant may show it there too */
		if (t > 0)
			r = c->glob.literal ? rules_exec_why(p, c->glob.lit, why)
			                    : pattern_rules(p, c->resource, why);
		if (r >= 0 && (!c->glob.literal || path_under(inside, "/workspace") ||
		               path_under(inside, "/tmp")))
			return pattern_rules(p, inside, why);
		if (r >= 0)
			r = rules_exec_why(p, inside, why);
	}
	ToolchainRules t = {.plan = p, .grant = why};
	return r < 0 ? r : toolchain_helpers(resolved ? resolved : inside, add_helper, &t);
}

/* EXECUTE for the grant C: its file, its pattern's prefix, its toolchain's helpers. */
static int command_rules(Plan *p, const ob_capability *c, const char *host_path, ob_error *reterr)
{
	int r = command_rules_add(p, c, host_path);
	if (r == -EOPNOTSUPP)
		return ob_error_set(reterr, r,
		                    "EXTERNAL_COMMAND:%s: a name pattern is not looked up on PATH; "
		                    "give an absolute path pattern (/usr/bin/%s)",
		                    c->resource, c->resource);
	if (r == -ENOENT)
		return ob_error_set(reterr, -EINVAL, /* a bad grant: 125, not 127 */
		                    "EXTERNAL_COMMAND:%s: not found on PATH", c->resource);
	if (r < 0)
		return ob_error_set(reterr, r, "EXTERNAL_COMMAND:%s: Landlock rules: %s",
		                    c->resource, strerror(-r));
	return r;
}

int fs_rules_build(Plan *p, const ob_capset *caps, const ob_context *ctx, const char *host_path,
                   ob_error *reterr)
{
	int r = rules_add(p, "/", LL_FS_READ_DIR);

	for (size_t i = 0; r >= 0 && i < p->n_steps; i++) {
		uint64_t a = step_access(&p->steps[i]);
		if (a)
			r = rules_add(p, p->steps[i].dest, a);
	}
	if (r >= 0)
		r = rules_exec(p, p->exec_path);
	for (size_t i = 0; r >= 0 && caps && i < ob_capset_size(caps); i++) {
		const ob_capability *c = ob_capset_get(caps, i);
		if (c->type != OB_CAP_EXTERNAL_COMMAND || !ob_capability_is_active(c, ctx))
			continue;
		r = command_rules(p, c, host_path, reterr);
		if (r < 0)
			return r; /* said */
	}
	return r < 0 ? ob_error_set(reterr, r, "Landlock rules: %s", strerror(-r)) : 0;
}

bool fs_rules_limit_tcp(const Plan *p)
{
	return p->landlock_abi >= 4 && p->tcp_connect_handled;
}

/* GCOVR_EXCL_START: runs after clone, inside the sandbox, where the build tree (and so the
 * coverage counters) is out of reach, like spawn.c; tests/integration exercises it. */
int fs_rules_apply(const Plan *p, const char **failed, int *ret_ruleset)
{
	int abi = p->landlock_abi;
	struct ll_ruleset_attr attr = {.handled_access_fs = handled_fs(abi)};
	size_t attr_size = abi >= 6 ? sizeof(attr) : abi >= 4 ? 16 : 8;

	/* Signals and abstract unix sockets only within the sandbox's own domain. */
	if (abi >= 6)
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
	/* TCP connect only to the listed ports (the plan lists them only for ABI >= 4). */
	if (fs_rules_limit_tcp(p))
		attr.handled_access_net = LL_NET_CONNECT_TCP;
	int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
	if (ruleset < 0) {
		*failed = "landlock_create_ruleset";
		return -errno;
	}
	for (size_t i = 0; i < p->n_tcp_connect_ports; i++) {
		struct ll_net_port_attr np = {.allowed_access = LL_NET_CONNECT_TCP,
		                              .port = p->tcp_connect_ports[i]};
		if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_NET_PORT, &np, 0) < 0) {
			*failed = "landlock_add_rule (TCP port)";
			(void)close(ruleset);
			return -errno;
		}
	}
	for (size_t i = 0; i < p->n_rules; i++) {
		int fd = open(p->rules[i].path, O_PATH | O_CLOEXEC);
		if (fd < 0)
			continue; /* not there: nothing to allow */
		struct ll_path_beneath_attr pb = {
		    .allowed_access = p->rules[i].access & attr.handled_access_fs, .parent_fd = fd};
		/* Directory-only rights on a file are refused (EINVAL): keep the file ones. */
		int r = (int)syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0);
		if (r < 0 && errno == EINVAL) {
			pb.allowed_access &= LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE |
			                     LL_FS_TRUNCATE | LL_FS_IOCTL_DEV;
			r = pb.allowed_access ? (int)syscall(SYS_landlock_add_rule, ruleset,
			                                     LL_RULE_PATH_BENEATH, &pb, 0)
			                      : 0;
		}
		(void)close(fd);
		if (r < 0) {
			*failed = p->rules[i].path;
			(void)close(ruleset);
			return -errno;
		}
	}
	int r = (int)syscall(SYS_landlock_restrict_self, ruleset, 0);
	if (r < 0) {
		*failed = "landlock_restrict_self";
		r = -errno;
		(void)close(ruleset);
		return r;
	}
	if (ret_ruleset)
		*ret_ruleset = ruleset;
	else
		(void)close(ruleset);
	return 0;
}
/* GCOVR_EXCL_STOP */
