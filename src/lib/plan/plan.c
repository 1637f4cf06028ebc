/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Plan resolution (SPEC §3): the file-system layout of each mode, grants expanded into bind
 * mounts, secrets, the environment (the program and its interpreter: program.c).  Runs in the
 * supervisor, reads the host file system, never mounts anything.
 */
#include "plan/plan.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/dirent-util.h"
#include "basic/error.h"
#include "basic/macro.h"
#include "egress/proxy.h"
#include "model/capability.h"
#include "plan/dbfiles.h"
#include "plan/exec-rules.h"
#include "plan/grantfiles.h"
#include "plan/identity.h"
#include "plan/overlay.h"
#include "plan/program.h"
#include "plan/steps.h"

#define SANDBOX_UID 1000

/* What programs need from /etc to start: the dynamic loader's cache and configuration, time
 * zone, the alternatives links Debian's commands go through.  Deliberately not passwd,
 * group, shadow, ssh, nor the host's hosts and resolv.conf (generated: plan_etc). */
static const char *const etc_files[] = {
    "/etc/ld.so.cache",  "/etc/ld.so.conf",   "/etc/ld.so.conf.d", "/etc/localtime",
    "/etc/alternatives", "/etc/locale.alias", "/etc/timezone"};

static int plan_runtime(Plan *p)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < plan_n_runtime_dirs; i++)
		r = plan_bind_same(p, plan_runtime_dirs[i], true, "runtime");
	if (r >= 0)
		r = plan_add(p, STEP_DIR, NULL, "/etc", NULL, 0, "runtime");
	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(etc_files); i++)
		r = plan_bind_same(p, etc_files[i], true, "runtime");
	return r;
}

/* Does a step already put something at DEST, or bind a host directory over it (a grant of
 * /etc/ssl, of /etc)? Then the host's own is what was asked for. */
static bool plan_has_dest(const Plan *p, const char *dest)
{
	for (size_t i = 0; i < p->n_steps; i++) {
		const MountStep *s = &p->steps[i];
		if (streq(s->dest, dest) ||
		    (s->kind == STEP_BIND && !streq(s->dest, "/") && path_under(dest, s->dest)))
			return true;
	}
	return false;
}

/* A minimal /etc for name lookups, generated rather than the host's (which names the host's
 * own services and users). Without the transparent path: localhost is the sandbox's own
 * loopback, no server is named and other lookups fail at once. With it, every name, localhost
 * too, goes to the DNS stub, which answers granted names and remembers which address came
 * from which name for the connects (docs/design/egress.md); an ungranted "localhost" is
 * answered NXDOMAIN unrecorded there, a routine lookup. */
static int plan_etc(Plan *p, bool stub)
{
	const char *const files[][2] = {
	    {"/etc/resolv.conf", stub ? "# omnibase: the supervisor's DNS stub answers granted "
	                                "names\nnameserver 127.0.0.1\n"
	                              : "# omnibase: no DNS in this sandbox (no network granted)\n"
	                                "options attempts:1 timeout:1\n"},
	    {"/etc/nsswitch.conf", "hosts: files dns\n"},
	    {"/etc/host.conf", "multi on\n"},
	    {"/etc/hosts", stub
	                       ? "# omnibase: empty; names (localhost too) come from the DNS stub\n"
	                       : "# omnibase: the sandbox's own loopback\n127.0.0.1 localhost\n"
	                         "::1 localhost\n"},
	};
	int r = 0;
	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(files); i++) {
		if (plan_has_dest(p, files[i][0]))
			continue; /* granted: the host's own file, as asked */
		r = plan_add(p, STEP_FILE, NULL, files[i][0], files[i][1], 0, "runtime");
		if (r >= 0)
			p->steps[p->n_steps - 1].data_len = strlen(files[i][1]);
	}
	return r;
}

/* TLS clients' trust store when network is granted: the CA certificates and OpenSSL's
 * configuration, read-only. /etc/ssl/certs links into /usr/share/ca-certificates (there
 * already); /usr/lib/ssl (under /usr) links back here. Not the whole /etc/ssl: its private/
 * holds the host's keys. */
