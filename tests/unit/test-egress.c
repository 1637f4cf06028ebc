/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Egress decisions: target names against NETWORK_CONNECT and database grants, then the
 * resolved addresses, with special ranges reachable only through explicit grants; the
 * asynchronous resolver the proxy and the DNS stub share. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omnibase/omnibase.h"
#include <cmocka.h>

#include "basic/macro.h"
#include "basic/time-util.h"
#include "egress/dns.h"
#include "egress/dnsstub.h"
#include "egress/egress.h"
#include "egress/resolver.h"

static ob_capset *grants(const char *const *specs)
{
	ob_capset *s;
	ob_error e;

	assert_int_equal(ob_capset_new(&s), 0);
	for (; *specs; specs++) {
		ob_capability *c;
		if (ob_capability_parse(&c, *specs, "/", &e) < 0)
			fail_msg("%s: %s", *specs, e.msg);
		assert_int_equal(ob_capset_add(s, c), 0);
		ob_capability_free(c);
	}
	return s;
}

static struct sockaddr_storage addr(const char *text)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

	if (inet_pton(AF_INET, text, &in->sin_addr) == 1)
		in->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1)
		in6->sin6_family = AF_INET6;
	else
		fail_msg("bad address %s", text);
	return ss;
}

/* The whole decision: HOST:PORT asked, resolved (or literal) to ADDRESS. */
static bool reach(const ob_capset *s, const char *host, unsigned port, const char *address)
{
	EgressDecision name, a;
	struct sockaddr_storage ss = addr(address);

	assert_int_equal(egress_check_target(s, NULL, host, port, &name), 0);
	bool ok = egress_check_address(s, NULL, &name, (struct sockaddr *)&ss, port, &a);
	assert_true(a.why[0] || ok);
	return name.allow && ok;
}

static void test_names_and_ports(void **state)
{
	static const char *const specs[] = {"NETWORK_CONNECT:api.example.com:443",
	                                    "NETWORK_CONNECT:*.cdn.example.net",
	                                    "DATABASE_READ:postgres://db.internal:5432/app", NULL};
	ob_capset *s = grants(specs);
	(void)state;
	assert_true(reach(s, "api.example.com", 443, "93.184.216.34"));
	assert_true(reach(s, "API.Example.COM.", 443, "93.184.216.34"));
	assert_false(reach(s, "api.example.com", 80, "93.184.216.34")); /* other port */
	assert_false(reach(s, "evil.example.com", 443, "93.184.216.34"));
	assert_true(reach(s, "img.cdn.example.net", 8443, "151.101.1.1"));
	assert_false(reach(s, "cdn.example.net", 443, "151.101.1.1")); /* not the apex */
	assert_true(reach(s, "db.internal", 5432, "203.0.113.7"));     /* a database URL's host */
	assert_false(reach(s, "db.internal", 5433, "203.0.113.7"));
	EgressDecision d;
	assert_true(egress_check_target(s, NULL, "bad host!", 443, &d) < 0);
	assert_true(egress_check_target(s, NULL, "api.example.com", 0, &d) < 0);
	assert_non_null(strstr(d.why, "bad target"));
	ob_capset_unref(s);
}

