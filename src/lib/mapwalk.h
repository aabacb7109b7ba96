/* SPDX-License-Identifier: GPL-2.0 */
/* Every entry of a BPF hash map, in one loop for all the collectors. */
#ifndef MEMSCOPE_MAPWALK_H
#define MEMSCOPE_MAPWALK_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Call cb(key, value, ctx) for each entry of the map fd (keys and values of these
 * sizes; a hash map, not a per-CPU one); take: delete each entry as it is read (with
 * the rest of its bucket, under the bucket's lock). An entry present during the whole
 * walk is seen once; one added or deleted meanwhile at most once; the walk ends.
 */
void ms_map_each(int fd, size_t key_size, size_t value_size, bool take,
		 void (*cb)(const void *key, const void *value, void *ctx), void *ctx);

#endif
