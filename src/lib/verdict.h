/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Why did a page allocation fail? A verdict in plain words from the zone state
 * at the failure, checked the way the kernel's __zone_watermark_ok() checks it,
 * the request's flags, and what the slow path did.
 */
#ifndef MEMSCOPE_VERDICT_H
#define MEMSCOPE_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VERDICT_MAX_ZONES  8
#define VERDICT_MAX_ORDERS 16

struct verdict_zone {
	const char *name;
	bool populated;
	uint64_t free, free_cma, min; /* pages; min includes the boost */
	int64_t reserve;	      /* lowmem_reserve[] for the request's highest zone */
	uint64_t nr_free[VERDICT_MAX_ORDERS];
};

struct verdict_input {
	unsigned int order, nr_orders;
	bool has_zones;
	int nr_zones; /* zones the request may use: index 0 .. highest */
	struct verdict_zone zone[VERDICT_MAX_ZONES];
	bool can_use_cma, direct_reclaim, noretry, retry_mayfail, nofail, thisnode;
	unsigned long page_size;
	/* the slow path */
	bool has_story;
	unsigned int reclaim_count, compact_tries, compact_retries, retry_zone_count,
		max_no_progress_loops;
	uint64_t reclaimed;
	const char *compact_result; /* name of the last result, or NULL */
};

enum verdict_kind {
	VERDICT_UNKNOWN,	 /* the data does not allow one */
	VERDICT_LOW_MEMORY,	 /* below min + reserve in every usable zone */
	VERDICT_CMA,		 /* enough only when counting CMA it may not use */
	VERDICT_FRAGMENTATION,	 /* enough free, no block of the order */
	VERDICT_GAVE_UP,	 /* a zone would pass now: the slow path stopped trying */
};

/* Writes the verdict sentence to buf; returns its kind. */
enum verdict_kind verdict_explain(const struct verdict_input *in, char *buf, size_t len);
const char *verdict_kind_name(enum verdict_kind k);

#endif
