/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "model/hints.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "omnibase/omnibase.h"

#include "basic/macro.h"
#include "basic/suggest.h"

const char *cap_type_suggest(const char *name)
{
	const char *names[OB_CAP_TYPE_MAX + 4] = {"fs_read", "fs_write", "net_http", "exec_run"};

	for (int t = 0; t < OB_CAP_TYPE_MAX; t++)
		names[4 + t] = ob_cap_type_to_string((ob_cap_type)t);
	/* Canonical names first in the answer when two are as near: look at them first. */
	const char *best = suggest_closest(name, names + 4, OB_CAP_TYPE_MAX);
	return best ? best : suggest_closest(name, names, 4);
}

/* The default port of the URL schemes people paste into a network grant. */
static unsigned scheme_port(const char *scheme, size_t len)
{
	static const struct {
		const char *name;
		unsigned port;
	} ports[] = {
	    {"https", 443}, {"http", 80}, {"wss", 443}, {"ws", 80}, {"ftp", 21}, {"ssh", 22},
	};

	for (size_t i = 0; i < ELEMENTSOF(ports); i++)
		if (strlen(ports[i].name) == len && strncasecmp(scheme, ports[i].name, len) == 0)
			return ports[i].port;
	return 0;
}

bool url_to_host_grant(const char *res, size_t len, char *buf, size_t size)
{
	const char *sep = memmem(res, len, "://", 3);

	if (!sep || sep == res)
		return false;
	const char *auth = sep + 3, *end = res + len;
	/* RES is LEN bytes, not a C string: the authority ends at '/', '?', '#' or there */
	size_t alen = 0;
	while (auth + alen < end && !strchr("/?#", auth[alen]))
		alen++;
	/* user:password@ is never part of the grant. */
	const char *at = memrchr(auth, '@', alen);
	if (at) {
		alen -= (size_t)(at + 1 - auth);
		auth = at + 1;
	}
	/* An explicit port (after the last ':' outside IPv6 brackets) is kept as written. */
	const char *colon = memrchr(auth, ':', alen);
	const char *bracket = memrchr(auth, ']', alen);
	unsigned port = scheme_port(res, (size_t)(sep - res));
	if ((colon && (!bracket || colon > bracket)) || port == 0)
		(void)snprintf(buf, size, "%.*s", (int)alen, auth);
	else
		(void)snprintf(buf, size, "%.*s:%u", (int)alen, auth, port);
	return true;
}
