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

const volatile __u64 refresh_ns = 1000000000ULL;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
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

static __always_inline void on_switch(struct task_struct *t)
{
	__u32 tgid = BPF_CORE_READ(t, tgid);
	struct proc_rec *r = bpf_map_lookup_elem(&procs, &tgid);
	__u64 now = bpf_ktime_get_ns();
	struct mm_struct *mm;

	/* The hot path: a known process refreshed within this interval. */
	if (r && now - r->seen_ns < refresh_ns)
		return;
	mm = BPF_CORE_READ(t, mm);
	if (!mm)
		return;
	if (!r) {
		struct task_struct *leader = BPF_CORE_READ(t, group_leader);
		struct proc_rec fresh = {};

		if (task_is_kthread_with_mm(t, mm))
			return;
		if (!task_passes_filters(leader, tgid))
			return;
		fresh.pid = tgid;
		if (bpf_map_update_elem(&procs, &tgid, &fresh, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&procs, &tgid)) {
			__sync_fetch_and_add(&nr_dropped, 1);
			return;
		}
		r = bpf_map_lookup_elem(&procs, &tgid);
		if (!r)
			return;
	}
	fill_rec(r, t, mm, false);
	r->seen_ns = now;
	__sync_fetch_and_add(&nr_refreshed, 1);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(proc_switch_btf, bool preempt, struct task_struct *prev)
{
	on_switch(prev);
	return 0;
}

SEC("raw_tp/sched_switch")
int proc_switch_raw(void *ctx)
{
	on_switch((struct task_struct *)bpf_get_current_task());
	return 0;
}

SEC("tracepoint/sched/sched_switch")
int proc_switch_tp(void *ctx)
{
	on_switch((struct task_struct *)bpf_get_current_task());
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
