/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ELF reader (plan/elf.c), the loader-like library search (plan/libdeps.c), showing a
 * path with its symlinks (plan/visible.c) and how interpreters are named (plan/interp.c). */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "plan/elf.h"
#include "plan/interp.h"
#include "plan/libdeps.h"
#include "plan/visible.h"

#define IMG_SIZE   512
#define INTERP_OFF 232
#define STRTAB_OFF 256
#define DYN_OFF    320

static const char strtab[] = "\0libfoo.so.1\0$ORIGIN/../lib:${ORIGIN}/x\0/rp";

static void put(uint8_t *b, size_t off, uint64_t v, size_t n, bool be)
{
	for (size_t i = 0; i < n; i++)
		b[off + (be ? n - 1 - i : i)] = (uint8_t)(v >> (8 * i));
}

/* A small ELF image: one PT_LOAD over the file, PT_INTERP "/lib/ld.so", PT_DYNAMIC with
 * DT_NEEDED libfoo.so.1, DT_RUNPATH with $ORIGIN, DT_RPATH /rp. */
static void build(uint8_t *b, bool is64, bool be, uint64_t strtab_vaddr)
{
	size_t phoff = is64 ? 64 : 52, phsz = is64 ? 56 : 32, w = is64 ? 8 : 4;
	const uint64_t dyn[][2] = {{DT_NEEDED, 1},
	                           {DT_STRTAB, strtab_vaddr},
	                           {DT_STRSZ, sizeof(strtab)},
	                           {DT_RUNPATH, 13},
	                           {DT_RPATH, 40},
	                           {DT_NULL, 0}};
	const uint64_t ph[][3] = {{PT_LOAD, 0, IMG_SIZE},
	                          {PT_INTERP, INTERP_OFF, 11},
	                          {PT_DYNAMIC, DYN_OFF, 6 * 2 * (is64 ? 8 : 4)}};

	memset(b, 0, IMG_SIZE);
	memcpy(b, ELFMAG, SELFMAG);
	b[EI_CLASS] = is64 ? ELFCLASS64 : ELFCLASS32;
	b[EI_DATA] = be ? ELFDATA2MSB : ELFDATA2LSB;
	put(b, 18, is64 ? EM_X86_64 : EM_386, 2, be);
	put(b, is64 ? 32 : 28, phoff, w, be);
	put(b, is64 ? 54 : 42, phsz, 2, be);
	put(b, is64 ? 56 : 44, 3, 2, be);
	for (size_t i = 0; i < 3; i++) {
		size_t o = phoff + i * phsz;
		put(b, o, ph[i][0], 4, be);
		put(b, o + (is64 ? 8 : 4), ph[i][1], w, be);   /* p_offset */
		put(b, o + (is64 ? 16 : 8), ph[i][1], w, be);  /* p_vaddr */
		put(b, o + (is64 ? 32 : 16), ph[i][2], w, be); /* p_filesz */
	}
	memcpy(b + INTERP_OFF, "/lib/ld.so", 11);
	memcpy(b + STRTAB_OFF, strtab, sizeof(strtab));
	for (size_t i = 0; i < 6; i++) {
		put(b, DYN_OFF + i * 2 * w, dyn[i][0], w, be);
		put(b, DYN_OFF + i * 2 * w + w, dyn[i][1], w, be);
	}
}

static int parse_buf(const uint8_t *b, size_t n, ElfInfo *info)
{
	ElfSource src = {.buf = b, .fd = -1, .size = n};
	return elf_parse(&src, info);
}

static void expect_crafted(bool is64, bool be)
{
	uint8_t b[IMG_SIZE];
	ElfInfo info;

	build(b, is64, be, STRTAB_OFF);
	assert_int_equal(parse_buf(b, sizeof(b), &info), 0);
	assert_int_equal(info.elf_class, is64 ? ELFCLASS64 : ELFCLASS32);
	assert_int_equal(info.machine, is64 ? EM_X86_64 : EM_386);
	assert_true(info.dynamic);
	assert_string_equal(info.interp, "/lib/ld.so");
	assert_int_equal(info.n_needed, 1);
	assert_string_equal(info.needed[0], "libfoo.so.1");
	assert_string_equal(info.runpath, "$ORIGIN/../lib:${ORIGIN}/x");
	assert_string_equal(info.rpath, "/rp");
	elf_info_done(&info);
}

