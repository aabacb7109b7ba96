/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Page reclaim, from the vmscan tracepoints counted in the kernel: scanned and
 * reclaimed per node and reclaimer, what shrink-inactive found, isolation, stalls of
 * direct/memcg/node reclaim with log2 latency histograms, kswapd, shrinkers, direct
 * compaction; one record per stall only when asked (events).
 */
#ifndef MEMSCOPE_COLLECT_VMSCAN_H
#define MEMSCOPE_COLLECT_VMSCAN_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "filters.h"
#include "gfp.h"
#include "hooks.h"
#include "loss.h"
#include "record.h"
#include "reclaim.h"

extern const char *const reclaim_kind_names[RC_NR_KIND];

/* kswapd of one node since the programs were attached, at the snapshot's instant. */
struct kswapd_counts {
	__u64 wakeups;	/* times it left a full sleep */
	__u64 rounds;	/* balance_pgdat() rounds */
	__u64 awake_ns; /* awake: from a wake-up to the next full sleep, the current one too */
	__u64 max_order, zones;
};

/*
 * Everything counted since the programs were attached. The per-node tables have one
 * more slot, RC_NODE_BEYOND: nodes whose id is RC_MAX_NODES or more, together.
 */
struct reclaim_snapshot {
	struct rc_target target[RC_NODE_SLOTS * RC_NR_KIND];
	struct rc_stats stats[RC_NODE_SLOTS * RC_NR_KIND];
	struct rc_isolate isolate[RC_NR_KIND];
	struct rc_stall_stats stalls[RC_NR_KIND];
	struct kswapd_counts kswapd[RC_MAX_NODES];
	__u64 compact_stalls;
};

struct reclaim_want {
	bool events;	 /* one struct rc_event per stall, through reclaim_events_fd */
	bool by_process; /* stalls per process */
	bool slab;	 /* shrinker timing */
	bool by_memcg;	 /* stalls and reclaim per memory cgroup of the task */
	uint64_t min_event_ns; /* events: only stalls at least this long */
};

struct reclaim;
/* Load and attach; exits 1 on failure. */
struct reclaim *reclaim_open(const struct ms_filter *f, const struct reclaim_want *w);
void reclaim_read(struct reclaim *r, struct reclaim_snapshot *s);
/* The kind of function hook that reads scan_control.nr_to_reclaim, or NULL. */
const char *reclaim_target_hook(const struct reclaim *r);
int reclaim_events_fd(struct reclaim *r);
struct ms_loss *reclaim_losses(struct reclaim *r, int *n);
/* by_process: each (process, reclaimer) since start. */
void reclaim_each_process(struct reclaim *r,
			  void (*cb)(const struct rc_proc_key *k, const struct rc_proc *p, void *ctx),
			  void *ctx);
/* slab: each shrinker (by its scan function's address) since start. */
void reclaim_each_shrinker(struct reclaim *r,
			   void (*cb)(__u64 scan_fn, const struct rc_slab *s, void *ctx), void *ctx);
/* by_memcg: each (memory cgroup, reclaimer) since start. */
void reclaim_each_memcg(struct reclaim *r,
			void (*cb)(const struct rc_memcg_key *k, const struct rc_memcg *m, void *ctx),
			void *ctx);
/* by_memcg: drop what was counted of a memory cgroup that is gone (its room is reused). */
void reclaim_forget_memcg(struct reclaim *r, uint64_t memcg_id);
void reclaim_close(struct reclaim *r);

#define RECLAIM_NR_HOOKS 18
extern const struct hook_spec reclaim_hooks[RECLAIM_NR_HOOKS];

/* cur - prev, word by word, for any of the u64-only structs above. */
void reclaim_delta(const void *cur, const void *prev, void *out, size_t words);
#define RECLAIM_WORDS(type) (sizeof(type) / sizeof(__u64))
/* Upper bound (ns) of the log2 histogram slot holding the q-quantile; 0 when empty. */
uint64_t reclaim_hist_quantile(const __u64 *hist, double q);

/* Between two snapshots: what the health report says of reclaim. */
struct reclaim_totals {
	unsigned long long scanned, reclaimed, kswapd_wakeups, kswapd_awake_ns, compact_stalls;
	unsigned long long stalls[RC_NR_KIND];
	unsigned long long stall_p50_ns, stall_p99_ns; /* direct, memcg, node together; 0: none */
};
void reclaim_totals_between(const struct reclaim_snapshot *base,
			    const struct reclaim_snapshot *now, struct reclaim_totals *t);

