/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A record that cannot be flooded or stalled (SPEC §5): the gate's folding and cap
 * (gate.c), the socket sinks' bounded queue (queue.c) and the end of the record (flood.c). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit/audit.h"
#include "audit/events.h"

#define SEC 1000000000ULL

static json_t *denied(const char *resource)
{
	return json_pack("{s:s, s:s, s:s, s:i}", "capability", "FILE_READ", "resource", resource,
	                 "operation", "read", "pid", 7);
}

static GateVerdict admit(AuditGate *g, const char *event, json_t *fields, uint64_t now,
                         json_int_t *repeated)
{
	GateVerdict v = gate_admit(g, event, fields, now);
	*repeated = json_integer_value(json_object_get(fields, "repeated"));
	json_decref(fields);
	return v;
}

static json_int_t written_total;
static int written_events;

static void count_write(void *userdata, const char *event, json_t *fields)
{
	(void)userdata;
	(void)event;
	written_events++;
	written_total += 1 + json_integer_value(json_object_get(fields, "repeated"));
}

static void test_fold(void **state)
{
	AuditGate g = {0};
	json_int_t rep;
	(void)state;

	assert_int_equal(admit(&g, "CapabilityDenied", denied("/a"), 10, &rep), GATE_WRITE);
	assert_int_equal(rep, 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(admit(&g, "CapabilityDenied", denied("/a"), 20 + i, &rep),
		                 GATE_FOLDED);
	/* another resource is another refusal */
	assert_int_equal(admit(&g, "CapabilityDenied", denied("/b"), 30, &rep), GATE_WRITE);
	/* a second later: written, carrying the five */
	assert_int_equal(admit(&g, "CapabilityDenied", denied("/a"), 10 + SEC, &rep), GATE_WRITE);
	assert_int_equal(rep, 5);
	assert_int_equal(admit(&g, "CapabilityDenied", denied("/a"), 20 + SEC, &rep), GATE_FOLDED);
	assert_int_equal(admit(&g, "CapabilityDenied", denied("/a"), 30 + SEC, &rep), GATE_FOLDED);
	/* identical violations fold too (call and detail), other details do not; other kinds
	 * never fold */
	json_t *v = json_pack("{s:s, s:s}", "syscall", "ptrace", "detail", "PTRACE_ATTACH");
	json_t *w = json_pack("{s:s, s:s}", "syscall", "ptrace", "detail", "PTRACE_SEIZE");
	assert_int_equal(admit(&g, "SandboxViolation", json_deep_copy(v), 0, &rep), GATE_WRITE);
	assert_int_equal(admit(&g, "SandboxViolation", json_deep_copy(v), 5, &rep), GATE_FOLDED);
	assert_int_equal(admit(&g, "SandboxViolation", json_deep_copy(v), 6, &rep), GATE_FOLDED);
	assert_int_equal(admit(&g, "SandboxViolation", w, 7, &rep), GATE_WRITE);
	assert_int_equal(admit(&g, "SandboxViolation", v, 1 + SEC, &rep), GATE_WRITE);
	assert_int_equal(rep, 2);
	assert_int_equal(admit(&g, "CapabilityUsed", denied("/a"), 40 + SEC, &rep), GATE_WRITE);
	assert_int_equal(admit(&g, "CapabilityUsed", denied("/a"), 41 + SEC, &rep), GATE_WRITE);
	written_total = written_events = 0;
	gate_flush(&g, count_write, NULL);
	/* "/a": 2 pending (one event, repeated 1); the violations: nothing pending */
	assert_int_equal(written_events, 1);
	assert_int_equal(written_total, 2);
	gate_flush(&g, count_write, NULL); /* nothing twice */
	assert_int_equal(written_events, 1);
	assert_null(gate_dropped_json(&g));
	gate_done(&g);
}

static void test_cap(void **state)
{
	AuditGate g = {.limit = 3};
	json_int_t rep;
	(void)state;

	assert_int_equal(admit(&g, "SandboxStart", json_object(), 0, &rep), GATE_WRITE);
	assert_int_equal(admit(&g, "CapabilityDenied", denied("/a"), 0, &rep), GATE_WRITE);
	assert_int_equal(admit(&g, "CapabilityDenied", denied("/a"), 1, &rep), GATE_FOLDED);
	assert_int_equal(admit(&g, "CapabilityDenied", denied("/b"), 2, &rep), GATE_WRITE);
	assert_int_equal(admit(&g, "CapabilityDenied", denied("/c"), 3, &rep), GATE_DROPPED);
	/* dropped with the one it carried */
	assert_int_equal(admit(&g, "CapabilityDenied", denied("/a"), SEC, &rep), GATE_DROPPED);
	assert_int_equal(admit(&g, "CapabilityDenied", denied("/a"), SEC + 1, &rep), GATE_FOLDED);
	assert_int_equal(admit(&g, "PolicyEvaluated", json_object(), 4, &rep), GATE_DROPPED);
	/* the end of the record passes whatever the count */
	assert_int_equal(admit(&g, "ResourceLimitExceeded", json_object(), 5, &rep), GATE_WRITE);
	assert_int_equal(admit(&g, "EventsDropped", json_object(), 5, &rep), GATE_WRITE);
	assert_int_equal(admit(&g, "SandboxExit", json_object(), 5, &rep), GATE_WRITE);
	written_total = written_events = 0;
	gate_flush(&g, count_write, NULL); /* past the cap: the pending one is dropped too */
	assert_int_equal(written_events, 0);
	json_t *d = gate_dropped_json(&g);
	assert_non_null(d);
	assert_int_equal(json_integer_value(json_object_get(d, "limit")), 3);
	json_t *by = json_object_get(d, "dropped");
	assert_int_equal(json_integer_value(json_object_get(by, "CapabilityDenied")), 4);
	assert_int_equal(json_integer_value(json_object_get(by, "PolicyEvaluated")), 1);
	json_decref(d);
	gate_done(&g);
	assert_int_equal(g.limit, 3);
}

/* More distinct refusals than slots: the others are written unfolded; a slot whose window
 * is over and holds no count is taken again. */
static void test_slots(void **state)
{
	AuditGate g = {0};
	json_int_t rep;
	char name[32];
	(void)state;

	for (int i = 0; i < GATE_FOLDS + 3; i++) {
		(void)snprintf(name, sizeof(name), "/f%d", i);
		assert_int_equal(admit(&g, "CapabilityDenied", denied(name), 0, &rep), GATE_WRITE);
	}
	/* /f70 got no slot: its repeat is written */
	assert_int_equal(admit(&g, "CapabilityDenied", denied("/f66"), 1, &rep), GATE_WRITE);
	/* after the window the slots are free again */
	assert_int_equal(admit(&g, "CapabilityDenied", denied("/new"), 2 * SEC, &rep), GATE_WRITE);
	assert_int_equal(admit(&g, "CapabilityDenied", denied("/new"), 2 * SEC + 1, &rep),
	                 GATE_FOLDED);
	/* kinds beyond the table share its last slot */
	AuditGate h = {.limit = 1};
	assert_int_equal(admit(&h, "X", json_object(), 0, &rep), GATE_WRITE);
	for (int i = 0; i < GATE_KINDS + 2; i++) {
		static char kinds[GATE_KINDS + 2][8];
		(void)snprintf(kinds[i], sizeof(kinds[i]), "K%d", i);
		assert_int_equal(admit(&h, kinds[i], json_object(), 1, &rep), GATE_DROPPED);
	}
	assert_int_equal(h.dropped[GATE_KINDS - 1].n, 3);
	gate_done(&g);
	gate_done(&h);
}

static size_t drain_fd(int fd)
{
	char buf[65536];
	size_t total = 0;
	ssize_t k;
	while ((k = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += (size_t)k;
	return total;
}

/* A stream reader that stops reading: the writer never blocks, the queue stays bounded,
 * what waits is sent once the reader reads again, the rest counted. */
static void test_queue_stream(void **state)
{
	int sv[2];
	AuditQueue q = {0};
	char line[1000];
	(void)state;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	for (int i = 0; i < 3000; i++) /* 3 MB: more than the socket and the queue take */
		assert_int_equal(queue_send(&q, sv[0], line, sizeof(line)), 0);
	assert_true(q.len > 0 && q.len <= AUDIT_QUEUE_MAX);
	assert_true(q.undelivered > 0);
	size_t got = drain_fd(sv[1]);
	assert_int_equal(queue_flush(&q, sv[0]), 0);
	while (q.len > 0) {
		got += drain_fd(sv[1]);
		assert_int_equal(queue_flush(&q, sv[0]), 0);
	}
	got += drain_fd(sv[1]);
	assert_int_equal(got % sizeof(line), 0); /* whole lines only */
	assert_int_equal(got / sizeof(line) + q.undelivered, 3000);
	/* a line longer than the queue is never begun on the stream (no half line sent) */
	char *big = malloc(AUDIT_QUEUE_MAX + 2);
	assert_non_null(big);
	memset(big, 'y', AUDIT_QUEUE_MAX + 1);
	big[AUDIT_QUEUE_MAX + 1] = '\n';
	uint64_t lost = q.undelivered;
	assert_int_equal(queue_send(&q, sv[0], big, AUDIT_QUEUE_MAX + 2), 0);
	assert_int_equal(q.undelivered, lost + 1);
	assert_int_equal(drain_fd(sv[1]), 0);
	free(big);
	/* the reader gone: the sink fails once, then stays quiet */
	(void)close(sv[1]);
	assert_int_equal(queue_send(&q, sv[0], line, sizeof(line)), -EPIPE);
	assert_true(q.dead);
	assert_int_equal(queue_send(&q, sv[0], line, sizeof(line)), 0);
	queue_done(&q);
	(void)close(sv[0]);
}

/* Datagrams: one line each, queued whole. */
static void test_queue_dgram(void **state)
{
	int sv[2];
	AuditQueue q = {.dgram = true};
	char buf[64];
	(void)state;

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	int n = 0;
	while (q.len == 0 && n < 100000) {
		assert_int_equal(queue_send(&q, sv[0], "line\n", 5), 0);
		n++;
	}
	assert_int_equal(q.len, 5);
	assert_int_equal(queue_send(&q, sv[0], "more\n", 5), 0);
	assert_int_equal(q.len, 10);
	(void)drain_fd(sv[1]);
	assert_int_equal(queue_flush(&q, sv[0]), 0);
	assert_int_equal(q.len, 0);
	assert_int_equal(recv(sv[1], buf, sizeof(buf), 0), 5);
	assert_memory_equal(buf, "line\n", 5);
	assert_int_equal(recv(sv[1], buf, sizeof(buf), 0), 5);
	assert_memory_equal(buf, "more\n", 5);
	/* a flush that fails marks the sink dead and counts what waited */
	assert_int_equal(queue_send(&q, sv[0], "x\n", 2), 0);
	(void)close(sv[1]);
	q.len = 0;
	assert_int_equal(queue_send(&q, sv[0], "y\n", 2) < 0, true);
	queue_done(&q);
	(void)close(sv[0]);
}

/* The whole path: audit_emit through the gate to a socket sink, the end of the record. */
static void test_audit_end(void **state)
{
	Audit a;
	int sv[2];
	struct pollfd p[AUDIT_MAX_SINKS];
	char buf[1 << 16];
	(void)state;

	assert_int_equal(audit_init(&a, "native"), 0);
	a.gate.limit = 2;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(audit_add_fd(&a, sv[0], true), 0);
	a.is_socket[0] = true;
	for (int i = 0; i < 5; i++)
		event_denied(&a, "FILE_READ", "/etc/passwd", "read", "FILE_READ:/etc/passwd", NULL,
		             3);
	event_violation(&a, "ptrace", "PTRACE_ATTACH", 3);
	event_violation(&a, "bpf", "BPF_PROG_LOAD", 3);
	assert_int_equal(a.violations, 7);
	assert_int_equal(audit_pollfds(&a, p, AUDIT_MAX_SINKS), 0);
	audit_end(&a);
	audit_flush(&a);
	ssize_t k = recv(sv[1], buf, sizeof(buf) - 1, 0);
	assert_true(k > 0);
	buf[k] = '\0';
	/* written: the first denial, the ptrace violation; the rest counted (4 folded denials
	 * dropped at the flush, the bpf violation past the cap) */
	assert_non_null(strstr(buf, "\"event\":\"EventsDropped\""));
	assert_non_null(strstr(buf, "\"dropped\":{\"SandboxViolation\":1,\"CapabilityDenied\":4}"));
	assert_non_null(strstr(buf, "\"resource\":\"events\",\"limit\":\"2\""));
	assert_int_equal(audit_undelivered(&a), 0);
	audit_drain(&a, 10);
	(void)close(sv[1]);
	audit_done(&a);

	/* a sink with nothing: audit_end does nothing */
	assert_int_equal(audit_init(&a, "native"), 0);
	audit_end(&a);
	audit_done(&a);
}

/* A reader that never reads: the drain gives up after its time, and says how many. */
static void test_drain_stalled(void **state)
{
	Audit a;
	int sv[2];
	struct pollfd p[AUDIT_MAX_SINKS];
	(void)state;

	assert_int_equal(audit_init(&a, "native"), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(audit_add_fd(&a, sv[0], true), 0);
	a.is_socket[0] = true;
	for (int i = 0; i < 20000; i++) {
		char r[32];
		(void)snprintf(r, sizeof(r), "/f%d", i);
		event_denied(&a, "FILE_READ", r, "read", NULL, "a reason long enough to fill it",
		             3);
	}
	assert_int_equal(audit_pollfds(&a, p, AUDIT_MAX_SINKS), 1);
	assert_int_equal(p[0].events, POLLOUT);
	assert_true(audit_undelivered(&a) > 0);
	audit_drain(&a, 50);
	assert_true(audit_undelivered(&a) > 1000);
	assert_int_equal(a.queue[0].len, 0);
	(void)close(sv[1]);
	audit_done(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fold),          cmocka_unit_test(test_cap),
	    cmocka_unit_test(test_slots),         cmocka_unit_test(test_queue_stream),
	    cmocka_unit_test(test_queue_dgram),   cmocka_unit_test(test_audit_end),
	    cmocka_unit_test(test_drain_stalled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
