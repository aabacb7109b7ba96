// SPDX-License-Identifier: GPL-2.0
/*
 * memscope proc, kernel side.
 * - proc_snapshot (iter/task): one record per user process, exact counters.
 * - sched_switch: the task leaving the CPU has stable counters until it runs
 *   again (why the original tool hooked finish_task_switch, which is static and
 *   .isra-suffixed: not attachable). At the tracepoint current == prev, so every
 *   variant can use the current task. It refreshes a process at most once per
 *   interval into a hash map: O(1), no event per context switch.
 * - sched_process_exit: forget a process once its whole thread group is dead.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "proc.h"
#include "mm.bpf.h"
#include "filter.bpf.h"
#include "task.bpf.h"

/*
 * Live processes; sched_process_exit deletes them. A plain hash, not an LRU one:
 * when it is full a process is counted in nr_dropped and reported, not silently
 * evicted.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct proc_rec);
} procs SEC(".maps");

/* Live mode: user space asks for exact values of just these tgids. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} wanted SEC(".maps");

/* tgids whose thread group ended, for user space to forget. */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 16384);
	__type(value, __u32);
} exited SEC(".maps");

bool use_wanted; /* set by user space around a refresh run */
__u64 nr_refreshed, nr_dropped, nr_exit_lost;

static __always_inline void fill_rec(struct proc_rec *r, struct task_struct *t,
				     struct mm_struct *mm, bool exact)
{
	bool ok = true;

	BPF_CORE_READ_STR_INTO(&r->comm, t, group_leader, comm);
	r->total_vm = BPF_CORE_READ(mm, total_vm);
	r->hiwater_rss = BPF_CORE_READ(mm, hiwater_rss);
	r->data_vm = BPF_CORE_READ(mm, data_vm);
	r->stack_vm = BPF_CORE_READ(mm, stack_vm);
	r->pgtables_bytes = BPF_CORE_READ(mm, pgtables_bytes.counter);
	r->memcg_id = task_memcg_id(t);
	if (exact) {
		r->anon = mm_counter_exact(mm, mm_idx_anon, &ok);
		r->file = mm_counter_exact(mm, mm_idx_file, &ok);
		r->shmem = mm_counter_exact(mm, mm_idx_shmem, &ok);
		r->swap = mm_counter_exact(mm, mm_idx_swap, &ok);
	} else {
		r->anon = mm_counter_fast(mm, mm_idx_anon);
		r->file = mm_counter_fast(mm, mm_idx_file);
		r->shmem = mm_counter_fast(mm, mm_idx_shmem);
		r->swap = mm_counter_fast(mm, mm_idx_swap);
		ok = rss_layout_is_old();
	}
	r->exact = ok;
}

