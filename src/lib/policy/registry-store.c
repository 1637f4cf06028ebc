/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The registry's store (SPEC §7): signatures of components (minisign-compatible, by a key in
 * DIR/keys), their entrypoints' sha256, and `registry add|list|show|sign`.
 *
 * A component is trusted when all of these hold:
 *   components/UUID.json            signed (components/UUID.json.minisig) by a trusted key
 *   policies/UUID.cedar.json        signed (….cedar.json.minisig) by a trusted key, so that
 *                                   a policy cannot be swapped under a signed component
 *   components/UUID/ENTRYPOINT      its sha256 is the metadata's "sha256"
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/json-locate.h"
#include "basic/macro.h"
#include "policy/minisign.h"
#include "policy/registry.h"

#define META_MAX_BYTES  (4u << 20)
#define SMALL_MAX_BYTES (64u << 10)
#define KEYS_MAX        64

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir)

typedef struct Keys {
	MinisignPubkey k[KEYS_MAX];
	size_t n;
} Keys;

/* Each DIR/keys/NAME.pub is a minisign public key; a malformed one is an error, not skipped, so
 * that a broken key file is noticed. */
static int keys_load(const char *dir, Keys *keys, ob_error *reterr)
{
	char path[4096];
	struct dirent *de;

	keys->n = 0;
	(void)snprintf(path, sizeof(path), "%s/keys", dir);
	_cleanup_(closedirp) DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT
		           ? 0
		           : ob_error_set(reterr, -errno, "%s: %s", path, strerror(errno));
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 5 || !streq(de->d_name + l - 4, ".pub") || de->d_name[0] == '.')
			continue;
		if (keys->n == KEYS_MAX)
			return ob_error_set(reterr, -E2BIG, "%s: more than %d keys", path,
			                    KEYS_MAX);
		char kp[4400];
		_cleanup_free_ char *text = NULL;
		size_t len;
		(void)snprintf(kp, sizeof(kp), "%s/%s", path, de->d_name);
		int r = read_file_limited(kp, SMALL_MAX_BYTES, &text, &len, reterr);
		if (r >= 0)
			r = minisign_pubkey_parse(text, len, kp, &keys->k[keys->n], reterr);
		if (r < 0)
			return r;
		keys->n++;
	}
	return 0;
}

/* Checks PATH against PATH.minisig and the trusted KEYS; *id: the signing key's id. */
static int verify_signed_file(const char *path, const Keys *keys, char id[17], ob_error *reterr)
{
	_cleanup_free_ char *data = NULL, *sigtext = NULL;
	char sp[4200];
	size_t len, slen;
	MinisignSig sig;

	int r = read_file_limited(path, META_MAX_BYTES, &data, &len, reterr);
	if (r < 0)
		return r;
	(void)snprintf(sp, sizeof(sp), "%s.minisig", path);
	if (access(sp, F_OK) < 0)
		return ob_error_set(reterr, -EBADMSG, "%s: not signed (no %s)", path, sp);
	r = read_file_limited(sp, SMALL_MAX_BYTES, &sigtext, &slen, reterr);
	if (r >= 0)
		r = minisign_sig_parse(sigtext, slen, sp, &sig, reterr);
	if (r < 0)
		return r == -ENOMEM ? r : -EBADMSG;
	minisign_key_id(sig.keynum, id);
	for (size_t i = 0; i < keys->n; i++)
		if (memcmp(keys->k[i].keynum, sig.keynum, MINISIGN_KEYNUM_BYTES) == 0) {
			ob_error e = {0};
			r = minisign_verify(&keys->k[i], &sig, data, len, &e);
			if (r < 0)
				return ob_error_set(reterr, r, "%s: %s", path, e.msg);
			return 0;
		}
	return ob_error_set(reterr, -EBADMSG,
	                    "%s: signed by key %s, which is not trusted (not in keys/)", path, id);
}

/* Lowercase hex SHA-256 of the file PATH. */
static int sha256_file(const char *path, char out[65], ob_error *reterr)
{
	crypto_hash_sha256_state st;
	uint8_t buf[65536], h[32];
	ssize_t n;

	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return ob_error_set(reterr, -errno, "%s: %s", path, strerror(errno));
	(void)crypto_hash_sha256_init(&st);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		(void)crypto_hash_sha256_update(&st, buf, (size_t)n);
	if (n < 0)
		return ob_error_set(reterr, -errno, "%s: %s", path, strerror(errno));
	(void)crypto_hash_sha256_final(&st, h);
	(void)sodium_bin2hex(out, 65, h, sizeof(h));
	return 0;
}

/* A relative path without "..": what an entrypoint may be, so it stays in its folder. */
bool registry_entrypoint_is_safe(const char *e)
{
	if (!*e || e[0] == '/')
		return false;
	for (const char *p = e; p; p = strchr(p, '/'), p = p ? p + 1 : NULL)
		if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0'))
			return false;
	return true;
}

