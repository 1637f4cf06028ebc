/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ob-text-diff TEXTS.jsonl: each line's Cedar policy text (tests/oracle/text-parse.mjs) parsed
 * by our text parser and compared with the reference parser's JSON form (equal as JSON values)
 * or its refusal (then ours must refuse too, and say where and what).  Prints "texts N parsed N
 * refused N mismatches N" and the first mismatches; exit 1 on any mismatch.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/cedar.h"

/* The expected JSON form: read with our JSON reader, which keeps NUL in keys */
static json_t *expected(json_t *line)
{
	json_t *want = NULL;
	const json_t *j = json_object_get(line, "json");
	ob_error err;
	JsonDoc doc = {.data = json_string_value(j),
	               .len = json_string_length(j),
	               .name = "expected",
	               .err = &err};

	if (j && cedar_json_parse(&doc, &want) < 0)
		fprintf(stderr, "%s\n", err.msg);
	return want;
}

/* json_equal, but keys compared with their length (NUL inside a key is Cedar's right) */
static bool same_json(const json_t *a, const json_t *b)
{
	const char *key;
	size_t key_len;
	json_t *v;

	if (json_typeof(a) != json_typeof(b))
		return false;
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return false;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!same_json(json_array_get(a, i), json_array_get(b, i)))
				return false;
		return true;
	}
	if (!json_is_object(a))
		return json_equal(a, b);
	if (json_object_size(a) != json_object_size(b))
		return false;
	json_object_keylen_foreach((json_t *)a, key, key_len, v) {
		const json_t *w = json_object_getn(b, key, key_len);
		if (!w || !same_json(v, w))
			return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	unsigned long texts = 0, parsed = 0, refused = 0, bad = 0;
	char *line = NULL;
	size_t cap = 0;
	FILE *f = argc == 2 ? fopen(argv[1], "re") : NULL;

	if (!f) {
		fprintf(stderr, "usage: ob-text-diff TEXTS.jsonl\n");
		return 2;
	}
	while (getline(&line, &cap, f) > 0) {
		json_error_t je;
		json_t *c = json_loads(line, JSON_ALLOW_NUL, &je), *want = c ? expected(c) : NULL;
		const json_t *text = json_object_get(c, "text");
		json_t *ours = NULL;
		ob_error err = {0};

		if (!c || !text) {
			fprintf(stderr, "line %lu: %s\n", texts + 1, c ? "no text" : je.text);
			return 1;
		}
		texts++;
		int r = cedar_text_parse(json_string_value(text), json_string_length(text), "t",
		                         &ours, &err);
		bool same =
		    r < 0 ? !want && strncmp(err.msg, "t:", 2) == 0 : want && same_json(ours, want);
		if (same)
			r < 0 ? refused++ : parsed++;
		else if (++bad <= 5) {
			char *o = ours ? json_dumps(ours, JSON_COMPACT) : NULL;
			char *w = want ? json_dumps(want, JSON_COMPACT) : NULL;
			fprintf(stderr, "MISMATCH text %lu:\n%s\n  ours: %s\n  reference: %s\n",
			        texts, json_string_value(text), o ? o : err.msg,
			        w ? w : json_string_value(json_object_get(c, "error")));
			free(o);
			free(w);
		}
		json_decref(ours);
		json_decref(want);
		json_decref(c);
	}
	printf("texts %lu parsed %lu refused %lu mismatches %lu\n", texts, parsed, refused, bad);
	free(line);
	fclose(f);
	return bad ? 1 : 0;
}
