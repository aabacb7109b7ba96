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
	uint64_t free, free_cma, min, low; /* pages; the watermarks include the boost */
	int64_t reserve;	      /* lowmem_reserve[] for the request's highest zone */
	uint64_t nr_free[VERDICT_MAX_ORDERS];
};

struct verdict_input {
	unsigned int order, nr_orders;
	bool has_zones;
	int nr_zones; /* zones the request may use: index 0 .. highest */
	struct verdict_zone zone[VERDICT_MAX_ZONES];
	bool can_use_cma, direct_reclaim, noretry, retry_mayfail, nofail, thisnode, nowarn;
	unsigned long page_size;
	/* the node at the failure: its share of MemAvailable (-1: unknown) and its memory */
	int64_t available;
	uint64_t managed;
	/* the slow path */
	bool has_story;
	unsigned int reclaim_count, compact_tries, compact_retries, retry_zone_count,
		max_no_progress_loops;
	uint64_t reclaimed;
	const char *compact_result; /* name of the last result, or NULL */
};

enum verdict_kind {
	VERDICT_UNKNOWN,	 /* the data does not allow one */
	VERDICT_LOW_MEMORY,	 /* below min + reserve in every usable zone, or the node's
				  * memory exhausted and the rest in smaller blocks */
	VERDICT_CMA,		 /* enough only when counting CMA it may not use */
	VERDICT_FRAGMENTATION,	 /* enough free, no block of the order */
	VERDICT_GAVE_UP,	 /* a zone would pass now: the slow path stopped trying */
};

/* Writes the verdict sentence to buf; returns its kind. */
enum verdict_kind verdict_explain(const struct verdict_input *in, char *buf, size_t len);
/*
 * The node's memory counts as exhausted below this share of it available (MemAvailable's
 * formula): the health report's "only ... available" line uses the same bound.
 */
#define VERDICT_EXHAUSTED_PERCENT 5
/* The caller said it handles this failure (__GFP_NOWARN: the kernel does not log it). */
bool verdict_failure_allowed(const struct verdict_input *in);
const char *verdict_kind_name(enum verdict_kind k);

#endif
