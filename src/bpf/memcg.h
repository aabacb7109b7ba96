/* SPDX-License-Identifier: GPL-2.0 */
/* The memory cgroup iterator's record: one cgroup's counters, as its files print them. */
#ifndef MEMSCOPE_MEMCG_H
#define MEMSCOPE_MEMCG_H

/* cgroups one pass keeps (a record each in .bss); past them user space reads the files */
#define MC_MAX 4096

/* memory.events: low, high, max, oom, oom_kill (v1 has oom_kill alone) */
enum { MC_EV_LOW, MC_EV_HIGH, MC_EV_MAX, MC_EV_OOM, MC_EV_OOM_KILL, MC_NR_EVENTS };

enum {
	MC_MEMCG = 1,	   /* the cgroup has the memory controller: the fields below are set */
	MC_KMEM = 2,	   /* kmem: v1's kernel memory counter */
	MC_SOFT_LIMIT = 4, /* soft_limit: v1's */
};

struct memcg_rec {
	__u64 id, parent_id; /* kernfs ids; the parent's 0 for the root */
	__u32 level, flags;
	/* pages; a limit of PAGE_COUNTER_MAX is none */
	__u64 usage, max, watermark, failcnt, high, low, min;
	__u64 swap, swap_max, kmem, soft_limit;
	__u64 events[MC_NR_EVENTS]; /* ~0: this kernel has no such event */
};

#endif
