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

static char tmpdir[] = "/tmp/ob-test-registry-XXXXXX";

static char *put(const char *name, const char *text)
{
	char *p;
	assert_true(asprintf(&p, "%s/%s", tmpdir, name) > 0);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	(void)fputs(text, f);
	assert_int_equal(fclose(f), 0);
	return p;
}

static int lint_text(const char *text, char **out)
{
	ob_error e = {0};
	char *p = put("m.json", text);
	int n = ob_registry_lint(p, out, &e);
	free(p);
	return n;
}

#define META_HEAD                                                                                  \
	"{\"uuid\": \"5f0c2b1e-9a8d-4c7b-b6a5-443322110000\", \"name\": \"n\", \"version\": 1, "   \
	"\"kind\": \"tool\", \"groups\": [\"g\"], \"entrypoint\": \"main.py\", \"sha256\": "       \
	"\"b0e2b0bf6d3e1bcbb2b6f0b8e6a3a5a2b0e2b0bf6d3e1bcbb2b6f0b8e6a3a5a2\""

static void expect_lint(const char *caps, const char *rule)
{
	char text[2048], *out = NULL;
	(void)snprintf(text, sizeof(text), META_HEAD ", \"capabilities\": [%s]}", caps);
	int n = lint_text(text, &out);
	if (rule ? (n < 1 || !strstr(out, rule)) : n != 0)
		fail_msg("%s: %d findings: %s", caps, n, out);
	free(out);
}

static void test_lint(void **state)
{
	char *out = NULL;
	ob_error e = {0};
	(void)state;

	expect_lint("{\"type\": \"FILE_READ\", \"resource\": \"/data/**\"}", NULL);
	expect_lint("{\"type\": \"FILE_WRITE\", \"resource\": \"/\"}", ": write-root: ");
	expect_lint("{\"type\": \"FILE_WRITE\", \"resource\": \"/home/*\"}", "home directory");
	expect_lint("{\"type\": \"FILE_WRITE\", \"resource\": \"$HOME/x\"}", "home directory");
	expect_lint("{\"type\": \"FILE_WRITE\", \"resource\": \"/root/**\"}", "home directory");
	expect_lint("{\"type\": \"FILE_WRITE\", \"resource\": \"/home/a/b/**\"}", NULL);
	expect_lint("{\"type\": \"FILE_WRITE\", \"resource\": \"/homeless/**\"}", NULL);
	expect_lint("{\"type\": \"FILE_WRITE\", \"resource\": \"/registry\"}", "write-registry");
	expect_lint("{\"type\": \"NETWORK_CONNECT\", \"resource\": \"*:443\"}", "network-any");
	expect_lint("{\"type\": \"SECRET_ACCESS\", \"resource\": \"**\"}", "secret-any");
	expect_lint("{\"type\": \"EXTERNAL_COMMAND\", \"resource\": \"**\"}", "command-any");
	expect_lint("{\"type\": \"EXTERNAL_COMMAND\", \"resource\": \"python3.11\"}, "
	            "{\"type\": \"NETWORK_CONNECT\", \"resource\": \"a.example:443\"}",
	            "shell-network");
	expect_lint("{\"type\": \"EXTERNAL_COMMAND\", \"resource\": \"pythonista\"}, "
	            "{\"type\": \"NETWORK_CONNECT\", \"resource\": \"a.example:443\"}",
	            NULL);
	assert_int_equal(lint_text("{\"uuid\": 5, \"version\": [], \"kind\": 1, \"groups\": [1], "
	                           "\"capabilities\": {}}",
	                           &out),
	                 8);
	assert_non_null(strstr(out, "$.capabilities: schema: expected an array"));
	assert_non_null(strstr(out, "$.groups: schema: [0]"));
	free(out);
	assert_int_equal(
	    lint_text("{\"groups\": 1, \"entrypoint\": \"/abs\", \"uuid\": \"x\"}", &out), 5);
	free(out);
	assert_int_equal(lint_text("[]", &out), 1);
	free(out);
	char *p = put("m.json", "nope");
	assert_int_equal(ob_registry_lint(p, &out, &e), -EINVAL);
	free(p);
	assert_true(registry_entrypoint_is_safe("a/b.py"));
	assert_false(registry_entrypoint_is_safe("a/../b"));
	assert_false(registry_entrypoint_is_safe(".."));
	assert_false(registry_entrypoint_is_safe(""));
	assert_true(registry_entrypoint_is_safe("..a/b"));
}

