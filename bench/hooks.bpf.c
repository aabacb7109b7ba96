// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark programs: empty programs on memscope's hot hooks (the floor for
 * B6), and the naive design memscope avoids (B1 c): one ring-buffer record per
 * context switch, sent to user space.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct switch_rec {
	__u32 prev_pid, next_pid;
	__u64 ts;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);
} naive_rb SEC(".maps");

__u64 naive_lost;

SEC("tp_btf/sched_switch")
int BPF_PROG(empty_switch)
{
	return 0;
}

SEC("tp_btf/mm_page_alloc")
int BPF_PROG(empty_alloc)
{
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(naive_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct switch_rec *r = bpf_ringbuf_reserve(&naive_rb, sizeof(*r), 0);

	if (!r) {
		__sync_fetch_and_add(&naive_lost, 1);
		return 0;
	}
	r->prev_pid = prev->pid;
	r->next_pid = next->pid;
	r->ts = bpf_ktime_get_ns();
	bpf_ringbuf_submit(r, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
