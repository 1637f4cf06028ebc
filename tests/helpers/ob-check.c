/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ob-check TYPE:RESOURCE... -- PATH...: for each PATH, "Y" when the grants allow reading it
 * (ob_check_file_read, the library's answer) and "N" otherwise, one a line. Lets a test hold
 * the library's check against what a sandboxed program can actually read, without loading the
 * library into the test's interpreter (a sanitized build cannot be).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "omnibase/omnibase.h"

int main(int argc, char **argv)
{
	ob_capset *set = NULL;
	int i = 1, rc = 0;

	if (ob_capset_new(&set) < 0)
		return 2;
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		ob_capability *c;
		ob_error e;
		if (ob_capability_parse(&c, argv[i], "/", &e) < 0 || ob_capset_add(set, c) < 0) {
			(void)fprintf(stderr, "ob-check: %s: %s\n", argv[i], e.msg);
			rc = 2;
			break;
		}
		ob_capability_free(c);
	}
	for (i++; rc == 0 && i < argc; i++) {
		int r = ob_check_file_read(set, NULL, argv[i], NULL);
		if (r < 0 && r != -EACCES) {
			(void)fprintf(stderr, "ob-check: %s: %s\n", argv[i], strerror(-r));
			rc = 2;
		}
		(void)puts(r == 0 ? "Y" : "N");
	}
	ob_capset_unref(set);
	return rc;
}
