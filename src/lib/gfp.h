/* SPDX-License-Identifier: GPL-2.0 */
/*
 * GFP mask decoding with the running kernel's own flag table: the one it prints
 * with in tracefs (events/kmem/mm_page_alloc/format), or, without tracefs, the
 * single bits of its BTF enum ___GFP_*_BIT. Never a table frozen in our source.
 */
#ifndef MEMSCOPE_GFP_H
#define MEMSCOPE_GFP_H

#include <stddef.h>

#include "tracefmt.h"

/* Build the table from enum ___GFP_*_BIT constants given as (name, bit) pairs. */
int gfp_table_from_bits(struct gfp_table *t, const char *const *names, const int *bits, int n);
/* Load the running kernel's table: tracefs first, then BTF. */
int gfp_table_load(struct gfp_table *t);
/* Decode as the kernel's trace_print_flags_seq() does; "none" for 0. */
const char *gfp_format(const struct gfp_table *t, unsigned long mask, char *buf, size_t len);

/* Mask of a named flag in the table (e.g. "__GFP_DMA32"), 0 when the kernel has none. */
unsigned long gfp_flag_mask(const struct gfp_table *t, const char *name);


#endif
