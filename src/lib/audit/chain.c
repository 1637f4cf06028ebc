/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "audit/chain.h"

#include <assert.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/macro.h"

/* How much of a file's end is read at a time while looking for its last line. */
#define TAIL_CHUNK 4096

void audit_chain_init(AuditChain *c)
{
	*c = (AuditChain){.end = -1};
	memset(c->prev, '0', AUDIT_HASH_HEX - 1);
}

/* crypto_hash_sha256 needs no sodium_init(): SHA-256 has no CPU dispatch or random state in
 * libsodium, and sodium_init() could open /dev/urandom behind the caller's back. */
void audit_hash_hex(const void *data, size_t len, char hex[AUDIT_HASH_HEX])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	(void)crypto_hash_sha256(h, data, len);
	(void)sodium_bin2hex(hex, AUDIT_HASH_HEX, h, sizeof(h));
}

static bool is_hash_hex(const char *s)
{
	if (strlen(s) != AUDIT_HASH_HEX - 1)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

int audit_line_chain(const char *line, size_t len, uint64_t *ret_seq, char ret_prev[AUDIT_HASH_HEX],
                     ob_error *reterr)
{
	json_error_t jerr;

	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(o)) {
		json_decref(o);
		return ob_error_set(reterr, -EBADMSG, "not a JSON object (%s)",
		                    o ? "another JSON value" : jerr.text);
	}
	json_t *seq = json_object_get(o, "seq");
	const char *prev = json_string_value(json_object_get(o, "prev"));
	int r = 0;
	if (!json_is_integer(seq) || json_integer_value(seq) < 1)
		r = ob_error_set(reterr, -EBADMSG,
		                 "no \"seq\" (a number from 1): not a chained event");
	else if (!prev || !is_hash_hex(prev))
		r = ob_error_set(reterr, -EBADMSG,
		                 "no \"prev\" (64 lowercase hex digits): not a chained event");
	else {
		*ret_seq = (uint64_t)json_integer_value(seq);
		memcpy(ret_prev, prev, AUDIT_HASH_HEX);
	}
	json_decref(o);
	return r;
}

/* Reads backwards from END in chunks until a newline before END-1 (or the file's start)
 * bounds the last line; returns its start offset, or -errno. */
static off_t last_line_start(int fd, off_t end)
{
	char buf[TAIL_CHUNK];
	off_t pos = end - 1; /* the final newline, already checked */

	while (pos > 0) {
		size_t n = (size_t)MIN((off_t)sizeof(buf), pos);
		ssize_t k = pread(fd, buf, n, pos - (off_t)n);
		if (k < 0)
			return -errno;
		if ((size_t)k != n)
			return -EIO; /* the file shrank under us */
		for (size_t i = n; i > 0; i--)
			if (buf[i - 1] == '\n')
				return pos - (off_t)n + (off_t)i;
		pos -= (off_t)n;
		if (end - pos > (off_t)AUDIT_LINE_MAX)
			return -EFBIG;
	}
	return 0;
}

int audit_chain_load(AuditChain *c, int fd, ob_error *reterr)
{
	struct stat st;
	char last;

	audit_chain_init(c);
	if (fstat(fd, &st) < 0)
		return ob_error_set(reterr, -errno, "fstat: %s", strerror(errno));
	c->end = st.st_size;
	if (st.st_size == 0)
		return 0;
	if (pread(fd, &last, 1, st.st_size - 1) != 1)
		return ob_error_set(reterr, -EIO, "reading its last byte failed");
	if (last != '\n')
		return ob_error_set(
		    reterr, -EBADMSG,
		    "does not end in a newline (a write cut short, or not an audit "
		    "log): check it with `omnibase audit verify` and start a new file");
	off_t start = last_line_start(fd, st.st_size);
	if (start < 0)
		return ob_error_set(reterr, (int)start, "reading its last line: %s",
		                    strerror((int)-start));
	size_t len = (size_t)(st.st_size - 1 - start);
	_cleanup_free_ char *line = malloc(len + 1);
	if (!line)
		return ob_error_set(reterr, -ENOMEM, "out of memory");
	if (pread(fd, line, len, start) != (ssize_t)len)
		return ob_error_set(reterr, -EIO, "reading its last line failed");
	ob_error e = {0};
	int r = audit_line_chain(line, len, &c->seq, c->prev, &e);
	if (r < 0)
		return ob_error_set(
		    reterr, r,
		    "its last line cannot be continued: %s (check it with `omnibase "
		    "audit verify` and start a new file)",
		    e.msg);
	audit_hash_hex(line, len, c->prev);
	return 0;
}

char *audit_chain_line(const AuditChain *c, json_t *o, size_t *ret_len)
{
	if (json_object_set_new(o, "seq", json_integer((json_int_t)c->seq + 1)) < 0 ||
	    json_object_set_new(o, "prev", json_string(c->prev)) < 0)
		return NULL;
	char *line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (!line)
		return NULL;
	size_t len = strlen(line);
	line[len] = '\n'; /* json_dumps allocated len + 1: the NUL becomes the newline */
	*ret_len = len + 1;
	return line;
}

void audit_chain_advance(AuditChain *c, const char *line, size_t len)
{
	assert(len > 0 && line[len - 1] == '\n');
	c->seq++;
	audit_hash_hex(line, len - 1, c->prev);
	if (c->end >= 0)
		c->end += (off_t)len;
}
