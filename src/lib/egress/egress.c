/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Egress decisions (see egress.h and docs/design/egress.md). A name is checked as the client
 * gave it, then every address it resolves to: a wildcard grant such as "*.example.com" must
 * not become a way to reach 169.254.169.254 or the host's own services by a name that an
 * attacker's DNS points there.
 */
#include "egress/egress.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "basic/macro.h"
#include "model/capability.h"
#include "model/pattern.h"

/* Does grant C cover the host request R? NETWORK_CONNECT host patterns, and the host:port of
 * database URLs; only active grants. */
static bool grant_covers(const ob_capability *c, const ob_context *ctx, const HostRequest *r)
{
	bool net = c->type == OB_CAP_NETWORK_CONNECT && c->kind == RES_HOST;
	bool db = (c->type == OB_CAP_DATABASE_READ || c->type == OB_CAP_DATABASE_WRITE) &&
	          c->kind == RES_URL;
	return (net || db) && ob_capability_is_active(c, ctx) && host_pattern_match(&c->host, r);
}

/* A grant that names one host: an exact name, or one address (not a network). */
static bool grant_is_explicit(const ob_capability *c)
{
	const HostPattern *h = &c->host;
	return h->kind == HOST_NAME || (h->kind == HOST_IP && h->bits == (h->v4 ? 32 : 128));
}

/* The best grant for R: an explicit one if any, else the first that covers it. */
static const ob_capability *best_grant(const ob_capset *caps, const ob_context *ctx,
                                       const HostRequest *r)
{
	const ob_capability *found = NULL;

	for (size_t i = 0; caps && i < ob_capset_size(caps); i++) {
		const ob_capability *c = ob_capset_get(caps, i);
		if (!grant_covers(c, ctx, r))
			continue;
		if (grant_is_explicit(c))
			return c;
		if (!found)
			found = c;
	}
	return found;
}

int egress_check_name(const ob_capset *caps, const ob_context *ctx, const char *name,
                      EgressDecision *d)
{
	HostRequest r;
	const char *msg = NULL;

	*d = (EgressDecision){0};
	int e = host_request_parse(&r, name, strlen(name), 1, &msg);
	if (e < 0 || r.is_ip) {
		(void)snprintf(d->why, sizeof(d->why), "not a host name: '%.100s'", name);
		return e < 0 ? e : -EINVAL;
	}
	for (size_t i = 0; caps && i < ob_capset_size(caps); i++) {
		const ob_capability *c = ob_capset_get(caps, i);
		r.port = c->host.port ? c->host.port : 1; /* the grant's port, whichever it is */
		if (!grant_covers(c, ctx, &r))
			continue;
		if (!d->grant || grant_is_explicit(c))
			d->grant = c;
		if (grant_is_explicit(c))
			break;
	}
	d->allow = d->grant != NULL;
	d->explicit_grant = d->grant && grant_is_explicit(d->grant);
	(void)snprintf(d->why, sizeof(d->why), "%.140s",
	               d->allow ? ob_capability_resource(d->grant) : "no grant names this host");
	return 0;
}

int egress_check_target(const ob_capset *caps, const ob_context *ctx, const char *host,
                        unsigned port, EgressDecision *d)
{
	HostRequest r;
	const char *msg = NULL;
	char what[300];

	*d = (EgressDecision){0};
	int e = host_request_parse(&r, host, strlen(host), port, &msg);
	if (e < 0) {
		(void)snprintf(d->why, sizeof(d->why), "bad target '%.100s:%u': %s", host, port,
		               msg ? msg : "malformed");
		return e;
	}
	host_request_format(&r, what, sizeof(what));
	d->grant = best_grant(caps, ctx, &r);
	d->allow = d->grant != NULL;
	d->explicit_grant = d->grant && grant_is_explicit(d->grant);
	if (d->allow)
		(void)snprintf(d->why, sizeof(d->why), "%.140s", ob_capability_resource(d->grant));
	else
		(void)snprintf(d->why, sizeof(d->why), "no NETWORK_CONNECT grant covers %.120s",
		               what);
	return 0;
}

/* ADDR (host byte order for v4) within BITS of PREFIX? */
static bool v4_in(uint32_t addr, uint32_t prefix, unsigned bits)
{
	return bits == 0 || (addr >> (32 - bits)) == (prefix >> (32 - bits));
}

static const char *special_v4(uint32_t a)
{
	static const struct {
		uint32_t prefix;
		unsigned bits;
		const char *what;
	} ranges[] = {
	    {0x00000000, 8, "unspecified (0/8)"},    {0x7f000000, 8, "loopback"},
	    {0xa9fe0000, 16, "link-local"},          {0x0a000000, 8, "private (10/8)"},
	    {0xac100000, 12, "private (172.16/12)"}, {0xc0a80000, 16, "private (192.168/16)"},
	    {0x64400000, 10, "shared (100.64/10)"},  {0xe0000000, 4, "multicast"},
	    {0xf0000000, 4, "reserved (240/4)"},
	};
	for (size_t i = 0; i < ELEMENTSOF(ranges); i++)
		if (v4_in(a, ranges[i].prefix, ranges[i].bits))
			return ranges[i].what;
	return NULL;
}

