/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Checking an audit log's hash chain, and printing its events (omnibase audit verify|tail). */
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audit/chain.h"
#include "basic/error.h"
#include "basic/macro.h"

int audit_verify_line(AuditVerify *v, const char *line, size_t len, ob_error *reterr)
{
	uint64_t seq;
	char prev[AUDIT_HASH_HEX];
	ob_error e = {0};

	v->line++;
	if (audit_line_chain(line, len, &seq, prev, &e) < 0)
		return ob_error_set(reterr, -EBADMSG, "%s:%" PRIu64 ": %s", v->name, v->line,
		                    e.msg);
	if (seq != v->chain.seq + 1)
		return ob_error_set(
		    reterr, -EBADMSG,
		    "%s:%" PRIu64 ": seq %" PRIu64 " where %" PRIu64 " was expected: %s", v->name,
		    v->line, seq, v->chain.seq + 1,
		    seq > v->chain.seq + 1 ? "a line before it was deleted, or lines "
		                             "were reordered"
		                           : "a line was repeated, or lines were "
		                             "reordered");
	if (!streq(prev, v->chain.prev))
		return ob_error_set(reterr, -EBADMSG,
		                    "%s:%" PRIu64 ": expected prev %s (the hash of line %" PRIu64
		                    "), found %s: the line before was edited, deleted or reordered",
		                    v->name, v->line, v->chain.prev, v->line - 1, prev);
	v->chain.seq = seq;
	audit_hash_hex(line, len, v->chain.prev);
	return 0;
}

/* Feeds the complete lines of DATA (SIZE bytes) to V; *RET_USED is how many bytes they took
 * (the rest is an unfinished last line). */
static int verify_lines(AuditVerify *v, const char *data, size_t size, size_t *ret_used,
                        ob_error *reterr)
{
	size_t used = 0;

	*ret_used = 0;
	if (size == 0)
		return 0; /* DATA may be NULL */
	for (const char *nl; (nl = memchr(data + used, '\n', size - used));
	     used = (size_t)(nl - data) + 1) {
		int r = audit_verify_line(v, data + used, (size_t)(nl - data) - used, reterr);
		if (r < 0)
			return r;
	}
	*ret_used = used;
	return 0;
}

static int verify_end(AuditVerify *v, size_t rest, uint64_t *ret_events, ob_error *reterr)
{
	if (rest > 0)
		return ob_error_set(reterr, -EBADMSG,
		                    "%s:%" PRIu64 ": the last line has no newline: a write was cut "
		                    "short, or the file was truncated",
		                    v->name, v->line + 1);
	if (ret_events)
		*ret_events = v->line;
	return 0;
}

int ob_audit_verify_buffer(const char *data, size_t size, const char *name, uint64_t *ret_events,
                           ob_error *reterr)
{
	AuditVerify v = {.name = name};
	size_t used;

	assert_return(data || size == 0, -EINVAL);
	assert_return(name, -EINVAL);
	audit_chain_init(&v.chain);
	int r = verify_lines(&v, data, size, &used, reterr);
	if (r < 0)
		return r;
	return verify_end(&v, size - used, ret_events, reterr);
}

int ob_audit_verify(const char *path, uint64_t *ret_events, ob_error *reterr)
{
	AuditVerify v = {.name = path};
	size_t have = 0, cap = 1 << 16;

	assert_return(path, -EINVAL);
	audit_chain_init(&v.chain);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return ob_error_set(reterr, -errno, "%s: %s", path, strerror(errno));
	_cleanup_free_ char *buf = malloc(cap);
	if (!buf)
		return ob_error_set(reterr, -ENOMEM, "%s: out of memory", path);
	for (;;) {
		if (have == cap) { /* one line fills the buffer: grow it, up to AUDIT_LINE_MAX */
			if (cap >= AUDIT_LINE_MAX)
				return ob_error_set(reterr, -EFBIG,
				                    "%s:%" PRIu64 ": a line over %u bytes", path,
				                    v.line + 1, AUDIT_LINE_MAX);
			char *p = realloc(buf, cap * 2);
			if (!p)
				return ob_error_set(reterr, -ENOMEM, "%s: out of memory", path);
			buf = p;
			cap *= 2;
		}
		ssize_t k = read(fd, buf + have, cap - have);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return ob_error_set(reterr, -errno, "%s: %s", path, strerror(errno));
		if (k == 0)
			break;
		have += (size_t)k;
		size_t used;
		int r = verify_lines(&v, buf, have, &used, reterr);
		if (r < 0)
			return r;
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	return verify_end(&v, have, ret_events, reterr);
}
