/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the DNS stub's query parser (any bytes arrive on the sandbox's port 53)
 * and the reply built from what it accepted. Beyond "no crash": an accepted name is at most
 * 253 printable characters with no empty label, and the reply never exceeds 512 bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "egress/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t addrs[32][16];
	uint8_t out[DNS_REPLY_MAX];
	DnsQuery q;

	int r = dns_parse_query(data, size, &q);
	if (r == 0) {
		size_t n = strlen(q.name);
		if (n > DNS_NAME_MAX || strstr(q.name, "..") || q.name[0] == '.' ||
		    (n && q.name[n - 1] == '.'))
			abort();
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)q.name[i] < 0x21 || (unsigned char)q.name[i] > 0x7e)
				abort();
	}
	if (r == 0 || r == -EPROTO) {
		size_t len = dns_build_reply(&q, size ? data[0] % 6 : 0, addrs, size % 33, 60, out);
		if (len > DNS_REPLY_MAX || len < 12)
			abort();
	}
	return 0;
}
