/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The disk limit: an upper layer written back (writeback.c), and its plan and decisions. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "omnibase/omnibase.h"
#include <cmocka.h>

#include "basic/fdpass.h"
#include "plan/overlay.h"
#include "plan/steps.h"
#include "runner/disk.h"
#include "runner/writeback.h"

typedef struct Dirs {
	char top[64];
	char upper[96], host[96], outside[96];
	int upper_fd, host_fd;
} Dirs;

static void path_of(char *buf, size_t size, const char *dir, const char *name)
{
	(void)snprintf(buf, size, "%s/%s", dir, name);
}

static void put(const char *dir, const char *name, const char *text)
{
	char p[256];
	path_of(p, sizeof(p), dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static char *get(const char *dir, const char *name)
{
	static char text[256];
	char p[256];
	path_of(p, sizeof(p), dir, name);
	FILE *f = fopen(p, "r");
	if (!f)
		return NULL;
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	(void)fclose(f);
	return text;
}

static bool exists(const char *dir, const char *name)
{
	char p[256];
	struct stat st;
	path_of(p, sizeof(p), dir, name);
	return lstat(p, &st) == 0;
}

static void sub(const char *dir, const char *name)
{
	char p[256];
	path_of(p, sizeof(p), dir, name);
	assert_int_equal(mkdir(p, 0755), 0);
}

/* A whiteout as the overlay makes it: a character device 0/0 (unprivileged since 5.8). */
static bool whiteout(const char *dir, const char *name)
{
	char p[256];
	path_of(p, sizeof(p), dir, name);
	return mknod(p, S_IFCHR | 0600, makedev(0, 0)) == 0;
}

static void dirs_open(Dirs *d)
{
	(void)snprintf(d->top, sizeof(d->top), "/tmp/ob-disk-XXXXXX");
	assert_non_null(mkdtemp(d->top));
	path_of(d->upper, sizeof(d->upper), d->top, "upper");
	path_of(d->host, sizeof(d->host), d->top, "host");
	path_of(d->outside, sizeof(d->outside), d->top, "outside");
	assert_int_equal(mkdir(d->upper, 0755), 0);
	assert_int_equal(mkdir(d->host, 0755), 0);
	assert_int_equal(mkdir(d->outside, 0755), 0);
}

static void dirs_write_back(Dirs *d, Writeback *wb)
{
	d->upper_fd = open(d->upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d->host_fd = open(d->host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(d->upper_fd >= 0 && d->host_fd >= 0);
	*wb = (Writeback){.uid = (uid_t)-1, .gid = (gid_t)-1};
	writeback_tree(d->upper_fd, d->host_fd, wb);
	(void)close(d->upper_fd);
	(void)close(d->host_fd);
}

static void dirs_remove(Dirs *d)
{
	char cmd[128];
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->top);
	assert_int_equal(system(cmd), 0);
}

static void test_new_changed_removed(void **state)
{
	(void)state;
	Dirs d;
	Writeback wb;
	char p[256];
	struct stat st;

	dirs_open(&d);
	put(d.host, "keep.txt", "old");
	put(d.host, "changed.txt", "before");
	put(d.host, "gone.txt", "x");
	sub(d.host, "gonedir");
	put(d.host, "gonedir/a", "a");
	sub(d.host, "opaque");
	put(d.host, "opaque/old", "old");
	put(d.upper, "new.txt", "new");
	put(d.upper, "changed.txt", "after");
	/* a set-user-ID file of the host rewritten: the bit goes (a root writer would keep it) */
	assert_int_equal(chmod((path_of(p, sizeof(p), d.host, "changed.txt"), p), 04755), 0);
	assert_int_equal(chmod((path_of(p, sizeof(p), d.upper, "changed.txt"), p), 04755), 0);
	path_of(p, sizeof(p), d.upper, "new.txt");
	assert_int_equal(chmod(p, 06755), 0); /* set-id bits never reach the host */
	sub(d.upper, "dir");
	put(d.upper, "dir/f", "f");
	sub(d.upper, "opaque");
	put(d.upper, "opaque/new", "n");
	path_of(p, sizeof(p), d.upper, "opaque");
	bool have_xattr = setxattr(p, "user.overlay.opaque", "y", 1, 0) == 0;
	assert_int_equal(symlink("/etc/passwd", (path_of(p, sizeof(p), d.upper, "link"), p)), 0);
	bool have_whiteouts = whiteout(d.upper, "gone.txt") && whiteout(d.upper, "gonedir") &&
	                      whiteout(d.upper, "missing");
	/* two names of one file in the layer: two files on the host */
	char q[256];
	path_of(q, sizeof(q), d.upper, "hard");
	assert_int_equal(link((path_of(p, sizeof(p), d.upper, "dir/f"), p), q), 0);

	dirs_write_back(&d, &wb);
	assert_int_equal(wb.error, 0);
	assert_string_equal(get(d.host, "keep.txt"), "old");
	assert_string_equal(get(d.host, "changed.txt"), "after");
	assert_int_equal(stat((path_of(p, sizeof(p), d.host, "changed.txt"), p), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_string_equal(get(d.host, "new.txt"), "new");
	assert_int_equal(stat((path_of(p, sizeof(p), d.host, "new.txt"), p), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_string_equal(get(d.host, "dir/f"), "f");
	assert_string_equal(get(d.host, "hard"), "f");
	assert_int_equal(stat((path_of(p, sizeof(p), d.host, "hard"), p), &st), 0);
	assert_int_equal(st.st_nlink, 1);
	char target[64] = "";
	assert_int_equal(
	    readlink((path_of(p, sizeof(p), d.host, "link"), p), target, sizeof(target) - 1), 11);
	assert_string_equal(target, "/etc/passwd");
	assert_string_equal(get(d.host, "opaque/new"), "n");
	if (have_xattr)
		assert_false(exists(d.host, "opaque/old"));
	if (have_whiteouts) {
		assert_false(exists(d.host, "gone.txt"));
		assert_false(exists(d.host, "gonedir"));
	}
	dirs_remove(&d);
}

/* A symlink on the host where the layer has a directory or a file: replaced, never
 * followed, so nothing outside the directory is written. */
static void test_host_symlinks_not_followed(void **state)
{
	(void)state;
	Dirs d;
	Writeback wb;
	char p[256];

	dirs_open(&d);
	put(d.outside, "target.txt", "outside");
	assert_int_equal(symlink(d.outside, (path_of(p, sizeof(p), d.host, "esc"), p)), 0);
	char t[256];
	path_of(t, sizeof(t), d.outside, "target.txt");
	assert_int_equal(symlink(t, (path_of(p, sizeof(p), d.host, "file"), p)), 0);
	assert_int_equal(symlink(d.outside, (path_of(p, sizeof(p), d.host, "wh"), p)), 0);
	sub(d.upper, "esc");
	put(d.upper, "esc/target.txt", "attack");
	put(d.upper, "file", "attack");
	bool have_whiteout = whiteout(d.upper, "wh");

	dirs_write_back(&d, &wb);
	assert_string_equal(get(d.outside, "target.txt"), "outside");
	assert_string_equal(get(d.host, "esc/target.txt"), "attack");
	assert_string_equal(get(d.host, "file"), "attack");
	struct stat st;
	assert_int_equal(lstat((path_of(p, sizeof(p), d.host, "esc"), p), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	if (have_whiteout) {
		assert_false(exists(d.host, "wh")); /* the link goes, its target stays */
		assert_true(exists(d.outside, "target.txt"));
	}
	dirs_remove(&d);
}

/* A FIFO in the layer is not made on the host; a host FIFO where the layer has a file is
 * replaced, never opened. */
static void test_special_files_skipped(void **state)
{
	(void)state;
	Dirs d;
	Writeback wb;
	char p[256];

	dirs_open(&d);
	assert_int_equal(mkfifo((path_of(p, sizeof(p), d.upper, "fifo"), p), 0644), 0);
	assert_int_equal(mkfifo((path_of(p, sizeof(p), d.host, "was-fifo"), p), 0644), 0);
	put(d.upper, "was-fifo", "file now");
	dirs_write_back(&d, &wb);
	assert_false(exists(d.host, "fifo"));
	assert_int_equal(wb.skipped, 1);
	assert_string_equal(wb.first, "fifo");
	assert_string_equal(get(d.host, "was-fifo"), "file now");
	dirs_remove(&d);
}

/* A mount point under the host directory is not crossed (RESOLVE_NO_XDEV): root only. */
static void test_mount_point_not_crossed(void **state)
{
	(void)state;
	Dirs d;
	Writeback wb;

	if (geteuid() != 0)
		skip();
	dirs_open(&d);
	sub(d.host, "mnt");
	char p[256];
	path_of(p, sizeof(p), d.host, "mnt");
	if (mount("t", p, "tmpfs", 0, "size=64k") < 0) {
		dirs_remove(&d);
		skip();
	}
	sub(d.upper, "mnt");
	put(d.upper, "mnt/x", "x");
	dirs_write_back(&d, &wb);
	assert_int_equal(wb.error, -EXDEV);
	assert_string_equal(wb.first, "mnt");
	assert_false(exists(d.host, "mnt/x"));
	assert_int_equal(umount2(p, MNT_DETACH), 0);
	dirs_remove(&d);
}

/* Mount points where the layer removes an entry, makes a symlink or a file: each refused and
 * noted, the mounts and what is in them untouched (root only). */
static void test_mount_points_stay(void **state)
{
	(void)state;
	Dirs d;
	Writeback wb;
	const char *names[] = {"m1", "m2", "m3"};
	char p[256];

	if (geteuid() != 0)
		skip();
	dirs_open(&d);
	for (size_t i = 0; i < 3; i++) {
		sub(d.host, names[i]);
		path_of(p, sizeof(p), d.host, names[i]);
		if (mount("t", p, "tmpfs", 0, "size=64k") < 0) {
			dirs_remove(&d);
			skip();
		}
		put(p, "kept", "kept");
	}
	bool have_whiteout = whiteout(d.upper, "m1");
	assert_int_equal(symlink("/etc", (path_of(p, sizeof(p), d.upper, "m2"), p)), 0);
	put(d.upper, "m3", "file");
	dirs_write_back(&d, &wb);
	assert_int_not_equal(wb.error, 0);
	for (size_t i = 0; i < 3; i++) {
		path_of(p, sizeof(p), d.host, names[i]);
		if (i > 0 || have_whiteout)
			assert_string_equal(get(p, "kept"), "kept");
		assert_int_equal(umount2(p, MNT_DETACH), 0);
	}
	dirs_remove(&d);
}

static void test_too_deep(void **state)
{
	(void)state;
	Dirs d;
	Writeback wb;
	char p[256 * 4 + 128];

	dirs_open(&d);
	(void)snprintf(p, sizeof(p), "%s", d.upper);
	int fd = open(p, O_RDONLY | O_DIRECTORY);
	for (int i = 0; i < WRITEBACK_MAX_DEPTH + 2; i++) {
		assert_int_equal(mkdirat(fd, "d", 0755), 0);
		int n = openat(fd, "d", O_RDONLY | O_DIRECTORY);
		(void)close(fd);
		fd = n;
	}
	(void)close(fd);
	dirs_write_back(&d, &wb);
	assert_int_equal(wb.error, -ELOOP);
	assert_int_equal(wb.skipped, 1);
	dirs_remove(&d);
}

static void test_plan_and_decision(void **state)
{
	(void)state;
	Plan p = {0};
	ob_error e = {0};

	ob_limits_init(&p.limits);
	assert_int_equal(p.limits.value[OB_LIMIT_DISK], 128ULL << 20);
	assert_int_equal(overlay_inodes(1 << 20), 1024);
	assert_int_equal(overlay_inodes(1ULL << 30), 262144);
	assert_int_equal(overlay_inodes(1ULL << 50), 4 << 20);
	assert_int_equal(plan_add(&p, STEP_BIND, "/w", "/workspace", NULL, MS_NOSUID, "w"), 0);
	assert_int_equal(plan_add(&p, STEP_BIND, "/r", "/r", NULL, MS_RDONLY, "r"), 0);
	assert_int_equal(plan_add(&p, STEP_BIND, "/f", "/f", NULL, MS_NOSUID, "file"), 0);
	p.steps[0].src_is_dir = p.steps[1].src_is_dir = true;
	plan_overlay_add(&p, 2); /* a file: no overlay */
	plan_overlay_add(&p, 0);
	plan_overlay_add(&p, 0); /* once */
	plan_overlay_add(&p, 1); /* read-only: none */
	assert_int_equal(p.n_overlays, 1);
	assert_int_equal(p.steps[0].overlay, 1);
	assert_int_equal(p.steps[1].overlay, 0);
	assert_string_equal(p.disk_data, "mode=0700,size=134217728,nr_inodes=32768");
	assert_int_equal(overlay_decision(true, false, &p, &e), 0);
	assert_int_equal(overlay_decision(false, false, &p, &e), -EOPNOTSUPP);
	assert_non_null(strstr(e.msg, "--allow-degraded"));
	assert_int_equal(overlay_decision(false, true, &p, &e), 0);
	assert_true(p.disk_unbounded);
	assert_int_equal(p.n_overlays, 0);
	assert_int_equal(p.steps[0].overlay, 0);
	for (size_t i = 0; i < p.n_steps; i++) {
		free(p.steps[i].src);
		free(p.steps[i].dest);
	}
	free(p.steps);
}

static void test_limit_text(void **state)
{
	(void)state;
	ob_limits l;
	ob_error e = {0};
	char buf[32];

	ob_limits_init(&l);
	assert_int_equal(ob_limit_from_string("disk"), OB_LIMIT_DISK);
	assert_int_equal(ob_limits_set_text(&l, OB_LIMIT_DISK, "64M", &e), 0);
	assert_int_equal(l.value[OB_LIMIT_DISK], 64 << 20);
	assert_int_equal(ob_limits_set_text(&l, OB_LIMIT_DISK, "512K", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "between 1M and 1024T"));
	ob_limit_format(OB_LIMIT_DISK, 1ULL << 30, buf, sizeof(buf));
	assert_string_equal(buf, "1G");
	const char *file = "{\"version\": 1, \"capabilities\": [], \"limits\": {\"disk\": \"2G\"}}";
	assert_int_equal(ob_capfile_parse(file, strlen(file), "t.json", "/", NULL, &l, &e), 0);
	assert_int_equal(l.value[OB_LIMIT_DISK], 2ULL << 30);
	const char *bad = "{\"version\": 1, \"capabilities\": [], \"limits\": {\"disk\": 100}}";
	assert_int_equal(ob_capfile_parse(bad, strlen(bad), "t.json", "/", NULL, &l, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "$.limits.disk"));
}

static void test_receive_and_full(void **state)
{
	(void)state;
	int sv[2], fd = -1;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(disk_receive(sv[0], 10, &fd), -ETIMEDOUT);
	int dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(fd_send(sv[1], 'd', &dir, 1), 0);
	assert_int_equal(disk_receive(sv[0], 1000, &fd), 0);
	assert_true(fd >= 0);
	assert_false(disk_is_full(fd)); /* the root file system has room */
	(void)close(fd);
	(void)close(sv[1]);
	assert_int_equal(disk_receive(sv[0], 1000, &fd), -EPIPE);
	(void)close(sv[0]);
	(void)close(dir);
	int r = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	assert_false(disk_is_full(r)); /* no blocks at all: not a disk */
	(void)close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_changed_removed),
	    cmocka_unit_test(test_host_symlinks_not_followed),
	    cmocka_unit_test(test_special_files_skipped),
	    cmocka_unit_test(test_mount_point_not_crossed),
	    cmocka_unit_test(test_mount_points_stay),
	    cmocka_unit_test(test_too_deep),
	    cmocka_unit_test(test_plan_and_decision),
	    cmocka_unit_test(test_limit_text),
	    cmocka_unit_test(test_receive_and_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