/* add, sign, verify, list, show on a registry in tmpdir, with the keys made in setup. */
static void test_store(void **state)
{
	char *reg, *out = NULL, *key = NULL, path[512];
	ob_error e = {0};
	(void)state;

	assert_true(asprintf(&reg, "%s/reg", tmpdir) > 0);
	char *entry = put("main.py", "print(1)\n");
	uint8_t h[32];
	char hex[65], meta[1024];
	(void)crypto_hash_sha256(h, (const uint8_t *)"print(1)\n", 9);
	(void)sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	(void)snprintf(meta, sizeof(meta),
	               "{\"uuid\": \"5f0c2b1e-9a8d-4c7b-b6a5-443322110000\", \"name\": \"n\", "
	               "\"entrypoint\": \"main.py\", \"sha256\": \"%s\"}",
	               hex);
	char *mp = put("m.json", meta), *pol = put("p.json", "{\"staticPolicies\": {}}");
	char *st = sec_text(NULL, "\0\0"), *skp = put("k.key", st), *pt = pub_text(keynum);
	const char *id = "5f0c2b1e-9a8d-4c7b-b6a5-443322110000";

	assert_int_equal(ob_registry_add(reg, mp, pol, skp, NULL, &out, &e), 0);
	assert_string_equal(out, id);
	free(out);
	/* no keys/ yet: signed, but by nobody trusted */
	assert_int_equal(ob_registry_verify(reg, id, &key, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "not trusted"));
	(void)snprintf(path, sizeof(path), "%s/keys", reg);
	assert_int_equal(mkdir(path, 0755), 0);
	(void)snprintf(path, sizeof(path), "%s/keys/k.pub", reg);
	FILE *f = fopen(path, "w");
	(void)fputs(pt, f);
	(void)fclose(f);
	assert_int_equal(ob_registry_verify(reg, id, &key, &e), 0);
	assert_string_equal(key, "0807060504030201");
	free(key);
	assert_int_equal(ob_registry_list(reg, &out, &e), 0);
	assert_non_null(strstr(out, "\"state\":\"verified\""));
	free(out);
	assert_int_equal(ob_registry_show(reg, id, &out, &e), 0);
	assert_non_null(strstr(out, "\"policy\":"));
	free(out);
	assert_int_equal(ob_registry_show(reg, "../x", &out, &e), -EINVAL);
	assert_int_equal(ob_registry_verify(reg, "a/b", NULL, &e), -EINVAL);
	assert_int_equal(ob_registry_verify(reg, "missing", NULL, &e), -ENOENT);
	/* re-added unsigned: the stale signatures go, it no longer verifies */
	assert_int_equal(ob_registry_add(reg, mp, pol, NULL, NULL, NULL, &e), 0);
	assert_int_equal(ob_registry_verify(reg, id, NULL, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "not signed"));
	/* an entrypoint that is not what the metadata says is refused by add */
	f = fopen(entry, "w");
	(void)fputs("print(2)\n", f);
	(void)fclose(f);
	assert_int_equal(ob_registry_add(reg, mp, pol, skp, NULL, NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "sha256"));
	/* sign with an encrypted key: password from a file, then from the environment */
	char *enc = sec_text("pw", "Sc"), *ek = put("e.key", enc), *pwf = put("pw", "pw\n");
	assert_int_equal(ob_registry_sign(ek, pwf, mp, &e), 0);
	assert_int_equal(ob_registry_sign(ek, NULL, mp, &e), -EACCES);
	assert_int_equal(setenv("OMNIBASE_KEY_PASSWORD", "pw", 1), 0);
	assert_int_equal(ob_registry_sign(ek, NULL, mp, &e), 0);
	assert_int_equal(unsetenv("OMNIBASE_KEY_PASSWORD"), 0);
	assert_int_equal(ob_registry_sign(ek, "/nonexistent", mp, &e), -ENOENT);
	assert_int_equal(ob_registry_list("/nonexistent", &out, &e), -ENOENT);
	char *bad = put("bad.json", "{\"uuid\": 1}");
	assert_int_equal(ob_registry_add(reg, bad, NULL, NULL, NULL, NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "lint finding"));
	free(bad);
	free(enc);
	free(ek);
	free(pwf);
	free(entry);
	free(mp);
	free(pol);
	free(st);
	free(skp);
	free(pt);
	free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_key_id),    cmocka_unit_test(test_sign_verify),
	    cmocka_unit_test(test_legacy),    cmocka_unit_test(test_encrypted),
	    cmocka_unit_test(test_malformed), cmocka_unit_test(test_lint),
	    cmocka_unit_test(test_store),
	};
	assert_non_null(mkdtemp(tmpdir));
	int r = cmocka_run_group_tests(tests, setup, NULL);
	char cmd[128];
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	(void)system(cmd);
	return r;
}
