/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The hash chain of an audit stream (SPEC §5, tamper evidence): each line carries `seq` (1, 2,
 * … per file or stream) and `prev`, the SHA-256 of the previous line's bytes without its
 * newline (64 zeros before the first line). */
#pragma once

#include <jansson.h>
#include <sys/types.h>

#include "omnibase/omnibase.h"

#define AUDIT_HASH_HEX 65 /* 64 lowercase hex digits and a NUL */
/* A last line longer than this is not read back to continue a chain (nor verified). */
#define AUDIT_LINE_MAX (16u << 20)

typedef struct AuditChain {
	uint64_t seq;              /* the seq of the last line, 0 before the first */
	char prev[AUDIT_HASH_HEX]; /* the hash of the last line, zeros before the first */
	off_t end;                 /* a file's size after its last line we know of; -1: a stream */
	bool broken;    /* a file whose new tail could not be read back: no more lines there */
	bool lock_slow; /* its lock was once held past the wait: later lines try it once only */
} AuditChain;

/* A fresh chain: seq 0, prev 64 zeros, END -1 (a stream, nothing to read back). */
void audit_chain_init(AuditChain *c);

/* Writes the lowercase hex SHA-256 (libsodium) of LEN bytes of DATA into HEX. */
void audit_hash_hex(const void *data, size_t len, char hex[AUDIT_HASH_HEX]);

/* Takes the chain fields of one line (LEN bytes, no newline): *RET_SEQ >= 1 and RET_PREV (64
 * lowercase hex digits).  Returns 0; -EBADMSG with RETERR saying what is wrong (not a JSON
 * object, no seq, bad prev) without any file or line prefix. */
int audit_line_chain(const char *line, size_t len, uint64_t *ret_seq, char ret_prev[AUDIT_HASH_HEX],
                     ob_error *reterr);

/* Reads the last line of the regular file FD (from the end: never the whole file) and sets C
 * to continue after it: its seq, its hash, and END the file's size.  An empty file gives a
 * fresh chain.  The caller holds the file's lock.  Returns 0; -EBADMSG (RETERR says why)
 * when the file does not end in a newline or its last line is not a chained event; -EFBIG
 * for a last line over AUDIT_LINE_MAX; -ENOMEM; the errno of fstat/pread. */
int audit_chain_load(AuditChain *c, int fd, ob_error *reterr);

/* Sets "seq" and "prev" in the event O for the next line of C, and returns the line as
 * compact ASCII JSON followed by a newline (malloc'ed, length in *RET_LEN), or NULL on
 * ENOMEM.  C is not advanced: audit_chain_advance() once the line was written. */
char *audit_chain_line(const AuditChain *c, json_t *o, size_t *ret_len);

/* Advances C past LINE (LEN bytes including its newline), written at a file's end (then
 * END grows by LEN) or to a stream. */
void audit_chain_advance(AuditChain *c, const char *line, size_t len);

/* A verifier fed one line at a time (verify.c). */
typedef struct AuditVerify {
	const char *name; /* the file's name for messages (borrowed) */
	uint64_t line;    /* lines seen */
	AuditChain chain;
} AuditVerify;

/* Checks the next line (LEN bytes, without its newline) against V and advances V.  Returns 0;
 * -EBADMSG with RETERR "NAME:LINE: what is wrong". */
int audit_verify_line(AuditVerify *v, const char *line, size_t len, ob_error *reterr);