static void test_special_addresses_need_explicit_grants(void **state)
{
	static const char *const specs[] = {"NETWORK_CONNECT:*.example.com:443",
	                                    "NETWORK_CONNECT:localhost:8080",
	                                    "NETWORK_CONNECT:10.1.0.0/16:5432",
	                                    "NETWORK_CONNECT:192.168.1.10:22",
	                                    "NETWORK_CONNECT:*:80",
	                                    NULL};
	ob_capset *s = grants(specs);
	(void)state;
	/* a wildcard name pointed by DNS at metadata, loopback or the LAN: refused */
	assert_false(reach(s, "x.example.com", 443, "169.254.169.254"));
	assert_false(reach(s, "x.example.com", 443, "127.0.0.1"));
	assert_false(reach(s, "x.example.com", 443, "10.0.0.1"));
	assert_false(reach(s, "x.example.com", 443, "fd00::1"));
	assert_false(reach(s, "x.example.com", 443, "::ffff:127.0.0.1"));
	assert_true(reach(s, "x.example.com", 443, "93.184.216.34"));
	/* "*" is a wildcard too: anything public on port 80, nothing special */
	assert_true(reach(s, "anything.org", 80, "93.184.216.34"));
	assert_false(reach(s, "169.254.169.254", 80, "169.254.169.254"));
	assert_false(reach(s, "anything.org", 80, "fe80::1"));
	/* an exact name may resolve to a special address: the grant says so */
	assert_true(reach(s, "localhost", 8080, "127.0.0.1"));
	assert_true(reach(s, "localhost", 8080, "::1"));
	assert_false(reach(s, "localhost", 8081, "127.0.0.1"));
	/* by IP or network */
	assert_true(reach(s, "10.1.2.3", 5432, "10.1.2.3"));
	assert_true(reach(s, "db.corp", 5432, "10.1.2.3") == false); /* the name is not granted */
	assert_true(reach(s, "192.168.1.10", 22, "192.168.1.10"));
	assert_false(reach(s, "192.168.1.11", 22, "192.168.1.11"));
	ob_capset_unref(s);
}

/* SPEC §3: loopback and link-local only by a grant naming the address, or `localhost`; an
 * exact name that resolves there (DNS rebinding, a host's /etc/hosts) is refused. */
static void test_host_local_addresses_need_the_address(void **state)
{
	static const char *const specs[] = {
	    "NETWORK_CONNECT:vm:8080",          "NETWORK_CONNECT:metadata.internal:80",
	    "NETWORK_CONNECT:db.corp:5432",     "NETWORK_CONNECT:localhost:9000",
	    "NETWORK_CONNECT:127.0.0.1:8080",   "NETWORK_CONNECT:169.254.0.0/16:81",
	    "NETWORK_CONNECT:*.localhost:7000", NULL};
	static const char *const local[] = {
	    "127.0.0.1", "127.0.1.1",       "::1",     "::ffff:127.0.0.1",  "0.0.0.0",
	    "::",        "169.254.169.254", "fe80::1", "::ffff:169.254.1.1"};
	ob_capset *s = grants(specs);
	EgressDecision name, a;
	struct sockaddr_storage ss = addr("169.254.169.254");
	(void)state;
	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
		assert_false(reach(s, "metadata.internal", 80, local[i]));
		assert_false(reach(s, "x.localhost", 7000, local[i]));
	}
	assert_false(reach(s, "vm", 8080, "127.0.1.1"));
	assert_false(reach(s, "vm", 8080, "::1"));
	/* the address granted: the name leads there by the address's grant */
	assert_true(reach(s, "vm", 8080, "127.0.0.1"));
	assert_true(reach(s, "169.254.169.254", 81, "169.254.169.254"));
	/* `localhost` reaches loopback, not link-local */
	assert_true(reach(s, "localhost", 9000, "127.0.0.1"));
	assert_true(reach(s, "localhost", 9000, "::1"));
	assert_false(reach(s, "localhost", 9000, "169.254.169.254"));
	/* a private address stays reachable by an exact name */
	assert_true(reach(s, "db.corp", 5432, "10.1.2.3"));
	/* the refusal says why and what to grant */
	assert_int_equal(egress_check_target(s, NULL, "metadata.internal", 80, &name), 0);
	assert_false(egress_check_address(s, NULL, &name, (struct sockaddr *)&ss, 80, &a));
	assert_string_equal(a.why, "resolves to link-local 169.254.169.254: grant the address to "
	                           "allow it");
	ob_capset_unref(s);
}

