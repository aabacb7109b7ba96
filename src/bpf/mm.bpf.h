/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CO-RE helpers for reading a process's memory counters and filtering tasks,
 * shared by every command that looks at processes (proc, oom, summary).
 */
#ifndef MEMSCOPE_MM_BPF_H
#define MEMSCOPE_MM_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#define MS_MAX_CPUS 1024

/* <= 6.1: one atomic per counter (exact as the kernel itself reads it). */
struct mm_rss_stat___old {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));

struct mm_struct___old {
	struct mm_rss_stat___old rss_stat;
} __attribute__((preserve_access_index));

/* Indices of MM_FILEPAGES etc.: an anonymous enum, so user space reads them from BTF. */
const volatile int mm_idx_file = -1, mm_idx_anon = -1, mm_idx_shmem = -1, mm_idx_swap = -1;
const volatile __u32 nr_cpus = 1; /* possible CPUs, from user space */

/*
 * >= 6.2 keeps each RSS counter in a percpu_counter: exact = count + every CPU's
 * s32 delta. BPF cannot index per-CPU memory reached through a task's mm, so we
 * learn each CPU's per-CPU offset from a per-CPU array of our own: the address
 * bpf_map_lookup_percpu_elem() returns for CPU n minus the array's per-CPU base
 * pointer (struct bpf_array.pptrs[0]) is that CPU's offset.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} percpu_anchor SEC(".maps");

__u64 cpu_offset[MS_MAX_CPUS];
__u8 cpu_offset_ok[MS_MAX_CPUS];
bool cpu_offsets_ready;

/* Copy a pointer into a plain number: the verifier forbids arithmetic on map pointers. */
static __always_inline __u64 ptr_to_u64(void *p)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), &p);
	return v;
}

static __always_inline void compute_cpu_offsets(void)
{
	__u32 zero = 0;
	__u64 base = 0, anchor = ptr_to_u64(&percpu_anchor);

	if (cpu_offsets_ready)
		return;
	bpf_probe_read_kernel(&base, sizeof(base),
			      (void *)(anchor + bpf_core_field_offset(struct bpf_array, pptrs)));
	for (__u32 cpu = 0; cpu < MS_MAX_CPUS && cpu < nr_cpus; cpu++) {
		void *p = bpf_map_lookup_percpu_elem(&percpu_anchor, &zero, cpu);

		if (!p)
			continue; /* not a possible CPU */
		cpu_offset[cpu] = ptr_to_u64(p) - base;
		cpu_offset_ok[cpu] = 1;
	}
	cpu_offsets_ready = base != 0;
}

static __always_inline bool rss_layout_is_old(void)
{
	return bpf_core_type_exists(struct mm_rss_stat___old);
}

/* The global part only: cheap, O(1), what a hot path may afford. */
static __always_inline long mm_counter_fast(struct mm_struct *mm, int idx)
{
	long v = 0;

	if (idx < 0 || idx > 3)
		return 0;
	if (rss_layout_is_old()) {
		struct mm_struct___old *old = (void *)mm;

		bpf_probe_read_kernel(&v, sizeof(v), &old->rss_stat.count[idx]);
	} else {
		bpf_probe_read_kernel(&v, sizeof(v), &mm->rss_stat[idx].count);
	}
	return v;
}

/* The exact value, O(nr_cpus) on percpu_counter kernels: for snapshots only. */
static __always_inline long mm_counter_exact(struct mm_struct *mm, int idx, bool *exact)
{
	long sum = mm_counter_fast(mm, idx);
	__u64 counters = 0;

	if (idx < 0 || idx > 3 || rss_layout_is_old())
		return sum;
	compute_cpu_offsets();
	if (!cpu_offsets_ready || nr_cpus > MS_MAX_CPUS) {
		*exact = false;
		return sum;
	}
	bpf_probe_read_kernel(&counters, sizeof(counters), &mm->rss_stat[idx].counters);
	for (__u32 cpu = 0; cpu < MS_MAX_CPUS && cpu < nr_cpus; cpu++) {
		__s32 d = 0;

		if (!cpu_offset_ok[cpu])
			continue;
		bpf_probe_read_kernel(&d, sizeof(d), (void *)(counters + cpu_offset[cpu]));
		sum += d;
	}
	return sum;
}

/*
 * Is t a kernel thread? On 5.17+ every kthread carries its struct kthread in
 * worker_private, but PID 1 inherits a stale pointer from the idle task (set in
 * sched_init()), so a set worker_private alone is not proof. A kthread that has
 * an mm borrowed it (kthread_use_mm) and so is never that mm's owner.
 */
static __always_inline bool task_is_kthread_with_mm(struct task_struct *t, struct mm_struct *mm)
{
	if (!bpf_core_field_exists(t->worker_private) || !BPF_CORE_READ(t, worker_private))
		return false;
	if (bpf_core_field_exists(mm->owner))
		return BPF_CORE_READ(mm, owner) != t;
	return true;
}

/* A user process with an address space, as /proc/PID/status sees one. */
static __always_inline bool task_is_user_process(struct task_struct *t)
{
	struct mm_struct *mm;

	if (BPF_CORE_READ(t, pid) != BPF_CORE_READ(t, tgid))
		return false;
	mm = BPF_CORE_READ(t, mm);
	return mm && !task_is_kthread_with_mm(t, mm);
}

#endif
