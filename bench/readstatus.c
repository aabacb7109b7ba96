// SPDX-License-Identifier: GPL-2.0
/* B3 baseline: read every /proc/PID/status, as a /proc-polling tool does. */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char path[64], buf[4096];
	long n = 0;

	while ((e = readdir(d))) {
		int fd;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
		n++;
	}
	closedir(d);
	fprintf(stderr, "%ld\n", n);
	return 0;
}