static void test_ranges(void **state)
{
	static const char *const special[] = {"0.0.0.0",
	                                      "127.0.0.53",
	                                      "169.254.169.254",
	                                      "10.255.0.1",
	                                      "172.16.0.1",
	                                      "172.31.255.255",
	                                      "192.168.0.1",
	                                      "100.64.0.1",
	                                      "224.0.0.1",
	                                      "255.255.255.255",
	                                      "::",
	                                      "::1",
	                                      "fe80::1",
	                                      "fc00::1",
	                                      "fd12:3456::1",
	                                      "ff02::1",
	                                      "::ffff:10.0.0.1"};
	static const char *const public[] = {"93.184.216.34", "172.32.0.1", "100.128.0.1",
	                                     "2606:2800:220:1::1", "::ffff:8.8.8.8"};
	const char *what;
	(void)state;
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
		struct sockaddr_storage ss = addr(special[i]);
		if (!egress_address_is_special((struct sockaddr *)&ss, &what))
			fail_msg("%s should be special", special[i]);
		assert_non_null(what);
	}
	for (size_t i = 0; i < sizeof(public) / sizeof(public[0]); i++) {
		struct sockaddr_storage ss = addr(public[i]);
		if (egress_address_is_special((struct sockaddr *)&ss, &what))
			fail_msg("%s should be public (%s)", public[i], what);
	}
	static const char *const loopback[] = {"127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1"};
	static const char *const not_loopback[] = {"10.0.0.1", "::ffff:8.8.8.8", "::2",
	                                           "128.0.0.1"};
	for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
		struct sockaddr_storage ss = addr(loopback[i]);
		if (!egress_address_is_loopback((struct sockaddr *)&ss))
			fail_msg("%s should be loopback", loopback[i]);
	}
	for (size_t i = 0; i < sizeof(not_loopback) / sizeof(not_loopback[0]); i++) {
		struct sockaddr_storage ss = addr(not_loopback[i]);
		if (egress_address_is_loopback((struct sockaddr *)&ss))
			fail_msg("%s should not be loopback", not_loopback[i]);
	}
	struct sockaddr_storage unix_addr = {.ss_family = AF_UNIX};
	assert_false(egress_address_is_loopback((struct sockaddr *)&unix_addr));
	assert_true(egress_address_is_special((struct sockaddr *)&unix_addr, &what));
}

static void test_conditions(void **state)
{
	ob_capset *s;
	ob_capability *c;
	ob_context *ctx;
	ob_error e;
	EgressDecision d;
	(void)state;
	assert_int_equal(ob_capset_new(&s), 0);
	assert_int_equal(ob_capability_parse(&c, "NETWORK_CONNECT:api.example.com:443", "/", &e),
	                 0);
	assert_int_equal(ob_capability_add_condition(c, "env", "prod", &e), 0);
	assert_int_equal(ob_capset_add(s, c), 0);
	ob_capability_free(c);
	assert_int_equal(ob_context_new(&ctx), 0);
	assert_int_equal(egress_check_target(s, ctx, "api.example.com", 443, &d), 0);
	assert_false(d.allow);
	assert_int_equal(ob_context_set(ctx, "env", "prod"), 0);
	assert_int_equal(egress_check_target(s, ctx, "api.example.com", 443, &d), 0);
	assert_true(d.allow && d.explicit_grant);
	assert_string_equal(d.why, "api.example.com:443");
	ob_context_free(ctx);
	ob_capset_unref(s);
}

/* A query as a resolver sends it: header, one question. */
static size_t query(uint8_t *buf, uint16_t id, const char *name, uint16_t type)
{
	size_t k = 12;
	memset(buf, 0, 12);
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
	buf[2] = 0x01; /* RD */
	buf[5] = 1;    /* one question */
	for (const char *p = name; *p;) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		buf[k++] = (uint8_t)l;
		memcpy(buf + k, p, l);
		k += l;
		p += l + (dot ? 1 : 0);
	}
	buf[k++] = 0;
	buf[k++] = (uint8_t)(type >> 8);
	buf[k++] = (uint8_t)type;
	buf[k++] = 0;
	buf[k++] = 1; /* IN */
	return k;
}

