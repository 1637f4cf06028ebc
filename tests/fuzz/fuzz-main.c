/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Replays a fuzz corpus through a target as an ordinary test (built without libFuzzer, run
 * under the sanitizers in CI).  Arguments: corpus directories or files. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rbe");
	if (!f) {
		perror(path);
		return -1;
	}
	static uint8_t buf[1 << 21];
	size_t n = fread(buf, 1, sizeof(buf), f);
	(void)fclose(f);
	(void)LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

static int replay(const char *path, unsigned *count)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return replay_file(path);
	}
	DIR *d = opendir(path);
	if (!d) {
		perror(path);
		return -1;
	}
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d))) {
		char sub[4096];
		if (de->d_name[0] == '.')
			continue;
		(void)snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (replay(sub, count) < 0)
			r = -1;
	}
	(void)closedir(d);
	return r;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int r = 0;

	for (int i = 1; i < argc; i++)
		if (replay(argv[i], &count) < 0)
			r = 1;
	printf("1..1\n%s 1 - replayed %u inputs\n", r || count == 0 ? "not ok" : "ok", count);
	return r || count == 0;
}
