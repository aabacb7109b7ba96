/* SPDX-License-Identifier: GPL-2.0 */
/* One process's record, read through a trusted task pointer: proc.bpf.c, proc_exit.bpf.c. */
#ifndef MEMSCOPE_PROC_REC_BPF_H
#define MEMSCOPE_PROC_REC_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include "proc.h"
#include "mm.bpf.h"
#include "filter.bpf.h"

/*
 * The iterator's task is a trusted BTF pointer, and so fields reached from it are
 * read with plain loads (PROBE_MEM: a fault reads zero) instead of a helper call
 * each: the pass costs about half. Only the per-CPU parts need the helper.
 */
#define NR_RSS 4

/* The four counters' global parts, by the kernel's index; false: none to add. */
static __always_inline bool rss_global(struct mm_struct *mm, long cnt[NR_RSS],
				       __u64 pcpu[NR_RSS])
{
	if (rss_layout_is_old()) { /* <= 6.1: atomics, exact as they are */
		struct mm_struct___old *old = (void *)mm;

		/* one read: the verifier cannot walk a plain load into an array of the
		 * atomic_long_t typedef ("is not a struct", 6.1) */
		bpf_probe_read_kernel(cnt, sizeof(long) * NR_RSS, &old->rss_stat.count);
		return false;
	}
	for (int k = 0; k < NR_RSS; k++) {
		cnt[k] = mm->rss_stat[k].count;
		pcpu[k] = (__u64)mm->rss_stat[k].counters;
	}
	return true;
}

/*
 * Add every CPU's delta. Since 6.6 (percpu_counter_init_many, commit c5fc4d8dde4a)
 * the four s32 parts lie side by side: one 16-byte read per CPU; before, one each.
 */
static __always_inline bool rss_add_percpu(long cnt[NR_RSS], const __u64 pcpu[NR_RSS])
{
	bool packed = true;

	compute_cpu_offsets();
	if (!cpu_offsets_ready || nr_cpus > MS_MAX_CPUS)
		return false;
	for (int k = 1; k < NR_RSS; k++)
		packed &= pcpu[k] == pcpu[0] + k * sizeof(__s32);
	for (__u32 cpu = 0; cpu < MS_MAX_CPUS && cpu < nr_cpus; cpu++) {
		__s32 d[NR_RSS] = {};

		if (!cpu_offset_ok[cpu])
			continue;
		if (packed) {
			bpf_probe_read_kernel(d, sizeof(d), (void *)(pcpu[0] + cpu_offset[cpu]));
		} else {
			for (int k = 0; k < NR_RSS; k++)
				bpf_probe_read_kernel(&d[k], sizeof(d[k]),
						      (void *)(pcpu[k] + cpu_offset[cpu]));
		}
		for (int k = 0; k < NR_RSS; k++)
			cnt[k] += d[k];
	}
	return true;
}

static __always_inline void fill_rec(struct proc_rec *r, struct task_struct *t,
				     struct mm_struct *mm)
{
	long cnt[NR_RSS] = {};
	__u64 pcpu[NR_RSS] = {};

	bpf_probe_read_kernel_str(&r->comm, sizeof(r->comm), t->group_leader->comm);
	r->total_vm = mm->total_vm;
	r->hiwater_rss = mm->hiwater_rss;
	r->data_vm = mm->data_vm;
	r->stack_vm = mm->stack_vm;
	r->pgtables_bytes = mm->pgtables_bytes.counter;
	r->memcg_id = task_memcg_id(t);
	r->exact = !rss_global(mm, cnt, pcpu) || rss_add_percpu(cnt, pcpu);
	if (mm_idx_anon < 0 || mm_idx_anon >= NR_RSS || mm_idx_file < 0 ||
	    mm_idx_file >= NR_RSS || mm_idx_shmem < 0 || mm_idx_shmem >= NR_RSS ||
	    mm_idx_swap < 0 || mm_idx_swap >= NR_RSS)
		return;
	r->anon = cnt[mm_idx_anon];
	r->file = cnt[mm_idx_file];
	r->shmem = cnt[mm_idx_shmem];
	r->swap = cnt[mm_idx_swap];
}

#endif
