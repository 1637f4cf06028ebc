/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Learning mode, the builder's and the plan's side (learn.h): the learning run is a mode rx
 * run (the host readable as the program's unprivileged identity reads it, shown one top-level
 * entry at a time) in which the notifier records instead of refusing, and at the end the
 * observations become a capability file (model/learn-summary.c) written next to its
 * destination and renamed into place.
 */
#include "runner/learn.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/dirent-util.h"
#include "basic/error.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "plan/steps.h"

/* Landlock's access bits (ABI 1, fixed by the kernel's UAPI; plan/fs-rules.c spells them out
 * for the same reason: the build headers may be older than the kernel). */
#define LEARN_LL_EXECUTE   (1ULL << 0)
#define LEARN_LL_READ_FILE (1ULL << 2)

/* What the runtime layout shows in every mode without a grant (docs/design/runner.md, "File
 * system"): reads there need nothing in the learned file. Not /etc's hosts, nsswitch.conf,
 * resolv.conf or ssl: the runtime shows them only with a network grant, so they are learned
 * like any file (a grant of them where the runtime shows them too changes nothing). */
static const char *const runtime_paths[] = {
    "/usr",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/bin",
    "/sbin",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/alternatives",
    "/etc/locale.alias",
};

/* Grants of the learning run itself with --learn-network: any name through the proxy and the
 * DNS stub, any address (loopback and private ones too: only a grant naming the network
 * reaches them, SPEC §3). Never written to the output. */
static const char *const learn_network_grants[] = {"0.0.0.0/0", "::/0", "*"};

DEFINE_TRIVIAL_CLEANUP_FUNC(ob_capset *, ob_capset_unref)
Learn *learn_free(Learn *l)
{
	if (!l)
		return NULL;
	(void)learn_set_free(l->set);
	(void)ob_capset_unref(l->given);
	strv_free(l->layout);
	strv_free(l->homes);
	strv_free(l->secrets);
	for (size_t i = 0; i < l->n_scratch; i++) {
		free(l->scratch[i].path);
		(void)close(l->scratch[i].fd);
	}
	free(l->scratch);
	free(l);
	return NULL;
}

int learn_new(bool network, Learn **ret)
{
	Learn *l = calloc(1, sizeof(*l));

	if (!l || learn_set_new(LEARN_MAX_OBSERVATIONS, &l->set) < 0) {
		free(l);
		return -ENOMEM;
	}
	l->network = network;
	*ret = l;
	return 0;
}

static int add_grant(ob_capset *set, ob_cap_type type, const char *resource)
{
	ob_capability *c;
	int r = ob_capability_new(&c, type, resource, strlen(resource), "/", NULL);

	if (r >= 0) {
		r = ob_capset_add(set, c);
		ob_capability_free(c);
	}
	return r;
}

/* The grants of the learning run: CAPS, every secret that has a source (its name
 * noted: reading it is a SECRET_ACCESS to learn) and, with --learn-network, every
 * connection. */
static int learning_caps(Learn *l, const ob_capset *caps, char *const *secrets, ob_capset **ret)
{
	_cleanup_(ob_capset_unrefp) ob_capset *all = NULL;
	size_t n = 0;
	int r = ob_capset_union(caps, caps, &all);

	for (size_t i = 0; r >= 0 && l->network && i < ELEMENTSOF(learn_network_grants); i++)
		r = add_grant(all, OB_CAP_NETWORK_CONNECT, learn_network_grants[i]);
	for (size_t i = 0; r >= 0 && secrets && secrets[i]; i++) {
		_cleanup_free_ char *name = strndup(secrets[i], strcspn(secrets[i], "="));
		r = name ? add_grant(all, OB_CAP_SECRET_ACCESS, name) : -ENOMEM;
		if (r >= 0)
			r = strv_push(&l->secrets, &n, name);
	}
	if (r >= 0)
		*ret = TAKE_PTR(all);
	return r;
}

int learn_prepare(Learn *l, ob_backend backend, ob_sandbox_mode *mode, ob_capset **caps,
                  char *const *secrets, ob_error *reterr)
{
	ob_capset *all;

	if (l->given) /* prepared already */
		return 0;
	if (backend != OB_BACKEND_NATIVE)
		return ob_error_set(reterr, -EOPNOTSUPP,
		                    "learning needs the native backend: its supervisor is what "
		                    "observes the program (--backend %s cannot)",
		                    ob_backend_to_string(backend));
	int r = *caps ? 0 : ob_capset_new(caps); /* no grants given: an empty set stands for them */
	if (r >= 0)
		r = learning_caps(l, *caps, secrets, &all);
	if (r < 0)
		return r;
	/* rx, whatever was asked: the program must find what it looks for, and rwx would let
	 * it write to the host */
	l->mode = *mode;
	*mode = OB_MODE_RX;
	l->given = *caps; /* the sandbox's reference, now the learner's */
	*caps = all;
	return 0;
}

