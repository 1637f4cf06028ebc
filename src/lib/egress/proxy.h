/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The egress proxy (NETWORK_CONNECT): the sandbox's PID 1 creates a listening socket on the
 * sandbox's own 127.0.0.1:PROXY_PORT and hands it to the supervisor, which accepts there and
 * connects out from the host's network namespace, after egress.c's checks. One port speaks
 * HTTP forward proxying, HTTP CONNECT and SOCKS5 (told apart by the first byte).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "omnibase/omnibase.h"

#define PROXY_PORT 3128

typedef struct Proxy Proxy;

/* What the proxy reports. Any callback may be NULL. */
typedef struct ProxyReport {
	/* a refused connection: RESOURCE is "host:port" as asked */
	void (*deny)(void *userdata, const char *capability, const char *resource, const char *why);
	/* a connection made: RESOURCE as asked, ADDRESS the peer connected to ("ip:port") */
	void (*allow)(void *userdata, const char *resource, const char *address);
	/* a cap reached (once per run each): OB_LIMIT_CONNECTIONS or OB_LIMIT_EGRESS */
	void (*limit)(void *userdata, ob_limit limit);
	void *userdata;
} ProxyReport;

typedef struct ProxyLimits {
	unsigned max_connections; /* concurrent */
	uint64_t max_bytes;       /* both directions, per run */
	unsigned idle_ms;         /* a connection silent this long is closed */
	unsigned head_ms;         /* a client must say where to within this */
} ProxyLimits;

/* Takes LISTENER (the fd PID 1 sent). CAPS and CTX are borrowed for the proxy's lifetime. */
int proxy_new(int listener, const ob_capset *caps, const ob_context *ctx, const ProxyLimits *limits,
              const ProxyReport *report, Proxy **ret);
void proxy_free(Proxy *p);
/* An fd to poll for input (an epoll fd): readable when the proxy has work. */
int proxy_fd(const Proxy *p);
/* Is the listener's accept queue full (a new connect to it would wait for a SYN resent)? */
bool proxy_backlog_full(const Proxy *p);
/* Does the work pending (never blocks). */
void proxy_dispatch(Proxy *p);
/* Totals, for the exit event. */
void proxy_stats(const Proxy *p, uint64_t *connections, uint64_t *bytes_out, uint64_t *bytes_in);
