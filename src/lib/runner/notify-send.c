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
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

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
		return false; /* unix: unix_refused; abstract ones stay in the sandbox's network
		                 namespace */
	const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
	bool loopback = egress_address_is_loopback((const struct sockaddr *)ss);
	if (loopback && (!n->plan->transparent || ntohs(in->sin_port) == DNS_PORT))
		return false;
	egress_format_address((const struct sockaddr *)ss, res, sizeof(res));
	n->deny(n->userdata, "NETWORK_CONNECT", res, op, proc_inner_pid(req->pid));
	return true;
}

/* Reads the address NAME (LEN bytes) of the trapping process into SS: the bytes read, 0 when
 * there is none or it cannot be read (the kernel will say EFAULT). */
static size_t read_name(Notifier *n, const struct seccomp_notif *req, uint64_t name, uint64_t len,
                        struct sockaddr_storage *ss)
{
	*ss = (struct sockaddr_storage){0};
	if (name == 0 || len < sizeof(sa_family_t))
		return 0;
	ssize_t k = notify_read_mem(n, req->pid, name, ss, MIN((size_t)len, sizeof(*ss)));
	return k < (ssize_t)sizeof(sa_family_t) ? 0 : (size_t)k;
}

static uint64_t fnv1a(uint64_t h, const void *buf, size_t size)
{
	const unsigned char *p = buf;
	for (size_t i = 0; i < size; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

#define FNV_START 0xcbf29ce484222325ULL

static void refuse(Notifier *n, Reply *rep)
{
	/* without the transparent path the empty namespace refuses it (ENETUNREACH) */
	if (n->plan->transparent)
		*rep = (Reply){.emulated = true, .error = -EACCES, .addfd = -1};
}

/* Is the program's socket (its fd args[0]) a unix datagram one? A stream or seqpacket socket
 * refuses a send's unix address itself (EOPNOTSUPP, EISCONN), an internet one any unix
 * address (EAFNOSUPPORT). */
static bool datagram_socket(Notifier *n, const struct seccomp_notif *req)
{
	_cleanup_close_ int s = notify_grab_socket(n, req, AF_UNIX, SOCK_DGRAM, 0);
	return s >= 0;
}

/* A unix pathname destination SS (LEN bytes), decided as a connect to it is (notify-unix.c:
 * the sandbox's own sockets, host sockets a unix: grant names): true when refused, answered
 * into REP (EACCES, or ENOENT for a hidden one) and recorded with OP. */
static bool unix_refused(Notifier *n, const struct seccomp_notif *req,
                         const struct sockaddr_storage *ss, size_t len, const char *op, Reply *rep)
{
	int error = 0;

	if (ss->ss_family != AF_UNIX || !datagram_socket(n, req) ||
	    notify_unix_judge(n, req, ss, len, op, &error) != 1 || error == 0)
		return false;
	*rep = (Reply){.emulated = true, .error = error, .addfd = -1};
	return true;
}

/* The send's address NAME (LEN bytes), judged: refused (recorded, answered by refuse), or
 * left to the kernel, which reads it again — read once more here just before, as the opens
 * left to it are (notify.c: path_swapped); one that changed is another thread swapping it,
 * refused and recorded (the window after this read stays). */
static void judge_name(Notifier *n, const struct seccomp_notif *req, uint64_t name, uint64_t len,
                       const char *op, Reply *rep)
{
	struct sockaddr_storage ss, now;
	size_t k = read_name(n, req, name, len, &ss);

	if (k == 0 || unix_refused(n, req, &ss, k, op, rep))
		return;
	if (destination_refused(n, req, &ss, op))
		refuse(n, rep);
	else if (read_name(n, req, name, len, &now) == k && memcmp(&now, &ss, k) != 0)
		notify_swap_refused(n, req, "address", rep);
}

void notify_sendto(Notifier *n, const struct seccomp_notif *req, Reply *rep)
{
	if (req->data.args[3] & MSG_FASTOPEN) {
		notify_violation(n, req, rep);
		return;
	}
	judge_name(n, req, req->data.args[4], req->data.args[5], "sendto", rep);
}

/* sendmmsg's VLEN messages at ADDR, every address read taken into *HASH; with JUDGE, the
 * first whose destination is refused recorded (true; the kernel stops at a message it refuses
 * too, so the later ones are not looked at). */
static bool mmsg_pass(Notifier *n, const struct seccomp_notif *req, uint64_t addr, size_t vlen,
                      bool judge, uint64_t *hash, Reply *rep)
{
	struct mmsghdr batch[SEND_BATCH];
	struct sockaddr_storage ss;

	vlen = MIN(vlen, (size_t)SEND_MAX_MESSAGES);
	for (size_t i = 0; i < vlen; i += SEND_BATCH) {
		size_t k = MIN((size_t)SEND_BATCH, vlen - i);
		ssize_t got = notify_read_mem(n, req->pid, addr + i * sizeof(batch[0]), batch,
		                              k * sizeof(batch[0]));
		if (got <= 0)
			return false;
		k = MIN(k, (size_t)got / sizeof(batch[0]));
		for (size_t j = 0; j < k; j++) {
			size_t len =
			    read_name(n, req, (uint64_t)(uintptr_t)batch[j].msg_hdr.msg_name,
			              batch[j].msg_hdr.msg_namelen, &ss);
			*hash = fnv1a(fnv1a(*hash, &len, sizeof(len)), &ss, len);
			if (judge && len &&
			    (unix_refused(n, req, &ss, len, "sendmmsg", rep) ||
			     destination_refused(n, req, &ss, "sendmmsg")))
				return true;
		}
		if (k < SEND_BATCH)
			return false; /* the rest unreadable: the kernel's EFAULT */
	}
	return false;
}

/* sendmsg's msghdr (at args[1]): msg_name and msg_namelen; false when unreadable. */
static bool read_header(Notifier *n, const struct seccomp_notif *req, uint64_t *name, uint32_t *len)
{
	unsigned char h[sizeof(void *) + sizeof(socklen_t)];
	_Static_assert(offsetof(struct msghdr, msg_namelen) == sizeof(void *),
	               "msg_name, then msg_namelen");

	if (notify_read_mem(n, req->pid, req->data.args[1], h, sizeof(h)) != (ssize_t)sizeof(h))
		return false;
	memcpy(name, h, sizeof(*name));
	memcpy(len, h + sizeof(void *), sizeof(*len));
	return true;
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
		/* judged, then read once more (judge_name) */
		uint64_t before = FNV_START, after = FNV_START;
		if (mmsg_pass(n, req, a[1], (size_t)a[2], true, &before, rep)) {
			if (!rep->emulated) /* an internet address; a unix one is answered */
				refuse(n, rep);
			return;
		}
		(void)mmsg_pass(n, req, a[1], (size_t)a[2], false, &after, rep);
		if (before != after)
			notify_swap_refused(n, req, "address", rep);
		return;
	}
	/* The common case — a connected socket, unix-socket IPC — has no name: the header's
	 * first two fields read, then read once more before "continue" (a msg_name swapped in
	 * from NULL, or to another buffer, is a swap too). */
	uint64_t name, now;
	uint32_t len, now_len;
	if (!read_header(n, req, &name, &len))
		return;
	judge_name(n, req, name, len, "sendmsg", rep);
	if (!rep->emulated && read_header(n, req, &now, &now_len) &&
	    (now != name || now_len != len))
		notify_swap_refused(n, req, "address", rep);
}