static int plan_tls(Plan *p)
{
	static const char *const files[] = {"/etc/ssl/certs", "/etc/ssl/openssl.cnf",
	                                    "/etc/ca-certificates.conf"};
	int r = plan_has_dest(p, "/etc/ssl")
	            ? 0
	            : plan_add(p, STEP_DIR, NULL, "/etc/ssl", NULL, 0, "NETWORK_CONNECT");
	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(files); i++)
		if (!plan_has_dest(p, files[i]))
			r = plan_bind_same(p, files[i], true, "NETWORK_CONNECT");
	return r;
}

static int plan_dev(Plan *p, const ob_limits *l)
{
	static const char *const nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
	static const char *const links[][2] = {
	    {"/proc/self/fd", "/dev/fd"},       {"/proc/self/fd/0", "/dev/stdin"},
	    {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
	    {"pts/ptmx", "/dev/ptmx"},
	};
	char path[64], data[64];
	int r;

	r = plan_add(p, STEP_TMPFS, NULL, "/dev", "mode=0755,size=64k", MS_NOSUID | MS_NOEXEC,
	             "runtime");
	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(nodes); i++) {
		(void)snprintf(path, sizeof(path), "/dev/%s", nodes[i]);
		/* read-only: the nodes are the host's inodes, and a read-only mount refuses their
		 * chmod, chown and utime to anyone (SPEC §3), while reads and writes of the device
		 * itself go on */
		r = plan_add(p, STEP_BIND, path, path, NULL, MS_NOSUID | MS_NOEXEC | MS_RDONLY,
		             "runtime");
	}
	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(links); i++)
		r = plan_add(p, STEP_SYMLINK, links[i][0], links[i][1], NULL, 0, "runtime");
	if (r >= 0)
		r = plan_add(p, STEP_DEVPTS, NULL, "/dev/pts",
		             "newinstance,ptmxmode=0666,mode=0620", MS_NOSUID | MS_NOEXEC,
		             "runtime");
	(void)snprintf(data, sizeof(data), "mode=1777,size=%llu",
	               (unsigned long long)l->value[OB_LIMIT_TMPFS]);
	if (r >= 0)
		r = plan_add(p, STEP_TMPFS, NULL, "/dev/shm", data, MS_NOSUID | MS_NODEV,
		             "runtime");
	return r;
}

static int plan_proc_tmp(Plan *p, const ob_limits *l)
{
	char data[64];
	int r;

	r = plan_add(p, STEP_PROC, NULL, "/proc", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC,
	             "runtime");
	/* The kernel's knobs stay read-only even where the namespaces would allow a write. */
	if (r >= 0)
		r = plan_add(p, STEP_BIND, "/proc/sys", "/proc/sys", NULL,
		             MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "runtime");
	if (r >= 0) {
		p->steps[p->n_steps - 1].src_is_dir = true;
		p->steps[p->n_steps - 1].src_inside = true;
	}
	(void)snprintf(data, sizeof(data), "mode=1777,size=%llu",
	               (unsigned long long)l->value[OB_LIMIT_TMPFS]);
	if (r >= 0)
		r = plan_add(p, STEP_TMPFS, NULL, "/tmp", data, MS_NOSUID | MS_NODEV | MS_NOEXEC,
		             "runtime");
	return r;
}

/* ---------------------------------------------------------------- grants */

/* True when PATH names itself: no component is a symlink (so a bind cannot be steered). */
static bool path_has_no_symlinks(const char *path)
{
	char real[PATH_MAX];

	return realpath(path, real) && streq(real, path);
}

typedef struct Walk {
	Plan *plan;
	const ob_capability *cap;
	bool ro;
	const char *why;
	const char *store; /* host directory of a store grant (relative glob), or NULL */
	const char *mount; /* where the store appears in the sandbox ("/registry") */
	unsigned budget;   /* directory entries we may still look at */
	bool sqlite_rw;    /* DATABASE_WRITE sqlite: matched files are writable databases */
	bool sockets;      /* NETWORK_CONNECT unix: only matched sockets, never a directory */
	ob_error *err;
} Walk;