bool egress_address_is_special(const struct sockaddr *sa, const char **what)
{
	const char *w = NULL;

	if (sa->sa_family == AF_INET) {
		w = special_v4(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a)) {
			uint32_t v4;
			memcpy(&v4, &a->s6_addr[12], 4);
			w = special_v4(ntohl(v4));
		} else if (IN6_IS_ADDR_UNSPECIFIED(a)) {
			w = "unspecified (::)";
		} else if (IN6_IS_ADDR_LOOPBACK(a)) {
			w = "loopback";
		} else if (IN6_IS_ADDR_LINKLOCAL(a)) {
			w = "link-local";
		} else if ((a->s6_addr[0] & 0xfe) == 0xfc) {
			w = "private (fc00::/7)";
		} else if (IN6_IS_ADDR_MULTICAST(a)) {
			w = "multicast";
		}
	} else {
		w = "not an internet address";
	}
	if (what)
		*what = w;
	return w != NULL;
}

/* The host's own addresses as seen from the host's network namespace, where the supervisor
 * connects: loopback, link-local (169.254.169.254, the cloud metadata service, lives there)
 * and unspecified (a connect to 0.0.0.0 or :: reaches the host's own listeners); v4-mapped
 * forms as IPv4. Which of them, or NULL. */
static const char *host_local(const struct sockaddr *sa)
{
	uint32_t v4;

	if (sa->sa_family == AF_INET) {
		v4 = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
	} else {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (!IN6_IS_ADDR_V4MAPPED(a))
			return IN6_IS_ADDR_LOOPBACK(a)      ? "loopback"
			       : IN6_IS_ADDR_LINKLOCAL(a)   ? "link-local"
			       : IN6_IS_ADDR_UNSPECIFIED(a) ? "unspecified"
			                                    : NULL;
		memcpy(&v4, &a->s6_addr[12], 4);
		v4 = ntohl(v4);
	}
	return v4_in(v4, 0x7f000000, 8)    ? "loopback"
	       : v4_in(v4, 0xa9fe0000, 16) ? "link-local"
	       : v4_in(v4, 0x00000000, 8)  ? "unspecified"
	                                   : NULL;
}

/* The grant is for the name `localhost` (any port): the one name that may lead to loopback. */
static bool grant_is_localhost(const ob_capability *c)
{
	return c && c->host.kind == HOST_NAME && streq(c->host.name, "localhost");
}

/* SA as a host request (v4-mapped folded, as grants are). */
static int address_request(const struct sockaddr *sa, unsigned port, HostRequest *r, char *buf,
                           size_t size)
{
	const char *msg;
	if (sa->sa_family == AF_INET)
		(void)inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf,
		                (socklen_t)size);
	else if (sa->sa_family == AF_INET6)
		(void)inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
		                (socklen_t)size);
	else
		return -EAFNOSUPPORT;
	return host_request_parse(r, buf, strlen(buf), port, &msg);
}

bool egress_check_address(const ob_capset *caps, const ob_context *ctx, const EgressDecision *name,
                          const struct sockaddr *sa, unsigned port, EgressDecision *d)
{
	HostRequest r;
	char addr[64];
	const char *what = NULL;

	*d = (EgressDecision){0};
	if (address_request(sa, port, &r, addr, sizeof(addr)) < 0) {
		(void)snprintf(d->why, sizeof(d->why), "not an internet address");
		return false;
	}
	/* A grant for the address itself (an IP or a network) settles it, special or not. */
	const ob_capability *by_ip = best_grant(caps, ctx, &r);
	if (by_ip && by_ip->host.kind == HOST_IP) {
		*d = (EgressDecision){.allow = true, .grant = by_ip, .explicit_grant = true};
		(void)snprintf(d->why, sizeof(d->why), "%.140s", ob_capability_resource(by_ip));
		return true;
	}
	if (!name || !name->allow) {
		(void)snprintf(d->why, sizeof(d->why), "no NETWORK_CONNECT grant covers %.60s:%u",
		               addr, port);
		return false;
	}
	/* SPEC §3: the host's own services and the metadata service only by a grant naming
	 * the address (handled above) or `localhost` — never by a name that resolves there,
	 * exact or not: whoever controls that name's DNS (or the host's /etc/hosts) decides. */
	const char *local = host_local(sa);
	if (local && !(streq(local, "loopback") && grant_is_localhost(name->grant))) {
		(void)snprintf(d->why, sizeof(d->why),
		               "resolves to %s %.60s: grant the address to allow it", local, addr);
		return false;
	}
	if (egress_address_is_special(sa, &what) && !name->explicit_grant) {
		(void)snprintf(d->why, sizeof(d->why),
		               "%.60s is %.40s: only a grant naming it (by IP, or this exact host) "
		               "reaches it",
		               addr, what);
		return false;
	}
	*d = *name;
	return true;
}

void egress_format_address(const struct sockaddr *sa, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		(void)inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		(void)snprintf(buf, size, "%s:%u", ip, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		(void)inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		(void)snprintf(buf, size, "[%s]:%u", ip, ntohs(in6->sin6_port));
	} else
		(void)snprintf(buf, size, "?");
}

bool egress_address_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family != AF_INET6)
		return false;
	const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}