static void test_dns_messages(void **state)
{
	uint8_t msg[600], out[DNS_REPLY_MAX];
	DnsQuery q;
	(void)state;

	size_t n = query(msg, 0xbeef, "Api.Example.COM", DNS_TYPE_A);
	assert_int_equal(dns_parse_query(msg, n, &q), 0);
	assert_string_equal(q.name, "api.example.com");
	assert_int_equal(q.id, 0xbeef);
	assert_int_equal(q.qtype, DNS_TYPE_A);
	assert_int_equal(q.question_len, n - 12);

	const uint8_t addrs[2][4] = {{93, 184, 216, 34}, {10, 0, 0, 1}};
	size_t r = dns_build_reply(&q, DNS_RCODE_OK, addrs, 2, 60, out);
	assert_int_equal(r, n + 2 * 16);
	assert_int_equal(out[0], 0xbe);
	assert_int_equal(out[2] & 0x80, 0x80);          /* a response */
	assert_int_equal(out[2] & 0x01, 0x01);          /* RD echoed */
	assert_int_equal(out[3] & 0x0f, DNS_RCODE_OK);  /* rcode */
	assert_int_equal(out[7], 2);                    /* two answers */
	assert_memory_equal(out + n + 12, addrs[0], 4); /* the first answer's address */
	r = dns_build_reply(&q, DNS_RCODE_NXDOMAIN, addrs, 2, 60, out);
	assert_int_equal(r, n);
	assert_int_equal(out[3] & 0x0f, DNS_RCODE_NXDOMAIN);
	assert_int_equal(out[7], 0);

	/* AAAA: 16-byte answers; many addresses are cut to what fits 512 bytes */
	static uint8_t v6[64][16];
	n = query(msg, 1, "x.org", DNS_TYPE_AAAA);
	assert_int_equal(dns_parse_query(msg, n, &q), 0);
	r = dns_build_reply(&q, DNS_RCODE_OK, v6, 64, 60, out);
	assert_true(r <= DNS_REPLY_MAX && r > DNS_REPLY_MAX - 28);

	/* malformed: short, a reply, two questions, a compression pointer, a dot in a label,
	 * an overlong label, a name running off the end */
	assert_int_equal(dns_parse_query(msg, 11, &q), -EBADMSG);
	n = query(msg, 1, "a.b", DNS_TYPE_A);
	msg[2] |= 0x80;
	assert_int_equal(dns_parse_query(msg, n, &q), -EPROTO);
	msg[2] &= 0x7f;
	msg[5] = 2;
	assert_int_equal(dns_parse_query(msg, n, &q), -EPROTO);
	msg[5] = 1;
	msg[12] = 0xc0;
	assert_int_equal(dns_parse_query(msg, n, &q), -EPROTO);
	n = query(msg, 1, "a.b", DNS_TYPE_A);
	msg[13] = '.';
	assert_int_equal(dns_parse_query(msg, n, &q), -EPROTO);
	assert_int_equal(dns_parse_query(msg, n - 6, &q), -EPROTO);
	n = query(msg, 1, "a", DNS_TYPE_A);
	msg[12] = 64;
	assert_int_equal(dns_parse_query(msg, n, &q), -EPROTO);
	/* a FORMERR reply for what had a header: no question copied */
	r = dns_build_reply(&q, DNS_RCODE_FORMERR, NULL, 0, 0, out);
	assert_int_equal(r, 12);
	assert_int_equal(out[3] & 0x0f, DNS_RCODE_FORMERR);
}

