/* SPDX-License-Identifier: GPL-2.0 */
/* memscope reclaim: records shared by BPF and user space. */
#ifndef MEMSCOPE_RECLAIM_H
#define MEMSCOPE_RECLAIM_H

#include "comm.h"

#define RC_MAX_NODES	64
/* One more node slot: nodes whose id is RC_MAX_NODES or more, together (totals only). */
#define RC_NODE_BEYOND	RC_MAX_NODES
#define RC_NODE_SLOTS	(RC_MAX_NODES + 1)
#define RC_NR_PRIO	13 /* DEF_PRIORITY 12 .. 0 */
#define RC_PRIO_SLOTS	16 /* a power of two: the BPF side masks the index with it */
#define RC_HIST_SLOTS	32 /* log2 of microseconds */

/* Who reclaims: from the begin/end tracepoints around the work, or the thread. */
enum rc_kind { RC_KSWAPD, RC_DIRECT, RC_MEMCG, RC_NODE, RC_OTHER, RC_NR_KIND };

/* Per (node, reclaimer); cumulative since start, per CPU. Pages. */
struct rc_stats {
	__u64 shrink_calls;
	__u64 scanned, reclaimed;
	__u64 scanned_anon, scanned_file, reclaimed_anon, reclaimed_file;
	__u64 dirty, writeback, congested, immediate;
	__u64 activate_anon, activate_file, ref_keep, unmap_fail;
	__u64 active_taken, active_deactivated, active_referenced;
	__u64 prio[RC_PRIO_SLOTS]; /* shrink-inactive calls per priority (RC_NR_PRIO used) */
};

/* Per reclaimer: isolation (no node in that tracepoint). */
struct rc_isolate {
	__u64 calls, requested, scanned, skipped, taken;
};

/* Per reclaimer kind that stalls a task (direct, memcg, node). */
struct rc_stall_stats {
	__u64 count, total_ns, max_ns, reclaimed;
	__u64 hist[RC_HIST_SLOTS];
};

/*
 * kswapd of one node, from mm_vmscan_kswapd_wake (each time kswapd() starts a
 * balance_pgdat() round, having slept or not) and mm_vmscan_kswapd_sleep (only
 * before a full sleep, in kswapd_try_to_sleep(); a short nap of up to HZ/10 that
 * ends in another round fires neither). Only kswapd itself fires them: one writer.
 * awake_state is one word, so a reader never sees half an update: RC_KSWAPD_AWAKE
 * set, the low bits are the wake time minus the time awake before it (awake now:
 * now minus them); clear, the nanoseconds awake so far. RC_KSWAPD_SEEN: an event
 * was seen (before, whether kswapd was awake at the start is unknown).
 */
#define RC_KSWAPD_AWAKE (1ULL << 63)
#define RC_KSWAPD_SEEN	(1ULL << 62)
#define RC_KSWAPD_NS	(RC_KSWAPD_SEEN - 1)

struct rc_kswapd {
	__u64 wakeups;	   /* a wake after a full sleep, or the first wake seen */
	__u64 rounds;	   /* every wake: balance_pgdat() rounds */
	__u64 awake_state; /* see above */
	__u64 max_order, zones; /* zones: bit per zone index woken for */
};

/* Nanoseconds awake at time now (boot clock) of a state word. */
static inline __u64 rc_kswapd_awake_ns(__u64 state, __u64 now)
{
	__u64 v = state & RC_KSWAPD_NS;

	if (!(state & RC_KSWAPD_AWAKE))
		return v;
	return now > v ? now - v : 0;
}

struct rc_proc_key {
	__u32 pid;
	__u32 kind;
};

struct rc_proc {
	__u64 count, total_ns, max_ns, reclaimed;
	char comm[MS_COMM_LEN];
};

/* --by-memcg: the memory cgroup of the task that stalls or reclaims, per reclaimer. */
struct rc_memcg_key {
	__u64 memcg_id; /* kernfs id, in the tree memcg_hier_v2 names */
	__u32 kind;
	__u32 pad;
};

struct rc_memcg {
	__u64 count, total_ns, max_ns, reclaimed; /* stalls */
	__u64 scanned_pages, reclaimed_pages;	  /* shrink-inactive in its reclaim */
	__u64 hist[RC_HIST_SLOTS];
};

struct rc_event {
	__u64 ts_ns; /* boot clock, at the end of the stall */
	__u64 latency_ns;
	__u64 reclaimed;
	__u64 gfp;
	__u32 pid, tid;
	__u32 kind, order;
	char comm[MS_COMM_LEN];
	__u64 memcg_id; /* the stalled task's memory cgroup (kernfs id); 0: unknown */
};

/* scan_control.nr_to_reclaim, from a function hook on shrink_folio_list */
struct rc_target {
	__u64 calls, last;
};

struct rc_slab {
	__u64 calls, total_ns, freed, scanned;
};

#endif
