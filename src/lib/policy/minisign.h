/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"

/* minisign's formats (https://jedisct1.github.io/minisign/): keys and signatures are one
 * "untrusted comment:" line and a base64 line; a signature adds a "trusted comment:" line and
 * the global signature over sig || trusted comment. */
#define MINISIGN_KEYNUM_BYTES 8
#define MINISIGN_TRUSTED_MAX  8192

typedef struct MinisignPubkey {
	uint8_t keynum[MINISIGN_KEYNUM_BYTES];
	uint8_t pk[32];
} MinisignPubkey;

typedef struct MinisignSeckey {
	uint8_t keynum[MINISIGN_KEYNUM_BYTES];
	uint8_t sk[64];
} MinisignSeckey;

typedef struct MinisignSig {
	bool hashed; /* "ED": Ed25519 over BLAKE2b-512 of the file; "Ed": over the file */
	uint8_t keynum[MINISIGN_KEYNUM_BYTES];
	uint8_t sig[64];
	char trusted[MINISIGN_TRUSTED_MAX];
	uint8_t global[64];
} MinisignSig;

/* The key id as minisign prints it: the key number as a little-endian 64-bit integer, in
 * upper-case hex (16 digits and a NUL). */
void minisign_key_id(const uint8_t keynum[MINISIGN_KEYNUM_BYTES], char out[17]);

/* Parse LEN bytes of TEXT (a .pub file, or its base64 line alone), NAME in messages. -EINVAL. */
int minisign_pubkey_parse(const char *text, size_t len, const char *name, MinisignPubkey *ret,
                          ob_error *reterr);
/* A secret key file; PASSWORD decrypts a scrypt-encrypted one (NULL: refuse those).
 * -EINVAL malformed, -EACCES no or a wrong password, -ENOMEM. */
int minisign_seckey_parse(const char *text, size_t len, const char *name, const char *password,
                          MinisignSeckey *ret, ob_error *reterr);
/* A .minisig file. -EINVAL. */
int minisign_sig_parse(const char *text, size_t len, const char *name, MinisignSig *ret,
                       ob_error *reterr);
/* Checks SIG (and its trusted comment) on MSG with PK: 0, or -EBADMSG with the reason
 * (another key, a bad signature, a bad trusted comment). */
int minisign_verify(const MinisignPubkey *pk, const MinisignSig *sig, const void *msg, size_t len,
                    ob_error *reterr);
/* Signs MSG (prehashed, as minisign 0.11 does by default) into *ret, the text of a .minisig
 * (malloc'ed). TRUSTED: a printable one-line comment. -EINVAL, -ENOMEM. */
int minisign_sign(const MinisignSeckey *sk, const void *msg, size_t len, const char *trusted,
                  char **ret, ob_error *reterr);
