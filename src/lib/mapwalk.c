// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "mapwalk.h"
#include "msg.h"

/* entries per batch call; a bucket with more than this doubles it */
#define MAPWALK_BATCH 1024

/*
 * One batch call (BPF_MAP_LOOKUP_BATCH, or its _AND_DELETE twin: hash maps since 5.6):
 * whole buckets, from the bucket the cursor names. 0, or -errno (-ENOENT: the end).
 */
static int batch(int fd, bool take, void *in, void *out, void *keys, void *values,
		 __u32 *count)
{
	if (take)
		return bpf_map_lookup_and_delete_batch(fd, in, out, keys, values, count, NULL);
	return bpf_map_lookup_batch(fd, in, out, keys, values, count, NULL);
}

/*
 * Bucket by bucket, not key by key: bpf_map_get_next_key starts again from the first
 * bucket when the key it is given was deleted meanwhile (htab_map_get_next_key), so a
 * walk of a map the traced process frees from saw entries twice and could start over
 * without end. A batch's cursor is a bucket's index, and a key stays in its bucket.
 */
void ms_map_each(int fd, size_t key_size, size_t value_size, bool take,
		 void (*cb)(const void *key, const void *value, void *ctx), void *ctx)
{
	static bool warned;
	__u32 cap = MAPWALK_BATCH, count;
	/* the cursor: a hash map's is a u32 bucket index, an array's a key */
	char *cursor = malloc(key_size > 8 ? key_size : 8), *keys = NULL, *values = NULL;
	bool first = true;
	int err;

	for (;;) {
		if (!keys) {
			keys = malloc((size_t)cap * key_size);
			values = malloc((size_t)cap * value_size);
		}
		if (!cursor || !keys || !values)
			ms_fatal("out of memory");
		count = cap;
		err = batch(fd, take, first ? NULL : cursor, cursor, keys, values, &count);
		if (err == -ENOSPC && !count) { /* one bucket holds more than cap */
			cap *= 2;
			free(keys);
			free(values);
			keys = values = NULL;
			continue;
		}
		for (__u32 i = 0; i < count; i++)
			cb(keys + i * key_size, values + i * value_size, ctx);
		if (err)
			break;
		first = false;
	}
	if (err != -ENOENT && !warned) {
		warned = true;
		ms_warn("reading a BPF map failed (%s): what it holds is shown in part",
			strerror(-err));
	}
	free(cursor);
	free(keys);
	free(values);
}