/* PATH and, when it differs, its real path (a symlink to an interpreter). */
static int push_file(char ***v, size_t *n, const char *path)
{
	char real[PATH_MAX];

	if (!path || path[0] != '/')
		return 0;
	int r = strv_push(v, n, path);
	if (r >= 0 && realpath(path, real) && !streq(real, path))
		r = strv_push(v, n, real);
	return r;
}

/* Every passwd home and the caller's $HOME: none is ever granted whole. */
static int collect_homes(Learn *l)
{
	size_t n = 0;
	struct passwd *pw;
	const char *home = getenv("HOME");
	int r = home && home[0] == '/' ? strv_push(&l->homes, &n, home) : 0;

	if (r >= 0)
		r = strv_push(&l->homes, &n, "/root");
	setpwent();
	while (r >= 0 && (pw = getpwent()))
		if (pw->pw_dir && pw->pw_dir[0] == '/' && !streq(pw->pw_dir, "/"))
			r = strv_push(&l->homes, &n, pw->pw_dir);
	endpwent();
	return r;
}

/* EXECUTE beneath "/": what the program runs is the notifier's to record, not Landlock's to
 * refuse (the exec side doors stay shut: notify-exec.c refuses them by kind, not by rule). A
 * rule of its own, so that --dry-run shows it as learning's. */
static int allow_exec_everywhere(Plan *plan)
{
	FsRule *r = reallocarray(plan->rules, plan->n_rules + 1, sizeof(FsRule));
	if (!r)
		return -ENOMEM;
	plan->rules = r;
	r[plan->n_rules] =
	    (FsRule){.path = strdup("/"), .access = LEARN_LL_EXECUTE | LEARN_LL_READ_FILE};
	if (!r[plan->n_rules].path)
		return -ENOMEM;
	plan->n_rules++;
	return 0;
}

/* Learning runs in mode rx, whose plan shows the host one top-level entry at a time
 * (plan_host_root). Those binds show the caller's files as a grant shows them: the sandbox
 * uid's own (id-mapped, when run as root), so what checks ownership (git, ssh) behaves as it
 * will in the repeat, and root's private directories are no less visible than the
 * supervisor makes them anyway. */
static int learning_layout(Plan *plan)
{
	for (size_t i = 0; i < plan->n_steps; i++) {
		MountStep *st = &plan->steps[i];
		if (st->kind == STEP_BIND && st->why && streq(st->why, PLAN_HOST_ROOT_WHY))
			st->idmap = !st->src_inside;
	}
	return 0;
}

int learn_plan(Learn *l, Plan *plan)
{
	size_t n = 0;
	int r = learning_layout(plan);

	if (r >= 0 && plan->landlock_abi > 0)
		r = allow_exec_everywhere(plan);
	strv_free(l->layout);
	l->layout = NULL;
	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(runtime_paths); i++)
		r = strv_push(&l->layout, &n, runtime_paths[i]);
	if (r >= 0)
		r = push_file(&l->layout, &n, plan->program);
	if (r >= 0)
		r = push_file(&l->layout, &n, plan->exec_path);
	if (r >= 0)
		r = push_file(&l->layout, &n, plan->interpreter);
	/* what the plan binds for the program in every mode: an interpreter's installation
	 * outside /usr (a pyenv Python's prefix) */
	for (size_t i = 0; r >= 0 && i < plan->n_steps; i++) {
		const MountStep *st = &plan->steps[i];
		if (st->kind == STEP_BIND && st->src && st->why &&
		    (streq(st->why, "program") || strncmp(st->why, "interpreter", 11) == 0))
			r = push_file(&l->layout, &n, st->src);
	}
	strv_free(l->homes);
	l->homes = NULL;
	if (r >= 0)
		r = collect_homes(l);
	l->scratch_max = plan->limits.value[OB_LIMIT_TMPFS];
	return r;
}

/* The bare name of the command at PATH when the host PATH finds this very file under it (the
 * grant then reads as the user would write it), into BUF; else PATH itself. */
