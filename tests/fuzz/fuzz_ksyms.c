// SPDX-License-Identifier: GPL-2.0
/* /proc/kallsyms text, and stacks symbolized with it. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "ksyms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("kallsyms", 0);
	uint64_t ips[4] = { 0xffffffff81000000ULL, 0, ~0ULL, size };
	struct ksyms *k;
	char path[64], buf[128];

	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	k = ksyms_load(path);
	if (k) {
		for (int i = 0; i < 4; i++)
			ksyms_format(k, ips[i], buf, sizeof(buf));
		ksyms_stack_start(k, ips, 4);
		ksyms_free(k);
	}
	close(fd);
	return 0;
}
