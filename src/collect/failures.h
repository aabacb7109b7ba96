/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Page allocation failures: kmem:mm_page_alloc ends every page allocation and carries
 * no page when it failed; each thread's slow path (direct reclaim, compaction,
 * retries) is kept as a story the failure takes along, with the node's zone state at
 * that instant. Either one event per failure, or counts per (order, gfp, comm).
 */
#ifndef MEMSCOPE_COLLECT_FAILURES_H
#define MEMSCOPE_COLLECT_FAILURES_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "filters.h"
#include "gfp.h"
#include "hooks.h"
#include "kbtf.h"
#include "ksyms.h"
#include "nodes.h"
#include "paf.h"
#include "record.h"

struct failures_want {
	bool events; /* one struct paf_event per failure (else counts only) */
	bool stack;  /* with the kernel stack */
	int order_eq, order_min; /* -1: any */
	unsigned int ring_bytes; /* the event ring buffer (a power of 2 pages); 0: default */
};

struct failures;
/* Load and attach; exits 1 on failure. */
struct failures *failures_open(const struct ms_filter *f, const struct failures_want *w);
int failures_events_fd(struct failures *fl);
/* Counts per (order, gfp, comm); take: and clear them. */
void failures_each_count(struct failures *fl, bool take,
			 void (*cb)(const struct paf_key *k, __u64 n, void *ctx), void *ctx);

struct failures_totals {
	unsigned long long failures, lost, filtered;
	int worst_order; /* -1 when none */
	char worst_comm[MS_COMM_LEN + 1];
};
void failures_totals(struct failures *fl, struct failures_totals *t);
void failures_close(struct failures *fl);

/* ---- the records of memscope paf ---- */

/* A zone the failed allocation could use: the zone record, and what it had to leave. */
struct paf_zone_row {
	uint64_t null_mask;
	struct zone_row zone;
	uint64_t reserve_bytes;
	uint32_t nr_blocks;
	uint64_t free_blocks_from_order[SYS_MAX_ORDERS];
};

struct paf_slow_path_row {
	uint64_t null_mask;
	uint32_t direct_reclaims, compaction_tries, compact_retries, reclaim_retries;
	uint32_t max_no_progress_loops;
	uint64_t reclaimed_pages, reclaim_ns, duration_ns;
	char last_compact_result[32], last_compact_priority[32];
};

struct paf_row {
	uint64_t null_mask;
	uint32_t pid, tid;
	char comm[MS_COMM_LEN];
	uint32_t order;
	uint64_t size_bytes, gfp;
	uint32_t nr_gfp_flags;
	char gfp_flags[GFP_MAX_NAMES][GFP_NAME_LEN], migratetype[32];
	uint32_t cpu_node;
	char highest_zone[SYS_ZONE_NAME];
	uint32_t nr_zones;
	struct paf_zone_row zones[SYS_MAX_ZONES];
	struct paf_slow_path_row slow_path;
	uint64_t available_bytes;
	bool failure_allowed;
	char slow_path_summary[512], verdict[1024], verdict_kind[24];
	uint32_t nr_stack;
	char stack[PAF_MAX_STACK][96];
};

/* --summary: failures of one (order, gfp, comm) over the interval. */
struct paf_count_row {
	uint64_t null_mask;
	uint64_t count;
	uint32_t order;
	char comm[MS_COMM_LEN];
	uint64_t gfp;
	uint32_t nr_gfp_flags;
	char gfp_flags[GFP_MAX_NAMES][GFP_NAME_LEN];
	char gfp_text[512]; /* the names joined, for the table */
};

struct paf_stats_row {
	uint64_t null_mask;
	uint64_t failures, lost, filtered;
};

/*
 * What turning a failure event into its record needs of the running kernel, taken at
 * init: decoding an event never parses the kernel's BTF.
 */
struct paf_decoder {
	struct gfp_table gfp;
	struct ksyms *ksyms; /* NULL: records without the stack */
	long long migrate_movable;
	struct kbtf_enum migratetype, compact_result, compact_priority;
};
/*
 * The kernel's GFP names, MIGRATE_MOVABLE and the enum names, and kallsyms when stack;
 * exits 1 without kallsyms.
 */
void paf_decoder_init(struct paf_decoder *d, bool stack);
void paf_decoder_free(struct paf_decoder *d);
/* The failure as the "paf" record describes it, with its verdict. */
void paf_row_of(const struct paf_decoder *d, const struct paf_event *e, struct paf_row *r);

extern const struct record_desc paf_desc, paf_zone_desc, paf_slow_path_desc, paf_count_desc,
	paf_stats_desc;

#define FAILURES_NR_HOOKS 6
extern const struct hook_spec failures_hooks[FAILURES_NR_HOOKS];

#endif
