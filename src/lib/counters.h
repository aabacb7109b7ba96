/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel counters read without the kernel's locks can be briefly negative (per-CPU
 * deltas not yet folded in). The kernel clamps them before use: node_page_state_pages()
 * and global_node_page_state() in include/linux/vmstat.h, get_mm_counter() in
 * include/linux/mm.h. So do we, or a brief -1 prints as 16 EiB.
 */
#ifndef MEMSCOPE_COUNTERS_H
#define MEMSCOPE_COUNTERS_H

#include <stdint.h>

static inline uint64_t counter_nonneg(int64_t v)
{
	return v > 0 ? (uint64_t)v : 0;
}

/* The sum of n counters, each clamped at zero first (as the kernel reads each one). */
static inline uint64_t counters_sum_nonneg(const int64_t *v, int n)
{
	uint64_t sum = 0;

	for (int i = 0; i < n; i++)
		sum += counter_nonneg(v[i]);
	return sum;
}

#endif
