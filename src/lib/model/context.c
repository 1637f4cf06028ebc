/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The execution context that capability conditions are evaluated against (SPEC §2.3). */
#include <stdlib.h>

#include "basic/macro.h"
#include "model/capability.h"

typedef struct ContextEntry {
	char *key, *value;
} ContextEntry;

struct ob_context {
	ContextEntry *entries;
	size_t n;
};

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

bool context_key_is_valid(const char *key)
{
	size_t n = strlen(key);

	if (n == 0 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_key_char(key[i]))
			return false;
	return true;
}

int ob_context_new(ob_context **ret)
{
	assert_return(ret, -EINVAL);
	ob_context *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	*ret = c;
	return 0;
}

ob_context *ob_context_free(ob_context *ctx)
{
	if (!ctx)
		return NULL;
	for (size_t i = 0; i < ctx->n; i++) {
		free(ctx->entries[i].key);
		free(ctx->entries[i].value);
	}
	free(ctx->entries);
	free(ctx);
	return NULL;
}

static ContextEntry *context_find(const ob_context *ctx, const char *key, size_t klen)
{
	for (size_t i = 0; i < ctx->n; i++)
		if (strlen(ctx->entries[i].key) == klen &&
		    memcmp(ctx->entries[i].key, key, klen) == 0)
			return &ctx->entries[i];
	return NULL;
}

int ob_context_set(ob_context *ctx, const char *key, const char *value)
{
	assert_return(ctx && key && value, -EINVAL);
	if (!context_key_is_valid(key) || strlen(value) > 4096)
		return -EINVAL;
	_cleanup_free_ char *v = strdup(value);
	if (!v)
		return -ENOMEM;
	ContextEntry *e = context_find(ctx, key, strlen(key));
	if (e) {
		free(e->value);
		e->value = TAKE_PTR(v);
		return 0;
	}
	_cleanup_free_ char *k = strdup(key);
	if (!k)
		return -ENOMEM;
	ContextEntry *n = realloc(ctx->entries, (ctx->n + 1) * sizeof(ContextEntry));
	if (!n)
		return -ENOMEM;
	ctx->entries = n;
	ctx->entries[ctx->n++] = (ContextEntry){.key = TAKE_PTR(k), .value = TAKE_PTR(v)};
	return 0;
}

int ob_context_set_assignment(ob_context *ctx, const char *assignment)
{
	assert_return(ctx && assignment, -EINVAL);
	const char *eq = strchr(assignment, '=');
	if (!eq || eq == assignment || (size_t)(eq - assignment) > 128)
		return -EINVAL;
	char key[129];
	memcpy(key, assignment, (size_t)(eq - assignment));
	key[eq - assignment] = '\0';
	return ob_context_set(ctx, key, eq + 1);
}

const char *ob_context_get(const ob_context *ctx, const char *key)
{
	assert_return(ctx && key, NULL);
	ContextEntry *e = context_find(ctx, key, strlen(key));
	return e ? e->value : NULL;
}

size_t context_size(const ob_context *ctx)
{
	return ctx ? ctx->n : 0;
}

void context_entry(const ob_context *ctx, size_t i, const char **key, const char **value)
{
	*key = ctx->entries[i].key;
	*value = ctx->entries[i].value;
}
