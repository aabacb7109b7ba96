/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The print formats of tracefs events (events/<cat>/<event>/format): the flag and
 * symbol tables of __print_flags() and __print_symbolic(), whose values are constant
 * C expressions. The GFP decoder reads mm_page_alloc's table, other code a single
 * value (an enum constant, a flag bit) as the running kernel prints it.
 */
#ifndef MEMSCOPE_TRACEFMT_H
#define MEMSCOPE_TRACEFMT_H

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

/* Evaluate a constant C expression of the kind the format file holds. */
int gfp_eval_expr(const char *expr, unsigned long *value, gfp_ident_fn ident);
/* Parse the flag table out of a tracepoint's "print fmt" text; returns flags found or -1. */
int gfp_table_parse_format(struct gfp_table *t, const char *text, gfp_ident_fn ident);
/*
 * The value of a name in an event's __print_symbolic() or __print_flags() table,
 * e.g. MM_ANONPAGES in kmem/rss_stat (tracefs prints enum values resolved) or
 * RECLAIM_WB_FILE in vmscan/mm_vmscan_lru_shrink_inactive. 0, or -1 when not found.
 */
int trace_symbol_value(const char *event, const char *name, long long *value);

#endif
