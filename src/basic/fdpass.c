/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "basic/fdpass.h"

#include <errno.h>
#include <stdbool.h>
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

/* Receives one byte (into TAG, if not NULL) with MIN to MAX fds into FDS: how many came, or
 * -errno (-EBADMSG, whatever came closed, for another count). FLAGS: MSG_DONTWAIT or 0. */
static int receive(int sock, char *tag, int *fds, size_t min, size_t max, int flags)
{
	char cbuf[CMSG_SPACE(sizeof(int) * FDPASS_MAX)];
	char byte;
	struct iovec iov;
	struct msghdr msg = fd_message(&iov, &byte, cbuf, FDPASS_MAX);
	ssize_t k;

	if (max > FDPASS_MAX || min > max)
		return -EINVAL;
	while ((k = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | flags)) < 0 && errno == EINTR)
		;
	if (k <= 0)
		return k == 0 ? -EPIPE : -errno;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	bool rights = c && c->cmsg_type == SCM_RIGHTS && c->cmsg_len >= CMSG_LEN(0);
	size_t n = rights ? (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) : 0;
	/* a second control message, or one the kernel cut (MSG_CTRUNC), is not ours either */
	bool more = (msg.msg_flags & MSG_CTRUNC) || (c && CMSG_NXTHDR(&msg, c));
	if ((c && !rights) || more || n < min || n > max ||
	    (rights && c->cmsg_len != CMSG_LEN(sizeof(int) * n))) {
		/* not what was expected: close whatever came */
		for (size_t i = 0; rights && i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			(void)close(fd);
		}
		return -EBADMSG;
	}
	if (n > 0)
		memcpy(fds, CMSG_DATA(c), sizeof(int) * n);
	if (tag)
		*tag = byte;
	return (int)n;
}

int fd_receive(int sock, int *fds, size_t n)
{
	int r = n == 0 ? -EINVAL : receive(sock, NULL, fds, n, n, MSG_DONTWAIT);
	return r < 0 ? r : 0;
}

int fd_receive_some(int sock, int *fds, size_t max)
{
	return receive(sock, NULL, fds, 1, max, MSG_DONTWAIT);
}

int fd_receive_wait(int sock, char *tag, int *fds, size_t max)
{
	return receive(sock, tag, fds, 0, max, 0);
}
