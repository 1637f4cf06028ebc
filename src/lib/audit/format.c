/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One audit event as a readable line (omnibase audit tail). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "audit/chain.h"
#include "basic/error.h"
#include "basic/macro.h"

/* The fields worth a glance, per event (SPEC §5); other events show all their own fields. */
static const struct {
	const char *event;
	const char *keys[6];
} key_fields[] = {
    {"SandboxStart", {"program", "mode", "capabilities"}},
    {"CapabilityDenied", {"capability", "resource", "operation", "needed", "pid", "repeated"}},
    {"CapabilityUsed", {"capability", "resource", "operation", "address"}},
    {"SandboxViolation", {"syscall", "operation", "detail", "pid"}},
    {"ResourceLimitExceeded", {"resource", "limit"}},
    {"PolicyEvaluated", {"principal", "action", "resource", "decision"}},
    {"SandboxDegraded", {"protection", "reason"}},
    {"SandboxExit", {"status", "signal", "duration_ms", "violations"}},
    {"EventsDropped", {"dropped", "limit"}},
};

static const char *const common_fields[] = {"ts",      "event", "execution_id", "component",
                                            "backend", "seq",   "prev"};

static bool is_common(const char *key)
{
	for (size_t i = 0; i < ELEMENTSOF(common_fields); i++)
		if (streq(key, common_fields[i]))
			return true;
	return false;
}

/* A string shown as it is must not hide where it ends, nor carry terminal escapes: the
 * program chooses the paths and hosts it tries. */
static bool needs_quotes(const char *s)
{
	if (!*s)
		return true;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s == 0x7f || strchr("\"=\\", *s))
			return true;
	return false;
}

/* KEY=VALUE: a plain string as it is, anything else as compact JSON. */
static void put_field(FILE *f, const char *key, const json_t *v)
{
	const char *s = json_string_value(v);

	if (!v)
		return;
	if (s && !needs_quotes(s)) {
		(void)fprintf(f, " %s=%s", key, s);
		return;
	}
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
	(void)fprintf(f, " %s=%s", key, text ? text : "?");
	free(text);
}

static void put_fields(FILE *f, const char *event, json_t *o)
{
	const char *key;
	json_t *v;

	for (size_t i = 0; i < ELEMENTSOF(key_fields); i++) {
		if (!streq(event, key_fields[i].event))
			continue;
		for (size_t k = 0; k < ELEMENTSOF(key_fields[i].keys) && key_fields[i].keys[k]; k++)
			put_field(f, key_fields[i].keys[k],
			          json_object_get(o, key_fields[i].keys[k]));
		return;
	}
	json_object_foreach(o, key, v)
		if (!is_common(key))
			put_field(f, key, v);
}

int ob_audit_format(const char *line, size_t len, const char *event, unsigned flags, char **ret)
{
	json_error_t jerr;
	char *text = NULL;
	size_t size = 0;

	assert_return(line, -EINVAL);
	assert_return(ret, -EINVAL);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	json_t *o = json_loadb(line, len, 0, &jerr);
	const char *name = json_string_value(json_object_get(o, "event"));
	if (!name) {
		json_decref(o);
		return -EBADMSG;
	}
	if (event && strcasecmp(event, name) != 0) {
		json_decref(o);
		return 0;
	}
	if (flags & OB_AUDIT_FORMAT_JSON) {
		json_decref(o);
		text = strndup(line, len);
		return text ? (*ret = text, 1) : -ENOMEM;
	}
	FILE *f = open_memstream(&text, &size);
	if (!f) {
		json_decref(o);
		return -ENOMEM;
	}
	const char *ts = json_string_value(json_object_get(o, "ts"));
	json_t *seq = json_object_get(o, "seq");
	(void)fprintf(f, "%s", ts ? ts : "-");
	if (json_is_integer(seq))
		(void)fprintf(f, " #%" JSON_INTEGER_FORMAT, json_integer_value(seq));
	(void)fprintf(f, " %s", name);
	put_fields(f, name, o);
	json_decref(o);
	if (fclose(f) != 0 || !text) {
		free(text);
		return -ENOMEM;
	}
	*ret = text;
	return 1;
}