static void test_names_for_the_stub(void **state)
{
	static const char *const specs[] = {"NETWORK_CONNECT:api.example.com:443",
	                                    "NETWORK_CONNECT:*.cdn.example:80",
	                                    "DATABASE_READ:postgres://db.internal:5432/app", NULL};
	ob_capset *s = grants(specs);
	EgressDecision d;
	(void)state;

	assert_int_equal(egress_check_name(s, NULL, "api.example.com", &d), 0);
	assert_true(d.allow && d.explicit_grant);
	assert_int_equal(egress_check_name(s, NULL, "img.cdn.example", &d), 0);
	assert_true(d.allow && !d.explicit_grant);
	assert_int_equal(egress_check_name(s, NULL, "db.internal", &d), 0);
	assert_true(d.allow && d.explicit_grant);
	assert_int_equal(egress_check_name(s, NULL, "cdn.example", &d), 0);
	assert_false(d.allow);
	assert_int_equal(egress_check_name(s, NULL, "evil.com", &d), 0);
	assert_false(d.allow);
	assert_int_equal(egress_check_name(s, NULL, "10.0.0.1", &d), -EINVAL);
	assert_int_equal(egress_check_name(s, NULL, "bad name", &d), -EINVAL);
	ob_capset_unref(s);
}

/* ---------------------------------------------------------------- the DNS stub */

static int denials;
static void count_denial(void *userdata, const char *name, const char *why)
{
	(void)userdata;
	(void)name;
	(void)why;
	denials++;
}

static int bound_socket(int type, struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	*sin = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sin, &len), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 8), 0);
	return fd;
}

/* Sends MSG to the stub (UDP), runs its loop until the answer comes; the answer's length. */
static size_t ask_udp(DnsStub *s, int client, const struct sockaddr_in *to, const uint8_t *msg,
                      size_t n, uint8_t *reply)
{
	assert_int_equal(sendto(client, msg, n, 0, (const struct sockaddr *)to, sizeof(*to)),
	                 (ssize_t)n);
	for (int i = 0; i < 500; i++) {
		struct pollfd p[2] = {{.fd = dnsstub_fd(s), .events = POLLIN},
		                      {.fd = client, .events = POLLIN}};
		(void)poll(p, 2, 20);
		if (p[0].revents)
			dnsstub_dispatch(s);
		ssize_t k = recv(client, reply, DNS_REPLY_MAX, MSG_DONTWAIT);
		if (k > 0)
			return (size_t)k;
	}
	fail_msg("no answer from the stub");
	return 0;
}

