/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The destinations of sends (docs/design/runner.md "Observed denials"): sendto with an address
 * (the filter lets the others through), and every sendmsg and sendmmsg — their address is in
 * memory behind msg_name, out of a filter's reach, so each one is a round trip. Datagrams go
 * only to the sandbox's own loopback; with the transparent path only to its DNS stub. A refused
 * destination is a CapabilityDenied (NETWORK_CONNECT, the address, operation the call's name);
 * with the transparent path the call is answered EACCES, without it "continue" (the empty
 * network namespace answers ENETUNREACH). TCP Fast Open (a connect inside a send) is refused
 * outright: it would connect around the trap.
 *
 * The kernel reads msg_name again after "continue": a thread that swaps it after the look can
 * erase or mislabel the record, never reach a host. A datagram socket is always the
 * sandbox's (no UDP socket is ever handed in: tconnect.c), whose namespace has only loopback;
 * a handed-in host socket is TCP (or MPTCP), which ignores a send's address.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "basic/macro.h"
#include "basic/procfs.h"
#include "egress/dnsstub.h"
#include "egress/egress.h"
#include "runner/notify.h"

/* sendmmsg looks at this many messages at most: the kernel's own cap (UIO_MAXIOV). */
#define SEND_MAX_MESSAGES 1024
/* and reads them in batches of this many */
#define SEND_BATCH 32

/* Is the destination SS (LEN bytes, as read from the program) refused? Recorded with OP. */
static bool destination_refused(Notifier *n, const struct seccomp_notif *req,
                                const struct sockaddr_storage *ss, const char *op)
{
	char res[INET6_ADDRSTRLEN + 16];

	if (ss->ss_family != AF_INET && ss->ss_family != AF_INET6)
		return false; /* unix: the kernel resolves it in the sandbox (egress.md, "Not
		                 covered") */
	const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
	bool loopback = egress_address_is_loopback((const struct sockaddr *)ss);
	if (loopback && (!n->plan->transparent || ntohs(in->sin_port) == DNS_PORT))
		return false;
	egress_format_address((const struct sockaddr *)ss, res, sizeof(res));
	n->deny(n->userdata, "NETWORK_CONNECT", res, op, proc_inner_pid(req->pid));
	return true;
}

/* Reads the address NAME (LEN bytes) of the trapping process and judges it; false when it
 * cannot be read (the kernel will say EFAULT). */
static bool name_refused(Notifier *n, const struct seccomp_notif *req, uint64_t name, uint64_t len,
                         const char *op)
{
	struct sockaddr_storage ss = {0};

	if (name == 0 || len < sizeof(sa_family_t))
		return false;
	if (notify_read_mem(n, req->pid, name, &ss, MIN((size_t)len, sizeof(ss))) <
	    (ssize_t)sizeof(sa_family_t))
		return false;
	return destination_refused(n, req, &ss, op);
}

static void refuse(Notifier *n, Reply *rep)
{
	/* without the transparent path the empty namespace refuses it (ENETUNREACH) */
	if (n->plan->transparent)
		*rep = (Reply){.emulated = true, .error = -EACCES, .addfd = -1};
}

void notify_sendto(Notifier *n, const struct seccomp_notif *req, Reply *rep)
{
	if (req->data.args[3] & MSG_FASTOPEN) {
		notify_violation(n, req, rep);
		return;
	}
	if (name_refused(n, req, req->data.args[4], req->data.args[5], "sendto"))
		refuse(n, rep);
}

/* The first message of sendmmsg's VLEN at ADDR whose destination is refused: true. The
 * kernel stops at a message it refuses too, so the later ones are not looked at. */
static bool mmsg_refused(Notifier *n, const struct seccomp_notif *req, uint64_t addr, size_t vlen)
{
	struct mmsghdr batch[SEND_BATCH];

	vlen = MIN(vlen, (size_t)SEND_MAX_MESSAGES);
	for (size_t i = 0; i < vlen; i += SEND_BATCH) {
		size_t k = MIN((size_t)SEND_BATCH, vlen - i);
		ssize_t got = notify_read_mem(n, req->pid, addr + i * sizeof(batch[0]), batch,
		                              k * sizeof(batch[0]));
		if (got <= 0)
			return false;
		k = MIN(k, (size_t)got / sizeof(batch[0]));
		for (size_t j = 0; j < k; j++)
			if (name_refused(n, req, (uint64_t)(uintptr_t)batch[j].msg_hdr.msg_name,
			                 batch[j].msg_hdr.msg_namelen, "sendmmsg"))
				return true;
		if (k < SEND_BATCH)
			return false; /* the rest unreadable: the kernel's EFAULT */
	}
	return false;
}

void notify_sendmsg(Notifier *n, const struct seccomp_notif *req, Reply *rep)
{
	const __u64 *a = req->data.args;
	bool many = req->data.nr == __NR_sendmmsg;

	if (a[many ? 3 : 2] & MSG_FASTOPEN) {
		notify_violation(n, req, rep);
		return;
	}
	if (many) {
		if (mmsg_refused(n, req, a[1], (size_t)a[2]))
			refuse(n, rep);
		return;
	}
	/* The common case — a connected socket, unix-socket IPC — has no name: one read of the
	 * header's first two fields, then "continue". */
	struct {
		uint64_t name;
		uint32_t len;
	} h;
	_Static_assert(offsetof(struct msghdr, msg_namelen) == sizeof(void *),
	               "msg_name, then msg_namelen");
	if (notify_read_mem(n, req->pid, a[1], &h,
	                    offsetof(struct msghdr, msg_namelen) + sizeof(socklen_t)) <
	    (ssize_t)(sizeof(void *) + sizeof(socklen_t)))
		return;
	if (name_refused(n, req, h.name, h.len, "sendmsg"))
		refuse(n, rep);
}
