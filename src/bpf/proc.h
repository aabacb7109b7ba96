/* SPDX-License-Identifier: GPL-2.0 */
/* memscope proc: records shared by the BPF programs and user space. */
#ifndef MEMSCOPE_PROC_H
#define MEMSCOPE_PROC_H

#include "comm.h"


/* One process (thread group) as its mm_struct describes it; sizes in pages unless named. */
struct proc_rec {
	__u32 pid;
	__u32 exact; /* 1: per-CPU counter parts summed in; 0: global part only */
	char comm[MS_COMM_LEN];
	__u64 total_vm;
	__u64 hiwater_rss;
	__u64 data_vm;
	__u64 stack_vm;
	__u64 pgtables_bytes;
	__s64 anon, file, shmem, swap;
	__u64 memcg_id; /* kernfs id of its memory cgroup (memcg_hier_v2's tree); 0: unknown */
};

#endif
