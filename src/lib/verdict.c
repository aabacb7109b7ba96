// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include "strbuf.h"
#include "units.h"
#include "verdict.h"

/*
 * Orders above this are "costly" (include/linux/mmzone.h): the allocator gives up on
 * them sooner and never invokes the OOM killer for them (mm/page_alloc.c). A kernel
 * constant that is no enum and in no BTF; unchanged since it was introduced (2.6.23).
 */
#define PAGE_ALLOC_COSTLY_ORDER 3

const char *verdict_kind_name(enum verdict_kind k)
{
	static const char *const names[] = { "unknown", "low_memory", "cma_not_usable",
					     "fragmentation", "gave_up" };

	return k <= VERDICT_GAVE_UP ? names[k] : "unknown";
}

/* Free pages as __zone_watermark_ok() counts them for this request. */
static int64_t usable_free(const struct verdict_input *in, const struct verdict_zone *z)
{
	int64_t free = z->free - ((1LL << in->order) - 1);

	if (!in->can_use_cma)
		free -= z->free_cma;
	return free;
}

/* The largest order with a free block in the zone; -1 when none. */
static int largest_order(const struct verdict_input *in, const struct verdict_zone *z)
{
	for (int o = (int)in->nr_orders - 1; o >= 0; o--)
		if (o < VERDICT_MAX_ORDERS && z->nr_free[o])
			return o;
	return -1;
}

static bool has_block(const struct verdict_input *in, const struct verdict_zone *z)
{
	return largest_order(in, z) >= (int)in->order;
}

bool verdict_failure_allowed(const struct verdict_input *in)
{
	return in->nowarn;
}

/* Why the slow path stopped, from the flags and the story. */
static const char *stop_reason(const struct verdict_input *in)
{
	if (!in->direct_reclaim)
		return "it may not reclaim or compact (no __GFP_DIRECT_RECLAIM), so it failed at "
		       "the first try";
	if (in->noretry)
		return "__GFP_NORETRY: gave up without retrying";
	if (in->retry_mayfail)
		return "__GFP_RETRY_MAYFAIL: retried until reclaim made no progress, then gave up "
		       "instead of invoking the OOM killer";
	if (in->order > PAGE_ALLOC_COSTLY_ORDER)
		return "a costly order (> 3): the kernel does not retry these as hard and never "
		       "OOM-kills for them";
	return NULL;
}

/* The zones as the kernel's watermark check sees them at the failure. */
struct zone_scan {
	const struct verdict_zone *best;	  /* the most usable free memory */
	const struct verdict_zone *pass_wmark;	  /* above min + reserve (with a block if any) */
	const struct verdict_zone *pass_with_cma; /* would pass only with CMA it may not use */
	bool compactable; /* a zone above the watermark compaction needs to run */
};

/*
 * Compaction runs in a zone only above its low watermark (min for orders <= 3) plus
 * twice the request plus the reserve: __compaction_suitable() in mm/compaction.c.
 */
static bool compaction_suitable(const struct verdict_input *in, const struct verdict_zone *z)
{
	int64_t mark = in->order > PAGE_ALLOC_COSTLY_ORDER ? z->low : z->min;

	return (int64_t)z->free > mark + (2LL << in->order) + z->reserve;
}

static void scan_zones(const struct verdict_input *in, struct zone_scan *zs)
{
	int64_t best_free = -1;

	memset(zs, 0, sizeof(*zs));
	for (int i = in->nr_zones - 1; i >= 0; i--) {
		const struct verdict_zone *z = &in->zone[i];
		int64_t free = usable_free(in, z), need = z->min + z->reserve;

		if (!z->populated)
			continue;
		if (free > best_free) {
			best_free = free;
			zs->best = z;
		}
		if (free > need) {
			if (!zs->pass_wmark || has_block(in, z))
				zs->pass_wmark = z;
			zs->compactable |= compaction_suitable(in, z);
		} else if (!in->can_use_cma && free + (int64_t)z->free_cma > need) {
			zs->pass_with_cma = z;
		}
	}
}

