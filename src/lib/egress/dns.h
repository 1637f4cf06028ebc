/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The DNS wire format, as much as the sandbox's stub resolver needs (RFC 1035): one question
 * in, a reply with A or AAAA records out. No I/O; the parser takes any bytes (fuzzed:
 * tests/fuzz/fuzz-dns.c).
 */
#pragma once

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_TYPE_A    1
#define DNS_TYPE_AAAA 28
#define DNS_CLASS_IN  1

#define DNS_RCODE_OK       0
#define DNS_RCODE_FORMERR  1
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3
#define DNS_RCODE_NOTIMP   4
#define DNS_RCODE_REFUSED  5

/* The largest reply the stub sends: the classic UDP limit, so that it never truncates. */
#define DNS_REPLY_MAX 512
#define DNS_NAME_MAX  253

typedef struct DnsQuery {
	uint16_t id;
	uint16_t flags; /* as received (the RD bit is echoed) */
	uint16_t qtype, qclass;
	char name[DNS_NAME_MAX + 1]; /* lower case, dotted, no trailing dot; "" for the root */
	size_t question_len;         /* bytes of the question section, copied into replies */
	uint8_t question[DNS_NAME_MAX + 2 + 4];
} DnsQuery;

/* Parses a query with exactly one question (no compression in it). -EBADMSG when MSG is not
 * one; *ret is usable for a FORMERR reply when at least the header was read (-EPROTO). */
int dns_parse_query(const uint8_t *msg, size_t len, DnsQuery *ret);

/* A reply to Q with RCODE and, for NOERROR, up to N addresses of Q's type (A: struct
 * in_addr, AAAA: struct in6_addr, both in network order), each with TTL seconds. Returns the
 * reply's length in OUT (at most DNS_REPLY_MAX; addresses that would not fit are left out). */
size_t dns_build_reply(const DnsQuery *q, int rcode, const void *addrs, size_t n, uint32_t ttl,
                       uint8_t out[DNS_REPLY_MAX]);
