/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal view of capabilities, shared by capability.c, capset.c and capfile.c. */
#pragma once

#include "omnibase/omnibase.h"

#include "model/pattern.h"

typedef enum ResourceKind {
	RES_PATH,   /* absolute path glob: FILE_*, EXTERNAL_COMMAND with a '/' */
	RES_SQLITE, /* "sqlite:" + absolute path glob: DATABASE_* */
	RES_STORE,  /* path glob relative to a store root: REGISTRY_*, ARTIFACT_* */
	RES_NAME,   /* name glob: SECRET_ACCESS, bare EXTERNAL_COMMAND */
	RES_HOST,   /* host pattern: NETWORK_CONNECT */
	RES_UNIX,   /* "unix:" + absolute path glob: NETWORK_CONNECT to a host unix socket */
	RES_URL,    /* scheme://host[:port][/db]: DATABASE_* */
} ResourceKind;

typedef struct Condition {
	char *key;
	Glob value;
} Condition;

struct ob_capability {
	ob_cap_type type;
	ResourceKind kind;
	char *resource; /* canonical text, as printed and compared */
	Glob glob;      /* PATH, SQLITE, UNIX, STORE, NAME; the database name of URL */
	HostPattern host;
	char scheme[32];
	bool any_db;
	Condition *conds;
	size_t n_conds;
};

/* A concrete request, parsed and normalised into caller storage (no allocation). */
typedef struct Request {
	ob_cap_type type;
	ResourceKind kind;
	const char *s; /* PATH, SQLITE, UNIX, STORE, NAME: the text to match; URL: the db name */
	size_t len;
	HostRequest host;
	char scheme[32];
	char buf[PATTERN_PATH_MAX];
} Request;

/* The read type that TYPE's grants also allow (FILE_WRITE → FILE_READ …), or TYPE itself. */
ob_cap_type cap_type_implied_read(ob_cap_type type);

/* True when the NETWORK_CONNECT resource RES (LEN bytes) names a unix socket: "unix:" and a
 * path, not a port ("unix:80" and "unix:*" stay a host named unix). */
bool resource_is_unix(const char *res, size_t len);
/* Parses the concrete RESOURCE of a TYPE request, relative paths against WORKDIR. */
int request_parse(Request *rq, ob_cap_type type, const char *resource, size_t len,
                  const char *workdir, const char **msg);
bool capability_matches(const ob_capability *cap, const Request *rq);
bool capability_equal(const ob_capability *a, const ob_capability *b);
/* Appends copies of SRC's conditions to DST. */
int capability_add_conditions_of(ob_capability *dst, const ob_capability *src);
/* True when A's conditions hold wherever B's hold (each A condition implied by one of B). */
bool conditions_implied(const ob_capability *a, const ob_capability *b);
/* The context's entries, in the order they were first set. */
size_t context_size(const ob_context *ctx);
void context_entry(const ob_context *ctx, size_t i, const char **key, const char **value);
/* True for 1..128 bytes of [A-Za-z0-9_.-]. */
bool context_key_is_valid(const char *key);
/* Formats "TYPE:RESOURCE" plus " when k=v,…" (WITH_WHEN) into BUF. */
void capability_format(const ob_capability *cap, bool with_when, char *buf, size_t size);
