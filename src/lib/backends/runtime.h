/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The backends other than native: OCI runtimes (crun, runc) and gVisor (runsc), run on an
 * OCI bundle made from the same plan (oci.h). What each can and cannot provide is in
 * docs/design/backends.md.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "omnibase/omnibase.h"

/* The runtime's executable for BACKEND, found on PATH ("" and false when it is not there). */
bool backend_find(ob_backend backend, char *path, size_t size);
/* Its version line, e.g. "crun version 1.8.1" ("" when it cannot tell). */
void backend_version(ob_backend backend, char *buf, size_t size);

/* Starts "RUNTIME run" of the bundle DIR as container ID, its state under DIR/state, its
 * container's pid written to DIR/pid once started, with stdin, stdout and stderr on STDIO:
 * pipes of ours, never the caller's own descriptors (every runtime fchown()s its stdio to the
 * container's ids; -EBADF when one is missing). NETNS: the bundle joins a network namespace of
 * ours; TRACE (gVisor): the FIFO runsc writes its strace log to (gvtrace.h), or NULL. The
 * runtime's pid in *RET. */
int backend_start(ob_backend backend, const char *runtime, const char *dir, const char *id,
                  bool netns, const char *trace, const int stdio[3], pid_t *ret);
/* Did the container start (its pid file was written)? A runtime that ends without it
 * failed before the program ran: exit 125, not the program's status. */
bool backend_started(const char *dir);
/* A network namespace with only loopback, up, and the egress proxy's listener on its
 * 127.0.0.1:PROXY_PORT, for a container to join: *NETNS an fd on it (the container's
 * config names /proc/self-of-the-supervisor/fd/N), *LISTENER the proxy's socket. */
int backend_netns_create(int *netns, int *listener);

/* omnibase-exec, the Landlock helper the OCI runtimes run first: beside the running program
 * (the build tree, a CLI installed with it), else where it is installed. */
bool backend_exec_helper(char *path, size_t size);
/* omnibase-loader, gVisor's stand-in for the dynamic loader (src/cli/loader-shim.c), found
 * the same way; only x86_64 builds have it. */
bool backend_loader_shim(char *path, size_t size);

/* Kills the container's processes (the timeout), and waits for the runtime's kill. */
void backend_kill(ob_backend backend, const char *runtime, const char *dir, const char *id);
/* Removes what the runtime left of the container. */
void backend_delete(ob_backend backend, const char *runtime, const char *dir, const char *id);