static const char *command_name(const char *path, char *buf, size_t size)
{
	const char *name = strrchr(path, '/');
	const char *search = getenv("PATH");
	struct stat want, st;

	if (!name || !name[1] || stat(path, &want) < 0)
		return path;
	name++;
	for (const char *p = search ? search : SANDBOX_PATH; *p;) {
		size_t len = strcspn(p, ":");
		char cand[PATH_MAX];
		(void)snprintf(cand, sizeof(cand), "%.*s/%s", (int)len, p, name);
		if (len > 0 && p[0] == '/' && stat(cand, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(cand, X_OK) == 0) {
			/* the first one PATH finds is the one a bare name will mean */
			if (st.st_dev != want.st_dev || st.st_ino != want.st_ino)
				return path;
			(void)snprintf(buf, size, "%s", name);
			return buf;
		}
		p += len + (p[len] == ':');
	}
	return path;
}

/* A write of PATH, which the host lacks: a grant of it would bind nothing, one of the
 * directory it goes into (the nearest that exists) lets the repeat create it. Into DIR. */
static bool creation_dir(const char *path, char dir[PATH_MAX])
{
	struct stat st;

	(void)snprintf(dir, PATH_MAX, "%s", path);
	for (char *slash; (slash = strrchr(dir, '/')) && slash != dir;) {
		*slash = '\0';
		if (stat(dir, &st) == 0)
			return S_ISDIR(st.st_mode);
	}
	return false;
}

void learn_note(Learn *l, ob_cap_type type, const char *resource, unsigned flags)
{
	char name[NAME_MAX + 1], dir[PATH_MAX];
	struct stat st;

	/* an exec refused by kind ("memfd:NAME", "fd N": the side doors) is no grant's to allow */
	if (type == OB_CAP_EXTERNAL_COMMAND && resource[0] != '/')
		return;
	if (type == OB_CAP_EXTERNAL_COMMAND)
		resource = command_name(resource, name, sizeof(name));
	if (type == OB_CAP_FILE_WRITE && flags == 0 && resource[0] == '/' &&
	    lstat(resource, &st) < 0) {
		if (!creation_dir(resource, dir))
			return;
		resource = dir;
		flags = LEARN_CREATES;
	}
	/* past the bound the set counts what it dropped: the writer says so */
	(void)learn_set_add(l->set, type, resource, flags);
}

/* The capability file of SET (SPEC §2.5): version first, comment-free, one grant a line. */
static int capfile_text(const ob_capset *set, char **ret)
{
	_cleanup_free_ char *flat = NULL;
	_cleanup_(json_decrefp) json_t *root = json_object();
	int r = ob_capset_to_json(set, NULL, &flat);

	if (r < 0)
		return r;
	_cleanup_(json_decrefp) json_t *caps = json_loads(flat, 0, NULL);
	if (!root || !caps || json_object_set_new(root, "version", json_integer(1)) < 0 ||
	    json_object_set(root, "capabilities", json_object_get(caps, "capabilities")) < 0)
		return -ENOMEM;
	char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

/* TEXT written to PATH by a rename: a reader sees the old file or the whole new one. */
static int write_atomic(const char *path, const char *text, ob_error *reterr)
{
	_cleanup_free_ char *tmp = NULL;
	size_t len = strlen(text);

	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return -ENOMEM;
	_cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return ob_error_set(reterr, -errno, "%s: cannot create a file beside it: %m", path);
	bool ok = fchmod(fd, 0644) == 0 && write(fd, text, len) == (ssize_t)len &&
	          write(fd, "\n", 1) == 1 && fsync(fd) == 0;
	int r = ok ? 0 : -(errno ? errno : EIO);
	if (r >= 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		(void)unlink(tmp);
		return ob_error_set(reterr, r, "%s: cannot write the learned capability file",
		                    path);
	}
	return 0;
}

int learn_write(Learn *l, const char *path, ob_error *reterr)
{
	_cleanup_(ob_capset_unrefp) ob_capset *set = NULL, *check = NULL;
	_cleanup_free_ char *text = NULL;
	ob_limits limits;

	if (!l->given)
		return ob_error_set(reterr, -EINVAL, "no learning run to write the grants of");
	const LearnLayout layout = {.given = (const char *const *)l->layout,
	                            .homes = (const char *const *)l->homes};
	int r = learn_summarize(l->set, &layout, l->given, &set);
	if (r >= 0)
		r = capfile_text(set, &text);
	if (r < 0)
		return ob_error_set(reterr, r, "summarising what the program did");
	/* what is written must be what `caps check` and `sandbox run` accept: checked here */
	r = ob_capset_new(&check);
	if (r >= 0)
		r = ob_capfile_parse(text, strlen(text), path, "/", check, &limits, reterr);
	if (r < 0)
		return r;
	r = write_atomic(path, text, reterr);
	return r < 0 ? r : (int)MIN(learn_set_dropped(l->set), (size_t)INT_MAX);
}
