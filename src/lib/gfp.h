/* SPDX-License-Identifier: GPL-2.0 */
/*
 * GFP mask decoding with the running kernel's own flag table: the one it prints
 * with in tracefs (events/kmem/mm_page_alloc/format), or, without tracefs, the
 * single bits of its BTF enum ___GFP_*_BIT. Never a table frozen in our source.
 */
#ifndef MEMSCOPE_GFP_H
#define MEMSCOPE_GFP_H

#include <stddef.h>

#define GFP_MAX_FLAGS 96

struct gfp_flag {
	unsigned long mask;
	char name[40];
};

enum gfp_source { GFP_SRC_NONE, GFP_SRC_TRACEFS, GFP_SRC_BTF };

struct gfp_table {
	int n;
	enum gfp_source source;
	struct gfp_flag flag[GFP_MAX_FLAGS];
};

/* Resolves an identifier left in an expression (an enum constant); 0 on success. */
typedef int (*gfp_ident_fn)(const char *name, unsigned long *value);

/* Parse the flag table out of a tracepoint's "print fmt" text; returns flags found or -1. */
int gfp_table_parse_format(struct gfp_table *t, const char *text, gfp_ident_fn ident);
/* Build the table from enum ___GFP_*_BIT constants given as (name, bit) pairs. */
int gfp_table_from_bits(struct gfp_table *t, const char *const *names, const int *bits, int n);
/* Load the running kernel's table: tracefs first, then BTF. */
int gfp_table_load(struct gfp_table *t);
/* Decode as the kernel's trace_print_flags_seq() does; "none" for 0. */
const char *gfp_format(const struct gfp_table *t, unsigned long mask, char *buf, size_t len);
/* Evaluate a constant C expression of the kind the format file holds. */
int gfp_eval_expr(const char *expr, unsigned long *value, gfp_ident_fn ident);

/* Mask of a named flag in the table (e.g. "__GFP_DMA32"), 0 when the kernel has none. */
unsigned long gfp_flag_mask(const struct gfp_table *t, const char *name);

/*
 * The value of a name in an event's __print_symbolic() or __print_flags() table,
 * e.g. MM_ANONPAGES in kmem/rss_stat (tracefs prints enum values resolved) or
 * RECLAIM_WB_FILE in vmscan/mm_vmscan_lru_shrink_inactive. 0, or -1 when not found.
 */
int trace_symbol_value(const char *event, const char *name, long long *value);

#endif
