// SPDX-License-Identifier: GPL-2.0
/*
 * memscope proc live, kernel side: the last values of a process whose thread group
 * ends, so one that starts and exits between two passes still shows. Since 6.16
 * sched_process_exit runs before exit_mm() (the tracepoint gained group_dead then);
 * before, the mm is gone and nothing is sent. Rare: one record per process exit. Its
 * own light skeleton, loaded by live mode only: a snapshot does not pay for it.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "proc_rec.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 << 10);
} exits SEC(".maps");

__u64 nr_exit_lost;

SEC("tp_btf/sched_process_exit")
int BPF_PROG(proc_exit, struct task_struct *t)
{
	struct task_struct *leader = t->group_leader;
	struct mm_struct *mm = t->mm;
	struct proc_rec *r;

	/* signal->live reaches 0 when the last thread of the group exits */
	if (!mm || t->signal->live.counter != 0 || task_is_kthread_with_mm(t, mm))
		return 0;
	if (!task_passes_filters(leader, t->tgid))
		return 0;
	r = bpf_ringbuf_reserve(&exits, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&nr_exit_lost, 1);
		return 0;
	}
	__builtin_memset(r, 0, sizeof(*r));
	r->pid = t->tgid;
	fill_rec(r, leader, mm);
	bpf_ringbuf_submit(r, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