static void test_crafted(void **state)
{
	(void)state;
	expect_crafted(true, false);
	expect_crafted(true, true);
	expect_crafted(false, false);
	expect_crafted(false, true);
}

static void test_bin_true(void **state)
{
	(void)state;
	ElfInfo info, again;
	struct stat st;

	assert_int_equal(elf_parse_file("/bin/true", false, &info), 0);
	assert_non_null(info.interp);
	assert_true(strstr(info.interp, "ld-linux") || strstr(info.interp, "ld-"));
	bool libc = false;
	for (size_t i = 0; i < info.n_needed; i++)
		libc |= strcmp(info.needed[i], "libc.so.6") == 0;
	assert_true(libc);
	/* the same bytes from a buffer */
	int fd = open("/bin/true", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0 && fstat(fd, &st) == 0);
	uint8_t *buf = malloc((size_t)st.st_size);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	(void)close(fd);
	assert_int_equal(parse_buf(buf, (size_t)st.st_size, &again), 0);
	assert_string_equal(again.interp, info.interp);
	assert_int_equal(again.n_needed, info.n_needed);
	/* every truncation is refused, never read past */
	for (size_t n = 0; n < (size_t)st.st_size; n += n < 128 ? 1 : 61) {
		ElfInfo t;
		int r = parse_buf(buf, n, &t);
		if (r == 0)
			elf_info_done(&t);
		else
			assert_true(r == -ENOEXEC || r == -EBADMSG);
	}
	free(buf);
	elf_info_done(&again);
	elf_info_done(&info);
	assert_int_equal(elf_parse_file("/nonexistent/x", false, &info), -ENOENT);
	assert_int_equal(elf_parse_file("/", false, &info), -ENOEXEC);
	assert_int_equal(elf_parse_file("/bin/true", true, &info), 0); /* the kind only */
	assert_true(info.elf_class != 0 && !info.interp && !info.n_needed && !info.dynamic);
	elf_info_done(&info);
}

static void expect_bad(const uint8_t *b, size_t n, int code)
{
	ElfInfo info;
	assert_int_equal(parse_buf(b, n, &info), code);
}

static void test_garbage(void **state)
{
	(void)state;
	uint8_t b[IMG_SIZE];

	expect_bad((const uint8_t *)"#!/bin/sh\n", 10, -ENOEXEC);
	expect_bad((const uint8_t *)"\177EL", 3, -ENOEXEC);
	build(b, true, false, STRTAB_OFF);
	b[EI_CLASS] = 7;
	expect_bad(b, sizeof(b), -EBADMSG);
	build(b, true, false, STRTAB_OFF);
	b[EI_DATA] = 9;
	expect_bad(b, sizeof(b), -EBADMSG);
	build(b, true, false, 9999); /* the string table in no segment */
	expect_bad(b, sizeof(b), -EBADMSG);
	build(b, true, false, STRTAB_OFF);
	put(b, 56, 5000, 2, false); /* e_phnum */
	expect_bad(b, sizeof(b), -EBADMSG);
	build(b, true, false, STRTAB_OFF);
	put(b, 54, 40, 2, false); /* e_phentsize */
	expect_bad(b, sizeof(b), -EBADMSG);
	build(b, true, false, STRTAB_OFF);
	put(b, 32, UINT64_MAX - 8, 8, false); /* e_phoff */
	expect_bad(b, sizeof(b), -EBADMSG);
	build(b, true, false, STRTAB_OFF);
	memset(b + INTERP_OFF, 'x', 11); /* PT_INTERP unterminated */
	expect_bad(b, sizeof(b), -EBADMSG);
	build(b, true, false, STRTAB_OFF);
	put(b, DYN_OFF + 8, 500, 8, false); /* DT_NEEDED past DT_STRSZ */
	expect_bad(b, sizeof(b), -EBADMSG);
	build(b, true, false, STRTAB_OFF);
	put(b, 64 + 2 * 56 + 8, UINT64_MAX - 4, 8, false); /* PT_DYNAMIC's offset */
	expect_bad(b, sizeof(b), -EBADMSG);
	build(b, true, false, STRTAB_OFF);
	put(b, DYN_OFF + 16, DT_NULL, 8, false); /* no DT_STRTAB, but a DT_NEEDED */
	put(b, DYN_OFF + 32, DT_NULL, 8, false);
	expect_bad(b, sizeof(b), -EBADMSG);
	expect_bad(b, 300, -EBADMSG); /* the dynamic section cut */
	/* too many DT_NEEDED */
	uint8_t *big = calloc(1, 64 * 1024);
	build(big, true, false, STRTAB_OFF);
	put(big, 64 + 0 * 56 + 32, 64 * 1024, 8, false);
	put(big, 64 + 2 * 56 + 32, 16 * (ELF_MAX_NEEDED + 2), 8, false);
	for (size_t i = 0; i <= ELF_MAX_NEEDED; i++) {
		put(big, DYN_OFF + 16 * i, DT_NEEDED, 8, false);
		put(big, DYN_OFF + 16 * i + 8, 1, 8, false);
	}
	expect_bad(big, 64 * 1024, -EBADMSG);
	free(big);
}

