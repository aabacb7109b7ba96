// SPDX-License-Identifier: GPL-2.0
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "procfs.h"

long read_text_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t off = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (off < len - 1 && (n = read(fd, buf + off, len - 1 - off)) > 0)
		off += n;
	close(fd);
	buf[off] = 0;
	return off;
}

bool read_line_file(const char *path, char *buf, size_t len)
{
	if (read_text_file(path, buf, len) < 0)
		return false;
	buf[strcspn(buf, "\n")] = 0;
	return true;
}

bool meminfo_value(const char *text, const char *key, uint64_t *value)
{
	size_t kl = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		/* Per-node files prefix each line with "Node N ". */
		const char *k = p;

		if (!strncmp(k, "Node ", 5)) {
			k += 5;
			while (*k >= '0' && *k <= '9')
				k++;
			while (*k == ' ')
				k++;
		}
		if (strncmp(k, key, kl) || k[kl] != ':')
			continue;
		char *end;
		unsigned long long v = strtoull(k + kl + 1, &end, 10);

		while (*end == ' ')
			end++;
		*value = strncmp(end, "kB", 2) ? v : v * 1024;
		return true;
	}
	return false;
}

bool proc_status_field(int pid, const char *key, long long *value)
{
	char path[64], buf[4096];
	size_t kl = strlen(key);

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_text_file(path, buf, sizeof(buf)) <= 0)
		return false;
	for (char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, kl) && p[kl] == ':') {
			*value = strtoll(p + kl + 1, NULL, 10);
			return true;
		}
	return false;
}

const char *proc_no_mm_reason(int pid)
{
	long long v;

	/* "Kthread:" is printed since 6.1 (fs/proc/array.c); before, no VmSize says it */
	if (proc_status_field(pid, "Kthread", &v) && v)
		return "a kernel thread: it has no address space";
	if (proc_status_field(pid, "VmSize", &v))
		return NULL;
	if (!proc_status_field(pid, "Kthread", &v) && proc_status_field(pid, "PPid", &v) &&
	    (v == 2 || pid == 2))
		return "a kernel thread: it has no address space";
	return "it has no address space (exiting or a kernel thread)";
}
