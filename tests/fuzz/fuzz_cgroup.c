// SPDX-License-Identifier: GPL-2.0
/* Cgroup files (memory.stat, memory.events: "key value" lines) and cgroup paths. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "memcgs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "anon", "total_rss", "file", "oom_kill", "max",
					    "workingset_refault_file", "" };
	static struct memcg_row row;
	char *text = malloc(size + 1);
	uint64_t v;

	memcpy(text, data, size);
	text[size] = 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		memcg_kv(text, keys[i], &v);
	memcg_names(text, &row); /* the same bytes as a path */
	free(text);
	return 0;
}