/* Binds the matched host PATH: at the same path, or for a store at MOUNT/<relative>. */
static int grant_bind(Walk *w, const char *path)
{
	char dest[PATH_MAX];

	if (!path_has_no_symlinks(path))
		return ob_error_set(w->err, -ELOOP,
		                    "grant %s: '%s' goes through a symlink; grant the path it "
		                    "resolves to instead",
		                    w->why, path);
	if (w->sqlite_rw) {
		struct stat st;
		int r = lstat(path, &st) < 0 ? -errno : 0;
		if (r >= 0 && S_ISREG(st.st_mode))
			r = dbfiles_plan(w->plan, path);
		if (r < 0)
			return r;
	}
	if (!w->store)
		return plan_bind_same(w->plan, path, w->ro, w->why);
	(void)snprintf(dest, sizeof(dest), "%s%s", w->mount, path + strlen(w->store));
	struct stat st;
	int r = stat(path, &st) < 0 ? -errno : 0;
	if (r >= 0)
		r = plan_add(w->plan, STEP_BIND, path, dest, NULL,
		             MS_NOSUID | MS_NODEV | (w->ro ? MS_RDONLY : 0), w->why);
	if (r >= 0) {
		w->plan->steps[w->plan->n_steps - 1].src_is_dir = S_ISDIR(st.st_mode);
		w->plan->steps[w->plan->n_steps - 1].recursive = true;
	}
	return r;
}

