/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * UTF-8 checks for what the program hands us: a path's bytes are whatever it chose, and
 * jansson refuses a string that is not UTF-8 (json_pack fails, and the event with it).
 */
#include "basic/utf8.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The length of the valid UTF-8 sequence at S, 0 when there is none (RFC 3629 table). */
static size_t sequence_length(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xBF; /* the second byte's range */

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		lo = c == 0xE0 ? 0xA0 : 0x80;
		hi = c == 0xED ? 0x9F : 0xBF; /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		lo = c == 0xF0 ? 0x90 : 0x80;
		hi = c == 0xF4 ? 0x8F : 0xBF;
	} else
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return len;
}

bool utf8_is_valid(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t len = sequence_length(p);
		if (len == 0)
			return false;
		p += len;
	}
	return true;
}

const char *utf8_escape(const char *s, char *buf, size_t size)
{
	size_t o = 0;

	if (utf8_is_valid(s))
		return s;
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t len = sequence_length(p);
		bool escape = len == 0 || *p == '\\';
		size_t need = escape ? 4 : len;
		if (o + need >= size)
			break;
		if (escape)
			(void)snprintf(buf + o, size - o, "\\x%02x", *p);
		else
			memcpy(buf + o, p, len);
		o += need;
		p += escape ? 1 : len;
	}
	buf[o] = '\0';
	return buf;
}

size_t utf8_put(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

void utf8_position(const char *start, const char *at, unsigned *line, unsigned *col)
{
	*line = 1;
	*col = 1;
	for (const char *q = start; q < at; q++) {
		if (*q == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)*q & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}
