/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The system call policy as an OCI runtime-spec seccomp object (linux.seccomp), made from the
 * same tables as the native filter (plan/syscall-table.c).
 */
#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>

#include "backends/oci.h"
#include "basic/macro.h"
#include "plan/syscall-table.h"

#if defined(__aarch64__)
#define OCI_ARCH "SCMP_ARCH_AARCH64"
#else
#define OCI_ARCH "SCMP_ARCH_X86_64"
#endif

static const char *const oci_ops[] = {
    [SCMP_CMP_NE] = "SCMP_CMP_NE",
    [SCMP_CMP_LT] = "SCMP_CMP_LT",
    [SCMP_CMP_LE] = "SCMP_CMP_LE",
    [SCMP_CMP_EQ] = "SCMP_CMP_EQ",
    [SCMP_CMP_GE] = "SCMP_CMP_GE",
    [SCMP_CMP_GT] = "SCMP_CMP_GT",
    [SCMP_CMP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static json_t *oci_rule(const char *name, json_t *args)
{
	json_t *r = json_pack("{s:[s], s:s}", "names", name, "action", "SCMP_ACT_ALLOW");
	if (r && args)
		(void)json_object_set_new(r, "args", args);
	return r;
}

static json_t *oci_arg(unsigned index, enum scmp_compare op, uint64_t a, uint64_t b)
{
	/* OCI's MASKED_EQ: value is the mask, valueTwo the datum, as in libseccomp. JSON numbers
	 * from jansson are signed: bit 63 is left out of masks, which only lets a value with it
	 * set match a block its low bits are in — these rules' decisions rest on the low 32
	 * bits (the kernel reads ioctl's command as an unsigned int). */
	if (op == SCMP_CMP_MASKED_EQ) {
		a &= INT64_MAX;
		b &= INT64_MAX;
	}
	return json_pack("{s:i, s:I, s:I, s:s}", "index", (int)index, "value", (json_int_t)a,
	                 "valueTwo", (json_int_t)b, "op", oci_ops[op]);
}

static json_t *oci_notify_rule(const char *name, json_t *args)
{
	json_t *r = json_pack("{s:[s], s:s}", "names", name, "action", "SCMP_ACT_NOTIFY");
	if (r && args)
		(void)json_object_set_new(r, "args", args);
	return r;
}

/* The calls that write by path (runner/notify-write.c): observed where a listener exists. */
static bool oci_observed_write(const char *name)
{
	return syscall_in_list(syscalls_observed_writes, syscalls_observed_writes_n, name);
}

/* Is NAME one of the observed calls that cond_unobserved limits without a listener? */
static bool oci_unobserved_limited(const char *name)
{
	for (size_t i = 0; i < cond_unobserved_n; i++)
		if (streq(cond_unobserved[i].name, name))
			return true;
	return false;
}

/* Allowed outright or by the conditional rules (whose refused uses are added apart). */
static bool oci_not_notified(const FilterProfile *prof, const char *name)
{
	if (filter_profile_has(prof->allow, name))
		return true;
	if (filter_profile_has(prof->deny, name) || oci_observed_write(name))
		return false;
	return (syscall_in_list(syscalls_allowed, syscalls_allowed_n, name) &&
	        !syscall_in_list(syscalls_observed, syscalls_observed_n, name)) ||
	       syscall_is_conditional(name);
}

/* Every call this libseccomp knows that the filter refuses or the supervisor observes, by
 * name: runc takes no notification as the default action, so each is listed. */
/* Past the last system call number of the native table (x86_64's and aarch64's end below
 * 512; 512 and up are x32's own numbers). */
#define OCI_NR_END 512

static json_t *oci_notified_names(const FilterProfile *prof)
{
	json_t *names = json_array();

	for (int nr = 0; nr < OCI_NR_END; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		if (name && !oci_not_notified(prof, name))
			(void)json_array_append_new(names, json_string(name));
		free(name);
	}
	return names;
}

/* The conditional calls' refused uses (cond_refusals, cond_refused_ranges) to RULES. */
static void oci_add_cond_refusals(json_t *rules, const FilterProfile *prof)
{
	for (size_t i = 0; i < cond_refusals_n; i++) {
		const CondRule *c = &cond_refusals[i];
		if (filter_profile_has(prof->deny, c->name) ||
		    filter_profile_has(prof->allow, c->name) || oci_observed_write(c->name))
			continue; /* notified whatever the arguments (oci_notified_names) */
		(void)json_array_append_new(
		    rules,
		    oci_notify_rule(c->name, json_pack("[o]", oci_arg(c->cmp[0].arg, c->cmp[0].op,
		                                                      c->cmp[0].a, c->cmp[0].b))));
	}
	for (size_t i = 0; i < cond_refused_ranges_n; i++) {
		const char *name = cond_refused_ranges[i].name;
		if (filter_profile_has(prof->deny, name) || filter_profile_has(prof->allow, name))
			continue;
		for (uint64_t lo = cond_refused_ranges[i].lo; lo <= cond_refused_ranges[i].hi;) {
			uint64_t start = lo,
			         mask = syscall_next_block(&lo, cond_refused_ranges[i].hi);
			(void)json_array_append_new(
			    rules,
			    oci_notify_rule(
			        name, json_pack("[o]", oci_arg(cond_refused_ranges[i].arg,
			                                       SCMP_CMP_MASKED_EQ, mask, start))));
		}
	}
}

json_t *oci_seccomp_json(const FilterProfile *prof, const char *listener)
{
	json_t *names = json_array(), *rules = json_array();

	/* With a listener the observed calls and every refusal reach the supervisor as
	 * natively (each listed: runc takes no notification as the default action; what stays
	 * EPERM unrecorded is in docs/design/backends.md). Without one nobody observes: the
	 * observed calls are plainly allowed (the layout and the kernel's fences decide); sendto
	 * keeps its Fast Open check below, sendmsg and sendmmsg theirs (cond_unobserved). With
	 * one the calls that write by path are observed too, as natively. */
	for (size_t i = 0; i < syscalls_allowed_n; i++)
		if (!filter_profile_has(prof->deny, syscalls_allowed[i]) &&
		    !(listener && oci_observed_write(syscalls_allowed[i])))
			(void)json_array_append_new(names, json_string(syscalls_allowed[i]));
	for (size_t i = 0; !listener && i < syscalls_observed_n; i++)
		if (!streq(syscalls_observed[i], "sendto") &&
		    !oci_unobserved_limited(syscalls_observed[i]))
			(void)json_array_append_new(names, json_string(syscalls_observed[i]));
	for (size_t i = 0; !listener && i < syscalls_observed_files_n; i++)
		(void)json_array_append_new(names, json_string(syscalls_observed_files[i]));
	for (size_t i = 0; prof->allow && prof->allow[i]; i++)
		(void)json_array_append_new(names, json_string(prof->allow[i]));
	(void)json_array_append_new(
	    rules, json_pack("{s:o, s:s}", "names", names, "action", "SCMP_ACT_ALLOW"));
	for (size_t i = 0; i < cond_rules_n; i++) {
		const CondRule *c = &cond_rules[i];
		if (filter_profile_has(prof->deny, c->name) ||
		    (listener && oci_observed_write(c->name)))
			continue;
		json_t *args = json_array();
		/* without a listener sendto with an address is a plain send: nobody to check it */
		unsigned n = streq(c->name, "sendto") && !listener ? 1 : c->n;
		for (unsigned k = 0; k < n; k++)
			(void)json_array_append_new(
			    args, oci_arg(c->cmp[k].arg, c->cmp[k].op, c->cmp[k].a, c->cmp[k].b));
		(void)json_array_append_new(rules, oci_rule(c->name, args));
	}
	for (size_t i = 0; !listener && i < cond_unobserved_n; i++) {
		const CondRule *c = &cond_unobserved[i];
		if (!filter_profile_has(prof->deny, c->name))
			(void)json_array_append_new(
			    rules,
			    oci_rule(c->name, json_pack("[o]", oci_arg(c->cmp[0].arg, c->cmp[0].op,
			                                               c->cmp[0].a, c->cmp[0].b))));
	}
	for (size_t i = 0; !filter_profile_has(prof->deny, "ioctl") && i < ioctl_ranges_n; i++)
		for (uint64_t lo = ioctl_ranges[i][0]; lo <= ioctl_ranges[i][1];) {
			uint64_t start = lo, mask = syscall_next_block(&lo, ioctl_ranges[i][1]);
			(void)json_array_append_new(
			    rules, oci_rule("ioctl", json_pack("[o]", oci_arg(1, SCMP_CMP_MASKED_EQ,
			                                                      mask, start))));
		}
	/* clone3's flags live in memory: ENOSYS, and C libraries fall back to clone, whose flags
	 * the rules read. runsc (2022-12) applies no errnoRet (its refusal is EPERM, and glibc
	 * then starts no thread: Python's threading failed): without a listener (gVisor) clone3
	 * is let through to gVisor's kernel, which implements none and answers ENOSYS itself
	 * (tests/integration/test_backends.py, test_threads_and_clone3). */
	(void)json_array_append_new(
	    rules, listener
	               ? json_pack("{s:[s], s:s, s:i}", "names", "clone3", "action",
	                           "SCMP_ACT_ERRNO", "errnoRet", ENOSYS)
	               : json_pack("{s:[s], s:s}", "names", "clone3", "action", "SCMP_ACT_ALLOW"));
	if (listener) {
		(void)json_array_append_new(rules, json_pack("{s:o, s:s}", "names",
		                                             oci_notified_names(prof), "action",
		                                             "SCMP_ACT_NOTIFY"));
		oci_add_cond_refusals(rules, prof);
		return json_pack("{s:s, s:i, s:s, s:[s], s:o}", "defaultAction", "SCMP_ACT_ERRNO",
		                 "defaultErrnoRet", EPERM, "listenerPath", listener,
		                 "architectures", OCI_ARCH, "syscalls", rules);
	}
	return json_pack("{s:s, s:i, s:[s], s:o}", "defaultAction", "SCMP_ACT_ERRNO",
	                 "defaultErrnoRet", EPERM, "architectures", OCI_ARCH, "syscalls", rules);
}
