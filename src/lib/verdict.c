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

static bool has_block(const struct verdict_input *in, const struct verdict_zone *z)
{
	for (unsigned int o = in->order; o < in->nr_orders && o < VERDICT_MAX_ORDERS; o++)
		if (z->nr_free[o])
			return true;
	return false;
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

enum verdict_kind verdict_explain(const struct verdict_input *in, char *buf, size_t len)
{
	char size[32], a[32], b[32], c[32], d[32], story[256] = "";
	const struct verdict_zone *best = NULL, *pass_wmark = NULL, *pass_with_cma = NULL;
	enum verdict_kind kind;
	const char *why = stop_reason(in);
	struct strbuf sb;
	int64_t best_free = -1;

	fmt_bytes(size, sizeof(size), (uint64_t)in->page_size << in->order);
	if (!in->has_zones || in->nr_zones <= 0) {
		snprintf(buf, len, "order-%u (%s) request: the zone state at the failure is not "
			 "known (node not found), so no verdict", in->order, size);
		return VERDICT_UNKNOWN;
	}
	for (int i = in->nr_zones - 1; i >= 0; i--) {
		const struct verdict_zone *z = &in->zone[i];
		int64_t free = usable_free(in, z), need = z->min + z->reserve;

		if (!z->populated)
			continue;
		if (free > best_free) {
			best_free = free;
			best = z;
		}
		if (free > need) {
			if (!pass_wmark || has_block(in, z))
				pass_wmark = z;
		} else if (!in->can_use_cma && free + (int64_t)z->free_cma > need) {
			pass_with_cma = z;
		}
	}
	sb_init(&sb, story, sizeof(story));
	if (in->has_story) {
		if (in->reclaim_count)
			sb_add(&sb, "; direct reclaim x%u freed %llu page%s", in->reclaim_count,
			       (unsigned long long)in->reclaimed, in->reclaimed == 1 ? "" : "s");
		if (in->compact_tries || in->compact_retries)
			sb_add(&sb, "; compaction x%u%s%s%s",
			       in->compact_tries ? in->compact_tries : in->compact_retries,
			       in->compact_result ? " (last: " : "",
			       in->compact_result ? in->compact_result : "",
			       in->compact_result ? ")" : "");
		if (in->retry_zone_count)
			sb_add(&sb, "; %u reclaim retries, up to %u without progress",
			       in->retry_zone_count, in->max_no_progress_loops);
	}
	if (!best) {
		snprintf(buf, len, "order-%u (%s) request: no populated zone it may use", in->order,
			 size);
		return VERDICT_UNKNOWN;
	}
	if (pass_wmark && has_block(in, pass_wmark)) {
		kind = VERDICT_GAVE_UP;
		snprintf(buf, len,
			 "order-%u (%s) request: at the failure %s had %s free above min %s + "
			 "reserve and a free block of order >= %u, so memory was there but the slow "
			 "path had already stopped%s%s%s",
			 in->order, size, pass_wmark->name,
			 fmt_bytes(a, sizeof(a), usable_free(in, pass_wmark) * in->page_size),
			 fmt_bytes(b, sizeof(b), pass_wmark->min * in->page_size), in->order,
			 why ? ": " : "", why ? why : "", story);
	} else if (pass_wmark) {
		kind = VERDICT_FRAGMENTATION;
		snprintf(buf, len,
			 "order-%u (%s) request: %s free in %s (above min %s + reserve) but no free "
			 "block of order >= %u: fragmentation%s%s%s%s",
			 in->order, size,
			 fmt_bytes(a, sizeof(a), usable_free(in, pass_wmark) * in->page_size),
			 pass_wmark->name, fmt_bytes(b, sizeof(b), pass_wmark->min * in->page_size),
			 in->order,
			 in->compact_result ? "; compaction could not make one" : "",
			 why ? "; " : "", why ? why : "", story);
	} else if (pass_with_cma) {
		kind = VERDICT_CMA;
		snprintf(buf, len,
			 "order-%u (%s) request: free %s - CMA %s < min %s + reserve %s in %s: CMA "
			 "is not usable by this %s request%s",
			 in->order, size,
			 fmt_bytes(a, sizeof(a), pass_with_cma->free * in->page_size),
			 fmt_bytes(b, sizeof(b), pass_with_cma->free_cma * in->page_size),
			 fmt_bytes(c, sizeof(c), pass_with_cma->min * in->page_size),
			 fmt_bytes(d, sizeof(d), (uint64_t)pass_with_cma->reserve * in->page_size),
			 pass_with_cma->name, "non-movable", story);
	} else {
		kind = VERDICT_LOW_MEMORY;
		snprintf(buf, len,
			 "order-%u (%s) request: out of memory in every zone it may use: best was "
			 "%s with %s free%s, at or below min %s + reserve %s%s%s%s%s",
			 in->order, size, best->name,
			 fmt_bytes(a, sizeof(a), best->free * in->page_size),
			 in->can_use_cma || !best->free_cma ? "" : " (CMA excluded)",
			 fmt_bytes(b, sizeof(b), best->min * in->page_size),
			 fmt_bytes(c, sizeof(c), (uint64_t)(best->reserve > 0 ? best->reserve : 0) *
							 in->page_size),
			 in->thisnode ? " (__GFP_THISNODE: this node only)" : "",
			 why ? "; " : "", why ? why : "", story);
	}
	return kind;
}
