/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Egress decisions (NETWORK_CONNECT issue): whether a connection the sandbox asks for may be
 * made, in two stages — the target as the client named it (a host name or an IP literal,
 * and a port), then each address that name resolved to. Used by the egress proxy and the
 * transparent connect path alike; no I/O here.
 */
#pragma once

#include <stdbool.h>
#include <sys/socket.h>

#include "omnibase/omnibase.h"

typedef struct EgressDecision {
	bool allow;
	const ob_capability *grant; /* the grant that allowed it, or NULL */
	/* The grant names the host itself (an exact name, a single address), not a wildcard,
	 * a domain suffix or a network: only then may a name lead to a special address. */
	bool explicit_grant;
	char why[160]; /* for events and refusals */
} EgressDecision;

/* Stage 1: HOST (a name or an IP literal, as asked) and PORT against the NETWORK_CONNECT
 * grants and the host:port of DATABASE_* URL grants (any scheme: the proxy sees bytes, not
 * protocols), active in CTX. -EINVAL for a malformed host or port (D->why says why). */
int egress_check_target(const ob_capset *caps, const ob_context *ctx, const char *host,
                        unsigned port, EgressDecision *d);

/* For the DNS stub: may NAME be resolved at all — does an active grant cover it at some
 * port? (Its connects are checked with their ports.) -EINVAL for a name that is not one
 * (an IP literal, a malformed name). */
int egress_check_name(const ob_capset *caps, const ob_context *ctx, const char *name,
                      EgressDecision *d);

/* Loopback, link-local (cloud metadata lives there), private (RFC 1918, ULA), shared
 * (100.64/10), unspecified, multicast and broadcast addresses; WHAT names the range. */
bool egress_address_is_special(const struct sockaddr *sa, const char **what);

/* Is SA a loopback address (127/8, ::1, or 127/8 v4-mapped)? */
bool egress_address_is_loopback(const struct sockaddr *sa);

/* SA as "1.2.3.4:80" or "[::1]:80" (for events); "?" for other families. */
void egress_format_address(const struct sockaddr *sa, char *buf, size_t size);

/* Stage 2: may the connection go to SA, an address the target of NAME (stage 1's decision)
 * resolved to, or the literal asked? A special address needs a grant naming it by IP or
 * network, or a grant naming the host explicitly. */
bool egress_check_address(const ob_capset *caps, const ob_context *ctx, const EgressDecision *name,
                          const struct sockaddr *sa, unsigned port, EgressDecision *d);
