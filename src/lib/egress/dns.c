/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* DNS messages for the stub resolver (see dns.h). */
#include "egress/dns.h"

#include <errno.h>
#include <string.h>

#define HEADER_LEN 12
#define FLAG_QR    0x8000
#define FLAG_RA    0x0080
#define FLAG_RD    0x0100
#define OPCODE(f)  (((f) >> 11) & 0xf)

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

/* The question's name at MSG+OFF into Q->name; the offset past it, or -EBADMSG. Labels only:
 * a pointer (compression) in a question's name is refused, as are names over 253. */
static int parse_name(const uint8_t *msg, size_t len, size_t off, DnsQuery *q)
{
	size_t k = 0;

	for (;;) {
		if (off >= len)
			return -EBADMSG;
		uint8_t l = msg[off++];
		if (l == 0)
			break;
		if (l > 63 || off + l > len || k + l + (k ? 1 : 0) > DNS_NAME_MAX)
			return -EBADMSG;
		if (k)
			q->name[k++] = '.';
		for (uint8_t i = 0; i < l; i++) {
			char c = (char)msg[off + i];
			/* '.' inside a label, and bytes the capability names could not hold, make
			 * a name no grant can name: refused as malformed rather than mangled. */
			if (c == '.' || c == '\0' || (unsigned char)c < 0x21 ||
			    (unsigned char)c > 0x7e)
				return -EBADMSG;
			q->name[k++] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
		}
		off += l;
	}
	q->name[k] = '\0';
	return (int)off;
}

int dns_parse_query(const uint8_t *msg, size_t len, DnsQuery *q)
{
	memset(q, 0, sizeof(*q));
	if (len < HEADER_LEN)
		return -EBADMSG;
	q->id = get16(msg);
	q->flags = get16(msg + 2);
	if ((q->flags & FLAG_QR) || OPCODE(q->flags) != 0 || get16(msg + 4) != 1 ||
	    get16(msg + 6) != 0 || get16(msg + 8) != 0)
		return -EPROTO; /* a reply, another opcode, or not exactly one question */
	int off = parse_name(msg, len, HEADER_LEN, q);
	if (off < 0 || (size_t)off + 4 > len)
		return -EPROTO;
	q->qtype = get16(msg + off);
	q->qclass = get16(msg + off + 2);
	q->question_len = (size_t)off + 4 - HEADER_LEN;
	memcpy(q->question, msg + HEADER_LEN, q->question_len);
	return 0;
}

size_t dns_build_reply(const DnsQuery *q, int rcode, const void *addrs, size_t n, uint32_t ttl,
                       uint8_t out[DNS_REPLY_MAX])
{
	size_t alen = q->qtype == DNS_TYPE_AAAA ? 16 : 4;
	size_t room = DNS_REPLY_MAX - HEADER_LEN - q->question_len;
	size_t each = 2 + 2 + 2 + 4 + 2 + alen; /* name pointer, type, class, ttl, length, data */

	if (rcode != DNS_RCODE_OK || (q->qtype != DNS_TYPE_A && q->qtype != DNS_TYPE_AAAA))
		n = 0;
	if (n > room / each)
		n = room / each;
	uint8_t *p = out;
	p = put16(p, q->id);
	p = put16(p, (uint16_t)(FLAG_QR | (q->flags & FLAG_RD) | FLAG_RA | (rcode & 0xf)));
	p = put16(p, q->question_len ? 1 : 0);
	p = put16(p, (uint16_t)n);
	p = put16(p, 0);
	p = put16(p, 0);
	memcpy(p, q->question, q->question_len);
	p += q->question_len;
	for (size_t i = 0; i < n; i++) {
		p = put16(p, 0xc000 | HEADER_LEN); /* the question's name */
		p = put16(p, q->qtype);
		p = put16(p, DNS_CLASS_IN);
		p = put16(p, (uint16_t)(ttl >> 16));
		p = put16(p, (uint16_t)ttl);
		p = put16(p, (uint16_t)alen);
		memcpy(p, (const uint8_t *)addrs + i * alen, alen);
		p += alen;
	}
	return (size_t)(p - out);
}
