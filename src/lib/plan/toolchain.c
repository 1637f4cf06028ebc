/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Compiler toolchains (SPEC §2.2 Commands): a grant of a compiler driver covers the helper
 * programs it runs from its own installation, and only those. What a driver runs is read
 * from the file system's layout, never by running the driver: the sandbox decides before
 * anything of the program's runs, and a driver's answer (gcc -print-prog-name) would be the
 * program's word. The knowledge is this table; docs/design/toolchains.md says how to add a
 * toolchain.
 */
#include "plan/toolchain.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/dirent-util.h"
#include "basic/macro.h"

typedef struct Toolchain {
	const char *name;
	const char *const *drivers;  /* names of the driver, without triplet or version */
	const char *const *dirs;     /* helper directories, relative to the installation prefix */
	bool versioned;              /* each of DIRS holds <triplet>/<version>/ directories */
	const char *const *helpers;  /* the programs in those directories */
	const char *const *binutils; /* beside the driver: plain, and <triplet>- prefixed */
} Toolchain;

#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

static const Toolchain toolchains[] = {
    {
        .name = "gcc",
        .drivers = LIST("gcc", "g++", "cc", "c++"),
        .dirs = LIST("lib/gcc", "libexec/gcc"),
        .versioned = true,
        .helpers = LIST("cc1", "cc1plus", "collect2", "lto-wrapper", "lto1"),
        .binutils = LIST("as", "ld", "ld.bfd", "ld.gold"),
    },
    {
        .name = "clang",
        .drivers = LIST("clang", "clang++"),
        .dirs = LIST("bin"),
        .versioned = false,
        .helpers = LIST("clang", "clang++", "ld.lld", "lld"),
        .binutils = LIST("as", "ld", "ld.bfd", "ld.gold"),
    },
};

#define MAX_TRIPLETS 8

static bool is_version(const char *s)
{
	return *s >= '0' && *s <= '9' && strspn(s, "0123456789.") == strlen(s);
}

/* A target triplet: at least two '-'-separated words of letters, digits, '_' and '.'. */
static bool is_triplet(const char *s, size_t len)
{
	size_t dashes = 0;

	if (len == 0 || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '-')
			dashes++;
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		           c == '.'))
			return false;
	}
	return dashes >= 1;
}

/* Does REST (LEN bytes) name DRIVER, alone or after "<triplet>-"? Fills D's triplet. */
static bool names_driver(const char *rest, size_t len, const char *driver, DriverName *d)
{
	size_t n = strlen(driver);

	if (len == n && memcmp(rest, driver, n) == 0)
		return true;
	if (len <= n + 1 || rest[len - n - 1] != '-' || memcmp(rest + len - n, driver, n) != 0)
		return false;
	size_t t = len - n - 1;
	if (!is_triplet(rest, t) || t >= sizeof(d->triplet))
		return false;
	memcpy(d->triplet, rest, t);
	d->triplet[t] = '\0';
	return true;
}

int toolchain_parse_driver(const char *basename, DriverName *d)
{
	size_t len = strlen(basename);
	const char *dash = strrchr(basename, '-');

	*d = (DriverName){0};
	if (dash && is_version(dash + 1) && strlen(dash + 1) < sizeof(d->version)) {
		(void)snprintf(d->version, sizeof(d->version), "%s", dash + 1);
		len = (size_t)(dash - basename);
	}
	for (size_t i = 0; i < ELEMENTSOF(toolchains); i++)
		for (const char *const *drv = toolchains[i].drivers; *drv; drv++)
			if (names_driver(basename, len, *drv, d)) {
				d->toolchain = toolchains[i].name;
				return 0;
			}
	*d = (DriverName){0};
	return -ENOENT;
}

typedef struct Search {
	const Toolchain *tc;
	const DriverName *d;
	char triplets[MAX_TRIPLETS][64];
	size_t n_triplets;
	ToolchainAddFn add;
	void *userdata;
	int found;
} Search;

/* Adds PATH when it is an executable regular file. */
static int try_helper(Search *s, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		return 0;
	int r = s->add(s->userdata, path, s->tc->name);
	if (r < 0)
		return r;
	s->found++;
	return 0;
}

static void add_triplet(Search *s, const char *t)
{
	if (!is_triplet(t, strlen(t)) || strlen(t) >= sizeof(s->triplets[0]) ||
	    s->n_triplets == MAX_TRIPLETS)
		return;
	for (size_t i = 0; i < s->n_triplets; i++)
		if (streq(s->triplets[i], t))
			return;
	(void)snprintf(s->triplets[s->n_triplets++], sizeof(s->triplets[0]), "%s", t);
}

