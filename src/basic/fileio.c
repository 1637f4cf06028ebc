/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "basic/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/macro.h"

int read_file_limited(const char *path, size_t max, char **ret, size_t *ret_len, ob_error *reterr)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;

	if (fd < 0)
		return ob_error_set(reterr, -errno, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0)
		return ob_error_set(reterr, -errno, "%s: cannot stat: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return ob_error_set(reterr, -EINVAL, "%s: not a regular file", path);
	if (st.st_size > (off_t)max)
		return ob_error_set(reterr, -EFBIG, "%s: file is %lld bytes; the limit is %zu",
		                    path, (long long)st.st_size, max);
	/* Room for what fstat said plus a little: a file growing meanwhile is caught below. */
	size_t cap = MIN(max, (size_t)st.st_size + 4096);
	_cleanup_free_ char *buf = malloc(cap + 2);
	if (!buf)
		return ob_error_set(reterr, -ENOMEM, "out of memory");
	size_t n = 0;
	for (;;) {
		ssize_t k = read(fd, buf + n, cap + 1 - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return ob_error_set(reterr, -errno, "%s: read: %s", path, strerror(errno));
		if (k == 0)
			break;
		n += (size_t)k;
		if (n > cap)
			return ob_error_set(reterr, -EFBIG,
			                    "%s: file grew while being read (limit %zu bytes)",
			                    path, max);
	}
	buf[n] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = n;
	return 0;
}

rlim_t nofile_raise(rlim_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur < want && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = MIN(want, rl.rlim_max);
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0 && getrlimit(RLIMIT_NOFILE, &rl) < 0)
			return 0;
	}
	return rl.rlim_cur;
}