static void test_expand_origin(void **state)
{
	(void)state;
	char buf[64];

	assert_int_equal(elf_expand_origin("$ORIGIN/../lib:${ORIGIN}/x:$ORIGINAL:/abs", "/p/bin",
	                                   buf, sizeof(buf)),
	                 0);
	assert_string_equal(buf, "/p/bin/../lib:/p/bin/x:$ORIGINAL:/abs");
	assert_int_equal(
	    elf_expand_origin("$ORIGIN$ORIGIN$ORIGIN", "/a/very/long/origin/dir", buf, sizeof(buf)),
	    -ENAMETOOLONG);
}

static void test_libdeps(void **state)
{
	(void)state;
	PathList l = {0};
	char dir[] = "/tmp/ob-elf-XXXXXX", script[64];

	assert_int_equal(libdeps_collect("/bin/true", NULL, &l), 0);
	bool loader = false, libc = false;
	for (size_t i = 0; i < l.n; i++) {
		loader |= strstr(l.paths[i], "ld-linux") != NULL;
		libc |= strstr(l.paths[i], "/libc.so.6") != NULL;
	}
	assert_true(loader && libc);
	assert_int_equal(path_list_add(&l, l.paths[0]), 0); /* no duplicates */
	size_t n = l.n;
	assert_int_equal(path_list_add(&l, "/x"), 1);
	assert_int_equal(l.n, n + 1);
	path_list_done(&l);
	assert_non_null(mkdtemp(dir));
	(void)snprintf(script, sizeof(script), "%s/s", dir);
	FILE *f = fopen(script, "we");
	fputs("#!/bin/sh\n", f);
	fclose(f);
	assert_int_equal(libdeps_collect(script, NULL, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(libdeps_collect("/nonexistent", NULL, &l), 0);
	(void)unlink(script);
	(void)rmdir(dir);
}

static void write_file(const char *dir, const char *name, const uint8_t *b, size_t n)
{
	char path[PATH_MAX];

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, n), (ssize_t)n);
	(void)close(fd);
}

/* The search on crafted objects: DIR/bin/prog needs libfoo.so.1 with RUNPATH
 * "$ORIGIN/../lib:${ORIGIN}/x"; DIR/lib holds a 32-bit one (passed over), DIR/bin/x the
 * right one. */
