/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: minisign's public key, secret key and signature parsers, then a
 * verification with whatever parsed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/minisign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char msg[] = "{\"uuid\": \"x\"}\n";
	MinisignPubkey pk = {0};
	MinisignSeckey sk;
	MinisignSig sig = {0};
	ob_error err = {0};
	const char *text = (const char *)data;

	if (minisign_pubkey_parse(text, size, "fuzz.pub", &pk, &err) < 0 && !err.msg[0])
		abort(); /* every failure must say why */
	err.msg[0] = '\0';
	/* No password: an encrypted key must be refused before scrypt runs. */
	if (minisign_seckey_parse(text, size, "fuzz.key", NULL, &sk, &err) < 0 && !err.msg[0])
		abort();
	err.msg[0] = '\0';
	if (minisign_sig_parse(text, size, "fuzz.minisig", &sig, &err) >= 0) {
		memcpy(pk.keynum, sig.keynum, sizeof(pk.keynum));
		if (minisign_verify(&pk, &sig, msg, sizeof(msg) - 1, &err) >= 0)
			abort(); /* a random signature must not verify */
		if (strlen(sig.trusted) >= sizeof(sig.trusted))
			abort();
	} else if (!err.msg[0])
		abort();
	return 0;
}
