// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "failures.h"
#include "iter.h"
#include "loss.h"
#include "mapwalk.h"
#include "runtime.h"
#include "paf.skel.h"

const struct hook_spec failures_hooks[FAILURES_NR_HOOKS] = {
	HOOK_TP("kmem:mm_page_alloc", "paf_alloc", false),
	HOOK_TP("vmscan:mm_vmscan_direct_reclaim_begin", "paf_reclaim_begin", true),
	HOOK_TP("vmscan:mm_vmscan_direct_reclaim_end", "paf_reclaim_end", true),
	HOOK_TP("oom:reclaim_retry_zone", "paf_retry_zone", true),
	HOOK_TP("oom:compact_retry", "paf_compact_retry", true),
	HOOK_TP("compaction:mm_compaction_try_to_compact_pages", "paf_compact_try", true),
};

struct failures {
	struct paf_bpf *skel;
};

/* One pass of the node iterator remembers each node's pglist_data for the events. */
static void find_nodes(struct paf_bpf *skel, bool events)
{
	ms_iter_run_once(skel->progs.paf_nodes);
	if (events && !skel->bss->nodes_found)
		ms_warn("found no memory node: failures will have no zone state");
}

struct failures *failures_open(const struct ms_filter *f, const struct failures_want *w)
{
	struct failures *fl = calloc(1, sizeof(*fl));
	int chosen[FAILURES_NR_HOOKS], err;
	struct paf_bpf *skel;
	char why[256];

	if (!fl)
		ms_fatal("out of memory");
	ms_require_bpf();
	skel = paf_bpf__open_opts(ms_bpf_open_opts());
	if (!skel)
		ms_bpf_fail("opening paf's BPF object", errno);
	ms_test_map_sizes(skel->obj);
	if (w->ring_bytes)
		bpf_map__set_max_entries(skel->maps.events, w->ring_bytes);
	skel->rodata->want_events = w->events;
	skel->rodata->want_stack = w->stack;
	skel->rodata->order_eq = w->order_eq;
	skel->rodata->order_min = w->order_min;
	MS_SET_FILTERS(skel, f);
	if (hooks_select(skel->obj, failures_hooks, FAILURES_NR_HOOKS, chosen, why, sizeof(why)))
		ms_fatal("%s", why);
	err = paf_bpf__load(skel);
	if (err)
		ms_bpf_fail("loading paf's BPF programs", err);
	ms_pid_filter_fill(bpf_map__fd(skel->maps.pid_filter), f);
	find_nodes(skel, w->events);
	err = paf_bpf__attach(skel);
	if (err)
		ms_bpf_fail("attaching paf's BPF programs", err);
	fl->skel = skel;
	return fl;
}

int failures_events_fd(struct failures *fl)
{
	return bpf_map__fd(fl->skel->maps.events);
}

struct count_walk {
	void (*cb)(const struct paf_key *k, __u64 n, void *ctx);
	void *ctx;
};

static void visit_count(const void *key, const void *value, void *ctx)
{
	const struct count_walk *w = ctx;
	__u64 n;

	memcpy(&n, value, sizeof(n));
	w->cb(key, n, w->ctx);
}

void failures_each_count(struct failures *fl, bool take,
			 void (*cb)(const struct paf_key *k, __u64 n, void *ctx), void *ctx)
{
	struct count_walk w = { cb, ctx };

	ms_map_each(bpf_map__fd(fl->skel->maps.fail_counts), sizeof(struct paf_key), sizeof(__u64),
		    take, visit_count, &w);
}

static void worst(const struct paf_key *k, __u64 n, void *ctx)
{
	struct failures_totals *t = ctx;

	if (n && (int)k->order > t->worst_order) {
		t->worst_order = k->order;
		snprintf(t->worst_comm, sizeof(t->worst_comm), "%.16s", k->comm);
	}
}

