/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>

#include "omnibase/omnibase.h"

/* The review as JSON (borrowed): {"component", "requested": [{"capability", "principal",
 * "action", "resource", "decision", "policies": [{"id", "text"}], "errors"}], "granted"}. */
const json_t *review_json(const ob_review *rv);
/* Why the reviewed component is not trusted (its signature, key or entrypoint), or NULL
 * when it is. */
const char *review_untrusted_reason(const ob_review *rv);

/* A component id: letters, digits and '-' (it names files: no path can ride in on it). */
bool registry_id_is_valid(const char *s);
/* A relative path without "..", which an entrypoint must be. */
bool registry_entrypoint_is_safe(const char *e);

/* registry-store.c. Checks component UUID of DIR: the metadata's and the policy's signatures
 * by a key of DIR/keys, and the entrypoint's sha256. 0 (RET_ID: the signing key's id, or ""
 * when unknown), -EBADMSG not trusted (RETERR says why), -EINVAL, the errno of a file. */
int registry_verify(const char *dir, const char *uuid, char ret_id[17], ob_error *reterr);
/* Writes a file whole or not at all (a temporary name, fsync, rename). */
int registry_write_atomic(const char *path, const void *data, size_t len, ob_error *reterr);
/* Signs DATA (NAME in the trusted comment) with SECKEY into SIGPATH. */
int registry_sign_data(const char *seckey, const char *password_file, const void *data, size_t len,
                       const char *name, const char *sigpath, ob_error *reterr);
/* registry-admin.c: {"state": "verified", "key": ID} or {"state": "unverified", "reason"}. */
json_t *registry_signature_json(const char *dir, const char *uuid);
/* lint.c: ob_registry_lint(), and with REGISTRY (a real path, or NULL) also refusing writes
 * that reach that directory. */
int registry_lint(const char *path, const char *registry, char **ret, ob_error *reterr);
