/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "basic/procfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"

bool proc_status_field(pid_t pid, const char *key, char *buf, size_t size)
{
	char path[64], line[256];
	size_t klen = strlen(key);

	(void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			const char *v = line + klen + 1;
			v += strspn(v, "\t ");
			(void)snprintf(buf, size, "%.*s", (int)strcspn(v, "\n"), v);
			return true;
		}
	return false;
}

pid_t proc_inner_pid(pid_t pid)
{
	char v[128];

	if (!proc_status_field(pid, "NSpid", v, sizeof(v)))
		return pid;
	const char *last = strrchr(v, '\t');
	int inner = atoi(last ? last + 1 : v);
	return inner > 0 ? (pid_t)inner : pid;
}

pid_t proc_thread_group(pid_t tid)
{
	char v[32];
	int tgid = proc_status_field(tid, "Tgid", v, sizeof(v)) ? atoi(v) : 0;
	return tgid > 0 ? (pid_t)tgid : tid;
}

bool proc_id_to_host(pid_t pid, const char *map, unsigned id, unsigned *out)
{
	char path[64];
	unsigned inside, outside, count;
	bool found = false;

	if (id == (unsigned)-1) {
		*out = id;
		return true;
	}
	(void)snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, map);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fscanf(f, "%u %u %u", &inside, &outside, &count) == 3)
		if (id >= inside && id - inside < count) {
			*out = outside + (id - inside);
			found = true;
		}
	(void)fclose(f);
	return found;
}
