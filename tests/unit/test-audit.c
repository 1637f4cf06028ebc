/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The audit log's hash chain (SPEC §5): writing it to files and streams, verifying it, and
 * formatting its events. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "omnibase/omnibase.h"
#include <cmocka.h>

#include "audit/audit.h"
#include "audit/chain.h"

#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"

static char dir[] = "/tmp/ob-test-audit-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[64];
	(void)state;
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *buf, size_t n, const char *name)
{
	(void)snprintf(buf, n, "%s/%s", dir, name);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static char *read_text(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "re");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	(void)fclose(f);
	return buf;
}

/* Runs one "run" appending N events to PATH; returns audit_add_path's result. */
static int run_events(const char *path, int n, ob_error *e)
{
	Audit a;
	assert_int_equal(audit_init(&a, "native"), 0);
	int r = audit_add_path(&a, path, e);
	for (int i = 0; r >= 0 && i < n; i++) {
		char detail[16];
		/* distinct, or they would fold into one (audit/gate.c) */
		(void)snprintf(detail, sizeof(detail), "attempt %d", i);
		audit_emit(
		    &a, "SandboxViolation",
		    json_pack("{s:s, s:s, s:i}", "syscall", "ptrace", "detail", detail, "pid", i));
	}
	assert_int_equal(a.write_error, 0);
	audit_done(&a);
	return r;
}