static void test_dns_stub(void **state)
{
	static const char *const specs[] = {"NETWORK_CONNECT:localhost:80", NULL};
	static const char *const wildcard[] = {"NETWORK_CONNECT:*:80", NULL};
	struct sockaddr_in udp_at, tcp_at, cl;
	uint8_t msg[512], reply[DNS_REPLY_MAX];
	ob_capset *caps = grants(specs);
	DnsStub *s;
	const DnsReport rep = {.deny = count_denial};
	(void)state;

	int udp = bound_socket(SOCK_DGRAM, &udp_at), tcp = bound_socket(SOCK_STREAM, &tcp_at);
	int client = bound_socket(SOCK_DGRAM, &cl);
	assert_int_equal(dnsstub_new(udp, tcp, caps, NULL, &rep, &s), 0);

	/* a granted name: its address, remembered for connects */
	size_t k = ask_udp(s, client, &udp_at, msg, query(msg, 1, "localhost", DNS_TYPE_A), reply);
	assert_int_equal(reply[3] & 0xf, DNS_RCODE_OK);
	assert_int_equal(reply[7], 1);
	assert_memory_equal(reply + k - 4, "\x7f\0\0\x01", 4);
	struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	size_t it = 0;
	assert_string_equal(dnsstub_name_for(s, (struct sockaddr *)&lo, &it), "localhost");
	assert_null(dnsstub_name_for(s, (struct sockaddr *)&lo, &it));
	/* another record type of a granted name: an empty answer */
	k = ask_udp(s, client, &udp_at, msg, query(msg, 2, "localhost", 15 /* MX */), reply);
	assert_int_equal(reply[3] & 0xf, DNS_RCODE_OK);
	assert_int_equal(reply[7], 0);
	/* a name no grant covers: NXDOMAIN, one denial for the pair of questions */
	denials = 0;
	(void)ask_udp(s, client, &udp_at, msg, query(msg, 3, "evil.test", DNS_TYPE_A), reply);
	assert_int_equal(reply[3] & 0xf, DNS_RCODE_NXDOMAIN);
	(void)ask_udp(s, client, &udp_at, msg, query(msg, 4, "evil.test", DNS_TYPE_AAAA), reply);
	assert_int_equal(denials, 1);
	/* a malformed query with a header: FORMERR; the class other than IN: NOTIMP */
	size_t n = query(msg, 5, "localhost", DNS_TYPE_A);
	msg[5] = 2;
	(void)ask_udp(s, client, &udp_at, msg, n, reply);
	assert_int_equal(reply[3] & 0xf, DNS_RCODE_FORMERR);
	n = query(msg, 6, "localhost", DNS_TYPE_A);
	msg[n - 1] = 3; /* CHAOS */
	(void)ask_udp(s, client, &udp_at, msg, n, reply);
	assert_int_equal(reply[3] & 0xf, DNS_RCODE_NOTIMP);

	/* TCP: two length-prefixed queries on one connection */
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(c, (struct sockaddr *)&tcp_at, sizeof(tcp_at)), 0);
	uint8_t framed[600];
	n = query(framed + 2, 7, "localhost", DNS_TYPE_A);
	framed[0] = 0;
	framed[1] = (uint8_t)n;
	size_t m = query(framed + 2 + n + 2, 8, "evil.test", DNS_TYPE_A);
	framed[2 + n] = 0;
	framed[2 + n + 1] = (uint8_t)m;
	assert_int_equal(send(c, framed, n + m + 4, 0), (ssize_t)(n + m + 4));
	/* the answers come as they are ready (the refusal first): two frames, by id */
	size_t got = 0, frames = 0;
	uint8_t in[1200];
	for (int i = 0; i < 500 && frames < 2; i++) {
		(void)poll(&(struct pollfd){.fd = dnsstub_fd(s), .events = POLLIN}, 1, 20);
		dnsstub_dispatch(s);
		ssize_t r = recv(c, in + got, sizeof(in) - got, MSG_DONTWAIT);
		got += r > 0 ? (size_t)r : 0;
		frames = 0;
		for (size_t off = 0; off + 2 <= got;) {
			size_t len = (size_t)in[off] << 8 | in[off + 1];
			if (off + 2 + len > got)
				break;
			frames++;
			off += 2 + len;
		}
	}
	assert_int_equal(frames, 2);
	size_t first = (size_t)in[0] << 8 | in[1];
	const uint8_t *a = in + 2, *b = in + 2 + first + 2;
	if (a[1] != 7) { /* id 7: the granted name */
		const uint8_t *x = a;
		a = b;
		b = x;
	}
	assert_int_equal(a[1], 7);
	assert_int_equal(a[3] & 0xf, DNS_RCODE_OK);
	assert_int_equal(b[1], 8);
	assert_int_equal(b[3] & 0xf, DNS_RCODE_NXDOMAIN);
	(void)close(c);

	uint64_t answered, refused;
	dnsstub_stats(s, &answered, &refused);
	assert_true(answered >= 5 && refused >= 3);
	dnsstub_free(s);
	ob_capset_unref(caps);

	/* a wildcard grant does not reach a loopback address through a name */
	caps = grants(wildcard);
	udp = bound_socket(SOCK_DGRAM, &udp_at);
	assert_int_equal(dnsstub_new(udp, -1, caps, NULL, &rep, &s), 0);
	(void)ask_udp(s, client, &udp_at, msg, query(msg, 9, "localhost", DNS_TYPE_A), reply);
	assert_int_equal(reply[3] & 0xf, DNS_RCODE_NXDOMAIN);
	it = 0;
	assert_null(dnsstub_name_for(s, (struct sockaddr *)&lo, &it));
	dnsstub_free(s);
	ob_capset_unref(caps);
	(void)close(client);
}

