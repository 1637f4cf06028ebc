/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* minisign's formats (keys made here with libsodium, in minisign's layout), lint's rules, and
 * the registry store: add, sign, verify and what makes it fail. The interoperation with the
 * real minisign tool is tests/integration/test_registry.py's. */
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "omnibase/omnibase.h"
#include <cmocka.h>

#include "policy/minisign.h"
#include "policy/registry.h"

static uint8_t pk[32], sk[64], keynum[8] = {1, 2, 3, 4, 5, 6, 7, 8};

static char *b64(const uint8_t *bin, size_t n)
{
	size_t sz = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(sz);
	assert_non_null(s);
	(void)sodium_bin2base64(s, sz, bin, n, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

static char *pub_text(const uint8_t kn[8])
{
	uint8_t raw[42];
	char *out;
	memcpy(raw, "Ed", 2);
	memcpy(raw + 2, kn, 8);
	memcpy(raw + 10, pk, 32);
	char *s = b64(raw, sizeof(raw));
	assert_true(asprintf(&out, "untrusted comment: minisign public key\n%s\n", s) > 0);
	free(s);
	return out;
}

/* A secret key file; with PASSWORD, scrypt-encrypted at the smallest limits. */
static char *sec_text(const char *password, const char *kdf)
{
	uint8_t raw[158] = {0}, stream[104];
	crypto_generichash_state hs;
	char *out;

	memcpy(raw, "Ed", 2);
	memcpy(raw + 2, kdf, 2);
	memcpy(raw + 4, "B2", 2);
	randombytes_buf(raw + 6, 32);
	uint64_t ops = crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_MIN,
	         mem = crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_MIN;
	for (int i = 0; i < 8; i++) {
		raw[38 + i] = (uint8_t)(ops >> (8 * i));
		raw[46 + i] = (uint8_t)(mem >> (8 * i));
	}
	memcpy(raw + 54, keynum, 8);
	memcpy(raw + 62, sk, 64);
	if (password) {
		(void)crypto_generichash_init(&hs, NULL, 0, 32);
		(void)crypto_generichash_update(&hs, raw, 2);
		(void)crypto_generichash_update(&hs, raw + 54, 72);
		(void)crypto_generichash_final(&hs, raw + 126, 32);
		assert_int_equal(crypto_pwhash_scryptsalsa208sha256(stream, sizeof(stream),
		                                                    password, strlen(password),
		                                                    raw + 6, ops, (size_t)mem),
		                 0);
		for (size_t i = 0; i < sizeof(stream); i++)
			raw[54 + i] ^= stream[i];
	}
	char *s = b64(raw, sizeof(raw));
	assert_true(asprintf(&out, "untrusted comment: minisign secret key\n%s\n", s) > 0);
	free(s);
	return out;
}

static int setup(void **state)
{
	(void)state;
	assert_true(sodium_init() >= 0);
	crypto_sign_keypair(pk, sk);
	return 0;
}

static void test_key_id(void **state)
{
	char id[17];
	(void)state;
	minisign_key_id(keynum, id);
	assert_string_equal(id, "0807060504030201");
}

static void test_sign_verify(void **state)
{
	MinisignPubkey p;
	MinisignSeckey s;
	MinisignSig sig;
	ob_error e = {0};
	char *pt = pub_text(keynum), *st = sec_text(NULL, "\0\0"), *text = NULL;
	const char msg[] = "{\"a\": 1}\n";
	(void)state;

	assert_int_equal(minisign_pubkey_parse(pt, strlen(pt), "k.pub", &p, &e), 0);
	assert_int_equal(minisign_seckey_parse(st, strlen(st), "k.key", NULL, &s, &e), 0);
	assert_int_equal(minisign_sign(&s, msg, strlen(msg), "file:a\thashed", &text, &e), 0);
	assert_int_equal(minisign_sig_parse(text, strlen(text), "a.minisig", &sig, &e), 0);
	assert_true(sig.hashed);
	assert_string_equal(sig.trusted, "file:a\thashed");
	assert_int_equal(minisign_verify(&p, &sig, msg, strlen(msg), &e), 0);
	/* one byte of the file, the trusted comment, the key */
	assert_int_equal(minisign_verify(&p, &sig, msg, strlen(msg) - 1, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "does not match the file"));
	sig.trusted[0] = 'F';
	assert_int_equal(minisign_verify(&p, &sig, msg, strlen(msg), &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "trusted comment"));
	p.keynum[0] ^= 1;
	assert_int_equal(minisign_verify(&p, &sig, msg, strlen(msg), &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "signed by key 0807060504030201"));
	assert_int_equal(minisign_sign(&s, msg, 1, "bad\x01", &text, &e), -EINVAL);
	free(pt);
	free(st);
	free(text);
}

/* The legacy "Ed" form signs the file itself. */
static void test_legacy(void **state)
{
	uint8_t raw[74], glob[64], g[64 + 3];
	MinisignPubkey p = {0};
	MinisignSig sig;
	ob_error e = {0};
	char *text;
	const char msg[] = "hello";
	(void)state;

	memcpy(raw, "Ed", 2);
	memcpy(raw + 2, keynum, 8);
	crypto_sign_detached(raw + 10, NULL, (const uint8_t *)msg, 5, sk);
	memcpy(g, raw + 10, 64);
	memcpy(g + 64, "t c", 3);
	crypto_sign_detached(glob, NULL, g, sizeof(g), sk);
	char *a = b64(raw, sizeof(raw)), *b = b64(glob, sizeof(glob));
	assert_true(asprintf(&text,
	                     "untrusted comment: x\r\n%s\r\ntrusted comment: t c\r\n%s\r\n\n", a,
	                     b) > 0);
	assert_int_equal(minisign_sig_parse(text, strlen(text), "s", &sig, &e), 0);
	assert_false(sig.hashed);
	memcpy(p.keynum, keynum, 8);
	memcpy(p.pk, pk, 32);
	assert_int_equal(minisign_verify(&p, &sig, msg, 5, &e), 0);
	assert_int_equal(minisign_verify(&p, &sig, "hellO", 5, &e), -EBADMSG);
	free(a);
	free(b);
	free(text);
}

static void test_encrypted(void **state)
{
	MinisignSeckey s;
	ob_error e = {0};
	char *st = sec_text("secret", "Sc");
	(void)state;

	assert_int_equal(minisign_seckey_parse(st, strlen(st), "k", NULL, &s, &e), -EACCES);
	assert_non_null(strstr(e.msg, "encrypted"));
	assert_int_equal(minisign_seckey_parse(st, strlen(st), "k", "wrong", &s, &e), -EACCES);
	assert_non_null(strstr(e.msg, "wrong password"));
	assert_int_equal(minisign_seckey_parse(st, strlen(st), "k", "secret", &s, &e), 0);
	assert_memory_equal(s.sk, sk, 64);
	free(st);
	st = sec_text(NULL, "Xx");
	assert_int_equal(minisign_seckey_parse(st, strlen(st), "k", NULL, &s, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "key derivation"));
	free(st);
}

static void expect_bad(int (*parse)(const char *, size_t, const char *, void *, ob_error *),
                       const char *text, const char *needle)
{
	uint8_t buf[sizeof(MinisignSig)];
	ob_error e = {0};
	assert_int_equal(parse(text, strlen(text), "f", buf, &e), -EINVAL);
	if (!strstr(e.msg, needle))
		fail_msg("'%s' lacks '%s'", e.msg, needle);
}

static int pub_parse(const char *t, size_t n, const char *name, void *r, ob_error *e)
{
	return minisign_pubkey_parse(t, n, name, r, e);
}
static int sig_parse(const char *t, size_t n, const char *name, void *r, ob_error *e)
{
	return minisign_sig_parse(t, n, name, r, e);
}
static int sec_parse(const char *t, size_t n, const char *name, void *r, ob_error *e)
{
	return minisign_seckey_parse(t, n, name, NULL, r, e);
}

static void test_malformed(void **state)
{
	MinisignPubkey p;
	ob_error e = {0};
	char *pt = pub_text(keynum), *st = sec_text(NULL, "\0\0");
	(void)state;

	/* just the base64 line is a key too (minisign -P) */
	assert_int_equal(
	    minisign_pubkey_parse(strchr(pt, '\n') + 1, strlen(strchr(pt, '\n') + 1), "k", &p, &e),
	    0);
	assert_int_equal(minisign_pubkey_parse("a\0b", 3, "k", &p, &e), -EINVAL);
	expect_bad(pub_parse, "", "not a minisign public key");
	expect_bad(pub_parse, "comment\nRWQ=\n", "not a minisign public key");
	expect_bad(pub_parse, "untrusted comment: x\nRWSu9pgRBNm453uF\n", "not 42 bytes");
	expect_bad(
	    pub_parse,
	    "untrusted comment: x\nRWSu9pgRBNm453uFd6XKXHoMG4gl+V7lirb1MJqrd0vQFxiLcIG1vfc\n",
	    "not 42 bytes");
	expect_bad(
	    pub_parse,
	    "untrusted comment: x\nQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\n",
	    "unsupported key algorithm");
	expect_bad(pub_parse, pt + 0 == pt ? "a\nb\nc\nd\ne\nf\n" : "", "not a minisign public");
	expect_bad(sig_parse, "untrusted comment: x\nAAAA\n", "not a minisign signature");
	expect_bad(sig_parse, "untrusted comment: x\nAAAA\ntrusted comment: y\nAAAA\n",
	           "line 2: the signature is not 74 bytes");
	char sig[600], *raw74 = NULL, *g = NULL;
	uint8_t zero[74] = {'E', 'd'};
	raw74 = b64(zero, 74);
	g = b64(zero, 64);
	(void)snprintf(sig, sizeof(sig), "untrusted comment: x\n%s\ntrusted comment: y\n%.20s\n",
	               raw74, g);
	expect_bad(sig_parse, sig, "line 4");
	(void)snprintf(sig, sizeof(sig), "untrusted comment: x\n%s\ntrusted comment: \x01\n%s\n",
	               raw74, g);
	expect_bad(sig_parse, sig, "unprintable");
	zero[1] = 'x';
	free(raw74);
	raw74 = b64(zero, 74);
	(void)snprintf(sig, sizeof(sig), "untrusted comment: x\n%s\ntrusted comment: y\n%s\n",
	               raw74, g);
	expect_bad(sig_parse, sig, "unsupported signature algorithm");
	expect_bad(sec_parse, "untrusted comment: x\n", "not a minisign secret key");
	expect_bad(sec_parse, pt, "not 158 bytes");
	st[strlen(st) - 5] ^= 1; /* a flipped bit in the key: its halves no longer agree */
	expect_bad(sec_parse, st, "");
	uint8_t bad[158] = {'E', 'd', 0, 0, 'X', 'X'};
	char *bt = b64(bad, sizeof(bad)), text[400];
	(void)snprintf(text, sizeof(text), "untrusted comment: x\n%s\n", bt);
	expect_bad(sec_parse, text, "unsupported key or checksum");
	free(bt);
	free(raw74);
	free(g);
	free(pt);
	free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_key_id),    cmocka_unit_test(test_sign_verify),
	    cmocka_unit_test(test_legacy),    cmocka_unit_test(test_encrypted),
	    cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
