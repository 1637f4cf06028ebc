/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running an OCI bundle with crun, runc or runsc (see backend.h). */
#include "backend.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/macro.h"

static const char *const runtime_names[OB_BACKEND_MAX] = {
    [OB_BACKEND_GVISOR] = "runsc",
    [OB_BACKEND_CRUN] = "crun",
    [OB_BACKEND_RUNC] = "runc",
};

bool backend_find(ob_backend backend, char *path, size_t size)
{
	const char *name = backend > 0 && backend < OB_BACKEND_MAX ? runtime_names[backend] : NULL;
	const char *env = getenv("PATH");
	char dirs[4096];

	path[0] = '\0';
	if (!name)
		return false;
	(void)snprintf(dirs, sizeof(dirs), "%s", env && *env ? env : "/usr/bin:/bin");
	for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d;
	     d = strtok_r(NULL, ":", &save)) {
		(void)snprintf(path, size, "%s/%s", d, name);
		if (d[0] == '/' && access(path, X_OK) == 0)
			return true;
	}
	path[0] = '\0';
	return false;
}

/* Runs ARGV with stdout to OUT (-1: /dev/null) and stderr to /dev/null; its exit status. */
static int run_quietly(char *const argv[], int out)
{
	pid_t pid = fork();
	int status = 0;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		(void)dup2(out >= 0 ? out : null, STDOUT_FILENO);
		(void)dup2(null, STDERR_FILENO);
		(void)dup2(null, STDIN_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -EIO;
}

void backend_version(ob_backend backend, char *buf, size_t size)
{
	char path[4096];
	int p[2];

	buf[0] = '\0';
	if (!backend_find(backend, path, sizeof(path)) || pipe2(p, O_CLOEXEC) < 0)
		return;
	char *argv[] = {path, (char *)"--version", NULL};
	(void)run_quietly(argv, p[1]);
	(void)close(p[1]);
	ssize_t n = read(p[0], buf, size - 1);
	(void)close(p[0]);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/* The runtime's global options: its state under the bundle; gVisor without a network and
 * with the bundle's seccomp filter applied to the program inside. */
static size_t global_args(ob_backend backend, const char *runtime, const char *state, char *argv[])
{
	size_t k = 0;
	argv[k++] = (char *)runtime;
	argv[k++] = (char *)"--root";
	argv[k++] = (char *)state;
	if (backend == OB_BACKEND_GVISOR) {
		argv[k++] = (char *)"--network=none"; /* its own netstack, loopback only */
		argv[k++] = (char *)"--oci-seccomp";  /* else it ignores linux.seccomp */
	}
	return k;
}

int backend_start(ob_backend backend, const char *runtime, const char *dir, const char *id,
                  const int out[2], pid_t *ret)
{
	char state[4096], pidfile[4096];
	char *argv[16];

	(void)snprintf(state, sizeof(state), "%s/state", dir);
	(void)snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
	size_t k = global_args(backend, runtime, state, argv);
	argv[k++] = (char *)"run";
	argv[k++] = (char *)"--bundle";
	argv[k++] = (char *)dir;
	argv[k++] = (char *)"--pid-file";
	argv[k++] = pidfile;
	argv[k++] = (char *)id;
	argv[k] = NULL;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		for (int i = 0; i < 2; i++)
			if (out[i] >= 0 && dup2(out[i], STDOUT_FILENO + i) < 0)
				_exit(125);
		execv(runtime, argv);
		_exit(125);
	}
	*ret = pid;
	return 0;
}

bool backend_started(const char *dir)
{
	char pidfile[4096];
	(void)snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
	return access(pidfile, F_OK) == 0;
}

static void simple_command(ob_backend backend, const char *runtime, const char *dir,
                           const char *const *args)
{
	char state[4096];
	char *argv[12];

	(void)snprintf(state, sizeof(state), "%s/state", dir);
	size_t k = global_args(backend, runtime, state, argv);
	for (; *args && k < ELEMENTSOF(argv) - 1; args++)
		argv[k++] = (char *)*args;
	argv[k] = NULL;
	(void)run_quietly(argv, -1);
}

void backend_kill(ob_backend backend, const char *runtime, const char *dir, const char *id)
{
	const char *const args[] = {"kill", id, "KILL", NULL};
	simple_command(backend, runtime, dir, args);
}

void backend_delete(ob_backend backend, const char *runtime, const char *dir, const char *id)
{
	const char *const args[] = {"delete", "-f", id, NULL};
	simple_command(backend, runtime, dir, args);
}
