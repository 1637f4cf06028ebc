/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * minisign-compatible keys and signatures, our own code over libsodium (Ed25519, BLAKE2b,
 * scrypt). The layouts, all fixed-size:
 *
 *   public key  "Ed" keynum[8] pk[32]
 *   secret key  "Ed" kdf[2] ("Sc" or two NULs) "B2" salt[32] opslimit[8] memlimit[8]
 *               then, XORed with scrypt's stream when kdf is "Sc":
 *               keynum[8] sk[64] chk[32] (chk = BLAKE2b-256("Ed" keynum sk))
 *   signature   "Ed"|"ED" keynum[8] sig[64]; "ED" signs BLAKE2b-512 of the file
 *   global sig  Ed25519(sig[64] || trusted comment) on the fourth line
 */
#include "policy/minisign.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"

#define UNTRUSTED_PREFIX "untrusted comment: "
#define TRUSTED_PREFIX   "trusted comment: "
#define SECKEY_BYTES     (2 + 2 + 2 + 32 + 8 + 8 + 8 + 64 + 32)
#define LINES_MAX        4

void minisign_key_id(const uint8_t keynum[MINISIGN_KEYNUM_BYTES], char out[17])
{
	for (size_t i = 0; i < MINISIGN_KEYNUM_BYTES; i++)
		(void)snprintf(out + 2 * i, 3, "%02X", keynum[MINISIGN_KEYNUM_BYTES - 1 - i]);
}

typedef struct Line {
	const char *p;
	size_t n;
} Line;

/* Splits TEXT into at most LINES_MAX lines without their "\n" or "\r\n"; a NUL byte or a
 * fifth non-empty line makes it malformed. Returns the number of lines or -EINVAL. */
static int split_lines(const char *text, size_t len, Line lines[LINES_MAX])
{
	size_t k = 0, start = 0;

	if (memchr(text, '\0', len))
		return -EINVAL;
	while (start < len) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) : len, n = end - start;
		if (n > 0 && text[start + n - 1] == '\r')
			n--;
		if (k == LINES_MAX && n > 0)
			return -EINVAL;
		if (k < LINES_MAX)
			lines[k++] = (Line){text + start, n};
		start = end + 1;
	}
	/* Trailing empty lines (a final "\n\n") are tolerated, as fgets-based readers do. */
	while (k > 0 && lines[k - 1].n == 0)
		k--;
	return (int)k;
}

static bool has_prefix(const Line *l, const char *prefix)
{
	size_t n = strlen(prefix);
	return l->n >= n && memcmp(l->p, prefix, n) == 0;
}

/* Decodes the base64 line L into exactly SIZE bytes of OUT; -EINVAL otherwise. */
static int b64_exact(const Line *l, uint8_t *out, size_t size)
{
	size_t got = 0;
	const char *end = NULL;

	if (sodium_base642bin(out, size, l->p, l->n, " \t", &got, &end,
	                      sodium_base64_VARIANT_ORIGINAL) != 0)
		return -EINVAL;
	if (got != size || end != l->p + l->n)
		return -EINVAL;
	return 0;
}

