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

char *read_whole_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t off = 0, cap = 4096;
	char *buf = fd < 0 ? NULL : malloc(cap), *nb;
	ssize_t n;

	if (!buf)
		goto fail;
	/* /proc files say size 0: read to the end, growing as needed */
	while ((n = read(fd, buf + off, cap - 1 - off)) > 0) {
		off += n;
		if (off + 1 < cap)
			continue;
		if (!(nb = realloc(buf, cap *= 2)))
			goto fail;
		buf = nb;
	}
	if (n < 0)
		goto fail;
	close(fd);
	buf[off] = 0;
	return buf;
fail:
	free(buf);
	if (fd >= 0)
		close(fd);
	return NULL;
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
	char path[64], *buf;
	size_t kl = strlen(key);
	bool found = false;

	/* whole: a user in a few hundred groups pushes the Vm lines past 4 KiB */
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (!(buf = read_whole_file(path)))
		return false;
	for (char *p = buf; p && *p && !found; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, kl) && p[kl] == ':') {
			*value = strtoll(p + kl + 1, NULL, 10);
			found = true;
		}
	free(buf);
	return found;
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