/* "; direct reclaim x2 freed ...": what the slow path did, for the verdict's tail. */
static void story_of(const struct verdict_input *in, char *story, size_t len)
{
	struct strbuf sb;

	sb_init(&sb, story, len);
	if (in->nowarn)
		sb_add(&sb, "; __GFP_NOWARN: the caller is prepared for this failure (a pool "
		       "growing until memory runs out ends this way): no incident by itself");
	if (!in->has_story)
		return;
	if (in->reclaim_count)
		sb_add(&sb, "; direct reclaim x%u freed %llu page%s", in->reclaim_count,
		       (unsigned long long)in->reclaimed, in->reclaimed == 1 ? "" : "s");
	if (in->compact_tries || in->compact_retries)
		sb_add(&sb, "; compaction x%u%s%s%s",
		       in->compact_tries ? in->compact_tries : in->compact_retries,
		       in->compact_result ? " (last: " : "",
		       in->compact_result ? in->compact_result : "", in->compact_result ? ")" : "");
	if (in->retry_zone_count)
		sb_add(&sb, "; %u reclaim retries, up to %u without progress", in->retry_zone_count,
		       in->max_no_progress_loops);
}

/* "Normal had 154.2 MiB free (min 57.7 MiB + reserve 0 B)": the zone table's figures. */
static void zone_free_text(const struct verdict_input *in, const struct verdict_zone *z,
			   char *buf, size_t len)
{
	char a[32], b[32], c[32];

	snprintf(buf, len, "%s had %s free (min %s + reserve %s)", z->name,
		 fmt_bytes(a, sizeof(a), z->free * in->page_size),
		 fmt_bytes(b, sizeof(b), z->min * in->page_size),
		 fmt_bytes(c, sizeof(c), (uint64_t)(z->reserve > 0 ? z->reserve : 0) * in->page_size));
}

/* "the largest free block order 8", or that there is none. */
static void largest_text(const struct verdict_input *in, const struct verdict_zone *z,
			 char *buf, size_t len)
{
	int o = largest_order(in, z);

	if (o < 0)
		snprintf(buf, len, "no free block at all");
	else
		snprintf(buf, len, "the largest free block order %d", o);
}

/* Is the node's memory exhausted: little available, or too little free to compact? */
static bool exhausted(const struct verdict_input *in, const struct zone_scan *zs)
{
	if (in->available >= 0 && in->managed &&
	    (uint64_t)in->available * 100 < in->managed * VERDICT_EXHAUSTED_PERCENT)
		return true;
	return in->order > 0 && !zs->compactable;
}

static void available_text(const struct verdict_input *in, char *buf, size_t len)
{
	char a[32], b[32];

	if (in->available < 0 || !in->managed) {
		snprintf(buf, len, "what the node has available is unknown");
		return;
	}
	snprintf(buf, len, "%s available of %s on the node (%.1f %%)",
		 fmt_bytes(a, sizeof(a), (uint64_t)in->available * in->page_size),
		 fmt_bytes(b, sizeof(b), in->managed * in->page_size),
		 100.0 * in->available / in->managed);
}

/*
 * A zone passes the order-0 watermark but none has a block of the order: either the
 * node is out of memory and what is left is in pieces, or memory is there but in pieces.
 */
static enum verdict_kind explain_no_block(const struct verdict_input *in,
					  const struct zone_scan *zs, const char *size,
					  const char *why, const char *story, char *buf,
					  size_t len)
{
	const struct verdict_zone *z = zs->pass_wmark;
	char zone[160], avail[96], largest[48];
	bool out = exhausted(in, zs);

	zone_free_text(in, z, zone, sizeof(zone));
	available_text(in, avail, sizeof(avail));
	largest_text(in, z, largest, sizeof(largest));
	if (out)
		snprintf(buf, len,
			 "order-%u (%s) request: memory exhausted: %s%s, and what is left free is "
			 "in blocks below order %u: %s, %s%s%s%s%s",
			 in->order, size, avail,
			 zs->compactable ? "" : ", too little free for compaction to run",
			 in->order, zone, largest,
			 in->compact_result ? "; compaction could not make one" : "",
			 why ? "; " : "", why ? why : "", story);
	else
		snprintf(buf, len,
			 "order-%u (%s) request: fragmentation: %s and %s, but no free block of "
			 "order >= %u (%s)%s%s%s%s",
			 in->order, size, zone, avail, in->order, largest,
			 in->compact_result ? "; compaction could not make one" : "",
			 why ? "; " : "", why ? why : "", story);
	return out ? VERDICT_LOW_MEMORY : VERDICT_FRAGMENTATION;
}

