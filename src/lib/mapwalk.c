// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "mapwalk.h"
#include "msg.h"

void ms_map_each(int fd, size_t key_size, size_t value_size, bool take,
		 void (*cb)(const void *key, const void *value, void *ctx), void *ctx)
{
	char *key = malloc(key_size), *next = malloc(key_size), *value = malloc(value_size);
	bool first = true;

	if (!key || !next || !value)
		ms_fatal("out of memory");
	while (!bpf_map_get_next_key(fd, first ? NULL : key, next)) {
		first = false;
		memcpy(key, next, key_size);
		if (take ? bpf_map_lookup_and_delete_elem(fd, key, value)
			 : bpf_map_lookup_elem(fd, key, value))
			continue;
		if (take)
			first = true; /* the key is gone: start over from the beginning */
		cb(key, value, ctx);
	}
	free(key);
	free(next);
	free(value);
}
