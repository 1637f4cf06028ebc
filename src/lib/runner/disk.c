/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The disk limit of a run: what the supervisor does with the overlays' tmpfs (disk.h). */
#include "runner/disk.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backends/runtime.h"
#include "basic/error.h"
#include "basic/fdpass.h"
#include "basic/macro.h"
#include "runner/mount-api.h"
#include "runner/run.h"
#include "runner/writeback.h"

int disk_receive(int sock, int timeout_ms, int *ret_fd)
{
	struct pollfd pfd = {.fd = sock, .events = POLLIN};

	int n = poll(&pfd, 1, timeout_ms);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	return fd_receive(sock, ret_fd, 1);
}

bool disk_is_full(int fd)
{
	struct statvfs sv;

	return fstatvfs(fd, &sv) == 0 && sv.f_blocks > 0 && (sv.f_bavail == 0 || sv.f_favail == 0);
}

int disk_open_hosts(Run *run, ob_error *reterr)
{
	const Plan *p = &run->plan;
	struct ob_open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
	                          .resolve = RESOLVE_NO_SYMLINKS};

	if (p->n_overlays == 0)
		return 0;
	run->disk_hosts = malloc(p->n_overlays * sizeof(int));
	if (!run->disk_hosts)
		return ob_error_set(reterr, -ENOMEM, "out of memory");
	for (unsigned i = 0; i < p->n_overlays; i++)
		run->disk_hosts[i] = -1;
	for (size_t i = 0; i < p->n_steps; i++) {
		const MountStep *s = &p->steps[i];
		if (!s->overlay)
			continue;
		int fd = (int)syscall(SYS_openat2, AT_FDCWD, s->src, &how, sizeof(how));
		if (fd < 0)
			return ob_error_set(reterr, -errno, "%s: %s", s->src, strerror(errno));
		run->disk_hosts[s->overlay - 1] = fd;
	}
	return 0;
}

void disk_done(Run *run)
{
	for (unsigned i = 0; run->disk_hosts && i < run->plan.n_overlays; i++)
		if (run->disk_hosts[i] >= 0)
			(void)close(run->disk_hosts[i]);
	free(run->disk_hosts);
	run->disk_hosts = NULL;
	if (run->disk_fd >= 0)
		(void)close(run->disk_fd);
	run->disk_fd = run->plan.disk_fd = -1;
}

/* The upper layer of STEP written back into its host directory HOST; a message in BUF
 * (SIZE) when something was not. */
static void write_back_step(const Plan *p, const MountStep *s, int disk_fd, int host, char *buf,
                            size_t size)
{
	char upper_path[32];
	Writeback wb = {.uid = p->id_base ? p->outer_uid : (uid_t)-1,
	                .gid = p->id_base ? p->outer_gid : (gid_t)-1};

	(void)snprintf(upper_path, sizeof(upper_path), "%u/u", s->overlay);
	_cleanup_close_ int upper =
	    openat(disk_fd, upper_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (upper < 0 || host < 0) {
		(void)snprintf(buf, size, "%s: not written back: %s", s->src, strerror(errno));
		return;
	}
	writeback_tree(upper, host, &wb);
	if (wb.error)
		(void)snprintf(buf, size, "%s: %s not written back: %s", s->src, wb.first,
		               strerror(-wb.error));
	else if (wb.skipped)
		(void)snprintf(buf, size,
		               "%s: %u entries not written back (devices, FIFOs, or deeper "
		               "than %d), the first %s",
		               s->src, wb.skipped, WRITEBACK_MAX_DEPTH, wb.first);
}

void disk_receive_native(Run *run, int sock)
{
	if (run->plan.n_overlays == 0)
		return;
	/* a child that failed before sending it says why on the report pipe */
	(void)disk_receive(sock, (int)MIN(run->plan.limits.value[OB_LIMIT_TIMEOUT], INT_MAX),
	                   &run->disk_fd);
	run->plan.disk_fd = run->disk_fd;
	disk_check_overlays(run);
}

void disk_check_overlays(Run *run)
{
	const Plan *p = &run->plan;
	char path[32], text[16];

	for (size_t i = 0; run->disk_fd >= 0 && i < p->n_steps; i++) {
		const MountStep *s = &p->steps[i];
		if (!s->overlay)
			continue;
		(void)snprintf(path, sizeof(path), "%u/failed", s->overlay);
		_cleanup_close_ int fd =
		    openat(run->disk_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);
		if (n <= 0 || run->disk_degraded[0])
			continue;
		text[n] = '\0';
		(void)snprintf(
		    run->disk_degraded, sizeof(run->disk_degraded),
		    "%s: the overlay of --limit disk could not be mounted (%s): what the "
		    "program writes there reaches the host unbounded; --allow-degraded",
		    s->src, strerror(atoi(text)));
	}
}

void disk_signals_begin(Run *run)
{
	sigset_t set;

	if (run->plan.n_overlays == 0 || run->disk_fd < 0)
		return;
	(void)sigemptyset(&set);
	(void)sigaddset(&set, SIGINT);
	(void)sigaddset(&set, SIGTERM);
	(void)sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, &run->disk_oldmask) != 0)
		return;
	run->disk_sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (run->disk_sigfd < 0) /* then as before: the default action, writes lost */
		(void)pthread_sigmask(SIG_SETMASK, &run->disk_oldmask, NULL);
}