static void test_libdeps_search(void **state)
{
	(void)state;
	char dir[] = "/tmp/ob-deps-XXXXXX", sub[PATH_MAX], want[PATH_MAX], cmd[64];
	uint8_t prog[IMG_SIZE], lib32[IMG_SIZE];
	PathList l = {0};

	assert_non_null(mkdtemp(dir));
	const char *subs[] = {"bin", "lib", "bin/x"};
	for (size_t i = 0; i < 3; i++) {
		(void)snprintf(sub, sizeof(sub), "%s/%s", dir, subs[i]);
		assert_int_equal(mkdir(sub, 0755), 0);
	}
	build(prog, true, false, STRTAB_OFF);
	build(lib32, false, false, STRTAB_OFF);
	write_file(dir, "bin/prog", prog, sizeof(prog));
	write_file(dir, "lib/libfoo.so.1", lib32, sizeof(lib32));
	write_file(dir, "bin/x/libfoo.so.1", prog, sizeof(prog));
	(void)snprintf(sub, sizeof(sub), "%s/bin/prog", dir);
	assert_int_equal(libdeps_collect(sub, NULL, &l), 0);
	(void)snprintf(want, sizeof(want), "%s/bin/x/libfoo.so.1", dir);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.paths[0], "/lib/ld.so");
	assert_string_equal(l.paths[1], want);
	path_list_done(&l);
	/* what a RUNPATH finds must be an ELF object of the program's kind: a secret named
	 * like the library is never taken for it */
	write_file(dir, "bin/x/libfoo.so.1", (const uint8_t *)"ssh-key\n", 8);
	assert_int_equal(libdeps_collect(sub, NULL, &l), 0);
	assert_int_equal(l.n, 1);
	path_list_done(&l);
	/* a DT_NEEDED naming a path ("/rp", which does not exist): taken as is, not searched */
	put(prog, DYN_OFF + 8, 40, 8, false);
	write_file(dir, "bin/prog", prog, sizeof(prog));
	assert_int_equal(libdeps_collect(sub, NULL, &l), 0);
	assert_int_equal(l.n, 1);
	path_list_done(&l);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_show_path(void **state)
{
	(void)state;
	char dir[] = "/tmp/ob-show-XXXXXX", path[PATH_MAX], real[PATH_MAX];
	Plan p = {0};

	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/real", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	(void)snprintf(path, sizeof(path), "%s/real/file", dir);
	fclose(fopen(path, "we"));
	(void)snprintf(path, sizeof(path), "%s/dirlink", dir);
	assert_int_equal(symlink("real", path), 0);
	(void)snprintf(path, sizeof(path), "%s/real/link", dir);
	assert_int_equal(symlink("file", path), 0);
	/* dir/dirlink/link -> dir/real/link -> dir/real/file */
	(void)snprintf(path, sizeof(path), "%s/dirlink/link", dir);
	assert_int_equal(plan_show_path(&p, path, false, "t", real), 0);
	assert_int_equal(p.n_steps, 3);
	assert_int_equal(p.steps[0].kind, STEP_SYMLINK);
	assert_string_equal(p.steps[0].src, "real");
	assert_int_equal(p.steps[1].kind, STEP_SYMLINK);
	assert_int_equal(p.steps[2].kind, STEP_BIND);
	assert_true(p.steps[2].flags & 1); /* MS_RDONLY */
	assert_string_equal(p.steps[2].dest, real);
	assert_true(plan_shows(&p, real));
	assert_true(plan_shows(&p, path) == false); /* its first link is shown, not itself */
	/* again: nothing new */
	assert_int_equal(plan_show_path(&p, path, false, "t", NULL), 0);
	assert_int_equal(p.n_steps, 3);
	(void)snprintf(path, sizeof(path), "%s/real", dir);
	assert_int_equal(plan_show_path(&p, path, false, "t", NULL), -EISDIR);
	(void)snprintf(path, sizeof(path), "%s/none", dir);
	assert_int_equal(plan_show_path(&p, path, false, "t", NULL), -ENOENT);
	(void)snprintf(path, sizeof(path), "%s/loop", dir);
	assert_int_equal(symlink("loop", path), 0);
	assert_int_equal(plan_show_path(&p, path, false, "t", NULL), -ELOOP);
	assert_int_equal(plan_show_path(&p, "/", true, "t", NULL), -EPERM);
	assert_int_equal(plan_show_path(&p, "relative", true, "t", NULL), -EINVAL);
	for (size_t i = 0; i < p.n_steps; i++) {
		free(p.steps[i].src);
		free(p.steps[i].dest);
	}
	free(p.steps);
	char cmd[128];
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_home_or_root(void **state)
{
	(void)state;
	assert_true(path_is_home_or_root("/"));
	assert_true(path_is_home_or_root("/root"));
	assert_true(path_is_home_or_root("/home"));
	assert_true(path_is_home_or_root("/home/alice"));
	assert_false(path_is_home_or_root("/home/alice/.pyenv"));
	assert_false(path_is_home_or_root("/usr/lib"));
	setenv("HOME", "/srv/people/bob/", 1);
	assert_true(path_is_home_or_root("/srv/people/bob"));
	assert_false(path_is_home_or_root("/srv/people"));
}

static void expect_script_arg(int want, const char *a0, const char *a1, const char *a2,
                              const char *a3)
{
	char *const argv[] = {(char *)a0, (char *)a1, (char *)a2, (char *)a3, NULL};
	int got = interp_script_arg(argv);
	if (got != want)
		fail_msg("%s %s %s %s: %d, wanted %d", a0, a1, a2, a3, got, want);
}

static void test_script_arg(void **state)
{
	(void)state;
	expect_script_arg(1, "python3", "t.py", NULL, NULL);
	expect_script_arg(2, "/usr/bin/python3.11", "-u", "t.py", NULL);
	expect_script_arg(3, "python", "-W", "error", "t.py");
	expect_script_arg(2, "python", "-Werror", "t.py", NULL);
	expect_script_arg(-1, "python3", "-c", "print(1)", "t.py");
	expect_script_arg(-1, "python3", "-Ic", "print(1)", "t.py");
	expect_script_arg(-1, "python3", "-m", "http.server", NULL);
	expect_script_arg(-1, "python3", "-", NULL, NULL);
	expect_script_arg(-1, "python3", "--version", NULL, NULL);
	expect_script_arg(3, "node", "-r", "x", "app.js");
	expect_script_arg(2, "node", "--require=x", "app.js", NULL);
	expect_script_arg(3, "node", "--require", "x", "app.js");
	expect_script_arg(-1, "node", "-e", "1", NULL);
	expect_script_arg(-1, "nodejs", "--eval", "1", NULL);
	expect_script_arg(-1, "bash", "-ec", "true", NULL);
	expect_script_arg(3, "sh", "-o", "errexit", "x.sh");
	expect_script_arg(3, "sh", "+o", "errexit", "x.sh");
	expect_script_arg(2, "sh", "--", "x.sh", NULL);
	expect_script_arg(-1, "sh", "--", NULL, NULL);
	expect_script_arg(1, "perl5.36", "x.pl", NULL, NULL);
	expect_script_arg(-1, "python3", "-u", NULL, NULL);
	expect_script_arg(-1, "ls", "x.py", NULL, NULL);
	expect_script_arg(-1, "python3-config", "x.py", NULL, NULL);
}

static void test_extension_and_shim(void **state)
{
	(void)state;
	char dir[] = "/tmp/ob-shim-XXXXXX", path[PATH_MAX];

	assert_string_equal(interp_for_extension("a/task.py"), "python3");
	assert_string_equal(interp_for_extension("x.sh"), "sh");
	assert_string_equal(interp_for_extension("app.js"), "node");
	assert_string_equal(interp_for_extension("app.mjs"), "node");
	assert_null(interp_for_extension(".py"));
	assert_null(interp_for_extension("README"));
	assert_true(interp_is_script_file("/nonexistent/x.py"));
	assert_true(interp_is_script_file("/bin/true")); /* executable */
	assert_false(interp_is_script_file("/etc/passwd"));
	assert_false(interp_is_script_file("/nonexistent/.py"));
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/shims", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	(void)snprintf(path, sizeof(path), "%s/shims/python3", dir);
	FILE *f = fopen(path, "we");
	fputs("#!/bin/sh\nexec pyenv\n", f);
	fclose(f);
	assert_true(interp_is_shim(path));
	assert_false(interp_is_shim("/bin/true"));
	/* mise's shims: links to mise itself */
	char mise[PATH_MAX], node[PATH_MAX];
	(void)snprintf(mise, sizeof(mise), "%s/mise", dir);
	(void)snprintf(node, sizeof(node), "%s/shims/node", dir);
	fclose(fopen(mise, "we"));
	assert_int_equal(symlink("../mise", node), 0);
	assert_true(interp_is_shim(node));
	char *target = NULL;
	assert_int_equal(interp_shim_target(node, &target), 0); /* no version: passed over */
	assert_null(target);
	(void)unlink(node);
	(void)unlink(mise);
	assert_false(interp_is_shim("/nonexistent/shims/x"));
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/shims", dir);
	(void)rmdir(path);
	(void)rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crafted),    cmocka_unit_test(test_bin_true),
	    cmocka_unit_test(test_garbage),    cmocka_unit_test(test_expand_origin),
	    cmocka_unit_test(test_libdeps),    cmocka_unit_test(test_libdeps_search),
	    cmocka_unit_test(test_show_path),  cmocka_unit_test(test_home_or_root),
	    cmocka_unit_test(test_script_arg), cmocka_unit_test(test_extension_and_shim),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
