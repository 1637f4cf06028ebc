/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "basic/fdpass.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One byte at BYTE, room for N fds in CBUF. */
static struct msghdr fd_message(struct iovec *iov, char *byte, char *cbuf, size_t n)
{
	*iov = (struct iovec){.iov_base = byte, .iov_len = 1};
	return (struct msghdr){.msg_iov = iov,
	                       .msg_iovlen = 1,
	                       .msg_control = cbuf,
	                       .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
}

int fd_send(int sock, char tag, const int *fds, size_t n)
{
	char cbuf[CMSG_SPACE(sizeof(int) * FDPASS_MAX)] = {0};
	struct iovec iov;
	struct msghdr msg = fd_message(&iov, &tag, cbuf, n);

	if (n == 0 || n > FDPASS_MAX)
		return -EINVAL;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

/* Receives 1 to MAX fds into FDS: how many came, or -errno. */
static int receive(int sock, int *fds, size_t min, size_t max)
{
	char cbuf[CMSG_SPACE(sizeof(int) * FDPASS_MAX)];
	char byte;
	struct iovec iov;
	struct msghdr msg = fd_message(&iov, &byte, cbuf, max);

	if (min == 0 || max > FDPASS_MAX || min > max)
		return -EINVAL;
	ssize_t k = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (k <= 0)
		return k == 0 ? -EPIPE : -errno;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	size_t n = c && c->cmsg_type == SCM_RIGHTS && c->cmsg_len >= CMSG_LEN(0)
	               ? (c->cmsg_len - CMSG_LEN(0)) / sizeof(int)
	               : 0;
	if (!c || c->cmsg_type != SCM_RIGHTS || n < min || n > max ||
	    c->cmsg_len != CMSG_LEN(sizeof(int) * n)) {
		/* not what was expected: close whatever came */
		for (size_t i = 0; c && c->cmsg_type == SCM_RIGHTS &&
		                   i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		     i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			(void)close(fd);
		}
		return -EBADMSG;
	}
	memcpy(fds, CMSG_DATA(c), sizeof(int) * n);
	return (int)n;
}

int fd_receive(int sock, int *fds, size_t n)
{
	int r = receive(sock, fds, n, n);
	return r < 0 ? r : 0;
}

int fd_receive_some(int sock, int *fds, size_t max)
{
	return receive(sock, fds, 1, max);
}
