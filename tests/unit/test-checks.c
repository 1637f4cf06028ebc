/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The enforcement helpers end to end through the public API, on the hostile inputs the
 * foundation issue lists: path tricks, NUL bytes, 64 KiB paths, non-UTF-8 names, wildcard
 * domains against look-alikes, IPv6 literals, out-of-range ports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omnibase/omnibase.h"
#include <cmocka.h>

static ob_capset *set_with(const char *const *specs, size_t n)
{
	ob_capset *set;
	ob_error e;

	assert_int_equal(ob_capset_new(&set), 0);
	assert_int_equal(ob_capset_set_workdir(set, "/work"), 0);
	for (size_t i = 0; i < n; i++) {
		ob_capability *c;
		if (ob_capability_parse(&c, specs[i], "/work", &e) < 0)
			fail_msg("%s: %s", specs[i], e.msg);
		assert_int_equal(ob_capset_add(set, c), 0);
		ob_capability_free(c);
	}
	return set;
}

#define SET(...)                                                                                   \
	set_with((const char *const[]){__VA_ARGS__},                                               \
	         sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

static void test_file_read_path_tricks(void **state)
{
	(void)state;
	ob_capset *s = SET("FILE_READ:/data/allowed.txt");
	ob_cap_error e;

	assert_int_equal(ob_check_file_read(s, NULL, "/data/allowed.txt", &e), 0);
	assert_int_equal(e.code, 0);
	assert_int_equal(ob_check_file_read(s, NULL, "/data//allowed.txt", NULL), 0);
	assert_int_equal(ob_check_file_read(s, NULL, "/data/./allowed.txt", NULL), 0);
	assert_int_equal(ob_check_file_read(s, NULL, "/data/x/../allowed.txt", NULL), 0);
	assert_int_equal(ob_check_file_read(s, NULL, "/../../data/allowed.txt", NULL), 0);
	/* the classic: a granted file used as a directory to step sideways */
	assert_int_equal(ob_check_file_read(s, NULL, "/data/allowed.txt/../other.txt", &e),
	                 -EACCES);
	assert_string_equal(e.resource, "/data/other.txt");
	assert_string_equal(e.needed, "FILE_READ:/data/other.txt");
	assert_string_equal(e.operation, "read");
	assert_int_equal(e.type, OB_CAP_FILE_READ);
	assert_non_null(strstr(e.msg, "FILE_READ denied"));
	assert_int_equal(ob_check_file_read(s, NULL, "/data/allowed.txt/", NULL), 0);
	assert_int_equal(ob_check_file_read(s, NULL, "/data/allowed.txt.bak", NULL), -EACCES);
	assert_int_equal(ob_check_file_read(s, NULL, "/data", NULL), -EACCES);
	assert_int_equal(ob_check_file_read(s, NULL, "/data/allowed.tx", NULL), -EACCES);
	/* read only: no write */
	assert_int_equal(ob_check_file_write(s, NULL, "/data/allowed.txt", &e), -EACCES);
	assert_string_equal(e.needed, "FILE_WRITE:/data/allowed.txt");
	/* relative requests resolve against the set's working directory */
	ob_capset_unref(s);
	s = SET("FILE_READ:data/*.txt");
	assert_int_equal(ob_check_file_read(s, NULL, "data/a.txt", NULL), 0);
	assert_int_equal(ob_check_file_read(s, NULL, "/work/data/a.txt", NULL), 0);
	assert_int_equal(ob_check_file_read(s, NULL, "/data/a.txt", NULL), -EACCES);
	assert_int_equal(ob_check_file_read(s, NULL, "data/sub/a.txt", NULL), -EACCES);
	ob_capset_unref(s);
}

/* SPEC §2.2: a path without wildcards covers it and everything beneath, as the sandbox shows
 * it (a bind of the tree); never a sibling that shares its prefix, never through "..". */
static void test_file_directory_grants(void **state)
{
	(void)state;
	ob_capset *s = SET("FILE_READ:/data", "FILE_WRITE:/out/sub", "FILE_READ:/srv/*/public");
	ob_cap_error e;

	assert_int_equal(ob_check_file_read(s, NULL, "/data", NULL), 0);
	assert_int_equal(ob_check_file_read(s, NULL, "/data/a.txt", NULL), 0);
	assert_int_equal(ob_check_file_read(s, NULL, "/data/sub/deep/file", NULL), 0);
	assert_int_equal(ob_check_file_read(s, NULL, "/database", NULL), -EACCES);
	assert_int_equal(ob_check_file_read(s, NULL, "/data2/a", NULL), -EACCES);
	assert_int_equal(ob_check_file_read(s, NULL, "/data/../etc/passwd", &e), -EACCES);
	assert_string_equal(e.needed, "FILE_READ:/etc/passwd");
	assert_int_equal(ob_check_file_read(s, NULL, "/", NULL), -EACCES);
	assert_int_equal(ob_check_file_write(s, NULL, "/data/a.txt", NULL), -EACCES);
	assert_int_equal(ob_check_file_write(s, NULL, "/out/sub/new/file", NULL), 0);
	assert_int_equal(ob_check_file_read(s, NULL, "/out/sub/x", NULL), 0);
	assert_int_equal(ob_check_file_write(s, NULL, "/out/other", NULL), -EACCES);
	assert_int_equal(ob_check_file_write(s, NULL, "/out", NULL), -EACCES);
	/* a pattern's matched directory brings its tree too, as the runner binds it */
	assert_int_equal(ob_check_file_read(s, NULL, "/srv/a/public/x/y", NULL), 0);
	assert_int_equal(ob_check_file_read(s, NULL, "/srv/a/private/x", NULL), -EACCES);
	assert_int_equal(ob_capset_allows(s, OB_CAP_FILE_READ, "/data/x", NULL), 1);
	ob_capset_unref(s);
	/* the root granted: everything */
	s = SET("FILE_READ:/");
	assert_int_equal(ob_check_file_read(s, NULL, "/etc/passwd", NULL), 0);
	assert_int_equal(ob_check_file_read(s, NULL, "/", NULL), 0);
	ob_capset_unref(s);
}

static void test_file_globs(void **state)
{
	(void)state;
	ob_capset *s = SET("FILE_WRITE:/out/**", "FILE_READ:/src/**/*.py", "FILE_READ:/a/?.c",
	                   "FILE_READ:/lit/\\*star");

	assert_int_equal(ob_check_file_write(s, NULL, "/out", NULL), 0);
	assert_int_equal(ob_check_file_write(s, NULL, "/out/a/b/c", NULL), 0);
	assert_int_equal(ob_check_file_read(s, NULL, "/out/a", NULL), 0); /* write implies read */
	assert_int_equal(ob_check_file_write(s, NULL, "/outside", NULL), -EACCES);
	assert_int_equal(ob_check_file_write(s, NULL, "/out/../etc/passwd", NULL), -EACCES);
	assert_int_equal(ob_check_file_read(s, NULL, "/src/x.py", NULL), 0);
	assert_int_equal(ob_check_file_read(s, NULL, "/src/a/b/x.py", NULL), 0);
	assert_int_equal(ob_check_file_read(s, NULL, "/src/a/b/x.pyc", NULL), -EACCES);
	assert_int_equal(ob_check_file_write(s, NULL, "/src/x.py", NULL), -EACCES);
	assert_int_equal(ob_check_file_read(s, NULL, "/a/b.c", NULL), 0);
	assert_int_equal(ob_check_file_read(s, NULL, "/a/bb.c", NULL), -EACCES);
	assert_int_equal(ob_check_file_read(s, NULL, "/a//.c", NULL), -EACCES);
	assert_int_equal(ob_check_file_read(s, NULL, "/lit/*star", NULL), 0);
	assert_int_equal(ob_check_file_read(s, NULL, "/lit/xstar", NULL), -EACCES);
	ob_capset_unref(s);
}

static void test_file_hostile_bytes(void **state)
{
	(void)state;
	ob_capset *s = SET("FILE_READ:/data/**");
	ob_capability *c;
	ob_error err;
	ob_cap_error e;

	/* NUL inside a resource is refused, not truncated */
	assert_int_equal(ob_capability_new(&c, OB_CAP_FILE_READ, "/data/a\0/etc", 12, "/", &err),
	                 -EINVAL);
	assert_non_null(strstr(err.msg, "NUL"));
	/* non-UTF-8 bytes are bytes */
	assert_int_equal(ob_check_file_read(s, NULL, "/data/\xff\xfe.bin", NULL), 0);
	assert_int_equal(ob_capability_new(&c, OB_CAP_FILE_READ, "/x/\xff*", 5, "/", &err), 0);
	assert_string_equal(ob_capability_resource(c), "/x/\xff*");
	ob_capability_free(c);
	/* a 64 KiB path: refused as a request and as a pattern, no overflow */
	size_t n = 64 * 1024;
	char *big = malloc(n + 1);
	assert_non_null(big);
	big[0] = '/';
	memset(big + 1, 'a', n - 1);
	big[n] = '\0';
	for (size_t i = 100; i < n; i += 100)
		big[i] = '/';
	assert_int_equal(ob_check_file_read(s, NULL, big, &e), -ENAMETOOLONG);
	assert_int_equal(e.code, -ENAMETOOLONG);
	assert_int_equal(ob_capability_new(&c, OB_CAP_FILE_READ, big, n, "/", &err), -ENAMETOOLONG);
	/* ... also when it is only long before normalisation collapses it */
	memset(big, '/', n);
	assert_int_equal(ob_check_file_read(s, NULL, big, NULL), -ENAMETOOLONG);
	free(big);
	assert_int_equal(ob_check_file_read(s, NULL, "", &e), -EINVAL);
	ob_capset_unref(s);
}

/* Host unix sockets (SPEC §2.2): NETWORK_CONNECT unix:PATH, exact or a path pattern. */
static void test_unix_sockets(void **state)
{
	(void)state;
	ob_capset *s =
	    SET("NETWORK_CONNECT:unix:/run/docker.sock", "NETWORK_CONNECT:UNIX:/run/user/*/bus",
	        "NETWORK_CONNECT:unix:agent/s.sock", "NETWORK_CONNECT:api.test.org");
	ob_cap_error e;

	assert_int_equal(ob_check_unix_socket(s, NULL, "/run/docker.sock", &e), 0);
	assert_int_equal(e.code, 0);
	assert_int_equal(ob_check_unix_socket(s, NULL, "/run//./docker.sock", NULL), 0);
	assert_int_equal(ob_check_unix_socket(s, NULL, "/run/x/../docker.sock", NULL), 0);
	assert_int_equal(ob_check_unix_socket(s, NULL, "/run/user/1000/bus", NULL), 0);
	assert_int_equal(ob_check_unix_socket(s, NULL, "/run/user/1000/x/bus", NULL), -EACCES);
	/* relative: against the workdir, as the grant was */
	assert_int_equal(ob_check_unix_socket(s, NULL, "/work/agent/s.sock", NULL), 0);
	assert_int_equal(ob_check_unix_socket(s, NULL, "agent/s.sock", NULL), 0);
	assert_int_equal(ob_check_unix_socket(s, NULL, "/run/dbus/system_bus_socket", &e), -EACCES);
	assert_string_equal(e.resource, "unix:/run/dbus/system_bus_socket");
	assert_string_equal(e.needed, "NETWORK_CONNECT:unix:/run/dbus/system_bus_socket");
	assert_string_equal(e.operation, "connect");
	assert_int_equal(e.type, OB_CAP_NETWORK_CONNECT);
	/* a path that looks like a port is still a path here */
	assert_int_equal(ob_check_unix_socket(s, NULL, "80", &e), -EACCES);
	assert_string_equal(e.resource, "unix:/work/80");
	assert_int_equal(ob_check_unix_socket(s, NULL, "", NULL), -EINVAL);
	/* a host grant is no socket grant, and the other way round */
	assert_int_equal(ob_check_unix_socket(s, NULL, "/api.test.org", NULL), -EACCES);
	assert_int_equal(ob_check_network(s, NULL, "unix", 80, NULL), -EACCES);
	assert_int_equal(ob_capset_allows(s, OB_CAP_NETWORK_CONNECT, "unix:/run/user/0/bus", NULL),
	                 1);
	assert_int_equal(ob_capset_allows(s, OB_CAP_NETWORK_CONNECT, "unix:/run/other", NULL), 0);
	/* "unix:PORT" and "unix:*" stay a host named unix */
	assert_int_equal(ob_capset_allows(s, OB_CAP_NETWORK_CONNECT, "unix:80", NULL), 0);
	ob_capset_unref(s);

	ob_capability *c, *d;
	ob_error err;
	assert_int_equal(
	    ob_capability_parse(&c, "NETWORK_CONNECT:unix:/run//a/../b.sock", NULL, &err), 0);
	assert_string_equal(ob_capability_resource(c), "unix:/run/b.sock");
	assert_int_equal(ob_capability_parse(&d, "NETWORK_CONNECT:unix:/run/*.sock", NULL, &err),
	                 0);
	assert_true(ob_capability_covers(d, c));
	assert_false(ob_capability_covers(c, d));
	ob_capability_free(d);
	assert_int_equal(ob_capability_parse(&d, "NETWORK_CONNECT:unix:80", NULL, &err), 0);
	assert_string_equal(ob_capability_resource(d), "unix:80");
	assert_false(ob_capability_covers(d, c));
	ob_capability_free(d);
	assert_int_equal(ob_capability_parse(&d, "NETWORK_CONNECT:unix:*", NULL, &err), 0);
	assert_string_equal(ob_capability_resource(d), "unix");
	ob_capability_free(d);
	ob_capability_free(c);
	/* relative without a workdir, and a NUL byte: malformed */
	assert_int_equal(ob_capability_parse(&c, "NETWORK_CONNECT:unix:a.sock", NULL, &err),
	                 -EINVAL);
	assert_int_equal(
	    ob_capability_new(&c, OB_CAP_NETWORK_CONNECT, "unix:/a\0b", 10, NULL, &err), -EINVAL);
}

static void test_network_hosts(void **state)
{
	(void)state;
	ob_capset *s = SET("NETWORK_CONNECT:*.example.com:443", "NETWORK_CONNECT:api.test.org",
	                   "NETWORK_CONNECT:[::1]:8443", "NETWORK_CONNECT:10.0.0.0/8:5432");
	ob_cap_error e;

	assert_int_equal(ob_check_network(s, NULL, "a.example.com", 443, NULL), 0);
	assert_int_equal(ob_check_network(s, NULL, "A.B.Example.COM.", 443, NULL), 0);
	assert_int_equal(ob_check_network(s, NULL, "example.com", 443, &e), -EACCES);
	assert_string_equal(e.needed, "NETWORK_CONNECT:example.com:443");
	assert_string_equal(e.operation, "connect");
	assert_int_equal(ob_check_network(s, NULL, "evilexample.com", 443, NULL), -EACCES);
	assert_int_equal(ob_check_network(s, NULL, "a.example.com.evil.net", 443, NULL), -EACCES);
	assert_int_equal(ob_check_network(s, NULL, "a.example.com", 80, NULL), -EACCES);
	/* a bare host means any port */
	assert_int_equal(ob_check_network(s, NULL, "api.test.org", 1, NULL), 0);
	assert_int_equal(ob_check_network(s, NULL, "api.test.org", 65535, NULL), 0);
	/* IPv6 with and without brackets */
	assert_int_equal(ob_check_network(s, NULL, "::1", 8443, NULL), 0);
	assert_int_equal(ob_check_network(s, NULL, "[::1]", 8443, NULL), 0);
	assert_int_equal(ob_check_network(s, NULL, "[0:0::1]", 8443, NULL), 0);
	assert_int_equal(ob_check_network(s, NULL, "::2", 8443, &e), -EACCES);
	assert_string_equal(e.resource, "[::2]:8443");
	assert_int_equal(ob_capset_allows(s, OB_CAP_NETWORK_CONNECT, "[::1]:8443", NULL), 1);
	assert_int_equal(ob_capset_allows(s, OB_CAP_NETWORK_CONNECT, "::1:8443", NULL), -EINVAL);
	/* CIDR, and the v4-mapped spelling of the same address */
	assert_int_equal(ob_check_network(s, NULL, "10.200.3.4", 5432, NULL), 0);
	assert_int_equal(ob_check_network(s, NULL, "::ffff:10.200.3.4", 5432, NULL), 0);
	assert_int_equal(ob_check_network(s, NULL, "11.0.0.1", 5432, NULL), -EACCES);
	assert_int_equal(ob_check_network(s, NULL, "10.0.0.1", 5433, NULL), -EACCES);
	/* names never match address grants and vice versa */
	assert_int_equal(ob_check_network(s, NULL, "ten.example.org", 5432, NULL), -EACCES);
	/* ports out of range and malformed hosts are malformed requests */
	assert_int_equal(ob_check_network(s, NULL, "a.example.com", 0, &e), -EINVAL);
	assert_int_equal(e.code, -EINVAL);
	assert_int_equal(ob_check_network(s, NULL, "a.example.com", 65536, NULL), -EINVAL);
	assert_int_equal(ob_check_network(s, NULL, "127.1", 443, NULL), -EINVAL);
	assert_int_equal(ob_check_network(s, NULL, "2130706433", 443, NULL), -EINVAL);
	assert_int_equal(ob_check_network(s, NULL, "a b.com", 443, NULL), -EINVAL);
	assert_int_equal(ob_check_network(s, NULL, "", 443, NULL), -EINVAL);
	assert_int_equal(ob_capset_allows(s, OB_CAP_NETWORK_CONNECT, "a.example.com:99999", NULL),
	                 -EINVAL);
	assert_int_equal(ob_capset_allows(s, OB_CAP_NETWORK_CONNECT, "a.example.com:-1", NULL),
	                 -EINVAL);
	assert_int_equal(ob_capset_allows(s, OB_CAP_NETWORK_CONNECT, "a.example.com", NULL),
	                 -EINVAL);
	ob_capset_unref(s);
}

static void test_bad_host_grants(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "NETWORK_CONNECT:api.example.com:0",
	    "NETWORK_CONNECT:api.example.com:65536",
	    "NETWORK_CONNECT:api.example.com:99999",
	    "NETWORK_CONNECT:api.example.com:x",
	    "NETWORK_CONNECT:api-*.example.com",
	    "NETWORK_CONNECT:10.0.0.1/8",
	    "NETWORK_CONNECT:10.0.0.0/33",
	    "NETWORK_CONNECT:[::1",
	    "NETWORK_CONNECT:[::1]x",
	    "NETWORK_CONNECT:[1.2.3.4]:80",
	    "NETWORK_CONNECT:-bad.com",
	    "NETWORK_CONNECT:a..b",
	    "NETWORK_CONNECT:1.2.3.256",
	    "NETWORK_CONNECT:\xc3\xa9t\xc3\xa9.fr",
	    "NETWORK_CONNECT:",
	    "NETWORK_CONNECT::443",
	    "NETWORK_CONNECT:fe80::/129",
	    "NETWORK_CONNECT:::ffff:10.0.0.0/64",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ob_capability *c = NULL;
		ob_error e = {0};
		if (ob_capability_parse(&c, bad[i], "/", &e) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_true(e.msg[0] != '\0');
	}
	static const char *const good[][2] = {
	    {"net_http:*", "*"},
	    {"NETWORK_CONNECT:*:443", "*:443"},
	    {"NETWORK_CONNECT:Api.Example.COM.:*", "api.example.com"},
	    {"NETWORK_CONNECT:[fd00::/8]:443", "[fd00::/8]:443"},
	    {"NETWORK_CONNECT:fd00::/8", "fd00::/8"},
	    {"NETWORK_CONNECT:::ffff:10.0.0.0/104", "10.0.0.0/8"},
	    {"NETWORK_CONNECT:0.0.0.0/0:53", "0.0.0.0/0:53"},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ob_capability *c = NULL;
		ob_error e;
		if (ob_capability_parse(&c, good[i][0], "/", &e) < 0)
			fail_msg("%s: %s", good[i][0], e.msg);
		assert_string_equal(ob_capability_resource(c), good[i][1]);
		ob_capability_free(c);
	}
}

static void test_commands_secrets(void **state)
{
	(void)state;
	ob_capset *s = SET("exec_run:git", "EXTERNAL_COMMAND:/usr/bin/py*", "SECRET_ACCESS:db_*",
	                   "SECRET_ACCESS:api_key");
	ob_cap_error e;

	assert_int_equal(ob_check_command(s, NULL, "git", NULL), 0);
	assert_int_equal(ob_check_command(s, NULL, "/usr/bin/git", &e), -EACCES);
	assert_string_equal(e.operation, "exec");
	assert_int_equal(ob_check_command(s, NULL, "/usr/bin/python3", NULL), 0);
	assert_int_equal(ob_check_command(s, NULL, "/usr/bin/../bin/python3", NULL), 0);
	assert_int_equal(ob_check_command(s, NULL, "/usr/local/bin/python3", NULL), -EACCES);
	assert_int_equal(ob_check_command(s, NULL, "python3", NULL), -EACCES);
	assert_int_equal(ob_check_secret(s, NULL, "db_password", NULL), 0);
	assert_int_equal(ob_check_secret(s, NULL, "api_key", NULL), 0);
	assert_int_equal(ob_check_secret(s, NULL, "api_key2", &e), -EACCES);
	assert_string_equal(e.needed, "SECRET_ACCESS:api_key2");
	assert_string_equal(e.operation, "access");
	ob_capset_unref(s);

	ob_capability *c;
	assert_int_equal(ob_capability_parse(&c, "SECRET_ACCESS:../etc", "/", NULL), -EINVAL);
	assert_int_equal(ob_capability_parse(&c, "SECRET_ACCESS:..", "/", NULL), -EINVAL);
	assert_int_equal(ob_capability_parse(&c, "SECRET_ACCESS:a b", "/", NULL), -EINVAL);
	assert_int_equal(ob_capability_parse(&c, "EXTERNAL_COMMAND:gi\tt", "/", NULL), -EINVAL);
}

static void test_registry_artifact_database(void **state)
{
	(void)state;
	ob_capset *s = SET("REGISTRY_READ:validators/*", "ARTIFACT_WRITE:/runs/**",
	                   "DATABASE_READ:postgres://db.internal:5432/app*",
	                   "DATABASE_WRITE:sqlite:./state.db", "DATABASE_READ:redis://cache");
	ob_cap_error e;

	assert_int_equal(ob_check_registry(s, NULL, "validators/schema", "read", NULL), 0);
	assert_int_equal(ob_check_registry(s, NULL, "/validators/schema", "read", NULL), 0);
	assert_int_equal(ob_check_registry(s, NULL, "validators/schema", "write", &e), -EACCES);
	assert_string_equal(e.needed, "REGISTRY_WRITE:validators/schema");
	assert_int_equal(ob_check_registry(s, NULL, "validators/a/b", "read", NULL), -EACCES);
	assert_int_equal(ob_check_registry(s, NULL, "../validators/x", "read", NULL), -EINVAL);
	assert_int_equal(ob_check_registry(s, NULL, "validators/x", "exec", &e), -EINVAL);
	assert_int_equal(e.code, -EINVAL);
	assert_int_equal(ob_check_artifact(s, NULL, "runs/1/log.txt", "write", NULL), 0);
	assert_int_equal(ob_check_artifact(s, NULL, "runs/1/log.txt", "read", NULL), 0);
	assert_int_equal(ob_check_artifact(s, NULL, "other", "read", NULL), -EACCES);
	assert_int_equal(
	    ob_check_database(s, NULL, "postgres://db.internal:5432/app_main", "read", NULL), 0);
	assert_int_equal(ob_check_database(s, NULL,
	                                   "POSTGRES://u:pw@DB.internal:5432/app1?sslmode=require",
	                                   "read", NULL),
	                 0);
	assert_int_equal(
	    ob_check_database(s, NULL, "postgres://db.internal:5432/other", "read", &e), -EACCES);
	assert_string_equal(e.needed, "DATABASE_READ:postgres://db.internal:5432/other");
	assert_int_equal(
	    ob_check_database(s, NULL, "postgres://db.internal:5432/app", "write", NULL), -EACCES);
	assert_int_equal(ob_check_database(s, NULL, "mysql://db.internal:5432/app", "read", NULL),
	                 -EACCES);
	assert_int_equal(ob_check_database(s, NULL, "redis://cache:6379", "read", NULL), 0);
	assert_int_equal(ob_check_database(s, NULL, "redis://cache:6379/0", "read", NULL), 0);
	assert_int_equal(ob_check_database(s, NULL, "sqlite:/work/state.db", "write", NULL), 0);
	assert_int_equal(ob_check_database(s, NULL, "sqlite:state.db", "read", NULL), 0);
	assert_int_equal(ob_check_database(s, NULL, "sqlite:/work/other.db", "read", &e), -EACCES);
	assert_string_equal(e.needed, "DATABASE_READ:sqlite:/work/other.db");
	assert_int_equal(ob_check_database(s, NULL, "redis://cache", "read", NULL), -EINVAL);
	assert_int_equal(ob_check_database(s, NULL, "nonsense", "read", NULL), -EINVAL);
	ob_capset_unref(s);

	ob_capability *c;
	assert_int_equal(
	    ob_capability_parse(&c, "DATABASE_READ:postgres://u:p@h:5432/db", "/", NULL), -EINVAL);
	assert_int_equal(ob_capability_parse(&c, "DATABASE_READ:h:5432", "/", NULL), -EINVAL);
	assert_int_equal(ob_capability_parse(&c, "DATABASE_READ:1x://h", "/", NULL), -EINVAL);
	assert_int_equal(ob_capability_parse(&c, "DATABASE_READ:pg://h/a/b", "/", NULL), -EINVAL);
	assert_int_equal(ob_capability_parse(&c, "REGISTRY_READ:/", "/", NULL), -EINVAL);
	assert_int_equal(ob_capability_parse(&c, "REGISTRY_READ:a/../..", "/", NULL), -EINVAL);
}

static void test_conditions_and_messages(void **state)
{
	(void)state;
	ob_capset *s;
	ob_capability *c;
	ob_context *ctx;
	ob_cap_error e;

	assert_int_equal(ob_capset_new(&s), 0);
	assert_int_equal(ob_capability_parse(&c, "SECRET_ACCESS:db_password", "/", NULL), 0);
	assert_int_equal(ob_capability_add_condition(c, "env", "prod*", NULL), 0);
	assert_int_equal(ob_capset_add(s, c), 0);
	ob_capability_free(c);
	assert_int_equal(ob_context_new(&ctx), 0);

	assert_int_equal(ob_check_secret(s, NULL, "db_password", &e), -EACCES);
	assert_non_null(strstr(e.msg, "when env=prod*"));
	assert_int_equal(ob_check_secret(s, ctx, "db_password", NULL), -EACCES);
	assert_int_equal(ob_context_set(ctx, "env", "dev"), 0);
	assert_int_equal(ob_check_secret(s, ctx, "db_password", NULL), -EACCES);
	assert_int_equal(ob_context_set_assignment(ctx, "env=production"), 0);
	assert_int_equal(ob_check_secret(s, ctx, "db_password", &e), 0);
	assert_int_equal(e.code, 0);
	ob_context_free(ctx);
	ob_capset_unref(s);
}

static void test_long_resource_in_message(void **state)
{
	(void)state;
	ob_capset *s = SET("FILE_READ:/x");
	char path[3000];
	ob_cap_error e;

	path[0] = '/';
	memset(path + 1, 'z', sizeof(path) - 2);
	path[sizeof(path) - 1] = '\0';
	for (size_t i = 200; i < sizeof(path) - 1; i += 200)
		path[i] = '/';
	assert_int_equal(ob_check_file_read(s, NULL, path, &e), -EACCES);
	assert_int_equal(strlen(e.resource), sizeof(e.resource) - 1);
	assert_string_equal(e.resource + sizeof(e.resource) - 4, "...");
	ob_capset_unref(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_file_read_path_tricks),
	    cmocka_unit_test(test_file_directory_grants),
	    cmocka_unit_test(test_file_globs),
	    cmocka_unit_test(test_file_hostile_bytes),
	    cmocka_unit_test(test_network_hosts),
	    cmocka_unit_test(test_bad_host_grants),
	    cmocka_unit_test(test_commands_secrets),
	    cmocka_unit_test(test_unix_sockets),
	    cmocka_unit_test(test_registry_artifact_database),
	    cmocka_unit_test(test_conditions_and_messages),
	    cmocka_unit_test(test_long_resource_in_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
