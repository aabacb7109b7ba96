// SPDX-License-Identifier: GPL-2.0
/*
 * memscope paf, kernel side.
 * kmem:mm_page_alloc ends every page allocation and carries page == NULL when
 * it failed. Successful allocations leave after one compare (and one global
 * read): this runs on every page allocation. The slow path's tracepoints
 * (direct reclaim, compaction, reclaim_retry_zone, compact_retry) write a
 * per-thread story that the failure takes along; a success ends the story.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "paf.h"
#include "zone.bpf.h"
#include "filter.bpf.h"
#include "hook.bpf.h"
#include "task.bpf.h"

/* A gap this long between slow-path events starts a new story. */
#define STORY_GAP_NS (500 * 1000000ULL)

const volatile bool want_events = true; /* false with --summary */
const volatile bool want_stack;
const volatile __s32 order_eq = -1, order_min = -1;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct paf_story);
} stories SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct paf_key);
	__type(value, __u64);
} fail_counts SEC(".maps");

__u64 open_stories; /* > 0: some thread is in the slow path, successes must look */
__u64 nr_failures, nr_lost, nr_filtered;

SEC("iter/task")
int paf_nodes(struct bpf_iter__task *ctx)
{
	nodes_pass(ctx);
	return 0;
}

static __always_inline struct paf_story *story_get(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 now = bpf_ktime_get_boot_ns();
	struct paf_story *s = bpf_map_lookup_elem(&stories, &tid);

	if (s && now - s->last_ns > STORY_GAP_NS) {
		__builtin_memset(s, 0, sizeof(*s));
		s->first_ns = now;
	}
	if (!s) {
		struct paf_story fresh = { .first_ns = now };

		if (bpf_map_update_elem(&stories, &tid, &fresh, BPF_NOEXIST))
			return NULL;
		__sync_fetch_and_add(&open_stories, 1);
		s = bpf_map_lookup_elem(&stories, &tid);
		if (!s)
			return NULL;
	}
	s->last_ns = now;
	return s;
}

static __always_inline void story_end(__u32 tid)
{
	if (!bpf_map_delete_elem(&stories, &tid))
		__sync_fetch_and_sub(&open_stories, 1);
}

static __always_inline bool wanted(__u32 order)
{
	struct task_struct *t = bpf_get_current_task_btf();

	if (order_eq >= 0 && order != (__u32)order_eq)
		return false;
	if (order_min >= 0 && order < (__u32)order_min)
		return false;
	return task_passes_filters(BPF_CORE_READ(t, group_leader), BPF_CORE_READ(t, tgid));
}

static __noinline void on_failure(void *ctx, __u32 order, __u64 gfp, int migratetype)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, nid = bpf_get_numa_node_id();
	struct paf_story *s = bpf_map_lookup_elem(&stories, &tid);
	struct pglist_data *pgdat;
	struct paf_event *e;

	if (!wanted(order)) {
		__sync_fetch_and_add(&nr_filtered, 1);
		goto out;
	}
	__sync_fetch_and_add(&nr_failures, 1);
	if (!want_events) {
		struct paf_key k = { .order = order, .gfp = gfp };
		__u64 *n;

		__u64 zero = 0;

		bpf_get_current_comm(k.comm, sizeof(k.comm));
		n = lookup_or_init(&fail_counts, &k, &zero);
		if (n)
			__sync_fetch_and_add(n, 1);
		goto out;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&nr_lost, 1);
		goto out;
	}
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->pid = id >> 32;
	e->tid = tid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->order = order;
	e->gfp = gfp;
	e->migratetype = migratetype;
	e->cpu_node = nid;
	e->has_story = 0;
	if (s) {
		e->story = *s;
		e->has_story = 1;
	}
	e->stack_bytes = want_stack ? bpf_get_stack(ctx, e->stack, sizeof(e->stack), 0) : 0;
	pgdat = node_by_id(nid);
	e->has_node = pgdat != NULL;
	if (pgdat)
		read_node(pgdat, &e->node);
	bpf_ringbuf_submit(e, 0);
out:
	if (s)
		story_end(tid);
}

static __always_inline void on_alloc(void *ctx, bool failed, __u32 order, __u64 gfp,
				     int migratetype)
{
	if (!failed) {
		/* The hot path: nothing to do unless some thread has a story open. */
		if (open_stories)
			story_end((__u32)bpf_get_current_pid_tgid());
		return;
	}
	on_failure(ctx, order, gfp, migratetype);
}

