/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's fragmentation indices (mm/vmstat.c, shown in debugfs
 * extfrag/unusable_index and extfrag/extfrag_index), from per-order free block
 * counts. Both return thousandths, as the kernel computes them.
 */
#ifndef MEMSCOPE_FRAG_H
#define MEMSCOPE_FRAG_H

#include <stdint.h>

/* Share of free memory unusable for an allocation of this order: 0..1000. */
int frag_unusable_index(const uint64_t *nr_free, int nr_orders, int order);
/* -1000 when a block of the order is free; else 0 (lack of memory) .. 1000 (fragmentation). */
int frag_extfrag_index(const uint64_t *nr_free, int nr_orders, int order);

#endif