/* A signal that asked omnibase to stop: the sandbox ends now (the kernel kills the rest of
 * its pid namespace with PID 1, or the runtime its container), the write-back follows. */
static void disk_stop_on_signal(Run *run)
{
	struct signalfd_siginfo si;

	if (run->disk_sigfd < 0 || run->disk_signal ||
	    read(run->disk_sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return;
	run->disk_signal = (int)si.ssi_signo;
	if (run->sb->backend == OB_BACKEND_NATIVE)
		(void)kill(run->pid, SIGKILL);
	else
		backend_kill(run->sb->backend, run->runtime, run->bundle.dir, run->container);
}

void disk_signals_end(Run *run)
{
	if (run->disk_sigfd < 0)
		return;
	(void)close(run->disk_sigfd);
	run->disk_sigfd = -1;
	/* what came after the last look is delivered now, by whatever the caller had */
	(void)pthread_sigmask(SIG_SETMASK, &run->disk_oldmask, NULL);
	if (run->disk_signal)
		(void)raise(run->disk_signal);
}

void disk_watch(Run *run)
{
	disk_stop_on_signal(run);
	if (run->disk_fd >= 0 && !run->disk_hit)
		run->disk_hit = disk_is_full(run->disk_fd);
}

/* A writable file granted alone (RLIMIT_FSIZE bounds it, spawn.c) grown to the limit. */
static bool file_grant_full(const Plan *p)
{
	struct stat st;

	for (size_t i = 0; i < p->n_steps; i++) {
		const MountStep *s = &p->steps[i];
		if (s->kind == STEP_BIND && s->idmap && !s->src_is_dir && !(s->flags & MS_RDONLY) &&
		    stat(s->src, &st) == 0 &&
		    (uint64_t)st.st_size >= p->limits.value[OB_LIMIT_DISK])
			return true;
	}
	return false;
}

void run_finish_disk(Run *run)
{
	const Plan *p = &run->plan;

	/* one event however the limit was reached */
	if (file_grant_full(p) || run->disk_hit ||
	    (run->disk_fd >= 0 && disk_is_full(run->disk_fd)))
		run_on_limit(run, OB_LIMIT_DISK);
	if (p->n_overlays == 0)
		return;
	if (run->disk_fd < 0) {
		/* the child failed before it sent the tmpfs: nothing ran, nothing to write */
		if (run->got_exit && !run->got_failure)
			(void)snprintf(run->disk_error, sizeof(run->disk_error),
			               "disk: the overlays' upper layers were not received: the "
			               "program's writes through --workdir are lost");
		return;
	}
	for (size_t i = 0; i < p->n_steps; i++) {
		const MountStep *s = &p->steps[i];
		char ignored[8];
		if (!s->overlay)
			continue;
		int host = run->disk_hosts ? run->disk_hosts[s->overlay - 1] : -1;
		/* the first failure is said; the rest is written back all the same */
		if (!run->disk_error[0])
			write_back_step(p, s, run->disk_fd, host, run->disk_error,
			                sizeof(run->disk_error));
		else
			write_back_step(p, s, run->disk_fd, host, ignored, sizeof(ignored));
	}
	disk_done(run);
}
