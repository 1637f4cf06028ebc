/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Capability-check throughput: a 100-grant set of mixed patterns (literal and glob paths,
 * host names, wildcard domains, CIDR blocks, commands, secrets with conditions, database
 * URLs, registry paths) against a rotating mix of allowed and denied requests, on one core.
 * Prints checks/s for ob_capset_has_capability (pre-parsed requests) and for
 * ob_capset_allows (requests as strings, parsed and normalised on every call).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "omnibase/omnibase.h"

typedef struct Req {
	ob_cap_type type;
	const char *res;
} Req;

static void add(ob_capset *set, ob_cap_type t, const char *res, const char *when)
{
	ob_capability *c;
	ob_error e;

	if (ob_capability_new(&c, t, res, strlen(res), "/work", &e) < 0) {
		fprintf(stderr, "bench: %s\n", e.msg);
		exit(1);
	}
	if (when && ob_capability_add_condition(c, "env", when, &e) < 0)
		exit(1);
	if (ob_capset_add(set, c) < 0)
		exit(1);
	ob_capability_free(c);
}

static void build_set(ob_capset *set)
{
	char buf[128];

	for (int i = 0; i < 20; i++) {
		(void)snprintf(buf, sizeof(buf), "/data/project%d/input.csv", i);
		add(set, OB_CAP_FILE_READ, buf, NULL);
	}
	for (int i = 0; i < 10; i++) {
		(void)snprintf(buf, sizeof(buf), "/srv/app%d/**/*.py", i);
		add(set, OB_CAP_FILE_READ, buf, NULL);
		(void)snprintf(buf, sizeof(buf), "/tmp/out%d/**", i);
		add(set, OB_CAP_FILE_WRITE, buf, NULL);
	}
	for (int i = 0; i < 15; i++) {
		(void)snprintf(buf, sizeof(buf), "api%d.example.com:443", i);
		add(set, OB_CAP_NETWORK_CONNECT, buf, NULL);
	}
	for (int i = 0; i < 5; i++) {
		(void)snprintf(buf, sizeof(buf), "*.svc%d.internal", i);
		add(set, OB_CAP_NETWORK_CONNECT, buf, NULL);
		(void)snprintf(buf, sizeof(buf), "10.%d.0.0/16:5432", i);
		add(set, OB_CAP_NETWORK_CONNECT, buf, NULL);
	}
	for (int i = 0; i < 10; i++) {
		(void)snprintf(buf, sizeof(buf), "/home/user%d/docs/*.md", i);
		add(set, OB_CAP_FILE_READ, buf, NULL);
	}
	static const char *const cmds[] = {"git", "python3", "/usr/bin/make", "ls",
	                                   "/opt/*/bin/tool"};
	for (size_t i = 0; i < 5; i++)
		add(set, OB_CAP_EXTERNAL_COMMAND, cmds[i], NULL);
	for (int i = 0; i < 10; i++) {
		(void)snprintf(buf, sizeof(buf), "secret_%d_*", i);
		add(set, OB_CAP_SECRET_ACCESS, buf, i % 2 ? "prod" : "dev*");
	}
	for (int i = 0; i < 5; i++) {
		(void)snprintf(buf, sizeof(buf), "postgres://db%d.internal:5432/app*", i);
		add(set, OB_CAP_DATABASE_READ, buf, NULL);
		(void)snprintf(buf, sizeof(buf), "validators/team%d/*", i);
		add(set, OB_CAP_REGISTRY_READ, buf, NULL);
	}
}

static const Req reqs[] = {
    {OB_CAP_FILE_READ, "/data/project7/input.csv"},
    {OB_CAP_FILE_READ, "/data/project7/other.csv"},
    {OB_CAP_FILE_READ, "/srv/app3/lib/pkg/mod.py"},
    {OB_CAP_FILE_READ, "/etc/shadow"},
    {OB_CAP_FILE_WRITE, "/tmp/out4/result.json"},
    {OB_CAP_FILE_WRITE, "/data/project1/input.csv"},
    {OB_CAP_NETWORK_CONNECT, "api7.example.com:443"},
    {OB_CAP_NETWORK_CONNECT, "evil.example.com:443"},
    {OB_CAP_NETWORK_CONNECT, "x.svc3.internal:8080"},
    {OB_CAP_NETWORK_CONNECT, "10.2.7.9:5432"},
    {OB_CAP_EXTERNAL_COMMAND, "git"},
    {OB_CAP_EXTERNAL_COMMAND, "/usr/bin/curl"},
    {OB_CAP_SECRET_ACCESS, "secret_3_token"},
    {OB_CAP_SECRET_ACCESS, "other_secret"},
    {OB_CAP_DATABASE_READ, "postgres://db2.internal:5432/app_main"},
    {OB_CAP_REGISTRY_READ, "validators/team2/schema"},
};
#define N_REQS (sizeof(reqs) / sizeof(reqs[0]))

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 2000000;
	ob_capset *set;
	ob_context *ctx;
	ob_capability *caps[N_REQS];
	volatile long allowed = 0;

	if (ob_capset_new(&set) < 0 || ob_context_new(&ctx) < 0)
		return 1;
	(void)ob_context_set(ctx, "env", "prod");
	build_set(set);
	for (size_t i = 0; i < N_REQS; i++)
		if (ob_capability_new(&caps[i], reqs[i].type, reqs[i].res, strlen(reqs[i].res),
		                      "/work", NULL) < 0)
			return 1;

	double t0 = now();
	for (long i = 0; i < iters; i++)
		allowed += ob_capset_has_capability(set, caps[i % N_REQS], ctx);
	double t1 = now();
	for (long i = 0; i < iters; i++)
		allowed +=
		    ob_capset_allows(set, reqs[i % N_REQS].type, reqs[i % N_REQS].res, ctx) == 1;
	double t2 = now();

	printf("grants: %zu\n", ob_capset_size(set));
	printf("has_capability: %.2f M checks/s (%.1f ns/check)\n", iters / (t1 - t0) / 1e6,
	       (t1 - t0) / iters * 1e9);
	printf("allows(string): %.2f M checks/s (%.1f ns/check)\n", iters / (t2 - t1) / 1e6,
	       (t2 - t1) / iters * 1e9);
	printf("allowed fraction: %.3f\n", (double)allowed / (2.0 * iters));
	for (size_t i = 0; i < N_REQS; i++)
		ob_capability_free(caps[i]);
	ob_context_free(ctx);
	ob_capset_unref(set);
	return 0;
}
