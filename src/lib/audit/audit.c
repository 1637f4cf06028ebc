/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "audit/audit.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "basic/error.h"
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
	audit_chain_init(&a->chains[a->n_fds]);
	a->fds[a->n_fds] = fd;
	a->owned[a->n_fds++] = owned;
	return 0;
}

/* Waits up to ~100 ms for FD's lock: another run holds it only while it appends one line.
 * Whoever holds it longer (any reader of the log may flock it) must not stall the
 * supervisor (SPEC §5): then the line is appended unlocked, after reading the tail again,
 * and at worst the chain shows a fork that `audit verify` names. */
static bool file_lock(int fd, bool *slow)
{
	/* once it timed out, a flood must not pay 100 ms per line: one try from then on */
	for (int i = 0; i < (slow && *slow ? 1 : 100); i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return true;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return false;
		(void)nanosleep(&(struct timespec){.tv_nsec = 1000000L}, NULL);
	}
	if (slow)
		*slow = true;
	return false;
}

int audit_add_path(Audit *a, const char *path, ob_error *reterr)
{
	struct stat st;

	/* O_RDWR: the last line is read back to continue the chain */
	_cleanup_close_ int fd =
	    open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0 && (errno == EACCES || errno == EISDIR || errno == EROFS))
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0 || fstat(fd, &st) < 0)
		return ob_error_set(reterr, -errno, "%s", strerror(errno));
	if (S_ISREG(st.st_mode)) {
		bool locked = file_lock(fd, NULL);
		AuditChain c;
		int r = audit_chain_load(&c, fd, reterr);
		if (locked)
			(void)flock(fd, LOCK_UN);
		if (r < 0)
			return r;
		r = audit_add_fd(a, fd, true);
		if (r < 0)
			return ob_error_set(reterr, r, "too many audit sinks");
		a->chains[a->n_fds - 1] = c;
		TAKE_FD(fd);
		return 0;
	}
	int r = audit_add_fd(a, fd, true);
	if (r < 0)
		return ob_error_set(reterr, r, "too many audit sinks");
	TAKE_FD(fd);
	return 0;
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

/* Another writer appended to the file: its new last line is where the chain goes on. A tail
 * that cannot be read back (torn, not an event) stops this sink for good rather than start a
 * fresh chain on top of it. */
static int reload_chain(AuditChain *c, int fd)
{
	AuditChain t;
	int r = audit_chain_load(&t, fd, NULL);
	if (r < 0) {
		c->broken = true;
		return r;
	}
	c->seq = t.seq;
	memcpy(c->prev, t.prev, sizeof(c->prev));
	c->end = t.end;
	return 0;
}

/* Writes event O to sink I with the sink's next seq and prev.  A file is locked meanwhile and,
 * when it grew since this run's last line (another run appends to it too), its chain is
 * read again from its new last line. */
static int sink_write_event(Audit *a, size_t i, json_t *o)
{
	AuditChain *c = &a->chains[i];
	bool locked = false;
	struct stat st;
	size_t len;
	int r = 0;

	if (c->broken)
		return -EBADMSG;
	if (c->end >= 0) {
		locked = file_lock(a->fds[i], &c->lock_slow);
		if (fstat(a->fds[i], &st) < 0)
			r = -errno;
		else if (st.st_size != c->end)
			r = reload_chain(c, a->fds[i]);
	}
	if (r >= 0) {
		_cleanup_free_ char *line = audit_chain_line(c, o, &len);
		r = line ? write_line(a, i, line, len) : -ENOMEM;
		if (r >= 0)
			audit_chain_advance(c, line, len);
	}
	if (locked)
		(void)flock(a->fds[i], LOCK_UN);
	return r;
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
	/* seq and prev are common fields: placeholders here, each sink's values when written */
	json_t *o = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:i, s:s}", "ts", ts, "event", event,
	                      "execution_id", a->execution_id, "component", a->component, "backend",
	                      a->backend, "seq", 0, "prev", "");
	if (o)
		(void)json_object_update(o, fields);
	if (!o) {
		a->write_error = a->write_error ?: -ENOMEM;
		return;
	}
	for (size_t i = 0; i < a->n_fds; i++) {
		int r = sink_write_event(a, i, o);
		if (r < 0 && !a->write_error)
			a->write_error = r;
	}
	json_decref(o);
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