/* The "reclaim" record: one node and reclaimer over an interval. */
struct reclaim_row {
	uint64_t null_mask;
	int32_t node;
	char reclaimer[8];
	uint64_t scanned_pages, reclaimed_pages, scanned_anon_pages, scanned_file_pages;
	uint64_t reclaimed_anon_pages, reclaimed_file_pages, dirty_pages, writeback_pages;
	uint64_t congested_pages, immediate_pages, activate_anon_pages, activate_file_pages;
	uint64_t ref_keep_pages, unmap_fail_pages, active_taken_pages, active_deactivated_pages;
	uint64_t shrink_inactive_calls;
	uint32_t nr_prio;
	uint64_t priority_calls[RC_NR_PRIO];
	char priority_text[96];
	uint64_t to_reclaim_pages, to_reclaim_calls;
};
extern const struct record_desc reclaim_desc;
/* d: the interval's counts; t, pt: the target now and before (hook may be NULL). */
void reclaim_row_of(int node, int kind, const struct rc_stats *d, const struct rc_target *t,
		    const struct rc_target *pt, const char *hook, struct reclaim_row *row);


/* ---- the other records of memscope reclaim ---- */

struct reclaim_interval_row {
	uint64_t null_mask;
	uint64_t scanned_pages, reclaimed_pages;
	char to_reclaim_hook[16];	     /* null: no function hook works here */
	char to_reclaim_unavailable[160]; /* why, when null */
};

struct reclaim_isolate_row {
	uint64_t null_mask;
	char reclaimer[8];
	uint64_t requested_pages, scanned_pages, skipped_pages, taken_pages;
};

struct hist_bucket {
	uint64_t null_mask;
	uint64_t from_ns, to_ns, count;
};

struct reclaim_stalls_row {
	uint64_t null_mask;
	char reclaimer[8];
	uint64_t count, total_ns, reclaimed_pages, p50_at_most_ns, p99_at_most_ns;
	uint64_t max_since_start_ns;
	uint32_t nr_buckets;
	struct hist_bucket histogram[RC_HIST_SLOTS];
};

struct reclaim_kswapd_row {
	uint64_t null_mask;
	int32_t node;
	uint64_t wakeups, rounds, awake_ns, max_order_since_start, zone_mask_since_start;
};

struct reclaim_process_row {
	uint64_t null_mask;
	uint32_t pid;
	char comm[MS_COMM_LEN];
	char reclaimer[8];
	uint64_t count, total_ns, max_ns, reclaimed_pages;
};

struct reclaim_shrinker_row {
	uint64_t null_mask;
	char shrinker[128];
	uint64_t calls, total_ns, freed_objects, scanned_objects;
};

struct reclaim_stall_row {
	uint64_t null_mask;
	uint32_t pid, tid;
	char comm[MS_COMM_LEN];
	char reclaimer[8];
	int32_t order;
	uint64_t gfp;
	uint32_t nr_gfp_flags;
	char gfp_flags[GFP_MAX_NAMES][GFP_NAME_LEN];
	uint64_t reclaimed_pages, latency_ns;
	char memcg[256];
};

extern const struct record_desc reclaim_interval_desc, reclaim_isolate_desc, hist_bucket_desc,
	reclaim_stalls_desc, reclaim_kswapd_desc, reclaim_process_desc, reclaim_shrinker_desc,
	reclaim_stall_desc;

/*
 * The "reclaim_kswapd" record of a node between prev and cur (prev NULL: since the
 * start); false for a node id past the tables, whose kswapd is not kept.
 */
bool reclaim_kswapd_row_of(const struct reclaim_snapshot *cur,
			   const struct reclaim_snapshot *prev, int node,
			   struct reclaim_kswapd_row *row);
/* Pages scanned and reclaimed in a snapshot (or a difference of two): every slot. */
void reclaim_sum(const struct reclaim_snapshot *s, uint64_t *scanned, uint64_t *reclaimed);

/* A stall row's statistics and log2 histogram (buckets of microseconds, as ns). */
void reclaim_stalls_row_of(int kind, const struct rc_stall_stats *d, __u64 max_since_start_ns,
			   struct reclaim_stalls_row *row);

/* One stall event as the "reclaim_stall" record, its mask named with the table gfp. */
void reclaim_stall_row_of(const struct rc_event *e, const struct gfp_table *gfp,
			  struct reclaim_stall_row *row);

#endif