SEC("iter/task")
int proc_snapshot(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct proc_rec r = {};
	__u32 tgid;

	if (!t || !task_is_user_process(t))
		return 0;
	tgid = BPF_CORE_READ(t, tgid);
	if (use_wanted ? !bpf_map_lookup_elem(&wanted, &tgid) : !task_passes_filters(t, tgid))
		return 0;
	r.pid = tgid;
	fill_rec(&r, t, BPF_CORE_READ(t, mm), true);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

/*
 * The slow path: a process new to the map, or not yet refreshed in this
 * interval. `generation` moves on once per interval (user space bumps it), so
 * the hot path needs no clock read.
 */
__u64 generation = 1;

static __noinline void refresh(struct task_struct *t, struct mm_struct *mm, __u32 tgid)
{
	struct proc_rec *r = bpf_map_lookup_elem(&procs, &tgid);

	if (!r) {
		struct task_struct *leader = BPF_CORE_READ(t, group_leader);
		struct proc_rec fresh = {};

		if (task_is_kthread_with_mm(t, mm))
			return;
		if (!task_passes_filters(leader, tgid))
			return;
		fresh.pid = tgid;
		r = lookup_or_init(&procs, &tgid, &fresh);
		if (!r) { /* the table is full: counted, and reported */
			__sync_fetch_and_add(&nr_dropped, 1);
			return;
		}
	}
	fill_rec(r, t, mm, false);
	r->seen_gen = generation;
	__sync_fetch_and_add(&nr_refreshed, 1);
}

/* The hot path, on every context switch: two loads, one lookup, one compare. */
static __always_inline void on_switch(struct task_struct *t, struct mm_struct *mm, __u32 tgid)
{
	struct proc_rec *r;

	if (!mm)
		return; /* the idle task and kernel threads */
	r = bpf_map_lookup_elem(&procs, &tgid);
	if (r && r->seen_gen == generation)
		return;
	refresh(t, mm, tgid);
}

/*
 * Per CPU, a small direct-mapped cache of the thread groups already looked at in
 * this interval, checked before the hash map: a global array, so no look-up call.
 */
#define SEEN_SLOTS 64
#define SEEN_CPUS 256

struct seen_slot seen[SEEN_CPUS][SEEN_SLOTS];

/*
 * Task-local storage on the group leader, where it is safe in sched_switch: that
 * runs with the runqueue lock held, and an allocation that wakes kswapd needs a
 * runqueue lock. Local storage that allocates with GFP_ATOMIC (6.1: a soft lockup,
 * seen under make test-vm) must not be used here; since 6.4 task storage uses
 * BPF's own allocator, and the kernel's BTF shows it (bpf_local_storage_map.bpf_ma).
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} seen_in SEC(".maps");

static __always_inline bool task_storage_safe_here(void)
{
	return bpf_core_field_exists(struct bpf_local_storage_map, bpf_ma);
}
SEC("tp_btf/sched_switch")
int BPF_PROG(proc_switch_btf, bool preempt, struct task_struct *prev)
{
	/* A trusted BTF pointer: direct loads, no probe-read helper calls. */
	struct mm_struct *mm = prev->mm;
	struct seen_slot *slot = NULL;
	__u32 cpu, tgid;

	if (!mm)
		return 0; /* the idle task and kernel threads */
	tgid = prev->tgid;
	/* A CPU mostly switches away from the same few processes. */
	cpu = bpf_get_smp_processor_id();
	if (cpu < SEEN_CPUS) {
		slot = &seen[cpu][tgid & (SEEN_SLOTS - 1)];
		if (slot->tgid == tgid && slot->gen == (__u32)generation)
			return 0;
	}
	if (task_storage_safe_here()) {
		struct task_struct *leader = prev->group_leader;
		__u64 *gen = bpf_task_storage_get(&seen_in, leader, 0, 0);

		if (!gen || *gen != generation) {
			refresh(prev, mm, tgid);
			if (!gen)
				gen = bpf_task_storage_get(&seen_in, leader, 0,
							   BPF_LOCAL_STORAGE_GET_F_CREATE);
			if (gen)
				*gen = generation; /* filtered-out groups too: once per interval */
		}
	} else {
		on_switch(prev, mm, tgid); /* preallocated maps only */
	}
	if (slot) {
		slot->tgid = tgid;
		slot->gen = generation;
	}
	return 0;
}

static __always_inline void on_switch_current(void)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();

	on_switch(t, BPF_CORE_READ(t, mm), BPF_CORE_READ(t, tgid));
}

SEC("raw_tp/sched_switch")
int proc_switch_raw(void *ctx)
{
	on_switch_current();
	return 0;
}

SEC("tracepoint/sched/sched_switch")
int proc_switch_tp(void *ctx)
{
	on_switch_current();
	return 0;
}

static __always_inline void on_exit(struct task_struct *t)
{
	__u32 tgid = BPF_CORE_READ(t, tgid);

	/* signal->live reaches 0 when the last thread of the group exits. */
	if (BPF_CORE_READ(t, signal, live.counter) != 0)
		return;
	bpf_map_delete_elem(&procs, &tgid);
	if (bpf_map_push_elem(&exited, &tgid, 0))
		__sync_fetch_and_add(&nr_exit_lost, 1);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(proc_exit_btf, struct task_struct *t)
{
	on_exit(t);
	return 0;
}

SEC("raw_tp/sched_process_exit")
int proc_exit_raw(void *ctx)
{
	on_exit((struct task_struct *)bpf_get_current_task());
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int proc_exit_tp(void *ctx)
{
	on_exit((struct task_struct *)bpf_get_current_task());
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