static int verify_entrypoint(const char *dir, const char *uuid, const char *meta_path,
                             ob_error *reterr)
{
	_cleanup_(json_decrefp) json_t *meta = NULL;
	_cleanup_free_ char *data = NULL;
	char path[8400], hex[65];
	size_t len;

	int r = json_doc_load(meta_path, META_MAX_BYTES, &data, &len, &meta, reterr);
	if (r < 0)
		return r;
	const char *ep = json_string_value(json_object_get(meta, "entrypoint")),
	           *want = json_string_value(json_object_get(meta, "sha256"));
	if (!ep || !registry_entrypoint_is_safe(ep))
		return ob_error_set(reterr, -EBADMSG,
		                    "%s: $.entrypoint: missing, or not a relative path inside the "
		                    "component",
		                    meta_path);
	if (!want)
		return ob_error_set(reterr, -EBADMSG,
		                    "%s: $.sha256: missing (the entrypoint's hash)", meta_path);
	(void)snprintf(path, sizeof(path), "%s/components/%s/%s", dir, uuid, ep);
	r = sha256_file(path, hex, reterr);
	if (r < 0)
		return r;
	if (!streq(hex, want))
		return ob_error_set(
		    reterr, -EBADMSG,
		    "%s: sha256 %s, where the metadata says %s (changed since signed)", path, hex,
		    want);
	return 0;
}

int registry_verify(const char *dir, const char *uuid, char ret_id[17], ob_error *reterr)
{
	char meta[4200], pol[4200], id2[17];
	Keys keys;

	if (!registry_id_is_valid(uuid))
		return ob_error_set(reterr, -EINVAL,
		                    "'%.80s': expected a component id (letters, digits and '-')",
		                    uuid);
	(void)snprintf(meta, sizeof(meta), "%s/components/%s.json", dir, uuid);
	(void)snprintf(pol, sizeof(pol), "%s/policies/%s.cedar.json", dir, uuid);
	int r = keys_load(dir, &keys, reterr);
	if (r >= 0)
		r = verify_signed_file(meta, &keys, ret_id, reterr);
	if (r >= 0)
		r = verify_signed_file(pol, &keys, id2, reterr);
	if (r >= 0)
		r = verify_entrypoint(dir, uuid, meta, reterr);
	return r;
}

int ob_registry_verify(const char *dir, const char *uuid, char **ret_key, ob_error *reterr)
{
	char id[17] = "";

	assert_return(dir && uuid, -EINVAL);
	int r = registry_verify(dir, uuid, id, reterr);
	if (r >= 0 && ret_key && !(*ret_key = strdup(id)))
		return ob_error_set(reterr, -ENOMEM, "out of memory");
	return r;
}

/* Writes LEN bytes of DATA to PATH whole or not at all: a temporary name, fsync, rename. */
int registry_write_atomic(const char *path, const void *data, size_t len, ob_error *reterr)
{
	char tmp[4300];

	(void)snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0)
		return ob_error_set(reterr, -errno, "%s: %s", tmp, strerror(errno));
	int r = 0;
	for (size_t off = 0; off < len && r == 0;) {
		ssize_t n = write(fd, (const char *)data + off, len - off);
		if (n < 0)
			r = -errno;
		else
			off += (size_t)n;
	}
	if (r == 0 && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		(void)unlink(tmp);
		return ob_error_set(reterr, r, "%s: %s", path, strerror(-r));
	}
	return 0;
}

/* The password of an encrypted key: the first line of FILE, else $OMNIBASE_KEY_PASSWORD. */
static int password_get(const char *file, char **ret, ob_error *reterr)
{
	size_t len;

	*ret = NULL;
	if (!file) {
		const char *e = getenv("OMNIBASE_KEY_PASSWORD");
		if (e && !(*ret = strdup(e)))
			return ob_error_set(reterr, -ENOMEM, "out of memory");
		return 0;
	}
	int r = read_file_limited(file, 1024, ret, &len, reterr);
	if (r < 0)
		return r;
	(*ret)[strcspn(*ret, "\r\n")] = '\0';
	return 0;
}

/* Signs LEN bytes of DATA (named NAME in the trusted comment) with the secret key SECKEY
 * into SIGPATH, as `minisign -S` would. */
int registry_sign_data(const char *seckey, const char *password_file, const void *data, size_t len,
                       const char *name, const char *sigpath, ob_error *reterr)
{
	_cleanup_free_ char *ktext = NULL, *sig = NULL, *pw = NULL, *trusted = NULL, *nc = NULL;
	size_t klen;
	MinisignSeckey sk;

	int r = password_get(password_file, &pw, reterr);
	if (r >= 0)
		r = read_file_limited(seckey, SMALL_MAX_BYTES, &ktext, &klen, reterr);
	if (r >= 0)
		r = minisign_seckey_parse(ktext, klen, seckey, pw, &sk, reterr);
	if (pw)
		sodium_memzero(pw, strlen(pw));
	if (r < 0)
		return r;
	nc = strdup(name);
	if (!nc || asprintf(&trusted, "timestamp:%lld\tfile:%s\thashed", (long long)time(NULL),
	                    basename(nc)) < 0)
		r = ob_error_set(reterr, -ENOMEM, "out of memory");
	if (r >= 0)
		r = minisign_sign(&sk, data, len, trusted, &sig, reterr);
	sodium_memzero(&sk, sizeof(sk));
	if (r >= 0)
		r = registry_write_atomic(sigpath, sig, strlen(sig), reterr);
	return r;
}

int ob_registry_sign(const char *seckey, const char *password_file, const char *file,
                     ob_error *reterr)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	char sp[4200];

	assert_return(seckey && file, -EINVAL);
	int r = read_file_limited(file, META_MAX_BYTES, &data, &len, reterr);
	if (r < 0)
		return r;
	(void)snprintf(sp, sizeof(sp), "%s.minisig", file);
	return registry_sign_data(seckey, password_file, data, len, file, sp, reterr);
}
