/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "audit/audit.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "basic/macro.h"

int audit_init(Audit *a, const char *backend)
{
	uint8_t u[16];

	*a = (Audit){.backend = backend};
	if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u))
		return -errno;
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 */
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	(void)snprintf(a->execution_id, sizeof(a->execution_id),
	               "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
	               u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
	               u[13], u[14], u[15]);
	return 0;
}

int audit_add_fd(Audit *a, int fd, bool owned)
{
	if (a->n_fds >= AUDIT_MAX_SINKS)
		return -E2BIG;
	a->fds[a->n_fds] = fd;
	a->owned[a->n_fds++] = owned;
	return 0;
}

int audit_add_path(Audit *a, const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return -errno;
	int r = audit_add_fd(a, fd, true);
	if (r < 0)
		(void)close(fd);
	return r;
}

int audit_add_socket(Audit *a, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	static const int types[] = {SOCK_STREAM, SOCK_DGRAM};
	int r = -EINVAL;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	for (size_t i = 0; i < ELEMENTSOF(types); i++) {
		int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			r = audit_add_fd(a, fd, true);
			if (r < 0) {
				(void)close(fd);
				return r;
			}
			a->is_socket[a->n_fds - 1] = true;
			/* never blocking: a reader that stalls fills the queue, not our time */
			a->queue[a->n_fds - 1].dgram = types[i] == SOCK_DGRAM;
			return RET_NERRNO(fcntl(fd, F_SETFL, O_NONBLOCK));
		}
		r = -errno;
		(void)close(fd);
		if (r != -EPROTOTYPE)
			break; /* only a wrong socket type is worth a second try */
	}
	return r;
}

void audit_timestamp(char buf[32])
{
	struct timespec ts;
	struct tm tm;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	(void)gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	(void)snprintf(buf + n, 32 - n, ".%06ldZ", ts.tv_nsec / 1000);
}

/* One write(2) per line, so concurrent writers to an O_APPEND log never interleave.  Sockets
 * go through their queue (queue.c): a listener that went away or stalls costs this sink,
 * not the supervisor. */
static int write_line(Audit *a, size_t i, const char *s, size_t len)
{
	if (a->is_socket[i])
		return queue_send(&a->queue[i], a->fds[i], s, len);
	while (len > 0) {
		ssize_t k = write(a->fds[i], s, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		s += k;
		len -= (size_t)k;
	}
	return 0;
}

void audit_emit(Audit *a, const char *event, json_t *fields)
{
	struct timespec now;

	if (!fields)
		fields = json_object();
	if (streq(event, "CapabilityDenied") || streq(event, "SandboxViolation"))
		a->violations++; /* every one, folded or dropped */
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	if (a->n_fds > 0 && fields &&
	    gate_admit(&a->gate, event, fields,
	               (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec) == GATE_WRITE)
		audit_write(a, event, fields);
	json_decref(fields);
}

void audit_write(Audit *a, const char *event, json_t *fields)
{
	char ts[32];

	audit_timestamp(ts);
	json_t *o =
	    json_pack("{s:s, s:s, s:s, s:s?, s:s}", "ts", ts, "event", event, "execution_id",
	              a->execution_id, "component", a->component, "backend", a->backend);
	if (o)
		(void)json_object_update(o, fields);
	char *line = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	json_decref(o);
	if (!line) {
		a->write_error = a->write_error ?: -ENOMEM;
		return;
	}
	size_t len = strlen(line);
	line[len] = '\n';
	for (size_t i = 0; i < a->n_fds; i++) {
		int r = write_line(a, i, line, len + 1);
		if (r < 0 && !a->write_error)
			a->write_error = r;
	}
	free(line);
}

void audit_done(Audit *a)
{
	for (size_t i = 0; i < a->n_fds; i++) {
		queue_done(&a->queue[i]);
		if (a->owned[i])
			(void)close(a->fds[i]);
	}
	a->n_fds = 0;
	gate_done(&a->gate);
}