MS_TRACEPOINT(paf_alloc, mm_page_alloc, on_alloc(ctx, !page, order, gfp, migratetype),
	      struct page *page, unsigned int order, gfp_t gfp, int migratetype)
/* the record's pfn is -1UL when the allocation failed (include/trace/events/kmem.h) */
MS_CLASSIC(paf_alloc, kmem, mm_page_alloc, mm_page_alloc,
	   on_alloc(ctx, ctx->pfn == -1UL, ctx->order, ctx->gfp_flags, ctx->migratetype))

/* ---- the slow path's story ---- */

static __always_inline void reclaim_begin(void)
{
	struct paf_story *s = story_get();

	if (s) {
		s->reclaim_begin_ns = bpf_ktime_get_boot_ns();
		s->reclaim_count++;
	}
}

static __always_inline void reclaim_end(unsigned long nr_reclaimed)
{
	struct paf_story *s = story_get();

	if (s && s->reclaim_begin_ns) {
		s->reclaim_ns += bpf_ktime_get_boot_ns() - s->reclaim_begin_ns;
		s->reclaim_begin_ns = 0;
		s->reclaimed += nr_reclaimed;
	}
}

static __always_inline void retry_zone(int zone_idx, unsigned long reclaimable,
				       unsigned long available, unsigned long min_wmark,
				       int no_progress_loops, bool wmark_check)
{
	struct paf_story *s = story_get();

	if (!s)
		return;
	s->retry_zone_count++;
	if ((__u32)no_progress_loops > s->max_no_progress_loops)
		s->max_no_progress_loops = no_progress_loops;
	s->last_wmark_check = wmark_check;
	s->last_available = available;
	s->last_reclaimable = reclaimable;
	s->last_min_wmark = min_wmark;
	s->last_retry_zone_idx = zone_idx;
}

static __always_inline void compact_retry(int priority, int result, bool should_retry)
{
	struct paf_story *s = story_get();

	if (s) {
		s->compact_retries++;
		s->compact_priority = priority;
		s->compact_result = result;
		s->compact_should_retry = should_retry;
	}
}

static __always_inline void compact_try(void)
{
	struct paf_story *s = story_get();

	if (s)
		s->compact_tries++;
}

MS_TRACEPOINT(paf_reclaim_begin, mm_vmscan_direct_reclaim_begin, reclaim_begin())

MS_TRACEPOINT(paf_reclaim_end, mm_vmscan_direct_reclaim_end, reclaim_end(nr_reclaimed),
	      unsigned long nr_reclaimed)

MS_TRACEPOINT(paf_retry_zone, reclaim_retry_zone,
	      retry_zone(BPF_CORE_READ(zref, zone_idx), reclaimable, available, min_wmark,
			 no_progress_loops, wmark_check),
	      struct zoneref *zref, int order, unsigned long reclaimable, unsigned long available,
	      unsigned long min_wmark, int no_progress_loops, bool wmark_check)

MS_TRACEPOINT(paf_compact_retry, compact_retry, compact_retry(priority, result, ret),
	      int order, int priority, int result, int retries, int max_retries, bool ret)

MS_TRACEPOINT(paf_compact_try, mm_compaction_try_to_compact_pages, compact_try())

MS_CLASSIC(paf_reclaim_begin, vmscan, mm_vmscan_direct_reclaim_begin,
	   mm_vmscan_direct_reclaim_begin_template, reclaim_begin())
MS_CLASSIC(paf_reclaim_end, vmscan, mm_vmscan_direct_reclaim_end,
	   mm_vmscan_direct_reclaim_end_template, reclaim_end(ctx->nr_reclaimed))
MS_CLASSIC(paf_retry_zone, oom, reclaim_retry_zone, reclaim_retry_zone,
	   retry_zone(ctx->zone_idx, ctx->reclaimable, ctx->available, ctx->min_wmark,
		      ctx->no_progress_loops, ctx->wmark_check))
MS_CLASSIC(paf_compact_retry, oom, compact_retry, compact_retry,
	   compact_retry(ctx->priority, ctx->result, ctx->ret))
MS_CLASSIC(paf_compact_try, compaction, mm_compaction_try_to_compact_pages,
	   mm_compaction_try_to_compact_pages, compact_try())

char LICENSE[] SEC("license") = "GPL";
