// SPDX-License-Identifier: GPL-2.0
/* /proc/meminfo text, and the coverage note made of it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "meminfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct ms_meminfo mi;
	struct mem_coverage c;

	memcpy(text, data, size);
	text[size] = 0;
	meminfo_parse(text, &mi);
	mem_coverage(mi.bytes[MI_MEM_TOTAL], mi.bytes[MI_MEM_FREE] / 4096,
		     mi.bytes[MI_MEM_AVAILABLE] / 4096, 4096, size & 1, &c);
	free(text);
	return 0;
}
