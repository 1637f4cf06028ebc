/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Resource patterns (SPEC §2.2): path globs, name globs, host patterns.  Pure functions, no I/O.
 * Patterns are compiled once (pattern_*_compile) and matched many times without allocating.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "omnibase/omnibase.h"

/* One segment of a path glob: a byte range of Glob.text, or a `**`. */
typedef struct GlobSeg {
	uint32_t off, len;
	bool globstar; /* the whole segment is `**` */
	bool literal;  /* no wildcard and no escape: compare bytes */
} GlobSeg;

/*
 * A compiled glob.  `text` is the canonical form: escapes are kept only where they matter
 * (before `*`, `?`, `\`), paths are normalised.  Segmented globs (paths) treat '/' as the
 * separator: `*` and `?` never match it, a `**` segment matches zero or more segments.
 */
typedef struct Glob {
	char *text;
	size_t len;
	char *lit; /* unescaped literal prefix: the whole text when `literal` */
	size_t lit_len;
	bool literal;
	bool segmented;
	bool absolute;
	GlobSeg *segs;
	size_t n_segs;
} Glob;

typedef enum HostKind {
	HOST_ANY,    /* "*" */
	HOST_NAME,   /* "api.example.com" */
	HOST_SUFFIX, /* "*.example.com": name holds ".example.com" */
	HOST_IP,     /* IPv4/IPv6 literal or CIDR */
} HostKind;

typedef struct HostPattern {
	HostKind kind;
	char *name;
	size_t name_len;
	bool v4;
	uint8_t bits; /* prefix length; 32 or 128 for a single address */
	uint8_t addr[16];
	uint16_t port; /* 0 = any port */
	char *text;    /* canonical "host[:port]" */
} HostPattern;

/* A concrete host to check: a lower-cased name or an address, and a port. */
typedef struct HostRequest {
	bool is_ip;
	bool v4;
	uint8_t addr[16];
	char name[256];
	size_t name_len;
	uint16_t port;
} HostRequest;

#define PATTERN_PATH_MAX PATH_MAX

/*
 * Lexically normalises the path P (LEN bytes) into BUF (SIZE bytes, NUL-terminated): joins a
 * relative path to BASE (absolute, or NULL to refuse relative paths), drops empty and "."
 * segments, resolves ".." (at "/" it stays "/"; with ROOTED false the result is relative to an
 * anonymous root and a ".." above it is refused), drops a trailing '/'.  With PATTERN, "\x"
 * escapes are validated (no escaped '/', none at a segment end) and kept.
 * Returns the length, or -EINVAL (NUL byte, relative without BASE, ".." above a relative root,
 * bad escape) or -ENAMETOOLONG.  MSG (may be NULL) receives a static description on error.
 */
int path_normalize(const char *p, size_t len, const char *base, bool rooted, bool pattern,
                   char *buf, size_t size, const char **msg);

/* True when P (LEN bytes) is already an absolute normalised path. */
bool path_is_normalized(const char *p, size_t len);

/* Compiles a glob over names (no separators) from P (LEN bytes); `*` and `?` match anything. */
int glob_compile_name(Glob *g, const char *p, size_t len, const char **msg);
/* Compiles an already normalised path glob (from path_normalize(..., pattern=true)). */
int glob_compile_path(Glob *g, const char *normalized, size_t len, const char **msg);
void glob_done(Glob *g);
int glob_copy(Glob *dst, const Glob *src);

/* True when the glob matches the literal string S (LEN bytes). */
bool glob_match(const Glob *g, const char *s, size_t len);
/* True when every string A matches... is matched by... : A ⊇ B (conservative). */
bool glob_covers(const Glob *a, const Glob *b);

/* Low-level: does the escaped glob P match literal S?  No separators. */
bool glob_match_raw(const char *p, size_t plen, const char *s, size_t slen);

/* Host patterns: "host[:port]", "*.suffix", "*", "[v6]:port", "a.b.c.d/n", "v6/n". */
int host_pattern_compile(HostPattern *h, const char *p, size_t len, const char **msg);
void host_pattern_done(HostPattern *h);
int host_pattern_copy(HostPattern *dst, const HostPattern *src);
/* Parses a concrete host (name, IPv4, IPv6 with or without brackets) and port 1..65535. */
int host_request_parse(HostRequest *r, const char *host, size_t len, unsigned port,
                       const char **msg);
/* Parses "host:port" ("[v6]:port" for IPv6). */
int host_request_parse_hostport(HostRequest *r, const char *hp, size_t len, const char **msg);
bool host_pattern_match(const HostPattern *h, const HostRequest *r);
bool host_pattern_covers(const HostPattern *a, const HostPattern *b);
/* Formats R as "host:port" into BUF. */
void host_request_format(const HostRequest *r, char *buf, size_t size);