/* The triplets an installation under PREFIX was built for: the entries of PREFIX/lib/gcc. */
static void find_triplets(Search *s, const char *prefix)
{
	char path[PATH_MAX];

	(void)snprintf(path, sizeof(path), "%s/lib/gcc", prefix);
	_cleanup_(closedirp) DIR *dir = opendir(path);
	for (struct dirent *e; dir && (e = readdir(dir));)
		add_triplet(s, e->d_name);
}

/* A version directory of this driver: any when the driver's name has none, else its version
 * itself or a point release of it ("12" for gcc-12, also "12.2.0"). */
static bool version_matches(const char *entry, const char *version)
{
	size_t n = strlen(version);

	if (!is_version(entry))
		return false;
	return n == 0 || (strncmp(entry, version, n) == 0 && (entry[n] == '\0' || entry[n] == '.'));
}

/* The helpers in DIR/<triplet>/<version>/ for the driver's triplets and version. */
static int search_versioned(Search *s, const char *dir)
{
	char path[PATH_MAX], helper[PATH_MAX];
	int r = 0;

	for (size_t t = 0; r >= 0 && t < s->n_triplets; t++) {
		(void)snprintf(path, sizeof(path), "%s/%s", dir, s->triplets[t]);
		_cleanup_(closedirp) DIR *vd = opendir(path);
		for (struct dirent *e; r >= 0 && vd && (e = readdir(vd));) {
			if (!version_matches(e->d_name, s->d->version))
				continue;
			for (const char *const *h = s->tc->helpers; r >= 0 && *h; h++) {
				(void)snprintf(helper, sizeof(helper), "%s/%s/%s", path, e->d_name,
				               *h);
				r = try_helper(s, helper);
			}
		}
	}
	return r;
}

static int search_helpers(Search *s, const char *prefix)
{
	char dir[PATH_MAX], helper[PATH_MAX];
	int r = 0;

	for (const char *const *d = s->tc->dirs; r >= 0 && *d; d++) {
		(void)snprintf(dir, sizeof(dir), "%s/%s", prefix, *d);
		if (s->tc->versioned) {
			r = search_versioned(s, dir);
			continue;
		}
		for (const char *const *h = s->tc->helpers; r >= 0 && *h; h++) {
			(void)snprintf(helper, sizeof(helper), "%s/%s", dir, *h);
			r = try_helper(s, helper);
		}
	}
	return r;
}

/* The assembler and linkers in DIR (where the driver is): plain and triplet-prefixed. */
static int search_binutils(Search *s, const char *dir)
{
	char path[PATH_MAX];
	int r = 0;

	for (const char *const *b = s->tc->binutils; r >= 0 && *b; b++) {
		(void)snprintf(path, sizeof(path), "%s/%s", dir, *b);
		r = try_helper(s, path);
		for (size_t t = 0; r >= 0 && t < s->n_triplets; t++) {
			(void)snprintf(path, sizeof(path), "%s/%s-%s", dir, s->triplets[t], *b);
			r = try_helper(s, path);
		}
	}
	return r;
}

/* PATH's directory into OUT ("/" for a file at the root). */
static void dir_of(const char *path, char out[PATH_MAX])
{
	const char *slash = strrchr(path, '/');
	size_t n = slash && slash != path ? (size_t)(slash - path) : 1;

	(void)snprintf(out, PATH_MAX, "%.*s", (int)n, path);
}

int toolchain_helpers(const char *driver, ToolchainAddFn add, void *userdata)
{
	char real[PATH_MAX], found_dir[PATH_MAX], real_dir[PATH_MAX];
	char prefix[PATH_MAX], found_prefix[PATH_MAX];
	DriverName d;

	/* the name that runs decides: cc → /etc/alternatives/cc → gcc → gcc-12 */
	if (!realpath(driver, real) || toolchain_parse_driver(strrchr(real, '/') + 1, &d) < 0)
		return 0;
	Search s = {.d = &d, .add = add, .userdata = userdata};
	for (size_t i = 0; i < ELEMENTSOF(toolchains); i++)
		if (streq(toolchains[i].name, d.toolchain))
			s.tc = &toolchains[i];
	dir_of(driver, found_dir);
	dir_of(real, real_dir);
	dir_of(real_dir, prefix);
	dir_of(found_dir, found_prefix);
	if (d.triplet[0]) /* a cross driver: only its own target */
		add_triplet(&s, d.triplet);
	else {
		find_triplets(&s, prefix);
		find_triplets(&s, found_prefix);
	}
	int r = search_helpers(&s, prefix);
	if (r >= 0)
		r = search_binutils(&s, real_dir);
	if (r >= 0 && !streq(found_dir, real_dir))
		r = search_binutils(&s, found_dir);
	return r < 0 ? r : s.found;
}