/* Walks DIR (a real directory) binding every entry the grant's glob matches. */
static int grant_walk(Walk *w, const char *dir, unsigned depth)
{
	_cleanup_(closedirp) DIR *d = opendir(dir);
	size_t skip = w->store ? strlen(w->store) + 1 : 0; /* store globs are relative */
	struct dirent *de;

	if (!d || depth > 64)
		return 0;
	while ((de = readdir(d))) {
		char path[PATH_MAX];
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		if (w->budget-- == 0)
			/* a socket grant only shows what the supervisor would reach anyway */
			return w->sockets ? 0
			                  : ob_error_set(w->err, -E2BIG,
			                                 "grant %s matches too many files", w->why);
		int n =
		    snprintf(path, sizeof(path), "%s/%s", streq(dir, "/") ? "" : dir, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		const Glob *g = &w->cap->glob;
		int r = 0;
		/* a matched directory brings its tree, except to a socket grant */
		if (glob_match(g, path + skip, (size_t)n - skip) &&
		    (!w->sockets || de->d_type == DT_SOCK))
			r = grant_bind(w, path);
		else if (de->d_type == DT_DIR)
			r = grant_walk(w, path, depth + 1);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Expands one path grant: a literal names itself, literal segments then a globstar name a
 * tree (one bind), anything else is matched against a walk from the literal prefix. */
static int plan_pattern_grant(Walk *w)
{
	const Glob *g = &w->cap->glob;
	char root[PATH_MAX];
	int n = snprintf(root, sizeof(root), "%s%s%.*s", w->store ? w->store : "",
	                 w->store && g->lit_len ? "/" : "", (int)g->lit_len, g->lit);

	if (n < 0 || (size_t)n >= sizeof(root))
		return ob_error_set(w->err, -ENAMETOOLONG, "grant %s: path too long", w->why);
	if (root[0] == '\0')
		strcpy(root, "/");
	struct stat st;
	if (w->sockets && g->literal)
		return stat(root, &st) == 0 && S_ISSOCK(st.st_mode) ? grant_bind(w, root) : 0;
	if (g->literal && access(root, F_OK) < 0 && errno == ENOENT &&
	    w->cap->type == OB_CAP_FILE_WRITE && !w->store)
		return grantfiles_plan_new(w->plan, root, w->why, w->err); /* made at launch */
	if (g->literal)
		return access(root, F_OK) == 0 ? grant_bind(w, root) : 0;
	bool tree = g->segs[g->n_segs - 1].globstar && !w->sockets;
	for (size_t i = 0; i + 1 < g->n_segs; i++)
		tree = tree && g->segs[i].literal;
	if (tree)
		return access(root, F_OK) == 0 ? grant_bind(w, root) : 0;
	if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	return grant_walk(w, root, 0);
}

/* A literal writable database: bound even when it does not exist yet (it is created at
 * launch, SQLite's own behaviour), provided its directory does. */
static int plan_sqlite_new(Walk *w)
{
	const char *path = w->cap->glob.lit;
	_cleanup_free_ char *dir = strndup(path, (size_t)(strrchr(path, '/') - path));
	struct stat st;

	if (!dir)
		return -ENOMEM;
	if (lstat(path, &st) == 0 || errno != ENOENT)
		return grant_bind(w, path);
	if (stat(dir[0] ? dir : "/", &st) < 0 || !S_ISDIR(st.st_mode))
		return ob_error_set(w->err, -EINVAL, /* a bad grant: 125, not 127 */
		                    "grant %s: the directory of the database does not exist",
		                    w->why);
	if (!path_has_no_symlinks(dir[0] ? dir : "/"))
		return ob_error_set(w->err, -ELOOP,
		                    "grant %s: '%s' goes through a symlink; grant the path it "
		                    "resolves to instead",
		                    w->why, dir);
	int r = dbfiles_plan(w->plan, path);
	if (r >= 0)
		r = plan_add(w->plan, STEP_BIND, path, path, NULL, MS_NOSUID | MS_NODEV, w->why);
	if (r >= 0)
		w->plan->steps[w->plan->n_steps - 1].recursive = true;
	return r;
}

/* The store of a REGISTRY_ or ARTIFACT_ grant, and where it is mounted. */
static int grant_store(const PlanInput *in, const ob_capability *c, const char **store,
                       const char **mount, ob_error *reterr)
{
	bool registry = c->type == OB_CAP_REGISTRY_READ || c->type == OB_CAP_REGISTRY_WRITE;

	*store = registry ? in->registry_dir : in->artifacts_dir;
	*mount = registry ? "/registry" : "/artifacts";
	if (!*store)
		return ob_error_set(reterr, -EINVAL,
		                    "%s:%s is granted but no %s DIR says where the store is",
		                    ob_cap_type_to_string(c->type), c->resource,
		                    registry ? "--registry" : "--artifacts");
	return 0;
}

static int plan_grant_steps(Plan *p, const PlanInput *in, const ob_capability *c, ob_error *reterr)
{
	Walk w = {.plan = p, .cap = c, .why = c->resource, .budget = 100000, .err = reterr};

	switch (c->type) {
	case OB_CAP_FILE_READ:
	case OB_CAP_FILE_WRITE:
		w.ro = c->type == OB_CAP_FILE_READ;
		return plan_pattern_grant(&w);
	case OB_CAP_NETWORK_CONNECT:
		/* A host socket granted: shown read-only at its path (mode sandbox; mode rx shows
		 * it already). The supervisor makes the connect (runner/notify-unix.c), so the
		 * bind serves clients that look before they connect, not the connect itself. */
		if (c->kind != RES_UNIX || in->mode != OB_MODE_SANDBOX)
			return 0;
		w.ro = w.sockets = true;
		w.budget = 10000;
		return plan_pattern_grant(&w);
	case OB_CAP_DATABASE_READ:
		if (c->kind != RES_SQLITE)
			return 0; /* a network database: the egress issue's business */
		w.ro = true;
		return plan_pattern_grant(&w);
	case OB_CAP_DATABASE_WRITE:
		if (c->kind != RES_SQLITE)
			return 0;
		w.sqlite_rw = true;
		return c->glob.literal ? plan_sqlite_new(&w) : plan_pattern_grant(&w);
	case OB_CAP_REGISTRY_READ:
	case OB_CAP_REGISTRY_WRITE:
	case OB_CAP_ARTIFACT_READ:
	case OB_CAP_ARTIFACT_WRITE: {
		int r = grant_store(in, c, &w.store, &w.mount, reterr);
		if (r < 0)
			return r;
		w.ro = c->type == OB_CAP_REGISTRY_READ || c->type == OB_CAP_ARTIFACT_READ;
		return plan_pattern_grant(&w);
	}
	default:
		return 0;
	}
}

/* Grants of host paths, which a warning names when they match nothing there (SPEC §2.2). */
static bool grant_is_host_path(const ob_capability *c)
{
	return c->type == OB_CAP_FILE_READ || c->type == OB_CAP_FILE_WRITE ||
	       ((c->type == OB_CAP_DATABASE_READ || c->type == OB_CAP_DATABASE_WRITE) &&
	        c->kind == RES_SQLITE);
}

/* One grant's binds, the caller's files in them the sandbox's own (SPEC §2.4). */
static int plan_grant(Plan *p, const PlanInput *in, const ob_capability *c, ob_error *reterr)
{
	size_t from = p->n_steps, warned = p->n_warnings;
	int r = plan_grant_steps(p, in, c, reterr);
	if (r >= 0)
		plan_mark_idmap(p, from);
	if (r >= 0 && p->n_steps == from && p->n_warnings == warned && grant_is_host_path(c))
		r = plan_warn(p, "grant %s:%s matches nothing on the host",
		              ob_cap_type_to_string(c->type), c->resource);
	for (size_t i = from; r >= 0 && c->type == OB_CAP_FILE_WRITE && i < p->n_steps; i++)
		plan_overlay_add(p, i);
	return r;
}

static int plan_grants(Plan *p, const PlanInput *in, ob_error *reterr)
{
	for (size_t i = 0; in->caps && i < ob_capset_size(in->caps); i++) {
		const ob_capability *c = ob_capset_get(in->caps, i);
		if (!ob_capability_is_active(c, in->ctx))
			continue;
		int r = plan_grant(p, in, c, reterr);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---------------------------------------------------------------- secrets */

#define SECRET_MAX_BYTES (64L * 1024)

/* Reads the value of a "NAME=@FILE" or "NAME=env:VAR" source into *ret (malloc'ed). */
static int secret_value(const char *spec, const char *eq, char **ret, size_t *ret_len,
                        ob_error *reterr)
{
	const char *src = eq + 1;

	if (strncmp(src, "env:", 4) == 0) {
		const char *v = getenv(src + 4);
		if (!v)
			return ob_error_set(reterr, -EINVAL, "--secret %.*s: $%s is not set",
			                    (int)(eq - spec), spec, src + 4);
		*ret_len = strlen(v);
		*ret = strdup(v);
		return *ret ? 0 : -ENOMEM;
	}
	if (src[0] != '@')
		return ob_error_set(reterr, -EINVAL,
		                    "--secret %.*s: expected NAME=@FILE or NAME=env:VAR",
		                    (int)(eq - spec), spec);
	_cleanup_close_ int fd = open(src + 1, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		/* -EINVAL, not -errno: a missing secret is a setup failure (125), not a missing
		 * program (127). */
		return ob_error_set(reterr, -EINVAL, "--secret %.*s: %s: %s", (int)(eq - spec),
		                    spec, src + 1, strerror(errno));
	_cleanup_free_ char *buf = malloc(SECRET_MAX_BYTES + 1);
	ssize_t n = buf ? read(fd, buf, SECRET_MAX_BYTES + 1) : -1;
	if (n < 0 || n > SECRET_MAX_BYTES)
		return ob_error_set(reterr, -EINVAL, "--secret %.*s: %s: unreadable or over 64 KiB",
		                    (int)(eq - spec), spec, src + 1);
	*ret_len = (size_t)n;
	*ret = TAKE_PTR(buf);
	return 0;
}

/* A secret becomes /run/secrets/NAME only when an active SECRET_ACCESS grant names it. */
static int plan_secret(Plan *p, const PlanInput *in, const char *spec, ob_error *reterr)
{
	const char *eq = strchr(spec, '=');
	char name[256], dest[300];
	ob_cap_error denial;

	if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof(name))
		return ob_error_set(reterr, -EINVAL, "--secret '%.64s': expected NAME=SOURCE",
		                    spec);
	memcpy(name, spec, (size_t)(eq - spec));
	name[eq - spec] = '\0';
	if (!in->caps || ob_check_secret(in->caps, in->ctx, name, &denial) < 0)
		return 0;
	char *value = NULL;
	size_t len = 0;
	int r = secret_value(spec, eq, &value, &len, reterr);
	if (r < 0 || !value)
		return r < 0 ? r : -ENOMEM;
	(void)snprintf(dest, sizeof(dest), "/run/secrets/%s", name);
	r = plan_add(p, STEP_SECRET, NULL, dest, NULL, 0, "SECRET_ACCESS");
	if (r < 0) {
		explicit_bzero(value, len);
		free(value);
		return r;
	}
	p->steps[p->n_steps - 1].data = value;
	p->steps[p->n_steps - 1].data_len = len;
	return 0;
}

/* Every literal SECRET_ACCESS grant needs a source: a run must not start without a secret
 * it was promised. */
static int check_secret_sources(const PlanInput *in, ob_error *reterr)
{
	for (size_t i = 0; in->caps && i < ob_capset_size(in->caps); i++) {
		const ob_capability *c = ob_capset_get(in->caps, i);
		bool found = false;
		if (c->type != OB_CAP_SECRET_ACCESS || !c->glob.literal ||
		    !ob_capability_is_active(c, in->ctx))
			continue;
		for (size_t k = 0; in->secrets && in->secrets[k] && !found; k++)
			found = strncmp(in->secrets[k], c->glob.lit, c->glob.lit_len) == 0 &&
			        in->secrets[k][c->glob.lit_len] == '=';
		if (!found)
			return ob_error_set(
			    reterr, -EINVAL,
			    "SECRET_ACCESS:%s is granted but no --secret %s=@FILE|env:VAR "
			    "gives its value",
			    c->resource, c->resource);
	}
	return 0;
}

static int plan_secrets(Plan *p, const PlanInput *in, ob_error *reterr)
{
	int r = check_secret_sources(in, reterr);
	size_t before = p->n_steps;

	for (size_t i = 0; r >= 0 && in->secrets && in->secrets[i]; i++)
		r = plan_secret(p, in, in->secrets[i], reterr);
	if (r < 0 || p->n_steps == before)
		return r;
	p->has_secrets = true;
	return plan_add(p, STEP_TMPFS, NULL, "/run/secrets", "mode=0500,size=1m",
	                MS_NOSUID | MS_NODEV | MS_NOEXEC, "SECRET_ACCESS");
}

/* ---------------------------------------------------------------- program */

static int plan_env(Plan *p, const PlanInput *in)
{
	const char *lang = getenv("LANG"), *term = getenv("TERM");
	size_t n = 0;

	while (in->extra_env && in->extra_env[n])
		n++;
	p->envp = calloc(n + 6 + 6, sizeof(char *));
	if (!p->envp)
		return -ENOMEM;
	size_t k = 0;
	int r = 0;
	/* With network grants, proxy-aware clients find the egress proxy (SPEC §3): one port
	 * for HTTP forward, CONNECT and SOCKS5 with names resolved by the proxy (socks5h). */
	static const char *const proxy_vars[] = {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
	                                         "http_proxy", "https_proxy", "all_proxy"};
	for (size_t i = 0; p->proxy && i < ELEMENTSOF(proxy_vars); i++)
		r |= asprintf(&p->envp[k++], "%s=%s://127.0.0.1:%d", proxy_vars[i],
		              strcasecmp(proxy_vars[i], "ALL_PROXY") == 0 ? "socks5h" : "http",
		              PROXY_PORT) < 0;
	r |= asprintf(&p->envp[k++], "PATH=%s", SANDBOX_PATH) < 0;
	r |= asprintf(&p->envp[k++], "HOME=%s", in->workdir ? "/workspace" : "/tmp") < 0;
	r |= asprintf(&p->envp[k++], "LANG=%s", lang ? lang : "C.UTF-8") < 0;
	r |= asprintf(&p->envp[k++], "TERM=%s", term ? term : "dumb") < 0;
	r |= asprintf(&p->envp[k++], "TMPDIR=/tmp") < 0;
	for (size_t i = 0; i < n; i++)
		r |= !(p->envp[k++] = strdup(in->extra_env[i]));
	return r ? -ENOMEM : 0;
}

/* Parents first, so a grant below a runtime directory lands on top of it. */
static int step_cmp(const void *a, const void *b)
{
	const MountStep *x = a, *y = b;
	return strcmp(x->dest, y->dest);
}

int plan_build(Plan *p, const PlanInput *in, ob_error *reterr)
{
	int r;

	*p = (Plan){.mode = in->mode, .uid = SANDBOX_UID, .gid = SANDBOX_UID};
	p->outer_uid = getuid();
	p->outer_gid = getgid();
	p->id_base = geteuid() == 0 ? identity_base() : 0;
	p->limits = *in->limits;
	if (!in->argv || !in->argv[0])
		return ob_error_set(reterr, -EINVAL, "no program given");
	p->cwd = strdup(in->workdir ? "/workspace" : "/tmp");
	if (!p->cwd)
		return -ENOMEM;
	if (in->mode == OB_MODE_SANDBOX)
		r = plan_runtime(p);
	else
		r = plan_host_root(p, in->mode == OB_MODE_RX);
	if (r >= 0)
		r = plan_proc_tmp(p, in->limits);
	if (r >= 0)
		r = plan_dev(p, in->limits);
	if (r >= 0 && in->workdir) {
		r = plan_add(p, STEP_BIND, in->workdir, "/workspace", NULL, MS_NOSUID | MS_NODEV,
		             "--workdir");
		if (r >= 0) {
			p->steps[p->n_steps - 1].src_is_dir = true;
			plan_mark_idmap(p, p->n_steps - 1);
			plan_overlay_add(p, p->n_steps - 1);
		}
	}
	if (r < 0)
		return ob_error_set(reterr, r, "planning the file system: %s", strerror(-r));
	r = plan_program(p, in, reterr);
	if (r < 0)
		return r;
	/* In mode rx the host is there read-only: the grants still bring the writable places
	 * (and the stores); in mode rwx everything is already there. */
	if (in->mode != OB_MODE_RWX)
		r = plan_grants(p, in, reterr);
	if (r >= 0)
		r = plan_secrets(p, in, reterr);
	if (r < 0)
		return r;
	bool network = false;
	for (size_t i = 0; in->caps && i < ob_capset_size(in->caps); i++) {
		const ob_capability *c = ob_capset_get(in->caps, i);
		network |=
		    ob_capability_is_active(c, in->ctx) &&
		    ((c->type == OB_CAP_NETWORK_CONNECT && c->kind == RES_HOST) ||
		     ((c->type == OB_CAP_DATABASE_READ || c->type == OB_CAP_DATABASE_WRITE) &&
		      c->kind == RES_URL));
	}
	p->proxy = network && in->egress != OB_EGRESS_TRANSPARENT;
	p->transparent = network && in->egress != OB_EGRESS_PROXY;
	/* In modes rx and rwx /etc is the host's, read-only: its resolv.conf stays (documented) */
	if (r >= 0 && in->mode == OB_MODE_SANDBOX)
		r = plan_etc(p, p->transparent);
	if (r >= 0 && network && in->mode == OB_MODE_SANDBOX)
		r = plan_tls(p);
	if (r < 0)
		return r;
	qsort(p->steps, p->n_steps, sizeof(MountStep), step_cmp);
	/* Mode rwx is "no file-system restriction" (SPEC §3): no Landlock either. */
	p->landlock_abi = in->mode == OB_MODE_RWX ? 0 : in->landlock_abi; /* rules: fs-rules.c */
	p->tcp_connect_handled = network && p->landlock_abi >= 4;
	if (p->tcp_connect_handled && !p->transparent)
		p->tcp_connect_ports[p->n_tcp_connect_ports++] = PROXY_PORT;
	r = plan_env(p, in);
	return r < 0 ? ob_error_set(reterr, r, "out of memory") : 0;
}

void plan_done(Plan *p)
{
	for (size_t i = 0; i < p->n_steps; i++) {
		if (p->steps[i].tree_fd >= 0)
			(void)close(p->steps[i].tree_fd);
		free(p->steps[i].src);
		free(p->steps[i].dest);
		if (p->steps[i].data && p->steps[i].kind == STEP_SECRET)
			explicit_bzero(p->steps[i].data, p->steps[i].data_len);
		free(p->steps[i].data);
	}
	free(p->steps);
	for (size_t i = 0; i < p->n_rules; i++) {
		free(p->rules[i].path);
		free(p->rules[i].why);
	}
	free(p->rules);
	exec_patterns_free(p);
	for (size_t i = 0; p->argv && p->argv[i]; i++)
		free(p->argv[i]);
	free(p->argv);
	for (size_t i = 0; p->envp && p->envp[i]; i++)
		free(p->envp[i]);
	free(p->envp);
	free(p->program);
	free(p->exec_path);
	free(p->interpreter);
	free(p->cwd);
	dbfiles_done(p);
	grantfiles_done(p);
	filter_prog_done(&p->seccomp);
	*p = (Plan){0};
}

static const char *const step_names[] = {
    [STEP_DIR] = "dir",       [STEP_SYMLINK] = "symlink", [STEP_BIND] = "bind",
    [STEP_TMPFS] = "tmpfs",   [STEP_PROC] = "proc",       [STEP_DEVPTS] = "devpts",
    [STEP_SECRET] = "secret", [STEP_FILE] = "file",
};

json_t *plan_to_json(const Plan *p)
{
	json_t *mounts = json_array(), *argv = json_array(), *env = json_array();

	for (size_t i = 0; i < p->n_steps; i++) {
		const MountStep *s = &p->steps[i];
		json_t *m = json_pack("{s:s, s:s}", "type", step_names[s->kind], "dest", s->dest);
		if (s->src)
			(void)json_object_set_new(m, "src", json_string(s->src));
		if (s->kind == STEP_BIND)
			(void)json_object_set_new(m, "read_only",
			                          json_boolean(s->flags & MS_RDONLY));
		if (s->idmap && p->id_base)
			(void)json_object_set_new(m, "id_mapped", json_true());
		if (s->overlay) /* writable under --limit disk's overlay (overlay.h) */
			(void)json_object_set_new(m, "disk_overlay", json_true());
		if (s->data && s->kind != STEP_SECRET) /* a secret's value never leaves */
			(void)json_object_set_new(m, "options", json_string(s->data));
		(void)json_object_set_new(m, "why", json_string(s->why));
		(void)json_array_append_new(mounts, m);
	}
	for (size_t i = 0; p->argv[i]; i++)
		(void)json_array_append_new(argv, json_string(p->argv[i]));
	for (size_t i = 0; p->envp[i]; i++)
		(void)json_array_append_new(env, json_string(p->envp[i]));
	json_t *rules = json_array();
	for (size_t i = 0; i < p->n_rules; i++)
		(void)json_array_append_new(rules, exec_rule_json(&p->rules[i]));
	json_t *dbs = json_array();
	for (size_t i = 0; i < p->n_dbs; i++)
		(void)json_array_append_new(dbs, json_string(p->dbs[i].path));
	/* null: TCP connects not restricted by Landlock (no network grant: nothing beyond the
	 * sandbox's own loopback exists) */
	json_t *ports = p->tcp_connect_handled ? json_array() : json_null();
	for (size_t i = 0; i < p->n_tcp_connect_ports; i++)
		(void)json_array_append_new(ports, json_integer(p->tcp_connect_ports[i]));
	json_t *o = json_pack(
	    "{s:s, s:s, s:o, s:o, s:o, s:s, s:i, s:o, s:{s:i, s:o, s:o}, s:o, s:{s:b, s:b}}",
	    "program", p->program, "exec", p->exec_path, "argv", argv, "env", env, "mounts", mounts,
	    "cwd", p->cwd, "uid", (int)p->uid, "host_ids", identity_json(p), "landlock", "abi",
	    p->landlock_abi, "rules", rules, "tcp_connect_ports", ports, "sqlite_databases", dbs,
	    "egress", "proxy", p->proxy, "transparent", p->transparent);
	if (o)
		grantfiles_to_json(p, o);
	return o;
}
