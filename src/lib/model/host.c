/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host patterns for NETWORK_CONNECT and DATABASE_* URLs (SPEC §2.2).
 *
 * Names are compared in lower case without a trailing dot.  `*.example.com` matches any
 * subdomain but never the apex nor `evilexample.com`.  Address literals and CIDR blocks are
 * kept in binary; IPv4-mapped IPv6 addresses are folded to IPv4 so that `::ffff:10.0.0.1`
 * cannot slip past a grant or a refusal written for `10.0.0.0/8`.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "model/pattern.h"

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static bool is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Lower-cases and validates a DNS name into OUT (256 bytes); drops one trailing dot.
 * Refuses names whose last label is all digits: "127.1" or "2130706433" are numbers that
 * resolvers turn into addresses, never names. */
static int name_canonicalize(const char *s, size_t len, char *out, size_t *ret_len,
                             const char **msg)
{
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > 253) {
		*msg = "host name must be 1 to 253 characters";
		return -EINVAL;
	}
	size_t label = 0, label_start = 0;
	bool label_numeric = true;
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? s[i] : '.';
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c == '.') {
			if (label == 0 || label > 63) {
				*msg = "host name labels must be 1 to 63 characters";
				return -EINVAL;
			}
			if (out[label_start] == '-' || out[i - 1] == '-') {
				*msg = "host name labels must not start or end with '-'";
				return -EINVAL;
			}
			if (i == len && label_numeric) {
				*msg = "host name ends in a numeric label (write IPv4 addresses as "
				       "four "
				       "decimal octets)";
				return -EINVAL;
			}
			label = 0;
			label_start = i + 1;
			label_numeric = true;
			if (i < len)
				out[i] = '.';
			continue;
		}
		if (!is_ldh(c)) {
			*msg = "host name may hold only letters, digits, '-', '_' and '.' (use "
			       "punycode for international names)";
			return -EINVAL;
		}
		label_numeric = label_numeric && c >= '0' && c <= '9';
		out[i] = c;
		label++;
	}
	out[len] = '\0';
	*ret_len = len;
	return 0;
}

static bool looks_like_ipv4(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!(s[i] == '.' || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return len > 0;
}

/* Parses an address literal (no brackets) into ADDR; folds v4-mapped v6 to v4. */
static int addr_parse(const char *s, size_t len, uint8_t addr[16], bool *v4)
{
	char tmp[INET6_ADDRSTRLEN + 1];

	if (len == 0 || len >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, tmp, addr) == 1) {
		*v4 = true;
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, addr) != 1)
		return -EINVAL;
	*v4 = false;
	if (memcmp(addr, v4_mapped_prefix, 12) == 0) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		*v4 = true;
	}
	return 0;
}

static int port_parse(const char *s, size_t len, bool allow_any, uint16_t *ret, const char **msg)
{
	unsigned long v = 0;

	if (allow_any && len == 1 && s[0] == '*') {
		*ret = 0;
		return 0;
	}
	if (len == 0 || len > 5) {
		*msg = "port must be a number from 1 to 65535";
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			*msg = allow_any ? "port must be a number from 1 to 65535 or '*'"
			                 : "port must be a number from 1 to 65535";
			return -EINVAL;
		}
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535) {
		*msg = "port must be a number from 1 to 65535";
		return -EINVAL;
	}
	*ret = (uint16_t)v;
	return 0;
}

/* Splits "host[:port]" / "[v6][:port]" / bare "v6[/n]" into host and port parts. */
static int split_host_port(const char *p, size_t len, const char **host, size_t *hlen,
                           const char **port, size_t *plen, const char **msg)
{
	*port = NULL;
	*plen = 0;
	if (len > 0 && p[0] == '[') {
		const char *close = memchr(p, ']', len);
		if (!close) {
			*msg = "'[' of an IPv6 address is not closed by ']'";
			return -EINVAL;
		}
		*host = p + 1;
		*hlen = (size_t)(close - p - 1);
		size_t rest = len - (size_t)(close - p) - 1;
		if (rest == 0)
			return 0;
		if (close[1] != ':') {
			*msg = "expected ':PORT' after ']'";
			return -EINVAL;
		}
		*port = close + 2;
		*plen = rest - 1;
		return 1; /* bracketed */
	}
	*host = p;
	*hlen = len;
	const char *colon = memchr(p, ':', len);
	if (colon && memchr(colon + 1, ':', len - (size_t)(colon - p) - 1))
		return 0; /* two colons: a bare IPv6 address, no port */
	if (colon) {
		*hlen = (size_t)(colon - p);
		*port = colon + 1;
		*plen = len - *hlen - 1;
	}
	return 0;
}

static bool host_bits_clear(const uint8_t *addr, unsigned bits, unsigned total)
{
	for (unsigned b = bits; b < total; b++)
		if (addr[b / 8] & (0x80 >> (b % 8)))
			return false;
	return true;
}