int minisign_pubkey_parse(const char *text, size_t len, const char *name, MinisignPubkey *ret,
                          ob_error *reterr)
{
	Line lines[LINES_MAX];
	uint8_t raw[2 + MINISIGN_KEYNUM_BYTES + 32];

	int n = split_lines(text, len, lines);
	if (n < 1 || n > 2 || (n == 2 && !has_prefix(&lines[0], UNTRUSTED_PREFIX)))
		return ob_error_set(reterr, -EINVAL,
		                    "%s: not a minisign public key (an \"untrusted comment:\" line "
		                    "and a base64 line)",
		                    name);
	if (b64_exact(&lines[n - 1], raw, sizeof(raw)) < 0)
		return ob_error_set(reterr, -EINVAL,
		                    "%s: the key is not %zu bytes of base64 (truncated or not a "
		                    "public key)",
		                    name, sizeof(raw));
	if (memcmp(raw, "Ed", 2) != 0)
		return ob_error_set(reterr, -EINVAL, "%s: unsupported key algorithm (not \"Ed\")",
		                    name);
	memcpy(ret->keynum, raw + 2, MINISIGN_KEYNUM_BYTES);
	memcpy(ret->pk, raw + 2 + MINISIGN_KEYNUM_BYTES, 32);
	return 0;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* Decrypts the keynum/sk/chk part of RAW in place with scrypt(PASSWORD). */
static int seckey_decrypt(uint8_t *raw, const char *name, const char *password, ob_error *reterr)
{
	uint8_t stream[8 + 64 + 32];
	uint64_t ops = le64(raw + 38), mem = le64(raw + 46);

	if (!password)
		return ob_error_set(reterr, -EACCES,
		                    "%s: the secret key is encrypted: give its password "
		                    "(--password-file FILE or OMNIBASE_KEY_PASSWORD)",
		                    name);
	/* The limits come from the file: bound them so a hostile key cannot ask for terabytes. */
	if (mem > (UINT64_C(2) << 30) || ops > (UINT64_C(1) << 32))
		return ob_error_set(reterr, -EINVAL, "%s: scrypt limits out of range", name);
	if (crypto_pwhash_scryptsalsa208sha256(stream, sizeof(stream), password, strlen(password),
	                                       raw + 6, ops, (size_t)mem) != 0)
		return ob_error_set(reterr, -ENOMEM, "%s: scrypt failed (out of memory?)", name);
	for (size_t i = 0; i < sizeof(stream); i++)
		raw[54 + i] ^= stream[i];
	sodium_memzero(stream, sizeof(stream));
	return 0;
}

static bool seckey_chk_ok(const uint8_t *raw)
{
	crypto_generichash_state hs;
	uint8_t chk[32];

	(void)crypto_generichash_init(&hs, NULL, 0, sizeof(chk));
	(void)crypto_generichash_update(&hs, raw, 2);
	(void)crypto_generichash_update(&hs, raw + 54, 8 + 64);
	(void)crypto_generichash_final(&hs, chk, sizeof(chk));
	return sodium_memcmp(chk, raw + 54 + 8 + 64, sizeof(chk)) == 0;
}

static bool seckey_pair_ok(const uint8_t sk[64])
{
	uint8_t pk[32], sk2[64];

	(void)crypto_sign_seed_keypair(pk, sk2, sk);
	bool ok = sodium_memcmp(sk2, sk, 64) == 0;
	sodium_memzero(sk2, sizeof(sk2));
	return ok;
}

int minisign_seckey_parse(const char *text, size_t len, const char *name, const char *password,
                          MinisignSeckey *ret, ob_error *reterr)
{
	Line lines[LINES_MAX];
	uint8_t raw[SECKEY_BYTES];
	int r = 0;

	int n = split_lines(text, len, lines);
	if (n != 2 || !has_prefix(&lines[0], UNTRUSTED_PREFIX))
		return ob_error_set(reterr, -EINVAL,
		                    "%s: not a minisign secret key (an \"untrusted comment:\" line "
		                    "and a base64 line)",
		                    name);
	if (b64_exact(&lines[1], raw, sizeof(raw)) < 0)
		return ob_error_set(reterr, -EINVAL,
		                    "%s: the key is not %d bytes of base64 (truncated, or a "
		                    "public key)",
		                    name, SECKEY_BYTES);
	if (memcmp(raw, "Ed", 2) != 0 || memcmp(raw + 4, "B2", 2) != 0)
		return ob_error_set(reterr, -EINVAL, "%s: unsupported key or checksum algorithm",
		                    name);
	if (memcmp(raw + 2, "Sc", 2) == 0)
		r = seckey_decrypt(raw, name, password, reterr);
	else if (memcmp(raw + 2, "\0\0", 2) != 0)
		r = ob_error_set(reterr, -EINVAL, "%s: unsupported key derivation", name);
	if (r < 0)
		goto out;
	bool encrypted = memcmp(raw + 2, "Sc", 2) == 0;
	if (encrypted && !seckey_chk_ok(raw)) {
		r = ob_error_set(reterr, -EACCES, "%s: wrong password for this key", name);
		goto out;
	}
	/* An unencrypted key carries no checksum (minisign -W leaves it zero): check instead that
	 * the secret key's public half is the one its seed derives. */
	if (!encrypted && !seckey_pair_ok(raw + 54 + 8)) {
		r = ob_error_set(reterr, -EINVAL, "%s: the secret key is corrupted", name);
		goto out;
	}
	memcpy(ret->keynum, raw + 54, MINISIGN_KEYNUM_BYTES);
	memcpy(ret->sk, raw + 54 + 8, 64);
out:
	sodium_memzero(raw, sizeof(raw));
	return r;
}

/* As minisign: tabs and UTF-8 allowed, other control characters not. */
static bool printable(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
			return false;
	return true;
}

int minisign_sig_parse(const char *text, size_t len, const char *name, MinisignSig *ret,
                       ob_error *reterr)
{
	Line lines[LINES_MAX];
	uint8_t raw[2 + MINISIGN_KEYNUM_BYTES + 64];
	size_t pl = strlen(TRUSTED_PREFIX);

	int n = split_lines(text, len, lines);
	if (n != 4 || !has_prefix(&lines[0], UNTRUSTED_PREFIX) ||
	    !has_prefix(&lines[2], TRUSTED_PREFIX))
		return ob_error_set(reterr, -EINVAL,
		                    "%s: not a minisign signature (untrusted comment, signature, "
		                    "trusted comment, global signature)",
		                    name);
	if (b64_exact(&lines[1], raw, sizeof(raw)) < 0)
		return ob_error_set(reterr, -EINVAL,
		                    "%s: line 2: the signature is not %zu bytes of base64", name,
		                    sizeof(raw));
	if (memcmp(raw, "Ed", 2) != 0 && memcmp(raw, "ED", 2) != 0)
		return ob_error_set(reterr, -EINVAL,
		                    "%s: unsupported signature algorithm (not \"Ed\" or \"ED\")",
		                    name);
	if (lines[2].n - pl >= sizeof(ret->trusted) || !printable(lines[2].p, lines[2].n))
		return ob_error_set(reterr, -EINVAL,
		                    "%s: line 3: the trusted comment is too long or unprintable",
		                    name);
	if (b64_exact(&lines[3], ret->global, sizeof(ret->global)) < 0)
		return ob_error_set(reterr, -EINVAL,
		                    "%s: line 4: the global signature is not 64 bytes of base64",
		                    name);
	ret->hashed = raw[1] == 'D';
	memcpy(ret->keynum, raw + 2, MINISIGN_KEYNUM_BYTES);
	memcpy(ret->sig, raw + 2 + MINISIGN_KEYNUM_BYTES, 64);
	memcpy(ret->trusted, lines[2].p + pl, lines[2].n - pl);
	ret->trusted[lines[2].n - pl] = '\0';
	return 0;
}

/* sig || trusted comment, what the global signature covers. */
static uint8_t *global_message(const uint8_t sig[64], const char *trusted, size_t *ret_len)
{
	size_t tl = strlen(trusted);
	uint8_t *m = malloc(64 + tl + 1);
	if (!m)
		return NULL;
	memcpy(m, sig, 64);
	memcpy(m + 64, trusted, tl + 1); /* the NUL is not signed: *ret_len stops before it */
	*ret_len = 64 + tl;
	return m;
}

int minisign_verify(const MinisignPubkey *pk, const MinisignSig *sig, const void *msg, size_t len,
                    ob_error *reterr)
{
	uint8_t hash[crypto_generichash_BYTES_MAX];
	size_t gl;

	if (memcmp(pk->keynum, sig->keynum, MINISIGN_KEYNUM_BYTES) != 0) {
		char a[17], b[17];
		minisign_key_id(sig->keynum, a);
		minisign_key_id(pk->keynum, b);
		return ob_error_set(reterr, -EBADMSG, "signed by key %s, not by key %s", a, b);
	}
	if (sig->hashed) {
		(void)crypto_generichash(hash, sizeof(hash), msg, len, NULL, 0);
		msg = hash;
		len = sizeof(hash);
	}
	if (crypto_sign_verify_detached(sig->sig, msg, len, pk->pk) != 0)
		return ob_error_set(reterr, -EBADMSG,
		                    "the signature does not match the file (edited since signed)");
	_cleanup_free_ uint8_t *g = global_message(sig->sig, sig->trusted, &gl);
	if (!g)
		return ob_error_set(reterr, -ENOMEM, "out of memory");
	if (crypto_sign_verify_detached(sig->global, g, gl, pk->pk) != 0)
		return ob_error_set(reterr, -EBADMSG,
		                    "the trusted comment's signature does not match (comment "
		                    "edited)");
	return 0;
}

static char *b64(const uint8_t *bin, size_t n)
{
	size_t sz = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(sz);
	if (s)
		(void)sodium_bin2base64(s, sz, bin, n, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

int minisign_sign(const MinisignSeckey *sk, const void *msg, size_t len, const char *trusted,
                  char **ret, ob_error *reterr)
{
	uint8_t hash[crypto_generichash_BYTES_MAX], raw[2 + MINISIGN_KEYNUM_BYTES + 64], glob[64];
	char id[17];
	size_t gl;

	if (strlen(trusted) >= MINISIGN_TRUSTED_MAX || !printable(trusted, strlen(trusted)))
		return ob_error_set(reterr, -EINVAL,
		                    "the trusted comment is too long or unprintable");
	(void)crypto_generichash(hash, sizeof(hash), msg, len, NULL, 0);
	raw[0] = 'E';
	raw[1] = 'D';
	memcpy(raw + 2, sk->keynum, MINISIGN_KEYNUM_BYTES);
	(void)crypto_sign_detached(raw + 2 + MINISIGN_KEYNUM_BYTES, NULL, hash, sizeof(hash),
	                           sk->sk);
	_cleanup_free_ uint8_t *g = global_message(raw + 2 + MINISIGN_KEYNUM_BYTES, trusted, &gl);
	if (!g)
		return ob_error_set(reterr, -ENOMEM, "out of memory");
	(void)crypto_sign_detached(glob, NULL, g, gl, sk->sk);
	_cleanup_free_ char *s1 = b64(raw, sizeof(raw));
	_cleanup_free_ char *s2 = b64(glob, sizeof(glob));
	minisign_key_id(sk->keynum, id);
	if (!s1 || !s2 ||
	    asprintf(ret, "%ssignature from omnibase secret key %s\n%s\n%s%s\n%s\n",
	             UNTRUSTED_PREFIX, id, s1, TRUSTED_PREFIX, trusted, s2) < 0)
		return ob_error_set(reterr, -ENOMEM, "out of memory");
	return 0;
}
