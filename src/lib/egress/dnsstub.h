/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sandbox's DNS stub (transparent egress): the sandbox's PID 1 binds UDP and TCP sockets
 * on the sandbox's own 127.0.0.1:53 (its /etc/resolv.conf names them) and hands them to the
 * supervisor, which answers here: A and AAAA for names a grant covers, resolved on the host;
 * REFUSED (and a CapabilityDenied) for the others. It remembers which addresses each granted
 * name resolved to, so that a connect to one can be attributed to its name (tconnect.c).
 */
#pragma once

#include <stdbool.h>
#include <sys/socket.h>

#include "omnibase/omnibase.h"

#define DNS_PORT 53

typedef struct DnsStub DnsStub;

typedef struct DnsReport {
	/* a refused lookup: NAME as asked, WHY for the event */
	void (*deny)(void *userdata, const char *name, const char *why);
	void *userdata;
} DnsReport;

/* Takes UDP and TCP (either may be -1). CAPS and CTX are borrowed for the stub's lifetime. */
int dnsstub_new(int udp, int tcp, const ob_capset *caps, const ob_context *ctx,
                const DnsReport *report, DnsStub **ret);
void dnsstub_free(DnsStub *s);
/* An fd to poll for input (an epoll fd): readable when the stub has work. */
int dnsstub_fd(const DnsStub *s);
/* Answers what can be answered now (never blocks). */
void dnsstub_dispatch(DnsStub *s);
/* The granted names that resolved to the address of SA (port ignored), one per call: start
 * with *ITER = 0; NULL when there are no more. */
const char *dnsstub_name_for(const DnsStub *s, const struct sockaddr *sa, size_t *iter);
/* Queries answered and refused, for the exit event. */
void dnsstub_stats(const DnsStub *s, uint64_t *answered, uint64_t *refused);
