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

/* The same names one by one (bits no name covers last, in hex); none for 0. */
#define GFP_MAX_NAMES 32
#define GFP_NAME_LEN  40
int gfp_names(const struct gfp_table *t, unsigned long mask, char (*names)[GFP_NAME_LEN],
	      int max);

/*
 * A mask as a user writes it: a number (0x140cca, 3264), or flag names of this kernel's
 * table joined by '|' ("GFP_KERNEL|__GFP_NOWARN", any case), or both mixed. Returns 0, or
 * -1 when a part is neither.
 */
int gfp_parse(const struct gfp_table *t, const char *text, unsigned long *mask);

/* Mask of a named flag in the table (e.g. "__GFP_DMA32"), 0 when the kernel has none. */
unsigned long gfp_flag_mask(const struct gfp_table *t, const char *name);


#endif