static enum verdict_kind explain_passing(const struct verdict_input *in,
					 const struct zone_scan *zs, const char *size,
					 const char *why, const char *story, char *buf, size_t len)
{
	char zone[160];

	if (!has_block(in, zs->pass_wmark))
		return explain_no_block(in, zs, size, why, story, buf, len);
	zone_free_text(in, zs->pass_wmark, zone, sizeof(zone));
	snprintf(buf, len,
		 "order-%u (%s) request: at the failure %s and a free block of order >= %u, so "
		 "memory was there but the slow path had already stopped%s%s%s",
		 in->order, size, zone, in->order, why ? ": " : "", why ? why : "", story);
	return VERDICT_GAVE_UP;
}

static enum verdict_kind explain_cma(const struct verdict_input *in, const struct verdict_zone *z,
				     const char *size, const char *story, char *buf, size_t len)
{
	char a[32], b[32], c[32], d[32];

	snprintf(buf, len,
		 "order-%u (%s) request: free %s - CMA %s < min %s + reserve %s in %s: CMA is not "
		 "usable by this non-movable request%s",
		 in->order, size, fmt_bytes(a, sizeof(a), z->free * in->page_size),
		 fmt_bytes(b, sizeof(b), z->free_cma * in->page_size),
		 fmt_bytes(c, sizeof(c), z->min * in->page_size),
		 fmt_bytes(d, sizeof(d), (uint64_t)z->reserve * in->page_size), z->name, story);
	return VERDICT_CMA;
}

static enum verdict_kind explain_low(const struct verdict_input *in, const struct verdict_zone *z,
				     const char *size, const char *why, const char *story, char *buf,
				     size_t len)
{
	char a[32], b[32], c[32];

	snprintf(buf, len,
		 "order-%u (%s) request: out of memory in every zone it may use: best was %s with "
		 "%s free%s, at or below min %s + reserve %s%s%s%s%s",
		 in->order, size, z->name, fmt_bytes(a, sizeof(a), z->free * in->page_size),
		 in->can_use_cma || !z->free_cma ? "" : " (CMA excluded)",
		 fmt_bytes(b, sizeof(b), z->min * in->page_size),
		 fmt_bytes(c, sizeof(c), (uint64_t)(z->reserve > 0 ? z->reserve : 0) * in->page_size),
		 in->thisnode ? " (__GFP_THISNODE: this node only)" : "", why ? "; " : "",
		 why ? why : "", story);
	return VERDICT_LOW_MEMORY;
}

enum verdict_kind verdict_explain(const struct verdict_input *in, char *buf, size_t len)
{
	char size[32], story[512];
	const char *why = stop_reason(in);
	struct zone_scan zs;

	fmt_bytes(size, sizeof(size), (uint64_t)in->page_size << in->order);
	if (!in->has_zones || in->nr_zones <= 0) {
		snprintf(buf, len, "order-%u (%s) request: the zone state at the failure is not "
			 "known (node not found), so no verdict", in->order, size);
		return VERDICT_UNKNOWN;
	}
	scan_zones(in, &zs);
	story_of(in, story, sizeof(story));
	if (!zs.best) {
		snprintf(buf, len, "order-%u (%s) request: no populated zone it may use", in->order,
			 size);
		return VERDICT_UNKNOWN;
	}
	if (zs.pass_wmark)
		return explain_passing(in, &zs, size, why, story, buf, len);
	if (zs.pass_with_cma)
		return explain_cma(in, zs.pass_with_cma, size, story, buf, len);
	return explain_low(in, zs.best, size, why, story, buf, len);
}