static int ip_pattern_parse(HostPattern *h, const char *s, size_t len, const char **msg)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	unsigned long bits = 0;

	if (addr_parse(s, alen, h->addr, &h->v4) < 0) {
		*msg = "not a valid IPv4 or IPv6 address";
		return -EINVAL;
	}
	unsigned total = h->v4 ? 32 : 128;
	if (!slash) {
		h->bits = (uint8_t)total;
		return 0;
	}
	size_t blen = len - alen - 1;
	for (size_t i = 0; i < blen; i++) {
		if (slash[1 + i] < '0' || slash[1 + i] > '9' || i > 2) {
			bits = 999;
			break;
		}
		bits = bits * 10 + (unsigned long)(slash[1 + i] - '0');
	}
	/* A v4-mapped v6 CIDR was folded to v4 above: its prefix counts 96 bits less. */
	if (h->v4 && memchr(s, ':', alen)) {
		if (bits < 96) {
			*msg = "an IPv4-mapped CIDR prefix must be at least 96 bits";
			return -EINVAL;
		}
		bits -= 96;
	}
	if (blen == 0 || bits > total) {
		*msg = h->v4 ? "CIDR prefix length must be 0 to 32"
		             : "CIDR prefix length must be 0 "
		               "to 128";
		return -EINVAL;
	}
	if (!host_bits_clear(h->addr, (unsigned)bits, total)) {
		*msg = "CIDR block has host bits set (write the network address, e.g. 10.0.0.0/8)";
		return -EINVAL;
	}
	h->bits = (uint8_t)bits;
	return 0;
}

static int host_part_parse(HostPattern *h, const char *s, size_t len, bool bracketed,
                           const char **msg)
{
	char name[256];

	if (len == 0) {
		*msg = "empty host";
		return -EINVAL;
	}
	if (bracketed || memchr(s, ':', len) || memchr(s, '/', len) || looks_like_ipv4(s, len)) {
		if (bracketed && memchr(s, '.', len) && !memchr(s, ':', len)) {
			*msg = "brackets are for IPv6 addresses only";
			return -EINVAL;
		}
		h->kind = HOST_IP;
		return ip_pattern_parse(h, s, len, msg);
	}
	if (len == 1 && s[0] == '*') {
		h->kind = HOST_ANY;
		return 0;
	}
	bool suffix = len > 2 && s[0] == '*' && s[1] == '.';
	if (suffix) {
		s += 2;
		len -= 2;
	}
	if (memchr(s, '*', len)) {
		*msg = "'*' is allowed only as a whole leading label, as in '*.example.com'";
		return -EINVAL;
	}
	int r = name_canonicalize(s, len, name, &h->name_len, msg);
	if (r < 0)
		return r;
	h->kind = suffix ? HOST_SUFFIX : HOST_NAME;
	h->name_len += suffix;
	h->name = malloc(h->name_len + 1);
	if (!h->name)
		return -ENOMEM;
	(void)snprintf(h->name, h->name_len + 1, "%s%s", suffix ? "." : "", name);
	return 0;
}

static int host_pattern_format(HostPattern *h)
{
	char host[INET6_ADDRSTRLEN + 8], port[8] = "";

	switch (h->kind) {
	case HOST_ANY:
		(void)snprintf(host, sizeof(host), "*");
		break;
	case HOST_NAME:
	case HOST_SUFFIX:
		break;
	case HOST_IP: {
		char a[INET6_ADDRSTRLEN];
		(void)inet_ntop(h->v4 ? AF_INET : AF_INET6, h->addr, a, sizeof(a));
		unsigned total = h->v4 ? 32 : 128;
		bool br = !h->v4 && h->port;
		if (h->bits == total)
			(void)snprintf(host, sizeof(host), "%s%s%s", br ? "[" : "", a,
			               br ? "]" : "");
		else
			(void)snprintf(host, sizeof(host), "%s%s/%u%s", br ? "[" : "", a, h->bits,
			               br ? "]" : "");
		break;
	}
	}
	if (h->port)
		(void)snprintf(port, sizeof(port), ":%u", h->port);
	const char *hs = h->kind == HOST_NAME ? h->name : host;
	int n = asprintf(&h->text, "%s%s%s", h->kind == HOST_SUFFIX ? "*" : "",
	                 h->kind == HOST_SUFFIX ? h->name : hs, port);
	if (n < 0) {
		h->text = NULL;
		return -ENOMEM;
	}
	return 0;
}

