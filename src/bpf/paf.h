/* SPDX-License-Identifier: GPL-2.0 */
/* memscope paf: page allocation failure records shared by BPF and user space. */
#ifndef MEMSCOPE_PAF_H
#define MEMSCOPE_PAF_H

#include "comm.h"

#include "sys.h"

#define PAF_MAX_STACK 32

/* What the slow path of one thread did just before an allocation ended. */
struct paf_story {
	__u64 first_ns, last_ns;
	__u64 reclaim_begin_ns; /* of a direct reclaim in progress */
	__u64 reclaim_ns;	/* total time in direct reclaim */
	__u64 reclaimed;	/* pages direct reclaim freed */
	__u32 reclaim_count;
	__u32 compact_tries;	/* try_to_compact_pages calls */
	__u32 compact_retries;	/* compact_retry events */
	__s32 compact_result;	/* last compact_retry: enum compact_result */
	__s32 compact_priority; /* last compact_retry: enum compact_priority */
	__u32 compact_should_retry;
	__u32 retry_zone_count; /* reclaim_retry_zone events */
	__u32 max_no_progress_loops;
	__u32 last_wmark_check;
	__u32 last_retry_zone_idx;
	__u64 last_available, last_reclaimable, last_min_wmark;
};

struct paf_event {
	__u64 ts_ns; /* bpf_ktime_get_boot_ns */
	__u32 pid, tid;
	char comm[MS_COMM_LEN];
	__u32 order;
	__s32 migratetype;
	__u64 gfp;
	__u32 cpu_node; /* node of the CPU that failed: the preferred node unless a policy said else */
	__u32 has_story;
	__u32 has_node;
	__s32 stack_bytes;
	struct paf_story story;
	__u64 stack[PAF_MAX_STACK];
	struct sys_node node;
};

/* --summary: failures counted in the kernel per (order, gfp, comm). */
struct paf_key {
	__u32 order;
	__u32 pad;
	__u64 gfp;
	char comm[MS_COMM_LEN];
};

#endif
