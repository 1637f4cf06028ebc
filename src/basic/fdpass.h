/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* File descriptors handed over a unix socket (SCM_RIGHTS): one byte, up to FDPASS_MAX fds. */
#pragma once

#include <stddef.h>

#define FDPASS_MAX 4

/* Sends the N fds of FDS (1..FDPASS_MAX) with the byte TAG over SOCK; never SIGPIPE. Usable
 * after clone (no allocation). 0 or -errno (-EINVAL for N out of range). */
int fd_send(int sock, char tag, const int *fds, size_t n);
/* Receives exactly N fds (close-on-exec) into FDS without blocking: -EBADMSG (and whatever
 * came closed) when the message holds another count, -EPIPE when the peer is gone. */
int fd_receive(int sock, int *fds, size_t n);
/* Like fd_receive, for a message of 1 to MAX fds: how many came (into FDS), or -errno. */
int fd_receive_some(int sock, int *fds, size_t max);
/* Waits for one byte (into TAG) and 0 to MAX fds with it (into FDS). Usable after clone. The
 * number of fds, or -errno (-EPIPE: the peer is gone; -EBADMSG: more than MAX, closed). */
int fd_receive_wait(int sock, char *tag, int *fds, size_t max);
