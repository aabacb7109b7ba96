// SPDX-License-Identifier: GPL-2.0
/* A pressure file (/proc/pressure/memory, a cgroup's memory.pressure). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pressure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct psi p;

	memcpy(text, data, size);
	text[size] = 0;
	psi_parse(text, &p);
	free(text);
	return 0;
}