int host_pattern_compile(HostPattern *h, const char *p, size_t len, const char **msg)
{
	const char *host, *port;
	size_t hlen, plen;
	int r;

	*h = (HostPattern){0};
	if (len == 0) {
		*msg = "empty host pattern";
		return -EINVAL;
	}
	if (memchr(p, '\0', len)) {
		*msg = "host contains a NUL byte";
		return -EINVAL;
	}
	r = split_host_port(p, len, &host, &hlen, &port, &plen, msg);
	if (r < 0)
		return r;
	bool bracketed = r == 1;
	if (port) {
		r = port_parse(port, plen, /* allow_any= */ true, &h->port, msg);
		if (r < 0)
			return r;
	}
	r = host_part_parse(h, host, hlen, bracketed, msg);
	if (r >= 0)
		r = host_pattern_format(h);
	if (r < 0)
		host_pattern_done(h);
	return r;
}

void host_pattern_done(HostPattern *h)
{
	free(h->name);
	free(h->text);
	*h = (HostPattern){0};
}

int host_pattern_copy(HostPattern *dst, const HostPattern *src)
{
	*dst = *src;
	dst->name = src->name ? strdup(src->name) : NULL;
	dst->text = strdup(src->text);
	if ((src->name && !dst->name) || !dst->text) {
		host_pattern_done(dst);
		return -ENOMEM;
	}
	return 0;
}

int host_request_parse(HostRequest *r, const char *host, size_t len, unsigned port,
                       const char **msg)
{
	*r = (HostRequest){0};
	if (port == 0 || port > 65535) {
		*msg = "port must be a number from 1 to 65535";
		return -EINVAL;
	}
	r->port = (uint16_t)port;
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	if (memchr(host, '\0', len)) {
		*msg = "host contains a NUL byte";
		return -EINVAL;
	}
	if (memchr(host, ':', len) || looks_like_ipv4(host, len)) {
		if (addr_parse(host, len, r->addr, &r->v4) < 0) {
			*msg = "not a valid IPv4 or IPv6 address";
			return -EINVAL;
		}
		r->is_ip = true;
		return 0;
	}
	return name_canonicalize(host, len, r->name, &r->name_len, msg);
}

int host_request_parse_hostport(HostRequest *r, const char *hp, size_t len, const char **msg)
{
	const char *host, *port;
	size_t hlen, plen;
	uint16_t p;
	int k;

	k = split_host_port(hp, len, &host, &hlen, &port, &plen, msg);
	if (k < 0)
		return k;
	if (!port) {
		*msg = "expected HOST:PORT (IPv6 as [ADDRESS]:PORT)";
		return -EINVAL;
	}
	k = port_parse(port, plen, /* allow_any= */ false, &p, msg);
	if (k < 0)
		return k;
	return host_request_parse(r, host, hlen, p, msg);
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

static bool name_in_suffix(const char *name, size_t len, const char *suffix, size_t slen)
{
	/* suffix is ".example.com": a strictly longer name ending with it. */
	return len > slen && memcmp(name + len - slen, suffix, slen) == 0;
}

bool host_pattern_match(const HostPattern *h, const HostRequest *r)
{
	if (h->port && h->port != r->port)
		return false;
	switch (h->kind) {
	case HOST_ANY:
		return true;
	case HOST_NAME:
		return !r->is_ip && r->name_len == h->name_len &&
		       memcmp(r->name, h->name, h->name_len) == 0;
	case HOST_SUFFIX:
		return !r->is_ip && name_in_suffix(r->name, r->name_len, h->name, h->name_len);
	case HOST_IP:
		return r->is_ip && r->v4 == h->v4 && prefix_equal(r->addr, h->addr, h->bits);
	}
	return false;
}

bool host_pattern_covers(const HostPattern *a, const HostPattern *b)
{
	if (a->port && a->port != b->port)
		return false;
	switch (a->kind) {
	case HOST_ANY:
		return true;
	case HOST_NAME:
		return b->kind == HOST_NAME && streq(a->name, b->name);
	case HOST_SUFFIX:
		if (b->kind == HOST_NAME)
			return name_in_suffix(b->name, b->name_len, a->name, a->name_len);
		return b->kind == HOST_SUFFIX &&
		       (streq(a->name, b->name) ||
		        name_in_suffix(b->name, b->name_len, a->name, a->name_len));
	case HOST_IP:
		return b->kind == HOST_IP && a->v4 == b->v4 && b->bits >= a->bits &&
		       prefix_equal(a->addr, b->addr, a->bits);
	}
	return false;
}

void host_request_format(const HostRequest *r, char *buf, size_t size)
{
	if (r->is_ip) {
		char a[INET6_ADDRSTRLEN];
		(void)inet_ntop(r->v4 ? AF_INET : AF_INET6, r->addr, a, sizeof(a));
		(void)snprintf(buf, size, r->v4 ? "%s:%u" : "[%s]:%u", a, r->port);
	} else {
		(void)snprintf(buf, size, "%s:%u", r->name, r->port);
	}
}
