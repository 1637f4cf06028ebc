/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What /proc/PID/status (and the id maps) say of a process. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The value of KEY ("Tgid", "NSpid", …) in /proc/PID/status into BUF, without the key, the
 * colon and the leading tab; false when the process or the key is not there. */
bool proc_status_field(pid_t pid, const char *key, char *buf, size_t size);
/* The pid of PID inside its innermost pid namespace (the last NSpid field); PID itself when
 * unknown. */
pid_t proc_inner_pid(pid_t pid);
/* The process (thread group) of thread TID; TID itself when unknown. */
pid_t proc_thread_group(pid_t tid);
/* ID as process PID's user namespace names it (a uid with MAP "uid_map", a gid with
 * "gid_map"), as the host names it, into *OUT; (unsigned)-1 stays itself. False when the
 * namespace does not map it or the map cannot be read. */
bool proc_id_to_host(pid_t pid, const char *map, unsigned id, unsigned *out);