static void test_hash(void **state)
{
	char hex[AUDIT_HASH_HEX];
	(void)state;
	audit_hash_hex("abc", 3, hex); /* FIPS 180-2 example */
	assert_string_equal(hex,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	audit_hash_hex("", 0, hex);
	assert_string_equal(hex,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_file_chain_continues(void **state)
{
	char path[128];
	ob_error e = {0};
	uint64_t n = 0;
	(void)state;

	path_of(path, sizeof(path), "two-runs.jsonl");
	assert_int_equal(run_events(path, 3, &e), 0);
	char *text = read_text(path);
	assert_non_null(strstr(text, "\"seq\":1,\"prev\":\"" ZEROS "\""));
	assert_int_equal(run_events(path, 2, &e), 0);
	assert_int_equal(ob_audit_verify(path, &n, &e), 0);
	assert_int_equal(n, 5);
	assert_non_null(strstr(read_text(path), "\"seq\":5,"));
}

static void test_interleaved_writers(void **state)
{
	char path[128];
	ob_error e = {0};
	Audit a, b;
	uint64_t n = 0;
	(void)state;

	path_of(path, sizeof(path), "interleaved.jsonl");
	assert_int_equal(audit_init(&a, "native"), 0);
	assert_int_equal(audit_init(&b, "native"), 0);
	assert_int_equal(audit_add_path(&a, path, &e), 0);
	assert_int_equal(audit_add_path(&b, path, &e), 0);
	for (int i = 0; i < 4; i++) {
		audit_emit(&a, "SandboxDegraded", json_pack("{s:s}", "protection", "a"));
		audit_emit(&b, "SandboxDegraded", json_pack("{s:s}", "protection", "b"));
	}
	audit_done(&a);
	audit_done(&b);
	assert_int_equal(ob_audit_verify(path, &n, &e), 0);
	assert_int_equal(n, 8);
}

/* A tail torn by someone else while a run writes: that sink stops (the error said once), it
 * does not start a fresh chain on top of the torn line. */
static void test_torn_while_running(void **state)
{
	char path[128], before[1 << 12];
	ob_error e = {0};
	Audit a;
	(void)state;

	path_of(path, sizeof(path), "torn-later.jsonl");
	assert_int_equal(audit_init(&a, "native"), 0);
	assert_int_equal(audit_add_path(&a, path, &e), 0);
	audit_emit(&a, "SandboxDegraded", json_pack("{s:s}", "protection", "first"));
	FILE *f = fopen(path, "ae");
	assert_non_null(f);
	assert_int_equal(fputs("{\"seq\":2,", f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	(void)snprintf(before, sizeof(before), "%s", read_text(path));
	audit_emit(&a, "SandboxDegraded", json_pack("{s:s}", "protection", "second"));
	audit_emit(&a, "SandboxDegraded", json_pack("{s:s}", "protection", "third"));
	assert_string_equal(read_text(path), before);
	assert_int_equal(a.write_error, -EBADMSG);
	audit_done(&a);
}

/* A log someone else keeps locked: the line is appended after the wait all the same, and from
 * then on the sink tries the lock once instead of waiting at every line. */
static void test_lock_held_elsewhere(void **state)
{
	char path[128];
	ob_error e = {0};
	uint64_t n = 0;
	Audit a;
	(void)state;

	path_of(path, sizeof(path), "locked.jsonl");
	assert_int_equal(audit_init(&a, "native"), 0);
	assert_int_equal(audit_add_path(&a, path, &e), 0);
	int holder = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(holder >= 0);
	assert_int_equal(flock(holder, LOCK_EX), 0);
	assert_false(a.chains[0].lock_slow);
	for (int i = 0; i < 3; i++)
		audit_emit(&a, "SandboxDegraded", json_pack("{s:i}", "n", i));
	assert_true(a.chains[0].lock_slow);
	(void)close(holder);
	audit_done(&a);
	assert_int_equal(ob_audit_verify(path, &n, &e), 0);
	assert_int_equal(n, 3);
}

static void test_long_last_line(void **state)
{
	char path[128];
	ob_error e = {0};
	Audit a;
	uint64_t n = 0;
	(void)state;

	path_of(path, sizeof(path), "long.jsonl");
	char *big = malloc(20000);
	assert_non_null(big);
	memset(big, 'x', 19999);
	big[19999] = '\0';
	assert_int_equal(audit_init(&a, "native"), 0);
	assert_int_equal(audit_add_path(&a, path, &e), 0);
	audit_emit(&a, "SandboxDegraded", json_pack("{s:s}", "protection", "short"));
	audit_emit(&a, "SandboxDegraded", json_pack("{s:s}", "reason", big));
	audit_done(&a);
	free(big);
	assert_int_equal(run_events(path, 1, &e), 0); /* reads the 20 kB line back */
	assert_int_equal(ob_audit_verify(path, &n, &e), 0);
	assert_int_equal(n, 3);
}

static void test_refused_files(void **state)
{
	char path[128];
	ob_error e = {0};
	(void)state;

	path_of(path, sizeof(path), "torn.jsonl");
	write_text(path, "{\"seq\":1,");
	assert_int_equal(run_events(path, 1, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "does not end in a newline"));

	path_of(path, sizeof(path), "old.jsonl");
	write_text(path, "{\"event\":\"SandboxStart\"}\n");
	assert_int_equal(run_events(path, 1, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "no \"seq\""));
	assert_string_equal(read_text(path), "{\"event\":\"SandboxStart\"}\n"); /* untouched */

	path_of(path, sizeof(path), "text.jsonl");
	write_text(path, "first\nsecond line\n");
	assert_int_equal(run_events(path, 1, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "not a JSON object"));

	path_of(path, sizeof(path), "badprev.jsonl");
	write_text(path, "{\"seq\":1,\"prev\":\"00\"}\n");
	assert_int_equal(run_events(path, 1, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "no \"prev\""));

	assert_int_equal(run_events(dir, 1, &e), -EISDIR);
}

static void test_streams(void **state)
{
	int p[2];
	char buf[4096];
	Audit a;
	ob_error e = {0};
	uint64_t n = 0;
	(void)state;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(audit_init(&a, "native"), 0);
	assert_int_equal(audit_add_fd(&a, p[1], true), 0);
	assert_int_equal(audit_add_path(&a, "/dev/null", &e), 0); /* not a file: a stream */
	audit_emit(&a, "SandboxStart", NULL);
	audit_emit(&a, "SandboxExit", json_pack("{s:i}", "status", 0));
	assert_int_equal(a.write_error, 0);
	audit_done(&a);
	ssize_t k = read(p[0], buf, sizeof(buf));
	assert_true(k > 0);
	(void)close(p[0]);
	assert_int_equal(ob_audit_verify_buffer(buf, (size_t)k, "pipe", &n, &e), 0);
	assert_int_equal(n, 2);
}

static void expect_broken(const char *text, const char *needle)
{
	ob_error e = {0};
	uint64_t n = 99;

	int r = ob_audit_verify_buffer(text, strlen(text), "log", &n, &e);
	if (r != -EBADMSG || !strstr(e.msg, needle))
		fail_msg("%s\n -> %d '%s' (wanted '%s')", text, r, e.msg, needle);
	assert_int_equal(n, 99);
}

static void test_verify_buffer(void **state)
{
	char l1[256], l2[512], l3[512], text[2048], h[AUDIT_HASH_HEX];
	ob_error e = {0};
	uint64_t n = 99;
	(void)state;

	(void)snprintf(l1, sizeof(l1), "{\"seq\":1,\"prev\":\"%s\",\"event\":\"A\"}", ZEROS);
	audit_hash_hex(l1, strlen(l1), h);
	(void)snprintf(l2, sizeof(l2), "{\"seq\":2,\"prev\":\"%s\",\"event\":\"B\"}", h);
	audit_hash_hex(l2, strlen(l2), h);
	(void)snprintf(l3, sizeof(l3), "{\"seq\":3,\"prev\":\"%s\",\"event\":\"C\"}", h);

	assert_int_equal(ob_audit_verify_buffer(NULL, 0, "empty", &n, &e), 0);
	assert_int_equal(n, 0);
	(void)snprintf(text, sizeof(text), "%s\n%s\n%s\n", l1, l2, l3);
	assert_int_equal(ob_audit_verify_buffer(text, strlen(text), "log", &n, &e), 0);
	assert_int_equal(n, 3);

	(void)snprintf(text, sizeof(text), "%s\n%s\n%s", l1, l2, l3);
	expect_broken(text, "log:3: the last line has no newline");
	(void)snprintf(text, sizeof(text), "%s\n%s\n", l1, l3);
	expect_broken(text, "log:2: seq 3 where 2 was expected: a line before it was deleted");
	(void)snprintf(text, sizeof(text), "%s\n%s\n%s\n", l1, l3, l2);
	expect_broken(text, "log:2: seq 3 where 2");
	(void)snprintf(text, sizeof(text), "%s\n%s\n%s\n", l1, l2, l2);
	expect_broken(text, "log:3: seq 2 where 3 was expected: a line was repeated");
	(void)snprintf(text, sizeof(text), "%s\n%s\n%s\n", l1, l2, l3);
	text[strlen(l1) + strlen(l2) - 2] = 'X'; /* the event name of line 2 */
	expect_broken(text, "log:3: expected prev ");
	expect_broken(text, "(the hash of line 2)");
	(void)snprintf(text, sizeof(text), "%s\nnot json\n", l1);
	expect_broken(text, "log:2: not a JSON object");
	(void)snprintf(text, sizeof(text), "%s\n\n", l1);
	expect_broken(text, "log:2: not a JSON object");
	expect_broken("[1]\n", "log:1: not a JSON object (another JSON value)");
	expect_broken("{\"seq\":2,\"prev\":\"" ZEROS "\"}\n", "log:1: seq 2 where 1");
	(void)snprintf(text, sizeof(text), "{\"seq\":1,\"prev\":\"%s\"}\n", h);
	expect_broken(text, "log:1: expected prev " ZEROS);
}

static void test_verify_file_errors(void **state)
{
	char path[128];
	ob_error e = {0};
	uint64_t n;
	(void)state;

	path_of(path, sizeof(path), "missing.jsonl");
	assert_int_equal(ob_audit_verify(path, &n, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "missing.jsonl"));
	assert_int_equal(ob_audit_verify(NULL, &n, &e), -EINVAL);
	assert_int_equal(ob_audit_verify_buffer("x", 1, NULL, &n, &e), -EINVAL);
	/* a 100 kB line grows the reader's buffer */
	path_of(path, sizeof(path), "big.jsonl");
	Audit a;
	char *big = calloc(1, 100001);
	assert_non_null(big);
	memset(big, 'y', 100000);
	assert_int_equal(audit_init(&a, "native"), 0);
	assert_int_equal(audit_add_path(&a, path, &e), 0);
	audit_emit(&a, "SandboxDegraded", json_pack("{s:s}", "reason", big));
	audit_emit(&a, "SandboxDegraded", json_pack("{s:s}", "reason", "short"));
	audit_done(&a);
	free(big);
	assert_int_equal(ob_audit_verify(path, &n, &e), 0);
	assert_int_equal(n, 2);
}

static void expect_format(const char *line, const char *event, unsigned flags, int want,
                          const char *text)
{
	char *out = NULL;
	int r = ob_audit_format(line, strlen(line), event, flags, &out);
	if (r != want || (text && (!out || strcmp(out, text) != 0)))
		fail_msg("%s -> %d '%s' (wanted %d '%s')", line, r, out ? out : "", want,
		         text ? text : "");
	free(out);
}

static void test_format(void **state)
{
	(void)state;
	const char *denied =
	    "{\"ts\":\"T\",\"event\":\"CapabilityDenied\",\"seq\":7,\"prev\":\"x\","
	    "\"capability\":\"FILE_READ\",\"resource\":\"/etc/my file\","
	    "\"operation\":\"open\",\"pid\":3,\"repeated\":0,\"needed\":\"n\"}\n";
	expect_format(denied, NULL, 0, 1,
	              "T #7 CapabilityDenied capability=FILE_READ resource=\"/etc/my file\" "
	              "operation=open needed=n pid=3 repeated=0");
	expect_format(denied, "capabilitydenied", 0, 1, NULL);
	expect_format(denied, "SandboxExit", 0, 0, NULL);
	expect_format(denied, NULL, OB_AUDIT_FORMAT_JSON, 1, NULL);
	expect_format(
	    "{\"event\":\"Custom\",\"ts\":\"T\",\"backend\":\"native\",\"x\":\"\\u001b[2J\","
	    "\"y\":{\"a\":1},\"z\":\"\"}",
	    NULL, 0, 1, "T Custom x=\"\\u001B[2J\" y={\"a\":1} z=\"\"");
	expect_format("{\"event\":\"SandboxExit\",\"status\":0}", NULL, 0, 1,
	              "- SandboxExit status=0");
	expect_format("not json", NULL, 0, -EBADMSG, NULL);
	expect_format("{\"event\":1}", NULL, 0, -EBADMSG, NULL);
	expect_format("{\"event\":\"X\"}", NULL, OB_AUDIT_FORMAT_JSON, 1, "{\"event\":\"X\"}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hash),
	    cmocka_unit_test(test_file_chain_continues),
	    cmocka_unit_test(test_interleaved_writers),
	    cmocka_unit_test(test_torn_while_running),
	    cmocka_unit_test(test_lock_held_elsewhere),
	    cmocka_unit_test(test_long_last_line),
	    cmocka_unit_test(test_refused_files),
	    cmocka_unit_test(test_streams),
	    cmocka_unit_test(test_verify_buffer),
	    cmocka_unit_test(test_verify_file_errors),
	    cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