void failures_totals(struct failures *fl, struct failures_totals *t)
{
	memset(t, 0, sizeof(*t));
	t->failures = fl->skel->bss->nr_failures;
	t->lost = fl->skel->bss->nr_lost;
	t->filtered = fl->skel->bss->nr_filtered;
	t->worst_order = -1;
	failures_each_count(fl, false, worst, t);
}

void failures_close(struct failures *fl)
{
	if (!fl)
		return;
	paf_bpf__destroy(fl->skel);
	free(fl);
}

/* ---- the records ---- */

static const struct field zone_fields[] = {
	FLD_REC(struct paf_zone_row, zone, "zone", FF_INLINE, &zone_desc, "the zone record"),
	FLD(struct paf_zone_row, reserve_bytes, "reserve_bytes", NULL, FT_U64, FU_BYTES, FK_GAUGE,
	    0, "what this allocation had to leave free in the zone (its lowmem reserve)"),
	FLD_ARR(struct paf_zone_row, free_blocks_from_order, nr_blocks, NULL,
		"free_blocks_from_order", NULL, FT_U64S, FU_NONE, FK_GAUGE, 0,
		"free blocks of the requested order and above, from that order up"),
};
const struct record_desc paf_zone_desc =
	RECORD_DESC("paf.zones", "a zone the failed allocation could use", zone_fields,
		    struct paf_zone_row);

#define S(m, key, ft, unit, flags, help)                                                   \
	FLD(struct paf_slow_path_row, m, key, NULL, ft, unit, FK_GAUGE, flags, help)
static const struct field slow_fields[] = {
	S(direct_reclaims, "direct_reclaims", FT_U32, FU_NONE, 0, "direct reclaim runs"),
	S(reclaimed_pages, "reclaimed_pages", FT_U64, FU_PAGES, 0, "pages they reclaimed"),
	S(reclaim_ns, "reclaim_ns", FT_U64, FU_NS, 0, "time in direct reclaim"),
	S(compaction_tries, "compaction_tries", FT_U32, FU_NONE, 0, "try_to_compact_pages calls"),
	S(compact_retries, "compact_retries", FT_U32, FU_NONE, 0, "compact_retry events"),
	S(last_compact_result, "last_compact_result", FT_STR, FU_NONE, FF_NULL,
	  "the last compaction's result; null without one"),
	S(last_compact_priority, "last_compact_priority", FT_STR, FU_NONE, FF_NULL,
	  "its priority; null without one"),
	S(reclaim_retries, "reclaim_retries", FT_U32, FU_NONE, 0, "reclaim_retry_zone events"),
	S(max_no_progress_loops, "max_no_progress_loops", FT_U32, FU_NONE, 0,
	  "the most retries without progress"),
	S(duration_ns, "duration_ns", FT_U64, FU_NS, 0, "from the first slow-path event to the last"),
};
#undef S
const struct record_desc paf_slow_path_desc =
	RECORD_DESC("paf.slow_path", "what the allocator's slow path did before it failed",
		    slow_fields, struct paf_slow_path_row);

#define P(m, key, ft, unit, flags, help)                                                   \
	FLD(struct paf_row, m, key, NULL, ft, unit, FK_LABEL, flags, help)