/* ---------------------------------------------------------------- the resolver */

typedef struct Delivery {
	int calls, error;
	struct addrinfo *ai;
} Delivery;

static void record(void *userdata, int error, struct addrinfo *ai)
{
	Delivery *d = userdata;
	d->calls++;
	d->error = error;
	d->ai = ai;
}

static const struct addrinfo v4_stream = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};

static void test_resolver_delivers_through_its_fd(void **state)
{
	Resolver *r;
	Delivery d = {0};
	(void)state;

	assert_int_equal(resolver_new(&r), 0);
	assert_int_equal(resolver_start(r, "localhost", &v4_stream, record, &d, NULL), 0);
	assert_int_equal(resolver_pending(r), 1);
	/* the fd alone says when: no timer here */
	for (uint64_t end = now_ms() + 10000; d.calls == 0 && now_ms() < end;) {
		struct pollfd p = {.fd = resolver_fd(r), .events = POLLIN};
		if (poll(&p, 1, 100) > 0)
			resolver_dispatch(r);
	}
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.error, 0);
	assert_non_null(d.ai);
	const struct sockaddr_in *in = (const struct sockaddr_in *)d.ai->ai_addr;
	assert_int_equal(in->sin_family, AF_INET);
	assert_int_equal(ntohl(in->sin_addr.s_addr), 0x7f000001);
	freeaddrinfo(d.ai);
	assert_int_equal(resolver_pending(r), 0);
	/* delivered once only */
	resolver_dispatch(r);
	assert_int_equal(d.calls, 1);
	assert_null(resolver_free(r));
}

/* A caller that starts lookups and goes away mid-lookup: neither a cancel nor the end of
 * the resolver waits for glibc, no callback runs, and every request is freed when its
 * lookup ends (ASan would see a request freed too early being written to). */
static void test_resolver_cancel_does_not_wait(void **state)
{
	Delivery d = {0};
	ResolverRequest *q[8];
	Resolver *r;
	(void)state;

	assert_int_equal(resolver_new(&r), 0);
	for (size_t i = 0; i < ELEMENTSOF(q); i++)
		assert_int_equal(resolver_start(r, "localhost", &v4_stream, record, &d, &q[i]), 0);
	uint64_t start = now_ms();
	for (size_t i = 0; i < ELEMENTSOF(q); i++)
		resolver_cancel(q[i]);
	resolver_cancel(NULL);
	assert_true(now_ms() - start < 100);
	assert_int_equal(resolver_pending(r), 0);
	/* the lookups cancelled in flight are freed by their ends, with nobody's help */
	for (uint64_t end = now_ms() + 10000; resolver_handed_off(r) > 0 && now_ms() < end;)
		(void)poll(NULL, 0, 5);
	assert_int_equal(resolver_handed_off(r), 0);
	resolver_dispatch(r);
	assert_int_equal(d.calls, 0);

	/* the resolver itself ended with lookups in flight: it outlives them, then goes */
	for (size_t i = 0; i < ELEMENTSOF(q); i++)
		assert_int_equal(resolver_start(r, "localhost", &v4_stream, record, &d, NULL), 0);
	start = now_ms();
	assert_null(resolver_free(r));
	assert_true(now_ms() - start < 100);
	(void)poll(NULL, 0, 200); /* let the lookups end here, under ASan's eyes */
	assert_int_equal(d.calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_and_ports),
	    cmocka_unit_test(test_special_addresses_need_explicit_grants),
	    cmocka_unit_test(test_host_local_addresses_need_the_address),
	    cmocka_unit_test(test_ranges),
	    cmocka_unit_test(test_conditions),
	    cmocka_unit_test(test_dns_messages),
	    cmocka_unit_test(test_names_for_the_stub),
	    cmocka_unit_test(test_dns_stub),
	    cmocka_unit_test(test_resolver_delivers_through_its_fd),
	    cmocka_unit_test(test_resolver_cancel_does_not_wait),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