static const struct field paf_fields[] = {
	P(pid, "pid", FT_U32, FU_NONE, 0, "process id"),
	P(tid, "tid", FT_U32, FU_NONE, 0, "thread id"),
	P(comm, "comm", FT_STR, FU_NONE, 0, "command name"),
	P(order, "order", FT_U32, FU_NONE, 0, "the allocation's order"),
	P(size_bytes, "size_bytes", FT_U64, FU_BYTES, 0, "its size"),
	P(gfp, "gfp", FT_U64, FU_NONE, 0, "its GFP mask"),
	FLD_STRS(struct paf_row, gfp_flags, nr_gfp_flags, "gfp_flags", 0,
		 "the mask in the kernel's own flag names, as it prints them (bits no name "
		 "covers last, in hex)"),
	P(migratetype, "migratetype", FT_STR, FU_NONE, 0, "its migrate type"),
	P(cpu_node, "cpu_node", FT_U32, FU_NONE, 0,
	  "the node of the CPU that failed (the preferred node unless a policy says else)"),
	P(highest_zone, "highest_zone", FT_STR, FU_NONE, FF_NULL,
	  "the highest zone the flags allow; null when the node was not found"),
	FLD_RECS(struct paf_row, zones, nr_zones, "zones", &paf_zone_desc,
		 "the zones it could use, at the instant of the failure"),
	FLD_REC(struct paf_row, slow_path, "slow_path", FF_NULL, &paf_slow_path_desc,
		"the slow path's story; null when none was seen"),
	P(slow_path_summary, "slow_path_summary", FT_STR, FU_NONE, 0, "the story in words"),
	P(available_bytes, "available_bytes", FT_U64, FU_BYTES, FF_NULL,
	  "the node's share of MemAvailable at the failure (the kernel's si_mem_available() "
	  "over its zones and counters); null when the node was not found"),
	P(failure_allowed, "failure_allowed", FT_BOOL, FU_NONE, 0,
	  "the caller said it handles this failure (__GFP_NOWARN: the kernel does not log "
	  "it): a pool or cache growing until memory runs out, no incident by itself"),
	P(verdict, "verdict", FT_STR, FU_NONE, 0, "why it failed, in words"),
	P(verdict_kind, "verdict_kind", FT_STR, FU_NONE, 0,
	  "low_memory (below the watermarks, or the node's memory exhausted and the rest in "
	  "smaller blocks), fragmentation (memory available but no block of the order), "
	  "cma_not_usable, gave_up or unknown"),
	FLD_STRS(struct paf_row, stack, nr_stack, "stack", FF_NULL,
		 "the kernel stack (paf --stack); null without --stack"),
};
#undef P
const struct record_desc paf_desc =
	RECORD_DESC("paf", "memscope paf: one page allocation failure", paf_fields, struct paf_row);

static const struct field count_fields[] = {
	FLD(struct paf_count_row, count, "count", "COUNT", FT_U64, FU_NONE, FK_COUNTER, 0,
	    "failures in the interval"),
	FLD(struct paf_count_row, order, "order", "ORDER", FT_U32, FU_NONE, FK_LABEL, FF_NULL,
	    "order; null in the record of an interval without failures"),
	FLD(struct paf_count_row, comm, "comm", "COMM", FT_STR, FU_NONE, FK_LABEL,
	    FF_LEFT | FF_NULL, "command name"),
	FLD(struct paf_count_row, gfp, "gfp", NULL, FT_U64, FU_NONE, FK_LABEL, FF_NULL,
	    "GFP mask"),
	FLD_STRS(struct paf_count_row, gfp_flags, nr_gfp_flags, "gfp_flags", FF_NULL,
		 "the mask's flag names"),
	FLD(struct paf_count_row, gfp_text, "gfp_text", "GFP_FLAGS", FT_STR, FU_NONE, FK_LABEL,
	    FF_LEFT | FF_TEXT, "the names joined by '|'"),
};
const struct record_desc paf_count_desc =
	RECORD_DESC("paf_summary", "paf --summary: failures per order, flags and command",
		    count_fields, struct paf_count_row);

static const struct field stats_fields[] = {
	FLD(struct paf_stats_row, failures, "failures", NULL, FT_U64, FU_NONE, FK_COUNTER, 0,
	    "failures seen"),
	FLD(struct paf_stats_row, lost, "lost", NULL, FT_U64, FU_NONE, FK_COUNTER, 0,
	    "failures not shown: the ring buffer was full"),
	FLD(struct paf_stats_row, filtered, "filtered", NULL, FT_U64, FU_NONE, FK_COUNTER, 0,
	    "failures of processes the filters left out"),
};
const struct record_desc paf_stats_desc =
	RECORD_DESC("paf_stats", "memscope paf: the run's totals, last", stats_fields,
		    struct paf_stats_row);
